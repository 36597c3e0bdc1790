/* runner.c — see runner.h. */
#include "runner.h"
#include "scoring.h"
#include "store_run.h"
#include "store_load.h"
#include "aggregate.h"
#include "analysis.h"
#include "evalset.h"
#include "gguf.h"
#include "metrics.h"
#include "counters.h"
#include "prompt.h"
#include "ctlesc.h"
#include "redact.h"
#include "roofline.h"
#include "sha256.h"
#include "structured.h"
#include "util.h"
#include "version.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* ---- probe: clocks at the engine's phase boundaries ---- */

#define MAX_EVENTS 16
#define REPEAT_CHUNK 32 /* examples per pass of repeats (sequential runs) */

typedef struct probe_state {
    uint64_t begin[SLM_PHASE_COUNT], end[SLM_PHASE_COUNT];
    int n_tokens[SLM_PHASE_COUNT];
    /* counters read at the same boundaries: the whole process, all threads */
    slm_counters *ctr;
    size_t nev;
    int64_t cb[SLM_PHASE_COUNT][MAX_EVENTS], ce[SLM_PHASE_COUNT][MAX_EVENTS];
    double scale[SLM_PHASE_COUNT][MAX_EVENTS];
    int64_t cpu_b[SLM_PHASE_COUNT], cpu_e[SLM_PHASE_COUNT];
} probe_state;

static void probe_begin(void *ud, slm_phase ph)
{
    probe_state *p = ud;
    if (ph >= SLM_PHASE_COUNT)
        return;
    if (p->ctr) {
        slm_counters_read(p->ctr, p->cb[ph], NULL);
        p->cpu_b[ph] = slm_process_cpu_ns();
    }
    p->begin[ph] = slm_now_ns();
}

static void probe_end(void *ud, slm_phase ph, int n_tokens)
{
    probe_state *p = ud;
    if (ph >= SLM_PHASE_COUNT)
        return;
    p->end[ph] = slm_now_ns();
    p->n_tokens[ph] = n_tokens;
    if (p->ctr) {
        p->cpu_e[ph] = slm_process_cpu_ns();
        slm_counters_read(p->ctr, p->ce[ph], p->scale[ph]);
    }
}

static double phase_ms(const probe_state *p, slm_phase ph)
{
    if (!p->begin[ph] || !p->end[ph] || p->end[ph] < p->begin[ph])
        return NAN;
    return (double)(p->end[ph] - p->begin[ph]) / 1e6;
}

/* ---- the prepared run ---- */

/* 1 if example i belongs to this process's shard (run --shard I/N). */
#define IN_SHARD(o, i) ((o)->shard_n <= 0 || (long)((i) % (size_t)(o)->shard_n) == (o)->shard_i)

typedef struct cand_state {
    const slm_cand_cfg *cfg;
    slm_plugin *plugin;
    const char *model;   /* what the engine gets: cfg->model_path or cfg->model (a name) */
    slm_option *opts;    /* cfg->opts with that model (the strings are the config's) */
    int64_t id;
    char quant[32];      /* from the GGUF header, for the quantization policy */
    /* while the candidate runs (cand_begin .. cand_end) */
    slm_engine *eng;
    int chat;
    int active;          /* begun and not ended */
    int rc;              /* SLM_RUN_* so far */
    char err[SLM_ERRLEN];
    unsigned char *done; /* [n] stored already (resume) */
    size_t todo, n_done;
    double t0, engine_ms, last_draw;
    int conc;            /* requests in flight at once (1: one after another) */
    double conc_ms;      /* time inside generate_many() for stored passes */
    size_t conc_n;       /* requests those passes finished */
    double load1_before, steal_before[2];
    /* what the render pass learnt before any example ran (engines with render()) */
    int *ntok;           /* [n] tokens of each example's text as the model gets it, or NULL */
    char *rendered;      /* [n * 65] SHA-256 of that text where a chat template wraps it */
    char probe_sha[65];  /* SHA-256 of the probe conversation as rendered, "" none */
    int n_ctx_need;      /* longest prompt + longest continuation, tokens; 0 unknown */
} cand_state;

typedef struct run_ctx {
    const slm_run_cfg *cfg;
    slm_store *st;
    const slm_run_opts *o;
    slm_evalset *es;
    slm_dataset *ds;
    size_t n;            /* examples evaluated (limit applied) */
    size_t split_n;      /* the split's examples before limit's sample */
    char **prompts;      /* [n] rendered once */
    char **choices;      /* [n_labels] choice_prefix + label */
    cand_state *cands;
    int64_t run_id;
    slm_counters *ctr;   /* whole-process counters, or NULL */
    slm_dataset *cal;    /* calibration split, or NULL */
    char **cal_prompts;
    char *grammar;       /* JSON tasks: the fields as a GBNF grammar */
    char *schema;        /* ... and as a JSON Schema */
    char *shots;         /* few-shot block put before every prompt, or NULL */
    char *shot_ids;      /* JSON array of the few-shot example ids */
    size_t turn;         /* examples per turn of interleaved candidates; 0 one after another */
    const char *mode_as; /* stored as runs.mode instead of the config's (a load test), or NULL */
} run_ctx;

static void ctx_free(run_ctx *c)
{
    if (c->prompts)
        for (size_t i = 0; i < c->n; i++)
            free(c->prompts[i]);
    free(c->prompts);
    if (c->choices && c->es)
        for (size_t i = 0; i < c->es->n_labels; i++)
            free(c->choices[i]);
    free(c->choices);
    if (c->cands)
        for (size_t i = 0; i < c->cfg->n_cands; i++) {
            free(c->cands[i].opts);
            free(c->cands[i].ntok);
            free(c->cands[i].rendered);
        }
    free(c->cands);
    if (c->cal_prompts)
        for (size_t i = 0; i < c->cal->n; i++)
            free(c->cal_prompts[i]);
    free(c->cal_prompts);
    slm_dataset_free(c->cal);
    slm_counters_close(c->ctr);
    free(c->grammar);
    free(c->schema);
    free(c->shots);
    free(c->shot_ids);
    slm_dataset_free(c->ds);
    slm_evalset_free(c->es);
}

static char *host_json(void)
{
    json_t *h = json_object();
    char name[256] = "";
    gethostname(name, sizeof name - 1);
    json_object_set_new(h, "hostname", json_string(name));
    struct utsname u;
    if (uname(&u) == 0) {
        json_object_set_new(h, "kernel", json_string(u.release));
        json_object_set_new(h, "machine", json_string(u.machine));
    }
    json_object_set_new(h, "cpus_online", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && psz > 0)
        json_object_set_new(h, "mem_bytes", json_integer((json_int_t)pages * psz));
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *v = strchr(line, ':');
                if (v) {
                    v = slm_trim(v + 1);
                    json_object_set_new(h, "cpu", json_string(v));
                }
                break;
            }
        fclose(f);
    }
    char *s = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(h);
    char *r = slm_xstrdup(s);
    free(s);
    return r;
}

/* ---- limit: N, a seeded sample that keeps the label mix ---- */

/* How many examples of each label a sample of k of n rows takes: k·n_l/n rounded by
 * largest remainder (ties: the label declared first), except that while k ≥ the labels
 * present (L), every label gets one and the other k − L go by (k − L)·(n_l − 1)/(n − L).
 * Exact integer arithmetic; a label never gets more rows than it has. cnt[l] rows of
 * label l, nl labels; alloc[l] the result. Returns the labels present. */
static size_t limit_alloc(const size_t *cnt, size_t nl, size_t n, size_t k, size_t *alloc)
{
    size_t present = 0;
    for (size_t l = 0; l < nl; l++)
        present += cnt[l] > 0;
    int one_each = k >= present;
    size_t den = one_each ? n - present : n, num_k = one_each ? k - present : k, given = 0;
    uint64_t *rem = slm_xcalloc(nl ? nl : 1, sizeof *rem);
    for (size_t l = 0; l < nl; l++) {
        size_t base = one_each ? (cnt[l] ? cnt[l] - 1 : 0) : cnt[l];
        uint64_t num = (uint64_t)num_k * base;
        alloc[l] = den ? (size_t)(num / den) : 0;
        rem[l] = den ? num % den : 0;
        given += alloc[l];
    }
    for (; given < num_k; given++) { /* the largest remainders, declared order on ties */
        size_t best = nl;
        for (size_t l = 0; l < nl; l++)
            if (cnt[l] && (best == nl || rem[l] > rem[best]))
                best = l;
        if (best == nl)
            break; /* no label present (the loader refuses such rows; defensive) */
        alloc[best]++;
        rem[best] = 0;
    }
    for (size_t l = 0; one_each && l < nl; l++)
        alloc[l] += cnt[l] > 0;
    free(rem);
    return present;
}

/* Marks in keep[] want of the m rows idx[0..m) (partial Fisher–Yates with rng). */
static void limit_draw(slm_rng *rng, size_t *idx, size_t m, size_t want, unsigned char *keep)
{
    for (size_t i = 0; i < want && i < m; i++) {
        size_t j = i + (size_t)slm_rng_below(rng, m - i);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        keep[idx[i]] = 1;
    }
}

/* Keeps the rows marked in keep (in file order), frees the others. */
static void limit_keep(slm_dataset *ds, const unsigned char *keep)
{
    size_t w = 0;
    for (size_t i = 0; i < ds->n; i++) {
        if (keep[i]) {
            ds->rows[w++] = ds->rows[i];
            continue;
        }
        free(ds->rows[i].id);
        free(ds->rows[i].text);
        free(ds->rows[i].label);
        free(ds->rows[i].slice);
    }
    ds->n = w;
}

/* limit: k of the split's rows, drawn with the run's seed and kept in file order: for a
 * classification task a stratified sample (limit_alloc per gold label, each label's rows
 * drawn in declared label order from one stream), otherwise a simple random sample.
 * Every process of a run (shards, --resume) draws the same rows. */
static void limit_sample(run_ctx *c, size_t k)
{
    slm_dataset *ds = c->ds;
    size_t n = ds->n, nl = c->es->task_kind == SLM_TASK_CLASSIFICATION ? c->es->n_labels : 0;
    unsigned char *keep = slm_xcalloc(n, 1);
    size_t *idx = slm_xcalloc(n, sizeof *idx);
    slm_rng rng;
    slm_rng_seed(&rng, (uint64_t)c->cfg->seed);
    if (!nl) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        limit_draw(&rng, idx, n, k, keep);
    } else {
        size_t *cnt = slm_xcalloc(nl, sizeof *cnt), *alloc = slm_xcalloc(nl, sizeof *alloc);
        int *lab = slm_xcalloc(n, sizeof *lab);
        for (size_t i = 0; i < n; i++) {
            lab[i] = slm_label_index((const char *const *)c->es->labels, nl, ds->rows[i].label);
            cnt[lab[i] >= 0 ? lab[i] : 0] += lab[i] >= 0;
        }
        limit_alloc(cnt, nl, n, k, alloc);
        for (size_t l = 0; l < nl; l++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (lab[i] == (int)l)
                    idx[m++] = i;
            limit_draw(&rng, idx, m, alloc[l], keep);
        }
        free(cnt);
        free(alloc);
        free(lab);
    }
    limit_keep(ds, keep);
    free(keep);
    free(idx);
}

/* v with thousands separated by commas (3,080) into out. */
static void group_digits(size_t v, char *out, size_t len)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%zu", v), w = 0;
    for (int i = 0; i < n && (size_t)w + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            out[w++] = ',';
        out[w++] = d[i];
    }
    out[w] = '\0';
}

/* Says on stderr what `limit` chose: "limit: 200 of 3,080 examples, stratified by label,
 * seed 1", and when the sample cannot hold every label. */
