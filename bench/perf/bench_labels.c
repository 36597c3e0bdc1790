/*
 * bench_labels.c — score mode at real label counts (issue 20; BENCH_ONLY=labels of
 * bench/perf/run.sh), the llamacpp engine's score() before (score_trie=0: every label's
 * tokens evaluated once per label) and after (score_trie=1: shared label prefixes
 * evaluated once), interleaved example by example in one run:
 *
 *   a) the K table: for K = 4, 16, 64, 150 labels, one score() with K choices against K
 *      full evaluations (K score() calls of one choice each), prefix_cache=0 everywhere so
 *      only the choice evaluation differs, on support-triage test prompts (P ~ 100 tokens)
 *      with the benchmarks' model nb-300-f16. The labels are real label sets cut to K
 *      (the first K of banking77's 77 sorted labels for K <= 64, of clinc150's 151 for
 *      K = 150), or " label_000", " label_001", ... without ../shared. The ideal is the
 *      token-count ratio: K full evaluations cost K*P + sum(T) tokens, one call P + sum(T)
 *      (= K(P+T)/(P+KT) for labels of T tokens each); share = speed-up / ideal. The
 *      trie's speed-up may exceed the ideal: it evaluates fewer than sum(T) label tokens.
 *   b) examples/s on the first N test examples of banking77 (77 labels) and clinc150
 *      (151) with the real-tokenizer demo models qwen3-nb-q8_0 and llama3-nb-q8_0
 *      (prefix_cache=1, as `slmbench run` uses them), prompt "Classify the customer's
 *      message into one intent. / Message: {{text}} / Intent:". Skipped without ../shared
 *      or the models.
 *   c) the same in throughput mode (score_batch(), 8 examples a call: the engine's default
 *      n_parallel), the gain the median of the per-call ratios.
 *
 * Without an engine that knows score_trie (check_options refuses it) only "before" is
 * measured and "after" is "–". Timings are printed, never judged; raw samples go to
 * WORKDIR/labels.csv. The gain after/before is the median of the per-example ratios with a
 * seeded bootstrap 95% interval (ratio_stats.h).
 *
 *   bench_labels ENGINE_SO EVALSET MODELS_DIR SHARED_DIR WORKDIR
 *
 * Environment: BENCH_THREADS (default 2), BENCH_EXAMPLES (K table, default 30),
 * BENCH_LABEL_EXAMPLES (b, default 40), BENCH_SEED (default 20), BENCH_KMAX (default 150:
 * the K table's rows above it left out, for a short check such as one under valgrind),
 * BENCH_AFTER_OPTIONS ("key=value,..." added to the "after" engine's options, e.g.
 * "score_group_nodes=512" to measure what the engine's bound on the nodes of a batch
 * gains: after/before then compares the trie alone).
 *
 * |dlp| K is not 0 everywhere: one call and K calls put a choice's tokens in different KV
 * cells and batches, so llama.cpp sums the attention in another order (with n_seq_max=2,
 * one choice a batch, the difference is 0). The demo models' log-probabilities are large
 * (-100 to -500), so a relative 2e-6 shows as up to 1e-3.
 */
#include "bench_common.h"
#include "evalset.h"
#include "prompt.h"
#include "ratio_stats.h"
#include "slm_engine.h"
#include "util.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WARMUP 2            /* untimed examples before each measurement */
#define SEPARATE_EVALS 1200 /* a) K full evaluations an example: K*examples at most this */
#define RESAMPLES 2000
#define THROUGHPUT_BATCH 8  /* c) examples a score_batch() call: the engine's n_parallel */
#define INTENT_PROMPT "Classify the customer's message into one intent.\n\nMessage: {{text}}\nIntent:"

static const slm_engine_vtable *vt;
static FILE *samples;
static int threads = 2;
static uint64_t seed = 20;
static int have_trie;        /* the engine knows score_trie */
static size_t k_max = 150;   /* BENCH_KMAX: larger K are left out (a short check) */

/* trie: 0 or 1 sets score_trie, -1 leaves it out; with 1 the options of
 * BENCH_AFTER_OPTIONS follow ("key=value,...", at most 8). */
