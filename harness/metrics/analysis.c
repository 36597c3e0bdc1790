/* analysis.c — see analysis.h. Reads and writes through store_read.h. */
#include "analysis.h"
#include "evalset.h"
#include "metrics.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- one candidate's predictions in memory ---- */

typedef struct preds {
    size_t n, nl, n_classes;
    char **ids;
    int *gold, *pred;        /* pred: label index, or an extra class for invalid/errors */
    double *conf;            /* NaN when unknown (an engine error: no answer) */
    unsigned char *correct;
    double *probs;           /* [n * nl]; rows without probabilities are not read */
    unsigned char *has_probs; /* [n] 1 where the row has a full probability vector */
} preds;

static void preds_free(preds *p)
{
    slm_free_strv(p->ids, p->n);
    free(p->gold);
    free(p->pred);
    free(p->conf);
    free(p->correct);
    free(p->probs);
    free(p->has_probs);
    memset(p, 0, sizeof *p);
}

/* The class of a prediction outside the label set (one per distinct string, engine
 * errors together as "<error>"), numbered after the labels. */
static int extra_class(char ***extra, size_t *n_extra, size_t nl, const char *key)
{
    size_t k = 0;
    while (k < *n_extra && strcmp((*extra)[k], key))
        k++;
    if (k == *n_extra) {
        *extra = slm_xrealloc(*extra, (*n_extra + 1) * sizeof **extra);
        (*extra)[(*n_extra)++] = slm_xstrdup(key);
    }
    return (int)(nl + k);
}

/* Probabilities of a row from its JSON array: 1 when it holds one finite number per
 * label, else 0 — no array (engine error), another length, or an entry that is null (the
 * writer's form of NaN) or not a number — and the row counts as without probabilities. */
static int read_probs(const char *pj, size_t nl, double *out)
{
    json_t *a = pj ? json_loads(pj, 0, NULL) : NULL;
    int ok = nl > 0 && json_array_size(a) == nl;
    for (size_t k = 0; ok && k < nl; k++) {
        json_t *v = json_array_get(a, k);
        out[k] = json_number_value(v);
        ok = json_is_number(v) && isfinite(out[k]);
    }
    json_decref(a);
    return ok;
}

static int load_preds(slm_store *st, int64_t cid, const char *const *labels, size_t nl, preds *p,
                      char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->nl = nl;
    slm_pred *r;
    size_t n;
    if (slm_store_predictions(st, cid, &r, &n, err, errlen))
        return -1;
    size_t cap = n ? n : 1;
    p->ids = slm_xcalloc(cap, sizeof *p->ids);
    p->gold = slm_xcalloc(cap, sizeof *p->gold);
    p->pred = slm_xcalloc(cap, sizeof *p->pred);
    p->conf = slm_xcalloc(cap, sizeof *p->conf);
    p->correct = slm_xcalloc(cap, 1);
    p->probs = slm_xcalloc(cap * (nl ? nl : 1), sizeof *p->probs);
    p->has_probs = slm_xcalloc(cap, 1);
    char **extra = NULL;
    size_t n_extra = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        p->n++;
        p->ids[i] = slm_xstrdup(r[i].example_id ? r[i].example_id : "");
        const char *g = r[i].gold ? r[i].gold : "";
        p->gold[i] = slm_label_index(labels, nl, g);
        int pi = r[i].pred ? slm_label_index(labels, nl, r[i].pred) : -1;
        if (pi < 0)
            pi = extra_class(&extra, &n_extra, nl, r[i].pred ? r[i].pred : "<error>");
        p->pred[i] = pi;
        p->correct[i] = p->gold[i] >= 0 && pi == p->gold[i];
        /* no answer (NULL in the store): no confidence, NaN, left out of calibration */
        p->conf[i] = r[i].confidence;
        p->has_probs[i] = (unsigned char)read_probs(r[i].probs_json, nl, p->probs + i * nl);
        if (p->gold[i] < 0) {
            rc = slm_err(err, errlen, "gold label '%s' is not in the run's label set", g);
            break;
        }
    }
    slm_preds_free(r, n);
    slm_free_strv(extra, n_extra);
    if (rc) {
        preds_free(p);
        return -1;
    }
    p->n_classes = nl + n_extra;
    return 0;
}

