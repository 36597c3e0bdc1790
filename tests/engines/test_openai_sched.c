/*
 * test_openai_sched.c — the openai engine's open loop (ABI 1.6, SLM_CAP_SCHEDULE) through
 * the ABI: generate_many() with send_at_ns and traced(), against a small HTTP/1.1 server
 * run by the test on a thread (keep-alive, one thread per connection), which records what
 * it saw independently of the engine: each request's arrival time (CLOCK_MONOTONIC, the
 * same clock as send_at_ns) and the most requests it held at once.
 *
 * Nothing here waits for a time or asserts a duration: the server withholds its answers
 * until a number of requests has arrived (a state; a 10 s deadline only keeps a broken
 * engine from hanging the test), and the checks are orderings that hold on any machine,
 * however loaded (a request is never sent before it is due, it arrives after it is sent,
 * its first token comes between its send and its end).
 *
 * Environment: SLM_ENGINE_DIR (default: ../engines next to this binary, then
 * build/engines).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "slm_engine.h"
#include "slm_limits.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof *(a))
#define MAX_REQ 64
#define MAX_CONN 512 /* every connection of the whole test (about 100) */
#define HOLD_DEADLINE_NS (10ull * 1000000000u) /* a broken engine's hold ends here */
#define MS 1000000ull

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the server ---------------------------------------------------------------------- */

