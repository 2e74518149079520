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
#include "analyze/plot.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/chart.h"
#include "analyze/cmd.h"
#include "analyze/gnuplot.h"
#include "common.h"

/* ---- driver ------------------------------------------------------------- */

static int mkdir_p(const char *path, char *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return lg_err(err, -EINVAL, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        char keep = *p;
        *p = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return lg_err(err, -errno, "%s: cannot create: %s", buf, strerror(errno));
        *p = keep;
        if (!keep)
            break;
    }
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return lg_err(err, -ENOTDIR, "%s: not a folder", path);
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
        return lg_err(err, -EINVAL, "--format %s: write png, svg or pdf", o->format);
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
            return lg_err(err, -EINVAL, "TMPDIR holds a quote or control character; set it to a plain "
                          "folder such as /tmp");
    if (snprintf(c.tmp, sizeof c.tmp, "%s%s/loadgen-plot.XXXXXX", tmp[0] == '/' ? "" : "./",
                 tmp) >= (int)sizeof c.tmp)
        return lg_err(err, -EINVAL, "TMPDIR=%s: too long a path for a scratch folder", tmp);
    if (!mkdtemp(c.tmp))
        return lg_err(err, -EIO, "%s: cannot create a scratch folder: %s", c.tmp, strerror(errno));
    if (chart_build_colors(&c) < 0) {
        rc = lg_err(err, -ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = chartlines_throughput(&c)) < 0 || (rc = chartbars_draw(&c)) < 0 ||
        (rc = chartlines_spectrum(&c)) < 0)
        goto done;
    if (r->nruns == 0)
        notes_add(&c.out->skipped, "no timeline: no JSON results given (loadgen --json FILE)");
    for (size_t i = 0; i < r->nruns; i++)
        if ((rc = chartlines_timeline(&c, &r->runs[i])) < 0)
            goto done;
    if ((rc = chartlines_scaling(&c)) == 0)
        rc = chartlines_curve(&c);
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

    free(out->charts);
    notes_free(&out->skipped);
    memset(out, 0, sizeof *out);
}

/* ---- command line ------------------------------------------------------- */

static const struct flag plot_flags[] = {
    {"out", "o", FLAG_STRING, ANALYZE_O(out), 1, 0, "DIR", "where the charts go (default results/charts)"},
    {"format", NULL, FLAG_CHOICE, ANALYZE_O(chart_format), 0, 0, "F", "png (default), svg or pdf",
     .choices = analyze_chart_formats},
    ANALYZE_FLAG_AT_THREADS,
    ANALYZE_FLAG_LOG,
    ANALYZE_FLAG_QUIET,
    {0},
};

static const struct flag_cmd plot_cmd = {
    .name = "loadgen plot",
    .usage = "loadgen plot [CSV|JSON|DIR ...] [-o DIR] [--format png|svg|pdf]\n"
             "                    [--at-threads N] [--log]",
    .about = "Draws the charts of docs/charts.md with gnuplot from summary CSVs (--out)\n"
             "and JSON results (--json); default input: the results folder.",
    .flags = plot_flags,
};

int plot_main(int argc, char **argv)
{
    struct analyze_opts a = {.out = "results/charts"};
    struct plot_out out = {0};
    char err[LG_ERRLEN];
    int rc;
    if (!analyze_parse(&plot_cmd, &a, argc, argv, &rc) ||
        !analyze_load(&a, "give summary CSVs or JSON results to plot", &rc))
        goto done;
    struct plot_opts o = {.outdir = a.out, .format = analyze_chart_formats[a.chart_format],
                          .at_threads = a.at_threads, .log_scale = a.log_scale};
    int prc = plot_render(a.r, &o, &out, err);
    for (size_t i = 0; !a.quiet && i < out.skipped.n; i++)
        fprintf(stderr, "%s: %s\n", a.name, out.skipped.v[i]);
    for (size_t i = 0; i < out.ncharts; i++)
        printf("%s\n", out.charts[i].path);
    rc = prc < 0 ? analyze_say(&a, prc == -EINVAL ? LG_EXIT_USAGE : LG_EXIT_FAIL, "%s", err)
                 : LG_EXIT_OK;
done:
    plot_out_release(&out);
    analyze_done(&a);
    return rc;
}
