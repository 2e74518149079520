/*
 * test_merge.c: `loadgen merge` through its contract (merge.h). Inputs are
 * real results: built with stats_record and written by output.c's JSON
 * writer, then edited with cJSON to make the broken ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "hist.h"
#include "analyze/merge.h"
#include "output.h"
#include "analyze/results.h"
#include "stats.h"

#define T0 1795000000000000LL /* a wall-clock microsecond in 2026 */
#define SEC 1000000LL

static const double checked[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};

/* One client's result as its run would write it. */
struct client {
    const char *run_id, *label, *region;
    unsigned concurrency;
    int64_t start_us, end_us;     /* wall-clock window */
    const uint64_t *latency_us;   /* one per request */
    size_t n;
    double cost_per_hour;         /* < 0 unknown */
    int sig;                      /* histogram precision; 0 = 3 */
};

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    rewind(fp);
    char *text = malloc((size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
    text[len] = '\0';
    fclose(fp);
    return text;
}

/* The JSON text output.c writes for `c`. */
static char *result_text(const struct client *c)
{
    struct stats *st = stats_create(0, 0);
    assert_non_null(st);
    int sig = c->sig ? c->sig : 3;
    for (int h = 0; h < STATS_HIST_COUNT && sig != 3; h++) {
        hist_destroy(st->h[h]);
        assert_non_null(st->h[h] = hist_create(sig));
    }
    stats_reset(st, c->start_us);
    for (size_t i = 0; i < c->n; i++) {
        struct stats_request r = {.class_ = CLASS_OK, .status = 200,
                                  .latency_us = (uint32_t)c->latency_us[i],
                                  .ttfb_us = (uint32_t)c->latency_us[i] / 2,
                                  .bytes_sent = 1000, .bytes_recv = 100};
        if (i % 10 == 9) {
            r.class_ = CLASS_HTTP_5XX;
            r.status = 503;
        }
        int64_t now = c->start_us + (c->end_us - c->start_us) * (int64_t)(i + 1) / (int64_t)c->n;
        assert_int_equal(stats_record(st, &r, 1, c->latency_us[i], now), 0);
    }
    st->first_start_us = c->start_us;
    st->last_end_us = c->end_us;
    struct output_level lv = {
        .run_id = c->run_id, .label = c->label, .region = c->region, .model = "resnet50",
        .target = "http://10.0.0.4/score", .format = "json-b64", .concurrency = c->concurrency,
        .cycle = 1, .test_no = 1, .cost_per_hour = c->cost_per_hour,
        .start_wall_us = c->start_us, .end_wall_us = c->end_us, .st = st,
    };
    char dir[] = "/tmp/loadgen-test-merge.XXXXXX", path[64], err[LG_ERRLEN];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r.json", dir);
    struct output_json *j = output_json_create("--json", path, c->run_id);
    assert_non_null(j);
    assert_int_equal(output_json_add(j, &lv, err), 0);
    output_json_destroy(j);
    char *text = slurp(path);
    unlink(path);
    rmdir(dir);
    stats_destroy(st);
    return text;
}

/* Deterministic latencies from 1 ms to a few seconds, heavy-tailed. */
static uint64_t *sample(size_t n, uint64_t seed)
{
    uint64_t *v = malloc(n * sizeof *v), x = seed;
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(x >> 11) / 9007199254740992.0;
        v[i] = 1000 + (uint64_t)(20000.0 * -log(1 - u) * (1 + 9 * (u > 0.99)));
    }
    return v;
}

static struct client client(const char *run_id, const char *region, int64_t start, int64_t end,
                            const uint64_t *lat, size_t n)
{
    return (struct client){.run_id = run_id, .label = "gpu-1", .region = region,
                           .concurrency = 25, .start_us = start, .end_us = end,
                           .latency_us = lat, .n = n, .cost_per_hour = 0.9};
}

/* Adds each text under the names a.json, b.json, ...; returns the first
 * failing step's rc with its message in err. */
static int merge_texts(struct merge *m, char **texts, size_t n, char *err)
{
    for (size_t i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "%c.json", (char)('a' + i));
        int rc = merge_add_text(m, name, texts[i], strlen(texts[i]), err);
        if (rc < 0)
            return rc;
    }
    return merge_finish(m, err);
}