static int open_engine(const char *model, const char *prefix_cache, int trie, slm_engine **e,
                       char *err, size_t errlen)
{
    char th[16];
    snprintf(th, sizeof th, "%d", threads);
    slm_option items[4 + 8] = {{"model", model}, {"threads", th}, {"prefix_cache", prefix_cache},
                               {"score_trie", trie ? "1" : "0"}};
    size_t n = trie < 0 ? 3 : 4;
    const char *extra = getenv("BENCH_AFTER_OPTIONS");
    char *copy = trie == 1 && extra ? slm_xstrdup(extra) : NULL, *save = NULL;
    for (char *kv = copy ? strtok_r(copy, ",", &save) : NULL; kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || n == sizeof items / sizeof *items) {
            free(copy);
            return slm_err(err, errlen, "BENCH_AFTER_OPTIONS: expected at most 8 key=value, got '%s'",
                           extra);
        }
        *eq = '\0';
        items[n++] = (slm_option){kv, eq + 1};
    }
    slm_options opts = {items, n};
    *e = NULL;
    int rc = vt->open(&opts, e, err, errlen);
    free(copy);
    return rc;
}

/* Scores prompt with n choices into *r, adding the milliseconds to *ms; -1 with err. */
static int timed_score(slm_engine *e, const char *prompt, const char *const *choices, size_t n,
                       slm_score_result **r, double *ms, char *err, size_t errlen)
{
    slm_request req = {sizeof req, "bench", prompt, strlen(prompt), 0, NULL};
    *r = NULL;
    uint64_t t0 = slm_now_ns();
    int rc = vt->score(e, &req, choices, n, r, err, errlen);
    *ms += (double)(slm_now_ns() - t0) / 1e6;
    return rc ? -1 : 0;
}

