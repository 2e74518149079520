/*
 * plot.h: the subcommands that turn results into the study's answer:
 * `loadgen plot` (gnuplot charts, plot.c), `loadgen compare` (tables with
 * percent differences and confidence intervals, compare.c) and `loadgen
 * report` (one HTML page, htmlreport.c). Each *_main parses its own flags
 * (argv[0] is the subcommand name) and returns a process exit code, having
 * printed any error itself as one line on stderr.
 *
 * plot_render() is the drawing without the command line, for report.
 * Single-threaded.
 */
#ifndef LOADGEN_PLOT_H
#define LOADGEN_PLOT_H

#include <stddef.h>

#include "results.h"

int plot_main(int argc, char **argv);
int compare_main(int argc, char **argv);
int report_main(int argc, char **argv);

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
    char **skipped;            /* charts not drawn, and why */
    size_t nskipped;
};

/* Draws every chart the results have data for. Returns 0; -ENOENT when
 * gnuplot is missing; -EIO when gnuplot failed; -EINVAL for an unusable
 * output folder. `out` is filled as far as it got either way. */
int plot_render(const struct results *r, const struct plot_opts *o, struct plot_out *out,
                char *err);
void plot_out_release(struct plot_out *out);

/* Command-line helpers shared by the three subcommands. plot_flag()
 * matches `--name VALUE` and `--name=VALUE` at argv[*i] (advancing *i):
 * 1 with *value set, 0 when argv[*i] is another flag, -1 when the value is
 * missing. plot_threads() parses a positive whole number of threads. */
int plot_flag(int argc, char **argv, int *i, const char *name, const char **value);
int plot_threads(const char *s, double *out);

#endif
