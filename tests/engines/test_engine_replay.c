/*
 * test_engine_replay.c — the replay engine plugin through its vtable: the table itself,
 * answers read back from tests/fixtures/replay/preds.csv (quoted fields with commas,
 * doubled quotes and a line break), JSON lines, error messages that name the file and
 * line, and the injected faults (fail_ids, fail_every, die_after, delay_ms).
 *
 * Environment: SLM_ENGINE_DIR (default: ../engines next to this binary, then
 * build/engines) holds replay.so. The fixture is found from the current directory or
 * from the repository root above this binary.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "slm_engine.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define LN_1E6 (-13.815510557964274)

#define assert_near(actual, expected)                                                      \
    do {                                                                                   \
        double a_ = (actual), e_ = (expected);                                             \
        if (!(fabs(a_ - e_) <= 1e-9 * (1 + fabs(e_))))                                     \
            fail_msg("%s = %.12g, expected %.12g", #actual, a_, e_);                       \
    } while (0)

#define assert_has(haystack, needle)                                                       \
    do {                                                                                   \
        if (!strstr((haystack), (needle)))                                                 \
            fail_msg("'%s' does not contain '%s'", (haystack), (needle));                  \
    } while (0)

static struct {
    void *so;
    const slm_engine_vtable *vt;
    char preds[1024]; /* the fixture */
    char dir[64];     /* temporary files */
} fx;

/* ---- helpers ------------------------------------------------------------------------- */

