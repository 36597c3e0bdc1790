/* load.c — see load.h. */
#include "load.h"
#include "metrics.h"
#include "redact.h"
#include "store_load.h"
#include "store_run.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Requests handed to generate_many() at once in a closed loop of `duration`: the loop
 * goes on chunk after chunk until the level's end (each chunk drains before the next). */
#define CLOSED_CHUNK 1024

/* ---- the plan, pure ---- */

size_t slm_load_plan(const slm_load_cfg *lc, slm_load_level_plan *plan)
{
    switch (lc->profile) {
    case SLM_PROFILE_SYNCHRONOUS:
    case SLM_PROFILE_CONCURRENT:
        plan[0] = (slm_load_level_plan){lc->profile, NAN,
                                        lc->profile == SLM_PROFILE_CONCURRENT ? lc->concurrency
                                                                              : 1};
        return 1;
    case SLM_PROFILE_CONSTANT:
    case SLM_PROFILE_POISSON:
        for (size_t i = 0; i < lc->n_rates; i++)
            plan[i] = (slm_load_level_plan){lc->profile, lc->rates[i], lc->concurrency};
        return lc->n_rates;
    default:
        plan[0] = (slm_load_level_plan){SLM_PROFILE_SYNCHRONOUS, NAN, 1};
        plan[1] = (slm_load_level_plan){SLM_PROFILE_CONCURRENT, NAN, lc->concurrency};
        for (int k = 0; k < lc->sweep_k; k++)
            plan[2 + k] = (slm_load_level_plan){SLM_PROFILE_CONSTANT, NAN, lc->concurrency};
        return 2 + (size_t)lc->sweep_k;
    }
}

int slm_load_sweep_rates(const slm_load_cfg *lc, double r1, double rmax,
                         slm_load_level_plan *plan)
{
    if (!(r1 > 0) || !(rmax > 0) || !isfinite(rmax) || rmax < r1 / lc->saturation)
        return -1;
    for (int k = 1; k <= lc->sweep_k; k++)
        plan[1 + k].rate = r1 + (rmax - r1) * k / lc->sweep_k;
    return 0;
}

/* A uniform double in [0, 1): the top 53 bits. */
static double uniform01(slm_rng *r)
{
    return (double)(slm_rng_u64(r) >> 11) * 0x1.0p-53;
}

void slm_load_schedule(slm_load_profile p, double rate, uint64_t seed, double *t_ms, size_t n)
{
    slm_rng r;
    slm_rng_seed(&r, seed);
    double t = 0;
    for (size_t i = 0; i < n; i++) {
        if (p == SLM_PROFILE_POISSON) {
            t_ms[i] = t;
            t += -log1p(-uniform01(&r)) / rate * 1000.0;
        } else {
            t_ms[i] = (double)i / rate * 1000.0;
        }
    }
}

size_t slm_load_n_open(const slm_load_cfg *lc, slm_load_profile p, double rate, uint64_t seed)
{
    if (lc->requests > 0)
        return (size_t)lc->requests;
    if (p != SLM_PROFILE_POISSON) {
        double n = ceil(lc->duration_ms / 1000.0 * rate);
        return n > SLM_LOAD_MAX_REQUESTS ? (size_t)SLM_LOAD_MAX_REQUESTS : (size_t)n;
    }
    slm_rng r;
    slm_rng_seed(&r, seed);
    size_t n = 0;
    for (double t = 0; t < lc->duration_ms && n < (size_t)SLM_LOAD_MAX_REQUESTS; n++)
        t += -log1p(-uniform01(&r)) / rate * 1000.0;
    return n;
}

/* ---- one level ---- */

typedef struct load_ctx {
    const slm_run_cfg *cfg;
    const slm_load_cfg *lc;
    slm_store *st;
    const slm_loadtest_opts *o;
    slm_session *s;
    int64_t run_id;
} load_ctx;

typedef struct level_run {
    load_ctx *L;
    size_t ci;
    const slm_session_cand *cand;
    const slm_load_level_plan *pl;
    slm_load_level_row lv;
    uint64_t t0_ns;
    size_t *perm;              /* [n_ex] the examples in the level's order; request seq
                                  draws perm[seq % n_ex] */
    size_t n_ex;
    double *due;               /* [n] due times, ms from t0 (open loop), or NULL */
    size_t n, seq_base;        /* requests; the seq of the current call's request 0 */
    slm_load_req_row *batch;   /* rows not yet written; their strings are owned */
    size_t nb;
    long n_stored, n_ok;
    double last_sent_ms;
    int closed_timed;          /* a closed loop of `duration`: stop at its end */
    int failed;                /* the store failed: err says why */
    char first_err[256];
    char err[SLM_ERRLEN];
} level_run;

