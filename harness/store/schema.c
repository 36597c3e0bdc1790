/* schema.c — see schema.h. The declarations below are the only place a column is named
 * with its type; store.c, merge.c and the migrations read them. */
#include "store_int.h"
#include "schema.h"
#include "fields.h"

#include <string.h>

/* One line per migration, in order: MIGRATION_NOTES[v - 1] says what version v brought.
 * Append only; the schema version is their number. */
static const char *const MIGRATION_NOTES[] = {
    "the first schema: runs, eval sets, examples, candidates, predictions, metrics",
    "calibration, selective prediction, paired comparisons",
    "latency rigour, hardware counters, roofline",
    "flakiness",
    "structured outputs",
    "shards and merged runs",
    "requests in flight at once",
    "real models: chat template as rendered, context sized from the eval set, KV-cache "
    "bytes, GPU offload",
    "latency compared like with like: the run's interleaving turn",
    "honest comparisons: the bootstrap replicates of the macro-F1 difference that crossed 0 "
    "(0: its p is the floor 2/(B+1)) and the size of the Holm family (every pair)",
    "production logs: deployments tied to an eval run's candidate, production predictions, "
    "the ingest log; runs.as_of (the date a run is dated to)",
    "audit samples of a production month (slmbench sample): the draw and, per row, its "
    "stratum and inclusion probability",
    "load tests (slmbench load): a run's levels (profile, offered rate, status) and every "
    "request of a level (phase, schedule, TTFT, E2E, gaps, status, the judged answer)",
    "limit's sample: the split's whole size before the sample (evalsets.split_n_rows)",
};
_Static_assert(sizeof MIGRATION_NOTES / sizeof MIGRATION_NOTES[0] == SLM_SCHEMA_VERSION,
               "SLM_SCHEMA_VERSION must equal the number of migrations");

/* Column makers: C copies, then the merge rules of schema.h. */
#define C(n, d, v) {n, d, v, SLM_MERGE_COPY, NULL}
#define ID(n, d) {n, d, 1, SLM_MERGE_ID, NULL}
#define RUN(n, d) {n, d, 1, SLM_MERGE_RUN, NULL}
#define CAND(n, d) {n, d, 1, SLM_MERGE_CAND, NULL}
#define SET(n, d, v, x) {n, d, v, SLM_MERGE_SET, x}
#define SUM(n, d, v) {n, d, v, SLM_MERGE_SUM, NULL}
#define MAX(n, d, v) {n, d, v, SLM_MERGE_MAX, NULL}

#define CAND_REF "INTEGER NOT NULL REFERENCES candidates(id)"

static const slm_col RUNS[] = {
    ID("id", "INTEGER PRIMARY KEY"),
    C("name", "TEXT NOT NULL", 1),
    SET("tag", "TEXT", 1, "NULL"), /* a tag names one run of one database */
    SET("status",
        "TEXT NOT NULL CHECK (status IN ('running','complete','interrupted','failed'))", 1,
        "'running'"), /* until every metric is recomputed */
    C("created_at", "TEXT NOT NULL", 1),
    C("finished_at", "TEXT", 1),
    C("mode", "TEXT NOT NULL", 1),
    C("config_path", "TEXT", 1),
    C("config_text", "TEXT NOT NULL", 1),
    C("config_sha256", "TEXT NOT NULL", 1),
    C("harness_version", "TEXT NOT NULL", 1),
    C("git_rev", "TEXT", 1),
    C("host_json", "TEXT", 1),
    C("quantization_policy", "TEXT", 1),
    SET("error", "TEXT", 1, "NULL"),
    C("bandwidth_gbs", "REAL", 3),
    SET("shard", "TEXT", 6, "NULL"),       /* the merged run is whole */
    SET("merged_from", "TEXT", 6, "NULL"), /* written once every shard is in */
    C("interleave_turn", "INTEGER", 9), /* examples per turn; 0 one candidate after another */
    C("as_of", "TEXT", 11), /* the date the run is dated to (run --as-of); NULL: created_at */
};

