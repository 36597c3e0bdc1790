/*
 * report.h — reports of stored runs. They read the database only, never the engines.
 * Every number is written with '.' as the decimal separator whatever the locale.
 */
#ifndef SLM_REPORT_H
#define SLM_REPORT_H

#include "store.h"
#include "util.h"

/* The compact comparison table printed at the end of `slmbench run` (Markdown). */
int slm_report_summary_table(slm_store *st, int64_t run_id, slm_buf *out, char *err,
                             size_t errlen);

/* The full Markdown report of one or more runs (side by side when several). */
int slm_report_markdown(slm_store *st, const int64_t *run_ids, size_t n_runs, slm_buf *out,
                        char *err, size_t errlen);

/* Every stored metric per candidate, as a JSON document. */
int slm_report_json(slm_store *st, const int64_t *run_ids, size_t n_runs, slm_buf *out,
                    char *err, size_t errlen);

/* Escapes text for a Markdown table cell (|, <, >, &, backticks, newlines; control
 * characters as slm_ctl_esc). */
void slm_md_cell(slm_buf *b, const char *s);

/* Control characters from the data (model output, names) never reach a report or a
 * terminal: when s begins with a C0 control other than tab and line feed, or DEL, this
 * writes it visibly as \xHH (ESC is "\x1b"), when with a C1 control in UTF-8 (C2 80 to
 * C2 9F) as \u00HH, and returns the bytes consumed; otherwise it writes nothing and
 * returns 0. A lone byte 0x80-0x9f (not UTF-8) is left alone. */
size_t slm_ctl_esc(slm_buf *b, const char *s);

/* s with its control characters escaped as slm_ctl_esc, nothing else changed. */
void slm_ctl_text(slm_buf *b, const char *s);

#endif
