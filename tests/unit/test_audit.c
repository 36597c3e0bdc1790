/*
 * test_audit.c — the audit sample's designs and estimators (audit.h) against values
 * computed independently with numpy (/usr/bin/python3, the script in each comment), and
 * the draws' sizes, inclusion probabilities and determinism.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "audit.h"

#define TOL 1e-12

/* numpy: y = {0:[1,1,0,1,1], 1:[1,0,0], 2:[1,1]}; Nh = {0:50, 1:30, 2:20}; N = 100
 * est = sum(Nh[h]/N*np.mean(y[h])); var = sum((Nh[h]/N)**2*(1-len(y[h])/Nh[h])*
 * np.var(y[h], ddof=1)/len(y[h])) -> 0.69999999999999996, sqrt(var) 0.13416407864998739 */
static void stratified_estimator(void **state)
{
    (void)state;
    int y[] = {1, 1, 0, 1, 1, 1, 0, 0, 1, 1}, s[] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 2};
    long nh[] = {50, 50, 50, 50, 50, 30, 30, 30, 20, 20};
    double pi[10];
    for (int i = 0; i < 10; i++)
        pi[i] = (s[i] == 0 ? 5.0 : s[i] == 1 ? 3.0 : 2.0) / (double)nh[i];
    slm_audit_est e;
    assert_int_equal(slm_audit_estimate(SLM_AD_STRATIFIED, y, pi, s, nh, 10, 100, &e), 0);
    assert_true(fabs(e.est - 0.69999999999999996) < TOL);
    assert_true(fabs(e.se - 0.13416407864998739) < TOL);
    assert_true(fabs(e.lo - (e.est - 1.959963984540054 * e.se)) < TOL);
    assert_int_equal(e.right, 7);
}

/* numpy: pi = [0.1,0.25,0.5,1.0,0.8,0.05]; y = [1,0,1,1,1,1]; N = 40
 * est = sum(y/pi)/N -> 0.85624999999999996; sqrt(sum((1-pi)*y**2/pi**2))/N ->
 * 0.54331879453963294 (the interval is then cut to [0, 1]) */
static void horvitz_thompson(void **state)
{
    (void)state;
    int y[] = {1, 0, 1, 1, 1, 1}, s[6] = {0};
    double pi[] = {0.1, 0.25, 0.5, 1.0, 0.8, 0.05};
    long nh[] = {40, 40, 40, 40, 40, 40};
    slm_audit_est e;
    assert_int_equal(slm_audit_estimate(SLM_AD_POISSON, y, pi, s, nh, 6, 40, &e), 0);
    assert_true(fabs(e.est - 0.85624999999999996) < TOL);
    assert_true(fabs(e.se - 0.54331879453963294) < TOL);
    assert_true(e.lo == 0.0 && e.hi == 1.0);
    pi[0] = 0;
    assert_int_equal(slm_audit_estimate(SLM_AD_POISSON, y, pi, s, nh, 6, 40, &e), -1);
}

/* numpy, the capping loop of audit.c written again: sizes [10,1,1,1,1,1], n = 3 ->
 * pi = [1, 0.4, 0.4, 0.4, 0.4, 0.4] */
static void poisson_capped(void **state)
{
    (void)state;
    double size[] = {10, 1, 1, 1, 1, 1}, pi[6];
    unsigned char ch[6];
    slm_audit_draw(6, SLM_AD_POISSON, NULL, 0, size, 3, 1, pi, ch);
    assert_true(pi[0] == 1.0 && ch[0] == 1);
    for (int i = 1; i < 6; i++)
        assert_true(fabs(pi[i] - 0.4) < TOL);
}

/* Stratified draws: 3 strata of 500, 300, 200 rows, n = 100 -> 50, 30, 20 exactly, each
 * pi = n_h/N_h; a stratum of 1 row gets its row (min(2, N_h)); the same seed, the same
 * draw; SRS: exactly n. */
static void draws(void **state)
{
    (void)state;
    enum { N = 1001 };
    int *st = malloc(N * sizeof *st);
    double *pi = malloc(N * sizeof *pi), *pi2 = malloc(N * sizeof *pi2);
    unsigned char *ch = malloc(N), *ch2 = malloc(N);
    for (int i = 0; i < N; i++)
        st[i] = i == N - 1 ? 3 : i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2;
    size_t got = slm_audit_draw(N, SLM_AD_STRATIFIED, st, 4, NULL, 100, 7, pi, ch);
    long per[4] = {0};
    for (int i = 0; i < N; i++)
        per[st[i]] += ch[i];
    assert_int_equal(per[0], 50);
    assert_int_equal(per[1], 30);
    assert_int_equal(per[2], 20);
    assert_int_equal(per[3], 1);
    assert_int_equal(got, 101);
    assert_true(fabs(pi[0] - 50.0 / 500) < TOL && pi[N - 1] == 1.0);
    slm_audit_draw(N, SLM_AD_STRATIFIED, st, 4, NULL, 100, 7, pi2, ch2);
    assert_memory_equal(ch, ch2, N);
    assert_int_equal(slm_audit_draw(N, SLM_AD_SRS, NULL, 0, NULL, 100, 3, pi, ch), 100);
    assert_true(fabs(pi[5] - 100.0 / N) < TOL);
    assert_int_equal(slm_audit_draw(N, SLM_AD_SRS, NULL, 0, NULL, 5000, 3, pi, ch), N);
    free(st), free(pi), free(pi2), free(ch), free(ch2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stratified_estimator),
        cmocka_unit_test(horvitz_thompson),
        cmocka_unit_test(poisson_capped),
        cmocka_unit_test(draws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
