/*
 * engine.c: libuv event loops driving request slots over one of three
 * transports: the native HTTP/1.1 client (h1.c), the native HTTP/2 client
 * (h2.c, h2c with prior knowledge: --streams slots share a connection), or
 * libcurl's multi_socket interface. The loops, phases, pacer, slots,
 * checks and stats are the same for all; request_start hands a slot's
 * request to its transport, and request_finish records it whichever
 * transport completed it. The rest of this comment is about the libcurl
 * transport.
 *
 * Ownership: an engine owns its loops; a loop owns its uv_loop_t, its CURLM,
 * its slots (one reusable easy handle each), its socket contexts and its
 * stats. Payload bodies and header lists are shared read-only: libcurl is
 * pointed at them (CURLOPT_POSTFIELDS + size), nothing is copied per request.
 *
 * Threading: engine_run starts one pthread per loop and joins them. During a
 * phase the threads share only `next_index` (the atomic that hands out
 * request indices) and their own progress counters, which the caller reads.
 * Nothing on the per-request path allocates (beyond libcurl's own), locks
 * or formats text.
 *
 * Sockets: curl opens and closes every socket through our callbacks, so a
 * connection gets one uv_poll_t for its whole life: started and stopped as
 * curl asks (CURLMOPT_SOCKETFUNCTION), closed when curl closes the socket
 * (CURLOPT_CLOSESOCKETFUNCTION). That saves a handle init and an epoll
 * registration per request on keep-alive connections.
 *
 * Shards: a loop splits its slots over several multi handles of at most
 * SHARD_SLOTS easy handles each. libcurl 7.88 walks every connection of a
 * multi's cache twice per request (ConnectionExists looking for an idle one,
 * and curl_multi_remove_handle's close_connect_only pass), so one multi for
 * 1000 connections costs O(1000) per request. Each shard has its own
 * connection cache and timer; sockets remember their shard.
 */
#include "engine.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#include "check.h"
#include "common.h"
#include "grpc.h"
#include "h1.h"
#include "h2.h"
#include "reply.h"

/* A send that starts this much after its intended time counts as late. */
#define LATE_US 1000
/* Reply bytes kept per slot for --expect-json / --server-time-json, to
 * start with. A longer reply grows its slot's buffer up to --max-reply, and
 * the buffer shrinks back when the request ends. */
#define KEEP_REPLY_INITIAL (64u << 10)
/* What the grown buffers of all slots may hold at once (split over the
 * loops, but never less than one --max-reply per loop): 20 endless replies
 * must not each take --max-reply. A reply that would pass it is cut off and
 * counted invalid, as one longer than --max-reply is. */
#define KEEP_REPLY_BUDGET ((size_t)256 << 20)
/* --follow: redirects followed per request, as curl's default MAXREDIRS. */
#define MAX_REDIRECTS 10
/* Open loop: a send still waiting for a free slot this long after the end
 * of -d is not made, so the run ends within --timeout of -d. */
#define END_SEND_SLACK_US 100000
/* Easy handles per multi handle (see "Shards" above). */
#define SHARD_SLOTS 32
/* libcurl sends a body this large apart from the headers, through its upload
 * buffer (64 KiB by default: one send per 64 KiB); the buffer is capped at
 * 2 MiB. */
#define CURL_INLINE_BODY_MAX (64u << 10)
#define CURL_UPLOAD_BUFFER_MAX (2u << 20)

struct loop;

struct shard {
    struct loop *loop;
    CURLM *multi;
    uv_timer_t timer;        /* curl's timeout for this multi */
    int kick;                /* curl asked for a timeout of 0 */
};

struct sockctx {
    uv_poll_t poll;          /* poll.data = this */
    struct loop *loop;
    struct shard *shard;     /* the multi whose connection this is */
    curl_socket_t fd;
    int opened_by_us;        /* 0: a socket curl made itself (resolver) */
    int events;              /* UV_READABLE|UV_WRITABLE being watched, 0 stopped */
    int stop_pending;        /* curl said REMOVE; stop at the end of this tick */
    struct sockctx *next_pending;
};

struct slot {
    struct loop *loop;
    struct shard *shard;
    CURL *easy;              /* the curl transport's, or NULL */
    char *errbuf;            /* curl: CURL_ERROR_SIZE bytes, what failed in words */
    struct h1_conn h1;       /* the native HTTP/1.1 transport's */
    struct h2_stream h2;     /* the native HTTP/2 transport's */
    int busy;
    uint64_t index;          /* request index: payload index mod count */
    uint64_t count;          /* requests completed in this phase */
    const struct payload *payload;
    int64_t intended_us;     /* monotonic; == start_us in closed loop */
    int64_t start_us;
    int64_t hop_start_us;    /* --follow: when the current hop started */
    int64_t first_header_us; /* curl: monotonic time of this hop's first reply header line, 0 if none */
    unsigned hops;           /* --follow: redirects taken by this request */
    int redirected;          /* URL, headers or timeout changed for a hop */
    uint64_t sent_bytes, recv_bytes; /* over the hops before the current one */
    uint64_t body_bytes;     /* reply body bytes seen (this hop) */
    int too_big;             /* body passed max_reply_bytes or the budget */
    int fd_errno;            /* curl: socket() failed for want of descriptors */
    int saw_header;          /* --expect-header seen */
    double server_ms;        /* --server-time-header value, NAN if none */
    int bad_framing;         /* the reply's length is ambiguous */
    struct reply_grpc grpc;  /* gRPC: grpc-status/-message from headers or trailers */
    char *reply;             /* the body, when checks need it */
    size_t reply_len, reply_cap;
};

struct loop {
    struct engine *e;
    pthread_t thread;
    unsigned id;
    uv_loop_t uv;
    struct shard *shards;
    unsigned nshards;
    uv_timer_t grace_timer;  /* after a stop: give up on in-flight replies */
    uv_async_t wake;         /* the caller's thread asks us to stop */
    uv_poll_t pacer_poll;    /* on pacer_fd */
    int pacer_fd;            /* timerfd: intended send times to the microsecond */
    struct slot *slots;
    unsigned nslots;
    unsigned *free_slots;    /* stack of idle slot numbers (open loop) */
    unsigned nfree;
    struct sockctx **fdmap;  /* socket fd -> context */
    size_t fdcap;
    struct sockctx *pending; /* contexts with stop_pending set */
    struct stats *stats;
    size_t reply_grown;      /* bytes of reply buffers past KEEP_REPLY_INITIAL */
    size_t reply_budget;     /* the most reply_grown may reach */
    struct h1_loop *h1;      /* native transport: the loop's read buffer and parser settings */
    struct h2_loop *h2;      /* native HTTP/2: the loop's connections and read buffer */

    /* Phase state. */
    const struct engine_phase *ph;
    unsigned concurrency;    /* this loop's share */
    double rate;             /* this loop's share; 0 = closed loop */
    struct pacer pacer;
    int64_t pacer_offset_us; /* staggers loops so their sends interleave */
    int64_t next_intended;   /* monotonic us of the next open-loop send */
    unsigned inflight;
    int exhausted;           /* no more requests to send */
    int stopping;            /* a signal: abort after the grace period */
    int kick;                /* some shard was kicked */
    int uv_ready, pacer_ready;  /* what loop_init got to, for teardown */
    int in_run;              /* inside uv_run: uv_stop is safe */

    _Atomic uint64_t done, errors; /* progress, read by the caller */
    _Atomic uint64_t p99_us;       /* likewise: latency p99 so far, at p99_at */
    int64_t p99_at;
};

/* Where a URL points: scheme, host and port (RFC 6454). */
struct origin {
    int https;
    const char *host;        /* into the URL: not NUL-terminated */
    size_t hostlen;
    long port;
};

struct engine {
    struct engine_config cfg;
    struct curl_slist **lists; /* per payload (shared when identical) */
    struct curl_slist **bare;  /* the same without the user's headers: for
                                * redirects to another origin */
    CURLU *url;                /* parsed once; curl copies it per request */
    char *origin_url;          /* the URL as curl writes it (curl_free) */
    struct origin origin;      /* of origin_url, when origin_ok */
    int origin_ok;
    struct loop *loops;
    unsigned nloops;
    _Atomic uint64_t next_index;
    /* Loops still in their phase; the caller's thread waits on `done`
     * (timed, for progress ticks and the stop flag). */
    pthread_mutex_t lock;
    pthread_cond_t done;
    unsigned running;
    unsigned active;           /* loops taking part in the phase */
    int64_t origin_us;         /* monotonic start of the phase */
    int keep_reply;            /* a check needs the body */
    int want_headers;          /* a check needs a header */
    size_t expect_len, stime_len; /* the checks' header names' lengths */
    _Atomic int fd_errno;      /* a loop ran out of descriptors mid-phase */
    /* --fail-fast: watching while every request of the phase so far failed
     * to connect; ff_fails counts them; gave_up once there were N. */
    _Atomic int ff_watch, gave_up;
    _Atomic unsigned ff_fails;
    _Atomic int no_streams;    /* --streams, but a reply came over HTTP/1.x */
    _Atomic int pacer_errno;   /* a loop could not arm its open-loop pacer */
    _Atomic uint64_t unrecorded; /* requests stats_record found no memory for */
    int native;                /* slots use h1.c or h2.c (enum transport), not libcurl */
    struct h1_target target;   /* native: where requests go */
    struct h2_requests h2req;  /* native HTTP/2: each payload's header block */
};

