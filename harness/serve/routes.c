/*
 * routes.c: URL -> route, content-type and body checks, and answers in each
 * protocol's shape (see routes.h). Single-threaded: the decode scratch is
 * shared by every connection of the loop.
 *
 * Every simulated classifier answers the same top 3 (ImageNet tabby cat);
 * the point of the answer is its shape and size, not its labels.
 */
#include "serve/routes.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/body.h"
#include "serve/model.h"

/* Which fixed answers exist: the route_error ones, one per body error, and
 * the route-level ones below. */
enum canned {
    C_NOT_FOUND = RERR_COUNT,
    C_METHOD_GET,
    C_METHOD_POST,
    C_TYPE_JSON,
    C_TYPE_TORCH,
    C_TYPE_V2BIN,
    C_HEALTH,
    C_PING,
    C_READY,
    C_META,
    C_NO_MODEL,
    C_BODY0, /* + enum body_err */
    C_COUNT = C_BODY0 + BODY_ERR_COUNT
};

struct canned_answer {
    int status;
    const char *allow;
    char *body;
    size_t len;
};

/* A remembered verdict: loadgen cycles through a fixed corpus, so most
 * bodies arrive again and again. Checking one costs ~10 instructions a byte
 * (cJSON, base64); hashing it costs well under one. A verdict depends only
 * on the route, the content type and the bytes, so it is reused. */
struct verdict {
    uint64_t key;         /* hash of route, content type, ihcl and body; 0 = empty */
    uint32_t len;         /* body bytes, a second check against collisions */
    int16_t canned;       /* canned answer, or -1 for 200 */
    uint16_t classes;     /* V2: the classification asked for */
    uint32_t images;
};

/* A V2 answer's rows, the same for every image (the tabby cat of the other
 * routes and of gRPC): the output tensor, MODEL_CLASSES numbers; and every
 * class ranked as Triton's classification extension writes them
 * ("score:index:label" strings), end[k] the length of the first k. */
struct v2_rows {
    struct sbuf tensor;
    struct sbuf ranked;
    size_t end[MODEL_CLASSES + 1];
};

#define VERDICTS 8192     /* direct-mapped; a power of two */

struct routes {
    struct canned_answer c[C_COUNT];
    struct sbuf scratch;  /* base64 decode buffer, reused */
    unsigned max_images;  /* --max-images */
    struct sbuf wire[RERR_COUNT]; /* each route_error as sent, with Connection: close */
    struct model model;   /* the one model: metadata and tensor checks */
    const uint64_t *grpc_requests, *grpc_errors; /* httpd's, for GET / */
    struct v2_rows v2;
    struct verdict memo[VERDICTS];
};

static const struct { const char *path; size_t len; } v1p = {"/v1/models/", 11},
                                                      v2p = {"/v2/models/", 11},
                                                      tsp = {"/predictions/", 13};

static void canned(const struct routes *rt, int i, struct route_out *out);

static int set(struct routes *rt, int i, int status, const char *allow, const char *fmt, const char *a)
{
    char tmp[512];
    int n = snprintf(tmp, sizeof tmp, fmt, a);
    rt->c[i].status = status;
    rt->c[i].allow = allow;
    rt->c[i].body = strdup(tmp);
    rt->c[i].len = (size_t)n;
    return rt->c[i].body ? 0 : -ENOMEM;
}

static int v2_rows_build(struct v2_rows *r)
{
    static const struct { int index; const char *text; } top[] = {
        {281, "0.412:281:tabby"}, {282, "0.221:282:tiger_cat"}, {285, "0.108:285:Egyptian_cat"}};
    const float rest = 0.259f / (MODEL_CLASSES - 3), first[] = {0.412f, 0.221f, 0.108f};
    char num[48];
    int rc = 0;
    for (int k = 0; k < MODEL_CLASSES && !rc; k++) {
        float v = rest;
        for (int t = 0; t < 3; t++)
            if (top[t].index == k)
                v = first[t];
        int len = snprintf(num, sizeof num, "%s%.6g", k ? ", " : "", (double)v);
        rc = sbuf_put(&r->tensor, num, (size_t)len);
    }
    size_t n = 0;
    for (int t = 0; t < 3 && !rc; t++) {
        int len = snprintf(num, sizeof num, "%s\"%s\"", t ? ", " : "", top[t].text);
        rc = sbuf_put(&r->ranked, num, (size_t)len);
        r->end[++n] = r->ranked.len;
    }
    for (int k = 0; k < MODEL_CLASSES && !rc; k++) {
        if (k == 281 || k == 282 || k == 285)
            continue;
        int len = snprintf(num, sizeof num, ", \"%.6g:%d\"", (double)rest, k);
        rc = sbuf_put(&r->ranked, num, (size_t)len);
        r->end[++n] = r->ranked.len;
    }
    return rc ? -ENOMEM : 0;
}

