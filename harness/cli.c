/*
 * cli.c: argv -> struct run_config. Every flag is checked here, before a
 * single request is sent, and every error is one line that names the flag,
 * says what was wrong and what to write instead.
 */
#include "cli.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common.h"
#include "fileio.h"
#include "flags.h"
#include "units.h"

#define DEFAULT_OUT "results/summary.csv"
/* No duration or timeout is longer than a year: then no sum of them
 * (a deadline, a grace period) comes near INT64_MAX microseconds. */
#define MAX_DURATION_US (366LL * 86400 * 1000000)

/* One level spec: "50" or "20:50:10". */
/* One part of a level list: N, or START:END[:STEP], appended to the levels. */
static int parse_level_part(const char *flag, const char *s, int is_rate, struct run_config *cfg,
                            char *err)
{
    struct units_range r;
    int rc = units_parse_range(s, is_rate, &r);
    if (rc < 0) {
        if (!is_rate && strchr(s, ':') == NULL)
            return lg_err(err, -EINVAL, "%s %s: not a positive whole number; write N, START:END[:STEP] "
                               "or a list such as 20,50,100", flag, s);
        return lg_err(err, -EINVAL, "%s %s: %s; write START:END[:STEP] with START <= END and STEP > 0",
                      flag, s, rc == -ERANGE ? "too large" : "not a valid level or range");
    }
    if (r.start <= 0)
        return lg_err(err, -EINVAL, "%s %s: must be at least 1", flag, s);
    if (!is_rate && r.end > 1000000)
        return lg_err(err, -EINVAL, "%s %s: more than 1000000 requests in flight; use several client machines",
                      flag, s);
    /* Past about 1e16 a step of 1 no longer moves a double: refuse what no
     * single client sends long before that. */
    if (is_rate && r.end > 10000000)
        return lg_err(err, -EINVAL, "%s %s: more than 10000000 requests/s; use several client machines",
                      flag, s);
    for (double v = r.start; v <= r.end + 1e-9; v += r.step) {
        if (cfg->nlevels == CLI_MAX_LEVELS)
            return lg_err(err, -EINVAL, "%s %s: more than %d levels; use a larger STEP", flag, s,
                          CLI_MAX_LEVELS);
        if (is_rate)
            cfg->rates[cfg->nlevels++] = v;
        else
            cfg->levels[cfg->nlevels++] = (unsigned)llround(v);
    }
    return 0;
}

/* N, START:END[:STEP], or a comma-separated list of those (20,50,100), in
 * the order given. */
static int parse_levels(const char *flag, const char *s, int is_rate, struct run_config *cfg,
                        char *err)
{
    char part[64];
    cfg->nlevels = 0;
    for (const char *p = s;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof part)
            return lg_err(err, -EINVAL, "%s %s: %s", flag, s, n ? "a level too long" : "an empty level in the list");
        memcpy(part, p, n);
        part[n] = '\0';
        if (parse_level_part(flag, part, is_rate, cfg, err) < 0)
            return -1;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

static int parse_count(const char *flag, const char *s, uint64_t min, uint64_t *out, char *err)
{
    int rc = units_parse_count(s, out);
    if (rc == -ERANGE)
        return lg_err(err, -EINVAL, "%s %s: too large", flag, s);
    if (rc < 0)
        return lg_err(err, -EINVAL, "%s %s: not a whole number; write e.g. 1000 or 10k", flag, s);
    if (*out < min)
        return lg_err(err, -EINVAL, "%s %s: must be at least %llu", flag, s, (unsigned long long)min);
    return 0;
}

/* "224x224": two whole numbers 8..8192 of digits only (sscanf's %d takes
 * signs and blanks, and wraps 4294967304 round to 8). */
static int parse_image_size(const char *s, int *w, int *h)
{
    int v[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        const char *start = s;
        for (; *s >= '0' && *s <= '9'; s++)
            if ((v[i] = v[i] * 10 + (*s - '0')) > 8192)
                return -EINVAL;
        if (s == start || *s != (i == 0 ? 'x' : '\0') || v[i] < 8)
            return -EINVAL;
        s++;
    }
    *w = v[0];
    *h = v[1];
    return 0;
}

/* "p99=500ms,p50=100ms" */
static int parse_slo(const char *s, struct run_config *cfg, char *err)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return lg_err(err, -EINVAL, "--slo: too long");
    strcpy(buf, s);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        char *end;
        if (!eq || (t[0] != 'p' && t[0] != 'P'))
            return lg_err(err, -EINVAL, "--slo %s: write pNN=DURATION, e.g. p99=500ms,p50=100ms", s);
        *eq = '\0';
        /* p999 means 99.9, as in the CSV's lat_p999_ms. */
        double pct = strcmp(t + 1, "999") == 0 ? 99.9 : strtod(t + 1, &end);
        if (strcmp(t + 1, "999") != 0 && (*end || end == t + 1 || !(pct > 0 && pct <= 100)))
            return lg_err(err, -EINVAL, "--slo %s: '%s' is not a percentile; write p50, p99 or p99.9", s, t);
        int64_t us;
        if (units_parse_duration(eq + 1, &us) < 0 || us <= 0 || us > MAX_DURATION_US)
            return lg_err(err, -EINVAL, "--slo %s: '%s' is not a duration; write e.g. 500ms", s, eq + 1);
        if (cfg->nslo == CLI_MAX_SLO)
            return lg_err(err, -EINVAL, "--slo %s: at most %d thresholds", s, CLI_MAX_SLO);
        cfg->slo_pct[cfg->nslo] = pct;
        cfg->slo_us[cfg->nslo++] = us;
    }
    if (cfg->nslo == 0)
        return lg_err(err, -EINVAL, "--slo: empty; write e.g. p99=500ms");
    return 0;
}

/* The C0 controls and DEL: in a header they end the line (CR, LF) or cut
 * it (NUL); in a label they reach the terminal and the CSV raw. */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f)
            return 1;
    return 0;
}

/* An RFC 9110 token, what a header name is made of. */
static int is_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        int alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (!alnum && (!ch || !strchr("!#$%&'*+-.^_`|~", ch)))
            return 0;
    }
    return n > 0;
}

/* A core dump (or a debugger attached by any process of the same user)
 * would hold the key: from the moment one is read, this process makes
 * none. Called before the value is copied anywhere. */
static void protect_secrets(void)
{
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Messages name the header by its position and quote neither its name nor
 * its value: a header is where keys live, and a malformed name may be a
 * value pasted in the wrong place. */
static int check_header(const char *h, size_t index, char *err)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h)
        return lg_err(err, -EINVAL, "--header #%zu: no 'Name:' part; write --header 'Name: value'", index);
    if (!is_token(h, (size_t)(colon - h)))
        return lg_err(err, -EINVAL, "--header #%zu: the name has a space, a control character or one of "
                           "\"(),/;<=>?@[\\]{}; write --header 'Name: value'", index);
    if (has_control(colon + 1))
        return lg_err(err, -EINVAL, "--header #%zu: the value has a control character (CR or LF, a tab, "
                           "...); a header is one line of printable text", index);
    return 0;
}

/* An output file must be creatable: its folder must exist and be writable.
 * Checked before the first request so that no run is lost to a typo. */
