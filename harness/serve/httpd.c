/*
 * httpd.c: connections, HTTP parsing and answers for `loadgen serve` (see
 * httpd.h). Everything runs on the loop thread.
 *
 * A connection serves one request at a time: when a request is complete the
 * parser is paused and reading stops; bytes already read past it (a
 * pipelined request) wait in `pending` and are parsed once the answer is
 * written. Answers therefore leave in request order, as HTTP/1.1 requires.
 * The request's simulation state is embedded in the connection, and every
 * buffer is per connection and reused, so a request allocates nothing once
 * its connection has seen a body of that size.
 *
 * serve may face hostile clients, so nothing a client sends makes it hold
 * memory or a connection without bound (httpd_limits): every byte a
 * connection holds (body, pipelined input, unsent answer) is counted in
 * h->mem against --max-inflight, and every connection waiting on its
 * client has a deadline that one sweep timer enforces.
 */
#include "serve/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <http_parser.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "sbuf.h"
#include "serve/h2.h"
#include "serve/tfd.h"

#define URL_MAX 2048
#define CTYPE_MAX 256
#define FIELD_MAX 40
#define VALUE_MAX 32
/* Body buffers are needed only while a body arrives and is checked, so
 * they live in a pool shared by all connections: 10,000 idle keep-alive
 * connections pin none. A body grows as its bytes arrive (to at most twice
 * what arrived), never by its Content-Length alone. Answers are small and stay per connection; one
 * grown past KEEP_ANSWER (a large batch) is given back after its write. */
#define POOL 256
#define KEEP_BODY (1u << 20)
#define KEEP_ANSWER (64u << 10)
/* Pipelined input kept past a request is given back once it is parsed if
 * it grew past this, so idle connections pin almost nothing. */
#define KEEP_PENDING (4u << 10)
#define NO_DEADLINE INT64_MAX
/* The HTTP/2 client preface (RFC 9113 3.4): a connection that opens with
 * it speaks HTTP/2 with prior knowledge (gRPC's h2c). */
static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN (sizeof preface - 1)
#define SNIFFED_H1 ((unsigned)PREFACE_LEN + 1)

enum hdr { H_OTHER, H_CTYPE, H_IHCL, H_EXPECT };

struct conn {
    uv_tcp_t tcp;
    http_parser parser;
    struct httpd *h;
    struct conn *prev, *next;       /* h->conns */
    struct sim_req req;             /* this connection's request in the model */
    struct route_out out;           /* its answer */
    /* The request being parsed. */
    char url[URL_MAX];
    size_t url_len;
    char ctype[CTYPE_MAX];
    size_t ctype_len;
    char field[FIELD_MAX];          /* current header name (truncated) */
    size_t field_len;
    char value[VALUE_MAX];          /* current short header value */
    size_t value_len;
    enum hdr cur;                   /* header the value bytes belong to */
    int in_value;                   /* last header callback was a value */
    int64_t ihcl;                   /* Inference-Header-Content-Length, -1 absent */
    int expect_continue;            /* Expect: 100-continue */
    int url_too_long;
    int begun;                      /* a request has begun arriving: a timeout answers 408 */
    int64_t deadline_ms;            /* uv_now() at which the client's silence closes it */
    size_t mem;                     /* bytes of this connection counted in h->mem */
    struct sbuf body;               /* from the pool while a body arrives */
    struct sbuf pending;            /* bytes read past a complete request */
    /* The answer. */
    struct sbuf head, answer;
    uv_write_t wreq;                /* the answer */
    uv_write_t creq;                /* "100 Continue" */
    int head_only;                  /* HEAD: no body */
    int keep_alive;
    int http10;
    int complete;                   /* message complete, parser paused */
    int writing;
    int discard;                    /* answered early: drop the rest of the body */
    int close_after;                /* close once the answer is written */
    int closing;
    unsigned sniffed;               /* preface bytes matched so far, or SNIFFED_H1 */
    struct h2 *h2;                  /* the HTTP/2 session once the preface came */
};

