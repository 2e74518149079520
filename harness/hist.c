/*
 * hist.c: HDR-style log-linear histogram of microsecond values.
 *
 * Owned by the stats layer; one histogram per phase per event-loop thread,
 * never shared while recording (no locks, no allocation after hist_create).
 *
 * Layout. With S = 2^s sub-buckets (the next power of two >= 2 * 10^sig) and
 * H = S / 2, values below S get one slot each (index = value). Above that,
 * each power of two [2^e, 2^(e+1)) is split into H equal slots of width
 * 2^shift, shift = e - (s - 1). Writing sub = value >> shift, which is in
 * [H, S), the index is shift * H + sub; the two regions join without a gap,
 * and a slot's width is never more than 1/H of its lowest value, which is
 * what gives `sig` significant digits. The index needs one count-leading-zeros
 * and a shift, so recording is O(1).
 *
 * Besides the counts we keep the exact min, max and a 128-bit sum: the sum
 * of up to 2^64 values below 2^34 cannot overflow it, so the mean is exact
 * and survives merge and encode/decode. The standard deviation is computed
 * from bucket midpoints around that exact mean.
 */
#include "hist.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

typedef unsigned __int128 u128;

struct hist {
    int sig;         /* significant decimal digits, 1..5 */
    unsigned s;      /* log2 of the sub-bucket count */
    size_t half;     /* H = 2^(s-1): slots per power of two above the linear part */
    size_t len;      /* number of slots: index_of(HIST_MAX_US) + 1 */
    uint64_t total;  /* samples recorded */
    uint64_t min_us; /* exact; UINT64_MAX while empty */
    uint64_t max_us; /* exact; 0 while empty */
    u128 sum_us;     /* exact sum of the recorded (clamped) values */
    uint64_t counts[];
};

static size_t index_of(const struct hist *h, uint64_t v)
{
    /* Or-ing in S - 1 makes every value below S land in shift 0. */
    uint64_t mask = ((uint64_t)1 << h->s) - 1;
    unsigned shift = (unsigned)(64 - __builtin_clzll(v | mask)) - h->s;
    return shift * h->half + (size_t)(v >> shift);
}

static unsigned shift_of_index(const struct hist *h, size_t i)
{
    return i < 2 * h->half ? 0 : (unsigned)(i / h->half - 1);
}

static uint64_t lowest_of(const struct hist *h, size_t i)
{
    unsigned shift = shift_of_index(h, i);
    return (uint64_t)(i - shift * h->half) << shift;
}

static uint64_t highest_of(const struct hist *h, size_t i)
{
    return lowest_of(h, i) + ((uint64_t)1 << shift_of_index(h, i)) - 1;
}

/* Sets the fixed part of an empty histogram of precision sig (1..5). */
static void layout(struct hist *h, int sig)
{
    uint64_t want = 2;
    for (int d = 0; d < sig; d++)
        want *= 10;
    unsigned s = 1;
    while (((uint64_t)1 << s) < want)
        s++;
    *h = (struct hist){.sig = sig, .s = s, .half = (size_t)1 << (s - 1), .min_us = UINT64_MAX};
    h->len = index_of(h, HIST_MAX_US) + 1;
}

struct hist *hist_create(int sig)
{
    if (sig < 1 || sig > 5)
        return NULL;
    struct hist fixed;
    layout(&fixed, sig);
    struct hist *h = calloc(1, sizeof *h + fixed.len * sizeof h->counts[0]);
    if (h)
        *h = fixed;
    return h;
}

void hist_destroy(struct hist *h)
{
    free(h);
}

void hist_reset(struct hist *h)
{
    memset(h->counts, 0, h->len * sizeof h->counts[0]);
    h->total = 0;
    h->min_us = UINT64_MAX;
    h->max_us = 0;
    h->sum_us = 0;
}

void hist_record_n(struct hist *h, uint64_t value_us, uint64_t n)
{
    if (n == 0)
        return;
    uint64_t v = value_us > HIST_MAX_US ? HIST_MAX_US : value_us;
    h->counts[index_of(h, v)] += n;
    h->total += n;
    h->sum_us += (u128)v * n;
    if (v < h->min_us)
        h->min_us = v;
    if (v > h->max_us)
        h->max_us = v;
}

void hist_record(struct hist *h, uint64_t value_us)
{
    hist_record_n(h, value_us, 1);
}

