/*
 * compare.c: `loadgen compare`: the comparison table (compare.h) and its
 * text, CSV and Markdown forms.
 *
 * Statistics: each cycle of a level is one sample of its throughput; the
 * 95% confidence interval of the mean uses Student's t with n-1 degrees of
 * freedom (cycles are few, so the normal 1.96 would be far too narrow).
 * Two deployments whose intervals overlap are reported as not clearly
 * different: a conservative test, but the one a reader can check by eye.
 *
 * Ownership: a compare_table points into the results it was built from.
 * Single-threaded.
 */
#include "analyze/compare.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/cmd.h"
#include "common.h"

/* t(0.975, df) for df = 1..30, then 40, 60, 120 and infinity. */
static const double t95_small[30] = {
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010,  2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796,  2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
};
static const double t95_big_df[] = {30, 40, 60, 120};
static const double t95_big[] = {2.0423, 2.0211, 2.0003, 1.9799};

double compare_t95(size_t df)
{
    if (df == 0)
        return NAN;
    if (df <= 30)
        return t95_small[df - 1];
    /* Between table entries t is close to linear in 1/df. */
    double x = 1.0 / (double)df;
    for (size_t i = 0; i + 1 < sizeof t95_big_df / sizeof t95_big_df[0]; i++) {
        double x0 = 1 / t95_big_df[i], x1 = 1 / t95_big_df[i + 1];
        if (x <= x0 && x >= x1)
            return t95_big[i + 1] + (t95_big[i] - t95_big[i + 1]) * (x - x1) / (x0 - x1);
    }
    double x0 = 1 / 120.0;
    return 1.9600 + (1.9799 - 1.9600) * x / x0;
}

double compare_ci95(const struct results_stat *s)
{
    if (s->n < 2 || !isfinite(s->sd))
        return NAN;
    return compare_t95(s->n - 1) * s->sd / sqrt((double)s->n);
}

double compare_pct(double x, double base)
{
    if (!(base > 0) || !isfinite(x))
        return NAN;
    return (x / base - 1) * 100;
}

int compare_overlap(double m1, double h1, double m2, double h2)
{
    if (!isfinite(h1) || !isfinite(h2) || !isfinite(m1) || !isfinite(m2))
        return -1;
    return fabs(m1 - m2) <= h1 + h2;
}

int compare_rows_overlap(const struct compare_row *a, const struct compare_row *b)
{
    return compare_overlap(a->g->ips.mean, a->ci95, b->g->ips.mean, b->ci95);
}

const char *compare_dim_name(enum results_dim d)
{
    return d == RESULTS_LABEL ? "label" : d == RESULTS_REGION ? "region" : "model";
}

static const char *dim_of(const struct results_group *g, enum results_dim d)
{
    return d == RESULTS_LABEL ? g->label : d == RESULTS_REGION ? g->region : g->model;
}

/* ---- building ----------------------------------------------------------- */

static const char *default_baseline(const struct results *r, enum results_dim by)
{
    /* The study measured GPUs against the CPU cluster. */
    if (by == RESULTS_LABEL)
        for (size_t i = 0; i < r->nvalues[by]; i++)
            if (results_device(r->values[by][i], NULL) == RESULTS_CPU)
                return r->values[by][i];
    return r->nvalues[by] ? r->values[by][0] : NULL;
}

static int has_value(const struct results *r, enum results_dim d, const char *v)
{
    for (size_t i = 0; i < r->nvalues[d]; i++)
        if (strcmp(r->values[d][i], v) == 0)
            return 1;
    return 0;
}

static void fill_row(struct compare_row *row, const struct results_group *g, enum results_dim by)
{
    row->g = g;
    row->value = dim_of(g, by);
    row->ci95 = compare_ci95(&g->ips);
    row->per_dollar = g->cost_per_hour > 0 ? g->ips.mean * 3600 / g->cost_per_hour : NAN;
    row->error_rate = g->requests > 0 ? g->errors / g->requests : NAN;
    row->pct = row->per_dollar_pct = NAN;
    row->overlaps = -1;
}

