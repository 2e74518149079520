/*
 * report.c: result writers. See report.h for the file-safety rules.
 * Called from the run's main thread between levels, never on the request
 * path, so formatting and allocation here cost nothing measured.
 */
#include "report.h"

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

static const char csv_header[] =
    "run_id,timestamp,label,region,model,target,format,mode,concurrency,rate,cycle,requests,ok,"
    "errors,timeouts,duration_s,throughput_rps,images_per_s,lat_mean_ms,lat_p50_ms,lat_p90_ms,"
    "lat_p95_ms,lat_p99_ms,lat_p999_ms,lat_max_ms,ttfb_p50_ms,connect_p50_ms,bytes_sent,"
    "bytes_recv,cost_per_hour,cost_per_1k_images,images_per_dollar,status,images,late_sends,"
    "server_p50_ms,network_p50_ms,lat_uncorrected_p99_ms,windows,slo\n";

static const char requests_header[] =
    "offset_ms,level,image,status,class,latency_ms,ttfb_ms,connect_ms,bytes_sent,bytes_recv\n";

static const char history_header[] =
    "TestNo,TestCountTotal,ThreadCount,Records,Failures,AITime,TotalTime,RPS,MaxRecords,MinRecords\n";

/* A growable text buffer for one write(). */
struct buf {
    char *p;
    size_t len, cap;
    int failed;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static double ms(uint64_t us) { return (double)us / 1000.0; }

static double pct_ms(const struct stats *st, enum stats_hist h, double p)
{
    return ms(hist_percentile(st->h[h], p));
}

const char *report_status(const struct report_level *lv)
{
    return lv->interrupted ? "interrupted" : lv->unstable ? "unstable" : "complete";
}

void report_figures(const struct report_level *lv, struct report_figures *f)
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

/* Text fields go into CSV cells: no separators, quotes or line breaks. */
static void cell(struct buf *b, const char *s)
{
    for (; s && *s; s++)
        bprintf(b, "%c", (*s == ',' || *s == '"' || *s == '\n' || *s == '\r') ? '_' : *s);
}

static void opt_num(struct buf *b, double v, const char *fmt)
{
    if (!isnan(v))
        bprintf(b, fmt, v);
}

static void iso_time(int64_t wall_us, char *out, size_t len)
{
    time_t t = (time_t)(wall_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Append `b` to `path` in one write() under an exclusive flock, with
 * `header` first when the file is empty. */
static int append_locked(const char *path, const char *header, struct buf *b, const char *what,
                         char *err)
{
    if (b->failed)
        return lg_err(err, "%s %s: out of memory formatting results", what, path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0)
        return lg_err(err, "%s %s: cannot open: %s", what, path, strerror(errno));
    int rc = 0;
    struct stat st;
    if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
        rc = lg_err(err, "%s %s: cannot lock: %s", what, path, strerror(errno));
        goto out;
    }
    /* Prepend the header into the same write so that a reader never sees a
     * header without its first row, or two headers. */
    if (st.st_size == 0) {
        size_t hl = strlen(header);
        char *p = malloc(hl + b->len);
        if (!p) {
            rc = lg_err(err, "%s %s: out of memory", what, path);
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
            rc = lg_err(err, "%s %s: write failed: %s", what, path,
                        n < 0 ? strerror(errno) : "no space written");
            /* Leave no partial row behind: cut the file back. */
            if (ftruncate(fd, st.st_size) != 0)
                break;
            break;
        }
        off += (size_t)n;
    }
    if (rc == 0 && fsync(fd) != 0 && errno != EINVAL)
        rc = lg_err(err, "%s %s: cannot flush to disk: %s", what, path, strerror(errno));
out:
    close(fd);
    return rc;
}

int report_csv_append(const char *path, const struct report_level *lv, char *err)
{
    const struct stats *st = lv->st;
    struct report_figures f;
    report_figures(lv, &f);
    char ts[32];
    iso_time(lv->start_wall_us, ts, sizeof ts);
    struct buf b = {0};
    cell(&b, lv->run_id);
    bprintf(&b, ",%s,", ts);
    cell(&b, lv->label);
    bprintf(&b, ",");
    cell(&b, lv->region);
    bprintf(&b, ",");
    cell(&b, lv->model);
    bprintf(&b, ",");
    cell(&b, lv->target);
    bprintf(&b, ",%s,%s,%u,%.6g,%u,", lv->format, lv->open_loop ? "open" : "closed",
            lv->concurrency, lv->rate, lv->cycle);
    bprintf(&b, "%llu,%llu,%llu,%llu,%.6f,%.3f,%.3f,", (unsigned long long)st->requests,
            (unsigned long long)st->by_class[CLASS_OK], (unsigned long long)stats_errors(st),
            (unsigned long long)st->by_class[CLASS_TIMEOUT], f.duration_s, f.throughput_rps,
            f.images_per_s);
    bprintf(&b, "%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,",
            hist_mean(st->h[STATS_LATENCY]) / 1000.0, pct_ms(st, STATS_LATENCY, 50),
            pct_ms(st, STATS_LATENCY, 90), pct_ms(st, STATS_LATENCY, 95),
            pct_ms(st, STATS_LATENCY, 99), pct_ms(st, STATS_LATENCY, 99.9),
            ms(hist_max(st->h[STATS_LATENCY])), pct_ms(st, STATS_TTFB, 50),
            pct_ms(st, STATS_CONNECT, 50));
    bprintf(&b, "%llu,%llu,", (unsigned long long)st->bytes_sent,
            (unsigned long long)st->bytes_recv);
    opt_num(&b, lv->cost_per_hour >= 0 ? lv->cost_per_hour : NAN, "%.4f");
    bprintf(&b, ",");
    opt_num(&b, f.cost_per_1k_images, "%.6f");
    bprintf(&b, ",");
    opt_num(&b, f.images_per_dollar, "%.1f");
    bprintf(&b, ",%s,%llu,%llu,", report_status(lv),
            (unsigned long long)st->images, (unsigned long long)st->late_sends);
    if (hist_count(st->h[STATS_SERVER]))
        bprintf(&b, "%.3f,%.3f", pct_ms(st, STATS_SERVER, 50), pct_ms(st, STATS_NETWORK, 50));
    else
        bprintf(&b, ",");
    bprintf(&b, ",%.3f,%u,%s\n", pct_ms(st, STATS_LATENCY_UNCORRECTED, 99), lv->windows,
            lv->slo ? lv->slo : "");
    int rc = append_locked(path, csv_header, &b, "--out", err);
    free(b.p);
    return rc;
}

int report_requests_append(const char *path, const struct report_level *lv, char *err)
{
    const struct stats *st = lv->st;
    struct buf b = {0};
    double level = lv->open_loop ? lv->rate : lv->concurrency;
    for (size_t i = 0; i < st->nlog; i++) {
        const struct stats_request *r = &st->log[i];
        bprintf(&b, "%.3f,%.6g,%u,%u,%s,%.3f,%.3f,%.3f,%llu,%llu\n", r->offset_us / 1000.0, level,
                r->image, r->status, stats_class_name(r->class_), ms(r->latency_us),
                ms(r->ttfb_us), ms(r->connect_us), (unsigned long long)r->bytes_sent,
                (unsigned long long)r->bytes_recv);
    }
    int rc = 0;
    if (b.len || st->nlog == 0)
        rc = append_locked(path, requests_header, &b, "--requests-log", err);
    free(b.p);
    return rc;
}

int report_history_append(const char *path, const struct report_level *lv, char *err)
{
    const struct stats *st = lv->st;
    struct report_figures f;
    report_figures(lv, &f);
    struct buf b = {0};
    /* AITime is the old harness's mean latency in seconds. */
    bprintf(&b, "%u,%u,%u,%llu,%llu,%.6f,%.6f,%.3f,%llu,%llu\n", lv->test_no, lv->cycle,
            lv->concurrency, (unsigned long long)st->requests, (unsigned long long)stats_errors(st),
            hist_mean(st->h[STATS_LATENCY]) / 1e6, f.duration_s, f.throughput_rps,
            (unsigned long long)lv->slot_max, (unsigned long long)lv->slot_min);
    int rc = append_locked(path, history_header, &b, "--history", err);
    free(b.p);
    return rc;
}

void report_text(FILE *out, const struct report_level *lv)
{
    const struct stats *st = lv->st;
    struct report_figures f;
    report_figures(lv, &f);
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
    fprintf(out, "  throughput     %.1f req/s, %.1f images/s\n", f.throughput_rps, f.images_per_s);
    fprintf(out, "  latency ms     mean %.2f  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
            hist_mean(st->h[STATS_LATENCY]) / 1000.0, pct_ms(st, STATS_LATENCY, 50),
            pct_ms(st, STATS_LATENCY, 90), pct_ms(st, STATS_LATENCY, 95),
            pct_ms(st, STATS_LATENCY, 99), pct_ms(st, STATS_LATENCY, 99.9),
            ms(hist_max(st->h[STATS_LATENCY])));
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
    }
    if (!isnan(f.cost_per_1k_images))
        fprintf(out, "  cost           $%.5f per 1000 images, %.0f images per $\n",
                f.cost_per_1k_images, f.images_per_dollar);
}

/* ---- JSON --------------------------------------------------------------- */

struct report_json {
    const char *flag; /* names the file in messages: "--json", "-o" */
    char *path;
    cJSON *root;
    cJSON *levels;
};

struct report_json *report_json_create(const char *flag, const char *path, const char *run_id)
{
    struct report_json *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path)) || !(j->root = cJSON_CreateObject()))
        goto fail;
    j->flag = flag;
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
    report_json_destroy(j);
    return NULL;
}

