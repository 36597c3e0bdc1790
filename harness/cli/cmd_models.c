/* cmd_models.c — `slmbench models make | quantize | inspect | tokenize | labels`. */
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
    "       slmbench models labels MODEL.gguf (--evalset DIR | --labels FILE)\n"
    "                              [--prompt-end TEXT] [--prefix P] [--json]\n"
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
    "  --choice-prefix P what the run puts before a label (its choice_prefix; default \" \"):\n"
    "                    a real vocabulary's label tokens are those score mode will score\n"
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
    "                    space-separated ids per text\n"
    "labels: how each label tokenizes alone (prefix + label, no BOS) and as score mode\n"
    "scores it: the tail of the joint tokenization of prompt + prefix + label, from the\n"
    "longest token prefix the prompt shares with every joint tokenization. Says which\n"
    "labels differ, which merge with the prompt's end, which take several tokens.\n"
    "  --evalset DIR     the label set and prompt template of DIR/evalset.yaml; the\n"
    "                    prompt is the template rendered with the text \"x\"\n"
    "  --labels FILE     one label per line, or an id,text,label CSV (its distinct\n"
    "                    labels, sorted); the prompt is then \"x\" (the template {{text}})\n"
    "  --prompt-end TEXT the prompt (or its end) instead; no chat template is applied\n"
    "  --prefix P        the run config's choice_prefix (default \" \")\n"
    "  --json            one JSON object: every label's ids and pieces, and the counts\n";

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
        if (r == 0 && (r = slm_opt_value(argc, argv, &i, "choice-prefix", &v)) > 0) {
            o.choice_prefix = v;
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

/* Appends s[0..n) to b with control characters, backslashes and (in a piece that is not
 * whole UTF-8, such as one byte of a character) bytes >= 0x80 escaped, so every piece
 * stays on one visible line. With quote, also '"' is escaped. */
static void escape_into(slm_buf *b, const char *s, size_t n, int quote)
{
    int raw_utf8 = slm_utf8_invalid_at(s, n) < 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            slm_buf_puts(b, "\\\\");
        else if (c == '"' && quote)
            slm_buf_puts(b, "\\\"");
        else if (c == '\n')
            slm_buf_puts(b, "\\n");
        else if (c == '\t')
            slm_buf_puts(b, "\\t");
        else if (c == '\r')
            slm_buf_puts(b, "\\r");
        else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !raw_utf8))
            slm_buf_printf(b, "\\x%02x", c);
        else
            slm_buf_putc(b, (char)c);
    }
}

static void put_escaped(const char *s, size_t n)
{
    slm_buf b = {0};
    escape_into(&b, s, n, 0);
    if (b.len)
        fwrite(b.data, 1, b.len, stdout);
    slm_buf_free(&b);
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

    slm_vocab *v = NULL;
    int rc = SLM_EXIT_OK, vrc = slm_vocab_open(path, &v, err, sizeof err);
    if (vrc) /* the engine's own troubles are runtime failures; the rest is about the file */
        rc = slm_die(vrc == -2 ? SLM_EXIT_ENGINE : SLM_EXIT_BAD_INPUT, "%s", err);
    uint32_t flags = (no_special ? 0 : SLM_TOKENIZE_ADD_SPECIAL) |
                     (parse_special ? SLM_TOKENIZE_PARSE_SPECIAL : 0);
    char **texts = &data;
    size_t *lens = &len, n_texts = 1;
    if (batch)
        n_texts = split_vocab_tests(data, len, &texts, &lens);
    for (size_t t = 0; rc == SLM_EXIT_OK && t < n_texts; t++) {
        int32_t *ids;
        char **pieces;
        size_t n;
        if (slm_vocab_tokenize(v, texts[t], lens[t], flags, &ids, &pieces, &n, err,
                               sizeof err)) {
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
            break;
        }
        for (size_t k = 0; k < n; k++) {
            if (batch || ids_only)
                printf("%s%d", k ? " " : "", (int)ids[k]);
            else {
                printf("%d\t", (int)ids[k]);
                put_escaped(pieces[k], strlen(pieces[k]));
                putchar('\n');
            }
        }
        if (batch || ids_only)
            putchar('\n');
        free(ids);
        slm_vocab_pieces_free(pieces, n);
    }
    if (batch) {
        free(texts);
        free(lens);
    }
    slm_vocab_close(v);
    free(data);
    return rc;
}

/* ---- models labels ---- */

