/* drift_report.c — the writers of the drift review (drift.h): Markdown, HTML, JSON and
 * the gnuplot charts, all from the grid computed by harness/metrics/drift.c. */
#include "drift.h"
#include "drift_data.h"
#include "fields.h"
#include "gnuplot.h"
#include "json_out.h"
#include "plots.h"
#include "report.h"
#include "report_html.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- formatting ----------------------------------------------------------------------- */

/* A value as reports show it: percentages for rate fields, ms and the like otherwise. */
static void put_val(slm_buf *b, const slm_field *f, double v)
{
    char t[48];
    if (!isfinite(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    if ((f->fmt == SLM_FMT_PCT)) {
        slm_fmt_double(t, sizeof t, v * 100.0, 4);
        slm_buf_printf(b, "%s%%", t);
    } else {
        slm_fmt_double(t, sizeof t, v, f->digits > 0 ? f->digits : 4);
        slm_buf_puts(b, t);
    }
}

static void put_num(slm_buf *b, double v, int digits)
{
    char t[48];
    if (!isfinite(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    slm_fmt_double(t, sizeof t, v, digits);
    slm_buf_puts(b, t);
}

static const char *flag_word(int f)
{
    return f == FLAG_BETTER ? "better" : f == FLAG_WORSE ? "worse" : f == FLAG_CHANGED ? "changed" : "";
}

static void put_sha(slm_buf *b, const char *sha)
{
    if (!sha || !*sha) {
        slm_buf_puts(b, "–");
        return;
    }
    slm_buf_puts(b, "`");
    char t[13];
    snprintf(t, sizeof t, "%s", sha);
    slm_md_cell(b, t);
    slm_buf_puts(b, "`");
}

/* The title, what the review counts and how, and the verdict; 0 when there is nothing
 * more to write (no series). */
static int md_intro(const slm_drift *d, slm_buf *b)
{
    slm_buf_printf(b, "# Drift review %s to %s\n\n", d->month[0], d->month[d->nm - 1]);
    slm_buf_puts(b, "Database `");
    slm_md_cell(b, d->db_path);
    slm_buf_printf(b,
                   "`: %zu complete run%s in the window, %zu series (model × eval set). "
                   "Months are calendar months of the run's start (UTC); a month's value is "
                   "that of the latest complete run of the month. A value is **flagged** when "
                   "it lies outside the 95%% interval of the previous month with data; a "
                   "metric without an interval (latency) when it moved by more than %d%% from "
                   "the previous month. Per-class shifts (recall or F1 moving by more than "
                   "%.2f) and label-distribution drift are listed, not flagged.\n\n",
                   d->nruns, d->nruns == 1 ? "" : "s", d->ns, (int)(SLM_DRIFT_LATENCY_REL * 100),
                   SLM_DRIFT_CLASS_DELTA);
    if (!d->ns) {
        slm_buf_puts(b, "No complete run in the window.\n");
        return 0;
    }
    if (d->nflag)
        slm_buf_printf(b, "**%zu change%s flagged.**\n\n", d->nflag, d->nflag == 1 ? "" : "s");
    else
        slm_buf_puts(b, "**No change flagged.**\n\n");
    return 1;
}

/* The flagged changes, one row per metric × series × month. */
static void md_flagged(const slm_drift *d, slm_buf *b)
{
    if (!d->nflag)
        return;
    slm_buf_puts(b, "## Flagged changes\n\n"
                    "| model | eval set | metric | month | value | previous month | "
                    "previous value | previous 95% interval | direction |\n"
                    "|---|---|---|---|---:|---|---:|---|---|\n");
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++) {
            const point *p = &d->s[i].pt[j];
            if (!p->present)
                continue;
            for (size_t k = 0; k < d->nmet; k++) {
                if (!p->flag[k])
                    continue;
                const point *q = &d->s[i].pt[p->prev];
                const slm_field *f = d->met[k];
                slm_buf_puts(b, "| ");
                slm_md_cell(b, d->s[i].model);
                slm_buf_puts(b, " | ");
                slm_md_cell(b, d->s[i].evalset);
                slm_buf_printf(b, " | %s | %s | ", f->name, d->month[j]);
                put_val(b, f, p->v[k]);
                slm_buf_printf(b, " | %s | ", d->month[p->prev]);
                put_val(b, f, q->v[k]);
                slm_buf_puts(b, " | ");
                if (isfinite(q->lo[k]) && isfinite(q->hi[k])) {
                    slm_buf_puts(b, "[");
                    put_val(b, f, q->lo[k]);
                    slm_buf_puts(b, ", ");
                    put_val(b, f, q->hi[k]);
                    slm_buf_puts(b, "]");
                } else {
                    slm_buf_printf(b, "none (±%d%% rule)", (int)(SLM_DRIFT_LATENCY_REL * 100));
                }
                slm_buf_printf(b, " | %s |\n", flag_word(p->flag[k]));
            }
        }
    slm_buf_putc(b, '\n');
}

/* Month j of series s: run, each metric (with interval and flag), eval set, model. */
static void md_series_row(const slm_drift *d, const series *s, size_t j, slm_buf *b)
{
    const point *p = &s->pt[j];
    slm_buf_printf(b, "| %s |", d->month[j]);
    if (!p->present) {
        slm_buf_puts(b, " – |");
        for (size_t k = 0; k < d->nmet; k++)
            slm_buf_puts(b, " – |");
        slm_buf_puts(b, " | |\n");
        return;
    }
    slm_buf_printf(b, " %lld |", (long long)p->run_id);
    for (size_t k = 0; k < d->nmet; k++) {
        const slm_field *f = d->met[k];
        slm_buf_puts(b, p->flag[k] ? " **" : " ");
        put_val(b, f, p->v[k]);
        slm_buf_puts(b, p->flag[k] ? "**" : "");
        if (isfinite(p->lo[k]) && isfinite(p->hi[k])) {
            slm_buf_puts(b, " [");
            put_val(b, f, p->lo[k]);
            slm_buf_puts(b, ", ");
            put_val(b, f, p->hi[k]);
            slm_buf_puts(b, "]");
        }
        if (p->flag[k])
            slm_buf_printf(b, " FLAGGED (%s)", flag_word(p->flag[k]));
        slm_buf_puts(b, " |");
    }
    const point *q = p->prev >= 0 ? &s->pt[p->prev] : NULL;
    slm_buf_puts(b, " ");
    slm_md_cell(b, p->es_version ? p->es_version : "–");
    if (q && (!slm_streq_null(q->es_version, p->es_version) || !slm_streq_null(q->es_sha, p->es_sha)))
        slm_buf_puts(b, " (eval set changed)");
    slm_buf_puts(b, " | ");
    put_sha(b, p->model_sha);
    if (q && !slm_streq_null(q->model_sha, p->model_sha))
        slm_buf_puts(b, " (model file changed)");
    slm_buf_puts(b, " |\n");
}

/* One table per series (model × eval set), a row per month of the window. */
static void md_series(const slm_drift *d, slm_buf *b)
{
    for (size_t i = 0; i < d->ns; i++) {
        const series *s = &d->s[i];
        slm_buf_puts(b, "## ");
        slm_md_cell(b, s->model);
        slm_buf_puts(b, " on ");
        slm_md_cell(b, s->evalset);
        slm_buf_puts(b, "\n\n| month | run |");
        for (size_t k = 0; k < d->nmet; k++) {
            slm_buf_putc(b, ' ');
            slm_md_cell(b, d->met[k]->title);
            if (*d->met[k]->unit)
                slm_buf_printf(b, " (%s)", d->met[k]->unit);
            slm_buf_puts(b, " |");
        }
        slm_buf_puts(b, " eval set version | model sha256 |\n|---|---:|");
        for (size_t k = 0; k < d->nmet; k++)
            slm_buf_puts(b, "---:|");
        slm_buf_puts(b, "---|---|\n");
        for (size_t j = 0; j < d->nm; j++)
            md_series_row(d, s, j, b);
        slm_buf_putc(b, '\n');
    }
}

/* Per-class recall/F1 shifts beyond SLM_DRIFT_CLASS_DELTA. */
static void md_shifts(const slm_drift *d, slm_buf *b)
{
    slm_buf_printf(b, "## Per-class shifts\n\nRecall or F1 of a label moving by more than %.2f "
                      "between consecutive months with data.\n\n",
                   SLM_DRIFT_CLASS_DELTA);
    if (!d->nsh) {
        slm_buf_puts(b, "None.\n\n");
    } else {
        slm_buf_puts(b, "| model | eval set | from | to | label | recall | Δ recall | F1 | Δ F1 |\n"
                        "|---|---|---|---|---|---:|---:|---:|---:|\n");
        for (size_t i = 0; i < d->nsh; i++) {
            const shift *h = &d->sh[i];
            slm_buf_puts(b, "| ");
            slm_md_cell(b, d->s[h->s].model);
            slm_buf_puts(b, " | ");
            slm_md_cell(b, d->s[h->s].evalset);
            slm_buf_printf(b, " | %s | %s | ", d->month[h->from], d->month[h->to]);
            slm_md_cell(b, h->label);
            slm_buf_puts(b, " | ");
            put_num(b, h->r0, 3);
            slm_buf_puts(b, " → ");
            put_num(b, h->r1, 3);
            slm_buf_printf(b, " | %+.3f | ", h->r1 - h->r0);
            put_num(b, h->f0, 3);
            slm_buf_puts(b, " → ");
            put_num(b, h->f1, 3);
            slm_buf_printf(b, " | %+.3f |\n", h->f1 - h->f0);
        }
        slm_buf_putc(b, '\n');
    }
}

/* Label-distribution drift where an eval set's version or hash changed. */
static void md_label_drift(const slm_drift *d, slm_buf *b)
{
    slm_buf_puts(b, "## Label-distribution drift between eval-set versions\n\n"
                    "Where an eval set's sha256 or version changed between consecutive months "
                    "with data: total variation distance (TVD) between the gold-label shares of "
                    "the two runs' examples, and Pearson's chi-square test of homogeneity.\n\n");
    if (!d->nld) {
        slm_buf_puts(b, "No eval set changed in the window.\n\n");
    } else {
        slm_buf_puts(b, "| eval set | from | to | versions | sha256 | n | TVD | chi-square | df | "
                        "p-value |\n|---|---|---|---|---|---|---:|---:|---:|---:|\n");
        for (size_t i = 0; i < d->nld; i++) {
            const ldrift *l = &d->ld[i];
            slm_buf_puts(b, "| ");
            slm_md_cell(b, l->evalset);
            slm_buf_printf(b, " | %s (run %lld) | %s (run %lld) | ", d->month[l->from],
                           (long long)l->run_a, d->month[l->to], (long long)l->run_b);
            slm_md_cell(b, l->ver_a ? l->ver_a : "–");
            slm_buf_puts(b, " → ");
            slm_md_cell(b, l->ver_b ? l->ver_b : "–");
            slm_buf_puts(b, " | ");
            put_sha(b, l->sha_a);
            slm_buf_puts(b, " → ");
            put_sha(b, l->sha_b);
            slm_buf_printf(b, " | %ld → %ld | ", l->na, l->nb);
            put_num(b, l->tvd, 4);
            slm_buf_puts(b, " | ");
            put_num(b, l->chi2, 4);
            slm_buf_printf(b, " | %d | ", l->df);
            put_num(b, l->p, 4);
            slm_buf_puts(b, l->low_expected ? " (rough: expected counts below 5)" : "");
            slm_buf_puts(b, " |\n");
        }
        slm_buf_putc(b, '\n');
        for (size_t i = 0; i < d->nld; i++) {
            const ldrift *l = &d->ld[i];
            slm_buf_puts(b, "### ");
            slm_md_cell(b, l->evalset);
            slm_buf_printf(b, ", %s → %s: gold labels\n\n| label | %s | share | %s | share | "
                              "Δ share |\n|---|---:|---:|---:|---:|---:|\n",
                           d->month[l->from], d->month[l->to], d->month[l->from], d->month[l->to]);
            for (size_t k = 0; k < l->k; k++) {
                double sa = l->na ? (double)l->ca[k] / (double)l->na : NAN;
                double sb = l->nb ? (double)l->cb[k] / (double)l->nb : NAN;
                slm_buf_puts(b, "| ");
                slm_md_cell(b, l->labels[k]);
                slm_buf_printf(b, " | %ld | ", l->ca[k]);
                put_num(b, sa, 3);
                slm_buf_printf(b, " | %ld | ", l->cb[k]);
                put_num(b, sb, 3);
                slm_buf_printf(b, " | %+.3f |\n", sb - sa);
            }
            slm_buf_putc(b, '\n');
        }
    }
}

/* e2e p50 and p95 per series and month, whatever metrics are reviewed. */
static void md_latency(const slm_drift *d, slm_buf *b)
{
    slm_buf_printf(b, "## Latency by month\n\nEnd-to-end latency percentiles; a change of p95 by "
                      "more than %d%% from the previous month with data is flagged when e2e_ms_p95 "
                      "is among the reviewed metrics.\n\n"
                      "| model | eval set | month | e2e p50 (ms) | e2e p95 (ms) | p95 change |\n"
                      "|---|---|---|---:|---:|---:|\n",
                   (int)(SLM_DRIFT_LATENCY_REL * 100));
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++) {
            const point *p = &d->s[i].pt[j];
            if (!p->present)
                continue;
            slm_buf_puts(b, "| ");
            slm_md_cell(b, d->s[i].model);
            slm_buf_puts(b, " | ");
            slm_md_cell(b, d->s[i].evalset);
            slm_buf_printf(b, " | %s | ", d->month[j]);
            put_num(b, p->p50, 4);
            slm_buf_puts(b, " | ");
            put_num(b, p->p95, 4);
            slm_buf_puts(b, " | ");
            const point *q = p->prev >= 0 ? &d->s[i].pt[p->prev] : NULL;
            if (q && isfinite(q->p95) && q->p95 != 0 && isfinite(p->p95))
                slm_buf_printf(b, "%+.1f%%", 100.0 * (p->p95 - q->p95) / q->p95);
            else
                slm_buf_puts(b, "–");
            slm_buf_puts(b, " |\n");
        }
    slm_buf_putc(b, '\n');
}

/* The charts drawn, linked by their PNG paths. */
static void md_charts(const slm_drift_charts *ch, slm_buf *b)
{
    if (ch) {
        slm_buf_puts(b, "## Charts\n\n");
        if (ch->note) {
            slm_md_cell(b, ch->note);
            slm_buf_puts(b, "\n\n");
        }
        for (size_t i = 0; i < ch->n; i++) {
            const slm_drift_chart *c = &ch->v[i];
            if (!c->png)
                continue;
            slm_buf_printf(b, "![drift_%s](%s)\n\n", c->metric, c->png);
            slm_md_cell(b, c->caption);
            slm_buf_printf(b, " (data: `%s`)\n\n", c->dat);
        }
    }
}

void slm_drift_markdown(const slm_drift *d, const slm_drift_charts *ch, slm_buf *b)
{
    if (!md_intro(d, b))
        return;
    md_flagged(d, b);
    md_series(d, b);
    md_shifts(d, b);
    md_label_drift(d, b);
    md_latency(d, b);
    md_charts(ch, b);
}

/* ---- HTML ----------------------------------------------------------------------------- */

static const char CSS[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;"
    "max-width:1200px;padding:1.5em;color:#1d1d1f;background:#fff}"
    "h1{font-size:1.8em}h2{border-bottom:2px solid #e3e3e8;padding-bottom:.2em;margin-top:1.8em}"
    ".tw{overflow-x:auto;margin:.6em 0 1.2em}table{border-collapse:collapse;font-size:.9em}"
    "th,td{padding:.35em .7em;border-bottom:1px solid #e3e3e8;white-space:nowrap}"
    "th{background:#f4f4f7}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}"
    "code{background:#f4f4f7;padding:0 .25em;border-radius:3px}strong{color:#b00020}"
    "figure{margin:1.2em 0;padding:.8em;border:1px solid #e3e3e8;border-radius:6px}"
    "figure img{max-width:100%;height:auto}figcaption{color:#555;font-size:.9em}";


void slm_drift_html(const slm_drift *d, const slm_drift_charts *ch, const char *outdir,
                    slm_buf *out)
{
    /* The Markdown without its chart links: the page embeds the charts itself. */
    slm_buf md = {0};
    slm_drift_markdown(d, NULL, &md);
    slm_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "img-src data:; style-src 'unsafe-inline'\">\n"
                      "<title>slmbench drift review</title>\n<style>");
    slm_buf_puts(out, CSS);
    slm_buf_puts(out, "</style>\n</head>\n<body>\n");
    slm_md_to_html(md.data ? md.data : "", out);
    slm_buf_free(&md);
    if (ch) {
        slm_buf_puts(out, "<h2>Charts</h2>\n");
        if (ch->note) {
            slm_buf_puts(out, "<p class=\"note\">");
            slm_html_esc(out, ch->note);
            slm_buf_puts(out, "</p>\n");
        }
        for (size_t i = 0; i < ch->n; i++) {
            const slm_drift_chart *c = &ch->v[i];
            if (!c->svg || !outdir)
                continue;
            char *path = slm_xasprintf("%s/%s", outdir, c->svg), *svg = NULL;
            size_t len = 0;
            char e2[SLM_ERRLEN];
            if (slm_read_file(path, &svg, &len, e2, sizeof e2) == 0) {
                slm_buf_puts(out, "<figure><img alt=\"");
                slm_html_esc(out, c->caption);
                slm_buf_puts(out, "\" src=\"data:image/svg+xml;base64,");
                slm_base64(out, svg, len);
                slm_buf_puts(out, "\"><figcaption>");
                slm_html_esc(out, c->caption);
                slm_buf_puts(out, " — data: <code>");
                slm_html_esc(out, c->dat);
                slm_buf_puts(out, "</code></figcaption></figure>\n");
                free(svg);
            }
            free(path);
        }
    }
    slm_buf_puts(out, "</body>\n</html>\n");
}

/* ---- JSON ----------------------------------------------------------------------------- */



int slm_drift_json(const slm_drift *d, slm_buf *out, char *err, size_t errlen)
{
    json_t *root = json_object();
    json_object_set_new(root, "database", json_string(d->db_path));
    json_object_set_new(root, "from", json_string(d->month[0]));
    json_object_set_new(root, "to", json_string(d->month[d->nm - 1]));
    json_t *ms = json_array();
    for (size_t j = 0; j < d->nm; j++)
        json_array_append_new(ms, json_string(d->month[j]));
    json_object_set_new(root, "months", ms);
    json_t *mets = json_array();
    for (size_t k = 0; k < d->nmet; k++)
        json_array_append_new(mets, json_string(d->met[k]->name));
    json_object_set_new(root, "metrics", mets);
    json_object_set_new(root, "rule", json_pack("{s:s, s:f, s:f}", "interval",
                                                "outside the previous month's 95% interval",
                                                "relative_without_interval", SLM_DRIFT_LATENCY_REL,
                                                "per_class_delta", SLM_DRIFT_CLASS_DELTA));
    json_object_set_new(root, "n_runs", json_integer((json_int_t)d->nruns));
    json_object_set_new(root, "n_flagged", json_integer((json_int_t)d->nflag));
    json_t *flags = json_array(), *sers = json_array();
    for (size_t i = 0; i < d->ns; i++) {
        const series *s = &d->s[i];
        json_t *so = json_object(), *months = json_array();
        json_object_set_new(so, "model", json_string(s->model));
        json_object_set_new(so, "evalset", json_string(s->evalset));
        for (size_t j = 0; j < d->nm; j++) {
            const point *p = &s->pt[j];
            if (!p->present)
                continue;
            json_t *mo = json_object(), *mv = json_object();
            json_object_set_new(mo, "month", json_string(d->month[j]));
            json_object_set_new(mo, "run_id", json_integer(p->run_id));
            json_object_set_new(mo, "created_at", slm_json_str(p->created_at));
            json_object_set_new(mo, "model_sha256", slm_json_str(p->model_sha));
            json_object_set_new(mo, "evalset_version", slm_json_str(p->es_version));
            json_object_set_new(mo, "evalset_sha256", slm_json_str(p->es_sha));
            json_object_set_new(mo, "previous_month",
                                p->prev >= 0 ? json_string(d->month[p->prev]) : json_null());
            for (size_t k = 0; k < d->nmet; k++) {
                json_t *v = json_object();
                json_object_set_new(v, "value", slm_json_num(p->v[k]));
                json_object_set_new(v, "lo", slm_json_num(p->lo[k]));
                json_object_set_new(v, "hi", slm_json_num(p->hi[k]));
                json_object_set_new(v, "flagged", json_boolean(p->flag[k] != 0));
                json_object_set_new(v, "direction",
                                    p->flag[k] ? json_string(flag_word(p->flag[k])) : json_null());
                json_object_set_new(mv, d->met[k]->name, v);
                if (p->flag[k]) {
                    const point *q = &s->pt[p->prev];
                    json_array_append_new(
                        flags, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:s}",
                                         "model", s->model, "evalset", s->evalset, "metric",
                                         d->met[k]->name, "month", d->month[j], "value",
                                         slm_json_num(p->v[k]), "previous_month", d->month[p->prev],
                                         "previous_value", slm_json_num(q->v[k]), "previous_lo",
                                         slm_json_num(q->lo[k]), "previous_hi", slm_json_num(q->hi[k]),
                                         "direction", flag_word(p->flag[k])));
                }
            }
            json_object_set_new(mo, "metrics", mv);
            json_object_set_new(mo, "e2e_ms_p50", slm_json_num(p->p50));
            json_object_set_new(mo, "e2e_ms_p95", slm_json_num(p->p95));
            json_array_append_new(months, mo);
        }
        json_object_set_new(so, "months", months);
        json_array_append_new(sers, so);
    }
    json_object_set_new(root, "flags", flags);
    json_object_set_new(root, "series", sers);
    json_t *shs = json_array();
    for (size_t i = 0; i < d->nsh; i++) {
        const shift *h = &d->sh[i];
        json_array_append_new(shs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
                                             "model", d->s[h->s].model, "evalset",
                                             d->s[h->s].evalset, "from", d->month[h->from], "to",
                                             d->month[h->to], "label", h->label, "recall_from",
                                             slm_json_num(h->r0), "recall_to", slm_json_num(h->r1), "f1_from",
                                             slm_json_num(h->f0), "f1_to", slm_json_num(h->f1)));
    }
    json_object_set_new(root, "per_class_shifts", shs);
    json_t *lds = json_array();
    for (size_t i = 0; i < d->nld; i++) {
        const ldrift *l = &d->ld[i];
        json_t *ca = json_object(), *cb = json_object();
        for (size_t k = 0; k < l->k; k++) {
            json_object_set_new(ca, l->labels[k], json_integer(l->ca[k]));
            json_object_set_new(cb, l->labels[k], json_integer(l->cb[k]));
        }
        json_array_append_new(
            lds, json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                           "s:i, s:o, s:b}",
                           "evalset", l->evalset, "from", d->month[l->from], "to",
                           d->month[l->to], "run_from", (json_int_t)l->run_a, "run_to",
                           (json_int_t)l->run_b, "version_from", slm_json_str(l->ver_a), "version_to",
                           slm_json_str(l->ver_b), "sha256_from", slm_json_str(l->sha_a), "sha256_to",
                           slm_json_str(l->sha_b), "counts_from", ca, "counts_to", cb, "tvd",
                           slm_json_num(l->tvd), "chi2", slm_json_num(l->chi2), "df", l->df, "p_value",
                           slm_json_num(l->p), "expected_below_5", l->low_expected));
    }
    json_object_set_new(root, "label_drift", lds);
    char *txt = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!txt)
        return slm_err(err, errlen, "cannot encode the drift review as JSON");
    slm_buf_puts(out, txt);
    slm_buf_putc(out, '\n');
    free(txt);
    return 0;
}

