/*
 * report_classes.h — the per-class part of the reports: each candidate's per-class
 * results, confusion matrix and reliability table, sized for the label count.
 *
 * Up to SLM_REPORT_MAX_FULL_LABELS labels (slm_limits.h) the Markdown report gives the
 * full per-class table and confusion matrix of each candidate; above it, so that a report
 * of 150 labels fits a pull-request comment, the worst classes and the largest
 * confusions, and points to per_class.csv, report.html and report --json, which keep
 * every row. The HTML report writes every table, the full ones collapsed (<details>).
 */
#ifndef SLM_REPORT_CLASSES_H
#define SLM_REPORT_CLASSES_H

#include "store_reports.h"
#include "util.h"

/* Appends run r's "### Per-class results" section to b: the intro, then per candidate a
 * "#### name" heading and its three parts in Markdown form. Reads the store only; a
 * part whose rows cannot be read is left out. */
void slm_report_classes_md(slm_store *st, const slm_run_facts *r, slm_buf *b);

/* The parts of a candidate's section, in order. */
enum {
    SLM_CLASSES_PART_PER_CLASS, /* its error, then worst classes and/or per-class table */
    SLM_CLASSES_PART_CONFUSION, /* top confusions and/or the confusion matrix */
    SLM_CLASSES_PART_RELIABILITY
};

/* Appends one part of candidate i of run r. html = 0: the Markdown report's form (above);
 * html = 1: the HTML report's, as Markdown for slm_md_to_html: the worst classes and top
 * confusions (above the label limit) in view, the full table and matrix in <details>
 * lines, open up to the label limit; the reliability table collapsed. */
void slm_report_classes_part(slm_store *st, const slm_run_facts *r, size_t i, int part,
                             int html, slm_buf *b);

/* The "### Per-class results" heading and, above the label limit, the paragraph saying
 * where every row is. */
void slm_report_classes_intro(const slm_run_facts *r, slm_buf *b);

/* per_class.csv: run_id,candidate,label,in_label_set,precision,recall,f1,support,predicted
 * for every candidate of the runs, the label set first, then answers outside it (as
 * `export table per_class` but every candidate of every run in one file); an undefined
 * value is an empty cell, a number in the fewest digits that read back exactly. -1 with
 * err on a database error. */
int slm_report_classes_csv(slm_store *st, const int64_t *run_ids, size_t n_runs, slm_buf *out,
                           char *err, size_t errlen);

#endif
