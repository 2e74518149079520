/*
 * sim.h: the simulated scoring cluster behind `loadgen serve`: replicas
 * (GPU devices that batch, or CPU pods with K cores), network distance,
 * injected faults, and a freeze window. A pure model: it never reads a
 * clock; callers pass the time in, so tests drive it in virtual time and
 * serve drives it from a timerfd (tfd.c).
 *
 * Requests are owned by the caller (embedded in a connection); the model
 * links them into its queues and hands each back once through `done`.
 * Single-threaded.
 */
#ifndef LOADGEN_SERVE_SIM_H
#define LOADGEN_SERVE_SIM_H

#include <stddef.h>
#include <stdint.h>

enum sim_device { SIM_GPU, SIM_CPU };

/* One model on one device, from scenarios/profiles.json. */
struct sim_profile {
    int64_t base_us;          /* fixed cost of one batch (GPU) or request (CPU) */
    int64_t per_image_us;     /* added per image */
    double jitter;            /* service time is scaled by 1 + jitter * U(-1, 1) */
    unsigned max_batch;       /* GPU: most images one batch takes (>= 1) */
    int64_t batch_window_us;  /* GPU: wait after a batch for the next one to fill */
    unsigned input_px;        /* the model's input height = width, pixels (its metadata) */
};

struct sim_config {
    enum sim_device device;
    unsigned replicas;        /* pods behind a round-robin Service, >= 1 */
    unsigned cores;           /* CPU: requests served at once per replica, >= 1 */
    struct sim_profile prof;
    int64_t fixed_us;         /* >= 0: every request takes exactly this, no queueing; -1: off */
    int64_t rtt_us;           /* added to every answer: network distance */
    double fail_rate;         /* fraction answered with the fail status at once */
    double reset_rate;        /* fraction whose connection is closed unanswered */
    double stall_rate;        /* fraction answered stall_us late */
    int64_t stall_us;
    int64_t freeze_at_us;     /* freeze starts this long after the first request */
    int64_t freeze_us;        /* 0: no freeze */
    uint64_t seed;            /* fault and jitter draws */
};

struct sim_req {
    struct sim_req *next;     /* queue or batch link, owned by the model */
    int64_t arrive_us;        /* when the request was complete */
    int64_t compute_us;       /* simulated compute time of its batch or service */
    unsigned images;          /* images it carries (>= 1 counts for scoring) */
    unsigned replica;         /* replica that serves it: from sim_assign */
    unsigned char skip;       /* answered without compute (errors, health, faults) */
    unsigned char stalled;    /* drawn to be answered late */
    unsigned char stream;     /* owned by an HTTP/2 stream (h2.c), not a connection */
};

enum sim_fate { SIM_SERVE, SIM_FAIL, SIM_RESET };

/* Interval counters, reset by sim_stats_take. */
struct sim_stats {
    uint64_t batches;         /* batches (GPU) or services (CPU) started */
    uint64_t batch_images;    /* images in them */
    unsigned batch_max;       /* largest batch, images */
    unsigned queued;          /* now: requests waiting for a device or core */
    unsigned in_service;      /* now: requests being computed */
    unsigned held;            /* now: answers waiting on rtt, stall or freeze */
};

typedef void (*sim_done_fn)(struct sim_req *r, void *arg);

struct sim;

/* 0 or -ENOMEM. `done` is called once per submitted request, possibly from
 * inside sim_submit when nothing delays the answer. */
int sim_create(struct sim **out, const struct sim_config *cfg, sim_done_fn done, void *arg);
void sim_destroy(struct sim *s);

/* The replica for a new connection, round-robin. A Kubernetes Service
 * balances connections, not requests (kube-proxy picks a pod when the TCP
 * connection opens), so a keep-alive client stays with its pod; store the
 * result in the connection's sim_req.replica. */
unsigned sim_assign(struct sim *s);
/* Draws reset, fail and stall for a request that just arrived (in arrival
 * order, so a seed reproduces a run); sets r->stalled. */
enum sim_fate sim_fate(struct sim *s, struct sim_req *r);
/* Hands a complete request to the model at now_us. Set r->images (>= 1) and
 * r->skip first; 0 or -ENOMEM. */
int sim_submit(struct sim *s, struct sim_req *r, int64_t now_us);
/* Runs every event due at or before now_us. 0 or -ENOMEM. */
int sim_advance(struct sim *s, int64_t now_us);
/* Due time of the next event, or INT64_MAX when idle. */
int64_t sim_next_due(const struct sim *s);
void sim_stats_take(struct sim *s, struct sim_stats *out);

#endif
