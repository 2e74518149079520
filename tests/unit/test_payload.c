/*
 * test_payload.c: every format's exact bytes for the 3-byte image FF D8 FF
 * against golden files (tests/fixtures/payload/, written by make_golden.py
 * from the formats' specifications, not from this code), then the
 * arithmetic and checks around them: base64 padding, multipart boundaries,
 * V2 binary lengths, batching, templates, the arena, the body file.
 * Run from the repository root (make test does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "common.h"
#include "corpus.h"
#include "grpc_predict_v2.pb-c.h"
#include "payload.h"
#include "tensorflow_serving/apis/predict.pb-c.h"
#include "tensor.h"

#define FIXTURES "tests/fixtures/payload/"
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static unsigned char tiny[3] = {0xFF, 0xD8, 0xFF};

/* A corpus of n images over caller-owned items: payload_build only reads. */
static struct corpus corpus_of(struct corpus_item *items, size_t n)
{
    struct corpus c = {.items = items, .count = n};
    for (size_t i = 0; i < n; i++)
        c.total_bytes += items[i].len;
    return c;
}

static struct corpus_item tiny_item = {"dir/a.jpg", tiny, sizeof tiny, CORPUS_JPEG};

static unsigned char *read_fixture(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, FIXTURES "%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    unsigned char *buf = malloc(4096);
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    return buf;
}

static struct payload_set *build_ok(const struct corpus *c, const struct payload_options *opt)
{
    struct payload_set *s = NULL;
    char err[LG_ERRLEN] = "";
    if (payload_build(&s, c, opt, err) != 0)
        fail_msg("payload_build: %s", err);
    return s;
}

