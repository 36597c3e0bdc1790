/*
 * load_report.h — the load test's section of a report (issue 18): per candidate a table of
 * its levels (offered and achieved rate, goodput, p50 and the SLO percentile of TTFT and
 * E2E with their 95% intervals, accuracy, errors, saturation) and its best rate at the
 * SLO with its interval, as Markdown, JSON and HTML with charts. The numbers are those of
 * loadstats.h; docs/loadstats.md defines them. No SQL and no statistics here: the caller
 * (the `load` and `report` commands) reads the levels from the store, summarises them with
 * slm_load_level_summarise() and slm_load_best_rate(), and hands them in.
 *
 * Ownership: nothing handed in is kept or freed; outputs are appended to the caller's
 * slm_buf / slm_plots_result.
 */
#ifndef SLM_LOAD_REPORT_H
#define SLM_LOAD_REPORT_H

#include <stddef.h>

#include "loadstats.h"
#include "plots.h"
#include "util.h"

/* One level of a candidate's load test. */
typedef struct slm_load_report_level {
    const char *profile;        /* "synchronous", "concurrent", "constant", "poisson" */
    double offered_rps;         /* NaN for synchronous and concurrent levels */
    int concurrency;            /* the in-flight cap or N of `concurrent`; 0 unknown */
    slm_load_level_stats stats; /* slm_load_level_summarise() of the level */
    const char *saturated_why;  /* slm_load_saturated()'s why, or NULL */
    const slm_load_req *req;    /* the level's requests for the CDFs (NULL: none drawn) */
    size_t n_req;
} slm_load_report_level;

/* One candidate: its levels in the order they ran, and slm_load_best_rate() of them. */
typedef struct slm_load_report_cand {
    const char *name;
    const slm_load_report_level *levels;
    size_t n_levels;
    slm_load_best best;
} slm_load_report_cand;

typedef struct slm_load_report {
    const slm_load_report_cand *cands;
    size_t n_cands;
    slm_slo slo;                /* the limits the levels were judged against */
} slm_load_report;

/* Appends the section as Markdown: "## Load test", the SLO, then per candidate a table
 * and its best rate. Undefined numbers are "–"; names and profiles are escaped as table
 * cells. */
void slm_load_report_markdown(slm_buf *out, const slm_load_report *r);

/* Appends the section as one JSON object (slo, candidates[{name, best_rate, levels[]}]),
 * NaN as null, a line feed after it. Returns 0, -1 if jansson cannot encode it. */
int slm_load_report_json(slm_buf *out, const slm_load_report *r);

/* Draws the section's charts into <outdir>/plots (created if missing) and appends them
 * to res (as slm_plots_write() describes its own; *gp_missing as slm_plot_emit()):
 *   load_latency     p50 and the SLO percentile of TTFT and E2E against the offered rate,
 *                    with their intervals as bars (a bar with an undefined end is left
 *                    out), the limits as dashed lines
 *   load_goodput     goodput and throughput against the offered rate
 *   load_achieved    achieved against offered rate, with the line y = x
 *   load_cdf_<k>     the k-th candidate's (1-based) TTFT and E2E CDFs, one line per level
 * A chart with nothing to draw (no level with an offered rate, no answered request) is
 * appended as skipped with the reason. Returns 0, -1 with err when the folder or a file
 * cannot be written. */
int slm_load_report_plots(const slm_load_report *r, const char *outdir, slm_plots_result *res,
                          char **gp_missing, char *err, size_t errlen);

/* Appends the section as HTML body content: the Markdown converted (slm_md_to_html), then
 * every drawn chart of plots whose name starts with "load_" embedded (slm_html_figure),
 * a skipped chart as a line saying why. outdir is where plots' paths are relative to.
 * Returns 0, -1 when a drawn chart's SVG cannot be read. */
int slm_load_report_html(slm_buf *out, const slm_load_report *r, const slm_plots_result *plots,
                         const char *outdir);

#endif /* SLM_LOAD_REPORT_H */
