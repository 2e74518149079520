/*
 * plot.c: `loadgen plot`: the command line, and plot_render(), which sets
 * up the output and scratch folders and calls the chart builders in chart
 * order (chartlines.c, chartbars.c). The scripts in scripts/gnuplot hold
 * the look of the charts; the builders decide what goes in each (which
 * groups, which level, which colours) and write it down as data.
 *
 * Ownership: plot_render() fills a plot_out the caller releases; the
 * scratch folder is removed before it returns. Single-threaded.
 */
#include "plot.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chart.h"
#include "common.h"
#include "gnuplot.h"

/* ---- driver ------------------------------------------------------------- */

static int mkdir_p(const char *path, char *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return lg_err(err, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        char keep = *p;
        *p = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return lg_err(err, "%s: cannot create: %s", buf, strerror(errno));
        *p = keep;
        if (!keep)
            break;
    }
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return lg_err(err, "%s: not a folder", path);
    return 0;
}

static void remove_scratch(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[PATH_MAX * 2];
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

int plot_render(const struct results *r, const struct plot_opts *o, struct plot_out *out,
                char *err)
{
    struct chart_ctx c = {.r = r, .o = o, .out = out, .err = err};
    int rc;
    if (strcmp(o->format, "png") && strcmp(o->format, "svg") && strcmp(o->format, "pdf"))
        return lg_err(err, "--format %s: write png, svg or pdf", o->format), -EINVAL;
    if (gnuplot_scripts_dir(c.scripts, sizeof c.scripts, err) < 0)
        return -ENOENT;
    if (mkdir_p(o->outdir, err) < 0)
        return -EINVAL;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    /* The scratch folder is the one path a preamble spells out (see
     * chart.h): in single quotes, which hold anything but a quote or a
     * line break, and "./" before a relative one ("<cmd" is a command). */
    for (const char *p = tmp; *p; p++)
        if (*p == '\'' || (unsigned char)*p < 0x20 || *p == 0x7f)
            return lg_err(err, "TMPDIR holds a quote or control character; set it to a plain "
                          "folder such as /tmp"), -EINVAL;
    if (snprintf(c.tmp, sizeof c.tmp, "%s%s/loadgen-plot.XXXXXX", tmp[0] == '/' ? "" : "./",
                 tmp) >= (int)sizeof c.tmp)
        return lg_err(err, "TMPDIR=%s: too long a path for a scratch folder", tmp), -EINVAL;
    if (!mkdtemp(c.tmp))
        return lg_err(err, "%s: cannot create a scratch folder: %s", c.tmp, strerror(errno)),
               -EIO;
    if (chart_build_colors(&c) < 0) {
        rc = lg_err(err, "out of memory");
        goto done;
    }
    if ((rc = chartlines_throughput(&c)) < 0 || (rc = chartbars_draw(&c)) < 0 ||
        (rc = chartlines_spectrum(&c)) < 0)
        goto done;
    if (r->nruns == 0)
        chart_skip(&c, "no timeline: no JSON results given (loadgen --json FILE)");
    for (size_t i = 0; i < r->nruns; i++)
        if ((rc = chartlines_timeline(&c, &r->runs[i])) < 0)
            goto done;
    rc = chartlines_scaling(&c);
done:
    remove_scratch(c.tmp);
    free(c.color);
    return rc;
}

void plot_out_release(struct plot_out *out)
{
    for (size_t i = 0; i < out->ncharts; i++) {
        free(out->charts[i].path);
        free(out->charts[i].title);
    }
    for (size_t i = 0; i < out->nskipped; i++)
        free(out->skipped[i]);
    free(out->charts);
    free(out->skipped);
    memset(out, 0, sizeof *out);
}

/* ---- command line ------------------------------------------------------- */

int plot_flag(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

int plot_threads(const char *s, double *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < 1 || v > 1000000)
        return -1;
    *out = (double)v;
    return 0;
}

static void plot_usage(FILE *f)
{
    fputs("usage: loadgen plot [CSV|JSON|DIR ...] [-o DIR] [--format png|svg|pdf]\n"
          "                    [--at-threads N] [--log]\n"
          "Draws the charts of docs/charts.md with gnuplot from summary CSVs (--out)\n"
          "and JSON results (--json); default input: the results folder.\n"
          "  -o, --out DIR      where the charts go (default results/charts)\n"
          "  --format F         png (default), svg or pdf\n"
          "  --at-threads N     the level the bar charts show (default: each\n"
          "                     deployment's highest, as the study reported)\n"
          "  --log              throughput bars on a log scale\n",
          f);
}

int plot_main(int argc, char **argv)
{
    struct plot_opts o = {.outdir = "results/charts", .format = "png"};
    struct plot_out out = {0};
    struct results *r = results_create();
    char err[LG_ERRLEN];
    int rc = LG_EXIT_USAGE, ninputs = 0;
    if (!r) {
        fputs("loadgen plot: out of memory\n", stderr);
        return LG_EXIT_FAIL;
    }
    for (int i = 1; i < argc; i++) {
        const char *v = NULL, *a = argv[i];
        int got;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            plot_usage(stdout);
            rc = LG_EXIT_OK;
            goto done;
        } else if (strcmp(a, "--log") == 0) {
            o.log_scale = 1;
        } else if ((got = plot_flag(argc, argv, &i, "-o", &v)) ||
                   (got = plot_flag(argc, argv, &i, "--out", &v))) {
            if (got < 0)
                goto missing;
            o.outdir = v;
        } else if ((got = plot_flag(argc, argv, &i, "--format", &v))) {
            if (got < 0)
                goto missing;
            if (strcmp(v, "png") && strcmp(v, "svg") && strcmp(v, "pdf")) {
                fprintf(stderr, "loadgen plot: --format %s: write png, svg or pdf\n", v);
                goto done;
            }
            o.format = v;
        } else if ((got = plot_flag(argc, argv, &i, "--at-threads", &v))) {
            if (got < 0)
                goto missing;
            if (plot_threads(v, &o.at_threads) < 0) {
                fprintf(stderr, "loadgen plot: --at-threads %s: write a whole number of "
                        "threads, e.g. --at-threads 50\n", v);
                goto done;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "loadgen plot: unknown flag %s; see loadgen plot --help\n", a);
            goto done;
        } else {
            ninputs++;
            if (results_load(r, a, err) < 0) {
                fprintf(stderr, "loadgen plot: %s\n", err);
                goto done;
            }
        }
        continue;
    missing:
        fprintf(stderr, "loadgen plot: %s needs a value; see loadgen plot --help\n", a);
        goto done;
    }
    if (ninputs == 0 && results_load(r, "results", err) < 0) {
        fprintf(stderr, "loadgen plot: %s; give summary CSVs or JSON results to plot\n", err);
        goto done;
    }
    if (results_finish(r, err) < 0) {
        fprintf(stderr, "loadgen plot: %s\n", err);
        goto done;
    }
    for (size_t i = 0; i < r->nnotes; i++)
        fprintf(stderr, "loadgen plot: %s\n", r->notes[i]);
    int prc = plot_render(r, &o, &out, err);
    for (size_t i = 0; i < out.nskipped; i++)
        fprintf(stderr, "loadgen plot: %s\n", out.skipped[i]);
    for (size_t i = 0; i < out.ncharts; i++)
        printf("%s\n", out.charts[i].path);
    if (prc < 0) {
        fprintf(stderr, "loadgen plot: %s\n", err);
        rc = prc == -EINVAL ? LG_EXIT_USAGE : LG_EXIT_FAIL;
        goto done;
    }
    rc = LG_EXIT_OK;
done:
    plot_out_release(&out);
    results_destroy(r);
    return rc;
}

