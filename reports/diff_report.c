/* diff_report.c — see diff_report.h. */
#include "diff_report.h"
#include "csv_out.h"
#include "evalset.h"
#include "metrics.h"
#include "report.h"
#include "report_html.h"
#include "slm_limits.h"
#include "store_cli.h"
#include "store_history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What became of one paired example. An engine error counts as a wrong answer, as in
 * the accuracy, so the net change is exactly the accuracy difference on the pairs. */
enum { K_SAME = 0, K_FIXED, K_BROKEN, K_CHANGED, K_N };

static const char *const KIND_NAME[K_N] = {"unchanged", "fixed", "broken", "changed"};

typedef struct side {
    int64_t run_id, cid;
    char *cand;
    slm_diff_run_info info;
} side;

typedef struct diff {
    side a, b;
    slm_diff_pair *p;
    size_t n;
    unsigned char *kind;   /* per pair */
    long only_a, only_b;
    long count[K_N];
    slm_dataset *texts;    /* run B's eval set file, for the texts; NULL when unreadable */
    size_t *by_id;         /* texts->rows indices sorted by id */
    slm_buf notes;         /* one line per note, for the output and opts->warn */
} diff;

/* ---- the two sides ---- */

/* The candidate of s->run_id called name (NULL: the only one) into s. 0, 1 with err when
 * there is no such candidate, -1 on a database error. */
static int pick_candidate(slm_store *st, side *s, const char *name, char *err, size_t errlen)
{
    slm_cand *c;
    size_t n;
    if (slm_store_candidates(st, s->run_id, &c, &n, err, errlen))
        return -1;
    slm_buf names = {0};
    for (size_t i = 0; i < n; i++) {
        slm_buf_printf(&names, "%s%s", i ? ", " : "", c[i].name);
        if ((name && !strcmp(c[i].name, name)) || (!name && n == 1)) {
            s->cid = c[i].id;
            s->cand = slm_xstrdup(c[i].name);
        }
    }
    int rc = 0;
    if (!s->cand && !n)
        rc = 1, slm_err(err, errlen, "run %lld has no candidates", (long long)s->run_id);
    else if (!s->cand && name)
        rc = 1, slm_err(err, errlen, "run %lld has no candidate '%s' (it has: %s)",
                        (long long)s->run_id, name, names.data);
    else if (!s->cand)
        rc = 1, slm_err(err, errlen, "run %lld has %zu candidates (%s): name one with "
                        "--candidate NAME or RUN:NAME", (long long)s->run_id, n, names.data);
    slm_buf_free(&names);
    slm_cands_free(c, n);
    return rc;
}

/* ref is "REF" or "REF:CANDIDATE": a ref that resolves whole is a run (a run name may hold
 * ':'); otherwise what follows the last ':' names the candidate. */
static int resolve_side(slm_store *st, const char *ref, const char *dflt, side *s, char *err,
                        size_t errlen)
{
    if (slm_store_resolve_run(st, ref, &s->run_id, err, errlen) == 0)
        return pick_candidate(st, s, dflt, err, errlen);
    const char *colon = strrchr(ref, ':');
    if (!colon || colon == ref)
        return 1;
    char *run = slm_xstrndup(ref, (size_t)(colon - ref));
    int rc = slm_store_resolve_run(st, run, &s->run_id, err, errlen) ? 1 : 0;
    free(run);
    if (rc == 0)
        rc = pick_candidate(st, s, colon[1] ? colon + 1 : dflt, err, errlen);
    return rc;
}

static void side_free(side *s)
{
    free(s->cand);
    slm_diff_run_info_free(&s->info);
}

/* ---- texts ---- */

static const slm_dataset *g_sort_ds; /* qsort has no user pointer; set only while sorting */

static int cmp_row_id(const void *x, const void *y)
{
    return strcmp(g_sort_ds->rows[*(const size_t *)x].id, g_sort_ds->rows[*(const size_t *)y].id);
}

/* Reads run B's eval set file for the texts; says in the notes when it cannot, or when
 * the file is no longer the data of the run. */
