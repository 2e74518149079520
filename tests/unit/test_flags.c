/*
 * test_flags.c: the table-driven flag parser: every form of a flag, every
 * kind's checks and messages, and --help generated from the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "flags.h"

struct opts {
    int quiet, verbose;
    const char *out;
    uint64_t requests;
    unsigned threads;
    int64_t timeout_us;
    uint64_t max_reply;
    double error_rate, cost;
    int format;
    const char *args[4];
    int nargs;
    int calls;
};

static const char *const formats[] = {"png", "svg", "pdf", NULL};

static int levels(void *o, const struct flag *f, const char *v, char *err)
{
    struct opts *p = o;
    if (strcmp(v, "bad") == 0)
        return flags_errf(err, f, v, "write START:END");
    p->calls++;
    return 0;
}

static int positional(void *o, const char *arg, char *err)
{
    struct opts *p = o;
    if (p->nargs == 4)
        return lg_err(err, -EINVAL, "too many");
    p->args[p->nargs++] = arg;
    return 0;
}

#define O(field) offsetof(struct opts, field)
static const struct flag table[] = {
    {.kind = FLAG_SECTION, .help = "Load:"},
    {"threads", "c", FLAG_UINT, O(threads), 1, 1000000, "N", "requests in flight", .alias = "concurrency"},
    {"requests", "n", FLAG_COUNT, O(requests), 1, 0, "N", "requests per level"},
    {"timeout", NULL, FLAG_DURATION, O(timeout_us), 1000, 3600e6, "T", "per request\nsecond line"},
    {"max-reply", NULL, FLAG_SIZE, O(max_reply), 1, 0, "SIZE", "largest reply"},
    {"max-error-rate", NULL, FLAG_FRACTION, O(error_rate), 0, 1, "P", "errors allowed"},
    {"cost-per-hour", NULL, FLAG_REAL, O(cost), 0, 1e6, "USD", "price"},
    {"format", NULL, FLAG_CHOICE, O(format), 0, 0, "F", "png, svg or pdf", .choices = formats},
    {"levels", NULL, FLAG_CALL, 0, 0, 0, "A:B", "a sweep", .call = levels},
    {.kind = FLAG_SECTION, .help = "Output:"},
    {"out", "o", FLAG_STRING, O(out), 1, 0, "FILE", "where results go"},
    {"quiet", "q", FLAG_SWITCH, O(quiet), 0, 0, NULL, "no progress"},
    {"verbose", "vz", FLAG_SWITCH, O(verbose), 0, 0, NULL, "more"},
    {"hidden", NULL, FLAG_SWITCH, O(verbose), 0, 0, NULL, NULL},
    {0},
};
static const struct flag_cmd cmd = {
    .name = "loadgen test",
    .usage = "loadgen test [flags] FILE...",
    .about = "A command for the tests.",
    .flags = table,
    .epilogue = "Exit codes: 0 done.\n",
    .arg = positional,
};

static int parse(struct opts *o, char *err, ...)
{
    char *argv[32] = {"test"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    memset(o, 0, sizeof *o);
    return flags_parse(&cmd, argc, argv, o, NULL, err);
}

static void long_short_equals_and_bundled_forms_all_set_the_value(void **state)
{
    (void)state;
    struct opts o;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&o, err, "--threads", "20", "-n", "10k", "--timeout=1.5", "-qv",
                           "-ofile.csv", NULL), 0);
    assert_int_equal(o.threads, 20);
    assert_int_equal(o.requests, 10000);
    assert_int_equal(o.timeout_us, 1500000); /* a bare number is seconds */
    assert_true(o.quiet && o.verbose);
    assert_string_equal(o.out, "file.csv");
    assert_int_equal(parse(&o, err, "--concurrency", "7", "-z", NULL), 0);
    assert_int_equal(o.threads, 7);
    assert_int_equal(o.verbose, 1);
}

static void later_flags_win_and_arguments_are_collected_in_order(void **state)
{
    (void)state;
    struct opts o;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&o, err, "a.csv", "-c", "5", "-", "-c", "9", "--", "--not-a-flag", NULL), 0);
    assert_int_equal(o.threads, 9);
    assert_int_equal(o.nargs, 3);
    assert_string_equal(o.args[0], "a.csv");
    assert_string_equal(o.args[1], "-"); /* stdout/stdin, not a flag */
    assert_string_equal(o.args[2], "--not-a-flag");
}

static void each_kind_reads_its_units(void **state)
{
    (void)state;
    struct opts o;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&o, err, "--max-reply", "64KiB", "--max-error-rate", "1%",
                           "--cost-per-hour", "0.90", "--format", "svg", "--levels", "1:2", NULL), 0);
    assert_int_equal(o.max_reply, 65536);
    assert_true(o.error_rate > 0.00999 && o.error_rate < 0.01001);
    assert_true(o.cost > 0.8999 && o.cost < 0.9001);
    assert_int_equal(o.format, 1);
    assert_int_equal(o.calls, 1);
}

struct bad_case {
    const char *args[3];
    const char *message;
};

