/*
 * test_stats_honest.c — issue 15 point 6, "numbers a statistician signs": the paired
 * bootstrap's p-value is never 0 (add-one rule, its floor flagged); the smallest accuracy
 * difference McNemar would call significant at n and b + c; BCa intervals; Holm across
 * every pair of candidates so the pick of the best cannot shrink the p-values; the report's
 * wording.
 *
 * Reference values come from tests/fixtures/stats/honest_reference.py (numpy and the Python
 * standard library, nothing of slmbench: the normal quantile by bisection on erfc, BCa
 * written from Efron and Tibshirani 1993 §14.3, xoshiro256** written again, McNemar with
 * exact fractions); its output is pasted below, and running it again must print the same.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "aggregate.h"
#include "analysis.h"
#include "metrics.h"
#include "report.h"
#include "store.h"
#include "store_int.h"
#include "store_reports.h"
#include "util.h"

#define assert_close(actual, expected, tol, what)                                          \
    do {                                                                                   \
        double a_ = (actual), e_ = (expected);                                             \
        if (!(fabs(a_ - e_) <= (tol) * fmax(1.0, fabs(e_))))                               \
            fail_msg("%s: library %.17g, reference %.17g", what, a_, e_);                  \
    } while (0)

/* ---- the test's own generator: a 64-bit LCG, high bits (as TestGen in the script) ---- */

static uint64_t gen_state;

static double gen_unit(void)
{
    gen_state = gen_state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (double)(gen_state >> 32) / 4294967296.0;
}

/* ---- the normal distribution ---------------------------------------------------------- */

static void normal_quantile_reference(void **state)
{
    (void)state;
    /* honest_reference.py: bisection on 0.5 erfc(-x/√2) down to adjacent doubles (the
     * upper half by symmetry) */
    static const double ref[][2] = {
        {1e-12, -7.034483825301133},     {1e-06, -4.7534243088229},
        {0.0005, -3.290526731491895},    {0.025, -1.9599639845400545},
        {0.1, -1.2815515655446006},      {0.3, -0.5244005127080409},
        {0.5, -6.957291061679418e-17},   {0.77, 0.7388468491852137},
        {0.975, 1.959963984540054},     {0.999999, 4.753424308817088},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        assert_close(slm_norm_quantile(ref[i][0]), ref[i][1], 1e-13, "normal quantile");
        assert_close(slm_norm_cdf(ref[i][1]), ref[i][0], 1e-13, "normal cdf");
    }
    /* round trip over the whole range, tails included; Φ's relative condition number is
     * about x², so that is the tolerance's scale */
    for (double lp = -300; lp < 0; lp += 0.37) {
        double p = pow(10.0, lp);
        double x = slm_norm_quantile(p);
        if (!(fabs(slm_norm_cdf(x) - p) <= 1e-14 * (1 + x * x) * p))
            fail_msg("round trip at p = %g: %.17g", p, slm_norm_cdf(x));
    }
    /* symmetric where 1 - p is exact */
    for (double p = 1.0 / 1024; p < 0.5; p *= 2)
        assert_true(slm_norm_quantile(1.0 - p) == -slm_norm_quantile(p));
    assert_true(slm_norm_quantile(0.0) == -INFINITY);
    assert_true(slm_norm_quantile(1.0) == INFINITY);
    assert_true(isnan(slm_norm_quantile(-0.1)));
    assert_true(isnan(slm_norm_quantile(1.5)));
    assert_true(isnan(slm_norm_quantile(NAN)));
}

/* ---- BCa from explicit inputs ------------------------------------------------------- */

