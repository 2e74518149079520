/*
 * meta.h: a model's inputs from the server's metadata, fetched once before
 * the run: KServe v2 / Triton REST `GET /v2/models/NAME[/versions/V]`,
 * derived from the /v2/models/NAME[/versions/V]/infer URL the run posts to.
 * For --format kserve-grpc, gRPC's ModelMetadata fills the same struct.
 *
 * The fetch is one libcurl easy request with a short bounded timeout and
 * the run's TLS options and headers; nothing is sent to the infer URL.
 */
#ifndef LOADGEN_META_H
#define LOADGEN_META_H

#include <stddef.h>

#include "tensor.h"

/* The reply at most: metadata is a few hundred bytes. */
#define META_MAX_REPLY_BYTES (1u << 20)
/* The whole fetch at most (the run's --timeout if shorter). */
#define META_TIMEOUT_MS 10000

struct meta_request {
    const char *infer_url;          /* the run's URL, secrets and all */
    const char *public_url;         /* the same without user-info and query */
    const char *const *headers;     /* the run's -H lines */
    size_t nheaders;
    const char *user_agent;         /* or NULL */
    int insecure;
    int http2;                      /* the run's --http2 / --http2-prior-knowledge */
    const char *cacert;             /* or NULL */
    long timeout_ms, connect_timeout_ms; /* the run's; capped at META_TIMEOUT_MS */
};

/* The metadata URL of an infer URL: its path's trailing "/infer" dropped
 * (the query kept). -EINVAL when the path is not /v2/models/NAME[...]/infer. */
int meta_url(const char *infer_url, char *out, size_t len);
/* The metadata JSON -> the model's inputs. 0, or -EINVAL with err saying
 * what is missing (no program prefix; `what` names the source). */
int meta_parse(const char *what, const char *json, size_t len, struct tensor_model *out, char *err);
/* GET the metadata and parse it. 0, or a negative errno with err set: the
 * URL (public), the status or the transport error, and what to do. */
int meta_fetch(const struct meta_request *r, struct tensor_model *out, char *err);
/* The same from gRPC's ModelMetadata of `model` (version NULL or "": the
 * server's choice), called at the server of the run's
 * .../inference.GRPCInferenceService/ModelInfer URL over HTTP/2 (prior
 * knowledge on http://, ALPN on https://). 0, or a negative errno with err
 * naming the URL, the gRPC status and message, and what to do. */
int meta_fetch_grpc(const struct meta_request *r, const char *model, const char *version,
                    struct tensor_model *out, char *err);

#endif