/* ---- charts --------------------------------------------------------------------------- */


static char *series_label(const slm_drift *d, size_t i)
{
    int one_es = 1;
    for (size_t k = 1; k < d->ns; k++)
        if (strcmp(d->s[k].evalset, d->s[0].evalset))
            one_es = 0;
    return one_es ? slm_xstrdup(d->s[i].model)
                  : slm_xasprintf("%s @ %s", d->s[i].model, d->s[i].evalset);
}

static const char PROLOGUE[] =
    "set encoding utf8\n"
    "set decimalsign '.'\n"
    "set datafile commentschars '#'\n"
    "set linetype 1 lc rgb '#1f77b4' lw 2 pt 7\n"
    "set linetype 2 lc rgb '#ff7f0e' lw 2 pt 5\n"
    "set linetype 3 lc rgb '#2ca02c' lw 2 pt 9\n"
    "set linetype 4 lc rgb '#9467bd' lw 2 pt 13\n"
    "set linetype 5 lc rgb '#8c564b' lw 2 pt 11\n"
    "set linetype 6 lc rgb '#e377c2' lw 2 pt 7\n"
    "set linetype 7 lc rgb '#7f7f7f' lw 2 pt 5\n"
    "set linetype 8 lc rgb '#bcbd22' lw 2 pt 9\n"
    "set linetype 9 lc rgb '#17becf' lw 2 pt 11\n"
    "set linetype cycle 9\n";