struct httpd {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct tfd tfd;
    struct routes *routes;
    struct sim *sim;
    struct httpd_limits lim;
    uv_timer_t sweep;               /* closes connections past their deadline */
    struct conn *conns;             /* open connections, for shutdown */
    struct sbuf pool[POOL];         /* idle body buffers */
    size_t npool;
    uint64_t mem;                   /* bytes held by connections (sum of conn.mem) */
    uint64_t pool_mem;              /* bytes of the idle pool buffers */
    struct httpd_stats st;
    struct h2_env h2;               /* what every HTTP/2 session shares */
    int grpc;                       /* HTTP/2 (gRPC) served: h2 is set up */
    int port;
    /* One read buffer for every connection: the loop is single-threaded and
     * each read is parsed (or its leftover copied) before the next. */
    char rbuf[64 * 1024];
};

static const http_parser_settings settings; /* defined below the callbacks */

static void next_request(struct conn *c);
static void feed(struct conn *c, const char *data, size_t n);

/* Brings h->mem up to date with what c's buffers hold now. */
static void recount(struct conn *c)
{
    size_t now = c->body.cap + c->pending.cap + c->answer.cap;
    c->h->mem = c->h->mem - c->mem + now;
    c->mem = now;
}

/* Whether `more` bytes fit under --max-inflight, freeing idle pool buffers
 * to make room if need be. */
static int room(struct httpd *h, size_t more)
{
    while (h->mem + h->pool_mem + more > h->lim.max_inflight && h->npool) {
        struct sbuf *b = &h->pool[--h->npool];
        h->pool_mem -= b->cap;
        sbuf_free(b);
    }
    return h->mem + h->pool_mem + more <= h->lim.max_inflight;
}

/* Grows b (one of c's buffers) by `more` bytes past its length if the
 * budget allows: 0, or -EBUSY / -ENOMEM. */
static int grow(struct conn *c, struct sbuf *b, size_t more)
{
    size_t cap = sbuf_cap_for(b, more);
    if (cap > b->cap && !room(c->h, cap - b->cap))
        return -EBUSY;
    int rc = sbuf_reserve(b, more);
    recount(c);
    return rc;
}

static void body_take(struct conn *c)
{
    struct httpd *h = c->h;
    if (!c->body.p && h->npool) {
        c->body = h->pool[--h->npool];
        h->pool_mem -= c->body.cap;
        recount(c);
    }
    c->body.len = 0;
}

static void body_give(struct conn *c)
{
    struct httpd *h = c->h;
    if (!c->body.p)
        return;
    /* Idle buffers are kept up to a quarter of the budget: a client that
     * claims a body and sends a byte of it pins at most one of them, so
     * the rest of the budget is held only by bytes that really arrived. */
    if (c->body.cap <= KEEP_BODY && h->npool < POOL &&
        h->pool_mem + c->body.cap <= h->lim.max_inflight / 4) {
        c->body.len = 0;
        h->pool[h->npool++] = c->body;
        h->pool_mem += c->body.cap;
    } else {
        sbuf_free(&c->body);
    }
    c->body = (struct sbuf){0};
    recount(c);
}

static void conn_closed(uv_handle_t *hd)
{
    struct conn *c = hd->data;
    h2_destroy(c->h2);
    body_give(c);
    sbuf_free(&c->pending);
    sbuf_free(&c->head);
    sbuf_free(&c->answer);
    recount(c);
    free(c);
}

static void deadline(struct conn *c, int64_t after_ms)
{
    c->deadline_ms = (int64_t)uv_now(c->h->loop) + after_ms;
}

