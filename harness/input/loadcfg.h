/*
 * loadcfg.h — the `load:` section of a run config (slmbench load, issue 18): the arrival
 * profile, its levels, their length and phases, and the latency limits (SLO).
 *
 *   load:
 *     profile: sweep            # synchronous | concurrent | constant | poisson | sweep
 *     concurrency: 8            # concurrent: N in flight; open loop: the in-flight cap (64)
 *     rate: 4                   # constant / poisson: requests/s, or a list (a level each)
 *     rates: 5                  # sweep: K constant-rate levels between r1 and rmax
 *     duration: 30s             # per level, warm-up and cool-down included (or requests: N)
 *     warmup: 5s                # the level's first seconds: stored, not summarised
 *     cooldown: 2s              # its last seconds: stored, not summarised
 *     order: shuffled           # in-order | shuffled (seeded)
 *     seed: 7
 *     saturation: 0.9           # achieved / offered below this: saturated, a sweep stops
 *     slo: {ttft: 500ms, tpot: 50ms, itl: 50ms, e2e: 2s, percentile: 99}
 *
 * Times need a unit (ms or s); rates are > 0. Every error names the config's file and line.
 * The run config's own `run` ignores the section; `slmbench load` needs it.
 */
#ifndef SLM_LOADCFG_H
#define SLM_LOADCFG_H

#include "config.h"
#include "loadstats.h"
#include "slm_limits.h"

typedef enum slm_load_profile {
    SLM_PROFILE_SYNCHRONOUS = 0, /* one request at a time (closed loop) */
    SLM_PROFILE_CONCURRENT,      /* `concurrency` in flight (closed loop) */
    SLM_PROFILE_CONSTANT,        /* request i due at i / rate (open loop) */
    SLM_PROFILE_POISSON,         /* seeded exponential gaps of mean 1 / rate (open loop) */
    SLM_PROFILE_SWEEP            /* synchronous, concurrent, then K constant rates */
} slm_load_profile;

typedef struct slm_load_cfg {
    int line;                    /* of the `load:` key */
    slm_load_profile profile;
    int concurrency;             /* default 64 */
    double rates[SLM_LOAD_MAX_LEVELS]; /* constant / poisson: one level per rate */
    size_t n_rates;
    int sweep_k;                 /* sweep: K (rates), default 5 */
    double duration_ms;          /* per level; NaN when `requests` is given instead */
    long requests;               /* per level; 0 when `duration` is given */
    double warmup_ms, cooldown_ms;
    int shuffled;
    long seed;
    double saturation;           /* in (0, 1], default 0.9 */
    slm_slo slo;                 /* limits NaN where not set; percentile default 99 */
} slm_load_cfg;

/* The profile's name as written in configs and stored ("synchronous", ...). */
const char *slm_load_profile_name(slm_load_profile p);

/* Reads the `load:` section of cfg (cfg->text, parsed again; errors "file:line: ..."):
 * 0, or -1 with err. A config without the section is an error too. */
int slm_load_cfg_parse(const slm_run_cfg *cfg, slm_load_cfg *out, char *err, size_t errlen);

/* A time with its unit, "250ms", "1.5s", into ms: 0, or -1 (no unit, not a number, < 0). */
int slm_parse_duration_ms(const char *s, double *ms);

#endif
