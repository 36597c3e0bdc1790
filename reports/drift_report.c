/* drift_report.c — the writers of the drift review (drift.h): Markdown, HTML, JSON and
 * the gnuplot charts, all from the grid computed by harness/metrics/drift.c. */
#include "drift.h"
#include "latpairs.h"
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

/* A p-value: 4 significant digits, "< 0.0001" below that. */
static void put_p(slm_buf *b, double p)
{
    if (isfinite(p) && p < 1e-4)
        slm_buf_puts(b, "< 0.0001");
    else
        put_num(b, p, 4);
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

/* One signed difference of kind: percentage points for a share, a relative change of
 * the normalised latency (the difference is of logs), a plain number otherwise. */
static void put_delta(slm_buf *b, slm_drift_kind kind, int pct, double x)
{
    if (!isfinite(x))
        slm_buf_puts(b, "–");
    else if (kind == SLM_DK_LATENCY)
        slm_buf_printf(b, "%+.1f%%", 100.0 * expm1(x));
    else if (pct)
        slm_buf_printf(b, "%+.1f pts", 100.0 * x);
    else
        slm_buf_printf(b, "%+.4f", x);
}

/* "difference [lo, hi]" of a test. */
static void put_diff(slm_buf *b, slm_drift_kind kind, int pct, const slm_drift_diff *r)
{
    put_delta(b, kind, pct, r->diff);
    slm_buf_puts(b, " [");
    put_delta(b, kind, pct, r->lo);
    slm_buf_puts(b, ", ");
    put_delta(b, kind, pct, r->hi);
    slm_buf_puts(b, "]");
}

/* The test's name as the report says it, with its sample sizes. */
static void put_method(slm_buf *b, const slm_drift_diff *r)
{
    slm_buf_puts(b, r->method);
    if (r->n_pairs)
        slm_buf_printf(b, ", %ld paired", r->n_pairs);
    else
        slm_buf_printf(b, ", n %ld → %ld", r->n_a, r->n_b);
    if (r->reps)
        slm_buf_printf(b, ", %d reps", r->reps);
}

static void put_model_es(slm_buf *b, const series *s)
{
    slm_buf_puts(b, "| ");
    slm_md_cell(b, s->model);
    slm_buf_puts(b, " | ");
    slm_md_cell(b, s->evalset);
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
                   "that of the latest complete run of the month. Each month is compared with "
                   "the previous month with data by a test of the difference, computed from "
                   "the stored predictions (paired by example id when both runs evaluated the "
                   "same eval-set data): accuracy and per-class recall by McNemar's test "
                   "(paired) or Fisher's exact / Yates' chi-square test (independent); "
                   "macro-F1 and ECE by a seeded bootstrap of the difference (%d replicates, "
                   "seed %llu); latency only as a ratio to a reference candidate measured in "
                   "the same run. The %zu tests of the review (metrics, per-class recalls, "
                   "label distributions) are adjusted together by Benjamini–Hochberg; a change "
                   "is **flagged** when its adjusted p is below %g (latency: and a move above "
                   "%d%%). Intervals are 95%%, not adjusted.\n\n",
                   d->nruns, d->nruns == 1 ? "" : "s", d->ns, d->reps,
                   (unsigned long long)d->seed, d->ntests, d->alpha,
                   (int)(SLM_DRIFT_LATENCY_REL * 100));
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

/* The cells "difference | test | p | adjusted p" of a judged test. */
static void md_test_cells(slm_buf *b, slm_drift_kind kind, int pct, const dtest *t)
{
    put_diff(b, kind, pct, &t->d);
    slm_buf_puts(b, " | ");
    put_method(b, &t->d);
    slm_buf_puts(b, " | ");
    put_p(b, t->d.p);
    slm_buf_puts(b, " | ");
    put_p(b, t->p_adj);
}

static void md_flagged_metrics(const slm_drift *d, slm_buf *b)
{
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++)
            for (size_t k = 0; d->s[i].pt[j].present && k < d->nmet; k++) {
                const point *p = &d->s[i].pt[j];
                const slm_field *f = d->met[k];
                if (!p->t[k].flag)
                    continue;
                put_model_es(b, &d->s[i]);
                slm_buf_printf(b, " | %s | %s → %s | ", f->name, d->month[p->prev], d->month[j]);
                put_val(b, f, d->s[i].pt[p->prev].v[k]);
                slm_buf_puts(b, " → ");
                put_val(b, f, p->v[k]);
                slm_buf_puts(b, " | ");
                md_test_cells(b, slm_drift_kind_of(f->name, NULL, NULL), f->fmt == SLM_FMT_PCT,
                              &p->t[k]);
                slm_buf_printf(b, " | %s |\n", flag_word(p->t[k].flag));
            }
}

