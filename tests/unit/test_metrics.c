/*
 * test_metrics.c — metrics.c against numbers worked out by hand from the DESIGN §6
 * definitions (the working is in the comments, so a reader can check each expectation
 * without running anything) and against numpy's documented percentile results.
 */
#include <math.h>
#include <stdlib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "util.h"

#define TOL 1e-12

/* cmocka 1.1.5's assert_float_equal() compares floats; these compare doubles. */
#define assert_near(actual, expected, tol)                                                 \
    do {                                                                                   \
        double a_ = (actual), e_ = (expected);                                             \
        if (!(fabs(a_ - e_) <= (tol)))                                                     \
            fail_msg("%s = %.17g, expected %.17g", #actual, a_, e_);                       \
    } while (0)
#define assert_nan(actual)                                                                 \
    do {                                                                                   \
        double a_ = (actual);                                                              \
        if (!isnan(a_))                                                                    \
            fail_msg("%s = %.17g, expected NaN", #actual, a_);                             \
    } while (0)

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- classification ------------------------------------------------------------------ */

static void cls_hand_case(void **state)
{
    (void)state;
    /* gold 0 0 0 1 1 2, pred 0 0 1 1 2 2.
     * confusion (row gold): [2 1 0; 0 1 1; 0 0 1]; TP 2,1,1; support 3,2,1; pred 2,2,2.
     * P = 1, 1/2, 1/2; R = 2/3, 1/2, 1; F1 = 2TP/(2TP+FP+FN) = 4/5, 2/4, 2/3.
     * accuracy = 4/6; micro = 4/(4 + (2+2)/2) = 2/3;
     * macro = (4/5 + 1/2 + 2/3)/3 = 59/90; weighted = (3*4/5 + 2*1/2 + 1*2/3)/6 = 61/90. */
    const int gold[] = {0, 0, 0, 1, 1, 2}, pred[] = {0, 0, 1, 1, 2, 2};
    slm_cls_metrics m;
    char err[SLM_ERRLEN] = "";
    assert_int_equal(slm_cls_metrics_compute(gold, pred, 6, 3, &m, err, sizeof err), 0);
    assert_int_equal(m.n, 6);
    assert_int_equal(m.n_correct, 4);
    assert_int_equal(m.n_classes, 3);
    const long conf[] = {2, 1, 0, 0, 1, 1, 0, 0, 1};
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(m.confusion[i], conf[i]);
    const long sup[] = {3, 2, 1}, pc[] = {2, 2, 2};
    const double p[] = {1, 0.5, 0.5}, r[] = {2.0 / 3, 0.5, 1}, f[] = {0.8, 0.5, 2.0 / 3};
    for (size_t c = 0; c < 3; c++) {
        assert_int_equal(m.support[c], sup[c]);
        assert_int_equal(m.pred_count[c], pc[c]);
        assert_int_equal(m.present[c], 1);
        assert_near(m.precision[c], p[c], TOL);
        assert_near(m.recall[c], r[c], TOL);
        assert_near(m.f1[c], f[c], TOL);
    }
    assert_near(m.accuracy, 4.0 / 6, TOL);
    assert_near(m.micro_f1, 2.0 / 3, TOL);
    assert_near(m.macro_f1, 59.0 / 90, TOL);
    assert_near(m.weighted_f1, 61.0 / 90, TOL);
    slm_cls_metrics_free(&m);
}

static void cls_never_predicted_never_present(void **state)
{
    (void)state;
    /* 4 classes, gold 0 1 1 2, pred 0 1 0 0. Class 2 is never predicted, class 3 is
     * neither gold nor predicted (so it is not in the union and not in macro-F1).
     * TP 1,1,0,0; support 1,2,1,0; pred 3,1,0,0.
     * P = 1/3, 1, undefined (0/0), undefined; R = 1, 1/2, 0, undefined (0/0);
     * F1 = 1/2, 2/3, 0, undefined (class 3 is in no set). Undefined is NaN, never 0.
     * macro = (1/2 + 2/3 + 0)/3 = 7/18; weighted = (1*1/2 + 2*2/3 + 1*0)/4 = 11/24;
     * accuracy = micro = 2/4. */
    const int gold[] = {0, 1, 1, 2}, pred[] = {0, 1, 0, 0};
    slm_cls_metrics m;
    assert_int_equal(slm_cls_metrics_compute(gold, pred, 4, 4, &m, NULL, 0), 0);
    const unsigned char present[] = {1, 1, 1, 0};
    const double p[] = {1.0 / 3, 1, NAN, NAN}, r[] = {1, 0.5, 0, NAN}, f[] = {0.5, 2.0 / 3, 0, NAN};
    for (size_t c = 0; c < 4; c++) {
        assert_int_equal(m.present[c], present[c]);
        const double got[] = {m.precision[c], m.recall[c], m.f1[c]}, want[] = {p[c], r[c], f[c]};
        for (size_t j = 0; j < 3; j++) {
            if (isnan(want[j]))
                assert_true(isnan(got[j]));
            else
                assert_near(got[j], want[j], TOL);
        }
    }
    assert_int_equal(m.pred_count[2], 0);
    assert_int_equal(m.support[3], 0);
    assert_near(m.macro_f1, 7.0 / 18, TOL);
    assert_near(m.weighted_f1, 11.0 / 24, TOL);
    assert_near(m.accuracy, 0.5, TOL);
    assert_near(m.micro_f1, 0.5, TOL);
    slm_cls_metrics_free(&m);
}

static void cls_invalid_prediction_class(void **state)
{
    (void)state;
    /* Real labels 0, 1; class 2 stands for one invalid output (never gold).
     * gold 0 0 1, pred 0 2 1. TP 1,1,0; support 2,1,0; pred 1,1,1.
     * P = 1, 1, 0; R = 1/2, 1, undefined (0/0, NaN); F1 = 2/3, 1, 0.
     * Class 2 is predicted, so it is in the union: macro = (2/3 + 1 + 0)/3 = 5/9
     * (5/6 if the invalid class were ignored). weighted = (2*2/3 + 1*1 + 0*0)/3 = 7/9.
     * accuracy = micro = 2/3 (micro = 2/(2 + (1+1)/2)). */
    const int gold[] = {0, 0, 1}, pred[] = {0, 2, 1};
    slm_cls_metrics m;
    assert_int_equal(slm_cls_metrics_compute(gold, pred, 3, 3, &m, NULL, 0), 0);
    assert_int_equal(m.present[2], 1);
    assert_int_equal(m.support[2], 0);
    assert_int_equal(m.pred_count[2], 1);
    assert_int_equal(m.confusion[0 * 3 + 2], 1);
    assert_near(m.precision[2], 0, TOL);
    assert_true(isnan(m.recall[2]));
    assert_near(m.f1[2], 0, TOL);
    assert_near(m.macro_f1, 5.0 / 9, TOL);
    assert_near(m.weighted_f1, 7.0 / 9, TOL);
    assert_near(m.accuracy, 2.0 / 3, TOL);
    assert_near(m.micro_f1, 2.0 / 3, TOL);
    slm_cls_metrics_free(&m);
}

static void cls_ties_constant_predictor(void **state)
{
    (void)state;
    /* A classifier that always answers 0 on a balanced set: gold 0 1 0 1, pred 0 0 0 0.
     * Class 0: TP 2, FP 2, FN 0 → P 1/2, R 1, F1 4/6 = 2/3. Class 1: TP 0, FP 0, FN 2 →
     * P undefined (0/0, NaN), R 0, F1 0. macro = 1/3; weighted = (2*2/3 + 2*0)/4 = 1/3; accuracy 1/2. */
    const int gold[] = {0, 1, 0, 1}, pred[] = {0, 0, 0, 0};
    slm_cls_metrics m;
    assert_int_equal(slm_cls_metrics_compute(gold, pred, 4, 2, &m, NULL, 0), 0);
    assert_near(m.precision[0], 0.5, TOL);
    assert_near(m.recall[0], 1, TOL);
    assert_near(m.f1[0], 2.0 / 3, TOL);
    assert_true(isnan(m.precision[1]));
    assert_near(m.f1[1], 0, TOL);
    assert_near(m.macro_f1, 1.0 / 3, TOL);
    assert_near(m.weighted_f1, 1.0 / 3, TOL);
    assert_near(m.accuracy, 0.5, TOL);
    assert_near(m.micro_f1, 0.5, TOL);
    slm_cls_metrics_free(&m);
}

static void cls_one_example(void **state)
{
    (void)state;
    slm_cls_metrics m;
    /* Right: gold 1, pred 1 of 2 classes. Class 0 is absent, so macro = F1(1) = 1. */
    int gold = 1, pred = 1;
    assert_int_equal(slm_cls_metrics_compute(&gold, &pred, 1, 2, &m, NULL, 0), 0);
    assert_int_equal(m.present[0], 0);
    assert_near(m.accuracy, 1, TOL);
    assert_near(m.macro_f1, 1, TOL);
    assert_near(m.micro_f1, 1, TOL);
    assert_near(m.weighted_f1, 1, TOL);
    slm_cls_metrics_free(&m);
    /* Wrong: gold 0, pred 1. Both classes present, both F1 0 → everything 0. */
    gold = 0;
    assert_int_equal(slm_cls_metrics_compute(&gold, &pred, 1, 2, &m, NULL, 0), 0);
    assert_int_equal(m.present[0], 1);
    assert_int_equal(m.present[1], 1);
    assert_near(m.accuracy, 0, TOL);
    assert_near(m.macro_f1, 0, TOL);
    assert_near(m.micro_f1, 0, TOL);
    assert_near(m.weighted_f1, 0, TOL);
    slm_cls_metrics_free(&m);
}

static void cls_all_correct(void **state)
{
    (void)state;
    const int gold[] = {2, 0, 1, 1, 0}, pred[] = {2, 0, 1, 1, 0};
    slm_cls_metrics m;
    assert_int_equal(slm_cls_metrics_compute(gold, pred, 5, 3, &m, NULL, 0), 0);
    for (size_t c = 0; c < 3; c++) {
        assert_near(m.precision[c], 1, TOL);
        assert_near(m.recall[c], 1, TOL);
        assert_near(m.f1[c], 1, TOL);
    }
    assert_int_equal(m.n_correct, 5);
    assert_near(m.accuracy, 1, TOL);
    assert_near(m.macro_f1, 1, TOL);
    assert_near(m.micro_f1, 1, TOL);
    assert_near(m.weighted_f1, 1, TOL);
    slm_cls_metrics_free(&m);
}

static void cls_all_wrong(void **state)
{
    (void)state;
    /* A rotation: every class has TP 0, FP 1, FN 1 → F1 0; micro = 0/(0 + 3) = 0. */
    const int gold[] = {0, 1, 2}, pred[] = {1, 2, 0};
    slm_cls_metrics m;
    assert_int_equal(slm_cls_metrics_compute(gold, pred, 3, 3, &m, NULL, 0), 0);
    for (size_t c = 0; c < 3; c++) {
        assert_int_equal(m.present[c], 1);
        assert_near(m.f1[c], 0, TOL);
        assert_int_equal(m.confusion[c * 3 + c], 0);
    }
    assert_int_equal(m.n_correct, 0);
    assert_near(m.accuracy, 0, TOL);
    assert_near(m.macro_f1, 0, TOL);
    assert_near(m.micro_f1, 0, TOL);
    assert_near(m.weighted_f1, 0, TOL);
    slm_cls_metrics_free(&m);
}

static void cls_errors(void **state)
{
    (void)state;
    const int gold[] = {0, 1}, bad_hi[] = {0, 2}, bad_neg[] = {-1, 0};
    slm_cls_metrics m;
    char err[SLM_ERRLEN];

    err[0] = '\0';
    assert_int_equal(slm_cls_metrics_compute(gold, gold, 0, 2, &m, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    assert_null(m.confusion);
    slm_cls_metrics_free(&m);

    err[0] = '\0';
    assert_int_equal(slm_cls_metrics_compute(gold, gold, 2, 0, &m, err, sizeof err), -1);
    assert_true(err[0] != '\0');

    err[0] = '\0';
    assert_int_equal(slm_cls_metrics_compute(bad_hi, gold, 2, 2, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "gold"));
    assert_null(m.f1);

    err[0] = '\0';
    assert_int_equal(slm_cls_metrics_compute(gold, bad_neg, 2, 2, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "predicted"));

    err[0] = '\0';
    assert_int_equal(
        slm_cls_metrics_compute(gold, gold, 2, SIZE_MAX / 2, &m, err, sizeof err), -1);
    assert_true(err[0] != '\0');

    /* NULL-safe, and safe twice. */
    slm_cls_metrics_free(NULL);
    assert_int_equal(slm_cls_metrics_compute(gold, gold, 2, 2, &m, NULL, 0), 0);
    slm_cls_metrics_free(&m);
    slm_cls_metrics_free(&m);
}

/* ---- percentiles and summaries ------------------------------------------------------- */

static void percentile_numpy_values(void **state)
{
    (void)state;
    /* np.percentile([1,2,3,4], q): rank = q/100*3. 50 → 1.5 → 2.5; 90 → 2.7 → 3.7;
     * 95 → 2.85 → 3.85; 99 → 2.97 → 3.97; 0 → 1; 100 → 4. */
    const double a[] = {1, 2, 3, 4};
    assert_near(slm_percentile(a, 4, 50), 2.5, TOL);
    assert_near(slm_percentile(a, 4, 90), 3.7, TOL);
    assert_near(slm_percentile(a, 4, 95), 3.85, TOL);
    assert_near(slm_percentile(a, 4, 99), 3.97, TOL);
    assert_near(slm_percentile(a, 4, 0), 1, 0);
    assert_near(slm_percentile(a, 4, 100), 4, 0);
    /* np.percentile([15,20,35,40,50], q): rank = q/100*4. 40 → 1.6 → 20 + 15*0.6 = 29;
     * 5 → 0.2 → 16; 30 → 1.2 → 23; 50 → 2 → 35; 75 → 3 → 40; 100 → 50. */
    const double b[] = {15, 20, 35, 40, 50};
    assert_near(slm_percentile(b, 5, 40), 29, TOL);
    assert_near(slm_percentile(b, 5, 5), 16, TOL);
    assert_near(slm_percentile(b, 5, 30), 23, TOL);
    assert_near(slm_percentile(b, 5, 50), 35, 0);
    assert_near(slm_percentile(b, 5, 75), 40, 0);
    assert_near(slm_percentile(b, 5, 100), 50, 0);
}

static void percentile_unsorted_ties_missing(void **state)
{
    (void)state;
    /* Unsorted with NaN and inf (skipped) → the finite values 1 1 1 2 (ties).
     * rank 50 → 1.5 → 1; 90 → 2.7 → 1 + 1*0.7 = 1.7; 100 → 2. */
    const double x[] = {2, NAN, 1, INFINITY, 1, -INFINITY, 1};
    double copy[N(x)];
    memcpy(copy, x, sizeof x);
    assert_near(slm_percentile(x, N(x), 50), 1, 0);
    assert_near(slm_percentile(x, N(x), 90), 1.7, TOL);
    assert_near(slm_percentile(x, N(x), 100), 2, 0);
    assert_memory_equal(x, copy, sizeof x); /* input untouched (NaN compared bytewise) */

    const double s[] = {1, 1, 1, 2};
    assert_near(slm_percentile_sorted(s, 4, 90), 1.7, TOL);
    /* Same answers as the copying variant for a spread of p. */
    const double u[] = {9, 2, 7, 4, 4, 8, 1}, us[] = {1, 2, 4, 4, 7, 8, 9};
    for (int p = 0; p <= 100; p++)
        assert_near(slm_percentile(u, N(u), p), slm_percentile_sorted(us, N(us), p), 0);
}

static void percentile_edge_cases(void **state)
{
    (void)state;
    const double one[] = {42.5};
    assert_near(slm_percentile(one, 1, 0), 42.5, 0);
    assert_near(slm_percentile(one, 1, 37), 42.5, 0);
    assert_near(slm_percentile(one, 1, 100), 42.5, 0);
    assert_nan(slm_percentile(one, 0, 50));
    assert_nan(slm_percentile_sorted(one, 0, 50));
    assert_nan(slm_percentile(one, 1, -0.1));
    assert_nan(slm_percentile(one, 1, 100.1));
    assert_nan(slm_percentile(one, 1, NAN));
    const double nans[] = {NAN, NAN};
    assert_nan(slm_percentile(nans, 2, 50));
    /* Monotone in p even where interpolation switches ends (t = 0.5). */
    const double m[] = {0.1, 0.7, 0.7000000000000001, 1e9};
    double prev = -INFINITY;
    for (int p = 0; p <= 1000; p++) {
        double v = slm_percentile_sorted(m, 4, p / 10.0);
        assert_true(v >= prev);
        prev = v;
    }
}

static void summarize_hand(void **state)
{
    (void)state;
    /* 2 4 4 4 5 5 7 9 (and a NaN, skipped): mean 40/8 = 5; squared deviations
     * 9 1 1 1 0 0 4 16 = 32 → sample sd sqrt(32/7). Ranks over n-1 = 7:
     * p50 → 3.5 → 4.5; p90 → 6.3 → 7 + 2*0.3 = 7.6; p95 → 6.65 → 8.3; p99 → 6.93 → 8.86. */
    const double x[] = {5, 2, 9, 4, NAN, 4, 7, 4, 5};
    slm_summary s;
    slm_summarize(x, N(x), &s);
    assert_int_equal(s.n, 8);
    assert_near(s.mean, 5, TOL);
    assert_near(s.min, 2, 0);
    assert_near(s.max, 9, 0);
    assert_near(s.stddev, sqrt(32.0 / 7), TOL);
    assert_near(s.p50, 4.5, TOL);
    assert_near(s.p90, 7.6, TOL);
    assert_near(s.p95, 8.3, TOL);
    assert_near(s.p99, 8.86, TOL);
}

static void summarize_one_and_none(void **state)
{
    (void)state;
    const double one[] = {NAN, 3.25};
    slm_summary s;
    slm_summarize(one, 2, &s);
    assert_int_equal(s.n, 1);
    assert_near(s.mean, 3.25, 0);
    assert_near(s.stddev, 0, 0);
    assert_near(s.min, 3.25, 0);
    assert_near(s.max, 3.25, 0);
    assert_near(s.p50, 3.25, 0);
    assert_near(s.p99, 3.25, 0);

    slm_summarize(NULL, 0, &s);
    assert_int_equal(s.n, 0);
    assert_nan(s.mean);
    assert_nan(s.min);
    assert_nan(s.max);
    assert_nan(s.stddev);
    assert_nan(s.p50);
    assert_nan(s.p90);
    assert_nan(s.p95);
    assert_nan(s.p99);

    const double nans[] = {NAN, NAN, NAN};
    slm_summarize(nans, 3, &s);
    assert_int_equal(s.n, 0);
    assert_nan(s.mean);
    assert_nan(s.p99);
}

/* ---- probabilities and calibration --------------------------------------------------- */

/* The same scores in any label order give bit-identical probabilities (ties stay ties),
 * for few labels and for more than the stack buffer holds. */
static void softmax_order_free(void **state)
{
    (void)state;
    size_t ks[] = {3, 7, 150};
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        size_t k = ks[t];
        double *a = calloc(k, sizeof *a), *b = calloc(k, sizeof *b);
        double *pa = calloc(k, sizeof *pa), *pb = calloc(k, sizeof *pb);
        for (size_t j = 0; j < k; j++)
            a[j] = -0.37 * (double)((j * 7919) % k) - 1e-3 * (double)j;
        for (size_t j = 0; j < k; j++)
            b[j] = a[(j * 31 + 5) % k]; /* a permutation (31 is prime to 3, 7 and 150) */
        slm_softmax(a, k, pa);
        slm_softmax(b, k, pb);
        for (size_t j = 0; j < k; j++)
            assert_memory_equal(&pb[j], &pa[(j * 31 + 5) % k], sizeof(double));
        double sum = 0;
        for (size_t j = 0; j < k; j++)
            sum += pa[j];
        assert_true(fabs(sum - 1.0) < 1e-12);
        free(a), free(b), free(pa), free(pb);
    }
}

static void softmax_cases(void **state)
{
    (void)state;
    /* exp(0), exp(ln 2), exp(ln 3) = 1, 2, 3 → 1/6, 2/6, 3/6. */
    double l[] = {0, log(2), log(3)}, p[3];
    slm_softmax(l, 3, p);
    assert_near(p[0], 1.0 / 6, TOL);
    assert_near(p[1], 2.0 / 6, TOL);
    assert_near(p[2], 3.0 / 6, TOL);
    /* Shifting every log-probability changes nothing, even far beyond exp's range. */
    double big[] = {1000, 1000 + log(3)}, small[] = {-2000, -2000 + log(3)};
    slm_softmax(big, 2, p);
    assert_near(p[0], 0.25, TOL);
    assert_near(p[1], 0.75, TOL);
    slm_softmax(small, 2, p);
    assert_near(p[0], 0.25, TOL);
    assert_near(p[1], 0.75, TOL);
    /* In place (p aliases logprob), with an impossible label. */
    double inplace[] = {-INFINITY, log(0.5), log(0.5)};
    slm_softmax(inplace, 3, inplace);
    assert_near(inplace[0], 0, 0);
    assert_near(inplace[1], 0.5, TOL);
    assert_near(inplace[2], 0.5, TOL);
    /* Every label impossible → uniform. */
    double none[] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    double p4[4];
    slm_softmax(none, 4, p4);
    for (int j = 0; j < 4; j++)
        assert_near(p4[j], 0.25, 0);
    /* NaN or +inf in → NaN out. */
    double bad[] = {0, NAN}, out2[2];
    slm_softmax(bad, 2, out2);
    assert_nan(out2[0]);
    assert_nan(out2[1]);
    double inf[] = {0, INFINITY};
    slm_softmax(inf, 2, out2);
    assert_nan(out2[0]);
    slm_softmax(inf, 0, out2); /* k == 0: nothing to do, nothing touched */
}

static void brier_hand(void **state)
{
    (void)state;
    /* Row 1, gold 0: (0.7-1)^2 + 0.2^2 + 0.1^2 = 0.09 + 0.04 + 0.01 = 0.14.
     * Row 2, gold 1: 0.1^2 + (0.3-1)^2 + 0.6^2 = 0.01 + 0.49 + 0.36 = 0.86.
     * Brier = (0.14 + 0.86)/2 = 0.5 (not halved). */
    const double probs[] = {0.7, 0.2, 0.1, 0.1, 0.3, 0.6};
    const int gold[] = {0, 1};
    assert_near(slm_brier(probs, gold, 2, 3), 0.5, TOL);
    /* A certain right answer scores 0; a certain wrong one 1 + 1 = 2. */
    const double sure[] = {1, 0, 0};
    const int g0 = 0, g2 = 2;
    assert_near(slm_brier(sure, &g0, 1, 3), 0, 0);
    assert_near(slm_brier(sure, &g2, 1, 3), 2, 0);
    const int bad = 3, neg = -1;
    assert_nan(slm_brier(sure, &bad, 1, 3));
    assert_nan(slm_brier(sure, &neg, 1, 3));
    assert_nan(slm_brier(sure, &g0, 0, 3));
    assert_nan(slm_brier(sure, &g0, 1, 0));
}

static void nll_hand(void **state)
{
    (void)state;
    /* Same rows as brier_hand: -(ln 0.7 + ln 0.3)/2 = (0.35667494393873245 +
     * 1.2039728043259361)/2 = 0.78032387413233425. */
    const double probs[] = {0.7, 0.2, 0.1, 0.1, 0.3, 0.6};
    const int gold[] = {0, 1};
    assert_near(slm_nll(probs, gold, 2, 3), 0.78032387413233425, TOL);
    /* Clipping: p(gold) = 0 → -ln(1e-15) = 15 ln 10 = 34.538776394910684;
     * p(gold) = 1 → -ln(1 - 1e-15) ≈ 1e-15 (not 0). */
    const double sure[] = {1, 0};
    const int g0 = 0, g1 = 1;
    assert_near(slm_nll(sure, &g1, 1, 2), 15 * log(10), 1e-9);
    double v = slm_nll(sure, &g0, 1, 2);
    assert_true(v > 0);
    assert_near(v, 1e-15, 1e-17);
    /* Mean of the two: (34.538776... + 1e-15)/2. */
    const double rows[] = {1, 0, 1, 0};
    const int gs[] = {0, 1};
    assert_near(slm_nll(rows, gs, 2, 2), 15 * log(10) / 2, 1e-9);
    const int bad = 2;
    assert_nan(slm_nll(sure, &bad, 1, 2));
    assert_nan(slm_nll(sure, &g0, 0, 2));
    const double nanrow[] = {NAN, 0.5};
    assert_nan(slm_nll(nanrow, &g0, 1, 2));
}

static void ece_bin_every_edge(void **state)
{
    (void)state;
    const int B = SLM_ECE_BINS;
    assert_int_equal(slm_ece_bin(0.0, B), 1);   /* 0 goes to bin 1 */
    assert_int_equal(slm_ece_bin(1.0, B), B);
    for (int k = 1; k <= B; k++) {
        double edge = (double)k / B;
        /* k/15 is the right edge of bin k, included. */
        assert_int_equal(slm_ece_bin(edge, B), k);
        /* The next double below is still in bin k (for k = 1, any positive value). */
        assert_int_equal(slm_ece_bin(nextafter(edge, 0), B), k);
        /* The next double above belongs to bin k+1. */
        if (k < B)
            assert_int_equal(slm_ece_bin(nextafter(edge, 2), B), k + 1);
        /* The middle of the bin. */
        assert_int_equal(slm_ece_bin((k - 0.5) / B, B), k);
    }
    assert_int_equal(slm_ece_bin(nextafter(0, 1), B), 1);
    /* Edges written other ways land in the same bin as k/15 where they are that double:
     * 0.2 = 3/15, 0.6 = 9/15 (same nearest double). */
    assert_int_equal(slm_ece_bin(0.2, B), 3);
    assert_int_equal(slm_ece_bin(0.6, B), 9);
    /* Other bin counts behave the same way. */
    for (int nb = 1; nb <= 100; nb++)
        for (int k = 1; k <= nb; k++)
            assert_int_equal(slm_ece_bin((double)k / nb, nb), k);
    assert_int_equal(slm_ece_bin(-0.01, B), 0);
    assert_int_equal(slm_ece_bin(1.01, B), 0);
    assert_int_equal(slm_ece_bin(NAN, B), 0);
    assert_int_equal(slm_ece_bin(0.5, 0), 0);
}

static void ece_all_edges(void **state)
{
    (void)state;
    /* One example at each k/15, k = 0..15, all correct. Bin 1 holds 0 and 1/15 (mean
     * 1/30, gap 29/30); bin m >= 2 holds m/15 (gap (15-m)/15).
     * ECE = (2/16)(29/30) + (1/16) sum_{m=2}^{15} (15-m)/15 = (58/30 + 91/15)/16
     *     = (240/30)/16 = 1/2 (= 1 - mean confidence, as every gap is acc - conf >= 0).
     * MCE = 29/30. */
    enum { B = SLM_ECE_BINS, NX = B + 1 };
    double conf[NX];
    unsigned char ok[NX];
    for (int k = 0; k <= B; k++) {
        conf[k] = (double)k / B;
        ok[k] = 1;
    }
    double mce, bconf[B], bacc[B];
    long cnt[B];
    double ece = slm_ece(conf, ok, NX, B, 0, &mce, cnt, bconf, bacc);
    assert_near(ece, 0.5, TOL);
    assert_near(mce, 29.0 / 30, TOL);
    assert_int_equal(cnt[0], 2);
    assert_near(bconf[0], 1.0 / 30, TOL);
    assert_near(bacc[0], 1, 0);
    for (int m = 2; m <= B; m++) {
        assert_int_equal(cnt[m - 1], 1);
        assert_near(bconf[m - 1], (double)m / B, 0);
        assert_near(bacc[m - 1], 1, 0);
    }
    /* All wrong instead: every gap is conf_m, ECE = mean confidence = 1/2, MCE = 1 (bin
     * 15 at confidence 1). */
    memset(ok, 0, sizeof ok);
    ece = slm_ece(conf, ok, NX, B, 0, &mce, NULL, NULL, NULL);
    assert_near(ece, 0.5, TOL);
    assert_near(mce, 1, TOL);
}

static void ece_hand_small(void **state)
{
    (void)state;
    /* conf 0.9 0.9 0.6 0.3, correct 1 0 1 0, 15 bins. 0.9*15 = 13.5 → bin 14 (n 2, conf
     * 0.9, acc 0.5, gap 0.4); 0.6 = 9/15 → bin 9, right edge (conf 0.6, acc 1, gap 0.4);
     * 0.3*15 = 4.5 → bin 5 (conf 0.3, acc 0, gap 0.3).
     * ECE = (2*0.4 + 0.4 + 0.3)/4 = 0.375; MCE = 0.4. Empty bins: count 0, NaN means. */
    const double conf[] = {0.9, 0.9, 0.6, 0.3};
    const unsigned char ok[] = {1, 0, 1, 0};
    double mce, bconf[SLM_ECE_BINS], bacc[SLM_ECE_BINS];
    long cnt[SLM_ECE_BINS];
    assert_near(slm_ece(conf, ok, 4, SLM_ECE_BINS, 0, &mce, cnt, bconf, bacc), 0.375, TOL);
    assert_near(mce, 0.4, TOL);
    for (int m = 1; m <= SLM_ECE_BINS; m++) {
        long want = m == 14 ? 2 : (m == 9 || m == 5) ? 1 : 0;
        assert_int_equal(cnt[m - 1], want);
        if (want == 0) {
            assert_nan(bconf[m - 1]);
            assert_nan(bacc[m - 1]);
        }
    }
    assert_near(bacc[13], 0.5, 0);
    assert_near(bconf[8], 0.6, 0);
    /* Perfect calibration in one bin: two at 0.5, one right → ECE 0, MCE 0. */
    const double half[] = {0.5, 0.5};
    const unsigned char one_ok[] = {0, 1};
    assert_near(slm_ece(half, one_ok, 2, SLM_ECE_BINS, 0, &mce, NULL, NULL, NULL), 0, 0);
    assert_near(mce, 0, 0);
    /* A single bin: ECE = |accuracy - mean confidence| = |0.5 - 0.675| = 0.175. */
    assert_near(slm_ece(conf, ok, 4, 1, 0, NULL, NULL, NULL, NULL), 0.175, TOL);
    assert_near(slm_ece(conf, ok, 4, 1, 1, NULL, NULL, NULL, NULL), 0.175, TOL);
}

static void ece_equal_mass_ties(void **state)
{
    (void)state;
    /* Same data, 2 equal-mass bins. Sorted: 0.3 (wrong), 0.6 (right) | 0.9, 0.9 (one
     * right): the edge is (0.6 + 0.9)/2 = 0.75, then 1. Bin 0: conf 0.45, acc 0.5, gap 0.05;
     * bin 1: conf 0.9, acc 0.5, gap 0.4. ECE = 0.5*0.05 + 0.5*0.4 = 0.225; MCE = 0.4. */
    const double conf[] = {0.9, 0.9, 0.6, 0.3};
    const unsigned char ok[] = {1, 0, 1, 0};
    double mce, bconf[3], bacc[3];
    long cnt[3];
    assert_near(slm_ece(conf, ok, 4, 2, 1, &mce, cnt, bconf, bacc), 0.225, TOL);
    assert_near(mce, 0.4, TOL);
    assert_int_equal(cnt[0], 2);
    assert_int_equal(cnt[1], 2);
    assert_near(bconf[0], 0.45, TOL);
    assert_near(bacc[0], 0.5, 0);

    /* Three tied at 0.5 in 3 bins: the chunks are one each, but both cut edges are 0.5
     * (one after removing the duplicate), so all three share bin 0 — a tie never
     * straddles a bin. acc 2/3, conf 0.5: ECE = MCE = 1/6; bins 1 and 2 are empty (the
     * old sort-position split gave 0.5). */
    const double same[] = {0.5, 0.5, 0.5};
    const unsigned char rwr[] = {1, 0, 1};
    assert_near(slm_ece(same, rwr, 3, 3, 1, &mce, cnt, NULL, bacc), 1.0 / 6, TOL);
    assert_near(mce, 1.0 / 6, TOL);
    assert_int_equal(cnt[0], 3);
    assert_int_equal(cnt[1], 0);
    assert_int_equal(cnt[2], 0);
    assert_nan(bacc[1]);

    /* A cut inside a tie: sorted 0.2 0.6 | 0.6 0.6 | 0.9 0.9, edges 0.6, 0.75, 1. Every 0.6
     * goes to bin 0 (right-closed), bin 1 = (0.6, 0.75] is empty. Bin 0: conf 2/4, acc
     * 2/4, gap 0; bin 2: conf 0.9, acc 1, gap 0.1. ECE = (2/6)*0.1; MCE = 0.1. */
    const double cut[] = {0.6, 0.9, 0.2, 0.6, 0.9, 0.6};
    const unsigned char cok[] = {1, 1, 0, 0, 1, 1};
    assert_near(slm_ece(cut, cok, 6, 3, 1, &mce, cnt, bconf, NULL), 0.1 / 3, TOL);
    assert_near(mce, 0.1, TOL);
    assert_int_equal(cnt[0], 4);
    assert_int_equal(cnt[1], 0);
    assert_int_equal(cnt[2], 2);
    assert_near(bconf[0], 0.5, TOL);
}

static void ece_equal_mass_split(void **state)
{
    (void)state;
    enum { B = SLM_ECE_BINS };
    double conf[16];
    unsigned char ok[16];
    long cnt[B];
    for (int i = 0; i < 16; i++) {
        conf[i] = (15 - i) / 15.0; /* descending, so the sort matters */
        ok[i] = i % 2;
    }
    /* n = 16 into 15 chunks as np.array_split: 16 mod 15 = 1, so the FIRST chunk holds two
     * (0 and 1/15) and the others one each. */
    slm_ece(conf, ok, 16, B, 1, NULL, cnt, NULL, NULL);
    assert_int_equal(cnt[0], 2);
    for (int b = 1; b < B; b++)
        assert_int_equal(cnt[b], 1);
    double sorted[16], edges[B];
    for (int i = 0; i < 16; i++)
        sorted[i] = i / 15.0;
    assert_int_equal(slm_ece_mass_edges(sorted, 16, B, edges), B);
    assert_true(edges[0] == (1 / 15.0 + 2 / 15.0) / 2);
    assert_true(edges[B - 1] == 1.0);
    /* n = 3 < 15 bins: B' = 3 chunks of one, edges (13/15 + 14/15)/2, (14/15 + 1)/2, 1;
     * bins 0..2 hold one each, the rest none. */
    double bconf[B];
    slm_ece(conf, ok, 3, B, 1, NULL, cnt, bconf, NULL);
    for (int b = 0; b < B; b++) {
        assert_int_equal(cnt[b], b < 3 ? 1 : 0);
        if (!cnt[b])
            assert_nan(bconf[b]);
    }
    assert_near(bconf[0], 13.0 / 15, 0);
    assert_near(bconf[2], 1, 0);
    /* edges of nothing, or with no bins */
    assert_int_equal(slm_ece_mass_edges(sorted, 0, B, edges), 0);
    assert_int_equal(slm_ece_mass_edges(sorted, 16, 0, edges), 0);
    /* all at 1: the midpoints are 1, so one edge */
    const double ones[] = {1, 1, 1, 1};
    assert_int_equal(slm_ece_mass_edges(ones, 4, B, edges), 1);
    assert_true(edges[0] == 1.0);
}

static void ece_errors(void **state)
{
    (void)state;
    const double conf[] = {0.5, 1.5}, nanc[] = {0.5, NAN};
    const unsigned char ok[] = {1, 1};
    double mce = 0, bconf[3] = {0, 0, 0}, bacc[3];
    long cnt[3] = {7, 7, 7};
    assert_nan(slm_ece(conf, ok, 2, 3, 0, &mce, cnt, bconf, bacc));
    assert_nan(mce);
    for (int b = 0; b < 3; b++) {
        assert_int_equal(cnt[b], 0);
        assert_nan(bconf[b]);
        assert_nan(bacc[b]);
    }
    assert_nan(slm_ece(nanc, ok, 2, 3, 1, &mce, NULL, NULL, NULL));
    assert_nan(slm_ece(conf, ok, 0, 3, 0, &mce, NULL, NULL, NULL));
    assert_nan(slm_ece(conf, ok, 1, 0, 0, &mce, NULL, NULL, NULL));
    assert_nan(mce);
}

static void classwise_ece_hand(void **state)
{
    (void)state;
    /* Rows {0.8, 0.2} gold 0 and {0.4, 0.6} gold 0, 15 bins. Class 0: 0.8 = 12/15 (bin 12,
     * hit, gap 0.2), 0.4 = 6/15 (bin 6, hit, gap 0.6) → 0.4. Class 1 (never gold): 0.2 in
     * bin 3 and 0.6 in bin 9, both misses, gaps 0.2 and 0.6 → 0.4. Mean 0.4. */
    const double p2[] = {0.8, 0.2, 0.4, 0.6};
    const int g2[] = {0, 0};
    assert_near(slm_classwise_ece(p2, g2, 2, 2, SLM_ECE_BINS), 0.4, TOL);
    /* One bin, three classes, class 2 never gold: rows {0.5,0.3,0.2} gold 0,
     * {0.1,0.6,0.3} gold 1. Class 0: |0.5 - 0.3| = 0.2; class 1: |0.5 - 0.45| = 0.05;
     * class 2: |0 - 0.25| = 0.25. Mean = 0.5/3 = 1/6. */
    const double p3[] = {0.5, 0.3, 0.2, 0.1, 0.6, 0.3};
    const int g3[] = {0, 1};
    assert_near(slm_classwise_ece(p3, g3, 2, 3, 1), 1.0 / 6, TOL);
    const int bad[] = {0, 3};
    assert_nan(slm_classwise_ece(p3, bad, 2, 3, 1));
    assert_nan(slm_classwise_ece(p3, g3, 0, 3, 1));
    assert_nan(slm_classwise_ece(p3, g3, 2, 0, 1));
    assert_nan(slm_classwise_ece(p3, g3, 2, 3, 0));
    const double out[] = {0.5, 1.5};
    assert_nan(slm_classwise_ece(out, g2, 1, 2, 1));
}

/* ---- selective prediction ------------------------------------------------------------ */

static void aurc_hand(void **state)
{
    (void)state;
    /* Distinct: 0.9 right, 0.8 wrong, 0.7 right → risks 0/1, 1/2, 1/3 → (5/6)/3 = 5/18. */
    const double c3[] = {0.7, 0.9, 0.8};
    const unsigned char ok3[] = {1, 1, 0};
    assert_near(slm_aurc(c3, ok3, 3), 5.0 / 18, TOL);
    /* A tie in the middle: 0.9 right; 0.6 x2 with one wrong (rate 1/2); 0.2 wrong.
     * k=1: 0; k=2: (0 + 1*0.5)/2 = 1/4; k=3: 1/3; k=4: 2/4. Sum 13/12 → AURC 13/48,
     * whichever of the tied pair comes first in the input. */
    const double ct[] = {0.9, 0.6, 0.6, 0.2};
    const unsigned char a[] = {1, 0, 1, 0}, b[] = {1, 1, 0, 0};
    assert_near(slm_aurc(ct, a, 4), 13.0 / 48, TOL);
    assert_near(slm_aurc(ct, b, 4), 13.0 / 48, TOL);
    /* All tied, half wrong: every prefix has risk 1/2, whatever the order. */
    const double same[] = {0.5, 0.5, 0.5, 0.5};
    const unsigned char rw[] = {1, 1, 0, 0}, wr[] = {0, 0, 1, 1};
    assert_near(slm_aurc(same, rw, 4), 0.5, TOL);
    assert_near(slm_aurc(same, wr, 4), 0.5, TOL);
    /* Confidences 1 and 0: the sure one is wrong → risks 1, 1/2 → 3/4. */
    const double ends[] = {0, 1};
    const unsigned char end_ok[] = {1, 0};
    assert_near(slm_aurc(ends, end_ok, 2), 0.75, TOL);
    /* One example; all right; all wrong (tied or not). */
    const unsigned char one = 1, zero = 0;
    assert_near(slm_aurc(ends, &one, 1), 0, 0);
    assert_near(slm_aurc(ends, &zero, 1), 1, 0);
    const unsigned char all1[] = {1, 1, 1, 1}, all0[] = {0, 0, 0, 0};
    assert_near(slm_aurc(ct, all1, 4), 0, 0);
    assert_near(slm_aurc(ct, all0, 4), 1, TOL);
    assert_near(slm_aurc(same, all0, 4), 1, TOL);
    /* Errors. */
    const double nanc[] = {0.5, NAN};
    assert_nan(slm_aurc(nanc, all1, 2));
    assert_nan(slm_aurc(ct, all1, 0));
}

static void coverage_at_hand(void **state)
{
    (void)state;
    double cov, thr, acc;
    /* 0.9 R, 0.8 R, 0.7 W, 0.6 R: prefix accuracies 1, 1, 2/3, 3/4. */
    const double c[] = {0.6, 0.9, 0.7, 0.8};
    const unsigned char ok[] = {1, 1, 0, 1};
    assert_int_equal(slm_coverage_at(c, ok, 4, 0.75, &cov, &thr, &acc), 0);
    assert_near(cov, 1, 0);
    assert_near(thr, 0.6, 0);
    assert_near(acc, 0.75, 0);
    assert_int_equal(slm_coverage_at(c, ok, 4, 0.8, &cov, &thr, &acc), 0);
    assert_near(cov, 0.5, 0);
    assert_near(thr, 0.8, 0);
    assert_near(acc, 1, 0);
    assert_int_equal(slm_coverage_at(c, ok, 4, 1.0, &cov, &thr, &acc), 0);
    assert_near(cov, 0.5, 0);
    /* Ties go together: 0.9 R, 0.7 R, 0.7 W, 0.5 R. Accepting just the right 0.7 would
     * give coverage 1/2 at accuracy 1; the rule cannot, so at 0.9 only 0.9 qualifies. */
    const double ct[] = {0.9, 0.7, 0.7, 0.5};
    const unsigned char okt[] = {1, 1, 0, 1};
    assert_int_equal(slm_coverage_at(ct, okt, 4, 0.9, &cov, &thr, &acc), 0);
    assert_near(cov, 0.25, 0);
    assert_near(thr, 0.9, 0);
    assert_near(acc, 1, 0);
    assert_int_equal(slm_coverage_at(ct, okt, 4, 0.75, &cov, &thr, &acc), 0);
    assert_near(cov, 1, 0);
    assert_near(thr, 0.5, 0);
    /* Confidences 1 and 0. */
    const double ends[] = {1, 0};
    const unsigned char eok[] = {1, 0};
    assert_int_equal(slm_coverage_at(ends, eok, 2, 1.0, &cov, &thr, &acc), 0);
    assert_near(cov, 0.5, 0);
    assert_near(thr, 1, 0);
    assert_int_equal(slm_coverage_at(ends, eok, 2, 0.5, &cov, &thr, &acc), 0);
    assert_near(cov, 1, 0);
    assert_near(thr, 0, 0);
    assert_near(acc, 0.5, 0);
    /* No threshold qualifies: not an error, coverage 0, NaN threshold and accuracy. */
    const unsigned char none[] = {0, 0, 0, 0};
    assert_int_equal(slm_coverage_at(c, none, 4, 0.5, &cov, &thr, &acc), 0);
    assert_near(cov, 0, 0);
    assert_nan(thr);
    assert_nan(acc);
    /* Target 0 accepts everything, even all wrong. All right meets target 1 at full cover. */
    assert_int_equal(slm_coverage_at(c, none, 4, 0, &cov, &thr, &acc), 0);
    assert_near(cov, 1, 0);
    assert_near(thr, 0.6, 0);
    const unsigned char all[] = {1, 1, 1, 1};
    assert_int_equal(slm_coverage_at(c, all, 4, 1, &cov, &thr, &acc), 0);
    assert_near(cov, 1, 0);
    /* One example. */
    assert_int_equal(slm_coverage_at(c, all, 1, 0.99, &cov, &thr, &acc), 0);
    assert_near(cov, 1, 0);
    assert_near(thr, 0.6, 0);
    /* Errors: n == 0, NaN target, NaN confidence. */
    assert_int_equal(slm_coverage_at(c, ok, 0, 0.5, &cov, &thr, &acc), -1);
    assert_nan(cov);
    assert_int_equal(slm_coverage_at(c, ok, 4, NAN, &cov, &thr, &acc), -1);
    const double nanc[] = {0.5, NAN};
    assert_int_equal(slm_coverage_at(nanc, ok, 2, 0.5, &cov, &thr, &acc), -1);
}

static void risk_coverage_hand(void **state)
{
    (void)state;
    /* 0.9 R | 0.6 W, 0.6 R | 0.2 W → three points: (1/4, 0, 0.9), (3/4, 1/3, 0.6),
     * (1, 1/2, 0.2). */
    const double c[] = {0.6, 0.2, 0.9, 0.6};
    const unsigned char ok[] = {0, 0, 1, 1};
    double cov[4], risk[4], thr[4];
    assert_int_equal(slm_risk_coverage(c, ok, 4, cov, risk, thr), 3);
    const double ec[] = {0.25, 0.75, 1}, er[] = {0, 1.0 / 3, 0.5}, et[] = {0.9, 0.6, 0.2};
    for (int j = 0; j < 3; j++) {
        assert_near(cov[j], ec[j], TOL);
        assert_near(risk[j], er[j], TOL);
        assert_near(thr[j], et[j], 0);
    }
    const double same[] = {0.5, 0.5};
    assert_int_equal(slm_risk_coverage(same, ok, 2, cov, risk, thr), 1);
    assert_near(cov[0], 1, 0);
    assert_near(risk[0], 1, 0);
    assert_int_equal(slm_risk_coverage(same, ok, 0, cov, risk, thr), 0);
    const double nanc[] = {NAN};
    assert_int_equal(slm_risk_coverage(nanc, ok, 1, cov, risk, thr), 0);
}

/* ---- uncertainty --------------------------------------------------------------------- */

static void rng_stream(void **state)
{
    (void)state;
    /* The seeded state is splitmix64's stream from 0; its published first outputs. */
    slm_rng r, r2;
    slm_rng_seed(&r, 0);
    assert_true(r.s[0] == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(r.s[1] == UINT64_C(0x6e789e6aa1b965f4));
    assert_true(r.s[2] == UINT64_C(0x06c45d188009454f));
    assert_true(r.s[3] == UINT64_C(0xf88bb8a8724c81ec));
    /* Same seed, same stream; another seed, another stream. */
    slm_rng_seed(&r, 42);
    slm_rng_seed(&r2, 42);
    for (int i = 0; i < 100; i++)
        assert_true(slm_rng_u64(&r) == slm_rng_u64(&r2));
    slm_rng_seed(&r2, 43);
    assert_true(slm_rng_u64(&r) != slm_rng_u64(&r2));
    /* below(): in range, every value reached, roughly uniform (30000 draws of 3: each
     * count 10000 ± 5 sd of 82). */
    assert_true(slm_rng_below(&r, 0) == 0);
    assert_true(slm_rng_below(&r, 1) == 0);
    long cnt[3] = {0, 0, 0};
    for (int i = 0; i < 30000; i++) {
        uint64_t v = slm_rng_below(&r, 3);
        assert_true(v < 3);
        cnt[v]++;
    }
    for (int j = 0; j < 3; j++)
        assert_true(cnt[j] > 9590 && cnt[j] < 10410);
    /* A bound just above 2^63 rejects almost half the draws; results still in range. */
    uint64_t big = (UINT64_C(1) << 63) + 1;
    for (int i = 0; i < 1000; i++)
        assert_true(slm_rng_below(&r, big) < big);
}

typedef struct boot_data {
    const double *x;
    double constant;
} boot_data;

static double stat_mean(const size_t *idx, size_t n, void *ud)
{
    const boot_data *d = ud;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += d->x[idx[i]];
    return s / (double)n;
}

static double stat_constant(const size_t *idx, size_t n, void *ud)
{
    (void)idx;
    (void)n;
    return ((const boot_data *)ud)->constant;
}

/* NaN on every resample that contains index 0: skipped, not fatal. */
static double stat_nan_with_0(const size_t *idx, size_t n, void *ud)
{
    for (size_t i = 0; i < n; i++)
        if (idx[i] == 0)
            return NAN;
    return stat_mean(idx, n, ud);
}

static void bootstrap_cases(void **state)
{
    (void)state;
    const double x[] = {0, 1, 1, 0, 1, 1, 1, 0, 1, 1};
    boot_data d = {x, 0.25};
    double lo, hi, se, lo2, hi2, se2;
    /* Deterministic for a seed; the interval brackets the sample mean 0.7. */
    assert_int_equal(slm_bootstrap_ci(10, stat_mean, &d, 1000, 7, 0.95, &lo, &hi, &se), 0);
    assert_int_equal(slm_bootstrap_ci(10, stat_mean, &d, 1000, 7, 0.95, &lo2, &hi2, &se2), 0);
    assert_near(lo, lo2, 0);
    assert_near(hi, hi2, 0);
    assert_near(se, se2, 0);
    assert_true(lo < 0.7 && 0.7 < hi && lo >= 0 && hi <= 1);
    /* se near the binomial sd sqrt(0.7*0.3/10) = 0.145. */
    assert_true(se > 0.12 && se < 0.17);
    /* A narrower level gives a nested interval. */
    assert_int_equal(slm_bootstrap_ci(10, stat_mean, &d, 1000, 7, 0.5, &lo2, &hi2, NULL), 0);
    assert_true(lo <= lo2 && hi2 <= hi);
    /* A constant statistic: lo = hi = the constant, se 0. */
    assert_int_equal(slm_bootstrap_ci(10, stat_constant, &d, 200, 1, 0.95, &lo, &hi, &se), 0);
    assert_near(lo, 0.25, 0);
    assert_near(hi, 0.25, 0);
    assert_near(se, 0, 0);
    /* NaN replicates skipped; with every replicate NaN it fails. */
    assert_int_equal(slm_bootstrap_ci(10, stat_nan_with_0, &d, 500, 3, 0.95, &lo, &hi, &se), 0);
    assert_true(lo <= hi);
    assert_int_equal(slm_bootstrap_ci(1, stat_nan_with_0, &d, 50, 3, 0.95, &lo, &hi, &se), -1);
    assert_nan(lo);
    assert_nan(hi);
    assert_nan(se);
    /* Errors. */
    assert_int_equal(slm_bootstrap_ci(0, stat_mean, &d, 10, 1, 0.95, &lo, &hi, &se), -1);
    assert_int_equal(slm_bootstrap_ci(10, stat_mean, &d, 0, 1, 0.95, &lo, &hi, &se), -1);
    assert_int_equal(slm_bootstrap_ci(10, NULL, &d, 10, 1, 0.95, &lo, &hi, &se), -1);
    assert_int_equal(slm_bootstrap_ci(10, stat_mean, &d, 10, 1, 1.0, &lo, &hi, &se), -1);
    assert_int_equal(slm_bootstrap_ci(10, stat_mean, &d, 10, 1, 0, &lo, &hi, &se), -1);
    assert_int_equal(slm_bootstrap_ci(10, stat_mean, &d, 10, 1, NAN, &lo, &hi, &se), -1);
}

static void paired_bootstrap_cases(void **state)
{
    (void)state;
    const double x[] = {0, 1, 1, 0, 1, 1, 1, 0, 1, 1};
    double lo, hi, p, lo2, hi2, p2;
    /* Always +1: no replicate <= 0 → p = 2 (0 + 1)/(100 + 1), its floor; lo = hi = 1. */
    boot_data d = {x, 1};
    assert_int_equal(slm_paired_bootstrap(10, stat_constant, &d, 100, 5, &lo, &hi, &p), 0);
    assert_near(lo, 1, 0);
    assert_near(hi, 1, 0);
    assert_near(p, 2.0 / 101.0, 0);
    /* Always 0: both shares are 1 → 2 capped to 1. */
    d.constant = 0;
    assert_int_equal(slm_paired_bootstrap(10, stat_constant, &d, 100, 5, &lo, &hi, &p), 0);
    assert_near(p, 1, 0);
    /* The mean of x (all >= 0, some 1): every replicate > 0 unless all draws hit zeros
     * (0.3^10, about 6e-6): p at its floor 2/1001 for this seed, and deterministic. */
    assert_int_equal(slm_paired_bootstrap(10, stat_mean, &d, 1000, 9, &lo, &hi, &p), 0);
    assert_int_equal(slm_paired_bootstrap(10, stat_mean, &d, 1000, 9, &lo2, &hi2, &p2), 0);
    assert_near(lo, lo2, 0);
    assert_near(hi, hi2, 0);
    assert_near(p, p2, 0);
    assert_near(p, 2.0 / 1001.0, 0);
    /* Centred data {-1, 1}: about half each side, p near 1 (and never above). */
    const double pm[] = {-1, 1, -1, 1, -1, 1, -1, 1, 0, 0, 0};
    boot_data e = {pm, 0};
    assert_int_equal(slm_paired_bootstrap(11, stat_mean, &e, 2000, 11, &lo, &hi, &p), 0);
    assert_true(p > 0.8 && p <= 1);
    assert_true(lo < 0 && hi > 0);
    assert_int_equal(slm_paired_bootstrap(0, stat_mean, &e, 10, 1, &lo, &hi, &p), -1);
    assert_nan(p);
    assert_int_equal(slm_paired_bootstrap(11, NULL, &e, 10, 1, &lo, &hi, &p), -1);
}

static void mcnemar_cases(void **state)
{
    (void)state;
    int exact = -1;
    /* b=10, c=2: n=12, P[X<=2] = (1+12+66)/4096 → p = 158/4096 = 0.03857421875. */
    assert_near(slm_mcnemar_p(10, 2, &exact), 0.03857421875, 0);
    assert_int_equal(exact, 1);
    assert_near(slm_mcnemar_p(2, 10, &exact), 0.03857421875, 0);
    /* b+c = 24, still exact: sum_{i<=7} C(24,i) = 536155 → p = 1072310/2^24. */
    assert_near(slm_mcnemar_p(17, 7, &exact), 1072310.0 / 16777216.0, 0);
    assert_int_equal(exact, 1);
    /* b+c = 25 switches to chi-square: x = (11-1)^2/25 = 4, p = erfc(sqrt 2). */
    assert_near(slm_mcnemar_p(18, 7, &exact), 0.045500263896358396, 1e-15);
    assert_int_equal(exact, 0);
    /* Small cases: 0/5 → 2/32; 0/1 → 1; balanced → capped at 1; nothing discordant → 1. */
    assert_near(slm_mcnemar_p(0, 5, NULL), 0.0625, 0);
    assert_near(slm_mcnemar_p(0, 1, NULL), 1, 0);
    assert_near(slm_mcnemar_p(5, 5, NULL), 1, 0);
    assert_near(slm_mcnemar_p(0, 0, &exact), 1, 0);
    assert_int_equal(exact, 1);
    /* Chi-square at b == c: x = 1/(b+c), uncorrected by a floor (DESIGN §6 as written). */
    assert_near(slm_mcnemar_p(15, 15, &exact), erfc(sqrt(1.0 / 60)), 1e-15);
    assert_int_equal(exact, 0);
    assert_nan(slm_mcnemar_p(-1, 3, &exact));
    assert_int_equal(exact, 0);
}

static void holm_cases(void **state)
{
    (void)state;
    /* Sorted 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04, but
     * monotone: 0.06). Input order: 0.03, 0.06, 0.06, 0.02. */
    const double p[] = {0.01, 0.04, 0.03, 0.005};
    double adj[4];
    slm_holm(p, 4, adj);
    const double want[] = {0.03, 0.06, 0.06, 0.02};
    for (int i = 0; i < 4; i++)
        assert_near(adj[i], want[i], TOL);
    /* Capped at 1. */
    double cap[] = {0.5, 0.6};
    slm_holm(cap, 2, cap); /* in place */
    assert_near(cap[0], 1, 0);
    assert_near(cap[1], 1, 0);
    /* Ties get one value: 0.02 x3 = 0.06 for both; 0.5 x1 = 0.5. */
    const double t[] = {0.5, 0.02, 0.02};
    double at[3];
    slm_holm(t, 3, at);
    assert_near(at[0], 0.5, TOL);
    assert_near(at[1], 0.06, TOL);
    assert_near(at[2], 0.06, TOL);
    /* One p-value is its own adjustment; NaN poisons all. */
    const double one = 0.2;
    double a1;
    slm_holm(&one, 1, &a1);
    assert_near(a1, 0.2, 0);
    const double withnan[] = {0.1, NAN};
    double an[2];
    slm_holm(withnan, 2, an);
    assert_nan(an[0]);
    assert_nan(an[1]);
    slm_holm(NULL, 0, NULL); /* m == 0: nothing touched */
}

/* ---- temperature scaling ------------------------------------------------------------- */

static void temperature_fit_cases(void **state)
{
    (void)state;
    /* Logits {1, 0}, three gold 0 and one gold 1: the NLL is minimised where
     * sigma(1/T) = 3/4, i.e. 1/T = ln 3, T = 1/ln 3 = 0.9102392266268373. */
    const double l[] = {1, 0, 1, 0, 1, 0, 1, 0};
    const int g[] = {0, 0, 0, 1};
    assert_near(slm_fit_temperature(l, g, 4, 2), 0.9102392266268373, 1e-7);
    /* Scaling the scores by 10 scales T by 10. */
    const double l10[] = {10, 0, 10, 0, 10, 0, 10, 0};
    assert_near(slm_fit_temperature(l10, g, 4, 2), 9.102392266268373, 1e-6);
    /* Separable (always right): sharper is always better → the lower bound 0.01; always
     * wrong → the upper bound 100. */
    const int g0[] = {0, 0, 0, 0}, g1[] = {1, 1, 1, 1};
    assert_near(slm_fit_temperature(l, g0, 4, 2), 0.01, 1e-9);
    assert_near(slm_fit_temperature(l, g1, 4, 2), 100, 1e-6);
    /* Flat objective: one class, or constant rows → 1. */
    assert_near(slm_fit_temperature(l, g0, 4, 1), 1, 0);
    const double flat[] = {2, 2, 2, 2};
    assert_near(slm_fit_temperature(flat, g, 2, 2), 1, 0);
    /* -inf for a wrong label is fine (probability 0 at any T): only the other rows
     * matter. Here row 3 is {-inf, 0} gold 1, NLL 0 at every T, so T is as before the
     * three {1,0} rows gold 0 → separable → 0.01. */
    const double li[] = {1, 0, 1, 0, 1, 0, -INFINITY, 0};
    const int gi[] = {0, 0, 0, 1};
    assert_near(slm_fit_temperature(li, gi, 4, 2), 0.01, 1e-9);
    /* Errors. */
    const int gbad[] = {0, 2};
    assert_nan(slm_fit_temperature(l, gbad, 2, 2));
    assert_nan(slm_fit_temperature(l, g, 0, 2));
    assert_nan(slm_fit_temperature(l, g, 4, 0));
    const double lnan[] = {NAN, 0}, linf[] = {INFINITY, 0}, lgold[] = {-INFINITY, 0};
    assert_nan(slm_fit_temperature(lnan, g, 1, 2));
    assert_nan(slm_fit_temperature(linf, g, 1, 2));
    assert_nan(slm_fit_temperature(lgold, g, 1, 2));
}

static void temperature_apply_cases(void **state)
{
    (void)state;
    /* Scores ln 1, ln 3: T = 1 → 1/4, 3/4; T = 1/2 squares them → 1/10, 9/10;
     * T = 2 → 1 : sqrt 3. */
    double l[] = {0, log(3), -INFINITY, 0}, p[4];
    slm_apply_temperature(l, 2, 2, 1, p);
    assert_near(p[0], 0.25, TOL);
    assert_near(p[1], 0.75, TOL);
    assert_near(p[2], 0, 0);
    assert_near(p[3], 1, 0);
    slm_apply_temperature(l, 2, 2, 0.5, p);
    assert_near(p[0], 0.1, TOL);
    assert_near(p[1], 0.9, TOL);
    slm_apply_temperature(l, 1, 2, 2, l); /* in place */
    assert_near(l[0], 1 / (1 + sqrt(3)), TOL);
    assert_near(l[1], sqrt(3) / (1 + sqrt(3)), TOL);
    const double bad_t[] = {0, -1, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        slm_apply_temperature(l, 1, 2, bad_t[i], p);
        assert_nan(p[0]);
        assert_nan(p[1]);
    }
}

/* Recall spread: only real labels with gold examples count; an invalid-output class
 * (index >= n_labels) and a label without support are left out. */
static void recall_spread_cases(void **state)
{
    (void)state;
    /* labels a=0, b=1, c=2 (c never gold); class 3 an invalid output */
    int gold[] = {0, 0, 0, 0, 1, 1};
    int pred[] = {0, 0, 0, 3, 1, 2};
    slm_cls_metrics m;
    assert_int_equal(slm_cls_metrics_compute(gold, pred, 6, 4, &m, NULL, 0), 0);
    /* recall a = 3/4, recall b = 1/2; c has no support */
    assert_true(fabs(slm_recall_spread(&m, 3) - 0.25) < 1e-12);
    /* only label a counted: one class, no spread */
    assert_true(slm_recall_spread(&m, 1) == 0.0);
    assert_true(isnan(slm_recall_spread(&m, 0)));
    assert_true(isnan(slm_recall_spread(NULL, 3)));
    slm_cls_metrics_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cls_hand_case),
        cmocka_unit_test(cls_never_predicted_never_present),
        cmocka_unit_test(cls_invalid_prediction_class),
        cmocka_unit_test(cls_ties_constant_predictor),
        cmocka_unit_test(cls_one_example),
        cmocka_unit_test(cls_all_correct),
        cmocka_unit_test(cls_all_wrong),
        cmocka_unit_test(recall_spread_cases),
        cmocka_unit_test(cls_errors),
        cmocka_unit_test(percentile_numpy_values),
        cmocka_unit_test(percentile_unsorted_ties_missing),
        cmocka_unit_test(percentile_edge_cases),
        cmocka_unit_test(summarize_hand),
        cmocka_unit_test(summarize_one_and_none),
        cmocka_unit_test(softmax_cases),
        cmocka_unit_test(softmax_order_free),
        cmocka_unit_test(brier_hand),
        cmocka_unit_test(nll_hand),
        cmocka_unit_test(ece_bin_every_edge),
        cmocka_unit_test(ece_all_edges),
        cmocka_unit_test(ece_hand_small),
        cmocka_unit_test(ece_equal_mass_ties),
        cmocka_unit_test(ece_equal_mass_split),
        cmocka_unit_test(ece_errors),
        cmocka_unit_test(classwise_ece_hand),
        cmocka_unit_test(aurc_hand),
        cmocka_unit_test(coverage_at_hand),
        cmocka_unit_test(risk_coverage_hand),
        cmocka_unit_test(rng_stream),
        cmocka_unit_test(bootstrap_cases),
        cmocka_unit_test(paired_bootstrap_cases),
        cmocka_unit_test(mcnemar_cases),
        cmocka_unit_test(holm_cases),
        cmocka_unit_test(temperature_fit_cases),
        cmocka_unit_test(temperature_apply_cases),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
