/*
 * opts.c: `loadgen serve` flags (see opts.h). Pure; called once from
 * serve_main. Values are parsed with units.h, so durations, sizes and
 * fractions read the same as in every other loadgen command.
 */
#include "serve/opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "units.h"

static const char usage[] =
    "usage: loadgen serve [flags]\n"
    "An HTTP/1.1 scoring endpoint on loopback that simulates the study's clusters.\n"
    "Routes: POST /score, /v1/models/NAME:predict, /v2/models/NAME/infer, /predictions/NAME;\n"
    "        GET /, /v2/health/ready, /ping\n"
    "  --listen HOST:PORT    address to bind (default 127.0.0.1:8080)\n"
    "  --port PORT           port only; 0 picks a free one (printed on the first line)\n"
    "  --model NAME          mobilenet_v2|nasnet_mobile|resnet50|resnet152|nasnet_large|zero\n"
    "                        (default resnet50; any model in the profiles file)\n"
    "  --device gpu|cpu      (default gpu)\n"
    "  --replicas N          pods behind a round-robin Service (default 1)\n"
    "  --cores K             cores per CPU replica (default 1)\n"
    "  --max-batch N         GPU: most images per batch (default: the profile's)\n"
    "  --batch-window T      GPU: wait after a batch for the next to fill (default: the profile's)\n"
    "  --profile FILE        profiles file (default scenarios/profiles.json)\n"
    "  --fixed-latency T     every request takes exactly T, no queueing, no jitter\n"
    "  --rtt T               network distance added to every answer (e.g. 80ms)\n"
    "  --fail-rate P         answer a fraction P with --fail-status (default 503)\n"
    "  --reset-rate P        close the connection unanswered for a fraction P\n"
    "  --stall-rate P        answer a fraction P late by --stall (default 5s)\n"
    "  --freeze-at T         freeze the server T after the first request ...\n"
    "  --freeze T            ... for T: everything arriving or queued waits it out\n"
    "  --seed N              seed for fault and jitter draws (default 1)\n"
    "Limits (serve expects hostile clients; see docs/serve.md):\n"
    "  --max-body SIZE       largest request body, 413 past it (default 64MiB)\n"
    "  --max-images N        most images in one request, 400 past it (default 64)\n"
    "  --max-inflight SIZE   memory for bodies, pipelined input and unsent answers of all\n"
    "                        connections together, 503 past it (default 256MiB)\n"
    "  --max-connections N   connections at once; more get 503 and a close (default 20000)\n"
    "  --header-timeout T    a request's headers must arrive within T (default 10s)\n"
    "  --body-timeout T      most time between two reads of a body (default 10s)\n"
    "  --idle-timeout T      keep-alive wait for the next request (default 60s)\n"
    "  --send-timeout T      close a connection whose answer is unread for T (default 10s)\n"
    "  --stats               one log line a second on stderr\n"
    "Fractions take 0.1 or 10%; durations 250us, 20ms, 1.5s.\n";

const char *opts_usage(void) { return usage; }

/* Every flag that takes a value, so an unknown one is named as unknown even
 * when it is the last argument. */
static const char *const valued[] = {
    "--listen", "--port", "--model", "--device", "--replicas", "--cores", "--max-batch",
    "--batch-window", "--profile", "--fixed-latency", "--rtt", "--fail-rate", "--fail-status",
    "--reset-rate", "--stall-rate", "--stall", "--freeze-at", "--freeze", "--seed", "--max-body",
    "--max-images", "--max-inflight", "--max-connections", "--header-timeout", "--body-timeout",
    "--idle-timeout", "--send-timeout",
};

static int known(const char *flag)
{
    for (size_t i = 0; i < sizeof valued / sizeof valued[0]; i++)
        if (!strcmp(flag, valued[i]))
            return 1;
    return 0;
}

static int bad(char *err, const char *flag, const char *val, const char *what)
{
    return lg_err(err, "%s %s: %s", flag, val, what);
}

