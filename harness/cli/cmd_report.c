/* cmd_report.c — `slmbench report`: the comparison report of stored runs. */
#include "cli.h"
#include "opts.h"

#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Writes the report of one or more stored runs (side by side). RUN is a run id, a tag,\n"
    "a run name or 'last'. Without --out, the chosen format goes to stdout. With --out DIR:\n"
    "DIR/report.md (for pull-request comments), DIR/report.html (self-contained: plots\n"
    "embedded, sortable tables, no network access), DIR/report.json, and DIR/plots/ (each\n"
    "plot as SVG and PNG with its data file and gnuplot script; needs gnuplot).\n";

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
    } else if (pr.n_drawn < pr.n) {
        /* one line per distinct reason (without gnuplot every plot has the same one) */
        for (size_t i = 0; i < pr.n; i++) {
            if (!pr.plots[i].skipped)
                continue;
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++)
                seen = pr.plots[j].skipped && !strcmp(pr.plots[j].skipped, pr.plots[i].skipped);
            if (seen)
                continue;
            slm_buf_printf(&note, "%s", note.len ? "; " : "Not drawn: ");
            for (size_t j = i, k = 0; j < pr.n; j++)
                if (pr.plots[j].skipped && !strcmp(pr.plots[j].skipped, pr.plots[i].skipped))
                    slm_buf_printf(&note, "%s%s", k++ ? ", " : "", pr.plots[j].name);
            slm_buf_printf(&note, ": %s", pr.plots[i].skipped);
        }
        slm_buf_puts(&note, ".");
    }
    /* paths relative to the report, so the folder can be moved or attached as a whole */
    slm_figure *figs = slm_xcalloc(pr.n + 1, sizeof *figs);
    char **svg_paths = slm_xcalloc(pr.n + 1, sizeof *svg_paths);
    size_t nf = 0;
    slm_buf md = {0}, html = {0}, json = {0};
    int rc = SLM_EXIT_OK;
    if (slm_report_markdown(st, ids, n, &md, err, sizeof err) ||
        slm_report_json(st, ids, n, &json, err, sizeof err)) {
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
    if (slm_report_html(st, ids, n, figs, nf, note.data, &html, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        goto done;
    }
    if (slm_cli_write(dir, "report.md", &md) || slm_cli_write(dir, "report.html", &html) ||
        slm_cli_write(dir, "report.json", &json))
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
    slm_buf_free(&note);
    slm_plots_result_free(&pr);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    const char *db = "slmbench.db", *format = "md", *outdir = NULL;
    int no_plots = 0;
    slm_opt opts[] = {
        SLM_OPT_DB(&db),
        {.name = "format", .arg = "F", .kind = SLM_OPT_STR, .target = &format,
         .help = "what goes to stdout: md (default), html or json"},
        {.like = &slm_opt_json, .kind = SLM_OPT_CONST, .target = &format, .value = "json",
         .help = "the same as --format json"},
        {.name = "out", .arg = "DIR", .kind = SLM_OPT_STR, .target = &outdir,
         .help = "write report.md, report.html, report.json and plots/ into DIR"},
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
    if (slm_store_open(db, 0, &st, err, sizeof err)) {
        free(refs);
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    int64_t *ids = slm_xcalloc(nrefs, sizeof *ids);
    int rc = SLM_EXIT_OK;
    for (size_t i = 0; i < nrefs; i++)
        if (slm_store_resolve_run(st, refs[i], &ids[i], err, sizeof err)) {
            rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
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
