/*
 * chart.h: what the chart builders share, internal to `loadgen plot`:
 * plot.c sets up a chart_ctx and calls the builders (chartlines.c: charts
 * 1, 5, 6 and 7; chartbars.c: charts 2, 3 and 4), which write gnuplot data
 * files and a preamble of variables into the scratch folder with the
 * helpers here, then run one script of scripts/gnuplot per chart.
 *
 * Colours are fixed per deployment for the whole set of charts: GPU
 * deployments in greens, CPU deployments in blues, anything else in
 * oranges, darker for bigger clusters.
 *
 * Data files are tab-separated (labels may hold spaces); "?" is gnuplot's
 * missing value (common.gp sets both).
 *
 * Text from the results (labels, regions, models, and the titles made of
 * them) never enters gnuplot's command language, where `...` runs a shell
 * command, @name expands a macro and a quote or newline ends the string.
 * Every string a chart needs, paths included, is a line of the chart's text
 * file, which the preamble reads as data (strcol) into the array T; the
 * preamble itself holds only names, numbers and T[k], and the scripts never
 * eval a string. Single-threaded.
 */
#ifndef LOADGEN_CHART_H
#define LOADGEN_CHART_H

#include <limits.h>
#include <stdio.h>

#include "analyze/plot.h"
#include "analyze/results.h"

#define CHART_MAX_SERIES 64 /* lines or bars per group in one chart */

struct chart_ctx {
    const struct results *r;
    const struct plot_opts *o;
    struct plot_out *out;   /* charts drawn and skipped, appended to */
    char tmp[256];          /* scratch folder: preambles, data, gnuplot's stderr */
    char scripts[4096];     /* where common.gp and the chart scripts are */
    const char **color;     /* per label, in r->values[RESULTS_LABEL] order */
    int seq;                /* numbers scratch files */
    FILE *text;             /* the open preamble's text file: one string a line */
    char text_path[PATH_MAX];
    size_t ntext;           /* strings in it so far: T[1..ntext] */
    char *err;              /* LG_ERRLEN, for the builders' failures */
};

/* ---- the builders: 0, or a negative code with c->err set ---------------- */

int chartlines_throughput(struct chart_ctx *c);                            /* 1 */
int chartbars_draw(struct chart_ctx *c);                                   /* 2, 3, 4 */
int chartlines_spectrum(struct chart_ctx *c);                              /* 5 */
int chartlines_timeline(struct chart_ctx *c, const struct results_run *run); /* 6 */
int chartlines_scaling(struct chart_ctx *c);                               /* 7 */
int chartlines_curve(struct chart_ctx *c);                                 /* 8 */

/* ---- colours and words -------------------------------------------------- */

int chart_build_colors(struct chart_ctx *c); /* -ENOMEM */
const char *chart_color(const struct chart_ctx *c, const char *label); /* "#rrggbb" */
/* The k-th of `of` greens, spread light to dark. */
const char *chart_green(size_t k, size_t of);
int chart_many_regions(const struct chart_ctx *c);
/* ", client in eastus" when there are several regions to tell apart. */
void chart_region_suffix(const struct chart_ctx *c, char *buf, size_t n, const char *region);
/* "at 50 threads", or a hedge when the groups' levels differ. */
void chart_level_phrase(char *buf, size_t n, const struct results_group *const *g, size_t k);
/* Figures written on charts: 3 significant digits, k and M; dollars. */
void chart_fmt_count(char *buf, size_t n, double v);
void chart_fmt_money(char *buf, size_t n, double v);  /* "$0.00093", never "$9.3e-04" */
/* A gnuplot tic format for money on an axis up to `top` ("$%.3f"). */
void chart_money_format(char *buf, size_t n, double top);

/* ---- gnuplot preambles and data files ----------------------------------- */

/* `name = T[k]`, the value going to the text file as line k. */
void chart_gp_set(struct chart_ctx *c, FILE *f, const char *name, const char *value);
/* The same for a path: "./" is put before a relative one, which gnuplot
 * would otherwise run as a command ("<cmd", "|cmd") or read as stdin ("-"). */
void chart_gp_path(struct chart_ctx *c, FILE *f, const char *name, const char *path);
/* `array name[n] = [T[k], ...]`; chart_gp_tics doubles each '%', for tic
 * labels, which gnuplot reads as formats. */
void chart_gp_strs(struct chart_ctx *c, FILE *f, const char *name, const char *const *v,
                   size_t n);
void chart_gp_tics(struct chart_ctx *c, FILE *f, const char *name, const char *const *v,
                   size_t n);
void chart_gp_nums(FILE *f, const char *name, const double *v, size_t n); /* NaN: not finite */
void chart_dat_num(FILE *f, double v);        /* "?" when not finite */
void chart_dat_text(FILE *f, const char *s);  /* "?" when empty */
unsigned long chart_rgb(const char *hex);     /* "#rrggbb" -> 0xrrggbb */

/* ---- scratch files, outputs, notes -------------------------------------- */

/* Opens tmp/NN-what for writing; path gets PATH_MAX bytes. */
FILE *chart_scratch(struct chart_ctx *c, const char *what, char *path);
int chart_close(struct chart_ctx *c, FILE *f, const char *path);
/* outdir/NAME.FORMAT, NAME made safe for a file name. */
void chart_path(struct chart_ctx *c, char *path, const char *name);
/* Starts a preamble and its text file with what every script needs (fmt,
 * out, scripts, chart_title); the builder adds its variables and calls
 * chart_draw(). */
FILE *chart_preamble(struct chart_ctx *c, char *pre, const char *out, const char *title);
/* Closes the preamble, runs gnuplot on it and `script`, records the chart. */
int chart_draw(struct chart_ctx *c, FILE *pre_f, const char *pre, const char *script,
               const char *out, const char *title);

#endif
