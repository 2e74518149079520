/*
 * fuzz_units.c: libFuzzer target for the unit parsers and formatters.
 *
 * Every parser gets the input as a C string (cut at its first NUL) and must
 * return 0, -EINVAL or -ERANGE, write its output only on success, and give
 * values inside its contract. The formatters get a value from the first
 * eight bytes and a buffer length from the ninth, and must stay inside it.
 *
 * scripts/fuzz.sh builds this with -DLOADGEN_LIBFUZZER. Without it, main()
 * replays the files named on the command line, so a crash reproduces with
 *   cc -std=c11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Iharness \
 *      tests/fuzz/fuzz_units.c harness/units.c -lm -o fuzz_units
 *   ./fuzz_units crash-<sha1>
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "fuzz_units: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                             \
        }                                                                        \
    } while (0)

static void check_rc(int rc)
{
    CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
}

static void parse_everything(const char *s)
{
    int64_t us = -1;
    int rc = units_parse_duration(s, &us);
    check_rc(rc);
    CHECK(rc == 0 ? us >= 0 : us == -1);

    double r = -1;
    rc = units_parse_rate(s, &r);
    check_rc(rc);
    CHECK(rc == 0 ? r > 0 && isfinite(r) : r == -1);

    uint64_t bytes = 7;
    rc = units_parse_size(s, &bytes);
    check_rc(rc);
    CHECK(rc == 0 || bytes == 7);

    double f = -1;
    rc = units_parse_fraction(s, &f);
    check_rc(rc);
    CHECK(rc == 0 ? f >= 0 && f <= 1 : f == -1);

    uint64_t n = 7;
    rc = units_parse_count(s, &n);
    check_rc(rc);
    CHECK(rc == 0 || n == 7);

    for (int is_rate = 0; is_rate < 2; is_rate++) {
        struct units_range range = {-1, -1, -1};
        rc = units_parse_range(s, is_rate, &range);
        check_rc(rc);
        if (rc == 0)
            CHECK(range.start >= 0 && range.start <= range.end && range.step > 0 &&
                  isfinite(range.end) && isfinite(range.step));
        else
            CHECK(range.start == -1 && range.end == -1 && range.step == -1);
    }
}

/* Formats into a heap buffer of exactly `len` bytes, so ASan sees any
 * write past it, and checks the result is a terminated string. */
static void format_into(uint64_t v, size_t len)
{
    char *buf = malloc(len ? len : 1);
    CHECK(buf);
    if (len > 0) {
        CHECK(units_format_duration((int64_t)v, buf, len) == buf);
        CHECK(memchr(buf, '\0', len));
        CHECK(units_format_size(v, buf, len) == buf);
        CHECK(memchr(buf, '\0', len));
    }
    free(buf);
}

/* A formatted value reads back through its parser to within the rounding
 * of the format: 2 decimals of the unit for durations (1 for sizes), and
 * the unit is chosen so that the figure is at least 1. */
static void format_parses_back(uint64_t v)
{
    char buf[64], squeezed[64];
    int64_t us = (int64_t)(v >> 2); /* no sign, and rounding up stays in range */
    int64_t back_us;
    units_format_duration(us, buf, sizeof buf);
    CHECK(units_parse_duration(buf, &back_us) == 0);
    if (us < 1000)
        CHECK(back_us == us);
    else
        CHECK(fabs((double)back_us - (double)us) <= 0.0051 * (double)us);

    uint64_t bytes = v >> 15, back; /* below 512 TiB: units the parser knows */
    units_format_size(bytes, buf, sizeof buf);
    size_t j = 0;
    for (const char *p = buf; *p; p++)
        if (*p != ' ')
            squeezed[j++] = *p;
    squeezed[j] = '\0';
    CHECK(units_parse_size(squeezed, &back) == 0);
    if (bytes < 1024)
        CHECK(back == bytes);
    else
        CHECK(fabs((double)back - (double)bytes) <= 0.051 * (double)bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    parse_everything(s);
    free(s);

    if (size >= 9) {
        uint64_t v;
        memcpy(&v, data, sizeof v);
        format_into(v, data[8] % 40);
        format_parses_back(v);
    }
    return 0;
}

#include "replay.h"
