/*
 * test_h2.c: the native HTTP/2 transport. Its pure parts (the header block
 * h2_requests_build prepares for each payload, which configurations it
 * takes), then the transport itself in-process against a small h2c server
 * made here with nghttp2's server side, on the same libuv loop and real
 * loopback sockets: trailers reach the header hook marked as such, bodies
 * arrive whole, the server's SETTINGS_MAX_CONCURRENT_STREAMS is never
 * exceeded, a REFUSED_STREAM is sent again once, a reset counts as one,
 * a GOAWAY moves the next requests to a new connection, and the loop
 * closes clean. tests/integration/15_h2_native.sh runs it against nginx.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "corpus.h"
#include "h2.h"
#include "payload.h"

static unsigned char tiny[3] = {0xFF, 0xD8, 0xFF};
static struct corpus_item items[2] = {{"a.jpg", tiny, sizeof tiny, CORPUS_JPEG},
                                      {"b.jpg", tiny, 2, CORPUS_JPEG}};

static struct payload_set *raw_set(void)
{
    struct corpus c = {.items = items, .count = 2, .total_bytes = 5};
    struct payload_options opt = {.format = PAYLOAD_RAW};
    struct payload_set *s = NULL;
    char err[LG_ERRLEN] = "";
    if (payload_build(&s, &c, &opt, err) != 0)
        fail_msg("payload_build: %s", err);
    return s;
}

/* Request i's header block as "name: value\n" lines. */
static const char *block(const struct h2_requests *rq, size_t i)
{
    static char out[1024];
    size_t n = 0;
    const struct h2_request *q = &rq->items[i];
    for (size_t k = 0; k < q->nvlen; k++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%.*s: %.*s\n", (int)q->nva[k].namelen,
                              (const char *)q->nva[k].name, (int)q->nva[k].valuelen,
                              (const char *)q->nva[k].value);
    return out;
}

static void build(struct h2_requests *rq, const struct payload_set *s, const char *const *headers,
                  size_t n, const char *method)
{
    struct payload_head_spec h = {"/score?v=1", "127.0.0.1:8080", "loadgen/test", headers, n, method};
    char err[LG_ERRLEN] = "";
    if (h2_requests_build(rq, s, &h, err) != 0)
        fail_msg("h2_requests_build: %s", err);
}

static void post_block_has_pseudo_headers_type_and_length_per_body(void **state)
{
    struct payload_set *s = raw_set();
    struct h2_requests rq;
    build(&rq, s, NULL, 0, NULL);
    assert_string_equal(block(&rq, 0), ":method: POST\n:scheme: http\n:authority: 127.0.0.1:8080\n"
                                       ":path: /score?v=1\nuser-agent: loadgen/test\naccept: */*\n"
                                       "content-type: image/jpeg\ncontent-length: 3\n");
    assert_string_equal(block(&rq, 1), ":method: POST\n:scheme: http\n:authority: 127.0.0.1:8080\n"
                                       ":path: /score?v=1\nuser-agent: loadgen/test\naccept: */*\n"
                                       "content-type: image/jpeg\ncontent-length: 2\n");
    /* The body is the payload's own bytes, not a copy. */
    assert_ptr_equal(rq.items[1].body, s->items[1].body);
    assert_int_equal(rq.items[1].len, 2);
    h2_requests_free(&rq);
    payload_destroy(s);
}

static void user_headers_are_lower_cased_and_replace_or_remove_ours(void **state)
{
    struct payload_set *s = raw_set();
    struct h2_requests rq;
    const char *h[] = {"Content-Type: application/x-test", "X-Api-Key: k", "Accept:",
                       "Host: example.test", "User-Agent:  me  "};
    build(&rq, s, h, 5, "PUT");
    assert_string_equal(block(&rq, 0), ":method: PUT\n:scheme: http\n:authority: example.test\n"
                                       ":path: /score?v=1\ncontent-type: application/x-test\n"
                                       "x-api-key: k\nuser-agent: me\ncontent-length: 3\n");
    h2_requests_free(&rq);
    payload_destroy(s);
}

