/* config.c — see config.h. The key table comes first, then what reads a row, then the
 * parsing steps of slm_run_cfg_parse() (at the end, calling them in order). */
#include "config.h"
#include "nearest.h"
#include "sha256.h"
#include "slm_limits.h"
#include "util.h"
#include "yamltree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN(f) offsetof(slm_run_cfg, f)

/* Every key of the run config. Rows with an offset are filled by the table (top-level ones
 * by parse_scalars(), in this order; nested ones by parse_map()); the others by a step
 * below (parse_identity, parse_list, parse_candidates). Scalar keys are checked in this
 * order, before the lists, mappings and candidates. */
static const slm_cfg_key KEYS[] = {
    {.path = "name", .type = SLM_CFG_STR,
     .help = "run name (default: the config file's name without its extension)"},
    {.path = "description", .type = SLM_CFG_STR, .help = "free text, kept with the config"},
    {.path = "evalset", .type = SLM_CFG_STR, .flags = SLM_CFG_REQUIRED,
     .help = "eval set folder (or its evalset.yaml), relative to this file"},
    {.path = "split", .type = SLM_CFG_STR, .def = "test", .off = RUN(split),
     .help = "the split evaluated"},
    {.path = "mode", .type = SLM_CFG_WORD, .def = "score", .values = "score|generate",
     .off = RUN(mode), .help = "score each label, or generate text and match it"},
    {.path = "threads", .type = SLM_CFG_INT, .min = 1, .max = SLM_MAX_THREADS,
     .flags = SLM_CFG_NCPU,
     .off = RUN(threads), .help = "threads per candidate (default: online CPUs)"},
    {.path = "warmup", .type = SLM_CFG_INT, .def = "2", .min = 0, .max = 1000,
     .off = RUN(warmup), .help = "untimed requests per candidate"},
    {.path = "max_tokens", .type = SLM_CFG_INT, .def = "16", .min = 1, .max = 100000,
     .off = RUN(max_tokens), .help = "generate mode: tokens per answer at most"},
    {.path = "commit_every", .type = SLM_CFG_INT, .def = "1", .min = 1, .max = 100000,
     .off = RUN(commit_every), .help = "predictions per database transaction"},
    {.path = "bootstrap", .type = SLM_CFG_INT, .def = "1000", .min = 0, .max = 1000000,
     .off = RUN(bootstrap), .help = "bootstrap replicates for confidence intervals"},
    {.path = "repeats", .type = SLM_CFG_INT, .def = "1", .min = 1, .max = 1000,
     .off = RUN(repeats), .help = "run each example N times; all samples kept, median used"},
    {.path = "concurrency", .type = SLM_CFG_INT, .def = "1", .min = 1,
     .max = SLM_MAX_CONCURRENCY,
     .off = RUN(concurrency), .help = "generate mode: requests in flight at once"},
    {.path = "few_shot", .type = SLM_CFG_INT, .def = "0", .min = 0, .max = 64,
     .off = RUN(few_shot), .help = "examples from the train split put before each prompt"},
    {.path = "interleave", .type = SLM_CFG_ENUM, .def = "auto", .values = "auto|false|true",
     .off = RUN(interleave),
     .help = "candidates take turns, all models open (auto: when they fit in memory)"},
    {.path = "interleave_turn", .type = SLM_CFG_INT, .def = "2", .min = 1, .max = 100000,
     .off = RUN(interleave_turn), .help = "examples per turn when interleaved"},
    {.path = "bandwidth", .type = SLM_CFG_BOOL, .def = "true", .off = RUN(bandwidth),
     .help = "measure memory bandwidth (STREAM triad) for the roofline"},
    {.path = "counters", .type = SLM_CFG_BOOL, .def = "true", .off = RUN(counters),
     .help = "hardware/software counters at the phase boundaries"},
    {.path = "throughput", .type = SLM_CFG_BOOL, .def = "false", .off = RUN(throughput),
     .help = "score mode: also run every example batched, for examples/s"},
    {.path = "seed", .type = SLM_CFG_LONG, .def = "1", .off = RUN(seed),
     .help = "bootstrap seed (recorded)"},
    {.path = "few_shot_seed", .type = SLM_CFG_LONG, .def = "1", .off = RUN(few_shot_seed),
     .help = "which few-shot examples (recorded)"},
    {.path = "calibration_split", .type = SLM_CFG_STR, .off = RUN(calib_split),
     .help = "score mode: fit temperature scaling on this split (never the evaluated one)"},
    {.path = "score_norm", .type = SLM_CFG_ENUM, .def = "sum", .values = "sum|mean",
     .off = RUN(score_mean), .help = "score mode: sum of token log-probs, or mean per token"},
    {.path = "limit", .type = SLM_CFG_LONG, .def = "0", .min = 0, .max = 1 << 30,
     .off = RUN(limit), .help = "evaluate N examples: a sample stratified by gold label, "
                               "drawn with seed, in file order (0: all)"},
    {.path = "quantization", .type = SLM_CFG_ENUM, .def = "same", .values = "same|mixed",
     .off = RUN(mixed_quant), .help = "whether candidates may differ in quantization"},
    {.path = "choice_prefix", .type = SLM_CFG_STR, .def = " ", .off = RUN(choice_prefix),
     .help = "score mode: text put before each label"},
    {.path = "chat_template", .type = SLM_CFG_BOOL, .def = "false", .off = RUN(chat_template),
     .help = "wrap prompts in each model's chat template"},
    {.path = "skip_bad_rows", .type = SLM_CFG_BOOL, .def = "false", .off = RUN(skip_bad_rows),
     .help = "skip eval set rows that do not parse instead of failing"},
    {.path = "events", .type = SLM_CFG_LIST,
     .help = "counter events, a list or \"a,b\" (default: the counters module's set)"},
    {.path = "coverage_targets", .type = SLM_CFG_LIST, .def = "[0.90, 0.95, 0.99]",
     .min = 0, .max = 1, .help = "selective prediction: 1 to 8 accuracy targets in (0, 1]"},
    {.path = "stop", .type = SLM_CFG_LIST, .def = "[\"\\n\"]",
     .help = "generate mode: stop strings, a list or one string"},
    {.path = "requirements", .type = SLM_CFG_MAP,
     .help = "what a candidate must meet to be recommended"},
    {.path = "requirements.min_accuracy", .type = SLM_CFG_NUMBER,
     .off = RUN(req_min_accuracy), .help = "lowest accuracy accepted"},
    {.path = "requirements.max_ece", .type = SLM_CFG_NUMBER, .off = RUN(req_max_ece),
     .help = "highest expected calibration error accepted"},
    {.path = "requirements.max_p95_ms", .type = SLM_CFG_NUMBER, .off = RUN(req_max_p95_ms),
     .help = "highest p95 latency accepted, ms"},
    {.path = "cascade", .type = SLM_CFG_MAP,
     .help = "escalate answers below a confidence threshold"},
    {.path = "cascade.threshold", .type = SLM_CFG_NUMBER, .min = 0, .max = 1,
     .flags = SLM_CFG_REQUIRED, .off = RUN(cascade_threshold),
     .help = "confidence below which an answer escalates"},
    {.path = "cascade.slm_cost", .type = SLM_CFG_NUMBER, .min = 0, .max = HUGE_VAL,
     .flags = SLM_CFG_REQUIRED, .off = RUN(cascade_slm_cost),
     .help = "cost of one small-model call"},
    {.path = "cascade.escalation_cost", .type = SLM_CFG_NUMBER, .min = 0, .max = HUGE_VAL,
     .flags = SLM_CFG_REQUIRED, .off = RUN(cascade_esc_cost),
     .help = "cost of one call of the escalation target"},
    {.path = "cascade.escalation_accuracy", .type = SLM_CFG_NUMBER, .min = 0, .max = 1,
     .flags = SLM_CFG_REQUIRED, .off = RUN(cascade_esc_acc),
     .help = "accuracy of the escalation target"},
    {.path = "load", .type = SLM_CFG_MAP,
     .help = "slmbench load: the load test's profile, levels and SLO (loadcfg.h); run ignores it"},
    {.path = "candidates", .type = SLM_CFG_LIST, .flags = SLM_CFG_REQUIRED,
     .help = "the models compared, a non-empty list"},
    {.path = "candidates[].name", .type = SLM_CFG_STR, .flags = SLM_CFG_REQUIRED,
     .help = "unique; no ':', '/' or newlines"},
    {.path = "candidates[].engine", .type = SLM_CFG_STR, .def = "llamacpp",
     .help = "engine plugin"},
    {.path = "candidates[].model", .type = SLM_CFG_STR,
     .help = "a file relative to this file, or a served model's name"},
    {.path = "candidates[].options", .type = SLM_CFG_MAP,
     .help = "passed to the engine as strings, e.g. {n_ctx: 2048}"},
    {.path = "candidates[].chat_template", .type = SLM_CFG_BOOL,
     .help = "overrides the run's chat_template"},
    {.path = "candidates[].threads", .type = SLM_CFG_INT, .min = 1, .max = SLM_MAX_THREADS,
     .help = "overrides the run's threads"},
    {.path = "candidates[].constrained", .type = SLM_CFG_BOOL, .def = "false",
     .help = "JSON tasks: grammar-constrained decoding"},
    {.path = "candidates[].concurrency", .type = SLM_CFG_INT, .min = 1, .max = SLM_MAX_CONCURRENCY,
     .help = "overrides the run's concurrency"},
};
#define N_KEYS (sizeof KEYS / sizeof *KEYS)

