/*
 * fuzz_inputdata.c: libFuzzer target for the tensor parsers: perf_analyzer
 * --input-data JSON (inputdata_parse), KServe v2 model metadata
 * (meta_parse), and the tensor bodies built from what parsed.
 *
 * The first byte picks the datatype (mod 13) and whether a model (strict)
 * or a --shape fallback (loose, first dimension -1) describes the input;
 * the rest is the JSON. Either parser must return 0 or a negative errno
 * with a one-line message. A set that parsed must be consistent (each
 * tensor's bytes are its elements times the datatype's size; BYTES
 * elements walk exactly to its end; the shape's product is the element
 * count), and every kserve-v2 and tfserving body built from it must be
 * JSON that cJSON reads, unless a float value is NaN or infinite (then the
 * build must refuse it).
 *
 * Built with -DLOADGEN_LIBFUZZER by scripts/fuzz.sh; without it, main()
 * replays the files named on the command line (make test does).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "inputdata.h"
#include "meta.h"
#include "payload.h"
#include "tensor.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_inputdata: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

static void check_set(const struct tensor_set *s)
{
    CHECK(s->count >= 1 && s->ninputs >= 1);
    size_t total = 0;
    for (size_t i = 0; i < s->count * s->ninputs; i++) {
        const struct tensor *t = &s->t[i];
        size_t product = 1;
        for (unsigned d = 0; d < t->ndims; d++)
            product *= (size_t)t->shape[d];
        CHECK(product == t->elements);
        CHECK(t->dtype == s->t[i % s->ninputs].dtype);
        if (t->dtype == TENSOR_BYTES) {
            size_t at = 0, n = 0;
            while (at < t->len) {
                CHECK(t->len - at >= 4);
                size_t len = (size_t)t->data[at] | (size_t)t->data[at + 1] << 8 |
                             (size_t)t->data[at + 2] << 16 | (size_t)t->data[at + 3] << 24;
                CHECK(len <= t->len - at - 4);
                at += 4 + len;
                n++;
            }
            CHECK(n == t->elements);
        } else {
            CHECK(t->len == t->elements * tensor_dtype_size(t->dtype));
        }
        total += t->len;
    }
    CHECK(total == s->total_bytes);
}

static void check_bodies(const struct tensor_set *ts, enum payload_format f)
{
    struct payload_options opt = {.format = f, .tensors = ts, .batch = 1};
    struct payload_set *ps = NULL;
    char err[LG_ERRLEN] = "";
    if (payload_build(&ps, NULL, &opt, err) != 0) {
        CHECK(strstr(err, "NaN or infinity") && !ps);
        return;
    }
    for (size_t i = 0; i < ps->count; i++) {
        cJSON *doc = cJSON_ParseWithLength(ps->items[i].body, ps->items[i].len);
        CHECK(doc);
        cJSON_Delete(doc);
    }
    payload_destroy(ps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 16))
        return 0;
    enum tensor_dtype d = (enum tensor_dtype)(TENSOR_BOOL + data[0] % 13);
    int strict = data[0] & 0x80;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[LG_ERRLEN] = "";

    struct tensor_model m;
    int rc = meta_parse("m", text, len, &m, err);
    CHECK(rc == 0 || (rc == -EINVAL && !strchr(err, '\n')));
    if (rc == 0)
        for (size_t k = 0; k < m.ninputs; k++)
            CHECK(*tensor_dtype_name(m.inputs[k].dtype) && m.inputs[k].ndims <= TENSOR_MAX_DIMS);

    struct tensor_spec fb = {.dtype = d, .ndims = 2, .shape = {-1, 2}};
    struct tensor_model one = {.ninputs = 1};
    one.inputs[0] = fb;
    snprintf(one.inputs[0].name, sizeof one.inputs[0].name, "INPUT0");
    struct inputdata_want want = {strict ? &one : NULL, &fb};
    struct tensor_set *s = NULL;
    err[0] = '\0';
    rc = inputdata_parse(&s, "f", text, len, &want, err);
    CHECK(rc == 0 || ((rc == -EINVAL || rc == -ENOMEM) && !s && *err && !strchr(err, '\n')));
    if (rc == 0) {
        check_set(s);
        check_bodies(s, PAYLOAD_KSERVE_V2);
        check_bodies(s, PAYLOAD_TFSERVING);
        tensor_set_destroy(s);
    }
    return 0;
}

#include "replay.h"
