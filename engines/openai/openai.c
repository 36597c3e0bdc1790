/*
 * openai.c — the openai engine: generation by any OpenAI-compatible HTTP server
 * (llama-server, vLLM, Ollama, LM Studio, TGI, SGLang), through libcurl.
 *
 * Options of open():
 *   base_url     the API root, e.g. http://127.0.0.1:8080/v1 (required)
 *   model        the model name sent (the candidate's `model:` key)
 *   model_name   the model name sent, as is (wins over model)
 *   endpoint     chat (POST <base_url>/chat/completions, the default) or completions
 *                (POST <base_url>/completions, the rendered prompt sent raw)
 *   api_key_env  NAME of an environment variable holding the API key, read at open and
 *                sent as "Authorization: Bearer <key>"; the key itself is never written
 *                into an error message, a log line or anything open() is given back;
 *                a server that quotes it back is redacted (see below)
 *   timeout_ms   limit of one HTTP request, connection included (default 30000)
 *   retries      further attempts after a failed one (default 3)
 *   max_response_bytes  the most bytes of one answer's body, streamed or not (default
 *                8 MiB, 1024 to 1 GiB): a larger answer fails its request at once, not
 *                retried ("response too large"), and memory stays bounded by it — an
 *                endless stream included; the text kept is never larger than the body
 *   stream       1: ask for Server-Sent Events and measure TTFT (default 0)
 *   logprobs     1: ask for per-token log-probabilities (default 1)
 *   rate         most requests per second this handle sends, every attempt of every
 *                request in flight counted together (token bucket, burst 1; default 0 =
 *                no limit)
 *   constrain    how a constrained request (grammar and/or json_schema) is sent: auto
 *                (the default: the schema as OpenAI's response_format, which vLLM,
 *                llama-server, Ollama and SGLang accept; the grammar only when no schema
 *                is given), json_schema (never a grammar) or grammar (llama-server's GBNF
 *                "grammar" field, never a schema)
 *
 * The model is a name, not a file (no SLM_CAP_MODEL_FILE): the harness passes the
 * candidate's `model:` as written.
 *
 * Capabilities: GENERATE | SERVER_TIMINGS | TOKEN_LOGPROBS | CONSTRAIN | CONCURRENT |
 * SCHEDULE, plus CHAT_TEMPLATE with the chat endpoint (the server applies the model's
 * template). No SCORE: the chat API gives no log-probabilities of given continuations, so
 * score mode is refused by the harness.
 *
 * generate() and generate_many() run every request through one loop over a libcurl multi
 * handle (see run_many): up to `concurrency` transfers at once, each on its own easy
 * handle of a pool kept by the handle, a new attempt started only when the rate limit
 * allows, a failed attempt waiting its backoff without holding up the others. Each
 * request's answer is parsed for the choice's text, per-token log-probabilities
 * (completions: logprobs.token_logprobs; chat: logprobs.content[].logprob), "usage", and
 * the server's own timings into slm_gen_result.timings: llama-server's "timings"
 * {prompt_ms, predicted_ms} or Ollama's "prompt_eval_duration", "eval_duration",
 * "total_duration" (ns). Streaming marks the probe's phases: PREFILL from the start of
 * the request to the first chunk with content (TTFT), DECODE from there to the end.
 * Without streaming the phases are not marked (nothing is known between send and answer).
 * A stream is complete at `data: [DONE]`: nothing after it is read, and a server that
 * leaves the connection open after it has the transfer ended DONE_GRACE_MS (200 ms) later
 * (at the next progress call, within a second), the answer counted complete.
 *
 * Retries, with exponential backoff (200 ms doubling, capped at 10 s, jittered to
 * 50-100%): HTTP 429 (waiting Retry-After instead when the server sends it, capped at
 * 60 s), 408 and 5xx, timeouts, refused and dropped connections, and streams that end
 * before their last chunk. Not retried: other 4xx answers, and a malformed body, which
 * fails the call at once ("malformed json from the server at byte 12: ...").
 *
 * Open loop (ABI 1.6, SLM_CAP_SCHEDULE): with many->send_at_ns, request i is started no
 * earlier than send_at_ns[i] and as soon after as the loop can — never more than
 * `concurrency` in flight, a request due while they are waits for a free slot, and `rate`
 * still applies. The loop waits on its transfers with curl_multi_poll (whole milliseconds)
 * until 1 to 2 ms before the next due time, then with pselect() on libcurl's sockets and
 * a nanosecond timeout (clock_nanosleep where curl has no socket to wait on), so a due time
 * is met within the kernel's timer slack (about 0.05 ms) without spinning, while answers
 * in flight are still read as they come. With many->traced, each request's slm_req_trace:
 * sent_ns is the time its first attempt's handle was added to the multi handle plus that
 * attempt's CURLINFO_CONNECT_TIME_T (libcurl's time from the transfer's start to its
 * connection being ready — name look-up and connect; 0 on a kept-alive connection —
 * after which the same curl_multi_perform() writes the request): "the first byte
 * written" as slm_engine.h asks, on our clock (libcurl's own start is not readable on
 * CLOCK_MONOTONIC), never later than the server's receipt. CURLINFO_PRETRANSFER_TIME_T
 * was tried first: libcurl 7.88 stamps it after the request has gone (a local server had
 * read it a few microseconds before), so it is not "before the first byte".
 * first_token_ns and the inter-token gaps are the SSE content events as they are parsed
 * (the last attempt's, the first SLM_OPENAI_MAX_TRACE_GAPS); server_id is the
 * x-request-id header, else the answer's "id" (the first chunk's when streamed), cut to
 * SLM_OPENAI_MAX_REQUEST_ID_BYTES - 1 bytes and redacted. Nothing of this is measured or
 * allocated without traced.
 *
 * Ctrl-C: the harness's stop flag (set_stop, ABI 1.4; many->stop for generate_many) is
 * read at least every 100 ms; once set, the transfers in flight are abandoned, no retry
 * starts, and generate()/score() fail with "interrupted".
 *
 * Secrets: every error message the engine gives (a server's own message included) has
 * the configured key (also its start, where a message was cut inside it) and whatever
 * else looks like a secret by slm_redact.h's rules (Bearer tokens, sk- keys, api_key=...,
 * a URL's password) replaced with "[redacted]": a server may echo the key it was sent.
 *
 * Threads: a handle is used by one thread at a time (slm_engine.h); different handles may
 * be used from different threads at once — nothing is shared but libcurl's global set-up,
 * done once through pthread_once. The multi handle keeps its connections alive between
 * calls (keep-alive), one per request in flight.
 */
#include "slm_engine.h"
#include "slm_plugin.h"
#include "plugin_json.h"
#include "slm_redact.h"
#include "../../harness/common/slm_limits.h" /* every size limit, in one place */

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <time.h>

#define ENGINE_VERSION "0.1.0"
#define ENGINE_CAPS                                                                            \
    (SLM_CAP_GENERATE | SLM_CAP_SERVER_TIMINGS | SLM_CAP_TOKEN_LOGPROBS | SLM_CAP_CONSTRAIN |   \
     SLM_CAP_CONCURRENT | SLM_CAP_SCHEDULE)
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_RETRIES 3
#define DEFAULT_MAX_TOKENS 32
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 10000
#define RETRY_AFTER_CAP_S 60
#define DONE_GRACE_MS 200    /* a stream's body may end this long after its [DONE] */
#define MSG_KEEP 200         /* bytes of a server's error message quoted in ours */
#define PRECISE_WAIT_NS 2000000ull /* the last stretch before a due time: waited in ns */

/* How constrained decoding is asked for (option constrain). */
enum { CONSTRAIN_AUTO, CONSTRAIN_SCHEMA, CONSTRAIN_GRAMMAR };

struct slm_engine {
    char *base_url;
    char *url;              /* base_url + the endpoint's path */
    char *model;            /* the name sent */
    int chat;               /* endpoint chat (1) or completions (0) */
    int stream, logprobs, retries;
    long timeout_ms;
    long max_resp;          /* max_response_bytes: the most bytes of one answer's body */
    double rate;            /* requests per second; 0: no limit */
    uint64_t next_slot_ns;  /* token bucket (burst 1): earliest time of the next request */
    uint64_t rng;           /* jitter of the backoff */
    int constrain;          /* CONSTRAIN_*: how a constrained request is sent */
    int score_echo;         /* option score: echo */
    CURLM *multi;           /* drives every transfer; keeps the connections alive */
    struct xfer *pool;      /* [n_pool] easy handles, one per request in flight */
    size_t n_pool;
    struct curl_slist *headers; /* the Authorization line, if any, is wiped at close */
    char *key;              /* the API key (for redact()), wiped at close; NULL if none */
    const volatile sig_atomic_t *stop; /* the harness's Ctrl-C flag (set_stop), or NULL */
    char server[64];        /* the Server header of the last answer, "" if none */
};

/* Monotonic clock in nanoseconds. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- library-wide set-up ----------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* libcurl's global set-up, once per process whatever the number of handles or threads.
 * It is never undone: slmbench itself links libcurl, and other users may rely on it. */
