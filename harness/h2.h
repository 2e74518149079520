/*
 * h2.h: the native HTTP/2 transport, cleartext with prior knowledge (h2c),
 * on libuv loops with Debian's libnghttp2 for the framing.
 *
 * The engine (engine.c) owns the loops, phases, pacer and slots. Each loop
 * has an h2_loop holding its connections, and each slot an h2_stream bound
 * for good to one connection: slot k of a loop to connection k / streams,
 * so --streams N slots share a connection (h2load's -m) and a loop of S
 * slots opens at most ceil(S / N) connections. A request is one stream.
 *
 * Requests: each payload's header block (h2_requests_build) is built once
 * before the run, nghttp2_nv arrays whose values point into the payload
 * arena and the user's -H lines; nghttp2 is told not to copy them. Bodies
 * go out as DATA frames straight from the arena (NGHTTP2_DATA_FLAG_NO_COPY):
 * the frame headers and nghttp2's own frames are copied into the
 * connection's out buffer, the body bytes are iovecs into the arena, and
 * everything a connection has to send is written at once with
 * uv_try_write (uv_write for what the socket did not take): a uv_check
 * handle flushes the connections touched, one non-blocking poll after the
 * first request was queued, so that replies arriving meanwhile add their
 * next requests to the same write (as h2load's write-on-writable does;
 * about 20% fewer writes, for the client and the server).
 *
 * Streams in flight: never more than the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS (nghttp2 holds a request back until a
 * stream is free; before the server's SETTINGS arrive it assumes 1). A
 * connection that received GOAWAY takes no new stream; once its last
 * stream ends it is closed, and requests waiting for it go out on a new
 * one. When a connection dies (EOF, reset, a write error), its streams in
 * flight end as H1_RESET (H1_INVALID when the server broke the protocol);
 * a request whose HEADERS never went out, or that the server refused
 * unprocessed (REFUSED_STREAM, or above GOAWAY's last stream), is sent once
 * more on a new connection (RFC 9113 8.7: safe to retry).
 *
 * Results are h1.h's struct h1_result, with the same meanings: sent_us is
 * when the frame carrying END_STREAM was written to the socket,
 * first_byte_us when the reply's first HEADERS frame began, header_bytes
 * the reply's HEADERS frames and the 9-byte header of each of its frames.
 * H1_TIMEOUT at --timeout (the stream is reset with CANCEL), or at
 * --connect-timeout for requests waiting for the connection.
 *
 * Threading: everything runs on its loop's thread; h2_requests is
 * read-only and shared by every loop.
 */
#ifndef LOADGEN_H2_H
#define LOADGEN_H2_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "h1.h"
#include "payload.h"

/* NULL when the native HTTP/2 transport can send what this configuration
 * (with --http2-prior-knowledge) asks for, or what it cannot do, for an
 * error message. */
const char *h2_unsupported(const char *url, int follow, const char *const *headers,
                           size_t nheaders);

/* One payload's request: its header block and body, both read-only. */
struct h2_request {
    const nghttp2_nv *nva;
    size_t nvlen;
    const char *body;           /* into the payload arena */
    size_t len;                 /* bytes; 0: END_STREAM on the HEADERS frame */
};

/* Every payload's request, built once. */
struct h2_requests {
    struct h2_request *items;   /* one per payload, same index */
    size_t count;
    nghttp2_nv *nv;             /* the arrays items[i].nva point into */
    char *strings;              /* lower-cased names, content-length values */
};

/* The header block of each payload: :method (spec->method, else POST with a
 * body or Content-Type, else GET), :scheme http, :authority (spec->host, or
 * the user's Host), :path (spec->target), user-agent, accept, the user's
 * headers with their names lower-cased, the payload's own (content-type...)
 * unless the user gave the same name, content-length when there is a body.
 * "Name:" with no value removes a built-in header, as on the other
 * engines. 0, or -1 with err set (out of memory). */
int h2_requests_build(struct h2_requests *rq, const struct payload_set *ps,
                      const struct payload_head_spec *spec, char *err);
void h2_requests_free(struct h2_requests *rq);

/* What the transport tells its owner (the slot), on the loop's thread. */
struct h2_hooks {
    /* A reply header field (no pseudo-header; the status is in the result),
     * not NUL-terminated. `trailer` is 1 for the fields of a HEADERS block
     * that follows the final reply's head: trailers, where gRPC puts
     * grpc-status and grpc-message. Called only when want_headers is set. */
    void (*header)(void *owner, const char *name, size_t namelen, const char *value,
                   size_t valuelen, int trailer);
    /* Body bytes (DATA); a negative return resets the stream (H1_REFUSED). */
    int (*body)(void *owner, const char *p, size_t len);
    /* The request ended. The stream may be sent again from inside. */
    void (*done)(void *owner, const struct h1_result *r);
};

