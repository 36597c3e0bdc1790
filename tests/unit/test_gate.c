/*
 * test_gate.c — gate thresholds take their side (minimum or maximum) and their display
 * (percent or not) from the field table, and a gate over the golden report fixture
 * passes, fails and refuses as the gate file says.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture_db.h"
#include "gate.h"

#define DB "/tmp/slm_test_gate.db"

/* Every named threshold's _min/_max suffix agrees with its field's direction. */
static void aliases_follow_direction(void **state)
{
    (void)state;
    for (size_t i = 0; i < slm_gate_n_aliases; i++) {
        const char *k = slm_gate_aliases[i].key;
        const slm_field *f = slm_field_find(slm_gate_aliases[i].field);
        assert_non_null(f);
        size_t n = strlen(k);
        int is_min = !strcmp(k + n - 4, "_min");
        assert_true(is_min || !strcmp(k + n - 4, "_max"));
        assert_int_equal(is_min, f->higher_better > 0);
        assert_ptr_equal(slm_gate_threshold_field(k), f);
    }
}

/* Any field with a direction can be bounded on its side only. */
static void field_keys(void **state)
{
    (void)state;
    assert_ptr_equal(slm_gate_threshold_field("recall_spread_max"), slm_field_find("recall_spread"));
    assert_null(slm_gate_threshold_field("recall_spread_min"));  /* lower is better */
    assert_ptr_equal(slm_gate_threshold_field("weighted_f1_min"), slm_field_find("weighted_f1"));
    assert_null(slm_gate_threshold_field("weighted_f1_max"));
    assert_null(slm_gate_threshold_field("majority_rate_min"));  /* no direction */
    assert_null(slm_gate_threshold_field("nosuch_min"));
    assert_null(slm_gate_threshold_field("fail._max"));          /* a family */
    assert_null(slm_gate_threshold_field("_min"));
}

static void absolute_checks(void **state)
{
    (void)state;
    slm_gate_result r;
    memset(&r, 0, sizeof r);
    slm_gate_absolute(&r, "m", "accuracy_min", 0.7, 0.6, 1, 1);
    slm_gate_absolute(&r, "m", "p95_ms_max", 12.0, 10.0, 0, 0);
    slm_gate_absolute(&r, "m", "ece_max", NAN, 0.1, 0, 0);
    slm_gate_absolute(&r, "m", "tokens_per_s_min", 5, NAN, 1, 0); /* not set: no check */
    assert_int_equal(r.n, 3);
    assert_int_equal(r.n_failed, 2);
    assert_true(r.checks[0].passed);
    assert_string_equal(r.checks[0].detail, "70.00% ≥ 60.00% ");
    assert_false(r.checks[1].passed);
    assert_string_equal(r.checks[1].detail, "12 ≤ 10 (violated)");
    assert_string_equal(r.checks[2].detail, "not measured ≤ 0.1 (no value to check)");
    slm_gate_result_free(&r);
}

