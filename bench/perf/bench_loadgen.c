/*
 * bench_loadgen.c — the load generator's own cost (issue 18, item 7; in `make bench`,
 * BENCH_ONLY=loadgen): the openai plugin, loaded as the harness loads it, driven with
 * constant-rate open-loop schedules (ABI 1.6 send_at_ns, traced()) against an endpoint
 * that answers at once, so everything measured is the client's.
 *
 * The endpoint is in this process: a minimal HTTP/1.1 keep-alive server, one thread per
 * connection, answering every POST with a fixed small chat completion (streamed as 4
 * content events + a usage chunk + [DONE] when the request asks for a stream), with an
 * x-request-id header. Each server thread adds its own CPU time
 * (CLOCK_THREAD_CPUTIME_ID, read after each answer) to a shared counter, so the client's
 * CPU is the process's (getrusage RUSAGE_SELF) less the server threads' — and the calling
 * thread's own (RUSAGE_THREAD; the engine's whole loop runs there) is printed beside it.
 *
 * Per offered rate (constant gaps, a few seconds, at most CAP requests in flight):
 *   achieved   (requests - 1) / (last sent - first sent): the rate the requests left at
 *   completed  requests / (last end - first due)
 *   send error sent_ns - scheduled_ns of every request (slm_req_trace): p50, p99, max
 *   CPU/req    client CPU per request (µs): process less server threads; calling thread
 * and at the end the highest offered rate whose send-error p99 stayed under 1 ms.
 *
 *   bench_loadgen OPENAI_SO
 * Environment: BENCH_LOADGEN_SECONDS (default 2) per rate, BENCH_LOADGEN_RATES (default
 * "100 200 500 1000 2000 5000"), BENCH_LOADGEN_CAP (in flight, default 64).
 * Printed, never judged: the machines are shared and noisy.
 */
#include "engine.h"
#include "metrics.h"
#include "util.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 1024
#define MAX_RATES 16
#define PROMPT "Classify this ticket: my invoice shows a charge twice."

/* ---- the endpoint ---------------------------------------------------------------------- */

static struct {
    int lfd, port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    int n_conn;
    pthread_t conn[MAX_CONN];
    int fd[MAX_CONN];
    uint64_t cpu_ns[MAX_CONN]; /* each connection thread's CPU so far */
    long answered;
    volatile int quit;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const char BODY[] =
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"billing\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,"
    "\"total_tokens\":14}}";
#define EV(t) "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" t \
              "\"},\"finish_reason\":null}]}\n\n"
static const char SSE[] =
    EV("bil") EV("li") EV("n") EV("g")
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
    "\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":4}}\n\n"
    "data: [DONE]\n\n";

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The length of the first whole request in buf[0..have), 0 if not all there yet. */
static size_t request_len(char *buf, size_t have, size_t *hdr)
{
    buf[have] = '\0';
    char *e = strstr(buf, "\r\n\r\n");
    if (!e)
        return 0;
    *hdr = (size_t)(e - buf) + 4;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    size_t body = cl && cl < e ? strtoul(cl + 17, NULL, 10) : 0;
    return have >= *hdr + body ? *hdr + body : 0;
}

static int answer(int fd, const char *req, size_t n, size_t hdr, long id)
{
    if (strncmp(req, "POST ", 5))
        return write_all(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}", 47);
    int stream = memmem(req + hdr, n - hdr, "\"stream\":true", 13) != NULL;
    const char *body = stream ? SSE : BODY;
    size_t len = stream ? sizeof SSE - 1 : sizeof BODY - 1;
    char out[2048];
    int h = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nx-request-id: "
                     "req-%ld\r\nContent-Length: %zu\r\n\r\n",
                     stream ? "text/event-stream" : "application/json", id, len);
    memcpy(out + h, body, len); /* one write: headers and body */
    return write_all(fd, out, (size_t)h + len);
}

