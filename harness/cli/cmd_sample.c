/* cmd_sample.c — `slmbench sample`: draw an audit sample of a production month to label
 * (recorded with its inclusion probabilities), and score it once labelled. */
#include "audit.h"
#include "cli.h"
#include "csv_out.h"
#include "drift.h" /* slm_drift_parse_month */
#include "evalset.h"
#include "opts.h"
#include "redact.h"
#include "store_prod.h"
#include "slm_limits.h"
#include "store_sample.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Draws an audit sample of one month of a deployment's production log and writes it as\n"
    "CSV to label: id,text,label,pred,confidence,weight[,stratum] (label empty; weight =\n"
    "1/inclusion probability). The sample is recorded in the database with every row's\n"
    "inclusion probability, so that --score gives an unbiased accuracy estimate:\n"
    "  stratified      strata by predicted label, proportional allocation (at least 2 a\n"
    "                  stratum), simple random sampling in each; stratified estimator\n"
    "  random          simple random sampling of n rows\n"
    "  low-confidence  Poisson sampling, probability proportional to 1 - confidence + 0.05\n"
    "  disagreement    Poisson sampling, probability proportional to 1 - margin + 0.05,\n"
    "                  margin = top probability minus the second (2 confidence - 1 for a\n"
    "                  row without probs); both Poisson designs: Horvitz-Thompson estimate,\n"
    "                  expected size n\n"
    "--score FILE --sample ID reads the labelled file back (every row of the sample\n"
    "labelled) and prints the weighted accuracy with its 95% interval.\n";

static const char FOOTER[] =
    "exit codes: 0 ok, 2 usage, 3 bad input (unknown or untied deployment, a month\n"
    "            without rows, a labelled file that does not match the sample),\n"
    "            4 the database or the output could not be written\n";

/* Floor of the Poisson designs' size measure: every row keeps a chance, so that the
 * Horvitz–Thompson estimate stays unbiased (a row of probability 0 never counts). */
#define SIZE_FLOOR 0.05

typedef struct month_rows {
    size_t n, cap;
    char **id, **text, **pred;
    double *conf, *margin;
} month_rows;

/* The top probability minus the second of a probs object; NaN without one. */
static double margin_of(const char *probs_json)
{
    json_t *o = probs_json ? json_loads(probs_json, 0, NULL) : NULL;
    double a = -1, b = -1;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        double p = json_number_value(v);
        if (p > a)
            b = a, a = p;
        else if (p > b)
            b = p;
    }
    json_decref(o);
    return a >= 0 ? a - (b >= 0 ? b : 0) : NAN;
}

static int add_row(const slm_prod_rec *r, void *ud)
{
    month_rows *m = ud;
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 256;
        m->id = slm_xrealloc(m->id, m->cap * sizeof *m->id);
        m->text = slm_xrealloc(m->text, m->cap * sizeof *m->text);
        m->pred = slm_xrealloc(m->pred, m->cap * sizeof *m->pred);
        m->conf = slm_xrealloc(m->conf, m->cap * sizeof *m->conf);
        m->margin = slm_xrealloc(m->margin, m->cap * sizeof *m->margin);
    }
    size_t i = m->n++;
    m->id[i] = slm_xstrdup(r->log_id);
    m->text[i] = r->text ? slm_xstrdup(r->text)
                         : slm_xasprintf("(no text: sha256 %s)",
                                         r->text_sha256 ? r->text_sha256 : "unknown");
    m->pred[i] = slm_xstrdup(r->pred);
    m->conf[i] = r->confidence;
    m->margin[i] = margin_of(r->probs_json);
    if (!isfinite(m->margin[i]))
        m->margin[i] = 2 * r->confidence - 1 < 0 ? 0 : 2 * r->confidence - 1;
    return 0;
}

static void month_rows_free(month_rows *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->id[i]), free(m->text[i]), free(m->pred[i]);
    free(m->id), free(m->text), free(m->pred), free(m->conf), free(m->margin);
}

typedef struct draw_args {
    const char *db, *deployment, *month, *strategy, *out, *score;
    long n, seed, sample;
    int json;
} draw_args;

static const char *const STRATEGIES[] = {"stratified", "random", "low-confidence",
                                         "disagreement"};

static slm_audit_design design_of(const char *strategy)
{
    return !strcmp(strategy, "stratified") ? SLM_AD_STRATIFIED
           : !strcmp(strategy, "random")   ? SLM_AD_SRS
                                           : SLM_AD_POISSON;
}