static int check_output(const char *flag, const char *path, char *err)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf || !*path)
        return lg_err(err, -EINVAL, "%s: the path is empty or too long", flag);
    strcpy(buf, path);
    const char *dir = dirname(buf);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return lg_err(err, -EINVAL, "%s %s: folder '%s' does not exist; create it first", flag, path, dir);
    if (access(dir, W_OK) != 0)
        return lg_err(err, -EINVAL, "%s %s: folder '%s' is not writable", flag, path, dir);
    if (stat(path, &st) == 0 && (S_ISDIR(st.st_mode) || access(path, W_OK) != 0))
        return lg_err(err, -EINVAL, "%s %s: %s", flag, path,
                      S_ISDIR(st.st_mode) ? "is a folder; give a file name" : "is not writable");
    return 0;
}

/* A URL that curl could not take apart cannot be split reliably either
 * (http://u:SE@CR@host, http://u:pa?ss@host): when it has an '@', '?' or
 * '#' anywhere, only its scheme is kept. */
static const char *strip_secrets(const char *url, char *buf, size_t len)
{
    const char *sep = strstr(url, "://");
    const char *secret = strpbrk(url, "@?#");
    if (!secret)
        snprintf(buf, len, "%s", url);
    else if (sep && sep < secret)
        snprintf(buf, len, "%.*s", (int)(sep + 3 - url), url);
    else
        snprintf(buf, len, "%s", "");
    return buf;
}

const char *cli_public_url(const char *url, char *buf, size_t len)
{
    CURLU *u = curl_url();
    char *s = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_set(u, CURLUPART_USER, NULL, 0);
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
        curl_url_set(u, CURLUPART_QUERY, NULL, 0);
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    }
    if (u && curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
        snprintf(buf, len, "%s", s);
    else
        strip_secrets(url, buf, len);
    curl_free(s);
    curl_url_cleanup(u);
    return buf;
}

