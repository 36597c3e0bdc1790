/* run_scope.c — see run_scope.h. */
#include "run_scope.h"
#include "store_cli.h"
#include "store_reports.h"
#include "yamltree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of one row read through slm_store_each_table_row. */
typedef struct scope_row {
    const char *const *want; /* column names to keep, NULL-terminated */
    char *val[4];            /* their values (NULL for NULL or no row) */
    int idx[4];              /* their positions, -1 unknown */
} scope_row;

static void scope_take(size_t n, const char *const *v, void *ud)
{
    scope_row *r = ud;
    for (int k = 0; r->want[k]; k++) {
        if (r->idx[k] == -2) { /* the header: find the column */
            r->idx[k] = -1;
            for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i], r->want[k]))
                    r->idx[k] = (int)i;
            continue;
        }
        if (r->idx[k] >= 0 && v[r->idx[k]] && !r->val[k])
            r->val[k] = slm_xstrdup(v[r->idx[k]]);
    }
}

/* The first row of table for run_id: the values of want (caller frees r->val). */
static void scope_read(slm_store *st, const char *table, int64_t run_id, scope_row *r)
{
    for (int k = 0; k < 4; k++)
        r->idx[k] = -2, r->val[k] = NULL;
    if (slm_store_each_table_row(st, table, run_id, -1, scope_take, r, NULL, 0))
        for (int k = 0; k < 4; k++)
            free(r->val[k]), r->val[k] = NULL;
}

/* n with thousands separated by commas (3,080) into out. */
static void grouped(long n, char *out, size_t len)
{
    char d[32];
    int m = snprintf(d, sizeof d, "%ld", n), w = 0;
    for (int i = 0; i < m && (size_t)w + 2 < len; i++) {
        if (i && d[i - 1] != '-' && (m - i) % 3 == 0)
            out[w++] = ',';
        out[w++] = d[i];
    }
    out[w] = '\0';
}

/* limit and seed of a config as written (0 and 1 when it sets none). */
static void config_limit(const char *text, long *limit, long *seed)
{
    *limit = 0;
    *seed = 1;
    slm_yaml *y;
    if (!text || slm_yaml_parse("config", text, strlen(text), &y, NULL, 0))
        return;
    const char *l = slm_ymap_str(y->root, "limit"), *s = slm_ymap_str(y->root, "seed");
    if (l)
        slm_parse_long(l, limit);
    if (s)
        slm_parse_long(s, seed);
    slm_yaml_free(y);
}

void slm_report_run_scope(slm_store *st, int64_t run_id, long n_rows, slm_buf *b)
{
    static const char *const run_cols[] = {"shard", "config_text", NULL};
    static const char *const es_cols[] = {"task", "split_n_rows", NULL};
    slm_label_count *gc = NULL;
    size_t ng = 0;
    long scored = 0;
    if (slm_store_gold_counts(st, run_id, &gc, &ng, NULL, 0) == 0)
        for (size_t i = 0; i < ng; i++)
            scored += gc[i].n;
    slm_label_counts_free(gc, ng);
    scope_row run = {.want = run_cols}, es = {.want = es_cols};
    scope_read(st, "runs", run_id, &run);
    scope_read(st, "evalsets", run_id, &es);
    char a[32], w[32];
    grouped(scored, a, sizeof a);
    grouped(n_rows, w, sizeof w);
    int part = scored > 0 && scored < n_rows;
    long limit, seed;
    config_limit(run.val[1], &limit, &seed);
    /* The split's size before the sample is stored since schema 14; older runs: the
     * limit as written. */
    long whole = 0;
    if (es.val[1])
        slm_parse_long(es.val[1], &whole);
    int sampled = whole > 0 ? whole > n_rows : limit > 0 && limit <= n_rows;
    if (part)
        slm_buf_printf(b, "%s of %s examples", a, w);
    else
        slm_buf_printf(b, "%ld examples", n_rows);
    if (part && run.val[0])
        slm_buf_printf(b, " (shard %s%s", run.val[0], sampled ? "; " : ")");
    else if (sampled)
        slm_buf_puts(b, " (");
    if (sampled && whole > n_rows) {
        grouped(n_rows, a, sizeof a);
        grouped(whole, w, sizeof w);
        slm_buf_printf(b, "limit: %s of %s, ", a, w);
    } else if (sampled) {
        slm_buf_puts(b, "limit: ");
    }
    if (sampled)
        slm_buf_printf(b, "%s, seed %ld)",
                       es.val[0] && !strcmp(es.val[0], "classification")
                           ? "stratified by label" : "a random sample",
                       seed);
    for (int k = 0; k < 4; k++)
        free(run.val[k]), free(es.val[k]);
}
