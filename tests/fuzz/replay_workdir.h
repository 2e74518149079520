/*
 * replay_workdir.h: the entry points of a fuzz target that must run in a
 * folder of its own (cli_parse may create results/, scenarios are written
 * to files). Included at the end of the target, which defines
 * enter_workdir(), CHECK() and REPLAY_MAX_INPUT (bytes read per input).
 *
 * With -DLOADGEN_LIBFUZZER: LLVMFuzzerInitialize makes the paths on
 * libFuzzer's command line absolute (corpus folders are read, artifacts
 * written, after the move), then enters the work folder. Without it: a
 * main() that reads every input first, then enters the folder and replays
 * them, so a crash reproduces without libFuzzer.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef LOADGEN_LIBFUZZER
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const path_flags[] = {"-artifact_prefix=", "-exact_artifact_path=",
                                             "-dict=", "-merge_control_file=", "-features_dir="};
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof cwd));
    for (int i = 1; i < *argc; i++) {
        char *a = (*argv)[i], *val = a, *abs_path;
        size_t plen = 0;
        if (a[0] == '-') {
            int is_path = 0;
            for (size_t k = 0; k < sizeof path_flags / sizeof path_flags[0]; k++)
                is_path |= strncmp(a, path_flags[k], strlen(path_flags[k])) == 0;
            char *eq = strchr(a, '=');
            if (!is_path || eq[1] == '/' || eq[1] == '\0')
                continue;
            val = eq + 1;
            plen = (size_t)(val - a);
        } else if (a[0] == '/') {
            continue;
        }
        size_t len = plen + strlen(cwd) + 1 + strlen(val) + 1;
        CHECK(abs_path = malloc(len));
        snprintf(abs_path, len, "%.*s%s/%s", (int)plen, a, cwd, val);
        (*argv)[i] = abs_path; /* lives as long as the process */
    }
    enter_workdir();
    return 0;
}
#else
int main(int argc, char **argv)
{
    static uint8_t *bufs[1024];
    static size_t lens[1024];
    if (argc - 1 > 1024)
        argc = 1025;
    /* Read every file before moving into the work folder. */
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        CHECK(bufs[i - 1] = malloc(REPLAY_MAX_INPUT));
        lens[i - 1] = fread(bufs[i - 1], 1, REPLAY_MAX_INPUT, f);
        fclose(f);
    }
    enter_workdir();
    for (int i = 1; i < argc; i++) {
        LLVMFuzzerTestOneInput(bufs[i - 1], lens[i - 1]);
        fprintf(stderr, "%s: ok\n", argv[i]);
        free(bufs[i - 1]);
    }
    return 0;
}
#endif
