/* store_load.c — load tests in the store (store_load.h). */
#include "store_load.h"

#include "store_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int delete_level(slm_store *st, const slm_load_level_row *lv, char *err, size_t errlen)
{
    static const char *const sql[] = {
        "DELETE FROM load_requests WHERE level_id IN (SELECT id FROM load_levels WHERE "
        "run_id = ? AND candidate_id = ? AND idx = ?)",
        "DELETE FROM load_levels WHERE run_id = ? AND candidate_id = ? AND idx = ?",
    };
    for (size_t k = 0; k < 2; k++) {
        sqlite3_stmt *s;
        if (slm_store_prepare(st, sql[k], &s, err, errlen))
            return -1;
        sqlite3_bind_int64(s, 1, lv->run_id);
        sqlite3_bind_int64(s, 2, lv->candidate_id);
        sqlite3_bind_int(s, 3, lv->idx);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            return slm_store_db_err(st, "cannot clear the level", err, errlen);
    }
    return 0;
}

static int insert_level(slm_store *st, slm_load_level_row *lv, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "INSERT INTO load_levels (run_id, candidate_id, idx, profile, "
                              "offered_rps, concurrency, duration_ms, n_requests, warmup_ms, "
                              "cooldown_ms, t0, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                              "?, 'running')", &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, lv->run_id);
    sqlite3_bind_int64(s, 2, lv->candidate_id);
    sqlite3_bind_int(s, 3, lv->idx);
    slm_bind_text(s, 4, lv->profile);
    slm_bind_double(s, 5, lv->offered_rps);
    sqlite3_bind_int(s, 6, lv->concurrency);
    slm_bind_double(s, 7, lv->duration_ms);
    if (lv->n_requests >= 0)
        sqlite3_bind_int64(s, 8, lv->n_requests);
    slm_bind_double(s, 9, lv->warmup_ms);
    slm_bind_double(s, 10, lv->cooldown_ms);
    slm_bind_text(s, 11, lv->t0);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return slm_store_db_err(st, "cannot store the level", err, errlen);
    lv->id = sqlite3_last_insert_rowid(slm_store_db(st));
    snprintf(lv->status, sizeof lv->status, "running");
    return 0;
}

int slm_load_level_begin(slm_store *st, slm_load_level_row *lv, char *err, size_t errlen)
{
    slm_utc_iso8601(lv->t0, sizeof lv->t0);
    if (slm_store_begin(st, err, errlen))
        return -1;
    if (delete_level(st, lv, err, errlen) || insert_level(st, lv, err, errlen) ||
        slm_store_commit(st, err, errlen)) {
        slm_store_rollback(st);
        return -1;
    }
    return 0;
}

int slm_load_level_end(slm_store *st, int64_t id, const char *status, double window_ms,
                       const char *reason, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "UPDATE load_levels SET status = ?, window_ms = ?, reason = ? "
                              "WHERE id = ?", &s, err, errlen))
        return -1;
    slm_bind_text(s, 1, status);
    slm_bind_double(s, 2, window_ms);
    slm_bind_redacted(s, 3, reason);
    sqlite3_bind_int64(s, 4, id);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : slm_store_db_err(st, "cannot end the level", err, errlen);
}

static const char *const PHASES[] = {"warmup", "measure", "cooldown"};
static const char *const STATUSES[] = {"ok", "error", "timeout"};

