/*
 * test_inputdata.c: perf_analyzer's --input-data JSON: each shape an entry
 * can take (a flat list, content + shape, b64, several inputs, BYTES),
 * the bytes each gives, and every error naming the file, entry and input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "inputdata.h"
#include "tensor.h"

static struct tensor_spec spec(const char *name, enum tensor_dtype d, const char *shape)
{
    struct tensor_spec s = {.dtype = d};
    char err[LG_ERRLEN];
    snprintf(s.name, sizeof s.name, "%s", name);
    if (shape && tensor_parse_shape(shape, s.shape, &s.ndims, err) < 0)
        fail_msg("%s: %s", shape, err);
    return s;
}

static struct tensor_set *parse_ok(const char *json, const struct inputdata_want *w)
{
    struct tensor_set *s = NULL;
    char err[LG_ERRLEN] = "";
    if (inputdata_parse(&s, "in.json", json, strlen(json), w, err) != 0)
        fail_msg("%s", err);
    return s;
}

static void parse_fails(const char *json, const struct inputdata_want *w, const char *needle)
{
    struct tensor_set *s = (struct tensor_set *)1;
    char err[LG_ERRLEN] = "";
    assert_int_equal(inputdata_parse(&s, "in.json", json, strlen(json), w, err), -EINVAL);
    assert_null(s);
    if (!strstr(err, needle) || strncmp(err, "in.json: ", 9) != 0)
        fail_msg("error \"%s\" does not start with the file and mention \"%s\"", err, needle);
    assert_null(strchr(err, '\n'));
}

static void a_flat_list_takes_the_shape_of_the_flags(void **state)
{
    struct tensor_spec fb = spec("", TENSOR_FP32, "-1,2,2");
    struct inputdata_want w = {NULL, &fb};
    struct tensor_set *s = parse_ok("{\"data\": [{\"INPUT0\": [1, 2.5, -3, 0.1]},"
                                    " {\"INPUT0\": [[5, 6], [7, 8]]}]}", &w);
    assert_int_equal(s->count, 2);
    assert_int_equal(s->ninputs, 1);
    assert_int_equal(s->batch_dim, 1);
    const struct tensor *t = tensor_at(s, 0, 0);
    assert_string_equal(t->name, "INPUT0");
    assert_int_equal(t->dtype, TENSOR_FP32);
    assert_true(t->ndims == 3 && t->shape[0] == 1 && t->shape[1] == 2 && t->shape[2] == 2);
    assert_int_equal(t->elements, 4);
    float want[4] = {1, 2.5f, -3, 0.1f};
    assert_int_equal(t->len, sizeof want);
    assert_memory_equal(t->data, want, sizeof want);
    float want2[4] = {5, 6, 7, 8}; /* nested lists are flattened */
    assert_memory_equal(tensor_at(s, 1, 0)->data, want2, sizeof want2);
    assert_int_equal(s->total_bytes, 32);
    tensor_set_destroy(s);
}

static void content_and_shape_leave_the_batch_out(void **state)
{
    struct tensor_model m = {.ninputs = 1};
    m.inputs[0] = spec("x", TENSOR_INT64, "-1,5");
    m.inputs[0].shape[1] = -1; /* variable, as metadata may say */
    struct inputdata_want w = {&m, NULL};
    struct tensor_set *s = parse_ok("{\"data\": [{\"x\": {\"content\": [1, -2, 3], \"shape\": [3]}},"
                                    " {\"x\": {\"content\": [4, 5], \"shape\": [1, 2]}}]}", &w);
    const struct tensor *a = tensor_at(s, 0, 0), *b = tensor_at(s, 1, 0);
    assert_true(a->ndims == 2 && a->shape[0] == 1 && a->shape[1] == 3);
    assert_true(b->ndims == 2 && b->shape[0] == 1 && b->shape[1] == 2);
    int64_t want[3] = {1, -2, 3};
    assert_memory_equal(a->data, want, sizeof want);
    assert_int_equal(b->len, 16);
    tensor_set_destroy(s);
    /* A model without a batch dimension: the shape as it is. */
    m.inputs[0] = spec("x", TENSOR_UINT8, "2,2");
    s = parse_ok("{\"data\": [{\"x\": {\"content\": [1, 2, 3, 255], \"shape\": [2, 2]}}]}", &w);
    assert_int_equal(s->batch_dim, 0);
    assert_true(tensor_at(s, 0, 0)->shape[0] == 2);
    unsigned char u8[4] = {1, 2, 3, 255};
    assert_memory_equal(tensor_at(s, 0, 0)->data, u8, 4);
    tensor_set_destroy(s);
}