int hist_add(struct hist *dst, const struct hist *src)
{
    if (dst->sig != src->sig)
        return -EINVAL;
    if (src->total == 0)
        return 0;
    for (size_t i = 0; i < src->len; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum_us += src->sum_us;
    if (src->min_us < dst->min_us)
        dst->min_us = src->min_us;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
    return 0;
}

uint64_t hist_count(const struct hist *h) { return h->total; }
uint64_t hist_min(const struct hist *h) { return h->total ? h->min_us : 0; }
uint64_t hist_max(const struct hist *h) { return h->max_us; }
int hist_sig(const struct hist *h) { return h->sig; }

double hist_mean(const struct hist *h)
{
    return h->total ? (double)h->sum_us / (double)h->total : 0;
}

double hist_stddev(const struct hist *h)
{
    if (h->total == 0)
        return 0;
    double mean = hist_mean(h), acc = 0;
    for (size_t i = index_of(h, h->min_us); i <= index_of(h, h->max_us); i++) {
        if (!h->counts[i])
            continue;
        /* The centre of the bucket's integer range, kept inside [min, max]
         * so that a single repeated value has a deviation of exactly 0. */
        double mid = (double)lowest_of(h, i) + (double)(highest_of(h, i) - lowest_of(h, i)) / 2;
        mid = fmin(fmax(mid, (double)h->min_us), (double)h->max_us);
        acc += (double)h->counts[i] * (mid - mean) * (mid - mean);
    }
    return sqrt(acc / (double)h->total);
}

uint64_t hist_percentile(const struct hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (!(p > 0)) /* also catches NaN */
        p = 0;
    if (p > 100)
        p = 100;
    /* Multiply before dividing so that integral p and count give an exact
     * x; the small slack absorbs the rounding of a decimal p such as 99.9,
     * which would otherwise push ceil() one sample too far. */
    double x = p * (double)h->total / 100;
    double want = ceil(x - x * 8 * DBL_EPSILON);
    uint64_t target = want < 1 ? 1 : want >= (double)h->total ? h->total : (uint64_t)want;
    /* Ends at the max's slot at the latest: the counts up to it sum to
     * total >= target. */
    size_t i = index_of(h, h->min_us);
    for (uint64_t seen = h->counts[i]; seen < target;)
        seen += h->counts[++i];
    uint64_t v = highest_of(h, i);
    return v < h->max_us ? v : h->max_us;
}

int hist_next(const struct hist *h, size_t *cursor, uint64_t *value_us, uint64_t *count)
{
    /* Nothing lies past the max's slot; stopping there keeps a walk over a
     * low-latency histogram short. */
    size_t end = h->total ? index_of(h, h->max_us) + 1 : 0;
    for (size_t i = *cursor; i < end; i++) {
        if (!h->counts[i])
            continue;
        uint64_t v = highest_of(h, i);
        *value_us = v < h->max_us ? v : h->max_us;
        *count = h->counts[i];
        *cursor = i + 1;
        return 1;
    }
    return 0;
}

/*
 * Encoding. The payload is a sequence of LEB128 varints:
 *   min_us, max_us, low 64 bits of the sum, high 64 bits of the sum,
 * then the slots from index 0 up to the last non-empty one, each token the
 * zigzag form of a signed number: a count c > 0 as +c (2c), a run of r > 0
 * empty slots as -r (2r - 1). Runs never follow runs and never end the
 * stream, and varints are minimal, so every histogram has exactly one
 * payload; the decoder enforces that and checks the header against the
 * slots, so whatever it accepts behaves like a recorded histogram.
 */
#define HIST_PREFIX "v1:"

/* Writes v at *o (when o is not NULL); returns the number of bytes. */
static size_t put_varint(unsigned char *o, uint64_t v)
{
    size_t n = 0;
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        if (o)
            o[n] = (unsigned char)(b | (v ? 0x80 : 0));
        n++;
    } while (v);
    return n;
}

/* One pass writes the payload to `out`, or only measures it when out is
 * NULL. -ERANGE when a count is too large for a signed token. */
static long put_payload(const struct hist *h, unsigned char *out)
{
    size_t n = 0;
    n += put_varint(out ? out + n : NULL, hist_min(h));
    n += put_varint(out ? out + n : NULL, h->max_us);
    n += put_varint(out ? out + n : NULL, (uint64_t)h->sum_us);
    n += put_varint(out ? out + n : NULL, (uint64_t)(h->sum_us >> 64));
    size_t end = h->total ? index_of(h, h->max_us) + 1 : 0;
    for (size_t i = 0; i < end;) {
        uint64_t token;
        if (h->counts[i]) {
            if (h->counts[i] > INT64_MAX)
                return -ERANGE;
            token = 2 * h->counts[i];
            i++;
        } else {
            size_t run = 0;
            while (!h->counts[i + run]) /* stops: counts[end - 1] != 0 */
                run++;
            token = 2 * (uint64_t)run - 1;
            i += run;
        }
        n += put_varint(out ? out + n : NULL, token);
    }
    return (long)n;
}

