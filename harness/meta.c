/*
 * meta.c: GET /v2/models/NAME once before the run, parsed into a
 * tensor_model. Main thread only; the easy handle lives for one call.
 */
#include "meta.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "engine.h"
#include "grpc.h"
#include "reply.h"

int meta_url(const char *infer_url, char *out, size_t len)
{
    CURLU *u = curl_url();
    char *path = NULL, *url = NULL;
    int rc = -EINVAL;
    if (!u || curl_url_set(u, CURLUPART_URL, infer_url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    size_t n = strlen(path);
    const char *models = strstr(path, "/v2/models/");
    if (!models || n < 6 || strcmp(path + n - 6, "/infer") != 0 ||
        path + n - 6 <= models + strlen("/v2/models/"))
        goto out;
    path[n - 6] = '\0';
    if (curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK || strlen(url) >= len)
        goto out;
    strcpy(out, url);
    rc = 0;
out:
    curl_free(path);
    curl_free(url);
    curl_url_cleanup(u);
    return rc;
}

static int parse_input(const char *what, const cJSON *in, size_t i, struct tensor_spec *s, char *err)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(in, "datatype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(in, "shape");
    if (!cJSON_IsString(name) || !*name->valuestring || strlen(name->valuestring) >= TENSOR_NAME_MAX)
        return lg_err(err, -EINVAL, "%s: inputs[%zu] has no \"name\" (or one over %d bytes)", what, i,
                      TENSOR_NAME_MAX - 1);
    snprintf(s->name, sizeof s->name, "%s", name->valuestring);
    if (!cJSON_IsString(dt) || tensor_parse_dtype(dt->valuestring, &s->dtype) < 0)
        return lg_err(err, -EINVAL, "%s: input %s: datatype %s is not one loadgen knows (FP32, FP16, "
                      "UINT8, INT64, BYTES, ...); give --datatype", what, s->name,
                      cJSON_IsString(dt) ? dt->valuestring : "(missing)");
    if (!cJSON_IsArray(shape))
        return lg_err(err, -EINVAL, "%s: input %s has no \"shape\" list; give --shape", what, s->name);
    s->ndims = 0;
    for (const cJSON *d = shape->child; d; d = d->next) {
        if (s->ndims == TENSOR_MAX_DIMS || !cJSON_IsNumber(d) || d->valuedouble < -1 ||
            d->valuedouble == 0 || d->valuedouble > (double)TENSOR_MAX_ELEMENTS ||
            d->valuedouble != floor(d->valuedouble))
            return lg_err(err, -EINVAL, "%s: input %s: the shape is not up to %d dimensions of -1 or "
                          "1..%lld; give --shape", what, s->name, TENSOR_MAX_DIMS,
                          TENSOR_MAX_ELEMENTS);
        s->shape[s->ndims++] = (int64_t)d->valuedouble;
    }
    return 0;
}

int meta_parse(const char *what, const char *json, size_t len, struct tensor_model *out, char *err)
{
    memset(out, 0, sizeof *out);
    cJSON *doc = cJSON_ParseWithLength(json, len);
    const cJSON *inputs = doc ? cJSON_GetObjectItemCaseSensitive(doc, "inputs") : NULL;
    int rc = 0;
    if (!doc)
        rc = lg_err(err, -EINVAL, "%s: not JSON; is this a KServe v2 / Triton server? Give --datatype "
                    "and --shape", what);
    else if (!cJSON_IsArray(inputs) || !inputs->child)
        rc = lg_err(err, -EINVAL, "%s: no \"inputs\" list (KServe v2 model metadata has one); give "
                    "--datatype and --shape", what);
    for (const cJSON *in = inputs ? inputs->child : NULL; in && rc == 0; in = in->next) {
        if (out->ninputs == TENSOR_MAX_INPUTS)
            rc = lg_err(err, -EINVAL, "%s: more than %d inputs", what, TENSOR_MAX_INPUTS);
        else
            rc = parse_input(what, in, out->ninputs, &out->inputs[out->ninputs], err);
        out->ninputs += rc == 0;
    }
    cJSON_Delete(doc);
    if (rc < 0 && err) /* names and datatypes are the server's: one printable line */
        lg_printable(err);
    return rc;
}

struct reply {
    char *p;
    size_t len;
    int too_long;
    struct reply_grpc grpc;  /* gRPC: grpc-status and -message, from headers or trailers */
};

static size_t received(char *data, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t add = size * n;
    if (add > META_MAX_REPLY_BYTES - r->len) {
        r->too_long = 1;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    memcpy(r->p + r->len, data, add);
    r->len += add;
    return add;
}

static size_t header_line(char *data, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    reply_grpc_line(&r->grpc, data, size * n);
    return size * n;
}

static long cap(long v, long max) { return v > 0 && v < max ? v : max; }

/* One request to `url` with the run's TLS options and headers: a GET, or
 * with `grpc` a gRPC call whose framed message is post[0..post_len). The
 * reply lands in r (caller-allocated, META_MAX_REPLY_BYTES + 1). 0 with
 * *status set, or a negative errno with err naming `shown`. */
static int transfer(const struct meta_request *q, const char *url, const char *shown, int grpc,
                    const void *post, size_t post_len, struct reply *r, long *status, char *err)
{
    struct curl_slist *headers = NULL;
    int rc = 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    for (size_t i = 0; i < q->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(headers, q->headers[i]);
        if (!l) {
            rc = -ENOMEM;
            break;
        }
        headers = l;
    }
    static const char *const grpc_headers[] = {"Content-Type: application/grpc", "TE: trailers"};
    for (size_t i = 0; grpc && rc == 0 && i < 2; i++) {
        struct curl_slist *l = curl_slist_append(headers, grpc_headers[i]);
        if (!l)
            rc = -ENOMEM;
        else
            headers = l;
    }
    if (!h || rc < 0) {
        rc = lg_err(err, -ENOMEM, "out of memory fetching the model metadata");
        goto out;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    reply_grpc_reset(&r->grpc);
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (grpc) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_line);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* as the run: straight to the target */
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cap(q->timeout_ms, META_TIMEOUT_MS));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cap(q->connect_timeout_ms, META_TIMEOUT_MS));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, received);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (q->user_agent)
        curl_easy_setopt(h, CURLOPT_USERAGENT, q->user_agent);
    if (q->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (q->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, q->cacert);
    /* gRPC is HTTP/2: with prior knowledge on http:// (one request, which
     * libcurl 7.88 gets right; it is reuse that it gets wrong), by ALPN on
     * https://. A REST server that speaks only h2c answers only in HTTP/2. */
    if (grpc)
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, strncasecmp(url, "https:", 6) == 0
                                                      ? (long)CURL_HTTP_VERSION_2TLS
                                                      : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    else if (q->http2 == ENGINE_HTTP2_PRIOR_KNOWLEDGE)
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    CURLcode cc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (r->too_long)
        rc = lg_err(err, -EINVAL, "model metadata %s: the reply is over %u KiB; give --datatype and "
                    "--shape", shown, META_MAX_REPLY_BYTES >> 10);
    else if (cc != CURLE_OK)
        rc = lg_err(err, -EIO, "model metadata %s: %s; is the server up? Give --datatype and --shape "
                    "to do without it", shown, *curl_err ? curl_err : curl_easy_strerror(cc));
    else if (*status != 200)
        rc = lg_err(err, -EIO, "model metadata %s: HTTP %ld; check the model name in the URL, or give "
                    "--datatype and --shape", shown, *status);
out:
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return rc;
}

int meta_fetch(const struct meta_request *q, struct tensor_model *out, char *err)
{
    char url[4096], shown[1024];
    if (meta_url(q->infer_url, url, sizeof url) < 0 ||
        meta_url(q->public_url, shown, sizeof shown) < 0)
        return lg_err(err, -EINVAL, "%s: not a /v2/models/NAME/infer URL, so the model's metadata cannot "
                      "be read; give --datatype and --shape", q->public_url);
    struct reply r = {.p = malloc(META_MAX_REPLY_BYTES + 1)};
    long status;
    if (!r.p)
        return lg_err(err, -ENOMEM, "out of memory fetching the model metadata");
    int rc = transfer(q, url, shown, 0, NULL, 0, &r, &status, err);
    if (rc == 0) {
        char what[1100];
        snprintf(what, sizeof what, "model metadata %s", shown);
        rc = meta_parse(what, r.p, r.len, out, err);
    }
    free(r.p);
    return rc;
}

/* ".../ModelInfer" -> ".../ModelMetadata", the query dropped. */
static int metadata_method(const char *infer, char *out, size_t len)
{
    static const char infer_method[] = "/inference.GRPCInferenceService/ModelInfer";
    const char *at = strstr(infer, infer_method);
    if (!at || (size_t)(at - infer) + sizeof "/inference.GRPCInferenceService/ModelMetadata" > len)
        return -EINVAL;
    snprintf(out, len, "%.*s/inference.GRPCInferenceService/ModelMetadata", (int)(at - infer), infer);
    return 0;
}

int meta_fetch_grpc(const struct meta_request *q, const char *model, const char *version,
                    struct tensor_model *out, char *err)
{
    char url[4096], shown[1024];
    memset(out, 0, sizeof *out);
    if (metadata_method(q->infer_url, url, sizeof url) < 0 ||
        metadata_method(q->public_url, shown, sizeof shown) < 0)
        return lg_err(err, -EINVAL, "%s: not a ModelInfer URL, so the model's metadata cannot be read; "
                      "give --datatype and --shape", q->public_url);
    Inference__ModelMetadataRequest req = INFERENCE__MODEL_METADATA_REQUEST__INIT;
    req.name = (char *)model;
    req.version = (char *)(version ? version : "");
    size_t n = inference__model_metadata_request__get_packed_size(&req);
    unsigned char *msg = malloc(GRPC_PREFIX + n);
    struct reply r = {.p = malloc(META_MAX_REPLY_BYTES + 1)};
    Inference__ModelMetadataResponse *res = NULL;
    long status;
    int rc;
    if (!msg || !r.p) {
        rc = lg_err(err, -ENOMEM, "out of memory fetching the model metadata");
        goto out;
    }
    grpc_prefix(msg, (uint32_t)n);
    inference__model_metadata_request__pack(&req, msg + GRPC_PREFIX);
    if ((rc = transfer(q, url, shown, 1, msg, GRPC_PREFIX + n, &r, &status, err)) < 0)
        goto out;
    if (r.grpc.status != GRPC_OK) {
        char text[REPLY_GRPC_MESSAGE_MAX + 1];
        const char *name = r.grpc.status >= 0 ? grpc_status_name(r.grpc.status) : NULL;
        rc = lg_err(err, -EIO, "model metadata %s (model %s): %s%s%s; check --model, or give "
                    "--datatype and --shape", shown, model,
                    r.grpc.status < 0 ? "no grpc-status in the reply" : name ? name : "an unknown code",
                    r.grpc.message_len ? ": " : "", reply_grpc_text(&r.grpc, text, sizeof text));
        goto out;
    }
    /* One framed message: its prefix, then exactly the length it states. */
    uint32_t len = r.len >= GRPC_PREFIX ? (uint32_t)((unsigned char)r.p[1] << 24 |
                                                     (unsigned char)r.p[2] << 16 |
                                                     (unsigned char)r.p[3] << 8 |
                                                     (unsigned char)r.p[4]) : 0;
    if (r.len < GRPC_PREFIX || r.p[0] != 0 || len != r.len - GRPC_PREFIX ||
        !(res = inference__model_metadata_response__unpack(NULL, len, (uint8_t *)r.p + GRPC_PREFIX))) {
        rc = lg_err(err, -EINVAL, "model metadata %s: not a ModelMetadataResponse; give --datatype "
                    "and --shape", shown);
        goto out;
    }
    if (res->n_inputs == 0 || res->n_inputs > TENSOR_MAX_INPUTS) {
        rc = lg_err(err, -EINVAL, "model metadata %s: %zu inputs; give --datatype and --shape", shown,
                    res->n_inputs);
        goto out;
    }
    for (size_t i = 0; i < res->n_inputs; i++) {
        const Inference__ModelMetadataResponse__TensorMetadata *t = res->inputs[i];
        struct tensor_spec *sp = &out->inputs[i];
        if (!*t->name || strlen(t->name) >= TENSOR_NAME_MAX ||
            tensor_parse_dtype(t->datatype, &sp->dtype) < 0 || t->n_shape > TENSOR_MAX_DIMS) {
            rc = lg_err(err, -EINVAL, "model metadata %s: input %zu: a name, datatype or shape "
                        "loadgen cannot take; give --datatype and --shape", shown, i);
            goto out;
        }
        snprintf(sp->name, sizeof sp->name, "%s", t->name);
        sp->ndims = (unsigned)t->n_shape;
        for (size_t d = 0; d < t->n_shape; d++) {
            if (t->shape[d] < -1 || t->shape[d] == 0 || t->shape[d] > TENSOR_MAX_ELEMENTS) {
                rc = lg_err(err, -EINVAL, "model metadata %s: input %s: dimension %zu is %lld; give "
                            "--shape", shown, sp->name, d, (long long)t->shape[d]);
                goto out;
            }
            sp->shape[d] = t->shape[d];
        }
        out->ninputs++;
    }
out:
    if (res)
        inference__model_metadata_response__free_unpacked(res, NULL);
    if (rc < 0)
        lg_printable(err); /* names are the server's: one printable line */
    free(msg);
    free(r.p);
    return rc;
}
