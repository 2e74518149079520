/*
 * grpc.c: gRPC framing, status codes, grpc-message encoding and the
 * ModelInfer / Predict messages (see grpc.h). Pure; no global state.
 */
#include "grpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[GRPC_STATUS_COUNT] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *grpc_status_name(int code)
{
    return code >= 0 && code < GRPC_STATUS_COUNT ? names[code] : NULL;
}

int grpc_status_parse(const char *s, size_t n)
{
    if (n == 0 || n > 3)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int grpc_status_of_http(int http_status)
{
    switch (http_status) {
    case 400: return GRPC_INTERNAL;
    case 401: return GRPC_UNAUTHENTICATED;
    case 403: return GRPC_PERMISSION_DENIED;
    case 404: return GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return GRPC_UNAVAILABLE;
    default: return GRPC_UNKNOWN;
    }
}

void grpc_prefix(unsigned char out[GRPC_PREFIX], uint32_t len)
{
    out[0] = 0;
    out[1] = (unsigned char)(len >> 24);
    out[2] = (unsigned char)(len >> 16);
    out[3] = (unsigned char)(len >> 8);
    out[4] = (unsigned char)len;
}

void grpc_reader_init(struct grpc_reader *r, uint32_t max)
{
    *r = (struct grpc_reader){.max = max};
}

enum grpc_read grpc_reader_feed(struct grpc_reader *r, const void *p, size_t n, size_t *used)
{
    const unsigned char *b = p;
    size_t i = 0;
    *used = 0;
    while (r->hdr_len < GRPC_PREFIX && i < n)
        r->hdr[r->hdr_len++] = b[i++];
    *used = i;
    if (r->hdr_len < GRPC_PREFIX)
        return GRPC_READ_MORE;
    if (r->got == 0 && i > 0) { /* the prefix just completed */
        if (r->hdr[0] > 1)
            return GRPC_READ_BAD_FLAG;
        if (r->hdr[0] == 1)
            return GRPC_READ_COMPRESSED;
        r->len = (uint32_t)r->hdr[1] << 24 | (uint32_t)r->hdr[2] << 16 | (uint32_t)r->hdr[3] << 8 |
                 r->hdr[4];
        if (r->len > r->max)
            return GRPC_READ_TOO_LARGE;
    }
    size_t take = n - i;
    if (take > r->len - r->got)
        take = r->len - r->got;
    if (r->got + take > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->got + take)
            cap *= 2;
        if (cap > r->len)
            cap = r->len;
        unsigned char *m = realloc(r->msg, cap);
        if (!m)
            return GRPC_READ_NOMEM;
        r->msg = m;
        r->cap = cap;
    }
    if (take)
        memcpy(r->msg + r->got, b + i, take);
    r->got += take;
    *used = i + take;
    return r->got == r->len ? GRPC_READ_MESSAGE : GRPC_READ_MORE;
}

void grpc_reader_next(struct grpc_reader *r)
{
    r->hdr_len = 0;
    r->len = 0;
    r->got = 0;
}

int grpc_reader_partial(const struct grpc_reader *r)
{
    return r->hdr_len > 0 && !(r->hdr_len == GRPC_PREFIX && r->got == r->len);
}

void grpc_reader_free(struct grpc_reader *r)
{
    free(r->msg);
    r->msg = NULL;
    r->cap = 0;
    grpc_reader_next(r);
}

size_t grpc_pct_encode(const char *in, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= ' ' && c <= '~' && c != '%') {
            if (o < cap)
                out[o] = (char)c;
            o++;
            continue;
        }
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        for (int k = 0; k < 3; k++, o++)
            if (o < cap)
                out[o] = e[k];
    }
    return o;
}

static int unhex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

size_t grpc_pct_decode(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++, o++) {
        char c = in[i];
        int hi, lo;
        if (c == '%' && i + 2 < n && (hi = unhex(in[i + 1])) >= 0 &&
            (lo = unhex(in[i + 2])) >= 0) {
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (o < cap)
            out[o] = c;
    }
    return o;
}

