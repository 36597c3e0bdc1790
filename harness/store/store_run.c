/* store_run.c — see store_run.h. */
#include "store_run.h"
#include "store_int.h"
#include "store_read.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Steps a one-shot statement and finalizes it: 0 when it ran to completion. */
static int step_done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_int_or_null(sqlite3_stmt *s, int i, int64_t v, int known)
{
    if (known)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

/* ---- beginning a run ---- */

int slm_store_begin_run(slm_store *st, const slm_run_row *r, int64_t *run_id, char *err,
                        size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT INTO runs (name, status, created_at, mode, config_path, "
                          "config_text, config_sha256, harness_version, git_rev, host_json, "
                          "quantization_policy, shard, bandwidth_gbs, interleave_turn, as_of) "
                          "VALUES (?,'running',?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          &s, err, errlen))
        return -1;
    const char *text[] = {r->name,         r->created_at,      r->mode,
                          r->config_path,  r->config_text,     r->config_sha256,
                          r->harness_version, r->git_rev,      r->host_json,
                          r->quantization_policy, r->shard};
    for (int i = 0; i < (int)(sizeof text / sizeof text[0]); i++)
        slm_bind_text(s, i + 1, text[i]);
    /* a key written into the config stays out of the database (config_sha256 is still
     * the file's: a resume finds the file by it) */
    slm_bind_redacted(s, 5, r->config_text);
    slm_bind_double(s, 12, r->bandwidth_gbs);
    sqlite3_bind_int64(s, 13, r->interleave_turn);
    slm_bind_text(s, 14, r->as_of);
    if (step_done(s))
        return slm_store_db_err(st, "cannot record the run", err, errlen);
    *run_id = sqlite3_last_insert_rowid(slm_store_db(st));
    return 0;
}

int slm_store_add_evalset(slm_store *st, int64_t run_id, const slm_evalset_row *e, char *err,
                          size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT INTO evalsets (run_id, name, version, split, path, sha256, "
                          "n_rows, n_skipped, labels_json, prompt_path, prompt_template, "
                          "prompt_sha256, choice_prefix, task, fields_json, few_shot_ids, "
                          "calib_split, calib_path, calib_sha256, calib_n_rows, split_n_rows) "
                          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    const char *head[] = {e->name, e->version, e->split, e->path, e->sha256};
    for (int i = 0; i < 5; i++)
        slm_bind_text(s, i + 2, head[i]);
    sqlite3_bind_int64(s, 7, e->n_rows);
    sqlite3_bind_int64(s, 8, e->n_skipped);
    const char *tail[] = {e->labels_json, e->prompt_path, e->prompt_template, e->prompt_sha256,
                          e->choice_prefix, e->task, e->fields_json, e->few_shot_ids,
                          e->calib_split};
    for (int i = 0; i < 9; i++)
        slm_bind_text(s, i + 9, tail[i]);
    if (e->calib_split) {
        slm_bind_text(s, 18, e->calib_path);
        slm_bind_text(s, 19, e->calib_sha256);
        sqlite3_bind_int64(s, 20, e->calib_n_rows);
    }
    if (e->split_n_rows > 0)
        sqlite3_bind_int64(s, 21, e->split_n_rows);
    if (step_done(s))
        return slm_store_db_err(st, "cannot record the eval set", err, errlen);
    return 0;
}

int slm_store_add_example(slm_store *st, int64_t run_id, long idx, const char *example_id,
                          const char *label, long line, const char *prompt_sha256, char *err,
                          size_t errlen)
{
    sqlite3_stmt *s = slm_store_cached(st, SLM_STMT_PUT_EXAMPLE,
                                       "INSERT INTO examples (run_id, idx, example_id, label, "
                                       "line, prompt_sha256) VALUES (?,?,?,?,?,?)",
                                       err, errlen);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, idx);
    slm_bind_text(s, 3, example_id);
    slm_bind_text(s, 4, label);
    sqlite3_bind_int64(s, 5, line);
    slm_bind_text(s, 6, prompt_sha256);
    if (sqlite3_step(s) != SQLITE_DONE)
        return slm_store_db_err(st, "cannot record an example", err, errlen);
    return 0;
}

int slm_store_add_candidate(slm_store *st, int64_t run_id, const slm_cand_row *c, int64_t *id,
                            char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT INTO candidates (run_id, idx, name, engine, model_path, "
                          "options_json, status, quant, constrained, concurrency) "
                          "VALUES (?,?,?,?,?,?,'pending',?,?,?)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, c->idx);
    slm_bind_text(s, 3, c->name);
    slm_bind_text(s, 4, c->engine);
    slm_bind_text(s, 5, c->model_path);
    slm_bind_redacted(s, 6, c->options_json);
    slm_bind_text(s, 7, c->quant);
    sqlite3_bind_int(s, 8, c->constrained);
    sqlite3_bind_int(s, 9, c->concurrency);
    if (step_done(s))
        return slm_store_db_err(st, "cannot record a candidate", err, errlen);
    *id = sqlite3_last_insert_rowid(slm_store_db(st));
    return 0;
}

int slm_store_put_counter_event(slm_store *st, int64_t run_id, const char *event,
                                const char *source, const char *unit, const char *reason,
                                char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "INSERT OR REPLACE INTO counter_events (run_id, event, source, unit, "
                          "reason) VALUES (?,?,?,?,?)",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    slm_bind_text(s, 2, event);
    slm_bind_text(s, 3, source);
    slm_bind_text(s, 4, unit);
    slm_bind_text(s, 5, reason);
    return step_done(s) ? slm_store_db_err(st, "cannot record a counter event", err, errlen) : 0;
}

/* ---- statuses ---- */

int slm_store_set_run_status(slm_store *st, int64_t run_id, const char *status,
                             const char *error)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE id = ?",
                          &s, NULL, 0))
        return -1;
    char now[32];
    slm_utc_iso8601(now, sizeof now);
    slm_bind_text(s, 1, status);
    slm_bind_text(s, 2, strcmp(status, "running") ? now : NULL);
    slm_bind_redacted(s, 3, error);
    sqlite3_bind_int64(s, 4, run_id);
    return step_done(s);
}

