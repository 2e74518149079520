/*
 * sbuf.h: the one growable buffer: a grow-only byte buffer with its
 * appenders, and sbuf_grow for arrays of any type. Owned by whoever embeds
 * it; no locking.
 *
 * `loadgen serve` assembles responses with the inline appenders, without
 * printf: a buffer is kept for the life of its owner (a connection, the
 * route table) and reused, so the request path allocates only when a body
 * is larger than any seen before on that owner. The result writers
 * (schema.c, output.c) build a file's text with sbuf_printf and check
 * `failed` once at the end.
 */
#ifndef LOADGEN_SBUF_H
#define LOADGEN_SBUF_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
    char *p;
    size_t len;   /* bytes used */
    size_t cap;   /* bytes allocated */
    int failed;   /* an append found no memory; sticks until sbuf_free */
};

/* Grows the array *p of *cap items of `size` bytes to hold at least `need`
 * (doubling, from 16); 0 or -ENOMEM, *p and *cap unchanged on failure. */
static inline int sbuf_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

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

/* Makes room for `more` bytes past len; 0 or -ENOMEM (and `failed`). */
static inline int sbuf_reserve(struct sbuf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return 0;
    size_t cap = sbuf_cap_for(b, more);
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -ENOMEM;
    }
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

/* Formatted text appended (no NUL counted in len); 0 or -ENOMEM (and
 * `failed`). */
int sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void sbuf_free(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

#endif
