/*
 * fuzz_cli.c: libFuzzer target for cli_parse (argv -> struct run_config)
 * and cli_public_url.
 *
 * The input is an argument vector: arguments separated by NUL bytes (so a
 * value may hold CR, LF or any other byte), at most 64 of them, after
 * argv[0] = "run". cli_parse must return one of its three results; an
 * error must be one line (no control characters) that fits the buffer;
 * a config it accepts must be one the engine can run: a URL, 1..1024
 * levels of at least 1 (or finite positive rates), a count or a duration,
 * timeouts of at least 1 ms, a `target` without query string or
 * user-info, and no control character in any header, the user agent, the
 * label, region or model. An error about the URL never quotes what
 * follows its '@' or '?'. Each argument is an exact-size heap copy, so ASan sees any
 * read past its end; cli_parse runs twice on fresh copies, because it keeps
 * getopt's global state between calls (as a scenario run does).
 * cli_public_url also gets the first argument as a URL, into a small
 * buffer, and must leave no '?' or '#' in it.
 *
 * cli_parse touches the file system: it may create ./results and looks at
 * output folders and input files. The target therefore runs in a
 * folder of its own ($TMPDIR/loadgen-fuzz_cli); LLVMFuzzerInitialize
 * first turns the corpus and artifact paths on libFuzzer's command line
 * into absolute ones.
 * --help and --version print to stdout, which goes to /dev/null.
 *
 * scripts/fuzz.sh builds this with -DLOADGEN_LIBFUZZER. Without it, main()
 * replays the files named on the command line, so a crash reproduces with
 *   cc -std=c11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Iharness \
 *      tests/fuzz/fuzz_cli.c harness/units.c harness/check.c \
 *      harness/pacer.c harness/payload.c harness/base64.c harness/corpus.c \
 *      $(pkg-config --cflags --libs libcurl libcjson) -ljpeg -lm -o fuzz_cli
 *   ./fuzz_cli crash-<sha1>
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* cli.c is included, not linked: it needs LOADGEN_VERSION, which the
 * Makefile defines and scripts/fuzz.sh does not. */
#ifndef LOADGEN_VERSION
#define LOADGEN_VERSION "fuzz"
#endif
#include "../../harness/cli.c"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_cli: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define MAX_ARGS 64

/* The same folder every run, so that runs ended by libFuzzer's _Exit
 * (which skips atexit) leave one folder behind, not one each. */
static void enter_workdir(void)
{
    char dir[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/loadgen-fuzz_cli", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
    CHECK(chdir(dir) == 0);
    CHECK(freopen("/dev/null", "w", stdout));
    /* A variable for --bearer-env to find. */
    setenv("FUZZ_CLI_TOKEN", "s3cr3t-fuzz-token", 1);
}

/* The error buffer: one line, no control characters, terminated. */
static void check_message(const char *err)
{
    CHECK(memchr(err, '\0', LG_ERRLEN));
    CHECK(*err);
    for (const char *p = err; *p; p++)
        CHECK((unsigned char)*p >= ' ' && *p != 0x7f);
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f)
            return 0;
    return 1;
}

/* `n` bytes at `s` and then `tail`, when those bytes are 4 or more, are
 * not in the error. Each piece checked ends in a delimiter ('@', '?',
 * ": "), so that a short secret does not match the message's own words. */
static void check_not_quoted(const char *err, const char *s, size_t n, const char *tail)
{
    char part[LG_ERRLEN];
    if (n < 4 || n + strlen(tail) >= sizeof part)
        return;
    memcpy(part, s, n);
    strcpy(part + n, tail);
    CHECK(!strstr(err, part));
}

/* An error about the URL never quotes its user-info (what comes before its
 * last '@'), a piece of it (between its first and last '@', or cut short
 * at a '?' or '#' in a password), nor its query: however malformed the
 * URL. */
static void check_no_secret(const char *err, const char *url)
{
    /* Only errors about the value of --url ("--url --url?x@y" is another
     * argument: an unknown option, quoted as typed). */
    if (strncmp(err, "--url ", 6) != 0 || strstr(err, ": unknown option;"))
        return;
    const char *sep = strstr(url, "://"), *start = sep ? sep + 3 : url;
    const char *first = strchr(start, '@'), *last = strrchr(start, '@'), *q = strchr(url, '?');
    if (last) {
        size_t user = (size_t)(last - start), cut = strcspn(start, "?#");
        check_not_quoted(err, start, user, "@");
        if (first != last)
            check_not_quoted(err, first + 1, (size_t)(last - first - 1), "@");
        if (cut < user)
            check_not_quoted(err, start, cut, ": "); /* u:PA?SS@h cut at '?' */
    }
    if (q)
        check_not_quoted(err, q, strlen(q), "");
}

