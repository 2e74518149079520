/* test_schema.c: the result format's table, writer and reader. Every
 * column round-trips through the CSV and the JSON writer and reader, so a
 * column added to the table is tested by the line that adds it; text
 * cells are quoted (RFC 4180) and guarded against spreadsheet formulas;
 * the lenient and strict readers differ in what they need. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "schema.h"

static const char *cell_of(const char *s, struct sbuf *b)
{
    b->len = 0;
    schema_csv_text(b, s);
    sbuf_printf(b, "%s", "");
    assert_false(b->failed);
    return b->p;
}

static void text_cells_are_quoted_and_guarded_against_formulas(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"gpu-1", "gpu-1"},
        {"=HYPERLINK(\"x\"),a", "\"'=HYPERLINK(\"\"x\"\"),a\""},
        {"-5", "'-5"},
        {"+1", "'+1"},
        {"@SUM(A1)", "'@SUM(A1)"},
        {"\tx", "'\tx"},
        {"\rx", "\"'\rx\""},
        {"a,b", "\"a,b\""},
        {"two\nlines", "\"two\nlines\""},
        {"bell\a esc\x1b del\x7f", "bell? esc? del?"},
        {"'=already", "''=already"},
        {"'plain", "'plain"},
        {"", ""},
    };
    struct sbuf b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(cell_of(cases[i].in, &b), cases[i].out);
    free(b.p);
}

/* A record with a distinct value in every column: numbers that print
 * exactly in their column's format, hostile text, valid enum values. */
static void distinct_record(struct schema_level *rec)
{
    static const char *const texts[] = {
        "=HYPERLINK(\"x\"),a", "-5", "a \"quoted\" one", "two\nlines", "@x", "'-y", "plain",
        "run-1", "2026-11-27T01:02:03Z",
    };
    size_t t = 0;
    schema_level_init(rec);
    for (size_t i = 0; i < schema_ncols; i++) {
        const struct schema_col *c = &schema_cols[i];
        void *at = (char *)rec + c->off;
        if (c->type == SCHEMA_TEXT)
            *(const char **)at = texts[t++ % (sizeof texts / sizeof texts[0])];
        else if (c->type == SCHEMA_ENUM)
            *(const char **)at = c->values[1] ? c->values[1] : c->values[0];
        else
            *(double *)at = c->type == SCHEMA_COUNT ? (double)(i + 1) : (double)i + 0.5;
    }
}

static void expect_same(const struct schema_level *a, const struct schema_level *b, int csv)
{
    for (size_t i = 0; i < schema_ncols; i++) {
        const struct schema_col *c = &schema_cols[i];
        if (!(csv ? c->csv : c->json))
            continue;
        const void *x = (const char *)a + c->off, *y = (const char *)b + c->off;
        if (c->type == SCHEMA_TEXT || c->type == SCHEMA_ENUM) {
            if (strcmp(*(const char *const *)x, *(const char *const *)y) != 0)
                fail_msg("column %s: wrote '%s', read '%s'", csv ? c->csv : c->json,
                         *(const char *const *)x, *(const char *const *)y);
        } else if (*(const double *)x != *(const double *)y) {
            fail_msg("column %s: wrote %g, read %g", csv ? c->csv : c->json, *(const double *)x,
                     *(const double *)y);
        }
    }
}

static void every_column_round_trips_through_the_csv(void **state)
{
    struct schema_level out, in;
    struct sbuf head = {0}, row = {0};
    struct schema_header h;
    char *f[SCHEMA_MAX_FIELDS], err[LG_ERRLEN];
    distinct_record(&out);
    schema_csv_header(&head);
    schema_csv_row(&row, &out);
    assert_false(head.failed || row.failed);
    head.p[--head.len] = '\0';
    row.p[--row.len] = '\0';
    int nh = schema_csv_split(head.p, f, SCHEMA_MAX_FIELDS);
    assert_true(schema_csv_is_header(f, nh));
    assert_int_equal(schema_csv_map(&h, f, nh, SCHEMA_READ_LENIENT, "t.csv", err), 0);
    assert_true(schema_csv_open_quote("\"two") && !schema_csv_open_quote("\"two\nlines\""));
    int nr = schema_csv_split(row.p, f, SCHEMA_MAX_FIELDS);
    assert_int_equal(nr, nh);
    if (schema_csv_read(&in, &h, f, SCHEMA_READ_STRICT, "t.csv:2", err) < 0)
        fail_msg("%s", err);
    expect_same(&out, &in, 1);
    free(head.p);
    free(row.p);
}

static void every_column_round_trips_through_json(void **state)
{
    struct schema_level out, in;
    char err[LG_ERRLEN];
    distinct_record(&out);
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(schema_json_level(o, &out), 0);
    /* Through text, as a file goes. */
    char *text = cJSON_Print(o);
    cJSON *back = cJSON_Parse(text);
    if (schema_json_read(&in, back, SCHEMA_READ_STRICT, "t.json: levels[0]", err) < 0)
        fail_msg("%s", err);
    expect_same(&out, &in, 0);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "latency_ms"), "p50"));
    cJSON_Delete(back);
    cJSON_Delete(o);
    free(text);
}

/* The summary header as this loadgen writes it, split. */
static int header_fields(struct sbuf *head, char **f, struct schema_header *h)
{
    char err[LG_ERRLEN];
    schema_csv_header(head);
    head->p[--head->len] = '\0';
    int n = schema_csv_split(head->p, f, SCHEMA_MAX_FIELDS);
    assert_int_equal(schema_csv_map(h, f, n, SCHEMA_READ_LENIENT, "t.csv", err), 0);
    return n;
}

