/*
 * metrics.c — classification metrics, summaries and calibration scores (see metrics.h
 * for the definitions; they follow DESIGN §6 to the letter).
 */
#include "metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- classification ------------------------------------------------------------------ */

/* a/b with 0/0 (and x/0) counted as 0, the DESIGN §6 convention for P, R and F1. */
static double ratio0(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

int slm_cls_metrics_compute(const int *gold, const int *pred, size_t n, size_t n_classes,
                            slm_cls_metrics *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return slm_err(err, errlen, "no examples to score");
    if (n_classes == 0)
        return slm_err(err, errlen, "empty label space");
    if (n_classes > SIZE_MAX / n_classes / sizeof(long))
        return slm_err(err, errlen, "too many classes (%zu) for a confusion matrix",
                       n_classes);
    for (size_t i = 0; i < n; i++) {
        if (gold[i] < 0 || (size_t)gold[i] >= n_classes)
            return slm_err(err, errlen, "gold label index %d of example %zu outside [0, %zu)",
                           gold[i], i, n_classes);
        if (pred[i] < 0 || (size_t)pred[i] >= n_classes)
            return slm_err(err, errlen,
                           "predicted label index %d of example %zu outside [0, %zu)",
                           pred[i], i, n_classes);
    }

    out->n = n;
    out->n_classes = n_classes;
    out->precision = slm_xcalloc(n_classes, sizeof *out->precision);
    out->recall = slm_xcalloc(n_classes, sizeof *out->recall);
    out->f1 = slm_xcalloc(n_classes, sizeof *out->f1);
    out->support = slm_xcalloc(n_classes, sizeof *out->support);
    out->pred_count = slm_xcalloc(n_classes, sizeof *out->pred_count);
    out->confusion = slm_xcalloc(n_classes * n_classes, sizeof *out->confusion);
    out->present = slm_xcalloc(n_classes, sizeof *out->present);

    for (size_t i = 0; i < n; i++) {
        size_t g = (size_t)gold[i], p = (size_t)pred[i];
        out->confusion[g * n_classes + p]++;
        out->support[g]++;
        out->pred_count[p]++;
        if (g == p)
            out->n_correct++;
    }

    double sum_tp = 0, sum_fp = 0, sum_fn = 0, macro = 0, weighted = 0;
    size_t n_present = 0;
    for (size_t c = 0; c < n_classes; c++) {
        double tp = (double)out->confusion[c * n_classes + c];
        double fp = (double)out->pred_count[c] - tp;
        double fn = (double)out->support[c] - tp;
        /* A class's own precision (never predicted), recall (no gold example) or F1
         * (neither) is 0/0: undefined, NaN (stored as NULL, shown as "–"), never 0. In
         * macro-F1 a present class's 0/0 part counts as 0 through its F1 (DESIGN §6). */
        out->precision[c] = tp + fp > 0 ? tp / (tp + fp) : NAN;
        out->recall[c] = tp + fn > 0 ? tp / (tp + fn) : NAN;
        out->present[c] = out->support[c] > 0 || out->pred_count[c] > 0;
        out->f1[c] = out->present[c] ? ratio0(2 * tp, 2 * tp + fp + fn) : NAN;
        sum_tp += tp;
        sum_fp += fp;
        sum_fn += fn;
        if (out->present[c]) {
            macro += out->f1[c];
            n_present++;
        }
        if (out->support[c] > 0)
            weighted += (double)out->support[c] * out->f1[c];
    }
    out->accuracy = (double)out->n_correct / (double)n;
    /* n > 0 guarantees a present class and a non-zero micro denominator. */
    out->macro_f1 = macro / (double)n_present;
    out->micro_f1 = ratio0(sum_tp, sum_tp + (sum_fp + sum_fn) / 2);
    out->weighted_f1 = weighted / (double)n;
    return 0;
}

void slm_cls_metrics_free(slm_cls_metrics *m)
{
    if (!m)
        return;
    free(m->present);
    free(m->confusion);
    free(m->pred_count);
    free(m->support);
    free(m->f1);
    free(m->recall);
    free(m->precision);
    memset(m, 0, sizeof *m);
}

double slm_recall_spread(const slm_cls_metrics *m, size_t n_labels)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t c = 0; m && c < n_labels && c < m->n_classes; c++) {
        if (m->support[c] <= 0)
            continue;
        lo = fmin(lo, m->recall[c]);
        hi = fmax(hi, m->recall[c]);
    }
    return hi >= lo ? hi - lo : NAN;
}

/* ---- summaries and percentiles ------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Copies the finite values of x[0..n) into a new array (caller frees), sorted ascending;
 * *m receives their count. Returns NULL when there are none. */
static double *sorted_finite(const double *x, size_t n, size_t *m)
{
    *m = 0;
    if (n == 0)
        return NULL;
    double *v = slm_xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[(*m)++] = x[i];
    if (*m == 0) {
        free(v);
        return NULL;
    }
    qsort(v, *m, sizeof *v, cmp_double);
    return v;
}

