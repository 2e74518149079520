/*
 * cmd.c: the analysis commands' shared skeleton (see cmd.h).
 */
#include "analyze/cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

const char *const analyze_chart_formats[] = {"png", "svg", "pdf", NULL};
const char *const analyze_table_formats[] = {"text", "csv", "markdown", NULL};

int analyze_flag_by(void *opts, const struct flag *f, const char *v, char *err)
{
    struct analyze_opts *o = opts;
    if (results_parse_dim(v, &o->by) < 0)
        return flags_errf(err, f, v, "write label, region or model");
    return 0;
}

int analyze_flag_csv_table(void *opts, const struct flag *f, const char *v, char *err)
{
    ((struct analyze_opts *)opts)->table_format = ANALYZE_TABLE_CSV;
    return 0;
}

int analyze_flag_markdown_table(void *opts, const struct flag *f, const char *v, char *err)
{
    ((struct analyze_opts *)opts)->table_format = ANALYZE_TABLE_MARKDOWN;
    return 0;
}

int analyze_say(const struct analyze_opts *o, int code, const char *fmt, ...)
{
    char msg[LG_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", o->name, lg_printable(msg));
    return code;
}

static int collect(void *opts, const char *arg, char *err)
{
    struct analyze_opts *o = opts;
    o->inputs[o->ninputs++] = arg; /* room for argc was made */
    return 0;
}

int analyze_parse(const struct flag_cmd *cmd, struct analyze_opts *o, int argc, char **argv,
                  int *exit_code)
{
    char err[LG_ERRLEN];
    struct flag_cmd c = *cmd;
    c.arg = collect;
    o->name = cmd->name;
    o->ninputs = 0;
    if (!(o->inputs = calloc((size_t)argc + 1, sizeof *o->inputs))) {
        *exit_code = analyze_say(o, LG_EXIT_FAIL, "out of memory");
        return 0;
    }
    int rc = flags_parse(&c, argc, argv, o, NULL, err);
    if (rc < 0) {
        *exit_code = analyze_say(o, LG_EXIT_USAGE, "%s", err);
        return 0;
    }
    if (rc == FLAGS_HELP) {
        *exit_code = LG_EXIT_OK;
        return 0;
    }
    return 1;
}

int analyze_load(struct analyze_opts *o, const char *hint, int *exit_code)
{
    char err[LG_ERRLEN];
    if (!(o->r = results_create())) {
        *exit_code = analyze_say(o, LG_EXIT_FAIL, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < o->ninputs; i++) {
        if (results_load(o->r, o->inputs[i], err) < 0) {
            *exit_code = analyze_say(o, LG_EXIT_USAGE, "%s", err);
            return 0;
        }
        struct stat st;
        if (!o->firstdir && stat(o->inputs[i], &st) == 0 && S_ISDIR(st.st_mode))
            o->firstdir = o->inputs[i];
    }
    if (o->ninputs == 0) {
        o->firstdir = "results";
        if (results_load(o->r, "results", err) < 0) {
            *exit_code = analyze_say(o, LG_EXIT_USAGE, "%s; %s", err, hint);
            return 0;
        }
    }
    if (results_finish(o->r, err) < 0) {
        *exit_code = analyze_say(o, LG_EXIT_USAGE, "%s", err);
        return 0;
    }
    for (size_t i = 0; !o->quiet && i < o->r->notes.n; i++)
        fprintf(stderr, "%s: %s\n", o->name, o->r->notes.v[i]);
    return 1;
}

void analyze_done(struct analyze_opts *o)
{
    results_destroy(o->r);
    o->r = NULL;
    free(o->inputs);
    o->inputs = NULL;
}
