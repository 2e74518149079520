/*
 * chart.c: the helpers the chart builders share (see chart.h): gnuplot
 * literals and data cells, scratch files, running a chart, colours and
 * the words charts are titled with. Single-threaded.
 */
#include "analyze/chart.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "analyze/gnuplot.h"

static const char *const greens[] = {"#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"};
static const char *const blues[] = {"#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"};
static const char *const others[] = {"#fd8d3c", "#e6550d", "#a63603", "#d94801", "#7f2704"};


/* ---- small writers ------------------------------------------------------ */

/* Text in a gnuplot data file, written so that gnuplot's string columns
 * (strcol, labels) give it back: they read octal escapes, so every byte but
 * letters, digits and plain punctuation goes as one, and a quote, backslash
 * or '#' stays what it is. Always four digits: after "\0" gnuplot reads
 * four, after "\1".."\7" three, so a digit that follows is never taken in. Control characters (tabs and newlines would
 * split the data) become spaces: a chart shows text on one line. */
static void put_text(FILE *f, const char *s, int tic)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p < 0x20 || *p == 0x7f ? ' ' : *p;
        if (ch == '%' && tic)
            fputs("%%", f);
        else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || strchr(" .,:;-_+()/", ch))
            fputc(ch, f);
        else
            fprintf(f, "\\%04o", ch);
    }
}

/* One line of the text file: '=' (so that no line is empty, a comment or
 * gnuplot's missing value), then the string. */
static void text_line(FILE *f, const char *s, int tic)
{
    fputc('=', f);
    put_text(f, s, tic);
    fputc('\n', f);
}

/* Adds a string to the text file; its index in T. */
static size_t text_add(struct chart_ctx *c, const char *s, int tic)
{
    text_line(c->text, s, tic);
    return ++c->ntext;
}

void chart_gp_set(struct chart_ctx *c, FILE *f, const char *name, const char *value)
{
    fprintf(f, "%s = T[%zu]\n", name, text_add(c, value, 0));
}

void chart_gp_path(struct chart_ctx *c, FILE *f, const char *name, const char *path)
{
    char buf[PATH_MAX + 2];
    snprintf(buf, sizeof buf, "%s%s", path[0] == '/' ? "" : "./", path);
    chart_gp_set(c, f, name, buf);
}

static void gp_strs(struct chart_ctx *c, FILE *f, const char *name, const char *const *v,
                    size_t n, int tic)
{
    fprintf(f, "array %s[%zu] = [", name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%sT[%zu]", i ? ", " : "", text_add(c, v[i], tic));
    fputs("]\n", f);
}

void chart_gp_strs(struct chart_ctx *c, FILE *f, const char *name, const char *const *v,
                   size_t n)
{
    gp_strs(c, f, name, v, n, 0);
}

void chart_gp_tics(struct chart_ctx *c, FILE *f, const char *name, const char *const *v,
                   size_t n)
{
    gp_strs(c, f, name, v, n, 1);
}

void chart_gp_nums(FILE *f, const char *name, const double *v, size_t n)
{
    fprintf(f, "array %s[%zu] = [", name, n);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        if (isfinite(v[i]))
            fprintf(f, "%.9g", v[i]);
        else
            fputs("NaN", f);
    }
    fputs("]\n", f);
}

/* A number in a data file; "?" is gnuplot's missing value (set in
 * common.gp), which leaves a gap instead of a zero. */
void chart_dat_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputc('?', f);
}

void chart_dat_text(FILE *f, const char *s)
{
    if (*s)
        put_text(f, s, 0);
    else
        fputc('?', f);
}

unsigned long chart_rgb(const char *hex)
{
    return strtoul(hex + 1, NULL, 16);
}

/* Figures on bars: three significant digits, k and M for big ones. */
void chart_fmt_count(char *buf, size_t n, double v)
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

/* Decimals that show two significant digits of v in fixed notation (never
 * an exponent: "$5e-05" is no price), at least 2 and at most 9. */
static int money_decimals(double v)
{
    if (!(v > 0) || v >= 1)
        return 2;
    int d = (int)-floor(log10(v)) + 1;
    return d < 2 ? 2 : d > 9 ? 9 : d;
}

void chart_fmt_money(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(buf, n, "?");
    else if (v == 0)
        snprintf(buf, n, "$0");
    else
        snprintf(buf, n, "$%.*f", money_decimals(v), v);
}