/* What engine_native returns, and engine.native holds. */
enum transport { TRANSPORT_CURL, TRANSPORT_H1, TRANSPORT_H2 };

static void drain(struct loop *l);
static void sends_due(struct loop *l);
static void abort_inflight(uv_timer_t *t);

static int phase_done(const struct loop *l)
{
    return (l->exhausted || l->stopping) && l->inflight == 0;
}

/* ---- sockets ------------------------------------------------------------ */

static struct sockctx *ctx_for(struct loop *l, curl_socket_t fd, int create, int opened)
{
    if (fd < 0)
        return NULL;
    if ((size_t)fd >= l->fdcap) {
        if (!create)
            return NULL;
        size_t cap = l->fdcap ? l->fdcap : 256;
        while (cap <= (size_t)fd)
            cap *= 2;
        struct sockctx **m = realloc(l->fdmap, cap * sizeof *m);
        if (!m)
            return NULL;
        memset(m + l->fdcap, 0, (cap - l->fdcap) * sizeof *m);
        l->fdmap = m;
        l->fdcap = cap;
    }
    struct sockctx *c = l->fdmap[fd];
    if (c || !create)
        return c;
    if (!(c = calloc(1, sizeof *c)))
        return NULL;
    if (uv_poll_init_socket(&l->uv, &c->poll, fd) != 0) {
        free(c);
        return NULL;
    }
    c->poll.data = c;
    c->loop = l;
    c->fd = fd;
    c->opened_by_us = opened;
    l->fdmap[fd] = c;
    return c;
}

static void ctx_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Close the poll handle before the fd: uv_close unregisters the fd from
 * epoll at once, so the number can be reused safely. */
static void ctx_release(struct loop *l, struct sockctx *c)
{
    if (c->stop_pending)
        for (struct sockctx **p = &l->pending; *p; p = &(*p)->next_pending)
            if (*p == c) {
                *p = c->next_pending;
                break;
            }
    l->fdmap[c->fd] = NULL;
    uv_close((uv_handle_t *)&c->poll, ctx_closed);
}

/* Every uv_poll_start costs two epoll_ctl calls (libuv forgets the fd is
 * registered when a handle stops), and curl says REMOVE at the end of each
 * transfer only to ask for the same events when the next request reuses
 * the connection a moment later, in the same tick. So a REMOVE is only
 * noted, and the stops that still stand are done here, at the end of the
 * tick, before the loop polls again. */
static void flush_stops(struct loop *l)
{
    while (l->pending) {
        struct sockctx *c = l->pending;
        l->pending = c->next_pending;
        c->stop_pending = 0;
        uv_poll_stop(&c->poll);
        c->events = 0;
    }
}

/* A socket() that fails for want of descriptors is the client's limit, not
 * the server's refusal: the slot remembers it, so that request_done does
 * not count a `connect` error against the server. */
static curl_socket_t socket_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct slot *s = clientp;
    struct loop *l = s->loop;
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE)
            s->fd_errno = errno;
        return CURL_SOCKET_BAD;
    }
    if (!ctx_for(l, fd, 1, 1)) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

static int socket_close(void *clientp, curl_socket_t fd)
{
    struct loop *l = clientp;
    struct sockctx *c = ctx_for(l, fd, 0, 0);
    if (c)
        ctx_release(l, c);
    return close(fd);
}

static void socket_ready(uv_poll_t *h, int status, int events)
{
    struct sockctx *c = h->data;
    struct loop *l = c->loop;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running;
    curl_multi_socket_action(c->shard->multi, c->fd, flags, &running);
    drain(l);
}

/* CURLMOPT_SOCKETFUNCTION: what curl wants to hear about a socket. */
static int socket_watch(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct shard *sh = userp;
    struct loop *l = sh->loop;
    struct sockctx *c = ctx_for(l, fd, what != CURL_POLL_REMOVE, 0);
    if (!c)
        return what == CURL_POLL_REMOVE ? 0 : -1;
    c->shard = sh;
    if (what == CURL_POLL_REMOVE) {
        /* A socket we did not open (the resolver's) gets no close callback. */
        if (!c->opened_by_us) {
            uv_poll_stop(&c->poll);
            ctx_release(l, c);
        } else if (!c->stop_pending && c->events) {
            c->stop_pending = 1;
            c->next_pending = l->pending;
            l->pending = c;
        }
        return 0;
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    if (c->stop_pending)
        for (struct sockctx **p = &l->pending; *p; p = &(*p)->next_pending)
            if (*p == c) {
                *p = c->next_pending;
                c->stop_pending = 0;
                break;
            }
    if (events == c->events)
        return 0;
    c->events = events;
    return uv_poll_start(&c->poll, events, socket_ready) == 0 ? 0 : -1;
}

/* ---- timers ------------------------------------------------------------- */

static void curl_timeout(uv_timer_t *t)
{
    struct shard *sh = t->data;
    int running;
    curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(sh->loop);
}

/* CURLMOPT_TIMERFUNCTION. Never call socket_action from here. A timeout of 0
 * ("act now") is handled by drain() right after the current call into curl
 * returns, instead of a 1 ms libuv timer that would delay every request
 * start by up to a millisecond; the 1 ms timer stays as a backstop. */
static int timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    struct shard *sh = userp;
    if (timeout_ms < 0) {
        uv_timer_stop(&sh->timer);
        return 0;
    }
    if (timeout_ms == 0) {
        sh->kick = 1;
        sh->loop->kick = 1;
        timeout_ms = 1;
    }
    uv_timer_start(&sh->timer, curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- requests ----------------------------------------------------------- */

/* Reply body bytes, from either transport: counted, kept when a check
 * needs them. A negative errno stops the reply: -EMSGSIZE past --max-reply
 * or the loop's reply budget (too_big), -ENOMEM out of memory. */
static int slot_body(struct slot *s, const char *ptr, size_t len)
{
    s->body_bytes += len;
    if (s->body_bytes > s->loop->e->cfg.checks.max_reply_bytes) {
        s->too_big = 1;
        return -EMSGSIZE;
    }
    if (s->reply) {
        if (s->reply_len + len > s->reply_cap) {
            struct loop *l = s->loop;
            size_t cap = s->reply_cap * 2;
            while (cap < s->reply_len + len)
                cap *= 2;
            if (l->reply_grown + (cap - s->reply_cap) > l->reply_budget) {
                s->too_big = 1;
                return -EMSGSIZE;
            }
            char *p = realloc(s->reply, cap);
            if (!p)
                return -ENOMEM; /* counted as reset: out of memory is not the server's fault */
            l->reply_grown += cap - s->reply_cap;
            s->reply = p;
            s->reply_cap = cap;
        }
        memcpy(s->reply + s->reply_len, ptr, len);
        s->reply_len += len;
    }
    return 0;
}

static size_t body_received(char *ptr, size_t size, size_t n, void *userdata)
{
    size_t len = size * n;
    /* 0 aborts the transfer: CURLE_WRITE_ERROR */
    return slot_body(userdata, ptr, len) < 0 ? 0 : len;
}

/* "Name:" matches the start of `line` case-insensitively. */
static const char *header_value(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return NULL;
    return line + n + 1;
}

/* One reply header line "Name: value", from curl or h1. */
static void slot_header(struct slot *s, const char *ptr, size_t len)
{
    const struct engine_checks *ck = &s->loop->e->cfg.checks;
    if (ck->expect_header && header_value(ptr, len, ck->expect_header))
        s->saw_header = 1;
    const char *v;
    if (ck->server_time_header && (v = header_value(ptr, len, ck->server_time_header)))
        s->server_ms = reply_parse_ms(v, len - (size_t)(v - ptr));
    /* libcurl hands HTTP/2 trailers to the header callback as lines too. */
    if (s->loop->e->cfg.grpc)
        reply_grpc_line(&s->grpc, ptr, len);
}

/* One reply header field from h2 (trailers too, as h1's chunked trailers). */
static void slot_field(struct slot *s, const char *name, size_t nlen, const char *value, size_t vlen)
{
    const struct engine_checks *ck = &s->loop->e->cfg.checks;
    const struct engine *e = s->loop->e;
    if (ck->expect_header && e->expect_len == nlen && strncasecmp(name, ck->expect_header, nlen) == 0)
        s->saw_header = 1;
    if (ck->server_time_header && e->stime_len == nlen &&
        strncasecmp(name, ck->server_time_header, nlen) == 0)
        s->server_ms = reply_parse_ms(value, vlen);
    /* A gRPC reply's status comes in its trailers, or alone in its only
     * header block (Trailers-Only). */
    if (s->loop->e->cfg.grpc)
        reply_grpc_field(&s->grpc, name, nlen, value, vlen);
}

static size_t header_received(char *ptr, size_t size, size_t n, void *userdata)
{
    struct slot *s = userdata;
    if (!s->first_header_us)
        s->first_header_us = lg_now_us();
    if (s->loop->e->want_headers)
        slot_header(s, ptr, size * n);
    return size * n;
}

/* Point the slot at `url`, or at the engine's URL when NULL. */
static void slot_url(struct slot *s, const char *url)
{
    struct engine *e = s->loop->e;
    if (url) {
        curl_easy_setopt(s->easy, CURLOPT_CURLU, NULL);
        curl_easy_setopt(s->easy, CURLOPT_URL, url);
    } else if (e->url) {
        curl_easy_setopt(s->easy, CURLOPT_CURLU, e->url);
    } else {
        curl_easy_setopt(s->easy, CURLOPT_URL, e->cfg.url);
    }
}

/* What one transfer (a request or a redirect hop) starts from. */
static void hop_reset(struct slot *s)
{
    s->body_bytes = 0;
    s->first_header_us = 0;
    s->too_big = s->saw_header = s->fd_errno = s->bad_framing = 0;
    s->server_ms = NAN;
    s->reply_len = 0;
    reply_grpc_reset(&s->grpc);
}

/* Start the next request on slot `s`, intended at `intended_us` (0: now).
 * Returns 1 when started, 0 when the phase has nothing more to send. */
static int request_start(struct slot *s, int64_t intended_us)
{
    struct loop *l = s->loop;
    struct engine *e = l->e;
    const struct engine_phase *ph = l->ph;
    int64_t now = lg_now_us();
    if (l->exhausted || l->stopping)
        return 0;
    /* Open loop judges the deadline by the intended time (sends_due), so a
     * send that is late near the end still goes out. */
    if (!intended_us && ph->duration_us && now - e->origin_us >= ph->duration_us) {
        l->exhausted = 1;
        return 0;
    }
    uint64_t i = atomic_fetch_add_explicit(&e->next_index, 1, memory_order_relaxed);
    if (ph->requests && i >= ph->requests) {
        l->exhausted = 1;
        return 0;
    }
    const struct payload_set *ps = e->cfg.payloads;
    size_t pi = i % ps->count;
    s->index = i;
    s->payload = &ps->items[pi];
    s->start_us = s->hop_start_us = now;
    s->intended_us = intended_us ? intended_us : now;
    s->hops = 0;
    s->sent_bytes = s->recv_bytes = 0;
    hop_reset(s);
    if (e->native == TRANSPORT_H1) {
        h1_send(&s->h1, &ps->heads[pi], s->payload, now);
    } else if (e->native == TRANSPORT_H2) {
        h2_send(&s->h2, &e->h2req.items[pi], now);
    } else {
        if (s->payload->len || s->payload->headers[0]) {
            curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->payload->body);
            curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->payload->len);
        }
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, e->lists[pi]);
        s->errbuf[0] = '\0'; /* curl writes it on a failure only */
        if (s->redirected) {
            slot_url(s, NULL);
            curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, e->cfg.timeout_ms);
            s->redirected = 0;
        }
        if (curl_multi_add_handle(s->shard->multi, s->easy) != CURLM_OK) {
            l->exhausted = 1; /* cannot happen with a valid handle; never spin */
            return 0;
        }
    }
    s->busy = 1;
    l->inflight++;
    if (l->stats->first_start_us > s->intended_us)
        l->stats->first_start_us = s->intended_us;
    return 1;
}

