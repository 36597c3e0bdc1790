/*
 * test_score_trie.c — score() through the choices' token trie (engine option score_trie=1,
 * the default) gives the scores of the per-choice path (score_trie=0: every choice decodes
 * all its tokens in a sequence of its own), every log-probability within 1e-5, the same
 * token counts, the same prompt cut and the same best label:
 *   - synthetic, always: a demo model over the factory's own SPM vocabulary (support-triage
 *     train split, in the repository) and labels with long shared prefixes, a label that
 *     is a prefix of another, duplicates, one-token labels, and a prompt ending in a space
 *     whose end merges with bare labels (the prompt is cut back); also with n_seq_max 4
 *     and n_batch 32, and with score_group_nodes 6, so the trie is decoded in many groups;
 *   - score_batch() of several prompts at once through their tries, against score() of
 *     each on the per-choice path (in the synthetic case and with every real label);
 *   - every label of banking77 (77) and clinc150 (151) from ../shared/datasets/<name>/
 *     test.csv after a real prompt of its test split (banking77: also one ending in a
 *     space before bare labels), with the demo models over Qwen3's and Llama 3's
 *     tokenizers ($SLM_DEMO_MODELS, default $SLM_ROOT/build/demo/models/
 *     {qwen3,llama3}-nb-q8_0.gguf; made here from support-triage when absent). Skipped,
 *     saying why, without ../shared or the tokenizers.
 * With SLM_TEST_VERBOSE each case prints the trie's nodes against the choices' decoded
 * tokens and K·T (all their tokens), counted here from the joint tokenizations (the
 * engine's tokenize slot), and the largest |Δ| seen.
 *
 * Environment as test_score_real_vocab.c: SLM_ENGINE_DIR, SLM_ROOT, SLM_SHARED,
 * SLM_TOKENIZERS_DIR.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "evalset.h"
#include "hftokenizer.h"
#include "modelfactory.h"
#include "prompt.h"
#include "slm_engine.h"
#include "llamacpp_plugin.h"
#include "real_vocab.h"
#include "util.h"

#define TOL 1e-5 /* the bound: the trie changes the batch layout, not the arithmetic */

static struct {
    void *so;
    const slm_engine_vtable *vt;
    char dir[64];
    char tokenizers[512]; /* "" when absent */
    char why_no_tokenizers[SLM_ERRLEN];
    slm_evalset *triage;  /* support-triage: the demo models' train split and prompt */
    char *made[2];        /* demo models made here, qwen3's and llama3's, once each */
} fx;

static int group_setup(void **state)
{
    (void)state;
    char err[SLM_ERRLEN];
    fx.vt = test_load_llamacpp(&fx.so);
    if (!fx.vt || fx.vt->init(err, sizeof err)) {
        fprintf(stderr, "init: %s\n", fx.vt ? err : "no entry point");
        return -1;
    }
    test_tokenizers_dir(fx.tokenizers, sizeof fx.tokenizers, fx.why_no_tokenizers,
                        sizeof fx.why_no_tokenizers);
    char *es = slm_xasprintf("%s/evalsets/support-triage", test_root());
    int rc = slm_evalset_load(es, &fx.triage, err, sizeof err);
    free(es);
    if (rc) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(fx.dir, sizeof fx.dir, "/tmp/slm-trie-XXXXXX");
    return mkdtemp(fx.dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++)
        if (fx.made[i]) {
            unlink(fx.made[i]);
            free(fx.made[i]);
        }
    slm_evalset_free(fx.triage);
    if (fx.vt && fx.vt->shutdown)
        fx.vt->shutdown();
    if (fx.so)
        dlclose(fx.so);
    rmdir(fx.dir);
    return 0;
}

/* ---- models ------------------------------------------------------------------------- */

/* opts: key, value pairs after the model, NULL-terminated. */
static slm_engine *open_engine(const char *model, const char *const *kv)
{
    slm_option items[12] = {{"model", model}, {"threads", "2"}};
    size_t n = 2;
    for (; kv && kv[0]; kv += 2)
        items[n++] = (slm_option){kv[0], kv[1]};
    slm_options opts = {items, n};
    slm_engine *e = NULL;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->open(&opts, &e, err, sizeof err))
        fail_msg("open %s: %s", model, err);
    return e;
}

