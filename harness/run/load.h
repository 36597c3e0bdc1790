/*
 * load.h — a load test (`slmbench load`, issue 18): each candidate of a run config driven
 * level after level by the profile of its `load:` section (loadcfg.h), every request
 * judged as `run` judges it and stored as it finishes (store_load.h).
 *
 * Levels. synchronous: one request at a time; concurrent: `concurrency` in flight (both
 * closed loops); constant / poisson: one open-loop level per rate, request i due at i / R
 * or after seeded exponential gaps, at most `concurrency` in flight. sweep: level 0
 * synchronous measures the single-stream throughput r1, level 1 concurrent the saturation
 * throughput rmax, then K constant-rate levels at r1 + (rmax - r1) k / K (k = 1..K), the
 * sweep stopping at the first saturated level. No room (rmax < r1 / saturation: the
 * levels between could not be told apart from either end) stops the sweep after level 1.
 *
 * Phases. A level lasts `duration` (or its `requests`); a request due (open loop) or sent
 * (closed loop) in its first `warmup` ms is warm-up, in its last `cooldown` ms cool-down,
 * the rest measured; the window is duration - warmup - cooldown. A closed-loop level of
 * `duration` stops sending at its end: the requests still in flight are abandoned, not
 * stored (they fall in its cool-down when cool-down is longer than a request). A
 * closed-loop level of `requests` has no cool-down: its window ends at its last sending.
 *
 * Stops. Ctrl-C: what was measured stays, the level is marked incomplete, the run
 * interrupted (SLM_RUN_INTERRUPTED). A level where every request failed is incomplete
 * too, and ends its candidate (SLM_RUN_ENGINE). slm_load_resume() runs every incomplete
 * level again from scratch (its statistics need one continuous window), then those not
 * yet run.
 */
#ifndef SLM_LOAD_H
#define SLM_LOAD_H

#include "loadcfg.h"
#include "runner.h"

typedef struct slm_loadtest_opts {
    const volatile sig_atomic_t *stop; /* set asynchronously (Ctrl-C) to stop cleanly */
    int quiet;                   /* no per-level lines on stderr */
} slm_loadtest_opts;

/* Starts a load test of cfg (its load section lc) recorded in st; *run_id is set as soon
 * as the run exists. SLM_RUN_* with err; a sweep without room is SLM_RUN_BAD_INPUT with
 * its levels stored and the run complete. */
int slm_load_start(const slm_run_cfg *cfg, const slm_load_cfg *lc, slm_store *st,
                   slm_plugins *ps, const slm_loadtest_opts *o, int64_t *run_id, char *err,
                   size_t errlen);

/* Resumes load test run_id: its incomplete levels again, then those not yet run. */
int slm_load_resume(slm_store *st, slm_plugins *ps, const slm_loadtest_opts *o, int64_t run_id,
                    char *err, size_t errlen);

/* The levels a profile plans before any runs (a sweep: 2 + K); what each level is. */
typedef struct slm_load_level_plan {
    slm_load_profile profile;    /* never SLM_PROFILE_SWEEP */
    double rate;                 /* open loop; NaN closed */
    int concurrency;
} slm_load_level_plan;

/* Fills plan[] (SLM_LOAD_MAX_LEVELS) for lc; a sweep's rates stay NaN until r1 and rmax
 * are measured (slm_load_sweep_rates). Returns the number of levels. */
size_t slm_load_plan(const slm_load_cfg *lc, slm_load_level_plan *plan);

/* A sweep's K rates r1 + (rmax - r1) k / K into plan[2..]; 0, or -1 when there is no room
 * (rmax < r1 / saturation, or either is not a positive number). */
int slm_load_sweep_rates(const slm_load_cfg *lc, double r1, double rmax,
                         slm_load_level_plan *plan);

/* The due times of a level's n requests in ms from its start: i / rate (constant), or
 * seeded exponential gaps of mean 1 / rate (poisson; the first due at 0). */
void slm_load_schedule(slm_load_profile p, double rate, uint64_t seed, double *t_ms,
                       size_t n);

/* The number of requests an open-loop level schedules: its `requests`, or those due
 * before its duration (constant: ceil(duration x rate); poisson: drawn the same way as
 * slm_load_schedule), at most SLM_LOAD_MAX_REQUESTS. */
size_t slm_load_n_open(const slm_load_cfg *lc, slm_load_profile p, double rate,
                       uint64_t seed);

#endif
