/*
 * test_hist.c: the HDR histogram: precision, exact statistics, lossless
 * merge and encoding, and a decoder that refuses anything malformed.
 * Includes hist.c to reach the slot layout (index_of, highest_of).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/hist.c"

static const double checked_percentiles[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};

static void assert_same_histogram(const struct hist *a, const struct hist *b)
{
    assert_int_equal(hist_sig(a), hist_sig(b));
    assert_int_equal(hist_count(a), hist_count(b));
    assert_int_equal(hist_min(a), hist_min(b));
    assert_int_equal(hist_max(a), hist_max(b));
    assert_true(hist_mean(a) == hist_mean(b));
    assert_true(hist_stddev(a) == hist_stddev(b));
    for (size_t i = 0; i < sizeof checked_percentiles / sizeof checked_percentiles[0]; i++)
        assert_int_equal(hist_percentile(a, checked_percentiles[i]),
                         hist_percentile(b, checked_percentiles[i]));
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->counts, b->counts, a->len * sizeof a->counts[0]);
}

static struct hist *uniform_1_to(uint64_t n)
{
    struct hist *h = hist_create(3);
    assert_non_null(h);
    for (uint64_t v = 1; v <= n; v++)
        hist_record(h, v);
    return h;
}

static void assert_within(uint64_t got, double want, double rel)
{
    if (fabs((double)got - want) > want * rel)
        fail_msg("%llu is not within %g%% of %g", (unsigned long long)got, rel * 100, want);
}

static void percentiles_of_uniform_1_to_100000_are_within_0_1pct(void **state)
{
    (void)state;
    struct hist *h = uniform_1_to(100000);
    assert_within(hist_percentile(h, 50), 50000, 0.001);
    assert_within(hist_percentile(h, 90), 90000, 0.001);
    assert_within(hist_percentile(h, 99), 99000, 0.001);
    assert_within(hist_percentile(h, 99.9), 99900, 0.001);
    assert_int_equal(hist_percentile(h, 100), 100000);
    hist_destroy(h);
}

static void min_max_mean_of_uniform_1_to_100000_are_exact(void **state)
{
    (void)state;
    struct hist *h = uniform_1_to(100000);
    assert_int_equal(hist_count(h), 100000);
    assert_int_equal(hist_min(h), 1);
    assert_int_equal(hist_max(h), 100000);
    assert_true(hist_mean(h) == 50000.5);
    /* Uniform on 1..n: sqrt((n^2 - 1) / 12); buckets cost < 0.1%. */
    double want = sqrt((1e10 - 1) / 12);
    assert_true(fabs(hist_stddev(h) - want) < want * 0.001);
    hist_destroy(h);
}

static void values_below_2048_are_exact_at_sig_3(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    for (uint64_t v = 0; v < 2048; v++) {
        hist_reset(h);
        hist_record(h, v);
        hist_record(h, 5000000);
        assert_int_equal(hist_percentile(h, 50), v);
    }
    hist_destroy(h);
}

static void every_slot_holds_sig_significant_digits(void **state)
{
    (void)state;
    for (int sig = 1; sig <= 5; sig++) {
        struct hist *h = hist_create(sig);
        assert_non_null(h);
        double limit = pow(10, -sig);
        for (size_t i = 0; i < h->len; i++) {
            uint64_t lo = lowest_of(h, i), hi = highest_of(h, i);
            assert_int_equal(index_of(h, lo), i);
            assert_int_equal(index_of(h, hi), i);
            if (i + 1 < h->len)
                assert_int_equal(lowest_of(h, i + 1), hi + 1);
            if (lo > 0)
                assert_true((double)(hi - lo) / (double)lo < limit);
        }
        assert_int_equal(index_of(h, HIST_MAX_US), h->len - 1);
        hist_destroy(h);
    }
}

