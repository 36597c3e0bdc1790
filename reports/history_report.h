/*
 * history_report.h — every run of a database over time (`slmbench history`): runs grouped
 * by eval set (name, version and data hash: runs on different data are not one trend),
 * newest last, with date, id, name, tags, status and, per candidate, accuracy, ECE and
 * e2e p95 latency with their stored 95% intervals; trend plots per eval set and metric
 * (one line per candidate name, error bars from the intervals) in the HTML page.
 *
 * The page builders are plain functions of the store: they append to out and write no
 * file the caller sees (the HTML's plots are drawn in opts->plots_dir, or in a temporary
 * folder removed before returning), so `slmbench view` can serve them as they are.
 * Interrupted, failed and running runs are listed, marked, and never plotted. Load tests
 * (runs of `slmbench load`) have no accuracy of an eval set: they are listed apart.
 *
 * Each returns 0; 1 with err filled when the request names nothing in the database (an
 * eval set or candidate no run has: err says which exist); -1 with err on a database or
 * file error.
 */
#ifndef SLM_HISTORY_REPORT_H
#define SLM_HISTORY_REPORT_H

#include "store.h"
#include "util.h"

typedef struct slm_history_opts {
    const char *evalset;   /* only runs of this eval set name; NULL: every eval set */
    const char *candidate; /* only this candidate name; NULL: every candidate */
    const char *plots_dir; /* HTML: draw the trend plots into <plots_dir>/plots/ and keep
                            * them; NULL: a temporary folder, removed after embedding */
    int no_plots;          /* HTML: no trend plots at all (the page says so) */
} slm_history_opts;

/* The history as Markdown: one section per eval set, one table row per run × candidate. */
int slm_history_markdown(slm_store *st, const slm_history_opts *o, slm_buf *out, char *err,
                         size_t errlen);

/* The self-contained HTML page: the Markdown's tables and the trend plots embedded as
 * data URIs (reports/report_html.h); gnuplot missing or failing: the page says why. */
int slm_history_html(slm_store *st, const slm_history_opts *o, slm_buf *out, char *err,
                     size_t errlen);

/* JSON: {"evalsets": [{name, version, sha256, runs: [{id, name, tags, status, date,
 * plotted, candidates: [{name, status, accuracy: {value, lo, hi}, ece_15: ..., e2e_ms_p95:
 * ...}]}]}], "load_tests": [...]}; undefined numbers are null. */
int slm_history_json(slm_store *st, const slm_history_opts *o, slm_buf *out, char *err,
                     size_t errlen);

/* CSV, one row per run × candidate: evalset,version,sha256,run_id,run,tags,status,date,
 * candidate,candidate_status, then value,lo,hi of accuracy, ece_15 and e2e_ms_p95 (empty
 * where undefined); load tests are not rows. */
int slm_history_csv(slm_store *st, const slm_history_opts *o, slm_buf *out, char *err,
                    size_t errlen);

#endif
