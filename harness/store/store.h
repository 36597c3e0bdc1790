/*
 * store.h — the SQLite record of every run (DESIGN §8).
 *
 * One database file, WAL mode, schema versioned through PRAGMA user_version and upgraded
 * by ordered migrations. Predictions are written as they complete, in batched
 * transactions; a run killed at any point keeps every committed prediction, and a resumed
 * run skips them (one row per run × candidate × example, enforced by the primary key).
 *
 * Ownership: slm_store_open() returns a handle freed by slm_store_close() (NULL-safe).
 */
#ifndef SLM_STORE_H
#define SLM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h" /* SLM_SCHEMA_VERSION */

typedef struct slm_store slm_store;

/* Opens (creating if create) the database and brings its schema up to date. A database
 * written by a newer slmbench (higher schema version) is refused. */
int slm_store_open(const char *path, int create, slm_store **out, char *err, size_t errlen);
void slm_store_close(slm_store *st);
/* Opens an existing database read-only (SQLITE_OPEN_READONLY, query_only): no WAL switch,
 * no migration, so a reader such as `slmbench view` can never change it. A schema older
 * or newer than this slmbench's is refused with what to do. Closed by slm_store_close. */
int slm_store_open_ro(const char *path, slm_store **out, char *err, size_t errlen);
const char *slm_store_path(const slm_store *st);

/* Transactions; begin/commit nest by counting (only the outermost is real). */
int slm_store_begin(slm_store *st, char *err, size_t errlen);
int slm_store_commit(slm_store *st, char *err, size_t errlen);
void slm_store_rollback(slm_store *st);

/* Fills err with "path: what: SQLite's message" (and the system's reason behind an I/O
 * error, " (No space left on device)") for the last call on st that failed, and returns -1:
 * for callers of the functions that report failure without a message (status updates). */
int slm_store_db_err(slm_store *st, const char *what, char *err, size_t errlen);

/* Resolves a run reference: "last" (newest run), a run id, or a tag/name (newest run with
 * that tag, else with that name). */
int slm_store_resolve_run(slm_store *st, const char *ref, int64_t *run_id, char *err,
                          size_t errlen);

/* The ids of every run, oldest first, into *ids (caller frees; NULL when none). */
int slm_store_run_ids(slm_store *st, int64_t **ids, size_t *n, char *err, size_t errlen);

/* One prediction row. Strings may be NULL (stored as NULL); doubles NaN are NULL. */
typedef struct slm_pred_row {
    int64_t run_id, candidate_id;
    long example_idx;
    const char *example_id;
    const char *gold;
    const char *pred;         /* NULL when the engine failed */
    const char *raw_output;
    int correct;
    int valid;                /* prediction is in the label set */
    double confidence;
    const char *probs_json;   /* per-label probabilities of the prediction rule in use
                                 (score_norm), JSON array in label order */
    const char *probs_mean_json; /* length-normalised variant (mean log-prob per token) */
    const char *logprobs_json;/* per-label summed log-probabilities (score mode) */
    const char *ntok_json;    /* per-label continuation token counts (score mode) */
    int n_prompt_tokens, n_output_tokens;
    double e2e_ms, prefill_ms, decode_ms, ttft_ms, tpot_ms;
    const char *error;
    const char *fail_kinds;   /* structured outputs: failure kinds, comma-separated */
    const char *rendered_sha256; /* SHA-256 of the text the model was given where a chat
                                    template wrapped the prompt, else NULL */
} slm_pred_row;

/* Inserts or replaces one prediction (prepared statement, inside the caller's
 * transaction). */
int slm_store_put_prediction(slm_store *st, const slm_pred_row *r, char *err, size_t errlen);

/* A candidate's stored metric (value, and its interval when lo/hi are not NULL); NaN
 * where absent or NULL. */
double slm_store_metric(slm_store *st, int64_t candidate_id, const char *name, double *lo,
                        double *hi);

/* One candidate of a run, as the readers need it (the one candidate-list query). */
typedef struct slm_cand {
    int64_t id;
    int idx;
    char *name, *engine, *status; /* status: pending, running, ok, failed */
    int constrained;
} slm_cand;

/* The candidates of run_id in config order; *out is freed with slm_cands_free. Returns
 * -1 with err filled on a database error (an empty run gives *n = 0). */
int slm_store_candidates(slm_store *st, int64_t run_id, slm_cand **out, size_t *n, char *err,
                         size_t errlen);
void slm_cands_free(slm_cand *c, size_t n);
/* The id of the candidate called name in run_id: 0 found, 1 absent, -1 database error. */
int slm_store_candidate_id(slm_store *st, int64_t run_id, const char *name, int64_t *id,
                           char *err, size_t errlen);


#endif
