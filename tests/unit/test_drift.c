/*
 * test_drift.c — the statistics behind `slmbench drift`: the chi-square survival function
 * (regularized upper incomplete gamma) against published table values and closed forms,
 * the strict YYYY-MM month parser, and every test of drift_stats.h against values
 * computed independently with /usr/bin/python3 and numpy (no scipy): Yates' chi-square
 * as N(|ad - bc| - min(N/2, |ad - bc|))^2 / (r1 r2 c1 c2) with p = erfc(sqrt(x/2)),
 * Fisher's exact p by summing math.comb hypergeometric terms no likelier than the table,
 * McNemar from its formula, Wilson, Newcombe and Agresti–Min from their formulas,
 * Benjamini–Hochberg with numpy's argsort and minimum.accumulate, Pearson's chi-square
 * with the chi-square(df) tail in closed form, and the exact permutation distribution of
 * small tables by enumerating every table with the same margins. The review itself is
 * tested end to end by tests/cli/test_drift.sh, the false-alarm rate and the power by
 * test_drift_null.c.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drift.h"
#include "drift_stats.h"
#include "metrics.h"
#include "util.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* Critical values of chi-square tables: P[X >= x] at the 5% and 1% levels. */
static void chi2_table_values(void **state)
{
    (void)state;
    NEAR(slm_chi2_sf(3.841, 1), 0.05, 1e-4);
    NEAR(slm_chi2_sf(3.841458820694124, 1), 0.05, 1e-12);
    NEAR(slm_chi2_sf(9.488, 4), 0.05, 1e-4);
    NEAR(slm_chi2_sf(9.487729036781154, 4), 0.05, 1e-12);
    NEAR(slm_chi2_sf(6.634896601021214, 1), 0.01, 1e-12);
    NEAR(slm_chi2_sf(18.307038053275146, 10), 0.05, 1e-12);
    NEAR(slm_chi2_sf(124.34211340400407, 100), 0.05, 1e-10);
    /* the lower tail: almost everything lies above a small x with many df */
    NEAR(slm_chi2_sf(2, 10), 0.9963401531726563, 1e-12);
}

/* Closed forms: df = 2 is exponential, df = 1 is erfc(sqrt(x/2)). */
static void chi2_closed_forms(void **state)
{
    (void)state;
    for (double x = 0.01; x < 80; x *= 1.7) {
        NEAR(slm_chi2_sf(x, 2), exp(-x / 2), 1e-13 + 1e-12 * exp(-x / 2));
        double want = erfc(sqrt(x / 2));
        assert_true(fabs(slm_chi2_sf(x, 1) - want) <= 1e-12 * want + 1e-300);
    }
    /* Q(a, x) for integer a: e^-x sum_{k<a} x^k/k! */
    double x = 3.5, term = 1, sum = 0;
    for (int k = 0; k < 5; k++) {
        sum += term;
        term *= x / (k + 1);
    }
    NEAR(slm_gamma_q(5, x), exp(-x) * sum, 1e-14);
}

static void chi2_edges(void **state)
{
    (void)state;
    assert_true(slm_chi2_sf(0, 3) == 1.0);
    assert_true(slm_chi2_sf(-1, 3) == 1.0);
    assert_true(slm_chi2_sf(INFINITY, 3) == 0.0);
    assert_true(isnan(slm_chi2_sf(1, 0)));
    assert_true(isnan(slm_chi2_sf(NAN, 2)));
    assert_true(isnan(slm_gamma_q(-1, 1)));
    assert_true(slm_chi2_sf(1e4, 3) >= 0 && slm_chi2_sf(1e4, 3) < 1e-300);
    /* monotone decreasing in x */
    double prev = 1;
    for (double x = 0.1; x < 60; x += 0.37) {
        double p = slm_chi2_sf(x, 7);
        assert_true(p <= prev && p >= 0);
        prev = p;
    }
}