double slm_percentile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0 || !(p >= 0.0 && p <= 100.0))
        return NAN;
    /* numpy: q = p / 100, virtual index = (n-1) * q, then _lerp(). */
    double q = p / 100.0;
    double r = (double)(n - 1) * q;
    size_t i = (size_t)floor(r);
    if (i >= n - 1)
        return sorted[n - 1];
    double t = r - (double)i;
    double a = sorted[i], b = sorted[i + 1];
    double d = b - a;
    /* numpy's _lerp interpolates from the nearer end, which keeps it monotone in t. */
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

double slm_percentile(const double *x, size_t n, double p)
{
    if (!(p >= 0.0 && p <= 100.0))
        return NAN;
    size_t m;
    double *v = sorted_finite(x, n, &m);
    if (!v)
        return NAN;
    double r = slm_percentile_sorted(v, m, p);
    free(v);
    return r;
}

void slm_summarize(const double *x, size_t n, slm_summary *out)
{
    size_t m;
    double *v = sorted_finite(x, n, &m);
    out->n = m;
    if (!v) {
        out->mean = out->min = out->max = out->stddev = NAN;
        out->p50 = out->p90 = out->p95 = out->p99 = NAN;
        return;
    }
    double sum = 0;
    for (size_t i = 0; i < m; i++)
        sum += v[i];
    double mean = sum / (double)m;
    /* Two passes: the textbook one-pass formula cancels badly for latencies with a large
     * mean and a small spread. */
    double ss = 0;
    for (size_t i = 0; i < m; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    out->mean = mean;
    out->min = v[0];
    out->max = v[m - 1];
    out->stddev = m > 1 ? sqrt(ss / (double)(m - 1)) : 0.0;
    out->p50 = slm_percentile_sorted(v, m, 50);
    out->p90 = slm_percentile_sorted(v, m, 90);
    out->p95 = slm_percentile_sorted(v, m, 95);
    out->p99 = slm_percentile_sorted(v, m, 99);
    free(v);
}

/* ---- probabilities and calibration --------------------------------------------------- */

void slm_softmax(const double *logprob, size_t k, double *p)
{
    if (k == 0)
        return;
    double mx = -INFINITY;
    int bad = 0;
    for (size_t j = 0; j < k; j++) {
        if (isnan(logprob[j]) || logprob[j] == INFINITY)
            bad = 1;
        else if (logprob[j] > mx)
            mx = logprob[j];
    }
    if (bad || mx == -INFINITY) {
        double v = bad ? NAN : 1.0 / (double)k;
        for (size_t j = 0; j < k; j++)
            p[j] = v;
        return;
    }
    double stack[64], *t = k <= 64 ? stack : slm_xmalloc(k * sizeof *t);
    for (size_t j = 0; j < k; j++) {
        p[j] = exp(logprob[j] - mx); /* exp(-inf) = 0; the max gives 1, so sum >= 1 */
        t[j] = p[j];
    }
    /* Summed smallest first, in value order rather than label order: the same scores in
     * any label order give bit-identical probabilities, so equal confidences tie exactly
     * (selective prediction and equal-mass bins rank ties as ties), and the small terms are
     * not lost against the large one. */
    qsort(t, k, sizeof *t, cmp_double);
    double sum = 0;
    for (size_t j = 0; j < k; j++)
        sum += t[j];
    if (t != stack)
        free(t);
    for (size_t j = 0; j < k; j++)
        p[j] /= sum;
}

double slm_brier(const double *probs, const int *gold, size_t n, size_t k)
{
    if (n == 0 || k == 0)
        return NAN;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        if (gold[i] < 0 || (size_t)gold[i] >= k)
            return NAN;
        const double *row = probs + i * k;
        double s = 0;
        for (size_t j = 0; j < k; j++) {
            double d = row[j] - (j == (size_t)gold[i] ? 1.0 : 0.0);
            s += d * d;
        }
        total += s;
    }
    return total / (double)n;
}

double slm_nll(const double *probs, const int *gold, size_t n, size_t k)
{
    if (n == 0 || k == 0)
        return NAN;
    const double lo = 1e-15, hi = 1.0 - 1e-15;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        if (gold[i] < 0 || (size_t)gold[i] >= k)
            return NAN;
        double p = probs[i * k + (size_t)gold[i]];
        if (isnan(p))
            return NAN;
        p = p < lo ? lo : p > hi ? hi : p;
        total += -log(p);
    }
    return total / (double)n;
}