static int positive(const char *flag, const char *v, unsigned max, unsigned *out, char *err)
{
    uint64_t n;
    int rc = units_parse_count(v, &n);
    if (rc == -EINVAL)
        return bad(err, flag, v, "not a number; give a positive integer");
    if (rc || n == 0 || n > max) {
        char what[96];
        snprintf(what, sizeof what, "out of range; give an integer from 1 to %u", max);
        return bad(err, flag, v, what);
    }
    *out = (unsigned)n;
    return 0;
}

static int duration(const char *flag, const char *v, int64_t *out, char *err)
{
    if (units_parse_duration(v, out) || *out < 0)
        return bad(err, flag, v, "not a duration; write e.g. 250us, 20ms or 1.5s");
    return 0;
}

/* A timeout: from 1 ms (0 would close every connection at once) to a day. */
static int timeout(const char *flag, const char *v, int64_t *out, char *err)
{
    if (units_parse_duration(v, out) || *out < 1000 || *out > 86400LL * 1000000)
        return bad(err, flag, v, "not a timeout; write e.g. 500ms or 10s (from 1ms to 24h)");
    return 0;
}

static int size(const char *flag, const char *v, uint64_t *out, char *err)
{
    if (units_parse_size(v, out) || *out == 0 || *out > (1ULL << 32))
        return bad(err, flag, v, "not a size; write e.g. 64MiB (from 1 byte to 4GiB)");
    return 0;
}

static int fraction(const char *flag, const char *v, double *out, char *err)
{
    if (units_parse_fraction(v, out))
        return bad(err, flag, v, "not a fraction; write e.g. 0.1 or 10% (from 0 to 1)");
    return 0;
}

static int listen_addr(struct serve_opts *o, const char *v, char *err)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return bad(err, "--listen", v, "not HOST:PORT; write e.g. 127.0.0.1:8080");
    const char *h = v, *he = colon;
    if (*h == '[' && he[-1] == ']') {  /* [::1]:8080 */
        h++;
        he--;
    }
    if ((size_t)(he - h) >= sizeof o->host || he == h)
        return bad(err, "--listen", v, "host is empty or too long; write e.g. 127.0.0.1:8080");
    uint64_t port;
    if (units_parse_count(colon + 1, &port) || port > 65535)
        return bad(err, "--listen", v, "port is not a number from 0 to 65535");
    memcpy(o->host, h, (size_t)(he - h));
    o->host[he - h] = '\0';
    o->port = (int)port;
    return 0;
}

