/* store_merge.c — see store_merge.h. Every statement that copies rows is generated from
 * the column tables of schema.c: the list of columns is never written here. */
#include "store_int.h"
#include "store_merge.h"
#include "schema.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The shard's newest run: merge takes that one of each database. */
#define SHARD_RUN "(SELECT max(id) FROM shard.runs)"

int slm_store_attach_shard(slm_store *st, const char *path, char *err, size_t errlen)
{
    char *q = sqlite3_mprintf("ATTACH DATABASE %Q AS shard", path);
    int bad = slm_store_exec(st, q, err, errlen);
    sqlite3_free(q);
    return bad;
}

void slm_store_detach_shard(slm_store *st)
{
    char derr[SLM_ERRLEN];
    slm_store_exec(st, "DETACH DATABASE shard", derr, sizeof derr);
}

/* One text value of a query, or NULL (caller frees). */
static char *one_text(slm_store *st, const char *sql)
{
    sqlite3_stmt *s;
    char *v = NULL;
    if (slm_store_prepare(st, sql, &s, NULL, 0))
        return NULL;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        v = slm_xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

void slm_store_shard_facts(slm_store *st, slm_shard_facts *f)
{
    f->shard = one_text(st, "SELECT coalesce(shard, '') FROM shard.runs WHERE id = " SHARD_RUN);
    f->config_sha256 = one_text(st, "SELECT config_sha256 FROM shard.runs WHERE id = " SHARD_RUN);
    f->data_sha256 = one_text(st, "SELECT sha256 FROM shard.evalsets WHERE run_id = " SHARD_RUN);
    f->status = one_text(st, "SELECT status FROM shard.runs WHERE id = " SHARD_RUN);
}

void slm_shard_facts_free(slm_shard_facts *f)
{
    free(f->shard);
    free(f->config_sha256);
    free(f->data_sha256);
    free(f->status);
    memset(f, 0, sizeof *f);
}

/* The column that ties a row to its run: the run id, or a run's own id. */
static const char *run_column(const slm_table *t)
{
    for (size_t i = 0; i < slm_table_n_cols(t); i++) {
        const slm_col *c = slm_table_col(t, i);
        if (c->merge == SLM_MERGE_RUN || (c->merge == SLM_MERGE_ID && !strcmp(t->name, "runs")))
            return c->name;
    }
    return NULL;
}

/* The first column holding a candidate id (the row's candidate), or NULL. */
static const char *cand_column(const slm_table *t)
{
    for (size_t i = 0; i < slm_table_n_cols(t); i++)
        if (slm_table_col(t, i)->merge == SLM_MERGE_CAND)
            return slm_table_col(t, i)->name;
    return NULL;
}

/* INSERT INTO main.t (...) SELECT ... FROM shard.t: each column by its merge rule. Totals
 * (sum, max) start NULL and are folded in by fold_candidates for every shard. */
static void copy_sql(const slm_table *t, int64_t run_id, slm_buf *b)
{
    slm_buf sel = {0};
    const char *sep = "";
    slm_buf_printf(b, "INSERT INTO main.%s (", t->name);
    for (size_t i = 0; i < slm_table_n_cols(t); i++) {
        const slm_col *c = slm_table_col(t, i);
        if (c->merge == SLM_MERGE_ID)
            continue;
        slm_buf_printf(b, "%s%s", sep, c->name);
        if (c->merge == SLM_MERGE_COPY)
            slm_buf_printf(&sel, "%so.%s", sep, c->name);
        else if (c->merge == SLM_MERGE_RUN)
            slm_buf_printf(&sel, "%s%lld", sep, (long long)run_id);
        else if (c->merge == SLM_MERGE_CAND)
            slm_buf_printf(&sel, "%s(SELECT new FROM cmap WHERE old = o.%s)", sep, c->name);
        else if (c->merge == SLM_MERGE_SET)
            slm_buf_printf(&sel, "%s%s", sep, c->fixed);
        else
            slm_buf_printf(&sel, "%sNULL", sep);
        sep = ", ";
    }
    slm_buf_printf(b, ") SELECT %s FROM shard.%s o", sel.data ? sel.data : "", t->name);
    const char *cc = cand_column(t);
    if (cc) /* only the rows of candidates the merged run has */
        slm_buf_printf(b, " JOIN cmap m ON m.old = o.%s", cc);
    slm_buf_printf(b, " WHERE o.%s = " SHARD_RUN ";\n", run_column(t));
    slm_buf_free(&sel);
}

/* Copies every table of scope from the attached shard. */
static int copy_tables(slm_store *st, slm_merge_scope scope, int64_t run_id, char *err,
                       size_t errlen)
{
    slm_buf sql = {0};
    for (size_t i = 0; i < slm_schema_n_tables(); i++) {
        const slm_table *t = slm_schema_table(i);
        if (t->scope == scope && strcmp(t->name, "runs"))
            copy_sql(t, run_id, &sql);
    }
    int bad = sql.len ? slm_store_exec(st, sql.data, err, errlen) : 0;
    slm_buf_free(&sql);
    return bad;
}

int slm_store_merge_run(slm_store *st, int64_t *run_id, char *err, size_t errlen)
{
    slm_buf sql = {0};
    copy_sql(slm_schema_find("runs"), 0, &sql);
    int bad = slm_store_exec(st, sql.data, err, errlen);
    slm_buf_free(&sql);
    if (bad)
        return -1;
    *run_id = sqlite3_last_insert_rowid(slm_store_db(st));
    /* the candidates must be in before cmap can match the per-example rows to them */
    return copy_tables(st, SLM_SCOPE_ONCE, *run_id, err, errlen);
}

/* Folds the shard's candidate totals into the merged candidates of the same name. */
static int fold_candidates(slm_store *st, int64_t run_id, char *err, size_t errlen)
{
    const slm_table *t = slm_schema_find("candidates");
    slm_buf sql = {0};
    const char *sep = "";
    slm_buf_puts(&sql, "UPDATE main.candidates SET ");
    for (size_t i = 0; i < slm_table_n_cols(t); i++) {
        const slm_col *c = slm_table_col(t, i);
        const char *n = c->name;
        if (c->merge == SLM_MERGE_SUM)
            slm_buf_printf(&sql,
                           "%s%s = CASE WHEN o.%s IS NULL THEN candidates.%s "
                           "ELSE coalesce(candidates.%s, 0) + o.%s END",
                           sep, n, n, n, n, n);
        else if (c->merge == SLM_MERGE_MAX)
            slm_buf_printf(&sql,
                           "%s%s = CASE WHEN o.%s IS NULL THEN candidates.%s "
                           "WHEN candidates.%s IS NULL THEN o.%s ELSE max(candidates.%s, o.%s) END",
                           sep, n, n, n, n, n, n, n);
        else
            continue;
        sep = ", ";
    }
    slm_buf_printf(&sql,
                   " FROM (SELECT m.new AS new_id, s.* FROM shard.candidates s JOIN cmap m "
                   "ON m.old = s.id) AS o WHERE candidates.id = o.new_id AND "
                   "candidates.run_id = %lld;",
                   (long long)run_id);
    int bad = *sep ? slm_store_exec(st, sql.data, err, errlen) : 0;
    slm_buf_free(&sql);
    return bad;
}

int slm_store_merge_rows(slm_store *st, int64_t run_id, char *err, size_t errlen)
{
    char *sql = sqlite3_mprintf(
        "CREATE TEMP TABLE IF NOT EXISTS cmap (old INTEGER PRIMARY KEY, new INTEGER);"
        "DELETE FROM cmap;"
        "INSERT INTO cmap SELECT o.id, n.id FROM shard.candidates o JOIN main.candidates n "
        "ON n.name = o.name AND n.run_id = %lld WHERE o.run_id = " SHARD_RUN ";",
        (long long)run_id);
    int bad = slm_store_exec(st, sql, err, errlen);
    sqlite3_free(sql);
    if (bad || copy_tables(st, SLM_SCOPE_EACH, run_id, err, errlen))
        return -1;
    return fold_candidates(st, run_id, err, errlen);
}

int slm_store_set_merged_from(slm_store *st, int64_t run_id, const char *from, char *err,
                              size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "UPDATE runs SET merged_from = ?, shard = NULL WHERE id = ?", &s,
                          err, errlen))
        return -1;
    sqlite3_bind_text(s, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, run_id);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : slm_err(err, errlen, "%s: cannot update run %lld",
                                           slm_store_path(st), (long long)run_id);
}

int slm_store_set_status(slm_store *st, int64_t run_id, const char *status, char *err,
                         size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "UPDATE runs SET status = ? WHERE id = ?", &s, err, errlen))
        return -1;
    sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, run_id);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : slm_err(err, errlen, "%s: cannot update run %lld",
                                           slm_store_path(st), (long long)run_id);
}

void slm_store_unmerge(slm_store *st, int64_t run_id)
{
    char derr[SLM_ERRLEN];
    for (size_t i = slm_schema_n_tables(); i-- > 0;) {
        const slm_table *t = slm_schema_table(i);
        if (t->scope == SLM_SCOPE_NONE)
            continue;
        char *sql = sqlite3_mprintf("DELETE FROM %s WHERE %s = %lld", t->name, run_column(t),
                                    (long long)run_id);
        slm_store_exec(st, sql, derr, sizeof derr);
        sqlite3_free(sql);
    }
}