int routes_create(struct routes **out, const char *model, unsigned px, const char *device,
                  unsigned replicas, int fail_status, uint64_t max_body, unsigned max_images)
{
    struct routes *rt = calloc(1, sizeof *rt);
    if (!rt)
        return -ENOMEM;
    rt->max_images = max_images;
    model_init(&rt->model, model, px);
    char limit[64], health[256];
    snprintf(limit, sizeof limit, "%llu", (unsigned long long)max_body);
    snprintf(health, sizeof health, "{\"status\": \"Healthy\", \"model\": \"%.64s\", \"device\": \"%s\", "
             "\"replicas\": %u}", model, device, replicas);
    const char *e = "{\"error\": \"%s\"}";
    int rc = set(rt, RERR_MALFORMED, 400, NULL, e, "malformed HTTP request") ||
             set(rt, RERR_TOO_LARGE, 413, NULL,
                 "{\"error\": \"request body is larger than --max-body (%s bytes)\"}", limit) ||
             set(rt, RERR_URL_TOO_LONG, 414, NULL, e, "request URL is too long") ||
             set(rt, RERR_HEADERS_LARGE, 431, NULL, e, "request headers are too large") ||
             set(rt, RERR_FAULT, fail_status, NULL, e, "injected failure (--fail-rate)") ||
             set(rt, RERR_NOMEM, 500, NULL, e, "out of memory") ||
             set(rt, RERR_BUSY, 503, NULL, e,
                 "request bodies in progress fill --max-inflight; retry later") ||
             set(rt, RERR_TIMEOUT, 408, NULL, e,
                 "request not received in time (--header-timeout, --body-timeout)") ||
             set(rt, RERR_TOO_MANY_CONNS, 503, NULL, e, "too many connections (--max-connections)") ||
             set(rt, C_NOT_FOUND, 404, NULL, e,
                 "no such route; use POST /score, /v1/models/NAME:predict, /v2/models/NAME/infer "
                 "or /predictions/NAME") ||
             set(rt, C_METHOD_GET, 405, "GET", e, "method not allowed; use GET") ||
             set(rt, C_METHOD_POST, 405, "POST", e, "method not allowed; use POST") ||
             set(rt, C_TYPE_JSON, 415, NULL, e, "Content-Type must be application/json") ||
             set(rt, C_TYPE_TORCH, 415, NULL, e,
                 "Content-Type must be image/*, application/octet-stream or multipart/form-data") ||
             set(rt, C_TYPE_V2BIN, 415, NULL, e,
                 "with Inference-Header-Content-Length, Content-Type must be "
                 "application/octet-stream or application/json") ||
             set(rt, C_HEALTH, 200, NULL, "%s", health) ||
             set(rt, C_PING, 200, NULL, "%s", "{\"status\": \"Healthy\"}") ||
             set(rt, C_READY, 200, NULL, "%s", "") ||
             set(rt, C_META, 200, NULL, "%s", rt->model.json) ||
             set(rt, C_NO_MODEL, 404, NULL,
                 "{\"error\": \"unknown model or version; this server has model %s version "
                 MODEL_VERSION "\"}", rt->model.name) ||
             v2_rows_build(&rt->v2);
    for (int i = 0; !rc && i < BODY_ERR_COUNT; i++)
        rc = set(rt, C_BODY0 + i,
                 i == BODY_NOMEM                                        ? 500
                 : i == BODY_TOO_COMPLEX ? 413
                                         : 400,
                 NULL, e, body_err_text(i));
    for (int i = 0; !rc && i < RERR_COUNT; i++) {
        struct route_out o;
        struct sbuf body = {0};
        const char *bp;
        size_t bn;
        canned(rt, i, &o);
        /* NUL-terminated past its length, so it reads as a C string too. */
        rc = routes_render(&o, 0, 1, &rt->wire[i], &body, &bp, &bn) ||
             sbuf_put(&rt->wire[i], bp, bn) || sbuf_put(&rt->wire[i], "", 1);
        if (!rc)
            rt->wire[i].len--;
        sbuf_free(&body);
    }
    if (rc) {
        routes_destroy(rt);
        return -ENOMEM;
    }
    *out = rt;
    return 0;
}