const slm_cfg_key *slm_cfg_keys(size_t *n)
{
    *n = N_KEYS;
    return KEYS;
}

const slm_cfg_key *slm_cfg_key_find(const char *path)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (!strcmp(KEYS[i].path, path))
            return &KEYS[i];
    return NULL;
}

/* The row's key inside its parent: "max_ece" for "requirements.max_ece", when the row sits
 * directly under prefix ("" for the top level, "requirements.", "candidates[]."). */
static const char *child_key(const slm_cfg_key *k, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (strncmp(k->path, prefix, pl))
        return NULL;
    const char *rest = k->path + pl;
    return strpbrk(rest, ".[") ? NULL : rest;
}

/* Where in the table key is allowed, when not under the prefix it was found in: the row's
 * path ("candidates[].model" for a 'model' at the top level); NULL when nowhere or only at
 * the top level. */
static const char *key_elsewhere(const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *p = KEYS[i].path;
        size_t pl = strlen(p);
        if (pl > kl && !strcmp(p + pl - kl, key) && (p[pl - kl - 1] == '.'))
            return p;
    }
    return NULL;
}

/* The keys of m not allowed under prefix are refused with their line and the nearest
 * allowed key ("did you mean 'threads'?"), or where the key belongs. */
static int check_keys(const slm_yaml *y, const slm_ynode *m, const char *prefix,
                      const char *what, char *err, size_t errlen)
{
    const char *allowed[N_KEYS + 1];
    size_t n = 0;
    for (size_t i = 0; i < N_KEYS; i++)
        if (child_key(&KEYS[i], prefix))
            allowed[n++] = child_key(&KEYS[i], prefix);
    allowed[n] = NULL;
    if (!slm_ymap_check_keys(y, m, allowed, what, err, errlen))
        return 0;
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->keys[i];
        int known = 0;
        for (size_t j = 0; j < n; j++)
            known |= !strcmp(allowed[j], k);
        if (known)
            continue;
        const char *near = slm_nearest(k, allowed, n), *where = key_elsewhere(k);
        if (!where && *prefix && slm_cfg_key_find(k))
            where = "the top level";
        int line = m->values[i]->line;
        if (where) /* a key of another level: 'model' at the top, not in a candidate */
            return slm_err(err, errlen, "%s:%d: unknown key '%s' in %s; it belongs at %s "
                           "(slmbench run --print-defaults shows every key)",
                           y->path, line, k, what, where);
        if (near)
            return slm_err(err, errlen, "%s:%d: unknown key '%s' in %s; did you mean '%s'?",
                           y->path, line, k, what, near);
        return slm_err(err, errlen, "%s:%d: unknown key '%s' in %s (slmbench run "
                       "--print-defaults shows every key)", y->path, line, k, what);
    }
    return -1; /* refused by slm_ymap_check_keys for a reason of its own: err says it */
}