/* A support-triage demo model in fx.dir/<name>.gguf: over the factory's own SPM
 * vocabulary (tokenizer NULL) or a real one (hftokenizer's name). */
static char *make_model(const char *tokenizer, const char *name)
{
    char err[SLM_ERRLEN];
    char *model = slm_xasprintf("%s/%s.gguf", fx.dir, name);
    char *vocab = slm_xasprintf("%s/%s-vocab.gguf", fx.dir, name);
    slm_factory_opts o;
    slm_factory_defaults(&o);
    o.train_path = slm_evalset_split_path(fx.triage, "train");
    o.out_path = model;
    o.name = name;
    o.labels = (const char *const *)fx.triage->labels;
    o.n_labels = fx.triage->n_labels;
    o.prompt_template = fx.triage->prompt;
    o.vocab_words = 300;
    int rc = tokenizer ? test_make_real_model(fx.vt, tokenizer, vocab, &o, err, sizeof err)
                       : slm_model_make(&o, NULL, err, sizeof err);
    free(vocab);
    if (rc)
        fail_msg("make a model %s: %s", name, err);
    return model;
}

/* The demo model <tok>-nb-q8_0.gguf where make demo left it, else one made here once
 * (unquantized: the comparison does not depend on it); the caller frees the path. */
static char *demo_model(const char *tok)
{
    const char *d = getenv("SLM_DEMO_MODELS");
    char *p = d && *d ? slm_xasprintf("%s/%s-nb-q8_0.gguf", d, tok)
                      : slm_xasprintf("%s/build/demo/models/%s-nb-q8_0.gguf", test_root(), tok);
    if (access(p, R_OK) == 0)
        return p;
    free(p);
    int k = strcmp(tok, "qwen3") != 0;
    if (!fx.made[k]) {
        char *name = slm_xasprintf("%s-nb", tok);
        fx.made[k] = make_model(tok, name);
        free(name);
    }
    return slm_xstrdup(fx.made[k]);
}

/* ---- the trie, counted here ------------------------------------------------------------ */

static int32_t *tokens_of(slm_engine *e, const char *text, size_t *n)
{
    slm_token_result *r = NULL;
    char err[SLM_ERRLEN];
    if (fx.vt->tokenize(e, text, strlen(text), SLM_TOKENIZE_ADD_SPECIAL, &r, err, sizeof err))
        fail_msg("tokenize: %s", err);
    int32_t *ids = slm_xmalloc((r->n + 1) * sizeof *ids);
    memcpy(ids, r->ids, r->n * sizeof *ids);
    *n = r->n;
    fx.vt->result_free(r);
    return ids;
}

struct tail {
    const int32_t *t;
    size_t d; /* decoded tokens: all but the last */
};

static int tail_cmp(const void *a, const void *b)
{
    const struct tail *x = a, *y = b;
    size_t n = x->d < y->d ? x->d : y->d;
    for (size_t k = 0; k < n; k++)
        if (x->t[k] != y->t[k])
            return x->t[k] < y->t[k] ? -1 : 1;
    return (x->d > y->d) - (x->d < y->d);
}

struct counts {
    int shared;      /* the prompt's tokens every choice is scored after */
    int prompt;      /* the prompt's own tokens */
    long kt;         /* every choice token: K·T */
    long decoded;    /* the choices' tokens but their last */
    long nodes;      /* distinct decoded prefixes: the trie's nodes */
    int one_token;   /* choices of one token */
    int prefix_pairs; /* decoded tails that are a proper prefix of another's */
    int *nc;         /* [n] each choice's tokens */
};

/* Works the rule out from the tokenizer (the prompt cut back to the prefix every joint
 * tokenization shares) and counts the trie of the decoded tails, by sorting them. */
