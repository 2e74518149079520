/*
 * merge.c: `loadgen merge`. See merge.h for what merges and what is refused.
 *
 * Ownership: each input's cJSON tree stays parsed while the merge lives and
 * the levels' strings point into it. Histograms are decoded only while a
 * level is checked, combined or written, into one reusable struct stats, so
 * merging the results of a hundred pods costs a few MB per combined level,
 * not per input level. The JSON result is written by output.c (one owner
 * for the format) and then given the merge's own fields.
 */
#include "analyze/merge.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "fileio.h"
#include "hist.h"
#include "analyze/results.h"
#include "sbuf.h"
#include "schema.h"
#include "stats.h"

/* Counts above 2^53 cannot be held exactly by a JSON number. */
#define MAX_COUNT 9007199254740992.0

/* One level of one input; strings point into the file's tree. */
struct mlevel {
    struct output_level lv;  /* .st is set only while decoded */
    struct schema_level rec; /* the level's scalars, as read */
    const cJSON *json;       /* the level object */
    size_t index;            /* position in the file's "levels" */
    /* What each client ran: the level's own concurrency and rate, or for a
     * merged result its "client_concurrency" and "client_rate". Levels
     * match on these; lv holds the totals. */
    unsigned client_concurrency;
    double client_rate;
};

struct mfile {
    char *name;
    cJSON *doc;
    const char *run_id;
    double schema;
    int sig;                 /* histogram significant digits */
    const char *unit, *encoding;
    struct mlevel *levels;
    size_t nlevels;
};

/* One client's own figures for a combined level. */
struct mfig {
    uint64_t requests, errors;
    double throughput_rps, images_per_s;
    double p50_ms, p99_ms;
};

/* One combined level: the same level of every input. */
struct mgroup {
    struct output_level lv;
    struct stats *st;
    char *text[5];           /* joined label, region, model, target, format */
    size_t *at;              /* at[f]: this level's index in file f */
    struct mfig *fig;        /* fig[f]: file f's figures */
    cJSON *timeline;
};

struct merge {
    struct mfile *files;
    size_t nfiles, capfiles;
    struct mgroup *groups;
    size_t ngroups;
    struct notes notes;        /* what the merge could not keep */
    char run_id[64];
};

struct merge *merge_create(void)
{
    return calloc(1, sizeof(struct merge));
}

static void file_free(struct mfile *f)
{
    free(f->name);
    cJSON_Delete(f->doc);
    free(f->levels);
}

void merge_destroy(struct merge *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfiles; i++)
        file_free(&m->files[i]);
    free(m->files);
    for (size_t i = 0; i < m->ngroups; i++) {
        struct mgroup *g = &m->groups[i];
        stats_destroy(g->st);
        for (size_t k = 0; k < 5; k++)
            free(g->text[k]);
        free(g->at);
        free(g->fig);
        cJSON_Delete(g->timeline);
    }
    free(m->groups);
    notes_free(&m->notes);
    free(m);
}

/* ---- reading one file ---------------------------------------------------- */

static const cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int missing(const struct mfile *f, size_t lvl, const char *k, const char *what, char *err)
{
    return lg_err(err, -EINVAL, "%s: levels[%zu]: \"%s\" is missing or not %s; the file is not a whole "
                  "loadgen result", f->name, lvl, k, what);
}

/* A class count: a whole number 0 .. 2^53. */
static int read_count(uint64_t *dst, const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > MAX_COUNT ||
        v->valuedouble != floor(v->valuedouble))
        return -EINVAL;
    *dst = (uint64_t)v->valuedouble;
    return 0;
}

/* Fills `st` with the counts and decoded histograms of level `l`, checking
 * that they agree with each other. */
