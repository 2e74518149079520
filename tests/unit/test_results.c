/*
 * test_results.c: reading loadgen's summary CSVs and JSON results back:
 * the schema rules (older and newer headers, repeated headers, missing
 * columns, rows of two versions mixed), empty files, defensive quoting,
 * interrupted and repeated rows, the JSON checks, and the grouping and
 * ordering every chart and table relies on. Files are written to a
 * scratch folder by each test.
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
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "analyze/results.h"

#define HEADER                                                                                  \
    "run_id,timestamp,label,region,model,target,format,mode,concurrency,rate,cycle,requests,"  \
    "ok,errors,timeouts,duration_s,throughput_rps,images_per_s,lat_mean_ms,lat_p50_ms,"        \
    "lat_p90_ms,lat_p95_ms,lat_p99_ms,lat_p999_ms,lat_max_ms,ttfb_p50_ms,connect_p50_ms,"      \
    "bytes_sent,bytes_recv,cost_per_hour,cost_per_1k_images,images_per_dollar,status,images,"  \
    "late_sends,server_p50_ms,network_p50_ms,lat_uncorrected_p99_ms\n"

/* The first schema: no status and nothing after images_per_dollar. */
#define HEADER_V0                                                                              \
    "run_id,timestamp,label,region,model,target,format,mode,concurrency,rate,cycle,requests,"  \
    "ok,errors,timeouts,duration_s,throughput_rps,images_per_s,lat_mean_ms,lat_p50_ms,"        \
    "lat_p90_ms,lat_p95_ms,lat_p99_ms,lat_p999_ms,lat_max_ms,ttfb_p50_ms,connect_p50_ms,"      \
    "bytes_sent,bytes_recv,cost_per_hour,cost_per_1k_images,images_per_dollar\n"

/* A row of the current schema: label, region, threads, cycle, images/s,
 * cost and status vary; the rest is plausible filler. */
static void row(FILE *f, const char *run, const char *label, const char *region, int threads,
                int cycle, double ips, const char *cost, const char *status)
{
    fprintf(f, "%s,2026-11-27T01:02:0%dZ,%s,%s,resnet50,http://127.0.0.1:8080/score,json-b64,"
            "closed,%d,0,%d,200,200,0,0,1.0,%g,%g,50.0,40.0,60.0,70.0,90.0,95.0,99.0,39.0,0.1,"
            "1000,2000,%s,,,%s,200,0,,,90.0\n",
            run, cycle, label, region, threads, cycle, ips, ips, cost, status);
}

static void row_v0(FILE *f, const char *label, int threads, int cycle, double ips)
{
    fprintf(f, "r0,2026-11-27T01:02:03Z,%s,eastus,resnet50,http://h/score,json-b64,closed,%d,0,"
            "%d,200,200,0,0,1.0,%g,%g,50.0,40.0,60.0,70.0,90.0,95.0,99.0,39.0,0.1,1000,2000,,,\n",
            label, threads, cycle, ips, ips);
}

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_results.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path(const char *name)
{
    static char p[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static FILE *create(const char *name)
{
    FILE *f = fopen(path(name), "w");
    assert_non_null(f);
    return f;
}

/* Loads one file; returns the rc and leaves the message in err. */
static int load_one(struct results *r, const char *name, char *err)
{
    err[0] = '\0';
    return results_load(r, path(name), err);
}

static void reads_rows_and_groups_cycles_into_mean_min_max(void **state)
{
    (void)state;
    FILE *f = create("a.csv");
    fputs(HEADER, f);
    row(f, "r1", "gpu-1", "eastus", 50, 1, 100, "0.90", "complete");
    row(f, "r1", "gpu-1", "eastus", 50, 2, 110, "0.90", "complete");
    row(f, "r1", "gpu-1", "eastus", 50, 3, 120, "0.90", "complete");
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "a.csv", err), 0);
    assert_int_equal(results_finish(r, err), 0);
    assert_int_equal(r->nrows, 3);
    assert_int_equal(r->ngroups, 1);
    const struct results_group *g = &r->groups[0];
    assert_string_equal(g->label, "gpu-1");
    assert_int_equal(g->ips.n, 3);
    assert_float_equal(g->ips.mean, 110, 1e-9);
    assert_float_equal(g->ips.min, 100, 1e-9);
    assert_float_equal(g->ips.max, 120, 1e-9);
    assert_float_equal(g->ips.sd, 10, 1e-9);
    assert_float_equal(g->cost_per_hour, 0.90, 1e-9);
    assert_float_equal(g->level, 50, 0);
    results_destroy(r);
}

