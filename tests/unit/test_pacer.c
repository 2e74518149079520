/*
 * test_pacer.c: intended send times are exact for constant arrivals, have
 * the right mean for poisson arrivals, and are reproducible from a seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "pacer.h"

static void constant_5000_per_s_sends_the_5000th_at_exactly_1_s(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, PACER_CONSTANT, 5000, 0);
    int64_t t = -1;
    for (int k = 0; k <= 5000; k++) {
        t = pacer_next(&p);
        assert_int_equal(t, (int64_t)k * 200);
    }
    assert_int_equal(t, 1000000); /* k = 5000, counted from 0 */
}

static void constant_rate_does_not_drift_after_a_million_sends(void **state)
{
    (void)state;
    /* Rates as num/den that do not divide a second evenly: each send is
     * checked against round(k * 1e6 * den / num) in exact integers, so any
     * accumulation of rounded gaps would show. None of these has a tie at
     * .5, where double and integer rounding could differ. */
    static const struct {
        int64_t num, den;
    } rates[] = {{3, 1}, {7000, 1}, {5000, 1}, {333333, 1000}};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        struct pacer p;
        pacer_init(&p, PACER_CONSTANT, (double)rates[r].num / (double)rates[r].den, 0);
        for (int64_t k = 0; k < 1000000; k++) {
            int64_t want = (2 * k * 1000000 * rates[r].den + rates[r].num) / (2 * rates[r].num);
            int64_t got = pacer_next(&p);
            if (got != want)
                fail_msg("rate %lld/%lld, send %lld: %lld us, want %lld", (long long)rates[r].num,
                         (long long)rates[r].den, (long long)k, (long long)got, (long long)want);
        }
    }
}

static void constant_first_send_is_at_zero(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, PACER_CONSTANT, 0.5, 0);
    assert_int_equal(pacer_next(&p), 0);
    assert_int_equal(pacer_next(&p), 2000000);
}

static void poisson_mean_gap_is_within_2pct_over_100000_draws(void **state)
{
    (void)state;
    static const double rates[] = {100, 5000, 250000};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        struct pacer p;
        pacer_init(&p, PACER_POISSON, rates[r], 42);
        assert_int_equal(pacer_next(&p), 0);
        int64_t t = 0, prev = 0;
        for (int i = 0; i < 100000; i++) {
            t = pacer_next(&p);
            assert_true(t >= prev);
            prev = t;
        }
        double mean = (double)t / 100000, want = 1e6 / rates[r];
        assert_true(fabs(mean - want) < want * 0.02);
    }
}

static void poisson_gaps_look_exponential(void **state)
{
    (void)state;
    /* For an exponential gap, P(gap > mean) = 1/e. */
    struct pacer p;
    pacer_init(&p, PACER_POISSON, 1000, 7);
    int64_t prev = pacer_next(&p);
    int above = 0, n = 100000;
    for (int i = 0; i < n; i++) {
        int64_t t = pacer_next(&p);
        above += t - prev > 1000;
        prev = t;
    }
    assert_true(fabs((double)above / n - exp(-1)) < 0.01);
}

static void poisson_is_reproducible_for_the_same_seed(void **state)
{
    (void)state;
    struct pacer a, b, c;
    pacer_init(&a, PACER_POISSON, 1000, 12345);
    pacer_init(&b, PACER_POISSON, 1000, 12345);
    pacer_init(&c, PACER_POISSON, 1000, 54321);
    int differs = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t ta = pacer_next(&a), tc = pacer_next(&c);
        assert_int_equal(ta, pacer_next(&b));
        differs |= ta != tc;
    }
    assert_true(differs);
}

static void poisson_seed_zero_is_replaced_by_a_fixed_nonzero_state(void **state)
{
    (void)state;
    struct pacer a, b;
    pacer_init(&a, PACER_POISSON, 1000, 0);
    pacer_init(&b, PACER_POISSON, 1000, 0);
    assert_true(a.rng != 0);
    int64_t last = 0;
    for (int i = 0; i < 1000; i++) {
        last = pacer_next(&a);
        assert_int_equal(last, pacer_next(&b));
    }
    assert_true(last > 0); /* the generator did not stick at 0 */
}

static void a_rate_that_is_not_positive_never_sends(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, PACER_CONSTANT, 0, 0);
    assert_int_equal(pacer_next(&p), INT64_MAX);
    pacer_init(&p, PACER_POISSON, -1, 0);
    assert_int_equal(pacer_next(&p), INT64_MAX);
    pacer_init(&p, PACER_CONSTANT, NAN, 0);
    assert_int_equal(pacer_next(&p), INT64_MAX);
}

static void a_time_past_int64_saturates(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, PACER_CONSTANT, 1e-14, 0);
    assert_int_equal(pacer_next(&p), 0);
    assert_int_equal(pacer_next(&p), INT64_MAX);
}

static void arrival_names_parse_and_others_are_rejected(void **state)
{
    (void)state;
    enum pacer_arrival a = PACER_POISSON;
    assert_int_equal(pacer_parse_arrival("constant", &a), 0);
    assert_int_equal(a, PACER_CONSTANT);
    assert_int_equal(pacer_parse_arrival("poisson", &a), 0);
    assert_int_equal(a, PACER_POISSON);
    static const char *const bad[] = {"", "Constant", "POISSON", "uniform", "poisson ", "const"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = PACER_CONSTANT;
        assert_int_equal(pacer_parse_arrival(bad[i], &a), -EINVAL);
        assert_int_equal(a, PACER_CONSTANT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(constant_5000_per_s_sends_the_5000th_at_exactly_1_s),
        cmocka_unit_test(constant_rate_does_not_drift_after_a_million_sends),
        cmocka_unit_test(constant_first_send_is_at_zero),
        cmocka_unit_test(poisson_mean_gap_is_within_2pct_over_100000_draws),
        cmocka_unit_test(poisson_gaps_look_exponential),
        cmocka_unit_test(poisson_is_reproducible_for_the_same_seed),
        cmocka_unit_test(poisson_seed_zero_is_replaced_by_a_fixed_nonzero_state),
        cmocka_unit_test(a_rate_that_is_not_positive_never_sends),
        cmocka_unit_test(a_time_past_int64_saturates),
        cmocka_unit_test(arrival_names_parse_and_others_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
