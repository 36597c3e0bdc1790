/*
 * report_classes.h — the per-candidate part of the Markdown report: per-class results,
 * confusion matrix and reliability table of each candidate of a run.
 */
#ifndef SLM_REPORT_CLASSES_H
#define SLM_REPORT_CLASSES_H

#include "store_reports.h"
#include "util.h"

/* Appends to b, for every candidate of run r, a "### name" section: its error if any,
 * its per-class table, confusion matrix and reliability bins. Reads the store only; a
 * candidate whose rows cannot be read gets the sections it has. */
void slm_report_classes_md(slm_store *st, const slm_run_facts *r, slm_buf *b);

#endif