/* Applies `edit` to the first level of a result text. */
static char *edited(char *text, void (*edit)(cJSON *root, cJSON *level))
{
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    edit(doc, cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "levels"), 0));
    char *out = cJSON_Print(doc);
    cJSON_Delete(doc);
    free(text);
    return out;
}

static void expect_refusal(char **texts, size_t n, const char *want)
{
    struct merge *m = merge_create();
    char err[LG_ERRLEN] = "";
    assert_int_equal(merge_texts(m, texts, n, err), -EINVAL);
    if (!strstr(err, want))
        fail_msg("message \"%s\" does not contain \"%s\"", err, want);
    merge_destroy(m);
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
}

static void merging_two_halves_gives_the_percentiles_of_the_whole(void **state)
{
    (void)state;
    size_t n = 20000;
    uint64_t *lat = sample(n, 7);
    struct hist *whole = hist_create(3);
    for (size_t i = 0; i < n; i++)
        hist_record(whole, lat[i]);
    struct client a = client("run-a", "eastus", T0, T0 + 10 * SEC, lat, n / 2);
    struct client b = client("run-b", "westeurope", T0 + SEC, T0 + 11 * SEC, lat + n / 2, n / 2);
    char *texts[] = {result_text(&a), result_text(&b)}, err[LG_ERRLEN];
    struct merge *m = merge_create();
    assert_int_equal(merge_texts(m, texts, 2, err), 0);
    assert_int_equal(merge_nlevels(m), 1);
    const struct hist *got = merge_level(m, 0)->st->h[STATS_LATENCY];
    assert_int_equal(hist_count(got), n);
    assert_int_equal(hist_min(got), hist_min(whole));
    assert_int_equal(hist_max(got), hist_max(whole));
    assert_true(hist_mean(got) == hist_mean(whole));
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++)
        assert_int_equal(hist_percentile(got, checked[i]), hist_percentile(whole, checked[i]));
    merge_destroy(m);
    free(texts[0]);
    free(texts[1]);
    hist_destroy(whole);
    free(lat);
}

static void counts_add_and_throughput_is_over_the_union_of_windows(void **state)
{
    (void)state;
    uint64_t *lat = sample(400, 3);
    /* 100 requests in [0 s, 2 s] and 300 in [1 s, 4 s]: 400 over 4 s. */
    struct client a = client("run-a", "eastus", T0, T0 + 2 * SEC, lat, 100);
    struct client b = client("run-b", "westeurope", T0 + SEC, T0 + 4 * SEC, lat + 100, 300);
    char *texts[] = {result_text(&a), result_text(&b)}, err[LG_ERRLEN];
    struct merge *m = merge_create();
    assert_int_equal(merge_texts(m, texts, 2, err), 0);
    const struct output_level *lv = merge_level(m, 0);
    assert_int_equal(lv->st->requests, 400);
    assert_int_equal(lv->st->by_class[CLASS_OK], 360);
    assert_int_equal(lv->st->by_class[CLASS_HTTP_5XX], 40);
    /* Which statuses, as each client counted them. */
    assert_int_equal(lv->st->by_status[200], 360);
    assert_int_equal(lv->st->by_status[503], 40);
    assert_int_equal(lv->st->bytes_sent, 400 * 1000);
    assert_int_equal(lv->st->bytes_recv, 400 * 100);
    assert_int_equal(lv->start_wall_us, T0);
    assert_int_equal(lv->end_wall_us, T0 + 4 * SEC);
    struct output_figures f;
    output_figures(lv, &f);
    assert_true(fabs(f.duration_s - 4.0) < 1e-9);
    assert_true(fabs(f.throughput_rps - 100.0) < 1e-9);
    assert_true(fabs(f.images_per_s - 90.0) < 1e-9);
    assert_true(lv->cost_per_hour == 0.9);
    assert_int_equal(lv->concurrency, 50); /* 2 clients x 25 in flight */
    assert_int_equal(merge_notes(m)->n, 0);
    merge_destroy(m);
    free(texts[0]);
    free(texts[1]);
    free(lat);
}

