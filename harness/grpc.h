/*
 * grpc.h: what the client and `loadgen serve` share of gRPC: the
 * length-prefixed message framing, the status codes and their names, the
 * percent-encoding of grpc-message, and the KServe v2 (ModelInfer) and TF
 * Serving (Predict) messages built and read through protobuf-c from the
 * services' own .proto files (proto/README.md). No sockets, no HTTP/2:
 * the transports (libcurl, serve/h2.c) carry the bytes. Pure; every state
 * lives in a caller-owned struct.
 */
#ifndef LOADGEN_GRPC_H
#define LOADGEN_GRPC_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "grpc_predict_v2.pb-c.h"
#include "tensorflow_serving/apis/predict.pb-c.h"

/* The canonical status codes (grpc/doc/statuscodes.md). */
enum grpc_status {
    GRPC_OK = 0,
    GRPC_CANCELLED = 1,
    GRPC_UNKNOWN = 2,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5,
    GRPC_ALREADY_EXISTS = 6,
    GRPC_PERMISSION_DENIED = 7,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_FAILED_PRECONDITION = 9,
    GRPC_ABORTED = 10,
    GRPC_OUT_OF_RANGE = 11,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
    GRPC_DATA_LOSS = 15,
    GRPC_UNAUTHENTICATED = 16,
    GRPC_STATUS_COUNT
};

/* "OK", "INVALID_ARGUMENT", ...; NULL for a code outside 0..16. */
const char *grpc_status_name(int code);
/* A grpc-status header value (decimal digits only, at most 3 of them) ->
 * its code, or -1. A code past 16 is returned as is: a server may send it,
 * and the client counts what it got. */
int grpc_status_parse(const char *s, size_t n);
/* The code a client infers from an HTTP status when a reply carries no
 * grpc-status (the gRPC spec's table: 400 INTERNAL, 401 UNAUTHENTICATED,
 * 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE,
 * anything else UNKNOWN). */
int grpc_status_of_http(int http_status);

/* Every message is a 1-byte compressed flag and a 4-byte big-endian
 * length, then the message. */
#define GRPC_PREFIX 5

void grpc_prefix(unsigned char out[GRPC_PREFIX], uint32_t len);

/* Decodes messages one after the other from a byte stream that arrives in
 * pieces of any size. The message buffer grows with the bytes that really
 * arrived (at most twice them), never with the declared length alone, so a
 * prefix that claims 4 GB costs nothing until 4 GB come. */
struct grpc_reader {
    uint32_t max;              /* largest message accepted, bytes */
    unsigned char hdr[GRPC_PREFIX];
    unsigned hdr_len;          /* prefix bytes seen of the current message */
    uint32_t len;              /* declared length of the current message */
    unsigned char *msg;        /* the message: len bytes once complete */
    size_t got;                /* message bytes received */
    size_t cap;                /* bytes allocated for msg (memory budgets count it) */
};

enum grpc_read {
    GRPC_READ_MORE = 0,        /* every byte consumed, no message complete */
    GRPC_READ_MESSAGE = 1,     /* r->msg holds r->len bytes; call grpc_reader_next */
    GRPC_READ_TOO_LARGE = -1,  /* declared length past r->max */
    GRPC_READ_COMPRESSED = -2, /* compressed flag set: we offer no grpc-encoding */
    GRPC_READ_BAD_FLAG = -3,   /* flag byte neither 0 nor 1 */
    GRPC_READ_NOMEM = -4,
};

void grpc_reader_init(struct grpc_reader *r, uint32_t max);
/* Consumes bytes from p[0..n) into the current message; *used says how
 * many. Stops after a complete message (the rest is for the next one). */
enum grpc_read grpc_reader_feed(struct grpc_reader *r, const void *p, size_t n, size_t *used);
/* Forgets the message (keeps the buffer) so the next one can start. */
void grpc_reader_next(struct grpc_reader *r);
/* 1 when a message has begun but is not complete (a truncated stream). */
int grpc_reader_partial(const struct grpc_reader *r);
void grpc_reader_free(struct grpc_reader *r);

