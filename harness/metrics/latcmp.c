/* latcmp.c — see latcmp.h. */
#include "latcmp.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

/* ln P(Bin(n, ½) = j) */
static double log_binom_half(size_t n, size_t j)
{
    return lgamma((double)n + 1) - lgamma((double)j + 1) - lgamma((double)(n - j) + 1) -
           (double)n * log(2.0);
}

size_t slm_sign_ci_rank(size_t nb, double level)
{
    double tail = (1.0 - level) / 2.0, cdf = 0;
    size_t k = 0;
    /* cdf = P(X <= k) after the step; k + 1 is admissible while P(X <= k) <= tail */
    for (size_t j = 0; j <= nb / 2; j++) {
        cdf += exp(log_binom_half(nb, j));
        if (cdf > tail * (1 + 1e-12))
            break;
        k = j + 1;
    }
    return k;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static int usable(double v)
{
    return v > 0 && isfinite(v);
}

/* Fills out from nb block statistics (log scale), sorting them. */
static void summarise(double *r, size_t nb, size_t n_pairs, double level, slm_lat_ratio *out)
{
    out->n_pairs = n_pairs;
    out->n_blocks = nb;
    out->level = level;
    out->ratio = out->lo = out->hi = NAN;
    if (!nb)
        return;
    qsort(r, nb, sizeof *r, cmp_double);
    double med = nb % 2 ? r[nb / 2] : (r[nb / 2 - 1] + r[nb / 2]) / 2;
    out->ratio = exp(med);
    size_t k = slm_sign_ci_rank(nb, level);
    if (k) {
        out->lo = exp(r[k - 1]);
        out->hi = exp(r[nb - k]);
    }
}

void slm_lat_ratio_paired(const double *a, const double *b, size_t n, size_t block,
                          double level, slm_lat_ratio *out)
{
    if (block < 1)
        block = 1;
    double *r = slm_xmalloc((n / block + 1) * sizeof *r);
    size_t nb = 0, pairs = 0;
    for (size_t from = 0; from < n; from += block) {
        double sa = 0, sb = 0;
        size_t m = 0;
        for (size_t i = from; i < from + block && i < n; i++)
            if (usable(a[i]) && usable(b[i])) {
                sa += a[i];
                sb += b[i];
                m++;
            }
        if (m) {
            r[nb++] = log(sa / sb);
            pairs += m;
        }
    }
    summarise(r, nb, pairs, level, out);
    free(r);
}

void slm_lat_ratio_normalised(const double *a1, const double *r1, const double *a2,
                              const double *r2, size_t n, size_t block, double level,
                              slm_lat_ratio *out)
{
    if (block < 1)
        block = 1;
    double *r = slm_xmalloc((n / block + 1) * sizeof *r);
    size_t nb = 0, pairs = 0;
    for (size_t from = 0; from < n; from += block) {
        double s[4] = {0, 0, 0, 0};
        size_t m = 0;
        for (size_t i = from; i < from + block && i < n; i++)
            if (usable(a1[i]) && usable(r1[i]) && usable(a2[i]) && usable(r2[i])) {
                s[0] += a1[i];
                s[1] += r1[i];
                s[2] += a2[i];
                s[3] += r2[i];
                m++;
            }
        if (m) {
            r[nb++] = log(s[0] / s[1]) - log(s[2] / s[3]);
            pairs += m;
        }
    }
    summarise(r, nb, pairs, level, out);
    free(r);
}
