/*
 * bench_openai.c — the openai engine against an OpenAI-compatible server (in `make bench`,
 * tests/server/slm_test_server running the llamacpp plugin on a demo model): throughput
 * at concurrency 1, 2, 4 and 8, and slmbench's own cost per request.
 *
 * The ABI has one request per generate() call and a handle is used by one thread at a
 * time, so concurrency N is N threads, each with its own engine handle (its own libcurl
 * handle and kept-alive connection), taking the next request from a shared counter.
 *
 * Per request it records the end-to-end time of generate() (client side), the time the
 * server says it computed (timings.prompt_ms + predicted_ms), and the calling thread's CPU
 * time inside generate() (CLOCK_THREAD_CPUTIME_ID: request JSON, libcurl, SSE/JSON
 * parsing — what slmbench itself spends). "overhead" = end-to-end − server-reported time:
 * transport plus the server's own HTTP and JSON work, and at concurrency > 1 the wait for
 * the server's single inference slot too, so it is meaningful at concurrency 1.
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

#include <pthread.h>
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

/* The shared queue of one round, and its samples. */
static struct {
    pthread_mutex_t lock;
    size_t next;
    double *e2e, *server, *cpu;
    int failed;
    char err[SLM_ERRLEN];
} Q = {.lock = PTHREAD_MUTEX_INITIALIZER};

typedef struct worker {
    pthread_t t;
    slm_engine *eng;
} worker;

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int one(slm_engine *e, size_t i, double *e2e, double *server, double *cpu, char *err,
               size_t errlen)
{
    const char *p = prompts[i % n_prompts];
    slm_request req = {sizeof req, "bench", p, strlen(p), 0, NULL};
    slm_gen_params gp = {sizeof gp, 4, NULL, 0, NULL, NULL, 0.0, 0};
    slm_gen_result *r = NULL;
    double c0 = thread_cpu_ms(), t0 = slm_now_ms();
    int rc = plugin->vt->generate(e, &req, &gp, &r, err, errlen);
    *e2e = slm_now_ms() - t0;
    *cpu = thread_cpu_ms() - c0;
    *server = r && r->timings.total_ms >= 0 ? r->timings.total_ms : 0;
    plugin->vt->result_free(r);
    return rc;
}

static void *work(void *arg)
{
    worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&Q.lock);
        size_t i = Q.next < n_requests && !Q.failed ? Q.next++ : n_requests;
        pthread_mutex_unlock(&Q.lock);
        if (i >= n_requests)
            return NULL;
        char err[SLM_ERRLEN];
        if (one(w->eng, i, &Q.e2e[i], &Q.server[i], &Q.cpu[i], err, sizeof err)) {
            pthread_mutex_lock(&Q.lock);
            if (!Q.failed)
                snprintf(Q.err, sizeof Q.err, "%s", err);
            Q.failed = 1;
            pthread_mutex_unlock(&Q.lock);
        }
    }
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

static int round_at(int conc)
{
    worker w[MAX_CONC];
    slm_option o[] = {{"base_url", base_url}, {"endpoint", "completions"}, {"stream", stream},
                      {"retries", "0"}};
    slm_options opts = {o, 4};
    char err[SLM_ERRLEN];
    for (int k = 0; k < conc; k++) {
        double a, b, c;
        if (plugin->vt->open(&opts, &w[k].eng, err, sizeof err) ||
            one(w[k].eng, (size_t)k, &a, &b, &c, err, sizeof err)) { /* untimed warm-up */
            fprintf(stderr, "bench_openai: %s\n", err);
            for (int j = 0; j <= k; j++)
                plugin->vt->close(w[j].eng);
            return -1;
        }
    }
    Q.next = 0;
    Q.failed = 0;
    double t0 = slm_now_ms();
    for (int k = 0; k < conc; k++)
        pthread_create(&w[k].t, NULL, work, &w[k]);
    for (int k = 0; k < conc; k++)
        pthread_join(w[k].t, NULL);
    double wall = slm_now_ms() - t0;
    for (int k = 0; k < conc; k++)
        plugin->vt->close(w[k].eng);
    if (Q.failed) {
        fprintf(stderr, "bench_openai: %s\n", Q.err);
        return -1;
    }
    double *ovh = slm_xmalloc(n_requests * sizeof *ovh);
    for (size_t i = 0; i < n_requests; i++)
        ovh[i] = Q.e2e[i] - Q.server[i];
    printf("  %11d %8zu %9.1f %10.1f %9.3f %9.3f %12.3f %12.3f %10.3f\n", conc, n_requests,
           wall, n_requests / (wall / 1e3), median(Q.e2e, n_requests),
           median(Q.server, n_requests), median(ovh, n_requests), mean(ovh, n_requests),
           mean(Q.cpu, n_requests));
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
    Q.cpu = slm_xcalloc(n_requests, sizeof *Q.cpu);
    printf("openai engine -> %s (completions, max_tokens 4, stream %s, one handle per "
           "thread; times in ms, p50 = median)\n",
           base_url, stream);
    printf("  concurrency requests   wall ms  requests/s  e2e p50 srv p50 overhead p50 "
           "overhead avg  client CPU\n");
    int rc = 0;
    static const int conc[] = {1, 2, 4, 8};
    for (size_t k = 0; k < sizeof conc / sizeof *conc && !rc; k++)
        rc = round_at(conc[k]);
    printf("  overhead = e2e - server-reported time (transport, the server's HTTP/JSON, and "
           "at concurrency > 1 the wait for its one inference slot);\n"
           "  client CPU = the calling thread's CPU time inside generate() (goal < 1 ms)\n");
    for (size_t i = 0; i < n_prompts; i++)
        free(prompts[i]);
    free(prompts);
    free(Q.e2e);
    free(Q.server);
    free(Q.cpu);
    slm_dataset_free(ds);
    slm_evalset_free(es);
    slm_plugin_unload(plugin);
    return rc ? 4 : 0;
}