/* Strata (by predicted label) as indices into names (caller frees both). */
static int *strata_of(const month_rows *m, char ***names, size_t *k)
{
    int *s = slm_xmalloc((m->n ? m->n : 1) * sizeof *s);
    *names = NULL;
    *k = 0;
    for (size_t i = 0; i < m->n; i++) {
        size_t h = 0;
        while (h < *k && strcmp((*names)[h], m->pred[i]))
            h++;
        if (h == *k) {
            *names = slm_xrealloc(*names, (*k + 1) * sizeof **names);
            (*names)[(*k)++] = m->pred[i];
        }
        s[i] = (int)h;
    }
    return s;
}

/* The CSV to label and the rows to store, from the draw. */
static void sample_out(const month_rows *m, const draw_args *a, const int *st, char **names,
                       const double *pi, const unsigned char *chosen, slm_buf *csv,
                       slm_audit_row *rows)
{
    int strat = design_of(a->strategy) == SLM_AD_STRATIFIED;
    long *nh = slm_xcalloc(m->n + 1, sizeof *nh);
    for (size_t i = 0; i < m->n; i++)
        nh[strat ? st[i] : 0]++;
    slm_buf_puts(csv, strat ? "id,text,label,pred,confidence,weight,stratum\n"
                            : "id,text,label,pred,confidence,weight\n");
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!chosen[i])
            continue;
        char t[64];
        slm_csv_field(csv, m->id[i], 0);
        slm_buf_putc(csv, ',');
        char *red = slm_redact(m->text[i]);
        slm_csv_field(csv, red, 0);
        free(red);
        slm_buf_puts(csv, ",,");
        slm_csv_field(csv, m->pred[i], 0);
        slm_fmt_double(t, sizeof t, m->conf[i], 6);
        slm_buf_printf(csv, ",%s,", t);
        slm_fmt_double(t, sizeof t, 1.0 / pi[i], 8);
        slm_buf_puts(csv, t);
        if (strat) {
            slm_buf_putc(csv, ',');
            slm_csv_field(csv, names[st[i]], 0);
        }
        slm_buf_putc(csv, '\n');
        rows[k].log_id = m->id[i];
        rows[k].stratum = strat ? names[st[i]] : "all";
        rows[k].stratum_size = nh[strat ? st[i] : 0];
        rows[k].pi = pi[i];
        k++;
    }
    free(nh);
}

/* Draws, stores and writes the sample of the month read into m. */
static int draw_store_write(slm_store *st, int64_t dep_id, month_rows *m, const draw_args *a)
{
    char err[SLM_ERRLEN], **names = NULL;
    size_t k = 0;
    slm_audit_design d = design_of(a->strategy);
    int *strata = strata_of(m, &names, &k);
    double *size = slm_xmalloc(m->n * sizeof *size), *pi = slm_xmalloc(m->n * sizeof *pi);
    unsigned char *chosen = slm_xmalloc(m->n);
    for (size_t i = 0; i < m->n; i++)
        size[i] = (!strcmp(a->strategy, "disagreement") ? 1 - m->margin[i] : 1 - m->conf[i]) +
                  SIZE_FLOOR;
    size_t got = slm_audit_draw(m->n, d, strata, k, size, a->n, (uint64_t)a->seed, pi, chosen);
    slm_audit_row *rows = slm_xcalloc(got ? got : 1, sizeof *rows);
    slm_buf csv = {0};
    sample_out(m, a, strata, names, pi, chosen, &csv, rows);
    slm_audit au = {.deployment_id = dep_id, .month = (char *)a->month,
                    .strategy = (char *)a->strategy, .design = (char *)slm_audit_design_name(d),
                    .seed = a->seed, .n = a->n, .n_drawn = (long)got, .population = (long)m->n};
    int rc = SLM_EXIT_OK;
    if (slm_audit_put(st, &au, rows, got, err, sizeof err))
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    else if (a->out && slm_write_file_atomic(a->out, csv.data, csv.len, err, sizeof err))
        rc = slm_die(SLM_EXIT_ENGINE, "%s (the sample is recorded as %lld)", err, (long long)au.id);
    else if (!a->out && fwrite(csv.data, 1, csv.len, stdout) != csv.len)
        rc = slm_die(SLM_EXIT_ENGINE, "cannot write the sample to stdout");
    if (!rc)
        slm_say(stderr, "slmbench: sample %lld: %zu of %zu rows of %s (%s, design %s, seed %ld) "
                        "recorded; once labelled: slmbench sample --score FILE --sample %lld\n",
                (long long)au.id, got, m->n, a->month, a->strategy, au.design, a->seed,
                (long long)au.id);
    free(au.created_at);
    slm_buf_free(&csv);
    free(rows), free(strata), free(names), free(size), free(pi), free(chosen);
    return rc;
}