/* The flagged changes: metrics, per-class recalls and label distributions. */
static void md_flagged(const slm_drift *d, slm_buf *b)
{
    if (!d->nflag)
        return;
    slm_buf_puts(b, "## Flagged changes\n\n"
                    "| model | eval set | metric | months | value | difference [95% interval] | "
                    "test | p | adjusted p | direction |\n"
                    "|---|---|---|---|---|---|---|---:|---:|---|\n");
    md_flagged_metrics(d, b);
    for (size_t c = 0; c < d->nct; c++) {
        const ctest *ct = &d->ct[c];
        if (!ct->t.flag)
            continue;
        put_model_es(b, &d->s[ct->s]);
        slm_buf_puts(b, " | recall of ");
        slm_md_cell(b, ct->label);
        slm_buf_printf(b, " | %s → %s | ", d->month[ct->from], d->month[ct->to]);
        put_num(b, ct->t.d.a, 3);
        slm_buf_puts(b, " → ");
        put_num(b, ct->t.d.b, 3);
        slm_buf_puts(b, " | ");
        md_test_cells(b, SLM_DK_ACCURACY, 1, &ct->t);
        slm_buf_printf(b, " | %s |\n", flag_word(ct->t.flag));
    }
    for (size_t i = 0; i < d->nld; i++) {
        const ldrift *l = &d->ld[i];
        if (!l->flag)
            continue;
        slm_buf_puts(b, "| – | ");
        slm_md_cell(b, l->evalset);
        slm_buf_printf(b, " | label distribution | %s → %s | TVD ", d->month[l->from],
                       d->month[l->to]);
        put_num(b, l->lt.tvd, 3);
        slm_buf_puts(b, " | – | ");
        slm_buf_puts(b, l->lt.method);
        slm_buf_puts(b, " | ");
        put_p(b, l->lt.p);
        slm_buf_puts(b, " | ");
        put_p(b, l->p_adj);
        slm_buf_puts(b, " | changed |\n");
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

/* Every test of series s: month, metric, difference, test, p, adjusted p, verdict. */
static void md_series_tests(const slm_drift *d, const series *s, slm_buf *b)
{
    slm_buf_puts(b, "| month | metric | difference [95% interval] | test | p | adjusted p | "
                    "verdict |\n|---|---|---|---|---:|---:|---|\n");
    for (size_t j = 0; j < d->nm; j++)
        for (size_t k = 0; s->pt[j].present && s->pt[j].prev >= 0 && k < d->nmet; k++) {
            const dtest *t = &s->pt[j].t[k];
            const slm_field *f = d->met[k];
            slm_buf_printf(b, "| %s | %s | ", d->month[j], f->name);
            if (!t->judged) {
                slm_buf_puts(b, "– | – | – | – | not judged: ");
                slm_md_cell(b, t->why ? t->why : "");
                slm_buf_puts(b, " |\n");
                continue;
            }
            md_test_cells(b, slm_drift_kind_of(f->name, NULL, NULL), f->fmt == SLM_FMT_PCT, t);
            slm_buf_printf(b, " | %s%s |\n", t->flag ? "FLAGGED " : "not flagged",
                           flag_word(t->flag));
        }
    slm_buf_putc(b, '\n');
}

/* One table per series (model × eval set), a row per month of the window, then its tests. */
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
        md_series_tests(d, s, b);
    }
}

static const char *attr_method(int kind)
{
    return kind == ATTR_OLD_MODEL_NEW_SET   ? "old model re-scored on the new eval set"
           : kind == ATTR_NEW_MODEL_OLD_SET ? "new model re-scored on the old eval set"
                                            : NULL;
}

