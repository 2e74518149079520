/*
 * chartlines.c: the line charts of `loadgen plot`: 1 (throughput against
 * concurrency), 5 (latency percentile spectrum), 6 (one run over time),
 * 7 (throughput against GPU nodes, with the linear ideal) and 8 (latency
 * against throughput over a sweep). Single-threaded.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "analyze/chart.h"
#include "common.h"

/* ---- lines over levels: charts 1 and 8 ------------------------------- */

/* One line per deployment (and client region) of a model over its levels. */
struct series {
    const char *name[CHART_MAX_SERIES], *color[CHART_MAX_SERIES];
    char names[CHART_MAX_SERIES][2 * RESULTS_TEXT + 8];
    double dash[CHART_MAX_SERIES];
    size_t n;     /* lines */
    size_t most;  /* the most points one line has */
};

/* Writes a data row for one level. */
typedef void series_point_fn(FILE *f, const struct results_group *g);

/* Writes `model`'s groups in mode `open` that `keep` accepts (NULL: all),
 * one data block per line, into the scratch file `scratch` (its path in
 * dat), and fills s. 0 (s->n == 0: nothing to draw), or -EIO. */
static int series_write(struct chart_ctx *c, const char *model, int open, const char *scratch,
                        int (*keep)(const struct results_group *), series_point_fn *point,
                        struct series *s, char *dat)
{
    const struct results *r = c->r;
    FILE *f = NULL;
    s->n = s->most = 0;
    for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && s->n < CHART_MAX_SERIES; l++)
        for (size_t g = 0; g < r->nvalues[RESULTS_REGION] && s->n < CHART_MAX_SERIES; g++) {
            const char *label = r->values[RESULTS_LABEL][l];
            const char *region = r->values[RESULTS_REGION][g];
            size_t points = 0;
            /* Groups are sorted by level within a deployment. */
            for (size_t i = 0; i < r->ngroups; i++) {
                const struct results_group *gr = &r->groups[i];
                if (gr->open_loop != open || strcmp(gr->label, label) ||
                    strcmp(gr->region, region) || strcmp(gr->model, model) || (keep && !keep(gr)))
                    continue;
                if (!f && !(f = chart_scratch(c, scratch, dat)))
                    return -EIO;
                if (points++ == 0 && s->n > 0)
                    fputs("\n\n", f);
                point(f, gr);
            }
            if (!points)
                continue;
            s->most = points > s->most ? points : s->most;
            snprintf(s->names[s->n], sizeof s->names[s->n], "%s%s%s", label,
                     chart_many_regions(c) ? ", " : "", chart_many_regions(c) ? region : "");
            s->name[s->n] = s->names[s->n];
            s->color[s->n] = chart_color(c, label);
            s->dash[s->n] = (double)(g + 1);
            s->n++;
        }
    return f && chart_close(c, f, dat) < 0 ? -EIO : 0;
}

/* The preamble's variables of a series chart. */
static void series_vars(struct chart_ctx *c, FILE *f, const char *dat, const struct series *s)
{
    chart_gp_path(c, f, "data", dat);
    fprintf(f, "n = %zu\n", s->n);
    chart_gp_strs(c, f, "name", s->name, s->n);
    chart_gp_strs(c, f, "color", s->color, s->n);
    chart_gp_nums(f, "dash", s->dash, s->n);
}

/* ---- chart 1: throughput vs concurrency --------------------------------- */

static void throughput_point(FILE *f, const struct results_group *gr)
{
    fprintf(f, "%g\t", gr->level);
    chart_dat_num(f, gr->ips.mean);
    fputc('\t', f);
    chart_dat_num(f, gr->ips.min);
    fputc('\t', f);
    chart_dat_num(f, gr->ips.max);
    fputc('\n', f);
}

