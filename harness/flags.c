/*
 * flags.c: the one flag parser and --help generator (see flags.h).
 *
 * Values are read with units.h, so a duration, size, count or fraction
 * reads the same in every command. The parser never allocates: the table
 * is static, values point into argv, and the destination is written
 * through the entry's offset into the caller's options struct.
 */
#include "flags.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "units.h"

#define HELP_COLUMN 27

int flags_errf(char *err, const struct flag *f, const char *value, const char *fmt, ...)
{
    if (err) {
        int n = value ? snprintf(err, LG_ERRLEN, "--%s %s: ", f->name, value)
                      : snprintf(err, LG_ERRLEN, "--%s: ", f->name);
        if (n >= 0 && n < LG_ERRLEN) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, LG_ERRLEN - (size_t)n, fmt, ap);
            va_end(ap);
        }
        lg_printable(err);
    }
    return -EINVAL;
}

static int is_flag_entry(const struct flag *f)
{
    return f->kind != FLAG_SECTION;
}

const struct flag *flags_find(const struct flag_cmd *cmd, const char *name)
{
    int i = flags_index(cmd, name);
    return i < 0 ? NULL : &cmd->flags[i];
}

int flags_index(const struct flag_cmd *cmd, const char *name)
{
    for (const struct flag *f = cmd->flags; f->kind != FLAG_END; f++)
        if (is_flag_entry(f) && (strcmp(f->name, name) == 0 || (f->alias && strcmp(f->alias, name) == 0)))
            return (int)(f - cmd->flags);
    return -1;
}

int flags_takes_value(const struct flag_cmd *cmd, const char *name)
{
    const struct flag *f = flags_find(cmd, name);
    if (!f)
        return -1;
    return f->kind != FLAG_SWITCH && f->kind != FLAG_CALL_SWITCH;
}

static const struct flag *find_letter(const struct flag_cmd *cmd, char c)
{
    for (const struct flag *f = cmd->flags; f->kind != FLAG_END; f++)
        if (is_flag_entry(f) && f->letters && strchr(f->letters, c))
            return f;
    return NULL;
}

/* Levenshtein distance, capped: enough to suggest --threads for --thread. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int unknown(const struct flag_cmd *cmd, const char *as_typed, const char *name, char *err)
{
    /* The nearest long name within two edits; a name the typed one starts
     * ("--thr" for --threads) counts as one edit away. */
    const struct flag *best = NULL;
    size_t bestd = 3;
    for (const struct flag *f = cmd->flags; f->kind != FLAG_END; f++) {
        if (!is_flag_entry(f))
            continue;
        size_t d = distance(name, f->name);
        if (d > 1 && strlen(name) >= 3 && strncmp(f->name, name, strlen(name)) == 0)
            d = 1;
        if (d < bestd) {
            best = f;
            bestd = d;
        }
    }
    if (best)
        snprintf(err, LG_ERRLEN, "%s: unknown option; did you mean --%s? (see %s --help)", as_typed,
                 best->name, cmd->name);
    else
        snprintf(err, LG_ERRLEN, "%s: unknown option; see %s --help", as_typed, cmd->name);
    lg_printable(err);
    return -EINVAL;
}

static void *dest(void *opts, const struct flag *f)
{
    return (char *)opts + f->offset;
}

static int range_error(const struct flag *f, const char *v, double x, char *err)
{
    char lo[32], hi[32];
    if (f->kind == FLAG_DURATION) {
        units_format_duration((int64_t)f->min, lo, sizeof lo);
        units_format_duration((int64_t)f->max, hi, sizeof hi);
    } else if (f->kind == FLAG_SIZE) {
        units_format_size((uint64_t)f->min, lo, sizeof lo);
        units_format_size((uint64_t)f->max, hi, sizeof hi);
    } else {
        snprintf(lo, sizeof lo, "%.15g", f->min);
        snprintf(hi, sizeof hi, "%.15g", f->max);
    }
    if (x < f->min)
        return flags_errf(err, f, v, "must be at least %s", lo);
    if (f->kind == FLAG_DURATION)
        return flags_errf(err, f, v, "too long; at most %s", hi);
    return flags_errf(err, f, v, "must be at most %s", hi);
}

static int in_range(const struct flag *f, double x)
{
    return x >= f->min && (f->max == 0 || x <= f->max);
}

/* A plain decimal: digits, one optional point and sign, an optional
 * exponent; no blanks, hex, inf or nan (strtod takes all of those). */
static int parse_real(const char *s, double *out)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v) || strpbrk(s, "xXnN"))
        return -EINVAL;
    *out = v;
    return 0;
}

