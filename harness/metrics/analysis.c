/* analysis.c — see analysis.h. */
#include "analysis.h"
#include "aggregate.h"
#include "evalset.h"
#include "metrics.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int slm_run_cfg_from_db(slm_store *st, int64_t run_id, slm_run_cfg **out, char *err,
                        size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT config_path, config_text FROM runs WHERE id = ?", &s, err,
                          errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    int rc = -1;
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(s, 0);
        const char *text = (const char *)sqlite3_column_text(s, 1);
        path = path ? path : "<db>";
        const char *slash = strrchr(path, '/');
        char *dir = slash ? slm_xstrndup(path, (size_t)(slash - path)) : slm_xstrdup(".");
        rc = slm_run_cfg_parse(path, dir, text ? text : "", text ? strlen(text) : 0, out, err,
                               errlen);
        free(dir);
    } else {
        slm_err(err, errlen, "%s: no run %lld", slm_store_path(st), (long long)run_id);
    }
    sqlite3_finalize(s);
    return rc;
}

/* ---- one candidate's predictions in memory ---- */

typedef struct preds {
    size_t n, nl, n_classes;
    char **ids;
    int *gold, *pred;        /* pred: label index, or an extra class for invalid/errors */
    double *conf;            /* NaN when unknown */
    unsigned char *correct;
    double *probs;           /* [n * nl] or NULL when not every example has them */
} preds;

static void preds_free(preds *p)
{
    slm_free_strv(p->ids, p->n);
    free(p->gold);
    free(p->pred);
    free(p->conf);
    free(p->correct);
    free(p->probs);
    memset(p, 0, sizeof *p);
}

static int load_preds(slm_store *st, int64_t cid, const char *const *labels, size_t nl, preds *p,
                      char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->nl = nl;
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT example_id, gold, pred, confidence, probs_json FROM predictions "
                          "WHERE candidate_id = ? ORDER BY example_idx",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, cid);
    size_t cap = 0;
    char **extra = NULL;
    size_t n_extra = 0;
    int have_probs = 1;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (p->n == cap) {
            cap = cap ? cap * 2 : 512;
            p->ids = slm_xrealloc(p->ids, cap * sizeof *p->ids);
            p->gold = slm_xrealloc(p->gold, cap * sizeof *p->gold);
            p->pred = slm_xrealloc(p->pred, cap * sizeof *p->pred);
            p->conf = slm_xrealloc(p->conf, cap * sizeof *p->conf);
            p->correct = slm_xrealloc(p->correct, cap);
            p->probs = slm_xrealloc(p->probs, cap * nl * sizeof *p->probs);
        }
        size_t i = p->n++;
        p->ids[i] = slm_xstrdup((const char *)sqlite3_column_text(s, 0));
        const char *g = (const char *)sqlite3_column_text(s, 1);
        const char *pr = (const char *)sqlite3_column_text(s, 2);
        p->gold[i] = slm_label_index(labels, nl, g ? g : "");
        int pi = pr ? slm_label_index(labels, nl, pr) : -1;
        if (pi < 0) {
            const char *key = pr ? pr : "<error>";
            size_t k = 0;
            while (k < n_extra && strcmp(extra[k], key))
                k++;
            if (k == n_extra) {
                extra = slm_xrealloc(extra, (n_extra + 1) * sizeof *extra);
                extra[n_extra++] = slm_xstrdup(key);
            }
            pi = (int)(nl + k);
        }
        p->pred[i] = pi;
        p->correct[i] = p->gold[i] >= 0 && pi == p->gold[i];
        p->conf[i] = sqlite3_column_type(s, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 3);
        if (isnan(p->conf[i]))
            p->conf[i] = 0.0; /* no answer: no confidence */
        const char *pj = (const char *)sqlite3_column_text(s, 4);
        json_t *a = pj ? json_loads(pj, 0, NULL) : NULL;
        if (json_array_size(a) == nl) {
            for (size_t k = 0; k < nl; k++)
                p->probs[i * nl + k] = json_number_value(json_array_get(a, k));
        } else {
            have_probs = 0;
        }
        json_decref(a);
        if (p->gold[i] < 0) {
            slm_err(err, errlen, "gold label '%s' is not in the run's label set", g ? g : "");
            sqlite3_finalize(s);
            slm_free_strv(extra, n_extra);
            preds_free(p);
            return -1;
        }
    }
    sqlite3_finalize(s);
    slm_free_strv(extra, n_extra);
    p->n_classes = nl + n_extra;
    if (!have_probs || p->n == 0) {
        free(p->probs);
        p->probs = NULL;
    }
    return 0;
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

