/* drift.c — see drift.h.
 *
 * One pass over the window's (run, candidate) rows, oldest first, fills a grid of
 * series × months in which a later run of the same month simply replaces an earlier one;
 * metrics, predictions and eval-set labels are then read for the chosen runs only. The
 * tests (drift_stats.c) compare each month with the previous one; one Benjamini–Hochberg
 * adjustment over all of them sets the flags. Every writer (Markdown, HTML, JSON, charts:
 * reports/drift_report.c) works from that grid. */
#include "drift.h"
#include "drift_data.h"
#include "drift_stats.h"
#include "evalset.h"
#include "fields.h"
#include "latpairs.h"
#include "metrics.h"
#include "store_read.h"
#include "store_reports.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const DEFAULT_METRICS[] = {"accuracy", "macro_f1", "ece_15", "e2e_ms_p95"};
#define N_DEFAULT (sizeof DEFAULT_METRICS / sizeof DEFAULT_METRICS[0])

/* ---- small helpers -------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? slm_xstrdup(s) : NULL;
}

int slm_drift_parse_month(const char *s, int *year, int *month, char *err, size_t errlen)
{
    if (!s || strlen(s) != 7 || s[4] != '-')
        goto bad;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9'))
            goto bad;
    *year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    *month = (s[5] - '0') * 10 + (s[6] - '0');
    if (*month < 1 || *month > 12)
        goto bad;
    return 0;
bad:
    return slm_err(err, errlen, "bad month '%s' (expected YYYY-MM, e.g. 2026-11)", s ? s : "");
}

int slm_drift_latest_month(slm_store *st, int *year, int *month, char *err, size_t errlen)
{
    char m[8];
    int rc = slm_store_latest_month(st, m, err, errlen);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return slm_err(err, errlen, "%s: no complete runs in the database", slm_store_path(st));
    return slm_drift_parse_month(m, year, month, err, errlen);
}

/* ---- reading the grid ----------------------------------------------------------------- */

static series *find_series(slm_drift *d, const char *model, const char *evalset)
{
    for (size_t i = 0; i < d->ns; i++)
        if (!strcmp(d->s[i].model, model) && !strcmp(d->s[i].evalset, evalset))
            return &d->s[i];
    d->s = slm_xrealloc(d->s, (d->ns + 1) * sizeof *d->s);
    series *s = &d->s[d->ns++];
    s->model = slm_xstrdup(model);
    s->evalset = slm_xstrdup(evalset);
    s->pt = slm_xcalloc(d->nm, sizeof *s->pt);
    return s;
}

static es_row *find_es(slm_drift *d, const char *name)
{
    for (size_t i = 0; i < d->ne; i++)
        if (!strcmp(d->e[i].name, name))
            return &d->e[i];
    d->e = slm_xrealloc(d->e, (d->ne + 1) * sizeof *d->e);
    es_row *e = &d->e[d->ne++];
    e->name = slm_xstrdup(name);
    e->m = slm_xcalloc(d->nm, sizeof *e->m);
    return e;
}

static void point_clear(point *p)
{
    free(p->created_at), free(p->as_of), free(p->model_sha), free(p->es_version);
    free(p->es_sha);
    free(p->lat_why);
    if (p->attr)
        free(p->attr->cand), free(p->attr->note), free(p->attr);
    for (size_t k = 0; k < MAXM; k++)
        free(p->t[k].why);
    slm_free_strv(p->labels, p->nl);
    slm_free_strv(p->ids, p->n);
    free(p->gold), free(p->pred), free(p->conf);
    for (int f = 0; f < N_PHASES; f++)
        free(p->lat[f]), free(p->ref[f]);
    memset(p, 0, sizeof *p);
}

/* The latency reference's candidate in run_id among the window's rows, or 0. */
static int64_t reference_of(const slm_window_row *w, size_t n, int64_t run_id, const char *ref)
{
    for (size_t i = 0; ref && i < n; i++)
        if (w[i].run_id == run_id && !strcmp(w[i].model, ref))
            return w[i].cand_id;
    return 0;
}

