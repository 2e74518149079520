/*
 * progress.c: the stderr status line. Called from the run's main thread
 * while the event loops work; it reads only the counters it is handed.
 */
#include "progress.h"

#include <unistd.h>

#include "common.h"

void progress_init(struct progress *p, FILE *out, int quiet)
{
    *p = (struct progress){0};
    if (!quiet && out && isatty(fileno(out)))
        p->out = out;
}

void progress_start(struct progress *p, const char *what, uint64_t total)
{
    p->what = what;
    p->total = total;
    p->start_us = p->last_us = lg_now_us();
    p->last_done = 0;
    p->rate = 0;
}

void progress_tick(void *arg, uint64_t done, uint64_t errors)
{
    struct progress *p = arg;
    if (!p->out)
        return;
    int64_t now = lg_now_us();
    if (now - p->last_us < 200000)
        return;
    p->rate = (double)(done - p->last_done) * 1e6 / (double)(now - p->last_us);
    p->last_us = now;
    p->last_done = done;
    if (p->total)
        fprintf(p->out, "\r\033[K%s  %llu/%llu  %.0f req/s  errors %llu", p->what,
                (unsigned long long)done, (unsigned long long)p->total, p->rate,
                (unsigned long long)errors);
    else
        fprintf(p->out, "\r\033[K%s  %llu done  %.1f s  %.0f req/s  errors %llu", p->what,
                (unsigned long long)done, (now - p->start_us) / 1e6, p->rate,
                (unsigned long long)errors);
    fflush(p->out);
    p->drawn = 1;
}

void progress_end(struct progress *p)
{
    if (p->out && p->drawn) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
    p->drawn = 0;
}