static int exists(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Writes text to a file named name in the temporary folder; returns its path (static). */
static const char *write_tmp(const char *name, const char *text)
{
    static char path[256];
    char err[SLM_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", fx.dir, name);
    if (slm_write_file_atomic(path, text, strlen(text), err, sizeof err))
        fail_msg("%s", err);
    return path;
}

/* Opens the engine with key/value pairs (NULL-terminated); returns 0 or -1 with err. */
static int open_with(slm_engine **e, char *err, size_t errlen, ...)
{
    slm_option items[16];
    size_t n = 0;
    va_list ap;
    va_start(ap, errlen);
    const char *k;
    while ((k = va_arg(ap, const char *)) && n < N(items)) {
        items[n].key = k;
        items[n++].value = va_arg(ap, const char *);
    }
    va_end(ap);
    slm_options o = {items, n};
    return fx.vt->open(&o, e, err, errlen);
}

static slm_engine *open_ok(const char *path)
{
    slm_engine *e = NULL;
    char err[SLM_ERRLEN];
    if (open_with(&e, err, sizeof err, "file", path, NULL))
        fail_msg("open '%s': %s", path, err);
    return e;
}

typedef struct phases {
    int begun[SLM_PHASE_COUNT], ended[SLM_PHASE_COUNT], n_tokens[SLM_PHASE_COUNT];
} phases;

static void on_begin(void *ud, slm_phase p)
{
    ((phases *)ud)->begun[p]++;
}

static void on_end(void *ud, slm_phase p, int n)
{
    ((phases *)ud)->ended[p]++;
    ((phases *)ud)->n_tokens[p] = n;
}

static slm_request request(const char *id, const char *prompt, const slm_probe *probe)
{
    slm_request r = {sizeof r, id, prompt, strlen(prompt), 0, probe};
    return r;
}

static const char *const choices[] = {" billing", " shipping", " needs, triage ", " other"};

/* Scores choices for id; fails the test unless it succeeds. */
static slm_score_result *score_ok(slm_engine *e, const char *id)
{
    slm_score_result *res = NULL;
    char err[SLM_ERRLEN];
    slm_request req = request(id, "Q: which queue? A:", NULL);
    if (fx.vt->score(e, &req, choices, N(choices), &res, err, sizeof err))
        fail_msg("score '%s': %s", id, err);
    assert_non_null(res);
    return res;
}

/* Runs one generate for id; returns its status and fills err. */
static int gen(slm_engine *e, const char *id, slm_gen_result **out, char *err, size_t errlen)
{
    slm_gen_params gp = {sizeof gp, 16, NULL, 0, NULL, NULL, 0.0, 0};
    slm_request req = request(id, "Q: which queue? A:", NULL);
    *out = NULL;
    return fx.vt->generate(e, &req, &gp, out, err, errlen);
}

/* ---- set-up -------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    char path[1024];
    const char *dir = getenv("SLM_ENGINE_DIR");
    if (dir && *dir)
        snprintf(path, sizeof path, "%s/replay.so", dir);
    else {
        snprintf(path, sizeof path, "%s/../engines/replay.so", slm_exe_dir());
        if (!exists(path))
            snprintf(path, sizeof path, "build/engines/replay.so");
    }
    fx.so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!fx.so) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        return -1;
    }
    slm_engine_entry_fn entry = (slm_engine_entry_fn)dlsym(fx.so, SLM_ENGINE_ENTRY);
    fx.vt = entry ? entry() : NULL;
    if (!fx.vt)
        return -1;

    const char *const roots[] = {".", "%s/../..", "%s/../../.."};
    fx.preds[0] = '\0';
    for (size_t i = 0; i < N(roots) && !fx.preds[0]; i++) {
        char root[512];
        snprintf(root, sizeof root, roots[i], slm_exe_dir());
        snprintf(path, sizeof path, "%s/tests/fixtures/replay/preds.csv", root);
        if (exists(path))
            snprintf(fx.preds, sizeof fx.preds, "%s", path);
    }
    if (!fx.preds[0]) {
        fprintf(stderr, "cannot find tests/fixtures/replay/preds.csv\n");
        return -1;
    }
    snprintf(fx.dir, sizeof fx.dir, "/tmp/slm-replay-XXXXXX");
    return mkdtemp(fx.dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (fx.dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", fx.dir);
    }
    if (fx.so)
        dlclose(fx.so);
    return 0;
}

/* ---- the table ----------------------------------------------------------------------- */

static void vtable_is_sound(void **state)
{
    (void)state;
    const slm_engine_vtable *vt = fx.vt;
    assert_int_equal(vt->abi_version >> 16, SLM_ENGINE_ABI_MAJOR);
    assert_int_equal(vt->abi_version, SLM_ENGINE_ABI_VERSION);
    assert_int_equal(vt->struct_size, sizeof(slm_engine_vtable));
    assert_string_equal(vt->name, "replay");
    assert_string_equal(vt->version, "0.1.0");
    assert_string_equal(vt->description, "replays recorded predictions (exported CSV); "
                                         "deterministic, with fault injection for tests");
    assert_int_equal(vt->caps, SLM_CAP_SCORE | SLM_CAP_GENERATE | SLM_CAP_TOKEN_LOGPROBS |
                                   SLM_CAP_MODEL_FILE);
    assert_non_null(vt->open);
    assert_non_null(vt->info);
    assert_non_null(vt->score);
    assert_non_null(vt->generate);
    assert_non_null(vt->result_free);
    assert_non_null(vt->close);
    assert_null(vt->quantize);
    /* NULL handles and results are harmless. */
    vt->close(NULL);
    vt->result_free(NULL);
}

static void info_describes_the_file(void **state)
{
    (void)state;
    slm_engine *e = open_ok(fx.preds);
    slm_model_info mi;
    memset(&mi, 0x55, sizeof mi);
    mi.struct_size = sizeof mi;
    char err[SLM_ERRLEN];
    assert_int_equal(fx.vt->info(e, &mi, err, sizeof err), 0);
    assert_int_equal(mi.struct_size, sizeof mi);
    assert_string_equal(mi.arch, "replay");
    assert_string_equal(mi.name, "preds.csv");
    assert_string_equal(mi.quant, "");
    assert_string_equal(mi.engine_version, "replay 0.1.0");
    assert_int_equal(mi.n_params, 0);
    assert_int_equal(mi.caps, SLM_CAP_SCORE | SLM_CAP_GENERATE | SLM_CAP_TOKEN_LOGPROBS);

    /* A harness with a shorter struct gets only what its struct_size covers. */
    slm_model_info small;
    memset(&small, 0x55, sizeof small);
    small.struct_size = offsetof(slm_model_info, name);
    assert_int_equal(fx.vt->info(e, &small, err, sizeof err), 0);
    assert_string_equal(small.arch, "replay");
    assert_int_equal((unsigned char)small.name[0], 0x55);
    fx.vt->close(e);
}

/* ---- answers ------------------------------------------------------------------------- */

static void score_gives_ln_p_per_label(void **state)
{
    (void)state;
    slm_engine *e = open_ok(fx.preds);
    phases ph = {0};
    slm_probe probe = {&ph, on_begin, on_end};
    slm_score_result *res = NULL;
    char err[SLM_ERRLEN];
    slm_request req = request("t1", "  Q: which\tqueue?\n A: ", &probe);
    assert_int_equal(fx.vt->score(e, &req, choices, N(choices), &res, err, sizeof err), 0);
    assert_int_equal(res->kind, SLM_RESULT_SCORE);
    assert_int_equal(res->n, N(choices));
    assert_near(res->logprob[0], log(0.7));
    assert_near(res->logprob[1], log(0.2));
    assert_near(res->logprob[2], log(0.1)); /* "p_needs, triage", a quoted header */
    /* No p_other column, so the recorded pred decides: not it, ln 1e-6. */
    assert_near(res->logprob[3], LN_1E6);
    for (size_t i = 0; i < N(choices); i++)
        assert_int_equal(res->n_tokens[i], 1);
    assert_int_equal(res->n_prompt_tokens, 4);
    assert_int_equal(ph.begun[SLM_PHASE_PREFILL], 1);
    assert_int_equal(ph.ended[SLM_PHASE_PREFILL], 1);
    assert_int_equal(ph.n_tokens[SLM_PHASE_PREFILL], 4);
    assert_int_equal(ph.begun[SLM_PHASE_DECODE], 1);
    assert_int_equal(ph.ended[SLM_PHASE_DECODE], 1);
    assert_int_equal(ph.n_tokens[SLM_PHASE_DECODE], (int)N(choices));
    fx.vt->result_free(res);

    /* p = 0 is a finite, very negative log-probability, never -inf. */
    res = score_ok(e, "t3");
    assert_near(res->logprob[0], log(0.5));
    assert_true(isfinite(res->logprob[1]));
    assert_true(res->logprob[1] <= -1e29);
    fx.vt->result_free(res);

    /* Without probabilities the recorded pred gets ln 1 and the others ln 1e-6. */
    res = score_ok(e, "t4");
    assert_near(res->logprob[0], LN_1E6);
    assert_near(res->logprob[1], 0.0);
    assert_near(res->logprob[2], LN_1E6);
    fx.vt->result_free(res);
    fx.vt->close(e);
}

static void generate_returns_the_recorded_pred(void **state)
{
    (void)state;
    slm_engine *e = open_ok(fx.preds);
    phases ph = {0};
    slm_probe probe = {&ph, on_begin, on_end};
    slm_gen_params gp = {sizeof gp, 16, NULL, 0, NULL, NULL, 0.0, 0};
    slm_request req = request("t2", "Q: which queue? A:", &probe);
    slm_gen_result *g = NULL;
    char err[SLM_ERRLEN];
    assert_int_equal(fx.vt->generate(e, &req, &gp, &g, err, sizeof err), 0);
    assert_int_equal(g->kind, SLM_RESULT_GENERATE);
    assert_string_equal(g->text, "needs, triage");
    assert_int_equal(g->text_len, strlen("needs, triage"));
    assert_int_equal(g->n_output_tokens, 1);
    assert_int_equal(g->n_prompt_tokens, 4);
    assert_non_null(g->token_logprobs);
    assert_near(g->token_logprobs[0], log(0.6));
    assert_int_equal(g->finish, SLM_FINISH_STOP);
    assert_int_equal(ph.n_tokens[SLM_PHASE_PREFILL], 4);
    assert_int_equal(ph.ended[SLM_PHASE_DECODE], 1);
    assert_int_equal(ph.n_tokens[SLM_PHASE_DECODE], 1);
    fx.vt->result_free(g);

    /* Doubled quotes and a label spanning two lines, read back exactly. */
    assert_int_equal(gen(e, "t6", &g, err, sizeof err), 0);
    assert_string_equal(g->text, "the answer is \"billing\", I think");
    assert_near(g->token_logprobs[0], log(0.25));
    fx.vt->result_free(g);

    /* No confidence, no token log-probabilities. */
    assert_int_equal(gen(e, "t4", &g, err, sizeof err), 0);
    assert_string_equal(g->text, "shipping");
    assert_null(g->token_logprobs);
    fx.vt->result_free(g);

    /* t5 recorded nothing: nothing to replay. */
    assert_int_equal(gen(e, "t5", &g, err, sizeof err), -1);
    assert_null(g);
    assert_string_equal(err, "no recorded output for id 't5'");
    fx.vt->close(e);
}

static void unknown_id_is_an_error(void **state)
{
    (void)state;
    slm_engine *e = open_ok(fx.preds);
    slm_score_result *res = NULL;
    slm_gen_result *g = NULL;
    char err[SLM_ERRLEN];
    slm_request req = request("nope", "Q:", NULL);
    assert_int_equal(fx.vt->score(e, &req, choices, N(choices), &res, err, sizeof err), -1);
    assert_null(res);
    assert_string_equal(err, "no recorded answer for id 'nope'");
    assert_int_equal(gen(e, "t7", &g, err, sizeof err), -1);
    assert_string_equal(err, "no recorded answer for id 't7'");
    fx.vt->close(e);
}

static void json_lines_and_column_order(void **state)
{
    (void)state;
    const char *p = write_tmp("answers.jsonl",
                              "{\"id\": \"a\", \"output\": \" billing\\n\", \"confidence\": 0.9,"
                              " \"probs\": {\"billing\": 0.9, \"shipping\": 0.1}}\n"
                              "\n"
                              "{\"id\": 7, \"output\": \"shipping\"}\n");
    slm_engine *e = open_ok(p);
    slm_score_result *res = score_ok(e, "a");
    assert_near(res->logprob[0], log(0.9));
    assert_near(res->logprob[1], log(0.1));
    assert_near(res->logprob[3], LN_1E6);
    fx.vt->result_free(res);
    res = score_ok(e, "7");
    assert_near(res->logprob[1], 0.0);
    assert_near(res->logprob[0], LN_1E6);
    fx.vt->result_free(res);
    slm_gen_result *g = NULL;
    char err[SLM_ERRLEN];
    assert_int_equal(gen(e, "a", &g, err, sizeof err), 0);
    assert_string_equal(g->text, " billing\n");
    assert_near(g->token_logprobs[0], log(0.9));
    fx.vt->result_free(g);
    fx.vt->close(e);

    /* Columns in any order, p_ columns optional, unknown columns ignored. */
    p = write_tmp("reordered.csv", "latency_ms,extra,pred,id\n3,x,billing,q1\n");
    e = open_ok(p);
    res = score_ok(e, "q1");
    assert_near(res->logprob[0], 0.0);
    assert_near(res->logprob[1], LN_1E6);
    fx.vt->result_free(res);
    fx.vt->close(e);
}

static void model_is_an_alias_of_file(void **state)
{
    (void)state;
    slm_engine *e = NULL;
    char err[SLM_ERRLEN];
    if (open_with(&e, err, sizeof err, "model", fx.preds, "threads", "4", "n_ctx", "512", NULL))
        fail_msg("open with model: %s", err);
    slm_score_result *res = score_ok(e, "t1");
    assert_near(res->logprob[0], log(0.7));
    fx.vt->result_free(res);
    fx.vt->close(e);
}

/* ---- errors that name the file and line ---------------------------------------------- */

static void open_error(const char *expect, ...)
{
    slm_options o = {0};
    slm_option items[4];
    va_list ap;
    va_start(ap, expect);
    const char *k;
    while ((k = va_arg(ap, const char *)) && o.n < N(items)) {
        items[o.n].key = k;
        items[o.n++].value = va_arg(ap, const char *);
    }
    va_end(ap);
    o.items = items;
    slm_engine *e = (slm_engine *)&o; /* must be reset to NULL */
    char err[SLM_ERRLEN] = "";
    assert_int_equal(fx.vt->open(&o, &e, err, sizeof err), -1);
    assert_null(e);
    assert_string_equal(err, expect);
}

static void bad_files_name_file_and_line(void **state)
{
    (void)state;
    char want[1024], path[256];

    snprintf(path, sizeof path, "%s/missing.csv", fx.dir);
    snprintf(want, sizeof want, "replay: cannot open '%s': No such file or directory", path);
    open_error(want, "file", path, NULL);

    open_error("replay: missing option 'file' (recorded predictions, csv or json lines)",
               "threads", "2", NULL);

    /* The first row spans lines 2-3 and line 4 is blank: the duplicate is on line 6. */
    const char *p = write_tmp("dup.csv", "id,pred\na,\"one\ntwo\"\n\nb,x\na,y\n");
    snprintf(want, sizeof want, "replay: '%s:6': duplicate id 'a' (first on line 2)", p);
    open_error(want, "file", p, NULL);

    p = write_tmp("noid.csv", "ident,pred\na,b\n");
    snprintf(want, sizeof want, "replay: '%s:1': missing 'id' column", p);
    open_error(want, "file", p, NULL);

    p = write_tmp("short.csv", "id,pred,confidence\na,b,0.5\nc,d\n");
    snprintf(want, sizeof want, "replay: '%s:3': 2 fields, the header has 3", p);
    open_error(want, "file", p, NULL);

    p = write_tmp("badp.csv", "id,p_yes\na,0.5\nb,lots\n");
    snprintf(want, sizeof want, "replay: '%s:3': bad probability 'lots' for 'yes'", p);
    open_error(want, "file", p, NULL);

    p = write_tmp("quote.csv", "id,pred\na,b\nc,\"d\"e\n");
    snprintf(want, sizeof want, "replay: '%s:3': error parsing data while strict checking enabled",
             p);
    open_error(want, "file", p, NULL);

    p = write_tmp("empty.csv", "");
    snprintf(want, sizeof want, "replay: '%s:1': empty file, no header", p);
    open_error(want, "file", p, NULL);

    p = write_tmp("bad.jsonl", "{\"id\": \"a\", \"output\": \"x\"}\n{\"id\": \"b\", \n");
    snprintf(want, sizeof want, "replay: '%s:2': ", p);
    char err[SLM_ERRLEN];
    slm_engine *e = NULL;
    assert_int_equal(open_with(&e, err, sizeof err, "file", p, NULL), -1);
    assert_null(e);
    assert_has(err, want);

    p = write_tmp("dup.jsonl", "{\"id\": \"a\", \"output\": \"x\"}\n{\"id\": \"a\", \"output\": \"y\"}\n");
    snprintf(want, sizeof want, "replay: '%s:2': duplicate id 'a' (first on line 1)", p);
    open_error(want, "file", p, NULL);

    open_error("replay: option 'fail_every' must be a non-negative integer, not 'often'", "file",
               fx.preds, "fail_every", "often", NULL);
}

/* ---- injected faults ----------------------------------------------------------------- */

static void fail_ids_fail_those_ids(void **state)
{
    (void)state;
    slm_engine *e = NULL;
    char err[SLM_ERRLEN];
    assert_int_equal(open_with(&e, err, sizeof err, "file", fx.preds, "fail_ids", "t9, t2,t3",
                               NULL),
                     0);
    slm_score_result *res = NULL;
    slm_request req = request("t2", "Q:", NULL);
    assert_int_equal(fx.vt->score(e, &req, choices, N(choices), &res, err, sizeof err), -1);
    assert_null(res);
    assert_string_equal(err, "injected failure for id 't2'");
    slm_gen_result *g = NULL;
    assert_int_equal(gen(e, "t3", &g, err, sizeof err), -1);
    assert_string_equal(err, "injected failure for id 't3'");
    res = score_ok(e, "t1");
    fx.vt->result_free(res);
    fx.vt->close(e);
}

static void fail_every_fails_every_nth_request(void **state)
{
    (void)state;
    slm_engine *e = NULL;
    char err[SLM_ERRLEN];
    assert_int_equal(open_with(&e, err, sizeof err, "file", fx.preds, "fail_every", "3", NULL),
                     0);
    const char *ids[] = {"t1", "t2", "t3", "t4", "t1", "t2", "t3"};
    for (size_t i = 0; i < N(ids); i++) {
        slm_gen_result *g = NULL;
        int rc = gen(e, ids[i], &g, err, sizeof err);
        if ((i + 1) % 3 == 0) {
            assert_int_equal(rc, -1);
            assert_null(g);
            assert_has(err, "injected failure for id '");
            assert_has(err, ids[i]);
        } else {
            assert_int_equal(rc, 0);
            fx.vt->result_free(g);
        }
    }
    fx.vt->close(e);
}

static void die_after_exits_99(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        slm_engine *e = NULL;
        char err[SLM_ERRLEN];
        if (open_with(&e, err, sizeof err, "file", fx.preds, "die_after", "2", NULL))
            _exit(2);
        for (int i = 0; i < 3; i++) {
            slm_gen_result *g = NULL;
            if (gen(e, "t1", &g, err, sizeof err))
                _exit(3);
            fx.vt->result_free(g);
        }
        _exit(0); /* the third request should not have come back */
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 99);
}

static void delay_ms_delays_each_request(void **state)
{
    (void)state;
    slm_engine *e = NULL;
    char err[SLM_ERRLEN];
    assert_int_equal(open_with(&e, err, sizeof err, "file", fx.preds, "delay_ms", "30", NULL), 0);
    double t0 = slm_now_ms();
    slm_score_result *res = score_ok(e, "t1");
    slm_gen_result *g = NULL;
    assert_int_equal(gen(e, "t2", &g, err, sizeof err), 0);
    double ms = slm_now_ms() - t0;
    assert_true(ms >= 60.0);
    fx.vt->result_free(res);
    fx.vt->result_free(g);
    fx.vt->close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vtable_is_sound),
        cmocka_unit_test(info_describes_the_file),
        cmocka_unit_test(score_gives_ln_p_per_label),
        cmocka_unit_test(generate_returns_the_recorded_pred),
        cmocka_unit_test(unknown_id_is_an_error),
        cmocka_unit_test(json_lines_and_column_order),
        cmocka_unit_test(model_is_an_alias_of_file),
        cmocka_unit_test(bad_files_name_file_and_line),
        cmocka_unit_test(fail_ids_fail_those_ids),
        cmocka_unit_test(fail_every_fails_every_nth_request),
        cmocka_unit_test(die_after_exits_99),
        cmocka_unit_test(delay_ms_delays_each_request),
    };
    return cmocka_run_group_tests_name("engine_replay", tests, group_setup, group_teardown);
}