static int level_stats(const struct mfile *f, const struct mlevel *l, struct stats *st, char *err)
{
    const cJSON *o = l->json;
    size_t i = l->index;
    stats_reset(st, 0);
    /* The strict reader checked these are whole numbers up to 2^53. */
    st->requests = (uint64_t)l->rec.requests;
    st->images = (uint64_t)l->rec.images;
    st->images_ok = (uint64_t)l->rec.images_ok;
    st->late_sends = (uint64_t)l->rec.late_sends;
    st->bytes_sent = (uint64_t)l->rec.bytes_sent;
    st->bytes_recv = (uint64_t)l->rec.bytes_recv;
    const cJSON *cl = item(o, SCHEMA_JSON_CLASSES);
    if (!cJSON_IsObject(cl))
        return missing(f, i, SCHEMA_JSON_CLASSES, "an object", err);
    uint64_t sum = 0;
    for (int c = 0; c < CLASS_COUNT; c++) {
        /* Results from before the grpc class have no key for it: none. */
        if (c == CLASS_GRPC && !item(cl, stats_class_name(c)))
            continue;
        if (read_count(&st->by_class[c], cl, stats_class_name(c)) < 0)
            return lg_err(err, -EINVAL, "%s: levels[%zu]: \"classes\" has no count \"%s\"; the file is "
                          "not a whole loadgen result", f->name, i, stats_class_name(c));
        sum += st->by_class[c];
    }
    if (sum != st->requests)
        return lg_err(err, -EINVAL, "%s: levels[%zu]: the classes add up to %llu but requests is %llu; "
                      "the file was edited or is damaged", f->name, i, (unsigned long long)sum,
                      (unsigned long long)st->requests);

    /* gRPC codes, when the level had gRPC replies (none before them). */
    const cJSON *gs = item(o, "grpc_statuses");
    if (gs && !cJSON_IsObject(gs))
        return missing(f, i, "grpc_statuses", "an object", err);
    for (unsigned code = 0; gs && code < STATS_GRPC_CODES; code++)
        if (item(gs, stats_grpc_name(code)) &&
            read_count(&st->by_grpc[code], gs, stats_grpc_name(code)) < 0)
            return lg_err(err, -EINVAL, "%s: levels[%zu]: grpc_statuses.%s is not a whole number; the "
                          "file is damaged", f->name, i, stats_grpc_name(code));

    /* HTTP statuses by code ("0": no reply), each at most its share of
     * the requests; a file without them merges with none. */
    const cJSON *sts = item(o, "statuses");
    if (sts && !cJSON_IsObject(sts))
        return missing(f, i, "statuses", "an object", err);
    const cJSON *sv;
    uint64_t replies = 0;
    cJSON_ArrayForEach(sv, sts)
    {
        char *end;
        errno = 0;
        unsigned long code = strtoul(sv->string, &end, 10);
        if (errno || end == sv->string || *end || code >= STATS_STATUSES ||
            read_count(&st->by_status[code], sts, sv->string) < 0 ||
            (replies += st->by_status[code]) > st->requests)
            return lg_err(err, -EINVAL, "%s: levels[%zu]: statuses has a bad entry \"%.20s\"; the file "
                          "was edited or is damaged", f->name, i, sv->string);
    }

    const cJSON *hs = item(o, SCHEMA_JSON_HISTOGRAMS);
    if (!cJSON_IsObject(hs))
        return missing(f, i, SCHEMA_JSON_HISTOGRAMS, "an object", err);
    for (int h = 0; h < STATS_HIST_COUNT; h++) {
        const char *name = stats_hist_name(h);
        const cJSON *v = item(hs, name);
        struct hist *dec = NULL;
        if (!v && h >= STATS_SERVER) {
            /* Written only when the run measured server time. */
            if (!(dec = hist_create(f->sig)))
                return lg_err(err, -ENOMEM, "%s: out of memory", f->name);
        } else if (!cJSON_IsString(v)) {
            return lg_err(err, -EINVAL, "%s: levels[%zu]: \"histograms\" has no \"%s\"; the file is not "
                          "a whole loadgen result", f->name, i, name);
        } else if (hist_decode(v->valuestring, strlen(v->valuestring), &dec) < 0) {
            return lg_err(err, -EINVAL, "%s: levels[%zu]: histograms.%s does not decode; the file is "
                          "damaged", f->name, i, name);
        } else if (hist_sig(dec) != f->sig) {
            int sig = hist_sig(dec);
            hist_destroy(dec);
            return lg_err(err, -EINVAL, "%s: levels[%zu]: histograms.%s has sig %d but the file's "
                          "\"histogram\" says sig %d; the file is damaged", f->name, i, name, sig,
                          f->sig);
        }
        hist_destroy(st->h[h]);
        st->h[h] = dec;
    }
    /* A request adds one sample to each histogram at most (latency to
     * every one): more samples than requests would be merged into
     * percentiles of requests that never were. */
    for (int h = 0; h < STATS_HIST_COUNT; h++) {
        uint64_t n = hist_count(st->h[h]);
        if (h == STATS_LATENCY ? n != st->requests : n > st->requests)
            return lg_err(err, -EINVAL, "%s: levels[%zu]: the %s histogram holds %llu samples but "
                          "requests is %llu; the file was edited or is damaged", f->name, i,
                          stats_hist_name(h), (unsigned long long)n,
                          (unsigned long long)st->requests);
    }
    if (st->images_ok > st->images)
        return lg_err(err, -EINVAL, "%s: levels[%zu]: images_ok (%llu) is more than images (%llu); the "
                      "file was edited or is damaged", f->name, i,
                      (unsigned long long)st->images_ok, (unsigned long long)st->images);
    st->first_start_us = l->lv.start_wall_us;
    st->last_end_us = l->lv.end_wall_us;
    return 0;
}

