/*
 * test_tensor.c: the datatype table, exact FP16 bits, shapes, and images
 * made into tensors: JPEGs written here with libjpeg (and the corpus's
 * synthetic ones) decoded, resized, laid out NHWC and NCHW, normalised and
 * converted, with every expected value computed from the definitions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

#include "common.h"
#include "corpus.h"
#include "tensor.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static void contains(const char *err, const char *needle)
{
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

/* An RGB (components 3) or grey (1) image as a JPEG of the best quality. */
static unsigned char *jpeg_of(const unsigned char *px, int w, int h, int components, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *out = NULL;
    unsigned long n = 0;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = components;
    c.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)px + (size_t)c.next_scanline * (size_t)w * (size_t)components;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *len = n;
    return out;
}

static unsigned char *constant_jpeg(int w, int h, unsigned char r, unsigned char g, unsigned char b,
                                    size_t *len)
{
    unsigned char *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) {
        px[i * 3] = r;
        px[i * 3 + 1] = g;
        px[i * 3 + 2] = b;
    }
    unsigned char *j = jpeg_of(px, w, h, 3, len);
    free(px);
    return j;
}

static void dtype_table_parses_names_and_sizes(void **state)
{
    static const struct { const char *name; enum tensor_dtype d; size_t size; } want[] = {
        {"BOOL", TENSOR_BOOL, 1},     {"UINT8", TENSOR_UINT8, 1},   {"UINT16", TENSOR_UINT16, 2},
        {"UINT32", TENSOR_UINT32, 4}, {"UINT64", TENSOR_UINT64, 8}, {"INT8", TENSOR_INT8, 1},
        {"INT16", TENSOR_INT16, 2},   {"INT32", TENSOR_INT32, 4},   {"INT64", TENSOR_INT64, 8},
        {"FP16", TENSOR_FP16, 2},     {"FP32", TENSOR_FP32, 4},     {"FP64", TENSOR_FP64, 8},
        {"BYTES", TENSOR_BYTES, 0},
    };
    for (size_t i = 0; i < LEN(want); i++) {
        enum tensor_dtype d = TENSOR_NONE;
        assert_int_equal(tensor_parse_dtype(want[i].name, &d), 0);
        assert_int_equal(d, want[i].d);
        assert_string_equal(tensor_dtype_name(d), want[i].name);
        assert_int_equal(tensor_dtype_size(d), want[i].size);
    }
    enum tensor_dtype d;
    assert_int_equal(tensor_parse_dtype("fp32", &d), 0); /* any case */
    assert_int_equal(d, TENSOR_FP32);
    assert_int_equal(tensor_parse_dtype("FLOAT", &d), -EINVAL);
    assert_int_equal(tensor_parse_dtype("", &d), -EINVAL);
    assert_int_equal(tensor_parse_dtype("FP", &d), -EINVAL);
    assert_true(tensor_dtype_is_float(TENSOR_FP16) && !tensor_dtype_is_float(TENSOR_INT64));
}

