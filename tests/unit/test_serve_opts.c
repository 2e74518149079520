/*
 * test_serve_opts.c: `loadgen serve` flags and profiles: defaults, every
 * value form, the one-line errors, and profiles.json (the repository's file
 * loads every model on both devices; a broken one says what to fix).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common.h"
#include "serve/opts.h"
#include "serve/profile.h"

static int parse(struct serve_opts *o, char *err, ...)
{
    char *argv[64] = {"serve"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    err[0] = '\0';
    return opts_parse(o, argc, argv, err);
}

static void defaults_bind_loopback_and_simulate_one_resnet50_gpu(void **state)
{
    struct serve_opts o;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&o, err, NULL), 0);
    assert_string_equal(o.host, "127.0.0.1");
    assert_int_equal(o.port, 8080);
    assert_string_equal(o.model, "resnet50");
    assert_int_equal(o.device, SIM_GPU);
    assert_int_equal(o.replicas, 1);
    assert_int_equal(o.cores, 1);
    assert_int_equal(o.fixed_us, -1);
    assert_int_equal(o.fail_status, 503);
    assert_int_equal(o.stall_us, 5000000);
    assert_true(o.max_body == 64ULL << 20);
    assert_int_equal(o.freeze_us, 0);
}

/* serve expects hostile clients: every limit is on by default, loose
 * enough for 10,000 connections; 64 images a request, as the study's app. */
static void limits_are_on_by_default_and_each_flag_sets_one(void **state)
{
    struct serve_opts o;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&o, err, NULL), 0);
    assert_int_equal(o.max_images, 64);
    assert_true(o.max_inflight == 256ULL << 20);
    assert_int_equal(o.max_conns, 20000);
    assert_int_equal(o.header_timeout_us, 10000000);
    assert_int_equal(o.body_timeout_us, 10000000);
    assert_int_equal(o.idle_timeout_us, 60000000);
    assert_int_equal(o.send_timeout_us, 10000000);
    assert_int_equal(parse(&o, err, "--max-images", "8", "--max-inflight", "1GiB", "--max-connections",
                           "100", "--header-timeout", "500ms", "--body-timeout", "1s",
                           "--idle-timeout=2s", "--send-timeout", "3s", NULL),
                     0);
    assert_int_equal(o.max_images, 8);
    assert_true(o.max_inflight == 1ULL << 30);
    assert_int_equal(o.max_conns, 100);
    assert_int_equal(o.header_timeout_us, 500000);
    assert_int_equal(o.body_timeout_us, 1000000);
    assert_int_equal(o.idle_timeout_us, 2000000);
    assert_int_equal(o.send_timeout_us, 3000000);
    assert_int_equal(parse(&o, err, "--max-body", "512MiB", NULL), -EINVAL);
    assert_string_equal(err, "--max-inflight 268435456 bytes is below --max-body 536870912: no body "
                             "that size could be read; raise --max-inflight or lower --max-body");
}

static void every_flag_reads_its_units(void **state)
{
    struct serve_opts o;
    char err[LG_ERRLEN];
    assert_int_equal(parse(&o, err, "--listen", "0.0.0.0:9000", "--model", "mobilenet_v2", "--device",
                           "cpu", "--replicas", "35", "--cores=2", "--max-batch", "16", "--batch-window",
                           "2ms", "--rtt", "80ms", "--fail-rate", "10%", "--fail-status", "429",
                           "--reset-rate", "0.05", "--stall-rate", "0.01", "--stall", "1.5s",
                           "--freeze-at", "4s", "--freeze", "1s", "--seed", "7", "--max-body", "1MiB",
                           "--fixed-latency", "20ms", "--stats", NULL),
                     0);
    assert_string_equal(o.host, "0.0.0.0");
    assert_int_equal(o.port, 9000);
    assert_string_equal(o.model, "mobilenet_v2");
    assert_int_equal(o.device, SIM_CPU);
    assert_int_equal(o.replicas, 35);
    assert_int_equal(o.cores, 2);
    assert_int_equal(o.max_batch, 16);
    assert_int_equal(o.batch_window_us, 2000);
    assert_int_equal(o.rtt_us, 80000);
    assert_true(o.fail_rate > 0.0999 && o.fail_rate < 0.1001);
    assert_int_equal(o.fail_status, 429);
    assert_true(o.reset_rate > 0.0499 && o.reset_rate < 0.0501);
    assert_int_equal(o.stall_us, 1500000);
    assert_int_equal(o.freeze_at_us, 4000000);
    assert_int_equal(o.freeze_us, 1000000);
    assert_int_equal(o.seed, 7);
    assert_true(o.max_body == 1 << 20);
    assert_int_equal(o.fixed_us, 20000);
    assert_int_equal(o.stats, 1);
    assert_int_equal(parse(&o, err, "--port", "0", NULL), 0);
    assert_int_equal(o.port, 0);
    assert_int_equal(parse(&o, err, "--listen", "[::1]:0", NULL), 0);
    assert_string_equal(o.host, "::1");
}

