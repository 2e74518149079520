/*
 * schema.c: the result format's table, its writer and its reader (see
 * schema.h). Pure: no files, no clock; callers name the input in `where`.
 */
#include "schema.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Counts above 2^53 cannot be held exactly by a double (or a JSON number). */
#define MAX_COUNT 9007199254740992.0

static const char *const modes[] = {"closed", "open", NULL};
static const char *const statuses[] = {SCHEMA_STATUS_COMPLETE, SCHEMA_STATUS_INTERRUPTED,
                                       SCHEMA_STATUS_UNSTABLE, SCHEMA_STATUS_FAILED,
                                       SCHEMA_STATUS_UNDER_RATE, NULL};
static const char *const slos[] = {"met", "broken", NULL};

#define AT(f) offsetof(struct schema_level, f)
#define TEXT(csv, json, flags, f) {csv, json, SCHEMA_TEXT, flags, NULL, NULL, AT(f)}
#define ENUM(csv, json, flags, vals, f) {csv, json, SCHEMA_ENUM, flags, NULL, vals, AT(f)}
#define NUM(csv, json, flags, fmt, f) {csv, json, SCHEMA_NUMBER, flags, fmt, NULL, AT(f)}
#define COUNT(csv, json, flags, f) {csv, json, SCHEMA_COUNT, flags, "%.0f", NULL, AT(f)}

enum { NEED = SCHEMA_NEED | SCHEMA_STRICT, STRICT = SCHEMA_STRICT, FIG = SCHEMA_FIGURE,
       EMPTY = SCHEMA_EMPTY_OK, OPT = SCHEMA_JSON_OPT };

/* The summary CSV's columns in order, then what only JSON carries. */
const struct schema_col schema_cols[] = {
    TEXT("run_id", NULL, 0, run_id), /* JSON: the document's run_id */
    TEXT("timestamp", NULL, 0, timestamp),
    TEXT("label", "label", NEED, label),
    TEXT("region", "region", NEED, region),
    TEXT("model", "model", NEED, model),
    TEXT("target", "target", STRICT, target),
    TEXT("format", "format", STRICT, format),
    ENUM("mode", "mode", NEED, modes, mode),
    COUNT("concurrency", "concurrency", NEED, concurrency),
    NUM("rate", "rate", NEED, "%.6g", rate),
    COUNT("cycle", "cycle", NEED, cycle),
    COUNT("requests", "requests", STRICT, requests),
    COUNT("ok", "ok", 0, ok),
    COUNT("errors", "errors", 0, errors),
    COUNT("timeouts", NULL, 0, timeouts),
    NUM("duration_s", "duration_s", 0, "%.6f", duration_s),
    NUM("throughput_rps", "throughput_rps", FIG, "%.3f", throughput_rps),
    NUM("images_per_s", "images_per_s", NEED | FIG, "%.3f", images_per_s),
    NUM("lat_mean_ms", "latency_ms.mean", FIG, "%.3f", lat_mean_ms),
    NUM("lat_p50_ms", "latency_ms.p50", NEED | FIG, "%.3f", lat_p50_ms),
    NUM("lat_p90_ms", "latency_ms.p90", FIG, "%.3f", lat_p90_ms),
    NUM("lat_p95_ms", "latency_ms.p95", FIG, "%.3f", lat_p95_ms),
    NUM("lat_p99_ms", "latency_ms.p99", NEED | FIG, "%.3f", lat_p99_ms),
    NUM("lat_p999_ms", "latency_ms.p999", FIG, "%.3f", lat_p999_ms),
    NUM("lat_max_ms", "latency_ms.max", FIG, "%.3f", lat_max_ms),
    NUM("ttfb_p50_ms", NULL, FIG, "%.3f", ttfb_p50_ms),
    NUM("connect_p50_ms", NULL, FIG, "%.3f", connect_p50_ms),
    COUNT("bytes_sent", "bytes_sent", STRICT, bytes_sent),
    COUNT("bytes_recv", "bytes_recv", STRICT, bytes_recv),
    NUM("cost_per_hour", "cost_per_hour", STRICT | EMPTY, "%.4f", cost_per_hour),
    NUM("cost_per_1k_images", "cost_per_1k_images", EMPTY | FIG, "%.6f", cost_per_1k_images),
    NUM("images_per_dollar", "images_per_dollar", EMPTY | FIG, "%.1f", images_per_dollar),
    ENUM("status", "status", STRICT, statuses, status),
    COUNT("images", "images", STRICT, images),
    COUNT("late_sends", "late_sends", STRICT, late_sends),
    NUM("server_p50_ms", NULL, EMPTY | FIG, "%.3f", server_p50_ms),
    NUM("network_p50_ms", NULL, EMPTY | FIG, "%.3f", network_p50_ms),
    NUM("lat_uncorrected_p99_ms", NULL, FIG, "%.3f", lat_uncorrected_p99_ms),
    COUNT("windows", "windows", 0, windows),
    ENUM("slo", "slo", OPT, slos, slo),
    TEXT("engine", "engine", 0, engine), /* "native" or "curl": which transport ran */
    COUNT(NULL, "start_wall_us", STRICT, start_wall_us),
    COUNT(NULL, "end_wall_us", STRICT, end_wall_us),
    COUNT(NULL, "images_ok", STRICT, images_ok),
    COUNT(NULL, "client_concurrency", OPT, client_concurrency),
    NUM(NULL, "client_rate", OPT, NULL, client_rate),
};
const size_t schema_ncols = sizeof schema_cols / sizeof schema_cols[0];

