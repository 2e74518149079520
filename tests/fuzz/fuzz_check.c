/*
 * fuzz_check.c: libFuzzer target for the reply checks: check_path_valid and
 * check_json_path (--expect-json, --server-time-json).
 *
 * The input is a dotted path, a newline, then a reply body. The path must
 * be accepted or refused with -EINVAL; an accepted path has no empty part.
 * The body is given as an exact-size heap copy without a terminating NUL,
 * as the engine gives it (replies are not terminated), so ASan sees any
 * read past `len`. check_json_path must return -EINVAL (not JSON), 0 or 1,
 * and agree with cJSON: -EINVAL exactly when cJSON_ParseWithLength refuses
 * the body; for a one-part path into an object, 1 exactly when the key is
 * there; a number found is stored, NAN for anything else; nothing is
 * stored when the path is absent.
 *
 * scripts/fuzz.sh builds this with -DLOADGEN_LIBFUZZER. Without it, main()
 * replays the files named on the command line, so a crash reproduces with
 *   cc -std=c11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Iharness \
 *      tests/fuzz/fuzz_check.c harness/check.c $(pkg-config --cflags --libs libcjson) \
 *      -lm -o fuzz_check
 *   ./fuzz_check crash-<sha1>
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "fuzz_check: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                             \
        }                                                                        \
    } while (0)

static void check_path(const char *path)
{
    int rc = check_path_valid(path);
    CHECK(rc == 0 || rc == -EINVAL);
    int bad = !*path || path[0] == '.' || path[strlen(path) - 1] == '.' || strstr(path, "..");
    CHECK((rc == 0) == !bad);
}

/* What the lookup must say about a one-part path, by cJSON itself. */
static void check_against_cjson(const char *body, size_t len, const char *path, int found)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    CHECK((root == NULL) == (found == -EINVAL));
    if (root && cJSON_IsObject(root) && !strchr(path, '.')) {
        int has = 0;
        for (const cJSON *c = root->child; c; c = c->next)
            if (c->string && strcmp(c->string, path) == 0)
                has = 1;
        CHECK(found == has);
    }
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    if (plen > 4096)
        return 0;
    char *path = malloc(plen + 1);
    CHECK(path);
    memcpy(path, data, plen);
    path[plen] = '\0';
    check_path(path);

    size_t blen = nl ? size - plen - 1 : 0;
    char *body = malloc(blen ? blen : 1); /* no NUL: the engine's replies have none */
    CHECK(body);
    if (blen)
        memcpy(body, nl + 1, blen);

    if (check_path_valid(path) == 0) {
        double number = -12345.0;
        int found = check_json_path(body, blen, path, &number);
        CHECK(found == -EINVAL || found == 0 || found == 1);
        if (found != 1)
            CHECK(number == -12345.0);
        check_against_cjson(body, blen, path, found);
        CHECK(check_json_path(body, blen, path, NULL) == found);
    }
    free(body);
    free(path);
    return 0;
}

#include "replay.h"
