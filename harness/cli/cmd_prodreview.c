/* cmd_prodreview.c — `slmbench drift --deployment NAME`: the monthly review of a
 * deployment's production log against the eval run it is tied to (issue 17). Reads the
 * store (store_prod.h), runs slm_prod_review_run() (prodstats.h) on each month and writes
 * the report (prod_report.h). */
#include "cli.h"
#include "config.h"
#include "drift.h"
#include "evalset.h"
#include "opts.h"
#include "prod_report.h"
#include "prodstats.h"
#include "redact.h"
#include "store_prod.h"
#include "store_read.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "The monthly review of a deployment's production log (slmbench ingest) against the\n"
    "eval run it is tied to (slmbench deploy) and against the previous month: predicted-\n"
    "label PSI / Jensen-Shannon / chi-square, confidence KS, escalation rate, the label-\n"
    "free accuracy estimate (calibrated confidences), observed accuracy on corrected\n"
    "tickets, text length KS and unseen words, latency (shown). One verdict per month:\n"
    "stable, drifted or degraded (README \"Production logs\", docs/prodstats.md).\n"
    "With --month M: the months from the first with traffic to M; only M decides\n"
    "--fail-on-drift. With --from/--to: every month of the range decides.\n";

static const char FOOTER[] =
    "exit codes: 0 ok, 1 a deciding month drifted or degraded with --fail-on-drift,\n"
    "            2 usage, 3 bad input (unknown or untied deployment, no rows in the\n"
    "            window, bad month, missing database), 4 a file could not be written\n";

/* ---- classes: the label set, then every answer outside it ---------------------------- */

typedef struct classes {
    char **name;
    size_t n, n_labels;
} classes;

static int class_of(classes *c, const char *s)
{
    if (!s)
        s = "(no answer)";
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], s))
            return (int)i;
    c->name = slm_xrealloc(c->name, (c->n + 1) * sizeof *c->name);
    c->name[c->n] = slm_xstrdup(s);
    return (int)c->n++;
}

static int label_of(const classes *c, const char *s)
{
    for (size_t i = 0; s && i < c->n_labels; i++)
        if (!strcmp(c->name[i], s))
            return (int)i;
    return -1;
}

/* ---- one side of a comparison, as arrays ---------------------------------------------- */

typedef struct side {
    size_t n, cap;
    int *pred, *gold;
    double *conf, *probs, *lat;
    long *len;
    int no_probs, any_gold, any_len, any_lat, no_text;
    long n_text; /* rows with a text */
    slm_prod_words words;
    classes *cls;
    const slm_wordmap *vocab;
    const char *bad; /* why a row could not be used (fn stops), or NULL */
} side;

static void side_init(side *s, classes *cls, const slm_wordmap *vocab)
{
    memset(s, 0, sizeof *s);
    s->cls = cls;
    s->vocab = vocab;
    slm_prod_words_init(&s->words);
}

static void side_free(side *s)
{
    free(s->pred), free(s->gold), free(s->conf), free(s->probs), free(s->lat), free(s->len);
    slm_prod_words_free(&s->words);
    memset(s, 0, sizeof *s);
}

static void side_grow(side *s)
{
    if (s->n < s->cap)
        return;
    size_t k = s->cls->n_labels;
    s->cap = s->cap ? 2 * s->cap : 256;
    s->pred = slm_xrealloc(s->pred, s->cap * sizeof *s->pred);
    s->gold = slm_xrealloc(s->gold, s->cap * sizeof *s->gold);
    s->conf = slm_xrealloc(s->conf, s->cap * sizeof *s->conf);
    s->lat = slm_xrealloc(s->lat, s->cap * sizeof *s->lat);
    s->len = slm_xrealloc(s->len, s->cap * sizeof *s->len);
    s->probs = slm_xrealloc(s->probs, s->cap * k * sizeof *s->probs);
}

/* The row's probs (a JSON object label -> p) into p[0..n_labels); 0 when the row has
 * none or it does not parse (then the month is reviewed on raw confidences). */
