/*
 * slm_test_server — a small OpenAI-compatible HTTP/1.1 server for the tests and benchmarks
 * of the openai engine. It answers with real llama.cpp inference: it loads the llamacpp
 * engine plugin (slm_plugin_open) and a GGUF model, and calls the plugin's generate().
 *
 *   slm_test_server --engine build/engines/llamacpp.so --model demo.gguf [--port N]
 *                   [--name MODEL_ID] [--threads N] [--slots N] [--queue N] [--slot-ms MS]
 *                   [--fault KIND[:ARG]] [--fault-every N] [--max-requests N]
 *                   [--require-key-env NAME] [--echo]
 *
 * It binds 127.0.0.1 only. --port 0 (the default) picks a free port; the port in use is
 * printed to stdout as "port N" once the server listens.
 *
 * Endpoints:
 *   POST /v1/completions        {"prompt", "max_tokens", "stop", "logprobs", "stream", ...}
 *   POST /v1/chat/completions   {"messages", "max_tokens", "stop", "logprobs", "top_logprobs",
 *                                "stream", ...}; the contents of the messages are joined
 *                                with newlines and wrapped in the model's chat template
 *                                when it has one
 *   GET  /v1/models             the one model
 *   GET  /stats                 {"requests": completion requests so far, "max_in_flight":
 *                                the most answered at once} (for the tests of concurrency)
 *   GET  /slots                 {"slots", "busy": slots inferring now, "queued": requests
 *                                waiting for one, "max_busy", "max_queued": the most at
 *                                once so far, "served": inferences done, "rejected":
 *                                answered 503, "abandoned": left by their client while
 *                                queued (never run), "queue_max"}
 *   GET  /health                {"status": "ok"} (as llama-server)
 * Every answer carries an x-request-id header unique to this server: a completion's is its
 * JSON "id" (cmpl-TAG-N, chatcmpl-TAG-N; N counts completion requests, so faults fall on
 * the N-th), any other answer's srv-TAG-N. TAG tells this process from others.
 * Answers carry "usage" {prompt_tokens, completion_tokens, total_tokens} and llama-server's
 * "timings" {prompt_n, prompt_ms, predicted_n, predicted_ms}, measured through the probe.
 * With "stream": true the answer is Server-Sent Events (`data: {...}\n\n` chunks, then
 * `data: [DONE]`) in a chunked HTTP body; the last chunk holds finish_reason, usage and
 * timings. "echo" (prompt log-probabilities, for score mode) is answered 400 as by
 * llama-server, unless --echo is given: then completions echo each prompt of the list
 * with its pieces' log-probabilities, as vLLM does (see echo_json).
 *
 * Log-probabilities: the plugin returns one ln P per generated token but not the tokens'
 * text, so the text is cut into as many pieces as there are tokens at UTF-8 character
 * boundaries, each piece standing for one token; top_logprobs lists just that token. The
 * pieces are not the model's true token boundaries (the demo models answer one label
 * word, usually a single token).
 *
 * Fault injection (tests of the engine's retries): --fault applies to every N-th
 * completion request (--fault-every N, default 1 = every request; GET /v1/models never):
 *   delay:MS        answer MS milliseconds late
 *   hang            never answer (the connection stays open until the client leaves)
 *   429[:S]         HTTP 429 with Retry-After: S (default 1)
 *   500             HTTP 500
 *   malformed       HTTP 200 with a body that is not valid JSON
 *   drop            close the connection in the middle of the answer
 *   slow-stream:MS  streamed chunks MS milliseconds apart (non-streamed answers as usual)
 *   done-open       a streamed answer complete to `data: [DONE]`, then the connection left
 *                   open without the body's last chunk (non-streamed answers as usual)
 *   huge:MIB        an answer of MIB MiB of text (0: a stream that never ends): streamed,
 *                   64 KiB content chunks; non-streamed, one JSON body of that size
 *   huge-header:MIB an answer whose header never ends: MIB MiB of 1000-byte header lines
 *                   (0: until the client leaves)
 *   huge-chunked:MIB a non-streamed answer sent chunked, its JSON text MIB MiB of 'x' (0: a
 *                   body that never ends)
 *   arrays:KIB      a non-streamed answer with KIB KiB of tiny JSON arrays ("[],[],...", a
 *                   million in 3000 KiB) beside its choices, so a parser builds a node for each
 *   nested:MIB      a non-streamed answer of MIB MiB of '[' (nesting as deep as it goes)
 *   echo-auth       HTTP 401 whose error message quotes the request's key bare and its
 *                   Authorization header (as some servers do), the only place this server
 *                   shows them
 *
 * Inference slots: --slots N (default 1, at most SLM_TEST_SERVER_MAX_SLOTS) opens the model
 * N times through the plugin, each handle with its own context and --threads threads, so
 * N inferences run together (on N x threads cores). A request takes a free slot or waits
 * in a first-come queue; one that would wait while --queue N others wait (default
 * MAX_CONN, 0: none may wait) is answered at once 503 Service Unavailable with
 * Retry-After: 1 (503, not 429: the server is overloaded, the client is not over a quota;
 * the openai engine retries both). Throughput thus rises with concurrency up to the
 * slots (and the cores), then saturates while latency grows. --slot-ms MS keeps a slot
 * busy at least MS ms per inference, asleep once the inference is done (a device's compute,
 * off the CPU: tests that must see requests overlap, the knee of bench/perf/bench_slots.sh
 * on a machine of few cores). Faults are applied outside the slots: a delayed, hanging or
 * slowly streamed request holds none.
 *
 * One thread per connection (at most MAX_CONN; keep-alive supported). It exits on SIGTERM
 * or SIGINT, and after --max-requests completion requests when given (requests already
 * queued are still answered). Never prints request headers (an API key may be there).
 */
#include "engine.h"
#include "evalset.h"
#include "slm_limits.h"
#include "structured.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 64
#define MAX_HEADER (64 * 1024)
#define MAX_BODY (8 * 1024 * 1024)
#define POLL_MS 100
#define MAX_PIECES 4096

enum fault_kind {
    F_NONE, F_DELAY, F_HANG, F_429, F_500, F_MALFORMED, F_DROP, F_SLOW_STREAM, F_DONE_OPEN,
    F_HUGE, F_ECHO_AUTH, F_HUGE_HEADER, F_HUGE_CHUNKED, F_ARRAYS, F_NESTED
};

static const struct {
    const char *name;
    enum fault_kind kind;
    int needs_arg; /* 1: required, 0: none, 2: optional */
} fault_names[] = {
    {"delay", F_DELAY, 1},   {"hang", F_HANG, 0},         {"429", F_429, 2},
    {"500", F_500, 0},       {"malformed", F_MALFORMED, 0}, {"drop", F_DROP, 0},
    {"slow-stream", F_SLOW_STREAM, 1}, {"done-open", F_DONE_OPEN, 0}, {"huge", F_HUGE, 1},
    {"echo-auth", F_ECHO_AUTH, 0},   {"huge-header", F_HUGE_HEADER, 1},
    {"huge-chunked", F_HUGE_CHUNKED, 1}, {"arrays", F_ARRAYS, 1}, {"nested", F_NESTED, 1},
};

/* The server's state; one per process. */
static struct {
    slm_plugin *plugin;
    slm_engine **engs;     /* [n_slots] one engine handle (context) per inference slot */
    int n_slots;
    int queue_max;         /* most requests waiting for a slot; one more is answered 503 */
    long slot_ms;          /* --slot-ms: an inference holds its slot at least this long */
    char tag[16];          /* this process's part of every x-request-id */
    int has_template;
    char model_id[256];
    char engine_version[160];
    int echo;              /* --echo: completions echo prompts with log-probabilities */
    enum fault_kind fault;
    long fault_arg;
    long fault_every;
    long max_requests; /* 0: no limit */
    char *api_key;     /* required key, or NULL */
    pthread_mutex_t lock;  /* the fields below */
    pthread_cond_t idle;
    pthread_cond_t slot_free; /* a slot was given back, or the queue's head moved */
    long n_requests;       /* completion requests received */
    long n_other;          /* other answers (models, slots, errors before a request) */
    int in_flight, max_in_flight; /* completion requests being answered, and the most */
    int n_conn;            /* live connection threads */
    unsigned char *slot_busy; /* [n_slots] */
    int busy, max_busy;    /* slots in use now, and the most at once */
    int queued, max_queued; /* requests waiting for a slot now, and the most at once */
    long ticket_next, ticket_head; /* FIFO: the next ticket given, the one served next */
    long served, rejected; /* inferences done; requests refused with the queue full */
    long abandoned;        /* queued requests whose client left before their turn */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER,
       .slot_free = PTHREAD_COND_INITIALIZER, .fault_every = 1, .n_slots = 1,
       .queue_max = MAX_CONN};