static void missing_column_is_named_with_the_file(void **state)
{
    (void)state;
    FILE *f = create("old.csv");
    fputs("run_id,timestamp,label,region,model,target,format,mode,concurrency,rate,cycle,"
          "requests,ok,errors,timeouts,duration_s,throughput_rps\n"
          "r,t,gpu-1,eastus,resnet50,u,json-b64,closed,50,0,1,200,200,0,0,1.0,100\n",
          f);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN], want[LG_ERRLEN];
    assert_int_equal(load_one(r, "old.csv", err), -EINVAL);
    snprintf(want, sizeof want,
             "%s: missing column 'images_per_s'; was it written by loadgen --out?",
             path("old.csv"));
    assert_string_equal(err, want);
    results_destroy(r);
}

static void empty_file_and_header_only_are_refused(void **state)
{
    (void)state;
    fclose(create("empty.csv"));
    FILE *f = create("header.csv");
    fputs(HEADER, f);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "empty.csv", err), -EINVAL);
    assert_non_null(strstr(err, "empty.csv: empty file"));
    assert_int_equal(load_one(r, "header.csv", err), -EINVAL);
    assert_non_null(strstr(err, "header.csv: a header but no rows"));
    assert_int_equal(results_finish(r, err), -EINVAL);
    assert_non_null(strstr(err, "no results to show"));
    results_destroy(r);
}

static void repeated_header_lines_from_several_clients_are_skipped(void **state)
{
    (void)state;
    FILE *f = create("cat.csv");
    fputs(HEADER, f);
    row(f, "a", "gpu-1", "eastus", 50, 1, 100, "", "complete");
    fputs(HEADER, f);
    row(f, "b", "gpu-1", "westeurope", 50, 1, 90, "", "complete");
    fputs("\n", f);
    fputs(HEADER, f);
    row(f, "c", "cpu-35", "eastus", 50, 1, 20, "", "complete");
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "cat.csv", err), 0);
    assert_int_equal(results_finish(r, err), 0);
    assert_int_equal(r->nrows, 3);
    assert_int_equal(r->nvalues[RESULTS_REGION], 2);
    assert_true(isnan(r->groups[0].cost_per_hour));
    results_destroy(r);
}

static void older_and_newer_schemas_read_alike(void **state)
{
    (void)state;
    FILE *f = create("v0.csv");
    fputs(HEADER_V0, f);
    row_v0(f, "gpu-1", 50, 1, 100);
    fclose(f);
    f = create("v9.csv");
    fputs("run_id,timestamp,label,region,model,target,format,mode,concurrency,rate,cycle,"
          "requests,ok,errors,timeouts,duration_s,throughput_rps,images_per_s,lat_mean_ms,"
          "lat_p50_ms,lat_p90_ms,lat_p95_ms,lat_p99_ms,lat_p999_ms,lat_max_ms,ttfb_p50_ms,"
          "connect_p50_ms,bytes_sent,bytes_recv,cost_per_hour,cost_per_1k_images,"
          "images_per_dollar,status,images,late_sends,server_p50_ms,network_p50_ms,"
          "lat_uncorrected_p99_ms,some_future_column\n"
          "r9,t,gpu-2,eastus,resnet50,u,json-b64,closed,50,0,1,200,200,0,0,1,180,180,50,40,60,"
          "70,90,95,99,39,0.1,1000,2000,1.8,,,complete,200,0,,,90,42\n",
          f);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "v0.csv", err), 0);
    assert_int_equal(load_one(r, "v9.csv", err), 0);
    assert_int_equal(results_finish(r, err), 0);
    assert_int_equal(r->ngroups, 2);
    assert_string_equal(r->groups[0].label, "gpu-1");
    assert_float_equal(r->groups[0].ips.mean, 100, 1e-9);
    assert_float_equal(r->groups[1].ips.mean, 180, 1e-9);
    assert_float_equal(r->groups[1].cost_per_hour, 1.8, 1e-9);
    results_destroy(r);
}

