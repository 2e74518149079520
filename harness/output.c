/*
 * output.c: result writers. See output.h for the file-safety rules.
 * Called from the run's main thread between levels, never on the request
 * path, so formatting and allocation here cost nothing measured.
 */
#include "output.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "fileio.h"
#include "schema.h"

static const char requests_header[] =
    "offset_ms,level,image,status,class,latency_ms,ttfb_ms,connect_ms,bytes_sent,bytes_recv,"
    "cycle,label,wall_time\n";

static const char history_header[] =
    "TestNo,TestCountTotal,ThreadCount,Records,Failures,AITime,TotalTime,RPS,MaxRecords,MinRecords\n";

static double ms(uint64_t us) { return (double)us / 1000.0; }

static double pct_ms(const struct stats *st, enum stats_hist h, double p)
{
    return ms(hist_percentile(st->h[h], p));
}

const char *output_status(const struct output_level *lv)
{
    const struct stats *st = lv->st;
    /* No request succeeded: there is no throughput or latency of the
     * service to report, whatever else happened. */
    if (st->requests > 0 && st->by_class[CLASS_OK] == 0)
        return SCHEMA_STATUS_FAILED;
    return lv->interrupted  ? SCHEMA_STATUS_INTERRUPTED
           : lv->unstable   ? SCHEMA_STATUS_UNSTABLE
           : lv->under_rate ? SCHEMA_STATUS_UNDER_RATE
                            : SCHEMA_STATUS_COMPLETE;
}

void output_figures(const struct output_level *lv, struct output_figures *f)
{
    const struct stats *st = lv->st;
    f->duration_s = stats_duration_s(st);
    f->throughput_rps = f->duration_s > 0 ? (double)st->requests / f->duration_s : 0;
    f->images_per_s = f->duration_s > 0 ? (double)st->images_ok / f->duration_s : 0;
    f->cost_per_1k_images = f->images_per_dollar = NAN;
    if (lv->cost_per_hour >= 0 && f->images_per_s > 0) {
        double per_hour = f->images_per_s * 3600.0;
        f->cost_per_1k_images = lv->cost_per_hour / per_hour * 1000.0;
        if (lv->cost_per_hour > 0)
            f->images_per_dollar = per_hour / lv->cost_per_hour;
    }
}

