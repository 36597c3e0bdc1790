/*
 * run_scope.h — what a run evaluated, in words for a report's header: every example of
 * its split, one shard of them (run --shard I/N) or the sample `limit` drew.
 *
 *   24 examples
 *   616 of 3,080 examples (shard 1/5)
 *   200 examples (limit: 200 of 3,080, stratified by label, seed 1)
 *   100 of 200 examples (shard 0/2; limit: 200 of 3,080, stratified by label, seed 1)
 *
 * The examples scored are those the run stored (a shard stores its own; a merge of the
 * shards holds them all again); the whole is the eval set row's n_rows (what the run set
 * out to evaluate, after limit), the split before the sample its split_n_rows (schema
 * 14; a run stored before says "200 examples (limit: stratified by label, seed 1)"). The
 * shard and the limit come from the run row (its `shard` and its config as written).
 */
#ifndef SLM_RUN_SCOPE_H
#define SLM_RUN_SCOPE_H

#include "store.h"
#include "util.h"

/* Appends the phrase for run_id to b; n_rows is the eval set row's (slm_run_facts). */
void slm_report_run_scope(slm_store *st, int64_t run_id, long n_rows, slm_buf *b);

#endif
