/*
 * test_chat_template.c — real chat templates, model facts of engine ABI 1.3 and the GPU
 * option, through the llamacpp plugin's vtable.
 *
 * Demo models from the model factory carry the essential parts of the Qwen3 and Llama 3
 * Instruct templates (tests/fixtures/chat/, *.jinja) and one llama.cpp cannot apply.
 * render() must give the exact bytes of each family for one user message — the bytes
 * score() and generate() evaluate — and refuse the unusable template with its reason.
 * The facts: the template's name and text hash, KV-cache bytes against a hand count of
 * the demo model, n_gpu_layers and the device on this CPU-only machine.
 *
 * Environment: SLM_ENGINE_DIR holds llamacpp.so (default ../engines next to this
 * binary); SLM_ROOT is the source tree (default the current folder).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "modelfactory.h"
#include "sha256.h"
#include "slm_engine.h"
#include "llamacpp_plugin.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct {
    void *so;
    const slm_engine_vtable *vt;
    char dir[256];
    char qwen[300], llama3[300], garbage[300], none[300];
    char *qwen_tmpl;
} fx;

/* The pinned bytes: one user message and the assistant's opening, as llama.cpp's
 * built-in formats render them (the jinja is not run; no BOS in the text, the
 * tokenizer adds it). */
static const char QWEN_BYTES[] = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                                 "<|im_start|>assistant\n";
static const char LLAMA3_BYTES[] = "<|start_header_id|>user<|end_header_id|>\n\n"
                                   "What is 2+2?<|eot_id|>"
                                   "<|start_header_id|>assistant<|end_header_id|>\n\n";