int slm_ece_bin(double conf, int n_bins)
{
    if (n_bins < 1 || !(conf >= 0.0 && conf <= 1.0))
        return 0;
    double b = (double)n_bins;
    /* ceil(conf*B) is right except where conf*B rounds across an integer; the edges that
     * decide are the doubles m/B, so settle the candidate against them exactly. The edges
     * are monotone in m (correctly rounded division), so the loops move at most a step. */
    int m = (int)ceil(conf * b);
    if (m < 1)
        m = 1;
    if (m > n_bins)
        m = n_bins;
    while (m > 1 && conf <= (double)(m - 1) / b)
        m--;
    while (m < n_bins && conf > (double)m / b)
        m++;
    return m;
}

typedef struct conf_idx {
    double conf;
    size_t idx;
} conf_idx;

/* Per-bin sums of one ECE computation. */
typedef struct ece_bins {
    size_t *cnt, *corr;
    double *conf;
} ece_bins;

static void ece_bins_add(ece_bins *e, size_t m, double conf, int correct)
{
    e->cnt[m]++;
    e->conf[m] += conf;
    e->corr[m] += correct != 0;
}

static int cmp_conf_idx(const void *a, const void *b)
{
    const conf_idx *x = a, *y = b;
    if (x->conf != y->conf)
        return x->conf < y->conf ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

size_t slm_ece_mass_edges(const double *sorted, size_t n, int n_bins, double *edges)
{
    if (n == 0 || n_bins < 1)
        return 0;
    size_t B = (size_t)n_bins < n ? (size_t)n_bins : n;
    size_t q = n / B, r = n % B, end = 0, ne = 0;
    /* np.array_split: the first n mod B chunks hold q + 1 values, the others q. */
    for (size_t b = 0; b + 1 < B; b++) {
        end += q + (b < r);
        double e = (sorted[end - 1] + sorted[end]) / 2.0; /* as Kumar et al.'s code */
        if (ne == 0 || e != edges[ne - 1])
            edges[ne++] = e; /* sorted input: a duplicate can only repeat the last edge */
    }
    if (ne == 0 || edges[ne - 1] != 1.0)
        edges[ne++] = 1.0;
    return ne;
}

/* Equal-mass bins (metrics.h): the confidences sorted (by value; the index only makes the
 * sort deterministic — sums run in value order, so ties in any order give the same bits),
 * then each one in the first bin whose upper edge is >= it. */
static void ece_mass_fill(const double *conf, const unsigned char *correct, size_t n,
                          int n_bins, ece_bins *e)
{
    conf_idx *s = slm_xmalloc(n * sizeof *s);
    double *v = slm_xmalloc(n * sizeof *v), *edges = slm_xmalloc((size_t)n_bins * sizeof *edges);
    for (size_t i = 0; i < n; i++) {
        s[i].conf = conf[i];
        s[i].idx = i;
    }
    qsort(s, n, sizeof *s, cmp_conf_idx);
    for (size_t i = 0; i < n; i++)
        v[i] = s[i].conf;
    size_t ne = slm_ece_mass_edges(v, n, n_bins, edges), m = 0;
    for (size_t j = 0; j < n; j++) {
        while (m + 1 < ne && edges[m] < v[j])
            m++; /* the last edge is 1.0 >= every confidence */
        ece_bins_add(e, m, v[j], correct[s[j].idx]);
    }
    free(edges);
    free(v);
    free(s);
}

double slm_ece(const double *conf, const unsigned char *correct, size_t n, int n_bins,
               int equal_mass, double *mce, long *bin_count, double *bin_conf,
               double *bin_acc)
{
    if (mce)
        *mce = NAN;
    for (int m = 0; m < n_bins; m++) {
        if (bin_count)
            bin_count[m] = 0;
        if (bin_conf)
            bin_conf[m] = NAN;
        if (bin_acc)
            bin_acc[m] = NAN;
    }
    if (n == 0 || n_bins < 1)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (!(conf[i] >= 0.0 && conf[i] <= 1.0))
            return NAN;

    size_t B = (size_t)n_bins;
    ece_bins e = {slm_xcalloc(B, sizeof *e.cnt), slm_xcalloc(B, sizeof *e.corr),
                  slm_xcalloc(B, sizeof *e.conf)};
    if (equal_mass)
        ece_mass_fill(conf, correct, n, n_bins, &e);
    else
        for (size_t i = 0; i < n; i++)
            ece_bins_add(&e, (size_t)slm_ece_bin(conf[i], n_bins) - 1, conf[i], correct[i]);

    double ece = 0, worst = 0;
    for (size_t m = 0; m < B; m++) {
        if (bin_count)
            bin_count[m] = (long)e.cnt[m];
        if (e.cnt[m] == 0)
            continue;
        double cm = e.conf[m] / (double)e.cnt[m];
        double am = (double)e.corr[m] / (double)e.cnt[m];
        double gap = fabs(am - cm);
        if (bin_conf)
            bin_conf[m] = cm;
        if (bin_acc)
            bin_acc[m] = am;
        ece += (double)e.cnt[m] / (double)n * gap;
        if (gap > worst)
            worst = gap;
    }
    if (mce)
        *mce = worst;
    free(e.conf);
    free(e.corr);
    free(e.cnt);
    return ece;
}

double slm_classwise_ece(const double *probs, const int *gold, size_t n, size_t k,
                         int n_bins)
{
    if (n == 0 || k == 0 || n_bins < 1)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (gold[i] < 0 || (size_t)gold[i] >= k)
            return NAN;
    double *col = slm_xmalloc(n * sizeof *col);
    unsigned char *hit = slm_xmalloc(n);
    double total = 0;
    for (size_t c = 0; c < k && !isnan(total); c++) {
        for (size_t i = 0; i < n; i++) {
            col[i] = probs[i * k + c];
            hit[i] = (size_t)gold[i] == c;
        }
        total += slm_ece(col, hit, n, n_bins, 0, NULL, NULL, NULL, NULL); /* NaN if bad */
    }
    free(hit);
    free(col);
    return total / (double)k;
}

/* ---- selective prediction ------------------------------------------------------------ */

/* Confidence descending; within a tie the order is irrelevant to every caller (groups are
 * handled as a whole), the index only makes the sort itself deterministic. */
static int cmp_conf_desc(const void *a, const void *b)
{
    const conf_idx *x = a, *y = b;
    if (x->conf != y->conf)
        return x->conf > y->conf ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The examples sorted by confidence descending (caller frees), or NULL when n == 0 or a
 * confidence is NaN. */
static conf_idx *sort_desc(const double *conf, size_t n)
{
    if (n == 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (isnan(conf[i]))
            return NULL;
    conf_idx *s = slm_xmalloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s[i].conf = conf[i];
        s[i].idx = i;
    }
    qsort(s, n, sizeof *s, cmp_conf_desc);
    return s;
}

/* The end of the tie group starting at sorted position start. */
static size_t group_end(const conf_idx *s, size_t n, size_t start)
{
    size_t e = start + 1;
    while (e < n && s[e].conf == s[start].conf)
        e++;
    return e;
}

/* Wrong answers among sorted positions [a, b). */
static size_t count_wrong(const conf_idx *s, const unsigned char *correct, size_t a,
                          size_t b)
{
    size_t w = 0;
    for (size_t j = a; j < b; j++)
        w += correct[s[j].idx] == 0;
    return w;
}

double slm_aurc(const double *conf, const unsigned char *correct, size_t n)
{
    conf_idx *s = sort_desc(conf, n);
    if (!s)
        return NAN;
    double sum = 0;
    size_t before = 0; /* errors ranked above the current group */
    for (size_t start = 0; start < n;) {
        size_t end = group_end(s, n, start);
        size_t gw = count_wrong(s, correct, start, end);
        double rate = (double)gw / (double)(end - start);
        for (size_t k = start + 1; k <= end; k++)
            sum += ((double)before + (double)(k - start) * rate) / (double)k;
        before += gw;
        start = end;
    }
    free(s);
    return sum / (double)n;
}

size_t slm_risk_coverage(const double *conf, const unsigned char *correct, size_t n,
                         double *coverage, double *risk, double *threshold)
{
    conf_idx *s = sort_desc(conf, n);
    if (!s)
        return 0;
    size_t pts = 0, wrong = 0;
    for (size_t start = 0; start < n;) {
        size_t end = group_end(s, n, start);
        wrong += count_wrong(s, correct, start, end);
        coverage[pts] = (double)end / (double)n;
        risk[pts] = (double)wrong / (double)end;
        threshold[pts] = s[start].conf;
        pts++;
        start = end;
    }
    free(s);
    return pts;
}

int slm_coverage_at(const double *conf, const unsigned char *correct, size_t n,
                    double target, double *coverage, double *threshold, double *accuracy)
{
    *coverage = *threshold = *accuracy = NAN;
    if (isnan(target))
        return -1;
    conf_idx *s = sort_desc(conf, n);
    if (!s)
        return -1;
    *coverage = 0;
    size_t wrong = 0;
    /* Coverage grows with each group, so the last qualifying group wins. */
    for (size_t start = 0; start < n;) {
        size_t end = group_end(s, n, start);
        wrong += count_wrong(s, correct, start, end);
        double acc = (double)(end - wrong) / (double)end;
        if (acc >= target) {
            *coverage = (double)end / (double)n;
            *threshold = s[start].conf;
            *accuracy = acc;
        }
        start = end;
    }
    free(s);
    return 0;
}

/* ---- uncertainty: bootstrap, McNemar, Holm ------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void slm_rng_seed(slm_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x); /* never all zero: splitmix64 is a bijection of a counter */
}

uint64_t slm_rng_u64(slm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

uint64_t slm_rng_below(slm_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* 2^64 mod n draws at the bottom would make small results likelier; reject them. */
    uint64_t floor_ = (0 - n) % n;
    for (;;) {
        uint64_t x = slm_rng_u64(r);
        if (x >= floor_)
            return x % n;
    }
}

/* Runs reps resamples and returns the finite replicate values, sorted ascending, in a new
 * array (caller frees) with their count in *m; NULL when none. */
static double *bootstrap_replicates(size_t n, slm_resample_stat stat, void *ud, int reps,
                                    uint64_t seed, size_t *m)
{
    *m = 0;
    size_t *idx = slm_xmalloc(n * sizeof *idx);
    double *v = slm_xmalloc((size_t)reps * sizeof *v);
    slm_rng rng;
    slm_rng_seed(&rng, seed);
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < n; i++)
            idx[i] = (size_t)slm_rng_below(&rng, (uint64_t)n);
        double x = stat(idx, n, ud);
        if (isfinite(x))
            v[(*m)++] = x;
    }
    free(idx);
    if (*m == 0) {
        free(v);
        return NULL;
    }
    qsort(v, *m, sizeof *v, cmp_double);
    return v;
}

