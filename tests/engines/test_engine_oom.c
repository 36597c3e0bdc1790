/*
 * test_engine_oom.c — out of memory inside a plugin is an error of that call, never an
 * abort: the replay, exec and openai engines built with slm_plugin.h's fault hook
 * (tests/faults/<name>.so, SLM_PLUGIN_FAIL_ALLOC=N fails the Nth allocation of the
 * plugin, jansson's included) are made to fail each of their allocations in turn, in a
 * child process each; every open(), score(), generate() and generate_many() either works
 * or fails with "out of memory". exec talks to tests/helpers/exec_model; openai to a
 * canned server forked here (chat streamed, completions, score through echo). Then a
 * whole run: the first of two candidates fails with that error, and the run goes on with
 * the second.
 *
 * Environment: SLM_TEST_BIN (default: this binary's folder) holds faults/<name>.so and
 * exec_model; SLMBENCH the slmbench binary (the run is skipped without it); SLM_ROOT
 * (default: the current directory) the repository, for tests/fixtures/replay and
 * tests/fixtures/tiny.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* The children end with _exit(), which skips LeakSanitizer's check at exit: ask for it. */
#define LEAKED() __lsan_do_recoverable_leak_check()
#else
#define LEAKED() 0
#endif

#include "slm_engine.h"
#include "store.h"
#include "util.h"

static char g_so[1100], g_preds[1024], g_dir[64], g_bin[1024];
static char g_exec[1100], g_exec_cmd[1200], g_url[64], g_gguf[128];
static pid_t g_server;

enum { WORKED = 0, OPEN_OOM = 2, CALL_OOM = 3, WRONG = 4 };

/* ---- a canned OpenAI-compatible server, in a process of its own ------------------------- */

static const char CHAT[] =
    "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"billing\"},"
    "\"logprobs\":{\"content\":[{\"token\":\"billing\",\"logprob\":-0.1}]},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1},"
    "\"timings\":{\"prompt_ms\":1.5,\"predicted_ms\":2.5}}";
static const char COMPLETION[] =
    "{\"choices\":[{\"index\":0,\"text\":\"billing\",\"logprobs\":{\"token_logprobs\":[-0.1]},"
    "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}";
/* the prompt "a prompt" is 8 characters: each choice's one token starts there */
static const char ECHO[] =
    "{\"choices\":[{\"index\":0,\"logprobs\":{\"token_logprobs\":[null,-0.5,-0.1],"
    "\"text_offset\":[0,8,15]}},{\"index\":1,\"logprobs\":{\"token_logprobs\":[null,-2.5,-0.1],"
    "\"text_offset\":[0,8,16]}}]}";
static const char STREAM[] =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"bill\"},"
    "\"logprobs\":{\"content\":[{\"logprob\":-0.1}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ing\"},"
    "\"logprobs\":{\"content\":[{\"logprob\":-0.2}]},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
    "data: [DONE]\n\n";

/* Reads one request (headers and Content-Length bytes of body) and answers it. */
static void serve_one(int c)
{
    static char buf[1 << 16];
    size_t len = 0;
    char *body = NULL;
    long want = -1;
    while (len < sizeof buf - 1) {
        ssize_t k = read(c, buf + len, sizeof buf - 1 - len);
        if (k <= 0)
            return;
        len += (size_t)k;
        buf[len] = '\0';
        if (!body && (body = strstr(buf, "\r\n\r\n"))) {
            body += 4;
            const char *cl = strcasestr(buf, "Content-Length:");
            want = cl && cl < body ? atol(cl + 15) : 0;
        }
        if (body && (long)(buf + len - body) >= want)
            break;
    }
    const char *answer = !strncmp(buf, "GET", 3)              ? "{\"data\":[]}"
                         : strstr(body, "\"echo\":true")     ? ECHO
                         : strstr(body, "\"stream\":true")   ? STREAM
                         : strstr(body, "\"messages\"")      ? CHAT
                                                             : COMPLETION;
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nServer: oom-test\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     answer == STREAM ? "text/event-stream" : "application/json", strlen(answer));
    if (write(c, head, (size_t)n) == n && write(c, answer, strlen(answer)))
        shutdown(c, SHUT_WR);
}

