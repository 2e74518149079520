/*
 * test_h1.c: the native engine's pure parts: the request heads
 * payload_build_heads writes into the arena, and which configurations the
 * native engine takes (h1_unsupported), and what the reply parser hands
 * reply.c (h1.c included for its static parse). The transport itself is
 * tested against real servers by tests/integration/14_engines_agree.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <stdlib.h>

#include "common.h"
#include "corpus.h"
#include "h1.c"
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

static void heads(struct payload_set *s, const char *const *headers, size_t n)
{
    struct payload_head_spec h = {"/score?v=1", "127.0.0.1:8080", "loadgen/test", headers, n};
    char err[LG_ERRLEN] = "";
    if (payload_build_heads(s, &h, err) != 0)
        fail_msg("payload_build_heads: %s", err);
}

static void head_is(const struct payload_set *s, size_t i, const char *want)
{
    assert_int_equal(s->heads[i].len, strlen(want));
    assert_memory_equal(s->heads[i].p, want, strlen(want));
}

static void post_head_has_content_type_and_length_per_body(void **state)
{
    struct payload_set *s = raw_set();
    heads(s, NULL, 0);
    head_is(s, 0, "POST /score?v=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: loadgen/test\r\n"
                  "Accept: */*\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\n\r\n");
    head_is(s, 1, "POST /score?v=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: loadgen/test\r\n"
                  "Accept: */*\r\nContent-Type: image/jpeg\r\nContent-Length: 2\r\n\r\n");
    /* The bodies survive the arena's move. */
    assert_memory_equal(s->items[0].body, tiny, 3);
    assert_string_equal(s->items[1].headers[0], "Content-Type: image/jpeg");
    payload_destroy(s);
}

static void user_headers_replace_or_remove_the_built_in_ones(void **state)
{
    struct payload_set *s = raw_set();
    const char *h[] = {"Host: example.test", "Accept:", "X-Key: k"};
    heads(s, h, 3);
    head_is(s, 1, "POST /score?v=1 HTTP/1.1\r\nUser-Agent: loadgen/test\r\nHost: example.test\r\n"
                  "X-Key: k\r\nContent-Type: image/jpeg\r\nContent-Length: 2\r\n\r\n");
    /* A second call replaces the heads, it does not add to them. */
    size_t len = s->arena_len;
    heads(s, h, 3);
    assert_int_equal(s->arena_len, len);
    payload_destroy(s);
}

/* The payload's own Content-Type too: two would reach the server. */
static void a_user_content_type_replaces_the_payloads(void **state)
{
    struct payload_set *s = raw_set();
    const char *h[] = {"content-type: application/octet-stream"};
    heads(s, h, 1);
    head_is(s, 1, "POST /score?v=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: loadgen/test\r\n"
                  "Accept: */*\r\ncontent-type: application/octet-stream\r\nContent-Length: 2\r\n\r\n");
    payload_destroy(s);
}

static void the_method_names_the_request_line(void **state)
{
    struct payload_set *s = raw_set();
    struct payload_head_spec h = {"/x", "h", NULL, NULL, 0, "PUT"};
    char err[LG_ERRLEN] = "";
    assert_int_equal(payload_build_heads(s, &h, err), 0);
    head_is(s, 1, "PUT /x HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nContent-Type: image/jpeg\r\n"
                  "Content-Length: 2\r\n\r\n");
    payload_destroy(s);
}

static void get_head_has_no_length(void **state)
{
    struct payload_set *s = NULL;
    char err[LG_ERRLEN] = "";
    struct payload_options opt = {.format = PAYLOAD_NONE};
    assert_int_equal(payload_build(&s, NULL, &opt, err), 0);
    struct payload_head_spec h = {"/", "[::1]:81", NULL, NULL, 0};
    assert_int_equal(payload_build_heads(s, &h, err), 0);
    head_is(s, 0, "GET / HTTP/1.1\r\nHost: [::1]:81\r\nAccept: */*\r\n\r\n");
    payload_destroy(s);
}

