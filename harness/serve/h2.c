/*
 * h2.c: gRPC over HTTP/2 for `loadgen serve` (see h2.h). One nghttp2
 * server session per connection, on httpd's loop thread.
 *
 * A stream is a slot (struct stream) with its own sim_req, so many
 * requests of one connection are in the model at once. Slots are kept on
 * a per-session free list and reused; a request's message grows with the
 * bytes that arrived (grpc_reader), every buffer is counted in httpd's
 * --max-inflight budget, and nghttp2 refuses streams past
 * H2_MAX_STREAMS. The request is checked when its stream ends (END_STREAM):
 * one message, the method's protobuf, the model's metadata; the verdict
 * goes through the model like an HTTP/1.1 answer, so --rtt, stalls and the
 * freeze apply to both alike.
 *
 * A client may close the connection while the model holds its streams:
 * the session then waits on env->zombies until the last one comes back
 * (the model has no way to take a request back).
 */
#include "serve/h2.h"

#include <errno.h>
#include <stdarg.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "serve/body.h"

#define NO_DEADLINE INT64_MAX
/* Bytes gathered from nghttp2 before one write; a write's buffer past
 * KEEP_OUT is given back after it. */
#define WRITE_CHUNK (64u << 10)
#define KEEP_OUT (256u << 10)
/* A stream's answer or request buffer past this is given back when the
 * stream closes, so idle connections pin little. */
#define KEEP_STREAM (64u << 10)
/* Per-stream flow-control window: a 224x224x3 FP32 image (602 KB) flows
 * without waiting on WINDOW_UPDATEs; the bytes are counted as they come. */
#define WINDOW (1u << 20)
#define ID_MAX 128
/* Decode arena kept between requests: a 224x224x3 FP32 request needs ~0.7 MB. */
#define ARENA_KEEP (4u << 20)
/* Free slots that keep their buffers once a connection has no stream
 * open: an idle connection after a burst of 128 pins little. */
#define KEEP_SLOTS 4

enum method { M_NONE, M_LIVE, M_READY, M_SMETA, M_MREADY, M_MMETA, M_INFER, M_PREDICT };

static const struct {
    const char *path;
    enum method m;
} methods[] = {
    {"/inference.GRPCInferenceService/ModelInfer", M_INFER},
    {"/inference.GRPCInferenceService/ModelMetadata", M_MMETA},
    {"/inference.GRPCInferenceService/ModelReady", M_MREADY},
    {"/inference.GRPCInferenceService/ServerLive", M_LIVE},
    {"/inference.GRPCInferenceService/ServerReady", M_READY},
    {"/inference.GRPCInferenceService/ServerMetadata", M_SMETA},
    {"/tensorflow.serving.PredictionService/Predict", M_PREDICT},
};

/* Answers that never change, packed once (env->canned): index by enum
 * method. */
enum { C_LIVE = M_LIVE, C_READY = M_READY, C_SMETA = M_SMETA, C_MREADY = M_MREADY,
       C_MMETA = M_MMETA, C_COUNT = M_INFER };
_Static_assert(C_COUNT <= H2_CANNED, "h2_env.canned holds every fixed answer");

struct stream {
    struct sim_req req;           /* in the model; req.stream = 1 */
    struct h2 *s;
    struct stream *next_free;     /* s->free */
    struct stream *next_all;      /* s->all: every slot, for freeing */
    int32_t id;                   /* 0: closed by the client while in the model */
    enum method method;
    int http;                     /* answer with this HTTP status only (405, 415) */
    int code;                     /* gRPC status decided before the model, -1 none */
    const char *msg;              /* its grpc-message */
    char msgbuf[200];
    int messages;                 /* complete request messages */
    int in_model;
    int receiving;                /* request begun, END_STREAM not yet seen */
    struct grpc_reader rd;
    char id_echo[ID_MAX];         /* ModelInferRequest.id, echoed */
    size_t id_len;
    const unsigned char *out;     /* the framed answer: own or canned */
    size_t out_len, out_off;
    unsigned char *own;           /* this stream's answer buffer */
    size_t own_cap;
};

struct h2 {
    struct h2_env *env;
    nghttp2_session *ng;
    uv_stream_t *tcp;
    void *conn;
    int64_t *deadline_ms;
    unsigned replica;
    struct stream *free, *all;
    struct h2 *next_zombie;
    unsigned open;                /* slots taken (streams open or held by the model) */
    unsigned in_model;            /* streams the model holds */
    unsigned receiving;           /* streams whose request is incomplete */
    size_t mem;                   /* bytes counted in *env->mem */
    uv_write_t wreq;
    unsigned char *wbuf;
    size_t wlen, wcap;
    int writing;
    int in_recv;                  /* inside nghttp2_session_mem_recv: no sending */
    int dead;                     /* the connection is gone */
};