static void conn_close(struct conn *c, int reset)
{
    if (c->closing)
        return;
    c->closing = 1;
    struct httpd *h = c->h;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->st.conns--;
    /* A reset (RST) is what a crashed or killed server pod looks like to
     * the client: a receive error, not a clean end of stream. */
    if (!reset || uv_tcp_close_reset(&c->tcp, conn_closed) != 0)
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void written(uv_write_t *w, int status)
{
    struct conn *c = w->data;
    c->writing = 0;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c, 0);
        return;
    }
    if (c->close_after) {
        /* An early answer (413) closes only once the rest of the request
         * is read, or the client would get a reset instead of the 413. */
        if (!c->discard || c->complete)
            conn_close(c, 0);
        else
            deadline(c, c->h->lim.body_timeout_ms);
        return;
    }
    next_request(c);
}

static void count_status(struct httpd *h, int status)
{
    if (status < 300)
        h->st.ok++;
    else if (status < 500)
        h->st.client_errors++;
    else
        h->st.server_errors++;
}

/* Writes c->out as the answer: head and body in one writev. */
static void answer(struct conn *c, int64_t compute_us)
{
    struct httpd *h = c->h;
    const char *bp;
    size_t bn;
    if (!c->keep_alive)
        c->close_after = 1;
    int conn_hdr = c->close_after ? 1 : c->http10 ? 2 : 0;
    size_t had = c->answer.cap;
    int rc = routes_render(&c->out, compute_us, conn_hdr, &c->head, &c->answer, &bp, &bn);
    /* An answer that does not fit the memory budget becomes a 503. */
    if (rc || (c->answer.cap > had && !room(h, c->answer.cap - had))) {
        routes_error(h->routes, rc ? RERR_NOMEM : RERR_BUSY, &c->out);
        h->st.busy += !rc;
        c->close_after = 1;
        sbuf_free(&c->answer);
        if (routes_render(&c->out, 0, 1, &c->head, &c->answer, &bp, &bn)) {
            recount(c);
            conn_close(c, 0);
            return;
        }
    }
    recount(c);
    deadline(c, h->lim.send_timeout_ms);
    count_status(h, c->out.status);
    uv_buf_t bufs[2] = {uv_buf_init(c->head.p, (unsigned)c->head.len),
                        uv_buf_init((char *)bp, (unsigned)bn)};
    c->wreq.data = c;
    c->writing = 1;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, c->head_only || bn == 0 ? 1 : 2, written))
        conn_close(c, 0);
}

/* Answers before the body is read (413, 414, 503) and drops the rest of it. */
static void answer_early(struct conn *c, enum route_error e)
{
    c->h->st.busy += e == RERR_BUSY;
    routes_error(c->h->routes, e, &c->out);
    c->discard = 1;
    c->keep_alive = 0;
    body_give(c);
    answer(c, 0);
}

/* The model finished a request: answer it. */
static void done(struct sim_req *r, void *arg)
{
    if (r->stream) {
        h2_done(r);
        return;
    }
    struct conn *c = (struct conn *)((char *)r - offsetof(struct conn, req));
    answer(c, r->skip ? 0 : r->compute_us);
}

static void rearm(struct httpd *h)
{
    tfd_arm(&h->tfd, sim_next_due(h->sim));
}

static void tfd_fired(struct tfd *t)
{
    struct httpd *h = t->data;
    int64_t now = lg_now_us(), due = sim_next_due(h->sim);
    if (due <= now) {
        int64_t late = now - due;
        h->st.wakes++;
        h->st.late_sum_us += late;
        if (late > h->st.late_max_us)
            h->st.late_max_us = late;
    }
    sim_advance(h->sim, now);
    rearm(h);
}

