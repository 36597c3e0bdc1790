/* hftokenizer.c — see hftokenizer.h. */
#include "hftokenizer.h"
#include "sha256.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Ids above this are refused as out of range (the largest real vocabularies hold about
 * 262k tokens); it keeps a hostile file from making us allocate gigabytes. */
#define MAX_VOCAB (1 << 22)

/*
 * Pre-tokenizer regexes llama.cpp implements, by its name for them (tokenizer.ggml.pre).
 * A tokenizer.json's Split regex must equal one of them exactly: llama.cpp does not run
 * the regex from the file but its own code for the named family, so a near miss would
 * tokenize differently without saying so.
 */
static const struct {
    const char *pre;
    const char *regex;
} known_pre[] = {
    {"qwen2", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
              "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    {"llama-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                  "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
};

/* Texts that mark the end of a chat turn, most specific first (llama.cpp looks for the
 * same ones when a GGUF names no eot token). */
static const char *const eot_texts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>"};

void slm_hf_vocab_free(slm_hf_vocab *v)
{
    if (!v)
        return;
    for (size_t i = 0; v->tokens && i < v->n; i++)
        free(v->tokens[i]);
    for (size_t i = 0; v->merges && i < v->n_merges; i++)
        free(v->merges[i]);
    free(v->tokens);
    free(v->types);
    free(v->scores);
    free(v->merges);
    free(v->chat_template);
    free(v->pre);
    free(v->model);
    free(v->path);
    free(v->family);
    free(v);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int slm_hf_tokenizers_dir(char *buf, size_t n, char *err, size_t errlen)
{
    const char *env = getenv("SLM_TOKENIZERS_DIR");
    if (env && *env) {
        if (!is_dir(env))
            return slm_err(err, errlen, "SLM_TOKENIZERS_DIR '%s' is not a folder", env);
        snprintf(buf, n, "%s", env);
        return 0;
    }
    const char *exe = slm_exe_dir();
    static const char *const rel[] = {"third_party/tokenizers", "../third_party/tokenizers",
                                      "../lib/slmbench/tokenizers"};
    for (size_t i = 0; exe[0] && i < sizeof rel / sizeof rel[0]; i++) {
        char *p = slm_xasprintf("%s/%s", exe, rel[i]);
        int found = is_dir(p);
        if (found)
            snprintf(buf, n, "%s", p);
        free(p);
        if (found)
            return 0;
    }
    return slm_err(err, errlen,
                   "no tokenizers folder (set SLM_TOKENIZERS_DIR, or run make, whose "
                   "scripts/install-deps.sh fetches them into build/third_party/tokenizers)");
}

/* The text of a special token in tokenizer_config.json: a string, or an object with
 * "content" (AddedToken); NULL when absent or null. */
static const char *config_token(json_t *cfg, const char *key)
{
    json_t *t = json_object_get(cfg, key);
    if (json_is_object(t))
        t = json_object_get(t, "content");
    return json_is_string(t) ? json_string_value(t) : NULL;
}

static int32_t find_token(const slm_hf_vocab *v, const char *text)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->types[i] != SLM_TOKEN_UNUSED && !strcmp(v->tokens[i], text))
            return (int32_t)i;
    return -1;
}

/* As llama.cpp's converter: added tokens not marked special that still look like control
 * tokens ("<|fim_prefix|>") are control tokens. */
static int looks_special(const char *t)
{
    size_t l = strlen(t);
    return l >= 4 && !strncmp(t, "<|", 2) && !strcmp(t + l - 2, "|>");
}

/* Collects every Split pre-tokenizer's regex under node (a pre-tokenizer or a Sequence of
 * them) into *rx (at most one is supported; more is reported by the caller), and whether
 * a ByteLevel step with its own (GPT-2) regex is there. */
static void scan_pre(json_t *node, const char **rx, int *n_rx, int *bytelevel_regex,
                     int *bytelevel)
{
    if (!json_is_object(node))
        return;
    const char *type = json_string_value(json_object_get(node, "type"));
    if (!type)
        return;
    if (!strcmp(type, "Sequence")) {
        json_t *a = json_object_get(node, "pretokenizers");
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x) scan_pre(x, rx, n_rx, bytelevel_regex, bytelevel);
    } else if (!strcmp(type, "Split")) {
        json_t *pat = json_object_get(node, "pattern");
        const char *r = json_string_value(json_object_get(pat, "Regex"));
        if (!r)
            r = json_string_value(json_object_get(pat, "String"));
        if (*n_rx == 0)
            *rx = r ? r : "";
        (*n_rx)++;
    } else if (!strcmp(type, "ByteLevel")) {
        *bytelevel = 1;
        json_t *ur = json_object_get(node, "use_regex");
        if (!ur || json_is_true(ur)) /* the library's default is true */
            *bytelevel_regex = 1;
    }
}

