/*
 * units.h: parse and format durations, rates, sizes, percentages, counts and
 * START:END[:STEP] ranges, as users type them on the command line and in
 * scenario files. Pure functions, no allocation.
 *
 * Every parser returns 0 or -EINVAL (malformed) / -ERANGE (overflow), and
 * rejects trailing garbage, signs where none make sense, and empty strings.
 */
#ifndef LOADGEN_UNITS_H
#define LOADGEN_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "250us", "20ms", "1.5s", "2m", "1h", "30" (seconds when no unit) -> us */
int units_parse_duration(const char *s, int64_t *out_us);
/* "200", "200/s", "1.5k", "12000/m" -> requests per second (> 0) */
int units_parse_rate(const char *s, double *out_per_s);
/* "64MiB", "100KB" (1000), "100KiB" (1024), "512" bytes -> bytes */
int units_parse_size(const char *s, uint64_t *out_bytes);
/* "10%", "0.1" -> 0.10; must be within [0, 1] */
int units_parse_fraction(const char *s, double *out);
/* Plain unsigned decimal count, with optional k/M suffix ("1000", "10k"). */
int units_parse_count(const char *s, uint64_t *out);

/* "20:50:10", "20:50" (step 1, as perf_analyzer), "50" (one level) */
struct units_range {
    double start, end, step; /* step > 0; start <= end */
};
/* `is_rate` selects units_parse_rate for each part, else units_parse_count. */
int units_parse_range(const char *s, int is_rate, struct units_range *out);

/* Format for humans: "1.23ms", "2.5s", "850us"; "1.2 KiB"; returns buf. */
const char *units_format_duration(int64_t us, char *buf, size_t len);
const char *units_format_size(uint64_t bytes, char *buf, size_t len);

#endif
