/* test_output.c: the summary CSV row format, the header written once, the
 * derived cost figures, and text cells that cannot break the CSV. */
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

#include <cjson/cJSON.h>

#include "common.h"
#include "output.h"
#include "stats.h"

static struct stats *sample(void)
{
    struct stats *st = stats_create(0, 0);
    stats_reset(st, 0);
    st->first_start_us = 0;
    /* 100 requests of 10..1000 ms; 90 ok, 10 http_5xx; 2 s window. */
    for (int i = 1; i <= 100; i++) {
        struct stats_request r = {.class_ = i <= 90 ? CLASS_OK : CLASS_HTTP_5XX,
                                  .latency_us = (uint32_t)i * 10000, .ttfb_us = 5000,
                                  .bytes_sent = 1000, .bytes_recv = 100};
        stats_record(st, &r, 1, (uint64_t)i * 10000, i == 100 ? 2000000 : i * 1000);
    }
    return st;
}

static struct output_level level(const struct stats *st)
{
    return (struct output_level){.run_id = "r1", .label = "gpu,1", .region = "east\"us",
                                 .model = "resnet50", .target = "http://h/score",
                                 .format = "json-b64", .concurrency = 50, .cycle = 1,
                                 .test_no = 1, .cost_per_hour = 0.9,
                                 .start_wall_us = 1795000000000000, .st = st};
}

/* Fields of one CSV line; commas inside quotes do not count. */
static int count_fields(const char *line)
{
    int n = 1, quoted = 0;
    for (; *line && *line != '\n'; line++) {
        quoted ^= *line == '"';
        n += *line == ',' && !quoted;
    }
    return n;
}

static void figures_follow_the_studys_formula(void **state)
{
    struct stats *st = sample();
    struct output_level lv = level(st);
    struct output_figures f;
    output_figures(&lv, &f);
    assert_true(fabs(f.duration_s - 2.0) < 1e-9);
    assert_true(fabs(f.throughput_rps - 50.0) < 1e-9);   /* 100 requests / 2 s */
    assert_true(fabs(f.images_per_s - 45.0) < 1e-9);     /* 90 ok images / 2 s */
    /* 45 images/s = 162000 per hour at $0.90: $0.00555.. per 1000 images */
    assert_true(fabs(f.cost_per_1k_images - 0.9 / 162000.0 * 1000.0) < 1e-12);
    assert_true(fabs(f.images_per_dollar - 180000.0) < 1e-6);
    stats_destroy(st);
}

static void csv_header_is_written_once_and_rows_have_every_column(void **state)
{
    char path[] = "/tmp/loadgen-test-report.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct stats *st = sample();
    struct output_level lv = level(st);
    char err[LG_ERRLEN];
    assert_int_equal(output_csv_append(path, &lv, err), 0);
    assert_int_equal(output_csv_append(path, &lv, err), 0);
    FILE *f = fopen(path, "r");
    char line[4096];
    int lines = 0, headers = 0, header_fields = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        if (strncmp(line, "run_id,", 7) == 0) {
            headers++;
            header_fields = count_fields(line);
        } else {
            assert_int_equal(count_fields(line), header_fields);
            /* Text with commas and quotes is quoted (RFC 4180). */
            assert_non_null(strstr(line, ",\"gpu,1\",\"east\"\"us\",resnet50,http://h/score,json-b64,closed,50,0,1,100,90,10,0,2.000000,50.000,45.000,"));
            assert_non_null(strstr(line, ",0.9000,0.005556,180000.0,complete,100,0,"));
        }
    }
    fclose(f);
    assert_int_equal(headers, 1);
    assert_int_equal(lines, 3);
    assert_int_equal(header_fields, 41);
    unlink(path);
    stats_destroy(st);
}

static void unknown_cost_leaves_the_cost_cells_empty(void **state)
{
    char path[] = "/tmp/loadgen-test-report.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct stats *st = sample();
    struct output_level lv = level(st);
    lv.cost_per_hour = -1;
    char err[LG_ERRLEN];
    assert_int_equal(output_csv_append(path, &lv, err), 0);
    FILE *f = fopen(path, "r");
    char line[4096];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",,,,complete,"));
    fclose(f);
    unlink(path);
    stats_destroy(st);
}