static int read_rows(slm_store *st, slm_drift *d, char *err, size_t errlen)
{
    slm_window_row *w;
    size_t n;
    if (slm_store_window(st, d->month[0], d->month[d->nm - 1], &w, &n, err, errlen))
        return -1;
    int64_t last_run = -1;
    for (size_t i = 0; i < n; i++) {
        int y, mo;
        if (!w[i].month || slm_drift_parse_month(w[i].month, &y, &mo, NULL, 0))
            continue;
        long idx = (long)(y * 12 + mo - 1) - (long)(d->y0 * 12 + d->m0 - 1);
        if (idx < 0 || (size_t)idx >= d->nm)
            continue;
        series *se = find_series(d, w[i].model, w[i].es_name);
        point *p = &se->pt[idx];
        point_clear(p);
        p->present = 1;
        p->cand_id = w[i].cand_id;
        p->ref_id = reference_of(w, n, w[i].run_id, d->ref);
        p->model_sha = dup_or_null(w[i].model_sha);
        p->run_id = w[i].run_id;
        p->created_at = dup_or_null(w[i].created_at);
        p->as_of = dup_or_null(w[i].as_of);
        p->es_version = dup_or_null(w[i].es_version);
        p->es_sha = dup_or_null(w[i].es_sha);
        es_month *em = &find_es(d, w[i].es_name)->m[idx];
        free(em->version), free(em->sha);
        em->present = 1;
        em->run_id = p->run_id;
        em->version = dup_or_null(w[i].es_version);
        em->sha = dup_or_null(w[i].es_sha);
        if (p->run_id != last_run)
            d->nruns++;
        last_run = p->run_id;
    }
    slm_window_rows_free(w, n);
    return 0;
}

/* ---- reading a month's predictions ---------------------------------------------------- */

/* The class of an answer outside the label set: one per distinct string, engine errors
 * together as "<error>", numbered after the labels (as aggregate.c counts them). */
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

static double *phase_array(const slm_pred *r, size_t n, int f)
{
    double *v = slm_xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const double x[N_PHASES] = {r[i].e2e_ms, r[i].prefill_ms, r[i].decode_ms, r[i].ttft_ms,
                                    r[i].tpot_ms};
        v[i] = x[f];
    }
    return v;
}

/* The predictions of candidate cid as labels, answers, confidences and latencies. */
static int load_sample(slm_store *st, int64_t run_id, int64_t cid, point *p, char *err,
                       size_t errlen)
{
    if (slm_run_labels(st, run_id, &p->labels, &p->nl, err, errlen))
        return -1;
    slm_pred *r;
    size_t n;
    if (slm_store_predictions(st, cid, &r, &n, err, errlen))
        return -1;
    p->ids = slm_xcalloc(n + 1, sizeof *p->ids);
    p->gold = slm_xcalloc(n + 1, sizeof *p->gold);
    p->pred = slm_xcalloc(n + 1, sizeof *p->pred);
    p->conf = slm_xcalloc(n + 1, sizeof *p->conf);
    char **extra = NULL;
    size_t n_extra = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *const *labels = (const char *const *)p->labels;
        const char *g = r[i].gold ? r[i].gold : "";
        p->ids[i] = slm_xstrdup(r[i].example_id ? r[i].example_id : "");
        p->n = i + 1;
        p->gold[i] = slm_label_index(labels, p->nl, g);
        if (p->gold[i] < 0)
            rc = slm_err(err, errlen, "run %lld: gold label '%s' is not in the run's label set",
                         (long long)run_id, g);
        int pi = r[i].pred ? slm_label_index(labels, p->nl, r[i].pred) : -1;
        p->pred[i] = pi >= 0 ? pi : extra_class(&extra, &n_extra, p->nl,
                                                 r[i].pred ? r[i].pred : "<error>");
        p->conf[i] = r[i].pred ? r[i].confidence : NAN;
    }
    for (int f = 0; f < N_PHASES && !rc; f++)
        p->lat[f] = phase_array(r, n, f);
    p->ncls = p->nl + n_extra;
    slm_free_strv(extra, n_extra);
    slm_preds_free(r, n);
    return rc;
}

