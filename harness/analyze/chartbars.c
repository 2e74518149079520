/*
 * chartbars.c: the bar charts of `loadgen plot`: 2 (throughput per model,
 * a bar per deployment), 3 (images per dollar and cost per 1000 images)
 * and 4 (each deployment from every client region, with the percent
 * difference). Bars are placed here, not by gnuplot's histogram style, so
 * that a missing bar leaves a gap and text can go above any bar.
 *
 * Ownership: the panels are allocated per call (too big for the stack).
 * Single-threaded.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/chart.h"
#include "common.h"

/* Fill opacity of each client region's bars in the region chart. */
static const double region_alpha[] = {1.0, 0.45, 0.25, 0.15};

/* One bar: where it goes and what it says. */
struct bar {
    double x, mean, min, max;
    char value[48], pct[32]; /* text above the bar; pct "" for none */
    const char *color;
};

/* A bar panel being assembled: series are blocks of the data file. */
struct panel {
    struct bar bars[CHART_MAX_SERIES][CHART_MAX_SERIES]; /* [series][group] */
    size_t nbars[CHART_MAX_SERIES];
    size_t nseries;
    double lo, hi; /* smallest min and largest max, for the axis */
    int vertical;  /* text above the bars turned upright: bars too narrow */
};

static void panel_init(struct panel *p, size_t nseries)
{
    memset(p->nbars, 0, sizeof p->nbars);
    p->nseries = nseries;
    p->lo = INFINITY;
    p->hi = 0;
}

/* Series s of nseries in group g: bars of a group share 0.8 of a unit. */
static double bar_x(size_t g, size_t s, size_t nseries)
{
    double w = 0.8 / (double)nseries;
    return (double)g - 0.4 + w * ((double)s + 0.5);
}

static struct bar *panel_add(struct panel *p, size_t s, size_t g, double mean, double min,
                             double max, const char *color)
{
    struct bar *b = &p->bars[s][p->nbars[s]++];
    b->x = bar_x(g, s, p->nseries);
    b->mean = mean;
    b->min = isfinite(min) ? min : mean;
    b->max = isfinite(max) ? max : mean;
    b->color = color;
    b->value[0] = b->pct[0] = '\0';
    p->lo = fmin(p->lo, b->min);
    p->hi = fmax(p->hi, b->max);
    return b;
}

/* Decides whether the text above the bars fits level, given the panel's
 * width in pixels (at 1280x720 and a 14 pt font, ~7 px a small character);
 * upright text carries the percent in the same label. */
static void panel_layout(struct panel *p, size_t ngroups, double width_px)
{
    size_t longest = 0;
    for (size_t s = 0; s < p->nseries; s++)
        for (size_t i = 0; i < p->nbars[s]; i++)
            longest = fmax(longest, fmax(strlen(p->bars[s][i].value), strlen(p->bars[s][i].pct)));
    double bar_px = width_px / (double)(ngroups ? ngroups : 1) * 0.8 / (double)p->nseries;
    p->vertical = (double)longest * 7.5 > bar_px;
    if (!p->vertical)
        return;
    for (size_t s = 0; s < p->nseries; s++)
        for (size_t i = 0; i < p->nbars[s]; i++) {
            struct bar *b = &p->bars[s][i];
            if (*b->pct) {
                char pct[sizeof b->pct];
                size_t n = strlen(b->value);
                memcpy(pct, b->pct, sizeof pct);
                snprintf(b->value + n, sizeof b->value - n, " (%s)", pct);
                b->pct[0] = '\0';
            }
        }
}

static int panel_write(struct chart_ctx *c, const struct panel *p, char *dat)
{
    FILE *f = chart_scratch(c, "bars.dat", dat);
    if (!f)
        return -EIO;
    for (size_t s = 0; s < p->nseries; s++) {
        if (s)
            fputs("\n\n", f);
        /* An empty block would shift every later index: keep a dummy. */
        if (p->nbars[s] == 0)
            fputs("?\t?\t?\t?\t?\t0\t?\t?\n", f);
        for (size_t i = 0; i < p->nbars[s]; i++) {
            const struct bar *b = &p->bars[s][i];
            fprintf(f, "%.6g\t", b->x);
            chart_dat_num(f, b->mean);
            fputc('\t', f);
            chart_dat_num(f, b->min);
            fputc('\t', f);
            chart_dat_num(f, b->max);
            fputc('\t', f);
            chart_dat_text(f, b->value);
            fprintf(f, "\t%lu\t", chart_rgb(b->color));
            chart_dat_text(f, b->pct);
            fputc('\t', f);
            chart_dat_num(f, *b->pct ? b->max : NAN);
            fputc('\n', f);
        }
    }
    return chart_close(c, f, dat);
}

