/*
 * payload.c: corpus + format -> every request body and its headers, encoded
 * once before the first request.
 *
 * Every body and header string lives in one arena allocation, sized exactly
 * by a first pass that runs the same emit code with nowhere to write (so the
 * sizes and the bytes cannot disagree) and filled by a second pass. Memory is
 * therefore the encoded size plus a few shared header strings, and the corpus
 * may be destroyed as soon as payload_build returns.
 *
 * Batching (--batch K): payload p carries images p*K .. p*K+K-1, wrapping
 * around the corpus. How each format carries K images:
 *   json-b64          {"input": ["<b64>", "<b64>"]}, or a --json-template
 *                     whose "{{b64}}" sits in a list: it expands to
 *                     "<b64>", "<b64>" (the template's own quotes around the
 *                     outer two);
 *   multipart         K parts, all named --field (as an HTML
 *                     <input type=file multiple> sends them);
 *   tfserving         K instances;
 *   kserve-v2[-binary] one BYTES input of shape [K];
 *   raw               one image per request: --batch > 1 is refused.
 *
 * Threading: built once on the main thread; read-only afterwards and shared
 * by every engine thread without locks.
 */
#include "payload.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "common.h"
#include "fileio.h"

#define B64_MARK "{{b64}}"
#define CT "Content-Type: "
#define CT_JSON CT "application/json"
#define CT_OCTET CT "application/octet-stream"
#define V2_HEADER_LEN "Inference-Header-Content-Length: "

static const struct {
    const char *name;
    enum payload_format format;
} formats[] = {
    {"json-b64", PAYLOAD_JSON_B64},
    {"raw", PAYLOAD_RAW},
    {"multipart", PAYLOAD_MULTIPART},
    {"tfserving", PAYLOAD_TFSERVING},
    {"kserve-v2", PAYLOAD_KSERVE_V2},
    {"kserve-v2-binary", PAYLOAD_KSERVE_V2_BINARY},
    {"file", PAYLOAD_FILE},
    {"none", PAYLOAD_NONE},
    {"kserve-v1", PAYLOAD_TFSERVING}, /* alias: the same request shape */
};

int payload_parse_format(const char *s, enum payload_format *out)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(s, formats[i].name) == 0) {
            *out = formats[i].format;
            return 0;
        }
    return -EINVAL;
}

const char *payload_format_name(enum payload_format f)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].format == f)
            return formats[i].name;
    return "unknown";
}

/* ---- writer: measures when p is NULL, writes otherwise -------------------- */

struct out {
    char *p; /* destination, or NULL to only count */
    size_t n; /* bytes emitted so far */
};

static void put(struct out *o, const void *s, size_t len)
{
    if (o->p)
        memcpy(o->p + o->n, s, len);
    o->n += len;
}

static void put_str(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void put_num(struct out *o, size_t v)
{
    char buf[24];
    put(o, buf, (size_t)snprintf(buf, sizeof buf, "%zu", v));
}

static void put_b64(struct out *o, const struct corpus_item *it)
{
    if (o->p)
        base64_encode(it->data, it->len, o->p + o->n);
    o->n += base64_encoded_len(it->len);
}

static void put_u32le(struct out *o, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(o, b, sizeof b);
}

/* The inside of a JSON string: quote, backslash and control characters
 * escaped; other bytes (UTF-8 included) as they are. */
static void put_json_text(struct out *o, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            put(o, esc, 2);
        } else if (ch < 0x20) {
            char esc[8];
            put(o, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", ch));
        } else {
            put(o, s, 1);
        }
    }
}

/* A quoted value in a Content-Disposition header: ", CR and LF
 * percent-encoded, as browsers do (HTML's multipart/form-data algorithm). */
static void put_disposition_text(struct out *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '"')
            put_str(o, "%22");
        else if (*s == '\r')
            put_str(o, "%0D");
        else if (*s == '\n')
            put_str(o, "%0A");
        else
            put(o, s, 1);
    }
}

/* ---- one body per format ---------------------------------------------------- */

#define BOUNDARY_LEN 24 /* "loadgen-" + 16 hex digits */

struct build {
    const struct corpus *c;
    const struct payload_options *opt;
    unsigned batch;
    /* json-b64: the template split around its one "{{b64}}" */
    const char *head, *tail;
    size_t head_len;
    char boundary[BOUNDARY_LEN + 1]; /* multipart */
};

