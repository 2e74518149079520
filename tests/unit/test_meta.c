/*
 * test_meta.c: the metadata URL derived from the infer URL, and KServe v2
 * model metadata parsed into a model's inputs (the fetch itself is tested
 * against nginx in tests/integration/31_tensors.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common.h"
#include "meta.h"

static void metadata_url_drops_infer_and_keeps_the_rest(void **state)
{
    char out[256];
    assert_int_equal(meta_url("http://127.0.0.1:8000/v2/models/resnet/infer", out, sizeof out), 0);
    assert_string_equal(out, "http://127.0.0.1:8000/v2/models/resnet");
    assert_int_equal(meta_url("https://u:p@h/x/v2/models/m/versions/3/infer?code=K", out, sizeof out), 0);
    assert_string_equal(out, "https://u:p@h/x/v2/models/m/versions/3?code=K");
    static const char *const bad[] = {"http://h/score", "http://h/v2/models/infer",
                                      "http://h/v2/models/m/infer/x", "http://h/v1/models/m:predict",
                                      "not a url"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(meta_url(bad[i], out, sizeof out), -EINVAL);
    assert_int_equal(meta_url("http://127.0.0.1:8000/v2/models/resnet/infer", out, 10), -EINVAL);
}

static void metadata_gives_names_datatypes_and_shapes(void **state)
{
    const char *json = "{\"name\":\"resnet\",\"versions\":[\"1\"],\"platform\":\"onnxruntime_onnx\","
                       "\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,3,224,224]},"
                       "{\"name\":\"mask\",\"datatype\":\"INT64\",\"shape\":[-1,-1]}],"
                       "\"outputs\":[{\"name\":\"out\",\"datatype\":\"FP32\",\"shape\":[-1,1000]}]}";
    struct tensor_model m;
    char err[LG_ERRLEN];
    assert_int_equal(meta_parse("m", json, strlen(json), &m, err), 0);
    assert_int_equal(m.ninputs, 2);
    assert_string_equal(m.inputs[0].name, "input");
    assert_int_equal(m.inputs[0].dtype, TENSOR_FP32);
    assert_int_equal(m.inputs[0].ndims, 4);
    assert_true(m.inputs[0].shape[0] == -1 && m.inputs[0].shape[1] == 3 && m.inputs[0].shape[3] == 224);
    assert_int_equal(m.inputs[1].dtype, TENSOR_INT64);
    assert_true(m.inputs[1].shape[1] == -1);
    static const struct { const char *json, *why; } bad[] = {
        {"<html>404</html>", "not JSON"},
        {"{\"name\":\"m\"}", "no \"inputs\" list"},
        {"{\"inputs\":[]}", "no \"inputs\" list"},
        {"{\"inputs\":[{\"datatype\":\"FP32\",\"shape\":[1]}]}", "inputs[0] has no \"name\""},
        {"{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FLOAT\",\"shape\":[1]}]}",
         "datatype FLOAT is not one loadgen knows"},
        {"{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\"}]}", "no \"shape\""},
        {"{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1,0]}]}", "the shape is not"},
        {"{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1.5]}]}", "the shape is not"},
        {"{\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[-2]}]}", "the shape is not"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(meta_parse("model metadata X", bad[i].json, strlen(bad[i].json), &m, err),
                         -EINVAL);
        if (!strstr(err, bad[i].why) || strncmp(err, "model metadata X: ", 18) != 0)
            fail_msg("%s: error \"%s\" lacks \"%s\"", bad[i].json, err, bad[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metadata_url_drops_infer_and_keeps_the_rest),
        cmocka_unit_test(metadata_gives_names_datatypes_and_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
