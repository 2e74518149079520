/*
 * cli.c: argv -> struct run_config. Every flag is checked here, before a
 * single request is sent, and every error is one line that names the flag,
 * says what was wrong and what to write instead.
 */
#include "cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
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
#include "h1.h"
#include "units.h"

#define DEFAULT_OUT "results/summary.csv"
/* No duration or timeout is longer than a year: then no sum of them
 * (a deadline, a grace period) comes near INT64_MAX microseconds. */
#define MAX_DURATION_US (366LL * 86400 * 1000000)

enum {
    OPT_IMAGES = 256, OPT_IMAGES_LIST, OPT_SYNTHETIC, OPT_IMAGE_SIZE, OPT_SEED, OPT_SHUFFLE,
    OPT_SAVE_SYNTHETIC, OPT_BODY_FILE, OPT_FORMAT, OPT_INPUT_KEY, OPT_JSON_TEMPLATE,
    OPT_CONTENT_TYPE, OPT_FIELD, OPT_INPUT_NAME, OPT_BATCH, OPT_METHOD, OPT_BEARER_ENV,
    OPT_SECRET_HEADER, OPT_USER_AGENT, OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_HTTP2,
    OPT_INSECURE, OPT_CACERT, OPT_FOLLOW, OPT_MAX_REPLY, OPT_EXPECT_STATUS, OPT_EXPECT_JSON,
    OPT_EXPECT_HEADER, OPT_SERVER_TIME_HEADER, OPT_SERVER_TIME_JSON, OPT_LABEL, OPT_REGION,
    OPT_MODEL, OPT_COST, OPT_OUT, OPT_NO_OUT, OPT_JSON, OPT_REQUESTS_LOG, OPT_HISTORY,
    OPT_ARRIVAL, OPT_MAX_INFLIGHT, OPT_CYCLES, OPT_WARMUP, OPT_PAUSE, OPT_LOOPS, OPT_VERSION,
    OPT_START_AT, OPT_UNTIL_STABLE, OPT_STABILITY, OPT_WINDOW, OPT_MAX_WINDOWS, OPT_SLO,
    OPT_MAX_ERROR_RATE, OPT_AUTO_MAX, OPT_FOLLOW_HEADERS, OPT_ENGINE,
};