static void iso_time(int64_t wall_us, char *out, size_t len)
{
    time_t t = (time_t)(wall_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* With milliseconds: the requests log tells requests apart within a second. */
static void iso_time_ms(int64_t wall_us, char *out, size_t len)
{
    char s[32];
    iso_time(wall_us - wall_us % 1000000, s, sizeof s);
    s[strlen(s) - 1] = '\0';
    snprintf(out, len, "%s.%03dZ", s, (int)(wall_us % 1000000 / 1000));
}

void output_record(const struct output_level *lv, char ts[32], struct schema_level *rec)
{
    const struct stats *st = lv->st;
    struct output_figures f;
    output_figures(lv, &f);
    iso_time(lv->start_wall_us, ts, 32);
    schema_level_init(rec);
    rec->run_id = lv->run_id;
    rec->timestamp = ts;
    rec->label = lv->label;
    rec->region = lv->region;
    rec->model = lv->model;
    rec->target = lv->target;
    rec->format = lv->format;
    rec->mode = lv->open_loop ? "open" : "closed";
    rec->status = output_status(lv);
    rec->slo = lv->slo ? lv->slo : "";
    rec->engine = lv->engine ? lv->engine : "";
    rec->concurrency = lv->concurrency;
    rec->rate = lv->rate;
    rec->cycle = lv->cycle;
    rec->requests = (double)st->requests;
    rec->ok = (double)st->by_class[CLASS_OK];
    rec->errors = (double)stats_errors(st);
    rec->timeouts = (double)st->by_class[CLASS_TIMEOUT];
    rec->images = (double)st->images;
    rec->images_ok = (double)st->images_ok;
    rec->late_sends = (double)st->late_sends;
    rec->duration_s = f.duration_s;
    rec->throughput_rps = f.throughput_rps;
    rec->images_per_s = f.images_per_s;
    rec->lat_mean_ms = hist_mean(st->h[STATS_LATENCY]) / 1000.0;
    rec->lat_p50_ms = pct_ms(st, STATS_LATENCY, 50);
    rec->lat_p90_ms = pct_ms(st, STATS_LATENCY, 90);
    rec->lat_p95_ms = pct_ms(st, STATS_LATENCY, 95);
    rec->lat_p99_ms = pct_ms(st, STATS_LATENCY, 99);
    rec->lat_p999_ms = pct_ms(st, STATS_LATENCY, 99.9);
    rec->lat_max_ms = ms(hist_max(st->h[STATS_LATENCY]));
    rec->ttfb_p50_ms = pct_ms(st, STATS_TTFB, 50);
    rec->connect_p50_ms = pct_ms(st, STATS_CONNECT, 50);
    if (hist_count(st->h[STATS_SERVER])) {
        rec->server_p50_ms = pct_ms(st, STATS_SERVER, 50);
        rec->network_p50_ms = pct_ms(st, STATS_NETWORK, 50);
    }
    rec->lat_uncorrected_p99_ms = pct_ms(st, STATS_LATENCY_UNCORRECTED, 99);
    rec->bytes_sent = (double)st->bytes_sent;
    rec->bytes_recv = (double)st->bytes_recv;
    rec->cost_per_hour = lv->cost_per_hour >= 0 ? lv->cost_per_hour : NAN;
    rec->cost_per_1k_images = f.cost_per_1k_images;
    rec->images_per_dollar = f.images_per_dollar;
    rec->windows = lv->windows;
    rec->start_wall_us = (double)lv->start_wall_us;
    rec->end_wall_us = (double)lv->end_wall_us;
    if (lv->client_concurrency) {
        rec->client_concurrency = lv->client_concurrency;
        rec->client_rate = lv->client_rate;
    }
    /* The latency of failures is how fast the service said no: it would
     * rank a dead deployment first. */
    if (schema_failed(rec))
        for (size_t i = 0; i < schema_ncols; i++)
            if (schema_cols[i].flags & SCHEMA_FIGURE)
                *(double *)((char *)rec + schema_cols[i].off) = NAN;
}

/* Non-regular targets ("-", a FIFO, a terminal) cannot be checked for
 * emptiness, so each header goes to each of them once per process. The
 * state is as process-wide as the stdout it guards. */
static struct headed {
    dev_t dev;
    ino_t ino;
    const char *what; /* the flag: one header per output */
} headed[8];
static size_t nheaded;

static int header_due(const struct stat *st, const char *what)
{
    for (size_t i = 0; i < nheaded; i++)
        if (headed[i].dev == st->st_dev && headed[i].ino == st->st_ino &&
            strcmp(headed[i].what, what) == 0)
            return 0;
    if (nheaded < sizeof headed / sizeof headed[0])
        headed[nheaded++] = (struct headed){st->st_dev, st->st_ino, what};
    return 1;
}

/* Append `b` to `path` in one write() under an exclusive flock, with
 * `header` first when the file is empty. "-" is stdout; it and any other
 * file that is not a regular one get a plain write (no lock, truncation
 * or fsync, which they do not support). */
static int append_locked(const char *path, const char *header, struct sbuf *b,
                         const char *what, char *err)
{
    if (b->failed)
        return lg_err(err, -ENOMEM, "%s %s: out of memory formatting results", what, path);
    int to_stdout = strcmp(path, "-") == 0;
    /* O_NONBLOCK for the open only: a FIFO nobody reads fails at once
     * (ENXIO) instead of hanging the run after its level. */
    int fd = to_stdout ? STDOUT_FILENO
                       : open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0666);
    if (fd < 0)
        return lg_err(err, -errno, "%s %s: cannot open: %s", what, path,
                      errno == ENXIO ? "a FIFO that nothing reads" : strerror(errno));
    if (!to_stdout)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int rc = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = lg_err(err, -errno, "%s %s: cannot open: %s", what, path, strerror(errno));
        goto out;
    }
    int regular = S_ISREG(st.st_mode) && !to_stdout;
    if (regular && (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0)) {
        rc = lg_err(err, -errno, "%s %s: cannot lock: %s", what, path, strerror(errno));
        goto out;
    }
    /* Prepend the header into the same write so that a reader never sees a
     * header without its first row, or two headers. */
    if (regular ? st.st_size == 0 : header_due(&st, what)) {
        size_t hl = strlen(header);
        char *p = malloc(hl + b->len);
        if (!p) {
            rc = lg_err(err, -ENOMEM, "%s %s: out of memory", what, path);
            goto out;
        }
        memcpy(p, header, hl);
        memcpy(p + hl, b->p, b->len);
        free(b->p);
        b->p = p;
        b->len += hl;
        b->cap = b->len;
    }
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(fd, b->p + off, b->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = lg_err(err, n < 0 ? -errno : -ENOSPC, "%s %s: write failed: %s", what, path,
                        n < 0 ? strerror(errno) : "no space written");
            /* Leave no partial row behind: cut the file back. */
            if (regular && ftruncate(fd, st.st_size) != 0)
                break;
            break;
        }
        off += (size_t)n;
    }
    if (rc == 0 && regular && fsync(fd) != 0 && errno != EINVAL)
        rc = lg_err(err, -errno, "%s %s: cannot flush to disk: %s", what, path, strerror(errno));