static void set_nan(double *a, double *b, double *c)
{
    if (a)
        *a = NAN;
    if (b)
        *b = NAN;
    if (c)
        *c = NAN;
}

int slm_bootstrap_ci(size_t n, slm_resample_stat stat, void *ud, int reps, uint64_t seed,
                     double level, double *lo, double *hi, double *se)
{
    set_nan(lo, hi, se);
    if (n == 0 || reps < 1 || !stat || !(level > 0.0 && level < 1.0))
        return -1;
    size_t m;
    double *v = bootstrap_replicates(n, stat, ud, reps, seed, &m);
    if (!v)
        return -1;
    if (lo)
        *lo = slm_percentile_sorted(v, m, 100.0 * (1.0 - level) / 2.0);
    if (hi)
        *hi = slm_percentile_sorted(v, m, 100.0 * (1.0 + level) / 2.0);
    if (se) {
        double sum = 0, ss = 0;
        for (size_t i = 0; i < m; i++)
            sum += v[i];
        double mean = sum / (double)m;
        for (size_t i = 0; i < m; i++)
            ss += (v[i] - mean) * (v[i] - mean);
        *se = m > 1 ? sqrt(ss / (double)(m - 1)) : 0.0;
    }
    free(v);
    return 0;
}

/* Counts the kept replicates v[0..m) (sorted) on each side of 0 and fills out (for
 * slm_paired_bootstrap_test()). */