/* The rows calibration and selective prediction describe: the answered ones. A row
 * without a confidence (an engine error) cannot be binned or ranked; it is left out, not
 * given 0, and the count left out is stored (conf_missing). Brier, NLL and classwise ECE
 * need every label's probability: they run over the rows that have them (probs_missing
 * counts the others). Accuracy and the cascade still count every row. */
typedef struct calib_rows {
    size_t n;               /* rows with a confidence */
    double *conf;
    unsigned char *correct;
    size_t n_probs;         /* rows with probabilities */
    double *probs;          /* [n_probs * nl] */
    int *gold;              /* [n_probs] */
} calib_rows;

static void calib_rows_of(const preds *p, calib_rows *c)
{
    size_t nl = p->nl;
    memset(c, 0, sizeof *c);
    c->conf = slm_xcalloc(p->n, sizeof *c->conf);
    c->correct = slm_xcalloc(p->n, 1);
    c->probs = slm_xcalloc(p->n * (nl ? nl : 1), sizeof *c->probs);
    c->gold = slm_xcalloc(p->n, sizeof *c->gold);
    for (size_t i = 0; i < p->n; i++) {
        if (!isnan(p->conf[i])) {
            c->conf[c->n] = p->conf[i];
            c->correct[c->n++] = p->correct[i];
        }
        if (p->has_probs[i]) {
            memcpy(c->probs + c->n_probs * nl, p->probs + i * nl, nl * sizeof *c->probs);
            c->gold[c->n_probs++] = p->gold[i];
        }
    }
}

static void calib_rows_free(calib_rows *c)
{
    free(c->conf);
    free(c->correct);
    free(c->probs);
    free(c->gold);
    memset(c, 0, sizeof *c);
}

/* ---- bootstrap statistics ---- */

typedef struct resample_ctx {
    const preds *a, *b;       /* b for paired differences */
    const size_t *map_b;      /* index in b of the example at index i of a */
    int *g, *pa, *pb;         /* scratch [n] */
    double *conf;
    unsigned char *corr;
} resample_ctx;

static double stat_accuracy(const size_t *idx, size_t n, void *ud)
{
    const resample_ctx *c = ud;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += c->a->correct[idx[i]];
    return (double)k / (double)n;
}

static double macro_f1_of(const int *g, const int *p, size_t n, size_t ncls)
{
    slm_cls_metrics m;
    if (slm_cls_metrics_compute(g, p, n, ncls, &m, NULL, 0))
        return NAN;
    double v = m.macro_f1;
    slm_cls_metrics_free(&m);
    return v;
}

static double stat_macro_f1(const size_t *idx, size_t n, void *ud)
{
    resample_ctx *c = ud;
    for (size_t i = 0; i < n; i++) {
        c->g[i] = c->a->gold[idx[i]];
        c->pa[i] = c->a->pred[idx[i]];
    }
    return macro_f1_of(c->g, c->pa, n, c->a->n_classes);
}

/* ECE of a resample of all the candidate's rows, over its rows with a confidence (as the
 * point value); NaN, and the replicate skipped, when it drew none. */
static double stat_ece(const size_t *idx, size_t n, void *ud)
{
    resample_ctx *c = ud;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(c->a->conf[idx[i]]))
            continue;
        c->conf[m] = c->a->conf[idx[i]];
        c->corr[m++] = c->a->correct[idx[i]];
    }
    return slm_ece(c->conf, c->corr, m, SLM_ECE_BINS, 0, NULL, NULL, NULL, NULL);
}