static void build_fails(const struct corpus *c, const struct payload_options *opt, const char *needle)
{
    struct payload_set *s = (struct payload_set *)1;
    char err[LG_ERRLEN] = "";
    assert_true(payload_build(&s, c, opt, err) < 0);
    assert_null(s);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

struct golden {
    const char *file;
    enum payload_format format;
    unsigned batch;
    const char *json_template;
    const char *input_key;
    const char *header0;
    const char *header1; /* NULL, or a prefix checked by the test */
};

static void every_format_matches_its_golden_file(void **state)
{
    (void)state;
    static const struct golden cases[] = {
        {"json-b64.bin", PAYLOAD_JSON_B64, 1, NULL, NULL, "Content-Type: application/json", NULL},
        {"json-b64-batch2.bin", PAYLOAD_JSON_B64, 2, NULL, NULL, "Content-Type: application/json", NULL},
        {"json-b64-key.bin", PAYLOAD_JSON_B64, 1, NULL, "image_bytes", "Content-Type: application/json", NULL},
        {"json-b64-template.bin", PAYLOAD_JSON_B64, 1, "{\"input\": {\"image\": \"{{b64}}\"}}", NULL,
         "Content-Type: application/json", NULL},
        {"json-b64-template-batch2.bin", PAYLOAD_JSON_B64, 2, "{\"images\": [\"{{b64}}\"]}", NULL,
         "Content-Type: application/json", NULL},
        {"raw.bin", PAYLOAD_RAW, 1, NULL, NULL, "Content-Type: image/jpeg", NULL},
        {"multipart.bin", PAYLOAD_MULTIPART, 1, NULL, NULL,
         "Content-Type: multipart/form-data; boundary=loadgen-e220a8397b1dcdaf", NULL},
        {"multipart-batch2.bin", PAYLOAD_MULTIPART, 2, NULL, NULL,
         "Content-Type: multipart/form-data; boundary=loadgen-e220a8397b1dcdaf", NULL},
        {"tfserving.bin", PAYLOAD_TFSERVING, 1, NULL, NULL, "Content-Type: application/json", NULL},
        {"tfserving-batch2.bin", PAYLOAD_TFSERVING, 2, NULL, NULL, "Content-Type: application/json", NULL},
        {"kserve-v2.bin", PAYLOAD_KSERVE_V2, 1, NULL, NULL, "Content-Type: application/json", NULL},
        {"kserve-v2-batch2.bin", PAYLOAD_KSERVE_V2, 2, NULL, NULL, "Content-Type: application/json", NULL},
        {"kserve-v2-binary.bin", PAYLOAD_KSERVE_V2_BINARY, 1, NULL, NULL,
         "Content-Type: application/octet-stream", "Inference-Header-Content-Length: 96"},
        {"kserve-v2-binary-batch2.bin", PAYLOAD_KSERVE_V2_BINARY, 2, NULL, NULL,
         "Content-Type: application/octet-stream", "Inference-Header-Content-Length: 97"},
    };
    struct corpus c = corpus_of(&tiny_item, 1);
    for (size_t i = 0; i < LEN(cases); i++) {
        const struct golden *g = &cases[i];
        struct payload_options opt = {.format = g->format, .batch = g->batch,
                                      .json_template = g->json_template, .input_key = g->input_key};
        struct payload_set *s = build_ok(&c, &opt);
        size_t want_len;
        unsigned char *want = read_fixture(g->file, &want_len);
        assert_int_equal(s->count, 1); /* one image: batch 2 wraps onto it */
        const struct payload *p = &s->items[0];
        if (p->len != want_len || memcmp(p->body, want, want_len) != 0)
            fail_msg("%s: %zu bytes differ from the golden %zu:\n%.*s", g->file, p->len, want_len,
                     (int)p->len, p->body);
        assert_int_equal(p->images, g->batch);
        assert_string_equal(p->headers[0], g->header0);
        if (g->header1)
            assert_string_equal(p->headers[1], g->header1);
        else
            assert_null(p->headers[1]);
        assert_int_equal(s->total_bytes, want_len);
        free(want);
        payload_destroy(s);
    }
}

/* The measuring pass must agree with base64_encode at every padding
 * length: these are RFC 4648 section 10's vectors inside a json-b64 body. */
static void json_b64_embeds_rfc4648_vectors_at_every_padding(void **state)
{
    (void)state;
    static const char *const vec[][2] = {
        {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < LEN(vec); i++) {
        struct corpus_item it = {"v", (unsigned char *)vec[i][0], strlen(vec[i][0]), CORPUS_JPEG};
        struct corpus c = corpus_of(&it, 1);
        struct payload_options opt = {.format = PAYLOAD_JSON_B64};
        struct payload_set *s = build_ok(&c, &opt);
        char want[64];
        snprintf(want, sizeof want, "{\"input\": \"%s\"}", vec[i][1]);
        assert_int_equal(s->items[0].len, strlen(want));
        assert_memory_equal(s->items[0].body, want, strlen(want));
        assert_int_equal(s->arena_len, s->total_bytes + strlen("Content-Type: application/json") + 1);
        payload_destroy(s);
    }
}

static const char *boundary_of(const struct payload *p)
{
    const char *b = strstr(p->headers[0], "boundary=");
    assert_non_null(b);
    return b + strlen("boundary=");
}

static void multipart_boundary_avoids_image_bytes_and_closes_the_body(void **state)
{
    (void)state;
    /* The first candidate boundary inside an image forces the next one. */
    unsigned char trap[64] = {0xFF, 0xD8, 0xFF};
    memcpy(trap + 10, "loadgen-e220a8397b1dcdaf", 24);
    struct corpus_item items[] = {
        {"a.jpg", tiny, sizeof tiny, CORPUS_JPEG},
        {"sub/trap.jpg", trap, sizeof trap, CORPUS_JPEG},
    };
    struct corpus c = corpus_of(items, 2);
    struct payload_options opt = {.format = PAYLOAD_MULTIPART, .batch = 2};
    struct payload_set *s = build_ok(&c, &opt);
    const struct payload *p = &s->items[0];
    const char *b = boundary_of(p);
    assert_int_equal(strlen(b), 24);
    assert_string_not_equal(b, "loadgen-e220a8397b1dcdaf");
    for (size_t i = 0; i < 2; i++)
        assert_null(memmem(items[i].data, items[i].len, b, strlen(b)));
    /* Two delimiters and one close delimiter, the last thing in the body. */
    size_t n = 0;
    for (const char *q = p->body; (q = memmem(q, p->len - (size_t)(q - p->body), b, strlen(b))); q++)
        n++;
    assert_int_equal(n, 3);
    char close[64];
    snprintf(close, sizeof close, "\r\n--%s--\r\n", b);
    assert_memory_equal(p->body + p->len - strlen(close), close, strlen(close));
    /* The file name is the item's base name. */
    assert_non_null(memmem(p->body, p->len, "filename=\"trap.jpg\"", 19));
    payload_destroy(s);
}

static void multipart_escapes_quotes_and_line_breaks_in_names(void **state)
{
    (void)state;
    struct corpus_item it = {"we\"ird\r\n.png", tiny, sizeof tiny, CORPUS_PNG};
    struct corpus c = corpus_of(&it, 1);
    struct payload_options opt = {.format = PAYLOAD_MULTIPART, .field = "my\"file"};
    struct payload_set *s = build_ok(&c, &opt);
    const char *want = "Content-Disposition: form-data; name=\"my%22file\"; "
                       "filename=\"we%22ird%0D%0A.png\"\r\nContent-Type: image/png\r\n\r\n";
    assert_non_null(memmem(s->items[0].body, s->items[0].len, want, strlen(want)));
    payload_destroy(s);
}

static uint32_t le32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static void v2_binary_lengths_add_up(void **state)
{
    (void)state;
    static unsigned char a[1], b[300], d[70000]; /* lengths with 1, 2 and 3 LE bytes */
    a[0] = 0xFF;
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (unsigned char)i;
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (unsigned char)(i * 7);
    struct corpus_item items[] = {
        {"a", a, sizeof a, CORPUS_JPEG}, {"b", b, sizeof b, CORPUS_JPEG}, {"d", d, sizeof d, CORPUS_PNG}};
    struct corpus c = corpus_of(items, 3);
    struct payload_options opt = {.format = PAYLOAD_KSERVE_V2_BINARY, .batch = 3, .input_name = "images"};
    struct payload_set *s = build_ok(&c, &opt);
    const struct payload *p = &s->items[0];
    size_t json_len = strtoul(p->headers[1] + strlen("Inference-Header-Content-Length: "), NULL, 10);
    cJSON *doc = cJSON_ParseWithLength(p->body, json_len);
    assert_non_null(doc);
    cJSON *in = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "inputs"), 0);
    assert_string_equal(cJSON_GetObjectItem(in, "name")->valuestring, "images");
    assert_string_equal(cJSON_GetObjectItem(in, "datatype")->valuestring, "BYTES");
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(in, "shape"), 0)->valueint, 3);
    size_t n = (size_t)cJSON_GetObjectItem(cJSON_GetObjectItem(in, "parameters"), "binary_data_size")->valuedouble;
    cJSON_Delete(doc);
    assert_int_equal(n, 3 * 4 + sizeof a + sizeof b + sizeof d);
    assert_int_equal(p->len, json_len + n);
    const char *q = p->body + json_len;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(le32(q), items[i].len);
        assert_memory_equal(q + 4, items[i].data, items[i].len);
        q += 4 + items[i].len;
    }
    assert_ptr_equal(q, p->body + p->len);
    payload_destroy(s);
}