static struct srv {
    int lfd, port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n_conn;
    pthread_t conn[MAX_CONN];
    int fd[MAX_CONN];
    volatile int quit;
    /* how it answers (set between calls) */
    int hold_until;     /* no answer before this many requests arrived since reset */
    int stream_tokens;  /* content events of a streamed answer */
    int gap_ms;         /* sleep between two of them */
    int id_header;      /* send x-request-id: hdr-<i> */
    const char *id_fixed; /* x-request-id sent as is (overrides id_header) */
    int fail_first;     /* the first attempt of each request gets HTTP 500 */
    int delay_ms;       /* sleep before answering */
    /* what it saw */
    int gen;            /* srv_reset()s so far: an answer outliving its test counts nothing */
    int n_requests, in_progress, max_in_progress;
    int attempts[MAX_REQ];
    uint64_t arrival_ns[MAX_REQ]; /* the first attempt's */
} S = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void srv_reset(void)
{
    pthread_mutex_lock(&S.mu);
    S.hold_until = S.stream_tokens = S.gap_ms = S.id_header = S.fail_first = S.delay_ms = 0;
    S.id_fixed = NULL;
    S.n_requests = S.in_progress = S.max_in_progress = 0;
    S.gen++;
    memset(S.attempts, 0, sizeof S.attempts);
    memset(S.arrival_ns, 0, sizeof S.arrival_ns);
    pthread_mutex_unlock(&S.mu);
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

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Reads one request into buf (headers and body); its length, 0 at the end. */
static size_t read_request(int fd, char *buf, size_t cap, size_t *have, size_t *hdr_len)
{
    for (;;) {
        buf[*have] = '\0';
        char *e = strstr(buf, "\r\n\r\n");
        if (e) {
            *hdr_len = (size_t)(e - buf) + 4;
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t body = cl && cl < e ? strtoul(cl + 17, NULL, 10) : 0;
            if (*have >= *hdr_len + body)
                return *hdr_len + body;
        }
        if (*have + 1 >= cap)
            return 0;
        ssize_t r = recv(fd, buf + *have, cap - 1 - *have, 0);
        if (r <= 0)
            return 0;
        *have += (size_t)r;
    }
}

/* Answers one POST whose body is body (the prompt holds "req-<i>"). */
static int answer(int fd, const char *body)
{
    const char *p = strstr(body, "req-");
    int i = p ? atoi(p + 4) : 0;
    if (i < 0 || i >= MAX_REQ)
        i = 0;
    int stream = strstr(body, "\"stream\":true") != NULL;
    pthread_mutex_lock(&S.mu);
    int gen = S.gen, attempt = ++S.attempts[i];
    if (attempt == 1)
        S.arrival_ns[i] = mono_ns();
    S.n_requests++;
    if (++S.in_progress > S.max_in_progress)
        S.max_in_progress = S.in_progress;
    pthread_cond_broadcast(&S.cv);
    uint64_t deadline = mono_ns() + HOLD_DEADLINE_NS;
    while (S.n_requests < S.hold_until && !S.quit && mono_ns() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&S.cv, &S.mu, &ts);
    }
    int fail = S.fail_first && attempt == 1, delay = S.delay_ms, ntok = S.stream_tokens;
    int gap = S.gap_ms;
    char idh[400] = "";
    if (S.id_fixed)
        snprintf(idh, sizeof idh, "x-request-id: %s\r\n", S.id_fixed);
    else if (S.id_header)
        snprintf(idh, sizeof idh, "x-request-id: hdr-%d\r\n", i);
    pthread_mutex_unlock(&S.mu);
    for (int k = 0; k < delay / 10 && !S.quit; k++)
        sleep_ms(10);
    pthread_mutex_lock(&S.mu);
    if (gen == S.gen)
        S.in_progress--; /* before the answer leaves: the client may send again at once */
    pthread_mutex_unlock(&S.mu);

    char head[1024], out[8192];
    if (fail) {
        const char *b = "{\"error\":{\"message\":\"injected\"}}";
        int n = snprintf(out, sizeof out, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: "
                         "application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen(b), b);
        return write_all(fd, out, (size_t)n);
    }
    if (!stream) {
        int n = snprintf(out, sizeof out,
                         "{\"id\":\"chatcmpl-%d\",\"object\":\"chat.completion\",\"choices\":[{"
                         "\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},"
                         "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,"
                         "\"completion_tokens\":1}}", i);
        int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n%sContent-Type: application/json"
                         "\r\nContent-Length: %d\r\n\r\n", idh, n);
        return write_all(fd, head, (size_t)h) || write_all(fd, out, (size_t)n);
    }
    /* streamed: the events one write each (gap_ms apart), then [DONE]; Content-Length */
    char ev[MAX_REQ + 2][256];
    size_t total = 0;
    int nev = 0;
    for (int k = 0; k < ntok && nev < MAX_REQ; k++, nev++)
        total += (size_t)snprintf(ev[nev], sizeof ev[nev],
                                  "data: {\"id\":\"chatcmpl-%d\",\"choices\":[{\"index\":0,"
                                  "\"delta\":{\"content\":\"t%d\"},\"finish_reason\":null}]}\n\n",
                                  i, k);
    total += (size_t)snprintf(ev[nev++], sizeof ev[0],
                              "data: {\"id\":\"chatcmpl-%d\",\"choices\":[{\"index\":0,\"delta\":"
                              "{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,"
                              "\"completion_tokens\":%d}}\n\n", i, ntok);
    total += (size_t)snprintf(ev[nev++], sizeof ev[0], "data: [DONE]\n\n");
    int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n%sContent-Type: text/event-stream\r\n"
                     "Content-Length: %zu\r\n\r\n", idh, total);
    if (write_all(fd, head, (size_t)h))
        return -1;
    for (int k = 0; k < nev; k++) {
        if (k && gap)
            sleep_ms(gap);
        if (write_all(fd, ev[k], strlen(ev[k])))
            return -1;
    }
    return 0;
}

static void *conn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    size_t have = 0, hdr = 0, n;
    while (!S.quit && (n = read_request(fd, buf, sizeof buf, &have, &hdr))) {
        char save = buf[n];
        buf[n] = '\0';
        int rc;
        if (!strncmp(buf, "POST ", 5))
            rc = answer(fd, buf + hdr);
        else
            rc = write_all(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}", 47);
        buf[n] = save;
        memmove(buf, buf + n, have - n);
        have -= n;
        if (rc)
            break;
    }
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
        pthread_mutex_lock(&S.mu);
        if (S.n_conn == MAX_CONN) {
            pthread_mutex_unlock(&S.mu);
            fprintf(stderr, "test server: more than %d connections, refused\n", MAX_CONN);
            close(fd);
            continue;
        }
        S.fd[S.n_conn] = fd;
        pthread_create(&S.conn[S.n_conn], NULL, conn_main, (void *)(intptr_t)fd);
        S.n_conn++;
        pthread_mutex_unlock(&S.mu);
    }
}

