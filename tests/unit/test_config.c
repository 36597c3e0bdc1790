/*
 * test_config.c — the run config: the key table's defaults, bounds and types, unknown keys
 * named with their line, and slm_cfg_print_defaults() reading back as the defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MINIMAL "evalset: es\ncandidates:\n  - name: a\n"

static char err[512];

static slm_run_cfg *parse(const char *text)
{
    slm_run_cfg *c = NULL;
    err[0] = '\0';
    if (slm_run_cfg_parse("t/run.yaml", "t", text, strlen(text), &c, err, sizeof err))
        return NULL;
    return c;
}

/* The config fails and its message contains want. */
static void expect_error(const char *text, const char *want)
{
    slm_run_cfg *c = parse(text);
    if (c)
        fail_msg("accepted: %s", text);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_defaults(void **state)
{
    slm_run_cfg *c = parse(MINIMAL);
    assert_non_null(c);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    assert_string_equal(c->name, "run");
    assert_string_equal(c->evalset, "t/es");
    assert_string_equal(c->split, "test");
    assert_string_equal(c->mode, "score");
    assert_int_equal(c->threads, ncpu > 0 ? ncpu : 1);
    assert_int_equal(c->warmup, 2);
    assert_int_equal(c->max_tokens, 16);
    assert_int_equal(c->commit_every, 1); /* a commit per prediction: kill -9 loses none */
    assert_int_equal(c->bootstrap, 1000);
    assert_int_equal(c->repeats, 1);
    assert_int_equal(c->concurrency, 1);
    assert_int_equal(c->few_shot, 0);
    assert_int_equal(c->bandwidth, 1);
    assert_int_equal(c->counters, 1);
    assert_int_equal(c->interleave, SLM_INTERLEAVE_AUTO);
    assert_int_equal(c->interleave_turn, 2);
    assert_int_equal(c->throughput, 0);
    assert_int_equal(c->seed, 1);
    assert_int_equal(c->few_shot_seed, 1);
    assert_null(c->calib_split);
    assert_int_equal(c->score_mean, 0);
    assert_int_equal(c->limit, 0);
    assert_int_equal(c->mixed_quant, 0);
    assert_string_equal(c->choice_prefix, " ");
    assert_int_equal(c->n_events, 0);
    assert_int_equal(c->n_coverage_targets, 3);
    assert_true(c->coverage_targets[0] == 0.90 && c->coverage_targets[2] == 0.99);
    assert_int_equal(c->n_stop, 1);
    assert_string_equal(c->stop[0], "\n");
    assert_true(isnan(c->req_min_accuracy) && isnan(c->req_max_ece) && isnan(c->req_max_p95_ms));
    assert_int_equal(c->has_cascade, 0);
    assert_int_equal(c->n_cands, 1);
    assert_string_equal(c->cands[0].engine, "llamacpp");
    assert_int_equal(c->cands[0].chat_template, -1);
    assert_int_equal(c->cands[0].concurrency, 0);
    char th[16];
    snprintf(th, sizeof th, "%d", c->threads);
    assert_string_equal(slm_cand_opt(&c->cands[0], "threads"), th);
    assert_null(slm_cand_opt(&c->cands[0], "model"));
    slm_run_cfg_free(c);
}

static void test_values(void **state)
{
    slm_run_cfg *c = parse("name: x\nevalset: /abs/es\nmode: generate\nthreads: 3\nlimit: 7\n"
                           "score_norm: mean\nquantization: mixed\nseed: -5\nstop: END\n"
                           "events: instructions, task-clock\ncoverage_targets: [0.5]\n"
                           "requirements: {max_ece: 0.1}\n"
                           "cascade: {threshold: 0.8, slm_cost: 1, escalation_cost: 2,"
                           " escalation_accuracy: 0.9}\n"
                           "candidates:\n  - {name: a, model: m.gguf, threads: 5, "
                           "options: {n_ctx: 64}}\n  - {name: b, engine: exec, "
                           "chat_template: yes, concurrency: 4}\n");
    assert_non_null(c);
    assert_string_equal(c->name, "x");
    assert_string_equal(c->evalset, "/abs/es");
    assert_string_equal(c->mode, "generate");
    assert_int_equal(c->threads, 3);
    assert_int_equal(c->limit, 7);
    assert_int_equal(c->score_mean, 1);
    assert_int_equal(c->mixed_quant, 1);
    assert_int_equal(c->seed, -5);
    assert_int_equal(c->n_stop, 1);
    assert_string_equal(c->stop[0], "END");
    assert_int_equal(c->n_events, 2);
    assert_string_equal(c->events[1], "task-clock");
    assert_int_equal(c->n_coverage_targets, 1);
    assert_true(c->req_max_ece == 0.1 && isnan(c->req_min_accuracy));
    assert_int_equal(c->has_cascade, 1);
    assert_true(c->cascade_esc_cost == 2 && c->cascade_esc_acc == 0.9);
    assert_string_equal(c->cands[0].model_path, "t/m.gguf");
    assert_string_equal(slm_cand_opt(&c->cands[0], "threads"), "5");
    assert_string_equal(slm_cand_opt(&c->cands[0], "n_ctx"), "64");
    assert_string_equal(slm_cand_opt(&c->cands[1], "threads"), "3");
    assert_string_equal(c->cands[1].engine, "exec");
    assert_int_equal(c->cands[1].chat_template, 1);
    assert_int_equal(c->cands[1].concurrency, 4);
    slm_run_cfg_free(c);
}

static void test_bounds_and_types(void **state)
{
    expect_error("evalset: es\nwarmup: 1001\ncandidates:\n  - name: a\n",
                 "t/run.yaml:2: key 'warmup': 1001 is out of range [0, 1000]");
    expect_error("evalset: es\nthreads: 0\ncandidates:\n  - name: a\n",
                 "t/run.yaml:2: key 'threads': 0 is out of range [1, 1024]");
    expect_error("evalset: es\nlimit: -1\ncandidates:\n  - name: a\n",
                 "key 'limit': -1 is out of range [0, 1073741824]");
    expect_error("evalset: es\nrepeats: many\ncandidates:\n  - name: a\n",
                 "t/run.yaml:2: key 'repeats': expected an integer, got 'many'");
    expect_error("evalset: es\ncounters: maybe\ncandidates:\n  - name: a\n",
                 "key 'counters': expected true or false, got 'maybe'");
    expect_error("evalset: es\nmode: chat\ncandidates:\n  - name: a\n",
                 "t/run.yaml:2: key 'mode': expected score or generate, got 'chat'");
    expect_error("evalset: es\nscore_norm: max\ncandidates:\n  - name: a\n",
                 "key 'score_norm': expected sum or mean, got 'max'");
    expect_error("evalset: es\nquantization: q4\ncandidates:\n  - name: a\n",
                 "key 'quantization': expected same or mixed, got 'q4'");
    expect_error("evalset: es\nrequirements: {max_ece: low}\ncandidates:\n  - name: a\n",
                 "key 'max_ece': expected a number, got 'low'");
    expect_error("evalset: es\ncoverage_targets: [1.5]\ncandidates:\n  - name: a\n",
                 "t/run.yaml:2: coverage targets are accuracies in (0, 1]");
    expect_error("evalset: es\ncascade: {threshold: 2, slm_cost: 0, escalation_cost: 0, "
                 "escalation_accuracy: 1}\ncandidates:\n  - name: a\n",
                 "cascade threshold and accuracy must be in [0, 1], costs >= 0");
    expect_error("evalset: es\ncascade: {threshold: 0.5}\ncandidates:\n  - name: a\n",
                 "t/run.yaml:2: cascade needs 'slm_cost'");
    expect_error("evalset: es\nstop: ['']\ncandidates:\n  - name: a\n",
                 "stop strings must be non-empty strings");
    expect_error("evalset: es\ncandidates:\n  - {name: a, concurrency: 0}\n",
                 "key 'concurrency': 0 is out of range [1, 1024]");
    expect_error("evalset: es\nmode: generate\nthroughput: true\ncandidates:\n  - name: a\n",
                 "t/run.yaml:3: throughput mode needs mode: score");
    expect_error("evalset: es\ncalibration_split: test\ncandidates:\n  - name: a\n",
                 "calibration_split 'test' is the split being evaluated");
}

static void test_structure_errors(void **state)
{
    expect_error("evalset: es\nwarmup: 0\nbogus: 1\ncandidates:\n  - name: a\n",
                 "t/run.yaml:3: unknown key 'bogus' in the run config");
    expect_error("evalset: es\nrequirements:\n  max_acc: 1\ncandidates:\n  - name: a\n",
                 "t/run.yaml:3: unknown key 'max_acc' in requirements");
    expect_error("evalset: es\ncandidates:\n  - name: a\n    modle: x\n",
                 "t/run.yaml:4: unknown key 'modle' in a candidate");
    expect_error("candidates:\n  - name: a\n", "t/run.yaml: missing 'evalset'");
    expect_error("evalset: es\n", "'candidates' must be a non-empty list");
    expect_error("evalset: es\ncandidates:\n  - name: a\n  - name: a\n",
                 "t/run.yaml:4: duplicate candidate name 'a'");
    expect_error("evalset: es\ncandidates:\n  - name: a/b\n", "may not contain");
    expect_error("evalset: es\ncandidates:\n  - {name: a, options: {model: x}}\n",
                 "give the model as the candidate's 'model' key");
    expect_error("- a\n- b\n", "t/run.yaml:1: expected a mapping");
}

/* Every row is well formed: a description, bounds in order, enums with their default. */
static void test_table(void **state)
{
    size_t n;
    const slm_cfg_key *k = slm_cfg_keys(&n);
    assert_true(n > 30);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(k[i].help);
        assert_true(k[i].min <= k[i].max);
        if (k[i].type == SLM_CFG_WORD || k[i].type == SLM_CFG_ENUM) {
            assert_non_null(k[i].values);
            assert_non_null(strstr(k[i].values, k[i].def));
        }
        assert_ptr_equal(slm_cfg_key_find(k[i].path), &k[i]);
    }
    assert_null(slm_cfg_key_find("nope"));
}

