/*
 * test_grpc.c: gRPC framing fed in every split, the limits a hostile prefix
 * meets, status names, grpc-message percent-encoding, and ModelInfer /
 * Predict messages packed then read back through protobuf-c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"

/* Two messages back to back: "hello" and an empty one. */
static const unsigned char two[] = {0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0};

static void prefix_is_flag_then_big_endian_length(void **state)
{
    unsigned char p[GRPC_PREFIX];
    grpc_prefix(p, 0x01020304);
    unsigned char want[] = {0, 1, 2, 3, 4};
    assert_memory_equal(p, want, GRPC_PREFIX);
}

/* Every split point of the stream, including inside the prefix, gives the
 * same two messages. */
static void messages_decode_across_every_split(void **state)
{
    for (size_t cut = 0; cut <= sizeof two; cut++) {
        struct grpc_reader r;
        grpc_reader_init(&r, 100);
        const unsigned char *pieces[2] = {two, two + cut};
        size_t lens[2] = {cut, sizeof two - cut};
        int seen = 0;
        for (int k = 0; k < 2; k++) {
            const unsigned char *p = pieces[k];
            size_t n = lens[k];
            while (n > 0) {
                size_t used;
                enum grpc_read rd = grpc_reader_feed(&r, p, n, &used);
                assert_true(rd >= 0);
                p += used;
                n -= used;
                if (rd == GRPC_READ_MESSAGE) {
                    if (seen == 0) {
                        assert_int_equal(r.len, 5);
                        assert_memory_equal(r.msg, "hello", 5);
                    } else {
                        assert_int_equal(r.len, 0);
                    }
                    seen++;
                    grpc_reader_next(&r);
                } else {
                    assert_int_equal(n, 0);
                }
            }
        }
        assert_int_equal(seen, 2);
        assert_false(grpc_reader_partial(&r));
        grpc_reader_free(&r);
    }
}

static void split_prefix_waits_and_is_partial(void **state)
{
    struct grpc_reader r;
    grpc_reader_init(&r, 100);
    size_t used;
    assert_int_equal(grpc_reader_feed(&r, two, 3, &used), GRPC_READ_MORE);
    assert_int_equal(used, 3);
    assert_true(grpc_reader_partial(&r));
    assert_int_equal(grpc_reader_feed(&r, two + 3, 4, &used), GRPC_READ_MORE);
    assert_int_equal(used, 4);
    assert_true(grpc_reader_partial(&r)); /* "he" of "hello" */
    grpc_reader_free(&r);
}

static void zero_length_message_is_complete_at_its_prefix(void **state)
{
    struct grpc_reader r;
    grpc_reader_init(&r, 0);
    size_t used;
    assert_int_equal(grpc_reader_feed(&r, two + 10, 5, &used), GRPC_READ_MESSAGE);
    assert_int_equal(used, 5);
    assert_int_equal(r.len, 0);
    assert_null(r.msg); /* nothing allocated for nothing */
    grpc_reader_free(&r);
}

static void declared_4gb_is_refused_before_any_allocation(void **state)
{
    unsigned char huge[] = {0, 0xff, 0xff, 0xff, 0xff, 'x'};
    struct grpc_reader r;
    grpc_reader_init(&r, 64u << 20);
    size_t used;
    assert_int_equal(grpc_reader_feed(&r, huge, sizeof huge, &used), GRPC_READ_TOO_LARGE);
    assert_null(r.msg);
    grpc_reader_free(&r);
}

static void one_past_the_maximum_is_refused_the_maximum_is_not(void **state)
{
    unsigned char p[GRPC_PREFIX];
    struct grpc_reader r;
    size_t used;
    grpc_reader_init(&r, 1000);
    grpc_prefix(p, 1001);
    assert_int_equal(grpc_reader_feed(&r, p, sizeof p, &used), GRPC_READ_TOO_LARGE);
    grpc_reader_free(&r);
    grpc_reader_init(&r, 1000);
    grpc_prefix(p, 1000);
    assert_int_equal(grpc_reader_feed(&r, p, sizeof p, &used), GRPC_READ_MORE);
    grpc_reader_free(&r);
}

