/*
 * test_compare.c: the comparison table against values worked out by hand:
 * Student's t critical values, 95% intervals, percent differences against
 * the default and a chosen baseline, images per dollar, overlap detection,
 * the study's sentences and the CSV form. The results come from a summary
 * CSV the test writes to a scratch folder.
 *
 * The data (resnet50, eastus unless said otherwise), images/s per cycle:
 *   50 threads: gpu-1 150 160 170 ($0.90/h)   mean 160, sd 10
 *               gpu-2 395 400 405 ($1.80/h)   mean 400, sd 5
 *               gpu-3 400 410 420 ($2.70/h)   mean 410, sd 10
 *               cpu-35 78  80  82 ($2.50/h)   mean  80, sd 2
 *   20 threads: gpu-1  82  90  98            mean  90, sd 8
 *               cpu-35 78  80  82            mean  80, sd 2
 *   westeurope, 50 threads: gpu-1 140 150 160 mean 150; gpu-3 400 (1 cycle)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "analyze/compare.h"
#include "analyze/results.h"

#define HEADER                                                                                 \
    "run_id,timestamp,label,region,model,target,format,mode,concurrency,rate,cycle,requests,"  \
    "ok,errors,timeouts,duration_s,throughput_rps,images_per_s,lat_mean_ms,lat_p50_ms,"        \
    "lat_p90_ms,lat_p95_ms,lat_p99_ms,lat_p999_ms,lat_max_ms,ttfb_p50_ms,connect_p50_ms,"      \
    "bytes_sent,bytes_recv,cost_per_hour,cost_per_1k_images,images_per_dollar,status\n"

/* t*s/sqrt(n) for n = 3: t(0.975, 2) = 4.3027. */
#define CI3(sd) (4.3027 * (sd) / sqrt(3.0))

static char dir[64];
static struct results *res;