static void load_texts(diff *d)
{
    const char *path = d->b.info.path ? d->b.info.path : d->a.info.path;
    const char *sha = d->b.info.path ? d->b.info.sha256 : d->a.info.sha256;
    char err[SLM_ERRLEN];
    slm_load_opts lo = {0};
    lo.skip_bad_rows = 1;
    if (!path) {
        slm_buf_puts(&d->notes, "texts not shown: the runs record no eval set file\n");
        return;
    }
    if (slm_dataset_load(path, &lo, &d->texts, err, sizeof err)) {
        slm_buf_printf(&d->notes, "texts not shown: %s\n", err);
        d->texts = NULL;
        return;
    }
    if (sha && strcmp(sha, d->texts->sha256))
        slm_buf_printf(&d->notes, "texts read from %s, whose SHA-256 is no longer the run's "
                       "(the file changed, or slices were added): a text may differ from "
                       "what the model saw\n", path);
    d->by_id = slm_xmalloc((d->texts->n ? d->texts->n : 1) * sizeof *d->by_id);
    for (size_t i = 0; i < d->texts->n; i++)
        d->by_id[i] = i;
    g_sort_ds = d->texts;
    qsort(d->by_id, d->texts->n, sizeof *d->by_id, cmp_row_id);
    g_sort_ds = NULL;
}

