/* plot.c: placeholder until the charts land (issue 6). */
#include "plot.h"
#include <stdio.h>
int plot_main(int argc, char **argv) { fputs("loadgen: plot: not built yet\n", stderr); return 2; }
int compare_main(int argc, char **argv) { fputs("loadgen: compare: not built yet\n", stderr); return 2; }
int report_main(int argc, char **argv) { fputs("loadgen: report: not built yet\n", stderr); return 2; }