static void native_takes_plain_http_only(void **state)
{
    assert_null(h1_unsupported("http://127.0.0.1:8080/score", 0, 0, NULL, 0));
    assert_non_null(h1_unsupported("https://127.0.0.1/score", 0, 0, NULL, 0));
    assert_non_null(h1_unsupported("http://127.0.0.1/score", 1, 0, NULL, 0));
    assert_non_null(h1_unsupported("http://127.0.0.1/score", 0, 1, NULL, 0));
    assert_non_null(h1_unsupported("http://u:p@127.0.0.1/score", 0, 0, NULL, 0));
    assert_null(h1_unsupported("http://127.0.0.1/a@b", 0, 0, NULL, 0));
    const char *te[] = {"transfer-encoding: chunked"};
    assert_non_null(h1_unsupported("http://127.0.0.1/score", 0, 0, te, 1));
}

static void target_is_taken_apart_as_curl_does(void **state)
{
    struct h1_target t;
    char err[LG_ERRLEN] = "";
    assert_int_equal(h1_target_init(&t, "http://127.0.0.1:80/v2/infer?x=1#frag", err), 0);
    assert_string_equal(t.host, "127.0.0.1");
    assert_string_equal(t.request_target, "/v2/infer?x=1");
    h1_target_free(&t);
    assert_int_equal(h1_target_init(&t, "http://[::1]:8080", err), 0);
    assert_string_equal(t.host, "[::1]:8080");
    assert_string_equal(t.request_target, "/");
    h1_target_free(&t);
}

static struct h1_result got;
static int ndone;

static void t_header(void *owner, const char *line, size_t len)
{
    (void)owner, (void)line, (void)len;
}

static int t_body(void *owner, const char *p, size_t len)
{
    (void)owner, (void)p, (void)len;
    return 0;
}

static void t_done(void *owner, const struct h1_result *r)
{
    (void)owner;
    got = *r;
    ndone++;
}

/* Parse `reply` on a connection awaiting one: its bad_framing, or -1 when
 * the reply failed. */
static int framing_of(const char *reply)
{
    static const struct h1_hooks hooks = {t_header, t_body, t_done};
    uv_loop_t uv;
    struct h1_loop *lp = calloc(1, sizeof *lp);
    struct h1_conn c;
    assert_non_null(lp);
    assert_int_equal(uv_loop_init(&uv), 0);
    static const struct h1_target target; /* replies to POST */
    h1_loop_init(lp, &uv, &target, &hooks, 0, 0, 0);
    h1_conn_init(lp, &c, NULL);
    c.busy = 1;
    reply_framing_reset(&c.framing);
    http_parser_init(&c.parser, HTTP_RESPONSE);
    c.parser.data = &c;
    c.in_headers = 1;
    ndone = 0;
    parse(&c, reply, strlen(reply));
    uv_close((uv_handle_t *)&c.timer, NULL);
    uv_run(&uv, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&uv), 0);
    free(lp);
    assert_int_equal(ndone, 1);
    return got.fail == H1_OK ? got.bad_framing : -1;
}

static void replies_framing_goes_to_reply_c_from_the_final_head_only(void **state)
{
    (void)state;
    assert_int_equal(framing_of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), 0);
    /* An interim reply's length is not the final reply's. */
    assert_int_equal(framing_of("HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n"
                                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), 0);
    assert_int_equal(framing_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "2\r\n{}\r\n0\r\n\r\n"), 0);
    /* http_parser itself refuses two lengths, or one beside chunked. */
    assert_int_equal(framing_of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}"), -1);
    assert_int_equal(framing_of("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(post_head_has_content_type_and_length_per_body),
        cmocka_unit_test(user_headers_replace_or_remove_the_built_in_ones),
        cmocka_unit_test(a_user_content_type_replaces_the_payloads),
        cmocka_unit_test(the_method_names_the_request_line),
        cmocka_unit_test(get_head_has_no_length),
        cmocka_unit_test(native_takes_plain_http_only),
        cmocka_unit_test(target_is_taken_apart_as_curl_does),
        cmocka_unit_test(replies_framing_goes_to_reply_c_from_the_final_head_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
