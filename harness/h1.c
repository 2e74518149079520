/*
 * h1.c: the native HTTP/1.1 transport. See h1.h for the contract.
 *
 * A connection's life: CLOSED -> CONNECTING -> OPEN -> CLOSING -> CLOSED.
 * Reading stays on while OPEN, so a server that closes an idle connection
 * is seen at once (and the next request does not meet a dead socket). The
 * timer is the request's deadline: --connect-timeout while connecting,
 * --timeout from h1_send to the end of the reply.
 *
 * Parsing pauses the parser at the end of each head and each message, so
 * the head's bytes can be counted (http_parser counts them only in a local
 * variable), a 1xx reply is skipped, and bytes past the end of a reply are
 * noticed (the connection then closes: we never pipeline).
 */
#include "h1.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

enum { EV_NONE, EV_HEADERS, EV_MESSAGE };

/* ---- target ----------------------------------------------------------- */

const char *h1_unsupported(const char *url, int http2, int follow, const char *const *headers,
                           size_t nheaders)
{
    if (strncasecmp(url, "http://", 7) != 0)
        return "it sends plain http:// only";
    if (http2)
        return "it speaks HTTP/1.1 only (--http2)";
    if (follow)
        return "it does not follow redirects (--follow)";
    static const char *const theirs[] = {"Content-Length", "Transfer-Encoding", "Expect"};
    for (size_t i = 0; i < nheaders; i++)
        for (size_t k = 0; k < sizeof theirs / sizeof theirs[0]; k++) {
            size_t n = strlen(theirs[k]);
            if (strncasecmp(headers[i], theirs[k], n) == 0 && headers[i][n] == ':')
                return "it frames bodies itself (a Content-Length, Transfer-Encoding or Expect header)";
        }
    const char *at = strchr(url + 7, '@'), *slash = strchr(url + 7, '/');
    if (at && (!slash || at < slash))
        return "it sends no credentials from the URL";
    return NULL;
}

