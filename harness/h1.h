/*
 * h1.h: the native HTTP/1.1 transport: one keep-alive TCP connection per
 * request slot on a libuv loop, replies parsed with Debian's http_parser.
 *
 * The engine (engine.c) owns the loops, the phases, the pacer and the
 * slots; a slot whose transport is native holds an h1_conn and calls
 * h1_send for each request. Each request goes out in one uv_write of two
 * buffers, the payload's prebuilt head and its body, both in the payload
 * arena (payload_build_heads): nothing is formatted, copied or allocated per
 * request. Replies may be delimited by Content-Length, chunked, or the
 * connection's close; 1xx replies are skipped (their header bytes counted).
 *
 * Connections: kept alive between requests. The connection is closed after
 * a reply that says Connection: close (or is HTTP/1.0 without keep-alive),
 * after any error, and when the server closes it while idle; the next
 * request on the slot opens a new one. A request whose reused connection
 * was closed (EOF, EPIPE) before any byte of the reply arrived (the server
 * closed it idle as we wrote) is sent once more on a new connection, as
 * browsers and libcurl do; a second failure counts. A reset (ECONNRESET)
 * is never retried: it is the server's answer, class reset.
 *
 * Threading: everything here runs on its loop's thread. The h1_target is
 * read-only and shared by every loop.
 */
#ifndef LOADGEN_H1_H
#define LOADGEN_H1_H

#include <http_parser.h>
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "payload.h"
#include "reply.h"

/* Where requests go: resolved once, before the first request. */
struct h1_target {
    struct addrinfo *addrs;     /* getaddrinfo's list; tried in order */
    char host[300];             /* Host header value */
    char *request_target;       /* path and query */
    int head;                   /* requests are HEAD: replies carry no body */
};

/* NULL when the native engine can send what this configuration asks for,
 * or what it cannot do, for an error message ("https://", "--http2"...). */
const char *h1_unsupported(const char *url, int http2, int follow, const char *const *headers,
                           size_t nheaders);
/* Parse and resolve `url` (blocking DNS, once). 0, or a negative errno
 * with err set. */
int h1_target_init(struct h1_target *t, const char *url, char *err);
void h1_target_free(struct h1_target *t);
/* The target's address number i (0 = the first getaddrinfo gave), or NULL
 * past the last: a connection that fails tries the next one. */
const struct addrinfo *h1_target_addr(const struct h1_target *t, unsigned i);

enum h1_fail {
    H1_OK,        /* a complete reply: judge its status */
    H1_CONNECT,   /* no connection (refused, unreachable) */
    H1_TIMEOUT,   /* --timeout or --connect-timeout passed */
    H1_RESET,     /* closed or reset before the reply was complete */
    H1_INVALID,   /* not HTTP, or a reply the parser refused */
    H1_REFUSED,   /* the body hook refused more bytes (too long, no memory) */
};

struct h1_result {
    enum h1_fail fail;
    int status;                 /* HTTP status of the final reply, 0 if none */
    int64_t sent_us;            /* monotonic: the request's last byte written; 0 if never */
    int64_t first_byte_us;      /* monotonic: the reply's first byte; 0 if none */
    int64_t connect_us;         /* TCP connect time when this request opened one, else 0 */
    uint64_t bytes_sent;        /* head + body */
    uint64_t header_bytes;      /* reply header bytes, 1xx replies included */
    int bad_framing;            /* the final reply's Content-Lengths disagree, or one
                                 * stands beside a Transfer-Encoding (reply.c) */
    int fd_errno;               /* EMFILE or ENFILE: no descriptor for a socket, the
                                 * client's limit, not the server's (fail H1_CONNECT) */
};

/* What the transport tells its owner (the slot), on the loop's thread. */
struct h1_hooks {
    /* A reply header as one "Name:value" line (not NUL-terminated; long
     * lines are cut). Called only when h1_loop.want_headers is set. (The
     * framing headers go to reply.c whatever it says: h1_result.bad_framing.) */
    void (*header)(void *owner, const char *line, size_t len);
    /* Decoded body bytes; a negative return stops the reply (H1_REFUSED). */
    int (*body)(void *owner, const char *p, size_t len);
    /* The request ended; the connection is ready for the next h1_send. */
    void (*done)(void *owner, const struct h1_result *r);
};

#define H1_READ_BUFFER (64u << 10)
#define H1_HEADER_LINE 256

/* Per event loop. */
struct h1_loop {
    uv_loop_t *uv;
    const struct h1_target *target;
    const struct h1_hooks *hooks;
    long timeout_ms;            /* whole request, connect included; 0 = none */
    long connect_timeout_ms;    /* 0 = none */
    int want_headers;
    http_parser_settings settings;
    char rbuf[H1_READ_BUFFER];  /* every read lands here and is parsed at once */
};

enum h1_state { H1_CLOSED, H1_CONNECTING, H1_OPEN, H1_CLOSING };

struct h1_conn {
    struct h1_loop *lp;
    void *owner;
    uv_tcp_t tcp;               /* valid from H1_CONNECTING until its close callback */
    uv_connect_t creq;
    uv_write_t wreq;
    uv_timer_t timer;           /* the request's deadline */
    http_parser parser;         /* parser.data = this */
    enum h1_state state;
    int busy;                   /* a request is in progress */
    int reconnect;              /* open a connection when the close completes */
    int reused;                 /* this request went out on a connection that served one */
    int retried;                /* the one retry is spent */
    int writing;                /* wreq is in flight (its callback has not run) */
    int write_queued;           /* a request waits for wreq */
    int in_headers;             /* the parser is inside a reply's head */
    int event;                  /* what paused the parser */
    int refused;                /* the body hook said stop */
    enum h1_fail deferred;      /* a failure the timer reports next turn */
    unsigned addr;              /* index into the target's addresses */
    const struct payload_head *head;
    const struct payload *p;
    int64_t start_us;           /* monotonic: h1_send */
    int64_t connect_start_us;
    struct h1_result r;
    struct reply_framing framing; /* of the reply being read (not a 1xx) */
    char hline[H1_HEADER_LINE]; /* the reply header being assembled */
    size_t hlen;
    int hvalue;                 /* hline holds a name and is taking its value */
};

void h1_loop_init(struct h1_loop *lp, uv_loop_t *uv, const struct h1_target *t,
                  const struct h1_hooks *hooks, long timeout_ms, long connect_timeout_ms,
                  int want_headers);
void h1_conn_init(struct h1_loop *lp, struct h1_conn *c, void *owner);
/* Send head then p's body, at monotonic time start_us; hooks->done follows,
 * from a later callback. The connection must not be busy. */
void h1_send(struct h1_conn *c, const struct payload_head *head, const struct payload *p,
             int64_t start_us);
/* Give up on the request in progress, if any, without calling done; the
 * connection is closed. */
void h1_abort(struct h1_conn *c);
/* Close the connection and the timer for good; run the loop afterwards
 * until their close callbacks have run. */
void h1_conn_close(struct h1_conn *c);

#endif