static double max_gap(const slm_score_result *a, const slm_score_result *b, double gap)
{
    for (size_t j = 0; a && b && j < a->n && j < b->n; j++) {
        double d = fabs(a->logprob[j] - b->logprob[j]);
        gap = d > gap ? d : gap;
    }
    return gap;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted distinct labels of SHARED/datasets/NAME/train.csv as choices " label" (new
 * strings); 0 with *n = 0 when the file is absent, -1 with err when it is malformed. */
static int label_set(const char *shared, const char *name, char ***out, size_t *n, char *err,
                     size_t errlen)
{
    char *path = slm_xasprintf("%s/datasets/%s/train.csv", shared, name);
    *out = NULL;
    *n = 0;
    if (access(path, R_OK)) {
        free(path);
        return 0;
    }
    slm_load_opts o = {0};
    slm_dataset *d = NULL;
    int rc = slm_dataset_load(path, &o, &d, err, errlen);
    free(path);
    if (rc)
        return -1;
    char **l = slm_xcalloc(d->n ? d->n : 1, sizeof *l);
    for (size_t i = 0; i < d->n; i++)
        l[i] = d->rows[i].label;
    qsort(l, d->n, sizeof *l, cmp_str);
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++)
        if (m == 0 || strcmp(l[i], l[m - 1]))
            l[m++] = l[i];
    for (size_t i = 0; i < m; i++)
        l[i] = slm_xasprintf(" %s", l[i]);
    slm_dataset_free(d);
    *out = l;
    *n = m;
    return 0;
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

/* ---- a) the K table ---- */

typedef struct k_stats {
    double full, before, after;   /* ms summed over the examples */
    double tok_prompt, tok_choice; /* P and sum(T) summed over the examples */
    double gap_full, gap_trie;    /* largest |dlp|: one call vs K calls, after vs before */
    double *gain;                 /* [examples] before/after ms per example */
    size_t n;
} k_stats;

/* The K full evaluations of one example: their log-probs into lp[k]. */
static int k_full(slm_engine *e, const char *prompt, const char *const *c, size_t k,
                  double *lp, double *ms, char *err, size_t errlen)
{
    for (size_t j = 0; j < k; j++) {
        slm_score_result *r;
        if (timed_score(e, prompt, c + j, 1, &r, ms, err, errlen))
            return -1;
        lp[j] = r->logprob[0];
        vt->result_free(r);
    }
    return 0;
}

/*
 * One example three ways, in an order that rotates with the example (rot): before (one
 * call, e0), after (one call, e1, when there is one), K full evaluations (e0). Adds to st
 * when record; -1 with err on an engine failure.
 */
static int k_example(slm_engine *e0, slm_engine *e1, const char *prompt, const char *const *c,
                     size_t k, size_t rot, int record, k_stats *st, char *err, size_t errlen)
{
    double ms[3] = {0, 0, 0};
    double *lp = slm_xcalloc(k, sizeof *lp);
    slm_score_result *before = NULL, *after = NULL;
    int rc = 0;
    for (size_t s = 0; s < 3 && rc == 0; s++) {
        size_t way = (rot + s) % 3;
        if (way == 0)
            rc = timed_score(e0, prompt, c, k, &before, &ms[0], err, errlen);
        else if (way == 1 && e1)
            rc = timed_score(e1, prompt, c, k, &after, &ms[1], err, errlen);
        else if (way == 2)
            rc = k_full(e0, prompt, c, k, lp, &ms[2], err, errlen);
    }
    if (rc == 0 && record) {
        for (size_t j = 0; j < k; j++) {
            double d = fabs(lp[j] - before->logprob[j]);
            st->gap_full = d > st->gap_full ? d : st->gap_full;
        }
        st->full += ms[2];
        st->before += ms[0];
        st->after += ms[1];
        st->tok_prompt += before->n_prompt_tokens;
        for (size_t j = 0; j < k; j++)
            st->tok_choice += before->n_tokens[j];
        st->gap_trie = max_gap(before, after, st->gap_trie);
        st->gain[st->n++] = e1 ? ms[0] / ms[1] : NAN;
        fprintf(samples, "k,%zu,nb-300-f16,%zu,k_calls,%.4f\nk,%zu,nb-300-f16,%zu,before,%.4f\n",
                k, st->n, ms[2], k, st->n, ms[0]);
        if (e1)
            fprintf(samples, "k,%zu,nb-300-f16,%zu,after,%.4f\n", k, st->n, ms[1]);
    }
    free(lp);
    vt->result_free(before);
    vt->result_free(after);
    return rc;
}

static void k_row(size_t k, const k_stats *st)
{
    double ideal = (k * st->tok_prompt + st->tok_choice) / (st->tok_prompt + st->tok_choice);
    double sb = st->full / st->before, sa = st->full / st->after;
    printf("   %4zu %4zu %6.1f %6.2f %7.2fx %9.2f %9.2f %7.2fx %5.0f%%", k, st->n,
           st->tok_prompt / (double)st->n, st->tok_choice / (double)st->n / (double)k, ideal,
           st->full / (double)st->n, st->before / (double)st->n, sb, 100 * sb / ideal);
    if (!have_trie) {
        /* "–" is 3 bytes of UTF-8 and one column: widths counted by hand */
        printf(" %8s– %7s– %5s– –%23s %8.2g %7s–\n", "", "", "", "", st->gap_full, "");
        return;
    }
    rs_summary g;
    if (rs_bootstrap_median(st->gain, st->n, RESAMPLES, seed, &g))
        g = (rs_summary){NAN, NAN, NAN, 0};
    char gain[64];
    snprintf(gain, sizeof gain, "%.2fx [%.2f, %.2f]", g.median, g.lo, g.hi);
    printf(" %9.2f %7.2fx %5.0f%% %-24s %8.2g %8.2g\n", st->after / (double)st->n, sa,
           100 * sa / ideal, gain, st->gap_full, st->gap_trie);
}

/* Long (about 60 lines) because it sets up, runs and tears down the table's engines in one
 * place; the measurement itself is k_example(). */
static int k_table(const char *model, char **prompts, size_t n, const char *const *bank,
                   size_t n_bank, const char *const *clinc, size_t n_clinc, char *err,
                   size_t errlen)
{
    static const size_t ks[] = {4, 16, 64, 150};
    slm_engine *e0 = NULL, *e1 = NULL;
    int rc = open_engine(model, "0", have_trie ? 0 : -1, &e0, err, errlen);
    if (rc == 0 && have_trie)
        rc = open_engine(model, "0", 1, &e1, err, errlen);
    char *synth[150];
    for (size_t j = 0; j < 150; j++)
        synth[j] = slm_xasprintf(" label_%03zu", j);
    printf("a) K labels from one score() call (before: score_trie=0, after: score_trie=1) "
           "against K full evaluations\n   (prefix_cache=0 everywhere; nb-300-f16, "
           "support-triage test prompts; labels: %s)\n",
           n_bank >= 64 && n_clinc >= 150 ? "banking77's first K sorted labels, clinc150's "
                                            "first 150 for K = 150"
                                          : "synthetic ' label_000', ... (no ../shared)");
    printf("   %4s %4s %6s %6s %8s %9s %9s %8s %6s %9s %8s %6s %-24s %8s %8s\n", "K", "ex",
           "P tok", "T tok", "ideal", "K calls", "before", "speed-up", "share", "after",
           "speed-up", "share", "gain after [95%]", "|dlp| K", "|dlp| tr");
    printf("   %4s %4s %6s %6s %8s %9s %9s %8s %6s %9s %8s %6s %-24s\n", "", "", "", "/label",
           "", "ms/ex", "ms/ex", "", "", "ms/ex", "", "", "(before/after ms)");
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks && ks[ki] <= k_max && rc == 0; ki++) {
        size_t k = ks[ki];
        const char *const *c = (const char *const *)synth;
        if (k <= n_bank && n_clinc >= 150)
            c = bank;
        else if (k <= n_clinc && n_bank >= 64)
            c = clinc;
        size_t ne = SEPARATE_EVALS / k < n ? SEPARATE_EVALS / k : n;
        k_stats st = {.gain = slm_xcalloc(ne ? ne : 1, sizeof(double))};
        for (size_t i = 0; i < WARMUP && rc == 0; i++)
            rc = k_example(e0, e1, prompts[i % n], c, k, i, 0, &st, err, errlen);
        for (size_t i = 0; i < ne && rc == 0; i++)
            rc = k_example(e0, e1, prompts[i], c, k, i, 1, &st, err, errlen);
        if (rc == 0 && ne)
            k_row(k, &st);
        free(st.gain);
        fflush(stdout);
    }
    if (rc == 0)
        printf("   goal: share >= 80%% at every K\n");
    for (size_t j = 0; j < 150; j++)
        free(synth[j]);
    vt->close(e0);
    vt->close(e1);
    return rc;
}

