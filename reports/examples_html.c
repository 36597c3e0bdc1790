/* examples_html.c — see examples_html.h. */
#include "examples_html.h"
#include "evalset.h"
#include "report_html.h"
#include "slm_limits.h"
#include "store_read.h"
#include "store_reports.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One example of the page: its index, id and gold label (owned by a candidate's rows). */
typedef struct ex_row {
    long idx;
    const char *id, *gold;
} ex_row;

typedef struct cand_preds {
    slm_pred *p; /* in example order */
    size_t n;
} cand_preds;

typedef struct page {
    slm_run_facts r;
    cand_preds *cp; /* one per candidate of r */
    ex_row *rows;   /* every example any candidate answered, in example order, once */
    size_t n_rows;
    slm_dataset *ds; /* the split file, when readable and unchanged */
    const char *text_note;
} page;

static int by_idx(const void *a, const void *b)
{
    long x = ((const ex_row *)a)->idx, y = ((const ex_row *)b)->idx;
    return (x > y) - (x < y);
}

static int pred_by_idx(const void *key, const void *elem)
{
    long x = *(const long *)key, y = ((const slm_pred *)elem)->example_idx;
    return (x > y) - (x < y);
}

/* The union of the candidates' examples, by index. */
static void collect_rows(page *pg)
{
    size_t total = 0;
    for (size_t k = 0; k < pg->r.nc; k++)
        total += pg->cp[k].n;
    pg->rows = slm_xcalloc(total + 1, sizeof *pg->rows);
    for (size_t k = 0; k < pg->r.nc; k++)
        for (size_t i = 0; i < pg->cp[k].n; i++) {
            const slm_pred *p = &pg->cp[k].p[i];
            pg->rows[pg->n_rows++] = (ex_row){p->example_idx, p->example_id, p->gold};
        }
    qsort(pg->rows, pg->n_rows, sizeof *pg->rows, by_idx);
    size_t w = 0;
    for (size_t i = 0; i < pg->n_rows; i++)
        if (!w || pg->rows[w - 1].idx != pg->rows[i].idx)
            pg->rows[w++] = pg->rows[i];
    pg->n_rows = w;
}

/* The split file's rows, when it is there and is the file the run read. */
static void load_texts(page *pg)
{
    char e[SLM_ERRLEN];
    if (!pg->r.es_path) {
        pg->text_note = "the run has no eval set recorded";
    } else if (slm_dataset_load(pg->r.es_path, NULL, &pg->ds, e, sizeof e)) {
        pg->text_note = "its split file cannot be read from the path recorded with the run "
                        "(relative to where the run was started)";
    } else if (pg->r.es_sha && strcmp(pg->ds->sha256, pg->r.es_sha)) {
        pg->text_note = "its split file changed since the run (or the split has slices)";
        slm_dataset_free(pg->ds);
        pg->ds = NULL;
    }
}

static const char *text_of(const page *pg, const ex_row *x)
{
    if (!pg->ds)
        return NULL;
    size_t i = (size_t)x->idx;
    if (x->idx >= 0 && i < pg->ds->n && !strcmp(pg->ds->rows[i].id, x->id))
        return pg->ds->rows[i].text;
    for (i = 0; i < pg->ds->n; i++)
        if (!strcmp(pg->ds->rows[i].id, x->id))
            return pg->ds->rows[i].text;
    return NULL;
}

