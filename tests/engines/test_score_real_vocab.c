/*
 * test_score_real_vocab.c — score mode's label rule on models over real byte-level BPE
 * vocabularies (Qwen3's and Llama 3's, converted from build/third_party/tokenizers).
 *
 * The rule (engines/llamacpp/llamacpp.c, choices_tokens): each choice's tokens are the
 * tail of the joint tokenization of prompt + choice; where a choice merges with the
 * prompt's end, the prompt is cut back to the longest token prefix shared by the prompt
 * and every joint tokenization, and every choice is scored from there. This test works
 * the rule out on its own from llama.cpp's tokenizer, evaluates each joint token sequence
 * in full from an empty memory by calling llama.cpp directly, and checks that score()
 * (prompt once, choices from copies of the cached prompt, prefix cache on) and
 * score_batch() give those log-probabilities and token counts, for every label:
 *   - support-triage (in the repository, 8 labels): prompts whose end merges with every
 *     label and prompts where nothing merges;
 *   - banking77 from ../shared/datasets (77 labels): a prompt where 6 of the 77 labels
 *     merge, so the other 71 are scored from the cut-back prefix too.
 * Skipped, saying why, without the tokenizers (run make) or without ../shared.
 *
 * Environment: SLM_ENGINE_DIR (default ../engines next to this binary) holds
 * llamacpp.so; SLM_ROOT the source tree (default "."); SLM_SHARED ../shared;
 * SLM_TOKENIZERS_DIR (default: found next to the binary, else $SLM_ROOT/build/...).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
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
#include "llamacpp/llama_abi.h"
#include "modelfactory.h"
#include "prompt.h"
#include "slm_engine.h"
#include "llamacpp_plugin.h"
#include "real_vocab.h"
#include "util.h"

/*
 * Cached and batched scoring against a full evaluation: the same arithmetic on the same
 * tokens, but llama.cpp evaluates them in other batch shapes (a whole sequence vs the
 * prompt, then choice tokens from sequence copies), so float32 sums run in another order.
 * test_engine_llamacpp.c allows 1e-4 for the same reason; these models' logits are larger
 * (the label margin), so the observed gap is reported with SLM_TEST_VERBOSE.
 */
#define TOL 1e-4
/* score_batch() against score(): the same choice evaluation, other prompt batching. */
#define TOL_BATCH 1e-4

static struct {
    void *so;
    const slm_engine_vtable *vt;
    void *llama;                /* the libllama the plugin loaded, for the reference */
    char dir[64];
    char tokenizers[512];       /* "" when absent */
    char why_no_tokenizers[SLM_ERRLEN];
} fx;

#define LL(name) ((__typeof__(&name))dlsym(fx.llama, #name))

static int find_llama(struct dl_phdr_info *info, size_t size, void *ud)
{
    const char *base = strrchr(info->dlpi_name, '/');
    base = base ? base + 1 : info->dlpi_name;
    (void)size;
    if (!strncmp(base, "libllama", 8) && strncmp(base, "libllama-", 9)) {
        snprintf(ud, 512, "%s", info->dlpi_name);
        return 1;
    }
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    char err[SLM_ERRLEN];
    fx.vt = test_load_llamacpp(&fx.so);
    if (!fx.vt || fx.vt->init(err, sizeof err)) {
        fprintf(stderr, "init: %s\n", fx.vt ? err : "no entry point");
        return -1;
    }
    char llama[512] = "";
    dl_iterate_phdr(find_llama, llama);
    fx.llama = llama[0] ? dlopen(llama, RTLD_NOW | RTLD_NOLOAD) : NULL;

    test_tokenizers_dir(fx.tokenizers, sizeof fx.tokenizers, fx.why_no_tokenizers,
                        sizeof fx.why_no_tokenizers);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/slm-realvocab-XXXXXX");
    return mkdtemp(fx.dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (fx.llama)
        dlclose(fx.llama);
    if (fx.vt && fx.vt->shutdown)
        fx.vt->shutdown();
    if (fx.so)
        dlclose(fx.so);
    rmdir(fx.dir);
    return 0;
}

/* ---- a model over a real vocabulary ------------------------------------------------- */

static slm_engine *open_engine(const char *model)
{
    slm_option items[] = {{"model", model}, {"threads", "2"}};
    slm_options opts = {items, 2};
    slm_engine *e = NULL;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->open(&opts, &e, err, sizeof err))
        fail_msg("open %s: %s", model, err);
    return e;
}

