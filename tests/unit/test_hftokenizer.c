/*
 * test_hftokenizer.c — converting Hugging Face tokenizer.json files (hand-written
 * fixtures in tests/fixtures/hftokenizer/) into GGUF vocabularies: the good ones field by
 * field, the bad ones by the message they must give (one table; add a file and a row).
 * That llama.cpp tokenizes the result as the reference does is tests/cli/test_tokenizers.sh.
 *
 * Environment: SLM_ROOT (default: the current folder) is the source tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gguf.h"
#include "hftokenizer.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fixtures[1024];
static char tmpdir[256];

static int setup(void **state)
{
    const char *root = getenv("SLM_ROOT");
    snprintf(fixtures, sizeof fixtures, "%s/tests/fixtures/hftokenizer", root ? root : ".");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/slm_test_hftok.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char *cmd = slm_xasprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static slm_hf_vocab *load_ok(const char *rel)
{
    char *path = slm_xasprintf("%s/%s", fixtures, rel);
    char err[SLM_ERRLEN] = "";
    slm_hf_vocab *v = NULL;
    int rc = slm_hf_vocab_load(path, &v, err, sizeof err);
    free(path);
    if (rc)
        fail_msg("%s: %s", rel, err);
    return v;
}

static void test_qwen_like(void **state)
{
    slm_hf_vocab *v = load_ok("bpe_qwen/tokenizer.json");
    assert_string_equal(v->family, "bpe_qwen");
    assert_string_equal(v->model, "gpt2");
    assert_string_equal(v->pre, "qwen2");
    assert_int_equal(v->n, 23);
    assert_string_equal(v->tokens[11], "hello");
    assert_string_equal(v->tokens[16], "Ġworld");
    assert_int_equal(v->types[11], SLM_TOKEN_NORMAL);
    /* no token has id 18: padded like llama.cpp's converter does */
    assert_string_equal(v->tokens[18], "[PAD18]");
    assert_int_equal(v->types[18], SLM_TOKEN_UNUSED);
    assert_int_equal(v->types[19], SLM_TOKEN_CONTROL);      /* special: true */
    assert_int_equal(v->types[21], SLM_TOKEN_CONTROL);      /* <|fim_prefix|> looks special */
    assert_int_equal(v->types[22], SLM_TOKEN_USER_DEFINED); /* <think>, special: false */
    assert_null(v->scores);
    assert_int_equal(v->n_merges, 9);
    assert_string_equal(v->merges[0], "h e");     /* from ["h", "e"] */
    assert_string_equal(v->merges[8], "Ġworl d");
    assert_int_equal(v->bos, -1);
    assert_int_equal(v->eos, 20);
    assert_int_equal(v->eot, 20);
    assert_int_equal(v->pad, 19);
    assert_int_equal(v->unk, -1);
    assert_int_equal(v->add_bos, 0);
    assert_int_equal(v->add_eos, 0);
    assert_non_null(v->chat_template);
    assert_non_null(strstr(v->chat_template, "<|im_start|>"));
    assert_int_equal(strlen(v->sha256), 64);
    slm_hf_vocab_free(v);
}

static void test_llama_like(void **state)
{
    slm_hf_vocab *v = load_ok("bpe_llama/tokenizer.json");
    assert_string_equal(v->pre, "llama-bpe");
    assert_int_equal(v->n, 21);
    assert_string_equal(v->merges[2], "he ll"); /* from "he ll" */
    assert_int_equal(v->bos, 18);               /* bos_token as an AddedToken object */
    assert_int_equal(v->eos, 19);
    assert_int_equal(v->eot, 20);               /* <|eot_id|> */
    /* no add_bos_token, no template post-processor: llama.cpp's default for llama-bpe */
    assert_int_equal(v->add_bos, 1);
    assert_null(v->chat_template);
    slm_hf_vocab_free(v);
}

static void test_gpt2_like(void **state)
{
    slm_hf_vocab *v = load_ok("bpe_gpt2/tokenizer.json");
    assert_string_equal(v->pre, "gpt-2"); /* ByteLevel with its own regex, no Split */
    assert_int_equal(v->bos, -1);         /* no tokenizer_config.json beside it */
    assert_int_equal(v->eos, -1);
    assert_int_equal(v->add_bos, 0);
    slm_hf_vocab_free(v);
}