int slm_store_set_cand_status(slm_store *st, int64_t cid, const char *status, const char *error)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "UPDATE candidates SET status = ?, error = ? WHERE id = ?", &s,
                          NULL, 0))
        return -1;
    slm_bind_text(s, 1, status);
    slm_bind_redacted(s, 2, error);
    sqlite3_bind_int64(s, 3, cid);
    return step_done(s);
}

void slm_store_cand_status(slm_store *st, int64_t cid, char *buf, size_t n)
{
    sqlite3_stmt *s;
    buf[0] = 0;
    if (slm_store_prepare(st, "SELECT status FROM candidates WHERE id = ?", &s, NULL, 0))
        return;
    sqlite3_bind_int64(s, 1, cid);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
}

/* ---- a candidate's facts ---- */

int slm_store_set_model_facts(slm_store *st, int64_t cid, const slm_model_facts *f)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "UPDATE candidates SET engine_version=?, model_sha256=?, arch=?, "
                          "model_name=?, quant=?, n_params=?, size_bytes=?, n_ctx=?, "
                          "n_ctx_train=?, n_vocab=?, n_layer=?, n_embd=?, n_threads=?, "
                          "chat_template=?, chat_template_used=?, caps=?, load_ms=?, "
                          "chat_template_sha256=?, chat_probe_sha256=?, n_ctx_need=?, "
                          "kv_bytes=?, n_gpu_layers=?, device=? WHERE id=?",
                          &s, NULL, 0))
        return -1;
    const char *text[] = {f->engine_version, f->model_sha256, f->arch, f->model_name, f->quant};
    for (int i = 0; i < 5; i++)
        slm_bind_text(s, i + 1, text[i]);
    const int64_t num[] = {f->n_params, f->size_bytes, f->n_ctx,   f->n_ctx_train,
                           f->n_vocab,  f->n_layer,    f->n_embd, f->n_threads};
    for (int i = 0; i < 8; i++)
        bind_int_or_null(s, i + 6, num[i], num[i] != 0);
    slm_bind_text(s, 14, f->chat_template);
    sqlite3_bind_int(s, 15, f->chat_template_used);
    slm_bind_text(s, 16, f->caps);
    sqlite3_bind_double(s, 17, f->load_ms);
    slm_bind_text(s, 18, f->chat_template_sha256);
    slm_bind_text(s, 19, f->chat_probe_sha256);
    bind_int_or_null(s, 20, f->n_ctx_need, f->n_ctx_need != 0);
    bind_int_or_null(s, 21, f->kv_bytes, f->kv_bytes != 0);
    bind_int_or_null(s, 22, f->n_gpu_layers, f->n_gpu_layers >= 0);
    slm_bind_text(s, 23, f->device);
    sqlite3_bind_int64(s, 24, cid);
    return step_done(s);
}

