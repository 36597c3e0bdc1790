/*
 * test_engine_llamacpp.c — the llamacpp engine plugin through its vtable, on a tiny
 * llama-architecture GGUF written here (1 layer, SPM vocabulary with byte fallback,
 * deterministic random weights, a ChatML template).
 *
 * The central check is score(): its cached path (prompt once, choices from sequence
 * copies in one batch) must give the log-probabilities that evaluating prompt+choice in
 * full gives, which the test computes itself by calling llama.cpp directly. A demo model
 * from the model factory (tests/fixtures/llamacpp/train.csv) checks the engine on the
 * models the demo uses, and quantization to Q8_0.
 *
 * Environment: SLM_ENGINE_DIR (default: ../engines next to this binary) holds
 * llamacpp.so; SLM_ROOT (default: the current folder) is the source tree; libfake_llama.so (a library with the wrong ABI) lies next to this binary.
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
#include <unistd.h>

#include <cmocka.h>

#include "gguf.h"
#include "modelfactory.h"
#include "llamacpp/llama_abi.h"
#include "slm_engine.h"
#include "llamacpp_plugin.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define TOL 1e-4

#define assert_near(actual, expected, tol)                                                 \
    do {                                                                                   \
        double a_ = (actual), e_ = (expected);                                             \
        if (!(fabs(a_ - e_) <= (tol)))                                                     \
            fail_msg("%s = %.10g, expected %.10g", #actual, a_, e_);                       \
    } while (0)

/* ---- the tiny model ------------------------------------------------------------------ */

enum { N_EMBD = 64, N_HEAD = 4, N_FF = 128, N_CTX_TRAIN = 256 };

/* Whole words of the vocabulary; SPM marks a leading space with U+2581. The vocabulary
 * also holds every prefix of each word (SPM merges pieces pairwise, so each step must be
 * a token) and the lowercase letters; anything else falls back to byte tokens. */
#define SP "\xe2\x96\x81"

static const char *const words[] = {
    SP "the", SP "answer", SP "is", SP "billing", "ing", SP "shipping", SP "refund",
    SP "label", SP "yes", SP "no", SP "hello", SP "world", SP "ticket", SP "about", "Q", "A",
    ":", "?", ".",
};

static const char chatml[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static float frand(float a)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return a * (2.0f * (float)(rng >> 40) / (float)(1 << 24) - 1.0f);
}