static int run_draw(const draw_args *a)
{
    char err[SLM_ERRLEN];
    slm_store *st = NULL;
    slm_deployment dep = {0};
    month_rows m = {0};
    int rc = SLM_EXIT_OK, f;
    if (slm_store_open(a->db, 0, &st, err, sizeof err))
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    else if ((f = slm_prod_deployment(st, a->deployment, &dep, err, sizeof err)) != 0)
        rc = f < 0 ? slm_die(SLM_EXIT_ENGINE, "%s", err)
                   : slm_die(SLM_EXIT_BAD_INPUT, "no deployment '%s' in %s", a->deployment, a->db);
    else if (slm_prod_each(st, dep.id, a->month, 1, add_row, &m, err, sizeof err))
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    else if (!m.n)
        rc = slm_die(SLM_EXIT_BAD_INPUT, "deployment '%s' has no production rows in %s",
                     a->deployment, a->month);
    else
        rc = draw_store_write(st, dep.id, &m, a);
    month_rows_free(&m);
    slm_deployment_free(&dep);
    slm_store_close(st);
    return rc;
}

/* ---- --score ------------------------------------------------------------------------- */

static long find_row(const slm_audit_row *r, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r[mid].log_id, id);
        if (!c)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* y[i] for each sample row from the labelled file; an exit code. */
static int match_labels(const slm_dataset *ds, const slm_audit *au, const slm_audit_row *r,
                        size_t n, int *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = -1;
    for (size_t j = 0; j < ds->n; j++) {
        long i = find_row(r, n, ds->rows[j].id);
        if (i < 0)
            return slm_die(SLM_EXIT_BAD_INPUT, "%s:%ld: id '%s' is not in sample %lld",
                           ds->path, ds->rows[j].line, ds->rows[j].id, (long long)au->id);
        y[i] = r[i].pred && !strcmp(ds->rows[j].label, r[i].pred);
    }
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0)
            return slm_die(SLM_EXIT_BAD_INPUT, "%s: row '%s' of sample %lld is missing: every "
                           "row of the sample must be labelled", ds->path, r[i].log_id,
                           (long long)au->id);
    return SLM_EXIT_OK;
}

static void print_estimate(const slm_audit *au, const slm_audit_est *e, int json)
{
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "sample", json_integer(au->id));
        json_object_set_new(o, "month", json_string(au->month));
        json_object_set_new(o, "strategy", json_string(au->strategy));
        json_object_set_new(o, "design", json_string(au->design));
        json_object_set_new(o, "labelled", json_integer(e->n));
        json_object_set_new(o, "right", json_integer(e->right));
        json_object_set_new(o, "population", json_integer(au->population));
        json_object_set_new(o, "accuracy", isfinite(e->est) ? json_real(e->est) : json_null());
        json_object_set_new(o, "se", isfinite(e->se) ? json_real(e->se) : json_null());
        json_object_set_new(o, "lo", isfinite(e->lo) ? json_real(e->lo) : json_null());
        json_object_set_new(o, "hi", isfinite(e->hi) ? json_real(e->hi) : json_null());
        char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        printf("%s\n", s);
        free(s);
        json_decref(o);
        return;
    }
    char v[4][48];
    double x[4] = {e->est, e->lo, e->hi, e->se};
    for (int i = 0; i < 4; i++)
        isfinite(x[i]) ? slm_fmt_double(v[i], sizeof v[i], x[i], 4) : (void)snprintf(v[i], 48, "–");
    printf("sample %lld (%s, %s, design %s): %ld of %ld rows labelled, %ld right; weighted "
           "accuracy %s [%s, %s] (95%%, se %s)\n",
           (long long)au->id, au->month, au->strategy, au->design, e->n, au->population,
           e->right, v[0], v[1], v[2], v[3]);
}

static int estimate_from(const slm_dataset *ds, const slm_audit *au, const slm_audit_row *r,
                         size_t n, int json)
{
    int *y = slm_xmalloc((n ? n : 1) * sizeof *y), *s = slm_xmalloc((n ? n : 1) * sizeof *s);
    double *pi = slm_xmalloc((n ? n : 1) * sizeof *pi);
    long *nh = slm_xmalloc((n ? n : 1) * sizeof *nh);
    int rc = match_labels(ds, au, r, n, y);
    for (size_t i = 0; i < n; i++) {
        size_t h = 0;
        while (strcmp(r[h].stratum, r[i].stratum))
            h++;
        s[i] = (int)h, pi[i] = r[i].pi, nh[i] = r[i].stratum_size;
    }
    slm_audit_est e;
    slm_audit_design d = !strcmp(au->design, "poisson")      ? SLM_AD_POISSON
                         : !strcmp(au->design, "stratified") ? SLM_AD_STRATIFIED
                                                             : SLM_AD_SRS;
    if (!rc && slm_audit_estimate(d, y, pi, s, nh, n, au->population, &e))
        rc = slm_die(SLM_EXIT_BAD_INPUT, "sample %lld: stored inclusion probabilities out of "
                     "range", (long long)au->id);
    if (!rc)
        print_estimate(au, &e, json);
    free(y), free(s), free(pi), free(nh);
    return rc;
}