int slm_store_add_cand_totals(slm_store *st, int64_t cid, const slm_cand_totals *t)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "UPDATE candidates SET wall_ms = coalesce(wall_ms, 0) + ?, "
                          "engine_ms = coalesce(engine_ms, 0) + ?, load1_before = ?, "
                          "load1_after = ?, steal_pct = ?, repeats = ?, peak_rss_kb = ?, "
                          "concurrent_s = coalesce(concurrent_s, 0) + ?, "
                          "concurrent_n = coalesce(concurrent_n, 0) + ? WHERE id = ?",
                          &s, NULL, 0))
        return -1;
    sqlite3_bind_double(s, 1, t->wall_ms);
    sqlite3_bind_double(s, 2, t->engine_ms);
    slm_bind_double(s, 3, t->load1_before);
    slm_bind_double(s, 4, t->load1_after);
    slm_bind_double(s, 5, t->steal_pct);
    sqlite3_bind_int(s, 6, t->repeats);
    bind_int_or_null(s, 7, t->peak_rss_kb, t->peak_rss_kb > 0);
    sqlite3_bind_double(s, 8, t->concurrent_s);
    sqlite3_bind_int64(s, 9, t->concurrent_n);
    sqlite3_bind_int64(s, 10, cid);
    return step_done(s);
}

int slm_store_set_throughput(slm_store *st, int64_t cid, double secs, double tokens, long n,
                             long mismatches)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "UPDATE candidates SET throughput_s = ?, throughput_tokens = ?, "
                          "throughput_n = ?, throughput_mismatches = ? WHERE id = ?",
                          &s, NULL, 0))
        return -1;
    sqlite3_bind_double(s, 1, secs);
    sqlite3_bind_double(s, 2, tokens);
    sqlite3_bind_int64(s, 3, n);
    sqlite3_bind_int64(s, 4, mismatches);
    sqlite3_bind_int64(s, 5, cid);
    return step_done(s);
}

int slm_store_set_repeat_check(slm_store *st, int64_t cid, long n, long flips)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          "UPDATE candidates SET repeat_check_n = ?, repeat_check_flips = ? "
                          "WHERE id = ?",
                          &s, NULL, 0))
        return -1;
    sqlite3_bind_int64(s, 1, n);
    sqlite3_bind_int64(s, 2, flips);
    sqlite3_bind_int64(s, 3, cid);
    return step_done(s);
}

/* ---- as examples complete ---- */

int slm_store_put_sample(slm_store *st, int64_t run_id, int64_t cid, long idx, int rep,
                         double e2e_ms, double prefill_ms, double decode_ms, double ttft_ms,
                         char *err, size_t errlen)
{
    sqlite3_stmt *s = slm_store_cached(st, SLM_STMT_PUT_SAMPLE,
                                       "INSERT OR REPLACE INTO samples (run_id, candidate_id, "
                                       "example_idx, rep, e2e_ms, prefill_ms, decode_ms, "
                                       "ttft_ms) VALUES (?,?,?,?,?,?,?,?)",
                                       err, errlen);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    sqlite3_bind_int64(s, 3, idx);
    sqlite3_bind_int(s, 4, rep);
    slm_bind_double(s, 5, e2e_ms);
    slm_bind_double(s, 6, prefill_ms);
    slm_bind_double(s, 7, decode_ms);
    slm_bind_double(s, 8, ttft_ms);
    if (sqlite3_step(s) != SQLITE_DONE)
        return slm_err(err, errlen, "%s: cannot store latency samples", slm_store_path(st));
    return 0;
}

int slm_store_put_counter(slm_store *st, int64_t run_id, int64_t cid, long idx,
                          const char *phase, const char *event, double value, double scale,
                          char *err, size_t errlen)
{
    sqlite3_stmt *s = slm_store_cached(st, SLM_STMT_PUT_COUNTER,
                                       "INSERT OR REPLACE INTO counters (run_id, candidate_id, "
                                       "example_idx, phase, event, value, scale) "
                                       "VALUES (?,?,?,?,?,?,?)",
                                       err, errlen);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    sqlite3_bind_int64(s, 3, idx);
    slm_bind_text(s, 4, phase);
    slm_bind_text(s, 5, event);
    slm_bind_double(s, 6, value);
    slm_bind_double(s, 7, scale);
    if (sqlite3_step(s) != SQLITE_DONE)
        return slm_err(err, errlen, "%s: cannot store counters", slm_store_path(st));
    return 0;
}

int slm_store_put_calib(slm_store *st, int64_t run_id, int64_t cid, long idx,
                        const char *example_id, const char *gold, const char *logprobs_json,
                        const char *ntok_json, const char *error, char *err, size_t errlen)
{
    sqlite3_stmt *s = slm_store_cached(st, SLM_STMT_PUT_CALIB,
                                       "INSERT OR REPLACE INTO calib_predictions (run_id, "
                                       "candidate_id, example_idx, example_id, gold, "
                                       "logprobs_json, ntok_json, error) VALUES (?,?,?,?,?,?,?,?)",
                                       err, errlen);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    sqlite3_bind_int64(s, 3, idx);
    slm_bind_text(s, 4, example_id);
    slm_bind_text(s, 5, gold);
    slm_bind_text(s, 6, logprobs_json);
    slm_bind_text(s, 7, ntok_json);
    slm_bind_redacted(s, 8, error);
    if (sqlite3_step(s) != SQLITE_DONE)
        return slm_err(err, errlen, "%s: cannot store a calibration prediction",
                       slm_store_path(st));
    return 0;
}

