/*
 * bench_throughput.c — throughput mode (score_batch, like MLPerf's Offline scenario)
 * against single-stream scoring in the llamacpp engine, side by side in one run on real
 * prompts of the support-triage eval set with its labels as the choices:
 *
 *   single-stream   one score() call per example, with prefix_cache=0 (every prompt
 *                   evaluated in full, like the batch) and prefix_cache=1 (the default:
 *                   the prompt template's shared opening evaluated once);
 *   throughput      one score_batch() call with every example, n_parallel 8 and 16 (the
 *                   engine evaluates that many prompts side by side per decode).
 *
 * examples/s counts scored examples; tokens/s counts the tokens the examples consist of
 * (prompt plus every label's continuation), the same work for every mode, however much
 * of it a cache skipped. The batch's log-probabilities are compared with score()'s
 * (max |dlp|), since speed at the expense of other answers would be no speed-up.
 *
 * The model is the demo model nb-300-f16 (DESIGN.md §5), made here from the train split.
 * Each mode runs REPS timed passes, interleaved so drift in the machine's speed hits all
 * alike, after an untimed warm-up pass; the median pass is reported, raw samples go to
 * WORKDIR/throughput.csv.
 * Timings are printed, never judged (the machines are shared and noisy).
 *
 *   bench_throughput ENGINE_SO EVALSET WORKDIR
 *
 * Environment: BENCH_THREADS (default 2), BENCH_EXAMPLES (default 64), BENCH_REPS (3),
 * BENCH_PARALLEL (default "8 16": the n_parallel values of the throughput modes).
 */
#include "bench_common.h"
#include "evalset.h"
#include "modelfactory.h"
#include "prompt.h"
#include "slm_engine.h"
#include "util.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const slm_engine_vtable *vt;
static int threads = 2;

/* The modes compared; the first is the baseline of the ratios. BENCH_PARALLEL may
 * replace the throughput modes' n_parallel values. */
#define MAX_MODES 10
static struct mode {
    char name[48];
    const char *prefix_cache;
    char n_parallel[8];       /* "": single-stream, score() per example */
} modes[MAX_MODES] = {
    {"single-stream prefix_cache=0", "0", ""},
    {"single-stream prefix_cache=1", "1", ""},
};
static size_t N_MODES = 2;

static int open_mode(const char *model, const struct mode *m, slm_engine **e, char *err,
                     size_t errlen)
{
    char th[16];
    snprintf(th, sizeof th, "%d", threads);
    slm_option items[] = {{"model", model},
                          {"threads", th},
                          {"prefix_cache", m->prefix_cache},
                          {"n_parallel", m->n_parallel[0] ? m->n_parallel : "8"}};
    slm_options opts = {items, sizeof items / sizeof items[0]};
    return vt->open(&opts, e, err, errlen);
}

/* One pass of a mode over all n requests into res[n] (freed by the caller); -1 with err
 * filled on an engine failure. */
static int pass(slm_engine *e, const struct mode *m, const slm_request *const *reqs, size_t n,
                const char *const *choices, size_t k, slm_score_result **res, char *err,
                size_t errlen)
{
    if (m->n_parallel[0])
        return vt->score_batch(e, reqs, n, choices, k, res, err, errlen);
    for (size_t i = 0; i < n; i++)
        if (vt->score(e, reqs[i], choices, k, &res[i], err, errlen))
            return -1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void free_results(slm_score_result **res, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vt->result_free(res[i]);
        res[i] = NULL;
    }
}