static const struct option options[] = {
    {"url", required_argument, NULL, 'u'},
    {"threads", required_argument, NULL, 'c'},
    {"concurrency", required_argument, NULL, 'c'},
    {"requests", required_argument, NULL, 'n'},
    {"duration", required_argument, NULL, 'd'},
    {"rate", required_argument, NULL, 'R'},
    {"arrival", required_argument, NULL, OPT_ARRIVAL},
    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
    {"cycles", required_argument, NULL, OPT_CYCLES},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"pause", required_argument, NULL, OPT_PAUSE},
    {"loops", required_argument, NULL, OPT_LOOPS},
    {"images", required_argument, NULL, OPT_IMAGES},
    {"images-list", required_argument, NULL, OPT_IMAGES_LIST},
    {"synthetic", required_argument, NULL, OPT_SYNTHETIC},
    {"image-size", required_argument, NULL, OPT_IMAGE_SIZE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"shuffle", no_argument, NULL, OPT_SHUFFLE},
    {"save-synthetic", required_argument, NULL, OPT_SAVE_SYNTHETIC},
    {"body-file", required_argument, NULL, OPT_BODY_FILE},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"input-key", required_argument, NULL, OPT_INPUT_KEY},
    {"json-template", required_argument, NULL, OPT_JSON_TEMPLATE},
    {"content-type", required_argument, NULL, OPT_CONTENT_TYPE},
    {"field", required_argument, NULL, OPT_FIELD},
    {"input-name", required_argument, NULL, OPT_INPUT_NAME},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"method", required_argument, NULL, OPT_METHOD},
    {"header", required_argument, NULL, 'H'},
    {"bearer-env", required_argument, NULL, OPT_BEARER_ENV},
    {"secret-header", required_argument, NULL, OPT_SECRET_HEADER},
    {"user-agent", required_argument, NULL, OPT_USER_AGENT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"http2", no_argument, NULL, OPT_HTTP2},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"follow", no_argument, NULL, OPT_FOLLOW},
    {"follow-headers", no_argument, NULL, OPT_FOLLOW_HEADERS},
    {"engine", required_argument, NULL, OPT_ENGINE},
    {"max-reply", required_argument, NULL, OPT_MAX_REPLY},
    {"expect-status", required_argument, NULL, OPT_EXPECT_STATUS},
    {"expect-json", required_argument, NULL, OPT_EXPECT_JSON},
    {"expect-header", required_argument, NULL, OPT_EXPECT_HEADER},
    {"server-time-header", required_argument, NULL, OPT_SERVER_TIME_HEADER},
    {"server-time-json", required_argument, NULL, OPT_SERVER_TIME_JSON},
    {"label", required_argument, NULL, OPT_LABEL},
    {"region", required_argument, NULL, OPT_REGION},
    {"model", required_argument, NULL, OPT_MODEL},
    {"cost-per-hour", required_argument, NULL, OPT_COST},
    {"out", required_argument, NULL, OPT_OUT},
    {"no-out", no_argument, NULL, OPT_NO_OUT},
    {"json", required_argument, NULL, OPT_JSON},
    {"requests-log", required_argument, NULL, OPT_REQUESTS_LOG},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"start-at", required_argument, NULL, OPT_START_AT},
    {"until-stable", no_argument, NULL, OPT_UNTIL_STABLE},
    {"stability", required_argument, NULL, OPT_STABILITY},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"max-windows", required_argument, NULL, OPT_MAX_WINDOWS},
    {"slo", required_argument, NULL, OPT_SLO},
    {"max-error-rate", required_argument, NULL, OPT_MAX_ERROR_RATE},
    {"auto-max", required_argument, NULL, OPT_AUTO_MAX},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char usage[] =
    "usage: loadgen [run] --url URL [options]\n"
    "       loadgen serve|plot|compare|report|merge [options]   (each has --help)\n"
    "\n"
    "Posts images to a scoring endpoint with N requests in flight and reports\n"
    "throughput, latency percentiles and errors; appends a row per level to a CSV.\n"
    "\n"
    "Experiments:\n"
    "      --scenario FILE      run every target of an experiment file (scenarios/*.json);\n"
    "                           flags given here override the file's\n"
    "      --only LABEL         just the target with this label\n"
    "\n"
    "Load:\n"
    "  -u, --url URL            endpoint, http:// or https:// (required)\n"
    "  -c, --threads N|A:B[:S]  requests in flight, or a sweep of levels (default 50)\n"
    "                           (alias --concurrency)\n"
    "  -n, --requests N         requests per level, counted exactly (default 1000)\n"
    "  -d, --duration T         send for T per level instead (30s, 2m)\n"
    "      --cycles K           repeat each level K times (default 1)\n"
    "      --warmup N|T         requests or time sent before each level, not counted\n"
    "      --pause T            pause between levels\n"
    "  -R, --rate R|A:B[:S]     open loop: R requests/s (latency counted from the\n"
    "                           intended send time: no coordinated omission)\n"
    "      --arrival constant|poisson   open-loop arrivals (default constant)\n"
    "      --max-inflight N     open loop: cap on requests in flight (default 1000)\n"
    "      --loops J            event-loop threads (default: cores, at most N)\n"
    "      --start-at TIME      wait until this Unix time (seconds) before starting\n"
    "      --until-stable       measure windows until throughput and p50 of the last 3\n"
    "                           agree within --stability (10%); --window 5s|200 (default\n"
    "                           the -n/-d of a level), --max-windows 10 (exit 4 if never)\n"
    "      --slo p99=500ms[,p50=..] --max-error-rate 1%   thresholds for every level\n"
    "                           (exit 5 when one is broken)\n"
    "  -c auto                  step concurrency up (1, 2, 4, ... --auto-max 1024, then\n"
    "                           bisect) to the highest level that meets --slo and\n"
    "                           --max-error-rate: the capacity at SLO\n"
    "\n"
    "Requests:\n"
    "      --images DIR         JPEG/PNG files (recursive, sorted); image i = file i mod count\n"
    "      --images-list FILE   one image path per line\n"
    "      --synthetic N        without --images: N synthetic JPEGs (default 1000)\n"
    "      --image-size WxH     synthetic image size (default 224x224)\n"
    "      --seed S --shuffle   shuffle the corpus reproducibly\n"
    "      --save-synthetic DIR write the synthetic images out\n"
    "      --format F           json-b64 (default: {\"input\": \"<b64>\"}), raw, multipart,\n"
    "                           tfserving, kserve-v2, kserve-v2-binary\n"
    "      --input-key K --json-template T --content-type T --field F --input-name N\n"
    "      --batch K            images per request (formats that allow it)\n"
    "      --body-file F        send this fixed body instead of images\n"
    "      --method GET         send GETs without a body\n"
    "  -H, --header 'K: V'      extra header (repeatable)\n"
    "      --bearer-env VAR     Authorization: Bearer $VAR (never written to any output)\n"
    "      --secret-header NAME another header never written to any output\n"
    "      --user-agent S --timeout T (default 30s) --connect-timeout T (default 10s)\n"
    "      --http2 --insecure --cacert FILE\n"
    "      --follow             follow redirects (http/https); -H headers only to the URL's host\n"
    "      --follow-headers     --follow, and send -H headers to any host (curl --location-trusted)\n"
    "      --engine auto|native|curl   native: loadgen's own HTTP/1.1 client, for\n"
    "                           http:// without --http2/--follow; curl: libcurl, for\n"
    "                           anything; auto (default): native where it can serve\n"
    "      --max-reply SIZE     longer replies are cut off and counted invalid (64MiB)\n"
    "\n"
    "Checks (a failed check is class 'invalid', counted, never fatal):\n"
    "      --expect-status CODE --expect-json PATH --expect-header NAME\n"
    "      --server-time-header NAME | --server-time-json PATH   server compute time\n"
    "                           in ms: reported apart from network + queue time\n"
    "\n"
    "Results:\n"
    "      --label L --region R --model M --cost-per-hour USD\n"
    "      --out FILE           summary CSV, a row per level and cycle\n"
    "                           (default " DEFAULT_OUT "); --no-out for none\n"
    "      --json FILE          figures, histograms and timeline as JSON\n"
    "      --requests-log FILE  one CSV row per request\n"
    "      --history FILE       the old ThroughputApp history.csv\n"
    "  -q, --quiet              no progress line\n"
    "\n"
    "Exit codes: 0 done; 2 bad usage or input; 3 every request failed;\n"
    "            4 never stable; 5 an SLO was broken; 1 results could not be\n"
    "            written; 130 interrupted.\n";

