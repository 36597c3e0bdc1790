/*
 * test_store.c — the store module: a new database gets the declared schema at the current
 * version, an old one (any version) is migrated, a newer one is refused; runs resolve by
 * id, tag, name and "last"; the candidate list; a prediction and a metric go in and come
 * back; a rolled-back transaction leaves nothing; several processes creating the same new
 * database at once all succeed (issue 16, defect 2).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_int.h"
#include "fields.h"
#include "schema.h"
#include "store_read.h"
#include "store_run.h"
#include "tiny_run.h"

static const tiny_ex EX[] = {{"a", "a", 0.9, "b", 0.6}, {"b", "b", 0.8, "b", 0.7}};

static long one_long(slm_store *st, const char *sql)
{
    sqlite3_stmt *s;
    long v = -1;
    assert_int_equal(slm_store_prepare(st, sql, &s, NULL, 0), 0);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = (long)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* Every declared column is in the database, in its table. */
static void assert_declared_columns(slm_store *st)
{
    for (size_t i = 0; i < slm_schema_n_tables(); i++) {
        const slm_table *t = slm_schema_table(i);
        char *sql = slm_xasprintf("SELECT count(*) FROM pragma_table_info('%s')", t->name);
        assert_int_equal(one_long(st, sql), (long)slm_table_n_cols(t));
        free(sql);
    }
}

static void declarations_are_sound(void **state)
{
    (void)state;
    char err[SLM_ERRLEN] = "";
    if (slm_schema_check(err, sizeof err))
        fail_msg("%s", err);
    /* the newest column or table was added by the last migration */
    int newest = 0;
    for (size_t i = 0; i < slm_schema_n_tables(); i++)
        for (size_t k = 0; k < slm_table_n_cols(slm_schema_table(i)); k++)
            if (slm_table_col(slm_schema_table(i), k)->since > newest)
                newest = slm_table_col(slm_schema_table(i), k)->since;
    assert_int_equal(newest, SLM_SCHEMA_VERSION);
}

static void fresh_database(void **state)
{
    (void)state;
    char *path = tiny_db_path("fresh"), err[SLM_ERRLEN];
    slm_store *st;
    assert_int_equal(slm_store_open(path, 0, &st, err, sizeof err), -1); /* not created */
    assert_int_equal(slm_store_open(path, 1, &st, err, sizeof err), 0);
    assert_int_equal(one_long(st, "PRAGMA user_version"), SLM_SCHEMA_VERSION);
    assert_declared_columns(st);
    assert_int_equal(one_long(st, "SELECT count(*) FROM sqlite_master WHERE type = 'view'"), 3);
    /* v_summary's metric columns are the field table's comparison metrics, in order */
    assert_int_equal(one_long(st, "SELECT count(*) FROM pragma_table_info('v_summary')"),
                     6 + (long)slm_n_summary_fields);
    for (size_t i = 0; i < slm_n_summary_fields; i++) {
        char *sql = slm_xasprintf("SELECT count(*) FROM pragma_table_info('v_summary') WHERE "
                                  "cid = %zu AND name = '%s'", 6 + i, slm_summary_fields[i]);
        assert_int_equal(one_long(st, sql), 1);
        free(sql);
    }
    slm_store_close(st);
    slm_store_close(NULL);
    tiny_db_remove(path);
}

/* A database left at version v (its migrations 1..v applied by hand) is brought up to date
 * and ends with the same tables and columns as a new one. */
static void old_versions_migrate(void **state)
{
    (void)state;
    for (int v = 0; v < SLM_SCHEMA_VERSION; v++) {
        char *path = tiny_db_path("old"), err[SLM_ERRLEN];
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        slm_buf sql = {0};
        for (int k = 1; k <= v; k++)
            slm_schema_migration(k, &sql);
        slm_buf_printf(&sql, "PRAGMA user_version = %d;", v);
        assert_int_equal(sqlite3_exec(db, sql.data, NULL, NULL, NULL), SQLITE_OK);
        slm_buf_free(&sql);
        sqlite3_close(db);
        slm_store *st;
        if (slm_store_open(path, 0, &st, err, sizeof err))
            fail_msg("version %d: %s", v, err);
        assert_int_equal(one_long(st, "PRAGMA user_version"), SLM_SCHEMA_VERSION);
        assert_declared_columns(st);
        slm_store_close(st);
        tiny_db_remove(path);
    }
}

