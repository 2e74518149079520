/*
 * h2.c: the native HTTP/2 (h2c, prior knowledge) transport. See h2.h for
 * the contract.
 *
 * A connection's life: CLOSED -> CONNECTING -> OPEN -> CLOSING -> CLOSED,
 * with an nghttp2 session while OPEN. A stream (a slot's request) is on
 * its connection's queue while it waits for the connection, on its active
 * list once submitted to the session (s->id != 0), and on neither when
 * idle. nghttp2 calls back from inside nghttp2_session_mem_recv and
 * nghttp2_session_send; there a request may end and the engine may submit
 * the next one, but a session is only ever deleted from outside them
 * (settle(), conn_lost()).
 *
 * A stream's struct lives in its slot for the whole run, so nghttp2's
 * stream user data never dangles; a callback for a stream id the slot no
 * longer carries (a request that timed out) is ignored (lookup()).
 */
#include "h2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

/* Our receive windows: a reply is never held back for want of credit
 * (nghttp2 gives credit back as the bytes are consumed, at once). */
#define STREAM_WINDOW ((1 << 24) - 1)
#define CONN_WINDOW ((1 << 30) - 1)

/* ---- target and requests ------------------------------------------------ */

const char *h2_unsupported(const char *url, int follow, const char *const *headers,
                           size_t nheaders)
{
    if (strncasecmp(url, "http://", 7) != 0)
        return "its HTTP/2 is cleartext only (http:// with --http2-prior-knowledge)";
    if (follow)
        return "it does not follow redirects (--follow)";
    static const char *const framing[] = {"Content-Length", "Transfer-Encoding", "Expect"};
    static const char *const conn[] = {"Connection", "Keep-Alive", "Proxy-Connection", "Upgrade"};
    for (size_t i = 0; i < nheaders; i++) {
        for (size_t k = 0; k < sizeof framing / sizeof framing[0]; k++) {
            size_t n = strlen(framing[k]);
            if (strncasecmp(headers[i], framing[k], n) == 0 && headers[i][n] == ':')
                return "it frames bodies itself (a Content-Length, Transfer-Encoding or Expect header)";
        }
        for (size_t k = 0; k < sizeof conn / sizeof conn[0]; k++) {
            size_t n = strlen(conn[k]);
            if (strncasecmp(headers[i], conn[k], n) == 0 && headers[i][n] == ':')
                return "HTTP/2 has no connection-specific headers (Connection, Keep-Alive, "
                       "Proxy-Connection, Upgrade)";
        }
    }
    const char *at = strchr(url + 7, '@'), *slash = strchr(url + 7, '/');
    if (at && (!slash || at < slash))
        return "it sends no credentials from the URL";
    return NULL;
}

/* "Name: value": the name's length, and the value without its blanks. */
static size_t split(const char *line, const char **value, size_t *vlen)
{
    const char *colon = strchr(line, ':');
    size_t n = colon ? (size_t)(colon - line) : strlen(line);
    const char *v = colon ? colon + 1 : line + n;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t l = strlen(v);
    while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
        l--;
    *value = v;
    *vlen = l;
    return n;
}