static void bca_endpoints_reference(void **state)
{
    (void)state;
    double reps[500], jack[1000], lo, hi, z0, a;
    /* A: skewed replicates 0.5 u², estimate 0.12, jackknife 0.1 + 0.05 u³ (a < 0), 95% */
    gen_state = 2718;
    for (int i = 0; i < 199; i++)
        reps[i] = 0.5 * gen_unit() * gen_unit();
    for (int i = 0; i < 40; i++) {
        double u = gen_unit();
        jack[i] = 0.1 + 0.05 * u * u * u;
    }
    assert_int_equal(slm_bca_endpoints(0.12, reps, 199, jack, 40, 0.95, &lo, &hi, &z0, &a), 0);
    assert_close(z0, 0.40780466914108393, 1e-12, "A z0");
    assert_close(a, -0.043470761679085784, 1e-12, "A acceleration");
    assert_close(lo, 0.011711864291712394, 1e-12, "A lo");
    assert_close(hi, 0.42314004007024963, 1e-12, "A hi");

    /* B: replicates on a grid of 1/16, so 1/16 of them tie with the estimate 0.5 and
     * count one half each; 90% */
    gen_state = 31415;
    for (int i = 0; i < 500; i++)
        reps[i] = floor(gen_unit() * 16.0) / 16.0;
    for (int i = 0; i < 30; i++) {
        double u = gen_unit();
        jack[i] = 0.2 - 0.1 * u * u;
    }
    assert_int_equal(slm_bca_endpoints(0.5, reps, 500, jack, 30, 0.9, &lo, &hi, &z0, &a), 0);
    assert_close(z0, 0.06270677794321391, 1e-12, "B z0");
    assert_close(a, 0.03450763347010566, 1e-12, "B acceleration");
    assert_close(lo, 0.0625, 1e-12, "B lo");
    assert_close(hi, 0.9375, 1e-12, "B hi");
}

/* z0 = a = 0 (the estimate is the median, ties counted half; jackknife constant): BCa is
 * the percentile interval. */
static void bca_reduces_to_percentile(void **state)
{
    (void)state;
    double reps[101], jack[10], lo, hi, z0, a;
    for (int i = 0; i < 101; i++)
        reps[100 - i] = i * i / 1000.0; /* any order, skewed */
    for (int i = 0; i < 10; i++)
        jack[i] = 7;
    assert_int_equal(slm_bca_endpoints(2.5, reps, 101, jack, 10, 0.95, &lo, &hi, &z0, &a), 0);
    assert_true(z0 == 0 && a == 0);
    assert_close(lo, slm_percentile(reps, 101, 2.5), 1e-15, "lo as percentile");
    assert_close(hi, slm_percentile(reps, 101, 97.5), 1e-15, "hi as percentile");
}

static void bca_undefined(void **state)
{
    (void)state;
    double reps[200], jack[1000], lo, hi;
    for (int i = 0; i < 200; i++)
        reps[i] = i;
    for (int i = 0; i < 1000; i++)
        jack[i] = 0;
    /* the estimate below or above every replicate: z0 = ∓inf */
    assert_int_equal(slm_bca_endpoints(-1, reps, 200, jack, 10, 0.95, &lo, &hi, NULL, NULL),
                     -1);
    assert_true(isnan(lo) && isnan(hi));
    assert_int_equal(slm_bca_endpoints(200, reps, 200, jack, 10, 0.95, &lo, &hi, NULL, NULL),
                     -1);
    /* inside (190.5 of 200 below, z0 = 1.67) it is defined */
    assert_int_equal(slm_bca_endpoints(190, reps, 200, jack, 10, 0.95, &lo, &hi, NULL, NULL),
                     0);
    /* a ≈ 1/6 (one jackknife value far below the rest): at level 0.999999 the upper
     * adjustment's 1 - a (z0 + z) = 1 - 0.1665 (1.67 + 4.89) is negative */
    jack[999] = -1;
    double a;
    assert_int_equal(slm_bca_endpoints(190, reps, 200, jack, 1000, 0.95, &lo, &hi, NULL, &a), 0);
    assert_true(a > 0.16 && a < 1.0 / 6.0);
    assert_int_equal(
        slm_bca_endpoints(190, reps, 200, jack, 1000, 0.999999, &lo, &hi, NULL, NULL), -1);
    assert_true(isnan(lo) && isnan(hi));
    /* the whole interval below the second-smallest of 1000 replicates 0..999: with 3 of
     * them below the estimate (z0 = -2.75, a = 0) the upper q' = Φ(-3.54) = 2.0e-4 <
     * 1/1000, undefined; with 6 below (z0 = -2.51) it is 1.1e-3, defined */
    double r1000[1000];
    for (int i = 0; i < 1000; i++)
        r1000[i] = i;
    jack[999] = 0;
    assert_int_equal(
        slm_bca_endpoints(2.5, r1000, 1000, jack, 10, 0.95, &lo, &hi, NULL, NULL), -1);
    assert_true(isnan(lo) && isnan(hi));
    assert_int_equal(slm_bca_endpoints(5.5, r1000, 1000, jack, 10, 0.95, &lo, &hi, NULL, NULL),
                     0);
    /* the lower end at the smallest replicate (q' = Φ(-6.98)), the upper at position
     * 999 q' = 1.09 */
    assert_true(lo >= 0 && lo < 1e-6 && hi > 1 && hi < 1.2);
    assert_int_equal(
        slm_bca_endpoints(996.5, r1000, 1000, jack, 10, 0.95, &lo, &hi, NULL, NULL), -1);
    assert_int_equal(
        slm_bca_endpoints(993.5, r1000, 1000, jack, 10, 0.95, &lo, &hi, NULL, NULL), 0);
    assert_true(hi > 999 - 1e-6 && hi <= 999 && lo > 997.8 && lo < 998);
    /* bad input */
    jack[3] = NAN;
    assert_int_equal(slm_bca_endpoints(50, reps, 200, jack, 10, 0.95, &lo, &hi, NULL, NULL),
                     -1);
    jack[3] = 0;
    assert_int_equal(slm_bca_endpoints(NAN, reps, 200, jack, 10, 0.95, &lo, &hi, NULL, NULL),
                     -1);
    assert_int_equal(slm_bca_endpoints(50, reps, 0, jack, 10, 0.95, &lo, &hi, NULL, NULL), -1);
    assert_int_equal(slm_bca_endpoints(50, reps, 200, jack, 0, 0.95, &lo, &hi, NULL, NULL), -1);
    assert_int_equal(slm_bca_endpoints(50, reps, 200, jack, 10, 1.0, &lo, &hi, NULL, NULL), -1);
}