static void batches_wrap_around_the_corpus(void **state)
{
    (void)state;
    static unsigned char img[3][4] = {{0xFF, 0xD8, 0xFF, 0}, {0xFF, 0xD8, 0xFF, 1}, {0xFF, 0xD8, 0xFF, 2}};
    struct corpus_item items[3];
    for (size_t i = 0; i < 3; i++)
        items[i] = (struct corpus_item){"x.jpg", img[i], 4, CORPUS_JPEG};
    struct corpus c = corpus_of(items, 3);
    struct payload_options opt = {.format = PAYLOAD_TFSERVING, .batch = 2};
    struct payload_set *s = build_ok(&c, &opt);
    assert_int_equal(s->count, 2); /* ceil(3 / 2) */
    static const int want[2][2] = {{0, 1}, {2, 0}};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(s->items[i].images, 2);
        cJSON *doc = cJSON_ParseWithLength(s->items[i].body, s->items[i].len);
        assert_non_null(doc);
        cJSON *inst = cJSON_GetObjectItem(doc, "instances");
        assert_int_equal(cJSON_GetArraySize(inst), 2);
        for (int j = 0; j < 2; j++) {
            const char *b64 = cJSON_GetObjectItem(cJSON_GetArrayItem(inst, j), "b64")->valuestring;
            unsigned char out[8];
            assert_int_equal(base64_decode(b64, strlen(b64), out), 4);
            assert_memory_equal(out, img[want[i][j]], 4);
        }
        cJSON_Delete(doc);
    }
    payload_destroy(s);
}

static void raw_takes_its_type_from_the_signature_and_refuses_batches(void **state)
{
    (void)state;
    static unsigned char png[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
    struct corpus_item items[] = {{"a.jpg", tiny, 3, CORPUS_JPEG}, {"b.png", png, 8, CORPUS_PNG}};
    struct corpus c = corpus_of(items, 2);
    struct payload_options opt = {.format = PAYLOAD_RAW};
    struct payload_set *s = build_ok(&c, &opt);
    assert_int_equal(s->count, 2);
    assert_string_equal(s->items[0].headers[0], "Content-Type: image/jpeg");
    assert_string_equal(s->items[1].headers[0], "Content-Type: image/png");
    assert_memory_equal(s->items[1].body, png, 8);
    payload_destroy(s);

    opt.content_type = "application/octet-stream";
    s = build_ok(&c, &opt);
    assert_string_equal(s->items[0].headers[0], "Content-Type: application/octet-stream");
    assert_string_equal(s->items[1].headers[0], "Content-Type: application/octet-stream");
    payload_destroy(s);

    opt.batch = 4;
    build_fails(&c, &opt, "format raw sends one image per request");
    opt.batch = 1;
    opt.content_type = "image/jpeg\r\nX-Evil: 1";
    build_fails(&c, &opt, "--content-type");
}

static void templates_need_one_placeholder_and_valid_json(void **state)
{
    (void)state;
    struct corpus c = corpus_of(&tiny_item, 1);
    struct payload_options opt = {.format = PAYLOAD_JSON_B64};
    opt.json_template = "{\"input\": \"x\"}";
    build_fails(&c, &opt, "no {{b64}} placeholder");
    opt.json_template = "{\"a\": \"{{b64}}\", \"b\": \"{{b64}}\"}";
    build_fails(&c, &opt, "2 {{b64}} placeholders");
    opt.json_template = "{\"input\": {{b64}}}";
    build_fails(&c, &opt, "not valid JSON");
    opt.json_template = "{\"input\": \"{{b64}}\"";
    build_fails(&c, &opt, "not valid JSON");
    /* A batch expands the placeholder to a list's items: outside a list
     * that is not JSON, and the error says where to put it. */
    opt.json_template = "{\"input\": {\"image\": \"{{b64}}\"}}";
    opt.batch = 3;
    build_fails(&c, &opt, "inside a list");
    /* The flat template is built from --input-key: it cannot hold a second placeholder. */
    opt = (struct payload_options){.format = PAYLOAD_JSON_B64, .input_key = "{{b64}}"};
    build_fails(&c, &opt, "--input-key '{{b64}}': contains {{b64}}");
}

static void json_names_are_escaped(void **state)
{
    (void)state;
    struct corpus c = corpus_of(&tiny_item, 1);
    struct payload_options opt = {.format = PAYLOAD_JSON_B64, .input_key = "a\"b\\c\n"};
    struct payload_set *s = build_ok(&c, &opt);
    const char *want = "{\"a\\\"b\\\\c\\u000a\": \"/9j/\"}";
    assert_int_equal(s->items[0].len, strlen(want));
    assert_memory_equal(s->items[0].body, want, strlen(want));
    payload_destroy(s);

    opt = (struct payload_options){.format = PAYLOAD_KSERVE_V2, .input_name = "in\"put"};
    s = build_ok(&c, &opt);
    cJSON *doc = cJSON_ParseWithLength(s->items[0].body, s->items[0].len);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "inputs"), 0),
                                            "name")->valuestring, "in\"put");
    cJSON_Delete(doc);
    payload_destroy(s);
}

