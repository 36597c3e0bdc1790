/*
 * test_llamacpp_many.c — the llamacpp engine's generate_many() (engine ABI 1.2 and 1.6):
 * several requests decoded together as sequences of one context, checked against
 * generate() on each request alone, on a demo model from the model factory (the
 * support-triage train split, its own SPM vocabulary) and on the same model with
 * seeded sampling (temperature 1), whose texts vary from request to request.
 *
 * Batched decode may round differently from one sequence alone (other kernels for other
 * batch sizes), so a greedy choice between two tokens whose probabilities tie within the
 * rounding may go the other way. The comparison allows that and only that: where two
 * texts part, the token each took there must have the same log-probability within
 * TIE_TOL (a tie), every token before it must agree within LP_TOL, and at most one
 * request in eight may part so. On these models no request has parted so far.
 *
 * Environment: SLM_ENGINE_DIR (default: ../engines next to this binary) holds
 * llamacpp.so; SLM_ROOT (default: the current folder) is the source tree.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "llamacpp_plugin.h"
#include "modelfactory.h"
#include "slm_engine.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define LP_TOL 1e-3  /* ln P of the same token, batched or alone */
#define TIE_TOL 1e-3 /* ln P of two different tokens taken at the same place: a tie */
#define MAX_REQS 16

static struct {
    void *so;
    const slm_engine_vtable *vt;
    char dir[256];
    char demo[300];      /* no_stop: labels repeated up to max_tokens (decode runs) */
    char demo_stop[300]; /* as the demo's: a label, then </s> */
    const char *model;   /* the one open_demo() opens */
} fx;

/* Support tickets, in the eval set's words and not; the last is long. */
static const char *const prompts[] = {
    "Ticket: I was charged twice on my invoice this month\nQueue:",
    "Ticket: my parcel has not arrived and tracking shows nothing\nQueue:",
    "Ticket: the app crashes when I open settings\nQueue:",
    "Ticket: please delete my account and all my data\nQueue:",
    "Ticket: how do I change the password of my login\nQueue:",
    "Ticket: refund for the damaged item please\nQueue:",
    "Ticket: the invoice shows the wrong address and the wrong amount for my order, can "
    "you send a corrected one and refund the difference to my card\nQueue:",
    "Ticket: hello\nQueue:",
    "Ticket: shipping label printed twice, courier took only one\nQueue:",
    "Ticket: my subscription renewed although I cancelled it last week\nQueue:",
};

static int group_setup(void **state)
{
    (void)state;
    fx.vt = test_load_llamacpp(&fx.so);
    if (!fx.vt)
        return -1;
    snprintf(fx.dir, sizeof fx.dir, "/tmp/slm-many-XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.demo, sizeof fx.demo, "%s/demo.gguf", fx.dir);
    snprintf(fx.demo_stop, sizeof fx.demo_stop, "%s/demo-stop.gguf", fx.dir);
    char err[SLM_ERRLEN] = "";
    if (fx.vt->init(err, sizeof err)) {
        fprintf(stderr, "init: %s\n", err);
        return -1;
    }
    const char *root = getenv("SLM_ROOT");
    char train[512];
    snprintf(train, sizeof train, "%s/evalsets/support-triage/train.csv", root ? root : ".");
    slm_factory_opts o;
    slm_factory_defaults(&o);
    o.train_path = train;
    o.out_path = fx.demo;
    o.name = "demo-many";
    o.vocab_words = 300;
    o.n_ctx = 512;
    o.no_stop = 1;
    if (slm_model_make(&o, NULL, err, sizeof err)) {
        fprintf(stderr, "slm_model_make: %s\n", err);
        return -1;
    }
    o.out_path = fx.demo_stop;
    o.no_stop = 0;
    if (slm_model_make(&o, NULL, err, sizeof err)) {
        fprintf(stderr, "slm_model_make: %s\n", err);
        return -1;
    }
    fx.model = fx.demo;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (fx.vt && fx.vt->shutdown)
        fx.vt->shutdown();
    if (fx.so)
        dlclose(fx.so);
    unlink(fx.demo);
    unlink(fx.demo_stop);
    rmdir(fx.dir);
    return 0;
}

/* n_parallel sizes the cache open() makes: max(n_ctx, n_parallel * 256) cells. */
static const char *n_parallel = "8";

static slm_engine *open_demo(const char *n_ctx)
{
    slm_option items[] = {{"model", fx.model}, {"threads", "1"}, {"n_ctx", n_ctx},
                          {"n_parallel", n_parallel}};
    slm_options opts = {items, N(items)};
    slm_engine *e = NULL;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->open(&opts, &e, err, sizeof err))
        fail_msg("open %s: %s", fx.model, err);
    return e;
}

