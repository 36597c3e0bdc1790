/* load_read.c — see load_read.h. */
#include "load_read.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json_out.h"
#include "store_run.h"

/* The stored config's load: section, bootstrap replicates and seed. */
static int stored_cfg(slm_store *st, slm_load_data *d, char *err, size_t errlen)
{
    slm_resume_row r;
    int found = slm_store_run_to_resume(st, d->run_id, 1, &r, err, errlen);
    if (found != 0) {
        if (found > 0)
            slm_err(err, errlen, "no run %lld", (long long)d->run_id);
        return -1;
    }
    /* the text as stored (secrets redacted): the load: section holds none, and nothing
     * here opens a file the config names */
    const char *slash = strrchr(r.config_path, '/');
    char *dir = slash ? slm_xstrndup(r.config_path, (size_t)(slash - r.config_path))
                      : slm_xstrdup(".");
    slm_run_cfg *cfg = NULL;
    int rc = slm_run_cfg_parse(r.config_path, dir, r.config_text, strlen(r.config_text), &cfg,
                               err, errlen) ||
             slm_load_cfg_parse(cfg, &d->lc, err, errlen);
    if (!rc) {
        d->reps = cfg->bootstrap;
        d->seed = cfg->seed;
    }
    free(dir);
    slm_run_cfg_free(cfg);
    slm_resume_row_free(&r);
    return rc ? -1 : 0;
}

/* The saturation a level was judged with when it ran (load_read.h). */
static int stored_saturation(const slm_load_level_row *lv)
{
    if (!strcmp(lv->status, "saturated"))
        return 1;
    return !strcmp(lv->status, "complete") && isfinite(lv->offered_rps) ? 0 : -1;
}

/* One level: its requests (kept for the CDFs) and their statistics. */
static int read_level(slm_store *st, const slm_load_data *d, const slm_load_level_row *lv,
                      slm_load_report_level *out, char *err, size_t errlen)
{
    slm_load_req *rq = NULL;
    size_t nr = 0;
    if (slm_load_requests(st, lv->id, &rq, &nr, err, errlen))
        return -1;
    out->profile = lv->profile;
    out->offered_rps = lv->offered_rps;
    out->concurrency = lv->concurrency;
    out->req = rq;
    out->n_req = nr;
    if (slm_load_level_summarise(rq, nr, lv->window_ms, lv->offered_rps, &d->lc.slo, d->reps,
                                 (uint64_t)d->seed, &out->stats))
        return slm_err(err, errlen, "cannot summarise level %d of run %lld (out of memory)",
                       lv->idx, (long long)d->run_id);
    out->stats.saturated = stored_saturation(lv);
    out->saturated_why = out->stats.saturated == 1 ? lv->reason : NULL;
    return 0;
}

/* The best rate over the levels that ended (load_read.h). */
static slm_load_best best_rate(const slm_load_report_level *lv, const slm_load_level_row *rows,
                               size_t n)
{
    slm_load_level_stats *ended = slm_xcalloc(n ? n : 1, sizeof *ended);
    size_t *at = slm_xcalloc(n ? n : 1, sizeof *at);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].status, "complete") || !strcmp(rows[i].status, "saturated")) {
            at[k] = i;
            ended[k++] = lv[i].stats;
        }
    slm_load_best b = {NAN, NAN, NAN, (size_t)-1};
    slm_load_best_rate(ended, k, &b);
    if (b.level != (size_t)-1)
        b.level = at[b.level]; /* an index into all the candidate's levels */
    free(at);
    free(ended);
    return b;
}

/* Candidate c: its levels, their statistics, its best rate. */
static int read_cand(slm_store *st, slm_load_data *d, size_t c, int64_t cand_id, char *err,
                     size_t errlen)
{
    if (slm_load_levels(st, d->run_id, cand_id, &d->rows[c], &d->n_rows[c], err, errlen))
        return -1;
    size_t n = d->n_rows[c];
    d->levels[c] = slm_xcalloc(n ? n : 1, sizeof *d->levels[c]);
    for (size_t i = 0; i < n; i++)
        if (read_level(st, d, &d->rows[c][i], &d->levels[c][i], err, errlen))
            return -1;
    d->cands[c] = (slm_load_report_cand){.name = d->names[c], .levels = d->levels[c],
                                         .n_levels = n,
                                         .best = best_rate(d->levels[c], d->rows[c], n)};
    return 0;
}

