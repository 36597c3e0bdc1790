/* drift.c — see drift.h.
 *
 * One pass over the window's (run, candidate) rows, oldest first, fills a grid of
 * series × months in which a later run of the same month simply replaces an earlier one;
 * metrics, per-class results and eval-set labels are then read for the chosen runs only.
 * Every writer (Markdown, HTML, JSON, charts: reports/drift_report.c) works from that
 * grid. */
#include "drift.h"
#include "drift_data.h"
#include "fields.h"
#include "metrics.h"
#include "store_reports.h"

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

/* ---- reading -------------------------------------------------------------------------- */

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
    free(p->created_at), free(p->model_sha), free(p->es_version), free(p->es_sha);
    for (size_t i = 0; i < p->ncls; i++)
        free(p->cls[i]);
    free(p->cls), free(p->rec), free(p->f1);
    memset(p, 0, sizeof *p);
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
        p->model_sha = dup_or_null(w[i].model_sha);
        p->run_id = w[i].run_id;
        p->created_at = dup_or_null(w[i].created_at);
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

/* The metrics and the label set's per-class recall and F1 of one chosen candidate. */
static int read_point(slm_store *st, const slm_drift *d, point *p, char *err, size_t errlen)
{
    for (size_t k = 0; k < d->nmet; k++)
        p->v[k] = slm_store_metric(st, p->cand_id, d->met[k]->name, &p->lo[k], &p->hi[k]);
    p->p50 = slm_store_metric(st, p->cand_id, "e2e_ms_p50", NULL, NULL);
    p->p95 = slm_store_metric(st, p->cand_id, "e2e_ms_p95", NULL, NULL);
    slm_class_stat *rows;
    size_t n;
    if (slm_store_classes(st, p->cand_id, SLM_CLASSES_SET_BY_LABEL, &rows, &n, err, errlen))
        return -1;
    p->cls = slm_xcalloc(n + 1, sizeof *p->cls);
    p->rec = slm_xcalloc(n + 1, sizeof *p->rec);
    p->f1 = slm_xcalloc(n + 1, sizeof *p->f1);
    for (size_t i = 0; i < n; i++) {
        p->cls[i] = rows[i].label; /* taken over */
        rows[i].label = NULL;
        p->rec[i] = rows[i].recall;
        p->f1[i] = rows[i].f1;
    }
    p->ncls = n;
    slm_class_rows_free(rows, n);
    return 0;
}

static int read_points(slm_store *st, slm_drift *d, char *err, size_t errlen)
{
    for (size_t i = 0; i < d->ns; i++)
        for (size_t j = 0; j < d->nm; j++)
            if (d->s[i].pt[j].present && read_point(st, d, &d->s[i].pt[j], err, errlen))
                return -1;
    return 0;
}

/* ---- analysis ------------------------------------------------------------------------- */

static int judge(const slm_field *f, double v, double pv, double plo, double phi)
{
    if (!isfinite(v) || !isfinite(pv))
        return FLAG_NONE;
    int out;
    if (isfinite(plo) && isfinite(phi))
        out = v < plo || v > phi;
    else
        out = fabs(v - pv) > SLM_DRIFT_LATENCY_REL * fabs(pv) && v != pv;
    if (!out)
        return FLAG_NONE;
    double dir = (double)f->higher_better * (v - pv);
    return dir > 0 ? FLAG_BETTER : dir < 0 ? FLAG_WORSE : FLAG_CHANGED;
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
            for (size_t k = 0; k < d->nmet; k++) {
                p->flag[k] = judge(d->met[k], p->v[k], q->v[k], q->lo[k], q->hi[k]);
                if (p->flag[k])
                    d->nflag++;
            }
            for (size_t c = 0; c < p->ncls; c++)
                for (size_t c0 = 0; c0 < q->ncls; c0++) {
                    if (strcmp(p->cls[c], q->cls[c0]))
                        continue;
                    double dr = p->rec[c] - q->rec[c0], df = p->f1[c] - q->f1[c0];
                    const double lim = SLM_DRIFT_CLASS_DELTA + 1e-12;
                    if (fabs(dr) > lim || fabs(df) > lim) {
                        d->sh = slm_xrealloc(d->sh, (d->nsh + 1) * sizeof *d->sh);
                        d->sh[d->nsh++] = (shift){si, (size_t)prev, j, slm_xstrdup(p->cls[c]),
                                                  q->rec[c0], p->rec[c], q->f1[c0], p->f1[c]};
                    }
                }
        }
        prev = (int)j;
    }
}

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

