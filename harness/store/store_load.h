/*
 * store_load.h — load tests (`slmbench load`) in the store: tables load_levels and
 * load_requests (schema.c, version 13). A load test is a run of mode 'load' (its eval
 * set, examples and candidates recorded as for `run`); each candidate's levels follow one
 * another, and each level's requests are written in batches as they finish, so Ctrl-C and
 * kill -9 keep what was measured.
 *
 * Ownership: arrays filled here are freed by the caller with free() (levels: with
 * slm_load_levels_free). Errors: -1 with err filled.
 */
#ifndef SLM_STORE_LOAD_H
#define SLM_STORE_LOAD_H

#include "store.h"
#include "loadstats.h"

/* One level as stored. */
typedef struct slm_load_level_row {
    int64_t id, run_id, candidate_id;
    int idx;
    char profile[16];        /* synchronous, concurrent, constant, poisson */
    double offered_rps;      /* NaN in a closed loop */
    int concurrency;
    double duration_ms;      /* NaN when the level is a request count */
    long n_requests;         /* -1 unknown */
    double warmup_ms, cooldown_ms;
    double window_ms;        /* NaN until the level ends */
    char t0[32];             /* UTC, set by slm_load_level_begin */
    char status[16];         /* running, complete, incomplete, saturated */
    char *reason;            /* NULL none */
} slm_load_level_row;

/* One request to store: the statistics' view (slm_load_req; SLM_LOAD_UNSENT is never
 * stored) and what else is known of it. 0 http_status / attempts are stored as NULL. */
typedef struct slm_load_req_row {
    long seq, example_idx;
    slm_load_req r;
    int http_status, attempts;
    const char *server_id;   /* "" or NULL: none */
    const char *error;       /* NULL: answered */
    const char *pred;        /* NULL: failed */
} slm_load_req_row;

/* Begins level (run_id, candidate_id, idx) of lv, status running, t0 now: any earlier
 * attempt at that level (an incomplete one, resumed) is deleted with its requests first,
 * in the same transaction. Sets lv->id and lv->t0. */
int slm_load_level_begin(slm_store *st, slm_load_level_row *lv, char *err, size_t errlen);

/* Ends level id: its status (complete, incomplete, saturated), measured window (NaN
 * unknown) and reason (NULL none; redacted). */
int slm_load_level_end(slm_store *st, int64_t id, const char *status, double window_ms,
                       const char *reason, char *err, size_t errlen);

/* Writes n requests of level id in one transaction. */
int slm_load_put_requests(slm_store *st, int64_t level_id, const slm_load_req_row *rows,
                          size_t n, char *err, size_t errlen);

/* The levels of a candidate of run_id in index order (*n 0 when none). */
int slm_load_levels(slm_store *st, int64_t run_id, int64_t candidate_id,
                    slm_load_level_row **out, size_t *n, char *err, size_t errlen);
void slm_load_levels_free(slm_load_level_row *lv, size_t n);

/* The requests of level id in seq order, as the statistics read them. */
int slm_load_requests(slm_store *st, int64_t level_id, slm_load_req **out, size_t *n,
                      char *err, size_t errlen);

/* Marks every level of run_id still 'running' (a process killed in it) incomplete with
 * reason. */
int slm_load_close_running(slm_store *st, int64_t run_id, const char *reason, char *err,
                           size_t errlen);

/* The stored mode of run_id into mode ("" when no such run). */
int slm_load_run_mode(slm_store *st, int64_t run_id, char *mode, size_t len, char *err,
                      size_t errlen);

#endif