static nghttp2_nv nv(const char *name, size_t nlen, const char *value, size_t vlen)
{
    return (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, nlen, vlen,
                        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

/* A lower-cased copy of the first n bytes of `name`, at *w. */
static const char *lower(char **w, const char *name, size_t n)
{
    char *p = *w;
    for (size_t i = 0; i < n; i++)
        p[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    p[n] = '\0';
    *w += n + 1;
    return p;
}

int h2_requests_build(struct h2_requests *rq, const struct payload_set *ps,
                      const struct payload_head_spec *spec, char *err)
{
    memset(rq, 0, sizeof *rq);
    const char *const *uh = spec->headers;
    size_t nuser = spec->nheaders;
    /* :method :scheme :authority :path user-agent accept, the user's, the
     * payload's, content-length. */
    size_t per = 6 + nuser + PAYLOAD_MAX_HEADERS + 1, strbytes = 0;
    for (size_t i = 0; i < nuser; i++)
        strbytes += strlen(uh[i]) + 1;
    for (size_t i = 0; i < ps->count; i++) {
        for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++)
            if (ps->items[i].headers[k])
                strbytes += strlen(ps->items[i].headers[k]) + 1;
        strbytes += 24; /* a length in decimal */
    }
    rq->count = ps->count;
    rq->items = calloc(ps->count, sizeof *rq->items);
    rq->nv = calloc(ps->count * per, sizeof *rq->nv);
    rq->strings = malloc(strbytes ? strbytes : 1);
    if (!rq->items || !rq->nv || !rq->strings) {
        h2_requests_free(rq);
        return lg_err(err, -ENOMEM, "out of memory for HTTP/2 request headers");
    }
    char *w = rq->strings;
    /* The user's headers, once for every payload. */
    size_t nu = 0;
    const char *authority = spec->host;
    size_t alen = strlen(spec->host);
    nghttp2_nv *unv = malloc((nuser ? nuser : 1) * sizeof *unv);
    if (!unv) {
        h2_requests_free(rq);
        return lg_err(err, -ENOMEM, "out of memory for HTTP/2 request headers");
    }
    for (size_t i = 0; i < nuser; i++) {
        const char *v;
        size_t vl, n = split(uh[i], &v, &vl);
        if (n == 4 && strncasecmp(uh[i], "Host", 4) == 0) {
            if (vl) { /* HTTP/2 carries the host as :authority */
                authority = v;
                alen = vl;
            }
            continue;
        }
        if (vl)
            unv[nu++] = nv(lower(&w, uh[i], n), n, v, vl);
    }
    int has_ua = payload_user_has(uh, nuser, "User-Agent");
    int has_accept = payload_user_has(uh, nuser, "Accept");
    for (size_t i = 0; i < ps->count; i++) {
        const struct payload *p = &ps->items[i];
        nghttp2_nv *a = rq->nv + i * per;
        size_t n = 0;
        int post = p->len > 0 || p->headers[0] != NULL;
        const char *m = spec->method ? spec->method : post ? "POST" : "GET";
        a[n++] = nv(":method", 7, m, strlen(m));
        a[n++] = nv(":scheme", 7, "http", 4);
        a[n++] = nv(":authority", 10, authority, alen);
        a[n++] = nv(":path", 5, spec->target, strlen(spec->target));
        if (spec->user_agent && !has_ua)
            a[n++] = nv("user-agent", 10, spec->user_agent, strlen(spec->user_agent));
        if (!has_accept)
            a[n++] = nv("accept", 6, "*/*", 3);
        for (size_t k = 0; k < nu; k++)
            a[n++] = unv[k];
        for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++) {
            const char *h = p->headers[k], *v;
            size_t vl, hn;
            if (!h || payload_user_has(uh, nuser, h))
                continue;
            hn = split(h, &v, &vl);
            a[n++] = nv(lower(&w, h, hn), hn, v, vl);
        }
        if (post) {
            int l = snprintf(w, 24, "%zu", p->len);
            a[n++] = nv("content-length", 14, w, (size_t)l);
            w += l + 1;
        }
        rq->items[i] = (struct h2_request){a, n, p->body, p->len};
    }
    free(unv);
    return 0;
}

void h2_requests_free(struct h2_requests *rq)
{
    free(rq->items);
    free(rq->nv);
    free(rq->strings);
    memset(rq, 0, sizeof *rq);
}

/* ---- streams and connections ------------------------------------------- */

static void conn_connect(struct h2_conn *c);
static void conn_flush(struct h2_conn *c);
static void stream_deadline(uv_timer_t *t);

static void mark_dirty(struct h2_conn *c);

/* Off whichever list the stream is on. */
static void unlink_stream(struct h2_stream *s)
{
    struct h2_conn *c = s->c;
    if (s->queued) {
        if (s->prev)
            s->prev->next = s->next;
        else
            c->queue = s->next;
        if (s->next)
            s->next->prev = s->prev;
        else
            c->queue_tail = s->prev;
    } else if (s->id) {
        if (s->prev)
            s->prev->next = s->next;
        else
            c->active = s->next;
        if (s->next)
            s->next->prev = s->prev;
    }
    s->queued = 0;
    s->id = 0;
    s->prev = s->next = NULL;
}

static void enqueue(struct h2_stream *s)
{
    struct h2_conn *c = s->c;
    s->queued = 1;
    s->id = 0;
    s->next = NULL;
    s->prev = c->queue_tail;
    if (c->queue_tail)
        c->queue_tail->next = s;
    else
        c->queue = s;
    c->queue_tail = s;
}

/* The request ends; the owner hears last (it may send again at once). */
static void stream_finish(struct h2_stream *s, enum h1_fail fail)
{
    uv_timer_stop(&s->timer);
    unlink_stream(s);
    s->busy = 0;
    s->r.fail = fail;
    s->c->lp->hooks->done(s->owner, &s->r);
}

/* A failure found before any callback is reported from the next loop
 * turn: done() may send again, and failing that request at once too
 * would recurse once per request. */
static void fail_later(struct h2_stream *s, enum h1_fail fail)
{
    unlink_stream(s);
    s->deferred = fail;
    uv_timer_start(&s->timer, stream_deadline, 0, 0);
}

/* Again, once, from the start: on a new connection unless this one still
 * takes streams. */
static void retry(struct h2_stream *s)
{
    unlink_stream(s);
    s->retried = 1;
    s->r = (struct h1_result){0};
    enqueue(s);
}

static void submit(struct h2_stream *s);

/* Every stream waiting on the queue goes to the session. */
static void submit_queued(struct h2_conn *c)
{
    while (c->queue && c->state == H2_OPEN && !c->goaway) {
        struct h2_stream *s = c->queue;
        unlink_stream(s);
        submit(s);
    }
}

static ssize_t body_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
    struct h2_stream *s = source->ptr;
    if (s->id != stream_id)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets that stream */
    size_t left = s->req->len - s->body_off, n = left < length ? left : length;
    s->body_off += n;
    /* send_data() writes the frame, pointing at the arena. */
    *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (s->body_off == s->req->len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static void submit(struct h2_stream *s)
{
    struct h2_conn *c = s->c;
    const struct h2_request *q = s->req;
    nghttp2_data_provider body = {.source.ptr = s, .read_callback = body_read};
    s->body_off = 0;
    s->headers_sent = s->final = s->trailers = 0;
    int32_t id = nghttp2_submit_request(c->session, NULL, q->nva, q->nvlen, q->len ? &body : NULL, s);
    if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
        c->goaway = 1; /* 2^30 streams: the next go out on a new connection */
        enqueue(s);
        return;
    }
    if (id < 0) {
        fail_later(s, H1_RESET);
        return;
    }
    s->id = id;
    s->prev = NULL;
    s->next = c->active;
    if (c->active)
        c->active->prev = s;
    c->active = s;
    if (c->connect_us) { /* the request that opened the connection */
        s->r.connect_us = c->connect_us;
        c->connect_us = 0;
    }
    mark_dirty(c);
}

/* Arm the stream's deadline: --timeout from h2_send. */
static void arm(struct h2_stream *s)
{
    const struct h2_loop *lp = s->c->lp;
    if (lp->timeout_ms <= 0)
        return;
    /* libuv times a timer from the loop's cached clock, which may be as
     * old as the last poll (or the phase's start): without an update the
     * deadline would come early by that much. */
    uv_update_time(lp->uv);
    int64_t left_us = s->start_us + lp->timeout_ms * 1000 - lg_now_us();
    uv_timer_start(&s->timer, stream_deadline, left_us <= 0 ? 0 : (uint64_t)((left_us + 999) / 1000), 0);
}

static void stream_deadline(uv_timer_t *t)
{
    struct h2_stream *s = t->data;
    if (!s->busy)
        return;
    struct h2_conn *c = s->c;
    if (s->id && c->session) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        mark_dirty(c);
    }
    stream_finish(s, s->deferred ? s->deferred : H1_TIMEOUT);
}