static int set_value(void *opts, const struct flag *f, const char *v, char *err)
{
    uint64_t u;
    int64_t d;
    double x;
    int rc;
    switch (f->kind) {
    case FLAG_SWITCH:
        *(int *)dest(opts, f) = 1;
        return 0;
    case FLAG_STRING:
        if (f->min > 0 && !*v)
            return flags_errf(err, f, NULL, "needs a value that is not empty");
        *(const char **)dest(opts, f) = v;
        return 0;
    case FLAG_COUNT:
    case FLAG_UINT:
        rc = units_parse_count(v, &u);
        if (rc == -ERANGE)
            return flags_errf(err, f, v, "too large");
        if (rc < 0)
            return flags_errf(err, f, v, "not a whole number; write e.g. 1000 or 10k");
        if (!in_range(f, (double)u) || (f->kind == FLAG_UINT && u > UINT32_MAX))
            return range_error(f, v, (double)u, err);
        if (f->kind == FLAG_UINT)
            *(unsigned *)dest(opts, f) = (unsigned)u;
        else
            *(uint64_t *)dest(opts, f) = u;
        return 0;
    case FLAG_DURATION:
        rc = units_parse_duration(v, &d);
        if (rc == -ERANGE)
            return flags_errf(err, f, v, "too long");
        if (rc < 0)
            return flags_errf(err, f, v, "not a duration; write e.g. 500ms, 30s, 2m or 1h "
                                         "(a bare number is seconds)");
        if (!in_range(f, (double)d))
            return range_error(f, v, (double)d, err);
        *(int64_t *)dest(opts, f) = d;
        return 0;
    case FLAG_SIZE:
        rc = units_parse_size(v, &u);
        if (rc == -ERANGE)
            return flags_errf(err, f, v, "too large");
        if (rc < 0)
            return flags_errf(err, f, v, "not a size; write e.g. 64MiB, 100KB or 512");
        if (!in_range(f, (double)u))
            return range_error(f, v, (double)u, err);
        *(uint64_t *)dest(opts, f) = u;
        return 0;
    case FLAG_FRACTION:
        if (units_parse_fraction(v, &x) < 0)
            return flags_errf(err, f, v, "not a fraction; write e.g. 10%% or 0.1 (from 0 to 1)");
        if (!in_range(f, x))
            return range_error(f, v, x, err);
        *(double *)dest(opts, f) = x;
        return 0;
    case FLAG_REAL:
        if (parse_real(v, &x) < 0)
            return flags_errf(err, f, v, "not a number; write e.g. 0.90");
        if (!in_range(f, x))
            return range_error(f, v, x, err);
        *(double *)dest(opts, f) = x;
        return 0;
    case FLAG_CHOICE:
        for (size_t i = 0; f->choices[i]; i++)
            if (strcmp(f->choices[i], v) == 0) {
                *(int *)dest(opts, f) = (int)i;
                return 0;
            }
        {
            char list[256] = "";
            size_t n = 0;
            while (f->choices[n])
                n++;
            for (size_t i = 0; i < n; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s",
                         i == 0 ? "" : (i + 1 == n ? " or " : ", "), f->choices[i]);
            }
            return flags_errf(err, f, v, "unknown; use %s", list);
        }
    case FLAG_CALL:
    case FLAG_CALL_SWITCH:
        return f->call(opts, f, v, err);
    case FLAG_END:
    case FLAG_SECTION:
        break;
    }
    return -EINVAL;
}

static int takes_value(const struct flag *f)
{
    return f->kind != FLAG_SWITCH && f->kind != FLAG_CALL_SWITCH;
}

/* Applies one flag; a positive return is FLAGS_HELP from a call. */
static int apply(const struct flag_cmd *cmd, const struct flag *f, const char *v, void *opts,
                 unsigned char *seen, char *err)
{
    int rc = set_value(opts, f, v, err);
    if (rc < 0 && err && !*err)
        flags_errf(err, f, v, "not valid here");
    if (rc >= 0 && seen)
        seen[f - cmd->flags] = 1;
    return rc;
}

static int missing(const struct flag_cmd *cmd, const char *as_typed, const struct flag *f, char *err)
{
    snprintf(err, LG_ERRLEN, "%s: needs a value (%s); see %s --help", as_typed,
             f->metavar ? f->metavar : "a value", cmd->name);
    lg_printable(err);
    return -EINVAL;
}

