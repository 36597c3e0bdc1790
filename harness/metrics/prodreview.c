/*
 * prodreview.c — the review of one month of production traffic against the reference
 * and its verdict (prodstats.h slm_prod_review_run), built from the pieces of
 * prodstats.c and the tests of drift_stats.c.
 */
#include "prodstats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

#define Z95 1.959963984540054

const char slm_prod_assumptions[] =
    "The label-free accuracy estimate assumes that the calibration measured on the eval "
    "run still holds in production (the calibrated confidence of a ticket is the chance "
    "it is right) and that nothing changed in what the right label is for a given input "
    "(no concept shift): a change of either is invisible to it, and only corrected "
    "tickets can show it. Observed accuracy on corrected tickets assumes that a ticket's "
    "correction was recorded whether or not the model was right and that the corrected "
    "tickets were not chosen by their outcome; tickets corrected because someone "
    "noticed an error are a biased sample (observed accuracy then reads too low).";

void slm_prod_cfg_default(slm_prod_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->alpha = 0.05;
    c->threshold = NAN;
    c->psi_min = 0.05; /* of predicted labels: a confusion-attenuated shift (docs/prodstats.md) */
    c->class_min = 0.01;
    c->ks_min = 0.05;
    c->esc_min = 0.02;
    c->oov_min = 0.02;
    c->acc_drop_min = 0.02;
    c->allowance = 1;
    c->judge_observed = 1;
    c->top_n = 5;
    c->new_words_n = 10;
    c->new_words_min = 5;
    c->reps = 2000;
    c->seed = 1;
}

const char *slm_prod_verdict_name(slm_prod_verdict v)
{
    return v == SLM_PV_DEGRADED ? "degraded" : v == SLM_PV_DRIFTED ? "drifted" : "stable";
}

void slm_prod_review_free(slm_prod_review *r)
{
    if (!r)
        return;
    free(r->movers);
    for (size_t i = 0; i < r->n_new_words; i++)
        free(r->new_words[i].word);
    free(r->new_words);
    free(r->recall_n), free(r->recall_k);
    free(r->recall), free(r->recall_lo), free(r->recall_hi);
    memset(r, 0, sizeof *r);
}

/* ---- input checks ----------------------------------------------------------------- */

static int bad(char *err, size_t errlen, const char *side, const char *what, size_t i)
{
    snprintf(err, errlen, "%s: %s (entry %zu)", side, what, i);
    return -1;
}

static int check_side(const slm_prod_sample *s, const char *side, char *err, size_t errlen)
{
    if (!s->n || !s->pred)
        return bad(err, errlen, side, "no rows", 0);
    if (!s->n_labels || s->n_classes < s->n_labels)
        return bad(err, errlen, side, "n_labels is 0 or above n_classes", 0);
    for (size_t i = 0; i < s->n; i++) {
        if (s->pred[i] < 0 || (size_t)s->pred[i] >= s->n_classes)
            return bad(err, errlen, side, "pred outside [0, n_classes)", i);
        if (s->gold && (s->gold[i] < -1 || s->gold[i] >= (int)s->n_labels))
            return bad(err, errlen, side, "gold outside [-1, n_labels)", i);
        if (s->conf && (s->conf[i] < 0 || s->conf[i] > 1))
            return bad(err, errlen, side, "confidence outside [0, 1]", i);
    }
    return 0;
}

/* ---- predicted labels ------------------------------------------------------------- */

static int mover_cmp(const void *x, const void *y)
{
    const slm_prod_mover *a = x, *b = y;
    if (a->contrib != b->contrib)
        return a->contrib < b->contrib ? 1 : -1;
    return a->cls - b->cls;
}

/*
 * One class's share: for each class seen on either side the 2 x 2 test of its count
 * against the rest (Fisher where an expected count is below 5, else Yates), the smallest
 * p times the classes tested (Bonferroni: a valid p for "some class's share changed"
 * whatever the dependence between the classes). A prior shift of one class among many
 * moves PSI by little more than its noise, about (k - 1)/n (docs/prodstats.md), while
 * its own test sees it at once.
 */
