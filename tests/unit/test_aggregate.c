/*
 * test_aggregate.c — a tiny run's metrics computed through the store (slm_aggregate_run)
 * against numbers worked out by hand: accuracy, per-class precision/recall/F1, macro-F1,
 * the majority rate, latency summaries, the confusion matrix, the candidate row's facts,
 * an invalid answer as a class of its own, and the calibration rows analysis adds.
 * A second run has an engine error (no confidence, no probabilities), a row whose
 * probabilities hold a null, and repeats (latency samples): calibration over the answered
 * rows, Brier and NLL over the rows with probabilities, percentiles over every request.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_int.h"
#include "aggregate.h"
#include "tiny_run.h"

/* c1: 3 of 4 right (example 2 answered b for a). c2: 2 of 4, and one answer "x" outside
 * the label set. */
static const tiny_ex EX[] = {
    {"a", "a", 0.9, "a", 0.6},
    {"a", "b", 0.7, "x", 0.5},
    {"b", "b", 0.8, "a", 0.55},
    {"b", "b", 0.95, "b", 0.7},
};

/* Run 2, c1: right, wrong, right, right, an engine error (example 4), wrong. */
static const tiny_ex EX2[] = {
    {"a", "a", 0.9, "a", 0.6},  {"a", "b", 0.7, "b", 0.5}, {"b", "b", 0.8, "b", 0.55},
    {"b", "b", 0.95, "b", 0.7}, {"a", "a", 0.5, "a", 0.8}, {"b", "a", 0.6, "a", 0.9},
};

/* Run 2's changes to c1: example 4 failed; probabilities for 0..3, a null in 5's; three
 * e2e samples (10+i, 9+i, 10+4i ms; median 10+i, the row's own value) for examples 0..4,
 * none for 5 (its row, 15 ms, stands for its one request). */
#define RUN2_SQL                                                                           \
    "UPDATE predictions SET pred = NULL, error = 'boom', valid = 0, correct = 0, "         \
    "confidence = NULL WHERE run_id = %1$lld AND example_idx = 4 AND candidate_id = %2$lld;" \
    "UPDATE predictions SET probs_json = CASE example_idx WHEN 0 THEN '[0.9,0.1]' "        \
    "WHEN 1 THEN '[0.3,0.7]' WHEN 2 THEN '[0.2,0.8]' WHEN 3 THEN '[0.05,0.95]' "           \
    "WHEN 5 THEN '[0.6,null]' END WHERE run_id = %1$lld AND candidate_id = %2$lld;"         \
    "WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x < 4) "         \
    "INSERT INTO samples (run_id, candidate_id, example_idx, rep, e2e_ms) "                \
    "SELECT %1$lld, %2$lld, x, 0, 10 + x FROM i UNION ALL "                                \
    "SELECT %1$lld, %2$lld, x, 1, 9 + x FROM i UNION ALL "                                 \
    "SELECT %1$lld, %2$lld, x, 2, 10 + 4 * x FROM i;"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

typedef struct fixture {
    char *path;
    slm_store *st;
    int64_t run, c1, c2;
    int64_t run2, r2c1, r2c2; /* the second run's candidates */
} fixture;