static int run_score(const draw_args *a)
{
    char err[SLM_ERRLEN];
    slm_store *st = NULL;
    slm_audit au = {0};
    slm_audit_row *rows = NULL;
    size_t n = 0;
    slm_dataset *ds = NULL;
    int rc = SLM_EXIT_OK, f;
    if (slm_dataset_load(a->score, NULL, &ds, err, sizeof err))
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    else if (slm_store_open(a->db, 0, &st, err, sizeof err))
        rc = slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    else if ((f = slm_audit_read(st, a->sample, &au, &rows, &n, err, sizeof err)) != 0)
        rc = f < 0 ? slm_die(SLM_EXIT_ENGINE, "%s", err)
                   : slm_die(SLM_EXIT_BAD_INPUT, "no sample %ld in %s", a->sample, a->db);
    else
        rc = estimate_from(ds, &au, rows, n, a->json);
    slm_dataset_free(ds);
    slm_audit_rows_free(rows, n);
    slm_audit_free(&au);
    slm_store_close(st);
    return rc;
}

int cmd_sample(int argc, char **argv)
{
    draw_args a = {.db = "slmbench.db", .strategy = "stratified", .n = 200, .seed = 1};
    const char *format = NULL;
    slm_opt opts[] = {
        {.name = "deployment", .arg = "NAME", .kind = SLM_OPT_STR, .target = &a.deployment,
         .help = "the deployment whose log is sampled"},
        {.name = "month", .arg = "M", .kind = SLM_OPT_STR, .target = &a.month,
         .help = "the month sampled (YYYY-MM, UTC)"},
        {.name = "n", .arg = "N", .kind = SLM_OPT_LONG, .target = &a.n, .min = 1,
         .needs = "a positive integer", .help = "rows to draw (default 200)"},
        {.name = "strategy", .arg = "S", .kind = SLM_OPT_STR, .target = &a.strategy,
         .help = "stratified (default), random, low-confidence or disagreement"},
        {.name = "seed", .arg = "S", .kind = SLM_OPT_LONG, .target = &a.seed, .min = 0,
         .needs = "an integer >= 0", .help = "seed of the draw (default 1)"},
        {.name = "out", .arg = "FILE", .kind = SLM_OPT_STR, .target = &a.out,
         .help = "write the CSV to FILE (default: stdout)"},
        SLM_OPT_DB(&a.db),
        {.name = "score", .arg = "FILE", .kind = SLM_OPT_STR, .target = &a.score,
         .help = "with --sample ID: the labelled CSV back; prints the estimate"},
        {.name = "sample", .arg = "ID", .kind = SLM_OPT_LONG, .target = &a.sample, .min = 1,
         .needs = "a sample id", .help = "the recorded sample --score refers to"},
        SLM_OPT_JSON(&format),
        {0},
    };
    const slm_cmd cmd = {
        .name = "sample",
        .synopsis = "sample --deployment NAME --month YYYY-MM [--n N] [--strategy S] [--seed S]\n"
                    "sample --score LABELLED.csv --sample ID",
        .about = ABOUT,
        .footer = FOOTER,
        .opts = opts,
    };
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    a.json = format != NULL;
    if (a.score || a.sample) {
        if (!a.score || !a.sample)
            return slm_opts_usage_error(&cmd, "--score and --sample go together");
        return run_score(&a);
    }
    if (!a.deployment || !a.month)
        return slm_opts_usage_error(&cmd, "give --deployment and --month (or --score)");
    size_t s = 0;
    while (s < 4 && strcmp(STRATEGIES[s], a.strategy))
        s++;
    if (s == 4)
        return slm_opts_usage_error(&cmd, "unknown strategy '%s' (stratified, random, "
                                          "low-confidence or disagreement)", a.strategy);
    if (a.n > SLM_SAMPLE_MAX_N)
        return slm_opts_usage_error(&cmd, "--n: at most %ld, got %ld", SLM_SAMPLE_MAX_N, a.n);
    char err[SLM_ERRLEN];
    int y, mo;
    if (slm_drift_parse_month(a.month, &y, &mo, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    return run_draw(&a);
}
