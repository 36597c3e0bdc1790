/*
 * drift_data.h — the inside of a computed drift review (slm_drift of drift.h), shared by
 * its computation (harness/metrics/drift.c) and its writers (reports/drift_report.c).
 * Nothing else includes it.
 */
#ifndef SLM_DRIFT_DATA_H
#define SLM_DRIFT_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "drift.h"
#include "drift_stats.h"
#include "fields.h"

#define MAXM SLM_DRIFT_MAX_METRICS
#define N_PHASES 5 /* e2e, prefill, decode, ttft, tpot (slm_drift_kind_of) */

enum { FLAG_NONE = 0, FLAG_BETTER = 1, FLAG_WORSE = -1, FLAG_CHANGED = 2 };

/* One test of the review: a metric of a series between two months, a class's recall, or
 * a label distribution. */
typedef struct dtest {
    int judged;        /* 1: tested, p is in the family; 0: not judged, see why */
    char *why;         /* owned; why not judged (NULL when judged) */
    slm_drift_diff d;  /* month b (this one) minus month a (the previous with data) */
    double p_adj;      /* Benjamini–Hochberg over every judged test of the review */
    uint64_t seed;     /* the bootstrap seed of this test (0 when no bootstrap) */
    int flag;          /* FLAG_* */
} dtest;

/* Where both the model file and the eval-set data changed since the previous month with
 * data: which change explains what. A re-score — a stored run of the old model on the new
 * eval set (preferred), or of the new model on the old set — splits each metric's change
 * (new − old) into a model effect and a data effect that add up to it:
 *   old model on the new set R:  data = R − old,  model = new − R;
 *   new model on the old set R:  model = R − old, data = new − R.
 * Without one, the change cannot be separated and `note` says which run would do it. */
enum { ATTR_NONE = 0, ATTR_OLD_MODEL_NEW_SET = 1, ATTR_NEW_MODEL_OLD_SET = 2 };
typedef struct attribution {
    int kind;              /* ATTR_* */
    int64_t run_id, cand_id; /* the re-score (kind != ATTR_NONE) */
    char *cand;            /* its candidate name (owned) */
    double rescore[MAXM], model[MAXM], data[MAXM]; /* NaN: no value or a latency metric */
    char *note;            /* owned; ATTR_NONE: why it cannot be separated, and how to */
} attribution;

/* One month of one series: the chosen run's candidate, its stored metrics, and its
 * predictions as the tests read them. */
typedef struct point {
    int present;
    int64_t run_id, cand_id, ref_id; /* ref_id: the latency reference's candidate, or 0 */
    char *created_at, *as_of, *model_sha, *es_version, *es_sha; /* as_of: NULL unless
                                                                 * run --as-of */
    double v[MAXM], lo[MAXM], hi[MAXM]; /* stored values and 95% intervals */
    dtest t[MAXM];     /* against month prev */
    int flag[MAXM];    /* t[k].flag, kept for the charts */
    int prev;          /* month index of the previous month with data, -1 if none */
    double p50, p95;   /* stored e2e latency, for the latency table whatever the metrics */
    double ratio95;    /* p95 of the per-example e2e latency / the reference's (NaN) */
    char *lat_why;     /* owned; why this month's latency cannot be judged (NULL: it can) */
    attribution *attr; /* owned; NULL unless model and eval set both changed since prev */
    /* the predictions */
    size_t n, nl, ncls;
    char **labels;     /* [nl] the run's label set */
    char **ids;        /* [n] */
    int *gold, *pred;  /* [n] */
    double *conf;      /* [n] NaN when none */
    double *lat[N_PHASES], *ref[N_PHASES]; /* [n] per phase; ref NULL without reference */
} point;

typedef struct series {
    char *model, *evalset;
    point *pt; /* [n_months] */
} series;

typedef struct es_month {
    int present;
    int64_t run_id;
    char *version, *sha;
} es_month;

typedef struct es_row {
    char *name;
    es_month *m; /* [n_months] */
} es_row;

/* A class's recall between two months of a series (tested like accuracy). */
typedef struct ctest {
    size_t s, from, to;
    char *label;
    dtest t;
} ctest;

typedef struct ldrift {
    char *evalset;
    size_t from, to;
    int64_t run_a, run_b;
    char *ver_a, *ver_b, *sha_a, *sha_b;
    size_t k;
    char **labels;
    long *ca, *cb, na, nb;
    slm_label_test lt; /* TVD, its value under no drift, the test */
    uint64_t seed;
    double p_adj;
    int flag;          /* FLAG_CHANGED or FLAG_NONE */
} ldrift;

struct slm_drift {
    char *db_path;
    int y0, m0;
    size_t nm;
    char (*month)[16];
    size_t nmet;
    const slm_field *met[MAXM];
    series *s;
    size_t ns;
    es_row *e;
    size_t ne;
    ctest *ct;
    size_t nct;
    ldrift *ld;
    size_t nld;
    size_t nflag, nruns;
    size_t ntests;     /* judged tests in the family */
    double alpha;
    int reps;
    uint64_t seed;
    char *ref;         /* --latency-reference, or NULL */
};

/* Two strings equal, NULL equal only to NULL (versions and hashes may be absent). */
static inline int slm_streq_null(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

#endif