/* Picks tokenizer.ggml.pre from the pre-tokenizer; fills err naming path when unknown. */
static int pick_pre(slm_hf_vocab *v, json_t *root, const char *path, char *err, size_t errlen)
{
    const char *rx = NULL;
    int n_rx = 0, bl_regex = 0, bl = 0;
    scan_pre(json_object_get(root, "pre_tokenizer"), &rx, &n_rx, &bl_regex, &bl);
    if (!bl)
        return slm_err(err, errlen,
                       "%s: BPE without a byte-level pre-tokenizer is not converted yet", path);
    if (n_rx > 1)
        return slm_err(err, errlen, "%s: %d Split pre-tokenizers; llama.cpp's named "
                       "pre-tokenizers have one", path, n_rx);
    if (n_rx == 1) {
        if (bl_regex)
            return slm_err(err, errlen, "%s: a Split regex followed by a byte-level regex is "
                           "not a pre-tokenizer llama.cpp knows", path);
        for (size_t i = 0; i < sizeof known_pre / sizeof known_pre[0]; i++)
            if (!strcmp(rx, known_pre[i].regex)) {
                v->pre = slm_xstrdup(known_pre[i].pre);
                return 0;
            }
        return slm_err(err, errlen, "%s: pre-tokenizer regex not known to llama.cpp: '%.200s'",
                       path, rx);
    }
    if (bl_regex) {
        v->pre = slm_xstrdup("gpt-2");
        return 0;
    }
    return slm_err(err, errlen, "%s: byte-level BPE without a splitting regex is not a "
                   "pre-tokenizer llama.cpp knows", path);
}

/* Puts token text at id; a second, different text at the same id is an error. */
static int place(slm_hf_vocab *v, long long id, const char *text, int type, const char *path,
                 char *err, size_t errlen)
{
    if (id < 0 || id >= MAX_VOCAB || (size_t)id >= v->n)
        return slm_err(err, errlen, "%s: token '%.60s' has id %lld, out of range", path, text,
                       id);
    if (v->tokens[id]) {
        if (strcmp(v->tokens[id], text))
            return slm_err(err, errlen, "%s: vocabulary id %lld is used twice ('%.60s', '%.60s')",
                           path, id, v->tokens[id], text);
        v->types[id] = type; /* an added token repeating a vocabulary entry */
        return 0;
    }
    v->tokens[id] = slm_xstrdup(text);
    v->types[id] = type;
    return 0;
}