static void say_limit(const run_ctx *c, size_t whole)
{
    char a[32], b[32];
    group_digits(c->ds->n, a, sizeof a);
    group_digits(whole, b, sizeof b);
    int cls = c->es->task_kind == SLM_TASK_CLASSIFICATION;
    if (c->ds->n >= whole) {
        slm_say(stderr, "slmbench: limit: %ld is at least the %s examples of the split: all "
                "are evaluated\n", c->cfg->limit, b);
        return;
    }
    slm_say(stderr, "slmbench: limit: %s of %s examples, %s, seed %ld\n", a, b,
            cls ? "stratified by label" : "a random sample", c->cfg->seed);
    size_t present = 0;
    unsigned char *seen = slm_xcalloc(c->es->n_labels ? c->es->n_labels : 1, 1);
    for (size_t i = 0; cls && i < c->ds->n; i++) {
        int l = slm_label_index((const char *const *)c->es->labels, c->es->n_labels,
                                c->ds->rows[i].label);
        if (l >= 0 && !seen[l]++)
            present++;
    }
    free(seen);
    if (cls && c->ds->n < c->es->n_labels)
        slm_say(stderr, "slmbench: warning: limit %ld is below the %zu labels: only %zu of "
                "them are represented (raise limit to at least %zu)\n", c->cfg->limit,
                c->es->n_labels, present, c->es->n_labels);
}

/* The eval set, its evaluated and calibration splits, and what a JSON task needs. */
static int load_inputs(run_ctx *c, char *err, size_t errlen)
{
    const slm_run_cfg *cfg = c->cfg;
    if (slm_evalset_load(cfg->evalset, &c->es, err, errlen))
        return SLM_RUN_BAD_INPUT;
    if (slm_prompt_check(c->es->prompt, c->es->prompt_path, err, errlen))
        return SLM_RUN_BAD_INPUT;
    if (slm_evalset_load_split(c->es, cfg->split, cfg->skip_bad_rows, &c->ds, err, errlen))
        return SLM_RUN_BAD_INPUT;
    if (c->ds->n_skipped)
        slm_say(stderr, "slmbench: warning: skipped %zu bad rows of '%s' (first: %s)\n",
                c->ds->n_skipped, c->ds->path, c->ds->first_skip_reason);
    if (cfg->calib_split) {
        if (slm_evalset_load_split(c->es, cfg->calib_split, cfg->skip_bad_rows, &c->cal, err,
                                   errlen))
            return SLM_RUN_BAD_INPUT;
        if (!strcmp(c->cal->sha256, c->ds->sha256)) {
            slm_err(err, errlen, "%s: the calibration split '%s' holds the same data as the "
                    "evaluated split; temperature scaling is never fitted on the test split",
                    cfg->path, cfg->calib_split);
            return SLM_RUN_BAD_INPUT;
        }
    }
    int json_task = c->es->task_kind != SLM_TASK_CLASSIFICATION;
    if (json_task && !strcmp(cfg->mode, "score")) {
        slm_err(err, errlen, "%s: eval set '%s' is a %s task: its answers are JSON objects, so "
                "the run needs mode: generate", cfg->path, c->es->name, c->es->task);
        return SLM_RUN_BAD_INPUT;
    }
    if (json_task) {
        c->grammar = slm_fields_grammar(c->es->fields, c->es->n_fields);
        c->schema = slm_fields_schema(c->es->fields, c->es->n_fields);
    }
    size_t whole = c->ds->n;
    c->split_n = whole;
    if (cfg->limit > 0 && (size_t)cfg->limit < whole)
        limit_sample(c, (size_t)cfg->limit);
    c->n = c->ds->n;
    if (cfg->limit > 0)
        say_limit(c, whole);
    return SLM_RUN_OK;
}

/* Few-shot examples from the train split, drawn with the recorded seed; the same block for
 * every example and candidate. */
static int draw_few_shots(run_ctx *c, char *err, size_t errlen)
{
    const slm_run_cfg *cfg = c->cfg;
    slm_dataset *tr;
    if (slm_evalset_load_split(c->es, "train", 0, &tr, err, errlen))
        return SLM_RUN_BAD_INPUT;
    size_t k = (size_t)cfg->few_shot < tr->n ? (size_t)cfg->few_shot : tr->n;
    size_t *idx = slm_xcalloc(tr->n ? tr->n : 1, sizeof *idx);
    for (size_t i = 0; i < tr->n; i++)
        idx[i] = i;
    slm_rng rng;
    slm_rng_seed(&rng, (uint64_t)cfg->few_shot_seed);
    for (size_t i = 0; i < k; i++) { /* partial Fisher-Yates */
        size_t j = i + (size_t)slm_rng_below(&rng, tr->n - i);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    slm_buf sb = {0}, ids = {0};
    slm_buf_putc(&ids, '[');
    for (size_t i = 0; i < k; i++) {
        const slm_example *ex = &tr->rows[idx[i]];
        char *p = slm_prompt_render(c->es->prompt, ex->text, ex->id,
                                    (const char *const *)c->es->labels, c->es->n_labels);
        slm_buf_printf(&sb, "%s %s\n\n", p, ex->label);
        free(p);
        json_t *js = json_string(ex->id);
        char *d = json_dumps(js, JSON_ENCODE_ANY);
        slm_buf_printf(&ids, "%s%s", i ? "," : "", d);
        free(d);
        json_decref(js);
    }
    slm_buf_putc(&ids, ']');
    c->shots = slm_buf_take(&sb);
    c->shot_ids = slm_buf_take(&ids);
    free(idx);
    slm_dataset_free(tr);
    return SLM_RUN_OK;
}

/* The candidate's engine: known, enabled, able to do what the run's mode and concurrency
 * ask of it. */
static int check_engine(run_ctx *c, slm_plugins *ps, cand_state *cs, char *err, size_t errlen)
{
    const slm_run_cfg *cfg = c->cfg;
    const slm_cand_cfg *cc = cs->cfg;
    int is_score = !strcmp(cfg->mode, "score");
    cs->plugin = slm_plugins_find(ps, cc->engine);
    if (!cs->plugin) {
        slm_buf names = {0};
        slm_plugins_names(ps, &names);
        slm_err(err, errlen, "%s:%d: candidate '%s': unknown engine '%s' (available: %s)",
                cfg->path, cc->line, cc->name, cc->engine, names.len ? names.data : "none");
        slm_buf_free(&names);
        return SLM_RUN_BAD_INPUT;
    }
    if (!cs->plugin->enabled) {
        slm_err(err, errlen, "candidate '%s': engine '%s' is disabled: %s", cc->name,
                cc->engine, cs->plugin->reason);
        return SLM_RUN_ENGINE;
    }
    uint32_t caps = cs->plugin->vt->caps;
    if (is_score && !(caps & SLM_CAP_SCORE && cs->plugin->vt->score)) {
        slm_err(err, errlen, "%s:%d: candidate '%s': engine '%s' cannot score choices; use "
                "mode: generate", cfg->path, cc->line, cc->name, cc->engine);
        return SLM_RUN_BAD_INPUT;
    }
    if (!is_score && !(caps & SLM_CAP_GENERATE && cs->plugin->vt->generate)) {
        slm_err(err, errlen, "%s:%d: candidate '%s': engine '%s' cannot generate; use "
                "mode: score", cfg->path, cc->line, cc->name, cc->engine);
        return SLM_RUN_BAD_INPUT;
    }
    int (*check_options)(const slm_options *, char *, size_t) =
            SLM_SLOT(cs->plugin->vt, check_options);
    slm_options given = {cc->opts, cc->n_opts};
    char e2[SLM_ERRLEN] = "";
    if (check_options && check_options(&given, e2, sizeof e2) != 0) {
        slm_err(err, errlen, "%s:%d: candidate '%s': %s", cfg->path, cc->line, cc->name,
                e2[0] ? e2 : "bad options");
        return SLM_RUN_BAD_INPUT;
    }
    cs->conc = cc->concurrency > 0 ? cc->concurrency : cfg->concurrency; /* default 1 */
    if (cs->conc > 1 && is_score) {
        slm_err(err, errlen, "%s:%d: candidate '%s': concurrency %d needs mode: generate "
                "(score mode's parallel form is throughput: true)", cfg->path, cc->line,
                cc->name, cs->conc);
        return SLM_RUN_BAD_INPUT;
    }
    if (cs->conc > 1 && !(caps & SLM_CAP_CONCURRENT && SLM_SLOT(cs->plugin->vt, generate_many))) {
        slm_err(err, errlen, "%s:%d: candidate '%s': engine '%s' cannot keep requests in "
                "flight at once (concurrency %d); leave concurrency at 1, or use an engine "
                "that can (llamacpp in process, openai for a served model)", cfg->path, cc->line, cc->name, cc->engine,
                cs->conc);
        return SLM_RUN_BAD_INPUT;
    }
    return SLM_RUN_OK;
}

/* The candidate's model (a file for engines that read one, resolved against the config's
 * folder; a name as written for the others) and its options with that model; a GGUF
 * file's quantization, which must match the first candidate's unless the config mixes on
 * purpose (*first: the first candidate with a quantization so far). */
static int check_model(run_ctx *c, cand_state *cs, const cand_state **first, char *err,
                       size_t errlen)
{
    const slm_run_cfg *cfg = c->cfg;
    const slm_cand_cfg *cc = cs->cfg;
    uint32_t caps = cs->plugin->vt->caps;
    cs->model = caps & SLM_CAP_MODEL_FILE ? cc->model_path : cc->model;
    /* two spare slots: vocab_only and n_ctx for the context sizing (cand_begin) */
    cs->opts = slm_xcalloc(cc->n_opts + 2, sizeof *cs->opts);
    for (size_t k = 0; k < cc->n_opts; k++) {
        cs->opts[k] = cc->opts[k];
        if (!strcmp(cc->opts[k].key, "model"))
            cs->opts[k].value = cs->model;
    }
    if (!(caps & SLM_CAP_GGUF))
        return SLM_RUN_OK;
    if (!cs->model) {
        slm_err(err, errlen, "%s:%d: candidate '%s' has no 'model' file", cfg->path, cc->line,
                cc->name);
        return SLM_RUN_BAD_INPUT;
    }
    slm_gguf_info gi;
    char e2[SLM_ERRLEN];
    if (slm_gguf_inspect(cs->model, &gi, e2, sizeof e2)) {
        slm_err(err, errlen, "%s:%d: candidate '%s': %s", cfg->path, cc->line, cc->name, e2);
        return SLM_RUN_BAD_INPUT;
    }
    snprintf(cs->quant, sizeof cs->quant, "%s", gi.quant);
    if (cfg->mixed_quant)
        return SLM_RUN_OK;
    if (!*first) {
        *first = cs;
    } else if (strcmp((*first)->quant, cs->quant)) {
        slm_err(err, errlen,
                "%s: quantization differs between candidates ('%s' is %s, '%s' is %s); a fair "
                "comparison holds it equal — add 'quantization: mixed' to the config to compare "
                "quantizations on purpose",
                cfg->path, (*first)->cfg->name, (*first)->quant, cc->name, cs->quant);
        return SLM_RUN_BAD_INPUT;
    }
    return SLM_RUN_OK;
}

/* Renders every prompt once (the same bytes go to every candidate), the calibration
 * prompts and the label choices. */
static void render_prompts(run_ctx *c)
{
    c->prompts = slm_xcalloc(c->n ? c->n : 1, sizeof *c->prompts);
    for (size_t i = 0; i < c->n; i++) {
        char *p = slm_prompt_render(c->es->prompt, c->ds->rows[i].text, c->ds->rows[i].id,
                                    (const char *const *)c->es->labels, c->es->n_labels);
        if (c->shots) {
            c->prompts[i] = slm_xasprintf("%s%s", c->shots, p);
            free(p);
        } else {
            c->prompts[i] = p;
        }
    }
    if (c->cal) {
        c->cal_prompts = slm_xcalloc(c->cal->n ? c->cal->n : 1, sizeof *c->cal_prompts);
        for (size_t i = 0; i < c->cal->n; i++)
            c->cal_prompts[i] = slm_prompt_render(c->es->prompt, c->cal->rows[i].text,
                                                  c->cal->rows[i].id,
                                                  (const char *const *)c->es->labels,
                                                  c->es->n_labels);
    }
    c->choices = slm_xcalloc(c->es->n_labels ? c->es->n_labels : 1, sizeof *c->choices);
    for (size_t i = 0; i < c->es->n_labels; i++)
        c->choices[i] = slm_xasprintf("%s%s", c->cfg->choice_prefix, c->es->labels[i]);
}

/* Validates everything that can be checked without loading a model. */
/* The secrets of this run (redact.h), known before anything is stored or printed: what
 * each candidate's options name as secret, and slmbench's secret-named variables. */
static void register_secrets(const slm_run_cfg *cfg)
{
    slm_secret_add_environ();
    for (size_t i = 0; i < cfg->n_cands; i++)
        for (size_t k = 0; k < cfg->cands[i].n_opts; k++)
            slm_secret_add_option(cfg->cands[i].opts[k].key, cfg->cands[i].opts[k].value);
}

static int prepare(run_ctx *c, slm_plugins *ps, char *err, size_t errlen)
{
    register_secrets(c->cfg);
    int rc = load_inputs(c, err, errlen);
    if (rc == SLM_RUN_OK && c->cfg->few_shot > 0)
        rc = draw_few_shots(c, err, errlen);
    if (rc != SLM_RUN_OK)
        return rc;
    c->cands = slm_xcalloc(c->cfg->n_cands, sizeof *c->cands);
    const cand_state *first = NULL;
    for (size_t i = 0; i < c->cfg->n_cands && rc == SLM_RUN_OK; i++) {
        cand_state *cs = &c->cands[i];
        cs->cfg = &c->cfg->cands[i];
        rc = check_engine(c, ps, cs, err, errlen);
        if (rc == SLM_RUN_OK)
            rc = check_model(c, cs, &first, err, errlen);
    }
    if (rc == SLM_RUN_OK)
        render_prompts(c);
    return rc;
}

/* The eval set's fields as stored: [{name, type, values?}]. Caller frees. */
static char *fields_json(const slm_evalset *es)
{
    json_t *fj = json_array();
    for (size_t i = 0; i < es->n_fields; i++) {
        const slm_field_def *f = &es->fields[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(f->name));
        json_object_set_new(o, "type", json_string(f->type == SLM_FIELD_ENUM     ? "enum"
                                                   : f->type == SLM_FIELD_NUMBER ? "number"
                                                   : f->type == SLM_FIELD_LIST   ? "list"
                                                                                 : "string"));
        if (f->type == SLM_FIELD_ENUM) {
            json_t *vals = json_array();
            for (size_t k = 0; k < f->n_values; k++)
                json_array_append_new(vals, json_string(f->values[k]));
            json_object_set_new(o, "values", vals);
        }
        json_array_append_new(fj, o);
    }
    char *fd = json_dumps(fj, JSON_COMPACT);
    json_decref(fj);
    return fd;
}

/* Bytes of memory available now (/proc/meminfo's MemAvailable); 0 unknown. */
static double mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    double kb = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024.0;
}

