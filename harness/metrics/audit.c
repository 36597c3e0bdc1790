/* audit.c — drawing the audit sample and estimating accuracy from it (audit.h). */
#include "audit.h"

#include "metrics.h" /* slm_rng */
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *slm_audit_design_name(slm_audit_design d)
{
    return d == SLM_AD_STRATIFIED ? "stratified" : d == SLM_AD_POISSON ? "poisson" : "srs";
}

/* Proportional allocation of n over the strata sizes nh[0..k) (total N) by largest
 * remainders, then at least min(2, N_h), at most N_h. */
static void allocate(const long *nh, size_t k, long N, long n, long *alloc)
{
    double *rem = slm_xcalloc(k ? k : 1, sizeof *rem);
    long given = 0;
    for (size_t h = 0; h < k; h++) {
        double q = (double)n * (double)nh[h] / (double)N;
        alloc[h] = (long)floor(q);
        rem[h] = q - floor(q);
        given += alloc[h];
    }
    for (; given < n; given++) { /* the largest remainder first; ties: the first stratum */
        size_t best = 0;
        for (size_t h = 1; h < k; h++)
            if (rem[h] > rem[best])
                best = h;
        alloc[best]++;
        rem[best] = -1;
    }
    for (size_t h = 0; h < k; h++) {
        long lo = nh[h] < 2 ? nh[h] : 2;
        alloc[h] = alloc[h] < lo ? lo : alloc[h] > nh[h] ? nh[h] : alloc[h];
    }
    free(rem);
}

/* SRS of need[h] rows in each stratum h (one stratum for plain SRS) by selection
 * sampling: row i of stratum h is drawn with probability need_left/rows_left. */
static size_t draw_strata(size_t N, const int *stratum, size_t k, const long *nh,
                          const long *need, slm_rng *r, double *pi, unsigned char *chosen)
{
    long *left = slm_xmalloc(k * sizeof *left), *want = slm_xmalloc(k * sizeof *want);
    memcpy(left, nh, k * sizeof *left);
    memcpy(want, need, k * sizeof *want);
    size_t got = 0;
    for (size_t i = 0; i < N; i++) {
        size_t h = stratum ? (size_t)stratum[i] : 0;
        pi[i] = (double)need[h] / (double)nh[h];
        chosen[i] = (long)slm_rng_below(r, (uint64_t)left[h]) < want[h];
        want[h] -= chosen[i];
        left[h]--;
        got += chosen[i];
    }
    free(left), free(want);
    return got;
}

/* pi_i = min(1, c size_i) with sum pi = min(n, N): the rows that reach 1 are fixed at 1
 * and c is found again for the others, until none is above 1. */
static void poisson_pi(size_t N, const double *size, long n, double *pi)
{
    unsigned char *cap = slm_xcalloc(N ? N : 1, 1);
    for (int changed = 1; changed;) {
        double sum = 0;
        long fixed = 0;
        for (size_t i = 0; i < N; i++)
            cap[i] ? (void)fixed++ : (void)(sum += size[i]);
        double c = sum > 0 ? (double)(n - fixed) / sum : 0;
        changed = 0;
        for (size_t i = 0; i < N; i++) {
            pi[i] = cap[i] ? 1.0 : c * size[i];
            if (!cap[i] && pi[i] >= 1.0)
                cap[i] = 1, changed = 1;
        }
    }
    free(cap);
}

size_t slm_audit_draw(size_t N, slm_audit_design d, const int *stratum, size_t k,
                      const double *size, long n, uint64_t seed, double *pi,
                      unsigned char *chosen)
{
    slm_rng r;
    slm_rng_seed(&r, seed);
    if (n >= (long)N) {
        for (size_t i = 0; i < N; i++)
            pi[i] = 1.0, chosen[i] = 1;
        return N;
    }
    if (d == SLM_AD_POISSON) {
        size_t got = 0;
        poisson_pi(N, size, n, pi);
        for (size_t i = 0; i < N; i++) {
            double u = (double)(slm_rng_u64(&r) >> 11) * 0x1p-53;
            chosen[i] = u < pi[i];
            got += chosen[i];
        }
        return got;
    }
    if (d == SLM_AD_SRS)
        stratum = NULL, k = 1;
    long *nh = slm_xcalloc(k, sizeof *nh), *need = slm_xcalloc(k, sizeof *need);
    for (size_t i = 0; i < N; i++)
        nh[stratum ? stratum[i] : 0]++;
    if (stratum)
        allocate(nh, k, (long)N, n, need);
    else
        need[0] = n;
    size_t got = draw_strata(N, stratum, k, nh, need, &r, pi, chosen);
    free(nh), free(need);
    return got;
}

/* The stratified estimator: strata are runs of equal stratum[] values (any order). */
static void est_strata(const int *y, const int *stratum, const long *nh, size_t n, long N,
                       slm_audit_est *o)
{
    unsigned char *done = slm_xcalloc(n, 1);
    double est = 0, var = 0;
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        double s = 0, ss = 0;
        long m = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && stratum[j] == stratum[i])
                done[j] = 1, s += y[j], ss += (double)y[j] * y[j], m++;
        double w = (double)nh[i] / (double)N, mean = s / (double)m;
        double s2 = m > 1 ? (ss - (double)m * mean * mean) / (double)(m - 1)
                          : m == nh[i] ? 0.0 : NAN;
        est += w * mean;
        var += w * w * (1.0 - (double)m / (double)nh[i]) * s2 / (double)m;
    }
    free(done);
    o->est = est;
    o->se = sqrt(var);
}

int slm_audit_estimate(slm_audit_design d, const int *y, const double *pi, const int *stratum,
                       const long *stratum_size, size_t n, long N, slm_audit_est *out)
{
    out->est = out->se = out->lo = out->hi = NAN;
    out->n = (long)n;
    out->right = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(pi[i] > 0 && pi[i] <= 1) || stratum_size[i] < 1 || N < 1)
            return -1;
        out->right += y[i] != 0;
    }
    if (!n)
        return 0;
    if (d == SLM_AD_POISSON) {
        double t = 0, v = 0;
        for (size_t i = 0; i < n; i++)
            t += y[i] / pi[i], v += (1.0 - pi[i]) * y[i] / (pi[i] * pi[i]);
        out->est = t / (double)N;
        out->se = sqrt(v) / (double)N;
    } else {
        est_strata(y, stratum, stratum_size, n, N, out);
    }
    if (isfinite(out->se)) {
        out->lo = fmax(0.0, out->est - 1.959963984540054 * out->se);
        out->hi = fmin(1.0, out->est + 1.959963984540054 * out->se);
    }
    return 0;
}