static const slm_col EVALSETS[] = {
    RUN("run_id", "INTEGER NOT NULL REFERENCES runs(id)"),
    C("name", "TEXT NOT NULL", 1),
    C("version", "TEXT", 1),
    C("split", "TEXT NOT NULL", 1),
    C("path", "TEXT NOT NULL", 1),
    C("sha256", "TEXT NOT NULL", 1),
    C("n_rows", "INTEGER NOT NULL", 1),
    C("n_skipped", "INTEGER NOT NULL DEFAULT 0", 1),
    C("labels_json", "TEXT NOT NULL", 1),
    C("prompt_path", "TEXT", 1),
    C("prompt_template", "TEXT NOT NULL", 1),
    C("prompt_sha256", "TEXT NOT NULL", 1),
    C("choice_prefix", "TEXT", 1),
    C("calib_split", "TEXT", 2),
    C("calib_path", "TEXT", 2),
    C("calib_sha256", "TEXT", 2),
    C("calib_n_rows", "INTEGER", 2),
    C("task", "TEXT", 5),
    C("fields_json", "TEXT", 5),
    C("few_shot_ids", "TEXT", 5),
    C("split_n_rows", "INTEGER", 14), /* the split before `limit` drew its sample */
};

static const slm_col EXAMPLES[] = {
    RUN("run_id", "INTEGER NOT NULL REFERENCES runs(id)"),
    C("idx", "INTEGER NOT NULL", 1),
    C("example_id", "TEXT NOT NULL", 1),
    C("label", "TEXT NOT NULL", 1),
    C("line", "INTEGER", 1),
    C("prompt_sha256", "TEXT NOT NULL", 1),
};

/* A merged candidate ran on several machines: its times and counts add up, its peaks
 * and its worst steal are the largest shard's, its facts are the first shard's. */
static const slm_col CANDIDATES[] = {
    ID("id", "INTEGER PRIMARY KEY"),
    RUN("run_id", "INTEGER NOT NULL REFERENCES runs(id)"),
    C("idx", "INTEGER NOT NULL", 1),
    C("name", "TEXT NOT NULL", 1),
    C("engine", "TEXT NOT NULL", 1),
    C("engine_version", "TEXT", 1),
    C("model_path", "TEXT", 1),
    C("model_sha256", "TEXT", 1),
    C("arch", "TEXT", 1),
    C("model_name", "TEXT", 1),
    C("n_params", "INTEGER", 1),
    C("size_bytes", "INTEGER", 1),
    C("quant", "TEXT", 1),
    C("n_ctx", "INTEGER", 1),
    C("n_ctx_train", "INTEGER", 1),
    C("n_vocab", "INTEGER", 1),
    C("n_layer", "INTEGER", 1),
    C("n_embd", "INTEGER", 1),
    C("n_threads", "INTEGER", 1),
    C("chat_template", "TEXT", 1),
    C("chat_template_used", "INTEGER NOT NULL DEFAULT 0", 1),
    C("options_json", "TEXT", 1),
    C("caps", "TEXT", 1),
    SET("status", "TEXT NOT NULL CHECK (status IN ('pending','running','ok','failed'))", 1,
        "'ok'"),
    SET("error", "TEXT", 1, "NULL"),
    C("load_ms", "REAL", 1),
    SUM("wall_ms", "REAL", 1),
    SUM("engine_ms", "REAL", 1),
    C("load1_before", "REAL", 3), /* the first shard's: one machine's load, not a sum */
    C("load1_after", "REAL", 3),
    MAX("steal_pct", "REAL", 3),  /* the worst machine is what makes timings suspect */
    C("repeats", "INTEGER", 3),
    MAX("peak_rss_kb", "INTEGER", 3), /* each shard is its own process */
    SUM("throughput_s", "REAL", 3),   /* total examples over total seconds, like wall_ms */
    SUM("throughput_tokens", "REAL", 3),
    SUM("throughput_n", "INTEGER", 3),
    SUM("throughput_mismatches", "INTEGER", 3),
    SUM("repeat_check_n", "INTEGER", 4),
    SUM("repeat_check_flips", "INTEGER", 4),
    C("constrained", "INTEGER NOT NULL DEFAULT 0", 5),
    C("concurrency", "INTEGER NOT NULL DEFAULT 1", 7),
    SUM("concurrent_s", "REAL", 7),
    SUM("concurrent_n", "INTEGER", 7),
    C("chat_template_sha256", "TEXT", 8),
    C("chat_probe_sha256", "TEXT", 8),
    C("n_ctx_need", "INTEGER", 8),
    C("kv_bytes", "INTEGER", 8),
    C("n_gpu_layers", "INTEGER", 8),
    C("device", "TEXT", 8),
};

