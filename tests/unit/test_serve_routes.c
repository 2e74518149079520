/*
 * test_serve_routes.c: what `loadgen serve` answers, without sockets: each
 * route with a good body, wrong content types, bad JSON, bad base64, bytes
 * that are not an image, V2 binary sizes, multipart parts, batches counted
 * as images, remembered verdicts, and the rendered head and body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <http_parser.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "serve/body.h"
#include "serve/routes.h"

static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 0xff, 0xd9};
static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
static const unsigned char text[] = "this is not an image";

static char b64_jpeg[64], b64_png[64], b64_text[64];

/* --max-images for these tests: one more than this is refused. */
#define MAX_IMAGES 4
/* The model's input is [N, PX, PX, 3]: one pixel keeps the JSON short. */
#define PX 1

static int setup(void **state)
{
    b64_jpeg[base64_encode(jpeg, sizeof jpeg, b64_jpeg)] = '\0';
    b64_png[base64_encode(png, sizeof png, b64_png)] = '\0';
    b64_text[base64_encode(text, sizeof text - 1, b64_text)] = '\0';
    struct routes *rt;
    assert_int_equal(routes_create(&rt, "resnet50", PX, "gpu", 1, 503, 1024, MAX_IMAGES), 0);
    *state = rt;
    return 0;
}

static int teardown(void **state)
{
    routes_destroy(*state);
    return 0;
}

/* POSTs body (n = strlen when 0) to url with content type ct. */
static struct route_out post(void **state, const char *url, const char *ct, const char *body, size_t n)
{
    struct route_in in = {
        .method = HTTP_POST,
        .url = url,
        .url_len = strlen(url),
        .ctype = ct,
        .ctype_len = strlen(ct),
        .ihcl = -1,
        .body = body,
        .body_len = n ? n : strlen(body),
    };
    struct route_out out;
    routes_dispatch(*state, &in, &out);
    return out;
}

static void assert_error(const struct route_out *o, int status, const char *needle)
{
    assert_int_equal(o->status, status);
    assert_non_null(o->body);
    assert_non_null(strstr(o->body, needle));
    assert_non_null(strstr(o->body, "{\"error\": "));
}

static void score_accepts_flat_nested_and_listed_input(void **state)
{
    char body[512];
    snprintf(body, sizeof body, "{\"input\": \"%s\"}", b64_jpeg);
    struct route_out o = post(state, "/score", "application/json", body, 0);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.route, ROUTE_SCORE);
    assert_int_equal(o.images, 1);
    snprintf(body, sizeof body, "{\"input\": {\"image\": \"%s\"}}", b64_png);
    o = post(state, "/score", "application/json; charset=utf-8", body, 0);
    assert_int_equal(o.status, 200);
    snprintf(body, sizeof body, "{\"input\": [\"%s\", \"%s\", \"%s\"]}", b64_jpeg, b64_png, b64_jpeg);
    o = post(state, "/score?debug=1", "application/json", body, 0);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.images, 3);
    snprintf(body, sizeof body, "{\"image\": \"%s\"}", b64_jpeg); /* --input-key image */
    o = post(state, "/score", "application/json", body, 0);
    assert_int_equal(o.status, 200);
}

static void score_refuses_other_content_types_with_415(void **state)
{
    char body[512];
    snprintf(body, sizeof body, "{\"input\": \"%s\"}", b64_jpeg);
    struct route_out o = post(state, "/score", "text/plain", body, 0);
    assert_error(&o, 415, "application/json");
    o = post(state, "/score", "", body, 0);
    assert_int_equal(o.status, 415);
    o = post(state, "/score", "application/jsonx", body, 0);
    assert_int_equal(o.status, 415);
}

static void bad_json_bad_base64_and_non_images_are_400(void **state)
{
    struct route_out o = post(state, "/score", "application/json", "{\"input\": ", 0);
    assert_error(&o, 400, "not a valid JSON");
    o = post(state, "/score", "application/json", "[1, 2]", 0);
    assert_error(&o, 400, "not a valid JSON");
    o = post(state, "/score", "application/json", "{\"input\": \"!!!notbase64\"}", 0);
    assert_error(&o, 400, "base64");
    char body[512];
    snprintf(body, sizeof body, "{\"input\": \"%s\"}", b64_text);
    o = post(state, "/score", "application/json", body, 0);
    assert_error(&o, 400, "not an image");
    o = post(state, "/score", "application/json", "{\"input\": 42}", 0);
    assert_error(&o, 400, "no image");
}