static int engine_init(char *err, size_t errlen)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return slm_plugin_err(err, errlen, "openai: libcurl set-up failed: %s",
                              curl_easy_strerror(curl_init_rc));
    return 0;
}

/* ---- small helpers ------------------------------------------------------------------- */

/* xorshift64*: jitter only, never security. */
static double rand01(slm_engine *e)
{
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    return (double)((e->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static const char *opt(const slm_options *o, const char *key)
{
    for (size_t i = 0; o && i < o->n; i++)
        if (o->items[i].key && o->items[i].value && !strcmp(o->items[i].key, key))
            return o->items[i].value;
    return NULL;
}

static int opt_long(const slm_options *o, const char *key, long lo, long hi, long *out,
                    char *err, size_t errlen)
{
    const char *v = opt(o, key);
    long n;
    if (!v)
        return 0;
    if (slm_plugin_parse_long(v, &n) || n < lo || n > hi)
        return slm_plugin_err(err, errlen,
                              "openai: option '%s' must be an integer in [%ld, %ld], not '%s'", key,
                              lo, hi, v);
    *out = n;
    return 0;
}

/* ---- secrets -------------------------------------------------------------------------- */

/* What looks like a secret is defined once, in slm_redact.h (shared with the core, which
 * redacts again wherever slmbench stores, prints or renders text): the configured key
 * (or its start, where a message was cut inside it), Bearer tokens, sk- keys, the value
 * of a name such as api_key, a URL's password. */

/* Replaces in s (cap bytes) every secret with "[redacted]"; a message that no longer fits
 * is cut. Every error message the engine gives goes through here: a server may quote the
 * key it was sent in its own error message. */
static void redact(const slm_engine *e, char *s, size_t cap)
{
    char *out = cap ? malloc(cap) : NULL;
    if (!out) { /* no memory to rewrite it: say nothing rather than maybe the key */
        if (cap)
            snprintf(s, cap, "openai: (an error message withheld: out of memory)");
        return;
    }
    const char *key = e ? e->key : NULL;
    size_t o = slm_redact_into(out, cap, s, &key, key ? 1 : 0);
    memcpy(s, out, o + 1);
    free(out);
}

/* ---- one HTTP attempt ---------------------------------------------------------------- */

/* The probe's state over all attempts of one generate(): each phase at most once. */
typedef struct phases {
    const slm_probe *probe;
    int prefill_begun, prefill_ended, decode_begun;
    uint64_t t0, t_first;
} phases;

static void ph_begin(phases *p, slm_phase ph)
{
    if (p->probe && p->probe->phase_begin)
        p->probe->phase_begin(p->probe->ud, ph);
}

static void ph_end(phases *p, slm_phase ph, int n)
{
    if (p->probe && p->probe->phase_end)
        p->probe->phase_end(p->probe->ud, ph, n);
}

/* What one attempt received. */
typedef struct attempt {
    slm_engine *e;
    phases *ph;
    int stream;
    int raw;                 /* keep the answer's body as it is (score's echo requests) */
    int trace;               /* traced (1.6): time the content events, keep the request id */
    long status;             /* HTTP status of the last status line */
    long retry_after_s;      /* -1: none */
    slm_plugin_buf body;     /* non-streamed: the body; streamed: the unparsed rest */
    size_t consumed;         /* streamed: bytes of the body parsed before body[0] */
    int sse_ok;              /* streamed with status 200: the body is parsed as SSE */
    slm_plugin_buf errbody;  /* streamed with another status: the body, for the message */
    char fail[SLM_PLUGIN_ERRLEN]; /* set when the answer cannot be used (malformed, too big) */
    char srvmsg[MSG_KEEP + 8]; /* ": <the server's error message>" of a non-200 answer */
    int done;                /* [DONE] seen */
    uint64_t done_ns;        /* when */
    /* what was parsed */
    slm_plugin_buf text;
    double *lps;
    size_t n_lps, cap_lps;
    int n_content;           /* chunks with content (streamed) */
    int finish;              /* -1 unknown, else slm_finish */
    long prompt_tokens, completion_tokens;
    double prompt_ms, predicted_ms, total_ms;
    /* traced only */
    double *gaps;            /* [n_gaps] ms between consecutive content events */
    int n_gaps, cap_gaps;
    uint64_t last_tok_ns;    /* the last content event, 0 none yet */
    int id_from_header;      /* reqid is x-request-id's: the body's "id" does not replace it */
    char reqid[SLM_OPENAI_MAX_REQUEST_ID_BYTES];
} attempt;

static void attempt_reset(attempt *a)
{
    slm_plugin_buf_free(&a->body);
    slm_plugin_buf_free(&a->errbody);
    slm_plugin_buf_free(&a->text);
    free(a->lps);
    free(a->gaps);
    slm_engine *e = a->e;
    phases *ph = a->ph;
    int stream = a->stream, raw = a->raw, trace = a->trace;
    memset(a, 0, sizeof *a);
    a->e = e;
    a->ph = ph;
    a->stream = stream;
    a->raw = raw;
    a->trace = trace;
    a->retry_after_s = -1;
    a->finish = -1;
    a->prompt_tokens = a->completion_tokens = -1;
    a->prompt_ms = a->predicted_ms = a->total_ms = -1;
}

/* Marks the attempt unusable because memory ran out; returns -1. */
static int attempt_oom(attempt *a)
{
    snprintf(a->fail, sizeof a->fail, "%s", SLM_PLUGIN_OOM_MSG);
    return -1;
}

static int push_lp(attempt *a, double lp)
{
    if (a->n_lps == a->cap_lps) {
        size_t cap = a->cap_lps ? a->cap_lps * 2 : 16;
        double *l = slm_plugin_realloc(a->lps, cap * sizeof *a->lps);
        if (!l)
            return attempt_oom(a);
        a->lps = l;
        a->cap_lps = cap;
    }
    a->lps[a->n_lps++] = lp;
    return 0;
}

/* A traced answer's content event: the gap since the previous one (the first
 * SLM_OPENAI_MAX_TRACE_GAPS kept). */
static int note_token(attempt *a)
{
    uint64_t t = now_ns();
    if (a->last_tok_ns && a->n_gaps < SLM_OPENAI_MAX_TRACE_GAPS) {
        if (a->n_gaps == a->cap_gaps) {
            int cap = a->cap_gaps ? a->cap_gaps * 2 : 32;
            double *g = slm_plugin_realloc(a->gaps, (size_t)cap * sizeof *g);
            if (!g)
                return attempt_oom(a);
            a->gaps = g;
            a->cap_gaps = cap;
        }
        a->gaps[a->n_gaps++] = (double)(t - a->last_tok_ns) / 1e6;
    }
    a->last_tok_ns = t;
    return 0;
}

/* Keeps s (n bytes) as the request id, cut to fit, control characters as '?'. */
static void keep_reqid(attempt *a, const char *s, size_t n)
{
    if (n >= sizeof a->reqid)
        n = sizeof a->reqid - 1;
    for (size_t k = 0; k < n; k++)
        a->reqid[k] = (unsigned char)s[k] < 0x20 || s[k] == 0x7f ? '?' : s[k];
    a->reqid[n] = '\0';
}

static double num(json_t *v, double dflt)
{
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* Takes what an answer (or one streamed chunk) says: text, log-probs, finish, usage,
 * timings. Unknown fields are ignored; absent ones leave the attempt as it was. -1 (with
 * a->fail) when memory ran out. */
static int absorb(attempt *a, json_t *o)
{
    json_t *choice = json_array_get(json_object_get(o, "choices"), 0);
    if (choice) {
        json_t *t;
        if (a->e->chat)
            t = json_object_get(json_object_get(choice, a->stream ? "delta" : "message"),
                                "content");
        else
            t = json_object_get(choice, "text");
        if (json_is_string(t) && json_string_length(t)) {
            if (a->stream && !a->ph->prefill_ended) { /* the first token has arrived */
                a->ph->prefill_ended = 1;
                a->ph->t_first = now_ns();
                ph_end(a->ph, SLM_PHASE_PREFILL, 0);
                a->ph->decode_begun = 1;
                ph_begin(a->ph, SLM_PHASE_DECODE);
            }
            if (slm_plugin_buf_append(&a->text, json_string_value(t), json_string_length(t)))
                return attempt_oom(a);
            a->n_content++;
            if (a->trace && a->stream && note_token(a))
                return -1;
        }
        json_t *lp = json_object_get(choice, "logprobs"), *v;
        size_t i;
        if (a->e->chat) {
            json_array_foreach(json_object_get(lp, "content"), i, v)
                if (push_lp(a, num(json_object_get(v, "logprob"), 0.0)))
                    return -1;
        } else {
            json_array_foreach(json_object_get(lp, "token_logprobs"), i, v)
                if (push_lp(a, num(v, 0.0)))
                    return -1;
        }
        json_t *fr = json_object_get(choice, "finish_reason");
        if (json_is_string(fr))
            a->finish = !strcmp(json_string_value(fr), "length") ? SLM_FINISH_LENGTH
                                                                 : SLM_FINISH_STOP;
    }
    json_t *id = json_object_get(o, "id");
    if (a->trace && !a->id_from_header && !a->reqid[0] && json_is_string(id))
        keep_reqid(a, json_string_value(id), json_string_length(id));
    json_t *u = json_object_get(o, "usage");
    if (json_is_object(u)) {
        a->prompt_tokens = (long)num(json_object_get(u, "prompt_tokens"), (double)a->prompt_tokens);
        a->completion_tokens =
            (long)num(json_object_get(u, "completion_tokens"), (double)a->completion_tokens);
    }
    json_t *tm = json_object_get(o, "timings"); /* llama-server */
    if (json_is_object(tm)) {
        a->prompt_ms = num(json_object_get(tm, "prompt_ms"), a->prompt_ms);
        a->predicted_ms = num(json_object_get(tm, "predicted_ms"), a->predicted_ms);
        if (a->prompt_tokens < 0)
            a->prompt_tokens = (long)num(json_object_get(tm, "prompt_n"), -1);
        if (a->completion_tokens < 0)
            a->completion_tokens = (long)num(json_object_get(tm, "predicted_n"), -1);
    }
    /* Ollama: durations in nanoseconds, counts beside them */
    json_t *pd = json_object_get(o, "prompt_eval_duration"), *ed = json_object_get(o, "eval_duration");
    json_t *td = json_object_get(o, "total_duration");
    if (json_is_number(pd))
        a->prompt_ms = json_number_value(pd) / 1e6;
    if (json_is_number(ed))
        a->predicted_ms = json_number_value(ed) / 1e6;
    if (json_is_number(td))
        a->total_ms = json_number_value(td) / 1e6;
    if (a->prompt_tokens < 0)
        a->prompt_tokens = (long)num(json_object_get(o, "prompt_eval_count"), -1);
    if (a->completion_tokens < 0)
        a->completion_tokens = (long)num(json_object_get(o, "eval_count"), -1);
    return 0;
}

/* Parses the complete lines of a streamed body; the incomplete rest stays in a->body. */
static int sse_lines(attempt *a)
{
    size_t at = 0;
    for (;;) {
        char *nl = memchr(a->body.data + at, '\n', a->body.len - at);
        if (!nl)
            break;
        size_t start = at, n = (size_t)(nl - (a->body.data + at));
        at += n + 1;
        const char *l = a->body.data + start;
        if (n && l[n - 1] == '\r')
            n--;
        if (n < 5 || strncmp(l, "data:", 5)) /* blank, comment, event:, id:, retry: */
            continue;
        size_t off = 5;
        while (off < n && l[off] == ' ')
            off++;
        if (n - off == 6 && !strncmp(l + off, "[DONE]", 6)) {
            a->done = 1; /* the answer is complete: whatever follows is ignored */
            a->done_ns = now_ns();
            at = a->body.len;
            break;
        }
        json_error_t je;
        json_t *o = plugin_json_load(l + off, n - off, &je);
        if (plugin_json_oom())
            return attempt_oom(a);
        if (!o) {
            snprintf(a->fail, sizeof a->fail, "malformed json from the server at byte %zu: %s",
                     a->consumed + start + off + (size_t)je.position, je.text);
            return -1;
        }
        json_t *er = json_object_get(o, "error");
        if (er) {
            json_t *m = json_object_get(er, "message");
            snprintf(a->fail, sizeof a->fail, "the server reported an error in the stream: %.*s",
                     MSG_KEEP, json_is_string(m) ? json_string_value(m) : "(no message)");
            json_decref(o);
            return -1;
        }
        int rc = absorb(a, o);
        json_decref(o);
        if (rc)
            return -1;
    }
    a->consumed += at;
    memmove(a->body.data, a->body.data + at, a->body.len - at);
    a->body.len -= at;
    a->body.data[a->body.len] = '\0';
    return 0;
}

/* Marks the attempt failed for an answer over max_response_bytes; 0 stops the transfer. */
static size_t too_large(attempt *a)
{
    snprintf(a->fail, sizeof a->fail,
             "response too large: more than %ld bytes (max_response_bytes %ld)", a->e->max_resp,
             a->e->max_resp);
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    attempt *a = ud;
    size_t n = size * nmemb;
    if (a->stream && a->status == 200) {
        if (a->done)
            return n; /* after [DONE]: ignored */
        if (slm_plugin_buf_append(&a->body, data, n)) {
            attempt_oom(a);
            return 0; /* stops the transfer */
        }
        if (a->consumed + a->body.len > (size_t)a->e->max_resp)
            return too_large(a);
        a->sse_ok = 1;
        return sse_lines(a) ? 0 : n; /* 0 stops the transfer: the answer is unusable */
    }
    slm_plugin_buf *b = a->stream ? &a->errbody : &a->body;
    if (b->len + n > (size_t)a->e->max_resp)
        return too_large(a);
    if (slm_plugin_buf_append(b, data, n)) {
        attempt_oom(a);
        return 0;
    }
    return n;
}

/* libcurl's progress callback (at least once a second, more often while data flows):
 * nonzero ends the transfer. A stream whose body has not ended DONE_GRACE_MS after its
 * [DONE] (a server leaving the connection open) is ended there; attempt_finish() counts
 * it answered. The grace lets a well-behaved server end the body, so the connection is
 * kept alive for the next request. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const attempt *a = ud;
    return a && a->done && now_ns() - a->done_ns > DONE_GRACE_MS * 1000000ull;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    attempt *a = ud;
    size_t n = size * nmemb;
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), data);
    slm_plugin_trim(line);
    int code;
    if (!strncmp(line, "HTTP/", 5) && sscanf(line, "%*s %d", &code) == 1) {
        a->status = code; /* a new status line: forget the headers of an earlier one */
        a->retry_after_s = -1;
        a->id_from_header = 0;
        a->reqid[0] = '\0';
    } else if (a->trace && !strncasecmp(line, "x-request-id:", 13)) {
        const char *v = slm_plugin_trim(line + 13);
        if (*v) {
            keep_reqid(a, v, strlen(v));
            a->id_from_header = 1;
        }
    } else if (!strncasecmp(line, "Server:", 7)) {
        /* truncated to the field, as a long Server header may be */
        snprintf(a->e->server, sizeof a->e->server, "%.*s", (int)sizeof a->e->server - 1,
                 slm_plugin_trim(line + 7));
    } else if (!strncasecmp(line, "Retry-After:", 12)) {
        long s;
        if (!slm_plugin_parse_long(slm_plugin_trim(line + 12), &s) && s >= 0)
            a->retry_after_s = s; /* an HTTP date is not understood: normal backoff */
    }
    return n;
}

/* How an attempt ended. */
enum outcome { OK, RETRY, FAIL };

/* The error message a server gave with a non-200 answer, or "". */
static void server_message(const slm_plugin_buf *b, char *out, size_t n)
{
    out[0] = '\0';
    if (!b->len)
        return;
    json_t *o = plugin_json_load(b->data, b->len, NULL); /* out of memory: no message */
    json_t *er = json_object_get(o, "error"), *m = json_object_get(er, "message");
    if (json_is_string(m))
        snprintf(out, n, ": %.*s", MSG_KEEP, json_string_value(m));
    else if (json_is_string(er))
        snprintf(out, n, ": %.*s", MSG_KEEP, json_string_value(er));
    json_decref(o);
}

/* Judges an attempt libcurl finished with rc. why gets a short description of a failure,
 * and kind a code equal for failures of the same sort (to say "... 4 times"). */
static enum outcome attempt_finish(slm_engine *e, attempt *a, CURLcode rc, CURL *c, char *why,
                                   size_t whylen, long *kind)
{
    *kind = 0;
    if (a->fail[0] && (rc == CURLE_WRITE_ERROR || rc == CURLE_OK)) {
        snprintf(why, whylen, "%s", a->fail);
        return FAIL;
    }
    if (a->stream && a->done)
        rc = CURLE_OK; /* complete at [DONE], whatever became of the connection after it */
    switch (rc) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT:
        *kind = 1000 + rc;
        snprintf(why, whylen, "no complete answer within timeout_ms %ld", e->timeout_ms);
        return RETRY;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        *kind = 1000 + rc;
        snprintf(why, whylen, "cannot connect to '%s': %s", e->base_url, curl_easy_strerror(rc));
        return RETRY;
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        *kind = 2000; /* all the same: the connection was lost */
        snprintf(why, whylen, "the server dropped the connection (%s)", curl_easy_strerror(rc));
        return RETRY;
    default:
        snprintf(why, whylen, "request to '%s' failed: %s", e->url, curl_easy_strerror(rc));
        return FAIL;
    }
    long status = 0;
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status)
        a->status = status;
    char msg[MSG_KEEP + 8];
    if (a->status != 200) {
        server_message(a->stream ? &a->errbody : &a->body, a->srvmsg, sizeof a->srvmsg);
        *kind = a->status;
        snprintf(why, whylen, "server answered HTTP %ld", a->status);
        return a->status == 429 || a->status == 408 || a->status >= 500 ? RETRY : FAIL;
    }
    if (a->stream) {
        if (!a->sse_ok && a->errbody.len == 0 && a->body.len == 0) {
            *kind = 2000;
            snprintf(why, whylen, "the server dropped the connection (an empty stream)");
            return RETRY;
        }
        if (a->body.len && sse_lines(a)) { /* a last line without its newline */
            snprintf(why, whylen, "%s", a->fail);
            return FAIL;
        }
        if (!a->done && a->finish < 0) {
            *kind = 2000;
            snprintf(why, whylen, "the server dropped the connection (the stream ended before "
                                  "its last chunk)");
            return RETRY;
        }
        return OK;
    }
    json_error_t je;
    json_t *o = plugin_json_load(a->body.data ? a->body.data : "", a->body.len, &je);
    if (plugin_json_oom()) {
        snprintf(why, whylen, "%s", SLM_PLUGIN_OOM_MSG);
        return FAIL;
    }
    if (!o) {
        snprintf(why, whylen, "malformed json from the server at byte %d: %s", je.position,
                 je.text);
        return FAIL;
    }
    if (!json_is_array(json_object_get(o, "choices")) ||
        !json_array_size(json_object_get(o, "choices"))) {
        server_message(&a->body, msg, sizeof msg);
        snprintf(why, whylen, "the server's answer has no choices%s", msg);
        json_decref(o);
        return FAIL;
    }
    int bad = a->raw ? 0 : absorb(a, o);
    json_decref(o);
    if (bad) {
        snprintf(why, whylen, "%s", a->fail);
        return FAIL;
    }
    return OK;
}