static const slm_col PREDICTIONS[] = {
    RUN("run_id", "INTEGER NOT NULL"),
    CAND("candidate_id", CAND_REF),
    C("example_idx", "INTEGER NOT NULL", 1),
    C("example_id", "TEXT NOT NULL", 1),
    C("gold", "TEXT NOT NULL", 1),
    C("pred", "TEXT", 1),
    C("raw_output", "TEXT", 1),
    C("correct", "INTEGER NOT NULL", 1),
    C("valid", "INTEGER NOT NULL", 1),
    C("confidence", "REAL", 1),
    C("probs_json", "TEXT", 1),
    C("logprobs_json", "TEXT", 1),
    C("ntok_json", "TEXT", 1),
    C("n_prompt_tokens", "INTEGER", 1),
    C("n_output_tokens", "INTEGER", 1),
    C("e2e_ms", "REAL", 1),
    C("prefill_ms", "REAL", 1),
    C("decode_ms", "REAL", 1),
    C("ttft_ms", "REAL", 1),
    C("tpot_ms", "REAL", 1),
    C("error", "TEXT", 1),
    C("probs_mean_json", "TEXT", 2),
    C("fail_kinds", "TEXT", 5),
    C("rendered_sha256", "TEXT", 8),
};

static const slm_col METRICS[] = {
    RUN("run_id", "INTEGER NOT NULL"),
    CAND("candidate_id", CAND_REF),
    C("name", "TEXT NOT NULL", 1),
    C("value", "REAL", 1),
    C("lo", "REAL", 1),
    C("hi", "REAL", 1),
    C("n", "INTEGER", 1),
};

static const slm_col PER_CLASS[] = {
    RUN("run_id", "INTEGER NOT NULL"),
    CAND("candidate_id", CAND_REF),
    C("label", "TEXT NOT NULL", 1),
    C("in_label_set", "INTEGER NOT NULL", 1),
    C("precision", "REAL", 1),
    C("recall", "REAL", 1),
    C("f1", "REAL", 1),
    C("support", "INTEGER", 1),
    C("predicted", "INTEGER", 1),
};

static const slm_col CONFUSION[] = {
    RUN("run_id", "INTEGER NOT NULL"),
    CAND("candidate_id", CAND_REF),
    C("gold", "TEXT NOT NULL", 1),
    C("pred", "TEXT NOT NULL", 1),
    C("count", "INTEGER NOT NULL", 1),
};

static const slm_col TAGS[] = {
    C("name", "TEXT PRIMARY KEY", 1),
    RUN("run_id", "INTEGER NOT NULL REFERENCES runs(id)"),
    C("created_at", "TEXT NOT NULL", 1),
};

static const slm_col RELIABILITY[] = {
    {"run_id", "INTEGER NOT NULL", 2, SLM_MERGE_RUN, NULL},
    {"candidate_id", CAND_REF, 2, SLM_MERGE_CAND, NULL},
    C("scheme", "TEXT NOT NULL CHECK (scheme IN ('width','mass'))", 2),
    C("bin", "INTEGER NOT NULL", 2),
    C("count", "INTEGER NOT NULL", 2),
    C("confidence", "REAL", 2),
    C("accuracy", "REAL", 2),
};

static const slm_col CURVES[] = {
    {"run_id", "INTEGER NOT NULL", 2, SLM_MERGE_RUN, NULL},
    {"candidate_id", CAND_REF, 2, SLM_MERGE_CAND, NULL},
    C("curve", "TEXT NOT NULL", 2),
    C("idx", "INTEGER NOT NULL", 2),
    C("x", "REAL", 2),
    C("y", "REAL", 2),
    C("threshold", "REAL", 2),
};

static const slm_col COMPARISONS[] = {
    {"run_id", "INTEGER NOT NULL", 2, SLM_MERGE_RUN, NULL},
    {"candidate_id", CAND_REF, 2, SLM_MERGE_CAND, NULL},
    {"baseline_id", CAND_REF, 2, SLM_MERGE_CAND, NULL},
    C("n", "INTEGER NOT NULL", 2),
    C("b", "INTEGER NOT NULL", 2),
    C("c", "INTEGER NOT NULL", 2),
    C("accuracy_diff", "REAL", 2),
    C("mcnemar_p", "REAL", 2),
    C("mcnemar_exact", "INTEGER", 2),
    C("macro_f1_diff", "REAL", 2),
    C("macro_f1_diff_lo", "REAL", 2),
    C("macro_f1_diff_hi", "REAL", 2),
    C("macro_f1_p", "REAL", 2),
    C("mcnemar_p_holm", "REAL", 2),
    C("macro_f1_p_holm", "REAL", 2),
    C("seed", "INTEGER", 2),
    C("reps", "INTEGER", 2),
    C("macro_f1_crossed", "INTEGER", 10), /* NULL: no bootstrap (or a database before 10) */
    C("holm_family", "INTEGER", 10),      /* p-values the Holm adjustment ran over */
};

