/*
 * test_units.c: every accepted and every rejected form of the unit parsers,
 * table-driven, and the formatters' choice of unit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "units.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

struct int_case {
    const char *in;
    int rc;
    uint64_t want; /* when rc == 0 */
};

struct real_case {
    const char *in;
    int rc;
    double want; /* when rc == 0 */
};

static void check_duration(const struct int_case *c)
{
    int64_t got = -12345;
    int rc = units_parse_duration(c->in, &got);
    if (rc != c->rc)
        fail_msg("duration \"%s\": rc %d, want %d", c->in, rc, c->rc);
    if (rc == 0 && (uint64_t)got != c->want)
        fail_msg("duration \"%s\": %lld us, want %llu", c->in, (long long)got,
                 (unsigned long long)c->want);
    if (rc != 0 && got != -12345)
        fail_msg("duration \"%s\": output written on failure", c->in);
}

static void durations_accept_every_unit_and_fraction(void **state)
{
    (void)state;
    static const struct int_case cases[] = {
        {"250us", 0, 250},
        {"0us", 0, 0},
        {"20ms", 0, 20000},
        {"1.5s", 0, 1500000},
        {"2m", 0, 120000000},
        {"1h", 0, 3600000000ULL},
        {"30", 0, 30000000},            /* bare number: seconds */
        {"0", 0, 0},
        {"0.5", 0, 500000},
        {".25s", 0, 250000},
        {"1.0005ms", 0, 1001},          /* 1000.5 us rounds to nearest */
        {"1.0004ms", 0, 1000},
        {"0.0000001s", 0, 0},
        {"0.25h", 0, 900000000},
        {"007s", 0, 7000000},
        {"2562047788h", 0, 9223372036800000000ULL},
        {"9223372036854775807us", 0, 9223372036854775807ULL},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_duration(&cases[i]);
}

static void durations_reject_malformed_and_overflow(void **state)
{
    (void)state;
    static const struct int_case cases[] = {
        {"", -EINVAL, 0},
        {"-1s", -EINVAL, 0},
        {"+1s", -EINVAL, 0},
        {" 1s", -EINVAL, 0},
        {"1s ", -EINVAL, 0},
        {"1 s", -EINVAL, 0},
        {"s", -EINVAL, 0},
        {".", -EINVAL, 0},
        {"1.", -EINVAL, 0},
        {"1.s", -EINVAL, 0},
        {"1..5s", -EINVAL, 0},
        {"1.5.s", -EINVAL, 0},
        {"1sec", -EINVAL, 0},
        {"1S", -EINVAL, 0},
        {"1d", -EINVAL, 0},
        {"1ns", -EINVAL, 0},
        {"1s1", -EINVAL, 0},
        {"1e3", -EINVAL, 0},
        {"0x10", -EINVAL, 0},
        {"inf", -EINVAL, 0},
        {"nan", -EINVAL, 0},
        {"1,5s", -EINVAL, 0},
        {"99999999999h", -ERANGE, 0},
        {"2562047789h", -ERANGE, 0},
        {"9223372036854775808us", -ERANGE, 0},
        {"18446744073709551616us", -ERANGE, 0},
        {"99999999999999999999999999", -ERANGE, 0},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_duration(&cases[i]);
}

static void check_real(const char *what, int (*parse)(const char *, double *),
                       const struct real_case *c)
{
    double got = -7;
    int rc = parse(c->in, &got);
    if (rc != c->rc)
        fail_msg("%s \"%s\": rc %d, want %d", what, c->in, rc, c->rc);
    if (rc == 0 && fabs(got - c->want) > 1e-12 * fabs(c->want))
        fail_msg("%s \"%s\": %.17g, want %.17g", what, c->in, got, c->want);
    if (rc != 0 && got != -7)
        fail_msg("%s \"%s\": output written on failure", what, c->in);
}

static void rates_accept_per_second_minute_hour_and_magnitudes(void **state)
{
    (void)state;
    static const struct real_case cases[] = {
        {"200", 0, 200},
        {"200/s", 0, 200},
        {"12000/m", 0, 200},
        {"7200/h", 0, 2},
        {"1.5k", 0, 1500},
        {"1.5K", 0, 1500},
        {"1.5k/s", 0, 1500},
        {"60k/m", 0, 1000},
        {"2M", 0, 2000000},
        {"0.5", 0, 0.5},
        {"1/m", 0, 1.0 / 60},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_real("rate", units_parse_rate, &cases[i]);
}

static void rates_reject_zero_signs_junk_and_unknown_units(void **state)
{
    (void)state;
    static const struct real_case cases[] = {
        {"", -EINVAL, 0},      {"0", -EINVAL, 0},       {"0/s", -EINVAL, 0},
        {"0.0k", -EINVAL, 0},  {"-5", -EINVAL, 0},      {"+5", -EINVAL, 0},
        {"5/", -EINVAL, 0},    {"5/d", -EINVAL, 0},     {"5/ms", -EINVAL, 0},
        {"5//s", -EINVAL, 0},  {"5ks", -EINVAL, 0},     {"5m", -EINVAL, 0},
        {"5kk", -EINVAL, 0},   {"5 /s", -EINVAL, 0},    {"/s", -EINVAL, 0},
        {"k", -EINVAL, 0},     {"5/s/s", -EINVAL, 0},   {"1e3", -EINVAL, 0},
        {"inf", -EINVAL, 0},   {"5.", -EINVAL, 0},
        {"99999999999999999999", -ERANGE, 0},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_real("rate", units_parse_rate, &cases[i]);
}

static void check_size(const struct int_case *c)
{
    uint64_t got = 12345;
    int rc = units_parse_size(c->in, &got);
    if (rc != c->rc)
        fail_msg("size \"%s\": rc %d, want %d", c->in, rc, c->rc);
    if (rc == 0 && got != c->want)
        fail_msg("size \"%s\": %llu, want %llu", c->in, (unsigned long long)got,
                 (unsigned long long)c->want);
    if (rc != 0 && got != 12345)
        fail_msg("size \"%s\": output written on failure", c->in);
}

static void sizes_accept_decimal_binary_and_bare_letters(void **state)
{
    (void)state;
    static const struct int_case cases[] = {
        {"512", 0, 512},
        {"512B", 0, 512},
        {"0", 0, 0},
        {"100KB", 0, 100000},
        {"100kB", 0, 100000},
        {"100KiB", 0, 102400},
        {"100kib", 0, 102400},
        {"64MiB", 0, 64ULL << 20},
        {"2MB", 0, 2000000},
        {"3GB", 0, 3000000000ULL},
        {"3GiB", 0, 3ULL << 30},
        {"1TB", 0, 1000000000000ULL},
        {"1TiB", 0, 1ULL << 40},
        {"1K", 0, 1024},
        {"64M", 0, 64ULL << 20},
        {"2G", 0, 2ULL << 30},
        {"1T", 0, 1ULL << 40},
        {"1.5KiB", 0, 1536},
        {"1.5K", 0, 1536},
        {"0.5B", 0, 1}, /* rounded to the nearest byte */
        {"18446744073709551615", 0, UINT64_MAX},
        {"16777215TiB", 0, 16777215ULL << 40},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_size(&cases[i]);
}

static void sizes_reject_junk_and_overflow(void **state)
{
    (void)state;
    static const struct int_case cases[] = {
        {"", -EINVAL, 0},
        {"-1", -EINVAL, 0},
        {"B", -EINVAL, 0},
        {"1 KB", -EINVAL, 0},
        {"1KBB", -EINVAL, 0},
        {"1Ki", -EINVAL, 0},
        {"1PB", -EINVAL, 0},
        {"1b2", -EINVAL, 0},
        {"1.KB", -EINVAL, 0},
        {"18446744073709551616", -ERANGE, 0},
        {"16777216TiB", -ERANGE, 0},
        {"20000000000GB", -ERANGE, 0},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_size(&cases[i]);
}

static void fractions_accept_percent_and_decimal_within_0_and_1(void **state)
{
    (void)state;
    static const struct real_case cases[] = {
        {"10%", 0, 0.10},  {"0.1", 0, 0.1},   {"0", 0, 0},     {"0%", 0, 0},
        {"1", 0, 1},       {"100%", 0, 1},    {"12.5%", 0, 0.125},
        {".5", 0, 0.5},    {"1.000", 0, 1},   {"0.001%", 0, 0.00001},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_real("fraction", units_parse_fraction, &cases[i]);
}

static void fractions_reject_junk_and_values_above_1(void **state)
{
    (void)state;
    static const struct real_case cases[] = {
        {"", -EINVAL, 0},      {"%", -EINVAL, 0},      {"-0.1", -EINVAL, 0},
        {"10 %", -EINVAL, 0},  {"10%%", -EINVAL, 0},   {"0.1x", -EINVAL, 0},
        {"1.5", -ERANGE, 0},   {"101%", -ERANGE, 0},   {"2", -ERANGE, 0},
        {"100.001%", -ERANGE, 0},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_real("fraction", units_parse_fraction, &cases[i]);
}

static void check_count(const struct int_case *c)
{
    uint64_t got = 12345;
    int rc = units_parse_count(c->in, &got);
    if (rc != c->rc)
        fail_msg("count \"%s\": rc %d, want %d", c->in, rc, c->rc);
    if (rc == 0 && got != c->want)
        fail_msg("count \"%s\": %llu, want %llu", c->in, (unsigned long long)got,
                 (unsigned long long)c->want);
    if (rc != 0 && got != 12345)
        fail_msg("count \"%s\": output written on failure", c->in);
}

static void counts_accept_integers_with_k_and_m(void **state)
{
    (void)state;
    static const struct int_case cases[] = {
        {"1000", 0, 1000},  {"0", 0, 0},          {"10k", 0, 10000},
        {"10K", 0, 10000},  {"2M", 0, 2000000},   {"1.5k", 0, 1500},
        {"2.000", 0, 2},    {"0.000001M", 0, 1},
        {"18446744073709551615", 0, UINT64_MAX},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_count(&cases[i]);
}

static void counts_reject_fractions_signs_junk_and_overflow(void **state)
{
    (void)state;
    static const struct int_case cases[] = {
        {"", -EINVAL, 0},       {"1.5", -EINVAL, 0},     {"1.0001k", -EINVAL, 0},
        {"-1", -EINVAL, 0},     {"+1", -EINVAL, 0},      {"1m", -EINVAL, 0},
        {"1G", -EINVAL, 0},     {"1 k", -EINVAL, 0},     {"1kk", -EINVAL, 0},
        {"k", -EINVAL, 0},      {"1e3", -EINVAL, 0},     {"0x10", -EINVAL, 0},
        {"18446744073709551616", -ERANGE, 0},            {"18446744073709552k", -ERANGE, 0},
    };
    for (size_t i = 0; i < LEN(cases); i++)
        check_count(&cases[i]);
}

struct range_case {
    const char *in;
    int is_rate;
    int rc;
    double start, end, step;
};

static void ranges_parse_start_end_and_step(void **state)
{
    (void)state;
    static const struct range_case cases[] = {
        {"20:50:10", 0, 0, 20, 50, 10},
        {"20:50", 0, 0, 20, 50, 1},
        {"50", 0, 0, 50, 50, 1},
        {"5:5", 0, 0, 5, 5, 1},
        {"0:10", 0, 0, 0, 10, 1},
        {"1k:10k:1k", 0, 0, 1000, 10000, 1000},
        {"100:1000:100", 1, 0, 100, 1000, 100},
        {"1.5k:3k:500/s", 1, 0, 1500, 3000, 500},
        {"60/m:120/m", 1, 0, 1, 2, 1},
        {"0.5", 1, 0, 0.5, 0.5, 1},
        {"50:20", 0, -EINVAL, 0, 0, 0},
        {"20:50:0", 0, -EINVAL, 0, 0, 0},
        {"20:50:-1", 0, -EINVAL, 0, 0, 0},
        {"100:200:0", 1, -EINVAL, 0, 0, 0},
        {"", 0, -EINVAL, 0, 0, 0},
        {":", 0, -EINVAL, 0, 0, 0},
        {"20:", 0, -EINVAL, 0, 0, 0},
        {":50", 0, -EINVAL, 0, 0, 0},
        {"20::10", 0, -EINVAL, 0, 0, 0},
        {"20:50:10:", 0, -EINVAL, 0, 0, 0},
        {"1:2:3:4", 0, -EINVAL, 0, 0, 0},
        {"1.5:3", 0, -EINVAL, 0, 0, 0},
        {"0:10", 1, -EINVAL, 0, 0, 0},
        {"a:b", 0, -EINVAL, 0, 0, 0},
        {"20 : 50", 0, -EINVAL, 0, 0, 0},
        {"1:99999999999999999999", 0, -ERANGE, 0, 0, 0},
    };
    for (size_t i = 0; i < LEN(cases); i++) {
        const struct range_case *c = &cases[i];
        struct units_range r = {-1, -1, -1};
        int rc = units_parse_range(c->in, c->is_rate, &r);
        if (rc != c->rc)
            fail_msg("range \"%s\" (rate %d): rc %d, want %d", c->in, c->is_rate, rc, c->rc);
        if (rc == 0 && (r.start != c->start || r.end != c->end || r.step != c->step))
            fail_msg("range \"%s\": %g:%g:%g, want %g:%g:%g", c->in, r.start, r.end, r.step,
                     c->start, c->end, c->step);
        if (rc != 0 && (r.start != -1 || r.end != -1 || r.step != -1))
            fail_msg("range \"%s\": output written on failure", c->in);
    }
}

static void durations_format_in_the_largest_unit_that_reads_well(void **state)
{
    (void)state;
    static const struct {
        int64_t us;
        const char *want;
    } cases[] = {
        {0, "0us"},          {850, "850us"},        {999, "999us"},
        {1000, "1ms"},       {1230, "1.23ms"},      {1234, "1.23ms"},
        {1236, "1.24ms"},    {20000, "20ms"},       {999994, "999.99ms"},
        {999996, "1s"},      {999999, "1s"},        {2500000, "2.5s"},
        {59999999, "1m"},    {90000000, "1.5m"},    {3600000000LL, "1h"},
        {5400000000LL, "1.5h"}, {-1500, "-1.5ms"},  {-850, "-850us"},
    };
    char buf[32];
    for (size_t i = 0; i < LEN(cases); i++)
        assert_string_equal(units_format_duration(cases[i].us, buf, sizeof buf), cases[i].want);
    assert_string_equal(units_format_duration(INT64_MIN, buf, sizeof buf), "-2562047788.02h");
}

static void sizes_format_in_binary_units(void **state)
{
    (void)state;
    static const struct {
        uint64_t bytes;
        const char *want;
    } cases[] = {
        {0, "0 B"},           {512, "512 B"},       {1023, "1023 B"},
        {1024, "1 KiB"},      {1229, "1.2 KiB"},    {1536, "1.5 KiB"},
        {1048575, "1 MiB"},   {64ULL << 20, "64 MiB"}, {3ULL << 30, "3 GiB"},
        {UINT64_MAX, "16 EiB"},
    };
    char buf[32];
    for (size_t i = 0; i < LEN(cases); i++)
        assert_string_equal(units_format_size(cases[i].bytes, buf, sizeof buf), cases[i].want);
}

static void formatters_truncate_to_the_buffer(void **state)
{
    (void)state;
    char buf[4];
    assert_string_equal(units_format_duration(1230, buf, sizeof buf), "1.2");
    assert_string_equal(units_format_size(1536, buf, sizeof buf), "1.5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_accept_every_unit_and_fraction),
        cmocka_unit_test(durations_reject_malformed_and_overflow),
        cmocka_unit_test(rates_accept_per_second_minute_hour_and_magnitudes),
        cmocka_unit_test(rates_reject_zero_signs_junk_and_unknown_units),
        cmocka_unit_test(sizes_accept_decimal_binary_and_bare_letters),
        cmocka_unit_test(sizes_reject_junk_and_overflow),
        cmocka_unit_test(fractions_accept_percent_and_decimal_within_0_and_1),
        cmocka_unit_test(fractions_reject_junk_and_values_above_1),
        cmocka_unit_test(counts_accept_integers_with_k_and_m),
        cmocka_unit_test(counts_reject_fractions_signs_junk_and_overflow),
        cmocka_unit_test(ranges_parse_start_end_and_step),
        cmocka_unit_test(durations_format_in_the_largest_unit_that_reads_well),
        cmocka_unit_test(sizes_format_in_binary_units),
        cmocka_unit_test(formatters_truncate_to_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
