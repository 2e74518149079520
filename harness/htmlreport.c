/* htmlreport.c: `loadgen report` (being written, issue 6). */
#include <stdio.h>

#include "plot.h"

int report_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("loadgen report: not built yet\n", stderr);
    return 2;
}
