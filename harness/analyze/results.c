/*
 * results.c: summary CSVs and JSON results read back into rows, levels and
 * per-level groups (see results.h for the contract).
 *
 * Ownership: everything hangs off `struct results` and is freed by
 * results_destroy(). Single-threaded.
 */
#include "analyze/results.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "fileio.h"
#include "sbuf.h"
#include "schema.h"

/* The study's models, smallest first: charts list them in this order. */
static const char *const known_models[] = {
    "mobilenet_v2", "nasnet_mobile", "resnet50", "resnet152", "nasnet_large",
};

/* ---- opening files ------------------------------------------------------ */

static int check_stat(const struct stat *st, const char *path, size_t max_bytes, char *err)
{
    if (S_ISDIR(st->st_mode))
        return lg_err(err, -EINVAL, "%s: is a folder; give a results file", path);
    if (!S_ISREG(st->st_mode))
        return lg_err(err, -EINVAL, "%s: not a regular file (%s); give a results file", path,
                      S_ISFIFO(st->st_mode)   ? "a FIFO"
                      : S_ISSOCK(st->st_mode) ? "a socket"
                                              : "a device");
    if ((unsigned long long)st->st_size > max_bytes)
        return lg_err(err, -EINVAL, "%s: %lld bytes; at most %zu MiB of results are read from a file",
                      path, (long long)st->st_size, max_bytes >> 20);
    return 0;
}

int results_check_file(const char *path, size_t max_bytes, char *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return lg_err(err, -errno, "%s: cannot open: %s", path, strerror(errno));
    return check_stat(&st, path, max_bytes, err);
}

