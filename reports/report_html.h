/*
 * report_html.h — the self-contained HTML report: the Markdown report's content as HTML
 * (every table sortable by clicking a header), the plots embedded as data URIs, no network
 * access, no external file. Every model output and eval-set string is escaped.
 */
#ifndef SLM_REPORT_HTML_H
#define SLM_REPORT_HTML_H

#include "store.h"
#include "util.h"

typedef struct slm_figure {
    const char *name;      /* short id, e.g. "accuracy_latency" */
    const char *caption;
    const char *svg_path;  /* embedded; NULL to skip */
    const char *data_path; /* linked (relative to the report), may be NULL */
} slm_figure;

/* Converts the subset of Markdown that slmbench's reports use (headings, paragraphs,
 * tables, **bold**, `code`, backslash escapes, ![alt](src) images, ---) to HTML body
 * content. Characters that HTML treats specially are escaped; entities the Markdown
 * writer produced (&lt; &gt; &amp; &quot; &#NN;) are kept. */
void slm_md_to_html(const char *md, slm_buf *out);

/* Called by slm_md_to_html_hooked() at each heading line, before it is written (level
 * 1-6, text: the heading's text, len bytes, not terminated), and once at the end of the
 * document (level 0, text NULL). It may write to out (what belongs at the end of the
 * section that the heading closes, such as a figure). Returning 1 claims the heading's
 * section: the converter writes neither the heading nor the lines up to the next
 * heading of the same or a higher level or a "---" rule, and the hook has written what
 * stands in their place. */
typedef int (*slm_md_hook)(void *ctx, int level, const char *text, size_t len, slm_buf *out);

/* slm_md_to_html() with a hook (may be NULL). Both also pass through the lines
 * "<details>", "<details open>" (each optionally followed by "<summary>text</summary>",
 * the text escaped as any) and "</details>", as GitHub's Markdown does: the reports
 * collapse long tables with them. */
void slm_md_to_html_hooked(const char *md, slm_buf *out, slm_md_hook hook, void *ctx);

/* Text as HTML: < > & " ' escaped, nothing else touched (the one HTML escaper; Markdown
 * inline text goes through slm_md_to_html). */
void slm_html_esc(slm_buf *b, const char *s);

/* One figure: the SVG at f->svg_path embedded as a data URI in <figure>, the caption
 * (escaped) and the data file's name below it; id="fig-<name>" when f->name is set.
 * Every page with charts embeds them through here. -1 (nothing written) when the SVG
 * cannot be read. */
int slm_html_figure(slm_buf *out, const slm_figure *f);

/* The page around a report's body, as slm_report_html() writes it: slm_html_page_open()
 * (doctype, no-network policy, the style, <body>) before the content, slm_html_page_close()
 * (the table-sorting script, </body></html>) after it. The load test's report
 * (cmd_report.c) wraps its section in them. */
void slm_html_page_open(slm_buf *out);
void slm_html_page_close(slm_buf *out);

/* The whole page: Markdown report of the runs, figures (may be 0), and a note about plots
 * (e.g. why they were skipped; may be NULL). */
int slm_report_html(slm_store *st, const int64_t *run_ids, size_t n_runs,
                    const slm_figure *figs, size_t n_figs, const char *plots_note,
                    slm_buf *out, char *err, size_t errlen);

#endif