/* The printed defaults plus the two required keys read back as the defaults. */
static void test_print_defaults(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    slm_cfg_print_defaults(f);
    fclose(f);
    assert_non_null(strstr(buf, "\nwarmup: 2 "));
    assert_non_null(strstr(buf, "# integer in [0, 1000]; untimed requests per candidate"));
    assert_non_null(strstr(buf, "\nmode: score "));
    assert_non_null(strstr(buf, "\nchoice_prefix: \" \" "));
    assert_non_null(strstr(buf, "\n# cascade:"));
    char *text = slm_xasprintf("%s" MINIMAL, buf);
    slm_run_cfg *a = parse(text), *b = parse(MINIMAL);
    if (!a)
        fail_msg("the printed defaults do not parse: %s", err);
    assert_non_null(b);
    assert_int_equal(a->threads, b->threads);
    assert_int_equal(a->bootstrap, b->bootstrap);
    assert_int_equal(a->bandwidth, b->bandwidth);
    assert_string_equal(a->choice_prefix, b->choice_prefix);
    assert_string_equal(a->stop[0], b->stop[0]);
    assert_int_equal(a->n_coverage_targets, b->n_coverage_targets);
    assert_true(a->coverage_targets[1] == b->coverage_targets[1]);
    slm_run_cfg_free(a);
    slm_run_cfg_free(b);
    free(text);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_bounds_and_types),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_print_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
