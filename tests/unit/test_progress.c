/*
 * test_progress.c: the progress line's words: done/total with a percent,
 * the smoothed rate, errors, p99 so far, and the time left from the rate (counted
 * levels) or the clock (timed levels); off a terminal a plain line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

static void a_counted_level_says_how_far_and_how_long_is_left(void **state)
{
    (void)state;
    struct progress p = {.what = "gpu-1 c=50 cycle 1", .total = 1000, .start_us = 0, .rate = 200};
    char line[256];
    progress_format(&p, &(struct engine_progress){400, 3, 12345}, 2000000, line, sizeof line);
    /* 600 left at 200 req/s: 3 s. */
    assert_string_equal(line, "gpu-1 c=50 cycle 1: 400/1000 (40%), 200 req/s, errors 3, p99 12.3 ms, 3s left");
}

static void a_timed_level_counts_down_its_duration(void **state)
{
    (void)state;
    struct progress p = {.what = "run c=20 cycle 2", .duration_us = 30000000, .start_us = 0,
                         .rate = 1500};
    char line[256];
    progress_format(&p, &(struct engine_progress){15000, 0, 20500}, 10000000, line, sizeof line);
    assert_string_equal(line, "run c=20 cycle 2: 15000 done in 10 s, 1500 req/s, errors 0, p99 20.5 ms, 20s left");
}

static void without_a_rate_no_time_left_is_guessed(void **state)
{
    (void)state;
    struct progress p = {.what = "warm-up", .total = 50, .start_us = 0};
    char line[256];
    progress_format(&p, &(struct engine_progress){0, 0, 0}, 100000, line, sizeof line);
    /* No latency yet: no p99. */
    assert_string_equal(line, "warm-up: 0/50 (0%), 0 req/s, errors 0");
}

static void off_a_terminal_a_plain_line_comes_every_ten_seconds_only(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct progress p;
    progress_init(&p, f, 0);
    assert_int_equal(p.tty, 0);
    progress_start(&p, "x", 100, 0);
    progress_tick(&p, &(struct engine_progress){10, 0, 0}); /* too soon: nothing */
    p.shown_us -= PROGRESS_PLAIN_US;
    p.last_us -= 1000000;
    progress_tick(&p, &(struct engine_progress){50, 1, 0});
    progress_end(&p);
    fclose(f);
    assert_non_null(strstr(buf, "loadgen: x: 50/100 (50%), "));
    assert_non_null(strstr(buf, "errors 1"));
    assert_null(strchr(buf, '\r'));
    assert_null(strchr(buf, '\033'));
    assert_int_equal(strchr(buf, '\n') - buf + 1, (long)len); /* one line */
    free(buf);
}

static void quiet_shows_nothing(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct progress p;
    progress_init(&p, f, 1);
    progress_start(&p, "x", 100, 0);
    p.shown_us -= PROGRESS_PLAIN_US;
    progress_tick(&p, &(struct engine_progress){50, 0, 0});
    fclose(f);
    assert_int_equal(len, 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_counted_level_says_how_far_and_how_long_is_left),
        cmocka_unit_test(a_timed_level_counts_down_its_duration),
        cmocka_unit_test(without_a_rate_no_time_left_is_guessed),
        cmocka_unit_test(off_a_terminal_a_plain_line_comes_every_ten_seconds_only),
        cmocka_unit_test(quiet_shows_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