/* The class of a complete reply, from any transport: its framing, status
 * (reply.c; for gRPC with the grpc-status its transport fed to
 * slot_header) and the --expect-* checks. *grpc: the stats_request.grpc
 * of the gRPC code to count, 0 for none. */
static enum stats_class reply_class(const struct slot *s, long status, uint8_t *grpc)
{
    const struct engine_checks *ck = &s->loop->e->cfg.checks;
    *grpc = 0;
    if (s->bad_framing)
        return CLASS_INVALID;
    enum stats_class c;
    if (s->loop->e->cfg.grpc) {
        int code;
        c = reply_grpc_class(status, s->grpc.status, &code);
        if (code >= 0)
            *grpc = (uint8_t)(code < STATS_GRPC_OTHER ? code + 1 : STATS_GRPC_OTHER + 1);
    } else {
        c = reply_status_class(status, ck->expect_status);
    }
    if (c != CLASS_OK)
        return c;
    if (ck->expect_header && !s->saw_header)
        return CLASS_INVALID;
    if (ck->expect_json && check_json_path(s->reply, s->reply_len, ck->expect_json, NULL) != 1)
        return CLASS_INVALID;
    return CLASS_OK;
}

static enum stats_class classify(const struct slot *s, CURLcode res, long status, uint8_t *grpc)
{
    *grpc = 0;
    switch (res) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT:
        return CLASS_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return CLASS_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return CLASS_TLS;
    case CURLE_WRITE_ERROR:
        return s->too_big ? CLASS_INVALID : CLASS_RESET;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_TOO_MANY_REDIRECTS:
        return CLASS_INVALID;
    default: /* send/recv errors, empty replies, partial bodies */
        return CLASS_RESET;
    }
    return reply_class(s, status, grpc);
}

/* A non-zero grpc-status's code and grpc-message, for the first-errors
 * list (errors only: the formatting is off the path of an ok reply). */
static void note_grpc(struct loop *l, const struct slot *s)
{
    char text[REPLY_GRPC_MESSAGE_MAX], msg[STATS_ERRMSG_LEN];
    const char *name = grpc_status_name(s->grpc.status);
    char code[16] = "(not a number)"; /* reply_grpc_field's stand-in is past 999 */
    if (s->grpc.status <= 999)
        snprintf(code, sizeof code, "%d", s->grpc.status);
    snprintf(msg, sizeof msg, "grpc-status %s%s%s%s%s", code, name ? " " : "", name ? name : "",
             s->grpc.message_len ? ": " : "", reply_grpc_text(&s->grpc, text, sizeof text));
    stats_note_error(l->stats, msg);
}

static uint32_t clamp_us(int64_t us)
{
    return us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* A reply longer than any before grew the slot's buffer: give the growth
 * back to the loop's budget once the reply has been checked. */
static void reply_shrink(struct slot *s)
{
    if (s->reply_cap <= KEEP_REPLY_INITIAL)
        return;
    char *p = realloc(s->reply, KEEP_REPLY_INITIAL);
    if (!p)
        return; /* keeps the larger buffer, still counted */
    s->loop->reply_grown -= s->reply_cap - KEEP_REPLY_INITIAL;
    s->reply = p;
    s->reply_cap = KEEP_REPLY_INITIAL;
}

/* The origin (scheme, host, port) of an absolute URL as curl writes it,
 * pointing into the URL; -EINVAL unless the scheme is http or https. */
static int origin_of(const char *url, struct origin *o)
{
    const char *p;
    if (strncasecmp(url, "http://", 7) == 0)
        o->https = 0, p = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        o->https = 1, p = url + 8;
    else
        return -EINVAL;
    const char *end = p + strcspn(p, "/?#"), *port = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            p = q + 1; /* user-info is not part of the origin */
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb)
            return -EINVAL;
        o->hostlen = (size_t)(rb + 1 - p);
        port = rb + 1 < end ? rb + 1 : NULL;
    } else {
        port = memchr(p, ':', (size_t)(end - p));
        o->hostlen = (size_t)((port ? port : end) - p);
    }
    o->host = p;
    o->port = o->https ? 443 : 80;
    if (port) {
        if (*port++ != ':')
            return -EINVAL;
        if (port < end)
            o->port = 0;
        for (; port < end; port++) {
            if (*port < '0' || *port > '9')
                return -EINVAL;
            if ((o->port = o->port * 10 + (*port - '0')) > 65535)
                return -EINVAL;
        }
    }
    return 0;
}

static int same_origin(const struct origin *a, const struct origin *b)
{
    return a->https == b->https && a->port == b->port && a->hostlen == b->hostlen &&
           strncasecmp(a->host, b->host, a->hostlen) == 0;
}

/* --follow: a 3xx that points somewhere goes out again on the same slot,
 * to http or https only (curl would try ftp:// and more). The user's
 * headers (-H, --secret-header, --bearer-env) go only to the URL's own
 * origin unless --follow-headers: libcurl would hand an API key to any host
 * a server names. The hops share the request's --timeout. 1 when the
 * request goes on. */
static int follow(struct slot *s, long status, const char *target, int64_t now)
{
    struct loop *l = s->loop;
    struct engine *e = l->e;
    struct origin o;
    if ((status != 301 && status != 302 && status != 303 && status != 307 && status != 308) ||
        s->hops == MAX_REDIRECTS || l->stopping || origin_of(target, &o) < 0)
        return 0;
    size_t pi = (size_t)(s->payload - e->cfg.payloads->items);
    int trusted = e->cfg.follow == ENGINE_FOLLOW_HEADERS || (e->origin_ok && same_origin(&o, &e->origin));
    int64_t left_ms = e->cfg.timeout_ms - (now - s->start_us) / 1000;
    slot_url(s, target);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, trusted ? e->lists[pi] : e->bare[pi]);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)(left_ms > 1 ? left_ms : 1));
    s->redirected = 1;
    s->hops++;
    s->hop_start_us = now;
    reply_shrink(s);
    hop_reset(s);
    return curl_multi_add_handle(s->shard->multi, s->easy) == CURLM_OK;
}

