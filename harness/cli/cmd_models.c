/* cmd_models.c — `slmbench models make | quantize | inspect | tokenize | labels`. */
#include "cli.h"
#include "opts.h"
#include "modelshape.h"
#include "vocab.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* `models --help`: every subcommand's synopsis (each has its own --help). */
static const char OVERVIEW[] =
    "usage: slmbench models make --train TRAIN.csv --out MODEL.gguf [options]\n"
    "       slmbench models make --tokenizer NAME|PATH --vocab-only --out VOCAB.gguf\n"
    "       slmbench models quantize IN.gguf OUT.gguf TYPE [--threads N]\n"
    "       slmbench models inspect MODEL.gguf [--json]\n"
    "       slmbench models tokenize MODEL.gguf [--ids] [--no-special] [--parse-special]\n"
    "                                (TEXT | --file F | --batch F)\n"
    "       slmbench models labels MODEL.gguf (--evalset DIR | --labels FILE)\n"
    "                              [--prompt-end TEXT] [--prefix P] [--json]\n"
    "\n"
    "make: builds a demo model (a GGUF whose forward pass is a naive Bayes classifier).\n"
    "quantize: Q8_0, Q4_0, Q4_K_M, Q4_K_S, Q5_K_M, Q6_K, F16 ... through llama.cpp.\n"
    "inspect: the model facts read from the file (and from llama.cpp when it loads).\n"
    "tokenize: the tokens llama.cpp makes of a text with the model's vocabulary.\n"
    "labels: how each label tokenizes alone and as score mode scores it.\n"
    "slmbench models SUBCOMMAND --help lists a subcommand's options.\n";

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

static const char MAKE_ABOUT[] =
    "Builds a demo model (a llama-architecture GGUF whose forward pass is a bag-of-words\n"
    "naive Bayes classifier) from an id,text,label train split.\n";

/* --type f16|f32 */
static int set_type(const char *v, void *target, char *err, size_t errlen)
{
    if (strcmp(v, "f16") && strcmp(v, "f32"))
        return slm_err(err, errlen, "expects f16 or f32, got '%s'", v);
    *(int *)target = !strcmp(v, "f16");
    return 0;
}

/* What `models make` was asked for beyond slm_factory_opts. */
typedef struct make_args {
    const char *evalset, *tokenizer, *tmpl_path;
    int vocab_only;
    double num[7]; /* vocab, alpha, temperature, layers, ff, ctx, seed */
} make_args;

