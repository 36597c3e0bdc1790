/*
 * bench_scoring.c — what score mode's two caches buy in the llamacpp engine (DESIGN.md §4),
 * measured side by side in one run on real prompts of the support-triage eval set:
 *
 *   a) K label continuations scored from one evaluation of the prompt (one score() call
 *      with K choices) against K separate full evaluations (K score() calls of one choice
 *      each), both with prefix_cache=0 so only the choice batching differs;
 *   b) a long instruction block shared by every prompt, evaluated once per model
 *      (prefix_cache=1) against evaluated for every example (prefix_cache=0).
 *
 * The model is a demo model (DESIGN.md §5) made here from the eval set's train split: it
 * runs llama.cpp's real forward pass, so the costs are llama.cpp's. Timings are printed,
 * never judged (the machines are shared and noisy); raw samples go to WORKDIR/scoring.csv.
 *
 *   bench_scoring ENGINE_SO EVALSET WORKDIR
 *
 * Environment: BENCH_THREADS (default 2), BENCH_EXAMPLES (default 30).
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

#define WARMUP 2              /* untimed examples before each measurement */
#define INSTRUCTION_TOKENS 400 /* the shared instruction block of b), at least */
#define SEPARATE_EVALS 480    /* a) evaluates each prompt K times: K*examples at most this */

static const slm_engine_vtable *vt;
static FILE *samples;         /* raw samples, one line per timed call group */
static int threads = 2;

static int open_engine(const char *model, const char *prefix_cache, slm_engine **e, char *err,
                       size_t errlen)
{
    char th[16];
    snprintf(th, sizeof th, "%d", threads);
    slm_option items[] = {{"model", model}, {"threads", th}, {"prefix_cache", prefix_cache}};
    slm_options opts = {items, sizeof items / sizeof items[0]};
    return vt->open(&opts, e, err, errlen);
}

/* Scores prompt with n choices; the score result, or NULL with err filled. */
static slm_score_result *score(slm_engine *e, const char *prompt, const char *const *choices,
                               size_t n, char *err, size_t errlen)
{
    slm_request req = {sizeof req, "bench", prompt, strlen(prompt), 0, NULL};
    slm_score_result *r = NULL;
    return vt->score(e, &req, choices, n, &r, err, errlen) ? NULL : r;
}

/* ---- a) K choices from one cached prompt vs K full evaluations ---- */

/* One example both ways. Adds the milliseconds to *one and *sep and the largest gap
 * between the two ways' log-probs to *gap; -1 on an engine failure. */
static int example_k(slm_engine *e, const char *prompt, const char *const *choices, size_t k,
                     double *one, double *sep, double *gap, char *err, size_t errlen)
{
    uint64_t t0 = slm_now_ns();
    slm_score_result *all = score(e, prompt, choices, k, err, errlen);
    uint64_t t1 = slm_now_ns();
    if (!all)
        return -1;
    for (size_t j = 0; j < k; j++) {
        slm_score_result *r = score(e, prompt, choices + j, 1, err, errlen);
        if (!r) {
            vt->result_free(all);
            return -1;
        }
        double d = fabs(r->logprob[0] - all->logprob[j]);
        *gap = d > *gap ? d : *gap;
        vt->result_free(r);
    }
    uint64_t t2 = slm_now_ns();
    vt->result_free(all);
    *one += (double)(t1 - t0) / 1e6;
    *sep += (double)(t2 - t1) / 1e6;
    return 0;
}

static int bench_choices(const char *model, char **prompts, size_t n, const char *const *labels,
                         size_t n_labels, char *err, size_t errlen)
{
    static const size_t ks[] = {4, 16, 64};
    enum { MAX_K = 64 };
    char *choices[MAX_K];
    for (size_t j = 0; j < MAX_K; j++)
        choices[j] = j < n_labels ? slm_xasprintf(" %s", labels[j])
                                  : slm_xasprintf(" label_%zu", j);
    slm_engine *e = NULL;
    int rc = open_engine(model, "0", &e, err, errlen);

    printf("a) K labels scored from one evaluation of the prompt vs K full evaluations\n");
    printf("   (prefix_cache=0 both ways; the first %zu labels are the eval set's, then "
           "' label_8', ...)\n",
           n_labels);
    printf("   %4s %8s %10s %15s %15s %9s %6s %10s\n", "K", "examples", "choice tok",
           "1 call ms/ex", "K calls ms/ex", "speed-up", "0.8*K", "max |dlp|");
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0] && rc == 0; ki++) {
        size_t k = ks[ki];
        const char *const *c = (const char *const *)choices;
        double one = 0, sep = 0, gap = 0, w1 = 0, w2 = 0, wg = 0;
        /* The K separate evaluations cost K prompts an example: fewer examples for a large
         * K keep the run short; both ways see the same ones. */
        size_t ne = SEPARATE_EVALS / k < n ? SEPARATE_EVALS / k : n;
        for (size_t i = 0; i < WARMUP && rc == 0; i++)
            rc = example_k(e, prompts[i % n], c, k, &w1, &w2, &wg, err, errlen);
        long ctoks = 0;
        slm_score_result *r = rc ? NULL : score(e, prompts[0], c, k, err, errlen);
        if (!r)
            rc = -1;
        for (size_t j = 0; r && j < k; j++)
            ctoks += r->n_tokens[j];
        vt->result_free(r);
        for (size_t i = 0; i < ne && rc == 0; i++) {
            double a = 0, b = 0;
            rc = example_k(e, prompts[i], c, k, &a, &b, &gap, err, errlen);
            fprintf(samples, "choices,%zu,%zu,one_call,%.4f\nchoices,%zu,%zu,k_calls,%.4f\n",
                    k, i, a, k, i, b);
            one += a;
            sep += b;
        }
        if (rc)
            break;
        printf("   %4zu %8zu %10.2f %15.2f %15.2f %8.2fx %6.1f %10.2g\n", k, ne,
               (double)ctoks / (double)k, one / (double)ne, sep / (double)ne, sep / one,
               0.8 * (double)k, gap);
        fflush(stdout);
    }
    if (rc == 0)
        printf("   goal: >= 0.8*K\n");
    vt->close(e);
    for (size_t j = 0; j < MAX_K; j++)
        free(choices[j]);
    return rc;
}

