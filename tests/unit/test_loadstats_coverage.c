/*
 * test_loadstats_coverage.c — the coverage of slm_load_percentile_ci()'s 95% intervals
 * (seeded bootstrap, with the rule that leaves a bound NaN where no order statistic of the
 * sample could give it) checked by simulation beside the exact distribution-free interval.
 *
 * Latencies are lognormal (mu 0, sigma 1: the true q-quantile is exp(z_q)), drawn by this
 * file's own generator (splitmix64 + Box-Muller, not the library's), n = 50, 200, 1000, 300
 * seeds each, for p50, p90 and p99. The exact interval is [X(l), X(u)] (1-based order
 * statistics), B ~ Bin(n, q): l the largest with P(B <= l-1) <= 0.025, u the smallest with
 * P(B <= u-1) >= 0.975; l = 0 or u = n+1 is an undefined (infinite) bound, which covers.
 * Its ranks are computed here from lgamma and pinned against constants of an exact-
 * rational Python computation (fractions.Fraction and math.comb over the binomial pmf;
 * tests/unit/test_loadstats_ref.py), with its exact coverage.
 *
 * Asserted: the bootstrap's bound is NaN exactly where the exact interval's is undefined
 * (the rule), the exact interval covers at least 0.95 - 3 SE (it must: >= 0.95 in theory),
 * and the bootstrap covers within [0.89, 1.0] — 0.95 less 3 standard errors of a 300-seed
 * estimate (0.0126 each) and a little for the percentile bootstrap's known small-sample
 * undercoverage of quantiles. The coverages are printed; on 2026-12-06 (500 replicates):
 * bootstrap 0.937/0.937/0.997 (n=50: p50/p90/p99, the p99 one-sided), 0.960/0.943/1.000
 * (n=200), 0.950/0.920/0.930 (n=1000) against exact 0.953/0.977/0.987, 0.967/0.970/0.993,
 * 0.973/0.943/0.973: the bootstrap is narrower in the tails and a little under 95% there.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "loadstats.h"
#include "metrics.h"

#define SEEDS 300
#define REPS 500

/* this test's own generator: splitmix64 */
static uint64_t sm64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
    return ((double)(sm64(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double lognormal(uint64_t *s)
{
    double u1 = unif(s), u2 = unif(s);
    return exp(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

/* P(Bin(n, q) <= k) by summing the pmf from lgamma */
static double binom_cdf(int n, double q, int k)
{
    double c = 0;
    for (int b = 0; b <= k; b++)
        c += exp(lgamma(n + 1.0) - lgamma(b + 1.0) - lgamma(n - b + 1.0) + b * log(q) +
                 (n - b) * log1p(-q));
    return c;
}

static void exact_ranks(int n, double q, int *l, int *u)
{
    *l = 0;
    *u = n + 1;
    for (int c = 1; c <= n; c++)
        if (binom_cdf(n, q, c - 1) <= 0.025 * (1 + 1e-12))
            *l = c;
    for (int c = n; c >= 1; c--)
        if (binom_cdf(n, q, c - 1) >= 0.975 * (1 - 1e-12))
            *u = c;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void coverage(void **state)
{
    (void)state;
    static const int ns[3] = {50, 200, 1000};
    static const double qs[3] = {0.5, 0.9, 0.99};
    /* l, u and the exact coverage from the Python script (exact rationals) */
    static const int ref_l[3][3] = {{18, 41, 48}, {86, 171, 195}, {469, 881, 983}};
    static const int ref_u[3][3] = {{33, 50, 51}, {115, 189, 201}, {532, 919, 997}};
    static const double ref_cov[3][3] = {{0.9671608624357315, 0.9703082890880884,
                                          0.9861827291693996},
                                         {0.9599628083866005, 0.9668839008979295,
                                          0.9839770930908225},
                                         {0.9537088026395019, 0.9549071811148258,
                                          0.9760947634979771}};
    double *x = malloc(1000 * sizeof *x), *sorted = malloc(1000 * sizeof *sorted);
    assert_non_null(x);
    assert_non_null(sorted);
    for (int a = 0; a < 3; a++) {
        int n = ns[a];
        int l[3], u[3], boot[3] = {0}, exact[3] = {0}, lo_nan[3] = {0}, hi_nan[3] = {0};
        double width_b[3] = {0}, width_e[3] = {0};
        int n_width[3] = {0};
        for (int b = 0; b < 3; b++) {
            exact_ranks(n, qs[b], &l[b], &u[b]);
            assert_int_equal(l[b], ref_l[a][b]);
            assert_int_equal(u[b], ref_u[a][b]);
            double cov = binom_cdf(n, qs[b], u[b] - 1) - (l[b] ? binom_cdf(n, qs[b], l[b] - 1) : 0);
            assert_true(fabs(cov - ref_cov[a][b]) < 1e-9);
        }
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            uint64_t s = seed * 1000003u + (uint64_t)n;
            for (int i = 0; i < n; i++)
                sorted[i] = x[i] = lognormal(&s);
            qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
            for (int b = 0; b < 3; b++) {
                double truth = exp(slm_norm_quantile(qs[b]));
                slm_pct_ci ci;
                assert_int_equal(slm_load_percentile_ci(x, (size_t)n, 100 * qs[b], REPS, seed, &ci), 0);
                assert_int_equal(ci.n, n);
                assert_true(isnan(ci.lo) == (l[b] == 0));
                assert_true(isnan(ci.hi) == (u[b] == n + 1));
                lo_nan[b] += isnan(ci.lo);
                hi_nan[b] += isnan(ci.hi);
                boot[b] += (isnan(ci.lo) || ci.lo <= truth) && (isnan(ci.hi) || truth <= ci.hi);
                double elo = l[b] ? sorted[l[b] - 1] : -INFINITY;
                double ehi = u[b] <= n ? sorted[u[b] - 1] : INFINITY;
                exact[b] += elo <= truth && truth <= ehi;
                if (!isnan(ci.lo) && !isnan(ci.hi) && isfinite(elo) && isfinite(ehi)) {
                    width_b[b] += ci.hi - ci.lo;
                    width_e[b] += ehi - elo;
                    n_width[b]++;
                }
            }
        }
        for (int b = 0; b < 3; b++) {
            double cb = (double)boot[b] / SEEDS, ce = (double)exact[b] / SEEDS;
            printf("# n=%4d p%-2.0f bootstrap %.3f, exact %.3f (theory %.3f); NaN lo %d hi %d;"
                   " mean width bootstrap %.3f exact %.3f\n",
                   n, 100 * qs[b], cb, ce, ref_cov[a][b], lo_nan[b], hi_nan[b],
                   n_width[b] ? width_b[b] / n_width[b] : NAN,
                   n_width[b] ? width_e[b] / n_width[b] : NAN);
            assert_true(ce >= 0.95 - 3 * 0.0126);
            assert_true(cb >= 0.89 && cb <= 1.0);
        }
    }
    free(x);
    free(sorted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