static slm_drift_sample sample_of(const point *p, int phase)
{
    slm_drift_sample s = {p->n, p->nl, p->ncls, (const char *const *)p->ids, p->gold, p->pred,
                          p->conf, NULL, NULL};
    if (phase >= 0 && phase < N_PHASES && p->ref[phase]) {
        s.lat = p->lat[phase];
        s.ref = p->ref[phase];
    }
    return s;
}

/* The reference's per-example latencies aligned with p's examples (NaN where it has
 * none), and the ratio of the e2e p95s over the examples both have. */
static int load_reference(slm_store *st, point *p, char *err, size_t errlen)
{
    point r = {0};
    int rc = load_sample(st, p->run_id, p->ref_id, &r, err, errlen);
    if (!rc) {
        slm_drift_sample a = sample_of(p, -1), b = sample_of(&r, -1);
        slm_drift_pairs pp;
        slm_drift_pair(&a, &b, &pp);
        for (int f = 0; f < N_PHASES; f++) {
            p->ref[f] = slm_xcalloc(p->n + 1, sizeof *p->ref[f]);
            for (size_t i = 0; i < p->n; i++)
                p->ref[f][i] = NAN;
            for (size_t k = 0; k < pp.n; k++)
                p->ref[f][pp.ia[k]] = r.lat[f][pp.ib[k]];
        }
        slm_drift_pairs_free(&pp);
        double *x = slm_xcalloc(p->n + 1, sizeof *x), *y = slm_xcalloc(p->n + 1, sizeof *y);
        size_t m = 0;
        for (size_t i = 0; i < p->n; i++)
            if (isfinite(p->lat[0][i]) && isfinite(p->ref[0][i]) && p->ref[0][i] > 0)
                x[m] = p->lat[0][i], y[m++] = p->ref[0][i];
        p->ratio95 = m ? slm_percentile(x, m, 95) / slm_percentile(y, m, 95) : NAN;
        free(x), free(y);
    }
    point_clear(&r);
    return rc;
}

/* Why the latency of candidate cid of a run cannot be judged (owned string), or NULL:
 * latpairs.h's rule, shared with the gate and the recommendation. */
static char *bad_conditions(slm_store *st, int64_t run_id, int64_t cid, const char *who)
{
    char what[160], why[320];
    snprintf(what, sizeof what, "run %lld: %s", (long long)run_id, who);
    return slm_cand_unquiet(st, cid, what, why, sizeof why) ? slm_xstrdup(why) : NULL;
}

/* The metrics and predictions of one chosen candidate; with a latency reference, its
 * latencies and both candidates' run conditions. */
static int read_point(slm_store *st, const slm_drift *d, const series *s, point *p, char *err,
                      size_t errlen)
{
    for (size_t k = 0; k < d->nmet; k++)
        p->v[k] = slm_store_metric(st, p->cand_id, d->met[k]->name, &p->lo[k], &p->hi[k]);
    p->p50 = slm_store_metric(st, p->cand_id, "e2e_ms_p50", NULL, NULL);
    p->p95 = slm_store_metric(st, p->cand_id, "e2e_ms_p95", NULL, NULL);
    p->ratio95 = NAN;
    if (load_sample(st, p->run_id, p->cand_id, p, err, errlen))
        return -1;
    if (!d->ref || !strcmp(s->model, d->ref))
        return 0;
    if (!p->ref_id) {
        p->lat_why = slm_xasprintf("run %lld has no ok candidate '%s' (the latency reference)",
                                   (long long)p->run_id, d->ref);
        return 0;
    }
    if (load_reference(st, p, err, errlen))
        return -1;
    p->lat_why = bad_conditions(st, p->run_id, p->cand_id, "the candidate");
    if (!p->lat_why)
        p->lat_why = bad_conditions(st, p->run_id, p->ref_id, "the reference");
    return 0;
}

