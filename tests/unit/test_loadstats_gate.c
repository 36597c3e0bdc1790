/*
 * test_loadstats_gate.c — the gate threshold max_rate_at_slo (harness/metrics/gate_load.c):
 * each outcome of the judgement on hand-made best rates (fails only when the candidate's
 * sure failure lies at or below min_ratio x the baseline's surely sustained rate; passes
 * on the point estimates; otherwise not judged), and the gate file's key read with the
 * file and line of each bad value.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gate_load.h"

static int judge(double cr, double clo, double chi, double br, double blo, double bhi,
                 double ratio, char *d, size_t len)
{
    slm_load_best c = {cr, clo, chi, 0}, b = {br, blo, bhi, 0};
    return slm_gate_load_judge(&c, &b, ratio, d, len);
}

static void outcomes(void **state)
{
    (void)state;
    char d[400];
    /* surely worse: the candidate surely fails at 12/s, the baseline surely holds 18 */
    assert_int_equal(judge(10, 8, 12, 20, 18, 24, 0.9, d, sizeof d), SLM_GATE_RATE_FAILS);
    assert_string_equal(d, "candidate 10/s [8, 12], baseline 20/s [18, 24], min_ratio 0.9: "
                           "fails: the candidate surely fails at a rate at or below min_ratio x "
                           "the rate the baseline surely sustains (hi <= min_ratio x baseline lo)");
    /* the boundary: hi == min_ratio x lo fails (at hi the candidate fails) */
    assert_int_equal(judge(8, 6, 10, 20, 20, 30, 0.5, d, sizeof d), SLM_GATE_RATE_FAILS);
    assert_int_equal(judge(8, 6, 10.5, 20, 20, 30, 0.5, d, sizeof d), SLM_GATE_RATE_NOT_JUDGED);
    /* meets the ratio on the point estimates (18 >= 0.9 x 20) */
    assert_int_equal(judge(18, 16, 20, 20, 18, 24, 0.9, d, sizeof d), SLM_GATE_RATE_PASSES);
    /* short of it, but within the intervals: noise never fails the gate */
    assert_int_equal(judge(16, 14, 20, 20, 18, 24, 0.9, d, sizeof d), SLM_GATE_RATE_NOT_JUDGED);
    assert_non_null(strstr(d, "within the intervals"));
    /* the candidate's sweep never failed surely: no upper bound, cannot fail */
    assert_int_equal(judge(5, 4, NAN, 20, 18, 24, 0.9, d, sizeof d), SLM_GATE_RATE_NOT_JUDGED);
    assert_non_null(strstr(d, "candidate 5/s [4, –]"));
    /* the candidate meets the SLO nowhere and surely fails at 10: fails */
    assert_int_equal(judge(NAN, NAN, 10, 20, 18, 24, 0.9, d, sizeof d), SLM_GATE_RATE_FAILS);
    assert_non_null(strstr(d, "candidate –/s [–, 10]"));
    /* ... and surely fails nowhere: not judged */
    assert_int_equal(judge(NAN, NAN, NAN, 20, 18, 24, 0.9, d, sizeof d), SLM_GATE_RATE_NOT_JUDGED);
    /* the baseline meets it nowhere, or surely nowhere */
    assert_int_equal(judge(10, 8, 12, NAN, NAN, 5, 0.9, d, sizeof d), SLM_GATE_RATE_NOT_JUDGED);
    assert_non_null(strstr(d, "at no offered rate"));
    assert_int_equal(judge(10, 8, 12, 20, NAN, 24, 0.9, d, sizeof d), SLM_GATE_RATE_NOT_JUDGED);
    assert_non_null(strstr(d, "no lower bound"));
    assert_int_equal(judge(25, 20, NAN, 20, NAN, 24, 0.9, d, sizeof d), SLM_GATE_RATE_PASSES);
    /* a ratio that is not > 0, a short buffer (cut, terminated) */
    assert_int_equal(judge(10, 8, 12, 20, 18, 24, 0, d, sizeof d), SLM_GATE_RATE_NOT_JUDGED);
    assert_int_equal(judge(10, 8, 12, 20, 18, 24, NAN, d, 12), SLM_GATE_RATE_NOT_JUDGED);
    assert_int_equal(strlen(d), 11);
}

static int parse(const char *text, double *ratio, char *err, size_t len)
{
    slm_yaml *y = NULL;
    assert_int_equal(slm_yaml_parse("gate.yaml", text, strlen(text), &y, err, len), 0);
    int rc = slm_gate_load_parse(y, slm_ymap_get(y->root, "baseline"), ratio, err, len);
    slm_yaml_free(y);
    return rc;
}

static void config(void **state)
{
    (void)state;
    char err[256];
    double r;
    assert_int_equal(parse("baseline:\n  ref: main\n  max_rate_at_slo: {min_ratio: 0.9}\n", &r,
                           err, sizeof err), 0);
    assert_true(r == 0.9);
    assert_int_equal(parse("baseline:\n  ref: main\n", &r, err, sizeof err), 0);
    assert_true(isnan(r));
    assert_int_equal(parse("absolute: {accuracy_min: 0.5}\n", &r, err, sizeof err), 0);
    assert_true(isnan(r));
    assert_int_equal(parse("baseline:\n  max_rate_at_slo: 0.9\n", &r, err, sizeof err), -1);
    assert_string_equal(err, "gate.yaml:2: max_rate_at_slo: expected a mapping such as "
                             "{min_ratio: 0.9}");
    assert_int_equal(parse("baseline:\n  max_rate_at_slo:\n    min_ratio: 0\n", &r, err,
                           sizeof err), -1);
    assert_string_equal(err, "gate.yaml:3: max_rate_at_slo: min_ratio must be a number in "
                             "(0, 10], e.g. 0.9");
    assert_true(isnan(r));
    assert_int_equal(parse("baseline:\n  max_rate_at_slo: {}\n", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "min_ratio must be a number"));
    assert_int_equal(parse("baseline:\n  max_rate_at_slo: {min_ratio: fast}\n", &r, err,
                           sizeof err), -1);
    assert_non_null(strstr(err, "gate.yaml:2"));
    assert_int_equal(parse("baseline:\n  max_rate_at_slo: {ratio: 0.9}\n", &r, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "unknown key 'ratio'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outcomes),
        cmocka_unit_test(config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