static int add(slm_gguf_writer *w, const char *name, uint64_t ne0, uint64_t ne1, float a,
               float fill, uint64_t *n_params)
{
    uint64_t ne[2] = {ne0, ne1};
    size_t n = (size_t)(ne0 * ne1);
    float *d = slm_xmalloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = a > 0 ? frand(a) : fill;
    *n_params += n;
    char err[SLM_ERRLEN];
    int rc = slm_gguf_add_tensor(w, name, SLM_GGUF_TYPE_F32, ne1 > 1 ? 2 : 1, ne, d, err,
                                 sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    return rc;
}

/*
 * Writes the model to path and returns its vocabulary size. Dimension 0 of every token
 * embedding is a large constant and the output rows of the control tokens weigh it
 * negatively, so the random model never emits </s> and generation runs to its limits.
 */
static int make_model(const char *path, uint64_t *n_params)
{
    enum { N_SPECIAL = 5, N_BYTES = 256, MAX_VOCAB = 512 };
    char **tok = slm_xcalloc(MAX_VOCAB, sizeof *tok);
    float *score = slm_xcalloc(MAX_VOCAB, sizeof *score);
    int32_t *type = slm_xcalloc(MAX_VOCAB, sizeof *type);
    const char *special[N_SPECIAL] = {"<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"};
    int n_vocab = 0;
    for (int i = 0; i < N_SPECIAL; i++) {
        tok[n_vocab] = slm_xstrdup(special[i]);
        type[n_vocab++] = i == 0 ? 2 : 3; /* unknown, control */
    }
    for (int i = 0; i < N_BYTES; i++) {
        tok[n_vocab] = slm_xasprintf("<0x%02X>", i);
        type[n_vocab++] = 6; /* byte */
    }
    for (int c = 'a'; c <= 'z'; c++) {
        tok[n_vocab] = slm_xasprintf("%c", c);
        type[n_vocab++] = 1;
    }
    tok[n_vocab] = slm_xstrdup(SP);
    type[n_vocab++] = 1;
    for (size_t i = 0; i < N(words); i++) {
        size_t len = strlen(words[i]);
        size_t first = strncmp(words[i], SP, 3) ? 1 : 4; /* SP is 3 bytes */
        for (size_t k = first; k <= len; k++) {
            char *piece = slm_xstrndup(words[i], k);
            int dup = 0;
            for (int j = 0; j < n_vocab && !dup; j++)
                dup = !strcmp(tok[j], piece);
            if (dup) {
                free(piece);
                continue;
            }
            tok[n_vocab] = piece;
            type[n_vocab] = 1;
            score[n_vocab++] = (float)k; /* merges prefer the longer piece */
        }
    }
    slm_gguf_writer *w = slm_gguf_writer_new();
    slm_gguf_set_str(w, "general.architecture", "llama");
    slm_gguf_set_str(w, "general.name", "slmbench-tiny");
    slm_gguf_set_u32(w, "general.file_type", 0);
    slm_gguf_set_u32(w, "llama.context_length", N_CTX_TRAIN);
    slm_gguf_set_u32(w, "llama.embedding_length", N_EMBD);
    slm_gguf_set_u32(w, "llama.block_count", 1);
    slm_gguf_set_u32(w, "llama.feed_forward_length", N_FF);
    slm_gguf_set_u32(w, "llama.attention.head_count", N_HEAD);
    slm_gguf_set_u32(w, "llama.attention.head_count_kv", N_HEAD);
    slm_gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    slm_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, (size_t)n_vocab);
    slm_gguf_set_arr_f32(w, "tokenizer.ggml.scores", score, (size_t)n_vocab);
    slm_gguf_set_arr_i32(w, "tokenizer.ggml.token_type", type, (size_t)n_vocab);
    slm_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    slm_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    slm_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    slm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", 1);
    slm_gguf_set_str(w, "tokenizer.chat_template", chatml);

    rng = 0x2545F4914F6CDD1DULL;
    *n_params = 0;
    int rc = 0;
    uint64_t ne[2] = {N_EMBD, (uint64_t)n_vocab};
    float *emb = slm_xmalloc(sizeof *emb * N_EMBD * (size_t)n_vocab);
    float *out = slm_xmalloc(sizeof *out * N_EMBD * (size_t)n_vocab);
    for (int t = 0; t < n_vocab; t++)
        for (int j = 0; j < N_EMBD; j++) {
            emb[t * N_EMBD + j] = j == 0 ? 4.0f : frand(1.0f);
            out[t * N_EMBD + j] = j == 0 ? (type[t] == 1 || type[t] == 6 ? 0.0f : -3.0f)
                                         : frand(0.5f);
        }
    char err[SLM_ERRLEN];
    rc |= slm_gguf_add_tensor(w, "token_embd.weight", SLM_GGUF_TYPE_F32, 2, ne, emb, err,
                              sizeof err);
    rc |= slm_gguf_add_tensor(w, "output.weight", SLM_GGUF_TYPE_F32, 2, ne, out, err,
                              sizeof err);
    *n_params += 2 * ne[0] * ne[1];
    rc |= add(w, "output_norm.weight", N_EMBD, 1, 0, 1.0f, n_params);
    rc |= add(w, "blk.0.attn_norm.weight", N_EMBD, 1, 0, 1.0f, n_params);
    rc |= add(w, "blk.0.ffn_norm.weight", N_EMBD, 1, 0, 1.0f, n_params);
    rc |= add(w, "blk.0.attn_q.weight", N_EMBD, N_EMBD, 0.3f, 0, n_params);
    rc |= add(w, "blk.0.attn_k.weight", N_EMBD, N_EMBD, 0.3f, 0, n_params);
    rc |= add(w, "blk.0.attn_v.weight", N_EMBD, N_EMBD, 0.3f, 0, n_params);
    rc |= add(w, "blk.0.attn_output.weight", N_EMBD, N_EMBD, 0.3f, 0, n_params);
    rc |= add(w, "blk.0.ffn_gate.weight", N_EMBD, N_FF, 0.2f, 0, n_params);
    rc |= add(w, "blk.0.ffn_up.weight", N_EMBD, N_FF, 0.2f, 0, n_params);
    rc |= add(w, "blk.0.ffn_down.weight", N_FF, N_EMBD, 0.2f, 0, n_params);
    if (!rc && slm_gguf_writer_write(w, path, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        rc = -1;
    }
    slm_gguf_writer_free(w);
    for (int i = 0; i < n_vocab; i++)
        free(tok[i]);
    free(tok);
    free(score);
    free(type);
    return rc ? -1 : n_vocab;
}

/* ---- fixture ------------------------------------------------------------------------- */

static struct {
    void *so;
    const slm_engine_vtable *vt;
    char dir[256];
    char model[300], truncated[300], notgguf[300], missing[300], q8[300];
    char demo[300], demo_q8[300]; /* the demo-model factory's, from the fixture */
    int n_vocab;
    uint64_t n_params;
    char fake_err[SLM_ERRLEN];    /* init() with the fake library */
    char nolib_err[SLM_ERRLEN];   /* init() with a library that does not exist */
    void *llama;                  /* the llama.cpp the plugin loaded, for the reference */
} fx;

static int find_llama(struct dl_phdr_info *info, size_t size, void *ud)
{
    const char *base = strrchr(info->dlpi_name, '/');
    base = base ? base + 1 : info->dlpi_name;
    if (!strncmp(base, "libllama", 8) && strncmp(base, "libllama-", 9)) {
        snprintf(ud, 512, "%s", info->dlpi_name);
        return 1;
    }
    return 0;
}

static int copy_prefix(const char *from, const char *to, size_t n)
{
    char *data;
    size_t len;
    char err[SLM_ERRLEN];
    if (slm_read_file(from, &data, &len, err, sizeof err))
        return -1;
    int rc = slm_write_file_atomic(to, data, len < n ? len : n, err, sizeof err);
    free(data);
    return rc;
}

static int group_setup(void **state)
{
    char path[512];
    fx.vt = test_load_llamacpp(&fx.so);
    if (!fx.vt)
        return -1;

    snprintf(fx.dir, sizeof fx.dir, "/tmp/slm-llamacpp-XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.model, sizeof fx.model, "%s/tiny.gguf", fx.dir);
    snprintf(fx.truncated, sizeof fx.truncated, "%s/truncated.gguf", fx.dir);
    snprintf(fx.notgguf, sizeof fx.notgguf, "%s/notgguf.gguf", fx.dir);
    snprintf(fx.missing, sizeof fx.missing, "%s/missing.gguf", fx.dir);
    snprintf(fx.q8, sizeof fx.q8, "%s/tiny-q8_0.gguf", fx.dir);
    snprintf(fx.demo, sizeof fx.demo, "%s/demo.gguf", fx.dir);
    snprintf(fx.demo_q8, sizeof fx.demo_q8, "%s/demo-q8_0.gguf", fx.dir);
    fx.n_vocab = make_model(fx.model, &fx.n_params);
    if (fx.n_vocab < 0 || copy_prefix(fx.model, fx.truncated, 1000))
        return -1;
    char err[SLM_ERRLEN];
    const char csv[] = "id,text,label\n1,hello,world\n";
    if (slm_write_file_atomic(fx.notgguf, csv, sizeof csv - 1, err, sizeof err))
        return -1;

    /* The refusals first: a failed init() must leave nothing loaded behind. */
    char *saved = getenv("SLM_LLAMA_LIB") ? slm_xstrdup(getenv("SLM_LLAMA_LIB")) : NULL;
    snprintf(path, sizeof path, "%s/libfake_llama.so", slm_exe_dir());
    setenv("SLM_LLAMA_LIB", path, 1);
    if (fx.vt->init(fx.fake_err, sizeof fx.fake_err) == 0)
        snprintf(fx.fake_err, sizeof fx.fake_err, "(init accepted the fake library)");
    setenv("SLM_LLAMA_LIB", "/nonexistent/libllama.so", 1);
    if (fx.vt->init(fx.nolib_err, sizeof fx.nolib_err) == 0)
        snprintf(fx.nolib_err, sizeof fx.nolib_err, "(init accepted a missing library)");
    if (saved)
        setenv("SLM_LLAMA_LIB", saved, 1);
    else
        unsetenv("SLM_LLAMA_LIB");
    free(saved);

    if (fx.vt->init(err, sizeof err)) {
        fprintf(stderr, "init: %s\n", err);
        return -1;
    }
    char llama[512] = "";
    dl_iterate_phdr(find_llama, llama);
    fx.llama = llama[0] ? dlopen(llama, RTLD_NOW | RTLD_NOLOAD) : NULL;
    (void)state;
    return 0;
}

static int group_teardown(void **state)
{
    if (fx.llama)
        dlclose(fx.llama);
    if (fx.vt && fx.vt->shutdown)
        fx.vt->shutdown();
    if (fx.so)
        dlclose(fx.so);
    const char *files[] = {fx.model, fx.truncated, fx.notgguf, fx.q8, fx.demo, fx.demo_q8};
    for (size_t i = 0; i < N(files); i++)
        unlink(files[i]);
    rmdir(fx.dir);
    (void)state;
    return 0;
}

static slm_engine *open_model(const char *model, const char *n_seq_max, const char *chat)
{
    slm_option items[] = {{"model", model}, {"threads", "1"}, {"n_seq_max", n_seq_max},
                          {"chat_template", chat}, {"unknown_key", "ignored"}};
    slm_options opts = {items, N(items)};
    slm_engine *e = NULL;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->open(&opts, &e, err, sizeof err))
        fail_msg("open %s: %s", model, err);
    return e;
}

static slm_request request(const char *prompt, int chat, const slm_probe *probe)
{
    slm_request r = {sizeof(slm_request), "t1", prompt, strlen(prompt), chat, probe};
    return r;
}

/* ---- refusals ------------------------------------------------------------------------ */

static void abi_mismatch_refused(void **state)
{
    (void)state;
    if (!strstr(fx.fake_err, "does not match the ABI slmbench was built for"))
        fail_msg("fake library: %s", fx.fake_err);
    if (!strstr(fx.fake_err, "libfake_llama.so") ||
        !strstr(fx.fake_err, "(llama_context_default_params: n_batch is 512, expected 2048)"))
        fail_msg("fake library: %s", fx.fake_err);
}

static void missing_library_refused(void **state)
{
    (void)state;
    if (strncmp(fx.nolib_err, "cannot load llama.cpp library '/nonexistent/libllama.so': ",
                58) != 0)
        fail_msg("missing library: %s", fx.nolib_err);
}

static void expect_open_error(const slm_option *items, size_t n, const char *want)
{
    slm_options opts = {items, n};
    slm_engine *e = (slm_engine *)1;
    char err[SLM_ERRLEN] = "";
    assert_int_equal(fx.vt->open(&opts, &e, err, sizeof err), -1);
    assert_null(e);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void bad_files_refused(void **state)
{
    (void)state;
    char want[512];
    slm_option o[] = {{"model", fx.missing}};
    snprintf(want, sizeof want, "cannot open model '%s': No such file or directory", fx.missing);
    expect_open_error(o, 1, want);

    o[0].value = fx.notgguf;
    snprintf(want, sizeof want, "model '%s' is not a GGUF file", fx.notgguf);
    expect_open_error(o, 1, want);

    o[0].value = fx.truncated;
    snprintf(want, sizeof want, "cannot load model '%s': ", fx.truncated);
    expect_open_error(o, 1, want);
}

static void bad_options_refused(void **state)
{
    (void)state;
    slm_option o[] = {{"model", fx.model}, {"n_ctx", "abc"}};
    expect_open_error(o, 2, "option 'n_ctx': expected a positive integer, got 'abc'");
    o[1] = (slm_option){"n_seq_max", "1"};
    expect_open_error(o, 2, "option 'n_seq_max': expected an integer from 2 to 256, got '1'");
    expect_open_error(o + 1, 0, "option 'model' is required");
}

/* ---- info ---------------------------------------------------------------------------- */

static void info_facts(void **state)
{
    (void)state;
    slm_engine *e = open_model(fx.model, "8", "0");
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    char err[SLM_ERRLEN];
    assert_int_equal(fx.vt->info(e, &m, err, sizeof err), 0);
    assert_int_equal(m.struct_size, sizeof m);
    assert_string_equal(m.arch, "llama");
    assert_string_equal(m.name, "slmbench-tiny");
    assert_string_equal(m.quant, "F32");
    assert_string_equal(m.chat_template, "chatml");
    assert_true(strncmp(m.engine_version, "llama.cpp v0.5.0 (libllama", 26) == 0);
    assert_true(m.desc[0] != '\0');
    assert_int_equal(m.n_params, fx.n_params);
    assert_true(m.size_bytes >= fx.n_params * 4);
    assert_int_equal(m.n_ctx_train, N_CTX_TRAIN);
    assert_int_equal(m.n_ctx, N_CTX_TRAIN); /* the default 2048, capped */
    assert_int_equal(m.n_vocab, fx.n_vocab);
    assert_int_equal(m.n_layer, 1);
    assert_int_equal(m.n_embd, N_EMBD);
    assert_int_equal(m.n_threads, 1);
    assert_true(m.caps & SLM_CAP_CHAT_TEMPLATE);
    assert_true(m.caps & SLM_CAP_SCORE);

    /* An older harness with a shorter struct gets only what it has room for. */
    union {
        slm_model_info info;
        unsigned char bytes[sizeof(slm_model_info)];
    } small;
    memset(&small, 0xAB, sizeof small);
    small.info.struct_size = offsetof(slm_model_info, quant);
    assert_int_equal(fx.vt->info(e, &small.info, err, sizeof err), 0);
    assert_string_equal(small.info.arch, "llama");
    for (size_t i = offsetof(slm_model_info, quant); i < sizeof small; i++)
        assert_int_equal(small.bytes[i], 0xAB);
    fx.vt->close(e);
    fx.vt->close(NULL);
    fx.vt->result_free(NULL);
}

/* ---- tokenize and vocab_only (1.3) --------------------------------------------------- */

static slm_token_result *tok(slm_engine *e, const char *text, uint32_t flags)
{
    slm_token_result *r = NULL;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->tokenize(e, text, strlen(text), flags, &r, err, sizeof err))
        fail_msg("tokenize '%s': %s", text, err);
    assert_int_equal(r->kind, SLM_RESULT_TOKENS);
    return r;
}

static void tokenize_and_vocab_only(void **state)
{
    (void)state;
    assert_true(fx.vt->caps & SLM_CAP_TOKENIZE);
    slm_engine *e = open_model(fx.model, "8", "0");
    slm_token_result *full = tok(e, "hello world", SLM_TOKENIZE_ADD_SPECIAL);
    assert_true(full->n >= 3);
    assert_int_equal(full->ids[0], 1); /* BOS, by its name */
    assert_string_equal(full->pieces[0], "<s>");
    assert_string_equal(full->pieces[1], " hello");
    slm_token_result *bare = tok(e, "hello world", 0);
    assert_int_equal(bare->n, full->n - 1);
    assert_int_equal(bare->ids[0], full->ids[1]);
    slm_token_result *empty = tok(e, "", 0);
    assert_int_equal(empty->n, 0);
    fx.vt->result_free(bare);
    fx.vt->result_free(empty);
    fx.vt->close(e);

    slm_option items[] = {{"model", fx.model}, {"vocab_only", "1"}};
    slm_options opts = {items, N(items)};
    char err[SLM_ERRLEN] = "";
    if (fx.vt->open(&opts, &e, err, sizeof err))
        fail_msg("open vocab_only: %s", err);
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    assert_int_equal(fx.vt->info(e, &m, err, sizeof err), 0);
    assert_int_equal(m.n_vocab, fx.n_vocab);
    assert_string_equal(m.arch, "llama");
    assert_true(m.caps & SLM_CAP_TOKENIZE);
    assert_false(m.caps & (SLM_CAP_SCORE | SLM_CAP_GENERATE | SLM_CAP_BATCH));
    /* the same tokens as with the weights */
    slm_token_result *vo = tok(e, "hello world", SLM_TOKENIZE_ADD_SPECIAL);
    assert_int_equal(vo->n, full->n);
    for (size_t i = 0; i < vo->n; i++) {
        assert_int_equal(vo->ids[i], full->ids[i]);
        assert_string_equal(vo->pieces[i], full->pieces[i]);
    }
    fx.vt->result_free(vo);
    fx.vt->result_free(full);

    /* no weights, no context: score and generate refuse, and say why */
    slm_request req = request("the answer is", 0, NULL);
    const char *choices[] = {" yes"};
    slm_score_result *sr = NULL;
    assert_int_equal(fx.vt->score(e, &req, choices, 1, &sr, err, sizeof err), -1);
    assert_null(sr);
    assert_non_null(strstr(err, "vocab_only"));
    const slm_request *reqs[] = {&req};
    slm_score_result *outs[1] = {NULL};
    assert_int_equal(fx.vt->score_batch(e, reqs, 1, choices, 1, outs, err, sizeof err), -1);
    assert_null(outs[0]);
    slm_gen_result *gr = NULL;
    slm_gen_params gp = {sizeof gp, 4, NULL, 0, NULL, NULL, 0.0, 0};
    assert_int_equal(fx.vt->generate(e, &req, &gp, &gr, err, sizeof err), -1);
    assert_null(gr);
    assert_non_null(strstr(err, "vocab_only"));
    fx.vt->close(e);

    items[1].value = "2";
    expect_open_error(items, 2, "option 'vocab_only': expected an integer from 0 to 1, got '2'");
}

/* ---- score --------------------------------------------------------------------------- */

/* The reference: prompt+choice evaluated in full, in one sequence, without the cache
 * tricks, by calling llama.cpp directly. Returns the choice's log-probability and its
 * token count in *n_cont (tokens after the prompt's). */
struct ref {
    struct llama_model *model;
    struct llama_context *ctx;
    const struct llama_vocab *vocab;
};

#define REF_FN(name) ((__typeof__(&name))dlsym(fx.llama, #name))

static double ref_logprob(struct ref *r, const char *prompt, const char *choice, int *n_cont)
{
    char full[512];
    snprintf(full, sizeof full, "%s%s", prompt, choice);
    llama_token pt[256], ft[256];
    int np = REF_FN(llama_tokenize)(r->vocab, prompt, (int32_t)strlen(prompt), pt, 256, true,
                                    false);
    int nf = REF_FN(llama_tokenize)(r->vocab, full, (int32_t)strlen(full), ft, 256, true, false);
    assert_true(np > 0 && nf > np);
    /* The test's choices are meant to tokenize as a continuation of the prompt. */
    assert_memory_equal(pt, ft, sizeof pt[0] * (size_t)np);
    REF_FN(llama_memory_clear)(REF_FN(llama_get_memory)(r->ctx), true);
    struct llama_batch b = REF_FN(llama_batch_init)(nf, 0, 1);
    for (int i = 0; i < nf; i++) {
        b.token[i] = ft[i];
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1;
    }
    b.n_tokens = nf;
    assert_int_equal(REF_FN(llama_decode)(r->ctx, b), 0);
    double lp = 0;
    int nv = REF_FN(llama_vocab_n_tokens)(r->vocab);
    for (int i = np; i < nf; i++) {
        const float *lg = REF_FN(llama_get_logits_ith)(r->ctx, i - 1);
        double mx = lg[0], s = 0;
        for (int k = 1; k < nv; k++)
            mx = lg[k] > mx ? lg[k] : mx;
        for (int k = 0; k < nv; k++)
            s += exp(lg[k] - mx);
        lp += lg[ft[i]] - (mx + log(s));
    }
    REF_FN(llama_batch_free)(b);
    *n_cont = nf - np;
    return lp;
}

struct phases {
    int begun[SLM_PHASE_COUNT], ended[SLM_PHASE_COUNT], n_tokens[SLM_PHASE_COUNT];
    int open;
};

static void on_begin(void *ud, slm_phase p)
{
    struct phases *ph = ud;
    assert_int_equal(ph->open, -1);
    ph->begun[p]++;
    ph->open = (int)p;
}

static void on_end(void *ud, slm_phase p, int n)
{
    struct phases *ph = ud;
    assert_int_equal(ph->open, (int)p);
    ph->ended[p]++;
    ph->n_tokens[p] = n;
    ph->open = -1;
}

static void score_matches_full_evaluation(void **state)
{
    (void)state;
    if (!fx.llama)
        skip();
    /* Words outside the vocabulary become letters: a prompt of about 80 tokens. */
    const char *prompt = "Q: my refund ticket is about a shipping label, not billing. Is "
                         "the answer billing? A: the answer is";
    const char *choices[] = {" billing", " shipping label", " refund", " yes", " no ticket",
                             " zebra quux xylophone wizard", " the answer is jumping"};
    /* n_seq_max 3: two choices per batch, so the five are scored in three groups. */
    slm_engine *e = open_model(fx.model, "3", "0");
    struct phases ph = {.open = -1};
    slm_probe probe = {&ph, on_begin, on_end};
    slm_request req = request(prompt, 0, &probe);
    slm_score_result *res = NULL;
    char err[SLM_ERRLEN];
    uint64_t t0 = slm_now_ns();
    if (fx.vt->score(e, &req, choices, N(choices), &res, err, sizeof err))
        fail_msg("score: %s", err);
    double cached_ms = (double)(slm_now_ns() - t0) / 1e6;
    assert_int_equal(res->kind, SLM_RESULT_SCORE);
    assert_int_equal(res->n, N(choices));

    struct llama_model_params mp = REF_FN(llama_model_default_params)();
    mp.n_gpu_layers = 0;
    struct ref r;
    r.model = REF_FN(llama_model_load_from_file)(fx.model, mp);
    assert_non_null(r.model);
    struct llama_context_params cp = REF_FN(llama_context_default_params)();
    cp.n_ctx = 256;
    cp.n_batch = 256;
    cp.n_ubatch = 256;
    cp.n_threads = cp.n_threads_batch = 1;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED; /* as the engine by default */
    r.ctx = REF_FN(llama_init_from_model)(r.model, cp);
    assert_non_null(r.ctx);
    r.vocab = REF_FN(llama_model_get_vocab)(r.model);

    int total = 0;
    t0 = slm_now_ns();
    for (size_t i = 0; i < N(choices); i++) {
        int nc;
        double want = ref_logprob(&r, prompt, choices[i], &nc);
        assert_int_equal(res->n_tokens[i], nc);
        assert_true(res->logprob[i] < 0);
        assert_near(res->logprob[i], want, TOL);
        total += nc;
    }
    double full_ms = (double)(slm_now_ns() - t0) / 1e6;
    if (getenv("SLM_TEST_VERBOSE"))
        fprintf(stderr, "score: cached %.2f ms, separate full evaluations %.2f ms\n",
                cached_ms, full_ms);
    /* The choices differ, so their scores do. */
    assert_true(fabs(res->logprob[0] - res->logprob[2]) > 1e-3);

    int np = 0;
    llama_token pt[256];
    np = REF_FN(llama_tokenize)(r.vocab, prompt, (int32_t)strlen(prompt), pt, 256, true, false);
    assert_int_equal(res->n_prompt_tokens, np);
    assert_int_equal(ph.begun[SLM_PHASE_PREFILL], 1);
    assert_int_equal(ph.ended[SLM_PHASE_PREFILL], 1);
    assert_int_equal(ph.n_tokens[SLM_PHASE_PREFILL], np);
    assert_int_equal(ph.begun[SLM_PHASE_DECODE], 1);
    assert_int_equal(ph.n_tokens[SLM_PHASE_DECODE], total);

    /* Scoring again from a different prompt must not see the first one's cache. */
    slm_score_result *res2 = NULL;
    req = request("Q: hello world. A:", 0, NULL);
    assert_int_equal(fx.vt->score(e, &req, choices, 2, &res2, err, sizeof err), 0);
    int nc;
    assert_near(res2->logprob[1], ref_logprob(&r, "Q: hello world. A:", choices[1], &nc), TOL);
    fx.vt->result_free(res2);

    REF_FN(llama_free)(r.ctx);
    REF_FN(llama_model_free)(r.model);
    fx.vt->result_free(res);
    fx.vt->close(e);
}

static void score_with_chat_template(void **state)
{
    (void)state;
    slm_engine *e = open_model(fx.model, "8", "0");
    const char *choices[] = {" yes", " no"};
    slm_score_result *raw = NULL, *chat = NULL;
    char err[SLM_ERRLEN];
    slm_request req = request("Q: is the answer yes?", 0, NULL);
    assert_int_equal(fx.vt->score(e, &req, choices, 2, &raw, err, sizeof err), 0);
    req.chat_template = 1;
    if (fx.vt->score(e, &req, choices, 2, &chat, err, sizeof err))
        fail_msg("score with the chat template: %s", err);
    /* <|im_start|>user\n ... <|im_end|>\n<|im_start|>assistant\n around the prompt. */
    assert_true(chat->n_prompt_tokens > raw->n_prompt_tokens + 4);
    assert_true(isfinite(chat->logprob[0]) && chat->logprob[0] < 0);
    fx.vt->result_free(raw);
    fx.vt->result_free(chat);
    fx.vt->close(e);
}

/* ---- the shared-prefix cache -------------------------------------------------------- */

static slm_engine *open_cached(const char *prefix_cache)
{
    slm_option items[] = {{"model", fx.model}, {"threads", "1"}, {"n_seq_max", "4"},
                          {"prefix_cache", prefix_cache}};
    slm_options opts = {items, N(items)};
    slm_engine *e = NULL;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->open(&opts, &e, err, sizeof err))
        fail_msg("open with prefix_cache=%s: %s", prefix_cache, err);
    return e;
}