static const struct {
    const char *v2;
    size_t size;
    Tensorflow__DataType tf;
} dtypes[] = {
    {"BOOL", 1, TENSORFLOW__DATA_TYPE__DT_BOOL},     {"UINT8", 1, TENSORFLOW__DATA_TYPE__DT_UINT8},
    {"INT8", 1, TENSORFLOW__DATA_TYPE__DT_INT8},     {"UINT16", 2, TENSORFLOW__DATA_TYPE__DT_UINT16},
    {"INT16", 2, TENSORFLOW__DATA_TYPE__DT_INT16},   {"FP16", 2, TENSORFLOW__DATA_TYPE__DT_HALF},
    {"BF16", 2, TENSORFLOW__DATA_TYPE__DT_BFLOAT16}, {"UINT32", 4, TENSORFLOW__DATA_TYPE__DT_INVALID},
    {"INT32", 4, TENSORFLOW__DATA_TYPE__DT_INT32},   {"FP32", 4, TENSORFLOW__DATA_TYPE__DT_FLOAT},
    {"UINT64", 8, TENSORFLOW__DATA_TYPE__DT_INVALID}, {"INT64", 8, TENSORFLOW__DATA_TYPE__DT_INT64},
    {"FP64", 8, TENSORFLOW__DATA_TYPE__DT_DOUBLE},   {"BYTES", 0, TENSORFLOW__DATA_TYPE__DT_STRING},
};
#define NDTYPES (sizeof dtypes / sizeof dtypes[0])

size_t grpc_dtype_size(const char *datatype)
{
    for (size_t i = 0; i < NDTYPES; i++)
        if (!strcmp(datatype, dtypes[i].v2))
            return dtypes[i].size;
    return 0;
}

Tensorflow__DataType grpc_tf_dtype(const char *datatype)
{
    for (size_t i = 0; i < NDTYPES; i++)
        if (!strcmp(datatype, dtypes[i].v2))
            return dtypes[i].tf;
    return TENSORFLOW__DATA_TYPE__DT_INVALID;
}

const char *grpc_v2_dtype(Tensorflow__DataType dt)
{
    for (size_t i = 0; dt != TENSORFLOW__DATA_TYPE__DT_INVALID && i < NDTYPES; i++)
        if (dtypes[i].tf == dt)
            return dtypes[i].v2;
    return NULL;
}

/* Packs m behind a gRPC prefix into a new buffer. */
static int frame(const ProtobufCMessage *m, unsigned char **out, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    if (n > UINT32_MAX)
        return -EINVAL;
    unsigned char *b = malloc(GRPC_PREFIX + n);
    if (!b)
        return -ENOMEM;
    grpc_prefix(b, (uint32_t)n);
    protobuf_c_message_pack(m, b + GRPC_PREFIX);
    *out = b;
    *len = GRPC_PREFIX + n;
    return 0;
}

int grpc_infer_request_pack(const char *model, const char *version, const struct grpc_tensor *in,
                            unsigned char **out, size_t *len)
{
    if (in->ndims > GRPC_MAX_DIMS)
        return -EINVAL;
    Inference__ModelInferRequest req = INFERENCE__MODEL_INFER_REQUEST__INIT;
    Inference__ModelInferRequest__InferInputTensor t =
        INFERENCE__MODEL_INFER_REQUEST__INFER_INPUT_TENSOR__INIT;
    Inference__ModelInferRequest__InferInputTensor *tp = &t;
    ProtobufCBinaryData raw = {in->data_len, (uint8_t *)in->data};
    int64_t shape[GRPC_MAX_DIMS];
    if (in->ndims)
        memcpy(shape, in->shape, in->ndims * sizeof *shape);
    t.name = (char *)in->name;
    t.datatype = (char *)in->datatype;
    t.n_shape = in->ndims;
    t.shape = shape;
    req.model_name = (char *)model;
    req.model_version = (char *)(version ? version : "");
    req.n_inputs = 1;
    req.inputs = &tp;
    req.n_raw_input_contents = 1;
    req.raw_input_contents = &raw;
    return frame(&req.base, out, len);
}