int chartlines_throughput(struct chart_ctx *c)
{
    const struct results *r = c->r;
    for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++) {
        const char *model = r->values[RESULTS_MODEL][m];
        for (int open = 0; open <= 1; open++) {
            struct series s;
            char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512];
            if (series_write(c, model, open, "throughput.dat", NULL, throughput_point, &s, dat) < 0)
                return -EIO;
            if (s.n == 0)
                continue;
            snprintf(file, sizeof file, "1-throughput-%s%s", open ? "open-" : "", model);
            chart_path(c, out, file);
            snprintf(title, sizeof title, "%s: throughput vs %s (mean of cycles, bars: min-max)",
                     model, open ? "offered rate" : "concurrency");
            FILE *f = chart_preamble(c, pre, out, title);
            if (!f)
                return -EIO;
            series_vars(c, f, dat, &s);
            chart_gp_set(c, f, "xlabel_text", open ? "Offered rate (requests/s)"
                                              : "Concurrent requests (threads)");
            chart_gp_set(c, f, "ylabel_text", "Throughput (images/s)");
            int rc = chart_draw(c, f, pre, "throughput.gp", out, title);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- charts 5 and 6: from JSON results ---------------------------------- */

/* The level a spectrum shows for (label, region, model): closed loop when
 * there is any, at --at-threads or the highest level, the last cycle. */
static const struct results_level *spectrum_level(const struct chart_ctx *c, const char *label,
                                                  const char *region, const char *model)
{
    const struct results_level *best = NULL;
    int want_open = 1;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < c->r->nruns; i++)
            for (size_t j = 0; j < c->r->runs[i].nlevels; j++) {
                const struct results_level *l = &c->r->runs[i].levels[j];
                const struct results_row *w = &l->row;
                if (!l->npct || w->interrupted || strcmp(w->label, label) ||
                    strcmp(w->region, region) || strcmp(w->model, model))
                    continue;
                if (pass == 0) {
                    want_open &= w->open_loop;
                    continue;
                }
                double lv = w->open_loop ? w->rate_rps : w->concurrency;
                double bl = best ? (best->row.open_loop ? best->row.rate_rps
                                                        : best->row.concurrency)
                                 : 0;
                if (w->open_loop != want_open)
                    continue;
                if (c->o->at_threads > 0 && lv != c->o->at_threads)
                    continue;
                if (!best || lv > bl || (lv == bl && w->cycle >= best->row.cycle))
                    best = l;
            }
    return best;
}

int chartlines_spectrum(struct chart_ctx *c)
{
    const struct results *r = c->r;
    size_t with_pct = 0;
    for (size_t i = 0; i < r->nruns; i++)
        for (size_t j = 0; j < r->runs[i].nlevels; j++)
            with_pct += r->runs[i].levels[j].npct > 0;
    if (r->nruns == 0) {
        notes_add(&c->out->skipped, "no latency spectrum: no JSON results given (loadgen --json FILE)");
        return 0;
    }
    if (with_pct == 0) {
        notes_add(&c->out->skipped, "no latency spectrum: the JSON results carry no percentiles");
        return 0;
    }
    for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++) {
        const char *model = r->values[RESULTS_MODEL][m];
        const struct results_level *lv[CHART_MAX_SERIES];
        const char *name[CHART_MAX_SERIES], *color[CHART_MAX_SERIES];
        char names[CHART_MAX_SERIES][2 * RESULTS_TEXT + 64], lvl[64] = "";
        double dash[CHART_MAX_SERIES], xmax = 10;
        size_t n = 0;
        for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && n < CHART_MAX_SERIES; l++)
            for (size_t g = 0; g < r->nvalues[RESULTS_REGION] && n < CHART_MAX_SERIES; g++) {
                const char *label = r->values[RESULTS_LABEL][l];
                const char *region = r->values[RESULTS_REGION][g];
                if (!(lv[n] = spectrum_level(c, label, region, model)))
                    continue;
                color[n] = chart_color(c, label);
                dash[n] = (double)(g + 1);
                n++;
            }
        if (n == 0)
            continue;
        /* The level goes in the title when all lines share it, else into
         * each line's name. */
        int same = 1;
        for (size_t i = 1; i < n; i++)
            same &= lv[i]->row.open_loop == lv[0]->row.open_loop &&
                    (lv[i]->row.open_loop ? lv[i]->row.rate_rps == lv[0]->row.rate_rps
                                          : lv[i]->row.concurrency == lv[0]->row.concurrency);
        for (size_t i = 0; i < n; i++) {
            const struct results_row *w = &lv[i]->row;
            char at[48];
            snprintf(at, sizeof at, w->open_loop ? "%g requests/s" : "%g threads",
                     w->open_loop ? w->rate_rps : w->concurrency);
            snprintf(names[i], sizeof names[i], "%s%s%s%s%s%s", w->label,
                     chart_many_regions(c) ? ", " : "", chart_many_regions(c) ? w->region : "",
                     same ? "" : " (", same ? "" : at, same ? "" : ")");
            name[i] = names[i];
            if (same)
                snprintf(lvl, sizeof lvl, " at %s", at);
        }
        char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512];
        FILE *f = chart_scratch(c, "spectrum.dat", dat);
        if (!f)
            return -EIO;
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputs("\n\n", f);
            for (size_t k = 0; k < lv[i]->npct; k++) {
                const struct results_pct *pt = &lv[i]->pct[k];
                /* 100% has no place on a 1/(1-p) axis: it is the max. */
                if (pt->p >= 100 || pt->p < 0)
                    continue;
                double x = 1 / (1 - pt->p / 100);
                /* N samples resolve percentiles up to 1 - 1/N: past that
                 * every point is the max again, a flat line that claims a
                 * precision the run did not have. */
                double nreq = lv[i]->row.requests;
                if (isfinite(nreq) && nreq >= 1 && x > nreq * 1.0001)
                    continue;
                xmax = fmax(xmax, x);
                fprintf(f, "%.9g\t", x);
                chart_dat_num(f, pt->ms);
                fputc('\n', f);
            }
        }
        if (chart_close(c, f, dat) < 0)
            return -EIO;
        snprintf(file, sizeof file, "5-latency-spectrum-%s", model);
        chart_path(c, out, file);
        snprintf(title, sizeof title, "%s: latency by percentile%s (last cycle)", model, lvl);
        if (!(f = chart_preamble(c, pre, out, title)))
            return -EIO;
        chart_gp_path(c, f, "data", dat);
        fprintf(f, "n = %zu\nxmax = %g\n", n, xmax);
        chart_gp_strs(c, f, "name", name, n);
        chart_gp_strs(c, f, "color", color, n);
        chart_gp_nums(f, "dash", dash, n);
        static const char *const tic[] = {"0%", "50%", "90%", "99%", "99.9%", "99.99%",
                                          "99.999%", "99.9999%"};
        static const double at[] = {1, 2, 10, 100, 1e3, 1e4, 1e5, 1e6};
        size_t ntic = 0;
        while (ntic < sizeof at / sizeof at[0] && at[ntic] <= xmax * 1.0001)
            ntic++;
        fprintf(f, "ntic = %zu\n", ntic);
        chart_gp_tics(c, f, "tic", tic, ntic);
        chart_gp_nums(f, "ticat", at, ntic);
        int rc = chart_draw(c, f, pre, "spectrum.gp", out, title);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* One run over time: the levels laid end to end on the wall clock. */
