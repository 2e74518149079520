/*
 * plot.h: the subcommands that turn results into the study's answer:
 * `loadgen plot` (gnuplot charts), `loadgen compare` (tables with percent
 * differences and confidence intervals) and `loadgen report` (one HTML page).
 * Each parses its own flags (argv[0] is the subcommand name) and returns a
 * process exit code, having printed any error itself as one line on stderr.
 */
#ifndef LOADGEN_PLOT_H
#define LOADGEN_PLOT_H

int plot_main(int argc, char **argv);
int compare_main(int argc, char **argv);
int report_main(int argc, char **argv);

#endif
