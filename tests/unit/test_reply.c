/*
 * test_reply.c: a reply's status class, its framing headers and a
 * server-reported compute time, as every engine judges them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "reply.h"

static void statuses_outside_100_599_are_invalid_not_5xx(void **state)
{
    (void)state;
    assert_int_equal(reply_status_class(999, 0), CLASS_INVALID);
    assert_int_equal(reply_status_class(600, 0), CLASS_INVALID);
    assert_int_equal(reply_status_class(99, 0), CLASS_INVALID);
    assert_int_equal(reply_status_class(0, 0), CLASS_INVALID);
    assert_int_equal(reply_status_class(-1, 0), CLASS_INVALID);
    assert_int_equal(reply_status_class(599, 0), CLASS_HTTP_5XX);
    assert_int_equal(reply_status_class(500, 0), CLASS_HTTP_5XX);
    assert_int_equal(reply_status_class(404, 0), CLASS_HTTP_4XX);
    assert_int_equal(reply_status_class(200, 0), CLASS_OK);
    assert_int_equal(reply_status_class(299, 0), CLASS_OK);
    assert_int_equal(reply_status_class(302, 0), CLASS_INVALID);
    assert_int_equal(reply_status_class(101, 0), CLASS_INVALID);
}

static void an_expected_status_is_ok_even_when_it_is_an_error(void **state)
{
    (void)state;
    assert_int_equal(reply_status_class(201, 201), CLASS_OK);
    assert_int_equal(reply_status_class(200, 201), CLASS_INVALID);
    assert_int_equal(reply_status_class(404, 404), CLASS_OK);
    assert_int_equal(reply_status_class(503, 404), CLASS_HTTP_5XX);
    assert_int_equal(reply_status_class(999, 999), CLASS_INVALID);
}

/* Feeds the framing headers in `h` (NULL-terminated; "TE" stands for a
 * Transfer-Encoding, anything else is a Content-Length value) to a fresh
 * framing: its `bad` flag. */
static int framing_bad(const char *const *h)
{
    struct reply_framing f;
    reply_framing_reset(&f);
    for (; *h; h++)
        if (strcmp(*h, "TE") == 0)
            reply_framing_encoding(&f);
        else
            reply_framing_length(&f, *h, strlen(*h));
    return f.bad;
}

static void content_lengths_that_disagree_are_bad_framing(void **state)
{
    (void)state;
    const char *two[] = {"2", "5", NULL};
    const char *list[] = {"2, 5", NULL};
    const char *te[] = {"100", "TE", NULL};
    const char *te_first[] = {"TE", "1", NULL};
    const char *neg[] = {"-1", NULL};
    const char *junk[] = {"12abc", NULL};
    const char *empty[] = {"", NULL};
    const char *empty_element[] = {"2,,2", NULL};
    const char *huge[] = {"99999999999999999999999", NULL};
    assert_true(framing_bad(two));
    assert_true(framing_bad(list));
    assert_true(framing_bad(te));
    assert_true(framing_bad(te_first));
    assert_true(framing_bad(neg));
    assert_true(framing_bad(junk));
    assert_true(framing_bad(empty));
    assert_true(framing_bad(empty_element));
    assert_true(framing_bad(huge));
}

static void one_length_or_the_same_length_repeated_is_fine(void **state)
{
    (void)state;
    const char *one[] = {"2", NULL};
    const char *same[] = {"2", " 2 ", NULL};
    const char *same_list[] = {"7,7, 7", NULL};
    const char *chunked[] = {"TE", "TE", NULL};
    const char *none[] = {NULL};
    const char *largest[] = {"9223372036854775799", NULL};
    assert_false(framing_bad(one));
    assert_false(framing_bad(same));
    assert_false(framing_bad(same_list));
    assert_false(framing_bad(chunked));
    assert_false(framing_bad(none));
    assert_false(framing_bad(largest));
}

