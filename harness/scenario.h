/*
 * scenario.h: an experiment file (JSON) -> one argument vector per target.
 *
 * A scenario holds `defaults` (any run flag, spelled as its long name with
 * '_' or '-') and `targets` (each with `url`, `label`, `model`,
 * `cost_per_hour` and any override). Every value is turned into the flag the
 * user would have typed and checked by the same parser as the command line
 * (cli.c), so the file and the flags can never disagree; an error names the
 * file, the JSON path and the problem:
 *     scenarios/x.json: targets[2].url: missing
 * Unknown keys, and a key repeated in any object, are errors. Order:
 * defaults, then the target's own keys, then the command line's flags, so
 * flags override the file. A file may name paths only inside the working
 * folder or its own (scenario_check_paths).
 */
#ifndef LOADGEN_SCENARIO_H
#define LOADGEN_SCENARIO_H

#include <stddef.h>

#define SCENARIO_MAX_BYTES (1 << 20)

struct scenario_target {
    char *label;   /* as in the file, "" when absent */
    char **argv;   /* NULL-terminated; argv[0] is "run" */
    int argc;
};

struct scenario {
    char *name;
    struct scenario_target *targets;
    size_t count;
};

/* Parse and validate `path`. `only` keeps just the target with that label
 * (an error when none has it). 0, or a negative errno with err set. */
int scenario_load(const char *path, const char *only, struct scenario **out, char *err);
void scenario_destroy(struct scenario *s);

struct run_config;
/* A scenario file is not trusted to name files outside the working folder
 * or its own: an output (out, json, requests_log, history, save_synthetic)
 * or a body_file that `cfg` (parsed from t's argv and the command line's)
 * took from the file must be a relative path that stays inside one of
 * them and is not a symbolic link. The same flag on the command line
 * overrides the file and is not checked. 0, or a negative errno with err
 * set to one line naming the key and the path. */
int scenario_check_paths(const char *path, const struct scenario_target *t,
                         const struct run_config *cfg, char *err);

#endif