static int set(struct serve_opts *o, const char *flag, const char *v, char *err)
{
    uint64_t n;
    unsigned u;
    if (!strcmp(flag, "--listen"))
        return listen_addr(o, v, err);
    if (!strcmp(flag, "--port")) {
        if (units_parse_count(v, &n) || n > 65535)
            return bad(err, flag, v, "not a port; give a number from 0 to 65535");
        o->port = (int)n;
        return 0;
    }
    if (!strcmp(flag, "--model")) {
        o->model = v;
        return 0;
    }
    if (!strcmp(flag, "--device")) {
        if (!strcmp(v, "gpu"))
            o->device = SIM_GPU;
        else if (!strcmp(v, "cpu"))
            o->device = SIM_CPU;
        else
            return bad(err, flag, v, "unknown device; give gpu or cpu");
        return 0;
    }
    if (!strcmp(flag, "--replicas"))
        return positive(flag, v, 100000, &o->replicas, err);
    if (!strcmp(flag, "--cores"))
        return positive(flag, v, 100000, &o->cores, err);
    if (!strcmp(flag, "--max-batch"))
        return positive(flag, v, 65536, &o->max_batch, err);
    if (!strcmp(flag, "--batch-window"))
        return duration(flag, v, &o->batch_window_us, err);
    if (!strcmp(flag, "--profile")) {
        o->profile = v;
        return 0;
    }
    if (!strcmp(flag, "--fixed-latency"))
        return duration(flag, v, &o->fixed_us, err);
    if (!strcmp(flag, "--rtt"))
        return duration(flag, v, &o->rtt_us, err);
    if (!strcmp(flag, "--fail-rate"))
        return fraction(flag, v, &o->fail_rate, err);
    if (!strcmp(flag, "--fail-status")) {
        if (positive(flag, v, 599, &u, NULL) || u < 400)
            return bad(err, flag, v, "not an error status; give a number from 400 to 599");
        o->fail_status = (int)u;
        return 0;
    }
    if (!strcmp(flag, "--reset-rate"))
        return fraction(flag, v, &o->reset_rate, err);
    if (!strcmp(flag, "--stall-rate"))
        return fraction(flag, v, &o->stall_rate, err);
    if (!strcmp(flag, "--stall"))
        return duration(flag, v, &o->stall_us, err);
    if (!strcmp(flag, "--freeze-at"))
        return duration(flag, v, &o->freeze_at_us, err);
    if (!strcmp(flag, "--freeze"))
        return duration(flag, v, &o->freeze_us, err);
    if (!strcmp(flag, "--seed")) {
        if (units_parse_count(v, &o->seed))
            return bad(err, flag, v, "not a number; give a non-negative integer");
        return 0;
    }
    if (!strcmp(flag, "--max-images"))
        return positive(flag, v, 1u << 20, &o->max_images, err);
    if (!strcmp(flag, "--max-inflight"))
        return size(flag, v, &o->max_inflight, err);
    if (!strcmp(flag, "--max-connections"))
        return positive(flag, v, 1u << 20, &o->max_conns, err);
    if (!strcmp(flag, "--header-timeout"))
        return timeout(flag, v, &o->header_timeout_us, err);
    if (!strcmp(flag, "--body-timeout"))
        return timeout(flag, v, &o->body_timeout_us, err);
    if (!strcmp(flag, "--idle-timeout"))
        return timeout(flag, v, &o->idle_timeout_us, err);
    if (!strcmp(flag, "--send-timeout"))
        return timeout(flag, v, &o->send_timeout_us, err);
    /* known() leaves only --max-body. */
    return size(flag, v, &o->max_body, err);
}

int opts_parse(struct serve_opts *o, int argc, char **argv, char *err)
{
    *o = (struct serve_opts){
        .host = "127.0.0.1",
        .port = 8080,
        .model = "resnet50",
        .device = SIM_GPU,
        .replicas = 1,
        .cores = 1,
        .batch_window_us = -1,
        .fixed_us = -1,
        .fail_status = 503,
        .stall_us = 5000000,
        .seed = 1,
        .max_body = 64ULL << 20,
        .max_images = 64,
        .max_inflight = 256ULL << 20,
        .max_conns = 20000,
        .header_timeout_us = 10000000,
        .body_timeout_us = 10000000,
        .idle_timeout_us = 60000000,
        .send_timeout_us = 10000000,
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            o->help = 1;
            continue;
        }
        if (!strcmp(a, "--stats")) {
            o->stats = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return lg_err(err, "%s: unexpected argument; flags start with -- (see --help)", a);
        char flag[64];
        const char *v;
        const char *eq = strchr(a, '=');
        size_t flen = eq ? (size_t)(eq - a) : strlen(a);
        if (flen >= sizeof flag)
            flen = sizeof flag - 1;
        memcpy(flag, a, flen);
        flag[flen] = '\0';
        if (!known(flag))
            return lg_err(err, "%s: unknown flag; see loadgen serve --help", flag);
        if (eq) { /* --flag=value */
            v = eq + 1;
        } else {
            if (i + 1 >= argc)
                return lg_err(err, "%s: missing value; see loadgen serve --help", a);
            v = argv[++i];
        }
        if (set(o, flag, v, err))
            return -1;
    }
    if (o->max_inflight < o->max_body)
        return lg_err(err, "--max-inflight %llu bytes is below --max-body %llu: no body that size "
                           "could be read; raise --max-inflight or lower --max-body",
                      (unsigned long long)o->max_inflight, (unsigned long long)o->max_body);
    return 0;
}
