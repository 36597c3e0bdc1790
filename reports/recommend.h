/*
 * recommend.h — the recommendation that opens a run's report: which candidate to pick,
 * why, and why not each of the others (the accuracy–p95-latency Pareto front of pareto.h,
 * the run's requirements).
 */
#ifndef SLM_RECOMMEND_H
#define SLM_RECOMMEND_H

#include "store.h"
#include "store_reports.h"
#include "util.h"

/* The "### Recommendation" section of run r (nothing when it has no candidate). */
void slm_recommend_md(slm_store *st, const slm_run_facts *r, slm_buf *b);

#endif
