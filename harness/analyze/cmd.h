/*
 * cmd.h: the skeleton the analysis commands (plot, compare, report, merge)
 * share: one options struct, the flags that mean the same in each (their
 * table entries are the macros below), the inputs collected before any is
 * read (so a bad flag is named before a file is opened), loading them
 * (./results when none is given), the readers' notes, and one way to say
 * an error.
 *
 * A command is: analyze_parse (flags + inputs) -> analyze_load (results) ->
 * its own work -> analyze_done. Single-threaded; prints only to stderr
 * (errors, notes) and, for --help, stdout.
 */
#ifndef LOADGEN_ANALYZE_CMD_H
#define LOADGEN_ANALYZE_CMD_H

#include <stddef.h>

#include "analyze/results.h"
#include "flags.h"

struct analyze_opts {
    const char *name;             /* "loadgen plot": the prefix of every message */
    const char **inputs;          /* files and folders, as given (point into argv) */
    size_t ninputs;
    struct results *r;            /* after analyze_load */
    const char *firstdir;         /* the first input that is a folder, or NULL */

    const char *out;              /* -o/--out: the command's output */
    const char *csv;              /* merge --csv FILE */
    int quiet;                    /* -q: no notes on stderr; results and errors print */
    enum results_dim by;          /* --by */
    const char *baseline;         /* --baseline */
    unsigned at_threads;          /* --at-threads; 0 = each one's highest */
    int log_scale;                /* --log */
    int chart_format;             /* plot --format: index in analyze_chart_formats */
    int table_format;             /* compare: index in analyze_table_formats */
};

extern const char *const analyze_chart_formats[]; /* png, svg, pdf */
extern const char *const analyze_table_formats[]; /* text, csv, markdown */
enum { ANALYZE_TABLE_TEXT, ANALYZE_TABLE_CSV, ANALYZE_TABLE_MARKDOWN };

flag_call_fn analyze_flag_by;
flag_call_fn analyze_flag_csv_table;
flag_call_fn analyze_flag_markdown_table;

#define ANALYZE_O(field) offsetof(struct analyze_opts, field)
#define ANALYZE_FLAG_BY                                                                           \
    {"by", NULL, FLAG_CALL, 0, 0, 0, "D", "what to compare: label (default), region or model",     \
     .call = analyze_flag_by}
#define ANALYZE_FLAG_BASELINE                                                                     \
    {"baseline", NULL, FLAG_STRING, ANALYZE_O(baseline), 1, 0, "X",                                \
     "the reference (default: the first cpu-* label, else the first value)"}
#define ANALYZE_FLAG_AT_THREADS                                                                   \
    {"at-threads", NULL, FLAG_UINT, ANALYZE_O(at_threads), 1, 1000000, "N",                        \
     "the level to show (default: each one's highest, as the study reported)"}
#define ANALYZE_FLAG_LOG                                                                          \
    {"log", NULL, FLAG_SWITCH, ANALYZE_O(log_scale), 0, 0, NULL, "throughput bars on a log scale"}
/* -q means what it means for a run: no chatter (progress, notes), while
 * the results and every error still print. */
#define ANALYZE_FLAG_QUIET                                                                        \
    {"quiet", "q", FLAG_SWITCH, ANALYZE_O(quiet), 0, 0, NULL,                                    \
     "no notes on stderr; results and errors still print"}

/* Parses the flags of `cmd` into o (defaults set by the caller first) and
 * collects the inputs. Returns 1 to go on; 0 when the command is over, with
 * *exit_code set (0 after --help, 2 after a bad flag, said on stderr). */
int analyze_parse(const struct flag_cmd *cmd, struct analyze_opts *o, int argc, char **argv,
                  int *exit_code);
/* Reads the inputs (or ./results when none was given; `hint` ends that
 * error, e.g. "give summary CSVs to compare"), checks them and prints the
 * readers' notes. Returns 1 to go on, or 0 with *exit_code set. */
int analyze_load(struct analyze_opts *o, const char *hint, int *exit_code);
/* Says "NAME: message" on stderr (an error or a warning); returns `code`,
 * for `rc = analyze_say(o, LG_EXIT_USAGE, ...)`. */
int analyze_say(const struct analyze_opts *o, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void analyze_done(struct analyze_opts *o);

#endif