static const slm_col CALIB_PREDICTIONS[] = {
    {"run_id", "INTEGER NOT NULL", 2, SLM_MERGE_RUN, NULL},
    {"candidate_id", CAND_REF, 2, SLM_MERGE_CAND, NULL},
    C("example_idx", "INTEGER NOT NULL", 2),
    C("example_id", "TEXT NOT NULL", 2),
    C("gold", "TEXT NOT NULL", 2),
    C("logprobs_json", "TEXT", 2),
    C("ntok_json", "TEXT", 2),
    C("error", "TEXT", 2),
};

static const slm_col SAMPLES[] = {
    {"run_id", "INTEGER NOT NULL", 3, SLM_MERGE_RUN, NULL},
    {"candidate_id", CAND_REF, 3, SLM_MERGE_CAND, NULL},
    C("example_idx", "INTEGER NOT NULL", 3),
    C("rep", "INTEGER NOT NULL", 3),
    C("e2e_ms", "REAL", 3),
    C("prefill_ms", "REAL", 3),
    C("decode_ms", "REAL", 3),
    C("ttft_ms", "REAL", 3),
};

static const slm_col COUNTER_EVENTS[] = {
    {"run_id", "INTEGER NOT NULL", 3, SLM_MERGE_RUN, NULL},
    C("event", "TEXT NOT NULL", 3),
    C("source", "TEXT NOT NULL", 3),
    C("unit", "TEXT", 3),
    C("reason", "TEXT", 3),
};

static const slm_col COUNTERS[] = {
    {"run_id", "INTEGER NOT NULL", 3, SLM_MERGE_RUN, NULL},
    {"candidate_id", CAND_REF, 3, SLM_MERGE_CAND, NULL},
    C("example_idx", "INTEGER NOT NULL", 3),
    C("phase", "TEXT NOT NULL", 3),
    C("event", "TEXT NOT NULL", 3),
    C("value", "REAL", 3),
    C("scale", "REAL", 3),
};

/* Production logs (slmbench ingest, deploy; store_prod.h). Per database, never merged. */

/* A deployment: a name, and the eval run's candidate that was shipped (NULL until tied). */
static const slm_col DEPLOYMENTS[] = {
    C("id", "INTEGER PRIMARY KEY", 11),
    C("name", "TEXT NOT NULL UNIQUE", 11),
    C("run_id", "INTEGER REFERENCES runs(id)", 11),
    C("candidate_id", "INTEGER REFERENCES candidates(id)", 11),
    C("evalset_sha256", "TEXT", 11), /* the tied run's eval set data, at tie time */
    C("labels_json", "TEXT", 11),    /* its label set: pred outside it is counted */
    C("created_at", "TEXT NOT NULL", 11),
    C("tied_at", "TEXT", 11),
};

/* Every tie of a deployment to a run's candidate, the first and each forced re-tie. */
static const slm_col DEPLOYMENT_TIES[] = {
    C("deployment_id", "INTEGER NOT NULL REFERENCES deployments(id)", 11),
    C("run_id", "INTEGER NOT NULL REFERENCES runs(id)", 11),
    C("candidate_id", "INTEGER NOT NULL REFERENCES candidates(id)", 11),
    C("tied_at", "TEXT NOT NULL", 11),
    C("forced", "INTEGER NOT NULL DEFAULT 0", 11), /* 1: replaced an earlier tie */
};

/* One ingest call: what it read and what became of each row. Updated at every batch
 * commit, so a killed ingest leaves its counts up to its last commit (status running). */