static int make(const char *out, const char *tmpl_file, char **tmpl_text)
{
    const char *root = getenv("SLM_ROOT");
    char train[512], path[512], err[SLM_ERRLEN] = "";
    snprintf(train, sizeof train, "%s/tests/fixtures/llamacpp/train.csv", root ? root : ".");
    char *tmpl = NULL;
    size_t len;
    if (tmpl_file) {
        snprintf(path, sizeof path, "%s/tests/fixtures/chat/%s", root ? root : ".", tmpl_file);
        if (slm_read_file(path, &tmpl, &len, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
    }
    slm_factory_opts o;
    slm_factory_defaults(&o);
    o.train_path = train;
    o.out_path = out;
    o.vocab_words = 32;
    o.n_ctx = 4096;
    o.chat_template = tmpl_file ? tmpl : "";
    int rc = slm_model_make(&o, NULL, err, sizeof err);
    if (rc)
        fprintf(stderr, "slm_model_make: %s\n", err);
    if (tmpl_text)
        *tmpl_text = tmpl;
    else
        free(tmpl);
    return rc;
}

static int group_setup(void **state)
{
    (void)state;
    fx.vt = test_load_llamacpp(&fx.so);
    char err[SLM_ERRLEN];
    if (!fx.vt || fx.vt->init(err, sizeof err))
        return -1;
    snprintf(fx.dir, sizeof fx.dir, "/tmp/slm-chat-XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.qwen, sizeof fx.qwen, "%s/qwen3.gguf", fx.dir);
    snprintf(fx.llama3, sizeof fx.llama3, "%s/llama3.gguf", fx.dir);
    snprintf(fx.garbage, sizeof fx.garbage, "%s/garbage.gguf", fx.dir);
    snprintf(fx.none, sizeof fx.none, "%s/none.gguf", fx.dir);
    if (make(fx.qwen, "qwen3.jinja", &fx.qwen_tmpl) || make(fx.llama3, "llama3.jinja", NULL) ||
        make(fx.garbage, "garbage.jinja", NULL) || make(fx.none, NULL, NULL))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (fx.vt && fx.vt->shutdown)
        fx.vt->shutdown();
    if (fx.so)
        dlclose(fx.so);
    const char *files[] = {fx.qwen, fx.llama3, fx.garbage, fx.none};
    for (size_t i = 0; i < N(files); i++)
        unlink(files[i]);
    rmdir(fx.dir);
    free(fx.qwen_tmpl);
    return 0;
}

static int try_open(const char *model, const char *n_ctx, const char *ngl, slm_engine **e,
                    char *err, size_t errlen)
{
    slm_option items[4] = {{"model", model}, {"threads", "1"}};
    size_t n = 2;
    if (n_ctx)
        items[n++] = (slm_option){"n_ctx", n_ctx};
    if (ngl)
        items[n++] = (slm_option){"n_gpu_layers", ngl};
    slm_options opts = {items, n};
    return fx.vt->open(&opts, e, err, errlen);
}

static slm_engine *open_model(const char *model, const char *n_ctx)
{
    slm_engine *e = NULL;
    char err[SLM_ERRLEN] = "";
    if (try_open(model, n_ctx, NULL, &e, err, sizeof err))
        fail_msg("open %s: %s", model, err);
    return e;
}

static slm_model_info facts(slm_engine *e)
{
    slm_model_info m;
    char err[SLM_ERRLEN] = "";
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    if (fx.vt->info(e, &m, err, sizeof err))
        fail_msg("info: %s", err);
    return m;
}

static int render(slm_engine *e, const char *prompt, int chat, slm_text_result **r, char *err,
                  size_t errlen)
{
    slm_request req = {.struct_size = sizeof req, .id = "probe", .prompt = prompt,
                       .prompt_len = strlen(prompt), .chat_template = chat};
    return fx.vt->render(e, &req, r, err, errlen);
}

static void pin(const char *model, const char *name, const char *want)
{
    slm_engine *e = open_model(model, NULL);
    slm_model_info m = facts(e);
    assert_string_equal(m.chat_template, name);
    assert_true(m.caps & SLM_CAP_CHAT_TEMPLATE);
    assert_int_equal(strlen(m.chat_template_text_sha256), 64);

    slm_text_result *r = NULL;
    char err[SLM_ERRLEN] = "";
    if (render(e, "What is 2+2?", 1, &r, err, sizeof err))
        fail_msg("render: %s", err);
    assert_int_equal(r->kind, SLM_RESULT_TEXT);
    assert_int_equal(r->len, strlen(want));
    assert_memory_equal(r->text, want, r->len);
    assert_true(r->flags & SLM_TOKENIZE_PARSE_SPECIAL);
    assert_true(r->n_tokens > 5);
    int chat_tokens = r->n_tokens;
    fx.vt->result_free(r);

    /* Raw: the prompt as it is, fewer tokens, no special tokens parsed. */
    if (render(e, "What is 2+2?", 0, &r, err, sizeof err))
        fail_msg("render raw: %s", err);
    assert_string_equal(r->text, "What is 2+2?");
    assert_false(r->flags & SLM_TOKENIZE_PARSE_SPECIAL);
    assert_true(r->n_tokens < chat_tokens);
    fx.vt->result_free(r);
    fx.vt->close(e);
}

static void qwen3_renders_chatml(void **state)
{
    (void)state;
    pin(fx.qwen, "chatml", QWEN_BYTES);
    /* The recorded hash is the template text's. */
    char want[65];
    slm_sha256_hex(fx.qwen_tmpl, strlen(fx.qwen_tmpl), want);
    slm_engine *e = open_model(fx.qwen, NULL);
    slm_model_info m = facts(e);
    assert_string_equal(m.chat_template_text_sha256, want);
    fx.vt->close(e);
}

static void llama3_renders_headers(void **state)
{
    (void)state;
    pin(fx.llama3, "llama3", LLAMA3_BYTES);
}

/* The rendered text is what score() evaluates: its prompt token count is render()'s. */
static void render_is_what_score_sees(void **state)
{
    (void)state;
    slm_engine *e = open_model(fx.llama3, NULL);
    const char *choices[] = {" billing"};
    slm_request req = {.struct_size = sizeof req, .id = "x", .prompt = "my invoice",
                       .prompt_len = 10, .chat_template = 1};
    slm_score_result *s = NULL;
    slm_text_result *r = NULL;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->score(e, &req, choices, 1, &s, err, sizeof err) ||
        fx.vt->render(e, &req, &r, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(s->n_prompt_tokens, r->n_tokens);
    fx.vt->result_free(s);
    fx.vt->result_free(r);
    fx.vt->close(e);
}

static void unusable_template_refused(void **state)
{
    (void)state;
    slm_engine *e = open_model(fx.garbage, NULL);
    slm_model_info m = facts(e);
    assert_string_equal(m.chat_template, "");
    assert_false(m.caps & SLM_CAP_CHAT_TEMPLATE);
    assert_int_equal(strlen(m.chat_template_text_sha256), 64); /* it has one, unusable */
    slm_text_result *r = NULL;
    char err[SLM_ERRLEN] = "";
    assert_int_equal(render(e, "hello", 1, &r, err, sizeof err), -1);
    assert_null(r);
    assert_non_null(strstr(err, "none of the formats llama.cpp can apply"));
    /* Raw prompts still work. */
    assert_int_equal(render(e, "hello", 0, &r, err, sizeof err), 0);
    fx.vt->result_free(r);
    fx.vt->close(e);

    e = open_model(fx.none, NULL);
    m = facts(e);
    assert_string_equal(m.chat_template_text_sha256, "");
    assert_int_equal(render(e, "hello", 1, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "has no chat template"));
    fx.vt->close(e);
}

/*
 * KV bytes against a hand count: the demo model has n_layer 1, n_head_kv = n_head and
 * head width n_embd / n_head, so K and V take n_embd F16 values per cell each. The
 * engine's context has max(n_ctx, n_parallel 8 × 256) cells.
 */
static void kv_bytes_counted(void **state)
{
    (void)state;
    slm_engine *e = open_model(fx.qwen, "3000");
    slm_model_info m = facts(e);
    assert_int_equal(m.n_ctx, 3072); /* llama.cpp rounds cells up to a multiple of 256 */
    assert_int_equal(m.n_layer, 1);
    uint64_t want = (uint64_t)m.n_layer * 3072u * (uint64_t)m.n_embd * 2u * 2u;
    assert_int_equal(m.kv_bytes, want);
    fx.vt->close(e);

    e = open_model(fx.qwen, "256");
    m = facts(e);
    assert_int_equal(m.kv_bytes, (uint64_t)m.n_layer * 2048u * (uint64_t)m.n_embd * 4u);
    fx.vt->close(e);
}

/* This machine has no GPU backend: the default is 0 layers on the CPU; asking for layers
 * is refused, as is a value that is not a layer count. */
static void gpu_layers_option(void **state)
{
    (void)state;
    slm_engine *e = NULL;
    char err[SLM_ERRLEN] = "";
    assert_int_equal(try_open(fx.qwen, NULL, "0", &e, err, sizeof err), 0);
    slm_model_info m = facts(e);
    assert_int_equal(m.n_gpu_layers, 0);
    assert_string_equal(m.device, "CPU");
    fx.vt->close(e);

    e = open_model(fx.qwen, NULL);
    m = facts(e);
    if (m.n_gpu_layers > 0) { /* a GPU backend loaded after all */
        assert_string_not_equal(m.device, "CPU");
        fx.vt->close(e);
        skip();
    }
    assert_string_equal(m.device, "CPU");
    fx.vt->close(e);

    e = NULL;
    assert_int_equal(try_open(fx.qwen, NULL, "-1", &e, err, sizeof err), -1);
    assert_non_null(strstr(err, "no GPU backend is loaded"));
    assert_null(e);
    const char *bad[] = {"all", "-2", "1.5", ""};
    for (size_t i = 0; i < N(bad); i++) {
        assert_int_equal(try_open(fx.qwen, NULL, bad[i], &e, err, sizeof err), -1);
        assert_non_null(strstr(err, "option 'n_gpu_layers'"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qwen3_renders_chatml),
        cmocka_unit_test(llama3_renders_headers),
        cmocka_unit_test(render_is_what_score_sees),
        cmocka_unit_test(unusable_template_refused),
        cmocka_unit_test(kv_bytes_counted),
        cmocka_unit_test(gpu_layers_option),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