static int timeline_check(const struct mfile *f, size_t i, const cJSON *tl, char *err)
{
    static const char *const keys[] = {"t", "completions", "errors", "p50_ms", "p99_ms"};
    if (!cJSON_IsArray(tl))
        return missing(f, i, "timeline", "an array", err);
    const cJSON *e;
    cJSON_ArrayForEach(e, tl)
    {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const cJSON *v = item(e, keys[k]);
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e9 ||
                (k < 3 && v->valuedouble != floor(v->valuedouble)))
                return lg_err(err, -EINVAL, "%s: levels[%zu]: a timeline entry has no \"%s\" or a bad "
                              "one; the file is not a whole loadgen result", f->name, i, keys[k]);
        }
    }
    return 0;
}

static int same_level(const struct mlevel *a, const struct mlevel *b)
{
    return a->lv.open_loop == b->lv.open_loop && a->client_concurrency == b->client_concurrency &&
           a->client_rate == b->client_rate && a->lv.cycle == b->lv.cycle;
}

/* A level as each client ran it. */
static const char *level_desc(const struct mlevel *l, char *buf, size_t len)
{
    if (l->lv.open_loop)
        snprintf(buf, len, "open %.6g req/s (%u in flight at most), cycle %u", l->client_rate,
                 l->client_concurrency, l->lv.cycle);
    else
        snprintf(buf, len, "closed %u in flight, cycle %u", l->client_concurrency, l->lv.cycle);
    return buf;
}

/* A count the strict reader let through, as the unsigned a output_level
 * holds. */
static int to_unsigned(unsigned *dst, double v, const char *k, const struct mfile *f, size_t i,
                       char *err)
{
    if (v > UINT32_MAX)
        return missing(f, i, k, "a count below 2^32", err);
    *dst = (unsigned)v;
    return 0;
}

static int level_read(struct mfile *f, struct mlevel *l, const cJSON *o, size_t i,
                      struct stats *scratch, char *err)
{
    struct output_level *lv = &l->lv;
    struct schema_level *rec = &l->rec;
    char where[LG_ERRLEN / 2];
    l->json = o;
    l->index = i;
    snprintf(where, sizeof where, "%s: levels[%zu]", f->name, i);
    int rc = schema_json_read(rec, o, SCHEMA_READ_STRICT, where, err);
    if (rc < 0)
        return rc;
    lv->run_id = f->run_id;
    lv->label = rec->label;
    lv->region = rec->region;
    lv->model = rec->model;
    lv->target = rec->target;
    lv->format = rec->format;
    lv->slo = rec->slo;
    lv->open_loop = strcmp(rec->mode, "open") == 0;
    lv->rate = rec->rate;
    lv->start_wall_us = (int64_t)rec->start_wall_us;
    lv->end_wall_us = (int64_t)rec->end_wall_us;
    lv->interrupted = strcmp(rec->status, SCHEMA_STATUS_INTERRUPTED) == 0;
    lv->unstable = strcmp(rec->status, SCHEMA_STATUS_UNSTABLE) == 0;
    lv->under_rate = strcmp(rec->status, SCHEMA_STATUS_UNDER_RATE) == 0;
    lv->cost_per_hour = isnan(rec->cost_per_hour) ? -1 : rec->cost_per_hour;
    if ((rc = to_unsigned(&lv->concurrency, rec->concurrency, "concurrency", f, i, err)) < 0 ||
        (rc = to_unsigned(&lv->cycle, rec->cycle, "cycle", f, i, err)) < 0 ||
        (!isnan(rec->windows) &&
         (rc = to_unsigned(&lv->windows, rec->windows, "windows", f, i, err)) < 0))
        return rc;
    /* What each client ran: a merged result's own client level, else the
     * level itself. */
    l->client_concurrency = lv->concurrency;
    l->client_rate = lv->rate;
    if (!isnan(rec->client_concurrency) &&
        (rc = to_unsigned(&l->client_concurrency, rec->client_concurrency, "client_concurrency",
                          f, i, err)) < 0)
        return rc;
    if (!isnan(rec->client_rate))
        l->client_rate = rec->client_rate;
    if (lv->end_wall_us < lv->start_wall_us)
        return lg_err(err, -EINVAL, "%s: levels[%zu]: end_wall_us is before start_wall_us; the file was "
                      "edited or is damaged", f->name, i);
    lv->test_no = (unsigned)i + 1;
    if ((rc = timeline_check(f, i, item(o, SCHEMA_JSON_TIMELINE), err)) < 0)
        return rc;
    return level_stats(f, l, scratch, err);
}

/* Whether file f holds run `run_id`: its own, or for a merged result one
 * it was merged from (levels[].clients[].run_id). */
static int holds_run(const struct mfile *f, const char *run_id)
{
    if (strcmp(f->run_id, run_id) == 0)
        return 1;
    const cJSON *l, *c;
    cJSON_ArrayForEach(l, item(f->doc, "levels"))
    {
        cJSON_ArrayForEach(c, item(l, "clients"))
        {
            const cJSON *rid = item(c, "run_id");
            if (cJSON_IsString(rid) && strcmp(rid->valuestring, run_id) == 0)
                return 1;
        }
    }
    return 0;
}