static void labels_and_regions_join_distinct_values_with_plus(void **state)
{
    (void)state;
    uint64_t *lat = sample(30, 5);
    struct client c[3] = {client("r1", "eastus", T0, T0 + SEC, lat, 10),
                          client("r2", "eastus", T0, T0 + SEC, lat + 10, 10),
                          client("r3", "westeurope", T0, T0 + SEC, lat + 20, 10)};
    c[2].label = "gpu-2";
    char *texts[] = {result_text(&c[0]), result_text(&c[1]), result_text(&c[2])};
    char err[LG_ERRLEN];
    struct merge *m = merge_create();
    assert_int_equal(merge_texts(m, texts, 3, err), 0);
    assert_string_equal(merge_level(m, 0)->region, "eastus+westeurope");
    assert_string_equal(merge_level(m, 0)->label, "gpu-1+gpu-2");
    assert_string_equal(merge_level(m, 0)->model, "resnet50");
    merge_destroy(m);
    for (int i = 0; i < 3; i++)
        free(texts[i]);
    free(lat);
}

static void differing_costs_leave_the_merge_without_cost_and_say_so(void **state)
{
    (void)state;
    uint64_t *lat = sample(20, 5);
    struct client a = client("r1", "eastus", T0, T0 + SEC, lat, 10);
    struct client b = client("r2", "westeurope", T0, T0 + SEC, lat + 10, 10);
    b.cost_per_hour = 2.7;
    char *texts[] = {result_text(&a), result_text(&b)}, err[LG_ERRLEN];
    struct merge *m = merge_create();
    assert_int_equal(merge_texts(m, texts, 2, err), 0);
    assert_true(merge_level(m, 0)->cost_per_hour < 0);
    assert_int_equal(merge_notes(m)->n, 1);
    assert_non_null(strstr(merge_notes(m)->v[0], "cost_per_hour 0.9"));
    merge_destroy(m);
    free(texts[0]);
    free(texts[1]);
    free(lat);
}

static cJSON *merged_json(struct merge *m)
{
    char dir[] = "/tmp/loadgen-test-merge.XXXXXX", path[64], err[LG_ERRLEN];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.json", dir);
    assert_int_equal(merge_write_json(m, path, err), 0);
    char *text = slurp(path);
    unlink(path);
    rmdir(dir);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    assert_non_null(doc);
    return doc;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void timelines_add_on_wall_clock_seconds(void **state)
{
    (void)state;
    uint64_t *lat = sample(500, 9);
    /* a: 300 over seconds 0..2; b starts 2 s later: 200 over its 0..1. */
    struct client a = client("run-a", "eastus", T0, T0 + 3 * SEC - 1, lat, 300);
    struct client b = client("run-b", "westeurope", T0 + 2 * SEC, T0 + 4 * SEC - 1, lat + 300,
                             200);
    char *texts[] = {result_text(&a), result_text(&b)}, err[LG_ERRLEN];
    struct merge *m = merge_create();
    assert_int_equal(merge_texts(m, texts, 2, err), 0);
    cJSON *doc = merged_json(m);
    const cJSON *lv = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "levels"), 0);
    const cJSON *tl = cJSON_GetObjectItem(lv, "timeline");
    assert_int_equal(cJSON_GetArraySize(tl), 4);
    static const double want[] = {100, 100, 200, 100};
    for (int i = 0; i < 4; i++) {
        assert_true(num(cJSON_GetArrayItem(tl, i), "t") == i);
        assert_true(num(cJSON_GetArrayItem(tl, i), "completions") == want[i]);
    }
    assert_string_equal(cJSON_GetObjectItem(lv, "timeline_percentiles")->valuestring,
                        "max_of_clients");
    assert_true(num(lv, "requests") == 500);
    assert_true(num(lv, "concurrency") == 50 && num(lv, "client_concurrency") == 25);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(lv, "clients")), 2);
    const cJSON *from = cJSON_GetObjectItem(doc, "merged_from");
    assert_int_equal(cJSON_GetArraySize(from), 2);
    assert_string_equal(cJSON_GetArrayItem(from, 1)->valuestring, "b.json");
    cJSON_Delete(doc);
    merge_destroy(m);
    free(texts[0]);
    free(texts[1]);
    free(lat);
}