static void account(struct h2 *s, ptrdiff_t delta)
{
    s->mem = (size_t)((ptrdiff_t)s->mem + delta);
    *s->env->mem = (uint64_t)((int64_t)*s->env->mem + delta);
}

/* Packs m behind a gRPC prefix into *buf (grown, counted); 0 or -ENOMEM/-EBUSY. */
static int pack_into(struct h2 *s, const ProtobufCMessage *m, unsigned char **buf, size_t *cap,
                     size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m) + GRPC_PREFIX;
    if (n > *cap) {
        if (!httpd_room(s->env->httpd, n - *cap))
            return -EBUSY;
        unsigned char *b = realloc(*buf, n);
        if (!b)
            return -ENOMEM;
        account(s, (ptrdiff_t)(n - *cap));
        *buf = b;
        *cap = n;
    }
    grpc_prefix(*buf, (uint32_t)(n - GRPC_PREFIX));
    protobuf_c_message_pack(m, *buf + GRPC_PREFIX);
    *len = n;
    return 0;
}

static void set_error(struct stream *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct stream *st, int code, const char *fmt, ...)
{
    if (st->code > 0 || st->http)
        return; /* the first error stands */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msgbuf, sizeof st->msgbuf, fmt, ap);
    va_end(ap);
    st->code = code;
    st->msg = st->msgbuf;
}

/* ---- request checks ---- */

/* BYTES data in Triton's raw form: N elements of 4-byte length + an image. */
static int raw_images(const unsigned char *p, size_t n, uint64_t want)
{
    uint64_t k = 0;
    for (size_t off = 0; off < n; k++) {
        if (n - off < 4)
            return -1;
        uint32_t l = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
                     (uint32_t)p[off + 3] << 24;
        off += 4;
        if (l > n - off || !body_is_image(p + off, l))
            return -1;
        off += l;
    }
    return k == want ? 0 : -1;
}

static int bin_images(const ProtobufCBinaryData *v, size_t n, uint64_t want)
{
    if (n != want)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!body_is_image(v[i].data, v[i].len))
            return -1;
    return 0;
}

static int check_shape(struct stream *st, const char *name, const char *datatype,
                       const int64_t *shape, size_t ndims, unsigned *images, uint64_t *elements)
{
    struct h2_env *env = st->s->env;
    struct model_tensor t = {name, strlen(name), datatype, strlen(datatype), shape, ndims};
    char msg[160];
    if (model_check(&env->model, &t, env->max_images, images, elements, msg, sizeof msg)) {
        set_error(st, GRPC_INVALID_ARGUMENT, "%s", msg);
        return -1;
    }
    return 0;
}

static int model_named(struct stream *st, const char *name, const char *version)
{
    const struct model *m = &st->s->env->model;
    if (!model_is(m, name, strlen(name)) || (version && *version && strcmp(version, MODEL_VERSION))) {
        set_error(st, GRPC_NOT_FOUND, "unknown model or version; this server has model %s version "
                  MODEL_VERSION, m->name);
        return 0;
    }
    return 1;
}

static const char data_size_msg[] = "input " MODEL_INPUT ": data does not match the shape and datatype";

static unsigned check_infer(struct stream *st, const Inference__ModelInferRequest *q)
{
    if (!model_named(st, q->model_name, q->model_version))
        return 0;
    if (q->n_inputs != 1) {
        set_error(st, GRPC_INVALID_ARGUMENT, "%zu inputs; this model takes exactly one, " MODEL_INPUT,
                  q->n_inputs);
        return 0;
    }
    if (strlen(q->id) >= ID_MAX) {
        set_error(st, GRPC_INVALID_ARGUMENT, "id is longer than %d bytes", ID_MAX - 1);
        return 0;
    }
    const Inference__ModelInferRequest__InferInputTensor *t = q->inputs[0];
    unsigned images;
    uint64_t el;
    if (check_shape(st, t->name, t->datatype, t->shape, t->n_shape, &images, &el))
        return 0;
    int bytes = !strcmp(t->datatype, "BYTES");
    int ok;
    if (q->n_raw_input_contents) {
        const ProtobufCBinaryData *r = &q->raw_input_contents[0];
        ok = q->n_raw_input_contents == 1 && !t->contents &&
             (bytes ? !raw_images(r->data, r->len, el) : r->len == el * grpc_dtype_size(t->datatype));
    } else if (t->contents) {
        const Inference__InferTensorContents *c = t->contents;
        ok = bytes                             ? !bin_images(c->bytes_contents, c->n_bytes_contents, el)
             : !strcmp(t->datatype, "FP32")    ? c->n_fp32_contents == el
             : !strcmp(t->datatype, "UINT8")   ? c->n_uint_contents == el
             : !strcmp(t->datatype, "INT64")   ? c->n_int64_contents == el
                                               : 0; /* FP16 has no typed field: raw only */
    } else {
        ok = 0;
    }
    if (!ok) {
        set_error(st, GRPC_INVALID_ARGUMENT, "%s", data_size_msg);
        return 0;
    }
    memcpy(st->id_echo, q->id, strlen(q->id));
    st->id_len = strlen(q->id);
    return images;
}