/* One chart: writes drift_<metric>.dat and .gp into dir and draws them. *why is set
 * (caller frees) when gnuplot did not draw; *missing when it could not be started. */
/* The data of chart k (one block per series with values) into dat and the plot command
 * into plot; returns the number of series drawn. */
static size_t chart_data(const slm_drift *d, size_t k, const char *stem, slm_buf *dat,
                         slm_buf *plot)
{
    const slm_field *f = d->met[k];
    slm_buf_printf(dat, "# %s by month: month_index month value lo hi flagged\n"
                        "# one block per series (gnuplot: index i), named in its first line; "
                        "flagged: 1 better, -1 worse, 2 changed, 0 not flagged\n",
                   f->name);
    size_t nb = 0, nflag_series = 0;
    for (size_t i = 0; i < d->ns; i++) {
        size_t n = 0, nflag = 0;
        int band = 0;
        slm_buf rows = {0};
        for (size_t j = 0; j < d->nm; j++) {
            const point *p = &d->s[i].pt[j];
            if (!p->present || !isfinite(p->v[k]))
                continue;
            slm_buf_printf(&rows, "%zu \"%s\" ", j + 1, d->month[j]);
            slm_gp_num(&rows, p->v[k]);
            slm_buf_putc(&rows, ' ');
            slm_gp_num(&rows, p->lo[k]);
            slm_buf_putc(&rows, ' ');
            slm_gp_num(&rows, p->hi[k]);
            slm_buf_printf(&rows, " %d\n", p->flag[k]);
            band |= isfinite(p->lo[k]) && isfinite(p->hi[k]);
            nflag += p->flag[k] != 0;
            n++;
        }
        if (!n) {
            slm_buf_free(&rows);
            continue;
        }
        char *label = series_label(d, i);
        if (nb)
            slm_buf_puts(dat, "\n\n");
        slm_buf_puts(dat, "# series ");
        slm_gp_dat_str(dat, label);
        slm_buf_putc(dat, '\n');
        slm_buf_append(dat, rows.data, rows.len);
        slm_buf_free(&rows);
        int lt = (int)(nb % 9) + 1;
        if (band)
            slm_buf_printf(plot, "%s'%s.dat' index %zu using 1:4:5 with filledcurves "
                                  "fs transparent solid 0.18 noborder lt %d notitle",
                           plot->len ? ", \\\n         " : "    plot ", stem, nb, lt);
        slm_buf_printf(plot, "%s'%s.dat' index %zu using 1:3 with linespoints lt %d title ",
                       plot->len ? ", \\\n         " : "    plot ", stem, nb, lt);
        slm_gp_str(plot, label);
        if (nflag) {
            slm_buf_printf(plot, ", \\\n         '%s.dat' index %zu using 1:($6 != 0 ? $3 : NaN) "
                                  "with points pt 6 ps 3 lw 2.5 lc rgb '#d62728' %s",
                           stem, nb, nflag_series ? "notitle" : "title 'flagged change'");
            nflag_series++;
        }
        free(label);
        nb++;
    }
    return nb;
}