/* Scores prompt on both engines and checks that every choice gets the same log-prob. */
static void same_scores(slm_engine *cached, slm_engine *fresh, const char *what,
                        const char *prompt, int chat)
{
    const char *choices[] = {" billing", " shipping label", " refund", " yes", " no ticket",
                             " the answer is jumping"};
    struct phases ph = {.open = -1};
    slm_probe probe = {&ph, on_begin, on_end};
    slm_request req = request(prompt, chat, &probe);
    slm_score_result *a = NULL, *b = NULL;
    char err[SLM_ERRLEN];
    if (fx.vt->score(cached, &req, choices, N(choices), &a, err, sizeof err))
        fail_msg("%s: score with the prefix cache: %s", what, err);
    req.probe = NULL;
    if (fx.vt->score(fresh, &req, choices, N(choices), &b, err, sizeof err))
        fail_msg("%s: score without the prefix cache: %s", what, err);
    assert_int_equal(a->n_prompt_tokens, b->n_prompt_tokens);
    /* Prefill reports the prompt's tokens, however many came from the cache. */
    assert_int_equal(ph.n_tokens[SLM_PHASE_PREFILL], a->n_prompt_tokens);
    for (size_t i = 0; i < N(choices); i++) {
        assert_int_equal(a->n_tokens[i], b->n_tokens[i]);
        if (!(fabs(a->logprob[i] - b->logprob[i]) <= 1e-5))
            fail_msg("%s: choice '%s': %.10g with the prefix cache, %.10g without", what,
                     choices[i], a->logprob[i], b->logprob[i]);
    }
    fx.vt->result_free(a);
    fx.vt->result_free(b);
}