static void a_merged_result_merges_again_like_all_its_inputs(void **state)
{
    (void)state;
    size_t n = 3000;
    uint64_t *lat = sample(n, 11);
    struct client c[3] = {client("r1", "eastus", T0, T0 + 5 * SEC, lat, 1000),
                          client("r2", "eastus", T0, T0 + 5 * SEC, lat + 1000, 1000),
                          client("r3", "westeurope", T0, T0 + 6 * SEC, lat + 2000, 1000)};
    char *texts[] = {result_text(&c[0]), result_text(&c[1]), result_text(&c[2])};
    char err[LG_ERRLEN];
    struct merge *ab = merge_create();
    assert_int_equal(merge_texts(ab, texts, 2, err), 0);
    cJSON *doc = merged_json(ab);
    char *two[] = {cJSON_Print(doc), texts[2]};
    cJSON_Delete(doc);
    struct merge *all = merge_create(), *again = merge_create();
    assert_int_equal(merge_texts(all, texts, 3, err), 0);
    assert_int_equal(merge_texts(again, two, 2, err), 0);
    const struct stats *x = merge_level(all, 0)->st, *y = merge_level(again, 0)->st;
    assert_int_equal(y->requests, 3000);
    assert_int_equal(merge_level(again, 0)->concurrency, 75);
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++)
        assert_int_equal(hist_percentile(x->h[STATS_LATENCY], checked[i]),
                         hist_percentile(y->h[STATS_LATENCY], checked[i]));
    struct output_figures fx, fy;
    output_figures(merge_level(all, 0), &fx);
    output_figures(merge_level(again, 0), &fy);
    assert_true(fx.throughput_rps == fy.throughput_rps);
    merge_destroy(ab);
    merge_destroy(all);
    merge_destroy(again);
    free(two[0]);
    for (int i = 0; i < 3; i++)
        free(texts[i]);
    free(lat);
}

static void set_schema_2(cJSON *root, cJSON *level)
{
    (void)level;
    cJSON_ReplaceItemInObject(root, "schema_version", cJSON_CreateNumber(2));
}

static void refuses_different_schema_versions(void **state)
{
    (void)state;
    uint64_t *lat = sample(20, 1);
    struct client a = client("r1", "eastus", T0, T0 + SEC, lat, 10);
    struct client b = client("r2", "eastus", T0, T0 + SEC, lat + 10, 10);
    char *two[] = {result_text(&a), edited(result_text(&b), set_schema_2)};
    expect_refusal(two, 2, "a.json and b.json: different schema versions (1 vs 2); results from "
                           "the same loadgen version merge");
    char *one[] = {edited(result_text(&a), set_schema_2)};
    expect_refusal(one, 1, "a.json: schema_version 2; this loadgen merges version 1");
    free(lat);
}

static void refuses_different_histogram_settings(void **state)
{
    (void)state;
    uint64_t *lat = sample(20, 1);
    struct client a = client("r1", "eastus", T0, T0 + SEC, lat, 10);
    struct client b = client("r2", "eastus", T0, T0 + SEC, lat + 10, 10);
    b.sig = 2;
    char *texts[] = {result_text(&a), result_text(&b)};
    /* output.c always writes sig 3 in the header; say what b really holds. */
    cJSON *doc = cJSON_Parse(texts[1]);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(doc, "histogram"), "sig", cJSON_CreateNumber(2));
    free(texts[1]);
    texts[1] = cJSON_Print(doc);
    cJSON_Delete(doc);
    expect_refusal(texts, 2, "a.json and b.json: different histogram settings (sig 3 vs 2); "
                             "results from the same loadgen version merge");
    free(lat);
}