static int read_points(slm_store *st, slm_drift *d, char *err, size_t errlen)
{
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++)
            if (d->s[i].pt[j].present && read_point(st, d, &d->s[i], &d->s[i].pt[j], err, errlen))
                return -1;
    return 0;
}

/* ---- the tests of a series ------------------------------------------------------------ */

static void not_judged(dtest *t, char *why)
{
    t->judged = 0;
    free(t->why);
    t->why = why;
}

/* Why latency metric of series s cannot be judged between q and p, or NULL. */
static char *latency_why(const slm_drift *d, const series *s, const point *q, const point *p)
{
    if (!d->ref)
        return slm_xstrdup("measured in different jobs without a common reference "
                           "(--latency-reference NAME)");
    if (!strcmp(s->model, d->ref))
        return slm_xstrdup("the latency reference itself");
    if (q->lat_why)
        return slm_xstrdup(q->lat_why);
    if (p->lat_why)
        return slm_xstrdup(p->lat_why);
    return NULL;
}

/* The test of metric k of series s, month p against month q (pairs: NULL unless paired). */
static void test_metric(const slm_drift *d, const series *s, const point *q, point *p, size_t k,
                        const slm_drift_pairs *pairs)
{
    dtest *t = &p->t[k];
    const char *name = d->met[k]->name;
    double pct = NAN;
    int phase = -1;
    slm_drift_kind kind = slm_drift_kind_of(name, &pct, &phase);
    if (kind == SLM_DK_NONE) {
        not_judged(t, slm_xstrdup("no two-sample test for this metric in the drift review"));
        return;
    }
    char *why = kind == SLM_DK_LATENCY ? latency_why(d, s, q, p) : NULL;
    if (why) {
        not_judged(t, why);
        return;
    }
    char *what = slm_xasprintf("%s\x1f%s\x1f%s", s->model, s->evalset, name);
    slm_drift_cfg cfg = {d->reps, slm_drift_seed(d->seed, q->run_id, p->run_id, what), pct, -1, -1};
    free(what);
    slm_drift_sample a = sample_of(q, phase), b = sample_of(p, phase);
    /* latency: two independent samples of each run's examples */
    const slm_drift_pairs *pp = kind == SLM_DK_LATENCY ? NULL : pairs;
    t->judged = slm_drift_compare(kind, &a, &b, pp, &cfg, &t->d) == 0;
    t->seed = kind == SLM_DK_ACCURACY ? 0 : cfg.seed;
    if (!t->judged)
        not_judged(t, slm_xstrdup("nothing to compare (no examples with a value in a month)"));
}

static size_t label_at(const point *p, const char *label)
{
    for (size_t i = 0; i < p->nl; i++)
        if (!strcmp(p->labels[i], label))
            return i;
    return (size_t)-1;
}

/* Per-class recall tests of series si between months q (index from) and p (index to). */
static void test_classes(slm_drift *d, size_t si, size_t from, size_t to,
                         const slm_drift_pairs *pairs)
{
    const point *q = &d->s[si].pt[from], *p = &d->s[si].pt[to];
    slm_drift_sample a = sample_of(q, -1), b = sample_of(p, -1);
    for (size_t c = 0; c < p->nl; c++) {
        size_t c0 = label_at(q, p->labels[c]);
        if (c0 == (size_t)-1)
            continue;
        slm_drift_cfg cfg = {d->reps, 0, NAN, (int)c0, (int)c};
        slm_drift_diff r;
        if (slm_drift_compare(SLM_DK_ACCURACY, &a, &b, pairs, &cfg, &r))
            continue; /* no gold example of the label in a month */
        d->ct = slm_xrealloc(d->ct, (d->nct + 1) * sizeof *d->ct);
        ctest *ct = &d->ct[d->nct++];
        memset(ct, 0, sizeof *ct);
        ct->s = si, ct->from = from, ct->to = to;
        ct->label = slm_xstrdup(p->labels[c]);
        ct->t.judged = 1;
        ct->t.d = r;
    }
}

