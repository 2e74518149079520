/*
 * body.h: what a scoring request body carries, checked the way the real
 * servers check it: JSON that parses, base64 that decodes, bytes that start
 * with a JPEG or PNG signature, V2 tensors whose sizes add up, multipart
 * parts that are there. Each checker counts the images (a batched request
 * of K images counts K) and refuses more than `max` of them, so a small
 * request cannot ask for a large answer or a long computation. Pure; `scratch` is a caller-owned decode buffer
 * reused across requests.
 */
#ifndef LOADGEN_SERVE_BODY_H
#define LOADGEN_SERVE_BODY_H

#include <stddef.h>

#include "sbuf.h"
#include "serve/model.h"

enum body_err {
    BODY_OK = 0,
    BODY_BAD_JSON,       /* not valid JSON, or not an object */
    BODY_NO_IMAGE,       /* no image where the protocol puts one */
    BODY_BAD_B64,        /* an image field is not valid base64 */
    BODY_NOT_IMAGE,      /* bytes that start with neither JPEG nor PNG */
    BODY_BAD_TENSOR,     /* V2 input without name/shape/datatype, or data != shape */
    BODY_BAD_MODEL_TENSOR,/* V2 numeric input that does not fit the model's metadata */
    BODY_BAD_BINARY,     /* V2 binary sizes that do not add up to the body */
    BODY_BAD_OUTPUT,     /* V2 "outputs" naming another output, or a bad classification */
    BODY_BAD_MULTIPART,  /* no boundary, or no complete part */
    BODY_TOO_MANY_IMAGES,/* more images than the caller's max (400, as the study's app) */
    BODY_TOO_COMPLEX,    /* JSON of more than BODY_MAX_JSON_VALUES values (413) */
    BODY_NOMEM,
    BODY_ERR_COUNT
};

/* JSON bodies with more values than this are refused before cJSON builds
 * a tree of them (about 80 bytes a value: 2^20 values are 80 MB). */
#define BODY_MAX_JSON_VALUES (1u << 20)

/* A short English sentence for the JSON error body. */
const char *body_err_text(enum body_err e);

/* 1 when p starts with a JPEG (FF D8 FF) or PNG signature. */
int body_is_image(const unsigned char *p, size_t n);

/* POST /score, the study's Flask app: {"input": "<b64>"}, or "input" nested
 * ({"input": {"image": "<b64>"}}) or a list; without "input", every string
 * in the object is an image (a custom --input-key). */
enum body_err body_score(const char *b, size_t n, struct sbuf *scratch, unsigned max,
                         unsigned *images);
/* POST /v1/models/NAME:predict: {"instances": [{"b64": ...}, ...]} or "inputs". */
enum body_err body_v1(const char *b, size_t n, struct sbuf *scratch, unsigned max,
                      unsigned *images);
/* POST /v2/models/NAME/infer, JSON only. Every dimension of a shape is a
 * whole number >= 1 and the data holds exactly their product of elements;
 * a numeric input (any datatype but BYTES) must also fit the model's
 * metadata (model_check: the gRPC route's check); the images are the
 * first input's batch dimension. BYTES inputs keep any name: the study's
 * clients name them as they like. "outputs", when there, may name only the
 * model's output (MODEL_OUTPUT); *classes is its "parameters":
 * {"classification": K} (Triton's classification extension: the answer is
 * the top K as strings), 0 without it (the answer is the whole tensor). */
enum body_err body_v2_json(const char *b, size_t n, const struct model *m, struct sbuf *scratch,
                           unsigned max, unsigned *images, unsigned *classes);
/* POST /v2/models/NAME/infer with Inference-Header-Content-Length: json_len. */
enum body_err body_v2_binary(const char *b, size_t n, size_t json_len, const struct model *m,
                             struct sbuf *scratch, unsigned max, unsigned *images,
                             unsigned *classes);
/* POST /predictions/NAME with the image bytes as the body. */
enum body_err body_raw(const char *b, size_t n, unsigned *images);
/* POST /predictions/NAME as multipart/form-data; every part is an image. */
enum body_err body_multipart(const char *b, size_t n, const char *boundary, size_t blen,
                             unsigned max, unsigned *images);

#endif