static void bind_request(sqlite3_stmt *s, int64_t level_id, const slm_load_req_row *w)
{
    const slm_load_req *r = &w->r;
    sqlite3_bind_int64(s, 1, level_id);
    sqlite3_bind_int64(s, 2, w->seq);
    sqlite3_bind_int64(s, 3, w->example_idx);
    slm_bind_text(s, 4, PHASES[r->phase]);
    slm_bind_double(s, 5, r->scheduled_ms);
    slm_bind_double(s, 6, r->sent_ms);
    slm_bind_double(s, 7, r->ttft_ms);
    slm_bind_double(s, 8, r->e2e_ms);
    slm_bind_double(s, 9, r->itl_mean_ms);
    slm_bind_double(s, 10, r->itl_max_ms);
    slm_bind_double(s, 11, r->tpot_ms);
    if (r->n_output_tokens >= 0)
        sqlite3_bind_int(s, 12, r->n_output_tokens);
    slm_bind_text(s, 13, STATUSES[r->status]);
    if (w->http_status > 0)
        sqlite3_bind_int(s, 14, w->http_status);
    if (w->attempts > 0)
        sqlite3_bind_int(s, 15, w->attempts);
    slm_bind_redacted(s, 16, w->server_id && w->server_id[0] ? w->server_id : NULL);
    slm_bind_redacted(s, 17, w->error);
    slm_bind_redacted(s, 18, w->pred);
    if (r->correct >= 0)
        sqlite3_bind_int(s, 19, r->correct);
    if (r->valid >= 0)
        sqlite3_bind_int(s, 20, r->valid);
}

int slm_load_put_requests(slm_store *st, int64_t level_id, const slm_load_req_row *rows,
                          size_t n, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    for (size_t i = 0; i < n; i++)
        if ((unsigned)rows[i].r.phase > SLM_LOAD_COOLDOWN ||
            (unsigned)rows[i].r.status > SLM_LOAD_TIMEOUT)
            return slm_err(err, errlen, "request %ld: phase or status out of range",
                           rows[i].seq);
    if (slm_store_begin(st, err, errlen))
        return -1;
    /* the level's run and candidate copied beside each request (export table) */
    if (slm_store_prepare(st, "INSERT INTO load_requests (level_id, run_id, candidate_id, seq, "
                              "example_idx, phase, scheduled_ms, sent_ms, ttft_ms, e2e_ms, "
                              "itl_mean_ms, itl_max_ms, tpot_ms, n_output_tokens, status, "
                              "http_status, attempts, server_id, error, pred, correct, valid) "
                              "SELECT ?1, run_id, candidate_id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                              "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20 FROM "
                              "load_levels WHERE id = ?1", &s, err, errlen)) {
        slm_store_rollback(st);
        return -1;
    }
    int rc = SQLITE_DONE;
    for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        bind_request(s, level_id, &rows[i]);
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE && sqlite3_changes(slm_store_db(st)) != 1)
            rc = SQLITE_NOTFOUND; /* no such level */
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        slm_store_db_err(st, "cannot store the level's requests", err, errlen);
        slm_store_rollback(st);
        return -1;
    }
    return slm_store_commit(st, err, errlen);
}

static void read_level(sqlite3_stmt *s, slm_load_level_row *lv)
{
    const char *t;
    memset(lv, 0, sizeof *lv);
    lv->id = sqlite3_column_int64(s, 0);
    lv->run_id = sqlite3_column_int64(s, 1);
    lv->candidate_id = sqlite3_column_int64(s, 2);
    lv->idx = sqlite3_column_int(s, 3);
    t = (const char *)sqlite3_column_text(s, 4);
    snprintf(lv->profile, sizeof lv->profile, "%s", t ? t : "");
    lv->offered_rps = slm_col_double(s, 5);
    lv->concurrency = sqlite3_column_int(s, 6);
    lv->duration_ms = slm_col_double(s, 7);
    lv->n_requests = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 8);
    lv->warmup_ms = slm_col_double(s, 9);
    lv->cooldown_ms = slm_col_double(s, 10);
    lv->window_ms = slm_col_double(s, 11);
    t = (const char *)sqlite3_column_text(s, 12);
    snprintf(lv->t0, sizeof lv->t0, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(s, 13);
    snprintf(lv->status, sizeof lv->status, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(s, 14);
    lv->reason = t ? slm_xstrdup(t) : NULL;
    slm_redact_read(&lv->reason);
}

int slm_load_levels(slm_store *st, int64_t run_id, int64_t candidate_id,
                    slm_load_level_row **out, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    *out = NULL;
    *n = 0;
    if (slm_store_prepare(st, "SELECT id, run_id, candidate_id, idx, profile, offered_rps, "
                              "concurrency, duration_ms, n_requests, warmup_ms, cooldown_ms, "
                              "window_ms, t0, status, reason FROM load_levels WHERE run_id = ? "
                              "AND candidate_id = ? ORDER BY idx", &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, candidate_id);
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            *out = slm_xrealloc(*out, cap * sizeof **out);
        }
        read_level(s, &(*out)[(*n)++]);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        slm_load_levels_free(*out, *n);
        *out = NULL;
        *n = 0;
        return slm_store_db_err(st, "cannot read the levels", err, errlen);
    }
    return 0;
}

