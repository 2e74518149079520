/*
 * test_serve_sim.c: the queueing model of `loadgen serve`, in virtual time:
 * batch and core timing, replicas, the batch window, fixed latency, rtt,
 * stalls, the freeze, seeded faults, and the study's shape for every model
 * of scenarios/profiles.json with 50 closed-loop clients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "serve/profile.h"
#include "serve/sim.h"

#define MAXREQ 64

/* What the model handed back: which request, and when. */
struct log {
    int64_t now_us;              /* the virtual clock, set by the driver */
    struct sim_req *order[256];
    int64_t at[256];
    int n;
};

static void logged(struct sim_req *r, void *arg)
{
    struct log *l = arg;
    l->order[l->n] = r;
    l->at[l->n++] = l->now_us;
}

/* Advances event by event, so each completion is stamped with its time. */
static void run_until(struct sim *s, struct log *l, int64_t until_us)
{
    while (sim_next_due(s) <= until_us) {
        l->now_us = sim_next_due(s);
        assert_int_equal(sim_advance(s, l->now_us), 0);
    }
    l->now_us = until_us;
}

static struct sim_config gpu(int64_t base, int64_t per, unsigned max_batch, int64_t window)
{
    return (struct sim_config){
        .device = SIM_GPU,
        .replicas = 1,
        .cores = 1,
        .prof = {.base_us = base, .per_image_us = per, .max_batch = max_batch, .batch_window_us = window},
        .fixed_us = -1,
        .seed = 1,
    };
}

static void submit(struct sim *s, struct log *l, struct sim_req *r, unsigned images, int64_t at)
{
    run_until(s, l, at);
    r->images = images;
    r->skip = 0;
    assert_int_equal(sim_submit(s, r, at), 0);
}

static void one_client_on_a_gpu_waits_exactly_base_plus_per_image(void **state)
{
    struct sim_config c = gpu(20000, 1000, 32, 5000);
    struct log l = {0};
    struct sim *s;
    struct sim_req r[3] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    /* Each request arrives 300 us after the previous answer: the batch
     * window ends as soon as the one answered client is back. */
    submit(s, &l, &r[0], 1, 1000);
    run_until(s, &l, 22000);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.at[0], 1000 + 21000);
    submit(s, &l, &r[0], 1, 22300);
    run_until(s, &l, 200000);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.at[1], 22300 + 21000);
    assert_int_equal(r[0].compute_us, 21000);
    sim_destroy(s);
}

static void requests_waiting_for_a_busy_gpu_run_as_one_batch(void **state)
{
    struct sim_config c = gpu(10000, 1000, 32, 0);
    struct log l = {0};
    struct sim *s;
    struct sim_req r[4] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    submit(s, &l, &r[0], 1, 0);
    submit(s, &l, &r[1], 1, 100);
    submit(s, &l, &r[2], 2, 200); /* a request carrying 2 images counts 2 */
    submit(s, &l, &r[3], 1, 300);
    run_until(s, &l, 1000000);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.at[0], 11000);
    /* The three waiting (4 images) finish together after 10 + 4 x 1 ms. */
    for (int i = 1; i < 4; i++)
        assert_int_equal(l.at[i], 11000 + 14000);
    assert_ptr_equal(l.order[1], &r[1]);
    assert_ptr_equal(l.order[3], &r[3]);
    struct sim_stats st;
    sim_stats_take(s, &st);
    assert_int_equal(st.batches, 2);
    assert_int_equal(st.batch_images, 5);
    assert_int_equal(st.batch_max, 4);
    sim_destroy(s);
}

static void max_batch_caps_the_images_in_one_batch(void **state)
{
    struct sim_config c = gpu(10000, 1000, 2, 0);
    struct log l = {0};
    struct sim *s;
    struct sim_req r[4] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    for (int i = 0; i < 4; i++)
        submit(s, &l, &r[i], 1, i);
    run_until(s, &l, 1000000);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.at[0], 11000);          /* alone */
    assert_int_equal(l.at[1], 11000 + 12000);  /* r1, r2 */
    assert_int_equal(l.at[2], 11000 + 12000);
    assert_int_equal(l.at[3], 23000 + 11000);  /* r3 */
    sim_destroy(s);
}

