/* report_classes.c — see report_classes.h. */
#include "report_classes.h"
#include "mdfmt.h"
#include "csv_out.h"
#include "slm_limits.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef slm_cand_card cand_row;
typedef slm_run_facts run_info;

static void num(slm_buf *b, double v, int digits)
{
    slm_md_num(b, v, digits);
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

/* The size of the run's label set. */
static size_t n_labels(const run_info *r)
{
    json_t *labels = json_loads(r->labels_json ? r->labels_json : "[]", 0, NULL);
    size_t n = json_array_size(labels);
    json_decref(labels);
    return n;
}

/* Worst first: the lower F1, then the lower recall, then the larger support, then by
 * label; an undefined F1 (a label with neither gold examples nor answers) last. */
static int cmp_worst(const void *pa, const void *pb)
{
    const slm_class_stat *a = pa, *b = pb;
    if (isnan(a->f1) != isnan(b->f1))
        return isnan(a->f1) ? 1 : -1;
    if (!isnan(a->f1) && a->f1 != b->f1)
        return a->f1 < b->f1 ? -1 : 1;
    if (isnan(a->recall) != isnan(b->recall))
        return isnan(a->recall) ? 1 : -1;
    if (!isnan(a->recall) && a->recall != b->recall)
        return a->recall < b->recall ? -1 : 1;
    if (a->support != b->support)
        return a->support > b->support ? -1 : 1;
    return strcmp(a->label, b->label);
}

/* " | pred (count)": the answer most often given instead of gold (ties: the first in
 * stored order), "–" when every gold example was answered right. */
static void mistaken_for(const slm_conf_cell *cell, size_t ncell, const char *gold, slm_buf *b)
{
    const slm_conf_cell *best = NULL;
    for (size_t k = 0; k < ncell; k++)
        if (!strcmp(cell[k].gold, gold) && strcmp(cell[k].pred, gold) && cell[k].count > 0 &&
            (!best || cell[k].count > best->count))
            best = &cell[k];
    slm_buf_puts(b, " | ");
    if (!best) {
        slm_buf_puts(b, "–");
        return;
    }
    slm_md_cell(b, best->pred);
    slm_buf_printf(b, " (%ld)", best->count);
}

/* The SLM_REPORT_WORST_CLASSES labels of the label set with the lowest F1, each with the
 * answer it is most often mistaken for. */
static void worst_classes(slm_store *st, const cand_row *c, size_t nl, slm_buf *b)
{
    slm_class_stat *rows;
    size_t n;
    if (slm_store_classes(st, c->id, SLM_CLASSES_SET, &rows, &n, NULL, 0))
        return;
    slm_conf_cell *cell = NULL;
    size_t ncell = 0;
    if (slm_store_confusion(st, c->id, &cell, &ncell, NULL, 0))
        ncell = 0;
    qsort(rows, n, sizeof *rows, cmp_worst);
    size_t show = n < SLM_REPORT_WORST_CLASSES ? n : SLM_REPORT_WORST_CLASSES;
    slm_buf_printf(b, "Worst classes (the %zu of %zu labels with the lowest F1, then recall; "
                      "support: gold examples, predicted: answers; mistaken for: the "
                      "answer most often given instead, with its count):\n\n", show, nl);
    slm_buf_puts(b, "| label | F1 | recall | precision | support | predicted | mistaken for |\n"
                    "|---|---:|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < show; i++) {
        slm_buf_puts(b, "| ");
        slm_md_cell(b, rows[i].label);
        double v[] = {rows[i].f1, rows[i].recall, rows[i].precision};
        for (int k = 0; k < 3; k++) {
            slm_buf_puts(b, " | ");
            num(b, v[k], 3);
        }
        slm_buf_printf(b, " | %ld | %ld", rows[i].support, rows[i].predicted);
        mistaken_for(cell, ncell, rows[i].label, b);
        slm_buf_puts(b, " |\n");
    }
    slm_conf_cells_free(cell, ncell);
    slm_class_rows_free(rows, n);
}

typedef struct confusion_row {
    const char *gold, *pred;
    long count, gold_total;
} confusion_row;

static int cmp_gold(const void *pa, const void *pb)
{
    return strcmp(((const confusion_row *)pa)->gold, ((const confusion_row *)pb)->gold);
}

/* Largest count first, then the larger share of the gold label, then gold, predicted. */
static int cmp_confusion(const void *pa, const void *pb)
{
    const confusion_row *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->gold_total != b->gold_total) /* same count: the smaller class loses more */
        return a->gold_total < b->gold_total ? -1 : 1;
    int k = strcmp(a->gold, b->gold);
    return k ? k : strcmp(a->pred, b->pred);
}