static int srv_start(void)
{
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (S.lfd < 0 || bind(S.lfd, (struct sockaddr *)&a, sizeof a) || listen(S.lfd, 128) ||
        getsockname(S.lfd, (struct sockaddr *)&a, &len))
        return -1;
    S.port = ntohs(a.sin_port);
    return pthread_create(&S.acceptor, NULL, accept_main, NULL);
}

static void srv_stop(void)
{
    S.quit = 1;
    pthread_mutex_lock(&S.mu);
    pthread_cond_broadcast(&S.cv);
    pthread_mutex_unlock(&S.mu);
    shutdown(S.lfd, SHUT_RDWR);
    pthread_join(S.acceptor, NULL);
    close(S.lfd);
    for (int k = 0; k < S.n_conn; k++) {
        shutdown(S.fd[k], SHUT_RDWR);
        pthread_join(S.conn[k], NULL);
        close(S.fd[k]);
    }
}

/* ---- the engine ---------------------------------------------------------------------- */

static void *so, *fault_so; /* the engine; the engine with slm_plugin.h's fault hook */
static const slm_engine_vtable *vt, *fault_vt;

/* Opens the engine on the server with extra options "k=v" (NULL-terminated). */
static slm_engine *open_engine(const char *const *extra)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", S.port);
    slm_option items[16] = {{"base_url", url}, {"model", "m"}, {"logprobs", "0"}};
    size_t n = 3;
    char kv[8][64];
    for (size_t k = 0; extra && extra[k] && k < 8; k++) {
        snprintf(kv[k], sizeof kv[k], "%s", extra[k]);
        char *eq = strchr(kv[k], '=');
        *eq = '\0';
        items[n++] = (slm_option){kv[k], eq + 1};
    }
    slm_options o = {items, n};
    slm_engine *e = NULL;
    char err[512] = "";
    if (vt->open(&o, &e, err, sizeof err))
        fail_msg("open: %s", err);
    return e;
}

/* What the callbacks saw of one call. */
typedef struct seen {
    int n_traced, n_done, fails;
    int got[MAX_REQ];
    slm_req_trace tr[MAX_REQ];
    double gap_sum[MAX_REQ];
    int n_out[MAX_REQ];
    char sid[MAX_REQ][256];
    char err[MAX_REQ][256];
    volatile sig_atomic_t *stop_after_first; /* set by a thread once one was reported */
} seen;

static int on_traced(void *ud, size_t i, slm_gen_result *r, const slm_req_trace *tr,
                     const char *err)
{
    seen *s = ud;
    assert_true(i < MAX_REQ);
    assert_non_null(tr);
    assert_int_equal(tr->struct_size, sizeof *tr);
    assert_non_null(tr->server_id);
    s->n_traced++;
    s->got[i]++;
    s->tr[i] = *tr;
    s->tr[i].gaps_ms = NULL; /* borrowed: summed here */
    for (int k = 0; k < tr->n_gaps; k++) {
        assert_true(tr->gaps_ms[k] >= 0);
        s->gap_sum[i] += tr->gaps_ms[k];
    }
    snprintf(s->sid[i], sizeof s->sid[i], "%s", tr->server_id);
    snprintf(s->err[i], sizeof s->err[i], "%s", err ? err : "");
    s->n_out[i] = r ? r->n_output_tokens : -1;
    if (!r)
        s->fails++;
    vt->result_free((void *)r);
    return 0;
}

static int on_done(void *ud, size_t i, slm_gen_result *r, double e2e_ms, const char *err)
{
    seen *s = ud;
    assert_true(i < MAX_REQ);
    assert_true(e2e_ms >= 0);
    s->n_done++;
    s->got[i]++;
    if (!r)
        s->fails++;
    snprintf(s->err[i], sizeof s->err[i], "%s", err ? err : "");
    vt->result_free((void *)r);
    return 0;
}

