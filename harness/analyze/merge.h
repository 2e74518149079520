/*
 * merge.h: `loadgen merge`: the JSON results of one plan run on several
 * client machines at once, combined into one result without loss.
 *
 * Levels are matched across files by (mode, concurrency, rate, cycle) as
 * each client ran them; every file must hold the same levels. The merged
 * level's concurrency and rate are the totals (what the server saw: four
 * clients of 25 threads are 100 in flight), and "client_concurrency" and
 * "client_rate" keep the per-client level that later merges match on.
 * Counts and bytes add; histograms add bucket by bucket, so the merged
 * percentiles are those of one histogram fed every sample; throughput is
 * the total completions over the union of the clients' wall-clock windows
 * (first send to last reply). The merged result
 * has the schema of a `loadgen --json` result, plus "merged_from" (the input
 * names) and, per level, "clients" (each input's own figures), so it can be
 * merged again, plotted and compared.
 *
 * Per-second p50/p99 are not kept as histograms in a result, so they cannot
 * merge exactly: a merged timeline adds completions and errors on wall-clock
 * seconds (rounded to the nearest second) and gives, per second, the largest
 * p50/p99 of any client, marked "timeline_percentiles": "max_of_clients".
 *
 * Refused, with the files named: different schema versions or histogram
 * settings, the same run twice, a level one file has and another lacks,
 * windows that do not overlap (the clients did not run at the same time),
 * and anything that is not a whole loadgen result.
 *
 * Ownership: a `struct merge` owns the parsed inputs and every level it
 * hands out. Single-threaded. Nothing here prints; merge_main() does
 * (mergecmd.c).
 */
#ifndef LOADGEN_MERGE_H
#define LOADGEN_MERGE_H

#include <stddef.h>

#include "analyze/notes.h"
#include "output.h"

struct merge;

struct merge *merge_create(void);
void merge_destroy(struct merge *m); /* accepts NULL */

/* Adds one JSON result: `text` (`len` bytes) is parsed and checked on its
 * own; `name` is how messages and "merged_from" call it. */
int merge_add_text(struct merge *m, const char *name, const char *text, size_t len, char *err);
int merge_add_file(struct merge *m, const char *path, char *err);

/* Once, after the last add: checks the inputs against each other, matches
 * their levels and builds the combined ones. */
int merge_finish(struct merge *m, char *err);

/* The combined levels, in the order of the first input's levels. */
size_t merge_nlevels(const struct merge *m);
const struct output_level *merge_level(const struct merge *m, size_t i);

/* Notes on what the merge could not keep (e.g. differing cost_per_hour). */
const struct notes *merge_notes(const struct merge *m);

/* The merged JSON result, written whole (temporary file, then rename). */
int merge_write_json(const struct merge *m, const char *path, char *err);
/* Summary CSV rows: per level, each client's row as its run wrote it, then
 * the combined row (label and region joined with '+'). */
int merge_write_csv(const struct merge *m, const char *path, char *err);
/* The human summary of each combined level and one line per client. */
void merge_write_text(const struct merge *m, FILE *f);

/* `loadgen merge RESULT.json... -o MERGED.json [--csv FILE] [-q]`
 * (mergecmd.c). Returns 0, or 2 (LG_EXIT_USAGE) for bad input, 1 when
 * writing failed. */
int merge_main(int argc, char **argv);

#endif