static void memory_at_sig_3_is_between_140_and_200_kib(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    size_t bytes = sizeof *h + h->len * sizeof h->counts[0];
    assert_true(bytes >= 140 * 1024);
    assert_true(bytes <= 200 * 1024);
    hist_destroy(h);
}

static void create_rejects_sig_outside_1_to_5(void **state)
{
    (void)state;
    assert_null(hist_create(0));
    assert_null(hist_create(6));
    assert_null(hist_create(-3));
    hist_destroy(NULL);
}

static void empty_histogram_reports_zeros(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    assert_int_equal(hist_count(h), 0);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), 0);
    assert_true(hist_mean(h) == 0);
    assert_true(hist_stddev(h) == 0);
    assert_int_equal(hist_percentile(h, 50), 0);
    size_t cursor = 0;
    uint64_t v, n;
    assert_int_equal(hist_next(h, &cursor, &v, &n), 0);
    hist_destroy(h);
}

static void zero_is_recorded_as_zero(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    hist_record(h, 0);
    hist_record(h, 0);
    assert_int_equal(hist_count(h), 2);
    assert_int_equal(hist_min(h), 0);
    assert_int_equal(hist_max(h), 0);
    assert_int_equal(hist_percentile(h, 99), 0);
    assert_true(hist_mean(h) == 0);
    hist_destroy(h);
}

static void values_past_max_are_clamped_and_counted(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    hist_record(h, UINT64_MAX);
    hist_record(h, HIST_MAX_US + 1);
    hist_record(h, 10);
    assert_int_equal(hist_count(h), 3);
    assert_int_equal(hist_max(h), HIST_MAX_US);
    assert_int_equal(hist_percentile(h, 100), HIST_MAX_US);
    assert_int_equal(hist_percentile(h, 50), HIST_MAX_US);
    assert_true(hist_mean(h) == (2.0 * HIST_MAX_US + 10) / 3);
    hist_destroy(h);
}

static void single_value_has_zero_stddev_and_every_percentile_equal(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    hist_record_n(h, 123457, 1000);
    assert_int_equal(hist_count(h), 1000);
    assert_true(hist_stddev(h) == 0);
    assert_true(hist_mean(h) == 123457);
    for (size_t i = 0; i < sizeof checked_percentiles / sizeof checked_percentiles[0]; i++)
        assert_int_equal(hist_percentile(h, checked_percentiles[i]), 123457);
    hist_destroy(h);
}

static void record_n_equals_n_records_and_n_zero_is_a_no_op(void **state)
{
    (void)state;
    struct hist *a = hist_create(3), *b = hist_create(3);
    hist_record_n(a, 777, 5);
    hist_record_n(a, 1, 0);
    for (int i = 0; i < 5; i++)
        hist_record(b, 777);
    assert_same_histogram(a, b);
    hist_destroy(a);
    hist_destroy(b);
}

static void percentile_is_the_bucket_top_at_ceil_of_p_times_count(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    /* 100 samples: p50 is the 50th (in 10's slot), p50.5 the 51st. */
    hist_record_n(h, 10, 50);
    hist_record_n(h, 100000, 50);
    assert_int_equal(hist_percentile(h, 50), 10);
    assert_int_equal(hist_percentile(h, 50.5), 100000);
    /* Out-of-range and NaN p are clamped. */
    assert_int_equal(hist_percentile(h, -5), 10);
    assert_int_equal(hist_percentile(h, 250), 100000);
    assert_int_equal(hist_percentile(h, NAN), 10);
    /* Inside a wide slot the top of the slot is reported, below the max. */
    hist_reset(h);
    hist_record(h, 100000);
    hist_record(h, 200000);
    assert_int_equal(hist_percentile(h, 50), highest_of(h, index_of(h, 100000)));
    hist_destroy(h);
}