static void *conn_main(void *arg)
{
    int k = (int)(intptr_t)arg, fd = S.fd[k];
    char buf[65536];
    size_t have = 0, hdr = 0;
    while (!S.quit) {
        size_t n = request_len(buf, have, &hdr);
        if (!n) {
            if (have + 1 >= sizeof buf)
                break;
            ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
            if (r <= 0)
                break;
            have += (size_t)r;
            continue;
        }
        long id = __atomic_add_fetch(&S.answered, 1, __ATOMIC_RELAXED);
        if (answer(fd, buf, n, hdr, id))
            break;
        memmove(buf, buf + n, have - n);
        have -= n;
        __atomic_store_n(&S.cpu_ns[k], thread_cpu_ns(), __ATOMIC_RELAXED);
    }
    __atomic_store_n(&S.cpu_ns[k], thread_cpu_ns(), __ATOMIC_RELAXED);
    shutdown(fd, SHUT_RDWR);
    return NULL;
}

static void *accept_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(S.lfd, NULL, NULL);
        if (fd < 0 || S.quit) {
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_mutex_lock(&S.mu);
        if (S.n_conn == MAX_CONN) {
            pthread_mutex_unlock(&S.mu);
            close(fd);
            continue;
        }
        int k = S.n_conn++;
        S.fd[k] = fd;
        pthread_create(&S.conn[k], NULL, conn_main, (void *)(intptr_t)k);
        pthread_mutex_unlock(&S.mu);
    }
}

static int server_start(void)
{
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (S.lfd < 0 || bind(S.lfd, (struct sockaddr *)&a, sizeof a) || listen(S.lfd, 1024) ||
        getsockname(S.lfd, (struct sockaddr *)&a, &len))
        return -1;
    S.port = ntohs(a.sin_port);
    return pthread_create(&S.acceptor, NULL, accept_main, NULL);
}

static void server_stop(void)
{
    S.quit = 1;
    shutdown(S.lfd, SHUT_RDWR);
    pthread_join(S.acceptor, NULL);
    close(S.lfd);
    pthread_mutex_lock(&S.mu);
    int n = S.n_conn;
    pthread_mutex_unlock(&S.mu);
    for (int k = 0; k < n; k++) {
        shutdown(S.fd[k], SHUT_RDWR);
        pthread_join(S.conn[k], NULL);
        close(S.fd[k]);
    }
}

/* The server threads' CPU so far (ns). */
static uint64_t server_cpu_ns(void)
{
    pthread_mutex_lock(&S.mu);
    int n = S.n_conn;
    pthread_mutex_unlock(&S.mu);
    uint64_t s = 0;
    for (int k = 0; k < n; k++)
        s += __atomic_load_n(&S.cpu_ns[k], __ATOMIC_RELAXED);
    return s;
}