static int never_traced(void *ud, size_t i, slm_gen_result *r, const slm_req_trace *tr,
                        const char *err)
{
    (void)ud, (void)i, (void)r, (void)tr, (void)err;
    fail_msg("traced() called through an slm_gen_many of ABI 1.5");
    return 1;
}

/* n requests whose prompts are "req-<i>" (the server reads i). */
typedef struct reqs {
    char prompt[MAX_REQ][32];
    slm_request r[MAX_REQ];
    const slm_request *p[MAX_REQ];
} reqs;

static void make_reqs(reqs *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(q->prompt[i], sizeof q->prompt[i], "req-%zu", i);
        q->r[i] = (slm_request){sizeof q->r[i], q->prompt[i], q->prompt[i],
                                strlen(q->prompt[i]), 0, NULL};
        q->p[i] = &q->r[i];
    }
}

/* Runs n requests with the schedule at (may be NULL), traced or not; 0 or -1 (err). */
static int run(slm_engine *e, size_t n, uint32_t conc, const uint64_t *at, int traced, seen *s,
               const volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    static reqs q;
    make_reqs(&q, n);
    slm_gen_params gp = {.struct_size = sizeof gp, .max_tokens = 8};
    slm_gen_many m = {sizeof m, conc, traced ? NULL : on_done, s, stop, at,
                      traced ? on_traced : NULL};
    return vt->generate_many(e, q.p, n, &gp, &m, err, errlen);
}

/* ---- tests --------------------------------------------------------------------------- */

static void caps_advertise_schedule(void **state)
{
    (void)state;
    assert_true(vt->caps & SLM_CAP_SCHEDULE);
    slm_engine *e = open_engine(NULL);
    slm_model_info info = {.struct_size = sizeof info};
    char err[256];
    assert_int_equal(vt->info(e, &info, err, sizeof err), 0);
    assert_true(info.caps & SLM_CAP_SCHEDULE);
    vt->close(e);
}

/* Checks each traced request of s against the schedule and the server's own record. */
static void check_sent_after_due(const seen *s, const uint64_t *at, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const slm_req_trace *t = &s->tr[i];
        assert_int_equal(s->got[i], 1);
        assert_int_equal(t->attempts, 1);
        assert_int_equal(t->http_status, 200);
        assert_int_equal(t->timed_out, 0);
        assert_true(t->scheduled_ns == at[i]);
        assert_true(t->sent_ns >= t->scheduled_ns);   /* never before it is due */
        assert_true(S.arrival_ns[i] >= at[i]);          /* the server agrees */
        assert_true(S.arrival_ns[i] >= t->sent_ns);     /* it arrived after it left */
        assert_true(t->end_ns >= S.arrival_ns[i]);
        assert_int_equal(t->first_token_ns, 0);         /* not streamed */
        assert_int_equal(t->n_gaps, 0);
    }
}

/* 20 requests due 10 ms apart against a server that answers at once: each is sent at or
 * after its time, as the server's arrival times say too. */
static void schedule_is_honoured(void **state)
{
    (void)state;
    srv_reset();
    slm_engine *e = open_engine(NULL);
    uint64_t at[20], t0 = mono_ns() + 50 * MS;
    for (size_t i = 0; i < N(at); i++)
        at[i] = t0 + i * 10 * MS;
    static seen s;
    memset(&s, 0, sizeof s);
    char err[512] = "";
    assert_int_equal(run(e, N(at), 20, at, 1, &s, NULL, err, sizeof err), 0);
    assert_int_equal(s.n_traced, 20);
    assert_int_equal(s.n_done, 0);
    assert_int_equal(s.fails, 0);
    check_sent_after_due(&s, at, N(at));
    vt->close(e);
}

/* The same schedule against a server that answers nothing until all 20 have arrived: an
 * open loop sends every one while the earlier ones are unanswered (a closed loop of
 * concurrency 1 would wait 10 s for the first answer and then be seen here). */
