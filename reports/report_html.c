/* report_html.c — see report_html.h. */
#include "report_html.h"
#include "report.h"
#include "report_classes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int starts_entity(const char *p)
{
    /* &name; or &#123; or &#x1f; within a few characters */
    if (*p != '&')
        return 0;
    const char *q = p + 1;
    if (*q == '#') {
        q++;
        if (*q == 'x' || *q == 'X')
            q++;
    }
    int n = 0;
    while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')) {
        q++;
        n++;
    }
    return n > 0 && n < 10 && *q == ';';
}

/* Inline Markdown of one cell or paragraph line into HTML. */
/* The character at s as HTML text. With entities, an '&' that starts a character
 * reference (starts_entity) is kept as it is, so Markdown can carry &amp; and the like.
 * A control character is written visibly (slm_ctl_esc). Returns the bytes consumed. */
static size_t html_char(slm_buf *b, const char *s, int entities)
{
    size_t k = slm_ctl_esc(b, s);
    if (k)
        return k;
    switch (*s) {
    case '<': slm_buf_puts(b, "&lt;"); break;
    case '>': slm_buf_puts(b, "&gt;"); break;
    case '"': slm_buf_puts(b, "&quot;"); break;
    case '\'': slm_buf_puts(b, "&#39;"); break;
    case '&':
        if (entities && starts_entity(s))
            slm_buf_putc(b, '&');
        else
            slm_buf_puts(b, "&amp;");
        break;
    default: slm_buf_putc(b, *s);
    }
    return 1;
}

void slm_html_esc(slm_buf *b, const char *s)
{
    while (s && *s)
        s += html_char(b, s, 0);
}

static void inline_md(slm_buf *b, const char *s, size_t len)
{
    int bold = 0, code = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '\\' && i + 1 < len && strchr("\\|*_`[]#", s[i + 1])) {
            ch = s[++i];
            if (ch == '&' || ch == '<' || ch == '>')
                ; /* fall through to escaping below */
            else {
                slm_buf_putc(b, ch);
                continue;
            }
        } else if (ch == '*' && i + 1 < len && s[i + 1] == '*' && !code) {
            slm_buf_puts(b, bold ? "</strong>" : "<strong>");
            bold = !bold;
            i++;
            continue;
        } else if (ch == '`') {
            slm_buf_puts(b, code ? "</code>" : "<code>");
            code = !code;
            continue;
        } else if (ch == '!' && i + 1 < len && s[i + 1] == '[' && !code) {
            /* ![alt](src): an image relative to the report */
            const char *close = memchr(s + i, ']', len - i);
            if (close && (size_t)(close - s) + 1 < len && close[1] == '(') {
                const char *end = memchr(close, ')', len - (size_t)(close - s));
                if (end) {
                    slm_buf_puts(b, "<img alt=\"");
                    inline_md(b, s + i + 2, (size_t)(close - (s + i + 2)));
                    slm_buf_puts(b, "\" src=\"");
                    inline_md(b, close + 2, (size_t)(end - (close + 2)));
                    slm_buf_puts(b, "\">");
                    i = (size_t)(end - s);
                    continue;
                }
            }
        }
        i += html_char(b, s + i, 1) - 1; /* a C1 control is two bytes */
    }
    if (code)
        slm_buf_puts(b, "</code>");
    if (bold)
        slm_buf_puts(b, "</strong>");
}

/* Splits a table row "| a | b \\| c |" into cells at unescaped '|'. */
static size_t split_row(const char *line, size_t len, const char **cell, size_t *clen, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len && line[i] == ' ')
        i++;
    if (i < len && line[i] == '|')
        i++;
    size_t start = i;
    for (; i <= len; i++) {
        int end = i == len;
        if (!end && line[i] == '\\' && i + 1 < len) {
            i++;
            continue;
        }
        if (end || line[i] == '|') {
            if (end && i == start)
                break;
            size_t a = start, z = i;
            while (a < z && line[a] == ' ')
                a++;
            while (z > a && line[z - 1] == ' ')
                z--;
            if (n < max) {
                cell[n] = line + a;
                clen[n] = z - a;
                n++;
            }
            start = i + 1;
            if (end)
                break;
        }
    }
    /* a trailing '|' leaves an empty last cell: drop it */
    if (n && clen[n - 1] == 0 && len && line[len - 1] == '|')
        n--;
    return n;
}

