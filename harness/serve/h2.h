/*
 * h2.h: gRPC over HTTP/2 cleartext (prior knowledge) for `loadgen serve`,
 * on the same port as HTTP/1.1: httpd.c sniffs the client preface on a
 * new connection and hands the socket to an nghttp2 server session here.
 * Serves inference.GRPCInferenceService (ServerLive, ServerReady,
 * ServerMetadata, ModelReady, ModelMetadata, ModelInfer) and
 * tensorflow.serving.PredictionService/Predict, through the same
 * simulated model, faults and limits as HTTP/1.1. Runs on httpd's loop
 * thread.
 */
#ifndef LOADGEN_SERVE_H2_H
#define LOADGEN_SERVE_H2_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "grpc.h"
#include "serve/httpd.h"
#include "serve/model.h"
#include "serve/sim.h"

/* Concurrent streams one connection may have open (its
 * SETTINGS_MAX_CONCURRENT_STREAMS): more are refused with RST_STREAM
 * REFUSED_STREAM by nghttp2, so one client cannot flood the model. */
#define H2_MAX_STREAMS 128

#define H2_CANNED 6

/* What every HTTP/2 connection shares: borrowed from httpd, plus the
 * service's pre-built answers and decode scratch. */
struct h2_env {
    struct httpd *httpd;
    uv_loop_t *loop;
    struct sim *sim;
    const struct httpd_limits *lim;
    struct httpd_stats *st;
    uint64_t *mem;              /* httpd's bytes held, against --max-inflight */
    struct model model;
    unsigned max_images;
    int fail_code;              /* grpc-status of an injected failure (--fail-status) */
    struct grpc_arena arena;    /* request messages, one at a time */
    float *probs;               /* MODEL_CLASSES floats per image, grown to the largest batch */
    unsigned probs_images;
    unsigned char *canned[H2_CANNED]; /* fixed answers (metadata, liveness), framed */
    size_t canned_len[H2_CANNED];
    struct h2 *zombies;         /* closed sessions whose streams the model still holds */
};

/* 0 or -ENOMEM. */
int h2_env_init(struct h2_env *env, struct httpd *httpd, uv_loop_t *loop, struct sim *sim,
                const struct httpd_limits *lim, struct httpd_stats *st, uint64_t *mem,
                const char *model, unsigned px, unsigned max_images, unsigned fail_status);
/* After the loop ended: frees sessions left to the model. */
void h2_env_free(struct h2_env *env);

struct h2;

/* A session on `tcp` (already reading) whose client sent the preface;
 * `conn` is handed back to httpd_h2_close when the session wants the
 * connection closed; *deadline_ms is the connection's deadline, kept by
 * the session. 0 or -ENOMEM. */
int h2_create(struct h2 **out, struct h2_env *env, uv_stream_t *tcp, void *conn,
              int64_t *deadline_ms);
/* Bytes read from the client; 0, or negative when the connection must
 * close (a protocol error, after its GOAWAY is tried). */
int h2_feed(struct h2 *s, const char *p, size_t n);
/* The model finished a stream's request (sim_req.stream set). */
void h2_done(struct sim_req *r);
/* The connection closed (its close callback): frees the session, or leaves
 * it to the model until its last stream comes back. */
void h2_destroy(struct h2 *s);

/* Provided by httpd.c for the sessions. */
int httpd_room(struct httpd *h, size_t more);
void httpd_rearm(struct httpd *h);
void httpd_h2_close(void *conn);

#endif