/* A claim of 1 MB with 10 bytes sent holds a small buffer, not 1 MB. */
static void buffer_grows_with_bytes_received_not_the_claim(void **state)
{
    unsigned char b[GRPC_PREFIX + 10] = {0};
    grpc_prefix(b, 1u << 20);
    struct grpc_reader r;
    grpc_reader_init(&r, 1u << 20);
    size_t used;
    assert_int_equal(grpc_reader_feed(&r, b, sizeof b, &used), GRPC_READ_MORE);
    assert_true(r.cap <= 512);
    assert_true(grpc_reader_partial(&r));
    grpc_reader_free(&r);
}

static void compressed_and_bad_flags_are_told_apart(void **state)
{
    unsigned char c[] = {1, 0, 0, 0, 1, 'x'}, bad[] = {7, 0, 0, 0, 1, 'x'};
    struct grpc_reader r;
    size_t used;
    grpc_reader_init(&r, 100);
    assert_int_equal(grpc_reader_feed(&r, c, sizeof c, &used), GRPC_READ_COMPRESSED);
    grpc_reader_free(&r);
    grpc_reader_init(&r, 100);
    assert_int_equal(grpc_reader_feed(&r, bad, sizeof bad, &used), GRPC_READ_BAD_FLAG);
    grpc_reader_free(&r);
}

static void status_names_are_the_canonical_ones(void **state)
{
    assert_string_equal(grpc_status_name(GRPC_OK), "OK");
    assert_string_equal(grpc_status_name(3), "INVALID_ARGUMENT");
    assert_string_equal(grpc_status_name(5), "NOT_FOUND");
    assert_string_equal(grpc_status_name(8), "RESOURCE_EXHAUSTED");
    assert_string_equal(grpc_status_name(12), "UNIMPLEMENTED");
    assert_string_equal(grpc_status_name(14), "UNAVAILABLE");
    assert_string_equal(grpc_status_name(16), "UNAUTHENTICATED");
    assert_null(grpc_status_name(17));
    assert_null(grpc_status_name(-1));
}

static void status_header_values_parse_strictly(void **state)
{
    assert_int_equal(grpc_status_parse("0", 1), 0);
    assert_int_equal(grpc_status_parse("14", 2), 14);
    assert_int_equal(grpc_status_parse("99", 2), 99);
    assert_int_equal(grpc_status_parse("", 0), -1);
    assert_int_equal(grpc_status_parse("1a", 2), -1);
    assert_int_equal(grpc_status_parse("-1", 2), -1);
    assert_int_equal(grpc_status_parse("1234", 4), -1);
    assert_int_equal(grpc_status_of_http(503), GRPC_UNAVAILABLE);
    assert_int_equal(grpc_status_of_http(404), GRPC_UNIMPLEMENTED);
    assert_int_equal(grpc_status_of_http(500), GRPC_UNKNOWN);
}

static void grpc_message_percent_encoding_round_trips(void **state)
{
    const char msg[] = "100% bad\n\xc3\xa9";
    char enc[64], dec[64];
    size_t n = grpc_pct_encode(msg, sizeof msg - 1, enc, sizeof enc);
    assert_int_equal(n, strlen("100%25 bad%0A%C3%A9"));
    assert_memory_equal(enc, "100%25 bad%0A%C3%A9", n);
    size_t m = grpc_pct_decode(enc, n, dec, sizeof dec);
    assert_int_equal(m, sizeof msg - 1);
    assert_memory_equal(dec, msg, m);
    /* Too small a buffer: truncated, but the needed length is returned. */
    assert_int_equal(grpc_pct_encode(msg, sizeof msg - 1, enc, 4), n);
    /* Malformed escapes pass through. */
    m = grpc_pct_decode("a%zz%4", 6, dec, sizeof dec);
    assert_int_equal(m, 6);
    assert_memory_equal(dec, "a%zz%4", 6);
}