int results_fopen(const char *path, size_t max_bytes, FILE **fp, char *err)
{
    /* O_NONBLOCK: opening a FIFO to read would wait for a writer. It has
     * no effect on the regular file that is all this goes on to read. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    int rc;
    *fp = NULL;
    if (fd < 0)
        return lg_err(err, -errno, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        rc = lg_err(err, -errno, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if ((rc = check_stat(&st, path, max_bytes, err)) < 0)
        goto fail;
    if (!(*fp = fdopen(fd, "r"))) {
        rc = lg_err(err, -errno, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    return 0;
fail:
    close(fd);
    return rc;
}

struct results *results_create(void)
{
    return calloc(1, sizeof(struct results));
}

void results_destroy(struct results *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nruns; i++) {
        for (size_t j = 0; j < r->runs[i].nlevels; j++) {
            free(r->runs[i].levels[j].pct);
            free(r->runs[i].levels[j].ticks);
        }
        free(r->runs[i].levels);
    }
    for (size_t i = 0; i < r->nsources; i++)
        free(r->sources[i]);

    for (int d = 0; d < 3; d++)
        free(r->values[d]);
    free(r->sources);
    notes_free(&r->notes);
    free(r->runs);
    free(r->rows);
    free(r->groups);
    free(r);
}

static const char *keep_source(struct results *r, const char *path)
{
    char **s = realloc(r->sources, (r->nsources + 1) * sizeof *s);
    if (!s)
        return NULL;
    r->sources = s;
    if (!(s[r->nsources] = strdup(path)))
        return NULL;
    return s[r->nsources++];
}

static struct results_row *new_row(struct results *r)
{
    if (sbuf_grow((void **)&r->rows, &r->rows_cap, r->nrows + 1, sizeof *r->rows) < 0)
        return NULL;
    struct results_row *row = &r->rows[r->nrows++];
    memset(row, 0, sizeof *row);
    row->concurrency = row->rate_rps = NAN;
    row->requests = row->ok = row->errors = row->duration_s = NAN;
    row->throughput_rps = row->images_per_s = NAN;
    row->lat_mean_ms = row->lat_p50_ms = row->lat_p90_ms = row->lat_p99_ms = NAN;
    row->cost_per_hour = NAN;
    return row;
}

/* ---- CSV ---------------------------------------------------------------- */

/* A record of the result format into a row; `where` names it in messages
 * ("path:line" for a CSV, "path: levels[i]" for JSON). */
/* "127.0.0.1:8080" from "http://127.0.0.1:8080/score"; "run" without one. */
static void default_label(char *out, size_t len, const char *target)
{
    const char *p = strstr(target, "://");
    p = p ? p + 3 : target;
    size_t n = strcspn(p, "/?#");
    if (n == 0)
        snprintf(out, len, "run");
    else
        snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

static int row_from(struct results_row *row, const struct schema_level *rec, const char *where,
                    int csv, char *err)
{
    const struct {
        char *dst;
        const char *src, *name;
    } text[] = {
        {row->run_id, rec->run_id, "run_id"}, {row->timestamp, rec->timestamp, "timestamp"},
        {row->label, rec->label, "label"},    {row->region, rec->region, "region"},
        {row->model, rec->model, "model"},    {row->target, rec->target, "target"},
        {row->format, rec->format, "format"},
    };
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
        size_t n = strlen(text[i].src);
        if (n >= RESULTS_TEXT)
            return lg_err(err, -EINVAL, "%s: %s%s' is %zu bytes long; at most %d fit", where,
                          csv ? "column '" : "'", text[i].name, n, RESULTS_TEXT - 1);
        memcpy(text[i].dst, text[i].src, n + 1);
    }
    row->concurrency = rec->concurrency;
    row->rate_rps = rec->rate;
    row->requests = rec->requests;
    row->ok = rec->ok;
    row->errors = rec->errors;
    row->duration_s = rec->duration_s;
    row->throughput_rps = rec->throughput_rps;
    row->images_per_s = rec->images_per_s;
    row->lat_mean_ms = rec->lat_mean_ms;
    row->lat_p50_ms = rec->lat_p50_ms;
    row->lat_p90_ms = rec->lat_p90_ms;
    row->lat_p99_ms = rec->lat_p99_ms;
    row->cost_per_hour = rec->cost_per_hour;
    if (rec->cycle < 1 || rec->cycle > 1e9)
        return lg_err(err, -EINVAL, "%s: %s: %g is not a cycle number (1, 2, ...)", where,
                      csv ? "column 'cycle'" : "'cycle'", rec->cycle);
    row->cycle = (int)rec->cycle;
    row->open_loop = strcmp(rec->mode, "open") == 0;
    row->interrupted = strcmp(rec->status, SCHEMA_STATUS_INTERRUPTED) == 0;
    row->failed = schema_failed(rec);
    /* A run without --label or --model is plotted and compared as it is:
     * the deployment is named by its host:port, the model neutrally. */
    if (!*row->label)
        default_label(row->label, sizeof row->label, row->target);
    if (!*row->model)
        snprintf(row->model, sizeof row->model, "%s", RESULTS_DEFAULT_MODEL);
    return 0;
}

/* Reads one CSV record, which a quoted line break continues on the next
 * line, without its line end: its length, -1 at the end (as getline), or
 * -ENOMEM. */
static ssize_t read_record(char **line, size_t *cap, FILE *fp, size_t *lineno, size_t *total)
{
    ssize_t len = getline(line, cap, fp);
    if (len < 0)
        return -1;
    ++*lineno;
    *total += (size_t)len;
    while (schema_csv_open_quote(*line) && *total <= RESULTS_MAX_BYTES) {
        char *more = NULL;
        size_t mcap = 0;
        ssize_t n = getline(&more, &mcap, fp);
        if (n < 0) {
            free(more);
            break;
        }
        char *joined = realloc(*line, (size_t)len + (size_t)n + 1);
        if (!joined) {
            free(more);
            return -ENOMEM;
        }
        memcpy(joined + len, more, (size_t)n + 1);
        free(more);
        *line = joined;
        *cap = (size_t)len + (size_t)n + 1;
        len += n;
        ++*lineno;
        *total += (size_t)n;
    }
    while (len > 0 && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r'))
        (*line)[--len] = '\0';
    return len;
}

int results_load_csv(struct results *r, const char *path, char *err)
{
    FILE *fp;
    int rc = results_fopen(path, RESULTS_MAX_BYTES, &fp, err);
    if (rc < 0)
        return rc;
    const char *src = keep_source(r, path);
    char *line = NULL, *f[SCHEMA_MAX_FIELDS];
    size_t cap = 0, lineno = 0, nrows = 0, nskipped = 0, total = 0;
    char first_skip[LG_ERRLEN] = "";
    ssize_t len;
    struct schema_header h = {0};
    int have_header = 0;
    if (!src) {
        rc = lg_err(err, -ENOMEM, "%s: out of memory", path);
        goto done;
    }
    while ((len = read_record(&line, &cap, fp, &lineno, &total)) != -1) {
        if (len == -ENOMEM) {
            rc = lg_err(err, -ENOMEM, "%s: out of memory", path);
            goto done;
        }
        /* The size was checked at open; a file still being written grows. */
        if (total > RESULTS_MAX_BYTES) {
            rc = lg_err(err, -EINVAL, "%s: more than %zu MiB; at most that is read from a file", path,
                        RESULTS_MAX_BYTES >> 20);
            goto done;
        }
        if (len == 0)
            continue;
        int n = schema_csv_split(line, f, SCHEMA_MAX_FIELDS);
        if (n < 0) {
            rc = lg_err(err, -EINVAL, "%s:%zu: more than %d columns; not a loadgen summary CSV", path,
                        lineno, SCHEMA_MAX_FIELDS);
            goto done;
        }
        if (schema_csv_is_header(f, n)) {
            /* A repeated header (files from several clients concatenated)
             * is skipped; a different one starts a new schema. */
            if ((rc = schema_csv_map(&h, f, n, SCHEMA_READ_LENIENT, path, err)) < 0)
                goto done;
            have_header = 1;
            continue;
        }
        if (!have_header) {
            rc = lg_err(err, -EINVAL, "%s:%zu: expected the header line 'run_id,timestamp,label,...' "
                        "first; was it written by loadgen --out?", path, lineno);
            goto done;
        }
        /* A row that cannot be used is left out with a note; the good
         * rows beside it are still plotted and compared. */
        if (n != h.nfields) {
            notes_add(&r->notes, "skipped %s:%zu: %d fields but the header above has %d: rows of two "
                      "loadgen versions mixed in one file? keep one version per file, "
                      "each with its own header", path, lineno, n, h.nfields);
            nskipped++;
            continue;
        }
        struct results_row *row = new_row(r);
        if (!row) {
            rc = lg_err(err, -ENOMEM, "%s: out of memory", path);
            goto done;
        }
        row->source = src;
        char where[LG_ERRLEN / 2], why[LG_ERRLEN];
        struct schema_level rec;
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        if (schema_csv_read(&rec, &h, f, SCHEMA_READ_LENIENT, where, why) < 0 ||
            row_from(row, &rec, where, 1, why) < 0) {
            r->nrows--;
            notes_add(&r->notes, "skipped %s", why);
            if (!*first_skip)
                snprintf(first_skip, sizeof first_skip, "%s", why);
            nskipped++;
            continue;
        }
        nrows++;
    }
    if (ferror(fp))
        rc = lg_err(err, -errno, "%s: read error: %s", path, strerror(errno));
    else if (lineno == 0)
        rc = lg_err(err, -EINVAL, "%s: empty file; expected a loadgen summary CSV (loadgen --out)", path);
    else if (nrows == 0 && nskipped)
        rc = lg_err(err, -EINVAL, "%s: no usable row (%zu skipped; the first: %s)", path, nskipped,
                    first_skip);
    else if (nrows == 0)
        rc = lg_err(err, -EINVAL, "%s: a header but no rows; did the run finish a level?", path);
    else
        r->ncsv++;
done:
    free(line);
    fclose(fp);
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

static const cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Reads a number member; null and absent are NaN unless `need`. Every
 * number of a result is a count, rate, time or price: one that is negative
 * or too big for a double (1e999 reads as infinity) is refused. */
static int json_num(double *dst, const cJSON *o, const char *k, int need, const char *path,
                    size_t lvl, char *err)
{
    const cJSON *v = item(o, k);
    if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble) || v->valuedouble < 0)
            return lg_err(err, -EINVAL, "%s: levels[%zu]: '%s' is %s; a loadgen result has no such "
                          "figure: the file was edited or is damaged", path, lvl, k,
                          v->valuedouble < 0 ? "negative" : "not a finite number");
        *dst = v->valuedouble;
        return 0;
    }
    if (need || (v && !cJSON_IsNull(v)))
        return lg_err(err, -EINVAL, "%s: levels[%zu]: '%s' %s", path, lvl, k,
                      v ? "is not a number" : "is missing");
    *dst = NAN;
    return 0;
}