/* The x-request-id of the answer this thread is writing. Each connection thread answers
 * one request at a time, so a thread-local value reaches every header writer (there are
 * seven, some deep in the faults) without threading it through their arguments. */
static _Thread_local char t_req_id[64];

/* A request id unique to this server: PREFIX-TAG-N (TAG told this process from others, N
 * counted by the server), as the answer's JSON "id" and its x-request-id header. */
static void request_id(char *buf, size_t n, const char *prefix, long num)
{
    snprintf(buf, n, "%s-%s-%ld", prefix, S.tag, num);
}

/* Gives the answer this thread writes next an id of its own, for answers that are not
 * completions (their ids are "srv-TAG-N"). */
static void other_request_id(void)
{
    pthread_mutex_lock(&S.lock);
    long n = ++S.n_other;
    pthread_mutex_unlock(&S.lock);
    request_id(t_req_id, sizeof t_req_id, "srv", n);
}

/* Set by a signal, by the last of --max-requests, or at the end; read by every thread, so
 * atomic (a lock-free atomic may be written in a signal handler), not volatile. */
static atomic_int stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void sleep_ms(long ms)
{
    /* In slices, so a stopping server does not wait out a long delay. */
    while (ms > 0 && !stopping) {
        long step = ms < POLL_MS ? ms : POLL_MS;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* ---- connection I/O ------------------------------------------------------------------ */

typedef struct conn {
    int fd;
    char *buf; /* bytes read and not yet consumed */
    size_t len, cap;
} conn;

/* Writes all of data; -1 when the peer is gone. */
static int send_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more bytes into c->buf, waiting in POLL_MS slices. Returns the number read, 0 when
 * the peer closed, -1 on error or when the server stops. */
static ssize_t fill(conn *c)
{
    for (;;) {
        if (stopping)
            return -1;
        struct pollfd p = {c->fd, POLLIN, 0};
        int r = poll(&p, 1, POLL_MS);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        if (c->cap - c->len < 4096) {
            c->cap = c->cap ? c->cap * 2 : 16384;
            c->buf = slm_xrealloc(c->buf, c->cap);
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        return n;
    }
}

/* One parsed request. */
typedef struct http_req {
    char method[16];
    char path[256];
    int keep_alive;
    int auth_ok;
    char auth[1024]; /* the Authorization header, for the echo-auth fault only */
    char *body;
    size_t body_len;
} http_req;

/* Finds header name (case-insensitive) in the header block; copies its value into out. */
static int header(const char *hdrs, size_t n, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = hdrs, *end = hdrs + n;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            size_t vl = (size_t)(eol - v);
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            snprintf(out, outlen, "%.*s", (int)vl, v);
            return 1;
        }
        p = eol + 1;
    }
    return 0;
}

/* Reads one request. Returns 1 with *r filled, 0 when the peer closed, -1 on a bad
 * request or I/O error (the connection is then closed). */
static int read_request(conn *c, http_req *r)
{
    memset(r, 0, sizeof *r);
    char *eoh;
    while (!(c->buf && (eoh = strstr(c->buf, "\r\n\r\n")))) {
        if (c->len > MAX_HEADER)
            return -1;
        ssize_t n = fill(c);
        if (n <= 0)
            return n == 0 && c->len == 0 ? 0 : -1;
    }
    size_t hlen = (size_t)(eoh - c->buf) + 4;
    char version[16] = "";
    if (sscanf(c->buf, "%15s %255s %15s", r->method, r->path, version) != 3)
        return -1;
    char v[256];
    size_t body_len = 0;
    if (header(c->buf, hlen, "Content-Length", v, sizeof v))
        body_len = strtoul(v, NULL, 10);
    if (body_len > MAX_BODY)
        return -1;
    r->keep_alive = strcmp(version, "HTTP/1.0") != 0;
    if (header(c->buf, hlen, "Connection", v, sizeof v))
        r->keep_alive = strcasecmp(v, "close") != 0;
    r->auth_ok = 1;
    r->auth[0] = '\0';
    if (S.fault == F_ECHO_AUTH)
        header(c->buf, hlen, "Authorization", r->auth, sizeof r->auth);
    if (S.api_key) {
        char *want = slm_xasprintf("Bearer %s", S.api_key);
        char got[1024] = "";
        r->auth_ok = header(c->buf, hlen, "Authorization", got, sizeof got) && !strcmp(got, want);
        memset(got, 0, sizeof got);
        free(want);
    }
    while (c->len < hlen + body_len)
        if (fill(c) <= 0)
            return -1;
    r->body = slm_xstrndup(c->buf + hlen, body_len);
    r->body_len = body_len;
    memmove(c->buf, c->buf + hlen + body_len, c->len - hlen - body_len);
    c->len -= hlen + body_len;
    c->buf[c->len] = '\0';
    return 1;
}

static int send_response(int fd, int status, const char *reason, const char *extra_headers,
                         const char *body, size_t n, int keep_alive)
{
    char *h = slm_xasprintf("HTTP/1.1 %d %s\r\nServer: %s\r\nx-request-id: %s\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: %zu\r\nConnection: %s\r\n%s\r\n",
                            status, reason, S.engine_version, t_req_id, n,
                            keep_alive ? "keep-alive" : "close", extra_headers ? extra_headers : "");
    int rc = send_all(fd, h, strlen(h));
    free(h);
    return rc ? rc : send_all(fd, body, n);
}

static int send_error(int fd, int status, const char *reason, const char *msg, int keep_alive,
                      const char *extra)
{
    json_t *o = json_pack("{s:{s:s,s:s,s:i}}", "error", "message", msg, "type", reason, "code",
                          status);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    int rc = send_response(fd, status, reason, extra, s, strlen(s), keep_alive);
    free(s);
    return rc;
}

/* One SSE event as one HTTP chunk. */
static int send_chunk(int fd, const char *data, size_t n)
{
    char head[32];
    snprintf(head, sizeof head, "%zx\r\n", n);
    if (send_all(fd, head, strlen(head)) || send_all(fd, data, n) || send_all(fd, "\r\n", 2))
        return -1;
    return 0;
}

static int send_event(int fd, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    char *ev = slm_xasprintf("data: %s\n\n", s);
    int rc = send_chunk(fd, ev, strlen(ev));
    free(ev);
    free(s);
    return rc;
}

/* ---- inference slots ----------------------------------------------------------------- */

/* 1 when the client of fd has closed the connection (gave up on a queued request). */
static int peer_gone(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    char b;
    if (poll(&p, 1, 0) != 1)
        return 0;
    return (p.revents & (POLLHUP | POLLERR)) || recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * A request takes a free slot, or waits for one in first-come order: each takes a ticket
 * and is served when its ticket is the queue's head and a slot is free. A request that
 * would wait while queue_max others already wait is refused at once (-1; answered 503).
 * One whose client (fd) left while it waited gives its turn up (-2; as servers abort
 * requests on disconnect, so a timed-out client's request costs no inference). Returns the
 * slot's index; the caller gives it back with slot_give().
 */
static int slot_take(int fd)
{
    pthread_mutex_lock(&S.lock);
    int must_wait = S.busy >= S.n_slots || S.queued > 0;
    if (must_wait && S.queued >= S.queue_max) {
        S.rejected++;
        pthread_mutex_unlock(&S.lock);
        return -1;
    }
    long ticket = S.ticket_next++;
    if (must_wait && ++S.queued > S.max_queued)
        S.max_queued = S.queued;
    while (ticket != S.ticket_head || S.busy >= S.n_slots)
        pthread_cond_wait(&S.slot_free, &S.lock);
    if (must_wait)
        S.queued--;
    S.ticket_head++;
    if (must_wait && peer_gone(fd)) { /* a non-blocking look: fine under the lock */
        S.abandoned++;
        pthread_cond_broadcast(&S.slot_free); /* the turn passes to the next */
        pthread_mutex_unlock(&S.lock);
        return -2;
    }
    int slot = 0;
    while (S.slot_busy[slot])
        slot++;
    S.slot_busy[slot] = 1;
    if (++S.busy > S.max_busy)
        S.max_busy = S.busy;
    pthread_cond_broadcast(&S.slot_free); /* the next ticket may find a slot too */
    pthread_mutex_unlock(&S.lock);
    return slot;
}

/* Gives back slot, taken at taken_ns, once --slot-ms have passed since then. */
static void slot_give(int slot, uint64_t taken_ns)
{
    uint64_t held_ms = (slm_now_ns() - taken_ns) / 1000000u;
    if (S.slot_ms > 0 && held_ms < (uint64_t)S.slot_ms)
        sleep_ms(S.slot_ms - (long)held_ms);
    pthread_mutex_lock(&S.lock);
    S.slot_busy[slot] = 0;
    S.busy--;
    S.served++;
    pthread_cond_broadcast(&S.slot_free);
    pthread_mutex_unlock(&S.lock);
}

/* ---- inference ----------------------------------------------------------------------- */

typedef struct phase_clock {
    uint64_t begin[SLM_PHASE_COUNT], end[SLM_PHASE_COUNT];
} phase_clock;

static void clock_begin(void *ud, slm_phase ph)
{
    if (ph < SLM_PHASE_COUNT)
        ((phase_clock *)ud)->begin[ph] = slm_now_ns();
}

static void clock_end(void *ud, slm_phase ph, int n)
{
    (void)n;
    if (ph < SLM_PHASE_COUNT)
        ((phase_clock *)ud)->end[ph] = slm_now_ns();
}

static double clock_ms(const phase_clock *pc, slm_phase ph)
{
    return pc->end[ph] > pc->begin[ph] ? (double)(pc->end[ph] - pc->begin[ph]) / 1e6 : 0.0;
}

/* What one completion request asked for. */
typedef struct job {
    int chat;
    char *prompt;
    int max_tokens;
    char **stop;
    size_t n_stop;
    char *grammar;    /* "grammar", or response_format's json_schema made a grammar */
    int echo;         /* completions with echo (--echo): prompt log-probabilities */
    char **prompts;   /* with echo: every prompt of the list */
    size_t n_prompts;
    double temperature;
    uint32_t seed;
    int logprobs;     /* 0: none; else the number of top log-probs + 1 */
    int stream;
    int include_usage;
} job;

static void job_free(job *j)
{
    free(j->prompt);
    for (size_t i = 0; i < j->n_stop; i++)
        free(j->stop[i]);
    free(j->stop);
    free(j->grammar);
    for (size_t i = 0; i < j->n_prompts; i++)
        free(j->prompts[i]);
    free(j->prompts);
}

/* A JSON schema of the kind slmbench sends (an object of enum, string-or-null,
 * number-or-null and array properties, all required) as a grammar, through the harness's
 * own field grammar; NULL with msg for any other schema. */
static char *schema_to_grammar(json_t *schema, char *msg, size_t n)
{
    json_t *props = json_object_get(schema, "properties");
    if (!json_is_object(props) || !json_object_size(props)) {
        snprintf(msg, n, "response_format: this server takes object schemas with properties");
        return NULL;
    }
    size_t nf = json_object_size(props), k = 0;
    slm_field_def *f = slm_xcalloc(nf, sizeof *f);
    const char *key;
    json_t *v;
    json_object_foreach(props, key, v) {
        f[k].name = (char *)key;
        json_t *en = json_object_get(v, "enum"), *ty = json_object_get(v, "type");
        const char *t0 = json_is_string(ty) ? json_string_value(ty)
                                             : json_string_value(json_array_get(ty, 0));
        if (json_is_array(en)) {
            f[k].type = SLM_FIELD_ENUM;
            f[k].values = slm_xcalloc(json_array_size(en) + 1, sizeof *f[k].values);
            size_t i;
            json_t *it;
            json_array_foreach(en, i, it) if (json_is_string(it)) f[k].values[f[k].n_values++] =
                (char *)json_string_value(it);
        } else if (t0 && !strcmp(t0, "number")) {
            f[k].type = SLM_FIELD_NUMBER;
        } else if (t0 && !strcmp(t0, "array")) {
            f[k].type = SLM_FIELD_LIST;
        } else {
            f[k].type = SLM_FIELD_STRING;
        }
        k++;
    }
    char *g = slm_fields_grammar(f, nf);
    for (k = 0; k < nf; k++)
        free(f[k].values);
    free(f);
    return g;
}

/* Reads the request body into *j; -1 with msg on a bad request. */
static int parse_job(json_t *body, int chat, job *j, char *msg, size_t n)
{
    memset(j, 0, sizeof *j);
    j->chat = chat;
    if (!json_is_object(body))
        return slm_err(msg, n, "the body is not a json object");
    if (chat) {
        json_t *m = json_object_get(body, "messages"), *it;
        size_t i;
        if (!json_is_array(m) || !json_array_size(m))
            return slm_err(msg, n, "'messages' must be a non-empty array");
        slm_buf b = {0};
        json_array_foreach(m, i, it)
        {
            json_t *c = json_object_get(it, "content");
            if (!json_is_string(c)) {
                slm_buf_free(&b);
                return slm_err(msg, n, "message %zu has no string 'content'", i);
            }
            if (i)
                slm_buf_putc(&b, '\n');
            slm_buf_append(&b, json_string_value(c), json_string_length(c));
        }
        j->prompt = slm_buf_take(&b);
    } else {
        json_t *p = json_object_get(body, "prompt");
        if (json_is_true(json_object_get(body, "echo")) && !S.echo) /* as llama-server */
            return slm_err(msg, n, "'echo' is not supported (no prompt log-probabilities)");
        if (json_is_true(json_object_get(body, "echo"))) {
            /* every prompt of a list, each echoed with its log-probabilities */
            json_t *list = json_is_array(p) ? p : json_pack("[O]", p), *it;
            size_t i;
            j->echo = 1;
            j->prompts = slm_xcalloc(json_array_size(list) + 1, sizeof *j->prompts);
            json_array_foreach(list, i, it) if (json_is_string(it)) j->prompts[j->n_prompts++] =
                slm_xstrndup(json_string_value(it), json_string_length(it));
            int all = j->n_prompts == json_array_size(list) && j->n_prompts > 0;
            if (!json_is_array(p))
                json_decref(list);
            if (!all)
                return slm_err(msg, n, "'prompt' must be a string or a list of strings");
            p = json_array_get(json_object_get(body, "prompt"), 0);
            if (!p)
                p = json_object_get(body, "prompt");
        }
        if (json_is_array(p) && json_array_size(p) == 1)
            p = json_array_get(p, 0);
        if (!json_is_string(p))
            return slm_err(msg, n, "'prompt' must be a string");
        j->prompt = slm_xstrndup(json_string_value(p), json_string_length(p));
    }
    json_t *mt = json_object_get(body, "max_completion_tokens");
    if (!mt)
        mt = json_object_get(body, "max_tokens");
    j->max_tokens = json_is_integer(mt) ? (int)json_integer_value(mt) : 16;
    if (j->max_tokens <= 0)
        return slm_err(msg, n, "'max_tokens' must be at least 1");
    json_t *st = json_object_get(body, "stop");
    if (json_is_string(st)) {
        j->stop = slm_xcalloc(1, sizeof *j->stop);
        j->stop[j->n_stop++] = slm_xstrdup(json_string_value(st));
    } else if (json_is_array(st)) {
        size_t i;
        json_t *it;
        j->stop = slm_xcalloc(json_array_size(st) + 1, sizeof *j->stop);
        json_array_foreach(st, i, it) if (json_is_string(it)) j->stop[j->n_stop++] =
            slm_xstrdup(json_string_value(it));
    }
    json_t *g = json_object_get(body, "grammar");
    j->grammar = json_is_string(g) ? slm_xstrdup(json_string_value(g)) : NULL;
    json_t *rf = json_object_get(body, "response_format");
    json_t *schema = json_object_get(json_object_get(rf, "json_schema"), "schema");
    if (schema && j->grammar) { /* as llama-server */
        snprintf(msg, n, "Either \"json_schema\" or \"grammar\" can be specified, but not both");
        return -1;
    }
    if (schema && !(j->grammar = schema_to_grammar(schema, msg, n)))
        return -1;
    json_t *t = json_object_get(body, "temperature");
    j->temperature = json_is_number(t) ? json_number_value(t) : 0.0;
    json_t *sd = json_object_get(body, "seed");
    j->seed = json_is_integer(sd) ? (uint32_t)json_integer_value(sd) : 0;
    json_t *lp = json_object_get(body, "logprobs"), *tl = json_object_get(body, "top_logprobs");
    if (chat)
        j->logprobs = json_is_true(lp) ? 1 + (json_is_integer(tl) ? 1 : 0) : 0;
    else
        j->logprobs = json_is_integer(lp) ? 1 + (json_integer_value(lp) > 0) : json_is_true(lp);
    j->stream = json_is_true(json_object_get(body, "stream"));
    json_t *so = json_object_get(body, "stream_options");
    j->include_usage = json_is_true(json_object_get(so, "include_usage"));
    return 0;
}

/* The answer of one job, and the pieces its text is cut into (one per token). */
typedef struct answer {
    slm_gen_result *res;
    phase_clock clock;
    size_t n_pieces;
    size_t cut[MAX_PIECES + 1]; /* piece i is text[cut[i] .. cut[i+1]) */
} answer;

/* Runs job j, the request of connection fd, in a slot into *a. Returns 0, -1 with msg
 * when the engine failed; nothing run: 1 when the queue was full, 2 when the client left. */
static int run_job(const job *j, int fd, answer *a, char *msg, size_t n)
{
    memset(a, 0, sizeof *a);
    int slot = slot_take(fd);
    if (slot < 0)
        return slot == -1 ? 1 : 2;
    slm_probe probe = {&a->clock, clock_begin, clock_end};
    slm_request req = {sizeof req, "request", j->prompt, strlen(j->prompt),
                       j->chat && S.has_template, &probe};
    slm_gen_params gp = {sizeof gp, j->max_tokens, (const char *const *)j->stop, j->n_stop,
                         j->grammar, NULL, j->temperature, j->seed};
    uint64_t t0 = slm_now_ns();
    int rc = S.plugin->vt->generate(S.engs[slot], &req, &gp, &a->res, msg, n);
    slot_give(slot, t0);
    if (rc)
        return -1;
    size_t len = a->res->text_len, np = (size_t)a->res->n_output_tokens;
    if (np > MAX_PIECES)
        np = MAX_PIECES;
    a->n_pieces = np;
    for (size_t i = 0; i <= np; i++) {
        size_t at = np ? len * i / np : len;
        while (at < len && at > 0 && ((unsigned char)a->res->text[at] & 0xc0) == 0x80)
            at++; /* never inside a UTF-8 character */
        a->cut[i] = at;
    }
    return 0;
}

static json_t *piece_str(const answer *a, size_t i)
{
    return json_stringn(a->res->text + a->cut[i], a->cut[i + 1] - a->cut[i]);
}

static double piece_lp(const answer *a, size_t i)
{
    return a->res->token_logprobs ? a->res->token_logprobs[i] : 0.0;
}

/* Log-probabilities of pieces [i0, i1) in the format of the endpoint. */
static json_t *logprobs_json(const job *j, const answer *a, size_t i0, size_t i1)
{
    if (j->chat) {
        json_t *content = json_array();
        for (size_t i = i0; i < i1; i++) {
            json_t *top = json_array();
            if (j->logprobs > 1)
                json_array_append_new(top, json_pack("{s:o,s:f}", "token", piece_str(a, i),
                                                     "logprob", piece_lp(a, i)));
            json_array_append_new(content,
                                  json_pack("{s:o,s:f,s:n,s:o}", "token", piece_str(a, i),
                                            "logprob", piece_lp(a, i), "bytes", "top_logprobs",
                                            top));
        }
        return json_pack("{s:o}", "content", content);
    }
    json_t *toks = json_array(), *lps = json_array(), *tops = json_array(), *offs = json_array();
    for (size_t i = i0; i < i1; i++) {
        json_array_append_new(toks, piece_str(a, i));
        json_array_append_new(lps, json_real(piece_lp(a, i)));
        json_t *t = json_object();
        char *k = slm_xstrndup(a->res->text + a->cut[i], a->cut[i + 1] - a->cut[i]);
        json_object_set_new(t, k, json_real(piece_lp(a, i)));
        free(k);
        json_array_append_new(tops, t);
        json_array_append_new(offs, json_integer((json_int_t)a->cut[i]));
    }
    return json_pack("{s:o,s:o,s:o,s:o}", "tokens", toks, "token_logprobs", lps, "top_logprobs",
                     tops, "text_offset", offs);
}

static json_t *usage_json(const answer *a)
{
    return json_pack("{s:i,s:i,s:i}", "prompt_tokens", a->res->n_prompt_tokens,
                     "completion_tokens", a->res->n_output_tokens, "total_tokens",
                     a->res->n_prompt_tokens + a->res->n_output_tokens);
}

static json_t *timings_json(const answer *a)
{
    double pm = clock_ms(&a->clock, SLM_PHASE_PREFILL), dm = clock_ms(&a->clock, SLM_PHASE_DECODE);
    int pn = a->res->n_prompt_tokens, dn = a->res->n_output_tokens;
    return json_pack("{s:i,s:f,s:f,s:i,s:f,s:f}", "prompt_n", pn, "prompt_ms", pm,
                     "prompt_per_second", pm > 0 ? pn * 1000.0 / pm : 0.0, "predicted_n", dn,
                     "predicted_ms", dm, "predicted_per_second", dm > 0 ? dn * 1000.0 / dm : 0.0);
}

static const char *finish_str(const answer *a)
{
    return a->res->finish == SLM_FINISH_LENGTH ? "length" : "stop";
}

/* The whole (non-streamed) answer. */
static json_t *answer_json(const job *j, const answer *a, long id)
{
    json_t *choice = json_pack("{s:i,s:s}", "index", 0, "finish_reason", finish_str(a));
    json_t *text = json_stringn(a->res->text, a->res->text_len);
    if (j->chat)
        json_object_set_new(choice, "message",
                            json_pack("{s:s,s:o}", "role", "assistant", "content", text));
    else
        json_object_set_new(choice, "text", text);
    json_object_set_new(choice, "logprobs",
                        j->logprobs ? logprobs_json(j, a, 0, a->n_pieces) : json_null());
    char idbuf[64];
    request_id(idbuf, sizeof idbuf, j->chat ? "chatcmpl" : "cmpl", id);
    return json_pack("{s:s,s:s,s:I,s:s,s:[o],s:o,s:o}", "id", idbuf, "object",
                     j->chat ? "chat.completion" : "text_completion", "created",
                     (json_int_t)time(NULL), "model", S.model_id, "choices", choice, "usage",
                     usage_json(a), "timings", timings_json(a));
}

static json_t *chunk_json(const job *j, long id, json_t *choice)
{
    char idbuf[64];
    request_id(idbuf, sizeof idbuf, j->chat ? "chatcmpl" : "cmpl", id);
    return json_pack("{s:s,s:s,s:I,s:s,s:[o]}", "id", idbuf, "object",
                     j->chat ? "chat.completion.chunk" : "text_completion", "created",
                     (json_int_t)time(NULL), "model", S.model_id, "choices", choice);
}

/* Streams the answer as SSE. Returns -1 when the connection must be closed. */
static int stream_answer(int fd, const job *j, const answer *a, long id, enum fault_kind f,
                         long farg)
{
    const char *h = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n";
    char *hdr = slm_xasprintf("%sServer: %s\r\nx-request-id: %s\r\n\r\n", h, S.engine_version,
                              t_req_id);
    int rc = send_all(fd, hdr, strlen(hdr));
    free(hdr);
    if (rc)
        return -1;
    if (j->chat) { /* as OpenAI: a first chunk with the role and no content */
        json_t *c = chunk_json(j, id, json_pack("{s:i,s:{s:s,s:s},s:n}", "index", 0, "delta",
                                                "role", "assistant", "content", "",
                                                "finish_reason"));
        rc = send_event(fd, c);
        json_decref(c);
        if (rc)
            return -1;
    }
    if (f == F_MALFORMED) {
        const char *bad = "data: {\"choices\": [{\"delta\": {\"content\": \"bro\n\n";
        send_chunk(fd, bad, strlen(bad));
        return -1;
    }
    for (size_t i = 0; i < a->n_pieces; i++) {
        if (f == F_SLOW_STREAM)
            sleep_ms(farg);
        json_t *choice = json_pack("{s:i,s:n}", "index", 0, "finish_reason");
        if (j->chat)
            json_object_set_new(choice, "delta", json_pack("{s:o}", "content", piece_str(a, i)));
        else
            json_object_set_new(choice, "text", piece_str(a, i));
        if (j->logprobs)
            json_object_set_new(choice, "logprobs", logprobs_json(j, a, i, i + 1));
        json_t *c = chunk_json(j, id, choice);
        rc = send_event(fd, c);
        json_decref(c);
        if (rc)
            return -1;
        if (f == F_DROP)
            return -1; /* mid-stream: the client saw content but no end */
    }
    if (f == F_SLOW_STREAM)
        sleep_ms(farg);
    json_t *choice = json_pack("{s:i,s:s}", "index", 0, "finish_reason", finish_str(a));
    json_object_set_new(choice, j->chat ? "delta" : "text",
                        j->chat ? json_object() : json_string(""));
    json_t *c = chunk_json(j, id, choice);
    json_object_set_new(c, "usage", usage_json(a));
    json_object_set_new(c, "timings", timings_json(a));
    rc = send_event(fd, c);
    json_decref(c);
    const char *done = "data: [DONE]\n\n";
    if (rc || send_chunk(fd, done, strlen(done)))
        return -1;
    if (f == F_DONE_OPEN)
        return 1; /* the caller leaves the connection open, the body unfinished */
    return send_all(fd, "0\r\n\r\n", 5) ? -1 : 0;
}

#define HUGE_PIECE (64 * 1024)

/* The huge fault streamed: content chunks of HUGE_PIECE bytes until mib MiB were sent
 * (mib 0: until the client leaves), then the end as usual. -1: the connection is gone. */
static int huge_stream(int fd, const job *j, long id, long mib)
{
    char *hdr = slm_xasprintf("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                              "Transfer-Encoding: chunked\r\nServer: %s\r\n"
                              "x-request-id: %s\r\n\r\n",
                              S.engine_version, t_req_id);
    int rc = send_all(fd, hdr, strlen(hdr));
    free(hdr);
    char *piece = slm_xmalloc(HUGE_PIECE + 1);
    memset(piece, 'x', HUGE_PIECE);
    piece[HUGE_PIECE] = '\0';
    json_t *choice = json_pack("{s:i,s:n}", "index", 0, "finish_reason");
    if (j->chat)
        json_object_set_new(choice, "delta", json_pack("{s:s}", "content", piece));
    else
        json_object_set_new(choice, "text", json_string(piece));
    json_t *c = chunk_json(j, id, choice);
    for (long sent = 0; !rc && !stopping && (mib == 0 || sent < mib * 16); sent++)
        rc = send_event(fd, c);
    json_decref(c);
    free(piece);
    const char *end = j->chat ? "data: {\"choices\":[{\"index\":0,\"delta\":{},"
                                "\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n"
                              : "data: {\"choices\":[{\"index\":0,\"text\":\"\","
                                "\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n";
    if (rc || send_chunk(fd, end, strlen(end)) || send_all(fd, "0\r\n\r\n", 5))
        return -1;
    return 0;
}

/* The huge fault not streamed: one answer whose text is mib MiB of 'x'. */
static int huge_body(int fd, const job *j, long mib, int keep_alive)
{
    const char *pre = j->chat ? "{\"choices\":[{\"index\":0,\"finish_reason\":\"length\","
                                "\"message\":{\"role\":\"assistant\",\"content\":\""
                              : "{\"choices\":[{\"index\":0,\"finish_reason\":\"length\","
                                "\"text\":\"";
    const char *post = j->chat ? "\"}}]}" : "\"}]}";
    size_t n = (size_t)mib << 20;
    char *hdr = slm_xasprintf("HTTP/1.1 200 OK\r\nServer: %s\r\nx-request-id: %s\r\n"
                              "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                              "Connection: %s\r\n\r\n",
                              S.engine_version, t_req_id, strlen(pre) + n + strlen(post),
                              keep_alive ? "keep-alive" : "close");
    int rc = send_all(fd, hdr, strlen(hdr)) || send_all(fd, pre, strlen(pre));
    free(hdr);
    char *piece = slm_xmalloc(HUGE_PIECE);
    memset(piece, 'x', HUGE_PIECE);
    for (size_t sent = 0; !rc && sent < n; sent += HUGE_PIECE)
        rc = send_all(fd, piece, n - sent < HUGE_PIECE ? n - sent : HUGE_PIECE);
    free(piece);
    return rc || send_all(fd, post, strlen(post)) ? -1 : 0;
}

/* The huge-header fault: a status line, then header lines of 1000 bytes until mib MiB were
 * sent (0: until the client leaves); a complete answer would follow, but no client should
 * wait for it. -1: the connection is gone. */
static int huge_header(int fd, long mib)
{
    char line[1000];
    memset(line, 'x', sizeof line);
    memcpy(line, "X-Pad: ", 7);
    memcpy(line + sizeof line - 2, "\r\n", 2);
    char *status = slm_xasprintf("HTTP/1.1 200 OK\r\nx-request-id: %s\r\n", t_req_id);
    int rc = send_all(fd, status, strlen(status));
    free(status);
    for (long sent = 0; !rc && !stopping && (mib == 0 || sent < mib << 20); sent += sizeof line)
        rc = send_all(fd, line, sizeof line);
    return rc || send_all(fd, "Content-Length: 2\r\n\r\n{}", 24) ? -1 : 0;
}

/* A non-streamed 200 answer: pre, then pat repeated for n bytes, then post. chunked: sent
 * with Transfer-Encoding: chunked, and n 0 means a body that never ends (until the client
 * leaves); otherwise with its Content-Length. -1: the connection is gone. */
static int pattern_body(int fd, const char *pre, const char *pat, size_t n, const char *post,
                        int chunked, int keep_alive)
{
    size_t plen = strlen(pat), len = strlen(pre) + n + strlen(post);
    char *hdr = chunked ? slm_xasprintf("HTTP/1.1 200 OK\r\nServer: %s\r\nx-request-id: %s\r\n"
                                        "Content-Type: application/json\r\n"
                                        "Transfer-Encoding: chunked\r\n"
                                        "Connection: %s\r\n\r\n", S.engine_version, t_req_id,
                                        keep_alive ? "keep-alive" : "close")
                        : slm_xasprintf("HTTP/1.1 200 OK\r\nServer: %s\r\nx-request-id: %s\r\n"
                                        "Content-Type: application/json\r\n"
                                        "Content-Length: %zu\r\n"
                                        "Connection: %s\r\n\r\n", S.engine_version, t_req_id, len,
                                        keep_alive ? "keep-alive" : "close");
    int rc = send_all(fd, hdr, strlen(hdr));
    free(hdr);
    char *piece = slm_xmalloc(HUGE_PIECE);
    for (size_t i = 0; i < HUGE_PIECE; i++)
        piece[i] = pat[i % plen];
    size_t step = HUGE_PIECE - HUGE_PIECE % plen;
    rc = rc || (chunked ? send_chunk(fd, pre, strlen(pre)) : send_all(fd, pre, strlen(pre)));
    for (size_t sent = 0; !rc && !stopping && (n == 0 || sent < n); sent += step) {
        size_t k = n && n - sent < step ? n - sent : step;
        rc = chunked ? send_chunk(fd, piece, k) : send_all(fd, piece, k);
    }
    free(piece);
    if (rc || (chunked ? send_chunk(fd, post, strlen(post)) || send_all(fd, "0\r\n\r\n", 5)
                       : send_all(fd, post, strlen(post))))
        return -1;
    return 0;
}

/* The faults that answer with a body built of a pattern (huge-chunked, arrays, nested). */
static int pattern_fault(int fd, const job *j, enum fault_kind f, long mib, int keep_alive)
{
    static const char chat_pre[] = "{\"choices\":[{\"index\":0,\"finish_reason\":\"length\","
                                   "\"message\":{\"role\":\"assistant\",\"content\":\"";
    static const char text_pre[] = "{\"choices\":[{\"index\":0,\"finish_reason\":\"length\","
                                   "\"text\":\"";
    const char *post = j->chat ? "\"}}]}" : "\"}]}";
    size_t n = (size_t)mib << 20;
    if (f == F_HUGE_CHUNKED)
        return pattern_body(fd, j->chat ? chat_pre : text_pre, "x", n, post, 1, keep_alive);
    if (f == F_NESTED)
        return pattern_body(fd, "{\"junk\":", "[", n, "", 0, keep_alive);
    /* {"junk":[[],[],...,[]],"choices":[{... "ok"}]}: the answer "ok" after the arrays */
    n = (size_t)mib << 10; /* arrays:KIB */
    char *tail = slm_xasprintf("[]],%sok%s", (j->chat ? chat_pre : text_pre) + 1, post);
    int rc = pattern_body(fd, "{\"junk\":[", "[],", n - n % 3, tail, 0, keep_alive);
    free(tail);
    return rc;
}

/* Waits until the peer closes the connection or the server stops (the hang fault). */
static void wait_for_close(conn *c)
{
    while (!stopping) {
        ssize_t n = fill(c);
        if (n <= 0)
            return;
        c->len = 0; /* whatever the client sends is ignored */
    }
}

/* Counts a completion request; returns the fault to apply to it. */
static enum fault_kind count_request(long *id)
{
    pthread_mutex_lock(&S.lock);
    *id = ++S.n_requests;
    if (S.max_requests > 0 && S.n_requests >= S.max_requests)
        stopping = 1; /* this one is still answered */
    pthread_mutex_unlock(&S.lock);
    return S.fault != F_NONE && *id % S.fault_every == 0 ? S.fault : F_NONE;
}

/* Code points in the first n bytes of UTF-8 s (OpenAI's text_offset counts characters). */
static long code_points(const char *s, size_t n)
{
    long k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/*
 * An echo answer (--echo, as vLLM gives): each prompt comes back with the log-probability
 * of each of its pieces given the text before it — real model probabilities, computed by
 * the plugin's score(text before, [piece]). The pieces are words with their leading
 * whitespace, not the model's tokens (the plugin does not expose its tokenizer); a piece
 * is therefore one or more tokens, its log-probability their sum. The first piece has
 * none (null, as OpenAI). Nothing is generated after the prompt. The caller holds the
 * slot whose engine eng is.
 */
static json_t *echo_json(const job *j, long id, slm_engine *eng, char *msg, size_t n)
{
    json_t *choices = json_array();
    long n_pieces = 0;
    for (size_t k = 0; k < j->n_prompts; k++) {
        const char *t = j->prompts[k];
        size_t len = strlen(t);
        json_t *toks = json_array(), *lps = json_array(), *offs = json_array(), *tops = json_array();
        size_t at = 0;
        while (at < len) {
            size_t end = at;
            while (end < len && (t[end] == ' ' || t[end] == '\n' || t[end] == '\t'))
                end++;
            while (end < len && !(t[end] == ' ' || t[end] == '\n' || t[end] == '\t'))
                end++;
            json_t *piece = json_stringn(t + at, end - at);
            json_t *lp = json_null();
            if (at > 0) {
                char *before = slm_xstrndup(t, at), *pc = slm_xstrndup(t + at, end - at);
                slm_request req = {sizeof req, "echo", before, at, 0, NULL};
                const char *ch[1] = {pc};
                slm_score_result *r = NULL;
                int rc = S.plugin->vt->score(eng, &req, ch, 1, &r, msg, n);
                if (!rc && r)
                    lp = json_real(r->logprob[0]);
                S.plugin->vt->result_free(r);
                free(before);
                free(pc);
                if (rc) {
                    json_decref(piece);
                    json_decref(toks), json_decref(lps), json_decref(offs), json_decref(tops);
                    json_decref(choices);
                    return NULL;
                }
            }
            json_array_append(toks, piece);
            json_array_append_new(tops, at ? json_pack("{s:O}", json_string_value(piece), lp)
                                           : json_null());
            json_array_append_new(lps, lp);
            json_array_append_new(offs, json_integer(code_points(t, at)));
            json_decref(piece);
            n_pieces++;
            at = end;
        }
        json_array_append_new(
            choices, json_pack("{s:i,s:s,s:s,s:{s:o,s:o,s:o,s:o}}", "index", (int)k, "text", t,
                               "finish_reason", "length", "logprobs", "tokens", toks,
                               "token_logprobs", lps, "text_offset", offs, "top_logprobs", tops));
    }
    char idbuf[64];
    request_id(idbuf, sizeof idbuf, "cmpl", id);
    return json_pack("{s:s,s:s,s:I,s:s,s:o,s:{s:I,s:i,s:I}}", "id", idbuf, "object",
                     "text_completion", "created", (json_int_t)time(NULL), "model", S.model_id,
                     "choices", choices, "usage", "prompt_tokens", (json_int_t)n_pieces,
                     "completion_tokens", 0, "total_tokens", (json_int_t)n_pieces);
}

/* The answer to a request that found every slot busy and the queue full: 503 with
 * Retry-After, as a server that sheds load says "come back later". */
static int send_busy(int fd, int ka)
{
    char m[160];
    snprintf(m, sizeof m, "all %d slots busy and the queue of %d full", S.n_slots,
             S.queue_max);
    return send_error(fd, 503, "Service Unavailable", m, ka, "Retry-After: 1\r\n") ? -1 : 0;
}

/* Answers an echo request (--echo) in a slot. Returns -1 when the connection must be
 * closed. */
static int answer_echo(int fd, const job *j, long id, int ka)
{
    char msg[SLM_ERRLEN] = "";
    int slot = slot_take(fd);
    if (slot < 0)
        return slot == -1 ? send_busy(fd, ka) : -1;
    uint64_t t0 = slm_now_ns();
    json_t *o = echo_json(j, id, S.engs[slot], msg, sizeof msg);
    slot_give(slot, t0);
    if (!o)
        return send_error(fd, 500, "Internal Server Error", msg, ka, NULL) ? -1 : 0;
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    int rc = send_response(fd, 200, "OK", NULL, txt, strlen(txt), ka);
    free(txt);
    return rc;
}

/* Handles one completion request. Returns -1 when the connection must be closed. */
static int handle_completion(conn *c, const http_req *r, int chat)
{
    long id;
    enum fault_kind f = count_request(&id);
    long farg = S.fault_arg;
    int ka = r->keep_alive;
    request_id(t_req_id, sizeof t_req_id, chat ? "chatcmpl" : "cmpl", id);
    if (!r->auth_ok)
        return send_error(c->fd, 401, "Unauthorized", "invalid api key", ka, NULL) ? -1 : 0;
    switch (f) {
    case F_DELAY:
        sleep_ms(farg);
        break;
    case F_HANG:
        wait_for_close(c);
        return -1;
    case F_429: {
        char extra[64];
        snprintf(extra, sizeof extra, "Retry-After: %ld\r\n", farg);
        return send_error(c->fd, 429, "Too Many Requests", "injected fault: rate limited", ka,
                          extra) ? -1 : 0;
    }
    case F_500:
        return send_error(c->fd, 500, "Internal Server Error", "injected fault: server error",
                          ka, NULL) ? -1 : 0;
    case F_ECHO_AUTH: {
        char m[2200]; /* the key bare (as OpenAI's message), then the whole header */
        const char *k = strncasecmp(r->auth, "Bearer ", 7) ? r->auth : r->auth + 7;
        snprintf(m, sizeof m, "Incorrect API key provided: %s. Authorization: %s", k, r->auth);
        return send_error(c->fd, 401, "Unauthorized", m, ka, NULL) ? -1 : 0;
    }
    default:
        break;
    }
    char msg[SLM_ERRLEN] = "";
    json_error_t je;
    json_t *body = json_loadb(r->body, r->body_len, 0, &je);
    job j;
    if (!body) {
        snprintf(msg, sizeof msg, "invalid json in the request: %s", je.text);
        return send_error(c->fd, 400, "Bad Request", msg, ka, NULL) ? -1 : 0;
    }
    int rc = parse_job(body, chat, &j, msg, sizeof msg);
    json_decref(body);
    if (rc) {
        job_free(&j);
        return send_error(c->fd, 400, "Bad Request", msg, ka, NULL) ? -1 : 0;
    }
    if (f == F_HUGE) {
        rc = j.stream ? huge_stream(c->fd, &j, id, farg) : huge_body(c->fd, &j, farg, ka);
        job_free(&j);
        return rc;
    }
    if (f == F_HUGE_HEADER || f == F_HUGE_CHUNKED || f == F_ARRAYS || f == F_NESTED) {
        rc = f == F_HUGE_HEADER ? huge_header(c->fd, farg) : pattern_fault(c->fd, &j, f, farg, ka);
        job_free(&j);
        return rc ? -1 : 0;
    }
    if (j.echo) {
        rc = answer_echo(c->fd, &j, id, ka);
        job_free(&j);
        return rc;
    }
    answer *a = slm_xmalloc(sizeof *a);
    if ((rc = run_job(&j, c->fd, a, msg, sizeof msg)) != 0) {
        job_free(&j);
        free(a);
        if (rc == 2)
            return -1; /* the client left: nobody to answer */
        if (rc == 1)
            return send_busy(c->fd, ka);
        return send_error(c->fd, 500, "Internal Server Error", msg, ka, NULL) ? -1 : 0;
    }
    if (j.stream) {
        rc = stream_answer(c->fd, &j, a, id, f, farg);
        if (rc == 1) { /* done-open */
            wait_for_close(c);
            rc = -1;
        }
    } else if (f == F_MALFORMED) {
        const char *bad = "{\"id\": \"cmpl-x\", \"choices\": [{\"text\": \"bro";
        rc = send_response(c->fd, 200, "OK", NULL, bad, strlen(bad), ka);
    } else {
        json_t *o = answer_json(&j, a, id);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        size_t n = strlen(s);
        if (f == F_DROP) { /* the headers promise n bytes; half of them come */
            char *hd = slm_xasprintf("HTTP/1.1 200 OK\r\nServer: %s\r\nx-request-id: %s\r\n"
                                     "Content-Type: application/json\r\n"
                                     "Content-Length: %zu\r\n\r\n",
                                     S.engine_version, t_req_id, n);
            send_all(c->fd, hd, strlen(hd));
            send_all(c->fd, s, n / 2);
            free(hd);
            rc = -1;
        } else {
            rc = send_response(c->fd, 200, "OK", NULL, s, n, ka);
        }
        free(s);
    }
    S.plugin->vt->result_free(a->res);
    free(a);
    job_free(&j);
    return rc || f == F_MALFORMED ? -1 : 0;
}

/* Sends JSON object o (taken) as a 200 answer. */
static int send_json(int fd, json_t *o, int ka)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    int rc = send_response(fd, 200, "OK", NULL, s, strlen(s), ka);
    free(s);
    return rc;
}

/* GET /slots: the state of the inference slots and their queue. */
static int send_slots(int fd, int ka)
{
    pthread_mutex_lock(&S.lock);
    json_t *o = json_pack("{s:i,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:I}", "slots", S.n_slots, "busy",
                          S.busy, "queued", S.queued, "max_busy", S.max_busy, "max_queued",
                          S.max_queued, "served", (json_int_t)S.served, "rejected",
                          (json_int_t)S.rejected, "abandoned", (json_int_t)S.abandoned,
                          "queue_max", (json_int_t)S.queue_max);
    pthread_mutex_unlock(&S.lock);
    return send_json(fd, o, ka);
}

static int handle(conn *c, const http_req *r)
{
    int ka = r->keep_alive;
    char *q = strchr(r->path, '?');
    if (q)
        *q = '\0';
    int chat = !strcmp(r->path, "/v1/chat/completions") || !strcmp(r->path, "/chat/completions");
    int comp = !strcmp(r->path, "/v1/completions") || !strcmp(r->path, "/completions");
    if (!chat && !comp)
        other_request_id(); /* completions are given theirs as they are counted */
    if (!strcmp(r->path, "/slots"))
        return send_slots(c->fd, ka) ? -1 : 0;
    if (!strcmp(r->path, "/health")) /* as llama-server: loaded and listening */
        return send_json(c->fd, json_pack("{s:s}", "status", "ok"), ka) ? -1 : 0;
    if (!strcmp(r->path, "/v1/models") || !strcmp(r->path, "/models")) {
        if (strcmp(r->method, "GET"))
            return send_error(c->fd, 405, "Method Not Allowed", "use GET", ka, NULL) ? -1 : 0;
        json_t *o = json_pack("{s:s,s:[{s:s,s:s,s:s}]}", "object", "list", "data", "id",
                              S.model_id, "object", "model", "owned_by", "slmbench");
        return send_json(c->fd, o, ka);
    }
    if (!strcmp(r->path, "/stats")) { /* the tests' view: how many came, how many at once */
        pthread_mutex_lock(&S.lock);
        json_t *o = json_pack("{s:I,s:i}", "requests", (json_int_t)S.n_requests,
                              "max_in_flight", S.max_in_flight);
        pthread_mutex_unlock(&S.lock);
        return send_json(c->fd, o, ka);
    }
    if (!chat && !comp)
        return send_error(c->fd, 404, "Not Found", "no such endpoint", ka, NULL) ? -1 : 0;
    if (strcmp(r->method, "POST"))
        return send_error(c->fd, 405, "Method Not Allowed", "use POST", ka, NULL) ? -1 : 0;
    pthread_mutex_lock(&S.lock);
    if (++S.in_flight > S.max_in_flight)
        S.max_in_flight = S.in_flight;
    pthread_mutex_unlock(&S.lock);
    int rc = handle_completion(c, r, chat);
    pthread_mutex_lock(&S.lock);
    S.in_flight--;
    pthread_mutex_unlock(&S.lock);
    return rc;
}

static void *conn_main(void *arg)
{
    conn c = {.fd = (int)(intptr_t)arg};
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        http_req r;
        int got = read_request(&c, &r);
        if (got <= 0) {
            if (got < 0 && !stopping && c.fd >= 0) {
                other_request_id();
                send_error(c.fd, 400, "Bad Request", "malformed http request", 0, NULL);
            }
            free(r.body);
            break;
        }
        int rc = handle(&c, &r);
        free(r.body);
        if (rc || !r.keep_alive)
            break;
    }
    close(c.fd);
    free(c.buf);
    pthread_mutex_lock(&S.lock);
    S.n_conn--;
    pthread_cond_signal(&S.idle);
    pthread_mutex_unlock(&S.lock);
    return NULL;
}

/* ---- set-up -------------------------------------------------------------------------- */

static int parse_fault(const char *spec, char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    for (size_t i = 0; i < sizeof fault_names / sizeof *fault_names; i++) {
        if (strlen(fault_names[i].name) != nl || strncmp(spec, fault_names[i].name, nl))
            continue;
        S.fault = fault_names[i].kind;
        S.fault_arg = S.fault == F_429 ? 1 : 0;
        if (fault_names[i].needs_arg == 1 && !colon)
            return slm_err(err, errlen, "fault '%s' needs an argument (%s:MS)", spec,
                           fault_names[i].name);
        if (!fault_names[i].needs_arg && colon)
            return slm_err(err, errlen, "fault '%s' takes no argument", fault_names[i].name);
        if (colon && (slm_parse_long(colon + 1, &S.fault_arg) || S.fault_arg < 0))
            return slm_err(err, errlen, "fault '%s': bad argument '%s'", fault_names[i].name,
                           colon + 1);
        return 0;
    }
    return slm_err(err, errlen,
                   "unknown fault '%s' (delay:MS, hang, 429[:S], 500, malformed, drop, "
                   "slow-stream:MS, done-open, huge:MIB, echo-auth, huge-header:MIB, "
                   "huge-chunked:MIB, arrays:KIB, nested:MIB)",
                   spec);
}

static int usage(void)
{
    fprintf(stderr, "usage: slm_test_server --engine LLAMACPP.so --model MODEL.gguf [--port N] "
                    "[--name ID] [--threads N] [--slots N] [--queue N] [--slot-ms MS] "
                    "[--fault KIND[:ARG]] [--fault-every N] [--max-requests N] "
                    "[--require-key-env NAME] [--echo]\n");
    return 2;
}

/* The command line's settings that are not kept in S. */
typedef struct args {
    const char *engine, *model, *name, *threads;
    long port;
} args;

/* Reads the command line into *a and S. Returns 0, or the exit code (2: usage). */
static int parse_args(int argc, char **argv, args *a)
{
    char err[SLM_ERRLEN];
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--echo")) { /* the one option without a value */
            S.echo = 1;
            continue;
        }
        if (!v)
            return usage();
        i++;
        long n = 0;
        int num = !slm_parse_long(v, &n);
        if (!strcmp(o, "--engine"))
            a->engine = v;
        else if (!strcmp(o, "--model"))
            a->model = v;
        else if (!strcmp(o, "--name"))
            a->name = v;
        else if (!strcmp(o, "--threads"))
            a->threads = v;
        else if (!strcmp(o, "--port") && num && n >= 0 && n < 65536)
            a->port = n;
        else if (!strcmp(o, "--slots") && num && n >= 1 && n <= SLM_TEST_SERVER_MAX_SLOTS)
            S.n_slots = (int)n;
        else if (!strcmp(o, "--queue") && num && n >= 0 && n <= MAX_CONN)
            S.queue_max = (int)n;
        else if (!strcmp(o, "--slot-ms") && num && n >= 0 && n <= 3600000)
            S.slot_ms = n;
        else if (!strcmp(o, "--fault")) {
            if (parse_fault(v, err, sizeof err)) {
                fprintf(stderr, "slm_test_server: %s\n", err);
                return 2;
            }
        } else if (!strcmp(o, "--fault-every") && num && n >= 1)
            S.fault_every = n;
        else if (!strcmp(o, "--max-requests") && num && n >= 1)
            S.max_requests = n;
        else if (!strcmp(o, "--require-key-env")) {
            const char *k = getenv(v);
            if (!k || !*k) {
                fprintf(stderr, "slm_test_server: environment variable '%s' is not set\n", v);
                return 2;
            }
            free(S.api_key);
            S.api_key = slm_xstrdup(k);
        } else {
            if (!strcmp(o, "--slots") || !strcmp(o, "--queue"))
                fprintf(stderr, "slm_test_server: %s '%s': out of range [%d, %d]\n", o, v,
                        !strcmp(o, "--slots"), !strcmp(o, "--slots") ?
                        SLM_TEST_SERVER_MAX_SLOTS : MAX_CONN);
            return usage();
        }
    }
    return a->engine && a->model ? 0 : usage();
}

