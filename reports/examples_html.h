/*
 * examples_html.h — the per-example page of a run: one row per example with its id, gold
 * label, each candidate's answer, whether it was right and its confidence, and the
 * example's text; filters by gold class, correctness and confidence range (of one chosen
 * candidate) and sortable columns, all in inline vanilla JavaScript under the reports'
 * no-network policy. `report --out` writes it as examples.html; `slmbench view` serves it
 * at /run/ID/examples.
 *
 * The filters can be given in the URL's fragment, read on load through the same code the
 * controls use, and kept there as they change (so a view can be bookmarked):
 *   examples.html#class=billing&correct=0&cand=NAME&cmin=0.5&cmax=0.9
 * class: a gold label; correct: 1 or 0; cand: the candidate the last three apply to (its
 * name; default the first); cmin, cmax: the confidence range, both ends included (an
 * example without a confidence is hidden while either is set).
 */
#ifndef SLM_EXAMPLES_HTML_H
#define SLM_EXAMPLES_HTML_H

#include <stdint.h>

#include "store.h"
#include "util.h"

/* Appends the whole page of run_id to out. Texts come from the run's split file (the path
 * as recorded) when it is there and its SHA-256 is the recorded one; otherwise the text
 * column shows "–" and a note says why. Returns 0, or -1 with err filled (no such run, a
 * database error); out may then hold part of a page. */
int slm_examples_html(slm_store *st, int64_t run_id, slm_buf *out, char *err, size_t errlen);

#endif
