/*
 * test_aggregate.c — a tiny run's metrics computed through the store (slm_aggregate_run)
 * against numbers worked out by hand: accuracy, per-class precision/recall/F1, macro-F1,
 * the majority rate, latency summaries, the confusion matrix, the candidate row's facts,
 * an invalid answer as a class of its own, and the calibration rows analysis adds.
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

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

typedef struct fixture {
    char *path;
    slm_store *st;
    int64_t run, c1, c2;
} fixture;

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
    return 0;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classification_metrics),
        cmocka_unit_test(invalid_answer_is_a_class),
        cmocka_unit_test(latency_and_facts),
        cmocka_unit_test(calibration_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