const char *routes_error_wire(const struct routes *rt, enum route_error e, size_t *len)
{
    *len = rt->wire[e].len;
    return rt->wire[e].p;
}

void routes_watch_grpc(struct routes *rt, const uint64_t *requests, const uint64_t *errors)
{
    rt->grpc_requests = requests;
    rt->grpc_errors = errors;
}

void routes_destroy(struct routes *rt)
{
    if (!rt)
        return;
    for (int i = 0; i < C_COUNT; i++)
        free(rt->c[i].body);
    for (int i = 0; i < RERR_COUNT; i++)
        sbuf_free(&rt->wire[i]);
    sbuf_free(&rt->scratch);
    sbuf_free(&rt->v2.tensor);
    sbuf_free(&rt->v2.ranked);
    free(rt);
}

static void canned(const struct routes *rt, int i, struct route_out *out)
{
    out->status = rt->c[i].status;
    out->route = ROUTE_NONE;
    out->images = 0;
    out->body = rt->c[i].body;
    out->body_len = rt->c[i].len;
    out->allow = rt->c[i].allow;
}

void routes_error(const struct routes *rt, enum route_error e, struct route_out *out)
{
    canned(rt, (int)e, out);
}

/* The media type of a Content-Type value is `type` (case-insensitive;
 * parameters allowed). A `type` ending in '/' matches any subtype. */
static int media_is(const char *ct, size_t n, const char *type)
{
    while (n && (*ct == ' ' || *ct == '\t'))
        ct++, n--;
    size_t mlen = 0;
    while (mlen < n && ct[mlen] != ';' && ct[mlen] != ' ' && ct[mlen] != '\t')
        mlen++;
    size_t tl = strlen(type);
    if (type[tl - 1] == '/')
        return mlen > tl && !strncasecmp(ct, type, tl);
    return mlen == tl && !strncasecmp(ct, type, tl);
}

/* The boundary parameter of a multipart Content-Type, quoted or not. */
static int boundary_of(const char *ct, size_t n, const char **b, size_t *blen)
{
    for (size_t i = 0; i + 9 <= n; i++) {
        if (strncasecmp(ct + i, "boundary=", 9) != 0 || (i > 0 && ct[i - 1] != ';' && ct[i - 1] != ' '))
            continue;
        const char *v = ct + i + 9, *end = ct + n;
        if (v < end && *v == '"') {
            const char *q = memchr(v + 1, '"', (size_t)(end - v - 1));
            if (!q)
                return -EINVAL;
            *b = v + 1;
            *blen = (size_t)(q - v - 1);
        } else {
            const char *e = v;
            while (e < end && *e != ';' && *e != ' ')
                e++;
            *b = v;
            *blen = (size_t)(e - v);
        }
        return *blen ? 0 : -EINVAL;
    }
    return -EINVAL;
}

static int prefix(const char *p, size_t n, const char *pre, size_t plen)
{
    return n > plen && !memcmp(p, pre, plen);
}

static int equals(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && !memcmp(p, s, n);
}

/* The body check for a scoring route, or the canned answer (415) that
 * replaces it; -1 when the content type is right. */