int slm_load_read(slm_store *st, int64_t run_id, slm_load_data *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->run_id = run_id;
    char mode[16];
    if (slm_load_run_mode(st, run_id, mode, sizeof mode, err, errlen))
        return SLM_LOAD_READ_ERROR;
    if (strcmp(mode, "load")) {
        if (!mode[0])
            slm_err(err, errlen, "no run %lld", (long long)run_id);
        else
            slm_err(err, errlen, "run %lld is not a load test (mode %s)", (long long)run_id,
                    mode);
        return SLM_LOAD_READ_NOT_LOAD;
    }
    slm_cand *cands = NULL;
    size_t nc = 0;
    if (stored_cfg(st, out, err, errlen) ||
        slm_store_candidates(st, run_id, &cands, &nc, err, errlen))
        return SLM_LOAD_READ_ERROR;
    out->cands = slm_xcalloc(nc ? nc : 1, sizeof *out->cands);
    out->names = slm_xcalloc(nc ? nc : 1, sizeof *out->names);
    out->rows = slm_xcalloc(nc ? nc : 1, sizeof *out->rows);
    out->levels = slm_xcalloc(nc ? nc : 1, sizeof *out->levels);
    out->n_rows = slm_xcalloc(nc ? nc : 1, sizeof *out->n_rows);
    out->report = (slm_load_report){.cands = out->cands, .n_cands = nc, .slo = out->lc.slo};
    int rc = 0;
    for (size_t c = 0; c < nc; c++)
        out->names[c] = slm_xstrdup(cands[c].name);
    for (size_t c = 0; c < nc && !rc; c++)
        rc = read_cand(st, out, c, cands[c].id, err, errlen);
    slm_cands_free(cands, nc);
    if (rc) {
        slm_load_data_free(out);
        return SLM_LOAD_READ_ERROR;
    }
    return 0;
}

void slm_load_data_free(slm_load_data *d)
{
    if (!d)
        return;
    for (size_t c = 0; c < d->report.n_cands; c++) {
        for (size_t i = 0; d->levels && d->levels[c] && i < d->n_rows[c]; i++)
            free((void *)d->levels[c][i].req);
        if (d->levels)
            free(d->levels[c]);
        if (d->rows)
            slm_load_levels_free(d->rows[c], d->n_rows[c]);
        if (d->names)
            free(d->names[c]);
    }
    free(d->levels);
    free(d->rows);
    free(d->names);
    free(d->n_rows);
    free(d->cands);
    memset(d, 0, sizeof *d);
}

/* Adds each level's stored status, reason and window to the section's JSON levels. */
static void add_stored(const slm_load_data *d, json_t *cands)
{
    for (size_t c = 0; c < d->report.n_cands; c++) {
        json_t *levels = json_object_get(json_array_get(cands, c), "levels");
        for (size_t i = 0; i < d->n_rows[c]; i++) {
            json_t *l = json_array_get(levels, i);
            const slm_load_level_row *r = &d->rows[c][i];
            json_object_set_new(l, "idx", json_integer(r->idx)); /* load_levels.idx */
            json_object_set_new(l, "status", json_string(r->status));
            json_object_set_new(l, "reason", slm_json_str(r->reason));
            json_object_set_new(l, "window_ms", slm_json_num(r->window_ms));
        }
    }
}

int slm_load_data_json(const slm_load_data *d, slm_buf *out)
{
    slm_buf sec = {0};
    if (slm_load_report_json(&sec, &d->report)) {
        slm_buf_free(&sec);
        return -1;
    }
    json_t *s = json_loadb(sec.data, sec.len, 0, NULL);
    slm_buf_free(&sec);
    if (!s)
        return -1;
    json_t *root = json_pack("{s:I, s:s}", "run_id", (json_int_t)d->run_id, "profile",
                             slm_load_profile_name(d->lc.profile));
    json_object_update(root, s);
    json_decref(s);
    add_stored(d, json_object_get(root, "candidates"));
    int rc = slm_json_emit(out, root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return rc;
}