/* A name is a folder of the tokenizers dir; SLM_TOKENIZERS_DIR says which. */
static void test_known_names(void **state)
{
    setenv("SLM_TOKENIZERS_DIR", fixtures, 1);
    char err[SLM_ERRLEN] = "";
    slm_hf_vocab *v = NULL;
    assert_int_equal(slm_hf_vocab_load("bpe_llama", &v, err, sizeof err), 0);
    assert_string_equal(v->family, "bpe_llama");
    assert_int_equal(v->bos, 18);
    slm_hf_vocab_free(v);
    assert_int_equal(slm_hf_vocab_load("nosuch", &v, err, sizeof err), -1);
    assert_null(v);
    assert_non_null(strstr(err, "unknown tokenizer 'nosuch'"));
    setenv("SLM_TOKENIZERS_DIR", "/nonexistent/slm", 1);
    assert_int_equal(slm_hf_vocab_load("qwen3", &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "SLM_TOKENIZERS_DIR"));
    unsetenv("SLM_TOKENIZERS_DIR");
    slm_hf_vocab_free(NULL); /* NULL-safe */
}

/* Every bad file and the words its message must hold (besides the file's path). */
static const struct {
    const char *file;
    const char *msg;
} bad[] = {
    {"not_json.json", "not JSON"},
    {"no_model.json", "no \"model\" object"},
    {"wordpiece.json", "WordPiece tokenizers are not converted yet"},
    {"unigram.json", "Unigram tokenizers are not converted yet"},
    {"wordlevel.json", "WordLevel tokenizers are not converted yet"},
    {"other_type.json", "model type 'Magic' is not BPE, Unigram or WordPiece"},
    {"no_merges.json", "BPE model without merges"},
    {"empty_merges.json", "BPE model without merges"},
    {"bad_merge.json", "merge 9 is neither"},
    {"byte_fallback.json", "byte fallback) is not converted yet"},
    {"unknown_regex.json", "pre-tokenizer regex not known to llama.cpp: '\\p{L}+|\\s+'"},
    {"no_bytelevel.json", "without a byte-level pre-tokenizer"},
    {"dup_id.json", "vocabulary id 3 is used twice"},
    {"neg_id.json", "has id -2, out of range"},
    {"huge_id.json", "has id 1073741824, out of range"},
    {"added_clash.json", "vocabulary id 4 is used twice ('Ġ', '<|x|>')"},
    {"missing.json", "cannot open"},
};

static void test_bad_files(void **state)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = slm_xasprintf("%s/bad/%s", fixtures, bad[i].file);
        char err[SLM_ERRLEN] = "";
        slm_hf_vocab *v = (slm_hf_vocab *)1;
        int rc = slm_hf_vocab_load(path, &v, err, sizeof err);
        if (rc != -1 || v != NULL)
            fail_msg("%s: loaded, expected '%s'", bad[i].file, bad[i].msg);
        if (!strstr(err, bad[i].msg) || !strstr(err, bad[i].file))
            fail_msg("%s: message '%s' lacks '%s' or the file's name", bad[i].file, err,
                     bad[i].msg);
        free(path);
    }
}

/* The vocabulary-only GGUF reads back with the vocabulary's size and the llama
 * architecture, and no tensors. */
static void test_write_gguf(void **state)
{
    slm_hf_vocab *v = load_ok("bpe_qwen/tokenizer.json");
    char *out = slm_xasprintf("%s/vocab.gguf", tmpdir);
    char err[SLM_ERRLEN] = "";
    assert_int_equal(slm_hf_vocab_write_gguf(v, out, err, sizeof err), 0);
    slm_gguf_info gi;
    if (slm_gguf_inspect(out, &gi, err, sizeof err))
        fail_msg("%s", err);
    assert_string_equal(gi.architecture, "llama");
    assert_string_equal(gi.name, "bpe_qwen");
    assert_int_equal(gi.n_vocab, 23);
    assert_int_equal(gi.n_tensors, 0);
    assert_int_equal(gi.has_chat_template, 1);
    /* a folder that does not exist: an error, nothing written */
    char *bad_out = slm_xasprintf("%s/no/such/dir/vocab.gguf", tmpdir);
    assert_int_equal(slm_hf_vocab_write_gguf(v, bad_out, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    free(bad_out);
    free(out);
    slm_hf_vocab_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qwen_like),  cmocka_unit_test(test_llama_like),
        cmocka_unit_test(test_gpt2_like),  cmocka_unit_test(test_known_names),
        cmocka_unit_test(test_bad_files),  cmocka_unit_test(test_write_gguf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
