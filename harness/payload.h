/*
 * payload.h: request bodies and their per-body headers, encoded once before
 * the first request and read-only afterwards. The engine points libcurl at
 * these bytes (CURLOPT_POSTFIELDS + size), so nothing is copied per request.
 *
 * Request i of a run sends payload i mod count. With --batch K each payload
 * carries K consecutive images (wrapping around the corpus), and there are
 * ceil(corpus size / K) payloads. How a format carries K images: json-b64
 * as {"input": ["<b64>", ...]} (or a --json-template whose "{{b64}}" sits
 * in a list); multipart as K parts all named --field; tfserving as K
 * instances; kserve-v2[-binary] as one BYTES input of shape [K]; raw
 * refuses K > 1. Every body and header lives in one arena (payload_set
 * .arena), so the corpus may be destroyed once payload_build returns.
 *
 * Tensors (payload_options.tensors, from --datatype/--shape/--input-data):
 * kserve-v2 sends each input as {"name","shape","datatype","data":[flat
 * values]}, kserve-v2-binary as Triton's binary tensor extension (the JSON
 * with parameters.binary_data_size, then the raw little-endian bytes), and
 * tfserving as {"instances": [...]} of nested lists by shape. With --batch
 * K a body carries K consecutive samples and the batch dimension says K.
 *
 * gRPC (kserve-grpc, tfserving-grpc): each body is one framed message
 * (grpc.h) naming payload_options.model: a ModelInferRequest with its input
 * in raw_input_contents, or a PredictRequest (tensor_content, string_val
 * for BYTES). Tensors go as they are; without them the K images of a body
 * are one BYTES input of shape [K] (the encoded files, no base64). Headers:
 * Content-Type: application/grpc and te: trailers.
 */
#ifndef LOADGEN_PAYLOAD_H
#define LOADGEN_PAYLOAD_H

#include <stddef.h>

#include "corpus.h"
#include "tensor.h"

enum payload_format {
    PAYLOAD_JSON_B64,          /* {"input": "<b64>"}: the study's Flask app */
    PAYLOAD_RAW,               /* the image bytes */
    PAYLOAD_MULTIPART,         /* multipart/form-data, field --field */
    PAYLOAD_TFSERVING,         /* {"instances": [{"b64": ...}, ...]} */
    PAYLOAD_KSERVE_V2,         /* Open Inference Protocol, JSON BYTES */
    PAYLOAD_KSERVE_V2_BINARY,  /* binary tensor extension */
    PAYLOAD_FILE,              /* --body-file: one fixed body, taken to carry --batch images */
    PAYLOAD_NONE,              /* GET: one empty body, no Content-Type */
    PAYLOAD_KSERVE_GRPC,       /* gRPC inference.GRPCInferenceService/ModelInfer */
    PAYLOAD_TFSERVING_GRPC,    /* gRPC tensorflow.serving.PredictionService/Predict */
};

#define PAYLOAD_MAX_HEADERS 2
/* --body-file at most: the body is held in memory for the whole run. */
#define PAYLOAD_MAX_BODY_FILE_BYTES (1u << 30)

struct payload {
    const char *body;          /* points into the set's arena */
    size_t len;                /* bytes */
    unsigned images;           /* images carried (1, or the batch size) */
    /* Headers this body needs, as full "Name: value" lines; NULL when
     * unused. headers[0] is always the Content-Type (NULL for GET). */
    const char *headers[PAYLOAD_MAX_HEADERS];
};

/* The whole HTTP/1.1 request head of a payload (request line to the blank
 * line), for the native engine; in the arena. */
struct payload_head {
    const char *p;
    size_t len;                /* bytes */
};

/* What every request head says besides the payload's own headers. */
struct payload_head_spec {
    const char *target;        /* request target: path and query, "/score?v=1" */
    const char *host;          /* Host value: "127.0.0.1:8080", "[::1]:80" */
    const char *user_agent;    /* or NULL for none */
    const char *const *headers;/* the user's "Name: value" lines */
    size_t nheaders;
    const char *method;        /* "PUT"...; NULL: POST with a body, else GET */
};

struct payload_options {
    enum payload_format format;
    const char *input_key;     /* json-b64: default "input" */
    const char *json_template; /* json-b64: e.g. {"input": {"image": "{{b64}}"}}; NULL = flat */
    const char *content_type;  /* raw / file: override; default from the image signature */
    const char *field;         /* multipart: default "data" */
    const char *input_name;    /* kserve-v2, gRPC: default "INPUT" */
    const char *model;         /* gRPC: the model the message names (--model) */
    const char *model_version; /* kserve-grpc: --model-version, or NULL */
    const char *body_data;     /* PAYLOAD_FILE: the body itself (-D TEXT), else NULL */
    const char *body_file;     /* PAYLOAD_FILE: path of a regular file of at most
                                * PAYLOAD_MAX_BODY_FILE_BYTES */
    unsigned batch;            /* images per request, >= 1 (0 is taken as 1) */
    /* kserve-v2, kserve-v2-binary, tfserving: send these samples as
     * tensors instead of the corpus's encoded images; NULL for today's
     * bodies. Only read by payload_build. */
    const struct tensor_set *tensors;
};

struct payload_set {
    struct payload *items;
    size_t count;
    size_t total_bytes;        /* sum of items[i].len */
    char *arena;               /* one allocation holding every body and header */
    size_t arena_len;
    size_t bodies_len;         /* arena bytes before the request heads */
    struct payload_head *heads;/* one per item; NULL until payload_build_heads */
};

/* 0, or a negative errno with a one-line message in err (e.g. "--batch 4:
 * format raw sends one image per request; use multipart, tfserving or
 * kserve-v2"). With opt->tensors the corpus is not read (may be NULL). */
int payload_build(struct payload_set **out, const struct corpus *c,
                  const struct payload_options *opt, char *err);
void payload_destroy(struct payload_set *s);
/* Appends to the arena each payload's request head: "POST" when the payload
 * has a body or a Content-Type, "GET" otherwise; Host, User-Agent, Accept,
 * the user's headers, the payload's, Content-Length. As libcurl does, a user
 * header replaces the built-in one of the same name, and "Name:" with no
 * value removes it. Built once, before the first request; a second call
 * replaces the heads. 0, or -ENOMEM with err set. */
int payload_build_heads(struct payload_set *s, const struct payload_head_spec *h, char *err);
/* 1 when one of the user's "Name: value" (or "Name:") lines gives the
 * header that `name` names ("Accept", or a line "Content-Type: x"),
 * case-insensitively: the built-in one is then not sent. */
int payload_user_has(const char *const *headers, size_t n, const char *name);

/* "json-b64", "raw", "multipart", "tfserving" (alias "kserve-v1"),
 * "kserve-v2", "kserve-v2-binary", "kserve-grpc", "tfserving-grpc", "file",
 * "none" <-> enum; -EINVAL for an unknown name. */
int payload_parse_format(const char *s, enum payload_format *out);
const char *payload_format_name(enum payload_format f);
/* The gRPC method path of a gRPC format ("/inference.GRPCInferenceService/
 * ModelInfer"), NULL for any other format. */
const char *payload_grpc_path(enum payload_format f);

#endif