/* The rows of month j of series s whose model and eval set both changed. */
static void md_attr_rows(const slm_drift *d, const series *s, size_t j, slm_buf *b)
{
    const point *p = &s->pt[j], *q = &s->pt[p->prev];
    const attribution *a = p->attr;
    if (a->kind == ATTR_NONE) {
        put_model_es(b, s);
        slm_buf_printf(b, " | %s → %s | – | – | – | – | – | ", d->month[p->prev], d->month[j]);
        slm_md_cell(b, a->note);
        slm_buf_puts(b, " |\n");
        return;
    }
    for (size_t k = 0; k < d->nmet; k++) {
        const slm_field *f = d->met[k];
        if (!isfinite(a->rescore[k]))
            continue;
        int pct = f->fmt == SLM_FMT_PCT;
        put_model_es(b, s);
        slm_buf_printf(b, " | %s → %s | %s | ", d->month[p->prev], d->month[j], f->name);
        put_delta(b, SLM_DK_NONE, pct, p->v[k] - q->v[k]);
        slm_buf_puts(b, " | ");
        put_delta(b, SLM_DK_NONE, pct, a->model[k]);
        slm_buf_puts(b, " | ");
        put_delta(b, SLM_DK_NONE, pct, a->data[k]);
        slm_buf_puts(b, " | ");
        put_val(b, f, a->rescore[k]);
        slm_buf_printf(b, " | %s: run %lld, candidate ", attr_method(a->kind),
                       (long long)a->run_id);
        slm_md_cell(b, a->cand);
        slm_buf_puts(b, " |\n");
    }
}

/* Months in which both the model file and the eval-set data changed: model or data? */
static void md_attribution(const slm_drift *d, slm_buf *b)
{
    size_t n = 0;
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++)
            n += d->s[i].pt[j].present && d->s[i].pt[j].attr;
    if (!n)
        return;
    slm_buf_puts(b, "## Model and eval set changed together\n\n"
                    "Between these months both the model file and the eval-set data changed. "
                    "A stored run of the old model on the new eval set (or of the new model "
                    "on the old set) splits each change into a model effect and a data effect "
                    "that add up to it (point values, not tested); without one the change "
                    "cannot be separated.\n\n"
                    "| model | eval set | months | metric | change | model effect | data effect "
                    "| re-score | from |\n|---|---|---|---|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++)
            if (d->s[i].pt[j].present && d->s[i].pt[j].attr)
                md_attr_rows(d, &d->s[i], j, b);
    slm_buf_putc(b, '\n');
}

/* Per-class recall tests: how many, and the flagged ones. */
static void md_classes(const slm_drift *d, slm_buf *b)
{
    size_t nf = 0;
    for (size_t c = 0; c < d->nct; c++)
        nf += d->ct[c].t.flag != FLAG_NONE;
    slm_buf_printf(b, "## Per-class recall\n\nThe recall of every label with gold examples in "
                      "both months, tested as accuracy is on that label's examples: %zu test%s, "
                      "%zu flagged.\n\n",
                   d->nct, d->nct == 1 ? "" : "s", nf);
    if (!nf)
        return;
    slm_buf_puts(b, "| model | eval set | from | to | label | recall | difference [95% interval] "
                    "| test | p | adjusted p | direction |\n"
                    "|---|---|---|---|---|---|---|---|---:|---:|---|\n");
    for (size_t c = 0; c < d->nct; c++) {
        const ctest *ct = &d->ct[c];
        if (!ct->t.flag)
            continue;
        put_model_es(b, &d->s[ct->s]);
        slm_buf_printf(b, " | %s | %s | ", d->month[ct->from], d->month[ct->to]);
        slm_md_cell(b, ct->label);
        slm_buf_puts(b, " | ");
        put_num(b, ct->t.d.a, 3);
        slm_buf_puts(b, " → ");
        put_num(b, ct->t.d.b, 3);
        slm_buf_puts(b, " | ");
        md_test_cells(b, SLM_DK_ACCURACY, 1, &ct->t);
        slm_buf_printf(b, " | %s |\n", flag_word(ct->t.flag));
    }
    slm_buf_putc(b, '\n');
}