/* ---- b) a long shared instruction block, once per model vs once per example ---- */

/*
 * An instruction block of at least INSTRUCTION_TOKENS tokens of this model: a task
 * description and solved train examples as few-shot demonstrations. Token counts are
 * the engine's (a score with no choice evaluates just the prompt). A new string, or NULL.
 */
static char *instruction_block(slm_engine *e, const slm_dataset *train, int *n_tokens,
                               char *err, size_t errlen)
{
    slm_buf b = {0};
    slm_buf_puts(&b, "You are the first-line triage assistant of an online shop. Read the "
                     "customer's ticket and route it to the one queue that can act on it. "
                     "Payment problems, invoices and double charges go to billing; parcels, "
                     "couriers and delivery dates go to shipping; passwords and logins go to "
                     "account_access; crashes and error messages go to technical; threats of "
                     "lawyers or courts go to legal_dispute; returns and refunds go to "
                     "refund_return; questions about a product go to product_question; "
                     "praise and suggestions go to feedback. Answer with the queue name "
                     "only.\n\nSolved examples:\n\n");
    for (size_t i = 0;; i++) {
        slm_score_result *r = score(e, b.data, NULL, 0, err, errlen);
        if (!r) {
            slm_buf_free(&b);
            return NULL;
        }
        *n_tokens = r->n_prompt_tokens;
        vt->result_free(r);
        if (*n_tokens >= INSTRUCTION_TOKENS || i == train->n)
            break;
        slm_buf_printf(&b, "Ticket: %s\nCategory: %s\n\n", train->rows[i].text,
                       train->rows[i].label);
    }
    slm_buf_puts(&b, "Now the ticket to route.\n\n");
    return slm_buf_take(&b);
}