static void parse_month(void **state)
{
    (void)state;
    int y = 0, m = 0;
    char err[128];
    assert_int_equal(slm_drift_parse_month("2026-11", &y, &m, err, sizeof err), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 11);
    assert_int_equal(slm_drift_parse_month("2026-01", &y, &m, err, sizeof err), 0);
    const char *bad[] = {"2026-13", "2026-00", "26-11", "2026-1", "2026/11", "2026-11-01",
                         "", "abcd-ef", " 2026-11"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(slm_drift_parse_month(bad[i], &y, &m, err, sizeof err), -1);
}


/* ---- drift_stats.h ------------------------------------------------------------------- */

#define REF(a, b) NEAR((a), (b), 1e-12 * (1 + fabs(b)))

static void yates_fisher_reference(void **state)
{
    (void)state;
    double x;
    REF(slm_yates_p(45, 15, 30, 30, &x), 0.008293898079160129);
    REF(x, 6.9688888888888885);
    REF(slm_yates_p(300, 100, 268, 132, &x), 0.015718066247835543);
    REF(x, 5.8341427877610492);
    /* |ad - bc| = 10 below N/2: the correction stops at 0, p = 1 */
    assert_true(slm_yates_p(10, 10, 10, 11, &x) == 1.0 && x == 0);
    assert_true(isnan(slm_yates_p(0, 0, 3, 4, NULL)) && isnan(slm_yates_p(-1, 2, 3, 4, NULL)));
    REF(slm_fisher_p(3, 1, 1, 3), 0.48571428571428571);
    REF(slm_fisher_p(8, 2, 1, 5), 0.034965034965034961);
    REF(slm_fisher_p(1, 9, 6, 4), 0.057275541795665637);
    REF(slm_fisher_p(0, 5, 5, 0), 0.0079365079365079361);
    assert_true(slm_fisher_p(2, 0, 0, 0) == 1.0);
    assert_int_equal(slm_2x2_small(8, 2, 1, 5), 1);
    assert_int_equal(slm_2x2_small(300, 100, 268, 132), 0);
    double lo, hi;
    slm_wilson(268, 400, 1.959963984540054, &lo, &hi);
    REF(lo, 0.62249409588500704);
    REF(hi, 0.71427172404133221);
    slm_newcombe(300, 400, 268, 400, 1.959963984540054, &lo, &hi);
    REF(lo, -0.14205236522578765);
    REF(hi, -0.017103006776977028);
}

/* n examples of two labels (gold i % 2); right[i] says whether pred = gold. */
typedef struct toy {
    char *ids[400];
    int gold[400], pred[400];
    double conf[400];
    slm_drift_sample s;
} toy;

static void toy_make(toy *t, size_t n, const int *right, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        t->ids[i] = slm_xasprintf("%s%zu", prefix, i);
        t->gold[i] = (int)(i % 2);
        t->pred[i] = right[i] ? t->gold[i] : 1 - t->gold[i];
        t->conf[i] = 0.5 + 0.5 * (double)((i * 37) % 100) / 100.0;
    }
    t->s = (slm_drift_sample){n, 2, 2, (const char *const *)t->ids, t->gold, t->pred, t->conf,
                              NULL, NULL};
}

static void toy_free(toy *t)
{
    for (size_t i = 0; i < t->s.n; i++)
        free(t->ids[i]);
}

/* Paired: 30 right only in a, 12 right only in b, 108 right in both, 50 in neither. */
static void mcnemar_reference(void **state)
{
    (void)state;
    int ra[200], rb[200];
    for (int i = 0; i < 200; i++) {
        ra[i] = i < 30 || (i >= 42 && i < 150);
        rb[i] = (i >= 30 && i < 150);
    }
    toy a, b;
    toy_make(&a, 200, ra, "x");
    toy_make(&b, 200, rb, "x");
    slm_drift_pairs pp;
    assert_int_equal(slm_drift_pair(&a.s, &b.s, &pp), 0);
    assert_int_equal(pp.n, 200);
    slm_drift_cfg cfg = {100, 1, NAN, -1, -1};
    slm_drift_diff r;
    assert_int_equal(slm_drift_compare(SLM_DK_ACCURACY, &a.s, &b.s, &pp, &cfg, &r), 0);
    assert_string_equal(r.method, "mcnemar-chi2-cc");
    assert_int_equal(r.only_a, 30);
    assert_int_equal(r.only_b, 12);
    REF(r.p, 0.0087119129623795984);
    REF(r.diff, -0.089999999999999997);
    REF(r.lo, -0.15153643606535275);
    REF(r.hi, -0.026681385716825462);
    /* the recall of label 1 is the same test on the odd examples: 15 and 6 discordant */
    slm_drift_cfg c1 = {100, 1, NAN, 1, 1};
    assert_int_equal(slm_drift_compare(SLM_DK_ACCURACY, &a.s, &b.s, &pp, &c1, &r), 0);
    assert_int_equal(r.n_pairs, 100);
    assert_int_equal(r.only_a + r.only_b, 21);
    assert_string_equal(r.method, "mcnemar-exact");
    slm_drift_pairs_free(&pp);
    toy_free(&a), toy_free(&b);
}