static void prefix_cache_scores_like_fresh(void **state)
{
    (void)state;
    slm_engine *cached = open_cached("1"), *fresh = open_cached("0");
    /* About 120 tokens shared by the first prompts (the tiny model's context is 256). */
    const char *shared = "You sort tickets. the answer is billing, shipping or refund. "
                         "Q: hello world. A: the answer is billing. Q: the ticket is about "
                         "a label. A: the answer is shipping. ";
    char p1[512], p2[512], p3[512];
    snprintf(p1, sizeof p1, "%sQ: my refund ticket is about billing. A: the answer is", shared);
    snprintf(p2, sizeof p2, "%sQ: hello, is the answer shipping? A: the answer is", shared);
    snprintf(p3, sizeof p3, "%sQ: hello", shared); /* a prefix of p2 */
    same_scores(cached, fresh, "first prompt", p1, 0);
    same_scores(cached, fresh, "shared prefix", p2, 0);
    same_scores(cached, fresh, "prefix of the previous prompt", p3, 0);
    same_scores(cached, fresh, "identical prompt", p3, 0);
    same_scores(cached, fresh, "completely different prompt", "yes no yes no world", 0);
    same_scores(cached, fresh, "back to the shared prefix", p1, 0);
    same_scores(cached, fresh, "chat template", p1, 1);
    same_scores(cached, fresh, "no chat template again", p1, 0);

    /* Generation leaves its tokens in sequence 0; it must agree too, and so must a score
     * whose prompt extends the generated text. */
    slm_gen_params gp = {sizeof gp, 12, NULL, 0, NULL, NULL, 0, 0};
    slm_request req = request(p2, 0, NULL);
    slm_gen_result *ga = NULL, *gb = NULL;
    char err[SLM_ERRLEN];
    assert_int_equal(fx.vt->generate(cached, &req, &gp, &ga, err, sizeof err), 0);
    assert_int_equal(fx.vt->generate(fresh, &req, &gp, &gb, err, sizeof err), 0);
    assert_string_equal(ga->text, gb->text);
    assert_int_equal(ga->n_output_tokens, gb->n_output_tokens);
    for (int i = 0; i < ga->n_output_tokens; i++)
        assert_near(ga->token_logprobs[i], gb->token_logprobs[i], 1e-5);
    char *after = slm_xasprintf("%s%s", p2, ga->text);
    same_scores(cached, fresh, "prompt extending a generation", after, 0);
    free(after);
    /* The same generation again: its prompt is now a prefix of what the cache holds. */
    slm_gen_result *gc = NULL;
    assert_int_equal(fx.vt->generate(cached, &req, &gp, &gc, err, sizeof err), 0);
    assert_string_equal(gc->text, ga->text);
    for (int i = 0; i < ga->n_output_tokens; i++)
        assert_near(gc->token_logprobs[i], ga->token_logprobs[i], 1e-5);
    fx.vt->result_free(ga);
    fx.vt->result_free(gb);
    fx.vt->result_free(gc);
    fx.vt->close(cached);
    fx.vt->close(fresh);

    slm_option bad[] = {{"model", fx.model}, {"prefix_cache", "yes"}};
    expect_open_error(bad, 2, "option 'prefix_cache': expected an integer from 0 to 1, got 'yes'");
}