/* ---- BCa through the bootstrap ----------------------------------------------------- */

typedef struct xs {
    const double *x;
    const unsigned char *ok;
    double *conf;
    unsigned char *corr;
} xs;

static double stat_plugin_var(const size_t *idx, size_t n, void *ud)
{
    const xs *d = ud;
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        s += d->x[idx[i]];
    double mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (d->x[idx[i]] - mean) * (d->x[idx[i]] - mean);
    return ss / (double)n;
}

static double stat_ece(const size_t *idx, size_t n, void *ud)
{
    xs *d = ud;
    for (size_t i = 0; i < n; i++) {
        d->conf[i] = d->x[idx[i]];
        d->corr[i] = d->ok[idx[i]];
    }
    return slm_ece(d->conf, d->corr, n, SLM_ECE_BINS, 0, NULL, NULL, NULL, NULL);
}

static void bootstrap_bca_reference(void **state)
{
    (void)state;
    double x[60], conf[60], lo, hi;
    unsigned char ok[60], corr[60];
    /* the plug-in variance (biased) of 25 values u²; 400 resamples, seed 12345 */
    gen_state = 4242;
    for (int i = 0; i < 25; i++) {
        double u = gen_unit();
        x[i] = u * u;
    }
    xs d = {x, NULL, NULL, NULL};
    assert_int_equal(slm_bootstrap_bca(25, stat_plugin_var, &d, 400, 12345, 0.95, &lo, &hi), 0);
    assert_close(lo, 0.041332935053305354, 1e-9, "variance BCa lo");
    assert_close(hi, 0.09313106578656498, 1e-9, "variance BCa hi");

    /* ECE (15 equal-width bins) of an overconfident model, 60 examples, 300 resamples,
     * seed 2024: the estimate sits below most replicates (z0 = -1.50 in the script) */
    gen_state = 777;
    for (int i = 0; i < 60; i++) {
        double u = gen_unit(), v = gen_unit();
        x[i] = 0.4 + 0.6 * u;
        ok[i] = v < x[i] - 0.1;
    }
    xs e = {x, ok, conf, corr};
    assert_int_equal(slm_bootstrap_bca(60, stat_ece, &e, 300, 2024, 0.95, &lo, &hi), 0);
    assert_close(lo, 0.07034769222102716, 1e-9, "ECE BCa lo");
    assert_close(hi, 0.11380845688143394, 1e-9, "ECE BCa hi");
    /* the percentile interval of the same resamples is shifted up, past the estimate's
     * neighbourhood: BCa moved it */
    double plo, phi;
    assert_int_equal(slm_bootstrap_ci(60, stat_ece, &e, 300, 2024, 0.95, &plo, &phi, NULL), 0);
    assert_true(plo > lo + 0.01 && phi > hi + 0.01);

    assert_int_equal(slm_bootstrap_bca(1, stat_ece, &e, 300, 2024, 0.95, &lo, &hi), -1);
    assert_true(isnan(lo) && isnan(hi));
    assert_int_equal(slm_bootstrap_bca(60, NULL, &e, 300, 2024, 0.95, &lo, &hi), -1);
    assert_int_equal(slm_bootstrap_bca(60, stat_ece, &e, 0, 2024, 0.95, &lo, &hi), -1);
}