static void class_share(const long *ca, size_t na, const long *cb, size_t nb, size_t k,
                        const double *contrib, slm_prod_review *out)
{
    out->class_top = (slm_prod_mover){.cls = -1, .share_ref = NAN, .share_month = NAN,
                                      .diff = NAN, .contrib = NAN};
    out->class_p = NAN;
    double best = INFINITY;
    size_t tested = 0;
    for (size_t i = 0; i < k; i++) {
        if (ca[i] + cb[i] == 0)
            continue;
        long a1 = ca[i], a0 = (long)na - ca[i], b1 = cb[i], b0 = (long)nb - cb[i];
        double p = slm_2x2_small(b1, b0, a1, a0) ? slm_fisher_p(b1, b0, a1, a0)
                                                   : slm_yates_p(b1, b0, a1, a0, NULL);
        tested++;
        if (!isfinite(p) || p >= best)
            continue;
        best = p;
        slm_prod_mover *t = &out->class_top;
        t->cls = (int)i;
        t->share_ref = (double)a1 / (double)na;
        t->share_month = (double)b1 / (double)nb;
        t->diff = t->share_month - t->share_ref;
        t->contrib = contrib[i];
    }
    if (tested >= 2 && isfinite(best)) /* one class alone has no share to move */
        out->class_p = fmin(1.0, best * (double)tested);
}

static void review_labels(const slm_prod_sample *ref, const slm_prod_sample *m,
                          const slm_prod_cfg *cfg, slm_prod_review *out)
{
    size_t k = ref->n_classes > m->n_classes ? ref->n_classes : m->n_classes;
    long *ca = slm_xcalloc(k, sizeof *ca), *cb = slm_xcalloc(k, sizeof *cb);
    double *contrib = slm_xcalloc(k, sizeof *contrib);
    for (size_t i = 0; i < ref->n; i++)
        ca[ref->pred[i]]++;
    for (size_t i = 0; i < m->n; i++)
        cb[m->pred[i]]++;
    out->psi = slm_psi(ca, cb, k, contrib);
    out->js = slm_js_distance(ca, cb, k);
    /* the permutations are needed only for a sparse table: skip them otherwise */
    slm_label_test_run(ca, cb, k, 0, cfg->seed, &out->labels);
    if (out->labels.small && out->labels.df > 1)
        slm_label_test_run(ca, cb, k, cfg->reps, cfg->seed, &out->labels);
    class_share(ca, ref->n, cb, m->n, k, contrib, out);
    slm_prod_mover *mv = slm_xcalloc(k, sizeof *mv);
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        if (ca[i] + cb[i] == 0)
            continue;
        mv[n].cls = (int)i;
        mv[n].share_ref = (double)ca[i] / (double)ref->n;
        mv[n].share_month = (double)cb[i] / (double)m->n;
        mv[n].diff = mv[n].share_month - mv[n].share_ref;
        mv[n++].contrib = contrib[i];
    }
    qsort(mv, n, sizeof *mv, mover_cmp);
    out->n_movers = n < (size_t)cfg->top_n ? n : (size_t)cfg->top_n;
    out->movers = mv;
    free(ca), free(cb), free(contrib);
}

/* ---- two proportions through drift_stats ------------------------------------------ */

/* The test of k_b/n_b - k_a/n_a as slm_drift_compare's independent accuracy test runs
 * it (Fisher / Yates, Newcombe's interval): the two sides written as right/wrong. */
static void two_props(const unsigned char *ya, size_t na, const unsigned char *yb, size_t nb,
                      slm_drift_diff *out)
{
    size_t n = na > nb ? na : nb;
    int *gold = slm_xcalloc(n ? n : 1, sizeof *gold), *pa = slm_xcalloc(na ? na : 1, sizeof *pa),
        *pb = slm_xcalloc(nb ? nb : 1, sizeof *pb);
    for (size_t i = 0; i < na; i++)
        pa[i] = !ya[i];
    for (size_t i = 0; i < nb; i++)
        pb[i] = !yb[i];
    slm_drift_sample a = {.n = na, .n_labels = 2, .n_classes = 2, .gold = gold, .pred = pa};
    slm_drift_sample b = {.n = nb, .n_labels = 2, .n_classes = 2, .gold = gold, .pred = pb};
    slm_drift_cfg c = {.label = -1, .label_b = -1, .reps = 1};
    slm_drift_compare(SLM_DK_ACCURACY, &a, &b, NULL, &c, out);
    free(gold), free(pa), free(pb);
}