out:
    if (!to_stdout)
        close(fd);
    return rc;
}

int output_csv_append_as(const char *flag, const char *path, const struct output_level *lv,
                         char *err)
{
    struct schema_level rec;
    char ts[32];
    struct sbuf b = {0}, h = {0};
    output_record(lv, ts, &rec);
    schema_csv_row(&b, &rec);
    schema_csv_header(&h);
    int rc = h.failed ? lg_err(err, -ENOMEM, "%s %s: out of memory", flag, path)
                      : append_locked(path, h.p, &b, flag, err);
    free(h.p);
    free(b.p);
    return rc;
}

int output_csv_append(const char *path, const struct output_level *lv, char *err)
{
    return output_csv_append_as("--out", path, lv, err);
}

int output_requests_append(const char *path, const struct output_level *lv, char *err)
{
    const struct stats *st = lv->st;
    struct sbuf b = {0}, label = {0};
    double level = lv->open_loop ? lv->rate : lv->concurrency;
    /* Completion times are monotonic from the level's origin; the level's
     * first send is on both clocks. */
    int64_t wall_origin = lv->start_wall_us - st->first_start_us + st->origin_us;
    schema_csv_text(&label, lv->label);
    sbuf_printf(&label, "%s", ""); /* a label of "" still needs a string */
    for (size_t i = 0; i < st->nlog; i++) {
        const struct stats_request *r = &st->log[i];
        char wall[40];
        iso_time_ms(wall_origin + r->offset_us, wall, sizeof wall);
        sbuf_printf(&b, "%.3f,%.6g,%u,%u,%s,%.3f,%.3f,%.3f,%llu,%llu,%u,%s,%s\n",
                       r->offset_us / 1000.0, level, r->image, r->status,
                       stats_class_name(r->class_), ms(r->latency_us), ms(r->ttfb_us),
                       ms(r->connect_us), (unsigned long long)r->bytes_sent,
                       (unsigned long long)r->bytes_recv, lv->cycle, label.p ? label.p : "",
                       wall);
    }
    b.failed |= label.failed;
    int rc = 0;
    if (b.len || st->nlog == 0)
        rc = append_locked(path, requests_header, &b, "--requests-log", err);
    free(label.p);
    free(b.p);
    return rc;
}

int output_history_append(const char *path, const struct output_level *lv, char *err)
{
    const struct stats *st = lv->st;
    struct output_figures f;
    output_figures(lv, &f);
    struct sbuf b = {0};
    /* AITime is the old harness's mean latency in seconds. */
    sbuf_printf(&b, "%u,%u,%u,%llu,%llu,%.6f,%.6f,%.3f,%llu,%llu\n", lv->test_no, lv->cycle,
            lv->concurrency, (unsigned long long)st->requests, (unsigned long long)stats_errors(st),
            hist_mean(st->h[STATS_LATENCY]) / 1e6, f.duration_s, f.throughput_rps,
            (unsigned long long)lv->slot_max, (unsigned long long)lv->slot_min);
    int rc = append_locked(path, history_header, &b, "--history", err);
    free(b.p);
    return rc;
}