/* ---- the paired bootstrap's p-value -------------------------------------------------- */

static double stat_const(const size_t *idx, size_t n, void *ud)
{
    (void)idx;
    (void)n;
    return *(const double *)ud;
}

/* The mean of ±1 values, NaN when the resample's first draw is example 0 (so some
 * replicates are skipped and B < reps). */
static double stat_mean_gappy(const size_t *idx, size_t n, void *ud)
{
    const double *x = ud;
    if (idx[0] == 0)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[idx[i]];
    return s / (double)n;
}

static void paired_p_never_zero(void **state)
{
    (void)state;
    slm_boot_test t;
    double one = 1, zero = 0;
    assert_int_equal(slm_paired_bootstrap_test(10, stat_const, &one, 999, 3, &t), 0);
    assert_int_equal(t.crossed, 0);
    assert_int_equal(t.kept, 999);
    assert_true(t.p == 2.0 / 1000.0); /* the floor 2/(B+1), not 0 */
    assert_int_equal(slm_paired_bootstrap_test(10, stat_const, &zero, 999, 3, &t), 0);
    assert_int_equal(t.crossed, 999); /* exactly 0 counts on both sides */
    assert_true(t.p == 1.0);

    /* skipped replicates: B is the kept ones; r, p recomputed by hand from the stream */
    const double x[] = {1, 1, -1, 1, 1, 0, 1, -1, 1, 1, 1, 1};
    size_t n = sizeof x / sizeof x[0];
    assert_int_equal(slm_paired_bootstrap_test(n, stat_mean_gappy, (void *)x, 400, 8, &t), 0);
    slm_rng r;
    slm_rng_seed(&r, 8);
    long kept = 0, le = 0, ge = 0;
    for (int k = 0; k < 400; k++) {
        size_t idx[12];
        for (size_t i = 0; i < n; i++)
            idx[i] = (size_t)slm_rng_below(&r, n);
        double v = stat_mean_gappy(idx, n, (void *)x);
        if (isnan(v))
            continue;
        kept++;
        le += v <= 0;
        ge += v >= 0;
    }
    long side = le < ge ? le : ge;
    assert_true(kept < 400 && kept > 300);
    assert_int_equal(t.kept, kept);
    assert_int_equal(t.crossed, side);
    assert_close(t.p, fmin(1.0, 2.0 * (double)(side + 1) / (double)(kept + 1)), 1e-15, "p");
    /* the wrapper gives the same numbers */
    double lo, hi, p;
    assert_int_equal(slm_paired_bootstrap(n, stat_mean_gappy, (void *)x, 400, 8, &lo, &hi, &p),
                     0);
    assert_true(lo == t.lo && hi == t.hi && p == t.p);
    assert_int_equal(slm_paired_bootstrap_test(0, stat_const, &one, 10, 1, &t), -1);
    assert_true(isnan(t.p) && t.crossed == -1 && t.kept == -1);
}

/* ---- the smallest significant difference ----------------------------------------- */

