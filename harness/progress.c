/*
 * progress.c: the status line (see progress.h). Called from the run's main
 * thread while the event loops work; it reads only the counters it is
 * handed, so it costs the request path nothing.
 */
#include "progress.h"

#include <unistd.h>

#include "common.h"
#include "units.h"

/* Weight of the newest rate sample: about a second of memory at ten
 * samples a second, so the rate neither jumps nor lags. */
#define RATE_ALPHA 0.2

void progress_init(struct progress *p, FILE *out, int quiet)
{
    *p = (struct progress){0};
    if (quiet || !out)
        return;
    p->out = out;
    p->tty = isatty(fileno(out));
}

void progress_start(struct progress *p, const char *what, uint64_t total, int64_t duration_us)
{
    p->what = what;
    p->total = total;
    p->duration_us = total ? 0 : duration_us;
    p->start_us = p->last_us = p->shown_us = lg_now_us();
    p->last_done = 0;
    p->rate = 0;
}

void progress_format(const struct progress *p, const struct engine_progress *pr, int64_t now_us,
                     char *buf, size_t len)
{
    uint64_t done = pr->done;
    unsigned long long errors = (unsigned long long)pr->errors;
    char left[32] = "", p99[32] = "";
    if (pr->p99_us)
        snprintf(p99, sizeof p99, ", p99 %.1f ms", (double)pr->p99_us / 1000);
    double elapsed_s = (double)(now_us - p->start_us) / 1e6;
    int64_t left_us = -1;
    if (p->total && p->rate > 0 && done < p->total)
        left_us = (int64_t)((double)(p->total - done) / p->rate * 1e6);
    else if (p->duration_us)
        left_us = p->duration_us - (now_us - p->start_us);
    if (left_us >= 0) {
        char d[24];
        snprintf(left, sizeof left, ", %s left", units_format_duration(left_us, d, sizeof d));
    }
    if (p->total)
        snprintf(buf, len, "%s: %llu/%llu (%.0f%%), %.0f req/s, errors %llu%s%s", p->what,
                 (unsigned long long)done, (unsigned long long)p->total,
                 100.0 * (double)done / (double)p->total, p->rate, errors, p99, left);
    else
        snprintf(buf, len, "%s: %llu done in %.0f s, %.0f req/s, errors %llu%s%s", p->what,
                 (unsigned long long)done, elapsed_s, p->rate, errors, p99, left);
}

void progress_tick(void *arg, const struct engine_progress *pr)
{
    struct progress *p = arg;
    uint64_t done = pr->done;
    if (!p->out)
        return;
    int64_t now = lg_now_us();
    if (now - p->last_us >= 100000) {
        double sample = (double)(done - p->last_done) * 1e6 / (double)(now - p->last_us);
        p->rate = p->rate > 0 ? RATE_ALPHA * sample + (1 - RATE_ALPHA) * p->rate : sample;
        p->last_us = now;
        p->last_done = done;
    }
    if (now - p->shown_us < (p->tty ? PROGRESS_TTY_US : PROGRESS_PLAIN_US))
        return;
    p->shown_us = now;
    char line[512];
    progress_format(p, pr, now, line, sizeof line);
    lg_printable(line); /* a label may hold anything */
    if (p->tty) {
        fprintf(p->out, "\r\033[K%s", line);
        p->drawn = 1;
    } else {
        fprintf(p->out, "loadgen: %s\n", line);
    }
    fflush(p->out);
}

void progress_end(struct progress *p)
{
    if (p->out && p->drawn) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
    p->drawn = 0;
}