void report_json_destroy(struct report_json *j)
{
    if (!j)
        return;
    cJSON_Delete(j->root);
    free(j->path);
    free(j);
}

static void add_num_or_null(cJSON *o, const char *k, double v)
{
    if (isnan(v))
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, v);
}

static cJSON *level_json(const struct report_level *lv)
{
    const struct stats *st = lv->st;
    struct report_figures f;
    report_figures(lv, &f);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", lv->label);
    cJSON_AddStringToObject(o, "region", lv->region);
    cJSON_AddStringToObject(o, "model", lv->model);
    cJSON_AddStringToObject(o, "target", lv->target);
    cJSON_AddStringToObject(o, "format", lv->format);
    if (lv->engine)
        cJSON_AddStringToObject(o, "engine", lv->engine);
    cJSON_AddStringToObject(o, "mode", lv->open_loop ? "open" : "closed");
    cJSON_AddNumberToObject(o, "concurrency", lv->concurrency);
    cJSON_AddNumberToObject(o, "rate", lv->rate);
    cJSON_AddNumberToObject(o, "cycle", lv->cycle);
    cJSON_AddStringToObject(o, "status", report_status(lv));
    cJSON_AddNumberToObject(o, "windows", lv->windows);
    if (lv->slo && *lv->slo)
        cJSON_AddStringToObject(o, "slo", lv->slo);
    cJSON_AddNumberToObject(o, "start_wall_us", (double)lv->start_wall_us);
    cJSON_AddNumberToObject(o, "end_wall_us", (double)lv->end_wall_us);
    cJSON_AddNumberToObject(o, "duration_s", f.duration_s);
    cJSON_AddNumberToObject(o, "requests", (double)st->requests);
    cJSON_AddNumberToObject(o, "images", (double)st->images);
    cJSON_AddNumberToObject(o, "images_ok", (double)st->images_ok);
    cJSON_AddNumberToObject(o, "ok", (double)st->by_class[CLASS_OK]);
    cJSON_AddNumberToObject(o, "errors", (double)stats_errors(st));
    cJSON *cl = cJSON_AddObjectToObject(o, "classes");
    for (int c = 0; c < CLASS_COUNT; c++)
        cJSON_AddNumberToObject(cl, stats_class_name(c), (double)st->by_class[c]);
    cJSON_AddNumberToObject(o, "late_sends", (double)st->late_sends);
    cJSON_AddNumberToObject(o, "bytes_sent", (double)st->bytes_sent);
    cJSON_AddNumberToObject(o, "bytes_recv", (double)st->bytes_recv);
    cJSON_AddNumberToObject(o, "throughput_rps", f.throughput_rps);
    cJSON_AddNumberToObject(o, "images_per_s", f.images_per_s);
    cJSON *lat = cJSON_AddObjectToObject(o, "latency_ms");
    cJSON_AddNumberToObject(lat, "mean", hist_mean(st->h[STATS_LATENCY]) / 1000.0);
    static const struct { const char *k; double p; } ps[] = {
        {"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}, {"p999", 99.9}};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        cJSON_AddNumberToObject(lat, ps[i].k, pct_ms(st, STATS_LATENCY, ps[i].p));
    cJSON_AddNumberToObject(lat, "max", ms(hist_max(st->h[STATS_LATENCY])));
    add_num_or_null(o, "cost_per_hour", lv->cost_per_hour >= 0 ? lv->cost_per_hour : NAN);
    add_num_or_null(o, "cost_per_1k_images", f.cost_per_1k_images);
    add_num_or_null(o, "images_per_dollar", f.images_per_dollar);

    /* HDR-style spectrum: each step halves the distance left to 100%. */
    cJSON *spec = cJSON_AddArrayToObject(o, "percentiles");
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

    cJSON *hs = cJSON_AddObjectToObject(o, "histograms");
    for (int i = 0; i < STATS_HIST_COUNT; i++) {
        char *enc = NULL;
        if (hist_count(st->h[i]) == 0 && i >= STATS_SERVER)
            continue;
        if (hist_encode(st->h[i], &enc) == 0)
            cJSON_AddStringToObject(hs, stats_hist_name(i), enc);
        free(enc);
    }

    cJSON *tl = cJSON_AddArrayToObject(o, "timeline");
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
}

int report_json_append(struct report_json *j, const struct report_level *lv)
{
    cJSON *o = level_json(lv);
    if (!o)
        return -ENOMEM;
    cJSON_AddItemToArray(j->levels, o);
    return 0;
}

cJSON *report_json_root(struct report_json *j)
{
    return j->root;
}

int report_json_write(struct report_json *j, char *err)
{
    char *text = cJSON_Print(j->root);
    if (!text)
        return lg_err(err, "%s %s: out of memory", j->flag, j->path);
    int rc = fileio_write_atomic(j->flag, j->path, text, strlen(text), err);
    free(text);
    return rc;
}

int report_json_add(struct report_json *j, const struct report_level *lv, char *err)
{
    if (report_json_append(j, lv) < 0)
        return lg_err(err, "%s %s: out of memory", j->flag, j->path);
    return report_json_write(j, err);
}

void report_run_id(char *buf, size_t len)
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
