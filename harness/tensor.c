/*
 * tensor.c: the datatype table, FP16, shapes, and images made into tensors.
 *
 * An image becomes a tensor the way a classifier's preprocessing does it:
 * decoded to RGB bytes, resized to H x W (rounded back to bytes, as a PIL
 * or OpenCV image is), then each byte normalised and converted. Because a
 * pixel is a byte, the normalised and converted value of every (channel,
 * byte) pair is computed once into a 3 x 256 table and the tensor is
 * filled by lookup: the cost of a tensor is its decode and its copy.
 *
 * Threading: built once on the main thread before the first request.
 */
#include "tensor.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "jpegfail.h"

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [TENSOR_NONE] = {"", 0},       [TENSOR_BOOL] = {"BOOL", 1},   [TENSOR_UINT8] = {"UINT8", 1},
    [TENSOR_UINT16] = {"UINT16", 2}, [TENSOR_UINT32] = {"UINT32", 4},
    [TENSOR_UINT64] = {"UINT64", 8}, [TENSOR_INT8] = {"INT8", 1},  [TENSOR_INT16] = {"INT16", 2},
    [TENSOR_INT32] = {"INT32", 4}, [TENSOR_INT64] = {"INT64", 8},  [TENSOR_FP16] = {"FP16", 2},
    [TENSOR_FP32] = {"FP32", 4},   [TENSOR_FP64] = {"FP64", 8},    [TENSOR_BYTES] = {"BYTES", 0},
};

int tensor_parse_dtype(const char *s, enum tensor_dtype *out)
{
    for (size_t i = TENSOR_BOOL; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcasecmp(s, dtypes[i].name) == 0) {
            *out = (enum tensor_dtype)i;
            return 0;
        }
    return -EINVAL;
}

const char *tensor_dtype_name(enum tensor_dtype d)
{
    return (unsigned)d < sizeof dtypes / sizeof dtypes[0] ? dtypes[d].name : "";
}

size_t tensor_dtype_size(enum tensor_dtype d)
{
    return (unsigned)d < sizeof dtypes / sizeof dtypes[0] ? dtypes[d].size : 0;
}

int tensor_dtype_is_float(enum tensor_dtype d)
{
    return d == TENSOR_FP16 || d == TENSOR_FP32 || d == TENSOR_FP64;
}

int tensor_options_active(const struct tensor_options *o)
{
    return (o->dtype != TENSOR_NONE && o->dtype != TENSOR_BYTES) || o->ndims || o->input_data ||
           o->normalize_given;
}

int tensor_options_need_metadata(const struct tensor_options *o, const char *input_name)
{
    return o->dtype == TENSOR_NONE || (!o->input_data && (o->ndims == 0 || !input_name));
}

void tensor_model_apply(struct tensor_model *m, const struct tensor_options *o)
{
    for (size_t k = 0; k < m->ninputs; k++) {
        if (o->dtype != TENSOR_NONE)
            m->inputs[k].dtype = o->dtype;
        if (o->ndims) {
            m->inputs[k].ndims = o->ndims;
            memcpy(m->inputs[k].shape, o->shape, sizeof o->shape);
        }
    }
}

int tensor_model_image_input(const struct tensor_model *m, const struct tensor_options *o,
                             const char *name, struct tensor_spec *out, char *err)
{
    if (!m) {
        *out = (struct tensor_spec){.dtype = o->dtype, .ndims = o->ndims};
        memcpy(out->shape, o->shape, sizeof o->shape);
        if (strlen(name ? name : "INPUT") >= sizeof out->name)
            return lg_err(err, -EINVAL, "--input-name: longer than %zu bytes", sizeof out->name - 1);
        snprintf(out->name, sizeof out->name, "%s", name ? name : "INPUT");
        return 0;
    }
    char names[512] = "";
    size_t at = 0;
    for (size_t k = 0; k < m->ninputs; k++) {
        if (name && strcmp(m->inputs[k].name, name) == 0) {
            *out = m->inputs[k];
            return 0;
        }
        if (at < sizeof names)
            at += (size_t)snprintf(names + at, sizeof names - at, k ? ", %s" : "%s", m->inputs[k].name);
    }
    if (name)
        return lg_err(err, -EINVAL, "--input-name %s: the model has no such input (its inputs: %s)", name,
                      names);
    if (m->ninputs != 1)
        return lg_err(err, -EINVAL, "the model has %zu inputs (%s) and images fill one; give --input-name, "
                      "or --input-data with every input", m->ninputs, names);
    *out = m->inputs[0];
    return 0;
}

