/*
 * serve.c: `loadgen serve`, the embedded scoring endpoint: flags, profile,
 * the loop, signals and the --stats line. The one file of serve that
 * prints; it runs on the process's main thread, which is the loop thread.
 *
 * Modules: opts (flags), profile (profiles.json), model (its metadata),
 * routes + body (what is answered), sim (the queueing model), tfd (its
 * clock), httpd (sockets, HTTP/1.1), h2 (gRPC over HTTP/2).
 */
#include "serve/serve.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <uv.h>

#include "common.h"
#include "serve/httpd.h"
#include "serve/opts.h"
#include "serve/profile.h"
#include "serve/routes.h"

struct server {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t stats;
    struct httpd *httpd;
    int64_t started_us;
    uint64_t last_requests;
    int stats_on;
};

static void stop(uv_signal_t *sig, int signum)
{
    struct server *s = sig->data;
    httpd_close(s->httpd);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    if (s->stats_on)
        uv_close((uv_handle_t *)&s->stats, NULL);
}

static void stats_tick(uv_timer_t *t)
{
    struct server *s = t->data;
    struct httpd_stats h;
    struct sim_stats m;
    httpd_stats_take(s->httpd, &h);
    httpd_sim_stats(s->httpd, &m);
    fprintf(stderr,
            "loadgen serve: %llds %llu req/s (ok %llu, 4xx %llu, 5xx %llu, reset %llu) conns %u "
            "queued %u computing %u held %u batches %llu mean %.1f max %u timer late mean %lld us "
            "max %lld us timeouts %llu busy %llu refused %llu grpc %llu (non-zero status %llu)\n",
            (long long)((lg_now_us() - s->started_us) / 1000000),
            (unsigned long long)(h.requests - s->last_requests), (unsigned long long)h.ok,
            (unsigned long long)h.client_errors, (unsigned long long)h.server_errors,
            (unsigned long long)h.resets, h.conns, m.queued, m.in_service, m.held,
            (unsigned long long)m.batches, m.batches ? (double)m.batch_images / (double)m.batches : 0.0,
            m.batch_max, (long long)(h.wakes ? h.late_sum_us / (int64_t)h.wakes : 0),
            (long long)h.late_max_us, (unsigned long long)h.timeouts,
            (unsigned long long)h.busy, (unsigned long long)h.refused,
            (unsigned long long)h.grpc_requests, (unsigned long long)h.grpc_errors);
    s->last_requests = h.requests;
}

/* Thousands of connections need thousands of descriptors: take what the
 * hard limit allows. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int simulation(const struct serve_opts *o, struct sim_config *sc, char *err)
{
    *sc = (struct sim_config){
        .device = o->device,
        .replicas = o->replicas,
        .cores = o->cores,
        .fixed_us = o->fixed_us,
        .rtt_us = o->rtt_us,
        .fail_rate = o->fail_rate,
        .reset_rate = o->reset_rate,
        .stall_rate = o->stall_rate,
        .stall_us = o->stall_us,
        .freeze_at_us = o->freeze_at_us,
        .freeze_us = o->freeze_us,
        .seed = o->seed,
    };
    char path[PATH_MAX];
    const char *file = o->profile;
    int rc;
    if (o->fixed_us >= 0) {
        /* No service times needed, but the model's input size (its
         * metadata) still comes from its profile when there is one. */
        struct sim_profile p;
        char ignored[LG_ERRLEN];
        if ((file || profile_find(path, sizeof path, ignored) == 0) &&
            profile_load(file ? file : path, o->model, o->device, &p, ignored) == 0)
            sc->prof.input_px = p.input_px;
    } else {
        if (!file) {
            if ((rc = profile_find(path, sizeof path, err)) < 0)
                return rc;
            file = path;
        }
        if ((rc = profile_load(file, o->model, o->device, &sc->prof, err)) < 0)
            return rc;
        /* A profile that costs nothing (the "zero" model) answers from the
         * read callback: no timer, nothing between the client and the
         * socket but parsing. */
        if (sc->prof.base_us == 0 && sc->prof.per_image_us == 0)
            sc->fixed_us = 0;
    }
    if (o->input_px)
        sc->prof.input_px = o->input_px;
    if (o->max_batch)
        sc->prof.max_batch = o->max_batch;
    if (o->batch_window_us >= 0)
        sc->prof.batch_window_us = o->batch_window_us;
    return 0;
}