static void bad_values_name_the_flag_and_say_what_to_write(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {{"--threads", "0"}, "--threads 0: must be at least 1"},
        {{"--threads", "2000000"}, "--threads 2000000: must be at most 1000000"},
        {{"-n", "ten"}, "--requests ten: not a whole number; write e.g. 1000 or 10k"},
        {{"-n", "99999999999999999999999"}, "--requests 99999999999999999999999: too large"},
        {{"--timeout", "1us"}, "--timeout 1us: must be at least 1ms"},
        {{"--timeout", "soon"}, "--timeout soon: not a duration; write e.g. 500ms, 30s, 2m or 1h (a bare number is seconds)"},
        {{"--max-reply", "big"}, "--max-reply big: not a size; write e.g. 64MiB, 100KB or 512"},
        {{"--max-error-rate", "150%"}, "--max-error-rate 150%: not a fraction; write e.g. 10% or 0.1 (from 0 to 1)"},
        {{"--cost-per-hour", "nan"}, "--cost-per-hour nan: not a number; write e.g. 0.90"},
        {{"--cost-per-hour", "inf"}, "--cost-per-hour inf: not a number; write e.g. 0.90"},
        {{"--cost-per-hour", "-1"}, "--cost-per-hour -1: must be at least 0"},
        {{"--cost-per-hour", "0x10"}, "--cost-per-hour 0x10: not a number; write e.g. 0.90"},
        {{"--format", "gif"}, "--format gif: unknown; use png, svg or pdf"},
        {{"--levels", "bad"}, "--levels bad: write START:END"},
        {{"--out", ""}, "--out: needs a value that is not empty"},
        {{"--quiet=1"}, "--quiet: takes no value; write --quiet alone"},
        {{"--threads"}, "--threads: needs a value (N); see loadgen test --help"},
        {{"-c"}, "-c: needs a value (N); see loadgen test --help"},
        {{"--thread", "5"}, "--thread: unknown option; did you mean --threads? (see loadgen test --help)"},
        {{"--timeo"}, "--timeo: unknown option; did you mean --timeout? (see loadgen test --help)"},
        {{"--zzzzzz"}, "--zzzzzz: unknown option; see loadgen test --help"},
        {{"-x"}, "-x: unknown option; see loadgen test --help"},
        {{"--out", "a\nb", "-x"}, "-x: unknown option; see loadgen test --help"},
        {{"--format", "a\x1b[2Jb"}, "--format a?[2Jb: unknown; use png, svg or pdf"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct opts o;
        char err[LG_ERRLEN] = "";
        char *argv[4] = {"test"};
        int argc = 1;
        for (int j = 0; j < 3 && cases[i].args[j]; j++)
            argv[argc++] = (char *)cases[i].args[j];
        memset(&o, 0, sizeof o);
        int rc = flags_parse(&cmd, argc, argv, &o, NULL, err);
        if (rc != -EINVAL || strcmp(err, cases[i].message) != 0)
            fail_msg("case %zu: rc %d, err \"%s\", want \"%s\"", i, rc, err, cases[i].message);
    }
}

static void seen_marks_exactly_the_flags_given(void **state)
{
    (void)state;
    struct opts o = {0};
    unsigned char seen[32] = {0};
    char err[LG_ERRLEN];
    char *argv[] = {"test", "--concurrency", "3", "-q"};
    assert_int_equal(flags_parse(&cmd, 4, argv, &o, seen, err), 0);
    assert_int_equal(seen[flags_index(&cmd, "threads")], 1);
    assert_int_equal(seen[flags_index(&cmd, "quiet")], 1);
    assert_int_equal(seen[flags_index(&cmd, "requests")], 0);
    assert_int_equal(flags_takes_value(&cmd, "threads"), 1);
    assert_int_equal(flags_takes_value(&cmd, "concurrency"), 1);
    assert_int_equal(flags_takes_value(&cmd, "quiet"), 0);
    assert_int_equal(flags_takes_value(&cmd, "nope"), -1);
    assert_null(flags_find(&cmd, "Load:"));
}

static void help_is_generated_from_the_table(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    flags_usage(&cmd, f);
    fclose(f);
    assert_non_null(strstr(text, "usage: loadgen test [flags] FILE...\n\nA command for the tests.\n"));
    assert_non_null(strstr(text, "\nLoad:\n  -c, --threads N          requests in flight (also --concurrency)\n"));
    assert_non_null(strstr(text, "      --timeout T          per request\n                           second line\n"));
    assert_non_null(strstr(text, "      --max-error-rate P   errors allowed\n"));
    assert_non_null(strstr(text, "  -v, --verbose            more (also -z)\n"));
    assert_null(strstr(text, "hidden"));
    assert_non_null(strstr(text, "\nExit codes: 0 done.\n"));
    /* Every flag of the table is in the help, except the hidden one. */
    for (const struct flag *fl = table; fl->kind != FLAG_END; fl++)
        if (fl->kind != FLAG_SECTION && fl->help) {
            char want[64];
            snprintf(want, sizeof want, "--%s", fl->name);
            assert_non_null(strstr(text, want));
        }
    free(text);
}

static void no_positional_handler_means_arguments_are_refused(void **state)
{
    (void)state;
    struct flag_cmd strict = cmd;
    strict.arg = NULL;
    struct opts o = {0};
    char err[LG_ERRLEN];
    char *argv[] = {"test", "stray"};
    assert_int_equal(flags_parse(&strict, 2, argv, &o, NULL, err), -EINVAL);
    assert_string_equal(err, "'stray': unexpected argument; flags start with -- (see loadgen test --help)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_short_equals_and_bundled_forms_all_set_the_value),
        cmocka_unit_test(later_flags_win_and_arguments_are_collected_in_order),
        cmocka_unit_test(each_kind_reads_its_units),
        cmocka_unit_test(bad_values_name_the_flag_and_say_what_to_write),
        cmocka_unit_test(seen_marks_exactly_the_flags_given),
        cmocka_unit_test(help_is_generated_from_the_table),
        cmocka_unit_test(no_positional_handler_means_arguments_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