static unsigned check_predict(struct stream *st, const Tensorflow__Serving__PredictRequest *q)
{
    if (!q->model_spec || !model_named(st, q->model_spec->name, NULL))
        return q->model_spec ? 0
                             : (set_error(st, GRPC_INVALID_ARGUMENT, "model_spec is missing"), 0);
    if (q->n_inputs != 1 || !q->inputs[0]->value) {
        set_error(st, GRPC_INVALID_ARGUMENT, "%zu inputs; this model takes exactly one, " MODEL_INPUT,
                  q->n_inputs);
        return 0;
    }
    const Tensorflow__TensorProto *t = q->inputs[0]->value;
    const char *dt = grpc_v2_dtype(t->dtype);
    int64_t shape[GRPC_MAX_DIMS];
    size_t nd = t->tensor_shape ? t->tensor_shape->n_dim : 0;
    if (!dt || nd > GRPC_MAX_DIMS) {
        set_error(st, GRPC_INVALID_ARGUMENT, "input " MODEL_INPUT ": %s", !dt ? "dtype not accepted; "
                  "send DT_FLOAT (or DT_HALF, DT_UINT8, DT_INT64, DT_STRING of encoded images)"
                  : "too many dimensions");
        return 0;
    }
    for (size_t i = 0; i < nd; i++)
        shape[i] = t->tensor_shape->dim[i]->size;
    unsigned images;
    uint64_t el;
    if (check_shape(st, q->inputs[0]->key, dt, shape, nd, &images, &el))
        return 0;
    int ok;
    if (!strcmp(dt, "BYTES"))
        ok = !bin_images(t->string_val, t->n_string_val, el);
    else if (t->tensor_content.len)
        ok = t->tensor_content.len == el * grpc_dtype_size(dt);
    else
        ok = !strcmp(dt, "FP32")    ? t->n_float_val == el
             : !strcmp(dt, "FP16")  ? t->n_half_val == el
             : !strcmp(dt, "UINT8") ? t->n_int_val == el
                                    : t->n_int64_val == el;
    if (!ok) {
        set_error(st, GRPC_INVALID_ARGUMENT, "%s", data_size_msg);
        return 0;
    }
    return images;
}

/* The stream's request is complete: its images (0 for metadata calls and
 * errors); st->code set on error. */
static unsigned check(struct stream *st)
{
    struct h2_env *env = st->s->env;
    if (st->code > 0 || st->http)
        return 0;
    if (st->messages != 1 || grpc_reader_partial(&st->rd)) {
        set_error(st, GRPC_INTERNAL, "a unary call carries exactly one complete message");
        return 0;
    }
    static const ProtobufCMessageDescriptor *const desc[] = {
        [M_LIVE] = &inference__server_live_request__descriptor,
        [M_READY] = &inference__server_ready_request__descriptor,
        [M_SMETA] = &inference__server_metadata_request__descriptor,
        [M_MREADY] = &inference__model_ready_request__descriptor,
        [M_MMETA] = &inference__model_metadata_request__descriptor,
        [M_INFER] = &inference__model_infer_request__descriptor,
        [M_PREDICT] = &tensorflow__serving__predict_request__descriptor,
    };
    ProtobufCMessage *m;
    int rc = grpc_unpack(&env->arena, desc[st->method], st->rd.msg, st->rd.len, &m);
    if (rc) {
        if (rc == -EBADMSG)
            set_error(st, GRPC_INVALID_ARGUMENT, "the message is not a valid %s",
                      desc[st->method]->name);
        else
            set_error(st, GRPC_RESOURCE_EXHAUSTED, "the message needs more memory than this server "
                      "gives one request (--max-body)");
        return 0;
    }
    unsigned images = 0;
    switch (st->method) {
    case M_MREADY: {
        const Inference__ModelReadyRequest *q = (const Inference__ModelReadyRequest *)m;
        model_named(st, q->name, q->version);
        break;
    }
    case M_MMETA: {
        const Inference__ModelMetadataRequest *q = (const Inference__ModelMetadataRequest *)m;
        model_named(st, q->name, q->version);
        break;
    }
    case M_INFER: images = check_infer(st, (const Inference__ModelInferRequest *)m); break;
    case M_PREDICT: images = check_predict(st, (const Tensorflow__Serving__PredictRequest *)m); break;
    default: break;
    }
    /* The arena is outside --max-inflight: one that a large message grew
     * is given back rather than pinned. */
    if (env->arena.cap > ARENA_KEEP)
        grpc_arena_free(&env->arena);
    return images;
}