/* Whether the candidates take turns (interleave: true, or auto with the models fitting in
 * memory together) and how many examples a turn holds. Interleaving is what makes their
 * latencies comparable on a busy machine: a burst of load hits a turn of each alike.
 * auto: the model files, plus a quarter for context and compute buffers, must fit in the
 * memory available now (a model served over HTTP takes none here). A run with one
 * candidate has nothing to interleave with. */
static size_t decide_turn(const run_ctx *c)
{
    const slm_run_cfg *cfg = c->cfg;
    if (cfg->interleave == SLM_INTERLEAVE_OFF || cfg->n_cands < 2)
        return 0;
    if (cfg->interleave == SLM_INTERLEAVE_AUTO) {
        double need = 0, have = mem_available();
        for (size_t i = 0; i < cfg->n_cands; i++) {
            struct stat sb;
            const char *m = cfg->cands[i].model_path;
            if (m && stat(m, &sb) == 0)
                need += 1.25 * (double)sb.st_size;
        }
        if (!(have > 0) || need > have) {
            if (c->o->progress)
                fprintf(stderr, "slmbench: candidates run one after another: their models "
                                "need about %.1f GiB together, %.1f GiB is available "
                                "(interleave: auto)\n",
                        need / 1073741824.0, have / 1073741824.0);
            return 0;
        }
    }
    /* with repeats, a turn of one example would run the same prompt twice in a row (a
     * cache hit, not a request): two at least */
    int turn = cfg->interleave_turn > 0 ? cfg->interleave_turn : 1;
    if (cfg->repeats > 1 && turn < 2)
        turn = 2;
    return (size_t)turn;
}

/* The run row: the config, the host, the shard and the machine's memory bandwidth. */
static int record_run_row(run_ctx *c, char *err, size_t errlen)
{
    const slm_run_cfg *cfg = c->cfg;
    char now[32], sh[48];
    slm_utc_iso8601(now, sizeof now);
    snprintf(sh, sizeof sh, "%d/%d", c->o->shard_i, c->o->shard_n);
    char *host = host_json();
    slm_run_row r = {cfg->name, now, c->mode_as ? c->mode_as : cfg->mode, cfg->path, cfg->text, cfg->sha256, SLM_VERSION,
                     SLM_GIT_REV, host, cfg->mixed_quant ? "mixed" : "same",
                     c->o->shard_n > 0 ? sh : NULL, NAN, (long)c->turn, c->o->as_of};
    /* The machine's memory bandwidth, for the roofline: 3 × 64 MiB arrays. */
    if (cfg->bandwidth && !c->mode_as)
        r.bandwidth_gbs = slm_stream_triad_gbs((size_t)8 << 20, cfg->threads, 5);
    int rc = slm_store_begin_run(c->st, &r, &c->run_id, err, errlen);
    free(host);
    return rc;
}

/* The eval set row: what was evaluated, with which prompt and calibration split. */
static int record_evalset(run_ctx *c, char *err, size_t errlen)
{
    const slm_run_cfg *cfg = c->cfg;
    json_t *labels = json_array();
    for (size_t i = 0; i < c->es->n_labels; i++)
        json_array_append_new(labels, json_string(c->es->labels[i]));
    char *lj = json_dumps(labels, JSON_COMPACT);
    json_decref(labels);
    char *fd = fields_json(c->es);
    slm_evalset_row e = {c->es->name, c->es->version, cfg->split, c->ds->path, c->ds->sha256,
                         (long)c->n, (long)c->ds->n_skipped, lj, c->es->prompt_path,
                         c->es->prompt, c->es->prompt_sha256, cfg->choice_prefix, c->es->task,
                         fd, c->shot_ids, NULL, NULL, NULL, 0, (long)c->split_n};
    if (c->cal) {
        e.calib_split = cfg->calib_split;
        e.calib_path = c->cal->path;
        e.calib_sha256 = c->cal->sha256;
        e.calib_n_rows = (long)c->cal->n;
    }
    int rc = slm_store_add_evalset(c->st, c->run_id, &e, err, errlen);
    free(lj);
    free(fd);
    return rc;
}

/* The examples of this shard, with the hash of the prompt each one is given. */
static int record_examples(run_ctx *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!IN_SHARD(c->o, i))
            continue;
        char h[65];
        slm_sha256_hex(c->prompts[i], strlen(c->prompts[i]), h);
        const slm_example *ex = &c->ds->rows[i];
        if (slm_store_add_example(c->st, c->run_id, (long)i, ex->id, ex->label, ex->line, h, err,
                                  errlen))
            return -1;
    }
    return 0;
}

/* The candidates, pending, with their options as given. */
static int record_candidates(run_ctx *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->cfg->n_cands; i++) {
        const slm_cand_cfg *cc = &c->cfg->cands[i];
        cand_state *cs = &c->cands[i];
        json_t *o = json_object();
        for (size_t k = 0; k < cc->n_opts; k++)
            json_object_set_new(o, cs->opts[k].key, json_string(cs->opts[k].value));
        char *oj = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        slm_cand_row r = {(long)i, cc->name, cc->engine, cs->model, oj,
                          cs->quant[0] ? cs->quant : NULL, cc->constrained, cs->conc};
        int rc = slm_store_add_candidate(c->st, c->run_id, &r, &cs->id, err, errlen);
        free(oj);
        if (rc)
            return -1;
    }
    return 0;
}

/* Records the run, its eval set, its examples and its candidates, in one transaction. */
static int record_run(run_ctx *c, char *err, size_t errlen)
{
    if (slm_store_begin(c->st, err, errlen))
        return -1;
    c->turn = decide_turn(c);
    if (record_run_row(c, err, errlen) || record_evalset(c, err, errlen) ||
        record_examples(c, err, errlen) || record_candidates(c, err, errlen)) {
        slm_store_rollback(c->st);
        return -1;
    }
    return slm_store_commit(c->st, err, errlen);
}

static int set_run_status(slm_store *st, int64_t run_id, const char *status, const char *error)
{
    return slm_store_set_run_status(st, run_id, status, error);
}

static int set_cand_status(slm_store *st, int64_t id, const char *status, const char *error)
{
    return slm_store_set_cand_status(st, id, status, error);
}

/* A write of the candidate's record failed (a full disk, an I/O error): the candidate
 * fails with the store's message, so nothing is half-recorded under an 'ok' and the run
 * resumes it. Returns SLM_RUN_ENGINE. */
static int store_failed(slm_store *st, cand_state *cs, const char *what)
{
    char e[SLM_ERRLEN];
    slm_store_db_err(st, what, e, sizeof e);
    slm_err(cs->err, sizeof cs->err, "candidate '%s': %s", cs->cfg->name, e);
    return cs->rc = SLM_RUN_ENGINE;
}

/* "" as NULL: the engine's unknown strings are stored as unknown. */
static const char *known(const char *s)
{
    return s && s[0] ? s : NULL;
}

static int store_model_facts(slm_store *st, const cand_state *cs, const slm_model_info *mi,
                             const char *sha, int chat_used, uint32_t caps, double load_ms)
{
    char capsbuf[160];
    slm_caps_str(caps, capsbuf, sizeof capsbuf);
    slm_model_facts f = {
        known(mi->engine_version), sha, known(mi->arch), known(mi->name), known(mi->quant),
        mi->n_params, mi->size_bytes, mi->n_ctx, mi->n_ctx_train, mi->n_vocab, mi->n_layer,
        mi->n_embd, mi->n_threads, known(mi->chat_template), chat_used, capsbuf, load_ms,
        known(mi->chat_template_text_sha256), known(cs->probe_sha), cs->n_ctx_need,
        mi->kv_bytes,
        /* 0 layers is a fact where the engine names its device, unknown otherwise */
        mi->device[0] ? mi->n_gpu_layers : -1, known(mi->device)};
    return slm_store_set_model_facts(st, cs->id, &f);
}

/* ---- progress ---- */

static void progress(const run_ctx *c, size_t ci, const char *name, size_t done, size_t total,
                     double t0_ms, int final)
{
    if (!c->o->progress)
        return;
    double el = (slm_now_ms() - t0_ms) / 1000.0;
    double rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    int width = 24, fill = total ? (int)((double)width * (double)done / (double)total) : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    slm_buf shown = {0}; /* the name's control characters shown, never sent raw */
    slm_ctl_text(&shown, name);
    fprintf(stderr, "\r\033[K[%zu/%zu] %-20.20s [%s] %zu/%zu %6.1f ex/s ETA %3.0fs%s", ci + 1,
            c->cfg->n_cands, shown.data ? shown.data : "", bar, done, total, rate, eta,
            final ? "\n" : "");
    slm_buf_free(&shown);
    fflush(stderr);
}

/* ---- one candidate ---- */

/* Reads which examples a candidate already has (resume). done[i] = 1 if stored. */
static int load_done(run_ctx *c, int64_t cid, unsigned char *done, int retry_errors, char *err,
                     size_t errlen)
{
    return slm_store_done_examples(c->st, c->run_id, cid, 0, retry_errors, done, c->n, err,
                                   errlen);
}

typedef struct outcome {
    slm_pred_row row;
    char *probs, *probs_mean, *logprobs, *ntok, *raw, *error;
    char *invalid_pred; /* generate mode: an answer outside the label set */
    char *json_pred;    /* JSON tasks: the recovered object */
    char fail_kinds[160];
    int have_counters;
    double ctr[SLM_PHASE_COUNT][MAX_EVENTS + 1]; /* deltas per phase; last: process CPU ns */
    double ctr_scale[SLM_PHASE_COUNT][MAX_EVENTS];
} outcome;

static void outcome_free(outcome *o)
{
    free(o->invalid_pred);
    free(o->json_pred);
    free(o->probs_mean);
    free(o->probs);
    free(o->logprobs);
    free(o->ntok);
    free(o->raw);
    free(o->error);
}