static void merging_two_halves_equals_recording_all(void **state)
{
    (void)state;
    struct hist *all = hist_create(3), *odd = hist_create(3), *even = hist_create(3);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = x % 5000000;
        hist_record(all, v);
        hist_record(i % 2 ? odd : even, v);
    }
    assert_int_equal(hist_add(odd, even), 0);
    assert_same_histogram(all, odd);
    hist_destroy(all);
    hist_destroy(odd);
    hist_destroy(even);
}

static void add_of_empty_changes_nothing(void **state)
{
    (void)state;
    struct hist *a = hist_create(3), *b = hist_create(3), *empty = hist_create(3);
    hist_record(a, 5);
    hist_record(b, 5);
    assert_int_equal(hist_add(a, empty), 0);
    assert_same_histogram(a, b);
    assert_int_equal(hist_add(empty, a), 0);
    assert_same_histogram(empty, b);
    hist_destroy(a);
    hist_destroy(b);
    hist_destroy(empty);
}

static void add_refuses_different_sig(void **state)
{
    (void)state;
    struct hist *a = hist_create(3), *b = hist_create(2);
    hist_record(b, 5);
    assert_int_equal(hist_add(a, b), -EINVAL);
    assert_int_equal(hist_count(a), 0);
    hist_destroy(a);
    hist_destroy(b);
}

static void next_visits_every_nonempty_bucket_in_order(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    hist_record_n(h, 3, 2);
    hist_record_n(h, 100000, 3);
    hist_record(h, 100001); /* same slot as 100000 */
    hist_record(h, 7000000);
    size_t cursor = 0;
    uint64_t v, n;
    assert_int_equal(hist_next(h, &cursor, &v, &n), 1);
    assert_int_equal(v, 3);
    assert_int_equal(n, 2);
    assert_int_equal(hist_next(h, &cursor, &v, &n), 1);
    assert_int_equal(v, highest_of(h, index_of(h, 100000)));
    assert_int_equal(n, 4);
    assert_int_equal(hist_next(h, &cursor, &v, &n), 1);
    assert_int_equal(v, 7000000); /* top slot: reported as the max */
    assert_int_equal(n, 1);
    assert_int_equal(hist_next(h, &cursor, &v, &n), 0);
    assert_int_equal(hist_next(h, &cursor, &v, &n), 0);
    hist_destroy(h);
}

static struct hist *round_trip(const struct hist *h)
{
    char *text;
    struct hist *back;
    assert_int_equal(hist_encode(h, &text), 0);
    assert_true(strncmp(text, "v1:", 3) == 0);
    assert_int_equal(hist_decode(text, strlen(text), &back), 0);
    /* The encoding is canonical: encoding again gives the same text. */
    char *again;
    assert_int_equal(hist_encode(back, &again), 0);
    assert_string_equal(text, again);
    free(text);
    free(again);
    return back;
}

static void encode_decode_round_trips_several_distributions(void **state)
{
    (void)state;
    for (int sig = 1; sig <= 5; sig++) {
        struct hist *h = hist_create(sig);
        for (int shape = 0; shape < 6; shape++) {
            hist_reset(h);
            uint64_t x = 0x123456789ULL + (uint64_t)shape;
            switch (shape) {
            case 0: /* empty */
                break;
            case 1: /* a single value */
                hist_record(h, 4242);
                break;
            case 2: /* uniform */
                for (uint64_t v = 1; v <= 20000; v++)
                    hist_record(h, v * 7);
                break;
            case 3: /* long-tailed, with zeros and values past the max */
                for (int i = 0; i < 50000; i++) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    hist_record(h, (x % 1000) * (x % 1000) * (x % 1000) * (x % 7));
                }
                hist_record(h, HIST_MAX_US * 3);
                break;
            case 4: /* two far-apart modes */
                hist_record_n(h, 1, 1000000);
                hist_record_n(h, 3000000000ULL, 17);
                break;
            case 5: /* only values past the max */
                hist_record_n(h, UINT64_MAX, 3);
                break;
            }
            struct hist *back = round_trip(h);
            assert_same_histogram(h, back);
            hist_destroy(back);
        }
        hist_destroy(h);
    }
}

