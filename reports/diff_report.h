/*
 * diff_report.h — the examples whose prediction changed between two runs of a candidate
 * (`slmbench diff`): fixed (wrong -> right), broken (right -> wrong) and changed but still
 * wrong; a count table with the net change and McNemar's exact p over the discordant
 * pairs, a table by gold class, then the changed examples with id, gold, before, after,
 * both confidences and the text (read from the eval set file recorded with run B, cut to
 * SLM_DIFF_TEXT_CHARS characters with "…"; "–" where the file is gone).
 *
 * Examples are paired by example id. Runs on different eval-set data are compared on the
 * ids both have; how many were left out is in the output and in opts->warn. A failed
 * engine call counts as a wrong answer, as in the accuracy (shown "(engine error)", an
 * empty cell in the CSV), so the net change is the accuracy difference on the pairs.
 *
 * The builders append to out and write no file. Each returns 0 (also when nothing
 * changed: the output says "no changes"); 1 with err filled on a request the database
 * cannot answer (an unknown run; a candidate missing in a run: err names those it has;
 * no candidate given where a run has several); -1 with err on a database error.
 */
#ifndef SLM_DIFF_REPORT_H
#define SLM_DIFF_REPORT_H

#include "store.h"
#include "util.h"

typedef struct slm_diff_opts {
    const char *run_a, *run_b; /* "REF" or "REF:CANDIDATE"; REF as slm_store_resolve_run */
    const char *candidate;     /* the candidate of a side whose ref names none; NULL: the
                                * run's only candidate */
    long limit;                /* changed examples listed at most (0: all); the counts
                                * always cover every pair; CSV ignores it */
    slm_buf *warn;             /* may be NULL: one line per warning (data differ, ids left
                                * out, texts unavailable), for the command's stderr */
} slm_diff_opts;

int slm_diff_markdown(slm_store *st, const slm_diff_opts *o, slm_buf *out, char *err,
                      size_t errlen);

/* The same content as a self-contained HTML page (report_html.h's page). */
int slm_diff_html(slm_store *st, const slm_diff_opts *o, slm_buf *out, char *err,
                  size_t errlen);

/* One row per changed example: id,gold,kind,before,after,confidence_before,
 * confidence_after,text (kind: fixed, broken, changed; text in full); a header only when
 * nothing changed. */
int slm_diff_csv(slm_store *st, const slm_diff_opts *o, slm_buf *out, char *err,
                 size_t errlen);

#endif
