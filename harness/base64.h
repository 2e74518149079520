/*
 * base64.h: RFC 4648 base64 (standard alphabet, padded), no allocation.
 */
#ifndef LOADGEN_BASE64_H
#define LOADGEN_BASE64_H

#include <stddef.h>

/* Encoded length of n bytes, without a terminating NUL. */
static inline size_t base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }
/* Writes base64_encoded_len(n) bytes to out (no NUL); returns that length. */
size_t base64_encode(const unsigned char *in, size_t n, char *out);
/* Decodes `n` chars (padding required when n % 4 != 0 is an error) into out,
 * which must hold n / 4 * 3 bytes. Returns the decoded length, or -EINVAL
 * when the input is not valid base64. */
long base64_decode(const char *in, size_t n, unsigned char *out);

#endif
