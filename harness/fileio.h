/*
 * fileio.h: whole-file reads and atomic whole-file writes, for the few
 * places that read a results or scenario file or write a JSON result.
 * Errors are one line in err that names the file; `what` is the flag the
 * user gave it with ("--json", "-o"), or NULL to name the path alone.
 */
#ifndef LOADGEN_FILEIO_H
#define LOADGEN_FILEIO_H

#include <stddef.h>

/* The whole file, NUL-terminated, malloc'ed; *len excludes the NUL. A
 * regular file of more than max_bytes (0: no limit) is refused. */
char *fileio_read(const char *what, const char *path, size_t max_bytes, size_t *len, char *err);

/* Write to PATH.tmp.PID, fsync, rename: a reader sees the old file or the
 * new one, never half of one, and a full disk leaves the old one. */
int fileio_write_atomic(const char *what, const char *path, const char *text, size_t len,
                        char *err);

#endif