int h1_target_init(struct h1_target *t, const char *url, char *err)
{
    memset(t, 0, sizeof *t);
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    int rc = 0;
    CURLU *u = curl_url();
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        rc = lg_err(err, -EINVAL, "--url: cannot take it apart for the native engine; use --engine curl");
        goto fail;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
        query = NULL;
    /* As libcurl writes it: no port when it is 80. */
    if (strcmp(port, "80") == 0)
        snprintf(t->host, sizeof t->host, "%s", host);
    else
        snprintf(t->host, sizeof t->host, "%s:%s", host, port);
    size_t tlen = strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
    if (!(t->request_target = malloc(tlen))) {
        rc = lg_err(err, -ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(t->request_target, tlen, "%s%s%s", path, query ? "?" : "", query ? query : "");
    /* getaddrinfo wants an IPv6 literal without its brackets. */
    char name[256];
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
        snprintf(name, sizeof name, "%.*s", (int)(hl - 2), host + 1);
    else
        snprintf(name, sizeof name, "%s", host);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_protocol = IPPROTO_TCP};
    int gai = getaddrinfo(name, port, &hints, &t->addrs);
    if (gai != 0) {
        t->addrs = NULL;
        rc = lg_err(err, -EINVAL, "--url: cannot resolve the host (%s); check the name", gai_strerror(gai));
        goto fail;
    }
fail:
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    if (rc < 0)
        h1_target_free(t);
    return rc;
}

const struct addrinfo *h1_target_addr(const struct h1_target *t, unsigned i)
{
    const struct addrinfo *a = t->addrs;
    while (a && i--)
        a = a->ai_next;
    return a;
}

void h1_target_free(struct h1_target *t)
{
    if (t->addrs)
        freeaddrinfo(t->addrs);
    free(t->request_target);
    t->addrs = NULL;
    t->request_target = NULL;
}

/* ---- connection --------------------------------------------------------- */

static void connect_next(struct h1_conn *c);
static void write_request(struct h1_conn *c);

static void conn_closed(uv_handle_t *h)
{
    struct h1_conn *c = h->data;
    c->state = H1_CLOSED;
    if (c->reconnect) {
        c->reconnect = 0;
        connect_next(c);
    }
}

/* Close the socket; with `reconnect`, open a new one once it is closed. */
static void conn_drop(struct h1_conn *c, int reconnect)
{
    c->reconnect = reconnect;
    c->writing = c->write_queued = 0;
    if (c->state == H1_CONNECTING || c->state == H1_OPEN) {
        c->state = H1_CLOSING;
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
    } else if (c->state == H1_CLOSED && reconnect) {
        c->reconnect = 0;
        connect_next(c);
    }
}

/* The request ends: the timer stops, the connection closes unless it can
 * serve the next request, and the owner hears (last: it may send again). */
static void finish(struct h1_conn *c, enum h1_fail fail, int keep)
{
    uv_timer_stop(&c->timer);
    c->busy = 0;
    c->r.fail = fail;
    if (fail != H1_OK || !keep)
        conn_drop(c, 0);
    c->lp->hooks->done(c->owner, &c->r);
}

/* The connection ended with `status` (UV_EOF or an error). When it was
 * closed (EOF, EPIPE) before any reply byte, on a connection that had
 * served a request, the server most likely closed it idle as we wrote:
 * send again, once, on a new connection (1). A reset (ECONNRESET) is the
 * server's answer and counts, as libcurl counts it (0). */
static int retry(struct h1_conn *c, int status)
{
    if ((status != UV_EOF && status != UV_EPIPE) || !c->reused || c->r.first_byte_us || c->retried)
        return 0;
    c->retried = 1;
    c->r.sent_us = 0;
    c->r.header_bytes = 0;
    conn_drop(c, 1);
    return 1;
}

static void fail_or_retry(struct h1_conn *c, int status)
{
    if (!retry(c, status))
        finish(c, H1_RESET, 0);
}

static void deadline(uv_timer_t *t)
{
    struct h1_conn *c = t->data;
    if (c->busy)
        finish(c, c->deferred ? c->deferred : H1_TIMEOUT, 0);
}

/* A failure found before any callback (no descriptor left, a socket call
 * refused) is reported from the next loop turn: done() may start the next
 * request, and failing that one at once too would recurse once per
 * request. */
static void fail_later(struct h1_conn *c, enum h1_fail fail)
{
    c->deferred = fail;
    uv_timer_start(&c->timer, deadline, 0, 0);
}

/* Arm the timer for whichever comes first: the whole request's deadline,
 * or (while connecting) the connect deadline. */
static void arm(struct h1_conn *c, int connecting)
{
    const struct h1_loop *lp = c->lp;
    int64_t left_us = INT64_MAX;
    if (lp->timeout_ms > 0)
        left_us = c->start_us + lp->timeout_ms * 1000 - lg_now_us();
    if (connecting && lp->connect_timeout_ms > 0 && lp->connect_timeout_ms * 1000 < left_us)
        left_us = lp->connect_timeout_ms * 1000;
    if (left_us == INT64_MAX) {
        uv_timer_stop(&c->timer);
        return;
    }
    uint64_t ms = left_us <= 0 ? 0 : (uint64_t)((left_us + 999) / 1000);
    uv_timer_start(&c->timer, deadline, ms, 0);
}

static void alloc_read(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct h1_conn *c = h->data;
    buf->base = c->lp->rbuf;
    buf->len = sizeof c->lp->rbuf;
}

/* Feed n > 0 bytes of the reply to the parser. */
static void parse(struct h1_conn *c, const char *data, size_t n)
{
    size_t off = 0;
    while (off < n) {
        int was_head = c->in_headers;
        c->event = EV_NONE;
        size_t k = http_parser_execute(&c->parser, &c->lp->settings, data + off, n - off);
        off += k;
        if (was_head)
            c->r.header_bytes += k;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_OK)
            continue;
        if (e != HPE_PAUSED) {
            finish(c, c->refused ? H1_REFUSED : H1_INVALID, 0);
            return;
        }
        http_parser_pause(&c->parser, 0);
        if (c->event == EV_HEADERS) {
            /* Paused on the head's last LF, which the next call consumes
             * as if it were the body's. */
            c->r.header_bytes++;
            c->in_headers = 0;
            continue;
        }
        c->in_headers = 1; /* EV_MESSAGE */
        if (c->r.status >= 100 && c->r.status < 200 && c->r.status != 101) {
            reply_framing_reset(&c->framing); /* its lengths are not the reply's */
            continue; /* 100 Continue, 103 Early Hints: the real reply follows */
        }
        if (c->parser.upgrade) {
            finish(c, H1_INVALID, 0);
            return;
        }
        /* Bytes past the reply (we never pipeline) or Connection: close:
         * this connection is done. A server may answer before it has read
         * the whole body (nginx's `return`); the rest still goes out, and
         * the next request's write waits behind it (write_queued). */
        c->r.bad_framing = c->framing.bad;
        int keep = off == n && !c->framing.bad && http_should_keep_alive(&c->parser);
        finish(c, H1_OK, keep);
        return;
    }
}

/* The server closed the connection after a first byte: that ends a
 * close-delimited body, and cuts any other reply short. */
