/*
 * scenario.c: experiment files -> argument vectors. See scenario.h.
 * Runs once at start-up, in the main thread; owns everything it returns.
 */
#include "scenario.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "fileio.h"
#include "sbuf.h"

/* Keys that document the file and are not flags. */
static const char *const doc_keys[] = {"name", "description", "notes", "source", "sources", "serve"};

static int is_doc_key(const char *k)
{
    for (size_t i = 0; i < sizeof doc_keys / sizeof doc_keys[0]; i++)
        if (strcmp(k, doc_keys[i]) == 0)
            return 1;
    return 0;
}

/* A growable argv. */
struct args {
    char **v;
    size_t n, cap;
};

static int push(struct args *a, const char *s)
{
    /* One more for the NULL that ends an argv. */
    if (sbuf_grow((void **)&a->v, &a->cap, a->n + 2, sizeof *a->v) < 0)
        return -ENOMEM;
    if (!(a->v[a->n] = strdup(s)))
        return -ENOMEM;
    a->v[++a->n] = NULL;
    return 0;
}

static void args_free(struct args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    *a = (struct args){0};
}

/* Check one flag with the command line's own parser, so that the file gets
 * exactly the command line's rules and messages. */
static int check_flag(const char *flag, const char *value, char *err)
{
    struct run_config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return lg_err(err, -ENOMEM, "out of memory");
    char *argv[8];
    int argc = 0;
    argv[argc++] = "run";
    if (strcmp(flag, "--url") != 0) {
        argv[argc++] = "--url";
        argv[argc++] = "http://127.0.0.1/";
    }
    argv[argc++] = (char *)flag;
    if (value)
        argv[argc++] = (char *)value;
    argv[argc++] = "--no-out";
    argv[argc] = NULL;
    int rc = cli_parse(argc, argv, cfg, err) == CLI_RUN ? 0 : -EINVAL;
    cli_free(cfg);
    free(cfg);
    return rc;
}

/* One key of `defaults` or of a target -> flags appended to `a`. */
static int add_key(const char *path, const char *where, const cJSON *item, struct args *a,
                   char *err)
{
    const char *key = item->string;
    char flag[64], msg[LG_ERRLEN], value[64];
    if (is_doc_key(key))
        return 0;
    if (strcmp(key, "headers") == 0) {
        if (!cJSON_IsObject(item))
            return lg_err(err, -EINVAL, "%s: %s.headers: must be an object of \"Name\": \"value\"", path, where);
        for (const cJSON *h = item->child; h; h = h->next) {
            if (!cJSON_IsString(h))
                return lg_err(err, -EINVAL, "%s: %s.headers.%s: must be a string", path, where, h->string);
            size_t len = strlen(h->string) + strlen(h->valuestring) + 3;
            char *line = malloc(len);
            if (!line)
                return lg_err(err, -ENOMEM, "out of memory");
            snprintf(line, len, "%s: %s", h->string, h->valuestring);
            int rc = check_flag("--header", line, msg);
            if (rc == 0)
                rc = push(a, "--header") || push(a, line) ? lg_err(msg, -ENOMEM, "out of memory") : 0;
            free(line);
            if (rc < 0)
                return lg_err(err, -EINVAL, "%s: %s.headers.%s: %s", path, where, h->string, msg);
        }
        return 0;
    }
    snprintf(flag, sizeof flag, "--%s", key);
    for (char *p = flag + 2; *p; p++)
        if (*p == '_')
            *p = '-';
    int takes = cli_flag_takes_value(flag + 2);
    if (takes < 0 || strcmp(key, "scenario") == 0 || strcmp(key, "only") == 0 ||
        strcmp(key, "help") == 0 || strcmp(key, "version") == 0)
        return lg_err(err, -EINVAL, "%s: %s.%s: unknown key; keys are run flags without the dashes "
                           "(see loadgen --help), or headers, notes, serve",
                      path, where, key);
    const char *v = NULL;
    if (takes == 0) {
        if (!cJSON_IsBool(item))
            return lg_err(err, -EINVAL, "%s: %s.%s: must be true or false", path, where, key);
        if (cJSON_IsFalse(item))
            return 0;
    } else if (cJSON_IsString(item)) {
        v = item->valuestring;
    } else if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        if (!isfinite(d))
            return lg_err(err, -EINVAL, "%s: %s.%s: not a finite number", path, where, key);
        if (d == floor(d) && fabs(d) < 1e15)
            snprintf(value, sizeof value, "%.0f", d);
        else
            snprintf(value, sizeof value, "%.17g", d);
        v = value;
    } else {
        return lg_err(err, -EINVAL, "%s: %s.%s: must be a string or a number", path, where, key);
    }
    if (check_flag(flag, v, msg) < 0)
        return lg_err(err, -EINVAL, "%s: %s.%s: %s", path, where, key, msg);
    if (push(a, flag) < 0 || (v && push(a, v) < 0))
        return lg_err(err, -ENOMEM, "out of memory");
    return 0;
}

