/* cmd_compare.c — `slmbench compare`: paired comparison of candidates on the same examples. */
#include "cli.h"
#include "opts.h"
#include "store_cli.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Pairs candidates on the examples both answered (matched by example id): McNemar's test\n"
    "(exact binomial when b+c < 25, else chi-square with continuity correction) and a paired\n"
    "bootstrap of the macro-F1 difference; with several pairs, Holm-corrected p-values.\n"
    "Without :CANDIDATE, candidates of the same name in both runs are paired. RUN is a run\n"
    "id, a tag, a run name or 'last'. Runs on different data (eval set hash) are refused\n"
    "unless --allow-different.\n";

typedef struct side {
    int64_t run;
    char *cand; /* NULL: all */
} side;

static int parse_side(slm_store *st, const char *arg, side *s, char *err, size_t errlen)
{
    const char *colon = strrchr(arg, ':');
    char *run = colon ? slm_xstrndup(arg, (size_t)(colon - arg)) : slm_xstrdup(arg);
    s->cand = colon && colon[1] ? slm_xstrdup(colon + 1) : NULL;
    int rc = slm_store_resolve_run(st, run, &s->run, err, errlen);
    free(run);
    return rc;
}

static int64_t cand_id(slm_store *st, int64_t run, const char *name)
{
    int64_t id;
    return slm_store_candidate_id(st, run, name, &id, NULL, 0) == 0 ? id : -1;
}

/* The candidate pairs to compare, with their names "RUN:NAME" two per pair. */
typedef struct pairing {
    int64_t (*ids)[2];
    char **names;
    size_t n;
} pairing;

static void pairing_add(pairing *p, int64_t run_a, int64_t ia, const char *na, int64_t run_b,
                        int64_t ib, const char *nb)
{
    p->ids = slm_xrealloc(p->ids, (p->n + 1) * sizeof *p->ids);
    p->names = slm_xrealloc(p->names, (2 * p->n + 2) * sizeof *p->names);
    p->ids[p->n][0] = ia;
    p->ids[p->n][1] = ib;
    p->names[2 * p->n] = slm_xasprintf("%lld:%s", (long long)run_a, na);
    p->names[2 * p->n + 1] = slm_xasprintf("%lld:%s", (long long)run_b, nb);
    p->n++;
}

static void pairing_free(pairing *p)
{
    for (size_t i = 0; i < 2 * p->n; i++)
        free(p->names[i]);
    free(p->names);
    free(p->ids);
}

/* Pairs the sides: the named candidates, or every name both runs have. Returns an exit
 * code (message printed), SLM_EXIT_OK when p holds at least one pair. */
