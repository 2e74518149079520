/*
 * routes.h: what `loadgen serve` answers. Maps a complete HTTP request to a
 * route, checks its content type and body (body.h), and renders the answer
 * in that protocol's own shape. Error answers are built once at start-up;
 * successful ones are assembled from pre-built pieces without printf.
 * Knows nothing of sockets or time. Single-threaded (one scratch buffer).
 */
#ifndef LOADGEN_SERVE_ROUTES_H
#define LOADGEN_SERVE_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

enum route_id {
    ROUTE_NONE,     /* an error answer */
    ROUTE_SCORE,    /* POST /score: the study's Flask app */
    ROUTE_V1,       /* POST /v1/models/NAME:predict: TF Serving, KServe V1 */
    ROUTE_V2,       /* POST /v2/models/NAME/infer: Open Inference Protocol */
    ROUTE_TORCH,    /* POST /predictions/NAME: TorchServe */
    ROUTE_HEALTH,   /* GET /: a JSON status */
    ROUTE_READY,    /* GET /v2/health/ready, /v2/health/live: 200, empty */
    ROUTE_PING,     /* GET /ping: TorchServe's health */
    ROUTE_META,     /* GET /v2/models/NAME[/versions/V]: the model's metadata */
};

/* Answers decided before a request reaches the routes. */
enum route_error {
    RERR_MALFORMED,     /* 400: not HTTP */
    RERR_TOO_LARGE,     /* 413: body past --max-body */
    RERR_URL_TOO_LONG,  /* 414 */
    RERR_HEADERS_LARGE, /* 431 */
    RERR_FAULT,         /* --fail-status, drawn by --fail-rate */
    RERR_NOMEM,         /* 500 */
    RERR_BUSY,          /* 503: bodies in progress fill --max-inflight */
    RERR_TIMEOUT,       /* 408: headers or body not received in time */
    RERR_TOO_MANY_CONNS,/* 503: past --max-connections */
    RERR_COUNT
};

struct route_in {
    int method;             /* enum http_method */
    const char *url;
    size_t url_len;
    const char *ctype;      /* Content-Type value, "" when absent */
    size_t ctype_len;
    int64_t ihcl;           /* Inference-Header-Content-Length, -1 when absent */
    const char *body;
    size_t body_len;
};

struct route_out {
    int status;             /* HTTP status */
    enum route_id route;
    unsigned images;        /* images to compute; 0 = answer without compute */
    unsigned classes;       /* ROUTE_V2: top-K strings asked for (classification); 0 = the tensor */
    const struct v2_rows *v2; /* ROUTE_V2: the answer's prebuilt rows (routes.c) */
    const char *name;       /* model NAME from the URL (points into route_in.url) */
    size_t name_len;
    const char *body;       /* a pre-built body (errors, health), or NULL */
    size_t body_len;
    const char *allow;      /* 405: the Allow header value */
    uint64_t grpc_requests; /* ROUTE_HEALTH: the gRPC counters when it was asked */
    uint64_t grpc_errors;
};

struct routes;
struct v2_rows;

/* `model`, `device` and `replicas` appear in GET /; `model` and `px` (its
 * input height and width, 0 for 224) make the metadata (model.h) that GET
 * /v2/models/NAME answers and V2 tensors are checked against. A scoring
 * request of more than `max_images` images is answered 400. 0 or -ENOMEM. */
int routes_create(struct routes **out, const char *model, unsigned px, const char *device,
                  unsigned replicas, int fail_status, uint64_t max_body, unsigned max_images);
/* GET / reports these gRPC counters (httpd's, read at each request). */
void routes_watch_grpc(struct routes *rt, const uint64_t *requests, const uint64_t *errors);
/* A canned error answer (head and body, Connection: close) as one
 * NUL-terminated string of *len bytes, for sending with a single
 * non-blocking write before a close. */
const char *routes_error_wire(const struct routes *rt, enum route_error e, size_t *len);
void routes_destroy(struct routes *rt);

void routes_dispatch(struct routes *rt, const struct route_in *in, struct route_out *out);
void routes_error(const struct routes *rt, enum route_error e, struct route_out *out);

/* The answer's head into `head` and, unless it is pre-built, its body into
 * `body` (both cleared first). `conn` is 0 for no Connection header, 1 for
 * "close", 2 for "keep-alive" (HTTP/1.0 clients). Sets *bp and *bn to the body
 * bytes to send. 0 or -ENOMEM. */
int routes_render(const struct route_out *out, int64_t compute_us, int conn, struct sbuf *head,
                  struct sbuf *body, const char **bp, size_t *bn);

#endif