static double stat_ece(const size_t *idx, size_t n, void *ud)
{
    resample_ctx *c = ud;
    for (size_t i = 0; i < n; i++) {
        c->conf[i] = c->a->conf[idx[i]];
        c->corr[i] = c->a->correct[idx[i]];
    }
    return slm_ece(c->conf, c->corr, n, SLM_ECE_BINS, 0, NULL, NULL, NULL, NULL);
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

static int put_metric(slm_store *st, int64_t run_id, int64_t cid, const char *name, double v,
                      double lo, double hi, long n, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT OR REPLACE INTO metrics (run_id, candidate_id, name, value, lo, "
                          "hi, n) VALUES (?,?,?,?,?,?,?)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
    slm_bind_double(s, 4, v);
    slm_bind_double(s, 5, lo);
    slm_bind_double(s, 6, hi);
    sqlite3_bind_int64(s, 7, n);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(s);
    if (rc)
        slm_err(err, errlen, "%s: cannot store metric '%s'", slm_store_path(st), name);
    return rc;
}

static int exec_bound(slm_store *st, const char *sql, int64_t run_id, int64_t cid, char *err,
                      size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, sql, &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(s);
    return rc ? slm_err(err, errlen, "%s: %s", slm_store_path(st), sqlite3_errmsg(slm_store_db(st)))
              : 0;
}

static int put_reliability(slm_store *st, int64_t run_id, int64_t cid, const char *scheme,
                           const long *cnt, const double *conf, const double *acc, char *err,
                           size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT INTO reliability (run_id, candidate_id, scheme, bin, count, "
                          "confidence, accuracy) VALUES (?,?,?,?,?,?,?)",
                          &s, err, errlen))
        return -1;
    for (int b = 0; b < SLM_ECE_BINS; b++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, run_id);
        sqlite3_bind_int64(s, 2, cid);
        sqlite3_bind_text(s, 3, scheme, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, b + 1);
        sqlite3_bind_int64(s, 5, cnt[b]);
        slm_bind_double(s, 6, conf[b]);
        slm_bind_double(s, 7, acc[b]);
        if (sqlite3_step(s) != SQLITE_DONE) {
            sqlite3_finalize(s);
            return slm_err(err, errlen, "%s: cannot store reliability bins", slm_store_path(st));
        }
    }
    sqlite3_finalize(s);
    return 0;
}


/* Label scores of a candidate's rows (sum of token log-probs, or the mean per token with
 * score_norm: mean), from `table` (predictions or calib_predictions), in example order.
 * Rows without scores (engine errors) are left out. */