static void open_loop_sends_before_answers(void **state)
{
    (void)state;
    srv_reset();
    S.hold_until = 20;
    slm_engine *e = open_engine(NULL);
    uint64_t at[20], t0 = mono_ns() + 50 * MS;
    for (size_t i = 0; i < N(at); i++)
        at[i] = t0 + i * 10 * MS;
    static seen s;
    memset(&s, 0, sizeof s);
    char err[512] = "";
    assert_int_equal(run(e, N(at), 20, at, 1, &s, NULL, err, sizeof err), 0);
    assert_int_equal(s.n_traced, 20);
    check_sent_after_due(&s, at, N(at));
    assert_int_equal(S.max_in_progress, 20);
    uint64_t first_end = UINT64_MAX, last_sent = 0;
    for (size_t i = 0; i < N(at); i++) {
        first_end = s.tr[i].end_ns < first_end ? s.tr[i].end_ns : first_end;
        last_sent = s.tr[i].sent_ns > last_sent ? s.tr[i].sent_ns : last_sent;
    }
    assert_true(last_sent < first_end); /* all sent before any was answered */
    vt->close(e);
}

/* 20 requests all due at once with concurrency 4, the server holding its answers until 4
 * have arrived: it sees exactly 4 at once, never 5; the late ones are sent late, never
 * early. */
static void in_flight_cap_holds(void **state)
{
    (void)state;
    srv_reset();
    S.hold_until = 4;
    S.delay_ms = 20; /* each answer takes a while: requests queue behind the cap */
    slm_engine *e = open_engine(NULL);
    uint64_t at[20], t0 = mono_ns() + 20 * MS;
    for (size_t i = 0; i < N(at); i++)
        at[i] = t0;
    static seen s;
    memset(&s, 0, sizeof s);
    char err[512] = "";
    assert_int_equal(run(e, N(at), 4, at, 1, &s, NULL, err, sizeof err), 0);
    assert_int_equal(s.n_traced, 20);
    check_sent_after_due(&s, at, N(at));
    assert_int_equal(S.max_in_progress, 4);
    /* the fifth waited for a slot: sent after one of the first four ended */
    uint64_t first_end = UINT64_MAX;
    for (size_t i = 0; i < 4; i++)
        first_end = s.tr[i].end_ns < first_end ? s.tr[i].end_ns : first_end;
    assert_true(s.tr[4].sent_ns >= first_end);
    vt->close(e);
}

/* A streamed answer of 5 content events: 4 gaps, the first token between send and end,
 * the gaps within first token .. end; the id from the header, else from the body. */
static void traces_are_filled(void **state)
{
    (void)state;
    for (int hdr = 1; hdr >= 0; hdr--) {
        srv_reset();
        S.stream_tokens = 5;
        S.gap_ms = 2;
        S.id_header = hdr;
        const char *const opts[] = {"stream=1", NULL};
        slm_engine *e = open_engine(opts);
        static seen s;
        memset(&s, 0, sizeof s);
        char err[512] = "";
        assert_int_equal(run(e, 3, 2, NULL, 1, &s, NULL, err, sizeof err), 0);
        assert_int_equal(s.n_traced, 3);
        assert_int_equal(s.fails, 0);
        for (size_t i = 0; i < 3; i++) {
            const slm_req_trace *t = &s.tr[i];
            char want[32];
            snprintf(want, sizeof want, hdr ? "hdr-%zu" : "chatcmpl-%zu", i);
            assert_string_equal(s.sid[i], want);
            assert_int_equal(s.n_out[i], 5);
            assert_int_equal(t->n_gaps, 5 - 1);
            assert_int_equal(t->scheduled_ns, 0); /* closed loop */
            assert_true(t->sent_ns > 0 && t->first_token_ns >= t->sent_ns);
            assert_true(t->end_ns >= t->first_token_ns);
            assert_true(s.gap_sum[i] <= (double)(t->end_ns - t->first_token_ns) / 1e6 + 1e-9);
            assert_int_equal(t->http_status, 200);
        }
        vt->close(e);
    }
}

