/*
 * test_fuzz_inputs.c — hostile inputs through every parser of the harness.
 *
 * A deterministic mutation fuzzer (seeded xorshift; gcc only here, so no libFuzzer). Each
 * parser ("target") starts from real seed files — the test fixtures, the eval sets, a GGUF
 * file written here — and gets, case after case:
 *   1. every truncation of each small seed (the sweep), then
 *   2. mutated seeds: 1 to 4 of bit flips, byte insertion and deletion, truncation, a
 *      duplicated chunk, a splice of two seeds, a BOM, CRLF line ends, NUL, invalid UTF-8,
 *      a long run of one byte (deep nesting, a field over the size limit), huge or odd
 *      numbers, the format's own punctuation; GGUF files also get header words
 *      overwritten with boundary values.
 * Every call must return success or a clean error: -1 (never another value), a
 * NUL-terminated non-empty message that names the file where the API takes a path — and
 * never crash, hang (a per-case alarm) or leak (LeakSanitizer, under make SANITIZE=...).
 * Inputs that once found a defect are kept under tests/fixtures/fuzz/<target>/ and
 * replayed first.
 *
 * Output is cmocka-like, one "test" per target, ending "[  PASSED  ] N test(s)." so that
 * tests/run.sh counts it.
 *
 * Environment:
 *   SLM_ROOT          the source tree (default: the current folder)
 *   FUZZ_ITERS=N      mutated cases per target (default 2000), after the truncation sweep
 *   FUZZ_SEED=S       the run's seed (default 1); case K of a target depends only on S,
 *                     the target and K, so any case replays alone
 *   FUZZ_CASE=K       replay case K only
 *   FUZZ_TARGET=a,b   only these targets (csv, jsonl, yaml, config, evalset, prompt,
 *                     structured, gguf, hftokenizer)
 *   FUZZ_TRACE=1      print each case's replay line before running it: UBSan's abort
 *                     skips the death callback that otherwise names the case
 * A failing case prints its replay line and leaves its input in /tmp/fuzz-<target>-<K>.in.
 */
#include "config.h"
#include "evalset.h"
#include "gguf.h"
#include "hftokenizer.h"
#include "modelfactory.h"
#include "prompt.h"
#include "structured.h"
#include "util.h"
#include "yamltree.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Set by the sanitizer runtimes (ASan, UBSan, LSan); absent in a plain build. */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

#define DEFAULT_ITERS 2000
#define SWEEP_MAX 1200        /* seeds up to this size are truncated at every length */
#define CASE_TIMEOUT_S 30     /* a case taking longer is a hang (sanitizer builds are slow) */
#define SLOW_MS 500           /* a case taking longer is printed */
#define BIG_SEED (256u << 10) /* bytes: a seed this large is picked less often */

/* ---- generator ------------------------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t next(rng *r)
{
    /* xorshift64*: small, fast and the same on every machine */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

static size_t below(rng *r, size_t n)
{
    return n ? (size_t)(next(r) % n) : 0;
}

/* ---- byte buffers ---------------------------------------------------------------- */

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

static void b_insert(bytes *b, size_t at, const void *data, size_t n)
{
    b->p = slm_xrealloc(b->p, b->n + n + 1);
    memmove(b->p + at + n, b->p + at, b->n - at);
    memcpy(b->p + at, data, n);
    b->n += n;
}

static void b_erase(bytes *b, size_t at, size_t n)
{
    if (at + n > b->n)
        n = b->n - at;
    memmove(b->p + at, b->p + at + n, b->n - at - n);
    b->n -= n;
}

