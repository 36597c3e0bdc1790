/* prod_report.c — the production review as Markdown, HTML and JSON (prod_report.h). */
#include "prod_report.h"

#include "gnuplot.h"
#include "json_out.h"
#include "plots.h"
#include "redact.h"
#include "report.h"
#include "report_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Markdown ------------------------------------------------------------------------ */

/* v with digits significant digits, scaled by mul (100 for percentages, then a '%'), or
 * "–" when undefined. */
static void md_val(slm_buf *b, double v, double mul, int digits)
{
    char t[48];
    if (!isfinite(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    slm_fmt_double(t, sizeof t, v * mul, digits);
    slm_buf_printf(b, "%s%s", t, mul == 100.0 ? "%" : "");
}

static void md_pct(slm_buf *b, double v) { md_val(b, v, 100.0, 4); }

static void md_band(slm_buf *b, double v, double lo, double hi)
{
    md_pct(b, v);
    slm_buf_puts(b, " [");
    md_pct(b, lo);
    slm_buf_puts(b, ", ");
    md_pct(b, hi);
    slm_buf_puts(b, "]");
}

static void md_pval(slm_buf *b, double p)
{
    if (isfinite(p) && p < 1e-4)
        slm_buf_puts(b, "< 0.0001");
    else
        md_val(b, p, 1.0, 3);
}

static const char *verdict_word(const slm_prod_month_review *m)
{
    return m->reviewed ? slm_prod_verdict_name(m->vs_ref.verdict) : NULL;
}

/* The names of the flagged signals, comma-separated, or "–". */
static void md_decided(slm_buf *b, const slm_prod_review *v)
{
    int any = 0;
    for (int s = 0; s < SLM_PS_COUNT; s++)
        if (v->sig[s].flagged)
            slm_buf_printf(b, "%s%s", any++ ? ", " : "", v->sig[s].name);
    if (!any)
        slm_buf_puts(b, "–");
}

static void md_intro(const slm_prod_report *r, slm_buf *b)
{
    slm_buf_puts(b, "# Production review of deployment `");
    slm_md_cell(b, r->deployment);
    slm_buf_printf(b, "`\n\nReference: run %lld, candidate `", (long long)r->run_id);
    slm_md_cell(b, r->candidate);
    slm_buf_puts(b, "` (eval accuracy ");
    md_pct(b, r->eval_acc);
    slm_buf_puts(b, "); cascade threshold ");
    md_val(b, r->threshold, 1.0, 4);
    slm_buf_puts(b, ". Each month is reviewed against the reference (its verdict) and "
                    "against the previous month with traffic (shown). Signals are adjusted "
                    "together by Benjamini–Hochberg; a signal is flagged when its adjusted p "
                    "is below ");
    md_val(b, r->alpha, 1.0, 3);
    slm_buf_puts(b, " and its effect passes its floor (docs/prodstats.md). Verdict: "
                    "`degraded` when an accuracy signal is flagged, else `drifted` when a "
                    "distribution signal is, else `stable`.\n\n");
    slm_buf_printf(b, "**Assumptions of the accuracy estimate.** %s\n\n", slm_prod_assumptions);
    if (r->text_note)
        slm_buf_printf(b, "Vocabulary signals: not available (%s).\n\n", r->text_note);
    slm_buf_puts(b, "| month | rows | verdict | decided by |\n|---|---:|---|---|\n");
    for (size_t i = 0; i < r->nm; i++) {
        const slm_prod_month_review *m = &r->m[i];
        slm_buf_printf(b, "| %s | %ld | %s | ", m->month, m->n,
                       m->reviewed ? verdict_word(m) : "no traffic");
        if (m->reviewed)
            md_decided(b, &m->vs_ref);
        else
            slm_buf_puts(b, "–");
        slm_buf_puts(b, " |\n");
    }
    slm_buf_putc(b, '\n');
}

static void md_signals(slm_buf *b, const slm_prod_review *v)
{
    slm_buf_puts(b, "| signal | kind | effect | floor | p | adjusted p | flagged |\n"
                    "|---|---|---:|---:|---:|---:|---|\n");
    for (int s = 0; s < SLM_PS_COUNT; s++) {
        const slm_prod_signal *g = &v->sig[s];
        slm_buf_printf(b, "| %s | %s | ", g->name, g->degrades ? "degraded" : "drifted");
        md_val(b, g->effect, 1.0, 4);
        slm_buf_puts(b, " | ");
        md_val(b, g->floor, 1.0, 3);
        slm_buf_puts(b, " | ");
        md_pval(b, g->p);
        slm_buf_puts(b, " | ");
        md_pval(b, g->p_adj);
        slm_buf_printf(b, " | %s |\n", !isfinite(g->p) ? "not tested" : g->flagged ? "**yes**" : "no");
    }
    slm_buf_putc(b, '\n');
}

static void md_labels(const slm_prod_report *r, const slm_prod_review *v, slm_buf *b)
{
    slm_buf_puts(b, "- Predicted labels: PSI ");
    md_val(b, v->psi, 1.0, 4);
    slm_buf_puts(b, ", Jensen–Shannon distance ");
    md_val(b, v->js, 1.0, 4);
    slm_buf_printf(b, ", %s p ", v->labels.method ? v->labels.method : "test");
    md_pval(b, v->labels.p);
    slm_buf_puts(b, ". Moved most:");
    for (size_t i = 0; i < v->n_movers; i++) {
        const slm_prod_mover *mv = &v->movers[i];
        slm_buf_printf(b, "%s `", i ? ";" : "");
        slm_md_cell(b, (size_t)mv->cls < r->n_classes ? r->classes[mv->cls] : "?");
        slm_buf_puts(b, "` ");
        md_pct(b, mv->share_ref);
        slm_buf_puts(b, " → ");
        md_pct(b, mv->share_month);
    }
    slm_buf_puts(b, v->n_movers ? "." : " –.");
    const slm_prod_mover *t = &v->class_top;
    if (t->cls >= 0) {
        slm_buf_puts(b, " Most significant change of one class: `");
        slm_md_cell(b, (size_t)t->cls < r->n_classes ? r->classes[t->cls] : "?");
        slm_buf_puts(b, "` ");
        md_pct(b, t->share_ref);
        slm_buf_puts(b, " → ");
        md_pct(b, t->share_month);
        slm_buf_puts(b, " (Bonferroni p ");
        md_pval(b, v->class_p);
        slm_buf_puts(b, ", its PSI term ");
        md_val(b, t->contrib, 1.0, 4);
        slm_buf_puts(b, ")");
    }
    slm_buf_puts(b, "\n");
}

static void md_conf(const slm_prod_review *v, slm_buf *b)
{
    slm_buf_puts(b, "- Confidence: KS D ");
    md_val(b, v->conf_ks.d, 1.0, 4);
    slm_buf_puts(b, ", p ");
    md_pval(b, v->conf_ks.p);
    slm_buf_printf(b, ". Escalation rate (below the threshold) %ld/%ld = ", v->esc_k, v->esc_n);
    md_band(b, v->esc_rate, v->esc_lo, v->esc_hi);
    slm_buf_puts(b, " (Wilson) against ");
    md_pct(b, v->esc_ref);
    slm_buf_puts(b, ".\n");
}

static void md_accuracy(const slm_prod_review *v, slm_buf *b)
{
    slm_buf_printf(b, "- Estimated accuracy (%s confidences, %ld tickets): ",
                   v->calibrated ? "calibrated" : "raw", v->est_n);
    md_band(b, v->est, v->est_lo, v->est_hi);
    slm_buf_puts(b, v->est_corrected ? " (CBPE " : " (plain CBPE ");
    md_pct(b, v->est_cbpe);
    slm_buf_puts(b, v->est_corrected ? " plus the eval run's calibration gap " : "");
    if (v->est_corrected)
        md_pct(b, v->ref_gap);
    slm_buf_puts(b, ") beside the compared accuracy ");
    md_pct(b, v->ref_acc);
    slm_buf_puts(b, "; drop of the estimate ");
    md_band(b, v->est_drop, v->est_drop_lo, v->est_drop_hi);
    slm_buf_puts(b, ".\n- Observed accuracy on corrected tickets: ");
    if (!v->obs_n) {
        slm_buf_puts(b, "no corrected ticket.\n");
        return;
    }
    slm_buf_printf(b, "%ld/%ld = ", v->obs_k, v->obs_n);
    md_band(b, v->obs_acc, v->obs_lo, v->obs_hi);
    slm_buf_puts(b, " (Wilson); estimate on the same tickets ");
    md_pct(b, v->obs_est);
    slm_buf_puts(b, ", gap observed − estimated ");
    md_band(b, v->gap, v->gap_lo, v->gap_hi);
    slm_buf_puts(b, ".\n");
}

static void md_recall(const slm_prod_report *r, const slm_prod_review *v, slm_buf *b)
{
    if (!v->obs_n)
        return;
    slm_buf_puts(b, "\n| label | corrected tickets | recall [95%] |\n|---|---:|---|\n");
    for (size_t c = 0; c < v->n_labels && c < r->n_labels; c++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->classes[c]);
        slm_buf_printf(b, " | %ld | ", v->recall_n[c]);
        md_band(b, v->recall[c], v->recall_lo[c], v->recall_hi[c]);
        slm_buf_puts(b, " |\n");
    }
    slm_buf_putc(b, '\n');
}

static void md_input(const slm_prod_report *r, const slm_prod_review *v, slm_buf *b)
{
    slm_buf_puts(b, "- Input: text length KS D ");
    md_val(b, v->len_ks.d, 1.0, 4);
    slm_buf_puts(b, ", p ");
    md_pval(b, v->len_ks.p);
    if (r->text_note) {
        slm_buf_puts(b, "; unseen words: not available.\n");
    } else {
        slm_buf_puts(b, "; share of words unseen in the eval set ");
        md_pct(b, v->oov);
        slm_buf_puts(b, " against ");
        md_pct(b, v->oov_ref);
        slm_buf_puts(b, ", p ");
        md_pval(b, v->oov_p);
        slm_buf_puts(b, ". New frequent words:");
        for (size_t i = 0; i < v->n_new_words; i++) {
            char *w = slm_redact(v->new_words[i].word);
            slm_buf_printf(b, "%s `", i ? "," : "");
            slm_md_cell(b, w);
            slm_buf_printf(b, "` (%ld)", v->new_words[i].count);
            free(w);
        }
        slm_buf_puts(b, v->n_new_words ? ".\n" : " –.\n");
    }
    slm_buf_puts(b, "- Latency p50/p95 (shown, not judged): ");
    md_val(b, v->lat_p50, 1.0, 4);
    slm_buf_puts(b, " / ");
    md_val(b, v->lat_p95, 1.0, 4);
    slm_buf_puts(b, " ms against ");
    md_val(b, v->ref_lat_p50, 1.0, 4);
    slm_buf_puts(b, " / ");
    md_val(b, v->ref_lat_p95, 1.0, 4);
    slm_buf_puts(b, " ms.\n");
}

static void md_review(const slm_prod_report *r, const slm_prod_review *v, slm_buf *b)
{
    md_signals(b, v);
    md_labels(r, v, b);
    md_conf(v, b);
    md_accuracy(v, b);
    md_input(r, v, b);
    md_recall(r, v, b);
    slm_buf_putc(b, '\n');
}

static void md_month(const slm_prod_report *r, const slm_prod_month_review *m, slm_buf *b)
{
    slm_buf_printf(b, "## %s: %s (%ld rows)\n\n", m->month,
                   m->reviewed ? verdict_word(m) : "no traffic", m->n);
    if (!m->reviewed)
        return;
    slm_buf_puts(b, "### Against the reference\n\n");
    md_review(r, &m->vs_ref, b);
    if (m->has_prev) {
        slm_buf_printf(b, "### Against %s\n\n", m->prev);
        md_review(r, &m->vs_prev, b);
    }
}

void slm_prod_markdown(const slm_prod_report *r, const slm_prod_charts *ch, slm_buf *out)
{
    md_intro(r, out);
    for (size_t i = r->nm; i-- > 0;) /* the newest month first */
        md_month(r, &r->m[i], out);
    if (!ch)
        return;
    slm_buf_puts(out, "## Charts\n\n");
    if (ch->note)
        slm_buf_printf(out, "%s\n\n", ch->note);
    for (size_t i = 0; i < ch->n; i++)
        if (ch->v[i].svg)
            slm_buf_printf(out, "![%s](%s)\n\n", ch->v[i].caption, ch->v[i].svg);
}

size_t slm_prod_n_flagged(const slm_prod_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nm; i++)
        n += r->m[i].decides && r->m[i].reviewed && r->m[i].vs_ref.verdict != SLM_PV_STABLE;
    return n;
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void jset(json_t *o, const char *k, double v) { json_object_set_new(o, k, slm_json_num(v)); }

static void jband(json_t *o, const char *k, double v, double lo, double hi)
{
    json_t *a = json_object();
    jset(a, "value", v);
    jset(a, "lo", lo);
    jset(a, "hi", hi);
    json_object_set_new(o, k, a);
}

static json_t *json_mover(const slm_prod_report *r, const slm_prod_mover *mv)
{
    json_t *m = json_object();
    int c = mv->cls;
    json_object_set_new(m, "label", slm_json_str(c >= 0 && (size_t)c < r->n_classes
                                                     ? r->classes[c]
                                                     : NULL));
    jset(m, "share_reference", mv->share_ref);
    jset(m, "share_month", mv->share_month);
    jset(m, "psi_term", mv->contrib);
    return m;
}

static json_t *json_labels(const slm_prod_report *r, const slm_prod_review *v)
{
    json_t *o = json_object(), *mv = json_array();
    jset(o, "psi", v->psi);
    jset(o, "js_distance", v->js);
    jset(o, "chi2", v->labels.chi2);
    jset(o, "p", v->labels.p);
    json_object_set_new(o, "method", slm_json_str(v->labels.method));
    for (size_t i = 0; i < v->n_movers; i++)
        json_array_append_new(mv, json_mover(r, &v->movers[i]));
    json_object_set_new(o, "moved_most", mv);
    json_t *top = v->class_top.cls >= 0 ? json_mover(r, &v->class_top) : json_null();
    if (v->class_top.cls >= 0)
        jset(top, "p_bonferroni", v->class_p);
    json_object_set_new(o, "class_most_significant", top);
    return o;
}

static json_t *json_conf(const slm_prod_review *v)
{
    json_t *o = json_object();
    jset(o, "ks_d", v->conf_ks.d);
    jset(o, "ks_p", v->conf_ks.p);
    json_object_set_new(o, "escalated", json_integer(v->esc_k));
    json_object_set_new(o, "with_confidence", json_integer(v->esc_n));
    jband(o, "escalation_rate", v->esc_rate, v->esc_lo, v->esc_hi);
    jset(o, "escalation_rate_reference", v->esc_ref);
    jset(o, "escalation_p", v->esc_diff.p);
    return o;
}

static json_t *json_acc(const slm_prod_report *r, const slm_prod_review *v)
{
    json_t *o = json_object(), *rc = json_object();
    json_object_set_new(o, "calibrated", json_boolean(v->calibrated));
    json_object_set_new(o, "tickets", json_integer(v->est_n));
    jband(o, "estimated", v->est, v->est_lo, v->est_hi);
    jset(o, "cbpe", v->est_cbpe);
    jset(o, "reference_calibration_gap", v->est_corrected ? v->ref_gap : NAN);
    jset(o, "compared_accuracy", v->ref_acc);
    jband(o, "estimate_drop", v->est_drop, v->est_drop_lo, v->est_drop_hi);
    json_object_set_new(o, "corrected_tickets", json_integer(v->obs_n));
    jband(o, "observed", v->obs_n ? v->obs_acc : NAN, v->obs_lo, v->obs_hi);
    jband(o, "gap", v->gap, v->gap_lo, v->gap_hi);
    for (size_t c = 0; v->obs_n && c < v->n_labels && c < r->n_labels; c++) {
        json_t *x = json_object();
        json_object_set_new(x, "n", json_integer(v->recall_n[c]));
        jband(x, "recall", v->recall[c], v->recall_lo[c], v->recall_hi[c]);
        json_object_set_new(rc, r->classes[c], x);
    }
    json_object_set_new(o, "recall", rc);
    json_object_set_new(o, "assumptions", json_string(slm_prod_assumptions));
    return o;
}

static json_t *json_input(const slm_prod_report *r, const slm_prod_review *v)
{
    json_t *o = json_object(), *w = json_array();
    jset(o, "length_ks_d", v->len_ks.d);
    jset(o, "length_ks_p", v->len_ks.p);
    json_object_set_new(o, "words_available", json_boolean(!r->text_note));
    jset(o, "unseen_share", v->oov);
    jset(o, "unseen_share_reference", v->oov_ref);
    jset(o, "unseen_p", v->oov_p);
    for (size_t i = 0; i < v->n_new_words; i++) {
        json_t *x = json_object();
        char *red = slm_redact(v->new_words[i].word);
        json_object_set_new(x, "word", slm_json_str(red));
        json_object_set_new(x, "count", json_integer(v->new_words[i].count));
        json_array_append_new(w, x);
        free(red);
    }
    json_object_set_new(o, "new_words", w);
    jset(o, "latency_p50_ms", v->lat_p50);
    jset(o, "latency_p95_ms", v->lat_p95);
    jset(o, "latency_p50_ms_reference", v->ref_lat_p50);
    jset(o, "latency_p95_ms_reference", v->ref_lat_p95);
    return o;
}

static json_t *json_review(const slm_prod_report *r, const slm_prod_review *v)
{
    json_t *o = json_object(), *sg = json_object();
    json_object_set_new(o, "labels", json_labels(r, v));
    json_object_set_new(o, "confidence", json_conf(v));
    json_object_set_new(o, "accuracy", json_acc(r, v));
    json_object_set_new(o, "input", json_input(r, v));
    for (int s = 0; s < SLM_PS_COUNT; s++) {
        const slm_prod_signal *g = &v->sig[s];
        json_t *x = json_object();
        json_object_set_new(x, "kind", json_string(g->degrades ? "degraded" : "drifted"));
        jset(x, "effect", g->effect);
        jset(x, "floor", g->floor);
        jset(x, "p", g->p);
        jset(x, "p_adjusted", g->p_adj);
        json_object_set_new(x, "flagged", isfinite(g->p) ? json_boolean(g->flagged) : json_null());
        json_object_set_new(sg, g->name, x);
    }
    json_object_set_new(o, "signals", sg);
    json_object_set_new(o, "verdict", json_string(slm_prod_verdict_name(v->verdict)));
    return o;
}

static json_t *json_month(const slm_prod_report *r, const slm_prod_month_review *m)
{
    json_t *o = json_object(), *by = json_array();
    json_object_set_new(o, "month", json_string(m->month));
    json_object_set_new(o, "rows", json_integer(m->n));
    json_object_set_new(o, "verdict", slm_json_str(verdict_word(m)));
    for (int s = 0; m->reviewed && s < SLM_PS_COUNT; s++)
        if (m->vs_ref.sig[s].flagged)
            json_array_append_new(by, json_string(m->vs_ref.sig[s].name));
    json_object_set_new(o, "decided_by", by);
    json_object_set_new(o, "counts_for_fail_on_drift", json_boolean(m->decides));
    json_object_set_new(o, "vs_reference", m->reviewed ? json_review(r, &m->vs_ref) : json_null());
    json_object_set_new(o, "previous_month", slm_json_str(m->has_prev ? m->prev : NULL));
    json_object_set_new(o, "vs_previous", m->has_prev ? json_review(r, &m->vs_prev) : json_null());
    return o;
}

int slm_prod_json(const slm_prod_report *r, slm_buf *out, char *err, size_t errlen)
{
    json_t *root = json_object(), *ms = json_array();
    json_object_set_new(root, "deployment", slm_json_str(r->deployment));
    json_object_set_new(root, "run_id", json_integer(r->run_id));
    json_object_set_new(root, "candidate", slm_json_str(r->candidate));
    jset(root, "eval_accuracy", r->eval_acc);
    jset(root, "cascade_threshold", r->threshold);
    jset(root, "alpha", r->alpha);
    json_object_set_new(root, "words_note", slm_json_str(r->text_note));
    for (size_t i = 0; i < r->nm; i++)
        json_array_append_new(ms, json_month(r, &r->m[i]));
    json_object_set_new(root, "months", ms);
    int rc = slm_json_emit(out, root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return rc ? slm_err(err, errlen, "cannot encode the production review as JSON") : 0;
}

/* ---- charts -------------------------------------------------------------------------- */

static const char *const CHART_STEM[3] = {"prod_accuracy", "prod_psi", "prod_escalation"};
static const char *const CHART_CAPTION[3] = {
    "Estimated accuracy (band: 95%) and observed accuracy on corrected tickets (Wilson) by "
    "month; the dashed line is the eval run's accuracy.",
    "Population stability index of the predicted labels against the reference by month "
    "(0.1: moderate, 0.25: large shift).",
    "Escalation rate (below the cascade threshold, Wilson 95%) by month; the dashed line is "
    "the rate the eval run predicts."};

/* The data of every chart: one line per reviewed month. */
static void chart_dat(const slm_prod_report *r, slm_buf *dat)
{
    slm_buf_puts(dat, "# month_index month est est_lo est_hi obs obs_lo obs_hi psi esc "
                      "esc_lo esc_hi esc_ref eval_acc\n");
    for (size_t i = 0; i < r->nm; i++) {
        const slm_prod_month_review *m = &r->m[i];
        if (!m->reviewed)
            continue;
        const slm_prod_review *v = &m->vs_ref;
        double x[] = {v->est, v->est_lo, v->est_hi, v->obs_n ? v->obs_acc : NAN,
                      v->obs_lo, v->obs_hi, v->psi, v->esc_rate, v->esc_lo, v->esc_hi,
                      v->esc_ref, r->eval_acc};
        slm_buf_printf(dat, "%zu \"%s\"", i + 1, m->month);
        for (size_t k = 0; k < sizeof x / sizeof *x; k++) {
            slm_buf_putc(dat, ' ');
            slm_gp_num(dat, x[k]);
        }
        slm_buf_putc(dat, '\n');
    }
}

static void chart_gp(const slm_prod_report *r, int k, slm_buf *gp)
{
    static const char *const PLOT[3] = {
        "plot D using 1:4:5 with filledcurves fs transparent solid 0.2 noborder lc rgb "
        "'#1f77b4' title 'estimate band', D using 1:3 with linespoints lc rgb '#1f77b4' "
        "title 'estimated', D using 1:6:7:8 with yerrorbars lc rgb '#d62728' pt 7 title "
        "'observed (corrected)', D using 1:14 with lines dt 2 lc rgb '#555555' title 'eval'",
        "plot D using 1:9 with boxes fs solid 0.5 lc rgb '#ff7f0e' title 'PSI'",
        "plot D using 1:10:11:12 with yerrorlines lc rgb '#2ca02c' pt 7 title 'escalation "
        "rate', D using 1:13 with lines dt 2 lc rgb '#555555' title 'eval run'"};
    slm_buf_printf(gp, "# %s.gp — written by slmbench drift --deployment; run `gnuplot "
                       "%s.gp` here to redraw.\nset encoding utf8\nset decimalsign '.'\n"
                       "D = 'prod_months.dat'\nset xrange [0.5:%zu.5]\nset xtics (",
                   CHART_STEM[k], CHART_STEM[k], r->nm);
    for (size_t j = 0; j < r->nm; j++)
        slm_buf_printf(gp, "%s'%s' %zu", j ? ", " : "", r->m[j].month, j + 1);
    slm_buf_printf(gp, ")\nset grid\nset key below horizontal\nset boxwidth 0.6\n"
                       "do for [fmt in 'svg png'] {\n"
                       "    if (fmt eq 'svg') { set terminal svg size 900,420 dynamic "
                       "noenhanced background rgb 'white' } else { set terminal pngcairo "
                       "size 900,420 noenhanced background rgb 'white' }\n"
                       "    set output '%s.'.fmt\n    %s\n    unset output\n}\n",
                   CHART_STEM[k], PLOT[k]);
}

int slm_prod_charts_write(const slm_prod_report *r, const char *outdir, slm_prod_charts *ch,
                          char *err, size_t errlen)
{
    memset(ch, 0, sizeof *ch);
    char *dir = slm_xasprintf("%s/plots", outdir), *datp = slm_xasprintf("%s/prod_months.dat", dir);
    slm_buf dat = {0};
    int rc = -1;
    chart_dat(r, &dat);
    if (slm_mkdir_p(dir, err, errlen) || slm_write_file_atomic(datp, dat.data, dat.len, err, errlen))
        goto out;
    for (int k = 0; k < 3; k++) {
        slm_prod_chart *c = &ch->v[ch->n++];
        slm_buf gp = {0};
        chart_gp(r, k, &gp);
        char *gpp = slm_xasprintf("%s/%s.gp", dir, CHART_STEM[k]);
        char *svgp = slm_xasprintf("%s/%s.svg", dir, CHART_STEM[k]), reason[SLM_ERRLEN];
        int bad = slm_write_file_atomic(gpp, gp.data, gp.len, err, errlen);
        c->caption = slm_xstrdup(CHART_CAPTION[k]);
        c->dat = slm_xstrdup("plots/prod_months.dat");
        if (!bad && !ch->note) {
            char script[64];
            snprintf(script, sizeof script, "%s.gp", CHART_STEM[k]);
            if (slm_gnuplot_run(dir, script, reason, sizeof reason) == 0 && access(svgp, R_OK) == 0)
                c->svg = slm_xasprintf("plots/%s.svg", CHART_STEM[k]);
            else
                ch->note = slm_xasprintf("Charts not drawn: %s.", reason);
        }
        free(gpp), free(svgp), slm_buf_free(&gp);
        if (bad)
            goto out;
    }
    rc = 0;
out:
    slm_buf_free(&dat);
    free(dir), free(datp);
    return rc;
}

void slm_prod_charts_free(slm_prod_charts *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n; i++)
        free(ch->v[i].caption), free(ch->v[i].dat), free(ch->v[i].svg);
    free(ch->note);
    memset(ch, 0, sizeof *ch);
}

/* ---- HTML ---------------------------------------------------------------------------- */

static void html_figure(slm_buf *out, const slm_prod_chart *c, const char *outdir)
{
    char *path = slm_xasprintf("%s/%s", outdir, c->svg);
    slm_figure f = {.caption = c->caption, .svg_path = path, .data_path = c->dat};
    slm_html_figure(out, &f);
    free(path);
}

void slm_prod_html(const slm_prod_report *r, const slm_prod_charts *ch, const char *outdir,
                   slm_buf *out)
{
    slm_buf md = {0};
    slm_prod_markdown(r, NULL, &md);
    slm_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                      "'none'; img-src data:; style-src 'unsafe-inline'\">\n<title>slmbench "
                      "production review</title>\n<style>body{font:15px/1.45 sans-serif;"
                      "max-width:1200px;margin:auto;padding:1.5em}table{border-collapse:"
                      "collapse}th,td{padding:.3em .6em;border-bottom:1px solid #ddd}"
                      "figure img{max-width:100%}</style>\n</head>\n<body>\n");
    slm_md_to_html(md.data ? md.data : "", out);
    slm_buf_free(&md);
    if (ch && outdir) {
        slm_buf_puts(out, "<h2>Charts</h2>\n");
        if (ch->note) {
            slm_buf_puts(out, "<p>");
            slm_html_esc(out, ch->note);
            slm_buf_puts(out, "</p>\n");
        }
        for (size_t i = 0; i < ch->n; i++)
            if (ch->v[i].svg)
                html_figure(out, &ch->v[i], outdir);
    }
    slm_buf_puts(out, "</body>\n</html>\n");
}
