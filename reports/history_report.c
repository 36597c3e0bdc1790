/* history_report.c — see history_report.h. */
#include "history_report.h"
#include "csv_out.h"
#include "fields.h"
#include "gnuplot.h"
#include "json_out.h"
#include "plots.h"
#include "report.h"
#include "report_html.h"
#include "store_cli.h"
#include "store_history.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs on one eval set's data: the same name, version and data hash. */
typedef struct group {
    size_t *runs; /* indices into hist.r, oldest first */
    size_t n;
} group;

typedef struct hist {
    slm_hist_run *r;
    size_t n;
    group *g;
    size_t ng;
    size_t *other; /* load tests and runs without an eval set */
    size_t n_other;
} hist;

static int same_str(const char *x, const char *y)
{
    return (!x && !y) || (x && y && !strcmp(x, y));
}

/* A run that is listed apart: a load test, or a run that recorded no eval set. */
static int is_other(const slm_hist_run *r)
{
    return !r->evalset || (r->mode && !strcmp(r->mode, "load"));
}

/* A run's candidate is plotted when the run completed and the candidate is ok. */
static int plotted(const slm_hist_run *r, const slm_hist_cand *c)
{
    return !strcmp(r->status, "complete") && c->status && !strcmp(c->status, "ok");
}

static void push(size_t **v, size_t *n, size_t x)
{
    *v = slm_xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = x;
}

/* Keeps only the candidates called name; 1 when the run had any. */
static int keep_candidate(slm_hist_run *r, const char *name)
{
    size_t k = 0;
    for (size_t j = 0; j < r->n_cands; j++) {
        if (!strcmp(r->cands[j].name, name)) {
            r->cands[k++] = r->cands[j];
        } else {
            free(r->cands[j].name);
            free(r->cands[j].status);
        }
    }
    r->n_cands = k;
    return k > 0;
}

/* "a, b, c": the distinct names get() gives over the runs, for an error message. */
static void names_of(const hist *h, int cands, slm_buf *b)
{
    for (size_t i = 0; i < h->n; i++) {
        const slm_hist_run *r = &h->r[i];
        size_t m = cands ? r->n_cands : (r->evalset ? 1 : 0);
        for (size_t j = 0; j < m; j++) {
            const char *s = cands ? r->cands[j].name : r->evalset;
            size_t sl = strlen(s);
            int seen = 0;
            for (const char *p = b->data; p && !seen && (p = strstr(p, s)); p++)
                seen = (p == b->data || p[-1] == ' ') && (p[sl] == ',' || p[sl] == '\0');
            if (!seen)
                slm_buf_printf(b, "%s%s", b->len ? ", " : "", s);
        }
    }
}

static void hist_free(hist *h)
{
    slm_hist_runs_free(h->r, h->n);
    for (size_t i = 0; i < h->ng; i++)
        free(h->g[i].runs);
    free(h->g);
    free(h->other);
    memset(h, 0, sizeof *h);
}

/* Checks the filters against the whole database before applying them: 1 with err naming
 * what exists when one names nothing. */
static int check_filters(hist *h, const slm_history_opts *o, char *err, size_t errlen)
{
    int found_e = !o->evalset, found_c = !o->candidate;
    for (size_t i = 0; i < h->n; i++) {
        const slm_hist_run *r = &h->r[i];
        found_e |= o->evalset && same_str(r->evalset, o->evalset);
        for (size_t j = 0; !found_c && j < r->n_cands; j++)
            found_c = !strcmp(r->cands[j].name, o->candidate);
    }
    if (found_e && found_c)
        return 0;
    slm_buf names = {0};
    names_of(h, !found_c, &names);
    if (!found_e)
        slm_err(err, errlen, "no run of eval set '%s' in the database (eval sets: %s)",
                o->evalset, names.len ? names.data : "none");
    else
        slm_err(err, errlen, "no run has a candidate '%s' (candidates: %s)", o->candidate,
                names.len ? names.data : "none");
    slm_buf_free(&names);
    return 1;
}

