/*
 * tensor.h: the one description of a tensor input, for every protocol that
 * carries tensors (KServe v2 JSON and binary, TF Serving, and gRPC's
 * raw_input_contents): its name, datatype, shape and little-endian raw
 * bytes; the datatype table; and the images of a corpus made into tensors
 * (decoded with libjpeg, resized, laid out, normalised, converted).
 *
 * A struct tensor_set holds every sample a run sends, built once before the
 * first request (from images here, or from a perf_analyzer --input-data file
 * in inputdata.c) and read-only afterwards. Payload formats then copy from
 * it, so it may be destroyed once the payloads are built.
 *
 * The batch dimension: a model input's shape may begin with the batch
 * dimension (-1 in Triton's metadata). A sample's tensor holds one element
 * of the batch (its shape[0] is 1) when the set's batch_dim is 1; a request
 * of --batch K concatenates K samples' bytes and says K there. Without a
 * batch dimension, a sample is sent with its shape as it is, one per
 * request.
 */
#ifndef LOADGEN_TENSOR_H
#define LOADGEN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"

/* The KServe v2 / Triton datatypes (as perf_analyzer knows them). */
enum tensor_dtype {
    TENSOR_NONE = 0, /* not given: from the model's metadata */
    TENSOR_BOOL,
    TENSOR_UINT8,
    TENSOR_UINT16,
    TENSOR_UINT32,
    TENSOR_UINT64,
    TENSOR_INT8,
    TENSOR_INT16,
    TENSOR_INT32,
    TENSOR_INT64,
    TENSOR_FP16,
    TENSOR_FP32,
    TENSOR_FP64,
    TENSOR_BYTES,    /* elements of any length: 4-byte LE length + bytes each */
};

#define TENSOR_MAX_DIMS 8
#define TENSOR_MAX_INPUTS 16
#define TENSOR_NAME_MAX 128      /* an input name, with its NUL */
/* Elements of one sample at most: 2^31, so that no product of dimensions
 * nor any byte count (x 8) overflows, and far past any model input. */
#define TENSOR_MAX_ELEMENTS (1LL << 31)

/* "FP32" (any case) -> enum; -EINVAL for an unknown name. */
int tensor_parse_dtype(const char *s, enum tensor_dtype *out);
/* "FP32"; "" for TENSOR_NONE. */
const char *tensor_dtype_name(enum tensor_dtype d);
/* Bytes per element; 0 for BYTES and TENSOR_NONE. */
size_t tensor_dtype_size(enum tensor_dtype d);
/* 1 for FP16, FP32, FP64. */
int tensor_dtype_is_float(enum tensor_dtype d);

/* float -> IEEE half, round to nearest even (overflow gives infinity);
 * and back, exactly. */
uint16_t tensor_fp16_from_float(float f);
float tensor_fp16_to_float(uint16_t h);

/* "1,224,224,3" -> shape; -1 only as the first dimension (the batch);
 * every other dimension 1..TENSOR_MAX_ELEMENTS, their product too. 0, or
 * -EINVAL with err naming what was wrong (no flag prefix). */
int tensor_parse_shape(const char *s, int64_t shape[TENSOR_MAX_DIMS], unsigned *ndims, char *err);
/* "[1,224,224,3]" into buf (for messages). */
const char *tensor_shape_text(const int64_t *shape, unsigned ndims, char *buf, size_t len);

/* What a model input must be, from the flags and the model's metadata. */
struct tensor_spec {
    char name[TENSOR_NAME_MAX];
    enum tensor_dtype dtype;         /* TENSOR_NONE when unknown */
    unsigned ndims;                  /* 0 when the shape is unknown */
    int64_t shape[TENSOR_MAX_DIMS];  /* -1: variable (the batch, or any size) */
};

/* A model's inputs, as GET /v2/models/NAME (or gRPC ModelMetadata) says. */
struct tensor_model {
    struct tensor_spec inputs[TENSOR_MAX_INPUTS];
    size_t ninputs;
};

/* One tensor of one sample. */
struct tensor {
    const char *name;                /* into the set */
    enum tensor_dtype dtype;
    unsigned ndims;
    int64_t shape[TENSOR_MAX_DIMS];  /* with batch_dim: shape[0] == 1 */
    size_t elements;                 /* product of shape */
    const unsigned char *data;       /* little-endian raw bytes, into the set */
    size_t len;                      /* bytes: elements x dtype size; BYTES:
                                      * sum of 4 + each element's length */
};

