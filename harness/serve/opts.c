/*
 * opts.c: `loadgen serve` flags (see opts.h), one table read by flags.c,
 * which also prints --help from it: durations, sizes and fractions read the
 * same as in every other loadgen command. Pure; called once from serve_main.
 */
#include "serve/opts.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "flags.h"
#include "units.h"

static int listen_addr(void *opts, const struct flag *f, const char *v, char *err)
{
    struct serve_opts *o = opts;
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return flags_errf(err, f, v, "not HOST:PORT; write e.g. 127.0.0.1:8080");
    const char *h = v, *he = colon;
    if (*h == '[' && he[-1] == ']') {  /* [::1]:8080 */
        h++;
        he--;
    }
    if ((size_t)(he - h) >= sizeof o->host || he == h)
        return flags_errf(err, f, v, "host is empty or too long; write e.g. 127.0.0.1:8080");
    uint64_t port;
    if (units_parse_count(colon + 1, &port) || port > 65535)
        return flags_errf(err, f, v, "port is not a number from 0 to 65535");
    memcpy(o->host, h, (size_t)(he - h));
    o->host[he - h] = '\0';
    o->port = (unsigned)port;
    return 0;
}

static int device(void *opts, const struct flag *f, const char *v, char *err)
{
    struct serve_opts *o = opts;
    if (!strcmp(v, "gpu"))
        o->device = SIM_GPU;
    else if (!strcmp(v, "cpu"))
        o->device = SIM_CPU;
    else
        return flags_errf(err, f, v, "unknown; use gpu or cpu");
    return 0;
}