/* Reads every run, applies the filters and groups the runs by eval set data. */
static int hist_load(slm_store *st, const slm_history_opts *o, hist *h, char *err,
                     size_t errlen)
{
    memset(h, 0, sizeof *h);
    if (slm_store_history(st, &h->r, &h->n, err, errlen))
        return -1;
    int rc = check_filters(h, o, err, errlen);
    if (rc)
        return rc;
    for (size_t i = 0; i < h->n; i++) {
        slm_hist_run *r = &h->r[i];
        if (o->evalset && !same_str(r->evalset, o->evalset))
            continue;
        if (o->candidate && !keep_candidate(r, o->candidate))
            continue;
        if (is_other(r)) {
            push(&h->other, &h->n_other, i);
            continue;
        }
        size_t g = 0;
        for (; g < h->ng; g++) {
            const slm_hist_run *f = &h->r[h->g[g].runs[0]];
            if (same_str(f->evalset, r->evalset) && same_str(f->version, r->version) &&
                same_str(f->sha256, r->sha256))
                break;
        }
        if (g == h->ng) {
            h->g = slm_xrealloc(h->g, (h->ng + 1) * sizeof *h->g);
            memset(&h->g[h->ng++], 0, sizeof *h->g);
        }
        push(&h->g[g].runs, &h->g[g].n, i);
    }
    return 0;
}

/* ---- numbers as the report writes them (fields.c: percentage or significant digits) */

static void val(slm_buf *b, const char *metric, double v)
{
    const slm_field *f = slm_field_find(metric);
    if (isnan(v)) {
        slm_buf_puts(b, "–");
    } else if (f && f->fmt == SLM_FMT_PCT) {
        slm_buf_printf(b, "%.1f%%", v * 100.0);
    } else {
        int digits = f ? f->digits : 4;
        int dec = digits - 1 - (v == 0 ? 0 : (int)floor(log10(fabs(v))));
        dec = dec < 0 ? 0 : dec > 3 ? 3 : dec;
        slm_buf_printf(b, "%.*f", dec, v);
    }
}

static void val_ci(slm_buf *b, const slm_hist_cand *c, int k)
{
    val(b, slm_hist_metrics[k], c->value[k]);
    if (!isnan(c->value[k]) && !isnan(c->lo[k]) && !isnan(c->hi[k])) {
        slm_buf_puts(b, " [");
        val(b, slm_hist_metrics[k], c->lo[k]);
        slm_buf_puts(b, ", ");
        val(b, slm_hist_metrics[k], c->hi[k]);
        slm_buf_puts(b, "]");
    }
}

/* The column title of metric k: the field's short title and its unit. */
static void metric_title(slm_buf *b, int k)
{
    const slm_field *f = slm_field_find(slm_hist_metrics[k]);
    if (!f) {
        slm_buf_puts(b, slm_hist_metrics[k]);
        return;
    }
    slm_buf_puts(b, k == 1 ? "ECE" : slm_field_col(f)); /* ECE: the report's column title */
    if (f->unit && *f->unit)
        slm_buf_printf(b, " %s", f->unit);
}

/* "2026-12-06 16:30:05" from the stored "2026-12-06T16:30:05Z". */
static void date_cell(slm_buf *b, const char *d)
{
    char t[20];
    snprintf(t, sizeof t, "%s", d ? d : "–");
    char *T = strchr(t, 'T');
    if (T)
        *T = ' ';
    slm_md_cell(b, t);
}

static void status_cell(slm_buf *b, const char *status)
{
    slm_md_cell(b, status);
    if (strcmp(status, "complete"))
        slm_buf_puts(b, " ⚠");
}

/* ---- Markdown sections ---- */