/* A NUL-terminated copy, for the APIs that take C strings. */
static char *b_cstr(const unsigned char *p, size_t n)
{
    char *s = slm_xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* ---- targets --------------------------------------------------------------------- */

typedef struct seed {
    char *name;
    unsigned char *p;
    size_t n;
    size_t region;           /* binary files: where the header ends (mutations go there) */
} seed_file;

/* One call of the parser on input in[0..n); rng r picks options. Returns 0, or 1 with the
 * problem in why. */
typedef int (*fuzz_fn)(const unsigned char *in, size_t n, rng *r, char *why, size_t wl);

typedef struct target {
    const char *name;
    fuzz_fn fn;
    const char *const *seed_files; /* relative to SLM_ROOT, NULL-terminated */
    const char *const *dict;       /* the format's own tokens, NULL-terminated */
    int binary;
    seed_file seeds[24];
    size_t n_seeds;
} target;

static char g_root[1024];
static char g_tmp[256];
static bytes g_qwen;         /* the qwen tokenizer.json fixture, beside hostile configs */

/* ---- failure reporting (also from a signal handler) ------------------------------ */

static volatile sig_atomic_t g_active;
static char g_replay[512];   /* the current case's replay line, prepared before the call */
static char g_dump[300];     /* where its input goes if it dies */
static const unsigned char *g_in;
static size_t g_in_n;
static int g_trace;          /* FUZZ_TRACE: print each case before running it */
static size_t g_accepted;    /* cases the parser accepted: a fuzzer that only ever meets
                                rejections reaches little of the parser */

static void write_str(const char *s)
{
    ssize_t rc = write(2, s, strlen(s));
    (void)rc;
}

/* Async-signal-safe: only write(2) and open(2). */
static void report_death(void)
{
    if (!g_active) {
        write_str("fuzz: died outside a case (a leak report?); replay one target at a time "
                  "with FUZZ_TARGET, then cases with FUZZ_CASE, to find it\n");
        return;
    }
    write_str("fuzz: crashed or hung in ");
    write_str(g_replay);
    int fd = open(g_dump, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        ssize_t rc = write(fd, g_in, g_in_n);
        (void)rc;
        close(fd);
        write_str("fuzz: its input is in ");
        write_str(g_dump);
        write_str("\n");
    }
}

static void on_signal(int sig)
{
    if (sig == SIGALRM)
        write_str("fuzz: timeout\n");
    report_death();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    signal(SIGALRM, on_signal);
    if (__sanitizer_set_death_callback) {
        /* the sanitizer's own report is better than ours; add the replay line to it */
        __sanitizer_set_death_callback(report_death);
        return;
    }
    static char altstack[1 << 16]; /* a stack overflow needs another stack to report on */
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* ---- checks shared by the targets ------------------------------------------------ */

/* Fills err with a non-NUL byte, so a message left unterminated is seen. */
static void poison(char *err, size_t n)
{
    memset(err, 'Z', n);
}

/* rc must be 0 or -1; on -1 the message must be terminated, non-empty and name `name`
 * (NULL: no file to name). */
static int check_rc(const char *api, int rc, const char *err, size_t errlen, const char *name,
                    char *why, size_t wl)
{
    if (rc != 0 && rc != -1) {
        snprintf(why, wl, "%s returned %d (expected 0 or -1)", api, rc);
        return 1;
    }
    if (rc == 0)
        return 0;
    if (!memchr(err, '\0', errlen)) {
        snprintf(why, wl, "%s: error message not NUL-terminated", api);
        return 1;
    }
    if (!err[0]) {
        snprintf(why, wl, "%s failed with an empty message", api);
        return 1;
    }
    if (name && !strstr(err, name)) {
        snprintf(why, wl, "%s: message does not name the file (%s): %.300s", api, name, err);
        return 1;
    }
    return 0;
}

static char *tmp_path(const char *rel)
{
    return slm_xasprintf("%s/%s", g_tmp, rel);
}

/* Writes data to <tmp>/rel; returns the path (caller frees). Aborts the test on failure:
 * that is the machine's problem, not the parser's. */
static char *put_file(const char *rel, const void *data, size_t n)
{
    char *path = tmp_path(rel);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s\n", path);
        exit(2);
    }
    return path;
}

static const char *const TINY_LABELS[] = {"billing", "shipping", "technical"};

static slm_field_def INVOICE_FIELDS[] = {
    {"order_id", SLM_FIELD_STRING, NULL, 0}, {"amount", SLM_FIELD_NUMBER, NULL, 0},
    {"currency", SLM_FIELD_STRING, NULL, 0},        {"date", SLM_FIELD_STRING, NULL, 0},
    {"customer", SLM_FIELD_STRING, NULL, 0},
};
static char *CATEGORIES[] = {"billing", "shipping", "technical", "legal_dispute"};
static char *URGENCIES[] = {"1", "2", "3"};
static slm_field_def TRIAGE_FIELDS[] = {
    {"category", SLM_FIELD_ENUM, CATEGORIES, 4},
    {"urgency", SLM_FIELD_ENUM, URGENCIES, 3},
};
static slm_field_def LIST_FIELDS[] = {
    {"tags", SLM_FIELD_LIST, NULL, 0},
    {"amount", SLM_FIELD_NUMBER, NULL, 0},
};

static const char *const INVOICE_GOLD =
    "{\"order_id\":\"2025-4995\",\"amount\":93594.6,\"currency\":\"SEK\","
    "\"date\":\"2025-08-08\",\"customer\":null}";
static const char *const TRIAGE_GOLD = "{\"category\":\"billing\",\"urgency\":\"2\"}";
static const char *const LIST_GOLD = "{\"tags\":[\"a\",\"b\",\"a\"],\"amount\":1}";

/* ---- csv, jsonl: slm_dataset_load ------------------------------------------------ */

static int check_dataset(const slm_dataset *d, const char *name, char *why, size_t wl)
{
    if (!d) {
        snprintf(why, wl, "slm_dataset_load returned 0 without a dataset");
        return 1;
    }
    for (size_t i = 0; i < d->n; i++) {
        const slm_example *e = &d->rows[i];
        if (!e->id || !e->text || !e->label || !e->id[0] || !e->text[0] || !e->label[0]) {
            snprintf(why, wl, "row %zu accepted with an empty id, text or label", i);
            return 1;
        }
    }
    if (d->first_skip_reason && !strstr(d->first_skip_reason, name)) {
        snprintf(why, wl, "skip reason does not name the file: %.300s", d->first_skip_reason);
        return 1;
    }
    if (d->n_skipped && !d->first_skip_reason) {
        snprintf(why, wl, "%zu rows skipped without a reason", d->n_skipped);
        return 1;
    }
    return 0;
}

static int fuzz_dataset(const char *file, const unsigned char *in, size_t n, rng *r, char *why,
                        size_t wl)
{
    char *path = put_file(file, in, n);
    slm_load_opts o = {0};
    switch (below(r, 4)) {
    case 0:
        o.labels = TINY_LABELS;
        o.n_labels = 3;
        o.labels_from = "fuzz";
        break;
    case 1:
        o.fields = INVOICE_FIELDS;
        o.n_fields = 5;
        break;
    case 2:
        o.fields = TRIAGE_FIELDS;
        o.n_fields = 2;
        break;
    default:
        break;
    }
    o.skip_bad_rows = (int)below(r, 2);
    slm_dataset *d = NULL;
    char err[SLM_ERRLEN];
    poison(err, sizeof err);
    int rc = slm_dataset_load(path, &o, &d, err, sizeof err);
    int bad = check_rc("slm_dataset_load", rc, err, sizeof err, file, why, wl);
    g_accepted += rc == 0;
    if (!bad && rc == 0)
        bad = check_dataset(d, file, why, wl);
    else if (!bad && d) {
        snprintf(why, wl, "slm_dataset_load failed but set *out");
        bad = 1;
    }
    slm_dataset_free(d);
    free(path);
    return bad;
}

static int fuzz_csv(const unsigned char *in, size_t n, rng *r, char *why, size_t wl)
{
    return fuzz_dataset("fuzz.csv", in, n, r, why, wl);
}

static int fuzz_jsonl(const unsigned char *in, size_t n, rng *r, char *why, size_t wl)
{
    return fuzz_dataset(below(r, 2) ? "fuzz.jsonl" : "fuzz.ndjson", in, n, r, why, wl);
}

/* ---- yaml: the tree and its getters ---------------------------------------------- */

static int walk_yaml(const slm_yaml *y, const slm_ynode *node, int depth, char *why, size_t wl)
{
    if (!node || depth > 200)
        return 0;
    if (node->kind == SLM_Y_SEQ) {
        for (size_t i = 0; i < node->n; i++)
            if (walk_yaml(y, node->items[i], depth + 1, why, wl))
                return 1;
        return 0;
    }
    if (node->kind != SLM_Y_MAP)
        return 0;
    char err[SLM_ERRLEN];
    static const char *const allowed[] = {"name", "labels", NULL};
    poison(err, sizeof err);
    if (check_rc("slm_ymap_check_keys", slm_ymap_check_keys(y, node, allowed, "fuzz", err,
                                                           sizeof err),
                 err, sizeof err, "fuzz.yaml", why, wl))
        return 1;
    for (size_t i = 0; i < node->n; i++) {
        const char *k = node->keys[i];
        long l;
        double d;
        int b;
        if (slm_ymap_get(node, k) != node->values[i]) { /* duplicate keys are refused */
            snprintf(why, wl, "key '%.100s' does not find its own value", k);
            return 1;
        }
        (void)slm_ymap_str(node, k);
        poison(err, sizeof err);
        int rc = slm_ymap_long(y, node, k, &l, err, sizeof err);
        if (rc == -1 && check_rc("slm_ymap_long", rc, err, sizeof err, "fuzz.yaml", why, wl))
            return 1;
        poison(err, sizeof err);
        rc = slm_ymap_double(y, node, k, &d, err, sizeof err);
        if (rc == -1 && check_rc("slm_ymap_double", rc, err, sizeof err, "fuzz.yaml", why, wl))
            return 1;
        poison(err, sizeof err);
        rc = slm_ymap_bool(y, node, k, &b, err, sizeof err);
        if (rc == -1 && check_rc("slm_ymap_bool", rc, err, sizeof err, "fuzz.yaml", why, wl))
            return 1;
        if (walk_yaml(y, node->values[i], depth + 1, why, wl))
            return 1;
    }
    return 0;
}

static int fuzz_yaml(const unsigned char *in, size_t n, rng *r, char *why, size_t wl)
{
    /* an exact-size copy with no NUL after it: the parser must stay within len */
    char *text = slm_xmalloc(n ? n : 1);
    memcpy(text, in, n);
    slm_yaml *y = NULL;
    char err[SLM_ERRLEN];
    poison(err, sizeof err);
    int rc = slm_yaml_parse("fuzz.yaml", text, n, &y, err, sizeof err);
    int bad = check_rc("slm_yaml_parse", rc, err, sizeof err, "fuzz.yaml", why, wl);
    g_accepted += rc == 0;
    if (!bad && rc == 0)
        bad = walk_yaml(y, y->root, 0, why, wl);
    slm_yaml_free(y);
    free(text);
    return bad;
}

/* ---- config: slm_run_cfg_load / slm_run_cfg_parse -------------------------------- */

static int fuzz_config(const unsigned char *in, size_t n, rng *r, char *why, size_t wl)
{
    slm_run_cfg *c = NULL;
    char err[SLM_ERRLEN];
    poison(err, sizeof err);
    int rc;
    const char *api;
    if (below(r, 2)) {
        char *path = put_file("run.yaml", in, n);
        api = "slm_run_cfg_load";
        rc = slm_run_cfg_load(path, &c, err, sizeof err);
        free(path);
    } else {
        char *text = slm_xmalloc(n ? n : 1); /* no NUL after it, as above */
        memcpy(text, in, n);
        api = "slm_run_cfg_parse";
        rc = slm_run_cfg_parse("run.yaml", g_tmp, text, n, &c, err, sizeof err);
        free(text);
    }
    int bad = check_rc(api, rc, err, sizeof err, "run.yaml", why, wl);
    g_accepted += rc == 0;
    if (!bad && rc == 0 && (!c || !c->name || !c->mode)) {
        snprintf(why, wl, "%s succeeded without a name or mode", api);
        bad = 1;
    }
    if (!bad && rc == 0) {
        for (size_t i = 0; i < c->n_cands; i++)
            (void)slm_cand_opt(&c->cands[i], "n_ctx");
    }
    slm_run_cfg_free(c);
    return bad;
}

/* ---- evalset: evalset.yaml, its prompt and a split ------------------------------- */

/* Messages may name evalset.yaml, the prompt, a split or the folder: all under fuzz-es,
 * unless the mutated file points elsewhere (an absolute path, then named as such). */
static int names_evalset_file(const char *err)
{
    return strstr(err, "fuzz-es") || strchr(err, '/');
}

static int fuzz_evalset(const unsigned char *in, size_t n, rng *r, char *why, size_t wl)
{
    char *path = put_file("fuzz-es/evalset.yaml", in, n);
    char *dir = tmp_path("fuzz-es");
    slm_evalset *e = NULL;
    char err[SLM_ERRLEN];
    poison(err, sizeof err);
    int rc = slm_evalset_load(below(r, 4) ? path : dir, &e, err, sizeof err);
    int bad = check_rc("slm_evalset_load", rc, err, sizeof err, NULL, why, wl);
    g_accepted += rc == 0;
    if (!bad && rc == -1 && !names_evalset_file(err)) {
        snprintf(why, wl, "slm_evalset_load: message names no file: %.300s", err);
        bad = 1;
    }
    if (!bad && rc == 0 && e->n_splits) {
        const char *split = e->splits[below(r, e->n_splits)].name;
        slm_dataset *d = NULL;
        poison(err, sizeof err);
        rc = slm_evalset_load_split(e, split, (int)below(r, 2), &d, err, sizeof err);
        bad = check_rc("slm_evalset_load_split", rc, err, sizeof err, NULL, why, wl);
        if (!bad && rc == -1 && !names_evalset_file(err)) {
            snprintf(why, wl, "slm_evalset_load_split: message names no file: %.300s", err);
            bad = 1;
        }
        slm_dataset_free(d);
    }
    slm_evalset_free(e);
    free(dir);
    free(path);
    return bad;
}

/* ---- prompt: slm_prompt_check and render ----------------------------------------- */

static int fuzz_prompt(const unsigned char *in, size_t n, rng *r, char *why, size_t wl)
{
    char *tmpl = b_cstr(in, n);
    char err[SLM_ERRLEN];
    poison(err, sizeof err);
    int rc = slm_prompt_check(tmpl, "prompt.txt", err, sizeof err);
    int bad = check_rc("slm_prompt_check", rc, err, sizeof err, "prompt.txt", why, wl);
    g_accepted += rc == 0;
    if (!bad && rc == 0) {
        /* the text and id may themselves hold placeholders: they are not expanded again */
        static const char *const texts[] = {"a ticket", "", "{{text}} {{labels}}", "{{",
                                            "}}{{id}}", "\xff\xfe"};
        char *out = slm_prompt_render(tmpl, texts[below(r, 6)], below(r, 2) ? "x1" : "{{id}}",
                                      TINY_LABELS, below(r, 4));
        if (!out) {
            snprintf(why, wl, "slm_prompt_render returned NULL for a checked template");
            bad = 1;
        }
        free(out);
    }
    free(tmpl);
    return bad;
}

/* ---- structured: model answers judged against a label ---------------------------- */

static int fuzz_structured(const unsigned char *in, size_t n, rng *r, char *why, size_t wl)
{
    char *text = b_cstr(in, n);
    const slm_field_def *f = INVOICE_FIELDS;
    size_t nf = 5;
    const char *gold = INVOICE_GOLD;
    switch (below(r, 3)) {
    case 1:
        f = TRIAGE_FIELDS, nf = 2, gold = TRIAGE_GOLD;
        break;
    case 2:
        f = LIST_FIELDS, nf = 2, gold = LIST_GOLD;
        break;
    default:
        break;
    }
    int bad = 0;
    slm_judgement j;
    memset(&j, 0x5a, sizeof j);
    slm_judge_json(text, (int)below(r, 2), f, nf, gold, &j);
    g_accepted += j.pred != NULL;
    if (!memchr(j.kinds, '\0', sizeof j.kinds)) {
        snprintf(why, wl, "slm_judge_json: kinds not NUL-terminated");
        free(text);
        return 1; /* j.pred may be garbage too: do not free it */
    }
    if (j.valid && (!j.pred || j.kinds[0])) {
        snprintf(why, wl, "slm_judge_json: valid without an object, or with kinds '%s'",
                 j.kinds);
        bad = 1;
    }
    if (!bad && j.correct && !j.pred) {
        snprintf(why, wl, "slm_judge_json: correct without an object");
        bad = 1;
    }
    free(j.pred);
    char reason[256];
    poison(reason, sizeof reason);
    int rc = slm_check_object_label(text, f, nf, reason, sizeof reason);
    if (!bad)
        bad = check_rc("slm_check_object_label", rc, reason, sizeof reason, NULL, why, wl);
    (void)slm_json_field_equal(text, gold, f[below(r, nf)].name);
    (void)slm_json_field_equal(gold, text, f[0].name);
    free(text);
    return bad;
}

/* ---- gguf: the reader and its users ---------------------------------------------- */

static int fuzz_gguf(const unsigned char *in, size_t n, rng *r, char *why, size_t wl)
{
    char *path = put_file("fuzz.gguf", in, n);
    char err[SLM_ERRLEN];
    slm_gguf_info info;
    poison(err, sizeof err);
    int rc = slm_gguf_inspect(path, &info, err, sizeof err);
    int bad = check_rc("slm_gguf_inspect", rc, err, sizeof err, "fuzz.gguf", why, wl);
    g_accepted += rc == 0;
    if (!bad && rc == 0 && (info.data_offset + info.data_size > info.file_size ||
                            !memchr(info.name, 0, sizeof info.name))) {
        snprintf(why, wl, "slm_gguf_inspect accepted data past the end or an unterminated name");
        bad = 1;
    }
    if (!bad) {
        char **s = NULL;
        size_t ns = 0;
        poison(err, sizeof err);
        rc = slm_gguf_read_strings(path, "tokenizer.ggml.tokens", &s, &ns, err, sizeof err);
        bad = check_rc("slm_gguf_read_strings", rc, err, sizeof err, "fuzz.gguf", why, wl);
        if (rc == 0) {
            for (size_t i = 0; i < ns; i++)
                free(s[i]);
            free(s);
        }
    }
    if (!bad) {
        slm_gguf_writer *w = slm_gguf_writer_new();
        static const char *const skip[] = {"tokenizer.ggml.scores", NULL};
        poison(err, sizeof err);
        const char *prefix = below(r, 2) ? "tokenizer." : "";
        long k = slm_gguf_copy_keys(w, path, prefix, below(r, 2) ? skip : NULL, err, sizeof err);
        bad = check_rc("slm_gguf_copy_keys", k < 0 ? (int)k : 0, err, sizeof err, "fuzz.gguf",
                       why, wl);
        if (!bad && k > 0 && below(r, 8) == 0) {
            /* what was copied must write back out as a file the reader accepts */
            char *copy = tmp_path("copy.gguf");
            poison(err, sizeof err);
            rc = slm_gguf_writer_write(w, copy, err, sizeof err);
            bad = check_rc("slm_gguf_writer_write", rc, err, sizeof err, "copy.gguf", why, wl);
            free(copy);
        }
        slm_gguf_writer_free(w);
    }
    free(path);
    return bad;
}

/* ---- hftokenizer: tokenizer.json (and tokenizer_config.json) converted ----------- */

static int fuzz_hftokenizer(const unsigned char *in, size_t n, rng *r, char *why, size_t wl)
{
    /* mostly a hostile tokenizer.json beside a good config; sometimes the reverse */
    static const char good_cfg[] = "{\"add_bos_token\": false, \"eos_token\": \"<|im_end|>\", "
                                   "\"chat_template\": \"{{ messages }}\"}";
    char *json_path, *cfg_path = tmp_path("fuzz-tok/tokenizer_config.json");
    switch (below(r, 5)) {
    case 0: /* a hostile config beside the qwen tokenizer */
        free(put_file("fuzz-tok/tokenizer_config.json", in, n));
        json_path = put_file("fuzz-tok/tokenizer.json", g_qwen.p, g_qwen.n);
        break;
    case 1:
        unlink(cfg_path);
        json_path = put_file("fuzz-tok/tokenizer.json", in, n);
        break;
    default:
        free(put_file("fuzz-tok/tokenizer_config.json", good_cfg, sizeof good_cfg - 1));
        json_path = put_file("fuzz-tok/tokenizer.json", in, n);
        break;
    }
    slm_hf_vocab *v = NULL;
    char err[SLM_ERRLEN];
    poison(err, sizeof err);
    int rc = slm_hf_vocab_load(json_path, &v, err, sizeof err);
    int bad = check_rc("slm_hf_vocab_load", rc, err, sizeof err, "fuzz-tok", why, wl);
    g_accepted += rc == 0;
    if (!bad && rc == 0 && below(r, 8) == 0) {
        char *out = tmp_path("vocab.gguf");
        slm_gguf_info info;
        poison(err, sizeof err);
        rc = slm_hf_vocab_write_gguf(v, out, err, sizeof err);
        bad = check_rc("slm_hf_vocab_write_gguf", rc, err, sizeof err, "vocab.gguf", why, wl);
        if (!bad && rc == 0) {
            rc = slm_gguf_inspect(out, &info, err, sizeof err);
            if (rc != 0) {
                snprintf(why, wl, "a converted vocabulary does not read back: %.300s", err);
                bad = 1;
            }
        }
        free(out);
    }
    slm_hf_vocab_free(v);
    free(cfg_path);
    free(json_path);
    return bad;
}

/* ---- mutations ------------------------------------------------------------------- */

static const char *const INVALID_UTF8[] = {
    "\xc3",         /* a lead byte alone */
    "\xff",         /* never valid */
    "\xed\xa0\x80", /* a UTF-16 surrogate */
    "\xc0\x80",     /* an overlong NUL */
    "\xf8\x88\x80\x80\x80", /* a five-byte form */
    "\x80\x80",     /* continuation bytes alone */
    "\xf4\x90\x80\x80", /* past U+10FFFF */
};

static const char *const NUMBERS[] = {
    "99999999999999999999999999", "-1", "-0", "1e308", "1e309", "-1e309", "nan", "inf",
    "18446744073709551616", "9223372036854775807", "-9223372036854775808", "2147483648",
    "0x7fffffff", "4294967295", "0.000000000000000000001", "1.5", "007", "+3", "1_000",
    "",
};

/* Where in b a mutation goes: anywhere, or for binary seeds mostly in the header. */
static size_t pick_pos(rng *r, const bytes *b, size_t region)
{
    size_t lim = region && region < b->n && below(r, 4) ? region : b->n;
    return below(r, lim + 1);
}

static void mutate_word(rng *r, bytes *b, size_t region)
{
    /* a little-endian word in the header set to a boundary value: counts, lengths, types */
    static const uint64_t vals[] = {0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 31, 32, 33, 0x7f, 0xff,
                                    0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
                                    0x100000000ull, 0x7fffffffffffffffull, UINT64_MAX};
    size_t width = (size_t)1 << below(r, 4);
    if (b->n < width)
        return;
    size_t lim = region && region < b->n ? region : b->n;
    size_t at = below(r, lim - (lim >= width ? width : lim) + 1);
    if (at + width > b->n)
        at = b->n - width;
    uint64_t v = below(r, 8) == 0 ? (uint64_t)b->n + below(r, 3) - 1 : vals[below(r, 23)];
    for (size_t i = 0; i < width; i++)
        b->p[at + i] = (unsigned char)(v >> (8 * i));
}

static void mutate_run(rng *r, bytes *b, size_t region)
{
    static const char run_bytes[] = "a\"{[-: \n,\\'#&*|>\t0";
    size_t lens[] = {16, 300, 4096, 70000};
    size_t len = below(r, 64) == 0 ? SLM_MAX_FIELD_BYTES + 16 : lens[below(r, 4)];
    unsigned char c = (unsigned char)run_bytes[below(r, sizeof run_bytes - 1)];
    unsigned char *run = slm_xmalloc(len);
    memset(run, c, len);
    b_insert(b, pick_pos(r, b, region), run, len);
    free(run);
}

static void to_crlf(rng *r, bytes *b, size_t region)
{
    if (below(r, 2)) {
        b_insert(b, pick_pos(r, b, region), "\r", 1);
        return;
    }
    /* every LF becomes CRLF, in one pass (a 1 MiB run of LF would make it quadratic) */
    size_t lf = 0;
    for (size_t i = 0; i < b->n; i++)
        lf += b->p[i] == '\n';
    unsigned char *p = slm_xmalloc(b->n + lf + 1), *q = p;
    for (size_t i = 0; i < b->n; i++) {
        if (b->p[i] == '\n')
            *q++ = '\r';
        *q++ = b->p[i];
    }
    free(b->p);
    b->p = p;
    b->n += lf;
}

/* Replaces the digits at a random digit (or inserts where there is none) with a number. */
static void mutate_number(rng *r, bytes *b, size_t region)
{
    const char *num = NUMBERS[below(r, sizeof NUMBERS / sizeof NUMBERS[0])];
    size_t at = pick_pos(r, b, region);
    size_t i = at;
    while (i < b->n && !(b->p[i] >= '0' && b->p[i] <= '9'))
        i++;
    if (i < b->n) {
        size_t j = i;
        while (j < b->n && ((b->p[j] >= '0' && b->p[j] <= '9') || b->p[j] == '.'))
            j++;
        b_erase(b, i, j - i);
        at = i;
    }
    b_insert(b, at, num, strlen(num));
}

static void mutate_once(rng *r, bytes *b, const target *t, size_t region)
{
    size_t at = pick_pos(r, b, region), k = below(r, t->binary ? 16 : 14);
    switch (k) {
    case 0:
        if (b->n)
            b->p[at < b->n ? at : b->n - 1] ^= (unsigned char)(1u << below(r, 8));
        break;
    case 1: {
        unsigned char ins[8];
        size_t m = 1 + below(r, 8);
        for (size_t i = 0; i < m; i++)
            ins[i] = (unsigned char)next(r);
        b_insert(b, at, ins, m);
        break;
    }
    case 2:
        b_erase(b, at, 1 + below(r, below(r, 4) ? 8 : 256));
        break;
    case 3:
        b->n = below(r, b->n + 1);
        break;
    case 4: {
        size_t from = below(r, b->n + 1), m = below(r, 128);
        if (from + m > b->n)
            m = b->n - from;
        unsigned char *chunk = slm_xmalloc(m + 1);
        memcpy(chunk, b->p + from, m);
        b_insert(b, at, chunk, m);
        free(chunk);
        break;
    }
    case 5: { /* splice: this one's head, another seed's tail */
        const seed_file *o = &t->seeds[below(r, t->n_seeds)];
        size_t from = below(r, o->n + 1);
        b->n = at;
        b_insert(b, at, o->p + from, o->n - from);
        break;
    }
    case 6:
        b_insert(b, below(r, 2) ? 0 : at, "\xef\xbb\xbf", 3);
        break;
    case 7:
        to_crlf(r, b, region);
        break;
    case 8:
        b_insert(b, at, "", 1);
        break;
    case 9: {
        const char *u = INVALID_UTF8[below(r, sizeof INVALID_UTF8 / sizeof INVALID_UTF8[0])];
        b_insert(b, at, u, strlen(u));
        break;
    }
    case 10:
        mutate_run(r, b, region);
        break;
    case 11:
        mutate_number(r, b, region);
        break;
    case 12:
    case 13: {
        size_t nd = 0;
        while (t->dict[nd])
            nd++;
        const char *tok = t->dict[below(r, nd)];
        if (below(r, 3) == 0 && at < b->n) /* replace a byte, else insert */
            b_erase(b, at, 1);
        b_insert(b, at, tok, strlen(tok));
        break;
    }
    default:
        mutate_word(r, b, region);
        break;
    }
}

/* ---- seeds ----------------------------------------------------------------------- */

static void add_seed(target *t, const char *name, unsigned char *p, size_t n, size_t region)
{
    if (t->n_seeds == sizeof t->seeds / sizeof t->seeds[0]) {
        fprintf(stderr, "fuzz: too many seeds for %s\n", t->name);
        exit(2);
    }
    t->seeds[t->n_seeds++] = (seed_file){slm_xstrdup(name), p, n, region};
}

static int load_seed_file(target *t, const char *rel)
{
    char *path = slm_xasprintf("%s/%s", g_root, rel), err[SLM_ERRLEN], *text = NULL;
    size_t n = 0;
    int rc = slm_read_file(path, &text, &n, err, sizeof err);
    if (rc == 0)
        add_seed(t, rel, (unsigned char *)text, n, 0);
    else
        fprintf(stderr, "fuzz: seed: %s\n", err);
    free(path);
    return rc;
}

/* A small GGUF file with a value of every kind and two tensors. */
static int gguf_sample(const char *path, char *err, size_t errlen)
{
    slm_gguf_writer *w = slm_gguf_writer_new();
    slm_gguf_set_str(w, "general.architecture", "llama");
    slm_gguf_set_str(w, "general.name", "fuzz");
    slm_gguf_set_u32(w, "general.file_type", 1);
    slm_gguf_set_u32(w, "llama.context_length", 64);
    slm_gguf_set_u64(w, "llama.embedding_length", 8);
    slm_gguf_set_i32(w, "llama.block_count", 1);
    slm_gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    slm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", 1);
    static const char *const toks[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81hi", "a"};
    static const float scores[] = {0, 0, 0, -1, -2};
    static const int32_t types[] = {2, 3, 3, 1, 1};
    slm_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    slm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, 5);
    slm_gguf_set_arr_f32(w, "tokenizer.ggml.scores", scores, 5);
    slm_gguf_set_arr_i32(w, "tokenizer.ggml.token_type", types, 5);
    slm_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    slm_gguf_set_str(w, "tokenizer.chat_template", "{{ x }}");
    uint64_t ne2[2] = {8, 5}, ne1[1] = {8};
    float *a = slm_xcalloc(40, sizeof *a), *b = slm_xcalloc(8, sizeof *b);
    int rc = slm_gguf_add_tensor(w, "token_embd.weight", SLM_GGUF_TYPE_F16, 2, ne2, a, err,
                                 errlen);
    if (rc == 0)
        rc = slm_gguf_add_tensor(w, "output_norm.weight", SLM_GGUF_TYPE_F32, 1, ne1, b, err,
                                 errlen);
    if (rc == 0)
        rc = slm_gguf_writer_write(w, path, err, errlen);
    slm_gguf_writer_free(w);
    return rc;
}

/* A demo model from the tiny eval set's train split: real metadata of a real kind. */
static int gguf_demo_model(const char *path, char *err, size_t errlen)
{
    slm_factory_opts o;
    slm_factory_defaults(&o);
    char *train = slm_xasprintf("%s/tests/fixtures/tiny/train.csv", g_root);
    o.train_path = train;
    o.out_path = path;
    o.vocab_words = 12;
    o.n_ctx = 64;
    o.capitalised = 0;
    int rc = slm_model_make(&o, NULL, err, errlen);
    free(train);
    return rc;
}

static void add_gguf_seed(target *t, const char *name, int (*make)(const char *, char *, size_t))
{
    char err[SLM_ERRLEN], *text = NULL;
    char *path = tmp_path(name);
    size_t n = 0;
    slm_gguf_info info;
    if (make(path, err, sizeof err) || slm_read_file(path, &text, &n, err, sizeof err) ||
        slm_gguf_inspect(path, &info, err, sizeof err)) {
        fprintf(stderr, "fuzz: cannot make the GGUF seed %s: %s\n", name, err);
        exit(2);
    }
    add_seed(t, name, (unsigned char *)text, n, (size_t)info.data_offset);
    free(path);
}

static const char *const CSV_SEEDS[] = {
    "tests/fixtures/tiny/test.csv", "tests/fixtures/tiny/calibration.csv",
    "tests/fixtures/tiny_train.csv", "tests/fixtures/fuzz/seeds/invoice.csv",
    "tests/fixtures/replay/preds.csv", NULL};
static const char *const JSONL_SEEDS[] = {"tests/fixtures/fuzz/seeds/tiny.jsonl",
                                          "tests/fixtures/fuzz/seeds/invoice.jsonl", NULL};
static const char *const YAML_SEEDS[] = {
    "tests/fixtures/tiny/evalset.yaml", "evalsets/support-triage/structured/evalset.yaml",
    "evalsets/invoice-extract/evalset.yaml", "tests/fixtures/fuzz/seeds/run.yaml",
    "bench/demo.yaml", NULL};
static const char *const CONFIG_SEEDS[] = {"tests/fixtures/fuzz/seeds/run.yaml",
                                           "bench/demo.yaml", NULL};
static const char *const EVALSET_SEEDS[] = {
    "tests/fixtures/tiny/evalset.yaml", "evalsets/support-triage/structured/evalset.yaml",
    "evalsets/invoice-extract/evalset.yaml", NULL};
static const char *const PROMPT_SEEDS[] = {
    "tests/fixtures/tiny/prompt.txt", "evalsets/support-triage/structured/prompt.txt",
    "evalsets/invoice-extract/prompt.txt", NULL};
static const char *const ANSWER_SEEDS[] = {
    "tests/fixtures/fuzz/seeds/answer_invoice.txt",
    "tests/fixtures/fuzz/seeds/answer_triage.txt", "tests/fixtures/fuzz/seeds/answer_list.txt",
    "tests/fixtures/fuzz/seeds/answer_plain.txt", NULL};
static const char *const TOKENIZER_SEEDS[] = {
    "tests/fixtures/hftokenizer/bpe_gpt2/tokenizer.json",
    "tests/fixtures/hftokenizer/bpe_llama/tokenizer.json",
    "tests/fixtures/hftokenizer/bpe_qwen/tokenizer.json",
    "tests/fixtures/hftokenizer/bpe_qwen/tokenizer_config.json",
    "tests/fixtures/hftokenizer/bad/added_clash.json",
    "tests/fixtures/hftokenizer/bad/byte_fallback.json",
    "tests/fixtures/hftokenizer/bad/dup_id.json", "tests/fixtures/hftokenizer/bad/unigram.json",
    "tests/fixtures/hftokenizer/bad/wordpiece.json", NULL};
static const char *const NO_SEEDS[] = {NULL};

static const char *const CSV_DICT[] = {",", "\"", "\"\"", "\n", "\r\n", "\r", "id", "text",
                                       "label", "slice", "id,text,label\n", "{", "}", "\\",
                                       "billing", ";", NULL};
static const char *const JSON_DICT[] = {"{", "}", "[", "]", "\"", "\\", "\\u0000", "\\ud800",
                                        ":", ",", "null", "true", "false", "\"id\"", "\"text\"",
                                        "\"label\"", "\n", "{}", "[]", "1e999", NULL};
static const char *const YAML_DICT[] = {
    ":", ": ", "- ", "\n", "\n  ", "[", "]", "{", "}", ",", "&a ", "*a", "!!binary ", "!x ",
    "? ", "|", ">", "'", "\"", "#", "---\n", "...\n", "~", "null", "<<: *a", "%YAML 1.1\n",
    "\t", "candidates", "name: ", "splits", "fields", "labels", "requirements", NULL};
static const char *const PROMPT_DICT[] = {"{{", "}}", "{{text}}", "{{labels}}", "{{id}}",
                                          "{{ text }}", "{", "}", "{{{", "}}}", "\n", NULL};
static const char *const BINARY_DICT[] = {"GGUF", "\x03\0\0\0", "\xff\xff\xff\xff",
                                          "\0\0\0\0\0\0\0\0", "tokenizer.ggml.tokens", NULL};

static target TARGETS[] = {
    {.name = "csv", .fn = fuzz_csv, .seed_files = CSV_SEEDS, .dict = CSV_DICT},
    {.name = "jsonl", .fn = fuzz_jsonl, .seed_files = JSONL_SEEDS, .dict = JSON_DICT},
    {.name = "yaml", .fn = fuzz_yaml, .seed_files = YAML_SEEDS, .dict = YAML_DICT},
    {.name = "config", .fn = fuzz_config, .seed_files = CONFIG_SEEDS, .dict = YAML_DICT},
    {.name = "evalset", .fn = fuzz_evalset, .seed_files = EVALSET_SEEDS, .dict = YAML_DICT},
    {.name = "prompt", .fn = fuzz_prompt, .seed_files = PROMPT_SEEDS, .dict = PROMPT_DICT},
    {.name = "structured", .fn = fuzz_structured, .seed_files = ANSWER_SEEDS, .dict = JSON_DICT},
    {.name = "gguf", .fn = fuzz_gguf, .seed_files = NO_SEEDS, .dict = BINARY_DICT, .binary = 1},
    {.name = "hftokenizer", .fn = fuzz_hftokenizer, .seed_files = TOKENIZER_SEEDS,
     .dict = JSON_DICT},
};
#define N_TARGETS (sizeof TARGETS / sizeof TARGETS[0])

static int load_seeds(target *t)
{
    for (size_t i = 0; t->seed_files[i]; i++)
        if (load_seed_file(t, t->seed_files[i]))
            return -1;
    if (strcmp(t->name, "gguf") == 0) {
        add_gguf_seed(t, "sample.gguf", gguf_sample);
        add_gguf_seed(t, "demo.gguf", gguf_demo_model);
    }
    return 0;
}

/* The files the evalset and hftokenizer targets need beside the fuzzed one. */
static int prepare_tmp(void)
{
    static const char *const files[] = {"prompt.txt", "test.csv", "train.csv",
                                        "calibration.csv"};
    char err[SLM_ERRLEN], *dir = tmp_path("fuzz-es"), *tok = tmp_path("fuzz-tok");
    int rc = slm_mkdir_p(dir, err, sizeof err) || slm_mkdir_p(tok, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < sizeof files / sizeof files[0]; i++) {
        char *src = slm_xasprintf("%s/tests/fixtures/tiny/%s", g_root, files[i]), *text = NULL;
        size_t n = 0;
        rc = slm_read_file(src, &text, &n, err, sizeof err);
        if (rc == 0) {
            char *rel = slm_xasprintf("fuzz-es/%s", files[i]);
            free(put_file(rel, text, n));
            free(rel);
        }
        free(text);
        free(src);
    }
    if (rc == 0) {
        char *src = slm_xasprintf("%s/tests/fixtures/hftokenizer/bpe_qwen/tokenizer.json",
                                  g_root);
        rc = slm_read_file(src, (char **)&g_qwen.p, &g_qwen.n, err, sizeof err);
        free(src);
    }
    if (rc)
        fprintf(stderr, "fuzz: %s\n", err);
    free(dir);
    free(tok);
    return rc;
}

/* ---- running --------------------------------------------------------------------- */

typedef struct run_opts {
    uint64_t seed;
    long only_case;          /* -1: all */
    size_t iters;
    const char *only_targets; /* "csv,yaml" or NULL */
} run_opts;

/* Truncation-sweep cases of a target: every length of each small seed. */
static size_t sweep_cases(const target *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_seeds; i++)
        if (t->seeds[i].n <= SWEEP_MAX)
            n += t->seeds[i].n;
    return n;
}

