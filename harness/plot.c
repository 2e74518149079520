/*
 * plot.c: `loadgen plot`: results -> gnuplot data files and preambles in a
 * scratch folder -> one gnuplot run per chart with the scripts in
 * scripts/gnuplot.
 *
 * The scripts hold the look of the charts; this file decides what goes in
 * each (which groups, which level, which colours) and writes it down as
 * data. Colours are fixed per deployment for the whole set of charts: GPU
 * deployments in greens, CPU deployments in blues, anything else in
 * oranges, darker for bigger clusters.
 *
 * Ownership: plot_render() fills a plot_out the caller releases; the
 * scratch folder is removed before it returns. Single-threaded.
 */
#include "plot.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "gnuplot.h"

#define MAX_SERIES 64

static const char *const greens[] = {"#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"};
static const char *const blues[] = {"#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"};
static const char *const others[] = {"#fd8d3c", "#e6550d", "#a63603", "#d94801", "#7f2704"};

/* Fill opacity of each client region's bars in the region chart. */
static const double region_alpha[] = {1.0, 0.45, 0.25, 0.15};

struct ctx {
    const struct results *r;
    const struct plot_opts *o;
    struct plot_out *out;
    char tmp[256];          /* scratch folder: preambles, data, gnuplot's stderr */
    char scripts[PATH_MAX]; /* where common.gp and the chart scripts are */
    const char **color;     /* per label, in r->values[RESULTS_LABEL] order */
    int seq;                /* numbers scratch files */
    char *err;
};

/* ---- small writers ------------------------------------------------------ */

/* A gnuplot string literal: double quotes, with \ and " escaped. */
static void gp_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void gp_set_str(FILE *f, const char *name, const char *value)
{
    fprintf(f, "%s = ", name);
    gp_str(f, value);
    fputc('\n', f);
}

static void gp_str_array(FILE *f, const char *name, const char *const *v, size_t n)
{
    fprintf(f, "array %s[%zu] = [", name, n);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        gp_str(f, v[i]);
    }
    fputs("]\n", f);
}

static void gp_num_array(FILE *f, const char *name, const double *v, size_t n)
{
    fprintf(f, "array %s[%zu] = [", name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%g", i ? ", " : "", v[i]);
    fputs("]\n", f);
}

/* A number in a data file; "?" is gnuplot's missing value (set in
 * common.gp), which leaves a gap instead of a zero. */
static void dat_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputc('?', f);
}