/* Closes the slots' engines and the plugin (NULL-safe, any number of slots opened). */
static void close_slots(void)
{
    for (int i = 0; S.engs && i < S.n_slots; i++)
        if (S.engs[i])
            S.plugin->vt->close(S.engs[i]);
    free(S.engs);
    free(S.slot_busy);
    S.engs = NULL;
    S.slot_busy = NULL;
    if (S.plugin)
        slm_plugin_unload(S.plugin);
    S.plugin = NULL;
}

/* Loads the plugin and opens one engine per slot, each with its own context and threads;
 * fills the model facts of S. Returns 0, or 4 with the reason on stderr. */
static int open_slots(const args *a)
{
    char err[SLM_ERRLEN];
    S.plugin = slm_plugin_open(a->engine);
    if (!S.plugin->enabled) {
        fprintf(stderr, "slm_test_server: engine '%s': %s\n", a->engine, S.plugin->reason);
        close_slots();
        return 4;
    }
    if (!S.plugin->vt->generate) {
        fprintf(stderr, "slm_test_server: engine '%s' cannot generate\n", a->engine);
        close_slots();
        return 4;
    }
    S.engs = slm_xcalloc((size_t)S.n_slots, sizeof *S.engs);
    S.slot_busy = slm_xcalloc((size_t)S.n_slots, 1);
    slm_option o[] = {{"model", a->model}, {"threads", a->threads}};
    slm_options opts = {o, 2};
    for (int i = 0; i < S.n_slots; i++) {
        if (S.plugin->vt->open(&opts, &S.engs[i], err, sizeof err)) {
            fprintf(stderr, "slm_test_server: slot %d: %s\n", i + 1, err);
            close_slots();
            return 4;
        }
    }
    slm_model_info mi;
    memset(&mi, 0, sizeof mi);
    mi.struct_size = sizeof mi;
    S.plugin->vt->info(S.engs[0], &mi, err, sizeof err);
    S.has_template = (mi.caps & SLM_CAP_CHAT_TEMPLATE) != 0;
    const char *base = strrchr(a->model, '/');
    snprintf(S.model_id, sizeof S.model_id, "%s",
             a->name ? a->name : base ? base + 1 : a->model);
    snprintf(S.engine_version, sizeof S.engine_version, "slm_test_server/0.1 (%s)",
             mi.engine_version[0] ? mi.engine_version : "llama.cpp");
    /* ids told apart from another server's (or an earlier run's) by time and pid */
    snprintf(S.tag, sizeof S.tag, "%06lx",
             (unsigned long)((slm_now_ns() / 1000u) ^ ((uint64_t)getpid() << 20)) & 0xffffffu);
    return 0;
}