/* Each label's tokens, alone and as score mode scores them (see models_labels). */
struct label_toks {
    int32_t *alone, *joint;
    char **alone_pc, **joint_pc;
    size_t n_alone, n_joint;
    size_t lcp;      /* tokens the joint tokenization shares with the prompt's */
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the first line of data is a CSV header naming the columns id, text and label. */
static int is_dataset_header(const char *data, size_t len)
{
    const char *eol = memchr(data, '\n', len);
    char *line = slm_xstrndup(data, eol ? (size_t)(eol - data) : len);
    char *p = line;
    if (!strncmp(p, "\xef\xbb\xbf", 3))
        p += 3;
    int seen = 0;
    for (char *save = NULL, *f = strtok_r(p, ",\r", &save); f; f = strtok_r(NULL, ",\r", &save)) {
        f = slm_trim(f);
        seen |= !strcmp(f, "id") ? 1 : !strcmp(f, "text") ? 2 : !strcmp(f, "label") ? 4 : 0;
    }
    free(line);
    return seen == 7;
}

/* The labels of --labels FILE: an id,text,label CSV's (or JSON lines') distinct labels,
 * sorted, or one label per line (a CR before the newline and empty lines dropped). */
static int read_labels(const char *path, char ***labels, size_t *n, char *err, size_t errlen)
{
    char *data;
    size_t len;
    *labels = NULL;
    *n = 0;
    if (slm_read_file(path, &data, &len, err, errlen))
        return -1;
    size_t dl = strlen(path);
    int jsonl = (dl > 6 && !strcmp(path + dl - 6, ".jsonl")) ||
                (dl > 7 && !strcmp(path + dl - 7, ".ndjson"));
    if (jsonl || is_dataset_header(data, len)) {
        free(data);
        slm_dataset *ds;
        if (slm_dataset_load(path, NULL, &ds, err, errlen))
            return -1;
        char **all = slm_xcalloc(ds->n + 1, sizeof *all);
        for (size_t i = 0; i < ds->n; i++)
            all[i] = ds->rows[i].label;
        qsort(all, ds->n, sizeof *all, cmp_str);
        for (size_t i = 0; i < ds->n; i++)
            if (i == 0 || strcmp(all[i], all[i - 1])) {
                *labels = slm_xrealloc(*labels, (*n + 1) * sizeof **labels);
                (*labels)[(*n)++] = slm_xstrdup(all[i]);
            }
        free(all);
        slm_dataset_free(ds);
    } else {
        if (slm_utf8_invalid_at(data, len) >= 0) {
            free(data);
            return slm_err(err, errlen, "'%s' is not UTF-8 text", path);
        }
        for (size_t pos = 0; pos < len;) {
            const char *eol = memchr(data + pos, '\n', len - pos);
            size_t end = eol ? (size_t)(eol - data) : len, e = end;
            if (e > pos && data[e - 1] == '\r')
                e--;
            if (e > pos) {
                *labels = slm_xrealloc(*labels, (*n + 1) * sizeof **labels);
                (*labels)[(*n)++] = slm_xstrndup(data + pos, e - pos);
            }
            pos = end + 1;
        }
        free(data);
    }
    if (*n == 0)
        return slm_err(err, errlen, "'%s' holds no labels", path);
    return 0;
}

/* Appends the pieces of a token list as "piece" "piece" ..., or (none) when empty. */
static void pieces_into(slm_buf *b, char **pieces, size_t n)
{
    if (n == 0)
        slm_buf_puts(b, "(none)");
    for (size_t k = 0; k < n; k++) {
        slm_buf_puts(b, k ? " \"" : "\"");
        escape_into(b, pieces[k], strlen(pieces[k]), 1);
        slm_buf_putc(b, '"');
    }
}

static json_t *tokens_json(const int32_t *ids, char **pieces, size_t n)
{
    json_t *o = json_object(), *ji = json_array(), *jp = json_array();
    for (size_t k = 0; k < n; k++) {
        json_array_append_new(ji, json_integer(ids[k]));
        size_t pl = strlen(pieces[k]);
        if (slm_utf8_invalid_at(pieces[k], pl) < 0) {
            json_array_append_new(jp, json_stringn(pieces[k], pl));
        } else { /* a byte of a character: shown escaped, as in the text output */
            slm_buf b = {0};
            escape_into(&b, pieces[k], pl, 0);
            json_array_append_new(jp, json_stringn(b.data, b.len));
            slm_buf_free(&b);
        }
    }
    json_object_set_new(o, "ids", ji);
    json_object_set_new(o, "pieces", jp);
    return o;
}

/*
 * models labels: for each label, its tokens tokenized alone (prefix + label, without
 * BOS) and the tokens score mode scores for it (engines/llamacpp/llamacpp.c,
 * choices_tokens): the tail of the joint tokenization of prompt + prefix + label after
 * the longest token prefix that the prompt's tokens and every label's joint tokens
 * share. A label merges when the prompt's own tokens are not a prefix of its joint ones;
 * one merging label cuts the prompt back for all of them.
 */
static int models_labels(int argc, char **argv)
{
    const char *path = NULL, *evalset = NULL, *labels_file = NULL, *prompt_end = NULL;
    const char *prefix = " ";
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = 0;
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        } else if (slm_opt_flag(argv[i], "json")) {
            as_json = 1;
        } else if ((r = slm_opt_value(argc, argv, &i, "evalset", &v)) > 0) {
            evalset = v;
        } else if (r == 0 && (r = slm_opt_value(argc, argv, &i, "labels", &v)) > 0) {
            labels_file = v;
        } else if (r == 0 && (r = slm_opt_value(argc, argv, &i, "prompt-end", &v)) > 0) {
            prompt_end = v;
        } else if (r == 0 && (r = slm_opt_value(argc, argv, &i, "prefix", &v)) > 0) {
            prefix = v;
        } else if (r < 0) {
            return slm_usage_error(USAGE, "option '%s' needs a value", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!path)
        return slm_usage_error(USAGE, "models labels needs MODEL.gguf");
    if (!evalset == !labels_file)
        return slm_usage_error(USAGE, "models labels needs one of --evalset DIR, --labels FILE");

    char err[SLM_ERRLEN];
    slm_gguf_info gi;
    if (slm_gguf_inspect(path, &gi, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    slm_evalset *es = NULL;
    char **labels = NULL, *prompt = NULL;
    size_t n = 0;
    if (evalset) {
        if (slm_evalset_load(evalset, &es, err, sizeof err))
            return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        if (es->n_labels == 0) {
            int r = slm_die(SLM_EXIT_BAD_INPUT, "eval set '%s' has no label set (task %s)",
                            evalset, es->task);
            slm_evalset_free(es);
            return r;
        }
        labels = es->labels;
        n = es->n_labels;
    } else if (read_labels(labels_file, &labels, &n, err, sizeof err)) {
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    if (prompt_end)
        prompt = slm_xstrdup(prompt_end);
    else
        prompt = slm_prompt_render(es ? es->prompt : "{{text}}", "x", "",
                                   (const char *const *)labels, n);

    slm_vocab *v = NULL;
    int rc = SLM_EXIT_OK;
    int vrc = slm_vocab_open(path, &v, err, sizeof err);
    if (vrc) /* the engine's own troubles are runtime failures; the rest is about the file */
        rc = slm_die(vrc == -2 ? SLM_EXIT_ENGINE : SLM_EXIT_BAD_INPUT, "%s", err);
    int32_t *pids = NULL;
    char **ppc = NULL;
    size_t np = 0;
    struct label_toks *lt = slm_xcalloc(n, sizeof *lt);
    if (rc == SLM_EXIT_OK && slm_vocab_tokenize(v, prompt, strlen(prompt), SLM_TOKENIZE_ADD_SPECIAL, &pids, &ppc,
                                                &np, err, sizeof err))
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    size_t shared = np;
    for (size_t l = 0; l < n && rc == SLM_EXIT_OK; l++) {
        char *alone = slm_xasprintf("%s%s", prefix, labels[l]);
        char *joint = slm_xasprintf("%s%s%s", prompt, prefix, labels[l]);
        if (slm_vocab_tokenize(v, alone, strlen(alone), 0, &lt[l].alone, &lt[l].alone_pc, &lt[l].n_alone, err,
                               sizeof err) ||
            slm_vocab_tokenize(v, joint, strlen(joint), SLM_TOKENIZE_ADD_SPECIAL, &lt[l].joint,
                               &lt[l].joint_pc, &lt[l].n_joint, err, sizeof err))
            rc = slm_die(SLM_EXIT_ENGINE, "label '%s': %s", labels[l], err);
        free(alone);
        free(joint);
        size_t k = 0;
        while (rc == SLM_EXIT_OK && k < np && k < lt[l].n_joint && lt[l].joint[k] == pids[k])
            k++;
        lt[l].lcp = k;
        shared = k < shared ? k : shared;
    }

    size_t n_differ = 0, n_merge = 0, n_multi = 0;
    json_t *jl = as_json ? json_array() : NULL;
    for (size_t l = 0; l < n && rc == SLM_EXIT_OK; l++) {
        size_t nt = lt[l].n_joint - shared;
        const int32_t *tail = lt[l].joint + shared;
        int differs = nt != lt[l].n_alone ||
                      (nt && memcmp(tail, lt[l].alone, nt * sizeof *tail) != 0);
        int merges = lt[l].lcp < np;
        n_differ += differs;
        n_merge += merges;
        n_multi += nt > 1;
        if (as_json) {
            json_t *o = json_object();
            json_object_set_new(o, "label", json_string(labels[l]));
            json_object_set_new(o, "alone", tokens_json(lt[l].alone, lt[l].alone_pc,
                                                        lt[l].n_alone));
            json_object_set_new(o, "after_prompt", tokens_json(tail, lt[l].joint_pc + shared,
                                                               nt));
            json_object_set_new(o, "differs", json_boolean(differs));
            json_object_set_new(o, "merges", json_boolean(merges));
            json_object_set_new(o, "n_tokens", json_integer((json_int_t)nt));
            json_array_append_new(jl, o);
        } else {
            slm_buf b = {0};
            if (l == 0)
                slm_buf_puts(&b, "label\talone\tafter the prompt\tdiffers\tmerges\n");
            escape_into(&b, labels[l], strlen(labels[l]), 0);
            slm_buf_putc(&b, '\t');
            pieces_into(&b, lt[l].alone_pc, lt[l].n_alone);
            slm_buf_putc(&b, '\t');
            pieces_into(&b, lt[l].joint_pc + shared, nt);
            slm_buf_printf(&b, "\t%s\t%s\n", differs ? "yes" : "no", merges ? "yes" : "no");
            fwrite(b.data, 1, b.len, stdout);
            slm_buf_free(&b);
        }
    }
    if (rc == SLM_EXIT_OK && as_json) {
        json_t *o = json_object();
        json_object_set_new(o, "model", json_string(path));
        json_object_set_new(o, "prompt_end", json_string(prompt));
        json_object_set_new(o, "prefix", json_string(prefix));
        json_object_set_new(o, "prompt_tokens", json_integer((json_int_t)np));
        json_object_set_new(o, "shared_prefix", json_integer((json_int_t)shared));
        json_object_set_new(o, "labels", jl);
        json_object_set_new(o, "n_labels", json_integer((json_int_t)n));
        json_object_set_new(o, "n_differ", json_integer((json_int_t)n_differ));
        json_object_set_new(o, "n_merge", json_integer((json_int_t)n_merge));
        json_object_set_new(o, "n_multi_token", json_integer((json_int_t)n_multi));
        char *s = json_dumps(o, JSON_INDENT(2));
        if (s)
            puts(s);
        else
            rc = slm_die(SLM_EXIT_BAD_INPUT, "a label or the prompt is not UTF-8");
        free(s);
        json_decref(o);
    } else if (rc == SLM_EXIT_OK) {
        if (shared < np)
            printf("the prompt's %zu tokens are cut back to the first %zu: every label is "
                   "scored from there\n", np, shared);
        printf("%zu of %zu labels tokenize differently alone than after the prompt; %zu merge "
               "across the boundary; %zu take more than one token\n",
               n_differ, n, n_merge, n_multi);
    } else {
        json_decref(jl);
    }

    for (size_t l = 0; l < n; l++) {
        free(lt[l].alone);
        free(lt[l].joint);
        slm_vocab_pieces_free(lt[l].alone_pc, lt[l].n_alone);
        slm_vocab_pieces_free(lt[l].joint_pc, lt[l].n_joint);
    }
    free(lt);
    free(pids);
    slm_vocab_pieces_free(ppc, np);
    slm_vocab_close(v);
    free(prompt);
    if (es)
        slm_evalset_free(es);
    else {
        for (size_t l = 0; l < n; l++)
            free(labels[l]);
        free(labels);
    }
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
    if (!strcmp(argv[1], "labels"))
        return models_labels(argc - 1, argv + 1);
    return slm_usage_error(USAGE, "unknown models subcommand '%s'", argv[1]);
}