/* ---- throughput mode ----------------------------------------------------------------- */

static slm_engine *open_parallel(const char *n_parallel, const char *n_batch)
{
    slm_option items[] = {{"model", fx.model}, {"threads", "1"}, {"n_parallel", n_parallel},
                          {"n_batch", n_batch}};
    slm_options opts = {items, N(items)};
    slm_engine *e = NULL;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->open(&opts, &e, err, sizeof err))
        fail_msg("open with n_parallel=%s: %s", n_parallel, err);
    return e;
}

static size_t argmax(const slm_score_result *r)
{
    size_t best = 0;
    for (size_t j = 1; j < r->n; j++)
        if (r->logprob[j] > r->logprob[best])
            best = j;
    return best;
}

/* score_batch() over reqs must give, request by request, what score() gives alone. */
static void batch_like_single(slm_engine *e, const slm_request *const *reqs, size_t n_reqs,
                              const char *const *choices, size_t n, const char *what)
{
    slm_score_result **got = slm_xcalloc(n_reqs, sizeof *got);
    char err[SLM_ERRLEN];
    struct phases ph = {.open = -1};
    slm_probe probe = {&ph, on_begin, on_end};
    slm_request first = *reqs[0];
    first.probe = &probe;
    const slm_request **with_probe = slm_xcalloc(n_reqs, sizeof *with_probe);
    memcpy(with_probe, reqs, sizeof *reqs * n_reqs);
    with_probe[0] = &first;
    if (fx.vt->score_batch(e, with_probe, n_reqs, choices, n, got, err, sizeof err))
        fail_msg("%s: score_batch: %s", what, err);
    int np = 0, nc = 0;
    double gap = 0;
    for (size_t i = 0; i < n_reqs; i++) {
        slm_score_result *want = NULL;
        if (fx.vt->score(e, reqs[i], choices, n, &want, err, sizeof err))
            fail_msg("%s: score of request %zu: %s", what, i, err);
        assert_non_null(got[i]);
        assert_int_equal(got[i]->kind, SLM_RESULT_SCORE);
        assert_int_equal(got[i]->n, n);
        assert_int_equal(got[i]->n_prompt_tokens, want->n_prompt_tokens);
        np += want->n_prompt_tokens;
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(got[i]->n_tokens[j], want->n_tokens[j]);
            nc += want->n_tokens[j];
            gap = fmax(gap, fabs(got[i]->logprob[j] - want->logprob[j]));
            if (!(fabs(got[i]->logprob[j] - want->logprob[j]) <= 1e-5))
                fail_msg("%s: request %zu, choice '%s': %.10g in the batch, %.10g alone", what,
                         i, choices[j], got[i]->logprob[j], want->logprob[j]);
        }
        assert_int_equal(argmax(got[i]), argmax(want));
        fx.vt->result_free(want);
        fx.vt->result_free(got[i]);
    }
    if (getenv("SLM_TEST_VERBOSE"))
        fprintf(stderr, "%s: %zu requests, %d prompt tokens, %d choice tokens, max |dlp| %.2g\n",
                what, n_reqs, np, nc, gap);
    /* One probe for the whole batch, each phase once, with the batch's token counts. */
    assert_int_equal(ph.begun[SLM_PHASE_PREFILL], 1);
    assert_int_equal(ph.ended[SLM_PHASE_PREFILL], 1);
    assert_int_equal(ph.begun[SLM_PHASE_DECODE], 1);
    assert_int_equal(ph.ended[SLM_PHASE_DECODE], 1);
    assert_int_equal(ph.n_tokens[SLM_PHASE_PREFILL], np);
    assert_int_equal(ph.n_tokens[SLM_PHASE_DECODE], nc);
    free(with_probe);
    free(got);
}

