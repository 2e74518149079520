/*
 * schema.h: the one definition of a level's result format. Every scalar
 * figure of a level, its summary CSV column, its JSON key, its type,
 * whether a reader needs it and how it is printed, is one row of
 * schema_cols[]; the writer (the CSV header and row, a JSON level's scalar
 * keys) and the reader (CSV header -> column map, CSV row -> record, JSON
 * level -> record) both walk that table. A new column is one line there.
 *
 * What is not a scalar stays with its owner, as HdrHistogram_c keeps the
 * log format apart from the histogram: output.c writes a level's classes,
 * histograms, percentile spectrum and timeline from its stats, and merge.c
 * reads them back.
 *
 * The record points at text it does not own: the writer's output_level,
 * or the reader's line or cJSON tree, valid while that lives.
 *
 * CSV text cells are RFC 4180: quoted when they hold a comma, quote, CR or
 * LF ("a ""b"""); a cell that would start with =, +, -, @, TAB or CR gets a
 * leading ' so that a spreadsheet does not take it for a formula (OWASP),
 * and the reader takes exactly that ' off again. Other control characters
 * are written as '?'.
 */
#ifndef LOADGEN_SCHEMA_H
#define LOADGEN_SCHEMA_H

#include "sbuf.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* The keys of what is not a scalar: output.c writes them, merge.c and
 * results.c read them. */
#define SCHEMA_JSON_CLASSES "classes"         /* counts by error class */
#define SCHEMA_JSON_HISTOGRAMS "histograms"   /* encoded, by stats_hist_name */
#define SCHEMA_JSON_PERCENTILES "percentiles" /* [{p, ms}] */
#define SCHEMA_JSON_TIMELINE "timeline"       /* [{t, completions, errors, p50_ms, p99_ms}] */

/* Every scalar figure of one level and cycle. Text is "" when absent,
 * numbers NaN when absent or empty (a failed level's latency, an unknown
 * cost). */
struct schema_level {
    const char *run_id, *timestamp; /* timestamp: ISO 8601 UTC start */
    const char *label, *region, *model, *target, *format;
    const char *mode;               /* "closed" or "open" */
    const char *status;             /* see SCHEMA_STATUS_* */
    const char *slo;                /* "met", "broken" or "" */
    const char *engine;             /* "native", "curl", or "" (older results) */
    double concurrency, rate, cycle;
    double requests, ok, errors, timeouts, images, images_ok, late_sends;
    double duration_s, throughput_rps, images_per_s;
    double lat_mean_ms, lat_p50_ms, lat_p90_ms, lat_p95_ms, lat_p99_ms, lat_p999_ms, lat_max_ms;
    double ttfb_p50_ms, connect_p50_ms, server_p50_ms, network_p50_ms, lat_uncorrected_p99_ms;
    double bytes_sent, bytes_recv;
    double cost_per_hour, cost_per_1k_images, images_per_dollar; /* USD */
    double windows;
    double start_wall_us, end_wall_us; /* wall clock of first send, last reply */
    double client_concurrency, client_rate; /* a merged level: each client's own */
};

#define SCHEMA_STATUS_COMPLETE "complete"
#define SCHEMA_STATUS_INTERRUPTED "interrupted"
#define SCHEMA_STATUS_UNSTABLE "unstable"
#define SCHEMA_STATUS_FAILED "failed" /* every request failed: no figures */
/* open loop: the achieved rate fell short of the intended one by more than
 * 5% (too few in flight, or too slow a client): the figures are of a lower
 * load than the row's rate says */
#define SCHEMA_STATUS_UNDER_RATE "under_rate"

enum schema_type {
    SCHEMA_TEXT,   /* free text */
    SCHEMA_NUMBER, /* finite, >= 0 */
    SCHEMA_COUNT,  /* whole, 0 .. 2^53 */
    SCHEMA_ENUM,   /* one of the column's values */
};

enum {
    SCHEMA_NEED = 1 << 0,     /* every reader needs it */
    SCHEMA_STRICT = 1 << 1,   /* the strict reader (merge) needs it too */
    SCHEMA_EMPTY_OK = 1 << 2, /* may be empty even when needed (cost unknown) */
    SCHEMA_FIGURE = 1 << 3,   /* empty when the level failed */
    SCHEMA_JSON_OPT = 1 << 4, /* JSON: the key is left out when empty */
};

struct schema_col {
    const char *csv;            /* summary CSV column; NULL when JSON only */
    const char *json;           /* JSON key, "a.b" nested; NULL when CSV only */
    enum schema_type type;
    unsigned flags;             /* SCHEMA_NEED ... */
    const char *fmt;            /* CSV printf format of a number */
    const char *const *values;  /* SCHEMA_ENUM: the values, NULL-terminated */
    size_t off;                 /* of the field in struct schema_level */
};

extern const struct schema_col schema_cols[];
extern const size_t schema_ncols;

enum schema_mode {
    SCHEMA_READ_LENIENT, /* plot, compare, report: what charts need */
    SCHEMA_READ_STRICT,  /* merge: every SCHEMA_STRICT column too */
};

/* Text and numbers absent: "" and NaN. */
void schema_level_init(struct schema_level *rec);

/* ---- writer ---- */

/* The writers append to an sbuf (sbuf.h): a failed allocation sticks in its
 * `failed`, which the caller checks once before the write(). */

/* The summary CSV header line, '\n' included. */
void schema_csv_header(struct sbuf *b);
/* One summary row from a record, '\n' included. */
void schema_csv_row(struct sbuf *b, const struct schema_level *rec);
/* One text cell, quoted and guarded as the file comment says; the
 * requests log and history use it for their own text columns. */
void schema_csv_text(struct sbuf *b, const char *s);
/* The scalar keys of a JSON level; -ENOMEM. */
int schema_json_level(cJSON *o, const struct schema_level *rec);

/* ---- reader ---- */

#define SCHEMA_MAX_FIELDS 256

/* Splits one CSV record in place (quoted fields may hold commas, quotes
 * and line breaks): the number of fields, or -E2BIG past `max`. */
int schema_csv_split(char *line, char **f, int max);
/* Whether `line` ends inside a quoted field: the record goes on in the
 * next line. */
int schema_csv_open_quote(const char *line);

/* Where each column is under a header; -1 when absent. */
#define SCHEMA_MAX_COLS 64
struct schema_header {
    int nfields;
    int at[SCHEMA_MAX_COLS]; /* at[i]: field of schema_cols[i] */
};
/* Whether the fields are a summary header (the first is "run_id"). */
int schema_csv_is_header(char **f, int n);
/* Maps a header; refuses one without a needed column. `where` is "path". */
int schema_csv_map(struct schema_header *h, char **f, int n, enum schema_mode mode,
                   const char *where, char *err);
/* A row under header h into rec (text points into f). `where` is
 * "path:line". */
int schema_csv_read(struct schema_level *rec, const struct schema_header *h, char **f,
                    enum schema_mode mode, const char *where, char *err);
/* A JSON level into rec (text points into o). `where` is
 * "path: levels[i]". */
int schema_json_read(struct schema_level *rec, const cJSON *o, enum schema_mode mode,
                     const char *where, char *err);

/* Whether a record is of a level where every request failed. */
int schema_failed(const struct schema_level *rec);

#endif