#define EX(lr, seq) ((lr)->perm[(seq) % (lr)->n_ex])

static void free_batch_strings(level_run *lr)
{
    for (size_t i = 0; i < lr->nb; i++) {
        free((char *)lr->batch[i].server_id);
        free((char *)lr->batch[i].error);
        free((char *)lr->batch[i].pred);
    }
    lr->nb = 0;
}

static int flush(level_run *lr)
{
    if (!lr->nb || lr->failed)
        return lr->failed ? -1 : 0;
    if (slm_load_put_requests(lr->L->st, lr->lv.id, lr->batch, lr->nb, lr->err,
                              sizeof lr->err))
        lr->failed = 1;
    else
        lr->n_stored += (long)lr->nb;
    free_batch_strings(lr);
    return lr->failed ? -1 : 0;
}

static double ns_ms(uint64_t t, uint64_t t0)
{
    return t && t >= t0 ? (double)(t - t0) / 1e6 : NAN;
}

/* The phase of a request due or sent at t ms into the level. */
static slm_load_phase phase_of(const level_run *lr, double t)
{
    const slm_load_cfg *lc = lr->L->lc;
    if (t < lc->warmup_ms)
        return SLM_LOAD_WARMUP;
    double len = lr->due ? lr->lv.duration_ms : lc->duration_ms;
    if (!isnan(len) && lc->cooldown_ms > 0 && t >= len - lc->cooldown_ms)
        return SLM_LOAD_COOLDOWN;
    return SLM_LOAD_MEASURE;
}

/* The times of a finished request from its trace (or, without one, from its end now and
 * its e2e_ms) into row w. */
static void fill_times(level_run *lr, const slm_req_trace *tr, double e2e_ms,
                       const slm_gen_result *res, slm_load_req_row *w)
{
    slm_load_req *r = &w->r;
    uint64_t t0 = lr->t0_ns;
    if (tr) {
        r->scheduled_ms = tr->scheduled_ns ? ns_ms(tr->scheduled_ns, t0) : NAN;
        r->sent_ms = ns_ms(tr->sent_ns, t0);
        r->e2e_ms = tr->sent_ns && tr->end_ns >= tr->sent_ns ? ns_ms(tr->end_ns, tr->sent_ns)
                                                             : NAN;
        r->ttft_ms = tr->first_token_ns ? ns_ms(tr->first_token_ns, tr->sent_ns) : NAN;
        w->http_status = tr->http_status;
        w->attempts = tr->attempts;
        w->server_id = tr->server_id && tr->server_id[0] ? slm_xstrdup(tr->server_id) : NULL;
        if (tr->gaps_ms && tr->n_gaps >= 1) {
            double sum = 0, mx = 0;
            for (int32_t g = 0; g < tr->n_gaps; g++) {
                sum += tr->gaps_ms[g];
                mx = tr->gaps_ms[g] > mx ? tr->gaps_ms[g] : mx;
            }
            r->itl_mean_ms = sum / tr->n_gaps;
            r->itl_max_ms = mx;
        }
    } else {
        double now = ns_ms(slm_now_ns(), t0);
        r->e2e_ms = e2e_ms;
        r->sent_ms = now - e2e_ms;
        r->ttft_ms = res && res->timings.ttft_ms >= 0 ? res->timings.ttft_ms : NAN;
    }
    if (lr->due && isnan(r->scheduled_ms))
        r->scheduled_ms = lr->due[w->seq];
    if (r->n_output_tokens >= 2 && !isnan(r->ttft_ms) && !isnan(r->e2e_ms))
        r->tpot_ms = (r->e2e_ms - r->ttft_ms) / (r->n_output_tokens - 1);
}

/* One finished request: judged, timed, phased, queued for the store. Nonzero stops the
 * engine's call (the store failed, Ctrl-C, a closed loop's end). */