/* Text in a tab-separated data file: tabs and newlines would split it. */
static void dat_text(FILE *f, const char *s)
{
    if (!*s) {
        fputc('?', f);
        return;
    }
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static unsigned long rgb_of(const char *hex)
{
    return strtoul(hex + 1, NULL, 16);
}

/* Figures on bars: three significant digits, k and M for big ones. */
static void fmt_count(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(buf, n, "?");
    else if (v >= 1e6)
        snprintf(buf, n, "%.3gM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, n, "%.3gk", v / 1e3);
    else if (v >= 100)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.3g", v);
}

static void fmt_money(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(buf, n, "?");
    else if (v >= 1)
        snprintf(buf, n, "$%.2f", v);
    else
        snprintf(buf, n, "$%.2g", v);
}

/* Part of a file name taken from the results: letters, digits, . - _. */
static void safe_name(char *dst, size_t n, const char *s)
{
    size_t i = 0;
    for (; *s && i + 1 < n; s++)
        dst[i++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                                  (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' ||
                                  *s == '_'
                              ? *s
                              : '_');
    dst[i] = '\0';
}

/* ---- scratch files, outputs and notes ----------------------------------- */

static FILE *scratch(struct ctx *c, const char *what, char *path)
{
    snprintf(path, PATH_MAX, "%s/%02d-%s", c->tmp, ++c->seq, what);
    FILE *f = fopen(path, "w");
    if (!f)
        lg_err(c->err, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

static int close_scratch(struct ctx *c, FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return lg_err(c->err, "%s: write failed (disk full?)", path);
    return 0;
}

static void skip(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct ctx *c, const char *fmt, ...)
{
    /* A note that cannot be kept is dropped: it only explains a gap. */
    char buf[LG_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **s = realloc(c->out->skipped, (c->out->nskipped + 1) * sizeof *s);
    if (!s)
        return;
    c->out->skipped = s;
    if ((s[c->out->nskipped] = strdup(buf)))
        c->out->nskipped++;
}

/* The output file of a chart: outdir/NAME.FORMAT, NAME made safe. */
static void chart_path(struct ctx *c, char *path, const char *name)
{
    char safe[PATH_MAX / 2];
    safe_name(safe, sizeof safe, name);
    snprintf(path, PATH_MAX, "%s/%s.%s", c->o->outdir, safe, c->o->format);
}

/* Starts a preamble: the variables every script needs. */
static FILE *preamble(struct ctx *c, char *pre, const char *out, const char *title)
{
    FILE *f = scratch(c, "pre.gp", pre);
    if (!f)
        return NULL;
    gp_set_str(f, "fmt", c->o->format);
    gp_set_str(f, "out", out);
    gp_set_str(f, "scripts", c->scripts);
    gp_set_str(f, "chart_title", title);
    return f;
}

/* Runs gnuplot on the preamble and a chart script; records the chart. */
static int draw(struct ctx *c, FILE *pre_f, const char *pre, const char *script,
                const char *out, const char *title)
{
    char script_path[PATH_MAX * 2], errlog[PATH_MAX];
    if (close_scratch(c, pre_f, pre) < 0)
        return -EIO;
    snprintf(script_path, sizeof script_path, "%s/%s", c->scripts, script);
    snprintf(errlog, sizeof errlog, "%s/gnuplot.err", c->tmp);
    const char *files[] = {pre, script_path};
    int rc = gnuplot_run(files, 2, errlog, c->err);
    if (rc < 0)
        return rc;
    struct stat st;
    if (stat(out, &st) < 0 || st.st_size == 0)
        return lg_err(c->err, "gnuplot ran %s but wrote nothing to %s", script, out), -EIO;
    struct plot_chart *ch = realloc(c->out->charts, (c->out->ncharts + 1) * sizeof *ch);
    if (!ch)
        return lg_err(c->err, "out of memory"), -ENOMEM;
    c->out->charts = ch;
    ch += c->out->ncharts;
    ch->path = strdup(out);
    ch->title = strdup(title);
    if (!ch->path || !ch->title) {
        free(ch->path);
        free(ch->title);
        return lg_err(c->err, "out of memory"), -ENOMEM;
    }
    c->out->ncharts++;
    return 0;
}

/* ---- colours and names -------------------------------------------------- */

static const char *pick_shade(const char *const *pal, size_t k, size_t of)
{
    /* Spread a family's k-th of `of` members over the palette, light to
     * dark, so two deployments are never neighbouring shades. */
    if (of <= 1)
        return pal[2];
    if (of > 5)
        return pal[k % 5];
    return pal[(k * 4 + (of - 1) / 2) / (of - 1)];
}

static int build_colors(struct ctx *c)
{
    const struct results *r = c->r;
    size_t n = r->nvalues[RESULTS_LABEL], count[3] = {0}, seen[3] = {0};
    c->color = calloc(n ? n : 1, sizeof *c->color);
    if (!c->color)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        count[results_device(r->values[RESULTS_LABEL][i], NULL)]++;
    for (size_t i = 0; i < n; i++) {
        enum results_device d = results_device(r->values[RESULTS_LABEL][i], NULL);
        const char *const *pal = d == RESULTS_GPU ? greens : d == RESULTS_CPU ? blues : others;
        c->color[i] = pick_shade(pal, seen[d]++, count[d]);
    }
    return 0;
}

static const char *label_color(const struct ctx *c, const char *label)
{
    for (size_t i = 0; i < c->r->nvalues[RESULTS_LABEL]; i++)
        if (strcmp(c->r->values[RESULTS_LABEL][i], label) == 0)
            return c->color[i];
    return others[0];
}

static int many_regions(const struct ctx *c)
{
    return c->r->nvalues[RESULTS_REGION] > 1;
}

/* ", client in eastus" when there are several regions to tell apart. */
static void region_suffix(const struct ctx *c, char *buf, size_t n, const char *region)
{
    if (many_regions(c) && *region)
        snprintf(buf, n, ", client in %s", region);
    else
        buf[0] = '\0';
}

/* Names the level the bars show: "at 50 threads", or a hedge when the
 * deployments' highest levels differ. */
static void level_phrase(char *buf, size_t n, const struct results_group *const *g, size_t k)
{
    int same = 1;
    for (size_t i = 1; i < k; i++)
        same &= g[i]->level == g[0]->level && g[i]->open_loop == g[0]->open_loop;
    if (k == 0)
        buf[0] = '\0';
    else if (!same)
        snprintf(buf, n, "at each deployment's highest load");
    else if (g[0]->open_loop)
        snprintf(buf, n, "at %g requests/s offered", g[0]->level);
    else
        snprintf(buf, n, "at %g threads", g[0]->level);
}

/* ---- chart 1: throughput vs concurrency --------------------------------- */

static int chart_throughput(struct ctx *c)
{
    const struct results *r = c->r;
    for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++) {
        const char *model = r->values[RESULTS_MODEL][m];
        for (int open = 0; open <= 1; open++) {
            const char *name[MAX_SERIES], *color[MAX_SERIES];
            char names[MAX_SERIES][2 * RESULTS_TEXT + 8];
            double dash[MAX_SERIES];
            size_t n = 0;
            char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512];
            FILE *f = NULL;
            for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && n < MAX_SERIES; l++)
                for (size_t g = 0; g < r->nvalues[RESULTS_REGION] && n < MAX_SERIES; g++) {
                    const char *label = r->values[RESULTS_LABEL][l];
                    const char *region = r->values[RESULTS_REGION][g];
                    size_t points = 0;
                    for (size_t i = 0; i < r->ngroups; i++) {
                        const struct results_group *gr = &r->groups[i];
                        if (gr->open_loop != open || strcmp(gr->label, label) ||
                            strcmp(gr->region, region) || strcmp(gr->model, model))
                            continue;
                        if (!f && !(f = scratch(c, "throughput.dat", dat)))
                            return -EIO;
                        if (points++ == 0 && n > 0)
                            fputs("\n\n", f);
                        fprintf(f, "%g\t", gr->level);
                        dat_num(f, gr->ips.mean);
                        fputc('\t', f);
                        dat_num(f, gr->ips.min);
                        fputc('\t', f);
                        dat_num(f, gr->ips.max);
                        fputc('\n', f);
                    }
                    if (!points)
                        continue;
                    if (many_regions(c))
                        snprintf(names[n], sizeof names[n], "%s, %s", label, region);
                    else
                        snprintf(names[n], sizeof names[n], "%s", label);
                    name[n] = names[n];
                    color[n] = label_color(c, label);
                    dash[n] = (double)(g + 1);
                    n++;
                }
            if (!f)
                continue;
            if (close_scratch(c, f, dat) < 0)
                return -EIO;
            snprintf(file, sizeof file, "1-throughput-%s%s", open ? "open-" : "", model);
            chart_path(c, out, file);
            snprintf(title, sizeof title, "%s: throughput vs %s (mean of cycles, bars: min-max)",
                     model, open ? "offered rate" : "concurrency");
            if (!(f = preamble(c, pre, out, title)))
                return -EIO;
            gp_set_str(f, "data", dat);
            fprintf(f, "n = %zu\n", n);
            gp_str_array(f, "name", name, n);
            gp_str_array(f, "color", color, n);
            gp_num_array(f, "dash", dash, n);
            gp_set_str(f, "xlabel_text", open ? "Offered rate (requests/s)"
                                              : "Concurrent requests (threads)");
            gp_set_str(f, "ylabel_text", "Throughput (images/s)");
            int rc = draw(c, f, pre, "throughput.gp", out, title);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- bar charts (2, 3, 4) ----------------------------------------------- */

/* One bar: where it goes and what it says. */
struct bar {
    double x, mean, min, max;
    char value[48], pct[32]; /* text above the bar; pct "" for none */
    const char *color;
};

/* A bar panel being assembled: series are blocks of the data file. */
struct panel {
    struct bar bars[MAX_SERIES][MAX_SERIES]; /* [series][group] */
    size_t nbars[MAX_SERIES];
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
                size_t n = strlen(b->value);
                snprintf(b->value + n, sizeof b->value - n, " (%s)", b->pct);
                b->pct[0] = '\0';
            }
        }
}

static int panel_write(struct ctx *c, const struct panel *p, char *dat)
{
    FILE *f = scratch(c, "bars.dat", dat);
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
            dat_num(f, b->mean);
            fputc('\t', f);
            dat_num(f, b->min);
            fputc('\t', f);
            dat_num(f, b->max);
            fputc('\t', f);
            dat_text(f, b->value);
            fprintf(f, "\t%lu\t", rgb_of(b->color));
            dat_text(f, b->pct);
            fputc('\t', f);
            dat_num(f, *b->pct ? b->max : NAN);
            fputc('\n', f);
        }
    }
    return close_scratch(c, f, dat);
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

/* Group names along x, as a command the script evals. */
static void gp_xtics(FILE *f, const char *const *names, size_t n)
{
    fprintf(f, "ngroups = %zu\n", n);
    fputs("xticsdef = \"set xtics (", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s\\\"", i ? ", " : "");
        for (const char *s = names[i]; *s; s++)
            fprintf(f, *s == '"' || *s == '\\' ? "\\\\\\%c" : *s == '%' ? "%%%c" : "%c", *s);
        fprintf(f, "\\\" %zu", i);
    }
    fputs(")\"\n", f);
}

/* A panel's variables, with a suffix: "" for a chart of one panel (then
 * the names are those bars_panel.gp reads), "1" and "2" for cost.gp. */
static void gp_panel(FILE *f, const char *sfx, const char *dat, const struct panel *p,
                     int logy, const char *ylabel, const char *yformat, const char *title)
{
    double base, top;
    panel_range(p, logy, &base, &top);
    fprintf(f, "data%s = ", sfx);
    gp_str(f, dat);
    fprintf(f, "\n%s%s = ", *sfx ? "ylabel" : "ylabel_text", sfx);
    gp_str(f, ylabel);
    fprintf(f, "\nyformat%s = ", sfx);
    gp_str(f, yformat);
    fprintf(f, "\n%s%s = ", *sfx ? "title" : "panel_title", sfx);
    gp_str(f, title);
    fprintf(f, "\nytop%s = %g\nybase%s = %g\nvertical%s = %d\n", sfx, top, sfx, base, sfx,
            p->vertical);
}

static void gp_bar_common(FILE *f, size_t nseries, const double *alpha, int logy,
                          const char *const *keyname, const char *const *keycolor,
                          const double *keyalpha, size_t nkey)
{
    fprintf(f, "n = %zu\nnkey = %zu\nlogy = %d\nbarwidth = %g\n", nseries, nkey, logy,
            0.8 / (double)nseries * 0.92);
    gp_num_array(f, "alpha", alpha, nseries);
    gp_str_array(f, "keyname", keyname, nkey);
    gp_str_array(f, "keycolor", keycolor, nkey);
    gp_num_array(f, "keyalpha", keyalpha, nkey);
}

/* Deployments (labels) with a level to show in `region` for any of the
 * models; the models that have any. */
static void present(const struct ctx *c, const char *region, const char **labels,
                    size_t *nlabels, const char **models, size_t *nmodels)
{
    const struct results *r = c->r;
    *nlabels = *nmodels = 0;
    for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && *nlabels < MAX_SERIES; l++)
        for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++)
            if (results_pick(r, r->values[RESULTS_LABEL][l], region, r->values[RESULTS_MODEL][m],
                             c->o->at_threads)) {
                labels[(*nlabels)++] = r->values[RESULTS_LABEL][l];
                break;
            }
    for (size_t m = 0; m < r->nvalues[RESULTS_MODEL] && *nmodels < MAX_SERIES; m++)
        for (size_t l = 0; l < *nlabels; l++)
            if (results_pick(r, labels[l], region, r->values[RESULTS_MODEL][m],
                             c->o->at_threads)) {
                models[(*nmodels)++] = r->values[RESULTS_MODEL][m];
                break;
            }
}