static void md_intro(const hist *h, slm_store *st, slm_buf *b)
{
    size_t runs = h->n_other;
    for (size_t g = 0; g < h->ng; g++)
        runs += h->g[g].n;
    slm_buf_puts(b, "# Run history\n\n");
    slm_md_cell(b, slm_store_path(st));
    slm_buf_printf(b, ": %zu run%s, oldest first, on %zu eval set%s", runs, runs == 1 ? "" : "s",
                   h->ng, h->ng == 1 ? "" : "s");
    if (h->n_other)
        slm_buf_printf(b, ", %zu listed apart (load tests, runs without an eval set)",
                       h->n_other);
    slm_buf_puts(b, ". Runs on different data (eval set name, version or data hash) are "
                    "separate trends. ⚠ marks a run that did not complete (interrupted, "
                    "failed or still running) or a candidate that failed: listed, never "
                    "plotted. Intervals are the stored 95% bootstrap intervals, as in the "
                    "report.\n\n");
    if (!runs)
        slm_buf_puts(b, "No run in the database yet.\n\n");
}

static void md_group_heading(const hist *h, size_t g, slm_buf *b)
{
    const slm_hist_run *f = &h->r[h->g[g].runs[0]];
    slm_buf_puts(b, "## Eval set ");
    slm_md_cell(b, f->evalset);
    if (f->version) {
        slm_buf_puts(b, " v");
        slm_md_cell(b, f->version);
    }
    slm_buf_printf(b, ", data %.12s", f->sha256 ? f->sha256 : "–");
    slm_buf_puts(b, " (split ");
    slm_md_cell(b, f->split ? f->split : "–");
    slm_buf_printf(b, ", %zu run%s)\n\n", h->g[g].n, h->g[g].n == 1 ? "" : "s");
}

static void md_run_cells(const slm_hist_run *r, slm_buf *b)
{
    slm_buf_puts(b, "| ");
    date_cell(b, r->date);
    slm_buf_printf(b, " | %lld | ", (long long)r->id);
    slm_md_cell(b, r->name);
    slm_buf_puts(b, " | ");
    slm_md_cell(b, r->tags ? r->tags : "–");
    slm_buf_puts(b, " | ");
    status_cell(b, r->status);
    slm_buf_puts(b, " | ");
}

static void md_group_table(const hist *h, size_t g, slm_buf *b)
{
    slm_buf_puts(b, "| date (UTC) | run | name | tags | status | candidate |");
    for (int k = 0; k < SLM_HIST_N_METRICS; k++) {
        slm_buf_putc(b, ' ');
        metric_title(b, k);
        slm_buf_puts(b, " [95% CI] |");
    }
    slm_buf_puts(b, "\n|---|---:|---|---|---|---|---:|---:|---:|\n");
    for (size_t i = 0; i < h->g[g].n; i++) {
        const slm_hist_run *r = &h->r[h->g[g].runs[i]];
        if (!r->n_cands) {
            md_run_cells(r, b);
            slm_buf_puts(b, "– | – | – | – |\n");
        }
        for (size_t j = 0; j < r->n_cands; j++) {
            const slm_hist_cand *c = &r->cands[j];
            md_run_cells(r, b);
            slm_md_cell(b, c->name);
            if (c->status && strcmp(c->status, "ok")) {
                slm_buf_puts(b, " (");
                slm_md_cell(b, c->status);
                slm_buf_puts(b, " ⚠)");
            }
            for (int k = 0; k < SLM_HIST_N_METRICS; k++) {
                slm_buf_puts(b, " | ");
                val_ci(b, c, k);
            }
            slm_buf_puts(b, " |\n");
        }
    }
    slm_buf_puts(b, "\n");
}

static void md_other(const hist *h, slm_buf *b)
{
    if (!h->n_other)
        return;
    slm_buf_puts(b, "## Load tests and runs without an eval set\n\nListed, not trended: a load "
                    "test (`slmbench load`) measures a served model under offered load, not "
                    "an eval set's accuracy; its report is `slmbench report RUN`.\n\n"
                    "| date (UTC) | run | name | tags | status | kind | candidates |\n"
                    "|---|---:|---|---|---|---|---|\n");
    for (size_t i = 0; i < h->n_other; i++) {
        const slm_hist_run *r = &h->r[h->other[i]];
        md_run_cells(r, b);
        slm_buf_puts(b, r->mode && !strcmp(r->mode, "load") ? "load test" : "no eval set");
        slm_buf_puts(b, " | ");
        for (size_t j = 0; j < r->n_cands; j++) {
            slm_buf_puts(b, j ? ", " : "");
            slm_md_cell(b, r->cands[j].name);
        }
        slm_buf_puts(b, r->n_cands ? " |\n" : "– |\n");
    }
    slm_buf_puts(b, "\n");
}