static int parse_probs(const char *js, const classes *c, double *p)
{
    if (!js)
        return 0;
    json_t *o = json_loads(js, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return 0;
    }
    for (size_t j = 0; j < c->n_labels; j++) {
        json_t *v = json_object_get(o, c->name[j]);
        p[j] = json_is_number(v) ? json_number_value(v) : 0.0;
    }
    json_decref(o);
    return 1;
}

static int add_row(const slm_prod_rec *r, void *ud)
{
    side *s = ud;
    side_grow(s);
    size_t i = s->n++;
    s->pred[i] = class_of(s->cls, r->pred);
    s->gold[i] = label_of(s->cls, r->corrected_label);
    s->any_gold |= s->gold[i] >= 0;
    s->conf[i] = r->confidence;
    if (!s->no_probs && !parse_probs(r->probs_json, s->cls, s->probs + i * s->cls->n_labels))
        s->no_probs = 1;
    s->lat[i] = r->latency_ms;
    s->any_lat |= isfinite(r->latency_ms);
    s->len[i] = r->text_bytes;
    s->any_len |= r->text_bytes >= 0;
    if (r->text)
        slm_prod_words_add(&s->words, s->vocab, r->text, 0), s->n_text++;
    return 0;
}

static void side_sample(const side *s, slm_prod_sample *o)
{
    memset(o, 0, sizeof *o);
    o->n = s->n;
    o->n_labels = s->cls->n_labels;
    o->n_classes = s->cls->n;
    o->pred = s->pred;
    o->conf = s->conf;
    o->probs = s->no_probs ? NULL : s->probs;
    o->gold = s->any_gold ? s->gold : NULL;
    o->len = s->any_len ? s->len : NULL;
    o->lat = s->any_lat ? s->lat : NULL;
    o->words = s->no_text || !s->n_text || !s->vocab ? NULL : &s->words;
}

/* ---- the reference: the eval run's predictions and the eval set's texts ------------- */

typedef struct refdata {
    side s;
    slm_wordmap *vocab;
    const char *text_note; /* static */
} refdata;

/* The texts of the evaluated split, in the order of ref->example_id: lengths and words.
 * A split file that is gone or changed leaves both out (text_note says so). */
static void ref_texts(const slm_prod_evalref *ev, refdata *rd)
{
    slm_dataset *ds = NULL;
    char err[SLM_ERRLEN];
    if (!ev->evalset_path || slm_dataset_load(ev->evalset_path, NULL, &ds, err, sizeof err)) {
        rd->text_note = "the eval set's split file cannot be read";
        return;
    }
    if (ev->evalset_sha256 && strcmp(ds->sha256, ev->evalset_sha256))
        rd->text_note = "the eval set's split file changed since the eval run";
    rd->vocab = slm_wordmap_new();
    for (size_t i = 0; !rd->text_note && i < ds->n; i++)
        slm_words_add_text(rd->vocab, ds->rows[i].text);
    for (size_t i = 0; !rd->text_note && i < ev->n; i++) {
        const slm_example *x = i < ds->n && !strcmp(ds->rows[i].id, ev->example_id[i]) ? &ds->rows[i] : NULL;
        for (size_t j = 0; !x && j < ds->n; j++)
            if (!strcmp(ds->rows[j].id, ev->example_id[i]))
                x = &ds->rows[j];
        rd->s.len[i] = x ? (long)strlen(x->text) : -1;
        rd->s.any_len |= x != NULL;
        if (x)
            slm_prod_words_add(&rd->s.words, rd->vocab, x->text, 1);
    }
    if (rd->text_note) {
        slm_wordmap_free(rd->vocab);
        rd->vocab = NULL;
        rd->s.any_len = 0;
    }
    slm_dataset_free(ds);
}

