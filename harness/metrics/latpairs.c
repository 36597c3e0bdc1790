/* latpairs.c — see latpairs.h. */
#include "latpairs.h"
#include "latcmp.h"
#include "store_read.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int slm_cand_latencies(slm_store *st, int64_t cid, double **v, size_t *n)
{
    slm_pred *p;
    size_t np;
    if (slm_store_predictions(st, cid, &p, &np, NULL, 0))
        return -1;
    for (size_t i = 0; i < np; i++) {
        if (p[i].example_idx < 0)
            continue;
        size_t k = (size_t)p[i].example_idx;
        if (k >= *n) {
            *v = slm_xrealloc(*v, (k + 1) * sizeof **v);
            for (size_t j = *n; j <= k; j++)
                (*v)[j] = NAN;
            *n = k + 1;
        }
        (*v)[k] = p[i].pred ? p[i].e2e_ms : NAN;
    }
    slm_preds_free(p, np);
    return 0;
}

static int facts(slm_store *st, int64_t cid, slm_cand_facts *f)
{
    memset(f, 0, sizeof *f);
    return slm_store_cand_facts(st, cid, f, NULL, 0) == 0;
}

size_t slm_cand_turn(slm_store *st, int64_t cid)
{
    slm_cand_facts f;
    if (!facts(st, cid, &f) || !(f.interleave_turn > 0))
        return 0;
    return (size_t)f.interleave_turn;
}

int slm_cand_unquiet(slm_store *st, int64_t cid, const char *what, char *why, size_t n)
{
    slm_cand_facts f;
    if (!facts(st, cid, &f)) {
        snprintf(why, n, "%s: its conditions cannot be read", what);
        return 1;
    }
    if (!(f.cpus_online >= 1)) {
        snprintf(why, n, "%s: the number of CPUs is not recorded, its load cannot be checked",
                 what);
        return 1;
    }
    double load = fmax(isnan(f.load1_before) ? 0 : f.load1_before,
                       isnan(f.load1_after) ? 0 : f.load1_after);
    if (load > f.cpus_online)
        snprintf(why, n, "%s ran at load average %.2f, above the %.0f CPUs", what, load,
                 f.cpus_online);
    else if (f.steal_pct > SLM_STEAL_MAX_PCT)
        snprintf(why, n, "%s saw %.1f%% CPU steal, above %.0f%%", what, f.steal_pct,
                 SLM_STEAL_MAX_PCT);
    else if (f.noisy > 0)
        snprintf(why, n, "%s is flagged noisy (repeat CV above 10%%)", what);
    else
        return 0;
    return 1;
}

/* Whether a sequential run's latencies can be compared at all; note says why not. */
static int sequential_quiet(slm_store *st, const int64_t *cids, size_t n, char *note,
                            size_t notelen)
{
    char why[160];
    for (size_t i = 0; i < n; i++)
        if (slm_cand_unquiet(st, cids[i], "a candidate", why, sizeof why)) {
            if (note)
                snprintf(note, notelen, "The candidates ran one after another and %s, so "
                                        "their latencies were measured under different "
                                        "loads: no latency difference is judged (all are "
                                        "ties here); `interleave: true` makes them "
                                        "comparable.", why);
            return 0;
        }
    if (note)
        snprintf(note, notelen, "The candidates ran one after another on a quiet machine: a "
                                "candidate counts as faster when its p95 is lower and the "
                                "%.0f%% interval of its paired latency ratio lies below 1; "
                                "smaller differences are ties.", SLM_FASTER_LEVEL * 100);
    return 1;
}

unsigned char *slm_faster_matrix(slm_store *st, const int64_t *cids, const double *lat,
                                 size_t n, char *note, size_t notelen)
{
    unsigned char *f = slm_xcalloc(n ? n * n : 1, 1);
    if (note && notelen)
        note[0] = '\0';
    if (n < 2)
        return f; /* nothing to compare: no prediction read */
    size_t turn = slm_cand_turn(st, cids[0]);
    if (turn && note)
        snprintf(note, notelen, "The candidates took turns of %zu examples: a candidate "
                                "counts as faster when its p95 is lower and the %.0f%% "
                                "interval of its latency ratio, paired turn by turn, lies "
                                "below 1; smaller differences are ties.",
                 turn, SLM_FASTER_LEVEL * 100);
    if (!turn && !sequential_quiet(st, cids, n, note, notelen))
        return f;
    double **v = slm_xcalloc(n ? n : 1, sizeof *v);
    size_t *len = slm_xcalloc(n ? n : 1, sizeof *len);
    for (size_t i = 0; i < n; i++)
        if (slm_cand_latencies(st, cids[i], &v[i], &len[i]))
            len[i] = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) {
            if (i == j || !(lat[j] < lat[i]))
                continue;
            slm_lat_ratio q;
            slm_lat_ratio_paired(v[j], v[i], len[j] < len[i] ? len[j] : len[i],
                                 turn ? turn : 4, SLM_FASTER_LEVEL, &q);
            f[j * n + i] = q.hi < 1.0;
        }
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    free(len);
    return f;
}
