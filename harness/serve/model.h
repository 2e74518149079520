/*
 * model.h: the metadata of serve's one model, in the KServe v2 shape that
 * Triton and KServe report (GET /v2/models/NAME, gRPC ModelMetadata), and
 * the check of an input tensor against it. An image classifier: input
 * "input_1" [-1, px, px, 3] FP32 (NHWC, Keras's layout and default name),
 * output "predictions" [-1, 1000] FP32. Pure; built once at start-up.
 */
#ifndef LOADGEN_SERVE_MODEL_H
#define LOADGEN_SERVE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define MODEL_INPUT "input_1"
#define MODEL_OUTPUT "predictions"
#define MODEL_DATATYPE "FP32"
#define MODEL_CLASSES 1000
#define MODEL_PLATFORM "tensorflow_savedmodel"
#define MODEL_VERSION "1"

struct model {
    char name[64];       /* --model */
    unsigned px;         /* input height = width, pixels */
    char json[512];      /* the metadata as JSON, for GET /v2/models/NAME */
    size_t json_len;
};

/* px 0 means 224. */
void model_init(struct model *m, const char *name, unsigned px);
/* 1 when name[0..n) is this model's name. */
int model_is(const struct model *m, const char *name, size_t n);

/* An input tensor as a request declares it; checked before its data. */
struct model_tensor {
    const char *name;
    size_t name_len;
    const char *datatype;
    size_t datatype_len;
    const int64_t *shape;
    size_t ndims;
};

/* Whether t fits the model: BYTES (encoded images, the study's way, under
 * any input name) has shape [N] or [N, 1]; numeric tensors are named
 * MODEL_INPUT, are FP32, FP16, UINT8 or INT64 (a model with a casting front
 * end takes them too) and have shape [N, px, px, 3]; 1 <= N <= max_images. 0 with *images = N and *elements
 * = the elements its data must hold, or -EINVAL with one line in msg
 * (INVALID_ARGUMENT in gRPC, 400 in REST). */
int model_check(const struct model *m, const struct model_tensor *t, unsigned max_images,
                unsigned *images, uint64_t *elements, char *msg, size_t cap);

#endif