/* Splits BYTES raw data (4-byte little-endian length, then the bytes) into
 * string_val entries; *elems NULL-able for counting first. */
static int split_bytes(const unsigned char *p, size_t n, ProtobufCBinaryData *elems, size_t *count)
{
    size_t off = 0, k = 0;
    while (off < n) {
        if (n - off < 4)
            return -EINVAL;
        uint32_t l = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
                     (uint32_t)p[off + 3] << 24;
        off += 4;
        if (l > n - off)
            return -EINVAL;
        if (elems)
            elems[k] = (ProtobufCBinaryData){l, (uint8_t *)p + off};
        off += l;
        k++;
    }
    *count = k;
    return 0;
}

int grpc_predict_request_pack(const char *model, const struct grpc_tensor *in, unsigned char **out,
                              size_t *len)
{
    if (in->ndims > GRPC_MAX_DIMS)
        return -EINVAL;
    Tensorflow__Serving__PredictRequest req = TENSORFLOW__SERVING__PREDICT_REQUEST__INIT;
    Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    Tensorflow__Serving__PredictRequest__InputsEntry entry =
        TENSORFLOW__SERVING__PREDICT_REQUEST__INPUTS_ENTRY__INIT;
    Tensorflow__Serving__PredictRequest__InputsEntry *ep = &entry;
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    Tensorflow__TensorShapeProto__Dim dims[GRPC_MAX_DIMS], *dp[GRPC_MAX_DIMS];
    for (size_t i = 0; i < in->ndims; i++) {
        dims[i] = (Tensorflow__TensorShapeProto__Dim)TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
        dims[i].size = in->shape[i];
        dp[i] = &dims[i];
    }
    shape.n_dim = in->ndims;
    shape.dim = dp;
    t.dtype = grpc_tf_dtype(in->datatype);
    t.tensor_shape = &shape;
    ProtobufCBinaryData *elems = NULL;
    if (t.dtype == TENSORFLOW__DATA_TYPE__DT_STRING) {
        size_t k;
        if (split_bytes(in->data, in->data_len, NULL, &k))
            return -EINVAL;
        if (k && !(elems = calloc(k, sizeof *elems)))
            return -ENOMEM;
        split_bytes(in->data, in->data_len, elems, &k);
        t.n_string_val = k;
        t.string_val = elems;
    } else {
        t.tensor_content = (ProtobufCBinaryData){in->data_len, (uint8_t *)in->data};
    }
    spec.name = (char *)model;
    entry.key = (char *)in->name;
    entry.value = &t;
    req.model_spec = &spec;
    req.n_inputs = 1;
    req.inputs = &ep;
    int rc = frame(&req.base, out, len);
    free(elems);
    return rc;
}

static void *arena_alloc(void *data, size_t size)
{
    struct grpc_arena *a = data;
    size = (size + 15) & ~(size_t)15;
    if (size > a->cap - a->used) {
        a->want += size;
        return NULL;
    }
    void *p = a->p + a->used;
    a->used += size;
    return p;
}

/* Everything is given back at once by the next unpack. */
static void arena_free(void *data, void *p) {}

void grpc_arena_init(struct grpc_arena *a, size_t limit)
{
    *a = (struct grpc_arena){.pa = {arena_alloc, arena_free, a}, .limit = limit};
}