/* The highest level that every value of `by` in a section has (in the mode
 * results_pick prefers for each), or 0 when they share none: comparing 2
 * threads against 4 would rank the load, not the deployments. */
static double common_level(const struct results *r, enum results_dim by, const char *v0[3])
{
    const char *v[3] = {v0[0], v0[1], v0[2]};
    double best = 0;
    for (size_t gi = 0; gi < r->ngroups; gi++) {
        const struct results_group *cand = &r->groups[gi];
        const char *cv[3] = {cand->label, cand->region, cand->model};
        int match = 1;
        for (int d = 0; d < 3; d++)
            if (d != (int)by && strcmp(cv[d], v[d]) != 0)
                match = 0;
        if (!match || cand->level <= best)
            continue;
        int everyone = 1, anyone = 0;
        for (size_t i = 0; i < r->nvalues[by] && everyone; i++) {
            v[by] = r->values[by][i];
            if (!results_pick(r, v[RESULTS_LABEL], v[RESULTS_REGION], v[RESULTS_MODEL], 0))
                continue; /* not in this section at all */
            anyone = 1;
            const struct results_group *g =
                results_pick(r, v[RESULTS_LABEL], v[RESULTS_REGION], v[RESULTS_MODEL], cand->level);
            everyone = g && g->open_loop == cand->open_loop;
        }
        if (everyone && anyone)
            best = cand->level;
    }
    return best;
}

int compare_build(const struct results *r, enum results_dim by, const char *baseline,
                  double at_threads, struct compare_table *t, char *err)
{
    memset(t, 0, sizeof *t);
    t->by = by;
    /* Sections read "resnet50, eastus": the model before the rest. */
    if (by == RESULTS_LABEL) {
        t->keys[0] = RESULTS_MODEL;
        t->keys[1] = RESULTS_REGION;
    } else if (by == RESULTS_REGION) {
        t->keys[0] = RESULTS_MODEL;
        t->keys[1] = RESULTS_LABEL;
    } else {
        t->keys[0] = RESULTS_LABEL;
        t->keys[1] = RESULTS_REGION;
    }
    if (baseline && !has_value(r, by, baseline)) {
        char known[LG_ERRLEN / 2] = "";
        size_t used = 0;
        for (size_t i = 0; i < r->nvalues[by] && used + 4 < sizeof known; i++) {
            int w = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                             r->values[by][i]);
            used += w > 0 ? (size_t)w : 0;
        }
        return lg_err(err, -EINVAL, "--baseline %s: no %s '%s' in the results (they have: %s)", baseline,
                      compare_dim_name(by), baseline, known);
    }
    t->baseline = baseline ? baseline : default_baseline(r, by);

    size_t n0 = r->nvalues[t->keys[0]], n1 = r->nvalues[t->keys[1]], nb = r->nvalues[by];
    t->sections = calloc(n0 * n1 + 1, sizeof *t->sections);
    if (!t->sections)
        return lg_err(err, -ENOMEM, "out of memory");
    for (size_t a = 0; a < n0; a++)
        for (size_t b = 0; b < n1; b++) {
            struct compare_section *s = &t->sections[t->nsections];
            const char *v[3];
            s->key[0] = r->values[t->keys[0]][a];
            s->key[1] = r->values[t->keys[1]][b];
            s->rows = calloc(nb ? nb : 1, sizeof *s->rows);
            if (!s->rows) {
                compare_release(t);
                return lg_err(err, -ENOMEM, "out of memory");
            }
            v[t->keys[0]] = s->key[0];
            v[t->keys[1]] = s->key[1];
            v[by] = "";
            double level = at_threads > 0 ? at_threads : common_level(r, by, v);
            for (size_t i = 0; i < nb; i++) {
                v[by] = r->values[by][i];
                const struct results_group *g = results_pick(
                    r, v[RESULTS_LABEL], v[RESULTS_REGION], v[RESULTS_MODEL], level);
                if (g)
                    fill_row(&s->rows[s->nrows++], g, by);
            }
            if (s->nrows == 0) {
                free(s->rows);
                continue;
            }
            for (size_t i = 0; i < s->nrows; i++)
                if (strcmp(s->rows[i].value, t->baseline) == 0) {
                    s->rows[i].is_baseline = 1;
                    s->baseline = &s->rows[i];
                }
            for (size_t i = 0; s->baseline && i < s->nrows; i++) {
                struct compare_row *row = &s->rows[i];
                const struct compare_row *base = s->baseline;
                if (row->is_baseline)
                    continue;
                row->level_differs = row->g->level != base->g->level ||
                                     row->g->open_loop != base->g->open_loop;
                row->pct = compare_pct(row->g->ips.mean, base->g->ips.mean);
                row->per_dollar_pct = compare_pct(row->per_dollar, base->per_dollar);
                row->overlaps = compare_rows_overlap(row, base);
            }
            t->nsections++;
        }
    if (t->nsections == 0) {
        compare_release(t);
        if (at_threads > 0)
            return lg_err(err, -EINVAL, "--at-threads %g: no level with that many threads in the results",
                          at_threads);
        return lg_err(err, -EINVAL, "nothing to compare");
    }
    return 0;
}

