/*
 * plot.h: `loadgen plot`: the study's charts, drawn by gnuplot from
 * results (see docs/charts.md). plot_main is the command (argv[0] is
 * "plot"; it returns a process exit code, having said any error as one line
 * on stderr); plot_render is the drawing without the command line, which
 * `loadgen report` uses too. Single-threaded.
 */
#ifndef LOADGEN_PLOT_H
#define LOADGEN_PLOT_H

#include <stddef.h>

#include "analyze/notes.h"
#include "analyze/results.h"

/* `loadgen plot [CSV|JSON|DIR ...] [-o DIR] ...`: a process exit code. */
int plot_main(int argc, char **argv);

struct plot_opts {
    const char *outdir; /* charts go here; created when missing */
    const char *format; /* "png", "svg" or "pdf" */
    double at_threads;  /* level of the bar charts; 0: each one's highest */
    int log_scale;      /* throughput bars on a log axis */
};

struct plot_chart {
    char *path;  /* the file written */
    char *title; /* what it shows, one line */
};

struct plot_out {
    struct plot_chart *charts; /* in chart order */
    size_t ncharts;
    struct notes skipped;      /* charts not drawn, and why: a line each for
                                  stderr and the report */
};

/* Draws every chart the results have data for. Returns 0; -ENOENT when
 * gnuplot is missing; -EIO when gnuplot failed; -EINVAL for an unusable
 * output folder. `out` is filled as far as it got either way. */
int plot_render(const struct results *r, const struct plot_opts *o, struct plot_out *out,
                char *err);
void plot_out_release(struct plot_out *out);

#endif