/* The BPE model's vocabulary, added tokens and merges into v. */
static int load_bpe(slm_hf_vocab *v, json_t *root, json_t *model, const char *path, char *err,
                    size_t errlen)
{
    json_t *vocab = json_object_get(model, "vocab");
    json_t *added = json_object_get(root, "added_tokens");
    json_t *merges = json_object_get(model, "merges");
    if (!json_is_object(vocab) || json_object_size(vocab) == 0)
        return slm_err(err, errlen, "%s: BPE model without a vocabulary", path);
    if (!json_is_array(merges) || json_array_size(merges) == 0)
        return slm_err(err, errlen, "%s: BPE model without merges", path);
    if (json_is_true(json_object_get(model, "byte_fallback")))
        return slm_err(err, errlen, "%s: SentencePiece-style BPE (byte fallback) is not "
                       "converted yet", path);

    /* Size: one past the largest id anywhere. */
    long long max_id = -1;
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        if (!json_is_integer(val))
            return slm_err(err, errlen, "%s: vocabulary entry '%.60s' has no integer id", path,
                           key);
        long long id = json_integer_value(val);
        if (id < 0 || id >= MAX_VOCAB)
            return slm_err(err, errlen, "%s: token '%.60s' has id %lld, out of range", path, key,
                           id);
        if (id > max_id)
            max_id = id;
    }
    size_t i;
    json_array_foreach(added, i, val) {
        json_t *id = json_object_get(val, "id");
        if (!json_is_integer(id) || !json_is_string(json_object_get(val, "content")))
            return slm_err(err, errlen, "%s: added token %zu lacks an integer id or content",
                           path, i);
        long long n = json_integer_value(id);
        if (n < 0 || n >= MAX_VOCAB)
            return slm_err(err, errlen, "%s: added token '%.60s' has id %lld, out of range",
                           path, json_string_value(json_object_get(val, "content")), n);
        if (n > max_id)
            max_id = n;
    }
    v->n = (size_t)max_id + 1;
    v->tokens = slm_xcalloc(v->n, sizeof *v->tokens);
    v->types = slm_xcalloc(v->n, sizeof *v->types);

    json_object_foreach(vocab, key, val) {
        if (place(v, json_integer_value(val), key, SLM_TOKEN_NORMAL, path, err, errlen))
            return -1;
    }
    json_array_foreach(added, i, val) {
        const char *text = json_string_value(json_object_get(val, "content"));
        int special = json_is_true(json_object_get(val, "special")) || looks_special(text);
        if (place(v, json_integer_value(json_object_get(val, "id")), text,
                  special ? SLM_TOKEN_CONTROL : SLM_TOKEN_USER_DEFINED, path, err, errlen))
            return -1;
    }
    for (size_t k = 0; k < v->n; k++)
        if (!v->tokens[k]) {
            v->tokens[k] = slm_xasprintf("[PAD%zu]", k);
            v->types[k] = SLM_TOKEN_UNUSED;
        }

    /* Merges: "a b" strings (older files) or ["a", "b"] pairs (newer ones, which allow
     * spaces inside a part; GGUF keeps the joined form either way). */
    v->merges = slm_xcalloc(json_array_size(merges), sizeof *v->merges);
    json_array_foreach(merges, i, val) {
        if (json_is_string(val) && strchr(json_string_value(val), ' ')) {
            v->merges[i] = slm_xstrdup(json_string_value(val));
        } else if (json_is_array(val) && json_array_size(val) == 2 &&
                   json_is_string(json_array_get(val, 0)) &&
                   json_is_string(json_array_get(val, 1))) {
            v->merges[i] = slm_xasprintf("%s %s", json_string_value(json_array_get(val, 0)),
                                         json_string_value(json_array_get(val, 1)));
        } else {
            v->n_merges = i;
            return slm_err(err, errlen, "%s: merge %zu is neither \"a b\" nor [\"a\", \"b\"]",
                           path, i);
        }
        v->n_merges = i + 1;
    }
    v->model = slm_xstrdup("gpt2");
    return pick_pre(v, root, path, err, errlen);
}

/* Whether the post-processor's template for one sequence starts (where = 0) or ends
 * (where = 1) with a special token: that is what "adds BOS / EOS" means in tokenizer.json. */
static int template_adds(json_t *post, int where)
{
    if (!json_is_object(post))
        return -1;
    const char *type = json_string_value(json_object_get(post, "type"));
    if (type && !strcmp(type, "Sequence")) {
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(post, "processors"), i, x) {
            int r = template_adds(x, where);
            if (r >= 0)
                return r;
        }
        return -1;
    }
    if (!type || strcmp(type, "TemplateProcessing"))
        return -1;
    json_t *single = json_object_get(post, "single");
    size_t n = json_array_size(single);
    if (n == 0)
        return 0;
    json_t *piece = json_array_get(single, where ? n - 1 : 0);
    return json_object_get(piece, "SpecialToken") != NULL;
}

/* Special tokens and flags from tokenizer_config.json (cfg may be NULL) and the
 * tokenizer's post-processor. */
