/*
 * tfd.c: absolute-time alarm on a timerfd (see tfd.h). Loop thread only.
 */
#include "serve/tfd.h"

#include <errno.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void tfd_readable(uv_poll_t *h, int status, int events)
{
    struct tfd *t = h->data;
    uint64_t expirations;
    /* Drain the count so the fd stops polling readable; EAGAIN when a
     * re-arm raced the wake-up is harmless. */
    if (read(t->fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return;
    t->armed_us = INT64_MAX;
    t->fire(t);
}

int tfd_init(uv_loop_t *loop, struct tfd *t, tfd_fire_fn fire)
{
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->fd < 0)
        return -errno;
    t->armed_us = INT64_MAX;
    t->fire = fire;
    int rc = uv_poll_init(loop, &t->poll, t->fd);
    if (rc == 0)
        rc = uv_poll_start(&t->poll, UV_READABLE, tfd_readable);
    if (rc) {
        close(t->fd);
        t->fd = -1;
        return rc;
    }
    t->poll.data = t;
    return 0;
}

int tfd_arm(struct tfd *t, int64_t due_us)
{
    if (due_us >= t->armed_us)
        return 0;
    /* A zero it_value disarms, so a due time of 0 becomes 1 ns. */
    struct itimerspec its = {0};
    its.it_value.tv_sec = due_us / 1000000;
    its.it_value.tv_nsec = due_us % 1000000 * 1000;
    if (due_us <= 0) {
        its.it_value.tv_sec = 0;
        its.it_value.tv_nsec = 1;
    }
    if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        return -errno;
    t->armed_us = due_us;
    return 0;
}

void tfd_close(struct tfd *t, uv_close_cb cb)
{
    uv_close((uv_handle_t *)&t->poll, cb);
    close(t->fd);
    t->fd = -1;
}