/* The SLM_REPORT_TOP_CONFUSIONS largest off-diagonal cells of the confusion matrix, with
 * the share of the gold label's examples each one takes. */
static void top_confusions(slm_store *st, const run_info *r, const cand_row *c, slm_buf *b)
{
    slm_conf_cell *cell = NULL;
    size_t ncell = 0;
    if (slm_store_confusion(st, c->id, &cell, &ncell, NULL, 0))
        return;
    json_t *labels = json_loads(r->labels_json ? r->labels_json : "[]", 0, NULL);
    size_t nl = json_array_size(labels), noff = 0;
    confusion_row *off = slm_xcalloc(ncell + 1, sizeof *off);
    for (size_t k = 0; k < ncell; k++)
        if (strcmp(cell[k].gold, cell[k].pred) && cell[k].count > 0)
            off[noff++] = (confusion_row){cell[k].gold, cell[k].pred, cell[k].count, 0};
    /* each gold label's examples: its row's cells summed, the rows found by sorting */
    confusion_row *rowsum = slm_xcalloc(ncell + 1, sizeof *rowsum);
    for (size_t k = 0; k < ncell; k++)
        rowsum[k] = (confusion_row){cell[k].gold, "", cell[k].count, 0};
    qsort(rowsum, ncell, sizeof *rowsum, cmp_gold);
    for (size_t k = 0; k < ncell;) {
        size_t e = k;
        long t = 0;
        while (e < ncell && !strcmp(rowsum[e].gold, rowsum[k].gold))
            t += rowsum[e++].count;
        for (; k < e; k++)
            rowsum[k].gold_total = t;
    }
    for (size_t i = 0; i < noff; i++) {
        const confusion_row *g = bsearch(&off[i], rowsum, ncell, sizeof *rowsum, cmp_gold);
        off[i].gold_total = g ? g->gold_total : 0;
    }
    free(rowsum);
    qsort(off, noff, sizeof *off, cmp_confusion);
    size_t show = noff < SLM_REPORT_TOP_CONFUSIONS ? noff : SLM_REPORT_TOP_CONFUSIONS;
    slm_buf_printf(b, "\nTop confusions (the %zu largest of %zu off-diagonal cells; share: of "
                      "the gold label's examples):\n\n", show, noff);
    slm_buf_puts(b, "| gold | predicted | count | share of gold |\n|---|---|---:|---:|\n");
    for (size_t i = 0; i < show; i++) {
        int valid = 0;
        for (size_t l = 0; l < nl && !valid; l++)
            valid = !strcmp(json_string_value(json_array_get(labels, l)), off[i].pred);
        slm_buf_puts(b, "| ");
        slm_md_cell(b, off[i].gold);
        slm_buf_puts(b, valid ? " | " : " | (invalid) ");
        slm_md_cell(b, off[i].pred);
        slm_buf_printf(b, " | %ld | ", off[i].count);
        slm_md_pct(b, off[i].gold_total ? (double)off[i].count / (double)off[i].gold_total : NAN);
        slm_buf_puts(b, " |\n");
    }
    free(off);
    json_decref(labels);
    slm_conf_cells_free(cell, ncell);
}

/* "<details[ open]><summary>what</summary>" and a blank line: slm_md_to_html passes such
 * lines through (report_html.h). */
static void details_open(slm_buf *b, int open, const char *what)
{
    slm_buf_printf(b, "\n<details%s><summary>%s</summary>\n\n", open ? " open" : "", what);
}