static void batch_window_gathers_the_answered_clients_then_times_out(void **state)
{
    struct sim_config c = gpu(10000, 1000, 32, 5000);
    struct log l = {0};
    struct sim *s;
    struct sim_req r[3] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    submit(s, &l, &r[0], 1, 0);        /* an idle device starts at once */
    submit(s, &l, &r[1], 1, 10);       /* waits */
    run_until(s, &l, 11000);
    assert_int_equal(l.n, 1);
    /* r0 answered, r1 waiting: the window wants both before it starts, so
     * the two clients run as one batch from now on, not as two. */
    submit(s, &l, &r[0], 1, 11500);
    run_until(s, &l, 23500);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.at[1], 11500 + 12000);
    assert_int_equal(l.at[2], 11500 + 12000);
    /* Nobody comes back: the window expires and the device idles; a late
     * client starts a batch at once. */
    submit(s, &l, &r[2], 1, 200000);
    run_until(s, &l, 300000);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.at[3], 211000);
    sim_destroy(s);
}

static void cpu_replica_serves_one_request_per_core(void **state)
{
    struct sim_config c = {.device = SIM_CPU, .replicas = 1, .cores = 2, .fixed_us = -1,
                           .prof = {.per_image_us = 50000, .max_batch = 1}};
    struct log l = {0};
    struct sim *s;
    struct sim_req r[3] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    for (int i = 0; i < 3; i++)
        submit(s, &l, &r[i], 1, 0);
    run_until(s, &l, 1000000);
    assert_int_equal(l.at[0], 50000);
    assert_int_equal(l.at[1], 50000);
    assert_int_equal(l.at[2], 100000); /* waited for a core */
    sim_destroy(s);
}

static void connections_are_spread_round_robin_over_replicas(void **state)
{
    struct sim_config c = {.device = SIM_CPU, .replicas = 3, .cores = 1, .fixed_us = -1,
                           .prof = {.per_image_us = 50000, .max_batch = 1}};
    struct log l = {0};
    struct sim *s;
    struct sim_req r[4] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    for (int i = 0; i < 4; i++)
        r[i].replica = sim_assign(s);
    assert_int_equal(r[0].replica, 0);
    assert_int_equal(r[2].replica, 2);
    assert_int_equal(r[3].replica, 0);
    for (int i = 0; i < 4; i++)
        submit(s, &l, &r[i], 1, 0);
    run_until(s, &l, 1000000);
    assert_int_equal(l.at[2], 50000);
    assert_int_equal(l.at[3], 100000); /* shares replica 0 with r0 */
    sim_destroy(s);
}

static void jitter_spreads_service_times_around_the_mean(void **state)
{
    struct sim_config c = {.device = SIM_CPU, .replicas = 1, .cores = 64, .fixed_us = -1, .seed = 7,
                           .prof = {.per_image_us = 100000, .jitter = 0.25, .max_batch = 1}};
    struct log l = {0};
    struct sim *s;
    struct sim_req r[MAXREQ] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    double sum = 0;
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < MAXREQ; i++) {
        submit(s, &l, &r[i], 1, 0);
        sum += (double)r[i].compute_us;
        lo = r[i].compute_us < lo ? r[i].compute_us : lo;
        hi = r[i].compute_us > hi ? r[i].compute_us : hi;
    }
    assert_true(lo >= 75000 && hi <= 125000);
    assert_true(hi - lo > 25000);
    assert_true(sum / MAXREQ > 90000 && sum / MAXREQ < 110000);
    sim_destroy(s);
}

static void fixed_latency_is_exact_whatever_the_load(void **state)
{
    struct sim_config c = gpu(0, 0, 1, 0);
    c.fixed_us = 20000;
    struct log l = {0};
    struct sim *s;
    struct sim_req r[MAXREQ] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    for (int i = 0; i < MAXREQ; i++)
        submit(s, &l, &r[i], 1, 1000 + i * 37);
    run_until(s, &l, 1000000);
    assert_int_equal(l.n, MAXREQ);
    for (int i = 0; i < MAXREQ; i++)
        assert_int_equal(l.at[i] - l.order[i]->arrive_us, 20000);
    sim_destroy(s);
}

static void zero_cost_and_skipped_requests_are_answered_inside_submit(void **state)
{
    struct sim_config c = gpu(0, 0, 1, 0);
    c.fixed_us = 0;
    struct log l = {0};
    struct sim *s;
    struct sim_req r = {0}, h = {.skip = 1};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    r.images = 1;
    assert_int_equal(sim_submit(s, &r, 5), 0);
    assert_int_equal(sim_submit(s, &h, 6), 0);
    assert_int_equal(l.n, 2);
    assert_true(sim_next_due(s) == INT64_MAX);
    sim_destroy(s);
}