/* Paired when both runs evaluated the same eval-set data (sha256) and examples match. */
static int pair_months(const point *q, const point *p, slm_drift_pairs *pp)
{
    if (!q->es_sha || !p->es_sha || strcmp(q->es_sha, p->es_sha))
        return 0;
    slm_drift_sample a = sample_of(q, -1), b = sample_of(p, -1);
    if (slm_drift_pair(&a, &b, pp) || !pp->n) {
        slm_drift_pairs_free(pp);
        return 0;
    }
    return 1;
}

static void analyse_series(slm_drift *d, size_t si)
{
    series *s = &d->s[si];
    int prev = -1;
    for (size_t j = 0; j < d->nm; j++) {
        point *p = &s->pt[j];
        if (!p->present)
            continue;
        p->prev = prev;
        if (prev >= 0) {
            const point *q = &s->pt[prev];
            slm_drift_pairs pp = {0};
            int paired = pair_months(q, p, &pp);
            for (size_t k = 0; k < d->nmet; k++)
                test_metric(d, s, q, p, k, paired ? &pp : NULL);
            test_classes(d, si, (size_t)prev, j, paired ? &pp : NULL);
            slm_drift_pairs_free(&pp);
        }
        prev = (int)j;
    }
}

/* ---- model or data: which change explains what ---------------------------------------- */

static int changed(const char *a, const char *b)
{
    return a && b && strcmp(a, b);
}

/* The date part (YYYY-MM-DD) of the run of p, for the suggested --as-of. */
static void run_date(const point *p, char out[11])
{
    const char *t = p->as_of ? p->as_of : p->created_at ? p->created_at : "";
    snprintf(out, 11, "%s", t);
}

/* The split of each metric's change from month q to month p, from the re-score a->cand_id
 * (a->kind set). */
static void split_effects(const slm_drift *d, slm_store *st, const point *q, const point *p,
                          attribution *a)
{
    for (size_t k = 0; k < d->nmet; k++) {
        a->rescore[k] = a->model[k] = a->data[k] = NAN;
        if (slm_drift_kind_of(d->met[k]->name, NULL, NULL) == SLM_DK_LATENCY)
            continue; /* a run of another job: its latency says nothing here */
        double r = slm_store_metric(st, a->cand_id, d->met[k]->name, NULL, NULL);
        a->rescore[k] = r;
        if (a->kind == ATTR_OLD_MODEL_NEW_SET)
            a->data[k] = r - q->v[k], a->model[k] = p->v[k] - r;
        else
            a->model[k] = r - q->v[k], a->data[k] = p->v[k] - r;
    }
}

/* Attribution of month p (series s) against its previous month q, both of which changed. */
static int attribute(const slm_drift *d, slm_store *st, const series *s, const point *q,
                     point *p, char *err, size_t errlen)
{
    attribution *a = slm_xcalloc(1, sizeof *a);
    p->attr = a;
    int rc = slm_store_find_rescore(st, q->model_sha, p->es_sha, &a->cand_id, &a->run_id,
                                    &a->cand, err, errlen);
    a->kind = ATTR_OLD_MODEL_NEW_SET;
    if (rc == 1) {
        rc = slm_store_find_rescore(st, p->model_sha, q->es_sha, &a->cand_id, &a->run_id,
                                    &a->cand, err, errlen);
        a->kind = ATTR_NEW_MODEL_OLD_SET;
    }
    if (rc < 0)
        return -1;
    if (rc == 0) {
        split_effects(d, st, q, p, a);
        return 0;
    }
    a->kind = ATTR_NONE;
    char date[11];
    run_date(p, date);
    a->note = slm_xasprintf(
        "cannot separate: no run of %s's %s model (sha256 %.12s) on the %s eval set %s "
        "(sha256 %.12s), nor of the new model on the old set; run it with `slmbench run "
        "CONFIG --as-of %s` (the old model file as a candidate of another name, on the new "
        "eval set)",
        s->model, d->month[p->prev], q->model_sha, d->month[p - s->pt], s->evalset, p->es_sha,
        date);
    return 0;
}

