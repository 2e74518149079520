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
 * Values above HIST_MAX_US are clamped to it (and still counted, as
 * HIST_MAX_US); 0 is recorded as 0. Memory at sig 3 is about 197 KiB (sig 1:
 * 4 KiB, 2: 28 KiB, 4: 2.6 MiB, 5: 18 MiB). Not thread-safe: each event-loop
 * thread owns its histograms and they are merged after join.
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
double hist_mean(const struct hist *h);       /* exact (from the sum); 0 when empty */
/* From bucket midpoints around the exact mean; 0 when empty. */
double hist_stddev(const struct hist *h);
int hist_sig(const struct hist *h);
/* The value at percentile p (0..100): the highest value equivalent to the
 * bucket holding the ceil(p/100 * count)-th sample (at least the 1st), as
 * HdrHistogram does, but never above hist_max, so p100 is the exact max.
 * p outside 0..100 (or NaN) is clamped. 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);

/* Encoding: "v1:<sig>:" then base64 of varints (zero runs written as a
 * negative zigzag run length); the exact min, max and sum travel too, so a
 * decoded histogram has the same mean. Canonical: equal histograms encode
 * to equal text. *out is malloc'ed, NUL-terminated. -ENOMEM, or -ERANGE
 * when a bucket holds more than INT64_MAX samples. */
int hist_encode(const struct hist *h, char **out);
/* -EINVAL on anything malformed or inconsistent, -ENOMEM; never reads past
 * `len`, and leaves *out alone on failure. */
int hist_decode(const char *text, size_t len, struct hist **out);

/* Iterate the non-empty buckets in order: returns 1 and fills value/count
 * while there is one, 0 at the end. *cursor starts at 0. value_us is the
 * bucket's highest equivalent value (what hist_percentile reports for it),
 * capped at hist_max, so the last bucket reports the exact max. */
int hist_next(const struct hist *h, size_t *cursor, uint64_t *value_us, uint64_t *count);

#endif