static void boot_test_fill(const double *v, size_t m, slm_boot_test *out)
{
    size_t le = 0, ge = 0;
    for (size_t i = 0; i < m; i++) {
        le += v[i] <= 0;
        ge += v[i] >= 0;
    }
    size_t side = le < ge ? le : ge;
    /* The add-one rule (Davison and Hinkley 1997, ch. 4): with r of B replicates on the
     * far side, (r + 1)/(B + 1) is a valid one-sided p-value, never 0; doubled for two
     * sides. */
    double p = 2.0 * ((double)side + 1.0) / ((double)m + 1.0);
    out->lo = slm_percentile_sorted(v, m, 2.5);
    out->hi = slm_percentile_sorted(v, m, 97.5);
    out->p = p > 1 ? 1.0 : p;
    out->crossed = (long)side;
    out->kept = (long)m;
}

int slm_paired_bootstrap_test(size_t n, slm_resample_stat diff, void *ud, int reps,
                              uint64_t seed, slm_boot_test *out)
{
    out->lo = out->hi = out->p = NAN;
    out->crossed = out->kept = -1;
    if (n == 0 || reps < 1 || !diff)
        return -1;
    size_t m;
    double *v = bootstrap_replicates(n, diff, ud, reps, seed, &m);
    if (!v)
        return -1;
    boot_test_fill(v, m, out);
    free(v);
    return 0;
}

int slm_paired_bootstrap(size_t n, slm_resample_stat diff, void *ud, int reps,
                         uint64_t seed, double *lo, double *hi, double *p_two_sided)
{
    slm_boot_test t;
    int rc = slm_paired_bootstrap_test(n, diff, ud, reps, seed, &t);
    if (lo)
        *lo = t.lo;
    if (hi)
        *hi = t.hi;
    if (p_two_sided)
        *p_two_sided = t.p;
    return rc;
}

/* ---- the normal distribution, BCa ---- */

double slm_norm_cdf(double x)
{
    /* erfc keeps the lower tail accurate where 1 + erf would cancel */
    return 0.5 * erfc(-x * 0.70710678118654752440);
}

/* Wichura's AS241 (PPND16) rational approximations, relative error about 1e-16: the
 * central one for |p - 0.5| <= 0.425, then two in r = sqrt(-ln(min(p, 1 - p))). */