/* The smallest |b - c| over every split b + c = m with slm_mcnemar_p < alpha; -1: none. */
static long brute_gap(long m, double alpha)
{
    long best = -1;
    for (long b = 0; b <= m; b++) {
        long d = labs(2 * b - m);
        if (slm_mcnemar_p(b, m - b, NULL) < alpha && (best < 0 || d < best))
            best = d;
    }
    return best;
}

static void mcnemar_needed_reference(void **state)
{
    (void)state;
    /* honest_reference.py: McNemar with exact fractions / erfc, every split scanned */
    static const struct {
        long m;
        double alpha;
        long d;
    } ref[] = {
        {0, 0.05, -1},   {5, 0.05, -1},   {6, 0.05, 6},     {9, 0.05, 7},
        {17, 0.05, 9},   {24, 0.05, 12},  {25, 0.05, 11},   {26, 0.05, 12},
        {40, 0.05, 14},  {94, 0.05, 22},  {333, 0.05, 37},  {1000, 0.05, 64},
        {0, 0.01, -1},   {5, 0.01, -1},   {6, 0.01, -1},    {9, 0.01, 9},
        {17, 0.01, 13},  {24, 0.01, 14},  {25, 0.01, 15},   {26, 0.01, 16},
        {40, 0.01, 18},  {94, 0.01, 26},  {333, 0.01, 49},  {1000, 0.01, 84},
        {0, 0.016666666666666666, -1},    {5, 0.016666666666666666, -1},
        {6, 0.016666666666666666, -1},    {9, 0.016666666666666666, 9},
        {17, 0.016666666666666666, 11},   {24, 0.016666666666666666, 14},
        {25, 0.016666666666666666, 13},   {26, 0.016666666666666666, 14},
        {40, 0.016666666666666666, 18},   {94, 0.016666666666666666, 26},
        {333, 0.016666666666666666, 45},  {1000, 0.016666666666666666, 78},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        double pt = slm_mcnemar_needed_pt(2000, ref[i].m, ref[i].alpha);
        if (ref[i].d < 0)
            assert_true(isinf(pt) && pt > 0);
        else
            assert_close(pt, 100.0 * (double)ref[i].d / 2000.0, 1e-15, "needed pt");
    }
    /* the sentence: n = 200, 17 discordant pairs → 9 of them, 4.5 points */
    assert_close(slm_mcnemar_needed_pt(200, 17, 0.05), 4.5, 1e-15, "n = 200");
}

static void mcnemar_needed_brute_force(void **state)
{
    (void)state;
    /* 0.9: even m in [25, 63) reach it with d = 0, whose p equals that of d = 2 */
    static const double alphas[] = {0.5, 0.9, 0.1, 0.05, 0.05 / 3, 0.01, 0.001, 1e-6};
    for (size_t k = 0; k < sizeof alphas / sizeof alphas[0]; k++)
        for (long m = 0; m <= 600; m++) {
            long d = brute_gap(m, alphas[k]);
            double pt = slm_mcnemar_needed_pt(1000, m, alphas[k]);
            if (d < 0 ? !isinf(pt) : fabs(pt - d / 10.0) > 1e-12)
                fail_msg("m = %ld, alpha = %g: brute force %ld, library %.17g pt", m,
                         alphas[k], d, pt);
        }
    assert_true(slm_mcnemar_needed_pt(1000, 40, 0.9) == 0); /* d = 0 */
    assert_true(isnan(slm_mcnemar_needed_pt(0, 0, 0.05)));
    assert_true(isnan(slm_mcnemar_needed_pt(10, 11, 0.05)));
    assert_true(isnan(slm_mcnemar_needed_pt(10, -1, 0.05)));
    assert_true(isnan(slm_mcnemar_needed_pt(10, 5, 0.0)));
    assert_true(isnan(slm_mcnemar_needed_pt(10, 5, 1.0)));
    assert_true(isnan(slm_mcnemar_needed_pt(10, 5, NAN)));
}

/* ---- a run of three candidates: Holm over every pair, BCa stored, the report --------- */

#define NEX 120
#define REPS 200

typedef struct run3 {
    char *path;
    slm_store *st;
    int64_t run, cid[3];
    int gold[NEX], pred[3][NEX];
    double conf[3][NEX];
} run3;