static void an_unwritable_path_is_an_error_naming_it(void **state)
{
    struct stats *st = sample();
    struct output_level lv = level(st);
    char err[LG_ERRLEN];
    assert_int_equal(output_csv_append("/nonexistent-dir/s.csv", &lv, err), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent-dir/s.csv"));
    stats_destroy(st);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = calloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void a_level_where_every_request_failed_is_failed_with_empty_figures(void **state)
{
    char path[] = "/tmp/loadgen-test-report.XXXXXX", jpath[] = "/tmp/loadgen-test-rjson.XXXXXX";
    close(mkstemp(path));
    close(mkstemp(jpath));
    struct stats *st = stats_create(0, 0);
    stats_reset(st, 0);
    st->first_start_us = 0;
    for (int i = 1; i <= 20; i++) {
        struct stats_request r = {.class_ = CLASS_CONNECT, .latency_us = 100};
        stats_record(st, &r, 1, 100, i * 1000);
    }
    struct output_level lv = level(st);
    char err[LG_ERRLEN];
    assert_string_equal(output_status(&lv), "failed");
    assert_int_equal(output_csv_append(path, &lv, err), 0);
    char *text = slurp(path), *row = strchr(text, '\n') + 1;
    /* throughput_rps .. connect_p50_ms empty; cost_per_hour kept */
    assert_non_null(strstr(row, ",20,0,20,0,0.020000,,,,,,,,,,,,0,0,0.9000,,,failed,20,0,,,,0,"));
    free(text);

    struct output_json *j = output_json_create("--json", jpath, "r1");
    assert_int_equal(output_json_add(j, &lv, err), 0);
    output_json_destroy(j);
    text = slurp(jpath);
    cJSON *doc = cJSON_Parse(text), *l = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "levels"), 0);
    assert_string_equal(cJSON_GetObjectItem(l, "status")->valuestring, "failed");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(l, "throughput_rps")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(l, "latency_ms"), "p50")));
    assert_int_equal(cJSON_GetObjectItem(l, "requests")->valuedouble, 20);
    cJSON_Delete(doc);
    free(text);
    unlink(path);
    unlink(jpath);
    stats_destroy(st);
}

static void requests_log_rows_end_with_cycle_label_and_wall_time(void **state)
{
    char path[] = "/tmp/loadgen-test-report.XXXXXX";
    close(mkstemp(path));
    struct stats *st = stats_create(1, 4);
    stats_reset(st, 1000000);
    for (int i = 1; i <= 2; i++) {
        struct stats_request r = {.class_ = CLASS_OK, .latency_us = 1000, .image = (uint32_t)i,
                                  .status = 200, .offset_us = i * 250000};
        stats_record(st, &r, 1, 1000, 1000000 + i * 250000);
    }
    st->first_start_us = 1000000 + 249000; /* the first send, 1 ms before its reply */
    struct output_level lv = level(st);
    lv.label = "=HYPERLINK(\"x\"),a";
    lv.cycle = 3;
    lv.start_wall_us = 1795000000000000 + 249000; /* 2026-11-18T11:06:40.249Z */
    char err[LG_ERRLEN];
    assert_int_equal(output_requests_append(path, &lv, err), 0);
    char *text = slurp(path);
    assert_string_equal(text,
        "offset_ms,level,image,status,class,latency_ms,ttfb_ms,connect_ms,bytes_sent,bytes_recv,"
        "cycle,label,wall_time\n"
        "250.000,50,1,200,ok,1.000,0.000,0.000,0,0,3,\"'=HYPERLINK(\"\"x\"\"),a\","
        "2026-11-18T11:06:40.250Z\n"
        "500.000,50,2,200,ok,1.000,0.000,0.000,0,0,3,\"'=HYPERLINK(\"\"x\"\"),a\","
        "2026-11-18T11:06:40.500Z\n");
    free(text);
    unlink(path);
    stats_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(figures_follow_the_studys_formula),
        cmocka_unit_test(csv_header_is_written_once_and_rows_have_every_column),
        cmocka_unit_test(unknown_cost_leaves_the_cost_cells_empty),
        cmocka_unit_test(an_unwritable_path_is_an_error_naming_it),
        cmocka_unit_test(a_level_where_every_request_failed_is_failed_with_empty_figures),
        cmocka_unit_test(requests_log_rows_end_with_cycle_label_and_wall_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
