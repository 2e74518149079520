/*
 * stats.c: one level's result. See stats.h for ownership and threading.
 */
#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const class_names[CLASS_COUNT] = {
    "ok", "http_4xx", "http_5xx", "timeout", "connect", "tls", "reset", "invalid", "grpc",
};

const char *stats_class_name(enum stats_class c)
{
    return c < CLASS_COUNT ? class_names[c] : "unknown";
}

const char *stats_grpc_name(unsigned code)
{
    static const char *const names[STATS_GRPC_CODES] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED", "OTHER",
    };
    return code < STATS_GRPC_CODES ? names[code] : "OTHER";
}

static const char *const hist_names[STATS_HIST_COUNT] = {
    "latency", "latency_uncorrected", "ttfb", "connect", "server_time", "network",
};

const char *stats_hist_name(enum stats_hist h)
{
    return h < STATS_HIST_COUNT ? hist_names[h] : "unknown";
}

struct stats *stats_create(int keep_log, size_t expected_requests)
{
    struct stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    for (int i = 0; i < STATS_HIST_COUNT; i++)
        if (!(s->h[i] = hist_create(3)))
            goto fail;
    s->capseconds = 64;
    if (!(s->seconds = calloc(s->capseconds, sizeof *s->seconds)))
        goto fail;
    if (keep_log) {
        s->caplog = expected_requests ? expected_requests : 4096;
        if (!(s->log = malloc(s->caplog * sizeof *s->log)))
            goto fail;
    }
    stats_reset(s, 0);
    return s;
fail:
    stats_destroy(s);
    return NULL;
}

void stats_destroy(struct stats *s)
{
    if (!s)
        return;
    for (int i = 0; i < STATS_HIST_COUNT; i++)
        hist_destroy(s->h[i]);
    for (size_t i = 0; i < s->capseconds; i++)
        hist_destroy(s->seconds[i].latency);
    free(s->seconds);
    free(s->log);
    free(s);
}

void stats_reset(struct stats *s, int64_t origin_us)
{
    s->requests = s->images = s->images_ok = s->late_sends = 0;
    s->bytes_sent = s->bytes_recv = 0;
    memset(s->by_class, 0, sizeof s->by_class);
    memset(s->by_status, 0, sizeof s->by_status);
    memset(s->by_grpc, 0, sizeof s->by_grpc);
    memset(s->errmsg, 0, sizeof s->errmsg);
    s->nerrmsg = 0;
    s->errmsg_more = 0;
    s->first_start_us = INT64_MAX;
    s->last_end_us = 0;
    for (int i = 0; i < STATS_HIST_COUNT; i++)
        hist_reset(s->h[i]);
    /* Keep the per-second histograms allocated for the next level. */
    for (size_t i = 0; i < s->capseconds; i++) {
        s->seconds[i].completions = s->seconds[i].errors = 0;
        if (s->seconds[i].latency)
            hist_reset(s->seconds[i].latency);
    }
    s->nseconds = 0;
    s->origin_us = origin_us;
    s->nlog = 0;
}

/* Make second `sec` addressable; allocates only when the run outgrows what
 * it had, which happens at most once per doubling. */
static struct stats_second *second_at(struct stats *s, size_t sec)
{
    if (sec >= s->capseconds) {
        size_t cap = s->capseconds;
        while (cap <= sec)
            cap *= 2;
        struct stats_second *p = realloc(s->seconds, cap * sizeof *p);
        if (!p)
            return NULL;
        memset(p + s->capseconds, 0, (cap - s->capseconds) * sizeof *p);
        s->seconds = p;
        s->capseconds = cap;
    }
    struct stats_second *sc = &s->seconds[sec];
    if (!sc->latency && !(sc->latency = hist_create(STATS_TIMELINE_SIG)))
        return NULL;
    if (sec >= s->nseconds)
        s->nseconds = sec + 1;
    return sc;
}

int stats_record(struct stats *s, const struct stats_request *r, unsigned images,
                 uint64_t latency_uncorrected_us, int64_t now_us)
{
    s->requests++;
    s->images += images;
    s->by_class[r->class_]++;
    s->by_status[r->status < STATS_STATUSES ? r->status : STATS_STATUSES - 1]++;
    if (r->grpc)
        s->by_grpc[r->grpc <= STATS_GRPC_OTHER ? r->grpc - 1 : STATS_GRPC_OTHER]++;
    if (r->class_ == CLASS_OK)
        s->images_ok += images;
    s->bytes_sent += r->bytes_sent;
    s->bytes_recv += r->bytes_recv;
    if (now_us > s->last_end_us)
        s->last_end_us = now_us;
    hist_record(s->h[STATS_LATENCY], r->latency_us);
    hist_record(s->h[STATS_LATENCY_UNCORRECTED], latency_uncorrected_us);
    hist_record(s->h[STATS_TTFB], r->ttfb_us);
    if (r->connect_us)
        hist_record(s->h[STATS_CONNECT], r->connect_us);

    int64_t off = now_us - s->origin_us;
    struct stats_second *sc = second_at(s, off > 0 ? (size_t)(off / 1000000) : 0);
    if (!sc)
        return -ENOMEM;
    sc->completions++;
    if (r->class_ != CLASS_OK)
        sc->errors++;
    hist_record(sc->latency, r->latency_us);

    if (s->log) {
        if (s->nlog == s->caplog) {
            struct stats_request *p = realloc(s->log, 2 * s->caplog * sizeof *p);
            if (!p)
                return -ENOMEM;
            s->log = p;
            s->caplog *= 2;
        }
        s->log[s->nlog++] = *r;
    }
    return 0;
}