/* Divides every bar's figures by k (the text above them is already set):
 * an axis in millions reads better than one in 1.5M-style tics. */
static void panel_scale(struct panel *p, double k)
{
    for (size_t s = 0; s < p->nseries; s++)
        for (size_t i = 0; i < p->nbars[s]; i++) {
            p->bars[s][i].mean /= k;
            p->bars[s][i].min /= k;
            p->bars[s][i].max /= k;
        }
    p->lo /= k;
    p->hi /= k;
}

/* The y range: room above the tallest bar for the text over it. */
static void panel_range(const struct panel *p, int logy, double *base, double *top)
{
    if (logy) {
        double lo = p->lo > 0 ? p->lo : 1;
        *base = pow(10, floor(log10(lo * 0.9)));
        *top = p->hi * (p->vertical ? 12 : 4);
    } else {
        *base = 0;
        *top = p->hi > 0 ? p->hi * (p->vertical ? 1.3 : 1.18) : 1;
    }
}

/* Group names along x: tic[k] at k-1 (bars_panel.gp sets the tics). */
static void gp_xtics(struct chart_ctx *c, FILE *f, const char *const *names, size_t n)
{
    fprintf(f, "ngroups = %zu\n", n);
    chart_gp_tics(c, f, "tic", names, n);
}

/* A panel's variables, with a suffix: "" for a chart of one panel (then
 * the names are those bars_panel.gp reads), "1" and "2" for cost.gp. */
static void gp_panel(struct chart_ctx *c, FILE *f, const char *sfx, const char *dat,
                     const struct panel *p, int logy, const char *ylabel, const char *yformat,
                     const char *title)
{
    double base, top;
    char name[32];
    panel_range(p, logy, &base, &top);
    snprintf(name, sizeof name, "data%s", sfx);
    chart_gp_path(c, f, name, dat);
    snprintf(name, sizeof name, "%s%s", *sfx ? "ylabel" : "ylabel_text", sfx);
    chart_gp_set(c, f, name, ylabel);
    snprintf(name, sizeof name, "yformat%s", sfx);
    chart_gp_set(c, f, name, yformat);
    snprintf(name, sizeof name, "%s%s", *sfx ? "title" : "panel_title", sfx);
    chart_gp_set(c, f, name, title);
    fprintf(f, "ytop%s = %g\nybase%s = %g\nvertical%s = %d\n", sfx, top, sfx, base, sfx,
            p->vertical);
}

static void gp_bar_common(struct chart_ctx *c, FILE *f, size_t nseries, const double *alpha,
                          int logy, const char *const *keyname, const char *const *keycolor,
                          const double *keyalpha, size_t nkey)
{
    fprintf(f, "n = %zu\nnkey = %zu\nlogy = %d\nbarwidth = %g\n", nseries, nkey, logy,
            0.8 / (double)nseries * 0.92);
    chart_gp_nums(f, "alpha", alpha, nseries);
    chart_gp_strs(c, f, "keyname", keyname, nkey);
    chart_gp_strs(c, f, "keycolor", keycolor, nkey);
    chart_gp_nums(f, "keyalpha", keyalpha, nkey);
}

/* Deployments (labels) with a level to show in `region` for any of the
 * models; the models that have any. */
static void present(const struct chart_ctx *c, const char *region, const char **labels,
                    size_t *nlabels, const char **models, size_t *nmodels)
{
    const struct results *r = c->r;
    *nlabels = *nmodels = 0;
    for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && *nlabels < CHART_MAX_SERIES; l++)
        for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++)
            if (results_pick(r, r->values[RESULTS_LABEL][l], region, r->values[RESULTS_MODEL][m],
                             c->o->at_threads)) {
                labels[(*nlabels)++] = r->values[RESULTS_LABEL][l];
                break;
            }
    for (size_t m = 0; m < r->nvalues[RESULTS_MODEL] && *nmodels < CHART_MAX_SERIES; m++)
        for (size_t l = 0; l < *nlabels; l++)
            if (results_pick(r, labels[l], region, r->values[RESULTS_MODEL][m],
                             c->o->at_threads)) {
                models[(*nmodels)++] = r->values[RESULTS_MODEL][m];
                break;
            }
}

