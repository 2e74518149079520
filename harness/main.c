/*
 * main.c: subcommand dispatch only. `loadgen [run] ...` is the default.
 */
#include <stdio.h>
#include <string.h>

#include "analyze/compare.h"
#include "analyze/htmlreport.h"
#include "analyze/merge.h"
#include "analyze/plot.h"
#include "run.h"
#include "serve/serve.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
} commands[] = {
    {"run", run_main},
    {"serve", serve_main},
    {"plot", plot_main},
    {"compare", compare_main},
    {"report", report_main},
    {"merge", merge_main},
};

int main(int argc, char **argv)
{
    if (argc > 1)
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(argv[1], commands[i].name) == 0)
                return commands[i].fn(argc - 1, argv + 1);
    return run_main(argc, argv);
}
