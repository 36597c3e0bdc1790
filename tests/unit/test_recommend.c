/*
 * test_recommend.c — the recommendation's rules on fixture numbers (recommend.h): an
 * accuracy difference that is not significant is a tie, the pick among ties is the
 * measurably faster one, the closest candidate when none qualifies, and the first screen
 * (sentence, then warnings, then the table) of the terminal summary and the Markdown
 * report of a stored run whose load was above its CPUs.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture_db.h"
#include "recommend.h"
#include "report.h"

#define DB "/tmp/slm_test_recommend.db"

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* The demo's three candidates: qwen 67.2% p95 12.9 ms, llama 67.7% 9.8 ms, spm 70.2%
 * 17.4 ms; spm the best, the others not significantly below it (Holm p 0.30, 0.21);
 * llama measurably faster than both, qwen than spm. No requirements. */
static void demo_like(slm_rec *x)
{
    slm_rec_init(x, 3);
    const double acc[] = {0.672, 0.677, 0.702}, p95[] = {12.9, 9.8, 17.4};
    const double ece[] = {0.131, 0.126, 0.096}, ph[] = {0.30, 0.21, NAN};
    for (size_t i = 0; i < 3; i++) {
        x->acc[i] = acc[i], x->p95[i] = p95[i], x->ece[i] = ece[i], x->p_holm[i] = ph[i];
        x->acc_lo[i] = acc[i] - 0.03, x->acc_hi[i] = acc[i] + 0.03;
        x->ok[i] = 1;
    }
    x->best = 2;
    x->faster[1 * 3 + 0] = x->faster[1 * 3 + 2] = x->faster[0 * 3 + 2] = 1;
}

static slm_run_facts names3(void)
{
    static slm_cand_card c[3];
    c[0].name = "qwen", c[1].name = "llama", c[2].name = "spm";
    slm_run_facts r = {0};
    r.c = c;
    r.nc = 3;
    return r;
}

static char *sentence(const slm_rec *x)
{
    slm_run_facts r = names3();
    slm_buf b = {0};
    slm_rec_sentence(x, &r, SLM_REC_TEXT, &b);
    return slm_buf_take(&b);
}

/* Not significant is a tie: the measurably faster of the tied candidates is picked, and
 * the sentence says why and what it trades (17.4 / 9.8 = 1.78: "1.8×"). */
static void tie_picks_the_faster(void **state)
{
    (void)state;
    slm_rec x;
    demo_like(&x);
    slm_rec_decide(&x);
    assert_int_equal(x.top, 2);
    assert_true(x.tie[0] && x.tie[1] && x.tie[2]);
    assert_int_equal(x.pick, 1);
    assert_int_equal(x.closest, -1);
    assert_true(x.front[1] && !x.front[0] && !x.front[2]);
    char *s = sentence(&x);
    assert_string_equal(s, "Pick llama: as accurate as the best (67.7% vs 70.2%, difference "
                           "not significant, McNemar Holm p 0.21) and 1.8× faster at p95 "
                           "(9.80 vs 17.4 ms); spm is the most accurate but slower.");
    free(s);
    slm_rec_free(&x);
}

/* A significant difference is no tie: llama (Holm p 0.01) drops out of the best's group;
 * of qwen and spm, qwen is measurably faster. */
static void significant_is_no_tie(void **state)
{
    (void)state;
    slm_rec x;
    demo_like(&x);
    x.p_holm[1] = 0.01;
    slm_rec_decide(&x);
    assert_false(x.tie[1]);
    assert_true(x.tie[0]);
    assert_int_equal(x.pick, 0);
    slm_rec_free(&x);
    /* every difference significant: the most accurate, and what the fastest offers */
    demo_like(&x);
    x.p_holm[0] = x.p_holm[1] = 0.001;
    slm_rec_decide(&x);
    assert_int_equal(x.pick, 2);
    char *s = sentence(&x);
    assert_string_equal(s, "Pick spm: the most accurate (70.2%); llama is 1.8× faster at p95 "
                           "(9.80 vs 17.4 ms) but significantly less accurate (67.7%, "
                           "McNemar Holm p 0.001).");
    free(s);
    slm_rec_free(&x);
}

/* Ties on accuracy and on latency: the higher accuracy on these examples decides; with
 * no stored comparison only equal accuracies tie. */
