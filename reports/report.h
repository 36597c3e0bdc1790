/*
 * report.h — reports of stored runs. They read the database only, never the engines.
 * Every number is written with '.' as the decimal separator whatever the locale.
 */
#ifndef SLM_REPORT_H
#define SLM_REPORT_H

#include "store.h"
#include "util.h"
#include "ctlesc.h" /* slm_ctl_esc, slm_ctl_text: the one control-character escaper */
#include "mdfmt.h"  /* slm_md_cell: the one Markdown cell escaper */

/* The compact comparison table printed at the end of `slmbench run` (Markdown). */
int slm_report_summary_table(slm_store *st, int64_t run_id, slm_buf *out, char *err,
                             size_t errlen);

/* The full Markdown report of one or more runs (side by side when several). */
int slm_report_markdown(slm_store *st, const int64_t *run_ids, size_t n_runs, slm_buf *out,
                        char *err, size_t errlen);

/* The "## Run N: name" heading and table of a run's identity (status, eval set, hashes,
 * mode, times, versions, host), as the full report opens each run; the load test's
 * report (cmd_report.c) opens with it too. */
int slm_report_run_header(slm_store *st, int64_t run_id, slm_buf *out, char *err,
                          size_t errlen);

/* Every stored metric per candidate, as a JSON document. */
int slm_report_json(slm_store *st, const int64_t *run_ids, size_t n_runs, slm_buf *out,
                    char *err, size_t errlen);

#endif