int chartlines_timeline(struct chart_ctx *c, const struct results_run *run)
{
    int64_t t0 = 0;
    size_t ticks = 0, closed = 0;
    for (size_t j = 0; j < run->nlevels; j++) {
        const struct results_level *l = &run->levels[j];
        ticks += l->nticks;
        closed += !l->row.open_loop;
        if (l->start_wall_us > 0 && (t0 == 0 || l->start_wall_us < t0))
            t0 = l->start_wall_us;
    }
    if (ticks == 0) {
        notes_add(&c->out->skipped, "no timeline for %s: it has no per-second timeline", run->source);
        return 0;
    }
    char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512];
    FILE *f = chart_scratch(c, "timeline.dat", dat);
    if (!f)
        return -EIO;
    double at = 0, xmax = 1;
    for (size_t j = 0; j < run->nlevels; j++) {
        const struct results_level *l = &run->levels[j];
        /* Without wall-clock stamps, levels are laid end to end. */
        double start = t0 && l->start_wall_us ? (double)(l->start_wall_us - t0) / 1e6 : at;
        double dur = isfinite(l->row.duration_s) ? l->row.duration_s : (double)l->nticks;
        at = start + dur;
        xmax = fmax(xmax, at);
        unsigned long rgb = chart_rgb(chart_color(c, l->row.label));
        for (size_t k = 0; k < l->nticks; k++) {
            const struct results_tick *t = &l->ticks[k];
            /* The last bucket of a level is cut short by its end: its
             * rate is completions over the part that existed. The sliver
             * a long level ends with says more about rounding than rate;
             * a level shorter than a second is all sliver, and exact. */
            double width = fmin(1.0, dur - t->t_s);
            int sliver = width < 0.2 && l->nticks > 1;
            fprintf(f, "%.4f\t", start + t->t_s + (width > 0 ? width : 1) / 2);
            chart_dat_num(f, width > 0 && !sliver ? t->completions / width : NAN);
            fputc('\t', f);
            chart_dat_num(f, t->p50_ms);
            fputc('\t', f);
            chart_dat_num(f, t->p99_ms);
            fprintf(f, "\t%lu\n", rgb);
        }
        fputc('\n', f); /* a gap between levels */
    }
    fputs("\n", f);
    at = 0;
    double top = 1;
    for (size_t j = 0; j < run->nlevels; j++) {
        const struct results_level *l = &run->levels[j];
        double start = t0 && l->start_wall_us ? (double)(l->start_wall_us - t0) / 1e6 : at;
        double dur = isfinite(l->row.duration_s) ? l->row.duration_s : (double)l->nticks;
        double lv = closed ? l->row.concurrency : l->row.rate_rps;
        at = start + dur;
        top = fmax(top, lv);
        fprintf(f, "%.4f\t%g\n%.4f\t%g\n", start, lv, at, lv);
    }
    if (chart_close(c, f, dat) < 0)
        return -EIO;

    const struct results_row *w = &run->levels[0].row;
    int one = 1;
    for (size_t j = 1; j < run->nlevels; j++)
        one &= strcmp(run->levels[j].row.label, w->label) == 0 &&
               strcmp(run->levels[j].row.model, w->model) == 0 &&
               strcmp(run->levels[j].row.region, w->region) == 0;
    if (one) {
        /* The run id tells apart two runs of one deployment. */
        snprintf(title, sizeof title, "Run over time: %s, %s%s%s (run %.40s)", w->label,
                 w->model, *w->region ? ", " : "", w->region, run->run_id);
        snprintf(file, sizeof file, "6-timeline-%s-%s%s%s", w->label, w->model,
                 chart_many_regions(c) ? "-" : "", chart_many_regions(c) ? w->region : "");
    } else {
        snprintf(title, sizeof title, "Run over time: %.40s", run->run_id);
        snprintf(file, sizeof file, "6-timeline-%.40s", run->run_id);
    }
    /* Two runs of the same deployment must not overwrite each other. */
    size_t base = strlen(file);
    for (int k = 2; k < 10000; k++) {
        int taken = 0;
        chart_path(c, out, file);
        for (size_t i = 0; i < c->out->ncharts && !taken; i++)
            taken = strcmp(c->out->charts[i].path, out) == 0;
        if (!taken)
            break;
        snprintf(file + base, sizeof file - base, "-%d", k);
    }
    if (!(f = chart_preamble(c, pre, out, title)))
        return -EIO;
    chart_gp_path(c, f, "data", dat);
    chart_gp_set(c, f, "level_text", closed ? "Concurrency (threads)" : "Offered rate (req/s)");
    /* Headroom keeps the highest level's step off the frame. */
    fprintf(f, "xmax = %g\ny2top = %g\n", xmax * 1.02, top * 1.15);
    return chart_draw(c, f, pre, "timeline.gp", out, title);
}