/* A run that both files hold (merging them would count it twice), or NULL. */
static const char *shared_run(const struct mfile *a, const struct mfile *b)
{
    if (holds_run(a, b->run_id))
        return b->run_id;
    const cJSON *l, *c;
    cJSON_ArrayForEach(l, item(b->doc, "levels"))
    {
        cJSON_ArrayForEach(c, item(l, "clients"))
        {
            const cJSON *rid = item(c, "run_id");
            if (cJSON_IsString(rid) && holds_run(a, rid->valuestring))
                return rid->valuestring;
        }
    }
    return NULL;
}

/* The file-wide fields, each checked against the first input. */
static int file_header(const struct merge *m, struct mfile *f, char *err)
{
    const struct mfile *f0 = m->nfiles ? &m->files[0] : NULL;
    const cJSON *ver = item(f->doc, "schema_version"), *levels = item(f->doc, "levels");
    if (!cJSON_IsNumber(ver) || !cJSON_IsArray(levels))
        return lg_err(err, -EINVAL, "%s: no schema_version or levels; give a file written by loadgen "
                      "--json", f->name);
    f->schema = ver->valuedouble;
    if (f0 && f->schema != f0->schema)
        return lg_err(err, -EINVAL, "%s and %s: different schema versions (%g vs %g); results from the "
                      "same loadgen version merge", f0->name, f->name, f0->schema, f->schema);
    if (f->schema != 1)
        return lg_err(err, -EINVAL, "%s: schema_version %g; this loadgen merges version 1: merge with the "
                      "loadgen that wrote it", f->name, f->schema);

    const cJSON *hg = item(f->doc, "histogram");
    const cJSON *unit = item(hg, "unit"), *sig = item(hg, "sig"), *enc = item(hg, "encoding");
    if (!cJSON_IsString(unit) || !cJSON_IsNumber(sig) || !cJSON_IsString(enc))
        return lg_err(err, -EINVAL, "%s: no \"histogram\" settings (unit, sig, encoding); the file is not "
                      "a whole loadgen result", f->name);
    f->unit = unit->valuestring;
    f->encoding = enc->valuestring;
    f->sig = sig->valuedouble >= 1 && sig->valuedouble <= 5 ? (int)sig->valuedouble : 0;
    if (f0 && f->sig != f0->sig)
        return lg_err(err, -EINVAL, "%s and %s: different histogram settings (sig %d vs %d); results from "
                      "the same loadgen version merge", f0->name, f->name, f0->sig, f->sig);
    if (f0 && (strcmp(f->unit, f0->unit) || strcmp(f->encoding, f0->encoding)))
        return lg_err(err, -EINVAL, "%s and %s: different histogram settings (%s/%s vs %s/%s); results "
                      "from the same loadgen version merge", f0->name, f->name, f0->unit,
                      f0->encoding, f->unit, f->encoding);
    if (strcmp(f->unit, "us") || strcmp(f->encoding, "v1") || f->sig == 0)
        return lg_err(err, -EINVAL, "%s: histograms in %s, encoding %s, sig %g; this loadgen reads us, v1, "
                      "sig 1..5: merge with the loadgen that wrote it", f->name, f->unit,
                      f->encoding, sig->valuedouble);

    const cJSON *rid = item(f->doc, "run_id");
    if (!cJSON_IsString(rid))
        return lg_err(err, -EINVAL, "%s: no run_id; the file is not a whole loadgen result", f->name);
    f->run_id = rid->valuestring;
    for (size_t i = 0; i < m->nfiles; i++) {
        const char *twice = shared_run(&m->files[i], f);
        if (twice && strcmp(twice, m->files[i].run_id) == 0 && strcmp(twice, f->run_id) == 0)
            return lg_err(err, -EINVAL, "%s and %s: the same run (run_id %s); give each client's result "
                          "once", m->files[i].name, f->name, f->run_id);
        if (twice)
            return lg_err(err, -EINVAL, "%s and %s: both hold run %s (one is a merge that includes it); "
                          "give each client's result once", m->files[i].name, f->name, twice);
    }
    if (cJSON_GetArraySize(levels) == 0)
        return lg_err(err, -EINVAL, "%s: no levels; did the run finish a level?", f->name);
    return 0;
}