static void a_row_of_another_version_is_skipped_with_a_note(void **state)
{
    (void)state;
    FILE *f = create("mixed.csv");
    fputs(HEADER_V0, f);
    row_v0(f, "gpu-1", 50, 1, 100);
    row(f, "r1", "gpu-1", "eastus", 50, 2, 110, "", "complete");
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "mixed.csv", err), 0);
    assert_int_equal(r->nrows, 1); /* the good row stays */
    assert_int_equal(r->notes.n, 1);
    assert_non_null(strstr(r->notes.v[0], "mixed.csv:3: 38 fields but the header above has 32"));
    assert_non_null(strstr(r->notes.v[0], "mixed in one file"));
    results_destroy(r);
}

static void a_row_without_label_or_model_is_named_by_its_target(void **state)
{
    (void)state;
    FILE *f = create("plain.csv");
    fputs(HEADER_V0, f);
    /* A default run: no --label, --region or --model. */
    fputs("r0,2026-11-27T01:02:03Z,,,,http://10.0.0.4:8080/score,json-b64,closed,50,0,1,200,200,"
          "0,0,1.0,100,100,50.0,40.0,60.0,70.0,90.0,95.0,99.0,39.0,0.1,1000,2000,,,\n", f);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "plain.csv", err), 0);
    assert_int_equal(r->nrows, 1);
    assert_string_equal(r->rows[0].model, RESULTS_DEFAULT_MODEL);
    assert_string_equal(r->rows[0].label, "10.0.0.4:8080");
    results_destroy(r);
}

static void a_file_without_the_header_is_refused(void **state)
{
    (void)state;
    FILE *f = create("history.csv");
    fputs("TestNo,TestCountTotal,ThreadCount,Records,Failures,AITime,TotalTime,RPS\n1,1,20,"
          "1000,0,0.5,10,100\n",
          f);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "history.csv", err), -EINVAL);
    assert_non_null(strstr(err, "history.csv:1: expected the header line"));
    results_destroy(r);
}

static void bad_numbers_and_modes_name_line_and_column(void **state)
{
    (void)state;
    FILE *f = create("bad.csv");
    fputs(HEADER, f);
    row(f, "r1", "gpu-1", "eastus", 50, 1, 100, "abc", "complete");
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "bad.csv", err), -EINVAL);
    assert_non_null(strstr(err, "bad.csv:2: column 'cost_per_hour': 'abc' is not a number"));
    f = create("mode.csv");
    fputs(HEADER, f);
    fputs("r1,t,gpu-1,eastus,resnet50,u,json-b64,half-open,50,0,1,200,200,0,0,1,100,100,50,40,"
          "60,70,90,95,99,39,0.1,1000,2000,,,,complete,200,0,,,90\n",
          f);
    fclose(f);
    assert_int_equal(load_one(r, "mode.csv", err), -EINVAL);
    assert_non_null(strstr(err, "mode.csv:2: column 'mode': 'half-open' is not closed or open"));
    results_destroy(r);
}

static void quoted_fields_are_unquoted(void **state)
{
    (void)state;
    FILE *f = create("quoted.csv");
    fputs(HEADER, f);
    fputs("r1,t,\"gpu-1\",\"east \"\"us\"\"\",resnet50,u,json-b64,closed,50,0,1,200,200,0,0,1,"
          "100,100,50,40,60,70,90,95,99,39,0.1,1000,2000,,,,complete,200,0,,,90\n",
          f);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "quoted.csv", err), 0);
    assert_string_equal(r->rows[0].label, "gpu-1");
    assert_string_equal(r->rows[0].region, "east \"us\"");
    results_destroy(r);
}