/* ---- answers ---- */

static void watch(struct h2 *s);
static void pump(struct h2 *s);

static ssize_t read_answer(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length,
                           uint32_t *flags, nghttp2_data_source *src, void *user)
{
    struct stream *st = src->ptr;
    size_t n = st->out_len - st->out_off;
    if (n > length)
        n = length;
    memcpy(buf, st->out + st->out_off, n);
    st->out_off += n;
    if (st->out_off == st->out_len) {
        static const nghttp2_nv ok[] = {
            {(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE}};
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        if (nghttp2_submit_trailer(ng, id, ok, 1))
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

#define NV(n, v, vl) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE}

/* Trailers-Only: HEADERS with the status and END_STREAM, no message. */
static void answer_error(struct stream *st, int code, const char *msg)
{
    struct h2 *s = st->s;
    char codes[4], enc[3 * sizeof st->msgbuf];
    int cl = snprintf(codes, sizeof codes, "%d", code);
    size_t el = grpc_pct_encode(msg, strlen(msg), enc, sizeof enc);
    nghttp2_nv nv[] = {NV(":status", "200", 3), NV("content-type", "application/grpc", 16),
                       NV("grpc-status", codes, (size_t)cl), NV("grpc-message", enc, el)};
    s->env->st->grpc_errors++;
    nghttp2_submit_response(s->ng, st->id, nv, 4, NULL);
}

static void answer_http(struct stream *st)
{
    char status[4];
    snprintf(status, sizeof status, "%d", st->http);
    nghttp2_nv nv[] = {NV(":status", status, 3)};
    st->s->env->st->client_errors++;
    nghttp2_submit_response(st->s->ng, st->id, nv, 1, NULL);
}

/* The probabilities of `images` images, MODEL_CLASSES floats each: the
 * same tabby cat as the REST answers. */
static const float *probs(struct h2_env *env, unsigned images)
{
    if (images > env->probs_images) {
        float *p = realloc(env->probs, (size_t)images * MODEL_CLASSES * sizeof *p);
        if (!p)
            return NULL;
        for (unsigned i = env->probs_images; i < images; i++) {
            float *row = p + (size_t)i * MODEL_CLASSES;
            for (int k = 0; k < MODEL_CLASSES; k++)
                row[k] = 0.259f / (MODEL_CLASSES - 3);
            row[281] = 0.412f;
            row[282] = 0.221f;
            row[285] = 0.108f;
        }
        env->probs = p;
        env->probs_images = images;
    }
    return env->probs;
}

static int pack_infer(struct stream *st, unsigned images)
{
    struct h2_env *env = st->s->env;
    const float *p = probs(env, images);
    if (!p)
        return -ENOMEM;
    Inference__ModelInferResponse r = INFERENCE__MODEL_INFER_RESPONSE__INIT;
    Inference__ModelInferResponse__InferOutputTensor o =
        INFERENCE__MODEL_INFER_RESPONSE__INFER_OUTPUT_TENSOR__INIT, *op = &o;
    int64_t shape[2] = {images, MODEL_CLASSES};
    ProtobufCBinaryData raw = {(size_t)images * MODEL_CLASSES * sizeof *p, (uint8_t *)p};
    char id[ID_MAX];
    memcpy(id, st->id_echo, st->id_len);
    id[st->id_len] = '\0';
    o.name = MODEL_OUTPUT;
    o.datatype = MODEL_DATATYPE;
    o.n_shape = 2;
    o.shape = shape;
    r.model_name = env->model.name;
    r.model_version = MODEL_VERSION;
    r.id = id;
    r.n_outputs = 1;
    r.outputs = &op;
    r.n_raw_output_contents = 1;
    r.raw_output_contents = &raw;
    return pack_into(st->s, &r.base, &st->own, &st->own_cap, &st->out_len);
}

static int pack_predict(struct stream *st, unsigned images)
{
    struct h2_env *env = st->s->env;
    const float *p = probs(env, images);
    if (!p)
        return -ENOMEM;
    Tensorflow__Serving__PredictResponse r = TENSORFLOW__SERVING__PREDICT_RESPONSE__INIT;
    Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    Google__Protobuf__Int64Value version = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
    Tensorflow__Serving__PredictResponse__OutputsEntry e =
        TENSORFLOW__SERVING__PREDICT_RESPONSE__OUTPUTS_ENTRY__INIT, *ep = &e;
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    Tensorflow__TensorShapeProto__Dim d0 = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT,
                                      d1 = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
    Tensorflow__TensorShapeProto__Dim *dims[2] = {&d0, &d1};
    d0.size = images;
    d1.size = MODEL_CLASSES;
    shape.n_dim = 2;
    shape.dim = dims;
    t.dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    t.tensor_shape = &shape;
    t.tensor_content = (ProtobufCBinaryData){(size_t)images * MODEL_CLASSES * sizeof *p, (uint8_t *)p};
    version.value = 1;
    spec.name = env->model.name;
    spec.version = &version;
    e.key = MODEL_OUTPUT;
    e.value = &t;
    r.model_spec = &spec;
    r.n_outputs = 1;
    r.outputs = &ep;
    return pack_into(st->s, &r.base, &st->own, &st->own_cap, &st->out_len);
}

static void answer(struct stream *st)
{
    struct h2 *s = st->s;
    if (st->http) {
        answer_http(st);
        return;
    }
    if (st->code > 0) {
        answer_error(st, st->code, st->msg);
        return;
    }
    int rc = 0;
    if (st->method == M_INFER)
        rc = pack_infer(st, st->req.images);
    else if (st->method == M_PREDICT)
        rc = pack_predict(st, st->req.images);
    else
        st->out = s->env->canned[st->method], st->out_len = s->env->canned_len[st->method];
    if (st->method == M_INFER || st->method == M_PREDICT)
        st->out = st->own;
    if (rc) {
        answer_error(st, GRPC_RESOURCE_EXHAUSTED, rc == -EBUSY ? "answers in progress fill "
                     "--max-inflight; retry later" : "out of memory");
        return;
    }
    st->out_off = 0;
    static const nghttp2_nv nv[] = {NV(":status", "200", 3),
                                    NV("content-type", "application/grpc", 16)};
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_answer};
    s->env->st->ok++;
    nghttp2_submit_response(s->ng, st->id, nv, 2, &prd);
}

/* ---- streams ---- */

static struct stream *stream_take(struct h2 *s)
{
    struct stream *st = s->free;
    if (st) {
        s->free = st->next_free;
    } else {
        if (!httpd_room(s->env->httpd, sizeof *st) || !(st = calloc(1, sizeof *st)))
            return NULL;
        account(s, sizeof *st);
        st->s = s;
        st->next_all = s->all;
        s->all = st;
        uint64_t max = s->env->lim->max_body;
        grpc_reader_init(&st->rd, max > UINT32_MAX ? UINT32_MAX : (uint32_t)max);
    }
    grpc_reader_next(&st->rd);
    s->open++;
    st->req = (struct sim_req){.stream = 1, .replica = s->replica};
    st->method = M_NONE;
    st->http = 0;
    st->code = -1;
    st->msg = "";
    st->messages = 0;
    st->id_len = 0;
    st->out = NULL;
    st->out_len = st->out_off = 0;
    return st;
}

/* No stream open: free slots past the first KEEP_SLOTS give their buffers back. */
static void trim(struct h2 *s)
{
    unsigned k = 0;
    for (struct stream *st = s->free; st; st = st->next_free, k++) {
        if (k < KEEP_SLOTS)
            continue;
        account(s, -(ptrdiff_t)(st->rd.cap + st->own_cap));
        grpc_reader_free(&st->rd);
        free(st->own);
        st->own = NULL;
        st->own_cap = 0;
    }
}

/* Gives back what a slot holds past KEEP_STREAM and puts it on the free list. */
static void stream_give(struct stream *st)
{
    struct h2 *s = st->s;
    if (st->receiving) {
        st->receiving = 0;
        s->receiving--;
    }
    size_t had = st->rd.cap + st->own_cap;
    if (st->rd.cap > KEEP_STREAM)
        grpc_reader_free(&st->rd);
    if (st->own_cap > KEEP_STREAM) {
        free(st->own);
        st->own = NULL;
        st->own_cap = 0;
    }
    account(s, (ptrdiff_t)(st->rd.cap + st->own_cap) - (ptrdiff_t)had);
    st->next_free = s->free;
    s->free = st;
    if (--s->open == 0)
        trim(s);
}

/* END_STREAM: draw the fate, check, hand to the model. */
static void dispatch(struct stream *st)
{
    struct h2 *s = st->s;
    struct h2_env *env = s->env;
    st->receiving = 0;
    s->receiving--;
    env->st->requests++;
    env->st->grpc_requests++;
    st->req.images = 0;
    st->req.skip = 1;
    switch (sim_fate(env->sim, &st->req)) {
    case SIM_RESET:
        env->st->resets++;
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        return;
    case SIM_FAIL:
        st->http = 0;
        st->code = -1;
        set_error(st, env->fail_code, "injected failure (--fail-rate)");
        break;
    case SIM_SERVE: {
        unsigned images = check(st);
        if (st->code <= 0 && !st->http && images > 0) {
            st->req.images = images;
            st->req.skip = 0;
        }
        break;
    }
    }
    /* The message is checked: its bytes are no longer needed. */
    if (st->rd.cap > KEEP_STREAM) {
        account(s, -(ptrdiff_t)st->rd.cap);
        grpc_reader_free(&st->rd);
    }
    st->in_model = 1;
    s->in_model++;
    if (sim_submit(env->sim, &st->req, lg_now_us())) {
        st->in_model = 0;
        s->in_model--;
        answer_error(st, GRPC_RESOURCE_EXHAUSTED, "out of memory");
    }
    httpd_rearm(env->httpd);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    struct h2 *s = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct stream *st = stream_take(s);
    if (!st) {
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_REFUSED_STREAM);
        s->env->st->busy++;
        return 0;
    }
    st->id = f->hd.stream_id;
    st->receiving = 1;
    s->receiving++;
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    return 0;
}

static int is(const uint8_t *p, size_t n, const char *lit)
{
    return n == strlen(lit) && !memcmp(p, lit, n);
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
    struct stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!st || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    if (is(name, nlen, ":method")) {
        if (!is(value, vlen, "POST"))
            st->http = 405;
    } else if (is(name, nlen, ":path")) {
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
            if (is(value, vlen, methods[i].path))
                st->method = methods[i].m;
    } else if (is(name, nlen, "content-type")) {
        /* application/grpc, application/grpc+proto, application/grpc;... */
        static const char g[] = "application/grpc";
        if (!(vlen >= sizeof g - 1 && !memcmp(value, g, sizeof g - 1) &&
              (vlen == sizeof g - 1 || value[sizeof g - 1] == '+' || value[sizeof g - 1] == ';')))
            st->http = st->http ? st->http : 415;
    }
    return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p, size_t n,
                   void *user)
{
    struct h2 *s = user;
    struct stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st || st->code > 0 || st->http || st->method == M_NONE)
        return 0; /* an answer is decided: the rest is dropped */
    while (n > 0) {
        size_t used, had = st->rd.cap;
        enum grpc_read rd = grpc_reader_feed(&st->rd, p, n, &used);
        account(s, (ptrdiff_t)st->rd.cap - (ptrdiff_t)had);
        p += used;
        n -= used;
        /* The growth is counted after the fact: it overshoots the budget
         * by at most one doubling of one message. */
        if (st->rd.cap > had && !httpd_room(s->env->httpd, 0)) {
            s->env->st->busy++;
            set_error(st, GRPC_RESOURCE_EXHAUSTED, "request messages in progress fill "
                      "--max-inflight; retry later");
        } else if (rd == GRPC_READ_TOO_LARGE) {
            set_error(st, GRPC_RESOURCE_EXHAUSTED, "message of %u bytes is larger than --max-body "
                      "(%u bytes)", st->rd.len, st->rd.max);
        } else if (rd == GRPC_READ_COMPRESSED) {
            set_error(st, GRPC_UNIMPLEMENTED, "compressed messages are not supported; send them "
                      "uncompressed (grpc-encoding identity)");
        } else if (rd == GRPC_READ_BAD_FLAG) {
            set_error(st, GRPC_INTERNAL, "message prefix has a flag byte other than 0 or 1");
        } else if (rd == GRPC_READ_NOMEM) {
            set_error(st, GRPC_RESOURCE_EXHAUSTED, "out of memory");
        } else if (rd == GRPC_READ_MESSAGE) {
            if (++st->messages > 1)
                set_error(st, GRPC_INTERNAL, "a unary call carries exactly one message");
            continue; /* kept for check(); a second one only counts */
        }
        if (st->code > 0) {
            account(s, -(ptrdiff_t)st->rd.cap);
            grpc_reader_free(&st->rd);
            return 0;
        }
    }
    return 0;
}

