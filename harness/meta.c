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

#include "common.h"
#include "engine.h"

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

static long cap(long v, long max) { return v > 0 && v < max ? v : max; }

int meta_fetch(const struct meta_request *q, struct tensor_model *out, char *err)
{
    char url[4096], shown[1024];
    if (meta_url(q->infer_url, url, sizeof url) < 0 ||
        meta_url(q->public_url, shown, sizeof shown) < 0)
        return lg_err(err, -EINVAL, "%s: not a /v2/models/NAME/infer URL, so the model's metadata cannot "
                      "be read; give --datatype and --shape", q->public_url);
    struct reply r = {malloc(META_MAX_REPLY_BYTES + 1), 0, 0};
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
    if (!r.p || !h || rc < 0) {
        rc = lg_err(err, -ENOMEM, "out of memory fetching the model metadata");
        goto out;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* as the run: straight to the target */
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cap(q->timeout_ms, META_TIMEOUT_MS));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cap(q->connect_timeout_ms, META_TIMEOUT_MS));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, received);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
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
    /* A server that speaks only h2c answers its metadata only in HTTP/2. */
    if (q->http2 == ENGINE_HTTP2_PRIOR_KNOWLEDGE)
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (r.too_long)
        rc = lg_err(err, -EINVAL, "model metadata %s: the reply is over %u KiB; give --datatype and --shape",
                    shown, META_MAX_REPLY_BYTES >> 10);
    else if (cc != CURLE_OK)
        rc = lg_err(err, -EIO, "model metadata %s: %s; is the server up? Give --datatype and --shape "
                    "to do without it", shown, *curl_err ? curl_err : curl_easy_strerror(cc));
    else if (status != 200)
        rc = lg_err(err, -EIO, "model metadata %s: HTTP %ld; check the model name in the URL, or give "
                    "--datatype and --shape", shown, status);
    else {
        char what[1100];
        snprintf(what, sizeof what, "model metadata %s", shown);
        rc = meta_parse(what, r.p, r.len, out, err);
    }
out:
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    free(r.p);
    return rc;
}
