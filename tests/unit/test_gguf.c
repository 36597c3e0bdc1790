/*
 * test_gguf.c — the GGUF writer and reader (round trip, hostile files) and the demo model
 * factory (shapes and keys of a tiny model).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gguf.h"
#include "modelfactory.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/slm_test_gguf.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char *cmd = slm_xasprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static char *tmp_path(const char *name)
{
    return slm_xasprintf("%s/%s", tmpdir, name);
}

static float *floats(size_t n, float start)
{
    float *p = slm_xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = start + (float)i * 0.5f;
    return p;
}

/* Writes a small valid file with every kind of value; returns its path (caller frees). */
static char *write_sample(void)
{
    char err[SLM_ERRLEN];
    slm_gguf_writer *w = slm_gguf_writer_new();
    slm_gguf_set_str(w, "general.architecture", "llama");
    slm_gguf_set_str(w, "general.name", "sample");
    slm_gguf_set_u32(w, "general.file_type", 1);
    slm_gguf_set_u32(w, "llama.context_length", 512);
    slm_gguf_set_u64(w, "llama.embedding_length", 64);
    slm_gguf_set_i32(w, "llama.block_count", 2);
    slm_gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    slm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", 1);
    const char *toks[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81hi"};
    float scores[] = {0, 0, 0, -1};
    int32_t types[] = {2, 3, 3, 1};
    slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, 4);
    slm_gguf_set_arr_f32(w, "tokenizer.ggml.scores", scores, 4);
    slm_gguf_set_arr_i32(w, "tokenizer.ggml.token_type", types, 4);
    slm_gguf_set_str(w, "tokenizer.chat_template", "{{ x }}");
    uint64_t ne1[2] = {64, 3}, ne2[1] = {64};
    assert_int_equal(slm_gguf_add_tensor(w, "blk.0.attn_q.weight", SLM_GGUF_TYPE_F16, 2, ne1,
                                         floats(64 * 3, -4), err, sizeof err), 0);
    assert_int_equal(slm_gguf_add_tensor(w, "output_norm.weight", SLM_GGUF_TYPE_F32, 1, ne2,
                                         floats(64, 1), err, sizeof err), 0);
    /* A duplicate name is refused (and its data freed). */
    assert_int_equal(slm_gguf_add_tensor(w, "output_norm.weight", SLM_GGUF_TYPE_F32, 1, ne2,
                                         floats(64, 1), err, sizeof err), -1);
    assert_non_null(strstr(err, "added twice"));
    char *path = tmp_path("sample.gguf");
    assert_int_equal(slm_gguf_writer_write(w, path, err, sizeof err), 0);
    slm_gguf_writer_free(w);
    return path;
}

static void test_round_trip(void **state)
{
    char *path = write_sample();
    slm_gguf_info gi;
    char err[SLM_ERRLEN];
    assert_int_equal(slm_gguf_inspect(path, &gi, err, sizeof err), 0);
    assert_int_equal(gi.version, 3);
    assert_string_equal(gi.architecture, "llama");
    assert_string_equal(gi.name, "sample");
    assert_int_equal(gi.file_type, 1);
    assert_string_equal(gi.quant, "F16");
    assert_int_equal(gi.n_tensors, 2);
    assert_int_equal(gi.n_kv, 12);
    assert_int_equal(gi.n_params, 64 * 3 + 64);
    assert_int_equal(gi.context_length, 512);
    assert_int_equal(gi.embedding_length, 64);
    assert_int_equal(gi.block_count, 2);
    assert_int_equal(gi.n_vocab, 4);
    assert_int_equal(gi.has_chat_template, 1);
    assert_int_equal(gi.data_offset % 32, 0);
    /* f16 data (384 bytes) padded to 32, then 256 bytes of f32. */
    assert_int_equal(gi.data_size, 384 + 256);
    assert_int_equal(gi.file_size, gi.data_offset + gi.data_size);
    /* The f16 conversion: -4 + 0.5 i is exact in f16; check one value in the file. */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char h[2];
    assert_int_equal(fseek(f, (long)gi.data_offset + 2 * 10, SEEK_SET), 0);
    assert_int_equal(fread(h, 1, 2, f), 2);
    fclose(f);
    assert_int_equal(h[0] | h[1] << 8, 0x3c00); /* element 10: -4 + 5 = 1.0 */
    free(path);
}

