/*
 * model.c: serve's model metadata and the input check (see model.h).
 */
#include "serve/model.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "grpc.h"

void model_init(struct model *m, const char *name, unsigned px)
{
    *m = (struct model){.px = px ? px : 224};
    snprintf(m->name, sizeof m->name, "%s", name);
    int n = snprintf(m->json, sizeof m->json,
                     "{\"name\": \"%s\", \"versions\": [\"" MODEL_VERSION "\"], \"platform\": \""
                     MODEL_PLATFORM "\", \"inputs\": [{\"name\": \"" MODEL_INPUT "\", \"datatype\": \""
                     MODEL_DATATYPE "\", \"shape\": [-1, %u, %u, 3]}], \"outputs\": [{\"name\": \""
                     MODEL_OUTPUT "\", \"datatype\": \"" MODEL_DATATYPE "\", \"shape\": [-1, %d]}]}",
                     m->name, m->px, m->px, MODEL_CLASSES);
    m->json_len = (size_t)n < sizeof m->json ? (size_t)n : sizeof m->json - 1;
}

int model_is(const struct model *m, const char *name, size_t n)
{
    return n == strlen(m->name) && !memcmp(m->name, name, n);
}

static int is(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && !memcmp(s, lit, n);
}

int model_check(const struct model *m, const struct model_tensor *t, unsigned max_images,
                unsigned *images, uint64_t *elements, char *msg, size_t cap)
{
    const char *dt = t->datatype;
    size_t dn = t->datatype_len;
    int bytes = is(dt, dn, "BYTES");
    /* Encoded images under any name, as the REST route takes them (the
     * study's clients name their input as they like); tensors must name
     * the model's input. */
    if (!bytes && !is(t->name, t->name_len, MODEL_INPUT)) {
        snprintf(msg, cap, "unknown input name; this model's input is " MODEL_INPUT);
        return -EINVAL;
    }
    if (!bytes && !is(dt, dn, "FP32") && !is(dt, dn, "FP16") && !is(dt, dn, "UINT8") &&
        !is(dt, dn, "INT64")) {
        snprintf(msg, cap, "input " MODEL_INPUT ": datatype not accepted; send FP32 (or FP16, UINT8, "
                           "INT64, or BYTES of encoded images)");
        return -EINVAL;
    }
    for (size_t i = 0; i < t->ndims; i++)
        if (t->shape[i] < 1) {
            snprintf(msg, cap, "input " MODEL_INPUT ": dimension %zu is %lld; every dimension must be "
                               "at least 1", i, (long long)t->shape[i]);
            return -EINVAL;
        }
    if (bytes ? !(t->ndims == 1 || (t->ndims == 2 && t->shape[1] == 1))
              : !(t->ndims == 4 && t->shape[1] == m->px && t->shape[2] == m->px && t->shape[3] == 3)) {
        if (bytes)
            snprintf(msg, cap, "input " MODEL_INPUT ": BYTES shape must be [N] or [N, 1], one "
                               "encoded image per element");
        else
            snprintf(msg, cap, "input " MODEL_INPUT ": shape must be [N, %u, %u, 3] (NHWC)", m->px,
                     m->px);
        return -EINVAL;
    }
    if (t->shape[0] > (int64_t)max_images) {
        snprintf(msg, cap, "input " MODEL_INPUT ": %lld images in one request; send at most "
                           "--max-images (%u)", (long long)t->shape[0], max_images);
        return -EINVAL;
    }
    *images = (unsigned)t->shape[0];
    *elements = bytes ? *images : (uint64_t)*images * m->px * m->px * 3;
    return 0;
}
