/* store_cli.c — the commands' own store reads and writes (see store_cli.h). */
#include "store_cli.h"
#include "slmbench.h"

#include <math.h>
#include <sqlite3.h>

int slm_store_run_errors(slm_store *st, int64_t run_id, long *n, char *err, size_t errlen)
{
    sqlite3_stmt *q;
    *n = 0;
    if (slm_store_prepare(st,
                          "SELECT count(*) FROM predictions WHERE run_id = ? AND error IS NOT NULL",
                          &q, err, errlen))
        return -1;
    sqlite3_bind_int64(q, 1, run_id);
    if (sqlite3_step(q) == SQLITE_ROW)
        *n = (long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return 0;
}

char *slm_store_run_data_sha(slm_store *st, int64_t run_id)
{
    sqlite3_stmt *s;
    char *r = NULL;
    if (slm_store_prepare(st, "SELECT sha256 FROM evalsets WHERE run_id = ?", &s, NULL, 0))
        return NULL;
    sqlite3_bind_int64(s, 1, run_id);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        r = slm_xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return r;
}

/* Runs one write of two bound values (text, run id), plus a third text when given. */
static int write_tag(slm_store *st, const char *sql, const char *name, int64_t run_id,
                     const char *now, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, sql, &s, err, errlen))
        return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, run_id);
    if (now)
        sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
    int ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    return ok ? 0 : slm_err(err, errlen, "cannot tag run %lld", (long long)run_id);
}

int slm_store_tag_run(slm_store *st, int64_t run_id, const char *name, char *err,
                      size_t errlen)
{
    char now[32];
    slm_utc_iso8601(now, sizeof now);
    if (write_tag(st, "INSERT OR REPLACE INTO tags (name, run_id, created_at) VALUES (?,?,?)",
                  name, run_id, now, err, errlen))
        return -1;
    /* the UPDATE binds the same two values in the other order of meaning: tag, then id */
    return write_tag(st, "UPDATE runs SET tag = ? WHERE id = ?", name, run_id, NULL, err,
                     errlen);
}

static double column_or_nan(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
}

int slm_store_each_prediction(slm_store *st, int64_t candidate_id,
                              void (*fn)(const slm_export_row *row, void *ud), void *ud,
                              char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "SELECT example_id, gold, pred, confidence, probs_json, e2e_ms "
                          "FROM predictions WHERE candidate_id = ? ORDER BY example_idx",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, candidate_id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        slm_export_row r = {
            .example_id = (const char *)sqlite3_column_text(s, 0),
            .gold = (const char *)sqlite3_column_text(s, 1),
            .pred = (const char *)sqlite3_column_text(s, 2),
            .confidence = column_or_nan(s, 3),
            .probs_json = (const char *)sqlite3_column_text(s, 4),
            .e2e_ms = column_or_nan(s, 5),
        };
        fn(&r, ud);
    }
    sqlite3_finalize(s);
    return 0;
}