void slm_report_classes_part(slm_store *st, const run_info *r, size_t i, int part, int html,
                             slm_buf *b)
{
    const cand_row *c = &r->c[i];
    size_t nl = n_labels(r);
    int full = nl <= SLM_REPORT_MAX_FULL_LABELS;
    if (part == SLM_CLASSES_PART_PER_CLASS) {
        if (c->error) {
            slm_buf_puts(b, "Error: ");
            slm_md_cell(b, c->error);
            slm_buf_puts(b, "\n\n");
        }
        if (!full)
            worst_classes(st, c, nl, b);
        if (html) {
            char *what = slm_xasprintf("Per-class results (%zu labels)", nl);
            details_open(b, full, what);
            free(what);
        } else if (full) {
            slm_buf_puts(b, "Per-class results:\n\n");
        }
        if (html || full)
            per_class(st, c, b);
        if (html)
            slm_buf_puts(b, "\n</details>\n");
    } else if (part == SLM_CLASSES_PART_CONFUSION) {
        if (!full)
            top_confusions(st, r, c, b);
        if (html)
            details_open(b, full, "Confusion matrix (rows: gold label, columns: prediction)");
        else if (full)
            slm_buf_puts(b, "\nConfusion matrix (rows: gold label, columns: prediction):\n\n");
        if (html || full)
            confusion(st, r, c, b);
        if (html)
            slm_buf_puts(b, "\n</details>\n");
    } else {
        if (html)
            details_open(b, 0, "Reliability table (15 equal-width bins)");
        reliability(st, c, b);
        if (html)
            slm_buf_puts(b, "\n</details>\n");
    }
}

void slm_report_classes_intro(const run_info *r, slm_buf *b)
{
    size_t nl = n_labels(r);
    slm_buf_puts(b, "\n### Per-class results\n");
    if (nl > SLM_REPORT_MAX_FULL_LABELS)
        slm_buf_printf(b, "\n%zu labels: below, each candidate's %d worst classes and %d "
                          "largest confusions. Every label's precision, recall, F1 and "
                          "support is in `per_class.csv` (written by `report --out`), "
                          "`report.html` (with the full confusion matrices) and "
                          "`report --json`.\n",
                       nl, SLM_REPORT_WORST_CLASSES, SLM_REPORT_TOP_CONFUSIONS);
}

void slm_report_classes_md(slm_store *st, const run_info *r, slm_buf *b)
{
    slm_report_classes_intro(r, b);
    for (size_t i = 0; i < r->nc; i++) {
        slm_buf_puts(b, "\n#### ");
        slm_md_cell(b, r->c[i].name);
        slm_buf_puts(b, "\n\n");
        for (int part = 0; part < 3; part++)
            slm_report_classes_part(st, r, i, part, 0, b);
    }
}

int slm_report_classes_csv(slm_store *st, const int64_t *run_ids, size_t n_runs, slm_buf *out,
                           char *err, size_t errlen)
{
    slm_buf_puts(out, "run_id,candidate,label,in_label_set,precision,recall,f1,support,"
                      "predicted\n");
    for (size_t k = 0; k < n_runs; k++) {
        run_info r;
        if (slm_store_run_facts(st, run_ids[k], &r, err, errlen)) {
            slm_run_facts_free(&r);
            return -1;
        }
        for (size_t i = 0; i < r.nc; i++) {
            slm_class_stat *rows;
            size_t n;
            if (slm_store_classes(st, r.c[i].id, SLM_CLASSES_SET_FIRST, &rows, &n, err,
                                  errlen)) {
                slm_run_facts_free(&r);
                return -1;
            }
            for (size_t j = 0; j < n; j++) {
                slm_buf_printf(out, "%lld,", (long long)r.id);
                slm_csv_field(out, r.c[i].name, 0);
                slm_buf_putc(out, ',');
                slm_csv_field(out, rows[j].label, 0);
                slm_buf_printf(out, ",%d", rows[j].in_label_set);
                double v[] = {rows[j].precision, rows[j].recall, rows[j].f1};
                for (int q = 0; q < 3; q++) {
                    slm_buf_putc(out, ',');
                    slm_csv_num(out, v[q]);
                }
                slm_buf_printf(out, ",%ld,%ld\n", rows[j].support, rows[j].predicted);
            }
            slm_class_rows_free(rows, n);
        }
        slm_run_facts_free(&r);
    }
    return 0;
}
