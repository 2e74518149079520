/*
 * progress.h: one status line on stderr while a level runs, redrawn in
 * place, only when stderr is a terminal (never in logs or CI) and not -q.
 */
#ifndef LOADGEN_PROGRESS_H
#define LOADGEN_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct progress {
    FILE *out;             /* NULL: disabled */
    const char *what;      /* "gpu-1 c=50 cycle 1" */
    uint64_t total;        /* requests expected; 0 when running for a time */
    int64_t start_us;      /* monotonic */
    int64_t last_us;       /* last redraw */
    uint64_t last_done;
    double rate;           /* recent completions per second */
    int drawn;
};

void progress_init(struct progress *p, FILE *out, int quiet);
void progress_start(struct progress *p, const char *what, uint64_t total);
/* engine_tick_fn: redraw at most 5 times a second. */
void progress_tick(void *p, uint64_t done, uint64_t errors);
void progress_end(struct progress *p); /* clear the line */

#endif
