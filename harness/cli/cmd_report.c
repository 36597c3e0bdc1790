/* cmd_report.c — `slmbench report`: the comparison report of stored runs. */
#include "cli.h"
#include "examples_html.h"
#include "json_out.h"
#include "load_read.h"
#include "mdfit.h"
#include "opts.h"
#include "report_classes.h"
#include "store_load.h"
#include "store_refs.h"
#include "store_reports.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char ABOUT[] =
    "Writes the report of one or more stored runs (side by side). RUN is a run id, a tag,\n"
    "a run name or 'last'. Without --out, the chosen format goes to stdout. With --out DIR:\n"
    "DIR/report.md (for pull-request comments), DIR/report.html (self-contained: plots\n"
    "embedded, sortable tables, no network access), DIR/report.json, DIR/per_class.csv\n"
    "(every candidate's precision, recall, F1 and support per label), DIR/examples.html\n"
    "(the first run's predictions example by example, filtered by class, correctness and\n"
    "confidence), and DIR/plots/ (each\n"
    "plot as SVG and PNG with its data file and gnuplot script; needs gnuplot).\n"
    "A load test (a run of `slmbench load`) is reported alone: its load section, with the\n"
    "charts of latency, goodput and achieved rate against the offered rate and the\n"
    "TTFT/E2E CDFs of each level.\n";

/* "Not drawn: a, b: why; c: why." for the plots of pr not drawn, one reason once (without
 * gnuplot every plot has the same one); nothing when all were drawn. */
static void skipped_note(const slm_plots_result *pr, slm_buf *note)
{
    if (pr->n_drawn >= pr->n)
        return;
    for (size_t i = 0; i < pr->n; i++) {
        if (!pr->plots[i].skipped)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = pr->plots[j].skipped && !strcmp(pr->plots[j].skipped, pr->plots[i].skipped);
        if (seen)
            continue;
        slm_buf_printf(note, "%s", note->len ? "; " : "Not drawn: ");
        for (size_t j = i, k = 0; j < pr->n; j++)
            if (pr->plots[j].skipped && !strcmp(pr->plots[j].skipped, pr->plots[i].skipped))
                slm_buf_printf(note, "%s%s", k++ ? ", " : "", pr->plots[j].name);
        slm_buf_printf(note, ": %s", pr->plots[i].skipped);
    }
    slm_buf_puts(note, ".");
}

/* report.html opens with links to the files `report --out` writes beside it (the page is
 * only ever read from that folder): every example, filterable; the per-class rows; JSON. */
static void link_files(slm_buf *html)
{
    const char *at = html->data ? strstr(html->data, "<body>\n") : NULL;
    if (!at)
        return;
    size_t head = (size_t)(at - html->data) + strlen("<body>\n");
    slm_buf out = {0};
    slm_buf_append(&out, html->data, head);
    slm_buf_puts(&out, "<p class=\"files\">Beside this page: <a href=\"examples.html\">every "
                       "example</a> (filter by class, correctness, confidence) · <a "
                       "href=\"per_class.csv\">per_class.csv</a> · <a href=\"report.json\">"
                       "report.json</a> · <a href=\"report.md\">report.md</a></p>\n");
    slm_buf_append(&out, html->data + head, html->len - head);
    slm_buf_free(html);
    *html = out;
}