static const struct corpus_item *image(const struct build *b, size_t first, unsigned j)
{
    return &b->c->items[(first + j) % b->c->count];
}

static size_t binary_data_size(const struct build *b, size_t first)
{
    size_t n = 0;
    for (unsigned j = 0; j < b->batch; j++)
        n += 4 + image(b, first, j)->len;
    return n;
}

/* The JSON part of a kserve-v2-binary body (its length goes in the
 * Inference-Header-Content-Length header). */
static void emit_v2_binary_json(const struct build *b, size_t first, struct out *o)
{
    put_str(o, "{\"inputs\":[{\"name\":\"");
    put_json_text(o, b->opt->input_name);
    put_str(o, "\",\"shape\":[");
    put_num(o, b->batch);
    put_str(o, "],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":");
    put_num(o, binary_data_size(b, first));
    put_str(o, "}}]}");
}

static void emit_body(const struct build *b, size_t first, struct out *o)
{
    const struct payload_options *opt = b->opt;
    switch (opt->format) {
    case PAYLOAD_JSON_B64:
        put(o, b->head, b->head_len);
        for (unsigned j = 0; j < b->batch; j++) {
            if (j)
                put_str(o, "\", \"");
            put_b64(o, image(b, first, j));
        }
        put_str(o, b->tail);
        break;
    case PAYLOAD_RAW:
        put(o, image(b, first, 0)->data, image(b, first, 0)->len);
        break;
    case PAYLOAD_MULTIPART:
        for (unsigned j = 0; j < b->batch; j++) {
            const struct corpus_item *it = image(b, first, j);
            const char *slash = strrchr(it->name, '/');
            put_str(o, "--");
            put_str(o, b->boundary);
            put_str(o, "\r\nContent-Disposition: form-data; name=\"");
            put_disposition_text(o, opt->field);
            put_str(o, "\"; filename=\"");
            put_disposition_text(o, slash ? slash + 1 : it->name);
            put_str(o, "\"\r\n" CT);
            put_str(o, corpus_mime(it->kind));
            put_str(o, "\r\n\r\n");
            put(o, it->data, it->len);
            put_str(o, "\r\n");
        }
        put_str(o, "--");
        put_str(o, b->boundary);
        put_str(o, "--\r\n");
        break;
    case PAYLOAD_TFSERVING:
        put_str(o, "{\"instances\": [");
        for (unsigned j = 0; j < b->batch; j++) {
            put_str(o, j ? ", {\"b64\": \"" : "{\"b64\": \"");
            put_b64(o, image(b, first, j));
            put_str(o, "\"}");
        }
        put_str(o, "]}");
        break;
    case PAYLOAD_KSERVE_V2:
        put_str(o, "{\"inputs\":[{\"name\":\"");
        put_json_text(o, opt->input_name);
        put_str(o, "\",\"shape\":[");
        put_num(o, b->batch);
        put_str(o, "],\"datatype\":\"BYTES\",\"data\":[");
        for (unsigned j = 0; j < b->batch; j++) {
            put_str(o, j ? ",\"" : "\"");
            put_b64(o, image(b, first, j));
            put_str(o, "\"");
        }
        put_str(o, "]}]}");
        break;
    case PAYLOAD_KSERVE_V2_BINARY:
        emit_v2_binary_json(b, first, o);
        for (unsigned j = 0; j < b->batch; j++) {
            const struct corpus_item *it = image(b, first, j);
            put_u32le(o, (uint32_t)it->len);
            put(o, it->data, it->len);
        }
        break;
    case PAYLOAD_FILE:
    case PAYLOAD_NONE:
        break; /* built by build_file / build_none */
    }
}

/* Headers shared by every body of the set (headers[0]); the raw format has
 * one per image kind unless --content-type overrides it. */
static void emit_shared_headers(const struct build *b, struct out *o, size_t at[2])
{
    const struct payload_options *opt = b->opt;
    at[0] = o->n;
    switch (opt->format) {
    case PAYLOAD_RAW:
        put_str(o, CT);
        put_str(o, opt->content_type ? opt->content_type : corpus_mime(CORPUS_JPEG));
        put(o, "", 1);
        at[1] = o->n;
        put_str(o, CT);
        put_str(o, opt->content_type ? opt->content_type : corpus_mime(CORPUS_PNG));
        break;
    case PAYLOAD_MULTIPART:
        put_str(o, CT "multipart/form-data; boundary=");
        put_str(o, b->boundary);
        break;
    case PAYLOAD_KSERVE_V2_BINARY:
        put_str(o, CT_OCTET);
        break;
    default:
        put_str(o, CT_JSON);
        break;
    }
    put(o, "", 1);
}

/* The one per-body header: kserve-v2-binary's JSON length. */
static void emit_body_header(const struct build *b, size_t first, struct out *o)
{
    struct out json = {NULL, 0};
    emit_v2_binary_json(b, first, &json);
    put_str(o, V2_HEADER_LEN);
    put_num(o, json.n);
    put(o, "", 1);
}

/* ---- checks before encoding --------------------------------------------------- */

static size_t count_marks(const char *s)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, B64_MARK)); p += strlen(B64_MARK))
        n++;
    return n;
}