/* Every body and header lives in the arena, the arena is the encoded size
 * plus the shared strings, and nothing points into the corpus: it is freed
 * before the bodies are read (valgrind would see a read after free). */
static void payloads_outlive_the_corpus_in_one_arena(void **state)
{
    (void)state;
    static const enum payload_format fmts[] = {PAYLOAD_JSON_B64, PAYLOAD_RAW, PAYLOAD_MULTIPART,
                                               PAYLOAD_TFSERVING, PAYLOAD_KSERVE_V2,
                                               PAYLOAD_KSERVE_V2_BINARY};
    for (size_t f = 0; f < LEN(fmts); f++) {
        struct corpus_options co = {.synthetic = 20, .width = 32, .height = 24, .seed = 5};
        struct corpus *c;
        char err[LG_ERRLEN];
        assert_int_equal(corpus_load(&c, &co, err), 0);
        struct payload_options opt = {.format = fmts[f], .batch = fmts[f] == PAYLOAD_RAW ? 1 : 3};
        struct payload_set *s = build_ok(c, &opt);
        /* The images each body should carry, copied before the corpus goes. */
        unsigned char *copy[20];
        size_t len[20];
        for (size_t i = 0; i < 20; i++) {
            len[i] = c->items[i].len;
            copy[i] = malloc(len[i]);
            memcpy(copy[i], c->items[i].data, len[i]);
        }
        corpus_destroy(c);
        size_t sum = 0;
        for (size_t i = 0; i < s->count; i++) {
            const struct payload *p = &s->items[i];
            assert_true(p->body >= s->arena && p->body + p->len <= s->arena + s->arena_len);
            for (size_t h = 0; h < PAYLOAD_MAX_HEADERS; h++)
                assert_true(!p->headers[h] ||
                            (p->headers[h] >= s->arena && p->headers[h] < s->arena + s->arena_len));
            sum += p->len;
            /* Each carried image is in the body: raw, or base64 of it. */
            for (unsigned j = 0; j < p->images; j++) {
                size_t k = (i * p->images + j) % 20;
                if (fmts[f] == PAYLOAD_JSON_B64 || fmts[f] == PAYLOAD_TFSERVING || fmts[f] == PAYLOAD_KSERVE_V2) {
                    char *b64 = malloc(base64_encoded_len(len[k]));
                    size_t n = base64_encode(copy[k], len[k], b64);
                    assert_non_null(memmem(p->body, p->len, b64, n));
                    free(b64);
                } else {
                    assert_non_null(memmem(p->body, p->len, copy[k], len[k]));
                }
            }
        }
        assert_int_equal(s->total_bytes, sum);
        assert_int_equal(s->count, fmts[f] == PAYLOAD_RAW ? 20 : 7);
        /* Overhead: shared headers, plus one short header per body for V2 binary. */
        assert_true(s->arena_len - s->total_bytes < 128 + 48 * s->count);
        for (size_t i = 0; i < 20; i++)
            free(copy[i]);
        payload_destroy(s);
    }
}

static void body_file_is_sent_as_is(void **state)
{
    (void)state;
    char path[] = "/tmp/loadgen-test-body.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"x\": 1}", 8), 8);
    close(fd);
    struct payload_options opt = {.format = PAYLOAD_FILE, .body_file = path};
    struct payload_set *s = build_ok(NULL, &opt);
    assert_int_equal(s->count, 1);
    assert_int_equal(s->items[0].len, 8);
    assert_memory_equal(s->items[0].body, "{\"x\": 1}", 8);
    assert_string_equal(s->items[0].headers[0], "Content-Type: application/json");
    assert_null(s->items[0].headers[1]);
    payload_destroy(s);
    opt.content_type = "text/plain";
    s = build_ok(NULL, &opt);
    assert_string_equal(s->items[0].headers[0], "Content-Type: text/plain");
    payload_destroy(s);
    unlink(path);
    build_fails(NULL, &opt, path);
    opt.body_file = "/tmp";
    build_fails(NULL, &opt, "not a regular file");
}

/* A FIFO with no writer, a device, a sparse giant: refused at once, before
 * a byte is allocated (alarm: a blocked open fails the test). */
static void body_file_must_be_a_bounded_regular_file(void **state)
{
    (void)state;
    alarm(20);
    char dir[] = "/tmp/loadgen-test-body.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0644), 0);
    struct payload_options opt = {.format = PAYLOAD_FILE, .body_file = path};
    build_fails(NULL, &opt, "fifo: not a regular file (a FIFO)");
    opt.body_file = "/dev/zero";
    build_fails(NULL, &opt, "--body-file /dev/zero: not a regular file (a character device)");
    unlink(path);
    snprintf(path, sizeof path, "%s/big.json", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)2 << 30), 0); /* sparse */
    close(fd);
    opt.body_file = path;
    build_fails(NULL, &opt, "big.json: 2147483648 bytes, over the limit of 1024 MiB");
    unlink(path);
    rmdir(dir);
    alarm(0);
}