static void decoded_histograms_merge_like_the_originals(void **state)
{
    (void)state;
    struct hist *a = hist_create(3), *b = hist_create(3);
    for (uint64_t v = 1; v <= 1000; v++) {
        hist_record(a, v * 1000);
        hist_record(b, v * 3);
    }
    struct hist *a2 = round_trip(a), *b2 = round_trip(b);
    hist_add(a, b);
    hist_add(a2, b2);
    assert_same_histogram(a, a2);
    hist_destroy(a);
    hist_destroy(b);
    hist_destroy(a2);
    hist_destroy(b2);
}

static void encoding_of_empty_histogram_is_short(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    char *text;
    assert_int_equal(hist_encode(h, &text), 0);
    assert_string_equal(text, "v1:3:AAAAAA=="); /* min, max, sum lo, sum hi */
    free(text);
    hist_destroy(h);
}

/* Builds "v1:<sig>:" + base64(bytes) for hand-made payloads. */
static char *wrap(int sig, const unsigned char *bytes, size_t n)
{
    char *t = malloc(5 + base64_encoded_len(n) + 1);
    t[0] = 'v', t[1] = '1', t[2] = ':', t[3] = (char)('0' + sig), t[4] = ':';
    t[5 + base64_encode(bytes, n, t + 5)] = '\0';
    return t;
}

static void assert_rejected(const char *text, size_t len)
{
    struct hist *h = (struct hist *)0x1;
    assert_int_equal(hist_decode(text, len, &h), -EINVAL);
    assert_ptr_equal(h, (struct hist *)0x1); /* untouched on failure */
}

static void assert_payload_rejected(const unsigned char *bytes, size_t n)
{
    char *t = wrap(3, bytes, n);
    assert_rejected(t, strlen(t));
    free(t);
}

static void decode_rejects_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "v", "v1", "v1:", "v1:3", "v1:3:A", "v2:3:AAAAAA==", "v1:0:AAAAAA==",
        "v1:6:AAAAAA==", "v1:x:AAAAAA==", "v1:33:AAAAAA==", "v1:3;AAAAAA==",
        "v1:3:AAAAAA=", "v1:3:AAAA*A==", "v1:3:AA=AAA==", "hello world", "v1:3:",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_rejected(bad[i], strlen(bad[i]));
    assert_rejected(NULL, 0);
    /* A NUL inside the text is just a bad character. */
    assert_rejected("v1:3:AAAA\0AAA", 13);
}

static void decode_rejects_every_truncation(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    for (uint64_t v = 1; v < 100000; v += 37)
        hist_record(h, v);
    char *text;
    assert_int_equal(hist_encode(h, &text), 0);
    size_t n = strlen(text);
    for (size_t len = 0; len < n; len++) {
        /* Copy to an exact-size buffer so ASan catches a read past len. */
        char *part = malloc(len ? len : 1);
        memcpy(part, text, len);
        struct hist *out = NULL;
        int rc = hist_decode(part, len, &out);
        assert_int_equal(rc, -EINVAL);
        free(part);
    }
    free(text);
    hist_destroy(h);
}

