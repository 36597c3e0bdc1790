/* cmd_diff.c — `slmbench diff`: the examples whose prediction changed between two runs. */
#include "cli.h"
#include "opts.h"
#include "diff_report.h"

#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Pairs the predictions of a candidate in run A and run B by example id and lists what\n"
    "changed: fixed (wrong in A, right in B), broken (right in A, wrong in B) and changed\n"
    "but still wrong; a count table with the net change and McNemar's p over the discordant\n"
    "pairs (exact binomial below 25 of them), a table by gold class, then the changed\n"
    "examples (broken first) with both answers, both confidences and the text, read from\n"
    "the eval set file recorded with run B (cut after 160 characters with '…'; the CSV has\n"
    "it whole). A failed engine call counts as a wrong answer, as in the accuracy.\n"
    "RUN is a run id, a tag, a run name or 'last'; RUN:NAME picks the candidate NAME of\n"
    "that run (two candidates of one run compare too). Without a name, --candidate NAME\n"
    "is used for both runs, else a run's only candidate. Runs on different eval-set data\n"
    "are compared on the example ids both have, with a warning saying how many were left\n"
    "out. The same run twice says \"No changes\" and exits 0.\n";

static int emit(slm_store *st, const slm_diff_opts *o, const char *format, slm_buf *b,
                char *err, size_t errlen)
{
    if (!strcmp(format, "html"))
        return slm_diff_html(st, o, b, err, errlen);
    if (!strcmp(format, "csv"))
        return slm_diff_csv(st, o, b, err, errlen);
    return slm_diff_markdown(st, o, b, err, errlen);
}

/* --out DIR: diff.md, diff.html and diff.csv; the warnings once. */
static int write_all(slm_store *st, slm_diff_opts *o, const char *dir)
{
    static const char *const fmt[] = {"md", "html", "csv"};
    char err[SLM_ERRLEN];
    if (slm_mkdir_p(dir, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    slm_buf *warn = o->warn;
    for (size_t i = 0; i < 3; i++) {
        slm_buf b = {0};
        int r = emit(st, o, fmt[i], &b, err, sizeof err);
        o->warn = NULL; /* the same notes each time: said once */
        char *name = slm_xasprintf("diff.%s", fmt[i]);
        int rc = r ? slm_die(r > 0 ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE, "%s", err)
                   : slm_cli_write(dir, name, &b);
        free(name);
        slm_buf_free(&b);
        if (rc) {
            o->warn = warn;
            return rc;
        }
    }
    o->warn = warn;
    return SLM_EXIT_OK;
}

int cmd_diff(int argc, char **argv)
{
    const char *db = "slmbench.db", *format = "md", *outdir = NULL, *cand = NULL;
    long limit = 200;
    slm_opt opts[] = {
        {.name = "candidate", .arg = "NAME", .kind = SLM_OPT_STR, .target = &cand,
         .needs = "a name",
         .help = "the candidate compared, in a run given without :NAME"},
        SLM_OPT_DB(&db),
        {.name = "format", .arg = "F", .kind = SLM_OPT_STR, .target = &format,
         .help = "without --out, what goes to stdout: md (default), html or csv (one row\n"
                 "per changed example: id,gold,change,before,after,confidence_before,\n"
                 "confidence_after,text)"},
        {.name = "limit", .arg = "N", .kind = SLM_OPT_LONG, .target = &limit, .min = 0,
         .needs = "a whole number",
         .help = "list at most N changed examples in Markdown and HTML (default 200;\n"
                 "0: all); the counts and the CSV cover every one"},
        {.name = "out", .arg = "DIR", .kind = SLM_OPT_STR, .target = &outdir, .needs = "a folder",
         .help = "write DIR/diff.md, DIR/diff.html (self-contained) and DIR/diff.csv"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "diff",
        .synopsis = "diff RUN_A[:NAME] RUN_B[:NAME]",
        .about = ABOUT,
        .footer = "Exit: 0 (also when nothing changed), 2 usage, 3 unknown run or candidate,\n"
                  "4 runtime failure.\n",
        .opts = opts,
        .max_pos = 2,
    };
    const char *pos[2] = {NULL, NULL};
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, pos, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    rc = SLM_EXIT_OK;
    if (np < 2)
        return slm_opts_usage_error(&cmd, np ? "missing RUN_B" : "missing RUN_A and RUN_B");
    if (strcmp(format, "md") && strcmp(format, "html") && strcmp(format, "csv"))
        return slm_opts_usage_error(&cmd, "unknown format '%s' (md, html or csv)", format);
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    slm_buf warn = {0}, b = {0};
    slm_diff_opts o = {.run_a = pos[0], .run_b = pos[1], .candidate = cand, .limit = limit,
                       .warn = &warn};
    if (outdir) {
        rc = write_all(st, &o, outdir);
    } else {
        int r = emit(st, &o, format, &b, err, sizeof err);
        if (r)
            rc = slm_die(r > 0 ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE, "%s", err);
        else
            fwrite(b.data ? b.data : "", 1, b.len, stdout);
    }
    for (const char *l = warn.data; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        slm_say(stderr, "slmbench: warning: %.*s\n", (int)n, l);
        l += n + (e ? 1 : 0);
    }
    slm_buf_free(&warn);
    slm_buf_free(&b);
    slm_store_close(st);
    return rc;
}