void compare_release(struct compare_table *t)
{
    for (size_t i = 0; i < t->nsections; i++)
        free(t->sections[i].rows);
    free(t->sections);
    memset(t, 0, sizeof *t);
}

/* ---- words -------------------------------------------------------------- */

static void level_text(char *buf, size_t n, const struct results_group *g)
{
    snprintf(buf, n, g->open_loop ? "%g req/s" : "%g threads", g->level);
}

int compare_sentence(const struct compare_table *t, const struct compare_section *s,
                     const struct compare_row *row, char *buf, size_t size)
{
    const struct compare_row *base = s->baseline;
    if (!base || row->is_baseline || !isfinite(row->pct))
        return -1;
    char lvl[112];
    level_text(lvl, sizeof lvl, row->g);
    if (row->level_differs) {
        /* Never rank two loads as if they were one: say both. */
        char blvl[48];
        level_text(blvl, sizeof blvl, base->g);
        size_t l = strlen(lvl);
        snprintf(lvl + l, sizeof lvl - l, " (%s at %s: the levels differ)", base->value, blvl);
    }
    const char *unit = t->by == RESULTS_REGION ? "the client in " : "";
    int w;
    if (row->pct >= 0)
        w = snprintf(buf, size, "%s%s%s, %s: %s%s beat %s%s by %.1f%% (%.1f vs %.1f images/s)",
                     s->key[0], *s->key[1] ? ", " : "", s->key[1], lvl, unit, row->value, unit,
                     base->value, row->pct,
                     row->g->ips.mean, base->g->ips.mean);
    else
        w = snprintf(buf, size, "%s%s%s, %s: %s%s was %.1f%% slower than %s%s (%.1f vs %.1f "
                     "images/s)", s->key[0], *s->key[1] ? ", " : "", s->key[1], lvl, unit,
                     row->value, -row->pct, unit,
                     base->value, row->g->ips.mean, base->g->ips.mean);
    size_t used = w > 0 && (size_t)w < size ? (size_t)w : size - 1;
    if (isfinite(row->per_dollar_pct))
        used += (size_t)snprintf(buf + used, size - used, ", %.1f%% %s images per dollar",
                                 fabs(row->per_dollar_pct),
                                 row->per_dollar_pct >= 0 ? "more" : "fewer");
    if (used < size && row->overlaps == 1)
        snprintf(buf + used, size - used, "; but the 95%% intervals overlap: not a clear "
                 "difference");
    return 0;
}

/* ---- printers ----------------------------------------------------------- */