/* The server's id is redacted when it looks like a key, and cut to its bound. */
static void request_id_redacted_and_bounded(void **state)
{
    (void)state;
    char longid[301];
    memset(longid, 'a', 300);
    longid[300] = '\0';
    const char *ids[] = {"sk-abcdefghij0123456789klmnop", longid, "plainkey.4711.zz"};
    setenv("SLM_SCHED_TEST_KEY", ids[2], 1); /* the configured key, echoed as the id */
    const char *const keyed[] = {"api_key_env=SLM_SCHED_TEST_KEY", NULL};
    for (size_t k = 0; k < N(ids); k++) {
        srv_reset();
        S.id_fixed = ids[k];
        slm_engine *e = open_engine(k == 2 ? keyed : NULL);
        static seen s;
        memset(&s, 0, sizeof s);
        char err[512] = "";
        assert_int_equal(run(e, 1, 1, NULL, 1, &s, NULL, err, sizeof err), 0);
        assert_int_equal(s.n_traced, 1);
        if (k == 0) {
            assert_null(strstr(s.sid[0], "abcdefghij0123456789"));
            assert_non_null(strstr(s.sid[0], "[redacted]"));
        } else if (k == 2) {
            assert_string_equal(s.sid[0], "[redacted]");
        } else {
            assert_int_equal(strlen(s.sid[0]), SLM_OPENAI_MAX_REQUEST_ID_BYTES - 1);
        }
        vt->close(e);
    }
}

/* Attempts and status of a retried request; timed_out of one that ran out of time. */
static void attempts_status_timeout(void **state)
{
    (void)state;
    srv_reset();
    S.fail_first = 1;
    slm_engine *e = open_engine(NULL);
    static seen s;
    memset(&s, 0, sizeof s);
    char err[512] = "";
    assert_int_equal(run(e, 2, 2, NULL, 1, &s, NULL, err, sizeof err), 0);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(s.tr[i].attempts, 2);
        assert_int_equal(s.tr[i].http_status, 200);
        assert_int_equal(S.attempts[i], 2);
    }
    vt->close(e);

    srv_reset();
    S.delay_ms = 3000;
    const char *const opts[] = {"timeout_ms=200", "retries=0", NULL};
    e = open_engine(opts);
    memset(&s, 0, sizeof s);
    assert_int_equal(run(e, 1, 1, NULL, 1, &s, NULL, err, sizeof err), 0);
    assert_int_equal(s.n_traced, 1);
    assert_int_equal(s.fails, 1);
    assert_int_equal(s.tr[0].timed_out, 1);
    assert_int_equal(s.tr[0].attempts, 1);
    assert_int_equal(s.tr[0].http_status, 0);
    assert_non_null(strstr(s.err[0], "timeout_ms"));
    vt->close(e);
}

/* traced NULL: done() as before, schedule or not. */
static void untraced_calls_done(void **state)
{
    (void)state;
    srv_reset();
    slm_engine *e = open_engine(NULL);
    uint64_t at[4], t0 = mono_ns();
    for (size_t i = 0; i < N(at); i++)
        at[i] = t0 + i * MS;
    static seen s;
    memset(&s, 0, sizeof s);
    char err[512] = "";
    assert_int_equal(run(e, 4, 2, NULL, 0, &s, NULL, err, sizeof err), 0);
    assert_int_equal(s.n_done, 4);
    assert_int_equal(s.n_traced, 0);
    assert_int_equal(s.fails, 0);
    memset(&s, 0, sizeof s);
    srv_reset();
    assert_int_equal(run(e, 4, 2, at, 0, &s, NULL, err, sizeof err), 0);
    assert_int_equal(s.n_done, 4);
    assert_int_equal(s.fails, 0);
    for (size_t i = 0; i < N(at); i++) {
        assert_true(S.arrival_ns[i] >= at[i]);
    }
    vt->close(e);
}

