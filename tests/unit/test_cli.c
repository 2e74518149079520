/* test_cli.c: every flag check gives its one-line message; good flags land
 * in the config. Runs in a temporary directory (cli_parse may create the
 * default results/ folder there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"

#define MAXARGS 32

static enum cli_result parse(struct run_config *cfg, char *err, const char *line)
{
    static char buf[1024];
    static char *argv[MAXARGS];
    int argc = 0;
    snprintf(buf, sizeof buf, "loadgen %s", line);
    for (char *t = strtok(buf, " "); t && argc < MAXARGS - 1; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    err[0] = '\0';
    return cli_parse(argc, argv, cfg, err);
}

static const struct {
    const char *args;
    const char *message; /* a substring the one-line error must contain */
} bad[] = {
    {"--url http://h/ --bogus", "--bogus: unknown option"},
    {"--threads 5", "no URL; write e.g. loadgen http"},
    {"--url ftp://h/x", "scheme 'ftp' is not supported"},
    {"--url http:///score", "--url http:///score: no host"},
    {"--url http://:8080/x", "no host"},
    {"--url notaurl", "--url notaurl"},
    {"--url http://h/ --threads 0", "--threads 0: must be at least 1"},
    {"--url http://h/ --threads -5", "--threads -5"},
    {"--url http://h/ --threads abc", "--threads abc: not a positive whole number"},
    {"--url http://h/ --threads 20:10", "--threads 20:10"},
    {"--url http://h/ --threads 2000000", "more than 1000000 requests in flight"},
    {"--url http://h/ -n 0", "--requests 0: must be at least 1"},
    {"--url http://h/ -n ten", "--requests ten: not a whole number"},
    {"--url http://h/ -d 99999999999h", "--duration 99999999999h: too long"},
    {"--url http://h/ -d soon", "--duration soon: not a duration"},
    {"--url http://h/ -R fast", "--rate fast"},
    {"--url http://h/ --max-reply lots", "--max-reply lots"},
    {"--url http://h/ -H NoColon", "no 'Name:' part"},
    {"--url http://h/ -H :value", "no 'Name:' part"},
    {"--url http://h/ --bearer-env LOADGEN_TEST_UNSET_VAR", "LOADGEN_TEST_UNSET_VAR: the variable is not set"},
    {"--url http://h/ --format xml", "--format xml: unknown"},
    {"--url http://h/ --arrival bursty", "--arrival bursty: unknown"},
    {"--url http://h/ --out /nonexistent-dir/x.csv", "folder '/nonexistent-dir' does not exist"},
    {"--url http://h/ --json /nonexistent-dir/x.json", "--json /nonexistent-dir/x.json"},
    {"--url http://h/ --body-file /nonexistent-file", "--body-file /nonexistent-file: cannot read it"},
    {"--url http://h/ --expect-json a..b", "--expect-json"},
    {"--url http://h/ --expect-status 42", "--expect-status 42"},
    {"--url http://h/ --image-size 10", "--image-size 10"},
    {"--url http://h/ --cost-per-hour cheap", "--cost-per-hour cheap"},
    {"--url http://h/ --timeout", "--timeout: needs a value"},
    {"--url http://h/ stray", "'stray': unexpected argument"},
    {"--url http://h/ --method P,UT", "--method P,UT: a method is letters only"},
    /* hey's -D is a file name; curl's wants @ before it */
    {"--url http://h/ -D /etc/hostname", "--data /etc/hostname: that is a file; write -D @/etc/hostname"},
    {"--url http://h/ --synthetic 1000000 --image-size 8192x8192", "more than half of this machine"},
    /* sscanf's %d wrapped 4294967304 round to 8 */
    {"--url http://h/ --image-size 4294967304x8", "--image-size 4294967304x8: write WIDTHxHEIGHT"},
    {"--url http://h/ --image-size +224x224", "--image-size +224x224"},
    /* durations whose sums would come near INT64_MAX microseconds */
    {"--url http://h/ --pause 2562047h", "--pause 2562047h: too long; at most 8784h"},
    {"--url http://h/ --timeout 9000h", "--timeout 9000h: too long"},
    {"--url http://h/ -d 9000h", "--duration 9000h: too long"},
    {"--url http://h/ --warmup 9000h", "--warmup 9000h"},
    {"--url http://h/ --window 9000h --until-stable", "--window 9000h"},
    {"--url http://h/ --slo p99=9000h", "'9000h' is not a duration"},
    /* a step of 1 no longer moves a double this large */
    {"--url http://h/ -R 18446744073709551615M", "more than 10000000 requests/s"},
    /* the request log is sized by -n: 2^60 rows of 48 bytes wrapped to a
     * malloc(0) and the run wrote past it (exit 139) */
    {"--url http://h/ -n 1152921504606846976 --requests-log r.csv", "--requests-log: about"},
    {"--url http://h/ --secret-header X:Y", "--secret-header: the name"},
};

