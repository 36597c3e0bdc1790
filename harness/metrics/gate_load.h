/*
 * gate_load.h — the load test's gate threshold (issue 18): the highest offered rate
 * meeting the SLO (slm_load_best_rate()) of a candidate against a baseline's, in the
 * gate file's `baseline:` section:
 *
 *   baseline:
 *     ref: main
 *     max_rate_at_slo: {min_ratio: 0.9}   # the candidate sustains >= 90% of the baseline's
 *
 * Judged with the best rates' intervals, so the noise of two sweeps does not fail a gate
 * (docs/loadstats.md, "The gate"):
 *   fails      when the candidate surely fails at a rate the baseline surely sustains,
 *              scaled: candidate hi <= min_ratio x baseline lo (both defined);
 *   passes     when the point estimates meet it: candidate rate >= min_ratio x baseline
 *              rate (both defined);
 *   not judged otherwise (the baseline meets the SLO at no rate or surely at none, the
 *              candidate's shortfall is within the intervals, the candidate meets it
 *              nowhere and surely fails nowhere).
 * slm_gate_eval() (gate.c) parses the key with slm_gate_load_parse(), reads both load
 * tests through load_read.h and adds the check "max_rate_at_slo" with the outcome and
 * detail of slm_gate_load_judge() (its outcomes are add()'s FAILS/PASSES/NOT_JUDGED).
 * gate.h is not included here so that gate.c can include this header without a cycle.
 */
#ifndef SLM_GATE_LOAD_H
#define SLM_GATE_LOAD_H

#include <stddef.h>

#include "loadstats.h"
#include "yamltree.h"

/* The outcomes of slm_gate_load_judge(), the values of gate.c's check states. */
enum { SLM_GATE_RATE_FAILS = 0, SLM_GATE_RATE_PASSES = 1, SLM_GATE_RATE_NOT_JUDGED = 2 };

/* Judges cand against base at min_ratio (> 0) as above; detail (NUL-terminated, cut to
 * len) gets one line with both rates, their intervals and the reason. Returns an
 * SLM_GATE_RATE_* outcome (NOT_JUDGED also for a min_ratio that is not > 0). */
int slm_gate_load_judge(const slm_load_best *cand, const slm_load_best *base, double min_ratio,
                        char *detail, size_t len);

/* Reads `max_rate_at_slo: {min_ratio: R}` from the mapping base (the gate file's
 * `baseline:`; NULL or without the key: *min_ratio NaN, 0). Returns 0, or -1 with err
 * "file:line: ..." for a value that is not a mapping, an unknown key, or a min_ratio that
 * is missing or not in (0, 10]. */
int slm_gate_load_parse(const slm_yaml *y, const slm_ynode *base, double *min_ratio, char *err,
                        size_t errlen);

#endif /* SLM_GATE_LOAD_H */