static void md_label_row(const slm_drift *d, const ldrift *l, slm_buf *b)
{
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
    put_num(b, l->lt.tvd, 4);
    slm_buf_puts(b, " | ");
    put_num(b, l->lt.tvd_null, 3);
    slm_buf_puts(b, " (");
    put_num(b, l->lt.tvd_null_hi, 3);
    slm_buf_puts(b, ") | ");
    put_num(b, l->lt.chi2, 4);
    slm_buf_printf(b, " | %d | %s | ", l->lt.df, l->lt.method);
    put_p(b, l->lt.p);
    slm_buf_puts(b, " | ");
    put_p(b, l->p_adj);
    slm_buf_printf(b, " | %s |\n", l->flag ? "FLAGGED" : "not flagged");
}

static void md_label_counts(const slm_drift *d, const ldrift *l, slm_buf *b)
{
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

/* Label-distribution drift where an eval set's version or hash changed. */
static void md_label_drift(const slm_drift *d, slm_buf *b)
{
    slm_buf_printf(b, "## Label-distribution drift between eval-set versions\n\n"
                      "Where an eval set's sha256 or version changed between consecutive months "
                      "with data: total variation distance (TVD) between the gold-label shares of "
                      "the two runs' examples, beside its mean (and 95th percentile) over %d "
                      "random splits of the pooled labels — the TVD expected with no drift at "
                      "these sample sizes — and a test of homogeneity: Pearson's chi-square "
                      "(Yates-corrected at df = 1), or with an expected count below 5, Fisher's "
                      "exact test (two labels) or a Monte-Carlo permutation p over the same "
                      "splits.\n\n",
                   d->reps);
    if (!d->nld) {
        slm_buf_puts(b, "No eval set changed in the window.\n\n");
        return;
    }
    slm_buf_puts(b, "| eval set | from | to | versions | sha256 | n | TVD | TVD with no drift "
                    "(95th pct) | chi-square | df | test | p | adjusted p | verdict |\n"
                    "|---|---|---|---|---|---|---:|---:|---:|---:|---|---:|---:|---|\n");
    for (size_t i = 0; i < d->nld; i++)
        md_label_row(d, &d->ld[i], b);
    slm_buf_putc(b, '\n');
    for (size_t i = 0; i < d->nld; i++)
        md_label_counts(d, &d->ld[i], b);
}

/* Whether e2e_ms_p95 of point p (series s) was judged, as a cell. */
static void put_latency_verdict(const slm_drift *d, const point *p, slm_buf *b)
{
    const char *sep = "";
    for (size_t k = 0; k < d->nmet; k++) {
        if (slm_drift_kind_of(d->met[k]->name, NULL, NULL) != SLM_DK_LATENCY)
            continue;
        const dtest *t = &p->t[k];
        slm_buf_printf(b, "%s%s: ", sep, d->met[k]->name);
        sep = "; ";
        if (!t->judged) {
            slm_buf_puts(b, "not judged, ");
            slm_md_cell(b, t->why ? t->why : "");
        } else {
            put_delta(b, SLM_DK_LATENCY, 0, t->d.diff);
            slm_buf_puts(b, t->flag ? " FLAGGED" : " not flagged");
        }
    }
}

/* e2e p50 and p95 per series and month, whatever metrics are reviewed. */
static void md_latency(const slm_drift *d, slm_buf *b)
{
    slm_buf_puts(b, "## Latency by month\n\nTwo months are two jobs, so a raw change says as "
                    "much about the machine's load as about the model: latency is judged only "
                    "as a ratio to the latency reference measured in the same run");
    if (d->ref) {
        slm_buf_puts(b, " (here `");
        slm_md_cell(b, d->ref);
        slm_buf_puts(b, "`)");
    }
    slm_buf_printf(b, ", in runs whose load average stayed within their CPUs, with steal up "
                      "to %.0f%% and no noisy flag.\n\n"
                      "| model | eval set | month | e2e p50 (ms) | e2e p95 (ms) | p95 change | "
                      "p95 / reference | judgement |\n|---|---|---|---:|---:|---:|---:|---|\n",
                   SLM_STEAL_MAX_PCT);
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++) {
            const point *p = &d->s[i].pt[j];
            if (!p->present)
                continue;
            put_model_es(b, &d->s[i]);
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
            slm_buf_puts(b, " | ");
            put_num(b, p->ratio95, 4);
            slm_buf_puts(b, " | ");
            if (q)
                put_latency_verdict(d, p, b);
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
    md_attribution(d, b);
    md_classes(d, b);
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
            char *path = slm_xasprintf("%s/%s", outdir, c->svg);
            slm_figure f = {.caption = c->caption, .svg_path = path, .data_path = c->dat};
            slm_html_figure(out, &f);
            free(path);
        }
    }
    slm_buf_puts(out, "</body>\n</html>\n");
}