static void note_missing_level(struct ctx *c, const char *what, const char *region)
{
    char where[RESULTS_TEXT + 32];
    region_suffix(c, where, sizeof where, region);
    skip(c, "no %s chart%s: no deployment has a %g-thread level (--at-threads)", what, where,
         c->o->at_threads);
}

static int chart_bars(struct ctx *c, struct panel *p)
{
    const struct results *r = c->r;
    for (size_t g = 0; g < r->nvalues[RESULTS_REGION]; g++) {
        const char *region = r->values[RESULTS_REGION][g];
        const char *labels[MAX_SERIES], *models[MAX_SERIES], *colors[MAX_SERIES];
        const struct results_group *picked[MAX_SERIES * MAX_SERIES];
        size_t nl, nm, np = 0;
        double alpha[MAX_SERIES];
        present(c, region, labels, &nl, models, &nm);
        if (nl == 0) {
            note_missing_level(c, "throughput-per-model", region);
            continue;
        }
        panel_init(p, nl);
        for (size_t l = 0; l < nl; l++) {
            alpha[l] = 1.0;
            colors[l] = label_color(c, labels[l]);
            for (size_t m = 0; m < nm; m++) {
                const struct results_group *gr =
                    results_pick(r, labels[l], region, models[m], c->o->at_threads);
                if (!gr)
                    continue;
                picked[np++] = gr;
                struct bar *b = panel_add(p, l, m, gr->ips.mean, gr->ips.min, gr->ips.max,
                                          colors[l]);
                fmt_count(b->value, sizeof b->value, gr->ips.mean);
            }
        }
        char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512], lvl[96],
            where[RESULTS_TEXT + 32];
        panel_layout(p, nm, 1150);
        if (panel_write(c, p, dat) < 0)
            return -EIO;
        level_phrase(lvl, sizeof lvl, picked, np);
        region_suffix(c, where, sizeof where, region);
        snprintf(title, sizeof title, "Throughput per model %s%s%s", lvl, where,
                 c->o->log_scale ? " (log scale)" : "");
        snprintf(file, sizeof file, "2-throughput-by-model%s%s", many_regions(c) ? "-" : "",
                 many_regions(c) ? region : "");
        chart_path(c, out, file);
        FILE *f = preamble(c, pre, out, title);
        if (!f)
            return -EIO;
        gp_panel(f, "", dat, p, c->o->log_scale, "Throughput (images/s)", "%g", title);
        gp_bar_common(f, nl, alpha, c->o->log_scale, labels, colors, alpha, nl);
        gp_xtics(f, models, nm);
        int rc = draw(c, f, pre, "bars.gp", out, title);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int chart_cost(struct ctx *c, struct panel *p, struct panel *q)
{
    const struct results *r = c->r;
    int any_cost = 0;
    for (size_t i = 0; i < r->ngroups; i++)
        any_cost |= isfinite(r->groups[i].cost_per_hour) && r->groups[i].cost_per_hour > 0;
    if (!any_cost) {
        skip(c, "no cost chart: no cost_per_hour in the results (run loadgen with "
             "--cost-per-hour)");
        return 0;
    }
    for (size_t g = 0; g < r->nvalues[RESULTS_REGION]; g++) {
        const char *region = r->values[RESULTS_REGION][g];
        const char *all[MAX_SERIES], *labels[MAX_SERIES], *models[MAX_SERIES],
            *colors[MAX_SERIES];
        const struct results_group *picked[MAX_SERIES * MAX_SERIES];
        size_t na, nl = 0, nm, np = 0;
        double alpha[MAX_SERIES];
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
            colors[l] = label_color(c, labels[l]);
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
                fmt_count(b->value, sizeof b->value, b->mean);
                /* Cost per 1000 images; the fastest cycle is the cheapest. */
                b = panel_add(q, l, m, cost / (gr->ips.mean * 3.6),
                              gr->ips.max > 0 ? cost / (gr->ips.max * 3.6) : NAN,
                              gr->ips.min > 0 ? cost / (gr->ips.min * 3.6) : NAN, colors[l]);
                fmt_money(b->value, sizeof b->value, b->mean);
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
        level_phrase(lvl, sizeof lvl, picked, np);
        region_suffix(c, where, sizeof where, region);
        snprintf(title, sizeof title, "Cost efficiency %s%s (from cost_per_hour)", lvl, where);
        snprintf(file, sizeof file, "3-cost%s%s", many_regions(c) ? "-" : "",
                 many_regions(c) ? region : "");
        chart_path(c, out, file);
        FILE *f = preamble(c, pre, out, title);
        if (!f)
            return -EIO;
        gp_panel(f, "1", dat1, p, 0,
                 unit == 1e6   ? "Images per dollar (millions)"
                 : unit == 1e3 ? "Images per dollar (thousands)"
                               : "Images per dollar",
                 "%g", "Images per dollar (more is better)");
        gp_panel(f, "2", dat2, q, 0, "Cost per 1000 images (USD)", "$%g",
                 "Cost per 1000 images (less is better)");
        gp_bar_common(f, nl, alpha, 0, labels, colors, alpha, nl);
        gp_xtics(f, models, nm);
        int rc = draw(c, f, pre, "cost.gp", out, title);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int chart_regions(struct ctx *c, struct panel *p)
{
    const struct results *r = c->r;
    size_t nr = r->nvalues[RESULTS_REGION];
    if (nr < 2) {
        const char *only = nr ? r->values[RESULTS_REGION][0] : "";
        skip(c, "no region chart: the results come from one client region%s%s%s",
             *only ? " (" : "", only, *only ? ")" : "");
        return 0;
    }
    if (nr > MAX_SERIES)
        nr = MAX_SERIES;
    const char *base_region = r->values[RESULTS_REGION][0];
    int drawn = 0;
    for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++) {
        const char *model = r->values[RESULTS_MODEL][m];
        const char *labels[MAX_SERIES], *keyname[MAX_SERIES], *keycolor[MAX_SERIES];
        const struct results_group *picked[MAX_SERIES * MAX_SERIES];
        double alpha[MAX_SERIES];
        size_t nl = 0, np = 0;
        /* A deployment belongs here when two regions measured it. */
        for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && nl < MAX_SERIES; l++) {
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
            keyname[g] = r->values[RESULTS_REGION][g];
            keycolor[g] = "#707070";
            alpha[g] = region_alpha[g < 4 ? g : 3];
            for (size_t l = 0; l < nl; l++) {
                const struct results_group *gr =
                    results_pick(r, labels[l], keyname[g], model, c->o->at_threads);
                const struct results_group *b0 =
                    results_pick(r, labels[l], base_region, model, c->o->at_threads);
                if (!gr)
                    continue;
                picked[np++] = gr;
                struct bar *b = panel_add(p, g, l, gr->ips.mean, gr->ips.min, gr->ips.max,
                                          label_color(c, labels[l]));
                fmt_count(b->value, sizeof b->value, gr->ips.mean);
                if (g > 0 && b0 && b0->ips.mean > 0)
                    snprintf(b->pct, sizeof b->pct, "%+.1f%%",
                             (gr->ips.mean / b0->ips.mean - 1) * 100);
            }
        }
        char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512], lvl[96];
        panel_layout(p, nl, 1150);
        if (panel_write(c, p, dat) < 0)
            return -EIO;
        level_phrase(lvl, sizeof lvl, picked, np);
        snprintf(title, sizeof title, "%s: throughput by client region %s (red: vs %s)", model,
                 lvl, base_region);
        snprintf(file, sizeof file, "4-regions-%s", model);
        chart_path(c, out, file);
        FILE *f = preamble(c, pre, out, title);
        if (!f)
            return -EIO;
        gp_panel(f, "", dat, p, 0, "Throughput (images/s)", "%g", title);
        gp_bar_common(f, nr, alpha, 0, keyname, keycolor, alpha, nr);
        gp_xtics(f, labels, nl);
        int rc = draw(c, f, pre, "bars.gp", out, title);
        if (rc < 0)
            return rc;
        drawn++;
    }
    if (!drawn)
        skip(c, "no region chart: no deployment was measured from two client regions");
    return 0;
}

