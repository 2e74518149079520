/*
 * reply.h: what makes an HTTP reply acceptable, whichever engine read it:
 * the class its status puts it in, framing headers that contradict each
 * other, and a server-reported compute time that could be true.
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

#endif