/* ---- JSON ----------------------------------------------------------------------------- */

/* A test as JSON: its numbers, or {"judged": false, "reason": ...}. */
static json_t *json_test(const dtest *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "judged", json_boolean(t->judged));
    if (!t->judged) {
        json_object_set_new(o, "reason", slm_json_str(t->why));
        return o;
    }
    const slm_drift_diff *r = &t->d;
    json_object_set_new(o, "method", json_string(r->method));
    json_object_set_new(o, "from_value", slm_json_num(r->a));
    json_object_set_new(o, "to_value", slm_json_num(r->b));
    json_object_set_new(o, "difference", slm_json_num(r->diff));
    json_object_set_new(o, "difference_lo", slm_json_num(r->lo));
    json_object_set_new(o, "difference_hi", slm_json_num(r->hi));
    json_object_set_new(o, "p_value", slm_json_num(r->p));
    json_object_set_new(o, "p_adjusted", slm_json_num(t->p_adj));
    json_object_set_new(o, "n_from", json_integer(r->n_a));
    json_object_set_new(o, "n_to", json_integer(r->n_b));
    json_object_set_new(o, "paired", json_boolean(r->n_pairs > 0));
    if (r->n_pairs) {
        json_object_set_new(o, "right_only_from", json_integer(r->only_a));
        json_object_set_new(o, "right_only_to", json_integer(r->only_b));
    }
    if (r->reps) {
        json_object_set_new(o, "replicates", json_integer(r->reps));
        json_object_set_new(o, "seed", json_integer((json_int_t)t->seed));
    }
    json_object_set_new(o, "flagged", json_boolean(t->flag != FLAG_NONE));
    json_object_set_new(o, "direction", t->flag ? json_string(flag_word(t->flag)) : json_null());
    return o;
}

/* The flag of metric k at month j of series s, for the "flags" list. */
static json_t *json_flag(const slm_drift *d, const series *s, size_t j, size_t k)
{
    const point *p = &s->pt[j], *q = &s->pt[p->prev];
    const dtest *t = &p->t[k];
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s}",
                     "model", s->model, "evalset", s->evalset, "metric", d->met[k]->name,
                     "month", d->month[j], "value", slm_json_num(p->v[k]), "previous_month",
                     d->month[p->prev], "previous_value", slm_json_num(q->v[k]), "difference",
                     slm_json_num(t->d.diff), "difference_lo", slm_json_num(t->d.lo),
                     "difference_hi", slm_json_num(t->d.hi), "p_value", slm_json_num(t->d.p),
                     "p_adjusted", slm_json_num(t->p_adj), "method", t->d.method, "direction",
                     flag_word(t->flag));
}

/* Which change explains what, where model and eval set both changed (null elsewhere). */
static json_t *json_attribution(const slm_drift *d, const series *s, const point *p)
{
    const attribution *a = p->attr;
    if (!a)
        return json_null();
    const point *q = &s->pt[p->prev];
    json_t *o = json_object(), *mv = json_object();
    json_object_set_new(o, "model_changed", json_true());
    json_object_set_new(o, "evalset_changed", json_true());
    json_object_set_new(o, "separated", json_boolean(a->kind != ATTR_NONE));
    json_object_set_new(o, "method", a->kind == ATTR_OLD_MODEL_NEW_SET ? json_string("old_model_on_new_evalset")
                                     : a->kind == ATTR_NEW_MODEL_OLD_SET ? json_string("new_model_on_old_evalset")
                                     : json_null());
    json_object_set_new(o, "rescore_run_id", a->kind ? json_integer(a->run_id) : json_null());
    json_object_set_new(o, "rescore_candidate", slm_json_str(a->cand));
    for (size_t k = 0; a->kind && k < d->nmet; k++) {
        json_t *m = json_object();
        json_object_set_new(m, "change", slm_json_num(p->v[k] - q->v[k]));
        json_object_set_new(m, "rescore", slm_json_num(a->rescore[k]));
        json_object_set_new(m, "model_effect", slm_json_num(a->model[k]));
        json_object_set_new(m, "data_effect", slm_json_num(a->data[k]));
        json_object_set_new(mv, d->met[k]->name, m);
    }
    json_object_set_new(o, "metrics", mv);
    json_object_set_new(o, "note", slm_json_str(a->note));
    return o;
}