/* Independent: 300/400 right, then 268/400; and a small table, 8/10 then 1/6. */
static void two_proportion_reference(void **state)
{
    (void)state;
    int ra[400], rb[400];
    for (int i = 0; i < 400; i++)
        ra[i] = i < 300, rb[i] = i < 268;
    toy a, b;
    toy_make(&a, 400, ra, "a");
    toy_make(&b, 400, rb, "b");
    slm_drift_cfg cfg = {100, 1, NAN, -1, -1};
    slm_drift_diff r;
    assert_int_equal(slm_drift_compare(SLM_DK_ACCURACY, &a.s, &b.s, NULL, &cfg, &r), 0);
    assert_string_equal(r.method, "chi2-yates");
    REF(r.p, 0.015718066247835543);
    REF(r.diff, -0.07999999999999996);
    REF(r.lo, -0.14205236522578765);
    REF(r.hi, -0.017103006776977028);
    toy_free(&a), toy_free(&b);
    int sa[10] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, sb[6] = {1, 0, 0, 0, 0, 0};
    toy_make(&a, 10, sa, "a");
    toy_make(&b, 6, sb, "b");
    assert_int_equal(slm_drift_compare(SLM_DK_ACCURACY, &a.s, &b.s, NULL, &cfg, &r), 0);
    assert_string_equal(r.method, "fisher-exact");
    REF(r.p, 0.034965034965034961);
    toy_free(&a), toy_free(&b);
}

static void bh_reference(void **state)
{
    (void)state;
    /* numpy: o = argsort(p); adj = minimum.accumulate((m p[o] / (1..m))[::-1])[::-1] */
    double p[] = {0.01, 0.04, 0.03, 0.005, 0.2, NAN, 0.04}, adj[7];
    const double want[] = {0.029999999999999999, 0.048000000000000001, 0.048000000000000001,
                           0.029999999999999999, 0.20000000000000004, NAN,
                           0.048000000000000001};
    slm_bh(p, 7, adj);
    for (int i = 0; i < 7; i++)
        if (isnan(want[i]))
            assert_true(isnan(adj[i]));
        else
            REF(adj[i], want[i]);
    slm_bh(p, 7, p); /* in place */
    REF(p[4], 0.20000000000000004);
    double one = 0.3;
    slm_bh(&one, 1, &one);
    assert_true(one == 0.3);
    slm_bh(NULL, 0, NULL);
}

static void label_test_reference(void **state)
{
    (void)state;
    slm_label_test t;
    long a3[] = {80, 60, 60, 0}, b3[] = {50, 70, 80, 0};
    assert_int_equal(slm_label_test_run(a3, b3, 4, 200, 1, &t), 0);
    assert_string_equal(t.method, "chi2");
    assert_int_equal(t.df, 2); /* the label seen in neither run is dropped */
    REF(t.chi2, 10.549450549450549);
    REF(t.p, 0.0051193629334893255);
    REF(t.tvd, 0.15000000000000002);
    long a4[] = {30, 40, 50, 60}, b4[] = {60, 50, 40, 30};
    assert_int_equal(slm_label_test_run(a4, b4, 4, 200, 1, &t), 0);
    REF(t.chi2, 22.222222222222221);
    REF(t.p, 5.8641829594820408e-05);
    REF(t.tvd, 0.22222222222222221);
    long a2[] = {30, 70}, b2[] = {45, 55};
    assert_int_equal(slm_label_test_run(a2, b2, 2, 200, 1, &t), 0);
    assert_string_equal(t.method, "chi2-yates");
    REF(t.chi2, 4.1813333333333329);
    REF(t.p, 0.040871534089006199);
    /* small expected counts, two labels: Fisher; its TVD under no drift is exact here */
    long s2a[] = {1, 9}, s2b[] = {6, 4};
    assert_int_equal(slm_label_test_run(s2a, s2b, 2, 20000, 3, &t), 0);
    assert_string_equal(t.method, "fisher-exact");
    assert_true(t.small);
    REF(t.p, 0.057275541795665637);
    NEAR(t.tvd_null, 0.18204334365325076, 0.003);
    /* three labels: Monte-Carlo p against the exact permutation p 0.13692 (enumerated),
     * within 3.5 standard errors of 20000 replicates */
    long s3a[] = {2, 5, 3}, s3b[] = {6, 1, 3};
    assert_int_equal(slm_label_test_run(s3a, s3b, 3, 20000, 3, &t), 0);
    assert_string_equal(t.method, "monte-carlo");
    REF(t.chi2, 4.6666666666666661);
    NEAR(t.p, 0.13691571586308429, 3.5 * sqrt(0.137 * 0.863 / 20000) + 1.0 / 20001);
    NEAR(t.tvd_null, 0.24005715646582523, 0.003);
    assert_true(t.tvd_null_hi >= t.tvd_null);
    /* nothing to test: one label, or an empty side */
    long one_a[] = {5, 0}, one_b[] = {7, 0}, none[] = {0, 0};
    assert_int_equal(slm_label_test_run(one_a, one_b, 2, 100, 1, &t), -1);
    assert_int_equal(t.df, 0);
    assert_int_equal(slm_label_test_run(one_a, none, 2, 100, 1, &t), -1);
    assert_true(isnan(t.p));
}