/* ---- what generate_many() reports ---- */

/* Per request: the probe's calls, in order ("P+", "P-", "D+", "D-"). */
typedef struct probe_log {
    char calls[16];
    int n_prefill, n_decode;
} probe_log;

static void on_begin(void *ud, slm_phase ph)
{
    probe_log *p = ud;
    strcat(p->calls, ph == SLM_PHASE_PREFILL ? "P+" : "D+");
}

static void on_end(void *ud, slm_phase ph, int n)
{
    probe_log *p = ud;
    strcat(p->calls, ph == SLM_PHASE_PREFILL ? "P-" : "D-");
    if (ph == SLM_PHASE_PREFILL)
        p->n_prefill = n;
    else
        p->n_decode = n;
}

/* Everything one call of generate_many() reported, by request. */
typedef struct many_out {
    slm_gen_result *r[MAX_REQS];
    char err[MAX_REQS][SLM_ERRLEN];
    int times[MAX_REQS];          /* how often each was reported */
    slm_req_trace tr[MAX_REQS];   /* copied; gaps copied into gaps[] */
    double gaps[MAX_REQS][64];
    double e2e[MAX_REQS];
    int n_reported, stop_after;   /* stop_after: done() returns 1 at that report (0: never) */
    volatile sig_atomic_t *flag;  /* set at report flag_after */
    int flag_after;
} many_out;

static int record(many_out *o, size_t i, slm_gen_result *r, const char *err)
{
    assert_true(i < MAX_REQS);
    o->times[i]++;
    o->r[i] = r;
    snprintf(o->err[i], sizeof o->err[i], "%s", err ? err : "");
    if (r)
        assert_null(err);
    o->n_reported++;
    if (o->flag && o->n_reported == o->flag_after)
        *o->flag = 1;
    return o->stop_after && o->n_reported == o->stop_after;
}

static int on_done(void *ud, size_t i, slm_gen_result *r, double e2e_ms, const char *err)
{
    many_out *o = ud;
    if (i < MAX_REQS)
        o->e2e[i] = e2e_ms;
    return record(o, i, r, err);
}

static int on_traced(void *ud, size_t i, slm_gen_result *r, const slm_req_trace *t,
                     const char *err)
{
    many_out *o = ud;
    assert_non_null(t);
    assert_true(i < MAX_REQS);
    o->tr[i] = *t;
    assert_true(t->n_gaps >= 0 && t->n_gaps <= 64);
    if (t->n_gaps)
        memcpy(o->gaps[i], t->gaps_ms, sizeof(double) * (size_t)t->n_gaps);
    o->tr[i].gaps_ms = NULL;
    assert_non_null(t->server_id);
    return record(o, i, r, err);
}

/* Runs generate_many() over prompts p[0..n) with the given concurrency; send_at and
 * traced as asked. Returns its return value; results in *o (caller frees them). */
static int run_many(slm_engine *e, const char *const *p, size_t n, const slm_gen_params *gp,
                    unsigned conc, const uint64_t *send_at, int traced, many_out *o,
                    probe_log *pl, const volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    slm_request reqs[MAX_REQS];
    const slm_request *ptr[MAX_REQS];
    slm_probe probes[MAX_REQS];
    assert_true(n <= MAX_REQS);
    for (size_t i = 0; i < n; i++) {
        probes[i] = (slm_probe){pl ? &pl[i] : NULL, on_begin, on_end};
        reqs[i] = (slm_request){sizeof reqs[i], "x", p[i], strlen(p[i]), 0,
                                pl ? &probes[i] : NULL};
        ptr[i] = &reqs[i];
    }
    slm_gen_many m = {sizeof m, conc, on_done, o, stop, send_at, traced ? on_traced : NULL};
    return fx.vt->generate_many(e, ptr, n, gp, &m, err, errlen);
}

