/*
 * config.h — the run config (YAML), validated before any model loads.
 *
 *   name: demo                      # run name (default: the file's stem)
 *   evalset: ../evalsets/support-triage   # folder or evalset.yaml, relative to this file
 *   split: test
 *   mode: score                     # score | generate
 *   threads: 2                      # default: online CPUs
 *   warmup: 3                       # untimed requests per candidate
 *   repeats: 1                      # run each example N times; all samples kept, median used
 *   concurrency: 1                  # generate mode: requests in flight at once (engines with
 *                                   # generate_many, e.g. openai); candidates may override
 *   throughput: false               # also run every example batched (score_batch) for examples/s
 *   counters: true                  # hardware/software counters at the phase boundaries
 *   events: [instructions, task-clock]   # default: slm_counters_default_events()
 *   bandwidth: true                 # measure memory bandwidth (STREAM triad) for the roofline
 *   interleave: auto                # auto | true | false: candidates take turns on a few
 *                                   # examples at a time, all models open at once (auto:
 *                                   # when the models fit in memory together)
 *   interleave_turn: 2              # examples per turn when interleaved (2 at least with
 *                                   # repeats: a prompt never runs twice in a row)
 *   quantization: same              # same (all candidates share one) | mixed
 *   choice_prefix: " "              # score mode: text put before each label
 *   max_tokens: 16                  # generate mode
 *   stop: ["\n"]                    # generate mode
 *   chat_template: false            # wrap prompts in each model's chat template
 *   limit: 0                        # N examples, stratified by label, seed (0: all)
 *   skip_bad_rows: false
 *   commit_every: 1                 # predictions per transaction (kill -9 loses fewer than this)
 *   calibration_split: calibration  # fit temperature scaling there (never on the test split)
 *   few_shot: 0                     # examples from the train split put before each prompt
 *   few_shot_seed: 1                # which ones (recorded)
 *   score_norm: sum                 # score mode: sum (of token log-probs) | mean (per token)
 *   seed: 1                         # bootstrap seed (recorded)
 *   bootstrap: 1000                 # bootstrap replicates for confidence intervals
 *   coverage_targets: [0.90, 0.95, 0.99]   # selective prediction: accuracy targets
 *   requirements:                   # what a candidate must meet to be recommended
 *     min_accuracy: 0.80
 *     max_ece: 0.10
 *     max_p95_ms: 50
 *   cascade:                        # optional: escalate below a confidence threshold
 *     threshold: 0.85
 *     slm_cost: 0.0002              # cost of one small-model call
 *     escalation_cost: 0.01         # cost of one call of the escalation target
 *     escalation_accuracy: 0.95     # accuracy of the escalation target
 *   candidates:
 *     - name: small
 *       engine: llamacpp            # default llamacpp
 *       model: models/small.gguf    # a file relative to this file, or a served model's name
 *       options: {n_ctx: 2048}      # passed to the engine as strings
 *
 * Every key with its default, type and bounds: slm_cfg_print_defaults() below.
 *
 * Ownership: slm_run_cfg_load() returns a config freed by slm_run_cfg_free().
 */
#ifndef SLM_CONFIG_H
#define SLM_CONFIG_H

#include "slm_engine.h"
#include <stddef.h>
#include <stdio.h>

typedef struct slm_cand_cfg {
    char *name;
    char *engine;
    char *model;        /* as written; NULL if none */
    char *model_path;   /* model resolved against the config's folder, NULL if none */
    slm_option *opts;   /* the engine's options, model (as written) and threads included */
    size_t n_opts;
    int chat_template;  /* -1: run default */
    int constrained;    /* JSON tasks: grammar-constrained decoding */
    int concurrency;    /* requests in flight at once; 0: the run's */
    int line;
} slm_cand_cfg;