/* The bootstrap's statistics are the library's metrics; its test is seeded and honest. */
static void bootstrap_statistics(void **state)
{
    (void)state;
    int ra[400], rb[400];
    for (int i = 0; i < 400; i++)
        ra[i] = (i * 7) % 10 < 8, rb[i] = (i * 7) % 10 < 5;
    toy a, b;
    toy_make(&a, 400, ra, "x");
    toy_make(&b, 400, rb, "x");
    a.pred[3] = 2; /* an answer outside the label set: a third class */
    a.s.n_classes = 3;
    slm_cls_metrics m;
    assert_int_equal(slm_cls_metrics_compute(a.gold, a.pred, 400, 3, &m, NULL, 0), 0);
    slm_drift_cfg cfg = {300, 42, NAN, -1, -1};
    slm_drift_diff r, r2;
    assert_int_equal(slm_drift_compare(SLM_DK_MACRO_F1, &a.s, &b.s, NULL, &cfg, &r), 0);
    REF(r.a, m.macro_f1);
    assert_string_equal(r.method, "bootstrap");
    assert_int_equal(r.reps, 300);
    assert_int_equal(slm_drift_compare(SLM_DK_WEIGHTED_F1, &a.s, &b.s, NULL, &cfg, &r), 0);
    REF(r.a, m.weighted_f1);
    slm_cls_metrics_free(&m);
    /* a single answer outside the label set makes macro-F1 jump by a third between the
     * resamples that hold it and those that do not; without it, 80% -> 50% right is
     * far beyond the noise */
    a.pred[3] = a.gold[3] + (ra[3] ? 0 : 1) - (ra[3] ? 0 : 2 * a.gold[3]);
    a.s.n_classes = 2;
    assert_int_equal(slm_drift_compare(SLM_DK_MACRO_F1, &a.s, &b.s, NULL, &cfg, &r), 0);
    assert_true(r.p < 1e-6 && r.hi < 0 && r.se < 0.05);
    unsigned char ok[400];
    for (int i = 0; i < 400; i++)
        ok[i] = a.gold[i] == a.pred[i];
    assert_int_equal(slm_drift_compare(SLM_DK_ECE, &a.s, &b.s, NULL, &cfg, &r), 0);
    REF(r.a, slm_ece(a.conf, ok, 400, SLM_ECE_BINS, 0, NULL, NULL, NULL, NULL));
    assert_int_equal(slm_drift_compare(SLM_DK_ECE_MASS, &a.s, &b.s, NULL, &cfg, &r), 0);
    REF(r.a, slm_ece(a.conf, ok, 400, SLM_ECE_BINS, 1, NULL, NULL, NULL, NULL));
    /* the interval is diff ± 1.96 se and agrees with p */
    NEAR(r.hi - r.diff, 1.959963984540054 * r.se, 1e-12);
    assert_true((r.p < 0.05) == (r.lo > 0 || r.hi < 0));
    /* the same seed gives the same replicates, another seed others */
    assert_int_equal(slm_drift_compare(SLM_DK_ECE_MASS, &a.s, &b.s, NULL, &cfg, &r2), 0);
    assert_true(r2.se == r.se && r2.p == r.p);
    cfg.seed = 43;
    assert_int_equal(slm_drift_compare(SLM_DK_ECE_MASS, &a.s, &b.s, NULL, &cfg, &r2), 0);
    assert_true(r2.se != r.se);
    /* paired on itself: every replicate's difference is 0, p = 1 */
    slm_drift_pairs pp;
    assert_int_equal(slm_drift_pair(&a.s, &a.s, &pp), 0);
    assert_int_equal(slm_drift_compare(SLM_DK_MACRO_F1, &a.s, &a.s, &pp, &cfg, &r), 0);
    assert_string_equal(r.method, "bootstrap-paired");
    assert_true(r.diff == 0 && r.se == 0 && r.p == 1.0);
    slm_drift_pairs_free(&pp);
    /* examples without a confidence are left out of ECE; none at all: no test */
    for (int i = 0; i < 400; i++)
        b.conf[i] = NAN;
    assert_int_equal(slm_drift_compare(SLM_DK_ECE, &a.s, &b.s, NULL, &cfg, &r), -1);
    assert_true(isnan(r.p));
    toy_free(&a), toy_free(&b);
}

