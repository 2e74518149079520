/*
 * pacer.h: intended send times for open-loop load (pure functions).
 *
 * A request's latency in open-loop mode is measured from the time it was
 * *intended* to be sent, so a server stall that delays later sends shows up
 * in the percentiles (no coordinated omission). The pacer produces those
 * intended times, in microseconds from the start of the level, to the
 * microsecond: the k-th constant-rate send is at round(k * 1e6 / rate), so
 * errors never accumulate. Poisson arrivals draw exponential gaps from a
 * seeded xorshift generator, so runs are reproducible.
 */
#ifndef LOADGEN_PACER_H
#define LOADGEN_PACER_H

#include <stdint.h>

enum pacer_arrival { PACER_CONSTANT, PACER_POISSON };

struct pacer {
    enum pacer_arrival arrival;
    double rate;       /* requests per second, > 0 */
    uint64_t rng;      /* xorshift64* state; never 0 */
    uint64_t k;        /* sends handed out so far */
    double next_us;    /* poisson: intended time of the next send */
};

void pacer_init(struct pacer *p, enum pacer_arrival arrival, double rate, uint64_t seed);
/* Intended time of the next send, in us from the level start; advances. */
int64_t pacer_next(struct pacer *p);
/* Name <-> enum for the CLI: "constant", "poisson". -EINVAL otherwise. */
int pacer_parse_arrival(const char *s, enum pacer_arrival *out);

#endif