/* A complete request: draw its fate, route it, hand it to the model. */
static void dispatch(struct conn *c)
{
    struct httpd *h = c->h;
    h->st.requests++;
    c->deadline_ms = NO_DEADLINE; /* the server's turn: the model may hold it */
    c->req.images = 0;
    c->req.skip = 1;
    switch (sim_fate(h->sim, &c->req)) {
    case SIM_RESET:
        h->st.resets++;
        body_give(c);
        conn_close(c, 1);
        return;
    case SIM_FAIL:
        body_give(c);
        routes_error(h->routes, RERR_FAULT, &c->out);
        break;
    case SIM_SERVE: {
        struct route_in in = {
            .method = c->parser.method,
            .url = c->url,
            .url_len = c->url_len,
            .ctype = c->ctype,
            .ctype_len = c->ctype_len,
            .ihcl = c->ihcl,
            .body = c->body.p ? c->body.p : "",
            .body_len = c->body.len,
        };
        routes_dispatch(h->routes, &in, &c->out);
        body_give(c); /* checked: the bytes are no longer needed */
        if (c->out.status == 200 && c->out.images > 0) {
            c->req.images = c->out.images;
            c->req.skip = 0;
        }
        break;
    }
    }
    if (sim_submit(h->sim, &c->req, lg_now_us())) {
        routes_error(h->routes, RERR_NOMEM, &c->out);
        answer(c, 0);
    }
    rearm(h);
}

/* Parses data (fresh from the socket, or c->pending itself). */
static void feed(struct conn *c, const char *data, size_t n)
{
    size_t used = http_parser_execute(&c->parser, &settings, data, n);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (c->closing)
        return;
    if (e == HPE_OK) {
        if (data == c->pending.p) {
            c->pending.len = 0;
            if (c->pending.cap > KEEP_PENDING) {
                sbuf_free(&c->pending);
                recount(c);
            }
        }
        return;
    }
    if (e != HPE_PAUSED) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        if (c->discard) { /* an early answer went or is going: just end */
            c->discard = 0;
            if (!c->writing)
                conn_close(c, 0);
            return;
        }
        c->keep_alive = 0;
        routes_error(c->h->routes, e == HPE_HEADER_OVERFLOW ? RERR_HEADERS_LARGE : RERR_MALFORMED,
                     &c->out);
        answer(c, 0);
        return;
    }
    /* Paused at the end of a request: keep what follows it. */
    size_t left = n - used;
    if (data == c->pending.p) {
        memmove(c->pending.p, c->pending.p + used, left);
        c->pending.len = left;
    } else {
        /* Pipelined input past the budget closes the connection: it is a
         * flood, and there is no request to answer yet. */
        c->pending.len = 0;
        if (left) {
            if (grow(c, &c->pending, left)) {
                conn_close(c, 0);
                return;
            }
            memcpy(c->pending.p, data + used, left);
            c->pending.len = left;
        }
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (c->discard) {
        if (!c->writing)
            conn_close(c, 0);
        return;
    }
    dispatch(c);
}

static void alloc_shared(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = hd->data;
    *buf = uv_buf_init(c->h->rbuf, sizeof c->h->rbuf);
}

/* The first bytes of a connection: the HTTP/2 preface hands it to an
 * nghttp2 session, anything else is HTTP/1.1. Bytes that matched a part of
 * the preface are the preface's own, so nothing is kept while waiting. */
static void sniff(struct conn *c, const char *p, size_t n)
{
    size_t k = PREFACE_LEN - c->sniffed;
    if (k > n)
        k = n;
    if (!memcmp(p, preface + c->sniffed, k)) {
        c->sniffed += (unsigned)k;
        if (c->sniffed < PREFACE_LEN)
            return;
        if (h2_create(&c->h2, &c->h->h2, (uv_stream_t *)&c->tcp, c, &c->deadline_ms) ||
            h2_feed(c->h2, preface, PREFACE_LEN) || h2_feed(c->h2, p + k, n - k))
            conn_close(c, 0);
        return;
    }
    size_t had = c->sniffed;
    c->sniffed = SNIFFED_H1;
    if (had == 0) {
        feed(c, p, n);
        return;
    }
    /* A request that began like the preface: parse it whole from pending. */
    c->pending.len = 0;
    if (grow(c, &c->pending, had + n)) {
        conn_close(c, 0);
        return;
    }
    sbuf_put(&c->pending, preface, had);
    sbuf_put(&c->pending, p, n);
    feed(c, c->pending.p, c->pending.len);
}

