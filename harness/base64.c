/*
 * base64.c: RFC 4648 base64, standard alphabet with padding. Used to
 * pre-encode images (payload.c), to check them (serve) and to store
 * histograms in JSON (hist.c). Pure, no allocation.
 */
#include "base64.h"

#include <errno.h>
#include <stdint.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const unsigned char *in, size_t n, char *out)
{
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    return (size_t)(o - out);
}

/* 0..63 for alphabet characters, 64 for '=', 255 for anything else. */
static unsigned char value_of(char c)
{
    if (c >= 'A' && c <= 'Z') return (unsigned char)(c - 'A');
    if (c >= 'a' && c <= 'z') return (unsigned char)(c - 'a' + 26);
    if (c >= '0' && c <= '9') return (unsigned char)(c - '0' + 52);
    if (c == '+') return 62;
    if (c == '/') return 63;
    if (c == '=') return 64;
    return 255;
}

long base64_decode(const char *in, size_t n, unsigned char *out)
{
    if (n % 4 != 0)
        return -EINVAL;
    unsigned char *o = out;
    for (size_t i = 0; i < n; i += 4) {
        unsigned char a = value_of(in[i]), b = value_of(in[i + 1]);
        unsigned char c = value_of(in[i + 2]), d = value_of(in[i + 3]);
        int last = i + 4 == n;
        /* '=' may appear only as the last one or two characters. */
        if (a > 63 || b > 63 || c == 255 || d == 255)
            return -EINVAL;
        if ((c == 64 || d == 64) && !last)
            return -EINVAL;
        if (c == 64 && d != 64)
            return -EINVAL;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12;
        *o++ = (unsigned char)(v >> 16);
        if (c == 64)
            break;
        v |= (uint32_t)c << 6;
        *o++ = (unsigned char)(v >> 8);
        if (d == 64)
            break;
        v |= d;
        *o++ = (unsigned char)v;
    }
    return (long)(o - out);
}