static int bounded(const slm_cfg_key *k)
{
    return k->min < k->max;
}

/* The index of word in "a|b|c", or -1. */
static int value_index(const char *values, const char *word)
{
    size_t wl = strlen(word);
    int i = 0;
    for (const char *p = values; p; i++) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == wl && !strncmp(p, word, l))
            return i;
        p = bar ? bar + 1 : NULL;
    }
    return -1;
}

/* "a|b|c" as "a, b or c" for messages. */
static void values_text(const char *values, char *out, size_t outlen)
{
    size_t o = 0;
    for (const char *p = values; *p && o + 4 < outlen; p++) {
        if (*p != '|') {
            out[o++] = *p;
            continue;
        }
        const char *sep = strchr(p + 1, '|') ? ", " : " or ";
        o += (size_t)snprintf(out + o, outlen - o, "%s", sep);
    }
    out[o < outlen ? o : outlen - 1] = '\0';
}

/* Sets every field the table fills to its row's default; a row without one leaves its
 * field zero, or NaN for a number ("no requirement"). */
static void apply_defaults(slm_run_cfg *c)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const slm_cfg_key *k = &KEYS[i];
        if (!k->off)
            continue;
        void *f = (char *)c + k->off;
        long v = 0;
        switch (k->type) {
        case SLM_CFG_STR:
        case SLM_CFG_WORD:
            free(*(char **)f);
            *(char **)f = k->def ? slm_xstrdup(k->def) : NULL;
            break;
        case SLM_CFG_ENUM:
            *(int *)f = k->def ? value_index(k->values, k->def) : 0;
            break;
        case SLM_CFG_INT:
        case SLM_CFG_LONG:
            if (k->flags & SLM_CFG_NCPU)
                v = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
            else if (k->def)
                slm_parse_long(k->def, &v);
            if (k->type == SLM_CFG_INT)
                *(int *)f = (int)v;
            else
                *(long *)f = v;
            break;
        case SLM_CFG_BOOL:
            *(int *)f = k->def && !strcmp(k->def, "true");
            break;
        case SLM_CFG_NUMBER:
            *(double *)f = NAN;
            if (k->def)
                slm_parse_double(k->def, (double *)f);
            break;
        default:
            break;
        }
    }
}