/* json-b64 without --json-template is the template {"KEY": "{{b64}}"} (or
 * {"KEY": ["{{b64}}"]} for a batch): one code path for both. */
static void emit_flat_template(const struct build *b, struct out *o)
{
    put_str(o, "{\"");
    put_json_text(o, b->opt->input_key);
    put_str(o, b->batch > 1 ? "\": [\"" B64_MARK "\"]}" : "\": \"" B64_MARK "\"}");
    put(o, "", 1);
}

/* Splits the template around its one placeholder. *owned is the built
 * flat template, if any, freed by the caller. */
static int prepare_template(struct build *b, char **owned, char *err)
{
    const char *t = b->opt->json_template;
    if (!t) {
        struct out o = {NULL, 0};
        emit_flat_template(b, &o);
        if (!(*owned = malloc(o.n)))
            return lg_err(err, -ENOMEM, "out of memory building the JSON template");
        o = (struct out){*owned, 0};
        emit_flat_template(b, &o);
        t = *owned;
    }
    size_t n = count_marks(t);
    if (n != 1 && !b->opt->json_template)
        return lg_err(err, -EINVAL, "--input-key '%s': contains " B64_MARK "; choose another key",
                      b->opt->input_key);
    if (n == 0)
        return lg_err(err, -EINVAL, "--json-template '%s': no " B64_MARK " placeholder; put it where the "
                      "base64 image goes, e.g. {\"input\": {\"image\": \"" B64_MARK "\"}}", t);
    if (n > 1)
        return lg_err(err, -EINVAL, "--json-template '%s': %zu " B64_MARK " placeholders; use exactly one "
                      "(with --batch K it expands to K images)", t, n);
    const char *mark = strstr(t, B64_MARK);
    b->head = t;
    b->head_len = (size_t)(mark - t);
    b->tail = mark + strlen(B64_MARK);
    return 0;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

/* A boundary found in no image, file name or field name. The candidates are a
 * fixed sequence, so the bytes are the same on every run (and the golden
 * test holds); the first one is taken unless an image happens to contain
 * it, which at 64 random bits never happens by chance. */
static int pick_boundary(struct build *b, char *err)
{
    for (uint64_t attempt = 0; attempt < 16; attempt++) {
        snprintf(b->boundary, sizeof b->boundary, "loadgen-%016llx",
                 (unsigned long long)splitmix64(attempt));
        int clash = strstr(b->opt->field, b->boundary) != NULL;
        for (size_t i = 0; i < b->c->count && !clash; i++) {
            const struct corpus_item *it = &b->c->items[i];
            clash = memmem(it->data, it->len, b->boundary, BOUNDARY_LEN) != NULL ||
                    strstr(it->name, b->boundary) != NULL;
        }
        if (!clash)
            return 0;
    }
    return lg_err(err, -EINVAL, "--format multipart: every candidate boundary occurs in the images; "
                  "use --format raw or another format");
}

static int check_options(struct build *b, char *err)
{
    const struct payload_options *opt = b->opt;
    const struct corpus *c = b->c;
    if (!c || c->count == 0)
        return lg_err(err, -EINVAL, "--format %s: no images to encode; give --images DIR or --synthetic N",
                      payload_format_name(opt->format));
    if (opt->format == PAYLOAD_RAW && b->batch > 1)
        return lg_err(err, -EINVAL, "--batch %u: format raw sends one image per request; use multipart, "
                      "tfserving, kserve-v2 or kserve-v2-binary", b->batch);
    if (opt->content_type && strpbrk(opt->content_type, "\r\n"))
        return lg_err(err, -EINVAL, "--content-type: contains a line break; give one media type, e.g. image/jpeg");
    if (opt->format == PAYLOAD_KSERVE_V2_BINARY)
        for (size_t i = 0; i < c->count; i++)
            if (c->items[i].len > UINT32_MAX)
                return lg_err(err, -EINVAL, "--format kserve-v2-binary: %s is %zu bytes, above the 4 GiB a "
                              "BYTES element can hold; use smaller images", c->items[i].name,
                              c->items[i].len);
    if (opt->format == PAYLOAD_MULTIPART)
        return pick_boundary(b, err);
    return 0;
}

/* JSON formats: parse the first body once, so a template that breaks JSON
 * (or a batch around a placeholder outside a list) fails before the run. */
static int check_json(const struct build *b, const struct payload *p, char *err)
{
    const struct payload_options *opt = b->opt;
    size_t len = p->len;
    if (opt->format == PAYLOAD_KSERVE_V2_BINARY) {
        struct out json = {NULL, 0};
        emit_v2_binary_json(b, 0, &json);
        len = json.n;
    } else if (opt->format == PAYLOAD_RAW || opt->format == PAYLOAD_MULTIPART) {
        return 0;
    }
    cJSON *doc = cJSON_ParseWithLength(p->body, len);
    if (doc) {
        cJSON_Delete(doc);
        return 0;
    }
    if (opt->format == PAYLOAD_JSON_B64 && opt->json_template && b->batch > 1)
        return lg_err(err, -EINVAL, "--json-template '%s' with --batch %u: not valid JSON once " B64_MARK
                      " holds %u images; put \"" B64_MARK "\" inside a list, e.g. "
                      "{\"images\": [\"" B64_MARK "\"]}", opt->json_template, b->batch, b->batch);
    if (opt->format == PAYLOAD_JSON_B64 && opt->json_template)
        return lg_err(err, -EINVAL, "--json-template '%s': not valid JSON once " B64_MARK " is replaced; "
                      "quote it (\"" B64_MARK "\") and check the braces", opt->json_template);
    return lg_err(err, -EINVAL, "--format %s: the encoded body is not valid JSON (a bug: please report it)",
                  payload_format_name(opt->format));
}

/* ---- building the set ------------------------------------------------------------ */

static struct payload_set *new_set(size_t count, size_t arena_len)
{
    struct payload_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->items = calloc(count, sizeof *s->items);
    s->arena = malloc(arena_len ? arena_len : 1);
    if (!s->items || !s->arena) {
        payload_destroy(s);
        return NULL;
    }
    s->count = count;
    s->arena_len = s->bodies_len = arena_len;
    return s;
}

static int build_images(struct payload_set **out, struct build *b, char *err)
{
    const struct payload_options *opt = b->opt;
    size_t count = (b->c->count + b->batch - 1) / b->batch;
    int per_body_header = opt->format == PAYLOAD_KSERVE_V2_BINARY;

    /* Pass 1: sizes only. */
    struct out m = {NULL, 0};
    size_t at[2] = {0, 0};
    emit_shared_headers(b, &m, at);
    for (size_t i = 0; i < count; i++) {
        emit_body(b, i * b->batch, &m);
        if (per_body_header)
            emit_body_header(b, i * b->batch, &m);
    }

    struct payload_set *s = new_set(count, m.n);
    if (!s)
        return lg_err(err, -ENOMEM, "out of memory: %zu payloads need %zu MB; use fewer or smaller images",
                      count, m.n >> 20);

    /* Pass 2: the same calls, writing. */
    struct out w = {s->arena, 0};
    emit_shared_headers(b, &w, at);
    for (size_t i = 0; i < count; i++) {
        struct payload *p = &s->items[i];
        size_t start = w.n;
        emit_body(b, i * b->batch, &w);
        p->body = s->arena + start;
        p->len = w.n - start;
        p->images = b->batch;
        p->headers[0] = s->arena + at[0];
        if (opt->format == PAYLOAD_RAW && !opt->content_type && b->c->items[i].kind == CORPUS_PNG)
            p->headers[0] = s->arena + at[1];
        if (per_body_header) {
            p->headers[1] = s->arena + w.n;
            emit_body_header(b, i * b->batch, &w);
        }
        s->total_bytes += p->len;
    }
    int rc = check_json(b, &s->items[0], err);
    if (rc != 0) {
        payload_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* A set of one body of `blen` bytes with its Content-Type; *body is where
 * the caller puts the bytes. */
static struct payload_set *single_set(const struct payload_options *opt, size_t blen,
                                      unsigned batch, char **body)
{
    const char *type = opt->content_type ? opt->content_type : "application/json";
    size_t hlen = strlen(CT) + strlen(type) + 1;
    struct payload_set *s = new_set(1, hlen + blen);
    if (!s)
        return NULL;
    snprintf(s->arena, hlen, CT "%s", type);
    *body = s->arena + hlen;
    s->items[0] = (struct payload){*body, blen, batch, {s->arena, NULL}};
    s->total_bytes = blen;
    return s;
}

static int build_file(struct payload_set **out, const struct payload_options *opt, unsigned batch,
                      char *err)
{
    const char *path = opt->body_file;
    char *body;
    if (opt->content_type && strpbrk(opt->content_type, "\r\n"))
        return lg_err(err, -EINVAL, "--content-type: contains a line break; give one media type, e.g. image/jpeg");
    if (opt->body_data) { /* -D TEXT: the body as given */
        size_t blen = strlen(opt->body_data);
        if (!(*out = single_set(opt, blen, batch, &body)))
            return lg_err(err, -ENOMEM, "out of memory");
        memcpy(body, opt->body_data, blen);
        return 0;
    }
    if (!path)
        return lg_err(err, -EINVAL, "--format file: no --body-file; give the file to send as the body");
    /* O_NONBLOCK: a FIFO with no writer must not block the open; the fstat
     * refuses it. A regular file ignores the flag. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return lg_err(err, -errno, "--body-file %s: cannot open (%s); give a readable file", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return lg_err(err, -e, "--body-file %s: cannot stat (%s); give a readable file", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lg_err(err, -EINVAL, "--body-file %s: not a regular file (%s); give the file whose bytes are "
                      "the body", path, fileio_type_name(st.st_mode));
    }
    /* Checked before a byte is allocated: a sparse 2 GB file costs nothing
     * on disk and 2 GB here. */
    if ((uint64_t)st.st_size > PAYLOAD_MAX_BODY_FILE_BYTES) {
        close(fd);
        return lg_err(err, -EINVAL, "--body-file %s: %lld bytes, over the limit of %u MiB; send a smaller body",
                      path, (long long)st.st_size, PAYLOAD_MAX_BODY_FILE_BYTES >> 20);
    }
    size_t blen = (size_t)st.st_size;
    struct payload_set *s = single_set(opt, blen, batch, &body);
    if (!s) {
        close(fd);
        return lg_err(err, -ENOMEM, "--body-file %s: out of memory for %zu MB; use a smaller body", path, blen >> 20);
    }
    size_t got = 0;
    ssize_t r = 1;
    while (got < blen && (r = read(fd, body + got, blen - got)) != 0) {
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0)
            got += (size_t)r;
    }
    int e = errno;
    close(fd);
    if (got < blen) {
        payload_destroy(s);
        return lg_err(err, r < 0 ? -e : -EIO, "--body-file %s: read %zu of %zu bytes (%s); is it changing?", path, got,
                      blen, r < 0 ? strerror(e) : "end of file");
    }
    *out = s;
    return 0;
}

int payload_build(struct payload_set **out, const struct corpus *c,
                  const struct payload_options *opt_in, char *err)
{
    *out = NULL;
    /* Defaults for unset options, so a zeroed struct is a valid request. */
    struct payload_options opt = *opt_in;
    if (!opt.input_key)
        opt.input_key = "input";
    if (!opt.field)
        opt.field = "data";
    if (!opt.input_name)
        opt.input_name = "INPUT";
    unsigned batch = opt.batch ? opt.batch : 1;

    if (opt.format == PAYLOAD_FILE)
        return build_file(out, &opt, batch, err);
    if (opt.format == PAYLOAD_NONE) {
        struct payload_set *s = new_set(1, 0);
        if (!s)
            return lg_err(err, -ENOMEM, "out of memory");
        s->items[0] = (struct payload){s->arena, 0, batch, {NULL, NULL}};
        *out = s;
        return 0;
    }

    struct build b = {.c = c, .opt = &opt, .batch = batch};
    char *owned = NULL;
    int rc = check_options(&b, err);
    if (rc == 0 && opt.format == PAYLOAD_JSON_B64)
        rc = prepare_template(&b, &owned, err);
    if (rc == 0)
        rc = build_images(out, &b, err);
    free(owned);
    return rc;
}

void payload_destroy(struct payload_set *s)
{
    if (!s)
        return;
    free(s->items);
    free(s->arena);
    free(s->heads);
    free(s);
}

/* ---- request heads for the native HTTP/1.1 engine ---------------------------------- */

/* The length of the name of "Name: value", and whether its value is empty
 * (libcurl's way of saying "do not send this header"). */
static size_t header_name(const char *line, int *empty)
{
    const char *colon = strchr(line, ':');
    size_t n = colon ? (size_t)(colon - line) : strlen(line);
    const char *v = colon ? colon + 1 : line + n;
    while (*v == ' ' || *v == '\t')
        v++;
    *empty = *v == '\0';
    return n;
}

/* 1 when a user header names `name` (with a value or without: either way
 * the built-in one is not sent). */
static int user_has(const struct payload_head_spec *h, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < h->nheaders; i++) {
        int empty;
        if (header_name(h->headers[i], &empty) == len && strncasecmp(h->headers[i], name, len) == 0)
            return 1;
    }
    return 0;
}

static void put_line(struct out *o, const char *name, const char *value)
{
    put_str(o, name);
    put_str(o, value);
    put_str(o, "\r\n");
}

static void emit_head(const struct payload_head_spec *h, const struct payload *p, struct out *o)
{
    int post = p->len > 0 || p->headers[0] != NULL;
    put_str(o, post ? "POST " : "GET ");
    put_str(o, h->target);
    put_str(o, " HTTP/1.1\r\n");
    if (!user_has(h, "Host"))
        put_line(o, "Host: ", h->host);
    if (h->user_agent && !user_has(h, "User-Agent"))
        put_line(o, "User-Agent: ", h->user_agent);
    if (!user_has(h, "Accept"))
        put_str(o, "Accept: */*\r\n");
    for (size_t i = 0; i < h->nheaders; i++) {
        int empty;
        header_name(h->headers[i], &empty);
        if (!empty)
            put_line(o, h->headers[i], "");
    }
    for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++)
        if (p->headers[k])
            put_line(o, p->headers[k], "");
    if (post) {
        put_str(o, "Content-Length: ");
        put_num(o, p->len);
        put_str(o, "\r\n");
    }
    put_str(o, "\r\n");
}