/* ---- charts 5 and 6: from JSON results ---------------------------------- */

/* The level a spectrum shows for (label, region, model): closed loop when
 * there is any, at --at-threads or the highest level, the last cycle. */
static const struct results_level *spectrum_level(const struct ctx *c, const char *label,
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

static int chart_spectrum(struct ctx *c)
{
    const struct results *r = c->r;
    size_t with_pct = 0;
    for (size_t i = 0; i < r->nruns; i++)
        for (size_t j = 0; j < r->runs[i].nlevels; j++)
            with_pct += r->runs[i].levels[j].npct > 0;
    if (r->nruns == 0) {
        skip(c, "no latency spectrum: no JSON results given (loadgen --json FILE)");
        return 0;
    }
    if (with_pct == 0) {
        skip(c, "no latency spectrum: the JSON results carry no percentiles");
        return 0;
    }
    for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++) {
        const char *model = r->values[RESULTS_MODEL][m];
        const struct results_level *lv[MAX_SERIES];
        const char *name[MAX_SERIES], *color[MAX_SERIES];
        char names[MAX_SERIES][2 * RESULTS_TEXT + 64], lvl[64] = "";
        double dash[MAX_SERIES], xmax = 10;
        size_t n = 0;
        for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && n < MAX_SERIES; l++)
            for (size_t g = 0; g < r->nvalues[RESULTS_REGION] && n < MAX_SERIES; g++) {
                const char *label = r->values[RESULTS_LABEL][l];
                const char *region = r->values[RESULTS_REGION][g];
                if (!(lv[n] = spectrum_level(c, label, region, model)))
                    continue;
                color[n] = label_color(c, label);
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
                     many_regions(c) ? ", " : "", many_regions(c) ? w->region : "",
                     same ? "" : " (", same ? "" : at, same ? "" : ")");
            name[i] = names[i];
            if (same)
                snprintf(lvl, sizeof lvl, " at %s", at);
        }
        char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512];
        FILE *f = scratch(c, "spectrum.dat", dat);
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
                xmax = fmax(xmax, x);
                fprintf(f, "%.9g\t", x);
                dat_num(f, pt->ms);
                fputc('\n', f);
            }
        }
        if (close_scratch(c, f, dat) < 0)
            return -EIO;
        snprintf(file, sizeof file, "5-latency-spectrum-%s", model);
        chart_path(c, out, file);
        snprintf(title, sizeof title, "%s: latency by percentile%s (last cycle)", model, lvl);
        if (!(f = preamble(c, pre, out, title)))
            return -EIO;
        gp_set_str(f, "data", dat);
        fprintf(f, "n = %zu\nxmax = %g\n", n, xmax);
        gp_str_array(f, "name", name, n);
        gp_str_array(f, "color", color, n);
        gp_num_array(f, "dash", dash, n);
        fputs("xticsdef = \"set xtics (", f);
        /* Tic labels are formats to gnuplot: %% prints a percent sign. */
        static const char *const tic[] = {"0%%", "50%%", "90%%", "99%%", "99.9%%", "99.99%%",
                                          "99.999%%", "99.9999%%"};
        static const double at[] = {1, 2, 10, 100, 1e3, 1e4, 1e5, 1e6};
        for (size_t k = 0; k < sizeof at / sizeof at[0] && at[k] <= xmax * 1.0001; k++)
            fprintf(f, "%s\\\"%s\\\" %g", k ? ", " : "", tic[k], at[k]);
        fputs(")\"\n", f);
        int rc = draw(c, f, pre, "spectrum.gp", out, title);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* One run over time: the levels laid end to end on the wall clock. */
