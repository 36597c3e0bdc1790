/* drift_stats.c — see drift_stats.h. */
#include "drift_stats.h"
#include "metrics.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Z95 1.959963984540054 /* the 97.5th percentile of the standard normal */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* A uniform integer in [0, n), n >= 1, by Lemire's multiply-and-shift with rejection
 * (unbiased; one multiplication where slm_rng_below divides twice — the bootstraps draw
 * hundreds of thousands of indices). */
static size_t draw_below(slm_rng *r, size_t n)
{
    unsigned __int128 m = (unsigned __int128)slm_rng_u64(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t floor_ = (0 - (uint64_t)n) % n;
        while (low < floor_) {
            m = (unsigned __int128)slm_rng_u64(r) * n;
            low = (uint64_t)m;
        }
    }
    return (size_t)(m >> 64);
}

/* ---- pairing by example id -------------------------------------------------------- */

typedef struct id_ref {
    const char *id;
    size_t i;
} id_ref;

static int id_cmp(const void *x, const void *y)
{
    const id_ref *a = x, *b = y;
    int c = strcmp(a->id, b->id);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

int slm_drift_pair(const slm_drift_sample *a, const slm_drift_sample *b, slm_drift_pairs *out)
{
    memset(out, 0, sizeof *out);
    if (!a->ids || !b->ids)
        return -1;
    size_t cap = a->n < b->n ? a->n : b->n;
    out->ia = slm_xcalloc(cap ? cap : 1, sizeof *out->ia);
    out->ib = slm_xcalloc(cap ? cap : 1, sizeof *out->ib);
    id_ref *r = slm_xcalloc(b->n ? b->n : 1, sizeof *r);
    unsigned char *used = slm_xcalloc(b->n ? b->n : 1, 1);
    for (size_t i = 0; i < b->n; i++)
        r[i] = (id_ref){b->ids[i] ? b->ids[i] : "", i};
    qsort(r, b->n, sizeof *r, id_cmp);
    for (size_t i = 0; i < a->n && out->n < cap; i++) {
        id_ref key = {a->ids[i] ? a->ids[i] : "", 0};
        /* the first entry of b with this id: lower bound on (id, index 0) */
        size_t lo = 0, hi = b->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (id_cmp(&r[mid], &key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < b->n && !strcmp(r[lo].id, key.id) && !used[lo]) {
            used[lo] = 1;
            out->ia[out->n] = i;
            out->ib[out->n++] = r[lo].i;
        }
    }
    free(r);
    free(used);
    return 0;
}

void slm_drift_pairs_free(slm_drift_pairs *p)
{
    if (!p)
        return;
    free(p->ia);
    free(p->ib);
    memset(p, 0, sizeof *p);
}

/* ---- kinds ------------------------------------------------------------------------ */

slm_drift_kind slm_drift_kind_of(const char *metric, double *pct, int *phase)
{
    static const struct {
        const char *name;
        slm_drift_kind kind;
    } fixed[] = {{"accuracy", SLM_DK_ACCURACY},       {"macro_f1", SLM_DK_MACRO_F1},
                 {"weighted_f1", SLM_DK_WEIGHTED_F1}, {"ece_15", SLM_DK_ECE},
                 {"ece_15_mass", SLM_DK_ECE_MASS}};
    static const char *const phases[] = {"e2e_ms_", "prefill_ms_", "decode_ms_", "ttft_ms_",
                                         "tpot_ms_"};
    static const struct {
        const char *name;
        double pct;
    } stats[] = {{"mean", NAN}, {"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}};
    if (!metric)
        return SLM_DK_NONE;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!strcmp(metric, fixed[i].name))
            return fixed[i].kind;
    for (int f = 0; f < 5; f++) {
        size_t l = strlen(phases[f]);
        if (strncmp(metric, phases[f], l))
            continue;
        for (size_t s = 0; s < sizeof stats / sizeof stats[0]; s++)
            if (!strcmp(metric + l, stats[s].name)) {
                if (pct)
                    *pct = stats[s].pct;
                if (phase)
                    *phase = f;
                return SLM_DK_LATENCY;
            }
    }
    return SLM_DK_NONE;
}

/* ---- 2 x 2 tables ----------------------------------------------------------------- */

double slm_yates_p(long x11, long x12, long x21, long x22, double *chi2)
{
    if (chi2)
        *chi2 = NAN;
    if (x11 < 0 || x12 < 0 || x21 < 0 || x22 < 0)
        return NAN;
    double r1 = (double)(x11 + x12), r2 = (double)(x21 + x22);
    double c1 = (double)(x11 + x21), c2 = (double)(x12 + x22), n = r1 + r2;
    if (r1 == 0 || r2 == 0 || c1 == 0 || c2 == 0)
        return NAN;
    double det = fabs((double)x11 * (double)x22 - (double)x12 * (double)x21);
    double corr = det < n / 2 ? det : n / 2;
    /* divide step by step: r1 r2 c1 c2 overflows nothing, but keeps precision */
    double x = n * ((det - corr) / r1) * ((det - corr) / r2) / c1 / c2;
    if (chi2)
        *chi2 = x;
    return slm_chi2_sf(x, 1);
}

static double lchoose(double n, double k)
{
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

double slm_fisher_p(long x11, long x12, long x21, long x22)
{
    if (x11 < 0 || x12 < 0 || x21 < 0 || x22 < 0)
        return NAN;
    long r1 = x11 + x12, c1 = x11 + x21, n = x11 + x12 + x21 + x22;
    long lo = r1 + c1 - n > 0 ? r1 + c1 - n : 0, hi = r1 < c1 ? r1 : c1;
    if (hi <= lo)
        return 1.0; /* one table has these margins */
    size_t m = (size_t)(hi - lo + 1);
    double *d = slm_xcalloc(m, sizeof *d), top = -INFINITY;
    for (long x = lo; x <= hi; x++) {
        d[x - lo] = lchoose((double)r1, (double)x) + lchoose((double)(n - r1), (double)(c1 - x));
        top = d[x - lo] > top ? d[x - lo] : top;
    }
    double all = 0, tail = 0;
    for (size_t i = 0; i < m; i++)
        all += d[i] = exp(d[i] - top);
    double obs = d[x11 - lo] * (1 + 1e-7);
    for (size_t i = 0; i < m; i++)
        if (d[i] <= obs)
            tail += d[i];
    free(d);
    double p = tail / all;
    return p > 1 ? 1.0 : p;
}

int slm_2x2_small(long x11, long x12, long x21, long x22)
{
    double r[2] = {(double)(x11 + x12), (double)(x21 + x22)};
    double c[2] = {(double)(x11 + x21), (double)(x12 + x22)};
    double n = r[0] + r[1];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (n <= 0 || r[i] * c[j] / n < 5)
                return 1;
    return 0;
}

void slm_wilson(long k, long n, double z, double *lo, double *hi)
{
    if (n <= 0 || k < 0 || k > n) {
        *lo = *hi = NAN;
        return;
    }
    double nn = (double)n, p = (double)k / nn, z2 = z * z, den = 1 + z2 / nn;
    double centre = (p + z2 / (2 * nn)) / den;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / den;
    *lo = centre - half < 0 ? 0 : centre - half;
    *hi = centre + half > 1 ? 1 : centre + half;
}

void slm_newcombe(long k1, long n1, long k2, long n2, double z, double *lo, double *hi)
{
    double l1, u1, l2, u2;
    slm_wilson(k1, n1, z, &l1, &u1);
    slm_wilson(k2, n2, z, &l2, &u2);
    if (isnan(l1) || isnan(l2)) {
        *lo = *hi = NAN;
        return;
    }
    double p1 = (double)k1 / (double)n1, p2 = (double)k2 / (double)n2, d = p2 - p1;
    *lo = d - sqrt((p2 - l2) * (p2 - l2) + (u1 - p1) * (u1 - p1));
    *hi = d + sqrt((u2 - p2) * (u2 - p2) + (p1 - l1) * (p1 - l1));
}

/* ---- Benjamini–Hochberg ----------------------------------------------------------- */

typedef struct pidx {
    double p;
    size_t i;
} pidx;

static int pidx_cmp(const void *x, const void *y)
{
    const pidx *a = x, *b = y;
    if (a->p != b->p)
        return a->p < b->p ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

void slm_bh(const double *p, size_t m, double *adjusted)
{
    pidx *v = slm_xcalloc(m ? m : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (isfinite(p[i]))
            v[k++] = (pidx){p[i], i};
    for (size_t i = 0; i < m; i++)
        if (!isfinite(p[i]))
            adjusted[i] = NAN;
    qsort(v, k, sizeof *v, pidx_cmp);
    double run = 1.0;
    for (size_t j = k; j-- > 0;) {
        double a = (double)k * v[j].p / (double)(j + 1);
        run = a < run ? a : run;
        v[j].p = run;
    }
    for (size_t j = 0; j < k; j++)
        adjusted[v[j].i] = v[j].p;
    free(v);
}

/* ---- the statistics on a resample ------------------------------------------------- */

/* Scratch space for one side's statistic. */
typedef struct scratch {
    long *tp, *sup, *pc;     /* [n_classes] */
    double *x, *y;           /* [n]: confidences or latencies */
    unsigned char *ok;       /* [n] */
    int *bin;                /* [sample's n]: each example's equal-width ECE bin, 0: none */
    double *dev;             /* [sample's n]: correct - confidence */
} scratch;

/* Scratch for n resampled examples of s; the ECE bins of s's examples computed once. */
static void scratch_init(scratch *w, const slm_drift_sample *s, size_t n)
{
    size_t n_classes = s->n_classes;
    w->bin = slm_xcalloc(s->n + 1, sizeof *w->bin);
    w->dev = slm_xcalloc(s->n + 1, sizeof *w->dev);
    for (size_t i = 0; s->conf && i < s->n; i++) {
        w->bin[i] = slm_ece_bin(s->conf[i], SLM_ECE_BINS);
        w->dev[i] = (double)(s->gold[i] == s->pred[i]) - s->conf[i];
    }
    w->tp = slm_xcalloc(n_classes + 1, sizeof *w->tp);
    w->sup = slm_xcalloc(n_classes + 1, sizeof *w->sup);
    w->pc = slm_xcalloc(n_classes + 1, sizeof *w->pc);
    w->x = slm_xcalloc(n + 1, sizeof *w->x);
    w->y = slm_xcalloc(n + 1, sizeof *w->y);
    w->ok = slm_xcalloc(n + 1, 1);
}

static void scratch_free(scratch *w)
{
    free(w->tp), free(w->sup), free(w->pc), free(w->x), free(w->y), free(w->ok), free(w->bin);
    free(w->dev);
}

/* Macro-F1 (weighted = 0) or weighted-F1 (weighted = 1) of the examples idx[0..m), as
 * DESIGN §6: F1 = 2TP / (support + predicted) over the classes in gold ∪ predicted. */
static double stat_f1(const slm_drift_sample *s, const size_t *idx, size_t m, scratch *w,
                      int weighted)
{
    if (!m)
        return NAN;
    size_t nc = s->n_classes;
    memset(w->tp, 0, nc * sizeof *w->tp);
    memset(w->sup, 0, nc * sizeof *w->sup);
    memset(w->pc, 0, nc * sizeof *w->pc);
    for (size_t k = 0; k < m; k++) {
        int g = s->gold[idx[k]], p = s->pred[idx[k]];
        w->sup[g]++;
        w->pc[p]++;
        w->tp[g] += g == p;
    }
    double sum = 0;
    size_t present = 0;
    for (size_t c = 0; c < nc; c++) {
        long den = w->sup[c] + w->pc[c];
        if (!den)
            continue;
        double f1 = 2.0 * (double)w->tp[c] / (double)den;
        sum += weighted ? (double)w->sup[c] * f1 : f1;
        present++;
    }
    return weighted ? sum / (double)m : sum / (double)present;
}

/* Equal-width ECE of the examples with a confidence, as slm_ece() bins them:
 * sum over bins of (n_m/n) |acc_m - conf_m| = (1/n) sum over bins of |sum of (correct -
 * confidence) in the bin|, one sum per bin. */
static double stat_ece(const size_t *idx, size_t m, const scratch *w)
{
    double g[SLM_ECE_BINS + 1] = {0};
    long n = 0;
    for (size_t k = 0; k < m; k++) {
        int b = w->bin[idx[k]];
        g[b] += w->dev[idx[k]];
        n += b != 0;
    }
    if (!n)
        return NAN;
    double e = 0;
    for (int b = 1; b <= SLM_ECE_BINS; b++)
        e += fabs(g[b]);
    return e / (double)n;
}

static double stat_ece_mass(const slm_drift_sample *s, const size_t *idx, size_t m, scratch *w)
{
    size_t n = 0;
    for (size_t k = 0; k < m; k++) {
        size_t i = idx[k];
        if (!isfinite(s->conf[i]))
            continue;
        w->x[n] = s->conf[i];
        w->ok[n++] = s->gold[i] == s->pred[i];
    }
    return n ? slm_ece(w->x, w->ok, n, SLM_ECE_BINS, 1, NULL, NULL, NULL, NULL) : NAN;
}

static double summary_of(double *v, size_t n, double pct)
{
    if (isnan(pct)) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += v[i];
        return s / (double)n;
    }
    return slm_percentile(v, n, pct);
}

/* ln(stat(lat) / stat(ref)) over the examples where both latencies are finite and > 0. */
static double stat_latency(const slm_drift_sample *s, const size_t *idx, size_t m, scratch *w,
                           double pct)
{
    size_t n = 0;
    for (size_t k = 0; k < m; k++) {
        double l = s->lat[idx[k]], r = s->ref[idx[k]];
        if (isfinite(l) && isfinite(r) && l > 0 && r > 0) {
            w->x[n] = l;
            w->y[n++] = r;
        }
    }
    if (!n)
        return NAN;
    double sl = summary_of(w->x, n, pct), sr = summary_of(w->y, n, pct);
    return sl > 0 && sr > 0 ? log(sl / sr) : NAN;
}

static double stat_of(slm_drift_kind kind, const slm_drift_sample *s, const size_t *idx,
                      size_t m, scratch *w, double pct)
{
    switch (kind) {
    case SLM_DK_MACRO_F1:
        return stat_f1(s, idx, m, w, 0);
    case SLM_DK_WEIGHTED_F1:
        return stat_f1(s, idx, m, w, 1);
    case SLM_DK_ECE:
        return s->conf ? stat_ece(idx, m, w) : NAN;
    case SLM_DK_ECE_MASS:
        return s->conf ? stat_ece_mass(s, idx, m, w) : NAN;
    case SLM_DK_LATENCY:
        return s->lat && s->ref ? stat_latency(s, idx, m, w, pct) : NAN;
    default:
        return NAN;
    }
}

/* ---- the bootstrap of a difference ------------------------------------------------ */

typedef struct boot_side {
    const slm_drift_sample *s;
    const size_t *base; /* the examples resampled from: pairs' indices, or NULL for 0..n */
    size_t n;
    size_t *idx;        /* [n] the resample */
    scratch w;
} boot_side;

static void side_init(boot_side *b, const slm_drift_sample *s, const size_t *base, size_t n)
{
    b->s = s;
    b->base = base;
    b->n = n;
    b->idx = slm_xcalloc(n ? n : 1, sizeof *b->idx);
    for (size_t i = 0; i < n; i++)
        b->idx[i] = base ? base[i] : i;
    scratch_init(&b->w, s, n);
}

static void side_free(boot_side *b)
{
    free(b->idx);
    scratch_free(&b->w);
}

/* Standard error, interval and p from the kept differences d[0..k): a normal test of
 * out->diff with the bootstrap's standard error. */
static void boot_summary(const double *d, size_t k, slm_drift_diff *out)
{
    double mean = 0, ss = 0;
    for (size_t i = 0; i < k; i++)
        mean += d[i];
    mean /= (double)k;
    for (size_t i = 0; i < k; i++)
        ss += (d[i] - mean) * (d[i] - mean);
    double se = k > 1 ? sqrt(ss / (double)(k - 1)) : 0;
    out->se = se;
    out->lo = out->diff - Z95 * se;
    out->hi = out->diff + Z95 * se;
    if (se > 0)
        out->p = erfc(fabs(out->diff) / se / sqrt(2.0));
    else
        out->p = out->diff == 0 ? 1.0 : 0.0;
    out->reps = (int)k;
}

static int compare_boot(slm_drift_kind kind, const slm_drift_sample *a,
                        const slm_drift_sample *b, const slm_drift_pairs *pp,
                        const slm_drift_cfg *cfg, slm_drift_diff *out)
{
    boot_side sa, sb;
    side_init(&sa, a, pp ? pp->ia : NULL, pp ? pp->n : a->n);
    side_init(&sb, b, pp ? pp->ib : NULL, pp ? pp->n : b->n);
    out->method = pp ? "bootstrap-paired" : "bootstrap";
    out->se = NAN;
    out->n_a = (long)sa.n, out->n_b = (long)sb.n, out->n_pairs = pp ? (long)pp->n : 0;
    out->a = stat_of(kind, a, sa.idx, sa.n, &sa.w, cfg->pct);
    out->b = stat_of(kind, b, sb.idx, sb.n, &sb.w, cfg->pct);
    out->diff = out->b - out->a;
    int rc = -1;
    if (isfinite(out->diff) && cfg->reps > 0) {
        slm_rng r;
        slm_rng_seed(&r, cfg->seed);
        double *d = slm_xcalloc((size_t)cfg->reps, sizeof *d);
        size_t k = 0;
        for (int rep = 0; rep < cfg->reps; rep++) {
            for (size_t i = 0; i < sa.n; i++) {
                size_t j = draw_below(&r, sa.n);
                sa.idx[i] = sa.base ? sa.base[j] : j;
                if (pp)
                    sb.idx[i] = sb.base[j];
            }
            for (size_t i = 0; !pp && i < sb.n; i++)
                sb.idx[i] = draw_below(&r, sb.n);
            double v = stat_of(kind, b, sb.idx, sb.n, &sb.w, cfg->pct) -
                       stat_of(kind, a, sa.idx, sa.n, &sa.w, cfg->pct);
            if (isfinite(v))
                d[k++] = v;
        }
        if (k) {
            boot_summary(d, k, out);
            rc = 0;
        }
        free(d);
    }
    side_free(&sa);
    side_free(&sb);
    return rc;
}

/* ---- proportions ------------------------------------------------------------------ */

static int in_class(const slm_drift_sample *s, size_t i, int label)
{
    return label < 0 || s->gold[i] == label;
}

static int compare_paired_prop(const slm_drift_sample *a, const slm_drift_sample *b,
                               const slm_drift_pairs *pp, const slm_drift_cfg *cfg,
                               slm_drift_diff *out)
{
    long n = 0, ra = 0, rb = 0, only_a = 0, only_b = 0;
    for (size_t k = 0; k < pp->n; k++) {
        size_t i = pp->ia[k], j = pp->ib[k];
        if (!in_class(a, i, cfg->label) || !in_class(b, j, cfg->label < 0 ? -1 : cfg->label_b))
            continue;
        int x = a->gold[i] == a->pred[i], y = b->gold[j] == b->pred[j];
        n++, ra += x, rb += y;
        only_a += x && !y;
        only_b += y && !x;
    }
    out->n_a = out->n_b = out->n_pairs = n;
    out->only_a = only_a, out->only_b = only_b;
    if (!n)
        return -1;
    int exact = 0;
    out->p = slm_mcnemar_p(only_a, only_b, &exact);
    out->method = exact ? "mcnemar-exact" : "mcnemar-chi2-cc";
    out->a = (double)ra / (double)n;
    out->b = (double)rb / (double)n;
    out->diff = (double)(only_b - only_a) / (double)n;
    /* Agresti–Min: Wald after adding 1/2 to each of the four cells */
    double nn = (double)n + 2, bb = (double)only_a + 0.5, cc = (double)only_b + 0.5;
    double d = (cc - bb) / nn, se = sqrt((bb + cc) - (cc - bb) * (cc - bb) / nn) / nn;
    out->lo = d - Z95 * se < -1 ? -1 : d - Z95 * se;
    out->hi = d + Z95 * se > 1 ? 1 : d + Z95 * se;
    return 0;
}

static int compare_indep_prop(const slm_drift_sample *a, const slm_drift_sample *b,
                              const slm_drift_cfg *cfg, slm_drift_diff *out)
{
    long na = 0, ka = 0, nb = 0, kb = 0;
    for (size_t i = 0; i < a->n; i++)
        if (in_class(a, i, cfg->label))
            na++, ka += a->gold[i] == a->pred[i];
    for (size_t i = 0; i < b->n; i++)
        if (in_class(b, i, cfg->label < 0 ? -1 : cfg->label_b))
            nb++, kb += b->gold[i] == b->pred[i];
    out->n_a = na, out->n_b = nb;
    if (!na || !nb)
        return -1;
    out->a = (double)ka / (double)na;
    out->b = (double)kb / (double)nb;
    out->diff = out->b - out->a;
    if (slm_2x2_small(ka, na - ka, kb, nb - kb)) {
        out->p = slm_fisher_p(ka, na - ka, kb, nb - kb);
        out->method = "fisher-exact";
    } else {
        out->p = slm_yates_p(ka, na - ka, kb, nb - kb, NULL);
        out->method = "chi2-yates";
    }
    slm_newcombe(ka, na, kb, nb, Z95, &out->lo, &out->hi);
    return 0;
}

int slm_drift_compare(slm_drift_kind kind, const slm_drift_sample *a, const slm_drift_sample *b,
                      const slm_drift_pairs *pairs, const slm_drift_cfg *cfg,
                      slm_drift_diff *out)
{
    memset(out, 0, sizeof *out);
    out->a = out->b = out->diff = out->lo = out->hi = out->p = out->se = NAN;
    out->method = "";
    if (kind == SLM_DK_ACCURACY)
        return pairs ? compare_paired_prop(a, b, pairs, cfg, out)
                     : compare_indep_prop(a, b, cfg, out);
    if (kind == SLM_DK_NONE)
        return -1;
    return compare_boot(kind, a, b, pairs, cfg, out);
}

/* ---- label distributions ---------------------------------------------------------- */

/* Pearson's X^2 and the TVD of the 2 x k table (ca; t - ca), side sizes na, nb. */
static void table_stats(const long *ca, const long *t, size_t k, long na, long nb, double *x2,
                        double *tvd)
{
    double n = (double)(na + nb), x = 0, d = 0;
    for (size_t i = 0; i < k; i++) {
        double ea = (double)na * (double)t[i] / n, eb = (double)nb * (double)t[i] / n;
        double oa = (double)ca[i], ob = (double)(t[i] - ca[i]);
        x += (oa - ea) * (oa - ea) / ea + (ob - eb) * (ob - eb) / eb;
        d += fabs(oa / (double)na - ob / (double)nb);
    }
    *x2 = x;
    *tvd = d / 2;
}

/* Random splits of the pooled labels: tvd_null, tvd_null_hi and the Monte-Carlo tail
 * count of X^2 (*ge). */
static void permutations(const long *ca, const long *t, size_t k, long na, long nb, int reps,
                         uint64_t seed, double x2, slm_label_test *out, long *ge)
{
    long n = na + nb;
    int *pool = slm_xcalloc((size_t)n, sizeof *pool);
    long *cs = slm_xcalloc(k, sizeof *cs);
    double *tv = slm_xcalloc((size_t)reps, sizeof *tv);
    for (size_t i = 0, at = 0; i < k; i++)
        for (long j = 0; j < t[i]; j++)
            pool[at++] = (int)i;
    slm_rng r;
    slm_rng_seed(&r, seed);
    double sum = 0;
    *ge = 0;
    for (int rep = 0; rep < reps; rep++) {
        /* a partial Fisher–Yates shuffle: the first na entries are a uniform draw */
        memset(cs, 0, k * sizeof *cs);
        for (long i = 0; i < na; i++) {
            long j = i + (long)draw_below(&r, (size_t)(n - i));
            int s = pool[i];
            pool[i] = pool[j];
            pool[j] = s;
            cs[pool[i]]++;
        }
        double xs, ts;
        table_stats(cs, t, k, na, nb, &xs, &ts);
        *ge += xs >= x2 * (1 - 1e-12) - 1e-12;
        tv[rep] = ts;
        sum += ts;
    }
    qsort(tv, (size_t)reps, sizeof *tv, cmp_double);
    out->tvd_null = sum / reps;
    out->tvd_null_hi = slm_percentile_sorted(tv, (size_t)reps, 95);
    free(pool), free(cs), free(tv);
}

int slm_label_test_run(const long *ca_in, const long *cb_in, size_t k_in, int reps,
                       uint64_t seed, slm_label_test *out)
{
    memset(out, 0, sizeof *out);
    out->tvd = out->tvd_null = out->tvd_null_hi = out->chi2 = out->p = NAN;
    out->method = "";
    long *ca = slm_xcalloc(k_in + 1, sizeof *ca), *t = slm_xcalloc(k_in + 1, sizeof *t);
    size_t k = 0;
    long na = 0, nb = 0;
    for (size_t i = 0; i < k_in; i++) {
        if (ca_in[i] + cb_in[i] <= 0)
            continue;
        ca[k] = ca_in[i], t[k++] = ca_in[i] + cb_in[i];
        na += ca_in[i], nb += cb_in[i];
    }
    int rc = -1;
    if (na > 0 && nb > 0) {
        double x2;
        table_stats(ca, t, k, na, nb, &x2, &out->tvd);
        out->df = (int)k - 1;
        for (size_t i = 0; i < k; i++)
            out->small |= (double)na * (double)t[i] / (double)(na + nb) < 5 ||
                          (double)nb * (double)t[i] / (double)(na + nb) < 5;
        long ge = 0;
        if (reps > 0) {
            permutations(ca, t, k, na, nb, reps, seed, x2, out, &ge);
            out->reps = reps;
        }
        if (out->df == 1) {
            long a0 = ca[0], a1 = ca[1], b0 = t[0] - ca[0], b1 = t[1] - ca[1];
            out->p = slm_yates_p(a0, a1, b0, b1, &out->chi2);
            out->method = "chi2-yates";
            if (out->small) {
                out->p = slm_fisher_p(a0, a1, b0, b1);
                out->method = "fisher-exact";
            }
        } else if (out->df > 1) {
            out->chi2 = x2;
            out->p = slm_chi2_sf(x2, out->df);
            out->method = "chi2";
            if (out->small && reps > 0) {
                out->p = (1.0 + (double)ge) / ((double)reps + 1.0);
                out->method = "monte-carlo";
            }
        }
        rc = out->df > 0 ? 0 : -1;
    }
    free(ca), free(t);
    return rc;
}

uint64_t slm_drift_seed(uint64_t base, int64_t run_a, int64_t run_b, const char *what)
{
    uint64_t h = UINT64_C(14695981039346656037);
    uint64_t w[3] = {base, (uint64_t)run_a, (uint64_t)run_b};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 8; b++) {
            h ^= (w[i] >> (8 * b)) & 0xff;
            h *= UINT64_C(1099511628211);
        }
    for (const char *s = what ? what : ""; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return h >> 1; /* 63 bits: JSON integers are signed */
}