/* --out DIR: plots, then Markdown (plots linked), HTML (plots embedded) and JSON. */
static int write_all(slm_store *st, const int64_t *ids, size_t n, const char *dir, int no_plots)
{
    char err[SLM_ERRLEN];
    if (slm_mkdir_p(dir, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    slm_plots_result pr;
    memset(&pr, 0, sizeof pr);
    slm_buf note = {0};
    if (no_plots) {
        slm_buf_puts(&note, "Plots were not drawn (--no-plots).");
    } else if (slm_plots_write(st, ids, n, dir, &pr, err, sizeof err)) {
        slm_buf_printf(&note, "Plots were skipped: %s", err);
    } else {
        skipped_note(&pr, &note);
    }
    /* paths relative to the report, so the folder can be moved or attached as a whole */
    slm_figure *figs = slm_xcalloc(pr.n + 1, sizeof *figs);
    char **svg_paths = slm_xcalloc(pr.n + 1, sizeof *svg_paths);
    size_t nf = 0;
    slm_buf md = {0}, html = {0}, json = {0}, csv = {0}, ex = {0};
    int rc = SLM_EXIT_OK;
    if (slm_report_markdown(st, ids, n, &md, err, sizeof err) ||
        slm_report_json(st, ids, n, &json, err, sizeof err) ||
        slm_report_classes_csv(st, ids, n, &csv, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        goto done;
    }
    slm_buf_puts(&md, "\n## Plots\n\n");
    if (note.len)
        slm_buf_printf(&md, "%s\n\n", note.data);
    for (size_t i = 0; i < pr.n; i++) {
        slm_plot *p = &pr.plots[i];
        if (p->skipped || !p->svg)
            continue;
        /* slm_plots_write returns paths relative to the report folder */
        const char *rel_svg = p->svg, *rel_png = p->png, *rel_dat = p->data;
        /* captions carry candidate and label names: escaped like every other string */
        slm_buf_puts(&md, "![");
        slm_md_cell(&md, p->name);
        slm_buf_printf(&md, "](%s)\n\n", rel_png ? rel_png : rel_svg);
        slm_md_cell(&md, p->caption ? p->caption : p->name);
        slm_buf_printf(&md, " (data: `%s`)\n\n", rel_dat ? rel_dat : "-");
        /* the plot paths are relative to the report folder, or absolute */
        svg_paths[nf] = p->svg[0] == '/' ? slm_xstrdup(p->svg) : slm_xasprintf("%s/%s", dir, p->svg);
        figs[nf] = (slm_figure){p->name, p->caption, svg_paths[nf], rel_dat};
        nf++;
    }
    if (slm_md_fit(&md, SLM_REPORT_MAX_MD_CHARS, "report.html, report.json and per_class.csv"))
        fprintf(stderr, "slmbench: note: report.md was cut to fit a pull-request comment "
                        "(at most %d characters); report.html has everything\n",
                SLM_REPORT_MAX_MD_CHARS);
    if (slm_report_html(st, ids, n, figs, nf, note.data, &html, err, sizeof err) ||
        slm_examples_html(st, ids[0], &ex, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        goto done;
    }
    link_files(&html);
    if (slm_cli_write(dir, "report.md", &md) || slm_cli_write(dir, "report.html", &html) ||
        slm_cli_write(dir, "report.json", &json) || slm_cli_write(dir, "per_class.csv", &csv) ||
        slm_cli_write(dir, "examples.html", &ex))
        rc = SLM_EXIT_ENGINE;
    else if (note.len)
        fprintf(stderr, "slmbench: note: %s\n", note.data);
done:
    for (size_t i = 0; i < nf; i++)
        free(svg_paths[i]);
    free(svg_paths);
    free(figs);
    slm_buf_free(&md);
    slm_buf_free(&html);
    slm_buf_free(&json);
    slm_buf_free(&csv);
    slm_buf_free(&ex);
    slm_buf_free(&note);
    slm_plots_result_free(&pr);
    return rc;
}

/* ---- a load test's report: the load section (load_read.h, load_report.h) ---- */

/* The Markdown of load test d: the run's identity, then the section. */
static int load_md(slm_store *st, const slm_load_data *d, slm_buf *md, char *err,
                   size_t errlen)
{
    slm_buf_puts(md, "# slmbench report\n\n");
    if (slm_report_run_header(st, d->run_id, md, err, errlen))
        return -1;
    slm_load_report_markdown(md, &d->report);
    return 0;
}

/* The JSON of load test d: {"runs": [{the run's identity, "load": slm_load_data_json}]},
 * the shape of the other reports' JSON. */
static int load_json(slm_store *st, const slm_load_data *d, slm_buf *out, char *err,
                     size_t errlen)
{
    slm_run_facts r;
    slm_buf sec = {0};
    json_t *load = NULL;
    int rc = slm_store_run_facts(st, d->run_id, &r, err, errlen);
    if (!rc && (slm_load_data_json(d, &sec) ||
                !(load = json_loadb(sec.data, sec.len, 0, NULL))))
        rc = slm_err(err, errlen, "cannot encode the load test as JSON");
    if (!rc) {
        json_t *run = json_pack(
            "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o}", "run_id",
            (json_int_t)r.id, "name", slm_json_str(r.name), "status", slm_json_str(r.status),
            "mode", slm_json_str(r.mode), "created_at", slm_json_str(r.created),
            "finished_at", slm_json_str(r.finished), "evalset", slm_json_str(r.es_name),
            "split", slm_json_str(r.split), "n_examples", (json_int_t)r.n_rows, "data_sha256",
            slm_json_str(r.es_sha), "prompt_sha256", slm_json_str(r.prompt_sha),
            "harness_version", slm_json_str(r.harness), "git_rev", slm_json_str(r.git),
            "load", load);
        json_t *root = json_pack("{s:[o]}", "runs", run);
        if (!root || slm_json_emit(out, root, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
            rc = slm_err(err, errlen, "cannot encode the load test as JSON");
        json_decref(root);
    }
    slm_buf_free(&sec);
    slm_run_facts_free(&r);
    return rc;
}

/* The HTML page of load test d: the Markdown's identity, the section with the drawn
 * charts of plots (NULL: none, note says why). */
static int load_html(slm_store *st, const slm_load_data *d, const slm_plots_result *plots,
                     const char *dir, const char *note, slm_buf *out, char *err,
                     size_t errlen)
{
    slm_buf md = {0};
    slm_buf_puts(&md, "# slmbench report\n\n");
    int rc = slm_report_run_header(st, d->run_id, &md, err, errlen);
    if (!rc) {
        slm_html_page_open(out);
        slm_md_to_html(md.data, out);
        if (slm_load_report_html(out, &d->report, plots, dir ? dir : "."))
            rc = slm_err(err, errlen, "cannot read a chart of the load test back");
        if (note && *note) {
            slm_buf_puts(out, "<p class=\"note\">");
            slm_html_esc(out, note);
            slm_buf_puts(out, "</p>\n");
        }
        slm_html_page_close(out);
    }
    slm_buf_free(&md);
    return rc;
}

/* The charts' part of the Markdown with --out: each drawn chart linked, then why the
 * others were not drawn. */
static void load_plots_md(const slm_plots_result *pr, const char *note, slm_buf *md)
{
    slm_buf_puts(md, "\n## Plots\n\n");
    for (size_t i = 0; i < pr->n; i++) {
        const slm_plot *p = &pr->plots[i];
        if (p->skipped || !p->svg)
            continue;
        slm_buf_puts(md, "![");
        slm_md_cell(md, p->name);
        slm_buf_printf(md, "](%s)\n\n", p->png ? p->png : p->svg);
        slm_md_cell(md, p->caption ? p->caption : p->name);
        slm_buf_printf(md, " (data: `%s`)\n\n", p->data ? p->data : "-");
    }
    slm_buf why = {0};
    skipped_note(pr, &why);
    if (why.len) {
        slm_md_cell(md, why.data);
        slm_buf_puts(md, "\n\n");
    }
    slm_buf_free(&why);
    if (note && *note)
        slm_buf_printf(md, "%s\n\n", note);
}

/* --out DIR for load test d: charts, then report.md, report.html and report.json. */
static int load_write_all(slm_store *st, const slm_load_data *d, const char *dir,
                          int no_plots)
{
    char err[SLM_ERRLEN];
    if (slm_mkdir_p(dir, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    slm_plots_result pr;
    memset(&pr, 0, sizeof pr);
    char *gp_missing = NULL;
    const char *note = no_plots ? "Plots were not drawn (--no-plots)." : NULL;
    int rc = SLM_EXIT_OK;
    slm_buf md = {0}, html = {0}, json = {0};
    if ((!no_plots && slm_load_report_plots(&d->report, dir, &pr, &gp_missing, err,
                                            sizeof err)) ||
        load_md(st, d, &md, err, sizeof err) || load_json(st, d, &json, err, sizeof err) ||
        load_html(st, d, &pr, dir, note, &html, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        goto done;
    }
    load_plots_md(&pr, note, &md);
    if (slm_cli_write(dir, "report.md", &md) || slm_cli_write(dir, "report.html", &html) ||
        slm_cli_write(dir, "report.json", &json))
        rc = SLM_EXIT_ENGINE;
    else if (gp_missing)
        fprintf(stderr, "slmbench: note: the load test's charts were not drawn: %s\n",
                gp_missing);
done:
    free(gp_missing);
    slm_buf_free(&md);
    slm_buf_free(&html);
    slm_buf_free(&json);
    slm_plots_result_free(&pr);
    return rc;
}

/* The report of load test run_id: to stdout in format, or every format into outdir. */
static int load_report(slm_store *st, int64_t run_id, const char *format, const char *outdir,
                       int no_plots)
{
    char err[SLM_ERRLEN];
    slm_load_data d;
    int rr = slm_load_read(st, run_id, &d, err, sizeof err);
    if (rr)
        return slm_die(rr == SLM_LOAD_READ_NOT_LOAD ? SLM_EXIT_BAD_INPUT : SLM_EXIT_ENGINE,
                       "%s", err);
    int rc = SLM_EXIT_OK;
    if (outdir) {
        rc = load_write_all(st, &d, outdir, no_plots);
    } else {
        slm_buf b = {0};
        int bad = !strcmp(format, "json") ? load_json(st, &d, &b, err, sizeof err)
                  : !strcmp(format, "html")
                      ? load_html(st, &d, NULL, NULL, "Charts are written with --out DIR.", &b,
                                  err, sizeof err)
                      : load_md(st, &d, &b, err, sizeof err);
        if (bad)
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        else
            fwrite(b.data, 1, b.len, stdout);
        slm_buf_free(&b);
    }
    slm_load_data_free(&d);
    return rc;
}

/* The load test among ids (its index), -1 none; a load test is reported alone, so a
 * load test among several runs is refused (*rc set). */
static int find_load_test(slm_store *st, const int64_t *ids, size_t n, int *rc)
{
    char err[SLM_ERRLEN], mode[16];
    int at = -1;
    for (size_t i = 0; i < n; i++) {
        if (slm_load_run_mode(st, ids[i], mode, sizeof mode, err, sizeof err)) {
            *rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
            return -1;
        }
        if (!strcmp(mode, "load") && n > 1) {
            *rc = slm_die(SLM_EXIT_USAGE, "run %lld is a load test: report it alone "
                          "(slmbench report %lld)", (long long)ids[i], (long long)ids[i]);
            return -1;
        }
        if (!strcmp(mode, "load"))
            at = (int)i;
    }
    return at;
}

/* A run reference that names nothing: the store's reason, and what the database holds
 * (or that it holds no run yet, and how to make one). */
static int unknown_run(slm_store *st, const char *db, const char *why)
{
    slm_buf b = {0};
    char err[SLM_ERRLEN];
    long n = slm_store_describe_runs(st, 8, &b, err, sizeof err);
    int rc;
    if (n < 0)
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", why);
    else if (n == 0)
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s: no runs in the database yet; slmbench run CONFIG "
                     "--db %s evaluates the candidates into it first", db, db);
    else
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s; the runs: %s", why, b.data);
    slm_buf_free(&b);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    const char *db = "slmbench.db", *format = "md", *outdir = NULL;
    int no_plots = 0;
    slm_opt opts[] = {
        SLM_OPT_DB(&db),
        {.name = "format", .arg = "F", .kind = SLM_OPT_STR, .target = &format,
         .help = "what goes to stdout: md (default), html or json", .values = "md|html|json"},
        {.like = &slm_opt_json, .kind = SLM_OPT_CONST, .target = &format, .value = "json",
         .help = "the same as --format json"},
        {.name = "out", .arg = "DIR", .kind = SLM_OPT_STR, .target = &outdir,
         .help = "write report.md, report.html, report.json, per_class.csv, examples.html\nand "
                 "plots/ into DIR"},
        {.name = "no-plots", .kind = SLM_OPT_FLAG, .target = &no_plots,
         .help = "with --out: draw no plots"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "report",
        .synopsis = "report [RUN...]",
        .about = ABOUT,
        .opts = opts,
        .max_pos = (size_t)argc,
    };
    const char **refs = slm_xcalloc((size_t)argc + 1, sizeof *refs);
    size_t nrefs;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, refs, &nrefs);
    if (prc != SLM_OPTS_GO) {
        free(refs);
        return prc;
    }
    if (strcmp(format, "md") && strcmp(format, "json") && strcmp(format, "html")) {
        free(refs);
        return slm_opts_usage_error(&cmd, "unknown format '%s' (md, html or json)", format);
    }
    if (!nrefs)
        refs[nrefs++] = "last";
    char err[SLM_ERRLEN];
    slm_store *st;
    if (access(db, F_OK) != 0) {
        free(refs);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s: no such database (%s)%s; slmbench run CONFIG "
                       "--db %s evaluates the candidates into it, then report reads it", db,
                       strerror(errno), strcmp(db, "slmbench.db") ? "" : ", the default --db",
                       db);
    }
    if (slm_store_open(db, 0, &st, err, sizeof err)) {
        free(refs);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    int64_t *ids = slm_xcalloc(nrefs, sizeof *ids);
    int rc = SLM_EXIT_OK;
    for (size_t i = 0; i < nrefs; i++)
        if (slm_store_resolve_run(st, refs[i], &ids[i], err, sizeof err)) {
            rc = unknown_run(st, db, err);
            goto out;
        }
    int lt = find_load_test(st, ids, nrefs, &rc);
    if (rc != SLM_EXIT_OK)
        goto out;
    if (lt >= 0) {
        rc = load_report(st, ids[lt], format, outdir, no_plots);
        goto out;
    }
    if (outdir) {
        rc = write_all(st, ids, nrefs, outdir, no_plots);
        goto out;
    }
    slm_buf b = {0};
    int bad = !strcmp(format, "json")   ? slm_report_json(st, ids, nrefs, &b, err, sizeof err)
              : !strcmp(format, "html") ? slm_report_html(st, ids, nrefs, NULL, 0,
                                                          "Plots are written with --out DIR.", &b,
                                                          err, sizeof err)
                                        : slm_report_markdown(st, ids, nrefs, &b, err, sizeof err);
    if (bad)
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    else
        fwrite(b.data, 1, b.len, stdout);
    slm_buf_free(&b);
out:
    free(ids);
    free(refs);
    slm_store_close(st);
    return rc;
}
