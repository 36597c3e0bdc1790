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
    volatile sig_atomic_t *stop;         /* set asynchronously to stop cleanly */
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

#endif