static void interrupted_and_repeated_rows_stay_out_of_groups(void **state)
{
    (void)state;
    FILE *f = create("x.csv");
    fputs(HEADER, f);
    row(f, "r1", "gpu-1", "eastus", 50, 1, 100, "", "complete");
    row(f, "r1", "gpu-1", "eastus", 50, 2, 5, "", "interrupted");
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "x.csv", err), 0);
    assert_int_equal(load_one(r, "x.csv", err), 0); /* the same file twice */
    assert_int_equal(results_finish(r, err), 0);
    assert_int_equal(r->nrows, 2);
    assert_int_equal(r->ninterrupted, 1);
    assert_int_equal(r->ngroups, 1);
    assert_int_equal(r->groups[0].ips.n, 1);
    assert_float_equal(r->groups[0].ips.mean, 100, 1e-9);
    assert_int_equal(r->notes.n, 2);
    assert_non_null(strstr(r->notes.v[0], "ignored 2 repeated rows"));
    assert_non_null(strstr(r->notes.v[1], "left out 1 interrupted level"));
    results_destroy(r);
}

static void labels_sort_gpus_by_nodes_then_cpus_then_others(void **state)
{
    (void)state;
    const char *labels[] = {"tfserving", "cpu-35", "gpu-10", "gpu-2", "cpu-8", "gpu-1"};
    FILE *f = create("order.csv");
    fputs(HEADER, f);
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        row(f, "r", labels[i], "westeurope", 50, 1, 10, "", "complete");
    row(f, "r", "gpu-1", "eastus", 50, 1, 10, "", "complete");
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "order.csv", err), 0);
    assert_int_equal(results_finish(r, err), 0);
    const char *want[] = {"gpu-1", "gpu-2", "gpu-10", "cpu-8", "cpu-35", "tfserving"};
    assert_int_equal(r->nvalues[RESULTS_LABEL], 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(r->values[RESULTS_LABEL][i], want[i]);
    assert_string_equal(r->values[RESULTS_REGION][0], "eastus");
    int n;
    assert_int_equal(results_device("gpu-3", &n), RESULTS_GPU);
    assert_int_equal(n, 3);
    assert_int_equal(results_device("cpu-35", &n), RESULTS_CPU);
    assert_int_equal(n, 35);
    assert_int_equal(results_device("gpu-x", &n), RESULTS_GPU);
    assert_int_equal(n, 0);
    assert_int_equal(results_device("tpu-1", &n), RESULTS_OTHER);
    results_destroy(r);
}

static void pick_takes_the_highest_level_or_the_asked_one(void **state)
{
    (void)state;
    FILE *f = create("levels.csv");
    fputs(HEADER, f);
    row(f, "r", "gpu-1", "eastus", 20, 1, 50, "", "complete");
    row(f, "r", "gpu-1", "eastus", 50, 1, 90, "", "complete");
    row(f, "r", "gpu-1", "eastus", 30, 1, 70, "", "complete");
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "levels.csv", err), 0);
    assert_int_equal(results_finish(r, err), 0);
    const struct results_group *g = results_pick(r, "gpu-1", "eastus", "resnet50", 0);
    assert_non_null(g);
    assert_float_equal(g->level, 50, 0);
    g = results_pick(r, "gpu-1", "eastus", "resnet50", 30);
    assert_non_null(g);
    assert_float_equal(g->ips.mean, 70, 1e-9);
    assert_null(results_pick(r, "gpu-1", "eastus", "resnet50", 40));
    assert_null(results_pick(r, "gpu-2", "eastus", "resnet50", 0));
    results_destroy(r);
}

static const char json_doc[] =
    "{\"schema_version\": 1, \"tool\": \"loadgen\", \"version\": \"v1\", \"run_id\": \"R\","
    " \"levels\": [{\"label\": \"gpu-1\", \"region\": \"eastus\", \"model\": \"resnet50\","
    " \"mode\": \"closed\", \"concurrency\": 50, \"rate\": 0, \"cycle\": 1,"
    " \"status\": \"complete\", \"start_wall_us\": 1795000000000000,"
    " \"end_wall_us\": 1795000001500000, \"duration_s\": 1.5, \"images_per_s\": 400,"
    " \"throughput_rps\": 400, \"cost_per_hour\": null,"
    " \"latency_ms\": {\"mean\": 1, \"p50\": 2, \"p90\": 3, \"p95\": 4, \"p99\": 5},"
    " \"percentiles\": [{\"p\": 0, \"ms\": 1}, {\"p\": 50, \"ms\": 2}, {\"p\": 100, \"ms\": 9}],"
    " \"timeline\": [{\"t\": 0, \"completions\": 400, \"errors\": 0, \"p50_ms\": 2,"
    " \"p99_ms\": 5}, {\"t\": 1, \"completions\": 200, \"errors\": 1, \"p50_ms\": 2,"
    " \"p99_ms\": 6}]}]}\n";