void output_text(FILE *out, const struct output_level *lv)
{
    const struct stats *st = lv->st;
    struct output_figures f;
    output_figures(lv, &f);
    fprintf(out, "%s%s%s%s%s%s -> %s\n", *lv->label ? lv->label : "run", *lv->region ? " (" : "",
            lv->region, *lv->region ? ")" : "", *lv->model ? " " : "", lv->model, lv->target);
    if (lv->open_loop)
        fprintf(out, "  open loop      %.6g req/s (at most %u in flight), cycle %u%s\n", lv->rate,
                lv->concurrency, lv->cycle, lv->interrupted ? ", INTERRUPTED" : "");
    else
        fprintf(out, "  closed loop    %u in flight, cycle %u%s\n", lv->concurrency, lv->cycle,
                lv->interrupted ? ", INTERRUPTED" : "");
    if (lv->engine)
        fprintf(out, "  engine         %s\n", lv->engine);
    if (lv->windows)
        fprintf(out, "  windows        %u measured, %s (the last %u reported)\n", lv->windows,
                lv->unstable ? "NOT stable" : "stable", lv->windows < 3 ? lv->windows : 3);
    if (lv->slo && *lv->slo)
        fprintf(out, "  slo            %s\n", lv->slo);
    fprintf(out, "  requests       %llu (ok %llu, errors %llu) in %.3f s\n",
            (unsigned long long)st->requests, (unsigned long long)st->by_class[CLASS_OK],
            (unsigned long long)stats_errors(st), f.duration_s);
    if (strcmp(output_status(lv), SCHEMA_STATUS_FAILED) == 0) {
        /* How fast errors came back says nothing about the service. */
        fprintf(out, "  throughput     - (FAILED: no request succeeded; no throughput or latency)\n");
    } else {
        /* A GET carries no image: images/s would only repeat req/s. */
        if (strcmp(lv->format, "none") == 0)
            fprintf(out, "  throughput     %.1f req/s\n", f.throughput_rps);
        else
            fprintf(out, "  throughput     %.1f req/s, %.1f images/s\n", f.throughput_rps,
                    f.images_per_s);
        fprintf(out, "  latency ms     mean %.2f  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
                hist_mean(st->h[STATS_LATENCY]) / 1000.0, pct_ms(st, STATS_LATENCY, 50),
                pct_ms(st, STATS_LATENCY, 90), pct_ms(st, STATS_LATENCY, 95),
                pct_ms(st, STATS_LATENCY, 99), pct_ms(st, STATS_LATENCY, 99.9),
                ms(hist_max(st->h[STATS_LATENCY])));
    }
    if (lv->open_loop)
        fprintf(out, "  uncorrected    p50 %.2f  p99 %.2f ms (from the actual send); late sends %llu\n",
                pct_ms(st, STATS_LATENCY_UNCORRECTED, 50), pct_ms(st, STATS_LATENCY_UNCORRECTED, 99),
                (unsigned long long)st->late_sends);
    fprintf(out, "  ttfb p50       %.2f ms   connect p50 %.2f ms (%llu new connections)\n",
            pct_ms(st, STATS_TTFB, 50), pct_ms(st, STATS_CONNECT, 50),
            (unsigned long long)hist_count(st->h[STATS_CONNECT]));
    if (hist_count(st->h[STATS_SERVER]))
        fprintf(out, "  server time    p50 %.2f  p99 %.2f ms; network + queue p50 %.2f  p99 %.2f ms\n",
                pct_ms(st, STATS_SERVER, 50), pct_ms(st, STATS_SERVER, 99),
                pct_ms(st, STATS_NETWORK, 50), pct_ms(st, STATS_NETWORK, 99));
    if (stats_errors(st)) {
        fprintf(out, "  errors        ");
        for (int c = 1; c < CLASS_COUNT; c++)
            if (st->by_class[c])
                fprintf(out, " %s %llu", stats_class_name(c), (unsigned long long)st->by_class[c]);
        fputc('\n', out);
        /* Which statuses, not only which class: a 404 is a wrong URL, a
         * 503 an overloaded server. */
        int any = 0;
        for (size_t code = 1; code < STATS_STATUSES; code++)
            if (st->by_status[code] && (code < 200 || code > 299)) {
                fprintf(out, "%s %zu x%llu", any ? "," : "  statuses      ", code,
                        (unsigned long long)st->by_status[code]);
                any = 1;
            }
        if (any)
            fputc('\n', out);
        /* gRPC codes that were not OK, by name and number. */
        any = 0;
        for (unsigned code = 1; code < STATS_GRPC_CODES; code++)
            if (st->by_grpc[code]) {
                fprintf(out, "%s %s", any ? "," : "  grpc statuses ", stats_grpc_name(code));
                if (code != STATS_GRPC_OTHER)
                    fprintf(out, "(%u)", code);
                fprintf(out, " x%llu", (unsigned long long)st->by_grpc[code]);
                any = 1;
            }
        if (any)
            fputc('\n', out);
        if (st->by_class[CLASS_TLS])
            fprintf(out, "  hint           TLS failed: --cacert FILE trusts the server's CA, "
                         "--insecure (-k) skips the check\n");
        for (size_t i = 0; i < st->nerrmsg; i++) {
            char msg[STATS_ERRMSG_LEN];
            snprintf(msg, sizeof msg, "%s", st->errmsg[i].text);
            fprintf(out, "  %s %s (x%llu)\n", i ? "              " : "first errors  ",
                    lg_printable(msg), (unsigned long long)st->errmsg[i].count);
        }
    }
    if (!isnan(f.cost_per_1k_images))
        fprintf(out, "  cost           $%.5f per 1000 images, %.0f images per $\n",
                f.cost_per_1k_images, f.images_per_dollar);
}