static void get_block_has_no_length(void **state)
{
    struct payload_set *s = NULL;
    char err[LG_ERRLEN] = "";
    struct payload_options opt = {.format = PAYLOAD_NONE};
    assert_int_equal(payload_build(&s, &(struct corpus){0}, &opt, err), 0);
    struct h2_requests rq;
    build(&rq, s, NULL, 0, NULL);
    assert_string_equal(block(&rq, 0), ":method: GET\n:scheme: http\n:authority: 127.0.0.1:8080\n"
                                       ":path: /score?v=1\nuser-agent: loadgen/test\naccept: */*\n");
    assert_int_equal(rq.items[0].len, 0);
    h2_requests_free(&rq);
    payload_destroy(s);
}

static void native_h2_takes_cleartext_without_connection_headers(void **state)
{
    const char *conn[] = {"connection: close"}, *cl[] = {"Content-Length: 3"}, *ok[] = {"TE: trailers"};
    assert_null(h2_unsupported("http://h/x", 0, ok, 1));
    assert_non_null(h2_unsupported("https://h/x", 0, NULL, 0));
    assert_non_null(h2_unsupported("http://h/x", 1, NULL, 0));
    assert_non_null(h2_unsupported("http://h/x", 0, conn, 1));
    assert_non_null(h2_unsupported("http://h/x", 0, cl, 1));
    assert_non_null(h2_unsupported("http://u:p@h/x", 0, NULL, 0));
}

/* ---- an h2c server on the test's loop ------------------------------------ */

struct srv {
    uv_tcp_t listener;
    uv_loop_t *uv;
    uint32_t max_streams;       /* its SETTINGS_MAX_CONCURRENT_STREAMS */
    int open, most_open;        /* streams open now, and the most at once */
    int requests;               /* requests whose END_STREAM arrived */
    int connections;
    size_t body_bytes;          /* request body bytes received */
    int refused_once;           /* /refuse: the first attempt was refused */
    struct sconn *conns[16];
    uv_timer_t tick;            /* answers the held requests (/hold) every 5 ms */
    int32_t held[16][64];       /* per connection: streams waiting for the tick */
    int nheld[16];
};

struct sconn {
    uv_tcp_t tcp;
    struct srv *srv;
    int idx;                    /* in srv->conns */
    nghttp2_session *session;
    int closing;
};

struct sstream {
    char path[32];
};

static void s_flush(struct sconn *c)
{
    const uint8_t *data;
    ssize_t n;
    while (!c->closing && (n = nghttp2_session_mem_send(c->session, &data)) > 0) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);
        assert_int_equal(uv_try_write((uv_stream_t *)&c->tcp, &b, 1), n); /* small, loopback */
    }
}