static double stat_f1_diff(const size_t *idx, size_t n, void *ud)
{
    resample_ctx *c = ud;
    for (size_t i = 0; i < n; i++) {
        c->g[i] = c->a->gold[idx[i]];
        c->pa[i] = c->a->pred[idx[i]];
        c->pb[i] = c->b->pred[c->map_b[idx[i]]];
    }
    size_t ncls = c->a->n_classes > c->b->n_classes ? c->a->n_classes : c->b->n_classes;
    /* extra (invalid) classes of A and B are distinct strings but both are "wrong";
     * keep them apart by offsetting B's extras past A's */
    for (size_t i = 0; i < n; i++)
        if (c->pb[i] >= (int)c->b->nl)
            c->pb[i] += (int)(c->a->n_classes - c->a->nl);
    ncls = c->a->n_classes + (c->b->n_classes - c->b->nl);
    double fa = macro_f1_of(c->g, c->pa, n, ncls);
    double fb = macro_f1_of(c->g, c->pb, n, ncls);
    return fa - fb;
}

/* ---- storing ---- */

/* Where one candidate's results go. */
typedef struct slm_target {
    slm_store *st;
    int64_t run_id, cid;
    char *err;
    size_t errlen;
} slm_target;

static int put_metric(slm_store *st, int64_t run_id, int64_t cid, const char *name, double v,
                      double lo, double hi, long n, char *err, size_t errlen)
{
    return slm_store_put_metric(st, run_id, cid, name, v, lo, hi, n, err, errlen);
}

static int put_reliability(slm_store *st, int64_t run_id, int64_t cid, const char *scheme,
                           const long *cnt, const double *conf, const double *acc, char *err,
                           size_t errlen)
{
    for (int b = 0; b < SLM_ECE_BINS; b++)
        if (slm_store_put_reliability(st, run_id, cid, scheme, b + 1, cnt[b], conf[b], acc[b],
                                      err, errlen))
            return -1;
    return 0;
}

/* Whether a JSON array holds nl numbers (null is the writer's form of a non-finite score,
 * NaN or -inf, which cannot be told apart once stored). */
static int all_numbers(const json_t *a, size_t nl)
{
    if (json_array_size(a) != nl)
        return 0;
    for (size_t k = 0; k < nl; k++)
        if (!json_is_number(json_array_get(a, k)))
            return 0;
    return 1;
}

/* Label scores of a candidate's rows (sum of token log-probs, or the mean per token with
 * score_norm: mean), from its predictions or its calibration split, in example order.
 * Rows without a full set of scores (engine errors, a null score) are left out, so the
 * temperature-scaled metrics describe the answered rows, like the others. */
static size_t load_logits(slm_store *st, int calib, int64_t cid, int mean,
                          const char *const *labels, size_t nl, double **logits, int **gold)
{
    slm_score_row *r;
    size_t nr, n = 0;
    *logits = NULL;
    *gold = NULL;
    if (slm_store_score_rows(st, cid, calib, &r, &nr, NULL, 0))
        return 0;
    if (nr) {
        *logits = slm_xcalloc(nr * (nl ? nl : 1), sizeof **logits);
        *gold = slm_xcalloc(nr, sizeof **gold);
    }
    for (size_t i = 0; i < nr; i++) {
        int g = slm_label_index(labels, nl, r[i].gold ? r[i].gold : "");
        json_t *lp = json_loads(r[i].logprobs_json, 0, NULL);
        json_t *nt = r[i].ntok_json ? json_loads(r[i].ntok_json, 0, NULL) : NULL;
        if (g >= 0 && nl > 0 && all_numbers(lp, nl)) {
            for (size_t k = 0; k < nl; k++) {
                double v = json_number_value(json_array_get(lp, k));
                json_int_t t = json_integer_value(json_array_get(nt, k));
                (*logits)[n * nl + k] = mean && t > 0 ? v / (double)t : v;
            }
            (*gold)[n++] = g;
        }
        json_decref(lp);
        json_decref(nt);
    }
    slm_score_rows_free(r, nr);
    return n;
}

/* Temperature scaling: T fitted on the calibration split, applied to the evaluated split;
 * calibration before and after. Nothing is stored when there is no calibration data. */