static void none_is_one_empty_body_without_headers(void **state)
{
    (void)state;
    struct payload_options opt = {.format = PAYLOAD_NONE};
    struct payload_set *s = build_ok(NULL, &opt);
    assert_int_equal(s->count, 1);
    assert_int_equal(s->items[0].len, 0);
    assert_non_null(s->items[0].body);
    assert_null(s->items[0].headers[0]);
    assert_null(s->items[0].headers[1]);
    payload_destroy(s);
    payload_destroy(NULL);
}

static void image_formats_need_images(void **state)
{
    (void)state;
    struct corpus empty = {.count = 0};
    struct payload_options opt = {.format = PAYLOAD_TFSERVING};
    build_fails(&empty, &opt, "no images");
    build_fails(NULL, &opt, "no images");
}

static void format_names_round_trip(void **state)
{
    (void)state;
    static const char *const names[] = {"json-b64", "raw", "multipart", "tfserving", "kserve-v2",
                                        "kserve-v2-binary", "file", "none"};
    for (size_t i = 0; i < LEN(names); i++) {
        enum payload_format f;
        assert_int_equal(payload_parse_format(names[i], &f), 0);
        assert_string_equal(payload_format_name(f), names[i]);
    }
    enum payload_format f;
    assert_int_equal(payload_parse_format("kserve-v1", &f), 0);
    assert_int_equal(f, PAYLOAD_TFSERVING);
    assert_int_equal(payload_parse_format("json", &f), -EINVAL);
    assert_int_equal(payload_parse_format("", &f), -EINVAL);
}

/* ---- tensors ---------------------------------------------------------------- */

/* A set of n samples of one input over caller-owned bytes. */
static struct tensor_set tensor_set_of(struct tensor *t, size_t n, int batch_dim)
{
    struct tensor_set s = {.t = t, .count = n, .ninputs = 1, .batch_dim = batch_dim};
    for (size_t i = 0; i < n; i++)
        s.total_bytes += t[i].len;
    return s;
}

static void body_is(const struct payload *p, const char *want)
{
    if (p->len != strlen(want) || memcmp(p->body, want, p->len) != 0)
        fail_msg("body \"%.*s\", want \"%s\"", (int)p->len, p->body, want);
}

static void kserve_v2_carries_tensors_as_flat_data(void **state)
{
    (void)state;
    static const unsigned char a[] = {1, 2, 3, 4, 5, 6}, b[] = {7, 8, 9, 10, 11, 255};
    struct tensor t[2] = {
        {"IN", TENSOR_UINT8, 3, {1, 2, 3}, 6, a, 6},
        {"IN", TENSOR_UINT8, 3, {1, 2, 3}, 6, b, 6},
    };
    struct tensor_set ts = tensor_set_of(t, 2, 1);
    struct payload_options opt = {.format = PAYLOAD_KSERVE_V2, .tensors = &ts};
    struct payload_set *s = build_ok(NULL, &opt);
    assert_int_equal(s->count, 2);
    body_is(&s->items[0], "{\"inputs\":[{\"name\":\"IN\",\"shape\":[1,2,3],\"datatype\":\"UINT8\","
                          "\"data\":[1,2,3,4,5,6]}]}");
    assert_string_equal(s->items[0].headers[0], "Content-Type: application/json");
    payload_destroy(s);
    /* --batch 2: one body, the batch dimension says 2, the data follow on */
    opt.batch = 2;
    s = build_ok(NULL, &opt);
    assert_int_equal(s->count, 1);
    assert_int_equal(s->items[0].images, 2);
    body_is(&s->items[0], "{\"inputs\":[{\"name\":\"IN\",\"shape\":[2,2,3],\"datatype\":\"UINT8\","
                          "\"data\":[1,2,3,4,5,6,7,8,9,10,11,255]}]}");
    payload_destroy(s);
    /* --batch 3 wraps around the samples, as images do */
    opt.batch = 3;
    s = build_ok(NULL, &opt);
    body_is(&s->items[0], "{\"inputs\":[{\"name\":\"IN\",\"shape\":[3,2,3],\"datatype\":\"UINT8\","
                          "\"data\":[1,2,3,4,5,6,7,8,9,10,11,255,1,2,3,4,5,6]}]}");
    payload_destroy(s);
}

/* The shortest text that reads back to the same value: the figures are
 * Python's repr for FP64, and for FP32 and FP16 the shortest %g that
 * struct.pack('f'/'e') reads back to the same bits. */