static int bench_prefix(const char *model, const slm_evalset *es, const slm_dataset *train,
                        const slm_dataset *test, size_t n, char *err, size_t errlen)
{
    slm_engine *on = NULL, *off = NULL;
    if (open_engine(model, "1", &on, err, errlen) || open_engine(model, "0", &off, err, errlen)) {
        vt->close(on);
        return -1;
    }
    int block_tokens = 0;
    char *block = instruction_block(off, train, &block_tokens, err, errlen);
    int rc = block ? 0 : -1;
    char *tmpl = block ? slm_xasprintf("%s%s", block, es->prompt) : NULL;
    char **prompts = slm_xcalloc(n, sizeof *prompts);
    for (size_t i = 0; i < n && tmpl; i++)
        prompts[i] = slm_prompt_render(tmpl, test->rows[i].text, test->rows[i].id,
                                       (const char *const *)es->labels, es->n_labels);
    char **choices = slm_xcalloc(es->n_labels, sizeof *choices);
    for (size_t j = 0; j < es->n_labels; j++)
        choices[j] = slm_xasprintf(" %s", es->labels[j]);
    const char *const *c = (const char *const *)choices;

    double t_on = 0, t_off = 0, gap = 0;
    long prompt_tokens = 0;
    /* Warm-up: for prefix_cache=1 it also puts the block into the cache, which is the
     * point: the block is evaluated once per model, not once per run of examples. */
    for (size_t i = 0; i < WARMUP && rc == 0; i++) {
        slm_score_result *a = score(on, prompts[i % n], c, es->n_labels, err, errlen);
        slm_score_result *b = a ? score(off, prompts[i % n], c, es->n_labels, err, errlen) : NULL;
        rc = a && b ? 0 : -1;
        vt->result_free(a);
        vt->result_free(b);
    }
    /* Interleaved, example by example, so drift in the machine's speed hits both. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t t0 = slm_now_ns();
        slm_score_result *a = score(on, prompts[i], c, es->n_labels, err, errlen);
        uint64_t t1 = slm_now_ns();
        slm_score_result *b = a ? score(off, prompts[i], c, es->n_labels, err, errlen) : NULL;
        uint64_t t2 = slm_now_ns();
        if (!a || !b) {
            vt->result_free(a);
            rc = -1;
            break;
        }
        double ma = (double)(t1 - t0) / 1e6, mb = (double)(t2 - t1) / 1e6;
        fprintf(samples, "prefix,%zu,%zu,prefix_cache_1,%.4f\nprefix,%zu,%zu,prefix_cache_0,"
                         "%.4f\n",
                es->n_labels, i, ma, es->n_labels, i, mb);
        t_on += ma;
        t_off += mb;
        prompt_tokens += a->n_prompt_tokens;
        for (size_t j = 0; j < es->n_labels; j++) {
            double d = fabs(a->logprob[j] - b->logprob[j]);
            gap = d > gap ? d : gap;
        }
        vt->result_free(a);
        vt->result_free(b);
    }
    if (rc == 0) {
        printf("b) a shared instruction block of %d tokens (task text and few-shot examples) "
               "before each ticket;\n   %zu labels per example, prompts of %.1f tokens on "
               "average\n",
               block_tokens, es->n_labels, (double)prompt_tokens / (double)n);
        printf("   prefix_cache=1 (block evaluated once per model)  %9.2f ms/example\n",
               t_on / (double)n);
        printf("   prefix_cache=0 (block evaluated every example)   %9.2f ms/example\n",
               t_off / (double)n);
        printf("   speed-up %.2fx   max |dlp| %.2g\n", t_off / t_on, gap);
    }
    for (size_t j = 0; j < es->n_labels; j++)
        free(choices[j]);
    free(choices);
    for (size_t i = 0; i < n; i++)
        free(prompts[i]);
    free(prompts);
    free(tmpl);
    free(block);
    vt->close(on);
    vt->close(off);
    return rc;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_scoring ENGINE_SO EVALSET WORKDIR\n");
        return 2;
    }
    const char *so_path = argv[1], *es_path = argv[2], *work = argv[3];
    threads = bench_env_int("BENCH_THREADS", 2);
    size_t n = (size_t)bench_env_int("BENCH_EXAMPLES", 30);
    char err[SLM_ERRLEN] = "";
    int rc = 1;
    void *so = NULL;
    slm_evalset *es = NULL;
    slm_dataset *train = NULL, *test = NULL;
    char **prompts = NULL;
    char *model = slm_xasprintf("%s/bench-nb-300-f16.gguf", work);
    char *raw = slm_xasprintf("%s/scoring.csv", work);

    if (!(vt = bench_load_engine("bench_scoring", so_path, &so)))
        goto out;
    if (slm_mkdir_p(work, err, sizeof err) || slm_evalset_load(es_path, &es, err, sizeof err) ||
        slm_evalset_load_split(es, "train", 0, &train, err, sizeof err) ||
        slm_evalset_load_split(es, "test", 0, &test, err, sizeof err) ||
        slm_prompt_check(es->prompt, es->prompt_path, err, sizeof err)) {
        fprintf(stderr, "bench_scoring: %s\n", err);
        goto out;
    }
    if (n > test->n)
        n = test->n;

    /* The demo model nb-300-f16 of bench/demo.yaml: 300 word features, 1 layer, F16. */
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
        fprintf(stderr, "bench_scoring: %s\n", err);
        goto out;
    }
    samples = fopen(raw, "w");
    if (!samples) {
        fprintf(stderr, "bench_scoring: cannot write '%s'\n", raw);
        slm_factory_report_free(&rep);
        goto out;
    }
    fprintf(samples, "bench,k,example,method,ms\n");

    prompts = slm_xcalloc(n, sizeof *prompts);
    for (size_t i = 0; i < n; i++)
        prompts[i] = slm_prompt_render(es->prompt, test->rows[i].text, test->rows[i].id,
                                       (const char *const *)es->labels, es->n_labels);
    printf("scoring: llamacpp engine, demo model %s (layers %zu, n_embd %zu, n_vocab %zu, "
           "F16), %zu test prompts of %s, threads %d\n",
           o.name, rep.n_layers, rep.n_embd, rep.n_tokens, n, es->name, threads);
    slm_factory_report_free(&rep);
    fflush(stdout);
    if (bench_choices(model, prompts, n, (const char *const *)es->labels, es->n_labels, err,
                      sizeof err) ||
        bench_prefix(model, es, train, test, n, err, sizeof err)) {
        fprintf(stderr, "bench_scoring: %s\n", err);
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
    slm_dataset_free(train);
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
