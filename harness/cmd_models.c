/* cmd_models.c — `slmbench models make | quantize | inspect | tokenize`. */
#include "cli.h"
#include "modelshape.h"
#include "vocab.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: slmbench models make --train TRAIN.csv --out MODEL.gguf [options]\n"
    "       slmbench models make --tokenizer NAME|PATH --vocab-only --out VOCAB.gguf\n"
    "       slmbench models quantize IN.gguf OUT.gguf TYPE [--threads N]\n"
    "       slmbench models inspect MODEL.gguf [--json]\n"
    "       slmbench models tokenize MODEL.gguf [--ids] [--no-special] [--parse-special]\n"
    "                                (TEXT | --file F | --batch F)\n"
    "\n"
    "make: builds a demo model (a llama-architecture GGUF whose forward pass is a\n"
    "bag-of-words naive Bayes classifier) from an id,text,label train split.\n"
    "  --evalset DIR     take the label set and prompt template from DIR/evalset.yaml\n"
    "  --name NAME       model name (general.name)\n"
    "  --vocab N         word features (default 1000)\n"
    "  --alpha A         additive smoothing (default 1.0)\n"
    "  --temperature T   divides the evidence (default 1.0)\n"
    "  --layers N        transformer blocks (default 1; extra blocks add compute only)\n"
    "  --ff N            feed-forward width (default: the model width)\n"
    "  --ctx N           context length (default 2048)\n"
    "  --type f32|f16    weight type (default f16)\n"
    "  --no-stop         no end-of-sequence after a label: generation runs on (decode tests)\n"
    "  --tokenizer T     learn over a real vocabulary: a name (qwen3, llama3: fetched by\n"
    "                    make into build/third_party/tokenizers), a tokenizer.json, or any\n"
    "                    GGUF file whose tokenizer is taken over (default: an own SPM one)\n"
    "  --vocab-only      with --tokenizer: write only the converted vocabulary (no weights;\n"
    "                    llama.cpp loads it with vocab_only)\n"
    "  --shape NAME      the architecture and dimensions of a published model, pseudo-random\n"
    "                    weights around the classifier (qwen2.5-0.5b, qwen3-0.6b,\n"
    "                    llama-3.2-1b; their tokenizer unless --tokenizer says otherwise)\n"
    "  --seed N          seed of the pseudo-random weights (default 1)\n"
    "  --chat-template FILE  the model's chat template text (tokenizer.chat_template) from\n"
    "                    FILE, e.g. a real model's Jinja template; default ChatML; an empty\n"
    "                    FILE writes none\n"
    "quantize: Q8_0, Q4_0, Q4_K_M, Q4_K_S, Q5_K_M, Q6_K, F16 ... through llama.cpp.\n"
    "inspect: the model facts read from the file (and from llama.cpp when it loads).\n"
    "tokenize: the tokens llama.cpp makes of TEXT with the model's vocabulary, one line\n"
    "'id<TAB>piece' each (control characters escaped), BOS/EOS where the model adds them.\n"
    "  --ids             only the ids, on one line\n"
    "  --no-special      without BOS/EOS\n"
    "  --parse-special   texts of special tokens (\"<|im_end|>\") become those tokens\n"
    "  --file F          tokenize the content of F\n"
    "  --batch F         F holds many texts separated by lines __ggml_vocab_test__ (the\n"
    "                    format of llama.cpp's tokenizer test vectors): one line of\n"
    "                    space-separated ids per text\n";

