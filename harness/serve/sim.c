/*
 * sim.c: the queueing model of `loadgen serve` (see sim.h). Owned by serve's
 * loop thread; pure: time comes in as arguments, nothing here reads a clock
 * or does I/O, so test_serve_sim.c runs whole studies in virtual time.
 *
 * Everything that happens later is an event in one binary min-heap ordered by
 * (due time, sequence number): equal times fire in the order they were
 * scheduled, which keeps runs with the same seed identical.
 */
#include "serve/sim.h"

#include <errno.h>
#include <stdlib.h>

enum ev_type {
    EV_ARRIVE,      /* a request held by the freeze enters the model */
    EV_BATCH_DONE,  /* a GPU replica finished its batch */
    EV_WINDOW_END,  /* a GPU replica stops waiting for its batch to fill */
    EV_CORE_DONE,   /* a CPU core finished one request */
    EV_RESPOND,     /* an answer held by rtt, stall or freeze goes out */
};

struct ev {
    int64_t due_us;
    uint64_t seq;
    struct sim_req *req;   /* EV_ARRIVE, EV_CORE_DONE, EV_RESPOND */
    unsigned replica;      /* EV_BATCH_DONE, EV_WINDOW_END */
    unsigned gen;          /* EV_WINDOW_END: stale unless it matches the replica's */
    enum ev_type type;
};

struct replica {
    struct sim_req *head, *tail; /* requests waiting, FIFO */
    unsigned queued_images;      /* images in that queue */
    struct sim_req *batch;       /* GPU: the batch being computed */
    unsigned busy;               /* GPU: 0 or 1; CPU: cores in use */
    unsigned window_want;        /* GPU: images that end the window early */
    unsigned window_gen;         /* bumped when a window is cut short */
    int window_open;             /* GPU: waiting for the batch to fill */
};

struct sim {
    struct sim_config cfg;
    sim_done_fn done;
    void *arg;
    struct replica *reps;
    unsigned rr;                 /* replica for the next connection */
    struct ev *heap;
    size_t heap_len, heap_cap;
    uint64_t seq;
    uint64_t rng;                /* splitmix64 state */
    int started;                 /* first request seen: freeze window fixed */
    int64_t freeze_from_us, freeze_until_us;
    struct sim_stats st;
};

