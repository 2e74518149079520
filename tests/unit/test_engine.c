/*
 * test_engine.c: the engine driven in-process against `loadgen serve`'s
 * own httpd, run on a loop in a thread of this test (libuv's TEST_HELPER
 * pattern): exact counts, the error classes that serve's fault flags
 * produce, open-loop pacing, a stop with its grace period, and a clean
 * teardown of both loops (uv_loop_close() == 0).
 *
 * The server is real (sockets on 127.0.0.1, http-parser, the simulated
 * model); nothing is stubbed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common.h"
#include "corpus.h"
#include "engine.h"
#include "payload.h"
#include "serve/httpd.h"
#include "serve/routes.h"
#include "stats.h"

/* ---- the server: httpd on a loop in a thread ------------------------------ */

struct server {
    uv_loop_t loop;
    uv_async_t quit;
    struct routes *routes;
    struct httpd *httpd;
    pthread_t thread;
    char url[64];
};

static void server_quit(uv_async_t *a)
{
    struct server *s = a->data;
    httpd_close(s->httpd);
    uv_close((uv_handle_t *)&s->quit, NULL);
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* A server whose every request takes `fixed_us`, with faults as given. */
static struct server *server_start(int64_t fixed_us, double fail_rate, double reset_rate,
                                   int64_t freeze_at_us, int64_t freeze_us)
{
    struct server *s = calloc(1, sizeof *s);
    char err[LG_ERRLEN];
    struct sim_config sc = {
        .device = SIM_GPU,
        .replicas = 1,
        .cores = 1,
        .fixed_us = fixed_us,
        .fail_rate = fail_rate,
        .reset_rate = reset_rate,
        .freeze_at_us = freeze_at_us,
        .freeze_us = freeze_us,
        .seed = 7,
    };
    struct httpd_limits lim = {
        .max_body = 64 << 20,
        .max_inflight = 256 << 20,
        .max_conns = 10000,
        .header_timeout_ms = 10000,
        .body_timeout_ms = 10000,
        .idle_timeout_ms = 60000,
        .send_timeout_ms = 10000,
    };
    if (!s || uv_loop_init(&s->loop) != 0)
        fail_msg("cannot start the server loop");
    if (routes_create(&s->routes, "resnet50", 0, "gpu", 1, 503, lim.max_body, 64) != 0)
        fail_msg("routes_create");
    if (httpd_create(&s->httpd, &s->loop, "127.0.0.1", 0, s->routes, &sc, &lim, NULL, err) != 0)
        fail_msg("httpd_create: %s", err);
    s->quit.data = s;
    uv_async_init(&s->loop, &s->quit, server_quit);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/score", httpd_port(s->httpd));
    if (pthread_create(&s->thread, NULL, server_main, s) != 0)
        fail_msg("pthread_create");
    return s;
}

/* Stops the server; then, with its thread joined, copies its counters. */
static void server_stop(struct server *s, struct httpd_stats *st)
{
    uv_async_send(&s->quit);
    pthread_join(s->thread, NULL);
    if (st)
        httpd_stats_take(s->httpd, st);
    httpd_destroy(s->httpd);
    routes_destroy(s->routes);
    assert_int_equal(uv_loop_close(&s->loop), 0);
    free(s);
}

/* ---- the client ------------------------------------------------------------ */

struct client {
    struct corpus *corpus;
    struct payload_set *payloads;
    struct engine *engine;
    struct stats *stats;
};

static volatile sig_atomic_t stop_flag;

static void client_start(struct client *c, const char *url, unsigned slots, long timeout_ms,
                         unsigned fail_fast)
{
    char err[LG_ERRLEN];
    struct corpus_options co = {.synthetic = 4, .width = 16, .height = 16, .seed = 1};
    struct payload_options po = {.format = PAYLOAD_JSON_B64, .batch = 1};
    if (corpus_load(&c->corpus, &co, err) != 0 || payload_build(&c->payloads, c->corpus, &po, err) != 0)
        fail_msg("payloads: %s", err);
    stop_flag = 0;
    struct engine_config cfg = {
        .url = url,
        .payloads = c->payloads,
        .user_agent = "loadgen-test",
        .timeout_ms = timeout_ms,
        .connect_timeout_ms = 2000,
        .loops = 2,
        .max_slots = slots,
        .checks = {.max_reply_bytes = 1 << 20},
        .stop = &stop_flag,
        .fail_fast = fail_fast,
    };
    if (engine_create(&cfg, &c->engine, err) < 0)
        fail_msg("engine_create: %s", err);
    if (!(c->stats = stats_create(0, 0)))
        fail_msg("stats_create");
}

static void client_stop(struct client *c)
{
    char err[LG_ERRLEN];
    if (engine_destroy(c->engine, err) != 0) /* uv_loop_close() == 0 on every loop */
        fail_msg("engine_destroy: %s", err);
    stats_destroy(c->stats);
    payload_destroy(c->payloads);
    corpus_destroy(c->corpus);
}

static int run(struct client *c, const struct engine_phase *ph, engine_tick_fn *tick)
{
    char err[LG_ERRLEN];
    int rc = engine_run(c->engine, ph, c->stats, tick, NULL, err);
    if (rc < 0)
        print_error("engine_run: %s\n", err);
    return rc;
}

/* ---- tests ------------------------------------------------------------------ */

static void a_closed_loop_sends_exactly_n_requests_and_the_server_sees_them(void **state)
{
    (void)state;
    struct server *s = server_start(1000, 0, 0, 0, 0);
    struct client c;
    client_start(&c, s->url, 16, 5000, 0);
    struct engine_phase ph = {.concurrency = 16, .requests = 1000, .grace_us = 1000000};
    assert_int_equal(run(&c, &ph, NULL), 0);
    assert_int_equal(c.stats->requests, 1000);
    assert_int_equal(c.stats->by_class[CLASS_OK], 1000);
    assert_int_equal(c.stats->images, 1000);
    assert_true(c.stats->bytes_sent > 1000 * 100);
    /* A second phase on the same engine and connections counts afresh. */
    ph.requests = 300;
    assert_int_equal(run(&c, &ph, NULL), 0);
    assert_int_equal(c.stats->requests, 300);
    client_stop(&c);
    struct httpd_stats hs;
    server_stop(s, &hs);
    assert_int_equal(hs.requests, 1300);
    assert_int_equal(hs.ok, 1300);
    assert_true(hs.conns_peak <= 16);
}

static void failures_and_resets_are_counted_in_their_class(void **state)
{
    (void)state;
    struct server *s = server_start(0, 1.0, 0, 0, 0);
    struct client c;
    client_start(&c, s->url, 4, 5000, 0);
    struct engine_phase ph = {.concurrency = 4, .requests = 200, .grace_us = 1000000};
    assert_int_equal(run(&c, &ph, NULL), 0);
    assert_int_equal(c.stats->requests, 200);
    assert_int_equal(c.stats->by_class[CLASS_HTTP_5XX], 200);
    client_stop(&c);
    server_stop(s, NULL);

    s = server_start(0, 0, 1.0, 0, 0);
    client_start(&c, s->url, 4, 5000, 0);
    assert_int_equal(run(&c, &ph, NULL), 0);
    assert_int_equal(c.stats->requests, 200);
    assert_int_equal(c.stats->by_class[CLASS_RESET], 200);
    client_stop(&c);
    server_stop(s, NULL);
}

static void a_server_slower_than_the_timeout_gives_timeouts(void **state)
{
    (void)state;
    struct server *s = server_start(300000, 0, 0, 0, 0); /* 300 ms */
    struct client c;
    client_start(&c, s->url, 4, 50, 0); /* 50 ms */
    struct engine_phase ph = {.concurrency = 4, .requests = 8, .grace_us = 1000000};
    assert_int_equal(run(&c, &ph, NULL), 0);
    assert_int_equal(c.stats->requests, 8);
    assert_int_equal(c.stats->by_class[CLASS_TIMEOUT], 8);
    client_stop(&c);
    server_stop(s, NULL);
}

static void an_open_loop_keeps_its_rate_and_counts_from_the_intended_time(void **state)
{
    (void)state;
    /* 200/s for 1 s; the server freezes 300 ms in: what waited behind the
     * freeze is measured from when it was due, not when it went out. */
    struct server *s = server_start(1000, 0, 0, 300000, 300000);
    struct client c;
    client_start(&c, s->url, 200, 5000, 0);
    struct engine_phase ph = {.concurrency = 200, .rate = 200, .duration_us = 1000000,
                              .arrival = PACER_CONSTANT, .grace_us = 2000000};
    assert_int_equal(run(&c, &ph, NULL), 0);
    assert_in_range(c.stats->requests, 196, 204);
    assert_int_equal(c.stats->by_class[CLASS_OK], c.stats->requests);
    /* The freeze shows in the tail, corrected: about 300 ms at p99. */
    uint64_t p99 = hist_percentile(c.stats->h[STATS_LATENCY], 99);
    assert_in_range(p99, 150000, 900000);
    client_stop(&c);
    server_stop(s, NULL);
}

static uint64_t ticked_p99_us;

static void stop_after(void *arg, const struct engine_progress *pr)
{
    (void)arg;
    if (pr->p99_us)
        ticked_p99_us = pr->p99_us;
    if (pr->done >= 50 && ticked_p99_us)
        stop_flag = 1;
}

static void a_stop_ends_the_phase_and_replies_in_flight_get_the_grace(void **state)
{
    (void)state;
    struct server *s = server_start(20000, 0, 0, 0, 0); /* 20 ms */
    struct client c;
    client_start(&c, s->url, 8, 5000, 0);
    struct engine_phase ph = {.concurrency = 8, .requests = 100000, .grace_us = 1000000};
    int64_t t0 = lg_now_us();
    assert_int_equal(run(&c, &ph, stop_after), 0);
    int64_t took = lg_now_us() - t0;
    assert_true(c.stats->requests >= 50 && c.stats->requests < 1000);
    /* In flight at the stop: answered within the grace, so all are ok. */
    assert_int_equal(c.stats->by_class[CLASS_OK], c.stats->requests);
    assert_true(took < 5000000);
    /* The progress line's p99 so far: the server's 20 ms, give or take. */
    assert_in_range(ticked_p99_us, 19000, 500000);
    client_stop(&c);
    server_stop(s, NULL);
}

static void a_refused_connection_is_a_connect_error(void **state)
{
    (void)state;
    struct server *s = server_start(0, 0, 0, 0, 0);
    char url[64];
    snprintf(url, sizeof url, "%s", s->url);
    server_stop(s, NULL); /* the port is now closed */
    struct client c;
    client_start(&c, url, 2, 2000, 0);
    struct engine_phase ph = {.concurrency = 2, .requests = 10, .grace_us = 1000000};
    assert_int_equal(run(&c, &ph, NULL), 0);
    assert_int_equal(c.stats->requests, 10);
    assert_int_equal(c.stats->by_class[CLASS_CONNECT], 10);
    assert_false(engine_gave_up(c.engine)); /* no --fail-fast */
    client_stop(&c);
}

/* --fail-fast 20: the phase ends soon after the first 20 requests all fail
 * to connect, on every loop, instead of running its 100000. */
static void fail_fast_gives_up_when_the_first_requests_all_fail_to_connect(void **state)
{
    (void)state;
    struct server *s = server_start(0, 0, 0, 0, 0);
    char url[64];
    snprintf(url, sizeof url, "%s", s->url);
    server_stop(s, NULL);
    struct client c;
    client_start(&c, url, 8, 2000, 20);
    struct engine_phase ph = {.concurrency = 8, .requests = 100000, .grace_us = 1000000};
    assert_int_equal(run(&c, &ph, NULL), 0);
    assert_true(engine_gave_up(c.engine));
    assert_in_range(c.stats->requests, 20, 10000);
    assert_int_equal(c.stats->by_class[CLASS_CONNECT], c.stats->requests);
    client_stop(&c);
}

/* A server that answers ends the watch: the phase runs to its end. */
static void fail_fast_leaves_a_phase_that_connects_alone(void **state)
{
    (void)state;
    struct server *s = server_start(0, 0, 0, 0, 0);
    struct client c;
    client_start(&c, s->url, 4, 5000, 1);
    struct engine_phase ph = {.concurrency = 4, .requests = 200, .grace_us = 1000000};
    assert_int_equal(run(&c, &ph, NULL), 0);
    assert_false(engine_gave_up(c.engine));
    assert_int_equal(c.stats->by_class[CLASS_OK], 200);
    client_stop(&c);
    server_stop(s, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_closed_loop_sends_exactly_n_requests_and_the_server_sees_them),
        cmocka_unit_test(failures_and_resets_are_counted_in_their_class),
        cmocka_unit_test(a_server_slower_than_the_timeout_gives_timeouts),
        cmocka_unit_test(an_open_loop_keeps_its_rate_and_counts_from_the_intended_time),
        cmocka_unit_test(a_stop_ends_the_phase_and_replies_in_flight_get_the_grace),
        cmocka_unit_test(a_refused_connection_is_a_connect_error),
        cmocka_unit_test(fail_fast_gives_up_when_the_first_requests_all_fail_to_connect),
        cmocka_unit_test(fail_fast_leaves_a_phase_that_connects_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