/* models make --tokenizer T --vocab-only --out F */
static int make_vocab(const char *tokenizer, const char *out_path)
{
    char err[SLM_ERRLEN];
    slm_hf_vocab *v;
    if (slm_hf_vocab_load(tokenizer, &v, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    int rc = slm_hf_vocab_write_gguf(v, out_path, err, sizeof err);
    if (rc == 0)
        printf("wrote %s: %s tokenizer (%s, pre %s), %zu tokens, %zu merges, bos %d, eos %d, "
               "eot %d, add_bos %d, chat template %s, tokenizer.json sha256 %s\n",
               out_path, v->family, v->model, v->pre, v->n, v->n_merges, (int)v->bos,
               (int)v->eos, (int)v->eot, v->add_bos, v->chat_template ? "yes" : "no",
               v->sha256);
    slm_hf_vocab_free(v);
    return rc ? slm_die(SLM_EXIT_BAD_INPUT, "%s", err) : SLM_EXIT_OK;
}

static int parse_num(const char *opt, const char *v, double *out)
{
    if (slm_parse_double(v, out))
        return slm_usage_error(USAGE, "option '--%s': expected a number, got '%s'", opt, v);
    return 0;
}

static int models_make(int argc, char **argv)
{
    slm_factory_opts o;
    slm_factory_defaults(&o);
    o.f16 = 1;
    const char *evalset = NULL, *tokenizer = NULL, *tmpl_path = NULL;
    int vocab_only = 0;
    static const char *const num_opts[] = {"vocab", "alpha", "temperature", "layers", "ff", "ctx",
                                           "seed", NULL};
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        }
        if (slm_opt_flag(argv[i], "no-stop")) {
            o.no_stop = 1;
            continue;
        }
        if (slm_opt_flag(argv[i], "vocab-only")) {
            vocab_only = 1;
            continue;
        }
        if ((r = slm_opt_value(argc, argv, &i, "train", &v)) > 0) {
            o.train_path = v;
            continue;
        }
        if (r == 0 && (r = slm_opt_value(argc, argv, &i, "out", &v)) > 0) {
            o.out_path = v;
            continue;
        }
        if (r == 0 && (r = slm_opt_value(argc, argv, &i, "name", &v)) > 0) {
            o.name = v;
            continue;
        }
        if (r == 0 && (r = slm_opt_value(argc, argv, &i, "evalset", &v)) > 0) {
            evalset = v;
            continue;
        }
        if (r == 0 && (r = slm_opt_value(argc, argv, &i, "tokenizer", &v)) > 0) {
            tokenizer = v;
            continue;
        }
        if (r == 0 && (r = slm_opt_value(argc, argv, &i, "shape", &v)) > 0) {
            o.shape = v;
            continue;
        }
        if (r == 0 && (r = slm_opt_value(argc, argv, &i, "chat-template", &v)) > 0) {
            tmpl_path = v;
            continue;
        }
        if (r == 0 && (r = slm_opt_value(argc, argv, &i, "type", &v)) > 0) {
            if (!strcmp(v, "f16"))
                o.f16 = 1;
            else if (!strcmp(v, "f32"))
                o.f16 = 0;
            else
                return slm_usage_error(USAGE, "option '--type': expected f16 or f32, got '%s'", v);
            continue;
        }
        int matched = 0;
        for (int k = 0; r == 0 && num_opts[k]; k++) {
            if ((r = slm_opt_value(argc, argv, &i, num_opts[k], &v)) > 0) {
                double d;
                if (parse_num(num_opts[k], v, &d))
                    return SLM_EXIT_USAGE;
                switch (k) {
                case 0: o.vocab_words = (int)d; break;
                case 1: o.alpha = d; break;
                case 2: o.temperature = d; break;
                case 3: o.n_layers = (int)d; break;
                case 4: o.n_ff = (int)d; break;
                case 5: o.n_ctx = (int)d; break;
                case 6: o.seed = (uint64_t)d; break;
                }
                matched = 1;
            }
        }
        if (matched)
            continue;
        if (r < 0)
            return slm_usage_error(USAGE, "option '%s' needs a value", argv[i]);
        return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (vocab_only && !tokenizer)
        return slm_usage_error(USAGE, "option '--vocab-only' needs --tokenizer");
    if (tokenizer && !o.out_path)
        return slm_usage_error(USAGE, "models make --tokenizer needs --out");
    if (tokenizer && vocab_only)
        return make_vocab(tokenizer, o.out_path);
    if (!o.train_path || !o.out_path)
        return slm_usage_error(USAGE, "models make needs --train and --out");
    char err[SLM_ERRLEN];
    char *tmpl = NULL;
    size_t tmpl_len = 0;
    if (tmpl_path) {
        if (slm_read_file(tmpl_path, &tmpl, &tmpl_len, err, sizeof err))
            return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        if (strlen(tmpl) != tmpl_len) {
            free(tmpl);
            return slm_die(SLM_EXIT_BAD_INPUT, "chat template '%s' holds a NUL byte", tmpl_path);
        }
        o.chat_template = tmpl;
    }
    slm_evalset *es = NULL;
    if (evalset) {
        if (slm_evalset_load(evalset, &es, err, sizeof err)) {
            free(tmpl);
            return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        }
        o.labels = (const char *const *)es->labels;
        o.n_labels = es->n_labels;
        o.prompt_template = es->prompt;
    }
    const slm_shape *shape = NULL;
    if (o.shape && !(shape = slm_shape_find(o.shape))) {
        slm_evalset_free(es);
        slm_factory_report rep0;
        if (slm_model_make(&o, &rep0, err, sizeof err)) /* says which shapes there are */
            return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    if (shape && !tokenizer)
        tokenizer = shape->tokenizer;
    slm_vocab *voc = NULL;
    char *vocab_gguf = NULL;
    if (tokenizer) {
        if (slm_tokenizer_gguf(tokenizer, &vocab_gguf, err, sizeof err) ||
            slm_vocab_open(vocab_gguf, &voc, err, sizeof err)) {
            slm_evalset_free(es);
            slm_tokenizer_gguf_free(tokenizer, vocab_gguf);
            return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        }
        o.tokenizer_gguf = vocab_gguf;
        o.tokenize = slm_vocab_tokenize_plain;
        o.tokenize_ud = voc;
    }
    slm_factory_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = slm_model_make(&o, &rep, err, sizeof err);
    slm_evalset_free(es);
    slm_vocab_close(voc);
    slm_tokenizer_gguf_free(tokenizer, vocab_gguf);
    free(tmpl);
    if (rc)
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (tokenizer)
        printf("vocabulary %s, architecture %s%s%s, %zu of %zu labels take several tokens\n",
               tokenizer, rep.arch, shape ? ", shape " : "",
               shape ? shape->name : "", rep.n_multi_token_labels, rep.n_labels);
    printf("wrote %s: %zu train rows, %zu labels, %zu word features, vocabulary %zu, width %zu, "
           "%zu layers, %.2fM parameters, %.1f MiB, train accuracy %.1f%%\n",
           o.out_path, rep.train_rows, rep.n_labels, rep.n_words, rep.n_tokens, rep.n_embd,
           rep.n_layers, (double)rep.n_params / 1e6, (double)rep.file_size / 1048576.0,
           rep.train_accuracy * 100.0);
    slm_factory_report_free(&rep);
    return SLM_EXIT_OK;
}

static int models_quantize(int argc, char **argv)
{
    const char *pos[3] = {0};
    int np = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        } else if ((r = slm_opt_value(argc, argv, &i, "threads", &v))) {
            long t;
            if (r < 0 || slm_parse_long(v, &t) || t < 1)
                return slm_usage_error(USAGE, "option '--threads' needs a positive integer");
            threads = (int)t;
        } else if (argv[i][0] == '-' && argv[i][1])
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        else if (np < 3)
            pos[np++] = argv[i];
        else
            return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (np != 3)
        return slm_usage_error(USAGE, "models quantize needs IN.gguf OUT.gguf TYPE");
    char err[SLM_ERRLEN];
    slm_gguf_info gi;
    if (slm_gguf_inspect(pos[0], &gi, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    slm_plugins *ps = slm_plugins_load();
    slm_plugin *p = slm_plugins_find(ps, "llamacpp");
    int rc = SLM_EXIT_OK;
    if (!p)
        rc = slm_die(SLM_EXIT_ENGINE, "the llamacpp engine plugin was not found");
    else if (!p->enabled)
        rc = slm_die(SLM_EXIT_ENGINE, "the llamacpp engine is disabled: %s", p->reason);
    else {
        int (*quantize)(const char *, const char *, const char *, int, char *, size_t) =
            SLM_SLOT(p->vt, quantize);
        if (!quantize)
            rc = slm_die(SLM_EXIT_ENGINE, "the llamacpp engine cannot quantize");
        else if (quantize(pos[0], pos[1], pos[2], threads, err, sizeof err))
            rc = slm_die(strstr(err, "unknown") ? SLM_EXIT_USAGE : SLM_EXIT_ENGINE, "%s", err);
        else if (slm_gguf_inspect(pos[1], &gi, err, sizeof err))
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
        else
            printf("wrote %s: %s, %.1f MiB\n", pos[1], gi.quant, (double)gi.file_size / 1048576.0);
    }
    slm_plugins_free(ps);
    return rc;
}

static int models_inspect(int argc, char **argv)
{
    const char *path = NULL;
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        } else if (slm_opt_flag(argv[i], "json"))
            as_json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        else if (!path)
            path = argv[i];
        else
            return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (!path)
        return slm_usage_error(USAGE, "models inspect needs MODEL.gguf");
    char err[SLM_ERRLEN], sha[65];
    slm_gguf_info gi;
    if (slm_gguf_inspect(path, &gi, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (slm_sha256_file(path, sha, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    /* What llama.cpp itself says, when the engine is there and the model loads. */
    slm_model_info mi;
    memset(&mi, 0, sizeof mi);
    mi.struct_size = sizeof mi;
    char engine_note[SLM_ERRLEN] = "";
    int have_mi = 0, refused = 0;
    slm_plugins *ps = slm_plugins_load();
    slm_plugin *p = slm_plugins_find(ps, "llamacpp");
    if (p && p->enabled) {
        slm_option opt[] = {{"model", path}, {"n_ctx", "256"}};
        slm_options opts = {opt, 2};
        slm_engine *e = NULL;
        if (p->vt->open(&opts, &e, err, sizeof err) == 0) {
            have_mi = p->vt->info(e, &mi, err, sizeof err) == 0;
            if (!have_mi)
                snprintf(engine_note, sizeof engine_note, "%s", err);
            p->vt->close(e);
        } else {
            snprintf(engine_note, sizeof engine_note, "%s", err);
        }
        refused = !have_mi;
    } else {
        snprintf(engine_note, sizeof engine_note, "llamacpp engine unavailable%s%s",
                 p ? ": " : "", p ? p->reason : "");
    }
    int rc = SLM_EXIT_OK;
    if (as_json) {
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(path));
        json_object_set_new(o, "sha256", json_string(sha));
        json_object_set_new(o, "gguf_version", json_integer(gi.version));
        json_object_set_new(o, "arch", json_string(gi.architecture));
        json_object_set_new(o, "name", json_string(gi.name));
        json_object_set_new(o, "quant", json_string(gi.quant));
        json_object_set_new(o, "file_type", json_integer(gi.file_type));
        json_object_set_new(o, "n_params", json_integer((json_int_t)gi.n_params));
        json_object_set_new(o, "n_tensors", json_integer((json_int_t)gi.n_tensors));
        json_object_set_new(o, "file_size", json_integer((json_int_t)gi.file_size));
        json_object_set_new(o, "context_length", json_integer((json_int_t)gi.context_length));
        json_object_set_new(o, "embedding_length", json_integer((json_int_t)gi.embedding_length));
        json_object_set_new(o, "block_count", json_integer((json_int_t)gi.block_count));
        json_object_set_new(o, "n_vocab", json_integer((json_int_t)gi.n_vocab));
        json_object_set_new(o, "chat_template", json_boolean(gi.has_chat_template));
        json_object_set_new(o, "llama_cpp_loads", json_boolean(have_mi));
        if (have_mi) {
            json_object_set_new(o, "engine_version", json_string(mi.engine_version));
            json_object_set_new(o, "description", json_string(mi.desc));
        } else {
            json_object_set_new(o, "engine_error", json_string(engine_note));
        }
        char *s = json_dumps(o, JSON_INDENT(2));
        puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("file            %s\n", path);
        printf("sha256          %s\n", sha);
        printf("size            %.1f MiB (%llu bytes)\n", (double)gi.file_size / 1048576.0,
               (unsigned long long)gi.file_size);
        printf("gguf version    %u\n", gi.version);
        printf("architecture    %s\n", gi.architecture[0] ? gi.architecture : "-");
        printf("name            %s\n", gi.name[0] ? gi.name : "-");
        printf("quantization    %s\n", gi.quant);
        printf("parameters      %llu (%.2fM)\n", (unsigned long long)gi.n_params,
               (double)gi.n_params / 1e6);
        printf("tensors         %llu\n", (unsigned long long)gi.n_tensors);
        printf("context length  %llu\n", (unsigned long long)gi.context_length);
        printf("embedding       %llu\n", (unsigned long long)gi.embedding_length);
        printf("layers          %llu\n", (unsigned long long)gi.block_count);
        printf("vocabulary      %llu\n", (unsigned long long)gi.n_vocab);
        printf("chat template   %s\n", gi.has_chat_template ? "yes" : "no");
        if (have_mi) {
            printf("llama.cpp       loads it: %s\n", mi.desc);
            printf("engine          %s\n", mi.engine_version);
        } else {
            printf("llama.cpp       %s: %s\n", refused ? "does not load it" : "not checked",
                   engine_note);
        }
    }
    if (refused)
        rc = slm_die(SLM_EXIT_BAD_INPUT, "llama.cpp refuses '%s': %s", path, engine_note);
    slm_plugins_free(ps);
    return rc;
}

/* Writes s[0..n) with control characters, backslashes and (in a piece that is not
 * whole UTF-8, such as one byte of a character) bytes >= 0x80 escaped, so every piece
 * stays on one visible line. */
static void put_escaped(const char *s, size_t n)
{
    int raw_utf8 = slm_utf8_invalid_at(s, n) < 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            fputs("\\\\", stdout);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '\r')
            fputs("\\r", stdout);
        else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !raw_utf8))
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

/* The texts of a file in llama.cpp's test-vector format: separated by
 * "\n__ggml_vocab_test__\n" (the newline before the marker is not part of the text). The
 * texts point into data, which is cut in place. */
static size_t split_vocab_tests(char *data, size_t len, char ***texts, size_t **lens)
{
    static const char sep[] = "\n__ggml_vocab_test__\n";
    const size_t sl = sizeof sep - 1;
    size_t n = 0, pos = 0;
    *texts = NULL;
    *lens = NULL;
    while (pos < len) {
        char *next = memmem(data + pos, len - pos, sep, sl);
        size_t end = next ? (size_t)(next - data) : len;
        *texts = slm_xrealloc(*texts, (n + 1) * sizeof **texts);
        *lens = slm_xrealloc(*lens, (n + 1) * sizeof **lens);
        (*texts)[n] = data + pos;
        (*lens)[n] = end - pos;
        n++;
        if (!next)
            break;
        pos = end + sl;
    }
    return n;
}

static int models_tokenize(int argc, char **argv)
{
    const char *path = NULL, *text = NULL, *file = NULL, *batch = NULL;
    int ids_only = 0, no_special = 0, parse_special = 0, options_end = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = 0;
        if (options_end)
            ; /* after "--" everything is MODEL or TEXT, even "-x" */
        else if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        } else if (!strcmp(argv[i], "--")) {
            options_end = 1;
            continue;
        } else if (slm_opt_flag(argv[i], "ids")) {
            ids_only = 1;
            continue;
        } else if (slm_opt_flag(argv[i], "no-special")) {
            no_special = 1;
            continue;
        } else if (slm_opt_flag(argv[i], "parse-special")) {
            parse_special = 1;
            continue;
        } else if ((r = slm_opt_value(argc, argv, &i, "file", &v)) > 0) {
            file = v;
            continue;
        } else if (r == 0 && (r = slm_opt_value(argc, argv, &i, "batch", &v)) > 0) {
            batch = v;
            continue;
        } else if (r < 0)
            return slm_usage_error(USAGE, "option '%s' needs a value", argv[i]);
        else if (argv[i][0] == '-' && argv[i][1])
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        if (!path)
            path = argv[i];
        else if (!text)
            text = argv[i];
        else
            return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (!path)
        return slm_usage_error(USAGE, "models tokenize needs MODEL.gguf");
    if (!!text + !!file + !!batch != 1)
        return slm_usage_error(USAGE, "models tokenize needs one of TEXT, --file F, --batch F");

    char err[SLM_ERRLEN];
    slm_gguf_info gi;
    if (slm_gguf_inspect(path, &gi, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    char *data = NULL;
    size_t len = 0;
    if (file || batch) {
        if (slm_read_file(file ? file : batch, &data, &len, err, sizeof err))
            return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    } else {
        data = slm_xstrdup(text);
        len = strlen(text);
    }

    slm_plugins *ps = slm_plugins_load();
    slm_plugin *p = slm_plugins_find(ps, "llamacpp");
    int (*tok)(slm_engine *, const char *, size_t, uint32_t, slm_token_result **, char *,
               size_t) = p && p->enabled ? SLM_SLOT(p->vt, tokenize) : NULL;
    slm_engine *e = NULL;
    int rc = SLM_EXIT_OK;
    if (!p)
        rc = slm_die(SLM_EXIT_ENGINE, "the llamacpp engine plugin was not found");
    else if (!p->enabled)
        rc = slm_die(SLM_EXIT_ENGINE, "the llamacpp engine is disabled: %s", p->reason);
    else if (!tok || !p->vt->result_free)
        rc = slm_die(SLM_EXIT_ENGINE, "the llamacpp engine cannot tokenize (ABI before 1.3)");
    else {
        slm_option opt[] = {{"model", path}, {"vocab_only", "1"}};
        slm_options opts = {opt, 2};
        if (p->vt->open(&opts, &e, err, sizeof err))
            rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    uint32_t flags = (no_special ? 0 : SLM_TOKENIZE_ADD_SPECIAL) |
                     (parse_special ? SLM_TOKENIZE_PARSE_SPECIAL : 0);
    char **texts = &data;
    size_t *lens = &len, n_texts = 1;
    if (batch)
        n_texts = split_vocab_tests(data, len, &texts, &lens);
    for (size_t t = 0; rc == SLM_EXIT_OK && t < n_texts; t++) {
        slm_token_result *r;
        if (tok(e, texts[t], lens[t], flags, &r, err, sizeof err)) {
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
            break;
        }
        for (size_t k = 0; k < r->n; k++) {
            if (batch || ids_only)
                printf("%s%d", k ? " " : "", (int)r->ids[k]);
            else {
                printf("%d\t", (int)r->ids[k]);
                put_escaped(r->pieces[k], strlen(r->pieces[k]));
                putchar('\n');
            }
        }
        if (batch || ids_only)
            putchar('\n');
        p->vt->result_free(r);
    }
    if (batch) {
        free(texts);
        free(lens);
    }
    if (e)
        p->vt->close(e);
    slm_plugins_free(ps);
    free(data);
    return rc;
}

int cmd_models(int argc, char **argv)
{
    if (argc < 2 || slm_is_help(argv[1])) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? SLM_EXIT_USAGE : SLM_EXIT_OK;
    }
    if (!strcmp(argv[1], "make"))
        return models_make(argc - 1, argv + 1);
    if (!strcmp(argv[1], "quantize"))
        return models_quantize(argc - 1, argv + 1);
    if (!strcmp(argv[1], "inspect"))
        return models_inspect(argc - 1, argv + 1);
    if (!strcmp(argv[1], "tokenize"))
        return models_tokenize(argc - 1, argv + 1);
    return slm_usage_error(USAGE, "unknown models subcommand '%s'", argv[1]);
}