void slm_load_levels_free(slm_load_level_row *lv, size_t n)
{
    for (size_t i = 0; lv && i < n; i++)
        free(lv[i].reason);
    free(lv);
}

/* The index of text in names[n], or -1. */
static int name_index(const unsigned char *text, const char *const *names, int n)
{
    for (int i = 0; text && i < n; i++)
        if (!strcmp((const char *)text, names[i]))
            return i;
    return -1;
}

static void read_request(sqlite3_stmt *s, slm_load_req *r)
{
    r->phase = (slm_load_phase)name_index(sqlite3_column_text(s, 0), PHASES, 3);
    r->status = (slm_load_status)name_index(sqlite3_column_text(s, 1), STATUSES, 3);
    r->scheduled_ms = slm_col_double(s, 2);
    r->sent_ms = slm_col_double(s, 3);
    r->ttft_ms = slm_col_double(s, 4);
    r->e2e_ms = slm_col_double(s, 5);
    r->itl_mean_ms = slm_col_double(s, 6);
    r->itl_max_ms = slm_col_double(s, 7);
    r->tpot_ms = slm_col_double(s, 8);
    r->n_output_tokens = sqlite3_column_type(s, 9) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 9);
    r->correct = sqlite3_column_type(s, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 10);
    r->valid = sqlite3_column_type(s, 11) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 11);
}

int slm_load_requests(slm_store *st, int64_t level_id, slm_load_req **out, size_t *n,
                      char *err, size_t errlen)
{
    sqlite3_stmt *s;
    *out = NULL;
    *n = 0;
    if (slm_store_prepare(st, "SELECT phase, status, scheduled_ms, sent_ms, ttft_ms, e2e_ms, "
                              "itl_mean_ms, itl_max_ms, tpot_ms, n_output_tokens, correct, "
                              "valid FROM load_requests WHERE level_id = ? ORDER BY seq",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, level_id);
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = slm_xrealloc(*out, cap * sizeof **out);
        }
        read_request(s, &(*out)[(*n)++]);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return slm_store_db_err(st, "cannot read the level's requests", err, errlen);
    }
    return 0;
}

int slm_load_close_running(slm_store *st, int64_t run_id, const char *reason, char *err,
                           size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "UPDATE load_levels SET status = 'incomplete', reason = ? "
                              "WHERE run_id = ? AND status = 'running'", &s, err, errlen))
        return -1;
    slm_bind_redacted(s, 1, reason);
    sqlite3_bind_int64(s, 2, run_id);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : slm_store_db_err(st, "cannot close the levels", err, errlen);
}

int slm_load_run_mode(slm_store *st, int64_t run_id, char *mode, size_t len, char *err,
                      size_t errlen)
{
    sqlite3_stmt *s;
    mode[0] = '\0';
    if (slm_store_prepare(st, "SELECT mode FROM runs WHERE id = ?", &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_text(s, 0))
        snprintf(mode, len, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return slm_store_db_err(st, "cannot read the run", err, errlen);
    return 0;
}
