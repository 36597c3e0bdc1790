/*
 * latpairs.h — the stored side of latency comparisons (latcmp.h does the statistics): a
 * candidate's per-example latencies, the turn its run interleaved with, whether its run's
 * conditions make latency meaningless outside its own turns, and which candidates of a run
 * are measurably faster than which — the one rule the gate's same-job check, the
 * recommendation and the accuracy–latency plot share.
 */
#ifndef SLM_LATPAIRS_H
#define SLM_LATPAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The end-to-end latency of each example of candidate cid by example index, into a
 * growing array *v of *n entries (NaN where the candidate has no answer). -1 on a read
 * error. */
int slm_cand_latencies(slm_store *st, int64_t cid, double **v, size_t *n);

/* Examples per turn of the candidate's run (0: candidates ran one after another, or
 * unknown). */
size_t slm_cand_turn(slm_store *st, int64_t cid);

/* CPU steal above this share of the time makes latency meaningless outside its turns. */
#define SLM_STEAL_MAX_PCT 5.0

/* 1, with why ("<what> ran at load average 3.10, above the 2 CPUs"), when the candidate's
 * latencies were measured in conditions that make them meaningless outside their own
 * turns: the load average above the machine's CPUs before or after it ran, CPU steal above
 * SLM_STEAL_MAX_PCT, or repeats flagged noisy — or when that cannot be known (no CPU count
 * recorded, the candidate unreadable). 0 quiet. The one rule of the gate, the
 * recommendation and drift. */
int slm_cand_unquiet(slm_store *st, int64_t cid, const char *what, char *why, size_t n);

/* The level of the pairwise intervals of slm_faster_matrix(). */
#define SLM_FASTER_LEVEL 0.95

/* faster[j * n + i] = 1 when candidate j is measurably faster than candidate i: its p95
 * is lower AND the 95% interval of the paired latency ratio j/i (latcmp.h, turn by turn)
 * lies below 1. In a run that did not interleave, the candidates' turns were minutes
 * apart: a difference counts only when no candidate ran in unquiet conditions; otherwise
 * nothing is faster than anything (every latency a tie). lat: the p95 of each (NaN:
 * none). note (may be NULL) gets one sentence saying which rule applied. Returns the n * n
 * matrix (free()). */
unsigned char *slm_faster_matrix(slm_store *st, const int64_t *cids, const double *lat,
                                 size_t n, char *note, size_t notelen);

#endif