static int check(struct routes *rt, const struct route_in *in, struct route_out *out, enum body_err *e)
{
    const char *ct = in->ctype;
    size_t cn = in->ctype_len;
    switch (out->route) {
    case ROUTE_SCORE:
    case ROUTE_V1:
        if (!media_is(ct, cn, "application/json"))
            return C_TYPE_JSON;
        *e = out->route == ROUTE_SCORE
                 ? body_score(in->body, in->body_len, &rt->scratch, rt->max_images, &out->images)
                 : body_v1(in->body, in->body_len, &rt->scratch, rt->max_images, &out->images);
        return -1;
    case ROUTE_V2:
        if (in->ihcl < 0) {
            if (!media_is(ct, cn, "application/json"))
                return C_TYPE_JSON;
            *e = body_v2_json(in->body, in->body_len, &rt->model, &rt->scratch, rt->max_images,
                              &out->images, &out->classes);
            return -1;
        }
        if (!media_is(ct, cn, "application/octet-stream") && !media_is(ct, cn, "application/json") &&
            !media_is(ct, cn, "application/vnd.sagemaker-triton.binary+json"))
            return C_TYPE_V2BIN;
        *e = body_v2_binary(in->body, in->body_len, (size_t)in->ihcl, &rt->model, &rt->scratch,
                            rt->max_images, &out->images, &out->classes);
        return -1;
    default: /* ROUTE_TORCH */
        if (media_is(ct, cn, "multipart/form-data")) {
            const char *b;
            size_t bl;
            *e = boundary_of(ct, cn, &b, &bl)
                     ? BODY_BAD_MULTIPART
                     : body_multipart(in->body, in->body_len, b, bl, rt->max_images, &out->images);
            return -1;
        }
        if (!media_is(ct, cn, "image/") && !media_is(ct, cn, "application/octet-stream"))
            return C_TYPE_TORCH;
        *e = body_raw(in->body, in->body_len, &out->images);
        return -1;
    }
}

static uint64_t rotl(uint64_t x, int r) { return x << r | x >> (64 - r); }

static uint64_t mix(uint64_t w) { return rotl(w * 0x87c37b91114253d5ULL, 31) * 0x4cf5ad432745937fULL; }

/* MurmurHash3's 64-bit word mixing in four independent lanes (32 bytes a
 * step, so the multiplies overlap), folded with its finalizer: fast, and
 * good enough that two different bodies of one length sharing a key is not
 * a practical concern (about 2^-64 per pair). */