static const slm_col INGESTS[] = {
    C("id", "INTEGER PRIMARY KEY", 11),
    C("deployment_id", "INTEGER NOT NULL REFERENCES deployments(id)", 11),
    C("path", "TEXT NOT NULL", 11),
    C("file_sha256", "TEXT", 11), /* of the bytes read: NULL until the end of the file */
    C("format", "TEXT NOT NULL", 11),
    C("status", "TEXT NOT NULL CHECK (status IN ('running','complete','interrupted','failed'))", 11),
    C("started_at", "TEXT NOT NULL", 11),
    C("finished_at", "TEXT", 11),
    C("rows_read", "INTEGER NOT NULL DEFAULT 0", 11),
    C("added", "INTEGER NOT NULL DEFAULT 0", 11),
    C("already_present", "INTEGER NOT NULL DEFAULT 0", 11),
    C("conflicting", "INTEGER NOT NULL DEFAULT 0", 11),
    C("bad_rows", "INTEGER NOT NULL DEFAULT 0", 11),
    C("out_of_order", "INTEGER NOT NULL DEFAULT 0", 11),
    C("unknown_labels", "INTEGER NOT NULL DEFAULT 0", 11),
    C("last_line", "INTEGER", 11), /* the last line committed: where a rerun has got to */
    C("error", "TEXT", 11),
};

/* One production prediction. probs_json is a JSON object label -> p rather than a column
 * per label: label sets differ between deployments (up to thousands of labels), and
 * columns are declared once here, not per deployment. ts is RFC 3339 normalised to UTC
 * with milliseconds ("2026-11-03T09:15:00.250Z"), so text order is time order. */
static const slm_col PROD_PREDICTIONS[] = {
    C("deployment_id", "INTEGER NOT NULL REFERENCES deployments(id)", 11),
    C("log_id", "TEXT NOT NULL", 11), /* the log's own id */
    C("ts", "TEXT NOT NULL", 11),
    C("month", "TEXT NOT NULL", 11), /* 'YYYY-MM' of ts (UTC) */
    C("pred", "TEXT NOT NULL", 11),
    C("confidence", "REAL NOT NULL", 11),
    C("probs_json", "TEXT", 11),
    C("latency_ms", "REAL", 11),
    C("escalated", "INTEGER", 11), /* 0, 1, NULL: not logged */
    C("corrected_label", "TEXT", 11),
    C("model", "TEXT", 11),
    C("text", "TEXT", 11), /* NULL with ingest --no-text */
    C("text_sha256", "TEXT", 11),
    C("text_bytes", "INTEGER", 11),
    C("text_words", "INTEGER", 11),
    C("tags_json", "TEXT", 11), /* the row's other fields, a JSON object */
    C("content_sha256", "TEXT NOT NULL", 11), /* of every field above but the text itself */
    C("source_file", "TEXT NOT NULL", 11),
    C("source_line", "INTEGER NOT NULL", 11),
    C("ingest_id", "INTEGER REFERENCES ingests(id)", 11),
};

/* An audit sample drawn from one month of a deployment's log (slmbench sample). design:
 * 'srs' (random), 'stratified' (by predicted label), 'poisson' (low-confidence,
 * disagreement: each row drawn on its own with probability inclusion_prob). */
static const slm_col AUDIT_SAMPLES[] = {
    C("id", "INTEGER PRIMARY KEY", 12),
    C("deployment_id", "INTEGER NOT NULL REFERENCES deployments(id)", 12),
    C("month", "TEXT NOT NULL", 12),
    C("strategy", "TEXT NOT NULL", 12),
    C("design", "TEXT NOT NULL CHECK (design IN ('srs','stratified','poisson'))", 12),
    C("seed", "INTEGER NOT NULL", 12),
    C("n", "INTEGER NOT NULL", 12),          /* requested (poisson: the expected size) */
    C("n_drawn", "INTEGER NOT NULL", 12),
    C("population", "INTEGER NOT NULL", 12), /* rows of the month */
    C("created_at", "TEXT NOT NULL", 12),
};

/* One row of an audit sample: the production row, its stratum (the predicted label;
 * 'all' without strata), the stratum's rows in the month and the probability that the
 * draw included this row. */
static const slm_col AUDIT_SAMPLE_ROWS[] = {
    C("sample_id", "INTEGER NOT NULL REFERENCES audit_samples(id)", 12),
    C("log_id", "TEXT NOT NULL", 12),
    C("stratum", "TEXT NOT NULL", 12),
    C("stratum_size", "INTEGER NOT NULL", 12),
    C("inclusion_prob", "REAL NOT NULL", 12),
};

/* Load tests (slmbench load; store_load.h). A load test is a run (mode 'load') whose
 * candidates are driven level after level; never sharded, so never merged. */

