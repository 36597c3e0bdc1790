/* json_out.c — see json_out.h. */
#include "json_out.h"

#include <math.h>
#include <stdlib.h>

json_t *slm_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *slm_json_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

int slm_json_emit(slm_buf *out, const json_t *root, size_t flags)
{
    char *s = json_dumps(root, flags);
    if (!s)
        return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == 0x7f) {
            slm_buf_puts(out, "\\u007f");
        } else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            slm_buf_printf(out, "\\u%04x", p[1]);
            p++;
        } else {
            slm_buf_putc(out, (char)*p);
        }
    }
    slm_buf_putc(out, '\n');
    free(s);
    return 0;
}