/* ---- chart 7: GPU scaling ----------------------------------------------- */

int chartlines_scaling(struct chart_ctx *c)
{
    const struct results *r = c->r;
    int drawn = 0;
    for (size_t g = 0; g < r->nvalues[RESULTS_REGION]; g++) {
        const char *region = r->values[RESULTS_REGION][g];
        const char *name[CHART_MAX_SERIES], *color[CHART_MAX_SERIES];
        const struct results_group *picked[CHART_MAX_SERIES * CHART_MAX_SERIES];
        size_t n = 0, np = 0;
        int maxn = 1;
        char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512], lvl[96],
            where[RESULTS_TEXT + 32];
        FILE *f = NULL;
        size_t nmodels = 0;
        for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++) {
            const char *model = r->values[RESULTS_MODEL][m];
            const struct results_group *pts[CHART_MAX_SERIES];
            int nodes[CHART_MAX_SERIES];
            size_t k = 0;
            for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && k < CHART_MAX_SERIES; l++) {
                int nn;
                const char *label = r->values[RESULTS_LABEL][l];
                if (results_device(label, &nn) != RESULTS_GPU || nn == 0 ||
                    (k && nodes[k - 1] == nn))
                    continue;
                const struct results_group *gr =
                    results_pick(r, label, region, model, c->o->at_threads);
                if (gr && gr->ips.mean > 0) {
                    pts[k] = gr;
                    nodes[k++] = nn;
                }
            }
            if (k < 2)
                continue;
            nmodels++;
            if (!f && !(f = chart_scratch(c, "scaling.dat", dat)))
                return -EIO;
            if (n > 0)
                fputs("\n\n", f);
            /* Labels are in node order, so the first point is the base. */
            double per_node = pts[0]->ips.mean / nodes[0];
            for (size_t i = 0; i < k; i++) {
                double ideal = per_node * nodes[i];
                fprintf(f, "%d\t", nodes[i]);
                chart_dat_num(f, pts[i]->ips.mean);
                fputc('\t', f);
                chart_dat_num(f, pts[i]->ips.min);
                fputc('\t', f);
                chart_dat_num(f, pts[i]->ips.max);
                /* The base point is linear by definition: no label. What
                 * the step from the previous point added is counted in
                 * nodes' worth of the base's throughput per node. */
                fprintf(f, "\t%.6g\t%.0f%% of linear\t", ideal, 100 * pts[i]->ips.mean / ideal);
                chart_dat_num(f, i ? pts[i]->ips.mean : NAN);
                if (i)
                    fprintf(f, "\teach added node: %+.0f%%\n",
                            100 * (pts[i]->ips.mean - pts[i - 1]->ips.mean) /
                                (per_node * (nodes[i] - nodes[i - 1])));
                else
                    fputs("\t?\n", f);
                maxn = nodes[i] > maxn ? nodes[i] : maxn;
                picked[np++] = pts[i];
            }
            name[n] = model;
            color[n] = NULL;
            n++;
        }
        if (!f)
            continue;
        /* All GPUs: the models get the green family's extremes first. */
        for (size_t i = 0; i < n; i++)
            color[i] = chart_green(i, n);
        if (chart_close(c, f, dat) < 0)
            return -EIO;
        chart_level_phrase(lvl, sizeof lvl, picked, np);
        chart_region_suffix(c, where, sizeof where, region);
        snprintf(title, sizeof title, "GPU scaling %s%s: throughput vs nodes", lvl, where);
        snprintf(file, sizeof file, "7-gpu-scaling%s%s", chart_many_regions(c) ? "-" : "",
                 chart_many_regions(c) ? region : "");
        chart_path(c, out, file);
        if (!(f = chart_preamble(c, pre, out, title)))
            return -EIO;
        chart_gp_path(c, f, "data", dat);
        fprintf(f, "n = %zu\nxmax = %d\n", n, maxn);
        chart_gp_strs(c, f, "name", name, n);
        chart_gp_strs(c, f, "color", color, n);
        int rc = chart_draw(c, f, pre, "scaling.gp", out, title);
        if (rc < 0)
            return rc;
        drawn++;
    }
    if (!drawn)
        notes_add(&c->out->skipped, "no GPU scaling chart: it needs gpu-N deployments of two or more node counts "
                  "(labels like gpu-1, gpu-2)");
    return 0;
}