static void every_bad_flag_gets_its_one_line_message(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum cli_result r = parse(&cfg, err, bad[i].args);
        if (r != CLI_ERROR || !strstr(err, bad[i].message) || strchr(err, '\n'))
            fail_msg("'%s': got result %d, message '%s'; want '%s'", bad[i].args, r, err,
                     bad[i].message);
        cli_free(&cfg);
    }
}

static void a_header_with_cr_or_lf_is_refused(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    char *argv[] = {"loadgen", "--url", "http://h/", "-H", "X-A: b\r\nX-Evil: 1", NULL};
    assert_int_equal(cli_parse(5, argv, &cfg, err), CLI_ERROR);
    assert_non_null(strstr(err, "CR or LF"));
    cli_free(&cfg);
}

/* Values that become a header or a request line, or reach the terminal and
 * the CSV: no CR, LF or other control character. */
static void control_characters_are_refused_where_they_would_reach_a_header_or_a_terminal(
    void **state)
{
    static const struct {
        const char *flag, *value, *message;
    } cases[] = {
        {"--user-agent", "ua\r\nX-Evil: 1", "--user-agent: has a control character"},
        {"--user-agent", "ua\tx", "--user-agent: has a control character"},
        {"-H", "X-A: b\x1b[31m", "--header #1: the value has a control character"},
        {"-H", "X-A: b\tc", "--header #1: the value has a control character"},
        {"-H", "X-A: b\x7f", "--header #1: the value has a control character"},
        {"--content-type", "a/b\x1b", "--content-type: empty or has a control character"},
        {"--label", "a\x1b]0;x\x07", "--label a?]0;x?: has a control character"},
        {"--region", "eu\n1", "--region eu?1: has a control character"},
        {"--model", "m\r", "--model m?: has a control character"},
        {"--secret-header", "X-Api-Key\r\nX", "--secret-header: the name"},
    };
    struct run_config cfg;
    char err[LG_ERRLEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {"loadgen", "--url", "http://h/", (char *)cases[i].flag,
                        (char *)cases[i].value, "--no-out", NULL};
        enum cli_result r = cli_parse(6, argv, &cfg, err);
        if (r != CLI_ERROR || !strstr(err, cases[i].message))
            fail_msg("%s: got result %d, message '%s'; want '%s'", cases[i].flag, r, err,
                     cases[i].message);
        cli_free(&cfg);
    }
    setenv("LOADGEN_TEST_ESC_KEY", "abc\x1b[2Jdef", 1);
    char *argv[] = {"loadgen", "--url", "http://h/", "--bearer-env", "LOADGEN_TEST_ESC_KEY", NULL};
    assert_int_equal(cli_parse(5, argv, &cfg, err), CLI_ERROR);
    assert_non_null(strstr(err, "control character"));
    assert_null(strstr(err, "abc"));
    cli_free(&cfg);
}

/* A header's name may be a value pasted in the wrong place: the error
 * names the header by its position among the -H flags, never by its text. */