/* One month of a series: run, metrics with their tests, latency. */
static json_t *json_month(const slm_drift *d, const series *s, size_t j, json_t *flags)
{
    const point *p = &s->pt[j];
    json_t *mo = json_object(), *mv = json_object();
    json_object_set_new(mo, "month", json_string(d->month[j]));
    json_object_set_new(mo, "run_id", json_integer(p->run_id));
    json_object_set_new(mo, "created_at", slm_json_str(p->created_at));
    json_object_set_new(mo, "as_of", slm_json_str(p->as_of)); /* null: dated by created_at */
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
        json_object_set_new(v, "test", p->prev >= 0 ? json_test(&p->t[k]) : json_null());
        json_object_set_new(mv, d->met[k]->name, v);
        if (p->flag[k])
            json_array_append_new(flags, json_flag(d, s, j, k));
    }
    json_object_set_new(mo, "metrics", mv);
    json_object_set_new(mo, "e2e_ms_p50", slm_json_num(p->p50));
    json_object_set_new(mo, "e2e_ms_p95", slm_json_num(p->p95));
    json_object_set_new(mo, "e2e_p95_to_reference", slm_json_num(p->ratio95));
    json_object_set_new(mo, "latency_not_judged", slm_json_str(p->lat_why));
    json_object_set_new(mo, "attribution", json_attribution(d, s, p));
    return mo;
}

static json_t *json_classes(const slm_drift *d, json_t *flags)
{
    json_t *a = json_array();
    for (size_t c = 0; c < d->nct; c++) {
        const ctest *ct = &d->ct[c];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "model", d->s[ct->s].model,
                              "evalset", d->s[ct->s].evalset, "from", d->month[ct->from], "to",
                              d->month[ct->to], "label", ct->label);
        json_object_set_new(o, "recall", json_test(&ct->t));
        json_array_append_new(a, o);
        if (ct->t.flag) {
            json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s}", "model", d->s[ct->s].model,
                                  "evalset", d->s[ct->s].evalset, "metric", "recall", "label",
                                  ct->label, "month", d->month[ct->to]);
            json_object_set_new(f, "previous_month", json_string(d->month[ct->from]));
            json_object_set_new(f, "difference", slm_json_num(ct->t.d.diff));
            json_object_set_new(f, "p_adjusted", slm_json_num(ct->t.p_adj));
            json_object_set_new(f, "direction", json_string(flag_word(ct->t.flag)));
            json_array_append_new(flags, f);
        }
    }
    return a;
}

static json_t *json_label_drift(const ldrift *l, const slm_drift *d)
{
    json_t *ca = json_object(), *cb = json_object();
    for (size_t k = 0; k < l->k; k++) {
        json_object_set_new(ca, l->labels[k], json_integer(l->ca[k]));
        json_object_set_new(cb, l->labels[k], json_integer(l->cb[k]));
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "evalset",
                          l->evalset, "from", d->month[l->from], "to", d->month[l->to],
                          "run_from", (json_int_t)l->run_a, "run_to", (json_int_t)l->run_b,
                          "version_from", slm_json_str(l->ver_a), "version_to",
                          slm_json_str(l->ver_b), "sha256_from", slm_json_str(l->sha_a),
                          "sha256_to", slm_json_str(l->sha_b), "counts_from", ca, "counts_to", cb);
    const slm_label_test *t = &l->lt;
    json_object_set_new(o, "tvd", slm_json_num(t->tvd));
    json_object_set_new(o, "tvd_no_drift_mean", slm_json_num(t->tvd_null));
    json_object_set_new(o, "tvd_no_drift_p95", slm_json_num(t->tvd_null_hi));
    json_object_set_new(o, "chi2", slm_json_num(t->chi2));
    json_object_set_new(o, "df", json_integer(t->df));
    json_object_set_new(o, "method", json_string(t->method));
    json_object_set_new(o, "p_value", slm_json_num(t->p));
    json_object_set_new(o, "p_adjusted", slm_json_num(l->p_adj));
    json_object_set_new(o, "expected_below_5", json_boolean(t->small));
    json_object_set_new(o, "replicates", json_integer(t->reps));
    json_object_set_new(o, "seed", json_integer((json_int_t)l->seed));
    json_object_set_new(o, "flagged", json_boolean(l->flag != FLAG_NONE));
    return o;
}