/* One level spec: "50" or "20:50:10". */
static int parse_levels(const char *flag, const char *s, int is_rate, struct run_config *cfg,
                        char *err)
{
    struct units_range r;
    int rc = units_parse_range(s, is_rate, &r);
    if (rc < 0) {
        if (!is_rate && strchr(s, ':') == NULL)
            return lg_err(err, "%s %s: not a positive whole number; write N or START:END[:STEP]",
                          flag, s);
        return lg_err(err, "%s %s: %s; write START:END[:STEP] with START <= END and STEP > 0",
                      flag, s, rc == -ERANGE ? "too large" : "not a valid level or range");
    }
    if (r.start <= 0)
        return lg_err(err, "%s %s: must be at least 1", flag, s);
    if (!is_rate && r.end > 1000000)
        return lg_err(err, "%s %s: more than 1000000 requests in flight; use several client machines",
                      flag, s);
    /* Past about 1e16 a step of 1 no longer moves a double: refuse what no
     * single client sends long before that. */
    if (is_rate && r.end > 10000000)
        return lg_err(err, "%s %s: more than 10000000 requests/s; use several client machines",
                      flag, s);
    size_t n = 0;
    for (double v = r.start; v <= r.end + 1e-9; v += r.step) {
        if (n == CLI_MAX_LEVELS)
            return lg_err(err, "%s %s: more than %d levels; use a larger STEP", flag, s,
                          CLI_MAX_LEVELS);
        if (is_rate)
            cfg->rates[n++] = v;
        else
            cfg->levels[n++] = (unsigned)llround(v);
    }
    cfg->nlevels = n;
    return 0;
}

static int parse_count(const char *flag, const char *s, uint64_t min, uint64_t *out, char *err)
{
    int rc = units_parse_count(s, out);
    if (rc == -ERANGE)
        return lg_err(err, "%s %s: too large", flag, s);
    if (rc < 0)
        return lg_err(err, "%s %s: not a whole number; write e.g. 1000 or 10k", flag, s);
    if (*out < min)
        return lg_err(err, "%s %s: must be at least %llu", flag, s, (unsigned long long)min);
    return 0;
}

static int parse_duration(const char *flag, const char *s, int64_t *out, char *err)
{
    int rc = units_parse_duration(s, out);
    if (rc == -ERANGE || (rc == 0 && *out > MAX_DURATION_US))
        return lg_err(err, "%s %s: too long; at most a year (8784h)", flag, s);
    if (rc < 0)
        return lg_err(err, "%s %s: not a duration; write e.g. 500ms, 30s, 2m or 1h", flag, s);
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
                return -1;
        if (s == start || *s != (i == 0 ? 'x' : '\0') || v[i] < 8)
            return -1;
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
        return lg_err(err, "--slo: too long");
    strcpy(buf, s);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        char *end;
        if (!eq || (t[0] != 'p' && t[0] != 'P'))
            return lg_err(err, "--slo %s: write pNN=DURATION, e.g. p99=500ms,p50=100ms", s);
        *eq = '\0';
        /* p999 means 99.9, as in the CSV's lat_p999_ms. */
        double pct = strcmp(t + 1, "999") == 0 ? 99.9 : strtod(t + 1, &end);
        if (strcmp(t + 1, "999") != 0 && (*end || end == t + 1 || !(pct > 0 && pct <= 100)))
            return lg_err(err, "--slo %s: '%s' is not a percentile; write p50, p99 or p99.9", s, t);
        int64_t us;
        if (units_parse_duration(eq + 1, &us) < 0 || us <= 0 || us > MAX_DURATION_US)
            return lg_err(err, "--slo %s: '%s' is not a duration; write e.g. 500ms", s, eq + 1);
        if (cfg->nslo == CLI_MAX_SLO)
            return lg_err(err, "--slo %s: at most %d thresholds", s, CLI_MAX_SLO);
        cfg->slo_pct[cfg->nslo] = pct;
        cfg->slo_us[cfg->nslo++] = us;
    }
    if (cfg->nslo == 0)
        return lg_err(err, "--slo: empty; write e.g. p99=500ms");
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
        return lg_err(err, "--header #%zu: no 'Name:' part; write --header 'Name: value'", index);
    if (!is_token(h, (size_t)(colon - h)))
        return lg_err(err, "--header #%zu: the name has a space, a control character or one of "
                           "\"(),/;<=>?@[\\]{}; write --header 'Name: value'", index);
    if (has_control(colon + 1))
        return lg_err(err, "--header #%zu: the value has a control character (CR or LF, a tab, "
                           "...); a header is one line of printable text", index);
    return 0;
}