static void a_bad_header_name_is_named_by_position_not_quoted(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    setenv("LOADGEN_TEST_KEY", "s3cret", 1);
    char *argv[] = {"loadgen", "--url", "http://h/", "--bearer-env", "LOADGEN_TEST_KEY",
                    "-H", "X-Ok: 1", "-H", "Bearer tok-SECRET: x", NULL};
    assert_int_equal(cli_parse(9, argv, &cfg, err), CLI_ERROR);
    assert_non_null(strstr(err, "--header #2: the name has a space"));
    assert_null(strstr(err, "SECRET"));
    assert_null(strstr(err, "Bearer"));
    cli_free(&cfg);
    char *argv2[] = {"loadgen", "--url", "http://h/", "-H", "X(1): v", NULL};
    assert_int_equal(cli_parse(5, argv2, &cfg, err), CLI_ERROR);
    assert_non_null(strstr(err, "--header #1: the name"));
    cli_free(&cfg);
}

/* No error about a URL quotes a password or a query, however malformed
 * the URL: curl cannot split these reliably, so neither can a message. */
static void url_errors_never_quote_a_password_or_a_query(void **state)
{
    static const char *const urls[] = {
        "http:///u:PASSWORD@host",         "http://u:PASSWORD@CRET@host/",
        "http://u:PASSWORD/x@host/",       "http://u:PASS?WORD@host/",
        "http://u:PASS#WORD@host/",        "ftp://u:PASSWORD@host/",
        "u:PASSWORD@host",                 "http://u:PASSWORD@:80/",
        "gopher://host/?PASSWORD",         "http://h:99999/?key=PASSWORD",
        "http://u:PASSWORD@h/p@x",         "http:PASSWORD@host/",
    };
    struct run_config cfg;
    char err[LG_ERRLEN], buf[256];
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char *argv[] = {"loadgen", "--url", (char *)urls[i], "--no-out", NULL};
        enum cli_result r = cli_parse(4, argv, &cfg, err);
        if (r != CLI_ERROR || strstr(err, "PASS") || strstr(err, "WORD") || strstr(err, "CRET"))
            fail_msg("%s: got result %d, message '%s'", urls[i], r, err);
        cli_free(&cfg);
        cli_public_url(urls[i], buf, sizeof buf);
        if (strstr(buf, "PASS") || strstr(buf, "WORD") || strstr(buf, "CRET"))
            fail_msg("cli_public_url(%s) = '%s'", urls[i], buf);
    }
    /* A URL without user-info or query is still quoted, to say which. */
    char *argv[] = {"loadgen", "--url", "ftp://host/x", "--no-out", NULL};
    assert_int_equal(cli_parse(4, argv, &cfg, err), CLI_ERROR);
    assert_non_null(strstr(err, "--url ftp://host/x: scheme 'ftp'"));
    cli_free(&cfg);
}

/* Once a key is in memory the process makes no core dump (which would
 * hold it); without one it stays dumpable. */
static void a_secret_makes_the_process_non_dumpable(void **state)
{
    static const char *const secrets[][2] = {
        {"--bearer-env", "LOADGEN_TEST_KEY"},
        {"-H", "X-Api-Key: k"},
        {"--secret-header", "X-Api-Key"},
        {"--url", "http://u:pw@h/"},
        {"--url", "http://h/?key=k"},
    };
    struct run_config cfg;
    char err[LG_ERRLEN];
    setenv("LOADGEN_TEST_KEY", "s3cret", 1);
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
        assert_int_equal(parse(&cfg, err, "--url http://h/ -n 10 --no-out"), CLI_RUN);
        cli_free(&cfg);
        assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
        char *argv[] = {"loadgen", "--url", "http://h/", (char *)secrets[i][0],
                        (char *)secrets[i][1], "--no-out", NULL};
        assert_int_equal(cli_parse(6, argv, &cfg, err), CLI_RUN);
        cli_free(&cfg);
        if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
            fail_msg("%s %s: the process is still dumpable", secrets[i][0], secrets[i][1]);
    }
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void defaults_are_the_studys(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&cfg, err, "--url http://127.0.0.1:8080/score"), CLI_RUN);
    assert_int_equal(cfg.nlevels, 1);
    assert_int_equal(cfg.levels[0], 50);
    assert_int_equal(cfg.requests, 1000);
    assert_int_equal(cfg.payload.format, PAYLOAD_JSON_B64);
    assert_string_equal(cfg.out, "results/summary.csv");
    cli_free(&cfg);
}