static void datatypes_map_between_v2_and_tensorflow(void **state)
{
    assert_int_equal(grpc_dtype_size("FP32"), 4);
    assert_int_equal(grpc_dtype_size("FP16"), 2);
    assert_int_equal(grpc_dtype_size("UINT8"), 1);
    assert_int_equal(grpc_dtype_size("INT64"), 8);
    assert_int_equal(grpc_dtype_size("BYTES"), 0);
    assert_int_equal(grpc_dtype_size("FP33"), 0);
    assert_int_equal(grpc_tf_dtype("FP32"), TENSORFLOW__DATA_TYPE__DT_FLOAT);
    assert_int_equal(grpc_tf_dtype("BYTES"), TENSORFLOW__DATA_TYPE__DT_STRING);
    assert_string_equal(grpc_v2_dtype(TENSORFLOW__DATA_TYPE__DT_HALF), "FP16");
    assert_null(grpc_v2_dtype(TENSORFLOW__DATA_TYPE__DT_INVALID));
}

static void model_infer_request_round_trips(void **state)
{
    float px[2 * 2 * 2 * 3];
    for (size_t i = 0; i < sizeof px / sizeof px[0]; i++)
        px[i] = (float)i / 4;
    int64_t shape[] = {2, 2, 2, 3};
    struct grpc_tensor t = {"input_1", "FP32", shape, 4, px, sizeof px};
    unsigned char *b;
    size_t n;
    assert_int_equal(grpc_infer_request_pack("mobilenet_v2", NULL, &t, &b, &n), 0);
    /* The prefix frames exactly the rest. */
    struct grpc_reader r;
    size_t used;
    grpc_reader_init(&r, 1u << 20);
    assert_int_equal(grpc_reader_feed(&r, b, n, &used), GRPC_READ_MESSAGE);
    assert_int_equal(used, n);
    struct grpc_arena a;
    grpc_arena_init(&a, 1u << 20);
    ProtobufCMessage *m;
    assert_int_equal(grpc_unpack(&a, &inference__model_infer_request__descriptor, r.msg, r.len, &m), 0);
    const Inference__ModelInferRequest *q = (const Inference__ModelInferRequest *)m;
    assert_string_equal(q->model_name, "mobilenet_v2");
    assert_int_equal(q->n_inputs, 1);
    assert_string_equal(q->inputs[0]->name, "input_1");
    assert_string_equal(q->inputs[0]->datatype, "FP32");
    assert_int_equal(q->inputs[0]->n_shape, 4);
    assert_memory_equal(q->inputs[0]->shape, shape, sizeof shape);
    assert_int_equal(q->n_raw_input_contents, 1);
    assert_int_equal(q->raw_input_contents[0].len, sizeof px);
    assert_memory_equal(q->raw_input_contents[0].data, px, sizeof px);
    /* Not that message at all. */
    unsigned char junk[] = {0xff, 0xff, 0xff};
    assert_int_equal(grpc_unpack(&a, &inference__model_infer_request__descriptor, junk, 3, &m), -EBADMSG);
    grpc_arena_free(&a);
    grpc_reader_free(&r);
    free(b);
}

static void predict_request_splits_bytes_into_string_val(void **state)
{
    unsigned char data[] = {3, 0, 0, 0, 0xff, 0xd8, 0xff, 1, 0, 0, 0, 'x'};
    int64_t shape[] = {2};
    struct grpc_tensor t = {"images", "BYTES", shape, 1, data, sizeof data};
    unsigned char *b;
    size_t n;
    assert_int_equal(grpc_predict_request_pack("m", &t, &b, &n), 0);
    struct grpc_arena a;
    grpc_arena_init(&a, 1u << 20);
    ProtobufCMessage *m;
    assert_int_equal(grpc_unpack(&a, &tensorflow__serving__predict_request__descriptor, b + GRPC_PREFIX,
                                 n - GRPC_PREFIX, &m), 0);
    const Tensorflow__Serving__PredictRequest *q = (const Tensorflow__Serving__PredictRequest *)m;
    assert_string_equal(q->model_spec->name, "m");
    assert_int_equal(q->n_inputs, 1);
    assert_string_equal(q->inputs[0]->key, "images");
    const Tensorflow__TensorProto *tp = q->inputs[0]->value;
    assert_int_equal(tp->dtype, TENSORFLOW__DATA_TYPE__DT_STRING);
    assert_int_equal(tp->n_string_val, 2);
    assert_int_equal(tp->string_val[0].len, 3);
    assert_int_equal(tp->string_val[1].len, 1);
    free(b);
    /* An element that overruns the data is refused. */
    data[0] = 200;
    assert_int_equal(grpc_predict_request_pack("m", &t, &b, &n), -EINVAL);
    grpc_arena_free(&a);
}

