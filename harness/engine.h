/*
 * engine.h: the load engine: J event-loop threads, each a uv_loop_t driving
 * a fixed set of request slots over one of three transports: the native
 * HTTP/1.1 client (h1.c) for plain http://, the native HTTP/2 client (h2.c)
 * for http:// with --http2-prior-knowledge, or libcurl's multi interface
 * for everything else (https, --http2, redirects).
 *
 * An engine is created once per target and runs any number of phases
 * (warm-up, levels, cycles) on the same keep-alive connections. The only
 * state threads share during a phase is the read-only payloads and header
 * lists, one atomic request counter, and per-thread progress counters that
 * the caller's thread reads. Each thread records into its own stats; they
 * are merged into the caller's after pthread_join.
 */
#ifndef LOADGEN_ENGINE_H
#define LOADGEN_ENGINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "pacer.h"
#include "payload.h"
#include "stats.h"

struct engine_checks {
    long expect_status;             /* 0: any 2xx is ok */
    const char *expect_json;        /* dotted path that must exist, or NULL */
    const char *expect_header;      /* header that must be present, or NULL */
    const char *server_time_header; /* header holding compute time in ms, or NULL */
    const char *server_time_json;   /* dotted path to compute time in ms, or NULL */
    uint64_t max_reply_bytes;       /* a longer body is cut off: class invalid */
};

/* What --follow does with a 3xx that names another URL (http/https only). */
enum engine_follow {
    ENGINE_FOLLOW_NONE,     /* the 3xx is the reply */
    ENGINE_FOLLOW_ORIGIN,   /* follow; the user's headers only to the URL's
                             * own scheme, host and port */
    ENGINE_FOLLOW_HEADERS,  /* follow; the user's headers to every host */
};

/* --http2 (ALPN or an h2c upgrade, HTTP/1.1 when the server has no more)
 * and --http2-prior-knowledge (HTTP/2 from the first byte). */
enum { ENGINE_HTTP2 = 1, ENGINE_HTTP2_PRIOR_KNOWLEDGE = 2 };

/* Which transport sends the requests. */
enum engine_kind {
    ENGINE_AUTO,    /* native where it can serve the target, else curl */
    ENGINE_NATIVE,  /* loadgen's own: h1.c, or h2.c with --http2-prior-knowledge;
                     * engine_create fails where it cannot */
    ENGINE_CURL,
};

struct engine_config {
    const char *url;
    /* Outlives the engine; engine_create adds the native transport's
     * request heads to it, and it is read-only from then on. */
    struct payload_set *payloads;
    enum engine_kind engine;
    const char *const *headers;     /* "Name: value" lines from the user */
    size_t nheaders;
    const char *method;             /* "PUT", "HEAD"...; NULL: POST with a body, else GET */
    unsigned fail_fast;             /* give up a phase whose first N requests all fail to
                                     * connect or resolve; 0 = never (engine_gave_up) */
    const char *user_agent;
    long timeout_ms;                /* whole request; 0 = none */
    long connect_timeout_ms;
    int http2;                      /* 0, ENGINE_HTTP2 or ENGINE_HTTP2_PRIOR_KNOWLEDGE */
    unsigned streams;               /* HTTP/2 requests in flight per connection (h2load -m);
                                     * 0 or 1: a connection per request in flight. Native
                                     * HTTP/2: slot k of a loop uses connection k / streams */
    int insecure;
    int follow;                     /* enum engine_follow */
    const char *cacert;             /* CA bundle path, or NULL */
    unsigned loops;                 /* event-loop threads, >= 1 */
    unsigned max_slots;             /* the most requests ever in flight */
    struct engine_checks checks;
    int grpc;                       /* replies are gRPC: classified by grpc-status
                                     * from headers or trailers (reply.h) */
    int keep_log;                   /* keep a stats_request per request */
    size_t expected_requests;       /* log preallocation hint */
    const volatile sig_atomic_t *stop; /* set by a signal: stop sending */
};

struct engine_phase {
    unsigned concurrency;           /* closed: in flight; open: max in flight */
    uint64_t requests;              /* requests to send; 0 = until duration */
    int64_t duration_us;            /* stop sending after; 0 = until requests */
    double rate;                    /* open loop, per second; 0 = closed loop */
    enum pacer_arrival arrival;
    uint64_t seed;                  /* poisson arrivals */
    int64_t grace_us;               /* after a stop, wait this long for replies */
};

/* Where a phase is, for the progress line. */
struct engine_progress {
    uint64_t done, errors;          /* requests completed, and of those failed */
    uint64_t p99_us;                /* latency p99 so far: the highest of the loops'
                                     * (each refreshed every 250 ms); 0 = none yet */
};

/* Called about ten times a second from engine_run's thread. */
typedef void engine_tick_fn(void *arg, const struct engine_progress *pr);

struct engine;

/* Builds the loops, slots and handles into *out. Returns 0, or a negative
 * errno with err set. */
int engine_create(const struct engine_config *cfg, struct engine **out, char *err);
/* Runs one phase to completion (or until *stop) and leaves its merged result
 * in `out` (reset first). Returns 0, or a negative errno with err set. */
int engine_run(struct engine *e, const struct engine_phase *ph, struct stats *out,
               engine_tick_fn *tick, void *tick_arg, char *err);
/* 1 when the last engine_run stopped early because its first --fail-fast
 * requests all failed to connect or resolve (the phase's result is what
 * was measured; its errors say why). */
int engine_gave_up(const struct engine *e);
/* 1 once a reply came over HTTP/1.x although --streams asked to share
 * HTTP/2 connections: each connection then carries one request at a time,
 * and at most connections (in flight / streams, rounded up per 32) are in
 * flight. */
int engine_streams_refused(const struct engine *e);
/* "native" (HTTP/1.1), "native-h2" or "curl": the transport engine_create
 * chose. */
const char *engine_name(const struct engine *e);
/* Closes every connection and handle (accepts NULL). Returns 0, or -EBUSY
 * with err naming the handles a loop still held (uv_loop_close failed: a
 * bug). */
int engine_destroy(struct engine *e, char *err);

/* Nonzero when engine_create would pick a native transport for `cfg` (its
 * engine, url, http2, follow and headers are read): 1 HTTP/1.1, 2 HTTP/2. */
int engine_native(const struct engine_config *cfg);
/* NULL when a native transport can send what these settings ask for, or
 * what it cannot do, for an error message. */
const char *engine_native_unsupported(const char *url, int http2, int follow,
                                      const char *const *headers, size_t nheaders);

/* Raise RLIMIT_NOFILE to what `connections` over `loops` event loops need
 * (their sockets, each loop's own descriptors, and with libcurl (`native`
 * 0) each multi handle's); -EMFILE with err naming the limit and how to
 * raise it when the hard limit is too low (or the error of setrlimit). Nothing is sent before. Should the limit
 * still run out mid-run, on either transport, engine_run stops and says so
 * rather than count `connect` errors. */
int engine_fd_budget(unsigned connections, unsigned loops, int native, char *err);

#endif