static int temperature_scaling(slm_store *st, int64_t run_id, int64_t cid, const slm_run_cfg *cfg,
                               const char *const *labels, size_t nl, char *err, size_t errlen)
{
    int mean = cfg && cfg->score_mean;
    double *cl = NULL, *tl = NULL;
    int *cg = NULL, *tg = NULL;
    size_t nc = load_logits(st, 1, cid, mean, labels, nl, &cl, &cg);
    size_t nt = nc ? load_logits(st, 0, cid, mean, labels, nl, &tl, &tg) : 0;
    int rc = 0;
    if (nc && nt) {
        double T = slm_fit_temperature(cl, cg, nc, nl);
        double *pr = slm_xcalloc(nt * nl, sizeof *pr), *conf = slm_xcalloc(nt, sizeof *conf);
        unsigned char *ok = slm_xcalloc(nt, 1);
        slm_apply_temperature(tl, nt, nl, T, pr);
        for (size_t i = 0; i < nt; i++) {
            size_t best = 0;
            for (size_t k = 1; k < nl; k++)
                if (pr[i * nl + k] > pr[i * nl + best])
                    best = k;
            conf[i] = pr[i * nl + best];
            ok[i] = (int)best == tg[i];
        }
        double mce;
        double ece = slm_ece(conf, ok, nt, SLM_ECE_BINS, 0, &mce, NULL, NULL, NULL);
        double ece_mass = slm_ece(conf, ok, nt, SLM_ECE_BINS, 1, NULL, NULL, NULL, NULL);
        struct {
            const char *name;
            double v;
            long n;
        } m[] = {{"temperature", T, (long)nc},
                 {"calibration_n", (double)nc, (long)nc},
                 {"ece_15_ts", ece, (long)nt},
                 {"ece_15_mass_ts", ece_mass, (long)nt},
                 {"mce_15_ts", mce, (long)nt},
                 {"brier_ts", slm_brier(pr, tg, nt, nl), (long)nt},
                 {"nll_ts", slm_nll(pr, tg, nt, nl), (long)nt}};
        for (size_t i = 0; i < sizeof m / sizeof m[0] && !rc; i++)
            rc = put_metric(st, run_id, cid, m[i].name, m[i].v, NAN, NAN, m[i].n, err, errlen);
        free(pr);
        free(conf);
        free(ok);
    }
    free(cl);
    free(cg);
    free(tl);
    free(tg);
    return rc;
}

/* Reliability bins of both schemes over the answered rows (equal mass: one row per bin
 * of slm_ece's scheme, bin b = the b-th edge, empty past the last edge); *ece, *mce and
 * the equal-mass ECE for the callers. */
static int put_calibration(const slm_target *t, const calib_rows *c, double *ece, double *mce,
                           double *ece_mass)
{
    long cnt[SLM_ECE_BINS];
    double bconf[SLM_ECE_BINS], bacc[SLM_ECE_BINS], mce_mass;
    *ece = slm_ece(c->conf, c->correct, c->n, SLM_ECE_BINS, 0, mce, cnt, bconf, bacc);
    if (put_reliability(t->st, t->run_id, t->cid, "width", cnt, bconf, bacc, t->err, t->errlen))
        return -1;
    *ece_mass = slm_ece(c->conf, c->correct, c->n, SLM_ECE_BINS, 1, &mce_mass, cnt, bconf, bacc);
    return put_reliability(t->st, t->run_id, t->cid, "mass", cnt, bconf, bacc, t->err,
                           t->errlen);
}

/* Intervals of accuracy, macro-F1 and ECE (the values of accuracy and macro-F1 are stored
 * by aggregate too; here the interval is added), all from the same seeded resamples:
 * percentile for accuracy (a mean: its replicates centre on it), BCa for macro-F1 and ECE,
 * biased statistics whose replicates sit off-centre (resampling duplicates examples, which
 * pushes ECE up). Where BCa is undefined (the value below or above every replicate, or the
 * whole interval between the two outermost replicates: see slm_bca_endpoints) the interval
 * is NULL rather than a percentile one that would not contain the value. Every row is
 * resampled; the ECE (value and replicates) is over the answered rows, n_ece of them in the
 * sample. */
