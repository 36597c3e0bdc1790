/* report_classes.c — see report_classes.h. */
#include "report_classes.h"
#include "report.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef slm_cand_card cand_row;
typedef slm_run_facts run_info;

/* A number with `digits` significant digits in fixed notation (at most 3 decimals), or
 * slm_fmt_double's notation far from 1; "–" for NaN. As the rest of the report. */
static void num(slm_buf *b, double v, int digits)
{
    if (isnan(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    char t[64];
    if (fabs(v) >= 1e6 || (fabs(v) < 1e-3 && v != 0))
        slm_fmt_double(t, sizeof t, v, digits);
    else {
        int dec = digits - 1 - (v == 0 ? 0 : (int)floor(log10(fabs(v))));
        if (dec < 0)
            dec = 0;
        if (dec > 3)
            dec = 3;
        snprintf(t, sizeof t, "%.*f", dec, v);
    }
    slm_buf_puts(b, t);
}

static void per_class(slm_store *st, const cand_row *c, slm_buf *b)
{
    slm_class_stat *rows;
    size_t n;
    if (slm_store_classes(st, c->id, SLM_CLASSES_SET_FIRST, &rows, &n, NULL, 0))
        return;
    slm_buf_puts(b, "| label | precision | recall | F1 | support | predicted |\n");
    slm_buf_puts(b, "|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++) {
        slm_buf_puts(b, "| ");
        if (!rows[i].in_label_set)
            slm_buf_puts(b, "(invalid) ");
        slm_md_cell(b, rows[i].label);
        double v[] = {rows[i].precision, rows[i].recall, rows[i].f1};
        for (int k = 0; k < 3; k++) {
            slm_buf_puts(b, " | ");
            num(b, v[k], 3);
        }
        slm_buf_printf(b, " | %ld | %ld |\n", rows[i].support, rows[i].predicted);
    }
    slm_class_rows_free(rows, n);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The index of s among v[0..n), n when absent. */
static size_t str_index(char *const *v, size_t n, const char *s)
{
    size_t k = 0;
    while (k < n && strcmp(v[k], s))
        k++;
    return k;
}

static void confusion(slm_store *st, const run_info *r, const cand_row *c, slm_buf *b)
{
    json_t *labels = json_loads(r->labels_json ? r->labels_json : "[]", 0, NULL);
    size_t nl = json_array_size(labels);
    slm_conf_cell *cell = NULL;
    size_t ncell = 0;
    if (slm_store_confusion(st, c->id, &cell, &ncell, NULL, 0))
        ncell = 0;
    /* predicted strings outside the label set become extra columns, sorted */
    char **cols = slm_xcalloc(nl + ncell + 1, sizeof *cols);
    size_t ncols = 0;
    for (size_t i = 0; i < nl; i++)
        cols[ncols++] = slm_xstrdup(json_string_value(json_array_get(labels, i)));
    size_t first_extra = ncols;
    for (size_t k = 0; k < ncell; k++)
        if (str_index(cols, ncols, cell[k].pred) == ncols)
            cols[ncols++] = slm_xstrdup(cell[k].pred);
    qsort(cols + first_extra, ncols - first_extra, sizeof *cols, cmp_str);
    long *m = slm_xcalloc(nl * ncols + 1, sizeof *m);
    for (size_t k = 0; k < ncell; k++) {
        size_t gi = str_index(cols, nl, cell[k].gold), pi = str_index(cols, ncols, cell[k].pred);
        if (gi < nl && pi < ncols)
            m[gi * ncols + pi] += cell[k].count;
    }
    slm_conf_cells_free(cell, ncell);
    slm_buf_puts(b, "| gold \\ predicted |");
    for (size_t j = 0; j < ncols; j++) {
        slm_buf_puts(b, " ");
        slm_md_cell(b, cols[j]);
        slm_buf_puts(b, " |");
    }
    slm_buf_puts(b, "\n|---|");
    for (size_t j = 0; j < ncols; j++)
        slm_buf_puts(b, "---:|");
    slm_buf_puts(b, "\n");
    for (size_t i = 0; i < nl; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, cols[i]);
        slm_buf_puts(b, " |");
        for (size_t j = 0; j < ncols; j++)
            slm_buf_printf(b, i == j ? " **%ld** |" : " %ld |", m[i * ncols + j]);
        slm_buf_puts(b, "\n");
    }
    for (size_t j = 0; j < ncols; j++)
        free(cols[j]);
    free(cols);
    free(m);
    json_decref(labels);
}

static void reliability(slm_store *st, const cand_row *c, slm_buf *b)
{
    slm_rel_bin *bins;
    size_t n;
    if (slm_store_reliability(st, c->id, "width", &bins, &n, NULL, 0))
        return;
    if (n)
        slm_buf_puts(b, "\nReliability (15 equal-width bins of top-label confidence):\n\n"
                        "| bin | confidence range | examples | mean confidence | accuracy | gap |\n"
                        "|---:|---|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++) {
        int bin = bins[i].bin;
        long cnt = bins[i].count;
        double conf = bins[i].conf, acc = bins[i].acc;
        char t[96];
        snprintf(t, sizeof t, "| %d | %s%.3f, %.3f] | %ld | ", bin, bin == 1 ? "[" : "(",
                 (bin - 1) / 15.0, bin / 15.0, cnt);
        slm_buf_puts(b, t);
        num(b, conf, 3);
        slm_buf_puts(b, " | ");
        num(b, acc, 3);
        slm_buf_puts(b, " | ");
        num(b, cnt ? fabs(acc - conf) : NAN, 3);
        slm_buf_puts(b, " |\n");
    }
    free(bins);
}

void slm_report_classes_md(slm_store *st, const run_info *r, slm_buf *b)
{
    for (size_t i = 0; i < r->nc; i++) {
        const cand_row *c = &r->c[i];
        slm_buf_puts(b, "\n### ");
        slm_md_cell(b, c->name);
        slm_buf_puts(b, "\n\n");
        if (c->error) {
            slm_buf_puts(b, "Error: ");
            slm_md_cell(b, c->error);
            slm_buf_puts(b, "\n\n");
        }
        slm_buf_puts(b, "Per-class results:\n\n");
        per_class(st, c, b);
        slm_buf_puts(b, "\nConfusion matrix (rows: gold label, columns: prediction):\n\n");
        confusion(st, r, c, b);
        reliability(st, c, b);
    }
}
