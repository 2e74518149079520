/*
 * test_base64.c: RFC 4648 base64 against the RFC's own vectors (section
 * 10), malformed padding and characters, and round trips of random data.
 * Buffers are allocated at exactly the documented sizes, so an ASan build
 * catches any write past them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const struct {
    const char *plain, *encoded;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

#define NVECTORS (sizeof rfc4648 / sizeof rfc4648[0])

static void encodes_rfc4648_section_10_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECTORS; i++) {
        size_t n = strlen(rfc4648[i].plain);
        assert_int_equal(base64_encoded_len(n), strlen(rfc4648[i].encoded));
        char *out = malloc(base64_encoded_len(n) + 1);
        size_t got = base64_encode((const unsigned char *)rfc4648[i].plain, n, out);
        assert_int_equal(got, base64_encoded_len(n));
        out[got] = '\0';
        assert_string_equal(out, rfc4648[i].encoded);
        free(out);
    }
}

static void decodes_rfc4648_section_10_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECTORS; i++) {
        size_t n = strlen(rfc4648[i].encoded);
        unsigned char *out = malloc(n / 4 * 3 + 1);
        long got = base64_decode(rfc4648[i].encoded, n, out);
        assert_int_equal(got, strlen(rfc4648[i].plain));
        assert_memory_equal(out, rfc4648[i].plain, (size_t)got);
        free(out);
    }
}

static void assert_invalid(const char *in, size_t n)
{
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (base64_decode(in, n, out) != -EINVAL)
        fail_msg("\"%.*s\" was accepted", (int)n, in);
    free(out);
}

static void decode_rejects_bad_padding(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg",       /* padding missing */
        "Zg=",      /* padding short */
        "Zm9",      /* length not a multiple of 4 */
        "Zm9vY",    /* ... */
        "Z===",     /* at most two '=' */
        "====",     /* padding only */
        "=Zg=",     /* '=' first */
        "Zg=a",     /* data after '=' */
        "Zg==Zg==", /* padding in the middle */
        "Zm8=Zm9v", /* ... */
        "Zm9v=",    /* a fifth character */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_invalid(bad[i], strlen(bad[i]));
}

static void decode_rejects_characters_outside_the_alphabet(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zm9-", "Zm9_", /* base64url letters */
        "Zm 9", "Zm9v\n", "Zm9\t", " Zm9v", "Zm.v", "Zm9v\xc3\xa9==", "Zm9\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_invalid(bad[i], strlen(bad[i]));
    assert_invalid("Zm\0v", 4); /* an embedded NUL */
}

static void decode_reads_only_n_characters(void **state)
{
    (void)state;
    /* The caller's length wins over the string's: "Zm9vYmFy" cut at 4. */
    unsigned char out[3];
    assert_int_equal(base64_decode("Zm9vYmFy", 4, out), 3);
    assert_memory_equal(out, "foo", 3);
    assert_int_equal(base64_decode("Zm9v!!!!", 4, out), 3);
}

static void random_data_round_trips_at_every_length(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (size_t n = 0; n < 1000; n++) {
        for (int rep = 0; rep < 4; rep++) {
            unsigned char *in = malloc(n + 1);
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                in[i] = (unsigned char)(x >> 32);
            }
            size_t elen = base64_encoded_len(n);
            char *enc = malloc(elen + 1);
            assert_int_equal(base64_encode(in, n, enc), elen);
            unsigned char *dec = malloc(elen / 4 * 3 + 1);
            long got = base64_decode(enc, elen, dec);
            assert_int_equal(got, n);
            assert_memory_equal(dec, in, n);
            free(in);
            free(enc);
            free(dec);
        }
    }
}

static void every_byte_value_round_trips(void **state)
{
    (void)state;
    unsigned char in[256], dec[258];
    char enc[344];
    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char)i;
    size_t elen = base64_encode(in, sizeof in, enc);
    assert_int_equal(elen, sizeof enc);
    assert_int_equal(base64_decode(enc, elen, dec), 256);
    assert_memory_equal(dec, in, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodes_rfc4648_section_10_vectors),
        cmocka_unit_test(decodes_rfc4648_section_10_vectors),
        cmocka_unit_test(decode_rejects_bad_padding),
        cmocka_unit_test(decode_rejects_characters_outside_the_alphabet),
        cmocka_unit_test(decode_reads_only_n_characters),
        cmocka_unit_test(random_data_round_trips_at_every_length),
        cmocka_unit_test(every_byte_value_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