/* Starts the server on an ephemeral port of 127.0.0.1 (g_url); 0, or -1. */
static int server_start(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16) ||
        getsockname(s, (struct sockaddr *)&a, &al))
        return -1;
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d/v1", ntohs(a.sin_port));
    g_server = fork();
    if (g_server < 0)
        return -1;
    if (g_server == 0) {
        for (;;) {
            int c = accept(s, NULL, NULL);
            if (c < 0)
                continue;
            serve_one(c);
            close(c);
        }
    }
    close(s);
    return 0;
}

/* ---- each allocation failing in turn --------------------------------------------------- */

/* One plugin driven through its calls with each allocation failing in turn. */
typedef struct fault_case {
    const char *so;        /* $SLM_TEST_BIN/faults/<so>.so */
    slm_option opt[6];
    size_t n_opt;
    int score, generate, many; /* the calls made after open() */
    int min_open_oom, min_call_oom;
} fault_case;

/* An error message: "out of memory" (1), or anything else (0, printed). */
static int is_oom(const char *err)
{
    if (strstr(err, "out of memory"))
        return 1;
    fprintf(stderr, "%s\n", err);
    return 0;
}

typedef struct many_state {
    const slm_engine_vtable *vt;
    int wrong, failed;
} many_state;

static int many_done(void *ud, size_t i, slm_gen_result *res, double e2e_ms, const char *err)
{
    many_state *m = ud;
    (void)i, (void)e2e_ms;
    if (!res && !is_oom(err ? err : "(no message)"))
        m->wrong = 1;
    m->failed |= !res;
    m->vt->result_free(res);
    return 0;
}

/* The optional slots the plugin has (score_batch, tokenize, render): 0, or -1 (err set). */
static int optional_calls(const slm_engine_vtable *vt, slm_engine *e, char *err, size_t errlen)
{
    slm_request req = {sizeof req, "t1", "a prompt", 8, 1, NULL}; /* chat template on */
    slm_request r2 = {sizeof r2, "t2", "another prompt", 14, 0, NULL};
    const slm_request *reqs[] = {&req, &r2};
    const char *const choices[] = {" billing", " shipping"};
    slm_score_result *sb[2] = {NULL, NULL};
    slm_token_result *tr = NULL;
    slm_text_result *xr = NULL;
    int rc = (vt->score_batch && vt->score_batch(e, reqs, 2, choices, 2, sb, err, errlen)) ||
             (vt->tokenize && vt->tokenize(e, "a prompt", 8, SLM_TOKENIZE_ADD_SPECIAL, &tr, err,
                                           errlen)) ||
             (vt->render && vt->render(e, &req, &xr, err, errlen));
    vt->result_free(sb[0]);
    vt->result_free(sb[1]);
    vt->result_free(tr);
    vt->result_free(xr);
    return rc ? -1 : 0;
}

