/* mdfmt.c — see mdfmt.h. */
#include "mdfmt.h"
#include "ctlesc.h"
#include "fields.h"

#include <math.h>
#include <stdio.h>

void slm_md_cell(slm_buf *b, const char *s)
{
    if (!s)
        return;
    for (; *s; s++) {
        size_t k;
        switch (*s) {
        case '|': slm_buf_puts(b, "\\|"); break;
        case '<': slm_buf_puts(b, "&lt;"); break;
        case '>': slm_buf_puts(b, "&gt;"); break;
        case '&': slm_buf_puts(b, "&amp;"); break;
        case '`': slm_buf_puts(b, "\\`"); break;
        case '*': slm_buf_puts(b, "\\*"); break;
        case '_': slm_buf_puts(b, "\\_"); break;
        case '[': slm_buf_puts(b, "\\["); break;
        case ']': slm_buf_puts(b, "\\]"); break;
        case '\r': break;
        case '\n': slm_buf_puts(b, " "); break;
        default:
            if ((k = slm_ctl_esc(b, s)))
                s += k - 1;
            else
                slm_buf_putc(b, *s);
        }
    }
}

void slm_md_num(slm_buf *b, double v, int digits)
{
    if (isnan(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    char t[64];
    if (fabs(v) >= 1e6 || (fabs(v) < 1e-3 && v != 0))
        slm_fmt_double(t, sizeof t, v, digits);
    else {
        /* fixed notation with `digits` significant digits, at most 3 decimals */
        int dec = digits - 1 - (v == 0 ? 0 : (int)floor(log10(fabs(v))));
        if (dec < 0)
            dec = 0;
        if (dec > 3)
            dec = 3;
        snprintf(t, sizeof t, "%.*f", dec, v);
    }
    slm_buf_puts(b, t);
}

void slm_md_pct(slm_buf *b, double v)
{
    if (isnan(v)) {
        slm_buf_puts(b, "–");
        return;
    }
    char t[32];
    snprintf(t, sizeof t, "%.1f%%", v * 100.0);
    slm_buf_puts(b, t);
}

void slm_md_field_val(slm_buf *b, const char *name, double v)
{
    const slm_field *f = slm_field_lookup(name);
    if (f && f->fmt == SLM_FMT_PCT)
        slm_md_pct(b, v);
    else if (f && f->fmt == SLM_FMT_COUNT && !isnan(v))
        slm_buf_printf(b, "%.0f", v);
    else
        slm_md_num(b, v, f && f->fmt == SLM_FMT_NUM ? f->digits : 4);
}
