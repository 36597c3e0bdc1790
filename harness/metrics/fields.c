/* fields.c — see fields.h. Order here is the order of reports and JSON. */
#include "fields.h"

#include <string.h>

#define CNT SLM_FMT_COUNT
#define PCT SLM_FMT_PCT
#define NUM SLM_FMT_NUM
/* Latency summaries: p the stored prefix, t the long title, c the short column title. */
#define LAT1(p, s, t, c) {p "_" s, t " " s, c " " s, "ms", -1, NUM, 4}
#define LAT(p, t, c) LAT1(p, "mean", t, c), LAT1(p, "p50", t, c), LAT1(p, "p90", t, c), \
                     LAT1(p, "p95", t, c), LAT1(p, "p99", t, c)
/* With repeats the summaries above are over every request (the samples table); these are
 * over the per-example medians (stored only then; without repeats they would repeat the
 * above). */
#define LATM1(p, s, t, c) {p "_" s "_of_medians", t " " s " of per-example medians", \
                           c " " s " (medians)", "ms", -1, NUM, 4}
#define LATM(p, t, c) LATM1(p, "mean", t, c), LATM1(p, "p50", t, c), LATM1(p, "p90", t, c), \
                      LATM1(p, "p95", t, c), LATM1(p, "p99", t, c)

