/* csv_out.c — the CSV writer of the exports (csv_out.h): cells quoted by libcsv where
 * needed, text guarded against spreadsheet formulas. Moved here from cmd_export.c so the
 * audit sample (cmd_sample.c) writes through the same guard. */
#include "csv_out.h"
#include "store_cli.h" /* slm_real_text */

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Spreadsheet formula injection (OWASP "CSV injection"): a cell that begins with = + - @,
 * a tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets. Such a
 * text cell is written with a single quote in front ('=cmd|...), which spreadsheets show
 * as text. So that the quote can be taken off again without doubt (the replay engine
 * does), a cell that begins with a quote followed by one of those characters or another
 * quote gets one more quote too: reading back removes one leading quote exactly where the
 * cell begins with ' and then one of = + - @ tab CR ', and that undoes this. A number
 * (-1, +0.5, -2e-3: what strtod reads whole, finite, made of digits, sign, point and
 * exponent) is not a formula and is written as it is. */
static int formula_start(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

static int plain_number(const char *s)
{
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return 0;
    char *end;
    double v = strtod(s, &end);
    return *end == '\0' && isfinite(v);
}

/* 1 when the cell s is written with a quote in front (see above). */
static int needs_guard(const char *s)
{
    if (s[0] == '\'')
        return s[1] == '\'' || formula_start(s[1]);
    return formula_start(s[0]) && !plain_number(s);
}

/* (csv_out.h) One CSV field through libcsv's writer. libcsv quotes every field it writes; a field
 * quoted only when it holds a comma, quote or line break is as valid RFC 4180 and keeps
 * the export what it always was, so plain fields are written as they are. */
void slm_csv_quote(slm_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (!strpbrk(s, ",\"\r\n")) {
        slm_buf_puts(b, s);
        return;
    }
    size_t need = csv_write(NULL, 0, s, n);
    char *q = slm_xmalloc(need);
    csv_write(q, need, s, n);
    for (size_t i = 0; i < need; i++)
        slm_buf_putc(b, q[i]);
    free(q);
}

/* (csv_out.h) A text cell: guarded against formulas (unless raw), then quoted where needed. */
void slm_csv_field(slm_buf *b, const char *s, int raw)
{
    if (!s)
        return;
    char *guarded = NULL;
    if (!raw && needs_guard(s))
        s = guarded = slm_xasprintf("'%s", s);
    slm_csv_quote(b, s);
    free(guarded);
}

void slm_csv_num(slm_buf *b, double v)
{
    if (isnan(v))
        return;
    char t[SLM_REAL_TEXT_LEN];
    slm_real_text(t, sizeof t, v);
    slm_buf_puts(b, t);
}