static size_t load_logits(slm_store *st, const char *table, int64_t cid, int mean,
                          const char *const *labels, size_t nl, double **logits, int **gold)
{
    char *sql = slm_xasprintf("SELECT gold, logprobs_json, ntok_json FROM %s WHERE "
                              "candidate_id = ? AND logprobs_json IS NOT NULL ORDER BY example_idx",
                              table);
    sqlite3_stmt *s;
    *logits = NULL;
    *gold = NULL;
    size_t n = 0, cap = 0;
    if (slm_store_prepare(st, sql, &s, NULL, 0)) {
        free(sql);
        return 0;
    }
    free(sql);
    sqlite3_bind_int64(s, 1, cid);
    while (sqlite3_step(s) == SQLITE_ROW) {
        int g = slm_label_index(labels, nl, (const char *)sqlite3_column_text(s, 0));
        json_t *lp = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL);
        const char *ntj = (const char *)sqlite3_column_text(s, 2);
        json_t *nt = ntj ? json_loads(ntj, 0, NULL) : NULL;
        if (g >= 0 && json_array_size(lp) == nl) {
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                *logits = slm_xrealloc(*logits, cap * nl * sizeof **logits);
                *gold = slm_xrealloc(*gold, cap * sizeof **gold);
            }
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
    sqlite3_finalize(s);
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
    size_t nc = load_logits(st, "calib_predictions", cid, mean, labels, nl, &cl, &cg);
    size_t nt = nc ? load_logits(st, "predictions", cid, mean, labels, nl, &tl, &tg) : 0;
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

int slm_analyze_candidate(slm_store *st, int64_t run_id, int64_t cid, const slm_run_cfg *cfg,
                          const char *const *labels, size_t nl, char *err, size_t errlen)
{
    preds p;
    if (load_preds(st, cid, labels, nl, &p, err, errlen))
        return -1;
    int rc = -1;
    size_t n = p.n;
    resample_ctx rc_ctx = {.a = &p};
    double *cov = NULL, *risk = NULL, *thr = NULL;
    if (slm_store_begin(st, err, errlen))
        goto out;
    if (exec_bound(st, "DELETE FROM reliability WHERE run_id = ?1 AND candidate_id = ?2", run_id,
                   cid, err, errlen) ||
        exec_bound(st, "DELETE FROM curves WHERE run_id = ?1 AND candidate_id = ?2", run_id, cid,
                   err, errlen))
        goto rollback;
    if (n == 0) {
        rc = slm_store_commit(st, err, errlen);
        goto out;
    }
    rc_ctx.g = slm_xcalloc(n, sizeof *rc_ctx.g);
    rc_ctx.pa = slm_xcalloc(n, sizeof *rc_ctx.pa);
    rc_ctx.conf = slm_xcalloc(n, sizeof *rc_ctx.conf);
    rc_ctx.corr = slm_xcalloc(n, 1);
    long cnt[SLM_ECE_BINS];
    double bconf[SLM_ECE_BINS], bacc[SLM_ECE_BINS], mce, mce_mass;
    double ece = slm_ece(p.conf, p.correct, n, SLM_ECE_BINS, 0, &mce, cnt, bconf, bacc);
    if (put_reliability(st, run_id, cid, "width", cnt, bconf, bacc, err, errlen))
        goto rollback;
    double ece_mass = slm_ece(p.conf, p.correct, n, SLM_ECE_BINS, 1, &mce_mass, cnt, bconf, bacc);
    if (put_reliability(st, run_id, cid, "mass", cnt, bconf, bacc, err, errlen))
        goto rollback;
    int reps = cfg ? cfg->bootstrap : 1000;
    uint64_t seed = cfg ? (uint64_t)cfg->seed : 1;
    double lo, hi;
    /* intervals of accuracy, macro-F1 and ECE (value itself is stored by aggregate for
     * accuracy and macro-F1; here the interval is added) */
    struct {
        const char *name;
        slm_resample_stat stat;
        double value;
    } ci[] = {{"accuracy", stat_accuracy, NAN}, {"macro_f1", stat_macro_f1, NAN},
              {"ece_15", stat_ece, ece}};
    {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            k += p.correct[i];
        ci[0].value = (double)k / (double)n;
        ci[1].value = macro_f1_of(p.gold, p.pred, n, p.n_classes);
    }
    for (size_t i = 0; i < 3; i++) {
        lo = hi = NAN;
        if (reps > 0)
            slm_bootstrap_ci(n, ci[i].stat, &rc_ctx, reps, seed, 0.95, &lo, &hi, NULL);
        if (put_metric(st, run_id, cid, ci[i].name, ci[i].value, lo, hi, (long)n, err, errlen))
            goto rollback;
    }
    double brier = p.probs ? slm_brier(p.probs, p.gold, n, nl) : NAN;
    double nll = p.probs ? slm_nll(p.probs, p.gold, n, nl) : NAN;
    double cw = p.probs ? slm_classwise_ece(p.probs, p.gold, n, nl, SLM_ECE_BINS) : NAN;
    double aurc = slm_aurc(p.conf, p.correct, n);
    struct {
        const char *name;
        double v;
    } m[] = {{"ece_15_mass", ece_mass}, {"mce_15", mce},         {"brier", brier},
             {"nll", nll},              {"classwise_ece_15", cw}, {"aurc", aurc},
             {"bootstrap_reps", reps},  {"bootstrap_seed", (double)seed}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (put_metric(st, run_id, cid, m[i].name, m[i].v, NAN, NAN, (long)n, err, errlen))
            goto rollback;
    size_t nt = cfg ? cfg->n_coverage_targets : 0;
    for (size_t t = 0; t < nt; t++) {
        double c, th, a;
        slm_coverage_at(p.conf, p.correct, n, cfg->coverage_targets[t], &c, &th, &a);
        char name[64];
        snprintf(name, sizeof name, "coverage_at_%.2f", cfg->coverage_targets[t]);
        if (put_metric(st, run_id, cid, name, c, NAN, NAN, (long)n, err, errlen))
            goto rollback;
        snprintf(name, sizeof name, "coverage_at_%.2f_threshold", cfg->coverage_targets[t]);
        if (put_metric(st, run_id, cid, name, th, NAN, NAN, (long)n, err, errlen))
            goto rollback;
    }
    if (temperature_scaling(st, run_id, cid, cfg, labels, nl, err, errlen))
        goto rollback;
    /* the risk–coverage curve */
    cov = slm_xcalloc(n, sizeof *cov);
    risk = slm_xcalloc(n, sizeof *risk);
    thr = slm_xcalloc(n, sizeof *thr);
    size_t np = slm_risk_coverage(p.conf, p.correct, n, cov, risk, thr);
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT INTO curves (run_id, candidate_id, curve, idx, x, y, threshold) "
                          "VALUES (?,?,'risk_coverage',?,?,?,?)",
                          &s, err, errlen))
        goto rollback;
    for (size_t i = 0; i < np; i++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, run_id);
        sqlite3_bind_int64(s, 2, cid);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)i);
        slm_bind_double(s, 4, cov[i]);
        slm_bind_double(s, 5, risk[i]);
        slm_bind_double(s, 6, thr[i]);
        if (sqlite3_step(s) != SQLITE_DONE) {
            sqlite3_finalize(s);
            slm_err(err, errlen, "%s: cannot store the risk-coverage curve", slm_store_path(st));
            goto rollback;
        }
    }
    sqlite3_finalize(s);
    /* the cascade: the small model answers when its confidence reaches the threshold,
     * otherwise the ticket goes to the escalation target (which answers right with its
     * stated accuracy); the small model is always called first */
    if (cfg && cfg->has_cascade) {
        size_t acc_n = 0, acc_ok = 0;
        for (size_t i = 0; i < n; i++)
            if (p.conf[i] >= cfg->cascade_threshold) {
                acc_n++;
                acc_ok += p.correct[i];
            }
        double share = (double)acc_n / (double)n;
        double esc = (double)(n - acc_n);
        double overall = ((double)acc_ok + cfg->cascade_esc_acc * esc) / (double)n;
        double cost = (double)n * cfg->cascade_slm_cost + esc * cfg->cascade_esc_cost;
        double all_large = (double)n * cfg->cascade_esc_cost;
        struct {
            const char *name;
            double v;
        } cm[] = {{"cascade_threshold", cfg->cascade_threshold},
                  {"cascade_slm_share", share},
                  {"cascade_slm_accuracy", acc_n ? (double)acc_ok / (double)acc_n : NAN},
                  {"cascade_accuracy", overall},
                  {"cascade_cost", cost},
                  {"cascade_cost_all_large", all_large},
                  {"cascade_cost_ratio", all_large > 0 ? cost / all_large : NAN},
                  {"cascade_escalation_accuracy", cfg->cascade_esc_acc}};
        for (size_t i = 0; i < sizeof cm / sizeof cm[0]; i++)
            if (put_metric(st, run_id, cid, cm[i].name, cm[i].v, NAN, NAN, (long)n, err, errlen))
                goto rollback;
    }
    rc = slm_store_commit(st, err, errlen);
    goto out;
