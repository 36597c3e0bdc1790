/*
 * prodstats.c — the pieces of the production review (prodstats.h): PSI, Jensen–Shannon
 * distance, the two-sample KS test, CBPE and the calibrated probabilities. The review
 * that combines them into a verdict is prodreview.c.
 */
#include "prodstats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

double slm_psi(const long *ca, const long *cb, size_t k, double *contrib)
{
    double na = 0, nb = 0, kept = 0;
    for (size_t i = 0; i < k; i++) {
        if (contrib)
            contrib[i] = 0;
        if (ca[i] + cb[i] > 0)
            na += (double)ca[i], nb += (double)cb[i], kept++;
    }
    if (na <= 0 || nb <= 0)
        return NAN;
    double psi = 0;
    for (size_t i = 0; i < k; i++) {
        if (ca[i] + cb[i] <= 0)
            continue;
        double a = ((double)ca[i] + 0.5) / (na + 0.5 * kept);
        double b = ((double)cb[i] + 0.5) / (nb + 0.5 * kept);
        double t = (b - a) * log(b / a);
        if (contrib)
            contrib[i] = t;
        psi += t;
    }
    return psi;
}

static double xlog2x(double x)
{
    return x > 0 ? x * log2(x) : 0;
}

double slm_js_distance(const long *ca, const long *cb, size_t k)
{
    double na = 0, nb = 0;
    for (size_t i = 0; i < k; i++)
        na += (double)ca[i], nb += (double)cb[i];
    if (na <= 0 || nb <= 0)
        return NAN;
    double jsd = 0;
    for (size_t i = 0; i < k; i++) {
        double a = (double)ca[i] / na, b = (double)cb[i] / nb, m = (a + b) / 2;
        jsd += (xlog2x(a) + xlog2x(b)) / 2 - xlog2x(m);
    }
    jsd = jsd < 0 ? 0 : jsd > 1 ? 1 : jsd; /* rounding only */
    return sqrt(jsd);
}

/* ---- Kolmogorov–Smirnov ------------------------------------------------------------ */

double slm_kolmogorov_q(double l)
{
    if (isnan(l))
        return NAN;
    if (l <= 0)
        return 1;
    double s = 0;
    if (l < 1.18) {
        double f = -M_PI * M_PI / (8 * l * l);
        for (int j = 1; j <= 40; j++)
            s += exp(f * (2 * j - 1) * (2 * j - 1));
        double q = 1 - sqrt(2 * M_PI) / l * s;
        return q < 0 ? 0 : q > 1 ? 1 : q;
    }
    for (int j = 1; j <= 100; j++) {
        double t = exp(-2.0 * j * j * l * l);
        s += (j % 2 ? t : -t);
        if (t < 1e-300)
            break;
    }
    double q = 2 * s;
    return q < 0 ? 0 : q > 1 ? 1 : q;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The order-preserving integer key of a finite double (negative values flipped whole,
 * positive ones with the sign bit set), so unsigned order is numeric order (-0 < +0,
 * which no count distinguishes: they tie as values and sit next to each other). */
static uint64_t dkey(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

/* Sorts x[0..n) of finite doubles ascending: an LSD radix sort on dkey, 8 passes of 8
 * bits (a month holds up to millions of values; qsort's comparisons cost more). */
static void sort_doubles(double *x, size_t n)
{
    if (n < 256) {
        qsort(x, n, sizeof *x, cmp_double);
        return;
    }
    double *tmp = slm_xmalloc(n * sizeof *tmp), *from = x, *to = tmp;
    for (int pass = 0; pass < 8; pass++) {
        size_t count[257] = {0};
        int sh = 8 * pass;
        for (size_t i = 0; i < n; i++)
            count[((dkey(from[i]) >> sh) & 0xff) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            to[count[(dkey(from[i]) >> sh) & 0xff]++] = from[i];
        double *t = from;
        from = to, to = t;
    }
    free(tmp); /* 8 passes: the result is back in x */
}

/* The finite values of x[0..n), sorted, into a new array; *m their count. */
static double *sorted_finite(const double *x, size_t n, size_t *m)
{
    double *s = slm_xmalloc((n ? n : 1) * sizeof *s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            s[k++] = x[i];
    sort_doubles(s, k);
    *m = k;
    return s;
}

int slm_ks2(const double *a, size_t na, const double *b, size_t nb, slm_prod_ks *out)
{
    size_t ma, mb;
    double *sa = sorted_finite(a, na, &ma), *sb = sorted_finite(b, nb, &mb);
    out->n_a = (long)ma, out->n_b = (long)mb;
    out->d = out->p = NAN;
    int rc = -1;
    if (ma && mb) {
        size_t i = 0, j = 0;
        double d = 0;
        while (i < ma && j < mb) {
            double v = sa[i] < sb[j] ? sa[i] : sb[j];
            while (i < ma && sa[i] == v)
                i++;
            while (j < mb && sb[j] == v)
                j++;
            double g = fabs((double)i / (double)ma - (double)j / (double)mb);
            d = g > d ? g : d;
        }
        double ne = (double)ma * (double)mb / (double)(ma + mb), sq = sqrt(ne);
        out->d = d;
        out->p = slm_kolmogorov_q((sq + 0.12 + 0.11 / sq) * d);
        rc = 0;
    }
    free(sa), free(sb);
    return rc;
}

/* ---- CBPE ------------------------------------------------------------------------ */

long slm_cbpe(const double *p, size_t n, double *est, double *sd, double *se_mean)
{
    double s = 0, v = 0;
    long m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(p[i]))
            s += p[i], v += p[i] * (1 - p[i]), m++;
    *est = *sd = *se_mean = NAN;
    if (!m)
        return 0;
    double mean = s / (double)m, ss = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(p[i]))
            ss += (p[i] - mean) * (p[i] - mean);
    *est = mean;
    *sd = sqrt(v) / (double)m;
    *se_mean = m > 1 ? sqrt(ss / (double)(m - 1) / (double)m) : NAN;
    return m;
}

int slm_prod_calibrated(const slm_prod_sample *s, double temperature, double *p)
{
    int cal = s->probs && isfinite(temperature) && temperature > 0;
    size_t k = s->n_labels;
    double *row = cal ? slm_xmalloc(k * sizeof *row) : NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (s->pred[i] < 0 || (size_t)s->pred[i] >= k) {
            p[i] = 0; /* an answer outside the label set is always wrong */
            continue;
        }
        if (!cal) {
            p[i] = s->conf ? s->conf[i] : NAN;
            continue;
        }
        for (size_t j = 0; j < k; j++)
            row[j] = log(s->probs[i * k + j]);
        slm_apply_temperature(row, 1, k, temperature, row);
        p[i] = row[s->pred[i]];
    }
    free(row);
    return cal;
}
