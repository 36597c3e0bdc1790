/*
 * drift.h — the monthly drift review of stored runs (`slmbench drift`). It reads the
 * database only.
 *
 * Grouping. A series is one deployed model on one eval set: the candidate NAME (the
 * model's identity as deployed; a change of its file, model_sha256, is shown as an
 * annotation, not as a new series) × the eval set name (a change of its version or
 * sha256 is annotated and measured as label-distribution drift). Time is the calendar
 * month of runs.created_at in UTC (sqlite's strftime('%Y-%m'), so an offset such as
 * "+02:00" is converted first). Only complete runs and candidates whose status is 'ok'
 * count. The value of a month is that of the latest complete run of the month
 * (created_at, then run id, breaking ties).
 *
 * Flags. For each metric, a month's value is compared with that of the previous month of
 * the window that has data for the series (the first month with data has nothing to be
 * compared with, and neither do months before the window):
 *   - a metric stored with a 95% interval (lo, hi: accuracy, macro_f1, ece_15) is
 *     FLAGGED when the value lies outside the previous month's interval (strictly below
 *     lo or above hi);
 *   - a metric without a stored interval (latency percentiles) is flagged when it moved by
 *     more than 20% of the previous month's value (|v - v_prev| > 0.20 |v_prev|).
 * A recovery is a change as well, so a bad month followed by a return to normal flags
 * both months; each flag says whether it went the better or the worse way (fields.c's
 * higher_better).
 *
 * Listed, not flagged: per-class shifts (recall or F1 of a label of the label set moving
 * by more than 0.10 between consecutive months with data), and label-distribution drift:
 * for each eval set, where its sha256 or version differs between consecutive months with
 * data (the latest complete run of each month on that eval set), the gold labels of the
 * two runs' examples are compared by total variation distance (half the L1 distance of
 * the label shares) and by Pearson's chi-square test of homogeneity on the 2 × K table of
 * counts (labels seen in neither run dropped; df = K - 1; p from slm_chi2_sf()).
 *
 * Ownership: slm_drift_compute() returns a handle freed by slm_drift_free() (NULL-safe);
 * the writers only read it.
 */
#ifndef SLM_DRIFT_H
#define SLM_DRIFT_H

#include <stddef.h>

#include "store.h"
#include "util.h"

#define SLM_DRIFT_MAX_METRICS 16
#define SLM_DRIFT_LATENCY_REL 0.20  /* relative change flagged without an interval */
#define SLM_DRIFT_CLASS_DELTA 0.10  /* per-class recall/F1 shift listed */

typedef struct slm_drift slm_drift;

typedef struct slm_drift_opts {
    int from_year, from_month;  /* first month of the window, 1..12 */
    int to_year, to_month;      /* last month, included */
    const char *const *metrics; /* field names (fields.c); NULL: the default four */
    size_t n_metrics;
} slm_drift_opts;

/* Parses "YYYY-MM" (exactly that: four digits, '-', a month 01..12). 0, or -1 with err. */
int slm_drift_parse_month(const char *s, int *year, int *month, char *err, size_t errlen);

/* The month of the newest complete run (UTC) into *year, *month; -1 with err when the
 * database has none. */
int slm_drift_latest_month(slm_store *st, int *year, int *month, char *err, size_t errlen);

/* Reads the window's runs and computes every series, flag, shift and label drift.
 * Returns 0 and *out (free with slm_drift_free()), or -1 with err when the window is
 * empty or reversed, a metric name is unknown, there are too many metrics, or the
 * database cannot be read. A window without any run is not an error: the report says so. */
int slm_drift_compute(slm_store *st, const slm_drift_opts *opts, slm_drift **out, char *err,
                      size_t errlen);
void slm_drift_free(slm_drift *d);

/* Number of flagged changes (metric × series × month). */
size_t slm_drift_n_flagged(const slm_drift *d);
/* Number of series (model × eval set) with at least one month in the window. */
size_t slm_drift_n_series(const slm_drift *d);

/* One chart per metric, drawn by gnuplot. */
typedef struct slm_drift_chart {
    char *metric;  /* field name */
    char *caption;
    char *dat;     /* "plots/drift_<metric>.dat" relative to the out folder */
    char *svg;     /* NULL when not drawn */
    char *png;     /* NULL when not drawn */
} slm_drift_chart;

typedef struct slm_drift_charts {
    slm_drift_chart *v;
    size_t n;
    char *note;    /* NULL, or why some or all charts were not drawn (one line) */
} slm_drift_charts;

/* Writes <outdir>/plots/drift_<metric>.{dat,gp} for every metric and draws each as SVG
 * and PNG with slm_gnuplot_run(). A chart gnuplot cannot draw (not installed, failed) is
 * left without images and the reason goes to ch->note; that is not an error. Returns -1
 * with err only when a folder or file cannot be written. Free with
 * slm_drift_charts_free() (NULL-safe, also after a failure). */
int slm_drift_charts_write(const slm_drift *d, const char *outdir, slm_drift_charts *ch,
                           char *err, size_t errlen);
void slm_drift_charts_free(slm_drift_charts *ch);

/* The Markdown review; charts (may be NULL) are linked by their PNG paths. */
void slm_drift_markdown(const slm_drift *d, const slm_drift_charts *ch, slm_buf *out);

/* The self-contained HTML page: the Markdown review converted by slm_md_to_html(), each
 * drawn chart embedded as an SVG data URI (files relative to outdir; outdir may be NULL
 * when ch is NULL). No network access, no external file. */
void slm_drift_html(const slm_drift *d, const slm_drift_charts *ch, const char *outdir,
                    slm_buf *out);

/* The whole review as one JSON document (NaN written as null). */
int slm_drift_json(const slm_drift *d, slm_buf *out, char *err, size_t errlen);

#endif