static void note_missing_level(struct chart_ctx *c, const char *what, const char *region)
{
    char where[RESULTS_TEXT + 32];
    chart_region_suffix(c, where, sizeof where, region);
    notes_add(&c->out->skipped, "no %s chart%s: no deployment has a %g-thread level (--at-threads)", what, where,
              c->o->at_threads);
}

static int chart_throughput_bars(struct chart_ctx *c, struct panel *p)
{
    const struct results *r = c->r;
    for (size_t g = 0; g < r->nvalues[RESULTS_REGION]; g++) {
        const char *region = r->values[RESULTS_REGION][g];
        const char *labels[CHART_MAX_SERIES], *models[CHART_MAX_SERIES], *colors[CHART_MAX_SERIES];
        const struct results_group *picked[CHART_MAX_SERIES * CHART_MAX_SERIES];
        size_t nl, nm, np = 0;
        double alpha[CHART_MAX_SERIES];
        present(c, region, labels, &nl, models, &nm);
        if (nl == 0) {
            note_missing_level(c, "throughput-per-model", region);
            continue;
        }
        panel_init(p, nl);
        for (size_t l = 0; l < nl; l++) {
            alpha[l] = 1.0;
            colors[l] = chart_color(c, labels[l]);
            for (size_t m = 0; m < nm; m++) {
                const struct results_group *gr =
                    results_pick(r, labels[l], region, models[m], c->o->at_threads);
                if (!gr)
                    continue;
                picked[np++] = gr;
                struct bar *b = panel_add(p, l, m, gr->ips.mean, gr->ips.min, gr->ips.max,
                                          colors[l]);
                chart_fmt_count(b->value, sizeof b->value, gr->ips.mean);
            }
        }
        char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512], lvl[96],
            where[RESULTS_TEXT + 32];
        panel_layout(p, nm, 1150);
        if (panel_write(c, p, dat) < 0)
            return -EIO;
        chart_level_phrase(lvl, sizeof lvl, picked, np);
        chart_region_suffix(c, where, sizeof where, region);
        snprintf(title, sizeof title, "Throughput per model %s%s%s", lvl, where,
                 c->o->log_scale ? " (log scale)" : "");
        snprintf(file, sizeof file, "2-throughput-by-model%s%s", chart_many_regions(c) ? "-" : "",
                 chart_many_regions(c) ? region : "");
        chart_path(c, out, file);
        FILE *f = chart_preamble(c, pre, out, title);
        if (!f)
            return -EIO;
        gp_panel(c, f, "", dat, p, c->o->log_scale, "Throughput (images/s)", "%g", title);
        gp_bar_common(c, f, nl, alpha, c->o->log_scale, labels, colors, alpha, nl);
        gp_xtics(c, f, models, nm);
        int rc = chart_draw(c, f, pre, "bars.gp", out, title);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int chart_cost(struct chart_ctx *c, struct panel *p, struct panel *q)
{
    const struct results *r = c->r;
    int any_cost = 0;
    for (size_t i = 0; i < r->ngroups; i++)
        any_cost |= isfinite(r->groups[i].cost_per_hour) && r->groups[i].cost_per_hour > 0;
    if (!any_cost) {
        notes_add(&c->out->skipped, "no cost chart: no cost_per_hour in the results (run loadgen with "
                  "--cost-per-hour)");
        return 0;
    }
    for (size_t g = 0; g < r->nvalues[RESULTS_REGION]; g++) {
        const char *region = r->values[RESULTS_REGION][g];
        const char *all[CHART_MAX_SERIES], *labels[CHART_MAX_SERIES], *models[CHART_MAX_SERIES],
            *colors[CHART_MAX_SERIES];
        const struct results_group *picked[CHART_MAX_SERIES * CHART_MAX_SERIES];
        size_t na, nl = 0, nm, np = 0;
        double alpha[CHART_MAX_SERIES];
        present(c, region, all, &na, models, &nm);
        /* Only deployments with a price: the others have no bar to draw. */
        for (size_t l = 0; l < na; l++)
            for (size_t m = 0; m < nm; m++) {
                const struct results_group *gr =
                    results_pick(r, all[l], region, models[m], c->o->at_threads);
                if (gr && isfinite(gr->cost_per_hour) && gr->cost_per_hour > 0) {
                    labels[nl++] = all[l];
                    break;
                }
            }
        if (nl == 0)
            continue;
        panel_init(p, nl);
        panel_init(q, nl);
        for (size_t l = 0; l < nl; l++) {
            alpha[l] = 1.0;
            colors[l] = chart_color(c, labels[l]);
            for (size_t m = 0; m < nm; m++) {
                const struct results_group *gr =
                    results_pick(r, labels[l], region, models[m], c->o->at_threads);
                if (!gr || !(gr->cost_per_hour > 0) || !(gr->ips.mean > 0))
                    continue;
                double cost = gr->cost_per_hour;
                picked[np++] = gr;
                struct bar *b = panel_add(p, l, m, gr->ips.mean * 3600 / cost,
                                          gr->ips.min * 3600 / cost, gr->ips.max * 3600 / cost,
                                          colors[l]);
                chart_fmt_count(b->value, sizeof b->value, b->mean);
                /* Cost per 1000 images; the fastest cycle is the cheapest. */
                b = panel_add(q, l, m, cost / (gr->ips.mean * 3.6),
                              gr->ips.max > 0 ? cost / (gr->ips.max * 3.6) : NAN,
                              gr->ips.min > 0 ? cost / (gr->ips.min * 3.6) : NAN, colors[l]);
                chart_fmt_money(b->value, sizeof b->value, b->mean);
            }
        }
        char dat1[PATH_MAX], dat2[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512],
            file[512], lvl[96], where[RESULTS_TEXT + 32];
        double unit = p->hi >= 1e6 ? 1e6 : p->hi >= 1e4 ? 1e3 : 1;
        panel_scale(p, unit);
        panel_layout(p, nm, 520);
        panel_layout(q, nm, 520);
        if (panel_write(c, p, dat1) < 0 || panel_write(c, q, dat2) < 0)
            return -EIO;
        chart_level_phrase(lvl, sizeof lvl, picked, np);
        chart_region_suffix(c, where, sizeof where, region);
        snprintf(title, sizeof title, "Cost efficiency %s%s (from cost_per_hour)", lvl, where);
        snprintf(file, sizeof file, "3-cost%s%s", chart_many_regions(c) ? "-" : "",
                 chart_many_regions(c) ? region : "");
        chart_path(c, out, file);
        FILE *f = chart_preamble(c, pre, out, title);
        if (!f)
            return -EIO;
        gp_panel(c, f, "1", dat1, p, 0,
                 unit == 1e6   ? "Images per dollar (millions)"
                 : unit == 1e3 ? "Images per dollar (thousands)"
                               : "Images per dollar",
                 "%g", "Images per dollar (more is better)");
        char money[16];
        chart_money_format(money, sizeof money, q->hi);
        gp_panel(c, f, "2", dat2, q, 0, "Cost per 1000 images (USD)", money,
                 "Cost per 1000 images (less is better)");
        gp_bar_common(c, f, nl, alpha, 0, labels, colors, alpha, nl);
        gp_xtics(c, f, models, nm);
        int rc = chart_draw(c, f, pre, "cost.gp", out, title);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int chart_regions(struct chart_ctx *c, struct panel *p)
{
    const struct results *r = c->r;
    size_t nr = r->nvalues[RESULTS_REGION];
    if (nr < 2) {
        const char *only = nr ? r->values[RESULTS_REGION][0] : "";
        notes_add(&c->out->skipped, "no region chart: the results come from one client region%s%s%s",
                  *only ? " (" : "", only, *only ? ")" : "");
        return 0;
    }
    if (nr > CHART_MAX_SERIES)
        nr = CHART_MAX_SERIES;
    const char *base_region = r->values[RESULTS_REGION][0];
    int drawn = 0;
    for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++) {
        const char *model = r->values[RESULTS_MODEL][m];
        /* The legend has an entry per deployment and region, in the bar's
         * own colour and shade: a grey swatch per region matched no bar. */
        enum { NKEY = CHART_MAX_SERIES * CHART_MAX_SERIES };
        const char *labels[CHART_MAX_SERIES], *regions[CHART_MAX_SERIES];
        const char *keyname[NKEY], *keycolor[NKEY];
        static char keytext[NKEY][2 * RESULTS_TEXT + 4];
        const struct results_group *picked[NKEY];
        double alpha[CHART_MAX_SERIES], keyalpha[NKEY];
        size_t nl = 0, np = 0, nkey = 0;
        /* A deployment belongs here when two regions measured it. */
        for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && nl < CHART_MAX_SERIES; l++) {
            size_t seen = 0;
            for (size_t g = 0; g < nr; g++)
                seen += results_pick(r, r->values[RESULTS_LABEL][l], r->values[RESULTS_REGION][g],
                                     model, c->o->at_threads) != NULL;
            if (seen >= 2)
                labels[nl++] = r->values[RESULTS_LABEL][l];
        }
        if (nl == 0)
            continue;
        panel_init(p, nr);
        for (size_t g = 0; g < nr; g++) {
            regions[g] = r->values[RESULTS_REGION][g];
            alpha[g] = region_alpha[g < 4 ? g : 3];
        }
        for (size_t l = 0; l < nl; l++)
            for (size_t g = 0; g < nr; g++) {
                if (!results_pick(r, labels[l], regions[g], model, c->o->at_threads))
                    continue;
                snprintf(keytext[nkey], sizeof keytext[nkey], "%s %s", labels[l], regions[g]);
                keyname[nkey] = keytext[nkey];
                keycolor[nkey] = chart_color(c, labels[l]);
                keyalpha[nkey++] = alpha[g];
            }
        for (size_t g = 0; g < nr; g++) {
            for (size_t l = 0; l < nl; l++) {
                const struct results_group *gr =
                    results_pick(r, labels[l], regions[g], model, c->o->at_threads);
                const struct results_group *b0 =
                    results_pick(r, labels[l], base_region, model, c->o->at_threads);
                if (!gr)
                    continue;
                picked[np++] = gr;
                struct bar *b = panel_add(p, g, l, gr->ips.mean, gr->ips.min, gr->ips.max,
                                          chart_color(c, labels[l]));
                chart_fmt_count(b->value, sizeof b->value, gr->ips.mean);
                if (g > 0 && b0 && b0->ips.mean > 0)
                    snprintf(b->pct, sizeof b->pct, "%+.1f%%",
                             (gr->ips.mean / b0->ips.mean - 1) * 100);
            }
        }
        char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512], lvl[96];
        panel_layout(p, nl, 1150);
        if (panel_write(c, p, dat) < 0)
            return -EIO;
        chart_level_phrase(lvl, sizeof lvl, picked, np);
        snprintf(title, sizeof title, "%s: throughput by client region %s (red: vs %s)", model,
                 lvl, base_region);
        snprintf(file, sizeof file, "4-regions-%s", model);
        chart_path(c, out, file);
        FILE *f = chart_preamble(c, pre, out, title);
        if (!f)
            return -EIO;
        gp_panel(c, f, "", dat, p, 0, "Throughput (images/s)", "%g", title);
        gp_bar_common(c, f, nr, alpha, 0, keyname, keycolor, keyalpha, nkey);
        gp_xtics(c, f, labels, nl);
        int rc = chart_draw(c, f, pre, "bars.gp", out, title);
        if (rc < 0)
            return rc;
        drawn++;
    }
    if (!drawn)
        notes_add(&c->out->skipped, "no region chart: no deployment was measured from two client regions");
    return 0;
}

int chartbars_draw(struct chart_ctx *c)
{
    struct panel *p = malloc(sizeof *p), *q = malloc(sizeof *q);
    int rc;
    if (!p || !q)
        rc = -ENOMEM;
    else if ((rc = chart_throughput_bars(c, p)) == 0 && (rc = chart_cost(c, p, q)) == 0)
        rc = chart_regions(c, p);
    if (rc == -ENOMEM)
        lg_err(c->err, -ENOMEM, "out of memory");
    free(p);
    free(q);
    return rc;
}
