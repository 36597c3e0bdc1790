/*
 * prod_report.h — the monthly review of a deployment's production traffic (`slmbench
 * drift --deployment`) as Markdown, self-contained HTML with charts, and JSON. The
 * numbers are slm_prod_review_run()'s (prodstats.h); this file only writes them.
 *
 * Undefined values: "–" in Markdown, null in JSON. A month of no traffic has no review:
 * "no traffic" in Markdown, verdict null in JSON. Production words (raw customer text)
 * are redacted (slm_redact) before they are written.
 */
#ifndef SLM_PROD_REPORT_H
#define SLM_PROD_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "prodstats.h"
#include "util.h"

/* One month of the window. */
typedef struct slm_prod_month_review {
    char month[8];           /* "YYYY-MM" */
    long n;                  /* rows of the month; 0: no traffic (nothing reviewed) */
    int reviewed;            /* vs_ref is filled */
    slm_prod_review vs_ref;  /* against the reference (the eval run): the verdict */
    char prev[8];            /* the previous month with traffic; "" when none */
    int has_prev;            /* vs_prev is filled */
    slm_prod_review vs_prev; /* against prev: shown, not the verdict */
    int decides;             /* 1: counts for --fail-on-drift */
} slm_prod_month_review;

typedef struct slm_prod_report {
    const char *deployment, *candidate;
    int64_t run_id;
    const char *const *classes; /* n_classes names: the labels, then answers outside */
    size_t n_labels, n_classes;
    double threshold;           /* the run's cascade threshold; NaN: none */
    double alpha, eval_acc;     /* BH level; the eval run's stored accuracy */
    const char *text_note;      /* why the vocabulary signals are not available, or NULL */
    slm_prod_month_review *m;   /* oldest first */
    size_t nm;
} slm_prod_report;

/* The charts of the review, drawn into <outdir>/plots/ by gnuplot (plots.h). */
typedef struct slm_prod_chart {
    char *caption, *dat, *svg; /* paths relative to outdir; svg NULL when not drawn */
} slm_prod_chart;

typedef struct slm_prod_charts {
    slm_prod_chart v[3]; /* accuracy, labels (PSI), escalation */
    size_t n;
    char *note;          /* why charts were not drawn, or NULL */
} slm_prod_charts;

/* Writes prod_<chart>.dat/.gp into <outdir>/plots and draws them. -1 with err only when
 * a file cannot be written (gnuplot missing or failing is a note). Free with
 * slm_prod_charts_free (NULL-safe, also after a failure). */
int slm_prod_charts_write(const slm_prod_report *r, const char *outdir, slm_prod_charts *ch,
                          char *err, size_t errlen);
void slm_prod_charts_free(slm_prod_charts *ch);

/* The review as Markdown (chart links when ch is not NULL). */
void slm_prod_markdown(const slm_prod_report *r, const slm_prod_charts *ch, slm_buf *out);

/* The review as one self-contained HTML page (charts embedded from outdir when given). */
void slm_prod_html(const slm_prod_report *r, const slm_prod_charts *ch, const char *outdir,
                   slm_buf *out);

/* The review as JSON: {"deployment", ..., "months": [{"month", "rows", "verdict",
 * "decided_by", "vs_reference": {...}, "vs_previous": {...}}]}. -1 if it cannot be
 * encoded. */
int slm_prod_json(const slm_prod_report *r, slm_buf *out, char *err, size_t errlen);

/* Months of the window that count for --fail-on-drift and are drifted or degraded. */
size_t slm_prod_n_flagged(const slm_prod_report *r);

#endif