static void ref_load(const slm_prod_evalref *ev, classes *cls, refdata *rd)
{
    memset(rd, 0, sizeof *rd);
    side_init(&rd->s, cls, NULL);
    size_t k = ev->n_labels;
    for (size_t i = 0; i < ev->n; i++) {
        side_grow(&rd->s);
        rd->s.pred[i] = ev->pred[i] >= 0 ? ev->pred[i] : class_of(cls, NULL);
        rd->s.gold[i] = ev->gold[i];
        rd->s.any_gold |= ev->gold[i] >= 0;
        rd->s.conf[i] = ev->confidence[i];
        memcpy(rd->s.probs + i * k, ev->probs + i * k, k * sizeof(double));
        for (size_t j = 0; j < k; j++)
            rd->s.no_probs |= !isfinite(ev->probs[i * k + j]);
        rd->s.lat[i] = ev->e2e_ms[i];
        rd->s.any_lat |= isfinite(ev->e2e_ms[i]);
        rd->s.len[i] = -1;
        rd->s.n++;
    }
    ref_texts(ev, rd);
    rd->s.vocab = rd->vocab;
    rd->s.n_text = rd->vocab ? (long)ev->n : 0;
}

/* ---- the window ---------------------------------------------------------------------- */

typedef struct window {
    long first, last; /* year * 12 + month - 1 */
    int only_last_decides;
} window;

static long month_index(const char *s)
{
    int y, m;
    char err[SLM_ERRLEN];
    return slm_drift_parse_month(s, &y, &m, err, sizeof err) ? -1 : (long)y * 12 + m - 1;
}

static int set_window(const char *month, const char *from, const char *to,
                      const slm_prod_month *ms, size_t nms, window *w)
{
    int y, m;
    char err[SLM_ERRLEN];
    const char *bad = month && slm_drift_parse_month(month, &y, &m, err, sizeof err) ? month
                      : from && slm_drift_parse_month(from, &y, &m, err, sizeof err)  ? from
                      : to && slm_drift_parse_month(to, &y, &m, err, sizeof err)      ? to
                                                                                      : NULL;
    if (bad)
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    w->only_last_decides = month != NULL;
    if (month) {
        w->last = month_index(month);
        w->first = nms ? month_index(ms[0].month) : w->last;
        if (w->first > w->last)
            w->first = w->last;
    } else if (from) {
        w->first = month_index(from), w->last = month_index(to);
        if (w->first > w->last)
            return slm_die(SLM_EXIT_BAD_INPUT, "--from %s is after --to %s", from, to);
    } else {
        w->last = month_index(ms[nms - 1].month);
        w->first = month_index(ms[0].month);
    }
    if (w->last - w->first >= SLM_PROD_MAX_MONTHS)
        return slm_die(SLM_EXIT_BAD_INPUT, "the window spans %ld months, at most %d",
                       w->last - w->first + 1, SLM_PROD_MAX_MONTHS);
    return SLM_EXIT_OK;
}

/* ---- the review ---------------------------------------------------------------------- */

typedef struct review_ctx {
    slm_store *st;
    const slm_deployment *dep;
    const slm_prod_evalref *ev;
    classes cls;
    refdata rd;
    slm_prod_cfg cfg;
    slm_prod_report rep;
} review_ctx;

/* Reviews month m (its rows read into cur) against the reference and against prev (the
 * previous month with traffic, or NULL). Returns an exit code. */
