/*
 * run.c: `loadgen run`: config -> corpus -> payloads (built once) -> engine
 * -> per-level stats -> writers. The one place that prints a run's errors,
 * and the only owner of the signal flag.
 *
 * Signals: the first SIGINT/SIGTERM sets `stop_requested`; the engine stops
 * sending, waits briefly for replies in flight, and the level so far is
 * written marked "interrupted", then loadgen exits 130. A second one exits
 * at once.
 */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "corpus.h"
#include "engine.h"
#include "fileio.h"
#include "inputdata.h"
#include "meta.h"
#include "payload.h"
#include "progress.h"
#include "output.h"
#include "scenario.h"
#include "stats.h"
#include "sweep.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    if (stop_requested)
        _exit(LG_EXIT_INTERRUPTED);
    stop_requested = sig;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Past a file-size limit a write must fail with EFBIG and be reported,
     * not kill the process with the results unwritten. */
    signal(SIGXFSZ, SIG_IGN);
}

/* Sleep until a monotonic time, waking early on a signal. */
static void sleep_until(int64_t until_us)
{
    for (int64_t now; !stop_requested && (now = lg_now_us()) < until_us;) {
        int64_t d = until_us - now;
        if (d > 100000)
            d = 100000;
        struct timespec ts = {d / 1000000, (d % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Every error of a run goes out here: one line, printable even when it
 * quotes a file name or a key the user gave with control characters. */
static void print_error(char *err)
{
    fprintf(stderr, "loadgen: %s\n", lg_printable(err));
}

/* Tensor mode, first: the model's inputs from its metadata, read once
 * when the flags leave something out (*m NULL otherwise). Before any
 * corpus is loaded, and nothing is sent to the infer URL before it. */
/* The flags win over the metadata where both speak. */
static int model_taken(const struct run_config *cfg, struct tensor_model *model,
                       const struct tensor_model **m)
{
    tensor_model_apply(model, &cfg->tensor);
    *m = model;
    return 0;
}

static int fetch_model(const struct run_config *cfg, struct tensor_model *model,
                       const struct tensor_model **m, char *err)
{
    *m = NULL;
    if (!tensor_options_need_metadata(&cfg->tensor, cfg->payload.input_name))
        return 0;
    /* KServe v2 gRPC: the model's ModelMetadata, on the port the run calls
     * (Triton's gRPC port speaks nothing else). TF Serving's Predict: the
     * REST metadata of the same server, in HTTP/1.1. */
    if (cfg->payload.format == PAYLOAD_KSERVE_GRPC) {
        const struct meta_request g = {
            .infer_url = cfg->url, .public_url = cfg->target, .headers = cfg->headers,
            .nheaders = cfg->nheaders, .user_agent = cfg->user_agent, .insecure = cfg->insecure,
            .cacert = cfg->cacert, .timeout_ms = cfg->timeout_ms,
            .connect_timeout_ms = cfg->connect_timeout_ms,
        };
        int rc = meta_fetch_grpc(&g, cfg->model, cfg->payload.model_version, model, err);
        return rc < 0 ? rc : model_taken(cfg, model, m);
    }
    int grpc = payload_grpc_path(cfg->payload.format) != NULL;
    char shown[sizeof cfg->grpc_meta_url];
    const struct meta_request q = {
        .infer_url = grpc ? cfg->grpc_meta_url : cfg->url,
        .public_url = grpc ? cli_public_url(cfg->grpc_meta_url, shown, sizeof shown) : cfg->target,
        .headers = cfg->headers,
        .nheaders = cfg->nheaders, .user_agent = cfg->user_agent, .insecure = cfg->insecure,
        .http2 = grpc ? 0 : cfg->http2, .cacert = cfg->cacert, .timeout_ms = cfg->timeout_ms,
        .connect_timeout_ms = cfg->connect_timeout_ms,
    };
    int rc = meta_fetch(&q, model, err);
    return rc < 0 ? rc : model_taken(cfg, model, m);
}

/* Then the samples, from --input-data or from the corpus's images. */
static int make_tensors(const struct run_config *cfg, const struct tensor_model *m,
                        const struct corpus *corpus, struct tensor_set **out, char *err)
{
    const struct tensor_options *to = &cfg->tensor;
    if (to->input_data) {
        struct tensor_spec fallback = {.dtype = to->dtype, .ndims = to->ndims};
        memcpy(fallback.shape, to->shape, sizeof fallback.shape);
        const struct inputdata_want want = {m, &fallback};
        return inputdata_load(out, to->input_data, &want, err);
    }
    struct tensor_spec spec;
    int rc = tensor_model_image_input(m, to, cfg->payload.input_name, &spec, err);
    return rc < 0 ? rc : tensor_set_from_corpus(out, corpus, &spec, to->normalize, err);
}

static int prepare_payloads(const struct run_config *cfg, struct payload_set **out)
{
    char err[LG_ERRLEN];
    struct corpus *corpus = NULL;
    struct tensor_set *tensors = NULL;
    struct tensor_model model;
    const struct tensor_model *m = NULL;
    int tensor_mode = tensor_options_active(&cfg->tensor);
    if (tensor_mode && fetch_model(cfg, &model, &m, err) < 0) {
        print_error(err);
        return LG_EXIT_USAGE;
    }
    if (cfg->payload.format != PAYLOAD_FILE && cfg->payload.format != PAYLOAD_NONE &&
        !cfg->tensor.input_data) {
        if (corpus_load(&corpus, &cfg->corpus, err) < 0) {
            print_error(err);
            return LG_EXIT_USAGE;
        }
        if (corpus->skipped) {
            /* A warning, printed as an error is: the folder's name may come
             * from a scenario file, with escape sequences in it. */
            snprintf(err, sizeof err, "%s: skipped %zu files that are not JPEG or PNG",
                     cfg->corpus.dir ? cfg->corpus.dir : cfg->corpus.list_file, corpus->skipped);
            print_error(err);
        }
        if (cfg->save_synthetic && corpus_save(corpus, cfg->save_synthetic, err) < 0) {
            print_error(err);
            corpus_destroy(corpus);
            return LG_EXIT_USAGE;
        }
    }
    if (tensor_mode && make_tensors(cfg, m, corpus, &tensors, err) < 0) {
        print_error(err);
        corpus_destroy(corpus);
        return LG_EXIT_USAGE;
    }
    if (tensor_mode) { /* the tensors hold what is sent: the images can go now */
        corpus_destroy(corpus);
        corpus = NULL;
    }
    struct payload_options po = cfg->payload;
    po.tensors = tensors;
    int rc = payload_build(out, corpus, &po, err);
    /* Payloads own copies of every byte they send: the corpus and the
     * tensors can go. */
    corpus_destroy(corpus);
    tensor_set_destroy(tensors);
    if (rc < 0) {
        print_error(err);
        return LG_EXIT_USAGE;
    }
    return 0;
}

struct run_state {
    const struct run_config *cfg;
    int warned_streams;    /* said once that --streams met HTTP/1.1 */
    struct engine *engine;
    struct stats *stats, *scratch;
    struct stats *win[3];  /* --until-stable: the last three windows */
    struct output_json *json;
    struct progress progress;
    char run_id[64];
    const char *format;
    unsigned test_no;
    uint64_t requests, ok; /* over every level */
    int write_failed;
    int unstable;          /* some level never became stable */
    int slo_broken;        /* some level broke --slo / --max-error-rate */
    struct sweep sweep;    /* a row per level and cycle, for the closing table */
};

/* One level: a concurrency (closed loop) or a rate (open loop). */
struct level_spec {
    unsigned concurrency;
    double rate;
};

static double spread(const double v[3])
{
    double lo = v[0], hi = v[0], sum = 0;
    for (int i = 0; i < 3; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
        sum += v[i];
    }
    return sum > 0 ? (hi - lo) / (sum / 3) : 0;
}

/* --fail-fast gave up on a phase: say why, in the transport's words. The
 * caller stops the run with exit 3 once what was measured is written. */
static int gave_up(const struct run_state *rs, const struct stats *st)
{
    if (!engine_gave_up(rs->engine))
        return 0;
    fprintf(stderr, "loadgen: %s: the first %u requests all failed to connect%s%s%s; stopped "
                    "(--fail-fast %u); is the server up and the URL right?\n",
            rs->cfg->target, rs->cfg->fail_fast, st->nerrmsg ? " (" : "",
            st->nerrmsg ? st->errmsg[0].text : "", st->nerrmsg ? ")" : "", rs->cfg->fail_fast);
    return 1;
}

/* Measure windows until throughput and p50 of the last three agree within
 * --stability (perf_analyzer's rule), then merge those three into
 * rs->stats. Returns 0, or a negative errno with err set; *windows counts
 * what ran. */
static int measure_until_stable(struct run_state *rs, struct engine_phase *ph, unsigned *windows,
                                int *stable, char *err)
{
    const struct run_config *cfg = rs->cfg;
    double rps[3] = {0}, p50[3] = {0};
    ph->requests = cfg->window_requests ? cfg->window_requests
                                        : (cfg->window_us ? 0 : cfg->requests);
    ph->duration_us = cfg->window_requests ? 0 : (cfg->window_us ? cfg->window_us : cfg->duration_us);
    *stable = 0;
    unsigned w = 0;
    while (w < cfg->max_windows && !stop_requested) {
        struct stats *st = rs->win[w % 3];
        int rc = engine_run(rs->engine, ph, st, progress_tick, &rs->progress, err);
        if (rc < 0)
            return rc;
        if (engine_gave_up(rs->engine)) {
            w++;
            break;
        }
        double d = stats_duration_s(st);
        rps[w % 3] = d > 0 ? (double)st->requests / d : 0;
        p50[w % 3] = (double)hist_percentile(st->h[STATS_LATENCY], 50);
        w++;
        if (w >= 3 && spread(rps) <= cfg->stability && spread(p50) <= cfg->stability) {
            *stable = 1;
            break;
        }
    }
    *windows = w;
    /* Report the last (up to) three windows, oldest first. */
    unsigned first = w >= 3 ? w - 3 : 0;
    stats_reset(rs->stats, rs->win[first % 3]->origin_us);
    for (unsigned k = first; k < w; k++)
        if (stats_merge(rs->stats, rs->win[k % 3]) < 0)
            return lg_err(err, -ENOMEM, "out of memory merging windows");
    rs->stats->slot_min = rs->win[(w - 1) % 3]->slot_min;
    rs->stats->slot_max = rs->win[(w - 1) % 3]->slot_max;
    return 0;
}

/* Whether a level met --slo and --max-error-rate (1 when none are set). */
static int slo_met(const struct run_config *cfg, const struct stats *st)
{
    for (size_t i = 0; i < cfg->nslo; i++)
        if ((int64_t)hist_percentile(st->h[STATS_LATENCY], cfg->slo_pct[i]) > cfg->slo_us[i])
            return 0;
    if (cfg->max_error_rate >= 0 && st->requests &&
        (double)stats_errors(st) / (double)st->requests > cfg->max_error_rate)
        return 0;
    return st->requests > 0;
}

/* Where the human text goes: stdout, or stderr when the JSON result is
 * written to stdout (--json -, /dev/stdout), so that stdout is the JSON
 * alone, for jq or a pipe. */
/* The text summary's stream: stderr when an output (--json -, --out -,
 * --requests-log -, --history -) has stdout, so that a script reads only
 * that output there. */
static FILE *run_text(const struct run_config *cfg)
{
    const char *outs[] = {cfg->json, cfg->out, cfg->requests_log, cfg->history};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i] && fileio_is_stdout(outs[i]))
            return stderr;
    return stdout;
}

static void write_level(struct run_state *rs, const struct output_level *lv)
{
    const struct run_config *cfg = rs->cfg;
    char err[LG_ERRLEN];
    FILE *text = run_text(cfg);
    output_text(text, lv);
    fflush(text);
    if (sweep_add(&rs->sweep, lv) < 0)
        print_error(strcpy(err, "out of memory for the closing table"));
    /* Every writer runs even if an earlier one failed: one full disk must
     * not cost the results that could still be written elsewhere. */
    if (cfg->out && output_csv_append(cfg->out, lv, err) < 0) {
        print_error(err);
        rs->write_failed = 1;
    }
    if (rs->json && output_json_add(rs->json, lv, err) < 0) {
        print_error(err);
        rs->write_failed = 1;
    }
    if (cfg->requests_log && output_requests_append(cfg->requests_log, lv, err) < 0) {
        print_error(err);
        rs->write_failed = 1;
    }
    if (cfg->history && output_history_append(cfg->history, lv, err) < 0) {
        print_error(err);
        rs->write_failed = 1;
    }
}

/* Run one level once (warm-up, then the measurement), write it out, and
 * say whether it met the SLO. Returns 0 or an exit code. */
static int run_level(struct run_state *rs, const struct level_spec *spec, unsigned cycle, int *met)
{
    const struct run_config *cfg = rs->cfg;
    int open_loop = spec->rate > 0;
    char err[LG_ERRLEN];
    struct engine_phase ph = {
        .concurrency = spec->concurrency,
        .rate = spec->rate,
        .arrival = cfg->arrival,
        .seed = cfg->seed + rs->test_no * 7919 + cycle,
        .grace_us = 1000000,
    };
    char what[128];
    if (open_loop)
        snprintf(what, sizeof what, "%s R=%.6g cycle %u", *cfg->label ? cfg->label : "run",
                 ph.rate, cycle);
    else
        snprintf(what, sizeof what, "%s c=%u cycle %u", *cfg->label ? cfg->label : "run",
                 ph.concurrency, cycle);
    *met = 0;

    if (cfg->warmup_requests || cfg->warmup_us) {
        struct engine_phase warm = ph;
        warm.requests = cfg->warmup_requests;
        warm.duration_us = cfg->warmup_us;
        progress_start(&rs->progress, "warm-up", warm.requests, warm.duration_us);
        int rc = engine_run(rs->engine, &warm, rs->scratch, progress_tick, &rs->progress, err);
        progress_end(&rs->progress);
        if (rc < 0) {
            print_error(err);
            return LG_EXIT_FAIL;
        }
        if (gave_up(rs, rs->scratch))
            return LG_EXIT_ALL_FAILED;
        if (stop_requested)
            return 0;
    }

    /* Wall clock = monotonic + this offset: first send and last reply of
     * the measurement on a clock other machines share (for merge). */
    int64_t wall_offset = lg_wall_us() - lg_now_us();
    unsigned windows = 0;
    int stable = 1, rc;
    progress_start(&rs->progress, what, cfg->until_stable ? 0 : cfg->requests,
                   cfg->until_stable ? 0 : cfg->duration_us);
    if (cfg->until_stable) {
        rc = measure_until_stable(rs, &ph, &windows, &stable, err);
    } else {
        ph.requests = cfg->requests;
        ph.duration_us = cfg->duration_us;
        rc = engine_run(rs->engine, &ph, rs->stats, progress_tick, &rs->progress, err);
    }
    progress_end(&rs->progress);
    if (rc < 0) {
        print_error(err);
        return LG_EXIT_FAIL;
    }
    const struct stats *st = rs->stats;
    int judged = cfg->nslo || cfg->max_error_rate >= 0;
    *met = slo_met(cfg, st);
    struct output_level lv = {
        .run_id = rs->run_id,
        .label = cfg->label,
        .region = cfg->region,
        .model = cfg->model,
        .target = cfg->target,
        .format = rs->format,
        .engine = engine_name(rs->engine),
        .open_loop = open_loop,
        .concurrency = ph.concurrency,
        .rate = ph.rate,
        .cycle = cycle,
        .test_no = ++rs->test_no,
        .interrupted = stop_requested != 0,
        .unstable = !stable && !stop_requested && !engine_gave_up(rs->engine),
        .windows = windows,
        .slo = judged ? (*met ? "met" : "broken") : "",
        .cost_per_hour = cfg->cost_per_hour,
        .start_wall_us = st->requests ? st->first_start_us + wall_offset : 0,
        .end_wall_us = st->requests ? st->last_end_us + wall_offset : 0,
        .slot_min = st->slot_min,
        .slot_max = st->slot_max,
        .st = st,
    };
    if (open_loop && !lv.interrupted && st->requests) {
        /* A client that cannot keep the rate measures a lower load than the
         * row says: say so, and mark the row. */
        struct output_figures fig;
        output_figures(&lv, &fig);
        if (fig.throughput_rps < 0.95 * ph.rate) {
            lv.under_rate = 1;
            fprintf(stderr, "loadgen: -R %.6g: reached %.1f requests/s (%.0f%%); the row is marked "
                            "under_rate; raise --max-inflight (%u) if replies are slow, or use more "
                            "--loops or client machines\n", ph.rate, fig.throughput_rps,
                    100 * fig.throughput_rps / ph.rate, ph.concurrency);
        }
    }
    rs->requests += st->requests;
    rs->ok += st->by_class[CLASS_OK];
    write_level(rs, &lv);
    if (lv.unstable) {
        fprintf(stderr, "loadgen: %s: not stable after %u windows (throughput and p50 of the last 3 "
                        "differ by more than %.0f%%); raise --max-windows or --window, or loosen "
                        "--stability\n", what, windows, cfg->stability * 100);
        rs->unstable = 1;
    }
    if (judged && !*met && !cfg->auto_threads)
        rs->slo_broken = 1;
    if (cfg->streams > 1 && !rs->warned_streams && engine_streams_refused(rs->engine)) {
        fprintf(stderr, "loadgen: --streams %u: the server answered in HTTP/1.1, one request per "
                        "connection, so fewer were in flight than asked; drop --streams for it\n",
                cfg->streams);
        rs->warned_streams = 1;
    }
    return gave_up(rs, st) ? LG_EXIT_ALL_FAILED : 0;
}

/* Every level of the plan, each --cycles times; all cycles must meet the
 * SLO for a level to meet it. */
static int run_cycles(struct run_state *rs, const struct level_spec *spec, int *met)
{
    *met = 1;
    for (unsigned cycle = 1; cycle <= rs->cfg->cycles && !stop_requested; cycle++) {
        int m, rc = run_level(rs, spec, cycle, &m);
        if (rc != 0)
            return rc;
        *met &= m;
    }
    return 0;
}

/* --threads auto: double the concurrency while the level meets the SLO,
 * then bisect between the last good and the first bad level to within
 * an eighth. The answer is the capacity at SLO. */
static int run_auto(struct run_state *rs)
{
    const struct run_config *cfg = rs->cfg;
    unsigned good = 0, bad = 0;
    for (unsigned c = 1; !stop_requested;) {
        struct level_spec spec = {.concurrency = c};
        int met, rc = run_cycles(rs, &spec, &met);
        if (rc != 0)
            return rc;
        if (!met) {
            bad = c;
            break;
        }
        good = c;
        if (c >= cfg->auto_max)
            break;
        c = c * 2 > cfg->auto_max ? cfg->auto_max : c * 2;
    }
    while (good && bad && bad - good > (good / 8 > 1 ? good / 8 : 1) && !stop_requested) {
        unsigned mid = good + (bad - good) / 2;
        struct level_spec spec = {.concurrency = mid};
        int met, rc = run_cycles(rs, &spec, &met);
        if (rc != 0)
            return rc;
        if (met)
            good = mid;
        else
            bad = mid;
    }
    if (stop_requested)
        return 0;
    FILE *text = run_text(cfg);
    sweep_print(text, &rs->sweep);
    /* The capacity in what it serves, not only in what it took. */
    const struct sweep_row *at = good ? sweep_find(&rs->sweep, good) : NULL;
    char rates[96] = "";
    if (at && rs->sweep.images)
        snprintf(rates, sizeof rates, ": %.1f req/s, %.1f images/s", at->throughput_rps,
                 at->images_per_s);
    else if (at)
        snprintf(rates, sizeof rates, ": %.1f req/s", at->throughput_rps);
    if (!good) {
        fprintf(text, "capacity at SLO: none; even 1 request in flight broke it\n");
        rs->slo_broken = 1;
    } else if (!bad) {
        fprintf(text, "capacity at SLO: at least %u in flight%s (--auto-max); the SLO held "
                      "throughout\n", good, rates);
    } else {
        fprintf(text, "capacity at SLO: %u in flight%s (%u broke it)\n", good, rates, bad);
    }
    return 0;
}

static unsigned default_loops(const struct run_config *cfg, unsigned max_slots)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned loops = cfg->loops ? cfg->loops : (unsigned)(cores > 0 ? cores : 1);
    return loops > max_slots ? max_slots : loops;
}

/* The JSON result held back for stdout or a FIFO goes out now, whatever
 * the run's outcome: every level measured is still written. */
static int finish_json(struct output_json *json, int rc)
{
    char err[LG_ERRLEN];
    if (output_json_finish(json, err) < 0) {
        print_error(err);
        if (rc == LG_EXIT_OK)
            rc = LG_EXIT_FAIL;
    }
    return rc;
}

/* What a scenario's targets share: one run_id, and one JSON result that
 * accumulates every target's levels. */
struct run_shared {
    char run_id[64];
    struct output_json *json;
};

/* One run of one target, from its parsed config (which it frees) and what
 * the parse said (err holds the message of a CLI_ERROR). */
static int run_one(struct run_config *cfg, enum cli_result parsed, char *err,
                   struct run_shared *shared)
{
    int rc;
    if (parsed == CLI_RUN && cli_prepare_outputs(cfg, err) < 0)
        parsed = CLI_ERROR;
    switch (parsed) {
    case CLI_EXIT_OK:
        cli_free(cfg);
        free(cfg);
        return LG_EXIT_OK;
    case CLI_ERROR:
        print_error(err);
        cli_free(cfg);
        free(cfg);
        return LG_EXIT_USAGE;
    case CLI_RUN:
        break;
    }
    install_signals();

    int open_loop = cfg->rates[0] > 0;
    unsigned max_slots = 0;
    if (open_loop)
        max_slots = cfg->max_inflight;
    else if (cfg->auto_threads)
        max_slots = cfg->auto_max;
    else
        for (size_t i = 0; i < cfg->nlevels; i++)
            max_slots = cfg->levels[i] > max_slots ? cfg->levels[i] : max_slots;

    struct run_state rs = {.cfg = cfg};
    struct payload_set *payloads = NULL;
    struct engine_config ec = {
        .url = cfg->url,
        .headers = cfg->headers,
        .nheaders = cfg->nheaders,
        .method = cfg->method[0] ? cfg->method : NULL,
        .fail_fast = cfg->fail_fast,
        .user_agent = cfg->user_agent,
        .timeout_ms = cfg->timeout_ms,
        .connect_timeout_ms = cfg->connect_timeout_ms,
        .http2 = cfg->http2,
        .streams = cfg->streams,
        .insecure = cfg->insecure,
        .follow = cfg->follow,
        .engine = cfg->engine,
        .cacert = cfg->cacert,
        .loops = default_loops(cfg, max_slots),
        .max_slots = max_slots,
        .checks = cfg->checks,
        .grpc = payload_grpc_path(cfg->payload.format) != NULL,
        .keep_log = cfg->requests_log != NULL,
        .expected_requests = cfg->requests,
        .stop = &stop_requested,
    };
    if (engine_fd_budget(max_slots, ec.loops, engine_native(&ec), err) < 0) {
        fprintf(stderr, "loadgen: --threads %u: %s\n", max_slots, err);
        rc = LG_EXIT_USAGE;
        goto out;
    }
    if ((rc = prepare_payloads(cfg, &payloads)) != 0)
        goto out;
    ec.payloads = payloads;
    rs.format = payload_format_name(cfg->payload.format);
    snprintf(rs.run_id, sizeof rs.run_id, "%s", shared->run_id);

    if (engine_create(&ec, &rs.engine, err) < 0) {
        print_error(err);
        rc = LG_EXIT_FAIL;
        goto out;
    }
    rs.stats = stats_create(cfg->requests_log != NULL, cfg->requests);
    rs.scratch = stats_create(0, 0);
    for (int i = 0; i < 3 && cfg->until_stable; i++)
        rs.win[i] = stats_create(cfg->requests_log != NULL, cfg->requests);
    if (!rs.stats || !rs.scratch || (cfg->until_stable && (!rs.win[0] || !rs.win[1] || !rs.win[2]))) {
        fputs("loadgen: out of memory\n", stderr);
        rc = LG_EXIT_FAIL;
        goto out;
    }
    if (cfg->json && !shared->json && !(shared->json = output_json_create("--json", cfg->json, rs.run_id))) {
        fputs("loadgen: out of memory\n", stderr);
        rc = LG_EXIT_FAIL;
        goto out;
    }
    rs.json = cfg->json ? shared->json : NULL;
    progress_init(&rs.progress, stderr, cfg->quiet);

    if (cfg->start_at_us) {
        int64_t wait = cfg->start_at_us - lg_wall_us();
        if (wait > 0)
            sleep_until(lg_now_us() + wait);
        else if (wait < -100000)
            /* Other clients started on time: this one's window will not
             * line up with theirs, and a merge may refuse it. */
            fprintf(stderr, "loadgen: --start-at: %.1f s late (start-up took longer); starting now; "
                            "give the clients a later start time\n", -wait / 1e6);
    }
    if (cfg->auto_threads) {
        if ((rc = run_auto(&rs)) != 0)
            goto out;
    }
    for (size_t level = 0; !cfg->auto_threads && level < cfg->nlevels && !stop_requested; level++) {
        if (level > 0 && cfg->pause_us)
            sleep_until(lg_now_us() + cfg->pause_us);
        struct level_spec spec = {
            .concurrency = open_loop ? cfg->max_inflight : cfg->levels[level],
            .rate = open_loop ? cfg->rates[level] : 0,
        };
        int met;
        if ((rc = run_cycles(&rs, &spec, &met)) != 0)
            goto out;
    }
    if (!cfg->auto_threads)
        sweep_print(run_text(cfg), &rs.sweep);

    if (stop_requested)
        rc = LG_EXIT_INTERRUPTED;
    else if (rs.write_failed)
        rc = LG_EXIT_FAIL;
    else if (rs.unstable)
        rc = LG_EXIT_UNSTABLE;
    else if (rs.slo_broken)
        rc = LG_EXIT_SLO;
    else if (rs.requests > 0 && rs.ok == 0) {
        fprintf(stderr, "loadgen: %s: every request failed; is the server up and the URL right?\n",
                cfg->target);
        rc = LG_EXIT_ALL_FAILED;
    } else
        rc = LG_EXIT_OK;
out:
    if (stop_requested && rc == LG_EXIT_OK)
        rc = LG_EXIT_INTERRUPTED;
    if (engine_destroy(rs.engine, err) < 0) {
        print_error(err);
        if (rc == LG_EXIT_OK)
            rc = LG_EXIT_FAIL;
    }
    stats_destroy(rs.stats);
    stats_destroy(rs.scratch);
    for (int i = 0; i < 3; i++)
        stats_destroy(rs.win[i]);
    sweep_free(&rs.sweep);
    payload_destroy(payloads);
    cli_free(cfg);
    free(cfg);
    return rc;
}

/* A target's argv: the file's flags first, the command line's after, so
 * that the command line wins. The strings are borrowed; free the array. */
static char **target_argv(const struct scenario_target *t, int argc, char **argv)
{
    char **av = malloc((size_t)(t->argc + argc) * sizeof *av);
    if (!av)
        return NULL;
    memcpy(av, t->argv, (size_t)t->argc * sizeof *av);
    memcpy(av + t->argc, argv + 1, (size_t)argc * sizeof *av); /* with the NULL */
    return av;
}

/* `--scenario FILE [--only LABEL]`: every target of the file, each with the
 * command line's flags after the file's. */
static int run_scenario(const char *path, const char *only, int argc, char **argv)
{
    char err[LG_ERRLEN];
    struct scenario *sc;
    if (scenario_load(path, only, &sc, err) < 0) {
        print_error(err);
        return LG_EXIT_USAGE;
    }
    struct run_shared shared = {.json = NULL};
    output_run_id(shared.run_id, sizeof shared.run_id);
    int worst = LG_EXIT_OK;
    /* Every target's flags, with the command line's, are checked before the
     * first request: a typo in the last target must not surface an hour in. */
    for (size_t i = 0; i < sc->count; i++) {
        struct run_config *cfg = malloc(sizeof *cfg);
        char **av = target_argv(&sc->targets[i], argc, argv);
        enum cli_result r = cfg && av ? cli_parse_target(sc->targets[i].argc + argc - 1, av, cfg, err)
                                      : CLI_ERROR;
        if (!cfg || !av)
            snprintf(err, sizeof err, "out of memory");
        else if (r == CLI_RUN && (scenario_check_paths(path, &sc->targets[i], cfg, err) < 0 ||
                                  cli_prepare_outputs(cfg, err) < 0))
            r = CLI_ERROR;
        if (cfg)
            cli_free(cfg);
        free(cfg);
        free(av);
        if (r != CLI_RUN) {
            char line[2 * LG_ERRLEN];
            snprintf(line, sizeof line, "%s: target %zu (%s): %s", path, i + 1,
                     *sc->targets[i].label ? sc->targets[i].label : "no label", err);
            if (r == CLI_ERROR)
                print_error(line);
            scenario_destroy(sc);
            return r == CLI_ERROR ? LG_EXIT_USAGE : LG_EXIT_OK;
        }
    }
    for (size_t i = 0; i < sc->count && !stop_requested; i++) {
        struct scenario_target *t = &sc->targets[i];
        char **av = target_argv(t, argc, argv);
        if (!av) {
            worst = LG_EXIT_FAIL;
            break;
        }
        fprintf(stdout, "== %s: target %zu of %zu: %s\n", path, i + 1, sc->count,
                *t->label ? t->label : "(no label)");
        fflush(stdout);
        struct run_config *cfg = malloc(sizeof *cfg);
        int rc = LG_EXIT_FAIL;
        if (cfg)
            rc = run_one(cfg, cli_parse_target(t->argc + argc - 1, av, cfg, err), err, &shared);
        else
            fputs("loadgen: out of memory\n", stderr);
        free(av);
        if (rc == LG_EXIT_USAGE || rc == LG_EXIT_INTERRUPTED) {
            worst = rc;
            break;
        }
        /* One unreachable deployment must not stop the others. */
        if (rc != LG_EXIT_OK && worst == LG_EXIT_OK)
            worst = rc;
    }
    scenario_destroy(sc);
    worst = finish_json(shared.json, worst);
    output_json_destroy(shared.json);
    return worst;
}

int run_main(int argc, char **argv)
{
    struct run_config *cfg = malloc(sizeof *cfg);
    char err[LG_ERRLEN];
    if (!cfg) {
        fputs("loadgen: out of memory\n", stderr);
        return LG_EXIT_FAIL;
    }
    enum cli_result parsed = cli_parse(argc, argv, cfg, err);
    if (parsed == CLI_RUN && cfg->scenario) {
        /* The strings are argv's: they outlive the config. */
        const char *path = cfg->scenario, *only = cfg->only;
        cli_free(cfg);
        free(cfg);
        return run_scenario(path, only, argc, argv);
    }
    struct run_shared one = {.json = NULL};
    output_run_id(one.run_id, sizeof one.run_id);
    int rc = run_one(cfg, parsed, err, &one);
    rc = finish_json(one.json, rc);
    output_json_destroy(one.json);
    return rc;
}
