/*
 * merge.h — joins the databases of a sharded run (run --shard I/N on many machines) into
 * one run whose metrics are recomputed over all examples, equal to an unsharded run's.
 */
#ifndef SLM_MERGE_H
#define SLM_MERGE_H

#include <stddef.h>
#include <stdint.h>

/* Merges the newest run of each input database into a new run in out_path (created if
 * missing). The inputs must be shards of one config (same config and data hashes, the
 * same N, every index 0..N-1 exactly once) unless partial is set. *run_id is the new run.
 * Returns 0, or -1 with err; *bad_input tells an input problem (exit 3) from a failure. */
int slm_merge(const char *out_path, const char *const *inputs, size_t n_inputs, int partial,
              int64_t *run_id, int *bad_input, char *err, size_t errlen);

#endif