static void count_trie(slm_engine *e, const char *prompt, const char *const *choices, size_t n,
                       struct counts *c)
{
    size_t np;
    int32_t *pt = tokens_of(e, prompt, &np);
    int32_t **jt = slm_xcalloc(n, sizeof *jt);
    size_t *nj = slm_xcalloc(n, sizeof *nj), shared = np;
    for (size_t i = 0; i < n; i++) {
        char *joint = slm_xasprintf("%s%s", prompt, choices[i]);
        jt[i] = tokens_of(e, joint, &nj[i]);
        free(joint);
        size_t k = 0;
        while (k < shared && k < nj[i] && jt[i][k] == pt[k])
            k++;
        shared = k;
    }
    struct tail *t = slm_xcalloc(n, sizeof *t);
    *c = (struct counts){.shared = (int)shared, .prompt = (int)np};
    c->nc = slm_xcalloc(n, sizeof *c->nc);
    for (size_t i = 0; i < n; i++) {
        c->nc[i] = (int)(nj[i] - shared);
        c->kt += c->nc[i];
        c->one_token += c->nc[i] == 1;
        t[i] = (struct tail){jt[i] + shared, c->nc[i] > 0 ? (size_t)c->nc[i] - 1 : 0};
        c->decoded += (long)t[i].d;
    }
    qsort(t, n, sizeof *t, tail_cmp);
    for (size_t i = 0; i < n; i++) {
        size_t l = 0;
        while (i > 0 && l < t[i].d && l < t[i - 1].d && t[i].t[l] == t[i - 1].t[l])
            l++;
        c->nodes += (long)(t[i].d - l);
        c->prefix_pairs += i > 0 && l == t[i - 1].d && t[i - 1].d < t[i].d;
    }
    for (size_t i = 0; i < n; i++)
        free(jt[i]);
    free(jt);
    free(nj);
    free(t);
    free(pt);
}

/* ---- the comparison ------------------------------------------------------------------ */

static size_t best(const slm_score_result *r)
{
    size_t b = 0;
    for (size_t i = 1; i < r->n; i++)
        b = r->logprob[i] > r->logprob[b] ? i : b;
    return b;
}

/*
 * Scores every prompt with the trie (engine trie, and trie_small in several groups where
 * given) and with the per-choice path (engine ref) and checks every log-probability, the
 * token counts against the rule worked out here, the prompt cut and the best label.
 * Returns the largest |Δ|; c gets the last prompt's counts (caller frees c->nc).
 */
static double compare(slm_engine *trie, slm_engine *trie_small, slm_engine *ref,
                      const char *const *prompts, size_t n_prompts, const char *const *choices,
                      size_t n, const char *what, struct counts *c)
{
    char err[SLM_ERRLEN];
    double gap = 0;
    for (size_t p = 0; p < n_prompts; p++) {
        slm_request req = {sizeof req, "t", prompts[p], strlen(prompts[p]), 0, NULL};
        slm_score_result *a = NULL, *b = NULL, *s = NULL;
        if (fx.vt->score(ref, &req, choices, n, &b, err, sizeof err) ||
            fx.vt->score(trie, &req, choices, n, &a, err, sizeof err) ||
            (trie_small && fx.vt->score(trie_small, &req, choices, n, &s, err, sizeof err)))
            fail_msg("%s: prompt %zu: %s", what, p, err);
        if (p > 0)
            free(c->nc);
        count_trie(ref, prompts[p], choices, n, c);
        assert_int_equal(a->n_prompt_tokens, c->shared);
        assert_int_equal(b->n_prompt_tokens, c->shared);
        int varied = 0;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(a->n_tokens[i], c->nc[i]);
            assert_int_equal(b->n_tokens[i], c->nc[i]);
            assert_true(isfinite(b->logprob[i]) && b->logprob[i] < 0);
            varied |= fabs(b->logprob[i] - b->logprob[0]) > 1e-3;
            for (const slm_score_result *x = a; x; x = x == a ? s : NULL) {
                double d = fabs(x->logprob[i] - b->logprob[i]);
                gap = d > gap ? d : gap;
                if (!(d <= TOL))
                    fail_msg("%s: prompt %zu, choice %zu '%s': %.10g through the trie%s, %.10g "
                             "in its own sequence", what, p, i, choices[i], x->logprob[i],
                             x == s ? " in small groups" : "", b->logprob[i]);
            }
        }
        assert_true(varied); /* real scores, not values that equal anything */
        assert_int_equal(best(a), best(b));
        if (s)
            assert_int_equal(best(s), best(b));
        fx.vt->result_free(a);
        fx.vt->result_free(b);
        fx.vt->result_free(s);
    }
    if (getenv("SLM_TEST_VERBOSE"))
        fprintf(stderr, "%s: K %zu, K·T %ld tokens, %ld decoded, %ld trie nodes (%.1f%%), "
                        "prompt %d tokens, scored after %d; max |trie - per-choice| %.2g\n",
                what, n, c->kt, c->decoded, c->nodes,
                c->decoded ? 100.0 * (double)c->nodes / (double)c->decoded : 0.0, c->prompt,
                c->shared, gap);
    return gap;
}

