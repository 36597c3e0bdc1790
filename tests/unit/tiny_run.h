/*
 * tiny_run.h — a tiny scored run written straight into a database, for the store, merge
 * and aggregate tests: labels a and b, candidates c1 and c2, predictions given per example.
 * Header-only (static functions) so each test program includes it alone.
 */
#ifndef SLM_TEST_TINY_RUN_H
#define SLM_TEST_TINY_RUN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_int.h"
#include "store.h"
#include "util.h"

/* A config that parses without its eval set on disk (metrics read only the database). */
#define TINY_CONFIG                                                                         \
    "name: tiny\\nevalset: /nonexistent/tiny\\nwarmup: 0\\nbootstrap: 50\\n"                \
    "candidates:\\n  - {name: c1, engine: replay, model: r1.csv}\\n"                        \
    "  - {name: c2, engine: replay, model: r2.csv}\\n"

/* One example: its gold label and each candidate's prediction and confidence. */
typedef struct tiny_ex {
    const char *gold;
    const char *pred1;
    double conf1;
    const char *pred2;
    double conf2;
} tiny_ex;

static void tiny_exec(slm_store *st, const char *sql)
{
    char err[SLM_ERRLEN];
    if (slm_store_exec(st, sql, err, sizeof err)) {
        fprintf(stderr, "tiny_run: %s\n", err);
        abort();
    }
}

/* Writes run (shard "I/N" or NULL) with the examples ex[first..first+n) into st; returns
 * the run id. Candidate c1 gets machine facts derived from seed so merges can be checked. */
static int64_t tiny_run(slm_store *st, const char *shard, const tiny_ex *ex, size_t first,
                        size_t n, int seed)
{
    char *sql = slm_xasprintf(
        "INSERT INTO runs (name, status, created_at, mode, config_text, config_sha256, "
        "harness_version, shard) VALUES ('tiny', 'complete', '2026-01-01T00:00:00Z', 'score', "
        "replace('%s', '\\n', char(10)), 'cfg', 'test', %s%s%s)",
        TINY_CONFIG, shard ? "'" : "", shard ? shard : "NULL", shard ? "'" : "");
    tiny_exec(st, sql);
    free(sql);
    int64_t run = sqlite3_last_insert_rowid(slm_store_db(st));
    sql = slm_xasprintf(
        "INSERT INTO evalsets (run_id, name, split, path, sha256, n_rows, labels_json, "
        "prompt_template, prompt_sha256) VALUES (%lld, 'tiny', 'test', 'tiny.csv', 'data', %zu, "
        "'[\"a\",\"b\"]', '{{text}}', 'p');"
        "INSERT INTO candidates (run_id, idx, name, engine, status, wall_ms, engine_ms, "
        "load1_before, load1_after, steal_pct, peak_rss_kb, throughput_s, throughput_tokens, "
        "throughput_n, throughput_mismatches) VALUES (%lld, 0, 'c1', 'replay', 'ok', %d, %d, "
        "%d.5, %d.25, %d, %d, %d, %d, %d, 0);"
        "INSERT INTO candidates (run_id, idx, name, engine, status) VALUES "
        "(%lld, 1, 'c2', 'replay', 'ok');",
        (long long)run, n, (long long)run, 100 * seed, 90 * seed, seed, seed, seed,
        1000 * seed, 2 * seed, 10 * seed, 5 * seed, (long long)run);
    tiny_exec(st, sql);
    free(sql);
    for (size_t i = first; i < first + n; i++) {
        sql = slm_xasprintf(
            "INSERT INTO examples VALUES (%lld, %zu, 'e%zu', '%s', %zu, 'h');"
            "INSERT INTO predictions (run_id, candidate_id, example_idx, example_id, gold, pred, "
            "correct, valid, confidence, e2e_ms) SELECT %lld, id, %zu, 'e%zu', '%s', "
            "CASE name WHEN 'c1' THEN '%s' ELSE '%s' END, "
            "CASE name WHEN 'c1' THEN %d ELSE %d END, 1, "
            "CASE name WHEN 'c1' THEN %g ELSE %g END, %zu FROM candidates WHERE run_id = %lld",
            (long long)run, i, i, ex[i].gold, i + 2, (long long)run, i, i, ex[i].gold,
            ex[i].pred1, ex[i].pred2, !strcmp(ex[i].gold, ex[i].pred1),
            !strcmp(ex[i].gold, ex[i].pred2), ex[i].conf1, ex[i].conf2, 10 + i,
            (long long)run);
        tiny_exec(st, sql);
        free(sql);
    }
    return run;
}

/* A fresh temporary database path (caller frees and unlinks). */
static char *tiny_db_path(const char *what)
{
    char tmpl[] = "/tmp/slm_test_store.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0)
        close(fd);
    unlink(tmpl);
    return slm_xasprintf("%s.%s.db", tmpl, what);
}

static void tiny_db_remove(char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char *p = slm_xasprintf("%s%s", path, suffix[i]);
        unlink(p);
        free(p);
    }
    free(path);
}

#endif
