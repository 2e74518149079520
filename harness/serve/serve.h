/*
 * serve.h: `loadgen serve`, the embedded scoring endpoint. See serve.c.
 */
#ifndef LOADGEN_SERVE_H
#define LOADGEN_SERVE_H

/* Parses its own flags (argv[0] is "serve"), runs until SIGINT/SIGTERM.
 * Returns a process exit code (0, or 2 for bad usage with a one-line error
 * already printed to stderr: serve is a program of its own). */
int serve_main(int argc, char **argv);

#endif