static void tfserving_counts_b64_instances(void **state)
{
    char body[512];
    snprintf(body, sizeof body, "{\"instances\": [{\"b64\": \"%s\"}, {\"b64\": \"%s\"}]}", b64_jpeg, b64_png);
    struct route_out o = post(state, "/v1/models/resnet50:predict", "application/json", body, 0);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.route, ROUTE_V1);
    assert_int_equal(o.images, 2);
    assert_int_equal(o.name_len, 8);
    assert_memory_equal(o.name, "resnet50", 8);
    o = post(state, "/v1/models/resnet50:predict", "application/json", "{\"instances\": [[1, 2]]}", 0);
    assert_error(&o, 400, "no image");
    snprintf(body, sizeof body, "{\"instances\": [{\"b64\": \"%s\"}]}", b64_text);
    o = post(state, "/v1/models/m:predict", "application/json", body, 0);
    assert_error(&o, 400, "not an image");
}

static void v2_json_checks_tensors_against_their_shape(void **state)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"inputs\": [{\"name\": \"INPUT\", \"shape\": [2], \"datatype\": \"BYTES\", "
             "\"data\": [\"%s\", \"%s\"]}]}", b64_jpeg, b64_png);
    struct route_out o = post(state, "/v2/models/resnet50/infer", "application/json", body, 0);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.route, ROUTE_V2);
    assert_int_equal(o.images, 2);
    snprintf(body, sizeof body,
             "{\"inputs\": [{\"name\": \"INPUT\", \"shape\": [3], \"datatype\": \"BYTES\", \"data\": [\"%s\"]}]}",
             b64_jpeg);
    o = post(state, "/v2/models/resnet50/versions/1/infer", "application/json", body, 0);
    assert_error(&o, 400, "matching the shape");
    o = post(state, "/v2/models/r/infer", "application/json",
             "{\"inputs\": [{\"name\": \"input_1\", \"shape\": [2, 1, 1, 3], \"datatype\": \"FP32\", "
             "\"data\": [[[[0.5, 1, 0]]], [[[1, 1, 1]]]]}]}", 0);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.images, 2);
    o = post(state, "/v2/models/r/infer", "application/json", "{\"inputs\": []}", 0);
    assert_int_equal(o.status, 400);
    o = post(state, "/v2/models/r/infer", "application/octet-stream", "{}", 0);
    assert_int_equal(o.status, 415);
}

/* A V2 binary request: JSON header, then each image as 4-byte LE length +
 * bytes. Returns the body length and sets *json_len. */
static size_t v2_binary(char *out, size_t *json_len, int images, int size_skew)
{
    size_t bin = 0;
    char tail[256];
    for (int i = 0; i < images; i++) {
        uint32_t n = sizeof jpeg;
        unsigned char le[4] = {(unsigned char)n, (unsigned char)(n >> 8), 0, 0};
        memcpy(tail + bin, le, 4);
        memcpy(tail + bin + 4, jpeg, sizeof jpeg);
        bin += 4 + sizeof jpeg;
    }
    int j = sprintf(out,
                    "{\"inputs\": [{\"name\": \"INPUT\", \"shape\": [%d], \"datatype\": \"BYTES\", "
                    "\"parameters\": {\"binary_data_size\": %zu}}]}",
                    images, bin + (size_t)size_skew);
    *json_len = (size_t)j;
    memcpy(out + j, tail, bin);
    return (size_t)j + bin;
}