static void describe(const struct serve_opts *o, const struct sim_config *sc)
{
    if (sc->fixed_us >= 0) {
        fprintf(stderr, "loadgen serve: every request takes %.3f ms\n", (double)sc->fixed_us / 1e3);
        return;
    }
    fprintf(stderr, "loadgen serve: %s on %u %s replica(s)", o->model, sc->replicas,
            sc->device == SIM_GPU ? "gpu" : "cpu");
    if (sc->device == SIM_GPU)
        fprintf(stderr, ": %.3f ms + %.3f ms/image per batch of up to %u, window %.3f ms",
                (double)sc->prof.base_us / 1e3, (double)sc->prof.per_image_us / 1e3,
                sc->prof.max_batch, (double)sc->prof.batch_window_us / 1e3);
    else
        fprintf(stderr, " x %u core(s): %.3f ms + %.3f ms/image per request", sc->cores,
                (double)sc->prof.base_us / 1e3, (double)sc->prof.per_image_us / 1e3);
    fprintf(stderr, ", jitter %.0f%%\n", sc->prof.jitter * 100);
}

int serve_main(int argc, char **argv)
{
    char err[LG_ERRLEN];
    struct serve_opts o;
    struct sim_config sc;
    int bad = opts_parse(&o, argc, argv, err);
    if (!bad && o.help)
        return LG_EXIT_OK;
    if (bad || simulation(&o, &sc, err)) {
        fprintf(stderr, "loadgen serve: %s\n", err);
        return LG_EXIT_USAGE;
    }
    raise_nofile();
    /* Timer slack would delay every simulated completion by up to 50 us. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);

    struct server s = {.stats_on = o.stats};
    struct routes *routes = NULL;
    int rc = LG_EXIT_OK;
    if (uv_loop_init(&s.loop)) {
        fputs("loadgen serve: cannot start the event loop\n", stderr);
        return LG_EXIT_FAIL;
    }
    if (routes_create(&routes, o.model, sc.prof.input_px, o.device == SIM_GPU ? "gpu" : "cpu", o.replicas,
                      o.fail_status, o.max_body, o.max_images)) {
        fputs("loadgen serve: out of memory\n", stderr);
        rc = LG_EXIT_FAIL;
        goto out;
    }
    struct httpd_limits lim = {
        .max_body = o.max_body,
        .max_inflight = o.max_inflight,
        .max_conns = o.max_conns,
        .header_timeout_ms = o.header_timeout_us / 1000,
        .body_timeout_ms = o.body_timeout_us / 1000,
        .idle_timeout_ms = o.idle_timeout_us / 1000,
        .send_timeout_ms = o.send_timeout_us / 1000,
    };
    struct httpd_grpc grpc = {
        .model = o.model,
        .px = sc.prof.input_px,
        .max_images = o.max_images,
        .fail_status = o.fail_status,
    };
    if (httpd_create(&s.httpd, &s.loop, o.host, o.port, routes, &sc, &lim, &grpc, err)) {
        fprintf(stderr, "loadgen serve: %s\n", err);
        rc = LG_EXIT_FAIL;
        goto out;
    }
    int v6 = strchr(o.host, ':') != NULL;
    printf("loadgen serve: listening on %s%s%s:%d\n", v6 ? "[" : "", o.host, v6 ? "]" : "",
           httpd_port(s.httpd));
    fflush(stdout);
    describe(&o, &sc);

    s.started_us = lg_now_us();
    s.sigint.data = s.sigterm.data = s.stats.data = &s;
    uv_signal_init(&s.loop, &s.sigint);
    uv_signal_init(&s.loop, &s.sigterm);
    uv_signal_start(&s.sigint, stop, SIGINT);
    uv_signal_start(&s.sigterm, stop, SIGTERM);
    if (s.stats_on) {
        uv_timer_init(&s.loop, &s.stats);
        uv_timer_start(&s.stats, stats_tick, 1000, 1000);
    }
    uv_run(&s.loop, UV_RUN_DEFAULT);
out:
    httpd_destroy(s.httpd);
    routes_destroy(routes);
    if (uv_loop_close(&s.loop) != 0) {
        fputs("loadgen serve: a handle was left open at exit (a bug; please report it)\n", stderr);
        rc = LG_EXIT_FAIL;
    }
    return rc;
}