static void readable(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    if (nread < 0)
        conn_close(c, 0);
    else if (nread > 0 && c->h2) {
        if (h2_feed(c->h2, buf->base, (size_t)nread))
            conn_close(c, 0);
    } else if (nread > 0 && c->sniffed < SNIFFED_H1 && c->h->grpc) {
        sniff(c, buf->base, (size_t)nread);
    } else if (nread > 0) {
        feed(c, buf->base, (size_t)nread);
    }
}

int httpd_room(struct httpd *h, size_t more) { return room(h, more); }

void httpd_rearm(struct httpd *h) { rearm(h); }

void httpd_h2_close(void *conn) { conn_close(conn, 0); }

/* The answer is written: give back oversized buffers, then parse what was
 * pipelined behind it or read on. */
static void next_request(struct conn *c)
{
    if (c->answer.cap > KEEP_ANSWER) {
        sbuf_free(&c->answer);
        recount(c);
    }
    c->complete = 0;
    deadline(c, c->h->lim.idle_timeout_ms);
    http_parser_pause(&c->parser, 0);
    if (c->pending.len) {
        feed(c, c->pending.p, c->pending.len);
        if (c->closing || c->complete)
            return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_shared, readable))
        conn_close(c, 0);
}

static int on_message_begin(http_parser *p)
{
    struct conn *c = p->data;
    c->url_len = c->ctype_len = c->field_len = c->value_len = 0;
    c->url_too_long = 0;
    c->begun = 1;
    deadline(c, c->h->lim.header_timeout_ms);
    c->cur = H_OTHER;
    c->in_value = 0;
    c->ihcl = -1;
    c->expect_continue = 0;
    c->head_only = 0;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (n > URL_MAX - c->url_len) {
        c->url_too_long = 1;
        return 0;
    }
    memcpy(c->url + c->url_len, at, n);
    c->url_len += n;
    return 0;
}

static void append(char *dst, size_t cap, size_t *len, const char *at, size_t n)
{
    size_t room = cap - *len;
    if (n > room)
        n = room;
    memcpy(dst + *len, at, n);
    *len += n;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (c->in_value) {
        c->in_value = 0;
        c->field_len = 0;
    }
    append(c->field, sizeof c->field, &c->field_len, at, n);
    return 0;
}

static int field_is(const struct conn *c, const char *name)
{
    return c->field_len == strlen(name) && !strncasecmp(c->field, name, c->field_len);
}

/* A short header value is complete: act on it. */
static void value_done(struct conn *c)
{
    char v[VALUE_MAX + 1];
    memcpy(v, c->value, c->value_len);
    v[c->value_len] = '\0';
    if (c->cur == H_IHCL) {
        /* A malformed length becomes one no body can satisfy: a 400. */
        char *end;
        long long n = strtoll(v, &end, 10);
        c->ihcl = end != v && *end == '\0' && n >= 0 ? n : (int64_t)INT64_MAX;
    } else if (c->cur == H_EXPECT) {
        c->expect_continue = !strcasecmp(v, "100-continue");
    }
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (!c->in_value) {
        value_done(c);
        c->in_value = 1;
        c->value_len = 0;
        c->cur = field_is(c, "content-type")                      ? H_CTYPE
                 : field_is(c, "inference-header-content-length") ? H_IHCL
                 : field_is(c, "expect")                          ? H_EXPECT
                                                                  : H_OTHER;
        if (c->cur == H_CTYPE)
            c->ctype_len = 0;
    }
    if (c->cur == H_CTYPE)
        append(c->ctype, sizeof c->ctype, &c->ctype_len, at, n);
    else if (c->cur != H_OTHER)
        append(c->value, sizeof c->value, &c->value_len, at, n);
    return 0;
}

static void continue_written(uv_write_t *w, int status) {}

