/*
 * test_engine_oom.c — out of memory inside a plugin is an error of that call, never an
 * abort: the replay engine built with slm_plugin.h's fault hook (tests/faults/replay.so,
 * SLM_PLUGIN_FAIL_ALLOC=N fails its Nth allocation) is made to fail each of its
 * allocations in turn, in a child process each; every open(), score() and generate()
 * either works or fails with "out of memory". Then a whole run: the first of two
 * candidates fails with that error, and the run goes on with the second.
 *
 * Environment: SLM_TEST_BIN (default: this binary's folder) holds faults/replay.so;
 * SLMBENCH the slmbench binary (the run is skipped without it); SLM_ROOT (default: the
 * current directory) the repository, for tests/fixtures/replay and tests/fixtures/tiny.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
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
#include "store.h"
#include "util.h"

static char g_so[1024], g_preds[1024], g_dir[64];

enum { WORKED = 0, OPEN_OOM = 2, CALL_OOM = 3, WRONG = 4 };

/* In the child: loads the plugin with allocation n failing; what happened, as above. */
static int child(long n)
{
    char v[32], err[SLM_ERRLEN] = "";
    snprintf(v, sizeof v, "%ld", n);
    setenv("SLM_PLUGIN_FAIL_ALLOC", v, 1);
    void *so = dlopen(g_so, RTLD_NOW | RTLD_LOCAL);
    slm_engine_entry_fn entry = so ? (slm_engine_entry_fn)dlsym(so, SLM_ENGINE_ENTRY) : NULL;
    if (!entry)
        return WRONG;
    const slm_engine_vtable *vt = entry();
    slm_option o[] = {{"file", g_preds}, {"fail_ids", "x1, x2"}};
    slm_options opts = {o, 2};
    slm_engine *e = NULL;
    if (vt->open(&opts, &e, err, sizeof err))
        return strstr(err, "out of memory") ? OPEN_OOM : (fprintf(stderr, "%s\n", err), WRONG);
    slm_request req = {sizeof req, "t1", "a prompt", 8, 0, NULL};
    const char *const choices[] = {"billing", "shipping"};
    slm_score_result *sr = NULL;
    slm_gen_result *gr = NULL;
    slm_gen_params gp = {sizeof gp, 8, NULL, 0, NULL, NULL, 0, 0};
    int rc = WORKED;
    if (vt->score(e, &req, choices, 2, &sr, err, sizeof err) ||
        vt->generate(e, &req, &gp, &gr, err, sizeof err))
        rc = strstr(err, "out of memory") ? CALL_OOM : (fprintf(stderr, "%s\n", err), WRONG);
    vt->result_free(sr);
    vt->result_free(gr);
    vt->close(e);
    return rc;
}

static void each_allocation_failing_is_an_error(void **state)
{
    int seen[5] = {0};
    long n;
    for (n = 1; n <= 400; n++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(child(n));
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st))
            fail_msg("allocation %ld failing: the plugin died (signal %d)", n,
                     WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        int rc = WEXITSTATUS(st);
        if (rc == WRONG)
            fail_msg("allocation %ld failing: no \"out of memory\" in the error", n);
        seen[rc]++;
        if (rc == WORKED)
            break; /* past the last allocation */
    }
    assert_true(n <= 400);
    assert_true(seen[OPEN_OOM] > 5); /* the file's records, labels, index */
    assert_true(seen[CALL_OOM] >= 3); /* score's two arrays and result, generate's */
}