static char *make_model(const char *tokenizer, const char *train, const char *const *labels,
                        size_t n_labels, const char *tmpl, const char *name)
{
    char err[SLM_ERRLEN];
    char *vocab = slm_xasprintf("%s/%s-vocab.gguf", fx.dir, name);
    char *model = slm_xasprintf("%s/%s.gguf", fx.dir, name);
    slm_factory_opts o;
    slm_factory_defaults(&o);
    o.train_path = train;
    o.out_path = model;
    o.name = name;
    o.labels = labels;
    o.n_labels = n_labels;
    o.prompt_template = tmpl;
    o.vocab_words = 300;
    int rc = test_make_real_model(fx.vt, tokenizer, vocab, &o, err, sizeof err);
    free(vocab);
    if (rc)
        fail_msg("make a %s model from %s: %s", tokenizer, train, err);
    return model;
}

/* ---- the reference: the rule worked out here, each joint sequence evaluated in full - */

struct ref {
    struct llama_model *model;
    struct llama_context *ctx;
    const struct llama_vocab *vocab;
    int n_vocab;
};

static void ref_open(struct ref *r, const char *model)
{
    struct llama_model_params mp = LL(llama_model_default_params)();
    mp.n_gpu_layers = 0;
    r->model = LL(llama_model_load_from_file)(model, mp);
    assert_non_null(r->model);
    struct llama_context_params cp = LL(llama_context_default_params)();
    cp.n_ctx = 512;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = 2;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED; /* as the engine by default */
    r->ctx = LL(llama_init_from_model)(r->model, cp);
    assert_non_null(r->ctx);
    r->vocab = LL(llama_model_get_vocab)(r->model);
    r->n_vocab = LL(llama_vocab_n_tokens)(r->vocab);
}

static void ref_close(struct ref *r)
{
    LL(llama_free)(r->ctx);
    LL(llama_model_free)(r->model);
}

/* text's tokens with BOS where the vocabulary adds one, as the engine tokenizes prompts. */
static int ref_tokenize(struct ref *r, const char *text, llama_token *out, int cap)
{
    int n = LL(llama_tokenize)(r->vocab, text, (int32_t)strlen(text), out, cap, true, false);
    assert_true(n > 0 && n <= cap);
    return n;
}

/* ln P(t[from..n) | t[0..from)), the whole of t[0..n) decoded at once from an empty
 * memory, logits where a scored token is predicted. */
static double ref_eval(struct ref *r, const llama_token *t, int n, int from)
{
    LL(llama_memory_clear)(LL(llama_get_memory)(r->ctx), true);
    struct llama_batch b = LL(llama_batch_init)(n, 0, 1);
    for (int i = 0; i < n; i++) {
        b.token[i] = t[i];
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = i >= from - 1 && i < n - 1;
    }
    b.n_tokens = n;
    assert_int_equal(LL(llama_decode)(r->ctx, b), 0);
    double lp = 0;
    for (int i = from; i < n; i++) {
        const float *lg = LL(llama_get_logits_ith)(r->ctx, i - 1);
        assert_non_null(lg);
        double mx = lg[0], s = 0;
        for (int k = 1; k < r->n_vocab; k++)
            mx = lg[k] > mx ? lg[k] : mx;
        for (int k = 0; k < r->n_vocab; k++)
            s += exp(lg[k] - mx);
        lp += lg[t[i]] - (mx + log(s));
    }
    LL(llama_batch_free)(b);
    return lp;
}

enum { MAX_TOK = 400 };

/* What the rule gives for one prompt: the shared prefix, each choice's joint tokens, and
 * the log-probability of its tail from a full evaluation. */
struct expect {
    int np;             /* the prompt's own tokens */
    int shared;         /* the prefix every choice is scored from */
    int n_merging;      /* choices whose joint tokens do not start with the prompt's */
    int *nc;            /* [n] tail tokens */
    double *lp;         /* [n] */
};

static void expect_free(struct expect *x)
{
    free(x->nc);
    free(x->lp);
}