static int json_level(struct results_level *l, const cJSON *o, const char *path, size_t i,
                      char *err)
{
    struct schema_level rec;
    char where[LG_ERRLEN / 2];
    snprintf(where, sizeof where, "%s: levels[%zu]", path, i);
    int rc = schema_json_read(&rec, o, SCHEMA_READ_LENIENT, where, err);
    if (rc < 0)
        return rc;
    rec.run_id = l->row.run_id; /* the document's */
    if ((rc = row_from(&l->row, &rec, where, 0, err)) < 0)
        return rc;
    double start = rec.start_wall_us, end = rec.end_wall_us;
    if (start > 0x1p62 || end > 0x1p62)
        return lg_err(err, -EINVAL, "%s: levels[%zu]: 'start_wall_us' or 'end_wall_us' is past any "
                      "clock; the file was edited or is damaged", path, i);
    l->start_wall_us = isnan(start) ? 0 : (int64_t)start;
    l->end_wall_us = isnan(end) ? 0 : (int64_t)end;

    const cJSON *pct = item(o, SCHEMA_JSON_PERCENTILES), *e;
    if (cJSON_IsArray(pct) && cJSON_GetArraySize(pct) > 0) {
        l->pct = calloc((size_t)cJSON_GetArraySize(pct), sizeof *l->pct);
        if (!l->pct)
            return lg_err(err, -ENOMEM, "%s: out of memory", path);
        cJSON_ArrayForEach(e, pct)
        {
            double p = NAN, ms = NAN;
            if ((rc = json_num(&p, e, "p", 1, path, i, err)) < 0 ||
                (rc = json_num(&ms, e, "ms", 1, path, i, err)) < 0)
                return rc;
            l->pct[l->npct++] = (struct results_pct){p, ms};
        }
    }
    const cJSON *tl = item(o, SCHEMA_JSON_TIMELINE);
    if (cJSON_IsArray(tl) && cJSON_GetArraySize(tl) > 0) {
        l->ticks = calloc((size_t)cJSON_GetArraySize(tl), sizeof *l->ticks);
        if (!l->ticks)
            return lg_err(err, -ENOMEM, "%s: out of memory", path);
        cJSON_ArrayForEach(e, tl)
        {
            struct results_tick *t = &l->ticks[l->nticks++];
            if ((rc = json_num(&t->t_s, e, "t", 1, path, i, err)) < 0 ||
                (rc = json_num(&t->completions, e, "completions", 1, path, i, err)) < 0 ||
                (rc = json_num(&t->errors, e, "errors", 0, path, i, err)) < 0 ||
                (rc = json_num(&t->p50_ms, e, "p50_ms", 0, path, i, err)) < 0 ||
                (rc = json_num(&t->p99_ms, e, "p99_ms", 0, path, i, err)) < 0)
                return rc;
        }
    }
    return 0;
}

