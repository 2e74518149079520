/*
 * sweep.c: the end-of-run table (see sweep.h).
 */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "sbuf.h"

int sweep_add(struct sweep *s, const struct output_level *lv)
{
    if (sbuf_grow((void **)&s->rows, &s->cap, s->n + 1, sizeof *s->rows) < 0)
        return -ENOMEM;
    const struct stats *st = lv->st;
    struct output_figures f;
    output_figures(lv, &f);
    struct sweep_row *r = &s->rows[s->n++];
    *r = (struct sweep_row){
        .open_loop = lv->open_loop,
        .concurrency = lv->concurrency,
        .rate = lv->rate,
        .cycle = lv->cycle,
        .throughput_rps = f.throughput_rps,
        .images_per_s = f.images_per_s,
        .p50_ms = (double)hist_percentile(st->h[STATS_LATENCY], 50) / 1000.0,
        .p90_ms = (double)hist_percentile(st->h[STATS_LATENCY], 90) / 1000.0,
        .p99_ms = (double)hist_percentile(st->h[STATS_LATENCY], 99) / 1000.0,
        .error_rate = st->requests ? (double)stats_errors(st) / (double)st->requests : NAN,
        .partial = lv->interrupted || lv->unstable,
        .failed = st->requests > 0 && st->by_class[CLASS_OK] == 0,
    };
    s->images = strcmp(lv->format, "none") != 0;
    return 0;
}

const struct sweep_row *sweep_find(const struct sweep *s, unsigned concurrency)
{
    for (size_t i = s->n; i-- > 0;)
        if (!s->rows[i].open_loop && s->rows[i].concurrency == concurrency)
            return &s->rows[i];
    return NULL;
}

void sweep_print(FILE *f, const struct sweep *s)
{
    if (s->n < 2)
        return;
    int open = s->rows[0].open_loop;
    fprintf(f, "\n%12s %6s %12s", open ? "rate req/s" : "concurrency", "cycle", "req/s");
    if (s->images)
        fprintf(f, " %10s", "images/s");
    fprintf(f, " %9s %9s %9s %8s\n", "p50 ms", "p90 ms", "p99 ms", "errors");
    for (size_t i = 0; i < s->n; i++) {
        const struct sweep_row *r = &s->rows[i];
        char level[32], errs[16];
        if (r->open_loop)
            snprintf(level, sizeof level, "%.6g", r->rate);
        else
            snprintf(level, sizeof level, "%u", r->concurrency);
        if (isnan(r->error_rate))
            snprintf(errs, sizeof errs, "-");
        else
            snprintf(errs, sizeof errs, "%.1f%%", r->error_rate * 100);
        if (r->failed) {
            fprintf(f, "%12s %6u %12s", level, r->cycle, "-");
            if (s->images)
                fprintf(f, " %10s", "-");
            fprintf(f, " %9s %9s %9s %8s  (failed)\n", "-", "-", "-", errs);
            continue;
        }
        fprintf(f, "%12s %6u %12.1f", level, r->cycle, r->throughput_rps);
        if (s->images)
            fprintf(f, " %10.1f", r->images_per_s);
        fprintf(f, " %9.2f %9.2f %9.2f %8s%s\n", r->p50_ms, r->p90_ms, r->p99_ms, errs,
                r->partial ? "  (partial)" : "");
    }
}

void sweep_free(struct sweep *s)
{
    free(s->rows);
    memset(s, 0, sizeof *s);
}
