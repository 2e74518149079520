/*
 * payload.c: corpus + format -> every request body and its headers, encoded
 * once before the first request.
 *
 * Every body and header string lives in one arena allocation, sized exactly
 * by a first pass that runs the same emit code with nowhere to write (so the
 * sizes and the bytes cannot disagree) and filled by a second pass. Memory is
 * therefore the encoded size plus a few shared header strings, and the corpus
 * may be destroyed as soon as payload_build returns.
 *
 * Batching (--batch K): payload p carries images p*K .. p*K+K-1, wrapping
 * around the corpus. How each format carries K images:
 *   json-b64          {"input": ["<b64>", "<b64>"]}, or a --json-template
 *                     whose "{{b64}}" sits in a list: it expands to
 *                     "<b64>", "<b64>" (the template's own quotes around the
 *                     outer two);
 *   multipart         K parts, all named --field (as an HTML
 *                     <input type=file multiple> sends them);
 *   tfserving         K instances;
 *   kserve-v2[-binary] one BYTES input of shape [K];
 *   raw               one image per request: --batch > 1 is refused.
 *
 * Tensors (opt->tensors): payload p carries samples p*K .. p*K+K-1 of the
 * set the same way, each input's K samples back to back under one shape
 * whose batch dimension says K. JSON numbers are written in the shortest
 * form that reads back to the same value (a tensor made from images holds
 * at most 768 distinct values, so a small cache of their text makes the
 * JSON bodies a copy rather than a printf per element).
 *
 * Threading: built once on the main thread; read-only afterwards and shared
 * by every engine thread without locks.
 */
#include "payload.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "common.h"
#include "fileio.h"
#include "grpc.h"

#define B64_MARK "{{b64}}"
#define CT "Content-Type: "
#define CT_JSON CT "application/json"
#define CT_OCTET CT "application/octet-stream"
#define V2_HEADER_LEN "Inference-Header-Content-Length: "

static const struct {
    const char *name;
    enum payload_format format;
} formats[] = {
    {"json-b64", PAYLOAD_JSON_B64},
    {"raw", PAYLOAD_RAW},
    {"multipart", PAYLOAD_MULTIPART},
    {"tfserving", PAYLOAD_TFSERVING},
    {"kserve-v2", PAYLOAD_KSERVE_V2},
    {"kserve-v2-binary", PAYLOAD_KSERVE_V2_BINARY},
    {"file", PAYLOAD_FILE},
    {"none", PAYLOAD_NONE},
    {"kserve-grpc", PAYLOAD_KSERVE_GRPC},
    {"tfserving-grpc", PAYLOAD_TFSERVING_GRPC},
    {"kserve-v1", PAYLOAD_TFSERVING}, /* alias: the same request shape */
};

int payload_parse_format(const char *s, enum payload_format *out)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(s, formats[i].name) == 0) {
            *out = formats[i].format;
            return 0;
        }
    return -EINVAL;
}

const char *payload_format_name(enum payload_format f)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].format == f)
            return formats[i].name;
    return "unknown";
}

const char *payload_grpc_path(enum payload_format f)
{
    return f == PAYLOAD_KSERVE_GRPC      ? "/inference.GRPCInferenceService/ModelInfer"
           : f == PAYLOAD_TFSERVING_GRPC ? "/tensorflow.serving.PredictionService/Predict"
                                         : NULL;
}

/* ---- writer: measures when p is NULL, writes otherwise -------------------- */

struct out {
    char *p; /* destination, or NULL to only count */
    size_t n; /* bytes emitted so far */
};

static void put(struct out *o, const void *s, size_t len)
{
    if (o->p)
        memcpy(o->p + o->n, s, len);
    o->n += len;
}

static void put_str(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void put_num(struct out *o, size_t v)
{
    char buf[24];
    put(o, buf, (size_t)snprintf(buf, sizeof buf, "%zu", v));
}

static void put_b64(struct out *o, const struct corpus_item *it)
{
    if (o->p)
        base64_encode(it->data, it->len, o->p + o->n);
    o->n += base64_encoded_len(it->len);
}

static void put_u32le(struct out *o, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(o, b, sizeof b);
}

/* The inside of a JSON string: quote, backslash and control characters
 * escaped; other bytes (UTF-8 included) as they are. */
static void put_json_text(struct out *o, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            put(o, esc, 2);
        } else if (ch < 0x20) {
            char esc[8];
            put(o, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", ch));
        } else {
            put(o, s, 1);
        }
    }
}

/* A quoted value in a Content-Disposition header: ", CR and LF
 * percent-encoded, as browsers do (HTML's multipart/form-data algorithm). */
static void put_disposition_text(struct out *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '"')
            put_str(o, "%22");
        else if (*s == '\r')
            put_str(o, "%0D");
        else if (*s == '\n')
            put_str(o, "%0A");
        else
            put(o, s, 1);
    }
}

/* ---- one body per format ---------------------------------------------------- */

#define BOUNDARY_LEN 24 /* "loadgen-" + 16 hex digits */

struct numcache;

struct build {
    const struct corpus *c;
    const struct payload_options *opt;
    unsigned batch;
    const struct tensor_set *ts;     /* tensors instead of images, or NULL */
    struct numcache *cache;          /* tensors: the text of numbers seen */
    /* json-b64: the template split around its one "{{b64}}" */
    const char *head, *tail;
    size_t head_len;
    char boundary[BOUNDARY_LEN + 1]; /* multipart */
};

static const struct corpus_item *image(const struct build *b, size_t first, unsigned j)
{
    return &b->c->items[(first + j) % b->c->count];
}

static size_t binary_data_size(const struct build *b, size_t first)
{
    size_t n = 0;
    for (unsigned j = 0; j < b->batch; j++)
        n += 4 + image(b, first, j)->len;
    return n;
}

static void emit_tensor_body(const struct build *b, size_t first, struct out *o);
static void emit_tensor_binary_json(const struct build *b, size_t first, struct out *o);

/* The JSON part of a kserve-v2-binary body (its length goes in the
 * Inference-Header-Content-Length header). */
