/*
 * body.c: request-body checks for each scoring protocol (see body.h).
 * Pure and single-threaded. JSON goes through cJSON (it allocates the
 * tree; that is the one allocation per request we accept, since a real
 * server pays it too); base64 decodes into the caller's reused scratch.
 */
#include "serve/body.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "base64.h"

static const char *const texts[BODY_ERR_COUNT] = {
    [BODY_OK] = "ok",
    [BODY_BAD_JSON] = "body is not a valid JSON object",
    [BODY_NO_IMAGE] = "no image in the body where this protocol expects one",
    [BODY_BAD_B64] = "an image field is not valid base64",
    [BODY_NOT_IMAGE] = "not an image: the bytes start with neither a JPEG nor a PNG signature",
    [BODY_BAD_TENSOR] = "inputs: each needs name, shape, datatype and data matching the shape",
    [BODY_BAD_MODEL_TENSOR] = "inputs: a tensor does not fit the model (GET /v2/models/NAME): "
                              "name input_1, datatype FP32 (or FP16, UINT8, INT64), shape [N, H, W, 3]",
    [BODY_BAD_BINARY] = "binary tensor data does not match binary_data_size and the body length",
    [BODY_BAD_OUTPUT] = "outputs: the model has one output, " MODEL_OUTPUT "; its "
                        "parameters.classification is a whole number from 1 to 1000",
    [BODY_BAD_MULTIPART] = "multipart body has no boundary or no complete part",
    [BODY_TOO_MANY_IMAGES] = "too many images in one request; send at most --max-images",
    [BODY_TOO_COMPLEX] = "JSON body has too many values (more than 1048576)",
    [BODY_NOMEM] = "out of memory",
};

const char *body_err_text(enum body_err e) { return texts[e]; }

int body_is_image(const unsigned char *p, size_t n)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return 1;
    return n >= sizeof png && memcmp(p, png, sizeof png) == 0;
}

static enum body_err b64_image(const char *s, struct sbuf *scratch)
{
    size_t n = strlen(s);
    scratch->len = 0;
    if (sbuf_reserve(scratch, n / 4 * 3 + 3))
        return BODY_NOMEM;
    long got = base64_decode(s, n, (unsigned char *)scratch->p);
    if (got < 0)
        return BODY_BAD_B64;
    return body_is_image((unsigned char *)scratch->p, (size_t)got) ? BODY_OK : BODY_NOT_IMAGE;
}

/* One more image, unless that makes more than max. */
static enum body_err count_image(unsigned *images, unsigned max)
{
    if (*images >= max)
        return BODY_TOO_MANY_IMAGES;
    ++*images;
    return BODY_OK;
}

/* Every string under v is an image. */
static enum body_err string_leaves(const cJSON *v, struct sbuf *scratch, unsigned *images,
                                   unsigned max)
{
    if (cJSON_IsString(v)) {
        enum body_err e = b64_image(v->valuestring, scratch);
        return e ? e : count_image(images, max);
    }
    for (const cJSON *c = v->child; c && (cJSON_IsArray(v) || cJSON_IsObject(v)); c = c->next) {
        enum body_err e = string_leaves(c, scratch, images, max);
        if (e)
            return e;
    }
    return BODY_OK;
}

/* Every {"b64": "<...>"} under v is an image. */
static enum body_err b64_members(const cJSON *v, struct sbuf *scratch, unsigned *images,
                                 unsigned max)
{
    for (const cJSON *c = v->child; c && (cJSON_IsArray(v) || cJSON_IsObject(v)); c = c->next) {
        enum body_err e;
        if (cJSON_IsObject(v) && c->string && !strcmp(c->string, "b64")) {
            if (!cJSON_IsString(c))
                return BODY_BAD_B64;
            e = b64_image(c->valuestring, scratch);
            if (e == BODY_OK)
                e = count_image(images, max);
        } else {
            e = b64_members(c, scratch, images, max);
        }
        if (e)
            return e;
    }
    return BODY_OK;
}

/* At least the number of JSON values in b[0..n): every value but the
 * first follows a ',', ':' or an opening bracket outside a string. cJSON
 * spends about 80 bytes a value, so a 64 MiB body of "0," would build a
 * 2.7 GB tree; counting first bounds the tree. */