int merge_add_text(struct merge *m, const char *name, const char *text, size_t len, char *err)
{
    struct mfile f = {0};
    struct stats *scratch = NULL;
    int rc;
    if (sbuf_grow((void **)&m->files, &m->capfiles, m->nfiles + 1, sizeof *m->files) < 0)
        return lg_err(err, -ENOMEM, "%s: out of memory", name);
    if (!(f.name = strdup(name)) || !(scratch = stats_create(0, 0))) {
        rc = lg_err(err, -ENOMEM, "%s: out of memory", name);
        goto done;
    }
    if (!(f.doc = cJSON_ParseWithLength(text, len))) {
        const char *at = cJSON_GetErrorPtr();
        if (len == 0)
            rc = lg_err(err, -EINVAL, "%s: empty file; give a file written by loadgen --json", name);
        else
            rc = lg_err(err, -EINVAL, "%s: not JSON (error near byte %td); give a file written by "
                        "loadgen --json", name, at && at >= text && at <= text + len ? at - text : (ptrdiff_t)0);
        goto done;
    }
    if ((rc = file_header(m, &f, err)) < 0)
        goto done;
    const cJSON *levels = item(f.doc, "levels"), *e;
    if (!(f.levels = calloc((size_t)cJSON_GetArraySize(levels), sizeof *f.levels))) {
        rc = lg_err(err, -ENOMEM, "%s: out of memory", name);
        goto done;
    }
    cJSON_ArrayForEach(e, levels)
    {
        struct mlevel *l = &f.levels[f.nlevels];
        if ((rc = level_read(&f, l, e, f.nlevels, scratch, err)) < 0)
            goto done;
        for (size_t k = 0; k < f.nlevels; k++)
            if (same_level(&f.levels[k], l)) {
                char d[96];
                rc = lg_err(err, -EINVAL, "%s: levels[%zu] and levels[%zu] are both %s; a result "
                            "to merge holds each level once", name, k, f.nlevels,
                            level_desc(l, d, sizeof d));
                goto done;
            }
        f.nlevels++;
    }
    m->files[m->nfiles++] = f;
    memset(&f, 0, sizeof f);
    rc = 0;
done:
    file_free(&f);
    stats_destroy(scratch);
    return rc;
}

int merge_add_file(struct merge *m, const char *path, char *err)
{
    size_t len;
    char *text;
    int rc = results_check_file(path, RESULTS_MAX_BYTES, err);
    if (rc < 0 || (rc = fileio_read(NULL, path, RESULTS_MAX_BYTES, &text, &len, err)) < 0)
        return rc;
    rc = merge_add_text(m, path, text, len, err);
    free(text);
    return rc;
}

/* ---- combining ----------------------------------------------------------- */

static const struct mlevel *member(const struct merge *m, const struct mgroup *g, size_t f)
{
    return &m->files[f].levels[g->at[f]];
}

static const char *text_field(const struct output_level *lv, size_t field)
{
    const char *v[] = {lv->label, lv->region, lv->model, lv->target, lv->format};
    return v[field];
}

/* The distinct non-empty values of one text field, in input order, joined
 * with '+': "eastus+westeurope". */
static char *joined(const struct merge *m, const struct mgroup *g, size_t field)
{
    size_t cap = 1;
    for (size_t f = 0; f < m->nfiles; f++)
        cap += strlen(text_field(&member(m, g, f)->lv, field)) + 1;
    char *out = calloc(1, cap);
    if (!out)
        return NULL;
    size_t len = 0;
    for (size_t f = 0; f < m->nfiles; f++) {
        const char *s = text_field(&member(m, g, f)->lv, field);
        size_t seen = 0;
        while (seen < f && strcmp(text_field(&member(m, g, seen)->lv, field), s) != 0)
            seen++;
        if (!*s || seen < f)
            continue;
        if (len)
            out[len++] = '+';
        memcpy(out + len, s, strlen(s) + 1);
        len += strlen(s);
    }
    return out;
}

