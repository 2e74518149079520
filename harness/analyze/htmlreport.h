/*
 * htmlreport.h: `loadgen report`: one self-contained HTML page (charts
 * inlined as base64 PNGs, the comparison table, the study's sentences and
 * the run metadata) that can be mailed or attached to a ticket as it is.
 *
 * Everything that comes from a results file is HTML-escaped.
 * Single-threaded.
 */
#ifndef LOADGEN_HTMLREPORT_H
#define LOADGEN_HTMLREPORT_H

#include <stdio.h>

#include "analyze/compare.h"
#include "analyze/plot.h"
#include "analyze/results.h"

/* Writes s with & < > " ' escaped, and each control character (a result
 * file may hold escape sequences) as U+FFFD. */
void htmlreport_escape(FILE *f, const char *s);

/* Writes the page. `charts` may be empty (gnuplot missing: `why_no_charts`
 * says so on the page). A negative errno with err set when a chart cannot
 * be read. */
int htmlreport_write(FILE *f, const struct results *r, const struct compare_table *t,
                     const struct plot_out *charts, const char *why_no_charts, char *err);

/* `loadgen report [DIR|CSV|JSON ...] [-o FILE] ...`: a process exit code. */
int report_main(int argc, char **argv);

#endif
