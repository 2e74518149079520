/*
 * htmlreport.c: `loadgen report RESULTS_DIR -o report.html` (see
 * htmlreport.h): draws the charts as PNGs in a scratch folder with
 * plot_render(), builds the comparison with compare_build(), and writes
 * one page with no outside references: images are data: URIs, the style
 * sheet is inline.
 *
 * Ownership: the scratch folder and its charts are removed before
 * report_main() returns; the page is built in memory and written with
 * fileio_write_atomic, so a failed run never leaves half a report.
 * Single-threaded.
 */
#include "analyze/htmlreport.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze/cmd.h"
#include "base64.h"
#include "common.h"
#include "fileio.h"

#ifndef LOADGEN_VERSION
#define LOADGEN_VERSION "unknown"
#endif

/* A chart is a few hundred KB; anything far bigger is not one of ours. */
#define HTMLREPORT_MAX_CHART_BYTES (64u << 20)

static const char style[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em auto;max-width:1320px;"
    "color:#222;padding:0 1em}"
    "h1{font-size:1.6em}h2{font-size:1.3em;border-bottom:1px solid #ccc;padding-bottom:.2em;"
    "margin-top:2em}h3{font-size:1.05em;margin-bottom:.3em}"
    "table{border-collapse:collapse;margin:.4em 0 1em;font-size:.92em}"
    "th,td{border:1px solid #d0d0d0;padding:.25em .6em}th{background:#f2f2f2;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.base td{background:#f7fbff}.note{color:#666;font-size:.9em}"
    "figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #e0e0e0}"
    "figcaption{color:#555;font-size:.9em}ul.s li{margin:.2em 0}";

void htmlreport_escape(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if ((unsigned char)*s < ' ' || *s == 0x7f)
                fputs("&#xfffd;", f);
            else
                fputc(*s, f);
        }
}

static void esc(FILE *f, const char *s)
{
    htmlreport_escape(f, s);
}

static void td_num(FILE *f, double v, int decimals)
{
    if (isfinite(v))
        fprintf(f, "<td class=\"n\">%.*f</td>", decimals, v);
    else
        fputs("<td class=\"n\">-</td>", f);
}

/* ---- the comparison ----------------------------------------------------- */

static void write_compare(FILE *f, const struct compare_table *t)
{
    fputs("<h2>Comparison</h2>\n<p class=\"note\">Mean over cycles at each one's level; "
          "the interval is the 95% confidence interval of the mean (Student's t). ", f);
    if (t->baseline) {
        fputs("Percentages are against ", f);
        esc(f, t->baseline);
        fputs(".", f);
    }
    fputs("</p>\n", f);
    for (size_t k = 0; k < t->nsections; k++) {
        const struct compare_section *s = &t->sections[k];
        fputs("<h3>", f);
        esc(f, s->key[0]);
        fputs(", ", f);
        esc(f, s->key[1]);
        fprintf(f, "</h3>\n<table><tr><th>%s</th><th>level</th><th>cycles</th>"
                "<th>images/s</th><th>95%% CI</th><th>p50 ms</th><th>p99 ms</th>"
                "<th>images per $</th><th>vs baseline</th></tr>\n", compare_dim_name(t->by));
        int marked = 0;
        for (size_t i = 0; i < s->nrows; i++) {
            const struct compare_row *row = &s->rows[i];
            const struct results_group *g = row->g;
            fprintf(f, "<tr%s><td>", row->is_baseline ? " class=\"base\"" : "");
            esc(f, row->value);
            fprintf(f, "</td><td class=\"n\">%g%s</td><td class=\"n\">%zu</td>", g->level,
                    g->open_loop ? " req/s" : "", g->ips.n);
            td_num(f, g->ips.mean, 1);
            /* Few cycles make wide intervals; a throughput below zero is
             * not a possibility worth printing. */
            if (isfinite(row->ci95))
                fprintf(f, "<td class=\"n\">%.1f &ndash; %.1f</td>",
                        fmax(0, g->ips.mean - row->ci95), g->ips.mean + row->ci95);
            else
                fputs("<td class=\"n\">-</td>", f);
            td_num(f, g->p50_ms.mean, 1);
            td_num(f, g->p99_ms.mean, 1);
            td_num(f, row->per_dollar, 0);
            if (row->is_baseline)
                fputs("<td>baseline</td>", f);
            else if (isfinite(row->pct))
                fprintf(f, "<td class=\"n\">%+.1f%%%s</td>", row->pct,
                        row->overlaps == 1 ? " *" : "");
            else
                fputs("<td class=\"n\">-</td>", f);
            fputs("</tr>\n", f);
            marked |= row->overlaps == 1;
        }
        fputs("</table>\n", f);
        if (marked) {
            fputs("<p class=\"note\">* the 95% intervals overlap ", f);
            esc(f, s->baseline->value);
            fputs("'s: not a clear difference.</p>\n", f);
        }
        int first = 1;
        for (size_t i = 0; i < s->nrows; i++) {
            char line[1024];
            if (compare_sentence(t, s, &s->rows[i], line, sizeof line) < 0)
                continue;
            fputs(first ? "<ul class=\"s\">\n<li>" : "<li>", f);
            esc(f, line);
            fputs("</li>\n", f);
            first = 0;
        }
        if (!first)
            fputs("</ul>\n", f);
    }
}

