/* loadstats.c — see loadstats.h; the definitions are written out in docs/loadstats.md. */
#include "loadstats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* The tail each side of a 95% interval. */
#define TAIL 0.025

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* ---- a percentile with its bootstrap interval ---------------------------------------- */

/* One bootstrap replicate's percentile without sorting it: the resample's indices point
 * into the ascending values, so counting them (count[], n entries) gives the resample's
 * order statistics in O(n). */
typedef struct pct_ud {
    const double *sorted;
    double p;
    unsigned *count;
} pct_ud;

/* The value at 0-based rank k of the resample whose index counts are count[0..n). */
static size_t rank_index(const unsigned *count, size_t n, size_t k, size_t *from, size_t *cum)
{
    size_t j = *from, c = *cum;
    while (j < n && c + count[j] <= k)
        c += count[j++];
    *from = j;
    *cum = c;
    return j < n ? j : n - 1;
}

static double pct_of_resample(const size_t *idx, size_t n, void *ud)
{
    pct_ud *u = ud;
    memset(u->count, 0, n * sizeof *u->count);
    for (size_t i = 0; i < n; i++)
        u->count[idx[i]]++;
    /* as slm_percentile_sorted(): rank r = p/100 (n-1), numpy's rounding of the blend */
    double r = u->p / 100.0 * (double)(n - 1), t = r - floor(r);
    size_t k = (size_t)floor(r), from = 0, cum = 0;
    double a = u->sorted[rank_index(u->count, n, k, &from, &cum)];
    double b = k + 1 < n ? u->sorted[rank_index(u->count, n, k + 1, &from, &cum)] : a;
    return t < 0.5 ? a + (b - a) * t : b - (b - a) * (1.0 - t);
}

int slm_load_percentile_ci(const double *x, size_t n, double p, int reps, uint64_t seed,
                           slm_pct_ci *out)
{
    out->value = out->lo = out->hi = NAN;
    out->n = 0;
    if ((n > 0 && !x) || !(p >= 0 && p <= 100) || reps < 1)
        return -1;
    double *v = malloc((n ? n : 1) * sizeof *v);
    unsigned *count = malloc((n ? n : 1) * sizeof *count);
    if (!v || !count) {
        free(v);
        free(count);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[m++] = x[i];
    qsort(v, m, sizeof *v, cmp_double);
    out->n = (long)m;
    int rc = 0;
    if (m > 0) {
        out->value = slm_percentile_sorted(v, m, p);
        pct_ud u = {v, p, count};
        rc = slm_bootstrap_ci(m, pct_of_resample, &u, reps, seed, 0.95, &out->lo, &out->hi,
                              NULL);
        /* the interval's rule (loadstats.h): a bound no order statistic of the sample
         * could give at 95% is undefined, whatever the resamples say */
        double q = p / 100.0;
        if (pow(q, (double)m) > TAIL)
            out->hi = NAN;
        if (pow(1.0 - q, (double)m) > TAIL)
            out->lo = NAN;
    }
    free(v);
    free(count);
    return rc;
}

/* ---- one level ----------------------------------------------------------------------- */

static int is_measured_sent(const slm_load_req *q)
{
    return q->phase == SLM_LOAD_MEASURE && q->status != SLM_LOAD_UNSENT;
}

/* 1 the request meets every per-request limit of slo. A limit on TPOT/ITL is met by a
 * request with under 2 tokens (no gap to exceed); an unknown TTFT (not streamed) under a
 * TTFT limit is not (it cannot be shown to meet it); a failed request never is. */
static int meets_every_limit(const slm_load_req *q, const slm_slo *slo)
{
    if (q->status != SLM_LOAD_OK)
        return 0;
    if (!isnan(slo->ttft_ms) && !(q->ttft_ms <= slo->ttft_ms))
        return 0;
    if (!isnan(slo->itl_ms) && q->itl_mean_ms > slo->itl_ms)
        return 0;
    if (!isnan(slo->tpot_ms) && q->tpot_ms > slo->tpot_ms)
        return 0;
    if (!isnan(slo->e2e_ms) && !(q->e2e_ms <= slo->e2e_ms))
        return 0;
    return 1;
}

static double ratio(double num, double den)
{
    return den > 0 ? num / den : NAN;
}

/*
 * The seconds the measured requests' rates are per. A closed loop: the measured window
 * (its requests are measured by when they were sent). An open loop (the measured requests
 * were due at scheduled times) of k >= 2 sent requests: the span of their send times
 * times k/(k - 1), so the achieved rate is (k - 1)/span — the rate they really left at,
 * as slm_load_saturated() measures it. Counted over the window, a level whose requests
 * wait behind the in-flight cap would show the offered rate however late they left.
 */
static double level_secs(const slm_load_req *r, size_t n, double window_ms)
{
    double lo = INFINITY, hi = -INFINITY;
    long k = 0;
    int open = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_measured_sent(&r[i]))
            continue;
        open |= isfinite(r[i].scheduled_ms);
        lo = fmin(lo, r[i].sent_ms);
        hi = fmax(hi, r[i].sent_ms);
        k++;
    }
    if (open && k >= 2 && hi > lo)
        return (hi - lo) / 1000.0 * (double)k / (double)(k - 1);
    return window_ms > 0 && isfinite(window_ms) ? window_ms / 1000.0 : NAN;
}