/* ---- trend plots ---- */

typedef struct trends {
    char *dir;         /* <plots_dir>/plots, or the temporary folder */
    char *tmp;         /* the temporary folder to remove, or NULL */
    slm_plots_result res;
    size_t *first;     /* per group: its first entry in res.plots */
    char *gp_missing;
} trends;

/* The distinct candidate names of group g, in order of first appearance. */
static size_t cand_names(const hist *h, size_t g, const char ***out)
{
    size_t n = 0;
    *out = NULL;
    for (size_t i = 0; i < h->g[g].n; i++) {
        const slm_hist_run *r = &h->r[h->g[g].runs[i]];
        for (size_t j = 0; j < r->n_cands; j++) {
            size_t k = 0;
            while (k < n && strcmp((*out)[k], r->cands[j].name))
                k++;
            if (k == n) {
                *out = slm_xrealloc(*out, (n + 1) * sizeof **out);
                (*out)[n++] = r->cands[j].name;
            }
        }
    }
    return n;
}

/* The data blocks of metric k (one per candidate with a point; x = position among the
 * group's complete runs) and the plot command; returns the number of blocks. */
static size_t trend_data(const hist *h, size_t g, int k, const char *name, slm_buf *dat,
                         slm_buf *plot)
{
    const char **names;
    size_t nn = cand_names(h, g, &names), nb = 0;
    double scale = k == 0 ? 100.0 : 1.0; /* accuracy in percent */
    for (size_t c = 0; c < nn; c++) {
        size_t before = dat->len, x = 0;
        slm_buf_puts(dat, "# x value lo hi run_id candidate\n");
        for (size_t i = 0; i < h->g[g].n; i++) {
            const slm_hist_run *r = &h->r[h->g[g].runs[i]];
            if (strcmp(r->status, "complete"))
                continue;
            for (size_t j = 0; j < r->n_cands; j++) {
                const slm_hist_cand *hc = &r->cands[j];
                if (strcmp(hc->name, names[c]) || !plotted(r, hc) || isnan(hc->value[k]))
                    continue;
                double v = hc->value[k], lo = isnan(hc->lo[k]) ? v : hc->lo[k],
                       hi = isnan(hc->hi[k]) ? v : hc->hi[k];
                slm_buf_printf(dat, "%zu ", x);
                slm_gp_num(dat, v * scale);
                slm_buf_putc(dat, ' ');
                slm_gp_num(dat, lo * scale);
                slm_buf_putc(dat, ' ');
                slm_gp_num(dat, hi * scale);
                slm_buf_printf(dat, " %lld ", (long long)r->id);
                slm_gp_dat_str(dat, names[c]);
                slm_buf_putc(dat, '\n');
                before = 0; /* a point: the block stays */
            }
            x++;
        }
        if (before) { /* no point: drop the block */
            dat->len = before;
            dat->data[before] = '\0';
            continue;
        }
        slm_buf_puts(dat, "\n\n");
        /* candidates dodged sideways by a little, so their error bars do not hide
         * each other; the data keep the run's position */
        double dodge = nn > 1 ? ((double)c - (double)(nn - 1) / 2.0) * 0.3 / (double)nn : 0;
        slm_buf_printf(plot, "%s'%s.dat' index %zu using ($1%+.3f):2:3:4 with yerrorlines "
                             "lt %zu title ",
                       nb ? ", \\\n         " : "    plot ", name, nb, dodge, c + 1);
        slm_gp_str(plot, names[c]);
        nb++;
    }
    free(names);
    return nb;
}