static int attribute_all(slm_store *st, slm_drift *d, char *err, size_t errlen)
{
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++) {
            point *p = &d->s[i].pt[j];
            if (!p->present || p->prev < 0)
                continue;
            const point *q = &d->s[i].pt[p->prev];
            if (changed(q->model_sha, p->model_sha) && changed(q->es_sha, p->es_sha) &&
                attribute(d, st, &d->s[i], q, p, err, errlen))
                return -1;
        }
    return 0;
}

/* ---- label distributions -------------------------------------------------------------- */

static size_t label_index(ldrift *l, const char *label)
{
    for (size_t i = 0; i < l->k; i++)
        if (!strcmp(l->labels[i], label))
            return i;
    l->labels = slm_xrealloc(l->labels, (l->k + 1) * sizeof *l->labels);
    l->ca = slm_xrealloc(l->ca, (l->k + 1) * sizeof *l->ca);
    l->cb = slm_xrealloc(l->cb, (l->k + 1) * sizeof *l->cb);
    l->labels[l->k] = slm_xstrdup(label);
    l->ca[l->k] = l->cb[l->k] = 0;
    return l->k++;
}

/* Adds the gold label counts of run_id to side a (side 0) or b (side 1) of l. */
static int label_counts(slm_store *st, int64_t run_id, ldrift *l, int side, char *err,
                        size_t errlen)
{
    slm_label_count *c;
    size_t n;
    if (slm_store_gold_counts(st, run_id, &c, &n, err, errlen))
        return -1;
    for (size_t k = 0; k < n; k++) {
        size_t i = label_index(l, c[k].label);
        if (side)
            l->cb[i] += c[k].n, l->nb += c[k].n;
        else
            l->ca[i] += c[k].n, l->na += c[k].n;
    }
    slm_label_counts_free(c, n);
    return 0;
}

static ldrift *new_ldrift(slm_drift *d, const es_row *e, size_t from, size_t to)
{
    const es_month *pm = &e->m[from], *m = &e->m[to];
    d->ld = slm_xrealloc(d->ld, (d->nld + 1) * sizeof *d->ld);
    ldrift *l = &d->ld[d->nld++];
    memset(l, 0, sizeof *l);
    l->evalset = slm_xstrdup(e->name);
    l->from = from, l->to = to;
    l->run_a = pm->run_id, l->run_b = m->run_id;
    l->ver_a = dup_or_null(pm->version);
    l->ver_b = dup_or_null(m->version);
    l->sha_a = dup_or_null(pm->sha);
    l->sha_b = dup_or_null(m->sha);
    return l;
}

static int analyse_labels(slm_store *st, slm_drift *d, char *err, size_t errlen)
{
    for (size_t i = 0; i < d->ne; i++) {
        int prev = -1;
        for (size_t j = 0; j < d->nm; j++) {
            const es_month *m = &d->e[i].m[j];
            if (!m->present)
                continue;
            const es_month *pm = prev >= 0 ? &d->e[i].m[prev] : NULL;
            if (pm && (!slm_streq_null(pm->sha, m->sha) || !slm_streq_null(pm->version, m->version))) {
                ldrift *l = new_ldrift(d, &d->e[i], (size_t)prev, j);
                if (label_counts(st, l->run_a, l, 0, err, errlen) ||
                    label_counts(st, l->run_b, l, 1, err, errlen))
                    return -1;
                char *what = slm_xasprintf("labels\x1f%s", l->evalset);
                l->seed = slm_drift_seed(d->seed, l->run_a, l->run_b, what);
                free(what);
                slm_label_test_run(l->ca, l->cb, l->k, d->reps, l->seed, &l->lt);
            }
            prev = (int)j;
        }
    }
    return 0;
}

/* ---- the family: Benjamini–Hochberg over every judged test ---------------------------- */