/* ---- reading back ---- */

int slm_store_done_examples(slm_store *st, int64_t run_id, int64_t cid, int calib,
                            int retry_errors, unsigned char *done, size_t n, char *err,
                            size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st,
                          calib ? "SELECT example_idx, 0 FROM calib_predictions WHERE run_id = ? "
                                  "AND candidate_id = ? AND error IS NULL"
                                : "SELECT example_idx, error IS NOT NULL FROM predictions "
                                  "WHERE run_id = ? AND candidate_id = ?",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    while (sqlite3_step(s) == SQLITE_ROW) {
        sqlite3_int64 i = sqlite3_column_int64(s, 0);
        int failed = sqlite3_column_int(s, 1);
        if (i >= 0 && (size_t)i < n && !(retry_errors && failed))
            done[i] = 1;
    }
    sqlite3_finalize(s);
    return 0;
}

int slm_store_pred_texts(slm_store *st, int64_t run_id, int64_t cid, char **pred, size_t n,
                         char *err, size_t errlen)
{
    sqlite3_stmt *s;
    for (size_t i = 0; i < n; i++)
        pred[i] = NULL;
    if (slm_store_prepare(st,
                          "SELECT example_idx, coalesce(pred, '') FROM predictions "
                          "WHERE run_id = ? AND candidate_id = ?",
                          &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, cid);
    while (sqlite3_step(s) == SQLITE_ROW) {
        sqlite3_int64 i = sqlite3_column_int64(s, 0);
        if (i >= 0 && (size_t)i < n && !pred[i])
            pred[i] = slm_xstrdup((const char *)sqlite3_column_text(s, 1));
    }
    sqlite3_finalize(s);
    return 0;
}

int slm_store_run_to_resume(slm_store *st, int64_t id, int any_status, slm_resume_row *r,
                            char *err, size_t errlen)
{
    const char *sql = id > 0 ? "SELECT id, config_path, config_text, status, shard, "
                               "interleave_turn, config_sha256 FROM runs WHERE id = ?"
                      : any_status ? "SELECT id, config_path, config_text, status, shard, "
                                     "interleave_turn, config_sha256 FROM runs ORDER BY id DESC LIMIT 1"
                                   : "SELECT id, config_path, config_text, status, shard, "
                                     "interleave_turn, config_sha256 FROM runs WHERE status IN "
                                     "('running','interrupted','failed') "
                                     "ORDER BY id DESC LIMIT 1";
    sqlite3_stmt *s;
    memset(r, 0, sizeof *r);
    if (slm_store_prepare(st, sql, &s, err, errlen))
        return -1;
    if (id > 0)
        sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        r->id = sqlite3_column_int64(s, 0);
        const char *v[4];
        for (int i = 0; i < 4; i++)
            v[i] = (const char *)sqlite3_column_text(s, i + 1);
        r->config_path = slm_xstrdup(v[0] ? v[0] : "");
        r->config_text = slm_xstrdup(v[1] ? v[1] : "");
        r->status = slm_xstrdup(v[2] ? v[2] : "");
        r->shard = v[3] ? slm_xstrdup(v[3]) : NULL;
        r->interleave_turn = sqlite3_column_type(s, 5) == SQLITE_NULL
                                 ? -1 : (long)sqlite3_column_int64(s, 5);
        const char *sha = (const char *)sqlite3_column_text(s, 6);
        r->config_sha256 = slm_xstrdup(sha ? sha : "");
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : 1;
}

void slm_resume_row_free(slm_resume_row *r)
{
    free(r->config_path);
    free(r->config_text);
    free(r->status);
    free(r->shard);
    free(r->config_sha256);
    memset(r, 0, sizeof *r);
}

void slm_store_run_data(slm_store *st, int64_t run_id, char sha[65], long *n_rows)
{
    sqlite3_stmt *s;
    sha[0] = 0;
    *n_rows = -1;
    if (slm_store_prepare(st, "SELECT sha256, n_rows FROM evalsets WHERE run_id = ?", &s, NULL,
                          0))
        return;
    sqlite3_bind_int64(s, 1, run_id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        snprintf(sha, 65, "%s", (const char *)sqlite3_column_text(s, 0));
        *n_rows = (long)sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
}