static void parse_eof(struct h1_conn *c)
{
    c->event = EV_NONE;
    http_parser_execute(&c->parser, &c->lp->settings, NULL, 0);
    if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED && c->event == EV_MESSAGE) {
        http_parser_pause(&c->parser, 0);
        c->r.bad_framing = c->framing.bad;
        finish(c, H1_OK, 0);
        return;
    }
    finish(c, H1_RESET, 0);
}

static void readable(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct h1_conn *c = s->data;
    if (nread == 0)
        return;
    if (!c->busy) {
        /* Idle: the server closed (or sent bytes nobody asked for). */
        conn_drop(c, 0);
        return;
    }
    if (nread < 0) {
        if (nread == UV_EOF && c->r.first_byte_us)
            parse_eof(c);
        else
            fail_or_retry(c, (int)nread);
        return;
    }
    if (!c->r.first_byte_us)
        c->r.first_byte_us = lg_now_us();
    parse(c, buf->base, (size_t)nread);
}

static void written(uv_write_t *w, int status)
{
    struct h1_conn *c = w->data;
    if (status == UV_ECANCELED)
        return; /* the connection was closed under it */
    c->writing = 0;
    if (status < 0) {
        if (c->busy)
            fail_or_retry(c, status);
        return;
    }
    if (c->write_queued) {
        c->write_queued = 0;
        write_request(c);
        return;
    }
    if (c->busy && !c->r.sent_us)
        c->r.sent_us = lg_now_us();
}

static void write_request(struct h1_conn *c)
{
    if (c->writing) {
        /* The last request's write callback has not run yet (its reply came
         * within the same read): wreq is still libuv's. */
        c->write_queued = 1;
        return;
    }
    const struct payload *p = c->p;
    uv_buf_t bufs[2] = {uv_buf_init((char *)c->head->p, (unsigned)c->head->len),
                        uv_buf_init((char *)p->body, (unsigned)p->len)};
    unsigned nbufs = p->len ? 2 : 1;
    c->r.bytes_sent = c->head->len + p->len;
    /* Most requests fit the socket buffer: one writev, and no write request,
     * whose completion would cost libuv an epoll_ctl per request. */
    int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
    if (n >= 0 && (uint64_t)n == c->r.bytes_sent) {
        c->r.sent_us = lg_now_us();
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        if (!retry(c, n))
            fail_later(c, H1_RESET); /* not from here: done() may send again */
        return;
    }
    /* The rest goes out as the socket drains. */
    size_t sent = n > 0 ? (size_t)n : 0;
    unsigned first = 0;
    if (sent >= bufs[0].len) {
        sent -= bufs[0].len;
        first = 1;
    }
    bufs[first].base += sent;
    bufs[first].len -= sent;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs + first, nbufs - first, written) != 0) {
        fail_later(c, H1_RESET);
        return;
    }
    c->writing = 1;
}

static void connected(uv_connect_t *req, int status)
{
    struct h1_conn *c = req->data;
    if (status == UV_ECANCELED || c->state != H1_CONNECTING)
        return;
    if (status < 0) {
        const struct addrinfo *a = h1_target_addr(c->lp->target, c->addr + 1);
        if (a) { /* another address of the host may answer */
            c->addr++;
            conn_drop(c, 1);
        } else {
            c->addr = 0;
            finish(c, H1_CONNECT, 0);
        }
        return;
    }
    c->state = H1_OPEN;
    c->r.connect_us = lg_now_us() - c->connect_start_us;
    if (c->r.connect_us < 1)
        c->r.connect_us = 1; /* 0 means "no new connection" */
    uv_tcp_nodelay(&c->tcp, 1);
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    c->in_headers = 1;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_read, readable) != 0) {
        finish(c, H1_RESET, 0);
        return;
    }
    arm(c, 0);
    write_request(c);
}

static void connect_next(struct h1_conn *c)
{
    if (!c->busy)
        return;
    const struct addrinfo *a = h1_target_addr(c->lp->target, c->addr);
    c->reused = 0;
    c->connect_start_us = lg_now_us();
    c->r.connect_us = 0;
    if (!a || uv_tcp_init(c->lp->uv, &c->tcp) != 0) {
        fail_later(c, H1_CONNECT);
        return;
    }
    c->tcp.data = c;
    c->state = H1_CONNECTING;
    /* libuv makes the socket here: EMFILE/ENFILE is the client's limit. */
    int rc = uv_tcp_connect(&c->creq, &c->tcp, a->ai_addr, connected);
    if (rc != 0) {
        if (rc == UV_EMFILE || rc == UV_ENFILE)
            c->r.fd_errno = -rc;
        fail_later(c, H1_CONNECT);
        return;
    }
    arm(c, 1);
}