/* The text of example id, or NULL. */
static const char *text_of(const diff *d, const char *id)
{
    if (!d->texts)
        return NULL;
    size_t lo = 0, hi = d->texts->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(d->texts->rows[d->by_id[mid]].id, id);
        if (!c)
            return d->texts->rows[d->by_id[mid]].text;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- the comparison ---- */

static int same_str(const char *x, const char *y)
{
    return (!x && !y) || (x && y && !strcmp(x, y));
}

static void classify(diff *d)
{
    d->kind = slm_xcalloc(d->n ? d->n : 1, 1);
    for (size_t i = 0; i < d->n; i++) {
        const slm_diff_pair *p = &d->p[i];
        int k = K_SAME;
        if (!p->correct_a && p->correct_b)
            k = K_FIXED;
        else if (p->correct_a && !p->correct_b)
            k = K_BROKEN;
        else if (!p->correct_a && !same_str(p->pred_a, p->pred_b))
            k = K_CHANGED;
        d->kind[i] = (unsigned char)k;
        d->count[k]++;
    }
}

static void diff_free(diff *d)
{
    side_free(&d->a);
    side_free(&d->b);
    slm_diff_pairs_free(d->p, d->n);
    free(d->kind);
    slm_dataset_free(d->texts);
    free(d->by_id);
    slm_buf_free(&d->notes);
}

/* Resolves both sides, pairs their predictions, classifies the pairs, reads the texts
 * (want_texts) and notes what the output must say. 0, 1 (bad request), -1 (database). */
static int diff_load(slm_store *st, const slm_diff_opts *o, int want_texts, diff *d, char *err,
                     size_t errlen)
{
    memset(d, 0, sizeof *d);
    int rc = resolve_side(st, o->run_a, o->candidate, &d->a, err, errlen);
    if (!rc)
        rc = resolve_side(st, o->run_b, o->candidate, &d->b, err, errlen);
    if (rc)
        return rc;
    if (slm_store_diff_run_info(st, d->a.run_id, &d->a.info, err, errlen) ||
        slm_store_diff_run_info(st, d->b.run_id, &d->b.info, err, errlen) ||
        slm_store_diff_pairs(st, d->a.cid, d->b.cid, &d->p, &d->n, &d->only_a, &d->only_b, err,
                             errlen))
        return -1;
    classify(d);
    const char *sa = d->a.info.sha256, *sb = d->b.info.sha256;
    if (!same_str(sa, sb))
        slm_buf_printf(&d->notes, "runs %lld and %lld were made on different eval-set data "
                       "(SHA-256 %.12s… and %.12s…): compared on the %zu example ids both "
                       "have\n", (long long)d->a.run_id, (long long)d->b.run_id,
                       sa ? sa : "–", sb ? sb : "–", d->n);
    if (d->only_a || d->only_b)
        slm_buf_printf(&d->notes, "%ld examples left out: %ld only in run %lld, %ld only in "
                       "run %lld\n", d->only_a + d->only_b, d->only_a, (long long)d->a.run_id,
                       d->only_b, (long long)d->b.run_id);
    if (want_texts && d->count[K_FIXED] + d->count[K_BROKEN] + d->count[K_CHANGED])
        load_texts(d);
    if (o->warn && d->notes.len)
        slm_buf_append(o->warn, d->notes.data, d->notes.len);
    return 0;
}

/* ---- Markdown ---- */

static void conf_cell(slm_buf *b, double v)
{
    if (isnan(v))
        slm_buf_puts(b, "–");
    else
        slm_buf_printf(b, "%.3f", v);
}

/* The first SLM_DIFF_TEXT_CHARS code points of s as a cell, "…" when cut. */
static void text_cell(slm_buf *b, const char *s)
{
    if (!s) {
        slm_buf_puts(b, "–");
        return;
    }
    size_t i = 0, chars = 0;
    while (s[i] && chars < SLM_DIFF_TEXT_CHARS) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    char *t = slm_xstrndup(s, i);
    slm_md_cell(b, t);
    free(t);
    if (s[i])
        slm_buf_puts(b, "…");
}

static void pred_cell(slm_buf *b, const char *pred)
{
    if (pred)
        slm_md_cell(b, pred);
    else
        slm_buf_puts(b, "(engine error)");
}

static void md_heading(const diff *d, slm_buf *b)
{
    slm_buf_puts(b, "# Changes between two runs\n\nBefore: candidate **");
    slm_md_cell(b, d->a.cand);
    slm_buf_printf(b, "** of run %lld (", (long long)d->a.run_id);
    slm_md_cell(b, d->a.info.name ? d->a.info.name : "–");
    slm_buf_puts(b, "); after: **");
    slm_md_cell(b, d->b.cand);
    slm_buf_printf(b, "** of run %lld (", (long long)d->b.run_id);
    slm_md_cell(b, d->b.info.name ? d->b.info.name : "–");
    slm_buf_puts(b, "); eval set ");
    slm_md_cell(b, d->b.info.evalset ? d->b.info.evalset : "–");
    slm_buf_printf(b, ". %zu examples paired by id.\n\n", d->n);
    for (const char *l = d->notes.data; l && *l;) {
        const char *e = strchr(l, '\n');
        char *line = slm_xstrndup(l, e ? (size_t)(e - l) : strlen(l));
        slm_buf_puts(b, "⚠ ");
        slm_md_cell(b, line);
        slm_buf_puts(b, "\n\n");
        free(line);
        l = e ? e + 1 : l + strlen(l);
    }
}

static void md_counts(const diff *d, slm_buf *b)
{
    long fx = d->count[K_FIXED], br = d->count[K_BROKEN];
    slm_buf_printf(b, "| change | examples |\n|---|---:|\n"
                      "| fixed (wrong → right) | %ld |\n| broken (right → wrong) | %ld |\n"
                      "| changed, still wrong | %ld |\n| unchanged | %ld |\n",
                   fx, br, d->count[K_CHANGED], d->count[K_SAME]);
    slm_buf_printf(b, "| **net** (fixed − broken) | %+ld", fx - br);
    if (d->n)
        slm_buf_printf(b, " (%+.1f points of accuracy)", 100.0 * (double)(fx - br) / (double)d->n);
    slm_buf_puts(b, " |\n\n");
    int exact = 0;
    double p = slm_mcnemar_p(br, fx, &exact);
    slm_buf_printf(b, "McNemar's test on the %ld discordant pairs (fixed against broken): "
                      "p = %.4g (%s).\n\n", fx + br, p,
                   exact ? "exact binomial" : "chi-square with continuity correction, b + c ≥ 25");
}

static int cmp_by_gold(const void *x, const void *y, const diff *d)
{
    const slm_diff_pair *p = &d->p[*(const size_t *)x], *q = &d->p[*(const size_t *)y];
    int c = strcmp(p->gold, q->gold);
    return c ? c : (p->idx_b > q->idx_b) - (p->idx_b < q->idx_b);
}

static const diff *g_sort_diff; /* qsort has no user pointer; set only while sorting */

static int cmp_gold(const void *x, const void *y)
{
    return cmp_by_gold(x, y, g_sort_diff);
}

/* Kind order of the example list: broken first (what got worse), then fixed, changed. */
static int cmp_kind(const void *x, const void *y)
{
    static const int rank[K_N] = {3, 1, 0, 2};
    const diff *d = g_sort_diff;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    int c = rank[d->kind[i]] - rank[d->kind[j]];
    return c ? c : (d->p[i].idx_b > d->p[j].idx_b) - (d->p[i].idx_b < d->p[j].idx_b);
}

/* The indices of the changed pairs, sorted by cmp. */
static size_t *changed(const diff *d, size_t *m, int (*cmp)(const void *, const void *))
{
    size_t *ix = slm_xmalloc((d->n ? d->n : 1) * sizeof *ix);
    *m = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->kind[i] != K_SAME)
            ix[(*m)++] = i;
    g_sort_diff = d;
    qsort(ix, *m, sizeof *ix, cmp);
    g_sort_diff = NULL;
    return ix;
}