static size_t json_values(const char *b, size_t n)
{
    size_t v = 1;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == ',' || c == ':' || c == '[' || c == '{') {
            v++;
        }
    }
    return v;
}

/* The parsed object, or NULL with *e set. */
static cJSON *parse_object(const char *b, size_t n, enum body_err *e)
{
    *e = BODY_BAD_JSON;
    if (json_values(b, n) > BODY_MAX_JSON_VALUES) {
        *e = BODY_TOO_COMPLEX;
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(b, n);
    if (root && !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

enum body_err body_score(const char *b, size_t n, struct sbuf *scratch, unsigned max,
                         unsigned *images)
{
    enum body_err e;
    cJSON *root = parse_object(b, n, &e);
    if (!root)
        return e;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
    *images = 0;
    e = string_leaves(in ? in : root, scratch, images, max);
    cJSON_Delete(root);
    return e == BODY_OK && *images == 0 ? BODY_NO_IMAGE : e;
}

enum body_err body_v1(const char *b, size_t n, struct sbuf *scratch, unsigned max,
                      unsigned *images)
{
    enum body_err e;
    cJSON *root = parse_object(b, n, &e);
    if (!root)
        return e;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "instances");
    if (!in)
        in = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    *images = 0;
    e = in ? b64_members(in, scratch, images, max) : BODY_NO_IMAGE;
    cJSON_Delete(root);
    return e == BODY_OK && *images == 0 ? BODY_NO_IMAGE : e;
}

/* Bytes per element of a fixed-size V2 datatype; 0 for BYTES or unknown. */
static size_t dtype_size(const char *dt)
{
    static const struct { const char *name; size_t size; } table[] = {
        {"BOOL", 1}, {"UINT8", 1}, {"INT8", 1}, {"UINT16", 2}, {"INT16", 2}, {"FP16", 2},
        {"BF16", 2}, {"UINT32", 4}, {"INT32", 4}, {"FP32", 4}, {"UINT64", 8}, {"INT64", 8},
        {"FP64", 8},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(dt, table[i].name))
            return table[i].size;
    return 0;
}

/* Most elements one tensor may declare: far past any body --max-body
 * allows, small enough that no product of dimensions overflows. */
#define TENSOR_MAX (1ULL << 40)

struct tensor {
    const char *name;
    const char *datatype;
    int64_t shape[8];       /* the first 8 dimensions */
    size_t ndims;
    uint64_t elements;      /* product of shape */
    uint64_t batch;         /* shape[0], or 1 for a scalar */
    const cJSON *data;      /* JSON data, or NULL */
    int64_t binary_size;    /* parameters.binary_data_size, or -1 */
};

static enum body_err tensor_of(const cJSON *in, struct tensor *t)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(in, "shape");
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(in, "datatype");
    if (!cJSON_IsString(name) || !cJSON_IsArray(shape) || !cJSON_IsString(dt))
        return BODY_BAD_TENSOR;
    t->name = name->valuestring;
    t->datatype = dt->valuestring;
    t->ndims = 0;
    t->elements = 1;
    t->batch = 1;
    int i = 0;
    /* Dimensions are whole numbers and their product is checked before
     * each multiply: [1048576, 1048576, 16777216] must not wrap to 0. */
    for (const cJSON *d = shape->child; d; d = d->next, i++) {
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > (double)TENSOR_MAX ||
            d->valuedouble != (double)(uint64_t)d->valuedouble)
            return BODY_BAD_TENSOR;
        uint64_t dim = (uint64_t)d->valuedouble;
        if (i == 0)
            t->batch = dim;
        if (i < 8)
            t->shape[i] = (int64_t)dim;
        t->ndims = (size_t)i + 1;
        if (dim == 0 || t->elements > TENSOR_MAX / dim)
            return BODY_BAD_TENSOR; /* empty tensors carry no image: [1000000, 0] is refused */
        t->elements *= dim;
    }
    if (strcmp(t->datatype, "BYTES") != 0 && dtype_size(t->datatype) == 0)
        return BODY_BAD_TENSOR;
    t->data = cJSON_GetObjectItemCaseSensitive(in, "data");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(in, "parameters");
    const cJSON *bds = params ? cJSON_GetObjectItemCaseSensitive(params, "binary_data_size") : NULL;
    t->binary_size = -1;
    if (bds) {
        if (!cJSON_IsNumber(bds) || bds->valuedouble < 0 || bds->valuedouble > (double)TENSOR_MAX ||
            bds->valuedouble != (double)(int64_t)bds->valuedouble)
            return BODY_BAD_BINARY;
        t->binary_size = (int64_t)bds->valuedouble;
    }
    return BODY_OK;
}

