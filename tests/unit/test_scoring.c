/*
 * test_scoring.c — scoring.c on numbers worked by hand: the softmax over the labels under
 * both normalisations, the prediction and its confidence, ties, correctness against the
 * gold index, a generated answer's confidence and the JSON arrays the store keeps.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "scoring.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

/* Two labels: "a" scores ln 0.2 over 1 token, "b" ln 0.1 over 4 tokens. Summed: b loses
 * (0.2 vs 0.1 -> probabilities 2/3, 1/3). Per token: a = ln 0.2, b = ln(0.1) / 4, and
 * 0.1^(1/4) = 0.5623 > 0.2, so b wins under the mean. */
static void sum_and_mean_disagree(void **state)
{
    (void)state;
    const double lp[] = {log(0.2), log(0.1)};
    const int32_t nt[] = {1, 4};
    slm_scored s;
    slm_score_labels(lp, nt, 2, 0, 0, &s);
    assert_int_equal(s.best, 0);
    assert_true(s.correct);
    NEAR(s.probs[0], 2.0 / 3.0);
    NEAR(s.probs[1], 1.0 / 3.0);
    NEAR(s.confidence, 2.0 / 3.0);
    double qa = 0.2, qb = pow(0.1, 0.25);
    NEAR(s.probs_mean[1], qb / (qa + qb));
    slm_scored_free(&s);

    slm_score_labels(lp, nt, 2, 1, 0, &s);
    assert_int_equal(s.best, 1);
    assert_false(s.correct);
    NEAR(s.confidence, qb / (qa + qb));
    NEAR(s.probs[0], s.probs_mean[0]);
    slm_scored_free(&s);
    assert_int_equal(slm_score_best(lp, nt, 2, 0), 0);
    assert_int_equal(slm_score_best(lp, nt, 2, 1), 1);
}

/* Equal scores: the first label wins, with probability 1/n; an empty continuation (0
 * tokens) keeps its sum under the mean; no gold index is never correct. */
static void ties_and_edges(void **state)
{
    (void)state;
    const double lp[] = {-1.5, -1.5, -1.5};
    const int32_t nt[] = {0, 1, 1};
    slm_scored s;
    slm_score_labels(lp, nt, 3, 1, -1, &s);
    assert_int_equal(s.best, 0);
    assert_false(s.correct);
    NEAR(s.confidence, 1.0 / 3.0);
    slm_scored_free(&s);
    slm_scored_free(NULL);
}

static void generated_confidence(void **state)
{
    (void)state;
    const double tl[] = {log(0.5), log(0.5), log(0.8)};
    NEAR(slm_generated_confidence(tl, 3), 0.2);
    assert_true(isnan(slm_generated_confidence(NULL, 3)));
    assert_true(isnan(slm_generated_confidence(tl, 0)));
}

static void json_arrays(void **state)
{
    (void)state;
    const double v[] = {0.25, NAN, 1.0 / 3.0};
    char *j = slm_json_doubles(v, 3);
    assert_string_equal(j, "[0.25,null,0.33333333333333331]");
    free(j);
    const int32_t n[] = {1, -2, 30};
    j = slm_json_ints(n, 3);
    assert_string_equal(j, "[1,-2,30]");
    free(j);
    j = slm_json_doubles(v, 0);
    assert_string_equal(j, "[]");
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sum_and_mean_disagree),
        cmocka_unit_test(ties_and_edges),
        cmocka_unit_test(generated_confidence),
        cmocka_unit_test(json_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