static int pair_sides(const slm_cmd *cmd, slm_store *st, const side *a, const side *b,
                      pairing *p)
{
    char err[SLM_ERRLEN];
    if (a->cand || b->cand) {
        const char *na = a->cand ? a->cand : b->cand, *nb = b->cand ? b->cand : a->cand;
        int64_t ia = cand_id(st, a->run, na), ib = cand_id(st, b->run, nb);
        if (ia < 0 || ib < 0)
            return slm_die(SLM_EXIT_BAD_INPUT, "no candidate '%s' in run %lld",
                           ia < 0 ? na : nb, (long long)(ia < 0 ? a->run : b->run));
        pairing_add(p, a->run, ia, na, b->run, ib, nb);
        return SLM_EXIT_OK;
    }
    if (a->run == b->run)
        return slm_opts_usage_error(cmd, "comparing a run with itself needs RUN:CANDIDATE on "
                                         "both sides");
    slm_cand *c;
    size_t n;
    if (slm_store_candidates(st, a->run, &c, &n, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    for (size_t i = 0; i < n; i++) {
        int64_t ib = cand_id(st, b->run, c[i].name);
        if (ib >= 0)
            pairing_add(p, a->run, c[i].id, c[i].name, b->run, ib, c[i].name);
    }
    slm_cands_free(c, n);
    if (!p->n)
        return slm_die(SLM_EXIT_BAD_INPUT, "runs %lld and %lld have no candidate names in common",
                       (long long)a->run, (long long)b->run);
    return SLM_EXIT_OK;
}

/* The results of every pair, with Holm-corrected p-values over the pairs. */
typedef struct results {
    slm_paired *pr;
    double *hm, *hf; /* Holm p of McNemar and of the bootstrap */
    long reps, seed;
} results;

static void print_json(const pairing *p, const results *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const slm_paired *x = &r->pr[i];
        json_t *o = json_object();
#define JN(k, v) json_object_set_new(o, k, isnan(v) ? json_null() : json_real(v))
        json_object_set_new(o, "a", json_string(p->names[2 * i]));
        json_object_set_new(o, "b", json_string(p->names[2 * i + 1]));
        json_object_set_new(o, "n", json_integer((json_int_t)x->n));
        json_object_set_new(o, "only_a_right", json_integer(x->b));
        json_object_set_new(o, "only_b_right", json_integer(x->c));
        JN("accuracy_a", x->acc_a);
        JN("accuracy_b", x->acc_b);
        JN("accuracy_diff", x->acc_diff);
        JN("mcnemar_p", x->mcnemar_p);
        json_object_set_new(o, "mcnemar_exact", json_boolean(x->mcnemar_exact));
        JN("mcnemar_p_holm", r->hm[i]);
        JN("macro_f1_a", x->f1_a);
        JN("macro_f1_b", x->f1_b);
        JN("macro_f1_diff", x->f1_diff);
        JN("macro_f1_diff_lo", x->f1_lo);
        JN("macro_f1_diff_hi", x->f1_hi);
        JN("macro_f1_p", x->f1_p);
        JN("macro_f1_p_holm", r->hf[i]);
#undef JN
        json_object_set_new(o, "bootstrap_reps", json_integer(r->reps));
        json_object_set_new(o, "bootstrap_seed", json_integer(r->seed));
        json_array_append_new(arr, o);
    }
    slm_buf js = {0};
    slm_json_emit(&js, arr, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    fputs(js.data ? js.data : "", stdout);
    slm_buf_free(&js);
    json_decref(arr);
}

static void print_table(const pairing *p, const results *r)
{
    printf("| A | B | n | accuracy A | accuracy B | Δ | b (only A right) | c (only B right) "
           "| McNemar p | Holm p | macro-F1 A | macro-F1 B | Δ macro-F1 [95%% CI] | "
           "bootstrap p | Holm p | significant |\n"
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < p->n; i++) {
        const slm_paired *x = &r->pr[i];
        printf("| %s | %s | %zu | %.1f%% | %.1f%% | %+.1f pt | %ld | %ld | %.4g%s | %.4g | "
               "%.1f%% | %.1f%% | %+.1f pt [%+.1f, %+.1f] | %.4g | %.4g | %s |\n",
               p->names[2 * i], p->names[2 * i + 1], x->n, x->acc_a * 100, x->acc_b * 100,
               x->acc_diff * 100, x->b, x->c, x->mcnemar_p,
               x->mcnemar_exact ? " (exact)" : " (χ²)", r->hm[i], x->f1_a * 100,
               x->f1_b * 100, x->f1_diff * 100, x->f1_lo * 100, x->f1_hi * 100, x->f1_p,
               r->hf[i], (r->hm[i] < 0.05 || r->hf[i] < 0.05) ? "yes" : "no");
    }
    printf("\nbootstrap: %ld replicates, seed %ld; significant: a Holm p below 0.05\n", r->reps,
           r->seed);
}

/* Compares every pair and prints the results. Returns an exit code. */
static int compare_pairs(slm_store *st, const pairing *p, char **labels, size_t nl,
                         results *r, int as_json)
{
    char err[SLM_ERRLEN];
    int rc = SLM_EXIT_OK;
    r->pr = slm_xcalloc(p->n, sizeof *r->pr);
    r->hm = slm_xcalloc(p->n, sizeof *r->hm);
    r->hf = slm_xcalloc(p->n, sizeof *r->hf);
    double *pm = slm_xcalloc(p->n, sizeof *pm), *pf = slm_xcalloc(p->n, sizeof *pf);
    for (size_t i = 0; i < p->n; i++) {
        if (slm_paired_compare(st, p->ids[i][0], p->ids[i][1], (const char *const *)labels, nl,
                               (int)r->reps, (uint64_t)r->seed, &r->pr[i], err, sizeof err)) {
            rc = slm_die(SLM_EXIT_BAD_INPUT, "%s vs %s: %s", p->names[2 * i],
                         p->names[2 * i + 1], err);
            break;
        }
        pm[i] = r->pr[i].mcnemar_p;
        pf[i] = isnan(r->pr[i].f1_p) ? 1.0 : r->pr[i].f1_p;
    }
    if (rc == SLM_EXIT_OK) {
        slm_holm(pm, p->n, r->hm);
        slm_holm(pf, p->n, r->hf);
        if (as_json)
            print_json(p, r);
        else
            print_table(p, r);
    }
    free(pm);
    free(pf);
    free(r->pr);
    free(r->hm);
    free(r->hf);
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    const char *db = "slmbench.db", *pos[2] = {0};
    int as_json = 0, allow = 0;
    results r = {.reps = 1000, .seed = 1};
    slm_opt opts[] = {
        SLM_OPT_DB(&db),
        SLM_OPT_JSON(&as_json),
        {.name = "reps", .arg = "N", .kind = SLM_OPT_LONG, .target = &r.reps,
         .needs = "a non-negative integer", .min = 0,
         .help = "bootstrap replicates (default 1000)"},
        {.name = "seed", .arg = "S", .kind = SLM_OPT_LONG, .target = &r.seed,
         .needs = "an integer", .min = LONG_MIN,
         .help = "bootstrap seed (default 1)"},
        {.name = "allow-different", .kind = SLM_OPT_FLAG, .target = &allow,
         .help = "pair runs evaluated on different data by example id"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "compare",
        .synopsis = "compare RUN_A[:CANDIDATE] RUN_B[:CANDIDATE]",
        .about = ABOUT,
        .opts = opts,
        .max_pos = 2,
    };
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, pos, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    if (np != 2)
        return slm_opts_usage_error(&cmd, "compare needs two runs");
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    side a = {0}, b = {0};
    char **labels = NULL;
    size_t nl = 0;
    pairing p = {0};
    rc = SLM_EXIT_OK;
    if (parse_side(st, pos[0], &a, err, sizeof err) ||
        parse_side(st, pos[1], &b, err, sizeof err) ||
        slm_run_labels(st, a.run, &labels, &nl, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        goto out;
    }
    char *sa = slm_store_run_data_sha(st, a.run), *sb = slm_store_run_data_sha(st, b.run);
    int same = sa && sb && !strcmp(sa, sb);
    free(sa);
    free(sb);
    if (!same && !allow) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "runs %lld and %lld were evaluated on different data "
                     "(eval set hash); pass --allow-different to pair them by example id anyway",
                     (long long)a.run, (long long)b.run);
        goto out;
    }
    rc = pair_sides(&cmd, st, &a, &b, &p);
    if (rc == SLM_EXIT_OK)
        rc = compare_pairs(st, &p, labels, nl, &r, as_json);
out:
    pairing_free(&p);
    free(a.cand);
    free(b.cand);
    slm_free_strv(labels, nl);
    slm_store_close(st);
    return rc;
}