void h2_send(struct h2_stream *s, const struct h2_request *req, int64_t start_us)
{
    struct h2_conn *c = s->c;
    s->req = req;
    s->start_us = start_us;
    s->busy = 1;
    s->retried = 0;
    s->deferred = H1_OK;
    s->r = (struct h1_result){0};
    arm(s);
    if (c->state == H2_OPEN && !c->goaway) {
        submit(s);
        return;
    }
    /* Connecting: it goes out on connect. Closing, or a GOAWAY: on the
     * next connection, once this one is closed. */
    enqueue(s);
    if (c->state == H2_CLOSED)
        conn_connect(c);
}

void h2_abort(struct h2_stream *s)
{
    uv_timer_stop(&s->timer);
    if (!s->busy)
        return;
    struct h2_conn *c = s->c;
    if (s->id && c->session) {
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        mark_dirty(c);
    }
    unlink_stream(s);
    s->busy = 0;
}

void h2_stream_close(struct h2_stream *s)
{
    h2_abort(s);
    uv_close((uv_handle_t *)&s->timer, NULL);
}

static void conn_closed(uv_handle_t *h)
{
    struct h2_conn *c = h->data;
    c->state = H2_CLOSED;
    if (c->queue)
        conn_connect(c);
}

/* Close the socket and the session; requests still queued go out on a new
 * connection once the close completes. Never from inside an nghttp2 call. */