#define H2_READ_BUFFER (64u << 10)
#define H2_OUT_BUFFER (16u << 10)   /* per connection: frames other than DATA payloads */
#define H2_OUT_IOV 64               /* per connection: iovecs of one write */

struct h2_stream;

enum h2_state { H2_CLOSED, H2_CONNECTING, H2_OPEN, H2_CLOSING };

struct h2_conn {
    struct h2_loop *lp;
    nghttp2_session *session;   /* from connect to close; NULL otherwise */
    uv_tcp_t tcp;               /* valid from H2_CONNECTING until its close callback */
    uv_connect_t creq;
    uv_write_t wreq;
    uv_timer_t timer;           /* --connect-timeout */
    enum h2_state state;
    int goaway;                 /* no new streams here: GOAWAY, or stream ids used up */
    int broken;                 /* nghttp2 ended the session: the server broke the protocol */
    int writing;                /* wreq is in flight: the out buffer is libuv's */
    int blocked;                /* the out buffer filled: more to send after this write */
    int dirty;                  /* on the loop's list of connections to flush */
    struct h2_conn *next_dirty;
    unsigned addr;              /* index into the target's addresses */
    int64_t connect_start_us;
    int64_t connect_us;         /* for the first request on a new connection, then 0 */
    struct h2_stream *queue;    /* waiting for this connection to open (FIFO) */
    struct h2_stream *queue_tail;
    struct h2_stream *active;   /* submitted to the session */
    struct h2_stream **ending;  /* streams whose END_STREAM is in the write being made */
    int32_t *ending_id;
    unsigned nending, ending_cap;
    char *out;                  /* H2_OUT_BUFFER bytes */
    size_t nout;
    uv_buf_t iov[H2_OUT_IOV];
    unsigned niov;
};

/* Per event loop. */
struct h2_loop {
    uv_loop_t *uv;
    const struct h1_target *target; /* host, path and addresses, as for h1 */
    const struct h2_hooks *hooks;
    long timeout_ms;            /* whole request, connect included; 0 = none */
    long connect_timeout_ms;    /* 0 = none */
    int want_headers;
    unsigned streams;           /* slots per connection, >= 1 */
    nghttp2_session_callbacks *callbacks;
    nghttp2_option *option;
    uv_check_t flush;           /* writes what was queued, one poll later */
    uv_idle_t spin;             /* while writes wait: that poll does not block */
    int flushing;               /* flush and spin are started */
    unsigned turn, dirty_turn;  /* checks run, and the one when a write was first queued */
    struct h2_conn *dirty;
    struct h2_conn *conns;
    unsigned nconns;
    char *out;                  /* the connections' out buffers, one allocation */
    void *ending;               /* their ending lists, one allocation */
    char rbuf[H2_READ_BUFFER];  /* every read lands here and goes to nghttp2 at once */
};

struct h2_stream {
    struct h2_conn *c;          /* its connection, for good */
    void *owner;
    uv_timer_t timer;           /* --timeout, or a failure reported next turn */
    const struct h2_request *req;
    int32_t id;                 /* nghttp2's stream id while submitted, else 0 */
    int busy;                   /* a request is in progress */
    int queued;                 /* on c->queue */
    int retried;                /* the one retry is spent */
    int headers_sent;           /* its HEADERS frame went out */
    int final;                  /* the final (non-1xx) head arrived: what follows is trailers */
    int trailers;               /* the block being read is trailers */
    enum h1_fail deferred;      /* a failure the timer reports next turn */
    size_t body_off;            /* body bytes handed to nghttp2 */
    int64_t start_us;           /* monotonic: h2_send */
    struct h1_result r;
    struct h2_stream *prev, *next; /* in c->queue or c->active */
};

/* `nconns` connections of `streams` slots each. 0, or -1 with err set. */
int h2_loop_init(struct h2_loop *lp, uv_loop_t *uv, const struct h1_target *t,
                 const struct h2_hooks *hooks, unsigned nconns, unsigned streams,
                 long timeout_ms, long connect_timeout_ms, int want_headers, char *err);
/* Slot `index` of the loop: bound to connection index / streams. */
void h2_stream_init(struct h2_loop *lp, struct h2_stream *s, unsigned index, void *owner);
/* Send `req` at monotonic time start_us; hooks->done follows, from a later
 * callback. The stream must not be busy. */
void h2_send(struct h2_stream *s, const struct h2_request *req, int64_t start_us);
/* Give up on the stream's request, if any, without calling done (the
 * stream is reset; the connection stays). */
void h2_abort(struct h2_stream *s);
/* Close the stream's timer for good. */
void h2_stream_close(struct h2_stream *s);
/* Close every connection and handle of the loop; run the loop afterwards
 * until their close callbacks have run, then h2_loop_free. */
void h2_loop_close(struct h2_loop *lp);
void h2_loop_free(struct h2_loop *lp);

#endif