/* The most cells a row of line may have: one more than its '|'. */
static size_t max_cells(const char *line, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += line[i] == '|';
    return n;
}

/* One table row of cells as <th> or <td>; right-aligned cells get class "r" unless the
 * table's class says so for all (rn). */
static void table_row(slm_buf *out, const char *line, size_t len, const char *align,
                      size_t nalign, int rn, const char *tag)
{
    size_t cap = max_cells(line, len);
    const char **cell = slm_xcalloc(cap, sizeof *cell);
    size_t *clen = slm_xcalloc(cap, sizeof *clen);
    size_t nc = split_row(line, len, cell, clen, cap);
    slm_buf_puts(out, "<tr>");
    for (size_t k = 0; k < nc; k++) {
        int r = k < nalign && align[k] == 'r';
        slm_buf_printf(out, "<%s%s>", tag, r && !rn ? " class=\"r\"" : "");
        inline_md(out, cell[k], clen[k]);
        if (!rn || strcmp(tag, "td")) /* HTML lets a cell end at the next one or the row's
                                         end: a 151 x 151 matrix is 114 KB lighter */
            slm_buf_printf(out, "</%s>", tag);
    }
    slm_buf_puts(out, "</tr>");
    free(cell);
    free(clen);
}

/* A table at p (its header line of len bytes; next: the line after): header, separator
 * (alignment), rows. A table whose columns are all right-aligned but the first (a
 * confusion matrix, a metric table) gets class "rn" and no class per cell, which keeps a
 * 151 x 151 matrix to a third of the bytes. Returns the first line after the table. */
static const char *md_table(slm_buf *out, const char *p, size_t len, const char *next)
{
    const char *sep = next;
    const char *snl = strchr(sep, '\n');
    size_t slen = snl ? (size_t)(snl - sep) : strlen(sep);
    int has_sep = slen && sep[0] == '|' && strstr(sep, "---") &&
                  (size_t)(strstr(sep, "---") - sep) < slen;
    size_t na = has_sep ? max_cells(sep, slen) : 0;
    char *align = slm_xcalloc(na + 1, 1);
    int rn = 0;
    if (has_sep) {
        const char **sc = slm_xcalloc(na, sizeof *sc);
        size_t *sl = slm_xcalloc(na, sizeof *sl);
        na = split_row(sep, slen, sc, sl, na);
        rn = na > 1;
        for (size_t k = 0; k < na; k++) {
            align[k] = sl[k] && sc[k][sl[k] - 1] == ':' ? 'r' : 'l';
            rn = rn && (align[k] == 'r') == (k > 0);
        }
        free(sc);
        free(sl);
        next = snl ? snl + 1 : sep + slen;
    }
    slm_buf_puts(out, rn ? "<div class=\"tw\"><table class=\"sortable rn\">\n<thead>"
                         : "<div class=\"tw\"><table class=\"sortable\">\n<thead>");
    table_row(out, p, len, align, na, rn, "th");
    slm_buf_puts(out, "</thead>\n<tbody>\n");
    p = next;
    while (*p == '|') {
        const char *nl = strchr(p, '\n');
        len = nl ? (size_t)(nl - p) : strlen(p);
        table_row(out, p, len, align, na, rn, "td");
        slm_buf_putc(out, '\n');
        p = nl ? nl + 1 : p + len;
    }
    slm_buf_puts(out, "</tbody></table></div>\n");
    free(align);
    return p;
}

/* A "<details>", "<details open>", optionally followed by "<summary>text</summary>", or
 * "</details>" line: written as that element, the summary's text escaped as any. 0 when
 * the line is not one of these. */