/* Counts and rates of the measured requests (everything but the percentiles). */
static void level_counts(const slm_load_req *r, size_t n, double window_ms, const slm_slo *slo,
                         slm_load_level_stats *o)
{
    long good = 0, scored = 0, right = 0, judged = 0, invalid = 0;
    double tokens = 0;
    for (size_t i = 0; i < n; i++) {
        const slm_load_req *q = &r[i];
        if (!is_measured_sent(q))
            continue;
        o->n_measured++;
        o->n_errors += q->status == SLM_LOAD_ERROR;
        o->n_timeouts += q->status == SLM_LOAD_TIMEOUT;
        good += meets_every_limit(q, slo);
        if (q->status != SLM_LOAD_OK)
            continue;
        o->n_answered++;
        tokens += q->n_output_tokens > 0 ? q->n_output_tokens : 0;
        scored += q->correct >= 0;
        right += q->correct == 1;
        judged += q->valid >= 0;
        invalid += q->valid == 0;
    }
    double secs = level_secs(r, n, window_ms);
    o->achieved_rps = ratio((double)o->n_measured, secs);
    o->throughput_rps = ratio((double)o->n_answered, secs);
    o->output_tok_s = ratio(tokens, secs);
    o->goodput_rps = ratio((double)good, secs);
    o->goodput_share = ratio((double)good, (double)o->n_measured);
    o->error_rate = ratio((double)o->n_errors, (double)o->n_measured);
    o->timeout_rate = ratio((double)o->n_timeouts, (double)o->n_measured);
    o->accuracy = ratio((double)right, (double)scored);
    o->invalid_rate = ratio((double)invalid, (double)judged);
}

/* Which field of a request a percentile is taken of. */
enum { M_TTFT, M_ITL, M_TPOT, M_E2E, M_SEND_ERR };

static double req_metric(const slm_load_req *q, int which)
{
    switch (which) {
    case M_TTFT: return q->ttft_ms;
    case M_ITL: return q->itl_mean_ms;
    case M_TPOT: return q->tpot_ms;
    case M_E2E: return q->e2e_ms;
    default: return q->sent_ms - q->scheduled_ms;
    }
}

/* Percentiles p50, p90 and the SLO's of one metric over the answered measured requests
 * (the send-time error: over every measured sent one). Returns 0, -1 on memory. */
static int metric_pcts(const slm_load_req *r, size_t n, int which, const double pct[3],
                       int reps, uint64_t seed, double *buf, slm_pct_ci out[3])
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (is_measured_sent(&r[i]) && (which == M_SEND_ERR || r[i].status == SLM_LOAD_OK))
            buf[m++] = req_metric(&r[i], which);
    int rc = 0;
    for (int k = 0; k < 3; k++)
        rc |= slm_load_percentile_ci(buf, m, pct[k], reps,
                                     seed + 0x9E3779B97F4A7C15ull * (uint64_t)(4 * which + k + 1),
                                     &out[k]);
    return rc;
}