_Static_assert(sizeof schema_cols / sizeof schema_cols[0] <= SCHEMA_MAX_COLS,
               "struct schema_header has room for every column");

#undef AT
#undef TEXT
#undef ENUM
#undef NUM
#undef COUNT

static const char **text_at(const struct schema_level *rec, const struct schema_col *c)
{
    return (const char **)((char *)rec + c->off);
}

static double *num_at(const struct schema_level *rec, const struct schema_col *c)
{
    return (double *)((char *)rec + c->off);
}

static int is_text(const struct schema_col *c)
{
    return c->type == SCHEMA_TEXT || c->type == SCHEMA_ENUM;
}

void schema_level_init(struct schema_level *rec)
{
    for (size_t i = 0; i < schema_ncols; i++) {
        if (is_text(&schema_cols[i]))
            *text_at(rec, &schema_cols[i]) = "";
        else
            *num_at(rec, &schema_cols[i]) = NAN;
    }
}

int schema_failed(const struct schema_level *rec)
{
    return strcmp(rec->status, SCHEMA_STATUS_FAILED) == 0;
}

/* ---- writer ------------------------------------------------------------- */

/* A spreadsheet runs a cell that starts with one of these as a formula. */
static int formula_lead(char c)
{
    return c && strchr("=+-@\t\r", c) != NULL;
}

void schema_csv_text(struct sbuf *b, const char *s)
{
    if (!s)
        return;
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    /* A ' before a formula lead is what the reader takes off: a value that
     * itself starts so gets one more, so that it reads back as written. */
    int guard = formula_lead(s[0]) || (s[0] == '\'' && formula_lead(s[1]));
    if (quote)
        sbuf_printf(b, "\"");
    if (guard)
        sbuf_printf(b, "'");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"')
            sbuf_printf(b, "\"\"");
        else if ((c < ' ' && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            sbuf_printf(b, "?");
        else
            sbuf_printf(b, "%c", c);
    }
    if (quote)
        sbuf_printf(b, "\"");
}

void schema_csv_header(struct sbuf *b)
{
    const char *sep = "";
    for (size_t i = 0; i < schema_ncols; i++)
        if (schema_cols[i].csv) {
            sbuf_printf(b, "%s%s", sep, schema_cols[i].csv);
            sep = ",";
        }
    sbuf_printf(b, "\n");
}

void schema_csv_row(struct sbuf *b, const struct schema_level *rec)
{
    const char *sep = "";
    for (size_t i = 0; i < schema_ncols; i++) {
        const struct schema_col *c = &schema_cols[i];
        if (!c->csv)
            continue;
        sbuf_printf(b, "%s", sep);
        sep = ",";
        if (is_text(c))
            schema_csv_text(b, *text_at(rec, c));
        else if (!isnan(*num_at(rec, c)))
            sbuf_printf(b, c->fmt, *num_at(rec, c));
    }
    sbuf_printf(b, "\n");
}

/* The object that holds key `path` ("a.b": a's object, made when absent),
 * and the last part of the path in `leaf`. */
static cJSON *parent_for_write(cJSON *o, const char *path, char *leaf, size_t len)
{
    const char *dot = strchr(path, '.');
    if (!dot) {
        snprintf(leaf, len, "%s", path);
        return o;
    }
    char head[64];
    snprintf(head, sizeof head, "%.*s", (int)(dot - path), path);
    snprintf(leaf, len, "%s", dot + 1);
    cJSON *sub = cJSON_GetObjectItemCaseSensitive(o, head);
    return sub ? sub : cJSON_AddObjectToObject(o, head);
}

int schema_json_level(cJSON *o, const struct schema_level *rec)
{
    for (size_t i = 0; i < schema_ncols; i++) {
        const struct schema_col *c = &schema_cols[i];
        if (!c->json)
            continue;
        const char *s = is_text(c) ? *text_at(rec, c) : NULL;
        double v = is_text(c) ? 0 : *num_at(rec, c);
        int empty = is_text(c) ? !*s : isnan(v);
        if (empty && (c->flags & SCHEMA_JSON_OPT))
            continue;
        char leaf[64];
        cJSON *p = parent_for_write(o, c->json, leaf, sizeof leaf);
        cJSON *added = !p              ? NULL
                       : is_text(c)    ? cJSON_AddStringToObject(p, leaf, s)
                       : isnan(v)      ? cJSON_AddNullToObject(p, leaf)
                                       : cJSON_AddNumberToObject(p, leaf, v);
        if (!added)
            return -ENOMEM;
    }
    return 0;
}

/* ---- reader ------------------------------------------------------------- */

int schema_csv_open_quote(const char *line)
{
    int open = 0;
    for (; *line; line++)
        open ^= *line == '"';
    return open;
}

int schema_csv_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -E2BIG;
        if (*p == '"') {
            char *w = ++p;
            f[n++] = w;
            while (*p) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            char *end = strchr(p, ',');
            *w = '\0';
            if (!end)
                return n;
            p = end + 1;
        } else {
            f[n++] = p;
            char *end = strchr(p, ',');
            if (!end)
                return n;
            *end = '\0';
            p = end + 1;
        }
    }
}