/* grpc-message is percent-encoded: bytes outside ' '..'~' and '%' become
 * %XX. Both write at most cap bytes (no NUL) and return the length the
 * whole result needs, like snprintf; decoding passes a malformed %-escape
 * through as it is, as the spec asks. */
size_t grpc_pct_encode(const char *in, size_t n, char *out, size_t cap);
size_t grpc_pct_decode(const char *in, size_t n, char *out, size_t cap);

/* Bytes per element of a KServe v2 datatype (FP32 4, FP16 2, UINT8 1,
 * INT64 8, ...); 0 for BYTES and for a name it does not know. */
size_t grpc_dtype_size(const char *datatype);
/* The TF Serving DataType of a v2 datatype name (FP32 -> DT_FLOAT, BYTES ->
 * DT_STRING, ...), DT_INVALID when there is none; and back (NULL). */
Tensorflow__DataType grpc_tf_dtype(const char *datatype);
const char *grpc_v2_dtype(Tensorflow__DataType dt);

/* One tensor as loadgen holds it: row-major raw bytes. BYTES elements are
 * Triton's raw form, each a 4-byte little-endian length then its bytes. */
#define GRPC_MAX_DIMS 8
struct grpc_tensor {
    const char *name;
    const char *datatype;      /* v2 name: FP32, FP16, UINT8, INT64, BYTES, ... */
    const int64_t *shape;
    size_t ndims;              /* <= GRPC_MAX_DIMS */
    const void *data;
    size_t data_len;           /* bytes */
};

/* A framed (prefix included) ModelInferRequest of one input in
 * raw_input_contents, in *out (malloc'ed, the caller frees) of *len bytes.
 * `version` may be NULL or "". 0, -EINVAL (a BYTES element overruns the
 * data, or more than GRPC_MAX_DIMS dimensions) or -ENOMEM. */
int grpc_infer_request_pack(const char *model, const char *version, const struct grpc_tensor *in,
                            unsigned char **out, size_t *len);
/* The same as a framed TF Serving PredictRequest: inputs {name: tensor}
 * with tensor_content, or string_val for BYTES. */
int grpc_predict_request_pack(const char *model, const struct grpc_tensor *in, unsigned char **out,
                              size_t *len);

/* Unpacking allocates from an arena: one block, reused from message to
 * message, so steady state allocates nothing, and whatever a hostile
 * message asks of protobuf-c (an empty repeated sub-message costs ~100
 * bytes of struct for 2 bytes on the wire) stops at `limit`. */
struct grpc_arena {
    ProtobufCAllocator pa;     /* handed to protobuf-c; allocator_data is the arena */
    char *p;
    size_t cap, used;          /* bytes */
    size_t want;               /* bytes a failed unpack asked for past cap */
    size_t limit;              /* most bytes the block may grow to */
};

void grpc_arena_init(struct grpc_arena *a, size_t limit);
/* The message of descriptor d from p[0..n) into *msg (valid until the next
 * unpack on the arena). 0, -EBADMSG (not that message), -E2BIG (it would
 * need more than the arena's limit) or -ENOMEM. */
int grpc_unpack(struct grpc_arena *a, const ProtobufCMessageDescriptor *d, const void *p, size_t n,
                ProtobufCMessage **msg);
void grpc_arena_free(struct grpc_arena *a);

/* What a reply's first output is, for checking it. */
struct grpc_output {
    char name[64];             /* truncated */
    char datatype[16];         /* v2 name; "" when unknown */
    int64_t shape[GRPC_MAX_DIMS];
    size_t ndims;              /* 0..GRPC_MAX_DIMS; more dimensions are an error */
    size_t data_len;           /* bytes of its raw content */
};

/* A ModelInferResponse / PredictResponse (unframed) -> its first output.
 * 0, -EBADMSG (not the message, no output, too many dimensions), -E2BIG or
 * -ENOMEM. */
int grpc_infer_response_output(struct grpc_arena *a, const void *p, size_t n,
                               struct grpc_output *out);
int grpc_predict_response_output(struct grpc_arena *a, const void *p, size_t n,
                                 struct grpc_output *out);

#endif