/* ---- the request --------------------------------------------------------------------- */

/* The body of a generate request, or NULL when memory ran out. Fields whose text is not
 * valid utf-8 (a prompt, a stop string, a grammar) are left out and the server judges
 * what is left, as they always were. Long: one step per field of the OpenAI request. */
static char *request_json(const slm_engine *e, const slm_request *req, const slm_gen_params *p,
                          int stream)
{
    /* Constrained decoding: a JSON schema goes as OpenAI's response_format, which vLLM,
     * llama-server, Ollama and SGLang all accept; a GBNF grammar (llama-server's own
     * extension) is sent only when no schema is given, or with constrain: grammar. */
    json_t *schema = p && p->json_schema && e->constrain != CONSTRAIN_GRAMMAR
                         ? plugin_json_load(p->json_schema, strlen(p->json_schema), NULL)
                         : NULL;
    if (!schema && plugin_json_oom())
        return NULL;
    plugin_json_clear();
    json_t *o = json_object();
    if (e->model && e->model[0])
        json_object_set_new(o, "model", json_string(e->model));
    json_t *prompt = json_stringn(req->prompt ? req->prompt : "", req->prompt ? req->prompt_len : 0);
    if (e->chat)
        json_object_set_new(o, "messages",
                            prompt ? json_pack("[{s:s,s:o}]", "role", "user", "content", prompt)
                                   : NULL);
    else
        json_object_set_new(o, "prompt", prompt);
    int max_tokens = p && p->max_tokens > 0 ? p->max_tokens : DEFAULT_MAX_TOKENS;
    json_object_set_new(o, "max_tokens", json_integer(max_tokens));
    double temp = p ? p->temperature : 0.0;
    json_object_set_new(o, "temperature", json_real(temp));
    if (p && temp > 0)
        json_object_set_new(o, "seed", json_integer(p->seed));
    if (p && p->n_stop && p->stop) {
        json_t *st = json_array();
        for (size_t i = 0; i < p->n_stop; i++)
            if (p->stop[i])
                json_array_append_new(st, json_string(p->stop[i]));
        json_object_set_new(o, "stop", st);
    }
    if (schema)
        json_object_set_new(o, "response_format",
                            json_pack("{s:s,s:{s:s,s:b,s:o}}", "type", "json_schema",
                                      "json_schema", "name", "answer", "strict", 1, "schema",
                                      schema));
    else if (p && p->grammar && e->constrain != CONSTRAIN_SCHEMA)
        json_object_set_new(o, "grammar", json_string(p->grammar));
    if (e->logprobs) {
        if (e->chat) {
            json_object_set_new(o, "logprobs", json_true());
            json_object_set_new(o, "top_logprobs", json_integer(1));
        } else {
            json_object_set_new(o, "logprobs", json_integer(1));
        }
    }
    if (stream) {
        json_object_set_new(o, "stream", json_true());
        json_object_set_new(o, "stream_options", json_pack("{s:b}", "include_usage", 1));
    }
    /* a failed allocation anywhere above dropped a field: better no request than a wrong one */
    char *s = plugin_json_oom() ? NULL : json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s && plugin_json_oom()) { /* json_dumps() may lose a byte and succeed */
        free(s);
        s = NULL;
    }
    return s;
}

