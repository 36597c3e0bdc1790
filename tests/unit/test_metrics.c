/*
 * test_metrics.c — metrics.c against numbers worked out by hand from the DESIGN §6
 * definitions (the working is in the comments, so a reader can check each expectation
 * without running anything) and against numpy's documented percentile results.
 */
#include <math.h>
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
     * P = 1/3, 1, 0 (0/0), 0 (0/0); R = 1, 1/2, 0, 0 (0/0); F1 = 1/2, 2/3, 0, 0.
     * macro = (1/2 + 2/3 + 0)/3 = 7/18; weighted = (1*1/2 + 2*2/3 + 1*0)/4 = 11/24;
     * accuracy = micro = 2/4. */
    const int gold[] = {0, 1, 1, 2}, pred[] = {0, 1, 0, 0};
    slm_cls_metrics m;
    assert_int_equal(slm_cls_metrics_compute(gold, pred, 4, 4, &m, NULL, 0), 0);
    const unsigned char present[] = {1, 1, 1, 0};
    const double p[] = {1.0 / 3, 1, 0, 0}, r[] = {1, 0.5, 0, 0}, f[] = {0.5, 2.0 / 3, 0, 0};
    for (size_t c = 0; c < 4; c++) {
        assert_int_equal(m.present[c], present[c]);
        assert_near(m.precision[c], p[c], TOL);
        assert_near(m.recall[c], r[c], TOL);
        assert_near(m.f1[c], f[c], TOL);
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
     * P = 1, 1, 0; R = 1/2, 1, 0 (0/0); F1 = 2/3, 1, 0.
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
    assert_near(m.recall[2], 0, TOL);
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
     * P 0 (0/0), R 0, F1 0. macro = 1/3; weighted = (2*2/3 + 2*0)/4 = 1/3; accuracy 1/2. */
    const int gold[] = {0, 1, 0, 1}, pred[] = {0, 0, 0, 0};
    slm_cls_metrics m;
    assert_int_equal(slm_cls_metrics_compute(gold, pred, 4, 2, &m, NULL, 0), 0);
    assert_near(m.precision[0], 0.5, TOL);
    assert_near(m.recall[0], 1, TOL);
    assert_near(m.f1[0], 2.0 / 3, TOL);
    assert_near(m.precision[1], 0, TOL);
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
    /* Same data, 2 equal-mass bins. Sorted by (conf, index): 0.3 (#3, wrong), 0.6 (#2,
     * right), 0.9 (#0, right), 0.9 (#1, wrong) — the tie at 0.9 keeps index order.
     * Bin 0 = positions [0, 2): conf 0.45, acc 0.5, gap 0.05. Bin 1 = [2, 4): conf 0.9,
     * acc 0.5, gap 0.4. ECE = 0.5*0.05 + 0.5*0.4 = 0.225; MCE = 0.4. */
    const double conf[] = {0.9, 0.9, 0.6, 0.3};
    const unsigned char ok[] = {1, 0, 1, 0};
    double mce, bconf[2], bacc[2];
    long cnt[2];
    assert_near(slm_ece(conf, ok, 4, 2, 1, &mce, cnt, bconf, bacc), 0.225, TOL);
    assert_near(mce, 0.4, TOL);
    assert_int_equal(cnt[0], 2);
    assert_int_equal(cnt[1], 2);
    assert_near(bconf[0], 0.45, TOL);
    assert_near(bacc[0], 0.5, 0);

    /* Ties straddling a boundary: three at 0.5 in 3 bins, right/wrong/right by index.
     * Each bin gets one example in index order: gaps 0.5, 0.5, 0.5 → ECE 0.5. */
    const double same[] = {0.5, 0.5, 0.5};
    const unsigned char rwr[] = {1, 0, 1};
    double bacc3[3];
    assert_near(slm_ece(same, rwr, 3, 3, 1, &mce, NULL, NULL, bacc3), 0.5, TOL);
    assert_near(bacc3[0], 1, 0);
    assert_near(bacc3[1], 0, 0);
    assert_near(bacc3[2], 1, 0);
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
    /* n = 16: bin b = [floor(16b/15), floor(16(b+1)/15)); floor(16b/15) = b for b <= 14,
     * so bins 0..13 hold one and bin 14 holds positions 14, 15. */
    slm_ece(conf, ok, 16, B, 1, NULL, cnt, NULL, NULL);
    for (int b = 0; b < B - 1; b++)
        assert_int_equal(cnt[b], 1);
    assert_int_equal(cnt[B - 1], 2);
    /* n = 3: floor(3b/15) = floor(b/5) → bins 4, 9 and 14 hold one each, the rest none. */
    double bconf[B];
    slm_ece(conf, ok, 3, B, 1, NULL, cnt, bconf, NULL);
    for (int b = 0; b < B; b++) {
        assert_int_equal(cnt[b], (b == 4 || b == 9 || b == 14) ? 1 : 0);
        if (!cnt[b])
            assert_nan(bconf[b]);
    }
    /* Sorted ascending: conf[2] = 13/15 < conf[1] < conf[0] = 1. */
    assert_near(bconf[4], 13.0 / 15, 0);
    assert_near(bconf[14], 1, 0);
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
        cmocka_unit_test(cls_errors),
        cmocka_unit_test(percentile_numpy_values),
        cmocka_unit_test(percentile_unsorted_ties_missing),
        cmocka_unit_test(percentile_edge_cases),
        cmocka_unit_test(summarize_hand),
        cmocka_unit_test(summarize_one_and_none),
        cmocka_unit_test(softmax_cases),
        cmocka_unit_test(brier_hand),
        cmocka_unit_test(nll_hand),
        cmocka_unit_test(ece_bin_every_edge),
        cmocka_unit_test(ece_all_edges),
        cmocka_unit_test(ece_hand_small),
        cmocka_unit_test(ece_equal_mass_ties),
        cmocka_unit_test(ece_equal_mass_split),
        cmocka_unit_test(ece_errors),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