static double ppnd16_central(double q)
{
    double r = 0.180625 - q * q;
    double num = ((((((2509.0809287301226727 * r + 33430.575583588128105) * r +
                      67265.770927008700853) * r + 45921.953931549871457) * r +
                    13731.693765509461125) * r + 1971.5909503065514427) * r +
                  133.14166789178437745) * r + 3.387132872796366608;
    double den = ((((((5226.495278852854561 * r + 28729.085735721942674) * r +
                      39307.89580009271061) * r + 21213.794301586595867) * r +
                    5394.1960214247511077) * r + 687.1870074920579083) * r +
                  42.313330701600911252) * r + 1.0;
    return q * num / den;
}

static double ppnd16_tail(double r)
{
    double num, den;
    if (r <= 5.0) {
        r -= 1.6;
        num = ((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r +
                   0.24178072517745061177) * r + 1.27045825245236838258) * r +
                 3.64784832476320460504) * r + 5.7694972214606914055) * r +
               4.6303378461565452959) * r + 1.42343711074968357734;
        den = ((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r +
                   0.0151986665636164571966) * r + 0.14810397642748007459) * r +
                 0.68976733498510000455) * r + 1.6763848301838038494) * r +
               2.05319162663775882187) * r + 1.0;
    } else {
        r -= 5.0;
        num = ((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
                   0.0012426609473880784386) * r + 0.026532189526576123093) * r +
                 0.29656057182850489123) * r + 1.7848265399172913358) * r +
               5.4637849111641143699) * r + 6.6579046435011037772;
        den = ((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r +
                   1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
                 0.0148753612908506148525) * r + 0.13692988092273580531) * r +
               0.59983220655588793769) * r + 1.0;
    }
    return num / den;
}

double slm_norm_quantile(double p)
{
    if (!(p >= 0.0 && p <= 1.0))
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    double q = p - 0.5;
    if (fabs(q) <= 0.425)
        return ppnd16_central(q);
    double x = ppnd16_tail(sqrt(-log(q < 0 ? p : 1.0 - p)));
    return q < 0 ? -x : x;
}

/* Efron's acceleration from jackknife values: a = sum d^3 / (6 (sum d^2)^(3/2)), d = mean
 * - jack[i]; 0 when every jackknife value is the same. NaN when one is not finite. */
static double bca_acceleration(const double *jack, size_t nj)
{
    double mean = 0;
    for (size_t i = 0; i < nj; i++) {
        if (!isfinite(jack[i]))
            return NAN;
        mean += jack[i];
    }
    mean /= (double)nj;
    double s2 = 0, s3 = 0;
    for (size_t i = 0; i < nj; i++) {
        double d = mean - jack[i];
        s2 += d * d;
        s3 += d * d * d;
    }
    return s2 > 0 ? s3 / (6.0 * pow(s2, 1.5)) : 0.0;
}

/* The BCa-adjusted quantile q' for the nominal quantile q; NaN where the adjustment's
 * denominator 1 - a (z0 + z_q) is not positive (|a| far beyond any real statistic's). */
static double bca_quantile(double z0, double a, double q)
{
    double w = z0 + slm_norm_quantile(q);
    double den = 1.0 - a * w;
    return den > 0 ? slm_norm_cdf(z0 + w / den) : NAN;
}

int slm_bca_endpoints(double estimate, const double *reps, size_t m, const double *jack,
                      size_t nj, double level, double *lo, double *hi, double *z0_out,
                      double *a_out)
{
    set_nan(lo, hi, z0_out);
    if (a_out)
        *a_out = NAN;
    if (!isfinite(estimate) || m == 0 || nj == 0 || !(level > 0.0 && level < 1.0))
        return -1;
    double *v = sorted_finite(reps, m, &m);
    if (!v)
        return -1;
    double below = 0;
    for (size_t i = 0; i < m; i++)
        below += v[i] < estimate ? 1.0 : v[i] == estimate ? 0.5 : 0.0;
    double z0 = slm_norm_quantile(below / (double)m);
    double a = bca_acceleration(jack, nj);
    if (z0_out)
        *z0_out = z0;
    if (a_out)
        *a_out = a;
    double ql = NAN, qh = NAN;
    if (isfinite(z0) && isfinite(a)) {
        ql = bca_quantile(z0, a, (1.0 - level) / 2.0);
        qh = bca_quantile(z0, a, (1.0 + level) / 2.0);
    }
    /* the whole interval between the two outermost replicates of one side: m resamples
     * cannot place it (it would collapse onto the extreme replicate) */
    int ok = !isnan(ql) && !isnan(qh) && qh >= 1.0 / (double)m && ql <= 1.0 - 1.0 / (double)m;
    if (ok && lo)
        *lo = slm_percentile_sorted(v, m, 100.0 * ql);
    if (ok && hi)
        *hi = slm_percentile_sorted(v, m, 100.0 * qh);
    free(v);
    return ok ? 0 : -1;
}