static void score_batch_matches_score(void **state)
{
    (void)state;
    assert_true(fx.vt->caps & SLM_CAP_BATCH);
    assert_non_null(fx.vt->score_batch);
    /* Ten prompts of 20 to about 140 tokens (words outside the vocabulary become
     * letters), four choices of which two take several tokens. */
    enum { N_PROMPTS = 10 };
    const char *parts[] = {"Q: my refund ticket is about a shipping label. ",
                           "the answer is not billing, hello world. ", "yes no maybe. "};
    char *prompts[N_PROMPTS];
    slm_request reqs[N_PROMPTS];
    const slm_request *rp[N_PROMPTS];
    for (size_t i = 0; i < N_PROMPTS; i++) {
        slm_buf b = {0};
        for (size_t k = 0; k <= (i * 7) % 10; k++)
            slm_buf_puts(&b, parts[(i + k) % N(parts)]);
        slm_buf_puts(&b, "A: the answer is");
        prompts[i] = slm_buf_take(&b);
        reqs[i] = request(prompts[i], i == 4, NULL); /* one in the chat template */
        rp[i] = &reqs[i];
    }
    const char *choices[] = {" billing", " shipping label", " refund",
                             " the answer is jumping"};

    /* The defaults: 8 prompts side by side, so two groups; score() runs in between with
     * its prefix cache on, which the batch must neither use nor spoil. */
    slm_engine *e = open_model(fx.model, "8", "0");
    batch_like_single(e, rp, N_PROMPTS, choices, N(choices), "n_parallel=8");
    batch_like_single(e, rp + 3, 1, choices, N(choices), "a batch of one");
    fx.vt->close(e);
    /* Three prompts per group and small batches: prompts split across batches, choices
     * of several prompts in a round and several rounds. */
    e = open_parallel("3", "48");
    batch_like_single(e, rp, N_PROMPTS, choices, N(choices), "n_parallel=3, n_batch=48");
    fx.vt->close(e);
    /* One prompt at a time is the degenerate case, without extra cells. */
    e = open_parallel("1", "512");
    batch_like_single(e, rp, 4, choices, N(choices), "n_parallel=1");

    /* A request longer than the context fails the whole call, naming it. */
    slm_buf b = {0};
    for (int k = 0; k < 40; k++)
        slm_buf_puts(&b, "hello world again and again ");
    char *longp = slm_buf_take(&b);
    slm_request lr = request(longp, 0, NULL);
    lr.id = "long";
    const slm_request *mixed[] = {rp[0], &lr, rp[1]};
    slm_score_result *out[3] = {(void *)1, (void *)1, (void *)1};
    char err[SLM_ERRLEN] = "";
    assert_int_equal(fx.vt->score_batch(e, mixed, 3, choices, N(choices), out, err, sizeof err),
                     -1);
    for (size_t i = 0; i < N(out); i++)
        assert_null(out[i]);
    if (!strstr(err, "request 1 ('long'): the prompt has ") ||
        !strstr(err, " tokens, the context only 256"))
        fail_msg("unexpected error '%s'", err);
    /* Nothing is left behind: the engine goes on scoring. */
    batch_like_single(e, rp + 5, 2, choices, N(choices), "after a failure");
    assert_int_equal(fx.vt->score_batch(e, rp, 0, choices, N(choices), out, err, sizeof err), 0);
    free(longp);
    fx.vt->close(e);
    for (size_t i = 0; i < N_PROMPTS; i++)
        free(prompts[i]);

    slm_option bad[] = {{"model", fx.model}, {"n_parallel", "0"}};
    expect_open_error(bad, 2, "option 'n_parallel': expected an integer from 1 to 128, got '0'");
}