/* ---- JSON --------------------------------------------------------------- */

struct output_json {
    const char *flag; /* names the file in messages: "--json", "-o" */
    char *path;
    cJSON *root;
    cJSON *levels;
    int stream;       /* stdout, a FIFO or a device: written once, at the end */
    int pending;      /* levels added since the last write */
};

/* A reader of stdout or a FIFO takes what comes as one stream: a result
 * rewritten after every level would reach it as several documents. */
static int is_stream(const char *path)
{
    struct stat st;
    return fileio_is_stdout(path) || (stat(path, &st) == 0 && !S_ISREG(st.st_mode));
}

struct output_json *output_json_create(const char *flag, const char *path, const char *run_id)
{
    struct output_json *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path)) || !(j->root = cJSON_CreateObject()))
        goto fail;
    j->flag = flag;
    j->stream = is_stream(path);
    cJSON_AddNumberToObject(j->root, "schema_version", 1);
    cJSON_AddStringToObject(j->root, "tool", "loadgen");
    cJSON_AddStringToObject(j->root, "version", LOADGEN_VERSION);
    cJSON_AddStringToObject(j->root, "run_id", run_id);
    cJSON *h = cJSON_AddObjectToObject(j->root, "histogram");
    cJSON_AddStringToObject(h, "unit", "us");
    cJSON_AddNumberToObject(h, "sig", 3);
    cJSON_AddStringToObject(h, "encoding", "v1");
    if (!(j->levels = cJSON_AddArrayToObject(j->root, "levels")))
        goto fail;
    return j;
fail:
    output_json_destroy(j);
    return NULL;
}

void output_json_destroy(struct output_json *j)
{
    if (!j)
        return;
    cJSON_Delete(j->root);
    free(j->path);
    free(j);
}

