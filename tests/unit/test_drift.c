/*
 * test_drift.c — the statistics behind `slmbench drift`: the chi-square survival function
 * (regularized upper incomplete gamma) against published table values and closed forms,
 * and the strict YYYY-MM month parser. The review itself is tested end to end by
 * tests/cli/test_drift.sh.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drift.h"
#include "metrics.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chi2_table_values),
        cmocka_unit_test(chi2_closed_forms),
        cmocka_unit_test(chi2_edges),
        cmocka_unit_test(parse_month),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