/* A seed for a mutated case: one over BIG_SEED bytes (the demo model) an eighth as often
 * as a small one, since writing it out dominates the case's time. */
static const seed_file *pick_seed(const target *t, rng *r)
{
    size_t total = 0;
    for (size_t i = 0; i < t->n_seeds; i++)
        total += t->seeds[i].n > BIG_SEED ? 1 : 8;
    size_t x = below(r, total);
    for (size_t i = 0; i < t->n_seeds; i++) {
        size_t w = t->seeds[i].n > BIG_SEED ? 1 : 8;
        if (x < w)
            return &t->seeds[i];
        x -= w;
    }
    return &t->seeds[0];
}

/* Case k of target ti: its input in b (a new buffer), its generator in r. */
static void make_case(const target *t, size_t ti, size_t k, uint64_t seed, bytes *b, rng *r)
{
    r->s = splitmix(seed ^ splitmix((uint64_t)ti << 32 ^ k)) | 1;
    size_t base = 0;
    for (size_t i = 0; i < t->n_seeds; i++) {
        const seed_file *s = &t->seeds[i];
        if (s->n > SWEEP_MAX)
            continue;
        if (k < base + s->n) {
            b->n = k - base;
            b->p = slm_xmalloc(b->n + 1);
            memcpy(b->p, s->p, b->n);
            return;
        }
        base += s->n;
    }
    const seed_file *s = pick_seed(t, r);
    b->n = s->n;
    b->p = slm_xmalloc(s->n + 1);
    memcpy(b->p, s->p, s->n);
    /* one mutation half the time: inputs that stay nearly valid get deepest */
    size_t m = 1;
    while (m < 4 && below(r, 2))
        m++;
    for (; m > 0; m--)
        mutate_once(r, b, t, s->region);
}