static int review_month(review_ctx *c, slm_prod_month_review *m, side *cur, const side *prev)
{
    char err[SLM_ERRLEN];
    slm_prod_ref ref = {.temperature = c->ev->temperature, .vocab = c->rd.vocab};
    slm_prod_sample ms;
    side_sample(&c->rd.s, &ref.s);
    side_sample(cur, &ms);
    ref.s.n_classes = ms.n_classes = c->cls.n;
    if (slm_prod_review_run(&ref, &ms, &c->cfg, &m->vs_ref, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "month %s: %s", m->month, err);
    m->reviewed = 1;
    if (!prev)
        return SLM_EXIT_OK;
    side_sample(prev, &ref.s);
    ref.s.n_classes = c->cls.n;
    if (slm_prod_review_run(&ref, &ms, &c->cfg, &m->vs_prev, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "month %s against the previous: %s", m->month, err);
    m->has_prev = 1;
    return SLM_EXIT_OK;
}

static int review_window(review_ctx *c, const window *w)
{
    char err[SLM_ERRLEN];
    side prev, cur;
    int have_prev = 0, rc = SLM_EXIT_OK;
    char prev_month[8] = "";
    c->rep.nm = (size_t)(w->last - w->first + 1);
    c->rep.m = slm_xcalloc(c->rep.nm, sizeof *c->rep.m);
    for (size_t i = 0; i < c->rep.nm && !rc; i++) {
        slm_prod_month_review *m = &c->rep.m[i];
        long k = w->first + (long)i;
        char t[32];
        snprintf(t, sizeof t, "%04ld-%02ld", k / 12, k % 12 + 1);
        memcpy(m->month, t, 7); /* k / 12 has 4 digits: parsed from "YYYY-MM" */
        m->decides = !w->only_last_decides || i + 1 == c->rep.nm;
        side_init(&cur, &c->cls, c->rd.vocab);
        if (slm_prod_each(c->st, c->dep->id, m->month, c->rd.vocab != NULL, add_row, &cur, err,
                          sizeof err)) {
            side_free(&cur);
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
            break;
        }
        m->n = (long)cur.n;
        if (cur.n && !cur.n_text && c->rd.vocab)
            c->rep.text_note = "the month's rows have no text (ingested with --no-text)";
        if (!cur.n) {
            side_free(&cur);
            continue;
        }
        if (have_prev)
            snprintf(m->prev, sizeof m->prev, "%s", prev_month);
        rc = review_month(c, m, &cur, have_prev ? &prev : NULL);
        if (have_prev)
            side_free(&prev);
        prev = cur, have_prev = 1;
        snprintf(prev_month, sizeof prev_month, "%s", m->month);
    }
    if (have_prev)
        side_free(&prev);
    return rc;
}

/* ---- output -------------------------------------------------------------------------- */

static int write_dir(const slm_prod_report *r, const char *dir)
{
    char err[SLM_ERRLEN];
    if (slm_mkdir_p(dir, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    slm_prod_charts ch;
    if (slm_prod_charts_write(r, dir, &ch, err, sizeof err)) {
        slm_prod_charts_free(&ch);
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    }
    slm_buf md = {0}, html = {0}, json = {0};
    int rc = SLM_EXIT_OK;
    slm_prod_markdown(r, &ch, &md);
    slm_prod_html(r, &ch, dir, &html);
    char *stem = slm_xasprintf("%s/drift-%s", dir, r->deployment);
    char *pm = slm_xasprintf("%s.md", stem), *ph = slm_xasprintf("%s.html", stem),
         *pj = slm_xasprintf("%s.json", stem);
    if (slm_prod_json(r, &json, err, sizeof err))
        rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    else if ((rc = slm_cli_write(NULL, pm, &md)) || (rc = slm_cli_write(NULL, ph, &html)) ||
             (rc = slm_cli_write(NULL, pj, &json)))
        ;
    else if (ch.note)
        slm_say(stderr, "slmbench: note: %s\n", ch.note);
    free(stem), free(pm), free(ph), free(pj);
    slm_buf_free(&md), slm_buf_free(&html), slm_buf_free(&json);
    slm_prod_charts_free(&ch);
    return rc;
}

static int write_stdout(const slm_prod_report *r, const char *format)
{
    char err[SLM_ERRLEN];
    slm_buf b = {0};
    int rc = SLM_EXIT_OK;
    if (!strcmp(format, "json")) {
        if (slm_prod_json(r, &b, err, sizeof err))
            rc = slm_die(SLM_EXIT_ENGINE, "%s", err);
    } else if (!strcmp(format, "html")) {
        slm_prod_html(r, NULL, NULL, &b);
    } else {
        slm_prod_markdown(r, NULL, &b);
    }
    if (!rc && b.len && fwrite(b.data, 1, b.len, stdout) != b.len)
        rc = slm_die(SLM_EXIT_ENGINE, "cannot write the review to stdout");
    slm_buf_free(&b);
    return rc;
}

/* ---- the command --------------------------------------------------------------------- */

typedef struct prod_args {
    const char *db, *format, *outdir, *month, *from, *to, *deployment;
    double alpha;
    int fail_on_drift;
} prod_args;

/* Opens the store, reads the deployment and its reference. Returns an exit code. */
static int open_all(const prod_args *a, review_ctx *c, slm_deployment *dep,
                    slm_prod_evalref *ev, slm_prod_month **ms, size_t *nms)
{
    char err[SLM_ERRLEN];
    if (slm_store_open(a->db, 0, &c->st, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    int f = slm_prod_deployment(c->st, a->deployment, dep, err, sizeof err);
    if (f < 0)
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    if (f == 1)
        return slm_die(SLM_EXIT_BAD_INPUT, "no deployment '%s' in %s (slmbench deploy or "
                                           "ingest --deployment)", a->deployment, a->db);
    if (slm_prod_reference(c->st, dep, ev, err, sizeof err))
        return slm_die(SLM_EXIT_BAD_INPUT, "%s", err);
    if (slm_prod_months(c->st, dep->id, ms, nms, err, sizeof err))
        return slm_die(SLM_EXIT_ENGINE, "%s", err);
    if (!*nms)
        return slm_die(SLM_EXIT_BAD_INPUT, "deployment '%s' has no production rows "
                                           "(slmbench ingest)", a->deployment);
    struct slm_run_cfg *rc = NULL;
    c->cfg.threshold = NAN;
    if (slm_run_cfg_from_db(c->st, ev->run_id, &rc, err, sizeof err) == 0)
        c->cfg.threshold = rc->cascade_threshold;
    slm_run_cfg_free(rc);
    return SLM_EXIT_OK;
}

static int window_rows(const slm_prod_report *r, const prod_args *a)
{
    long n = 0;
    for (size_t i = 0; i < r->nm; i++) {
        n += r->m[i].n;
        if (!r->m[i].n)
            slm_say(stderr, "slmbench: note: no traffic in %s\n", r->m[i].month);
    }
    if (!n)
        return slm_die(SLM_EXIT_BAD_INPUT, "deployment '%s' has no production rows in %s..%s",
                       a->deployment, r->m[0].month, r->m[r->nm - 1].month);
    return SLM_EXIT_OK;
}

static int run_review(const prod_args *a)
{
    review_ctx c;
    memset(&c, 0, sizeof c);
    slm_deployment dep = {0};
    slm_prod_evalref ev;
    memset(&ev, 0, sizeof ev);
    slm_prod_month *ms = NULL;
    size_t nms = 0;
    window w = {0};
    slm_prod_cfg_default(&c.cfg);
    c.cfg.alpha = a->alpha;
    int rc = open_all(a, &c, &dep, &ev, &ms, &nms);
    if (!rc)
        rc = set_window(a->month, a->from, a->to, ms, nms, &w);
    if (!rc) {
        c.dep = &dep, c.ev = &ev;
        c.cls.n_labels = ev.n_labels;
        for (size_t i = 0; i < ev.n_labels; i++)
            class_of(&c.cls, ev.labels[i]);
        ref_load(&ev, &c.cls, &c.rd);
        c.rep = (slm_prod_report){.deployment = dep.name, .candidate = dep.candidate,
                                  .run_id = ev.run_id, .n_labels = ev.n_labels,
                                  .threshold = c.cfg.threshold, .alpha = a->alpha,
                                  .eval_acc = ev.accuracy, .text_note = c.rd.text_note};
        rc = review_window(&c, &w);
    }
    if (!rc && !(rc = window_rows(&c.rep, a))) {
        c.rep.classes = (const char *const *)c.cls.name;
        c.rep.n_classes = c.cls.n;
        rc = a->outdir ? write_dir(&c.rep, a->outdir) : write_stdout(&c.rep, a->format);
    }
    size_t nf = rc ? 0 : slm_prod_n_flagged(&c.rep);
    if (nf) {
        slm_say(stderr, "slmbench: %zu deciding month%s drifted or degraded\n", nf,
                nf == 1 ? "" : "s");
        rc = a->fail_on_drift ? SLM_EXIT_FAIL : rc;
    }
    for (size_t i = 0; i < c.rep.nm; i++)
        slm_prod_review_free(&c.rep.m[i].vs_ref), slm_prod_review_free(&c.rep.m[i].vs_prev);
    free(c.rep.m);
    side_free(&c.rd.s);
    slm_wordmap_free(c.rd.vocab);
    slm_free_strv(c.cls.name, c.cls.n);
    slm_prod_months_free(ms);
    slm_prod_ref_free(&ev);
    slm_deployment_free(&dep);
    slm_store_close(c.st);
    return rc;
}

int cmd_prodreview(int argc, char **argv)
{
    prod_args a = {.db = "slmbench.db", .format = "md", .alpha = 0.05};
    slm_opt opts[] = {
        {.name = "deployment", .arg = "NAME", .kind = SLM_OPT_STR, .target = &a.deployment,
         .help = "the deployment whose production log is reviewed"},
        {.name = "month", .arg = "M", .kind = SLM_OPT_STR, .target = &a.month,
         .help = "the months from the first with traffic to M; M decides"},
        {.name = "from", .arg = "A", .kind = SLM_OPT_STR, .target = &a.from,
         .help = "with --to B: the months A..B, each deciding"},
        {.name = "to", .arg = "B", .kind = SLM_OPT_STR, .target = &a.to,
         .help = "the last month of the --from window"},
        SLM_OPT_DB(&a.db),
        {.name = "out", .arg = "DIR", .kind = SLM_OPT_STR, .target = &a.outdir,
         .help = "write DIR/drift-NAME.md, .html (charts embedded), .json and\n"
                 "DIR/plots/prod_*.{dat,gp,svg,png}"},
        {.name = "format", .arg = "F", .kind = SLM_OPT_STR, .target = &a.format,
         .help = "without --out, what goes to stdout: md (default), html or json"},
        {.like = &slm_opt_json, .kind = SLM_OPT_CONST, .target = &a.format, .value = "json",
         .help = "the same as --format json"},
        {.name = "alpha", .arg = "A", .kind = SLM_OPT_DOUBLE, .target = &a.alpha,
         .help = "Benjamini-Hochberg level of each month's signals (default 0.05)"},
        {.name = "fail-on-drift", .kind = SLM_OPT_FLAG, .target = &a.fail_on_drift,
         .help = "exit 1 when a deciding month is drifted or degraded"},
        {0},
    };
    const slm_cmd cmd = {
        .name = "drift",
        .synopsis = "drift --deployment NAME [--month YYYY-MM | --from YYYY-MM --to YYYY-MM]",
        .about = ABOUT,
        .footer = FOOTER,
        .opts = opts,
    };
    size_t np;
    int rc = slm_opts_parse(&cmd, argc, argv, 1, NULL, &np);
    if (rc != SLM_OPTS_GO)
        return rc;
    if (!a.deployment || !*a.deployment)
        return slm_opts_usage_error(&cmd, "--deployment names no deployment");
    if (strcmp(a.format, "md") && strcmp(a.format, "html") && strcmp(a.format, "json"))
        return slm_opts_usage_error(&cmd, "unknown format '%s' (md, html or json)", a.format);
    if (a.month && (a.from || a.to))
        return slm_opts_usage_error(&cmd, "give either --month or --from/--to, not both");
    if (!a.from != !a.to)
        return slm_opts_usage_error(&cmd, "--from and --to go together");
    if (!(a.alpha > 0 && a.alpha < 1))
        return slm_opts_usage_error(&cmd, "--alpha must lie between 0 and 1, got %g", a.alpha);
    return run_review(&a);
}