/* An slm_gen_many of ABI 1.5 (struct_size ends before send_at_ns): whatever follows it in
 * memory is not read — here a schedule an hour away and a traced() that fails the test. */
static void old_size_served_as_before(void **state)
{
    (void)state;
    srv_reset();
    slm_engine *e = open_engine(NULL);
    uint64_t far = mono_ns() + 3600ull * 1000000000u, at[3] = {far, far, far};
    static reqs q;
    make_reqs(&q, 3);
    static seen s;
    memset(&s, 0, sizeof s);
    slm_gen_params gp = {.struct_size = sizeof gp, .max_tokens = 8};
    slm_gen_many m = {(uint32_t)offsetof(slm_gen_many, send_at_ns), 2, on_done, &s, NULL, at,
                      never_traced};
    char err[512] = "";
    assert_int_equal(vt->generate_many(e, q.p, 3, &gp, &m, err, sizeof err), 0);
    assert_int_equal(s.n_done, 3);
    assert_int_equal(s.fails, 0);
    assert_true(mono_ns() < far);
    vt->close(e);
}

static volatile sig_atomic_t stop_flag;
static seen stop_seen;

/* Sets the stop flag (as a Ctrl-C handler would) once the first request was reported. */
static void *stopper(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&stop_seen.n_traced, __ATOMIC_SEQ_CST))
        sleep_ms(1);
    sleep_ms(50); /* the engine is waiting for the next due time now */
    stop_flag = 1;
    return NULL;
}

/* Ctrl-C while the loop waits for a request due in 60 s: the call returns long before,
 * having reported only what finished. */
static void stop_during_schedule(void **state)
{
    (void)state;
    srv_reset();
    slm_engine *e = open_engine(NULL);
    uint64_t t0 = mono_ns(), far = t0 + 60ull * 1000000000u, at[4] = {t0, far, far, far};
    memset(&stop_seen, 0, sizeof stop_seen);
    stop_flag = 0;
    pthread_t th;
    pthread_create(&th, NULL, stopper, NULL);
    char err[512] = "";
    assert_int_equal(run(e, 4, 4, at, 1, &stop_seen, &stop_flag, err, sizeof err), 0);
    pthread_join(th, NULL);
    assert_true(mono_ns() < far);
    assert_int_equal(stop_seen.n_traced, 1);
    assert_int_equal(S.attempts[1], 0); /* never sent */
    vt->close(e);
}

/* rate still applies under a schedule: 4 requests due at once, rate 20/s: the server sees
 * them at least 50 ms apart by the engine's clock (sent_ns spans >= 150 ms, less a
 * margin for the connect times of warm connections). */
static void rate_still_applies(void **state)
{
    (void)state;
    srv_reset();
    const char *const opts[] = {"rate=20", NULL};
    slm_engine *e = open_engine(opts);
    static seen s;
    memset(&s, 0, sizeof s);
    char err[512] = "";
    assert_int_equal(run(e, 4, 4, NULL, 1, &s, NULL, err, sizeof err), 0); /* warm */
    uint64_t t0 = mono_ns() + 60 * MS, at[4] = {t0, t0, t0, t0};
    memset(&s, 0, sizeof s);
    srv_reset();
    assert_int_equal(run(e, 4, 4, at, 1, &s, NULL, err, sizeof err), 0);
    assert_int_equal(s.n_traced, 4);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < 4; i++) {
        assert_true(s.tr[i].sent_ns >= at[i]);
        lo = s.tr[i].sent_ns < lo ? s.tr[i].sent_ns : lo;
        hi = s.tr[i].sent_ns > hi ? s.tr[i].sent_ns : hi;
    }
    assert_true(hi - lo >= 140 * MS);
    vt->close(e);
}

/* The child of allocations_failing: the engine with allocation n failing opens and runs
 * 3 traced, streamed requests on a schedule. Its exit: 0 every request answered, 1 some
 * failure said "out of memory" (open's, the call's or a request's), 2 a failure said
 * something else. */
