/* cmd_drift.c — `slmbench drift`: the monthly drift review of stored runs. */
#include "cli.h"
#include "drift.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: slmbench drift [--month YYYY-MM | --from YYYY-MM --to YYYY-MM] [--db FILE]\n"
    "                      [--out DIR] [--format md|html|json]\n"
    "                      [--metrics accuracy,macro_f1,ece_15,e2e_ms_p95] [--fail-on-drift]\n"
    "\n"
    "Month-by-month history of every deployed model (candidate name) on every eval set:\n"
    "a month's value is that of the latest complete run of the month (runs.created_at, UTC).\n"
    "A value is flagged when it lies outside the previous month's 95% interval; a metric\n"
    "without an interval (latency) when it moved by more than 20% from the previous month.\n"
    "Also listed: per-class recall/F1 shifts beyond 0.10, and label-distribution drift\n"
    "(total variation distance, chi-square test) where an eval set's version or sha256\n"
    "changed.\n"
    "\n"
    "  --month M        the 6 months ending at M (M included); default: the month of the\n"
    "                   newest complete run\n"
    "  --from A --to B  an explicit window, both months included\n"
    "  --db FILE        the database (default slmbench.db)\n"
    "  --out DIR        write DIR/drift.md, DIR/drift.html (self-contained, charts embedded),\n"
    "                   DIR/drift.json and DIR/plots/drift_<metric>.{dat,gp,svg,png}\n"
    "                   (charts need gnuplot; without it they are left out with a note)\n"
    "  --format F       without --out, what goes to stdout: md (default), html or json\n"
    "  --metrics LIST   comma-separated metric names (default accuracy,macro_f1,ece_15,\n"
    "                   e2e_ms_p95)\n"
    "  --fail-on-drift  exit 1 when any change is flagged\n"
    "\n"
    "exit codes: 0 ok, 1 a change flagged with --fail-on-drift, 2 usage, 3 bad input\n"
    "            (bad month, missing database), 4 a file could not be written\n";

#define WINDOW_MONTHS 6

static int write_out(const char *dir, const char *name, const slm_buf *b)
{
    char err[SLM_ERRLEN];
    char *path = slm_xasprintf("%s/%s", dir, name);
    int bad = slm_write_file_atomic(path, b->data ? b->data : "", b->len, err, sizeof err);
    if (bad)
        slm_die(SLM_EXIT_ENGINE, "%s", err);
    else
        fprintf(stderr, "slmbench: wrote %s\n", path);
    free(path);
    return bad;
}

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
    else if (write_out(dir, "drift.md", &md) || write_out(dir, "drift.html", &html) ||
             write_out(dir, "drift.json", &json))
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

int cmd_drift(int argc, char **argv)
{
    const char *db = "slmbench.db", *format = "md", *outdir = NULL, *month = NULL;
    const char *from = NULL, *to = NULL, *metrics = NULL;
    int fail_on_drift = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = 0;
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        }
        if ((r = slm_opt_value(argc, argv, &i, "db", &v)) > 0)
            db = v;
        else if (!r && (r = slm_opt_value(argc, argv, &i, "format", &v)) > 0)
            format = v;
        else if (!r && (r = slm_opt_value(argc, argv, &i, "out", &v)) > 0)
            outdir = v;
        else if (!r && (r = slm_opt_value(argc, argv, &i, "month", &v)) > 0)
            month = v;
        else if (!r && (r = slm_opt_value(argc, argv, &i, "from", &v)) > 0)
            from = v;
        else if (!r && (r = slm_opt_value(argc, argv, &i, "to", &v)) > 0)
            to = v;
        else if (!r && (r = slm_opt_value(argc, argv, &i, "metrics", &v)) > 0)
            metrics = v;
        else if (r < 0)
            return slm_usage_error(USAGE, "option '%s' needs a value", argv[i]);
        else if (slm_opt_flag(argv[i], "fail-on-drift"))
            fail_on_drift = 1;
        else if (slm_opt_flag(argv[i], "json"))
            format = "json";
        else
            return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (strcmp(format, "md") && strcmp(format, "html") && strcmp(format, "json"))
        return slm_usage_error(USAGE, "unknown format '%s' (md, html or json)", format);
    if (month && (from || to))
        return slm_usage_error(USAGE, "give either --month or --from/--to, not both");
    if (!from != !to)
        return slm_usage_error(USAGE, "--from and --to go together");

    /* metric names: checked against the field table before anything is opened */
    char **names = NULL;
    size_t nnames = 0;
    if (metrics) {
        char *copy = slm_xstrdup(metrics), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            t = slm_trim(t);
            if (!*t)
                continue;
            if (!slm_field_find(t) || nnames >= SLM_DRIFT_MAX_METRICS) {
                int too_many = nnames >= SLM_DRIFT_MAX_METRICS;
                char *bad = slm_xstrdup(t);
                free(copy);
                free_list(names, nnames);
                int rc = too_many ? slm_usage_error(USAGE, "at most %d metrics",
                                                    SLM_DRIFT_MAX_METRICS)
                                  : slm_usage_error(USAGE, "unknown metric '%s' (see fields.c "
                                                           "or `slmbench report --json`)", bad);
                free(bad);
                return rc;
            }
            names = slm_xrealloc(names, (nnames + 1) * sizeof *names);
            names[nnames++] = slm_xstrdup(t);
        }
        free(copy);
        if (!nnames)
            return slm_usage_error(USAGE, "--metrics names no metric");
    }

    char err[SLM_ERRLEN];
    slm_drift_opts o = {0};
    o.metrics = (const char *const *)names;
    o.n_metrics = nnames;
    if (month && slm_drift_parse_month(month, &o.to_year, &o.to_month, err, sizeof err)) {
        free_list(names, nnames);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    if (from && (slm_drift_parse_month(from, &o.from_year, &o.from_month, err, sizeof err) ||
                 slm_drift_parse_month(to, &o.to_year, &o.to_month, err, sizeof err))) {
        free_list(names, nnames);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err)) {
        free_list(names, nnames);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    int rc = SLM_EXIT_OK;
    slm_drift *d = NULL;
    if (!month && !from &&
        slm_drift_latest_month(st, &o.to_year, &o.to_month, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s (give --month or --from/--to)", err);
        goto out;
    }
    if (!from) {
        long last = (long)o.to_year * 12 + o.to_month - 1, first = last - (WINDOW_MONTHS - 1);
        o.from_year = (int)(first / 12);
        o.from_month = (int)(first % 12) + 1;
    }
    if (slm_drift_compute(st, &o, &d, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        goto out;
    }
    if (!slm_drift_n_series(d))
        fprintf(stderr, "slmbench: note: no complete run between %04d-%02d and %04d-%02d\n",
                o.from_year, o.from_month, o.to_year, o.to_month);
    if (outdir) {
        rc = write_all(d, outdir);
    } else {
        slm_buf b = {0};
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
    }
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