static void md_by_class(const diff *d, slm_buf *b)
{
    size_t m;
    size_t *ix = changed(d, &m, cmp_gold);
    slm_buf_puts(b, "## By gold class\n\n| gold | fixed | broken | changed, still wrong | net |\n"
                    "|---|---:|---:|---:|---:|\n");
    for (size_t s = 0; s < m;) {
        long c[K_N] = {0};
        size_t e = s;
        while (e < m && !strcmp(d->p[ix[e]].gold, d->p[ix[s]].gold))
            c[d->kind[ix[e++]]]++;
        slm_buf_puts(b, "| ");
        slm_md_cell(b, d->p[ix[s]].gold);
        slm_buf_printf(b, " | %ld | %ld | %ld | %+ld |\n", c[K_FIXED], c[K_BROKEN], c[K_CHANGED],
                       c[K_FIXED] - c[K_BROKEN]);
        s = e;
    }
    slm_buf_puts(b, "\n");
    free(ix);
}

static void md_examples(const diff *d, long limit, slm_buf *b)
{
    size_t m;
    size_t *ix = changed(d, &m, cmp_kind);
    size_t shown = limit > 0 && (size_t)limit < m ? (size_t)limit : m;
    slm_buf_puts(b, "## Changed examples\n\n| change | id | gold | before | after | "
                    "confidence before | confidence after | text |\n"
                    "|---|---|---|---|---|---:|---:|---|\n");
    for (size_t k = 0; k < shown; k++) {
        const slm_diff_pair *p = &d->p[ix[k]];
        slm_buf_printf(b, "| %s | ", KIND_NAME[d->kind[ix[k]]]);
        slm_md_cell(b, p->example_id);
        slm_buf_puts(b, " | ");
        slm_md_cell(b, p->gold);
        slm_buf_puts(b, " | ");
        pred_cell(b, p->pred_a);
        slm_buf_puts(b, " | ");
        pred_cell(b, p->pred_b);
        slm_buf_puts(b, " | ");
        conf_cell(b, p->conf_a);
        slm_buf_puts(b, " | ");
        conf_cell(b, p->conf_b);
        slm_buf_puts(b, " | ");
        text_cell(b, text_of(d, p->example_id));
        slm_buf_puts(b, " |\n");
    }
    if (shown < m)
        slm_buf_printf(b, "\n%zu more changed examples not listed (--limit %ld; --limit 0 lists "
                          "all, the CSV has every one).\n", m - shown, limit);
    slm_buf_puts(b, "\n");
    free(ix);
}

int slm_diff_markdown(slm_store *st, const slm_diff_opts *o, slm_buf *out, char *err,
                      size_t errlen)
{
    diff d;
    int rc = diff_load(st, o, 1, &d, err, errlen);
    if (rc) {
        diff_free(&d);
        return rc;
    }
    md_heading(&d, out);
    if (d.n && d.count[K_SAME] == (long)d.n)
        slm_buf_printf(out, "**No changes**: all %zu paired examples have the same prediction "
                            "in both runs.\n\n", d.n);
    md_counts(&d, out);
    if (d.count[K_SAME] < (long)d.n) {
        md_by_class(&d, out);
        md_examples(&d, o->limit, out);
    }
    diff_free(&d);
    return 0;
}

int slm_diff_html(slm_store *st, const slm_diff_opts *o, slm_buf *out, char *err,
                  size_t errlen)
{
    slm_buf md = {0};
    int rc = slm_diff_markdown(st, o, &md, err, errlen);
    if (rc == 0) {
        slm_html_page_open(out);
        slm_md_to_html(md.data ? md.data : "", out);
        slm_html_page_close(out);
    }
    slm_buf_free(&md);
    return rc;
}

/* ---- CSV ---- */

int slm_diff_csv(slm_store *st, const slm_diff_opts *o, slm_buf *out, char *err,
                 size_t errlen)
{
    diff d;
    int rc = diff_load(st, o, 1, &d, err, errlen);
    if (rc) {
        diff_free(&d);
        return rc;
    }
    slm_buf_puts(out, "id,gold,change,before,after,confidence_before,confidence_after,text\n");
    for (size_t i = 0; i < d.n; i++) {
        const slm_diff_pair *p = &d.p[i];
        if (d.kind[i] == K_SAME)
            continue;
        const char *cells[] = {p->example_id, p->gold, KIND_NAME[d.kind[i]], p->pred_a,
                               p->pred_b};
        for (size_t k = 0; k < 5; k++) {
            slm_csv_field(out, cells[k], 0);
            slm_buf_putc(out, ',');
        }
        slm_csv_num(out, p->conf_a);
        slm_buf_putc(out, ',');
        slm_csv_num(out, p->conf_b);
        slm_buf_putc(out, ',');
        slm_csv_field(out, text_of(&d, p->example_id), 0);
        slm_buf_putc(out, '\n');
    }
    diff_free(&d);
    return 0;
}
