/*
 * test_bench_stats.c — the statistics of the interleaved benchmarks (bench/perf/
 * ratio_stats.h): the median against numpy's definition, and the percentile-bootstrap
 * interval of a median against the exact bootstrap distribution of a median, worked out
 * here independently: for n distinct values (n odd), a resample's median is at most the
 * k-th smallest x_(k) exactly when at least (n+1)/2 of the n draws are at most x_(k), so
 * P(median* <= x_(k)) = P(Binomial(n, k/n) >= (n+1)/2). The 2.5% and 97.5% quantiles of
 * 2000 resamples must then be the order statistics where that distribution crosses 0.025
 * and 0.975 (for n = 11 the crossings are far from both levels: 0.0072 -> 0.0512 and
 * 0.9488 -> 0.9928, tens of Monte Carlo standard errors, so any seed lands there).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "../../bench/perf/ratio_stats.h"

static void median_is_numpys(void **state)
{
    (void)state;
    double odd[] = {5, 1, 3}, even[] = {4, 1, 3, 2}, one[] = {7};
    assert_true(rs_median_inplace(odd, 3) == 3);
    assert_true(rs_median_inplace(even, 4) == 2.5);
    assert_true(rs_median_inplace(one, 1) == 7);
    assert_true(isnan(rs_median_inplace(one, 0)));
    double q[] = {1, 2, 3, 4, 5};
    /* numpy.quantile([1,2,3,4,5], 0.1) = 1.4, 0.975 -> 4.9 */
    assert_true(fabs(rs_quantile_sorted(q, 5, 0.1) - 1.4) < 1e-12);
    assert_true(fabs(rs_quantile_sorted(q, 5, 0.975) - 4.9) < 1e-12);
}

/* P(Binomial(n, p) >= m), summed directly. */
static double binom_tail(int n, double p, int m)
{
    double s = 0;
    for (int j = m; j <= n; j++)
        s += exp(lgamma(n + 1.0) - lgamma(j + 1.0) - lgamma(n - j + 1.0)) * pow(p, j) *
             pow(1 - p, n - j);
    return s;
}

static void bootstrap_matches_exact_distribution(void **state)
{
    (void)state;
    enum { N = 11 };
    /* distinct values, not in order */
    double x[N] = {0.93, 1.08, 1.01, 0.97, 1.12, 0.99, 1.04, 0.95, 1.02, 1.10, 0.98};
    double sorted[N];
    for (int i = 0; i < N; i++)
        sorted[i] = x[i];
    rs_median_inplace(sorted, N);
    int k_lo = 0, k_hi = 0; /* 1-based: the first k whose CDF reaches 0.025, 0.975 */
    for (int k = N; k >= 1; k--) {
        double f = binom_tail(N, (double)k / N, (N + 1) / 2);
        if (f >= 0.025)
            k_lo = k;
        if (f >= 0.975)
            k_hi = k;
    }
    assert_int_equal(k_lo, 3);
    assert_int_equal(k_hi, 9);
    for (uint64_t seed = 1; seed <= 5; seed++) {
        rs_summary s;
        assert_int_equal(rs_bootstrap_median(x, N, 2000, seed, &s), 0);
        assert_int_equal(s.n, N);
        assert_true(s.median == sorted[N / 2]);
        assert_true(s.lo == sorted[k_lo - 1]);
        assert_true(s.hi == sorted[k_hi - 1]);
    }
    /* the input is left as given */
    assert_true(x[0] == 0.93 && x[N - 1] == 0.98);
}

static void bootstrap_is_seeded_and_degenerate_cases(void **state)
{
    (void)state;
    double x[] = {1.3, 0.7, 1.1, 0.9, 1.0, 1.2, 0.8, 1.05};
    rs_summary a, b;
    assert_int_equal(rs_bootstrap_median(x, 8, 500, 42, &a), 0);
    assert_int_equal(rs_bootstrap_median(x, 8, 500, 42, &b), 0);
    assert_true(a.lo == b.lo && a.hi == b.hi && a.median == b.median);
    assert_true(a.lo <= a.median && a.median <= a.hi);
    assert_true(a.lo >= 0.7 && a.hi <= 1.3);
    double one[] = {1.25};
    assert_int_equal(rs_bootstrap_median(one, 1, 100, 1, &a), 0);
    assert_true(a.median == 1.25 && a.lo == 1.25 && a.hi == 1.25);
    assert_int_equal(rs_bootstrap_median(one, 0, 100, 1, &a), 0);
    assert_true(isnan(a.median) && isnan(a.lo) && isnan(a.hi) && a.n == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(median_is_numpys),
        cmocka_unit_test(bootstrap_matches_exact_distribution),
        cmocka_unit_test(bootstrap_is_seeded_and_degenerate_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