static void floats_are_written_short_and_exact(void **state)
{
    (void)state;
    float f[6] = {0.1f, 1.0f / 3, -2.1179039f, 255.0f, 1e-7f, -0.0f};
    uint16_t h[2] = {0x3555, 0x0001};
    double d[2] = {0.1, 1.0 / 3};
    int64_t i64[3] = {INT64_MIN, -1, INT64_MAX};
    unsigned char bools[2] = {1, 0};
    struct tensor t[5] = {
        {"F", TENSOR_FP32, 1, {6}, 6, (unsigned char *)f, sizeof f},
        {"H", TENSOR_FP16, 1, {2}, 2, (unsigned char *)h, sizeof h},
        {"D", TENSOR_FP64, 1, {2}, 2, (unsigned char *)d, sizeof d},
        {"I", TENSOR_INT64, 1, {3}, 3, (unsigned char *)i64, sizeof i64},
        {"B", TENSOR_BOOL, 1, {2}, 2, bools, 2},
    };
    struct tensor_set ts = {.t = t, .count = 1, .ninputs = 5};
    struct payload_options opt = {.format = PAYLOAD_KSERVE_V2, .tensors = &ts};
    struct payload_set *s = build_ok(NULL, &opt);
    body_is(&s->items[0],
            "{\"inputs\":[{\"name\":\"F\",\"shape\":[6],\"datatype\":\"FP32\",\"data\":"
            "[0.1,0.33333334,-2.117904,255,1e-07,-0]},"
            "{\"name\":\"H\",\"shape\":[2],\"datatype\":\"FP16\",\"data\":[0.3333,6e-08]},"
            "{\"name\":\"D\",\"shape\":[2],\"datatype\":\"FP64\",\"data\":[0.1,0.3333333333333333]},"
            "{\"name\":\"I\",\"shape\":[3],\"datatype\":\"INT64\",\"data\":"
            "[-9223372036854775808,-1,9223372036854775807]},"
            "{\"name\":\"B\",\"shape\":[2],\"datatype\":\"BOOL\",\"data\":[true,false]}]}");
    payload_destroy(s);
    /* NaN cannot be written in JSON; the binary extension carries it. */
    f[2] = NAN;
    build_fails(NULL, &opt, "NaN or infinity");
    opt.format = PAYLOAD_KSERVE_V2_BINARY;
    s = build_ok(NULL, &opt);
    payload_destroy(s);
}

static void v2_binary_carries_the_raw_bytes_after_the_json(void **state)
{
    (void)state;
    float a[2] = {1.0f, -2.5f}, b[2] = {0.5f, 3.0f};
    struct tensor t[2] = {
        {"x", TENSOR_FP32, 2, {1, 2}, 2, (unsigned char *)a, sizeof a},
        {"x", TENSOR_FP32, 2, {1, 2}, 2, (unsigned char *)b, sizeof b},
    };
    struct tensor_set ts = tensor_set_of(t, 2, 1);
    struct payload_options opt = {.format = PAYLOAD_KSERVE_V2_BINARY, .tensors = &ts, .batch = 2};
    struct payload_set *s = build_ok(NULL, &opt);
    const char *json = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\","
                       "\"parameters\":{\"binary_data_size\":16}}]}";
    size_t jl = strlen(json);
    const struct payload *p = &s->items[0];
    assert_int_equal(p->len, jl + 16);
    assert_memory_equal(p->body, json, jl);
    /* little-endian IEEE 754: 1.0 = 00 00 80 3F, -2.5 = 00 00 20 C0, ... */
    static const unsigned char raw[16] = {0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0,
                                          0, 0, 0, 0x3F,    0, 0, 0x40, 0x40};
    assert_memory_equal(p->body + jl, raw, 16);
    char want[64];
    snprintf(want, sizeof want, "Inference-Header-Content-Length: %zu", jl);
    assert_string_equal(p->headers[1], want);
    assert_string_equal(p->headers[0], "Content-Type: application/octet-stream");
    payload_destroy(s);
}

static void tfserving_nests_each_instance_by_its_shape(void **state)
{
    (void)state;
    static const unsigned char a[] = {1, 2, 3, 4, 5, 6};
    struct tensor t[1] = {{"IN", TENSOR_UINT8, 3, {1, 2, 3}, 6, a, 6}};
    struct tensor_set ts = tensor_set_of(t, 1, 1);
    struct payload_options opt = {.format = PAYLOAD_TFSERVING, .tensors = &ts, .batch = 2};
    struct payload_set *s = build_ok(NULL, &opt);
    body_is(&s->items[0], "{\"instances\":[[[1,2,3],[4,5,6]],[[1,2,3],[4,5,6]]]}");
    payload_destroy(s);
    /* no batch dimension: the whole tensor as "inputs" */
    ts.batch_dim = 0;
    opt.batch = 1;
    s = build_ok(NULL, &opt);
    body_is(&s->items[0], "{\"inputs\":[[[1,2,3],[4,5,6]]]}");
    payload_destroy(s);
    /* BYTES: strings in kserve-v2 (escaped), {"b64": ...} in tfserving */
    static const unsigned char bytes[] = {3, 0, 0, 0, 'a', '"', 'b', 1, 0, 0, 0, '\n'};
    struct tensor bt[2] = {{"s", TENSOR_BYTES, 2, {1, 2}, 2, bytes, sizeof bytes},
                           {"n", TENSOR_UINT8, 1, {1}, 1, a, 1}};
    struct tensor_set bs = {.t = bt, .count = 1, .ninputs = 2, .batch_dim = 1};
    opt.tensors = &bs;
    s = build_ok(NULL, &opt);
    body_is(&s->items[0], "{\"instances\":[{\"s\":[{\"b64\":\"YSJi\"},{\"b64\":\"Cg==\"}],\"n\":1}]}");
    payload_destroy(s);
    opt.format = PAYLOAD_KSERVE_V2;
    s = build_ok(NULL, &opt);
    body_is(&s->items[0], "{\"inputs\":[{\"name\":\"s\",\"shape\":[1,2],\"datatype\":\"BYTES\","
                          "\"data\":[\"a\\\"b\",\"\\u000a\"]},{\"name\":\"n\",\"shape\":[1],"
                          "\"datatype\":\"UINT8\",\"data\":[1]}]}");
    payload_destroy(s);
}