static int oom_child(long n)
{
    char v[32];
    snprintf(v, sizeof v, "%ld", n);
    setenv("SLM_PLUGIN_FAIL_ALLOC", v, 1);
    vt = fault_vt;
    char url[64], err[512] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", S.port);
    slm_option items[] = {{"base_url", url}, {"model", "m"}, {"stream", "1"}, {"retries", "0"}};
    slm_options o = {items, N(items)};
    slm_engine *e = NULL;
    if (vt->open(&o, &e, err, sizeof err))
        return strstr(err, "out of memory") ? 1 : 2;
    uint64_t t0 = mono_ns(), at[3] = {t0, t0 + MS, t0 + 2 * MS};
    static seen s;
    int rc = run(e, 3, 2, at, 1, &s, NULL, err, sizeof err);
    vt->close(e);
    int oom = rc != 0, other = rc && !strstr(err, "out of memory");
    for (size_t i = 0; i < 3; i++)
        if (s.err[i][0]) {
            oom = 1;
            other |= !strstr(s.err[i], "out of memory");
        }
    return other ? 2 : oom;
}

/* Every allocation of the engine failing in turn (a child each), through open and a
 * traced, streamed, scheduled call: each failure is an "out of memory" error, never a
 * crash or another message; the end is ten runs in a row that worked. */
static void allocations_failing(void **state)
{
    (void)state;
    if (!fault_vt) {
        skip();
        return;
    }
    srv_reset();
    S.stream_tokens = 40; /* the gaps' array grows: its realloc fails in turn too */
    S.id_header = 1;
    int in_a_row = 0, ooms = 0;
    for (long n = 1; n <= 2000 && in_a_row < 10; n++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(oom_child(n));
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st))
            fail_msg("allocation %ld failing: the engine died (signal %d)", n,
                     WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        if (WEXITSTATUS(st) == 2)
            fail_msg("allocation %ld failing: an error without \"out of memory\"", n);
        ooms += WEXITSTATUS(st) == 1;
        in_a_row = WEXITSTATUS(st) == 0 ? in_a_row + 1 : 0;
    }
    printf("# %d runs had an allocation fail with \"out of memory\"\n", ooms);
    assert_int_equal(in_a_row, 10);
    assert_true(ooms > 10);
}

/* ---- set-up -------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    char path[1024];
    const char *dir = getenv("SLM_ENGINE_DIR");
    if (dir && *dir)
        snprintf(path, sizeof path, "%s/openai.so", dir);
    else {
        snprintf(path, sizeof path, "%s/../engines/openai.so", slm_exe_dir());
        if (access(path, R_OK))
            snprintf(path, sizeof path, "build/engines/openai.so");
    }
    so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        return -1;
    }
    slm_engine_entry_fn entry = (slm_engine_entry_fn)dlsym(so, SLM_ENGINE_ENTRY);
    vt = entry ? entry() : NULL;
    if (!vt || srv_start())
        return -1;
    /* the fault build (make check builds it): loaded here, used only in children */
    snprintf(path, sizeof path, "%s/faults/openai.so", slm_exe_dir());
    fault_so = access(path, R_OK) ? NULL : dlopen(path, RTLD_NOW | RTLD_LOCAL);
    entry = fault_so ? (slm_engine_entry_fn)dlsym(fault_so, SLM_ENGINE_ENTRY) : NULL;
    fault_vt = entry ? entry() : NULL;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    srv_stop();
    if (so)
        dlclose(so);
    if (fault_so)
        dlclose(fault_so);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(caps_advertise_schedule),
        cmocka_unit_test(schedule_is_honoured),
        cmocka_unit_test(open_loop_sends_before_answers),
        cmocka_unit_test(in_flight_cap_holds),
        cmocka_unit_test(traces_are_filled),
        cmocka_unit_test(request_id_redacted_and_bounded),
        cmocka_unit_test(attempts_status_timeout),
        cmocka_unit_test(untraced_calls_done),
        cmocka_unit_test(old_size_served_as_before),
        cmocka_unit_test(stop_during_schedule),
        cmocka_unit_test(rate_still_applies),
        cmocka_unit_test(allocations_failing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