static void decode_rejects_inconsistent_payloads(void **state)
{
    (void)state;
    /* header: min max sumlo sumhi; then tokens (2c = count c, 2r-1 = run r). */
    static const unsigned char no_header[] = {0, 0, 0};
    static const unsigned char zero_token[] = {0, 0, 0, 0, 0};
    static const unsigned char trailing_run[] = {5, 5, 5, 0, 9, 2, 1};
    static const unsigned char two_runs[] = {5, 5, 5, 0, 7, 1, 2};
    static const unsigned char min_not_first[] = {4, 5, 5, 0, 9, 2};
    static const unsigned char max_not_last[] = {5, 6, 5, 0, 9, 2};
    static const unsigned char sum_off[] = {5, 5, 6, 0, 9, 2};
    static const unsigned char empty_with_min[] = {1, 0, 0, 0};
    static const unsigned char overlong_varint[] = {0x85, 0x00, 5, 5, 0, 9, 2};
    static const unsigned char varint_past_64_bits[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                                        0xff, 0xff, 0xff, 0xff, 0x02};
    static const unsigned char run_past_end[] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 2};
    /* Three counts of 2^63 - 1: their total does not fit 64 bits. */
    static const unsigned char count_overflow[] = {
        2, 4, 3, 0, 3, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_payload_rejected(no_header, sizeof no_header);
    assert_payload_rejected(zero_token, sizeof zero_token);
    assert_payload_rejected(trailing_run, sizeof trailing_run);
    assert_payload_rejected(two_runs, sizeof two_runs);
    assert_payload_rejected(min_not_first, sizeof min_not_first);
    assert_payload_rejected(max_not_last, sizeof max_not_last);
    assert_payload_rejected(sum_off, sizeof sum_off);
    assert_payload_rejected(empty_with_min, sizeof empty_with_min);
    assert_payload_rejected(overlong_varint, sizeof overlong_varint);
    assert_payload_rejected(varint_past_64_bits, sizeof varint_past_64_bits);
    assert_payload_rejected(run_past_end, sizeof run_past_end);
    assert_payload_rejected(count_overflow, sizeof count_overflow);

    /* The same hand-made shape, consistent, is accepted: 5 us once. */
    static const unsigned char good[] = {5, 5, 5, 0, 9, 2};
    char *t = wrap(3, good, sizeof good);
    struct hist *h;
    assert_int_equal(hist_decode(t, strlen(t), &h), 0);
    assert_int_equal(hist_count(h), 1);
    assert_int_equal(hist_percentile(h, 50), 5);
    free(t);
    hist_destroy(h);
}

static void encode_refuses_counts_beyond_int64(void **state)
{
    (void)state;
    struct hist *h = hist_create(3);
    hist_record_n(h, 5, (uint64_t)INT64_MAX + 1);
    char *text = NULL;
    assert_int_equal(hist_encode(h, &text), -ERANGE);
    assert_null(text);
    hist_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percentiles_of_uniform_1_to_100000_are_within_0_1pct),
        cmocka_unit_test(min_max_mean_of_uniform_1_to_100000_are_exact),
        cmocka_unit_test(values_below_2048_are_exact_at_sig_3),
        cmocka_unit_test(every_slot_holds_sig_significant_digits),
        cmocka_unit_test(memory_at_sig_3_is_between_140_and_200_kib),
        cmocka_unit_test(create_rejects_sig_outside_1_to_5),
        cmocka_unit_test(empty_histogram_reports_zeros),
        cmocka_unit_test(zero_is_recorded_as_zero),
        cmocka_unit_test(values_past_max_are_clamped_and_counted),
        cmocka_unit_test(single_value_has_zero_stddev_and_every_percentile_equal),
        cmocka_unit_test(record_n_equals_n_records_and_n_zero_is_a_no_op),
        cmocka_unit_test(percentile_is_the_bucket_top_at_ceil_of_p_times_count),
        cmocka_unit_test(merging_two_halves_equals_recording_all),
        cmocka_unit_test(add_of_empty_changes_nothing),
        cmocka_unit_test(add_refuses_different_sig),
        cmocka_unit_test(next_visits_every_nonempty_bucket_in_order),
        cmocka_unit_test(encode_decode_round_trips_several_distributions),
        cmocka_unit_test(decoded_histograms_merge_like_the_originals),
        cmocka_unit_test(encoding_of_empty_histogram_is_short),
        cmocka_unit_test(decode_rejects_garbage),
        cmocka_unit_test(decode_rejects_every_truncation),
        cmocka_unit_test(decode_rejects_inconsistent_payloads),
        cmocka_unit_test(encode_refuses_counts_beyond_int64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