static void server_time_text_is_a_plain_decimal_number(void **state)
{
    (void)state;
    assert_true(reply_parse_ms(" 12.5\r\n", 7) == 12.5);
    assert_true(reply_parse_ms("3", 1) == 3);
    assert_true(reply_parse_ms("1e2", 3) == 100);
    assert_true(reply_parse_ms("-5", 2) == -5); /* parsed; reply_server_time refuses it */
    const char *bad[] = {"inf", "nan", "0x10", "5abc", "", "  ", "infinity", "1 2",
                         "123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_true(isnan(reply_parse_ms(bad[i], strlen(bad[i]))));
    /* A NUL inside the value is not a number either. */
    assert_true(isnan(reply_parse_ms("1\0002", 3)));
}

static void server_times_that_cannot_be_true_are_refused(void **state)
{
    (void)state;
    uint64_t us = 7;
    assert_int_equal(reply_server_time(INFINITY, 5000, &us), -EINVAL);
    assert_int_equal(reply_server_time(-INFINITY, 5000, &us), -EINVAL);
    assert_int_equal(reply_server_time(NAN, 5000, &us), -EINVAL);
    assert_int_equal(reply_server_time(-5, 5000, &us), -EINVAL);
    assert_int_equal(reply_server_time(-0.001, 5000, &us), -EINVAL);
    assert_int_equal(reply_server_time(1e300, 5000, &us), -EINVAL);
    assert_int_equal(reply_server_time(14400000, 5000, &us), -EINVAL); /* 4 h for a 5 ms request */
    assert_int_equal(us, 7);
    /* Up to the request's own latency, plus a millisecond of rounding. */
    assert_int_equal(reply_server_time(5, 5000, &us), 0);
    assert_int_equal(us, 5000);
    assert_int_equal(reply_server_time(6, 5000, &us), 0);
    assert_int_equal(reply_server_time(6.01, 5000, &us), -EINVAL);
    assert_int_equal(reply_server_time(0, 5000, &us), 0);
    assert_int_equal(us, 0);
    assert_int_equal(reply_server_time(0.0004, 5000, &us), 0);
    assert_int_equal(us, 0);
}

/* reply_grpc_class: the whole table of reply.h. */
static void grpc_replies_are_classed_by_http_status_then_grpc_status(void **state)
{
    (void)state;
    static const struct {
        long http;
        int grpc_status;
        enum stats_class want;
        int code;
    } rows[] = {
        {200, 0, CLASS_OK, 0},
        {200, 14, CLASS_GRPC, 14},
        {200, 5, CLASS_GRPC, 5},
        {200, 16, CLASS_GRPC, 16},
        {200, 99, CLASS_GRPC, 99},          /* a code past 16 is counted as sent */
        {200, -1, CLASS_INVALID, -1},       /* no grpc-status: not a gRPC reply */
        {503, -1, CLASS_HTTP_5XX, 14},      /* the spec's table: UNAVAILABLE */
        {502, -1, CLASS_HTTP_5XX, 14},
        {500, -1, CLASS_HTTP_5XX, 2},       /* UNKNOWN */
        {404, -1, CLASS_HTTP_4XX, 12},      /* UNIMPLEMENTED */
        {401, -1, CLASS_HTTP_4XX, 16},
        {429, -1, CLASS_HTTP_4XX, 14},
        {400, -1, CLASS_HTTP_4XX, 13},
        {503, 8, CLASS_HTTP_5XX, 8},        /* a grpc-status that came wins the code */
        {503, 0, CLASS_HTTP_5XX, 0},
        {204, -1, CLASS_INVALID, 2},        /* 2xx but 200: not gRPC's, the code UNKNOWN */
        {302, -1, CLASS_INVALID, 2},
        {0, -1, CLASS_INVALID, -1},         /* no reply at all */
        {999, 0, CLASS_INVALID, -1},        /* not HTTP */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int code = 12345;
        enum stats_class c = reply_grpc_class(rows[i].http, rows[i].grpc_status, &code);
        if (c != rows[i].want || code != rows[i].code)
            fail_msg("row %zu: http %ld grpc-status %d: class %d code %d, want %d %d", i,
                     rows[i].http, rows[i].grpc_status, c, code, rows[i].want, rows[i].code);
    }
    assert_string_equal(stats_class_name(CLASS_GRPC), "grpc");
}

static void grpc_status_and_message_come_from_header_or_trailer_lines(void **state)
{
    (void)state;
    struct reply_grpc g;
    char text[REPLY_GRPC_MESSAGE_MAX];
    reply_grpc_reset(&g);
    assert_int_equal(g.status, -1);
    assert_string_equal(reply_grpc_text(&g, text, sizeof text), "");
    const char *lines[] = {":status: 200\r\n", "content-type: application/grpc\r\n",
                           "grpc-status-details-bin: AAAA\r\n", "grpc-statusx: 3\r\n"};
    for (size_t i = 0; i < 4; i++)
        reply_grpc_line(&g, lines[i], strlen(lines[i]));
    assert_int_equal(g.status, -1);
    const char *st = "Grpc-Status: 14\r\n", *msg = "grpc-message:  no%20backend%0Aup%zz \r\n";
    reply_grpc_line(&g, st, strlen(st));
    reply_grpc_line(&g, msg, strlen(msg));
    assert_int_equal(g.status, 14);
    /* decoded; the newline made '?'; a malformed escape kept as it came */
    assert_string_equal(reply_grpc_text(&g, text, sizeof text), "no backend?up%zz");
    /* A later field (the trailers after the headers) replaces it. */
    reply_grpc_field(&g, "grpc-status", 11, "0", 1);
    assert_int_equal(g.status, 0);
    /* Not a number: never OK, and counted past 16. */
    reply_grpc_field(&g, "grpc-status", 11, "1x", 2);
    assert_true(g.status > 16);
    int code;
    assert_int_equal(reply_grpc_class(200, g.status, &code), CLASS_GRPC);
    /* A long message is cut, and the text fits its buffer. */
    char big[600];
    memset(big, 'a', sizeof big);
    reply_grpc_field(&g, "grpc-message", 12, big, sizeof big);
    assert_int_equal(g.message_len, REPLY_GRPC_MESSAGE_MAX);
    char small[10];
    assert_string_equal(reply_grpc_text(&g, small, sizeof small), "aaaaaaaaa");
    char full[STATS_ERRMSG_LEN];
    assert_int_equal(strlen(reply_grpc_text(&g, full, sizeof full)), REPLY_GRPC_MESSAGE_MAX);
    /* High bytes (UTF-8) are made printable too. */
    reply_grpc_field(&g, "grpc-message", 12, "caf%C3%A9", 9);
    assert_string_equal(reply_grpc_text(&g, text, sizeof text), "caf??");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statuses_outside_100_599_are_invalid_not_5xx),
        cmocka_unit_test(an_expected_status_is_ok_even_when_it_is_an_error),
        cmocka_unit_test(content_lengths_that_disagree_are_bad_framing),
        cmocka_unit_test(one_length_or_the_same_length_repeated_is_fine),
        cmocka_unit_test(server_time_text_is_a_plain_decimal_number),
        cmocka_unit_test(server_times_that_cannot_be_true_are_refused),
        cmocka_unit_test(grpc_replies_are_classed_by_http_status_then_grpc_status),
        cmocka_unit_test(grpc_status_and_message_come_from_header_or_trailer_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