/* ---- b) examples/s at 77 and 151 labels with the real-tokenizer demo models ---- */

/* Scores prompts [0, count) with score() (batch 0: count is 1) or in one score_batch()
 * call into r[0 .. count), adding the milliseconds to *ms; -1 with err. */
static int timed_unit(slm_engine *e, char **prompts, size_t count, int batch,
                      const char *const *c, size_t k, slm_score_result **r, double *ms,
                      char *err, size_t errlen)
{
    if (!batch)
        return timed_score(e, prompts[0], c, k, &r[0], ms, err, errlen);
    slm_request *req = slm_xcalloc(count, sizeof *req);
    const slm_request **rp = slm_xcalloc(count, sizeof *rp);
    for (size_t i = 0; i < count; i++) {
        req[i] = (slm_request){sizeof req[i], "bench", prompts[i], strlen(prompts[i]), 0, NULL};
        rp[i] = &req[i];
    }
    uint64_t t0 = slm_now_ns();
    int rc = vt->score_batch(e, rp, count, c, k, r, err, errlen);
    *ms += (double)(slm_now_ns() - t0) / 1e6;
    free(rp);
    free(req);
    return rc ? -1 : 0;
}

/*
 * One model on one data set: before and after interleaved, the order alternating, unit
 * by unit: an example through score() (batch 0), or `batch` examples through one
 * score_batch() (throughput mode). The gain is the median of the per-unit ratios.
 */