static void b64_is_the_raw_little_endian_bytes(void **state)
{
    struct tensor_spec fb = spec("", TENSOR_FP32, NULL);
    struct inputdata_want w = {NULL, &fb};
    /* 1.0f, 2.0f: 00 00 80 3F 00 00 00 40 */
    struct tensor_set *s = parse_ok("{\"data\": [{\"IN\": {\"b64\": \"AACAPwAAAEA=\", \"shape\": [2]}}]}", &w);
    const struct tensor *t = tensor_at(s, 0, 0);
    float want[2] = {1, 2};
    assert_int_equal(t->len, 8);
    assert_memory_equal(t->data, want, 8);
    assert_true(t->ndims == 1 && t->shape[0] == 2 && s->batch_dim == 0);
    tensor_set_destroy(s);
    parse_fails("{\"data\": [{\"IN\": {\"b64\": \"AACAPwAAAE\", \"shape\": [2]}}]}", &w,
                "not valid base64");
    parse_fails("{\"data\": [{\"IN\": {\"b64\": \"AACAPwAA\", \"shape\": [2]}}]}", &w,
                "not a whole number of 4-byte FP32");
    parse_fails("{\"data\": [{\"IN\": {\"b64\": \"AACAPwAAAEA=\", \"shape\": [3]}}]}", &w,
                "2 values, but the shape [3] holds 3");
    parse_fails("{\"data\": [{\"IN\": {\"b64\": 5}}]}", &w, "must be a string");
}

static void several_inputs_follow_the_model_order(void **state)
{
    struct tensor_model m = {.ninputs = 2};
    m.inputs[0] = spec("ids", TENSOR_INT32, "-1,3");
    m.inputs[1] = spec("text", TENSOR_BYTES, "-1,2");
    struct inputdata_want w = {&m, NULL};
    struct tensor_set *s = parse_ok(
        "{\"data\": [{\"text\": [\"ab\", \"\\\"q\\\"\"], \"ids\": [1, 2, 3]},"
        "            {\"ids\": [4, 5, 6], \"text\": {\"content\": [\"x\", \"yz\"], \"shape\": [2]}}]}", &w);
    assert_int_equal(s->count, 2);
    assert_int_equal(s->ninputs, 2);
    assert_string_equal(tensor_at(s, 0, 0)->name, "ids");
    assert_string_equal(tensor_at(s, 0, 1)->name, "text");
    int32_t ids[3] = {4, 5, 6};
    assert_memory_equal(tensor_at(s, 1, 0)->data, ids, sizeof ids);
    /* BYTES: 4-byte little-endian length, then the bytes, per element */
    static const unsigned char text[] = {2, 0, 0, 0, 'a', 'b', 3, 0, 0, 0, '"', 'q', '"'};
    const struct tensor *t = tensor_at(s, 0, 1);
    assert_int_equal(t->len, sizeof text);
    assert_memory_equal(t->data, text, sizeof text);
    assert_int_equal(t->elements, 2);
    tensor_set_destroy(s);
    parse_fails("{\"data\": [{\"ids\": [1, 2, 3], \"text\": [\"a\", \"b\"]}, {\"ids\": [1, 2, 3]}]}",
                &w, "entry 1, input text: missing");
    parse_fails("{\"data\": [{\"ids\": [1, 2, 3], \"text\": [\"a\", \"b\"], \"IMG\": [1]}]}", &w,
                "entry 0, input IMG: not an input of the model (its inputs are: ids, text)");
    parse_fails("{\"data\": [{\"ids\": [1, 2, 3], \"text\": [1, 2]}]}", &w,
                "input text: a BYTES value must be a string");
}

