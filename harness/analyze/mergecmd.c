/*
 * mergecmd.c: `loadgen merge RESULT.json... -o MERGED.json [--csv FILE] [-q]`,
 * the command line of merge.c: flags, the inputs read in order, the notes,
 * the writers. Every error is one line on stderr.
 */
#include <stdio.h>
#include <string.h>

#include "analyze/cmd.h"
#include "analyze/merge.h"
#include "common.h"
#include "fileio.h"

static const struct flag merge_flags[] = {
    {"out", "o", FLAG_STRING, ANALYZE_O(out), 1, 0, "FILE",
     "the merged JSON result (same schema; can be merged again)"},
    {"csv", NULL, FLAG_STRING, ANALYZE_O(csv), 1, 0, "FILE",
     "append each client's summary row, then the combined row"},
    ANALYZE_FLAG_QUIET,
    {0},
};

static const struct flag_cmd merge_cmd = {
    .name = "loadgen merge",
    .usage = "loadgen merge RESULT.json... -o MERGED.json [--csv SUMMARY.csv] [-q]",
    .about = "Combines the JSON results (loadgen --json) of one plan run on several client\n"
             "machines at the same time (start them with the same --start-at) into one result:\n"
             "counts add, histograms merge exactly, throughput is all completions over the\n"
             "union of the clients' windows. Levels match by mode, threads, rate and cycle.",
    .flags = merge_flags,
    .epilogue = "Refused (exit 2), naming the files: different schema versions or histogram\n"
                "settings, the same run twice, different levels, windows that do not overlap.\n",
};

int merge_main(int argc, char **argv)
{
    struct analyze_opts a = {0};
    struct merge *m = NULL;
    char err[LG_ERRLEN];
    int rc;
    if (!analyze_parse(&merge_cmd, &a, argc, argv, &rc))
        goto done;
    rc = LG_EXIT_USAGE;
    if (a.ninputs == 0 || !a.out) {
        analyze_say(&a, rc, "%s; e.g. loadgen merge east.json west.json -o merged.json",
                    a.ninputs ? "give -o FILE for the merged result" : "give the JSON results to merge");
        goto done;
    }
    const char *const flags[] = {"-o", "--csv"};
    const char *const paths[] = {a.out, a.csv};
    const enum fileio_kind kinds[] = {FILEIO_JSON, FILEIO_CSV_SUMMARY};
    if (fileio_check_outputs(flags, paths, kinds, 2, err) < 0) {
        analyze_say(&a, rc, "%s", err);
        goto done;
    }
    if (!(m = merge_create())) {
        rc = analyze_say(&a, LG_EXIT_FAIL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < a.ninputs; i++) {
        const char *in = a.inputs[i];
        if (strcmp(in, a.out) == 0 || (a.csv && strcmp(in, a.csv) == 0)) {
            analyze_say(&a, rc, "%s is an input and an output; write the merge to a new file", in);
            goto done;
        }
        if (merge_add_file(m, in, err) < 0) {
            analyze_say(&a, rc, "%s", err);
            goto done;
        }
    }
    if (merge_finish(m, err) < 0) {
        analyze_say(&a, rc, "%s", err);
        goto done;
    }
    const struct notes *notes = merge_notes(m);
    for (size_t i = 0; !a.quiet && i < notes->n; i++)
        analyze_say(&a, 0, "note: %s", notes->v[i]);
    rc = LG_EXIT_OK;
    if (merge_write_json(m, a.out, err) < 0)
        rc = analyze_say(&a, LG_EXIT_FAIL, "%s", err);
    if (a.csv && merge_write_csv(m, a.csv, err) < 0)
        rc = analyze_say(&a, LG_EXIT_FAIL, "%s", err);
    /* The summary is chatter beside an output on stdout (-o -, --csv -). */
    merge_write_text(m, fileio_is_stdout(a.out) || (a.csv && fileio_is_stdout(a.csv)) ? stderr
                                                                                     : stdout);
done:
    merge_destroy(m);
    analyze_done(&a);
    return rc;
}
