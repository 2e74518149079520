/*
 * tfd.h: a one-shot alarm at an absolute CLOCK_MONOTONIC time in
 * microseconds, for the simulated completion queue. libuv's timers round to
 * milliseconds; a timerfd armed with TFD_TIMER_ABSTIME and polled with
 * uv_poll fires within microseconds of the due time, so a fixed 20 ms
 * service time is 20 ms, not 20-21 ms. Owned by serve's loop thread.
 */
#ifndef LOADGEN_SERVE_TFD_H
#define LOADGEN_SERVE_TFD_H

#include <stdint.h>
#include <uv.h>

struct tfd;
typedef void (*tfd_fire_fn)(struct tfd *t);

struct tfd {
    uv_poll_t poll;       /* watches fd; its close callback ends the tfd */
    int fd;               /* the timerfd, -1 once closed */
    int64_t armed_us;     /* due time armed, INT64_MAX when disarmed */
    tfd_fire_fn fire;
    void *data;           /* for the owner */
};

/* 0 or a negative errno / libuv code. */
int tfd_init(uv_loop_t *loop, struct tfd *t, tfd_fire_fn fire);
/* Makes sure the alarm fires no later than due_us (lg_now_us clock). No
 * system call when it is already armed for that time or earlier: an early
 * wake-up is harmless, the owner re-arms for its next due time on fire. */
int tfd_arm(struct tfd *t, int64_t due_us);
/* Closes the poll handle and the fd; `cb` runs once the handle is closed. */
void tfd_close(struct tfd *t, uv_close_cb cb);

#endif