static int bench(const char *model, char **prompts, size_t n, const char *const *labels,
                 size_t k, int reps, FILE *samples, char *err, size_t errlen)
{
    slm_engine *e[MAX_MODES] = {0};
    int rc = 0;
    for (size_t m = 0; m < N_MODES && rc == 0; m++)
        rc = open_mode(model, &modes[m], &e[m], err, errlen);
    char **choices = slm_xcalloc(k, sizeof *choices);
    for (size_t j = 0; j < k; j++)
        choices[j] = slm_xasprintf(" %s", labels[j]);
    const char *const *c = (const char *const *)choices;
    slm_request *rq = slm_xcalloc(n, sizeof *rq);
    const slm_request **rp = slm_xcalloc(n, sizeof *rp);
    for (size_t i = 0; i < n; i++) {
        rq[i] = (slm_request){sizeof rq[i], "bench", prompts[i], strlen(prompts[i]), 0, NULL};
        rp[i] = &rq[i];
    }
    slm_score_result **ref = slm_xcalloc(n, sizeof *ref), **res = slm_xcalloc(n, sizeof *res);
    double ms[MAX_MODES][64] = {{0}}, gap[MAX_MODES] = {0};
    long tokens = 0;

    /* Warm-up pass of every mode; the first one's results are the reference. */
    for (size_t m = 0; m < N_MODES && rc == 0; m++) {
        rc = pass(e[m], &modes[m], rp, n, c, k, m ? res : ref, err, errlen);
        for (size_t i = 0; m && rc == 0 && i < n; i++)
            for (size_t j = 0; j < k; j++)
                gap[m] = fmax(gap[m], fabs(res[i]->logprob[j] - ref[i]->logprob[j]));
        free_results(res, n);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        tokens += ref[i]->n_prompt_tokens;
        for (size_t j = 0; j < k; j++)
            tokens += ref[i]->n_tokens[j];
    }
    for (int r = 0; r < reps && rc == 0; r++)
        for (size_t m = 0; m < N_MODES && rc == 0; m++) {
            uint64_t t0 = slm_now_ns();
            rc = pass(e[m], &modes[m], rp, n, c, k, res, err, errlen);
            ms[m][r] = (double)(slm_now_ns() - t0) / 1e6;
            free_results(res, n);
            fprintf(samples, "%s,%d,%zu,%.4f\n", modes[m].name, r, n, ms[m][r]);
        }
    if (rc == 0) {
        /* The median pass: one pass slowed by a neighbour on a shared machine should not
         * decide the ratio (the sd shows such noise). */
        printf("   %-30s %12s %12s %10s %10s %9s\n", "mode", "examples/s", "tokens/s",
               "median ms", "sd ms", "max |dlp|");
        double base = 0;
        for (size_t m = 0; m < N_MODES; m++) {
            double mean = 0, var = 0;
            for (int r = 0; r < reps; r++)
                mean += ms[m][r] / reps;
            for (int r = 0; r < reps; r++)
                var += (ms[m][r] - mean) * (ms[m][r] - mean) / (reps > 1 ? reps - 1 : 1);
            double sorted[64];
            memcpy(sorted, ms[m], sizeof sorted[0] * (size_t)reps);
            qsort(sorted, (size_t)reps, sizeof sorted[0], cmp_double);
            double med = reps % 2 ? sorted[reps / 2]
                                  : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
            double eps = (double)n / (med / 1e3);
            if (m == 0)
                base = eps;
            printf("   %-30s %12.1f %12.0f %10.1f %10.1f %9.2g   %.2fx\n", modes[m].name, eps,
                   (double)tokens / (med / 1e3), med, sqrt(var), gap[m], eps / base);
        }
        printf("   (ratios against the first line; %.1f tokens an example, prompt and %zu "
               "labels)\n",
               (double)tokens / (double)n, k);
    }
    free_results(ref, n);
    free(ref);
    free(res);
    free(rp);
    free(rq);
    for (size_t j = 0; j < k; j++)
        free(choices[j]);
    free(choices);
    for (size_t m = 0; m < N_MODES; m++)
        vt->close(e[m]);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_throughput ENGINE_SO EVALSET WORKDIR\n");
        return 2;
    }
    const char *so_path = argv[1], *es_path = argv[2], *work = argv[3];
    threads = bench_env_int("BENCH_THREADS", 2);
    size_t n = (size_t)bench_env_int("BENCH_EXAMPLES", 64);
    int reps = bench_env_int("BENCH_REPS", 3);
    reps = reps > 64 ? 64 : reps;
    const char *par = getenv("BENCH_PARALLEL");
    char *list = slm_xstrdup(par && *par ? par : "8 16"), *save = NULL;
    for (char *t = strtok_r(list, " ,", &save); t && N_MODES < MAX_MODES;
         t = strtok_r(NULL, " ,", &save)) {
        struct mode *m = &modes[N_MODES++];
        snprintf(m->name, sizeof m->name, "throughput n_parallel=%.8s", t);
        m->prefix_cache = "0";
        snprintf(m->n_parallel, sizeof m->n_parallel, "%.7s", t);
    }
    free(list);
    char err[SLM_ERRLEN] = "";
    int rc = 1;
    void *so = NULL;
    slm_evalset *es = NULL;
    slm_dataset *test = NULL;
    char **prompts = NULL;
    FILE *samples = NULL;
    char *model = slm_xasprintf("%s/bench-nb-300-f16.gguf", work);
    char *raw = slm_xasprintf("%s/throughput.csv", work);

    if (!(vt = bench_load_engine("bench_throughput", so_path, &so)))
        goto out;
    if (vt->struct_size < offsetof(slm_engine_vtable, score_batch) + sizeof vt->score_batch ||
        !vt->score_batch) {
        fprintf(stderr, "bench_throughput: engine '%s' has no score_batch\n", so_path);
        goto out;
    }
    if (slm_mkdir_p(work, err, sizeof err) || slm_evalset_load(es_path, &es, err, sizeof err) ||
        slm_evalset_load_split(es, "test", 0, &test, err, sizeof err) ||
        slm_prompt_check(es->prompt, es->prompt_path, err, sizeof err)) {
        fprintf(stderr, "bench_throughput: %s\n", err);
        goto out;
    }
    if (n > test->n)
        n = test->n;

    /* The demo model nb-300-f16 of bench/demo.yaml, as bench_scoring makes it. */
    slm_factory_opts o;
    slm_factory_defaults(&o);
    o.train_path = slm_evalset_split_path(es, "train");
    o.out_path = model;
    o.name = "bench-nb-300-f16";
    o.vocab_words = 300;
    o.alpha = 1.0;
    o.n_layers = 1;
    o.labels = (const char *const *)es->labels;
    o.n_labels = es->n_labels;
    o.prompt_template = es->prompt;
    slm_factory_report rep;
    if (slm_model_make(&o, &rep, err, sizeof err)) {
        fprintf(stderr, "bench_throughput: %s\n", err);
        goto out;
    }
    samples = fopen(raw, "w");
    if (!samples) {
        fprintf(stderr, "bench_throughput: cannot write '%s'\n", raw);
        slm_factory_report_free(&rep);
        goto out;
    }
    fprintf(samples, "mode,rep,examples,ms\n");

    prompts = slm_xcalloc(n, sizeof *prompts);
    for (size_t i = 0; i < n; i++)
        prompts[i] = slm_prompt_render(es->prompt, test->rows[i].text, test->rows[i].id,
                                       (const char *const *)es->labels, es->n_labels);
    printf("throughput: llamacpp engine, demo model %s (layers %zu, n_embd %zu, n_vocab %zu, "
           "F16), %zu test prompts of %s, %zu labels, threads %d, %d passes a mode\n",
           o.name, rep.n_layers, rep.n_embd, rep.n_tokens, n, es->name, es->n_labels, threads,
           reps);
    slm_factory_report_free(&rep);
    fflush(stdout);
    if (bench(model, prompts, n, (const char *const *)es->labels, es->n_labels, reps, samples,
              err, sizeof err)) {
        fprintf(stderr, "bench_throughput: %s\n", err);
        goto out;
    }
    printf("   raw samples: %s\n", raw);
    rc = 0;
out:
    if (samples)
        fclose(samples);
    for (size_t i = 0; prompts && i < n; i++)
        free(prompts[i]);
    free(prompts);
    slm_dataset_free(test);
    slm_evalset_free(es);
    if (vt && vt->shutdown)
        vt->shutdown();
    if (so)
        dlclose(so);
    free(model);
    free(raw);
    return rc;
}