/* One trend figure: metric k of group g. */
static int trend_plot(const hist *h, size_t g, int k, trends *t, char *err, size_t errlen)
{
    const slm_hist_run *f = &h->r[h->g[g].runs[0]];
    const slm_field *fd = slm_field_find(slm_hist_metrics[k]);
    char name[64];
    snprintf(name, sizeof name, "history_%zu_%s", g + 1, slm_hist_metrics[k]);
    slm_buf cap = {0}, dat = {0}, body = {0}, plot = {0};
    slm_buf_printf(&cap, "%s of each candidate over the complete runs of eval set %s "
                         "(data %.12s), oldest first (tic: run id); bars: 95%% intervals.",
                   fd ? fd->title : slm_hist_metrics[k], f->evalset, f->sha256 ? f->sha256 : "–");
    cap.data[0] = (char)(cap.data[0] >= 'a' && cap.data[0] <= 'z' ? cap.data[0] - 32 : cap.data[0]);
    size_t nb = trend_data(h, g, k, name, &dat, &plot);
    int rc = 0;
    if (!nb) {
        slm_plot_skip(t->dir, &t->res, name, cap.data, "no complete run with this metric");
        slm_buf_free(&dat);
        goto out;
    }
    slm_buf_puts(&body, "    set title ");
    slm_buf tt = {0};
    slm_buf_printf(&tt, "%s — %s", fd ? fd->title : slm_hist_metrics[k], f->evalset);
    slm_gp_str(&body, tt.data);
    slm_buf_free(&tt);
    slm_buf_puts(&body, "\n    set xlabel 'run, oldest first (run id)'\n    set ylabel ");
    slm_gp_str(&body, k == 0 ? "accuracy (%)" : k == 1 ? "ECE" : "e2e p95 (ms)");
    slm_buf_puts(&body, "\n    set grid lc rgb '#dddddd'\n    set key outside right top\n"
                        "    set xtics (");
    size_t x = 0;
    for (size_t i = 0; i < h->g[g].n; i++) {
        const slm_hist_run *r = &h->r[h->g[g].runs[i]];
        if (!strcmp(r->status, "complete"))
            slm_buf_printf(&body, "%s'#%lld' %zu", x ? ", " : "", (long long)r->id, x), x++;
    }
    slm_buf_printf(&body, ")\n    set xrange [-0.5:%zu.5]\n", x ? x - 1 : 0);
    slm_buf_append(&body, plot.data, plot.len);
    slm_buf_putc(&body, '\n');
    rc = slm_plot_emit(t->dir, &t->res, &t->gp_missing, name, cap.data, &dat, &body, 800, 420,
                       err, errlen);
out:
    slm_buf_free(&cap);
    slm_buf_free(&plot);
    slm_buf_free(&body);
    return rc;
}

static void trends_free(trends *t)
{
    if (t->tmp) { /* the temporary folder holds only what the plots wrote */
        for (size_t i = 0; i < t->res.n; i++) {
            const char *files[] = {t->res.plots[i].svg, t->res.plots[i].png,
                                   t->res.plots[i].data, t->res.plots[i].script};
            for (size_t k = 0; k < 4; k++) {
                if (!files[k])
                    continue;
                char *p = slm_xasprintf("%s/%s", t->tmp, files[k]);
                unlink(p);
                free(p);
            }
        }
        rmdir(t->dir);
        rmdir(t->tmp);
        free(t->tmp);
    }
    free(t->dir);
    free(t->first);
    free(t->gp_missing);
    slm_plots_result_free(&t->res);
}

/* Draws every trend plot into <base>/plots (base NULL: a temporary folder). */
static int trends_draw(const hist *h, const char *base, trends *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!base) {
        const char *tmpdir = getenv("TMPDIR");
        char *tmpl = slm_xasprintf("%s/slmbench-history-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
        if (!mkdtemp(tmpl)) {
            slm_err(err, errlen, "cannot make a temporary folder for the plots: %s", tmpl);
            free(tmpl);
            return -1;
        }
        t->tmp = tmpl;
        base = tmpl;
    }
    t->dir = slm_xasprintf("%s/plots", base);
    t->first = slm_xcalloc(h->ng + 1, sizeof *t->first);
    if (slm_mkdir_p(t->dir, err, errlen))
        return -1;
    for (size_t g = 0; g < h->ng; g++) {
        t->first[g] = t->res.n;
        for (int k = 0; k < SLM_HIST_N_METRICS; k++)
            if (trend_plot(h, g, k, t, err, errlen))
                return -1;
    }
    t->first[h->ng] = t->res.n;
    return 0;
}