/* A gRPC format: the URL takes the method's path, the metadata URL is the
 * same server's REST route, the message names --model, HTTP/2 is implied
 * (by ALPN over TLS). */
static void a_grpc_format_takes_the_methods_path_and_implies_http2(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&cfg, err, "https://u:pw@10.0.0.4:8443 --format kserve-grpc "
                                      "--model resnet50 --model-version 2"), CLI_RUN);
    assert_string_equal(cfg.url, "https://u:pw@10.0.0.4:8443/inference.GRPCInferenceService/ModelInfer");
    assert_string_equal(cfg.target, "https://10.0.0.4:8443/inference.GRPCInferenceService/ModelInfer");
    assert_string_equal(cfg.grpc_meta_url, "https://u:pw@10.0.0.4:8443/v2/models/resnet50/versions/2/infer");
    assert_string_equal(cfg.payload.model, "resnet50");
    assert_string_equal(cfg.payload.model_version, "2");
    assert_int_equal(cfg.http2, ENGINE_HTTP2);
    assert_string_equal(cfg.label, "10.0.0.4:8443");
    cli_free(&cfg);
    /* The method's own path is accepted as it is; a trailing / too. */
    assert_int_equal(parse(&cfg, err, "https://h:1/tensorflow.serving.PredictionService/Predict "
                                      "--format tfserving-grpc --model m --streams 8"), CLI_RUN);
    assert_string_equal(cfg.url, "https://h:1/tensorflow.serving.PredictionService/Predict");
    assert_int_equal(cfg.http2, ENGINE_HTTP2);
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "https://h:1/ --format kserve-grpc --model m"), CLI_RUN);
    assert_string_equal(cfg.url, "https://h:1/inference.GRPCInferenceService/ModelInfer");
    cli_free(&cfg);
    /* Another method's path is not this format's. */
    assert_int_equal(parse(&cfg, err, "https://h:1/tensorflow.serving.PredictionService/Predict "
                                      "--format kserve-grpc --model m"), CLI_ERROR);
    assert_non_null(strstr(err, "/inference.GRPCInferenceService/ModelInfer"));
}

static void a_thread_range_becomes_levels(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&cfg, err, "--url http://h/ --threads 20:50:10 --cycles 3"), CLI_RUN);
    assert_int_equal(cfg.nlevels, 4);
    assert_int_equal(cfg.levels[0], 20);
    assert_int_equal(cfg.levels[3], 50);
    assert_int_equal(cfg.cycles, 3);
    cli_free(&cfg);
}

static void a_rate_makes_an_open_loop_with_threads_as_the_cap(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&cfg, err, "--url http://h/ -R 50:150:50 --threads 64 --arrival poisson"),
                     CLI_RUN);
    assert_int_equal(cfg.nlevels, 3);
    assert_true(cfg.rates[2] == 150);
    assert_int_equal(cfg.max_inflight, 64);
    assert_int_equal(cfg.arrival, PACER_POISSON);
    cli_free(&cfg);
}

static void duration_alone_means_no_request_count(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&cfg, err, "--url http://h/ -d 1.5s"), CLI_RUN);
    assert_int_equal(cfg.requests, 0);
    assert_int_equal(cfg.duration_us, 1500000);
    cli_free(&cfg);
}