/* The direction of a flagged difference diff of a metric (higher_better as fields.c). */
static int direction(int higher_better, double diff)
{
    double dir = (double)higher_better * diff;
    return dir > 0 ? FLAG_BETTER : dir < 0 ? FLAG_WORSE : FLAG_CHANGED;
}

/* One test of the family: its p-value and where its adjusted p-value goes. */
typedef struct slot {
    double p;
    double *adj;
} slot;

static void add_slot(slot **v, size_t *n, double p, double *adj)
{
    *v = slm_xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = (slot){p, adj};
}

/* Every judged test of the review with a p-value: series × months × metrics, per-class
 * tests, label distributions. */
static size_t family(slm_drift *d, slot **v)
{
    size_t m = 0;
    *v = NULL;
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++)
            for (size_t k = 0; d->s[i].pt[j].present && k < d->nmet; k++) {
                dtest *t = &d->s[i].pt[j].t[k];
                t->p_adj = NAN;
                if (t->judged && isfinite(t->d.p))
                    add_slot(v, &m, t->d.p, &t->p_adj);
            }
    for (size_t c = 0; c < d->nct; c++) {
        d->ct[c].t.p_adj = NAN;
        if (isfinite(d->ct[c].t.d.p))
            add_slot(v, &m, d->ct[c].t.d.p, &d->ct[c].t.p_adj);
    }
    for (size_t l = 0; l < d->nld; l++) {
        d->ld[l].p_adj = NAN;
        if (isfinite(d->ld[l].lt.p))
            add_slot(v, &m, d->ld[l].lt.p, &d->ld[l].p_adj);
    }
    return m;
}

static void set_flags(slm_drift *d)
{
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++)
            for (size_t k = 0; d->s[i].pt[j].present && k < d->nmet; k++) {
                point *pt = &d->s[i].pt[j];
                dtest *t = &pt->t[k];
                int hit = t->judged && t->p_adj < d->alpha;
                if (hit && slm_drift_kind_of(d->met[k]->name, NULL, NULL) == SLM_DK_LATENCY)
                    hit = fabs(expm1(t->d.diff)) > SLM_DRIFT_LATENCY_REL;
                t->flag = hit ? direction(d->met[k]->higher_better, t->d.diff) : FLAG_NONE;
                pt->flag[k] = t->flag;
                d->nflag += hit;
            }
    for (size_t c = 0; c < d->nct; c++) {
        dtest *t = &d->ct[c].t;
        t->flag = t->p_adj < d->alpha ? direction(1, t->d.diff) : FLAG_NONE;
        d->nflag += t->flag != FLAG_NONE;
    }
    for (size_t l = 0; l < d->nld; l++) {
        d->ld[l].flag = d->ld[l].p_adj < d->alpha ? FLAG_CHANGED : FLAG_NONE;
        d->nflag += d->ld[l].flag != FLAG_NONE;
    }
}

static void adjust(slm_drift *d)
{
    slot *v;
    size_t m = family(d, &v);
    double *p = slm_xcalloc(m + 1, sizeof *p);
    for (size_t i = 0; i < m; i++)
        p[i] = v[i].p;
    slm_bh(p, m, p);
    for (size_t i = 0; i < m; i++)
        *v[i].adj = p[i];
    free(p);
    free(v);
    d->ntests = m;
    set_flags(d);
}

/* ---- the review ----------------------------------------------------------------------- */