static void iso_ms(int64_t wall_us, char *buf, size_t len)
{
    time_t t = (time_t)(wall_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char s[32];
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", s, (int)(wall_us % 1000000 / 1000));
}

/* Every file has every level of the first file and no other. */
static int match_levels(struct merge *m, char *err)
{
    const struct mfile *f0 = &m->files[0];
    char d[96];
    if (!(m->groups = calloc(f0->nlevels, sizeof *m->groups)))
        return lg_err(err, -ENOMEM, "out of memory");
    for (size_t j = 0; j < f0->nlevels; j++) {
        struct mgroup *g = &m->groups[m->ngroups++];
        if (!(g->at = calloc(m->nfiles, sizeof *g->at)) ||
            !(g->fig = calloc(m->nfiles, sizeof *g->fig)))
            return lg_err(err, -ENOMEM, "out of memory");
        const struct mlevel *want = &f0->levels[j];
        for (size_t f = 1; f < m->nfiles; f++) {
            const struct mfile *fi = &m->files[f];
            size_t k = 0;
            while (k < fi->nlevels && !same_level(&fi->levels[k], want))
                k++;
            if (k == fi->nlevels)
                return lg_err(err, -EINVAL, "%s and %s: %s has level %s and %s does not; merge results "
                              "of one plan (the same --threads or --rate, and --cycles, on "
                              "every client)", f0->name, fi->name, f0->name,
                              level_desc(want, d, sizeof d), fi->name);
            g->at[f] = k;
        }
        g->at[0] = j;
    }
    for (size_t f = 1; f < m->nfiles; f++) {
        const struct mfile *fi = &m->files[f];
        for (size_t k = 0; k < fi->nlevels; k++) {
            size_t j = 0;
            while (j < f0->nlevels && !same_level(&f0->levels[j], &fi->levels[k]))
                j++;
            if (j == f0->nlevels)
                return lg_err(err, -EINVAL, "%s and %s: %s has level %s and %s does not; merge results "
                              "of one plan (the same --threads or --rate, and --cycles, on "
                              "every client)", f0->name, fi->name, fi->name,
                              level_desc(&fi->levels[k], d, sizeof d), f0->name);
        }
    }
    return 0;
}

/* Windows overlap pairwise exactly when the latest start is not after the
 * earliest end; name the two files that prove it otherwise. */
static int check_window(const struct merge *m, const struct mgroup *g, char *err)
{
    size_t late = 0, early = 0;
    for (size_t f = 1; f < m->nfiles; f++) {
        if (member(m, g, f)->lv.start_wall_us > member(m, g, late)->lv.start_wall_us)
            late = f;
        if (member(m, g, f)->lv.end_wall_us < member(m, g, early)->lv.end_wall_us)
            early = f;
    }
    const struct mlevel *a = member(m, g, early), *b = member(m, g, late);
    if (b->lv.start_wall_us <= a->lv.end_wall_us)
        return 0;
    char d[96], ends[40], starts[40];
    iso_ms(a->lv.end_wall_us, ends, sizeof ends);
    iso_ms(b->lv.start_wall_us, starts, sizeof starts);
    return lg_err(err, -EINVAL, "%s and %s: level %s did not run at the same time (%s ended at %s, %s "
                  "started at %s); start every client with the same --start-at",
                  m->files[early].name, m->files[late].name, level_desc(a, d, sizeof d),
                  m->files[early].name, ends, m->files[late].name, starts);
}

/* Seconds of each client's timeline land on the merged timeline's second
 * nearest in wall-clock time; see merge.h for the percentiles. */
static int merge_timeline(const struct merge *m, struct mgroup *g)
{
    size_t len = 0;
    long long *off = calloc(m->nfiles, sizeof *off);
    if (!off)
        return -ENOMEM;
    for (size_t f = 0; f < m->nfiles; f++) {
        const struct mlevel *l = member(m, g, f);
        off[f] = llround((double)(l->lv.start_wall_us - g->lv.start_wall_us) / 1e6);
        const cJSON *e;
        cJSON_ArrayForEach(e, item(l->json, "timeline"))
        {
            size_t at = (size_t)item(e, "t")->valuedouble + (size_t)off[f] + 1;
            len = at > len ? at : len;
        }
    }
    double *v = calloc(len ? 4 * len : 1, sizeof *v);
    cJSON *tl = cJSON_CreateArray();
    int rc = -ENOMEM;
    if (!v || !tl)
        goto done;
    for (size_t f = 0; f < m->nfiles; f++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, item(member(m, g, f)->json, "timeline"))
        {
            double *s = v + 4 * ((size_t)item(e, "t")->valuedouble + (size_t)off[f]);
            s[0] += item(e, "completions")->valuedouble;
            s[1] += item(e, "errors")->valuedouble;
            s[2] = fmax(s[2], item(e, "p50_ms")->valuedouble);
            s[3] = fmax(s[3], item(e, "p99_ms")->valuedouble);
        }
    }
    for (size_t i = 0; i < len; i++) {
        cJSON *pt = cJSON_CreateObject();
        if (!pt)
            goto done;
        cJSON_AddItemToArray(tl, pt);
        if (!cJSON_AddNumberToObject(pt, "t", (double)i) ||
            !cJSON_AddNumberToObject(pt, "completions", v[4 * i]) ||
            !cJSON_AddNumberToObject(pt, "errors", v[4 * i + 1]) ||
            !cJSON_AddNumberToObject(pt, "p50_ms", v[4 * i + 2]) ||
            !cJSON_AddNumberToObject(pt, "p99_ms", v[4 * i + 3]))
            goto done;
    }
    g->timeline = tl;
    tl = NULL;
    rc = 0;
done:
    cJSON_Delete(tl);
    free(v);
    free(off);
    return rc;
}

/* The cost of the deployment: the value the clients that know it agree on. */
static int merge_cost(struct merge *m, struct mgroup *g)
{
    double cost = -1;
    size_t from = 0;
    char d[96];
    for (size_t f = 0; f < m->nfiles; f++) {
        double c = member(m, g, f)->lv.cost_per_hour;
        if (c < 0)
            continue;
        if (cost >= 0 && c != cost) {
            g->lv.cost_per_hour = -1;
            return notes_add(&m->notes, "level %s: %s says cost_per_hour %g and %s says %g; the merged "
                             "level has no cost", level_desc(member(m, g, 0), d, sizeof d),
                             m->files[from].name, cost, m->files[f].name, c);
        }
        cost = c;
        from = f;
    }
    g->lv.cost_per_hour = cost;
    return 0;
}

