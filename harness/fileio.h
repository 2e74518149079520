/*
 * fileio.h: whole-file reads and atomic whole-file writes, for the few
 * places that read a results or scenario file or write a JSON result, and
 * the check that run's output files do not spoil each other or a file of
 * another kind. Errors are one line in err that names the file; `what` is
 * the flag the user gave it with ("--json", "-o"), or NULL to name the
 * path alone.
 */
#ifndef LOADGEN_FILEIO_H
#define LOADGEN_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* The whole file into *text, NUL-terminated, malloc'ed; *len excludes the
 * NUL. Only a regular file is read (a FIFO, device or socket is refused
 * without blocking: -EINVAL), and one of more than max_bytes (0: no limit)
 * is refused (-EFBIG). Returns 0, or a negative errno with err set and
 * *text NULL. */
int fileio_read(const char *what, const char *path, size_t max_bytes, char **text, size_t *len,
                char *err);

/* Put text at path, by what path names:
 *  - "-": written to standard output (fd 1), after stdout's buffer;
 *  - a new path or a regular file: written to PATH.tmp.PID, fsynced and
 *    renamed over it, so a reader sees the old file or the new one, never
 *    half of one, and a full disk leaves the old one; the file's mode is
 *    kept;
 *  - a symlink to a regular file: the same, beside the link's target; the
 *    link stays a link. A dangling link is refused;
 *  - the file that is already standard output (/dev/stdout redirected to a
 *    file): written through fd 1, so earlier output is kept;
 *  - a character device (/dev/null, /dev/full, a terminal) or a FIFO:
 *    opened and written in place; a FIFO with no reader is refused at once
 *    (O_NONBLOCK open), never waited for;
 *  - a folder, block device or socket: refused. */
int fileio_write_atomic(const char *what, const char *path, const char *text, size_t len,
                        char *err);

/* "a FIFO", "a folder", "a character device"...: for messages about a
 * path that is not a regular file. */
const char *fileio_type_name(mode_t mode);

/* 1 when path is "-" or names what fd 1 already writes to (/dev/stdout,
 * or the file stdout was redirected to): a caller then keeps its own text
 * off stdout so that the file stays one document. */
int fileio_is_stdout(const char *path);

/* What an output holds, told by its first bytes: a JSON result starts with
 * '{', each CSV with its own header (see output.c). */
enum fileio_kind {
    FILEIO_JSON,         /* --json, -o of merge */
    FILEIO_CSV_SUMMARY,  /* --out */
    FILEIO_CSV_REQUESTS, /* --requests-log */
    FILEIO_CSV_HISTORY,  /* --history */
    FILEIO_HTML,         /* -o of report */
};

/* Checked before anything is sent: refuses two outputs that name one file
 * (the same inode, the same new path once its folder is resolved, or "-"
 * twice; a character device such as /dev/null may be shared), and an
 * existing non-empty regular file that does not hold what its flag writes
 * (a summary CSV given to --json would be replaced, a JSON given to --out
 * would get CSV rows appended). paths[i] NULL: that output is off. */
int fileio_check_outputs(const char *const flags[], const char *const paths[],
                         const enum fileio_kind kinds[], size_t n, char *err);

#endif