static int on_headers_complete(http_parser *p)
{
    static char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct conn *c = p->data;
    struct httpd *h = c->h;
    if (c->in_value)
        value_done(c);
    c->head_only = p->method == HTTP_HEAD;
    c->http10 = p->http_major == 1 && p->http_minor == 0;
    c->keep_alive = http_should_keep_alive(p);
    c->discard = 0;
    c->close_after = 0;
    deadline(c, h->lim.body_timeout_ms);
    if (c->url_too_long) {
        answer_early(c, RERR_URL_TOO_LONG);
        return 0;
    }
    /* content_length is ULLONG_MAX when the header is absent. */
    if (p->content_length != UINT64_MAX && p->content_length > h->lim.max_body) {
        answer_early(c, RERR_TOO_LARGE);
        return 0;
    }
    if (c->expect_continue) {
        uv_buf_t b = uv_buf_init(cont, sizeof cont - 1);
        uv_write(&c->creq, (uv_stream_t *)&c->tcp, &b, 1, continue_written);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (c->discard)
        return 0;
    deadline(c, c->h->lim.body_timeout_ms);
    if (!c->body.p)
        body_take(c);
    if (n > c->h->lim.max_body - c->body.len) { /* chunked, past the limit */
        answer_early(c, RERR_TOO_LARGE);
        return 0;
    }
    int rc = grow(c, &c->body, n);
    if (rc) {
        answer_early(c, rc == -EBUSY ? RERR_BUSY : RERR_NOMEM);
        return 0;
    }
    memcpy(c->body.p + c->body.len, at, n);
    c->body.len += n;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    c->complete = 1;
    c->begun = 0;
    c->keep_alive = c->keep_alive && http_should_keep_alive(p);
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Past --max-connections: one non-blocking 503 and a close, holding
 * nothing but the handle until its close callback. */
static void refused_closed(uv_handle_t *hd) { free(hd); }

static void refuse(struct httpd *h, uv_stream_t *server)
{
    uv_tcp_t *t = malloc(sizeof *t);
    if (!t)
        return;
    uv_tcp_init(h->loop, t);
    if (uv_accept(server, (uv_stream_t *)t) == 0) {
        size_t n;
        const char *w = routes_error_wire(h->routes, RERR_TOO_MANY_CONNS, &n);
        uv_buf_t b = uv_buf_init((char *)w, (unsigned)n);
        uv_try_write((uv_stream_t *)t, &b, 1);
        h->st.refused++;
    }
    uv_close((uv_handle_t *)t, refused_closed);
}

/* A client that went silent past its deadline: a request half received
 * gets a 408 if it fits the socket at once, then the connection closes. */
static void expire(struct conn *c)
{
    struct httpd *h = c->h;
    h->st.timeouts++;
    if (c->begun && !c->writing && !c->discard) {
        size_t n;
        const char *w = routes_error_wire(h->routes, RERR_TIMEOUT, &n);
        uv_buf_t b = uv_buf_init((char *)w, (unsigned)n);
        if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) > 0)
            count_status(h, 408);
    }
    conn_close(c, 0);
}

static void sweep(uv_timer_t *t)
{
    struct httpd *h = t->data;
    int64_t now = (int64_t)uv_now(h->loop);
    for (struct conn *c = h->conns, *next; c; c = next) {
        next = c->next;
        if (c->deadline_ms <= now)
            expire(c);
    }
}

static void accepted(uv_stream_t *server, int status)
{
    struct httpd *h = server->data;
    if (status < 0)
        return;
    if (h->st.conns >= h->lim.max_conns) {
        refuse(h, server);
        return;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_tcp_init(h->loop, &c->tcp);
    c->tcp.data = c;
    c->h = h;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->req.replica = sim_assign(h->sim);
    deadline(c, h->lim.header_timeout_ms); /* the first request, like nginx */
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    if (++h->st.conns > h->st.conns_peak)
        h->st.conns_peak = h->st.conns;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_shared, readable))
        conn_close(c, 0);
}