static int combine(struct merge *m, struct mgroup *g, struct stats *scratch, char *err)
{
    const struct mlevel *first = member(m, g, 0);
    char d[96];
    int sig = m->files[0].sig;
    if (!(g->st = stats_create(0, 0)))
        return lg_err(err, -ENOMEM, "out of memory");
    for (int h = 0; h < STATS_HIST_COUNT; h++) {
        if (hist_sig(g->st->h[h]) == sig)
            continue;
        hist_destroy(g->st->h[h]);
        if (!(g->st->h[h] = hist_create(sig)))
            return lg_err(err, -ENOMEM, "out of memory");
    }
    g->lv = first->lv;
    g->lv.run_id = m->run_id;
    g->lv.test_no = (unsigned)(g - m->groups) + 1;
    g->lv.client_concurrency = first->client_concurrency;
    g->lv.client_rate = first->client_rate;
    g->lv.st = g->st;
    /* The server saw every client's requests in flight at once. */
    g->lv.concurrency = 0;
    g->lv.rate = 0;
    for (size_t k = 0; k < 5; k++)
        if (!(g->text[k] = joined(m, g, k)))
            return lg_err(err, -ENOMEM, "out of memory");
    g->lv.label = g->text[0];
    g->lv.region = g->text[1];
    g->lv.model = g->text[2];
    g->lv.target = g->text[3];
    g->lv.format = g->text[4];
    for (size_t f = 0; f < m->nfiles; f++) {
        const struct mlevel *l = member(m, g, f);
        int rc = level_stats(&m->files[f], l, scratch, err);
        if (rc < 0)
            return rc;
        struct output_level lv = l->lv;
        struct output_figures fig;
        lv.st = scratch;
        output_figures(&lv, &fig);
        g->fig[f] = (struct mfig){
            .requests = scratch->requests,
            .errors = stats_errors(scratch),
            .throughput_rps = fig.throughput_rps,
            .images_per_s = fig.images_per_s,
            .p50_ms = (double)hist_percentile(scratch->h[STATS_LATENCY], 50) / 1000.0,
            .p99_ms = (double)hist_percentile(scratch->h[STATS_LATENCY], 99) / 1000.0,
        };
        if (stats_merge(g->st, scratch) < 0)
            return lg_err(err, -ENOMEM, "%s: out of memory", m->files[f].name);
        if ((double)g->st->requests > MAX_COUNT || (double)g->st->images > MAX_COUNT ||
            (double)g->st->bytes_recv > MAX_COUNT || (double)g->st->bytes_sent > MAX_COUNT)
            return lg_err(err, -EINVAL, "%s: level %s: the merged counts pass 2^53, more than a JSON "
                          "result holds exactly; merge fewer results at once",
                          m->files[f].name, level_desc(l, d, sizeof d));
        g->lv.interrupted |= l->lv.interrupted;
        g->lv.unstable |= l->lv.unstable;
        g->lv.under_rate |= l->lv.under_rate;
        g->lv.concurrency += l->lv.concurrency;
        g->lv.rate += l->lv.rate;
        if (l->lv.start_wall_us < g->lv.start_wall_us)
            g->lv.start_wall_us = l->lv.start_wall_us;
        if (l->lv.end_wall_us > g->lv.end_wall_us)
            g->lv.end_wall_us = l->lv.end_wall_us;
    }
    if (merge_cost(m, g) < 0 || merge_timeline(m, g) < 0)
        return lg_err(err, -ENOMEM, "out of memory");
    return 0;
}

int merge_finish(struct merge *m, char *err)
{
    if (m->nfiles == 0)
        return lg_err(err, -EINVAL, "no results to merge; give the files written by loadgen --json");
    int rc = match_levels(m, err);
    for (size_t j = 0; j < m->ngroups && rc == 0; j++)
        rc = check_window(m, &m->groups[j], err);
    if (rc < 0)
        return rc;
    struct stats *scratch = stats_create(0, 0);
    if (!scratch)
        return lg_err(err, -ENOMEM, "out of memory");
    output_run_id(m->run_id, sizeof m->run_id);
    for (size_t j = 0; j < m->ngroups && rc == 0; j++)
        rc = combine(m, &m->groups[j], scratch, err);
    stats_destroy(scratch);
    return rc;
}

size_t merge_nlevels(const struct merge *m)
{
    return m->ngroups;
}

const struct output_level *merge_level(const struct merge *m, size_t i)
{
    return i < m->ngroups ? &m->groups[i].lv : NULL;
}

const struct notes *merge_notes(const struct merge *m)
{
    return &m->notes;
}

/* ---- writing ------------------------------------------------------------- */

