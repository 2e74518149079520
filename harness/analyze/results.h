/*
 * results.h: loadgen's own outputs read back in: summary CSVs (`--out`) and
 * JSON results (`--json`), validated and turned into rows, per-run levels and
 * per-level aggregates over cycles. Shared by plot, compare and report.
 *
 * Ownership: a `struct results` owns every row, level and string it hands
 * out; pointers into it live until results_destroy(). Not thread-safe (the
 * subcommands that use it are single-threaded).
 *
 * Summary CSVs are matched by column name against the header line above each
 * row, so files from older or newer loadgen versions (fewer or more trailing
 * columns) read the same; concatenated files with repeated header lines are
 * fine. A header whose columns disagree with loadgen's order is refused, as
 * is a row whose field count differs from its header (rows of two schema
 * versions concatenated without a header between them).
 */
#ifndef LOADGEN_RESULTS_H
#define LOADGEN_RESULTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze/notes.h"

#define RESULTS_TEXT 128 /* capacity of a text field, NUL included */
/* The model of a row written without --model (the label of one without
 * --label is its target's host:port). */
#define RESULTS_DEFAULT_MODEL "default"

/* One level and cycle of one run: a summary CSV row, or the same figures
 * taken from a JSON level. Numbers a file does not carry are NaN. */
struct results_row {
    char run_id[RESULTS_TEXT];
    char timestamp[RESULTS_TEXT]; /* ISO 8601 UTC; "" when unknown */
    char label[RESULTS_TEXT];     /* the deployment: gpu-1, cpu-35, ... */
    char region[RESULTS_TEXT];    /* the client's region */
    char model[RESULTS_TEXT];
    char target[RESULTS_TEXT];
    char format[RESULTS_TEXT];
    int open_loop;                /* mode "open": paced at rate_rps */
    double concurrency;           /* requests in flight (the study's threads) */
    double rate_rps;              /* offered rate; 0 in closed mode */
    int cycle;                    /* 1-based repeat of the level */
    double requests, ok, errors;
    double duration_s;
    double throughput_rps;        /* responses per second */
    double images_per_s;          /* the study's throughput */
    double lat_mean_ms, lat_p50_ms, lat_p90_ms, lat_p99_ms;
    double cost_per_hour;         /* USD for the deployment; NaN when unknown */
    int interrupted;              /* status "interrupted": a partial level */
    int failed;                   /* status "failed": every request failed, no figures */
    const char *source;           /* the file it came from */
};

/* A point of a level's percentile spectrum. */
struct results_pct {
    double p;  /* percentile, 0..100 */
    double ms; /* latency at it */
};

/* One timeline bucket (per second) of a level. */
struct results_tick {
    double t_s;          /* bucket start, seconds from the level's start */
    double completions;  /* responses in the bucket */
    double errors;
    double p50_ms, p99_ms;
};

/* A level from a JSON result, with what only JSON carries. */
struct results_level {
    struct results_row row;
    int64_t start_wall_us, end_wall_us; /* wall clock, microseconds */
    struct results_pct *pct;
    size_t npct;
    struct results_tick *ticks;
    size_t nticks;
};

/* One JSON result file: one run. */
struct results_run {
    const char *source;
    char run_id[RESULTS_TEXT];
    char version[RESULTS_TEXT]; /* loadgen version that wrote it */
    struct results_level *levels;
    size_t nlevels;
};

/* Mean, sample standard deviation and range of one figure over cycles. */
struct results_stat {
    size_t n;
    double mean, sd, min, max; /* sd is NaN when n < 2 */
};

/* The cycles of one level of one deployment, as charts and tables use them. */
struct results_group {
    const char *label, *region, *model; /* point into a row */
    int open_loop;
    double level;                       /* threads (closed) or req/s (open) */
    struct results_stat ips;            /* images per second */
    struct results_stat p50_ms, p99_ms;
    double cost_per_hour;               /* USD; NaN when unknown */
    double requests, errors;            /* summed over the cycles */
};

enum results_dim { RESULTS_LABEL, RESULTS_REGION, RESULTS_MODEL };
/* "label", "region", "model" (the --by flag) -> enum; -EINVAL otherwise. */
int results_parse_dim(const char *s, enum results_dim *out);
enum results_device { RESULTS_GPU, RESULTS_CPU, RESULTS_OTHER };

struct results {
    struct results_row *rows; /* from CSVs, else from JSON levels */
    size_t nrows;
    struct results_run *runs; /* one per JSON file */
    size_t nruns;
    struct results_group *groups; /* after results_finish(), sorted */
    size_t ngroups;
    size_t ninterrupted;      /* rows left out of groups: partial levels */
    size_t nfailed;           /* rows left out of groups: every request failed */
    size_t ncsv;              /* CSV files read */
    struct notes notes;       /* what was skipped and why, for stderr */
    const char **values[3];   /* distinct labels (deployment order), regions
                                 (by name), models (known by size, then as seen) */
    size_t nvalues[3];
    /* storage behind the pointers above */
    size_t rows_cap, runs_cap;
    char **sources;
    size_t nsources;
};

/* Result files are read whole (JSON) or row by row into memory: a file
 * larger than this is refused. A study's summary CSV is a few MB and a
 * JSON result with a day of per-second timeline some tens. */
#define RESULTS_MAX_BYTES ((size_t)64 << 20)

/* Opens a file to read into *fp, refusing (a negative errno, with a
 * one-line err naming the path) what is not a regular file (a FIFO would
 * block, a device never ends) and a file over max_bytes. The open itself
 * does not block on a FIFO. results_check_file() makes the same checks on
 * a path, for a reader that opens it itself. Both return 0 or a negative
 * errno. Also used by merge and report. */
int results_fopen(const char *path, size_t max_bytes, FILE **fp, char *err);
int results_check_file(const char *path, size_t max_bytes, char *err);

struct results *results_create(void);
void results_destroy(struct results *r); /* accepts NULL */

/* Reads a summary CSV, a JSON result, or every *.csv and *.json in a
 * directory (by content: a JSON result starts with '{'). */
int results_load(struct results *r, const char *path, char *err);
int results_load_csv(struct results *r, const char *path, char *err);
int results_load_json(struct results *r, const char *path, char *err);

/* After loading: takes rows from the JSON levels when no CSV was given,
 * fails when there is nothing to show, then builds groups and the value
 * lists. */
int results_finish(struct results *r, char *err);

/* gpu-N / cpu-N: the device and N (0 when the label has no number). */
enum results_device results_device(const char *label, int *n);
/* Deployment order: GPUs by node count, then CPUs, then the rest by name. */
int results_label_cmp(const char *a, const char *b);

/* The group a bar chart or table shows for a deployment: closed-loop rows
 * when there are any, at `at_threads` when > 0, else at the highest level
 * present. NULL when there is none. */
const struct results_group *results_pick(const struct results *r, const char *label,
                                         const char *region, const char *model,
                                         double at_threads);

/* Mean, sd, min and max of n values. */
void results_stat_of(struct results_stat *s, const double *v, size_t n);

#endif