static void v2_binary_extension_reads_the_tensor_after_the_json(void **state)
{
    char body[1024];
    size_t jl, n = v2_binary(body, &jl, 3, 0);
    struct route_in in = {.method = HTTP_POST, .url = "/v2/models/m/infer", .url_len = 18,
                          .ctype = "application/octet-stream", .ctype_len = 24,
                          .ihcl = (int64_t)jl, .body = body, .body_len = n};
    struct route_out o;
    routes_dispatch(*state, &in, &o);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.images, 3);
    n = v2_binary(body, &jl, 2, 1); /* binary_data_size one past the body */
    in.ihcl = (int64_t)jl;
    in.body_len = n;
    routes_dispatch(*state, &in, &o);
    assert_error(&o, 400, "binary_data_size");
    in.ihcl = (int64_t)n + 10; /* header length past the body */
    routes_dispatch(*state, &in, &o);
    assert_int_equal(o.status, 400);
    in.ctype = "text/plain";
    in.ctype_len = 10;
    routes_dispatch(*state, &in, &o);
    assert_int_equal(o.status, 415);
}

/* A 73-byte V2 request once counted as 10^6 images: the simulated GPU was
 * busy for 20 minutes and the answer was 68 MB. Every dimension is now a
 * whole number >= 1, and the product is checked before it can wrap. */
static void v2_shapes_that_are_empty_negative_fractional_or_wrap_are_400(void **state)
{
    static const char *const shapes[] = {
        "[1000000, 0]", "[0]", "[0, 3]", "[-1]", "[1.5]", "[1e30]", "[\"2\"]",
        "[1048576, 1048576, 16777216]", /* 2^64: wrapped to 0 elements */
        "[4294967296, 4294967296]",
    };
    char body[512];
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"inputs\": [{\"name\": \"x\", \"shape\": %s, \"datatype\": \"FP32\", \"data\": []}]}",
                 shapes[i]);
        struct route_out o = post(state, "/v2/models/r/infer", "application/json", body, 0);
        assert_int_equal(o.status, 400);
        assert_int_equal(o.images, 0);
        snprintf(body, sizeof body,
                 "{\"inputs\": [{\"name\": \"x\", \"shape\": %s, \"datatype\": \"BYTES\", \"data\": []}]}",
                 shapes[i]);
        o = post(state, "/v2/models/r/infer", "application/json", body, 0);
        assert_int_equal(o.status, 400);
    }
    /* The batch dimension is checked against the data that was sent. */
    struct route_out o = post(state, "/v2/models/r/infer", "application/json",
                              "{\"inputs\": [{\"name\": \"x\", \"shape\": [3, 1], \"datatype\": "
                              "\"FP32\", \"data\": [0, 0]}]}", 0);
    assert_error(&o, 400, "matching the shape");
}

/* binary_data_size is a whole number no larger than what follows the
 * JSON; 1e300 once went through a cast to int64 (undefined). */
static void v2_binary_data_sizes_that_are_huge_negative_or_fractional_are_400(void **state)
{
    static const char *const sizes[] = {"1e300", "-1", "1.5", "18446744073709551616", "\"4\"", "99"};
    char body[512];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int jl = snprintf(body, sizeof body,
                          "{\"inputs\": [{\"name\": \"x\", \"shape\": [4], \"datatype\": \"UINT8\", "
                          "\"parameters\": {\"binary_data_size\": %s}}]}", sizes[i]);
        memcpy(body + jl, "\1\2\3\4", 4);
        struct route_in in = {.method = HTTP_POST, .url = "/v2/models/m/infer", .url_len = 18,
                              .ctype = "application/octet-stream", .ctype_len = 24,
                              .ihcl = jl, .body = body, .body_len = (size_t)jl + 4};
        struct route_out o;
        routes_dispatch(*state, &in, &o);
        assert_error(&o, 400, "binary");
    }
}

/* MAX_IMAGES pass and one more is a 400 in every format serve parses (as
 * the study's app answers), so a small request cannot ask for a large
 * answer or a long computation. */