static void conn_drop(struct h2_conn *c)
{
    uv_timer_stop(&c->timer);
    if (c->session) {
        nghttp2_session_del(c->session);
        c->session = NULL;
    }
    c->writing = c->blocked = 0;
    c->nout = c->niov = c->nending = 0;
    c->goaway = 0;
    if (c->state == H2_CONNECTING || c->state == H2_OPEN) {
        c->state = H2_CLOSING;
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
    }
}

/* The connection is gone: its streams in flight end with `fail`, but one
 * whose HEADERS never went out is sent again (once) on the next. */
static void conn_lost(struct h2_conn *c, enum h1_fail fail)
{
    struct h2_stream *list = c->active;
    c->active = NULL;
    conn_drop(c);
    while (list) {
        struct h2_stream *s = list;
        list = s->next;
        s->prev = s->next = NULL;
        s->id = 0;
        if (!s->headers_sent && !s->retried)
            retry(s); /* the close completes, then it reconnects for these */
        else
            stream_finish(s, fail);
    }
}

/* Closes the connection and hands back the requests that waited for it,
 * taken off its queue (pop them with unqueue_next). */
static struct h2_stream *conn_drop_queue(struct h2_conn *c)
{
    struct h2_stream *list = c->queue;
    c->queue = c->queue_tail = NULL;
    conn_drop(c);
    return list;
}

static struct h2_stream *unqueue_next(struct h2_stream **list)
{
    struct h2_stream *s = *list;
    if (s) {
        *list = s->next;
        s->prev = s->next = NULL;
        s->queued = 0;
    }
    return s;
}

/* The connection could not be made: it closes, and every request waiting
 * for it ends with `fail` (their owners may send again: a new attempt). */
static void conn_fail(struct h2_conn *c, enum h1_fail fail)
{
    struct h2_stream *s, *list = conn_drop_queue(c);
    while ((s = unqueue_next(&list)))
        stream_finish(s, fail);
}

/* After nghttp2 has run: close a connection that is done, send what waits. */
static void settle(struct h2_conn *c)
{
    if (c->state != H2_OPEN)
        return;
    if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session))
        conn_lost(c, c->broken ? H1_INVALID : H1_RESET);
    else if (c->goaway && !c->active)
        conn_drop(c);
    else
        submit_queued(c);
}

/* ---- writing ------------------------------------------------------------ */

static int contiguous(const struct h2_conn *c)
{
    return c->niov > 0 && c->iov[c->niov - 1].base + c->iov[c->niov - 1].len == c->out + c->nout;
}

static void out_append(struct h2_conn *c, const void *p, size_t n)
{
    if (contiguous(c))
        c->iov[c->niov - 1].len += n;
    else
        c->iov[c->niov++] = uv_buf_init(c->out + c->nout, (unsigned)n);
    memcpy(c->out + c->nout, p, n);
    c->nout += n;
}

/* nghttp2's frames (all but DATA payloads): copied into the out buffer;
 * a part of them when it is nearly full. */