static float f_of_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static void fp16_is_exact_with_ties_to_even(void **state)
{
    static const struct { float f; uint16_t h; } want[] = {
        {1.0f, 0x3C00},   {-2.0f, 0xC000},  {0.0f, 0x0000},    {-0.0f, 0x8000},
        {0.5f, 0x3800},   {65504.0f, 0x7BFF}, {65519.0f, 0x7BFF}, /* below the tie: down */
        {65520.0f, 0x7C00},                 /* the tie of 65504 (odd) and 2^16: infinity */
        {1e9f, 0x7C00},   {0.1f, 0x2E66},   {0.333333343f, 0x3555},
        {5.9604644775390625e-08f, 0x0001},  /* 2^-24, the smallest subnormal */
        {2.98023223876953125e-08f, 0x0000}, /* 2^-25: a tie between 0 and 2^-24: even, 0 */
        {4.470348358154296875e-08f, 0x0001},/* 1.5 x 2^-25 rounds up */
        {8.94069671630859375e-08f, 0x0002}, /* 1.5 x 2^-24: tie of 1 and 2 units: even, 2 */
        {6.103515625e-05f, 0x0400},         /* 2^-14, the smallest normal */
        {6.0975551605224609375e-05f, 0x03FF}, /* the largest subnormal */
        {1.00048828125f, 0x3C00},           /* 1 + 2^-11: tie, to the even 1.0 */
        {1.00146484375f, 0x3C02},           /* 1 + 3 x 2^-11: tie, to the even 1 + 2^-9 */
        {1.0009765625f, 0x3C01},            /* 1 + 2^-10, exact */
        {2047.0f, 0x67FF}, {2049.0f, 0x6800}, /* 2049 ties between 2048 and 2050: 2048 */
        {2051.0f, 0x6802},                  /* between 2050 (odd) and 2052: 2052 */
    };
    for (size_t i = 0; i < LEN(want); i++)
        if (tensor_fp16_from_float(want[i].f) != want[i].h)
            fail_msg("%.10g: got 0x%04X, want 0x%04X", (double)want[i].f,
                     tensor_fp16_from_float(want[i].f), want[i].h);
    assert_int_equal(tensor_fp16_from_float(-INFINITY), 0xFC00);
    assert_int_equal(tensor_fp16_from_float(f_of_bits(0x7fc00000)) & 0x7e00, 0x7e00); /* NaN */
    /* Every half that is a number reads back exactly through float. */
    for (uint32_t h = 0; h < 0x10000; h++)
        if ((h & 0x7c00) != 0x7c00 || (h & 0x3ff) == 0)
            if (tensor_fp16_from_float(tensor_fp16_to_float((uint16_t)h)) != h)
                fail_msg("0x%04X does not round-trip", h);
    assert_true(tensor_fp16_to_float(0x0001) == 5.9604644775390625e-08f);
    assert_true(tensor_fp16_to_float(0x7BFF) == 65504.0f);
}

static void shapes_parse_with_batch_only_variable(void **state)
{
    int64_t s[TENSOR_MAX_DIMS];
    unsigned n;
    char err[LG_ERRLEN];
    assert_int_equal(tensor_parse_shape("1,224,224,3", s, &n, err), 0);
    assert_int_equal(n, 4);
    assert_true(s[0] == 1 && s[1] == 224 && s[2] == 224 && s[3] == 3);
    assert_int_equal(tensor_parse_shape("-1,3,8,8", s, &n, err), 0);
    assert_true(s[0] == -1 && n == 4);
    assert_int_equal(tensor_parse_shape("7", s, &n, err), 0);
    assert_true(n == 1 && s[0] == 7);
    static const struct { const char *in, *why; } bad[] = {
        {"1,-1,3", "only the first"}, {"-2,3", "negative"}, {"1,0,3", "is 0"},
        {"", "not a whole number"}, {"1,,3", "not a whole number"}, {"1,2,", "not a whole number"},
        {"1 ,2", "not a whole number"}, {"1,2,3,4,5,6,7,8,9", "more than 8"},
        {"65536,65536", "more than"}, {"99999999999", "above"}, {"0x10", "not a whole number"},
    };
    for (size_t i = 0; i < LEN(bad); i++) {
        err[0] = '\0';
        if (tensor_parse_shape(bad[i].in, s, &n, err) != -EINVAL)
            fail_msg("'%s' parsed", bad[i].in);
        contains(err, bad[i].why);
    }
    char buf[64];
    int64_t d[] = {-1, 3, 224, 224};
    assert_string_equal(tensor_shape_text(d, 4, buf, sizeof buf), "[-1,3,224,224]");
}

static void resize_keeps_a_constant_colour_and_interpolates_linearly(void **state)
{
    unsigned char src[7 * 5 * 3], dst[13 * 3 * 3];
    for (size_t i = 0; i < sizeof src; i += 3) {
        src[i] = 200;
        src[i + 1] = 17;
        src[i + 2] = 255;
    }
    tensor_resize_rgb(src, 7, 5, dst, 13, 3);
    for (size_t i = 0; i < sizeof dst; i += 3)
        assert_true(dst[i] == 200 && dst[i + 1] == 17 && dst[i + 2] == 255);
    /* Two pixels, 0 and 255, to four: centres at -0.25 (clamped), 0.25,
     * 0.75, 1.25 (clamped) of the source. */
    unsigned char two[6] = {0, 0, 0, 255, 255, 255}, four[12];
    tensor_resize_rgb(two, 2, 1, four, 4, 1);
    assert_int_equal(four[0], 0);
    assert_int_equal(four[3], 64);  /* 63.75 */
    assert_int_equal(four[6], 191); /* 191.25 */
    assert_int_equal(four[9], 255);
}