static void images_past_max_images_are_400_in_every_format(void **state)
{
    for (int k = MAX_IMAGES; k <= MAX_IMAGES + 1; k++) {
        int want = k > MAX_IMAGES ? 400 : 200;
        char body[4096], list[2048] = "", inst[2048] = "", fp[256] = "";
        size_t n = 0;
        for (int i = 0; i < k; i++) {
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", i ? ", " : "", b64_jpeg);
            snprintf(inst + strlen(inst), sizeof inst - strlen(inst), "%s{\"b64\": \"%s\"}", i ? ", " : "",
                     b64_jpeg);
            snprintf(fp + strlen(fp), sizeof fp - strlen(fp), "%s0.5, 0, 1", i ? ", " : "");
        }
        snprintf(body, sizeof body, "{\"input\": [%s]}", list);
        struct route_out o = post(state, "/score", "application/json", body, 0);
        assert_int_equal(o.status, want);
        snprintf(body, sizeof body, "{\"instances\": [%s]}", inst);
        o = post(state, "/v1/models/m:predict", "application/json", body, 0);
        assert_int_equal(o.status, want);
        snprintf(body, sizeof body,
                 "{\"inputs\": [{\"name\": \"x\", \"shape\": [%d], \"datatype\": \"BYTES\", \"data\": [%s]}]}",
                 k, list);
        o = post(state, "/v2/models/m/infer", "application/json", body, 0);
        assert_int_equal(o.status, want);
        snprintf(body, sizeof body,
                 "{\"inputs\": [{\"name\": \"input_1\", \"shape\": [%d, 1, 1, 3], \"datatype\": \"FP32\", "
                 "\"data\": [%s]}]}", k, fp);
        o = post(state, "/v2/models/m/infer", "application/json", body, 0);
        assert_int_equal(o.status, want);
        if (want == 400)
            assert_error(&o, 400, "--max-images");
        size_t jl;
        n = v2_binary(body, &jl, k, 0);
        struct route_in in = {.method = HTTP_POST, .url = "/v2/models/m/infer", .url_len = 18,
                              .ctype = "application/octet-stream", .ctype_len = 24,
                              .ihcl = (int64_t)jl, .body = body, .body_len = n};
        routes_dispatch(*state, &in, &o);
        assert_int_equal(o.status, want);
        n = 0;
        for (int i = 0; i < k; i++) {
            n += (size_t)sprintf(body + n, "--B\r\n\r\n");
            memcpy(body + n, jpeg, sizeof jpeg);
            n += sizeof jpeg;
            n += (size_t)sprintf(body + n, "\r\n");
        }
        n += (size_t)sprintf(body + n, "--B--\r\n");
        o = post(state, "/predictions/m", "multipart/form-data; boundary=B", body, n);
        assert_int_equal(o.status, want);
    }
}

/* cJSON spends about 80 bytes a value: a 2 MB body of zeros would build a
 * tree 40 times its size. Past 2^20 values the body is refused unparsed. */
static void json_bodies_of_more_than_a_million_values_are_413(void **state)
{
    size_t values = BODY_MAX_JSON_VALUES + 1, cap = values * 2 + 256;
    char *body = malloc(cap);
    assert_non_null(body);
    size_t n = (size_t)sprintf(body, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, %zu], "
                                     "\"datatype\": \"UINT8\", \"data\": [", values);
    for (size_t i = 0; i < values; i++) {
        body[n++] = '0';
        body[n++] = ',';
    }
    memcpy(body + n - 1, "]}]}", 5);
    struct route_out o = post(state, "/v2/models/m/infer", "application/json", body, 0);
    assert_error(&o, 413, "too many values");
    free(body);
}

/* The answers sent with one non-blocking write before a close. */
static void timeout_and_refusal_answers_are_prebuilt_and_close(void **state)
{
    size_t n;
    const char *w = routes_error_wire(*state, RERR_TIMEOUT, &n);
    assert_int_equal(strlen(w), n);
    assert_memory_equal(w, "HTTP/1.1 408 Request Timeout\r\n", 30);
    assert_non_null(strstr(w, "Connection: close\r\n"));
    assert_non_null(strstr(w, "--header-timeout"));
    w = routes_error_wire(*state, RERR_TOO_MANY_CONNS, &n);
    assert_memory_equal(w, "HTTP/1.1 503 ", 13);
    assert_non_null(strstr(w, "--max-connections"));
    w = routes_error_wire(*state, RERR_BUSY, &n);
    assert_non_null(strstr(w, "--max-inflight"));
}