/* The month's proportion yb (k, rate, Wilson interval) and its test against the
 * reference's ya; returns the reference's rate (NaN when na = 0). Frees ya and yb. */
static double prop_and_test(unsigned char *ya, size_t na, unsigned char *yb, size_t nb,
                            long *k, double *rate, double *lo, double *hi, slm_drift_diff *d)
{
    long ka = 0;
    *k = 0;
    for (size_t i = 0; i < na; i++)
        ka += ya[i];
    for (size_t i = 0; i < nb; i++)
        *k += yb[i];
    if (nb) {
        *rate = (double)*k / (double)nb;
        slm_wilson(*k, (long)nb, Z95, lo, hi);
    }
    if (na && nb)
        two_props(ya, na, yb, nb, d);
    free(ya), free(yb);
    return na ? (double)ka / (double)na : NAN;
}

/* ---- confidence ------------------------------------------------------------------- */

/* 1 where conf is finite and below t; *n counts the finite ones (compacted in y). */
static unsigned char *below(const slm_prod_sample *s, double t, size_t *n)
{
    unsigned char *y = slm_xcalloc(s->n ? s->n : 1, 1);
    *n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->conf[i]))
            y[(*n)++] = s->conf[i] < t;
    return y;
}

static void review_confidence(const slm_prod_sample *ref, const slm_prod_sample *m,
                              const slm_prod_cfg *cfg, slm_prod_review *out)
{
    out->conf_ks.d = out->conf_ks.p = NAN;
    out->esc_rate = out->esc_lo = out->esc_hi = out->esc_ref = NAN;
    memset(&out->esc_diff, 0, sizeof out->esc_diff);
    out->esc_diff.p = out->esc_diff.diff = out->esc_diff.lo = out->esc_diff.hi = NAN;
    if (!ref->conf || !m->conf)
        return;
    slm_ks2(ref->conf, ref->n, m->conf, m->n, &out->conf_ks);
    if (isnan(cfg->threshold))
        return;
    size_t na, nb;
    unsigned char *ya = below(ref, cfg->threshold, &na), *yb = below(m, cfg->threshold, &nb);
    out->esc_n = (long)nb;
    out->esc_ref = prop_and_test(ya, na, yb, nb, &out->esc_k, &out->esc_rate, &out->esc_lo,
                                 &out->esc_hi, &out->esc_diff);
}

/* ---- accuracy: estimated and observed --------------------------------------------- */

/* The calibration gap over the labelled rows of s that have a probability: mean of
 * d_i = [pred right] - p_i, its se sd(d)/sqrt(n) (NaN below 2 rows), the mean p, and
 * the accuracy. Returns the count. */
static long calib_gap(const slm_prod_sample *s, const double *p, double *gap, double *se,
                      double *mean_p, double *acc)
{
    double sd = 0, sp = 0, ss = 0;
    long n = 0, k = 0;
    for (size_t i = 0; s->gold && i < s->n; i++)
        if (s->gold[i] >= 0 && isfinite(p[i]))
            k += s->gold[i] == s->pred[i], sd += (s->gold[i] == s->pred[i]) - p[i],
                sp += p[i], n++;
    *gap = *se = *mean_p = *acc = NAN;
    if (!n)
        return 0;
    *gap = sd / (double)n;
    for (size_t i = 0; i < s->n; i++)
        if (s->gold[i] >= 0 && isfinite(p[i])) {
            double d = (s->gold[i] == s->pred[i]) - p[i] - *gap;
            ss += d * d;
        }
    *mean_p = sp / (double)n;
    *acc = (double)k / (double)n;
    if (n > 1)
        *se = sqrt(ss / (double)(n - 1) / (double)n);
    return n;
}

static double z_test_p(double diff, double se)
{
    if (isnan(diff) || isnan(se))
        return NAN;
    return se > 0 ? erfc(fabs(diff) / (se * M_SQRT2)) : (diff == 0 ? 1 : 0);
}