static int help_wanted(const struct flag_cmd *cmd, const char *a)
{
    if (strcmp(a, "--help") == 0)
        return !flags_find(cmd, "help");
    if (strcmp(a, "-h") == 0)
        return !find_letter(cmd, 'h');
    return 0;
}

int flags_parse(const struct flag_cmd *cmd, int argc, char **argv, void *opts,
                unsigned char *seen, char *err)
{
    int flags_done = 0;
    if (err)
        *err = '\0';
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || a[1] == '\0') {
            if (!cmd->arg) {
                snprintf(err, LG_ERRLEN, "'%s': unexpected argument; flags start with -- (see %s --help)",
                         a, cmd->name);
                lg_printable(err);
                return -EINVAL;
            }
            int rc = cmd->arg(opts, a, err);
            if (rc < 0)
                return rc;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            flags_done = 1;
            continue;
        }
        if (help_wanted(cmd, a)) {
            flags_usage(cmd, stdout);
            return FLAGS_HELP;
        }
        int rc;
        if (a[1] == '-') {
            char name[64];
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (n >= sizeof name)
                n = sizeof name - 1;
            memcpy(name, a + 2, n);
            name[n] = '\0';
            const struct flag *f = flags_find(cmd, name);
            if (!f) {
                char typed[80];
                snprintf(typed, sizeof typed, "--%s", name);
                return unknown(cmd, typed, name, err);
            }
            const char *v = NULL;
            if (takes_value(f)) {
                if (eq)
                    v = eq + 1;
                else if (i + 1 < argc)
                    v = argv[++i];
                else
                    return missing(cmd, a, f, err);
            } else if (eq) {
                return flags_errf(err, f, NULL, "takes no value; write --%s alone", f->name);
            }
            rc = apply(cmd, f, v, opts, seen, err);
        } else {
            rc = 0;
            for (const char *p = a + 1; *p && rc == 0; p++) {
                const struct flag *f = find_letter(cmd, *p);
                if (!f) {
                    char typed[3] = {'-', *p, '\0'};
                    snprintf(err, LG_ERRLEN, "%s: unknown option; see %s --help", typed, cmd->name);
                    lg_printable(err);
                    return -EINVAL;
                }
                if (!takes_value(f)) {
                    rc = apply(cmd, f, NULL, opts, seen, err);
                    continue;
                }
                const char *v;
                if (p[1])
                    v = p + 1;
                else if (i + 1 < argc)
                    v = argv[++i];
                else {
                    char typed[3] = {'-', *p, '\0'};
                    return missing(cmd, typed, f, err);
                }
                rc = apply(cmd, f, v, opts, seen, err);
                break;
            }
        }
        if (rc != 0)
            return rc;
    }
    return FLAGS_RUN;
}

/* Prints `text`, each '\n' continuing at the help column. */
static void put_help(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        fputc(*p, out);
        if (*p == '\n')
            fprintf(out, "%*s", HELP_COLUMN, "");
    }
}

void flags_usage(const struct flag_cmd *cmd, FILE *out)
{
    fprintf(out, "usage: %s\n", cmd->usage);
    if (cmd->about)
        fprintf(out, "\n%s\n", cmd->about);
    for (const struct flag *f = cmd->flags; f->kind != FLAG_END; f++) {
        if (f->kind == FLAG_SECTION) {
            fprintf(out, "\n%s\n", f->help);
            continue;
        }
        if (!f->help) /* hidden: kept for old command lines */
            continue;
        char left[128];
        int n;
        if (f->letters)
            n = snprintf(left, sizeof left, "  -%c, --%s", f->letters[0], f->name);
        else
            n = snprintf(left, sizeof left, "      --%s", f->name);
        if (f->metavar && takes_value(f))
            n += snprintf(left + n, sizeof left - (size_t)n, " %s", f->metavar);
        fputs(left, out);
        if (n + 2 > HELP_COLUMN)
            fprintf(out, "\n%*s", HELP_COLUMN, "");
        else
            fprintf(out, "%*s", HELP_COLUMN - n, "");
        put_help(out, f->help);
        if (f->alias)
            fprintf(out, " (also --%s)", f->alias);
        if (f->letters && f->letters[1])
            for (const char *l = f->letters + 1; *l; l++)
                fprintf(out, " (also -%c)", *l);
        fputc('\n', out);
    }
    /* -h/--help is every command's, unless its table takes the letter. */
    fprintf(out, "%-*s%s\n", HELP_COLUMN, find_letter(cmd, 'h') ? "      --help" : "  -h, --help",
            "this help");
    if (cmd->epilogue)
        fprintf(out, "\n%s", cmd->epilogue);
}
