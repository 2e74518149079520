/*
 * profile.h: simulated service times per model and device, read from
 * scenarios/profiles.json (format and arithmetic in scenarios/README.md).
 * Pure apart from reading the file; no global state.
 */
#ifndef LOADGEN_SERVE_PROFILE_H
#define LOADGEN_SERVE_PROFILE_H

#include <stddef.h>

#include "serve/sim.h"

/* Loads `model` on `device` from the profiles file at `path`. 0, or a
 * negative errno with a one-line message in err (naming the file, the
 * model and the fix). */
int profile_load(const char *path, const char *model, enum sim_device device,
                 struct sim_profile *out, char *err);
/* Same, from JSON text already in memory (`name` is used in messages). */
int profile_parse(const char *json, size_t len, const char *name, const char *model,
                  enum sim_device device, struct sim_profile *out, char *err);
/* The profiles file to use when --profile is not given: ./scenarios/,
 * then scenarios/ next to the executable, then the installed data dir.
 * Writes the path into buf and returns 0, or -ENOENT (with the places
 * looked at in err) when there is none. */
int profile_find(char *buf, size_t len, char *err);

#endif
