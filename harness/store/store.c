/* store.c — see store.h. */
#include "store.h"
#include "schema.h"
#include "store_int.h"
#include "redact.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct slm_store {
    sqlite3 *db;
    char *path;
    int depth;
    sqlite3_stmt *put_pred;
    sqlite3_stmt *cached[SLM_STMT_COUNT]; /* slm_store_cached: prepared once, kept open */
};


/* The system's reason behind an I/O failure, " (No space left on device)", else "": SQLite
 * says only "disk I/O error" when growing the -shm file on a full disk fails, and the
 * operator needs to know that the disk is full. */
static void os_reason(slm_store *st, char *buf, size_t n)
{
    int code = sqlite3_errcode(st->db) & 0xff, sys = sqlite3_system_errno(st->db);
    buf[0] = '\0';
    if ((code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CANTOPEN) && sys > 0)
        snprintf(buf, n, " (%s)", strerror(sys));
}

static int db_err(slm_store *st, const char *what, char *err, size_t errlen)
{
    char why[96];
    os_reason(st, why, sizeof why);
    return slm_err(err, errlen, "%s: %s: %s%s", st->path, what, sqlite3_errmsg(st->db), why);
}

int slm_store_exec(slm_store *st, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        char why[96];
        os_reason(st, why, sizeof why);
        slm_err(err, errlen, "%s: %s%s", st->path, msg ? msg : sqlite3_errmsg(st->db), why);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int user_version(slm_store *st, int *v, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return db_err(st, "cannot read the schema version", err, errlen);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(s);
        return db_err(st, "cannot read the schema version", err, errlen);
    }
    *v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return 0;
}

/* How long an open waits for another process's lock, in ms. */
enum { BUSY_MS = 10000, BUSY_STEP_MS = 5 };

/* Switching to WAL needs the database to itself, and SQLite answers SQLITE_BUSY at once
 * rather than calling the busy handler while another process is creating or migrating the
 * same file: retry for as long as the busy timeout would have waited. */
static int set_wal(slm_store *st, char *err, size_t errlen)
{
    for (int waited = 0;; waited += BUSY_STEP_MS) {
        int rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc & 0xff) != SQLITE_BUSY || waited >= BUSY_MS)
            return db_err(st, "cannot switch to WAL", err, errlen);
        sqlite3_sleep(BUSY_STEP_MS);
    }
}

/* One step: under the write lock (BEGIN IMMEDIATE, waiting out the busy timeout), read
 * user_version and apply the next migration with its version number, or nothing when the
 * database is current. Reading the version before taking the lock let two processes
 * creating the same database both see 0 and the second fail with "table runs already
 * exists". *done is set when there is nothing left to do. */
static int migrate_step(slm_store *st, int *done, char *err, size_t errlen)
{
    int v = 0;
    if (slm_store_exec(st, "BEGIN IMMEDIATE", err, errlen))
        return -1;
    if (user_version(st, &v, err, errlen)) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (v > SLM_SCHEMA_VERSION) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return slm_err(err, errlen,
                       "%s: database schema version %d is newer than this slmbench supports "
                       "(%d); upgrade slmbench",
                       st->path, v, SLM_SCHEMA_VERSION);
    }
    *done = v == SLM_SCHEMA_VERSION;
    if (!*done) {
        /* the migration and its version number commit together or not at all */
        slm_buf sql = {0};
        slm_schema_migration(v + 1, &sql);
        slm_buf_printf(&sql, "PRAGMA user_version = %d;", v + 1);
        int bad = slm_store_exec(st, sql.data, err, errlen);
        slm_buf_free(&sql);
        if (bad) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return slm_store_exec(st, "COMMIT", err, errlen);
}

/* Applies every migration; a failure names what was being done (a bare "disk I/O error"
 * did not say the schema was being written). */
