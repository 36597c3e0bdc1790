/*
 * fields.h — the one table of per-candidate metrics. The metrics table in SQLite, the
 * JSON report, the Markdown and HTML columns (title, digits), gate thresholds (direction)
 * and drift all come from it, so a new metric is one row here plus its computation.
 *
 * A metric stored under a name that no row matches is a bug: tests/cli/test_report.sh and
 * tests/unit/test_report.c check every stored name with slm_field_lookup().
 */
#ifndef SLM_FIELDS_H
#define SLM_FIELDS_H

#include <stddef.h>

/* How a value is shown in Markdown and HTML. */
typedef enum slm_field_fmt {
    SLM_FMT_NUM = 0, /* a number with `digits` significant digits (at most 3 decimals) */
    SLM_FMT_PCT,     /* a share in [0, 1] shown as a percentage with one decimal */
    SLM_FMT_COUNT    /* a whole number, no decimals */
} slm_field_fmt;

/* A name ending in '.' is a family: "fail." matches "fail.truncated" and the like, names
 * whose suffix comes from the data (structured fields, failure kinds). */
typedef struct slm_field {
    const char *name;     /* key in the metrics table and in `report --json` */
    const char *title;    /* long title (drift, legends) */
    const char *col;      /* short Markdown column title; NULL: the title */
    const char *unit;     /* "", "ms", "tok/s", ... */
    int higher_better;    /* 1 higher is better, -1 lower is better, 0 neither */
    slm_field_fmt fmt;
    int digits;           /* significant digits for SLM_FMT_NUM (and drift) */
} slm_field;

extern const slm_field slm_fields[];
extern const size_t slm_n_fields;

/* The metrics of the one-line summary of a candidate, in column order: the comparison
 * table of the Markdown report (and, proposed, the columns of the v_summary view). */
extern const char *const slm_summary_fields[];
extern const size_t slm_n_summary_fields;

/* The row named exactly name (families are not matched), or NULL. */
const slm_field *slm_field_find(const char *name);

/* The row for a stored metric name: the exact row, else the family whose prefix it
 * carries ("field_accuracy.amount" -> "field_accuracy."), else NULL (an unknown metric). */
const slm_field *slm_field_lookup(const char *name);

/* The short column title of f (its col, else its title). */
const char *slm_field_col(const slm_field *f);

/* 1 when f is a family row (its name ends in '.'). */
int slm_field_is_family(const slm_field *f);

#endif