static int record(level_run *lr, size_t i, slm_gen_result *res, const slm_req_trace *tr,
                  double e2e_ms, const char *err)
{
    const volatile sig_atomic_t *stop = lr->L->o->stop;
    if (lr->failed || (!res && stop && *stop)) {
        /* the store failed (the level is lost anyway), or a request cut short by Ctrl-C:
         * not a measurement, not kept */
        if (res)
            lr->cand->vt->result_free(res);
        return 1;
    }
    slm_load_req_row *w = &lr->batch[lr->nb];
    size_t seq = lr->seq_base + i;
    memset(w, 0, sizeof *w);
    w->seq = (long)seq;
    w->example_idx = (long)EX(lr, seq);
    slm_load_req *r = &w->r;
    r->scheduled_ms = r->sent_ms = r->ttft_ms = r->e2e_ms = NAN;
    r->itl_mean_ms = r->itl_max_ms = r->tpot_ms = NAN;
    r->n_output_tokens = res ? res->n_output_tokens : -1;
    slm_judged j;
    slm_session_judge(lr->L->s, lr->ci, EX(lr, seq), res, err, &j);
    fill_times(lr, tr, e2e_ms, res, w);
    if (res)
        lr->cand->vt->result_free(res);
    r->correct = j.correct;
    r->valid = j.valid;
    r->status = j.error ? (tr && tr->timed_out ? SLM_LOAD_TIMEOUT : SLM_LOAD_ERROR)
                        : SLM_LOAD_OK;
    w->pred = j.pred;
    w->error = j.error;
    if (j.error && !lr->first_err[0])
        snprintf(lr->first_err, sizeof lr->first_err, "%s", j.error);
    lr->n_ok += !j.error;
    double t = lr->due ? r->scheduled_ms : r->sent_ms;
    r->phase = phase_of(lr, isnan(t) ? 0 : t);
    if (!isnan(r->sent_ms) && r->sent_ms > lr->last_sent_ms)
        lr->last_sent_ms = r->sent_ms;
    lr->nb++;
    if (lr->nb >= (size_t)lr->L->cfg->commit_every && flush(lr))
        return 1;
    if (stop && *stop)
        return 1;
    return lr->closed_timed && ns_ms(slm_now_ns(), lr->t0_ns) >= lr->L->lc->duration_ms;
}

static int on_traced(void *ud, size_t i, slm_gen_result *res, const struct slm_req_trace *tr,
                     const char *err)
{
    return record(ud, i, res, tr, NAN, err);
}

static int on_done(void *ud, size_t i, slm_gen_result *res, double e2e_ms, const char *err)
{
    return record(ud, i, res, NULL, e2e_ms, err);
}

typedef int (*many_fn)(slm_engine *, const slm_request *const *, size_t,
                       const slm_gen_params *, const slm_gen_many *, char *, size_t);

/* Requests [from, from + n) of the level through generate_many(): due at their times
 * (open loop, send_at) or as slots free up. -1 with lr->err when the engine broke. */
static int call_many(level_run *lr, size_t from, size_t n, const uint64_t *send_at)
{
    const slm_session_cand *cd = lr->cand;
    slm_request *reqs = slm_xcalloc(n ? n : 1, sizeof *reqs);
    const slm_request **ptr = slm_xcalloc(n ? n : 1, sizeof *ptr);
    for (size_t j = 0; j < n; j++) {
        size_t i = EX(lr, from + j);
        const char *p = slm_session_prompt(lr->L->s, i);
        reqs[j] = (slm_request){sizeof reqs[j], slm_session_example_id(lr->L->s, i), p,
                                strlen(p), cd->chat, NULL};
        ptr[j] = &reqs[j];
    }
    lr->seq_base = from;
    slm_gen_many gm = {sizeof gm, (uint32_t)lr->pl->concurrency, on_done, lr, lr->L->o->stop,
                       send_at, on_traced};
    char e2[SLM_ERRLEN] = "";
    many_fn many = SLM_SLOT(cd->vt, generate_many);
    int rc = many(cd->eng, ptr, n, &cd->gp, &gm, e2, sizeof e2);
    if (rc && !lr->failed) {
        slm_err(lr->err, sizeof lr->err, "%s", e2[0] ? e2 : "generate_many failed");
        lr->failed = 1;
    }
    free(reqs);
    free(ptr);
    return rc;
}