static const char *const LAB[] = {"a", "b", "c"};

static void exec_sql(slm_store *st, const char *sql)
{
    char err[SLM_ERRLEN];
    if (slm_store_exec(st, sql, err, sizeof err))
        fail_msg("%s", err);
}

/* c1 right about 70% of the time, c2 about 45%, c3 (the best) about 85%. */
static void run3_write(run3 *f)
{
    exec_sql(f->st,
             "INSERT INTO runs (name, status, created_at, mode, config_text, config_sha256, "
             "harness_version) VALUES ('h', 'complete', '2026-01-01T00:00:00Z', 'score', "
             "'name: h' || char(10) || 'evalset: /nonexistent/h' || char(10) || "
             "'bootstrap: 200' || char(10) || 'seed: 5' || char(10) || 'candidates:' || "
             "char(10) || '  - {name: c1, engine: replay, model: r1.csv}' || char(10) || "
             "'  - {name: c2, engine: replay, model: r2.csv}' || char(10) || "
             "'  - {name: c3, engine: replay, model: r3.csv}' || char(10), 'cfg', 'test');"
             "INSERT INTO evalsets (run_id, name, split, path, sha256, n_rows, labels_json, "
             "prompt_template, prompt_sha256) VALUES (1, 'h', 'test', 'h.csv', 'd', 120, "
             "'[\"a\",\"b\",\"c\"]', '{{text}}', 'p');"
             "INSERT INTO candidates (run_id, idx, name, engine, status) VALUES "
             "(1, 0, 'c1', 'replay', 'ok'), (1, 1, 'c2', 'replay', 'ok'), "
             "(1, 2, 'c3', 'replay', 'ok');");
    f->run = 1;
    static const double skill[3] = {0.7, 0.45, 0.85};
    gen_state = 99;
    for (int i = 0; i < NEX; i++) {
        f->gold[i] = (int)(gen_unit() * 3);
        char *sql = slm_xasprintf("INSERT INTO examples VALUES (1, %d, 'e%d', '%s', %d, 'h');",
                                  i, i, LAB[f->gold[i]], i);
        exec_sql(f->st, sql);
        free(sql);
        for (int c = 0; c < 3; c++) {
            int right = gen_unit() < skill[c];
            f->pred[c][i] = right ? f->gold[i] : (f->gold[i] + 1 + (gen_unit() < 0.5)) % 3;
            f->conf[c][i] = 0.34 + 0.66 * gen_unit();
            sql = slm_xasprintf("INSERT INTO predictions (run_id, candidate_id, example_idx, "
                                "example_id, gold, pred, correct, valid, confidence) VALUES "
                                "(1, %d, %d, 'e%d', '%s', '%s', %d, 1, %.17g);",
                                c + 1, i, i, LAB[f->gold[i]], LAB[f->pred[c][i]], right,
                                f->conf[c][i]);
            exec_sql(f->st, sql);
            free(sql);
        }
    }
}