static int on_frame(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
        !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    struct stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!st || !st->receiving)
        return 0;
    if (st->method == M_NONE && !st->http)
        set_error(st, GRPC_UNIMPLEMENTED, "unknown method; this server serves "
                  "inference.GRPCInferenceService and tensorflow.serving.PredictionService/Predict");
    dispatch(st);
    return 0;
}

static int on_close(nghttp2_session *ng, int32_t id, uint32_t error, void *user)
{
    struct stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    if (st->in_model)
        st->id = 0; /* h2_done gives the slot back */
    else
        stream_give(st);
    return 0;
}

/* ---- the connection ---- */

static void written(uv_write_t *w, int status)
{
    struct h2 *s = w->data;
    s->writing = 0;
    if (s->dead)
        return;
    if (status < 0) {
        httpd_h2_close(s->conn);
        return;
    }
    if (s->wcap > KEEP_OUT) {
        account(s, -(ptrdiff_t)s->wcap);
        free(s->wbuf);
        s->wbuf = NULL;
        s->wcap = 0;
    }
    pump(s);
}

static void watch(struct h2 *s)
{
    const struct httpd_limits *lim = s->env->lim;
    int64_t now = (int64_t)uv_now(s->env->loop);
    if (s->writing)
        *s->deadline_ms = now + lim->send_timeout_ms;
    else if (s->receiving)
        *s->deadline_ms = now + lim->body_timeout_ms;
    else if (s->in_model)
        *s->deadline_ms = NO_DEADLINE;
    else
        *s->deadline_ms = now + lim->idle_timeout_ms;
}