static cJSON *level_json(const struct output_level *lv)
{
    const struct stats *st = lv->st;
    struct schema_level rec;
    char ts[32];
    output_record(lv, ts, &rec);
    cJSON *o = cJSON_CreateObject();
    if (!o || schema_json_level(o, &rec) < 0)
        goto fail;
    cJSON *cl = cJSON_AddObjectToObject(o, SCHEMA_JSON_CLASSES);
    for (int c = 0; c < CLASS_COUNT; c++)
        cJSON_AddNumberToObject(cl, stats_class_name(c), (double)st->by_class[c]);
    cJSON *sts = cJSON_AddObjectToObject(o, "statuses");
    for (size_t code = 0; code < STATS_STATUSES; code++)
        if (st->by_status[code]) {
            char k[8];
            snprintf(k, sizeof k, "%zu", code);
            cJSON_AddNumberToObject(sts, k, (double)st->by_status[code]);
        }
    /* Written when the level had gRPC replies: codes by name, OK included. */
    cJSON *gs = NULL;
    for (unsigned code = 0; code < STATS_GRPC_CODES; code++)
        if (st->by_grpc[code] && (gs || (gs = cJSON_AddObjectToObject(o, "grpc_statuses"))))
            cJSON_AddNumberToObject(gs, stats_grpc_name(code), (double)st->by_grpc[code]);
    cJSON *msgs = cJSON_AddArrayToObject(o, "error_messages");
    for (size_t i = 0; i < st->nerrmsg; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "message", st->errmsg[i].text);
        cJSON_AddNumberToObject(m, "count", (double)st->errmsg[i].count);
        cJSON_AddItemToArray(msgs, m);
    }

    /* HDR-style spectrum: each step halves the distance left to 100%. */
    cJSON *spec = cJSON_AddArrayToObject(o, SCHEMA_JSON_PERCENTILES);
    if (hist_count(st->h[STATS_LATENCY])) {
        for (double rest = 100.0; 100.0 - rest < 99.9995; rest /= 2) {
            cJSON *pt = cJSON_CreateObject();
            cJSON_AddNumberToObject(pt, "p", 100.0 - rest);
            cJSON_AddNumberToObject(pt, "ms", pct_ms(st, STATS_LATENCY, 100.0 - rest));
            cJSON_AddItemToArray(spec, pt);
        }
        cJSON *pt = cJSON_CreateObject();
        cJSON_AddNumberToObject(pt, "p", 100.0);
        cJSON_AddNumberToObject(pt, "ms", ms(hist_max(st->h[STATS_LATENCY])));
        cJSON_AddItemToArray(spec, pt);
    }

    cJSON *hs = cJSON_AddObjectToObject(o, SCHEMA_JSON_HISTOGRAMS);
    for (int i = 0; i < STATS_HIST_COUNT; i++) {
        char *enc = NULL;
        if (hist_count(st->h[i]) == 0 && i >= STATS_SERVER)
            continue;
        if (hist_encode(st->h[i], &enc) == 0)
            cJSON_AddStringToObject(hs, stats_hist_name(i), enc);
        free(enc);
    }

    cJSON *tl = cJSON_AddArrayToObject(o, SCHEMA_JSON_TIMELINE);
    for (size_t i = 0; i < st->nseconds; i++) {
        const struct stats_second *sc = &st->seconds[i];
        cJSON *pt = cJSON_CreateObject();
        cJSON_AddNumberToObject(pt, "t", (double)i);
        cJSON_AddNumberToObject(pt, "completions", (double)sc->completions);
        cJSON_AddNumberToObject(pt, "errors", (double)sc->errors);
        cJSON_AddNumberToObject(pt, "p50_ms", sc->latency ? ms(hist_percentile(sc->latency, 50)) : 0);
        cJSON_AddNumberToObject(pt, "p99_ms", sc->latency ? ms(hist_percentile(sc->latency, 99)) : 0);
        cJSON_AddItemToArray(tl, pt);
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* Puts `it` at `key` of `o`, replacing what is there; frees it on failure. */
static int put(cJSON *o, const char *key, cJSON *it)
{
    if (!it)
        return -ENOMEM;
    cJSON_bool done = cJSON_GetObjectItemCaseSensitive(o, key)
                          ? cJSON_ReplaceItemInObjectCaseSensitive(o, key, it)
                          : cJSON_AddItemToObject(o, key, it);
    if (!done) {
        cJSON_Delete(it);
        return -ENOMEM;
    }
    return 0;
}

int output_json_append(struct output_json *j, const struct output_level *lv, cJSON *extra)
{
    cJSON *o = level_json(lv), *e;
    int rc = o ? 0 : -ENOMEM;
    /* The file says what its histograms are: those of the levels in it. */
    cJSON *sig = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j->root, "histogram"), "sig");
    if (o && sig)
        cJSON_SetNumberValue(sig, hist_sig(lv->st->h[STATS_LATENCY]));
    while (rc == 0 && extra && (e = extra->child)) {
        cJSON_DetachItemViaPointer(extra, e);
        char *key = e->string;
        int owned = !(e->type & cJSON_StringIsConst);
        e->string = NULL;
        e->type &= ~cJSON_StringIsConst;
        rc = put(o, key, e);
        if (owned)
            cJSON_free(key);
    }
    cJSON_Delete(extra);
    if (rc == 0 && !cJSON_AddItemToArray(j->levels, o))
        rc = -ENOMEM;
    if (rc < 0)
        cJSON_Delete(o);
    return rc;
}

int output_json_set(struct output_json *j, const char *key, cJSON *value)
{
    return put(j->root, key, value);
}

int output_json_write(struct output_json *j, char *err)
{
    char *text = cJSON_Print(j->root);
    if (!text)
        return lg_err(err, -ENOMEM, "%s %s: out of memory", j->flag, j->path);
    int rc = fileio_write_atomic(j->flag, j->path, text, strlen(text), err);
    free(text);
    return rc;
}

int output_json_add(struct output_json *j, const struct output_level *lv, char *err)
{
    if (output_json_append(j, lv, NULL) < 0)
        return lg_err(err, -ENOMEM, "%s %s: out of memory", j->flag, j->path);
    j->pending = 1;
    return j->stream ? 0 : output_json_finish(j, err);
}

int output_json_finish(struct output_json *j, char *err)
{
    if (!j || !j->pending)
        return 0;
    j->pending = 0;
    return output_json_write(j, err);
}

void output_run_id(char *buf, size_t len)
{
    int64_t now = lg_wall_us();
    char ts[32];
    time_t t = (time_t)(now / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    unsigned tag = (unsigned)((now % 1000000) ^ ((uint64_t)getpid() << 12)) & 0xffffff;
    snprintf(buf, len, "%s-%06x", ts, tag);
}