/* meets_slo and the two sure judgements from the SLO percentile (index 2). */
static void judge_slo(const slm_slo *slo, slm_load_level_stats *o)
{
    const double lim[4] = {slo->ttft_ms, slo->itl_ms, slo->tpot_ms, slo->e2e_ms};
    const slm_pct_ci *pc[4] = {&o->ttft[2], &o->itl[2], &o->tpot[2], &o->e2e[2]};
    int any = 0, met = 1, sure_met = 1, sure_fail = 0;
    for (int k = 0; k < 4; k++) {
        if (isnan(lim[k]))
            continue;
        any = 1;
        /* a gap metric no answered request defines (one-token answers) is met; a TTFT
         * or E2E none measured (not streamed) cannot be shown to be, as per request */
        if (pc[k]->n == 0) {
            if (k == 0 || k == 3)
                met = sure_met = 0;
            continue;
        }
        met &= pc[k]->value <= lim[k];
        sure_met &= pc[k]->hi <= lim[k];
        sure_fail |= pc[k]->lo > lim[k];
    }
    double allowed = 1.0 - slo->percentile / 100.0;
    double failed = ratio((double)(o->n_errors + o->n_timeouts), (double)o->n_measured);
    if (failed > allowed) {
        met = sure_met = 0;
        sure_fail = 1;
    }
    if (!any || o->n_answered == 0) {
        o->meets_slo = o->meets_slo_surely = o->fails_slo_surely = -1;
        return;
    }
    o->meets_slo = met;
    o->meets_slo_surely = sure_met;
    o->fails_slo_surely = sure_fail;
}

static void stats_clear(slm_load_level_stats *o, double offered_rps)
{
    memset(o, 0, sizeof *o);
    o->offered_rps = offered_rps;
    double *nan_fields[] = {&o->achieved_rps, &o->throughput_rps, &o->output_tok_s,
                            &o->goodput_rps, &o->goodput_share, &o->send_err_p50_ms,
                            &o->send_err_p99_ms, &o->error_rate, &o->timeout_rate,
                            &o->accuracy, &o->invalid_rate};
    for (size_t i = 0; i < sizeof nan_fields / sizeof *nan_fields; i++)
        *nan_fields[i] = NAN;
    slm_pct_ci none = {NAN, NAN, NAN, 0};
    for (int k = 0; k < 3; k++)
        o->ttft[k] = o->itl[k] = o->tpot[k] = o->e2e[k] = none;
    o->meets_slo = o->meets_slo_surely = o->fails_slo_surely = o->saturated = -1;
}

int slm_load_level_summarise(const slm_load_req *r, size_t n, double window_ms,
                             double offered_rps, const slm_slo *slo, int reps, uint64_t seed,
                             slm_load_level_stats *out)
{
    stats_clear(out, offered_rps);
    if ((n > 0 && !r) || !slo || reps < 1 || !(slo->percentile > 0 && slo->percentile < 100))
        return -1;
    level_counts(r, n, window_ms, slo, out);
    double *buf = malloc((n ? n : 1) * sizeof *buf);
    if (!buf)
        return -1;
    const double pct[3] = {50.0, 90.0, slo->percentile};
    slm_pct_ci *dst[4] = {out->ttft, out->itl, out->tpot, out->e2e};
    int rc = 0;
    for (int w = M_TTFT; w <= M_E2E; w++)
        rc |= metric_pcts(r, n, w, pct, reps, seed, buf, dst[w]);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (is_measured_sent(&r[i]))
            buf[m++] = req_metric(&r[i], M_SEND_ERR);
    out->send_err_p50_ms = slm_percentile(buf, m, 50.0);
    out->send_err_p99_ms = slm_percentile(buf, m, 99.0);
    free(buf);
    judge_slo(slo, out);
    out->saturated = slm_load_saturated(r, n, offered_rps, SLM_LOAD_SAT_RATIO, NULL, 0);
    return rc ? -1 : 0;
}