/* Generation parameters of a candidate: the run's, and the fields' grammar and schema for
 * a constrained candidate of a JSON task. */
static slm_gen_params gen_params(const run_ctx *c, const cand_state *cs)
{
    slm_gen_params gp = {sizeof gp, c->cfg->max_tokens, (const char *const *)c->cfg->stop,
                         c->cfg->n_stop, cs->cfg->constrained ? c->grammar : NULL,
                         cs->cfg->constrained ? c->schema : NULL, 0.0, 0};
    return gp;
}

/* Empties out and fills the parts of example i's prediction row known before the call. */
static void outcome_init(run_ctx *c, cand_state *cs, size_t i, outcome *out)
{
    const slm_example *ex = &c->ds->rows[i];
    slm_pred_row *r = &out->row;
    memset(out, 0, sizeof *out);
    r->run_id = c->run_id;
    r->candidate_id = cs->id;
    r->example_idx = (long)i;
    r->example_id = ex->id;
    r->gold = ex->label;
    r->confidence = r->e2e_ms = r->prefill_ms = r->decode_ms = r->ttft_ms = r->tpot_ms = NAN;
    r->n_prompt_tokens = r->n_output_tokens = -1;
}

/* Judges a generated answer (res, or the error of a failed call) into the row. */
static void judge_generated(run_ctx *c, size_t i, const slm_gen_result *res, const char *err,
                            outcome *out, slm_timings *srv)
{
    const slm_example *ex = &c->ds->rows[i];
    size_t nl = c->es->n_labels;
    slm_pred_row *r = &out->row;
    if (!res) {
        out->error = slm_xstrdup(err && err[0] ? err : "engine error");
        return;
    }
    int gold = slm_label_index((const char *const *)c->es->labels, nl, ex->label);
    out->raw = slm_xstrndup(res->text ? res->text : "", res->text ? res->text_len : 0);
    char *ans = slm_trim(slm_xstrdup(out->raw));
    int k = c->es->task_kind == SLM_TASK_CLASSIFICATION
                ? slm_label_index((const char *const *)c->es->labels, nl, ans)
                : -2;
    if (k == -2) {
        /* a JSON answer: judged field by field, failure kinds counted */
        slm_judgement jd;
        slm_judge_json(out->raw, res->finish == SLM_FINISH_LENGTH, c->es->fields,
                       c->es->n_fields, ex->label, &jd);
        out->json_pred = jd.pred;
        r->pred = jd.pred ? jd.pred : "";
        r->valid = jd.valid;
        r->correct = jd.correct;
        snprintf(out->fail_kinds, sizeof out->fail_kinds, "%s", jd.kinds);
        free(ans);
    } else if (k >= 0) {
        r->pred = c->es->labels[k];
        r->valid = 1;
        r->correct = k == gold;
        free(ans);
    } else {
        /* outside the label set: wrong and invalid; the answer itself is stored */
        out->invalid_pred = ans;
        r->pred = ans;
    }
    r->confidence = slm_generated_confidence(res->token_logprobs, res->n_output_tokens);
    r->n_prompt_tokens = res->n_prompt_tokens;
    r->n_output_tokens = res->n_output_tokens;
    *srv = res->timings;
}

/* Fills the row's timings (and counters) from the probe, the call's clock (t0..t1) and
 * what a server measured itself. */
static void finish_timings(run_ctx *c, const probe_state *ps, uint64_t t0, uint64_t t1,
                           const slm_timings *srv, outcome *out)
{
    slm_pred_row *r = &out->row;
    r->probs_json = out->probs;
    r->probs_mean_json = out->probs_mean;
    r->fail_kinds = out->fail_kinds;
    r->logprobs_json = out->logprobs;
    r->ntok_json = out->ntok;
    r->raw_output = out->raw;
    r->error = out->error;
    if (ps->ctr) {
        out->have_counters = 1;
        for (int ph = 0; ph < SLM_PHASE_COUNT; ph++) {
            int seen = ps->begin[ph] && ps->end[ph];
            for (size_t k = 0; k < ps->nev; k++) {
                int64_t a = ps->cb[ph][k], b = ps->ce[ph][k];
                out->ctr[ph][k] = seen && a != INT64_MIN && b != INT64_MIN ? (double)(b - a) : NAN;
                out->ctr_scale[ph][k] = ps->scale[ph][k];
            }
            out->ctr[ph][ps->nev] = seen ? (double)(ps->cpu_e[ph] - ps->cpu_b[ph]) : NAN;
        }
    }
    r->e2e_ms = (double)(t1 - t0) / 1e6;
    r->prefill_ms = phase_ms(ps, SLM_PHASE_PREFILL);
    r->decode_ms = phase_ms(ps, SLM_PHASE_DECODE);
    /* A server's own timings (llama-server, Ollama) stand in where the engine could not
     * mark the phases from outside. */
    if (isnan(r->prefill_ms) && srv->prefill_ms >= 0)
        r->prefill_ms = srv->prefill_ms;
    if (isnan(r->decode_ms) && srv->decode_ms >= 0)
        r->decode_ms = srv->decode_ms;
    if (ps->end[SLM_PHASE_PREFILL] >= t0 && ps->end[SLM_PHASE_PREFILL])
        r->ttft_ms = (double)(ps->end[SLM_PHASE_PREFILL] - t0) / 1e6;
    else if (srv->ttft_ms >= 0)
        r->ttft_ms = srv->ttft_ms;
    if (r->n_output_tokens >= 2 && strcmp(c->cfg->mode, "score") && ps->end[SLM_PHASE_PREFILL])
        r->tpot_ms = (double)(t1 - ps->end[SLM_PHASE_PREFILL]) / 1e6 / (r->n_output_tokens - 1);
}

/* A probe reading clocks, and the whole process's counters when ctr is not NULL. */
static void probe_init(probe_state *ps, slm_counters *ctr)
{
    memset(ps, 0, sizeof *ps);
    ps->ctr = ctr;
    ps->nev = ctr ? slm_counters_count(ctr) : 0;
}

/* Runs one example through the engine and fills the prediction row. Returns the time
 * spent inside the engine call in ms. */
static double run_example(run_ctx *c, cand_state *cs, slm_engine *eng, int chat, size_t i,
                          outcome *out)
{
    const slm_engine_vtable *vt = cs->plugin->vt;
    const slm_example *ex = &c->ds->rows[i];
    probe_state ps;
    probe_init(&ps, c->ctr);
    slm_probe probe = {&ps, probe_begin, probe_end};
    slm_request req = {sizeof req, ex->id, c->prompts[i], strlen(c->prompts[i]), chat, &probe};
    char err[SLM_ERRLEN] = "";
    size_t nl = c->es->n_labels;
    outcome_init(c, cs, i, out);
    slm_pred_row *r = &out->row;
    int gold = slm_label_index((const char *const *)c->es->labels, nl, ex->label);
    slm_timings srv = {-1, -1, -1, -1};
    uint64_t t0 = slm_now_ns(), t1;
    if (!strcmp(c->cfg->mode, "score")) {
        slm_score_result *res = NULL;
        int rc = vt->score(eng, &req, (const char *const *)c->choices, nl, &res, err, sizeof err);
        t1 = slm_now_ns();
        if (rc == 0 && res && res->n == nl) {
            slm_scored sc;
            slm_score_labels(res->logprob, res->n_tokens, nl, c->cfg->score_mean, gold, &sc);
            r->pred = c->es->labels[sc.best];
            r->valid = 1;
            r->correct = sc.correct;
            r->confidence = sc.confidence;
            out->probs = slm_json_doubles(sc.probs, nl);
            out->probs_mean = slm_json_doubles(sc.probs_mean, nl);
            slm_scored_free(&sc);
            out->logprobs = slm_json_doubles(res->logprob, nl);
            out->ntok = slm_json_ints(res->n_tokens, nl);
            r->n_prompt_tokens = res->n_prompt_tokens;
            int tot = 0;
            for (size_t k = 0; k < nl; k++)
                tot += res->n_tokens[k];
            r->n_output_tokens = tot;
        } else {
            out->error = slm_xstrdup(rc ? (err[0] ? err : "engine error")
                                        : "engine returned a malformed score result");
        }
        if (res && vt->result_free)
            vt->result_free(res);
    } else {
        slm_gen_params gp = gen_params(c, cs);
        slm_gen_result *res = NULL;
        int rc = vt->generate(eng, &req, &gp, &res, err, sizeof err);
        t1 = slm_now_ns();
        judge_generated(c, i, rc == 0 ? res : NULL, err, out, &srv);
        if (res && vt->result_free)
            vt->result_free(res);
    }
    finish_timings(c, &ps, t0, t1, &srv, out);
    return r->e2e_ms;
}

/* Scores the calibration split (for temperature scaling), storing label log-probs. */
static int run_calibration(run_ctx *c, cand_state *cs, slm_engine *eng, int chat, char *err,
                           size_t errlen)
{
    slm_store *st = c->st;
    const slm_engine_vtable *vt = cs->plugin->vt;
    size_t n = c->cal->n, nl = c->es->n_labels;
    unsigned char *done = slm_xcalloc(n ? n : 1, 1);
    if (slm_store_done_examples(st, c->run_id, cs->id, 1, 0, done, n, err, errlen)) {
        free(done);
        return SLM_RUN_ENGINE;
    }
    int rc = SLM_RUN_OK;
    size_t batch = 0;
    for (size_t i = 0; i < n && rc == SLM_RUN_OK; i++) {
        if (done[i] || !IN_SHARD(c->o, i))
            continue;
        if (c->o->stop && *c->o->stop) {
            rc = SLM_RUN_INTERRUPTED;
            break;
        }
        const slm_example *ex = &c->cal->rows[i];
        slm_request req = {sizeof req, ex->id, c->cal_prompts[i], strlen(c->cal_prompts[i]), chat,
                           NULL};
        slm_score_result *res = NULL;
        char e2[SLM_ERRLEN] = "";
        int bad = vt->score(eng, &req, (const char *const *)c->choices, nl, &res, e2, sizeof e2);
        char *lp = NULL, *nt = NULL;
        if (!bad && res && res->n == nl) {
            lp = slm_json_doubles(res->logprob, nl);
            nt = slm_json_ints(res->n_tokens, nl);
        } else if (!e2[0]) {
            snprintf(e2, sizeof e2, "engine returned a malformed score result");
        }
        if (res && vt->result_free)
            vt->result_free(res);
        if (!lp && c->o->stop && *c->o->stop) { /* a call cut short by Ctrl-C: not kept */
            free(nt);
            rc = SLM_RUN_INTERRUPTED;
            break;
        }
        if (batch == 0 && slm_store_begin(st, err, errlen)) {
            free(lp);
            free(nt);
            rc = SLM_RUN_ENGINE;
            break;
        }
        int ok = slm_store_put_calib(st, c->run_id, cs->id, (long)i, ex->id, ex->label, lp, nt,
                                     lp ? NULL : e2, err, errlen) == 0;
        free(lp);
        free(nt);
        if (!ok) {
            slm_store_rollback(st);
            rc = SLM_RUN_ENGINE;
            break;
        }
        if (++batch >= (size_t)c->cfg->commit_every) {
            if (slm_store_commit(st, err, errlen))
                rc = SLM_RUN_ENGINE;
            batch = 0;
        }
    }
    if (batch && rc != SLM_RUN_ENGINE && slm_store_commit(st, err, errlen))
        rc = SLM_RUN_ENGINE;
    free(done);
    return rc;
}

/* 1-minute load average, NaN if unknown. */
static double load1(void)
{
    double v = NAN;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = NAN;
        fclose(f);
    }
    return v;
}