static void refuses_windows_that_do_not_overlap(void **state)
{
    (void)state;
    uint64_t *lat = sample(30, 1);
    struct client c[3] = {client("r1", "eastus", T0, T0 + 10 * SEC, lat, 10),
                          client("r2", "eastus", T0 + 5 * SEC, T0 + 6 * SEC, lat + 10, 10),
                          client("r3", "westeurope", T0 + 7 * SEC, T0 + 9 * SEC, lat + 20, 10)};
    char *texts[] = {result_text(&c[0]), result_text(&c[1]), result_text(&c[2])};
    expect_refusal(texts, 3, "b.json and c.json: level closed 25 in flight, cycle 1 did not run "
                             "at the same time (b.json ended at ");
    free(lat);
}

static void refuses_what_is_not_json(void **state)
{
    (void)state;
    char *texts[] = {strdup("run_id,timestamp,label\n1,2,3\n")};
    expect_refusal(texts, 1, "a.json: not JSON (error near byte 0); give a file written by "
                             "loadgen --json");
    char *empty[] = {strdup("")};
    expect_refusal(empty, 1, "a.json: empty file");
    char *other[] = {strdup("{\"hello\": 1}")};
    expect_refusal(other, 1, "a.json: no schema_version or levels");
}

static void drop_start(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON_DeleteItemFromObject(level, "start_wall_us");
}

static void drop_latency_histogram(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(level, "histograms"), "latency");
}

static void drop_a_class(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(level, "classes"), "http_5xx");
}

static void add_a_request(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON *ok = cJSON_GetObjectItem(cJSON_GetObjectItem(level, "classes"), "ok");
    cJSON_SetNumberValue(ok, ok->valuedouble + 1);
    cJSON *req = cJSON_GetObjectItem(level, "requests");
    cJSON_SetNumberValue(req, req->valuedouble + 1);
}

static void damage_histogram(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(level, "histograms"), "ttfb",
                              cJSON_CreateString("v1:3:!!!!"));
}

/* A histogram of 11 samples where the level made 10 requests. */
static void inflate_ttfb(cJSON *root, cJSON *level)
{
    (void)root;
    struct hist *h = hist_create(3);
    char *enc = NULL;
    assert_non_null(h);
    hist_record_n(h, 5000, 11);
    assert_int_equal(hist_encode(h, &enc), 0);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(level, "histograms"), "ttfb",
                              cJSON_CreateString(enc));
    free(enc);
    hist_destroy(h);
}

static void more_images_ok_than_images(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON *ok = cJSON_GetObjectItem(level, "images_ok");
    cJSON_SetNumberValue(ok, cJSON_GetObjectItem(level, "images")->valuedouble + 1);
}

/* More replies with a status than requests, and a status that is no number. */
static void inflate_statuses(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON_AddNumberToObject(cJSON_GetObjectItem(level, "statuses"), "404", 1);
}

static void name_a_status_badly(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON_AddNumberToObject(cJSON_GetObjectItem(level, "statuses"), "4o4\x1b[2J", 0);
}

