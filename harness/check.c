/*
 * check.c: dotted-path lookups in JSON replies. See check.h.
 */
#include "check.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int check_path_valid(const char *path)
{
    if (!path || !*path)
        return -EINVAL;
    for (const char *p = path; *p; p++)
        if (*p == '.' && (p == path || p[1] == '.' || p[1] == '\0'))
            return -EINVAL;
    return 0;
}

/* The child of `node` named by the part [part, part+len). */
static const cJSON *child(const cJSON *node, const char *part, size_t len)
{
    if (cJSON_IsArray(node)) {
        int index = 0;
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)part[i]) || index > 100000000)
                return NULL;
            index = index * 10 + (part[i] - '0');
        }
        return cJSON_GetArrayItem(node, index);
    }
    if (!cJSON_IsObject(node))
        return NULL;
    for (const cJSON *c = node->child; c; c = c->next)
        if (c->string && strlen(c->string) == len && memcmp(c->string, part, len) == 0)
            return c;
    return NULL;
}

int check_json_path(const char *body, size_t len, const char *path, double *number)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root)
        return -EINVAL;
    const cJSON *node = root;
    const char *part = path;
    while (node && *part) {
        const char *dot = strchr(part, '.');
        size_t n = dot ? (size_t)(dot - part) : strlen(part);
        node = child(node, part, n);
        part += n + (dot != NULL);
    }
    if (node && number)
        *number = cJSON_IsNumber(node) ? node->valuedouble : NAN;
    cJSON_Delete(root);
    return node != NULL;
}