/* An output file must be creatable: its folder must exist and be writable.
 * Checked before the first request so that no run is lost to a typo. */
static int check_output(const char *flag, const char *path, char *err)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf || !*path)
        return lg_err(err, "%s: the path is empty or too long", flag);
    strcpy(buf, path);
    const char *dir = dirname(buf);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return lg_err(err, "%s %s: folder '%s' does not exist; create it first", flag, path, dir);
    if (access(dir, W_OK) != 0)
        return lg_err(err, "%s %s: folder '%s' is not writable", flag, path, dir);
    if (stat(path, &st) == 0 && (S_ISDIR(st.st_mode) || access(path, W_OK) != 0))
        return lg_err(err, "%s %s: %s", flag, path,
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
        return lg_err(err, "--url %s: no host; write http://HOST[:PORT]/score", url);
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    if (!u)
        return lg_err(err, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, raw, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        rc = lg_err(err, "--url %s: not a URL; write http://HOST[:PORT]/score", url);
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        rc = lg_err(err, "--url %s: scheme '%s' is not supported; use http:// or https://", url,
                    scheme);
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
        rc = lg_err(err, "--url %s: no host; write http://HOST[:PORT]/score", url);
    /* An '@' that curl did not take for the user-info's end is a password
     * with an unencoded '/' or '@' in it (http://u:12/ss@host): curl would
     * send it in the path, and the target written to every output would
     * hold it. */
    char target[sizeof ((struct run_config *)0)->target];
    if (rc == 0 && strchr(cli_public_url(raw, target, sizeof target), '@'))
        rc = lg_err(err, "--url %s: an '@' outside the user-info; write it as %%40 (in a "
                         "password too)", url);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

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

static enum cli_result parse_args(int argc, char **argv, struct run_config *cfg, char *err)
{
    defaults(cfg);
    int have_n = 0, have_d = 0, have_rate = 0, have_threads = 0, have_format = 0, have_out = 0;
    size_t nflag_headers = 0; /* -H given so far: errors name a header by its position */
    uint64_t u64;
    int64_t i64;
    const char *threads_spec = NULL, *rate_spec = NULL;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then resets its internal state too */
    int c;
    while ((c = getopt_long(argc, argv, ":u:c:n:d:R:H:qh", options, NULL)) != -1) {
        /* For an unknown option or a missing value, the option itself. */
        const char *flag = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case 'u':
            /* A password or a key in the URL is a secret like a header. */
            if (strpbrk(optarg, "@?"))
                protect_secrets();
            cfg->url = optarg;
            break;
        case 'c': threads_spec = optarg; have_threads = 1; break;
        case 'n':
            if (parse_count("--requests", optarg, 1, &cfg->requests, err) < 0)
                return CLI_ERROR;
            have_n = 1;
            break;
        case 'd':
            if (parse_duration("--duration", optarg, &cfg->duration_us, err) < 0)
                return CLI_ERROR;
            if (cfg->duration_us <= 0)
                return lg_err(err, "--duration %s: must be longer than 0", optarg), CLI_ERROR;
            have_d = 1;
            break;
        case 'R': rate_spec = optarg; have_rate = 1; break;
        case OPT_ARRIVAL:
            if (pacer_parse_arrival(optarg, &cfg->arrival) < 0)
                return lg_err(err, "--arrival %s: unknown; use constant or poisson", optarg),
                       CLI_ERROR;
            break;
        case OPT_MAX_INFLIGHT:
            if (parse_count("--max-inflight", optarg, 1, &u64, err) < 0)
                return CLI_ERROR;
            if (u64 > 1000000)
                return lg_err(err, "--max-inflight %s: at most 1000000", optarg), CLI_ERROR;
            cfg->max_inflight = (unsigned)u64;
            break;
        case OPT_CYCLES:
            if (parse_count("--cycles", optarg, 1, &u64, err) < 0)
                return CLI_ERROR;
            if (u64 > 10000)
                return lg_err(err, "--cycles %s: at most 10000", optarg), CLI_ERROR;
            cfg->cycles = (unsigned)u64;
            break;
        case OPT_WARMUP:
            /* A bare number is a request count; with a unit, a duration. */
            if (units_parse_count(optarg, &cfg->warmup_requests) < 0) {
                cfg->warmup_requests = 0;
                if (units_parse_duration(optarg, &cfg->warmup_us) < 0 ||
                    cfg->warmup_us > MAX_DURATION_US)
                    return lg_err(err, "--warmup %s: write a request count (200) or a duration "
                                       "up to a year (5s)", optarg), CLI_ERROR;
            }
            break;
        case OPT_PAUSE:
            if (parse_duration("--pause", optarg, &cfg->pause_us, err) < 0)
                return CLI_ERROR;
            break;
        case OPT_LOOPS:
            if (parse_count("--loops", optarg, 1, &u64, err) < 0)
                return CLI_ERROR;
            if (u64 > 256)
                return lg_err(err, "--loops %s: at most 256", optarg), CLI_ERROR;
            cfg->loops = (unsigned)u64;
            break;
        case OPT_IMAGES: cfg->corpus.dir = optarg; break;
        case OPT_IMAGES_LIST: cfg->corpus.list_file = optarg; break;
        case OPT_SYNTHETIC:
            if (parse_count("--synthetic", optarg, 1, &u64, err) < 0)
                return CLI_ERROR;
            if (u64 > 1000000)
                return lg_err(err, "--synthetic %s: at most 1000000 images", optarg), CLI_ERROR;
            cfg->corpus.synthetic = (size_t)u64;
            break;
        case OPT_IMAGE_SIZE: {
            int w, h;
            if (parse_image_size(optarg, &w, &h) < 0)
                return lg_err(err, "--image-size %s: write WIDTHxHEIGHT, each 8..8192 (e.g. 224x224)",
                              optarg), CLI_ERROR;
            cfg->corpus.width = w;
            cfg->corpus.height = h;
            break;
        }
        case OPT_SEED:
            if (parse_count("--seed", optarg, 0, &cfg->seed, err) < 0)
                return CLI_ERROR;
            cfg->corpus.seed = cfg->seed;
            break;
        case OPT_SHUFFLE: cfg->corpus.shuffle = 1; break;
        case OPT_SAVE_SYNTHETIC: cfg->save_synthetic = optarg; break;
        case OPT_BODY_FILE: cfg->payload.body_file = optarg; break;
        case OPT_FORMAT:
            if (payload_parse_format(optarg, &cfg->payload.format) < 0 ||
                cfg->payload.format == PAYLOAD_FILE || cfg->payload.format == PAYLOAD_NONE)
                return lg_err(err, "--format %s: unknown; use json-b64, raw, multipart, tfserving, "
                                   "kserve-v2 or kserve-v2-binary", optarg), CLI_ERROR;
            have_format = 1;
            break;
        case OPT_INPUT_KEY: cfg->payload.input_key = optarg; break;
        case OPT_JSON_TEMPLATE: cfg->payload.json_template = optarg; break;
        case OPT_CONTENT_TYPE:
            if (has_control(optarg) || !*optarg)
                return lg_err(err, "--content-type: empty or has a control character (CR/LF, a "
                                   "tab, ...)"), CLI_ERROR;
            cfg->payload.content_type = optarg;
            break;
        case OPT_FIELD: cfg->payload.field = optarg; break;
        case OPT_INPUT_NAME: cfg->payload.input_name = optarg; break;
        case OPT_BATCH:
            if (parse_count("--batch", optarg, 1, &u64, err) < 0)
                return CLI_ERROR;
            if (u64 > 4096)
                return lg_err(err, "--batch %s: at most 4096 images per request", optarg), CLI_ERROR;
            cfg->payload.batch = (unsigned)u64;
            break;
        case OPT_METHOD:
            if (strcasecmp(optarg, "GET") == 0)
                cfg->get = 1;
            else if (strcasecmp(optarg, "POST") == 0)
                cfg->get = 0;
            else
                return lg_err(err, "--method %s: use GET or POST", optarg), CLI_ERROR;
            break;
        case 'H':
            /* Any header may carry a key (X-Api-Key, Cookie, ...). */
            protect_secrets();
            if (check_header(optarg, ++nflag_headers, err) < 0)
                return CLI_ERROR;
            if (cfg->nheaders == CLI_MAX_HEADERS)
                return lg_err(err, "--header: more than %d headers", CLI_MAX_HEADERS), CLI_ERROR;
            cfg->headers[cfg->nheaders++] = optarg;
            break;
        case OPT_BEARER_ENV: {
            protect_secrets();
            const char *v = getenv(optarg);
            if (!v || !*v)
                return lg_err(err, "--bearer-env %s: the variable is not set; export %s=<key> first",
                              optarg, optarg), CLI_ERROR;
            if (has_control(v))
                return lg_err(err, "--bearer-env %s: the value has CR/LF or another control "
                                   "character", optarg), CLI_ERROR;
            if (cfg->nheaders == CLI_MAX_HEADERS)
                return lg_err(err, "--bearer-env: more than %d headers", CLI_MAX_HEADERS), CLI_ERROR;
            char *h = malloc(strlen(v) + 32);
            if (!h)
                return lg_err(err, "out of memory"), CLI_ERROR;
            sprintf(h, "Authorization: Bearer %s", v);
            cfg->owned_headers[cfg->nowned++] = h;
            cfg->headers[cfg->nheaders++] = h;
            break;
        }
        case OPT_SECRET_HEADER:
            protect_secrets();
            if (!is_token(optarg, strlen(optarg)))
                return lg_err(err, "--secret-header: the name is empty or has a space, a control "
                                   "character or a separator; write --secret-header X-Api-Key"),
                       CLI_ERROR;
            if (cfg->nsecret == CLI_MAX_HEADERS)
                return lg_err(err, "--secret-header: too many"), CLI_ERROR;
            cfg->secret_headers[cfg->nsecret++] = optarg;
            break;
        case OPT_USER_AGENT:
            if (has_control(optarg))
                return lg_err(err, "--user-agent: has a control character (CR/LF, a tab, ...); "
                                   "write one line of printable text"), CLI_ERROR;
            cfg->user_agent = optarg;
            break;
        case OPT_TIMEOUT:
        case OPT_CONNECT_TIMEOUT:
        {
            const char *name = c == OPT_TIMEOUT ? "--timeout" : "--connect-timeout";
            if (parse_duration(name, optarg, &i64, err) < 0)
                return CLI_ERROR;
            if (i64 < 1000)
                return lg_err(err, "%s %s: at least 1ms", name, optarg), CLI_ERROR;
            if (c == OPT_TIMEOUT)
                cfg->timeout_ms = (long)(i64 / 1000);
            else
                cfg->connect_timeout_ms = (long)(i64 / 1000);
            break;
        }
        case OPT_HTTP2: cfg->http2 = 1; break;
        case OPT_INSECURE: cfg->insecure = 1; break;
        case OPT_CACERT:
            if (access(optarg, R_OK) != 0)
                return lg_err(err, "--cacert %s: cannot read it: %s", optarg, strerror(errno)),
                       CLI_ERROR;
            cfg->cacert = optarg;
            break;
        case OPT_FOLLOW:
            if (!cfg->follow)
                cfg->follow = ENGINE_FOLLOW_ORIGIN;
            break;
        case OPT_FOLLOW_HEADERS: cfg->follow = ENGINE_FOLLOW_HEADERS; break;
        case OPT_ENGINE:
            if (strcmp(optarg, "auto") == 0)
                cfg->engine = ENGINE_AUTO;
            else if (strcmp(optarg, "native") == 0)
                cfg->engine = ENGINE_NATIVE;
            else if (strcmp(optarg, "curl") == 0)
                cfg->engine = ENGINE_CURL;
            else
                return lg_err(err, "--engine %s: unknown; use auto, native or curl", optarg),
                       CLI_ERROR;
            break;
        case OPT_MAX_REPLY: {
            int rc = units_parse_size(optarg, &cfg->checks.max_reply_bytes);
            if (rc < 0 || cfg->checks.max_reply_bytes == 0)
                return lg_err(err, "--max-reply %s: write a size such as 1MiB or 64KB", optarg),
                       CLI_ERROR;
            break;
        }
        case OPT_EXPECT_STATUS: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 100 || v > 599)
                return lg_err(err, "--expect-status %s: write an HTTP status, 100..599", optarg),
                       CLI_ERROR;
            cfg->checks.expect_status = v;
            break;
        }
        case OPT_EXPECT_JSON:
        case OPT_SERVER_TIME_JSON:
            if (check_path_valid(optarg) < 0)
                return lg_err(err, "%s '%s': write a dotted path such as result or predictions.0",
                              c == OPT_EXPECT_JSON ? "--expect-json" : "--server-time-json", optarg),
                       CLI_ERROR;
            if (c == OPT_EXPECT_JSON)
                cfg->checks.expect_json = optarg;
            else
                cfg->checks.server_time_json = optarg;
            break;
        case OPT_EXPECT_HEADER: cfg->checks.expect_header = optarg; break;
        case OPT_SERVER_TIME_HEADER: cfg->checks.server_time_header = optarg; break;
        case OPT_LABEL:
        case OPT_REGION:
        case OPT_MODEL: {
            /* These reach the terminal, the CSV and chart titles. */
            const char *name = c == OPT_LABEL ? "--label" : c == OPT_REGION ? "--region" : "--model";
            if (has_control(optarg))
                return lg_err(err, "%s %s: has a control character (a tab, newline, escape ...); "
                                   "write printable text", name, optarg), CLI_ERROR;
            *(c == OPT_LABEL ? &cfg->label : c == OPT_REGION ? &cfg->region : &cfg->model) = optarg;
            break;
        }
        case OPT_COST: {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (*end || end == optarg || errno || !(v >= 0) || v > 1e6)
                return lg_err(err, "--cost-per-hour %s: write a price in dollars, e.g. 0.90", optarg),
                       CLI_ERROR;
            cfg->cost_per_hour = v;
            break;
        }
        case OPT_OUT: cfg->out = optarg; have_out = 1; break;
        case OPT_NO_OUT: cfg->out = NULL; break;
        case OPT_JSON: cfg->json = optarg; break;
        case OPT_REQUESTS_LOG: cfg->requests_log = optarg; break;
        case OPT_HISTORY: cfg->history = optarg; break;
        case OPT_START_AT: {
            char *end;
            double t = strtod(optarg, &end);
            if (*end || end == optarg || !(t > 0))
                return lg_err(err, "--start-at %s: write a Unix time in seconds (date +%%s)", optarg),
                       CLI_ERROR;
            /* A start barrier is minutes away; a day or more is a typo. */
            double now = (double)lg_wall_us() / 1e6;
            if (t > now + 86400)
                return lg_err(err, "--start-at %s: more than a day from now (%.0f); write a Unix "
                                   "time in seconds, e.g. $(( $(date +%%s) + 30 ))", optarg, now),
                       CLI_ERROR;
            cfg->start_at_us = (int64_t)(t * 1e6);
            break;
        }
        case OPT_UNTIL_STABLE: cfg->until_stable = 1; break;
        case OPT_STABILITY:
            if (units_parse_fraction(optarg, &cfg->stability) < 0 || cfg->stability <= 0)
                return lg_err(err, "--stability %s: write a spread such as 10%% or 0.1", optarg),
                       CLI_ERROR;
            break;
        case OPT_WINDOW:
            cfg->window_requests = 0;
            cfg->window_us = 0;
            if (units_parse_count(optarg, &cfg->window_requests) < 0 &&
                (units_parse_duration(optarg, &cfg->window_us) < 0 || cfg->window_us <= 0 ||
                 cfg->window_us > MAX_DURATION_US))
                return lg_err(err, "--window %s: write a request count (200) or a duration up to "
                                   "a year (5s)", optarg), CLI_ERROR;
            if (cfg->window_requests == 0 && cfg->window_us == 0)
                return lg_err(err, "--window %s: must be more than 0", optarg), CLI_ERROR;
            break;
        case OPT_MAX_WINDOWS:
            if (parse_count("--max-windows", optarg, 3, &u64, err) < 0)
                return CLI_ERROR;
            cfg->max_windows = (unsigned)(u64 > 10000 ? 10000 : u64);
            break;
        case OPT_SLO:
            if (parse_slo(optarg, cfg, err) < 0)
                return CLI_ERROR;
            break;
        case OPT_MAX_ERROR_RATE:
            if (units_parse_fraction(optarg, &cfg->max_error_rate) < 0)
                return lg_err(err, "--max-error-rate %s: write a fraction such as 1%% or 0.01",
                              optarg), CLI_ERROR;
            break;
        case OPT_AUTO_MAX:
            if (parse_count("--auto-max", optarg, 1, &u64, err) < 0)
                return CLI_ERROR;
            if (u64 > 1000000)
                return lg_err(err, "--auto-max %s: at most 1000000", optarg), CLI_ERROR;
            cfg->auto_max = (unsigned)u64;
            break;
        case 'q': cfg->quiet = 1; break;
        case 'h': fputs(usage, stdout); return CLI_EXIT_OK;
        case OPT_VERSION: puts("loadgen " LOADGEN_VERSION); return CLI_EXIT_OK;
        case ':':
            return lg_err(err, "%s: needs a value; see loadgen --help", flag), CLI_ERROR;
        default:
            return lg_err(err, "%s: unknown option; see loadgen --help", flag), CLI_ERROR;
        }
    }
    if (optind < argc)
        return lg_err(err, "'%s': unexpected argument; options start with -- (see loadgen --help)",
                      argv[optind]), CLI_ERROR;
    if (!cfg->url)
        return lg_err(err, "--url is missing; write e.g. loadgen --url http://127.0.0.1:8080/score"),
               CLI_ERROR;
    if (check_url(cfg->url, err) < 0)
        return CLI_ERROR;
    cli_public_url(cfg->url, cfg->target, sizeof cfg->target);

    if (have_d && !have_n)
        cfg->requests = 0;
    if (have_rate) {
        if (parse_levels("--rate", rate_spec, 1, cfg, err) < 0)
            return CLI_ERROR;
        if (have_threads) {
            /* In open loop --threads caps requests in flight, like --max-inflight. */
            uint64_t v;
            if (parse_count("--threads", threads_spec, 1, &v, err) < 0)
                return CLI_ERROR;
            cfg->max_inflight = (unsigned)(v > 1000000 ? 1000000 : v);
        }
    } else if (have_threads && strcmp(threads_spec, "auto") == 0) {
        if (cfg->nslo == 0 && cfg->max_error_rate < 0)
            return lg_err(err, "--threads auto: give the limits to search against, e.g. "
                               "--slo p99=500ms --max-error-rate 1%%"), CLI_ERROR;
        cfg->auto_threads = 1;
        cfg->levels[0] = 1;
        cfg->nlevels = 1;
    } else if (have_threads && parse_levels("--threads", threads_spec, 0, cfg, err) < 0)
        return CLI_ERROR;

    if (cfg->payload.body_file && (cfg->corpus.dir || cfg->corpus.list_file))
        return lg_err(err, "--body-file and --images: give one or the other"), CLI_ERROR;
    if (cfg->corpus.dir && cfg->corpus.list_file)
        return lg_err(err, "--images and --images-list: give one or the other"), CLI_ERROR;
    if (cfg->payload.body_file) {
        if (have_format)
            return lg_err(err, "--body-file sends the file as it is; drop --format"), CLI_ERROR;
        if (access(cfg->payload.body_file, R_OK) != 0)
            return lg_err(err, "--body-file %s: cannot read it: %s", cfg->payload.body_file,
                          strerror(errno)), CLI_ERROR;
        cfg->payload.format = PAYLOAD_FILE;
    }
    if (cfg->get) {
        if (cfg->payload.body_file || cfg->corpus.dir || cfg->corpus.list_file || have_format)
            return lg_err(err, "--method GET sends no body; drop --images/--body-file/--format"),
                   CLI_ERROR;
        cfg->payload.format = PAYLOAD_NONE;
    }
    if (cfg->checks.server_time_header && cfg->checks.server_time_json)
        return lg_err(err, "--server-time-header and --server-time-json: give one or the other"),
               CLI_ERROR;
    const char *why;
    if (cfg->engine == ENGINE_NATIVE &&
        (why = h1_unsupported(cfg->url, cfg->http2, cfg->follow, cfg->headers, cfg->nheaders)))
        return lg_err(err, "--engine native: %s; use --engine curl or auto", why), CLI_ERROR;

    /* The default results folder is ours to create; a folder the user
     * named must already exist. */
    if (cfg->out && !have_out)
        mkdir("results", 0777);
    const char *outs[][2] = {{"--out", cfg->out}, {"--json", cfg->json},
                             {"--requests-log", cfg->requests_log}, {"--history", cfg->history}};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i][1] && strcmp(outs[i][1], "-") != 0 && check_output(outs[i][0], outs[i][1], err) < 0)
            return CLI_ERROR;
    /* A synthetic corpus lives in memory twice while its bodies are built
     * (JPEG at roughly half a byte a pixel, then base64 of it): refuse one
     * that cannot fit rather than swap for ten minutes. */
    if (!cfg->corpus.dir && !cfg->corpus.list_file && cfg->payload.format != PAYLOAD_FILE &&
        cfg->payload.format != PAYLOAD_NONE) {
        double need = (double)cfg->corpus.synthetic * cfg->corpus.width * cfg->corpus.height * 0.5 * 2.4;
        double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
        if (ram > 0 && need > ram / 2)
            return lg_err(err, "--synthetic %zu --image-size %dx%d: about %.1f GB of images and "
                               "bodies, more than half of this machine's %.1f GB; use fewer or "
                               "smaller images", cfg->corpus.synthetic, cfg->corpus.width,
                          cfg->corpus.height, need / 1e9, ram / 1e9), CLI_ERROR;
    }
    /* --requests-log keeps a row per request in memory, in the engine's
     * loops and again in the level's results, sized up front by -n:
     * refuse a count whose rows cannot fit (or whose size overflows). */
    if (cfg->requests_log && cfg->requests) {
        double need = (double)cfg->requests * (double)sizeof(struct stats_request) * 2;
        double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
        if (ram > 0 && need > ram / 2)
            return lg_err(err, "--requests %llu --requests-log: about %.1f GB of request rows in "
                               "memory, more than half of this machine's %.1f GB; send fewer "
                               "requests per level or drop --requests-log",
                          (unsigned long long)cfg->requests, need / 1e9, ram / 1e9), CLI_ERROR;
    }
    if (cfg->save_synthetic && (cfg->corpus.dir || cfg->corpus.list_file))
        return lg_err(err, "--save-synthetic writes the synthetic corpus; drop --images"), CLI_ERROR;
    return CLI_RUN;
}

int cli_check_outputs(const struct run_config *cfg, char *err)
{
    const char *const flags[] = {"--out", "--json", "--requests-log", "--history"};
    const char *const paths[] = {cfg->out, cfg->json, cfg->requests_log, cfg->history};
    const enum fileio_kind kinds[] = {FILEIO_CSV_SUMMARY, FILEIO_JSON, FILEIO_CSV_REQUESTS,
                                      FILEIO_CSV_HISTORY};
    int rc = fileio_check_outputs(flags, paths, kinds, 4, err);
    if (rc < 0)
        lg_printable(err);
    return rc;
}

enum cli_result cli_parse(int argc, char **argv, struct run_config *cfg, char *err)
{
    enum cli_result r = parse_args(argc, argv, cfg, err);
    if (r == CLI_ERROR)
        lg_printable(err);
    return r;
}

int cli_flag_takes_value(const char *name)
{
    for (const struct option *o = options; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->has_arg == required_argument;
    return -1;
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