static void warmup_takes_a_count_or_a_duration(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&cfg, err, "--url http://h/ --warmup 200"), CLI_RUN);
    assert_int_equal(cfg.warmup_requests, 200);
    assert_int_equal(cfg.warmup_us, 0);
    assert_int_equal(parse(&cfg, err, "--url http://h/ --warmup 5s"), CLI_RUN);
    assert_int_equal(cfg.warmup_requests, 0);
    assert_int_equal(cfg.warmup_us, 5000000);
    cli_free(&cfg);
}

static void bearer_env_becomes_an_authorization_header(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    setenv("LOADGEN_TEST_KEY", "s3cret", 1);
    assert_int_equal(parse(&cfg, err, "--url http://h/ --bearer-env LOADGEN_TEST_KEY"), CLI_RUN);
    assert_int_equal(cfg.nheaders, 1);
    assert_string_equal(cfg.headers[0], "Authorization: Bearer s3cret");
    cli_free(&cfg);
}

static void the_public_url_drops_user_info_and_query(void **state)
{
    char buf[256];
    assert_string_equal(cli_public_url("http://user:pw@h:8080/score?key=abc#x", buf, sizeof buf),
                        "http://h:8080/score");
    assert_string_equal(cli_public_url("https://h/v1/models/m:predict", buf, sizeof buf),
                        "https://h/v1/models/m:predict");
}

/* What wrk, hey and curl users type: a URL without --url, -z for -d, -m,
 * -T, -D, -V; a bare duration is seconds. */
static void the_habits_of_wrk_hey_and_curl_work(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&cfg, err, "http://h:8080/score -z 30 -c 8 -t 2 --no-out"), CLI_RUN);
    assert_int_equal(cfg.loops, 2); /* wrk's -t: threads, here event loops */
    assert_string_equal(cfg.url, "http://h:8080/score");
    assert_int_equal(cfg.duration_us, 30000000);
    assert_int_equal(cfg.requests, 0); /* -d alone: for the time */
    assert_string_equal(cfg.label, "h:8080"); /* no --label: host:port */
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "-m GET http://h/ping --no-out"), CLI_RUN);
    assert_string_equal(cfg.method, "GET");
    assert_int_equal(cfg.payload.format, PAYLOAD_NONE);
    cli_free(&cfg);
    /* Any method, upper-cased as hey does; PUT and PATCH carry the images,
     * DELETE nothing unless --data gives it a body. */
    assert_int_equal(parse(&cfg, err, "-m put http://h/x --no-out"), CLI_RUN);
    assert_string_equal(cfg.method, "PUT");
    assert_int_not_equal(cfg.payload.format, PAYLOAD_NONE);
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "-m DELETE http://h/x --no-out"), CLI_RUN);
    assert_int_equal(cfg.payload.format, PAYLOAD_NONE);
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "-m DELETE -D {} http://h/x --no-out"), CLI_RUN);
    assert_int_equal(cfg.payload.format, PAYLOAD_FILE);
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "-m DELETE --synthetic 4 http://h/x --no-out"), CLI_ERROR);
    assert_non_null(strstr(err, "--method DELETE sends no images"));
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "-m HEAD -D x http://h/x --no-out"), CLI_ERROR);
    assert_non_null(strstr(err, "--method HEAD sends no body"));
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "-m G/ET http://h/x --no-out"), CLI_ERROR);
    assert_non_null(strstr(err, "letters only"));
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "-m CONNECT http://h/x --no-out"), CLI_ERROR);
    cli_free(&cfg);
    /* --fail-fast: 20 by default, 0 turns it off. */
    assert_int_equal(parse(&cfg, err, "http://h/x --no-out"), CLI_RUN);
    assert_int_equal(cfg.fail_fast, 20);
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "http://h/x --fail-fast 0 --no-out"), CLI_RUN);
    assert_int_equal(cfg.fail_fast, 0);
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "http://h/ -D {\"x\":1} -T application/x-test --no-out"),
                     CLI_RUN);
    assert_int_equal(cfg.payload.format, PAYLOAD_FILE);
    assert_string_equal(cfg.payload.body_data, "{\"x\":1}");
    assert_string_equal(cfg.payload.content_type, "application/x-test");
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "http://h/ -D @/etc/hostname --no-out"), CLI_RUN);
    assert_string_equal(cfg.payload.body_file, "/etc/hostname");
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "http://h/ http://g/"), CLI_ERROR);
    assert_non_null(strstr(err, "a second URL"));
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "--url http://h/ --label gpu-1 --no-out"), CLI_RUN);
    assert_string_equal(cfg.label, "gpu-1");
    cli_free(&cfg);
}