static void put(FILE *f, const char *label, const char *region, int threads, const double *ips,
                int n, double cost)
{
    for (int c = 0; c < n; c++)
        fprintf(f, "run-%s-%s,2026-11-27T01:02:03Z,%s,%s,resnet50,http://h/score,json-b64,"
                "closed,%d,0,%d,200,200,0,0,1,%g,%g,50,%g,60,70,%g,95,99,39,0.1,1,2,%g,,,"
                "complete\n",
                label, region, label, region, threads, c + 1, ips[c], ips[c], 1000 / ips[c],
                2000 / ips[c], cost);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_compare.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char path[128], err[LG_ERRLEN];
    snprintf(path, sizeof path, "%s/s.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(HEADER, f);
    put(f, "gpu-1", "eastus", 50, (double[]){150, 160, 170}, 3, 0.90);
    put(f, "gpu-2", "eastus", 50, (double[]){395, 400, 405}, 3, 1.80);
    put(f, "gpu-3", "eastus", 50, (double[]){400, 410, 420}, 3, 2.70);
    put(f, "cpu-35", "eastus", 50, (double[]){78, 80, 82}, 3, 2.50);
    put(f, "gpu-1", "eastus", 20, (double[]){82, 90, 98}, 3, 0.90);
    put(f, "cpu-35", "eastus", 20, (double[]){78, 80, 82}, 3, 2.50);
    put(f, "gpu-1", "westeurope", 50, (double[]){140, 150, 160}, 3, 0.90);
    put(f, "gpu-3", "westeurope", 50, (double[]){400}, 1, 2.70);
    fclose(f);
    res = results_create();
    if (!res || results_load(res, path, err) < 0 || results_finish(res, err) < 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    results_destroy(res);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const struct compare_section *section(const struct compare_table *t, const char *k0,
                                             const char *k1)
{
    for (size_t i = 0; i < t->nsections; i++)
        if (strcmp(t->sections[i].key[0], k0) == 0 && strcmp(t->sections[i].key[1], k1) == 0)
            return &t->sections[i];
    fail_msg("no section %s, %s", k0, k1);
    return NULL;
}

static const struct compare_row *find(const struct compare_section *s, const char *v)
{
    for (size_t i = 0; i < s->nrows; i++)
        if (strcmp(s->rows[i].value, v) == 0)
            return &s->rows[i];
    fail_msg("no row %s", v);
    return NULL;
}

static void t95_matches_the_table_and_interpolates_above_30(void **state)
{
    (void)state;
    assert_float_equal(compare_t95(1), 12.7062, 1e-4);
    assert_float_equal(compare_t95(2), 4.3027, 1e-4);
    assert_float_equal(compare_t95(10), 2.2281, 1e-4);
    assert_float_equal(compare_t95(30), 2.0423, 1e-4);
    assert_float_equal(compare_t95(40), 2.0211, 1e-4);
    assert_float_equal(compare_t95(50), 2.0086, 5e-4);  /* exact 2.00856 */
    assert_float_equal(compare_t95(1000), 1.9623, 5e-4); /* exact 1.96234 */
    assert_true(isnan(compare_t95(0)));
}

static void ci95_uses_t_with_n_minus_1_degrees(void **state)
{
    (void)state;
    struct results_stat s;
    results_stat_of(&s, (double[]){10, 12, 14}, 3);
    assert_float_equal(s.sd, 2, 1e-12);
    assert_float_equal(compare_ci95(&s), 4.3027 * 2 / sqrt(3), 1e-4); /* 4.968 */
    results_stat_of(&s, (double[]){10, 14}, 2);
    assert_float_equal(compare_ci95(&s), 12.7062 * sqrt(8) / sqrt(2), 1e-3); /* 25.41 */
    results_stat_of(&s, (double[]){10}, 1);
    assert_true(isnan(compare_ci95(&s)));
}

static void pct_is_ratio_minus_one_times_100(void **state)
{
    (void)state;
    assert_float_equal(compare_pct(415, 100), 315, 1e-12);
    assert_float_equal(compare_pct(50, 100), -50, 1e-12);
    assert_float_equal(compare_pct(100, 100), 0, 1e-12);
    assert_true(isnan(compare_pct(1, 0)));
    assert_true(isnan(compare_pct(NAN, 1)));
}

static void overlap_compares_the_distance_with_both_half_widths(void **state)
{
    (void)state;
    assert_int_equal(compare_overlap(10, 1, 11.5, 1), 1);
    assert_int_equal(compare_overlap(10, 1, 12, 1), 1); /* touching counts */
    assert_int_equal(compare_overlap(10, 1, 13, 1), 0);
    assert_int_equal(compare_overlap(13, 1, 10, 1), 0);
    assert_int_equal(compare_overlap(10, NAN, 10, 1), -1);
}

static void labels_against_the_default_cpu_baseline(void **state)
{
    (void)state;
    struct compare_table t;
    char err[LG_ERRLEN];
    assert_int_equal(compare_build(res, RESULTS_LABEL, NULL, 0, &t, err), 0);
    assert_string_equal(t.baseline, "cpu-35");
    assert_int_equal(t.nsections, 2);
    const struct compare_section *s = section(&t, "resnet50", "eastus");
    assert_int_equal(s->nrows, 4);
    assert_string_equal(s->rows[0].value, "gpu-1");
    assert_string_equal(s->rows[3].value, "cpu-35");
    assert_ptr_equal(s->baseline, &s->rows[3]);

    const struct compare_row *g3 = find(s, "gpu-3"), *g2 = find(s, "gpu-2"),
                             *g1 = find(s, "gpu-1"), *cpu = find(s, "cpu-35");
    assert_float_equal(g3->g->level, 50, 0); /* the highest level, as the study */
    assert_float_equal(g3->g->ips.mean, 410, 1e-9);
    assert_float_equal(g3->pct, 412.5, 1e-9);            /* 410 / 80 - 1 */
    assert_float_equal(g2->pct, 400, 1e-9);              /* 400 / 80 - 1 */
    assert_float_equal(g1->pct, 100, 1e-9);              /* 160 / 80 - 1 */
    assert_float_equal(g3->ci95, CI3(10), 1e-3);         /* 24.84 */
    assert_float_equal(cpu->ci95, CI3(2), 1e-3);         /* 4.968 */
    assert_float_equal(g3->per_dollar, 410 * 3600 / 2.70, 1e-6); /* 546666.7 */
    assert_float_equal(cpu->per_dollar, 80 * 3600 / 2.50, 1e-6); /* 115200 */
    assert_float_equal(g3->per_dollar_pct, (546666.6667 / 115200 - 1) * 100, 1e-3); /* 374.54 */
    assert_true(cpu->is_baseline);
    assert_true(isnan(cpu->pct));
    assert_int_equal(g3->overlaps, 0);
    /* gpu-2 400 +- 12.42 and gpu-3 410 +- 24.84 overlap: no real difference. */
    assert_int_equal(compare_rows_overlap(g2, g3), 1);
    assert_int_equal(compare_rows_overlap(g1, g2), 0);

    /* One cycle: no interval, so no verdict either way. */
    s = section(&t, "resnet50", "westeurope");
    assert_null(s->baseline);
    assert_true(isnan(find(s, "gpu-3")->ci95));
    assert_int_equal(compare_rows_overlap(find(s, "gpu-1"), find(s, "gpu-3")), -1);
    compare_release(&t);
}

static void at_threads_picks_the_level_and_reports_overlap(void **state)
{
    (void)state;
    struct compare_table t;
    char err[LG_ERRLEN];
    assert_int_equal(compare_build(res, RESULTS_LABEL, NULL, 20, &t, err), 0);
    assert_int_equal(t.nsections, 1);
    const struct compare_section *s = &t.sections[0];
    assert_int_equal(s->nrows, 2);
    const struct compare_row *g1 = find(s, "gpu-1");
    assert_float_equal(g1->g->level, 20, 0);
    assert_float_equal(g1->pct, 12.5, 1e-9); /* 90 / 80 - 1 */
    /* |90 - 80| = 10 <= 19.87 + 4.97 */
    assert_float_equal(g1->ci95, CI3(8), 1e-3);
    assert_int_equal(g1->overlaps, 1);
    char line[512];
    assert_int_equal(compare_sentence(&t, s, g1, line, sizeof line), 0);
    assert_non_null(strstr(line, "intervals overlap"));
    compare_release(&t);

    assert_int_equal(compare_build(res, RESULTS_LABEL, NULL, 40, &t, err), -EINVAL);
    assert_string_equal(err, "--at-threads 40: no level with that many threads in the results");
}

static void a_chosen_baseline_and_its_sentences(void **state)
{
    (void)state;
    struct compare_table t;
    char err[LG_ERRLEN], line[512];
    assert_int_equal(compare_build(res, RESULTS_LABEL, "gpu-1", 0, &t, err), 0);
    const struct compare_section *s = section(&t, "resnet50", "eastus");
    const struct compare_row *g3 = find(s, "gpu-3"), *cpu = find(s, "cpu-35");
    assert_float_equal(g3->pct, 156.25, 1e-9); /* 410 / 160 - 1 */
    assert_float_equal(cpu->pct, -50, 1e-9);   /* 80 / 160 - 1 */
    assert_int_equal(compare_sentence(&t, s, g3, line, sizeof line), 0);
    assert_string_equal(line, "resnet50, eastus, 50 threads: gpu-3 beat gpu-1 by 156.2% (410.0 "
                              "vs 160.0 images/s), 14.6% fewer images per dollar");
    assert_int_equal(compare_sentence(&t, s, cpu, line, sizeof line), 0);
    assert_string_equal(line, "resnet50, eastus, 50 threads: cpu-35 was 50.0% slower than gpu-1 "
                              "(80.0 vs 160.0 images/s), 82.0% fewer images per dollar");
    assert_int_equal(compare_sentence(&t, s, find(s, "gpu-1"), line, sizeof line), -1);
    compare_release(&t);

    assert_int_equal(compare_build(res, RESULTS_LABEL, "cpu-36", 0, &t, err), -EINVAL);
    assert_string_equal(err, "--baseline cpu-36: no label 'cpu-36' in the results (they have: "
                             "gpu-1, gpu-2, gpu-3, cpu-35)");
}

static void regions_compare_within_each_deployment(void **state)
{
    (void)state;
    struct compare_table t;
    char err[LG_ERRLEN];
    assert_int_equal(compare_build(res, RESULTS_REGION, NULL, 0, &t, err), 0);
    assert_string_equal(t.baseline, "eastus");
    const struct compare_section *s = section(&t, "resnet50", "gpu-1");
    assert_int_equal(s->nrows, 2);
    assert_float_equal(find(s, "westeurope")->pct, -6.25, 1e-9); /* 150 / 160 - 1 */
    assert_int_equal(find(s, "westeurope")->overlaps, 1);        /* 10 <= 24.84 * 2 */
    s = section(&t, "resnet50", "gpu-3");
    assert_float_equal(find(s, "westeurope")->pct, (400.0 / 410 - 1) * 100, 1e-9);
    compare_release(&t);
}

static void csv_form_carries_the_interval_and_percent(void **state)
{
    (void)state;
    struct compare_table t;
    char err[LG_ERRLEN], *buf = NULL;
    size_t len = 0;
    assert_int_equal(compare_build(res, RESULTS_LABEL, NULL, 0, &t, err), 0);
    FILE *f = open_memstream(&buf, &len);
    compare_print_csv(f, &t);
    fclose(f);
    assert_non_null(strstr(buf, "model,region,label,mode,level,cycles,images_per_s,ci95_low,"
                                "ci95_high,"));
    char want[256];
    snprintf(want, sizeof want, "resnet50,eastus,gpu-3,closed,50,3,410.000,%.3f,%.3f,",
             410 - CI3(10), 410 + CI3(10));
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, ",2.7000,546667,cpu-35,412.50,374.54,no,0.000000,no\n"));
    assert_non_null(strstr(buf, "resnet50,eastus,cpu-35,closed,50,3,80.000,"));
    free(buf);
    compare_release(&t);
}

/* A results object from CSV rows written with put_row(). */
static struct results *load_rows(const char *rows)
{
    char path[128], err[LG_ERRLEN];
    snprintf(path, sizeof path, "%s/levels.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(HEADER, f);
    fputs(rows, f);
    fclose(f);
    struct results *r = results_create();
    if (!r || results_load(r, path, err) < 0 || results_finish(r, err) < 0) {
        print_error("load_rows: %s\n", err);
        results_destroy(r);
        return NULL;
    }
    return r;
}

#define ROW(label, threads, requests, errors, ips)                                             \
    "r-" label ",2026-11-27T01:02:03Z," label ",,m,http://h/score,json-b64,closed," #threads    \
    ",0,1," #requests ",0," #errors ",0,1,1," #ips ",10,10,10,10,10,10,10,0.1,1,2,,,,,complete\n"

static void the_highest_level_every_row_has_is_compared(void **state)
{
    (void)state;
    /* a ran 2 and 4 threads, b only 2: at 4, a would be ranked against b's 2. */
    struct results *r = load_rows(ROW("a", 2, 100, 0, 50) ROW("a", 4, 100, 0, 90)
                                  ROW("b", 2, 100, 10, 40));
    assert_non_null(r);
    struct compare_table t;
    char err[LG_ERRLEN];
    assert_int_equal(compare_build(r, RESULTS_LABEL, "b", 0, &t, err), 0);
    const struct compare_section *s = &t.sections[0];
    assert_int_equal(s->nrows, 2);
    assert_float_equal(find(s, "a")->g->level, 2, 0);
    assert_float_equal(find(s, "a")->pct, 25.0, 1e-9); /* 50 vs 40 */
    assert_int_equal(find(s, "a")->level_differs, 0);
    assert_float_equal(find(s, "b")->error_rate, 0.10, 1e-12);
    assert_float_equal(find(s, "a")->error_rate, 0.0, 0);
    compare_release(&t);
    results_destroy(r);
}

static void rows_that_share_no_level_say_so(void **state)
{
    (void)state;
    struct results *r = load_rows(ROW("e2e-score", 4, 100, 0, 90) ROW("e2e-sweep", 2, 100, 0, 49));
    assert_non_null(r);
    struct compare_table t;
    char err[LG_ERRLEN], line[1024], *buf = NULL;
    size_t len = 0;
    assert_int_equal(compare_build(r, RESULTS_LABEL, "e2e-score", 0, &t, err), 0);
    const struct compare_section *s = &t.sections[0];
    const struct compare_row *row = find(s, "e2e-sweep");
    assert_int_equal(row->level_differs, 1);
    assert_int_equal(compare_sentence(&t, s, row, line, sizeof line), 0);
    assert_non_null(strstr(line, "2 threads (e2e-score at 4 threads: the levels differ)"));
    FILE *f = open_memstream(&buf, &len);
    compare_print_text(f, &t);
    fclose(f);
    assert_non_null(strstr(buf, "! not at e2e-score's level"));
    free(buf);
    compare_release(&t);
    results_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t95_matches_the_table_and_interpolates_above_30),
        cmocka_unit_test(ci95_uses_t_with_n_minus_1_degrees),
        cmocka_unit_test(pct_is_ratio_minus_one_times_100),
        cmocka_unit_test(overlap_compares_the_distance_with_both_half_widths),
        cmocka_unit_test(labels_against_the_default_cpu_baseline),
        cmocka_unit_test(at_threads_picks_the_level_and_reports_overlap),
        cmocka_unit_test(a_chosen_baseline_and_its_sentences),
        cmocka_unit_test(regions_compare_within_each_deployment),
        cmocka_unit_test(csv_form_carries_the_interval_and_percent),
        cmocka_unit_test(the_highest_level_every_row_has_is_compared),
        cmocka_unit_test(rows_that_share_no_level_say_so),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
