/*
 * cli.h: argv -> struct run_config, with every check and error message.
 *
 * cli_parse validates everything that can be validated without touching the
 * network: numbers, units, ranges, URLs, headers, files to read and the
 * directories results will be written to. On failure it fills `err` with one
 * line naming the flag, what was wrong and what to do. Strings in the
 * config point into argv or the environment, or are owned by the config
 * (freed by cli_free).
 */
#ifndef LOADGEN_CLI_H
#define LOADGEN_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"
#include "engine.h"
#include "payload.h"
#include "tensor.h"

#define CLI_MAX_HEADERS 64
#define CLI_MAX_LEVELS 1024
#define CLI_MAX_SLO 8

struct run_config {
    const char *scenario;          /* --scenario FILE: run_main runs its targets */
    const char *only;              /* --only LABEL: just that target of the file */
    const char *url;
    char target[1024];             /* url without user-info and query: for outputs */
    char grpc_url[2048];           /* gRPC: the URL with the method's path; url points here */
    char grpc_meta_url[2048];      /* gRPC: .../v2/models/NAME[/versions/V]/infer on the
                                    * same server, for the metadata GET (meta.h) */

    /* Levels: closed loop sweeps concurrency, open loop sweeps rate. */
    unsigned levels[CLI_MAX_LEVELS]; /* concurrency per level (closed loop) */
    double rates[CLI_MAX_LEVELS];    /* requests/s per level (open loop) */
    size_t nlevels;
    unsigned max_inflight;         /* open loop: cap on requests in flight */
    enum pacer_arrival arrival;
    uint64_t requests;             /* per level; 0 when --duration */
    int64_t duration_us;           /* per level; 0 when --requests */
    unsigned cycles;               /* repeats of each level */
    uint64_t warmup_requests;      /* before each level, not counted */
    int64_t warmup_us;
    int64_t pause_us;              /* between levels */
    unsigned loops;                /* event-loop threads; 0 = cores */
    uint64_t seed;

    struct corpus_options corpus;
    struct payload_options payload;
    struct tensor_options tensor;  /* --datatype, --shape, --normalize, --input-data */
    char method[24];               /* --method, upper case; "" = POST (GET for -m GET) */
    unsigned fail_fast;            /* --fail-fast N; 0 = never give up */
    const char *save_synthetic;

    const char *headers[CLI_MAX_HEADERS];
    size_t nheaders;
    char *owned_headers[CLI_MAX_HEADERS]; /* built here (bearer), freed by cli_free */
    size_t nowned;
    const char *secret_headers[CLI_MAX_HEADERS]; /* names never written out */
    size_t nsecret;
    const char *user_agent;
    long timeout_ms, connect_timeout_ms;
    int http2, insecure, follow;
    unsigned streams;              /* --streams: HTTP/2 requests per connection */
    enum engine_kind engine;       /* --engine; ENGINE_AUTO by default */
    const char *cacert;
    struct engine_checks checks;

    const char *label, *region, *model;
    char default_label[256];       /* without --label: the URL's host:port */
    double cost_per_hour;          /* < 0 when unknown */

    const char *out;               /* summary CSV; NULL with --no-out */
    int default_out;               /* out is results/summary.csv, not given */
    const char *json;
    const char *requests_log;
    const char *history;
    int quiet;
    int64_t start_at_us;           /* wall-clock start barrier; 0 = now */

    /* --until-stable: windows per level until the last 3 agree. */
    int until_stable;
    double stability;              /* allowed spread, fraction (0.10) */
    uint64_t window_requests;      /* a window is this many requests... */
    int64_t window_us;             /* ... or this long */
    unsigned max_windows;

    /* --slo p99=500ms,p50=100ms and --max-error-rate: thresholds every
     * level is judged by; --threads auto searches for the highest
     * concurrency that meets them. */
    double slo_pct[CLI_MAX_SLO];   /* percentile (0..100] */
    int64_t slo_us[CLI_MAX_SLO];   /* latency at that percentile must be <= */
    size_t nslo;
    double max_error_rate;         /* fraction; < 0 when not set */
    int auto_threads;              /* --threads auto */
    unsigned auto_max;             /* highest concurrency auto tries */

    struct {                       /* cli_parse's scratch: read once all flags are in */
        const char *threads, *rate; /* --threads and --rate as given */
        size_t nheaders;           /* -H seen so far: errors name a header by position */
    } parse;
};

/* What cli_parse found. */
enum cli_result {
    CLI_RUN = 0,     /* run with the config */
    CLI_EXIT_OK = 1, /* --help or --version printed; exit 0 */
    CLI_ERROR = -1,  /* err holds the message; exit 2 */
};

/* `argv[0]` is the program or "run". Prints only --help / --version. With
 * --scenario, only the flags themselves are checked and cfg->scenario is
 * set: run_main then parses each target of the file, the file's flags
 * followed by the command line's, with cli_parse_target (which takes the
 * command line's --scenario and --only as given and checks the rest). */
enum cli_result cli_parse(int argc, char **argv, struct run_config *cfg, char *err);
enum cli_result cli_parse_target(int argc, char **argv, struct run_config *cfg, char *err);
void cli_free(struct run_config *cfg);
/* Creates the default results folder when the summary goes there (cli_parse
 * itself touches nothing), then checks the outputs against each other and
 * against what is on disk: one file given to two outputs, or an existing
 * file of another format (--json onto the summary CSV) is refused. Apart
 * from cli_parse so that a scenario's own path rules speak first. 0, or
 * -EINVAL with err set. */
int cli_prepare_outputs(const struct run_config *cfg, char *err);
/* 1 when the long option `name` (no dashes) takes a value, 0 when it is a
 * switch, -1 when there is no such option. For scenario files. */
int cli_flag_takes_value(const char *name);
/* The URL with user-info and query string removed, into buf. */
const char *cli_public_url(const char *url, char *buf, size_t len);

#endif
