/*
 * runner.h — one evaluation run (DESIGN §2): validate, render prompts once, run every
 * candidate on every example through its engine, store each prediction as it completes,
 * aggregate. Also resumes an interrupted or killed run.
 */
#ifndef SLM_RUNNER_H
#define SLM_RUNNER_H

#include "config.h"
#include "engine.h"
#include "store.h"

#include <signal.h>

/* Outcomes; the command layer maps them to exit codes (DESIGN §9). */
enum {
    SLM_RUN_OK = 0,
    SLM_RUN_BAD_INPUT = 3,   /* config, eval set or model file */
    SLM_RUN_ENGINE = 4,      /* an engine or the database failed */
    SLM_RUN_INTERRUPTED = 130,
};

typedef struct slm_run_opts {
    int progress;                        /* draw a progress bar on stderr */
    int quiet;                           /* no per-candidate lines */
    const volatile sig_atomic_t *stop;        /* set asynchronously to stop cleanly */
    int retry_errors;                    /* on resume, redo predictions that failed */
    int repeat_check;                    /* re-run this many examples, count flips */
    int shard_i, shard_n;                /* evaluate examples with index % shard_n == shard_i
                                            (shard_n 0: all) */
    const char *as_of;                   /* the date the run stands for ("YYYY-MM-DDTHH:MM:
                                            SSZ", slm_parse_as_of), or NULL: its start */
} slm_run_opts;

/* Starts a new run of cfg, recorded in st. *run_id is set as soon as the run exists. */
int slm_run_start(const slm_run_cfg *cfg, slm_store *st, slm_plugins *ps,
                  const slm_run_opts *o, int64_t *run_id, char *err, size_t errlen);

/* Resumes run_id (or, if run_id <= 0, the newest run not complete). */
int slm_run_resume(slm_store *st, slm_plugins *ps, const slm_run_opts *o, int64_t *run_id,
                   char *err, size_t errlen);

/* ---- a run's pieces for another driver: `slmbench load` (load.h) drives the engines
 * itself but prepares, records and judges exactly as a run does ---- */

typedef struct run_ctx slm_session;

/* Prepares cfg as a run does (eval set loaded, prompts rendered once, every candidate's
 * engine and model checked) and records a new run whose runs.mode is `mode` ("load"), its
 * eval set, examples and candidates; or, with *run_id > 0, checks that stored run against
 * cfg (a resume: the same data, the same candidates). SLM_RUN_* with err; *out is closed
 * with slm_session_close (NULL-safe). o->quiet is honoured. */
int slm_session_open(const slm_run_cfg *cfg, slm_store *st, slm_plugins *ps,
                     const slm_run_opts *o, const char *mode, int64_t *run_id,
                     slm_session **out, char *err, size_t errlen);
void slm_session_close(slm_session *s);

/* Examples evaluated, and example i's rendered prompt and id (the session's strings). */
size_t slm_session_n(const slm_session *s);
const char *slm_session_prompt(const slm_session *s, size_t i);
const char *slm_session_example_id(const slm_session *s, size_t i);

/* An opened candidate: its engine (owned by the session), table, id, chat flag, the
 * model's capabilities and the run's generation parameters. */
typedef struct slm_session_cand {
    slm_engine *eng;
    const slm_engine_vtable *vt;
    int64_t id;
    int chat;
    uint32_t caps;
    slm_gen_params gp;
} slm_session_cand;

/* Opens candidate ci as a run does: status running, context sized, model facts recorded,
 * the config's untimed warm-up requests sent. SLM_RUN_* with err. */
int slm_session_cand_begin(slm_session *s, size_t ci, slm_session_cand *out, char *err,
                           size_t errlen);
/* Closes candidate ci's engine and records its status from rc: ok, pending (interrupted)
 * or failed with err. */
void slm_session_cand_end(slm_session *s, size_t ci, int rc, const char *err);

/* An answer judged as a run judges it: pred (NULL when failed), correct and valid (-1
 * when failed), error (NULL when answered). Freed with slm_judged_free. */
typedef struct slm_judged {
    char *pred, *error;
    int correct, valid;
} slm_judged;
void slm_session_judge(slm_session *s, size_t ci, size_t i, const slm_gen_result *res,
                       const char *err, slm_judged *out);
void slm_judged_free(slm_judged *j);

/* The config run_id started with (its stored text, as a resume reads it). SLM_RUN_*. */
int slm_session_stored_cfg(slm_store *st, int64_t run_id, slm_run_cfg **cfg, char *err,
                           size_t errlen);

#endif