/* ---- the formats ---- */

/* The Markdown of the whole history; with t, each group's figures after its table, as
 * Markdown images (html 0) or embedded figures (html 1, out is then HTML). */
static void write_doc(slm_store *st, const hist *h, const trends *t, int html, slm_buf *out)
{
    slm_buf md = {0};
    md_intro(h, st, &md);
    for (size_t g = 0; g < h->ng; g++) {
        md_group_heading(h, g, &md);
        md_group_table(h, g, &md);
        if (html) {
            slm_md_to_html(md.data ? md.data : "", out);
            md.len = 0;
            if (md.data)
                md.data[0] = '\0';
        }
        for (size_t i = t ? t->first[g] : 0; t && i < t->first[g + 1]; i++) {
            const slm_plot *p = &t->res.plots[i];
            if (!p->svg) {
                slm_buf *b = html ? out : &md;
                slm_buf_puts(b, html ? "<p class=\"note\">" : "");
                slm_buf_printf(b, "%s: not drawn (%s).", p->name, p->skipped);
                slm_buf_puts(b, html ? "</p>\n" : "\n\n");
            } else if (html) {
                char *svg = slm_xasprintf("%s/../%s", t->dir, p->svg);
                slm_figure fig = {p->name, p->caption, svg, NULL};
                slm_html_figure(out, &fig);
                free(svg);
            } else {
                slm_buf_printf(&md, "![%s](%s)\n\n", p->caption, p->svg);
            }
        }
    }
    md_other(h, &md);
    if (html)
        slm_md_to_html(md.data ? md.data : "", out);
    else
        slm_buf_append(out, md.data ? md.data : "", md.len);
    slm_buf_free(&md);
}

int slm_history_markdown(slm_store *st, const slm_history_opts *o, slm_buf *out, char *err,
                         size_t errlen)
{
    hist h;
    int rc = hist_load(st, o, &h, err, errlen);
    trends t;
    int drawn = 0;
    if (!rc && o->plots_dir && !o->no_plots) {
        rc = trends_draw(&h, o->plots_dir, &t, err, errlen);
        drawn = 1;
    }
    if (!rc)
        write_doc(st, &h, drawn ? &t : NULL, 0, out);
    if (drawn)
        trends_free(&t);
    hist_free(&h);
    return rc;
}

int slm_history_html(slm_store *st, const slm_history_opts *o, slm_buf *out, char *err,
                     size_t errlen)
{
    hist h;
    int rc = hist_load(st, o, &h, err, errlen);
    trends t;
    int drawn = 0;
    if (!rc && !o->no_plots) {
        rc = trends_draw(&h, o->plots_dir, &t, err, errlen);
        drawn = 1;
    }
    if (!rc) {
        slm_html_page_open(out);
        write_doc(st, &h, drawn ? &t : NULL, 1, out);
        slm_html_page_close(out);
    }
    if (drawn)
        trends_free(&t);
    hist_free(&h);
    return rc;
}

static json_t *json_metric(const slm_hist_cand *c, int k)
{
    json_t *m = json_object();
    json_object_set_new(m, "value", slm_json_num(c->value[k]));
    json_object_set_new(m, "lo", slm_json_num(c->lo[k]));
    json_object_set_new(m, "hi", slm_json_num(c->hi[k]));
    return m;
}

