/* report_html.c — see report_html.h. */
#include "report_html.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>

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

void slm_md_to_html(const char *md, slm_buf *out)
{
    const char *p = md;
    int in_para = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *next = nl ? nl + 1 : p + len;
        if (len == 0) {
            if (in_para)
                slm_buf_puts(out, "</p>\n");
            in_para = 0;
            p = next;
            continue;
        }
        if (p[0] == '#') {
            int lvl = 0;
            while (lvl < (int)len && p[lvl] == '#')
                lvl++;
            if (in_para)
                slm_buf_puts(out, "</p>\n");
            in_para = 0;
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
            /* a table: header, separator, rows */
            const char *cell[128];
            size_t clen[128];
            size_t nh = split_row(p, len, cell, clen, 128);
            char align[128];
            memset(align, 'l', sizeof align);
            const char *sep = next;
            const char *snl = strchr(sep, '\n');
            size_t slen = snl ? (size_t)(snl - sep) : strlen(sep);
            int has_sep = slen && sep[0] == '|' && strstr(sep, "---") &&
                          (size_t)(strstr(sep, "---") - sep) < slen;
            if (has_sep) {
                const char *sc[128];
                size_t sl[128];
                size_t ns = split_row(sep, slen, sc, sl, 128);
                for (size_t k = 0; k < ns && k < 128; k++)
                    align[k] = sl[k] && sc[k][sl[k] - 1] == ':' ? 'r' : 'l';
                next = snl ? snl + 1 : sep + slen;
            }
            slm_buf_puts(out, "<div class=\"tw\"><table class=\"sortable\">\n<thead><tr>");
            for (size_t k = 0; k < nh; k++) {
                slm_buf_printf(out, "<th%s>", align[k] == 'r' ? " class=\"r\"" : "");
                inline_md(out, cell[k], clen[k]);
                slm_buf_puts(out, "</th>");
            }
            slm_buf_puts(out, "</tr></thead>\n<tbody>\n");
            p = next;
            while (*p == '|') {
                nl = strchr(p, '\n');
                len = nl ? (size_t)(nl - p) : strlen(p);
                size_t nc = split_row(p, len, cell, clen, 128);
                slm_buf_puts(out, "<tr>");
                for (size_t k = 0; k < nc; k++) {
                    slm_buf_printf(out, "<td%s>", k < 128 && align[k] == 'r' ? " class=\"r\"" : "");
                    inline_md(out, cell[k], clen[k]);
                    slm_buf_puts(out, "</td>");
                }
                slm_buf_puts(out, "</tr>\n");
                p = nl ? nl + 1 : p + len;
            }
            slm_buf_puts(out, "</tbody></table></div>\n");
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
    "th.sorted-desc::after{content:' \\25BC'}td.r,th.r{text-align:right;"
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

int slm_html_figure(slm_buf *out, const slm_figure *f)
{
    char *svg;
    size_t len;
    char e2[SLM_ERRLEN];
    if (slm_read_file(f->svg_path, &svg, &len, e2, sizeof e2))
        return -1;
    const char *cap = f->caption ? f->caption : f->name ? f->name : "";
    if (f->name)
        slm_buf_printf(out, "<figure id=\"fig-%s\"><img alt=\"", f->name);
    else
        slm_buf_puts(out, "<figure><img alt=\"");
    html_text(out, cap);
    slm_buf_puts(out, "\" src=\"data:image/svg+xml;base64,");
    slm_base64(out, svg, len);
    slm_buf_puts(out, "\"><figcaption>");
    html_text(out, cap);
    if (f->data_path) {
        slm_buf_puts(out, " — data: <code>");
        html_text(out, f->data_path);
        slm_buf_puts(out, "</code>");
    }
    slm_buf_puts(out, "</figcaption></figure>\n");
    free(svg);
    return 0;
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

int slm_report_html(slm_store *st, const int64_t *ids, size_t n, const slm_figure *figs,
                    size_t n_figs, const char *plots_note, slm_buf *out, char *err,
                    size_t errlen)
{
    slm_buf md = {0};
    if (slm_report_markdown(st, ids, n, &md, err, errlen)) {
        slm_buf_free(&md);
        return -1;
    }
    slm_html_page_open(out);
    slm_md_to_html(md.data ? md.data : "", out);
    slm_buf_free(&md);
    slm_buf_puts(out, "<h2>Plots</h2>\n");
    if (plots_note && *plots_note) {
        slm_buf_puts(out, "<p class=\"note\">");
        html_text(out, plots_note);
        slm_buf_puts(out, "</p>\n");
    }
    if (n_figs)
        slm_buf_puts(out, "<div class=\"figs\">\n");
    for (size_t i = 0; i < n_figs; i++) {
        if (figs[i].svg_path)
            slm_html_figure(out, &figs[i]); /* a figure that vanished is left out */
    }
    if (n_figs)
        slm_buf_puts(out, "</div>\n");
    slm_html_page_close(out);
    return 0;
}