static void fmt_num(char *buf, size_t n, double v, int decimals)
{
    if (isfinite(v))
        snprintf(buf, n, "%.*f", decimals, v);
    else
        snprintf(buf, n, "-");
}

static void fmt_pct(char *buf, size_t n, const struct compare_row *row, int mark)
{
    if (row->is_baseline)
        snprintf(buf, n, "baseline");
    else if (isfinite(row->pct))
        snprintf(buf, n, "%+.1f%%%s", row->pct, mark && row->overlaps == 1 ? " *" : "");
    else
        snprintf(buf, n, "-");
}

static void fmt_tput(char *buf, size_t n, const struct compare_row *row)
{
    if (isfinite(row->ci95))
        snprintf(buf, n, "%.1f ± %.1f", row->g->ips.mean, row->ci95);
    else
        snprintf(buf, n, "%.1f", row->g->ips.mean);
}

/* Pairs other than with the baseline whose intervals overlap. */
static int print_overlaps(FILE *f, const struct compare_section *s, const char *lead,
                          const char *sep, const char *end)
{
    int any = 0;
    for (size_t i = 0; i < s->nrows; i++)
        for (size_t j = i + 1; j < s->nrows; j++) {
            if (s->rows[i].is_baseline || s->rows[j].is_baseline ||
                compare_rows_overlap(&s->rows[i], &s->rows[j]) != 1)
                continue;
            fprintf(f, "%s%s and %s", any ? sep : lead, s->rows[i].value, s->rows[j].value);
            any = 1;
        }
    if (any)
        fputs(end, f);
    return any;
}

static int any_level_differs(const struct compare_section *s)
{
    for (size_t i = 0; i < s->nrows; i++)
        if (s->rows[i].level_differs)
            return 1;
    return 0;
}

/* An error rate as a percentage, "-" when unknown. */
static void fmt_rate(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, v > 0 && v < 0.001 ? "<0.1%%" : "%.1f%%", v * 100);
    else
        snprintf(buf, n, "-");
}

static int any_overlap_mark(const struct compare_section *s)
{
    for (size_t i = 0; i < s->nrows; i++)
        if (s->rows[i].overlaps == 1)
            return 1;
    return 0;
}

void compare_print_text(FILE *f, const struct compare_table *t)
{
    const char *by = compare_dim_name(t->by);
    char vs[RESULTS_TEXT + 8];
    snprintf(vs, sizeof vs, "vs %s", t->baseline ? t->baseline : "-");
    for (size_t k = 0; k < t->nsections; k++) {
        const struct compare_section *s = &t->sections[k];
        size_t wv = strlen(by);
        for (size_t i = 0; i < s->nrows; i++)
            wv = strlen(s->rows[i].value) > wv ? strlen(s->rows[i].value) : wv;
        fprintf(f, "%s%s%s%s\n", k ? "\n" : "", s->key[0], *s->key[1] ? ", " : "", s->key[1]);
        fprintf(f, "  %-*s %8s %6s %20s %9s %9s %7s %11s %12s\n", (int)wv, by, "level", "cycles",
                "images/s (95% CI)", "p50 ms", "p99 ms", "errors", "images/$", vs);
        for (size_t i = 0; i < s->nrows; i++) {
            const struct compare_row *row = &s->rows[i];
            char lvl[32], tput[48], p50[24], p99[24], er[24], dol[32], pct[32];
            snprintf(lvl, sizeof lvl, row->g->open_loop ? "%gr/s%s" : "%g%s", row->g->level,
                     row->level_differs ? "!" : "");
            fmt_tput(tput, sizeof tput, row);
            fmt_num(p50, sizeof p50, row->g->p50_ms.mean, 1);
            fmt_num(p99, sizeof p99, row->g->p99_ms.mean, 1);
            fmt_rate(er, sizeof er, row->error_rate);
            fmt_num(dol, sizeof dol, row->per_dollar, 0);
            fmt_pct(pct, sizeof pct, row, 1);
            /* "±" is two bytes but one column: widen its field by one. */
            fprintf(f, "  %-*s %8s %6zu %*s %9s %9s %7s %11s %12s\n", (int)wv, row->value, lvl,
                    row->g->ips.n, isfinite(row->ci95) ? 21 : 20, tput, p50, p99, er, dol, pct);
        }
        if (any_level_differs(s))
            fprintf(f, "  ! not at %s's level: these rows share no level with it, so the\n"
                       "    difference is partly the load (use --at-threads, or run the same levels)\n",
                    s->baseline->value);
        if (any_overlap_mark(s))
            fprintf(f, "  * the 95%% intervals overlap %s's: not a clear difference\n",
                    s->baseline->value);
        print_overlaps(f, s, "  also overlapping: ", ", ", "\n");
        if (!s->baseline && t->baseline)
            fprintf(f, "  (no %s here: no percentages)\n", t->baseline);
        for (size_t i = 0; i < s->nrows; i++) {
            char line[1024];
            if (compare_sentence(t, s, &s->rows[i], line, sizeof line) == 0)
                fprintf(f, "  %s\n", line);
        }
    }
}