/* The options into *o and *m; SLM_OPTS_GO or the exit code to return. */
static int make_parse(int argc, char **argv, slm_factory_opts *o, make_args *m)
{
    double *n = m->num;
    n[0] = o->vocab_words, n[1] = o->alpha, n[2] = o->temperature, n[3] = o->n_layers;
    n[4] = o->n_ff, n[5] = o->n_ctx, n[6] = (double)o->seed;
    slm_opt opts[] = {
        {.name = "train", .arg = "TRAIN.csv", .kind = SLM_OPT_STR, .target = &o->train_path,
         .help = "the id,text,label train split"},
        {.name = "out", .arg = "MODEL.gguf", .kind = SLM_OPT_STR, .target = &o->out_path,
         .needs = "a file",
         .help = "the model file to write"},
        {.name = "evalset", .arg = "DIR", .kind = SLM_OPT_STR, .target = &m->evalset,
         .help = "take the label set and prompt template from DIR/evalset.yaml"},
        {.name = "name", .arg = "NAME", .kind = SLM_OPT_STR, .target = &o->name,
         .help = "model name (general.name)"},
        {.name = "vocab", .arg = "N", .kind = SLM_OPT_DOUBLE, .target = &n[0],
         .help = "word features (default 1000)"},
        {.name = "alpha", .arg = "A", .kind = SLM_OPT_DOUBLE, .target = &n[1],
         .help = "additive smoothing (default 1.0)"},
        {.name = "temperature", .arg = "T", .kind = SLM_OPT_DOUBLE, .target = &n[2],
         .help = "divides the evidence (default 1.0)"},
        {.name = "layers", .arg = "N", .kind = SLM_OPT_DOUBLE, .target = &n[3],
         .help = "transformer blocks (default 1; extra blocks add compute only)"},
        {.name = "ff", .arg = "N", .kind = SLM_OPT_DOUBLE, .target = &n[4],
         .help = "feed-forward width (default: the model width)"},
        {.name = "ctx", .arg = "N", .kind = SLM_OPT_DOUBLE, .target = &n[5],
         .help = "context length (default 2048)"},
        {.name = "type", .arg = "f32|f16", .kind = SLM_OPT_CALL, .target = &o->f16,
         .needs = "f16 or f32", .set = set_type,
         .help = "weight type (default f16)"},
        {.name = "no-stop", .kind = SLM_OPT_FLAG, .target = &o->no_stop,
         .help = "no end-of-sequence after a label: generation runs on (decode tests)"},
        {.name = "tokenizer", .arg = "T", .kind = SLM_OPT_STR, .target = &m->tokenizer,
         .help = "learn over a real vocabulary: a name (qwen3, llama3: fetched by\n"
                 "make into build/third_party/tokenizers), a tokenizer.json, or any\n"
                 "GGUF file whose tokenizer is taken over (default: an own SPM one)"},
        {.name = "vocab-only", .kind = SLM_OPT_FLAG, .target = &m->vocab_only,
         .help = "with --tokenizer: write only the converted vocabulary (no\n"
                 "weights; llama.cpp loads it with vocab_only)"},
        {.name = "shape", .arg = "NAME", .kind = SLM_OPT_STR, .target = &o->shape,
         .help = "the architecture and dimensions of a published model, pseudo-random\n"
                 "weights around the classifier (qwen2.5-0.5b, qwen3-0.6b,\n"
                 "llama-3.2-1b; their tokenizer unless --tokenizer says otherwise)"},
        {.name = "seed", .arg = "N", .kind = SLM_OPT_DOUBLE, .target = &n[6],
         .help = "seed of the pseudo-random weights (default 1)"},
        {.name = "choice-prefix", .arg = "P", .kind = SLM_OPT_STR, .target = &o->choice_prefix,
         .help = "what the run puts before a label (its choice_prefix; default\n"
                 "\" \"): a real vocabulary's label tokens are those score mode\n"
                 "will score"},
        {.name = "chat-template", .arg = "FILE", .kind = SLM_OPT_STR, .target = &m->tmpl_path,
         .help = "the model's chat template text (tokenizer.chat_template)\n"
                 "from FILE, e.g. a real model's Jinja template; default\n"
                 "ChatML; an empty FILE writes none"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "models make",
        .synopsis = "models make --train TRAIN.csv --out MODEL.gguf\n"
                    "models make --tokenizer NAME|PATH --vocab-only --out VOCAB.gguf",
        .about = MAKE_ABOUT,
        .opts = opts,
    };
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    o->vocab_words = (int)n[0], o->alpha = n[1], o->temperature = n[2];
    o->n_layers = (int)n[3], o->n_ff = (int)n[4], o->n_ctx = (int)n[5];
    o->seed = (uint64_t)n[6];
    if (m->vocab_only && !m->tokenizer)
        return slm_opts_usage_error(&cmd, "option '--vocab-only' needs --tokenizer");
    if (m->tokenizer && !o->out_path)
        return slm_opts_usage_error(&cmd, "models make --tokenizer needs --out");
    if (!(m->tokenizer && m->vocab_only) && (!o->train_path || !o->out_path))
        return slm_opts_usage_error(&cmd, "models make needs --train and --out");
    return SLM_OPTS_GO;
}

/* The chat template of --chat-template FILE into *tmpl (NULL without). Returns an exit
 * code. */
static int read_template(const char *path, char **tmpl)
{
    char err[SLM_ERRLEN];
    size_t len;
    *tmpl = NULL;
    if (!path)
        return SLM_EXIT_OK;
    if (slm_read_file(path, tmpl, &len, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (strlen(*tmpl) != len) {
        free(*tmpl);
        *tmpl = NULL;
        return slm_die(SLM_EXIT_BAD_INPUT, "chat template '%s' holds a NUL byte", path);
    }
    return SLM_EXIT_OK;
}

static void make_report(const slm_factory_opts *o, const slm_factory_report *rep,
                        const char *tokenizer, const slm_shape *shape)
{
    if (tokenizer)
        printf("vocabulary %s, architecture %s%s%s, %zu of %zu labels take several tokens\n",
               tokenizer, rep->arch, shape ? ", shape " : "",
               shape ? shape->name : "", rep->n_multi_token_labels, rep->n_labels);
    printf("wrote %s: %zu train rows, %zu labels, %zu word features, vocabulary %zu, width %zu, "
           "%zu layers, %.2fM parameters, %.1f MiB, train accuracy %.1f%%\n",
           o->out_path, rep->train_rows, rep->n_labels, rep->n_words, rep->n_tokens, rep->n_embd,
           rep->n_layers, (double)rep->n_params / 1e6, (double)rep->file_size / 1048576.0,
           rep->train_accuracy * 100.0);
}

static int models_make(int argc, char **argv)
{
    slm_factory_opts o;
    slm_factory_defaults(&o);
    o.f16 = 1;
    make_args m = {0};
    int prc = make_parse(argc, argv, &o, &m);
    if (prc != SLM_OPTS_GO)
        return prc;
    const char *tokenizer = m.tokenizer;
    if (tokenizer && m.vocab_only)
        return make_vocab(tokenizer, o.out_path);
    char err[SLM_ERRLEN];
    char *tmpl;
    if ((prc = read_template(m.tmpl_path, &tmpl)) != SLM_EXIT_OK)
        return prc;
    o.chat_template = tmpl;
    slm_evalset *es = NULL;
    if (m.evalset) {
        if (slm_evalset_load(m.evalset, &es, err, sizeof err)) {
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
    make_report(&o, &rep, tokenizer, shape);
    slm_factory_report_free(&rep);
    return SLM_EXIT_OK;
}

static int models_quantize(int argc, char **argv)
{
    const char *pos[3] = {0};
    long threads = 0;
    slm_opt opts[] = {
        {.name = "threads", .arg = "N", .kind = SLM_OPT_LONG, .target = &threads,
         .needs = "a positive integer", .min = 1,
         .help = "quantization threads (default: llama.cpp's choice)"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "models quantize",
        .synopsis = "models quantize IN.gguf OUT.gguf TYPE",
        .about = "TYPE: Q8_0, Q4_0, Q4_K_M, Q4_K_S, Q5_K_M, Q6_K, F16 ... through llama.cpp.\n",
        .opts = opts,
        .max_pos = 3,
    };
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, pos, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (np != 3)
        return slm_opts_usage_error(&cmd, "models quantize needs IN.gguf OUT.gguf TYPE");
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
        else if (quantize(pos[0], pos[1], pos[2], (int)threads, err, sizeof err))
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
    slm_opt opts[] = {
        SLM_OPT_JSON(&as_json),
        {0},
    };
    const slm_cmd cmd = {
        .name = "models inspect",
        .synopsis = "models inspect MODEL.gguf",
        .about = "The model facts read from the file (and from llama.cpp when it loads).\n",
        .opts = opts,
        .max_pos = 1,
    };
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, &path, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    if (!path)
        return slm_opts_usage_error(&cmd, "models inspect needs MODEL.gguf");
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
        slm_options eopts = {opt, 2};
        slm_engine *e = NULL;
        if (p->vt->open(&eopts, &e, err, sizeof err) == 0) {
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
    const char *pos[2] = {0}, *file = NULL, *batch = NULL;
    int ids_only = 0, no_special = 0, parse_special = 0;
    slm_opt opts[] = {
        {.name = "ids", .kind = SLM_OPT_FLAG, .target = &ids_only,
         .help = "only the ids, on one line"},
        {.name = "no-special", .kind = SLM_OPT_FLAG, .target = &no_special,
         .help = "without BOS/EOS"},
        {.name = "parse-special", .kind = SLM_OPT_FLAG, .target = &parse_special,
         .help = "texts of special tokens (\"<|im_end|>\") become those tokens"},
        {.name = "file", .arg = "F", .kind = SLM_OPT_STR, .target = &file,
         .help = "tokenize the content of F"},
        {.name = "batch", .arg = "F", .kind = SLM_OPT_STR, .target = &batch,
         .help = "F holds many texts separated by lines __ggml_vocab_test__ (the\n"
                 "format of llama.cpp's tokenizer test vectors): one line of\n"
                 "space-separated ids per text"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "models tokenize",
        .synopsis = "models tokenize MODEL.gguf (TEXT | --file F | --batch F)",
        .about = "The tokens llama.cpp makes of TEXT with the model's vocabulary, one line\n"
                 "'id<TAB>piece' each (control characters escaped), BOS/EOS where the model adds\n"
                 "them. After \"--\" every argument is MODEL or TEXT, even one starting with\n"
                 "'-'.\n",
        .opts = opts,
        .max_pos = 2,
    };
    size_t np;
    int prc = slm_opts_parse(&cmd, argc, argv, 1, pos, &np);
    if (prc != SLM_OPTS_GO)
        return prc;
    const char *path = pos[0], *text = pos[1];
    if (!path)
        return slm_opts_usage_error(&cmd, "models tokenize needs MODEL.gguf");
    if (!!text + !!file + !!batch != 1)
        return slm_opts_usage_error(&cmd, "models tokenize needs one of TEXT, --file F, "
                                          "--batch F");

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

/* What `models labels` was asked for. */
typedef struct labels_args {
    const char *path, *evalset, *labels_file, *prompt_end, *prefix;
    int as_json;
} labels_args;

static const char LABELS_ABOUT[] =
    "How each label tokenizes alone (prefix + label, no BOS) and as score mode scores it:\n"
    "the tail of the joint tokenization of prompt + prefix + label, from the longest token\n"
    "prefix the prompt shares with every joint tokenization. Says which labels differ,\n"
    "which merge with the prompt's end, which take several tokens.\n";

/* The options into *a; SLM_OPTS_GO or the exit code to return. */
static int labels_parse(int argc, char **argv, labels_args *a)
{
    slm_opt opts[] = {
        {.name = "evalset", .arg = "DIR", .kind = SLM_OPT_STR, .target = &a->evalset,
         .help = "the label set and prompt template of DIR/evalset.yaml; the\n"
                 "prompt is the template rendered with the text \"x\""},
        {.name = "labels", .arg = "FILE", .kind = SLM_OPT_STR, .target = &a->labels_file,
         .help = "one label per line, or an id,text,label CSV (its distinct\n"
                 "labels, sorted); the prompt is then \"x\" (the template {{text}})"},
        {.name = "prompt-end", .arg = "TEXT", .kind = SLM_OPT_STR, .target = &a->prompt_end,
         .help = "the prompt (or its end) instead; no chat template is applied"},
        {.name = "prefix", .arg = "P", .kind = SLM_OPT_STR, .target = &a->prefix,
         .help = "the run config's choice_prefix (default \" \")"},
        {.like = &slm_opt_json, .target = &a->as_json,
         .help = "one JSON object: every label's ids and pieces, and the counts"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "models labels",
        .synopsis = "models labels MODEL.gguf (--evalset DIR | --labels FILE)",
        .about = LABELS_ABOUT,
        .opts = opts,
        .max_pos = 1,
    };
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, &a->path, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    if (!a->path)
        return slm_opts_usage_error(&cmd, "models labels needs MODEL.gguf");
    if (!a->evalset == !a->labels_file)
        return slm_opts_usage_error(&cmd, "models labels needs one of --evalset DIR, --labels "
                                          "FILE");
    return SLM_OPTS_GO;
}

/* The labels and the prompt they follow. */
typedef struct label_set {
    slm_evalset *es; /* owns labels when set */
    char **labels, *prompt;
    size_t n;
} label_set;

static void label_set_free(label_set *ls)
{
    free(ls->prompt);
    if (ls->es)
        slm_evalset_free(ls->es);
    else
        slm_free_strv(ls->labels, ls->n);
}

/* The label set of --evalset or --labels and the prompt. Returns an exit code. */
static int labels_load(const labels_args *a, label_set *ls)
{
    char err[SLM_ERRLEN];
    if (a->evalset) {
        if (slm_evalset_load(a->evalset, &ls->es, err, sizeof err))
            return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        if (ls->es->n_labels == 0)
            return slm_die(SLM_EXIT_BAD_INPUT, "eval set '%s' has no label set (task %s)",
                           a->evalset, ls->es->task);
        ls->labels = ls->es->labels;
        ls->n = ls->es->n_labels;
    } else if (read_labels(a->labels_file, &ls->labels, &ls->n, err, sizeof err)) {
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    }
    if (a->prompt_end)
        ls->prompt = slm_xstrdup(a->prompt_end);
    else
        ls->prompt = slm_prompt_render(ls->es ? ls->es->prompt : "{{text}}", "x", "",
                                       (const char *const *)ls->labels, ls->n);
    return SLM_EXIT_OK;
}

/* The prompt's tokens and every label's, and the prefix they all share. */
typedef struct label_scan {
    int32_t *pids;
    char **ppc;
    size_t np, shared;
    struct label_toks *lt;
    size_t n;
} label_scan;

static void label_scan_free(label_scan *sc)
{
    for (size_t l = 0; l < sc->n; l++) {
        free(sc->lt[l].alone);
        free(sc->lt[l].joint);
        slm_vocab_pieces_free(sc->lt[l].alone_pc, sc->lt[l].n_alone);
        slm_vocab_pieces_free(sc->lt[l].joint_pc, sc->lt[l].n_joint);
    }
    free(sc->lt);
    free(sc->pids);
    slm_vocab_pieces_free(sc->ppc, sc->np);
}

/* Tokenizes the prompt and each label alone and after it. Returns an exit code. */
static int labels_tokenize(slm_vocab *v, const char *prefix, const label_set *ls,
                           label_scan *sc)
{
    char err[SLM_ERRLEN];
    int rc = SLM_EXIT_OK;
    sc->n = ls->n;
    sc->lt = slm_xcalloc(ls->n, sizeof *sc->lt);
    if (slm_vocab_tokenize(v, ls->prompt, strlen(ls->prompt), SLM_TOKENIZE_ADD_SPECIAL,
                           &sc->pids, &sc->ppc, &sc->np, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    sc->shared = sc->np;
    for (size_t l = 0; l < ls->n && rc == SLM_EXIT_OK; l++) {
        struct label_toks *t = &sc->lt[l];
        char *alone = slm_xasprintf("%s%s", prefix, ls->labels[l]);
        char *joint = slm_xasprintf("%s%s%s", ls->prompt, prefix, ls->labels[l]);
        if (slm_vocab_tokenize(v, alone, strlen(alone), 0, &t->alone, &t->alone_pc,
                               &t->n_alone, err, sizeof err) ||
            slm_vocab_tokenize(v, joint, strlen(joint), SLM_TOKENIZE_ADD_SPECIAL, &t->joint,
                               &t->joint_pc, &t->n_joint, err, sizeof err))
            rc = slm_die(SLM_EXIT_ENGINE, "label '%s': %s", ls->labels[l], err);
        free(alone);
        free(joint);
        size_t k = 0;
        while (rc == SLM_EXIT_OK && k < sc->np && k < t->n_joint && t->joint[k] == sc->pids[k])
            k++;
        t->lcp = k;
        sc->shared = k < sc->shared ? k : sc->shared;
    }
    return rc;
}

/* One label's line of the text output (the header before the first). */
static void label_row_text(const char *label, const struct label_toks *t, size_t shared,
                           size_t nt, int differs, int merges, int first)
{
    slm_buf b = {0};
    if (first)
        slm_buf_puts(&b, "label\talone\tafter the prompt\tdiffers\tmerges\n");
    escape_into(&b, label, strlen(label), 0);
    slm_buf_putc(&b, '\t');
    pieces_into(&b, t->alone_pc, t->n_alone);
    slm_buf_putc(&b, '\t');
    pieces_into(&b, t->joint_pc + shared, nt);
    slm_buf_printf(&b, "\t%s\t%s\n", differs ? "yes" : "no", merges ? "yes" : "no");
    fwrite(b.data, 1, b.len, stdout);
    slm_buf_free(&b);
}

static json_t *label_row_json(const char *label, const struct label_toks *t, size_t shared,
                              size_t nt, int differs, int merges)
{
    json_t *o = json_object();
    json_object_set_new(o, "label", json_string(label));
    json_object_set_new(o, "alone", tokens_json(t->alone, t->alone_pc, t->n_alone));
    json_object_set_new(o, "after_prompt", tokens_json(t->joint + shared, t->joint_pc + shared,
                                                       nt));
    json_object_set_new(o, "differs", json_boolean(differs));
    json_object_set_new(o, "merges", json_boolean(merges));
    json_object_set_new(o, "n_tokens", json_integer((json_int_t)nt));
    return o;
}

/* Every label's row (text lines now, or into jl), counting which differ, merge and take
 * several tokens into count[0..2]. */
static void labels_rows(const label_set *ls, const label_scan *sc, json_t *jl, size_t count[3])
{
    for (size_t l = 0; l < ls->n; l++) {
        const struct label_toks *t = &sc->lt[l];
        size_t nt = t->n_joint - sc->shared;
        const int32_t *tail = t->joint + sc->shared;
        int differs = nt != t->n_alone || (nt && memcmp(tail, t->alone, nt * sizeof *tail) != 0);
        int merges = t->lcp < sc->np;
        count[0] += differs;
        count[1] += merges;
        count[2] += nt > 1;
        if (jl)
            json_array_append_new(jl, label_row_json(ls->labels[l], t, sc->shared, nt, differs,
                                                     merges));
        else
            label_row_text(ls->labels[l], t, sc->shared, nt, differs, merges, l == 0);
    }
}

/* A label's tokens that score mode decodes: after the shared prefix, all but the last. */
struct decoded {
    const int32_t *t;
    size_t n;
};

static int decoded_cmp(const void *a, const void *b)
{
    const struct decoded *x = a, *y = b;
    for (size_t k = 0; k < x->n && k < y->n; k++)
        if (x->t[k] != y->t[k])
            return x->t[k] < y->t[k] ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

/*
 * What score mode evaluates for these labels after the prompt, into cost[0..2]: all their
 * tokens (K·T), the tokens decoded one label at a time (each label's but the last: the
 * first is read from the prompt's logits, the last is only read), and the nodes of the
 * trie of those decoded tokens, which the llamacpp engine decodes once each
 * (score_trie=1): every distinct prefix of the decoded tokens, counted in sorted order
 * as each label's tokens beyond its common prefix with the previous one.
 */
static void labels_cost(const label_scan *sc, size_t cost[3])
{
    struct decoded *d = slm_xcalloc(sc->n ? sc->n : 1, sizeof *d);
    cost[0] = cost[1] = cost[2] = 0;
    for (size_t l = 0; l < sc->n; l++) {
        size_t nt = sc->lt[l].n_joint - sc->shared;
        d[l] = (struct decoded){sc->lt[l].joint + sc->shared, nt ? nt - 1 : 0};
        cost[0] += nt;
        cost[1] += d[l].n;
    }
    qsort(d, sc->n, sizeof *d, decoded_cmp);
    for (size_t l = 0; l < sc->n; l++) {
        size_t k = 0;
        while (l > 0 && k < d[l].n && k < d[l - 1].n && d[l].t[k] == d[l - 1].t[k])
            k++;
        cost[2] += d[l].n - k;
    }
    free(d);
}

/* The rows and the summary, as text or one JSON object. Returns an exit code. */
static int labels_print(const labels_args *a, const label_set *ls, const label_scan *sc)
{
    size_t count[3] = {0}, cost[3];
    labels_cost(sc, cost);
    if (!a->as_json) {
        labels_rows(ls, sc, NULL, count);
        if (sc->shared < sc->np)
            printf("the prompt's %zu tokens are cut back to the first %zu: every label is "
                   "scored from there\n", sc->np, sc->shared);
        printf("%zu of %zu labels tokenize differently alone than after the prompt; %zu merge "
               "across the boundary; %zu take more than one token\n",
               count[0], ls->n, count[1], count[2]);
        printf("score mode: %zu label tokens in all (K·T), %zu decoded one label at a time, "
               "%zu trie nodes decoded with shared prefixes once (engine option score_trie=1)\n",
               cost[0], cost[1], cost[2]);
        return SLM_EXIT_OK;
    }
    json_t *jl = json_array();
    labels_rows(ls, sc, jl, count);
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(a->path));
    json_object_set_new(o, "prompt_end", json_string(ls->prompt));
    json_object_set_new(o, "prefix", json_string(a->prefix));
    json_object_set_new(o, "prompt_tokens", json_integer((json_int_t)sc->np));
    json_object_set_new(o, "shared_prefix", json_integer((json_int_t)sc->shared));
    json_object_set_new(o, "labels", jl);
    json_object_set_new(o, "n_labels", json_integer((json_int_t)ls->n));
    json_object_set_new(o, "n_differ", json_integer((json_int_t)count[0]));
    json_object_set_new(o, "n_merge", json_integer((json_int_t)count[1]));
    json_object_set_new(o, "n_multi_token", json_integer((json_int_t)count[2]));
    json_object_set_new(o, "label_tokens", json_integer((json_int_t)cost[0]));
    json_object_set_new(o, "decoded_tokens", json_integer((json_int_t)cost[1]));
    json_object_set_new(o, "trie_nodes", json_integer((json_int_t)cost[2]));
    char *s = json_dumps(o, JSON_INDENT(2));
    int rc = SLM_EXIT_OK;
    if (s)
        puts(s);
    else
        rc = slm_die(SLM_EXIT_BAD_INPUT, "a label or the prompt is not UTF-8");
    free(s);
    json_decref(o);
    return rc;
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
    labels_args a = {.prefix = " "};
    int rc = labels_parse(argc, argv, &a);
    if (rc != SLM_OPTS_GO)
        return rc;
    char err[SLM_ERRLEN];
    slm_gguf_info gi;
    if (slm_gguf_inspect(a.path, &gi, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    label_set ls = {0};
    label_scan sc = {0};
    slm_vocab *v = NULL;
    if ((rc = labels_load(&a, &ls)) != SLM_EXIT_OK)
        goto out;
    int vrc = slm_vocab_open(a.path, &v, err, sizeof err);
    if (vrc) /* the engine's own troubles are runtime failures; the rest is about the file */
        rc = slm_die(vrc == -2 ? SLM_EXIT_ENGINE : SLM_EXIT_BAD_INPUT, "%s", err);
    else if ((rc = labels_tokenize(v, a.prefix, &ls, &sc)) == SLM_EXIT_OK)
        rc = labels_print(&a, &ls, &sc);
out:
    label_scan_free(&sc);
    slm_vocab_close(v);
    label_set_free(&ls);
    return rc;
}

int cmd_models(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(OVERVIEW, argc < 2 ? stderr : stdout);
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
    fprintf(stderr, "slmbench: error: unknown models subcommand '%s'\n", argv[1]);
    fputs(OVERVIEW, stderr);
    return SLM_EXIT_USAGE;
}