static int rate_row(const char *models, const char *mname, const char *dname, char **prompts,
                    size_t n, size_t batch, const char *const *c, size_t k, char *err,
                    size_t errlen)
{
    char *model = slm_xasprintf("%s/%s.gguf", models, mname);
    if (access(model, R_OK)) {
        printf("   %-10s %-16s (skipped: no %s; make demo-models)\n", dname, mname, model);
        free(model);
        return 0;
    }
    size_t per = batch ? batch : 1, units = n / per;
    slm_engine *e[2] = {NULL, NULL};
    int rc = open_engine(model, "1", have_trie ? 0 : -1, &e[0], err, errlen);
    if (rc == 0 && have_trie)
        rc = open_engine(model, "1", 1, &e[1], err, errlen);
    double ms[2] = {0, 0}, tok = 0, gap = 0, *gain = slm_xcalloc(units ? units : 1, sizeof *gain);
    slm_score_result **r[2] = {slm_xcalloc(per, sizeof **r), slm_xcalloc(per, sizeof **r)};
    size_t warm = batch ? 1 : WARMUP;
    for (size_t i = 0; i < units + warm && units && rc == 0; i++) {
        size_t u = i < warm ? i % units : i - warm;
        double m[2] = {0, 0};
        for (size_t s = 0; s < 2 && rc == 0; s++) {
            size_t w = (i + s) % 2;
            if (e[w])
                rc = timed_unit(e[w], prompts + u * per, per, batch != 0, c, k, r[w], &m[w],
                                err, errlen);
        }
        if (rc == 0 && i >= warm) {
            ms[0] += m[0];
            ms[1] += m[1];
            gain[u] = e[1] ? m[0] / m[1] : NAN;
            for (size_t x = 0; x < per; x++) {
                for (size_t j = 0; j < k; j++)
                    tok += r[0][x]->n_tokens[j];
                gap = max_gap(r[0][x], e[1] ? r[1][x] : NULL, gap);
            }
            fprintf(samples, "%s,%s,%s,%zu,before,%.4f\n", batch ? "batch" : "rate", dname,
                    mname, u, m[0]);
            if (e[1])
                fprintf(samples, "%s,%s,%s,%zu,after,%.4f\n", batch ? "batch" : "rate", dname,
                        mname, u, m[1]);
        }
        for (size_t w = 0; w < 2; w++)
            for (size_t x = 0; x < per; x++) {
                vt->result_free(r[w][x]);
                r[w][x] = NULL;
            }
    }
    size_t done = units * per;
    if (rc == 0 && units) {
        printf("   %-10s %-16s %6zu %6.2f %10.2f", dname, mname, k,
               tok / (double)done / (double)k, 1000.0 * (double)done / ms[0]);
        rs_summary g;
        char buf[64];
        if (!have_trie || rs_bootstrap_median(gain, units, RESAMPLES, seed, &g)) {
            printf(" %9s– –%27s %7s–\n", "", "", ""); /* "–": 3 bytes, 1 column */
        } else {
            snprintf(buf, sizeof buf, "%.2fx [%.2f, %.2f]", g.median, g.lo, g.hi);
            printf(" %10.2f %-28s %8.2g\n", 1000.0 * (double)done / ms[1], buf, gap);
        }
        fflush(stdout);
    }
    free(r[0]);
    free(r[1]);
    free(gain);
    vt->close(e[0]);
    vt->close(e[1]);
    free(model);
    return rc;
}

/* The first n test examples of SHARED/datasets/NAME, rendered with INTENT_PROMPT, scored
 * over its label set by each real-tokenizer demo model. */
static int rate_dataset(const char *shared, const char *models, const char *name, size_t n,
                        size_t batch, char *err, size_t errlen)
{
    char **labels;
    size_t k;
    if (label_set(shared, name, &labels, &k, err, errlen))
        return -1;
    char *path = slm_xasprintf("%s/datasets/%s/test.csv", shared, name);
    slm_load_opts o = {0};
    slm_dataset *d = NULL;
    if (!k || access(path, R_OK)) {
        printf("   %-10s (skipped: no %s)\n", name, path);
        free(path);
        free_strings(labels, k);
        return 0;
    }
    int rc = slm_dataset_load(path, &o, &d, err, errlen);
    free(path);
    if (n > (d ? d->n : 0))
        n = d ? d->n : 0;
    char **prompts = slm_xcalloc(n ? n : 1, sizeof *prompts);
    for (size_t i = 0; rc == 0 && i < n; i++)
        prompts[i] = slm_prompt_render(INTENT_PROMPT, d->rows[i].text, d->rows[i].id, NULL, 0);
    static const char *const demo[] = {"qwen3-nb-q8_0", "llama3-nb-q8_0"};
    for (size_t m = 0; rc == 0 && n && m < 2; m++)
        rc = rate_row(models, demo[m], name, prompts, n, batch, (const char *const *)labels, k, err,
                      errlen);
    free_strings(prompts, n);
    free_strings(labels, k);
    slm_dataset_free(d);
    return rc;
}

static void rate_header(void)
{
    printf("   %-10s %-16s %6s %6s %10s %10s %-28s %8s\n", "data set", "model", "labels",
           "T tok", "before", "after", "gain after [95%]", "|dlp|");
    printf("   %-10s %-16s %6s %6s %10s %10s %-28s\n", "", "", "", "/label", "ex/s", "ex/s",
           "(before/after ms)");
}