static int put_intervals(const slm_target *t, const preds *p, resample_ctx *rc_ctx, int reps,
                         uint64_t seed, double ece, size_t n_ece)
{
    size_t n = p->n, k = 0;
    for (size_t i = 0; i < n; i++)
        k += p->correct[i];
    const struct {
        const char *name;
        slm_resample_stat stat;
        double value;
        size_t n;
        int bca;
    } ci[] = {{"accuracy", stat_accuracy, (double)k / (double)n, n, 0},
              {"macro_f1", stat_macro_f1, macro_f1_of(p->gold, p->pred, n, p->n_classes), n, 1},
              {"ece_15", stat_ece, ece, n_ece, 1}};
    for (size_t i = 0; i < 3; i++) {
        double lo = NAN, hi = NAN;
        if (reps > 0 && ci[i].n > 0 && ci[i].bca)
            slm_bootstrap_bca(n, ci[i].stat, rc_ctx, reps, seed, 0.95, &lo, &hi);
        else if (reps > 0 && ci[i].n > 0)
            slm_bootstrap_ci(n, ci[i].stat, rc_ctx, reps, seed, 0.95, &lo, &hi, NULL);
        if (put_metric(t->st, t->run_id, t->cid, ci[i].name, ci[i].value, lo, hi, (long)ci[i].n,
                       t->err, t->errlen))
            return -1;
    }
    return 0;
}

/* Metrics without an interval, n = the candidate's examples. */
typedef struct named {
    const char *name;
    double v;
} named;

static int put_plain(const slm_target *t, const named *m, size_t k, size_t n)
{
    for (size_t i = 0; i < k; i++)
        if (put_metric(t->st, t->run_id, t->cid, m[i].name, m[i].v, NAN, NAN, (long)n, t->err,
                       t->errlen))
            return -1;
    return 0;
}

/* Coverage (and its confidence threshold) at each target accuracy of the config, over the
 * answered rows: a share of them (an errored row has no confidence to accept it by). */
static int put_coverage(const slm_target *t, const calib_rows *p, const slm_run_cfg *cfg)
{
    size_t nt = cfg ? cfg->n_coverage_targets : 0;
    for (size_t i = 0; i < nt; i++) {
        double c, th, a;
        slm_coverage_at(p->conf, p->correct, p->n, cfg->coverage_targets[i], &c, &th, &a);
        char name[64], name_th[80];
        snprintf(name, sizeof name, "coverage_at_%.2f", cfg->coverage_targets[i]);
        snprintf(name_th, sizeof name_th, "%s_threshold", name);
        named m[] = {{name, c}, {name_th, th}};
        if (put_plain(t, m, 2, p->n))
            return -1;
    }
    return 0;
}

/* The risk-coverage curve of the answered rows. */
static int put_risk_coverage(const slm_target *t, const calib_rows *p)
{
    size_t n = p->n;
    double *cov = slm_xcalloc(n, sizeof *cov), *risk = slm_xcalloc(n, sizeof *risk);
    double *thr = slm_xcalloc(n, sizeof *thr);
    size_t np = slm_risk_coverage(p->conf, p->correct, n, cov, risk, thr);
    int rc = 0;
    for (size_t i = 0; i < np && !rc; i++)
        rc = slm_store_put_curve_point(t->st, t->run_id, t->cid, "risk_coverage", (long)i,
                                       cov[i], risk[i], thr[i], t->err, t->errlen);
    free(cov);
    free(risk);
    free(thr);
    return rc;
}

/* The cascade: the small model answers when its confidence reaches the threshold,
 * otherwise the ticket goes to the escalation target (which answers right with its stated
 * accuracy); the small model is always called first. Over every row: one without a
 * confidence (an engine error, NaN) never reaches the threshold and is escalated. */