static void emit_v2_binary_json(const struct build *b, size_t first, struct out *o)
{
    if (b->ts) {
        emit_tensor_binary_json(b, first, o);
        return;
    }
    put_str(o, "{\"inputs\":[{\"name\":\"");
    put_json_text(o, b->opt->input_name);
    put_str(o, "\",\"shape\":[");
    put_num(o, b->batch);
    put_str(o, "],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":");
    put_num(o, binary_data_size(b, first));
    put_str(o, "}}]}");
}

static void emit_body(const struct build *b, size_t first, struct out *o)
{
    const struct payload_options *opt = b->opt;
    if (b->ts) {
        emit_tensor_body(b, first, o);
        return;
    }
    switch (opt->format) {
    case PAYLOAD_JSON_B64:
        put(o, b->head, b->head_len);
        for (unsigned j = 0; j < b->batch; j++) {
            if (j)
                put_str(o, "\", \"");
            put_b64(o, image(b, first, j));
        }
        put_str(o, b->tail);
        break;
    case PAYLOAD_RAW:
        put(o, image(b, first, 0)->data, image(b, first, 0)->len);
        break;
    case PAYLOAD_MULTIPART:
        for (unsigned j = 0; j < b->batch; j++) {
            const struct corpus_item *it = image(b, first, j);
            const char *slash = strrchr(it->name, '/');
            put_str(o, "--");
            put_str(o, b->boundary);
            put_str(o, "\r\nContent-Disposition: form-data; name=\"");
            put_disposition_text(o, opt->field);
            put_str(o, "\"; filename=\"");
            put_disposition_text(o, slash ? slash + 1 : it->name);
            put_str(o, "\"\r\n" CT);
            put_str(o, corpus_mime(it->kind));
            put_str(o, "\r\n\r\n");
            put(o, it->data, it->len);
            put_str(o, "\r\n");
        }
        put_str(o, "--");
        put_str(o, b->boundary);
        put_str(o, "--\r\n");
        break;
    case PAYLOAD_TFSERVING:
        put_str(o, "{\"instances\": [");
        for (unsigned j = 0; j < b->batch; j++) {
            put_str(o, j ? ", {\"b64\": \"" : "{\"b64\": \"");
            put_b64(o, image(b, first, j));
            put_str(o, "\"}");
        }
        put_str(o, "]}");
        break;
    case PAYLOAD_KSERVE_V2:
        put_str(o, "{\"inputs\":[{\"name\":\"");
        put_json_text(o, opt->input_name);
        put_str(o, "\",\"shape\":[");
        put_num(o, b->batch);
        put_str(o, "],\"datatype\":\"BYTES\",\"data\":[");
        for (unsigned j = 0; j < b->batch; j++) {
            put_str(o, j ? ",\"" : "\"");
            put_b64(o, image(b, first, j));
            put_str(o, "\"");
        }
        put_str(o, "]}]}");
        break;
    case PAYLOAD_KSERVE_V2_BINARY:
        emit_v2_binary_json(b, first, o);
        for (unsigned j = 0; j < b->batch; j++) {
            const struct corpus_item *it = image(b, first, j);
            put_u32le(o, (uint32_t)it->len);
            put(o, it->data, it->len);
        }
        break;
    case PAYLOAD_FILE:
    case PAYLOAD_NONE:
    case PAYLOAD_KSERVE_GRPC:
    case PAYLOAD_TFSERVING_GRPC:
        break; /* built by build_file, payload_build, build_grpc */
    }
}

/* Headers shared by every body of the set (headers[0]); the raw format has
 * one per image kind unless --content-type overrides it. */
static void emit_shared_headers(const struct build *b, struct out *o, size_t at[2])
{
    const struct payload_options *opt = b->opt;
    at[0] = o->n;
    switch (opt->format) {
    case PAYLOAD_RAW:
        put_str(o, CT);
        put_str(o, opt->content_type ? opt->content_type : corpus_mime(CORPUS_JPEG));
        put(o, "", 1);
        at[1] = o->n;
        put_str(o, CT);
        put_str(o, opt->content_type ? opt->content_type : corpus_mime(CORPUS_PNG));
        break;
    case PAYLOAD_MULTIPART:
        put_str(o, CT "multipart/form-data; boundary=");
        put_str(o, b->boundary);
        break;
    case PAYLOAD_KSERVE_V2_BINARY:
        put_str(o, CT_OCTET);
        break;
    default:
        put_str(o, CT_JSON);
        break;
    }
    put(o, "", 1);
}

/* The one per-body header: kserve-v2-binary's JSON length. */
static void emit_body_header(const struct build *b, size_t first, struct out *o)
{
    struct out json = {NULL, 0};
    emit_v2_binary_json(b, first, &json);
    put_str(o, V2_HEADER_LEN);
    put_num(o, json.n);
    put(o, "", 1);
}

/* ---- tensors ------------------------------------------------------------------ */

/* The text of float values already written: a tensor from images has at
 * most 3 x 256 distinct values, so nearly every element is a lookup. Open
 * addressing over 4x more slots than that; a value that finds no slot
 * within a few probes takes its home slot's place. */
#define NUMCACHE_SLOTS 16384 /* a power of two */
#define NUMCACHE_PROBES 8
struct numcache {
    struct {
        uint64_t bits;
        unsigned char dtype;          /* 0: empty */
        unsigned char len;
        char text[30];
    } slot[NUMCACHE_SLOTS];
    size_t bad;                       /* first sample with NaN or infinity, or SIZE_MAX */
};

static uint64_t load_le(const unsigned char *p, size_t n)
{
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++)
        u |= (uint64_t)p[i] << (8 * i);
    return u;
}

static int is_finite_bits(enum tensor_dtype d, uint64_t bits)
{
    if (d == TENSOR_FP16)
        return (bits & 0x7c00) != 0x7c00;
    if (d == TENSOR_FP32)
        return (bits & 0x7f800000) != 0x7f800000;
    return (bits & 0x7ff0000000000000ull) != 0x7ff0000000000000ull;
}