/* The gnuplot script of chart k: prologue, both terminals, axes from the field, a dashed
 * line where an eval set changed, then the plot command. */
static void chart_script(const slm_drift *d, size_t k, const char *stem, const slm_buf *plot,
                         slm_buf *gp)
{
    const slm_field *f = d->met[k];
    slm_buf_printf(gp, "# %s.gp — written by slmbench drift. Run `gnuplot %s.gp` in this "
                        "folder to redraw %s.svg and %s.png from %s.dat.\n",
                   stem, stem, stem, stem, stem);
    slm_buf_puts(gp, PROLOGUE);
    int w = 260 + 90 * (int)d->nm;
    w = w < 800 ? 800 : w > 2400 ? 2400 : w;
    slm_buf_printf(gp,
                   "do for [fmt in 'svg png'] {\n"
                   "    if (fmt eq 'svg') {\n"
                   "        set terminal svg size %d,480 dynamic noenhanced font 'Sans,12' "
                   "background rgb 'white'\n"
                   "    } else {\n"
                   "        set terminal pngcairo size %d,480 noenhanced font 'Sans,10' "
                   "background rgb 'white'\n"
                   "    }\n"
                   "    set output '%s.'.fmt\n"
                   "    set title ",
                   w, w, stem);
    {
        slm_buf t = {0};
        slm_buf_printf(&t, "%s by month", f->title);
        slm_gp_str(gp, t.data);
        slm_buf_free(&t);
    }
    slm_buf_puts(gp, "\n    set ylabel ");
    slm_gp_str(gp, *f->unit ? f->unit : f->name);
    slm_buf_printf(gp, "\n    set xrange [0.5:%zu.5]\n    set xtics (", d->nm);
    for (size_t j = 0; j < d->nm; j++)
        slm_buf_printf(gp, "%s'%s' %zu", j ? ", " : "", d->month[j], j + 1);
    slm_buf_puts(gp, ")\n    set grid lc rgb '#dddddd'\n"
                      "    set key below horizontal\n");
    if ((f->fmt == SLM_FMT_PCT))
        slm_buf_puts(gp, "    set yrange [0:1.05]\n");
    else
        slm_buf_puts(gp, "    set offsets 0, 0, graph 0.08, graph 0.08\n");
    /* a dashed line where an eval set changed version or content */
    for (size_t i = 0; i < d->nld; i++) {
        const ldrift *l = &d->ld[i];
        slm_buf_printf(gp, "    set arrow from %zu, graph 0 to %zu, graph 1 nohead dt 2 "
                            "lc rgb '#888888'\n    set label ",
                       l->to + 1, l->to + 1);
        slm_buf t = {0};
        slm_buf_printf(&t, "%s: v%s -> v%s", l->evalset, l->ver_a ? l->ver_a : "?",
                       l->ver_b ? l->ver_b : "?");
        if (slm_streq_null(l->ver_a, l->ver_b))
            slm_buf_puts(&t, " (new content)");
        slm_gp_str(gp, t.data);
        slm_buf_free(&t);
        slm_buf_printf(gp, " at %zu, graph %.2f left offset 0.4,0 font ',9' tc rgb '#555555'\n",
                       l->to + 1, 0.96 - 0.05 * (double)(i % 4));
    }
    slm_buf_append(gp, plot->data, plot->len);
    slm_buf_puts(gp, "\n    unset output\n}\n");
}

