/*
 * fuzz_scenario.c: libFuzzer target for the scenario parser (scenario_load:
 * experiment JSON -> one argument vector per target).
 *
 * The input is written to a file and loaded, as `--scenario FILE` would;
 * with `--only a` when it ends with a space (JSON allows one). scenario_load must return 0 or -1;
 * an error must be one printable line that names the file; a scenario it
 * accepts has at least one target, each with a label and a NULL-terminated
 * argv that starts with "run", and cli_parse (the command line's own parser,
 * which run.c hands that argv to) must take it without a crash and, when it
 * accepts it, yield a URL, and scenario_check_paths must refuse (in one
 * line) every absolute or climbing path the file names. Everything is freed (LeakSanitizer checks).
 *
 * cli_parse may create ./results, and the input file needs a home: the
 * target runs in a folder of its own ($TMPDIR/loadgen-fuzz_scenario), and
 * LLVMFuzzerInitialize first makes libFuzzer's paths absolute, as in
 * fuzz_cli.c.
 *
 * scripts/fuzz.sh builds this with -DLOADGEN_LIBFUZZER. Without it, main()
 * replays the files named on the command line, so a crash reproduces with
 *   cc -std=c11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Iharness \
 *      tests/fuzz/fuzz_scenario.c harness/scenario.c harness/units.c \
 *      harness/check.c harness/pacer.c harness/payload.c harness/base64.c \
 *      harness/corpus.c $(pkg-config --cflags --libs libcurl libcjson) -ljpeg -lm \
 *      -o fuzz_scenario
 *   ./fuzz_scenario crash-<sha1>
 */
#include <errno.h>
#include <limits.h>
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
#include "scenario.h"

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz_scenario: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                \
        }                                                                           \
    } while (0)

static char input_path[64];

/* The same folder every run, so that runs ended by libFuzzer's _Exit
 * (which skips atexit) leave one folder behind, not one each; the input
 * file is per process and removed after each run. */
static void enter_workdir(void)
{
    char dir[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/loadgen-fuzz_scenario", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
    CHECK(chdir(dir) == 0);
    snprintf(input_path, sizeof input_path, "s.%ld.json", (long)getpid());
    CHECK(freopen("/dev/null", "w", stdout));
    setenv("FUZZ_SCENARIO_TOKEN", "s3cr3t-fuzz-token", 1);
}

static void check_message(const char *err)
{
    CHECK(memchr(err, '\0', LG_ERRLEN));
    CHECK(*err);
    for (const char *p = err; *p; p++)
        CHECK((unsigned char)*p >= ' ' && *p != 0x7f);
}

/* A file's output paths that passed scenario_check_paths are relative
 * and never climb above the working folder (every argv here is the file's). */
static void check_paths_inside(const struct run_config *cfg)
{
    const char *paths[] = {cfg->json, cfg->requests_log, cfg->history, cfg->save_synthetic,
                           cfg->payload.body_file, cfg->out};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (!paths[i] || (i == 5 && strcmp(paths[i], "results/summary.csv") == 0))
            continue;
        CHECK(paths[i][0] != '/');
        CHECK(strncmp(paths[i], "../", 3) != 0 && strcmp(paths[i], "..") != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(input_path, "wb");
    CHECK(f);
    CHECK(fwrite(data, 1, size, f) == size);
    CHECK(fclose(f) == 0);

    const char *only = size > 0 && data[size - 1] == ' ' ? "a" : NULL;
    struct scenario *sc = (struct scenario *)1;
    char err[LG_ERRLEN];
    memset(err, 0, sizeof err);
    int rc = scenario_load(input_path, only, &sc, err);
    unlink(input_path);
    CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    if (rc < 0) {
        CHECK(sc == NULL);
        check_message(err);
        return 0;
    }
    CHECK(sc && sc->count >= 1 && sc->name);
    static struct run_config cfg;
    for (size_t i = 0; i < sc->count; i++) {
        const struct scenario_target *t = &sc->targets[i];
        CHECK(t->label && t->argv && t->argc >= 1 && t->argv[t->argc] == NULL);
        CHECK(strcmp(t->argv[0], "run") == 0);
        if (only)
            CHECK(strcmp(t->label, only) == 0);
        /* getopt_long permutes its argv: give it a copy of the pointers. */
        char **av = malloc(sizeof *av * (size_t)(t->argc + 1));
        CHECK(av);
        memcpy(av, t->argv, sizeof *av * (size_t)(t->argc + 1));
        char perr[LG_ERRLEN];
        enum cli_result r = cli_parse(t->argc, av, &cfg, perr);
        CHECK(r == CLI_RUN || r == CLI_EXIT_OK || r == CLI_ERROR);
        if (r == CLI_RUN) {
            CHECK(cfg.url && *cfg.url);
            /* What run.c checks next: paths the file may not name. */
            int pr = scenario_check_paths(input_path, t, &cfg, perr);
            CHECK(pr == 0 || pr == -EINVAL || pr == -ENOMEM);
            if (pr < 0)
                check_message(perr);
            else
                check_paths_inside(&cfg);
        } else if (r == CLI_ERROR) {
            check_message(perr);
        }
        cli_free(&cfg);
        free(av);
    }
    scenario_destroy(sc);
    return 0;
}

#define REPLAY_MAX_INPUT (1 << 21)
#include "replay_workdir.h"