static int details_line(slm_buf *out, const char *p, size_t len)
{
    static const char *const open[] = {"<details open>", "<details>"};
    if (len == 10 && !strncmp(p, "</details>", 10)) {
        slm_buf_puts(out, "</details>\n");
        return 1;
    }
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(open[k]);
        if (len < n || strncmp(p, open[k], n))
            continue;
        const char *sum = p + n, *end = p + len;
        size_t sl = (size_t)(end - sum);
        if (sl && (sl < 19 || strncmp(sum, "<summary>", 9) || strncmp(end - 10, "</summary>", 10)))
            return 0;
        slm_buf_puts(out, open[k]);
        if (sl) {
            slm_buf_puts(out, "<summary>");
            inline_md(out, sum + 9, sl - 19);
            slm_buf_puts(out, "</summary>");
        }
        slm_buf_putc(out, '\n');
        return 1;
    }
    return 0;
}

/* The level of a heading line ("### x": 3), 0 when the line is no heading. */
static int heading_level(const char *p, size_t len)
{
    int lvl = 0;
    while (lvl < (int)len && p[lvl] == '#')
        lvl++;
    return lvl;
}

/* Where a claimed section ends: a heading of level <= lvl, or a "---" rule. */
static const char *skip_section(const char *p, int lvl)
{
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        int h = heading_level(p, len);
        if ((h && h <= lvl) || (len == 3 && !strncmp(p, "---", 3)))
            return p;
        p = nl ? nl + 1 : p + len;
    }
    return p;
}

void slm_md_to_html(const char *md, slm_buf *out)
{
    slm_md_to_html_hooked(md, out, NULL, NULL);
}

/* Long (a loop over the kinds of lines: headings, rules, details, tables, paragraphs)
 * because each kind closes an open paragraph and the table reads ahead several lines. */
void slm_md_to_html_hooked(const char *md, slm_buf *out, slm_md_hook hook, void *ctx)
{
    const char *p = md;
    int in_para = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *next = nl ? nl + 1 : p + len;
        if (len && (p[0] == '<' && details_line(out, p, len))) {
            if (in_para)
                slm_buf_puts(out, "</p>\n");
            in_para = 0;
            p = next;
            continue;
        }
        if (len == 0) {
            if (in_para)
                slm_buf_puts(out, "</p>\n");
            in_para = 0;
            p = next;
            continue;
        }
        if (p[0] == '#') {
            int lvl = heading_level(p, len);
            if (in_para)
                slm_buf_puts(out, "</p>\n");
            in_para = 0;
            size_t tl = len > (size_t)lvl + 1 ? len - (size_t)lvl - 1 : 0;
            if (hook && hook(ctx, lvl, p + lvl + 1, tl, out)) {
                p = skip_section(next, lvl);
                continue;
            }
            slm_buf_printf(out, "<h%d>", lvl);
            inline_md(out, p + lvl + 1, len > (size_t)lvl + 1 ? len - (size_t)lvl - 1 : 0);
            slm_buf_printf(out, "</h%d>\n", lvl);
            p = next;
            continue;
        }
        if (len == 3 && !strncmp(p, "---", 3)) {
            if (in_para)
                slm_buf_puts(out, "</p>\n");
            in_para = 0;
            slm_buf_puts(out, "<hr>\n");
            p = next;
            continue;
        }
        if (p[0] == '|') {
            if (in_para)
                slm_buf_puts(out, "</p>\n");
            in_para = 0;
            p = md_table(out, p, len, next);
            continue;
        }
        if (!in_para)
            slm_buf_puts(out, "<p>");
        else
            slm_buf_putc(out, '\n');
        in_para = 1;
        inline_md(out, p, len);
        p = next;
    }
    if (in_para)
        slm_buf_puts(out, "</p>\n");
    if (hook)
        hook(ctx, 0, NULL, 0, out);
}