/* Reads the value of row k, under key in map m, into f (a field of the row's type). Returns
 * 0 when read, 1 when absent (f untouched), -1 with err when invalid. A string key holding a list or
 * mapping counts as absent, as it always has. Number bounds are checked by the caller,
 * whose message says what the numbers mean. */
static int parse_value(const slm_yaml *y, const slm_ynode *m, const slm_cfg_key *k,
                       const char *key, void *f, char *err, size_t errlen)
{
    const char *s;
    long v;
    int rc;
    char vals[128];
    switch (k->type) {
    case SLM_CFG_STR:
    case SLM_CFG_WORD:
    case SLM_CFG_ENUM:
        if (!(s = slm_ymap_str(m, key)))
            return 1;
        if (k->type != SLM_CFG_STR && value_index(k->values, s) < 0) {
            values_text(k->values, vals, sizeof vals);
            return slm_err(err, errlen, "%s:%d: key '%s': expected %s, got '%s'", y->path,
                           slm_ymap_get(m, key)->line, key, vals, s);
        }
        if (k->type == SLM_CFG_ENUM) {
            *(int *)f = value_index(k->values, s);
        } else {
            free(*(char **)f);
            *(char **)f = slm_xstrdup(s);
        }
        return 0;
    case SLM_CFG_INT:
    case SLM_CFG_LONG:
        if ((rc = slm_ymap_long(y, m, key, &v, err, errlen)) != 0)
            return rc;
        if (bounded(k) && (v < k->min || v > k->max))
            return slm_err(err, errlen, "%s:%d: key '%s': %ld is out of range [%ld, %ld]", y->path,
                           slm_ymap_get(m, key)->line, key, v, (long)k->min, (long)k->max);
        if (k->type == SLM_CFG_INT)
            *(int *)f = (int)v;
        else
            *(long *)f = v;
        return 0;
    case SLM_CFG_BOOL:
        return slm_ymap_bool(y, m, key, (int *)f, err, errlen);
    case SLM_CFG_NUMBER:
        return slm_ymap_double(y, m, key, (double *)f, err, errlen);
    default:
        return 1;
    }
}