static void csv_num(FILE *f, double v, int decimals)
{
    if (isfinite(v))
        fprintf(f, ",%.*f", decimals, v);
    else
        fputc(',', f);
}

void compare_print_csv(FILE *f, const struct compare_table *t)
{
    fprintf(f, "%s,%s,%s,mode,level,cycles,images_per_s,ci95_low,ci95_high,p50_ms,p99_ms,"
            "cost_per_hour,images_per_dollar,baseline,vs_baseline_pct,"
            "images_per_dollar_vs_baseline_pct,overlaps_baseline,error_rate,level_differs\n",
            compare_dim_name(t->keys[0]), compare_dim_name(t->keys[1]),
            compare_dim_name(t->by));
    for (size_t k = 0; k < t->nsections; k++) {
        const struct compare_section *s = &t->sections[k];
        for (size_t i = 0; i < s->nrows; i++) {
            const struct compare_row *row = &s->rows[i];
            const struct results_group *g = row->g;
            fprintf(f, "%s,%s,%s,%s,%g,%zu", s->key[0], s->key[1], row->value,
                    g->open_loop ? "open" : "closed", g->level, g->ips.n);
            csv_num(f, g->ips.mean, 3);
            csv_num(f, g->ips.mean - row->ci95, 3);
            csv_num(f, g->ips.mean + row->ci95, 3);
            csv_num(f, g->p50_ms.mean, 3);
            csv_num(f, g->p99_ms.mean, 3);
            csv_num(f, g->cost_per_hour, 4);
            csv_num(f, row->per_dollar, 0);
            fprintf(f, ",%s", s->baseline ? s->baseline->value : "");
            csv_num(f, row->pct, 2);
            csv_num(f, row->per_dollar_pct, 2);
            fprintf(f, ",%s", row->overlaps == 1 ? "yes" : row->overlaps == 0 ? "no" : "");
            csv_num(f, row->error_rate, 6);
            fprintf(f, ",%s\n", row->level_differs ? "yes" : "no");
        }
    }
}

/* Markdown cells: a | would end the cell early. */
static void md_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', f);
        fputc(*s, f);
    }
}