static int write_gate(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* The golden fixture: alpha 79.2% and beta 58.3% accurate, p95 12.5 ms, no recall spread
 * stored (the fixture predates it). */
static void eval_on_fixture(void **state)
{
    (void)state;
    slm_store *st = fixture_db("report/golden.sql", DB);
    assert_non_null(st);
    const char *gate = "/tmp/slm_test_gate.yaml";
    char err[512];
    slm_gate_result r;

    assert_int_equal(write_gate(gate, "absolute:\n  accuracy_min: 0.7\n  p95_ms_max: 20\n"
                                      "  weighted_f1_min: 0.1\n  class_recall_min: 0.0\n"),
                     0);
    assert_int_equal(slm_gate_eval(st, gate, "1", NULL, 0, &r, err, sizeof err), SLM_GATE_FAIL);
    /* per candidate: accuracy, p95, the field key, then one check per label */
    assert_string_equal(r.checks[0].name, "accuracy_min");
    assert_true(r.checks[0].passed);
    assert_string_equal(r.checks[1].name, "p95_ms_max");
    assert_true(r.checks[1].passed);
    assert_string_equal(r.checks[2].name, "weighted_f1_min");
    assert_true(r.checks[2].passed);
    assert_int_equal(strncmp(r.checks[3].name, "class_recall_min[", 17), 0);
    assert_int_equal(r.n_failed, 1); /* beta's accuracy */
    slm_gate_result_free(&r);

    /* a maximum on a field where higher is better is refused, with file and line */
    assert_int_equal(write_gate(gate, "absolute:\n  accuracy_max: 0.9\n"), 0);
    assert_int_equal(slm_gate_eval(st, gate, "1", NULL, 0, &r, err, sizeof err),
                     SLM_GATE_INVALID);
    assert_non_null(strstr(err, ":2: unknown key 'accuracy_max' in absolute"));
    slm_gate_result_free(&r);

    /* a metric the run lacks fails as not measured */
    assert_int_equal(write_gate(gate, "absolute: {recall_spread_max: 0.5}\n"), 0);
    assert_int_equal(slm_gate_eval(st, gate, "1", NULL, 0, &r, err, sizeof err), SLM_GATE_FAIL);
    assert_int_equal(r.n, 2);
    assert_non_null(strstr(r.checks[0].detail, "not measured"));
    slm_gate_result_free(&r);

    /* a baseline that is the gated run itself: the absolute checks judge, the relative
     * ones are not judged and say why; with require_baseline it is an invalid comparison */
    assert_int_equal(write_gate(gate, "absolute: {accuracy_min: 0.7}\n"
                                      "baseline: {ref: 1, accuracy_drop_max_points: 1}\n"), 0);
    assert_int_equal(slm_gate_eval(st, gate, "1", NULL, 0, &r, err, sizeof err), SLM_GATE_FAIL);
    assert_int_equal(r.n, 4); /* per candidate: accuracy_min, accuracy_drop */
    assert_int_equal(r.n_failed, 1);
    assert_int_equal(r.n_skipped, 2);
    assert_int_equal(r.baseline_id, 0);
    assert_string_equal(r.checks[1].name, "accuracy_drop");
    assert_false(r.checks[1].judged);
    assert_string_equal(r.checks[1].detail, "not judged: baseline '1' is the gated run itself "
                                            "(run 1): nothing to compare with");
    slm_gate_result_free(&r);
    slm_gate_opts o = {.run_ref = "1", .require_baseline = 1};
    assert_int_equal(slm_gate_eval_opts(st, gate, &o, &r, err, sizeof err), SLM_GATE_INVALID);
    assert_non_null(strstr(err, "is the gated run itself"));
    slm_gate_result_free(&r);

    /* a tag that names no run yet (a repository's first run): the same, with how to tag;
     * a run id that does not exist stays an error, and so does the tag when required */
    assert_int_equal(write_gate(gate, "absolute: {accuracy_min: 0.5}\nbaseline: {ref: main, "
                                      "accuracy_drop_max_points: 1, latency_increase_max_pct: "
                                      "10}\n"), 0);
    assert_int_equal(slm_gate_eval(st, gate, "1", NULL, 0, &r, err, sizeof err), SLM_GATE_PASS);
    assert_int_equal(r.n, 6);
    assert_int_equal(r.n_skipped, 4);
    assert_string_equal(r.checks[2].name, "latency_increase");
    assert_string_equal(r.checks[2].detail, "not judged: no run tagged 'main' yet: tag one on "
                                            "your main branch with slmbench tag last main");
    assert_non_null(r.baseline_note);
    slm_gate_result_free(&r);
    assert_int_equal(slm_gate_eval(st, gate, "1", "99", 0, &r, err, sizeof err),
                     SLM_GATE_INVALID);
    assert_non_null(strstr(err, "no run '99'"));
    slm_gate_result_free(&r);
    assert_int_equal(slm_gate_eval_opts(st, gate, &o, &r, err, sizeof err), SLM_GATE_INVALID);
    assert_non_null(strstr(err, "no run 'main'"));
    slm_gate_result_free(&r);

    /* --candidate: only that one; an unknown one is refused with the run's candidates */
    slm_gate_opts oc = {.run_ref = "1", .candidate = "alpha"};
    assert_int_equal(slm_gate_eval_opts(st, gate, &oc, &r, err, sizeof err), SLM_GATE_PASS);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.checks[0].candidate, "alpha");
    assert_string_equal(r.checks[2].candidate, "alpha");
    slm_gate_result_free(&r);
    oc.candidate = "gamma";
    assert_int_equal(slm_gate_eval_opts(st, gate, &oc, &r, err, sizeof err), SLM_GATE_INVALID);
    assert_string_equal(err, "run 1 has no candidate 'gamma' (it has: alpha, beta)");
    slm_gate_result_free(&r);

    /* a candidate list naming nobody */
    assert_int_equal(write_gate(gate, "candidates: [nobody]\nabsolute: {accuracy_min: 0}\n"), 0);
    assert_int_equal(slm_gate_eval(st, gate, "1", NULL, 0, &r, err, sizeof err),
                     SLM_GATE_INVALID);
    assert_non_null(strstr(err, "none of the gate's 'candidates'"));
    slm_gate_result_free(&r);

    /* only beta */
    assert_int_equal(write_gate(gate, "candidates: [beta]\nabsolute: {accuracy_min: 0.5}\n"), 0);
    assert_int_equal(slm_gate_eval(st, gate, "1", NULL, 0, &r, err, sizeof err), SLM_GATE_PASS);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.checks[0].candidate, "beta");
    slm_gate_result_free(&r);
    slm_store_close(st);
    unlink(gate);
    unlink(DB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aliases_follow_direction),
        cmocka_unit_test(field_keys),
        cmocka_unit_test(absolute_checks),
        cmocka_unit_test(eval_on_fixture),
    };
    return cmocka_run_group_tests_name("gate", tests, NULL, NULL);
}
