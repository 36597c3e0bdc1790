/*
 * bench_openai.c — the openai engine against an OpenAI-compatible server (in `make bench`,
 * tests/server/slm_test_server running the llamacpp plugin on a demo model): throughput
 * at concurrency 1, 2, 4 and 8, and slmbench's own cost per request.
 *
 * Concurrency N is what `slmbench run` does with `concurrency: N`: one engine handle, one
 * generate_many() call over all requests with up to N in flight (one libcurl multi loop
 * on the calling thread).
 *
 * Per request it records the end-to-end time reported through done() (from the request's
 * first attempt to its end) and the time the server says it computed (timings.prompt_ms +
 * predicted_ms). "overhead" = end-to-end − server-reported time: transport plus the
 * server's own HTTP and JSON work, and at concurrency > 1 the wait for the server's single
 * inference slot too, so it is meaningful at concurrency 1. "client CPU" is the calling
 * thread's CPU time over the whole round divided by the requests (request JSON, libcurl,
 * JSON parsing, the loop: what slmbench itself spends per request).
 *
 *   bench_openai OPENAI_SO BASE_URL EVALSET [N_REQUESTS]
 *
 * Environment: BENCH_STREAM=1 streams the answers (default 0).
 * Timings are printed, never judged (the machines are shared and noisy).
 */
#include "engine.h"
#include "evalset.h"
#include "prompt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONC 8

static slm_plugin *plugin;
static char **prompts;
static size_t n_prompts, n_requests;
static const char *base_url;
static const char *stream = "0";