/* ---- charts ------------------------------------------------------------- */

static int write_png(FILE *f, const char *path, char *err)
{
    FILE *in;
    int rc = results_fopen(path, HTMLREPORT_MAX_CHART_BYTES, &in, err);
    if (rc < 0)
        return rc;
    /* base64 by whole 3-byte groups, so chunks concatenate cleanly. */
    unsigned char buf[3 * 4096];
    char out[4 * 4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(out, 1, base64_encode(buf, n, out), f);
    if (ferror(in))
        rc = lg_err(err, -EIO, "%s: read error", path);
    fclose(in);
    return rc;
}

static int write_charts(FILE *f, const struct plot_out *charts, const char *why_no_charts,
                        char *err)
{
    fputs("<h2>Charts</h2>\n", f);
    if (why_no_charts) {
        fputs("<p class=\"note\">", f);
        esc(f, why_no_charts);
        fputs("</p>\n", f);
    }
    for (size_t i = 0; i < charts->ncharts; i++) {
        const struct plot_chart *c = &charts->charts[i];
        fputs("<figure><img alt=\"", f);
        esc(f, c->title);
        fputs("\" src=\"data:image/png;base64,", f);
        int rc = write_png(f, c->path, err);
        if (rc < 0)
            return rc;
        fputs("\"><figcaption>", f);
        esc(f, c->title);
        fputs("</figcaption></figure>\n", f);
    }
    if (charts->skipped.n) {
        fputs("<p class=\"note\">Not drawn:</p>\n<ul class=\"note\">\n", f);
        for (size_t i = 0; i < charts->skipped.n; i++) {
            fputs("<li>", f);
            esc(f, charts->skipped.v[i]);
            fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    return 0;
}

/* ---- run metadata ------------------------------------------------------- */

/* The rows of one run for one deployment, summarised for the table. */
struct run_info {
    const struct results_row *first; /* earliest row: its stamps and target */
    double lo, hi;                   /* lowest and highest level */
    int cycles, interrupted;
    size_t rows;
};

static int same_run(const struct results_row *a, const struct results_row *b)
{
    return strcmp(a->run_id, b->run_id) == 0 && strcmp(a->label, b->label) == 0 &&
           strcmp(a->region, b->region) == 0 && strcmp(a->model, b->model) == 0;
}

static int by_time(const void *a, const void *b)
{
    const struct run_info *x = a, *y = b;
    int c = strcmp(x->first->timestamp, y->first->timestamp);
    return c ? c : strcmp(x->first->run_id, y->first->run_id);
}

static int write_runs(FILE *f, const struct results *r, char *err)
{
    struct run_info *runs = calloc(r->nrows + 1, sizeof *runs);
    size_t n = 0;
    if (!runs)
        return lg_err(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < r->nrows; i++) {
        const struct results_row *w = &r->rows[i];
        double lv = w->open_loop ? w->rate_rps : w->concurrency;
        size_t k = 0;
        while (k < n && !same_run(runs[k].first, w))
            k++;
        if (k == n)
            runs[n++] = (struct run_info){.first = w, .lo = lv, .hi = lv};
        struct run_info *ri = &runs[k];
        if (strcmp(w->timestamp, ri->first->timestamp) < 0)
            ri->first = w;
        ri->lo = fmin(ri->lo, lv);
        ri->hi = fmax(ri->hi, lv);
        ri->cycles = w->cycle > ri->cycles ? w->cycle : ri->cycles;
        ri->interrupted |= w->interrupted;
        ri->rows++;
    }
    qsort(runs, n, sizeof *runs, by_time);
    fputs("<h2>Runs</h2>\n<table><tr><th>started (UTC)</th><th>run</th><th>label</th>"
          "<th>region</th><th>model</th><th>target</th><th>format</th><th>levels</th>"
          "<th>cycles</th><th>rows</th><th>$/hour</th><th>file</th></tr>\n", f);
    for (size_t k = 0; k < n; k++) {
        const struct run_info *ri = &runs[k];
        const struct results_row *w = ri->first;
        const char *unit = w->open_loop ? " req/s" : " threads";
        const char *cells[] = {w->timestamp, w->run_id, w->label, w->region,
                               w->model, w->target, w->format};
        fputs("<tr>", f);
        for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
            fputs("<td>", f);
            esc(f, cells[c]);
            fputs("</td>", f);
        }
        if (ri->lo == ri->hi)
            fprintf(f, "<td class=\"n\">%g%s</td>", ri->lo, unit);
        else
            fprintf(f, "<td class=\"n\">%g&ndash;%g%s</td>", ri->lo, ri->hi, unit);
        fprintf(f, "<td class=\"n\">%d</td><td class=\"n\">%zu%s</td>", ri->cycles, ri->rows,
                ri->interrupted ? " (interrupted)" : "");
        td_num(f, w->cost_per_hour, 2);
        fputs("<td>", f);
        esc(f, w->source ? w->source : "");
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    free(runs);
    if (r->nruns == 0)
        return 0;
    fputs("<table><tr><th>JSON result</th><th>run</th><th>loadgen</th><th>levels</th></tr>\n",
          f);
    for (size_t i = 0; i < r->nruns; i++) {
        const struct results_run *run = &r->runs[i];
        const char *cells[] = {run->source, run->run_id, run->version};
        fputs("<tr>", f);
        for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
            fputs("<td>", f);
            esc(f, cells[c]);
            fputs("</td>", f);
        }
        fprintf(f, "<td class=\"n\">%zu</td></tr>\n", run->nlevels);
    }
    fputs("</table>\n", f);
    return 0;
}

int htmlreport_write(FILE *f, const struct results *r, const struct compare_table *t,
                     const struct plot_out *charts, const char *why_no_charts, char *err)
{
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime_r(&now, &tm));
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>loadgen report</title>\n<style>%s</style>\n</head>\n<body>\n"
            "<h1>loadgen report</h1>\n<p class=\"note\">Written %s by loadgen %s from %zu "
            "result rows", style, when, LOADGEN_VERSION, r->nrows);
    if (r->nruns)
        fprintf(f, " and %zu JSON result%s", r->nruns, r->nruns == 1 ? "" : "s");
    fputs(".</p>\n", f);
    for (size_t i = 0; i < r->notes.n; i++) {
        fputs("<p class=\"note\">", f);
        esc(f, r->notes.v[i]);
        fputs("</p>\n", f);
    }
    write_compare(f, t);
    int rc;
    if ((rc = write_charts(f, charts, why_no_charts, err)) < 0 || (rc = write_runs(f, r, err)) < 0)
        return rc;
    fputs("</body>\n</html>\n", f);
    return 0;
}