/* The wait before retry number k (0-based) of an attempt that failed. */
static double backoff_ms(slm_engine *e, int k, long retry_after_s)
{
    if (retry_after_s >= 0)
        return 1000.0 * (double)(retry_after_s < RETRY_AFTER_CAP_S ? retry_after_s
                                                                   : RETRY_AFTER_CAP_S);
    double d = BACKOFF_BASE_MS * pow(2.0, k);
    if (d > BACKOFF_CAP_MS)
        d = BACKOFF_CAP_MS;
    return d * (0.5 + 0.5 * rand01(e));
}

/* ---- requests in flight -------------------------------------------------------------- */

/*
 * One request over all its attempts, on one libcurl easy handle of the pool. Every
 * request, alone (generate) or many at once (generate_many), goes through the same loop
 * over a libcurl multi handle: attempts start when the rate limit allows, a failed one
 * that may be retried waits its backoff without holding up the others, and each request
 * ends answered or failed with its own message.
 */
typedef struct xfer {
    CURL *curl;
    int busy;              /* holds a request */
    int in_multi;          /* an attempt is under way */
    size_t i;              /* the request's index */
    char *json;            /* the body sent */
    phases ph;
    attempt a;
    int tries, same;
    long first_kind;
    char why[SLM_PLUGIN_ERRLEN];
    uint64_t t_start, not_before;
    /* traced (1.6) */
    uint64_t sched_ns;     /* send_at_ns[i], 0 closed loop */
    uint64_t add_ns;       /* the first attempt's handle went into the multi handle */
    uint64_t sent_ns;      /* add_ns + that attempt's connect time */
    int timed_out;         /* the last attempt ended by timeout_ms */
} xfer;

/* A new easy handle with everything but the body set. */
static CURL *easy_new(slm_engine *e)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, e->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, e->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress); /* its data: the attempt */
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, NULL);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "slmbench-openai/" ENGINE_VERSION);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L); /* never: it would print the key */
    return c;
}

/* Makes the pool hold at least n easy handles. */
static int pool_grow(slm_engine *e, size_t n, char *err, size_t errlen)
{
    if (n <= e->n_pool)
        return 0;
    xfer *pool = slm_plugin_realloc(e->pool, n * sizeof *e->pool);
    if (!pool)
        return slm_plugin_oom(err, errlen);
    e->pool = pool;
    for (size_t k = e->n_pool; k < n; k++) {
        memset(&e->pool[k], 0, sizeof e->pool[k]);
        e->pool[k].curl = easy_new(e);
        if (!e->pool[k].curl) {
            e->n_pool = k;
            return slm_plugin_err(err, errlen, "openai: cannot create a libcurl handle");
        }
        e->n_pool = k + 1;
    }
    return 0;
}

/* Takes a token from the bucket (at most `rate` attempts per second over the whole
 * handle, burst 1), or says how long until the next one (*wait_ns). */
static int rate_take(slm_engine *e, uint64_t now, uint64_t *wait_ns)
{
    if (e->rate <= 0)
        return 1;
    if (e->next_slot_ns > now) {
        uint64_t w = e->next_slot_ns - now;
        if (w < *wait_ns)
            *wait_ns = w;
        return 0;
    }
    e->next_slot_ns = now + (uint64_t)(1e9 / e->rate);
    return 1;
}

/* Starts the next attempt of x's request. */
static int attempt_start(slm_engine *e, xfer *x)
{
    attempt_reset(&x->a);
    x->tries++;
    CURL *c = x->curl;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->json);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(x->json));
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x->a);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x->a);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x->a);
    curl_easy_setopt(c, CURLOPT_PRIVATE, x);
    if (x->tries == 1)
        x->add_ns = now_ns();
    if (curl_multi_add_handle(e->multi, c) != CURLM_OK)
        return -1;
    x->in_multi = 1;
    return 0;
}

/* Takes request i into the free slot x; -1 (x left free) when memory ran out. */
static int xfer_begin(slm_engine *e, xfer *x, size_t i, const slm_request *req,
                      const slm_gen_params *p, const char *body, uint64_t now)
{
    int stream = body ? 0 : e->stream;
    x->json = body ? slm_plugin_strdup(body) : request_json(e, req, p, stream);
    if (!x->json)
        return -1;
    x->busy = 1;
    x->i = i;
    memset(&x->ph, 0, sizeof x->ph);
    x->ph.probe = stream ? req->probe : NULL;
    x->a = (attempt){.e = e, .ph = &x->ph, .stream = stream, .raw = body != NULL};
    attempt_reset(&x->a);
    x->tries = 0;
    x->same = 1;
    x->first_kind = 0;
    x->why[0] = '\0';
    x->t_start = x->ph.t0 = now;
    x->not_before = 0;
    x->sched_ns = x->add_ns = x->sent_ns = 0;
    x->timed_out = 0;
    if (stream) {
        x->ph.prefill_begun = 1;
        ph_begin(&x->ph, SLM_PHASE_PREFILL);
    }
    return 0;
}