/* s cut to SLM_EXAMPLES_TEXT_SHOWN bytes at a character boundary, escaped, "…" after a cut. */
static void text_cell(slm_buf *out, const char *s)
{
    slm_buf_puts(out, "<td class=\"t\">");
    if (!s) {
        slm_buf_puts(out, "–</td>");
        return;
    }
    size_t len = strlen(s);
    if (len > SLM_EXAMPLES_TEXT_SHOWN) {
        len = SLM_EXAMPLES_TEXT_SHOWN;
        while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    char *cut = slm_xstrndup(s, len);
    slm_html_esc(out, cut);
    free(cut);
    slm_buf_puts(out, len < strlen(s) ? "…</td>" : "</td>");
}

/* The candidate k's prediction of example x, or NULL. */
static const slm_pred *pred_of(const page *pg, size_t k, const ex_row *x)
{
    return bsearch(&x->idx, pg->cp[k].p, pg->cp[k].n, sizeof *pg->cp[k].p, pred_by_idx);
}

/* One example: data-g (gold), data-k (per candidate "1", "0" or "-"), data-c (per
 * candidate confidence or "-") for the filters, then the cells: id, gold, per candidate
 * its answer with ✓ or ✗ and its confidence, the text. */
static void example_row(slm_buf *out, const page *pg, const ex_row *x)
{
    slm_buf_puts(out, "<tr data-g=\"");
    slm_html_esc(out, x->gold);
    slm_buf_puts(out, "\" data-k=\"");
    for (size_t k = 0; k < pg->r.nc; k++) {
        const slm_pred *p = pred_of(pg, k, x);
        slm_buf_puts(out, k ? " " : "");
        slm_buf_puts(out, !p || !p->pred ? "-" : p->correct ? "1" : "0");
    }
    slm_buf_puts(out, "\" data-c=\"");
    for (size_t k = 0; k < pg->r.nc; k++) {
        const slm_pred *p = pred_of(pg, k, x);
        slm_buf_puts(out, k ? " " : "");
        if (p && isfinite(p->confidence))
            slm_buf_printf(out, "%.17g", p->confidence);
        else
            slm_buf_puts(out, "-");
    }
    slm_buf_puts(out, "\"><td>");
    slm_html_esc(out, x->id);
    slm_buf_puts(out, "</td><td>");
    slm_html_esc(out, x->gold);
    slm_buf_puts(out, "</td>");
    for (size_t k = 0; k < pg->r.nc; k++) {
        const slm_pred *p = pred_of(pg, k, x);
        if (!p) {
            slm_buf_puts(out, "<td>–</td><td class=\"r\">–</td>");
            continue;
        }
        if (p->pred) { /* the answer and whether it was right, in one cell */
            slm_buf_printf(out, "<td class=\"%s\">", p->correct ? "y" : "n");
            slm_html_esc(out, p->pred);
            slm_buf_puts(out, p->correct ? " ✓</td>" : " ✗</td>");
        } else {
            slm_buf_puts(out, "<td class=\"err\" title=\"");
            slm_html_esc(out, p->error ? p->error : "no answer");
            slm_buf_puts(out, "\">error</td>");
        }
        if (isfinite(p->confidence))
            slm_buf_printf(out, "<td class=\"r\">%.3f</td>", p->confidence);
        else
            slm_buf_puts(out, "<td class=\"r\">–</td>");
    }
    text_cell(out, text_of(pg, x));
    slm_buf_puts(out, "</tr>\n");
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The filter controls: the gold classes present, the candidates, correctness, range. */
static void controls(slm_buf *out, const page *pg)
{
    const char **g = slm_xcalloc(pg->n_rows + 1, sizeof *g);
    for (size_t i = 0; i < pg->n_rows; i++)
        g[i] = pg->rows[i].gold;
    qsort(g, pg->n_rows, sizeof *g, str_cmp);
    slm_buf_puts(out, "<div id=\"f\" class=\"filters\">"
                      "<label>gold class <select id=\"f-class\"><option value=\"\">all</option>");
    for (size_t i = 0; i < pg->n_rows; i++) {
        if (i && !strcmp(g[i], g[i - 1]))
            continue;
        slm_buf_puts(out, "<option>");
        slm_html_esc(out, g[i]);
        slm_buf_puts(out, "</option>");
    }
    free(g);
    slm_buf_puts(out, "</select></label> <label>candidate <select id=\"f-cand\">");
    for (size_t k = 0; k < pg->r.nc; k++) {
        slm_buf_puts(out, "<option>");
        slm_html_esc(out, pg->r.c[k].name);
        slm_buf_puts(out, "</option>");
    }
    slm_buf_puts(out, "</select></label> <label>answer <select id=\"f-correct\">"
                      "<option value=\"\">any</option><option value=\"1\">correct</option>"
                      "<option value=\"0\">wrong</option></select></label> "
                      "<label>confidence from <input id=\"f-cmin\" type=\"number\" min=\"0\" "
                      "max=\"1\" step=\"0.01\"></label> <label>to <input id=\"f-cmax\" "
                      "type=\"number\" min=\"0\" max=\"1\" step=\"0.01\"></label> "
                      "<output id=\"f-count\"></output></div>\n");
}

/* Filters the rows from the controls; the URL fragment and the controls are one state:
 * on load and on hashchange the fragment sets the controls and apply() runs, and a
 * control that changes writes the fragment and runs apply(). */
static const char FILTER_JS[] =
    "(function(){function $(i){return document.getElementById(i)}"
    "var F={'class':$('f-class'),cand:$('f-cand'),correct:$('f-correct'),cmin:$('f-cmin'),"
    "cmax:$('f-cmax')};var rows=Array.prototype.slice.call(document.querySelectorAll("
    "'#ex tbody tr'));function apply(){var c=F['class'].value,k=Math.max(0,F.cand.selectedIndex),"
    "ok=F.correct.value,lo=parseFloat(F.cmin.value),hi=parseFloat(F.cmax.value),n=0;"
    "rows.forEach(function(r){var rk=r.dataset.k.split(' ')[k],"
    "rc=parseFloat(r.dataset.c.split(' ')[k]);var show=(!c||r.dataset.g===c)&&(!ok||rk===ok)"
    "&&(isNaN(lo)||rc>=lo)&&(isNaN(hi)||rc<=hi);r.hidden=!show;if(show)n++});"
    "$('f-count').textContent=n+' of '+rows.length+' examples shown'}"
    "function fromHash(){var h=new URLSearchParams(location.hash.slice(1));"
    "Object.keys(F).forEach(function(k){F[k].value=h.get(k)||''});"
    "['class','cand','correct'].forEach(function(k){if(F[k].selectedIndex<0)"
    "F[k].selectedIndex=0});apply()}"
    "function toHash(){var h=new URLSearchParams();Object.keys(F).forEach(function(k){"
    "if(F[k].value&&(k!=='cand'||F.cand.selectedIndex>0))h.set(k,F[k].value)});"
    "history.replaceState(null,'','#'+h.toString());apply()}"
    "Object.keys(F).forEach(function(k){F[k].addEventListener('input',toHash);"
    "F[k].addEventListener('change',toHash)});"
    "window.addEventListener('hashchange',fromHash);fromHash()})();";

static const char PAGE_CSS[] =
    "body{max-width:none}td.y{color:#1b6e20}td.n{color:#b00020}"
    ".filters{display:flex;flex-wrap:wrap;gap:.5em 1.2em;align-items:center;margin:1em 0}"
    ".filters input{width:5em}td.t{white-space:normal;min-width:18em;max-width:48em}"
    "td.err{color:#b00020}#f-count{color:#555}";

static void page_body(slm_buf *out, const page *pg)
{
    slm_buf_printf(out, "<style>%s</style>\n<h1>Examples of run %lld: ", PAGE_CSS,
                   (long long)pg->r.id);
    slm_html_esc(out, pg->r.name ? pg->r.name : "");
    slm_buf_puts(out, "</h1>\n<p>Eval set <code>");
    slm_html_esc(out, pg->r.es_name ? pg->r.es_name : "–");
    slm_buf_puts(out, "</code>, split <code>");
    slm_html_esc(out, pg->r.split ? pg->r.split : "–");
    slm_buf_printf(out, "</code>: %zu examples, %zu candidates. Filter by gold class, by "
                        "whether the chosen candidate was right, and by its confidence; "
                        "click a header to sort.</p>\n", pg->n_rows, pg->r.nc);
    if (pg->text_note) {
        slm_buf_puts(out, "<p class=\"note\">Texts are not shown: ");
        slm_html_esc(out, pg->text_note);
        slm_buf_puts(out, " (<code>");
        slm_html_esc(out, pg->r.es_path ? pg->r.es_path : "–");
        slm_buf_puts(out, "</code>).</p>\n");
    }
    controls(out, pg);
    slm_buf_puts(out, "<div class=\"tw\"><table class=\"sortable\" id=\"ex\">\n<thead><tr>"
                      "<th>id</th><th>gold</th>");
    for (size_t k = 0; k < pg->r.nc; k++) {
        const char *what[] = {"", " conf"};
        for (int j = 0; j < 2; j++) {
            slm_buf_puts(out, j ? "<th class=\"r\">" : "<th>");
            slm_html_esc(out, pg->r.c[k].name);
            slm_buf_printf(out, "%s</th>", what[j]);
        }
    }
    slm_buf_puts(out, "<th>text</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < pg->n_rows; i++)
        example_row(out, pg, &pg->rows[i]);
    slm_buf_puts(out, "</tbody></table></div>\n");
    slm_buf_printf(out, "<script>%s</script>\n", FILTER_JS);
}

int slm_examples_html(slm_store *st, int64_t run_id, slm_buf *out, char *err, size_t errlen)
{
    page pg;
    memset(&pg, 0, sizeof pg);
    int rc = slm_store_run_facts(st, run_id, &pg.r, err, errlen);
    if (!rc) {
        pg.cp = slm_xcalloc(pg.r.nc + 1, sizeof *pg.cp);
        for (size_t k = 0; k < pg.r.nc && !rc; k++)
            rc = slm_store_predictions(st, pg.r.c[k].id, &pg.cp[k].p, &pg.cp[k].n, err, errlen);
    }
    if (!rc) {
        collect_rows(&pg);
        load_texts(&pg);
        slm_html_page_open(out);
        page_body(out, &pg);
        slm_html_page_close(out);
    }
    for (size_t k = 0; pg.cp && k < pg.r.nc; k++)
        slm_preds_free(pg.cp[k].p, pg.cp[k].n);
    free(pg.cp);
    free(pg.rows);
    slm_dataset_free(pg.ds);
    slm_run_facts_free(&pg.r);
    return rc;
}