static void ties_everywhere(void **state)
{
    (void)state;
    slm_rec x;
    demo_like(&x);
    memset(x.faster, 0, 9);
    slm_rec_decide(&x);
    assert_int_equal(x.pick, 2);
    assert_true(x.front[0] && x.front[1] && x.front[2]); /* all equal: none dominates */
    slm_rec_free(&x);
    demo_like(&x);
    x.best = -1;
    for (size_t i = 0; i < 3; i++)
        x.p_holm[i] = NAN;
    slm_rec_decide(&x);
    assert_int_equal(x.pick, 2);
    assert_false(x.tie[0] || x.tie[1]);
    slm_rec_free(&x);
}

/* A requirement the fastest tied candidate misses leaves it out of the pick, and the
 * sentence names what it misses (0.126 − 0.100 = 0.026). */
static void requirement_excludes(void **state)
{
    (void)state;
    slm_rec x;
    demo_like(&x);
    x.max_ece = 0.100;
    slm_rec_decide(&x);
    assert_int_equal(x.pick, 2);
    assert_false(x.meets[0] || x.meets[1]);
    char *s = sentence(&x);
    assert_string_equal(s, "Pick spm: the most accurate (70.2%; 2 others are not significantly "
                           "less accurate); llama is 1.8× faster at p95 (9.80 vs 17.4 ms) "
                           "and as accurate, but misses ECE 0.126, 0.026 above 0.100.");
    free(s);
    slm_rec_free(&x);
}

/* None qualifies: the closest misses the fewest requirements, then by the smallest
 * relative shortfall. min_accuracy 0.80: spm is 0.098 short (qwen 0.128, llama 0.123). */
static void closest_candidate(void **state)
{
    (void)state;
    slm_rec x;
    demo_like(&x);
    x.min_acc = 0.80;
    slm_rec_decide(&x);
    assert_int_equal(x.pick, -1);
    assert_int_equal(x.closest, 2);
    char *s = sentence(&x);
    assert_string_equal(s, "No candidate qualifies: none of the 3 meets the requirements "
                           "(accuracy ≥ 80.0%); closest: spm, accuracy 70.2% [67.2%, 73.2%], "
                           "9.8 points short of 80.0%.");
    free(s);
    slm_rec_free(&x);
    /* min_accuracy 0.70, p95 ≤ 10 ms: llama misses accuracy only (0.023/0.70 = 3.3%),
     * spm p95 only (7.4/10 = 74%), qwen both: llama is closest */
    demo_like(&x);
    x.min_acc = 0.70, x.max_p95 = 10.0;
    slm_rec_decide(&x);
    assert_int_equal(x.closest, 1);
    /* fewer misses first: qwen just under on both (0.699, 10.1 ms) loses to spm's one
     * large miss */
    x.acc[0] = 0.699, x.p95[0] = 10.1, x.ok[1] = 0;
    slm_rec_decide(&x);
    assert_int_equal(x.closest, 2);
    slm_rec_free(&x);
    /* one candidate with results: its own sentence */
    demo_like(&x);
    x.ok[0] = x.ok[2] = 0;
    slm_rec_decide(&x);
    assert_int_equal(x.pick, 1);
    s = sentence(&x);
    assert_string_equal(s, "Pick llama: the only candidate with results (accuracy 67.7%, p95 "
                           "9.80 ms).");
    free(s);
    slm_rec_free(&x);
    /* nothing with results: no closest */
    demo_like(&x);
    x.min_acc = 0.9;
    x.ok[0] = x.ok[1] = x.ok[2] = 0;
    slm_rec_decide(&x);
    assert_int_equal(x.pick, -1);
    assert_int_equal(x.closest, -1);
    slm_rec_free(&x);
}

/* Each warning names who, the worst figure, what it means and what to do; a load at or
 * below the CPUs, steal at or below 5% and unflagged repeats warn of nothing. */
static void warning_rules(void **state)
{
    (void)state;
    slm_rec x;
    demo_like(&x);
    slm_run_facts r = names3();
    x.cpus = 2, x.turn = 0;
    const double load[] = {1.0, 2.5, 2.0}, steal[] = {0, 7.5, 5.0}, noisy[] = {1, 0, NAN};
    for (size_t i = 0; i < 3; i++)
        x.load[i] = load[i], x.steal[i] = steal[i], x.noisy[i] = noisy[i];
    slm_buf b = {0};
    assert_int_equal(slm_rec_warnings(&x, &r, SLM_REC_TEXT, &b), 3);
    const char *l1 = b.data, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    assert_true(starts(l1, "warning: load average up to 2.50 on 2 CPUs while llama ran: "));
    assert_non_null(strstr(l1, "ran one after another"));
    assert_true(starts(l2, "warning: CPU steal up to 7.5% (above 5%) while llama ran: "));
    assert_true(starts(l3, "warning: qwen flagged noisy: "));
    slm_buf_free(&b);
    /* quiet: nothing */
    x.load[1] = 2.0, x.steal[1] = 5.0, x.noisy[0] = 0;
    assert_int_equal(slm_rec_warnings(&x, &r, SLM_REC_MD, &b), 0);
    assert_null(b.data);
    /* no CPU count: the load cannot be judged, and that is the warning */
    x.cpus = NAN, x.load[1] = 9.0;
    assert_int_equal(slm_rec_warnings(&x, &r, SLM_REC_MD, &b), 1);
    assert_true(starts(b.data, "**Warning (cpus_unknown)**: the number of CPUs was not "
                                 "recorded"));
    slm_buf_free(&b);
    slm_rec_free(&x);
}