/* The samples of one round. */
static struct {
    double *e2e, *server;
    size_t n_done;
    int failed;
    char err[SLM_ERRLEN];
} Q;

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int on_done(void *ud, size_t i, slm_gen_result *r, double e2e_ms, const char *err)
{
    (void)ud;
    Q.e2e[i] = e2e_ms;
    Q.server[i] = r && r->timings.total_ms >= 0 ? r->timings.total_ms : 0;
    Q.n_done++;
    if (!r && !Q.failed) {
        snprintf(Q.err, sizeof Q.err, "%s", err ? err : "failed");
        Q.failed = 1;
    }
    plugin->vt->result_free(r);
    return Q.failed;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of x[0..n) (sorts a copy). */
static double median(const double *x, size_t n)
{
    double *c = slm_xmalloc(n * sizeof *c);
    memcpy(c, x, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

static double mean(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return n ? s / (double)n : 0;
}

static int round_at(slm_engine *e, const slm_request *const *reqs, size_t n, int conc,
                    int print)
{
    slm_gen_params gp = {sizeof gp, 4, NULL, 0, NULL, NULL, 0.0, 0};
    slm_gen_many m = {sizeof m, (uint32_t)conc, on_done, NULL, NULL, NULL, NULL};
    char err[SLM_ERRLEN] = "";
    Q.n_done = 0;
    Q.failed = 0;
    double c0 = thread_cpu_ms(), t0 = slm_now_ms();
    int rc = plugin->vt->generate_many(e, reqs, n, &gp, &m, err, sizeof err);
    double wall = slm_now_ms() - t0, cpu = thread_cpu_ms() - c0;
    if (rc || Q.failed || Q.n_done != n) {
        fprintf(stderr, "bench_openai: %s\n", rc ? err : Q.failed ? Q.err : "requests missing");
        return -1;
    }
    if (!print)
        return 0;
    double *ovh = slm_xmalloc(n_requests * sizeof *ovh);
    for (size_t i = 0; i < n_requests; i++)
        ovh[i] = Q.e2e[i] - Q.server[i];
    static double rps1;
    double rps = n_requests / (wall / 1e3);
    if (conc == 1)
        rps1 = rps;
    printf("  %11d %8zu %9.1f %10.1f %7.2fx %9.3f %9.3f %12.3f %12.3f %10.3f\n", conc,
           n_requests, wall, rps, rps1 > 0 ? rps / rps1 : 0.0, median(Q.e2e, n_requests),
           median(Q.server, n_requests), median(ovh, n_requests), mean(ovh, n_requests),
           cpu / (double)n_requests);
    free(ovh);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: bench_openai OPENAI_SO BASE_URL EVALSET [N_REQUESTS]\n");
        return 2;
    }
    char err[SLM_ERRLEN];
    base_url = argv[2];
    n_requests = argc == 5 ? (size_t)atol(argv[4]) : 200;
    if (n_requests < MAX_CONC)
        n_requests = MAX_CONC;
    const char *s = getenv("BENCH_STREAM");
    if (s && !strcmp(s, "1"))
        stream = "1";
    plugin = slm_plugin_open(argv[1]);
    if (!plugin->enabled) {
        fprintf(stderr, "bench_openai: %s\n", plugin->reason);
        slm_plugin_unload(plugin);
        return 4;
    }
    slm_evalset *es;
    slm_dataset *ds;
    if (slm_evalset_load(argv[3], &es, err, sizeof err) ||
        slm_evalset_load_split(es, "test", 0, &ds, err, sizeof err)) {
        fprintf(stderr, "bench_openai: %s\n", err);
        slm_plugin_unload(plugin);
        return 3;
    }
    n_prompts = ds->n < n_requests ? ds->n : n_requests;
    prompts = slm_xcalloc(n_prompts, sizeof *prompts);
    for (size_t i = 0; i < n_prompts; i++)
        prompts[i] = slm_prompt_render(es->prompt, ds->rows[i].text, ds->rows[i].id,
                                       (const char *const *)es->labels, es->n_labels);
    Q.e2e = slm_xcalloc(n_requests, sizeof *Q.e2e);
    Q.server = slm_xcalloc(n_requests, sizeof *Q.server);
    slm_request *rq = slm_xcalloc(n_requests, sizeof *rq);
    const slm_request **reqs = slm_xcalloc(n_requests, sizeof *reqs);
    for (size_t i = 0; i < n_requests; i++) {
        const char *p = prompts[i % n_prompts];
        rq[i] = (slm_request){sizeof rq[i], "bench", p, strlen(p), 0, NULL};
        reqs[i] = &rq[i];
    }
    slm_option o[] = {{"base_url", base_url}, {"endpoint", "completions"}, {"stream", stream},
                      {"retries", "0"}};
    slm_options opts = {o, 4};
    slm_engine *e = NULL;
    int (*many)(slm_engine *, const slm_request *const *, size_t, const slm_gen_params *,
                const slm_gen_many *, char *, size_t) = SLM_SLOT(plugin->vt, generate_many);
    if (!many || plugin->vt->open(&opts, &e, err, sizeof err) ||
        round_at(e, reqs, MAX_CONC, MAX_CONC, 0) /* untimed warm-up: connections opened */) {
        fprintf(stderr, "bench_openai: %s\n", many ? err : "the engine has no generate_many");
        plugin->vt->close(e);
        slm_plugin_unload(plugin);
        return 4;
    }
    printf("openai engine -> %s (completions, max_tokens 4, stream %s, one handle, "
           "generate_many; times in ms, p50 = median)\n",
           base_url, stream);
    printf("  concurrency requests   wall ms  requests/s  vs c=1   e2e p50   srv p50 "
           "overhead p50 overhead avg  client CPU\n");
    int rc = 0;
    static const int conc[] = {1, 2, 4, 8};
    for (size_t k = 0; k < sizeof conc / sizeof *conc && !rc; k++)
        rc = round_at(e, reqs, n_requests, conc[k], 1);
    printf("  overhead = e2e - server-reported time (transport, the server's HTTP/JSON, and "
           "at concurrency > 1 the wait for its one inference slot);\n"
           "  client CPU = the driving thread's CPU time per request (goal < 1 ms)\n");
    plugin->vt->close(e);
    free(rq);
    free(reqs);
    for (size_t i = 0; i < n_prompts; i++)
        free(prompts[i]);
    free(prompts);
    free(Q.e2e);
    free(Q.server);
    slm_dataset_free(ds);
    slm_evalset_free(es);
    slm_plugin_unload(plugin);
    return rc ? 4 : 0;
}