/* 100,000 empty `inputs` entries (2 bytes each on the wire) would cost
 * protobuf-c megabytes of structs: the arena's limit stops them. */
static void arena_limit_stops_a_message_that_inflates(void **state)
{
    size_t k = 100000;
    unsigned char *b = malloc(2 * k);
    for (size_t i = 0; i < k; i++) {
        b[2 * i] = 5 << 3 | 2; /* field 5 (inputs), length-delimited */
        b[2 * i + 1] = 0;
    }
    struct grpc_arena a;
    grpc_arena_init(&a, 1u << 20);
    ProtobufCMessage *m;
    assert_int_equal(grpc_unpack(&a, &inference__model_infer_request__descriptor, b, 2 * k, &m), -E2BIG);
    assert_true(a.cap <= 1u << 20);
    /* A generous limit takes it, and the arena is then reused. */
    grpc_arena_free(&a);
    grpc_arena_init(&a, 64u << 20);
    assert_int_equal(grpc_unpack(&a, &inference__model_infer_request__descriptor, b, 2 * k, &m), 0);
    assert_int_equal(((Inference__ModelInferRequest *)m)->n_inputs, k);
    size_t cap = a.cap;
    assert_int_equal(grpc_unpack(&a, &inference__model_infer_request__descriptor, b, 2 * k, &m), 0);
    assert_int_equal(a.cap, cap);
    grpc_arena_free(&a);
    free(b);
}

static void infer_response_output_reads_shape_and_size(void **state)
{
    Inference__ModelInferResponse r = INFERENCE__MODEL_INFER_RESPONSE__INIT;
    Inference__ModelInferResponse__InferOutputTensor o =
        INFERENCE__MODEL_INFER_RESPONSE__INFER_OUTPUT_TENSOR__INIT, *op = &o;
    int64_t shape[] = {3, 1000};
    static float probs[3000];
    ProtobufCBinaryData raw = {sizeof probs, (uint8_t *)probs};
    o.name = "predictions";
    o.datatype = "FP32";
    o.n_shape = 2;
    o.shape = shape;
    r.model_name = "m";
    r.n_outputs = 1;
    r.outputs = &op;
    r.n_raw_output_contents = 1;
    r.raw_output_contents = &raw;
    size_t n = inference__model_infer_response__get_packed_size(&r);
    unsigned char *b = malloc(n);
    inference__model_infer_response__pack(&r, b);
    struct grpc_arena a;
    grpc_arena_init(&a, 1u << 20);
    struct grpc_output out;
    assert_int_equal(grpc_infer_response_output(&a, b, n, &out), 0);
    assert_string_equal(out.name, "predictions");
    assert_string_equal(out.datatype, "FP32");
    assert_int_equal(out.ndims, 2);
    assert_int_equal(out.shape[0], 3);
    assert_int_equal(out.shape[1], 1000);
    assert_int_equal(out.data_len, sizeof probs);
    grpc_arena_free(&a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefix_is_flag_then_big_endian_length),
        cmocka_unit_test(messages_decode_across_every_split),
        cmocka_unit_test(split_prefix_waits_and_is_partial),
        cmocka_unit_test(zero_length_message_is_complete_at_its_prefix),
        cmocka_unit_test(declared_4gb_is_refused_before_any_allocation),
        cmocka_unit_test(one_past_the_maximum_is_refused_the_maximum_is_not),
        cmocka_unit_test(buffer_grows_with_bytes_received_not_the_claim),
        cmocka_unit_test(compressed_and_bad_flags_are_told_apart),
        cmocka_unit_test(status_names_are_the_canonical_ones),
        cmocka_unit_test(status_header_values_parse_strictly),
        cmocka_unit_test(grpc_message_percent_encoding_round_trips),
        cmocka_unit_test(datatypes_map_between_v2_and_tensorflow),
        cmocka_unit_test(model_infer_request_round_trips),
        cmocka_unit_test(predict_request_splits_bytes_into_string_val),
        cmocka_unit_test(arena_limit_stops_a_message_that_inflates),
        cmocka_unit_test(infer_response_output_reads_shape_and_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