/* The calls after a successful open(): WORKED, CALL_OOM or WRONG. */
static int calls(const slm_engine_vtable *vt, slm_engine *e, const fault_case *fc)
{
    char err[SLM_ERRLEN] = "";
    slm_request req = {sizeof req, "t1", "a prompt", 8, 0, NULL};
    const char *const choices[] = {"billing", "shipping"};
    const char *const stop[] = {"###"};
    slm_gen_params gp = {sizeof gp, 8, NULL, 0, NULL, NULL, 0, 0};
    if (fc->many) { /* exercise the request's optional fields too */
        gp.stop = stop;
        gp.n_stop = 1;
        gp.temperature = 0.5f;
        gp.seed = 7;
    }
    slm_score_result *sr = NULL;
    slm_gen_result *gr = NULL;
    int rc = WORKED;
    if ((fc->score && vt->score(e, &req, choices, 2, &sr, err, sizeof err)) ||
        (fc->generate && vt->generate(e, &req, &gp, &gr, err, sizeof err)))
        rc = is_oom(err) ? CALL_OOM : WRONG;
    vt->result_free(sr);
    vt->result_free(gr);
    if (rc == WORKED && optional_calls(vt, e, err, sizeof err))
        rc = is_oom(err) ? CALL_OOM : WRONG;
    if (rc == WORKED && fc->many && vt->generate_many) {
        slm_request r2 = req;
        r2.id = "t2";
        const slm_request *reqs[] = {&req, &r2};
        many_state st = {vt, 0, 0};
        slm_gen_many m = {sizeof m, 2, many_done, &st, NULL, NULL, NULL};
        if (vt->generate_many(e, reqs, 2, &gp, &m, err, sizeof err))
            rc = is_oom(err) ? CALL_OOM : WRONG;
        else if (st.wrong)
            rc = WRONG;
        else if (st.failed)
            rc = CALL_OOM;
    }
    return rc;
}

/* In the child: loads the plugin with allocation n failing; what happened, as above. */
static int child(const fault_case *fc, long n)
{
    char v[32], so[1100], err[SLM_ERRLEN] = "";
    snprintf(v, sizeof v, "%ld", n);
    setenv("SLM_PLUGIN_FAIL_ALLOC", v, 1);
    snprintf(so, sizeof so, "%s/faults/%s.so", g_bin, fc->so);
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    slm_engine_entry_fn entry = h ? (slm_engine_entry_fn)dlsym(h, SLM_ENGINE_ENTRY) : NULL;
    if (!entry) {
        fprintf(stderr, "%s: %s\n", so, dlerror());
        return WRONG;
    }
    const slm_engine_vtable *vt = entry();
    if (vt->init && vt->init(err, sizeof err))
        return is_oom(err) ? OPEN_OOM : WRONG;
    slm_options opts = {fc->opt, fc->n_opt};
    slm_engine *e = NULL;
    if (vt->open(&opts, &e, err, sizeof err))
        return LEAKED() ? WRONG : is_oom(err) ? OPEN_OOM : WRONG;
    int rc = calls(vt, e, fc);
    vt->close(e);
    return LEAKED() ? WRONG : rc;
}

static void each_allocation_fails(const fault_case *fc)
{
    int seen[5] = {0}, worked_in_a_row = 0;
    long n;
    /* A few failures are survived on purpose (exec: a hello line whose removal failed is
     * dropped with the next request's leftovers; openai: open()'s probe of /models does
     * not need the body it failed to keep): the end is ten runs in a row that worked. */
    for (n = 1; n <= 3000 && worked_in_a_row < 10; n++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(child(fc, n));
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st))
            fail_msg("%s, allocation %ld failing: the plugin died (signal %d)", fc->so, n,
                     WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        int rc = WEXITSTATUS(st);
        if (rc == WRONG)
            fail_msg("%s, allocation %ld failing: no \"out of memory\" in the error", fc->so, n);
        if (rc != WORKED && rc != OPEN_OOM && rc != CALL_OOM)
            fail_msg("%s, allocation %ld failing: the child exited with %d", fc->so, n, rc);
        seen[rc]++;
        worked_in_a_row = rc == WORKED ? worked_in_a_row + 1 : 0;
    }
    assert_true(worked_in_a_row == 10);
    printf("# %s: %d failures at open, %d in the calls, %d survived\n", fc->so,
           seen[OPEN_OOM], seen[CALL_OOM], seen[WORKED] - 10);
    assert_true(seen[OPEN_OOM] >= fc->min_open_oom);
    assert_true(seen[CALL_OOM] >= fc->min_call_oom);
}

static void replay_each_allocation_failing_is_an_error(void **state)
{
    /* the file's records, labels, index; score's two arrays and result, generate's */
    fault_case fc = {"replay", {{"file", g_preds}, {"fail_ids", "x1, x2"}}, 2, 1, 1, 0, 6, 3};
    each_allocation_fails(&fc);
}