static json_t *json_run(const slm_hist_run *r)
{
    json_t *o = json_object(), *cs = json_array();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "name", slm_json_str(r->name));
    json_object_set_new(o, "tags", slm_json_str(r->tags));
    json_object_set_new(o, "status", slm_json_str(r->status));
    json_object_set_new(o, "date", slm_json_str(r->date));
    json_object_set_new(o, "mode", slm_json_str(r->mode));
    for (size_t j = 0; j < r->n_cands; j++) {
        const slm_hist_cand *c = &r->cands[j];
        json_t *jc = json_object();
        json_object_set_new(jc, "name", slm_json_str(c->name));
        json_object_set_new(jc, "status", slm_json_str(c->status));
        json_object_set_new(jc, "plotted", json_boolean(plotted(r, c)));
        for (int k = 0; k < SLM_HIST_N_METRICS; k++)
            json_object_set_new(jc, slm_hist_metrics[k], json_metric(c, k));
        json_array_append_new(cs, jc);
    }
    json_object_set_new(o, "candidates", cs);
    return o;
}

int slm_history_json(slm_store *st, const slm_history_opts *o, slm_buf *out, char *err,
                     size_t errlen)
{
    hist h;
    int rc = hist_load(st, o, &h, err, errlen);
    if (rc) {
        hist_free(&h);
        return rc;
    }
    json_t *root = json_object(), *sets = json_array(), *other = json_array();
    for (size_t g = 0; g < h.ng; g++) {
        const slm_hist_run *f = &h.r[h.g[g].runs[0]];
        json_t *e = json_object(), *runs = json_array();
        json_object_set_new(e, "name", slm_json_str(f->evalset));
        json_object_set_new(e, "version", slm_json_str(f->version));
        json_object_set_new(e, "sha256", slm_json_str(f->sha256));
        json_object_set_new(e, "split", slm_json_str(f->split));
        for (size_t i = 0; i < h.g[g].n; i++)
            json_array_append_new(runs, json_run(&h.r[h.g[g].runs[i]]));
        json_object_set_new(e, "runs", runs);
        json_array_append_new(sets, e);
    }
    for (size_t i = 0; i < h.n_other; i++)
        json_array_append_new(other, json_run(&h.r[h.other[i]]));
    json_object_set_new(root, "evalsets", sets);
    json_object_set_new(root, "other_runs", other);
    if (slm_json_emit(out, root, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
        rc = slm_err(err, errlen, "cannot encode the history as JSON");
    json_decref(root);
    hist_free(&h);
    return rc;
}

int slm_history_csv(slm_store *st, const slm_history_opts *o, slm_buf *out, char *err,
                    size_t errlen)
{
    hist h;
    int rc = hist_load(st, o, &h, err, errlen);
    if (rc) {
        hist_free(&h);
        return rc;
    }
    slm_buf_puts(out, "evalset,version,sha256,run_id,run,tags,status,date,candidate,"
                      "candidate_status,accuracy,accuracy_lo,accuracy_hi,ece_15,ece_15_lo,"
                      "ece_15_hi,e2e_ms_p95,e2e_ms_p95_lo,e2e_ms_p95_hi\n");
    for (size_t g = 0; g < h.ng; g++) {
        for (size_t i = 0; i < h.g[g].n; i++) {
            const slm_hist_run *r = &h.r[h.g[g].runs[i]];
            for (size_t j = 0; j < r->n_cands; j++) {
                const slm_hist_cand *c = &r->cands[j];
                const char *a[] = {r->evalset, r->version, r->sha256};
                for (size_t k = 0; k < 3; k++) {
                    slm_csv_field(out, a[k], 0);
                    slm_buf_putc(out, ',');
                }
                slm_buf_printf(out, "%lld,", (long long)r->id);
                const char *b[] = {r->name, r->tags, r->status, r->date, c->name, c->status};
                for (size_t k = 0; k < 6; k++) {
                    slm_csv_field(out, b[k], 0);
                    slm_buf_putc(out, ',');
                }
                for (int k = 0; k < SLM_HIST_N_METRICS; k++) {
                    slm_csv_num(out, c->value[k]);
                    slm_buf_putc(out, ',');
                    slm_csv_num(out, c->lo[k]);
                    slm_buf_putc(out, ',');
                    slm_csv_num(out, c->hi[k]);
                    slm_buf_puts(out, k + 1 < SLM_HIST_N_METRICS ? "," : "\n");
                }
            }
        }
    }
    hist_free(&h);
    return 0;
}