static void json_results_give_levels_and_rows_when_no_csv(void **state)
{
    (void)state;
    FILE *f = create("r.json");
    fputs(json_doc, f);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "r.json", err), 0);
    assert_int_equal(results_finish(r, err), 0);
    assert_int_equal(r->nruns, 1);
    assert_string_equal(r->runs[0].run_id, "R");
    const struct results_level *l = &r->runs[0].levels[0];
    assert_int_equal(l->npct, 3);
    assert_float_equal(l->pct[2].ms, 9, 0);
    assert_int_equal(l->nticks, 2);
    assert_float_equal(l->ticks[1].completions, 200, 0);
    assert_true(isnan(l->row.cost_per_hour));
    assert_int_equal(r->nrows, 1);
    assert_float_equal(r->groups[0].ips.mean, 400, 0);
    assert_float_equal(r->groups[0].p99_ms.mean, 5, 0);
    results_destroy(r);
}

static void json_of_another_version_or_shape_is_refused(void **state)
{
    (void)state;
    FILE *f = create("v2.json");
    fputs("{\"schema_version\": 2, \"levels\": [{}]}", f);
    fclose(f);
    f = create("broken.json");
    fputs("{\"schema_version\": 1, \"levels\": [", f);
    fclose(f);
    f = create("nolabel.json");
    fputs("{\"schema_version\": 1, \"levels\": [{\"region\": \"e\"}]}", f);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "v2.json", err), -EINVAL);
    assert_non_null(strstr(err, "schema_version 2; this loadgen reads version 1"));
    assert_int_equal(load_one(r, "broken.json", err), -EINVAL);
    assert_non_null(strstr(err, "not valid JSON"));
    assert_int_equal(load_one(r, "nolabel.json", err), -EINVAL);
    assert_non_null(strstr(err, "levels[0]: 'label' is missing"));
    results_destroy(r);
}

static void a_folder_reads_its_results_and_notes_the_rest(void **state)
{
    (void)state;
    FILE *f = create("summary.csv");
    fputs(HEADER, f);
    row(f, "r", "gpu-1", "eastus", 50, 1, 100, "", "complete");
    fclose(f);
    f = create("history.csv");
    fputs("TestNo,ThreadCount\n1,20\n", f);
    fclose(f);
    f = create("r.json");
    fputs(json_doc, f);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(results_load(r, dir, err), 0);
    assert_int_equal(results_finish(r, err), 0);
    assert_int_equal(r->ncsv, 1);
    assert_int_equal(r->nruns, 1);
    assert_int_equal(r->nrows, 1); /* rows come from the CSV, not twice */
    assert_int_equal(r->notes.n, 1);
    assert_non_null(strstr(r->notes.v[0], "skipped"));
    assert_non_null(strstr(r->notes.v[0], "history.csv"));
    results_destroy(r);
}

/* json_doc with its first `from` replaced by `to`. */
static void write_json_with(const char *name, const char *from, const char *to)
{
    const char *at = strstr(json_doc, from);
    assert_non_null(at);
    FILE *f = create(name);
    fprintf(f, "%.*s%s%s", (int)(at - json_doc), json_doc, to, at + strlen(from));
    fclose(f);
}