/* Writes the chart's .dat and .gp into dir and draws it (unless gnuplot is *missing);
 * -1 only when a file cannot be written. */
static int chart_draw(const char *dir, const char *stem, const slm_buf *dat, const slm_buf *gp,
                      slm_drift_chart *c, int *missing, char **why, char *err, size_t errlen)
{
    int rc = -1;
    char *datp = slm_xasprintf("%s/%s.dat", dir, stem), *gpp = slm_xasprintf("%s/%s.gp", dir, stem);
    char *svgp = slm_xasprintf("%s/%s.svg", dir, stem), *pngp = slm_xasprintf("%s/%s.png", dir, stem);
    unlink(svgp), unlink(pngp);
    if (slm_write_file_atomic(datp, dat->data, dat->len, err, errlen) ||
        slm_write_file_atomic(gpp, gp->data, gp->len, err, errlen))
        goto out;
    rc = 0;
    if (*missing) {
        *why = slm_xstrdup("gnuplot could not be run");
        goto out;
    }
    char script[300], reason[SLM_ERRLEN];
    snprintf(script, sizeof script, "%s.gp", stem);
    int g = slm_gnuplot_run(dir, script, reason, sizeof reason);
    if (g == 0 && access(svgp, R_OK) == 0 && access(pngp, R_OK) == 0) {
        c->svg = slm_xasprintf("plots/%s.svg", stem);
        c->png = slm_xasprintf("plots/%s.png", stem);
    } else {
        if (g == -2)
            *missing = 1;
        *why = slm_xstrdup(g ? reason : "gnuplot wrote no image");
        unlink(svgp), unlink(pngp);
    }
out:
    free(datp), free(gpp), free(svgp), free(pngp);
    return rc;
}