static ssize_t send_frames(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                           void *user_data)
{
    struct h2_conn *c = user_data;
    size_t room = H2_OUT_BUFFER - c->nout;
    if (room == 0 || (!contiguous(c) && c->niov == H2_OUT_IOV)) {
        c->blocked = 1;
        return NGHTTP2_ERR_WOULDBLOCK;
    }
    size_t n = length < room ? length : room;
    out_append(c, data, n);
    return (ssize_t)n;
}

/* A DATA frame: its 9-byte header copied, its payload an iovec into the
 * payload arena (body_read counted it off already). */
static int send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
                     size_t length, nghttp2_data_source *source, void *user_data)
{
    struct h2_conn *c = user_data;
    struct h2_stream *s = source->ptr;
    if (frame->data.padlen > 0) /* we never ask for padding */
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    unsigned need = (contiguous(c) ? 0 : 1) + (length ? 1 : 0);
    if (H2_OUT_BUFFER - c->nout < 9 || c->niov + need > H2_OUT_IOV) {
        c->blocked = 1;
        return NGHTTP2_ERR_WOULDBLOCK;
    }
    out_append(c, framehd, 9);
    if (length)
        c->iov[c->niov++] = uv_buf_init((char *)s->req->body + s->body_off - length, (unsigned)length);
    return 0;
}

/* The write that carried these streams' END_STREAM is on the wire. */
static void sent_now(struct h2_conn *c)
{
    int64_t now = lg_now_us();
    for (unsigned i = 0; i < c->nending; i++)
        if (c->ending[i]->busy && c->ending[i]->id == c->ending_id[i])
            c->ending[i]->r.sent_us = now;
    c->nending = 0;
}

static void written(uv_write_t *w, int status)
{
    struct h2_conn *c = w->data;
    if (status == UV_ECANCELED)
        return; /* the connection was closed under it */
    c->writing = 0;
    if (status < 0) {
        conn_lost(c, H1_RESET);
        return;
    }
    sent_now(c);
    conn_flush(c);
}

/* Everything the session has to send, in as few writes as the out buffer
 * allows: usually one uv_try_write. */
static void conn_flush(struct h2_conn *c)
{
    while (c->state == H2_OPEN && !c->writing) {
        c->nout = c->niov = c->nending = 0;
        c->blocked = 0;
        if (nghttp2_session_send(c->session) != 0) {
            conn_lost(c, H1_RESET);
            return;
        }
        if (c->niov == 0)
            break;
        size_t total = 0;
        for (unsigned i = 0; i < c->niov; i++)
            total += c->iov[i].len;
        int n = uv_try_write((uv_stream_t *)&c->tcp, c->iov, c->niov);
        if (n == UV_EAGAIN)
            n = 0;
        if (n < 0) {
            conn_lost(c, H1_RESET);
            return;
        }
        if ((size_t)n == total) {
            sent_now(c);
            if (!c->blocked)
                break;
            continue;
        }
        /* The rest as the socket drains; the out buffer waits with it. */
        unsigned first = 0;
        size_t skip = (size_t)n;
        while (skip >= c->iov[first].len) {
            skip -= c->iov[first].len;
            first++;
        }
        c->iov[first].base += skip;
        c->iov[first].len -= skip;
        if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, c->iov + first, c->niov - first, written) != 0) {
            conn_lost(c, H1_RESET);
            return;
        }
        c->writing = 1;
        return;
    }
    settle(c);
}

/* Its being active keeps the poll from blocking while writes wait. */
static void spin(uv_idle_t *h)
{
}

static void flush_dirty(uv_check_t *h)
{
    struct h2_loop *lp = h->data;
    if (lp->dirty_turn == lp->turn++)
        return; /* marked in this turn: one more (non-blocking) poll first */
    while (lp->dirty) {
        struct h2_conn *c = lp->dirty;
        lp->dirty = c->next_dirty;
        c->dirty = 0;
        conn_flush(c);
    }
    uv_check_stop(&lp->flush);
    uv_idle_stop(&lp->spin);
    lp->flushing = 0;
}

/* The connection has something to send: at the end of this loop
 * iteration, with whatever else it gathers meanwhile. */
