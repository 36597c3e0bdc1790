/* fields.c — see fields.h. Order here is the order of reports and JSON. */
#include "fields.h"

#include <string.h>

#define LAT(p, t) {p "_mean", t " mean", "ms", -1, 0, 4}, {p "_p50", t " p50", "ms", -1, 0, 4},  \
                  {p "_p90", t " p90", "ms", -1, 0, 4}, {p "_p95", t " p95", "ms", -1, 0, 4},    \
                  {p "_p99", t " p99", "ms", -1, 0, 4}

const slm_field slm_fields[] = {
    {"n", "examples", "", 0, 0, 10},
    {"n_correct", "correct", "", 1, 0, 10},
    {"n_invalid", "invalid outputs", "", -1, 0, 10},
    {"n_errors", "engine errors", "", -1, 0, 10},
    {"accuracy", "accuracy", "", 1, 1, 4},
    {"macro_f1", "macro-F1", "", 1, 1, 4},
    {"micro_f1", "micro-F1", "", 1, 1, 4},
    {"weighted_f1", "weighted-F1", "", 1, 1, 4},
    {"invalid_rate", "invalid rate", "", -1, 1, 4},
    {"majority_rate", "majority-class rate", "", 0, 1, 4},
    {"ece_15", "ECE (15 equal-width bins)", "", -1, 0, 3},
    {"ece_15_mass", "ECE (15 equal-mass bins)", "", -1, 0, 3},
    {"mce_15", "MCE", "", -1, 0, 3},
    {"classwise_ece_15", "classwise ECE", "", -1, 0, 3},
    {"brier", "Brier", "", -1, 0, 3},
    {"nll", "NLL", "", -1, 0, 3},
    {"temperature", "fitted temperature", "", 0, 0, 4},
    {"calibration_n", "calibration examples", "", 0, 0, 10},
    {"ece_15_ts", "ECE after temperature scaling", "", -1, 0, 3},
    {"ece_15_mass_ts", "ECE (equal mass) after temperature scaling", "", -1, 0, 3},
    {"mce_15_ts", "MCE after temperature scaling", "", -1, 0, 3},
    {"brier_ts", "Brier after temperature scaling", "", -1, 0, 3},
    {"nll_ts", "NLL after temperature scaling", "", -1, 0, 3},
    {"aurc", "AURC", "", -1, 0, 3},
    {"coverage_at_0.90", "coverage at 90% accuracy", "", 1, 1, 3},
    {"coverage_at_0.90_threshold", "threshold for 90%", "", 0, 0, 3},
    {"coverage_at_0.95", "coverage at 95% accuracy", "", 1, 1, 3},
    {"coverage_at_0.95_threshold", "threshold for 95%", "", 0, 0, 3},
    {"coverage_at_0.99", "coverage at 99% accuracy", "", 1, 1, 3},
    {"coverage_at_0.99_threshold", "threshold for 99%", "", 0, 0, 3},
    {"cascade_threshold", "cascade threshold", "", 0, 0, 3},
    {"cascade_slm_share", "handled by the SLM alone", "", 0, 1, 3},
    {"cascade_slm_accuracy", "accuracy on that share", "", 1, 1, 3},
    {"cascade_accuracy", "cascade accuracy", "", 1, 1, 3},
    {"cascade_cost", "cascade cost", "", -1, 0, 4},
    {"cascade_cost_all_large", "cost, all to the large model", "", 0, 0, 4},
    {"cascade_cost_ratio", "cost ratio", "", -1, 1, 3},
    {"bootstrap_reps", "bootstrap replicates", "", 0, 0, 10},
    {"bootstrap_seed", "bootstrap seed", "", 0, 0, 20},
    LAT("e2e_ms", "end-to-end"),
    LAT("prefill_ms", "prefill"),
    LAT("decode_ms", "decode"),
    LAT("ttft_ms", "TTFT"),
    LAT("tpot_ms", "TPOT"),
    {"prompt_tokens_mean", "prompt tokens (mean)", "tok", 0, 0, 4},
    {"output_tokens_mean", "output tokens (mean)", "tok", 0, 0, 4},
    {"prefill_tokens_per_s", "prefill rate", "tok/s", 1, 0, 4},
    {"tokens_per_s", "tokens/s", "tok/s", 1, 0, 4},
    {"examples_per_s", "examples/s", "ex/s", 1, 0, 4},
    {"throughput_examples_per_s", "examples/s, throughput mode", "ex/s", 1, 0, 4},
    {"concurrency", "requests in flight at once", "", 0, 0, 5},
    {"concurrent_examples_per_s", "examples/s at that concurrency", "ex/s", 1, 0, 4},
    {"throughput_tokens_per_s", "tokens/s, throughput mode", "tok/s", 1, 0, 4},
    {"throughput_mismatches", "throughput predictions differing from single-stream", "", -1, 0, 10},
    {"load_ms", "model load", "ms", -1, 0, 4},
    {"flip_rate", "flip rate on re-run examples", "", -1, 1, 3},
    {"repeat_cv", "repeat spread (median CV of e2e)", "", -1, 1, 3},
    {"noisy", "noisy (repeat CV above 10%)", "", -1, 0, 1},
    {"wall_s", "wall time", "s", -1, 0, 4},
    {"peak_rss_mb", "peak resident memory", "MiB", -1, 0, 4},
    {"load1_before", "load average before", "", 0, 0, 3},
    {"load1_after", "load average after", "", 0, 0, 3},
    {"steal_pct", "CPU steal", "%", -1, 0, 3},
    {"instructions_per_token", "instructions per token", "", -1, 0, 4},
    {"cycles_per_token", "cycles per token", "", -1, 0, 4},
    {"ipc", "instructions per cycle", "", 1, 0, 3},
    {"cache_misses_per_kinstr", "cache misses per 1000 instructions", "", -1, 0, 3},
    {"branch_misses_per_kinstr", "branch misses per 1000 instructions", "", -1, 0, 3},
    {"cpu_utilisation", "CPU utilisation (CPUs busy during phases)", "", 0, 0, 3},
    {"task_clock_ms", "task-clock", "ms", 0, 0, 4},
    {"process_cpu_ms", "process CPU time", "ms", 0, 0, 4},
    {"task_clock_vs_cpu_time", "task-clock / process CPU time", "", 0, 0, 4},
    {"page_faults_per_example", "page faults per example", "", -1, 0, 3},
    {"context_switches_per_example", "context switches per example", "", -1, 0, 3},
    {"energy_per_token_j", "energy per token", "J", -1, 0, 3},
    {"bandwidth_gbs", "memory bandwidth (triad)", "GB/s", 0, 0, 4},
    {"prefill_gflops", "prefill achieved", "GFLOP/s", 1, 0, 4},
    {"decode_tokens_per_s", "decode rate", "tok/s", 1, 0, 4},
    {"decode_bound_tokens_per_s", "decode bound (bandwidth / model bytes)", "tok/s", 0, 0, 4},
    {"roofline_decode_pct", "decode as % of the bandwidth bound", "%", 1, 0, 3},
    {"engine_share", "share of wall time in engine calls", "", 0, 1, 4},
};
const size_t slm_n_fields = sizeof slm_fields / sizeof slm_fields[0];

const slm_field *slm_field_find(const char *name)
{
    for (size_t i = 0; i < slm_n_fields; i++)
        if (!strcmp(slm_fields[i].name, name))
            return &slm_fields[i];
    return NULL;
}