/* Two Content-Lengths that disagree, or one beside a Transfer-Encoding,
 * make the end of the body ambiguous: libcurl 7.88 takes the last length
 * and reads on. Its own store of the final reply's headers (kept for every
 * transfer) is read once the reply is complete: cheaper than a header
 * callback on every line. */
static int framing_bad(CURL *easy)
{
    struct reply_framing f;
    struct curl_header *h;
    reply_framing_reset(&f);
    for (size_t i = 0, n = 1; i < n; i++) {
        if (curl_easy_header(easy, "Content-Length", i, CURLH_HEADER, -1, &h) != CURLHE_OK)
            break;
        n = h->amount;
        reply_framing_length(&f, h->value, strlen(h->value));
    }
    if (curl_easy_header(easy, "Transfer-Encoding", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
        reply_framing_encoding(&f);
    return f.bad;
}

/* Stop sending; what is in flight gets the grace period. */
static void loop_stop(struct loop *l)
{
    if (l->stopping)
        return;
    l->stopping = 1;
    if (l->inflight == 0 && l->in_run)
        uv_stop(&l->uv);
    else
        uv_timer_start(&l->grace_timer, abort_inflight, (uint64_t)(l->ph->grace_us / 1000), 0);
}

/* Give the slot back: closed loop starts its next request, open loop frees
 * it for the pacer. */
static void slot_release(struct loop *l, struct slot *s)
{
    reply_shrink(s);
    s->busy = 0;
    s->count++;
    l->inflight--;
    if (l->rate > 0 || !request_start(s, 0))
        l->free_slots[l->nfree++] = (unsigned)(s - l->slots);
}

/* socket() failed for want of descriptors (EMFILE, ENFILE): the client's
 * limit, not the server's refusal. Not counted as a `connect` error: the
 * phase stops and engine_run names the limit. */
static void request_no_fd(struct loop *l, struct slot *s, int fd_errno)
{
    int none = 0;
    atomic_compare_exchange_strong(&l->e->fd_errno, &none, fd_errno);
    loop_stop(l);
    slot_release(l, s);
}

/* --fail-fast: while every request of the phase has failed to connect or
 * resolve, count them, and give up at N; any other outcome ends the watch.
 * Only the first requests of a phase touch these atomics. */
static void fail_fast_count(struct loop *l, enum stats_class c)
{
    struct engine *e = l->e;
    if (c != CLASS_CONNECT) {
        atomic_store_explicit(&e->ff_watch, 0, memory_order_relaxed);
        return;
    }
    if (atomic_fetch_add_explicit(&e->ff_fails, 1, memory_order_relaxed) + 1 >= e->cfg.fail_fast &&
        atomic_exchange(&e->ff_watch, 0)) {
        /* Every loop of the phase, now: a fast refusal would otherwise
         * finish thousands of requests before the caller's next tick. The
         * run ends here, so no wake is left pending for a later phase. */
        atomic_store(&e->gave_up, 1);
        for (unsigned i = 0; i < e->active; i++)
            if (&e->loops[i] != l)
                uv_async_send(&e->loops[i].wake);
        loop_stop(l);
    }
}

/* A request ended, on either transport: record it, then release the
 * slot. `complete`: the whole reply arrived (its body may be checked). */
static void request_finish(struct loop *l, struct slot *s, struct stats_request *r, int complete,
                           int64_t now)
{
    r->offset_us = now - l->e->origin_us;
    r->image = (uint32_t)s->index;
    r->latency_us = clamp_us(now - s->intended_us);
    uint64_t took_us = (uint64_t)(now - s->start_us), server_us;
    if (stats_record(l->stats, r, s->payload->images, took_us, now) < 0) {
        /* No memory for its second of the timeline or its log entry: the
         * level's figures would not add up, so the phase stops and
         * engine_run fails it (the levels before it are kept). */
        atomic_fetch_add_explicit(&l->e->unrecorded, 1, memory_order_relaxed);
        loop_stop(l);
    }
    if (atomic_load_explicit(&l->e->ff_watch, memory_order_relaxed))
        fail_fast_count(l, (enum stats_class)r->class_);
    const struct engine_checks *ck = &l->e->cfg.checks;
    double server_ms = s->server_ms;
    if (ck->server_time_json && complete)
        check_json_path(s->reply, s->reply_len, ck->server_time_json, &server_ms);
    if (reply_server_time(server_ms, took_us, &server_us) == 0)
        stats_record_server_time(l->stats, server_us, r->latency_us);

    atomic_store_explicit(&l->done, l->stats->requests, memory_order_relaxed);
    if (now - l->p99_at >= 250000) { /* a walk of the histogram, 4 times a second */
        l->p99_at = now;
        atomic_store_explicit(&l->p99_us, hist_percentile(l->stats->h[STATS_LATENCY], 99),
                              memory_order_relaxed);
    }
    if (r->class_ != CLASS_OK)
        atomic_store_explicit(&l->errors, stats_errors(l->stats), memory_order_relaxed);
    slot_release(l, s);
}

/* curl's message without its timing ("Failed to connect to h port 1 after
 * 3 ms: ..."), so that one cause is one message however long it took. In
 * place: the buffer is the slot's. */
static const char *curl_words(char *msg)
{
    char *p = strstr(msg, " after ");
    if (p) {
        char *q = p + 7;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q > p + 7 && strncmp(q, " ms", 3) == 0)
            memmove(p, q + 3, strlen(q + 3) + 1);
    }
    return msg;
}

static void request_done(struct loop *l, CURL *easy, CURLcode res, int64_t now)
{
    struct slot *s;
    struct engine *e = l->e;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
    long status = 0, nconnects = 0, req_size = 0, hdr_size = 0;
    curl_off_t pretransfer = 0, connect = 0, appconnect = 0, up = 0, down = 0;
    char *target = NULL;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (e->cfg.streams > 1 && status) {
        long version = 0;
        curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
        if (version != CURL_HTTP_VERSION_2_0)
            atomic_store_explicit(&e->no_streams, 1, memory_order_relaxed);
    }
    /* TTFB runs from when curl starts sending to the first header line.
     * CURLINFO_STARTTRANSFER is not it: libcurl 7.88 sets it when a body
     * past 64 KiB starts going out, not when the reply starts. */
    curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect);
    curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &appconnect);
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &nconnects);
    curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &req_size);
    curl_easy_getinfo(easy, CURLINFO_HEADER_SIZE, &hdr_size);
    curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
    if (e->cfg.follow && status >= 300 && status <= 399)
        curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &target);
    if (res == CURLE_OK)
        s->bad_framing = framing_bad(easy);
    curl_multi_remove_handle(s->shard->multi, easy);

    /* curl sends a small body in the same buffer as the headers and counts
     * it in REQUEST_SIZE too; a large one only in SIZE_UPLOAD. */
    s->sent_bytes += (uint64_t)req_size + ((uint64_t)req_size > s->payload->len ? 0 : (uint64_t)up);
    s->recv_bytes += (uint64_t)hdr_size + s->body_bytes;
    if (s->fd_errno && res != CURLE_OK) {
        request_no_fd(l, s, s->fd_errno);
        return;
    }
    if (target && res == CURLE_OK && !s->bad_framing && follow(s, status, target, now))
        return;
    uint8_t grpc;
    struct stats_request r = {
        .status = (uint16_t)status,
        .class_ = (uint8_t)classify(s, res, status, &grpc),
        .grpc = grpc,
        /* To the final reply's first header line from the request's start,
         * less the final hop's connect (its PRETRANSFER time): with no
         * redirect, from when curl starts sending. */
        .ttfb_us = s->first_header_us ? clamp_us(s->first_header_us - s->start_us - pretransfer) : 0,
        /* Connect time only describes requests that opened a connection. */
        .connect_us = nconnects > 0 ? clamp_us(appconnect > connect ? appconnect : connect) : 0,
        .bytes_sent = s->sent_bytes,
        .bytes_recv = s->recv_bytes,
    };
    /* What failed, in curl's words: "Could not resolve host: x", "SSL
     * certificate problem: self-signed certificate". Errors only. */
    if (res != CURLE_OK)
        stats_note_error(l->stats, s->errbuf[0] ? curl_words(s->errbuf) : curl_easy_strerror(res));
    else if (r.class_ == CLASS_GRPC)
        note_grpc(l, s);
    request_finish(l, s, &r, res == CURLE_OK, now);
}

/* ---- the native transports' hooks ---------------------------------------- */

static void h1_header(void *owner, const char *line, size_t len)
{
    slot_header(owner, line, len);
}

static void h2_header(void *owner, const char *name, size_t nlen, const char *value, size_t vlen,
                      int trailer)
{
    slot_field(owner, name, nlen, value, vlen);
}

static int native_body(void *owner, const char *p, size_t len)
{
    return slot_body(owner, p, len);
}