static void ref_expect(struct ref *r, const char *prompt, const char *const *choices, size_t n,
                       struct expect *x)
{
    llama_token pt[MAX_TOK];
    llama_token(*jt)[MAX_TOK] = slm_xmalloc(n * sizeof *jt);
    int *nj = slm_xcalloc(n, sizeof *nj);
    x->np = ref_tokenize(r, prompt, pt, MAX_TOK);
    x->shared = x->np;
    x->n_merging = 0;
    for (size_t i = 0; i < n; i++) {
        char *joint = slm_xasprintf("%s%s", prompt, choices[i]);
        nj[i] = ref_tokenize(r, joint, jt[i], MAX_TOK);
        free(joint);
        int k = 0;
        while (k < x->np && k < nj[i] && jt[i][k] == pt[k])
            k++;
        x->n_merging += k < x->np;
        x->shared = k < x->shared ? k : x->shared;
    }
    assert_true(x->shared > 0);
    x->nc = slm_xcalloc(n, sizeof *x->nc);
    x->lp = slm_xcalloc(n, sizeof *x->lp);
    for (size_t i = 0; i < n; i++) {
        x->nc[i] = nj[i] - x->shared;
        assert_true(x->nc[i] > 0);
        x->lp[i] = ref_eval(r, jt[i], nj[i], x->shared);
    }
    free(jt);
    free(nj);
}

/*
 * Scores every prompt with score() (one engine, prefix cache on, default n_seq_max: the
 * choices in several groups) and all of them with score_batch(); checks each against the
 * full evaluations. want_merging[p] >= 0: how many choices must merge with prompt p
 * (so the test is sure to take the cut-back path, or not to).
 */
static void check_prompts(const char *model, const char *const *prompts, const int *want_merging,
                          size_t n_prompts, const char *const *choices, size_t n,
                          const char *what)
{
    uint64_t t0 = slm_now_ns(), t_ref = 0;
    struct ref r;
    ref_open(&r, model);
    slm_engine *e = open_engine(model);
    slm_request *reqs = slm_xcalloc(n_prompts, sizeof *reqs);
    const slm_request **rp = slm_xcalloc(n_prompts, sizeof *rp);
    slm_score_result **single = slm_xcalloc(n_prompts, sizeof *single);
    slm_score_result **batch = slm_xcalloc(n_prompts, sizeof *batch);
    char err[SLM_ERRLEN];
    double gap = 0, gap_batch = 0;
    for (size_t p = 0; p < n_prompts; p++) {
        reqs[p] = (slm_request){sizeof(slm_request), "t", prompts[p], strlen(prompts[p]), 0,
                                NULL};
        rp[p] = &reqs[p];
        if (fx.vt->score(e, &reqs[p], choices, n, &single[p], err, sizeof err))
            fail_msg("%s: score of prompt %zu: %s", what, p, err);
        struct expect x;
        uint64_t t1 = slm_now_ns();
        ref_expect(&r, prompts[p], choices, n, &x);
        t_ref += slm_now_ns() - t1;
        if (want_merging[p] >= 0 && x.n_merging != want_merging[p])
            fail_msg("%s: prompt %zu: %d choices merge with its end, the test expects %d", what,
                     p, x.n_merging, want_merging[p]);
        assert_int_equal(x.shared < x.np, x.n_merging > 0);
        assert_int_equal(single[p]->n, n);
        assert_int_equal(single[p]->n_prompt_tokens, x.shared);
        /* Real scores, not zeros that would equal anything: finite, negative, not all
         * the same. */
        int varied = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(isfinite(single[p]->logprob[i]) && single[p]->logprob[i] < 0);
            varied |= fabs(single[p]->logprob[i] - single[p]->logprob[0]) > 1e-3;
        }
        assert_true(varied);
        for (size_t i = 0; i < n; i++) {
            if (single[p]->n_tokens[i] != x.nc[i])
                fail_msg("%s: prompt %zu, choice '%s': %d tokens scored, the rule gives %d", what,
                         p, choices[i], single[p]->n_tokens[i], x.nc[i]);
            double d = fabs(single[p]->logprob[i] - x.lp[i]);
            gap = d > gap ? d : gap;
            if (!(d <= TOL))
                fail_msg("%s: prompt %zu, choice '%s': %.10g from the cached prompt, %.10g "
                         "evaluated in full", what, p, choices[i], single[p]->logprob[i],
                         x.lp[i]);
        }
        expect_free(&x);
    }
    if (fx.vt->score_batch(e, rp, n_prompts, choices, n, batch, err, sizeof err))
        fail_msg("%s: score_batch: %s", what, err);
    for (size_t p = 0; p < n_prompts; p++) {
        assert_int_equal(batch[p]->n_prompt_tokens, single[p]->n_prompt_tokens);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(batch[p]->n_tokens[i], single[p]->n_tokens[i]);
            double d = fabs(batch[p]->logprob[i] - single[p]->logprob[i]);
            gap_batch = d > gap_batch ? d : gap_batch;
            if (!(d <= TOL_BATCH))
                fail_msg("%s: prompt %zu, choice '%s': %.10g in the batch, %.10g alone", what,
                         p, choices[i], batch[p]->logprob[i], single[p]->logprob[i]);
        }
        fx.vt->result_free(single[p]);
        fx.vt->result_free(batch[p]);
    }
    if (getenv("SLM_TEST_VERBOSE"))
        fprintf(stderr, "%s: %zu prompts x %zu choices, max |score - full| %.2g, "
                        "max |batch - score| %.2g; %.1f s, %.1f s of it the reference\n", what, n_prompts,
                n, gap, gap_batch, (double)(slm_now_ns() - t0) / 1e9, (double)t_ref / 1e9);
    free(single);
    free(batch);
    free(rp);
    free(reqs);
    fx.vt->close(e);
    ref_close(&r);
}

