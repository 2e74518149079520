/*
 * sweep.h: the table that ends a run of several levels or cycles, one row
 * per level and cycle, as perf_analyzer ends a sweep: throughput, p50, p90,
 * p99 and the error rate side by side, so that the knee of the curve can be
 * read at a glance instead of from a dozen summary blocks.
 *
 * Rows are copied out of each output_level as it is written (the stats
 * behind a level are reused by the next one). Single-threaded.
 */
#ifndef LOADGEN_SWEEP_H
#define LOADGEN_SWEEP_H

#include <stddef.h>
#include <stdio.h>

#include "output.h"

struct sweep_row {
    int open_loop;
    unsigned concurrency;   /* in flight (closed), the cap (open) */
    double rate;            /* intended requests/s (open) */
    unsigned cycle;
    double throughput_rps, images_per_s;
    double p50_ms, p90_ms, p99_ms;
    double error_rate;      /* errors / requests; NaN without requests */
    int partial;            /* interrupted or never stable */
    int failed;             /* no request succeeded: no figures to show */
};

struct sweep {
    struct sweep_row *rows;
    size_t n, cap;
    int images;             /* the requests carry images (not GET) */
};

/* -ENOMEM, or 0. */
int sweep_add(struct sweep *s, const struct output_level *lv);
/* The table, when there are two rows or more. */
void sweep_print(FILE *f, const struct sweep *s);
/* The last row measured at `concurrency` (closed loop), or NULL. */
const struct sweep_row *sweep_find(const struct sweep *s, unsigned concurrency);
void sweep_free(struct sweep *s);

#endif
