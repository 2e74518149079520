/*
 * gnuplot.h: finding the chart scripts and running gnuplot on them.
 *
 * gnuplot is a run-time dependency only: it is looked up on PATH when a
 * chart is drawn, so the rest of loadgen works without it. Not thread-safe
 * (it spawns and waits for a child process).
 */
#ifndef LOADGEN_GNUPLOT_H
#define LOADGEN_GNUPLOT_H

#include <stddef.h>

/* The folder holding common.gp and the chart scripts: $LOADGEN_GNUPLOT_DIR
 * when set, else ./scripts/gnuplot, else scripts/gnuplot next to the
 * binary, else the installed LOADGEN_DATADIR/gnuplot. */
int gnuplot_scripts_dir(char *dir, size_t size, char *err);

/* Runs `gnuplot FILE...` (each file a script, run in order in one
 * process), with its stderr kept in `errlog`. Returns 0; -ENOENT when
 * gnuplot is not installed (err says how to install it); -EIO when it
 * failed (err holds the first lines of what it printed). */
int gnuplot_run(const char *const *files, size_t nfiles, const char *errlog, char *err);

#endif