/* choices[i] = prefix + labels[i] (free with free_strings). */
static char **with_prefix(const char *prefix, const char *const *labels, size_t n)
{
    char **c = slm_xcalloc(n, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = slm_xasprintf("%s%s", prefix, labels[i]);
    return c;
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

/* ---- support-triage: the rule's effect, without ../shared ----------------------------- */

static void support_triage(const char *tokenizer)
{
    if (!fx.llama)
        skip();
    if (!fx.tokenizers[0]) {
        fprintf(stderr, "skipped: no real tokenizers: %s\n", fx.why_no_tokenizers);
        skip();
    }
    char err[SLM_ERRLEN];
    char *dir = slm_xasprintf("%s/evalsets/support-triage", test_root());
    slm_evalset *es;
    if (slm_evalset_load(dir, &es, err, sizeof err))
        fail_msg("%s", err);
    const char *train = slm_evalset_split_path(es, "train");
    const char *const *labels = (const char *const *)es->labels;
    size_t L = es->n_labels;
    char *name = slm_xasprintf("support-%s", tokenizer);
    char *model = make_model(tokenizer, train, labels, L, es->prompt, name);

    /* The eval set's prompt ("...\nCategory:") with the default prefix " ": no label
     * merges, each is scored after the prompt's own tokens. */
    const char *texts[] = {"I was charged twice for my order, please refund the second "
                           "payment.", "My parcel never arrived and the tracking page is "
                           "empty.", "Cannot log in after the password reset"};
    char *p[6];
    for (size_t i = 0; i < 3; i++)
        p[i] = slm_prompt_render(es->prompt, texts[i], "t", labels, L);
    /* The same prompts ending in a space, choices without a prefix: the space merges
     * with every label (" billing" is one token), so the prompt is cut back by one. */
    for (size_t i = 0; i < 3; i++)
        p[3 + i] = slm_xasprintf("%s ", p[i]);
    char **spaced = with_prefix(" ", labels, L), **bare = with_prefix("", labels, L);
    const int none[] = {0, 0, 0}, all[] = {(int)L, (int)L, (int)L};
    char *what = slm_xasprintf("%s, support-triage, prompt ending in ':'", tokenizer);
    check_prompts(model, (const char *const *)p, none, 3, (const char *const *)spaced, L, what);
    free(what);
    what = slm_xasprintf("%s, support-triage, prompt ending in ': ', no prefix", tokenizer);
    check_prompts(model, (const char *const *)p + 3, all, 3, (const char *const *)bare, L, what);
    free(what);

    /* The cut-back made plain: after "Category: " and "billing" the engine scores the
     * tokens " billing" from the prompt without its last token, the space. */
    slm_engine *e = open_engine(model);
    slm_request req = {sizeof req, "t", p[3], strlen(p[3]), 0, NULL};
    slm_request req0 = {sizeof req0, "t", p[0], strlen(p[0]), 0, NULL};
    slm_score_result *cut = NULL, *plain = NULL;
    const char *one_bare[] = {"billing"}, *one_spaced[] = {" billing"};
    assert_int_equal(fx.vt->score(e, &req, one_bare, 1, &cut, err, sizeof err), 0);
    assert_int_equal(fx.vt->score(e, &req0, one_spaced, 1, &plain, err, sizeof err), 0);
    assert_int_equal(cut->n_prompt_tokens, plain->n_prompt_tokens);
    assert_int_equal(cut->n_tokens[0], plain->n_tokens[0]);
    if (!(fabs(cut->logprob[0] - plain->logprob[0]) <= 1e-5))
        fail_msg("%s: 'Category: ' + 'billing' scores %.10g, 'Category:' + ' billing' %.10g",
                 tokenizer, cut->logprob[0], plain->logprob[0]);
    fx.vt->result_free(cut);
    fx.vt->result_free(plain);
    fx.vt->close(e);

    for (size_t i = 0; i < 6; i++)
        free(p[i]);
    free_strings(spaced, L);
    free_strings(bare, L);
    unlink(model);
    free(model);
    free(name);
    slm_evalset_free(es);
    free(dir);
}

static void support_triage_qwen3(void **state)
{
    (void)state;
    support_triage("qwen3");
}

static void support_triage_llama3(void **state)
{
    (void)state;
    support_triage("llama3");
}

/* ---- banking77: every one of 77 labels ------------------------------------------------ */

static void banking77(const char *tokenizer)
{
    if (!fx.llama)
        skip();
    if (!fx.tokenizers[0]) {
        fprintf(stderr, "skipped: no real tokenizers: %s\n", fx.why_no_tokenizers);
        skip();
    }
    const char *shared = getenv("SLM_SHARED");
    char *dir = slm_xasprintf("%s/datasets/banking77", shared && *shared ? shared
                                                                          : "../shared");
    char *train = slm_xasprintf("%s/train.csv", dir), *test = slm_xasprintf("%s/test.csv", dir);
    if (access(train, R_OK) || access(test, R_OK)) {
        fprintf(stderr, "skipped: no %s (../shared/datasets is absent)\n", train);
        free(dir);
        free(train);
        free(test);
        skip();
    }
    char err[SLM_ERRLEN];
    slm_dataset *ds;
    if (slm_dataset_load(test, NULL, &ds, err, sizeof err))
        fail_msg("%s", err);
    /* The 77 labels, sorted, as the factory takes a train split's distinct labels. */
    char **labels = NULL;
    size_t L = 0;
    for (size_t i = 0; i < ds->n; i++) {
        size_t k = 0;
        while (k < L && strcmp(labels[k], ds->rows[i].label))
            k++;
        if (k == L) {
            labels = slm_xrealloc(labels, (L + 1) * sizeof *labels);
            labels[L++] = ds->rows[i].label;
        }
    }
    for (size_t i = 1; i < L; i++) /* insertion sort: 77 labels */
        for (size_t k = i; k > 0 && strcmp(labels[k - 1], labels[k]) > 0; k--) {
            char *t = labels[k];
            labels[k] = labels[k - 1];
            labels[k - 1] = t;
        }
    assert_int_equal(L, 77);
    const char *tmpl = "Banking query: {{text}}\nIntent:";
    char *name = slm_xasprintf("banking77-%s", tokenizer);
    char *model = make_model(tokenizer, train, (const char *const *)labels, L, tmpl, name);

    /* Prompts from the test split ending in "Intent:". With the prefix " " no label
     * merges; without it ":" merges with the start of 6 labels (":card" and the like
     * are pre-tokenized together), which cuts the prompt back for all 77. */
    char *p[3];
    for (size_t i = 0; i < 3; i++)
        p[i] = slm_prompt_render(tmpl, ds->rows[i * 997 % ds->n].text, "t",
                                 (const char *const *)labels, L);
    char **spaced = with_prefix(" ", (const char *const *)labels, L);
    char **bare = with_prefix("", (const char *const *)labels, L);
    const int none[] = {0, 0}, some[] = {6};
    char *what = slm_xasprintf("%s, banking77, 77 labels after 'Intent:'", tokenizer);
    check_prompts(model, (const char *const *)p, none, 2, (const char *const *)spaced, L, what);
    free(what);
    what = slm_xasprintf("%s, banking77, 77 labels without a prefix (6 merge)", tokenizer);
    check_prompts(model, (const char *const *)p + 2, some, 1, (const char *const *)bare, L, what);
    free(what);

    for (size_t i = 0; i < 3; i++)
        free(p[i]);
    free_strings(spaced, L);
    free_strings(bare, L);
    free(labels);
    slm_dataset_free(ds);
    unlink(model);
    free(model);
    free(name);
    free(dir);
    free(train);
    free(test);
}

static void banking77_qwen3(void **state)
{
    (void)state;
    banking77("qwen3");
}

static void banking77_llama3(void **state)
{
    (void)state;
    banking77("llama3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(support_triage_qwen3),
        cmocka_unit_test(support_triage_llama3),
        cmocka_unit_test(banking77_qwen3),
        cmocka_unit_test(banking77_llama3),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