static void review_estimate(const slm_prod_ref *ref, const slm_prod_sample *m, const double *pr,
                            const double *pm, const slm_prod_cfg *cfg, slm_prod_review *out)
{
    double sd_r, se_r, se_m, mean_lab, acc;
    out->est_n = slm_cbpe(pm, m->n, &out->est_cbpe, &out->est_sd, &se_m);
    slm_cbpe(pr, ref->s.n, &out->ref_est, &sd_r, &se_r);
    calib_gap(&ref->s, pr, &out->ref_gap, &out->ref_gap_se, &mean_lab, &acc);
    double half = Z95 * out->est_sd;
    out->est = out->est_cbpe;
    out->est_corrected = cfg->allowance && isfinite(out->ref_gap_se);
    if (out->est_corrected) {
        out->est += out->ref_gap;
        half = Z95 * sqrt(out->est_sd * out->est_sd + out->ref_gap_se * out->ref_gap_se);
    }
    out->est_lo = out->est - half;
    out->est_hi = out->est + half;
    out->est_drop = out->est_cbpe - out->ref_est;
    double se = sqrt(se_m * se_m + se_r * se_r);
    out->est_drop_lo = out->est_drop - Z95 * se;
    out->est_drop_hi = out->est_drop + Z95 * se;
    out->est_drop_p = z_test_p(out->est_drop, se);
}

/* Right (1) or wrong (0) of the labelled rows of s, compacted; *n their count. */
static unsigned char *labelled_right(const slm_prod_sample *s, size_t *n)
{
    unsigned char *y = slm_xcalloc(s->n ? s->n : 1, 1);
    *n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->gold && s->gold[i] >= 0)
            y[(*n)++] = s->gold[i] == s->pred[i];
    return y;
}

/* Per-class recall on the corrected tickets, through slm_cls_metrics_compute. */
static void review_recall(const slm_prod_sample *m, slm_prod_review *out)
{
    size_t k = m->n_labels, n = 0;
    out->n_labels = k;
    out->recall_n = slm_xcalloc(k, sizeof *out->recall_n);
    out->recall_k = slm_xcalloc(k, sizeof *out->recall_k);
    out->recall = slm_xcalloc(k, sizeof *out->recall);
    out->recall_lo = slm_xcalloc(k, sizeof *out->recall_lo);
    out->recall_hi = slm_xcalloc(k, sizeof *out->recall_hi);
    int *gold = slm_xcalloc(m->n, sizeof *gold), *pred = slm_xcalloc(m->n, sizeof *pred);
    for (size_t i = 0; m->gold && i < m->n; i++)
        if (m->gold[i] >= 0)
            gold[n] = m->gold[i], pred[n++] = m->pred[i];
    slm_cls_metrics cm;
    char err[128];
    int ok = n && slm_cls_metrics_compute(gold, pred, n, m->n_classes, &cm, err, sizeof err) == 0;
    for (size_t c = 0; c < k; c++) {
        out->recall_n[c] = ok ? cm.support[c] : 0;
        out->recall_k[c] = ok ? cm.confusion[c * m->n_classes + c] : 0;
        out->recall[c] = out->recall_n[c] ? cm.recall[c] : NAN;
        slm_wilson(out->recall_k[c], out->recall_n[c], Z95, &out->recall_lo[c],
                   &out->recall_hi[c]);
    }
    if (ok)
        slm_cls_metrics_free(&cm);
    free(gold), free(pred);
}

static void review_observed(const slm_prod_sample *ref, const slm_prod_sample *m,
                            const double *pm, slm_prod_review *out)
{
    out->obs_acc = out->obs_lo = out->obs_hi = NAN;
    out->obs_est = out->gap = out->gap_lo = out->gap_hi = NAN;
    memset(&out->obs_diff, 0, sizeof out->obs_diff);
    out->obs_diff.p = out->obs_diff.diff = out->obs_diff.lo = out->obs_diff.hi = NAN;
    review_recall(m, out);
    size_t na, nb;
    unsigned char *ya = labelled_right(ref, &na), *yb = labelled_right(m, &nb);
    out->obs_n = (long)nb;
    out->ref_acc = prop_and_test(ya, na, yb, nb, &out->obs_k, &out->obs_acc, &out->obs_lo, &out->obs_hi,
                  &out->obs_diff);
    /* the gap, paired on the corrected tickets that have a probability */
    double se, acc;
    if (calib_gap(m, pm, &out->gap, &se, &out->obs_est, &acc) && isfinite(se)) {
        out->gap_lo = out->gap - Z95 * se;
        out->gap_hi = out->gap + Z95 * se;
    }
}

