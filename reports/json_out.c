/* json_out.c — see json_out.h. */
#include "json_out.h"

#include <math.h>

json_t *slm_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *slm_json_str(const char *s)
{
    return s ? json_string(s) : json_null();
}
