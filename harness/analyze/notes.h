/*
 * notes.h: the one list of notes the analysis side keeps: a line each on
 * what a reader skipped (results.c), what a merge could not keep (merge.c)
 * and which chart was not drawn and why (chart.c). The commands print them
 * to stderr; the HTML report shows them on the page.
 *
 * A note only explains: one that cannot be stored for want of memory is
 * dropped and the command goes on. Owned by the struct that embeds it;
 * single-threaded.
 */
#ifndef LOADGEN_ANALYZE_NOTES_H
#define LOADGEN_ANALYZE_NOTES_H

#include <stddef.h>

struct notes {
    char **v;       /* n lines, each one printable line (no newline) */
    size_t n, cap;
};

/* Appends one formatted line (at most LG_ERRLEN - 1 bytes), made printable:
 * it may quote a label or a file name. 0, or -ENOMEM (nothing appended). */
int notes_add(struct notes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void notes_free(struct notes *n);

#endif