static int migrate(slm_store *st, char *err, size_t errlen)
{
    char e[SLM_ERRLEN];
    for (int done = 0; !done;) {
        e[0] = '\0';
        if (migrate_step(st, &done, e, sizeof e) == 0)
            continue;
        /* a newer database's message is complete as it is */
        if (strstr(e, "is newer than this slmbench"))
            return slm_err(err, errlen, "%s", e);
        const char *why = strncmp(e, st->path, strlen(st->path)) ? e : e + strlen(st->path);
        return slm_err(err, errlen, "%s: cannot create or upgrade the schema%s%s", st->path,
                       *why == ':' ? "" : ": ", why);
    }
    return 0;
}

int slm_store_open(const char *path, int create, slm_store **out, char *err, size_t errlen)
{
    slm_store *st = slm_xcalloc(1, sizeof *st);
    st->path = slm_xstrdup(path);
    if (!create && access(path, F_OK) != 0) {
        slm_err(err, errlen, "cannot open database '%s': %s", path, strerror(errno));
        slm_store_close(st);
        return -1;
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        if (!st->db)
            slm_err(err, errlen, "cannot open database '%s'", path);
        else
            slm_err(err, errlen, "cannot open database '%s': %s", path,
                    sqlite3_errmsg(st->db));
        slm_store_close(st);
        return -1;
    }
    sqlite3_busy_timeout(st->db, BUSY_MS);
    /* A file that is not a database fails on the first read. */
    if (set_wal(st, err, errlen) ||
        slm_store_exec(st, "PRAGMA synchronous = NORMAL", err, errlen) ||
        slm_store_exec(st, "PRAGMA foreign_keys = ON", err, errlen) || migrate(st, err, errlen)) {
        slm_store_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

int slm_store_open_ro(const char *path, slm_store **out, char *err, size_t errlen)
{
    slm_store *st = slm_xcalloc(1, sizeof *st);
    st->path = slm_xstrdup(path);
    int v = 0;
    if (access(path, R_OK) != 0) {
        slm_err(err, errlen, "cannot open database '%s': %s", path, strerror(errno));
        slm_store_close(st);
        return -1;
    }
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        slm_err(err, errlen, "cannot open database '%s': %s", path,
                st->db ? sqlite3_errmsg(st->db) : "out of memory");
        slm_store_close(st);
        return -1;
    }
    sqlite3_busy_timeout(st->db, BUSY_MS);
    /* a file that is not a database fails here, on the first read */
    if (slm_store_exec(st, "PRAGMA query_only = ON", err, errlen) ||
        user_version(st, &v, err, errlen)) {
        slm_store_close(st);
        return -1;
    }
    if (v != SLM_SCHEMA_VERSION) {
        if (v > SLM_SCHEMA_VERSION)
            slm_err(err, errlen, "%s: database schema version %d is newer than this slmbench "
                    "supports (%d); upgrade slmbench", path, v, SLM_SCHEMA_VERSION);
        else
            slm_err(err, errlen, "%s: database schema version %d is older than this slmbench's "
                    "(%d) and is opened read-only here: upgrade it once with `slmbench report "
                    "last --db %s`", path, v, SLM_SCHEMA_VERSION, path);
        slm_store_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

int slm_store_run_ids(slm_store *st, int64_t **ids, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    *ids = NULL;
    *n = 0;
    if (slm_store_prepare(st, "SELECT id FROM runs ORDER BY id", &s, err, errlen))
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap)
            *ids = slm_xrealloc(*ids, (cap = cap ? 2 * cap : 16) * sizeof **ids);
        (*ids)[(*n)++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return db_err(st, "cannot list the runs", err, errlen);
    }
    return 0;
}

void slm_store_close(slm_store *st)
{
    if (!st)
        return;
    sqlite3_finalize(st->put_pred);
    for (int i = 0; i < SLM_STMT_COUNT; i++)
        sqlite3_finalize(st->cached[i]);
    if (st->db)
        sqlite3_close(st->db);
    free(st->path);
    free(st);
}

sqlite3 *slm_store_db(slm_store *st)
{
    return st->db;
}

const char *slm_store_path(const slm_store *st)
{
    return st->path;
}

int slm_store_begin(slm_store *st, char *err, size_t errlen)
{
    if (st->depth++ > 0)
        return 0;
    if (slm_store_exec(st, "BEGIN IMMEDIATE", err, errlen)) {
        st->depth--;
        return -1;
    }
    return 0;
}

int slm_store_commit(slm_store *st, char *err, size_t errlen)
{
    if (st->depth <= 0)
        return 0;
    if (--st->depth > 0)
        return 0;
    if (slm_store_exec(st, "COMMIT", err, errlen) == 0)
        return 0;
    /* A COMMIT that failed on I/O may leave the transaction open; ending it here keeps the
     * next statements out of a transaction nobody will commit (a later BEGIN would fail
     * with "cannot start a transaction within a transaction"). */
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

void slm_store_rollback(slm_store *st)
{
    if (st->depth > 0) {
        st->depth = 0;
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

int slm_store_prepare(slm_store *st, const char *sql, sqlite3_stmt **out, char *err,
                      size_t errlen)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
        return db_err(st, "cannot prepare a statement", err, errlen);
    return 0;
}

sqlite3_stmt *slm_store_cached(slm_store *st, slm_stmt_slot slot, const char *sql, char *err,
                               size_t errlen)
{
    sqlite3_stmt **s = &st->cached[slot];
    if (!*s && slm_store_prepare(st, sql, s, err, errlen))
        return NULL;
    sqlite3_reset(*s);
    sqlite3_clear_bindings(*s);
    return *s;
}

int slm_store_db_err(slm_store *st, const char *what, char *err, size_t errlen)
{
    return db_err(st, what, err, errlen);
}

double slm_col_double(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

double slm_store_metric(slm_store *st, int64_t cid, const char *name, double *lo, double *hi)
{
    sqlite3_stmt *s;
    double v = NAN;
    if (lo)
        *lo = NAN;
    if (hi)
        *hi = NAN;
    if (slm_store_prepare(st, "SELECT value, lo, hi FROM metrics WHERE candidate_id = ? AND name = ?",
                          &s, NULL, 0))
        return v;
    sqlite3_bind_int64(s, 1, cid);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        v = slm_col_double(s, 0);
        if (lo)
            *lo = slm_col_double(s, 1);
        if (hi)
            *hi = slm_col_double(s, 2);
    }
    sqlite3_finalize(s);
    return v;
}

void slm_bind_double(sqlite3_stmt *s, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_double(s, i, v);
}

void slm_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

void slm_bind_redacted(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, slm_redact(v), -1, free);
    else
        sqlite3_bind_null(s, i);
}

void slm_redact_read(char **v)
{
    char *r = slm_redact(*v);
    free(*v);
    *v = r;
}

int slm_store_put_prediction(slm_store *st, const slm_pred_row *r, char *err, size_t errlen)
{
    if (!st->put_pred &&
        slm_store_prepare(st,
                          "INSERT OR REPLACE INTO predictions (run_id, candidate_id, "
                          "example_idx, example_id, gold, pred, raw_output, correct, valid, "
                          "confidence, probs_json, logprobs_json, ntok_json, n_prompt_tokens, "
                          "n_output_tokens, e2e_ms, prefill_ms, decode_ms, ttft_ms, tpot_ms, "
                          "error, probs_mean_json, fail_kinds, rendered_sha256) VALUES "
                          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          &st->put_pred, err, errlen))
        return -1;
    sqlite3_stmt *s = st->put_pred;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, r->run_id);
    sqlite3_bind_int64(s, 2, r->candidate_id);
    sqlite3_bind_int64(s, 3, r->example_idx);
    slm_bind_text(s, 4, r->example_id);
    slm_bind_text(s, 5, r->gold);
    slm_bind_text(s, 6, r->pred);
    slm_bind_text(s, 7, r->raw_output);
    sqlite3_bind_int(s, 8, r->correct);
    sqlite3_bind_int(s, 9, r->valid);
    slm_bind_double(s, 10, r->confidence);
    slm_bind_text(s, 11, r->probs_json);
    slm_bind_text(s, 12, r->logprobs_json);
    slm_bind_text(s, 13, r->ntok_json);
    if (r->n_prompt_tokens >= 0)
        sqlite3_bind_int(s, 14, r->n_prompt_tokens);
    else
        sqlite3_bind_null(s, 14);
    if (r->n_output_tokens >= 0)
        sqlite3_bind_int(s, 15, r->n_output_tokens);
    else
        sqlite3_bind_null(s, 15);
    slm_bind_double(s, 16, r->e2e_ms);
    slm_bind_double(s, 17, r->prefill_ms);
    slm_bind_double(s, 18, r->decode_ms);
    slm_bind_double(s, 19, r->ttft_ms);
    slm_bind_double(s, 20, r->tpot_ms);
    slm_bind_redacted(s, 21, r->error);
    slm_bind_text(s, 22, r->probs_mean_json);
    slm_bind_text(s, 23, r->fail_kinds && *r->fail_kinds ? r->fail_kinds : NULL);
    slm_bind_text(s, 24, r->rendered_sha256);
    if (sqlite3_step(s) != SQLITE_DONE)
        return db_err(st, "cannot store a prediction", err, errlen);
    sqlite3_clear_bindings(s);
    return 0;
}

int slm_store_resolve_run(slm_store *st, const char *ref, int64_t *run_id, char *err,
                          size_t errlen)
{
    sqlite3_stmt *s = NULL;
    long num;
    int rc = -1;
    if (!strcmp(ref, "last")) {
        if (slm_store_prepare(st, "SELECT id FROM runs ORDER BY id DESC LIMIT 1", &s, err,
                              errlen))
            return -1;
    } else if (slm_parse_long(ref, &num) == 0) {
        if (slm_store_prepare(st, "SELECT id FROM runs WHERE id = ?", &s, err, errlen))
            return -1;
        sqlite3_bind_int64(s, 1, num);
    } else {
        if (slm_store_prepare(st,
                              "SELECT run_id FROM tags WHERE name = ?1 UNION ALL "
                              "SELECT id FROM (SELECT id FROM runs WHERE name = ?1 "
                              "ORDER BY id DESC LIMIT 1)",
                              &s, err, errlen))
            return -1;
        sqlite3_bind_text(s, 1, ref, -1, SQLITE_TRANSIENT);
    }
    if (sqlite3_step(s) == SQLITE_ROW) {
        *run_id = sqlite3_column_int64(s, 0);
        rc = 0;
    } else if (!strcmp(ref, "last")) {
        slm_err(err, errlen, "%s: no runs in the database", st->path);
    } else {
        slm_err(err, errlen, "%s: no run '%s' (give a run id, a tag, a run name or 'last')",
                st->path, ref);
    }
    sqlite3_finalize(s);
    return rc;
}

int slm_store_candidates(slm_store *st, int64_t run_id, slm_cand **out, size_t *n, char *err,
                         size_t errlen)
{
    sqlite3_stmt *s;
    *out = NULL;
    *n = 0;
    if (slm_store_prepare(st,
                          "SELECT id, idx, name, engine, status, constrained FROM candidates "
                          "WHERE run_id = ? ORDER BY idx",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            *out = slm_xrealloc(*out, cap * sizeof **out);
        }
        slm_cand *c = &(*out)[(*n)++];
        c->id = sqlite3_column_int64(s, 0);
        c->idx = sqlite3_column_int(s, 1);
        c->name = slm_xstrdup((const char *)sqlite3_column_text(s, 2));
        c->engine = slm_xstrdup((const char *)sqlite3_column_text(s, 3));
        c->status = slm_xstrdup((const char *)sqlite3_column_text(s, 4));
        c->constrained = sqlite3_column_int(s, 5);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        slm_cands_free(*out, *n);
        *out = NULL;
        *n = 0;
        return db_err(st, "cannot read the candidates", err, errlen);
    }
    return 0;
}

void slm_cands_free(slm_cand *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].name);
        free(c[i].engine);
        free(c[i].status);
    }
    free(c);
}

int slm_store_candidate_id(slm_store *st, int64_t run_id, const char *name, int64_t *id,
                           char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT id FROM candidates WHERE run_id = ? AND name = ?", &s, err,
                          errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return 1;
    return db_err(st, "cannot look up a candidate", err, errlen);
}