/* Ends x's request: its result, or its error in msg. Frees the slot. */
static slm_gen_result *xfer_end(slm_engine *e, xfer *x, enum outcome oc, char *msg, size_t n)
{
    attempt *a = &x->a;
    int n_out = a->completion_tokens >= 0 ? (int)a->completion_tokens
                : a->n_lps ? (int)a->n_lps
                           : a->n_content;
    if (a->stream) { /* close the phases the attempts opened */
        if (!x->ph.prefill_ended)
            ph_end(&x->ph, SLM_PHASE_PREFILL, 0);
        if (!x->ph.decode_begun)
            ph_begin(&x->ph, SLM_PHASE_DECODE);
        ph_end(&x->ph, SLM_PHASE_DECODE, oc == OK && n_out > 1 ? n_out - 1 : 0);
    }
    slm_gen_result *r = NULL;
    if (oc == RETRY && x->same)
        slm_plugin_err(msg, n, "openai: %s, %d time%s (retries: %d)%s", x->why, x->tries,
                       x->tries == 1 ? "" : "s", e->retries, a->srvmsg);
    else if (oc == RETRY)
        slm_plugin_err(msg, n, "openai: no answer after %d attempts (retries: %d); last: %s%s",
                       x->tries, e->retries, x->why, a->srvmsg);
    else if (oc == FAIL)
        slm_plugin_err(msg, n, "openai: %s%s", x->why, a->srvmsg);
    else if (!(r = slm_plugin_calloc(1, sizeof *r)))
        slm_plugin_err(msg, n, "openai: %s", SLM_PLUGIN_OOM_MSG);
    else if (a->raw) { /* the answer as it came, for score() to read */
        r->kind = SLM_RESULT_GENERATE;
        r->text_len = a->body.len;
        r->text = slm_plugin_buf_take(&a->body); /* "" when empty */
    } else {
        r->kind = SLM_RESULT_GENERATE;
        r->text_len = a->text.len;
        r->text = slm_plugin_buf_take(&a->text);
        r->n_prompt_tokens = a->prompt_tokens >= 0 ? (int32_t)a->prompt_tokens : -1;
        r->n_output_tokens = n_out;
        if (a->n_lps && (int)a->n_lps == n_out) { /* else the counts disagree: no log-probs */
            r->token_logprobs = a->lps;
            a->lps = NULL;
        }
        r->finish = a->finish == SLM_FINISH_LENGTH ? SLM_FINISH_LENGTH : SLM_FINISH_STOP;
        r->timings.prefill_ms = a->prompt_ms;
        r->timings.decode_ms = a->predicted_ms;
        r->timings.total_ms = a->total_ms >= 0 ? a->total_ms
                              : a->prompt_ms >= 0 && a->predicted_ms >= 0
                                  ? a->prompt_ms + a->predicted_ms
                                  : -1;
        r->timings.ttft_ms = x->ph.t_first ? (double)(x->ph.t_first - x->ph.t0) / 1e6 : -1;
    }
    if (r && !r->text) {
        slm_result_free_plain(r);
        r = NULL;
        slm_plugin_err(msg, n, "openai: %s", SLM_PLUGIN_OOM_MSG);
    }
    if (!r)
        redact(e, msg, n);
    attempt_reset(a);
    free(x->json);
    x->json = NULL;
    x->busy = 0;
    return r;
}

/* Abandons every request still held (a stopped call). */
static void pool_abandon(slm_engine *e, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        xfer *x = &e->pool[k];
        if (x->in_multi)
            curl_multi_remove_handle(e->multi, x->curl);
        x->in_multi = 0;
        if (x->busy) {
            attempt_reset(&x->a);
            free(x->json);
            x->json = NULL;
            x->busy = 0;
        }
    }
}

/* Whether the caller's slm_gen_many is new enough to hold field f. */
#define MANY_HAS(m, f) ((m)->struct_size >= offsetof(slm_gen_many, f) + sizeof((m)->f))

/* One run_many() call. */
typedef struct loop {
    slm_engine *e;
    const slm_request *const *reqs;
    size_t n, conc, next, active;
    const slm_gen_params *p;
    const char *body;
    const slm_gen_many *m;
    const uint64_t *send_at;  /* open loop (1.6), or NULL */
    int (*traced)(void *, size_t, slm_gen_result *, const slm_req_trace *, const char *);
    int stop, rc;
    char *err;
    size_t errlen;
} loop;

/* Reports request i's end through traced() (with tr) or done(); nonzero stops the call. */
static int report(const loop *L, size_t i, slm_gen_result *r, double e2e_ms,
                  const slm_req_trace *tr, const char *msg)
{
    if (L->traced)
        return L->traced(L->m->ud, i, r, tr, msg);
    return L->m->done(L->m->ud, i, r, e2e_ms, msg);
}

/* Request i failed before it was sent (its body could not be made). */
static int report_unsent(const loop *L, size_t i, const char *msg)
{
    slm_req_trace tr = {.struct_size = sizeof tr, .server_id = ""};
    tr.scheduled_ns = L->send_at ? L->send_at[i] : 0;
    tr.end_ns = now_ns();
    return report(L, i, NULL, 0, &tr, msg);
}

/* What was measured of x's request, ending at end: the gaps are handed over in *gaps (the
 * caller frees them), the server's id copied, redacted, into sid. Before xfer_end(). */
static void trace_take(slm_engine *e, xfer *x, uint64_t end, slm_req_trace *tr, double **gaps,
                       char *sid, size_t sidlen)
{
    attempt *a = &x->a;
    memset(tr, 0, sizeof *tr);
    tr->struct_size = sizeof *tr;
    tr->attempts = x->tries;
    tr->scheduled_ns = x->sched_ns;
    tr->sent_ns = x->sent_ns;
    tr->first_token_ns = x->ph.t_first;
    tr->end_ns = end;
    *gaps = a->gaps;
    tr->gaps_ms = a->gaps;
    tr->n_gaps = a->gaps ? a->n_gaps : 0;
    a->gaps = NULL;
    a->n_gaps = a->cap_gaps = 0;
    tr->http_status = (int32_t)a->status;
    tr->timed_out = x->timed_out;
    const char *key = e->key; /* redacted without allocating: an id is short */
    slm_redact_into(sid, sidlen, a->reqid, &key, key ? 1 : 0);
    tr->server_id = sid;
}

/* Starts what may start now: retries whose backoff is over, then the next requests in
 * free slots — in an open loop once they are due — each as the rate limit lets it. Lowers
 * *wait_ns to the time until the next of those; *due_ns gets the next request's due time
 * when it is what waits (0 otherwise). */
static void start_ready(loop *L, uint64_t now, uint64_t *wait_ns, uint64_t *due_ns)
{
    slm_engine *e = L->e;
    *due_ns = 0;
    for (size_t k = 0; k < L->conc && !L->stop; k++) {
        xfer *x = &e->pool[k];
        if (x->in_multi)
            continue;
        if (x->busy && x->not_before > now) {
            if (x->not_before - now < *wait_ns)
                *wait_ns = x->not_before - now;
            continue;
        }
        if (!x->busy && L->next >= L->n)
            continue;
        if (!x->busy && L->send_at && L->send_at[L->next] > now) { /* not yet due */
            if (L->send_at[L->next] - now <= *wait_ns) {
                *wait_ns = L->send_at[L->next] - now;
                *due_ns = L->send_at[L->next];
            }
            continue;
        }
        if (!rate_take(e, now, wait_ns))
            break;
        if (!x->busy) {
            size_t i = L->next++;
            if (xfer_begin(e, x, i, L->reqs[i], L->p, L->body, now)) {
                /* this request fails; the others go on */
                L->stop = report_unsent(L, i, "openai: " SLM_PLUGIN_OOM_MSG);
                continue;
            }
            x->a.trace = L->traced != NULL;
            x->sched_ns = L->send_at ? L->send_at[i] : 0;
            L->active++;
        }
        if (attempt_start(e, x)) {
            L->rc = slm_plugin_err(L->err, L->errlen, "openai: libcurl cannot add a transfer");
            L->stop = 1;
        }
    }
    if (*due_ns && *due_ns - now > *wait_ns)
        *due_ns = 0; /* something else comes first */
}

/* Ends x's attempt that libcurl finished with cc: a retry waits its backoff, an end is
 * reported (nonzero: the call stops). */