static void free_out(many_out *o)
{
    for (size_t i = 0; i < MAX_REQS; i++)
        fx.vt->result_free(o->r[i]);
}

/*
 * Checks that a (generate_many) equals b (generate) as the header says; counts a tie in
 * *ties. Returns nothing: fails the test on a real difference.
 */
static void assert_same_generation(const slm_gen_result *a, const slm_gen_result *b, size_t i,
                                   int *ties)
{
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->n_prompt_tokens, b->n_prompt_tokens);
    int n = a->n_output_tokens < b->n_output_tokens ? a->n_output_tokens : b->n_output_tokens;
    for (int k = 0; k < n; k++) {
        double d = fabs(a->token_logprobs[k] - b->token_logprobs[k]);
        if (d <= LP_TOL)
            continue;
        /* the first token that differs: a tie, or a real difference */
        if (d > TIE_TOL || strcmp(a->text, b->text) == 0)
            fail_msg("request %zu, token %d: ln P %.6f batched, %.6f alone ('%s' / '%s')", i, k,
                     a->token_logprobs[k], b->token_logprobs[k], a->text, b->text);
        (*ties)++;
        return;
    }
    if (strcmp(a->text, b->text) || a->n_output_tokens != b->n_output_tokens ||
        a->finish != b->finish)
        fail_msg("request %zu: '%s' (%d tokens, finish %d) batched, '%s' (%d, %d) alone", i,
                 a->text, a->n_output_tokens, (int)a->finish, b->text, b->n_output_tokens,
                 (int)b->finish);
}

/* generate() on each prompt alone, on a fresh handle. */
static void generate_each(const char *const *p, size_t n, const slm_gen_params *gp,
                          slm_gen_result **out)
{
    slm_engine *e = open_demo("512");
    char err[SLM_ERRLEN] = "";
    for (size_t i = 0; i < n; i++) {
        slm_request req = {sizeof req, "x", p[i], strlen(p[i]), 0, NULL};
        if (fx.vt->generate(e, &req, gp, &out[i], err, sizeof err))
            fail_msg("generate %zu: %s", i, err);
    }
    fx.vt->close(e);
}

/* generate_many() at concurrency 1, 3 and 4 against generate(); ties counted. */
static void compare_with_generate(const slm_gen_params *gp, int *distinct)
{
    size_t n = N(prompts);
    slm_gen_result *alone[N(prompts)];
    generate_each(prompts, n, gp, alone);
    int ties = 0, checked = 0;
    const unsigned concs[] = {1, 3, 4};
    slm_engine *e = open_demo("512");
    for (size_t c = 0; c < N(concs); c++) {
        many_out o;
        memset(&o, 0, sizeof o);
        probe_log pl[N(prompts)];
        memset(pl, 0, sizeof pl);
        char err[SLM_ERRLEN] = "";
        if (run_many(e, prompts, n, gp, concs[c], NULL, 0, &o, pl, NULL, err, sizeof err))
            fail_msg("generate_many: %s", err);
        assert_int_equal(o.n_reported, (int)n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(o.times[i], 1);
            if (o.err[i][0])
                fail_msg("request %zu: %s", i, o.err[i]);
            assert_same_generation(o.r[i], alone[i], i, &ties);
            checked++;
            assert_string_equal(pl[i].calls, "P+P-D+D-");
            assert_int_equal(pl[i].n_prefill, o.r[i]->n_prompt_tokens);
            assert_true(o.e2e[i] > 0);
        }
        free_out(&o);
    }
    fx.vt->close(e);
    if (ties * 8 > checked)
        fail_msg("%d of %d requests parted at a tie: more than rounding explains", ties,
                 checked);
    *distinct = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= !strcmp(alone[i]->text, alone[j]->text);
        *distinct += !seen;
        if (getenv("SLM_TEST_VERBOSE"))
            printf("#   %zu: '%s' (%d tokens)\n", i, alone[i]->text, alone[i]->n_output_tokens);
    }
    for (size_t i = 0; i < n; i++)
        fx.vt->result_free(alone[i]);
    printf("# %d of %d requests parted at a tie; %d distinct texts\n", ties, checked,
           *distinct);
}