/* Latency normalised by the reference: a constant ratio is found exactly. */
static void latency_ratio(void **state)
{
    (void)state;
    int right[50];
    double la[50], ra[50], lb[50], rb[50];
    for (int i = 0; i < 50; i++) {
        right[i] = 1;
        ra[i] = 20 + (i * 13) % 17, la[i] = 1.25 * ra[i];
        rb[i] = 2 * (30 + (i * 7) % 11), lb[i] = 2.0 * rb[i]; /* a machine twice as slow */
    }
    ra[4] = NAN; /* the reference has no time for one example: left out */
    toy a, b;
    toy_make(&a, 50, right, "x");
    toy_make(&b, 50, right, "x");
    a.s.lat = la, a.s.ref = ra, b.s.lat = lb, b.s.ref = rb;
    slm_drift_cfg cfg = {200, 5, 95, -1, -1};
    slm_drift_diff r;
    assert_int_equal(slm_drift_compare(SLM_DK_LATENCY, &a.s, &b.s, NULL, &cfg, &r), 0);
    REF(exp(r.a), 1.25);
    REF(exp(r.b), 2.0);
    REF(exp(r.diff), 1.6);
    assert_true(r.p < 1e-12 && r.se < 1e-12); /* every replicate: the same ratio */
    cfg.pct = NAN; /* the mean */
    assert_int_equal(slm_drift_compare(SLM_DK_LATENCY, &a.s, &b.s, NULL, &cfg, &r), 0);
    REF(exp(r.diff), 1.6);
    b.s.ref = NULL; /* no reference: nothing to judge */
    assert_int_equal(slm_drift_compare(SLM_DK_LATENCY, &a.s, &b.s, NULL, &cfg, &r), -1);
    toy_free(&a), toy_free(&b);
}

static void pairing_and_kinds(void **state)
{
    (void)state;
    const char *ia[] = {"x", "y", "z", "y"}, *ib[] = {"y", "w", "x", "x"};
    int g[4] = {0}, p[4] = {0};
    slm_drift_sample a = {4, 1, 1, ia, g, p, NULL, NULL, NULL};
    slm_drift_sample b = {4, 1, 1, ib, g, p, NULL, NULL, NULL};
    slm_drift_pairs pp;
    assert_int_equal(slm_drift_pair(&a, &b, &pp), 0);
    assert_int_equal(pp.n, 2);
    assert_true(pp.ia[0] == 0 && pp.ib[0] == 2); /* x: b's first x */
    assert_true(pp.ia[1] == 1 && pp.ib[1] == 0); /* y once; a's second y has no partner */
    slm_drift_pairs_free(&pp);
    slm_drift_pairs_free(&pp);
    b.ids = NULL;
    assert_int_equal(slm_drift_pair(&a, &b, &pp), -1);
    double pct;
    int phase;
    assert_int_equal(slm_drift_kind_of("e2e_ms_p95", &pct, &phase), SLM_DK_LATENCY);
    assert_true(pct == 95 && phase == 0);
    assert_int_equal(slm_drift_kind_of("ttft_ms_mean", &pct, &phase), SLM_DK_LATENCY);
    assert_true(isnan(pct) && phase == 3);
    assert_int_equal(slm_drift_kind_of("accuracy", NULL, NULL), SLM_DK_ACCURACY);
    assert_int_equal(slm_drift_kind_of("ece_15", NULL, NULL), SLM_DK_ECE);
    assert_int_equal(slm_drift_kind_of("e2e_ms_p97", NULL, NULL), SLM_DK_NONE);
    assert_int_equal(slm_drift_kind_of("brier", NULL, NULL), SLM_DK_NONE);
    /* FNV-1a of (1, 3, 4, "alpha\x1ftiny\x1fmacro_f1"), top 63 bits, computed in Python */
    assert_true(slm_drift_seed(1, 3, 4, "alpha\x1ftiny\x1fmacro_f1") ==
                UINT64_C(272313929595128538));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chi2_table_values),
        cmocka_unit_test(chi2_closed_forms),
        cmocka_unit_test(chi2_edges),
        cmocka_unit_test(parse_month),
        cmocka_unit_test(yates_fisher_reference),
        cmocka_unit_test(mcnemar_reference),
        cmocka_unit_test(two_proportion_reference),
        cmocka_unit_test(bh_reference),
        cmocka_unit_test(label_test_reference),
        cmocka_unit_test(bootstrap_statistics),
        cmocka_unit_test(latency_ratio),
        cmocka_unit_test(pairing_and_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