static int attempt_done(loop *L, xfer *x, CURLcode cc)
{
    slm_engine *e = L->e;
    char why[SLM_PLUGIN_ERRLEN] = "";
    long kind = 0;
    if (L->traced) {
        curl_off_t us = 0;
        if (x->tries == 1)
            x->sent_ns = x->add_ns + (curl_easy_getinfo(x->curl, CURLINFO_CONNECT_TIME_T,
                                                        &us) == CURLE_OK && us > 0
                                          ? (uint64_t)us * 1000u
                                          : 0);
        x->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
    }
    enum outcome oc = attempt_finish(e, &x->a, cc, x->curl, why, sizeof why, &kind);
    if (oc == RETRY) {
        if (x->tries == 1)
            x->first_kind = kind;
        else if (kind != x->first_kind)
            x->same = 0;
    }
    snprintf(x->why, sizeof x->why, "%s", why);
    if (oc == RETRY && x->tries <= e->retries) {
        double ms = backoff_ms(e, x->tries - 1, x->a.retry_after_s);
        x->not_before = now_ns() + (uint64_t)(ms * 1e6);
        return 0;
    }
    char fail[SLM_PLUGIN_ERRLEN] = "", sid[SLM_OPENAI_MAX_REQUEST_ID_BYTES];
    size_t i = x->i;
    uint64_t end = now_ns();
    double e2e = (double)(end - x->t_start) / 1e6, *gaps = NULL;
    slm_req_trace tr;
    if (L->traced)
        trace_take(e, x, end, &tr, &gaps, sid, sizeof sid);
    slm_gen_result *r = xfer_end(e, x, oc, fail, sizeof fail);
    L->active--;
    int stop = report(L, i, r, e2e, &tr, r ? NULL : fail);
    free(gaps);
    return stop;
}

/* Waits for libcurl's sockets at most wait_ns, or until due_ns (a request's due time,
 * when that is what waits): in whole milliseconds until PRECISE_WAIT_NS before it, then
 * in nanoseconds (see the top of the file). */