static int load_specials(slm_hf_vocab *v, json_t *root, json_t *cfg, const char *cfg_path,
                         char *err, size_t errlen)
{
    static const char *const keys[] = {"bos_token", "eos_token", "pad_token", "unk_token"};
    int32_t *slots[] = {&v->bos, &v->eos, &v->pad, &v->unk};
    for (size_t k = 0; k < 4; k++) {
        const char *text = config_token(cfg, keys[k]);
        if (!text)
            continue;
        *slots[k] = find_token(v, text);
        if (*slots[k] < 0)
            return slm_err(err, errlen, "%s: %s '%.60s' is not in the vocabulary", cfg_path,
                           keys[k], text);
    }
    for (size_t k = 0; k < sizeof eot_texts / sizeof eot_texts[0] && v->eot < 0; k++)
        v->eot = find_token(v, eot_texts[k]);

    /* add_bos: the config's flag; else whether the post-processor's template adds a
     * special token first; else llama.cpp's own default for the pre-tokenizer (Llama 3
     * adds BOS, the others do not). */
    json_t *post = json_object_get(root, "post_processor");
    json_t *ab = json_object_get(cfg, "add_bos_token");
    int t = template_adds(post, 0);
    v->add_bos = json_is_boolean(ab) ? json_is_true(ab)
                 : t >= 0           ? t
                                    : !strcmp(v->pre, "llama-bpe");
    json_t *ae = json_object_get(cfg, "add_eos_token");
    t = template_adds(post, 1);
    v->add_eos = json_is_boolean(ae) ? json_is_true(ae) : t > 0;
    if (v->add_bos && v->bos < 0)
        return slm_err(err, errlen, "%s: the tokenizer adds BOS but names no bos_token",
                       cfg_path);

    json_t *ct = json_object_get(cfg, "chat_template");
    if (json_is_string(ct)) {
        v->chat_template = slm_xstrdup(json_string_value(ct));
    } else if (json_is_array(ct)) { /* [{"name": ..., "template": ...}]: the default one */
        size_t i;
        json_t *x;
        json_array_foreach(ct, i, x) {
            const char *name = json_string_value(json_object_get(x, "name"));
            const char *tmpl = json_string_value(json_object_get(x, "template"));
            if (tmpl && (!v->chat_template || (name && !strcmp(name, "default")))) {
                free(v->chat_template);
                v->chat_template = slm_xstrdup(tmpl);
            }
        }
    }
    return 0;
}

/* Resolves spec into the tokenizer.json path (caller frees) and the family name. */
static int resolve(const char *spec, char **path, char **family, char *err, size_t errlen)
{
    size_t l = strlen(spec);
    if (strchr(spec, '/') || (l > 5 && !strcmp(spec + l - 5, ".json"))) {
        /* the family is the name of the folder the file is in ("./tokenizer.json" too) */
        *path = slm_xstrdup(spec);
        char *real = realpath(spec, NULL);
        char *dir = real ? real : slm_xstrdup(spec);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        const char *base = slash ? strrchr(dir, '/') : NULL;
        const char *name = !slash ? "" : base ? base + 1 : dir;
        *family = slm_xstrdup(*name ? name : "tokenizer");
        free(dir);
        return 0;
    }
    if (!l || strchr(spec, '.'))
        return slm_err(err, errlen, "'%s' is neither a known tokenizer name nor a path", spec);
    char dir[4096];
    if (slm_hf_tokenizers_dir(dir, sizeof dir, err, errlen))
        return -1;
    *path = slm_xasprintf("%s/%s/tokenizer.json", dir, spec);
    struct stat st;
    if (stat(*path, &st) != 0) {
        free(*path);
        *path = NULL;
        return slm_err(err, errlen, "unknown tokenizer '%s': no %s/%s/tokenizer.json", spec, dir,
                       spec);
    }
    *family = slm_xstrdup(spec);
    return 0;
}

int slm_hf_vocab_load(const char *spec, slm_hf_vocab **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!spec)
        return slm_err(err, errlen, "no tokenizer given");
    slm_hf_vocab *v = slm_xcalloc(1, sizeof *v);
    v->bos = v->eos = v->eot = v->pad = v->unk = -1;
    json_t *root = NULL, *cfg = NULL;
    char *cfg_path = NULL;
    if (resolve(spec, &v->path, &v->family, err, errlen))
        goto fail;
    if (slm_sha256_file(v->path, v->sha256, err, errlen))
        goto fail;
    json_error_t je;
    root = json_load_file(v->path, 0, &je);
    if (!root) {
        slm_err(err, errlen, "%s: not JSON: %s (line %d)", v->path, je.text, je.line);
        goto fail;
    }
    json_t *model = json_object_get(root, "model");
    if (!json_is_object(model)) {
        slm_err(err, errlen, "%s: not a tokenizer.json (no \"model\" object)", v->path);
        goto fail;
    }
    const char *type = json_string_value(json_object_get(model, "type"));
    if (!type && json_object_get(model, "merges")) /* old files omit the type of BPE */
        type = "BPE";
    if (!type) {
        slm_err(err, errlen, "%s: the model has no type", v->path);
        goto fail;
    }
    if (!strcmp(type, "WordPiece") || !strcmp(type, "Unigram") || !strcmp(type, "WordLevel")) {
        slm_err(err, errlen, "%s: %s tokenizers are not converted yet", v->path, type);
        goto fail;
    }
    if (strcmp(type, "BPE")) {
        slm_err(err, errlen, "%s: model type '%.60s' is not BPE, Unigram or WordPiece", v->path,
                type);
        goto fail;
    }
    if (load_bpe(v, root, model, v->path, err, errlen))
        goto fail;

    const char *slash = strrchr(v->path, '/');
    cfg_path = slash ? slm_xasprintf("%.*s/tokenizer_config.json", (int)(slash - v->path),
                                     v->path)
                     : slm_xstrdup("tokenizer_config.json");
    struct stat st;
    if (stat(cfg_path, &st) == 0) {
        /* as reals: model_max_length is often 1e30, beyond any integer type */
        cfg = json_load_file(cfg_path, JSON_DECODE_INT_AS_REAL, &je);
        if (!cfg) {
            slm_err(err, errlen, "%s: not JSON: %s (line %d)", cfg_path, je.text, je.line);
            goto fail;
        }
    }
    if (load_specials(v, root, cfg, cfg_path, err, errlen))
        goto fail;
    json_decref(cfg);
    json_decref(root);
    free(cfg_path);
    *out = v;
    return 0;
