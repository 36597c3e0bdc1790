/* loadcfg.c — see loadcfg.h. The section is read from the config's text again, so `run`
 * and `load` share one config file and its line numbers. */
#include "loadcfg.h"
#include "util.h"
#include "yamltree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const PROFILES[] = {"synchronous", "concurrent", "constant", "poisson",
                                       "sweep"};

const char *slm_load_profile_name(slm_load_profile p)
{
    return (unsigned)p < sizeof PROFILES / sizeof *PROFILES ? PROFILES[p] : "?";
}

int slm_parse_duration_ms(const char *s, double *ms)
{
    if (!s)
        return -1;
    size_t n = strlen(s), unit = 0;
    double scale = 0;
    if (n > 2 && !strcmp(s + n - 2, "ms"))
        unit = 2, scale = 1;
    else if (n > 1 && s[n - 1] == 's')
        unit = 1, scale = 1000;
    if (!unit)
        return -1;
    char *num = slm_xstrndup(s, n - unit);
    double v;
    int rc = slm_parse_double(slm_trim(num), &v);
    free(num);
    if (rc || !isfinite(v) || v < 0)
        return -1;
    *ms = v * scale;
    return 0;
}

/* A time key of m into *ms: 0 read, 1 absent, -1 err (a unit is required). */
static int get_time(const slm_yaml *y, const slm_ynode *m, const char *key, double *ms,
                    char *err, size_t errlen)
{
    const slm_ynode *v = slm_ymap_get(m, key);
    if (!v)
        return 1;
    if (v->kind != SLM_Y_SCALAR || slm_parse_duration_ms(v->scalar, ms))
        return slm_err(err, errlen, "%s:%d: key '%s': expected a time with its unit (e.g. "
                       "500ms or 2s), got '%s'", y->path, v->line, key,
                       v->kind == SLM_Y_SCALAR ? v->scalar : "a list or mapping");
    if (*ms > SLM_LOAD_MAX_DURATION_MS)
        return slm_err(err, errlen, "%s:%d: key '%s': %s is longer than the limit of %.0f s",
                       y->path, v->line, key, v->scalar, SLM_LOAD_MAX_DURATION_MS / 1000);
    return 0;
}

/* One rate: a number > 0 (requests/s). */
static int one_rate(const slm_yaml *y, const slm_ynode *v, double *out, char *err,
                    size_t errlen)
{
    if (v->kind != SLM_Y_SCALAR || slm_parse_double(v->scalar, out) || !isfinite(*out))
        return slm_err(err, errlen, "%s:%d: key 'rate': expected requests/s (a number), got "
                       "'%s'", y->path, v->line,
                       v->kind == SLM_Y_SCALAR ? v->scalar : "a mapping");
    if (!(*out > 0))
        return slm_err(err, errlen, "%s:%d: key 'rate': a rate must be > 0 requests/s, got %s",
                       y->path, v->line, v->scalar);
    return 0;
}

/* rate: one number or a list of them (one level each). */
static int get_rates(const slm_yaml *y, const slm_ynode *m, slm_load_cfg *c, char *err,
                     size_t errlen)
{
    const slm_ynode *v = slm_ymap_get(m, "rate");
    if (!v)
        return 0;
    if (v->kind != SLM_Y_SEQ)
        return one_rate(y, v, &c->rates[c->n_rates++], err, errlen);
    if (v->n == 0 || v->n > SLM_LOAD_MAX_LEVELS)
        return slm_err(err, errlen, "%s:%d: key 'rate': a list of 1 to %d rates", y->path,
                       v->line, SLM_LOAD_MAX_LEVELS);
    for (size_t i = 0; i < v->n; i++)
        if (one_rate(y, v->items[i], &c->rates[c->n_rates++], err, errlen))
            return -1;
    return 0;
}

/* slo: {ttft, tpot, itl, e2e, percentile}. */
static int get_slo(const slm_yaml *y, const slm_ynode *m, slm_load_cfg *c, char *err,
                   size_t errlen)
{
    c->slo = (slm_slo){NAN, NAN, NAN, NAN, 99};
    const slm_ynode *s = slm_ymap_get(m, "slo");
    if (!s)
        return 0;
    static const char *const keys[] = {"ttft", "tpot", "itl", "e2e", "percentile", NULL};
    if (s->kind != SLM_Y_MAP)
        return slm_err(err, errlen, "%s:%d: 'slo' must be a mapping (ttft, tpot, itl, e2e, "
                       "percentile)", y->path, s->line);
    if (slm_ymap_check_keys(y, s, keys, "slo", err, errlen) ||
        get_time(y, s, "ttft", &c->slo.ttft_ms, err, errlen) < 0 ||
        get_time(y, s, "tpot", &c->slo.tpot_ms, err, errlen) < 0 ||
        get_time(y, s, "itl", &c->slo.itl_ms, err, errlen) < 0 ||
        get_time(y, s, "e2e", &c->slo.e2e_ms, err, errlen) < 0 ||
        slm_ymap_double(y, s, "percentile", &c->slo.percentile, err, errlen) < 0)
        return -1;
    if (!(c->slo.percentile > 0 && c->slo.percentile < 100))
        return slm_err(err, errlen, "%s:%d: slo percentile must be in (0, 100), got %g",
                       y->path, slm_ymap_get(s, "percentile")->line, c->slo.percentile);
    return 0;
}