static void torchserve_takes_raw_images_and_multipart(void **state)
{
    struct route_out o = post(state, "/predictions/resnet50", "image/jpeg", (const char *)jpeg, sizeof jpeg);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.route, ROUTE_TORCH);
    assert_int_equal(o.images, 1);
    o = post(state, "/predictions/resnet50", "application/octet-stream", (const char *)png, sizeof png);
    assert_int_equal(o.status, 200);
    o = post(state, "/predictions/resnet50", "image/png", (const char *)text, sizeof text - 1);
    assert_error(&o, 400, "not an image");
    o = post(state, "/predictions/resnet50", "application/json", "{}", 0);
    assert_error(&o, 415, "multipart/form-data");

    char body[1024];
    size_t n = 0;
    for (int i = 0; i < 2; i++) {
        n += (size_t)sprintf(body + n, "--XyZ\r\nContent-Disposition: form-data; name=\"data\"; "
                                       "filename=\"%d.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n", i);
        memcpy(body + n, jpeg, sizeof jpeg);
        n += sizeof jpeg;
        n += (size_t)sprintf(body + n, "\r\n");
    }
    n += (size_t)sprintf(body + n, "--XyZ--\r\n");
    o = post(state, "/predictions/m", "multipart/form-data; boundary=XyZ", body, n);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.images, 2);
    o = post(state, "/predictions/m", "multipart/form-data; boundary=\"XyZ\"", body, n);
    assert_int_equal(o.status, 200);
    o = post(state, "/predictions/m", "multipart/form-data; boundary=Other", body, n);
    assert_error(&o, 400, "multipart");
    o = post(state, "/predictions/m", "multipart/form-data", body, n);
    assert_error(&o, 400, "multipart");
    o = post(state, "/predictions/m", "multipart/form-data; boundary=XyZ", body, n - 12);
    assert_error(&o, 400, "multipart");
}

static void health_unknown_paths_and_wrong_methods(void **state)
{
    struct route_in in = {.method = HTTP_GET, .url = "/", .url_len = 1, .ctype = "", .ihcl = -1};
    struct route_out o;
    routes_dispatch(*state, &in, &o);
    assert_int_equal(o.status, 200);
    assert_non_null(strstr(o.body, "\"Healthy\""));
    in.url = "/v2/health/ready";
    in.url_len = strlen(in.url);
    routes_dispatch(*state, &in, &o);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.body_len, 0);
    in.url = "/score";
    in.url_len = 6;
    routes_dispatch(*state, &in, &o);
    assert_int_equal(o.status, 405);
    assert_string_equal(o.allow, "POST");
    in.url = "/nowhere";
    in.url_len = 8;
    routes_dispatch(*state, &in, &o);
    assert_int_equal(o.status, 404);
    in.method = HTTP_POST;
    in.url = "/";
    in.url_len = 1;
    routes_dispatch(*state, &in, &o);
    assert_int_equal(o.status, 405);
    o = post(state, "/v2/models//infer", "application/json", "{}", 0);
    assert_int_equal(o.status, 404);
}

static void a_body_seen_before_gets_the_same_verdict(void **state)
{
    char good[512], bad[512];
    snprintf(good, sizeof good, "{\"input\": \"%s\"}", b64_jpeg);
    snprintf(bad, sizeof bad, "{\"input\": \"%s\"}", b64_text);
    for (int i = 0; i < 3; i++) {
        struct route_out o = post(state, "/score", "application/json", good, 0);
        assert_int_equal(o.status, 200);
        assert_int_equal(o.images, 1);
        o = post(state, "/score", "application/json", bad, 0);
        assert_int_equal(o.status, 400);
        o = post(state, "/score", "text/plain", good, 0); /* the type is part of the key */
        assert_int_equal(o.status, 415);
    }
}

/* A V2 answer is the model's output tensor, as Triton's, unless the request
 * asks for the classification extension's top K. */