int payload_build_heads(struct payload_set *s, const struct payload_head_spec *h, char *err)
{
    struct out m = {NULL, 0};
    for (size_t i = 0; i < s->count; i++)
        emit_head(h, &s->items[i], &m);
    if (!s->heads && !(s->heads = calloc(s->count, sizeof *s->heads)))
        return lg_err(err, -ENOMEM, "out of memory for request heads");
    /* Bodies and headers keep their offsets; the arena may move. */
    size_t *at = malloc(s->count * (PAYLOAD_MAX_HEADERS + 1) * sizeof *at);
    if (!at)
        return lg_err(err, -ENOMEM, "out of memory for request heads");
    for (size_t i = 0; i < s->count; i++) {
        const struct payload *p = &s->items[i];
        size_t *a = at + i * (PAYLOAD_MAX_HEADERS + 1);
        a[0] = (size_t)(p->body - s->arena);
        for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++)
            a[k + 1] = p->headers[k] ? (size_t)(p->headers[k] - s->arena) : SIZE_MAX;
    }
    char *arena = realloc(s->arena, s->bodies_len + m.n);
    if (!arena) {
        free(at);
        return lg_err(err, -ENOMEM, "out of memory for request heads (%zu KB)", m.n >> 10);
    }
    s->arena = arena;
    s->arena_len = s->bodies_len + m.n;
    struct out w = {arena, s->bodies_len};
    for (size_t i = 0; i < s->count; i++) {
        struct payload *p = &s->items[i];
        const size_t *a = at + i * (PAYLOAD_MAX_HEADERS + 1);
        p->body = arena + a[0];
        for (int k = 0; k < PAYLOAD_MAX_HEADERS; k++)
            p->headers[k] = a[k + 1] == SIZE_MAX ? NULL : arena + a[k + 1];
        size_t start = w.n;
        emit_head(h, p, &w);
        s->heads[i] = (struct payload_head){arena + start, w.n - start};
    }
    free(at);
    return 0;
}