static void mark_dirty(struct h2_conn *c)
{
    struct h2_loop *lp = c->lp;
    if (c->dirty)
        return;
    c->dirty = 1;
    c->next_dirty = lp->dirty;
    lp->dirty = c;
    if (!lp->flushing) {
        lp->dirty_turn = lp->turn;
        uv_check_start(&lp->flush, flush_dirty);
        uv_idle_start(&lp->spin, spin);
        lp->flushing = 1;
    }
}

/* ---- nghttp2's callbacks ------------------------------------------------ */

/* The stream carrying `id` now, or NULL (a request that ended early). */
static struct h2_stream *lookup(nghttp2_session *session, int32_t id)
{
    struct h2_stream *s = nghttp2_session_get_stream_user_data(session, id);
    return s && s->busy && s->id == id ? s : NULL;
}

static int frame_sent(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2_conn *c = user_data;
    struct h2_stream *s;
    if (!frame->hd.stream_id || !(s = lookup(session, frame->hd.stream_id)))
        return 0;
    s->r.bytes_sent += frame->hd.length + 9;
    if (frame->hd.type == NGHTTP2_HEADERS)
        s->headers_sent = 1;
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        if (c->nending < c->ending_cap) {
            c->ending[c->nending] = s;
            c->ending_id[c->nending++] = s->id;
        } else {
            s->r.sent_us = lg_now_us(); /* not reached: a stream ends once a write */
        }
    }
    return 0;
}

/* A request's HEADERS could not go out (a GOAWAY came first): again, once,
 * on the next connection. */
static int frame_not_sent(nghttp2_session *session, const nghttp2_frame *frame, int error,
                          void *user_data)
{
    struct h2_conn *c = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    struct h2_stream *s = c->active;
    while (s && s->id != frame->hd.stream_id)
        s = s->next;
    if (!s)
        return 0;
    c->goaway = 1;
    if (s->retried)
        stream_finish(s, H1_RESET);
    else
        retry(s);
    return 0;
}

static int frame_received(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2_conn *c = user_data;
    struct h2_stream *s;
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        c->goaway = 1;
        return 0;
    }
    if (!frame->hd.stream_id || !(s = lookup(session, frame->hd.stream_id)))
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS)
        s->r.header_bytes += frame->hd.length + 9;
    else if (frame->hd.type == NGHTTP2_DATA)
        s->r.header_bytes += 9;
    return 0;
}

static int headers_begin(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2_stream *s;
    if (frame->hd.type != NGHTTP2_HEADERS || !(s = lookup(session, frame->hd.stream_id)))
        return 0;
    if (!s->r.first_byte_us)
        s->r.first_byte_us = lg_now_us();
    s->trailers = s->final;
    return 0;
}

static int header_received(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                           size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                           void *user_data)
{
    struct h2_conn *c = user_data;
    struct h2_stream *s = lookup(session, frame->hd.stream_id);
    if (!s)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        int status = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++)
            status = status * 10 + (value[i] - '0'); /* nghttp2 checked: 3 digits */
        s->r.status = status;
        if (status >= 200)
            s->final = 1;
        return 0;
    }
    if (namelen && name[0] == ':')
        return 0;
    if (c->lp->want_headers)
        c->lp->hooks->header(s->owner, (const char *)name, namelen, (const char *)value, valuelen,
                             s->trailers);
    return 0;
}

static int data_received(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user_data)
{
    struct h2_conn *c = user_data;
    struct h2_stream *s = lookup(session, stream_id);
    if (!s)
        return 0;
    if (c->lp->hooks->body(s->owner, (const char *)data, len) < 0) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
        stream_finish(s, H1_REFUSED);
    }
    return 0;
}

static int stream_closed(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                         void *user_data)
{
    struct h2_stream *s = lookup(session, stream_id);
    if (!s)
        return 0;
    if (error_code == NGHTTP2_NO_ERROR)
        stream_finish(s, s->final ? H1_OK : H1_INVALID);
    else if (error_code == NGHTTP2_REFUSED_STREAM && !s->r.first_byte_us && !s->retried)
        retry(s); /* unprocessed, by the server's word (or above its GOAWAY) */
    else
        stream_finish(s, error_code == NGHTTP2_PROTOCOL_ERROR ? H1_INVALID : H1_RESET);
    return 0;
}