static ssize_t s_body(nghttp2_session *session, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                      nghttp2_data_source *src, void *user_data)
{
    /* {} then trailers, as gRPC ends its replies. */
    memcpy(buf, "{}", 2);
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    static const nghttp2_nv trailers[] = {
        {(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, 0},
        {(uint8_t *)"grpc-message", (uint8_t *)"fine", 12, 4, 0},
    };
    nghttp2_submit_trailer(session, id, trailers, 2);
    return 2;
}

static void s_respond(nghttp2_session *session, int32_t id)
{
    static const nghttp2_nv head[] = {
        {(uint8_t *)":status", (uint8_t *)"200", 7, 3, 0},
        {(uint8_t *)"content-type", (uint8_t *)"application/json", 12, 16, 0},
    };
    nghttp2_data_provider body = {.read_callback = s_body};
    nghttp2_submit_response(session, id, head, 2, &body);
}

static int s_begin(nghttp2_session *session, const nghttp2_frame *f, void *user_data)
{
    struct sconn *c = user_data;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    nghttp2_session_set_stream_user_data(session, f->hd.stream_id, calloc(1, sizeof(struct sstream)));
    if (++c->srv->open > c->srv->most_open)
        c->srv->most_open = c->srv->open;
    return 0;
}

static int s_header(nghttp2_session *session, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                    const uint8_t *value, size_t vlen, uint8_t flags, void *user_data)
{
    struct sstream *st = nghttp2_session_get_stream_user_data(session, f->hd.stream_id);
    if (st && nlen == 5 && memcmp(name, ":path", 5) == 0)
        snprintf(st->path, sizeof st->path, "%.*s", (int)vlen, (const char *)value);
    return 0;
}

static int s_data(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                  void *user_data)
{
    struct sconn *c = user_data;
    c->srv->body_bytes += len;
    return 0;
}

static int s_frame(nghttp2_session *session, const nghttp2_frame *f, void *user_data)
{
    struct sconn *c = user_data;
    struct sstream *st;
    if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
        (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
        !(st = nghttp2_session_get_stream_user_data(session, f->hd.stream_id)))
        return 0;
    c->srv->requests++;
    int32_t id = f->hd.stream_id;
    if (strcmp(st->path, "/refuse") == 0 && !c->srv->refused_once) {
        c->srv->refused_once = 1;
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
        return 0;
    }
    if (strcmp(st->path, "/reset") == 0) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
        return 0;
    }
    if (strcmp(st->path, "/hold") == 0) { /* streams stay open till the tick */
        c->srv->held[c->idx][c->srv->nheld[c->idx]++] = id;
        return 0;
    }
    s_respond(session, id);
    if (strcmp(st->path, "/goaway") == 0) /* after this reply, no more here */
        nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, NULL, 0);
    return 0;
}

static int s_close(nghttp2_session *session, int32_t id, uint32_t code, void *user_data)
{
    struct sconn *c = user_data;
    struct sstream *st = nghttp2_session_get_stream_user_data(session, id);
    if (st) {
        c->srv->open--;
        free(st);
    }
    return 0;
}

static void s_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    static char buf[65536];
    *b = uv_buf_init(buf, sizeof buf);
}

static void s_closed(uv_handle_t *h)
{
    struct sconn *c = h->data;
    c->srv->conns[c->idx] = NULL;
    nghttp2_session_del(c->session);
    free(c);
}

static void s_drop(struct sconn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, s_closed);
}

static void s_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct sconn *c = st->data;
    if (n < 0 || (n > 0 && nghttp2_session_mem_recv(c->session, (const uint8_t *)b->base, (size_t)n) < 0)) {
        s_drop(c);
        return;
    }
    s_flush(c);
    if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session))
        s_drop(c);
}

static void s_tick(uv_timer_t *t)
{
    struct srv *srv = t->data;
    for (int i = 0; i < srv->connections; i++) {
        if (!srv->conns[i])
            continue;
        for (int k = 0; k < srv->nheld[i]; k++)
            s_respond(srv->conns[i]->session, srv->held[i][k]);
        srv->nheld[i] = 0;
        s_flush(srv->conns[i]);
    }
}

static void s_accept(uv_stream_t *l, int status)
{
    struct srv *srv = l->data;
    struct sconn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->srv = srv;
    uv_tcp_init(srv->uv, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
    assert_true(srv->connections < 16);
    c->idx = srv->connections;
    srv->conns[srv->connections++] = c;
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, s_begin);
    nghttp2_session_callbacks_set_on_header_callback(cb, s_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, s_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, s_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, s_close);
    nghttp2_session_server_new(&c->session, cb, c);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, srv->max_streams}};
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, 1);
    s_flush(c);
    uv_read_start((uv_stream_t *)&c->tcp, s_alloc, s_read);
}

/* ---- the client: slots on the same loop ---------------------------------- */

struct tslot {
    struct h2_stream st;
    const struct h2_request *req;
    unsigned left;              /* requests still to send on this slot */
};

struct run {
    struct tslot slots[8];
    unsigned nslots, done;
    unsigned fails[H1_REFUSED + 1];
    unsigned trailers, grpc_status_trailer, header_fields;
    size_t body_bytes;
    int sent_before_reply;      /* every OK result had 0 < sent_us <= first_byte_us */
    struct h1_result last;
};

static struct run *cur;