static void decode_gives_the_colour_of_a_constant_jpeg_at_any_size(void **state)
{
    size_t len;
    unsigned char *j = constant_jpeg(640, 480, 200, 100, 50, &len);
    /* 640x480 to 64x48: the IDCT scales by 1/8 (80x60), then the resize. */
    static const int sizes[][2] = {{64, 48}, {224, 224}, {800, 600}, {7, 3}};
    char err[LG_ERRLEN];
    for (size_t k = 0; k < LEN(sizes); k++) {
        int w = sizes[k][0], h = sizes[k][1];
        unsigned char *rgb = malloc((size_t)w * h * 3);
        assert_int_equal(tensor_decode_rgb(j, len, w, h, rgb, err), 0);
        for (int i = 0; i < w * h; i++)
            if (abs(rgb[i * 3] - 200) > 2 || abs(rgb[i * 3 + 1] - 100) > 2 ||
                abs(rgb[i * 3 + 2] - 50) > 2)
                fail_msg("%dx%d pixel %d: %d,%d,%d", w, h, i, rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]);
        free(rgb);
    }
    free(j);
    /* A grey JPEG: R = G = B. */
    unsigned char grey[16 * 16];
    for (int i = 0; i < 256; i++)
        grey[i] = (unsigned char)i;
    j = jpeg_of(grey, 16, 16, 1, &len);
    unsigned char rgb[16 * 16 * 3];
    assert_int_equal(tensor_decode_rgb(j, len, 16, 16, rgb, err), 0);
    for (int i = 0; i < 256; i++) {
        assert_int_equal(rgb[i * 3], rgb[i * 3 + 1]);
        assert_int_equal(rgb[i * 3], rgb[i * 3 + 2]);
        assert_true(abs(rgb[i * 3] - i) <= 3);
    }
    free(j);
    /* Not a JPEG: an error, not a crash nor an exit. */
    unsigned char junk[64] = {0xFF, 0xD8, 0xFF, 0xE0};
    assert_int_equal(tensor_decode_rgb(junk, sizeof junk, 8, 8, rgb, err), -EINVAL);
    contains(err, "not a decodable JPEG");
}

static void nhwc_and_nchw_put_each_channel_where_the_shape_says(void **state)
{
    /* 3 wide, 2 high: pixel i has channels (10i, 10i+1, 10i+2). */
    unsigned char rgb[18], out[18];
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 3; c++)
            rgb[i * 3 + c] = (unsigned char)(10 * i + c);
    struct tensor_image img = {TENSOR_UINT8, TENSOR_NHWC, 2, 3, TENSOR_NORM_NONE};
    tensor_from_rgb(rgb, &img, out);
    assert_memory_equal(out, rgb, 18); /* [h][w][c] */
    img.layout = TENSOR_NCHW;
    tensor_from_rgb(rgb, &img, out);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                assert_int_equal(out[c * 6 + y * 3 + x], 10 * (y * 3 + x) + c); /* [c][h][w] */
    /* INT64: little-endian, 8 bytes each. */
    unsigned char wide[18 * 8];
    img.dtype = TENSOR_INT64;
    tensor_from_rgb(rgb, &img, wide);
    assert_int_equal(wide[8 * 7], 11); /* NCHW element 7: channel 1 of pixel 1 */
    for (int k = 1; k < 8; k++)
        assert_int_equal(wide[8 * 7 + k], 0);
}

static void normalisation_of_known_pixels(void **state)
{
    static const double mean[3] = {0.485, 0.456, 0.406}, sd[3] = {0.229, 0.224, 0.225};
    unsigned char rgb[3] = {255, 0, 124};
    float f[3];
    struct tensor_image img = {TENSOR_FP32, TENSOR_NHWC, 1, 1, TENSOR_NORM_IMAGENET};
    tensor_from_rgb(rgb, &img, (unsigned char *)f);
    for (int c = 0; c < 3; c++)
        assert_true(f[c] == (float)((rgb[c] / 255.0 - mean[c]) / sd[c]));
    assert_true(fabsf(f[0] - 2.2489083f) < 1e-6f);
    assert_true(fabsf(f[1] - -2.0357143f) < 1e-6f);
    img.normalize = TENSOR_NORM_UNIT;
    tensor_from_rgb(rgb, &img, (unsigned char *)f);
    assert_true(f[0] == 1.0f && f[1] == 0.0f && f[2] == (float)(124 / 255.0));
    img.normalize = TENSOR_NORM_NONE;
    tensor_from_rgb(rgb, &img, (unsigned char *)f);
    assert_true(f[0] == 255.0f && f[1] == 0.0f && f[2] == 124.0f);
    uint16_t h[3];
    img.dtype = TENSOR_FP16;
    img.normalize = TENSOR_NORM_UNIT;
    tensor_from_rgb(rgb, &img, (unsigned char *)h);
    assert_int_equal(h[0], 0x3C00);
    assert_int_equal(h[1], 0x0000);
    assert_int_equal(h[2], tensor_fp16_from_float((float)(124 / 255.0)));
}