/* Every sample a run sends: count x ninputs tensors, sample-major. */
struct tensor_set {
    struct tensor *t;                /* t[i * ninputs + k]: sample i, input k */
    size_t count;                    /* samples */
    size_t ninputs;                  /* tensors per sample, the same names
                                      * and datatypes in every sample */
    int batch_dim;                   /* 1: shape[0] is the batch dimension */
    size_t total_bytes;              /* sum of every tensor's len */
    unsigned char *block;            /* every tensor's bytes and names */
};

static inline const struct tensor *tensor_at(const struct tensor_set *s, size_t sample, size_t k)
{
    return &s->t[sample * s->ninputs + k];
}

/* --normalize */
enum tensor_norm {
    TENSOR_NORM_NONE = 0,            /* 0..255 */
    TENSOR_NORM_UNIT,                /* 0..1 */
    TENSOR_NORM_IMAGENET,            /* (x/255 - mean) / std, per channel */
};

/* The run's tensor flags (all zero: today's BYTES behaviour). */
struct tensor_options {
    enum tensor_dtype dtype;         /* --datatype, or TENSOR_NONE */
    unsigned ndims;                  /* --shape; 0 when not given */
    int64_t shape[TENSOR_MAX_DIMS];
    enum tensor_norm normalize;      /* --normalize */
    int normalize_given;             /* --normalize was given: images as tensors */
    const char *input_data;          /* --input-data FILE, or NULL */
};

/* 1 when the flags ask for tensors (--datatype other than BYTES, --shape,
 * --normalize, --input-data); 0 for today's BYTES bodies. */
int tensor_options_active(const struct tensor_options *o);

/* Whether the flags leave something to read from the model's metadata:
 * the datatype (always needed), and for images the shape and the input's
 * name (`input_name`, --input-name, or NULL); an input-data file names
 * its inputs and its values may carry their shapes. */
int tensor_options_need_metadata(const struct tensor_options *o, const char *input_name);
/* --datatype and --shape, when given, replace every input's in m. */
void tensor_model_apply(struct tensor_model *m, const struct tensor_options *o);
/* The input images fill: the one named `name` (--input-name; NULL: the
 * model's only input), or without a model (m NULL) `name` or "INPUT" with
 * the flags' datatype and shape. 0, or -EINVAL with err set. */
int tensor_model_image_input(const struct tensor_model *m, const struct tensor_options *o,
                             const char *name, struct tensor_spec *out, char *err);

/* How an image becomes a tensor: taken from an image input's shape. */
enum tensor_layout { TENSOR_NHWC, TENSOR_NCHW };

struct tensor_image {
    enum tensor_dtype dtype;
    enum tensor_layout layout;
    int height, width;               /* pixels */
    enum tensor_norm normalize;
};

/* An image input's spec -> how to make its tensor, and whether shape[0] is
 * the batch dimension: [N,H,W,3] or [H,W,3] is NHWC, [N,3,H,W] or [3,H,W]
 * NCHW (a last dimension of 3 wins). N must be -1 or 1. The datatype must
 * be a number type; --normalize unit/imagenet needs FP16/32/64. 0, or
 * -EINVAL with err set. */
int tensor_image_plan(const struct tensor_spec *spec, enum tensor_norm norm,
                      struct tensor_image *out, int *batch_dim, char *err);

/* One encoded JPEG -> height x width x 3 RGB bytes (grey replicated),
 * decoded with libjpeg at the smallest DCT scale (1/8..1) that is still at
 * least the target size, then resized bilinearly (pixel centres aligned,
 * as OpenCV and PIL do without antialiasing). rgb holds w*h*3 bytes. */
int tensor_decode_rgb(const unsigned char *jpeg, size_t len, int width, int height,
                      unsigned char *rgb, char *err);
/* Bilinear resize of RGB (sw x sh) -> (dw x dh), rounded to bytes. */
void tensor_resize_rgb(const unsigned char *src, int sw, int sh, unsigned char *dst, int dw, int dh);
/* RGB pixels -> the tensor's bytes (elements = w*h*3, laid out, normalised
 * and converted as `img` says). out holds w*h*3 x dtype size bytes. */
void tensor_from_rgb(const unsigned char *rgb, const struct tensor_image *img, unsigned char *out);
/* The value a pixel byte v of channel c becomes before conversion. */
double tensor_normalized(enum tensor_norm norm, int c, unsigned v);

/* Every image of the corpus as input `spec` (one input per sample): the
 * whole set is built here, once. 0, or -EINVAL/-ENOMEM with err naming
 * the image or the limit. */
int tensor_set_from_corpus(struct tensor_set **out, const struct corpus *c,
                           const struct tensor_spec *spec, enum tensor_norm norm, char *err);
void tensor_set_destroy(struct tensor_set *s);

#endif