static void a_failed_level_has_empty_figures_and_a_complete_one_may_not(void **state)
{
    struct schema_level out, in;
    struct sbuf head = {0}, row = {0};
    struct schema_header h;
    char *hf[SCHEMA_MAX_FIELDS], *f[SCHEMA_MAX_FIELDS], err[LG_ERRLEN];
    header_fields(&head, hf, &h);
    distinct_record(&out);
    out.status = SCHEMA_STATUS_FAILED;
    out.images_per_s = out.lat_p50_ms = out.lat_p99_ms = out.throughput_rps = NAN;
    schema_csv_row(&row, &out);
    row.p[--row.len] = '\0';
    char *copy = strdup(row.p);
    schema_csv_split(row.p, f, SCHEMA_MAX_FIELDS);
    assert_int_equal(schema_csv_read(&in, &h, f, SCHEMA_READ_LENIENT, "t.csv:2", err), 0);
    assert_true(schema_failed(&in) && isnan(in.images_per_s) && isnan(in.lat_p99_ms));

    /* The same empty figures under "complete" are a damaged file. */
    out.status = SCHEMA_STATUS_COMPLETE;
    row.len = 0;
    schema_csv_row(&row, &out);
    row.p[--row.len] = '\0';
    schema_csv_split(row.p, f, SCHEMA_MAX_FIELDS);
    assert_int_equal(schema_csv_read(&in, &h, f, SCHEMA_READ_LENIENT, "t.csv:2", err), -EINVAL);
    assert_string_equal(err, "t.csv:2: column 'images_per_s' is empty");

    /* JSON writes them as null, and reads null back for a failed level. */
    out.status = SCHEMA_STATUS_FAILED;
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(schema_json_level(o, &out), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "images_per_s")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "latency_ms"), "p99")));
    assert_int_equal(schema_json_read(&in, o, SCHEMA_READ_STRICT, "t.json: levels[0]", err), 0);
    cJSON_ReplaceItemInObject(o, "status", cJSON_CreateString(SCHEMA_STATUS_COMPLETE));
    assert_int_equal(schema_json_read(&in, o, SCHEMA_READ_LENIENT, "t.json: levels[0]", err), -EINVAL);
    assert_non_null(strstr(err, "t.json: levels[0]: 'images_per_s' is null"));
    cJSON_Delete(o);
    free(copy);
    free(head.p);
    free(row.p);
}

static void the_strict_reader_needs_what_merge_needs_and_the_lenient_one_does_not(void **state)
{
    struct schema_level out, in;
    char err[LG_ERRLEN];
    distinct_record(&out);
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(schema_json_level(o, &out), 0);
    cJSON_DeleteItemFromObject(o, "bytes_recv");
    assert_int_equal(schema_json_read(&in, o, SCHEMA_READ_LENIENT, "t.json: levels[0]", err), 0);
    assert_true(isnan(in.bytes_recv));
    assert_int_equal(schema_json_read(&in, o, SCHEMA_READ_STRICT, "t.json: levels[0]", err), -EINVAL);
    assert_string_equal(err, "t.json: levels[0]: 'bytes_recv' is missing; the file is not a "
                             "whole loadgen result");
    cJSON_DeleteItemFromObject(o, "label");
    assert_int_equal(schema_json_read(&in, o, SCHEMA_READ_LENIENT, "t.json: levels[0]", err), -EINVAL);
    assert_non_null(strstr(err, "'label' is missing"));
    cJSON_Delete(o);
}

static void bad_values_are_named_with_their_column(void **state)
{
    struct sbuf head = {0};
    struct schema_header h;
    struct schema_level in;
    char *hf[SCHEMA_MAX_FIELDS], *f[SCHEMA_MAX_FIELDS], err[LG_ERRLEN];
    int n = header_fields(&head, hf, &h);
    static const struct {
        const char *col, *value, *want;
    } cases[] = {
        {"status", "finished", "t.csv:2: column 'status': 'finished' is not complete, "
                               "interrupted, unstable, failed or under_rate"},
        {"requests", "1.5", "t.csv:2: column 'requests': 1.5 is not a whole number"},
        {"rate", "-1", "t.csv:2: column 'rate': -1 is negative"},
        {"concurrency", "lots", "t.csv:2: column 'concurrency': 'lots' is not a number"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int i = 0; i < n; i++)
            f[i] = strcmp(hf[i], cases[k].col) == 0 ? (char *)cases[k].value
                   : strcmp(hf[i], "mode") == 0     ? "closed"
                   : strcmp(hf[i], "slo") == 0      ? ""
                                                    : "1";
        assert_int_equal(schema_csv_read(&in, &h, f, SCHEMA_READ_LENIENT, "t.csv:2", err), -EINVAL);
        if (!strstr(err, cases[k].want))
            fail_msg("\"%s\" does not contain \"%s\"", err, cases[k].want);
    }
    free(head.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_cells_are_quoted_and_guarded_against_formulas),
        cmocka_unit_test(every_column_round_trips_through_the_csv),
        cmocka_unit_test(every_column_round_trips_through_json),
        cmocka_unit_test(a_failed_level_has_empty_figures_and_a_complete_one_may_not),
        cmocka_unit_test(the_strict_reader_needs_what_merge_needs_and_the_lenient_one_does_not),
        cmocka_unit_test(bad_values_are_named_with_their_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