static struct tensor_spec spec_of(const char *shape, enum tensor_dtype d)
{
    struct tensor_spec s = {.dtype = d};
    char err[LG_ERRLEN];
    snprintf(s.name, sizeof s.name, "IN");
    if (tensor_parse_shape(shape, s.shape, &s.ndims, err) < 0)
        fail_msg("%s: %s", shape, err);
    return s;
}

static void image_plans_from_shapes(void **state)
{
    struct tensor_image img;
    int bd;
    char err[LG_ERRLEN];
    struct tensor_spec s = spec_of("-1,224,200,3", TENSOR_FP32);
    assert_int_equal(tensor_image_plan(&s, TENSOR_NORM_IMAGENET, &img, &bd, err), 0);
    assert_true(img.layout == TENSOR_NHWC && img.height == 224 && img.width == 200 && bd == 1);
    s = spec_of("1,3,100,120", TENSOR_UINT8);
    assert_int_equal(tensor_image_plan(&s, TENSOR_NORM_NONE, &img, &bd, err), 0);
    assert_true(img.layout == TENSOR_NCHW && img.height == 100 && img.width == 120 && bd == 1);
    s = spec_of("32,32,3", TENSOR_INT64);
    assert_int_equal(tensor_image_plan(&s, TENSOR_NORM_NONE, &img, &bd, err), 0);
    assert_true(img.layout == TENSOR_NHWC && bd == 0);
    static const struct { const char *shape; enum tensor_dtype d; enum tensor_norm n; const char *why; } bad[] = {
        {"1,224,224,4", TENSOR_FP32, TENSOR_NORM_NONE, "colour channels"},
        {"2,224,224,3", TENSOR_FP32, TENSOR_NORM_NONE, "batch dimension is 2"},
        {"1,224", TENSOR_FP32, TENSOR_NORM_NONE, "not an image"},
        {"1,224,224,3", TENSOR_UINT8, TENSOR_NORM_IMAGENET, "cannot hold"},
        {"1,224,224,3", TENSOR_INT8, TENSOR_NORM_NONE, "cannot hold pixels"},
        {"1,224,224,3", TENSOR_BOOL, TENSOR_NORM_NONE, "cannot hold pixels"},
        {"1,224,224,3", TENSOR_NONE, TENSOR_NORM_NONE, "cannot hold pixels"},
    };
    for (size_t i = 0; i < LEN(bad); i++) {
        s = spec_of(bad[i].shape, bad[i].d);
        if (tensor_image_plan(&s, bad[i].n, &img, &bd, err) != -EINVAL)
            fail_msg("%s accepted", bad[i].shape);
        contains(err, bad[i].why);
    }
    s = spec_of("1,224,224,3", TENSOR_FP32);
    s.shape[1] = -1; /* as metadata may say */
    assert_int_equal(tensor_image_plan(&s, TENSOR_NORM_NONE, &img, &bd, err), -EINVAL);
    contains(err, "variable");
}