/* nghttp2 found the server's frames wrong (an HTTP/1.1 server's reply, say)
 * and ends the session: what is lost with it is class invalid. */
static int session_error(nghttp2_session *session, int lib_error_code, const char *msg, size_t len,
                         void *user_data)
{
    struct h2_conn *c = user_data;
    c->broken = 1;
    return 0;
}

/* ---- connecting and reading --------------------------------------------- */

static void alloc_read(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct h2_conn *c = h->data;
    buf->base = c->lp->rbuf;
    buf->len = sizeof c->lp->rbuf;
}

static void readable(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct h2_conn *c = st->data;
    if (nread == 0 || c->state != H2_OPEN)
        return;
    if (nread < 0) {
        conn_lost(c, c->broken ? H1_INVALID : H1_RESET);
        return;
    }
    if (nghttp2_session_mem_recv(c->session, (const uint8_t *)buf->base, (size_t)nread) < 0) {
        conn_lost(c, H1_INVALID); /* not HTTP/2, or a connection error */
        return;
    }
    if (nghttp2_session_want_write(c->session))
        mark_dirty(c);
    settle(c);
}

static void connect_deadline(uv_timer_t *t)
{
    struct h2_conn *c = t->data;
    if (c->state != H2_CONNECTING)
        return;
    conn_fail(c, H1_TIMEOUT);
}

static void connected(uv_connect_t *req, int status)
{
    struct h2_conn *c = req->data;
    if (status == UV_ECANCELED || c->state != H2_CONNECTING)
        return;
    if (status < 0) {
        const struct addrinfo *a = h1_target_addr(c->lp->target, c->addr + 1);
        if (a && c->queue) { /* another address of the host may answer */
            c->addr++;
            conn_drop(c); /* reconnects: the queue waits */
            return;
        }
        c->addr = 0;
        conn_fail(c, H1_CONNECT);
        return;
    }
    uv_timer_stop(&c->timer);
    c->state = H2_OPEN;
    c->goaway = c->broken = 0;
    c->connect_us = lg_now_us() - c->connect_start_us;
    if (c->connect_us < 1)
        c->connect_us = 1; /* 0 means "no new connection" */
    uv_tcp_nodelay(&c->tcp, 1);
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
    };
    if (nghttp2_session_client_new2(&c->session, c->lp->callbacks, c, c->lp->option) != 0) {
        c->session = NULL;
        conn_fail(c, H1_RESET); /* out of memory: the next request tries again */
        return;
    }
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_read, readable) != 0) {
        conn_fail(c, H1_RESET);
        return;
    }
    submit_queued(c);
    mark_dirty(c); /* the preface and SETTINGS at least */
}

static void conn_connect(struct h2_conn *c)
{
    const struct addrinfo *a = h1_target_addr(c->lp->target, c->addr);
    c->connect_start_us = lg_now_us();
    c->connect_us = 0;
    c->goaway = 0;
    int rc = UV_EINVAL;
    if (!a || uv_tcp_init(c->lp->uv, &c->tcp) != 0)
        goto fail;
    c->tcp.data = c;
    c->state = H2_CONNECTING;
    /* libuv makes the socket here: EMFILE/ENFILE is the client's limit. */
    if ((rc = uv_tcp_connect(&c->creq, &c->tcp, a->ai_addr, connected)) != 0)
        goto fail;
    if (c->lp->connect_timeout_ms > 0)
        uv_timer_start(&c->timer, connect_deadline, (uint64_t)c->lp->connect_timeout_ms, 0);
    return;
fail:;
    /* Reported next turn, and not from the queue: the close must not
     * reconnect for them. */
    struct h2_stream *s, *list = conn_drop_queue(c);
    while ((s = unqueue_next(&list))) {
        if (rc == UV_EMFILE || rc == UV_ENFILE)
            s->r.fd_errno = -rc;
        fail_later(s, H1_CONNECT);
    }
}

/* ---- set-up and teardown ------------------------------------------------ */