/* Accepts connections until stopping, one thread each (at most MAX_CONN), then waits for
 * the connection threads to end. */
static void serve(int ls)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (!stopping) {
        struct pollfd p = {ls, POLLIN, 0};
        if (poll(&p, 1, POLL_MS) <= 0)
            continue;
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&S.lock);
        /* at most MAX_CONN connections: the next waits for one to end (bounded by stopping) */
        while (S.n_conn >= MAX_CONN && !stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += POLL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L)
                ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&S.idle, &S.lock, &ts);
        }
        S.n_conn++;
        pthread_mutex_unlock(&S.lock);
        pthread_t t;
        if (pthread_create(&t, &attr, conn_main, (void *)(intptr_t)fd)) {
            close(fd);
            pthread_mutex_lock(&S.lock);
            S.n_conn--;
            pthread_mutex_unlock(&S.lock);
        }
    }
    pthread_attr_destroy(&attr);
    /* Connection threads notice `stopping` within POLL_MS; the ones answering finish
     * first (queued requests are still served). Wait for all of them before freeing. */
    stopping = 1;
    pthread_mutex_lock(&S.lock);
    while (S.n_conn > 0)
        pthread_cond_wait(&S.idle, &S.lock);
    pthread_mutex_unlock(&S.lock);
}

int main(int argc, char **argv)
{
    args a = {.threads = "1"};
    int rc = parse_args(argc, argv, &a);
    if (rc || (rc = open_slots(&a)) != 0) {
        free(S.api_key);
        return rc;
    }
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never anything but 127.0.0.1 */
    socklen_t sl = sizeof sa;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 128) ||
        getsockname(ls, (struct sockaddr *)&sa, &sl)) {
        fprintf(stderr, "slm_test_server: cannot listen on 127.0.0.1:%ld: %s\n", a.port,
                strerror(errno));
        if (ls >= 0)
            close(ls);
        close_slots();
        free(S.api_key);
        return 4;
    }
    struct sigaction sact = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sact, NULL);
    sigaction(SIGINT, &sact, NULL);
    signal(SIGPIPE, SIG_IGN);
    printf("port %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    serve(ls);
    close(ls);
    close_slots();
    free(S.api_key);
    return 0;
}