/* CPU jiffies stolen by the hypervisor, and all jiffies, from /proc/stat. */
static void steal_jiffies(double out[2])
{
    out[0] = out[1] = NAN;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return;
    unsigned long long v[10] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
    fclose(f);
    if (n < 8)
        return;
    double tot = 0;
    for (int i = 0; i < 8; i++)
        tot += (double)v[i];
    out[0] = (double)v[7];
    out[1] = tot;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(double *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    if (!k)
        return NAN;
    qsort(v, k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* Opens a candidate's model, records its facts, warms it up. Failures are recorded on the
 * candidate (cs->rc, cs->err). */
/* ---- the render pass: what each candidate's model really gets, before any example ---- */

/* The fixed conversation whose rendering fingerprints a candidate's chat template. */
static const char CHAT_PROBE[] = "What is 2+2?";
#define N_CTX_ROUND 256 /* the sized context is a multiple of this */

static int has_option(const slm_cand_cfg *cc, const char *key)
{
    for (size_t k = 0; k < cc->n_opts; k++)
        if (!strcmp(cc->opts[k].key, key))
            return 1;
    return 0;
}

/* Tokens of a choice's continuation: the model's own count where the engine tokenizes,
 * else its bytes plus one (every token but BOS covers at least one byte: a bound). */
static int choice_tokens_bound(const cand_state *cs, slm_engine *eng, const char *choice)
{
    const slm_engine_vtable *vt = cs->plugin->vt;
    int (*tok)(slm_engine *, const char *, size_t, uint32_t, slm_token_result **, char *,
               size_t) = SLM_SLOT(vt, tokenize);
    slm_token_result *t = NULL;
    char e2[SLM_ERRLEN];
    if (tok && vt->caps & SLM_CAP_TOKENIZE && tok(eng, choice, strlen(choice), 0, &t, e2,
                                                   sizeof e2) == 0 && t) {
        int n = (int)t->n;
        vt->result_free(t);
        return n;
    }
    return (int)strlen(choice) + 1;
}

/*
 * Renders, through the engine, the text of every example as the model gets it (the
 * prompt, or the prompt in the model's chat template), all examples of the eval set so
 * that every shard sizes the same context. Records each text's token count, and with a
 * chat template its SHA-256 and that of the fixed probe conversation; computes the
 * context the eval set needs: the longest prompt (calibration prompts included) plus the
 * longest continuation (a label in score mode, max_tokens in generate mode). A template
 * the engine cannot apply is refused here, with the engine's reason (SLM_RUN_BAD_INPUT).
 */
static int render_pass(run_ctx *c, cand_state *cs, slm_engine *eng, char *err, size_t errlen)
{
    const slm_engine_vtable *vt = cs->plugin->vt;
    int (*render)(slm_engine *, const slm_request *, slm_text_result **, char *, size_t) =
        SLM_SLOT(vt, render);
    const char *name = cs->cfg->name;
    char e2[SLM_ERRLEN];
    slm_text_result *r = NULL;
    if (cs->chat) {
        slm_request req = {sizeof req, "chat-probe", CHAT_PROBE, strlen(CHAT_PROBE), 1, NULL};
        if (render(eng, &req, &r, e2, sizeof e2)) {
            slm_err(err, errlen, "candidate '%s': chat_template: %s", name, e2);
            return SLM_RUN_BAD_INPUT;
        }
        slm_sha256_hex(r->text, r->len, cs->probe_sha);
        vt->result_free(r);
    }
    free(cs->ntok);
    free(cs->rendered);
    cs->ntok = slm_xcalloc(c->n ? c->n : 1, sizeof *cs->ntok);
    cs->rendered = cs->chat ? slm_xcalloc(c->n ? c->n : 1, 65) : NULL;
    int longest = 0;
    size_t n_cal = c->cal_prompts ? c->cal->n : 0;
    for (size_t i = 0; i < c->n + n_cal; i++) {
        const slm_example *ex = i < c->n ? &c->ds->rows[i] : &c->cal->rows[i - c->n];
        const char *p = i < c->n ? c->prompts[i] : c->cal_prompts[i - c->n];
        slm_request req = {sizeof req, ex->id, p, strlen(p), cs->chat, NULL};
        if (render(eng, &req, &r, e2, sizeof e2)) {
            slm_err(err, errlen, "candidate '%s': example '%s' (%s:%ld): %s", name, ex->id,
                    i < c->n ? c->ds->path : c->cal->path, ex->line, e2);
            return SLM_RUN_ENGINE;
        }
        if (i < c->n) {
            cs->ntok[i] = r->n_tokens;
            if (cs->rendered)
                slm_sha256_hex(r->text, r->len, cs->rendered + 65 * i);
        }
        if (r->n_tokens > longest)
            longest = r->n_tokens;
        vt->result_free(r);
    }
    int cont = 0;
    if (!strcmp(c->cfg->mode, "score")) {
        for (size_t k = 0; k < c->es->n_labels; k++) {
            int t = choice_tokens_bound(cs, eng, c->choices[k]);
            if (t > cont)
                cont = t;
        }
    } else {
        cont = c->cfg->max_tokens > 0 ? c->cfg->max_tokens : 32; /* the ABI's default */
    }
    cs->n_ctx_need = longest + cont;
    return SLM_RUN_OK;
}

/*
 * Refuses, before any example runs, a prompt the context cannot hold (the engine would
 * fail it, or a server would cut it): names the first such example of this shard, its
 * line and both token counts.
 */
static int check_fits(run_ctx *c, cand_state *cs, int n_ctx, int asked)
{
    for (size_t i = 0; cs->ntok && n_ctx > 0 && i < c->n; i++) {
        if (cs->done[i] || cs->ntok[i] < n_ctx)
            continue;
        const slm_example *ex = &c->ds->rows[i];
        slm_err(cs->err, sizeof cs->err,
                "candidate '%s': example '%s' (%s:%ld): the prompt has %d tokens%s, the "
                "context only %d%s", cs->cfg->name, ex->id, c->ds->path, ex->line, cs->ntok[i],
                cs->chat ? " with the chat template" : "", n_ctx,
                asked ? " (option n_ctx); raise it, or leave it out to size the context from "
                        "the eval set"
                      : " (the model's training context)");
        return cs->rc = SLM_RUN_BAD_INPUT;
    }
    return SLM_RUN_OK;
}

static int cand_begin(run_ctx *c, size_t ci)
{
    cand_state *cs = &c->cands[ci];
    const slm_cand_cfg *cc = cs->cfg;
    const slm_engine_vtable *vt = cs->plugin->vt;
    slm_store *st = c->st;
    cs->rc = SLM_RUN_OK;
    cs->err[0] = '\0';
    cs->chat = cc->chat_template >= 0 ? cc->chat_template : c->cfg->chat_template;
    cs->done = slm_xcalloc(c->n ? c->n : 1, 1);
    cs->todo = cs->n_done = 0;
    cs->engine_ms = 0;
    cs->conc_ms = 0;
    cs->conc_n = 0;
    cs->last_draw = 0;
    if (load_done(c, cs->id, cs->done, c->o->retry_errors, cs->err, sizeof cs->err))
        return cs->rc = SLM_RUN_ENGINE;
    for (size_t i = 0; i < c->n; i++) {
        if (!IN_SHARD(c->o, i))
            cs->done[i] = 1; /* another shard's */
        cs->todo += !cs->done[i];
    }
    cs->load1_before = load1();
    steal_jiffies(cs->steal_before);
    if (!c->turn)
        slm_peak_rss_reset(); /* peak memory of this candidate alone */

    char e2[SLM_ERRLEN] = "";
    if (set_cand_status(st, cs->id, "running", NULL))
        return store_failed(st, cs, "cannot mark the candidate running");
    /* Where the engine renders, the context is sized from the eval set unless n_ctx is
     * given: the tokenizer alone is opened first (vocab_only) to count every prompt. */
    int can_render = SLM_SLOT(vt, render) != NULL;
    int asked_ctx = has_option(cc, "n_ctx");
    size_t n_opts = cc->n_opts;
    char ctx_buf[24];
    if (can_render && !asked_ctx) {
        cs->opts[n_opts] = (slm_option){"vocab_only", "1"};
        slm_options vo = {cs->opts, n_opts + 1};
        slm_engine *tk = NULL;
        if (vt->open(&vo, &tk, e2, sizeof e2) != 0) {
            slm_err(cs->err, sizeof cs->err, "candidate '%s': %s", cc->name,
                    e2[0] ? e2 : "cannot open the model");
            return cs->rc = SLM_RUN_ENGINE;
        }
        int rc = render_pass(c, cs, tk, cs->err, sizeof cs->err);
        vt->close(tk);
        if (rc)
            return cs->rc = rc;
        int n_ctx = (cs->n_ctx_need + N_CTX_ROUND - 1) / N_CTX_ROUND * N_CTX_ROUND;
        snprintf(ctx_buf, sizeof ctx_buf, "%d", n_ctx > 0 ? n_ctx : N_CTX_ROUND);
        cs->opts[n_opts++] = (slm_option){"n_ctx", ctx_buf};
    }
    slm_options opts = {cs->opts, n_opts};
    double tl = slm_now_ms();
    if (vt->open(&opts, &cs->eng, e2, sizeof e2) != 0) {
        cs->eng = NULL;
        slm_err(cs->err, sizeof cs->err, "candidate '%s': %s", cc->name,
                e2[0] ? e2 : "cannot open the model");
        return cs->rc = SLM_RUN_ENGINE;
    }
    cs->active = 1;
    double load_ms = slm_now_ms() - tl;
    void (*set_stop)(slm_engine *, const volatile sig_atomic_t *) = SLM_SLOT(vt, set_stop);
    if (set_stop && c->o->stop)
        set_stop(cs->eng, c->o->stop); /* a call in flight ends at Ctrl-C (1.4) */
    slm_model_info mi;
    memset(&mi, 0, sizeof mi);
    mi.struct_size = sizeof mi;
    if (vt->info(cs->eng, &mi, e2, sizeof e2) != 0) {
        slm_err(cs->err, sizeof cs->err, "candidate '%s': %s", cc->name, e2);
        return cs->rc = SLM_RUN_ENGINE;
    }
    if (!strcmp(c->cfg->mode, "score") && !(mi.caps & SLM_CAP_SCORE)) {
        slm_err(cs->err, sizeof cs->err,
                "candidate '%s': engine '%s' cannot score choices with these options (%s); "
                "use mode: generate", cc->name, cc->engine,
                vt->description ? vt->description : "no description");
        return cs->rc = SLM_RUN_BAD_INPUT;
    }
    if (can_render && asked_ctx &&
        (cs->rc = render_pass(c, cs, cs->eng, cs->err, sizeof cs->err)) != SLM_RUN_OK)
        return cs->rc;
    if (cs->chat && !(mi.caps & SLM_CAP_CHAT_TEMPLATE)) {
        slm_err(cs->err, sizeof cs->err, "candidate '%s': chat_template was asked but %s",
                cc->name, mi.chat_template_text_sha256[0]
                              ? "the engine cannot apply the model's chat template"
                              : "the model has none");
        return cs->rc = SLM_RUN_BAD_INPUT;
    }
    char sha[65] = "";
    if (!(vt->caps & SLM_CAP_MODEL_FILE) || !cs->model ||
        slm_sha256_file(cs->model, sha, e2, sizeof e2))
        sha[0] = '\0';
    if (store_model_facts(st, cs, &mi, sha[0] ? sha : NULL, cs->chat, mi.caps, load_ms))
        return store_failed(st, cs, "cannot record the model's facts");
    if (check_fits(c, cs, mi.n_ctx, asked_ctx))
        return cs->rc;

    /* Untimed warm-up: the first examples, results discarded. */
    for (int w = 0; w < c->cfg->warmup && (size_t)w < c->n; w++) {
        outcome o;
        run_example(c, cs, cs->eng, cs->chat, (size_t)w, &o);
        outcome_free(&o);
    }
    if (!c->o->quiet && !c->o->progress)
        slm_say(stderr, "slmbench: candidate %zu/%zu '%s': %zu examples%s\n", ci + 1,
                c->cfg->n_cands, cc->name, cs->todo,
                c->cfg->repeats > 1 ? " (repeated)" : "");
    cs->t0 = slm_now_ms();
    return SLM_RUN_OK;
}

/* What cand_step keeps between examples: statements, the open transaction, the latency
 * samples of the repeats of the current chunk of examples. */
typedef struct stepper {
    run_ctx *c;
    cand_state *cs;
    size_t ci;
    int reps;
    int counters;         /* store counters (one request in flight at a time) */
    size_t batch;         /* predictions in the open transaction */
    size_t chunk, chunk_from;
    double *extra;        /* [chunk][reps][4]: e2e, prefill, decode, ttft of repeats 1.. */
    double *e2e, *pre, *dec, *ttf; /* [reps] */
} stepper;

/* Notes the timings of repeat r (>= 1) of example i. */
static void keep_repeat(stepper *k, size_t i, int r, const outcome *o)
{
    double *x = k->extra + ((i - k->chunk_from) * (size_t)k->reps + (size_t)r) * 4;
    x[0] = o->row.e2e_ms, x[1] = o->row.prefill_ms;
    x[2] = o->row.decode_ms, x[3] = o->row.ttft_ms;
}

/* Stores example i's counter readings per phase (unavailable events are left out: NULL is
 * implied by counter_events). */
static int keep_counters(run_ctx *c, cand_state *cs, size_t i, const outcome *o)
{
    static const char *const phase_name[] = {"prefill", "decode"};
    size_t nev = slm_counters_count(c->ctr);
    for (int ph = 0; ph < SLM_PHASE_COUNT; ph++)
        for (size_t e = 0; e <= nev; e++) {
            double v = o->ctr[ph][e];
            if (e < nev && isnan(v) && !strcmp(slm_counters_source(c->ctr, e), "unavailable"))
                continue;
            if (slm_store_put_counter(c->st, c->run_id, cs->id, (long)i, phase_name[ph],
                                      e < nev ? slm_counters_name(c->ctr, e) : "process_cpu_ns",
                                      v, e < nev ? o->ctr_scale[ph][e] : NAN, cs->err,
                                      sizeof cs->err))
                return -1;
        }
    return 0;
}

/* Stores example i's prediction (with the samples of its repeats and its counters) in the
 * open transaction, committing every commit_every. -1 when the store failed (cs->rc). */
static int keep(stepper *k, size_t i, outcome *o)
{
    run_ctx *c = k->c;
    cand_state *cs = k->cs;
    slm_store *st = c->st;
    int reps = k->reps, bad = 0;
    if (k->batch == 0 && slm_store_begin(st, cs->err, sizeof cs->err)) {
        cs->rc = SLM_RUN_ENGINE;
        return -1;
    }
    k->e2e[0] = o->row.e2e_ms, k->pre[0] = o->row.prefill_ms, k->dec[0] = o->row.decode_ms,
    k->ttf[0] = o->row.ttft_ms;
    for (int r = 1; r < reps; r++) {
        const double *x = k->extra + ((i - k->chunk_from) * (size_t)reps + (size_t)r) * 4;
        k->e2e[r] = x[0], k->pre[r] = x[1], k->dec[r] = x[2], k->ttf[r] = x[3];
    }
    for (int r = 0; reps > 1 && r < reps && !bad; r++)
        bad = slm_store_put_sample(st, c->run_id, cs->id, (long)i, r, k->e2e[r], k->pre[r],
                                   k->dec[r], k->ttf[r], cs->err, sizeof cs->err);
    if (reps > 1) {
        o->row.e2e_ms = median_of(k->e2e, (size_t)reps);
        o->row.prefill_ms = median_of(k->pre, (size_t)reps);
        o->row.decode_ms = median_of(k->dec, (size_t)reps);
        o->row.ttft_ms = median_of(k->ttf, (size_t)reps);
    }
    if (!bad) {
        if (cs->rendered && cs->rendered[65 * i])
            o->row.rendered_sha256 = cs->rendered + 65 * i;
        bad = slm_store_put_prediction(st, &o->row, cs->err, sizeof cs->err);
    }
    if (!bad && o->have_counters && k->counters)
        bad = keep_counters(c, cs, i, o);
    if (bad) {
        slm_store_rollback(st);
        k->batch = 0;
        cs->rc = SLM_RUN_ENGINE;
        return -1;
    }
    cs->done[i] = 1;
    k->batch++;
    cs->n_done++;
    if (k->batch >= (size_t)c->cfg->commit_every) {
        k->batch = 0;
        if (slm_store_commit(st, cs->err, sizeof cs->err)) {
            cs->rc = SLM_RUN_ENGINE;
            return -1;
        }
    }
    double now = slm_now_ms();
    if (now - cs->last_draw > 100) {
        progress(c, k->ci, cs->cfg->name, cs->n_done, cs->todo, cs->t0, 0);
        cs->last_draw = now;
    }
    return 0;
}

/* One pass of generate_many() over some examples: pass 0 is stored, passes 1.. are the
 * repeats whose timings are kept for the medians. */
typedef struct many_pass {
    stepper *k;
    const size_t *idx;    /* [n] example indices */
    probe_state *ps;      /* [n] clocks only: counters mean nothing with requests overlapping */
    int pass;
    size_t n_answered;
} many_pass;

static int many_done(void *ud, size_t j, slm_gen_result *res, double e2e_ms, const char *err)
{
    many_pass *mp = ud;
    stepper *k = mp->k;
    run_ctx *c = k->c;
    cand_state *cs = k->cs;
    uint64_t t1 = slm_now_ns(), t0 = t1 - (uint64_t)(e2e_ms > 0 ? e2e_ms * 1e6 : 0);
    size_t i = mp->idx[j];
    outcome o;
    outcome_init(c, cs, i, &o);
    slm_timings srv = {-1, -1, -1, -1};
    judge_generated(c, i, res, err, &o, &srv);
    if (res)
        cs->plugin->vt->result_free(res);
    finish_timings(c, &mp->ps[j], t0, t1, &srv, &o);
    int rc = 0;
    mp->n_answered++;
    if (mp->pass > 0)
        keep_repeat(k, i, mp->pass, &o);
    else
        rc = keep(k, i, &o);
    outcome_free(&o);
    return rc || (c->o->stop && *c->o->stop);
}

/* Runs the not yet stored examples of [from, from + k->chunk) with up to `conc` requests
 * in flight, every repeat pass first, then the stored pass. */
static void step_many(stepper *k, size_t from, size_t to, int conc)
{
    run_ctx *c = k->c;
    cand_state *cs = k->cs;
    size_t *idx = slm_xcalloc(k->chunk, sizeof *idx), n = 0;
    /* within the chunk's index range: the repeats' samples are kept by i - from */
    for (size_t i = from; i < to && i < c->n && i < from + k->chunk; i++)
        if (!cs->done[i])
            idx[n++] = i;
    slm_request *reqs = slm_xcalloc(n ? n : 1, sizeof *reqs);
    const slm_request **ptr = slm_xcalloc(n ? n : 1, sizeof *ptr);
    probe_state *ps = slm_xcalloc(n ? n : 1, sizeof *ps);
    slm_probe *probes = slm_xcalloc(n ? n : 1, sizeof *probes);
    slm_gen_params gp = gen_params(c, cs);
    int (*many)(slm_engine *, const slm_request *const *, size_t, const slm_gen_params *,
                const slm_gen_many *, char *, size_t) = SLM_SLOT(cs->plugin->vt, generate_many);
    for (int pass = k->reps - 1; pass >= 0 && cs->rc == SLM_RUN_OK; pass--) {
        for (size_t j = 0; j < n; j++) {
            probe_init(&ps[j], NULL);
            probes[j] = (slm_probe){&ps[j], probe_begin, probe_end};
            reqs[j] = (slm_request){sizeof reqs[j], c->ds->rows[idx[j]].id, c->prompts[idx[j]],
                                    strlen(c->prompts[idx[j]]), cs->chat, &probes[j]};
            ptr[j] = &reqs[j];
        }
        many_pass mp = {k, idx, ps, pass, 0};
        slm_gen_many gm = {sizeof gm, (uint32_t)conc, many_done, &mp, c->o->stop, NULL, NULL};
        char e2[SLM_ERRLEN] = "";
        uint64_t t0 = slm_now_ns();
        int rc = many(cs->eng, ptr, n, &gp, &gm, e2, sizeof e2);
        double ms = (double)(slm_now_ns() - t0) / 1e6;
        cs->engine_ms += ms;
        if (pass == 0) {
            cs->conc_ms += ms;
            cs->conc_n += mp.n_answered;
        }
        if (rc && cs->rc == SLM_RUN_OK) {
            slm_err(cs->err, sizeof cs->err, "candidate '%s': %s", cs->cfg->name,
                    e2[0] ? e2 : "generate_many failed");
            cs->rc = SLM_RUN_ENGINE;
        }
        if (cs->rc == SLM_RUN_OK && c->o->stop && *c->o->stop)
            cs->rc = SLM_RUN_INTERRUPTED;
        if (cs->rc == SLM_RUN_OK && mp.n_answered != n) {
            slm_err(cs->err, sizeof cs->err, "candidate '%s': engine '%s' reported %zu of %zu "
                    "requests", cs->cfg->name, cs->cfg->engine, mp.n_answered, n);
            cs->rc = SLM_RUN_ENGINE;
        }
    }
    free(idx);
    free(reqs);
    free(ptr);
    free(ps);
    free(probes);
}

/* Runs examples [from, to) of a begun candidate that are not stored yet, each repeats
 * times (all samples kept; the stored timings are the medians), in one or more
 * transactions; with concurrency > 1, up to that many requests in flight at once. */
static int cand_step(run_ctx *c, size_t ci, size_t from, size_t to)
{
    cand_state *cs = &c->cands[ci];
    slm_store *st = c->st;
    if (cs->rc != SLM_RUN_OK)
        return cs->rc;
    stepper k = {.c = c, .cs = cs, .ci = ci, .reps = c->cfg->repeats > 0 ? c->cfg->repeats : 1};
    int reps = k.reps;
    k.counters = c->ctr && cs->conc <= 1;
    k.e2e = slm_xcalloc((size_t)reps, sizeof *k.e2e);
    k.pre = slm_xcalloc((size_t)reps, sizeof *k.pre);
    k.dec = slm_xcalloc((size_t)reps, sizeof *k.dec);
    k.ttf = slm_xcalloc((size_t)reps, sizeof *k.ttf);
    /* Repeats go in passes over a chunk of examples (1..reps-1 first, then the stored
     * pass 0), never the same prompt twice in a row: an engine that keeps the previous
     * prompt in its cache would otherwise time a cache hit, not a request. */
    k.chunk = REPEAT_CHUNK; /* not commit_every: a chunk of 1 would repeat a prompt at once */
    if (cs->conc > 1 && k.chunk < 16 * (size_t)cs->conc)
        k.chunk = 16 * (size_t)cs->conc; /* each chunk ends waiting for its slowest request */
    k.extra = reps > 1 ? slm_xcalloc(k.chunk * (size_t)reps * 4, sizeof *k.extra) : NULL;
    k.chunk_from = (size_t)-1;
    for (size_t i = from; i < to && i < c->n && cs->rc == SLM_RUN_OK; i++) {
        if (cs->done[i])
            continue;
        if (c->o->stop && *c->o->stop) {
            cs->rc = SLM_RUN_INTERRUPTED;
            break;
        }
        if (cs->conc > 1) {
            /* a chunk of examples at a time, many requests in flight */
            k.chunk_from = i;
            step_many(&k, i, to, cs->conc);
            continue; /* the loop skips what was stored */
        }
        if (reps > 1 && (k.chunk_from == (size_t)-1 || i >= k.chunk_from + k.chunk)) {
            k.chunk_from = i;
            for (int r = 1; r < reps && !(c->o->stop && *c->o->stop); r++)
                for (size_t j = i; j < i + k.chunk && j < to && j < c->n; j++) {
                    if (cs->done[j])
                        continue;
                    outcome again;
                    cs->engine_ms += run_example(c, cs, cs->eng, cs->chat, j, &again);
                    keep_repeat(&k, j, r, &again);
                    outcome_free(&again);
                }
            if (c->o->stop && *c->o->stop) {
                cs->rc = SLM_RUN_INTERRUPTED;
                break;
            }
        }
        outcome o;
        cs->engine_ms += run_example(c, cs, cs->eng, cs->chat, i, &o);
        if (o.error && c->o->stop && *c->o->stop) { /* a call cut short by Ctrl-C: not kept */
            outcome_free(&o);
            cs->rc = SLM_RUN_INTERRUPTED;
            break;
        }
        keep(&k, i, &o);
        outcome_free(&o);
    }
    if (k.batch && cs->rc != SLM_RUN_ENGINE && slm_store_commit(st, cs->err, sizeof cs->err))
        cs->rc = SLM_RUN_ENGINE;
    free(k.extra);
    free(k.e2e);
    free(k.pre);
    free(k.dec);
    free(k.ttf);
    return cs->rc;
}

/* Throughput mode (like MLPerf's Offline scenario): every example again, many at a time
 * as parallel sequences through the engine's score_batch(); examples/s and tokens/s are
 * stored beside the single-stream figures, and every prediction must equal the
 * single-stream one (mismatches are counted and stored). */
static int run_throughput(run_ctx *c, cand_state *cs)
{
    int (*batch)(slm_engine *, const slm_request *const *, size_t, const char *const *, size_t,
                 slm_score_result **, char *, size_t) = SLM_SLOT(cs->plugin->vt, score_batch);
    if (!batch || !(cs->plugin->vt->caps & SLM_CAP_BATCH)) {
        slm_err(cs->err, sizeof cs->err, "candidate '%s': engine '%s' has no batched scoring for "
                "throughput mode", cs->cfg->name, cs->cfg->engine);
        return SLM_RUN_BAD_INPUT;
    }
    size_t n = c->n, nl = c->es->n_labels, group = 64;
    slm_request *reqs = slm_xcalloc(n ? n : 1, sizeof *reqs);
    const slm_request **ptr = slm_xcalloc(n ? n : 1, sizeof *ptr);
    slm_score_result **out = slm_xcalloc(group, sizeof *out);
    int *pred = slm_xcalloc(n ? n : 1, sizeof *pred);
    for (size_t i = 0; i < n; i++) {
        reqs[i] = (slm_request){sizeof reqs[i], c->ds->rows[i].id, c->prompts[i],
                                strlen(c->prompts[i]), cs->chat, NULL};
        ptr[i] = &reqs[i];
    }
    double tokens = 0;
    int rc = SLM_RUN_OK;
    uint64_t t0 = slm_now_ns();
    for (size_t from = 0; from < n && rc == SLM_RUN_OK; from += group) {
        size_t m = n - from < group ? n - from : group;
        char e2[SLM_ERRLEN] = "";
        if (batch(cs->eng, ptr + from, m, (const char *const *)c->choices, nl, out, e2,
                  sizeof e2)) {
            slm_err(cs->err, sizeof cs->err, "candidate '%s': throughput mode: %s",
                    cs->cfg->name, e2);
            rc = SLM_RUN_ENGINE;
            break;
        }
        for (size_t j = 0; j < m; j++) {
            slm_score_result *r = out[j];
            size_t best = slm_score_best(r->logprob, r->n_tokens, nl, c->cfg->score_mean);
            pred[from + j] = (int)best;
            tokens += r->n_prompt_tokens;
            for (size_t k = 0; k < nl; k++)
                tokens += r->n_tokens[k];
            cs->plugin->vt->result_free(r);
        }
    }
    double secs = (double)(slm_now_ns() - t0) / 1e9;
    if (rc == SLM_RUN_OK) {
        /* compare with the single-stream predictions */
        long mismatch = 0;
        char **stored = slm_xcalloc(n ? n : 1, sizeof *stored);
        if (slm_store_pred_texts(c->st, c->run_id, cs->id, stored, n, NULL, 0) == 0)
            for (size_t i = 0; i < n; i++)
                if (stored[i] &&
                    slm_label_index((const char *const *)c->es->labels, nl, stored[i]) != pred[i])
                    mismatch++;
        slm_free_strv(stored, n);
        if (slm_store_set_throughput(c->st, cs->id, secs, tokens, (long)n, mismatch))
            rc = store_failed(c->st, cs, "cannot record the throughput");
    }
    free(reqs);
    free(ptr);
    free(out);
    free(pred);
    return rc;
}

/* Flakiness: the first N examples again; a prediction that differs from the stored one
 * is a flip (a deterministic engine has none). */
static int repeat_check(run_ctx *c, cand_state *cs)
{
    size_t n = (size_t)c->o->repeat_check < c->n ? (size_t)c->o->repeat_check : c->n;
    long flips = 0;
    char **stored = slm_xcalloc(n ? n : 1, sizeof *stored);
    if (slm_store_pred_texts(c->st, c->run_id, cs->id, stored, n, NULL, 0)) {
        free(stored);
        return store_failed(c->st, cs, "cannot read the predictions");
    }
    for (size_t i = 0; i < n; i++) {
        outcome o;
        run_example(c, cs, cs->eng, cs->chat, i, &o);
        if (stored[i] && strcmp(stored[i], o.row.pred ? o.row.pred : ""))
            flips++;
        outcome_free(&o);
    }
    slm_free_strv(stored, n);
    if (slm_store_set_repeat_check(c->st, cs->id, (long)n, flips))
        return store_failed(c->st, cs, "cannot record the repeat check");
    return SLM_RUN_OK;
}

/* Finishes a candidate: calibration split, close, times, host load, status, metrics. */
static int cand_end(run_ctx *c, size_t ci)
{
    cand_state *cs = &c->cands[ci];
    slm_store *st = c->st;
    if (cs->active)
        progress(c, ci, cs->cfg->name, cs->n_done, cs->todo, cs->t0, 1);
    double wall = cs->active ? slm_now_ms() - cs->t0 : 0;
    if (cs->rc == SLM_RUN_OK && cs->n_done < cs->todo) {
        /* stopped before its turn came (interleaved runs) */
        cs->rc = c->o->stop && *c->o->stop ? SLM_RUN_INTERRUPTED : SLM_RUN_ENGINE;
        if (cs->rc == SLM_RUN_ENGINE)
            slm_err(cs->err, sizeof cs->err, "candidate '%s': %zu of %zu examples not run",
                    cs->cfg->name, cs->todo - cs->n_done, cs->todo);
    }
    if (cs->rc == SLM_RUN_OK && c->cal)
        cs->rc = run_calibration(c, cs, cs->eng, cs->chat, cs->err, sizeof cs->err);
    if (cs->rc == SLM_RUN_OK && c->cfg->throughput)
        cs->rc = run_throughput(c, cs);
    if (cs->rc == SLM_RUN_OK && c->o->repeat_check > 0)
        cs->rc = repeat_check(c, cs);
    if (cs->eng)
        cs->plugin->vt->close(cs->eng);
    cs->eng = NULL;
    free(cs->done);
    cs->done = NULL;
    double st_after[2];
    steal_jiffies(st_after);
    double dsteal = st_after[0] - cs->steal_before[0], dtot = st_after[1] - cs->steal_before[1];
    /* Wall and engine time accumulate over resumed sessions. */
    if (cs->active) {
        slm_cand_totals t = {wall, cs->engine_ms, cs->load1_before, load1(),
                             dtot > 0 ? 100.0 * dsteal / dtot : NAN,
                             c->cfg->repeats > 0 ? c->cfg->repeats : 1, slm_peak_rss_kb(),
                             cs->conc_ms / 1000.0 /* 0 unless concurrent */, (long)cs->conc_n};
        if (slm_store_add_cand_totals(st, cs->id, &t) && cs->rc == SLM_RUN_OK)
            store_failed(st, cs, "cannot record the candidate's times");
    }
    cs->active = 0;
    if (cs->rc == SLM_RUN_OK) {
        /* Metrics first, 'ok' last: a candidate marked ok has its metrics, and one whose
         * store failed in between is not ok, so a resumed run computes them again (the
         * other order left a resumed run without the candidate's metrics). */
        char e3[SLM_ERRLEN];
        if (slm_aggregate_candidate(st, c->run_id, cs->id, (const char *const *)c->es->labels,
                                    c->es->n_labels, e3, sizeof e3)) {
            slm_err(cs->err, sizeof cs->err, "%s", e3);
            cs->rc = SLM_RUN_ENGINE;
        } else if (set_cand_status(st, cs->id, "ok", NULL)) {
            store_failed(st, cs, "cannot mark the candidate ok");
        }
    }
    /* best effort: where the store itself failed, these fail too and the candidate stays
     * 'running', which a resume redoes alike */
    if (cs->rc == SLM_RUN_INTERRUPTED)
        set_cand_status(st, cs->id, "pending", NULL);
    else if (cs->rc != SLM_RUN_OK)
        set_cand_status(st, cs->id, "failed", cs->err);
    return cs->rc;
}

/* Opens the run's counter set and records, per event, its source or why it is
 * unavailable (stored NULL, never 0). SLM_RUN_BAD_INPUT for events that cannot be
 * counted, SLM_RUN_ENGINE when the store fails. */
static int open_counters(run_ctx *c, char *err, size_t errlen)
{
    const char *const *ev = (const char *const *)c->cfg->events;
    size_t n = c->cfg->n_events;
    if (!n)
        ev = slm_counters_default_events(&n);
    if (n > MAX_EVENTS) {
        slm_err(err, errlen, "%s: at most %d counter events", c->cfg->path, MAX_EVENTS);
        return SLM_RUN_BAD_INPUT;
    }
    if (slm_counters_open(ev, n, &c->ctr, err, errlen))
        return SLM_RUN_BAD_INPUT;
    char reason[512];
    int has_energy = slm_energy_probe(reason, sizeof reason);
    for (size_t i = 0; i < slm_counters_count(c->ctr); i++) {
        const char *why = slm_counters_reason(c->ctr, i);
        if (slm_store_put_counter_event(c->st, c->run_id, slm_counters_name(c->ctr, i),
                                        slm_counters_source(c->ctr, i),
                                        slm_counters_unit(c->ctr, i), why && *why ? why : NULL,
                                        err, errlen))
            return SLM_RUN_ENGINE;
    }
    if (slm_store_put_counter_event(c->st, c->run_id, "energy",
                                    has_energy ? "available" : "unavailable", "J",
                                    has_energy ? "not yet read per phase" : reason, err, errlen))
        return SLM_RUN_ENGINE;
    return SLM_RUN_OK;
}

/* Runs every candidate that is not yet done, then settles the run's status. */
static int execute(run_ctx *c, char *err, size_t errlen)
{
    int worst = SLM_RUN_OK;
    slm_buf failures = {0};
    size_t k = c->cfg->n_cands;
    unsigned char *todo = slm_xcalloc(k, 1);
    if (c->cfg->counters && !c->ctr) {
        /* Opened before any engine starts its threads, so inheritance covers them. */
        char e2[SLM_ERRLEN];
        int rc = open_counters(c, e2, sizeof e2);
        if (rc != SLM_RUN_OK) {
            free(todo);
            if (rc == SLM_RUN_ENGINE) /* the store failed: the run is recorded, running */
                slm_err(err, errlen, "%s; finish it with: slmbench run --resume --db %s", e2,
                        slm_store_path(c->st));
            else
                slm_err(err, errlen, "%s", e2);
            return rc;
        }
    }
    for (size_t i = 0; i < k; i++) {
        /* candidates already complete (resume) are skipped */
        char status[16];
        slm_store_cand_status(c->st, c->cands[i].id, status, sizeof status);
        int already = !strcmp(status, "ok");
        todo[i] = !(already && !c->o->retry_errors);
    }
    if (c->turn) {
        /* Every model open at once; turns of a few examples go to the candidates in
         * rotating order, so a drift of the machine (load, thermal, neighbours) hits them
         * alike and their latencies pair turn by turn (latcmp.h). */
        for (size_t i = 0; i < k; i++)
            if (todo[i])
                cand_begin(c, i);
        size_t chunk = c->turn, round = 0;
        for (size_t from = 0; from < c->n; from += chunk, round++) {
            for (size_t j = 0; j < k; j++) {
                size_t i = (j + round) % k;
                if (todo[i])
                    cand_step(c, i, from, from + chunk);
            }
            if (c->o->stop && *c->o->stop)
                break;
        }
    }
    for (size_t i = 0; i < k; i++) {
        if (!todo[i])
            continue;
        if (!c->turn && cand_begin(c, i) == SLM_RUN_OK)
            cand_step(c, i, 0, c->n);
        int rc = cand_end(c, i);
        if (rc == SLM_RUN_INTERRUPTED) {
            worst = rc;
            if (!c->turn)
                break;
            continue;
        }
        if (rc != SLM_RUN_OK) {
            /* the failed candidate is recorded; the others go on */
            slm_say(stderr, "slmbench: error: %s\n", c->cands[i].err);
            slm_buf_printf(&failures, "%s%s", failures.len ? "; " : "", c->cands[i].err);
            if (worst == SLM_RUN_OK)
                worst = rc;
        }
    }
    free(todo);
    if (worst == SLM_RUN_INTERRUPTED) {
        set_run_status(c->st, c->run_id, "interrupted", "interrupted by a signal");
        slm_err(err, errlen, "run %lld interrupted; finish it with: slmbench run --resume --db %s",
                (long long)c->run_id, slm_store_path(c->st));
    } else if (worst != SLM_RUN_OK) {
        set_run_status(c->st, c->run_id, "failed", failures.data);
        slm_err(err, errlen, "run %lld failed: %s; finish it with: slmbench run --resume --db %s",
                (long long)c->run_id, failures.data, slm_store_path(c->st));
    } else {
        char e2[SLM_ERRLEN];
        if (slm_compare_run(c->st, c->run_id, e2, sizeof e2)) {
            set_run_status(c->st, c->run_id, "failed", e2);
            slm_err(err, errlen, "run %lld: %s; finish it with: slmbench run --resume --db %s",
                    (long long)c->run_id, e2, slm_store_path(c->st));
            worst = SLM_RUN_ENGINE;
        } else if (set_run_status(c->st, c->run_id, "complete", NULL)) {
            slm_store_db_err(c->st, "cannot mark the run complete", e2, sizeof e2);
            slm_err(err, errlen, "run %lld: %s; finish it with: slmbench run --resume --db %s",
                    (long long)c->run_id, e2, slm_store_path(c->st));
            worst = SLM_RUN_ENGINE;
        }
    }
    slm_buf_free(&failures);
    return worst;
}

int slm_run_start(const slm_run_cfg *cfg, slm_store *st, slm_plugins *ps, const slm_run_opts *o,
                  int64_t *run_id, char *err, size_t errlen)
{
    run_ctx c = {.cfg = cfg, .st = st, .o = o};
    int rc = prepare(&c, ps, err, errlen);
    if (rc == SLM_RUN_OK) {
        if (record_run(&c, err, errlen)) {
            /* rolled back: there is nothing to resume, --resume would say so */
            size_t len = strlen(err);
            snprintf(err + len, errlen - len, "; nothing of the run was recorded, run it again");
            rc = SLM_RUN_ENGINE;
        } else {
            *run_id = c.run_id;
            rc = execute(&c, err, errlen);
        }
    }
    ctx_free(&c);
    return rc;
}

/* Checks a resumed run against its stored start: the same data, every candidate known. */
static int resume_check(run_ctx *c, char *err, size_t errlen)
{
    char stored[65];
    long stored_n;
    slm_store_run_data(c->st, c->run_id, stored, &stored_n);
    if (strcmp(stored, c->ds->sha256) || stored_n != (long)c->n) {
        slm_err(err, errlen, "cannot resume run %lld: '%s' changed since the run started "
                "(sha256 %.12s…, now %.12s…)", (long long)c->run_id, c->ds->path, stored,
                c->ds->sha256);
        return SLM_RUN_BAD_INPUT;
    }
    for (size_t i = 0; i < c->cfg->n_cands; i++) {
        const char *name = c->cfg->cands[i].name;
        int found = slm_store_candidate_id(c->st, c->run_id, name, &c->cands[i].id, err, errlen);
        if (found < 0)
            return SLM_RUN_ENGINE;
        if (found > 0) {
            slm_err(err, errlen, "run %lld has no candidate '%s'", (long long)c->run_id, name);
            return SLM_RUN_BAD_INPUT;
        }
    }
    return SLM_RUN_OK;
}

/* The config a run started with: the stored text, or, where a secret was redacted from it
 * (it holds SLM_REDACTED and its SHA-256 is no longer the stored one), the file it came
 * from if that file is still the same (the stored SHA-256). Replaces r->config_text; 0,
 * or -1 with err set. */
static int resume_config(slm_resume_row *r, char *err, size_t errlen)
{
    char sha[65], e2[SLM_ERRLEN];
    slm_sha256_hex(r->config_text, strlen(r->config_text), sha);
    if (!r->config_sha256 || !strcmp(sha, r->config_sha256)
        || !strstr(r->config_text, SLM_REDACTED))
        return 0;
    char *text = NULL;
    size_t len = 0;
    if (slm_read_file(r->config_path, &text, &len, e2, sizeof e2) == 0) {
        slm_sha256_hex(text, len, sha);
        if (!strcmp(sha, r->config_sha256) && strlen(text) == len) {
            free(r->config_text);
            r->config_text = text;
            return 0;
        }
        free(text);
    }
    return slm_err(err, errlen, "cannot resume run %lld: its stored config had secrets "
                   "redacted, and '%s' is no longer the file it started with; put that "
                   "file back", (long long)r->id, r->config_path);
}

/* The config of a stored run (r), as it started: 0 with *cfg, or -1 with err. */
static int parse_stored(slm_resume_row *r, slm_run_cfg **cfg, char *err, size_t errlen)
{
    if (resume_config(r, err, errlen))
        return -1;
    const char *slash = strrchr(r->config_path, '/');
    char *dir = slash ? slm_xstrndup(r->config_path, (size_t)(slash - r->config_path))
                      : slm_xstrdup(".");
    int rc = slm_run_cfg_parse(r->config_path, dir, r->config_text, strlen(r->config_text), cfg,
                               err, errlen);
    free(dir);
    return rc;
}

int slm_run_resume(slm_store *st, slm_plugins *ps, const slm_run_opts *o, int64_t *run_id,
                   char *err, size_t errlen)
{
    slm_resume_row r;
    int found = slm_store_run_to_resume(st, *run_id, o->retry_errors, &r, err, errlen);
    if (found < 0)
        return SLM_RUN_ENGINE;
    if (found > 0) {
        slm_err(err, errlen, "%s: no unfinished run to resume", slm_store_path(st));
        return SLM_RUN_BAD_INPUT;
    }
    /* a sharded run resumes as the same shard */
    slm_run_opts oo = *o;
    if (r.shard)
        sscanf(r.shard, "%d/%d", &oo.shard_i, &oo.shard_n);
    o = &oo;
    char mode[16];
    if (slm_load_run_mode(st, r.id, mode, sizeof mode, err, errlen) == 0 &&
        !strcmp(mode, "load")) {
        slm_err(err, errlen, "run %lld is a load test; resume it with: slmbench load --resume "
                "%lld --db %s", (long long)r.id, (long long)r.id, slm_store_path(st));
        slm_resume_row_free(&r);
        return SLM_RUN_BAD_INPUT;
    }
    if (!strcmp(r.status, "complete") && !o->retry_errors) {
        slm_err(err, errlen, "run %lld is already complete", (long long)r.id);
        slm_resume_row_free(&r);
        return SLM_RUN_BAD_INPUT;
    }
    slm_run_cfg *cfg = NULL;
    int rc = parse_stored(&r, &cfg, err, errlen);
    int64_t id = r.id;
    long turn = r.interleave_turn;
    slm_resume_row_free(&r);
    if (rc)
        return SLM_RUN_BAD_INPUT;
    run_ctx c = {.cfg = cfg, .st = st, .o = o, .run_id = id};
    /* the turns the run started with, so a resumed run pairs as it began */
    c.turn = turn >= 0 ? (size_t)turn : decide_turn(&c);
    *run_id = id;
    rc = prepare(&c, ps, err, errlen);
    if (rc == SLM_RUN_OK)
        rc = resume_check(&c, err, errlen);
    if (rc == SLM_RUN_OK) {
        set_run_status(st, id, "running", NULL);
        rc = execute(&c, err, errlen);
    }
    ctx_free(&c);
    slm_run_cfg_free(cfg);
    return rc;
}

/* ---- a run's pieces for another driver (slmbench load) ---- */

int slm_session_open(const slm_run_cfg *cfg, slm_store *st, slm_plugins *ps,
                     const slm_run_opts *o, const char *mode, int64_t *run_id,
                     slm_session **out, char *err, size_t errlen)
{
    run_ctx *c = slm_xcalloc(1, sizeof *c);
    *c = (run_ctx){.cfg = cfg, .st = st, .o = o, .mode_as = mode, .run_id = *run_id};
    *out = NULL;
    int rc = prepare(c, ps, err, errlen);
    if (rc == SLM_RUN_OK && *run_id > 0) {
        rc = resume_check(c, err, errlen);
    } else if (rc == SLM_RUN_OK && record_run(c, err, errlen)) {
        size_t len = strlen(err);
        snprintf(err + len, errlen - len, "; nothing of the run was recorded, run it again");
        rc = SLM_RUN_ENGINE;
    }
    if (rc != SLM_RUN_OK) {
        slm_session_close(c);
        return rc;
    }
    *run_id = c->run_id;
    *out = c;
    return SLM_RUN_OK;
}

void slm_session_close(slm_session *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->cands && i < s->cfg->n_cands; i++) {
        if (s->cands[i].eng)
            s->cands[i].plugin->vt->close(s->cands[i].eng);
        free(s->cands[i].done);
    }
    ctx_free(s);
    free(s);
}

size_t slm_session_n(const slm_session *s)
{
    return s->n;
}

const char *slm_session_prompt(const slm_session *s, size_t i)
{
    return s->prompts[i];
}

const char *slm_session_example_id(const slm_session *s, size_t i)
{
    return s->ds->rows[i].id;
}

int slm_session_cand_begin(slm_session *s, size_t ci, slm_session_cand *out, char *err,
                           size_t errlen)
{
    cand_state *cs = &s->cands[ci];
    memset(out, 0, sizeof *out);
    int rc = cand_begin(s, ci);
    slm_model_info mi;
    memset(&mi, 0, sizeof mi);
    mi.struct_size = sizeof mi;
    char e2[SLM_ERRLEN] = "";
    if (rc == SLM_RUN_OK && cs->plugin->vt->info(cs->eng, &mi, e2, sizeof e2) != 0) {
        slm_err(cs->err, sizeof cs->err, "candidate '%s': %s", cs->cfg->name, e2);
        rc = cs->rc = SLM_RUN_ENGINE;
    }
    if (rc != SLM_RUN_OK) {
        slm_err(err, errlen, "%s", cs->err);
        return rc;
    }
    *out = (slm_session_cand){cs->eng, cs->plugin->vt, cs->id, cs->chat, mi.caps,
                              gen_params(s, cs)};
    return SLM_RUN_OK;
}

void slm_session_cand_end(slm_session *s, size_t ci, int rc, const char *err)
{
    cand_state *cs = &s->cands[ci];
    if (cs->eng)
        cs->plugin->vt->close(cs->eng);
    cs->eng = NULL;
    cs->active = 0;
    free(cs->done);
    cs->done = NULL;
    if (rc == SLM_RUN_OK)
        set_cand_status(s->st, cs->id, "ok", NULL);
    else if (rc == SLM_RUN_INTERRUPTED)
        set_cand_status(s->st, cs->id, "pending", NULL);
    else
        set_cand_status(s->st, cs->id, "failed", err);
}

void slm_session_judge(slm_session *s, size_t ci, size_t i, const slm_gen_result *res,
                       const char *err, slm_judged *out)
{
    outcome o;
    slm_timings srv;
    outcome_init(s, &s->cands[ci], i, &o);
    judge_generated(s, i, res, err, &o, &srv);
    out->pred = o.row.pred ? slm_xstrdup(o.row.pred) : NULL;
    out->error = o.error ? slm_xstrdup(o.error) : NULL;
    out->correct = o.error ? -1 : o.row.correct;
    out->valid = o.error ? -1 : o.row.valid;
    outcome_free(&o);
}

void slm_judged_free(slm_judged *j)
{
    free(j->pred);
    free(j->error);
}

int slm_session_stored_cfg(slm_store *st, int64_t run_id, slm_run_cfg **cfg, char *err,
                           size_t errlen)
{
    slm_resume_row r;
    int found = slm_store_run_to_resume(st, run_id, 1, &r, err, errlen);
    if (found != 0) {
        if (found > 0)
            slm_err(err, errlen, "%s: no run %lld", slm_store_path(st), (long long)run_id);
        return found < 0 ? SLM_RUN_ENGINE : SLM_RUN_BAD_INPUT;
    }
    int rc = parse_stored(&r, cfg, err, errlen);
    slm_resume_row_free(&r);
    return rc ? SLM_RUN_BAD_INPUT : SLM_RUN_OK;
}
