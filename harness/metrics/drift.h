/*
 * drift.h — the monthly drift review of stored runs (`slmbench drift`). It reads the
 * database only.
 *
 * Grouping. A series is one deployed model on one eval set: the candidate NAME (the
 * model's identity as deployed; a change of its file, model_sha256, is shown as an
 * annotation, not as a new series) × the eval set name (a change of its version or
 * sha256 is annotated and measured as label-distribution drift). Time is the calendar
 * month of the run's date in UTC: runs.as_of where the run was dated (run --as-of), else
 * runs.created_at (sqlite's strftime('%Y-%m'), so an offset such as "+02:00" is converted
 * first). Only complete runs and candidates whose status is 'ok' count. The value of a
 * month is that of the latest complete run of the month (by that date, then run id,
 * breaking ties).
 *
 * Tests. Each month of a series is compared with the previous month of the window that
 * has data for it (the first month with data has nothing to be compared with), by a test
 * of the DIFFERENCE computed from the two runs' stored predictions (drift_stats.h):
 *   - the two months are paired when both runs evaluated the eval set with the same
 *     sha256: examples matched by example id, the tests use the matched examples;
 *     otherwise they are two independent samples;
 *   - accuracy: McNemar's test when paired (exact binomial below 25 discordant
 *     examples, chi-square with continuity correction otherwise; interval of the paired
 *     difference by Agresti–Min); independent: Fisher's exact test when an expected count
 *     of the right/wrong × month table is below 5, else the chi-square test with Yates'
 *     correction (the two-proportion z test with continuity correction; interval by
 *     Newcombe's hybrid score method);
 *   - per-class recall of every label of both months' label sets with gold examples in
 *     both: the same test on the examples of that gold label;
 *   - macro_f1, weighted_f1, ece_15, ece_15_mass: a seeded bootstrap of the difference
 *     (paired: the matched examples resampled together; independent: each month resampled
 *     on its own), `reps` replicates, each test's seed derived from the review's seed, the
 *     two run ids and the metric (slm_drift_seed), recorded; 95% percentile interval;
 *     p = min(1, 2 (1 + min(#{d* <= 0}, #{d* >= 0})) / (reps + 1)). ECE leaves out the
 *     examples without a confidence;
 *   - latency (<phase>_ms_<mean|p50|p90|p95|p99>) is judged only against a reference
 *     candidate measured in both runs (opts.latency_reference): the statistic is
 *     ln(stat(candidate)/stat(reference)) over the examples both answered, the per-example
 *     latencies of the predictions (with repeats, each example's median); a seeded
 *     two-sample bootstrap of its month-on-month difference. Otherwise latency is shown
 *     and "not judged", with the reason: no reference ("measured in different jobs
 *     without a common reference"), the reference missing from a run, the series being
 *     the reference, or a run's conditions — the candidate's or the reference's 1-minute
 *     load average before or after above the run's online CPUs (runs.host_json
 *     cpus_online; a run without it cannot be checked and is not judged), CPU steal
 *     above 5%, or the `noisy` metric set;
 *   - any other metric is shown and "not judged" (no two-sample test in the review).
 * Label-distribution drift: for each eval set, where its sha256 or version differs
 * between consecutive months with data, the gold labels of the two runs' examples:
 * total variation distance (half the L1 distance of the shares) with its expected value
 * and 95th percentile under no drift at these sample sizes (`reps` random splits of the
 * pooled labels), and a test of homogeneity of the 2 × K table (labels seen in neither
 * run dropped): with every expected count >= 5, Pearson's chi-square on K - 1 df, Yates-
 * corrected at df = 1; with an expected count below 5, Fisher's exact test at K = 2 and a
 * Monte-Carlo permutation p ((1 + #{X*^2 >= X^2}) / (reps + 1), the same splits) above.
 *
 * Flags. Every judged test of the review — metrics × series × months, per-class recalls
 * and label distributions — forms one family; its p-values are adjusted by
 * Benjamini–Hochberg (false discovery rate; under no drift at all, the chance of any
 * flag is at most alpha for independent or positively dependent tests, and
 * tests/unit/test_drift_null.c checks it on simulated histories) and a test is FLAGGED when its adjusted p is below alpha
 * (default 0.05). A latency test is flagged only when, in addition, the normalised
 * latency moved by more than 20% (the bootstrap knows the examples' noise, not the
 * machine's from one job to the next). A recovery is a change as well, so a bad month
 * followed by a return to normal flags both months; each flag says whether it went the
 * better or the worse way (fields.c's higher_better; recall: higher is better; a label
 * distribution: "changed") and shows the difference with its 95% interval (not adjusted).
 *
 * Ownership: slm_drift_compute() returns a handle freed by slm_drift_free() (NULL-safe);
 * the writers only read it.
 */
#ifndef SLM_DRIFT_H
#define SLM_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

#define SLM_DRIFT_MAX_METRICS 16
#define SLM_DRIFT_LATENCY_REL 0.20  /* a normalised latency must also move by more */
#define SLM_DRIFT_ALPHA 0.05        /* default: flagged at a BH-adjusted p below it */
#define SLM_DRIFT_REPS 1000         /* default bootstrap / permutation replicates */
#define SLM_DRIFT_SEED 1            /* default seed of the review */

typedef struct slm_drift slm_drift;

typedef struct slm_drift_opts {
    int from_year, from_month;  /* first month of the window, 1..12 */
    int to_year, to_month;      /* last month, included */
    const char *const *metrics; /* field names (fields.c); NULL: the default four */
    size_t n_metrics;
    double alpha;               /* 0: SLM_DRIFT_ALPHA; else in (0, 1) */
    int reps;                   /* 0: SLM_DRIFT_REPS; else >= 100 */
    uint64_t seed;              /* 0: SLM_DRIFT_SEED */
    const char *latency_reference; /* candidate name latency is normalised by; NULL: none,
                                    * latency not judged */
} slm_drift_opts;

/* Parses "YYYY-MM" (exactly that: four digits, '-', a month 01..12). 0, or -1 with err. */
int slm_drift_parse_month(const char *s, int *year, int *month, char *err, size_t errlen);

/* The month of the newest complete run (UTC) into *year, *month; -1 with err when the
 * database has none. */
int slm_drift_latest_month(slm_store *st, int *year, int *month, char *err, size_t errlen);

/* Reads the window's runs and predictions and computes every series, test, flag and label
 * drift. Returns 0 and *out (free with slm_drift_free()), or -1 with err when the window
 * is empty or reversed, a metric name is unknown, there are too many metrics, alpha or
 * reps is out of range, a stored gold label is outside its run's label set, or the
 * database cannot be read. A window without any run is not an error: the report says so. */
int slm_drift_compute(slm_store *st, const slm_drift_opts *opts, slm_drift **out, char *err,
                      size_t errlen);
void slm_drift_free(slm_drift *d);

/* Number of flagged changes: metrics × series × months, per-class recalls and label
 * distributions. */
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