static int add_object(const char *path, const char *where, const cJSON *obj, struct args *a,
                      char *err)
{
    for (const cJSON *k = obj->child; k; k = k->next) {
        int rc = add_key(path, where, k, a, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* cJSON keeps every copy of a repeated key but finds only the first, so
 * {"out": "a.csv", "out": "/x"} would be checked with one value and run
 * with the other. Every object of the file, at any depth, is walked; its
 * keys are sorted to find a repeat in n log n. `where` holds the JSON path
 * of `node` (its first `used` bytes). */
static int no_duplicates(const char *path, const cJSON *node, char *where, size_t cap,
                         size_t used, char *err)
{
    size_t n = 0;
    for (const cJSON *c = node->child; c; c = c->next)
        n++;
    if (cJSON_IsObject(node) && n > 1) {
        const cJSON **keys = malloc(n * sizeof *keys), *dup = NULL;
        if (!keys)
            return lg_err(err, -ENOMEM, "out of memory");
        n = 0;
        for (const cJSON *c = node->child; c; c = c->next)
            keys[n++] = c;
        qsort(keys, n, sizeof *keys, cmp_key);
        for (size_t i = 1; i < n && !dup; i++)
            if (strcmp(keys[i - 1]->string, keys[i]->string) == 0)
                dup = keys[i];
        free(keys);
        if (dup)
            return lg_err(err, -EINVAL, "%s: %s%s%s: duplicate key; give each key once", path, where,
                          used ? "." : "", dup->string);
    }
    size_t i = 0;
    for (const cJSON *c = node->child; c; c = c->next, i++) {
        if (!cJSON_IsObject(c) && !cJSON_IsArray(c))
            continue;
        int w = cJSON_IsArray(node) ? snprintf(where + used, cap - used, "[%zu]", i)
                                    : snprintf(where + used, cap - used, "%s%s", used ? "." : "",
                                               c->string);
        size_t next = w < 0 || used + (size_t)w >= cap ? cap - 1 : used + (size_t)w;
        int rc = no_duplicates(path, c, where, cap, next, err);
        where[used] = '\0';
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Line and column of byte `off`, for JSON syntax errors. */
static void where_in(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int scenario_load(const char *path, const char *only, struct scenario **out, char *err)
{
    *out = NULL;
    size_t len;
    char *text;
    int rc = fileio_read("--scenario", path, SCENARIO_MAX_BYTES, &text, &len, err);
    if (rc < 0)
        return rc;
    struct scenario *s = calloc(1, sizeof *s);
    struct args defaults = {0};
    cJSON *root = cJSON_Parse(text);
    if (!s) {
        rc = lg_err(err, -ENOMEM, "out of memory");
        goto done;
    }
    if (!root) {
        int line, col;
        const char *at = cJSON_GetErrorPtr();
        where_in(text, at ? (size_t)(at - text) : 0, &line, &col);
        rc = lg_err(err, -EINVAL, "%s: line %d column %d: not valid JSON", path, line, col);
        goto done;
    }
    char json_path[256] = "";
    if ((rc = no_duplicates(path, root, json_path, sizeof json_path, 0, err)) < 0)
        goto done;
    if (!cJSON_IsObject(root)) {
        rc = lg_err(err, -EINVAL, "%s: the top level must be an object with \"targets\"", path);
        goto done;
    }
    const cJSON *targets = NULL, *defs = NULL;
    for (const cJSON *k = root->child; k; k = k->next) {
        if (strcmp(k->string, "targets") == 0)
            targets = k;
        else if (strcmp(k->string, "defaults") == 0)
            defs = k;
        else if (!is_doc_key(k->string)) {
            rc = lg_err(err, -EINVAL, "%s: %s: unknown key; the top level has defaults, targets, name, "
                        "description, notes", path, k->string);
            goto done;
        }
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (!(s->name = strdup(cJSON_IsString(name) ? name->valuestring : ""))) {
        rc = lg_err(err, -ENOMEM, "out of memory");
        goto done;
    }
    if (defs && !cJSON_IsObject(defs)) {
        rc = lg_err(err, -EINVAL, "%s: defaults: must be an object", path);
        goto done;
    }
    if (defs && cJSON_GetObjectItemCaseSensitive(defs, "url")) {
        rc = lg_err(err, -EINVAL, "%s: defaults.url: each target has its own url; move it into targets", path);
        goto done;
    }
    if (defs && (rc = add_object(path, "defaults", defs, &defaults, err)) < 0)
        goto done;
    if (!targets || !cJSON_IsArray(targets) || cJSON_GetArraySize(targets) == 0) {
        rc = lg_err(err, -EINVAL, "%s: targets: %s", path,
                    targets ? "must be a non-empty list of {\"url\": ...}" : "missing");
        goto done;
    }
    size_t n = (size_t)cJSON_GetArraySize(targets);
    if (!(s->targets = calloc(n, sizeof *s->targets))) {
        rc = lg_err(err, -ENOMEM, "out of memory");
        goto done;
    }
    size_t i = 0;
    for (const cJSON *t = targets->child; t; t = t->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "targets[%zu]", i);
        if (!cJSON_IsObject(t)) {
            rc = lg_err(err, -EINVAL, "%s: %s: must be an object with \"url\"", path, where);
            goto done;
        }
        if (!cJSON_GetObjectItemCaseSensitive(t, "url")) {
            rc = lg_err(err, -EINVAL, "%s: %s.url: missing", path, where);
            goto done;
        }
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(t, "label");
        if (label && !cJSON_IsString(label)) {
            rc = lg_err(err, -EINVAL, "%s: %s.label: must be a string", path, where);
            goto done;
        }
        if (only && (!label || strcmp(label->valuestring, only) != 0))
            continue;
        struct args a = {0};
        if (push(&a, "run") < 0) {
            rc = lg_err(err, -ENOMEM, "out of memory");
            goto done;
        }
        for (size_t k = 0; k < defaults.n; k++)
            if (push(&a, defaults.v[k]) < 0) {
                args_free(&a);
                rc = lg_err(err, -ENOMEM, "out of memory");
                goto done;
            }
        if ((rc = add_object(path, where, t, &a, err)) < 0) {
            args_free(&a);
            goto done;
        }
        struct scenario_target *st = &s->targets[s->count++];
        st->argv = a.v;
        st->argc = (int)a.n;
        if (!(st->label = strdup(label ? label->valuestring : ""))) {
            rc = lg_err(err, -ENOMEM, "out of memory");
            goto done;
        }
    }
    if (only && s->count == 0) {
        rc = lg_err(err, -EINVAL, "--only %s: no target in %s has that label", only, path);
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(root);
    args_free(&defaults);
    free(text);
    if (rc == 0)
        *out = s;
    else
        scenario_destroy(s);
    if (rc != 0)
        lg_printable(err);
    return rc;
}

void scenario_destroy(struct scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++) {
        struct args a = {s->targets[i].argv, s->targets[i].argc, 0};
        args_free(&a);
        free(s->targets[i].label);
    }
    free(s->targets);
    free(s->name);
    free(s);
}

/* Whether `real` is `base` or inside it; both from realpath(). */
static int is_inside(const char *real, const char *base)
{
    size_t n = strlen(base);
    return strncmp(real, base, n) == 0 && (real[n] == '\0' || real[n] == '/' || n == 1);
}

/* Whether the string `s` is one of the target's own arguments, that is,
 * came from the file and not from the command line. cli_parse leaves a
 * pointer to the argument that won, so this tells which one it was even
 * after --no-out, --out=FILE or an abbreviated flag. */
static int from_file(const struct scenario_target *t, const char *s)
{
    for (int k = 1; k < t->argc; k++) {
        uintptr_t a = (uintptr_t)t->argv[k];
        if ((uintptr_t)s >= a && (uintptr_t)s <= a + strlen(t->argv[k]))
            return 1;
    }
    return 0;
}

/* One path from the file: relative, never above its start ('..'), in a
 * folder that really lies inside the working folder or the scenario's own
 * (a symbolic link on the way may lead anywhere), and not itself a link. */
static int check_path(const char *key, const char *p, const char *cwd, const char *own, char *err)
{
    static const char how[] = "a scenario file may name only paths inside the working folder or "
                              "its own; give the flag on the command line to use this one";
    if (p[0] == '/')
        return lg_err(err, -EINVAL, "%s %s: an absolute path; %s", key, p, how);
    int depth = 0;
    for (const char *c = p; *c; c += strcspn(c, "/"), c += *c == '/') {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (--depth < 0)
                return lg_err(err, -EINVAL, "%s %s: climbs out of the working folder ('..'); %s", key, p, how);
        } else if (n && !(n == 1 && c[0] == '.')) {
            depth++;
        }
    }
    char dir[PATH_MAX], real[PATH_MAX];
    struct stat st;
    if (strlen(p) >= sizeof dir)
        return lg_err(err, -EINVAL, "%s: the path is too long", key);
    strcpy(dir, p);
    if (!realpath(dirname(dir), real) || (!is_inside(real, cwd) && !is_inside(real, own)))
        return lg_err(err, -EINVAL, "%s %s: its folder leads outside the working folder (a symbolic "
                           "link?); %s", key, p, how);
    if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode))
        return lg_err(err, -EINVAL, "%s %s: a symbolic link; %s", key, p, how);
    return 0;
}

int scenario_check_paths(const char *path, const struct scenario_target *t,
                         const struct run_config *cfg, char *err)
{
    /* What a file names to write, and the one input it sends as it is. */
    const struct {
        const char *key, *value;
    } paths[] = {
        {"out", cfg->out},
        {"json", cfg->json},
        {"requests_log", cfg->requests_log},
        {"history", cfg->history},
        {"save_synthetic", cfg->save_synthetic},
        {"body_file", cfg->payload.body_file},
    };
    char cwd[PATH_MAX], own[PATH_MAX], buf[PATH_MAX];
    if (strlen(path) >= sizeof buf)
        return lg_err(err, -EINVAL, "%s: the path is too long", path);
    strcpy(buf, path);
    if (!realpath(".", cwd) || !realpath(dirname(buf), own))
        return lg_err(err, -errno, "%s: cannot resolve the working folder or the file's: %s", path,
                      strerror(errno));
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int rc = paths[i].value && from_file(t, paths[i].value)
                     ? check_path(paths[i].key, paths[i].value, cwd, own, err) : 0;
        if (rc < 0) {
            lg_printable(err);
            return rc;
        }
    }
    return 0;
}
