/*
 * flags.h: every subcommand's flags from one table.
 *
 * A command is a table of `struct flag`: long name, short letters, kind,
 * range, destination (an offset into the command's options struct) and a
 * help line, in the manner of curl's aliases[]. flags_parse reads argv in
 * order (later flags win, so a scenario's flags can be overridden by the
 * command line's), checks every value against its kind and range, and
 * flags_usage prints --help from the same table, so the help cannot drift
 * from the flags.
 *
 * Accepted forms: --name VALUE, --name=VALUE, -x VALUE, -xVALUE, bundled
 * switches (-qh), and `--` to end the flags. A lone `-` is an argument
 * (stdout or stdin, as the command says). Durations without a unit are
 * seconds, everywhere.
 *
 * Errors are one line in err that names the flag as the user wrote it,
 * says what was wrong and what to write; flags_parse returns -EINVAL.
 * Pure: no allocation, no output except --help (to stdout).
 */
#ifndef LOADGEN_FLAGS_H
#define LOADGEN_FLAGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum flag_kind {
    FLAG_END = 0,   /* terminates a table */
    FLAG_SECTION,   /* a heading in --help; `help` is its title */
    FLAG_SWITCH,    /* int = 1 */
    FLAG_STRING,    /* const char * (points into argv) */
    FLAG_COUNT,     /* uint64_t: 1000, 10k, 2M; within [min, max] */
    FLAG_UINT,      /* unsigned: as FLAG_COUNT */
    FLAG_DURATION,  /* int64_t microseconds: 250us, 20ms, 1.5s, 2m, 30 (s) */
    FLAG_SIZE,      /* uint64_t bytes: 64MiB, 100KB, 512 */
    FLAG_FRACTION,  /* double in [0, 1]: 10%, 0.1 */
    FLAG_REAL,      /* double: a plain decimal number within [min, max] */
    FLAG_CHOICE,    /* int: index of the value in `choices` */
    FLAG_CALL,      /* `call` parses the value */
    FLAG_CALL_SWITCH, /* `call` with value NULL: a switch with an action */
};

struct flag;
/* A FLAG_CALL parser: stores what `value` means into `opts`, or writes one
 * line into err (see flags_errf) and returns a negative errno. */
typedef int flag_call_fn(void *opts, const struct flag *f, const char *value, char *err);

struct flag {
    const char *name;        /* long name without the dashes */
    const char *letters;     /* short names ("c", "dz"), or NULL */
    enum flag_kind kind;
    size_t offset;           /* destination: offsetof(struct opts, field) */
    double min, max;         /* numbers: inclusive range, in the value's own
                                unit (us, bytes); max 0 = no upper limit */
    const char *metavar;     /* what the value looks like in --help ("N", "T") */
    const char *help;        /* help text; '\n' starts an indented line */
    const char *const *choices; /* FLAG_CHOICE: NULL-terminated */
    flag_call_fn *call;      /* FLAG_CALL, FLAG_CALL_SWITCH */
    const char *alias;       /* another long name for the same flag, or NULL */
};

/* Called for each argument that is not a flag; NULL: none are accepted. */
typedef int flag_arg_fn(void *opts, const char *arg, char *err);

struct flag_cmd {
    const char *name;        /* "loadgen plot": how --help and errors name it */
    const char *usage;       /* the usage line(s) after "usage: " */
    const char *about;       /* a paragraph under the usage, or NULL */
    const struct flag *flags;
    const char *epilogue;    /* text after the flags (exit codes), or NULL */
    flag_arg_fn *arg;
};

enum flags_result {
    FLAGS_RUN = 0,   /* parsed: go on */
    FLAGS_HELP = 1,  /* --help or --version was handled; exit 0 */
};

/* Parses argv[1..argc-1] into opts. `seen`, when not NULL, has one byte per
 * table entry and is set to 1 for each flag given (for "given at all"
 * checks). -h/--help prints flags_usage to stdout and returns FLAGS_HELP.
 * Returns FLAGS_RUN, FLAGS_HELP, or a negative errno with err set. */
int flags_parse(const struct flag_cmd *cmd, int argc, char **argv, void *opts,
                unsigned char *seen, char *err);

/* --help, generated from the table. */
void flags_usage(const struct flag_cmd *cmd, FILE *f);

/* The entry whose long name or alias is `name` (no dashes), or NULL. */
const struct flag *flags_find(const struct flag_cmd *cmd, const char *name);
/* Its index in cmd->flags, for `seen`; -1 when there is no such flag. */
int flags_index(const struct flag_cmd *cmd, const char *name);
/* 1 when the flag takes a value, 0 for a switch, -1 when unknown. */
int flags_takes_value(const struct flag_cmd *cmd, const char *name);

/* Formats an error about flag f ("--name VALUE: ..."), with the value made
 * printable; returns -EINVAL for `return flags_errf(...)`. */
int flags_errf(char *err, const struct flag *f, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