static void exec_each_allocation_failing_is_an_error(void **state)
{
    if (access(g_exec, X_OK)) {
        skip();
        return;
    }
    /* argv, environment, names; each request's json, the answer's line and result */
    fault_case fc = {"exec", {{"command", g_exec_cmd}, {"env", "SLM_OOM_TEST=1"}, {"cwd", "/"}},
                     3, 1, 1, 1, 10, 10};
    each_allocation_fails(&fc);
}

static void llamacpp_each_allocation_failing_is_an_error(void **state)
{
    if (!g_gguf[0]) {
        skip();
        return;
    }
    /* the handle, its buffers; tokens, templates, results of every slot */
    fault_case fc = {"llamacpp", {{"model", g_gguf}, {"n_ctx", "256"}, {"threads", "1"}},
                     3, 1, 1, 0, 3, 10};
    each_allocation_fails(&fc);
}

static void openai_each_allocation_failing_is_an_error(void **state)
{
    if (!g_server) {
        skip();
        return;
    }
    /* chat, streamed (SSE chunks), with an API key, one and two requests at once */
    fault_case chat = {"openai",
                       {{"base_url", g_url},
                        {"model", "m"},
                        {"stream", "1"},
                        {"api_key_env", "SLM_OOM_TEST_KEY"},
                        {"retries", "0"}},
                       5, 0, 1, 1, 4, 10};
    each_allocation_fails(&chat);
    /* completions, not streamed, and score through echo */
    fault_case echo = {"openai",
                       {{"base_url", g_url},
                        {"endpoint", "completions"},
                        {"score", "echo"},
                        {"retries", "0"}},
                       4, 1, 1, 0, 4, 10};
    each_allocation_fails(&echo);
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

/* A tiny demo model for llamacpp in g_gguf, made by slmbench itself ("" without it). */
static void make_gguf(void)
{
    const char *slmbench = getenv("SLMBENCH"), *root = getenv("SLM_ROOT");
    char cmd[4096];
    snprintf(g_gguf, sizeof g_gguf, "%s/m.gguf", g_dir);
    snprintf(cmd, sizeof cmd,
             "'%s' models make --train '%s/tests/fixtures/tiny/train.csv' --out '%s' "
             "--vocab 30 >/dev/null 2>&1",
             slmbench ? slmbench : "", root && *root ? root : ".", g_gguf);
    if (!slmbench || !*slmbench || system(cmd))
        g_gguf[0] = '\0';
}

static int group_setup(void **state)
{
    const char *bin = getenv("SLM_TEST_BIN");
    snprintf(g_bin, sizeof g_bin, "%s", bin && *bin ? bin : slm_exe_dir());
    snprintf(g_so, sizeof g_so, "%s/faults/replay.so", g_bin);
    snprintf(g_exec, sizeof g_exec, "%s/exec_model", g_bin);
    snprintf(g_exec_cmd, sizeof g_exec_cmd, "[\"%s\"]", g_exec);
    setenv("SLM_OOM_TEST_KEY", "not-a-secret", 1);
    if (server_start())
        g_server = 0;
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
    if (!mkdtemp(g_dir))
        return -1;
    make_gguf();
    return 0;
}

static int group_teardown(void **state)
{
    if (g_gguf[0])
        unlink(g_gguf);
    if (g_server > 0) {
        kill(g_server, SIGKILL);
        waitpid(g_server, NULL, 0);
    }
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
        cmocka_unit_test(replay_each_allocation_failing_is_an_error),
        cmocka_unit_test(exec_each_allocation_failing_is_an_error),
        cmocka_unit_test(openai_each_allocation_failing_is_an_error),
        cmocka_unit_test(llamacpp_each_allocation_failing_is_an_error),
        cmocka_unit_test(run_goes_on_with_the_next_candidate),
    };
    return cmocka_run_group_tests_name("engine_oom", tests, group_setup, group_teardown);
}