static int chart_timeline(struct ctx *c, const struct results_run *run)
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
        skip(c, "no timeline for %s: it has no per-second timeline", run->source);
        return 0;
    }
    char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512];
    FILE *f = scratch(c, "timeline.dat", dat);
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
        unsigned long rgb = rgb_of(label_color(c, l->row.label));
        for (size_t k = 0; k < l->nticks; k++) {
            const struct results_tick *t = &l->ticks[k];
            /* The last bucket of a level is cut short by its end: its
             * rate is completions over the part that existed. The sliver
             * a long level ends with says more about rounding than rate;
             * a level shorter than a second is all sliver, and exact. */
            double width = fmin(1.0, dur - t->t_s);
            int sliver = width < 0.2 && l->nticks > 1;
            fprintf(f, "%.4f\t", start + t->t_s + (width > 0 ? width : 1) / 2);
            dat_num(f, width > 0 && !sliver ? t->completions / width : NAN);
            fputc('\t', f);
            dat_num(f, t->p50_ms);
            fputc('\t', f);
            dat_num(f, t->p99_ms);
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
    if (close_scratch(c, f, dat) < 0)
        return -EIO;

    const struct results_row *w = &run->levels[0].row;
    int one = 1;
    for (size_t j = 1; j < run->nlevels; j++)
        one &= strcmp(run->levels[j].row.label, w->label) == 0 &&
               strcmp(run->levels[j].row.model, w->model) == 0 &&
               strcmp(run->levels[j].row.region, w->region) == 0;
    if (one) {
        snprintf(title, sizeof title, "Run over time: %s, %s%s%s", w->label, w->model,
                 *w->region ? ", " : "", w->region);
        snprintf(file, sizeof file, "6-timeline-%s-%s%s%s", w->label, w->model,
                 many_regions(c) ? "-" : "", many_regions(c) ? w->region : "");
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
    if (!(f = preamble(c, pre, out, title)))
        return -EIO;
    gp_set_str(f, "data", dat);
    gp_set_str(f, "level_text", closed ? "Concurrency (threads)" : "Offered rate (req/s)");
    /* Headroom keeps the highest level's step off the frame. */
    fprintf(f, "xmax = %g\ny2top = %g\n", xmax * 1.02, top * 1.15);
    return draw(c, f, pre, "timeline.gp", out, title);
}

/* ---- chart 7: GPU scaling ----------------------------------------------- */

static int chart_scaling(struct ctx *c)
{
    const struct results *r = c->r;
    int drawn = 0;
    for (size_t g = 0; g < r->nvalues[RESULTS_REGION]; g++) {
        const char *region = r->values[RESULTS_REGION][g];
        const char *name[MAX_SERIES], *color[MAX_SERIES];
        const struct results_group *picked[MAX_SERIES * MAX_SERIES];
        size_t n = 0, np = 0;
        int maxn = 1;
        char dat[PATH_MAX], pre[PATH_MAX], out[PATH_MAX], title[512], file[512], lvl[96],
            where[RESULTS_TEXT + 32];
        FILE *f = NULL;
        size_t nmodels = 0;
        for (size_t m = 0; m < r->nvalues[RESULTS_MODEL]; m++) {
            const char *model = r->values[RESULTS_MODEL][m];
            const struct results_group *pts[MAX_SERIES];
            int nodes[MAX_SERIES];
            size_t k = 0;
            for (size_t l = 0; l < r->nvalues[RESULTS_LABEL] && k < MAX_SERIES; l++) {
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
            if (!f && !(f = scratch(c, "scaling.dat", dat)))
                return -EIO;
            if (n > 0)
                fputs("\n\n", f);
            /* Labels are in node order, so the first point is the base. */
            double per_node = pts[0]->ips.mean / nodes[0];
            for (size_t i = 0; i < k; i++) {
                double ideal = per_node * nodes[i];
                fprintf(f, "%d\t", nodes[i]);
                dat_num(f, pts[i]->ips.mean);
                fputc('\t', f);
                dat_num(f, pts[i]->ips.min);
                fputc('\t', f);
                dat_num(f, pts[i]->ips.max);
                /* The base point is linear by definition: no label. What
                 * the step from the previous point added is counted in
                 * nodes' worth of the base's throughput per node. */
                fprintf(f, "\t%.6g\t%.0f%% of linear\t", ideal, 100 * pts[i]->ips.mean / ideal);
                dat_num(f, i ? pts[i]->ips.mean : NAN);
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
            color[i] = pick_shade(greens, i, n);
        if (close_scratch(c, f, dat) < 0)
            return -EIO;
        level_phrase(lvl, sizeof lvl, picked, np);
        region_suffix(c, where, sizeof where, region);
        snprintf(title, sizeof title, "GPU scaling %s%s: throughput vs nodes", lvl, where);
        snprintf(file, sizeof file, "7-gpu-scaling%s%s", many_regions(c) ? "-" : "",
                 many_regions(c) ? region : "");
        chart_path(c, out, file);
        if (!(f = preamble(c, pre, out, title)))
            return -EIO;
        gp_set_str(f, "data", dat);
        fprintf(f, "n = %zu\nxmax = %d\n", n, maxn);
        gp_str_array(f, "name", name, n);
        gp_str_array(f, "color", color, n);
        int rc = draw(c, f, pre, "scaling.gp", out, title);
        if (rc < 0)
            return rc;
        drawn++;
    }
    if (!drawn)
        skip(c, "no GPU scaling chart: it needs gpu-N deployments of two or more node counts "
             "(labels like gpu-1, gpu-2)");
    return 0;
}

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
    struct ctx c = {.r = r, .o = o, .out = out, .err = err};
    struct panel *p = NULL, *q = NULL;
    int rc;
    if (strcmp(o->format, "png") && strcmp(o->format, "svg") && strcmp(o->format, "pdf"))
        return lg_err(err, "--format %s: write png, svg or pdf", o->format), -EINVAL;
    if (gnuplot_scripts_dir(c.scripts, sizeof c.scripts, err) < 0)
        return -ENOENT;
    if (mkdir_p(o->outdir, err) < 0)
        return -EINVAL;
    const char *tmp = getenv("TMPDIR");
    if (snprintf(c.tmp, sizeof c.tmp, "%s/loadgen-plot.XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
        (int)sizeof c.tmp)
        return lg_err(err, "TMPDIR=%s: too long a path for a scratch folder", tmp), -EINVAL;
    if (!mkdtemp(c.tmp))
        return lg_err(err, "%s: cannot create a scratch folder: %s", c.tmp, strerror(errno)),
               -EIO;
    p = malloc(sizeof *p);
    q = malloc(sizeof *q);
    if (!p || !q || build_colors(&c) < 0) {
        rc = lg_err(err, "out of memory");
        goto done;
    }
    if ((rc = chart_throughput(&c)) < 0 || (rc = chart_bars(&c, p)) < 0 ||
        (rc = chart_cost(&c, p, q)) < 0 || (rc = chart_regions(&c, p)) < 0 ||
        (rc = chart_spectrum(&c)) < 0)
        goto done;
    if (r->nruns == 0)
        skip(&c, "no timeline: no JSON results given (loadgen --json FILE)");
    for (size_t i = 0; i < r->nruns; i++)
        if ((rc = chart_timeline(&c, &r->runs[i])) < 0)
            goto done;
    rc = chart_scaling(&c);
done:
    remove_scratch(c.tmp);
    free(c.color);
    free(p);
    free(q);
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