/* A request on h1 or h2 ended: both report an h1_result. */
static void native_done(void *owner, const struct h1_result *h)
{
    struct slot *s = owner;
    struct loop *l = s->loop;
    int64_t now = lg_now_us();
    static const uint8_t classes[] = {
        [H1_CONNECT] = CLASS_CONNECT, [H1_TIMEOUT] = CLASS_TIMEOUT,
        [H1_RESET] = CLASS_RESET, [H1_INVALID] = CLASS_INVALID,
    };
    if (h->fd_errno) {
        request_no_fd(l, s, h->fd_errno);
    } else {
        uint8_t c, grpc = 0;
        s->bad_framing = h->bad_framing;
        if (h->fail == H1_OK)
            c = (uint8_t)reply_class(s, h->status, &grpc);
        else if (h->fail == H1_REFUSED) /* as on the curl path */
            c = s->too_big ? CLASS_INVALID : CLASS_RESET;
        else
            c = classes[h->fail];
        /* The native transports keep no error text on their path: the
         * kind of failure says what to look at. */
        static const char *const words[] = {
            [H1_CONNECT] = "could not connect (refused, unreachable or no route)",
            [H1_TIMEOUT] = "no complete reply within --timeout (or --connect-timeout)",
            [H1_RESET] = "connection closed or reset before the reply was complete",
            [H1_INVALID] = "the reply was not HTTP/1.x, or the parser refused it",
        };
        static const char *const words_h2[] = {
            [H1_CONNECT] = "could not connect (refused, unreachable or no route)",
            [H1_TIMEOUT] = "no complete reply within --timeout (or --connect-timeout)",
            [H1_RESET] = "stream reset (RST_STREAM) or connection lost before the reply was complete",
            [H1_INVALID] = "HTTP/2 protocol error (not an h2c server, or a malformed reply)",
        };
        if (h->fail != H1_OK && h->fail != H1_REFUSED)
            stats_note_error(l->stats, (l->e->native == TRANSPORT_H2 ? words_h2 : words)[h->fail]);
        else if (c == CLASS_GRPC)
            note_grpc(l, s);
        struct stats_request r = {
            .status = (uint16_t)h->status,
            .class_ = c,
            .grpc = grpc,
            /* From the request's last byte out to the reply's first byte in. */
            .ttfb_us = h->first_byte_us && h->sent_us ? clamp_us(h->first_byte_us - h->sent_us) : 0,
            .connect_us = clamp_us(h->connect_us),
            .bytes_sent = h->bytes_sent,
            .bytes_recv = h->header_bytes + s->body_bytes,
        };
        request_finish(l, s, &r, h->fail == H1_OK, now);
    }
    /* What drain() does after curl's completions: a freed slot may take an
     * overdue open-loop send, and the phase may be over. */
    sends_due(l);
    if (l->in_run && phase_done(l))
        uv_stop(&l->uv);
}

static const struct h1_hooks h1_hooks = {h1_header, native_body, native_done};
static const struct h2_hooks h2_hooks = {h2_header, native_body, native_done};

/* ---- open loop ---------------------------------------------------------- */

/* The pacer cannot fire: no request would be sent on time again, so the
 * phase stops and engine_run says why. */
static void pacer_failed(struct loop *l, int code)
{
    int none = 0;
    atomic_compare_exchange_strong(&l->e->pacer_errno, &none, code);
    loop_stop(l);
}