/* Sends what nghttp2 has queued, one write at a time. */
static void pump(struct h2 *s)
{
    if (s->writing || s->dead || s->in_recv)
        return;
    s->wlen = 0;
    while (s->wlen < WRITE_CHUNK) {
        const uint8_t *d;
        ssize_t n = nghttp2_session_mem_send(s->ng, &d);
        if (n < 0) {
            httpd_h2_close(s->conn);
            return;
        }
        if (n == 0)
            break;
        if (s->wlen + (size_t)n > s->wcap) {
            size_t cap = s->wcap ? s->wcap : 16384;
            while (cap < s->wlen + (size_t)n)
                cap *= 2;
            unsigned char *b = realloc(s->wbuf, cap);
            if (!b) {
                httpd_h2_close(s->conn);
                return;
            }
            account(s, (ptrdiff_t)(cap - s->wcap));
            s->wbuf = b;
            s->wcap = cap;
        }
        memcpy(s->wbuf + s->wlen, d, (size_t)n);
        s->wlen += (size_t)n;
    }
    if (s->wlen == 0) {
        if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng))
            httpd_h2_close(s->conn); /* GOAWAY sent and nothing left */
        else
            watch(s);
        return;
    }
    uv_buf_t b = uv_buf_init((char *)s->wbuf, (unsigned)s->wlen);
    s->wreq.data = s;
    s->writing = 1;
    watch(s);
    if (uv_write(&s->wreq, s->tcp, &b, 1, written)) {
        s->writing = 0;
        httpd_h2_close(s->conn);
    }
}

