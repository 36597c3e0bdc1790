/* cmd_drift.c — `slmbench drift`: the monthly drift review of stored runs. */
#include "cli.h"
#include "drift.h"
#include "opts.h"

#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Month-by-month history of every deployed model (candidate name) on every eval set:\n"
    "a month's value is that of the latest complete run of the month (by runs.as_of where\n"
    "the run was dated with run --as-of, else runs.created_at; UTC).\n"
    "Each month is compared with the previous one by a test of the difference, from the\n"
    "stored predictions (paired by example id on the same eval-set data): accuracy and\n"
    "per-class recall by McNemar's test, or Fisher's exact / Yates' chi-square test;\n"
    "macro-F1 and ECE by a seeded bootstrap of the difference. Latency is judged only as a\n"
    "ratio to --latency-reference measured in the same run (and not on a loaded machine).\n"
    "Label-distribution drift where an eval set's version or sha256 changed: TVD beside\n"
    "its value with no drift, chi-square (Yates at df = 1), Fisher or Monte-Carlo test.\n"
    "All tests are adjusted together by Benjamini-Hochberg; flagged: adjusted p < alpha.\n"
    "With --deployment NAME: the review of a production log instead (see\n"
    "`slmbench drift --deployment x --help`).\n";

static const char FOOTER[] =
    "exit codes: 0 ok, 1 a change flagged with --fail-on-drift, 2 usage, 3 bad input\n"
    "            (bad month, missing database), 4 a file could not be written\n";

#define WINDOW_MONTHS 6

