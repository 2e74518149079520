/*
 * inputdata.h: Triton perf_analyzer's --input-data JSON, read as it is:
 *
 *   {"data": [ {"INPUT0": [1, 2, 3, 4]},
 *              {"INPUT0": {"content": [1, 2, 3, 4], "shape": [2, 2]}},
 *              {"INPUT0": {"b64": "<base64 of the little-endian bytes>"},
 *               "INPUT1": ["a string", "another"]} ]}
 *
 * Each entry of "data" is one sample (one element of a batch) with one
 * value per input; entries are cycled over requests as corpus images are.
 * A value is a flat list, {"content": list, "shape": dims} or {"b64": text,
 * "shape": dims}; nested lists are flattened. An entry's "shape" leaves out
 * the batch dimension, as perf_analyzer's does (the full shape, with 1
 * there, is taken too). BYTES values are strings, sent as their bytes.
 *
 * The template of each input's shape is the model's (from its metadata,
 * or --shape over it): every value must fit it. Without a model, --shape
 * is only the shape of values that give none, and whether there is a
 * batch dimension: its first dimension is -1 or 1.
 *
 * Every value is checked against its input's datatype (range, whole
 * numbers, FP16 overflow) and shape before anything is sent. Pure but for
 * reading the file: no network, no output.
 */
#ifndef LOADGEN_INPUTDATA_H
#define LOADGEN_INPUTDATA_H

#include <stddef.h>

#include "tensor.h"

/* The file at most: it is parsed whole (cJSON holds ~60 bytes per number),
 * so larger data belongs in "b64" values. */
#define INPUTDATA_MAX_FILE_BYTES (256u << 20)
/* Entries at most, as --synthetic's images. */
#define INPUTDATA_MAX_ENTRIES 1000000

/* What the inputs must be. `model` (may be NULL or empty) is the model's
 * inputs from its metadata, with --datatype and --shape already applied:
 * then every entry must give exactly those inputs, in shapes that fit.
 * Without a model, every input takes `fallback`'s datatype and shape
 * (either may be unknown: a value then needs its own "shape"; the datatype
 * must be known). */
struct inputdata_want {
    const struct tensor_model *model;
    const struct tensor_spec *fallback;
};

/* Reads and checks the whole file. 0, or -EINVAL / -ENOMEM with one line in
 * err: "FILE: entry 3, input INPUT0: 5 values, the shape [1,2,2] holds 4". */
int inputdata_load(struct tensor_set **out, const char *path, const struct inputdata_want *want,
                   char *err);
/* The same over text already in memory; `what` names it in messages. */
int inputdata_parse(struct tensor_set **out, const char *what, const char *text, size_t len,
                    const struct inputdata_want *want, char *err);

#endif
