/*
 * reply.c: checks on an HTTP reply shared by every engine. See reply.h.
 */
#include "reply.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grpc.h"

enum stats_class reply_status_class(long status, long expect_status)
{
    /* libcurl hands on any three digits ("HTTP/1.1 999"): not a status. */
    if (status < 100 || status > 599)
        return CLASS_INVALID;
    if (expect_status)
        return status == expect_status ? CLASS_OK
               : status >= 500         ? CLASS_HTTP_5XX
               : status >= 400         ? CLASS_HTTP_4XX
                                       : CLASS_INVALID;
    if (status >= 500)
        return CLASS_HTTP_5XX;
    if (status >= 400)
        return CLASS_HTTP_4XX;
    return status >= 200 && status <= 299 ? CLASS_OK : CLASS_INVALID;
}

void reply_framing_reset(struct reply_framing *f)
{
    f->length = -1;
    f->chunked = 0;
    f->bad = 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* "12" or "12, 12" (RFC 9110 allows a repeated equal value): the length,
 * or -1 when an element is empty, not digits, too large, or differs. */
static int64_t length_list(const char *v, size_t len)
{
    int64_t first = -1;
    size_t i = 0;
    for (;;) {
        while (i < len && (v[i] == ' ' || v[i] == '\t'))
            i++;
        int64_t n = 0;
        size_t digits = 0;
        for (; i < len && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
            if (n > (INT64_MAX - 9) / 10)
                return -1;
            n = n * 10 + (v[i] - '0');
        }
        while (i < len && (v[i] == ' ' || v[i] == '\t'))
            i++;
        if (!digits || (first >= 0 && n != first))
            return -1;
        first = n;
        if (i == len)
            return first;
        if (v[i++] != ',')
            return -1;
    }
}

void reply_framing_length(struct reply_framing *f, const char *v, size_t len)
{
    int64_t n = length_list(v, len);
    if (n < 0 || (f->length >= 0 && n != f->length) || f->chunked)
        f->bad = 1;
    f->length = n;
}

void reply_framing_encoding(struct reply_framing *f)
{
    f->chunked = 1;
    if (f->length >= 0)
        f->bad = 1;
}

double reply_parse_ms(const char *v, size_t len)
{
    char buf[32];
    while (len && is_blank(*v))
        v++, len--;
    while (len && is_blank(v[len - 1]))
        len--;
    /* Only what a decimal number is made of: strtod would also take hex,
     * "inf" and "nan". */
    if (!len || len >= sizeof buf)
        return NAN;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789.eE+-", v[i]) || !v[i])
            return NAN;
    memcpy(buf, v, len);
    buf[len] = '\0';
    char *end;
    double ms = strtod(buf, &end);
    return end == buf + len ? ms : NAN;
}

int reply_server_time(double ms, uint64_t latency_us, uint64_t *server_us)
{
    if (!isfinite(ms) || ms < 0 || ms * 1000 > (double)latency_us + REPLY_SERVER_SLACK_US)
        return -EINVAL;
    *server_us = (uint64_t)llround(ms * 1000);
    return 0;
}

/* ---- gRPC ---------------------------------------------------------------- */

void reply_grpc_reset(struct reply_grpc *g)
{
    g->status = -1;
    g->message_len = 0;
}

static int name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

void reply_grpc_field(struct reply_grpc *g, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    while (value_len && is_blank(*value))
        value++, value_len--;
    while (value_len && is_blank(value[value_len - 1]))
        value_len--;
    if (name_is(name, name_len, "grpc-status")) {
        int code = grpc_status_parse(value, value_len);
        g->status = code >= 0 ? code : GRPC_STATUS_COUNT + 1000;
    } else if (name_is(name, name_len, "grpc-message")) {
        g->message_len = value_len < sizeof g->message ? value_len : sizeof g->message;
        memcpy(g->message, value, g->message_len);
    }
}

void reply_grpc_line(struct reply_grpc *g, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    /* HTTP/2 pseudo-headers (":status") are not fields of ours. */
    if (!colon || colon == line)
        return;
    size_t n = (size_t)(colon - line);
    reply_grpc_field(g, line, n, colon + 1, len - n - 1);
}

enum stats_class reply_grpc_class(long http_status, int grpc_status, int *code)
{
    *code = -1;
    if (http_status < 100 || http_status > 599)
        return CLASS_INVALID;
    if (http_status != 200) {
        *code = grpc_status >= 0 ? grpc_status : grpc_status_of_http((int)http_status);
        return reply_status_class(http_status, 0) == CLASS_OK ? CLASS_INVALID
                                                              : reply_status_class(http_status, 0);
    }
    if (grpc_status < 0)
        return CLASS_INVALID;
    *code = grpc_status;
    return grpc_status == GRPC_OK ? CLASS_OK : CLASS_GRPC;
}

const char *reply_grpc_text(const struct reply_grpc *g, char *buf, size_t cap)
{
    if (!cap)
        return buf;
    size_t n = grpc_pct_decode(g->message, g->message_len, buf, cap - 1);
    if (n > cap - 1)
        n = cap - 1;
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] < ' ' || buf[i] > '~')
            buf[i] = '?';
    return buf;
}
