/*
 * progress.h: what a running level is doing, on stderr, unless -q.
 *
 * On a terminal: one status line redrawn in place at most 5 times a second
 * (done/total, a smoothed rate, errors, p99 so far, time left), cleared at the end of
 * the level. Anywhere else (CI, nohup, a log file): a plain line every 10
 * seconds, so a long run is never silent, and never a control character.
 */
#ifndef LOADGEN_PROGRESS_H
#define LOADGEN_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "engine.h"

#define PROGRESS_TTY_US 200000     /* terminal redraws at most this often */
#define PROGRESS_PLAIN_US 10000000 /* a plain line this often off a terminal */

struct progress {
    FILE *out;             /* NULL: disabled */
    int tty;               /* redraw in place; else plain lines */
    const char *what;      /* "gpu-1 c=50 cycle 1" */
    uint64_t total;        /* requests expected; 0 when running for a time */
    int64_t duration_us;   /* the level's -d; 0 when counted in requests */
    int64_t start_us;      /* monotonic */
    int64_t last_us;       /* last rate sample */
    int64_t shown_us;      /* last line shown */
    uint64_t last_done;
    double rate;           /* completions per second, smoothed */
    int drawn;
};

void progress_init(struct progress *p, FILE *out, int quiet);
/* A new level: `total` requests, or for `duration_us` when total is 0. */
void progress_start(struct progress *p, const char *what, uint64_t total, int64_t duration_us);
/* engine_tick_fn, called about ten times a second. */
void progress_tick(void *p, const struct engine_progress *pr);
void progress_end(struct progress *p); /* clears the terminal line */

/* The line itself, for the tests: what, done[/total], rate, errors, p99
 * so far and time left (when it can be told), without control characters. */
void progress_format(const struct progress *p, const struct engine_progress *pr, int64_t now_us,
                     char *buf, size_t len);

#endif