/* Records of the prefill's end for the one-at-a-time loop's TTFT. */
static void ttft_end(void *ud, slm_phase ph, int n)
{
    (void)n;
    if (ph == SLM_PHASE_PREFILL)
        *(uint64_t *)ud = slm_now_ns();
}

/* A synchronous level through generate(), for engines without generate_many(). */
static void call_one_by_one(level_run *lr)
{
    const slm_session_cand *cd = lr->cand;
    const volatile sig_atomic_t *stop = lr->L->o->stop;
    for (size_t k = 0; k < lr->n && !lr->failed && !(stop && *stop); k++) {
        if (lr->closed_timed && ns_ms(slm_now_ns(), lr->t0_ns) >= lr->L->lc->duration_ms)
            break;
        size_t i = EX(lr, k);
        uint64_t first = 0;
        slm_probe probe = {&first, NULL, ttft_end};
        const char *p = slm_session_prompt(lr->L->s, i);
        slm_request req = {sizeof req, slm_session_example_id(lr->L->s, i), p, strlen(p),
                           cd->chat, &probe};
        slm_gen_result *res = NULL;
        char e2[SLM_ERRLEN] = "";
        uint64_t sent = slm_now_ns();
        int rc = cd->vt->generate(cd->eng, &req, &cd->gp, &res, e2, sizeof e2);
        slm_req_trace tr = {sizeof tr, 1, 0, sent, first, slm_now_ns(), NULL, 0, 0, 0, ""};
        lr->seq_base = 0;
        if (record(lr, k, rc == 0 ? res : NULL, &tr, NAN, e2[0] ? e2 : "engine error")) {
            if (rc != 0 && res)
                cd->vt->result_free(res);
            break;
        }
        if (rc != 0 && res)
            cd->vt->result_free(res);
    }
}

/* Drives the level's requests: open loop at their due times, closed loop in chunks until
 * its requests or its duration are done. */
static void drive(level_run *lr)
{
    const volatile sig_atomic_t *stop = lr->L->o->stop;
    if (!SLM_SLOT(lr->cand->vt, generate_many)) {
        lr->t0_ns = slm_now_ns();
        call_one_by_one(lr);
        return;
    }
    if (lr->due) {
        uint64_t *at = slm_xcalloc(lr->n ? lr->n : 1, sizeof *at);
        lr->t0_ns = slm_now_ns() + 2000000; /* 2 ms ahead: request 0 is due, not late */
        for (size_t i = 0; i < lr->n; i++)
            at[i] = lr->t0_ns + (uint64_t)(lr->due[i] * 1e6);
        call_many(lr, 0, lr->n, at);
        free(at);
        return;
    }
    lr->t0_ns = slm_now_ns();
    for (size_t from = 0; from < lr->n && !lr->failed && !(stop && *stop);) {
        size_t chunk = lr->n - from < CLOSED_CHUNK ? lr->n - from : CLOSED_CHUNK;
        if (call_many(lr, from, chunk, NULL) || (lr->closed_timed &&
            ns_ms(slm_now_ns(), lr->t0_ns) >= lr->L->lc->duration_ms))
            break;
        from += chunk;
    }
}

/* The examples in order, or shuffled with the seed (the same order at every level, so
 * levels differ only in their load). */
static size_t *example_order(const load_ctx *L, size_t n_ex)
{
    size_t *perm = slm_xcalloc(n_ex ? n_ex : 1, sizeof *perm);
    for (size_t i = 0; i < n_ex; i++)
        perm[i] = i;
    if (!L->lc->shuffled)
        return perm;
    slm_rng r;
    slm_rng_seed(&r, (uint64_t)L->lc->seed);
    for (size_t i = n_ex; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)slm_rng_below(&r, i), t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    return perm;
}

