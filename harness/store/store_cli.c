/* store_cli.c — the commands' own store reads and writes (see store_cli.h). */
#include "store_int.h"
#include "store_cli.h"
#include "schema.h"
#include "slmbench.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

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

void slm_real_text(char *buf, size_t n, double v)
{
    /* A double has at most 17 significant digits that matter; fewer often suffice, and
     * %g drops the trailing zeros, so 15 digits already give the shortest form of values
     * such as 0.1. main forces LC_NUMERIC=C, so strtod reads what slm_fmt_double wrote. */
    for (int prec = 15; prec < 17 && isfinite(v); prec++) {
        slm_fmt_double(buf, n, v, prec);
        if (strtod(buf, NULL) == v)
            return;
    }
    slm_fmt_double(buf, n, v, 17);
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

/* The column of t that holds a run id and the one that holds a candidate id (NULL where
 * the table has none). */
static void id_columns(const slm_table *t, const char **run_col, const char **cand_col)
{
    int is_runs = !strcmp(t->name, "runs"), is_cands = !strcmp(t->name, "candidates");
    *run_col = is_runs ? "id" : "run_id";
    *cand_col = is_cands ? "id" : NULL;
    for (size_t k = 0; !is_cands && k < slm_table_n_cols(t); k++)
        if (!strcmp(slm_table_col(t, k)->name, "candidate_id"))
            *cand_col = "candidate_id";
}

/* The columns whose text may carry a secret: errors (a server's message), the config and
 * the options as written. Exported redacted, whatever version wrote them. */
static int may_hold_secret(const char *col)
{
    return !strcmp(col, "error") || !strcmp(col, "config_text") || !strcmp(col, "options_json");
}

/* Whether t holds rows of one run (runs itself, or a run_id column). */
static int per_run(const slm_table *t)
{
    if (!strcmp(t->name, "runs"))
        return 1;
    for (size_t k = 0; k < slm_table_n_cols(t); k++)
        if (!strcmp(slm_table_col(t, k)->name, "run_id"))
            return 1;
    return 0;
}

int slm_store_table_per_run(const char *table)
{
    const slm_table *t = slm_schema_find(table);
    return t ? per_run(t) : -1;
}

void slm_store_per_run_tables(slm_buf *out)
{
    for (size_t i = 0; i < slm_schema_n_tables(); i++)
        if (per_run(slm_schema_table(i)))
            slm_buf_printf(out, "%s%s", out->len ? ", " : "", slm_schema_table(i)->name);
}

int slm_store_each_table_row(slm_store *st, const char *table, int64_t run_id, int64_t cid,
                             void (*fn)(size_t n, const char *const *v, void *ud), void *ud,
                             char *err, size_t errlen)
{
    const slm_table *t = slm_schema_find(table);
    if (!t)
        return 1;
    if (!per_run(t))
        return 2;
    const char *run_col, *cand_col;
    id_columns(t, &run_col, &cand_col);
    size_t n = slm_table_n_cols(t);
    const char **v = slm_xcalloc(n, sizeof *v);
    slm_buf sql = {0};
    slm_buf_puts(&sql, "SELECT ");
    for (size_t k = 0; k < n; k++) {
        v[k] = slm_table_col(t, k)->name;
        slm_buf_printf(&sql, "%s\"%s\"", k ? ", " : "", v[k]);
    }
    fn(n, v, ud);
    slm_buf_printf(&sql, " FROM \"%s\" WHERE %s = ?1", t->name, run_col);
    if (cid >= 0 && cand_col)
        slm_buf_printf(&sql, " AND %s = ?2", cand_col);
    slm_buf_puts(&sql, " ORDER BY rowid");
    sqlite3_stmt *s;
    int rc = slm_store_prepare(st, sql.data, &s, err, errlen);
    slm_buf_free(&sql);
    if (rc) {
        free(v);
        return -1;
    }
    sqlite3_bind_int64(s, 1, run_id);
    if (cid >= 0 && cand_col)
        sqlite3_bind_int64(s, 2, cid);
    char(*real)[SLM_REAL_TEXT_LEN] = slm_xcalloc(n, sizeof *real);
    char **red = slm_xcalloc(n, sizeof *red);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        for (size_t k = 0; k < n; k++) {
            if (sqlite3_column_type(s, (int)k) == SQLITE_FLOAT) {
                slm_real_text(real[k], sizeof real[k], sqlite3_column_double(s, (int)k));
                v[k] = real[k];
            } else if (may_hold_secret(slm_table_col(t, k)->name)) {
                free(red[k]);
                red[k] = slm_redact((const char *)sqlite3_column_text(s, (int)k));
                v[k] = red[k];
            } else {
                v[k] = (const char *)sqlite3_column_text(s, (int)k);
            }
        }
        fn(n, v, ud);
    }
    sqlite3_finalize(s);
    for (size_t k = 0; k < n; k++)
        free(red[k]);
    free(red);
    free(real);
    free(v);
    if (rc != SQLITE_DONE)
        return slm_err(err, errlen, "%s: cannot read table %s", slm_store_path(st), table);
    return 0;
}
