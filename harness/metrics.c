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
        out->precision[c] = ratio0(tp, tp + fp);
        out->recall[c] = ratio0(tp, tp + fn);
        out->f1[c] = ratio0(2 * tp, 2 * tp + fp + fn);
        out->present[c] = out->support[c] > 0 || out->pred_count[c] > 0;
        sum_tp += tp;
        sum_fp += fp;
        sum_fn += fn;
        if (out->present[c]) {
            macro += out->f1[c];
            n_present++;
        }
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
    double sum = 0;
    for (size_t j = 0; j < k; j++) {
        p[j] = exp(logprob[j] - mx); /* exp(-inf) = 0; the max gives 1, so sum >= 1 */
        sum += p[j];
    }
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

static int cmp_conf_idx(const void *a, const void *b)
{
    const conf_idx *x = a, *y = b;
    if (x->conf != y->conf)
        return x->conf < y->conf ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

double slm_ece(const double *conf, const unsigned char *correct, size_t n, int n_bins,
               int equal_mass, double *mce, long *bin_count, double *bin_conf,
               double *bin_acc)
{
    if (mce)
        *mce = NAN;
    if (n_bins >= 1) {
        for (int m = 0; m < n_bins; m++) {
            if (bin_count)
                bin_count[m] = 0;
            if (bin_conf)
                bin_conf[m] = NAN;
            if (bin_acc)
                bin_acc[m] = NAN;
        }
    }
    if (n == 0 || n_bins < 1)
        return NAN;
    if (equal_mass && n > SIZE_MAX / (size_t)n_bins)
        return NAN; /* b*n below would overflow; far beyond any eval set */
    for (size_t i = 0; i < n; i++)
        if (!(conf[i] >= 0.0 && conf[i] <= 1.0))
            return NAN;

    size_t B = (size_t)n_bins;
    size_t *cnt = slm_xcalloc(B, sizeof *cnt);
    double *sconf = slm_xcalloc(B, sizeof *sconf);
    size_t *scorr = slm_xcalloc(B, sizeof *scorr);

    if (!equal_mass) {
        for (size_t i = 0; i < n; i++) {
            size_t m = (size_t)slm_ece_bin(conf[i], n_bins) - 1;
            cnt[m]++;
            sconf[m] += conf[i];
            scorr[m] += correct[i] != 0;
        }
    } else {
        conf_idx *s = slm_xmalloc(n * sizeof *s);
        for (size_t i = 0; i < n; i++) {
            s[i].conf = conf[i];
            s[i].idx = i;
        }
        qsort(s, n, sizeof *s, cmp_conf_idx);
        for (size_t b = 0; b < B; b++) {
            size_t lo = b * n / B, hi = (b + 1) * n / B;
            for (size_t j = lo; j < hi; j++) {
                cnt[b]++;
                sconf[b] += s[j].conf;
                scorr[b] += correct[s[j].idx] != 0;
            }
        }
        free(s);
    }

    double ece = 0, worst = 0;
    for (size_t m = 0; m < B; m++) {
        if (bin_count)
            bin_count[m] = (long)cnt[m];
        if (cnt[m] == 0)
            continue;
        double cm = sconf[m] / (double)cnt[m];
        double am = (double)scorr[m] / (double)cnt[m];
        double gap = fabs(am - cm);
        if (bin_conf)
            bin_conf[m] = cm;
        if (bin_acc)
            bin_acc[m] = am;
        ece += (double)cnt[m] / (double)n * gap;
        if (gap > worst)
            worst = gap;
    }
    if (mce)
        *mce = worst;
    free(scorr);
    free(sconf);
    free(cnt);
    return ece;
}
