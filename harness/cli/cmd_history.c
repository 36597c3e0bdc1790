/* cmd_history.c — `slmbench history`: every run of a database over time. */
#include "cli.h"
#include "opts.h"
#include "history_report.h"

#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Lists every run of the database, oldest first, grouped by eval set (name, version and\n"
    "data hash: runs on different data are separate trends): date, run id, name, tags,\n"
    "status and, per candidate, accuracy, ECE and e2e p95 latency with their stored 95%\n"
    "intervals (as the report shows them). The HTML page adds one trend plot per eval set\n"
    "and metric, a line per candidate with the intervals as error bars (gnuplot; without\n"
    "it the page says so). Interrupted, failed and running runs are listed with a mark and\n"
    "never plotted; load tests are listed apart.\n";

typedef int (*hist_fn)(slm_store *, const slm_history_opts *, slm_buf *, char *, size_t);

static hist_fn pick(const char *format)
{
    if (!strcmp(format, "html"))
        return slm_history_html;
    if (!strcmp(format, "json"))
        return slm_history_json;
    if (!strcmp(format, "csv"))
        return slm_history_csv;
    return slm_history_markdown;
}

/* --out DIR: history.md (linking the plots), history.html (embedding them), history.json,
 * history.csv, and DIR/plots. */
static int write_all(slm_store *st, slm_history_opts *o, const char *dir)
{
    static const char *const fmt[] = {"md", "html", "json", "csv"};
    char err[SLM_ERRLEN];
    if (slm_mkdir_p(dir, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    o->plots_dir = dir; /* the Markdown links the plots, the HTML draws and embeds them */
    for (size_t i = 0; i < 4; i++) {
        slm_buf b = {0};
        int r = pick(fmt[i])(st, o, &b, err, sizeof err);
        char *name = slm_xasprintf("history.%s", fmt[i]);
        int rc = r ? slm_die(r > 0 ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE, "%s", err)
                   : slm_cli_write(dir, name, &b);
        free(name);
        slm_buf_free(&b);
        if (rc)
            return rc;
    }
    return SLM_EXIT_OK;
}

int cmd_history(int argc, char **argv)
{
    const char *db = "slmbench.db", *format = "md", *outdir = NULL;
    slm_history_opts o = {0};
    slm_opt opts[] = {
        {.name = "candidate", .arg = "NAME", .kind = SLM_OPT_STR, .target = &o.candidate,
         .needs = "a name", .help = "only the candidate NAME (runs without it are left out)"},
        SLM_OPT_DB(&db),
        {.name = "evalset", .arg = "NAME", .kind = SLM_OPT_STR, .target = &o.evalset,
         .needs = "a name", .help = "only the runs of eval set NAME"},
        {.name = "format", .arg = "F", .kind = SLM_OPT_STR, .target = &format,
         .help = "without --out, what goes to stdout: md (default), html (self-contained,\n"
                 "plots embedded), json or csv (one row per run and candidate)"},
        {.like = &slm_opt_json, .kind = SLM_OPT_CONST, .target = &format, .value = "json",
         .help = "the same as --format json"},
        {.name = "out", .arg = "DIR", .kind = SLM_OPT_STR, .target = &outdir, .needs = "a folder",
         .help = "write DIR/history.md, .html, .json and .csv, and the trend plots\n"
                 "DIR/plots/history_<k>_<metric>.{dat,gp,svg,png}"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "history",
        .synopsis = "history",
        .about = ABOUT,
        .footer = "Exit: 0, 2 usage, 3 no such eval set or candidate (the message lists\n"
                  "those there are), 4 runtime failure.\n",
        .opts = opts,
    };
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    rc = SLM_EXIT_OK;
    if (strcmp(format, "md") && strcmp(format, "html") && strcmp(format, "json") &&
        strcmp(format, "csv"))
        return slm_opts_usage_error(&cmd, "unknown format '%s' (md, html, json or csv)", format);
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (outdir) {
        rc = write_all(st, &o, outdir);
    } else {
        slm_buf b = {0};
        int r = pick(format)(st, &o, &b, err, sizeof err);
        if (r)
            rc = slm_die(r > 0 ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE, "%s", err);
        else
            fwrite(b.data ? b.data : "", 1, b.len, stdout);
        slm_buf_free(&b);
    }
    slm_store_close(st);
    return rc;
}