/* One level: a profile at one offered rate or concurrency. t0 is when the level began
 * (UTC); every time of its requests counts from it. A level stopped before its end is
 * 'incomplete' (a resumed load test runs it again from scratch: its statistics need one
 * continuous window); 'saturated' ends a sweep. */
static const slm_col LOAD_LEVELS[] = {
    C("id", "INTEGER PRIMARY KEY", 13),
    C("run_id", "INTEGER NOT NULL REFERENCES runs(id)", 13),
    C("candidate_id", "INTEGER NOT NULL REFERENCES candidates(id)", 13),
    C("idx", "INTEGER NOT NULL", 13),
    C("profile", "TEXT NOT NULL CHECK (profile IN ('synchronous','concurrent','constant',"
                 "'poisson'))", 13),
    C("offered_rps", "REAL", 13),  /* NULL for a closed loop */
    C("concurrency", "INTEGER NOT NULL", 13), /* in flight at most (the open loop's cap) */
    C("duration_ms", "REAL", 13),  /* as configured; NULL when set by a request count */
    C("n_requests", "INTEGER", 13), /* as configured or scheduled */
    C("warmup_ms", "REAL NOT NULL", 13),
    C("cooldown_ms", "REAL NOT NULL", 13),
    C("window_ms", "REAL", 13),    /* the measured window, known at the level's end */
    C("t0", "TEXT NOT NULL", 13),
    C("status", "TEXT NOT NULL CHECK (status IN ('running','complete','incomplete',"
                "'saturated'))", 13),
    C("reason", "TEXT", 13),
};

/* One request of a level. Times in ms from the level's t0 (scheduled: when it was due,
 * NULL in a closed loop); ttft and e2e from its sending. */
static const slm_col LOAD_REQUESTS[] = {
    C("level_id", "INTEGER NOT NULL REFERENCES load_levels(id)", 13),
    C("run_id", "INTEGER NOT NULL REFERENCES runs(id)", 13), /* the level's, for export */
    C("candidate_id", "INTEGER NOT NULL REFERENCES candidates(id)", 13),
    C("seq", "INTEGER NOT NULL", 13),
    C("example_idx", "INTEGER NOT NULL", 13),
    C("phase", "TEXT NOT NULL CHECK (phase IN ('warmup','measure','cooldown'))", 13),
    C("scheduled_ms", "REAL", 13),
    C("sent_ms", "REAL", 13),
    C("ttft_ms", "REAL", 13),
    C("e2e_ms", "REAL", 13),
    C("itl_mean_ms", "REAL", 13),
    C("itl_max_ms", "REAL", 13),
    C("tpot_ms", "REAL", 13),
    C("n_output_tokens", "INTEGER", 13),
    C("status", "TEXT NOT NULL CHECK (status IN ('ok','error','timeout'))", 13),
    C("http_status", "INTEGER", 13),
    C("attempts", "INTEGER", 13),
    C("server_id", "TEXT", 13),
    C("error", "TEXT", 13),
    C("pred", "TEXT", 13),
    C("correct", "INTEGER", 13),   /* NULL: failed, not judged */
    C("valid", "INTEGER", 13),
};

#define T(n, v, cols, keys, scope) {n, v, cols, sizeof cols / sizeof cols[0], keys, scope}

/* Creation order: a database lists its tables in this order, as the migrations made
 * them. Metrics and everything computed from predictions are recomputed by a merge. */