/* The scalar keys: profile, concurrency, rates (sweep), requests, order, seed, saturation. */
static int get_scalars(const slm_yaml *y, const slm_ynode *m, slm_load_cfg *c, char *err,
                       size_t errlen)
{
    const char *p = slm_ymap_str(m, "profile");
    if (!p)
        return slm_err(err, errlen, "%s:%d: load needs 'profile' (synchronous, concurrent, "
                       "constant, poisson or sweep)", y->path, m->line);
    c->profile = (slm_load_profile)-1;
    for (size_t i = 0; i < sizeof PROFILES / sizeof *PROFILES; i++)
        if (!strcmp(p, PROFILES[i]))
            c->profile = (slm_load_profile)i;
    if ((int)c->profile < 0)
        return slm_err(err, errlen, "%s:%d: key 'profile': expected synchronous, concurrent, "
                       "constant, poisson or sweep, got '%s'", y->path,
                       slm_ymap_get(m, "profile")->line, p);
    long conc = 64, k = 5, req = 0, seed = 1;
    const char *order = slm_ymap_str(m, "order");
    if (slm_ymap_long(y, m, "concurrency", &conc, err, errlen) < 0 ||
        slm_ymap_long(y, m, "rates", &k, err, errlen) < 0 ||
        slm_ymap_long(y, m, "requests", &req, err, errlen) < 0 ||
        slm_ymap_long(y, m, "seed", &seed, err, errlen) < 0 ||
        slm_ymap_double(y, m, "saturation", &c->saturation, err, errlen) < 0)
        return -1;
    if (conc < 1 || conc > SLM_MAX_CONCURRENCY)
        return slm_err(err, errlen, "%s:%d: key 'concurrency': %ld is out of range [1, %ld]",
                       y->path, slm_ymap_get(m, "concurrency")->line, conc, SLM_MAX_CONCURRENCY);
    if (k < 1 || k > SLM_LOAD_MAX_LEVELS - 2)
        return slm_err(err, errlen, "%s:%d: key 'rates': %ld is out of range [1, %d]", y->path,
                       slm_ymap_get(m, "rates")->line, k, SLM_LOAD_MAX_LEVELS - 2);
    if (slm_ymap_get(m, "requests") && (req < 1 || req > SLM_LOAD_MAX_REQUESTS))
        return slm_err(err, errlen, "%s:%d: key 'requests': %ld is out of range [1, %ld]",
                       y->path, slm_ymap_get(m, "requests")->line, req, SLM_LOAD_MAX_REQUESTS);
    if (order && strcmp(order, "in-order") && strcmp(order, "shuffled"))
        return slm_err(err, errlen, "%s:%d: key 'order': expected in-order or shuffled, got "
                       "'%s'", y->path, slm_ymap_get(m, "order")->line, order);
    if (!(c->saturation > 0 && c->saturation <= 1))
        return slm_err(err, errlen, "%s:%d: key 'saturation': the achieved / offered ratio "
                       "must be in (0, 1], got %g", y->path,
                       slm_ymap_get(m, "saturation")->line, c->saturation);
    c->concurrency = (int)conc;
    c->sweep_k = (int)k;
    c->requests = req;
    c->seed = seed;
    c->shuffled = order && !strcmp(order, "shuffled");
    return 0;
}