void compare_print_markdown(FILE *f, const struct compare_table *t)
{
    for (size_t k = 0; k < t->nsections; k++) {
        const struct compare_section *s = &t->sections[k];
        fputs(k ? "\n### " : "### ", f);
        md_text(f, s->key[0]);
        fputs(", ", f);
        md_text(f, s->key[1]);
        fprintf(f, "\n\n| %s | level | cycles | images/s (95%% CI) | p50 ms | p99 ms | errors "
                "| images/$ | vs ", compare_dim_name(t->by));
        md_text(f, t->baseline ? t->baseline : "-");
        fputs(" |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", f);
        for (size_t i = 0; i < s->nrows; i++) {
            const struct compare_row *row = &s->rows[i];
            char tput[48], p50[24], p99[24], er[24], dol[32], pct[32];
            fmt_tput(tput, sizeof tput, row);
            fmt_num(p50, sizeof p50, row->g->p50_ms.mean, 1);
            fmt_num(p99, sizeof p99, row->g->p99_ms.mean, 1);
            fmt_rate(er, sizeof er, row->error_rate);
            fmt_num(dol, sizeof dol, row->per_dollar, 0);
            fmt_pct(pct, sizeof pct, row, 1);
            fputs("| ", f);
            md_text(f, row->value);
            fprintf(f, " | %g%s%s | %zu | %s | %s | %s | %s | %s | %s |\n", row->g->level,
                    row->g->open_loop ? " req/s" : "", row->level_differs ? " (!)" : "",
                    row->g->ips.n, tput, p50, p99, er, dol, pct);
        }
        fputc('\n', f);
        if (any_level_differs(s))
            fprintf(f, "(!) not at %s's level: these rows share no level with it.\n\n",
                    s->baseline->value);
        if (any_overlap_mark(s))
            fprintf(f, "\\* the 95%% intervals overlap %s's: not a clear difference.\n\n",
                    s->baseline->value);
        if (print_overlaps(f, s, "Also overlapping: ", ", ", ".\n"))
            fputc('\n', f);
        for (size_t i = 0; i < s->nrows; i++) {
            char line[1024];
            if (compare_sentence(t, s, &s->rows[i], line, sizeof line) == 0) {
                fputs("- ", f);
                md_text(f, line);
                fputc('\n', f);
            }
        }
    }
}

/* ---- command line ------------------------------------------------------- */

static const struct flag compare_flags[] = {
    ANALYZE_FLAG_BY,
    ANALYZE_FLAG_BASELINE,
    ANALYZE_FLAG_AT_THREADS,
    ANALYZE_FLAG_QUIET,
    {"csv", NULL, FLAG_CALL_SWITCH, 0, 0, 0, NULL, "the table as CSV", .call = analyze_flag_csv_table},
    {"markdown", NULL, FLAG_CALL_SWITCH, 0, 0, 0, NULL, "the table as Markdown",
     .call = analyze_flag_markdown_table},
    {0},
};

static const struct flag_cmd compare_cmd = {
    .name = "loadgen compare",
    .usage = "loadgen compare [CSV|JSON|DIR ...] [--by label|region|model]\n"
             "                       [--baseline NAME] [--at-threads N] [--csv|--markdown]",
    .about = "Compares deployments (or client regions, or models) at one level: mean\n"
             "images/s with a 95% confidence interval over cycles, p50, p99, images per\n"
             "dollar and the percent difference against the baseline.",
    .flags = compare_flags,
};

int compare_main(int argc, char **argv)
{
    struct analyze_opts a = {.by = RESULTS_LABEL};
    struct compare_table t = {0};
    char err[LG_ERRLEN];
    int rc;
    if (!analyze_parse(&compare_cmd, &a, argc, argv, &rc) ||
        !analyze_load(&a, "give summary CSVs to compare", &rc))
        goto done;
    if (compare_build(a.r, a.by, a.baseline, a.at_threads, &t, err) < 0) {
        rc = analyze_say(&a, LG_EXIT_USAGE, "%s", err);
        goto done;
    }
    if (a.table_format == ANALYZE_TABLE_CSV)
        compare_print_csv(stdout, &t);
    else if (a.table_format == ANALYZE_TABLE_MARKDOWN)
        compare_print_markdown(stdout, &t);
    else
        compare_print_text(stdout, &t);
    rc = fflush(stdout) == 0 ? LG_EXIT_OK : LG_EXIT_FAIL;
done:
    compare_release(&t);
    analyze_done(&a);
    return rc;
}