/* TVD and Pearson's chi-square test of homogeneity of the 2 × K table (ca; cb). */
static void homogeneity(ldrift *l)
{
    l->tvd = l->chi2 = l->p = NAN;
    l->df = 0;
    if (!l->na || !l->nb)
        return;
    double n = (double)(l->na + l->nb), tvd = 0, x2 = 0;
    int kept = 0;
    for (size_t i = 0; i < l->k; i++) {
        double t = (double)(l->ca[i] + l->cb[i]);
        tvd += fabs((double)l->ca[i] / (double)l->na - (double)l->cb[i] / (double)l->nb);
        if (t == 0)
            continue;
        kept++;
        double ea = (double)l->na * t / n, eb = (double)l->nb * t / n;
        x2 += ((double)l->ca[i] - ea) * ((double)l->ca[i] - ea) / ea +
              ((double)l->cb[i] - eb) * ((double)l->cb[i] - eb) / eb;
        if (ea < 5 || eb < 5)
            l->low_expected = 1;
    }
    l->tvd = tvd / 2.0;
    l->df = kept - 1;
    if (l->df > 0) {
        l->chi2 = x2;
        l->p = slm_chi2_sf(x2, l->df);
    }
}

static int analyse_labels(slm_store *st, slm_drift *d, char *err, size_t errlen)
{
    for (size_t i = 0; i < d->ne; i++) {
        int prev = -1;
        for (size_t j = 0; j < d->nm; j++) {
            es_month *m = &d->e[i].m[j];
            if (!m->present)
                continue;
            const es_month *pm = prev >= 0 ? &d->e[i].m[prev] : NULL;
            if (pm && (!slm_streq_null(pm->sha, m->sha) || !slm_streq_null(pm->version, m->version))) {
                d->ld = slm_xrealloc(d->ld, (d->nld + 1) * sizeof *d->ld);
                ldrift *l = &d->ld[d->nld++];
                memset(l, 0, sizeof *l);
                l->evalset = slm_xstrdup(d->e[i].name);
                l->from = (size_t)prev, l->to = j;
                l->run_a = pm->run_id, l->run_b = m->run_id;
                l->ver_a = pm->version ? slm_xstrdup(pm->version) : NULL;
                l->ver_b = m->version ? slm_xstrdup(m->version) : NULL;
                l->sha_a = pm->sha ? slm_xstrdup(pm->sha) : NULL;
                l->sha_b = m->sha ? slm_xstrdup(m->sha) : NULL;
                if (label_counts(st, l->run_a, l, 0, err, errlen) ||
                    label_counts(st, l->run_b, l, 1, err, errlen))
                    return -1;
                homogeneity(l);
            }
            prev = (int)j;
        }
    }
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
    const char *const *names = o->metrics ? o->metrics : DEFAULT_METRICS;
    size_t nmet = o->metrics ? o->n_metrics : N_DEFAULT;
    if (nmet == 0 || nmet > MAXM)
        return slm_err(err, errlen, "give 1 to %d metrics", MAXM);
    slm_drift *d = slm_xcalloc(1, sizeof *d);
    d->nmet = nmet;
    for (size_t k = 0; k < nmet; k++) {
        d->met[k] = slm_field_find(names[k]);
        if (!d->met[k]) {
            slm_drift_free(d);
            return slm_err(err, errlen, "unknown metric '%s'", names[k]);
        }
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
    for (size_t i = 0; i < d->nsh; i++)
        free(d->sh[i].label);
    for (size_t i = 0; i < d->nld; i++) {
        ldrift *l = &d->ld[i];
        for (size_t k = 0; k < l->k; k++)
            free(l->labels[k]);
        free(l->labels), free(l->ca), free(l->cb), free(l->evalset);
        free(l->ver_a), free(l->ver_b), free(l->sha_a), free(l->sha_b);
    }
    free(d->s), free(d->e), free(d->sh), free(d->ld), free(d->month), free(d->db_path);
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