/* The second run (after the first is aggregated). */
static int setup_run2(fixture *f)
{
    char err[SLM_ERRLEN];
    f->run2 = tiny_run(f->st, NULL, EX2, 0, 6, 2);
    if (slm_store_candidate_id(f->st, f->run2, "c1", &f->r2c1, err, sizeof err) ||
        slm_store_candidate_id(f->st, f->run2, "c2", &f->r2c2, err, sizeof err))
        return -1;
    char *sql = slm_xasprintf(RUN2_SQL, (long long)f->run2, (long long)f->r2c1);
    tiny_exec(f->st, sql);
    free(sql);
    if (slm_aggregate_run(f->st, f->run2, err, sizeof err)) {
        fprintf(stderr, "aggregate: %s\n", err);
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    fixture *f = slm_xcalloc(1, sizeof *f);
    char err[SLM_ERRLEN];
    f->path = tiny_db_path("aggregate");
    if (slm_store_open(f->path, 1, &f->st, err, sizeof err))
        return -1;
    f->run = tiny_run(f->st, NULL, EX, 0, 4, 1);
    if (slm_aggregate_run(f->st, f->run, err, sizeof err)) {
        fprintf(stderr, "aggregate: %s\n", err);
        return -1;
    }
    if (slm_store_candidate_id(f->st, f->run, "c1", &f->c1, err, sizeof err) ||
        slm_store_candidate_id(f->st, f->run, "c2", &f->c2, err, sizeof err))
        return -1;
    *state = f;
    return setup_run2(f);
}

static int teardown(void **state)
{
    fixture *f = *state;
    slm_store_close(f->st);
    tiny_db_remove(f->path);
    free(f);
    return 0;
}

static double metric(const fixture *f, int64_t cid, const char *name)
{
    return slm_store_metric(f->st, cid, name, NULL, NULL);
}

static double one_double(const fixture *f, const char *fmt, int64_t cid)
{
    char *sql = slm_xasprintf(fmt, (long long)cid);
    sqlite3_stmt *s;
    double v = NAN;
    assert_int_equal(slm_store_prepare(f->st, sql, &s, NULL, 0), 0);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = slm_col_double(s, 0);
    sqlite3_finalize(s);
    free(sql);
    return v;
}

static void classification_metrics(void **state)
{
    const fixture *f = *state;
    assert_true(metric(f, f->c1, "n") == 4);
    assert_true(metric(f, f->c1, "n_correct") == 3);
    NEAR(metric(f, f->c1, "accuracy"), 0.75);
    /* a: precision 1/1, recall 1/2, F1 2/3; b: precision 2/3, recall 2/2, F1 4/5 */
    NEAR(metric(f, f->c1, "macro_f1"), (2.0 / 3.0 + 0.8) / 2);
    NEAR(metric(f, f->c1, "micro_f1"), 0.75);
    NEAR(metric(f, f->c1, "majority_rate"), 0.5);
    assert_true(metric(f, f->c1, "invalid_rate") == 0);
    const char *pc = "SELECT %s FROM per_class WHERE candidate_id = %%lld AND label = '%s'";
    char *q = slm_xasprintf(pc, "precision", "b");
    NEAR(one_double(f, q, f->c1), 2.0 / 3.0);
    free(q);
    q = slm_xasprintf(pc, "recall", "a");
    NEAR(one_double(f, q, f->c1), 0.5);
    free(q);
    q = slm_xasprintf(pc, "predicted", "b");
    assert_true(one_double(f, q, f->c1) == 3);
    free(q);
    assert_true(one_double(f, "SELECT count FROM confusion WHERE candidate_id = %lld AND "
                              "gold = 'a' AND pred = 'b'", f->c1) == 1);
    assert_true(one_double(f, "SELECT count FROM confusion WHERE candidate_id = %lld AND "
                              "gold = 'b' AND pred = 'b'", f->c1) == 2);
    assert_true(one_double(f, "SELECT count(*) FROM confusion WHERE candidate_id = %lld",
                           f->c1) == 3); /* zero cells are not stored */
}

static void invalid_answer_is_a_class(void **state)
{
    const fixture *f = *state;
    NEAR(metric(f, f->c2, "accuracy"), 0.5);
    assert_true(metric(f, f->c2, "n_invalid") == 1);
    assert_true(metric(f, f->c2, "n_errors") == 0);
    NEAR(metric(f, f->c2, "invalid_rate"), 0.25);
    assert_true(one_double(f, "SELECT in_label_set + 10 * predicted FROM per_class WHERE "
                              "candidate_id = %lld AND label = 'x'", f->c2) == 10);
    assert_true(one_double(f, "SELECT count FROM confusion WHERE candidate_id = %lld AND "
                              "gold = 'a' AND pred = 'x'", f->c2) == 1);
}

static void latency_and_facts(void **state)
{
    const fixture *f = *state;
    /* e2e 10, 11, 12, 13 ms */
    NEAR(metric(f, f->c1, "e2e_ms_mean"), 11.5);
    NEAR(metric(f, f->c1, "e2e_ms_p50"), 11.5);
    NEAR(metric(f, f->c1, "e2e_ms_p90"), 12.7);
    NEAR(metric(f, f->c1, "examples_per_s"), 4 / 0.046);
    assert_true(isnan(metric(f, f->c1, "prefill_ms_mean")));
    /* the candidate row (tiny_run seed 1): wall 100 ms, engine 90 ms, 1000 KiB, 5 examples
     * in 2 s of throughput mode */
    NEAR(metric(f, f->c1, "wall_s"), 0.1);
    NEAR(metric(f, f->c1, "engine_share"), 0.9);
    NEAR(metric(f, f->c1, "peak_rss_mb"), 1000 / 1024.0);
    NEAR(metric(f, f->c1, "throughput_examples_per_s"), 2.5);
    NEAR(metric(f, f->c1, "load1_before"), 1.5);
    assert_true(metric(f, f->c1, "concurrency") == 1);
    assert_true(isnan(metric(f, f->c2, "throughput_examples_per_s")));
}

static void calibration_rows(void **state)
{
    const fixture *f = *state;
    /* 15 equal-width and 15 equal-mass bins per candidate */
    assert_true(one_double(f, "SELECT count(*) FROM reliability WHERE candidate_id = %lld",
                           f->c1) == 30);
    double lo, hi;
    double acc = slm_store_metric(f->st, f->c1, "accuracy", &lo, &hi);
    assert_true(lo <= acc && acc <= hi);
    /* no per-label probabilities stored: no Brier score */
    assert_true(isnan(metric(f, f->c1, "brier")));
    /* confidences .9 .7 .8 .95 with correctness 1 0 1 1: one bin each (width 1/15) */
    NEAR(metric(f, f->c1, "ece_15"), (0.1 + 0.7 + 0.2 + 0.05) / 4);
}

/* The metrics table's n of a metric of cid. */
static double metric_n(const fixture *f, int64_t cid, const char *name)
{
    char *q = slm_xasprintf("SELECT n FROM metrics WHERE candidate_id = %%lld AND name = '%s'",
                            name);
    double v = one_double(f, q, cid);
    free(q);
    return v;
}

static void missing_confidence_left_out(void **state)
{
    const fixture *f = *state;
    int64_t c = f->r2c1;
    assert_true(metric(f, c, "conf_missing") == 1);
    assert_true(metric(f, c, "probs_missing") == 2); /* the error and the row with a null */
    NEAR(metric(f, c, "accuracy"), 3.0 / 6);         /* the error counts as wrong here */
    /* answered: .9 r, .7 w, .8 r, .95 r, .6 w, each in a bin of its own (both schemes):
     * ECE = (.1 + .7 + .2 + .05 + .6)/5 = 0.33; the error at confidence 0 would give
     * 1.65/6 = 0.275 */
    NEAR(metric(f, c, "ece_15"), 0.33);
    NEAR(metric(f, c, "ece_15_mass"), 0.33);
    NEAR(metric(f, c, "mce_15"), 0.7);
    assert_true(metric_n(f, c, "ece_15") == 5);
    assert_true(metric_n(f, c, "ece_15_mass") == 5);
    double lo, hi;
    slm_store_metric(f->st, c, "ece_15", &lo, &hi);
    assert_true(lo <= hi); /* replicates without a confidence are left out, not NaN */
    /* AURC: errors of the top k = 0,0,0,1,2 → (1/4 + 2/5)/5 = 0.13 (with the error
     * ranked last at 0: 0.191666...) */
    NEAR(metric(f, c, "aurc"), 0.13);
    /* coverage at 90%: .95 .9 .8 are right, 3 of the 5 answered (3/6 with the error) */
    NEAR(metric(f, c, "coverage_at_0.90"), 0.6);
    NEAR(metric(f, c, "coverage_at_0.90_threshold"), 0.8);
    assert_true(one_double(f, "SELECT sum(count) FROM reliability WHERE candidate_id = %lld "
                              "AND scheme = 'mass'", c) == 5);
    assert_true(one_double(f, "SELECT count(*) FROM curves WHERE candidate_id = %lld", c) == 5);
}

static void brier_over_rows_with_probs(void **state)
{
    const fixture *f = *state;
    int64_t c = f->r2c1;
    /* numpy: P = [[.9,.1],[.3,.7],[.2,.8],[.05,.95]], one-hot gold a a b b:
     * ((P - Y)**2).sum(1).mean() = 0.27125; -(ln .9 + ln .3 + ln .8 + ln .95)/4 */
    NEAR(metric(f, c, "brier"), 0.27125);
    NEAR(metric(f, c, "nll"), 0.39594254142138063);
    assert_true(metric_n(f, c, "brier") == 4);
    /* c2 has no probabilities at all: NaN (NULL), every row counted as missing */
    assert_true(isnan(metric(f, f->r2c2, "brier")));
    assert_true(one_double(f, "SELECT count(*) FROM metrics WHERE candidate_id = %lld AND "
                              "name = 'brier' AND value IS NULL", f->r2c2) == 1);
    assert_true(metric(f, f->r2c2, "probs_missing") == 6);
    assert_true(metric(f, f->r2c2, "conf_missing") == 0);
}

static void percentiles_over_requests(void **state)
{
    const fixture *f = *state;
    int64_t c = f->r2c1;
    /* numpy's default (linear) percentile of the 16 requests 10 9 10, 11 10 14, 12 11 18,
     * 13 12 22, 14 13 26 and 15 (example 5, no samples): */
    NEAR(metric(f, c, "e2e_ms_p50"), 12.5);
    NEAR(metric(f, c, "e2e_ms_p90"), 20.0);
    NEAR(metric(f, c, "e2e_ms_p95"), 23.0);
    NEAR(metric(f, c, "e2e_ms_p99"), 25.4);
    NEAR(metric(f, c, "e2e_ms_mean"), 13.75);
    assert_true(metric_n(f, c, "e2e_ms_p95") == 16);
    /* and of the per-example medians 10..15 */
    NEAR(metric(f, c, "e2e_ms_p50_of_medians"), 12.5);
    NEAR(metric(f, c, "e2e_ms_p90_of_medians"), 14.5);
    NEAR(metric(f, c, "e2e_ms_p95_of_medians"), 14.75);
    NEAR(metric(f, c, "e2e_ms_p99_of_medians"), 14.95);
    NEAR(metric(f, c, "e2e_ms_mean_of_medians"), 12.5);
    /* no samples, no repeats: over the examples, and no *_of_medians rows */
    NEAR(metric(f, f->r2c2, "e2e_ms_p95"), 14.75);
    assert_true(one_double(f, "SELECT count(*) FROM metrics WHERE candidate_id = %lld AND "
                              "name LIKE '%%of_medians'", f->r2c2) == 0);
    assert_true(isnan(metric(f, c, "prefill_ms_p95"))); /* no prefill timings anywhere */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classification_metrics),
        cmocka_unit_test(invalid_answer_is_a_class),
        cmocka_unit_test(latency_and_facts),
        cmocka_unit_test(calibration_rows),
        cmocka_unit_test(missing_confidence_left_out),
        cmocka_unit_test(brier_over_rows_with_probs),
        cmocka_unit_test(percentiles_over_requests),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
