/*
 * output.h: the writers of a run's results: the human summary (stdout),
 * the summary CSV (`--out`), the JSON result (`--json`), the per-request
 * log (`--requests-log`) and the old harness's history.csv (`--history`).
 *
 * Appends are crash- and race-safe: each CSV row (or a level's block of
 * request rows) goes out in one write() under flock(), the header only when
 * the file is empty under that lock, so concurrent loadgen processes never
 * interleave. The JSON file is rewritten after every level to a temporary
 * file that is fsync'ed and renamed, so it is always whole. Nothing here
 * ever sees a request header: secrets cannot reach an output.
 */
#ifndef LOADGEN_OUTPUT_H
#define LOADGEN_OUTPUT_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "schema.h"
#include "stats.h"

/* One level and cycle of a run, as every writer sees it. */
struct output_level {
    const char *run_id;
    const char *label, *region, *model;
    const char *target;          /* user-info and query already removed */
    const char *format;          /* payload format name */
    const char *engine;          /* "native" or "curl" (engine_name); NULL: not said */
    int open_loop;
    unsigned concurrency;        /* in flight (closed) or the cap (open) */
    double rate;                 /* open loop requests/s; 0 closed */
    unsigned cycle;              /* from 1 */
    unsigned test_no;            /* from 1, across the whole run */
    int interrupted;
    int unstable;                /* --until-stable gave up */
    int under_rate;              /* open loop: achieved < 95% of the intended rate */
    unsigned windows;            /* --until-stable windows measured; 0 otherwise */
    const char *slo;             /* "met", "broken", or "" when no SLO was given */
    double cost_per_hour;        /* < 0 when unknown */
    int64_t start_wall_us, end_wall_us;
    uint64_t slot_min, slot_max; /* requests per connection slot (history.csv) */
    unsigned client_concurrency; /* a merged level: each client's own; 0 otherwise */
    double client_rate;          /* with client_concurrency */
    const struct stats *st;
};

/* Derived figures, computed once and shared by every writer. */
struct output_figures {
    double duration_s, throughput_rps, images_per_s;
    double cost_per_1k_images, images_per_dollar; /* NAN when cost unknown */
};
void output_figures(const struct output_level *lv, struct output_figures *f);
/* "failed" (requests, none ok), "interrupted", "unstable" or "complete". */
const char *output_status(const struct output_level *lv);
/* The level as one record of the result format (schema.h); `ts` holds its
 * timestamp text. A failed level's figures are NaN (empty, null). */
void output_record(const struct output_level *lv, char ts[32], struct schema_level *rec);

void output_text(FILE *f, const struct output_level *lv);
/* Append a row; header first when the file is empty. "-" is stdout, and
 * stdout, a FIFO or a terminal get each header once per process. */
int output_csv_append(const char *path, const struct output_level *lv, char *err);
/* The same, with `flag` naming the file in messages ("--csv"). */
int output_csv_append_as(const char *flag, const char *path, const struct output_level *lv,
                         char *err);
int output_requests_append(const char *path, const struct output_level *lv, char *err);
int output_history_append(const char *path, const struct output_level *lv, char *err);

/* The JSON result accumulates levels; `run` rewrites it after each level
 * (output_json_add), `merge` builds it whole with its own fields. `flag`
 * names the file in messages ("--json", "-o"). */
struct output_json;
struct output_json *output_json_create(const char *flag, const char *path, const char *run_id);
/* Adds a level. `extra` (taken, may be NULL) is an object whose members
 * join the level, replacing a key of the same name (merge's timeline).
 * -ENOMEM. */
int output_json_append(struct output_json *j, const struct output_level *lv, cJSON *extra);
/* Sets a top-level member (taken): merge's "merged_from". -ENOMEM. */
int output_json_set(struct output_json *j, const char *key, cJSON *value);
int output_json_write(struct output_json *j, char *err);
/* Adds a level and rewrites the file, so that a run cut short keeps every
 * level measured; to stdout, a FIFO or a device the result goes out once,
 * at output_json_finish, as one document. */
int output_json_add(struct output_json *j, const struct output_level *lv, char *err);
/* Writes what output_json_add held back (accepts NULL). */
int output_json_finish(struct output_json *j, char *err);
void output_json_destroy(struct output_json *j);

/* "20261127T014411Z-1a2b3c": sortable, unique enough across clients. */
void output_run_id(char *buf, size_t len);

#endif