void chart_money_format(char *buf, size_t n, double top)
{
    /* gnuplot puts four to eight ticks on an axis: show a step of top / 4. */
    int d = isfinite(top) && top > 0 && top < 4 ? (int)-floor(log10(top / 4)) : 0;
    snprintf(buf, n, "$%%.%df", d < 0 ? 0 : d > 9 ? 9 : d);
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

FILE *chart_scratch(struct chart_ctx *c, const char *what, char *path)
{
    snprintf(path, PATH_MAX, "%s/%02d-%s", c->tmp, ++c->seq, what);
    FILE *f = fopen(path, "w");
    if (!f)
        lg_err(c->err, -EIO, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

int chart_close(struct chart_ctx *c, FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return lg_err(c->err, -EIO, "%s: write failed (disk full?)", path);
    return 0;
}

/* The output file of a chart: outdir/NAME.FORMAT, NAME made safe. */
void chart_path(struct chart_ctx *c, char *path, const char *name)
{
    char safe[PATH_MAX / 2];
    safe_name(safe, sizeof safe, name);
    snprintf(path, PATH_MAX, "%s/%s.%s", c->o->outdir, safe, c->o->format);
}

/* Starts a preamble: it reads the chart's text file into T, then sets the
 * variables every script needs. The text file's path is the one literal
 * string: the scratch folder, checked by plot_render() to hold no quote or
 * control character, in single quotes (where gnuplot expands nothing). */
FILE *chart_preamble(struct chart_ctx *c, char *pre, const char *out, const char *title)
{
    FILE *f = chart_scratch(c, "pre.gp", pre);
    if (!f)
        return NULL;
    if (!(c->text = chart_scratch(c, "text.dat", c->text_path))) {
        fclose(f);
        return NULL;
    }
    c->ntext = 0;
    fprintf(f, "set datafile separator \"\\t\"\n"
               "textfile = '%s'\n"
               "stats textfile using (0) nooutput\n"
               "array T[STATS_records]\n"
               "stats textfile using (T[int($0) + 1] = strcol(1)[2:], 0) nooutput\n",
            c->text_path);
    chart_gp_set(c, f, "fmt", c->o->format);
    chart_gp_path(c, f, "out", out);
    chart_gp_path(c, f, "scripts", c->scripts);
    chart_gp_set(c, f, "chart_title", title);
    return f;
}

/* Runs gnuplot on the preamble and a chart script; records the chart. */
int chart_draw(struct chart_ctx *c, FILE *pre_f, const char *pre, const char *script,
                const char *out, const char *title)
{
    char script_path[PATH_MAX * 2], errlog[PATH_MAX];
    int bad = chart_close(c, c->text, c->text_path);
    c->text = NULL;
    if (chart_close(c, pre_f, pre) < 0 || bad < 0)
        return -EIO;
    snprintf(script_path, sizeof script_path, "%s/%s", c->scripts, script);
    snprintf(errlog, sizeof errlog, "%s/gnuplot.err", c->tmp);
    const char *files[] = {pre, script_path};
    int rc = gnuplot_run(files, 2, errlog, c->err);
    if (rc < 0)
        return rc;
    struct stat st;
    if (stat(out, &st) < 0 || st.st_size == 0)
        return lg_err(c->err, -EIO, "gnuplot ran %s but wrote nothing to %s", script, out);
    struct plot_chart *ch = realloc(c->out->charts, (c->out->ncharts + 1) * sizeof *ch);
    if (!ch)
        return lg_err(c->err, -ENOMEM, "out of memory");
    c->out->charts = ch;
    ch += c->out->ncharts;
    ch->path = strdup(out);
    ch->title = strdup(title);
    if (!ch->path || !ch->title) {
        free(ch->path);
        free(ch->title);
        return lg_err(c->err, -ENOMEM, "out of memory");
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

const char *chart_green(size_t k, size_t of)
{
    return pick_shade(greens, k, of);
}

int chart_build_colors(struct chart_ctx *c)
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

const char *chart_color(const struct chart_ctx *c, const char *label)
{
    for (size_t i = 0; i < c->r->nvalues[RESULTS_LABEL]; i++)
        if (strcmp(c->r->values[RESULTS_LABEL][i], label) == 0)
            return c->color[i];
    return others[0];
}

int chart_many_regions(const struct chart_ctx *c)
{
    return c->r->nvalues[RESULTS_REGION] > 1;
}

/* ", client in eastus" when there are several regions to tell apart. */
void chart_region_suffix(const struct chart_ctx *c, char *buf, size_t n, const char *region)
{
    if (chart_many_regions(c) && *region)
        snprintf(buf, n, ", client in %s", region);
    else
        buf[0] = '\0';
}

/* Names the level the bars show: "at 50 threads", or a hedge when the
 * deployments' highest levels differ. */
void chart_level_phrase(char *buf, size_t n, const struct results_group *const *g, size_t k)
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