/* The shortest %g text that reads back to the same value of type d. */
static size_t shortest_text(enum tensor_dtype d, uint64_t bits, char *buf, size_t len)
{
    int n = 0;
    for (int p = 1; p <= 17; p++) {
        if (d == TENSOR_FP16) {
            n = snprintf(buf, len, "%.*g", p, (double)tensor_fp16_to_float((uint16_t)bits));
            if (tensor_fp16_from_float(strtof(buf, NULL)) == bits)
                break;
        } else if (d == TENSOR_FP32) {
            uint32_t w = (uint32_t)bits, back;
            float f, g;
            memcpy(&f, &w, sizeof f);
            n = snprintf(buf, len, "%.*g", p, (double)f);
            g = strtof(buf, NULL);
            memcpy(&back, &g, sizeof back);
            if (back == w)
                break;
        } else {
            double v, g;
            uint64_t back;
            memcpy(&v, &bits, sizeof v);
            n = snprintf(buf, len, "%.*g", p, v);
            g = strtod(buf, NULL);
            memcpy(&back, &g, sizeof back);
            if (back == bits)
                break;
        }
    }
    return (size_t)n;
}

/* The text of a float value of type d, from the cache; NULL (and the
 * sample noted) for NaN or infinity, which JSON cannot write. */
static inline const char *float_text(struct numcache *c, enum tensor_dtype d, uint64_t bits,
                                     size_t sample, size_t *len)
{
    if (!is_finite_bits(d, bits)) {
        if (c->bad == SIZE_MAX)
            c->bad = sample;
        return NULL;
    }
    size_t home = (size_t)((bits * 0x9E3779B97F4A7C15ull) >> 40) & (NUMCACHE_SLOTS - 1), h = home;
    for (int i = 0; i < NUMCACHE_PROBES; i++, h = (h + 1) & (NUMCACHE_SLOTS - 1)) {
        if (c->slot[h].dtype == d && c->slot[h].bits == bits)
            break;
        if (c->slot[h].dtype == 0 || i == NUMCACHE_PROBES - 1) {
            h = c->slot[h].dtype == 0 ? h : home;
            c->slot[h].len = (unsigned char)shortest_text(d, bits, c->slot[h].text,
                                                          sizeof c->slot[h].text);
            c->slot[h].bits = bits;
            c->slot[h].dtype = (unsigned char)d;
            break;
        }
    }
    *len = c->slot[h].len;
    return c->slot[h].text;
}

static void put_float(struct numcache *c, enum tensor_dtype d, uint64_t bits, size_t sample,
                      struct out *o)
{
    size_t len;
    const char *text = float_text(c, d, bits, sample, &len);
    if (text)
        put(o, text, len);
    else
        put_str(o, "0"); /* refused after the sizing pass */
}

static void put_int(struct out *o, uint64_t u, int neg)
{
    char buf[24], *p = buf + sizeof buf;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (neg)
        *--p = '-';
    put(o, p, (size_t)(buf + sizeof buf - p));
}

/* A JSON string of n bytes: as put_json_text, by length. */
static void put_json_bytes(struct out *o, const unsigned char *s, size_t n)
{
    put_str(o, "\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            char esc[2] = {'\\', (char)s[i]};
            put(o, esc, 2);
        } else if (s[i] < 0x20) {
            char esc[8];
            put(o, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", s[i]));
        } else {
            put(o, s + i, 1);
        }
    }
    put_str(o, "\"");
}

/* One element at p as JSON; returns the next element. BYTES elements are
 * strings in kserve-v2, {"b64": ...} in tfserving (TF Serving's binary). */
static const unsigned char *put_element(const struct build *b, enum tensor_dtype d,
                                        const unsigned char *p, size_t sample, struct out *o)
{
    size_t sz = tensor_dtype_size(d);
    uint64_t u = load_le(p, sz);
    switch (d) {
    case TENSOR_BYTES: {
        size_t n = (size_t)load_le(p, 4);
        if (b->opt->format == PAYLOAD_TFSERVING) {
            put_str(o, "{\"b64\":\"");
            if (o->p)
                base64_encode(p + 4, n, o->p + o->n);
            o->n += base64_encoded_len(n);
            put_str(o, "\"}");
        } else {
            put_json_bytes(o, p + 4, n);
        }
        return p + 4 + n;
    }
    case TENSOR_BOOL:
        put_str(o, u ? "true" : "false");
        break;
    case TENSOR_FP16: case TENSOR_FP32: case TENSOR_FP64:
        put_float(b->cache, d, u, sample, o);
        break;
    case TENSOR_INT8: case TENSOR_INT16: case TENSOR_INT32: case TENSOR_INT64: {
        /* sign-extend from the top bit of its size */
        uint64_t sign = 1ull << (8 * sz - 1);
        int64_t v = (int64_t)((u ^ sign) - sign);
        put_int(o, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0);
        break;
    }
    default:
        put_int(o, u, 0);
        break;
    }
    return p + sz;
}

/* A tensor's elements as a run of JSON numbers, each after a comma but
 * for the body's very first. FP32, the common case of a tensor made from
 * images, has a loop of its own: a cache lookup and a copy per element. */
static void put_data(const struct build *b, const struct tensor *t, size_t sample, int first,
                     struct out *o)
{
    const unsigned char *p = t->data;
    if (t->dtype != TENSOR_FP32) {
        for (size_t e = 0; e < t->elements; e++) {
            if (e || !first)
                put(o, ",", 1);
            p = put_element(b, t->dtype, p, sample, o);
        }
        return;
    }
    for (size_t e = 0; e < t->elements; e++, p += 4) {
        uint32_t w = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        size_t len, comma = e || !first;
        const char *text = float_text(b->cache, TENSOR_FP32, w, sample, &len);
        if (!text) {
            text = "0"; /* refused after the sizing pass */
            len = 1;
        }
        if (o->p && comma)
            o->p[o->n] = ',';
        if (o->p)
            memcpy(o->p + o->n + comma, text, len);
        o->n += comma + len;
    }
}