static void greedy_equals_generate(void **state)
{
    (void)state;
    slm_gen_params gp = {sizeof gp, 12, NULL, 0, NULL, NULL, 0, 0};
    int distinct;
    compare_with_generate(&gp, &distinct); /* every request runs to max_tokens */
    assert_true(distinct >= 4);
    fx.model = fx.demo_stop; /* a label and </s>: every request ends at once */
    compare_with_generate(&gp, &distinct);
    fx.model = fx.demo;
    assert_true(distinct >= 4);
}

/* Sampling with a seed: every request has its own sampler, as generate() makes one. The
 * texts vary (at temperature 1 the demo model's tokens are far from certain), so the
 * sequences are told apart for real. */
static void seeded_sampling_equals_generate(void **state)
{
    (void)state;
    slm_gen_params gp = {sizeof gp, 12, NULL, 0, NULL, NULL, 1.0, 42};
    int distinct;
    compare_with_generate(&gp, &distinct);
    assert_true(distinct >= 5);
}

/* A stop string and a grammar, as generate() honours them. */
static void stop_strings_and_grammar(void **state)
{
    (void)state;
    const char *stop[] = {" billing"};
    slm_gen_params gp = {sizeof gp, 12, stop, 1, NULL, NULL, 1.0, 7};
    int distinct;
    compare_with_generate(&gp, &distinct);
    slm_gen_params gg = {sizeof gg, 12, NULL, 0, "root ::= \" billing\" | \" shipping\"", NULL,
                         0, 0};
    compare_with_generate(&gg, &distinct);
    slm_gen_params gs = {sizeof gs, 12, NULL, 0, NULL, "{\"type\":\"string\"}", 0, 0};
    slm_engine *e = open_demo("512");
    many_out o;
    memset(&o, 0, sizeof o);
    char err[SLM_ERRLEN] = "";
    assert_int_equal(run_many(e, prompts, 2, &gs, 2, NULL, 0, &o, NULL, NULL, err, sizeof err),
                     0);
    assert_int_equal(o.n_reported, 2);
    assert_null(o.r[0]);
    assert_string_equal(o.err[0], "json_schema not supported yet, pass a grammar");
    free_out(&o);
    fx.vt->close(e);
}