int schema_csv_is_header(char **f, int n)
{
    return n > 0 && strcmp(f[0], "run_id") == 0;
}

static int needed(const struct schema_col *c, enum schema_mode mode)
{
    return (c->flags & SCHEMA_NEED) || (mode == SCHEMA_READ_STRICT && (c->flags & SCHEMA_STRICT));
}

int schema_csv_map(struct schema_header *h, char **f, int n, enum schema_mode mode,
                   const char *where, char *err)
{
    h->nfields = n;
    for (size_t i = 0; i < schema_ncols; i++) {
        const struct schema_col *c = &schema_cols[i];
        h->at[i] = -1;
        for (int k = 0; c->csv && k < n; k++)
            if (strcmp(f[k], c->csv) == 0) {
                h->at[i] = k;
                break;
            }
        if (h->at[i] < 0 && c->csv && needed(c, mode))
            return lg_err(err, -EINVAL, "%s: missing column '%s'; was it written by loadgen --out?", where,
                          c->csv);
    }
    return 0;
}

/* Checks a value against its column's type; `s` is the text (CSV) or NULL
 * with `v` the number (JSON). Names the value as "column 'x'" (CSV) or
 * "'x'" (JSON) in `name`. */
static int check_number(const struct schema_col *c, double v, const char *shown,
                        const char *where, const char *name, int csv, char *err)
{
    if (!isfinite(v))
        return csv ? lg_err(err, -EINVAL, "%s: %s: '%s' is not a number", where, name, shown)
                   : lg_err(err, -EINVAL, "%s: %s is not a finite number; a loadgen result has no such "
                            "figure: the file was edited or is damaged", where, name);
    /* Every figure of a result is a count, rate, time or price. */
    if (v < 0)
        return csv ? lg_err(err, -EINVAL, "%s: %s: %s is negative; a loadgen summary has no negative "
                            "figures: the file was edited or is damaged", where, name, shown)
                   : lg_err(err, -EINVAL, "%s: %s is negative; a loadgen result has no such figure: the "
                            "file was edited or is damaged", where, name);
    if (c->type == SCHEMA_COUNT && v > MAX_COUNT)
        return lg_err(err, -EINVAL, "%s: %s: %s is more than any count or clock (2^53); the file was "
                      "edited or is damaged", where, name, shown);
    if (c->type == SCHEMA_COUNT && v != floor(v))
        return lg_err(err, -EINVAL, "%s: %s: %s is not a whole number (a count); the file was edited "
                      "or is damaged", where, name, shown);
    return 0;
}

static int check_enum(const struct schema_col *c, const char *s, const char *where,
                      const char *name, char *err)
{
    if (!*s)
        return 0;
    char list[128] = "";
    for (const char *const *v = c->values; *v; v++) {
        if (strcmp(*v, s) == 0)
            return 0;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                 v == c->values ? "" : v[1] ? ", " : " or ", *v);
    }
    return lg_err(err, -EINVAL, "%s: %s: '%s' is not %s", where, name, s, list);
}

/* Needed columns that are present must have a value, except where the
 * column allows none (an unknown cost) or the level failed (no figures). */