static void a_synthetic_corpus_becomes_one_tensor_per_image(void **state)
{
    struct corpus *c;
    char err[LG_ERRLEN];
    struct corpus_options co = {.synthetic = 5, .width = 320, .height = 240, .seed = 3};
    assert_int_equal(corpus_load(&c, &co, err), 0);
    struct tensor_spec s = spec_of("1,3,64,48", TENSOR_FP16);
    struct tensor_set *ts;
    assert_int_equal(tensor_set_from_corpus(&ts, c, &s, TENSOR_NORM_UNIT, err), 0);
    assert_int_equal(ts->count, 5);
    assert_int_equal(ts->ninputs, 1);
    assert_int_equal(ts->batch_dim, 1);
    assert_int_equal(ts->total_bytes, 5 * 64 * 48 * 3 * 2);
    for (size_t i = 0; i < 5; i++) {
        const struct tensor *t = tensor_at(ts, i, 0);
        assert_string_equal(t->name, "IN");
        assert_int_equal(t->elements, 64 * 48 * 3);
        assert_int_equal(t->len, 64 * 48 * 3 * 2);
        assert_true(t->ndims == 4 && t->shape[0] == 1 && t->shape[1] == 3);
        /* the same bytes as decoding the image by hand */
        unsigned char rgb[48 * 64 * 3], want[48 * 64 * 3 * 2];
        assert_int_equal(tensor_decode_rgb(c->items[i].data, c->items[i].len, 48, 64, rgb, err), 0);
        struct tensor_image img = {TENSOR_FP16, TENSOR_NCHW, 64, 48, TENSOR_NORM_UNIT};
        tensor_from_rgb(rgb, &img, want);
        assert_memory_equal(t->data, want, sizeof want);
    }
    tensor_set_destroy(ts);
    /* A PNG or a broken JPEG is named. */
    c->items[2].kind = CORPUS_PNG;
    assert_int_equal(tensor_set_from_corpus(&ts, c, &s, TENSOR_NORM_UNIT, err), -EINVAL);
    assert_null(ts);
    contains(err, c->items[2].name);
    contains(err, "PNG");
    c->items[2].kind = CORPUS_JPEG;
    c->items[3].len = 10;
    assert_int_equal(tensor_set_from_corpus(&ts, c, &s, TENSOR_NORM_UNIT, err), -EINVAL);
    contains(err, c->items[3].name);
    corpus_destroy(c);
}

static void image_input_comes_from_the_model_or_the_flags(void **state)
{
    struct tensor_options o = {.dtype = TENSOR_FP32, .ndims = 2, .shape = {-1, 4}};
    struct tensor_spec s;
    char err[LG_ERRLEN];
    assert_int_equal(tensor_model_image_input(NULL, &o, NULL, &s, err), 0);
    assert_string_equal(s.name, "INPUT");
    assert_true(s.dtype == TENSOR_FP32 && s.ndims == 2 && s.shape[1] == 4);
    struct tensor_model m = {.ninputs = 2};
    snprintf(m.inputs[0].name, sizeof m.inputs[0].name, "a");
    snprintf(m.inputs[1].name, sizeof m.inputs[1].name, "b");
    m.inputs[1].dtype = TENSOR_UINT8;
    assert_int_equal(tensor_model_image_input(&m, &o, NULL, &s, err), -EINVAL);
    contains(err, "2 inputs (a, b)");
    assert_int_equal(tensor_model_image_input(&m, &o, "c", &s, err), -EINVAL);
    contains(err, "no such input");
    tensor_model_apply(&m, &o); /* the flags win over the metadata */
    assert_int_equal(tensor_model_image_input(&m, &o, "b", &s, err), 0);
    assert_true(s.dtype == TENSOR_FP32 && s.ndims == 2);
    assert_int_equal(tensor_options_need_metadata(&o, "b"), 0);
    assert_int_equal(tensor_options_need_metadata(&o, NULL), 1); /* the name is the model's */
    o.ndims = 0;
    assert_int_equal(tensor_options_need_metadata(&o, "b"), 1);
    o.input_data = "x.json"; /* it names the inputs; values may carry their shapes */
    assert_int_equal(tensor_options_need_metadata(&o, NULL), 0);
    o.dtype = TENSOR_NONE;
    assert_int_equal(tensor_options_need_metadata(&o, NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dtype_table_parses_names_and_sizes),
        cmocka_unit_test(fp16_is_exact_with_ties_to_even),
        cmocka_unit_test(shapes_parse_with_batch_only_variable),
        cmocka_unit_test(resize_keeps_a_constant_colour_and_interpolates_linearly),
        cmocka_unit_test(decode_gives_the_colour_of_a_constant_jpeg_at_any_size),
        cmocka_unit_test(nhwc_and_nchw_put_each_channel_where_the_shape_says),
        cmocka_unit_test(normalisation_of_known_pixels),
        cmocka_unit_test(image_plans_from_shapes),
        cmocka_unit_test(a_synthetic_corpus_becomes_one_tensor_per_image),
        cmocka_unit_test(image_input_comes_from_the_model_or_the_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