int h2_feed(struct h2 *s, const char *p, size_t n)
{
    s->in_recv = 1;
    ssize_t rc = nghttp2_session_mem_recv(s->ng, (const uint8_t *)p, n);
    s->in_recv = 0;
    if (rc < 0) {
        /* nghttp2 has queued a GOAWAY for most errors: try to send it. */
        pump(s);
        return -EPROTO;
    }
    pump(s);
    return 0;
}

void h2_done(struct sim_req *r)
{
    struct stream *st = (struct stream *)((char *)r - offsetof(struct stream, req));
    struct h2 *s = st->s;
    st->in_model = 0;
    s->in_model--;
    if (s->dead) {
        if (s->in_model == 0)
            h2_destroy(s);
        return;
    }
    if (st->id == 0) {
        stream_give(st);
        return;
    }
    answer(st);
    pump(s);
}

int h2_create(struct h2 **out, struct h2_env *env, uv_stream_t *tcp, void *conn,
              int64_t *deadline_ms)
{
    struct h2 *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->env = env;
    s->tcp = tcp;
    s->conn = conn;
    s->deadline_ms = deadline_ms;
    s->replica = sim_assign(env->sim);
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb)) {
        free(s);
        return -ENOMEM;
    }
    if (nghttp2_option_new(&opt)) {
        nghttp2_session_callbacks_del(cb);
        free(s);
        return -ENOMEM;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    /* CONTINUATION floods (CVE-2024-28182): a header block in at most 8 frames. */
    nghttp2_option_set_max_continuations(opt, 8);
    int rc = nghttp2_session_server_new2(&s->ng, cb, s, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (rc) {
        free(s);
        return -ENOMEM;
    }
    nghttp2_settings_entry set[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 16384},
    };
    if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, set, sizeof set / sizeof set[0]) ||
        nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, 16 * WINDOW)) {
        nghttp2_session_del(s->ng);
        free(s);
        return -ENOMEM;
    }
    account(s, sizeof *s);
    *out = s;
    return 0;
}

static void free_all(struct h2 *s)
{
    for (struct stream *st = s->all, *next; st; st = next) {
        next = st->next_all;
        grpc_reader_free(&st->rd);
        free(st->own);
        free(st);
    }
    free(s->wbuf);
    *s->env->mem -= s->mem;
    free(s);
}

