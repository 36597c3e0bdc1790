/* gnuplot.c — see gnuplot.h. */
#include "gnuplot.h"

#include <math.h>

void slm_gp_str(slm_buf *b, const char *s)
{
    slm_buf_putc(b, '\'');
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\'')
            slm_buf_puts(b, "''");
        else if (ch < 0x20 || ch == 0x7f)
            slm_buf_putc(b, ' ');
        else
            slm_buf_putc(b, (char)ch);
    }
    slm_buf_putc(b, '\'');
}

void slm_gp_dat_str(slm_buf *b, const char *s)
{
    slm_buf_putc(b, '"');
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"')
            slm_buf_putc(b, '\'');
        else if (ch < 0x20 || ch == 0x7f)
            slm_buf_putc(b, ' ');
        else
            slm_buf_putc(b, (char)ch);
    }
    slm_buf_putc(b, '"');
}

void slm_gp_num(slm_buf *b, double v)
{
    if (!isfinite(v)) {
        slm_buf_puts(b, "NaN");
        return;
    }
    char t[40];
    slm_fmt_double(t, sizeof t, v, 10);
    slm_buf_puts(b, t);
}