/* Sample j of the body that starts at sample `first`, input k. */
static const struct tensor *sample_tensor(const struct build *b, size_t first, unsigned j, size_t k)
{
    return tensor_at(b->ts, (first + j) % b->ts->count, k);
}

static void put_shape(const struct build *b, const struct tensor *t, struct out *o)
{
    put_str(o, "[");
    for (unsigned i = 0; i < t->ndims; i++) {
        if (i)
            put_str(o, ",");
        put_num(o, i == 0 && b->ts->batch_dim ? b->batch : (size_t)t->shape[i]);
    }
    put_str(o, "]");
}

static void put_input_head(const struct build *b, const struct tensor *t, struct out *o)
{
    put_str(o, "{\"name\":\"");
    put_json_text(o, t->name);
    put_str(o, "\",\"shape\":");
    put_shape(b, t, o);
    put_str(o, ",\"datatype\":\"");
    put_str(o, tensor_dtype_name(t->dtype));
    put_str(o, "\"");
}

/* Dimensions dim.. of t as nested lists, from p; returns past them. */
static const unsigned char *put_nested(const struct build *b, const struct tensor *t, unsigned dim,
                                       const unsigned char *p, size_t sample, struct out *o)
{
    if (dim == t->ndims)
        return put_element(b, t->dtype, p, sample, o);
    put_str(o, "[");
    for (int64_t i = 0; i < t->shape[dim]; i++) {
        if (i)
            put_str(o, ",");
        p = put_nested(b, t, dim + 1, p, sample, o);
    }
    put_str(o, "]");
    return p;
}

/* tfserving: one instance (a sample without its batch dimension), or
 * with no batch dimension the whole tensor; {"NAME": ...} per input when
 * the model has several. */
static void put_tf_value(const struct build *b, size_t first, unsigned j, struct out *o)
{
    size_t n = b->ts->ninputs, sample = (first + j) % b->ts->count;
    if (n > 1)
        put_str(o, "{");
    for (size_t k = 0; k < n; k++) {
        const struct tensor *t = sample_tensor(b, first, j, k);
        if (n > 1) {
            put_str(o, k ? ",\"" : "\"");
            put_json_text(o, t->name);
            put_str(o, "\":");
        }
        put_nested(b, t, b->ts->batch_dim ? 1 : 0, t->data, sample, o);
    }
    if (n > 1)
        put_str(o, "}");
}

static void emit_tensor_binary_json(const struct build *b, size_t first, struct out *o)
{
    put_str(o, "{\"inputs\":[");
    for (size_t k = 0; k < b->ts->ninputs; k++) {
        size_t size = 0;
        for (unsigned j = 0; j < b->batch; j++)
            size += sample_tensor(b, first, j, k)->len;
        put_str(o, k ? "," : "");
        put_input_head(b, sample_tensor(b, first, 0, k), o);
        put_str(o, ",\"parameters\":{\"binary_data_size\":");
        put_num(o, size);
        put_str(o, "}}");
    }
    put_str(o, "]}");
}

static void emit_tensor_body(const struct build *b, size_t first, struct out *o)
{
    size_t n = b->ts->ninputs;
    switch (b->opt->format) {
    case PAYLOAD_KSERVE_V2:
        put_str(o, "{\"inputs\":[");
        for (size_t k = 0; k < n; k++) {
            put_str(o, k ? "," : "");
            put_input_head(b, sample_tensor(b, first, 0, k), o);
            put_str(o, ",\"data\":[");
            for (unsigned j = 0; j < b->batch; j++) {
                const struct tensor *t = sample_tensor(b, first, j, k);
                put_data(b, t, (first + j) % b->ts->count, j == 0, o);
            }
            put_str(o, "]}");
        }
        put_str(o, "]}");
        break;
    case PAYLOAD_KSERVE_V2_BINARY:
        emit_tensor_binary_json(b, first, o);
        for (size_t k = 0; k < n; k++)
            for (unsigned j = 0; j < b->batch; j++)
                put(o, sample_tensor(b, first, j, k)->data, sample_tensor(b, first, j, k)->len);
        break;
    default: /* PAYLOAD_TFSERVING: check_tensors allows no other */
        if (b->ts->batch_dim) {
            put_str(o, "{\"instances\":[");
            for (unsigned j = 0; j < b->batch; j++) {
                put_str(o, j ? "," : "");
                put_tf_value(b, first, j, o);
            }
            put_str(o, "]}");
        } else {
            put_str(o, "{\"inputs\":");
            put_tf_value(b, first, 0, o);
            put_str(o, "}");
        }
        break;
    }
}

/* The set against the format and --batch: every body's K samples must
 * share each input's shape. */
static int check_tensors(const struct build *b, char *err)
{
    const struct tensor_set *ts = b->ts;
    enum payload_format f = b->opt->format;
    char s0[160], s1[160];
    if (f != PAYLOAD_KSERVE_V2 && f != PAYLOAD_KSERVE_V2_BINARY && f != PAYLOAD_TFSERVING &&
        !payload_grpc_path(f))
        return lg_err(err, -EINVAL, "--format %s sends encoded images; tensors (--datatype, --shape, "
                      "--input-data) go in kserve-v2, kserve-v2-binary, tfserving, kserve-grpc "
                      "or tfserving-grpc", payload_format_name(f));
    if (ts->count == 0 || ts->ninputs == 0)
        return lg_err(err, -EINVAL, "no tensors to send");
    if (payload_grpc_path(f) && ts->ninputs > 1)
        return lg_err(err, -EINVAL, "--format %s: the model has %zu inputs; loadgen's gRPC messages carry "
                      "one; use kserve-v2-binary for several", payload_format_name(f), ts->ninputs);
    if (b->batch > 1 && !ts->batch_dim)
        return lg_err(err, -EINVAL, "--batch %u: input %s's shape %s has no batch dimension (-1 or 1 "
                      "first); give --shape -1,... or --batch 1", b->batch, ts->t[0].name,
                      tensor_shape_text(ts->t[0].shape, ts->t[0].ndims, s0, sizeof s0));
    size_t bodies = (ts->count + b->batch - 1) / b->batch;
    for (size_t i = 0; i < bodies && b->batch > 1; i++)
        for (unsigned j = 1; j < b->batch; j++)
            for (size_t k = 0; k < ts->ninputs; k++) {
                const struct tensor *a = sample_tensor(b, i * b->batch, 0, k);
                const struct tensor *c = sample_tensor(b, i * b->batch, j, k);
                if (a->ndims != c->ndims || memcmp(a->shape, c->shape, a->ndims * sizeof *a->shape))
                    return lg_err(err, -EINVAL, "--batch %u: entries %zu and %zu of input %s have shapes "
                                  "%s and %s; a batch needs one shape", b->batch,
                                  i * b->batch % ts->count, (i * b->batch + j) % ts->count, a->name,
                                  tensor_shape_text(a->shape, a->ndims, s0, sizeof s0),
                                  tensor_shape_text(c->shape, c->ndims, s1, sizeof s1));
            }
    return 0;
}

