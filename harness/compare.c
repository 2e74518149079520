/* compare.c: `loadgen compare` (being written, issue 6). */
#include <stdio.h>

#include "plot.h"

int compare_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("loadgen compare: not built yet\n", stderr);
    return 2;
}
