/*
 * run.h: `loadgen run`, the default subcommand. See run.c.
 */
#ifndef LOADGEN_RUN_H
#define LOADGEN_RUN_H

/* Returns a process exit code (enum lg_exit in common.h). */
int run_main(int argc, char **argv);

#endif
