/*
 * compare.h: the study's comparisons as a table: throughput, latency and
 * images per dollar of each deployment (or client region, or model) at one
 * level, the percent difference against a baseline, and over repeated
 * cycles a 95% confidence interval, with a note when two intervals overlap
 * (a difference the data cannot tell from noise).
 *
 * The table is built from `struct results` (results.h) and points into it;
 * release the table before the results. Pure: no I/O except the printers,
 * which write to the FILE they are given. Single-threaded.
 */
#ifndef LOADGEN_COMPARE_H
#define LOADGEN_COMPARE_H

#include <stdio.h>

#include "analyze/results.h"

struct compare_row {
    const struct results_group *g; /* the level compared (its cycles) */
    const char *value;             /* its label, region or model: what is compared */
    double ci95;                   /* half-width of images/s' 95% CI; NaN under 2 cycles */
    double per_dollar;             /* images per dollar; NaN without cost_per_hour */
    double pct;                    /* images/s vs the baseline, percent; NaN when none */
    double per_dollar_pct;         /* images per dollar vs the baseline, percent */
    double error_rate;             /* errors / requests over the cycles; NaN when unknown */
    int is_baseline;
    int overlaps;                  /* CI overlaps the baseline's: 1 yes, 0 no, -1 unknown */
    int level_differs;             /* not at the baseline's level (no level common to all) */
};

/* Rows that share the other two dimensions (e.g. model and region when
 * comparing labels). */
struct compare_section {
    const char *key[2];                 /* values of the other two dimensions */
    struct compare_row *rows;
    size_t nrows;
    const struct compare_row *baseline; /* NULL when the section lacks it */
};

struct compare_table {
    enum results_dim by;
    enum results_dim keys[2]; /* dimensions of compare_section.key */
    const char *baseline;
    struct compare_section *sections;
    size_t nsections;
};

/* Two-sided 95% critical value of Student's t with df degrees of freedom
 * (df >= 1); exact to 4 digits up to 30, interpolated in 1/df above. */
double compare_t95(size_t df);
/* Half-width of the 95% CI of the mean; NaN under 2 values. */
double compare_ci95(const struct results_stat *s);
/* (x / base - 1) * 100; NaN when base is not positive. */
double compare_pct(double x, double base);
/* Whether [m1 - h1, m1 + h1] and [m2 - h2, m2 + h2] overlap: 1 or 0;
 * -1 when either half-width is unknown. */
int compare_overlap(double m1, double h1, double m2, double h2);

/* baseline NULL: the first cpu-* label (or the first label) for
 * RESULTS_LABEL, else the first region or model. at_threads 0: in each
 * section, the highest level that every row has (the study's 50 threads);
 * when the rows share no level, each row's highest, marked level_differs
 * and said so in every printer. -EINVAL with err set when the baseline is
 * not in the data or nothing is left to compare. */
int compare_build(const struct results *r, enum results_dim by, const char *baseline,
                  double at_threads, struct compare_table *t, char *err);
void compare_release(struct compare_table *t);

/* The study's sentence for a row, e.g. "gpu-3 beat cpu-35 by 415.2%
 * (1247 vs 242 images/s)"; 0, or -1 for the baseline or a section
 * without one. */
int compare_sentence(const struct compare_table *t, const struct compare_section *s,
                     const struct compare_row *row, char *buf, size_t size);
/* compare_overlap() of two rows' images/s intervals. */
int compare_rows_overlap(const struct compare_row *a, const struct compare_row *b);

const char *compare_dim_name(enum results_dim d); /* "label", "region", "model" */

void compare_print_text(FILE *f, const struct compare_table *t);
void compare_print_csv(FILE *f, const struct compare_table *t);
void compare_print_markdown(FILE *f, const struct compare_table *t);

/* `loadgen compare [CSV|JSON|DIR ...] [--by D] ...`: a process exit code. */
int compare_main(int argc, char **argv);

#endif
