/*
 * pacer.c: intended send times for open-loop load.
 *
 * Owned by the engine: each event-loop thread keeps its own struct pacer,
 * so there is no shared state; the functions are pure apart from the
 * struct they are given.
 *
 * Constant arrivals are computed from k, never by adding gaps, so the
 * millionth send is as exact as the first. Poisson arrivals do add gaps, in
 * double precision (a 2^-53 relative error per step stays far below a
 * microsecond over any run we make), and are rounded only on the way out.
 * Both start with a send at 0 us.
 */
#include "pacer.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Any fixed non-zero value will do: xorshift never leaves 0. */
#define PACER_SEED_FOR_ZERO 0x9E3779B97F4A7C15ULL

void pacer_init(struct pacer *p, enum pacer_arrival arrival, double rate, uint64_t seed)
{
    p->arrival = arrival;
    p->rate = rate;
    p->rng = seed ? seed : PACER_SEED_FOR_ZERO;
    p->k = 0;
    p->next_us = 0;
}

/* xorshift64* (Vigna): a full-period 64-bit generator with a multiplied
 * output; the top 53 bits make a uniform double in [0, 1). */
static double next_uniform(struct pacer *p)
{
    uint64_t x = p->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    p->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * 0x1p-53;
}

/* A time that does not fit, including the one a rate <= 0 would give,
 * means "never". */
static int64_t to_us(double t)
{
    return t < 0x1p63 ? (int64_t)floor(t + 0.5) : INT64_MAX;
}

int64_t pacer_next(struct pacer *p)
{
    if (!(p->rate > 0))
        return INT64_MAX;
    if (p->arrival == PACER_CONSTANT)
        return to_us((double)p->k++ * 1e6 / p->rate);
    double t = p->next_us;
    /* 1 - u is in (0, 1], so the log is finite. */
    p->next_us += -log(1 - next_uniform(p)) * 1e6 / p->rate;
    p->k++;
    return to_us(t);
}

int pacer_parse_arrival(const char *s, enum pacer_arrival *out)
{
    if (strcmp(s, "constant") == 0)
        *out = PACER_CONSTANT;
    else if (strcmp(s, "poisson") == 0)
        *out = PACER_POISSON;
    else
        return -EINVAL;
    return 0;
}