/* Runs one input; prints the failure and keeps the input. label: "case 12", "fixture x". */
static int run_one(const target *t, const bytes *b, rng *r, const char *label,
                   const char *replay)
{
    char why[600] = "";
    snprintf(g_replay, sizeof g_replay, "%s %s; replay: %s\n", t->name, label, replay);
    const char *tag = strchr(label, ' ') ? strchr(label, ' ') + 1 : label;
    int tl = (int)strlen(tag);
    if (tl > 3 && strcmp(tag + tl - 3, ".in") == 0)
        tl -= 3;
    snprintf(g_dump, sizeof g_dump, "/tmp/fuzz-%s-%.*s.in", t->name, tl, tag);
    g_in = b->p;
    g_in_n = b->n;
    if (g_trace)
        write_str(g_replay);
    g_active = 1;
    alarm(CASE_TIMEOUT_S);
    double t0 = slm_now_ms();
    int bad = t->fn(b->p, b->n, r, why, sizeof why);
    double ms = slm_now_ms() - t0;
    alarm(0);
    g_active = 0;
    if (ms > SLOW_MS) /* not a failure; a sign of work out of proportion to the input */
        printf("[  SLOW    ] %s %s: %.0f ms for %zu bytes; replay: %s\n", t->name, label, ms,
               b->n, replay);
    if (bad) {
        printf("[  ERROR   ] %s %s: %s\n    replay: %s\n", t->name, label, why, replay);
        FILE *f = fopen(g_dump, "wb");
        if (f) {
            fwrite(b->p, 1, b->n, f);
            fclose(f);
            printf("    input: %s\n", g_dump);
        }
    }
    return bad;
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Inputs that once found a defect (tests/fixtures/fuzz/<target>/NAME.in), each run with
 * eight generators so the options that found it are among them. */
static int run_fixtures(const target *t, size_t *n_run)
{
    char *dir = slm_xasprintf("%s/tests/fixtures/fuzz/%s", g_root, t->name);
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, cmp_names), failed = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        size_t len = strlen(name);
        if (len > 3 && strcmp(name + len - 3, ".in") == 0) {
            char *path = slm_xasprintf("%s/%s", dir, name), err[SLM_ERRLEN], *text = NULL;
            bytes b = {0};
            if (slm_read_file(path, &text, &b.n, err, sizeof err) == 0) {
                b.p = (unsigned char *)text;
                char *label = slm_xasprintf("fixture %s", name);
                for (uint64_t k = 0; k < 8; k++) {
                    rng r = {splitmix(k) | 1};
                    failed += run_one(t, &b, &r, label, path);
                    (*n_run)++;
                }
                free(label);
            } else {
                printf("[  ERROR   ] %s\n", err);
                failed++;
            }
            free(text);
            free(path);
        }
        free(ents[i]);
    }
    free(ents);
    free(dir);
    return failed;
}