/* ---- FP16 ------------------------------------------------------------------ */

/* Drops `shift` low bits of m, rounding to nearest, ties to even. */
static uint32_t round_even(uint32_t m, unsigned shift)
{
    uint32_t q = m >> shift, r = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    return q + (r > half || (r == half && (q & 1)));
}

uint16_t tensor_fp16_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t a = x & 0x7fffffff;
    if (a > 0x7f800000) /* NaN stays a (quiet) NaN */
        return sign | 0x7e00;
    /* 65520 is halfway between 65504 (odd mantissa) and 65536 (infinity):
     * from there up, infinity. */
    if (a >= 0x477ff000)
        return sign | 0x7c00;
    if (a >= 0x38800000) /* a normal half: rebias, 23 -> 10 mantissa bits */
        return sign | (uint16_t)round_even(((a >> 23) - 112) << 23 | (a & 0x7fffff), 13);
    /* Below 2^-14: a subnormal half counts units of 2^-24. The float is
     * mant x 2^(e-150), so in those units mant >> (126 - e). */
    unsigned e = a >> 23;
    if (e < 102) /* below 2^-25 (and float subnormals): rounds to zero */
        return sign;
    return sign | (uint16_t)round_even((a & 0x7fffff) | 0x800000, 126 - e);
}