/* The level's row before it runs, and its schedule (open loop). */
static void level_setup(level_run *lr, int idx)
{
    const slm_load_cfg *lc = lr->L->lc;
    const slm_load_level_plan *pl = lr->pl;
    int open_loop = !isnan(pl->rate);
    uint64_t seed = (uint64_t)lc->seed * 1000003u + (uint64_t)idx;
    slm_load_level_row *lv = &lr->lv;
    memset(lv, 0, sizeof *lv);
    lv->run_id = lr->L->run_id;
    lv->candidate_id = lr->cand->id;
    lv->idx = idx;
    snprintf(lv->profile, sizeof lv->profile, "%s", slm_load_profile_name(pl->profile));
    lv->offered_rps = pl->rate;
    lv->concurrency = pl->concurrency;
    lv->duration_ms = lc->duration_ms;
    lv->warmup_ms = lc->warmup_ms;
    lv->cooldown_ms = lc->cooldown_ms;
    lr->n_ex = slm_session_n(lr->L->s);
    lr->perm = example_order(lr->L, lr->n_ex);
    if (open_loop) {
        lr->n = slm_load_n_open(lc, pl->profile, pl->rate, seed);
        lr->due = slm_xcalloc(lr->n ? lr->n : 1, sizeof *lr->due);
        slm_load_schedule(pl->profile, pl->rate, seed, lr->due, lr->n);
        if (lc->requests > 0) /* the level lasts its schedule: the last due + one gap */
            lv->duration_ms = (lr->n ? lr->due[lr->n - 1] : 0) + 1000.0 / pl->rate;
    } else {
        lr->n = lc->requests > 0 ? (size_t)lc->requests : (size_t)SLM_LOAD_MAX_REQUESTS;
        lr->closed_timed = lc->requests <= 0;
    }
    lv->n_requests = lc->requests > 0 || open_loop ? (long)lr->n : -1;
}

/* The measured window of a finished level, ms. */
static double level_window(const level_run *lr)
{
    const slm_load_cfg *lc = lr->L->lc;
    double w;
    if (!isnan(lr->lv.duration_ms))
        w = lr->lv.duration_ms - lc->warmup_ms - lc->cooldown_ms;
    else /* a closed loop of `requests`: up to its last sending, no cool-down */
        w = lr->last_sent_ms - lc->warmup_ms;
    return w > 0 ? w : NAN;
}

/* Throughput of a stored level: measured requests answered per second of its window. */
static double stored_throughput(const slm_load_req *r, size_t n, double window_ms)
{
    long ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += r[i].phase == SLM_LOAD_MEASURE && r[i].status == SLM_LOAD_OK;
    return window_ms > 0 ? ok / (window_ms / 1000.0) : NAN;
}

/* The level's end state from what happened: status, reason, the SLM_RUN_* outcome; an
 * open-loop level is judged for saturation from its stored requests. *thr: its
 * throughput (requests/s), for a sweep's rates. */
static int level_verdict(level_run *lr, double window, double *thr, char *reason,
                         size_t rlen, const char **status)
{
    const volatile sig_atomic_t *stop = lr->L->o->stop;
    *status = "complete";
    reason[0] = '\0';
    if (stop && *stop) {
        *status = "incomplete";
        snprintf(reason, rlen, "interrupted by a signal");
        return SLM_RUN_INTERRUPTED;
    }
    if (lr->failed) {
        *status = "incomplete";
        snprintf(reason, rlen, "%s", lr->err);
        return SLM_RUN_ENGINE;
    }
    if (lr->n_ok == 0) {
        *status = "incomplete";
        snprintf(reason, rlen, "every request failed (%ld of %ld; the first: %s)",
                 lr->n_stored, lr->n_stored, lr->first_err[0] ? lr->first_err : "none sent");
        return SLM_RUN_ENGINE;
    }
    slm_load_req *rq;
    size_t n;
    if (slm_load_requests(lr->L->st, lr->lv.id, &rq, &n, lr->err, sizeof lr->err)) {
        snprintf(reason, rlen, "%s", lr->err);
        return SLM_RUN_ENGINE;
    }
    *thr = stored_throughput(rq, n, window);
    char why[256] = "";
    if (!isnan(lr->pl->rate) &&
        slm_load_saturated(rq, n, lr->pl->rate, lr->L->lc->saturation, why, sizeof why) == 1) {
        *status = "saturated";
        snprintf(reason, rlen, "%s", why);
    }
    free(rq);
    return SLM_RUN_OK;
}

/* Runs level idx of candidate ci: begun in the store (an earlier attempt deleted), driven,
 * its requests stored in batches, ended with its status. SLM_RUN_* with err; *thr its
 * throughput and *saturated whether it ended saturated. */