static double draw(struct sim *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static int ev_before(const struct ev *a, const struct ev *b)
{
    return a->due_us < b->due_us || (a->due_us == b->due_us && a->seq < b->seq);
}

/* The freeze holds everything that would happen inside its window until the
 * window ends: arrivals, batch completions and answers alike. */
static int64_t hold(const struct sim *s, int64_t t)
{
    if (s->started && s->cfg.freeze_us > 0 && t >= s->freeze_from_us && t < s->freeze_until_us)
        return s->freeze_until_us;
    return t;
}

static int push(struct sim *s, enum ev_type type, int64_t due_us, struct sim_req *r,
                unsigned replica, unsigned gen)
{
    if (s->heap_len == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : 256;
        struct ev *h = realloc(s->heap, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        s->heap = h;
        s->heap_cap = cap;
    }
    struct ev e = {hold(s, due_us), s->seq++, r, replica, gen, type};
    size_t i = s->heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!ev_before(&e, &s->heap[parent]))
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = e;
    return 0;
}

static struct ev pop(struct sim *s)
{
    struct ev top = s->heap[0];
    struct ev last = s->heap[--s->heap_len];
    size_t i = 0, n = s->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && ev_before(&s->heap[c + 1], &s->heap[c]))
            c++;
        if (!ev_before(&s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n > 0)
        s->heap[i] = last;
    return top;
}

static int64_t service_us(struct sim *s, unsigned images)
{
    const struct sim_profile *p = &s->cfg.prof;
    double us = (double)(p->base_us + p->per_image_us * (int64_t)images);
    if (p->jitter > 0)
        us *= 1.0 + p->jitter * (2.0 * draw(s) - 1.0);
    return us < 0 ? 0 : (int64_t)(us + 0.5);
}

/* The answer, ready at ready_us, leaves after the network distance and any
 * stall; at once when that is now. */
static int respond(struct sim *s, struct sim_req *r, int64_t ready_us, int64_t now_us)
{
    int64_t t = ready_us + s->cfg.rtt_us + (r->stalled ? s->cfg.stall_us : 0);
    if (hold(s, t) <= now_us) {
        s->done(r, s->arg);
        return 0;
    }
    s->st.held++;
    return push(s, EV_RESPOND, t, r, 0, 0);
}

static int start_batch(struct sim *s, unsigned ri, int64_t now_us)
{
    struct replica *rep = &s->reps[ri];
    unsigned images = 0, n = 0;
    struct sim_req **tail = &rep->batch;
    /* Always at least one request, even one larger than max_batch. */
    while (rep->head && (images == 0 || images + rep->head->images <= s->cfg.prof.max_batch)) {
        struct sim_req *r = rep->head;
        rep->head = r->next;
        images += r->images;
        n++;
        r->next = NULL;
        *tail = r;
        tail = &r->next;
    }
    if (!rep->head)
        rep->tail = NULL;
    rep->queued_images -= images;
    int64_t dur = service_us(s, images);
    for (struct sim_req *r = rep->batch; r; r = r->next)
        r->compute_us = dur;
    rep->busy = 1;
    s->st.queued -= n;
    s->st.in_service += n;
    s->st.batches++;
    s->st.batch_images += images;
    if (images > s->st.batch_max)
        s->st.batch_max = images;
    return push(s, EV_BATCH_DONE, now_us + dur, NULL, ri, 0);
}

static int start_cores(struct sim *s, unsigned ri, int64_t now_us)
{
    struct replica *rep = &s->reps[ri];
    while (rep->busy < s->cfg.cores && rep->head) {
        struct sim_req *r = rep->head;
        rep->head = r->next;
        if (!rep->head)
            rep->tail = NULL;
        rep->queued_images -= r->images;
        r->next = NULL;
        r->compute_us = service_us(s, r->images);
        rep->busy++;
        s->st.queued--;
        s->st.in_service++;
        s->st.batches++;
        s->st.batch_images += r->images;
        if (r->images > s->st.batch_max)
            s->st.batch_max = r->images;
        int rc = push(s, EV_CORE_DONE, now_us + r->compute_us, r, ri, 0);
        if (rc)
            return rc;
    }
    return 0;
}

/* A GPU that is idle starts at once; one that just finished waits out its
 * batch window (see batch_done) unless window_want images already wait. */
static int kick(struct sim *s, unsigned ri, int64_t now_us)
{
    struct replica *rep = &s->reps[ri];
    if (s->cfg.device == SIM_CPU)
        return start_cores(s, ri, now_us);
    if (rep->busy || !rep->head)
        return 0;
    if (rep->window_open) {
        if (rep->queued_images < rep->window_want)
            return 0;
        rep->window_open = 0;
        rep->window_gen++;
    }
    return start_batch(s, ri, now_us);
}

static int enter(struct sim *s, struct sim_req *r, int64_t now_us)
{
    if (r->skip)
        return respond(s, r, now_us, now_us);
    if (s->cfg.fixed_us >= 0) {
        r->compute_us = s->cfg.fixed_us;
        return respond(s, r, now_us + s->cfg.fixed_us, now_us);
    }
    unsigned ri = r->replica % s->cfg.replicas;
    struct replica *rep = &s->reps[ri];
    r->next = NULL;
    if (rep->tail)
        rep->tail->next = r;
    else
        rep->head = r;
    rep->tail = r;
    rep->queued_images += r->images;
    s->st.queued++;
    return kick(s, ri, now_us);
}

/* Why wait after a batch: the clients it answered come straight back, and a
 * device that started on the first of them alone would split them into a
 * batch of one and a batch of the rest, for ever. A dynamic batcher's queue
 * delay (TF Serving's batch_timeout, Triton's max_queue_delay) prevents it;
 * ending the wait as soon as they are all back keeps it from costing
 * latency (one client sees exactly base + per_image). */
static int batch_done(struct sim *s, unsigned ri, int64_t now_us)
{
    struct replica *rep = &s->reps[ri];
    struct sim_req *r = rep->batch;
    rep->batch = NULL;
    rep->busy = 0;
    unsigned answered = 0;
    while (r) {
        answered += r->images;
        struct sim_req *next = r->next;
        s->st.in_service--;
        int rc = respond(s, r, now_us, now_us);
        if (rc)
            return rc;
        r = next;
    }
    if (s->cfg.prof.batch_window_us <= 0)
        return kick(s, ri, now_us);
    /* Everyone it just answered plus everyone already waiting: starting
     * before the first group is back would split the clients into two
     * groups that alternate for ever, each batch half as full. */
    rep->window_want = answered + rep->queued_images;
    if (rep->window_want > s->cfg.prof.max_batch)
        rep->window_want = s->cfg.prof.max_batch;
    rep->window_open = 1;
    int rc = kick(s, ri, now_us);
    if (rc || !rep->window_open)
        return rc;
    return push(s, EV_WINDOW_END, now_us + s->cfg.prof.batch_window_us, NULL, ri, rep->window_gen);
}

static int fire(struct sim *s, const struct ev *e, int64_t now_us)
{
    struct replica *rep;
    switch (e->type) {
    case EV_ARRIVE:
        s->st.held--;
        return enter(s, e->req, now_us);
    case EV_BATCH_DONE:
        return batch_done(s, e->replica, now_us);
    case EV_WINDOW_END:
        rep = &s->reps[e->replica];
        if (!rep->window_open || e->gen != rep->window_gen)
            return 0;
        rep->window_open = 0;
        return kick(s, e->replica, now_us);
    case EV_CORE_DONE: {
        s->reps[e->replica].busy--;
        s->st.in_service--;
        int rc = respond(s, e->req, now_us, now_us);
        return rc ? rc : kick(s, e->replica, now_us);
    }
    case EV_RESPOND:
        s->st.held--;
        s->done(e->req, s->arg);
        return 0;
    }
    return 0;
}

int sim_create(struct sim **out, const struct sim_config *cfg, sim_done_fn done, void *arg)
{
    struct sim *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    if (s->cfg.replicas == 0)
        s->cfg.replicas = 1;
    if (s->cfg.cores == 0)
        s->cfg.cores = 1;
    if (s->cfg.prof.max_batch == 0)
        s->cfg.prof.max_batch = 1;
    s->done = done;
    s->arg = arg;
    s->rng = cfg->seed;
    s->reps = calloc(s->cfg.replicas, sizeof *s->reps);
    if (!s->reps) {
        free(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

void sim_destroy(struct sim *s)
{
    if (!s)
        return;
    free(s->heap);
    free(s->reps);
    free(s);
}

unsigned sim_assign(struct sim *s)
{
    unsigned ri = s->rr;
    s->rr = (s->rr + 1) % s->cfg.replicas;
    return ri;
}

enum sim_fate sim_fate(struct sim *s, struct sim_req *r)
{
    r->stalled = 0;
    if (s->cfg.reset_rate > 0 && draw(s) < s->cfg.reset_rate)
        return SIM_RESET;
    if (s->cfg.stall_rate > 0 && draw(s) < s->cfg.stall_rate)
        r->stalled = 1;
    if (s->cfg.fail_rate > 0 && draw(s) < s->cfg.fail_rate)
        return SIM_FAIL;
    return SIM_SERVE;
}

int sim_submit(struct sim *s, struct sim_req *r, int64_t now_us)
{
    if (!s->started) {
        s->started = 1;
        s->freeze_from_us = now_us + s->cfg.freeze_at_us;
        s->freeze_until_us = s->freeze_from_us + s->cfg.freeze_us;
    }
    r->arrive_us = now_us;
    r->compute_us = 0;
    r->next = NULL;
    if (hold(s, now_us) > now_us) {
        s->st.held++;
        return push(s, EV_ARRIVE, now_us, r, 0, 0);
    }
    return enter(s, r, now_us);
}

int sim_advance(struct sim *s, int64_t now_us)
{
    while (s->heap_len > 0 && s->heap[0].due_us <= now_us) {
        struct ev e = pop(s);
        /* Events fire at their own due time, not at the (slightly later)
         * moment we woke, so late wake-ups do not accumulate. */
        int rc = fire(s, &e, e.due_us);
        if (rc)
            return rc;
    }
    return 0;
}

int64_t sim_next_due(const struct sim *s)
{
    return s->heap_len ? s->heap[0].due_us : INT64_MAX;
}

void sim_stats_take(struct sim *s, struct sim_stats *out)
{
    *out = s->st;
    s->st.batches = 0;
    s->st.batch_images = 0;
    s->st.batch_max = 0;
}