static const char CSS[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;"
    "max-width:1200px;padding:1.5em;color:#1d1d1f;background:#fff}"
    "h1{font-size:1.8em;margin:.2em 0 .6em}h2{border-bottom:2px solid #e3e3e8;padding-bottom:.2em;"
    "margin-top:1.8em}h3{margin-top:1.6em}"
    ".tw{overflow-x:auto;margin:.6em 0 1.2em}table{border-collapse:collapse;font-size:.9em}"
    "th,td{padding:.35em .7em;border-bottom:1px solid #e3e3e8;white-space:nowrap}"
    "th{background:#f4f4f7;cursor:pointer;user-select:none;position:sticky;top:0}"
    "th:hover{background:#e8e8f0}th.sorted-asc::after{content:' \\25B2'}"
    "th.sorted-desc::after{content:' \\25BC'}td.r,th.r,.rn td+td,.rn th+th{text-align:right;"
    "font-variant-numeric:tabular-nums}tbody tr:hover{background:#fafaff}"
    "code{background:#f4f4f7;padding:0 .25em;border-radius:3px}"
    "figure{margin:1.2em 0;padding:.8em;border:1px solid #e3e3e8;border-radius:6px}"
    "figure img{max-width:100%;height:auto}figcaption{color:#555;font-size:.9em;margin-top:.4em}"
    ".note{background:#fff8e5;border-left:4px solid #f0b400;padding:.6em .9em}"
    ".figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:1em}";

/* Click a header to sort its table; numbers (with %, ms, ×) sort numerically. */
static const char JS[] =
    "document.querySelectorAll('table.sortable').forEach(function(t){"
    "t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){"
    "var asc=!th.classList.contains('sorted-asc');t.querySelectorAll('th').forEach(function(h){"
    "h.classList.remove('sorted-asc','sorted-desc')});th.classList.add(asc?'sorted-asc':'sorted-desc');"
    "var tb=t.tBodies[0];var rows=Array.prototype.slice.call(tb.rows);"
    "function key(r){var s=(r.cells[i]||{}).textContent||'';var n=parseFloat(s.replace(/[^0-9eE+\\-.]/g,''));"
    "return isNaN(n)||!/[0-9]/.test(s)?s.toLowerCase():n}"
    "rows.sort(function(a,b){var x=key(a),y=key(b);if(typeof x!==typeof y){x=String(x);y=String(y)}"
    "return (x<y?-1:x>y?1:0)*(asc?1:-1)});rows.forEach(function(r){tb.appendChild(r)})})})});";

static void html_text(slm_buf *b, const char *s)
{
    inline_md(b, s, strlen(s));
}

/* f embedded from path (its image as mime), caption and data file below; with links to
 * the full-size images beside the data file when `links`. -1 when path cannot be read. */
static int embed_figure(slm_buf *out, const slm_figure *f, const char *path, const char *mime,
                        int links)
{
    char *img;
    size_t len;
    char e2[SLM_ERRLEN];
    if (slm_read_file(path, &img, &len, e2, sizeof e2))
        return -1;
    const char *cap = f->caption ? f->caption : f->name ? f->name : "";
    if (f->name)
        slm_buf_printf(out, "<figure id=\"fig-%s\"><img alt=\"", f->name);
    else
        slm_buf_puts(out, "<figure><img alt=\"");
    html_text(out, cap);
    slm_buf_printf(out, "\" src=\"data:%s;base64,", mime);
    slm_base64(out, img, len);
    slm_buf_puts(out, "\"><figcaption>");
    html_text(out, cap);
    if (f->data_path) {
        slm_buf_puts(out, " — data: <code>");
        html_text(out, f->data_path);
        slm_buf_puts(out, "</code>");
        size_t dl = strlen(f->data_path);
        if (links && dl > 4 && !strcmp(f->data_path + dl - 4, ".dat")) {
            char *stem = slm_xasprintf("%.*s", (int)(dl - 4), f->data_path);
            slm_buf_puts(out, "; full size: ");
            for (int k = 0; k < 2; k++) {
                slm_buf_puts(out, k ? ", <a href=\"" : "<a href=\"");
                slm_html_esc(out, stem);
                slm_buf_printf(out, ".%s\">%s</a>", k ? "png" : "svg", k ? "PNG" : "SVG");
            }
            free(stem);
        }
    }
    slm_buf_puts(out, "</figcaption></figure>\n");
    free(img);
    return 0;
}

int slm_html_figure(slm_buf *out, const slm_figure *f)
{
    return embed_figure(out, f, f->svg_path, "image/svg+xml", 0);
}

/* f embedded as the smaller of its SVG and the PNG beside it (same stem): a heatmap of
 * 151 labels is 3.7 MB of SVG and 0.4 MB of PNG, a line chart the other way round. */
static int html_figure_smallest(slm_buf *out, const slm_figure *f)
{
    size_t n = strlen(f->svg_path);
    if (n < 4 || strcmp(f->svg_path + n - 4, ".svg"))
        return slm_html_figure(out, f);
    char *png = slm_xasprintf("%.*s.png", (int)(n - 4), f->svg_path);
    struct stat a, b;
    int use_png = stat(png, &b) == 0 && stat(f->svg_path, &a) == 0 && b.st_size < a.st_size;
    int rc = use_png ? embed_figure(out, f, png, "image/png", 1)
                     : embed_figure(out, f, f->svg_path, "image/svg+xml", 1);
    free(png);
    return rc;
}

void slm_html_page_open(slm_buf *out)
{
    slm_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
                      "<title>slmbench report</title>\n<style>");
    slm_buf_puts(out, CSS);
    slm_buf_puts(out, "</style>\n</head>\n<body>\n");
}