rollback:
    slm_store_rollback(st);
    rc = -1;
out:
    free(cov);
    free(risk);
    free(thr);
    free(rc_ctx.g);
    free(rc_ctx.pa);
    free(rc_ctx.conf);
    free(rc_ctx.corr);
    preds_free(&p);
    return rc;
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
    if (reps > 0)
        slm_paired_bootstrap(nk, stat_f1_diff, &c, reps, seed, &out->f1_lo, &out->f1_hi,
                             &out->f1_p);
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

int slm_compare_run(slm_store *st, int64_t run_id, char *err, size_t errlen)
{
    if (slm_run_is_json_task(st, run_id))
        return 0; /* JSON answers are compared field by field in the report, not paired here */
    slm_run_cfg *cfg = NULL;
    char **labels = NULL;
    size_t nl = 0;
    if (slm_run_cfg_from_db(st, run_id, &cfg, err, errlen))
        return -1;
    if (slm_run_labels(st, run_id, &labels, &nl, err, errlen)) {
        slm_run_cfg_free(cfg);
        return -1;
    }
    sqlite3_stmt *s;
    int rc = -1;
    int64_t *ids = NULL;
    size_t nc = 0;
    if (slm_store_prepare(st,
                          "SELECT c.id FROM candidates c "
                          "LEFT JOIN metrics a ON a.candidate_id = c.id AND a.name = 'accuracy' "
                          "LEFT JOIN metrics f ON f.candidate_id = c.id AND f.name = 'macro_f1' "
                          "WHERE c.run_id = ? AND c.status = 'ok' "
                          "ORDER BY a.value DESC, f.value DESC, c.idx",
                          &s, err, errlen))
        goto out;
    sqlite3_bind_int64(s, 1, run_id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        ids = slm_xrealloc(ids, (nc + 1) * sizeof *ids);
        ids[nc++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (slm_store_begin(st, err, errlen))
        goto out;
    if (slm_store_prepare(st, "DELETE FROM comparisons WHERE run_id = ?", &s, err, errlen))
        goto rollback;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_step(s);
    sqlite3_finalize(s);
    if (nc >= 2) {
        size_t m = nc - 1;
        slm_paired *pr = slm_xcalloc(m, sizeof *pr);
        double *pm = slm_xcalloc(m, sizeof *pm), *pf = slm_xcalloc(m, sizeof *pf);
        double *hm = slm_xcalloc(m, sizeof *hm), *hf = slm_xcalloc(m, sizeof *hf);
        int bad = 0;
        for (size_t i = 0; i < m && !bad; i++) {
            /* A = the candidate, B = the best: a negative difference means worse */
            bad = slm_paired_compare(st, ids[i + 1], ids[0], (const char *const *)labels, nl,
                                     cfg->bootstrap, (uint64_t)cfg->seed, &pr[i], err, errlen);
            pm[i] = pr[i].mcnemar_p;
            pf[i] = isnan(pr[i].f1_p) ? 1.0 : pr[i].f1_p;
        }
        if (!bad) {
            slm_holm(pm, m, hm);
            slm_holm(pf, m, hf);
            bad = slm_store_prepare(st,
                                    "INSERT INTO comparisons (run_id, candidate_id, baseline_id, n, "
                                    "b, c, accuracy_diff, mcnemar_p, mcnemar_exact, macro_f1_diff, "
                                    "macro_f1_diff_lo, macro_f1_diff_hi, macro_f1_p, "
                                    "mcnemar_p_holm, macro_f1_p_holm, seed, reps) VALUES "
                                    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                    &s, err, errlen);
            for (size_t i = 0; i < m && !bad; i++) {
                sqlite3_reset(s);
                sqlite3_bind_int64(s, 1, run_id);
                sqlite3_bind_int64(s, 2, ids[i + 1]);
                sqlite3_bind_int64(s, 3, ids[0]);
                sqlite3_bind_int64(s, 4, (sqlite3_int64)pr[i].n);
                sqlite3_bind_int64(s, 5, pr[i].b);
                sqlite3_bind_int64(s, 6, pr[i].c);
                slm_bind_double(s, 7, pr[i].acc_diff);
                slm_bind_double(s, 8, pr[i].mcnemar_p);
                sqlite3_bind_int(s, 9, pr[i].mcnemar_exact);
                slm_bind_double(s, 10, pr[i].f1_diff);
                slm_bind_double(s, 11, pr[i].f1_lo);
                slm_bind_double(s, 12, pr[i].f1_hi);
                slm_bind_double(s, 13, pr[i].f1_p);
                slm_bind_double(s, 14, hm[i]);
                slm_bind_double(s, 15, hf[i]);
                sqlite3_bind_int64(s, 16, cfg->seed);
                sqlite3_bind_int(s, 17, cfg->bootstrap);
                if (sqlite3_step(s) != SQLITE_DONE) {
                    bad = slm_err(err, errlen, "%s: cannot store comparisons", slm_store_path(st));
                }
            }
            if (!bad)
                sqlite3_finalize(s);
        }
        free(pr);
        free(pm);
        free(pf);
        free(hm);
        free(hf);
        if (bad)
            goto rollback;
    }
    rc = slm_store_commit(st, err, errlen);
    goto out;
rollback:
    slm_store_rollback(st);
out:
    free(ids);
    slm_free_strv(labels, nl);
    slm_run_cfg_free(cfg);
    return rc;
}
