/* recommend.c — see recommend.h. */
#include "recommend.h"
#include "latpairs.h"
#include "mdfmt.h"
#include "pareto.h"
#include "config.h"
#include "store_read.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double metric(slm_store *st, int64_t cid, const char *name)
{
    return slm_store_metric(st, cid, name, NULL, NULL);
}

/* The recommendation: candidates on the accuracy–p95-latency Pareto front (pareto.h)
 * that meet the config's requirements; the pick is the most accurate of them (then the
 * fastest). "Faster" means measurably faster (latpairs.h): a latency difference within the
 * run's measured noise is a tie, so the pick does not flip with the machine's load. A
 * candidate whose status is not ok is never on the front, but its figures still dominate
 * others. */
typedef struct rec {
    size_t n;
    double min_acc, max_ece, max_p95; /* requirements, NaN when not set */
    double *acc, *p95, *ece;
    int *front, *meets;
    unsigned char *faster;            /* n * n: [j * n + i] j measurably faster than i */
    char note[512];                   /* how "faster" was decided */
    long pick;                        /* -1: none qualifies */
} rec;

static void rec_compute(slm_store *st, const slm_run_facts *r, rec *x)
{
    slm_run_cfg *cfg = NULL;
    x->min_acc = x->max_ece = x->max_p95 = NAN;
    if (slm_run_cfg_from_db(st, r->id, &cfg, NULL, 0) == 0) {
        x->min_acc = cfg->req_min_accuracy;
        x->max_ece = cfg->req_max_ece;
        x->max_p95 = cfg->req_max_p95_ms;
    }
    slm_run_cfg_free(cfg);
    size_t n = x->n = r->nc;
    x->acc = slm_xcalloc(n, sizeof *x->acc);
    x->p95 = slm_xcalloc(n, sizeof *x->p95);
    x->ece = slm_xcalloc(n, sizeof *x->ece);
    x->front = slm_xcalloc(n, sizeof *x->front);
    x->meets = slm_xcalloc(n, sizeof *x->meets);
    for (size_t i = 0; i < n; i++) {
        x->acc[i] = metric(st, r->c[i].id, "accuracy");
        x->p95[i] = metric(st, r->c[i].id, "e2e_ms_p95");
        x->ece[i] = metric(st, r->c[i].id, "ece_15");
    }
    int64_t *ids = slm_xcalloc(n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = r->c[i].id;
    x->faster = slm_faster_matrix(st, ids, x->p95, n, x->note, sizeof x->note);
    free(ids);
    slm_pareto_front(x->acc, x->p95, x->faster, n, x->front);
    x->pick = -1;
    for (size_t i = 0; i < n; i++) {
        int ok = !isnan(x->acc[i]) && !isnan(x->p95[i]) && r->c[i].status &&
                 !strcmp(r->c[i].status, "ok");
        x->front[i] = x->front[i] && ok;
        x->meets[i] = ok && !(x->acc[i] < x->min_acc) && !(x->ece[i] > x->max_ece) &&
                      !(x->p95[i] > x->max_p95);
    }
    for (size_t i = 0; i < n; i++) {
        long p = x->pick;
        if (x->front[i] && x->meets[i] &&
            (p < 0 || x->acc[i] > x->acc[p] ||
             (x->acc[i] == x->acc[p] && x->faster[i * n + (size_t)p])))
            x->pick = (long)i;
    }
}

static void rec_free(rec *x)
{
    free(x->acc), free(x->p95), free(x->ece), free(x->front), free(x->meets), free(x->faster);
}

/* The requirements line and the pick (or why there is none). */
static void rec_summary(const slm_run_facts *r, const rec *x, slm_buf *b)
{
    slm_buf_puts(b, "### Recommendation\n\nRequirements: ");
    int any_req = 0;
    if (!isnan(x->min_acc))
        slm_buf_printf(b, "%saccuracy ≥ %.1f%%", any_req++ ? ", " : "", x->min_acc * 100);
    if (!isnan(x->max_ece))
        slm_buf_printf(b, "%sECE ≤ %.3f", any_req++ ? ", " : "", x->max_ece);
    if (!isnan(x->max_p95))
        slm_buf_printf(b, "%sp95 latency ≤ %.1f ms", any_req++ ? ", " : "", x->max_p95);
    slm_buf_puts(b, any_req ? " (from the run config).\n\n"
                            : "none set (add `requirements:` to the run config).\n\n");
    if (x->pick < 0) {
        slm_buf_puts(b, "**No candidate qualifies**: none on the accuracy–latency front meets "
                        "the requirements.\n\n");
        return;
    }
    size_t p = (size_t)x->pick;
    slm_buf_puts(b, "**Pick `");
    slm_md_cell(b, r->c[p].name);
    slm_buf_puts(b, "`**: the most accurate candidate on the accuracy–latency front that "
                    "meets the requirements (accuracy ");
    slm_md_field_val(b, "accuracy", x->acc[p]);
    slm_buf_puts(b, ", p95 ");
    slm_md_field_val(b, "e2e_ms_p95", x->p95[p]);
    slm_buf_puts(b, " ms, ECE ");
    slm_md_field_val(b, "ece_15", x->ece[p]);
    slm_buf_puts(b, ").\n\n");
}

/* Why candidate i was not picked. */
static void rec_why_not(const slm_run_facts *r, const rec *x, size_t i, slm_buf *b)
{
    if ((long)i == x->pick) {
        slm_buf_puts(b, "picked");
    } else if (!x->front[i]) {
        for (size_t j = 0; j < x->n; j++)
            if (j != i && x->front[j] &&
                slm_pareto_dominates(x->acc, x->p95, x->faster, x->n, j, i)) {
                slm_buf_puts(b, "dominated by ");
                slm_md_cell(b, r->c[j].name);
                slm_buf_puts(b, x->faster[j * x->n + i]
                                    ? " (as accurate or more, and measurably faster)"
                                    : " (more accurate, and its latency no worse beyond "
                                      "the measured noise)");
                break;
            }
        if (isnan(x->acc[i]) || isnan(x->p95[i]))
            slm_buf_puts(b, "no results");
    } else if (!x->meets[i]) {
        int k = 0;
        if (x->acc[i] < x->min_acc)
            slm_buf_printf(b, "%saccuracy below %.1f%%", k++ ? "; " : "", x->min_acc * 100);
        if (x->ece[i] > x->max_ece)
            slm_buf_printf(b, "%sECE above %.3f", k++ ? "; " : "", x->max_ece);
        if (x->p95[i] > x->max_p95)
            slm_buf_printf(b, "%sp95 above %.1f ms", k++ ? "; " : "", x->max_p95);
    } else if (x->faster[i * x->n + (size_t)x->pick]) {
        slm_buf_puts(b, "less accurate than the pick, and measurably faster: consider it if "
                        "latency matters more");
    } else if (x->acc[i] < x->acc[x->pick]) {
        slm_buf_puts(b, "less accurate than the pick; its latency ties with the pick's "
                        "within the measured noise");
    } else {
        slm_buf_puts(b, "ties with the pick on accuracy, and on latency within the measured "
                        "noise (the pick comes first in the config)");
    }
}

void slm_recommend_md(slm_store *st, const slm_run_facts *r, slm_buf *b)
{
    if (!r->nc)
        return;
    rec x;
    rec_compute(st, r, &x);
    rec_summary(r, &x, b);
    slm_buf_puts(b, "| candidate | accuracy | p95 ms | ECE | on the front | meets requirements | "
                    "why not picked |\n|---|---:|---:|---:|---|---|---|\n");
    for (size_t i = 0; i < x.n; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, r->c[i].name);
        slm_buf_puts(b, " | ");
        slm_md_field_val(b, "accuracy", x.acc[i]);
        slm_buf_puts(b, " | ");
        slm_md_field_val(b, "e2e_ms_p95", x.p95[i]);
        slm_buf_puts(b, " | ");
        slm_md_field_val(b, "ece_15", x.ece[i]);
        slm_buf_printf(b, " | %s | %s | ", x.front[i] ? "yes" : "no", x.meets[i] ? "yes" : "no");
        rec_why_not(r, &x, i, b);
        slm_buf_puts(b, " |\n");
    }
    if (x.n > 1 && x.note[0])
        slm_buf_printf(b, "\n%s\n", x.note);
    slm_buf_puts(b, "\n");
    rec_free(&x);
}