static void v2_answers_the_output_tensor_or_the_top_k_asked_for(void **state)
{
    static const char in[] = "{\"inputs\": [{\"name\": \"input_1\", \"shape\": [2, 1, 1, 3], "
                             "\"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, 6]}]";
    char body[512];
    struct sbuf head = {0}, ans = {0};
    const char *bp;
    size_t bn;
    snprintf(body, sizeof body, "%s}", in);
    struct route_out o = post(state, "/v2/models/m/infer", "application/json", body, 0);
    assert_int_equal(o.status, 200);
    assert_int_equal(routes_render(&o, 0, 0, &head, &ans, &bp, &bn), 0);
    cJSON *doc = cJSON_ParseWithLength(bp, bn);
    assert_non_null(doc);
    const cJSON *out = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "outputs"), 0);
    assert_string_equal(cJSON_GetObjectItem(out, "name")->valuestring, "predictions");
    assert_string_equal(cJSON_GetObjectItem(out, "datatype")->valuestring, "FP32");
    const cJSON *shape = cJSON_GetObjectItem(out, "shape"), *data = cJSON_GetObjectItem(out, "data");
    assert_int_equal(cJSON_GetArrayItem(shape, 0)->valueint, 2);
    assert_int_equal(cJSON_GetArrayItem(shape, 1)->valueint, 1000);
    assert_int_equal(cJSON_GetArraySize(data), 2000);
    double sum = 0;
    int best = 0;
    for (int i = 0; i < 1000; i++) {
        double v = cJSON_GetArrayItem(data, 1000 + i)->valuedouble;
        sum += v;
        if (v > cJSON_GetArrayItem(data, 1000 + best)->valuedouble)
            best = i;
    }
    assert_int_equal(best, 281); /* tabby, for every image */
    assert_true(fabs(sum - 1.0) < 1e-3);
    cJSON_Delete(doc);

    /* Top 5 of the one output: BYTES [2, 5], ranked. */
    snprintf(body, sizeof body, "%s, \"outputs\": [{\"name\": \"predictions\", \"parameters\": "
             "{\"classification\": 5}}]}", in);
    o = post(state, "/v2/models/m/infer", "application/json", body, 0);
    assert_int_equal(routes_render(&o, 0, 0, &head, &ans, &bp, &bn), 0);
    assert_non_null(doc = cJSON_ParseWithLength(bp, bn));
    out = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "outputs"), 0);
    assert_string_equal(cJSON_GetObjectItem(out, "datatype")->valuestring, "BYTES");
    shape = cJSON_GetObjectItem(out, "shape");
    data = cJSON_GetObjectItem(out, "data");
    assert_int_equal(cJSON_GetArrayItem(shape, 1)->valueint, 5);
    assert_int_equal(cJSON_GetArraySize(data), 10);
    assert_string_equal(cJSON_GetArrayItem(data, 5)->valuestring, "0.412:281:tabby");
    assert_string_equal(cJSON_GetArrayItem(data, 7)->valuestring, "0.108:285:Egyptian_cat");
    assert_non_null(strstr(cJSON_GetArrayItem(data, 9)->valuestring, ":1"));
    cJSON_Delete(doc);

    /* Another output, or a classification that is not 1..1000: 400. */
    static const char *const bad[] = {
        "\"outputs\": [{\"name\": \"OUTPUT\"}]",
        "\"outputs\": [{\"name\": \"predictions\", \"parameters\": {\"classification\": 0}}]",
        "\"outputs\": [{\"name\": \"predictions\", \"parameters\": {\"classification\": 1001}}]",
        "\"outputs\": [{\"name\": \"predictions\", \"parameters\": {\"classification\": 2.5}}]",
        "\"outputs\": {\"name\": \"predictions\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, "%s, %s}", in, bad[i]);
        o = post(state, "/v2/models/m/infer", "application/json", body, 0);
        assert_int_equal(o.status, 400);
        assert_non_null(strstr(o.body, "outputs: the model has one output, predictions"));
    }
    sbuf_free(&head);
    sbuf_free(&ans);
}

