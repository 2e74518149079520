/*
 * test_stats.c: a level's result: recording, merging the loops' stats
 * (counts, histograms, the log) and the per-second timeline, whose seconds
 * line up on the level's origin whichever loop recorded them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "hist.h"
#include "stats.h"

#define ORIGIN 1000000000LL /* a monotonic level start, us */

static void record(struct stats *s, int64_t at_us, uint32_t latency_us, enum stats_class c)
{
    struct stats_request r = {.offset_us = at_us - ORIGIN, .latency_us = latency_us,
                              .class_ = (uint8_t)c, .bytes_sent = 100, .bytes_recv = 10};
    if (s->first_start_us > at_us - latency_us)
        s->first_start_us = at_us - latency_us;
    assert_int_equal(stats_record(s, &r, 2, latency_us, at_us), 0);
}

static void merging_two_loops_adds_counts_histograms_and_log(void **state)
{
    (void)state;
    struct stats *a = stats_create(1, 8), *b = stats_create(1, 8), *all = stats_create(1, 8);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(all);
    stats_reset(a, ORIGIN);
    stats_reset(b, ORIGIN);
    stats_reset(all, ORIGIN);
    record(a, ORIGIN + 100000, 10000, CLASS_OK);
    record(a, ORIGIN + 200000, 30000, CLASS_HTTP_5XX);
    record(b, ORIGIN + 150000, 20000, CLASS_OK);
    assert_int_equal(stats_merge(all, a), 0);
    assert_int_equal(stats_merge(all, b), 0);
    assert_int_equal(all->requests, 3);
    assert_int_equal(all->by_class[CLASS_OK], 2);
    assert_int_equal(all->by_class[CLASS_HTTP_5XX], 1);
    assert_int_equal(stats_errors(all), 1);
    assert_int_equal(all->images, 6);
    assert_int_equal(all->images_ok, 4);
    assert_int_equal(all->bytes_sent, 300);
    assert_int_equal(all->nlog, 3);
    assert_int_equal(hist_count(all->h[STATS_LATENCY]), 3);
    /* The merged median is the middle of the three, exactly. */
    uint64_t p50 = hist_percentile(all->h[STATS_LATENCY], 50);
    assert_in_range(p50, 19980, 20020);
    assert_int_equal(all->last_end_us, ORIGIN + 200000);
    assert_int_equal(all->first_start_us, ORIGIN + 90000);
    stats_destroy(a);
    stats_destroy(b);
    stats_destroy(all);
}

static void timeline_seconds_line_up_on_the_level_origin(void **state)
{
    (void)state;
    struct stats *a = stats_create(0, 0), *b = stats_create(0, 0), *all = stats_create(0, 0);
    stats_reset(a, ORIGIN);
    stats_reset(b, ORIGIN);
    stats_reset(all, ORIGIN);
    /* Loop a finishes in seconds 0 and 2, loop b in seconds 1 and 2. */
    record(a, ORIGIN + 500000, 1000, CLASS_OK);
    record(a, ORIGIN + 2500000, 3000, CLASS_OK);
    record(b, ORIGIN + 1500000, 2000, CLASS_TIMEOUT);
    record(b, ORIGIN + 2100000, 3000, CLASS_OK);
    assert_int_equal(stats_merge(all, a), 0);
    assert_int_equal(stats_merge(all, b), 0);
    assert_int_equal(all->nseconds, 3);
    assert_int_equal(all->seconds[0].completions, 1);
    assert_int_equal(all->seconds[1].completions, 1);
    assert_int_equal(all->seconds[1].errors, 1);
    assert_int_equal(all->seconds[2].completions, 2);
    assert_int_equal(hist_count(all->seconds[2].latency), 2);
    /* Reset for the next level: empty, ready to record again. */
    stats_reset(all, ORIGIN + 10000000);
    assert_int_equal(all->requests, 0);
    assert_int_equal(all->nseconds, 0);
    assert_int_equal(hist_count(all->h[STATS_LATENCY]), 0);
    stats_destroy(a);
    stats_destroy(b);
    stats_destroy(all);
}

/* gRPC codes travel in stats_request.grpc (code + 1) and add up across
 * threads; a code past 16 is OTHER. */
static void grpc_codes_are_counted_and_merged(void **state)
{
    (void)state;
    struct stats *a = stats_create(0, 0), *b = stats_create(0, 0), *all = stats_create(0, 0);
    stats_reset(a, ORIGIN);
    stats_reset(b, ORIGIN);
    stats_reset(all, ORIGIN);
    struct stats_request r = {.status = 200, .class_ = CLASS_OK, .grpc = 1};
    assert_int_equal(stats_record(a, &r, 1, 10, ORIGIN + 1000), 0);
    r.class_ = CLASS_GRPC;
    r.grpc = 14 + 1;
    assert_int_equal(stats_record(a, &r, 1, 10, ORIGIN + 1000), 0);
    assert_int_equal(stats_record(b, &r, 1, 10, ORIGIN + 1000), 0);
    r.grpc = STATS_GRPC_OTHER + 1;
    assert_int_equal(stats_record(b, &r, 1, 10, ORIGIN + 1000), 0);
    r.grpc = 0; /* not gRPC: not counted */
    r.class_ = CLASS_CONNECT;
    assert_int_equal(stats_record(b, &r, 1, 10, ORIGIN + 1000), 0);
    assert_int_equal(stats_merge(all, a), 0);
    assert_int_equal(stats_merge(all, b), 0);
    assert_int_equal(all->by_grpc[0], 1);
    assert_int_equal(all->by_grpc[14], 2);
    assert_int_equal(all->by_grpc[STATS_GRPC_OTHER], 1);
    assert_int_equal(all->by_class[CLASS_GRPC], 3);
    uint64_t sum = 0;
    for (int i = 0; i < STATS_GRPC_CODES; i++)
        sum += all->by_grpc[i];
    assert_int_equal(sum, 4);
    assert_string_equal(stats_grpc_name(14), "UNAVAILABLE");
    assert_string_equal(stats_grpc_name(STATS_GRPC_OTHER), "OTHER");
    stats_reset(all, ORIGIN);
    assert_int_equal(all->by_grpc[14], 0);
    stats_destroy(a);
    stats_destroy(b);
    stats_destroy(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grpc_codes_are_counted_and_merged),
        cmocka_unit_test(merging_two_loops_adds_counts_histograms_and_log),
        cmocka_unit_test(timeline_seconds_line_up_on_the_level_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
