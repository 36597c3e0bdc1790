/*
 * test_merge.c — merge.c follows the column tables of schema.c: a column declared at run
 * time (as if added to schema.c) is carried into the merged run without merge knowing its
 * name, and the machine facts of the shards survive (summed times and throughput, the
 * largest peak memory and steal, the first shard's load averages).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_int.h"
#include "merge.h"
#include "schema.h"
#include "tiny_run.h"

static const tiny_ex EX[] = {
    {"a", "a", 0.9, "a", 0.6}, {"a", "b", 0.7, "a", 0.8},
    {"b", "b", 0.8, "a", 0.55}, {"b", "b", 0.95, "b", 0.7},
};

/* Columns no table of schema.c has: declared once here, before any database exists. */
static const slm_col X_NOTE = {"x_note", "TEXT", SLM_SCHEMA_VERSION, SLM_MERGE_COPY, NULL};
static const slm_col X_SCORE = {"x_score", "REAL", SLM_SCHEMA_VERSION, SLM_MERGE_COPY, NULL};
static const slm_col X_TOTAL = {"x_total", "INTEGER", SLM_SCHEMA_VERSION, SLM_MERGE_SUM, NULL};

static int declare_columns(void **state)
{
    (void)state;
    return slm_schema_add_column("candidates", &X_NOTE) ||
           slm_schema_add_column("predictions", &X_SCORE) ||
           slm_schema_add_column("candidates", &X_TOTAL);
}

/* A shard database holding examples [first, first + 2) with machine facts from seed. */
static char *make_shard(const char *shard, size_t first, int seed)
{
    char *path = tiny_db_path("shard");
    char err[SLM_ERRLEN];
    slm_store *st;
    assert_int_equal(slm_store_open(path, 1, &st, err, sizeof err), 0);
    int64_t run = tiny_run(st, shard, EX, first, 2, seed);
    char *sql = slm_xasprintf(
        "UPDATE candidates SET x_note = 'note %d', x_total = %d WHERE run_id = %lld;"
        "UPDATE predictions SET x_score = example_idx + 0.5 WHERE run_id = %lld",
        seed, seed, (long long)run, (long long)run);
    tiny_exec(st, sql);
    free(sql);
    slm_store_close(st);
    return path;
}

static double one_double(slm_store *st, const char *sql)
{
    sqlite3_stmt *s;
    double v = NAN;
    assert_int_equal(slm_store_prepare(st, sql, &s, NULL, 0), 0);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = slm_col_double(s, 0);
    sqlite3_finalize(s);
    return v;
}

static char *one_text(slm_store *st, const char *sql)
{
    sqlite3_stmt *s;
    char *v = NULL;
    assert_int_equal(slm_store_prepare(st, sql, &s, NULL, 0), 0);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        v = slm_xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

#define C1(col) "SELECT " col " FROM candidates WHERE run_id = 1 AND name = 'c1'"

static void merge_carries_every_column(void **state)
{
    (void)state;
    char *s0 = make_shard("0/2", 0, 1), *s1 = make_shard("1/2", 2, 3);
    char *out = tiny_db_path("merged");
    const char *in[] = {s1, s0}; /* the first input is shard 1: "first" is the order given */
    int64_t run = 0;
    int bad_input = -1;
    char err[SLM_ERRLEN] = "";
    int rc = slm_merge(out, in, 2, 0, &run, &bad_input, err, sizeof err);
    if (rc)
        fail_msg("merge: %s", err);
    assert_int_equal(run, 1);
    assert_int_equal(bad_input, 0);

    slm_store *st;
    assert_int_equal(slm_store_open(out, 0, &st, err, sizeof err), 0);
    /* the declared-at-run-time columns came through */
    char *note = one_text(st, C1("x_note"));
    assert_non_null(note);
    assert_string_equal(note, "note 3");
    free(note);
    assert_true(one_double(st, C1("x_total")) == 4);
    assert_true(one_double(st, "SELECT sum(x_score) FROM predictions WHERE run_id = 1") ==
                2 * (0.5 + 1.5 + 2.5 + 3.5));
    assert_true(one_double(st, "SELECT count(*) FROM predictions WHERE run_id = 1") == 8);
    /* machine facts: sums, maxima, the first input's load averages */
    assert_true(one_double(st, C1("wall_ms")) == 400);
    assert_true(one_double(st, C1("engine_ms")) == 360);
    assert_true(one_double(st, C1("peak_rss_kb")) == 3000);
    assert_true(one_double(st, C1("steal_pct")) == 3);
    assert_true(one_double(st, C1("load1_before")) == 3.5);
    assert_true(one_double(st, C1("load1_after")) == 3.25);
    assert_true(one_double(st, C1("throughput_s")) == 8);
    assert_true(one_double(st, C1("throughput_tokens")) == 40);
    assert_true(one_double(st, C1("throughput_n")) == 20);
    /* a total no shard had stays absent rather than becoming 0 */
    assert_true(isnan(one_double(st, "SELECT throughput_s FROM candidates WHERE name = 'c2'")));
    /* and the recomputed metrics use them */
    int64_t c1;
    assert_int_equal(slm_store_candidate_id(st, 1, "c1", &c1, err, sizeof err), 0);
    assert_true(fabs(slm_store_metric(st, c1, "peak_rss_mb", NULL, NULL) - 3000 / 1024.0) <
                1e-9);
    assert_true(slm_store_metric(st, c1, "steal_pct", NULL, NULL) == 3);
    assert_true(slm_store_metric(st, c1, "throughput_examples_per_s", NULL, NULL) == 2.5);
    assert_true(slm_store_metric(st, c1, "accuracy", NULL, NULL) == 0.75);
    char *status = one_text(st, "SELECT status || ' ' || coalesce(shard, '-') FROM runs");
    assert_string_equal(status, "complete -");
    free(status);
    slm_store_close(st);
    tiny_db_remove(s0);
    tiny_db_remove(s1);
    tiny_db_remove(out);
}

static void missing_shard_leaves_nothing(void **state)
{
    (void)state;
    char *s0 = make_shard("0/2", 0, 1);
    char *out = tiny_db_path("merged");
    const char *in[] = {s0};
    int64_t run = 0;
    int bad_input = 0;
    char err[SLM_ERRLEN] = "";
    assert_int_equal(slm_merge(out, in, 1, 0, &run, &bad_input, err, sizeof err), -1);
    assert_int_equal(bad_input, 1);
    assert_non_null(strstr(err, "shard 1/2 is missing"));
    slm_store *st;
    assert_int_equal(slm_store_open(out, 0, &st, err, sizeof err), 0);
    assert_true(one_double(st, "SELECT count(*) FROM runs") == 0);
    assert_true(one_double(st, "SELECT count(*) FROM predictions") == 0);
    assert_true(one_double(st, "SELECT count(*) FROM candidates") == 0);
    slm_store_close(st);
    tiny_db_remove(s0);
    tiny_db_remove(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_carries_every_column),
        cmocka_unit_test(missing_shard_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, declare_columns, NULL);
}