static void rtt_and_stall_delay_the_answer_not_the_compute(void **state)
{
    struct sim_config c = gpu(10000, 0, 8, 0);
    c.rtt_us = 80000;
    c.stall_rate = 1;
    c.stall_us = 1000000;
    struct log l = {0};
    struct sim *s;
    struct sim_req r[2] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    assert_int_equal(sim_fate(s, &r[0]), SIM_SERVE);
    assert_int_equal(r[0].stalled, 1);
    submit(s, &l, &r[0], 1, 0);
    r[1].skip = 1; /* an error answer pays the distance too */
    assert_int_equal(sim_submit(s, &r[1], 0), 0);
    run_until(s, &l, 5000000);
    assert_int_equal(l.n, 2);
    assert_ptr_equal(l.order[0], &r[1]);
    assert_int_equal(l.at[0], 80000);
    assert_int_equal(l.at[1], 10000 + 80000 + 1000000);
    assert_int_equal(r[0].compute_us, 10000);
    sim_destroy(s);
}

static void freeze_holds_everything_inside_the_window_until_it_ends(void **state)
{
    struct sim_config c = gpu(0, 0, 1, 0);
    c.fixed_us = 20000;
    c.freeze_at_us = 4000000;
    c.freeze_us = 1000000;
    struct log l = {0};
    struct sim *s;
    struct sim_req r[4] = {{0}};
    assert_int_equal(sim_create(&s, &c, logged, &l), 0);
    submit(s, &l, &r[0], 1, 100);          /* first request: freeze is 4.0001 s to 5.0001 s */
    submit(s, &l, &r[1], 1, 3990000);      /* due 4.010 s, inside: held */
    submit(s, &l, &r[2], 1, 4500000);      /* arrives inside: held, then 20 ms */
    submit(s, &l, &r[3], 1, 5000100);      /* after it: untouched */
    run_until(s, &l, 10000000);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.at[0], 20100);
    assert_int_equal(l.at[1], 5000100);
    assert_ptr_equal(l.order[2], &r[2]);
    assert_int_equal(l.at[2], 5000100 + 20000);
    assert_int_equal(l.at[3], 5000100 + 20000);
    sim_destroy(s);
}

static void fault_draws_follow_the_rates_and_the_seed(void **state)
{
    struct sim_config c = gpu(0, 0, 1, 0);
    struct sim *s, *t;
    struct sim_req r = {0};
    c.reset_rate = 1;
    assert_int_equal(sim_create(&s, &c, logged, NULL), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sim_fate(s, &r), SIM_RESET);
    sim_destroy(s);
    c.reset_rate = 0;
    c.fail_rate = 1;
    assert_int_equal(sim_create(&s, &c, logged, NULL), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sim_fate(s, &r), SIM_FAIL);
    sim_destroy(s);
    c.fail_rate = 0.3;
    c.seed = 42;
    assert_int_equal(sim_create(&s, &c, logged, NULL), 0);
    assert_int_equal(sim_create(&t, &c, logged, NULL), 0);
    int fails = 0;
    for (int i = 0; i < 10000; i++) {
        enum sim_fate a = sim_fate(s, &r);
        assert_int_equal(a, sim_fate(t, &r)); /* same seed, same draws */
        fails += a == SIM_FAIL;
    }
    assert_in_range(fails, 2800, 3200);
    sim_destroy(s);
    sim_destroy(t);
}

/* --- The study's shape: 50 closed-loop clients, each sending its next
 * request 2 ms after its answer (loopback turnaround), one connection per
 * client, as loadgen --threads 50 does. Returns requests per second over
 * 60 s of virtual time after 5 s of warm-up. */
#define CLIENTS 50
#define TURNAROUND_US 2000

struct closed_loop {
    struct sim_req req[CLIENTS];
    int64_t next_us[CLIENTS];    /* when each client sends again; -1 waiting */
    int64_t now_us;
    long counted;
};

static void client_answered(struct sim_req *r, void *arg)
{
    struct closed_loop *cl = arg;
    cl->next_us[r - cl->req] = cl->now_us + TURNAROUND_US;
    if (cl->now_us >= 5000000)
        cl->counted++;
}

