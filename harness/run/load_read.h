/*
 * load_read.h — the one reader of a stored load test (issue 18): the levels of every
 * candidate from the store, each level's requests, its statistics and the candidate's best
 * rate at the SLO, as the slm_load_report that reports/load_report.h writes. `load` prints
 * its table from it, `report` writes the load section from it, and `gate` judges
 * max_rate_at_slo on it, so every place shows the same numbers.
 *
 * How each number is obtained (nothing here defines a statistic; loadstats.h does):
 *   - the SLO, the bootstrap replicates and the seed are those of the run's stored config
 *     (its `load:` section's slo, the run's `bootstrap` and `seed`), as `load` used them;
 *   - a level's statistics: slm_load_level_summarise() of its stored requests with its
 *     stored window and offered rate;
 *   - its saturation: the stored status (1 'saturated'; 0 a complete open-loop level; -1
 *     undefined: a closed loop, or a level that did not end), never recomputed, since it
 *     was judged when the level ran with the config's saturation ratio;
 *   - the best rate: slm_load_best_rate() over the levels that ended (complete or
 *     saturated); an incomplete or running level does not count.
 *
 * Ownership: everything in slm_load_data is owned by it and freed by slm_load_data_free.
 */
#ifndef SLM_LOAD_READ_H
#define SLM_LOAD_READ_H

#include "load_report.h"
#include "loadcfg.h"
#include "store.h"
#include "store_load.h"

typedef struct slm_load_data {
    int64_t run_id;
    slm_load_cfg lc;                  /* the stored config's load: section */
    int reps;                         /* the bootstrap replicates used */
    long seed;                        /* the seed used */
    slm_load_report report;           /* points into the arrays below */
    /* the reader's storage, per candidate c (report.cands[c]): */
    slm_load_report_cand *cands;
    char **names;
    slm_load_level_row **rows;        /* the levels as stored (status, reason, window) */
    slm_load_report_level **levels;   /* levels[c][i].req owned here */
    size_t *n_rows;
} slm_load_data;

/* What slm_load_read() returns besides 0. */
enum { SLM_LOAD_READ_ERROR = -1, SLM_LOAD_READ_NOT_LOAD = 1 };

/* Reads load test run_id into *out (emptied first). Returns 0; SLM_LOAD_READ_NOT_LOAD
 * when the run is not a load test (err: "run N is not a load test (mode M)"; "no run N"
 * when there is none); SLM_LOAD_READ_ERROR with err when the store cannot be read or the
 * stored config has no valid load: section. *out is empty on every error. */
int slm_load_read(slm_store *st, int64_t run_id, slm_load_data *out, char *err,
                  size_t errlen);

/* Frees what slm_load_read() put in d and empties it; NULL-safe. */
void slm_load_data_free(slm_load_data *d);

/* The JSON of `load --json` and of `report --format json` for a load test: the section of
 * slm_load_report_json() with "run_id" and "profile" added at the top and, per level, its
 * stored "idx" (load_levels.idx from 0, as `load`'s table and messages number levels;
 * "level" is the report's number, from 1), "status", "reason" and "window_ms".
 * Returns 0, -1 when it cannot be encoded. */
int slm_load_data_json(const slm_load_data *d, slm_buf *out);

#endif /* SLM_LOAD_READ_H */