static int run_level(load_ctx *L, size_t ci, const slm_session_cand *cd, int idx,
                     const slm_load_level_plan *pl, double *thr, int *saturated, char *err,
                     size_t errlen)
{
    level_run lr = {.L = L, .ci = ci, .cand = cd, .pl = pl, .last_sent_ms = 0};
    level_setup(&lr, idx);
    size_t cap = (size_t)L->cfg->commit_every;
    lr.batch = slm_xcalloc(cap, sizeof *lr.batch);
    *thr = NAN;
    *saturated = 0;
    int rc = SLM_RUN_ENGINE;
    if (slm_load_level_begin(L->st, &lr.lv, err, errlen) == 0) {
        drive(&lr);
        flush(&lr);
        free_batch_strings(&lr);
        double window = level_window(&lr);
        char reason[SLM_ERRLEN];
        const char *status;
        rc = level_verdict(&lr, window, thr, reason, sizeof reason, &status);
        *saturated = !strcmp(status, "saturated");
        char e2[SLM_ERRLEN / 2];
        if (rc != SLM_RUN_OK)
            slm_err(err, errlen, "level %d (%s): %s", idx, lr.lv.profile, reason);
        if (slm_load_level_end(L->st, lr.lv.id, status, window, reason[0] ? reason : NULL, e2,
                               sizeof e2)) {
            size_t len = rc != SLM_RUN_OK ? strlen(err) : 0; /* the first cause first */
            if (len + 2 < errlen)
                snprintf(err + len, errlen - len, "%s%.*s", len ? "; " : "",
                         (int)(errlen - len - 3), e2);
            rc = SLM_RUN_ENGINE;
        }
        if (!L->o->quiet)
            slm_say(stderr, "slmbench: '%s' level %d %s (%s %g): %ld requests stored, %ld "
                    "answered, %s%s%s\n", L->cfg->cands[ci].name, idx, lr.lv.profile,
                    isnan(pl->rate) ? "concurrency" : "requests/s",
                    isnan(pl->rate) ? (double)pl->concurrency : pl->rate, lr.n_stored,
                    lr.n_ok, status, reason[0] ? ": " : "", reason);
    }
    free(lr.batch);
    free(lr.perm);
    free(lr.due);
    return rc;
}

/* What the profile asks of the engine: generate_many() for requests in flight at once,
 * SLM_CAP_SCHEDULE for an open loop. SLM_RUN_BAD_INPUT with err naming the config. */
static int check_caps(const load_ctx *L, size_t ci, const slm_session_cand *cd, char *err,
                      size_t errlen)
{
    const slm_load_cfg *lc = L->lc;
    const slm_cand_cfg *cc = &L->cfg->cands[ci];
    const char *prof = slm_load_profile_name(lc->profile);
    int many = SLM_SLOT(cd->vt, generate_many) != NULL && (cd->caps & SLM_CAP_CONCURRENT);
    int open_loop = lc->profile >= SLM_PROFILE_CONSTANT;
    if (lc->profile != SLM_PROFILE_SYNCHRONOUS && !many) {
        slm_err(err, errlen, "%s:%d: candidate '%s': engine '%s' cannot keep requests in "
                "flight at once (no generate_many): profile %s needs it; only synchronous "
                "works", L->cfg->path, lc->line, cc->name, cc->engine, prof);
        return SLM_RUN_BAD_INPUT;
    }
    if (open_loop && !(cd->caps & SLM_CAP_SCHEDULE)) {
        slm_err(err, errlen, "%s:%d: candidate '%s': engine '%s' cannot send requests at "
                "their due times (no open loop, SLM_CAP_SCHEDULE): profile %s needs it; "
                "synchronous and concurrent work", L->cfg->path, lc->line, cc->name,
                cc->engine, prof);
        return SLM_RUN_BAD_INPUT;
    }
    return SLM_RUN_OK;
}

/* What the profile asks of each candidate's engine, from its plugin table, before
 * anything is recorded (the opened model is checked again: it may offer less). */
static int precheck(const slm_run_cfg *cfg, const slm_load_cfg *lc, slm_plugins *ps,
                    char *err, size_t errlen)
{
    load_ctx L = {cfg, lc, NULL, NULL, NULL, 0};
    for (size_t ci = 0; ci < cfg->n_cands; ci++) {
        slm_plugin *p = slm_plugins_find(ps, cfg->cands[ci].engine);
        if (!p || !p->enabled)
            continue; /* the run's own checks say why */
        slm_session_cand cd = {.vt = p->vt, .caps = p->vt->caps};
        int rc = check_caps(&L, ci, &cd, err, errlen);
        if (rc != SLM_RUN_OK)
            return rc;
    }
    return SLM_RUN_OK;
}