static void refuses_missing_and_inconsistent_fields(void **state)
{
    (void)state;
    uint64_t *lat = sample(10, 1);
    struct client a = client("r1", "eastus", T0, T0 + SEC, lat, 10);
    static const struct {
        void (*edit)(cJSON *, cJSON *);
        const char *want;
    } cases[] = {
        {drop_start, "a.json: levels[0]: 'start_wall_us' is missing; the file is not a whole "
                     "loadgen result"},
        {drop_latency_histogram, "a.json: levels[0]: \"histograms\" has no \"latency\""},
        {drop_a_class, "a.json: levels[0]: \"classes\" has no count \"http_5xx\""},
        {add_a_request, "a.json: levels[0]: the latency histogram holds 10 samples but "
                        "requests is 11"},
        {damage_histogram, "a.json: levels[0]: histograms.ttfb does not decode"},
        {inflate_ttfb, "a.json: levels[0]: the ttfb histogram holds 11 samples but requests "
                       "is 10"},
        {more_images_ok_than_images, "a.json: levels[0]: images_ok (11) is more than images "
                                     "(10)"},
        {inflate_statuses, "a.json: levels[0]: statuses has a bad entry \"404\""},
        {name_a_status_badly, "a.json: levels[0]: statuses has a bad entry \"4o4\x1b[2J\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *texts[] = {edited(result_text(&a), cases[i].edit)};
        expect_refusal(texts, 1, cases[i].want);
    }
    free(lat);
}

static void refuses_a_level_that_one_file_lacks(void **state)
{
    (void)state;
    uint64_t *lat = sample(20, 1);
    struct client a = client("r1", "eastus", T0, T0 + SEC, lat, 10);
    struct client b = client("r2", "westeurope", T0, T0 + SEC, lat + 10, 10);
    b.concurrency = 50;
    char *texts[] = {result_text(&a), result_text(&b)};
    expect_refusal(texts, 2, "a.json and b.json: a.json has level closed 25 in flight, cycle 1 "
                             "and b.json does not");
    free(lat);
}

static void refuses_the_same_run_twice(void **state)
{
    (void)state;
    uint64_t *lat = sample(10, 1);
    struct client a = client("r1", "eastus", T0, T0 + SEC, lat, 10);
    char *texts[] = {result_text(&a), result_text(&a)};
    expect_refusal(texts, 2, "a.json and b.json: the same run (run_id r1)");
    free(lat);
}

static void refuses_a_merge_together_with_one_of_its_inputs(void **state)
{
    (void)state;
    uint64_t *lat = sample(20, 1);
    struct client a = client("r1", "eastus", T0, T0 + SEC, lat, 10);
    struct client b = client("r2", "westeurope", T0, T0 + SEC, lat + 10, 10);
    char *texts[] = {result_text(&a), result_text(&b)}, err[LG_ERRLEN];
    struct merge *m = merge_create();
    assert_int_equal(merge_texts(m, texts, 2, err), 0);
    cJSON *doc = merged_json(m);
    merge_destroy(m);
    char *again[] = {cJSON_Print(doc), texts[1]};
    cJSON_Delete(doc);
    free(texts[0]);
    expect_refusal(again, 2, "a.json and b.json: both hold run r2");
    free(lat);
}

static void merge_main_exits_2_on_bad_input_and_0_on_help(void **state)
{
    (void)state;
    char *help[] = {"merge", "--help"};
    char *no_out[] = {"merge", "a.json"};
    char *flag[] = {"merge", "--nope"};
    char *missing[] = {"merge", "/nonexistent/a.json", "-o", "/tmp/m.json"};
    char *same[] = {"merge", "a.json", "-o", "a.json"};
    char *device[] = {"merge", "/dev/zero", "-o", "/tmp/m.json"};
    FILE *keep = stdout;
    stdout = fopen("/dev/null", "w");
    assert_int_equal(merge_main(2, help), 0);
    fclose(stdout);
    stdout = keep;
    assert_int_equal(merge_main(2, no_out), LG_EXIT_USAGE);
    assert_int_equal(merge_main(2, flag), LG_EXIT_USAGE);
    assert_int_equal(merge_main(4, missing), LG_EXIT_USAGE);
    assert_int_equal(merge_main(4, same), LG_EXIT_USAGE);
    /* Refused at once: not read until memory runs out. */
    assert_int_equal(merge_main(4, device), LG_EXIT_USAGE);
}

static void merge_add_file_refuses_a_fifo_and_a_file_over_the_cap(void **state)
{
    (void)state;
    char dir[] = "/tmp/loadgen-test-merge.XXXXXX", fifo[64], big[64], err[LG_ERRLEN];
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/a.json", dir);
    snprintf(big, sizeof big, "%s/b.json", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)RESULTS_MAX_BYTES + 1), 0);
    fclose(f);
    struct merge *m = merge_create();
    assert_int_equal(merge_add_file(m, fifo, err), -EINVAL);
    assert_non_null(strstr(err, "a.json: not a regular file (a FIFO)"));
    assert_int_equal(merge_add_file(m, big, err), -EINVAL);
    assert_non_null(strstr(err, "b.json: 67108865 bytes; at most 64 MiB"));
    merge_destroy(m);
    unlink(fifo);
    unlink(big);
    rmdir(dir);
}

/* A result from before the grpc class: no "grpc" among the classes. */
static void drop_grpc_class(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(level, "classes"), "grpc");
}