/* ---- saturation ---------------------------------------------------------------------- */

/* t quantile t_{0.975, df} (two-sided 95%): a table to df 30, then the Cornish-Fisher
 * expansion in 1/df (Abramowitz and Stegun 26.7.5; under 1e-4 off from df 30 on). */
static double t975(long df)
{
    static const double tab[31] = {
        NAN,    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622,
        2.2281, 2.2010,  2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930,
        2.0860, 2.0796,  2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452,
        2.0423};
    if (df < 1)
        return NAN;
    if (df <= 30)
        return tab[df];
    double z = 1.959963984540054, d = (double)df, z3 = z * z * z, z5 = z3 * z * z;
    return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d);
}

/* Least-squares slope of y on x over k >= 3 points (in the order of x), its lower 95%
 * bound and its growth over the span of x. A queue's latencies are autocorrelated (a busy
 * moment delays the requests after it too), which makes the textbook standard error far
 * too small; it is widened by the AR(1) factor sqrt((1 + rho)/(1 - rho)), rho the lag-1
 * autocorrelation of the residuals (taken as 0 when negative, at most 0.99). Returns 0,
 * -1 when x has no spread. */
static int slope_test(const double *x, const double *y, size_t k, double *slope, double *lb,
                      double *growth)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < k; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)k;
    my /= (double)k;
    double sxx = 0, sxy = 0;
    for (size_t i = 0; i < k; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    if (!(sxx > 0))
        return -1;
    double b = sxy / sxx, a = my - b * mx, rss = 0, lag = 0, prev = 0;
    for (size_t i = 0; i < k; i++) {
        double e = y[i] - (a + b * x[i]);
        rss += e * e;
        lag += i ? e * prev : 0;
        prev = e;
    }
    double rho = rss > 0 ? fmin(fmax(lag / rss, 0.0), 0.99) : 0;
    double se = sqrt(rss / (double)(k - 2) / sxx * (1 + rho) / (1 - rho));
    *slope = b;
    *lb = b - t975((long)k - 2) * se;
    *growth = b * (x[k - 1] - x[0]);
    return 0;
}

typedef struct xy {
    double x, y;
} xy;

static int cmp_xy(const void *p, const void *q)
{
    double a = ((const xy *)p)->x, b = ((const xy *)q)->x;
    return (a > b) - (a < b);
}

/* The regression test of a growing queue on (x, y)[0..k): 1 growing (why written), 0 not. */
static int queue_grows(const double *x, const double *y, size_t k, const char *what, char *why,
                       size_t whylen)
{
    if (k < SLM_LOAD_SAT_MIN_N)
        return 0;
    xy *p = malloc(k * sizeof *p);
    double *sx = malloc(2 * k * sizeof *sx), b, lb, g;
    int ok = p && sx;
    if (ok) {
        for (size_t i = 0; i < k; i++)
            p[i] = (xy){x[i], y[i]};
        qsort(p, k, sizeof *p, cmp_xy); /* in scheduled order, for the autocorrelation */
        for (size_t i = 0; i < k; i++)
            sx[i] = p[i].x, sx[k + i] = p[i].y;
        ok = slope_test(sx, sx + k, k, &b, &lb, &g) == 0;
    }
    free(p);
    free(sx);
    if (!ok || !(lb > 0 && g > SLM_LOAD_SAT_GROWTH_MS))
        return 0;
    if (why && whylen)
        snprintf(why, whylen,
                 "%s grows %.0f ms over the level (slope %.4g ms/ms, lower 95%% bound %.4g)",
                 what, g, b, lb);
    return 1;
}

/* The measured sent requests with a schedule: scheduled, sent and lateness. Returns how
 * many. */
static size_t sat_points(const slm_load_req *r, size_t n, double *xs, double *late,
                         double *sent)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const slm_load_req *q = &r[i];
        if (!is_measured_sent(q) || !isfinite(q->scheduled_ms) || !isfinite(q->sent_ms))
            continue;
        xs[k] = q->scheduled_ms;
        sent[k] = q->sent_ms;
        late[k++] = q->sent_ms - q->scheduled_ms;
    }
    return k;
}