static void negative_and_infinite_figures_are_refused(void **state)
{
    (void)state;
    FILE *f = create("neg.csv");
    fputs(HEADER, f);
    row(f, "r1", "gpu-1", "eastus", 50, 1, -5, "", "complete");
    fclose(f);
    f = create("negcost.csv");
    fputs(HEADER, f);
    row(f, "r1", "gpu-1", "eastus", 50, 1, 5, "-0.9", "complete");
    fclose(f);
    write_json_with("neg.json", "\"images_per_s\": 400", "\"images_per_s\": -400");
    write_json_with("inf.json", "\"throughput_rps\": 400", "\"throughput_rps\": 1e999");
    write_json_with("negpct.json", "{\"p\": 50, \"ms\": 2}", "{\"p\": 50, \"ms\": -2}");
    write_json_with("future.json", "1795000000000000", "1e300");
    struct results *r = results_create();
    char err[LG_ERRLEN];
    assert_int_equal(load_one(r, "neg.csv", err), -EINVAL);
    assert_non_null(strstr(err, "neg.csv:2: column 'images_per_s': -5 is negative"));
    assert_int_equal(load_one(r, "negcost.csv", err), -EINVAL);
    assert_non_null(strstr(err, "negcost.csv:2: column 'cost_per_hour': -0.9 is negative"));
    assert_int_equal(load_one(r, "neg.json", err), -EINVAL);
    assert_non_null(strstr(err, "neg.json: levels[0]: 'images_per_s' is negative"));
    assert_int_equal(load_one(r, "inf.json", err), -EINVAL);
    assert_non_null(strstr(err, "inf.json: levels[0]: 'throughput_rps' is not a finite number"));
    assert_int_equal(load_one(r, "negpct.json", err), -EINVAL);
    assert_non_null(strstr(err, "negpct.json: levels[0]: 'ms' is negative"));
    assert_int_equal(load_one(r, "future.json", err), -EINVAL);
    assert_non_null(strstr(err, "future.json: levels[0]: 'start_wall_us': 1e+300 is more than any "
                              "count or clock"));
    results_destroy(r);
}

static void devices_fifos_and_huge_files_are_refused_and_passed_over_in_a_folder(void **state)
{
    (void)state;
    FILE *f = create("summary.csv");
    fputs(HEADER, f);
    row(f, "r", "gpu-1", "eastus", 50, 1, 100, "", "complete");
    fclose(f);
    assert_int_equal(mkfifo(path("fifo.csv"), 0600), 0);
    f = create("huge.json");
    assert_int_equal(ftruncate(fileno(f), (off_t)RESULTS_MAX_BYTES + 1), 0);
    fclose(f);
    struct results *r = results_create();
    char err[LG_ERRLEN];
    /* Named: refused at once, not read until memory runs out or a writer
     * comes. */
    assert_int_equal(results_load(r, "/dev/zero", err), -EINVAL);
    assert_string_equal(err, "/dev/zero: not a regular file (a device); give a results file");
    assert_int_equal(load_one(r, "fifo.csv", err), -EINVAL);
    assert_non_null(strstr(err, "fifo.csv: not a regular file (a FIFO)"));
    assert_int_equal(load_one(r, "huge.json", err), -EINVAL);
    assert_non_null(strstr(err, "huge.json: 67108865 bytes; at most 64 MiB"));
    /* In a folder: passed over with a note, the summary still read. */
    assert_int_equal(results_load(r, dir, err), 0);
    assert_int_equal(results_finish(r, err), 0);
    assert_int_equal(r->nrows, 1);
    assert_int_equal(r->notes.n, 2);
    assert_non_null(strstr(r->notes.v[0], "fifo.csv: not a regular file (a FIFO)"));
    assert_non_null(strstr(r->notes.v[1], "huge.json: 67108865 bytes"));
    results_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reads_rows_and_groups_cycles_into_mean_min_max, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(missing_column_is_named_with_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_file_and_header_only_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(repeated_header_lines_from_several_clients_are_skipped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(older_and_newer_schemas_read_alike, setup, teardown),
        cmocka_unit_test_setup_teardown(a_row_of_another_version_is_skipped_with_a_note, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_row_without_label_or_model_is_named_by_its_target,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_file_without_the_header_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_numbers_and_modes_name_line_and_column, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(quoted_fields_are_unquoted, setup, teardown),
        cmocka_unit_test_setup_teardown(interrupted_and_repeated_rows_stay_out_of_groups, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(labels_sort_gpus_by_nodes_then_cpus_then_others, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pick_takes_the_highest_level_or_the_asked_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(json_results_give_levels_and_rows_when_no_csv, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(json_of_another_version_or_shape_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(negative_and_infinite_figures_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            devices_fifos_and_huge_files_are_refused_and_passed_over_in_a_folder, setup,
            teardown),
        cmocka_unit_test_setup_teardown(a_folder_reads_its_results_and_notes_the_rest, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
