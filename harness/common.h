/*
 * common.h: the few definitions every module shares: the error-message
 * buffer convention, the clocks, and the documented exit codes.
 *
 * Error convention: a function that can fail returns 0 or a negative
 * errno-style code and, when it takes `char *err`, writes one line (no
 * "loadgen:" prefix, no newline) that names the input and says what to do.
 * main.c prints it once. Modules never print and never exit.
 */
#ifndef LOADGEN_COMMON_H
#define LOADGEN_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define LG_ERRLEN 512 /* size of every `char *err` buffer */

/* Exit codes, documented in README.md and --help. */
enum lg_exit {
    LG_EXIT_OK = 0,
    LG_EXIT_FAIL = 1,        /* runtime failure: cannot write results, ... */
    LG_EXIT_USAGE = 2,       /* bad flag, file, URL or scenario */
    LG_EXIT_ALL_FAILED = 3,  /* finished, but every request failed */
    LG_EXIT_UNSTABLE = 4,    /* --until-stable never converged */
    LG_EXIT_SLO = 5,         /* a --slo threshold was broken */
    LG_EXIT_INTERRUPTED = 130,
};

/* Writes one line into err (when not NULL) and returns `code`, a negative
 * errno (-EINVAL for bad input, -ENOMEM, -EIO, ...), for
 * `return lg_err(err, -EINVAL, "...")`. A code that is not negative
 * (-errno after a call that failed without setting errno) becomes -EIO, so
 * a failure never reads as success. */
static inline int lg_err(char *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int lg_err(char *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, LG_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return code < 0 ? code : -EIO;
}

/* Messages quote what the user typed: keep them one printable line even
 * when that held a tab, an escape sequence or a newline. */
static inline char *lg_printable(char *s)
{
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            *p = '?';
    return s;
}

/* Monotonic clock in microseconds: all intervals are measured with it. */
static inline int64_t lg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wall clock in microseconds since the epoch: stamps that other machines
 * must line up with (merge of distributed results). */
static inline int64_t lg_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