static void rendered_answers_carry_length_time_and_connection(void **state)
{
    char body[512];
    snprintf(body, sizeof body, "{\"input\": [\"%s\", \"%s\"]}", b64_jpeg, b64_jpeg);
    struct route_out o = post(state, "/score", "application/json", body, 0);
    struct sbuf head = {0}, ans = {0};
    const char *bp;
    size_t bn;
    assert_int_equal(routes_render(&o, 12345, 1, &head, &ans, &bp, &bn), 0);
    char h[512], b[1024];
    snprintf(h, sizeof h, "%.*s", (int)head.len, head.p);
    snprintf(b, sizeof b, "%.*s", (int)bn, bp);
    char want[64];
    snprintf(want, sizeof want, "Content-Length: %zu\r\n", bn);
    assert_non_null(strstr(h, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(h, want));
    assert_non_null(strstr(h, "X-Inference-Time-Ms: 12.345\r\n"));
    assert_non_null(strstr(h, "Connection: close\r\n"));
    assert_true(head.len >= 4 && !memcmp(head.p + head.len - 4, "\r\n\r\n", 4));
    assert_non_null(strstr(b, "{\"result\": [[[\"n02123045 tabby\", 0.412]"));
    assert_non_null(strstr(b, "\"time_ms\": 12.345}"));

    o = post(state, "/v2/models/my\"model/infer", "application/json",
             "{\"inputs\": [{\"name\": \"input_1\", \"shape\": [1, 1, 1, 3], \"datatype\": \"FP32\", "
             "\"data\": [1, 2, 3]}]}", 0);
    assert_int_equal(routes_render(&o, 0, 0, &head, &ans, &bp, &bn), 0);
    snprintf(b, sizeof b, "%.*s", (int)bn, bp);
    assert_non_null(strstr(b, "\"model_name\": \"my_model\""));

    o = post(state, "/predictions/m", "image/jpeg", (const char *)jpeg, sizeof jpeg);
    assert_int_equal(routes_render(&o, 0, 2, &head, &ans, &bp, &bn), 0);
    snprintf(h, sizeof h, "%.*s", (int)head.len, head.p);
    snprintf(b, sizeof b, "%.*s", (int)bn, bp);
    assert_non_null(strstr(h, "Connection: keep-alive\r\n"));
    assert_string_equal(b, "{\"tabby\": 0.412, \"tiger_cat\": 0.221, \"Egyptian_cat\": 0.108}");

    o = post(state, "/v1/models/m:predict", "application/json", "{\"instances\": []}", 0);
    assert_int_equal(routes_render(&o, 5000, 0, &head, &ans, &bp, &bn), 0);
    snprintf(h, sizeof h, "%.*s", (int)head.len, head.p);
    assert_non_null(strstr(h, "HTTP/1.1 400 Bad Request\r\n"));
    assert_null(strstr(h, "X-Inference-Time-Ms")); /* only scored answers carry it */
    routes_error(*state, RERR_TOO_LARGE, &o);
    assert_int_equal(o.status, 413);
    assert_non_null(strstr(o.body, "1024 bytes"));
    routes_error(*state, RERR_FAULT, &o);
    assert_int_equal(o.status, 503);
    sbuf_free(&head);
    sbuf_free(&ans);
}

static struct route_out get(void **state, const char *url)
{
    struct route_in in = {.method = HTTP_GET, .url = url, .url_len = strlen(url), .ctype = "",
                          .ihcl = -1};
    struct route_out o;
    routes_dispatch(*state, &in, &o);
    return o;
}

/* GET /v2/models/NAME is KServe v2 metadata of serve's model, the same as
 * gRPC ModelMetadata; another name or version is a 404. */
static void v2_metadata_route_answers_the_model_and_404s_others(void **state)
{
    static const char want[] =
        "{\"name\": \"resnet50\", \"versions\": [\"1\"], \"platform\": \"tensorflow_savedmodel\", "
        "\"inputs\": [{\"name\": \"input_1\", \"datatype\": \"FP32\", \"shape\": [-1, 1, 1, 3]}], "
        "\"outputs\": [{\"name\": \"predictions\", \"datatype\": \"FP32\", \"shape\": [-1, 1000]}]}";
    struct route_out o = get(state, "/v2/models/resnet50");
    assert_int_equal(o.status, 200);
    assert_int_equal(o.route, ROUTE_META);
    assert_int_equal(o.body_len, strlen(want));
    assert_memory_equal(o.body, want, o.body_len);
    o = get(state, "/v2/models/resnet50/versions/1");
    assert_int_equal(o.status, 200);
    assert_memory_equal(o.body, want, o.body_len);
    o = get(state, "/v2/models/resnet5");
    assert_error(&o, 404, "unknown model");
    o = get(state, "/v2/models/resnet50/versions/2");
    assert_error(&o, 404, "unknown model");
}

/* A numeric V2 tensor must fit the metadata: name, datatype, [N, PX, PX, 3]. */
static void v2_numeric_tensors_that_do_not_fit_the_model_are_400(void **state)
{
    static const char *const bad[] = {
        "{\"name\": \"x\", \"shape\": [1, 1, 1, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}",
        "{\"name\": \"input_1\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}",
        "{\"name\": \"input_1\", \"shape\": [1, 1, 1, 3], \"datatype\": \"FP64\", \"data\": [1, 2, 3]}",
        "{\"name\": \"input_1\", \"shape\": [1, 1, 3, 1], \"datatype\": \"UINT8\", \"data\": [1, 2, 3]}",
    };
    char body[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, "{\"inputs\": [%s]}", bad[i]);
        struct route_out o = post(state, "/v2/models/m/infer", "application/json", body, 0);
        assert_error(&o, 400, "does not fit the model");
    }
    static const char *const good[] = {"FP16", "UINT8", "INT64"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(body, sizeof body, "{\"inputs\": [{\"name\": \"input_1\", \"shape\": [1, 1, 1, 3], "
                 "\"datatype\": \"%s\", \"data\": [1, 2, 3]}]}", good[i]);
        struct route_out o = post(state, "/v2/models/m/infer", "application/json", body, 0);
        assert_int_equal(o.status, 200);
    }
}

