/* cmd_compare.c — `slmbench compare`: paired comparison of candidates on the same examples. */
#include "cli.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: slmbench compare RUN_A[:CANDIDATE] RUN_B[:CANDIDATE] [--db FILE] [--json]\n"
    "                        [--reps N] [--seed S] [--allow-different]\n"
    "\n"
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
    sqlite3_stmt *s;
    int64_t id = -1;
    if (slm_store_prepare(st, "SELECT id FROM candidates WHERE run_id = ? AND name = ?", &s, NULL,
                          0))
        return -1;
    sqlite3_bind_int64(s, 1, run);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return id;
}

static char *data_sha(slm_store *st, int64_t run)
{
    sqlite3_stmt *s;
    char *r = NULL;
    if (slm_store_prepare(st, "SELECT sha256 FROM evalsets WHERE run_id = ?", &s, NULL, 0))
        return NULL;
    sqlite3_bind_int64(s, 1, run);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        r = slm_xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return r;
}

int cmd_compare(int argc, char **argv)
{
    const char *db = "slmbench.db", *pos[2] = {0};
    int np = 0, as_json = 0, allow = 0;
    long reps = 1000, seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (slm_is_help(argv[i])) {
            fputs(USAGE, stdout);
            return SLM_EXIT_OK;
        } else if ((r = slm_opt_value(argc, argv, &i, "db", &v)) != 0) {
            if (r < 0)
                return slm_usage_error(USAGE, "option '--db' needs a file");
            db = v;
        } else if ((r = slm_opt_value(argc, argv, &i, "reps", &v)) != 0) {
            if (r < 0 || slm_parse_long(v, &reps) || reps < 0)
                return slm_usage_error(USAGE, "option '--reps' needs a non-negative integer");
        } else if ((r = slm_opt_value(argc, argv, &i, "seed", &v)) != 0) {
            if (r < 0 || slm_parse_long(v, &seed))
                return slm_usage_error(USAGE, "option '--seed' needs an integer");
        } else if (slm_opt_flag(argv[i], "json"))
            as_json = 1;
        else if (slm_opt_flag(argv[i], "allow-different"))
            allow = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return slm_usage_error(USAGE, "unknown option '%s'", argv[i]);
        else if (np < 2)
            pos[np++] = argv[i];
        else
            return slm_usage_error(USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (np != 2)
        return slm_usage_error(USAGE, "compare needs two runs");
    char err[SLM_ERRLEN];
    slm_store *st;
    if (slm_store_open(db, 0, &st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    side a = {0}, b = {0};
    int rc = SLM_EXIT_OK;
    char **labels = NULL;
    size_t nl = 0;
    int64_t (*pairs)[2] = NULL;
    char **names = NULL;
    size_t npairs = 0;
    if (parse_side(st, pos[0], &a, err, sizeof err) || parse_side(st, pos[1], &b, err, sizeof err) ||
        slm_run_labels(st, a.run, &labels, &nl, err, sizeof err)) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
        goto out;
    }
    char *sa = data_sha(st, a.run), *sb = data_sha(st, b.run);
    int same = sa && sb && !strcmp(sa, sb);
    free(sa);
    free(sb);
    if (!same && !allow) {
        rc = slm_die(SLM_EXIT_BAD_INPUT, "runs %lld and %lld were evaluated on different data (eval "
                     "set hash); pass --allow-different to pair them by example id anyway",
                     (long long)a.run, (long long)b.run);
        goto out;
    }
    if (a.cand || b.cand) {
        const char *na = a.cand ? a.cand : b.cand, *nb = b.cand ? b.cand : a.cand;
        int64_t ia = cand_id(st, a.run, na), ib = cand_id(st, b.run, nb);
        if (ia < 0 || ib < 0) {
            rc = slm_die(SLM_EXIT_BAD_INPUT, "no candidate '%s' in run %lld",
                         ia < 0 ? na : nb, (long long)(ia < 0 ? a.run : b.run));
            goto out;
        }
        pairs = slm_xcalloc(1, sizeof *pairs);
        names = slm_xcalloc(2, sizeof *names);
        pairs[0][0] = ia;
        pairs[0][1] = ib;
        names[0] = slm_xasprintf("%lld:%s", (long long)a.run, na);
        names[1] = slm_xasprintf("%lld:%s", (long long)b.run, nb);
        npairs = 1;
    } else {
        if (a.run == b.run) {
            rc = slm_usage_error(USAGE, "comparing a run with itself needs RUN:CANDIDATE on both sides");
            goto out;
        }
        sqlite3_stmt *s;
        if (slm_store_prepare(st, "SELECT id, name FROM candidates WHERE run_id = ? ORDER BY idx", &s,
                              err, sizeof err)) {
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
            goto out;
        }
        sqlite3_bind_int64(s, 1, a.run);
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *nm = (const char *)sqlite3_column_text(s, 1);
            int64_t ib = cand_id(st, b.run, nm);
            if (ib < 0)
                continue;
            pairs = slm_xrealloc(pairs, (npairs + 1) * sizeof *pairs);
            names = slm_xrealloc(names, (2 * npairs + 2) * sizeof *names);
            pairs[npairs][0] = sqlite3_column_int64(s, 0);
            pairs[npairs][1] = ib;
            names[2 * npairs] = slm_xasprintf("%lld:%s", (long long)a.run, nm);
            names[2 * npairs + 1] = slm_xasprintf("%lld:%s", (long long)b.run, nm);
            npairs++;
        }
        sqlite3_finalize(s);
        if (!npairs) {
            rc = slm_die(SLM_EXIT_BAD_INPUT, "runs %lld and %lld have no candidate names in common",
                         (long long)a.run, (long long)b.run);
            goto out;
        }
    }
    slm_paired *pr = slm_xcalloc(npairs, sizeof *pr);
    double *pm = slm_xcalloc(npairs, sizeof *pm), *pf = slm_xcalloc(npairs, sizeof *pf);
    double *hm = slm_xcalloc(npairs, sizeof *hm), *hf = slm_xcalloc(npairs, sizeof *hf);
    for (size_t i = 0; i < npairs; i++) {
        if (slm_paired_compare(st, pairs[i][0], pairs[i][1], (const char *const *)labels, nl,
                               (int)reps, (uint64_t)seed, &pr[i], err, sizeof err)) {
            rc = slm_die(SLM_EXIT_BAD_INPUT, "%s vs %s: %s", names[2 * i], names[2 * i + 1], err);
            break;
        }
        pm[i] = pr[i].mcnemar_p;
        pf[i] = isnan(pr[i].f1_p) ? 1.0 : pr[i].f1_p;
    }
    if (rc == SLM_EXIT_OK) {
        slm_holm(pm, npairs, hm);
        slm_holm(pf, npairs, hf);
        if (as_json) {
            json_t *arr = json_array();
            for (size_t i = 0; i < npairs; i++) {
                json_t *o = json_object();
#define JN(k, v) json_object_set_new(o, k, isnan(v) ? json_null() : json_real(v))
                json_object_set_new(o, "a", json_string(names[2 * i]));
                json_object_set_new(o, "b", json_string(names[2 * i + 1]));
                json_object_set_new(o, "n", json_integer((json_int_t)pr[i].n));
                json_object_set_new(o, "only_a_right", json_integer(pr[i].b));
                json_object_set_new(o, "only_b_right", json_integer(pr[i].c));
                JN("accuracy_a", pr[i].acc_a);
                JN("accuracy_b", pr[i].acc_b);
                JN("accuracy_diff", pr[i].acc_diff);
                JN("mcnemar_p", pr[i].mcnemar_p);
                json_object_set_new(o, "mcnemar_exact", json_boolean(pr[i].mcnemar_exact));
                JN("mcnemar_p_holm", hm[i]);
                JN("macro_f1_a", pr[i].f1_a);
                JN("macro_f1_b", pr[i].f1_b);
                JN("macro_f1_diff", pr[i].f1_diff);
                JN("macro_f1_diff_lo", pr[i].f1_lo);
                JN("macro_f1_diff_hi", pr[i].f1_hi);
                JN("macro_f1_p", pr[i].f1_p);
                JN("macro_f1_p_holm", hf[i]);
#undef JN
                json_object_set_new(o, "bootstrap_reps", json_integer(reps));
                json_object_set_new(o, "bootstrap_seed", json_integer(seed));
                json_array_append_new(arr, o);
            }
            char *js = json_dumps(arr, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
            puts(js);
            free(js);
            json_decref(arr);
        } else {
            printf("| A | B | n | accuracy A | accuracy B | Δ | b (only A right) | c (only B right) "
                   "| McNemar p | Holm p | macro-F1 A | macro-F1 B | Δ macro-F1 [95%% CI] | "
                   "bootstrap p | Holm p | significant |\n"
                   "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
            for (size_t i = 0; i < npairs; i++) {
                printf("| %s | %s | %zu | %.1f%% | %.1f%% | %+.1f pt | %ld | %ld | %.4g%s | %.4g | "
                       "%.1f%% | %.1f%% | %+.1f pt [%+.1f, %+.1f] | %.4g | %.4g | %s |\n",
                       names[2 * i], names[2 * i + 1], pr[i].n, pr[i].acc_a * 100,
                       pr[i].acc_b * 100, pr[i].acc_diff * 100, pr[i].b, pr[i].c, pr[i].mcnemar_p,
                       pr[i].mcnemar_exact ? " (exact)" : " (χ²)", hm[i], pr[i].f1_a * 100,
                       pr[i].f1_b * 100, pr[i].f1_diff * 100, pr[i].f1_lo * 100,
                       pr[i].f1_hi * 100, pr[i].f1_p, hf[i],
                       (hm[i] < 0.05 || hf[i] < 0.05) ? "yes" : "no");
            }
            printf("\nbootstrap: %ld replicates, seed %ld; significant: a Holm p below 0.05\n", reps,
                   seed);
        }
    }
    free(pr);
    free(pm);
    free(pf);
    free(hm);
    free(hf);
out:
    for (size_t i = 0; i < 2 * npairs; i++)
        free(names[i]);
    free(names);
    free(pairs);
    free(a.cand);
    free(b.cand);
    slm_free_strv(labels, nl);
    slm_store_close(st);
    return rc;
}