void h2_destroy(struct h2 *s)
{
    if (!s)
        return;
    struct h2_env *env = s->env;
    if (!s->dead) {
        s->dead = 1;
        nghttp2_session_del(s->ng);
        s->ng = NULL;
        if (s->in_model) {
            s->next_zombie = env->zombies;
            env->zombies = s;
            return;
        }
    } else {
        /* the last stream came back: unlink from the zombies */
        for (struct h2 **pp = &env->zombies; *pp; pp = &(*pp)->next_zombie)
            if (*pp == s) {
                *pp = s->next_zombie;
                break;
            }
    }
    free_all(s);
}

int h2_env_init(struct h2_env *env, struct httpd *httpd, uv_loop_t *loop, struct sim *sim,
                const struct httpd_limits *lim, struct httpd_stats *st, uint64_t *mem,
                const char *model, unsigned px, unsigned max_images, unsigned fail_status)
{
    *env = (struct h2_env){.httpd = httpd, .loop = loop, .sim = sim, .lim = lim, .st = st,
                           .mem = mem, .max_images = max_images};
    model_init(&env->model, model, px);
    env->fail_code = fail_status == 429   ? GRPC_RESOURCE_EXHAUSTED
                     : fail_status == 500 ? GRPC_INTERNAL
                     : fail_status == 503 ? GRPC_UNAVAILABLE
                                          : GRPC_UNKNOWN;
    /* protobuf-c may spend several times a message's size on its structs:
     * the arena stops a request at 4x --max-body plus 1 MB. */
    uint64_t limit = lim->max_body * 4 + (1u << 20);
    grpc_arena_init(&env->arena, limit > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)limit);

    Inference__ServerLiveResponse live = INFERENCE__SERVER_LIVE_RESPONSE__INIT;
    Inference__ServerReadyResponse ready = INFERENCE__SERVER_READY_RESPONSE__INIT;
    Inference__ModelReadyResponse mready = INFERENCE__MODEL_READY_RESPONSE__INIT;
    Inference__ServerMetadataResponse smeta = INFERENCE__SERVER_METADATA_RESPONSE__INIT;
    Inference__ModelMetadataResponse mmeta = INFERENCE__MODEL_METADATA_RESPONSE__INIT;
    Inference__ModelMetadataResponse__TensorMetadata in =
        INFERENCE__MODEL_METADATA_RESPONSE__TENSOR_METADATA__INIT,
        outp = INFERENCE__MODEL_METADATA_RESPONSE__TENSOR_METADATA__INIT, *ip = &in, *op = &outp;
    int64_t in_shape[4] = {-1, env->model.px, env->model.px, 3}, out_shape[2] = {-1, MODEL_CLASSES};
    char *versions[1] = {MODEL_VERSION};
    live.live = ready.ready = mready.ready = 1;
    smeta.name = "loadgen serve";
    smeta.version = LOADGEN_VERSION;
    in.name = MODEL_INPUT;
    in.datatype = MODEL_DATATYPE;
    in.n_shape = 4;
    in.shape = in_shape;
    outp.name = MODEL_OUTPUT;
    outp.datatype = MODEL_DATATYPE;
    outp.n_shape = 2;
    outp.shape = out_shape;
    mmeta.name = env->model.name;
    mmeta.n_versions = 1;
    mmeta.versions = versions;
    mmeta.platform = MODEL_PLATFORM;
    mmeta.n_inputs = mmeta.n_outputs = 1;
    mmeta.inputs = &ip;
    mmeta.outputs = &op;
    const ProtobufCMessage *msgs[C_COUNT] = {[C_LIVE] = &live.base, [C_READY] = &ready.base,
                                              [C_SMETA] = &smeta.base, [C_MREADY] = &mready.base,
                                              [C_MMETA] = &mmeta.base};
    for (int i = C_LIVE; i < C_COUNT; i++) {
        size_t n = protobuf_c_message_get_packed_size(msgs[i]);
        if (!(env->canned[i] = malloc(GRPC_PREFIX + n)))
            return -ENOMEM;
        grpc_prefix(env->canned[i], (uint32_t)n);
        protobuf_c_message_pack(msgs[i], env->canned[i] + GRPC_PREFIX);
        env->canned_len[i] = GRPC_PREFIX + n;
    }
    return 0;
}

void h2_env_free(struct h2_env *env)
{
    while (env->zombies) {
        struct h2 *s = env->zombies;
        env->zombies = s->next_zombie;
        free_all(s);
    }
    grpc_arena_free(&env->arena);
    free(env->probs);
    for (int i = C_LIVE; i < C_COUNT; i++)
        free(env->canned[i]);
}