static void pacer_arm(struct loop *l)
{
    struct itimerspec its = {0};
    its.it_value.tv_sec = l->next_intended / 1000000;
    its.it_value.tv_nsec = (l->next_intended % 1000000) * 1000;
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1; /* 0 would disarm */
    if (timerfd_settime(l->pacer_fd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
        pacer_failed(l, errno);
}

/* Send every request whose intended time has come, while slots are free.
 * A request that finds no free slot waits for one and is sent late; its
 * latency still counts from its intended time (no coordinated omission). */
static void sends_due(struct loop *l)
{
    if (l->rate <= 0 || l->exhausted || l->stopping)
        return;
    int64_t now = lg_now_us();
    /* Sends that waited for a slot past the end are dropped: each would
     * hold the run up for another --timeout. */
    if (l->ph->duration_us && now - l->e->origin_us >= l->ph->duration_us + END_SEND_SLACK_US) {
        l->exhausted = 1;
        return;
    }
    while (l->next_intended <= now && l->nfree > 0) {
        int64_t from_origin = l->next_intended - l->e->origin_us;
        if (l->ph->duration_us && from_origin >= l->ph->duration_us) {
            l->exhausted = 1;
            return;
        }
        struct slot *s = &l->slots[l->free_slots[l->nfree - 1]];
        if (now - l->next_intended > LATE_US)
            l->stats->late_sends++;
        if (!request_start(s, l->next_intended))
            return;
        l->nfree--;
        l->next_intended = l->e->origin_us + l->pacer_offset_us + pacer_next(&l->pacer);
    }
    if (l->next_intended > now)
        pacer_arm(l);
}

static void pacer_fired(uv_poll_t *h, int status, int events)
{
    struct loop *l = h->data;
    uint64_t expirations;
    if (read(l->pacer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return;
    sends_due(l);
    drain(l);
}

/* ---- completion and phase end ------------------------------------------- */

/* Drain curl's messages after every socket_action, whether or not `running`
 * changed: a handle can finish inside a call that reports the same count.
 * Copy easy and result out of the message before removing the handle, which
 * invalidates it. Then start what curl asked to start "now", shard by shard
 * (an empty message queue costs a pointer test). */
static void drain(struct loop *l)
{
    for (;;) {
        CURLMsg *m;
        int left;
        int64_t now = lg_now_us();
        for (unsigned k = 0; k < l->nshards; k++)
            while ((m = curl_multi_info_read(l->shards[k].multi, &left))) {
                if (m->msg != CURLMSG_DONE)
                    continue;
                CURL *easy = m->easy_handle;
                CURLcode res = m->data.result;
                request_done(l, easy, res, now);
            }
        sends_due(l);
        if (!l->kick)
            break;
        l->kick = 0;
        int running;
        for (unsigned k = 0; k < l->nshards; k++)
            if (l->shards[k].kick) {
                l->shards[k].kick = 0;
                curl_multi_socket_action(l->shards[k].multi, CURL_SOCKET_TIMEOUT, 0, &running);
            }
    }
    flush_stops(l);
    if (l->in_run && phase_done(l))
        uv_stop(&l->uv);
}

static void abort_inflight(uv_timer_t *t)
{
    struct loop *l = t->data;
    for (unsigned i = 0; i < l->nslots; i++) {
        struct slot *s = &l->slots[i];
        if (s->busy) {
            if (l->e->native == TRANSPORT_H1)
                h1_abort(&s->h1);
            else if (l->e->native == TRANSPORT_H2)
                h2_abort(&s->h2);
            else
                curl_multi_remove_handle(s->shard->multi, s->easy);
            reply_shrink(s);
            s->busy = 0;
            l->inflight--;
        }
    }
    flush_stops(l);
    uv_stop(&l->uv);
}

static void woken(uv_async_t *a)
{
    struct loop *l = a->data;
    if (l->ph) /* not woken after its phase ended */
        loop_stop(l);
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals go to the caller's thread */

    l->nfree = 0;
    if (l->rate > 0) {
        for (unsigned i = l->concurrency; i-- > 0;)
            l->free_slots[l->nfree++] = i;
        l->next_intended = l->e->origin_us + l->pacer_offset_us + pacer_next(&l->pacer);
        int rc = uv_poll_start(&l->pacer_poll, UV_READABLE, pacer_fired);
        if (rc != 0)
            pacer_failed(l, -rc);
        sends_due(l);
    } else {
        for (unsigned i = 0; i < l->concurrency; i++)
            if (!request_start(&l->slots[i], 0))
                l->free_slots[l->nfree++] = i;
    }
    drain(l);
    /* uv_stop outside uv_run would stay pending and cut the next phase
     * short, so only drain() inside uv_run stops the loop (in_run). */
    while (!phase_done(l)) {
        l->in_run = 1;
        uv_run(&l->uv, UV_RUN_DEFAULT);
        l->in_run = 0;
    }
    if (l->rate > 0)
        uv_poll_stop(&l->pacer_poll);
    uv_timer_stop(&l->grace_timer);
    l->ph = NULL;
    pthread_mutex_lock(&l->e->lock);
    l->e->running--;
    pthread_cond_signal(&l->e->done);
    pthread_mutex_unlock(&l->e->lock);
    return NULL;
}

/* ---- set-up and teardown ------------------------------------------------ */

static int slot_init(struct engine *e, struct loop *l, struct slot *s, char *err)
{
    const struct engine_config *c = &e->cfg;
    s->loop = l;
    if (e->keep_reply && !(s->reply = malloc(s->reply_cap = KEEP_REPLY_INITIAL)))
        return lg_err(err, -ENOMEM, "out of memory for reply buffers");
    if (e->native == TRANSPORT_H1) {
        h1_conn_init(l->h1, &s->h1, s);
        return 0;
    }
    if (e->native == TRANSPORT_H2) {
        h2_stream_init(l->h2, &s->h2, (unsigned)(s - l->slots), s);
        return 0;
    }
    if (!(s->easy = curl_easy_init()) || !(s->errbuf = calloc(1, CURL_ERROR_SIZE)))
        return lg_err(err, -ENOMEM, "cannot create a libcurl handle (out of memory?)");
    CURL *h = s->easy;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
    /* A parsed URL saves curl parsing the string again for every request. */
    if (e->url)
        curl_easy_setopt(h, CURLOPT_CURLU, e->url);
    else
        curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_DNS_CACHE_TIMEOUT, -1L); /* resolve once */
    /* No proxy from the environment: the load goes straight to the target,
     * and curl stops reading six proxy variables for every request. */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* nor no_proxy, twice a request */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_received);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_received); /* TTFB, and checks */
    curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, socket_open);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, s);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, socket_close);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, l);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    if (c->user_agent)
        curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    /* --http2 asks for HTTP/2 and takes HTTP/1.1 when the server has no
     * more (ALPN on https://, an h2c upgrade on http://), as curl --http2
     * does; --http2-prior-knowledge speaks HTTP/2 from the first byte. */
    if (c->http2 == ENGINE_HTTP2_PRIOR_KNOWLEDGE)
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    else if (c->http2)
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, strncasecmp(c->url, "https:", 6) == 0
                                                      ? (long)CURL_HTTP_VERSION_2TLS
                                                      : (long)CURL_HTTP_VERSION_2_0);
    else
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* A new request waits for a connection that may carry it as one more
     * stream rather than open its own; once a connection holds --streams,
     * the next opens another. Over HTTP/1.1 each still gets its own. */
    if (c->streams > 1)
        curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    if (c->payloads->items[0].headers[0] == NULL && c->payloads->items[0].len == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    /* HEAD through NOBODY: curl then reads no body, whatever the reply's
     * Content-Length says. Any other method keeps the body (or none) and
     * changes only the request line, as curl -X does. */
    if (c->method && strcmp(c->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (c->method && strcmp(c->method, "GET") != 0 && strcmp(c->method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    /* A body past 64 KiB goes out through the upload buffer: one that holds
     * the largest body sends it with one send() instead of one per 64 KiB,
     * and curl never has to wait for POLL_OUT (an epoll_ctl pair) between.
     * curl allocates it per transfer and frees it when the transfer ends. */
    size_t largest = 0;
    for (size_t i = 0; i < c->payloads->count; i++)
        if (c->payloads->items[i].len > largest)
            largest = c->payloads->items[i].len;
    if (largest > CURL_INLINE_BODY_MAX)
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE,
                         (long)(largest < CURL_UPLOAD_BUFFER_MAX ? largest : CURL_UPLOAD_BUFFER_MAX));
    return 0;
}

static int loop_init(struct engine *e, struct loop *l, unsigned nslots, char *err)
{
    l->e = e;
    l->pacer_fd = -1;
    if (e->keep_reply) {
        /* Room for one reply of --max-reply at least, however many loops. */
        size_t one = KEEP_REPLY_INITIAL;
        while (one < e->cfg.checks.max_reply_bytes && one <= SIZE_MAX / 4)
            one *= 2;
        l->reply_budget = one - KEEP_REPLY_INITIAL;
        if (l->reply_budget < KEEP_REPLY_BUDGET / e->nloops)
            l->reply_budget = KEEP_REPLY_BUDGET / e->nloops;
    }
    int rc = uv_loop_init(&l->uv);
    if (rc != 0)
        return lg_err(err, rc, "cannot create an event loop");
    /* The async handle first: should it fail (no eventfd), the loop holds
     * no handle yet and closes at once. uv_timer_init cannot fail. */
    if ((rc = uv_async_init(&l->uv, &l->wake, woken)) != 0) {
        uv_loop_close(&l->uv);
        return lg_err(err, rc, "cannot create an event loop: %s", uv_strerror(rc));
    }
    l->uv_ready = 1;
    uv_timer_init(&l->uv, &l->grace_timer);
    l->grace_timer.data = l->wake.data = l;
    l->pacer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    rc = l->pacer_fd < 0 ? -errno : uv_poll_init(&l->uv, &l->pacer_poll, l->pacer_fd);
    if (rc != 0)
        return lg_err(err, rc, "cannot create a timerfd for the pacer: %s", strerror(-rc));
    l->pacer_ready = 1;
    l->pacer_poll.data = l;
    if (e->native == TRANSPORT_H1) {
        if (!(l->h1 = malloc(sizeof *l->h1)))
            return lg_err(err, -ENOMEM, "out of memory for read buffers");
        h1_loop_init(l->h1, &l->uv, &e->target, &h1_hooks, e->cfg.timeout_ms,
                     e->cfg.connect_timeout_ms, e->want_headers);
    } else if (e->native == TRANSPORT_H2) {
        /* --streams slots to a connection (h2load's -m). */
        unsigned per = e->cfg.streams > 1 ? e->cfg.streams : 1;
        if (!(l->h2 = malloc(sizeof *l->h2)))
            return lg_err(err, -ENOMEM, "out of memory for read buffers");
        if (h2_loop_init(l->h2, &l->uv, &e->target, &h2_hooks, (nslots + per - 1) / per, per,
                         e->cfg.timeout_ms, e->cfg.connect_timeout_ms, e->want_headers, err) < 0)
            return -1;
    }
    /* The native transport needs no multi handles. */
    l->nshards = e->native ? 0 : (nslots + SHARD_SLOTS - 1) / SHARD_SLOTS;
    if (l->nshards && !(l->shards = calloc(l->nshards, sizeof *l->shards)))
        return lg_err(err, -ENOMEM, "out of memory for %u multi handles", l->nshards);
    for (unsigned k = 0; k < l->nshards; k++) {
        struct shard *sh = &l->shards[k];
        sh->loop = l;
        uv_timer_init(&l->uv, &sh->timer);
        sh->timer.data = sh;
        if (!(sh->multi = curl_multi_init()))
            return lg_err(err, -ENOMEM, "cannot create a libcurl multi handle");
        curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, socket_watch);
        curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
        curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, timer_set);
        curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
        curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, (long)SHARD_SLOTS);
        /* HTTP/2: --streams requests share a connection, as h2load -m;
         * by default one each, so that -c means connections on both
         * protocols. */
        curl_multi_setopt(sh->multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
                          (long)(e->cfg.streams > 1 ? e->cfg.streams : 1));
        /* ... and as many connections as the shard's slots need, no more:
         * requests added together would each open one before the first
         * connection says it multiplexes. */
        unsigned in_shard = nslots - k * SHARD_SLOTS < SHARD_SLOTS ? nslots - k * SHARD_SLOTS
                                                                  : SHARD_SLOTS;
        if (e->cfg.streams > 1)
            curl_multi_setopt(sh->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                              (long)((in_shard + e->cfg.streams - 1) / e->cfg.streams));
    }
    l->nslots = nslots;
    l->slots = calloc(nslots, sizeof *l->slots);
    l->free_slots = calloc(nslots, sizeof *l->free_slots);
    l->stats = stats_create(e->cfg.keep_log, e->cfg.expected_requests / e->nloops + 16);
    if (!l->slots || !l->free_slots || !l->stats)
        return lg_err(err, -ENOMEM, "out of memory for %u request slots", nslots);
    for (unsigned i = 0; i < nslots; i++) {
        l->slots[i].shard = l->shards ? &l->shards[i / SHARD_SLOTS] : NULL;
        if ((rc = slot_init(e, l, &l->slots[i], err)) < 0)
            return rc;
    }
    return 0;
}

/* Appends an open handle's type to the list in `arg` (a LG_ERRLEN buffer). */
static void name_open_handle(uv_handle_t *h, void *arg)
{
    char *list = arg;
    size_t n = strlen(list);
    if (!uv_is_closing(h))
        snprintf(list + n, LG_ERRLEN - n, "%s%s", n ? ", " : "", uv_handle_type_name(h->type));
}

/* 0, or -EBUSY with err naming the handles the loop still held (a bug). */
static int loop_destroy(struct loop *l, char *err)
{
    int rc = 0;
    if (l->slots) {
        for (unsigned i = 0; i < l->nslots; i++)
            if (l->slots[i].busy && l->slots[i].easy)
                curl_multi_remove_handle(l->slots[i].shard->multi, l->slots[i].easy);
            else if (l->slots[i].h1.lp) /* a native slot: its socket and timer */
                h1_conn_close(&l->slots[i].h1);
            else if (l->slots[i].h2.c) /* a native HTTP/2 slot: its timer */
                h2_stream_close(&l->slots[i].h2);
    }
    if (l->h2) /* its connections, after their streams */
        h2_loop_close(l->h2);
    /* Closing a multi handle closes its connections through socket_close,
     * which closes their poll handles. */
    for (unsigned k = 0; l->shards && k < l->nshards; k++)
        if (l->shards[k].multi)
            curl_multi_cleanup(l->shards[k].multi);
    if (l->slots) {
        for (unsigned i = 0; i < l->nslots; i++) {
            if (l->slots[i].easy)
                curl_easy_cleanup(l->slots[i].easy);
            free(l->slots[i].errbuf);
            free(l->slots[i].reply);
        }
    }
    /* Sockets curl never closed through us (none expected) are released
     * here so that the loop can close. */
    for (size_t fd = 0; fd < l->fdcap; fd++)
        if (l->fdmap[fd])
            ctx_release(l, l->fdmap[fd]);
    if (l->uv_ready) {
        for (unsigned k = 0; l->shards && k < l->nshards; k++)
            if (l->shards[k].loop) /* its timer was initialised */
                uv_close((uv_handle_t *)&l->shards[k].timer, NULL);
        uv_close((uv_handle_t *)&l->grace_timer, NULL);
        uv_close((uv_handle_t *)&l->wake, NULL);
        if (l->pacer_ready)
            uv_close((uv_handle_t *)&l->pacer_poll, NULL);
        uv_run(&l->uv, UV_RUN_DEFAULT);
        /* Every handle we made is closed by now; a busy loop here is a bug
         * that the tests check for (engine_destroy's code). */
        if (uv_loop_close(&l->uv) != 0) {
            char open[LG_ERRLEN] = "";
            uv_walk(&l->uv, name_open_handle, open);
            rc = lg_err(err, -EBUSY, "event loop %u: handles left open at teardown (%s); "
                        "a bug: please report it", l->id, *open ? open : "closing");
        }
    }
    if (l->pacer_fd >= 0)
        close(l->pacer_fd);
    free(l->fdmap);
    free(l->h1);
    if (l->h2)
        h2_loop_free(l->h2);
    free(l->h2);
    free(l->shards);
    free(l->slots);
    free(l->free_slots);
    stats_destroy(l->stats);
    return rc;
}