static cJSON *clients_json(const struct merge *m, const struct mgroup *g)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t f = 0; arr && f < m->nfiles; f++) {
        const struct output_level *lv = &member(m, g, f)->lv;
        const struct mfig *fg = &g->fig[f];
        cJSON *c = cJSON_CreateObject();
        if (!c || !cJSON_AddItemToArray(arr, c)) {
            cJSON_Delete(c);
            break;
        }
        if (!cJSON_AddStringToObject(c, "source", m->files[f].name) ||
            !cJSON_AddStringToObject(c, "run_id", lv->run_id) ||
            !cJSON_AddStringToObject(c, "label", lv->label) ||
            !cJSON_AddStringToObject(c, "region", lv->region) ||
            !cJSON_AddNumberToObject(c, "concurrency", lv->concurrency) ||
            !cJSON_AddNumberToObject(c, "rate", lv->rate) ||
            !cJSON_AddNumberToObject(c, "start_wall_us", (double)lv->start_wall_us) ||
            !cJSON_AddNumberToObject(c, "end_wall_us", (double)lv->end_wall_us) ||
            !cJSON_AddNumberToObject(c, "requests", (double)fg->requests) ||
            !cJSON_AddNumberToObject(c, "errors", (double)fg->errors) ||
            !cJSON_AddNumberToObject(c, "throughput_rps", fg->throughput_rps) ||
            !cJSON_AddNumberToObject(c, "images_per_s", fg->images_per_s) ||
            !cJSON_AddNumberToObject(c, "p50_ms", fg->p50_ms) ||
            !cJSON_AddNumberToObject(c, "p99_ms", fg->p99_ms))
            break;
        if (f + 1 == m->nfiles)
            return arr;
    }
    cJSON_Delete(arr);
    return NULL;
}

/* The merge's own members of combined level g: the client level later
 * merges match on, the timeline of wall-clock seconds and each client. */
static cJSON *level_extra(const struct merge *m, const struct mgroup *g)
{
    cJSON *x = cJSON_CreateObject();
    cJSON *tl = cJSON_Duplicate(g->timeline, 1), *clients = clients_json(m, g);
    if (!x || !tl || !cJSON_AddItemToObject(x, SCHEMA_JSON_TIMELINE, tl)) {
        cJSON_Delete(tl);
        goto fail;
    }
    if (!clients || !cJSON_AddItemToObject(x, "clients", clients)) {
        cJSON_Delete(clients);
        goto fail;
    }
    if (!cJSON_AddStringToObject(x, "timeline_percentiles", "max_of_clients"))
        goto fail;
    return x;
fail:
    cJSON_Delete(x);
    return NULL;
}

int merge_write_json(const struct merge *m, const char *path, char *err)
{
    struct output_json *j = output_json_create("-o", path, m->run_id);
    const char **names = malloc(m->nfiles * sizeof *names);
    int rc = j && names ? 0 : -ENOMEM;
    for (size_t f = 0; rc == 0 && f < m->nfiles; f++)
        names[f] = m->files[f].name;
    if (rc == 0)
        rc = output_json_set(j, "merged_from", cJSON_CreateStringArray(names, (int)m->nfiles));
    for (size_t i = 0; i < m->ngroups && rc == 0; i++) {
        cJSON *extra = level_extra(m, &m->groups[i]);
        rc = extra ? output_json_append(j, &m->groups[i].lv, extra) : -ENOMEM;
    }
    if (rc < 0)
        rc = lg_err(err, -ENOMEM, "-o %s: out of memory", path);
    else
        rc = output_json_write(j, err);
    free(names);
    output_json_destroy(j);
    return rc;
}

int merge_write_csv(const struct merge *m, const char *path, char *err)
{
    struct stats *scratch = stats_create(0, 0);
    if (!scratch)
        return lg_err(err, -ENOMEM, "--csv %s: out of memory", path);
    int rc = 0;
    for (size_t j = 0; j < m->ngroups && rc == 0; j++) {
        const struct mgroup *g = &m->groups[j];
        for (size_t f = 0; f < m->nfiles && rc == 0; f++) {
            const struct mlevel *l = member(m, g, f);
            struct output_level lv = l->lv;
            lv.st = scratch;
            if ((rc = level_stats(&m->files[f], l, scratch, err)) == 0)
                rc = output_csv_append_as("--csv", path, &lv, err);
        }
        if (rc == 0)
            rc = output_csv_append_as("--csv", path, &g->lv, err);
    }
    stats_destroy(scratch);
    return rc;
}

void merge_write_text(const struct merge *m, FILE *out)
{
    for (size_t j = 0; j < m->ngroups; j++) {
        const struct mgroup *g = &m->groups[j];
        output_text(out, &g->lv);
        for (size_t f = 0; f < m->nfiles; f++) {
            const struct output_level *lv = &member(m, g, f)->lv;
            const struct mfig *fg = &g->fig[f];
            fprintf(out, "  from %s (%s%s%s): %llu requests, %.1f req/s, p50 %.2f  p99 %.2f ms\n",
                    m->files[f].name, *lv->label ? lv->label : "-", *lv->region ? ", " : "",
                    lv->region, (unsigned long long)fg->requests, fg->throughput_rps, fg->p50_ms,
                    fg->p99_ms);
        }
    }
}
