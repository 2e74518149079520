/*
 * hist.h: an HDR-style log-linear histogram of microsecond values.
 *
 * Range 1 us .. HIST_MAX_US (at least one hour), `sig` significant decimal
 * digits (1..5; 3 is the default everywhere a latency is recorded). Memory is
 * fixed at creation; recording is O(1) and never allocates. Two histograms of
 * the same precision merge exactly by adding counts, and the encoding
 * round-trips losslessly, so results from many client machines merge into
 * the same percentiles as one histogram fed every sample.
 *
 * Values above HIST_MAX_US are clamped to it (and counted); 0 is recorded as
 * 0. Not thread-safe: each event-loop thread owns its histograms and they are
 * merged after join.
 */
#ifndef LOADGEN_HIST_H
#define LOADGEN_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_MAX_US (3600ULL * 1000000ULL * 4) /* 4 h */

struct hist;

struct hist *hist_create(int sig);           /* NULL on bad sig or ENOMEM */
void hist_destroy(struct hist *h);            /* accepts NULL */
void hist_reset(struct hist *h);
void hist_record(struct hist *h, uint64_t value_us);
void hist_record_n(struct hist *h, uint64_t value_us, uint64_t n);
/* dst += src; -EINVAL when their precisions differ. */
int hist_add(struct hist *dst, const struct hist *src);

uint64_t hist_count(const struct hist *h);
uint64_t hist_min(const struct hist *h);      /* 0 when empty */
uint64_t hist_max(const struct hist *h);      /* 0 when empty */
double hist_mean(const struct hist *h);       /* 0 when empty */
double hist_stddev(const struct hist *h);
int hist_sig(const struct hist *h);
/* The value at percentile p (0..100): the highest value equivalent to the
 * bucket holding the ceil(p/100 * count)-th sample, as HdrHistogram does.
 * 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);

/* Encoding: "v1:<sig>:" then base64 of varints (zero runs written as a
 * negative zigzag run length). *out is malloc'ed, NUL-terminated. */
int hist_encode(const struct hist *h, char **out);
/* -EINVAL on anything malformed; never reads past `len`. */
int hist_decode(const char *text, size_t len, struct hist **out);

/* Iterate the non-empty buckets in order: returns 1 and fills value/count
 * while there is one, 0 at the end. *cursor starts at 0. */
int hist_next(const struct hist *h, size_t *cursor, uint64_t *value_us, uint64_t *count);

#endif