static void c_header(void *owner, const char *name, size_t nlen, const char *value, size_t vlen,
                     int trailer)
{
    cur->header_fields++;
    if (trailer)
        cur->trailers++;
    if (trailer && nlen == 11 && memcmp(name, "grpc-status", 11) == 0 && vlen == 1 && value[0] == '0')
        cur->grpc_status_trailer++;
}

static int c_body(void *owner, const char *p, size_t len)
{
    cur->body_bytes += len;
    return 0;
}

static void c_done(void *owner, const struct h1_result *r)
{
    struct tslot *t = owner;
    cur->done++;
    cur->fails[r->fail]++;
    cur->last = *r;
    if (r->fail == H1_OK && !(r->sent_us > 0 && r->sent_us <= r->first_byte_us))
        cur->sent_before_reply = 0;
    if (--t->left)
        h2_send(&t->st, t->req, lg_now_us());
}

static void guard_fired(uv_timer_t *t)
{
    fail_msg("the requests did not end within 10 s");
}

static void c_stop_when_done(uv_idle_t *h)
{
    struct run *r = h->data;
    unsigned want = 0;
    for (unsigned i = 0; i < r->nslots; i++)
        want += r->slots[i].left;
    if (want == 0)
        uv_stop(h->loop);
}

/* `n` requests on each of `nslots` slots, `streams` to a connection, to
 * `path`, against a server allowing `max_streams`. */
static void run_h2(struct run *r, struct srv *srv, const char *path, unsigned nslots, unsigned streams,
                   unsigned n, uint32_t max_streams, size_t body_len)
{
    static const struct h2_hooks hooks = {c_header, c_body, c_done};
    uv_loop_t uv;
    char err[LG_ERRLEN] = "", url[64];
    memset(r, 0, sizeof *r);
    memset(srv, 0, sizeof *srv);
    r->sent_before_reply = 1;
    cur = r;
    assert_int_equal(uv_loop_init(&uv), 0);
    srv->uv = &uv;
    srv->max_streams = max_streams;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(&uv, &srv->listener);
    srv->listener.data = srv;
    assert_int_equal(uv_tcp_bind(&srv->listener, (const struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&srv->listener, 64, s_accept), 0);
    uv_timer_init(&uv, &srv->tick);
    srv->tick.data = srv;
    uv_timer_start(&srv->tick, s_tick, 5, 5);
    int alen = sizeof a;
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&a, &alen);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", ntohs(a.sin_port), path);

    struct h1_target target;
    assert_int_equal(h1_target_init(&target, url, err), 0);
    char *body = calloc(1, body_len + 1);
    struct payload_set ps = {0};
    struct payload item = {.body = body, .len = body_len, .images = 1,
                           .headers = {body_len ? "Content-Type: application/octet-stream" : NULL}};
    ps.items = &item;
    ps.count = 1;
    struct h2_requests rq;
    struct payload_head_spec spec = {target.request_target, target.host, "loadgen/test", NULL, 0, NULL};
    assert_int_equal(h2_requests_build(&rq, &ps, &spec, err), 0);
    struct h2_loop *lp = calloc(1, sizeof *lp);
    assert_int_equal(h2_loop_init(lp, &uv, &target, &hooks, (nslots + streams - 1) / streams, streams,
                                  5000, 5000, 1, err), 0);
    r->nslots = nslots;
    for (unsigned i = 0; i < nslots; i++) {
        struct tslot *t = &r->slots[i];
        h2_stream_init(lp, &t->st, i, t);
        t->req = &rq.items[0];
        t->left = n;
    }
    uv_idle_t idle;
    uv_idle_init(&uv, &idle);
    idle.data = r;
    uv_idle_start(&idle, c_stop_when_done);
    for (unsigned i = 0; i < nslots; i++)
        h2_send(&r->slots[i].st, r->slots[i].req, lg_now_us());
    uv_timer_t guard; /* the test never hangs: 10 s at most */
    uv_timer_init(&uv, &guard);
    uv_timer_start(&guard, guard_fired, 10000, 0);
    uv_run(&uv, UV_RUN_DEFAULT);

    for (unsigned i = 0; i < nslots; i++)
        h2_stream_close(&r->slots[i].st);
    h2_loop_close(lp);
    uv_close((uv_handle_t *)&idle, NULL);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_close((uv_handle_t *)&srv->listener, NULL);
    uv_close((uv_handle_t *)&srv->tick, NULL);
    for (int i = 0; i < srv->connections; i++)
        if (srv->conns[i])
            s_drop(srv->conns[i]);
    uv_run(&uv, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&uv), 0);
    h2_loop_free(lp);
    free(lp);
    h2_requests_free(&rq);
    h1_target_free(&target);
    free(body);
}