static void bad_values_give_one_line_that_names_them(void **state)
{
    static const struct {
        const char *flag, *value, *message;
    } cases[] = {
        {"--replicas", "abc", "--replicas abc: not a whole number; write e.g. 1000 or 10k"},
        {"--replicas", "0", "--replicas 0: must be at least 1"},
        {"--replicas", "100001", "--replicas 100001: must be at most 100000"},
        {"--cores", "-1", "--cores -1: not a whole number; write e.g. 1000 or 10k"},
        {"--device", "tpu", "--device tpu: unknown; use gpu or cpu"},
        {"--rtt", "fast", "--rtt fast: not a duration; write e.g. 500ms, 30s, 2m or 1h (a bare number is seconds)"},
        {"--fail-rate", "2", "--fail-rate 2: not a fraction; write e.g. 10% or 0.1 (from 0 to 1)"},
        {"--fail-status", "200", "--fail-status 200: must be at least 400"},
        {"--port", "70000", "--port 70000: must be at most 65535"},
        {"--listen", "8080", "--listen 8080: not HOST:PORT; write e.g. 127.0.0.1:8080"},
        {"--max-body", "lots", "--max-body lots: not a size; write e.g. 64MiB, 100KB or 512"},
        {"--max-body", "5GiB", "--max-body 5GiB: must be at most 4 GiB"},
        {"--max-inflight", "0", "--max-inflight 0: must be at least 1 B"},
        {"--max-images", "0", "--max-images 0: must be at least 1"},
        {"--max-connections", "x", "--max-connections x: not a whole number; write e.g. 1000 or 10k"},
        {"--header-timeout", "0", "--header-timeout 0: must be at least 1ms"},
        {"--idle-timeout", "-1s", "--idle-timeout -1s: not a duration; write e.g. 500ms, 30s, 2m or 1h (a bare number is seconds)"},
        {"--send-timeout", "2d", "--send-timeout 2d: not a duration; write e.g. 500ms, 30s, 2m or 1h (a bare number is seconds)"},
        {"--send-timeout", "25h", "--send-timeout 25h: too long; at most 24h"},
    };
    struct serve_opts o;
    char err[LG_ERRLEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(parse(&o, err, cases[i].flag, cases[i].value, NULL), -EINVAL);
        if (strcmp(err, cases[i].message) != 0)
            fail_msg("%s %s: \"%s\", want \"%s\"", cases[i].flag, cases[i].value, err,
                     cases[i].message);
        assert_null(strchr(err, '\n'));
    }
    assert_int_equal(parse(&o, err, "--bogus", NULL), -EINVAL);
    assert_string_equal(err, "--bogus: unknown option; see loadgen serve --help");
    assert_int_equal(parse(&o, err, "--max-image", "3", NULL), -EINVAL);
    assert_string_equal(err, "--max-image: unknown option; did you mean --max-images? (see loadgen serve --help)");
    assert_int_equal(parse(&o, err, "--rtt", NULL), -EINVAL);
    assert_string_equal(err, "--rtt: needs a value (T); see loadgen serve --help");
    assert_int_equal(parse(&o, err, "extra", NULL), -EINVAL);
    assert_int_equal(parse(&o, err, "--help", NULL), 0);
    assert_int_equal(o.help, 1);
}

