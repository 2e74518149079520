/*
 * reply.h: what makes an HTTP reply acceptable, whichever engine read it:
 * the class its status puts it in, framing headers that contradict each
 * other, a server-reported compute time that could be true, and a gRPC
 * reply's class by its grpc-status.
 *
 * Pure functions on caller-owned state: no allocation, no locks, no
 * formatting, so every engine calls them on its per-request path.
 */
#ifndef LOADGEN_REPLY_H
#define LOADGEN_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* The class of a complete reply by its status. A status outside 100..599
 * is not HTTP (CLASS_INVALID, never http_5xx); `expect_status` (0: any
 * 2xx) is ok even when it is a 4xx or 5xx. */
enum stats_class reply_status_class(long status, long expect_status);

/* The framing headers of one final reply (not an interim 1xx), fed each
 * Content-Length value and each Transfer-Encoding in turn. */
struct reply_framing {
    int64_t length;  /* Content-Length, -1 until one is seen */
    int chunked;     /* a Transfer-Encoding was seen */
    int bad;         /* Content-Lengths that disagree or are not numbers, or
                      * a Content-Length beside a Transfer-Encoding: the
                      * body's end is ambiguous (request smuggling) */
};

void reply_framing_reset(struct reply_framing *f);
/* A Content-Length value ("12", or a list "12, 12"; blanks around). */
void reply_framing_length(struct reply_framing *f, const char *v, size_t len);
void reply_framing_encoding(struct reply_framing *f);

/* A header value holding milliseconds ("12.5", blanks and CRLF around):
 * the number, or NAN when it is not a plain decimal number (hex, "inf",
 * "nan", trailing text). */
double reply_parse_ms(const char *v, size_t len);

/* A server-reported compute time of `ms` for a request that took
 * `latency_us` from its send to its last byte: 0 with *server_us set, or
 * -EINVAL when it cannot be true: not finite, negative, or longer than the
 * request itself (REPLY_SERVER_SLACK_US allowed for a server that rounds
 * up). A rejected value is dropped from the server-time figures; the
 * request keeps its class. */
#define REPLY_SERVER_SLACK_US 1000
int reply_server_time(double ms, uint64_t latency_us, uint64_t *server_us);

/* ---- gRPC ---------------------------------------------------------------
 * A gRPC reply's grpc-status and grpc-message arrive as headers (a
 * Trailers-Only reply) or as trailers; every transport feeds each field it
 * sees to reply_grpc_field, then classifies the complete reply with
 * reply_grpc_class. */

/* grpc-message bytes kept (percent-encoded, as received); past it cut. */
#define REPLY_GRPC_MESSAGE_MAX 128

struct reply_grpc {
    int status;                              /* grpc-status, -1 until one is seen */
    char message[REPLY_GRPC_MESSAGE_MAX];    /* grpc-message as received, cut */
    size_t message_len;                      /* bytes in message */
};

void reply_grpc_reset(struct reply_grpc *g);
/* One header or trailer field: grpc-status (its code, or GRPC_STATUS_COUNT
 * + 1000 when not a number, so that it is never taken for OK) and
 * grpc-message are kept, any other name is ignored. Names compare
 * case-insensitively (HTTP/1.1 and libcurl's lines keep the case). */
void reply_grpc_field(struct reply_grpc *g, const char *name, size_t name_len, const char *value,
                      size_t value_len);
/* The same from a line "Name: value" (blanks and CRLF around the value). */
void reply_grpc_line(struct reply_grpc *g, const char *line, size_t len);

/* The class of a complete gRPC reply, and in *code the gRPC code to count
 * for it (-1: none):
 *   HTTP 200, grpc-status 0          ok, code 0
 *   HTTP 200, grpc-status N != 0     grpc, code N
 *   HTTP 200, no grpc-status         invalid (not a gRPC reply), no code
 *   HTTP 100..599 but 200            the HTTP class (http_4xx, http_5xx,
 *                                    invalid for 1xx..3xx): a proxy or a
 *                                    balancer answered, not the service;
 *                                    code: the grpc-status if one came, else
 *                                    grpc_status_of_http (the spec's table)
 *   no HTTP status, or not HTTP      invalid, no code
 * `grpc_status` is reply_grpc.status (-1 when none). */
enum stats_class reply_grpc_class(long http_status, int grpc_status, int *code);
/* The reply's grpc-message for an error list: percent-decoded, every byte
 * outside ' '..'~' made '?', at most cap - 1 bytes and a NUL; "" when none
 * came. Returns buf. */
const char *reply_grpc_text(const struct reply_grpc *g, char *buf, size_t cap);

#endif
