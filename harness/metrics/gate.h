/*
 * gate.h — CI regression gates (GATE.yaml) over stored runs. Absolute thresholds, and
 * relative checks against a baseline run that count only what is real: an accuracy drop
 * must be larger than allowed AND significant (McNemar on the paired examples); a latency
 * increase must be larger than allowed AND beyond the spread measured by repeats.
 *
 *   run: last                         # default; --run overrides
 *   candidates: [nb-1000-q8_0]        # default: every candidate of the run
 *   absolute:
 *     accuracy_min: 0.65
 *     macro_f1_min: 0.60
 *     class_recall_min: 0.30          # every label; or a mapping label: minimum
 *     ece_max: 0.10
 *     p95_ms_max: 50
 *     tokens_per_s_min: 1000
 *     invalid_rate_max: 0.01
 *   baseline:
 *     ref: main                       # tag, run id, run name or 'last'; --baseline overrides
 *     candidate: prod-q8_0            # the baseline's candidate (default: the same name);
 *                                     # without ref, a candidate of the gated run itself
 *     accuracy_drop_max_points: 1.0
 *     alpha: 0.05
 *     latency_increase_max_pct: 10
 *     latency_reference: ref-model    # a candidate run in both jobs (see below)
 *     latency_across_jobs: false      # judge raw p95 across jobs (quiet machines only)
 *     max_rate_at_slo: {min_ratio: 0.9} # load tests: the highest offered rate meeting the
 *                                     # SLO >= 0.9 x the baseline's (gate_load.h)
 *
 * max_rate_at_slo reads both load tests through load_read.h (the numbers `load` and
 * `report` show) and judges them with slm_gate_load_judge(); the gated run and the
 * baseline must both be load tests judged against the same SLO (SLM_GATE_INVALID when
 * either is not a load test or there is no baseline; not judged when the SLOs differ).
 *
 * Latency is compared like with like (latcmp.h). Latencies measured in different jobs
 * differ by the machine's load as much as by the model, so the latency check judges:
 *   - in the same job (baseline `candidate:` without `ref`): the candidate against the
 *     baseline model turn by turn (interleaved runs; a run that did not interleave is
 *     judged the same way only when its conditions were quiet);
 *   - across jobs with `latency_reference`: how much slower the candidate became relative
 *     to the reference candidate measured alongside it in each job (both interleaved);
 *   - across jobs with `latency_across_jobs: true`: the p95 ratio against the allowance and
 *     the repeat spread, only when neither run's conditions make latency meaningless (load
 *     average above the CPUs, steal above 5%, noisy repeats);
 *   - otherwise: not judged, and the detail says how to make it judgeable.
 * The paired comparisons are a one-sided test at `alpha`: the check fails when the whole
 * interval of the latency ratio (level 1 − 2·alpha) lies above 1 + allowed, passes when it
 * lies at or below, and is not judged when it straddles the allowance.
 *
 * A check is passed, failed, or not judged (nothing to judge, or too noisy to decide): a
 * not-judged check never fails the gate, and every rendering says it was not judged (the
 * JUnit output as a skipped test case).
 *
 * A baseline that cannot be compared with does not stop the gate (unless
 * require_baseline): a `ref` naming no run yet (the first run of a repository, before
 * `slmbench tag last main` on the main branch) or resolving to the gated run itself (the
 * tag and the gate on the same run). The absolute checks are judged, and every relative
 * check the file sets is added as not judged, with the reason (baseline_note).
 */
#ifndef SLM_GATE_H
#define SLM_GATE_H

#include "fields.h"
#include "store.h"
#include "util.h"

typedef struct slm_gate_check {
    char *candidate;
    char *name;       /* e.g. "accuracy_min", "class_recall_min[billing]", "accuracy_drop" */
    int passed;       /* 0 only when it failed */
    int judged;       /* 0 when not judged (passed is then 1): the detail says why */
    char *detail;     /* one line: value, threshold, test */
} slm_gate_check;

typedef struct slm_gate_result {
    int64_t run_id, baseline_id;   /* baseline_id 0 when none; run_id for `candidate:` alone */
    char *baseline_note; /* why the relative checks were not judged (no such run yet, the
                            gated run itself), or NULL */
    slm_gate_check *checks;
    size_t n, n_failed, n_skipped;
} slm_gate_result;

/* Outcomes of slm_gate_eval. */
enum { SLM_GATE_PASS = 0, SLM_GATE_FAIL = 1, SLM_GATE_INVALID = 3, SLM_GATE_ERROR = 4 };

/* What `slmbench gate` asks besides the gate file. */
typedef struct slm_gate_opts {
    const char *run_ref;      /* NULL: the file's `run`, else "last" */
    const char *baseline_ref; /* NULL: the file's `baseline: ref:` */
    const char *candidate;    /* judge only this candidate of the run (overrides the file's
                                 `candidates`); NULL: all */
    int allow_different;      /* compare runs on different eval-set or prompt hashes anyway */
    int require_baseline;     /* a ref naming no run, or the gated run itself, is an error */
} slm_gate_opts;

/* Evaluates the gate file with o. Returns SLM_GATE_*; on INVALID/ERROR err says why. */
int slm_gate_eval_opts(slm_store *st, const char *gate_path, const slm_gate_opts *o,
                       slm_gate_result *res, char *err, size_t errlen);

/* The same with only a run, a baseline and allow_different (the other options off). */
int slm_gate_eval(slm_store *st, const char *gate_path, const char *run_ref,
                  const char *baseline_ref, int allow_different, slm_gate_result *res,
                  char *err, size_t errlen);
void slm_gate_result_free(slm_gate_result *r);

/* Renderings of a result: reports/gate_report.h (slm_gate_markdown, _junit, _json). */

/* A named threshold of `absolute:` (accuracy_min, p95_ms_max, ...) and the field of
 * fields.c it bounds. */
typedef struct slm_gate_alias {
    const char *key, *field;
} slm_gate_alias;
extern const slm_gate_alias slm_gate_aliases[];
extern const size_t slm_gate_n_aliases;

/* The field a key of `absolute:` bounds: a named threshold, or <field>_min for a field
 * where higher is better, <field>_max where lower is better (e.g. recall_spread_max).
 * NULL when the key names no field or bounds it on the wrong side. */
const slm_field *slm_gate_threshold_field(const char *key);

/* Appends one absolute check to r: value against threshold (a minimum when is_min, else a
 * maximum; shown as percentages when as_pct). NaN threshold: no check; NaN value fails. */
void slm_gate_absolute(slm_gate_result *r, const char *cand, const char *name, double value,
                       double threshold, int is_min, int as_pct);

#endif