static int wanted(const char *name, const char *list)
{
    if (!list || !*list)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t m = strcspn(p, ", ");
        if (m == n && strncmp(p, name, n) == 0)
            return 1;
        p += m;
        p += strspn(p, ", ");
    }
    return 0;
}

/* One target: its fixtures, then its cases. Returns the number of failed cases. */
static int run_target(target *t, size_t ti, const run_opts *o)
{
    double t0 = slm_now_ms();
    size_t n_run = 0;
    g_accepted = 0;
    int failed = run_fixtures(t, &n_run);
    size_t total = sweep_cases(t) + o->iters;
    size_t from = o->only_case >= 0 ? (size_t)o->only_case : 0;
    size_t to = o->only_case >= 0 ? from + 1 : total;
    for (size_t k = from; k < to && failed < 5; k++) {
        bytes b = {0};
        rng r;
        make_case(t, ti, k, o->seed, &b, &r);
        char label[48], replay[160];
        snprintf(label, sizeof label, "case %zu", k);
        snprintf(replay, sizeof replay, "FUZZ_SEED=%llu FUZZ_TARGET=%s FUZZ_CASE=%zu%s",
                 (unsigned long long)o->seed, t->name, k,
                 o->iters != DEFAULT_ITERS ? " (with FUZZ_ITERS as given)" : "");
        failed += run_one(t, &b, &r, label, replay);
        n_run++;
        free(b.p);
    }
    if (failed)
        printf("[  FAILED  ] fuzz_%s (%d failed)\n", t->name, failed);
    else
        printf("[       OK ] fuzz_%s (%zu cases, %zu accepted, %.0f ms)\n", t->name, n_run,
               g_accepted, slm_now_ms() - t0);
    fflush(stdout);
    return failed;
}