/* Flattened element count of a JSON data array; strings are BYTES images. */
static enum body_err json_data(const cJSON *v, int bytes, struct sbuf *scratch, uint64_t *count)
{
    if (cJSON_IsArray(v)) {
        for (const cJSON *c = v->child; c; c = c->next) {
            enum body_err e = json_data(c, bytes, scratch, count);
            if (e)
                return e;
        }
        return BODY_OK;
    }
    if (bytes ? !cJSON_IsString(v) : !(cJSON_IsNumber(v) || cJSON_IsBool(v)))
        return BODY_BAD_TENSOR;
    if (bytes) {
        enum body_err e = b64_image(v->valuestring, scratch);
        if (e)
            return e;
    }
    ++*count;
    return BODY_OK;
}

/* BYTES in the binary extension: elements of 4-byte little-endian length
 * then the bytes, exactly filling n. */
static enum body_err binary_bytes(const unsigned char *p, size_t n, uint64_t *count)
{
    size_t off = 0;
    while (off < n) {
        if (n - off < 4)
            return BODY_BAD_BINARY;
        uint32_t len = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
                       (uint32_t)p[off + 3] << 24;
        off += 4;
        if (len > n - off)
            return BODY_BAD_BINARY;
        if (!body_is_image(p + off, len))
            return BODY_NOT_IMAGE;
        off += len;
        ++*count;
    }
    return BODY_OK;
}

/* A numeric tensor whose data matched its shape: does it fit the model? */
static enum body_err fits(const struct model *m, const struct tensor *t)
{
    if (t->ndims > 8)
        return BODY_BAD_MODEL_TENSOR;
    struct model_tensor mt = {t->name, strlen(t->name), t->datatype, strlen(t->datatype),
                              t->shape, t->ndims};
    unsigned images;
    uint64_t el;
    char msg[160];
    /* --max-images is v2's own check, below. */
    if (model_check(m, &mt, UINT32_MAX, &images, &el, msg, sizeof msg))
        return BODY_BAD_MODEL_TENSOR;
    return BODY_OK;
}

/* A V2 request's "outputs": only the model's one, and its classification
 * count (0: the whole tensor). */
static enum body_err v2_outputs(const cJSON *root, unsigned *classes)
{
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(root, "outputs"), *o;
    *classes = 0;
    if (!outs)
        return BODY_OK;
    if (!cJSON_IsArray(outs))
        return BODY_BAD_OUTPUT;
    cJSON_ArrayForEach(o, outs)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
        if (!cJSON_IsString(name) || strcmp(name->valuestring, MODEL_OUTPUT) != 0)
            return BODY_BAD_OUTPUT;
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "parameters");
        const cJSON *k = params ? cJSON_GetObjectItemCaseSensitive(params, "classification") : NULL;
        if (!k)
            continue;
        if (!cJSON_IsNumber(k) || !(k->valuedouble >= 1) || k->valuedouble > MODEL_CLASSES ||
            k->valuedouble != (double)(unsigned)k->valuedouble)
            return BODY_BAD_OUTPUT;
        *classes = (unsigned)k->valuedouble;
    }
    return BODY_OK;
}

