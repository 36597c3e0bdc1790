/*
 * loadstats.h — the statistics of a load test (issue 18, `slmbench load`): one level's
 * requests (a profile at one offered rate or concurrency) summarised against the SLO, and
 * a sweep's levels judged together (saturation, the highest rate meeting the SLO). Pure
 * functions on arrays in memory: no SQL, no I/O. The load command reads its requests back
 * from the store into slm_load_req arrays and calls these; the report and the gate call
 * the same functions, so every place shows the same numbers.
 *
 * Conventions: times in milliseconds; an undefined value (no request, 0/0, a percentile
 * whose interval the sample cannot bound) is NaN; intervals are 95%.
 */
#ifndef SLM_LOADSTATS_H
#define SLM_LOADSTATS_H

#include <stddef.h>
#include <stdint.h>

/* Where a request falls in its level: only SLM_LOAD_MEASURE requests are summarised. */
typedef enum slm_load_phase {
    SLM_LOAD_WARMUP = 0,
    SLM_LOAD_MEASURE = 1,
    SLM_LOAD_COOLDOWN = 2
} slm_load_phase;

/* How a request ended. */
typedef enum slm_load_status {
    SLM_LOAD_OK = 0,       /* answered (right or wrong, valid or not) */
    SLM_LOAD_ERROR = 1,    /* failed: HTTP error, dropped connection, engine error */
    SLM_LOAD_TIMEOUT = 2,  /* failed by its timeout */
    SLM_LOAD_UNSENT = 3    /* never sent (the level was stopped first) */
} slm_load_status;

/* One request of a level, as stored. Times are from the level's start (its t0). */
typedef struct slm_load_req {
    slm_load_phase phase;
    slm_load_status status;
    double scheduled_ms;   /* when it was due; NaN in a closed loop */
    double sent_ms;        /* when it left (NaN unsent) */
    double ttft_ms;        /* sent -> first token; NaN unknown (not streamed) */
    double e2e_ms;         /* sent -> end */
    double itl_mean_ms;    /* mean gap between output tokens; NaN under 2 tokens */
    double itl_max_ms;     /* the largest gap; NaN under 2 tokens */
    double tpot_ms;        /* (e2e - ttft) / (output tokens - 1); NaN under 2 tokens */
    int32_t n_output_tokens;
    int correct;           /* 1 right, 0 wrong, -1 not scored (failed) */
    int valid;             /* 1 a valid label, 0 invalid output, -1 failed */
} slm_load_req;

/* A latency limit: the chosen percentile of a metric must be <= limit_ms; NaN: none. */
typedef struct slm_slo {
    double ttft_ms, itl_ms, tpot_ms, e2e_ms; /* limits, NaN where not set */
    double percentile;     /* the percentile judged across the level, e.g. 99 (0 < q < 100) */
} slm_slo;

/* A percentile with its 95% interval. */
typedef struct slm_pct_ci {
    double value, lo, hi;  /* lo/hi NaN where the sample cannot bound it */
    long n;                /* values used */
} slm_pct_ci;

/*
 * The percentile p (0..100) of the finite values among x[0..n) as slm_percentile()
 * (metrics.h: numpy's linear interpolation, so `run` and `load` agree), with its 95%
 * interval by a seeded percentile bootstrap of `reps` replicates. The interval's rule: a
 * bound is NaN where no distribution-free interval could give it from n values, i.e.
 * where the exact order-statistic interval would need an order statistic beyond the
 * sample: hi is NaN when (p/100)^n > 0.025 (a p99 needs n >= 368 values), lo is NaN when
 * (1 - p/100)^n > 0.025 (a p50 needs n >= 6). out->n is the finite values used; with
 * none every number is NaN. Returns 0, -1 on memory or bad arguments (out NaN).
 * (Added to the interface of 20ba7b4 so the coverage test and the report can call it.)
 */
int slm_load_percentile_ci(const double *x, size_t n, double p, int reps, uint64_t seed,
                           slm_pct_ci *out);