/* A level stored complete or saturated by an earlier session: its throughput again. */
static int stored_level(load_ctx *L, const slm_load_level_row *lv, double *thr, char *err,
                        size_t errlen)
{
    slm_load_req *rq;
    size_t n;
    if (slm_load_requests(L->st, lv->id, &rq, &n, err, errlen))
        return SLM_RUN_ENGINE;
    *thr = stored_throughput(rq, n, lv->window_ms);
    free(rq);
    return SLM_RUN_OK;
}

static const slm_load_level_row *find_level(const slm_load_level_row *lv, size_t n, size_t idx)
{
    for (size_t i = 0; i < n; i++)
        if ((size_t)lv[i].idx == idx)
            return &lv[i];
    return NULL;
}

/* 1 when the levels after k all offer at least level k's rate (an open loop's list). */
static int rates_from(const slm_load_level_plan *plan, size_t k, size_t np)
{
    if (!(plan[k].rate > 0))
        return 0;
    for (size_t j = k + 1; j < np; j++)
        if (!(plan[j].rate >= plan[k].rate))
            return 0;
    return 1;
}

/* Every level of candidate cd not yet complete, in order; a sweep's rates from its first
 * two levels, and its end at the first saturated level or for want of room. */
static int run_cand(load_ctx *L, size_t ci, const slm_session_cand *cd, char *err,
                    size_t errlen)
{
    slm_load_level_plan plan[SLM_LOAD_MAX_LEVELS];
    size_t np = slm_load_plan(L->lc, plan);
    slm_load_level_row *old;
    size_t n_old;
    if (slm_load_levels(L->st, L->run_id, cd->id, &old, &n_old, err, errlen))
        return SLM_RUN_ENGINE;
    int sweep = L->lc->profile == SLM_PROFILE_SWEEP, rc = SLM_RUN_OK;
    double r1 = NAN;
    for (size_t k = 0; k < np && rc == SLM_RUN_OK; k++) {
        double thr = NAN;
        int sat = 0;
        const slm_load_level_row *o = find_level(old, n_old, k);
        if (o && (!strcmp(o->status, "complete") || !strcmp(o->status, "saturated"))) {
            sat = !strcmp(o->status, "saturated");
            rc = stored_level(L, o, &thr, err, errlen);
        } else {
            rc = run_level(L, ci, cd, (int)k, &plan[k], &thr, &sat, err, errlen);
        }
        if (rc != SLM_RUN_OK)
            continue;
        if (!sweep) {
            if (sat && rates_from(plan, k, np))
                break; /* a list of rates stops there too: the rest would only queue more */
            continue;
        }
        if (k == 0)
            r1 = thr;
        if (k == 1 && slm_load_sweep_rates(L->lc, r1, thr, plan)) {
            slm_err(err, errlen, "candidate '%s': the sweep has no room: the concurrent level's "
                    "throughput %.3g requests/s is not above the synchronous %.3g / saturation "
                    "%g; levels 0 and 1 are stored", L->cfg->cands[ci].name, thr, r1,
                    L->lc->saturation);
            rc = SLM_RUN_BAD_INPUT;
        }
        if (sat)
            break; /* a sweep stops at its first saturated level */
    }
    slm_load_levels_free(old, n_old);
    return rc;
}