void h1_send(struct h1_conn *c, const struct payload_head *head, const struct payload *p,
             int64_t start_us)
{
    c->head = head;
    c->p = p;
    c->start_us = start_us;
    c->busy = 1;
    c->retried = c->refused = 0;
    c->deferred = H1_OK;
    c->hlen = 0;
    c->hvalue = 0;
    reply_framing_reset(&c->framing);
    c->r = (struct h1_result){0};
    switch (c->state) {
    case H1_OPEN:
        c->reused = 1;
        arm(c, 0);
        write_request(c);
        break;
    case H1_CLOSED:
        connect_next(c);
        break;
    case H1_CLOSING:
        c->reconnect = 1;
        break;
    case H1_CONNECTING:
        break; /* not reached: a connection is opened only for a request */
    }
}

void h1_abort(struct h1_conn *c)
{
    uv_timer_stop(&c->timer);
    c->busy = 0;
    conn_drop(c, 0);
}

void h1_conn_close(struct h1_conn *c)
{
    h1_abort(c);
    uv_close((uv_handle_t *)&c->timer, NULL);
}

/* ---- parser callbacks --------------------------------------------------- */

/* The value of header `name` in the line, or NULL. */
static const char *value_of(const struct h1_conn *c, const char *name, size_t n)
{
    if (c->hlen <= n || c->hline[n] != ':' || strncasecmp(c->hline, name, n) != 0)
        return NULL;
    return c->hline + n + 1;
}

/* A header line is complete: a head's framing goes to reply.c (http_parser
 * reads the same headers, but reply.c is what judges both engines; a
 * chunked body's trailers frame nothing), then the line to the owner when
 * it asked for headers. */
static void header_flush(struct h1_conn *c)
{
    static const char cl[] = "Content-Length", te[] = "Transfer-Encoding";
    const char *v;
    if (c->hvalue) {
        if (c->in_headers && (v = value_of(c, cl, sizeof cl - 1)))
            reply_framing_length(&c->framing, v, c->hlen - (size_t)(v - c->hline));
        else if (c->in_headers && value_of(c, te, sizeof te - 1))
            reply_framing_encoding(&c->framing);
        if (c->lp->want_headers)
            c->lp->hooks->header(c->owner, c->hline, c->hlen);
    }
    c->hlen = 0;
    c->hvalue = 0;
}

static void header_add(struct h1_conn *c, const char *at, size_t len)
{
    size_t room = sizeof c->hline - c->hlen;
    if (len > room)
        len = room;
    memcpy(c->hline + c->hlen, at, len);
    c->hlen += len;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct h1_conn *c = p->data;
    if (c->hvalue)
        header_flush(c);
    header_add(c, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct h1_conn *c = p->data;
    if (!c->hvalue) {
        header_add(c, ":", 1);
        c->hvalue = 1;
    }
    header_add(c, at, len);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct h1_conn *c = p->data;
    header_flush(c);
    c->r.status = p->status_code;
    c->event = EV_HEADERS;
    http_parser_pause(p, 1);
    /* 1 tells the parser a reply to HEAD has no body, whatever its
     * Content-Length says. */
    return c->lp->target->head;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct h1_conn *c = p->data;
    if (c->lp->hooks->body(c->owner, at, len) < 0) {
        c->refused = 1;
        return -1;
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct h1_conn *c = p->data;
    c->event = EV_MESSAGE;
    http_parser_pause(p, 1);
    return 0;
}

void h1_loop_init(struct h1_loop *lp, uv_loop_t *uv, const struct h1_target *t,
                  const struct h1_hooks *hooks, long timeout_ms, long connect_timeout_ms,
                  int want_headers)
{
    lp->uv = uv;
    lp->target = t;
    lp->hooks = hooks;
    lp->timeout_ms = timeout_ms;
    lp->connect_timeout_ms = connect_timeout_ms;
    lp->want_headers = want_headers;
    memset(&lp->settings, 0, sizeof lp->settings);
    lp->settings.on_header_field = on_header_field;
    lp->settings.on_header_value = on_header_value;
    lp->settings.on_headers_complete = on_headers_complete;
    lp->settings.on_body = on_body;
    lp->settings.on_message_complete = on_message_complete;
}

void h1_conn_init(struct h1_loop *lp, struct h1_conn *c, void *owner)
{
    memset(c, 0, sizeof *c);
    c->lp = lp;
    c->owner = owner;
    c->state = H1_CLOSED;
    uv_timer_init(lp->uv, &c->timer);
    c->timer.data = c;
    c->creq.data = c;
    c->wreq.data = c;
}