static void run_goes_on_with_the_next_candidate(void **state)
{
    const char *slmbench = getenv("SLMBENCH");
    if (!slmbench || !*slmbench) {
        skip();
        return;
    }
    char fx[1024];
    snprintf(fx, sizeof fx, "%s", g_preds);
    *strrchr(fx, '/') = '\0'; /* tests/fixtures/replay */
    *strrchr(fx, '/') = '\0'; /* tests/fixtures */
    char cfg[256], db[256], out[256], cmd[4096];
    snprintf(cfg, sizeof cfg, "%s/run.yaml", g_dir);
    snprintf(db, sizeof db, "%s/run.db", g_dir);
    snprintf(out, sizeof out, "%s/out.txt", g_dir);
    /* answers for the tiny eval set: each example's own label (id,text,label lines) */
    char *csv = NULL, err[SLM_ERRLEN], preds[256], tiny[1100];
    size_t len = 0;
    snprintf(tiny, sizeof tiny, "%s/tiny/test.csv", fx);
    assert_int_equal(slm_read_file(tiny, &csv, &len, err, sizeof err), 0);
    snprintf(preds, sizeof preds, "%s/preds.csv", g_dir);
    FILE *f = fopen(preds, "w");
    assert_non_null(f);
    fputs("id,pred\n", f);
    char *save = NULL;
    for (char *l = strtok_r(strchr(csv, '\n') + 1, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save))
        fprintf(f, "%.*s,%s\n", (int)(strchr(l, ',') - l), l, strrchr(l, ',') + 1);
    fclose(f);
    free(csv);
    f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f, "name: oom\nevalset: %s/tiny\nwarmup: 0\nbootstrap: 10\ncandidates:\n"
               "  - {name: a, engine: replay, model: %s}\n"
               "  - {name: b, engine: replay, model: %s}\n",
            fx, preds, preds);
    fclose(f);
    /* the first allocation of the plugin is candidate a's engine handle */
    char *faults = strdup(g_so);
    *strrchr(faults, '/') = '\0';
    snprintf(cmd, sizeof cmd,
             "SLM_ENGINE_PATH='%s' SLM_PLUGIN_FAIL_ALLOC=1 '%s' run '%s' --db '%s' --quiet "
             ">'%s' 2>&1",
             faults, slmbench, cfg, db, out);
    free(faults);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0); /* not everything answered */
    char *text = NULL;
    assert_int_equal(slm_read_file(out, &text, &len, err, sizeof err), 0);
    if (!strstr(text, "candidate 'a': out of memory"))
        fail_msg("no \"candidate 'a': out of memory\" in: %s", text);
    free(text);

    slm_store *s = NULL;
    assert_int_equal(slm_store_open(db, 0, &s, err, sizeof err), 0);
    int64_t run_id = 0;
    assert_int_equal(slm_store_resolve_run(s, "oom", &run_id, err, sizeof err), 0);
    slm_cand *c = NULL;
    size_t n = 0;
    assert_int_equal(slm_store_candidates(s, run_id, &c, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].name, "a");
    assert_string_equal(c[0].status, "failed");
    assert_string_equal(c[1].name, "b");
    assert_string_equal(c[1].status, "ok");
    slm_cands_free(c, n);
    slm_store_close(s);
    unlink(cfg);
    unlink(db);
    unlink(out);
    unlink(preds);
}

static int group_setup(void **state)
{
    const char *bin = getenv("SLM_TEST_BIN");
    snprintf(g_so, sizeof g_so, "%s/faults/replay.so", bin && *bin ? bin : slm_exe_dir());
    const char *root = getenv("SLM_ROOT");
    snprintf(g_preds, sizeof g_preds, "%s/tests/fixtures/replay/preds.csv",
             root && *root ? root : ".");
    if (access(g_preds, R_OK)) {
        char *abs = realpath("tests/fixtures/replay/preds.csv", NULL);
        if (!abs)
            return -1;
        snprintf(g_preds, sizeof g_preds, "%s", abs);
        free(abs);
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/slm_oom_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    char p[128];
    snprintf(p, sizeof p, "%s/run.db-wal", g_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/run.db-shm", g_dir);
    unlink(p);
    rmdir(g_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_allocation_failing_is_an_error),
        cmocka_unit_test(run_goes_on_with_the_next_candidate),
    };
    return cmocka_run_group_tests_name("engine_oom", tests, group_setup, group_teardown);
}
