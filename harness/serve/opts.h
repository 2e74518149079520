/*
 * opts.h: `loadgen serve` flags -> struct serve_opts, with every check and
 * its one-line error. Pure: no I/O, no global state.
 */
#ifndef LOADGEN_SERVE_OPTS_H
#define LOADGEN_SERVE_OPTS_H

#include <stdint.h>

#include "serve/sim.h"

struct serve_opts {
    char host[64];            /* --listen HOST (default 127.0.0.1) */
    unsigned port;            /* --listen :PORT or --port; 0 = pick a free one */
    const char *model;        /* --model, a key of the profiles file */
    enum sim_device device;   /* --device */
    unsigned replicas;        /* --replicas */
    unsigned cores;           /* --cores, per CPU replica */
    unsigned max_batch;       /* --max-batch; 0 = the profile's */
    unsigned input_px;        /* --input-px; 0 = the profile's (224 without one) */
    int64_t batch_window_us;  /* --batch-window; -1 = the profile's */
    const char *profile;      /* --profile FILE; NULL = profile_find */
    int64_t fixed_us;         /* --fixed-latency; -1 = off */
    int64_t rtt_us;           /* --rtt */
    double fail_rate;         /* --fail-rate */
    unsigned fail_status;     /* --fail-status */
    double reset_rate;        /* --reset-rate */
    double stall_rate;        /* --stall-rate */
    int64_t stall_us;         /* --stall */
    int64_t freeze_at_us;     /* --freeze-at, after the first request */
    int64_t freeze_us;        /* --freeze; 0 = off */
    uint64_t seed;            /* --seed */
    uint64_t max_body;        /* --max-body, bytes */
    unsigned max_images;      /* --max-images: most images one request may carry (400 past it) */
    uint64_t max_inflight;    /* --max-inflight, bytes held for all connections at once */
    unsigned max_conns;       /* --max-connections */
    int64_t header_timeout_us;/* --header-timeout */
    int64_t body_timeout_us;  /* --body-timeout */
    int64_t idle_timeout_us;  /* --idle-timeout */
    int64_t send_timeout_us;  /* --send-timeout */
    int stats;                /* --stats: one log line a second on stderr */
    int help;                 /* --help: print usage, exit 0 */
};

/* Fills o with defaults then the flags in argv[1..argc-1]. 0, or -EINVAL
 * with a one-line message in err such as "--replicas abc: not a whole
 * number; write e.g. 1000 or 10k". --help prints the usage to stdout and
 * sets o->help. */
int opts_parse(struct serve_opts *o, int argc, char **argv, char *err);

#endif