/* Every top-level row that the table fills, in table order. */
static int parse_scalars(const slm_yaml *y, const slm_ynode *r, slm_run_cfg *c, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *key = child_key(&KEYS[i], "");
        if (key && KEYS[i].off &&
            parse_value(y, r, &KEYS[i], key, (char *)c + KEYS[i].off, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static char *resolve(const char *dir, const char *p)
{
    if (p[0] == '/' || !dir || !dir[0])
        return slm_xstrdup(p);
    return slm_xasprintf("%s/%s", dir, p);
}

/* name (default: the file's stem) and evalset (required, resolved against the folder). */
static int parse_identity(const slm_yaml *y, const slm_ynode *r, slm_run_cfg *c, char *err,
                          size_t errlen)
{
    const char *s;
    if ((s = slm_ymap_str(r, "name")) && *s) {
        c->name = slm_xstrdup(s);
    } else {
        const char *base = strrchr(c->path, '/');
        base = base ? base + 1 : c->path;
        const char *dot = strrchr(base, '.');
        c->name = dot ? slm_xstrndup(base, (size_t)(dot - base)) : slm_xstrdup(base);
    }
    s = slm_ymap_str(r, "evalset");
    if (!s || !*s)
        return slm_err(err, errlen, "%s: missing 'evalset' (a folder with evalset.yaml)", y->path);
    c->evalset = resolve(c->dir, s);
    return 0;
}

/* Keys that are valid alone but not together. */
static int check_combinations(const slm_yaml *y, const slm_ynode *r, slm_run_cfg *c,
                              char *err, size_t errlen)
{
    if (c->calib_split && !*c->calib_split) {
        free(c->calib_split);
        c->calib_split = NULL;
    }
    if (c->calib_split && !strcmp(c->calib_split, c->split))
        return slm_err(err, errlen, "%s:%d: calibration_split '%s' is the split being evaluated; "
                       "temperature scaling is never fitted on the test split", y->path,
                       slm_ymap_get(r, "calibration_split")->line, c->calib_split);
    if (c->calib_split && strcmp(c->mode, "score"))
        return slm_err(err, errlen, "%s:%d: calibration_split needs mode: score (temperature "
                       "scaling rescales label scores)", y->path,
                       slm_ymap_get(r, "calibration_split")->line);
    if (c->throughput && strcmp(c->mode, "score"))
        return slm_err(err, errlen, "%s:%d: throughput mode needs mode: score", y->path,
                       slm_ymap_get(r, "throughput")->line);
    return 0;
}

static void push_str(char ***v, size_t *n, const char *s)
{
    *v = slm_xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = slm_xstrdup(s);
}

/* events: a list of names, or one scalar "instructions,task-clock". */
static int parse_events(const slm_yaml *y, const slm_ynode *evn, slm_run_cfg *c, char *err,
                        size_t errlen)
{
    if (evn->kind == SLM_Y_SCALAR) {
        char *copy = slm_xstrdup(evn->scalar), *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            push_str(&c->events, &c->n_events, t);
        free(copy);
        return 0;
    }
    for (size_t i = 0; evn->kind == SLM_Y_SEQ && i < evn->n; i++) {
        if (evn->items[i]->kind != SLM_Y_SCALAR)
            return slm_err(err, errlen, "%s:%d: events must be names", y->path,
                           evn->items[i]->line);
        push_str(&c->events, &c->n_events, evn->items[i]->scalar);
    }
    return 0;
}

static int parse_coverage(const slm_yaml *y, const slm_ynode *ct, slm_run_cfg *c, char *err,
                          size_t errlen)
{
    const slm_cfg_key *k = slm_cfg_key_find("coverage_targets");
    size_t cap = sizeof c->coverage_targets / sizeof *c->coverage_targets;
    if (ct->kind != SLM_Y_SEQ || ct->n == 0 || ct->n > cap)
        return slm_err(err, errlen, "%s:%d: 'coverage_targets' must be a list of 1 to %zu "
                       "accuracies", y->path, ct->line, cap);
    for (size_t i = 0; i < ct->n; i++) {
        double v;
        if (ct->items[i]->kind != SLM_Y_SCALAR || slm_parse_double(ct->items[i]->scalar, &v) ||
            !(v > k->min && v <= k->max))
            return slm_err(err, errlen, "%s:%d: coverage targets are accuracies in (0, 1]",
                           y->path, ct->items[i]->line);
        c->coverage_targets[c->n_coverage_targets++] = v;
    }
    return 0;
}

/* stop: one non-empty string or a list of them. */
static int parse_stop(const slm_yaml *y, const slm_ynode *stop, slm_run_cfg *c, char *err,
                      size_t errlen)
{
    if (stop->kind == SLM_Y_SCALAR) {
        push_str(&c->stop, &c->n_stop, stop->scalar);
        return 0;
    }
    if (stop->kind != SLM_Y_SEQ)
        return slm_err(err, errlen, "%s:%d: 'stop' must be a string or a list of strings",
                       y->path, stop->line);
    c->stop = slm_xcalloc(stop->n ? stop->n : 1, sizeof *c->stop);
    for (size_t i = 0; i < stop->n; i++) {
        if (stop->items[i]->kind != SLM_Y_SCALAR || !*stop->items[i]->scalar)
            return slm_err(err, errlen, "%s:%d: stop strings must be non-empty strings", y->path,
                           stop->items[i]->line);
        c->stop[c->n_stop++] = slm_xstrdup(stop->items[i]->scalar);
    }
    return 0;
}

typedef int (*list_fn)(const slm_yaml *, const slm_ynode *, slm_run_cfg *, char *, size_t);

/* A list key: its value when present, else the table's default (YAML flow text) read by
 * the same function, so a default can never bypass the checks. */
static int parse_list(const slm_yaml *y, const slm_ynode *r, const char *key, list_fn fn,
                      slm_run_cfg *c, char *err, size_t errlen)
{
    const slm_ynode *n = slm_ymap_get(r, key);
    if (n)
        return fn(y, n, c, err, errlen);
    const slm_cfg_key *k = slm_cfg_key_find(key);
    if (!k->def)
        return 0;
    slm_yaml *dy;
    if (slm_yaml_parse("<default>", k->def, strlen(k->def), &dy, err, errlen))
        return -1;
    int rc = fn(dy, dy->root, c, err, errlen);
    slm_yaml_free(dy);
    return rc;
}

/* A mapping key (requirements, cascade): its keys checked against the table and read into
 * the rows' fields. Returns 1 when absent. */
static int parse_map(const slm_yaml *y, const slm_ynode *r, const char *key, slm_run_cfg *c,
                     char *err, size_t errlen)
{
    const slm_ynode *m = slm_ymap_get(r, key);
    if (!m)
        return 1;
    if (m->kind != SLM_Y_MAP)
        return slm_err(err, errlen, "%s:%d: '%s' must be a mapping", y->path, m->line, key);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s.", key);
    if (check_keys(y, m, prefix, key, err, errlen))
        return -1;
    for (size_t i = 0; i < N_KEYS; i++) {
        const slm_cfg_key *k = &KEYS[i];
        const char *sub = child_key(k, prefix);
        if (!sub)
            continue;
        int rc = parse_value(y, m, k, sub, (char *)c + k->off, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1 && (k->flags & SLM_CFG_REQUIRED))
            return slm_err(err, errlen, "%s:%d: %s needs '%s'", y->path, m->line, key, sub);
    }
    return 0;
}

/* cascade: every key required, each within its row's bounds. */
static int parse_cascade(const slm_yaml *y, const slm_ynode *r, slm_run_cfg *c, char *err,
                         size_t errlen)
{
    int rc = parse_map(y, r, "cascade", c, err, errlen);
    if (rc)
        return rc < 0 ? -1 : 0;
    for (size_t i = 0; i < N_KEYS; i++) {
        const slm_cfg_key *k = &KEYS[i];
        if (!child_key(k, "cascade.") || !bounded(k))
            continue; /* only the cascade rows hold a double at k->off */
        double v = *(double *)((char *)c + k->off);
        if (v < k->min || v > k->max)
            return slm_err(err, errlen, "%s:%d: cascade threshold and accuracy must be in "
                           "[0, 1], costs >= 0", y->path, slm_ymap_get(r, "cascade")->line);
    }
    c->has_cascade = 1;
    return 0;
}

static void add_opt(slm_cand_cfg *c, const char *k, const char *v)
{
    for (size_t i = 0; i < c->n_opts; i++)
        if (!strcmp(c->opts[i].key, k)) {
            free((char *)c->opts[i].value);
            c->opts[i].value = slm_xstrdup(v);
            return;
        }
    c->opts = slm_xrealloc(c->opts, (c->n_opts + 1) * sizeof *c->opts);
    c->opts[c->n_opts].key = slm_xstrdup(k);
    c->opts[c->n_opts++].value = slm_xstrdup(v);
}

const char *slm_cand_opt(const slm_cand_cfg *c, const char *key)
{
    for (size_t i = 0; i < c->n_opts; i++)
        if (!strcmp(c->opts[i].key, key))
            return c->opts[i].value;
    return NULL;
}

/* A candidate's own keys: name, engine, model. */
static int cand_identity(const slm_yaml *y, const slm_ynode *n, const slm_run_cfg *c,
                         slm_cand_cfg *cand, char *err, size_t errlen)
{
    const char *name = slm_ymap_str(n, "name");
    if (!name || !*name)
        return slm_err(err, errlen, "%s:%d: candidate has no 'name'", y->path, n->line);
    for (const char *p = name; *p; p++)
        if (*p == ':' || *p == '\n' || *p == '/')
            return slm_err(err, errlen, "%s:%d: candidate name '%s' may not contain ':', '/' "
                           "or newlines", y->path, n->line, name);
    cand->name = slm_xstrdup(name);
    const char *engine = slm_ymap_str(n, "engine");
    cand->engine = slm_xstrdup(engine ? engine : slm_cfg_key_find("candidates[].engine")->def);
    const char *model = slm_ymap_str(n, "model");
    if (model && *model) {
        /* As written, and resolved against the config's folder: the runner passes the one
         * its engine wants (a file for SLM_CAP_MODEL_FILE engines, else a name). */
        cand->model = slm_xstrdup(model);
        cand->model_path = resolve(c->dir, model);
        add_opt(cand, "model", cand->model);
    }
    return 0;
}

/* What a candidate overrides of the run: threads (an engine option), chat_template,
 * constrained, concurrency; and its engine options. */
static int cand_settings(const slm_yaml *y, const slm_ynode *n, const slm_run_cfg *c,
                         slm_cand_cfg *cand, char *err, size_t errlen)
{
    char buf[32];
    int th = 0;
    if (parse_value(y, n, slm_cfg_key_find("candidates[].threads"), "threads", &th, err,
                    errlen) < 0)
        return -1;
    snprintf(buf, sizeof buf, "%d", th ? th : c->threads);
    add_opt(cand, "threads", buf);
    if (parse_value(y, n, slm_cfg_key_find("candidates[].chat_template"), "chat_template",
                    &cand->chat_template, err, errlen) < 0 ||
        parse_value(y, n, slm_cfg_key_find("candidates[].constrained"), "constrained",
                    &cand->constrained, err, errlen) < 0 ||
        parse_value(y, n, slm_cfg_key_find("candidates[].concurrency"), "concurrency",
                    &cand->concurrency, err, errlen) < 0)
        return -1;
    const slm_ynode *o = slm_ymap_get(n, "options");
    if (!o)
        return 0;
    if (o->kind != SLM_Y_MAP)
        return slm_err(err, errlen, "%s:%d: 'options' must be a mapping of names to values",
                       y->path, o->line);
    for (size_t i = 0; i < o->n; i++) {
        if (o->values[i]->kind != SLM_Y_SCALAR)
            return slm_err(err, errlen, "%s:%d: option '%s' must be a plain value", y->path,
                           o->values[i]->line, o->keys[i]);
        if (!strcmp(o->keys[i], "model"))
            return slm_err(err, errlen, "%s:%d: give the model as the candidate's 'model' key",
                           y->path, o->values[i]->line);
        add_opt(cand, o->keys[i], o->values[i]->scalar);
    }
    return 0;
}

static int parse_candidates(const slm_yaml *y, const slm_ynode *r, slm_run_cfg *c, char *err,
                            size_t errlen)
{
    const slm_ynode *cands = slm_ymap_get(r, "candidates");
    if (!cands || cands->kind != SLM_Y_SEQ || cands->n == 0)
        return slm_err(err, errlen, "%s:%d: 'candidates' must be a non-empty list", y->path,
                       cands ? cands->line : r->line);
    if (cands->n > SLM_MAX_CANDIDATES)
        return slm_err(err, errlen, "%s:%d: %zu candidates, more than the limit of %ld",
                       y->path, cands->items[SLM_MAX_CANDIDATES]->line, cands->n,
                       SLM_MAX_CANDIDATES);
    c->cands = slm_xcalloc(cands->n, sizeof *c->cands);
    for (size_t i = 0; i < cands->n; i++) {
        const slm_ynode *n = cands->items[i];
        slm_cand_cfg *cc = &c->cands[c->n_cands++];
        cc->line = n->line;
        cc->chat_template = -1; /* unset: the run's */
        if (n->kind != SLM_Y_MAP)
            return slm_err(err, errlen, "%s:%d: a candidate must be a mapping with name, "
                           "engine, model", y->path, n->line);
        if (check_keys(y, n, "candidates[].", "a candidate", err, errlen) ||
            cand_identity(y, n, c, cc, err, errlen) || cand_settings(y, n, c, cc, err, errlen))
            return -1;
        for (size_t k = 0; k + 1 < c->n_cands; k++)
            if (!strcmp(c->cands[k].name, cc->name))
                return slm_err(err, errlen, "%s:%d: duplicate candidate name '%s'", y->path,
                               cc->line, cc->name);
    }
    return 0;
}

/* The default as YAML text, quoted where a plain scalar would read differently. */
static void default_text(const slm_cfg_key *k, char *out, size_t outlen)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (k->flags & SLM_CFG_NCPU)
        snprintf(out, outlen, "%ld", ncpu > 0 ? ncpu : 1);
    else if (!k->def)
        snprintf(out, outlen, "%s", "");
    else if (k->type == SLM_CFG_STR && (!*k->def || strpbrk(k->def, " :#\"'")))
        snprintf(out, outlen, "\"%s\"", k->def);
    else
        snprintf(out, outlen, "%s", k->def);
}

static void type_text(const slm_cfg_key *k, char *out, size_t outlen)
{
    static const char *const names[] = {"string", "", "", "integer", "integer", "true|false",
                                        "number", "list", "mapping"};
    const char *req = (k->flags & SLM_CFG_REQUIRED) ? ", required" : "";
    if (k->type == SLM_CFG_WORD || k->type == SLM_CFG_ENUM)
        snprintf(out, outlen, "%s%s", k->values, req);
    else if (bounded(k) && k->type != SLM_CFG_LIST && k->max == HUGE_VAL)
        snprintf(out, outlen, "%s >= %g%s", names[k->type], k->min, req);
    else if (bounded(k) && k->type != SLM_CFG_LIST)
        snprintf(out, outlen, "%s in [%.15g, %.15g]%s", names[k->type], k->min, k->max, req);
    else
        snprintf(out, outlen, "%s%s", names[k->type], req);
}

void slm_cfg_print_defaults(FILE *f)
{
    fputs("# The run config's keys: default, type and bounds, description.\n"
          "# Keys without a default are commented out; evalset and candidates are required.\n",
          f);
    int parent_out = 0, first_cand = 1;
    for (size_t i = 0; i < N_KEYS; i++) {
        const slm_cfg_key *k = &KEYS[i];
        char def[64], type[64], line[128];
        default_text(k, def, sizeof def);
        type_text(k, type, sizeof type);
        int nested = strpbrk(k->path, ".[") != NULL;
        /* under a commented-out parent everything is commented out, so the output stays
         * a YAML document that reads back as these defaults */
        int out = !def[0] || (nested && parent_out);
        if (!nested)
            parent_out = out;
        const char *indent = "";
        if (nested && strncmp(k->path, "candidates[].", 13))
            indent = "  ";
        else if (nested)
            indent = first_cand ? "  - " : "    ";
        if (nested && !strncmp(k->path, "candidates[].", 13))
            first_cand = 0;
        const char *leaf = k->path + strcspn(k->path, ".");
        leaf = *leaf ? leaf + 1 : k->path;
        snprintf(line, sizeof line, "%s%s%s:%s%s", out ? "# " : "", indent, leaf,
                 def[0] ? " " : "", def);
        fprintf(f, "%-40s # %s; %s\n", line, type, k->help);
    }
}

static slm_run_cfg *new_cfg(const char *name, const char *dir, const char *text, size_t len)
{
    slm_run_cfg *c = slm_xcalloc(1, sizeof *c);
    c->path = slm_xstrdup(name);
    c->dir = slm_xstrdup(dir ? dir : ".");
    c->text = slm_xstrndup(text, len);
    slm_sha256_hex(text, len, c->sha256);
    apply_defaults(c);
    return c;
}

int slm_run_cfg_parse(const char *name, const char *dir, const char *text, size_t len,
                      slm_run_cfg **out, char *err, size_t errlen)
{
    slm_yaml *y;
    if (slm_yaml_parse(name, text, len, &y, err, errlen))
        return -1;
    slm_run_cfg *c = new_cfg(name, dir, text, len);
    const slm_ynode *r = y->root;
    int rc;
    if (!r || r->kind != SLM_Y_MAP)
        rc = slm_err(err, errlen, "%s:%d: expected a mapping (evalset, candidates, ...)", name,
                     r ? r->line : 1);
    else
        rc = check_keys(y, r, "", "the run config", err, errlen) ||
             parse_identity(y, r, c, err, errlen) || parse_scalars(y, r, c, err, errlen) ||
             check_combinations(y, r, c, err, errlen) ||
             parse_list(y, r, "events", parse_events, c, err, errlen) ||
             parse_list(y, r, "coverage_targets", parse_coverage, c, err, errlen) ||
             parse_map(y, r, "requirements", c, err, errlen) < 0 ||
             parse_cascade(y, r, c, err, errlen) ||
             parse_list(y, r, "stop", parse_stop, c, err, errlen) ||
             parse_candidates(y, r, c, err, errlen);
    slm_yaml_free(y);
    if (rc) {
        slm_run_cfg_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int slm_run_cfg_load(const char *path, slm_run_cfg **out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (slm_yaml_check_size(path, err, errlen) || slm_read_file(path, &text, &len, err, errlen))
        return -1;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? slm_xstrndup(path, (size_t)(slash - path)) : slm_xstrdup(".");
    if (!dir[0]) {
        free(dir);
        dir = slm_xstrdup("/");
    }
    int rc = slm_run_cfg_parse(path, dir, text, len, out, err, errlen);
    free(dir);
    free(text);
    return rc;
}

void slm_run_cfg_free(slm_run_cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_cands; i++) {
        slm_cand_cfg *cc = &c->cands[i];
        for (size_t k = 0; k < cc->n_opts; k++) {
            free((char *)cc->opts[k].key);
            free((char *)cc->opts[k].value);
        }
        free(cc->opts);
        free(cc->name);
        free(cc->engine);
        free(cc->model);
        free(cc->model_path);
    }
    free(c->cands);
    for (size_t i = 0; i < c->n_stop; i++)
        free(c->stop[i]);
    free(c->stop);
    free(c->path);
    free(c->dir);
    free(c->text);
    free(c->name);
    free(c->evalset);
    free(c->split);
    free(c->mode);
    free(c->choice_prefix);
    free(c->calib_split);
    for (size_t i = 0; i < c->n_events; i++)
        free(c->events[i]);
    free(c->events);
    free(c);
}
