/*
 * store_run.h — the store as a run writes it (runner.c): begin a run with its eval set,
 * examples and candidates; settle statuses; record what a loaded model reports; keep
 * latency samples, counters and calibration scores as they arrive; read back what a
 * resumed run has already done. Predictions themselves go through
 * slm_store_put_prediction (store.h).
 *
 * Strings are copied by SQLite; NULL is stored as NULL. Functions returning int give 0,
 * or -1 with err filled (err may be NULL where a caller only logs).
 */
#ifndef SLM_STORE_RUN_H
#define SLM_STORE_RUN_H

#include "store.h"

/* ---- beginning a run ---- */

typedef struct slm_run_row {
    const char *name, *created_at, *mode;
    const char *config_path, *config_text, *config_sha256;
    const char *harness_version, *git_rev, *host_json, *quantization_policy;
    const char *shard;        /* "I/N", or NULL for a whole run */
    double bandwidth_gbs;     /* NaN when not measured */
    long interleave_turn;     /* examples per turn of interleaved candidates; 0 sequential */
    const char *as_of;        /* run --as-of (UTC, RFC 3339), or NULL: the run is dated by
                                 created_at */
} slm_run_row;

/* Inserts the run as 'running'; *run_id is its id. */
int slm_store_begin_run(slm_store *st, const slm_run_row *r, int64_t *run_id, char *err,
                        size_t errlen);

typedef struct slm_evalset_row {
    const char *name, *version, *split, *path, *sha256;
    long n_rows, n_skipped;
    const char *labels_json, *prompt_path, *prompt_template, *prompt_sha256, *choice_prefix;
    const char *task, *fields_json, *few_shot_ids;
    const char *calib_split;  /* NULL: no calibration split (the calib_* columns stay NULL) */
    const char *calib_path, *calib_sha256;
    long calib_n_rows;
    long split_n_rows;        /* the split's rows before `limit` sampled them; <= 0: unknown */
} slm_evalset_row;

int slm_store_add_evalset(slm_store *st, int64_t run_id, const slm_evalset_row *e, char *err,
                          size_t errlen);
int slm_store_add_example(slm_store *st, int64_t run_id, long idx, const char *example_id,
                          const char *label, long line, const char *prompt_sha256, char *err,
                          size_t errlen);

typedef struct slm_cand_row {
    long idx;
    const char *name, *engine, *model_path, *options_json, *quant;
    int constrained, concurrency;
} slm_cand_row;

/* Inserts a 'pending' candidate; *id is its id. */
int slm_store_add_candidate(slm_store *st, int64_t run_id, const slm_cand_row *c, int64_t *id,
                            char *err, size_t errlen);

/* What the run's counters are: per event its source and unit, or why it is unavailable. */
int slm_store_put_counter_event(slm_store *st, int64_t run_id, const char *event,
                                const char *source, const char *unit, const char *reason,
                                char *err, size_t errlen);

/* ---- statuses ---- */

/* status: running (finished_at cleared), complete, interrupted or failed (finished now). */
int slm_store_set_run_status(slm_store *st, int64_t run_id, const char *status,
                             const char *error);
int slm_store_set_cand_status(slm_store *st, int64_t cid, const char *status, const char *error);
/* The candidate's status into buf ("" when absent). */
void slm_store_cand_status(slm_store *st, int64_t cid, char *buf, size_t n);

/* ---- a candidate's facts ---- */

/* What the engine reported of a loaded model. Strings NULL and numbers 0 are unknown
 * (stored NULL); n_gpu_layers < 0 is unknown. */
typedef struct slm_model_facts {
    const char *engine_version, *model_sha256, *arch, *model_name, *quant;
    int64_t n_params, size_bytes, n_ctx, n_ctx_train, n_vocab, n_layer, n_embd, n_threads;
    const char *chat_template;
    int chat_template_used;
    const char *caps;
    double load_ms;
    const char *chat_template_sha256, *chat_probe_sha256;
    int64_t n_ctx_need, kv_bytes;
    int n_gpu_layers;
    const char *device;
} slm_model_facts;

int slm_store_set_model_facts(slm_store *st, int64_t cid, const slm_model_facts *f);

/* One session's totals; wall, engine and concurrent times accumulate over resumed
 * sessions, the machine facts are the latest session's. NaN and peak_rss_kb <= 0 are
 * unknown. */
typedef struct slm_cand_totals {
    double wall_ms, engine_ms, load1_before, load1_after, steal_pct;
    int repeats;
    long peak_rss_kb;
    double concurrent_s;
    long concurrent_n;
} slm_cand_totals;

int slm_store_add_cand_totals(slm_store *st, int64_t cid, const slm_cand_totals *t);
int slm_store_set_throughput(slm_store *st, int64_t cid, double secs, double tokens, long n,
                             long mismatches);
int slm_store_set_repeat_check(slm_store *st, int64_t cid, long n, long flips);

/* ---- as examples complete (inside the caller's transaction) ---- */

int slm_store_put_sample(slm_store *st, int64_t run_id, int64_t cid, long idx, int rep,
                         double e2e_ms, double prefill_ms, double decode_ms, double ttft_ms,
                         char *err, size_t errlen);
int slm_store_put_counter(slm_store *st, int64_t run_id, int64_t cid, long idx,
                          const char *phase, const char *event, double value, double scale,
                          char *err, size_t errlen);
/* A calibration example's label scores, or its error (logprobs_json NULL). */
int slm_store_put_calib(slm_store *st, int64_t run_id, int64_t cid, long idx,
                        const char *example_id, const char *gold, const char *logprobs_json,
                        const char *ntok_json, const char *error, char *err, size_t errlen);

/* ---- reading back ---- */

/* Marks done[i] = 1 for each example index i < n the candidate has stored: predictions
 * (with retry_errors, failed ones are not done), or with calib its calibration scores
 * without error. */
int slm_store_done_examples(slm_store *st, int64_t run_id, int64_t cid, int calib,
                            int retry_errors, unsigned char *done, size_t n, char *err,
                            size_t errlen);

/* pred[i]: the stored prediction of example i < n (NULL where none or failed); caller
 * frees with slm_free_strv(pred, n). */
int slm_store_pred_texts(slm_store *st, int64_t run_id, int64_t cid, char **pred, size_t n,
                         char *err, size_t errlen);

/* The run to resume: id > 0 that run, else the newest unfinished (any with any_status). */
typedef struct slm_resume_row {
    int64_t id;
    char *config_path, *config_text, *status, *shard; /* shard NULL for a whole run */
    long interleave_turn;     /* as the run started; -1 unknown (before schema 9) */
    char *config_sha256;      /* of the config as read; config_text may be redacted */
} slm_resume_row;

/* 0 found, 1 none, -1 database error. */
int slm_store_run_to_resume(slm_store *st, int64_t id, int any_status, slm_resume_row *r,
                            char *err, size_t errlen);
void slm_resume_row_free(slm_resume_row *r);

/* The eval set hash and row count a run started with (sha "" and -1 when absent). */
void slm_store_run_data(slm_store *st, int64_t run_id, char sha[65], long *n_rows);

#endif