static long env_long(const char *name, long def)
{
    const char *s = getenv(name);
    long v;
    return s && *s && slm_parse_long(s, &v) == 0 && v >= 0 ? v : def;
}

int main(void)
{
    const char *root = getenv("SLM_ROOT");
    snprintf(g_root, sizeof g_root, "%s", root && *root ? root : ".");
    run_opts o = {.seed = (uint64_t)env_long("FUZZ_SEED", 1),
                  .only_case = env_long("FUZZ_CASE", -1),
                  .iters = (size_t)env_long("FUZZ_ITERS", DEFAULT_ITERS),
                  .only_targets = getenv("FUZZ_TARGET")};
    /* thousands of small files are written and rewritten: on tmpfs that costs next to
     * nothing, on a disk a truncating open can take a third of a millisecond */
    const char *tmp = getenv("TMPDIR");
    if (access("/dev/shm", W_OK) == 0)
        tmp = "/dev/shm";
    snprintf(g_tmp, sizeof g_tmp, "%s/slm_fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_tmp) || prepare_tmp()) {
        fprintf(stderr, "fuzz: cannot prepare %s\n", g_tmp);
        return 2;
    }
    install_handlers();
    g_trace = env_long("FUZZ_TRACE", 0) != 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("[==========] fuzz: seed %llu, %zu mutated cases per target (a sanitizer report "
           "with no replay line after it: rerun with FUZZ_TRACE=1)\n",
           (unsigned long long)o.seed, o.iters);
    int passed = 0, failed = 0;
    char failed_names[256] = "";
    for (size_t i = 0; i < N_TARGETS; i++) {
        target *t = &TARGETS[i];
        if (!wanted(t->name, o.only_targets))
            continue;
        printf("[ RUN      ] fuzz_%s\n", t->name);
        int bad = load_seeds(t);
        size_t bytes_total = 0;
        for (size_t s = 0; s < t->n_seeds; s++)
            bytes_total += t->seeds[s].n;
        printf("[          ] %zu seeds, %zu bytes\n", t->n_seeds, bytes_total);
        if (bad || run_target(t, i, &o)) {
            failed++;
            snprintf(failed_names + strlen(failed_names),
                     sizeof failed_names - strlen(failed_names), " fuzz_%s", t->name);
        } else {
            passed++;
        }
        for (size_t s = 0; s < t->n_seeds; s++) {
            free(t->seeds[s].name);
            free(t->seeds[s].p);
        }
        t->n_seeds = 0;
    }
    free(g_qwen.p);
    char *cmd = slm_xasprintf("rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: cannot remove %s\n", g_tmp);
    free(cmd);
    printf("[==========] %d test(s) run.\n", passed + failed);
    printf("[  PASSED  ] %d test(s).\n", passed);
    if (failed)
        printf("[  FAILED  ] %d test(s), listed below:%s\n", failed, failed_names);
    return failed ? 1 : 0;
}