/* The level's length and phases: duration or requests, warm-up and cool-down inside. */
static int get_times(const slm_yaml *y, const slm_ynode *m, slm_load_cfg *c, char *err,
                     size_t errlen)
{
    int has_dur = slm_ymap_get(m, "duration") != NULL;
    if (has_dur && c->requests)
        return slm_err(err, errlen, "%s:%d: give a level's 'duration' or its 'requests', not "
                       "both", y->path, slm_ymap_get(m, "requests")->line);
    c->duration_ms = c->requests ? NAN : 30000;
    if (get_time(y, m, "duration", &c->duration_ms, err, errlen) < 0 ||
        get_time(y, m, "warmup", &c->warmup_ms, err, errlen) < 0 ||
        get_time(y, m, "cooldown", &c->cooldown_ms, err, errlen) < 0)
        return -1;
    if (has_dur && !(c->duration_ms > 0))
        return slm_err(err, errlen, "%s:%d: key 'duration': a level must last more than 0 s",
                       y->path, slm_ymap_get(m, "duration")->line);
    if (!c->requests && !(c->warmup_ms + c->cooldown_ms < c->duration_ms))
        return slm_err(err, errlen, "%s:%d: warmup (%g ms) and cooldown (%g ms) leave nothing "
                       "of the %g ms duration to measure", y->path, m->line, c->warmup_ms,
                       c->cooldown_ms, c->duration_ms);
    for (size_t i = 0; !c->requests && i < c->n_rates; i++)
        if (c->rates[i] * c->duration_ms / 1000 > SLM_LOAD_MAX_REQUESTS)
            return slm_err(err, errlen, "%s:%d: rate %g for %g s is more than the limit of "
                           "%ld requests a level", y->path, slm_ymap_get(m, "rate")->line,
                           c->rates[i], c->duration_ms / 1000, SLM_LOAD_MAX_REQUESTS);
    return 0;
}

/* Which keys go with which profile. */
static int check_profile(const slm_yaml *y, const slm_ynode *m, slm_load_cfg *c, char *err,
                         size_t errlen)
{
    int open_loop = c->profile == SLM_PROFILE_CONSTANT || c->profile == SLM_PROFILE_POISSON;
    const slm_ynode *r = slm_ymap_get(m, "rate");
    if (open_loop && !c->n_rates)
        return slm_err(err, errlen, "%s:%d: profile %s needs 'rate' (requests/s, or a list)",
                       y->path, m->line, PROFILES[c->profile]);
    if (!open_loop && r)
        return slm_err(err, errlen, "%s:%d: key 'rate' goes with profile constant or poisson, "
                       "not %s%s", y->path, r->line, PROFILES[c->profile],
                       c->profile == SLM_PROFILE_SWEEP ? " (a sweep finds its rates: 'rates: K')"
                                                       : "");
    if (slm_ymap_get(m, "rates") && c->profile != SLM_PROFILE_SWEEP)
        return slm_err(err, errlen, "%s:%d: key 'rates' (K levels) goes with profile sweep",
                       y->path, slm_ymap_get(m, "rates")->line);
    if (c->profile == SLM_PROFILE_SWEEP && c->concurrency < 2)
        return slm_err(err, errlen, "%s:%d: a sweep with concurrency %d has no room: its "
                       "saturation level would be the synchronous one (concurrency >= 2)",
                       y->path, slm_ymap_get(m, "concurrency") ?
                       slm_ymap_get(m, "concurrency")->line : m->line, c->concurrency);
    return 0;
}

int slm_load_cfg_parse(const slm_run_cfg *cfg, slm_load_cfg *out, char *err, size_t errlen)
{
    static const char *const keys[] = {"profile", "concurrency", "rate", "rates", "duration",
                                       "requests", "warmup", "cooldown", "order", "seed",
                                       "saturation", "slo", NULL};
    memset(out, 0, sizeof *out);
    out->saturation = 0.9;
    slm_yaml *y;
    if (slm_yaml_parse(cfg->path, cfg->text, strlen(cfg->text), &y, err, errlen))
        return -1;
    const slm_ynode *m = slm_ymap_get(y->root, "load");
    int rc;
    if (!m)
        rc = slm_err(err, errlen, "%s: no 'load:' section (profile, rate, duration, ...): "
                     "slmbench load needs one", cfg->path);
    else if (m->kind != SLM_Y_MAP)
        rc = slm_err(err, errlen, "%s:%d: 'load' must be a mapping (profile, rate, ...)",
                     cfg->path, m->line);
    else if (strcmp(cfg->mode, "generate"))
        rc = slm_err(err, errlen, "%s:%d: a load test needs mode: generate (each answer is "
                     "generated and judged), not %s", cfg->path,
                     slm_ymap_get(y->root, "mode") ? slm_ymap_get(y->root, "mode")->line
                                                   : m->line, cfg->mode);
    else
        rc = slm_ymap_check_keys(y, m, keys, "load", err, errlen) ||
             get_scalars(y, m, out, err, errlen) || get_rates(y, m, out, err, errlen) ||
             get_times(y, m, out, err, errlen) || get_slo(y, m, out, err, errlen) ||
             check_profile(y, m, out, err, errlen);
    if (m)
        out->line = m->line;
    slm_yaml_free(y);
    return rc ? -1 : 0;
}
