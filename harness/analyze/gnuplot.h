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

/* The folder holding common.gp and the chart scripts, as an absolute path:
 * $LOADGEN_GNUPLOT_DIR when set, else the source tree's scripts/gnuplot
 * next to the binary (./loadgen, or obj/VARIANT/loadgen two folders down),
 * else PREFIX/share/loadgen/gnuplot beside PREFIX/bin/loadgen, else the
 * installed LOADGEN_DATADIR/gnuplot. Never the working folder: scripts
 * there could be anyone's, and gnuplot runs what they say. */
int gnuplot_scripts_dir(char *dir, size_t size, char *err);

/* Runs `gnuplot FILE...` (each file a script, run in order in one
 * process), with its stderr kept in `errlog`. gnuplot is looked up in the
 * absolute folders of PATH only: "." or an empty entry would run a gnuplot
 * from the working folder. Returns 0; -ENOENT when
 * gnuplot is not installed (err says how to install it); -EIO when it
 * failed (err holds the first lines of what it printed). */
int gnuplot_run(const char *const *files, size_t nfiles, const char *errlog, char *err);

#endif