/* More slots than requests, and a prompt too long for the context failing alone. */
static void more_slots_than_requests_and_one_failing(void **state)
{
    (void)state;
    slm_gen_params gp = {sizeof gp, 8, NULL, 0, NULL, NULL, 0, 0};
    slm_engine *e = open_demo("32"); /* the long prompt has more tokens than that */
    const char *p[] = {prompts[0], prompts[6], prompts[1]};
    many_out o;
    memset(&o, 0, sizeof o);
    char err[SLM_ERRLEN] = "";
    if (run_many(e, p, 3, &gp, 8, NULL, 1, &o, NULL, NULL, err, sizeof err))
        fail_msg("generate_many: %s", err);
    assert_int_equal(o.n_reported, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(o.times[i], 1);
    assert_non_null(o.r[0]);
    assert_non_null(o.r[2]);
    assert_null(o.r[1]);
    if (!strstr(o.err[1], "the prompt has ") || !strstr(o.err[1], " tokens, the context only "))
        fail_msg("long prompt: %s", o.err[1]);
    assert_int_equal(o.tr[1].attempts, 0); /* it never entered the batch */
    assert_int_equal(o.tr[1].sent_ns, 0);
    assert_true(o.tr[1].end_ns > 0);
    /* the others as generate() gives them on the same context size */
    slm_gen_result *alone[3] = {0};
    char e2[SLM_ERRLEN];
    for (int i = 0; i < 3; i += 2) {
        slm_request req = {sizeof req, "x", p[i], strlen(p[i]), 0, NULL};
        if (fx.vt->generate(e, &req, &gp, &alone[i], e2, sizeof e2))
            fail_msg("generate: %s", e2);
        int ties = 0;
        assert_same_generation(o.r[i], alone[i], (size_t)i, &ties);
        assert_int_equal(ties, 0);
        fx.vt->result_free(alone[i]);
    }
    free_out(&o);
    fx.vt->close(e);
}

/* done() asking to stop, and the stop flag: requests not reported are abandoned. */
static void stops_when_asked(void **state)
{
    (void)state;
    slm_gen_params gp = {sizeof gp, 8, NULL, 0, NULL, NULL, 0, 0};
    slm_engine *e = open_demo("512");
    many_out o;
    memset(&o, 0, sizeof o);
    o.stop_after = 2;
    char err[SLM_ERRLEN] = "";
    assert_int_equal(run_many(e, prompts, N(prompts), &gp, 2, NULL, 0, &o, NULL, NULL, err,
                              sizeof err),
                     0);
    assert_int_equal(o.n_reported, 2);
    free_out(&o);

    volatile sig_atomic_t flag = 0;
    memset(&o, 0, sizeof o);
    o.flag = &flag;
    o.flag_after = 3;
    assert_int_equal(run_many(e, prompts, N(prompts), &gp, 2, NULL, 0, &o, NULL, &flag, err,
                              sizeof err),
                     0);
    /* the flag is read between steps: the other request of that step may still end */
    assert_true(o.n_reported >= 3 && o.n_reported <= 4);
    for (size_t i = 0; i < N(prompts); i++)
        assert_true(o.times[i] <= 1);
    free_out(&o);

    /* and the engine is whole afterwards: generate() as on a fresh handle */
    slm_gen_result *a = NULL, *b[1] = {0};
    slm_request req = {sizeof req, "x", prompts[2], strlen(prompts[2]), 0, NULL};
    if (fx.vt->generate(e, &req, &gp, &a, err, sizeof err))
        fail_msg("generate: %s", err);
    generate_each(&prompts[2], 1, &gp, b);
    int ties = 0;
    assert_same_generation(a, b[0], 0, &ties);
    assert_int_equal(ties, 0);
    fx.vt->result_free(a);
    fx.vt->result_free(b[0]);
    fx.vt->close(e);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The open loop: each request enters the batch no earlier than its time, and its trace
 * holds what happened in causal order (no timed bound: only "not before").
 */
static void send_at_honoured_and_traced(void **state)
{
    (void)state;
    slm_gen_params gp = {sizeof gp, 10, NULL, 0, NULL, NULL, 0, 0};
    slm_engine *e = open_demo("512");
    size_t n = 6;
    uint64_t at[6], t0 = mono_ns() + 20000000u;
    for (size_t i = 0; i < n; i++)
        at[i] = t0 + i * 15000000u; /* every 15 ms */
    many_out o;
    memset(&o, 0, sizeof o);
    char err[SLM_ERRLEN] = "";
    if (run_many(e, prompts, n, &gp, 4, at, 1, &o, NULL, NULL, err, sizeof err))
        fail_msg("generate_many: %s", err);
    assert_int_equal(o.n_reported, (int)n);
    for (size_t i = 0; i < n; i++) {
        const slm_req_trace *t = &o.tr[i];
        assert_int_equal(o.times[i], 1);
        assert_non_null(o.r[i]);
        assert_int_equal(t->struct_size, sizeof *t);
        assert_int_equal(t->attempts, 1);
        assert_true(t->scheduled_ns == at[i]);
        assert_true(t->sent_ns >= t->scheduled_ns);
        assert_true(t->first_token_ns >= t->sent_ns);
        assert_true(t->end_ns >= t->first_token_ns);
        assert_int_equal(t->n_gaps, o.r[i]->n_output_tokens - 1);
        double sum = 0;
        for (int k = 0; k < t->n_gaps; k++) {
            assert_true(o.gaps[i][k] >= 0);
            sum += o.gaps[i][k];
        }
        assert_true(sum <= (double)(t->end_ns - t->first_token_ns) / 1e6 + 1e-6);
        assert_int_equal(t->http_status, 0);
        assert_int_equal(t->timed_out, 0);
        assert_string_equal(t->server_id, "");
    }
    free_out(&o);

    /* closed loop: scheduled 0, the rest filled all the same */
    memset(&o, 0, sizeof o);
    if (run_many(e, prompts, 3, &gp, 2, NULL, 1, &o, NULL, NULL, err, sizeof err))
        fail_msg("generate_many: %s", err);
    for (size_t i = 0; i < 3; i++) {
        assert_true(o.tr[i].scheduled_ns == 0);
        assert_true(o.tr[i].sent_ns > 0 && o.tr[i].first_token_ns >= o.tr[i].sent_ns);
        assert_int_equal(o.tr[i].n_gaps, o.r[i]->n_output_tokens - 1);
    }
    free_out(&o);
    fx.vt->close(e);
}

static uint64_t kv_bytes_of(slm_engine *e, int *n_ctx)
{
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    char err[SLM_ERRLEN] = "";
    if (fx.vt->info(e, &m, err, sizeof err))
        fail_msg("info: %s", err);
    *n_ctx = m.n_ctx;
    return m.kv_bytes;
}

/*
 * n_ctx is per sequence: with n_parallel 1 open() makes a cache of n_ctx (512) cells, and
 * generate_many() at concurrency 4 grows it to 4 × 512 (the KV bytes four times over,
 * the demo model's layer and heads alike), with the same answers.
 */
static void cache_grows_for_n_sequences(void **state)
{
    (void)state;
    n_parallel = "1";
    slm_engine *e = open_demo("512");
    int n_ctx;
    uint64_t kv0 = kv_bytes_of(e, &n_ctx);
    assert_int_equal(n_ctx, 512);
    assert_true(kv0 > 0);
    slm_gen_params gp = {sizeof gp, 12, NULL, 0, NULL, NULL, 0, 0};
    many_out o;
    memset(&o, 0, sizeof o);
    char err[SLM_ERRLEN] = "";
    if (run_many(e, prompts, N(prompts), &gp, 4, NULL, 0, &o, NULL, NULL, err, sizeof err))
        fail_msg("generate_many: %s", err);
    uint64_t kv1 = kv_bytes_of(e, &n_ctx);
    assert_int_equal(n_ctx, 512);
    assert_true(kv1 == 4 * kv0);
    slm_gen_result *alone[N(prompts)];
    generate_each(prompts, N(prompts), &gp, alone);
    int ties = 0;
    for (size_t i = 0; i < N(prompts); i++) {
        assert_same_generation(o.r[i], alone[i], i, &ties);
        fx.vt->result_free(alone[i]);
    }
    assert_int_equal(ties, 0);
    free_out(&o);
    /* generate() on the grown context, as on a fresh one */
    slm_gen_result *a = NULL, *b[1] = {0};
    slm_request req = {sizeof req, "x", prompts[3], strlen(prompts[3]), 0, NULL};
    if (fx.vt->generate(e, &req, &gp, &a, err, sizeof err))
        fail_msg("generate: %s", err);
    generate_each(&prompts[3], 1, &gp, b);
    assert_same_generation(a, b[0], 3, &ties);
    assert_int_equal(ties, 0);
    fx.vt->result_free(a);
    fx.vt->result_free(b[0]);
    fx.vt->close(e);
    n_parallel = "8";
}

/* The capabilities say so, and bad calls are refused. */
static void caps_and_refusals(void **state)
{
    (void)state;
    assert_true(fx.vt->caps & SLM_CAP_CONCURRENT);
    assert_true(fx.vt->caps & SLM_CAP_SCHEDULE);
    slm_engine *e = open_demo("512");
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    char err[SLM_ERRLEN] = "";
    assert_int_equal(fx.vt->info(e, &m, err, sizeof err), 0);
    assert_true(m.caps & SLM_CAP_CONCURRENT);
    assert_true(m.caps & SLM_CAP_SCHEDULE);
    slm_gen_many bad = {sizeof bad, 0, on_done, NULL, NULL, NULL, NULL};
    const slm_request *none[1] = {NULL};
    assert_int_equal(fx.vt->generate_many(e, none, 1, NULL, &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "concurrency of at least 1"));
    bad.concurrency = 2;
    assert_int_equal(fx.vt->generate_many(e, none, 0, NULL, &bad, err, sizeof err), 0);
    fx.vt->close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(caps_and_refusals),
        cmocka_unit_test(greedy_equals_generate),
        cmocka_unit_test(seeded_sampling_equals_generate),
        cmocka_unit_test(stop_strings_and_grammar),
        cmocka_unit_test(more_slots_than_requests_and_one_failing),
        cmocka_unit_test(stops_when_asked),
        cmocka_unit_test(send_at_honoured_and_traced),
        cmocka_unit_test(cache_grows_for_n_sequences),
    };
    if (getenv("SLM_TEST_FILTER")) /* e.g. one test under valgrind */
        cmocka_set_test_filter(getenv("SLM_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