static void replies_with_trailers_reach_the_header_hook_marked(void **state)
{
    struct run r;
    struct srv srv;
    run_h2(&r, &srv, "/ok", 4, 4, 25, 100, 0);
    assert_int_equal(r.fails[H1_OK], 100);
    assert_int_equal(srv.requests, 100);
    assert_int_equal(srv.connections, 1);
    assert_int_equal(r.grpc_status_trailer, 100);
    assert_int_equal(r.trailers, 200);          /* grpc-status and grpc-message */
    assert_int_equal(r.header_fields, 300);     /* and content-type, not a trailer */
    assert_int_equal(r.body_bytes, 200);
    assert_int_equal(r.last.status, 200);
    assert_true(r.sent_before_reply);
}

static void bodies_arrive_whole_past_the_flow_control_window(void **state)
{
    struct run r;
    struct srv srv;
    run_h2(&r, &srv, "/ok", 2, 2, 5, 100, 200000);
    assert_int_equal(r.fails[H1_OK], 10);
    assert_int_equal(srv.body_bytes, 10 * 200000);
    assert_true(r.last.bytes_sent > 200000);
}

static void the_servers_stream_limit_is_never_exceeded(void **state)
{
    struct run r;
    struct srv srv;
    run_h2(&r, &srv, "/hold", 8, 8, 10, 2, 0);
    assert_int_equal(r.fails[H1_OK], 80);
    assert_int_equal(srv.connections, 1);
    assert_int_equal(srv.most_open, 2);
    /* The same without the limit: all 8 at once, so the test can tell. */
    run_h2(&r, &srv, "/hold", 8, 8, 10, 100, 0);
    assert_int_equal(r.fails[H1_OK], 80);
    assert_int_equal(srv.most_open, 8);
}

static void a_refused_stream_is_sent_again_once(void **state)
{
    struct run r;
    struct srv srv;
    run_h2(&r, &srv, "/refuse", 1, 1, 3, 100, 0);
    assert_int_equal(r.fails[H1_OK], 3);
    assert_int_equal(srv.requests, 4);
}

static void a_reset_stream_counts_as_reset(void **state)
{
    struct run r;
    struct srv srv;
    run_h2(&r, &srv, "/reset", 2, 2, 5, 100, 0);
    assert_int_equal(r.fails[H1_RESET], 10);
    assert_int_equal(srv.connections, 1); /* the connection itself lives on */
}

static void goaway_moves_the_next_requests_to_a_new_connection(void **state)
{
    struct run r;
    struct srv srv;
    run_h2(&r, &srv, "/goaway", 1, 1, 4, 100, 0);
    assert_int_equal(r.fails[H1_OK], 4);
    assert_int_equal(srv.connections, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(post_block_has_pseudo_headers_type_and_length_per_body),
        cmocka_unit_test(user_headers_are_lower_cased_and_replace_or_remove_ours),
        cmocka_unit_test(get_block_has_no_length),
        cmocka_unit_test(native_h2_takes_cleartext_without_connection_headers),
        cmocka_unit_test(replies_with_trailers_reach_the_header_hook_marked),
        cmocka_unit_test(bodies_arrive_whole_past_the_flow_control_window),
        cmocka_unit_test(the_servers_stream_limit_is_never_exceeded),
        cmocka_unit_test(a_refused_stream_is_sent_again_once),
        cmocka_unit_test(a_reset_stream_counts_as_reset),
        cmocka_unit_test(goaway_moves_the_next_requests_to_a_new_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