static void wait_events(slm_engine *e, uint64_t wait_ns, uint64_t due_ns)
{
    uint64_t now = due_ns ? now_ns() : 0;
    if (!due_ns || due_ns - now > PRECISE_WAIT_NS || due_ns <= now) {
        if (due_ns && due_ns <= now)
            return;
        uint64_t w = due_ns ? due_ns - now - PRECISE_WAIT_NS / 2 : wait_ns + 999999;
        curl_multi_poll(e->multi, NULL, 0, (int)(w / 1000000), NULL);
        return;
    }
    uint64_t left = due_ns - now;
    fd_set r, w, x;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    int maxfd = -1;
    if (curl_multi_fdset(e->multi, &r, &w, &x, &maxfd) == CURLM_OK && maxfd >= 0 &&
        maxfd < FD_SETSIZE) {
        struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        pselect(maxfd + 1, &r, &w, &x, &ts, NULL);
    } else { /* no socket to wait on (or one past FD_SETSIZE): sleep to the due time */
        struct timespec ts = {(time_t)(due_ns / 1000000000u), (long)(due_ns % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
}

/* The loop behind generate(), generate_many() (see slm_engine.h) and score(). With a body
 * (n = 1), that body is sent as it is, never streamed, and the answer comes back whole as
 * the result's text. */
static int run_many(slm_engine *e, const slm_request *const *reqs, size_t n,
                    const slm_gen_params *params, const char *body, const slm_gen_many *m,
                    char *err, size_t errlen)
{
    loop L = {.e = e, .reqs = reqs, .n = n, .body = body, .m = m, .err = err, .errlen = errlen};
    L.p = params && params->struct_size >= sizeof(slm_gen_params) ? params : NULL;
    L.send_at = MANY_HAS(m, send_at_ns) ? m->send_at_ns : NULL;
    L.traced = MANY_HAS(m, traced) ? m->traced : NULL;
    L.conc = m->concurrency ? m->concurrency : 1;
    if (L.conc > n)
        L.conc = n;
    if (n == 0)
        return 0;
    if (pool_grow(e, L.conc, err, errlen))
        return -1;
    while (!L.stop && (L.next < n || L.active)) {
        uint64_t wait_ns = 100 * 1000000ull, due_ns; /* read stop at least so */
        start_ready(&L, now_ns(), &wait_ns, &due_ns);
        int running = 0;
        CURLMcode mc = L.stop ? CURLM_OK : curl_multi_perform(e->multi, &running);
        if (mc != CURLM_OK) {
            L.rc = slm_plugin_err(err, errlen, "openai: libcurl: %s", curl_multi_strerror(mc));
            break;
        }
        CURLMsg *msg;
        int left, finished = 0;
        while (!L.stop && (msg = curl_multi_info_read(e->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            xfer *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            CURLcode cc = msg->data.result;
            curl_multi_remove_handle(e->multi, msg->easy_handle); /* msg is gone now */
            x->in_multi = 0;
            finished = 1; /* a slot may be free: start the next request at once */
            if (attempt_done(&L, x, cc))
                L.stop = 1;
        }
        if (m->stop && *m->stop)
            L.stop = 1;
        if (!L.stop && !finished && (L.next < n || L.active))
            wait_events(e, wait_ns, due_ns);
    }
    pool_abandon(e, L.conc); /* err (libcurl's words, never a server's) needs no redact() */
    return L.rc;
}

typedef struct one {
    slm_gen_result *res;
    char *err;
    size_t errlen;
    int reported;
} one;

static int one_done(void *ud, size_t i, slm_gen_result *res, double e2e_ms, const char *msg)
{
    (void)i, (void)e2e_ms;
    one *o = ud;
    o->res = res;
    o->reported = 1;
    if (!res)
        snprintf(o->err, o->errlen, "%s", msg ? msg : "openai: failed");
    return 0;
}

/* The message of a one-request call that ended without its request's end: stopped by the
 * harness's Ctrl-C flag, or not run at all. */
static int not_run(const slm_engine *e, char *err, size_t errlen)
{
    return slm_plugin_err(err, errlen, "%s",
                          e->stop && *e->stop
                              ? "openai: interrupted (the request was abandoned, not retried)"
                              : "openai: the request was not run");
}

static int engine_generate(slm_engine *e, const slm_request *req, const slm_gen_params *params,
                           slm_gen_result **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!e || !req)
        return slm_plugin_err(err, errlen, "openai: no engine or no request");
    one o = {.err = err, .errlen = errlen};
    slm_gen_many m = {sizeof m, 1, one_done, &o, e->stop, NULL, NULL};
    if (run_many(e, &req, 1, params, NULL, &m, err, errlen))
        return -1;
    if (!o.reported)
        return not_run(e, err, errlen);
    *out = o.res;
    return o.res ? 0 : -1;
}

/* Characters (code points) in the first n bytes of UTF-8 s: OpenAI's text_offset. */
static long code_points(const char *s, size_t n)
{
    long k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* The body of score()'s echo request into *body (caller frees); -1 when memory ran out.
 * A prompt + choice that is not valid utf-8 is left out, as it always was. */
static int echo_request(const slm_engine *e, const slm_request *req, const char *const *choices,
                        size_t n, char **body)
{
    size_t plen = req->prompt ? req->prompt_len : 0;
    int bad = 0;
    plugin_json_clear();
    json_t *o = json_object(), *prompts = json_array();
    if (e->model && e->model[0])
        json_object_set_new(o, "model", json_string(e->model));
    for (size_t i = 0; i < n && !bad; i++) {
        char *t = slm_plugin_asprintf("%.*s%s", (int)plen, req->prompt ? req->prompt : "",
                                      choices[i]);
        bad = !t;
        json_array_append_new(prompts, t ? json_string(t) : NULL);
        free(t);
    }
    json_object_set_new(o, "prompt", prompts);
    json_object_set_new(o, "echo", json_true());
    json_object_set_new(o, "logprobs", json_integer(1));
    json_object_set_new(o, "max_tokens", json_integer(1));
    json_object_set_new(o, "temperature", json_real(0.0));
    *body = bad || plugin_json_oom() ? NULL : json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (*body && plugin_json_oom()) { /* json_dumps() may lose a byte and succeed */
        free(*body);
        *body = NULL;
    }
    return *body ? 0 : -1;
}

/*
 * Score mode through a completions endpoint that echoes the prompt with its tokens'
 * log-probabilities (option score: echo; vLLM does, as OpenAI's legacy completions did):
 * one request whose prompt is the list [prompt + choice_1, ..., prompt + choice_n], with
 * echo, logprobs 1 and max_tokens 1. For choice i, the log-probabilities of the echoed
 * tokens whose text_offset lies in [chars(prompt), chars(prompt + choice_i)) are summed; a
 * token straddling the prompt's end counts for the choice (the server tokenised the two
 * together). The one generated token lies beyond the text and is ignored.
 */
static int engine_score(slm_engine *e, const slm_request *req, const char *const *choices,
                        size_t n, slm_score_result **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!e || !req || (!choices && n))
        return slm_plugin_err(err, errlen, "openai: no engine, request or choices");
    if (!e->score_echo)
        return slm_plugin_err(err, errlen,
                              "openai: scoring needs option score: echo and a server "
                              "that echoes prompt log-probabilities");
    size_t plen = req->prompt ? req->prompt_len : 0;
    char *body = NULL;
    if (echo_request(e, req, choices, n, &body))
        return slm_plugin_oom(err, errlen);

    one r1 = {.err = err, .errlen = errlen};
    slm_gen_many m = {sizeof m, 1, one_done, &r1, e->stop, NULL, NULL};
    const slm_request *rq = req;
    int rc = run_many(e, &rq, 1, NULL, body, &m, err, errlen);
    free(body);
    if (rc || !r1.reported || !r1.res)
        return rc || r1.reported ? -1 : not_run(e, err, errlen);

    json_error_t je;
    json_t *ans = plugin_json_load(r1.res->text, r1.res->text_len, &je);
    slm_result_free_plain(r1.res);
    json_t *cs = json_object_get(ans, "choices");
    slm_score_result *r = plugin_json_oom() ? NULL : slm_plugin_calloc(1, sizeof *r);
    if (r) {
        r->logprob = slm_plugin_calloc(n ? n : 1, sizeof *r->logprob);
        r->n_tokens = slm_plugin_calloc(n ? n : 1, sizeof *r->n_tokens);
    }
    if (!r || !r->logprob || !r->n_tokens) {
        if (r) {
            free(r->logprob);
            free(r->n_tokens);
            free(r);
        }
        json_decref(ans);
        return slm_plugin_oom(err, errlen);
    }
    r->kind = SLM_RESULT_SCORE;
    r->n = n;
    r->n_prompt_tokens = -1;
    r->timings = (slm_timings){-1, -1, -1, -1};
    long from = code_points(req->prompt ? req->prompt : "", plen);
    int bad = json_array_size(cs) != n;
    for (size_t k = 0; k < json_array_size(cs) && !bad; k++) {
        json_t *c = json_array_get(cs, k), *ix = json_object_get(c, "index");
        size_t i = json_is_integer(ix) ? (size_t)json_integer_value(ix) : k;
        json_t *lp = json_object_get(c, "logprobs");
        json_t *tl = json_object_get(lp, "token_logprobs"), *to = json_object_get(lp, "text_offset");
        if (i >= n || !json_is_array(tl) || json_array_size(tl) != json_array_size(to)) {
            bad = 1;
            break;
        }
        long to_end = from + code_points(choices[i], strlen(choices[i]));
        size_t nt = json_array_size(to);
        int prompt_toks = 0;
        for (size_t t = 0; t < nt; t++) {
            long off = (long)json_integer_value(json_array_get(to, t));
            long next = t + 1 < nt ? (long)json_integer_value(json_array_get(to, t + 1)) : LONG_MAX;
            if (off >= to_end)
                break;
            if (off < from && next <= from) {
                prompt_toks++;
                continue;
            }
            json_t *v = json_array_get(tl, t);
            if (!json_is_number(v)) { /* the text's first token has none */
                bad = 1;
                break;
            }
            r->logprob[i] += json_number_value(v);
            r->n_tokens[i]++;
        }
        if (!r->n_tokens[i])
            bad = 1;
        if (k == 0)
            r->n_prompt_tokens = prompt_toks;
    }
    json_decref(ans);
    if (bad) {
        slm_result_free_plain(r);
        return slm_plugin_err(err, errlen,
                              "openai: the server's echo has no usable log-probabilities "
                              "of the choices (it must honour echo with logprobs on "
                              "the completions endpoint, as vLLM does)");
    }
    *out = r;
    return 0;
}

static int engine_generate_many(slm_engine *e, const slm_request *const *reqs, size_t n_reqs,
                                const slm_gen_params *params, const slm_gen_many *many,
                                char *err, size_t errlen)
{
    /* an slm_gen_many of ABI 1.2-1.5 ends before send_at_ns: served as before (closed loop,
     * done()) */
    if (!e || (!reqs && n_reqs) || !many ||
        many->struct_size < offsetof(slm_gen_many, send_at_ns) ||
        !(many->done || (MANY_HAS(many, traced) && many->traced)))
        return slm_plugin_err(err, errlen,
                              "openai: generate_many needs requests and a done callback");
    if (many->concurrency > SLM_MAX_CONCURRENCY)
        return slm_plugin_err(err, errlen, "openai: concurrency %u is over the limit of %ld",
                              many->concurrency, SLM_MAX_CONCURRENCY);
    return run_many(e, reqs, n_reqs, params, NULL, many, err, errlen);
}

/* ---- open / info / close -------------------------------------------------------------- */

static void engine_close(slm_engine *e)
{
    if (!e)
        return;
    for (size_t k = 0; k < e->n_pool; k++) {
        if (e->pool[k].in_multi)
            curl_multi_remove_handle(e->multi, e->pool[k].curl);
        curl_easy_cleanup(e->pool[k].curl);
    }
    free(e->pool);
    if (e->multi)
        curl_multi_cleanup(e->multi);
    for (struct curl_slist *h = e->headers; h; h = h->next)
        if (h->data && !strncasecmp(h->data, "Authorization:", 14))
            memset(h->data, 0, strlen(h->data)); /* the key does not outlive the handle */
    curl_slist_free_all(e->headers);
    if (e->key)
        memset(e->key, 0, strlen(e->key));
    free(e->key);
    free(e->base_url);
    free(e->url);
    free(e->model);
    free(e);
}

/* Learns the server's name (its Server header) from GET <base_url>/models, and fails
 * early when nothing listens there. Other answers, 404 included, are fine. */
static int probe_server(slm_engine *e, char *err, size_t errlen)
{
    char *url = slm_plugin_asprintf("%s/models", e->base_url);
    if (!url)
        return slm_plugin_oom(err, errlen);
    attempt a = {.e = e};
    attempt_reset(&a);
    CURL *c = easy_new(e);
    if (!c) {
        free(url);
        return slm_plugin_err(err, errlen, "openai: cannot create a libcurl handle");
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &a);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, e->timeout_ms < 5000 ? e->timeout_ms : 5000L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    attempt_reset(&a);
    free(url);
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
        rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
        return slm_plugin_err(err, errlen, "openai: cannot reach the server at '%s': %s",
                              e->base_url, curl_easy_strerror(rc));
    return 0;
}

/* The model name sent and the endpoint's url; -1 (err set) when out of memory. */
static int set_names(slm_engine *e, const char *model, char *err, size_t errlen)
{
    e->model = slm_plugin_strdup(model);
    e->url = slm_plugin_asprintf("%s/%s", e->base_url, e->chat ? "chat/completions" : "completions");
    return e->model && e->url ? 0 : slm_plugin_oom(err, errlen);
}

/* Appends one header line to e->headers; -1 when out of memory (the list kept whole). */
static int add_header(slm_engine *e, const char *line)
{
    struct curl_slist *h = curl_slist_append(e->headers, line);
    if (!h)
        return -1;
    e->headers = h;
    return 0;
}

/* The request headers, with the API key from the variable kenv if given. Fails (err set)
 * when that variable is unset or memory ran out. */
static int add_headers(slm_engine *e, const char *kenv, char *err, size_t errlen)
{
    if (add_header(e, "Content-Type: application/json") || add_header(e, "Expect:"))
        return slm_plugin_oom(err, errlen);
    if (!kenv)
        return 0;
    const char *key = getenv(kenv);
    if (!key || !*key)
        return slm_plugin_err(err, errlen,
                              "openai: environment variable '%s' (api_key_env) is not set or "
                              "empty",
                              kenv);
    char *line = slm_plugin_asprintf("Authorization: Bearer %s", key);
    e->key = slm_plugin_strdup(key); /* for redact() */
    int rc = line && e->key ? add_header(e, line) : -1;
    if (line) {
        memset(line, 0, strlen(line)); /* the copy curl made is wiped at close */
        free(line);
    }
    return rc ? slm_plugin_oom(err, errlen) : 0;
}

/* The integer options, defaults where absent; -1 (err set) on a bad one. */
static int open_numbers(slm_engine *e, const slm_options *opts, char *err, size_t errlen)
{
    long retries = DEFAULT_RETRIES, stream = 0, logprobs = 1;
    e->timeout_ms = DEFAULT_TIMEOUT_MS;
    e->max_resp = SLM_OPENAI_DEFAULT_MAX_RESPONSE_BYTES;
    if (opt_long(opts, "timeout_ms", 1, 24L * 3600 * 1000, &e->timeout_ms, err, errlen) ||
        opt_long(opts, "retries", 0, SLM_OPENAI_MAX_RETRIES, &retries, err, errlen) ||
        opt_long(opts, "max_response_bytes", SLM_OPENAI_MIN_MAX_RESPONSE_BYTES,
                 SLM_OPENAI_MAX_MAX_RESPONSE_BYTES, &e->max_resp, err, errlen) ||
        opt_long(opts, "stream", 0, 1, &stream, err, errlen) ||
        opt_long(opts, "logprobs", 0, 1, &logprobs, err, errlen))
        return -1;
    e->retries = (int)retries;
    e->stream = (int)stream;
    e->logprobs = (int)logprobs;
    return 0;
}

/* Opens a handle for the server at base_url. Fails on a missing or bad option, an unset
 * api_key_env variable (named, never shown) and a server that cannot be reached.
 * Complexity 40: one check per option, in the order the README lists them. */
static int engine_open(const slm_options *opts, slm_engine **out, char *err, size_t errlen)
{
    *out = NULL;
    if (engine_init(err, errlen))
        return -1;
    const char *base = opt(opts, "base_url");
    if (!base || (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)))
        return slm_plugin_err(err, errlen,
                              "openai: option 'base_url' must be an http:// or https:// "
                              "url, e.g. http://127.0.0.1:8080/v1");
    plugin_json_init();
    slm_engine *e = slm_plugin_calloc(1, sizeof *e);
    if (!e || !(e->base_url = slm_plugin_strdup(base))) {
        free(e);
        return slm_plugin_oom(err, errlen);
    }
    for (size_t n = strlen(e->base_url); n && e->base_url[n - 1] == '/'; n--)
        e->base_url[n - 1] = '\0';
    const char *ep = opt(opts, "endpoint");
    e->chat = !ep || !strcmp(ep, "chat");
    if (ep && !e->chat && strcmp(ep, "completions")) {
        engine_close(e);
        return slm_plugin_err(
                err, errlen, "openai: option 'endpoint' must be chat or completions, not '%s'", ep);
    }
    if (open_numbers(e, opts, err, errlen)) {
        engine_close(e);
        return -1;
    }
    const char *rate = opt(opts, "rate");
    if (rate && (slm_plugin_parse_double(rate, &e->rate) || !(e->rate >= 0) || isinf(e->rate))) {
        engine_close(e);
        return slm_plugin_err(err, errlen,
                              "openai: option 'rate' must be requests per second >= 0, "
                              "not '%s'",
                              rate);
    }
    const char *cs = opt(opts, "constrain");
    if (cs) {
        if (!strcmp(cs, "auto"))
            e->constrain = CONSTRAIN_AUTO;
        else if (!strcmp(cs, "json_schema"))
            e->constrain = CONSTRAIN_SCHEMA;
        else if (!strcmp(cs, "grammar"))
            e->constrain = CONSTRAIN_GRAMMAR;
        else {
            engine_close(e);
            return slm_plugin_err(err, errlen,
                                  "openai: option 'constrain' must be auto, json_schema "
                                  "or grammar, not '%s'",
                                  cs);
        }
    }
    const char *sc = opt(opts, "score");
    if (sc && strcmp(sc, "echo") && strcmp(sc, "none")) {
        engine_close(e);
        return slm_plugin_err(err, errlen, "openai: option 'score' must be echo or none, not '%s'",
                              sc);
    }
    e->score_echo = sc && !strcmp(sc, "echo");
    if (e->score_echo && e->chat) {
        engine_close(e);
        return slm_plugin_err(err, errlen,
                              "openai: score: echo needs endpoint: completions (the chat "
                              "endpoint cannot echo the prompt)");
    }
    const char *mn = opt(opts, "model_name"), *m = opt(opts, "model");
    if (set_names(e, mn ? mn : m ? m : "", err, errlen) ||
        add_headers(e, opt(opts, "api_key_env"), err, errlen)) {
        engine_close(e);
        return -1;
    }
    e->rng = now_ns() ^ (uint64_t)(uintptr_t)e;
    if (!e->rng)
        e->rng = 1;
    e->multi = curl_multi_init();
    if (!e->multi || pool_grow(e, 1, err, errlen)) { /* pool_grow() says why */
        if (!e->multi)
            slm_plugin_err(err, errlen, "openai: cannot create a libcurl handle");
        engine_close(e);
        return -1;
    }
    if (probe_server(e, err, errlen)) {
        redact(e, err, errlen); /* base_url may carry credentials */
        engine_close(e);
        return -1;
    }
    *out = e;
    return 0;
}

static int engine_info(slm_engine *e, slm_model_info *info, char *err, size_t errlen)
{
    if (!e || !info)
        return slm_plugin_err(err, errlen, "openai: no engine or no info to fill");
    slm_model_info m;
    memset(&m, 0, sizeof m);
    m.caps = ENGINE_CAPS | (e->chat ? SLM_CAP_CHAT_TEMPLATE : 0) | (e->score_echo ? SLM_CAP_SCORE : 0);
    snprintf(m.arch, sizeof m.arch, "remote");
    snprintf(m.name, sizeof m.name, "%s", e->model);
    snprintf(m.engine_version, sizeof m.engine_version, "openai-compatible (%s)",
             e->server[0] ? e->server : "unknown");
    snprintf(m.desc, sizeof m.desc, "%.100s %s", e->base_url,
             e->chat ? "chat/completions" : "completions");
    size_t n = info->struct_size < sizeof m ? info->struct_size : sizeof m;
    size_t skip = sizeof m.struct_size;
    if (n > skip)
        memcpy((char *)info + skip, (char *)&m + skip, n - skip);
    return 0;
}

/* The harness's Ctrl-C flag: generate() and score() read it as generate_many() reads
 * many->stop (at least every 100 ms), and end at once, no retry, when it is set. */
static void engine_set_stop(slm_engine *e, const volatile sig_atomic_t *stop)
{
    if (e)
        e->stop = stop;
}

static void engine_result_free(void *result)
{
    slm_result_free_plain(result);
}

/* Whether v is one of the words of list (NULL-terminated); an absent option is. */
static int one_of(const char *v, const char *const *list)
{
    for (; v && *list; list++)
        if (!strcmp(v, *list))
            return 1;
    return !v;
}

/* Checks the option keys and the values engine_open() parses, without reaching the
 * server (1.5). The numbers through open_numbers() on a scratch handle. */
static int engine_check_options(const slm_options *opts, char *err, size_t errlen)
{
    static const char *const known[] = {
            "base_url",  "endpoint", "timeout_ms", "retries",    "max_response_bytes",
            "stream",    "logprobs", "rate",       "constrain",  "score",
            "model_name", "api_key_env", NULL};
    static const char *const endpoints[] = {"chat", "completions", NULL};
    static const char *const constrains[] = {"auto", "json_schema", "grammar", NULL};
    static const char *const scores[] = {"echo", "none", NULL};
    slm_engine scratch = {0};
    double rate;
    const char *r = opt(opts, "rate");
    if (slm_plugin_check_keys(opts, known, "openai", err, errlen) ||
        open_numbers(&scratch, opts, err, errlen))
        return -1;
    if (!one_of(opt(opts, "endpoint"), endpoints))
        return slm_plugin_err(err, errlen, "openai: option 'endpoint' must be chat or "
                              "completions, not '%s'", opt(opts, "endpoint"));
    if (!one_of(opt(opts, "constrain"), constrains))
        return slm_plugin_err(err, errlen, "openai: option 'constrain' must be auto, "
                              "json_schema or grammar, not '%s'", opt(opts, "constrain"));
    if (!one_of(opt(opts, "score"), scores))
        return slm_plugin_err(err, errlen, "openai: option 'score' must be echo or none, "
                              "not '%s'", opt(opts, "score"));
    if (r && (slm_plugin_parse_double(r, &rate) || !(rate >= 0) || isinf(rate)))
        return slm_plugin_err(err, errlen, "openai: option 'rate' must be requests per "
                              "second >= 0, not '%s'", r);
    return 0;
}

static const slm_engine_vtable vtable = {
    .abi_version = SLM_ENGINE_ABI_VERSION,
    .struct_size = sizeof(slm_engine_vtable),
    .name = "openai",
    .version = ENGINE_VERSION,
    .description = "OpenAI-compatible HTTP servers (llama-server, vLLM, Ollama, ...): "
                   "generation with retries, concurrency, streaming TTFT and server timings; "
                   "score mode needs endpoint: completions and score: echo (vLLM)",
    .caps = ENGINE_CAPS | SLM_CAP_CHAT_TEMPLATE | SLM_CAP_SCORE, /* SCORE: with score: echo */
    .init = engine_init,                 /* libcurl's global set-up, once */
    .open = engine_open,                 /* options, API key, a first GET <base_url>/models */
    .info = engine_info,                 /* name = model, engine_version from Server */
    .score = engine_score,               /* score: echo — prompt log-probs echoed back */
    .generate = engine_generate,         /* one POST, retried; SSE when stream = 1 */
    .result_free = engine_result_free,   /* generate results only */
    .close = engine_close,               /* NULL-safe; wipes the key */
    .quantize = NULL,                    /* the server owns its weights */
    .shutdown = NULL,                    /* libcurl stays set up (see engine_init) */
    .score_batch = NULL,                 /* no scoring */
    .generate_many = engine_generate_many, /* libcurl multi, up to `concurrency` at once */
    .tokenize = NULL,                    /* the server owns its tokenizer */
    .render = NULL,                      /* the server renders its chat template */
    .set_stop = engine_set_stop,         /* Ctrl-C ends a request in flight (1.4) */
    .check_options = engine_check_options, /* keys and values, no request (1.5) */
};

/* The plugin's only export: the table above, static and constant. */
const slm_engine_vtable *slm_engine_entry(void)
{
    return &vtable;
}