static int run3_setup(void **state)
{
    run3 *f = slm_xcalloc(1, sizeof *f);
    char err[SLM_ERRLEN], tmpl[] = "/tmp/slm_test_honest.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return -1;
    close(fd);
    f->path = slm_xasprintf("%s.db", tmpl);
    unlink(tmpl);
    if (slm_store_open(f->path, 1, &f->st, err, sizeof err))
        return -1;
    run3_write(f);
    for (int c = 0; c < 3; c++)
        f->cid[c] = c + 1;
    if (slm_aggregate_run(f->st, f->run, err, sizeof err) ||
        slm_compare_run(f->st, f->run, err, sizeof err)) {
        fprintf(stderr, "honest: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int run3_teardown(void **state)
{
    run3 *f = *state;
    slm_store_close(f->st);
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char *p = slm_xasprintf("%s%s", f->path, suffix[i]);
        unlink(p);
        free(p);
    }
    free(f->path);
    free(f);
    return 0;
}

/* b, c of candidate x against y, counted from the fixture's own arrays. */
static void discordant(const run3 *f, int x, int y, long *b, long *c)
{
    *b = *c = 0;
    for (int i = 0; i < NEX; i++) {
        int rx = f->pred[x][i] == f->gold[i], ry = f->pred[y][i] == f->gold[i];
        *b += rx && !ry;
        *c += !rx && ry;
    }
}

static void holm_over_all_pairs(void **state)
{
    run3 *f = *state;
    slm_comparison_stat *x;
    size_t n;
    assert_int_equal(slm_store_comparisons(f->st, f->run, &x, &n, NULL, 0), 0);
    assert_int_equal(n, 2); /* c1 and c2 against the best, c3 */
    /* the family: the three pairs' McNemar p; Holm by its O(m^2) definition */
    static const int pair[3][2] = {{0, 2}, {1, 2}, {0, 1}};
    double p[3], holm[3];
    for (int k = 0; k < 3; k++) {
        long b, c;
        discordant(f, pair[k][0], pair[k][1], &b, &c);
        p[k] = slm_mcnemar_p(b, c, NULL);
    }
    for (int k = 0; k < 3; k++) {
        double h = 0;
        for (int j = 0; j < 3; j++) {
            int rank = 0; /* p[j] <= p[k]: the step-down max runs over them */
            for (int i = 0; i < 3; i++)
                rank += p[i] < p[j] || (p[i] == p[j] && i <= j);
            if (p[j] <= p[k])
                h = fmax(h, (double)(3 - rank + 1) * p[j]);
        }
        holm[k] = fmin(1.0, h);
    }
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(x[i].baseline, "c3");
        assert_int_equal(x[i].holm_family, 3);
        long b, c;
        discordant(f, (int)i, 2, &b, &c);
        assert_int_equal(x[i].b, b);
        assert_int_equal(x[i].c, c);
        assert_close(x[i].mcnemar_p, p[i], 1e-15, "McNemar p");
        assert_close(x[i].mcnemar_p_holm, holm[i], 1e-15, "Holm p over the three pairs");
        /* k - 1 = 2 comparisons alone would give a smaller Holm p for the larger one */
        assert_true(x[i].f1_crossed >= 0);
        assert_close(x[i].f1_p, fmin(1.0, 2.0 * (x[i].f1_crossed + 1) / (REPS + 1)), 1e-15,
                     "bootstrap p from r");
    }
    /* c2 is far below the best: no replicate crossed, the p is its floor */
    assert_int_equal(x[1].f1_crossed, 0);
    assert_true(x[1].f1_p == 2.0 / (REPS + 1));
    assert_true(x[1].mcnemar_p_holm > x[1].mcnemar_p);
    slm_comparison_rows_free(x, n);
}

typedef struct cand_data {
    const run3 *f;
    int c;
    int g[NEX], p[NEX];
    double conf[NEX];
    unsigned char ok[NEX];
} cand_data;

static double cand_macro_f1(const size_t *idx, size_t n, void *ud)
{
    cand_data *d = ud;
    for (size_t i = 0; i < n; i++) {
        d->g[i] = d->f->gold[idx[i]];
        d->p[i] = d->f->pred[d->c][idx[i]];
    }
    slm_cls_metrics m;
    if (slm_cls_metrics_compute(d->g, d->p, n, 3, &m, NULL, 0))
        return NAN;
    double v = m.macro_f1;
    slm_cls_metrics_free(&m);
    return v;
}

static double cand_ece(const size_t *idx, size_t n, void *ud)
{
    cand_data *d = ud;
    for (size_t i = 0; i < n; i++) {
        d->conf[i] = d->f->conf[d->c][idx[i]];
        d->ok[i] = d->f->pred[d->c][idx[i]] == d->f->gold[idx[i]];
    }
    return slm_ece(d->conf, d->ok, n, SLM_ECE_BINS, 0, NULL, NULL, NULL, NULL);
}

static double cand_accuracy(const size_t *idx, size_t n, void *ud)
{
    const cand_data *d = ud;
    double k = 0;
    for (size_t i = 0; i < n; i++)
        k += d->f->pred[d->c][idx[i]] == d->f->gold[idx[i]];
    return k / (double)n;
}

/* The stored intervals are BCa for macro-F1 and ECE and percentile for accuracy, from the
 * run's seed and replicates. */
static void intervals_stored_as_bca(void **state)
{
    run3 *f = *state;
    cand_data d = {.f = f};
    int moved = 0;
    for (int c = 0; c < 3; c++) {
        d.c = c;
        double lo, hi, slo, shi, plo, phi;
        slm_store_metric(f->st, f->cid[c], "macro_f1", &slo, &shi);
        assert_int_equal(slm_bootstrap_bca(NEX, cand_macro_f1, &d, REPS, 5, 0.95, &lo, &hi), 0);
        assert_close(slo, lo, 1e-12, "macro-F1 lo");
        assert_close(shi, hi, 1e-12, "macro-F1 hi");
        slm_bootstrap_ci(NEX, cand_macro_f1, &d, REPS, 5, 0.95, &plo, &phi, NULL);
        moved += plo != lo || phi != hi;
        slm_store_metric(f->st, f->cid[c], "ece_15", &slo, &shi);
        assert_int_equal(slm_bootstrap_bca(NEX, cand_ece, &d, REPS, 5, 0.95, &lo, &hi), 0);
        assert_close(slo, lo, 1e-12, "ECE lo");
        assert_close(shi, hi, 1e-12, "ECE hi");
        slm_bootstrap_ci(NEX, cand_ece, &d, REPS, 5, 0.95, &plo, &phi, NULL);
        moved += plo != lo || phi != hi;
        slm_store_metric(f->st, f->cid[c], "accuracy", &slo, &shi);
        slm_bootstrap_ci(NEX, cand_accuracy, &d, REPS, 5, 0.95, &lo, &hi, NULL);
        assert_close(slo, lo, 1e-12, "accuracy lo (percentile)");
        assert_close(shi, hi, 1e-12, "accuracy hi (percentile)");
    }
    assert_int_equal(moved, 6); /* BCa differs from percentile on every one of them */
}

static void report_wording(void **state)
{
    run3 *f = *state;
    slm_buf b = {0};
    char err[SLM_ERRLEN];
    assert_int_equal(slm_report_markdown(f->st, &f->run, 1, &b, err, sizeof err), 0);
    const char *md = b.data;
    assert_non_null(strstr(md, "all 3 pairs of candidates were tested"));
    assert_non_null(strstr(md, "its lead is an optimistic estimate"));
    assert_non_null(strstr(md, "| needed |"));
    assert_non_null(strstr(md, "0.05/3 = 0.0167"));
    assert_non_null(strstr(md, "BCa (bias-corrected and accelerated) for macro-F1 and ECE"));
    /* c2's row: its needed difference, and the bootstrap p's floor 2/201 = 0.00995...
     * shown rounded up as a bound */
    long b2, c2;
    discordant(f, 1, 2, &b2, &c2);
    char cell[64];
    snprintf(cell, sizeof cell, "| ±%.1f pt |",
             slm_mcnemar_needed_pt(NEX, b2 + c2, 0.05 / 3));
    const char *row = strstr(md, "| c2 | 120 |");
    assert_non_null(row);
    const char *eol = strchr(row, '\n');
    char *line = slm_xstrndup(row, (size_t)(eol - row));
    if (!strstr(line, cell) || !strstr(line, "| ≤ 0.00996 |"))
        fail_msg("row: %s (wanted %s and the p bound)", line, cell);
    free(line);
    slm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normal_quantile_reference),
        cmocka_unit_test(bca_endpoints_reference),
        cmocka_unit_test(bca_reduces_to_percentile),
        cmocka_unit_test(bca_undefined),
        cmocka_unit_test(bootstrap_bca_reference),
        cmocka_unit_test(paired_p_never_zero),
        cmocka_unit_test(mcnemar_needed_reference),
        cmocka_unit_test(mcnemar_needed_brute_force),
    };
    const struct CMUnitTest run_tests[] = {
        cmocka_unit_test(holm_over_all_pairs),
        cmocka_unit_test(intervals_stored_as_bca),
        cmocka_unit_test(report_wording),
    };
    return cmocka_run_group_tests_name("stats_honest", tests, NULL, NULL) |
           cmocka_run_group_tests_name("stats_honest_run", run_tests, run3_setup,
                                       run3_teardown);
}