/*
 * score_batch() (throughput mode) through the tries of all the prompts at once, in rounds
 * that hold runs of several prompts' tries, against the per-choice path's score() of
 * each prompt: every log-probability within TOL and the same token counts.
 */
static void compare_batch(slm_engine *trie, slm_engine *ref, const char *const *prompts,
                          size_t n_prompts, const char *const *choices, size_t n,
                          const char *what)
{
    char err[SLM_ERRLEN];
    slm_request *req = slm_xcalloc(n_prompts, sizeof *req);
    const slm_request **rp = slm_xcalloc(n_prompts, sizeof *rp);
    slm_score_result **got = slm_xcalloc(n_prompts, sizeof *got);
    double gap = 0;
    for (size_t p = 0; p < n_prompts; p++) {
        req[p] = (slm_request){sizeof req[p], "t", prompts[p], strlen(prompts[p]), 0, NULL};
        rp[p] = &req[p];
    }
    if (fx.vt->score_batch(trie, rp, n_prompts, choices, n, got, err, sizeof err))
        fail_msg("%s: score_batch: %s", what, err);
    for (size_t p = 0; p < n_prompts; p++) {
        slm_score_result *b = NULL;
        if (fx.vt->score(ref, rp[p], choices, n, &b, err, sizeof err))
            fail_msg("%s: prompt %zu: %s", what, p, err);
        assert_int_equal(got[p]->n_prompt_tokens, b->n_prompt_tokens);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(got[p]->n_tokens[i], b->n_tokens[i]);
            double d = fabs(got[p]->logprob[i] - b->logprob[i]);
            gap = d > gap ? d : gap;
            if (!(d <= TOL))
                fail_msg("%s: prompt %zu, choice %zu '%s': %.10g through the tries of "
                         "score_batch(), %.10g in its own sequence", what, p, i, choices[i],
                         got[p]->logprob[i], b->logprob[i]);
        }
        fx.vt->result_free(b);
        fx.vt->result_free(got[p]);
    }
    if (getenv("SLM_TEST_VERBOSE"))
        fprintf(stderr, "%s: max |score_batch - per-choice score| %.2g\n", what, gap);
    free(got);
    free(rp);
    free(req);
}

/* ---- synthetic: the trie's corner cases ---------------------------------------------- */