/* The server's queue as the answered requests see it: (scheduled, TTFT) pairs — a queue's
 * wait is in the TTFT, without the output length's spread — or (scheduled, E2E) where
 * fewer than SLM_LOAD_SAT_MIN_N have a TTFT (not streamed). Returns how many; *what says
 * which. */
static size_t server_points(const slm_load_req *r, size_t n, double *x, double *y,
                            const char **what)
{
    for (int pass = 0; pass < 2; pass++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            const slm_load_req *q = &r[i];
            double v = pass == 0 ? q->ttft_ms : q->e2e_ms;
            if (is_measured_sent(q) && q->status == SLM_LOAD_OK && isfinite(q->scheduled_ms) &&
                isfinite(v)) {
                x[k] = q->scheduled_ms;
                y[k++] = v;
            }
        }
        *what = pass == 0 ? "time to first token" : "end-to-end latency";
        if (k >= SLM_LOAD_SAT_MIN_N || pass == 1)
            return k;
    }
    return 0;
}

static double span(const double *v, size_t k)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < k; i++) {
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    return hi - lo;
}

int slm_load_saturated(const slm_load_req *r, size_t n, double offered_rps, double min_ratio,
                       char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if ((n > 0 && !r) || !(min_ratio > 0 && min_ratio <= 1))
        return -1;
    double *buf = malloc(5 * (n ? n : 1) * sizeof *buf);
    if (!buf)
        return -1;
    double *xs = buf, *late = buf + n, *sent = buf + 2 * n, *xe = buf + 3 * n, *ye = buf + 4 * n;
    const char *srv;
    size_t k = sat_points(r, n, xs, late, sent), ke = server_points(r, n, xe, ye, &srv);
    int sat = -1;
    if (k >= SLM_LOAD_SAT_MIN_N) {
        double s_sched = span(xs, k), s_sent = span(sent, k);
        double offered = s_sched > 0 ? (double)(k - 1) / s_sched * 1000.0 : offered_rps;
        double achieved = s_sent > 0 ? (double)(k - 1) / s_sent * 1000.0 : NAN;
        double q = achieved / offered;
        sat = 0;
        if (q < min_ratio) {
            sat = 1;
            if (why && whylen)
                snprintf(why, whylen, "achieved %.4g/s is %.3f of the offered %.4g/s (< %.2f)",
                         achieved, q, offered, min_ratio);
        } else if (queue_grows(xs, late, k, "send lateness", why, whylen) ||
                   queue_grows(xe, ye, ke, srv, why, whylen)) {
            sat = 1;
        }
    }
    free(buf);
    return sat;
}

/* ---- across a sweep ------------------------------------------------------------------ */

int slm_load_best_rate(const slm_load_level_stats *lv, size_t n, slm_load_best *out)
{
    if (!out)
        return -1;
    out->rate = out->lo = out->hi = NAN;
    out->level = (size_t)-1;
    if (n > 0 && !lv)
        return -1;
    for (size_t i = 0; i < n; i++) {
        double r = lv[i].offered_rps;
        if (isfinite(r) && lv[i].meets_slo == 1 && lv[i].saturated != 1 &&
            !(r <= out->rate)) {
            out->rate = r;
            out->level = i;
        }
    }
    for (size_t i = 0; i < n; i++) {
        double r = lv[i].offered_rps;
        if (!isfinite(r))
            continue;
        int sure_met = lv[i].meets_slo_surely == 1 && lv[i].saturated != 1;
        int sure_fail = lv[i].fails_slo_surely == 1 || lv[i].saturated == 1;
        if (sure_met && r <= out->rate && !(r <= out->lo))
            out->lo = r;
        /* above the best rate (or anywhere, when no rate meets the SLO) */
        if (sure_fail && !(r <= out->rate) && !(r >= out->hi))
            out->hi = r;
    }
    return 0;
}