/* ---- checks before encoding --------------------------------------------------- */

static size_t count_marks(const char *s)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, B64_MARK)); p += strlen(B64_MARK))
        n++;
    return n;
}

/* json-b64 without --json-template is the template {"KEY": "{{b64}}"} (or
 * {"KEY": ["{{b64}}"]} for a batch): one code path for both. */
static void emit_flat_template(const struct build *b, struct out *o)
{
    put_str(o, "{\"");
    put_json_text(o, b->opt->input_key);
    put_str(o, b->batch > 1 ? "\": [\"" B64_MARK "\"]}" : "\": \"" B64_MARK "\"}");
    put(o, "", 1);
}

/* Splits the template around its one placeholder. *owned is the built
 * flat template, if any, freed by the caller. */
static int prepare_template(struct build *b, char **owned, char *err)
{
    const char *t = b->opt->json_template;
    if (!t) {
        struct out o = {NULL, 0};
        emit_flat_template(b, &o);
        if (!(*owned = malloc(o.n)))
            return lg_err(err, -ENOMEM, "out of memory building the JSON template");
        o = (struct out){*owned, 0};
        emit_flat_template(b, &o);
        t = *owned;
    }
    size_t n = count_marks(t);
    if (n != 1 && !b->opt->json_template)
        return lg_err(err, -EINVAL, "--input-key '%s': contains " B64_MARK "; choose another key",
                      b->opt->input_key);
    if (n == 0)
        return lg_err(err, -EINVAL, "--json-template '%s': no " B64_MARK " placeholder; put it where the "
                      "base64 image goes, e.g. {\"input\": {\"image\": \"" B64_MARK "\"}}", t);
    if (n > 1)
        return lg_err(err, -EINVAL, "--json-template '%s': %zu " B64_MARK " placeholders; use exactly one "
                      "(with --batch K it expands to K images)", t, n);
    const char *mark = strstr(t, B64_MARK);
    b->head = t;
    b->head_len = (size_t)(mark - t);
    b->tail = mark + strlen(B64_MARK);
    return 0;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

/* A boundary found in no image, file name or field name. The candidates are a
 * fixed sequence, so the bytes are the same on every run (and the golden
 * test holds); the first one is taken unless an image happens to contain
 * it, which at 64 random bits never happens by chance. */
static int pick_boundary(struct build *b, char *err)
{
    for (uint64_t attempt = 0; attempt < 16; attempt++) {
        snprintf(b->boundary, sizeof b->boundary, "loadgen-%016llx",
                 (unsigned long long)splitmix64(attempt));
        int clash = strstr(b->opt->field, b->boundary) != NULL;
        for (size_t i = 0; i < b->c->count && !clash; i++) {
            const struct corpus_item *it = &b->c->items[i];
            clash = memmem(it->data, it->len, b->boundary, BOUNDARY_LEN) != NULL ||
                    strstr(it->name, b->boundary) != NULL;
        }
        if (!clash)
            return 0;
    }
    return lg_err(err, -EINVAL, "--format multipart: every candidate boundary occurs in the images; "
                  "use --format raw or another format");
}

static int check_options(struct build *b, char *err)
{
    const struct payload_options *opt = b->opt;
    const struct corpus *c = b->c;
    if (!c || c->count == 0)
        return lg_err(err, -EINVAL, "--format %s: no images to encode; give --images DIR or --synthetic N",
                      payload_format_name(opt->format));
    if (opt->format == PAYLOAD_RAW && b->batch > 1)
        return lg_err(err, -EINVAL, "--batch %u: format raw sends one image per request; use multipart, "
                      "tfserving, kserve-v2 or kserve-v2-binary", b->batch);
    if (opt->content_type && strpbrk(opt->content_type, "\r\n"))
        return lg_err(err, -EINVAL, "--content-type: contains a line break; give one media type, e.g. image/jpeg");
    if (opt->format == PAYLOAD_KSERVE_V2_BINARY || payload_grpc_path(opt->format))
        for (size_t i = 0; i < c->count; i++)
            if (c->items[i].len > UINT32_MAX)
                return lg_err(err, -EINVAL, "--format %s: %s is %zu bytes, above the 4 GiB a "
                              "BYTES element can hold; use smaller images",
                              payload_format_name(opt->format), c->items[i].name,
                              c->items[i].len);
    if (opt->format == PAYLOAD_MULTIPART)
        return pick_boundary(b, err);
    return 0;
}

/* JSON formats: parse the first body once, so a template that breaks JSON
 * (or a batch around a placeholder outside a list) fails before the run. */
static int check_json(const struct build *b, const struct payload *p, char *err)
{
    const struct payload_options *opt = b->opt;
    size_t len = p->len;
    if (opt->format == PAYLOAD_KSERVE_V2_BINARY) {
        struct out json = {NULL, 0};
        emit_v2_binary_json(b, 0, &json);
        len = json.n;
    } else if (opt->format == PAYLOAD_RAW || opt->format == PAYLOAD_MULTIPART) {
        return 0;
    }
    cJSON *doc = cJSON_ParseWithLength(p->body, len);
    if (doc) {
        cJSON_Delete(doc);
        return 0;
    }
    if (opt->format == PAYLOAD_JSON_B64 && opt->json_template && b->batch > 1)
        return lg_err(err, -EINVAL, "--json-template '%s' with --batch %u: not valid JSON once " B64_MARK
                      " holds %u images; put \"" B64_MARK "\" inside a list, e.g. "
                      "{\"images\": [\"" B64_MARK "\"]}", opt->json_template, b->batch, b->batch);
    if (opt->format == PAYLOAD_JSON_B64 && opt->json_template)
        return lg_err(err, -EINVAL, "--json-template '%s': not valid JSON once " B64_MARK " is replaced; "
                      "quote it (\"" B64_MARK "\") and check the braces", opt->json_template);
    return lg_err(err, -EINVAL, "--format %s: the encoded body is not valid JSON (a bug: please report it)",
                  payload_format_name(opt->format));
}

/* ---- building the set ------------------------------------------------------------ */

static struct payload_set *new_set(size_t count, size_t arena_len)
{
    struct payload_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->items = calloc(count, sizeof *s->items);
    s->arena = malloc(arena_len ? arena_len : 1);
    if (!s->items || !s->arena) {
        payload_destroy(s);
        return NULL;
    }
    s->count = count;
    s->arena_len = s->bodies_len = arena_len;
    return s;
}

static int build_images(struct payload_set **out, struct build *b, char *err)
{
    const struct payload_options *opt = b->opt;
    size_t items = b->ts ? b->ts->count : b->c->count;
    size_t count = (items + b->batch - 1) / b->batch;
    int per_body_header = opt->format == PAYLOAD_KSERVE_V2_BINARY;

    /* Pass 1: sizes only. */
    struct out m = {NULL, 0};
    size_t at[2] = {0, 0};
    emit_shared_headers(b, &m, at);
    for (size_t i = 0; i < count; i++) {
        emit_body(b, i * b->batch, &m);
        if (per_body_header)
            emit_body_header(b, i * b->batch, &m);
    }

    /* Tensors in JSON are several times their raw size: refuse what cannot
     * fit in half the memory rather than swap. */
    double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (b->ts && ram > 0 && (double)m.n > ram / 2)
        return lg_err(err, -EINVAL, "--format %s: %zu bodies of tensors need %.1f GB, more than half of "
                      "this machine's %.1f GB; use fewer images or entries%s",
                      payload_format_name(opt->format), count, (double)m.n / 1e9, ram / 1e9,
                      opt->format == PAYLOAD_KSERVE_V2 ? ", or kserve-v2-binary" : "");
    if (b->ts && b->cache->bad != SIZE_MAX)
        return lg_err(err, -EINVAL, "--format %s: sample %zu holds NaN or infinity, which JSON cannot "
                      "write; use --format kserve-v2-binary", payload_format_name(opt->format),
                      b->cache->bad);
    struct payload_set *s = new_set(count, m.n);
    if (!s)
        return lg_err(err, -ENOMEM, "out of memory: %zu payloads need %zu MB; use fewer or smaller images",
                      count, m.n >> 20);

    /* Pass 2: the same calls, writing. */
    struct out w = {s->arena, 0};
    emit_shared_headers(b, &w, at);
    for (size_t i = 0; i < count; i++) {
        struct payload *p = &s->items[i];
        size_t start = w.n;
        emit_body(b, i * b->batch, &w);
        p->body = s->arena + start;
        p->len = w.n - start;
        p->images = b->batch;
        p->headers[0] = s->arena + at[0];
        if (opt->format == PAYLOAD_RAW && !opt->content_type && b->c->items[i].kind == CORPUS_PNG)
            p->headers[0] = s->arena + at[1];
        if (per_body_header) {
            p->headers[1] = s->arena + w.n;
            emit_body_header(b, i * b->batch, &w);
        }
        s->total_bytes += p->len;
    }
    int rc = check_json(b, &s->items[0], err);
    if (rc != 0) {
        payload_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---- gRPC ------------------------------------------------------------------------ */

#define GRPC_HEADERS CT "application/grpc\0te: trailers"

/* Body p's input, its K samples (or images) back to back in *buf (grown
 * as needed) unless one sample can be pointed at as it is. */
static int grpc_input(const struct build *b, size_t first, unsigned char **buf, size_t *cap,
                      struct grpc_tensor *gt, int64_t shape[TENSOR_MAX_DIMS])
{
    size_t need = 0;
    for (unsigned j = 0; j < b->batch; j++)
        need += b->ts ? sample_tensor(b, first, j, 0)->len : 4 + image(b, first, j)->len;
    if (need > *cap) {
        unsigned char *p = realloc(*buf, need);
        if (!p)
            return -ENOMEM;
        *buf = p;
        *cap = need;
    }
    if (b->ts) {
        const struct tensor *t = sample_tensor(b, first, 0, 0);
        memcpy(shape, t->shape, t->ndims * sizeof *shape);
        if (b->ts->batch_dim)
            shape[0] = b->batch;
        *gt = (struct grpc_tensor){t->name, tensor_dtype_name(t->dtype), shape, t->ndims,
                                   t->data, t->len};
        if (b->batch == 1)
            return 0;
    } else {
        shape[0] = b->batch;
        *gt = (struct grpc_tensor){b->opt->input_name, "BYTES", shape, 1, *buf, need};
    }
    struct out o = {(char *)*buf, 0};
    for (unsigned j = 0; j < b->batch; j++) {
        if (b->ts) {
            put(&o, sample_tensor(b, first, j, 0)->data, sample_tensor(b, first, j, 0)->len);
        } else {
            put_u32le(&o, (uint32_t)image(b, first, j)->len);
            put(&o, image(b, first, j)->data, image(b, first, j)->len);
        }
    }
    gt->data = *buf;
    gt->data_len = need;
    return 0;
}

/* Every body a framed message, packed by protobuf-c one at a time and then
 * copied into the arena. */
static int build_grpc(struct payload_set **out, const struct build *b, char *err)
{
    const struct payload_options *opt = b->opt;
    const char *fmt = payload_format_name(opt->format);
    int tf = opt->format == PAYLOAD_TFSERVING_GRPC;
    size_t items = b->ts ? b->ts->count : b->c->count;
    size_t count = (items + b->batch - 1) / b->batch, total = 0;
    unsigned char **msg = calloc(count, sizeof *msg), *buf = NULL;
    size_t *len = calloc(count, sizeof *len), cap = 0;
    struct payload_set *s = NULL;
    int rc = 0;
    if (!msg || !len) {
        rc = lg_err(err, -ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        struct grpc_tensor gt;
        int64_t shape[TENSOR_MAX_DIMS];
        int r = grpc_input(b, i * b->batch, &buf, &cap, &gt, shape);
        if (r == 0)
            r = tf ? grpc_predict_request_pack(opt->model, &gt, &msg[i], &len[i])
                   : grpc_infer_request_pack(opt->model, opt->model_version, &gt, &msg[i], &len[i]);
        if (r == -ENOMEM) {
            rc = lg_err(err, -EINVAL, "--format %s: out of memory for %zu messages; use fewer or "
                        "smaller images", fmt, count);
            goto fail;
        }
        if (r < 0) {
            rc = lg_err(err, -EINVAL, "--format %s: input %s of datatype %s cannot be put in the "
                        "message; %s", fmt, gt.name, gt.datatype,
                        tf ? "TF Serving knows no such type; use kserve-grpc"
                           : "check the tensor flags against the model");
            goto fail;
        }
        total += len[i];
    }
    size_t hlen = sizeof GRPC_HEADERS;
    if (!(s = new_set(count, hlen + total))) {
        rc = lg_err(err, -ENOMEM, "out of memory: %zu messages need %zu MB; use fewer or smaller images",
                    count, total >> 20);
        goto fail;
    }
    memcpy(s->arena, GRPC_HEADERS, hlen);
    size_t at = hlen;
    for (size_t i = 0; i < count; i++) {
        memcpy(s->arena + at, msg[i], len[i]);
        s->items[i] = (struct payload){s->arena + at, len[i], b->batch,
                                       {s->arena, s->arena + strlen(s->arena) + 1}};
        at += len[i];
        s->total_bytes += len[i];
    }
    *out = s;
fail:
    for (size_t i = 0; msg && i < count; i++)
        free(msg[i]);
    free(msg);
    free(len);
    free(buf);
    return rc;
}

/* A set of one body of `blen` bytes with its Content-Type; *body is where
 * the caller puts the bytes. */
static struct payload_set *single_set(const struct payload_options *opt, size_t blen,
                                      unsigned batch, char **body)
{
    const char *type = opt->content_type ? opt->content_type : "application/json";
    size_t hlen = strlen(CT) + strlen(type) + 1;
    struct payload_set *s = new_set(1, hlen + blen);
    if (!s)
        return NULL;
    snprintf(s->arena, hlen, CT "%s", type);
    *body = s->arena + hlen;
    s->items[0] = (struct payload){*body, blen, batch, {s->arena, NULL}};
    s->total_bytes = blen;
    return s;
}

static int build_file(struct payload_set **out, const struct payload_options *opt, unsigned batch,
                      char *err)
{
    const char *path = opt->body_file;
    char *body;
    if (opt->content_type && strpbrk(opt->content_type, "\r\n"))
        return lg_err(err, -EINVAL, "--content-type: contains a line break; give one media type, e.g. image/jpeg");
    if (opt->body_data) { /* -D TEXT: the body as given */
        size_t blen = strlen(opt->body_data);
        if (!(*out = single_set(opt, blen, batch, &body)))
            return lg_err(err, -ENOMEM, "out of memory");
        memcpy(body, opt->body_data, blen);
        return 0;
    }
    if (!path)
        return lg_err(err, -EINVAL, "--format file: no --body-file; give the file to send as the body");
    /* O_NONBLOCK: a FIFO with no writer must not block the open; the fstat
     * refuses it. A regular file ignores the flag. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return lg_err(err, -errno, "--body-file %s: cannot open (%s); give a readable file", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return lg_err(err, -e, "--body-file %s: cannot stat (%s); give a readable file", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lg_err(err, -EINVAL, "--body-file %s: not a regular file (%s); give the file whose bytes are "
                      "the body", path, fileio_type_name(st.st_mode));
    }
    /* Checked before a byte is allocated: a sparse 2 GB file costs nothing
     * on disk and 2 GB here. */
    if ((uint64_t)st.st_size > PAYLOAD_MAX_BODY_FILE_BYTES) {
        close(fd);
        return lg_err(err, -EINVAL, "--body-file %s: %lld bytes, over the limit of %u MiB; send a smaller body",
                      path, (long long)st.st_size, PAYLOAD_MAX_BODY_FILE_BYTES >> 20);
    }
    size_t blen = (size_t)st.st_size;
    struct payload_set *s = single_set(opt, blen, batch, &body);
    if (!s) {
        close(fd);
        return lg_err(err, -ENOMEM, "--body-file %s: out of memory for %zu MB; use a smaller body", path, blen >> 20);
    }
    size_t got = 0;
    ssize_t r = 1;
    while (got < blen && (r = read(fd, body + got, blen - got)) != 0) {
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0)
            got += (size_t)r;
    }
    int e = errno;
    close(fd);
    if (got < blen) {
        payload_destroy(s);
        return lg_err(err, r < 0 ? -e : -EIO, "--body-file %s: read %zu of %zu bytes (%s); is it changing?", path, got,
                      blen, r < 0 ? strerror(e) : "end of file");
    }
    *out = s;
    return 0;
}

int payload_build(struct payload_set **out, const struct corpus *c,
                  const struct payload_options *opt_in, char *err)
{
    *out = NULL;
    /* Defaults for unset options, so a zeroed struct is a valid request. */
    struct payload_options opt = *opt_in;
    if (!opt.input_key)
        opt.input_key = "input";
    if (!opt.field)
        opt.field = "data";
    if (!opt.input_name)
        opt.input_name = "INPUT";
    unsigned batch = opt.batch ? opt.batch : 1;

    if (opt.format == PAYLOAD_FILE)
        return build_file(out, &opt, batch, err);
    if (opt.format == PAYLOAD_NONE) {
        struct payload_set *s = new_set(1, 0);
        if (!s)
            return lg_err(err, -ENOMEM, "out of memory");
        s->items[0] = (struct payload){s->arena, 0, batch, {NULL, NULL}};
        *out = s;
        return 0;
    }

    struct build b = {.c = c, .opt = &opt, .batch = batch, .ts = opt.tensors};
    char *owned = NULL;
    if (payload_grpc_path(opt.format)) {
        if (!opt.model || !*opt.model)
            return lg_err(err, -EINVAL, "--format %s: no --model; the message names the model, give "
                          "--model NAME", payload_format_name(opt.format));
        int rc = b.ts ? check_tensors(&b, err) : check_options(&b, err);
        return rc < 0 ? rc : build_grpc(out, &b, err);
    }
    if (b.ts) {
        int rc = check_tensors(&b, err);
        if (rc == 0 && !(b.cache = malloc(sizeof *b.cache)))
            rc = lg_err(err, -ENOMEM, "out of memory");
        if (rc == 0) {
            memset(b.cache->slot, 0, sizeof b.cache->slot);
            b.cache->bad = SIZE_MAX;
            rc = build_images(out, &b, err);
        }
        free(b.cache);
        return rc;
    }
    int rc = check_options(&b, err);
    if (rc == 0 && opt.format == PAYLOAD_JSON_B64)
        rc = prepare_template(&b, &owned, err);
    if (rc == 0)
        rc = build_images(out, &b, err);
    free(owned);
    return rc;
}

void payload_destroy(struct payload_set *s)
{
    if (!s)
        return;
    free(s->items);
    free(s->arena);
    free(s->heads);
    free(s);
}

/* ---- request heads for the native HTTP/1.1 engine ---------------------------------- */

/* The length of the name of "Name: value", and whether its value is empty
 * (libcurl's way of saying "do not send this header"). */
static size_t header_name(const char *line, int *empty)
{
    const char *colon = strchr(line, ':');
    size_t n = colon ? (size_t)(colon - line) : strlen(line);
    const char *v = colon ? colon + 1 : line + n;
    while (*v == ' ' || *v == '\t')
        v++;
    *empty = *v == '\0';
    return n;
}

int payload_user_has(const char *const *headers, size_t n, const char *name)
{
    int empty;
    size_t len = header_name(name, &empty);
    for (size_t i = 0; i < n; i++)
        if (header_name(headers[i], &empty) == len && strncasecmp(headers[i], name, len) == 0)
            return 1;
    return 0;
}

static int user_has(const struct payload_head_spec *h, const char *name)
{
    return payload_user_has(h->headers, h->nheaders, name);
}

static void put_line(struct out *o, const char *name, const char *value)
{
    put_str(o, name);
    put_str(o, value);
    put_str(o, "\r\n");
}

static void emit_head(const struct payload_head_spec *h, const struct payload *p, struct out *o)
{
    int post = p->len > 0 || p->headers[0] != NULL;
    put_str(o, h->method ? h->method : post ? "POST" : "GET");
    put_str(o, " ");
    put_str(o, h->target);
    put_str(o, " HTTP/1.1\r\n");
    if (!user_has(h, "Host"))
        put_line(o, "Host: ", h->host);
    if (h->user_agent && !user_has(h, "User-Agent"))
        put_line(o, "User-Agent: ", h->user_agent);
    if (!user_has(h, "Accept"))
        put_str(o, "Accept: */*\r\n");
    for (size_t i = 0; i < h->nheaders; i++) {
        int empty;
        header_name(h->headers[i], &empty);
        if (!empty)
            put_line(o, h->headers[i], "");
    }
    for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++)
        if (p->headers[k] && !user_has(h, p->headers[k]))
            put_line(o, p->headers[k], "");
    if (post) {
        put_str(o, "Content-Length: ");
        put_num(o, p->len);
        put_str(o, "\r\n");
    }
    put_str(o, "\r\n");
}

int payload_build_heads(struct payload_set *s, const struct payload_head_spec *h, char *err)
{
    struct out m = {NULL, 0};
    for (size_t i = 0; i < s->count; i++)
        emit_head(h, &s->items[i], &m);
    if (!s->heads && !(s->heads = calloc(s->count, sizeof *s->heads)))
        return lg_err(err, -ENOMEM, "out of memory for request heads");
    /* Bodies and headers keep their offsets; the arena may move. */
    size_t *at = malloc(s->count * (PAYLOAD_MAX_HEADERS + 1) * sizeof *at);
    if (!at)
        return lg_err(err, -ENOMEM, "out of memory for request heads");
    for (size_t i = 0; i < s->count; i++) {
        const struct payload *p = &s->items[i];
        size_t *a = at + i * (PAYLOAD_MAX_HEADERS + 1);
        a[0] = (size_t)(p->body - s->arena);
        for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++)
            a[k + 1] = p->headers[k] ? (size_t)(p->headers[k] - s->arena) : SIZE_MAX;
    }
    char *arena = realloc(s->arena, s->bodies_len + m.n);
    if (!arena) {
        free(at);
        return lg_err(err, -ENOMEM, "out of memory for request heads (%zu KB)", m.n >> 10);
    }
    s->arena = arena;
    s->arena_len = s->bodies_len + m.n;
    struct out w = {arena, s->bodies_len};
    for (size_t i = 0; i < s->count; i++) {
        struct payload *p = &s->items[i];
        const size_t *a = at + i * (PAYLOAD_MAX_HEADERS + 1);
        p->body = arena + a[0];
        for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++)
            p->headers[k] = a[k + 1] == SIZE_MAX ? NULL : arena + a[k + 1];
        size_t start = w.n;
        emit_head(h, p, &w);
        s->heads[i] = (struct payload_head){arena + start, w.n - start};
    }
    free(at);
    return 0;
}