/* Latency against throughput over the levels of each deployment, as
 * perf_analyzer draws it: where the curve turns up is the capacity. */
static int has_throughput(const struct results_group *gr)
{
    return gr->ips.mean > 0;
}

static void curve_point(FILE *f, const struct results_group *gr)
{
    chart_dat_num(f, gr->ips.mean);
    fputc('\t', f);
    chart_dat_num(f, gr->p50_ms.mean);
    fputc('\t', f);
    chart_dat_num(f, gr->p99_ms.mean);
    fprintf(f, "\t%g\n", gr->level);
}

int chartlines_curve(struct chart_ctx *c)
{
    const struct results *r = c->r;
    int drawn = 0, noted = 0;
    for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++) {
        const char *model = r->values[RESULTS_MODEL][m];
        struct series s;
        char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512];
        if (series_write(c, model, 0, "curve.dat", has_throughput, curve_point, &s, dat) < 0)
            return -EIO;
        if (s.n == 0)
            continue;
        if (s.most < 2) {
            notes_add(&c->out->skipped, "no latency-vs-throughput curve for %s: each deployment ran one level "
                      "(sweep with --threads 10:50:10)", model);
            noted++;
            continue;
        }
        snprintf(file, sizeof file, "8-latency-vs-throughput-%s", model);
        chart_path(c, out, file);
        snprintf(title, sizeof title, "%s: latency vs throughput by threads (p99 solid, p50 thin)", model);
        FILE *f = chart_preamble(c, pre, out, title);
        if (!f)
            return -EIO;
        series_vars(c, f, dat, &s);
        int rc = chart_draw(c, f, pre, "curve.gp", out, title);
        if (rc < 0)
            return rc;
        drawn++;
    }
    if (!drawn && !noted && r->ngroups)
        notes_add(&c->out->skipped, "no latency-vs-throughput curve: no closed-loop sweep in the results");
    return 0;
}