/* ---- input: length, words --------------------------------------------------------- */

static double *lengths(const slm_prod_sample *s)
{
    double *x = slm_xmalloc((s->n ? s->n : 1) * sizeof *x);
    for (size_t i = 0; i < s->n; i++)
        x[i] = s->len[i] >= 0 ? (double)s->len[i] : NAN;
    return x;
}

static int word_cmp(const void *x, const void *y)
{
    const slm_prod_word *a = x, *b = y;
    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    return strcmp(a->word, b->word);
}

static void new_words(const slm_prod_ref *ref, const slm_prod_words *w, const slm_prod_cfg *cfg,
                      slm_prod_review *out)
{
    size_t n = slm_wordmap_size(w->seen), k = 0;
    slm_prod_word *all = slm_xcalloc(n ? n : 1, sizeof *all);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        long c;
        const char *word = slm_wordmap_at(w->seen, i, &len, &c);
        if (c >= cfg->new_words_min && !slm_wordmap_get(ref->vocab, word, len))
            all[k].word = (char *)word, all[k++].count = c;
    }
    qsort(all, k, sizeof *all, word_cmp);
    out->n_new_words = k < (size_t)cfg->new_words_n ? k : (size_t)cfg->new_words_n;
    for (size_t i = 0; i < out->n_new_words; i++)
        all[i].word = slm_xstrdup(all[i].word);
    out->new_words = all;
}

static void review_input(const slm_prod_ref *ref, const slm_prod_sample *m,
                         const slm_prod_cfg *cfg, slm_prod_review *out)
{
    out->len_ks.d = out->len_ks.p = NAN;
    out->oov = out->oov_se = out->oov_ref = out->oov_ref_se = out->oov_diff = out->oov_p = NAN;
    if (ref->s.len && m->len) {
        double *a = lengths(&ref->s), *b = lengths(m);
        slm_ks2(a, ref->s.n, b, m->n, &out->len_ks);
        free(a), free(b);
    }
    if (!ref->s.words || !m->words || !ref->vocab)
        return;
    slm_prod_words_rate(m->words, &out->oov, &out->oov_se);
    slm_prod_words_rate(ref->s.words, &out->oov_ref, &out->oov_ref_se);
    double n2 = 0, t = (double)slm_wordmap_total(ref->vocab);
    for (size_t i = 0; i < slm_wordmap_size(ref->vocab); i++) {
        size_t len;
        long c;
        slm_wordmap_at(ref->vocab, i, &len, &c);
        n2 += c == 2;
    }
    if (t > 0)
        out->oov_ref_se = sqrt(out->oov_ref_se * out->oov_ref_se + 2 * n2 / (t * t));
    out->oov_diff = out->oov - out->oov_ref;
    out->oov_p = z_test_p(out->oov_diff,
                          sqrt(out->oov_se * out->oov_se + out->oov_ref_se * out->oov_ref_se));
    new_words(ref, m->words, cfg, out);
}

static void review_latency(const slm_prod_sample *ref, const slm_prod_sample *m,
                           slm_prod_review *out)
{
    out->lat_p50 = out->lat_p95 = out->ref_lat_p50 = out->ref_lat_p95 = NAN;
    if (m->lat) {
        out->lat_p50 = slm_percentile(m->lat, m->n, 50);
        out->lat_p95 = slm_percentile(m->lat, m->n, 95);
    }
    if (ref->lat) {
        out->ref_lat_p50 = slm_percentile(ref->lat, ref->n, 50);
        out->ref_lat_p95 = slm_percentile(ref->lat, ref->n, 95);
    }
}