static void test_type_tables(void **state)
{
    uint32_t be, bb;
    slm_gguf_type_layout(SLM_GGUF_TYPE_Q8_0, &be, &bb);
    assert_int_equal(be, 32);
    assert_int_equal(bb, 34);
    slm_gguf_type_layout(SLM_GGUF_TYPE_Q4_K, &be, &bb);
    assert_int_equal(be, 256);
    assert_int_equal(bb, 144);
    slm_gguf_type_layout(SLM_GGUF_TYPE_Q6_K, &be, &bb);
    assert_int_equal(bb, 210);
    slm_gguf_type_layout(4, &be, &bb); /* removed type */
    assert_int_equal(be, 0);
    assert_string_equal(slm_gguf_ftype_name(15), "Q4_K_M");
    assert_string_equal(slm_gguf_ftype_name(7), "Q8_0");
    assert_string_equal(slm_gguf_ftype_name(14), "Q4_K_S");
    assert_null(slm_gguf_ftype_name(5));
    assert_null(slm_gguf_ftype_name(-1));
    assert_null(slm_gguf_ftype_name(100000));
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void expect_reject(const char *path, const char *needle)
{
    slm_gguf_info gi;
    char err[SLM_ERRLEN] = "";
    assert_int_equal(slm_gguf_inspect(path, &gi, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("message '%s' lacks '%s'", err, needle);
    assert_non_null(strstr(err, path));
}

static void test_bad_files(void **state)
{
    char *path = tmp_path("bad.gguf");
    write_bytes(path, "NOPE\3\0\0\0", 8);
    expect_reject(path, "not a GGUF file (bad magic)");
    write_bytes(path, "", 0);
    expect_reject(path, "not a GGUF file (bad magic)");
    unsigned char hdr[24] = {'G', 'G', 'U', 'F', 9, 0, 0, 0};
    write_bytes(path, hdr, sizeof hdr);
    expect_reject(path, "unsupported GGUF version 9");
    /* Absurd counts: 2^60 key/values in a 24-byte file. */
    memset(hdr + 4, 0, 20);
    hdr[4] = 3;
    hdr[12 + 7] = 0x10;
    write_bytes(path, hdr, sizeof hdr);
    expect_reject(path, "metadata count");
    memset(hdr + 12, 0, 12);
    hdr[4 + 4 + 7] = 0x10;
    write_bytes(path, hdr, sizeof hdr);
    expect_reject(path, "tensor count");
    /* One key whose length runs past the end. */
    unsigned char k[40] = {'G', 'G', 'U', 'F', 3};
    k[16] = 1;                       /* n_kv = 1 */
    k[24] = 0xff; k[25] = 0xff; k[31] = 0x7f; /* key length */
    write_bytes(path, k, sizeof k);
    expect_reject(path, "runs past the end of the file");
    /* A header cut short. */
    write_bytes(path, "GGUF\3\0\0", 7);
    expect_reject(path, "truncated");
    free(path);
}

static void test_truncated(void **state)
{
    char *path = write_sample();
    slm_gguf_info gi;
    char err[SLM_ERRLEN];
    assert_int_equal(slm_gguf_inspect(path, &gi, err, sizeof err), 0);
    off_t data_offset = (off_t)gi.data_offset;
    assert_int_equal(truncate(path, (off_t)gi.file_size - 10), 0);
    expect_reject(path, "truncated: tensor 'output_norm.weight' needs bytes up to");
    assert_int_equal(slm_gguf_inspect(path, &gi, err, sizeof err), -1);
    assert_non_null(strstr(err, "but the file has"));
    /* Cut inside the tensor table: still a clean message. */
    assert_int_equal(truncate(path, data_offset - 40), 0);
    expect_reject(path, "truncated");
    free(path);
}

static char *fixture(const char *name)
{
    const char *root = getenv("SLM_ROOT");
    return slm_xasprintf("%s/tests/fixtures/%s", root ? root : ".", name);
}

static void test_factory_tiny(void **state)
{
    slm_factory_opts o;
    slm_factory_defaults(&o);
    char *train = fixture("tiny_train.csv");
    char *out = tmp_path("tiny.gguf");
    o.train_path = train;
    o.out_path = out;
    o.name = "tiny";
    o.vocab_words = 50;
    o.n_layers = 2;
    o.prompt_template = "Classify: {{labels}}.\n\nTicket: {{text}}\nCategory:";
    slm_factory_report rep;
    char err[SLM_ERRLEN];
    if (slm_model_make(&o, &rep, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(rep.train_rows, 18);
    assert_int_equal(rep.n_labels, 3);
    assert_string_equal(rep.labels[0], "account");
    assert_string_equal(rep.labels[2], "shipping");
    assert_int_equal(rep.n_words, 50);
    /* One 256-block for bias, words and specials, one for the label dimensions. */
    assert_int_equal(rep.n_embd, 512);
    assert_int_equal(rep.n_ff, 256);
    assert_true(rep.n_template_tokens > 3);
    assert_true(rep.train_accuracy > 0.9);
    slm_gguf_info gi;
    assert_int_equal(slm_gguf_inspect(out, &gi, err, sizeof err), 0);
    assert_string_equal(gi.architecture, "llama");
    assert_string_equal(gi.name, "tiny");
    assert_string_equal(gi.quant, "F16");
    assert_int_equal(gi.n_tensors, 3 + 9 * 2);
    assert_int_equal(gi.embedding_length, 512);
    assert_int_equal(gi.block_count, 2);
    assert_int_equal(gi.context_length, 2048);
    assert_int_equal(gi.n_vocab, rep.n_tokens);
    assert_int_equal(gi.n_params, rep.n_params);
    assert_int_equal(gi.file_size, rep.file_size);
    assert_int_equal(gi.has_chat_template, 1);
    slm_factory_report_free(&rep);
    slm_factory_report_free(NULL);

    /* Bad inputs leave no file behind. */
    char *out2 = tmp_path("notmade.gguf");
    o.out_path = out2;
    const char *labels[] = {"billing", "ship ping"};
    o.labels = labels;
    o.n_labels = 2;
    assert_int_equal(slm_model_make(&o, &rep, err, sizeof err), -1);
    assert_non_null(strstr(err, "whitespace"));
    labels[1] = "shipping";
    assert_int_equal(slm_model_make(&o, &rep, err, sizeof err), -1);
    assert_non_null(strstr(err, "'account' is not in the label set"));
    assert_int_equal(access(out2, F_OK), -1);
    o.labels = NULL;
    o.train_path = "/nonexistent/train.csv";
    assert_int_equal(slm_model_make(&o, &rep, err, sizeof err), -1);
    o.train_path = train;
    o.temperature = 0;
    assert_int_equal(slm_model_make(&o, &rep, err, sizeof err), -1);
    assert_non_null(strstr(err, "temperature"));
    free(out2);
    free(out);
    free(train);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_type_tables),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_factory_tiny),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