static uint64_t hash(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    seed ^= n * 0xff51afd7ed558ccdULL;
    uint64_t h[4] = {seed, seed ^ 0x9e3779b97f4a7c15ULL, seed ^ 0x52dce729ULL, seed ^ 0x38495ab5ULL};
    for (; n >= 32; s += 32, n -= 32) {
        for (int i = 0; i < 4; i++) {
            uint64_t w;
            memcpy(&w, s + 8 * i, 8);
            h[i] = rotl(h[i] ^ mix(w), 27) * 5 + 0x52dce729;
        }
    }
    uint64_t x = rotl(h[0], 1) + rotl(h[1], 7) + rotl(h[2], 12) + rotl(h[3], 18);
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        x = rotl(x ^ mix(w), 27) * 5 + 0x52dce729;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    x ^= mix(w) ^ (uint64_t)n << 56;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* check(), through the verdict memo. Returns the canned answer or -1. */
static int remembered(struct routes *rt, const struct route_in *in, struct route_out *out)
{
    uint64_t key = hash(in->ctype, in->ctype_len, (uint64_t)out->route << 56 ^ (uint64_t)in->ihcl);
    key = hash(in->body, in->body_len, key) | 1;
    struct verdict *v = &rt->memo[key & (VERDICTS - 1)];
    if (v->key == key && v->len == in->body_len) {
        out->images = v->images;
        out->classes = v->classes;
        return v->canned;
    }
    enum body_err e = BODY_OK;
    int c = check(rt, in, out, &e);
    if (c < 0 && e != BODY_OK)
        c = C_BODY0 + (int)e;
    /* A large decoded image should not pin memory between requests. */
    if (rt->scratch.cap > (1u << 20))
        sbuf_free(&rt->scratch);
    if (e != BODY_NOMEM && in->body_len <= UINT32_MAX)
        *v = (struct verdict){key, (uint32_t)in->body_len, (int16_t)c, (uint16_t)out->classes,
                              out->images};
    return c;
}

/* GET /v2/models/NAME[/versions/V]: the metadata, or 404 for another
 * model or version. */
static int meta(const struct routes *rt, const char *name, size_t n, const char *ver, size_t vn)
{
    if (!model_is(&rt->model, name, n) || (ver && !(vn == 1 && *ver == MODEL_VERSION[0])))
        return C_NO_MODEL;
    return C_META;
}

void routes_dispatch(struct routes *rt, const struct route_in *in, struct route_out *out)
{
    const char *u = in->url;
    size_t n = in->url_len;
    const char *q = memchr(u, '?', n);
    if (q)
        n = (size_t)(q - u);
    *out = (struct route_out){.route = ROUTE_NONE};
    int get = in->method == HTTP_GET || in->method == HTTP_HEAD;
    int health = -1;
    if (equals(u, n, "/"))
        health = C_HEALTH;
    else if (equals(u, n, "/v2/health/ready") || equals(u, n, "/v2/health/live"))
        health = C_READY;
    else if (equals(u, n, "/ping"))
        health = C_PING;
    else if (prefix(u, n, v2p.path, v2p.len) && !memchr(u + v2p.len, '/', n - v2p.len))
        health = meta(rt, u + v2p.len, n - v2p.len, NULL, 0);
    else if (prefix(u, n, v2p.path, v2p.len)) {
        /* NAME/versions/V */
        const char *name = u + v2p.len, *slash = memchr(name, '/', n - v2p.len);
        size_t rest = n - v2p.len - (size_t)(slash - name);
        if (rest > 10 && !memcmp(slash, "/versions/", 10) && !memchr(slash + 10, '/', rest - 10))
            health = meta(rt, name, (size_t)(slash - name), slash + 10, rest - 10);
    }
    if (health >= 0) {
        canned(rt, get ? health : C_METHOD_GET, out);
        if (get)
            out->route = health == C_HEALTH  ? ROUTE_HEALTH
                         : health == C_READY ? ROUTE_READY
                         : health == C_PING  ? ROUTE_PING
                                             : ROUTE_META;
        if (get && health == C_HEALTH && rt->grpc_requests) {
            out->grpc_requests = *rt->grpc_requests;
            out->grpc_errors = *rt->grpc_errors;
        }
        return;
    }
    if (equals(u, n, "/score")) {
        out->route = ROUTE_SCORE;
    } else if (prefix(u, n, v1p.path, v1p.len) && n > v1p.len + 8 &&
               !memcmp(u + n - 8, ":predict", 8)) {
        out->route = ROUTE_V1;
        out->name = u + v1p.len;
        out->name_len = n - v1p.len - 8;
    } else if (prefix(u, n, v2p.path, v2p.len) && n > v2p.len + 6 && !memcmp(u + n - 6, "/infer", 6)) {
        out->route = ROUTE_V2;
        out->name = u + v2p.len;
        const char *slash = memchr(out->name, '/', n - v2p.len);
        out->name_len = (size_t)(slash - out->name); /* NAME ends at the first '/' */
    } else if (prefix(u, n, tsp.path, tsp.len)) {
        out->route = ROUTE_TORCH;
        out->name = u + tsp.len;
        const char *slash = memchr(out->name, '/', n - tsp.len);
        out->name_len = slash ? (size_t)(slash - out->name) : n - tsp.len;
    }
    int c = -1;
    if (out->route == ROUTE_NONE || (out->name && out->name_len == 0))
        c = C_NOT_FOUND;
    else if (in->method != HTTP_POST)
        c = C_METHOD_POST;
    else
        c = remembered(rt, in, out);
    if (c >= 0) {
        canned(rt, c, out);
        return;
    }
    out->status = 200;
    out->v2 = &rt->v2;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 500 ? "Client Error" : "Server Error";
    }
}

/* The study's Flask answer: top 3 as [label, probability] pairs. */
static const char score_one[] =
    "[[\"n02123045 tabby\", 0.412], [\"n02123159 tiger_cat\", 0.221], "
    "[\"n02124075 Egyptian_cat\", 0.108]]";
static const char v1_one[] =
    "{\"classes\": [\"tabby\", \"tiger_cat\", \"Egyptian_cat\"], \"scores\": [0.412, 0.221, 0.108]}";
static const char torch_one[] = "{\"tabby\": 0.412, \"tiger_cat\": 0.221, \"Egyptian_cat\": 0.108}";

/* `one` K times, comma-separated. */
static int repeat(struct sbuf *b, const char *one, size_t len, unsigned k)
{
    for (unsigned i = 0; i < k; i++)
        if ((i && sbuf_put(b, ", ", 2)) || sbuf_put(b, one, len))
            return -ENOMEM;
    return 0;
}

/* The model NAME echoed in a V2 answer: URL characters outside a safe set
 * become '_' so the JSON stays valid whatever the client sent. */
static int put_name(struct sbuf *b, const char *name, size_t n)
{
    if (sbuf_reserve(b, n))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-' || c == '.';
        b->p[b->len++] = safe ? c : '_';
    }
    return 0;
}