/* ---- the verdict ------------------------------------------------------------------ */

static void set_sig(slm_prod_review *r, slm_prod_sig_id id, const char *name, int degrades,
                    double effect, double floor, double p)
{
    slm_prod_signal *s = &r->sig[id];
    s->name = name, s->degrades = degrades;
    s->effect = effect, s->floor = floor;
    s->p = isfinite(effect) ? p : NAN;
    s->p_adj = NAN;
    s->flagged = 0;
}

static void verdict(const slm_prod_cfg *cfg, slm_prod_review *r)
{
    set_sig(r, SLM_PS_LABELS, "labels", 0, r->psi, cfg->psi_min, r->labels.p);
    set_sig(r, SLM_PS_CLASS, "class_share", 0, r->class_top.contrib, cfg->class_min,
            r->class_p);
    set_sig(r, SLM_PS_CONFIDENCE, "confidence", 0, r->conf_ks.d, cfg->ks_min, r->conf_ks.p);
    set_sig(r, SLM_PS_ESCALATION, "escalation", 0, fabs(r->esc_diff.diff), cfg->esc_min,
            r->esc_diff.p);
    set_sig(r, SLM_PS_LENGTH, "length", 0, r->len_ks.d, cfg->ks_min, r->len_ks.p);
    set_sig(r, SLM_PS_OOV, "oov", 0, r->oov_diff, cfg->oov_min, r->oov_p);
    /* the accuracy effects are drops: positive when worse */
    set_sig(r, SLM_PS_EST_ACCURACY, "estimated_accuracy", 1, -r->est_drop, cfg->acc_drop_min,
            r->est_drop_p);
    set_sig(r, SLM_PS_OBS_ACCURACY, "observed_accuracy", 1, -r->obs_diff.diff,
            cfg->acc_drop_min, cfg->judge_observed ? r->obs_diff.p : NAN);
    double p[SLM_PS_COUNT], adj[SLM_PS_COUNT];
    r->n_tests = 0;
    for (int i = 0; i < SLM_PS_COUNT; i++)
        r->n_tests += isfinite(p[i] = r->sig[i].p);
    slm_bh(p, SLM_PS_COUNT, adj);
    r->verdict = SLM_PV_STABLE;
    for (int i = 0; i < SLM_PS_COUNT; i++) {
        slm_prod_signal *s = &r->sig[i];
        s->p_adj = adj[i];
        s->flagged = isfinite(adj[i]) && adj[i] < cfg->alpha && s->effect >= s->floor;
        if (s->flagged && s->degrades)
            r->verdict = SLM_PV_DEGRADED;
        else if (s->flagged && r->verdict == SLM_PV_STABLE)
            r->verdict = SLM_PV_DRIFTED;
    }
}

int slm_prod_review_run(const slm_prod_ref *ref, const slm_prod_sample *month,
                        const slm_prod_cfg *cfg, slm_prod_review *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (check_side(&ref->s, "reference", err, errlen) ||
        check_side(month, "month", err, errlen))
        return -1;
    if (ref->s.n_labels != month->n_labels) {
        snprintf(err, errlen, "month: %zu labels, the reference has %zu", month->n_labels,
                 ref->s.n_labels);
        return -1;
    }
    double *pr = slm_xmalloc(ref->s.n * sizeof *pr), *pm = slm_xmalloc(month->n * sizeof *pm);
    int cal_r = slm_prod_calibrated(&ref->s, ref->temperature, pr);
    out->calibrated = slm_prod_calibrated(month, ref->temperature, pm) && cal_r;
    if (cal_r != out->calibrated) /* one side without probs: both raw, comparable */
        slm_prod_calibrated(&ref->s, NAN, pr);
    else if (!out->calibrated)
        slm_prod_calibrated(month, NAN, pm);
    review_labels(&ref->s, month, cfg, out);
    review_confidence(&ref->s, month, cfg, out);
    review_estimate(ref, month, pr, pm, cfg, out);
    review_observed(&ref->s, month, pm, out);
    review_input(ref, month, cfg, out);
    review_latency(&ref->s, month, out);
    verdict(cfg, out);
    free(pr), free(pm);
    return 0;
}
