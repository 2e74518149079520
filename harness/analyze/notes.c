/*
 * notes.c: the analysis side's list of notes (see notes.h).
 */
#include "analyze/notes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "sbuf.h"

int notes_add(struct notes *n, const char *fmt, ...)
{
    char buf[LG_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lg_printable(buf);
    char *line = strdup(buf);
    if (!line || sbuf_grow((void **)&n->v, &n->cap, n->n + 1, sizeof *n->v) < 0) {
        free(line);
        return -ENOMEM;
    }
    n->v[n->n++] = line;
    return 0;
}

void notes_free(struct notes *n)
{
    for (size_t i = 0; i < n->n; i++)
        free(n->v[i]);
    free(n->v);
    memset(n, 0, sizeof *n);
}