static int check_url(const char *raw, char *err)
{
    /* A message quotes the URL only when no part of it can be a password
     * or a key; a malformed one (http:///u:PASS@host) cannot be split
     * reliably, so one with user-info or a query is not quoted at all. */
    const char *url = strpbrk(raw, "@?#") ? "(not quoted: it has user-info or a query)" : raw;
    /* curl reads "http:///x" as host "x"; a user who wrote that forgot it. */
    const char *sep = strstr(raw, "://");
    if (sep && (sep[3] == '/' || sep[3] == ':' || sep[3] == '@' || sep[3] == '\0'))
        return lg_err(err, -EINVAL, "--url %s: no host; write http://HOST[:PORT]/score", url);
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    if (!u)
        return lg_err(err, -ENOMEM, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, raw, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        rc = lg_err(err, -EINVAL, "--url %s: not a URL; write http://HOST[:PORT]/score", url);
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        rc = lg_err(err, -EINVAL, "--url %s: scheme '%s' is not supported; use http:// or https://", url,
                    scheme);
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
        rc = lg_err(err, -EINVAL, "--url %s: no host; write http://HOST[:PORT]/score", url);
    /* An '@' that curl did not take for the user-info's end is a password
     * with an unencoded '/' or '@' in it (http://u:12/ss@host): curl would
     * send it in the path, and the target written to every output would
     * hold it. */
    char target[sizeof ((struct run_config *)0)->target];
    if (rc == 0 && strchr(cli_public_url(raw, target, sizeof target), '@'))
        rc = lg_err(err, -EINVAL, "--url %s: an '@' outside the user-info; write it as %%40 (in a "
                         "password too)", url);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* ---- the flags ------------------------------------------------------------ */

/* A FLAG_CALL handler: `o` is the run_config being filled. */
#define CFG(o) ((struct run_config *)(o))

static int set_url(struct run_config *cfg, const struct flag *f, const char *v, char *err)
{
    /* A password or a key in the URL is a secret like a header. */
    if (strpbrk(v, "@?"))
        protect_secrets();
    if (!*v)
        return flags_errf(err, f, NULL, "empty; write http://HOST[:PORT]/score");
    cfg->url = v;
    return 0;
}

static int flag_url(void *o, const struct flag *f, const char *v, char *err)
{
    return set_url(CFG(o), f, v, err);
}

/* `loadgen http://host/score`: the URL without --url, as wrk, hey and oha
 * take it. */
static int positional_url(void *o, const char *arg, char *err)
{
    struct run_config *cfg = o;
    if (cfg->url && !strstr(arg, "://"))
        return lg_err(err, -EINVAL, "'%s': unexpected argument; flags start with -- (see loadgen --help)",
                      arg);
    if (cfg->url) /* not quoted: a URL may hold a password */
        return lg_err(err, -EINVAL, "a second URL; loadgen sends to one (a scenario file runs several)");
    static const struct flag url_flag = {"url"};
    return set_url(cfg, &url_flag, arg, err);
}

static int flag_threads(void *o, const struct flag *f, const char *v, char *err)
{
    CFG(o)->parse.threads = v;
    return 0;
}

static int flag_rate(void *o, const struct flag *f, const char *v, char *err)
{
    CFG(o)->parse.rate = v;
    return 0;
}

static int flag_arrival(void *o, const struct flag *f, const char *v, char *err)
{
    if (pacer_parse_arrival(v, &CFG(o)->arrival) < 0)
        return flags_errf(err, f, v, "unknown; use constant or poisson");
    return 0;
}

static int flag_warmup(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    /* A bare number is a request count; with a unit, a duration. */
    cfg->warmup_us = 0;
    if (units_parse_count(v, &cfg->warmup_requests) == 0)
        return 0;
    cfg->warmup_requests = 0;
    if (units_parse_duration(v, &cfg->warmup_us) < 0 || cfg->warmup_us > MAX_DURATION_US)
        return flags_errf(err, f, v, "write a request count (200) or a duration up to a year (5s)");
    return 0;
}

static int flag_image_size(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    if (parse_image_size(v, &cfg->corpus.width, &cfg->corpus.height) < 0)
        return flags_errf(err, f, v, "write WIDTHxHEIGHT, each 8..8192 (e.g. 224x224)");
    return 0;
}

static int flag_seed(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    if (units_parse_count(v, &cfg->seed) < 0)
        return flags_errf(err, f, v, "not a whole number; write e.g. 42");
    cfg->corpus.seed = cfg->seed;
    return 0;
}

static int flag_format(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    if (payload_parse_format(v, &cfg->payload.format) < 0 || cfg->payload.format == PAYLOAD_FILE ||
        cfg->payload.format == PAYLOAD_NONE)
        return flags_errf(err, f, v, "unknown; use json-b64, raw, multipart, tfserving, kserve-v2, "
                                     "kserve-v2-binary, kserve-grpc or tfserving-grpc");
    return 0;
}

static int flag_content_type(void *o, const struct flag *f, const char *v, char *err)
{
    if (has_control(v) || !*v)
        return flags_errf(err, f, NULL, "empty or has a control character (CR/LF, a tab, ...)");
    CFG(o)->payload.content_type = v;
    return 0;
}

/* -D @FILE sends the file, -D TEXT the text itself, as curl's --data. */
static int flag_data(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    if (v[0] == '@') {
        if (!v[1])
            return flags_errf(err, f, v, "write @FILE or the body itself");
        cfg->payload.body_file = v + 1;
        cfg->payload.body_data = NULL;
    } else {
        /* hey's -D takes a file name: sending the name itself would be a
         * silent mistake. */
        struct stat st;
        if (stat(v, &st) == 0 && S_ISREG(st.st_mode))
            return flags_errf(err, f, v, "that is a file; write -D @%s to send it, as curl does", v);
        cfg->payload.body_data = v;
        cfg->payload.body_file = NULL;
    }
    return 0;
}

static int method_bodiless(const char *m);

static int flag_datatype(void *o, const struct flag *f, const char *v, char *err)
{
    if (tensor_parse_dtype(v, &CFG(o)->tensor.dtype) < 0)
        return flags_errf(err, f, v, "unknown; use FP32, FP16, UINT8, INT64 or BYTES (or BOOL, "
                                     "INT8, INT16, INT32, UINT16, UINT32, UINT64, FP64)");
    return 0;
}

static int flag_shape(void *o, const struct flag *f, const char *v, char *err)
{
    struct tensor_options *t = &CFG(o)->tensor;
    char why[LG_ERRLEN];
    if (tensor_parse_shape(v, t->shape, &t->ndims, why) < 0)
        return flags_errf(err, f, v, "%s", why);
    return 0;
}

static int flag_normalize(void *o, const struct flag *f, const char *v, char *err)
{
    struct tensor_options *t = &CFG(o)->tensor;
    static const char *const names[] = {[TENSOR_NORM_NONE] = "none", [TENSOR_NORM_UNIT] = "unit",
                                        [TENSOR_NORM_IMAGENET] = "imagenet"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(v, names[i]) == 0) {
            t->normalize = (enum tensor_norm)i;
            t->normalize_given = 1;
            return 0;
        }
    return flags_errf(err, f, v, "unknown; use none, unit or imagenet");
}

static int flag_input_data(void *o, const struct flag *f, const char *v, char *err)
{
    if (access(v, R_OK) != 0)
        return flags_errf(err, f, v, "cannot read it: %s", strerror(errno));
    CFG(o)->tensor.input_data = v;
    return 0;
}

/* The tensor flags against each other and the format, before anything is
 * fetched or sent; what depends on the model's metadata is checked once
 * it is read (run.c). */
static int check_tensor_flags(const struct run_config *cfg, int have_input_name, int have_images,
                              char *err)
{
    const struct tensor_options *t = &cfg->tensor;
    enum payload_format f = cfg->payload.format;
    int have_normalize = t->normalize_given;
    if (!tensor_options_active(t))
        return 0;
    if (cfg->payload.body_file || cfg->payload.body_data ||
        method_bodiless(cfg->method))
        return lg_err(err, -EINVAL, "--datatype/--shape/--input-data build the body; drop --body-file, "
                           "--data and --method GET");
    if (f != PAYLOAD_KSERVE_V2 && f != PAYLOAD_KSERVE_V2_BINARY && f != PAYLOAD_TFSERVING &&
        !payload_grpc_path(f))
        return lg_err(err, -EINVAL, "--datatype/--shape/--input-data: tensors go in --format kserve-v2, "
                           "kserve-v2-binary, tfserving, kserve-grpc or tfserving-grpc, not %s",
                      payload_format_name(f));
    if (t->input_data) {
        if (have_images)
            return lg_err(err, -EINVAL, "--input-data %s gives the values; drop --images, --images-list "
                               "and --synthetic", t->input_data);
        if (have_normalize)
            return lg_err(err, -EINVAL, "--input-data %s: its values are sent as they are; drop "
                               "--normalize", t->input_data);
        if (have_input_name)
            return lg_err(err, -EINVAL, "--input-data %s names the inputs; drop --input-name",
                          t->input_data);
        return 0;
    }
    if (t->dtype == TENSOR_BYTES)
        return lg_err(err, -EINVAL, "--datatype BYTES sends each encoded image as it is; drop --shape "
                           "and --normalize, or give a number type such as FP32");
    if (t->dtype != TENSOR_NONE && t->ndims) {
        struct tensor_spec spec = {.dtype = t->dtype, .ndims = t->ndims};
        struct tensor_image img;
        int batch_dim;
        char why[LG_ERRLEN];
        memcpy(spec.shape, t->shape, sizeof spec.shape);
        snprintf(spec.name, sizeof spec.name, "%s",
                 cfg->payload.input_name ? cfg->payload.input_name : "INPUT");
        if (tensor_image_plan(&spec, t->normalize, &img, &batch_dim, why) < 0)
            return lg_err(err, -EINVAL, "--datatype %s --shape: %s", tensor_dtype_name(t->dtype), why);
    }
    return 0;
}

/* gRPC formats: the URL is the server's address and the request path is the
 * method's; the metadata GET goes to the same server. Checks the flags that
 * cannot apply to a gRPC reply, and takes HTTP/2 as given (h2 by ALPN on
 * https://, h2c with prior knowledge on http://, as gRPC clients do). */
static int grpc_prepare(struct run_config *cfg, char *err)
{
    enum payload_format f = cfg->payload.format;
    const char *fmt = payload_format_name(f), *path = payload_grpc_path(f);
    const char *shown = strpbrk(cfg->url, "@?#") ? "(not quoted: it has user-info or a query)"
                                                 : cfg->url;
    if (!*cfg->model)
        return lg_err(err, -EINVAL, "--format %s: no --model; the message names the model, give "
                           "--model NAME", fmt);
    if (cfg->payload.model_version && f == PAYLOAD_TFSERVING_GRPC)
        return lg_err(err, -EINVAL, "--model-version: tfserving-grpc sends no version (the server's "
                           "latest); drop it or use kserve-grpc");
    if (cfg->checks.expect_json || cfg->checks.server_time_json || cfg->checks.expect_status)
        return lg_err(err, -EINVAL, "--format %s: a gRPC reply is judged by its grpc-status and its body "
                           "is protobuf; drop --expect-status, --expect-json and "
                           "--server-time-json", fmt);
    if (cfg->follow)
        return lg_err(err, -EINVAL, "--format %s: gRPC follows no redirects; drop --follow", fmt);
    CURLU *u = curl_url();
    char *scheme = NULL, *upath = NULL, *query = NULL, *url = NULL, *meta = NULL;
    int rc = -EINVAL;
    if (!u || curl_url_set(u, CURLUPART_URL, cfg->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &upath, 0) != CURLUE_OK) {
        rc = lg_err(err, -ENOMEM, "out of memory");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        (strcmp(upath, "/") != 0 && strcmp(upath, path) != 0)) {
        rc = lg_err(err, -EINVAL, "--url %s: a gRPC URL is the server's address, scheme://HOST:PORT "
                         "(the path is the method's, %s); drop the path and query", shown, path);
        goto out;
    }
    int tls = strcmp(scheme, "https") == 0;
    if (!cfg->http2)
        cfg->http2 = tls ? ENGINE_HTTP2 : ENGINE_HTTP2_PRIOR_KNOWLEDGE;
    else if (!tls && cfg->http2 == ENGINE_HTTP2) {
        rc = lg_err(err, -EINVAL, "--format %s --http2 on http://: gRPC without TLS is HTTP/2 with prior "
                         "knowledge, not an upgrade; give --http2-prior-knowledge or https://", fmt);
        goto out;
    }
    char mpath[600];
    snprintf(mpath, sizeof mpath, "/v2/models/%s%s%s/infer", cfg->model,
             cfg->payload.model_version ? "/versions/" : "",
             cfg->payload.model_version ? cfg->payload.model_version : "");
    if (curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK ||
        strlen(url) >= sizeof cfg->grpc_url ||
        curl_url_set(u, CURLUPART_PATH, mpath, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &meta, 0) != CURLUE_OK ||
        strlen(meta) >= sizeof cfg->grpc_meta_url) {
        rc = lg_err(err, -EINVAL, "--url %s with --model: too long or not a URL once the method's path is "
                         "added; shorten it", shown);
        goto out;
    }
    strcpy(cfg->grpc_url, url);
    strcpy(cfg->grpc_meta_url, meta);
    cfg->url = cfg->grpc_url;
    cli_public_url(cfg->url, cfg->target, sizeof cfg->target);
    cfg->payload.model = cfg->model;
    rc = 0;
out:
    curl_free(scheme);
    curl_free(upath);
    curl_free(query);
    curl_free(url);
    curl_free(meta);
    curl_url_cleanup(u);
    return rc;
}

/* Any method, upper-cased as hey does: a token of RFC 9110 letters. */
static int flag_method(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    size_t n = strlen(v);
    if (n == 0 || n >= sizeof cfg->method)
        return flags_errf(err, f, v, "give a method such as GET, POST, PUT or DELETE");
    for (size_t i = 0; i < n; i++) {
        if (!isalpha((unsigned char)v[i]) && v[i] != '-' && v[i] != '_')
            return flags_errf(err, f, v, "a method is letters only, such as GET, POST, PUT or DELETE");
        cfg->method[i] = (char)toupper((unsigned char)v[i]);
    }
    cfg->method[n] = '\0';
    if (strcmp(cfg->method, "CONNECT") == 0)
        return flags_errf(err, f, v, "CONNECT opens a tunnel, not a request to time; use another method");
    return 0;
}

/* Methods that carry no body unless one is given (-D, --body-file); GET and
 * HEAD never do. */
static int method_bodiless(const char *m)
{
    static const char *const none[] = {"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        if (strcmp(m, none[i]) == 0)
            return 1 + (i < 2);
    return 0;
}

static int flag_header(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    /* Any header may carry a key (X-Api-Key, Cookie, ...). */
    protect_secrets();
    if (check_header(v, ++cfg->parse.nheaders, err) < 0)
        return -EINVAL;
    if (cfg->nheaders == CLI_MAX_HEADERS)
        return flags_errf(err, f, NULL, "more than %d headers", CLI_MAX_HEADERS);
    cfg->headers[cfg->nheaders++] = v;
    return 0;
}

static int flag_bearer_env(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    protect_secrets();
    const char *key = getenv(v);
    if (!key || !*key)
        return flags_errf(err, f, v, "the variable is not set; export %s=<key> first", v);
    if (has_control(key))
        return flags_errf(err, f, v, "the value has CR/LF or another control character");
    if (cfg->nheaders == CLI_MAX_HEADERS)
        return flags_errf(err, f, NULL, "more than %d headers", CLI_MAX_HEADERS);
    char *h = malloc(strlen(key) + 32);
    if (!h)
        return lg_err(err, -ENOMEM, "out of memory");
    sprintf(h, "Authorization: Bearer %s", key);
    cfg->owned_headers[cfg->nowned++] = h;
    cfg->headers[cfg->nheaders++] = h;
    return 0;
}

static int flag_secret_header(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    protect_secrets();
    if (!is_token(v, strlen(v)))
        return flags_errf(err, f, NULL, "the name is empty or has a space, a control character or "
                                        "a separator; write --secret-header X-Api-Key");
    if (cfg->nsecret == CLI_MAX_HEADERS)
        return flags_errf(err, f, NULL, "too many");
    cfg->secret_headers[cfg->nsecret++] = v;
    return 0;
}

static int flag_user_agent(void *o, const struct flag *f, const char *v, char *err)
{
    if (has_control(v))
        return flags_errf(err, f, NULL, "has a control character (CR/LF, a tab, ...); write one "
                                        "line of printable text");
    CFG(o)->user_agent = v;
    return 0;
}

/* Timeouts: from 1 ms to a year, kept in milliseconds for the engine. */
static int flag_timeout(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    int64_t us;
    int rc = units_parse_duration(v, &us);
    if (rc == -ERANGE || (rc == 0 && us > MAX_DURATION_US))
        return flags_errf(err, f, v, "too long; at most a year (8784h)");
    if (rc < 0)
        return flags_errf(err, f, v, "not a duration; write e.g. 500ms, 30s, 2m or 1h "
                                     "(a bare number is seconds)");
    if (us < 1000)
        return flags_errf(err, f, v, "at least 1ms");
    *(strcmp(f->name, "timeout") == 0 ? &cfg->timeout_ms : &cfg->connect_timeout_ms) =
        (long)(us / 1000);
    return 0;
}

static int flag_http2(void *o, const struct flag *f, const char *v, char *err)
{
    CFG(o)->http2 = strcmp(f->name, "http2") == 0 ? ENGINE_HTTP2 : ENGINE_HTTP2_PRIOR_KNOWLEDGE;
    return 0;
}

static int flag_cacert(void *o, const struct flag *f, const char *v, char *err)
{
    if (access(v, R_OK) != 0)
        return flags_errf(err, f, v, "cannot read it: %s", strerror(errno));
    CFG(o)->cacert = v;
    return 0;
}

static int flag_follow(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    if (strcmp(f->name, "follow-headers") == 0)
        cfg->follow = ENGINE_FOLLOW_HEADERS;
    else if (!cfg->follow)
        cfg->follow = ENGINE_FOLLOW_ORIGIN;
    return 0;
}

static int flag_expect_status(void *o, const struct flag *f, const char *v, char *err)
{
    uint64_t n;
    if (units_parse_count(v, &n) < 0 || n < 100 || n > 599)
        return flags_errf(err, f, v, "write an HTTP status, 100..599");
    CFG(o)->checks.expect_status = (long)n;
    return 0;
}

static int flag_json_path(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    if (check_path_valid(v) < 0)
        return flags_errf(err, f, v, "write a dotted path such as result or predictions.0");
    *(strcmp(f->name, "expect-json") == 0 ? &cfg->checks.expect_json
                                          : &cfg->checks.server_time_json) = v;
    return 0;
}

/* --label, --region, --model reach the terminal, the CSV and chart titles. */
static int flag_name(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    if (has_control(v))
        return flags_errf(err, f, v, "has a control character (a tab, newline, escape ...); "
                                     "write printable text");
    *(f->name[0] == 'l' ? &cfg->label : f->name[0] == 'r' ? &cfg->region : &cfg->model) = v;
    return 0;
}

static int flag_no_out(void *o, const struct flag *f, const char *v, char *err)
{
    CFG(o)->out = NULL;
    return 0;
}

static int flag_start_at(void *o, const struct flag *f, const char *v, char *err)
{
    char *end;
    double t = strtod(v, &end);
    if (*end || end == v || !(t > 0))
        return flags_errf(err, f, v, "write a Unix time in seconds (date +%%s)");
    /* A start barrier is minutes away; a day or more is a typo. */
    double now = (double)lg_wall_us() / 1e6;
    if (t > now + 86400)
        return flags_errf(err, f, v, "more than a day from now (%.0f); write a Unix time in "
                                     "seconds, e.g. $(( $(date +%%s) + 30 ))", now);
    CFG(o)->start_at_us = (int64_t)(t * 1e6);
    return 0;
}

static int flag_stability(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    if (units_parse_fraction(v, &cfg->stability) < 0 || cfg->stability <= 0)
        return flags_errf(err, f, v, "write a spread such as 10%% or 0.1");
    return 0;
}

static int flag_window(void *o, const struct flag *f, const char *v, char *err)
{
    struct run_config *cfg = o;
    cfg->window_requests = 0;
    cfg->window_us = 0;
    if (units_parse_count(v, &cfg->window_requests) < 0 &&
        (units_parse_duration(v, &cfg->window_us) < 0 || cfg->window_us <= 0 ||
         cfg->window_us > MAX_DURATION_US))
        return flags_errf(err, f, v, "write a request count (200) or a duration up to a year (5s)");
    if (cfg->window_requests == 0 && cfg->window_us == 0)
        return flags_errf(err, f, v, "must be more than 0");
    return 0;
}

static int flag_max_windows(void *o, const struct flag *f, const char *v, char *err)
{
    uint64_t n;
    if (units_parse_count(v, &n) < 0 || n < 3)
        return flags_errf(err, f, v, "write a whole number of windows, at least 3");
    CFG(o)->max_windows = (unsigned)(n > 10000 ? 10000 : n);
    return 0;
}

static int flag_slo(void *o, const struct flag *f, const char *v, char *err)
{
    return parse_slo(v, CFG(o), err) < 0 ? -EINVAL : 0;
}

static int flag_version(void *o, const struct flag *f, const char *v, char *err)
{
    puts("loadgen " LOADGEN_VERSION " (git " LOADGEN_BUILD ")");
    return FLAGS_HELP;
}

/* --scenario is run_main's: it runs the file's targets, each parsed with
 * the command line's flags after the file's (scenario.c refuses the key in
 * a file). */
static int flag_scenario(void *o, const struct flag *f, const char *v, char *err)
{
    if (!*v)
        return flags_errf(err, f, NULL, "needs a file; see scenarios/*.json");
    CFG(o)->scenario = v;
    return 0;
}

_Static_assert(sizeof(size_t) == sizeof(uint64_t), "--synthetic is stored as a count");
static const char *const engines[] = {"auto", "native", "curl", NULL};
_Static_assert(ENGINE_AUTO == 0 && ENGINE_NATIVE == 1 && ENGINE_CURL == 2 &&
                   sizeof(enum engine_kind) == sizeof(int),
               "--engine is an index into engines[]");
#define C(field) offsetof(struct run_config, field)
#define DAY_US (86400.0 * 1e6)
#define YEAR_US ((double)MAX_DURATION_US)
static const struct flag flags[] = {
    {.kind = FLAG_SECTION, .help = "Experiments:"},
    {"scenario", NULL, FLAG_CALL, 0, 0, 0, "FILE",
     "run every target of an experiment file (scenarios/*.json);\n"
     "flags given here override the file's", .call = flag_scenario},
    {"only", NULL, FLAG_STRING, C(only), 0, 0, "LABEL", "just the target with this label"},
    {.kind = FLAG_SECTION, .help = "Load:"},
    {"url", "u", FLAG_CALL, 0, 0, 0, "URL", "endpoint, http:// or https:// (or give it without --url)",
     .call = flag_url},
    {"threads", "c", FLAG_CALL, 0, 0, 0, "N|A:B[:S]",
     "requests in flight, or a sweep of levels (default 50):\n"
     "20:50:10, or a list such as 20,50,100;\n"
     "auto: step up (1, 2, 4, ... --auto-max, then bisect) to the highest\n"
     "level that meets --slo and --max-error-rate: the capacity at SLO",
     .call = flag_threads, .alias = "concurrency"},
    {"requests", "n", FLAG_COUNT, C(requests), 1, 0, "N", "requests per level, counted exactly (default 1000)"},
    {"duration", "dz", FLAG_DURATION, C(duration_us), 1, YEAR_US, "T",
     "send for T per level instead (30s, 2m; a bare number is seconds)"},
    {"cycles", NULL, FLAG_UINT, C(cycles), 1, 10000, "K", "repeat each level K times (default 1)"},
    {"warmup", NULL, FLAG_CALL, 0, 0, 0, "N|T", "requests or time sent before each level, not counted",
     .call = flag_warmup},
    {"pause", NULL, FLAG_DURATION, C(pause_us), 0, YEAR_US, "T", "pause between levels"},
    {"rate", "R", FLAG_CALL, 0, 0, 0, "R|A:B[:S]",
     "open loop: R requests/s, a sweep or a list (latency counted\nfrom the intended send time: no coordinated omission)",
     .call = flag_rate},
    {"arrival", NULL, FLAG_CALL, 0, 0, 0, "constant|poisson", "open-loop arrivals (default constant)",
     .call = flag_arrival},
    {"max-inflight", NULL, FLAG_UINT, C(max_inflight), 1, 1000000, "N",
     "open loop: cap on requests in flight (default 1000)"},
    {"loops", "t", FLAG_UINT, C(loops), 1, 256, "J",
     "event-loop threads, as wrk -t (default: cores, at most N)"},
    {"start-at", NULL, FLAG_CALL, 0, 0, 0, "TIME", "wait until this Unix time (seconds) before starting",
     .call = flag_start_at},
    {"until-stable", NULL, FLAG_SWITCH, C(until_stable), 0, 0, NULL,
     "measure windows until throughput and p50 of the last 3\nagree within --stability (exit 4 if never)"},
    {"stability", NULL, FLAG_CALL, 0, 0, 0, "P", "allowed spread of the last 3 windows (default 10%)",
     .call = flag_stability},
    {"window", NULL, FLAG_CALL, 0, 0, 0, "T|N", "a window's length (default: the level's -n or -d)",
     .call = flag_window},
    {"max-windows", NULL, FLAG_CALL, 0, 0, 0, "N", "windows before giving up (default 10)",
     .call = flag_max_windows},
    {"slo", NULL, FLAG_CALL, 0, 0, 0, "p99=500ms[,p50=..]", "thresholds for every level (exit 5 when one\nis broken)",
     .call = flag_slo},
    {"max-error-rate", NULL, FLAG_FRACTION, C(max_error_rate), 0, 1, "P", "errors allowed per level, e.g. 1%"},
    {"auto-max", NULL, FLAG_UINT, C(auto_max), 1, 1000000, "N", "the highest concurrency --threads auto tries (1024)"},
    {.kind = FLAG_SECTION, .help = "Requests:"},
    {"images", NULL, FLAG_STRING, C(corpus.dir), 1, 0, "DIR",
     "JPEG/PNG files (recursive, sorted); image i = file i mod count"},
    {"images-list", NULL, FLAG_STRING, C(corpus.list_file), 1, 0, "FILE", "one image path per line"},
    {"synthetic", NULL, FLAG_COUNT, C(corpus.synthetic), 1, 1000000, "N",
     "without --images: N synthetic JPEGs (default 1000)"},
    {"image-size", NULL, FLAG_CALL, 0, 0, 0, "WxH", "synthetic image size (default 224x224)",
     .call = flag_image_size},
    {"seed", NULL, FLAG_CALL, 0, 0, 0, "S", "seed of --shuffle and the synthetic images", .call = flag_seed},
    {"shuffle", NULL, FLAG_SWITCH, C(corpus.shuffle), 0, 0, NULL, "shuffle the corpus reproducibly"},
    {"save-synthetic", NULL, FLAG_STRING, C(save_synthetic), 1, 0, "DIR", "write the synthetic images out"},
    {"format", NULL, FLAG_CALL, 0, 0, 0, "F",
     "json-b64 (default: {\"input\": \"<b64>\"}), raw, multipart,\ntfserving, kserve-v2, kserve-v2-binary,\n"
     "kserve-grpc (ModelInfer), tfserving-grpc (Predict): the URL is\nthe server's http(s)://HOST:PORT, "
     "--model names the model;\nHTTP/2 is implied (h2c with prior knowledge on http://)",
     .call = flag_format},
    {"input-key", NULL, FLAG_STRING, C(payload.input_key), 1, 0, "K", "json-b64: the key (default input)"},
    {"json-template", NULL, FLAG_STRING, C(payload.json_template), 1, 0, "T",
     "json-b64: a body with {{b64}} where the image goes"},
    {"content-type", "T", FLAG_CALL, 0, 0, 0, "TYPE", "the body's Content-Type (raw, --body-file, --data)",
     .call = flag_content_type},
    {"field", NULL, FLAG_STRING, C(payload.field), 1, 0, "F", "multipart: the form field (default data)"},
    {"model-version", NULL, FLAG_STRING, C(payload.model_version), 1, 0, "V",
     "kserve-grpc: the model version the message asks for"},
    {"input-name", NULL, FLAG_STRING, C(payload.input_name), 1, 0, "N",
     "kserve-v2, gRPC: the input's name (default INPUT; for tensors,\nfrom the model's metadata)"},
    {"datatype", NULL, FLAG_CALL, 0, 0, 0, "T",
     "kserve-v2, tfserving, gRPC: send images as tensors of FP32,\nFP16, UINT8, INT64, ... (BYTES: "
     "the encoded image, the default);\nwhat is not given is read from the model's metadata\n"
     "(GET /v2/models/NAME, or gRPC ModelMetadata)",
     .call = flag_datatype},
    {"shape", NULL, FLAG_CALL, 0, 0, 0, "DIMS",
     "the tensor's shape, e.g. 1,224,224,3 (NHWC) or 1,3,224,224\n(NCHW); the first "
     "dimension is the batch (-1 or 1: --batch)", .call = flag_shape},
    {"normalize", NULL, FLAG_CALL, 0, 0, 0, "none|unit|imagenet",
     "images as tensors of pixels 0..255 (default), 0..1, or\nImageNet's (x/255 - mean) / std",
     .call = flag_normalize},
    {"input-data", NULL, FLAG_CALL, 0, 0, 0, "FILE",
     "perf_analyzer's JSON ({\"data\": [{\"INPUT0\": [...]}, ...]}):\n"
     "its entries as tensors, cycled over requests", .call = flag_input_data},
    {"batch", NULL, FLAG_UINT, C(payload.batch), 1, 4096, "K", "images per request (formats that allow it)"},
    {"body-file", NULL, FLAG_STRING, C(payload.body_file), 1, 0, "FILE", "send this fixed body instead of images"},
    {"data", "D", FLAG_CALL, 0, 0, 0, "@FILE|TEXT", "send this body (curl's --data): a file's, or the text",
     .call = flag_data},
    {"method", "m", FLAG_CALL, 0, 0, 0, "M",
     "the method (default POST); GET and HEAD send no body, nor do\nDELETE, OPTIONS and TRACE unless --data gives one",
     .call = flag_method},
    {"header", "H", FLAG_CALL, 0, 0, 0, "'K: V'",
     "extra header (repeatable); it replaces a header loadgen\nwould send (Content-Type, Accept, User-Agent)",
     .call = flag_header},
    {"bearer-env", NULL, FLAG_CALL, 0, 0, 0, "VAR", "Authorization: Bearer $VAR (never written to any output)",
     .call = flag_bearer_env},
    {"secret-header", NULL, FLAG_CALL, 0, 0, 0, "NAME", "another header never written to any output",
     .call = flag_secret_header},
    {"user-agent", NULL, FLAG_CALL, 0, 0, 0, "S", "the User-Agent (default loadgen/VERSION)",
     .call = flag_user_agent},
    {"engine", NULL, FLAG_CHOICE, C(engine), 0, 0, "auto|native|curl",
     "native: loadgen's own client, for http:// without --follow:\nHTTP/1.1, or HTTP/2 with --http2-prior-knowledge (not --http2);\ncurl: libcurl, for anything; auto (default): native where it can serve", .choices = engines},
    {"timeout", NULL, FLAG_CALL, 0, 0, 0, "T", "whole request (default 30s)", .call = flag_timeout},
    {"connect-timeout", NULL, FLAG_CALL, 0, 0, 0, "T", "TCP (+TLS) connect (default 10s)", .call = flag_timeout},
    {"http2", NULL, FLAG_CALL_SWITCH, 0, 0, 0, NULL,
     "HTTP/2 where the server offers it (ALPN, or an h2c upgrade on\nhttp://), else HTTP/1.1",
     .call = flag_http2},
    {"http2-prior-knowledge", NULL, FLAG_CALL_SWITCH, 0, 0, 0, NULL,
     "HTTP/2 from the first byte on http:// (the server must speak it)", .call = flag_http2},
    {"streams", NULL, FLAG_UINT, C(streams), 1, 1000, "N",
     "HTTP/2: requests in flight per connection, as h2load -m\n(default 1; connections = in flight / N, rounded up; never\nmore than the server's SETTINGS_MAX_CONCURRENT_STREAMS)"},
    {"insecure", "k", FLAG_SWITCH, C(insecure), 0, 0, NULL, "do not verify the server's certificate"},
    {"cacert", NULL, FLAG_CALL, 0, 0, 0, "FILE", "CA bundle to verify the server with", .call = flag_cacert},
    {"follow", "L", FLAG_CALL_SWITCH, 0, 0, 0, NULL,
     "follow redirects (http/https); -H headers only to the URL's host", .call = flag_follow},
    {"follow-headers", NULL, FLAG_CALL_SWITCH, 0, 0, 0, NULL,
     "--follow, and send -H headers to any host (curl --location-trusted)", .call = flag_follow},
    {"fail-fast", NULL, FLAG_UINT, C(fail_fast), 0, 1000000, "N",
     "stop (exit 3) when the first N requests of a level all fail\nto connect or resolve (default 20; 0 never)"},
    {"max-reply", NULL, FLAG_SIZE, C(checks.max_reply_bytes), 1, 0, "SIZE",
     "longer replies are cut off and counted invalid (64MiB)"},
    {.kind = FLAG_SECTION, .help = "Checks (a failed check is class 'invalid', counted, never fatal):"},
    {"expect-status", NULL, FLAG_CALL, 0, 0, 0, "CODE", "the status a reply must have (default: any 2xx)",
     .call = flag_expect_status},
    {"expect-json", NULL, FLAG_CALL, 0, 0, 0, "PATH", "a dotted path the JSON reply must hold",
     .call = flag_json_path},
    {"expect-header", NULL, FLAG_STRING, C(checks.expect_header), 1, 0, "NAME", "a header the reply must have"},
    {"server-time-header", NULL, FLAG_STRING, C(checks.server_time_header), 1, 0, "NAME",
     "server compute time in ms, reported apart from network + queue"},
    {"server-time-json", NULL, FLAG_CALL, 0, 0, 0, "PATH", "the same, from the JSON reply",
     .call = flag_json_path},
    {.kind = FLAG_SECTION, .help = "Results:"},
    {"label", NULL, FLAG_CALL, 0, 0, 0, "L", "the deployment (default: the URL's host:port)", .call = flag_name},
    {"region", NULL, FLAG_CALL, 0, 0, 0, "R", "the client's region", .call = flag_name},
    {"model", NULL, FLAG_CALL, 0, 0, 0, "M", "the model served (gRPC: the model the messages name)",
     .call = flag_name},
    {"cost-per-hour", NULL, FLAG_REAL, C(cost_per_hour), 0, 1e6, "USD", "the deployment's price, for cost per 1000 images"},
    {"out", "o", FLAG_STRING, C(out), 1, 0, "FILE",
     "summary CSV, a row per level and cycle\n(default " DEFAULT_OUT "; - is stdout)"},
    {"no-out", NULL, FLAG_CALL_SWITCH, 0, 0, 0, NULL, "no summary CSV", .call = flag_no_out},
    {"json", NULL, FLAG_STRING, C(json), 1, 0, "FILE",
     "figures, histograms and timeline as JSON (- is stdout:\nthe JSON alone, the text on stderr)"},
    {"requests-log", NULL, FLAG_STRING, C(requests_log), 1, 0, "FILE", "one CSV row per request"},
    {"history", NULL, FLAG_STRING, C(history), 1, 0, "FILE", "the old ThroughputApp history.csv"},
    {"quiet", "q", FLAG_SWITCH, C(quiet), 0, 0, NULL,
     "no progress line; results, warnings and errors still print"},
    {"version", "V", FLAG_CALL_SWITCH, 0, 0, 0, NULL, "print the version", .call = flag_version},
    {0},
};

static const struct flag_cmd run_cmd = {
    .name = "loadgen",
    .usage = "loadgen [run] [URL] [options]\n"
             "       loadgen serve|plot|compare|report|merge [options]   (each has --help)",
    .about = "Posts images to a scoring endpoint with N requests in flight and reports\n"
             "throughput, latency percentiles and errors; appends a row per level to a CSV.\n"
             "Durations without a unit are seconds (-d 30 is 30s).",
    .flags = flags,
    .epilogue = "Exit codes: 0 done; 2 bad usage or input; 3 every request failed;\n"
                "            4 never stable; 5 an SLO was broken; 1 results could not be\n"
                "            written; 130 interrupted.\n",
    .arg = positional_url,
};

static void defaults(struct run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->levels[0] = 50;
    cfg->nlevels = 1;
    cfg->max_inflight = 1000;
    cfg->arrival = PACER_CONSTANT;
    cfg->requests = 1000;
    cfg->cycles = 1;
    cfg->seed = 1;
    cfg->corpus.synthetic = 1000;
    cfg->corpus.width = cfg->corpus.height = 224;
    cfg->corpus.seed = 1;
    cfg->payload.format = PAYLOAD_JSON_B64;
    cfg->payload.batch = 1;
    cfg->timeout_ms = 30000;
    cfg->fail_fast = 20;
    cfg->connect_timeout_ms = 10000;
    cfg->checks.max_reply_bytes = 64ull << 20;
    cfg->label = cfg->region = cfg->model = "";
    cfg->cost_per_hour = -1;
    cfg->out = DEFAULT_OUT;
    cfg->user_agent = "loadgen/" LOADGEN_VERSION;
    cfg->stability = 0.10;
    cfg->max_windows = 10;
    cfg->max_error_rate = -1;
    cfg->auto_max = 1024;
}

/* FLAGS_RUN, FLAGS_HELP, or a negative errno with err set. */
static int parse_args(int argc, char **argv, struct run_config *cfg, int target, char *err)
{
    defaults(cfg);
    unsigned char seen[sizeof flags / sizeof flags[0]] = {0};
    int rc = flags_parse(&run_cmd, argc, argv, cfg, seen, err);
    if (rc != FLAGS_RUN)
        return rc;
    if (cfg->only && !cfg->scenario)
        return lg_err(err, -EINVAL, "--only needs --scenario FILE");
    /* The command line of a scenario: its flags are checked again with each
     * target's, which run_main parses with cli_parse_target. */
    if (cfg->scenario && !target)
        return FLAGS_RUN;
#define SEEN(name) seen[flags_index(&run_cmd, name)]
    int have_n = SEEN("requests"), have_d = SEEN("duration"), have_rate = SEEN("rate"),
        have_threads = SEEN("threads"), have_format = SEEN("format"), have_out = SEEN("out"),
        have_input_name = SEEN("input-name"),
        have_images = SEEN("images") || SEEN("images-list") || SEEN("synthetic") ||
                      SEEN("image-size") || SEEN("save-synthetic");
#undef SEEN
    const char *threads_spec = cfg->parse.threads, *rate_spec = cfg->parse.rate;
    if (!cfg->url)
        return lg_err(err, -EINVAL, "no URL; write e.g. loadgen http://127.0.0.1:8080/score (or --url URL)");
    if ((rc = check_url(cfg->url, err)) < 0)
        return rc;
    cli_public_url(cfg->url, cfg->target, sizeof cfg->target);
    if (!*cfg->label) {
        /* A default run is named by where it went, so that plot, compare
         * and report take it as it is. */
        const char *host = strstr(cfg->target, "://");
        host = host ? host + 3 : cfg->target;
        snprintf(cfg->default_label, sizeof cfg->default_label, "%.*s",
                 (int)strcspn(host, "/?#"), host);
        cfg->label = cfg->default_label;
    }

    if (have_d && !have_n)
        cfg->requests = 0;
    if (have_rate) {
        if ((rc = parse_levels("--rate", rate_spec, 1, cfg, err)) < 0)
            return rc;
        if (have_threads) {
            /* In open loop --threads caps requests in flight, like --max-inflight. */
            uint64_t v;
            if ((rc = parse_count("--threads", threads_spec, 1, &v, err)) < 0)
                return rc;
            cfg->max_inflight = (unsigned)(v > 1000000 ? 1000000 : v);
        }
    } else if (have_threads && strcmp(threads_spec, "auto") == 0) {
        if (cfg->nslo == 0 && cfg->max_error_rate < 0)
            return lg_err(err, -EINVAL, "--threads auto: give the limits to search against, e.g. "
                               "--slo p99=500ms --max-error-rate 1%%");
        cfg->auto_threads = 1;
        cfg->levels[0] = 1;
        cfg->nlevels = 1;
    } else if (have_threads && (rc = parse_levels("--threads", threads_spec, 0, cfg, err)) < 0)
        return rc;

    if (cfg->payload.body_file && (cfg->corpus.dir || cfg->corpus.list_file))
        return lg_err(err, -EINVAL, "--body-file and --images: give one or the other");
    if (cfg->corpus.dir && cfg->corpus.list_file)
        return lg_err(err, -EINVAL, "--images and --images-list: give one or the other");
    if (cfg->payload.body_data) {
        if (have_format || cfg->corpus.dir || cfg->corpus.list_file)
            return lg_err(err, -EINVAL, "--data sends the text as it is; drop --format and --images");
        cfg->payload.format = PAYLOAD_FILE;
    }
    if (cfg->payload.body_file) {
        if (have_format)
            return lg_err(err, -EINVAL, "--body-file sends the file as it is; drop --format");
        if (access(cfg->payload.body_file, R_OK) != 0)
            return lg_err(err, -errno, "--body-file %s: cannot read it: %s", cfg->payload.body_file,
                          strerror(errno));
        cfg->payload.format = PAYLOAD_FILE;
    }
    int bodiless = method_bodiless(cfg->method);
    if (bodiless == 2 &&
        (cfg->payload.body_file || cfg->payload.body_data || have_images || have_format))
        return lg_err(err, -EINVAL, "--method %s sends no body; drop --images/--synthetic/--body-file/--data/"
                           "--format", cfg->method);
    if (bodiless == 1 && (have_images || have_format))
        return lg_err(err, -EINVAL, "--method %s sends no images; give a body with --data or --body-file, "
                           "or drop --images/--synthetic/--format", cfg->method);
    if (bodiless && !cfg->payload.body_file && !cfg->payload.body_data)
        cfg->payload.format = PAYLOAD_NONE;
    if (check_tensor_flags(cfg, have_input_name, have_images, err) < 0)
        return CLI_ERROR;
    if (payload_grpc_path(cfg->payload.format) && grpc_prepare(cfg, err) < 0)
        return CLI_ERROR;
    if (cfg->payload.model_version && !payload_grpc_path(cfg->payload.format))
        return lg_err(err, -EINVAL, "--model-version: only kserve-grpc sends a version; drop it (a REST "
                           "URL names the version in its path)");
    if (cfg->checks.server_time_header && cfg->checks.server_time_json)
        return lg_err(err, -EINVAL, "--server-time-header and --server-time-json: give one or the other");
    /* libcurl before 8.0.0 stacks a second HTTP/2 layer on a prior-knowledge
     * connection it reuses (curl issue 10634, fixed by pull request 10643):
     * each connection's first request succeeds and every later one fails
     * with "Error in the HTTP2 framing layer", multiplexed or not. The
     * native HTTP/2 transport (h2.c) has no such trouble. */
    const char *why = engine_native_unsupported(cfg->url, cfg->http2, cfg->follow, cfg->headers,
                                                cfg->nheaders);
    if (cfg->http2 == ENGINE_HTTP2_PRIOR_KNOWLEDGE && (cfg->engine == ENGINE_CURL || why) &&
        curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
        return lg_err(err, -EINVAL, "--http2-prior-knowledge: libcurl %s cannot reuse a prior-knowledge "
                           "connection (curl issue 10634, fixed in 8.0.0); use https:// with "
                           "--http2, or a libcurl of 8.0.0 or later",
                      curl_version_info(CURLVERSION_NOW)->version);
    if (cfg->streams > 1 && !cfg->http2)
        return lg_err(err, -EINVAL, "--streams %u: streams share an HTTP/2 connection; add --http2 "
                           "(or --http2-prior-knowledge)", cfg->streams);
    if (cfg->engine == ENGINE_NATIVE && why)
        return lg_err(err, -EINVAL, "--engine native: %s; use --engine curl or auto", why);

    /* The default results folder is created by cli_prepare_outputs; a
     * folder the user named must already exist. */
    cfg->default_out = cfg->out && !have_out;
    const char *outs[][2] = {{"--out", cfg->default_out ? NULL : cfg->out}, {"--json", cfg->json},
                             {"--requests-log", cfg->requests_log}, {"--history", cfg->history}};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i][1] && strcmp(outs[i][1], "-") != 0 &&
            (rc = check_output(outs[i][0], outs[i][1], err)) < 0)
            return rc;
    /* A synthetic corpus lives in memory twice while its bodies are built
     * (JPEG at roughly half a byte a pixel, then base64 of it): refuse one
     * that cannot fit rather than swap for ten minutes. */
    if (!cfg->corpus.dir && !cfg->corpus.list_file && cfg->payload.format != PAYLOAD_FILE &&
        cfg->payload.format != PAYLOAD_NONE) {
        double need = (double)cfg->corpus.synthetic * cfg->corpus.width * cfg->corpus.height * 0.5 * 2.4;
        double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
        if (ram > 0 && need > ram / 2)
            return lg_err(err, -EINVAL, "--synthetic %zu --image-size %dx%d: about %.1f GB of images and "
                               "bodies, more than half of this machine's %.1f GB; use fewer or "
                               "smaller images", cfg->corpus.synthetic, cfg->corpus.width,
                          cfg->corpus.height, need / 1e9, ram / 1e9);
    }
    /* --requests-log keeps a row per request in memory, in the engine's
     * loops and again in the level's results, sized up front by -n:
     * refuse a count whose rows cannot fit (or whose size overflows). */
    if (cfg->requests_log && cfg->requests) {
        double need = (double)cfg->requests * (double)sizeof(struct stats_request) * 2;
        double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
        if (ram > 0 && need > ram / 2)
            return lg_err(err, -EINVAL, "--requests %llu --requests-log: about %.1f GB of request rows in "
                               "memory, more than half of this machine's %.1f GB; send fewer "
                               "requests per level or drop --requests-log",
                          (unsigned long long)cfg->requests, need / 1e9, ram / 1e9);
    }
    if (cfg->save_synthetic && (cfg->corpus.dir || cfg->corpus.list_file))
        return lg_err(err, -EINVAL, "--save-synthetic writes the synthetic corpus; drop --images");
    return FLAGS_RUN;
}

int cli_prepare_outputs(const struct run_config *cfg, char *err)
{
    if (cfg->default_out) {
        if (mkdir("results", 0777) != 0 && errno != EEXIST)
            return lg_err(err, -EINVAL, "cannot create the results folder for %s: %s; give --out FILE "
                               "or --no-out", DEFAULT_OUT, strerror(errno));
        if (check_output("--out", cfg->out, err) < 0)
            return -EINVAL;
    }
    const char *const names[] = {"--out", "--json", "--requests-log", "--history"};
    const char *const paths[] = {cfg->out, cfg->json, cfg->requests_log, cfg->history};
    const enum fileio_kind kinds[] = {FILEIO_CSV_SUMMARY, FILEIO_JSON, FILEIO_CSV_REQUESTS,
                                      FILEIO_CSV_HISTORY};
    int rc = fileio_check_outputs(names, paths, kinds, 4, err);
    if (rc < 0)
        lg_printable(err);
    return rc;
}

static enum cli_result parse(int argc, char **argv, struct run_config *cfg, int target, char *err)
{
    int rc = parse_args(argc, argv, cfg, target, err);
    if (rc < 0) {
        lg_printable(err);
        return CLI_ERROR;
    }
    return rc == FLAGS_HELP ? CLI_EXIT_OK : CLI_RUN;
}

enum cli_result cli_parse(int argc, char **argv, struct run_config *cfg, char *err)
{
    return parse(argc, argv, cfg, 0, err);
}

enum cli_result cli_parse_target(int argc, char **argv, struct run_config *cfg, char *err)
{
    return parse(argc, argv, cfg, 1, err);
}

int cli_flag_takes_value(const char *name)
{
    return flags_takes_value(&run_cmd, name);
}

void cli_free(struct run_config *cfg)
{
    for (size_t i = 0; i < cfg->nowned; i++) {
        /* The key was in memory only; do not leave it in freed heap. */
        explicit_bzero(cfg->owned_headers[i], strlen(cfg->owned_headers[i]));
        free(cfg->owned_headers[i]);
    }
    cfg->nowned = 0;
}