/* A config cli_parse accepted is one the engine can run. */
static void check_config(const struct run_config *cfg)
{
    CHECK(cfg->url && *cfg->url);
    CHECK(memchr(cfg->target, '\0', sizeof cfg->target));
    CHECK(!strchr(cfg->target, '?') && !strchr(cfg->target, '#'));
    /* No user-info left in the target's authority part. */
    const char *auth = strstr(cfg->target, "://");
    if (auth) {
        auth += 3;
        CHECK(!memchr(auth, '@', strcspn(auth, "/")));
    }
    CHECK(cfg->nlevels >= 1 && cfg->nlevels <= CLI_MAX_LEVELS);
    int open_loop = cfg->rates[0] > 0;
    for (size_t i = 0; i < cfg->nlevels; i++) {
        if (open_loop)
            CHECK(isfinite(cfg->rates[i]) && cfg->rates[i] > 0);
        else
            CHECK(cfg->levels[i] >= 1 && cfg->levels[i] <= 1000000);
    }
    if (open_loop)
        CHECK(cfg->max_inflight >= 1);
    CHECK(cfg->requests > 0 || cfg->duration_us > 0);
    CHECK(cfg->duration_us >= 0 && cfg->warmup_us >= 0 && cfg->pause_us >= 0);
    CHECK(cfg->start_at_us >= 0);
    CHECK(cfg->cycles >= 1);
    CHECK(cfg->timeout_ms >= 1 && cfg->connect_timeout_ms >= 1);
    CHECK(cfg->checks.max_reply_bytes > 0);
    CHECK(cfg->nheaders <= CLI_MAX_HEADERS && cfg->nsecret <= CLI_MAX_HEADERS);
    /* Nothing that becomes a header, or reaches the terminal and the CSV,
     * holds a control character. */
    for (size_t i = 0; i < cfg->nheaders; i++) {
        CHECK(strchr(cfg->headers[i], ':'));
        CHECK(printable(cfg->headers[i]));
    }
    CHECK(printable(cfg->user_agent));
    CHECK(printable(cfg->label) && printable(cfg->region) && printable(cfg->model));
    CHECK(!cfg->payload.content_type || printable(cfg->payload.content_type));
    CHECK(strlen(cfg->target) < sizeof cfg->target);
    /* An accepted URL has at most one '@', and only in its user-info. */
    CHECK(!auth || !strchr(auth, '@'));
    CHECK(cfg->payload.batch >= 1);
    CHECK(cfg->corpus.width >= 8 && cfg->corpus.height >= 8);
}

/* Split the input at NUL bytes into exact-size heap strings. */
static int split(const uint8_t *data, size_t size, char **argv)
{
    int argc = 0;
    argv[argc++] = strdup("run");
    size_t start = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS + 1; i++) {
        if (i < size && data[i] != '\0')
            continue;
        if (i == size && i == start && argc > 1)
            break; /* a trailing NUL ends the list, it adds no empty argument */
        size_t len = i - start;
        char *a = malloc(len + 1);
        CHECK(a);
        memcpy(a, data + start, len);
        a[len] = '\0';
        argv[argc++] = a;
        start = i + 1;
    }
    argv[argc] = NULL;
    return argc;
}

static void parse_once(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 2], *copy[MAX_ARGS + 2];
    int argc = split(data, size, argv);
    /* getopt_long permutes argv: keep the pointers to free them. */
    memcpy(copy, argv, sizeof(char *) * (size_t)(argc + 1));

    static struct run_config cfg;
    char err[LG_ERRLEN];
    memset(err, 0, sizeof err);
    enum cli_result r = cli_parse(argc, argv, &cfg, err);
    CHECK(r == CLI_RUN || r == CLI_EXIT_OK || r == CLI_ERROR);
    if (r == CLI_ERROR) {
        check_message(err);
        for (int i = 1; i + 1 < argc; i++)
            if (strcmp(copy[i], "--url") == 0 || strcmp(copy[i], "-u") == 0)
                check_no_secret(err, copy[i + 1]);
    }
    else if (r == CLI_RUN)
        check_config(&cfg);
    cli_free(&cfg);
    for (int i = 0; i < argc; i++)
        free(copy[i]);
}

static void public_url(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size);
    char *url = malloc(n + 1);
    CHECK(url);
    memcpy(url, data, n);
    url[n] = '\0';
    for (size_t len = 1; len <= 64; len *= 4) {
        char *buf = malloc(len);
        CHECK(buf);
        CHECK(cli_public_url(url, buf, len) == buf);
        CHECK(memchr(buf, '\0', len));
        CHECK(!strchr(buf, '?') && !strchr(buf, '#'));
        free(buf);
    }
    free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    parse_once(data, size);
    parse_once(data, size);
    public_url(data, size);
    return 0;
}

#define REPLAY_MAX_INPUT (1 << 16)
#include "replay_workdir.h"