/* ---- command line ------------------------------------------------------- */

static const struct flag report_flags[] = {
    {"out", "o", FLAG_STRING, ANALYZE_O(out), 1, 0, "FILE",
     "the page (default: report.html in the first results folder)"},
    ANALYZE_FLAG_BY,
    ANALYZE_FLAG_BASELINE,
    ANALYZE_FLAG_AT_THREADS,
    ANALYZE_FLAG_LOG,
    ANALYZE_FLAG_QUIET,
    {0},
};

static const struct flag_cmd report_cmd = {
    .name = "loadgen report",
    .usage = "loadgen report [RESULTS_DIR|CSV|JSON ...] [-o report.html]\n"
             "                      [--by label|region|model] [--baseline NAME]\n"
             "                      [--at-threads N] [--log]",
    .about = "One self-contained HTML page: every chart of loadgen plot, the table of\n"
             "loadgen compare and the runs it came from. Default input: results;\n"
             "default output: report.html in the (first) results folder.",
    .flags = report_flags,
};

static void remove_charts(const struct plot_out *out, const char *dir)
{
    for (size_t i = 0; i < out->ncharts; i++)
        unlink(out->charts[i].path);
    rmdir(dir);
}

int report_main(int argc, char **argv)
{
    struct analyze_opts a = {.by = RESULTS_LABEL};
    struct compare_table t = {0};
    struct plot_out charts = {0};
    char err[LG_ERRLEN], tmpdir[256] = "", defout[PATH_MAX];
    char *page = NULL;
    size_t len = 0;
    int rc;
    if (!analyze_parse(&report_cmd, &a, argc, argv, &rc) ||
        !analyze_load(&a, "give a results folder", &rc))
        goto done;
    if (!a.out) {
        snprintf(defout, sizeof defout, "%s/report.html", a.firstdir ? a.firstdir : ".");
        a.out = defout;
    }
    const char *const flags[] = {"-o"};
    const char *const paths[] = {a.out};
    const enum fileio_kind kinds[] = {FILEIO_HTML};
    if (fileio_check_outputs(flags, paths, kinds, 1, err) < 0 ||
        compare_build(a.r, a.by, a.baseline, a.at_threads, &t, err) < 0) {
        rc = analyze_say(&a, LG_EXIT_USAGE, "%s", err);
        goto done;
    }

    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%.200s/loadgen-report.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpdir)) {
        rc = analyze_say(&a, LG_EXIT_FAIL, "%s: cannot create a scratch folder: %s", tmpdir,
                          strerror(errno));
        tmpdir[0] = '\0';
        goto done;
    }
    struct plot_opts po = {.outdir = tmpdir, .format = "png", .at_threads = a.at_threads,
                           .log_scale = a.log_scale};
    const char *why_no_charts = NULL;
    int prc = plot_render(a.r, &po, &charts, err);
    if (prc == -ENOENT) {
        /* The table and the runs are worth sharing without pictures. */
        analyze_say(&a, 0, "%s; writing the report without charts", err);
        why_no_charts = err;
    } else if (prc < 0) {
        rc = analyze_say(&a, LG_EXIT_FAIL, "%s", err);
        goto done;
    }

    /* The page is built in memory and written by fileio's one writer, which
     * never replaces what is not a regular file. */
    FILE *f = open_memstream(&page, &len);
    if (!f) {
        rc = analyze_say(&a, LG_EXIT_FAIL, "out of memory");
        goto done;
    }
    char werr[LG_ERRLEN];
    int wrc = htmlreport_write(f, a.r, &t, &charts, why_no_charts, werr);
    if (fclose(f) != 0 || wrc < 0) {
        rc = analyze_say(&a, LG_EXIT_FAIL, "%s: %s", a.out, wrc < 0 ? werr : "out of memory");
        goto done;
    }
    if (fileio_write_atomic("-o", a.out, page, len, err) < 0) {
        rc = analyze_say(&a, LG_EXIT_FAIL, "%s", err);
        goto done;
    }
    printf("%s\n", a.out);
    rc = LG_EXIT_OK;
done:
    free(page);
    if (*tmpdir)
        remove_charts(&charts, tmpdir);
    plot_out_release(&charts);
    compare_release(&t);
    analyze_done(&a);
    return rc;
}