static int rates(const char *shared, const char *models, size_t n, char *err, size_t errlen)
{
    printf("b) examples/s over whole label sets, the first %zu test examples (prefix_cache=1; "
           "before: score_trie=0, after: 1)\n   prompt \"%s\"\n",
           n, "Classify the customer's message into one intent. / Message: {{text}} / Intent:");
    rate_header();
    if (slm_prompt_check(INTENT_PROMPT, "bench_labels", err, errlen) ||
        rate_dataset(shared, models, "banking77", n, 0, err, errlen) ||
        rate_dataset(shared, models, "clinc150", n, 0, err, errlen))
        return -1;
    printf("c) the same in throughput mode: score_batch() of %d examples a call (n_parallel 8), "
           "gain per call\n", THROUGHPUT_BATCH);
    rate_header();
    if (rate_dataset(shared, models, "banking77", n, THROUGHPUT_BATCH, err, errlen))
        return -1;
    return rate_dataset(shared, models, "clinc150", n, THROUGHPUT_BATCH, err, errlen);
}

/* ---- main ---- */

/* Loads the engine and learns whether it knows score_trie; 0, or -1 with a message on
 * stderr. */
static int load_engine(const char *so_path, void **so)
{
    char err[SLM_ERRLEN] = "";
    if (!(vt = bench_load_engine("bench_labels", so_path, so)))
        return -1;
    slm_option o[] = {{"model", "x.gguf"}, {"score_trie", "1"}};
    slm_options opts = {o, 2};
    have_trie = vt->check_options && vt->check_options(&opts, err, sizeof err) == 0;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_labels ENGINE_SO EVALSET MODELS_DIR SHARED_DIR WORKDIR\n");
        return 2;
    }
    const char *models = argv[3], *shared = argv[4], *work = argv[5];
    threads = bench_env_int("BENCH_THREADS", 2);
    seed = (uint64_t)bench_env_int("BENCH_SEED", 20);
    size_t n = (size_t)bench_env_int("BENCH_EXAMPLES", 30);
    size_t n_rate = (size_t)bench_env_int("BENCH_LABEL_EXAMPLES", 40);
    k_max = (size_t)bench_env_int("BENCH_KMAX", 150);
    char err[SLM_ERRLEN] = "";
    int rc = 4;
    void *so = NULL;
    slm_evalset *es = NULL;
    slm_dataset *test = NULL;
    char **prompts = NULL, **bank = NULL, **clinc = NULL;
    size_t n_bank = 0, n_clinc = 0;
    char *model = slm_xasprintf("%s/nb-300-f16.gguf", models);
    char *raw = slm_xasprintf("%s/labels.csv", work);
    if (load_engine(argv[1], &so))
        goto out;
    if (slm_mkdir_p(work, err, sizeof err) || slm_evalset_load(argv[2], &es, err, sizeof err) ||
        slm_evalset_load_split(es, "test", 0, &test, err, sizeof err) ||
        slm_prompt_check(es->prompt, es->prompt_path, err, sizeof err) ||
        label_set(shared, "banking77", &bank, &n_bank, err, sizeof err) ||
        label_set(shared, "clinc150", &clinc, &n_clinc, err, sizeof err)) {
        fprintf(stderr, "bench_labels: %s\n", err);
        rc = 3;
        goto out;
    }
    if (!(samples = fopen(raw, "w"))) {
        fprintf(stderr, "bench_labels: cannot write '%s'\n", raw);
        goto out;
    }
    fprintf(samples, "bench,k_or_data,model,example,method,ms\n");
    n = n < test->n ? n : test->n;
    prompts = slm_xcalloc(n, sizeof *prompts);
    for (size_t i = 0; i < n; i++)
        prompts[i] = slm_prompt_render(es->prompt, test->rows[i].text, test->rows[i].id,
                                       (const char *const *)es->labels, es->n_labels);
    printf("score mode at real label counts: llamacpp engine, threads %d, score_trie %s\n",
           threads, have_trie ? "known (before 0, after 1)" : "unknown to this engine: "
                                                              "before only");
    if (have_trie && getenv("BENCH_AFTER_OPTIONS"))
        printf("   after: also %s (BENCH_AFTER_OPTIONS)\n", getenv("BENCH_AFTER_OPTIONS"));
    if (k_table(model, prompts, n, (const char *const *)bank, n_bank,
                (const char *const *)clinc, n_clinc, err, sizeof err) ||
        rates(shared, models, n_rate, err, sizeof err)) {
        fprintf(stderr, "bench_labels: %s\n", err);
        goto out;
    }
    printf("   raw samples: %s\n", raw);
    rc = 0;
out:
    if (samples)
        fclose(samples);
    free_strings(prompts, n);
    free_strings(bank, n_bank);
    free_strings(clinc, n_clinc);
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
