/*
 * check.h: reply checks (--expect-json PATH, --server-time-json PATH).
 *
 * A path is dotted: "result", "predictions.0", "outputs.0.data.1". Each part
 * is an object key, or a decimal index into an array. Pure functions; the
 * body is parsed with cJSON (allocates, so only replies the user asked to
 * check pay for it).
 */
#ifndef LOADGEN_CHECK_H
#define LOADGEN_CHECK_H

#include <stddef.h>

/* -EINVAL for an empty path or an empty part ("a..b"). */
int check_path_valid(const char *path);

/* 1 when `path` exists in the JSON `body` (len bytes, need not be
 * NUL-terminated), 0 when the body parses but the path is absent, -EINVAL
 * when the body is not JSON. When found and `number` is not NULL, stores the
 * value if it is a number (NAN otherwise). */
int check_json_path(const char *body, size_t len, const char *path, double *number);

#endif
