/* ctlesc.c — see ctlesc.h. */
#include "ctlesc.h"

size_t slm_ctl_esc(slm_buf *b, const char *s)
{
    unsigned char c = (unsigned char)s[0], d = c ? (unsigned char)s[1] : 0;
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\0') || c == 0x7f) {
        slm_buf_printf(b, "\\x%02x", c);
        return 1;
    }
    if (c == 0xc2 && d >= 0x80 && d <= 0x9f) {
        slm_buf_printf(b, "\\u%04x", d);
        return 2;
    }
    return 0;
}

void slm_ctl_text(slm_buf *b, const char *s)
{
    for (; s && *s; s++) {
        size_t k = slm_ctl_esc(b, s);
        if (k)
            s += k - 1;
        else
            slm_buf_putc(b, *s);
    }
}