/* Build the header list of each payload: the first `nuser` of the user's
 * headers, "Expect:" (no 100-continue round trip before large bodies), then
 * the payload's own that the user did not give: libcurl sends every line of
 * the list, so a user's Content-Type beside the payload's would go out
 * twice. Consecutive payloads with the same headers share one list. */
static int build_lists(struct engine *e, size_t nuser, struct curl_slist ***out, char *err)
{
    const struct payload_set *ps = e->cfg.payloads;
    struct curl_slist **lists = *out = calloc(ps->count, sizeof *lists);
    if (!lists)
        return lg_err(err, -ENOMEM, "out of memory for header lists");
    for (size_t i = 0; i < ps->count; i++) {
        const struct payload *p = &ps->items[i];
        if (i > 0) {
            const struct payload *q = &ps->items[i - 1];
            int same = 1;
            for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++)
                if ((p->headers[k] == NULL) != (q->headers[k] == NULL) ||
                    (p->headers[k] && strcmp(p->headers[k], q->headers[k]) != 0))
                    same = 0;
            if (same) {
                lists[i] = lists[i - 1];
                continue;
            }
        }
        struct curl_slist *l = NULL, *t;
        for (size_t k = 0; k < nuser; k++) {
            if (!(t = curl_slist_append(l, e->cfg.headers[k])))
                goto oom;
            l = t;
        }
        if (!payload_user_has(e->cfg.headers, nuser, "Expect")) {
            if (!(t = curl_slist_append(l, "Expect:")))
                goto oom;
            l = t;
        }
        for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++) {
            if (!p->headers[k] || payload_user_has(e->cfg.headers, nuser, p->headers[k]))
                continue;
            if (!(t = curl_slist_append(l, p->headers[k])))
                goto oom;
            l = t;
        }
        lists[i] = l;
        continue;
    oom:
        curl_slist_free_all(l);
        return lg_err(err, -ENOMEM, "out of memory for header lists");
    }
    return 0;
}

static void free_lists(struct curl_slist **lists, size_t n)
{
    for (size_t i = 0; lists && i < n; i++)
        if (lists[i] && (i == 0 || lists[i] != lists[i - 1]))
            curl_slist_free_all(lists[i]);
    free(lists);
}

/* Descriptors measured under libuv 1.44 and libcurl 7.88 (count
 * /proc/self/fd in a run): per loop an epoll fd, a signal pipe (2), the
 * async eventfd and the pacer's timerfd; per multi handle its wake-up
 * socketpair (the curl transport's only); per request in flight its socket
 * (both transports: the native one closes a socket in uv_close, before it
 * opens the next). */
#define FDS_PER_LOOP 5
#define FDS_PER_SHARD 2
/* stdio, libuv's process-wide signal pipe, output and input files. */
#define FDS_RESERVE 64

int engine_fd_budget(unsigned connections, unsigned loops, int native, char *err)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (loops == 0 || loops > connections)
        loops = connections ? connections : 1;
    rlim_t shards = 0;
    for (unsigned i = 0; !native && i < loops; i++) {
        unsigned share = connections / loops + (i < connections % loops);
        shards += (share + SHARD_SLOTS - 1) / SHARD_SLOTS;
    }
    rlim_t need = (rlim_t)connections + FDS_PER_SHARD * shards + (rlim_t)FDS_PER_LOOP * loops + FDS_RESERVE;
    /* A host name costs a socketpair per lookup in flight (libcurl's
     * threaded resolver) while the connections start: ask for that room
     * too when the hard limit allows, but only refuse without `need`. The
     * native transport resolves once, before the run. */
    rlim_t want = need + (native ? 0 : connections);
    if (rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
        return lg_err(err, -EMFILE, "%u connections need %llu file descriptors but the hard limit is %llu; "
                           "raise it (ulimit -Hn %llu as root, or LimitNOFILE=) or use fewer",
                      connections, (unsigned long long)need, (unsigned long long)rl.rlim_max,
                      (unsigned long long)need);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        want = rl.rlim_max;
    if (rl.rlim_cur >= want)
        return 0;
    rlim_t had = rl.rlim_cur;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && had < need)
        return lg_err(err, -errno, "cannot raise the open-file limit to %llu: %s; run ulimit -n %llu first",
                      (unsigned long long)need, strerror(errno), (unsigned long long)need);
    return 0;
}

const char *engine_native_unsupported(const char *url, int http2, int follow,
                                      const char *const *headers, size_t nheaders)
{
    if (http2 == ENGINE_HTTP2_PRIOR_KNOWLEDGE)
        return h2_unsupported(url, follow, headers, nheaders);
    if (http2)
        return "its HTTP/2 needs --http2-prior-knowledge (h2c), not --http2 (ALPN or an upgrade)";
    return h1_unsupported(url, http2, follow, headers, nheaders);
}

int engine_native(const struct engine_config *cfg)
{
    if (cfg->engine == ENGINE_CURL ||
        engine_native_unsupported(cfg->url, cfg->http2, cfg->follow, cfg->headers, cfg->nheaders))
        return TRANSPORT_CURL;
    return cfg->http2 == ENGINE_HTTP2_PRIOR_KNOWLEDGE ? TRANSPORT_H2 : TRANSPORT_H1;
}

static void curl_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int engine_create(const struct engine_config *cfg, struct engine **out, char *err)
{
    *out = NULL;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_setup);
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        return lg_err(err, -ENOMEM, "out of memory");
    int rc;
    e->cfg = *cfg;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->done, &ca);
    pthread_condattr_destroy(&ca);
    const struct engine_checks *ck = &cfg->checks;
    e->keep_reply = ck->expect_json || ck->server_time_json;
    e->want_headers = ck->expect_header || ck->server_time_header || cfg->grpc;
    e->expect_len = ck->expect_header ? strlen(ck->expect_header) : 0;
    e->stime_len = ck->server_time_header ? strlen(ck->server_time_header) : 0;
    unsigned loops = cfg->loops ? cfg->loops : 1;
    if (loops > cfg->max_slots)
        loops = cfg->max_slots ? cfg->max_slots : 1;
    e->native = engine_native(cfg);
    /* HTTP/2: a loop without a connection of its own has nothing to do. */
    unsigned per = cfg->streams > 1 ? cfg->streams : 1;
    if (e->native == TRANSPORT_H2 && loops > (cfg->max_slots + per - 1) / per)
        loops = (cfg->max_slots + per - 1) / per;
    e->nloops = loops;
    if (cfg->engine == ENGINE_NATIVE && !e->native) {
        rc = lg_err(err, -EINVAL, "--engine native: %s; use --engine curl or auto",
                    engine_native_unsupported(cfg->url, cfg->http2, cfg->follow, cfg->headers,
                                              cfg->nheaders));
        goto fail;
    }
    if (e->native) {
        if ((rc = h1_target_init(&e->target, cfg->url, err)) < 0)
            goto fail;
        e->target.head = cfg->method && strcmp(cfg->method, "HEAD") == 0;
        struct payload_head_spec hs = {
            .method = cfg->method,
            .target = e->target.request_target,
            .host = e->target.host,
            .user_agent = cfg->user_agent,
            .headers = cfg->headers,
            .nheaders = cfg->nheaders,
        };
        if ((rc = e->native == TRANSPORT_H2 ? h2_requests_build(&e->h2req, cfg->payloads, &hs, err)
                                            : payload_build_heads(cfg->payloads, &hs, err)) < 0)
            goto fail;
    } else {
        if ((rc = build_lists(e, cfg->nheaders, &e->lists, err)) < 0)
            goto fail;
        if (!cfg->follow || !cfg->nheaders)
            e->bare = e->lists;
        else if ((rc = build_lists(e, 0, &e->bare, err)) < 0)
            goto fail;
    }
    /* Left NULL when curl cannot parse it: CURLOPT_URL then reports why. */
    if ((e->url = curl_url()) && curl_url_set(e->url, CURLUPART_URL, cfg->url, 0) != CURLUE_OK) {
        curl_url_cleanup(e->url);
        e->url = NULL;
    }
    /* --follow compares redirect targets, which curl writes out in its own
     * form, with the URL in the same form. */
    if (e->url && curl_url_get(e->url, CURLUPART_URL, &e->origin_url, 0) == CURLUE_OK)
        e->origin_ok = origin_of(e->origin_url, &e->origin) == 0;
    if (!(e->loops = calloc(loops, sizeof *e->loops))) {
        rc = lg_err(err, -ENOMEM, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < loops; i++) {
        e->loops[i].id = i;
        unsigned share = cfg->max_slots / loops + (i < cfg->max_slots % loops);
        if ((rc = loop_init(e, &e->loops[i], share ? share : 1, err)) < 0)
            goto fail;
    }
    *out = e;
    return 0;
fail:
    engine_destroy(e, NULL); /* err keeps the first failure */
    return rc;
}