static void values_are_checked_against_the_datatype(void **state)
{
    static const struct { enum tensor_dtype d; const char *json, *why; } bad[] = {
        {TENSOR_FP32, "[1, \"2\"]", "FP32 values must be numbers; found a string"},
        {TENSOR_FP32, "[1, null]", "found null"},
        {TENSOR_FP32, "[1, {}]", "found an object"},
        {TENSOR_FP32, "[1, 1e39]", "beyond FP32"},
        {TENSOR_FP16, "[1, 65520]", "beyond FP16"},
        {TENSOR_UINT8, "[1, 256]", "outside UINT8's range 0..255"},
        {TENSOR_UINT8, "[1, -1]", "outside UINT8"},
        {TENSOR_INT8, "[1, -129]", "outside INT8"},
        {TENSOR_INT32, "[1, 2.5]", "not a whole number"},
        {TENSOR_BOOL, "[1, 2]", "outside BOOL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tensor_spec fb = spec("", bad[i].d, "2");
        struct inputdata_want w = {NULL, &fb};
        char json[128];
        snprintf(json, sizeof json, "{\"data\": [{\"IN\": [0, 1]}, {\"IN\": %s}]}", bad[i].json);
        parse_fails(json, &w, bad[i].why);
        parse_fails(json, &w, "entry 1, input IN: ");
    }
    /* The edges are taken, exactly. */
    struct tensor_spec fb = spec("", TENSOR_FP16, "3");
    struct inputdata_want w = {NULL, &fb};
    struct tensor_set *s = parse_ok("{\"data\": [{\"IN\": [65504, 1, 6e-8]}]}", &w);
    uint16_t h[3] = {0x7BFF, 0x3C00, 0x0001};
    assert_memory_equal(tensor_at(s, 0, 0)->data, h, sizeof h);
    tensor_set_destroy(s);
    fb = spec("", TENSOR_BOOL, "2");
    s = parse_ok("{\"data\": [{\"IN\": [true, 0]}]}", &w);
    assert_int_equal(tensor_at(s, 0, 0)->data[0], 1);
    assert_int_equal(tensor_at(s, 0, 0)->data[1], 0);
    tensor_set_destroy(s);
    fb = spec("", TENSOR_INT16, "2");
    s = parse_ok("{\"data\": [{\"IN\": [-32768, 32767]}]}", &w);
    int16_t i16[2] = {-32768, 32767};
    assert_memory_equal(tensor_at(s, 0, 0)->data, i16, sizeof i16);
    tensor_set_destroy(s);
}

static void counts_and_shapes_must_agree(void **state)
{
    struct tensor_spec fb = spec("", TENSOR_FP32, "-1,2,2");
    struct inputdata_want w = {NULL, &fb};
    parse_fails("{\"data\": [{\"IN\": [1, 2, 3, 4]}, {\"IN\": [1, 2, 3, 4, 5]}]}", &w,
                "entry 1, input IN: 5 values, but the shape [1,2,2] holds 4");
    /* The model's shape is strict; --shape alone is only the shape of
     * values that give none (and says there is a batch dimension). */
    struct tensor_set *ok = parse_ok("{\"data\": [{\"IN\": {\"content\": [1, 2, 3], \"shape\": [3]}}]}", &w);
    assert_true(tensor_at(ok, 0, 0)->ndims == 2 && tensor_at(ok, 0, 0)->shape[0] == 1 &&
                tensor_at(ok, 0, 0)->shape[1] == 3);
    tensor_set_destroy(ok);
    struct tensor_model m = {.ninputs = 1};
    m.inputs[0] = fb;
    snprintf(m.inputs[0].name, sizeof m.inputs[0].name, "IN");
    w.model = &m;
    parse_fails("{\"data\": [{\"IN\": {\"content\": [1, 2, 3], \"shape\": [3]}}]}", &w,
                "shape [3] does not fit the model's [-1,2,2]");
    parse_fails("{\"data\": [{\"IN\": {\"content\": [1, 2, 3, 4], \"shape\": [4, 1]}}]}", &w,
                "shape [4,1] does not fit");
    parse_fails("{\"data\": [{\"IN\": {\"content\": [1, 2, 3, 4, 5, 6, 7, 8], \"shape\": [2, 2, 2]}}]}",
                &w, "puts 2 in the batch dimension");
    w.model = NULL;
    parse_fails("{\"data\": [{\"IN\": {\"content\": [1], \"shape\": [0]}}]}", &w,
                "\"shape\" dimension 1 is not a whole number");
    /* No shape anywhere for a list. */
    struct tensor_spec none = spec("", TENSOR_FP32, NULL);
    w.fallback = &none;
    parse_fails("{\"data\": [{\"IN\": [1, 2]}]}", &w, "no shape for a list of values");
    /* A variable dimension needs the entry's shape. */
    struct tensor_spec var = spec("", TENSOR_FP32, "-1,2");
    var.shape[1] = -1;
    w.fallback = &var;
    parse_fails("{\"data\": [{\"IN\": [1, 2]}]}", &w, "is variable");
    struct tensor_spec nodt = spec("", TENSOR_NONE, "2");
    w.fallback = &nodt;
    parse_fails("{\"data\": [{\"IN\": [1, 2]}]}", &w, "no datatype; give --datatype");
}

static void malformed_files_fail_with_one_line(void **state)
{
    struct tensor_spec fb = spec("", TENSOR_FP32, "2");
    struct inputdata_want w = {NULL, &fb};
    parse_fails("{\"data\": [{\"IN\": [1, 2]}", &w, "not valid JSON");
    parse_fails("", &w, "not valid JSON");
    parse_fails("{\"dat\": []}", &w, "no \"data\" list");
    parse_fails("{\"data\": []}", &w, "no \"data\" list");
    parse_fails("[1, 2]", &w, "no \"data\" list");
    parse_fails("{\"data\": [[{\"IN\": [1, 2]}]]}", &w, "sequence model");
    parse_fails("{\"data\": [{\"IN\": [1, 2]}, 7]}", &w, "entry 1: not an object of inputs");
    parse_fails("{\"data\": [{}]}", &w, "entry 0: not an object");
    parse_fails("{\"data\": [{\"IN\": 5}]}", &w, "a value is a list");
    parse_fails("{\"data\": [{\"IN\": {\"shape\": [2]}}]}", &w, "give \"content\"");
    parse_fails("{\"data\": [{\"IN\": {\"content\": 5}}]}", &w, "\"content\" must be a list");
    parse_fails("{\"data\": [{\"IN\": [1, 2], \"IN\": [1, 2]}]}", &w, "given twice");
    parse_fails("{\"data\": [{\"IN\": [1, 2]}, {\"OTHER\": [1, 2]}]}", &w,
                "entry 1, input OTHER: not an input of the model (entry 0 has: IN)");
}

static void load_reads_a_file_with_a_cap(void **state)
{
    char path[] = "/tmp/test_inputdata.XXXXXX";
    int fd = mkstemp(path);
    const char *json = "{\"data\": [{\"IN\": [1, 2]}]}";
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    struct tensor_spec fb = spec("", TENSOR_UINT8, "2");
    struct inputdata_want w = {NULL, &fb};
    struct tensor_set *s;
    char err[LG_ERRLEN];
    assert_int_equal(inputdata_load(&s, path, &w, err), 0);
    assert_int_equal(s->count, 1);
    tensor_set_destroy(s);
    unlink(path);
    assert_int_equal(inputdata_load(&s, path, &w, err), -ENOENT);
    assert_null(s);
    assert_non_null(strstr(err, "--input-data"));
    assert_int_equal(inputdata_load(&s, "/tmp", &w, err), -EINVAL);
    assert_non_null(strstr(err, "folder"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_flat_list_takes_the_shape_of_the_flags),
        cmocka_unit_test(content_and_shape_leave_the_batch_out),
        cmocka_unit_test(b64_is_the_raw_little_endian_bytes),
        cmocka_unit_test(several_inputs_follow_the_model_order),
        cmocka_unit_test(values_are_checked_against_the_datatype),
        cmocka_unit_test(counts_and_shapes_must_agree),
        cmocka_unit_test(malformed_files_fail_with_one_line),
        cmocka_unit_test(load_reads_a_file_with_a_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
