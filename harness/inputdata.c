/*
 * inputdata.c: perf_analyzer's --input-data JSON -> a tensor_set.
 *
 * Each value is converted into its datatype's little-endian bytes as it
 * is read, into one growing buffer; pointers into it are set at the end,
 * once it no longer moves. Every check runs before the run: a value out of
 * range, a count that does not fill the shape, an input the model does not
 * have.
 */
#include "inputdata.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "common.h"
#include "fileio.h"
#include "sbuf.h"

/* Where messages say what they are about. */
struct ctx {
    const char *what;          /* the file */
    size_t entry;
    const char *input;
    char *err;
};

static int fail(const struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const struct ctx *x, const char *fmt, ...)
{
    char msg[LG_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lg_err(x->err, -EINVAL, "%s: entry %zu, input %s: %s", x->what, x->entry, x->input, msg);
    return -EINVAL;
}

/* One JSON value into the datatype's bytes, range checked. */
static int put_value(const struct ctx *x, enum tensor_dtype d, const cJSON *v, struct sbuf *b)
{
    if (d == TENSOR_BYTES) {
        if (!cJSON_IsString(v))
            return fail(x, "a BYTES value must be a string");
        size_t n = strlen(v->valuestring);
        if (n > UINT32_MAX || sbuf_reserve(b, 4 + n) < 0)
            return lg_err(x->err, -ENOMEM, "out of memory reading %s", x->what);
        for (int i = 0; i < 4; i++)
            b->p[b->len++] = (unsigned char)(n >> (8 * i));
        memcpy(b->p + b->len, v->valuestring, n);
        b->len += n;
        return 0;
    }
    double n;
    if (cJSON_IsBool(v))
        n = cJSON_IsTrue(v);
    else if (cJSON_IsNumber(v))
        n = v->valuedouble;
    else
        return fail(x, "%s values must be numbers; found %s", tensor_dtype_name(d),
                    cJSON_IsString(v) ? "a string" : cJSON_IsNull(v) ? "null" : "an object");
    uint64_t u = 0;
    static const struct { double lo, hi; } range[] = {
        [TENSOR_BOOL] = {0, 1},           [TENSOR_UINT8] = {0, 255},
        [TENSOR_UINT16] = {0, 65535},     [TENSOR_UINT32] = {0, 4294967295.0},
        [TENSOR_UINT64] = {0, 18446744073709549568.0},
        [TENSOR_INT8] = {-128, 127},      [TENSOR_INT16] = {-32768, 32767},
        [TENSOR_INT32] = {-2147483648.0, 2147483647},
        [TENSOR_INT64] = {-9223372036854775808.0, 9223372036854774784.0},
    };
    switch (d) {
    case TENSOR_FP16:
        /* 65520 and up round to infinity (checked before the cast: a
         * double beyond float's range has no float value). */
        if (fabs(n) >= 65520)
            return fail(x, "%.17g is beyond FP16's largest value, 65504", n);
        u = tensor_fp16_from_float((float)n);
        break;
    case TENSOR_FP32: {
        if (fabs(n) > FLT_MAX)
            return fail(x, "%.17g is beyond FP32's largest value", n);
        float f = (float)n;
        uint32_t w;
        memcpy(&w, &f, sizeof w);
        u = w;
        break;
    }
    case TENSOR_FP64:
        memcpy(&u, &n, sizeof u);
        break;
    default:
        if (n != floor(n))
            return fail(x, "%.17g is not a whole number, as %s needs", n, tensor_dtype_name(d));
        if (n < range[d].lo || n > range[d].hi)
            return fail(x, "%.17g is outside %s's range %.20g..%.20g", n, tensor_dtype_name(d),
                        range[d].lo, range[d].hi);
        u = n < 0 ? (uint64_t)(int64_t)n : (uint64_t)n;
        break;
    }
    size_t sz = tensor_dtype_size(d);
    if (sbuf_reserve(b, sz) < 0)
        return lg_err(x->err, -ENOMEM, "out of memory reading %s", x->what);
    for (size_t i = 0; i < sz; i++)
        b->p[b->len++] = (unsigned char)(u >> (8 * i));
    return 0;
}

/* A list, nested or flat, element by element; *count counts them. */
static int put_list(const struct ctx *x, enum tensor_dtype d, const cJSON *v, struct sbuf *b,
                    size_t *count)
{
    if (!cJSON_IsArray(v)) {
        if (*count >= (size_t)TENSOR_MAX_ELEMENTS)
            return fail(x, "more than %lld values", TENSOR_MAX_ELEMENTS);
        ++*count;
        return put_value(x, d, v, b);
    }
    for (const cJSON *c = v->child; c; c = c->next) {
        int rc = put_list(x, d, c, b, count);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int parse_dims(const struct ctx *x, const cJSON *s, int64_t *shape, unsigned *ndims)
{
    unsigned n = 0;
    int64_t product = 1;
    if (!cJSON_IsArray(s))
        return fail(x, "\"shape\" must be a list of whole numbers, e.g. [224, 224, 3]");
    for (const cJSON *c = s->child; c; c = c->next) {
        if (n == TENSOR_MAX_DIMS)
            return fail(x, "\"shape\" has more than %d dimensions", TENSOR_MAX_DIMS);
        if (!cJSON_IsNumber(c) || c->valuedouble < 1 || c->valuedouble != floor(c->valuedouble) ||
            (product *= (int64_t)fmin(c->valuedouble, (double)TENSOR_MAX_ELEMENTS + 1)) >
                TENSOR_MAX_ELEMENTS)
            return fail(x, "\"shape\" dimension %u is not a whole number from 1 to %lld "
                        "elements in all", n + 1, TENSOR_MAX_ELEMENTS);
        shape[n++] = (int64_t)c->valuedouble;
    }
    *ndims = n;
    return 0;
}

/* Whether a template dimension (-1: any) admits a size. */
static int dim_ok(int64_t want, int64_t got) { return want < 0 || want == got; }

/* The sample's shape from the template and the entry's own shape (when it
 * gave one), perf_analyzer's way: an entry's shape leaves the batch out.
 * A template from the model is strict (the entry must fit it); one from
 * --shape alone (`loose`) is only the shape of values that give none. */
static int resolve_shape(const struct ctx *x, const struct tensor_spec *spec, int bd, int loose,
                         const int64_t *es, unsigned en, int given, struct tensor *t)
{
    char want[160], got[160];
    const int64_t *ts = spec->shape;
    unsigned tn = spec->ndims;
    tensor_shape_text(ts, tn, want, sizeof want);
    tensor_shape_text(es, en, got, sizeof got);
    if (!given) {
        if (tn == 0)
            return fail(x, "no shape for a list of values; give \"shape\" in the entry, or --shape");
        for (unsigned i = bd; i < tn; i++)
            if (ts[i] < 0)
                return fail(x, "the model's shape %s is variable; give \"shape\" in the entry", want);
        memcpy(t->shape, ts, tn * sizeof *ts);
        t->ndims = tn;
    } else if (bd && (en + 1 == tn || (loose && en != tn))) {
        if (en + 1 > TENSOR_MAX_DIMS)
            return fail(x, "shape %s and a batch dimension: more than %d dimensions", got,
                        TENSOR_MAX_DIMS);
        t->shape[0] = 1;
        memcpy(t->shape + 1, es, en * sizeof *es);
        t->ndims = en + 1;
    } else if (en == tn || loose) {
        if (bd && es[0] != 1)
            return fail(x, "shape %s puts %lld in the batch dimension; give one sample per entry "
                        "and --batch K", got, (long long)es[0]);
        memcpy(t->shape, es, en * sizeof *es);
        t->ndims = en;
    } else {
        return fail(x, "shape %s does not fit the model's %s", got, want);
    }
    for (unsigned i = bd; i < tn && given && !loose; i++)
        if (!dim_ok(ts[i], t->shape[i]))
            return fail(x, "shape %s does not fit the model's %s", got, want);
    if (bd)
        t->shape[0] = 1;
    t->elements = 1;
    for (unsigned i = 0; i < t->ndims; i++)
        t->elements *= (size_t)t->shape[i];
    return 0;
}

/* One input's value of one entry, appended to b. */
static int read_value(const struct ctx *x, const struct tensor_spec *spec, int bd, int loose,
                      const cJSON *v,
                      struct sbuf *b, struct tensor *t)
{
    const cJSON *content = v, *b64 = NULL, *shape = NULL;
    if (cJSON_IsObject(v)) {
        content = cJSON_GetObjectItemCaseSensitive(v, "content");
        b64 = cJSON_GetObjectItemCaseSensitive(v, "b64");
        shape = cJSON_GetObjectItemCaseSensitive(v, "shape");
        if (!content == !b64)
            return fail(x, "give \"content\": [values] or \"b64\": \"...\" (one of them)");
    } else if (!cJSON_IsArray(v)) {
        return fail(x, "a value is a list, {\"content\": [...]} or {\"b64\": \"...\"}");
    }
    if (b64 && !cJSON_IsString(b64))
        return fail(x, "\"b64\" must be a string of base64");
    if (content && !cJSON_IsArray(content))
        return fail(x, "\"content\" must be a list of values");
    int64_t es[TENSOR_MAX_DIMS];
    unsigned en = 0;
    int rc;
    if (shape && (rc = parse_dims(x, shape, es, &en)) < 0)
        return rc;
    if ((rc = resolve_shape(x, spec, bd, loose, es, en, shape != NULL, t)) < 0)
        return rc;
    t->dtype = spec->dtype;
    size_t start = b->len, count = 0;
    if (b64) {
        size_t n = strlen(b64->valuestring);
        if (sbuf_reserve(b, 4 + n / 4 * 3 + 3) < 0)
            return lg_err(x->err, -ENOMEM, "out of memory reading %s", x->what);
        /* A BYTES value in b64 is one element: its length goes first. */
        size_t at = b->len + (spec->dtype == TENSOR_BYTES ? 4 : 0);
        long got = base64_decode(b64->valuestring, n, (unsigned char *)b->p + at);
        if (got < 0)
            return fail(x, "\"b64\" is not valid base64");
        size_t sz = tensor_dtype_size(spec->dtype);
        if (spec->dtype == TENSOR_BYTES) {
            for (int i = 0; i < 4; i++)
                b->p[b->len + (size_t)i] = (unsigned char)((uint64_t)got >> (8 * i));
            count = 1;
        } else if ((size_t)got % sz) {
            return fail(x, "\"b64\" holds %ld bytes, not a whole number of %zu-byte %s values",
                        got, sz, tensor_dtype_name(spec->dtype));
        } else {
            count = (size_t)got / sz;
        }
        b->len = at + (size_t)got;
    } else if ((rc = put_list(x, spec->dtype, content, b, &count)) < 0) {
        return rc;
    }
    if (count != t->elements) {
        char s[160];
        return fail(x, "%zu values, but the shape %s holds %zu", count,
                    tensor_shape_text(t->shape, t->ndims, s, sizeof s), t->elements);
    }
    t->len = b->len - start;
    t->data = (const unsigned char *)(uintptr_t)start; /* an offset until b stops moving */
    return 0;
}

/* The inputs every entry gives, in order: the model's, or entry 0's. */
static int input_list(const struct ctx *x0, const cJSON *first, const struct inputdata_want *w,
                      struct tensor_spec *specs, size_t *n)
{
    const struct tensor_model *m = w->model;
    *n = 0;
    if (m && m->ninputs) {
        memcpy(specs, m->inputs, m->ninputs * sizeof *specs);
        *n = m->ninputs;
        return 0;
    }
    for (const cJSON *c = first->child; c; c = c->next) {
        struct ctx x = *x0;
        x.input = c->string;
        if (*n == TENSOR_MAX_INPUTS)
            return fail(&x, "more than %d inputs", TENSOR_MAX_INPUTS);
        if (strlen(c->string) >= TENSOR_NAME_MAX)
            return fail(&x, "the name is longer than %d bytes", TENSOR_NAME_MAX - 1);
        for (size_t k = 0; k < *n; k++)
            if (!strcmp(specs[k].name, c->string))
                return fail(&x, "given twice");
        specs[*n] = w->fallback ? *w->fallback : (struct tensor_spec){0};
        snprintf(specs[*n].name, sizeof specs[*n].name, "%s", c->string);
        ++*n;
    }
    return 0;
}

static void names_text(const struct tensor_spec *s, size_t n, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < n && at < len; k++)
        at += (size_t)snprintf(buf + at, len - at, k ? ", %s" : "%s", s[k].name);
}

int inputdata_parse(struct tensor_set **out, const char *what, const char *text, size_t len,
                    const struct inputdata_want *want, char *err)
{
    struct ctx x = {.what = what, .input = "", .err = err};
    struct tensor_spec specs[TENSOR_MAX_INPUTS];
    struct tensor_set *s = NULL;
    struct sbuf b = {0};
    size_t ninputs = 0, count = 0, names_len = 0;
    int rc = 0;
    *out = NULL;
    cJSON *doc = cJSON_ParseWithLength(text, len);
    const cJSON *data = doc ? cJSON_GetObjectItemCaseSensitive(doc, "data") : NULL;
    if (!doc) {
        /* cJSON's error pointer says where the parse stopped. */
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        rc = lg_err(err, -EINVAL, "%s: not valid JSON (near byte %zu); perf_analyzer's format is "
                    "{\"data\": [{\"INPUT0\": [values]}, ...]}", what, off);
        goto fail;
    }
    if (!cJSON_IsArray(data) || !data->child) {
        rc = lg_err(err, -EINVAL, "%s: no \"data\" list of entries; write {\"data\": [{\"INPUT0\": "
                    "[values]}, ...]}", what);
        goto fail;
    }
    for (const cJSON *e = data->child; e; e = e->next, x.entry++) {
        if (cJSON_IsArray(e)) {
            rc = lg_err(err, -EINVAL, "%s: entry %zu: a list of steps (a sequence model's stream) is not "
                        "supported; give one object per entry", what, x.entry);
            goto fail;
        }
        if (!cJSON_IsObject(e) || !e->child) {
            rc = lg_err(err, -EINVAL, "%s: entry %zu: not an object of inputs, e.g. {\"INPUT0\": [1, 2]}",
                        what, x.entry);
            goto fail;
        }
        if (++count > INPUTDATA_MAX_ENTRIES) {
            rc = lg_err(err, -EINVAL, "%s: more than %d entries", what, INPUTDATA_MAX_ENTRIES);
            goto fail;
        }
    }
    x.entry = 0;
    if ((rc = input_list(&x, data->child, want, specs, &ninputs)) < 0)
        goto fail;
    /* A batch dimension when every input's template starts with one. */
    int bd = 1, loose = !(want->model && want->model->ninputs);
    for (size_t k = 0; k < ninputs; k++) {
        struct ctx xi = x;
        xi.input = specs[k].name;
        if (specs[k].dtype == TENSOR_NONE) {
            rc = fail(&xi, "no datatype; give --datatype (or serve the model's metadata)");
            goto fail;
        }
        bd &= specs[k].ndims > 0 && (specs[k].shape[0] == -1 || specs[k].shape[0] == 1);
        names_len += strlen(specs[k].name) + 1;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->t = calloc(count * ninputs, sizeof *s->t))) {
        rc = lg_err(err, -ENOMEM, "%s: out of memory for %zu entries", what, count);
        goto fail;
    }
    s->count = count;
    s->ninputs = ninputs;
    s->batch_dim = bd;
    x.entry = 0;
    for (const cJSON *e = data->child; e; e = e->next, x.entry++) {
        for (const cJSON *c = e->child; c; c = c->next) {
            size_t k = 0;
            while (k < ninputs && strcmp(specs[k].name, c->string))
                k++;
            if (k == ninputs) {
                char names[256];
                names_text(specs, ninputs, names, sizeof names);
                x.input = c->string;
                rc = fail(&x, "not an input of the model (%s: %s)",
                          want->model && want->model->ninputs ? "its inputs are" : "entry 0 has",
                          names);
                goto fail;
            }
        }
        for (size_t k = 0; k < ninputs; k++) {
            x.input = specs[k].name;
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, specs[k].name);
            if (!v) {
                rc = fail(&x, "missing; every entry gives every input");
                goto fail;
            }
            if ((rc = read_value(&x, &specs[k], bd, loose, v, &b, &s->t[x.entry * ninputs + k])) < 0)
                goto fail;
        }
    }
    /* The names after the values; then every offset becomes a pointer. */
    if (sbuf_reserve(&b, names_len) < 0) {
        rc = lg_err(err, -ENOMEM, "%s: out of memory", what);
        goto fail;
    }
    size_t name_at[TENSOR_MAX_INPUTS];
    for (size_t k = 0; k < ninputs; k++) {
        name_at[k] = b.len;
        memcpy(b.p + b.len, specs[k].name, strlen(specs[k].name) + 1);
        b.len += strlen(specs[k].name) + 1;
    }
    s->block = (unsigned char *)b.p;
    b.p = NULL;
    for (size_t i = 0; i < count * ninputs; i++) {
        struct tensor *t = &s->t[i];
        t->data = s->block + (uintptr_t)t->data;
        t->name = (const char *)s->block + name_at[i % ninputs];
        s->total_bytes += t->len;
    }
    *out = s;
    s = NULL;
fail:
    free(b.p);
    tensor_set_destroy(s);
    cJSON_Delete(doc);
    if (rc < 0 && err) /* input names are the file's: one printable line */
        lg_printable(err);
    return rc;
}

int inputdata_load(struct tensor_set **out, const char *path, const struct inputdata_want *want,
                   char *err)
{
    size_t len;
    char *text;
    *out = NULL;
    int rc = fileio_read("--input-data", path, INPUTDATA_MAX_FILE_BYTES, &text, &len, err);
    if (rc < 0)
        return rc;
    rc = inputdata_parse(out, path, text, len, want, err);
    free(text);
    return rc;
}