static const slm_table TABLES[] = {
    T("runs", 1, RUNS, NULL, SLM_SCOPE_ONCE),
    T("evalsets", 1, EVALSETS, "PRIMARY KEY (run_id)", SLM_SCOPE_ONCE),
    T("examples", 1, EXAMPLES, "PRIMARY KEY (run_id, idx)", SLM_SCOPE_EACH),
    T("candidates", 1, CANDIDATES, "UNIQUE (run_id, name)", SLM_SCOPE_ONCE),
    T("predictions", 1, PREDICTIONS, "PRIMARY KEY (run_id, candidate_id, example_idx)",
      SLM_SCOPE_EACH),
    T("metrics", 1, METRICS, "PRIMARY KEY (run_id, candidate_id, name)", SLM_SCOPE_NONE),
    T("per_class", 1, PER_CLASS, "PRIMARY KEY (run_id, candidate_id, label)",
      SLM_SCOPE_NONE),
    T("confusion", 1, CONFUSION, "PRIMARY KEY (run_id, candidate_id, gold, pred)",
      SLM_SCOPE_NONE),
    T("tags", 1, TAGS, NULL, SLM_SCOPE_NONE),
    T("reliability", 2, RELIABILITY, "PRIMARY KEY (run_id, candidate_id, scheme, bin)",
      SLM_SCOPE_NONE),
    T("curves", 2, CURVES, "PRIMARY KEY (run_id, candidate_id, curve, idx)", SLM_SCOPE_NONE),
    T("comparisons", 2, COMPARISONS, "PRIMARY KEY (run_id, candidate_id)", SLM_SCOPE_NONE),
    T("calib_predictions", 2, CALIB_PREDICTIONS,
      "PRIMARY KEY (run_id, candidate_id, example_idx)", SLM_SCOPE_EACH),
    T("samples", 3, SAMPLES, "PRIMARY KEY (run_id, candidate_id, example_idx, rep)",
      SLM_SCOPE_EACH),
    T("counter_events", 3, COUNTER_EVENTS, "PRIMARY KEY (run_id, event)", SLM_SCOPE_ONCE),
    T("counters", 3, COUNTERS, "PRIMARY KEY (run_id, candidate_id, example_idx, phase, event)",
      SLM_SCOPE_EACH),
    T("deployments", 11, DEPLOYMENTS, NULL, SLM_SCOPE_NONE),
    T("deployment_ties", 11, DEPLOYMENT_TIES, NULL, SLM_SCOPE_NONE),
    T("ingests", 11, INGESTS, NULL, SLM_SCOPE_NONE),
    T("prod_predictions", 11, PROD_PREDICTIONS, "UNIQUE (deployment_id, log_id)",
      SLM_SCOPE_NONE),
    T("audit_samples", 12, AUDIT_SAMPLES, NULL, SLM_SCOPE_NONE),
    T("audit_sample_rows", 12, AUDIT_SAMPLE_ROWS, "PRIMARY KEY (sample_id, log_id)",
      SLM_SCOPE_NONE),
    T("load_levels", 13, LOAD_LEVELS, "UNIQUE (run_id, candidate_id, idx)", SLM_SCOPE_NONE),
    T("load_requests", 13, LOAD_REQUESTS, "PRIMARY KEY (level_id, seq)", SLM_SCOPE_NONE),
};
#define N_TABLES (sizeof TABLES / sizeof TABLES[0])

/* Views and indexes, created after the tables of their version. The views are documented
 * for the sqlite3 shell (README: 'Querying the database'). */
static const struct {
    int since;
    const char *sql;
} EXTRAS[] = {
    {1, "CREATE VIEW v_runs AS SELECT r.id AS run_id, r.name, r.tag, r.status, r.created_at,"
        "  r.finished_at, r.mode, e.name AS evalset, e.split, e.n_rows,"
        "  (SELECT count(*) FROM candidates c WHERE c.run_id = r.id) AS n_candidates"
        "  FROM runs r LEFT JOIN evalsets e ON e.run_id = r.id;"},
    {1, NULL}, /* v_summary: its metric columns are the field table's (summary_view) */
    {1, "CREATE VIEW v_predictions AS SELECT p.run_id, c.name AS candidate, p.example_idx,"
        "  p.example_id, p.gold, p.pred, p.correct, p.valid, p.confidence, p.e2e_ms,"
        "  p.prefill_ms, p.decode_ms, p.n_prompt_tokens, p.n_output_tokens, p.error"
        "  FROM predictions p JOIN candidates c ON c.id = p.candidate_id;"},
    {1, "CREATE INDEX predictions_by_candidate ON predictions(candidate_id, example_idx);"},
    {11, "CREATE INDEX prod_by_month ON prod_predictions(deployment_id, month, ts);"},
};

/* Columns declared at run time (slm_schema_add_column); a few slots are plenty. */
enum { N_ADDED = 4 };
static struct {
    const slm_table *table;
    const slm_col *col;
} added[N_ADDED];
static size_t n_added;

size_t slm_schema_n_tables(void)
{
    return N_TABLES;
}

const slm_table *slm_schema_table(size_t i)
{
    return i < N_TABLES ? &TABLES[i] : NULL;
}

const slm_table *slm_schema_find(const char *name)
{
    for (size_t i = 0; i < N_TABLES; i++)
        if (!strcmp(TABLES[i].name, name))
            return &TABLES[i];
    return NULL;
}