/* ---- generate ------------------------------------------------------------------------ */

static slm_gen_result *gen(slm_engine *e, int max_tokens, const char *stop, const char *grammar,
                           struct phases *ph)
{
    const char *stops[] = {stop};
    slm_gen_params p = {sizeof p, max_tokens, stops, stop ? 1 : 0, grammar, NULL, 0, 0};
    slm_probe probe = {ph, on_begin, on_end};
    slm_request req = request("Q: hello world. A: the answer is", 0, ph ? &probe : NULL);
    slm_gen_result *r = NULL;
    char err[SLM_ERRLEN];
    if (fx.vt->generate(e, &req, &p, &r, err, sizeof err))
        fail_msg("generate: %s", err);
    assert_int_equal(r->kind, SLM_RESULT_GENERATE);
    assert_int_equal(strlen(r->text), r->text_len);
    return r;
}

static void generate_stops_at_max_tokens(void **state)
{
    (void)state;
    slm_engine *e = open_model(fx.model, "8", "0");
    struct phases ph = {.open = -1};
    slm_gen_result *r = gen(e, 10, NULL, NULL, &ph);
    assert_int_equal(r->finish, SLM_FINISH_LENGTH);
    assert_int_equal(r->n_output_tokens, 10);
    assert_true(r->text_len > 0);
    for (int i = 0; i < r->n_output_tokens; i++)
        assert_true(r->token_logprobs[i] <= 0 && r->token_logprobs[i] > -100);
    assert_int_equal(ph.n_tokens[SLM_PHASE_PREFILL], r->n_prompt_tokens);
    assert_int_equal(ph.n_tokens[SLM_PHASE_DECODE], 9); /* token 1 comes from the prefill */

    /* Greedy is deterministic, and a longer run extends the shorter one. */
    slm_gen_result *r2 = gen(e, 14, NULL, NULL, NULL);
    assert_true(r2->text_len >= r->text_len);
    assert_memory_equal(r2->text, r->text, r->text_len);
    assert_near(r2->token_logprobs[3], r->token_logprobs[3], 1e-6);
    fx.vt->result_free(r);
    fx.vt->result_free(r2);
    fx.vt->close(e);
}