/* How the review judges, stated once. */
static json_t *json_rule(const slm_drift *d)
{
    json_t *r = json_object();
    json_object_set_new(r, "multiplicity", json_string("benjamini-hochberg"));
    json_object_set_new(r, "family", json_string("every judged test of the review: metrics x "
                                                 "series x months, per-class recalls, label "
                                                 "distributions"));
    json_object_set_new(r, "alpha", json_real(d->alpha));
    json_object_set_new(r, "n_tests", json_integer((json_int_t)d->ntests));
    json_object_set_new(r, "bootstrap_replicates", json_integer(d->reps));
    json_object_set_new(r, "seed", json_integer((json_int_t)d->seed));
    json_object_set_new(r, "latency_reference", slm_json_str(d->ref));
    json_object_set_new(r, "latency_min_relative_change", json_real(SLM_DRIFT_LATENCY_REL));
    json_object_set_new(r, "latency_max_steal_pct", json_real(SLM_STEAL_MAX_PCT));
    return r;
}

int slm_drift_json(const slm_drift *d, slm_buf *out, char *err, size_t errlen)
{
    json_t *root = json_object();
    json_object_set_new(root, "database", json_string(d->db_path));
    json_object_set_new(root, "from", json_string(d->month[0]));
    json_object_set_new(root, "to", json_string(d->month[d->nm - 1]));
    json_t *ms = json_array(), *mets = json_array();
    for (size_t j = 0; j < d->nm; j++)
        json_array_append_new(ms, json_string(d->month[j]));
    json_object_set_new(root, "months", ms);
    for (size_t k = 0; k < d->nmet; k++)
        json_array_append_new(mets, json_string(d->met[k]->name));
    json_object_set_new(root, "metrics", mets);
    json_object_set_new(root, "rule", json_rule(d));
    json_object_set_new(root, "n_runs", json_integer((json_int_t)d->nruns));
    json_object_set_new(root, "n_flagged", json_integer((json_int_t)d->nflag));
    json_t *flags = json_array(), *sers = json_array();
    for (size_t i = 0; i < d->ns; i++) {
        const series *s = &d->s[i];
        json_t *months = json_array();
        for (size_t j = 0; j < d->nm; j++)
            if (s->pt[j].present)
                json_array_append_new(months, json_month(d, s, j, flags));
        json_array_append_new(sers, json_pack("{s:s, s:s, s:o}", "model", s->model, "evalset",
                                              s->evalset, "months", months));
    }
    json_t *cls = json_classes(d, flags), *lds = json_array();
    for (size_t i = 0; i < d->nld; i++) {
        json_array_append_new(lds, json_label_drift(&d->ld[i], d));
        if (d->ld[i].flag)
            json_array_append_new(flags, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "evalset",
                                                   d->ld[i].evalset, "metric", "label_distribution",
                                                   "month", d->month[d->ld[i].to], "previous_month",
                                                   d->month[d->ld[i].from], "p_adjusted",
                                                   slm_json_num(d->ld[i].p_adj), "direction",
                                                   "changed"));
    }
    json_object_set_new(root, "flags", flags);
    json_object_set_new(root, "series", sers);
    json_object_set_new(root, "per_class", cls);
    json_object_set_new(root, "label_drift", lds);
    int rc = slm_json_emit(out, root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (rc)
        return slm_err(err, errlen, "cannot encode the drift review as JSON");
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
                               slm_drift_kind_of(f->name, NULL, NULL) == SLM_DK_LATENCY
                                   ? " (judged only as a ratio to a reference candidate)"
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