void slm_html_page_close(slm_buf *out)
{
    slm_buf_puts(out, "<script>");
    slm_buf_puts(out, JS);
    slm_buf_puts(out, "</script>\n</body>\n</html>\n");
}

/* ---- the report page: figures next to the tables they illustrate ---- */

typedef struct page {
    slm_store *st;
    slm_run_facts *runs;
    size_t n_runs, class_blocks; /* the per-class sections seen so far, one per run */
    const slm_figure *figs;
    size_t n_figs;
    unsigned char *placed;       /* per figure: embedded already */
    const char *section;         /* the heading of the section being written (not
                                    terminated: section_len bytes), NULL for none */
    size_t section_len;
} page;

/* Which figures end which section of report.c, by the heading's first word. */
static const struct {
    const char *heading;
    const char *figs[2];
} NEAR[] = {
    {"Comparison", {"accuracy_latency", NULL}},
    {"Calibration", {"reliability", "risk_coverage"}},
    {"Latency", {"latency_cdf", NULL}},
    {"Performance", {"counters", NULL}},
};

/* Embeds the figure called name, once. */
static void place(page *pg, const char *name, slm_buf *out)
{
    for (size_t i = 0; i < pg->n_figs; i++)
        if (!pg->placed[i] && pg->figs[i].name && !strcmp(pg->figs[i].name, name) &&
            pg->figs[i].svg_path && html_figure_smallest(out, &pg->figs[i]) == 0)
            pg->placed[i] = 1;
}

/* The figure called name as links to its images (too large to embed: the whole confusion
 * matrix of many labels), once. */
static void link_figure(page *pg, const char *name, slm_buf *out)
{
    for (size_t i = 0; i < pg->n_figs; i++) {
        const slm_figure *f = &pg->figs[i];
        size_t dl = f->data_path ? strlen(f->data_path) : 0;
        if (pg->placed[i] || !f->name || strcmp(f->name, name) || !f->svg_path || dl < 5)
            continue;
        char *stem = slm_xasprintf("%.*s", (int)(dl - 4), f->data_path);
        slm_buf_puts(out, "<p>");
        html_text(out, f->caption ? f->caption : name);
        for (int k = 0; k < 2; k++) {
            slm_buf_puts(out, k ? ", <a href=\"" : " <a href=\"");
            slm_html_esc(out, stem);
            slm_buf_printf(out, ".%s\">%s</a>", k ? "png" : "svg", k ? "PNG" : "SVG");
        }
        slm_buf_puts(out, " (data: <code>");
        html_text(out, f->data_path);
        slm_buf_puts(out, "</code>)</p>\n");
        free(stem);
        pg->placed[i] = 1;
    }
}

static void place_for_section(page *pg, slm_buf *out)
{
    if (!pg->section)
        return;
    for (size_t k = 0; k < sizeof NEAR / sizeof NEAR[0]; k++) {
        size_t n = strlen(NEAR[k].heading);
        if (pg->section_len >= n && !strncmp(pg->section, NEAR[k].heading, n))
            for (size_t j = 0; j < 2 && NEAR[k].figs[j]; j++)
                place(pg, NEAR[k].figs[j], out);
    }
}

/* Markdown of md as HTML, md emptied. */
static void flush_md(slm_buf *md, slm_buf *out)
{
    slm_md_to_html(md->data ? md->data : "", out);
    md->len = 0;
    if (md->data)
        md->data[0] = '\0';
}

