/*
 * httpd.h: the HTTP/1.1 side of `loadgen serve`: a libuv TCP listener,
 * connections parsed with http-parser (keep-alive, pipelining served in
 * order, bounded bodies), each complete request routed (routes.h) and handed
 * to the simulation (sim.h), whose completion queue runs on a timerfd
 * (tfd.h). A connection that opens with the HTTP/2 client preface is
 * handed to h2.h (gRPC) instead. One loop thread owns all of it.
 */
#ifndef LOADGEN_SERVE_HTTPD_H
#define LOADGEN_SERVE_HTTPD_H

#include <stdint.h>
#include <uv.h>

#include "serve/routes.h"
#include "serve/sim.h"

struct httpd;

/* Counters since start (requests, statuses) and now (connections). */
struct httpd_stats {
    uint64_t requests;        /* complete requests */
    uint64_t ok;              /* answered 2xx */
    uint64_t client_errors;   /* answered 4xx */
    uint64_t server_errors;   /* answered 5xx */
    uint64_t resets;          /* closed unanswered (--reset-rate) */
    uint64_t timeouts;        /* closed by a header, body, idle or send timeout */
    uint64_t busy;            /* refused 503: --max-inflight was full */
    uint64_t refused;         /* connections refused past --max-connections */
    uint64_t grpc_requests;   /* gRPC calls (HTTP/2), also counted in requests */
    uint64_t grpc_errors;     /* gRPC calls answered with a non-zero grpc-status */
    unsigned conns;           /* open now */
    unsigned conns_peak;      /* most open at once */
    /* Timer accuracy since the last httpd_stats_take: how much later than
     * an event's due time the completion queue woke for it. */
    uint64_t wakes;
    int64_t late_sum_us;
    int64_t late_max_us;
};

/* What one client, or all of them, may make the server hold. */
struct httpd_limits {
    uint64_t max_body;          /* bytes of one request body: 413 past it */
    uint64_t max_inflight;      /* bytes of bodies, pipelined input and unsent answers of
                                 * all connections together (idle pooled buffers are
                                 * freed first): 503 past it */
    unsigned max_conns;         /* connections open at once: more get 503 and a close */
    int64_t header_timeout_ms;  /* a connection's first request, or any request once it
                                 * has begun, must have its headers within this */
    int64_t body_timeout_ms;    /* most time between two reads of a body */
    int64_t idle_timeout_ms;    /* keep-alive wait for the next request */
    int64_t send_timeout_ms;    /* an answer the client does not read is dropped after this */
};

/* What gRPC serves (h2.h): the model's name and input size, the most
 * images a request may carry and the HTTP status of an injected failure
 * (mapped to a grpc-status). */
struct httpd_grpc {
    const char *model;
    unsigned px;
    unsigned max_images;
    unsigned fail_status;
};

/* Binds and listens on host:port (port 0 picks one). The routes are
 * borrowed; the simulation is built from `sim` and owned. `grpc` NULL
 * serves HTTP/1.1 only. 0, or a negative
 * code with a one-line message in err. */
int httpd_create(struct httpd **out, uv_loop_t *loop, const char *host, int port,
                 struct routes *routes, const struct sim_config *sim,
                 const struct httpd_limits *lim, const struct httpd_grpc *grpc, char *err);
/* The port actually bound. */
int httpd_port(const struct httpd *h);
/* Copies the counters and starts a new timer-accuracy interval. */
void httpd_stats_take(struct httpd *h, struct httpd_stats *out);
void httpd_sim_stats(struct httpd *h, struct sim_stats *out);
/* Closes the listener, every connection and the timerfd; the loop then
 * runs to completion and httpd_destroy frees what is left. */
void httpd_close(struct httpd *h);
void httpd_destroy(struct httpd *h);

#endif