fail:
    json_decref(cfg);
    json_decref(root);
    free(cfg_path);
    slm_hf_vocab_free(v);
    return -1;
}

void slm_hf_vocab_add_to_gguf(const slm_hf_vocab *v, slm_gguf_writer *w)
{
    slm_gguf_set_str(w, "tokenizer.ggml.model", v->model);
    slm_gguf_set_str(w, "tokenizer.ggml.pre", v->pre);
    slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v->tokens, v->n);
    slm_gguf_set_arr_i32(w, "tokenizer.ggml.token_type", v->types, v->n);
    if (v->scores)
        slm_gguf_set_arr_f32(w, "tokenizer.ggml.scores", v->scores, v->n);
    if (v->n_merges)
        slm_gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)v->merges,
                             v->n_merges);
    static const char *const keys[] = {"tokenizer.ggml.bos_token_id",
                                       "tokenizer.ggml.eos_token_id",
                                       "tokenizer.ggml.eot_token_id",
                                       "tokenizer.ggml.padding_token_id",
                                       "tokenizer.ggml.unknown_token_id"};
    const int32_t ids[] = {v->bos, v->eos, v->eot, v->pad, v->unk};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (ids[k] >= 0)
            slm_gguf_set_u32(w, keys[k], (uint32_t)ids[k]);
    slm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", v->add_bos);
    slm_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", v->add_eos);
    if (v->chat_template)
        slm_gguf_set_str(w, "tokenizer.chat_template", v->chat_template);
    slm_gguf_set_str(w, "slmbench.tokenizer.family", v->family);
    slm_gguf_set_str(w, "slmbench.tokenizer.sha256", v->sha256);
}

int slm_hf_vocab_write_gguf(const slm_hf_vocab *v, const char *path, char *err, size_t errlen)
{
    if (!v || !path)
        return slm_err(err, errlen, "no vocabulary or no output path");
    slm_gguf_writer *w = slm_gguf_writer_new();
    /* A vocabulary file has no weights; llama.cpp still reads the architecture's
     * hyperparameters, so small consistent placeholders go in (as in llama.cpp's own
     * ggml-vocab-*.gguf files). */
    slm_gguf_set_str(w, "general.architecture", "llama");
    slm_gguf_set_str(w, "general.name", v->family);
    slm_gguf_set_u32(w, "general.file_type", 0);
    slm_gguf_set_u32(w, "llama.context_length", 4096);
    slm_gguf_set_u32(w, "llama.embedding_length", 64);
    slm_gguf_set_u32(w, "llama.block_count", 1);
    slm_gguf_set_u32(w, "llama.feed_forward_length", 64);
    slm_gguf_set_u32(w, "llama.attention.head_count", 1);
    slm_gguf_set_u32(w, "llama.attention.head_count_kv", 1);
    slm_gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    slm_gguf_set_u32(w, "llama.rope.dimension_count", 64);
    slm_gguf_set_u32(w, "llama.vocab_size", (uint32_t)v->n);
    slm_hf_vocab_add_to_gguf(v, w);
    int rc = slm_gguf_writer_write(w, path, err, errlen);
    slm_gguf_writer_free(w);
    return rc;
}