/* stat on each leave-one-out subset of 0..n-1 (n >= 2), into a new array (caller frees). */
static double *jackknife(size_t n, slm_resample_stat stat, void *ud)
{
    size_t *idx = slm_xmalloc((n - 1) * sizeof *idx);
    double *jack = slm_xmalloc(n * sizeof *jack);
    for (size_t i = 0; i + 1 < n; i++)
        idx[i] = i + 1; /* 0 left out */
    jack[0] = stat(idx, n - 1, ud);
    for (size_t i = 1; i < n; i++) {
        idx[i - 1] = i - 1; /* put i - 1 back where i was: i left out */
        jack[i] = stat(idx, n - 1, ud);
    }
    free(idx);
    return jack;
}

int slm_bootstrap_bca(size_t n, slm_resample_stat stat, void *ud, int reps, uint64_t seed,
                      double level, double *lo, double *hi)
{
    set_nan(lo, hi, NULL);
    if (n < 2 || reps < 1 || !stat || !(level > 0.0 && level < 1.0))
        return -1;
    size_t *all = slm_xmalloc(n * sizeof *all);
    for (size_t i = 0; i < n; i++)
        all[i] = i;
    double est = stat(all, n, ud);
    free(all);
    size_t m;
    double *v = isfinite(est) ? bootstrap_replicates(n, stat, ud, reps, seed, &m) : NULL;
    if (!v)
        return -1;
    double *jack = jackknife(n, stat, ud);
    int rc = slm_bca_endpoints(est, v, m, jack, n, level, lo, hi, NULL, NULL);
    free(jack);
    free(v);
    return rc;
}

double slm_mcnemar_p(long b, long c, int *exact)
{
    if (exact)
        *exact = 0;
    if (b < 0 || c < 0)
        return NAN;
    long nn = b + c;
    if (nn < 25) {
        if (exact)
            *exact = 1;
        if (nn == 0)
            return 1.0;
        /* sum_{i <= min} C(nn, i) < 2^24: exact in integers, and 2*sum/2^nn is a single
         * correctly rounded division (exact, as 2^nn is a power of two). */
        long lo = b < c ? b : c;
        uint64_t binom = 1, sum = 0;
        for (long i = 0; i <= lo; i++) {
            sum += binom;
            binom = binom * (uint64_t)(nn - i) / (uint64_t)(i + 1);
        }
        double p = 2.0 * (double)sum / (double)(UINT64_C(1) << nn);
        return p > 1 ? 1.0 : p;
    }
    double d = fabs((double)b - (double)c) - 1.0;
    double x = d * d / (double)nn;
    return erfc(sqrt(x / 2.0));
}

/* The smallest gap d = |b - c|, of the parity of m, over the splits b + c = m whose
 * McNemar p is below alpha; -1 when none is. */
static long mcnemar_min_gap(long m, double alpha)
{
    long d = m % 2;
    if (m >= 25) {
        /* chi-square branch: p < alpha <=> (d - 1)^2 / m > z^2, z = the (1 - alpha/2)
         * normal quantile; start at the first d of m's parity above 1 + z sqrt(m) and
         * let slm_mcnemar_p() settle the boundary (rounding, and d = 0 having the p of
         * d = 2 under the uncorrected-at-0 rule of DESIGN §6). */
        double t = 1.0 + slm_norm_quantile(1.0 - alpha / 2.0) * sqrt((double)m);
        if (t > (double)m)
            t = (double)m;
        if (t > (double)d)
            d += 2 * (long)floor((t - (double)d) / 2.0);
        while (d - 2 >= 0 && slm_mcnemar_p((m + d - 2) / 2, (m - d + 2) / 2, NULL) < alpha)
            d -= 2;
    }
    while (d <= m && !(slm_mcnemar_p((m + d) / 2, (m - d) / 2, NULL) < alpha))
        d += 2;
    return d <= m ? d : -1;
}

double slm_mcnemar_needed_pt(long n, long m, double alpha)
{
    if (n < 1 || m < 0 || m > n || !(alpha > 0.0 && alpha < 1.0))
        return NAN;
    long d = mcnemar_min_gap(m, alpha);
    return d < 0 ? INFINITY : 100.0 * (double)d / (double)n;
}

typedef struct p_idx {
    double p;
    size_t idx;
} p_idx;