/* GET / carries the gRPC counters it watches. */
static void health_reports_grpc_counters(void **state)
{
    uint64_t req = 12, errs = 3;
    routes_watch_grpc(*state, &req, &errs);
    struct route_out o = get(state, "/");
    struct sbuf head = {0}, ans = {0};
    const char *bp;
    size_t bn;
    assert_int_equal(routes_render(&o, 0, 0, &head, &ans, &bp, &bn), 0);
    char b[512];
    snprintf(b, sizeof b, "%.*s", (int)bn, bp);
    assert_non_null(strstr(b, "\"Healthy\""));
    assert_non_null(strstr(b, ", \"grpc_requests\": 12, \"grpc_errors\": 3}"));
    routes_watch_grpc(*state, NULL, NULL);
    sbuf_free(&head);
    sbuf_free(&ans);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(score_accepts_flat_nested_and_listed_input),
        cmocka_unit_test(score_refuses_other_content_types_with_415),
        cmocka_unit_test(bad_json_bad_base64_and_non_images_are_400),
        cmocka_unit_test(tfserving_counts_b64_instances),
        cmocka_unit_test(v2_json_checks_tensors_against_their_shape),
        cmocka_unit_test(v2_binary_extension_reads_the_tensor_after_the_json),
        cmocka_unit_test(v2_shapes_that_are_empty_negative_fractional_or_wrap_are_400),
        cmocka_unit_test(v2_binary_data_sizes_that_are_huge_negative_or_fractional_are_400),
        cmocka_unit_test(images_past_max_images_are_400_in_every_format),
        cmocka_unit_test(json_bodies_of_more_than_a_million_values_are_413),
        cmocka_unit_test(timeout_and_refusal_answers_are_prebuilt_and_close),
        cmocka_unit_test(torchserve_takes_raw_images_and_multipart),
        cmocka_unit_test(health_unknown_paths_and_wrong_methods),
        cmocka_unit_test(a_body_seen_before_gets_the_same_verdict),
        cmocka_unit_test(rendered_answers_carry_length_time_and_connection),
        cmocka_unit_test(v2_answers_the_output_tensor_or_the_top_k_asked_for),
        cmocka_unit_test(v2_metadata_route_answers_the_model_and_404s_others),
        cmocka_unit_test(v2_numeric_tensors_that_do_not_fit_the_model_are_400),
        cmocka_unit_test(health_reports_grpc_counters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