int hist_encode(const struct hist *h, char **out)
{
    long n = put_payload(h, NULL);
    if (n < 0)
        return (int)n;
    size_t head = strlen(HIST_PREFIX) + 2; /* "v1:" digit ':' */
    unsigned char *raw = malloc((size_t)n);
    char *text = malloc(head + base64_encoded_len((size_t)n) + 1);
    if (!raw || !text) {
        free(raw);
        free(text);
        return -ENOMEM;
    }
    put_payload(h, raw);
    memcpy(text, HIST_PREFIX, head - 2);
    text[head - 2] = (char)('0' + h->sig);
    text[head - 1] = ':';
    size_t len = head + base64_encode(raw, (size_t)n, text + head);
    text[len] = '\0';
    free(raw);
    *out = text;
    return 0;
}

/* Reads a minimal varint from [*p, end); -EINVAL when truncated, too long or
 * padded with a zero high byte. */
static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 10 && *p < end; i++) {
        unsigned char b = *(*p)++;
        if (i == 9 && b > 1) /* beyond 64 bits */
            return -EINVAL;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0)
                return -EINVAL;
            *v = x;
            return 0;
        }
    }
    return -EINVAL;
}

/* Reads a payload into h's totals and, when `fill`, its counts (h fresh
 * from hist_create); without `fill`, h may be a bare layout(), so malformed
 * input is refused before anything is allocated. -EINVAL when malformed or
 * inconsistent. */
static int get_payload(struct hist *h, int fill, const unsigned char *p, const unsigned char *end)
{
    uint64_t min_us, max_us, sum_lo, sum_hi, total = 0;
    if (get_varint(&p, end, &min_us) || get_varint(&p, end, &max_us) ||
        get_varint(&p, end, &sum_lo) || get_varint(&p, end, &sum_hi))
        return -EINVAL;
    size_t i = 0, first = h->len;
    int after_run = 0;
    u128 lo = 0, hi = 0; /* the least and most the samples can sum to */
    while (p < end) {
        uint64_t token;
        if (get_varint(&p, end, &token) || token == 0)
            return -EINVAL;
        if (token & 1) {
            uint64_t run = token / 2 + 1;
            if (after_run || run >= h->len - i) /* a slot must follow */
                return -EINVAL;
            i += (size_t)run;
            after_run = 1;
        } else {
            if (i >= h->len || __builtin_add_overflow(total, token / 2, &total))
                return -EINVAL;
            if (first == h->len)
                first = i;
            lo += (u128)(token / 2) * lowest_of(h, i);
            hi += (u128)(token / 2) * highest_of(h, i);
            if (fill)
                h->counts[i] = token / 2;
            i++;
            after_run = 0;
        }
    }
    if (after_run)
        return -EINVAL;
    u128 sum = (u128)sum_hi << 64 | sum_lo;
    if (total == 0)
        return min_us || max_us || sum ? -EINVAL : 0;
    if (min_us > max_us || max_us > HIST_MAX_US || index_of(h, min_us) != first ||
        index_of(h, max_us) != i - 1)
        return -EINVAL;
    /* The sum must be one that samples in these slots could have. */
    if (sum < lo || sum > hi || sum < (u128)min_us * total || sum > (u128)max_us * total)
        return -EINVAL;
    h->total = total;
    h->min_us = min_us;
    h->max_us = max_us;
    h->sum_us = sum;
    return 0;
}

int hist_decode(const char *text, size_t len, struct hist **out)
{
    size_t head = strlen(HIST_PREFIX) + 2;
    if (!text || !out || len < head || memcmp(text, HIST_PREFIX, head - 2) != 0 ||
        text[head - 2] < '1' || text[head - 2] > '5' || text[head - 1] != ':')
        return -EINVAL;
    int sig = text[head - 2] - '0';
    size_t n = len - head;
    unsigned char *raw = malloc(n / 4 * 3 + 1);
    struct hist *h = NULL, check;
    layout(&check, sig);
    if (!raw)
        return -ENOMEM;
    long got = base64_decode(text + head, n, raw);
    int rc = got < 0 ? -EINVAL : get_payload(&check, 0, raw, raw + got);
    if (rc == 0 && !(h = hist_create(sig)))
        rc = -ENOMEM;
    if (rc == 0)
        get_payload(h, 1, raw, raw + got); /* cannot fail: same input */
    free(raw);
    if (rc == 0)
        *out = h;
    return rc;
}