/* One level summarised (SLM_LOAD_MEASURE requests only). */
typedef struct slm_load_level_stats {
    double offered_rps;    /* the profile's rate; NaN for synchronous / concurrent */
    double achieved_rps;   /* measured requests sent / measured window */
    double throughput_rps; /* measured requests answered / window */
    double output_tok_s;   /* output tokens of answered requests / window */
    double goodput_rps;    /* answered requests meeting every per-request limit / window */
    double goodput_share;  /* of the measured requests, the share meeting every limit */
    slm_pct_ci ttft[3], itl[3], tpot[3], e2e[3]; /* p50, p90, and the SLO's percentile */
    double send_err_p50_ms, send_err_p99_ms;     /* sent - scheduled (open loop) */
    double error_rate, timeout_rate;             /* of measured requests */
    double accuracy, invalid_rate;               /* of answered requests */
    long n_measured, n_answered, n_errors, n_timeouts;
    int meets_slo;         /* 1 every limit's percentile (its value) within the limit and
                              the failed share within the percentile's allowance
                              (1 - percentile/100), 0 not, -1 undefined (no answered
                              request, or no limit set) */
    /* Appended after 20ba7b4 (loadstats.c, for slm_load_best_rate() and the report): */
    int meets_slo_surely;  /* 1 every limit met by its percentile's UPPER bound (a NaN
                              bound is not sure), 0 not, -1 undefined as meets_slo */
    int fails_slo_surely;  /* 1 some percentile's LOWER bound beyond its limit, or the
                              failed share beyond the allowance; 0 not; -1 undefined */
    int saturated;         /* slm_load_saturated() with SLM_LOAD_SAT_RATIO: 1, 0, -1; a
                              caller with another ratio may overwrite it */
} slm_load_level_stats;

/* The default saturation ratio (achieved/offered) and the growth floor of the lateness
 * and TTFT/E2E regressions (slm_load_saturated(); docs/loadstats.md says why). */
#define SLM_LOAD_SAT_RATIO 0.9
#define SLM_LOAD_SAT_GROWTH_MS 100.0
#define SLM_LOAD_SAT_MIN_N 10

/*
 * Summarises a level: window_ms is the measured window's length (the level's duration
 * less warm-up and cool-down). Percentile intervals come from a seeded bootstrap of `reps`
 * replicates (slm_load_percentile_ci(); docs/loadstats.md has its verified coverage).
 * Returns 0; -1 on memory or bad arguments (r NULL with n > 0, slo NULL, slo->percentile
 * not in (0, 100), reps < 1), out then holding what could be computed (NaN elsewhere).
 */
int slm_load_level_summarise(const slm_load_req *r, size_t n, double window_ms,
                             double offered_rps, const slm_slo *slo, int reps, uint64_t seed,
                             slm_load_level_stats *out);

/* Saturation of a level (its measured, sent requests with a schedule): the achieved rate
 * below `min_ratio` (e.g. 0.9) of the offered rate — both taken over the measured
 * requests, (k-1)/(span of send times) against (k-1)/(span of scheduled times), so a
 * Poisson schedule's own noise does not count; offered_rps is used only where the
 * schedule has no span — or a queue that keeps growing: the send-time lateness (sent -
 * scheduled: the generator's queue, at the in-flight cap) or the TTFT of the answered (the
 * server's queue; their E2E where under SLM_LOAD_SAT_MIN_N have a TTFT) rising with the
 * scheduled time, judged by the least-squares slope: its lower 95% bound (standard error
 * widened for the residuals' lag-1 autocorrelation) above 0 AND its growth over the level
 * (slope x scheduled span) above SLM_LOAD_SAT_GROWTH_MS. Returns 1 saturated (why[] says
 * which, with the numbers), 0 not, -1 undefined (closed loop: no schedule; fewer than
 * SLM_LOAD_SAT_MIN_N measured sent requests; min_ratio not in (0, 1]). */
int slm_load_saturated(const slm_load_req *r, size_t n, double offered_rps, double min_ratio,
                       char *why, size_t whylen);

/* Across a sweep's levels (in any order; levels without an offered rate are skipped):
 * rate = the highest offered rate whose level meets the SLO (meets_slo == 1) and is not
 * saturated; lo = the highest offered rate <= rate whose level surely meets it
 * (meets_slo_surely == 1, not saturated), NaN where none (no tested rate is surely
 * sustained); hi = the lowest offered rate above rate whose level surely fails it
 * (fails_slo_surely == 1 or saturated), NaN where none (the sweep never reached a sure
 * failure: unbounded above). With no level meeting the SLO, rate and lo are NaN, level
 * is (size_t)-1 and hi is the lowest surely failing rate (or NaN).
 * Returns 0, -1 on bad arguments (lv NULL with n > 0, out NULL). */
typedef struct slm_load_best {
    double rate, lo, hi;
    size_t level;          /* index of that level; (size_t)-1 none */
} slm_load_best;

int slm_load_best_rate(const slm_load_level_stats *lv, size_t n, slm_load_best *out);

#endif /* SLM_LOADSTATS_H */