#define O(field) offsetof(struct serve_opts, field)
#define DAY_US (86400.0 * 1e6)
static const struct flag flags[] = {
    {"listen", NULL, FLAG_CALL, 0, 0, 0, "HOST:PORT", "address to bind (default 127.0.0.1:8080)",
     .call = listen_addr},
    {"port", "p", FLAG_UINT, O(port), 0, 65535, "PORT",
     "port only; 0 picks a free one (printed on the first line)"},
    {"model", NULL, FLAG_STRING, O(model), 1, 0, "NAME",
     "mobilenet_v2|nasnet_mobile|resnet50|resnet152|nasnet_large|zero\n"
     "(default resnet50; any model in the profiles file)"},
    {"input-px", NULL, FLAG_UINT, O(input_px), 1, 4096, "PX",
     "the model's input is [-1, PX, PX, 3] FP32 (default: the profile's,\n224 for most)"},
    {"device", NULL, FLAG_CALL, 0, 0, 0, "gpu|cpu", "(default gpu)", .call = device},
    {"replicas", NULL, FLAG_UINT, O(replicas), 1, 100000, "N", "pods behind a round-robin Service (default 1)"},
    {"cores", NULL, FLAG_UINT, O(cores), 1, 100000, "K", "cores per CPU replica (default 1)"},
    {"max-batch", NULL, FLAG_UINT, O(max_batch), 1, 65536, "N",
     "GPU: most images per batch (default: the profile's)"},
    {"batch-window", NULL, FLAG_DURATION, O(batch_window_us), 0, DAY_US, "T",
     "GPU: wait after a batch for the next to fill (default: the profile's)"},
    {"profile", NULL, FLAG_STRING, O(profile), 1, 0, "FILE", "profiles file (default scenarios/profiles.json)"},
    {"fixed-latency", NULL, FLAG_DURATION, O(fixed_us), 0, DAY_US, "T",
     "every request takes exactly T, no queueing, no jitter"},
    {"rtt", NULL, FLAG_DURATION, O(rtt_us), 0, DAY_US, "T", "network distance added to every answer (e.g. 80ms)"},
    {"seed", NULL, FLAG_COUNT, O(seed), 0, 0, "N", "seed for fault and jitter draws (default 1)"},
    {"stats", NULL, FLAG_SWITCH, O(stats), 0, 0, NULL, "one log line a second on stderr"},
    {.kind = FLAG_SECTION, .help = "Faults:"},
    {"fail-rate", NULL, FLAG_FRACTION, O(fail_rate), 0, 1, "P", "answer a fraction P with --fail-status"},
    {"fail-status", NULL, FLAG_UINT, O(fail_status), 400, 599, "CODE", "the status of a failed answer (default 503; gRPC: 429 RESOURCE_EXHAUSTED,\n"
     "500 INTERNAL, 503 UNAVAILABLE, others UNKNOWN)"},
    {"reset-rate", NULL, FLAG_FRACTION, O(reset_rate), 0, 1, "P", "close the connection unanswered for a fraction P (gRPC: reset the stream)"},
    {"stall-rate", NULL, FLAG_FRACTION, O(stall_rate), 0, 1, "P", "answer a fraction P late by --stall"},
    {"stall", NULL, FLAG_DURATION, O(stall_us), 0, DAY_US, "T", "how late a stalled answer is (default 5s)"},
    {"freeze-at", NULL, FLAG_DURATION, O(freeze_at_us), 0, DAY_US, "T", "freeze the server T after the first request ..."},
    {"freeze", NULL, FLAG_DURATION, O(freeze_us), 0, DAY_US, "T",
     "... for T: everything arriving or queued waits it out"},
    {.kind = FLAG_SECTION, .help = "Limits (serve expects hostile clients; see docs/serve.md):"},
    {"max-body", NULL, FLAG_SIZE, O(max_body), 1, 4294967296.0, "SIZE",
     "largest request body, 413 past it (default 64MiB)"},
    {"max-images", NULL, FLAG_UINT, O(max_images), 1, 1u << 20, "N",
     "most images in one request, 400 past it (default 64)"},
    {"max-inflight", NULL, FLAG_SIZE, O(max_inflight), 1, 4294967296.0, "SIZE",
     "memory for bodies, pipelined input and unsent answers of all\n"
     "connections together, 503 past it (default 256MiB)"},
    {"max-connections", NULL, FLAG_UINT, O(max_conns), 1, 1u << 20, "N",
     "connections at once; more get 503 and a close (default 20000)"},
    {"header-timeout", NULL, FLAG_DURATION, O(header_timeout_us), 1000, DAY_US, "T",
     "a request's headers must arrive within T (default 10s)"},
    {"body-timeout", NULL, FLAG_DURATION, O(body_timeout_us), 1000, DAY_US, "T",
     "most time between two reads of a body (default 10s)"},
    {"idle-timeout", NULL, FLAG_DURATION, O(idle_timeout_us), 1000, DAY_US, "T",
     "keep-alive wait for the next request (default 60s)"},
    {"send-timeout", NULL, FLAG_DURATION, O(send_timeout_us), 1000, DAY_US, "T",
     "close a connection whose answer is unread for T (default 10s)"},
    {0},
};

static const struct flag_cmd cmd = {
    .name = "loadgen serve",
    .usage = "loadgen serve [flags]",
    .about = "An HTTP/1.1 scoring endpoint on loopback that simulates the study's clusters.\n"
             "Routes: POST /score, /v1/models/NAME:predict, /v2/models/NAME/infer, /predictions/NAME;\n"
             "        GET /, /v2/health/ready, /ping, /v2/models/NAME (metadata).\n"
             "gRPC (h2c, same port): inference.GRPCInferenceService (ModelInfer, ModelMetadata,\n"
             "        ModelReady, ServerLive, ServerReady, ServerMetadata),\n"
             "        tensorflow.serving.PredictionService/Predict",
    .flags = flags,
    .epilogue = "Fractions take 0.1 or 10%; durations 250us, 20ms, 1.5s (a bare number is seconds).\n",
};

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
    int rc = flags_parse(&cmd, argc, argv, o, NULL, err);
    if (rc < 0)
        return rc;
    if (rc == FLAGS_HELP) {
        o->help = 1;
        return 0;
    }
    if (o->max_inflight < o->max_body)
        return lg_err(err, -EINVAL, "--max-inflight %llu bytes is below --max-body %llu: no body that size "
                           "could be read; raise --max-inflight or lower --max-body",
                      (unsigned long long)o->max_inflight, (unsigned long long)o->max_body);
    return 0;
}