size_t slm_table_n_cols(const slm_table *t)
{
    size_t n = t->n_cols;
    for (size_t i = 0; i < n_added; i++)
        n += added[i].table == t;
    return n;
}

const slm_col *slm_table_col(const slm_table *t, size_t i)
{
    if (i < t->n_cols)
        return &t->cols[i];
    i -= t->n_cols;
    for (size_t k = 0; k < n_added; k++)
        if (added[k].table == t && i-- == 0)
            return added[k].col;
    return NULL;
}

int slm_schema_add_column(const char *table, const slm_col *col)
{
    const slm_table *t = slm_schema_find(table);
    if (!t || n_added == N_ADDED)
        return -1;
    added[n_added].table = t;
    added[n_added].col = col;
    n_added++;
    return 0;
}

static void create_table(const slm_table *t, slm_buf *out)
{
    slm_buf_printf(out, "CREATE TABLE %s (", t->name);
    const char *sep = "";
    for (size_t i = 0; i < slm_table_n_cols(t); i++) {
        const slm_col *c = slm_table_col(t, i);
        if (c->since > t->since)
            continue; /* added later, by its own migration's ALTER TABLE */
        slm_buf_printf(out, "%s%s %s", sep, c->name, c->decl);
        sep = ", ";
    }
    if (t->keys)
        slm_buf_printf(out, ", %s", t->keys);
    slm_buf_puts(out, ");\n");
}

/* The v_summary view: one row per candidate, one column per metric of the comparison
 * table (slm_summary_fields), so the view follows the field table. */
static void summary_view(slm_buf *out)
{
    slm_buf_printf(out, "CREATE VIEW v_summary AS SELECT c.run_id, c.name AS candidate, "
                        "c.engine, c.quant,  c.n_params, c.status,");
    for (size_t i = 0; i < slm_n_summary_fields; i++) {
        const char *f = slm_summary_fields[i];
        int plain = strspn(f, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(f);
        slm_buf_printf(out, "  max(CASE WHEN m.name='%s' THEN m.value END) AS %s%s%s%s", f,
                       plain ? "" : "\"", f, plain ? "" : "\"",
                       i + 1 < slm_n_summary_fields ? "," : "");
    }
    slm_buf_printf(out, "  FROM candidates c LEFT JOIN metrics m ON m.candidate_id = c.id"
                        "  GROUP BY c.id ORDER BY c.run_id, c.idx;\n");
}

void slm_schema_migration(int to, slm_buf *out)
{
    for (size_t i = 0; i < N_TABLES; i++) {
        const slm_table *t = &TABLES[i];
        if (t->since == to) {
            create_table(t, out);
            continue;
        }
        for (size_t k = 0; t->since < to && k < slm_table_n_cols(t); k++) {
            const slm_col *c = slm_table_col(t, k);
            if (c->since == to)
                slm_buf_printf(out, "ALTER TABLE %s ADD COLUMN %s %s;\n", t->name, c->name,
                               c->decl);
        }
    }
    for (size_t i = 0; i < sizeof EXTRAS / sizeof EXTRAS[0]; i++)
        if (EXTRAS[i].since == to) {
            if (EXTRAS[i].sql)
                slm_buf_printf(out, "%s\n", EXTRAS[i].sql);
            else
                summary_view(out);
        }
}

int slm_schema_check(char *err, size_t errlen)
{
    for (size_t i = 0; i < N_TABLES; i++) {
        const slm_table *t = &TABLES[i];
        if (t->since < 1 || t->since > SLM_SCHEMA_VERSION)
            return slm_err(err, errlen, "table '%s': version %d out of 1..%d", t->name,
                           t->since, SLM_SCHEMA_VERSION);
        for (size_t k = 0; k < slm_table_n_cols(t); k++) {
            const slm_col *c = slm_table_col(t, k);
            if (c->since < t->since || c->since > SLM_SCHEMA_VERSION)
                return slm_err(err, errlen, "column '%s.%s': version %d out of %d..%d",
                               t->name, c->name, c->since, t->since, SLM_SCHEMA_VERSION);
        }
    }
    for (int v = 1; v <= SLM_SCHEMA_VERSION; v++) {
        slm_buf b = {0};
        slm_schema_migration(v, &b);
        size_t len = b.len;
        slm_buf_free(&b);
        if (!len)
            return slm_err(err, errlen, "migration to version %d (%s) does nothing", v,
                           MIGRATION_NOTES[v - 1]);
    }
    return 0;
}