int grpc_unpack(struct grpc_arena *a, const ProtobufCMessageDescriptor *d, const void *p, size_t n,
                ProtobufCMessage **msg)
{
    for (;;) {
        a->used = 0;
        a->want = 0;
        *msg = protobuf_c_message_unpack(d, &a->pa, n, p);
        if (*msg)
            return 0;
        if (!a->want)
            return -EBADMSG;
        /* Grow and try again: at least double, and at least twice the
         * message (bytes fields are copied) plus 4 KiB of structs, so a
         * message that needs the limit is parsed two or three times, not
         * once per doubling. */
        size_t cap = a->cap * 2 > a->cap + a->want ? a->cap * 2 : a->cap + a->want;
        if (cap < 2 * n + 4096)
            cap = 2 * n + 4096;
        if (cap > a->limit) {
            if (a->cap >= a->limit)
                return -E2BIG;
            cap = a->limit;
        }
        char *b = malloc(cap);
        if (!b)
            return -ENOMEM;
        free(a->p);
        a->p = b;
        a->cap = cap;
    }
}

void grpc_arena_free(struct grpc_arena *a)
{
    free(a->p);
    a->p = NULL;
    a->cap = a->used = 0;
}

static int output_of(const char *name, const char *datatype, size_t ndims, const int64_t *shape,
                     size_t data_len, struct grpc_output *o)
{
    if (ndims > GRPC_MAX_DIMS)
        return -EBADMSG;
    *o = (struct grpc_output){.ndims = ndims, .data_len = data_len};
    strncat(o->name, name ? name : "", sizeof o->name - 1);
    strncat(o->datatype, datatype ? datatype : "", sizeof o->datatype - 1);
    if (ndims) /* shape may be NULL then */
        memcpy(o->shape, shape, ndims * sizeof *shape);
    return 0;
}

int grpc_infer_response_output(struct grpc_arena *a, const void *p, size_t n,
                               struct grpc_output *out)
{
    ProtobufCMessage *m;
    int rc = grpc_unpack(a, &inference__model_infer_response__descriptor, p, n, &m);
    if (rc)
        return rc;
    const Inference__ModelInferResponse *r = (const Inference__ModelInferResponse *)m;
    if (r->n_outputs == 0)
        return -EBADMSG;
    const Inference__ModelInferResponse__InferOutputTensor *t = r->outputs[0];
    size_t len = r->n_raw_output_contents ? r->raw_output_contents[0].len : 0;
    if (!r->n_raw_output_contents && t->contents) {
        const Inference__InferTensorContents *c = t->contents;
        len = c->n_fp32_contents * 4 + c->n_int64_contents * 8 + c->n_int_contents * 4 +
              c->n_uint_contents * 4 + c->n_uint64_contents * 8 + c->n_fp64_contents * 8 +
              c->n_bool_contents;
        for (size_t i = 0; i < c->n_bytes_contents; i++)
            len += 4 + c->bytes_contents[i].len;
    }
    return output_of(t->name, t->datatype, t->n_shape, t->shape, len, out);
}

int grpc_predict_response_output(struct grpc_arena *a, const void *p, size_t n,
                                 struct grpc_output *out)
{
    ProtobufCMessage *m;
    int rc = grpc_unpack(a, &tensorflow__serving__predict_response__descriptor, p, n, &m);
    if (rc)
        return rc;
    const Tensorflow__Serving__PredictResponse *r = (const Tensorflow__Serving__PredictResponse *)m;
    if (r->n_outputs == 0 || !r->outputs[0]->value)
        return -EBADMSG;
    const Tensorflow__TensorProto *t = r->outputs[0]->value;
    int64_t shape[GRPC_MAX_DIMS];
    size_t nd = t->tensor_shape ? t->tensor_shape->n_dim : 0;
    if (nd > GRPC_MAX_DIMS)
        return -EBADMSG;
    for (size_t i = 0; i < nd; i++)
        shape[i] = t->tensor_shape->dim[i]->size;
    size_t len = t->tensor_content.len + t->n_float_val * 4 + t->n_int64_val * 8 +
                 t->n_int_val * 4 + t->n_double_val * 8;
    for (size_t i = 0; i < t->n_string_val; i++)
        len += 4 + t->string_val[i].len;
    return output_of(r->outputs[0]->key, grpc_v2_dtype(t->dtype), nd, shape, len, out);
}
