/*
 * units.c: parse and format durations, rates, sizes, fractions, counts and
 * START:END[:STEP] ranges, as users type them.
 *
 * Owned by the CLI and scenario layers; pure functions, safe from any thread.
 *
 * Numbers are read by our own decimal reader rather than strtod/strtoull,
 * which would accept leading blanks, signs, "inf", "nan", hex and the locale's
 * decimal point. Durations and sizes are computed exactly in integers (a
 * decimal fraction is scaled by the unit, then rounded to the nearest whole
 * microsecond or byte), so "1.5s" is exactly 1500000 us.
 */
#include "units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef unsigned __int128 u128;

/* 18 fraction digits are kept; later ones are checked and dropped (they
 * move a result by less than 1e-18 of its unit). */
#define FRAC_ONE 1000000000000000000ULL /* 10^18 */

/* A non-negative decimal ip.frac, frac in units of 1/FRAC_ONE. */
struct decimal {
    uint64_t ip;
    uint64_t frac;
};

static int is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* Reads DIGITS[.DIGITS] or .DIGITS from [*s, end), advancing *s past it. */
static int read_decimal(const char **s, const char *end, struct decimal *d)
{
    const char *p = *s;
    int digits = 0;
    d->ip = 0;
    d->frac = 0;
    for (; is_digit(p, end); p++, digits++)
        if (__builtin_mul_overflow(d->ip, 10, &d->ip) ||
            __builtin_add_overflow(d->ip, (uint64_t)(*p - '0'), &d->ip))
            return -ERANGE;
    if (p < end && *p == '.') {
        uint64_t scale = FRAC_ONE;
        if (!is_digit(p + 1, end)) /* "1." is a typo, not a number */
            return -EINVAL;
        for (p++; is_digit(p, end); p++, digits++) {
            scale /= 10;
            d->frac += (uint64_t)(*p - '0') * scale;
        }
    }
    if (digits == 0)
        return -EINVAL;
    *s = p;
    return 0;
}

/* round(d * mult), exactly; -ERANGE above `limit`. */
static int scale_decimal(const struct decimal *d, uint64_t mult, uint64_t limit, uint64_t *out)
{
    u128 v = (u128)d->ip * mult + ((u128)d->frac * mult + FRAC_ONE / 2) / FRAC_ONE;
    if (v > limit)
        return -ERANGE;
    *out = (uint64_t)v;
    return 0;
}

static double decimal_value(const struct decimal *d)
{
    return (double)d->ip + (double)d->frac / (double)FRAC_ONE;
}

struct suffix {
    const char *name;
    uint64_t mult;
};

/* The multiplier of the suffix that is exactly [s, end), or 0. */
static uint64_t lookup(const struct suffix *table, const char *s, const char *end,
                       int ignore_case)
{
    size_t n = (size_t)(end - s);
    for (; table->name; table++)
        if (strlen(table->name) == n &&
            (ignore_case ? strncasecmp : strncmp)(s, table->name, n) == 0)
            return table->mult;
    return 0;
}

int units_parse_duration(const char *s, int64_t *out_us)
{
    static const struct suffix units[] = {
        {"", 1000000}, /* a bare number is seconds */
        {"us", 1},      {"ms", 1000},          {"s", 1000000},
        {"m", 60000000}, {"h", 3600000000ULL}, {NULL, 0},
    };
    const char *end = s + strlen(s);
    struct decimal d;
    uint64_t us, mult;
    int rc = read_decimal(&s, end, &d);
    if (rc)
        return rc;
    if (!(mult = lookup(units, s, end, 0)))
        return -EINVAL;
    if ((rc = scale_decimal(&d, mult, INT64_MAX, &us)))
        return rc;
    *out_us = (int64_t)us;
    return 0;
}

/* Rates and counts take an optional magnitude right after the number. */
static const struct suffix magnitudes[] = {
    {"", 1}, {"k", 1000}, {"K", 1000}, {"M", 1000000}, {NULL, 0},
};

static int parse_rate(const char *s, const char *end, double *out)
{
    static const struct suffix per[] = {
        {"", 1}, {"/s", 1}, {"/m", 60}, {"/h", 3600}, {NULL, 0},
    };
    struct decimal d;
    int rc = read_decimal(&s, end, &d);
    if (rc)
        return rc;
    const char *slash = memchr(s, '/', (size_t)(end - s));
    if (!slash)
        slash = end;
    uint64_t m = lookup(magnitudes, s, slash, 0), div = lookup(per, slash, end, 0);
    if (!m || !div)
        return -EINVAL;
    double r = decimal_value(&d) * (double)m / (double)div;
    if (!(r > 0))
        return -EINVAL;
    *out = r;
    return 0;
}

int units_parse_rate(const char *s, double *out_per_s)
{
    return parse_rate(s, s + strlen(s), out_per_s);
}