static void tensors_refuse_what_the_format_or_batch_cannot_carry(void **state)
{
    (void)state;
    static const unsigned char a[] = {1, 2, 3, 4, 5, 6};
    struct tensor t[2] = {{"IN", TENSOR_UINT8, 2, {1, 6}, 6, a, 6},
                          {"IN", TENSOR_UINT8, 2, {1, 3}, 3, a, 3}};
    struct tensor_set ts = tensor_set_of(t, 2, 1);
    struct payload_options opt = {.format = PAYLOAD_JSON_B64, .tensors = &ts};
    build_fails(NULL, &opt, "tensors (--datatype, --shape, --input-data) go in kserve-v2");
    opt.format = PAYLOAD_RAW;
    build_fails(NULL, &opt, "--format raw sends encoded images");
    opt.format = PAYLOAD_KSERVE_V2;
    opt.batch = 2;
    build_fails(NULL, &opt, "entries 0 and 1 of input IN have shapes [1,6] and [1,3]");
    ts.batch_dim = 0;
    build_fails(NULL, &opt, "--batch 2: input IN's shape [1,6] has no batch dimension");
    opt.batch = 1; /* one sample per request: different shapes are fine */
    struct payload_set *s = build_ok(NULL, &opt);
    assert_int_equal(s->count, 2);
    payload_destroy(s);
}

/* ---- gRPC ---------------------------------------------------------------------- */

/* The body is one framed message: flag 0, its big-endian length, then it. */
static const unsigned char *grpc_message(const struct payload *p, size_t *len)
{
    const unsigned char *b = (const unsigned char *)p->body;
    assert_true(p->len >= 5);
    assert_int_equal(b[0], 0);
    *len = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
    assert_int_equal(*len + 5, p->len);
    assert_string_equal(p->headers[0], "Content-Type: application/grpc");
    assert_string_equal(p->headers[1], "te: trailers");
    return b + 5;
}

static void grpc_bodies_of_images_are_one_bytes_input(void **state)
{
    (void)state;
    static unsigned char i0[] = {0xff, 0xd8, 0xff, 1}, i1[] = {0xff, 0xd8, 0xff, 2, 3, 4};
    struct corpus_item items[] = {{"a.jpg", i0, sizeof i0, CORPUS_JPEG},
                                  {"b.jpg", i1, sizeof i1, CORPUS_JPEG}};
    struct corpus c = corpus_of(items, 2);
    struct payload_options opt = {.format = PAYLOAD_KSERVE_GRPC, .model = "resnet",
                                  .model_version = "3", .input_name = "input_1", .batch = 2};
    struct payload_set *s = build_ok(&c, &opt);
    assert_int_equal(s->count, 1);
    assert_int_equal(s->items[0].images, 2);
    size_t len;
    const unsigned char *m = grpc_message(&s->items[0], &len);
    Inference__ModelInferRequest *q = inference__model_infer_request__unpack(NULL, len, m);
    assert_non_null(q);
    assert_string_equal(q->model_name, "resnet");
    assert_string_equal(q->model_version, "3");
    assert_int_equal(q->n_inputs, 1);
    assert_string_equal(q->inputs[0]->name, "input_1");
    assert_string_equal(q->inputs[0]->datatype, "BYTES");
    assert_int_equal(q->inputs[0]->n_shape, 1);
    assert_int_equal(q->inputs[0]->shape[0], 2);
    assert_int_equal(q->n_raw_input_contents, 1);
    /* Triton's raw BYTES: each element a 4-byte little-endian length, then it */
    static const unsigned char want[] = {4, 0, 0, 0, 0xff, 0xd8, 0xff, 1,
                                         6, 0, 0, 0, 0xff, 0xd8, 0xff, 2, 3, 4};
    assert_int_equal(q->raw_input_contents[0].len, sizeof want);
    assert_memory_equal(q->raw_input_contents[0].data, want, sizeof want);
    inference__model_infer_request__free_unpacked(q, NULL);
    payload_destroy(s);

    /* tfserving-grpc: string_val, one per image, model_spec.name */
    opt = (struct payload_options){.format = PAYLOAD_TFSERVING_GRPC, .model = "resnet"};
    s = build_ok(&c, &opt);
    assert_int_equal(s->count, 2);
    m = grpc_message(&s->items[1], &len);
    Tensorflow__Serving__PredictRequest *p = tensorflow__serving__predict_request__unpack(NULL, len, m);
    assert_non_null(p);
    assert_string_equal(p->model_spec->name, "resnet");
    assert_int_equal(p->n_inputs, 1);
    assert_string_equal(p->inputs[0]->key, "INPUT");
    Tensorflow__TensorProto *t = p->inputs[0]->value;
    assert_int_equal(t->dtype, TENSORFLOW__DATA_TYPE__DT_STRING);
    assert_int_equal(t->tensor_shape->n_dim, 1);
    assert_int_equal(t->tensor_shape->dim[0]->size, 1);
    assert_int_equal(t->n_string_val, 1);
    assert_int_equal(t->string_val[0].len, sizeof i1);
    assert_memory_equal(t->string_val[0].data, i1, sizeof i1);
    tensorflow__serving__predict_request__free_unpacked(p, NULL);
    payload_destroy(s);

    /* No model: the message cannot name one. */
    opt.model = NULL;
    build_fails(&c, &opt, "--model");
}

