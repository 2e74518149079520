/*
 * fuzz_hist.c: libFuzzer target for hist_decode, and for the encoding of
 * histograms recorded from fuzzed values.
 *
 * An input that starts with 'v' is decoded as an encoded histogram (from
 * an exact-size heap copy, so ASan sees a read past `len`). Whatever is
 * accepted must behave like a recorded histogram: it re-encodes, decodes
 * again to the same figures, its percentiles rise from min to max, its
 * buckets sum to its count, and its mean lies within [min, max].
 * Any other input is read as (sig, values...) and recorded; the encoding
 * of that must decode to the same figures. (Keeping the two apart saves the
 * decoder's inputs the cost of building a histogram each.)
 *
 * scripts/fuzz.sh builds this with -DLOADGEN_LIBFUZZER. Without it, main()
 * replays the files named on the command line, so a crash reproduces with
 *   cc -std=c11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Iharness \
 *      tests/fuzz/fuzz_hist.c harness/hist.c harness/base64.c -lm -o fuzz_hist
 *   ./fuzz_hist crash-<sha1>
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "fuzz_hist: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                            \
        }                                                                       \
    } while (0)

static const double percentiles[] = {0, 50, 90, 99, 99.9, 100};
#define NP (sizeof percentiles / sizeof percentiles[0])

static void check_sane(const struct hist *h)
{
    uint64_t n = hist_count(h), lo = hist_min(h), hi = hist_max(h);
    CHECK(lo <= hi && hi <= HIST_MAX_US);
    if (n == 0) {
        CHECK(lo == 0 && hi == 0 && hist_mean(h) == 0 && hist_percentile(h, 50) == 0);
        return;
    }
    CHECK(hist_mean(h) >= (double)lo && hist_mean(h) <= (double)hi);
    CHECK(hist_stddev(h) >= 0);
    uint64_t prev = 0;
    for (size_t i = 0; i < NP; i++) {
        uint64_t v = hist_percentile(h, percentiles[i]);
        CHECK(v >= lo && v <= hi && v >= prev);
        prev = v;
    }
    CHECK(hist_percentile(h, 100) == hi);
    size_t cursor = 0;
    uint64_t v, c, total = 0, last = 0;
    int first = 1;
    while (hist_next(h, &cursor, &v, &c)) {
        CHECK(c > 0 && (first || v > last) && v <= hi);
        first = 0;
        last = v;
        total += c;
    }
    CHECK(total == n);
}

/* Same figures and the same buckets (a bucket-by-bucket walk is stronger
 * than comparing percentiles, and cheaper). */
static void check_same(const struct hist *a, const struct hist *b)
{
    CHECK(hist_sig(a) == hist_sig(b));
    CHECK(hist_count(a) == hist_count(b));
    CHECK(hist_min(a) == hist_min(b) && hist_max(a) == hist_max(b));
    CHECK(hist_mean(a) == hist_mean(b));
    size_t ca = 0, cb = 0;
    uint64_t va, vb, na, nb;
    int more;
    do {
        more = hist_next(a, &ca, &va, &na);
        CHECK(more == hist_next(b, &cb, &vb, &nb));
        CHECK(!more || (va == vb && na == nb));
    } while (more);
}

/* Encodes h, decodes that, and checks both the figures and that a second
 * encoding is the same text (the encoding is canonical). */
static void check_round_trip(const struct hist *h)
{
    char *text, *again;
    struct hist *back;
    int rc = hist_encode(h, &text);
    if (rc == -ERANGE) /* a count beyond INT64_MAX: not reachable by decode */
        return;
    CHECK(rc == 0);
    CHECK(hist_decode(text, strlen(text), &back) == 0);
    check_same(h, back);
    CHECK(hist_encode(back, &again) == 0);
    CHECK(strcmp(text, again) == 0);
    free(text);
    free(again);
    hist_destroy(back);
}

static void decode_input(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return;
    memcpy(text, data, size);
    struct hist *h = (struct hist *)&text; /* must be left alone on failure */
    int rc = hist_decode(text, size, &h);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        check_sane(h);
        check_round_trip(h);
        hist_destroy(h);
    } else {
        CHECK(h == (struct hist *)&text);
    }
    free(text);
}

/* Byte 0 picks sig: mostly 1 or 2, sig 3 for one value in eight. The code
 * paths are the same at every sig, and a sig-3 histogram (200 KiB) costs
 * fresh pages on every execution under ASan, which made it fifty times
 * slower than the others. Then each 6 bytes are a value (40 bits, to reach
 * past HIST_MAX_US) and a repeat count (8 bits, 0 included). */
static void record_input(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    struct hist *h = hist_create(data[0] % 8 == 0 ? 3 : 1 + data[0] % 2);
    CHECK(h);
    for (size_t i = 1; i + 6 <= size; i += 6) {
        uint64_t v = 0;
        for (int b = 0; b < 5; b++)
            v = v << 8 | data[i + b];
        hist_record_n(h, v, data[i + 5]);
    }
    check_sane(h);
    check_round_trip(h);
    hist_destroy(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 'v')
        decode_input(data, size);
    else
        record_input(data, size);
    return 0;
}

#include "replay.h"