static int cmp_p_idx(const void *a, const void *b)
{
    const p_idx *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

void slm_holm(const double *p, size_t m, double *adjusted)
{
    if (m == 0)
        return;
    for (size_t i = 0; i < m; i++) {
        if (isnan(p[i])) {
            for (size_t j = 0; j < m; j++)
                adjusted[j] = NAN;
            return;
        }
    }
    p_idx *s = slm_xmalloc(m * sizeof *s);
    for (size_t i = 0; i < m; i++) {
        s[i].p = p[i];
        s[i].idx = i;
    }
    qsort(s, m, sizeof *s, cmp_p_idx);
    double run = 0;
    for (size_t j = 0; j < m; j++) {
        double v = (double)(m - j) * s[j].p;
        if (v > run)
            run = v;
        adjusted[s[j].idx] = run > 1 ? 1.0 : run; /* p was copied, so aliasing is fine */
    }
    free(s);
}

/* ---- temperature scaling ------------------------------------------------------------- */

/* Mean NLL of softmax(logits/T) with T = exp(t); logits already validated. */
static double temp_nll(const double *logits, const int *gold, size_t n, size_t k, double t)
{
    double inv = exp(-t), total = 0;
    for (size_t i = 0; i < n; i++) {
        const double *row = logits + i * k;
        double mx = -INFINITY;
        for (size_t j = 0; j < k; j++)
            if (row[j] > mx)
                mx = row[j];
        double sum = 0;
        for (size_t j = 0; j < k; j++)
            sum += exp((row[j] - mx) * inv); /* -inf → 0; the max term is 1 */
        total += log(sum) - (row[gold[i]] - mx) * inv;
    }
    return total / (double)n;
}

double slm_fit_temperature(const double *logits, const int *gold, size_t n, size_t k)
{
    if (n == 0 || k == 0)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        if (gold[i] < 0 || (size_t)gold[i] >= k)
            return NAN;
        for (size_t j = 0; j < k; j++)
            if (isnan(logits[i * k + j]) || logits[i * k + j] == INFINITY)
                return NAN;
        if (logits[i * k + (size_t)gold[i]] == -INFINITY)
            return NAN;
    }
    enum { HALF = 40 };
    const double tmax = log(100.0), step = tmax / HALF;
    double best = INFINITY, worst = -INFINITY;
    int ib = 0;
    for (int g = -HALF; g <= HALF; g++) {
        double v = temp_nll(logits, gold, n, k, g * step);
        if (v < best) {
            best = v;
            ib = g;
        }
        if (v > worst)
            worst = v;
    }
    if (best == worst)
        return 1.0;
    double a = (ib > -HALF ? ib - 1 : ib) * step, b = (ib < HALF ? ib + 1 : ib) * step;
    const double invphi = (sqrt(5.0) - 1.0) / 2.0;
    double x1 = b - invphi * (b - a), x2 = a + invphi * (b - a);
    double f1 = temp_nll(logits, gold, n, k, x1), f2 = temp_nll(logits, gold, n, k, x2);
    for (int it = 0; it < 200 && b - a > 1e-10; it++) {
        if (f1 <= f2) {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - invphi * (b - a);
            f1 = temp_nll(logits, gold, n, k, x1);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + invphi * (b - a);
            f2 = temp_nll(logits, gold, n, k, x2);
        }
    }
    /* The grid point may still beat the interior (flat or bound optimum): keep the best. */
    double t = (a + b) / 2, ft = temp_nll(logits, gold, n, k, t);
    if (best < ft)
        t = ib * step;
    if (t < -tmax)
        t = -tmax;
    if (t > tmax)
        t = tmax;
    return exp(t);
}

void slm_apply_temperature(const double *logits, size_t n, size_t k, double T,
                           double *probs)
{
    int bad = !(T > 0.0 && T < INFINITY);
    for (size_t i = 0; i < n; i++) {
        double *row = probs + i * k;
        for (size_t j = 0; j < k; j++)
            row[j] = bad ? NAN : logits[i * k + j] / T;
        if (!bad)
            slm_softmax(row, k, row);
    }
}

/* ---- incomplete gamma, chi-square ----------------------------------------------------- */

#define GAMMA_EPS 1e-15
#define GAMMA_ITMAX 10000

double slm_gamma_q(double a, double x)
{
    if (isnan(a) || isnan(x) || a <= 0 || x < 0)
        return NAN;
    if (x == 0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    double lpre = a * log(x) - x - lgamma(a); /* ln(x^a e^-x / Gamma(a)) */
    if (x < a + 1.0) {
        /* P(a, x) = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n)) */
        double ap = a, term = 1.0 / a, sum = term;
        for (int n = 0; n < GAMMA_ITMAX; n++) {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if (fabs(term) < fabs(sum) * GAMMA_EPS)
                break;
        }
        double p = sum * exp(lpre);
        return p >= 1.0 ? 0.0 : 1.0 - p;
    }
    /* Q(a, x) = x^a e^-x / Gamma(a) * 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...))) */
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < GAMMA_ITMAX; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < GAMMA_EPS)
            break;
    }
    return exp(lpre) * h;
}

double slm_chi2_sf(double x, double df)
{
    if (isnan(x) || isnan(df) || df <= 0)
        return NAN;
    if (x <= 0)
        return 1.0;
    return slm_gamma_q(df / 2.0, x / 2.0);
}
