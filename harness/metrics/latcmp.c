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

/* The per-block statistics of nv (2 or 4) aligned series into r (at least n / block + 1):
 * over the examples of a block where every series has a latency, ln(Σv0 / Σv1), minus
 * ln(Σv2 / Σv3) when there are four. Returns the blocks; *pairs the examples used. */
static size_t block_logs(const double *const *v, int nv, size_t n, size_t block, double *r,
                         size_t *pairs)
{
    size_t nb = 0;
    *pairs = 0;
    for (size_t from = 0; from < n; from += block) {
        double sum[4] = {0, 0, 0, 0};
        size_t m = 0;
        for (size_t i = from; i < from + block && i < n; i++) {
            int all = 1;
            for (int k = 0; k < nv; k++)
                all &= usable(v[k][i]);
            if (!all)
                continue;
            for (int k = 0; k < nv; k++)
                sum[k] += v[k][i];
            m++;
        }
        if (!m)
            continue;
        r[nb++] = log(sum[0] / sum[1]) - (nv == 4 ? log(sum[2] / sum[3]) : 0.0);
        *pairs += m;
    }
    return nb;
}

static void ratio_of(const double *const *v, int nv, size_t n, size_t block, double level,
                     slm_lat_ratio *out)
{
    if (block < 1)
        block = 1;
    double *r = slm_xmalloc((n / block + 1) * sizeof *r);
    size_t pairs, nb = block_logs(v, nv, n, block, r, &pairs);
    summarise(r, nb, pairs, level, out);
    free(r);
}

void slm_lat_ratio_paired(const double *a, const double *b, size_t n, size_t block,
                          double level, slm_lat_ratio *out)
{
    const double *v[2] = {a, b};
    ratio_of(v, 2, n, block, level, out);
}

void slm_lat_ratio_normalised(const double *a1, const double *r1, const double *a2,
                              const double *r2, size_t n, size_t block, double level,
                              slm_lat_ratio *out)
{
    const double *v[4] = {a1, r1, a2, r2};
    ratio_of(v, 4, n, block, level, out);
}
