/*
 * fuzz_grpc.c: libFuzzer target for what serve and the client read off the
 * wire in gRPC: the message framing (grpc_reader), protobuf-c unpacking
 * through the bounded arena, the reply readers, grpc-message
 * percent-decoding, and the client's grpc-status/grpc-message fields
 * (reply.c) taken from header and trailer lines.
 *
 * The first byte sets the size of the pieces the rest is fed in (1 to
 * 256 bytes), so prefixes and messages split everywhere. Every complete
 * message is unpacked as each request and reply type with an arena of 1 MiB:
 * it must parse, be refused as not the message (-EBADMSG) or as too costly
 * (-E2BIG), never crash or read past its bytes (each message is an exact
 * heap copy). The reader's buffer grows only to twice what arrived, never
 * past the declared length. Percent-decoding what percent-encoding wrote gives the
 * input back.
 *
 * scripts/fuzz.sh builds this with -DLOADGEN_LIBFUZZER; `make` builds the
 * replay main (obj/release/fuzz/fuzz_grpc FILE...).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"
#include "reply.h"

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "fuzz_grpc: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                            \
        }                                                                       \
    } while (0)

static void unpack_all(struct grpc_arena *a, const unsigned char *msg, size_t n)
{
    static const ProtobufCMessageDescriptor *const d[] = {
        &inference__model_infer_request__descriptor,
        &inference__model_metadata_request__descriptor,
        &tensorflow__serving__predict_request__descriptor,
    };
    /* An exact copy, so ASan sees a read past n. */
    unsigned char *copy = malloc(n ? n : 1);
    CHECK(copy);
    if (n) /* msg is NULL for an empty message */
        memcpy(copy, msg, n);
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        ProtobufCMessage *m;
        int rc = grpc_unpack(a, d[i], copy, n, &m);
        CHECK(rc == 0 || rc == -EBADMSG || rc == -E2BIG);
        CHECK(a->cap <= a->limit);
    }
    struct grpc_output o;
    int rc = grpc_infer_response_output(a, copy, n, &o);
    CHECK(rc == 0 || rc == -EBADMSG || rc == -E2BIG);
    if (rc == 0)
        CHECK(o.ndims <= GRPC_MAX_DIMS && memchr(o.name, 0, sizeof o.name));
    rc = grpc_predict_response_output(a, copy, n, &o);
    CHECK(rc == 0 || rc == -EBADMSG || rc == -E2BIG);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t piece = (size_t)data[0] + 1;
    data++;
    size--;

    struct grpc_reader r;
    struct grpc_arena a;
    grpc_reader_init(&r, 1u << 16);
    grpc_arena_init(&a, 1u << 20);
    for (size_t off = 0; off < size;) {
        size_t n = size - off < piece ? size - off : piece;
        size_t used, had = r.cap;
        enum grpc_read rd = grpc_reader_feed(&r, data + off, n, &used);
        CHECK(used <= n);
        off += used;
        if (rd < 0)
            break;
        /* A buffer grows only to hold bytes that came: never past the
         * declared length, nor past twice the bytes (or 256). */
        if (r.cap > had)
            CHECK(r.cap <= r.len && (r.cap <= 256 || r.cap <= 2 * r.got));
        if (rd == GRPC_READ_MESSAGE) {
            CHECK(r.got == r.len);
            unpack_all(&a, r.msg, r.len);
            grpc_reader_next(&r);
        } else {
            CHECK(used == n);
        }
    }
    grpc_reader_free(&r);
    grpc_arena_free(&a);

    char enc[3 * 512], dec[512];
    size_t n = size < 512 ? size : 512;
    size_t e = grpc_pct_encode((const char *)data, n, enc, sizeof enc);
    CHECK(e <= sizeof enc);
    for (size_t i = 0; i < e; i++)
        CHECK(enc[i] >= ' ' && enc[i] <= '~');
    CHECK(grpc_pct_decode(enc, e, dec, sizeof dec) == n);
    CHECK(memcmp(dec, data, n) == 0);
    CHECK(grpc_pct_decode((const char *)data, n, dec, sizeof dec) <= n);

    /* The same bytes as header/trailer lines: grpc-status is a code or
     * never OK, grpc-message stays in its field, its text printable. */
    struct reply_grpc g;
    char text[REPLY_GRPC_MESSAGE_MAX];
    reply_grpc_reset(&g);
    for (const char *p = (const char *)data, *end = p + size; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        reply_grpc_line(&g, p, len);
        p += len;
    }
    CHECK(g.message_len <= sizeof g.message);
    reply_grpc_text(&g, text, sizeof text);
    CHECK(strlen(text) < sizeof text);
    for (const char *t = text; *t; t++)
        CHECK(*t >= ' ' && *t <= '~');
    int code;
    enum stats_class c = reply_grpc_class(200, g.status, &code);
    CHECK((c == CLASS_OK) == (g.status == 0));
    CHECK(code == g.status);
    return 0;
}

#include "replay.h"
