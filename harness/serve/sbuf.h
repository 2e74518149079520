/*
 * sbuf.h: a grow-only byte buffer and the few appenders that `loadgen serve`
 * uses to assemble responses without printf. Owned by whoever embeds it (a
 * connection, the route table); single-threaded like the rest of serve.
 *
 * A buffer is kept for the life of its owner and reused, so the request path
 * allocates only when a body is larger than any seen before on that owner.
 */
#ifndef LOADGEN_SERVE_SBUF_H
#define LOADGEN_SERVE_SBUF_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
    char *p;
    size_t len;   /* bytes used */
    size_t cap;   /* bytes allocated */
};

/* The capacity sbuf_reserve(b, more) would leave: owners that budget
 * their memory ask before they grow. */
static inline size_t sbuf_cap_for(const struct sbuf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return b->cap;
    size_t cap = b->cap ? b->cap : 512;
    while (cap - b->len < more)
        cap *= 2;
    return cap;
}

/* Makes room for `more` bytes past len; 0 or -ENOMEM. */
static inline int sbuf_reserve(struct sbuf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return 0;
    size_t cap = sbuf_cap_for(b, more);
    char *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static inline int sbuf_put(struct sbuf *b, const void *src, size_t n)
{
    if (sbuf_reserve(b, n))
        return -ENOMEM;
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

static inline int sbuf_puts(struct sbuf *b, const char *s) { return sbuf_put(b, s, strlen(s)); }

/* Decimal digits of v into the end of tmp[24]; returns the first digit. */
static inline char *sbuf_utoa(uint64_t v, char tmp[24])
{
    char *e = tmp + 24;
    do
        *--e = (char)('0' + v % 10);
    while (v /= 10);
    return e;
}

static inline int sbuf_putu(struct sbuf *b, uint64_t v)
{
    char tmp[24];
    char *s = sbuf_utoa(v, tmp);
    return sbuf_put(b, s, (size_t)(tmp + 24 - s));
}

/* Microseconds as milliseconds with three decimals: 20000 -> "20.000". */
static inline int sbuf_put_ms(struct sbuf *b, int64_t us)
{
    if (us < 0)
        us = 0;
    char frac[3] = {(char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10), (char)('0' + us % 10)};
    if (sbuf_putu(b, (uint64_t)us / 1000) || sbuf_put(b, ".", 1))
        return -ENOMEM;
    return sbuf_put(b, frac, 3);
}

static inline void sbuf_free(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