typedef struct slm_run_cfg {
    char *path;         /* the config file, or "<db>" when read back from a database */
    char *dir;          /* folder relative paths are resolved against */
    char *text;         /* exact bytes of the config */
    char sha256[65];
    char *name;
    char *evalset;      /* resolved path */
    char *split;
    char *mode;         /* "score" | "generate" */
    int threads;
    int warmup;
    int repeats;
    int concurrency;    /* default requests in flight at once, per candidate */
    int interleave;     /* SLM_INTERLEAVE_AUTO | _OFF | _ON */
    int interleave_turn;
    int bandwidth;
    int counters;
    int throughput;
    char **events;
    size_t n_events;
    int mixed_quant;    /* quantization: mixed */
    char *choice_prefix;
    int max_tokens;
    char **stop;
    size_t n_stop;
    int chat_template;
    long limit;
    int skip_bad_rows;
    int commit_every;
    char *calib_split;  /* NULL: no temperature scaling */
    int score_mean;
    int few_shot;
    long few_shot_seed;     /* score_norm: mean — predict from length-normalised log-probs */
    long seed;
    int bootstrap;
    double coverage_targets[8];
    size_t n_coverage_targets;
    double req_min_accuracy, req_max_ece, req_max_p95_ms; /* NaN: no requirement */
    int has_cascade;
    double cascade_threshold, cascade_slm_cost, cascade_esc_cost, cascade_esc_acc;
    slm_cand_cfg *cands;
    size_t n_cands;
} slm_run_cfg;

/*
 * The key table: every key of the run config, one row each, in the order they are checked.
 * It drives the parsing of scalar keys (type, bounds, allowed values, default), the lists
 * of allowed keys (an unknown key is an error naming its line) and slm_cfg_print_defaults().
 * Nested keys are written "requirements.max_ece" and "candidates[].model".
 */
typedef enum slm_cfg_type {
    SLM_CFG_STR,        /* a string, kept as written */
    SLM_CFG_WORD,       /* one of `values`, kept as a string (mode) */
    SLM_CFG_ENUM,       /* one of `values`, kept as its index (an int) */
    SLM_CFG_INT,        /* an integer into an int */
    SLM_CFG_LONG,       /* an integer into a long */
    SLM_CFG_BOOL,       /* true/false, yes/no, on/off, 1/0 into an int */
    SLM_CFG_NUMBER,     /* a number into a double */
    SLM_CFG_LIST,       /* a list (or, where the help says so, one scalar) */
    SLM_CFG_MAP         /* a mapping of the keys that follow it */
} slm_cfg_type;

enum {
    SLM_CFG_REQUIRED = 1,   /* must be present (for nested keys: when the parent is) */
    SLM_CFG_NCPU = 2        /* the default is the number of online CPUs */
};

typedef struct slm_cfg_key {
    const char *path;       /* "threads", "cascade.threshold", "candidates[].engine" */
    slm_cfg_type type;
    const char *def;        /* the default: a scalar's value, a list's YAML flow text; NULL:
                             * none (the field stays unset: NULL, 0, NaN for numbers) */
    double min, max;        /* numbers: inclusive bounds, checked when min < max */
    const char *values;     /* SLM_CFG_WORD, SLM_CFG_ENUM: allowed values, "score|generate" */
    unsigned flags;         /* SLM_CFG_REQUIRED, SLM_CFG_NCPU */
    size_t off;             /* offsetof(slm_run_cfg, field) that the table fills, or 0 when a
                             * parsing step of config.c handles the key itself */
    const char *help;       /* one line */
} slm_cfg_key;

/* The key table and its length. Static; never freed. */
const slm_cfg_key *slm_cfg_keys(size_t *n);

/* The row for path ("threads", "cascade.threshold"), or NULL. */
const slm_cfg_key *slm_cfg_key_find(const char *path);

/* Writes every key with its default, type, bounds and description as a commented YAML
 * document (keys without a default are commented out). */
void slm_cfg_print_defaults(FILE *f);

/* Loads and validates a config file. Errors: "file:line: reason". */
int slm_run_cfg_load(const char *path, slm_run_cfg **out, char *err, size_t errlen);

/* Parses config text; relative paths resolve against dir. name is used in messages. */
int slm_run_cfg_parse(const char *name, const char *dir, const char *text, size_t len,
                      slm_run_cfg **out, char *err, size_t errlen);

void slm_run_cfg_free(slm_run_cfg *c);

/* The value of option key for a candidate, or NULL. */
const char *slm_cand_opt(const slm_cand_cfg *c, const char *key);

/* The values of `interleave` (the index of its word). */
enum { SLM_INTERLEAVE_AUTO = 0, SLM_INTERLEAVE_OFF = 1, SLM_INTERLEAVE_ON = 2 };

#endif