/* A gRPC client's: its 5xx were UNAVAILABLE replies, its ok were OK. */
static void as_grpc(cJSON *root, cJSON *level)
{
    (void)root;
    cJSON *cl = cJSON_GetObjectItem(level, "classes");
    double n5 = cJSON_GetObjectItem(cl, "http_5xx")->valuedouble;
    double ok = cJSON_GetObjectItem(cl, "ok")->valuedouble;
    cJSON_ReplaceItemInObject(cl, "http_5xx", cJSON_CreateNumber(0));
    cJSON_ReplaceItemInObject(cl, "grpc", cJSON_CreateNumber(n5));
    cJSON *gs = cJSON_AddObjectToObject(level, "grpc_statuses");
    cJSON_AddNumberToObject(gs, "OK", ok);
    cJSON_AddNumberToObject(gs, "UNAVAILABLE", n5);
}

static void results_without_the_grpc_class_merge_with_grpc_ones(void **state)
{
    (void)state;
    uint64_t *lat = sample(200, 5);
    struct client a = client("run-a", "eastus", T0, T0 + SEC, lat, 100);
    struct client b = client("run-b", "westeurope", T0, T0 + SEC, lat + 100, 100);
    char *texts[] = {edited(result_text(&a), drop_grpc_class), edited(result_text(&b), as_grpc)};
    char err[LG_ERRLEN];
    assert_null(strstr(texts[0], "\"grpc\""));
    struct merge *m = merge_create();
    if (merge_texts(m, texts, 2, err) != 0)
        fail_msg("merge: %s", err);
    const struct stats *st = merge_level(m, 0)->st;
    assert_int_equal(st->by_class[CLASS_HTTP_5XX], 10);
    assert_int_equal(st->by_class[CLASS_GRPC], 10);
    assert_int_equal(st->by_grpc[14], 10);
    assert_int_equal(st->by_grpc[0], 90);
    cJSON *doc = merged_json(m);
    const cJSON *lv = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "levels"), 0);
    assert_true(num(cJSON_GetObjectItem(lv, "grpc_statuses"), "UNAVAILABLE") == 10);
    assert_true(num(cJSON_GetObjectItem(lv, "classes"), "grpc") == 10);
    cJSON_Delete(doc);
    merge_destroy(m);
    free(texts[0]);
    free(texts[1]);
    /* A damaged count is refused, as a class's is. */
    char *bad[] = {edited(result_text(&b), as_grpc)};
    cJSON *d = cJSON_Parse(bad[0]);
    cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "levels"), 0);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(l0, "grpc_statuses"), "OK", cJSON_CreateNumber(-1));
    free(bad[0]);
    bad[0] = cJSON_Print(d);
    cJSON_Delete(d);
    expect_refusal(bad, 1, "grpc_statuses.OK");
    free(lat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merging_two_halves_gives_the_percentiles_of_the_whole),
        cmocka_unit_test(results_without_the_grpc_class_merge_with_grpc_ones),
        cmocka_unit_test(counts_add_and_throughput_is_over_the_union_of_windows),
        cmocka_unit_test(labels_and_regions_join_distinct_values_with_plus),
        cmocka_unit_test(differing_costs_leave_the_merge_without_cost_and_say_so),
        cmocka_unit_test(timelines_add_on_wall_clock_seconds),
        cmocka_unit_test(a_merged_result_merges_again_like_all_its_inputs),
        cmocka_unit_test(refuses_different_schema_versions),
        cmocka_unit_test(refuses_different_histogram_settings),
        cmocka_unit_test(refuses_windows_that_do_not_overlap),
        cmocka_unit_test(refuses_what_is_not_json),
        cmocka_unit_test(refuses_missing_and_inconsistent_fields),
        cmocka_unit_test(refuses_a_level_that_one_file_lacks),
        cmocka_unit_test(refuses_the_same_run_twice),
        cmocka_unit_test(refuses_a_merge_together_with_one_of_its_inputs),
        cmocka_unit_test(merge_main_exits_2_on_bad_input_and_0_on_help),
        cmocka_unit_test(merge_add_file_refuses_a_fifo_and_a_file_over_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