static int check_empties(const struct schema_level *rec, const int *present,
                         enum schema_mode mode, const char *where, int csv, char *err)
{
    int failed = schema_failed(rec);
    for (size_t i = 0; i < schema_ncols; i++) {
        const struct schema_col *c = &schema_cols[i];
        if (!present[i] || !needed(c, mode) || (c->flags & SCHEMA_EMPTY_OK) ||
            (failed && (c->flags & SCHEMA_FIGURE)))
            continue;
        int empty = is_text(c) ? 0 : isnan(*num_at(rec, c));
        if (c->type == SCHEMA_ENUM)
            empty = !**text_at(rec, c);
        if (!empty)
            continue;
        return csv ? lg_err(err, -EINVAL, "%s: column '%s' is empty", where, c->csv)
                   : lg_err(err, -EINVAL, "%s: '%s' is null; the file is not a whole loadgen result",
                            where, c->json);
    }
    return 0;
}

int schema_csv_read(struct schema_level *rec, const struct schema_header *h, char **f,
                    enum schema_mode mode, const char *where, char *err)
{
    int present[SCHEMA_MAX_COLS] = {0}, rc;
    schema_level_init(rec);
    /* What every reader needs is checked first, so that its message wins. */
    for (size_t k = 0; k < 2 * schema_ncols; k++) {
        size_t i = k % schema_ncols;
        const struct schema_col *c = &schema_cols[i];
        if (h->at[i] < 0 || (k < schema_ncols) != needed(c, mode))
            continue;
        present[i] = 1;
        char *s = f[h->at[i]], name[80];
        snprintf(name, sizeof name, "column '%s'", c->csv);
        if (is_text(c)) {
            if (s[0] == '\'' && (formula_lead(s[1]) || (s[1] == '\'' && formula_lead(s[2]))))
                s++; /* the guard the writer added */
            if (c->type == SCHEMA_ENUM && (rc = check_enum(c, s, where, name, err)) < 0)
                return rc;
            *text_at(rec, c) = s;
            continue;
        }
        if (!*s)
            continue;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || *end || errno == ERANGE)
            v = NAN;
        if ((rc = check_number(c, v, s, where, name, 1, err)) < 0)
            return rc;
        *num_at(rec, c) = v;
    }
    return check_empties(rec, present, mode, where, 1, err);
}

static const cJSON *json_find(const cJSON *o, const char *path)
{
    const char *dot = strchr(path, '.');
    if (!dot)
        return cJSON_GetObjectItemCaseSensitive(o, path);
    char head[64];
    snprintf(head, sizeof head, "%.*s", (int)(dot - path), path);
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(o, head);
    return cJSON_IsObject(sub) ? cJSON_GetObjectItemCaseSensitive(sub, dot + 1) : NULL;
}

int schema_json_read(struct schema_level *rec, const cJSON *o, enum schema_mode mode,
                     const char *where, char *err)
{
    int present[SCHEMA_MAX_COLS] = {0}, rc;
    schema_level_init(rec);
    if (!cJSON_IsObject(o))
        return lg_err(err, -EINVAL, "%s is not an object; the file is not a whole loadgen result", where);
    for (size_t k = 0; k < 2 * schema_ncols; k++) {
        size_t i = k % schema_ncols;
        const struct schema_col *c = &schema_cols[i];
        if (!c->json || (k < schema_ncols) != needed(c, mode))
            continue;
        const cJSON *v = json_find(o, c->json);
        char name[80];
        snprintf(name, sizeof name, "'%s'", c->json);
        if (!v) {
            if (needed(c, mode))
                return lg_err(err, -EINVAL, "%s: '%s' is missing; the file is not a whole loadgen result",
                              where, c->json);
            continue;
        }
        present[i] = 1;
        if (is_text(c)) {
            if (!cJSON_IsString(v))
                return lg_err(err, -EINVAL, "%s: '%s' is not a string", where, c->json);
            if (c->type == SCHEMA_ENUM && (rc = check_enum(c, v->valuestring, where, name, err)) < 0)
                return rc;
            *text_at(rec, c) = v->valuestring;
            continue;
        }
        if (cJSON_IsNull(v))
            continue;
        if (!cJSON_IsNumber(v))
            return lg_err(err, -EINVAL, "%s: '%s' is not a number", where, c->json);
        char shown[32];
        snprintf(shown, sizeof shown, "%.6g", v->valuedouble);
        if ((rc = check_number(c, v->valuedouble, shown, where, name, 0, err)) < 0)
            return rc;
        *num_at(rec, c) = v->valuedouble;
    }
    return check_empties(rec, present, mode, where, 0, err);
}