static void grpc_bodies_of_fp32_tensors_carry_the_raw_bytes(void **state)
{
    (void)state;
    float a[6] = {0.5f, -1, 2, 3.25f, 4, 5}, b[6] = {6, 7, 8, 9, 10, 11};
    struct tensor t[2] = {
        {"input_1", TENSOR_FP32, 4, {1, 1, 2, 3}, 6, (unsigned char *)a, sizeof a},
        {"input_1", TENSOR_FP32, 4, {1, 1, 2, 3}, 6, (unsigned char *)b, sizeof b},
    };
    struct tensor_set ts = tensor_set_of(t, 2, 1);
    struct payload_options opt = {.format = PAYLOAD_KSERVE_GRPC, .model = "m", .tensors = &ts};
    struct payload_set *s = build_ok(NULL, &opt);
    assert_int_equal(s->count, 2);
    size_t len;
    const unsigned char *m = grpc_message(&s->items[1], &len);
    Inference__ModelInferRequest *q = inference__model_infer_request__unpack(NULL, len, m);
    assert_non_null(q);
    assert_string_equal(q->model_name, "m");
    assert_string_equal(q->inputs[0]->name, "input_1");
    assert_string_equal(q->inputs[0]->datatype, "FP32");
    assert_int_equal(q->inputs[0]->n_shape, 4);
    static const int64_t shape1[] = {1, 1, 2, 3};
    assert_memory_equal(q->inputs[0]->shape, shape1, sizeof shape1);
    assert_int_equal(q->raw_input_contents[0].len, sizeof b);
    assert_memory_equal(q->raw_input_contents[0].data, b, sizeof b);
    inference__model_infer_request__free_unpacked(q, NULL);
    payload_destroy(s);

    /* --batch 2: both samples' bytes, the batch dimension 2 */
    opt.batch = 2;
    opt.format = PAYLOAD_TFSERVING_GRPC;
    s = build_ok(NULL, &opt);
    assert_int_equal(s->count, 1);
    m = grpc_message(&s->items[0], &len);
    Tensorflow__Serving__PredictRequest *p = tensorflow__serving__predict_request__unpack(NULL, len, m);
    assert_non_null(p);
    assert_string_equal(p->inputs[0]->key, "input_1");
    Tensorflow__TensorProto *tp = p->inputs[0]->value;
    assert_int_equal(tp->dtype, TENSORFLOW__DATA_TYPE__DT_FLOAT);
    assert_int_equal(tp->tensor_shape->n_dim, 4);
    assert_int_equal(tp->tensor_shape->dim[0]->size, 2);
    assert_int_equal(tp->tensor_shape->dim[3]->size, 3);
    assert_int_equal(tp->tensor_content.len, sizeof a + sizeof b);
    assert_memory_equal(tp->tensor_content.data, a, sizeof a);
    assert_memory_equal(tp->tensor_content.data + sizeof a, b, sizeof b);
    tensorflow__serving__predict_request__free_unpacked(p, NULL);
    payload_destroy(s);
    assert_string_equal(payload_grpc_path(PAYLOAD_KSERVE_GRPC),
                        "/inference.GRPCInferenceService/ModelInfer");
    assert_string_equal(payload_grpc_path(PAYLOAD_TFSERVING_GRPC),
                        "/tensorflow.serving.PredictionService/Predict");
    assert_null(payload_grpc_path(PAYLOAD_KSERVE_V2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grpc_bodies_of_images_are_one_bytes_input),
        cmocka_unit_test(grpc_bodies_of_fp32_tensors_carry_the_raw_bytes),
        cmocka_unit_test(every_format_matches_its_golden_file),
        cmocka_unit_test(json_b64_embeds_rfc4648_vectors_at_every_padding),
        cmocka_unit_test(multipart_boundary_avoids_image_bytes_and_closes_the_body),
        cmocka_unit_test(multipart_escapes_quotes_and_line_breaks_in_names),
        cmocka_unit_test(v2_binary_lengths_add_up),
        cmocka_unit_test(batches_wrap_around_the_corpus),
        cmocka_unit_test(raw_takes_its_type_from_the_signature_and_refuses_batches),
        cmocka_unit_test(templates_need_one_placeholder_and_valid_json),
        cmocka_unit_test(json_names_are_escaped),
        cmocka_unit_test(payloads_outlive_the_corpus_in_one_arena),
        cmocka_unit_test(body_file_is_sent_as_is),
        cmocka_unit_test(body_file_must_be_a_bounded_regular_file),
        cmocka_unit_test(none_is_one_empty_body_without_headers),
        cmocka_unit_test(image_formats_need_images),
        cmocka_unit_test(format_names_round_trip),
        cmocka_unit_test(kserve_v2_carries_tensors_as_flat_data),
        cmocka_unit_test(floats_are_written_short_and_exact),
        cmocka_unit_test(v2_binary_carries_the_raw_bytes_after_the_json),
        cmocka_unit_test(tfserving_nests_each_instance_by_its_shape),
        cmocka_unit_test(tensors_refuse_what_the_format_or_batch_cannot_carry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