static void synthetic(void **state)
{
    (void)state;
    char *model = make_model(NULL, "spm-nb");
    const char *on[] = {"score_trie", "1", NULL}, *off[] = {"score_trie", "0", NULL};
    const char *small[] = {"score_trie", "1", "n_seq_max", "4", "n_batch", "32", NULL};
    slm_engine *trie = open_engine(model, on), *ref = open_engine(model, off);
    const char *few[] = {"score_trie", "1", "score_group_nodes", "6", NULL};
    slm_engine *trie_small = open_engine(model, small), *trie_few = open_engine(model, few);
    /* Long shared prefixes, a label that is a prefix of others ("card"), duplicates
     * ("card_arrival", "billing"), one-token labels (the factory makes each label
     * "▁<label>" one token), a label of one byte. */
    const char *labels[] = {
        "card_arrival",         "card_delivery_estimate", "card_linking",  "card",
        "card_arrival",         "card_payment_fee_charged", "billing",      "shipping",
        "billing",              "cardinal_rule_of_refunds", "x",            "refund_not_showing_up",
        "refund_not_received",  "refund",                 "card_delivery", "technical",
    };
    size_t n = sizeof labels / sizeof *labels;
    char **spaced = slm_xcalloc(n, sizeof *spaced);
    for (size_t i = 0; i < n; i++)
        spaced[i] = slm_xasprintf(" %s", labels[i]);
    const char *texts[] = {"I was charged twice for my order, please refund it.",
                           "My card has not arrived yet and the app shows nothing."};
    char *p[4];
    const char *const *L = (const char *const *)fx.triage->labels;
    for (size_t i = 0; i < 2; i++) {
        p[i] = slm_prompt_render(fx.triage->prompt, texts[i], "t", L, fx.triage->n_labels);
        p[2 + i] = slm_xasprintf("%s ", p[i]); /* its end merges with the bare labels */
    }
    struct counts c;
    compare(trie, trie_small, ref, (const char *const *)p, 2, (const char *const *)spaced, n,
            "spm, synthetic labels after the prompt", &c);
    assert_true(c.one_token >= 4);
    assert_true(c.prefix_pairs >= 1);
    assert_true(c.nodes < c.decoded); /* shared prefixes exist, so the trie saves nodes */
    assert_int_equal(c.shared, c.prompt);
    free(c.nc);
    compare(trie, trie_few, ref, (const char *const *)p, 2, (const char *const *)spaced, n,
            "spm, synthetic labels, groups of at most 6 nodes", &c);
    free(c.nc);
    compare(trie, trie_few, ref, (const char *const *)p + 2, 2, labels, n,
            "spm, synthetic bare labels, groups of at most 6 nodes", &c);
    assert_true(c.nodes > 6); /* so the bound split the trie */
    free(c.nc);
    compare_batch(trie, ref, (const char *const *)p, 4, (const char *const *)spaced, n,
                  "spm, synthetic labels, 4 prompts in score_batch()");
    compare_batch(trie_few, ref, (const char *const *)p, 4, labels, n,
                  "spm, synthetic bare labels, 4 prompts in score_batch(), groups of 6 nodes");
    compare(trie, trie_small, ref, (const char *const *)p + 2, 2, labels, n,
            "spm, synthetic bare labels after a prompt ending in a space", &c);
    assert_true(c.shared < c.prompt); /* the boundary merge cut the prompt back */
    free(c.nc);
    for (size_t i = 0; i < 4; i++)
        free(p[i]);
    for (size_t i = 0; i < n; i++)
        free(spaced[i]);
    free(spaced);
    fx.vt->close(trie);
    fx.vt->close(trie_small);
    fx.vt->close(trie_few);
    fx.vt->close(ref);

    /* More sequences than batch rows: refused with the fix, where llama.cpp would abort
     * the process; a bad score_trie value is refused by the option table. */
    char err[SLM_ERRLEN] = "";
    slm_engine *e = NULL;
    slm_option wide[] = {{"model", model}, {"n_seq_max", "16"}, {"n_batch", "8"}};
    slm_options wo = {wide, 3};
    assert_int_not_equal(fx.vt->open(&wo, &e, err, sizeof err), 0);
    assert_null(e);
    assert_string_equal(err, "option 'n_seq_max' (16) exceeds n_batch (8): llama.cpp needs a "
                             "batch row per sequence; raise n_batch or lower n_seq_max");
    slm_option bad[] = {{"model", model}, {"score_trie", "2"}};
    slm_options bo = {bad, 2};
    assert_int_not_equal(fx.vt->check_options(&bo, err, sizeof err), 0);
    assert_string_equal(err, "option 'score_trie': expected an integer from 0 to 1, got '2'");
    slm_option none[] = {{"model", model}, {"score_group_nodes", "0"}};
    slm_options no = {none, 2};
    assert_int_not_equal(fx.vt->check_options(&no, err, sizeof err), 0);
    assert_string_equal(err, "option 'score_group_nodes': expected a positive integer, got '0'");
    unlink(model);
    free(model);
}

/* ---- every label of a shared data set ------------------------------------------------- */

