/*
 * profile.c: scenarios/profiles.json -> struct sim_profile (see profile.h).
 * Called once at start-up from serve's main thread.
 *
 * Shape: {"models": {"<model>": {"gpu": {...}, "cpu": {...}}}}, each device
 * object with base_ms, per_image_ms, jitter and, for gpu, max_batch and
 * batch_window_ms. Other top-level keys (the documentation) are ignored.
 */
#include "serve/profile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

/* A number field in [lo, hi]; `def` when absent and optional. */
static int field(const cJSON *o, const char *key, double lo, double hi, int required, double def,
                 double *out, const char *where, char *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required)
            return lg_err(err, -EINVAL, "%s: missing \"%s\"; add it (a number)", where, key);
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi)
        return lg_err(err, -EINVAL, "%s: \"%s\" must be a number from %g to %g", where, key, lo, hi);
    *out = v->valuedouble;
    return 0;
}

static void list_models(const cJSON *models, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const cJSON *m = models->child; m && used + 1 < len; m = m->next) {
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", m->string);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int profile_parse(const char *json, size_t len, const char *name, const char *model,
                  enum sim_device device, struct sim_profile *out, char *err)
{
    const char *dev = device == SIM_GPU ? "gpu" : "cpu";
    char where[256];
    int rc;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return lg_err(err, -EINVAL, "%s: not valid JSON near byte %zu; fix the file or give another with --profile",
                      name, (size_t)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - json : 0));
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    if (!cJSON_IsObject(models)) {
        rc = lg_err(err, -EINVAL, "%s: no \"models\" object; see scenarios/README.md for the format", name);
        goto out;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(models, model);
    if (!m) {
        char names[256];
        list_models(models, names, sizeof names);
        rc = lg_err(err, -EINVAL, "--model %s: not in %s; choose one of %s", model, name, names);
        goto out;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, dev);
    if (!cJSON_IsObject(d)) {
        rc = lg_err(err, -EINVAL, "--model %s: %s has no \"%s\" profile; add one or pick the other "
                    "--device", model, name, dev);
        goto out;
    }
    double px = 224;
    snprintf(where, sizeof where, "%s: models.%s", name, model);
    if ((rc = field(m, "input_px", 1, 4096, 0, 224, &px, where, err)) < 0)
        goto out;
    snprintf(where, sizeof where, "%s: models.%s.%s", name, model, dev);
    double base = 0, per = 0, jitter = 0, batch = 1, window = 0;
    if ((rc = field(d, "base_ms", 0, 3600e3, 1, 0, &base, where, err)) < 0 ||
        (rc = field(d, "per_image_ms", 0, 3600e3, 1, 0, &per, where, err)) < 0 ||
        (rc = field(d, "jitter", 0, 0.99, 0, 0, &jitter, where, err)) < 0)
        goto out;
    if (device == SIM_GPU &&
        ((rc = field(d, "max_batch", 1, 65536, 0, 32, &batch, where, err)) < 0 ||
         (rc = field(d, "batch_window_ms", 0, 60e3, 0, 0, &window, where, err)) < 0))
        goto out;
    out->base_us = (int64_t)(base * 1000 + 0.5);
    out->per_image_us = (int64_t)(per * 1000 + 0.5);
    out->jitter = jitter;
    out->max_batch = (unsigned)batch;
    out->batch_window_us = (int64_t)(window * 1000 + 0.5);
    out->input_px = (unsigned)px;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int profile_load(const char *path, const char *model, enum sim_device device,
                 struct sim_profile *out, char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lg_err(err, -errno, "--profile %s: %s; give an existing profiles file", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 16384;
            char *p = realloc(text, cap);
            if (!p) {
                free(text);
                fclose(f);
                return lg_err(err, -ENOMEM, "--profile %s: out of memory", path);
            }
            text = p;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    int rc = bad ? lg_err(err, -EIO, "--profile %s: read error; check the file", path)
                 : profile_parse(text, len, path, model, device, out, err);
    free(text);
    return rc;
}

int profile_find(char *buf, size_t len, char *err)
{
    static const char rel[] = "scenarios/profiles.json";
    char exe[PATH_MAX];
    if (access(rel, R_OK) == 0) {
        snprintf(buf, len, "%s", rel);
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            if ((size_t)snprintf(buf, len, "%s/%s", exe, rel) < len && access(buf, R_OK) == 0)
                return 0;
        }
    }
    if ((size_t)snprintf(buf, len, "%s/%s", LOADGEN_DATADIR, rel) < len && access(buf, R_OK) == 0)
        return 0;
    return lg_err(err, -ENOENT, "no profiles file in ./%s, next to the executable or in %s/scenarios; "
                  "give one with --profile FILE", rel, LOADGEN_DATADIR);
}