static void generate_stops_at_stop_string(void **state)
{
    (void)state;
    slm_engine *e = open_model(fx.model, "8", "0");
    slm_gen_result *full = gen(e, 16, NULL, NULL, NULL);
    assert_true(full->text_len >= 8);
    /* A stop string from the middle of the text; it likely spans a token boundary. */
    char stop[5];
    size_t at = full->text_len / 2 - 2;
    memcpy(stop, full->text + at, 4);
    stop[4] = '\0';
    size_t cut = (size_t)(strstr(full->text, stop) - full->text);
    slm_gen_result *r = gen(e, 16, stop, NULL, NULL);
    assert_int_equal(r->finish, SLM_FINISH_STOP);
    assert_int_equal(r->text_len, cut);
    assert_memory_equal(r->text, full->text, cut);
    assert_true(r->n_output_tokens < 16);
    fx.vt->result_free(r);
    fx.vt->result_free(full);
    fx.vt->close(e);
}

static void generate_with_grammar(void **state)
{
    (void)state;
    slm_engine *e = open_model(fx.model, "8", "0");
    slm_gen_result *r = gen(e, 16, NULL, "root ::= \" yes\" | \" no\"", NULL);
    if (strcmp(r->text, " yes") && strcmp(r->text, " no"))
        fail_msg("grammar output '%s'", r->text);
    assert_int_equal(r->finish, SLM_FINISH_STOP);
    fx.vt->result_free(r);

    slm_gen_params p = {sizeof p, 8, NULL, 0, NULL, "{\"type\":\"string\"}", 0, 0};
    slm_request req = request("Q:", 0, NULL);
    char err[SLM_ERRLEN] = "";
    assert_int_equal(fx.vt->generate(e, &req, &p, &r, err, sizeof err), -1);
    assert_string_equal(err, "json_schema not supported yet, pass a grammar");
    p.json_schema = NULL;
    p.grammar = "root ::= undefined-rule";
    assert_int_equal(fx.vt->generate(e, &req, &p, &r, err, sizeof err), -1);
    if (strncmp(err, "cannot use the grammar: ", 24) != 0)
        fail_msg("bad grammar: %s", err);
    fx.vt->close(e);
}

/* ---- quantize ------------------------------------------------------------------------ */

static void quantize_q8_0(void **state)
{
    (void)state;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->quantize(fx.model, fx.q8, "Q8_0", 2, err, sizeof err))
        fail_msg("quantize: %s", err);
    slm_engine *e = open_model(fx.q8, "8", "0");
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    assert_int_equal(fx.vt->info(e, &m, err, sizeof err), 0);
    assert_string_equal(m.quant, "Q8_0");
    assert_int_equal(m.n_params, fx.n_params);
    assert_true(m.size_bytes < fx.n_params * 4 / 3);
    fx.vt->close(e);

    assert_int_equal(fx.vt->quantize(fx.model, fx.q8, "Q9_X", 2, err, sizeof err), -1);
    if (!strstr(err, "unknown quantization type 'Q9_X' (known: ") || !strstr(err, "Q4_K_M"))
        fail_msg("unknown type: %s", err);
    assert_int_equal(fx.vt->quantize(fx.notgguf, fx.q8, "Q8_0", 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not a GGUF file"));
}

/* ---- a demo model from the factory ---------------------------------------------------- */

static void demo_model_scores_and_quantizes(void **state)
{
    (void)state;
    const char *root = getenv("SLM_ROOT");
    char train[512], err[SLM_ERRLEN] = "";
    snprintf(train, sizeof train, "%s/tests/fixtures/llamacpp/train.csv", root ? root : ".");
    slm_factory_opts o;
    slm_factory_defaults(&o);
    o.train_path = train;
    o.out_path = fx.demo;
    o.name = "demo-support";
    o.vocab_words = 64;
    o.n_ctx = 512;
    o.f16 = 0;
    if (slm_model_make(&o, NULL, err, sizeof err))
        fail_msg("slm_model_make: %s", err);

    slm_engine *e = open_model(fx.demo, "8", "0");
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    assert_int_equal(fx.vt->info(e, &m, err, sizeof err), 0);
    assert_string_equal(m.arch, "llama");
    assert_string_equal(m.name, "demo-support");
    assert_string_equal(m.quant, "F32");
    assert_int_equal(m.n_ctx_train, 512);

    /* A naive Bayes in disguise: the billing words must make " billing" likelier. */
    const char *choices[] = {" billing", " shipping"};
    slm_request req = request("my invoice payment was charged twice", 0, NULL);
    slm_score_result *r = NULL;
    if (fx.vt->score(e, &req, choices, 2, &r, err, sizeof err))
        fail_msg("score: %s", err);
    assert_int_equal(r->n_tokens[0], 1);
    assert_true(r->logprob[0] > r->logprob[1]);
    fx.vt->result_free(r);
    fx.vt->close(e);

    if (fx.vt->quantize(fx.demo, fx.demo_q8, "Q8_0", 1, err, sizeof err))
        fail_msg("quantize: %s", err);
    e = open_model(fx.demo_q8, "8", "0");
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    assert_int_equal(fx.vt->info(e, &m, err, sizeof err), 0);
    assert_string_equal(m.quant, "Q8_0");
    fx.vt->close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(abi_mismatch_refused),
        cmocka_unit_test(missing_library_refused),
        cmocka_unit_test(bad_files_refused),
        cmocka_unit_test(bad_options_refused),
        cmocka_unit_test(info_facts),
        cmocka_unit_test(tokenize_and_vocab_only),
        cmocka_unit_test(score_matches_full_evaluation),
        cmocka_unit_test(score_with_chat_template),
        cmocka_unit_test(prefix_cache_scores_like_fresh),
        cmocka_unit_test(score_batch_matches_score),
        cmocka_unit_test(generate_stops_at_max_tokens),
        cmocka_unit_test(generate_stops_at_stop_string),
        cmocka_unit_test(generate_with_grammar),
        cmocka_unit_test(quantize_q8_0),
        cmocka_unit_test(demo_model_scores_and_quantizes),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