static void newer_database_refused(void **state)
{
    (void)state;
    char *path = tiny_db_path("newer"), err[SLM_ERRLEN] = "";
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *sql = slm_xasprintf("PRAGMA user_version = %d", SLM_SCHEMA_VERSION + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    free(sql);
    sqlite3_close(db);
    slm_store *st = NULL;
    assert_int_equal(slm_store_open(path, 0, &st, err, sizeof err), -1);
    assert_non_null(strstr(err, "newer than this slmbench supports"));
    tiny_db_remove(path);
}

static void resolve_runs_and_candidates(void **state)
{
    (void)state;
    char *path = tiny_db_path("resolve"), err[SLM_ERRLEN];
    slm_store *st;
    assert_int_equal(slm_store_open(path, 1, &st, err, sizeof err), 0);
    int64_t id = 0;
    assert_int_equal(slm_store_resolve_run(st, "last", &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "no runs"));
    int64_t r1 = tiny_run(st, NULL, EX, 0, 2, 1), r2 = tiny_run(st, NULL, EX, 0, 2, 2);
    tiny_exec(st, "INSERT INTO tags VALUES ('base', 1, '2026-01-01')");
    assert_int_equal(slm_store_resolve_run(st, "last", &id, err, sizeof err), 0);
    assert_int_equal(id, r2);
    assert_int_equal(slm_store_resolve_run(st, "1", &id, err, sizeof err), 0);
    assert_int_equal(id, r1);
    assert_int_equal(slm_store_resolve_run(st, "base", &id, err, sizeof err), 0);
    assert_int_equal(id, r1);
    assert_int_equal(slm_store_resolve_run(st, "tiny", &id, err, sizeof err), 0);
    assert_int_equal(id, r2); /* a name: its newest run */
    assert_int_equal(slm_store_resolve_run(st, "nope", &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "no run 'nope'"));

    slm_cand *c;
    size_t n;
    assert_int_equal(slm_store_candidates(st, r2, &c, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].name, "c1");
    assert_string_equal(c[1].name, "c2");
    assert_string_equal(c[1].status, "ok");
    int64_t cid;
    assert_int_equal(slm_store_candidate_id(st, r2, "c2", &cid, err, sizeof err), 0);
    assert_int_equal(cid, c[1].id);
    assert_int_equal(slm_store_candidate_id(st, r2, "zz", &cid, err, sizeof err), 1);
    slm_cands_free(c, n);
    assert_int_equal(slm_store_candidates(st, 99, &c, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    slm_store_close(st);
    tiny_db_remove(path);
}

static void prediction_and_metric_round_trip(void **state)
{
    (void)state;
    char *path = tiny_db_path("rt"), err[SLM_ERRLEN];
    slm_store *st;
    assert_int_equal(slm_store_open(path, 1, &st, err, sizeof err), 0);
    int64_t run = tiny_run(st, NULL, EX, 0, 0, 1), cid;
    assert_int_equal(slm_store_candidate_id(st, run, "c1", &cid, err, sizeof err), 0);
    slm_pred_row r = {.run_id = run, .candidate_id = cid, .example_idx = 7, .example_id = "e7",
                      .gold = "a", .raw_output = "?", .confidence = NAN, .n_prompt_tokens = 12,
                      .n_output_tokens = -1, .e2e_ms = 3.5, .prefill_ms = NAN,
                      .decode_ms = NAN, .ttft_ms = NAN, .tpot_ms = NAN, .error = "boom",
                      .fail_kinds = ""};
    assert_int_equal(slm_store_put_prediction(st, &r, err, sizeof err), 0);
    slm_pred *p;
    size_t n;
    assert_int_equal(slm_store_predictions(st, cid, &p, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].example_idx, 7);
    assert_string_equal(p[0].example_id, "e7");
    assert_null(p[0].pred);
    assert_string_equal(p[0].error, "boom");
    assert_null(p[0].fail_kinds); /* "" is stored as NULL */
    assert_true(isnan(p[0].confidence));
    assert_true(p[0].n_prompt_tokens == 12);
    assert_true(isnan(p[0].n_output_tokens));
    assert_true(p[0].e2e_ms == 3.5);
    slm_preds_free(p, n);

    assert_true(isnan(slm_store_metric(st, cid, "accuracy", NULL, NULL)));
    assert_int_equal(slm_store_put_metric(st, run, cid, "accuracy", 0.5, 0.25, NAN, 2, err,
                                          sizeof err), 0);
    double lo, hi;
    assert_true(slm_store_metric(st, cid, "accuracy", &lo, &hi) == 0.5);
    assert_true(lo == 0.25);
    assert_true(isnan(hi));
    slm_store_close(st);
    tiny_db_remove(path);
}

static void rollback_leaves_nothing(void **state)
{
    (void)state;
    char *path = tiny_db_path("rb"), err[SLM_ERRLEN];
    slm_store *st;
    assert_int_equal(slm_store_open(path, 1, &st, err, sizeof err), 0);
    assert_int_equal(slm_store_begin(st, err, sizeof err), 0);
    assert_int_equal(slm_store_begin(st, err, sizeof err), 0); /* nested: counted */
    slm_run_row rr = {"rb", "2026-01-01T00:00:00Z", "score", NULL, "name: rb", "x", "test",
                      NULL, NULL, "same", NULL, NAN, 0, NULL};
    int64_t run;
    assert_int_equal(slm_store_begin_run(st, &rr, &run, err, sizeof err), 0);
    assert_int_equal(slm_store_commit(st, err, sizeof err), 0); /* inner: nothing yet */
    slm_cand_row cr = {0, "c", "replay", NULL, "{}", NULL, 0, 1};
    int64_t cid;
    assert_int_equal(slm_store_add_candidate(st, run, &cr, &cid, err, sizeof err), 0);
    slm_store_rollback(st);
    assert_int_equal(one_long(st, "SELECT count(*) FROM runs"), 0);
    assert_int_equal(one_long(st, "SELECT count(*) FROM candidates"), 0);
    /* and the handle is usable after it */
    assert_int_equal(slm_store_begin(st, err, sizeof err), 0);
    assert_int_equal(slm_store_begin_run(st, &rr, &run, err, sizeof err), 0);
    assert_int_equal(slm_store_commit(st, err, sizeof err), 0);
    assert_int_equal(one_long(st, "SELECT count(*) FROM runs WHERE status = 'running'"), 1);
    assert_int_equal(slm_store_set_run_status(st, run, "complete", NULL), 0);
    assert_int_equal(one_long(st, "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL"), 1);
    slm_store_close(st);
    tiny_db_remove(path);
}

/* One child: waits until the parent opens the gate (closes the pipe), then creates the
 * store; exit status 0 when it opened and found the current version, 1 otherwise. */
static void racing_opener(const char *path, int gate)
{
    char c, err[SLM_ERRLEN] = "";
    slm_store *st;
    (void)!read(gate, &c, 1); /* returns 0 when the parent closes its end */
    int bad = slm_store_open(path, 1, &st, err, sizeof err);
    if (bad)
        fprintf(stderr, "racing opener: %s\n", err);
    else if (one_long(st, "PRAGMA user_version") != SLM_SCHEMA_VERSION)
        bad = 1;
    if (!bad)
        slm_store_close(st);
    _exit(bad ? 1 : 0);
}

/* Eight processes create the same new database at once, ten times over: every one succeeds
 * (before the fix, the migration read user_version before taking the write lock and the
 * losers failed with "table runs already exists"). */
static void concurrent_creation(void **state)
{
    (void)state;
    enum { ROUNDS = 10, PROCS = 8 };
    for (int r = 0; r < ROUNDS; r++) {
        char *path = tiny_db_path("race");
        int gate[2];
        pid_t pid[PROCS];
        assert_int_equal(pipe(gate), 0);
        for (int i = 0; i < PROCS; i++) {
            pid[i] = fork();
            assert_true(pid[i] >= 0);
            if (pid[i] == 0) {
                close(gate[1]);
                racing_opener(path, gate[0]);
            }
        }
        close(gate[0]);
        close(gate[1]); /* all children start together */
        int failed = 0;
        for (int i = 0; i < PROCS; i++) {
            int status = 0;
            assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
            failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        if (failed)
            fail_msg("round %d: %d of %d processes failed to create %s", r, failed, PROCS,
                     path);
        tiny_db_remove(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(declarations_are_sound),
        cmocka_unit_test(fresh_database),
        cmocka_unit_test(old_versions_migrate),
        cmocka_unit_test(newer_database_refused),
        cmocka_unit_test(resolve_runs_and_candidates),
        cmocka_unit_test(prediction_and_metric_round_trip),
        cmocka_unit_test(rollback_leaves_nothing),
        cmocka_unit_test(concurrent_creation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
