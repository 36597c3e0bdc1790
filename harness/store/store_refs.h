/*
 * store_refs.h — what a database holds, in words, for the messages that answer a run
 * reference that names nothing ("no run 'x'; the runs are ...").
 */
#ifndef SLM_STORE_REFS_H
#define SLM_STORE_REFS_H

#include "store.h"
#include "util.h"

/*
 * Appends to out the newest max runs of st, newest first, and its tags:
 * "3 'demo' (2026-12-06, complete), 2 'demo' (2026-12-05, failed), ... (7 runs); tags:
 * main -> 3". Appends nothing when the database holds no run. Returns the number of runs
 * (0 or more), or -1 with err.
 */
long slm_store_describe_runs(slm_store *st, size_t max, slm_buf *out, char *err,
                             size_t errlen);

#endif