static uint64_t rusage_ns(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* ---- the client -------------------------------------------------------------------------- */

static slm_plugin *plugin;

/* What one schedule measured. */
static struct {
    double *err_ms;     /* sent - scheduled */
    uint64_t *sent, *end;
    size_t n_seen;
    int failed;
    char why[SLM_ERRLEN];
} Q;

static int on_traced(void *ud, size_t i, slm_gen_result *r, const slm_req_trace *tr,
                     const char *err)
{
    (void)ud;
    Q.err_ms[i] = tr->sent_ns >= tr->scheduled_ns
                      ? (double)(tr->sent_ns - tr->scheduled_ns) / 1e6
                      : -(double)(tr->scheduled_ns - tr->sent_ns) / 1e6;
    Q.sent[i] = tr->sent_ns;
    Q.end[i] = tr->end_ns;
    Q.n_seen++;
    if (!r && !Q.failed++)
        snprintf(Q.why, sizeof Q.why, "%s", err ? err : "failed");
    plugin->vt->result_free(r);
    return 0;
}

/* One level's figures. */
typedef struct level {
    double rate, achieved, completed, p50, p99, max, cpu_us, thread_us, server_us;
    size_t n;
    int failed;
} level;

/* Runs n requests at `rate` per second from a little ahead of now; fills L. */
static int run_rate(slm_engine *e, const slm_request *const *reqs, size_t n, double rate,
                    uint32_t cap, level *L)
{
    uint64_t *at = slm_xcalloc(n, sizeof *at);
    Q.err_ms = slm_xcalloc(n, sizeof *Q.err_ms);
    Q.sent = slm_xcalloc(n, sizeof *Q.sent);
    Q.end = slm_xcalloc(n, sizeof *Q.end);
    Q.n_seen = 0;
    Q.failed = 0;
    uint64_t t0 = slm_now_ns() + 20000000u;
    for (size_t i = 0; i < n; i++)
        at[i] = t0 + (uint64_t)((double)i * 1e9 / rate);
    slm_gen_params gp = {sizeof gp, 4, NULL, 0, NULL, NULL, 0.0, 0};
    slm_gen_many m = {sizeof m, cap, NULL, NULL, NULL, at, on_traced};
    char err[SLM_ERRLEN] = "";
    uint64_t p0 = rusage_ns(RUSAGE_SELF), th0 = rusage_ns(RUSAGE_THREAD), s0 = server_cpu_ns();
    int rc = plugin->vt->generate_many(e, reqs, n, &gp, &m, err, sizeof err);
    uint64_t p1 = rusage_ns(RUSAGE_SELF), th1 = rusage_ns(RUSAGE_THREAD), s1 = server_cpu_ns();
    if (rc || Q.n_seen != n)
        fprintf(stderr, "bench_loadgen: %s\n", rc ? err : "requests missing");
    uint64_t lo = UINT64_MAX, hi = 0, last_end = 0;
    for (size_t i = 0; i < n; i++) {
        lo = Q.sent[i] < lo ? Q.sent[i] : lo;
        hi = Q.sent[i] > hi ? Q.sent[i] : hi;
        last_end = Q.end[i] > last_end ? Q.end[i] : last_end;
    }
    *L = (level){.rate = rate, .n = n, .failed = Q.failed};
    L->achieved = hi > lo ? (double)(n - 1) * 1e9 / (double)(hi - lo) : NAN;
    L->completed = last_end > t0 ? (double)n * 1e9 / (double)(last_end - t0) : NAN;
    L->p50 = slm_percentile(Q.err_ms, n, 50);
    L->p99 = slm_percentile(Q.err_ms, n, 99);
    L->max = slm_percentile(Q.err_ms, n, 100);
    double server = (double)(s1 - s0);
    L->server_us = server / (double)n / 1e3;
    L->cpu_us = ((double)(p1 - p0) - server) / (double)n / 1e3;
    L->thread_us = (double)(th1 - th0) / (double)n / 1e3;
    if (Q.failed)
        fprintf(stderr, "bench_loadgen: %d of %zu requests failed, e.g. %s\n", Q.failed, n, Q.why);
    free(at);
    free(Q.err_ms);
    free(Q.sent);
    free(Q.end);
    return rc || Q.n_seen != n ? -1 : 0;
}

static void print_level(const level *L)
{
    printf("  %8.0f %8zu %9.1f %9.1f %9.3f %9.3f %9.3f %9.1f %9.1f %9.1f %6d\n", L->rate, L->n,
           L->achieved, L->completed, L->p50, L->p99, L->max, L->cpu_us, L->thread_us,
           L->server_us, L->failed);
}

/* One sweep over the rates with stream on or off; the best rate under 1 ms p99, or 0. */
static double sweep(const char *stream, const double *rates, size_t n_rates, double seconds,
                    uint32_t cap, const slm_request *const *reqs)
{
    char url[64], err[SLM_ERRLEN] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", S.port);
    slm_option o[] = {{"base_url", url}, {"model", "m"}, {"stream", stream}, {"retries", "0"}};
    slm_options opts = {o, 4};
    slm_engine *e = NULL;
    if (plugin->vt->open(&opts, &e, err, sizeof err)) {
        fprintf(stderr, "bench_loadgen: %s\n", err);
        return -1;
    }
    level L;
    run_rate(e, reqs, 200, 1000, cap, &L); /* untimed warm-up: connections opened */
    printf("openai engine, open loop, %s answers (chat, max_tokens 4, at most %u in flight, "
           "%.3g s per rate; send error = sent - scheduled, ms; CPU per request, us)\n",
           stream[0] == '1' ? "streamed" : "non-streamed", cap, seconds);
    printf("   offered requests  achieved completed  err p50   err p99   err max   client "
           "  caller    server failed\n");
    double best = 0;
    for (size_t k = 0; k < n_rates; k++) {
        size_t n = (size_t)(rates[k] * seconds);
        if (run_rate(e, reqs, n, rates[k], cap, &L))
            break;
        print_level(&L);
        if (L.p99 < 1.0 && !L.failed && rates[k] > best)
            best = rates[k];
    }
    plugin->vt->close(e);
    return best;
}

static size_t parse_rates(double *rates)
{
    const char *s = getenv("BENCH_LOADGEN_RATES");
    if (!s || !*s)
        s = "100 200 500 1000 2000 5000";
    size_t n = 0;
    char *end;
    for (double r; n < MAX_RATES && (r = strtod(s, &end), end != s); s = end)
        if (r > 0)
            rates[n++] = r;
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_loadgen OPENAI_SO\n");
        return 2;
    }
    const char *v = getenv("BENCH_LOADGEN_SECONDS");
    double seconds = v && atof(v) > 0 ? atof(v) : 2.0;
    v = getenv("BENCH_LOADGEN_CAP");
    uint32_t cap = v && atoi(v) > 0 && atoi(v) <= 1000 ? (uint32_t)atoi(v) : 64;
    double rates[MAX_RATES];
    size_t n_rates = parse_rates(rates);
    plugin = slm_plugin_open(argv[1]);
    if (!plugin->enabled || !(plugin->vt->caps & SLM_CAP_SCHEDULE) ||
        !SLM_SLOT(plugin->vt, generate_many)) {
        fprintf(stderr, "bench_loadgen: %s\n",
                plugin->enabled ? "the engine has no open loop (SLM_CAP_SCHEDULE)"
                                : plugin->reason);
        slm_plugin_unload(plugin);
        return 4;
    }
    if (server_start()) {
        fprintf(stderr, "bench_loadgen: cannot start the endpoint\n");
        slm_plugin_unload(plugin);
        return 4;
    }
    size_t n_max = 200;
    for (size_t k = 0; k < n_rates; k++)
        n_max = (size_t)(rates[k] * seconds) > n_max ? (size_t)(rates[k] * seconds) : n_max;
    slm_request rq = {sizeof rq, "bench", PROMPT, strlen(PROMPT), 0, NULL};
    const slm_request **reqs = slm_xcalloc(n_max, sizeof *reqs);
    for (size_t i = 0; i < n_max; i++)
        reqs[i] = &rq;
    double best_plain = sweep("0", rates, n_rates, seconds, cap, reqs);
    double best_stream = sweep("1", rates, n_rates, seconds, cap, reqs);
    printf("  achieved = (requests - 1) / (last sent - first sent); completed = requests / "
           "(last end - first due);\n  client = process CPU less the endpoint's threads; "
           "caller = the thread driving generate_many (RUSAGE_THREAD)\n");
    printf("highest offered rate with send-error p99 < 1 ms: %.0f req/s non-streamed, %.0f "
           "req/s streamed (of the rates tried; 0: none); the endpoint saw %d connections\n",
           best_plain, best_stream, S.n_conn);
    server_stop();
    free(reqs);
    slm_plugin_unload(plugin);
    return 0;
}