float tensor_fp16_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, x;
    if (e == 0x1f)
        x = sign | 0x7f800000 | m << 13;
    else if (e)
        x = sign | (e + 112) << 23 | m << 13;
    else if (m == 0)
        x = sign;
    else { /* subnormal: normalise the mantissa */
        e = 113;
        while (!(m & 0x400)) {
            m <<= 1;
            e--;
        }
        x = sign | e << 23 | (m & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

/* ---- shapes ------------------------------------------------------------------ */

int tensor_parse_shape(const char *s, int64_t shape[TENSOR_MAX_DIMS], unsigned *ndims, char *err)
{
    unsigned n = 0;
    int64_t product = 1;
    const char *p = s;
    for (;;) {
        int neg = *p == '-';
        const char *digits = p + neg;
        int64_t v = 0;
        const char *q = digits;
        for (; *q >= '0' && *q <= '9'; q++)
            if ((v = v * 10 + (*q - '0')) > TENSOR_MAX_ELEMENTS)
                return lg_err(err, -EINVAL, "dimension %u is above %lld", n + 1, TENSOR_MAX_ELEMENTS);
        if (q == digits || (*q != ',' && *q != '\0'))
            return lg_err(err, -EINVAL, "dimension %u is not a whole number; write e.g. 1,224,224,3", n + 1);
        if (neg && (v != 1 || n > 0))
            return lg_err(err, -EINVAL, "dimension %u is negative; only the first (the batch) may be -1",
                          n + 1);
        if (v == 0)
            return lg_err(err, -EINVAL, "dimension %u is 0; every dimension is at least 1", n + 1);
        if (n == TENSOR_MAX_DIMS)
            return lg_err(err, -EINVAL, "more than %d dimensions", TENSOR_MAX_DIMS);
        shape[n++] = neg ? -1 : v;
        if (!neg && (product *= v) > TENSOR_MAX_ELEMENTS)
            return lg_err(err, -EINVAL, "more than %lld elements", TENSOR_MAX_ELEMENTS);
        if (*q == '\0')
            break;
        p = q + 1;
    }
    *ndims = n;
    return 0;
}

const char *tensor_shape_text(const int64_t *shape, unsigned ndims, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "[");
    for (unsigned i = 0; i < ndims && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, i ? ",%lld" : "%lld", (long long)shape[i]);
    if (at < len)
        snprintf(buf + at, len - at, "]");
    return buf;
}

/* ---- images ------------------------------------------------------------------- */

int tensor_image_plan(const struct tensor_spec *spec, enum tensor_norm norm,
                      struct tensor_image *out, int *batch_dim, char *err)
{
    char shape[160];
    tensor_shape_text(spec->shape, spec->ndims, shape, sizeof shape);
    const int64_t *d = spec->shape;
    unsigned n = spec->ndims;
    if (n != 3 && n != 4)
        return lg_err(err, -EINVAL, "input %s: shape %s is not an image's; give --shape N,H,W,3 "
                      "(NHWC) or N,3,H,W (NCHW)", spec->name, shape);
    const int64_t *hwc = d + n - 3;
    if (n == 4 && d[0] != -1 && d[0] != 1)
        return lg_err(err, -EINVAL, "input %s: shape %s: the batch dimension is %lld; write 1 (or -1) "
                      "and give --batch K", spec->name, shape, (long long)d[0]);
    for (int i = 0; i < 3; i++)
        if (hwc[i] < 1)
            return lg_err(err, -EINVAL, "input %s: shape %s: an image dimension is variable (-1); give "
                          "--shape with its size, e.g. 1,224,224,3", spec->name, shape);
    if (hwc[2] == 3)
        *out = (struct tensor_image){.layout = TENSOR_NHWC, .height = (int)hwc[0], .width = (int)hwc[1]};
    else if (hwc[0] == 3)
        *out = (struct tensor_image){.layout = TENSOR_NCHW, .height = (int)hwc[1], .width = (int)hwc[2]};
    else
        return lg_err(err, -EINVAL, "input %s: shape %s has no dimension of 3 colour channels, first or "
                      "last; write N,H,W,3 or N,3,H,W", spec->name, shape);
    if (out->height > 16384 || out->width > 16384)
        return lg_err(err, -EINVAL, "input %s: shape %s: images of at most 16384 x 16384", spec->name,
                      shape);
    out->dtype = spec->dtype;
    out->normalize = norm;
    const char *dt = tensor_dtype_name(spec->dtype);
    switch (spec->dtype) {
    case TENSOR_UINT8: case TENSOR_UINT16: case TENSOR_UINT32: case TENSOR_UINT64:
    case TENSOR_INT16: case TENSOR_INT32: case TENSOR_INT64:
        if (norm != TENSOR_NORM_NONE)
            return lg_err(err, -EINVAL, "input %s: --normalize %s makes fractions, which %s cannot hold; "
                          "use --datatype FP32 or FP16, or --normalize none", spec->name,
                          norm == TENSOR_NORM_UNIT ? "unit" : "imagenet", dt);
        break;
    case TENSOR_FP16: case TENSOR_FP32: case TENSOR_FP64:
        break;
    default:
        return lg_err(err, -EINVAL, "input %s: datatype %s cannot hold pixels 0..255; use FP32, FP16, "
                      "UINT8 or INT64 (BYTES sends the encoded image)", spec->name,
                      *dt ? dt : "(none)");
    }
    *batch_dim = n == 4;
    return 0;
}

double tensor_normalized(enum tensor_norm norm, int c, unsigned v)
{
    static const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
    switch (norm) {
    case TENSOR_NORM_UNIT:
        return v / 255.0;
    case TENSOR_NORM_IMAGENET:
        return (v / 255.0 - mean[c]) / std[c];
    default:
        return v;
    }
}

/* A number's little-endian bytes as datatype d (images give values in
 * range: 0..255, or fractions for the float types). */
static void store(enum tensor_dtype d, double v, unsigned char *p)
{
    uint64_t u = 0;
    switch (d) {
    case TENSOR_FP16:
        u = tensor_fp16_from_float((float)v);
        break;
    case TENSOR_FP32: {
        float f = (float)v;
        uint32_t w;
        memcpy(&w, &f, sizeof w);
        u = w;
        break;
    }
    case TENSOR_FP64:
        memcpy(&u, &v, sizeof u);
        break;
    default:
        u = (uint64_t)(int64_t)llround(v);
        break;
    }
    for (size_t i = 0; i < tensor_dtype_size(d); i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

void tensor_from_rgb(const unsigned char *rgb, const struct tensor_image *img, unsigned char *out)
{
    size_t esz = tensor_dtype_size(img->dtype);
    unsigned char table[3][256][8];
    for (int c = 0; c < 3; c++)
        for (unsigned v = 0; v < 256; v++)
            store(img->dtype, tensor_normalized(img->normalize, c, v), table[c][v]);
    size_t plane = (size_t)img->height * (size_t)img->width;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            size_t at = img->layout == TENSOR_NHWC ? i * 3 + (size_t)c : (size_t)c * plane + i;
            memcpy(out + at * esz, table[c][rgb[i * 3 + (size_t)c]], esz);
        }
}

void tensor_resize_rgb(const unsigned char *src, int sw, int sh, unsigned char *dst, int dw, int dh)
{
    if (sw == dw && sh == dh) { /* the IDCT's scale may land on the size */
        memcpy(dst, src, (size_t)sw * (size_t)sh * 3);
        return;
    }
    /* Source coordinate of a destination pixel's centre, clamped to the
     * image: the half-pixel convention of OpenCV's INTER_LINEAR. */
    double sx = (double)sw / dw, sy = (double)sh / dh;
    for (int y = 0; y < dh; y++) {
        double fy = ((double)y + 0.5) * sy - 0.5;
        fy = fy < 0 ? 0 : fy > sh - 1 ? sh - 1 : fy;
        int y0 = (int)fy, y1 = y0 + 1 < sh ? y0 + 1 : y0;
        double wy = fy - y0;
        const unsigned char *r0 = src + (size_t)y0 * (size_t)sw * 3, *r1 = src + (size_t)y1 * (size_t)sw * 3;
        unsigned char *out = dst + (size_t)y * (size_t)dw * 3;
        for (int x = 0; x < dw; x++) {
            double fx = ((double)x + 0.5) * sx - 0.5;
            fx = fx < 0 ? 0 : fx > sw - 1 ? sw - 1 : fx;
            int x0 = (int)fx, x1 = x0 + 1 < sw ? x0 + 1 : x0;
            double wx = fx - x0;
            for (int c = 0; c < 3; c++) {
                double top = r0[x0 * 3 + c] + (r0[x1 * 3 + c] - r0[x0 * 3 + c]) * wx;
                double bot = r1[x0 * 3 + c] + (r1[x1 * 3 + c] - r1[x0 * 3 + c]) * wx;
                out[x * 3 + c] = (unsigned char)(top + (bot - top) * wy + 0.5);
            }
        }
    }
}

int tensor_decode_rgb(const unsigned char *jpeg, size_t len, int width, int height,
                      unsigned char *rgb, char *err)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_fail jf;
    unsigned char *volatile full = NULL;
    cinfo.err = jpeg_fail_init(&jf);
    if (setjmp(jf.jump)) {
        char msg[JMSG_LENGTH_MAX];
        jf.pub.format_message((j_common_ptr)&cinfo, msg);
        jpeg_destroy_decompress(&cinfo);
        free(full);
        return lg_err(err, -EINVAL, "not a decodable JPEG (libjpeg: %s)", msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, jpeg, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&cinfo);
        return lg_err(err, -EINVAL, "a CMYK JPEG; convert it to RGB");
    }
    cinfo.out_color_space = JCS_RGB; /* grey is replicated into R, G and B */
    /* The IDCT can scale by 1/2, 1/4 or 1/8 almost for free: take the
     * smallest that is still at least the target, and resize from there. */
    cinfo.scale_num = 1;
    cinfo.scale_denom = 1;
    for (unsigned d = 8; d > 1; d /= 2)
        if ((cinfo.image_width + d - 1) / d >= (unsigned)width &&
            (cinfo.image_height + d - 1) / d >= (unsigned)height) {
            cinfo.scale_denom = d;
            break;
        }
    cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&cinfo);
    unsigned w = cinfo.output_width, h = cinfo.output_height;
    if (cinfo.output_components != 3) {
        jpeg_destroy_decompress(&cinfo);
        return lg_err(err, -EINVAL, "%d colour components after decoding; give RGB or greyscale JPEGs",
                      cinfo.output_components);
    }
    full = malloc((size_t)w * h * 3);
    if (!full) {
        jpeg_destroy_decompress(&cinfo);
        return lg_err(err, -ENOMEM, "out of memory decoding %u x %u", w, h);
    }
    while (cinfo.output_scanline < h) {
        JSAMPROW row = full + (size_t)cinfo.output_scanline * w * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    tensor_resize_rgb(full, (int)w, (int)h, rgb, width, height);
    free(full);
    return 0;
}

/* ---- the set from a corpus ---------------------------------------------------- */

/* Hundreds of MB written once: in 2 MiB pages where the kernel allows it
 * (transparent huge pages on madvise), the first touch of each costs one
 * fault instead of 512, which on a VM is most of the time to fill them. */
static void *alloc_huge(size_t n)
{
    void *p = malloc(n);
    long page = sysconf(_SC_PAGESIZE);
    if (p && page > 0 && n >= (4u << 20)) {
        uintptr_t a = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
        uintptr_t e = ((uintptr_t)p + n) & ~((uintptr_t)page - 1);
        if (e > a)
            madvise((void *)a, e - a, MADV_HUGEPAGE); /* a hint: failure changes nothing */
    }
    return p;
}

void tensor_set_destroy(struct tensor_set *s)
{
    if (!s)
        return;
    free(s->t);
    free(s->block);
    free(s);
}

int tensor_set_from_corpus(struct tensor_set **out, const struct corpus *c,
                           const struct tensor_spec *spec, enum tensor_norm norm, char *err)
{
    struct tensor_image img;
    int batch_dim, rc;
    *out = NULL;
    if ((rc = tensor_image_plan(spec, norm, &img, &batch_dim, err)) < 0)
        return rc;
    if (!c || c->count == 0)
        return lg_err(err, -EINVAL, "no images to make tensors of; give --images DIR or --synthetic N");
    size_t elements = (size_t)img.height * (size_t)img.width * 3;
    size_t len = elements * tensor_dtype_size(img.dtype), namelen = strlen(spec->name) + 1;
    /* The tensors are held while the bodies are built from them: refuse a
     * set that cannot fit twice in half the memory rather than swap. */
    double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    double need = (double)len * (double)c->count;
    if (ram > 0 && need * 2 > ram / 2)
        return lg_err(err, -EINVAL, "%zu images as %s %s tensors: %.1f GB, and as much again for the "
                      "bodies, more than half of this machine's %.1f GB; use fewer images",
                      c->count, tensor_dtype_name(img.dtype), spec->name, need / 1e9, ram / 1e9),
               -ENOMEM;
    struct tensor_set *s = calloc(1, sizeof *s);
    unsigned char *rgb = malloc(elements);
    if (s) {
        s->t = calloc(c->count, sizeof *s->t);
        s->block = alloc_huge(namelen + len * c->count);
    }
    if (!s || !rgb || !s->t || !s->block) {
        free(rgb);
        tensor_set_destroy(s);
        return lg_err(err, -ENOMEM, "out of memory for %zu tensors of %zu bytes", c->count, len);
    }
    memcpy(s->block, spec->name, namelen);
    s->count = c->count;
    s->ninputs = 1;
    s->batch_dim = batch_dim;
    for (size_t i = 0; i < c->count; i++) {
        const struct corpus_item *it = &c->items[i];
        struct tensor *t = &s->t[i];
        char why[LG_ERRLEN];
        if (it->kind != CORPUS_JPEG) {
            rc = lg_err(err, -EINVAL, "%s: a PNG; tensors are made from JPEGs (libjpeg); convert it or "
                        "leave it out", it->name);
            break;
        }
        if ((rc = tensor_decode_rgb(it->data, it->len, img.width, img.height, rgb, why)) < 0) {
            lg_err(err, -EINVAL, "%s: %s", it->name, why);
            break;
        }
        *t = (struct tensor){.name = (const char *)s->block, .dtype = img.dtype,
                             .ndims = spec->ndims, .elements = elements,
                             .data = s->block + namelen + len * i, .len = len};
        memcpy(t->shape, spec->shape, sizeof t->shape);
        if (batch_dim)
            t->shape[0] = 1;
        tensor_from_rgb(rgb, &img, s->block + namelen + len * i);
        s->total_bytes += len;
    }
    free(rgb);
    if (rc < 0) {
        tensor_set_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}