static int put_cascade(const slm_target *t, const preds *p, const slm_run_cfg *cfg)
{
    size_t n = p->n, acc_n = 0, acc_ok = 0;
    for (size_t i = 0; i < n; i++)
        if (p->conf[i] >= cfg->cascade_threshold) {
            acc_n++;
            acc_ok += p->correct[i];
        }
    double share = (double)acc_n / (double)n;
    double esc = (double)(n - acc_n);
    double overall = ((double)acc_ok + cfg->cascade_esc_acc * esc) / (double)n;
    double cost = (double)n * cfg->cascade_slm_cost + esc * cfg->cascade_esc_cost;
    double all_large = (double)n * cfg->cascade_esc_cost;
    const named cm[] = {{"cascade_threshold", cfg->cascade_threshold},
                        {"cascade_slm_share", share},
                        {"cascade_slm_accuracy", acc_n ? (double)acc_ok / (double)acc_n : NAN},
                        {"cascade_accuracy", overall},
                        {"cascade_cost", cost},
                        {"cascade_cost_all_large", all_large},
                        {"cascade_cost_ratio", all_large > 0 ? cost / all_large : NAN},
                        {"cascade_escalation_accuracy", cfg->cascade_esc_acc}};
    return put_plain(t, cm, sizeof cm / sizeof cm[0], n);
}

/* Everything of a candidate with predictions, inside the caller's transaction. */
static int analyze(const slm_target *t, const preds *p, const slm_run_cfg *cfg,
                   const char *const *labels, size_t nl)
{
    size_t n = p->n;
    resample_ctx rc_ctx = {.a = p};
    rc_ctx.g = slm_xcalloc(n, sizeof *rc_ctx.g);
    rc_ctx.pa = slm_xcalloc(n, sizeof *rc_ctx.pa);
    rc_ctx.conf = slm_xcalloc(n, sizeof *rc_ctx.conf);
    rc_ctx.corr = slm_xcalloc(n, 1);
    int reps = cfg ? cfg->bootstrap : 1000;
    uint64_t seed = cfg ? (uint64_t)cfg->seed : 1;
    double ece, mce, ece_mass;
    calib_rows c;
    calib_rows_of(p, &c);
    int rc = put_calibration(t, &c, &ece, &mce, &ece_mass) ||
             put_intervals(t, p, &rc_ctx, reps, seed, ece, c.n);
    if (rc == 0) {
        /* slm_ece, slm_aurc, slm_brier... are NaN (NULL) over no rows */
        const named answered[] = {{"ece_15_mass", ece_mass},
                                  {"mce_15", mce},
                                  {"aurc", slm_aurc(c.conf, c.correct, c.n)}};
        const named with_probs[] = {
            {"brier", slm_brier(c.probs, c.gold, c.n_probs, nl)},
            {"nll", slm_nll(c.probs, c.gold, c.n_probs, nl)},
            {"classwise_ece_15", slm_classwise_ece(c.probs, c.gold, c.n_probs, nl, SLM_ECE_BINS)}};
        const named all[] = {{"conf_missing", (double)(n - c.n)},
                             {"probs_missing", (double)(n - c.n_probs)},
                             {"bootstrap_reps", reps},
                             {"bootstrap_seed", (double)seed}};
        rc = put_plain(t, answered, 3, c.n) || put_plain(t, with_probs, 3, c.n_probs) ||
             put_plain(t, all, 4, n) || put_coverage(t, &c, cfg) ||
             temperature_scaling(t->st, t->run_id, t->cid, cfg, labels, nl, t->err, t->errlen) ||
             put_risk_coverage(t, &c) || (cfg && cfg->has_cascade && put_cascade(t, p, cfg));
    }
    calib_rows_free(&c);
    free(rc_ctx.g);
    free(rc_ctx.pa);
    free(rc_ctx.conf);
    free(rc_ctx.corr);
    return rc ? -1 : 0;
}

int slm_analyze_candidate(slm_store *st, int64_t run_id, int64_t cid, const slm_run_cfg *cfg,
                          const char *const *labels, size_t nl, char *err, size_t errlen)
{
    preds p;
    if (load_preds(st, cid, labels, nl, &p, err, errlen))
        return -1;
    slm_target t = {st, run_id, cid, err, errlen};
    int rc = slm_store_begin(st, err, errlen);
    if (rc == 0) {
        rc = slm_store_clear_analysis(st, run_id, cid, err, errlen) ||
             (p.n > 0 && analyze(&t, &p, cfg, labels, nl));
        if (rc)
            slm_store_rollback(st);
        else
            rc = slm_store_commit(st, err, errlen);
    }
    preds_free(&p);
    return rc ? -1 : 0;
}