/* The V2 request, JSON (bin == NULL) or with its binary section. */
static enum body_err v2(const char *b, size_t json_len, const unsigned char *bin, size_t bin_len,
                        const struct model *m, struct sbuf *scratch, unsigned max, unsigned *images,
                        unsigned *classes)
{
    enum body_err e;
    cJSON *root = parse_object(b, json_len, &e);
    if (!root)
        return e;
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    e = BODY_OK;
    size_t off = 0;
    *images = 0;
    if (!cJSON_IsArray(inputs) || !inputs->child)
        e = BODY_BAD_TENSOR;
    for (const cJSON *in = inputs ? inputs->child : NULL; in && !e; in = in->next) {
        struct tensor t;
        uint64_t count = 0;
        if ((e = tensor_of(in, &t)))
            break;
        int bytes = !strcmp(t.datatype, "BYTES");
        if (t.binary_size >= 0) {
            if (!bin || (uint64_t)t.binary_size > bin_len - off) {
                e = BODY_BAD_BINARY;
                break;
            }
            size_t sz = (size_t)t.binary_size;
            if (bytes)
                e = binary_bytes(bin + off, sz, &count);
            else if (sz != t.elements * dtype_size(t.datatype))
                e = BODY_BAD_BINARY;
            else
                count = t.elements;
            off += sz;
        } else if (t.data) {
            e = json_data(t.data, bytes, scratch, &count);
        } else {
            e = BODY_BAD_TENSOR;
        }
        if (!e && count != t.elements)
            e = BODY_BAD_TENSOR;
        if (!e && !bytes)
            e = fits(m, &t);
        /* The first input's batch dimension is the number of images. Every
         * dimension is at least 1 and the data matched the shape, so the
         * images are never more than the elements actually sent. */
        if (!e && in == inputs->child) {
            uint64_t k = bytes ? count : t.batch;
            if (k > max)
                e = BODY_TOO_MANY_IMAGES;
            else
                *images = (unsigned)k;
        }
    }
    if (!e && bin && off != bin_len)
        e = BODY_BAD_BINARY;
    if (!e)
        e = v2_outputs(root, classes);
    cJSON_Delete(root);
    return e == BODY_OK && *images == 0 ? BODY_NO_IMAGE : e;
}

enum body_err body_v2_json(const char *b, size_t n, const struct model *m, struct sbuf *scratch,
                           unsigned max, unsigned *images, unsigned *classes)
{
    return v2(b, n, NULL, 0, m, scratch, max, images, classes);
}

enum body_err body_v2_binary(const char *b, size_t n, size_t json_len, const struct model *m,
                             struct sbuf *scratch, unsigned max, unsigned *images,
                             unsigned *classes)
{
    if (json_len > n)
        return BODY_BAD_BINARY;
    return v2(b, json_len, (const unsigned char *)b + json_len, n - json_len, m, scratch, max,
              images, classes);
}

enum body_err body_raw(const char *b, size_t n, unsigned *images)
{
    *images = 1;
    return body_is_image((const unsigned char *)b, n) ? BODY_OK : BODY_NOT_IMAGE;
}

enum body_err body_multipart(const char *b, size_t n, const char *boundary, size_t blen,
                             unsigned max, unsigned *images)
{
    char delim[80]; /* "\r\n--" + boundary (RFC 2046: at most 70 chars) */
    if (blen == 0 || blen > 70)
        return BODY_BAD_MULTIPART;
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    size_t dlen = blen + 4;
    const char *end = b + n;
    /* The first delimiter may open the body (no preamble, no CRLF). */
    const char *p;
    if (n >= dlen - 2 && !memcmp(b, delim + 2, dlen - 2))
        p = b + dlen - 2;
    else if ((p = memmem(b, n, delim, dlen)))
        p += dlen;
    else
        return BODY_BAD_MULTIPART;
    *images = 0;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break; /* close delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return BODY_BAD_MULTIPART;
        p += 2;
        const char *content;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            content = p + 2; /* a part with no headers */
        } else {
            const char *hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
            if (!hdr_end)
                return BODY_BAD_MULTIPART;
            content = hdr_end + 4;
        }
        const char *next = memmem(content, (size_t)(end - content), delim, dlen);
        if (!next)
            return BODY_BAD_MULTIPART;
        if (!body_is_image((const unsigned char *)content, (size_t)(next - content)))
            return BODY_NOT_IMAGE;
        if (count_image(images, max))
            return BODY_TOO_MANY_IMAGES;
        p = next + dlen;
    }
    return *images ? BODY_OK : BODY_BAD_MULTIPART;
}