/* Adds `count` to the message's entry, making one if there is room. */
static void errmsg_add(struct stats *s, const char *msg, uint64_t count)
{
    for (size_t i = 0; i < s->nerrmsg; i++)
        if (strncmp(s->errmsg[i].text, msg, STATS_ERRMSG_LEN - 1) == 0) {
            s->errmsg[i].count += count;
            return;
        }
    if (s->nerrmsg == STATS_MAX_ERRMSG) {
        s->errmsg_more += count;
        return;
    }
    struct stats_errmsg *e = &s->errmsg[s->nerrmsg++];
    snprintf(e->text, sizeof e->text, "%s", msg);
    e->count = count;
}

void stats_note_error(struct stats *s, const char *msg)
{
    if (msg && *msg)
        errmsg_add(s, msg, 1);
}

int stats_merge(struct stats *dst, const struct stats *src)
{
    for (size_t i = 0; i < STATS_STATUSES; i++)
        dst->by_status[i] += src->by_status[i];
    for (size_t i = 0; i < STATS_GRPC_CODES; i++)
        dst->by_grpc[i] += src->by_grpc[i];
    for (size_t i = 0; i < src->nerrmsg; i++)
        errmsg_add(dst, src->errmsg[i].text, src->errmsg[i].count);
    dst->errmsg_more += src->errmsg_more;
    dst->requests += src->requests;
    dst->images += src->images;
    dst->images_ok += src->images_ok;
    dst->late_sends += src->late_sends;
    dst->bytes_sent += src->bytes_sent;
    dst->bytes_recv += src->bytes_recv;
    for (int c = 0; c < CLASS_COUNT; c++)
        dst->by_class[c] += src->by_class[c];
    if (src->first_start_us < dst->first_start_us)
        dst->first_start_us = src->first_start_us;
    if (src->last_end_us > dst->last_end_us)
        dst->last_end_us = src->last_end_us;

    for (int i = 0; i < STATS_HIST_COUNT; i++)
        if (hist_add(dst->h[i], src->h[i]) < 0)
            return -EINVAL;

    /* Threads of one phase share its origin, so their seconds line up index
     * by index. Consecutive windows of a level (--until-stable) start later:
     * their seconds shift by the difference, rounded to whole seconds. */
    int64_t shift_us = src->origin_us > dst->origin_us ? src->origin_us - dst->origin_us : 0;
    size_t shift = (size_t)((shift_us + 500000) / 1000000);
    for (size_t i = 0; i < src->nseconds; i++) {
        const struct stats_second *ss = &src->seconds[i];
        struct stats_second *ds = second_at(dst, i + shift);
        if (!ds)
            return -ENOMEM;
        ds->completions += ss->completions;
        ds->errors += ss->errors;
        if (ss->latency && hist_add(ds->latency, ss->latency) < 0)
            return -EINVAL;
    }

    if (dst->log && src->log && src->nlog) {
        if (dst->nlog + src->nlog > dst->caplog) {
            size_t cap = dst->nlog + src->nlog;
            struct stats_request *p = realloc(dst->log, cap * sizeof *p);
            if (!p)
                return -ENOMEM;
            dst->log = p;
            dst->caplog = cap;
        }
        for (size_t i = 0; i < src->nlog; i++) {
            dst->log[dst->nlog + i] = src->log[i];
            dst->log[dst->nlog + i].offset_us += shift_us;
        }
        dst->nlog += src->nlog;
    }
    return 0;
}

void stats_record_server_time(struct stats *s, uint64_t server_us, uint64_t latency_us)
{
    hist_record(s->h[STATS_SERVER], server_us);
    hist_record(s->h[STATS_NETWORK], latency_us > server_us ? latency_us - server_us : 0);
}

uint64_t stats_errors(const struct stats *s)
{
    return s->requests - s->by_class[CLASS_OK];
}

double stats_duration_s(const struct stats *s)
{
    if (s->requests == 0 || s->last_end_us <= s->first_start_us)
        return 0;
    return (double)(s->last_end_us - s->first_start_us) / 1e6;
}