static int cmp_ids(const void *x, const void *y, void *ids)
{
    char **v = ids;
    return strcmp(v[*(const size_t *)x], v[*(const size_t *)y]);
}

int slm_paired_compare(slm_store *st, int64_t cand_a, int64_t cand_b, const char *const *labels,
                       size_t nl, int reps, uint64_t seed, slm_paired *out, char *err,
                       size_t errlen)
{
    preds a, b;
    memset(out, 0, sizeof *out);
    if (load_preds(st, cand_a, labels, nl, &a, err, errlen))
        return -1;
    if (load_preds(st, cand_b, labels, nl, &b, err, errlen)) {
        preds_free(&a);
        return -1;
    }
    /* match by example id: sort b's ids once, binary-search a's */
    size_t *order = slm_xcalloc(b.n + 1, sizeof *order);
    for (size_t i = 0; i < b.n; i++)
        order[i] = i;
    qsort_r(order, b.n, sizeof *order, cmp_ids, b.ids);
    preds pa = {0}; /* a restricted to the shared examples */
    size_t *map_b = slm_xcalloc(a.n + 1, sizeof *map_b);
    size_t *keep = slm_xcalloc(a.n + 1, sizeof *keep);
    size_t nk = 0;
    for (size_t i = 0; i < a.n; i++) {
        size_t lo = 0, hi = b.n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (strcmp(b.ids[order[mid]], a.ids[i]) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < b.n && !strcmp(b.ids[order[lo]], a.ids[i])) {
            keep[nk] = i;
            map_b[nk++] = order[lo];
        }
    }
    int rc = 0;
    if (nk == 0) {
        rc = slm_err(err, errlen, "the two candidates share no example ids");
        goto done;
    }
    pa.n = nk;
    pa.nl = a.nl;
    pa.n_classes = a.n_classes;
    pa.gold = slm_xcalloc(nk, sizeof *pa.gold);
    pa.pred = slm_xcalloc(nk, sizeof *pa.pred);
    pa.correct = slm_xcalloc(nk, 1);
    long ka = 0, kb = 0;
    for (size_t i = 0; i < nk; i++) {
        pa.gold[i] = a.gold[keep[i]];
        pa.pred[i] = a.pred[keep[i]];
        pa.correct[i] = a.correct[keep[i]];
        int cb = b.correct[map_b[i]];
        ka += pa.correct[i];
        kb += cb;
        if (pa.correct[i] && !cb)
            out->b++;
        else if (!pa.correct[i] && cb)
            out->c++;
    }
    out->n = nk;
    out->acc_a = (double)ka / (double)nk;
    out->acc_b = (double)kb / (double)nk;
    out->acc_diff = out->acc_a - out->acc_b;
    out->mcnemar_p = slm_mcnemar_p(out->b, out->c, &out->mcnemar_exact);
    resample_ctx c = {.a = &pa, .b = &b, .map_b = map_b};
    c.g = slm_xcalloc(nk, sizeof *c.g);
    c.pa = slm_xcalloc(nk, sizeof *c.pa);
    c.pb = slm_xcalloc(nk, sizeof *c.pb);
    size_t *all = slm_xcalloc(nk, sizeof *all);
    for (size_t i = 0; i < nk; i++)
        all[i] = i;
    out->f1_diff = stat_f1_diff(all, nk, &c);
    out->f1_a = macro_f1_of(pa.gold, pa.pred, nk, pa.n_classes);
    out->f1_b = out->f1_a - out->f1_diff;
    out->f1_lo = out->f1_hi = out->f1_p = NAN;
    out->f1_crossed = -1;
    if (reps > 0) {
        slm_boot_test bt;
        slm_paired_bootstrap_test(nk, stat_f1_diff, &c, reps, seed, &bt);
        out->f1_lo = bt.lo;
        out->f1_hi = bt.hi;
        out->f1_p = bt.p;
        out->f1_crossed = bt.crossed;
    }
    free(all);
    free(c.g);
    free(c.pa);
    free(c.pb);
done:
    free(pa.gold);
    free(pa.pred);
    free(pa.correct);
    free(map_b);
    free(keep);
    free(order);
    preds_free(&a);
    preds_free(&b);
    return rc;
}