static double throughput(const struct sim_config *c)
{
    static struct closed_loop cl;
    memset(&cl, 0, sizeof cl);
    struct sim *s;
    assert_int_equal(sim_create(&s, c, client_answered, &cl), 0);
    for (int i = 0; i < CLIENTS; i++) {
        cl.next_us[i] = i * 100;
        cl.req[i].replica = sim_assign(s);
        cl.req[i].images = 1;
    }
    while (cl.now_us < 65000000) {
        int who = -1;
        for (int i = 0; i < CLIENTS; i++)
            if (cl.next_us[i] >= 0 && (who < 0 || cl.next_us[i] < cl.next_us[who]))
                who = i;
        if (who >= 0 && cl.next_us[who] <= sim_next_due(s)) {
            cl.now_us = cl.next_us[who];
            cl.next_us[who] = -1;
            assert_int_equal(sim_submit(s, &cl.req[who], cl.now_us), 0);
        } else {
            cl.now_us = sim_next_due(s);
            assert_int_equal(sim_advance(s, cl.now_us), 0);
        }
    }
    sim_destroy(s);
    return (double)cl.counted / 60.0;
}

static double deployment(const char *path, const char *model, enum sim_device dev, unsigned replicas)
{
    char err[512] = "";
    struct sim_config c = {.device = dev, .replicas = replicas, .cores = 1, .fixed_us = -1, .seed = 1};
    if (profile_load(path, model, dev, &c.prof, err))
        fail_msg("%s", err);
    return throughput(&c);
}

static void study_shape_holds_at_50_threads_for_every_model(void **state)
{
    static const struct {
        const char *model;
        double g1_lo, g1_hi, g3_lo, g3_hi; /* gpu-n / cpu-35 throughput */
    } study[] = {
        /* MobileNetV2: the study's 392% and 804% better. */
        {"mobilenet_v2", 4.80, 5.05, 8.80, 9.30},
        /* The others: at least 186% and 415% better. */
        {"nasnet_mobile", 2.86, 4.50, 5.15, 8.00},
        {"resnet50", 2.86, 4.50, 5.15, 8.00},
        {"resnet152", 2.86, 4.50, 5.15, 8.00},
        {"nasnet_large", 2.86, 4.50, 5.15, 8.00},
    };
    char path[4096], err[512];
    if (profile_find(path, sizeof path, err))
        fail_msg("%s (run from the repository root)", err);
    for (size_t i = 0; i < sizeof study / sizeof study[0]; i++) {
        double cpu = deployment(path, study[i].model, SIM_CPU, 35);
        double g1 = deployment(path, study[i].model, SIM_GPU, 1);
        double g2 = deployment(path, study[i].model, SIM_GPU, 2);
        double g3 = deployment(path, study[i].model, SIM_GPU, 3);
        print_message("%-13s cpu-35 %5.0f  gpu-1 %5.0f (%.2fx)  gpu-2 %5.0f  gpu-3 %5.0f (%.2fx) req/s\n",
                      study[i].model, cpu, g1, g1 / cpu, g2, g3, g3 / cpu);
        assert_true(g1 / cpu >= study[i].g1_lo && g1 / cpu <= study[i].g1_hi);
        assert_true(g3 / cpu >= study[i].g3_lo && g3 / cpu <= study[i].g3_hi);
        /* Almost linear in GPU nodes, less than 100% per node added. */
        assert_true(g2 / g1 > 1.4 && g2 / g1 < 2.0);
        assert_true(g3 / g2 > 1.1 && g3 / g1 < 3.0);
    }
    /* The integration test's replica check: resnet50 1 -> 2 GPUs. */
    double r1 = deployment(path, "resnet50", SIM_GPU, 1), r2 = deployment(path, "resnet50", SIM_GPU, 2);
    assert_true(r2 / r1 >= 1.6 && r2 / r1 <= 2.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_client_on_a_gpu_waits_exactly_base_plus_per_image),
        cmocka_unit_test(requests_waiting_for_a_busy_gpu_run_as_one_batch),
        cmocka_unit_test(max_batch_caps_the_images_in_one_batch),
        cmocka_unit_test(batch_window_gathers_the_answered_clients_then_times_out),
        cmocka_unit_test(cpu_replica_serves_one_request_per_core),
        cmocka_unit_test(connections_are_spread_round_robin_over_replicas),
        cmocka_unit_test(jitter_spreads_service_times_around_the_mean),
        cmocka_unit_test(fixed_latency_is_exact_whatever_the_load),
        cmocka_unit_test(zero_cost_and_skipped_requests_are_answered_inside_submit),
        cmocka_unit_test(rtt_and_stall_delay_the_answer_not_the_compute),
        cmocka_unit_test(freeze_holds_everything_inside_the_window_until_it_ends),
        cmocka_unit_test(fault_draws_follow_the_rates_and_the_seed),
        cmocka_unit_test(study_shape_holds_at_50_threads_for_every_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