static int render_body(const struct route_out *out, int64_t compute_us, struct sbuf *b)
{
    unsigned k = out->images;
    int rc = 0;
#define PUT(s) (rc = rc || sbuf_put(b, s, sizeof s - 1))
    switch (out->route) {
    case ROUTE_SCORE:
        PUT("{\"result\": ");
        if (k > 1)
            PUT("[");
        rc = rc || repeat(b, score_one, sizeof score_one - 1, k);
        if (k > 1)
            PUT("]");
        PUT(", \"time_ms\": ");
        rc = rc || sbuf_put_ms(b, compute_us);
        PUT("}");
        break;
    case ROUTE_V1:
        PUT("{\"predictions\": [");
        rc = rc || repeat(b, v1_one, sizeof v1_one - 1, k);
        PUT("]}");
        break;
    case ROUTE_V2:
        /* The whole output tensor, or the top K as classification strings
         * when the request asked for them, as Triton answers. */
        PUT("{\"model_name\": \"");
        rc = rc || put_name(b, out->name, out->name_len);
        PUT("\", \"model_version\": \"" MODEL_VERSION "\", \"outputs\": [{\"name\": \"" MODEL_OUTPUT
            "\", \"shape\": [");
        rc = rc || sbuf_putu(b, k);
        PUT(", ");
        rc = rc || sbuf_putu(b, out->classes ? out->classes : MODEL_CLASSES);
        if (out->classes) {
            PUT("], \"datatype\": \"BYTES\", \"data\": [");
            rc = rc || repeat(b, out->v2->ranked.p, out->v2->end[out->classes], k);
        } else {
            PUT("], \"datatype\": \"" MODEL_DATATYPE "\", \"data\": [");
            rc = rc || repeat(b, out->v2->tensor.p, out->v2->tensor.len, k);
        }
        PUT("]}]}");
        break;
    default: /* ROUTE_TORCH */
        if (k > 1)
            PUT("[");
        rc = rc || repeat(b, torch_one, sizeof torch_one - 1, k);
        if (k > 1)
            PUT("]");
        break;
    }
#undef PUT
    return rc ? -ENOMEM : 0;
}

int routes_render(const struct route_out *out, int64_t compute_us, int conn, struct sbuf *head,
                  struct sbuf *body, const char **bp, size_t *bn)
{
    head->len = 0;
    body->len = 0;
    int scored = out->status == 200 && out->route >= ROUTE_SCORE && out->route <= ROUTE_TORCH;
    if (scored) {
        if (render_body(out, compute_us, body))
            return -ENOMEM;
        *bp = body->p;
        *bn = body->len;
    } else if (out->route == ROUTE_HEALTH && out->body_len > 0) {
        /* The pre-built object, its closing brace replaced by the counters. */
        if (sbuf_put(body, out->body, out->body_len - 1) || sbuf_puts(body, ", \"grpc_requests\": ") ||
            sbuf_putu(body, out->grpc_requests) || sbuf_puts(body, ", \"grpc_errors\": ") ||
            sbuf_putu(body, out->grpc_errors) || sbuf_put(body, "}", 1))
            return -ENOMEM;
        *bp = body->p;
        *bn = body->len;
    } else {
        *bp = out->body;
        *bn = out->body_len;
    }
    int rc = sbuf_puts(head, "HTTP/1.1 ") || sbuf_putu(head, (uint64_t)out->status) ||
             sbuf_put(head, " ", 1) || sbuf_puts(head, reason(out->status)) ||
             sbuf_puts(head, "\r\nContent-Type: application/json\r\nContent-Length: ") ||
             sbuf_putu(head, *bn) || sbuf_put(head, "\r\n", 2);
    if (!rc && scored)
        rc = sbuf_puts(head, "X-Inference-Time-Ms: ") || sbuf_put_ms(head, compute_us) ||
             sbuf_put(head, "\r\n", 2);
    if (!rc && out->allow)
        rc = sbuf_puts(head, "Allow: ") || sbuf_puts(head, out->allow) || sbuf_put(head, "\r\n", 2);
    if (!rc && conn)
        rc = sbuf_puts(head, conn == 1 ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
    if (!rc)
        rc = sbuf_put(head, "\r\n", 2);
    return rc ? -ENOMEM : 0;
}