static int write_all(const slm_drift *d, const char *dir)
{
    char err[SLM_ERRLEN];
    if (slm_mkdir_p(dir, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    slm_drift_charts ch;
    if (slm_drift_charts_write(d, dir, &ch, err, sizeof err)) {
        slm_drift_charts_free(&ch);
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    }
    slm_buf md = {0}, html = {0}, json = {0};
    int rc = SLM_EXIT_OK;
    slm_drift_markdown(d, &ch, &md);
    slm_drift_html(d, &ch, dir, &html);
    if (slm_drift_json(d, &json, err, sizeof err))
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    else if (slm_cli_write(dir, "drift.md", &md) || slm_cli_write(dir, "drift.html", &html) ||
             slm_cli_write(dir, "drift.json", &json))
        rc = SLM_EXIT_ENGINE;
    else if (ch.note)
        fprintf(stderr, "slmbench: note: %s\n", ch.note);
    slm_buf_free(&md), slm_buf_free(&html), slm_buf_free(&json);
    slm_drift_charts_free(&ch);
    return rc;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* --metrics LIST: names checked against the field table before anything is opened.
 * Returns SLM_OPTS_GO with *names filled (caller frees with free_list), or an exit code. */
static int parse_metrics(const slm_cmd *cmd, const char *list, char ***names, size_t *n)
{
    char *copy = slm_xstrdup(list), *save = NULL;
    int rc = SLM_OPTS_GO;
    *names = NULL;
    *n = 0;
    for (char *t = strtok_r(copy, ",", &save); t && rc == SLM_OPTS_GO;
         t = strtok_r(NULL, ",", &save)) {
        t = slm_trim(t);
        if (!*t)
            continue;
        if (*n >= SLM_DRIFT_MAX_METRICS)
            rc = slm_opts_usage_error(cmd, "at most %d metrics", SLM_DRIFT_MAX_METRICS);
        else if (!slm_field_find(t))
            rc = slm_opts_usage_error(cmd, "unknown metric '%s' (see fields.c or `slmbench "
                                           "report --json`)", t);
        else {
            *names = slm_xrealloc(*names, (*n + 1) * sizeof **names);
            (*names)[(*n)++] = slm_xstrdup(t);
        }
    }
    free(copy);
    if (rc == SLM_OPTS_GO && !*n)
        rc = slm_opts_usage_error(cmd, "--metrics names no metric");
    if (rc != SLM_OPTS_GO) {
        free_list(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return rc;
}

/* The window of months into o: --month M (the 6 months ending at M), --from/--to, or
 * the 6 months ending at the newest complete run. Returns an exit code, 0 when set. */
static int set_window(slm_store *st, slm_drift_opts *o, const char *month, const char *from,
                      const char *to)
{
    char err[SLM_ERRLEN];
    if (month && slm_drift_parse_month(month, &o->to_year, &o->to_month, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (from && (slm_drift_parse_month(from, &o->from_year, &o->from_month, err, sizeof err) ||
                 slm_drift_parse_month(to, &o->to_year, &o->to_month, err, sizeof err)))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (!st)
        return SLM_EXIT_OK;
    if (!month && !from &&
        slm_drift_latest_month(st, &o->to_year, &o->to_month, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s (give --month or --from/--to)", err);
    if (!from) {
        long last = (long)o->to_year * 12 + o->to_month - 1, first = last - (WINDOW_MONTHS - 1);
        o->from_year = (int)(first / 12);
        o->from_month = (int)(first % 12) + 1;
    }
    return SLM_EXIT_OK;
}

/* Without --out: the review in one format on stdout. */
static int write_stdout(const slm_drift *d, const char *format)
{
    char err[SLM_ERRLEN];
    slm_buf b = {0};
    int rc = SLM_EXIT_OK;
    if (!strcmp(format, "json")) {
        if (slm_drift_json(d, &b, err, sizeof err))
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    } else if (!strcmp(format, "html")) {
        slm_drift_html(d, NULL, NULL, &b);
    } else {
        slm_drift_markdown(d, NULL, &b);
    }
    if (!rc)
        fwrite(b.data, 1, b.len, stdout);
    slm_buf_free(&b);
    return rc;
}

/* --deployment anywhere in argv: the review of a production log (cmd_prodreview.c). */
static int wants_deployment(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--deployment") || !strncmp(argv[i], "--deployment=", 13))
            return 1;
    return 0;
}

int cmd_drift(int argc, char **argv)
{
    if (wants_deployment(argc, argv))
        return cmd_prodreview(argc, argv);
    const char *db = "slmbench.db", *format = "md", *outdir = NULL, *month = NULL;
    const char *from = NULL, *to = NULL, *metrics = NULL, *reference = NULL;
    int fail_on_drift = 0;
    double alpha = SLM_DRIFT_ALPHA;
    long reps = SLM_DRIFT_REPS, seed = SLM_DRIFT_SEED;
    slm_opt opts[] = {
        {.name = "month", .arg = "M", .kind = SLM_OPT_STR, .target = &month,
         .help = "the 6 months ending at M (M included); default: the month of the\n"
                 "newest complete run"},
        {.name = "from", .arg = "A", .kind = SLM_OPT_STR, .target = &from,
         .help = "with --to B: an explicit window, both months included"},
        {.name = "to", .arg = "B", .kind = SLM_OPT_STR, .target = &to,
         .help = "the last month of the --from window"},
        SLM_OPT_DB(&db),
        {.name = "out", .arg = "DIR", .kind = SLM_OPT_STR, .target = &outdir,
         .help = "write DIR/drift.md, DIR/drift.html (self-contained, charts embedded),\n"
                 "DIR/drift.json and DIR/plots/drift_<metric>.{dat,gp,svg,png}\n"
                 "(charts need gnuplot; without it they are left out with a note)"},
        {.name = "format", .arg = "F", .kind = SLM_OPT_STR, .target = &format,
         .help = "without --out, what goes to stdout: md (default), html or json"},
        {.like = &slm_opt_json, .kind = SLM_OPT_CONST, .target = &format, .value = "json",
         .help = "the same as --format json"},
        {.name = "metrics", .arg = "LIST", .kind = SLM_OPT_STR, .target = &metrics,
         .help = "comma-separated metric names (default accuracy,macro_f1,ece_15,\n"
                 "e2e_ms_p95)"},
        {.name = "alpha", .arg = "A", .kind = SLM_OPT_DOUBLE, .target = &alpha,
         .help = "flag a change when its Benjamini-Hochberg adjusted p is below A\n"
                 "(0 < A < 1, default 0.05)"},
        {.name = "latency-reference", .arg = "NAME", .kind = SLM_OPT_STR, .target = &reference,
         .help = "judge latency as a ratio to candidate NAME measured in the same run;\n"
                 "without it latency is shown, not judged"},
        {.name = "reps", .arg = "N", .kind = SLM_OPT_LONG, .target = &reps, .min = 100,
         .needs = "an integer of at least 100",
         .help = "bootstrap and permutation replicates (default 1000)"},
        {.name = "seed", .arg = "S", .kind = SLM_OPT_LONG, .target = &seed, .min = 1,
         .needs = "a positive integer", .help = "seed of the review's bootstraps (default 1)"},
        {.name = "fail-on-drift", .kind = SLM_OPT_FLAG, .target = &fail_on_drift,
         .help = "exit 1 when any change is flagged"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "drift",
        .synopsis = "drift [--month YYYY-MM | --from YYYY-MM --to YYYY-MM]",
        .about = ABOUT,
        .footer = FOOTER,
        .opts = opts,
    };
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    if (strcmp(format, "md") && strcmp(format, "html") && strcmp(format, "json"))
        return slm_opts_usage_error(&cmd, "unknown format '%s' (md, html or json)", format);
    if (month && (from || to))
        return slm_opts_usage_error(&cmd, "give either --month or --from/--to, not both");
    if (!from != !to)
        return slm_opts_usage_error(&cmd, "--from and --to go together");
    if (!(alpha > 0 && alpha < 1))
        return slm_opts_usage_error(&cmd, "--alpha must lie between 0 and 1, got %g", alpha);
    if (reps > 1000000)
        return slm_opts_usage_error(&cmd, "--reps: at most 1000000, got %ld", reps);
    if (reference && !*reference)
        return slm_opts_usage_error(&cmd, "--latency-reference names no candidate");
    char **names = NULL;
    size_t nnames = 0;
    if (metrics && (rc = parse_metrics(&cmd, metrics, &names, &nnames)) != SLM_OPTS_GO)
        return rc;

    char err[SLM_ERRLEN];
    slm_drift_opts o = {0};
    o.metrics = (const char *const *)names;
    o.n_metrics = nnames;
    o.alpha = alpha;
    o.reps = (int)reps;
    o.seed = (uint64_t)seed;
    o.latency_reference = reference;
    slm_store *st = NULL;
    slm_drift *d = NULL;
    /* the months are checked before the database is opened */
    if ((rc = set_window(NULL, &o, month, from, to)) != SLM_EXIT_OK)
        goto out;
    if (slm_store_open(db, 0, &st, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        goto out;
    }
    if ((rc = set_window(st, &o, month, from, to)) != SLM_EXIT_OK)
        goto out;
    if (slm_drift_compute(st, &o, &d, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        goto out;
    }
    if (!slm_drift_n_series(d))
        fprintf(stderr, "slmbench: note: no complete run between %04d-%02d and %04d-%02d\n",
                o.from_year, o.from_month, o.to_year, o.to_month);
    rc = outdir ? write_all(d, outdir) : write_stdout(d, format);
    if (!rc && slm_drift_n_flagged(d)) {
        fprintf(stderr, "slmbench: %zu change%s flagged\n", slm_drift_n_flagged(d),
                slm_drift_n_flagged(d) == 1 ? "" : "s");
        if (fail_on_drift)
            rc = SLM_EXIT_FAIL;
    }
out:
    slm_drift_free(d);
    slm_store_close(st);
    free_list(names, nnames);
    return rc;
}