static void version_and_help_exit_0(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    fflush(stdout);
    assert_int_equal(parse(&cfg, err, "-V"), CLI_EXIT_OK);
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "--help"), CLI_EXIT_OK);
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "-h"), CLI_EXIT_OK);
    cli_free(&cfg);
}

/* --scenario and --only come from the table: the command line of a
 * scenario needs no URL (each target has one), and a target's argv, which
 * ends with the command line's flags, is checked as a whole run. */
static void scenario_and_only_come_from_the_flag_table(void **state)
{
    struct run_config cfg;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&cfg, err, "--scenario sc.json --only gpu-1 -n 5"), CLI_RUN);
    assert_string_equal(cfg.scenario, "sc.json");
    assert_string_equal(cfg.only, "gpu-1");
    assert_null(cfg.url);
    cli_free(&cfg);
    assert_int_equal(parse(&cfg, err, "--scenario=sc.json --requests zero"), CLI_ERROR);
    assert_non_null(strstr(err, "--requests zero"));
    assert_int_equal(parse(&cfg, err, "--scenario="), CLI_ERROR);
    assert_string_equal(err, "--scenario: needs a file; see scenarios/*.json");
    assert_int_equal(parse(&cfg, err, "http://127.0.0.1/ --only gpu-1"), CLI_ERROR);
    assert_string_equal(err, "--only needs --scenario FILE");

    char *target[] = {"run", "--url", "http://127.0.0.1/", "--no-out", "--scenario", "sc.json",
                      "--only", "gpu-1", NULL};
    assert_int_equal(cli_parse_target(8, target, &cfg, err), CLI_RUN);
    assert_string_equal(cfg.url, "http://127.0.0.1/");
    cli_free(&cfg);
    char *no_url[] = {"run", "--no-out", "--scenario", "sc.json", NULL};
    assert_int_equal(cli_parse_target(4, no_url, &cfg, err), CLI_ERROR);
    assert_non_null(strstr(err, "no URL"));
}

int main(void)
{
    char dir[] = "/tmp/loadgen-test-cli.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_bad_flag_gets_its_one_line_message),
        cmocka_unit_test(a_header_with_cr_or_lf_is_refused),
        cmocka_unit_test(control_characters_are_refused_where_they_would_reach_a_header_or_a_terminal),
        cmocka_unit_test(a_bad_header_name_is_named_by_position_not_quoted),
        cmocka_unit_test(url_errors_never_quote_a_password_or_a_query),
        cmocka_unit_test(a_secret_makes_the_process_non_dumpable),
        cmocka_unit_test(defaults_are_the_studys),
        cmocka_unit_test(a_grpc_format_takes_the_methods_path_and_implies_http2),
        cmocka_unit_test(a_thread_range_becomes_levels),
        cmocka_unit_test(a_rate_makes_an_open_loop_with_threads_as_the_cap),
        cmocka_unit_test(duration_alone_means_no_request_count),
        cmocka_unit_test(warmup_takes_a_count_or_a_duration),
        cmocka_unit_test(bearer_env_becomes_an_authorization_header),
        cmocka_unit_test(the_public_url_drops_user_info_and_query),
        cmocka_unit_test(the_habits_of_wrk_hey_and_curl_work),
        cmocka_unit_test(version_and_help_exit_0),
        cmocka_unit_test(scenario_and_only_come_from_the_flag_table),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir("results");
    chdir("/");
    rmdir(dir);
    return rc;
}