/* The golden run with its load set above its 2 CPUs: the terminal summary leads with the
 * sentence, then the warning, then the table; the report puts both above its
 * comparison; report.json carries them. */
static void warning_first(void **state)
{
    (void)state;
    slm_store *st = fixture_db("report/golden.sql", DB);
    assert_non_null(st);
    slm_store_close(st);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(DB, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE candidates SET load1_before = 3.5, "
                                      "load1_after = 1.0",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char err[256];
    assert_int_equal(slm_store_open(DB, 0, &st, err, sizeof err), 0);
    slm_buf b = {0};
    assert_int_equal(slm_report_summary_table(st, 1, &b, err, sizeof err), 0);
    const char *l2 = strchr(b.data + 1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    assert_true(starts(b.data, "\nrun 1 'golden': complete"));
    assert_true(starts(l2, "Pick alpha: the most accurate (79.2%"));
    assert_true(starts(l3, "warning: load average up to 3.50 on 2 CPUs while alpha, beta ran:"));
    assert_true(starts(strchr(l3, '\n'), "\n\n| candidate |"));
    slm_buf_free(&b);
    int64_t id = 1;
    assert_int_equal(slm_report_markdown(st, &id, 1, &b, err, sizeof err), 0);
    const char *pick = strstr(b.data, "**Pick alpha**"), *warn = strstr(b.data, "**Warning (load)**");
    const char *cmp = strstr(b.data, "### Comparison");
    assert_true(pick && warn && cmp && pick < warn && warn < cmp);
    assert_non_null(strstr(b.data, "| host | fixture · 2 CPUs |"));
    slm_buf_free(&b);
    slm_run_facts r;
    assert_int_equal(slm_store_run_facts(st, 1, &r, err, sizeof err), 0);
    json_t *j = slm_recommend_json(st, &r);
    assert_string_equal(json_string_value(json_object_get(j, "pick")), "alpha");
    json_t *w = json_array_get(json_object_get(j, "warnings"), 0);
    assert_string_equal(json_string_value(json_object_get(w, "kind")), "load");
    assert_int_equal(json_array_size(json_object_get(w, "candidates")), 2);
    assert_true(json_is_null(json_object_get(j, "closest")));
    json_decref(j);
    slm_run_facts_free(&r);
    slm_store_close(st);
    unlink(DB);
}

/* The host fingerprint as facts; unknown keys kept; text that is not JSON shown as is. */
static void host_facts(void **state)
{
    (void)state;
    slm_buf b = {0};
    slm_host_facts("{\"cpu\":\"AMD EPYC\",\"cpus_online\":2,\"hostname\":\"vm\",\"kernel\":"
                   "\"6.1.0\",\"machine\":\"x86_64\",\"mem_bytes\":25276182528,\"gpu\":\"H100\"}",
                   SLM_REC_TEXT, &b);
    assert_string_equal(b.data, "AMD EPYC · 2 CPUs · 23.5 GiB memory · Linux 6.1.0 · x86_64 · "
                                "host vm · gpu H100");
    slm_buf_free(&b);
    slm_host_facts("not json", SLM_REC_MD, &b);
    assert_string_equal(b.data, "not json");
    slm_buf_free(&b);
    slm_host_facts(NULL, SLM_REC_MD, &b);
    assert_string_equal(b.data, "–");
    slm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tie_picks_the_faster), cmocka_unit_test(significant_is_no_tie),
        cmocka_unit_test(ties_everywhere),      cmocka_unit_test(requirement_excludes),
        cmocka_unit_test(closest_candidate),    cmocka_unit_test(warning_first),
        cmocka_unit_test(host_facts),       cmocka_unit_test(warning_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