static void the_repository_profiles_load_for_every_model_and_device(void **state)
{
    static const char *const models[] = {"mobilenet_v2", "nasnet_mobile", "resnet50", "resnet152",
                                         "nasnet_large", "zero"};
    char path[4096], err[LG_ERRLEN];
    if (profile_find(path, sizeof path, err))
        fail_msg("%s (run from the repository root)", err);
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        struct sim_profile g, c;
        if (profile_load(path, models[i], SIM_GPU, &g, err) || profile_load(path, models[i], SIM_CPU, &c, err))
            fail_msg("%s", err);
        if (strcmp(models[i], "zero") == 0) {
            assert_int_equal(g.base_us + g.per_image_us + c.base_us + c.per_image_us, 0);
            continue;
        }
        /* Tens of milliseconds on a GPU, longer per image on one CPU core. */
        assert_true(g.base_us >= 1000 && g.base_us < 100000);
        assert_true(c.per_image_us > 10 * g.per_image_us);
        assert_true(g.jitter < c.jitter);
        assert_true(g.max_batch >= 50); /* 50 threads fit one batch */
    }
}

static void a_broken_profile_says_what_to_fix(void **state)
{
    struct sim_profile p;
    char err[LG_ERRLEN];
    const char *doc = "{\"models\": {\"a\": {\"gpu\": {\"base_ms\": 1, \"per_image_ms\": 2, \"max_batch\": 8,"
                      " \"batch_window_ms\": 0.5}}, \"b\": {\"cpu\": {\"base_ms\": 1}}}}";
    assert_int_equal(profile_parse(doc, strlen(doc), "p.json", "a", SIM_GPU, &p, err), 0);
    assert_int_equal(p.base_us, 1000);
    assert_int_equal(p.per_image_us, 2000);
    assert_int_equal(p.max_batch, 8);
    assert_int_equal(p.batch_window_us, 500);
    assert_int_equal(profile_parse(doc, strlen(doc), "p.json", "zzz", SIM_GPU, &p, err), -EINVAL);
    assert_string_equal(err, "--model zzz: not in p.json; choose one of a, b");
    assert_int_equal(profile_parse(doc, strlen(doc), "p.json", "a", SIM_CPU, &p, err), -EINVAL);
    assert_string_equal(err, "--model a: p.json has no \"cpu\" profile; add one or pick the other --device");
    assert_int_equal(profile_parse(doc, strlen(doc), "p.json", "b", SIM_CPU, &p, err), -EINVAL);
    assert_string_equal(err, "p.json: models.b.cpu: missing \"per_image_ms\"; add it (a number)");
    const char *neg = "{\"models\": {\"a\": {\"gpu\": {\"base_ms\": -1, \"per_image_ms\": 2}}}}";
    assert_int_equal(profile_parse(neg, strlen(neg), "p.json", "a", SIM_GPU, &p, err), -EINVAL);
    assert_non_null(strstr(err, "\"base_ms\" must be a number from 0"));
    assert_int_equal(profile_parse("{", 1, "p.json", "a", SIM_GPU, &p, err), -EINVAL);
    assert_non_null(strstr(err, "p.json: not valid JSON"));
    assert_int_equal(profile_load("/nonexistent/profiles.json", "a", SIM_GPU, &p, err), -ENOENT);
    assert_non_null(strstr(err, "--profile /nonexistent/profiles.json: No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_bind_loopback_and_simulate_one_resnet50_gpu),
        cmocka_unit_test(limits_are_on_by_default_and_each_flag_sets_one),
        cmocka_unit_test(every_flag_reads_its_units),
        cmocka_unit_test(bad_values_give_one_line_that_names_them),
        cmocka_unit_test(the_repository_profiles_load_for_every_model_and_device),
        cmocka_unit_test(a_broken_profile_says_what_to_fix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
