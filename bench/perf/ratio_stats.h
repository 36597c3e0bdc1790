/*
 * ratio_stats.h — the small statistics of the benchmarks that compare two ways of doing
 * the same work in interleaved rounds (bench_ratio.c, bench_labels.c): the median of the
 * per-round ratios and a seeded percentile-bootstrap 95% interval of that median.
 *
 * Header-only (static functions) because the benchmarks are single-file programs; the
 * unit test tests/unit/test_bench_stats.c includes it too and checks the bootstrap against
 * the exact bootstrap distribution of a median.
 */
#ifndef SLM_BENCH_RATIO_STATS_H
#define SLM_BENCH_RATIO_STATS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a seeded generator, the same sequence on every machine. */
static uint64_t rs_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A uniform integer in [0, n), n > 0 (the modulo bias is below 2^-40 for n < 2^24). */
static size_t rs_below(uint64_t *state, size_t n)
{
    return (size_t)(rs_next(state) % (uint64_t)n);
}

static int rs_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of x[0..n) (sorted in place; numpy's: the mean of the two middle values for
 * an even n); NaN for n == 0. */
static double rs_median_inplace(double *x, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(x, n, sizeof *x, rs_cmp_double);
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/* The q-quantile (0 <= q <= 1) of sorted x[0..n), linear interpolation between order
 * statistics (numpy's default); NaN for n == 0. */
static double rs_quantile_sorted(const double *x, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return x[lo] + (h - (double)lo) * (x[hi] - x[lo]);
}

/* A summary of per-round values: their median and a 95% percentile-bootstrap interval of
 * the median (b resamples of the n rounds with replacement, the generator seeded with
 * seed). All NaN for n == 0; lo == hi == median for n == 1. */
typedef struct rs_summary {
    double median, lo, hi;
    size_t n;
} rs_summary;

/* Summarises x[0..n) (left as given). Returns -1 when memory runs out, else 0. */
static int rs_bootstrap_median(const double *x, size_t n, size_t b, uint64_t seed,
                               rs_summary *out)
{
    *out = (rs_summary){NAN, NAN, NAN, n};
    if (n == 0)
        return 0;
    double *tmp = malloc(n * sizeof *tmp);
    double *meds = malloc((b ? b : 1) * sizeof *meds);
    if (!tmp || !meds) {
        free(tmp);
        free(meds);
        return -1;
    }
    memcpy(tmp, x, n * sizeof *tmp);
    out->median = rs_median_inplace(tmp, n);
    uint64_t st = seed;
    for (size_t r = 0; r < b; r++) {
        for (size_t i = 0; i < n; i++)
            tmp[i] = x[rs_below(&st, n)];
        meds[r] = rs_median_inplace(tmp, n);
    }
    if (b) {
        qsort(meds, b, sizeof *meds, rs_cmp_double);
        out->lo = rs_quantile_sorted(meds, b, 0.025);
        out->hi = rs_quantile_sorted(meds, b, 0.975);
    } else {
        out->lo = out->hi = NAN;
    }
    free(tmp);
    free(meds);
    return 0;
}

#endif
