/* gate_load.c — see gate_load.h; docs/loadstats.md "The gate" says why it judges so. */
#include "gate_load.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* "12.5/s [10, 15]" with "–" for an undefined number. */
static void fmt_best(const slm_load_best *b, char *out, size_t len)
{
    char v[3][32];
    const double x[3] = {b->rate, b->lo, b->hi};
    for (int i = 0; i < 3; i++) {
        if (isnan(x[i]))
            snprintf(v[i], sizeof v[i], "–");
        else
            snprintf(v[i], sizeof v[i], "%.4g", x[i]);
    }
    snprintf(out, len, "%s/s [%s, %s]", v[0], v[1], v[2]);
}

int slm_gate_load_judge(const slm_load_best *cand, const slm_load_best *base, double min_ratio,
                        char *detail, size_t len)
{
    char c[128], b[128];
    fmt_best(cand, c, sizeof c);
    fmt_best(base, b, sizeof b);
    int out = SLM_GATE_RATE_NOT_JUDGED;
    const char *why;
    double need_sure = min_ratio * base->lo, need = min_ratio * base->rate;
    if (!(min_ratio > 0)) {
        why = "not judged: min_ratio must be above 0";
    } else if (isnan(base->rate)) {
        why = "not judged: the baseline meets the SLO at no offered rate";
    } else if (!isnan(cand->hi) && !isnan(base->lo) && cand->hi <= need_sure) {
        out = SLM_GATE_RATE_FAILS;
        why = "fails: the candidate surely fails at a rate at or below min_ratio x the rate "
              "the baseline surely sustains (hi <= min_ratio x baseline lo)";
    } else if (!isnan(cand->rate) && cand->rate >= need) {
        out = SLM_GATE_RATE_PASSES;
        why = "passes: rate >= min_ratio x baseline rate";
    } else if (isnan(base->lo)) {
        why = "not judged: the baseline surely sustains no tested rate (no lower bound)";
    } else {
        why = "not judged: below min_ratio x baseline rate, but within the intervals "
              "(sweep finer or longer to decide)";
    }
    snprintf(detail, len, "candidate %s, baseline %s, min_ratio %.3g: %s", c, b, min_ratio, why);
    return out;
}

int slm_gate_load_parse(const slm_yaml *y, const slm_ynode *base, double *min_ratio, char *err,
                        size_t errlen)
{
    static const char *const keys[] = {"min_ratio", NULL};
    *min_ratio = NAN;
    const slm_ynode *m = slm_ymap_get(base, "max_rate_at_slo");
    if (!m)
        return 0;
    if (m->kind != SLM_Y_MAP)
        return slm_err(err, errlen, "%s:%d: max_rate_at_slo: expected a mapping such as "
                       "{min_ratio: 0.9}", y->path, m->line);
    if (slm_ymap_check_keys(y, m, keys, "max_rate_at_slo", err, errlen))
        return -1;
    int rc = slm_ymap_double(y, m, "min_ratio", min_ratio, err, errlen);
    if (rc < 0)
        return -1;
    if (rc > 0 || !(*min_ratio > 0 && *min_ratio <= 10)) {
        *min_ratio = NAN;
        return slm_err(err, errlen, "%s:%d: max_rate_at_slo: min_ratio must be a number in "
                       "(0, 10], e.g. 0.9", y->path, m->line);
    }
    return 0;
}