/* Checks the options and sets the review's metrics and settings; -1 with err. */
static int setup(slm_drift *d, const slm_drift_opts *o, char *err, size_t errlen)
{
    const char *const *names = o->metrics ? o->metrics : DEFAULT_METRICS;
    size_t nmet = o->metrics ? o->n_metrics : N_DEFAULT;
    if (nmet == 0 || nmet > MAXM)
        return slm_err(err, errlen, "give 1 to %d metrics", MAXM);
    d->nmet = nmet;
    for (size_t k = 0; k < nmet; k++)
        if (!(d->met[k] = slm_field_find(names[k])))
            return slm_err(err, errlen, "unknown metric '%s'", names[k]);
    d->alpha = o->alpha == 0 ? SLM_DRIFT_ALPHA : o->alpha;
    if (!(d->alpha > 0 && d->alpha < 1))
        return slm_err(err, errlen, "alpha must lie between 0 and 1, got %g", o->alpha);
    d->reps = o->reps == 0 ? SLM_DRIFT_REPS : o->reps;
    if (d->reps < 100 || d->reps > 1000000)
        return slm_err(err, errlen, "give 100 to 1000000 replicates, got %d", o->reps);
    d->seed = o->seed ? o->seed : SLM_DRIFT_SEED;
    d->ref = o->latency_reference ? slm_xstrdup(o->latency_reference) : NULL;
    return 0;
}

int slm_drift_compute(slm_store *st, const slm_drift_opts *o, slm_drift **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    long a = (long)o->from_year * 12 + o->from_month - 1, b = (long)o->to_year * 12 + o->to_month - 1;
    if (o->from_month < 1 || o->from_month > 12 || o->to_month < 1 || o->to_month > 12)
        return slm_err(err, errlen, "bad month in the window");
    if (b < a)
        return slm_err(err, errlen, "the window ends (%04d-%02d) before it starts (%04d-%02d)",
                       o->to_year, o->to_month, o->from_year, o->from_month);
    if (b - a >= 1200)
        return slm_err(err, errlen, "the window is longer than 100 years");
    slm_drift *d = slm_xcalloc(1, sizeof *d);
    if (setup(d, o, err, errlen)) {
        slm_drift_free(d);
        return -1;
    }
    d->db_path = slm_xstrdup(slm_store_path(st));
    d->y0 = o->from_year, d->m0 = o->from_month;
    d->nm = (size_t)(b - a + 1);
    d->month = slm_xcalloc(d->nm, sizeof *d->month);
    for (size_t j = 0; j < d->nm; j++) {
        long t = a + (long)j;
        snprintf(d->month[j], sizeof d->month[j], "%04ld-%02ld", (t / 12) % 10000, t % 12 + 1);
    }
    if (read_rows(st, d, err, errlen) || read_points(st, d, err, errlen) ||
        analyse_labels(st, d, err, errlen)) {
        slm_drift_free(d);
        return -1;
    }
    for (size_t i = 0; i < d->ns; i++)
        analyse_series(d, i);
    if (attribute_all(st, d, err, errlen)) {
        slm_drift_free(d);
        return -1;
    }
    adjust(d);
    *out = d;
    return 0;
}

void slm_drift_free(slm_drift *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ns; i++) {
        for (size_t j = 0; j < d->nm; j++)
            point_clear(&d->s[i].pt[j]);
        free(d->s[i].pt), free(d->s[i].model), free(d->s[i].evalset);
    }
    for (size_t i = 0; i < d->ne; i++) {
        for (size_t j = 0; j < d->nm; j++)
            free(d->e[i].m[j].version), free(d->e[i].m[j].sha);
        free(d->e[i].m), free(d->e[i].name);
    }
    for (size_t i = 0; i < d->nct; i++)
        free(d->ct[i].label), free(d->ct[i].t.why);
    for (size_t i = 0; i < d->nld; i++) {
        ldrift *l = &d->ld[i];
        for (size_t k = 0; k < l->k; k++)
            free(l->labels[k]);
        free(l->labels), free(l->ca), free(l->cb), free(l->evalset);
        free(l->ver_a), free(l->ver_b), free(l->sha_a), free(l->sha_b);
    }
    free(d->s), free(d->e), free(d->ct), free(d->ld), free(d->month), free(d->db_path);
    free(d->ref);
    free(d);
}

size_t slm_drift_n_flagged(const slm_drift *d)
{
    return d ? d->nflag : 0;
}

size_t slm_drift_n_series(const slm_drift *d)
{
    return d ? d->ns : 0;
}