int engine_destroy(struct engine *e, char *err)
{
    int rc = 0;
    if (!e)
        return 0;
    for (unsigned i = 0; e->loops && i < e->nloops; i++) {
        int lrc = loop_destroy(&e->loops[i], err);
        if (rc == 0)
            rc = lrc;
    }
    free(e->loops);
    curl_url_cleanup(e->url); /* after the easy handles that point at it */
    h1_target_free(&e->target);
    h2_requests_free(&e->h2req);
    pthread_cond_destroy(&e->done);
    pthread_mutex_destroy(&e->lock);
    if (e->bare != e->lists)
        free_lists(e->bare, e->cfg.payloads->count);
    free_lists(e->lists, e->cfg.payloads->count);
    curl_free(e->origin_url);
    free(e);
    return rc;
}

int engine_streams_refused(const struct engine *e)
{
    return atomic_load(&((struct engine *)e)->no_streams);
}

int engine_gave_up(const struct engine *e)
{
    return atomic_load(&((struct engine *)e)->gave_up);
}

const char *engine_name(const struct engine *e)
{
    static const char *const names[] = {[TRANSPORT_CURL] = "curl", [TRANSPORT_H1] = "native",
                                        [TRANSPORT_H2] = "native-h2"};
    return names[e->native];
}

int engine_run(struct engine *e, const struct engine_phase *ph, struct stats *out,
               engine_tick_fn *tick, void *tick_arg, char *err)
{
    if (ph->concurrency > e->cfg.max_slots)
        return lg_err(err, -EINVAL, "%u requests in flight asked of an engine made for %u", ph->concurrency,
                      e->cfg.max_slots);
    unsigned active = e->nloops;
    if (ph->concurrency < active)
        active = ph->concurrency ? ph->concurrency : 1;
    /* HTTP/2: as many loops as the phase fills connections, so that a
     * level of 10 at --streams 10 shares one. */
    unsigned per = e->cfg.streams > 1 ? e->cfg.streams : 1;
    if (e->native == TRANSPORT_H2 && active > (ph->concurrency + per - 1) / per)
        active = ph->concurrency ? (ph->concurrency + per - 1) / per : 1;
    atomic_store(&e->next_index, 0);
    atomic_store(&e->fd_errno, 0);
    atomic_store(&e->ff_watch, e->cfg.fail_fast > 0);
    atomic_store(&e->ff_fails, 0);
    atomic_store(&e->gave_up, 0);
    e->active = active;
    atomic_store(&e->pacer_errno, 0);
    atomic_store(&e->unrecorded, 0);
    e->origin_us = lg_now_us();
    e->running = active; /* no loop runs yet: no lock needed */
    for (unsigned i = 0; i < active; i++) {
        struct loop *l = &e->loops[i];
        l->ph = ph;
        l->concurrency = ph->concurrency / active + (i < ph->concurrency % active);
        if (l->concurrency > l->nslots)
            l->concurrency = l->nslots;
        l->rate = ph->rate > 0 ? ph->rate / active : 0;
        if (l->rate > 0) {
            pacer_init(&l->pacer, ph->arrival, l->rate, ph->seed + i);
            /* Constant arrivals: loop i sends at i/R past the others, so the
             * merged stream is evenly spaced at rate R. */
            l->pacer_offset_us = ph->arrival == PACER_CONSTANT ? (int64_t)(i * 1e6 / ph->rate) : 0;
        }
        l->inflight = 0;
        for (unsigned k = 0; k < l->nslots; k++)
            l->slots[k].count = 0;
        l->exhausted = l->stopping = l->kick = 0;
        for (unsigned k = 0; k < l->nshards; k++)
            l->shards[k].kick = 0;
        atomic_store(&l->done, 0);
        atomic_store(&l->errors, 0);
        atomic_store(&l->p99_us, 0);
        l->p99_at = 0;
        stats_reset(l->stats, e->origin_us);
    }
    unsigned started = 0;
    int terr = 0; /* pthread functions return the error; errno is not set */
    for (; started < active; started++)
        if ((terr = pthread_create(&e->loops[started].thread, NULL, loop_main,
                                   &e->loops[started])) != 0)
            break;
    if (started < active) {
        /* Stop what did start, then report. */
        for (unsigned i = 0; i < started; i++)
            uv_async_send(&e->loops[i].wake);
        pthread_mutex_lock(&e->lock);
        e->running -= active - started;
        pthread_mutex_unlock(&e->lock);
    }
    int stop_sent = 0;
    pthread_mutex_lock(&e->lock);
    while (e->running > 0) {
        /* Wake when the last loop ends, or every 100 ms for the progress
         * line and the stop flag (a signal does not wake a condvar). */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 100 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        if (pthread_cond_timedwait(&e->done, &e->lock, &until) != ETIMEDOUT)
            continue;
        pthread_mutex_unlock(&e->lock);
        if (!stop_sent && ((e->cfg.stop && *e->cfg.stop) || atomic_load(&e->fd_errno) ||
                           atomic_load(&e->gave_up) || atomic_load(&e->pacer_errno) ||
                           atomic_load(&e->unrecorded))) {
            for (unsigned i = 0; i < started; i++)
                uv_async_send(&e->loops[i].wake);
            stop_sent = 1;
        }
        if (tick) {
            struct engine_progress pr = {0};
            for (unsigned i = 0; i < started; i++) {
                struct loop *l = &e->loops[i];
                pr.done += atomic_load_explicit(&l->done, memory_order_relaxed);
                pr.errors += atomic_load_explicit(&l->errors, memory_order_relaxed);
                uint64_t p99 = atomic_load_explicit(&l->p99_us, memory_order_relaxed);
                pr.p99_us = p99 > pr.p99_us ? p99 : pr.p99_us;
            }
            tick(tick_arg, &pr);
        }
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    int jerr = 0;
    for (unsigned i = 0; i < started; i++) {
        int r = pthread_join(e->loops[i].thread, NULL);
        if (r != 0 && jerr == 0)
            jerr = r;
    }
    /* A loop not joined may still write its stats: do not merge them. */
    if (jerr)
        return lg_err(err, -jerr, "cannot join an event-loop thread: %s", strerror(jerr));
    stats_reset(out, e->origin_us);
    for (unsigned i = 0; i < started; i++)
        if (stats_merge(out, e->loops[i].stats) < 0)
            return lg_err(err, -ENOMEM, "out of memory merging results");
    out->slot_min = UINT64_MAX;
    out->slot_max = 0;
    for (unsigned i = 0; i < started; i++)
        for (unsigned k = 0; k < e->loops[i].concurrency; k++) {
            uint64_t n = e->loops[i].slots[k].count;
            out->slot_min = n < out->slot_min ? n : out->slot_min;
            out->slot_max = n > out->slot_max ? n : out->slot_max;
        }
    if (out->slot_min == UINT64_MAX)
        out->slot_min = 0;
    if (started < active)
        return lg_err(err, -terr, "cannot start event-loop thread %u: %s", started, strerror(terr));
    int fd_errno = atomic_load(&e->fd_errno);
    if (fd_errno) {
        struct rlimit rl = {0};
        getrlimit(RLIMIT_NOFILE, &rl);
        return lg_err(err, -fd_errno, "%u in flight: cannot open a connection: %s (the open-file limit is %llu); "
                           "this is loadgen's limit, not the server's: raise it with ulimit -n, "
                           "or run fewer requests in flight",
                      ph->concurrency, strerror(fd_errno), (unsigned long long)rl.rlim_cur);
    }
    int pacer_errno = atomic_load(&e->pacer_errno);
    if (pacer_errno)
        return lg_err(err, -pacer_errno, "--rate %g: cannot arm the open-loop pacer: %s", ph->rate,
                      strerror(pacer_errno));
    uint64_t unrecorded = atomic_load(&e->unrecorded);
    if (unrecorded)
        return lg_err(err, -ENOMEM, "out of memory recording results: %llu requests are missing "
                      "from the timeline%s; run a shorter level%s", (unsigned long long)unrecorded,
                      e->cfg.keep_log ? " or the request log" : "",
                      e->cfg.keep_log ? " or without --requests-log" : "");
    return 0;
}