/* Runs every candidate not yet ok, then settles the run's status. */
static int execute(load_ctx *L, char *err, size_t errlen)
{
    int worst = SLM_RUN_OK, failed = 0;
    for (size_t ci = 0; ci < L->cfg->n_cands; ci++) {
        slm_session_cand cd;
        char e2[SLM_ERRLEN] = "";
        int rc = slm_session_cand_begin(L->s, ci, &cd, e2, sizeof e2), no_room = 0;
        if (rc == SLM_RUN_OK)
            rc = check_caps(L, ci, &cd, e2, sizeof e2);
        if (rc == SLM_RUN_OK)
            no_room = (rc = run_cand(L, ci, &cd, e2, sizeof e2)) == SLM_RUN_BAD_INPUT;
        /* no room is the sweep's answer, not the candidate's failure */
        slm_session_cand_end(L->s, ci, no_room ? SLM_RUN_OK : rc, e2);
        failed |= rc != SLM_RUN_OK && rc != SLM_RUN_INTERRUPTED && !no_room;
        if (rc != SLM_RUN_OK) { /* every candidate's message, in order */
            size_t len = worst == SLM_RUN_OK ? 0 : strlen(err);
            snprintf(err + len, errlen - len, "%s%s", len ? "; " : "", e2);
        }
        if (rc != SLM_RUN_OK && (worst == SLM_RUN_OK || rc == SLM_RUN_INTERRUPTED))
            worst = rc;
        if (rc == SLM_RUN_INTERRUPTED)
            break;
    }
    const char *st = worst == SLM_RUN_INTERRUPTED ? "interrupted"
                     : failed                     ? "failed" : "complete";
    slm_store_set_run_status(L->st, L->run_id, st, worst == SLM_RUN_OK ? NULL : err);
    if (worst == SLM_RUN_INTERRUPTED || failed) {
        size_t len = strlen(err);
        snprintf(err + len, errlen - len, "%sfinish it with: slmbench load --resume %lld --db "
                 "%s", len ? "; " : "", (long long)L->run_id, slm_store_path(L->st));
    }
    return worst;
}

int slm_load_start(const slm_run_cfg *cfg, const slm_load_cfg *lc, slm_store *st,
                   slm_plugins *ps, const slm_loadtest_opts *o, int64_t *run_id, char *err,
                   size_t errlen)
{
    slm_run_opts ro = {.quiet = 1, .stop = o->stop};
    load_ctx L = {cfg, lc, st, o, NULL, 0};
    *run_id = 0;
    int rc = precheck(cfg, lc, ps, err, errlen);
    if (rc != SLM_RUN_OK)
        return rc;
    rc = slm_session_open(cfg, st, ps, &ro, "load", run_id, &L.s, err, errlen);
    if (rc != SLM_RUN_OK)
        return rc;
    L.run_id = *run_id;
    rc = execute(&L, err, errlen);
    slm_session_close(L.s);
    return rc;
}

int slm_load_resume(slm_store *st, slm_plugins *ps, const slm_loadtest_opts *o, int64_t run_id,
                    char *err, size_t errlen)
{
    char mode[16];
    if (slm_load_run_mode(st, run_id, mode, sizeof mode, err, errlen))
        return SLM_RUN_ENGINE;
    if (strcmp(mode, "load")) {
        slm_err(err, errlen, mode[0] ? "run %lld is not a load test (mode %s); resume it with "
                "slmbench run --resume" : "no run %lld%s", (long long)run_id, mode);
        return SLM_RUN_BAD_INPUT;
    }
    slm_resume_row r;
    if (slm_store_run_to_resume(st, run_id, 1, &r, err, errlen) == 0) {
        int complete = !strcmp(r.status, "complete");
        slm_resume_row_free(&r);
        if (complete) {
            slm_err(err, errlen, "load test %lld is already complete", (long long)run_id);
            return SLM_RUN_BAD_INPUT;
        }
    }
    slm_run_cfg *cfg = NULL;
    slm_load_cfg lc;
    int rc = slm_session_stored_cfg(st, run_id, &cfg, err, errlen);
    if (rc == SLM_RUN_OK && slm_load_cfg_parse(cfg, &lc, err, errlen))
        rc = SLM_RUN_BAD_INPUT;
    /* levels a killed process left running never ended: incomplete, run again */
    if (rc == SLM_RUN_OK && slm_load_close_running(st, run_id, "the process ended in the "
                                                   "level (killed)", err, errlen))
        rc = SLM_RUN_ENGINE;
    if (rc == SLM_RUN_OK) {
        slm_run_opts ro = {.quiet = 1, .stop = o->stop};
        load_ctx L = {cfg, &lc, st, o, NULL, run_id};
        int64_t id = run_id;
        rc = slm_session_open(cfg, st, ps, &ro, "load", &id, &L.s, err, errlen);
        if (rc == SLM_RUN_OK) {
            slm_store_set_run_status(st, run_id, "running", NULL);
            rc = execute(&L, err, errlen);
        }
        slm_session_close(L.s);
    }
    slm_run_cfg_free(cfg);
    return rc;
}