/* Every pair (i, j), i > j, of the ranked candidates ids[0..nc), with j = 0 (the best)
 * first: pairs [0, nc - 1) are candidate i + 1 against the best. A = ids[i], B = ids[j],
 * so a negative difference means worse than the one ranked higher. */
static int compare_all_pairs(slm_store *st, const int64_t *ids, size_t nc,
                             const slm_run_cfg *cfg, const char *const *labels, size_t nl,
                             slm_paired *pr, char *err, size_t errlen)
{
    size_t k = 0;
    for (size_t j = 0; j < nc; j++)
        for (size_t i = j + 1; i < nc; i++, k++)
            if (slm_paired_compare(st, ids[i], ids[j], labels, nl, cfg->bootstrap,
                                   (uint64_t)cfg->seed, &pr[k], err, errlen))
                return -1;
    return 0;
}

/* Tests all nc(nc-1)/2 pairs, Holm-adjusts across all of them (see slm_compare_run) and
 * stores the nc - 1 pairs with the best ids[0], inside the caller's transaction. */
static int put_comparisons(slm_store *st, int64_t run_id, const int64_t *ids, size_t nc,
                           const slm_run_cfg *cfg, const char *const *labels, size_t nl,
                           char *err, size_t errlen)
{
    size_t m = nc * (nc - 1) / 2;
    slm_paired *pr = slm_xcalloc(m, sizeof *pr);
    double *pm = slm_xcalloc(m, sizeof *pm), *pf = slm_xcalloc(m, sizeof *pf);
    double *hm = slm_xcalloc(m, sizeof *hm), *hf = slm_xcalloc(m, sizeof *hf);
    int bad = compare_all_pairs(st, ids, nc, cfg, labels, nl, pr, err, errlen);
    if (!bad) {
        for (size_t i = 0; i < m; i++) {
            pm[i] = pr[i].mcnemar_p;
            pf[i] = pr[i].f1_p; /* NaN without a bootstrap: every Holm p NULL then */
        }
        slm_holm(pm, m, hm);
        slm_holm(pf, m, hf);
    }
    for (size_t i = 0; i + 1 < nc && !bad; i++) {
        slm_comparison_row r = {ids[i + 1], ids[0], (long)pr[i].n, pr[i].b, pr[i].c,
                                pr[i].acc_diff, pr[i].mcnemar_p, pr[i].mcnemar_exact,
                                pr[i].f1_diff, pr[i].f1_lo, pr[i].f1_hi, pr[i].f1_p, hm[i],
                                hf[i], cfg->seed, cfg->bootstrap, pr[i].f1_crossed, (long)m};
        bad = slm_store_put_comparison(st, run_id, &r, err, errlen);
    }
    free(pr);
    free(pm);
    free(pf);
    free(hm);
    free(hf);
    return bad ? -1 : 0;
}

int slm_compare_run(slm_store *st, int64_t run_id, char *err, size_t errlen)
{
    if (slm_run_is_json_task(st, run_id))
        return 0; /* JSON answers are compared field by field in the report, not paired here */
    slm_run_cfg *cfg = NULL;
    char **labels = NULL;
    size_t nl = 0, nc = 0;
    int64_t *ids = NULL;
    if (slm_run_cfg_from_db(st, run_id, &cfg, err, errlen))
        return -1;
    int rc = -1;
    if (slm_run_labels(st, run_id, &labels, &nl, err, errlen) ||
        slm_store_ranked_candidates(st, run_id, &ids, &nc, err, errlen) ||
        slm_store_begin(st, err, errlen))
        goto out;
    if (slm_store_clear_comparisons(st, run_id, err, errlen) ||
        (nc >= 2 && put_comparisons(st, run_id, ids, nc, cfg, (const char *const *)labels, nl,
                                    err, errlen)))
        slm_store_rollback(st);
    else
        rc = slm_store_commit(st, err, errlen);
out:
    free(ids);
    slm_free_strv(labels, nl);
    slm_run_cfg_free(cfg);
    return rc;
}