/* The per-class section of the next run, in its HTML form (report_classes.h), the
 * per-class F1 chart first and each candidate's heatmap after its confusion tables. */
static void classes_html(page *pg, const slm_run_facts *r, size_t first, slm_buf *out)
{
    slm_buf md = {0};
    slm_report_classes_intro(r, &md);
    flush_md(&md, out);
    place(pg, "per_class_f1", out);
    for (size_t i = 0; i < r->nc; i++) {
        slm_buf_puts(&md, "#### ");
        slm_md_cell(&md, r->c[i].name);
        slm_buf_puts(&md, "\n\n");
        slm_report_classes_part(pg->st, r, i, SLM_CLASSES_PART_PER_CLASS, 1, &md);
        slm_report_classes_part(pg->st, r, i, SLM_CLASSES_PART_CONFUSION, 1, &md);
        flush_md(&md, out);
        char name[48];
        snprintf(name, sizeof name, "confusion_%zu", first + i + 1);
        place(pg, name, out);
        snprintf(name, sizeof name, "confusion_%zu_full", first + i + 1);
        link_figure(pg, name, out);
        slm_report_classes_part(pg->st, r, i, SLM_CLASSES_PART_RELIABILITY, 1, &md);
        flush_md(&md, out);
    }
    slm_buf_free(&md);
}

static int page_hook(void *ctx, int level, const char *text, size_t len, slm_buf *out)
{
    page *pg = ctx;
    place_for_section(pg, out);
    pg->section = text;
    pg->section_len = len;
    static const char CLASSES[] = "Per-class results";
    if (level != 3 || len != sizeof CLASSES - 1 || strncmp(text, CLASSES, len) ||
        pg->class_blocks >= pg->n_runs)
        return 0;
    size_t first = 0;
    for (size_t k = 0; k < pg->class_blocks; k++)
        first += pg->runs[k].nc;
    classes_html(pg, &pg->runs[pg->class_blocks++], first, out);
    pg->section = NULL;
    return 1;
}

int slm_report_html(slm_store *st, const int64_t *ids, size_t n, const slm_figure *figs,
                    size_t n_figs, const char *plots_note, slm_buf *out, char *err,
                    size_t errlen)
{
    slm_buf md = {0};
    page pg = {.st = st, .figs = figs, .n_figs = n_figs};
    pg.runs = slm_xcalloc(n ? n : 1, sizeof *pg.runs);
    pg.placed = slm_xcalloc(n_figs ? n_figs : 1, 1);
    int rc = slm_report_markdown(st, ids, n, &md, err, errlen);
    for (; !rc && pg.n_runs < n; pg.n_runs++)
        rc = slm_store_run_facts(st, ids[pg.n_runs], &pg.runs[pg.n_runs], err, errlen);
    if (!rc) {
        slm_html_page_open(out);
        slm_md_to_html_hooked(md.data ? md.data : "", out, page_hook, &pg);
        slm_buf_puts(out, "<h2>Plots</h2>\n");
        if (plots_note && *plots_note) {
            slm_buf_puts(out, "<p class=\"note\">");
            html_text(out, plots_note);
            slm_buf_puts(out, "</p>\n");
        }
        size_t left = 0;
        for (size_t i = 0; i < n_figs; i++)
            left += !pg.placed[i] && figs[i].svg_path;
        if (n_figs)
            slm_buf_printf(out, "<p>%s</p>\n", left ? "The other figures:"
                                                    : "Each figure stands next to the table "
                                                      "it illustrates.");
        if (left)
            slm_buf_puts(out, "<div class=\"figs\">\n");
        for (size_t i = 0; i < n_figs; i++)
            if (!pg.placed[i] && figs[i].svg_path)
                html_figure_smallest(out, &figs[i]); /* a figure that vanished is left out */
        if (left)
            slm_buf_puts(out, "</div>\n");
        slm_html_page_close(out);
    }
    for (size_t i = 0; i < n; i++)
        slm_run_facts_free(&pg.runs[i]);
    free(pg.runs);
    free(pg.placed);
    slm_buf_free(&md);
    return rc;
}