int units_parse_size(const char *s, uint64_t *out_bytes)
{
    /* Decimal units (KB, MB, GB, TB) are powers of 1000 and binary ones
     * (KiB ...) powers of 1024, as the standards have them. A bare K, M, G
     * or T means 1024-based, because that is what users who write "64M"
     * for a buffer mean. Matching ignores case. */
    static const struct suffix units[] = {
        {"", 1},
        {"B", 1},
        {"KB", 1000},
        {"MB", 1000000},
        {"GB", 1000000000},
        {"TB", 1000000000000ULL},
        {"KiB", 1ULL << 10},
        {"MiB", 1ULL << 20},
        {"GiB", 1ULL << 30},
        {"TiB", 1ULL << 40},
        {"K", 1ULL << 10},
        {"M", 1ULL << 20},
        {"G", 1ULL << 30},
        {"T", 1ULL << 40},
        {NULL, 0},
    };
    const char *end = s + strlen(s);
    struct decimal d;
    uint64_t mult;
    int rc = read_decimal(&s, end, &d);
    if (rc)
        return rc;
    if (!(mult = lookup(units, s, end, 1)))
        return -EINVAL;
    return scale_decimal(&d, mult, UINT64_MAX, out_bytes);
}

int units_parse_fraction(const char *s, double *out)
{
    const char *end = s + strlen(s);
    struct decimal d;
    int rc = read_decimal(&s, end, &d);
    if (rc)
        return rc;
    double f = decimal_value(&d);
    if (strcmp(s, "%") == 0)
        f /= 100;
    else if (*s)
        return -EINVAL;
    if (f > 1)
        return -ERANGE;
    *out = f;
    return 0;
}

static int parse_count(const char *s, const char *end, uint64_t *out)
{
    struct decimal d;
    uint64_t mult, n;
    int rc = read_decimal(&s, end, &d);
    if (rc)
        return rc;
    if (!(mult = lookup(magnitudes, s, end, 0)))
        return -EINVAL;
    if ((rc = scale_decimal(&d, mult, UINT64_MAX, &n)))
        return rc;
    /* "1.5k" is a count; "1.5" and "1.0001k" are not. */
    if ((u128)d.frac * mult % FRAC_ONE != 0)
        return -EINVAL;
    *out = n;
    return 0;
}

int units_parse_count(const char *s, uint64_t *out)
{
    return parse_count(s, s + strlen(s), out);
}

int units_parse_range(const char *s, int is_rate, struct units_range *out)
{
    double part[3] = {0, 0, 1};
    const char *end = s + strlen(s);
    int n = 0;
    for (const char *p = s;;) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *stop = colon ? colon : end;
        uint64_t count;
        int rc;
        if (n == 3)
            return -EINVAL;
        if (is_rate)
            rc = parse_rate(p, stop, &part[n]);
        else if ((rc = parse_count(p, stop, &count)) == 0)
            part[n] = (double)count;
        if (rc)
            return rc;
        n++;
        if (!colon)
            break;
        p = colon + 1;
    }
    if (n == 1)
        part[1] = part[0];
    if (part[1] < part[0] || !(part[2] > 0))
        return -EINVAL;
    out->start = part[0];
    out->end = part[1];
    out->step = part[2];
    return 0;
}

/* Prints v in the first unit whose rounded figure stays below the next
 * unit's size, so 999999 us reads "1s", not "1000ms". `sizes` ascend. */
static const char *format_scaled(double v, const char *const *names, const double *sizes, int n,
                                 const char *fmt, double keep, char *buf, size_t len)
{
    const char *sign = v < 0 ? "-" : "";
    double a = fabs(v);
    int u = 0;
    while (u + 1 < n && round(a / sizes[u] * keep) / keep >= sizes[u + 1] / sizes[u])
        u++;
    char num[64];
    snprintf(num, sizeof num, fmt, a / sizes[u]);
    /* "2.50" -> "2.5", "20.00" -> "20". */
    char *dot = strchr(num, '.');
    if (dot) {
        char *e = num + strlen(num);
        while (e > dot + 1 && e[-1] == '0')
            *--e = '\0';
        if (e == dot + 1)
            *dot = '\0';
    }
    snprintf(buf, len, "%s%s%s", sign, num, names[u]);
    return buf;
}

const char *units_format_duration(int64_t us, char *buf, size_t len)
{
    static const char *const names[] = {"us", "ms", "s", "m", "h"};
    static const double sizes[] = {1, 1e3, 1e6, 60e6, 3600e6};
    if (us > -1000 && us < 1000) { /* whole microseconds need no decimals */
        snprintf(buf, len, "%lldus", (long long)us);
        return buf;
    }
    return format_scaled((double)us, names, sizes, 5, "%.2f", 100, buf, len);
}

const char *units_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const names[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"};
    static const double sizes[] = {1, 0x1p10, 0x1p20, 0x1p30, 0x1p40, 0x1p50, 0x1p60};
    if (bytes < 1024) {
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
        return buf;
    }
    return format_scaled((double)bytes, names, sizes, 7, "%.1f", 10, buf, len);
}
