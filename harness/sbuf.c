/*
 * sbuf.c: the one appender of sbuf.h that is not inline, because it formats.
 */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>

int sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -EINVAL;
    }
    /* vsnprintf writes a NUL after the text: room for it too. */
    if ((size_t)n >= b->cap - b->len) {
        if (sbuf_reserve(b, (size_t)n + 1) < 0)
            return -ENOMEM;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
}