const slm_field slm_fields[] = {
    {"n", "examples", NULL, "", 0, CNT, 10},
    {"n_correct", "correct", NULL, "", 1, CNT, 10},
    {"n_invalid", "invalid outputs", NULL, "", -1, CNT, 10},
    {"n_errors", "engine errors", NULL, "", -1, CNT, 10},
    {"accuracy", "accuracy", "accuracy", "", 1, PCT, 4},
    {"macro_f1", "macro-F1", "macro-F1", "", 1, PCT, 4},
    {"micro_f1", "micro-F1", NULL, "", 1, PCT, 4},
    {"weighted_f1", "weighted-F1", NULL, "", 1, PCT, 4},
    {"invalid_rate", "invalid rate", NULL, "", -1, PCT, 4},
    /* max - min recall over the labels with gold examples (metrics.h) */
    {"recall_spread", "per-class recall spread", "recall spread", "", -1, PCT, 3},
    {"majority_rate", "majority-class rate", NULL, "", 0, PCT, 4},
    {"ece_15", "ECE (15 equal-width bins)", NULL, "", -1, NUM, 3},
    {"ece_15_mass", "ECE (15 equal-mass bins)", NULL, "", -1, NUM, 3},
    {"mce_15", "MCE", NULL, "", -1, NUM, 3},
    {"classwise_ece_15", "classwise ECE", NULL, "", -1, NUM, 3},
    {"brier", "Brier", NULL, "", -1, NUM, 3},
    {"nll", "NLL", NULL, "", -1, NUM, 3},
    {"temperature", "fitted temperature", NULL, "", 0, NUM, 4},
    {"calibration_n", "calibration examples", NULL, "", 0, CNT, 10},
    {"ece_15_ts", "ECE after temperature scaling", NULL, "", -1, NUM, 3},
    {"ece_15_mass_ts", "ECE (equal mass) after temperature scaling", NULL, "", -1, NUM, 3},
    {"mce_15_ts", "MCE after temperature scaling", NULL, "", -1, NUM, 3},
    {"brier_ts", "Brier after temperature scaling", NULL, "", -1, NUM, 3},
    {"nll_ts", "NLL after temperature scaling", NULL, "", -1, NUM, 3},
    {"aurc", "AURC", NULL, "", -1, NUM, 3},
    {"coverage_at_0.90", "coverage at 90% accuracy", NULL, "", 1, PCT, 3},
    {"coverage_at_0.90_threshold", "threshold for 90%", NULL, "", 0, NUM, 3},
    {"coverage_at_0.95", "coverage at 95% accuracy", NULL, "", 1, PCT, 3},
    {"coverage_at_0.95_threshold", "threshold for 95%", NULL, "", 0, NUM, 3},
    {"coverage_at_0.99", "coverage at 99% accuracy", NULL, "", 1, PCT, 3},
    {"coverage_at_0.99_threshold", "threshold for 99%", NULL, "", 0, NUM, 3},
    /* rows left out of the metrics above (analysis.c calib_rows): calibration, selective
     * prediction and temperature scaling describe the rows with a confidence; Brier, NLL
     * and classwise ECE the rows with every label's probability */
    {"conf_missing", "rows without a confidence (left out of calibration)", "no confidence", "", -1, CNT, 10},
    {"probs_missing", "rows without probabilities (left out of Brier, NLL)", "no probabilities", "", -1, CNT, 10},
    {"cascade_threshold", "cascade threshold", "threshold", "", 0, NUM, 3},
    {"cascade_slm_share", "handled by the SLM alone", "handled by the SLM", "", 0, PCT, 3},
    {"cascade_slm_accuracy", "accuracy on that share", "accuracy on that share", "", 1, PCT, 3},
    {"cascade_escalation_accuracy", "accuracy of the escalation target", "escalation accuracy", "", 1, PCT, 3},
    {"cascade_accuracy", "cascade accuracy", "overall accuracy", "", 1, PCT, 3},
    {"cascade_cost", "cascade cost", "cost", "", -1, NUM, 4},
    {"cascade_cost_all_large", "cost, all to the large model", "cost, all to the large model", "", 0, NUM, 4},
    {"cascade_cost_ratio", "cost ratio", "cost ratio", "", -1, PCT, 3},
    {"bootstrap_reps", "bootstrap replicates", NULL, "", 0, CNT, 10},
    {"bootstrap_seed", "bootstrap seed", NULL, "", 0, CNT, 20},
    LAT("e2e_ms", "end-to-end", "e2e"),
    LAT("prefill_ms", "prefill", "prefill"),
    LAT("decode_ms", "decode", "decode"),
    LAT("ttft_ms", "TTFT", "TTFT"),
    LAT("tpot_ms", "TPOT", "TPOT"),
    LATM("e2e_ms", "end-to-end", "e2e"),
    LATM("prefill_ms", "prefill", "prefill"),
    LATM("decode_ms", "decode", "decode"),
    LATM("ttft_ms", "TTFT", "TTFT"),
    {"prompt_tokens_mean", "prompt tokens (mean)", "prompt tok", "tok", 0, NUM, 4},
    {"output_tokens_mean", "output tokens (mean)", NULL, "tok", 0, NUM, 4},
    {"prefill_tokens_per_s", "prefill rate", "prefill tok/s", "tok/s", 1, NUM, 4},
    {"tokens_per_s", "tokens/s", "tokens/s", "tok/s", 1, NUM, 4},
    {"examples_per_s", "examples/s", NULL, "ex/s", 1, NUM, 4},
    {"throughput_examples_per_s", "examples/s, throughput mode", NULL, "ex/s", 1, NUM, 4},
    {"concurrency", "requests in flight at once", NULL, "", 0, CNT, 5},
    {"concurrent_examples_per_s", "examples/s at that concurrency", NULL, "ex/s", 1, NUM, 4},
    {"throughput_tokens_per_s", "tokens/s, throughput mode", NULL, "tok/s", 1, NUM, 4},
    {"throughput_mismatches", "throughput predictions differing from single-stream", NULL, "", -1, CNT, 10},
    {"load_ms", "model load", NULL, "ms", -1, NUM, 4},
    {"flip_rate", "flip rate on re-run examples", NULL, "", -1, PCT, 3},
    {"repeat_cv", "repeat spread (median CV of e2e)", NULL, "", -1, PCT, 3},
    {"noisy", "noisy (repeat CV above 10%)", NULL, "", -1, CNT, 1},
    {"wall_s", "wall time", NULL, "s", -1, NUM, 4},
    {"peak_rss_mb", "peak resident memory", NULL, "MiB", -1, NUM, 4},
    {"load1_before", "load average before", NULL, "", 0, NUM, 3},
    {"load1_after", "load average after", NULL, "", 0, NUM, 3},
    {"steal_pct", "CPU steal", NULL, "%", -1, NUM, 3},
    {"instructions_per_token", "instructions per token", "instructions/token", "", -1, NUM, 4},
    {"cycles_per_token", "cycles per token", "cycles/token", "", -1, NUM, 4},
    {"ipc", "instructions per cycle", "IPC", "", 1, NUM, 3},
    {"cache_misses_per_kinstr", "cache misses per 1000 instructions", "cache misses/1k instr", "", -1, NUM, 3},
    {"branch_misses_per_kinstr", "branch misses per 1000 instructions", "branch misses/1k instr", "", -1, NUM, 3},
    {"cpu_utilisation", "CPU utilisation (CPUs busy during phases)", "CPU utilisation", "", 0, NUM, 3},
    {"task_clock_ms", "task-clock", NULL, "ms", 0, NUM, 4},
    {"process_cpu_ms", "process CPU time", NULL, "ms", 0, NUM, 4},
    {"task_clock_vs_cpu_time", "task-clock / process CPU time", "task-clock / process CPU", "", 0, NUM, 4},
    {"page_faults_per_example", "page faults per example", "page faults/example", "", -1, NUM, 3},
    {"context_switches_per_example", "context switches per example", "context switches/example", "", -1, NUM, 3},
    {"energy_per_token_j", "energy per token", "energy/token J", "J", -1, NUM, 3},
    {"bandwidth_gbs", "memory bandwidth (triad)", NULL, "GB/s", 0, NUM, 4},
    {"prefill_gflops", "prefill achieved", NULL, "GFLOP/s", 1, NUM, 4},
    {"decode_tokens_per_s", "decode rate", NULL, "tok/s", 1, NUM, 4},
    {"decode_bound_tokens_per_s", "decode bound (bandwidth / model bytes)", NULL, "tok/s", 0, NUM, 4},
    {"roofline_decode_pct", "decode as % of the bandwidth bound", NULL, "%", 1, NUM, 3},
    {"engine_share", "share of wall time in engine calls", "engine share", "", 0, PCT, 4},
    /* JSON tasks (structured outputs, extraction): aggregate.c slm_structured_metrics */
    {"field_precision", "field precision (non-null fields)", NULL, "", 1, PCT, 4},
    {"field_recall", "field recall (non-null fields)", NULL, "", 1, PCT, 4},
    {"field_f1", "field F1 (non-null fields)", NULL, "", 1, PCT, 4},
    {"field_accuracy.", "share of answers with this field right", NULL, "", 1, PCT, 4},
    {"field_f1.", "F1 of this field (non-null values)", NULL, "", 1, PCT, 4},
    {"fail.", "answers with this failure kind", NULL, "", -1, CNT, 10},
};
const size_t slm_n_fields = sizeof slm_fields / sizeof slm_fields[0];

const char *const slm_summary_fields[] = {"accuracy", "macro_f1", "e2e_ms_p50", "e2e_ms_p95",
                                          "tokens_per_s"};
const size_t slm_n_summary_fields = sizeof slm_summary_fields / sizeof slm_summary_fields[0];

const slm_field *slm_field_find(const char *name)
{
    for (size_t i = 0; i < slm_n_fields; i++)
        if (!strcmp(slm_fields[i].name, name))
            return &slm_fields[i];
    return NULL;
}

int slm_field_is_family(const slm_field *f)
{
    size_t n = strlen(f->name);
    return n && f->name[n - 1] == '.';
}

const slm_field *slm_field_lookup(const char *name)
{
    const slm_field *f = slm_field_find(name);
    if (f)
        return slm_field_is_family(f) ? NULL : f; /* "fail." alone names no metric */
    for (size_t i = 0; i < slm_n_fields; i++) {
        size_t n = strlen(slm_fields[i].name);
        if (slm_field_is_family(&slm_fields[i]) && !strncmp(slm_fields[i].name, name, n) &&
            name[n])
            return &slm_fields[i];
    }
    return NULL;
}

const char *slm_field_col(const slm_field *f)
{
    return f->col ? f->col : f->title;
}