int results_load_json(struct results *r, const char *path, char *err)
{
    size_t len;
    char *text;
    int rc = results_check_file(path, RESULTS_MAX_BYTES, err);
    if (rc < 0 || (rc = fileio_read(NULL, path, RESULTS_MAX_BYTES, &text, &len, err)) < 0)
        return rc;
    const char *src = keep_source(r, path);
    cJSON *doc = cJSON_ParseWithLength(text, len);
    if (!src) {
        rc = lg_err(err, -ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        if (len == 0)
            rc = lg_err(err, -EINVAL, "%s: empty file; expected a loadgen JSON result (loadgen --json)",
                        path);
        else
            rc = lg_err(err, -EINVAL, "%s: not valid JSON near byte %td; was it written by loadgen --json?",
                        path, at && at >= text && at <= text + len ? at - text : (ptrdiff_t)0);
        goto done;
    }
    const cJSON *ver = item(doc, "schema_version"), *levels = item(doc, "levels");
    if (!cJSON_IsNumber(ver) || !cJSON_IsArray(levels)) {
        rc = lg_err(err, -EINVAL, "%s: no schema_version or levels; was it written by loadgen --json?",
                    path);
        goto done;
    }
    if (ver->valuedouble != 1) {
        rc = lg_err(err, -EINVAL, "%s: schema_version %g; this loadgen reads version 1: use the "
                    "loadgen that wrote it", path, ver->valuedouble);
        goto done;
    }
    if (cJSON_GetArraySize(levels) == 0) {
        rc = lg_err(err, -EINVAL, "%s: no levels; did the run finish a level?", path);
        goto done;
    }
    if (sbuf_grow((void **)&r->runs, &r->runs_cap, r->nruns + 1, sizeof *r->runs) < 0) {
        rc = lg_err(err, -ENOMEM, "%s: out of memory", path);
        goto done;
    }
    struct results_run *run = &r->runs[r->nruns];
    memset(run, 0, sizeof *run);
    run->source = src;
    const cJSON *s = item(doc, "run_id");
    if (cJSON_IsString(s))
        snprintf(run->run_id, sizeof run->run_id, "%s", s->valuestring);
    if (cJSON_IsString(s = item(doc, "version")))
        snprintf(run->version, sizeof run->version, "%s", s->valuestring);
    run->levels = calloc((size_t)cJSON_GetArraySize(levels), sizeof *run->levels);
    if (!run->levels) {
        rc = lg_err(err, -ENOMEM, "%s: out of memory", path);
        goto done;
    }
    r->nruns++; /* from here results_destroy() frees what the levels hold */
    const cJSON *e;
    cJSON_ArrayForEach(e, levels)
    {
        struct results_level *l = &run->levels[run->nlevels++];
        l->row.source = src;
        memcpy(l->row.run_id, run->run_id, sizeof run->run_id);
        if ((rc = json_level(l, e, path, run->nlevels - 1, err)) < 0)
            goto done;
    }
done:
    cJSON_Delete(doc);
    free(text);
    return rc;
}

/* ---- files and directories ---------------------------------------------- */

/* A JSON result starts with '{'; anything else is taken for a CSV. A FIFO
 * or device is refused here, before either reader waits on it. */
static int load_file(struct results *r, const char *path, char *err)
{
    FILE *fp;
    int rc = results_fopen(path, RESULTS_MAX_BYTES, &fp, err);
    if (rc < 0)
        return rc;
    int c;
    while ((c = fgetc(fp)) == ' ' || c == '\n' || c == '\r' || c == '\t')
        ;
    fclose(fp);
    return c == '{' ? results_load_json(r, path, err) : results_load_csv(r, path, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A results folder also holds files that are not summaries or results
 * (--history, --requests-log): those are passed over with a note, which a
 * bad file named on the command line is not. */
static int load_dir(struct results *r, const char *dir, char *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return lg_err(err, -errno, "%s: cannot open: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0, used = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!ends_with(de->d_name, ".csv") && !ends_with(de->d_name, ".json"))
            continue;
        if (sbuf_grow((void **)&names, &cap, n + 1, sizeof *names) < 0 ||
            !(names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2))) {
            rc = lg_err(err, -ENOMEM, "%s: out of memory", dir);
            goto done;
        }
        sprintf(names[n++], "%s/%s", dir, de->d_name);
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char why[LG_ERRLEN];
        size_t rows = r->nrows, runs = r->nruns;
        if (load_file(r, names[i], why) == 0) {
            used++;
            continue;
        }
        if (strstr(why, "out of memory")) {
            rc = lg_err(err, -EINVAL, "%s", why);
            goto done;
        }
        /* Drop what the refused file added, then say why it was skipped. */
        r->nrows = rows;
        while (r->nruns > runs) {
            struct results_run *run = &r->runs[--r->nruns];
            for (size_t j = 0; j < run->nlevels; j++) {
                free(run->levels[j].pct);
                free(run->levels[j].ticks);
            }
            free(run->levels);
        }
        notes_add(&r->notes, "skipped %s", why);
    }
    if (used == 0 && r->notes.n)
        rc = lg_err(err, -EINVAL, "%s: no usable loadgen result in it (%s)", dir,
                    r->notes.v[r->notes.n - 1]);
    else if (used == 0)
        rc = lg_err(err, -EINVAL, "%s: no loadgen summary CSV or JSON result in it", dir);
done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int results_load(struct results *r, const char *path, char *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return lg_err(err, -errno, "%s: %s", path, strerror(errno));
    return S_ISDIR(st.st_mode) ? load_dir(r, path, err) : load_file(r, path, err);
}

/* ---- grouping ----------------------------------------------------------- */

enum results_device results_device(const char *label, int *n)
{
    enum results_device d = strncmp(label, "gpu-", 4) == 0   ? RESULTS_GPU
                            : strncmp(label, "cpu-", 4) == 0 ? RESULTS_CPU
                                                             : RESULTS_OTHER;
    if (n) {
        char *end;
        long v = d == RESULTS_OTHER ? 0 : strtol(label + 4, &end, 10);
        *n = d != RESULTS_OTHER && end != label + 4 && *end == '\0' && v > 0 && v < 100000
                 ? (int)v
                 : 0;
    }
    return d;
}

int results_label_cmp(const char *a, const char *b)
{
    int na, nb;
    enum results_device da = results_device(a, &na), db = results_device(b, &nb);
    if (da != db)
        return (int)da - (int)db;
    if (da != RESULTS_OTHER && na != nb && na && nb)
        return na < nb ? -1 : 1;
    return strcmp(a, b);
}

static int model_rank(const char *m)
{
    for (size_t i = 0; i < sizeof known_models / sizeof known_models[0]; i++)
        if (strcmp(m, known_models[i]) == 0)
            return (int)i;
    return (int)(sizeof known_models / sizeof known_models[0]);
}

static const char *dim_of(const struct results_row *row, int d)
{
    return d == RESULTS_LABEL ? row->label : d == RESULTS_REGION ? row->region : row->model;
}

/* Position of v in the ordered value list of dimension d. */
static size_t rank(const struct results *r, int d, const char *v)
{
    for (size_t i = 0; i < r->nvalues[d]; i++)
        if (strcmp(r->values[d][i], v) == 0)
            return i;
    return r->nvalues[d];
}

/* Stable insertion sort: value lists are short, and models of the same
 * rank keep the order they were first seen in. */
static void sort_values(const char **v, size_t n, int (*cmp)(const char *, const char *))
{
    for (size_t i = 1; i < n; i++) {
        const char *x = v[i];
        size_t j = i;
        for (; j > 0 && cmp(v[j - 1], x) > 0; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static int model_cmp(const char *a, const char *b)
{
    return model_rank(a) - model_rank(b);
}

static int num_cmp(double a, double b)
{
    return (a > b) - (a < b);
}

static int row_cmp(const void *a, const void *b, void *ctx)
{
    const struct results *r = ctx;
    const struct results_row *x = a, *y = b;
    for (int d = 0; d < 3; d++) {
        size_t rx = rank(r, d, dim_of(x, d)), ry = rank(r, d, dim_of(y, d));
        if (rx != ry)
            return rx < ry ? -1 : 1;
    }
    if (x->open_loop != y->open_loop)
        return x->open_loop - y->open_loop;
    int c = num_cmp(x->open_loop ? x->rate_rps : x->concurrency,
                    y->open_loop ? y->rate_rps : y->concurrency);
    if (c)
        return c;
    if ((c = strcmp(x->run_id, y->run_id)))
        return c;
    return x->cycle - y->cycle;
}

static int same_group(const struct results_row *x, const struct results_row *y)
{
    return strcmp(x->label, y->label) == 0 && strcmp(x->region, y->region) == 0 &&
           strcmp(x->model, y->model) == 0 && x->open_loop == y->open_loop &&
           (x->open_loop ? x->rate_rps == y->rate_rps : x->concurrency == y->concurrency);
}

void results_stat_of(struct results_stat *s, const double *v, size_t n)
{
    double sum = 0;
    s->n = 0;
    s->min = INFINITY;
    s->max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        s->n++;
        sum += v[i];
        s->min = fmin(s->min, v[i]);
        s->max = fmax(s->max, v[i]);
    }
    s->mean = s->n ? sum / (double)s->n : NAN;
    if (!s->n)
        s->min = s->max = NAN;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            ss += (v[i] - s->mean) * (v[i] - s->mean);
    s->sd = s->n > 1 ? sqrt(ss / (double)(s->n - 1)) : NAN;
}

/* The lists point into rows, so they are rebuilt after rows move. */
static int build_values(struct results *r)
{
    for (int d = 0; d < 3; d++) {
        free(r->values[d]);
        r->nvalues[d] = 0;
        r->values[d] = calloc(r->nrows + 1, sizeof(char *));
        if (!r->values[d])
            return -ENOMEM;
        for (size_t i = 0; i < r->nrows; i++) {
            const char *v = dim_of(&r->rows[i], d);
            if (rank(r, d, v) == r->nvalues[d])
                r->values[d][r->nvalues[d]++] = v;
        }
    }
    sort_values(r->values[RESULTS_LABEL], r->nvalues[RESULTS_LABEL], results_label_cmp);
    sort_values(r->values[RESULTS_REGION], r->nvalues[RESULTS_REGION], strcmp);
    sort_values(r->values[RESULTS_MODEL], r->nvalues[RESULTS_MODEL], model_cmp);
    return 0;
}

/* The same row twice (a file given twice, or copied into two folders)
 * would count a cycle twice: exact repeats of run, level and cycle go. */
static void drop_repeats(struct results *r)
{
    size_t out = 0, dropped = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        if (out > 0 && *r->rows[i].run_id && row_cmp(&r->rows[out - 1], &r->rows[i], r) == 0) {
            dropped++;
            continue;
        }
        r->rows[out++] = r->rows[i];
    }
    r->nrows = out;
    if (dropped)
        notes_add(&r->notes, "ignored %zu repeated row%s (same run, level and cycle given twice)",
                  dropped, dropped == 1 ? "" : "s");
}

static int build_groups(struct results *r)
{
    r->groups = calloc(r->nrows, sizeof *r->groups);
    double *ips = malloc(r->nrows * sizeof *ips), *p50 = malloc(r->nrows * sizeof *p50),
           *p99 = malloc(r->nrows * sizeof *p99), *cost = malloc(r->nrows * sizeof *cost);
    int rc = 0;
    if (!r->groups || !ips || !p50 || !p99 || !cost) {
        rc = -ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < r->nrows;) {
        size_t j = i, n = 0;
        double req = 0, errs = 0;
        for (; j < r->nrows && same_group(&r->rows[i], &r->rows[j]); j++) {
            const struct results_row *row = &r->rows[j];
            if (row->failed) {
                /* No figures to rank: saying which keeps the gap visible. */
                r->nfailed++;
                notes_add(&r->notes, "left out %s%s%s at %g %s, cycle %d (run %s): every request failed "
                          "(status failed), so it is not ranked", row->label,
                          *row->region ? " in " : "", row->region,
                          row->open_loop ? row->rate_rps : row->concurrency,
                          row->open_loop ? "req/s" : "in flight", row->cycle,
                          *row->run_id ? row->run_id : "?");
                continue;
            }
            if (row->interrupted) {
                r->ninterrupted++;
                continue;
            }
            ips[n] = row->images_per_s;
            p50[n] = row->lat_p50_ms;
            p99[n] = row->lat_p99_ms;
            cost[n++] = row->cost_per_hour;
            req += isfinite(row->requests) ? row->requests : 0;
            errs += isfinite(row->errors) ? row->errors : 0;
        }
        if (n > 0) {
            const struct results_row *row = &r->rows[i];
            struct results_group *g = &r->groups[r->ngroups++];
            g->requests = req;
            g->errors = errs;
            struct results_stat c;
            g->label = row->label;
            g->region = row->region;
            g->model = row->model;
            g->open_loop = row->open_loop;
            g->level = row->open_loop ? row->rate_rps : row->concurrency;
            results_stat_of(&g->ips, ips, n);
            results_stat_of(&g->p50_ms, p50, n);
            results_stat_of(&g->p99_ms, p99, n);
            results_stat_of(&c, cost, n);
            g->cost_per_hour = c.mean;
        }
        i = j;
    }
    if (r->ninterrupted)
        notes_add(&r->notes, "left out %zu interrupted level%s (partial results)", r->ninterrupted,
                  r->ninterrupted == 1 ? "" : "s");
done:
    free(ips);
    free(p50);
    free(p99);
    free(cost);
    return rc;
}

int results_finish(struct results *r, char *err)
{
    if (r->ncsv == 0)
        for (size_t i = 0; i < r->nruns; i++)
            for (size_t j = 0; j < r->runs[i].nlevels; j++) {
                struct results_row *row = new_row(r);
                if (!row)
                    return lg_err(err, -ENOMEM, "out of memory");
                *row = r->runs[i].levels[j].row;
            }
    if (r->nrows == 0)
        return lg_err(err, -EINVAL, "no results to show; give a summary CSV (loadgen --out) or a JSON "
                      "result (loadgen --json)");
    if (build_values(r) < 0)
        return lg_err(err, -ENOMEM, "out of memory");
    qsort_r(r->rows, r->nrows, sizeof *r->rows, row_cmp, r);
    drop_repeats(r);
    /* Rows were sorted in value order, so the lists come out the same. */
    if (build_values(r) < 0 || build_groups(r) < 0)
        return lg_err(err, -ENOMEM, "out of memory");
    if (r->ngroups == 0)
        return lg_err(err, -EINVAL, "every level in the input was interrupted or failed; nothing complete "
                      "to show");
    return 0;
}

const struct results_group *results_pick(const struct results *r, const char *label,
                                         const char *region, const char *model,
                                         double at_threads)
{
    const struct results_group *best = NULL;
    int want_open = 1;
    for (size_t i = 0; i < r->ngroups; i++) {
        const struct results_group *g = &r->groups[i];
        if (strcmp(g->label, label) == 0 && strcmp(g->region, region) == 0 &&
            strcmp(g->model, model) == 0 && !g->open_loop)
            want_open = 0;
    }
    for (size_t i = 0; i < r->ngroups; i++) {
        const struct results_group *g = &r->groups[i];
        if (strcmp(g->label, label) || strcmp(g->region, region) || strcmp(g->model, model) ||
            g->open_loop != want_open)
            continue;
        if (at_threads > 0 ? g->level == at_threads : !best || g->level > best->level)
            best = g;
    }
    return best;
}

int results_parse_dim(const char *s, enum results_dim *out)
{
    static const char *const names[] = {"label", "region", "model"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum results_dim)i;
            return 0;
        }
    return -EINVAL;
}