/* The distinct labels of path's label column, sorted; NULL (skip) without the file. */
static char **dataset_labels(const char *path, slm_dataset **ds, size_t *n)
{
    char err[SLM_ERRLEN];
    if (access(path, R_OK))
        return NULL;
    if (slm_dataset_load(path, NULL, ds, err, sizeof err))
        fail_msg("%s", err);
    char **labels = NULL;
    *n = 0;
    for (size_t i = 0; i < (*ds)->n; i++) {
        size_t k = 0;
        while (k < *n && strcmp(labels[k], (*ds)->rows[i].label))
            k++;
        if (k == *n) {
            labels = slm_xrealloc(labels, (*n + 1) * sizeof *labels);
            labels[(*n)++] = (*ds)->rows[i].label;
        }
    }
    for (size_t i = 1; i < *n; i++)
        for (size_t k = i; k > 0 && strcmp(labels[k - 1], labels[k]) > 0; k--) {
            char *t = labels[k];
            labels[k] = labels[k - 1];
            labels[k - 1] = t;
        }
    return labels;
}

static void every_label(const char *set, size_t want, const char *tok, int bare)
{
    if (!fx.tokenizers[0]) {
        fprintf(stderr, "skipped: no real tokenizers: %s\n", fx.why_no_tokenizers);
        skip();
    }
    const char *sh = getenv("SLM_SHARED");
    char *test = slm_xasprintf("%s/datasets/%s/test.csv", sh && *sh ? sh : "../shared", set);
    slm_dataset *ds = NULL;
    size_t n = 0;
    char **labels = dataset_labels(test, &ds, &n);
    if (!labels) {
        fprintf(stderr, "skipped: no %s (../shared/datasets is absent)\n", test);
        free(test);
        skip();
    }
    assert_int_equal(n, want);
    char *model = demo_model(tok);
    const char *on[] = {"score_trie", "1", NULL}, *off[] = {"score_trie", "0", NULL};
    slm_engine *trie = open_engine(model, on), *ref = open_engine(model, off);
    char **spaced = slm_xcalloc(n, sizeof *spaced);
    for (size_t i = 0; i < n; i++)
        spaced[i] = slm_xasprintf(" %s", labels[i]);
    const char *tmpl = "Query: {{text}}\nIntent:";
    char *p[2];
    for (size_t i = 0; i < 2; i++)
        p[i] = slm_prompt_render(tmpl, ds->rows[i * 997 % ds->n].text, "t",
                                 (const char *const *)labels, n);
    char *spaced_end = slm_xasprintf("%s ", p[1]);
    struct counts c;
    char *what = slm_xasprintf("%s, %s, %zu labels after 'Intent:'", tok, set, n);
    compare(trie, NULL, ref, (const char *const *)p, 1, (const char *const *)spaced, n, what,
            &c);
    assert_true(c.nodes < c.decoded);
    free(c.nc);
    free(what);
    what = slm_xasprintf("%s, %s, %zu labels after 2 prompts in score_batch()", tok, set, n);
    compare_batch(trie, ref, (const char *const *)p, 2, (const char *const *)spaced, n, what);
    free(what);
    if (bare) {
        what = slm_xasprintf("%s, %s, %zu bare labels after 'Intent: '", tok, set, n);
        compare(trie, NULL, ref, (const char *const *)&spaced_end, 1,
                (const char *const *)labels, n, what, &c);
        assert_true(c.shared < c.prompt);
        free(c.nc);
        free(what);
    }
    free(spaced_end);
    for (size_t i = 0; i < 2; i++)
        free(p[i]);
    for (size_t i = 0; i < n; i++)
        free(spaced[i]);
    free(spaced);
    fx.vt->close(trie);
    fx.vt->close(ref);
    free(model);
    free(labels);
    slm_dataset_free(ds);
    free(test);
}

static void banking77_qwen3(void **state)
{
    (void)state;
    every_label("banking77", 77, "qwen3", 1);
}

static void banking77_llama3(void **state)
{
    (void)state;
    every_label("banking77", 77, "llama3", 1);
}

static void clinc150_qwen3(void **state)
{
    (void)state;
    every_label("clinc150", 151, "qwen3", 0);
}

static void clinc150_llama3(void **state)
{
    (void)state;
    every_label("clinc150", 151, "llama3", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(synthetic),
        cmocka_unit_test(banking77_qwen3),
        cmocka_unit_test(banking77_llama3),
        cmocka_unit_test(clinc150_qwen3),
        cmocka_unit_test(clinc150_llama3),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