static int chart_one(const slm_drift *d, size_t k, const char *dir, slm_drift_chart *c,
                     int *missing, char **why, char *err, size_t errlen)
{
    const slm_field *f = d->met[k];
    char *stem = slm_xasprintf("drift_%s", f->name);
    slm_buf dat = {0}, gp = {0}, plot = {0};
    int rc = 0;
    size_t nb = chart_data(d, k, stem, &dat, &plot);
    c->metric = slm_xstrdup(f->name);
    c->caption = slm_xasprintf("%s by month, one line per model%s; circled months are flagged "
                               "changes.",
                               f->title,
                               f->name[0] && strstr(f->name, "_ms_")
                                   ? " (no interval: flagged beyond a 20% change)"
                                   : " with its 95% interval as a band");
    c->dat = slm_xasprintf("plots/%s.dat", stem);
    if (!nb) {
        *why = slm_xasprintf("no values of %s in the window", f->name);
    } else {
        chart_script(d, k, stem, &plot, &gp);
        rc = chart_draw(dir, stem, &dat, &gp, c, missing, why, err, errlen);
    }
    slm_buf_free(&dat), slm_buf_free(&gp), slm_buf_free(&plot);
    free(stem);
    return rc;
}

int slm_drift_charts_write(const slm_drift *d, const char *outdir, slm_drift_charts *ch,
                           char *err, size_t errlen)
{
    memset(ch, 0, sizeof *ch);
    char *dir = slm_xasprintf("%s/plots", outdir);
    int rc = -1, missing = 0;
    slm_buf note = {0};
    if (slm_mkdir_p(dir, err, errlen))
        goto out;
    ch->v = slm_xcalloc(d->nmet, sizeof *ch->v);
    for (size_t k = 0; k < d->nmet; k++) {
        char *why = NULL;
        int was_missing = missing;
        if (chart_one(d, k, dir, &ch->v[ch->n++], &missing, &why, err, errlen))
            goto out;
        if (why) {
            /* without gnuplot every chart has the same reason: say it once */
            if (was_missing)
                ;
            else if (missing)
                slm_buf_printf(&note, "%sCharts not drawn: %s", note.len ? "; " : "", why);
            else
                slm_buf_printf(&note, "%s%s: %s", note.len ? "; " : "Charts not drawn: ",
                               ch->v[ch->n - 1].metric, why);
            free(why);
        }
    }
    if (note.len) {
        slm_buf_puts(&note, ".");
        ch->note = slm_buf_take(&note);
    }
    rc = 0;
out:
    slm_buf_free(&note);
    free(dir);
    return rc;
}

void slm_drift_charts_free(slm_drift_charts *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n; i++)
        free(ch->v[i].metric), free(ch->v[i].caption), free(ch->v[i].dat), free(ch->v[i].svg),
            free(ch->v[i].png);
    free(ch->v);
    free(ch->note);
    memset(ch, 0, sizeof *ch);
}