int h2_loop_init(struct h2_loop *lp, uv_loop_t *uv, const struct h1_target *t,
                 const struct h2_hooks *hooks, unsigned nconns, unsigned streams,
                 long timeout_ms, long connect_timeout_ms, int want_headers, char *err)
{
    memset(lp, 0, sizeof *lp);
    lp->uv = uv;
    lp->target = t;
    lp->hooks = hooks;
    lp->timeout_ms = timeout_ms;
    lp->connect_timeout_ms = connect_timeout_ms;
    lp->want_headers = want_headers;
    lp->streams = streams ? streams : 1;
    lp->nconns = nconns;
    uv_check_init(uv, &lp->flush);
    uv_idle_init(uv, &lp->spin);
    lp->flush.data = lp;
    /* A stream ends at most once per write, and each connection carries
     * `streams` at a time; twice that leaves room for a stream that ends,
     * starts again and ends within one batch. */
    unsigned cap = 2 * lp->streams + 2;
    lp->conns = calloc(nconns, sizeof *lp->conns);
    lp->out = malloc((size_t)nconns * H2_OUT_BUFFER);
    lp->ending = malloc((size_t)nconns * cap * (sizeof(struct h2_stream *) + sizeof(int32_t)));
    if (!lp->conns || !lp->out || !lp->ending ||
        nghttp2_session_callbacks_new(&lp->callbacks) != 0 || nghttp2_option_new(&lp->option) != 0)
        return lg_err(err, -ENOMEM, "out of memory for %u HTTP/2 connections", nconns);
    nghttp2_session_callbacks *cb = lp->callbacks;
    nghttp2_session_callbacks_set_send_callback(cb, send_frames);
    nghttp2_session_callbacks_set_send_data_callback(cb, send_data);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, frame_sent);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(cb, frame_not_sent);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, frame_received);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, headers_begin);
    nghttp2_session_callbacks_set_on_header_callback(cb, header_received);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, data_received);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, stream_closed);
    nghttp2_session_callbacks_set_error_callback2(cb, session_error);
    /* Until the server's SETTINGS say how many streams it takes, one:
     * never more than it allows. */
    nghttp2_option_set_peer_max_concurrent_streams(lp->option, 1);
    struct h2_stream **ending = lp->ending;
    int32_t *ids = (int32_t *)(ending + (size_t)nconns * cap);
    for (unsigned i = 0; i < nconns; i++) {
        struct h2_conn *c = &lp->conns[i];
        c->lp = lp;
        c->state = H2_CLOSED;
        c->out = lp->out + (size_t)i * H2_OUT_BUFFER;
        c->ending = ending + (size_t)i * cap;
        c->ending_id = ids + (size_t)i * cap;
        c->ending_cap = cap;
        uv_timer_init(uv, &c->timer);
        c->timer.data = c;
        c->creq.data = c;
        c->wreq.data = c;
    }
    return 0;
}

void h2_stream_init(struct h2_loop *lp, struct h2_stream *s, unsigned index, void *owner)
{
    memset(s, 0, sizeof *s);
    s->c = &lp->conns[index / lp->streams];
    s->owner = owner;
    uv_timer_init(lp->uv, &s->timer);
    s->timer.data = s;
}

void h2_loop_close(struct h2_loop *lp)
{
    for (unsigned i = 0; lp->conns && i < lp->nconns; i++) {
        struct h2_conn *c = &lp->conns[i];
        if (!c->lp)
            continue; /* h2_loop_init stopped before it */
        c->queue = c->queue_tail = NULL; /* the close must not reconnect */
        c->active = NULL;
        conn_drop(c);
        uv_close((uv_handle_t *)&c->timer, NULL);
    }
    if (lp->uv)
        uv_close((uv_handle_t *)&lp->flush, NULL);
    if (lp->uv)
        uv_close((uv_handle_t *)&lp->spin, NULL);
}

void h2_loop_free(struct h2_loop *lp)
{
    if (lp->callbacks)
        nghttp2_session_callbacks_del(lp->callbacks);
    if (lp->option)
        nghttp2_option_del(lp->option);
    free(lp->conns);
    free(lp->out);
    free(lp->ending);
}