int httpd_create(struct httpd **out, uv_loop_t *loop, const char *host, int port,
                 struct routes *routes, const struct sim_config *simcfg,
                 const struct httpd_limits *lim, const struct httpd_grpc *grpc, char *err)
{
    struct httpd *h = calloc(1, sizeof *h);
    if (!h)
        return lg_err(err, -ENOMEM, "out of memory");
    h->loop = loop;
    h->routes = routes;
    h->lim = *lim;
    h->grpc = grpc != NULL;
    routes_watch_grpc(routes, &h->st.grpc_requests, &h->st.grpc_errors);
    int rc = sim_create(&h->sim, simcfg, done, h);
    if (!rc && grpc && (rc = h2_env_init(&h->h2, h, loop, h->sim, &h->lim, &h->st, &h->mem, grpc->model,
                                 grpc->px, grpc->max_images, grpc->fail_status)))
        sim_destroy(h->sim);
    if (rc) {
        h2_env_free(&h->h2);
        free(h);
        return lg_err(err, rc, "out of memory");
    }
    struct sockaddr_storage addr;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr)) {
        sim_destroy(h->sim);
        free(h);
        return lg_err(err, -EINVAL, "--listen %s: not an IP address; give e.g. 127.0.0.1:8080", host);
    }
    uv_tcp_init(loop, &h->listener);
    h->listener.data = h;
    rc = uv_tcp_bind(&h->listener, (struct sockaddr *)&addr, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&h->listener, 8192, accepted);
    if (!rc) {
        rc = tfd_init(loop, &h->tfd, tfd_fired);
        h->tfd.data = h;
    }
    if (rc) {
        lg_err(err, rc, "--listen %s:%d: %s; pick another port or --port 0", host, port, uv_strerror(rc));
        uv_close((uv_handle_t *)&h->listener, NULL);
        uv_run(loop, UV_RUN_DEFAULT); /* runs the close callback: h is then free to go */
        h2_env_free(&h->h2);
        sim_destroy(h->sim);
        free(h);
        return rc;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&h->listener, (struct sockaddr *)&bound, &len);
    h->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    /* A quarter of the shortest timeout, so a deadline is kept to within
     * 25%, from 10 ms to 1 s: 20,000 connections cost a few hundred
     * microseconds a sweep. */
    int64_t tick = lim->header_timeout_ms;
    if (lim->body_timeout_ms < tick)
        tick = lim->body_timeout_ms;
    if (lim->idle_timeout_ms < tick)
        tick = lim->idle_timeout_ms;
    if (lim->send_timeout_ms < tick)
        tick = lim->send_timeout_ms;
    tick = tick / 4 < 10 ? 10 : tick / 4 > 1000 ? 1000 : tick / 4;
    uv_timer_init(loop, &h->sweep);
    h->sweep.data = h;
    uv_timer_start(&h->sweep, sweep, (uint64_t)tick, (uint64_t)tick);
    *out = h;
    return 0;
}

int httpd_port(const struct httpd *h) { return h->port; }

void httpd_stats_take(struct httpd *h, struct httpd_stats *out)
{
    *out = h->st;
    h->st.wakes = 0;
    h->st.late_sum_us = 0;
    h->st.late_max_us = 0;
}

void httpd_sim_stats(struct httpd *h, struct sim_stats *out) { sim_stats_take(h->sim, out); }

void httpd_close(struct httpd *h)
{
    if (!uv_is_closing((uv_handle_t *)&h->listener)) {
        uv_close((uv_handle_t *)&h->listener, NULL);
        uv_close((uv_handle_t *)&h->sweep, NULL);
    }
    while (h->conns)
        conn_close(h->conns, 0);
    if (h->tfd.fd >= 0 && uv_is_active((uv_handle_t *)&h->tfd.poll))
        tfd_close(&h->tfd, NULL);
}

void httpd_destroy(struct httpd *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->npool; i++)
        sbuf_free(&h->pool[i]);
    h2_env_free(&h->h2);
    sim_destroy(h->sim);
    free(h);
}
