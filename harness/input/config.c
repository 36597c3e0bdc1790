/* config.c — see config.h. */
#include "config.h"
#include "sha256.h"
#include "util.h"
#include "yamltree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *resolve(const char *dir, const char *p)
{
    if (p[0] == '/' || !dir || !dir[0])
        return slm_xstrdup(p);
    return slm_xasprintf("%s/%s", dir, p);
}

static void add_opt(slm_cand_cfg *c, const char *k, const char *v)
{
    for (size_t i = 0; i < c->n_opts; i++)
        if (!strcmp(c->opts[i].key, k)) {
            free((char *)c->opts[i].value);
            c->opts[i].value = slm_xstrdup(v);
            return;
        }
    c->opts = slm_xrealloc(c->opts, (c->n_opts + 1) * sizeof *c->opts);
    c->opts[c->n_opts].key = slm_xstrdup(k);
    c->opts[c->n_opts++].value = slm_xstrdup(v);
}

const char *slm_cand_opt(const slm_cand_cfg *c, const char *key)
{
    for (size_t i = 0; i < c->n_opts; i++)
        if (!strcmp(c->opts[i].key, key))
            return c->opts[i].value;
    return NULL;
}

static int get_int(const slm_yaml *y, const slm_ynode *m, const char *key, int *out, long min,
                   long max, char *err, size_t errlen)
{
    long v;
    int rc = slm_ymap_long(y, m, key, &v, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return 0;
    if (v < min || v > max)
        return slm_err(err, errlen, "%s:%d: key '%s': %ld is out of range [%ld, %ld]", y->path,
                       slm_ymap_get(m, key)->line, key, v, min, max);
    *out = (int)v;
    return 0;
}

static int parse_candidate(const slm_yaml *y, const slm_ynode *n, slm_run_cfg *c,
                           slm_cand_cfg *cand, char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "engine", "model", "options", "chat_template",
                                       "threads", "constrained", "concurrency", NULL};
    cand->line = n->line;
    cand->chat_template = -1;
    if (n->kind != SLM_Y_MAP)
        return slm_err(err, errlen, "%s:%d: a candidate must be a mapping with name, engine, model",
                       y->path, n->line);
    if (slm_ymap_check_keys(y, n, keys, "a candidate", err, errlen))
        return -1;
    const char *name = slm_ymap_str(n, "name");
    if (!name || !*name)
        return slm_err(err, errlen, "%s:%d: candidate has no 'name'", y->path, n->line);
    for (const char *p = name; *p; p++)
        if (*p == ':' || *p == '\n' || *p == '/')
            return slm_err(err, errlen, "%s:%d: candidate name '%s' may not contain ':', '/' or newlines",
                           y->path, n->line, name);
    cand->name = slm_xstrdup(name);
    const char *engine = slm_ymap_str(n, "engine");
    cand->engine = slm_xstrdup(engine ? engine : "llamacpp");
    const char *model = slm_ymap_str(n, "model");
    if (model && *model) {
        /* As written, and resolved against the config's folder: the runner passes the one
         * its engine wants (a file for SLM_CAP_MODEL_FILE engines, else a name). */
        cand->model = slm_xstrdup(model);
        cand->model_path = resolve(c->dir, model);
        add_opt(cand, "model", cand->model);
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%d", c->threads);
    add_opt(cand, "threads", buf);
    int th = 0;
    if (get_int(y, n, "threads", &th, 1, 1024, err, errlen))
        return -1;
    if (th) {
        snprintf(buf, sizeof buf, "%d", th);
        add_opt(cand, "threads", buf);
    }
    int ct;
    int rc = slm_ymap_bool(y, n, "chat_template", &ct, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0)
        cand->chat_template = ct;
    if (slm_ymap_bool(y, n, "constrained", &cand->constrained, err, errlen) < 0)
        return -1;
    if (get_int(y, n, "concurrency", &cand->concurrency, 1, 1024, err, errlen))
        return -1;
    const slm_ynode *o = slm_ymap_get(n, "options");
    if (o) {
        if (o->kind != SLM_Y_MAP)
            return slm_err(err, errlen, "%s:%d: 'options' must be a mapping of names to values",
                           y->path, o->line);
        for (size_t i = 0; i < o->n; i++) {
            if (o->values[i]->kind != SLM_Y_SCALAR)
                return slm_err(err, errlen, "%s:%d: option '%s' must be a plain value", y->path,
                               o->values[i]->line, o->keys[i]);
            if (!strcmp(o->keys[i], "model"))
                return slm_err(err, errlen, "%s:%d: give the model as the candidate's 'model' key",
                               y->path, o->values[i]->line);
            add_opt(cand, o->keys[i], o->values[i]->scalar);
        }
    }
    return 0;
}

int slm_run_cfg_parse(const char *name, const char *dir, const char *text, size_t len,
                      slm_run_cfg **out, char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "evalset", "split", "mode", "threads", "warmup",
                                       "quantization", "choice_prefix", "max_tokens", "stop",
                                       "chat_template", "limit", "skip_bad_rows", "commit_every",
                                       "score_norm", "seed", "bootstrap", "coverage_targets",
                                       "calibration_split", "repeats", "interleave", "bandwidth",
                                       "counters", "events", "throughput", "requirements",
                                       "few_shot", "few_shot_seed", "concurrency",
                                       "cascade",
                                       "candidates", "description", NULL};
    slm_yaml *y;
    if (slm_yaml_parse(name, text, len, &y, err, errlen))
        return -1;
    slm_run_cfg *c = slm_xcalloc(1, sizeof *c);
    c->path = slm_xstrdup(name);
    c->dir = slm_xstrdup(dir ? dir : ".");
    c->text = slm_xstrndup(text, len);
    slm_sha256_hex(text, len, c->sha256);
    int rc = -1;
    const slm_ynode *r = y->root;
    if (!r || r->kind != SLM_Y_MAP) {
        slm_err(err, errlen, "%s:%d: expected a mapping (evalset, candidates, ...)", name,
                r ? r->line : 1);
        goto done;
    }
    if (slm_ymap_check_keys(y, r, keys, "the run config", err, errlen))
        goto done;
    const char *s;
    if ((s = slm_ymap_str(r, "name")) && *s) {
        c->name = slm_xstrdup(s);
    } else {
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        const char *dot = strrchr(base, '.');
        c->name = dot ? slm_xstrndup(base, (size_t)(dot - base)) : slm_xstrdup(base);
    }
    s = slm_ymap_str(r, "evalset");
    if (!s || !*s) {
        slm_err(err, errlen, "%s: missing 'evalset' (a folder with evalset.yaml)", name);
        goto done;
    }
    c->evalset = resolve(c->dir, s);
    c->split = slm_xstrdup((s = slm_ymap_str(r, "split")) ? s : "test");
    c->mode = slm_xstrdup((s = slm_ymap_str(r, "mode")) ? s : "score");
    if (strcmp(c->mode, "score") && strcmp(c->mode, "generate")) {
        slm_err(err, errlen, "%s:%d: key 'mode': expected score or generate, got '%s'", name,
                slm_ymap_get(r, "mode")->line, c->mode);
        goto done;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = ncpu > 0 ? (int)ncpu : 1;
    c->warmup = 2;
    c->max_tokens = 16;
    c->commit_every = 32;
    c->seed = 1;
    c->bootstrap = 1000;
    c->repeats = 1;
    c->concurrency = 1;
    c->bandwidth = 1;
    c->counters = 1;
    if (get_int(y, r, "threads", &c->threads, 1, 1024, err, errlen) ||
        get_int(y, r, "warmup", &c->warmup, 0, 1000, err, errlen) ||
        get_int(y, r, "max_tokens", &c->max_tokens, 1, 100000, err, errlen) ||
        get_int(y, r, "commit_every", &c->commit_every, 1, 100000, err, errlen) ||
        get_int(y, r, "bootstrap", &c->bootstrap, 0, 1000000, err, errlen) ||
        get_int(y, r, "repeats", &c->repeats, 1, 1000, err, errlen) ||
        get_int(y, r, "concurrency", &c->concurrency, 1, 1024, err, errlen) ||
        get_int(y, r, "few_shot", &c->few_shot, 0, 64, err, errlen) ||
        slm_ymap_bool(y, r, "interleave", &c->interleave, err, errlen) < 0 ||
        slm_ymap_bool(y, r, "bandwidth", &c->bandwidth, err, errlen) < 0 ||
        slm_ymap_bool(y, r, "counters", &c->counters, err, errlen) < 0 ||
        slm_ymap_bool(y, r, "throughput", &c->throughput, err, errlen) < 0)
        goto done;
    if (slm_ymap_long(y, r, "seed", &c->seed, err, errlen) < 0)
        goto done;
    c->few_shot_seed = 1;
    if (slm_ymap_long(y, r, "few_shot_seed", &c->few_shot_seed, err, errlen) < 0)
        goto done;
    if ((s = slm_ymap_str(r, "calibration_split")) && *s) {
        if (!strcmp(s, c->split)) {
            slm_err(err, errlen, "%s:%d: calibration_split '%s' is the split being evaluated; "
                    "temperature scaling is never fitted on the test split",
                    name, slm_ymap_get(r, "calibration_split")->line, s);
            goto done;
        }
        if (strcmp(c->mode, "score")) {
            slm_err(err, errlen, "%s:%d: calibration_split needs mode: score (temperature "
                    "scaling rescales label scores)", name,
                    slm_ymap_get(r, "calibration_split")->line);
            goto done;
        }
        c->calib_split = slm_xstrdup(s);
    }
    if ((s = slm_ymap_str(r, "score_norm"))) {
        if (!strcmp(s, "mean"))
            c->score_mean = 1;
        else if (strcmp(s, "sum")) {
            slm_err(err, errlen, "%s:%d: key 'score_norm': expected sum or mean, got '%s'", name,
                    slm_ymap_get(r, "score_norm")->line, s);
            goto done;
        }
    }
    if (c->throughput && strcmp(c->mode, "score")) {
        slm_err(err, errlen, "%s:%d: throughput mode needs mode: score", name,
                slm_ymap_get(r, "throughput")->line);
        goto done;
    }
    const slm_ynode *evn = slm_ymap_get(r, "events");
    if (evn) {
        if (evn->kind == SLM_Y_SCALAR) {
            /* "instructions,task-clock" */
            char *copy = slm_xstrdup(evn->scalar), *save = NULL;
            for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
                c->events = slm_xrealloc(c->events, (c->n_events + 1) * sizeof *c->events);
                c->events[c->n_events++] = slm_xstrdup(t);
            }
            free(copy);
        } else if (evn->kind == SLM_Y_SEQ) {
            for (size_t i = 0; i < evn->n; i++) {
                if (evn->items[i]->kind != SLM_Y_SCALAR) {
                    slm_err(err, errlen, "%s:%d: events must be names", name, evn->items[i]->line);
                    goto done;
                }
                c->events = slm_xrealloc(c->events, (c->n_events + 1) * sizeof *c->events);
                c->events[c->n_events++] = slm_xstrdup(evn->items[i]->scalar);
            }
        }
    }
    const slm_ynode *ct = slm_ymap_get(r, "coverage_targets");
    if (ct) {
        if (ct->kind != SLM_Y_SEQ || ct->n == 0 || ct->n > 8) {
            slm_err(err, errlen, "%s:%d: 'coverage_targets' must be a list of 1 to 8 accuracies",
                    name, ct->line);
            goto done;
        }
        for (size_t i = 0; i < ct->n; i++) {
            double v;
            if (ct->items[i]->kind != SLM_Y_SCALAR || slm_parse_double(ct->items[i]->scalar, &v) ||
                !(v > 0 && v <= 1)) {
                slm_err(err, errlen, "%s:%d: coverage targets are accuracies in (0, 1]", name,
                        ct->items[i]->line);
                goto done;
            }
            c->coverage_targets[c->n_coverage_targets++] = v;
        }
    } else {
        c->coverage_targets[0] = 0.90;
        c->coverage_targets[1] = 0.95;
        c->coverage_targets[2] = 0.99;
        c->n_coverage_targets = 3;
    }
    c->req_min_accuracy = c->req_max_ece = c->req_max_p95_ms = NAN;
    const slm_ynode *req = slm_ymap_get(r, "requirements");
    if (req) {
        static const char *const rkeys[] = {"min_accuracy", "max_ece", "max_p95_ms", NULL};
        if (req->kind != SLM_Y_MAP) {
            slm_err(err, errlen, "%s:%d: 'requirements' must be a mapping", name, req->line);
            goto done;
        }
        if (slm_ymap_check_keys(y, req, rkeys, "requirements", err, errlen) ||
            slm_ymap_double(y, req, "min_accuracy", &c->req_min_accuracy, err, errlen) < 0 ||
            slm_ymap_double(y, req, "max_ece", &c->req_max_ece, err, errlen) < 0 ||
            slm_ymap_double(y, req, "max_p95_ms", &c->req_max_p95_ms, err, errlen) < 0)
            goto done;
    }
    const slm_ynode *cas = slm_ymap_get(r, "cascade");
    if (cas) {
        static const char *const ckeys[] = {"threshold", "slm_cost", "escalation_cost",
                                            "escalation_accuracy", NULL};
        if (cas->kind != SLM_Y_MAP) {
            slm_err(err, errlen, "%s:%d: 'cascade' must be a mapping", name, cas->line);
            goto done;
        }
        if (slm_ymap_check_keys(y, cas, ckeys, "cascade", err, errlen))
            goto done;
        double *dst[] = {&c->cascade_threshold, &c->cascade_slm_cost, &c->cascade_esc_cost,
                         &c->cascade_esc_acc};
        for (int i = 0; i < 4; i++) {
            int rc2 = slm_ymap_double(y, cas, ckeys[i], dst[i], err, errlen);
            if (rc2 < 0)
                goto done;
            if (rc2 == 1) {
                slm_err(err, errlen, "%s:%d: cascade needs '%s'", name, cas->line, ckeys[i]);
                goto done;
            }
        }
        if (c->cascade_threshold < 0 || c->cascade_threshold > 1 || c->cascade_esc_acc < 0 ||
            c->cascade_esc_acc > 1 || c->cascade_slm_cost < 0 || c->cascade_esc_cost < 0) {
            slm_err(err, errlen, "%s:%d: cascade threshold and accuracy must be in [0, 1], costs "
                    ">= 0", name, cas->line);
            goto done;
        }
        c->has_cascade = 1;
    }
    int lim = 0;
    if (get_int(y, r, "limit", &lim, 0, 1 << 30, err, errlen))
        goto done;
    c->limit = lim;
    if ((s = slm_ymap_str(r, "quantization"))) {
        if (!strcmp(s, "mixed"))
            c->mixed_quant = 1;
        else if (strcmp(s, "same")) {
            slm_err(err, errlen, "%s:%d: key 'quantization': expected same or mixed, got '%s'",
                    name, slm_ymap_get(r, "quantization")->line, s);
            goto done;
        }
    }
    c->choice_prefix = slm_xstrdup((s = slm_ymap_str(r, "choice_prefix")) ? s : " ");
    if (slm_ymap_bool(y, r, "chat_template", &c->chat_template, err, errlen) < 0 ||
        slm_ymap_bool(y, r, "skip_bad_rows", &c->skip_bad_rows, err, errlen) < 0)
        goto done;
    const slm_ynode *stop = slm_ymap_get(r, "stop");
    if (stop) {
        if (stop->kind == SLM_Y_SCALAR) {
            c->stop = slm_xcalloc(1, sizeof *c->stop);
            c->stop[c->n_stop++] = slm_xstrdup(stop->scalar);
        } else if (stop->kind == SLM_Y_SEQ) {
            c->stop = slm_xcalloc(stop->n ? stop->n : 1, sizeof *c->stop);
            for (size_t i = 0; i < stop->n; i++) {
                if (stop->items[i]->kind != SLM_Y_SCALAR || !*stop->items[i]->scalar) {
                    slm_err(err, errlen, "%s:%d: stop strings must be non-empty strings", name,
                            stop->items[i]->line);
                    goto done;
                }
                c->stop[c->n_stop++] = slm_xstrdup(stop->items[i]->scalar);
            }
        } else {
            slm_err(err, errlen, "%s:%d: 'stop' must be a string or a list of strings", name,
                    stop->line);
            goto done;
        }
    } else {
        c->stop = slm_xcalloc(1, sizeof *c->stop);
        c->stop[c->n_stop++] = slm_xstrdup("\n");
    }
    const slm_ynode *cands = slm_ymap_get(r, "candidates");
    if (!cands || cands->kind != SLM_Y_SEQ || cands->n == 0) {
        slm_err(err, errlen, "%s:%d: 'candidates' must be a non-empty list", name,
                cands ? cands->line : r->line);
        goto done;
    }
    c->cands = slm_xcalloc(cands->n, sizeof *c->cands);
    for (size_t i = 0; i < cands->n; i++) {
        slm_cand_cfg *cc = &c->cands[c->n_cands++];
        if (parse_candidate(y, cands->items[i], c, cc, err, errlen))
            goto done;
        for (size_t k = 0; k + 1 < c->n_cands; k++)
            if (!strcmp(c->cands[k].name, cc->name)) {
                slm_err(err, errlen, "%s:%d: duplicate candidate name '%s'", name, cc->line,
                        cc->name);
                goto done;
            }
    }
    rc = 0;
done:
    slm_yaml_free(y);
    if (rc) {
        slm_run_cfg_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int slm_run_cfg_load(const char *path, slm_run_cfg **out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (slm_read_file(path, &text, &len, err, errlen))
        return -1;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? slm_xstrndup(path, (size_t)(slash - path)) : slm_xstrdup(".");
    if (!dir[0]) {
        free(dir);
        dir = slm_xstrdup("/");
    }
    int rc = slm_run_cfg_parse(path, dir, text, len, out, err, errlen);
    free(dir);
    free(text);
    return rc;
}

void slm_run_cfg_free(slm_run_cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_cands; i++) {
        slm_cand_cfg *cc = &c->cands[i];
        for (size_t k = 0; k < cc->n_opts; k++) {
            free((char *)cc->opts[k].key);
            free((char *)cc->opts[k].value);
        }
        free(cc->opts);
        free(cc->name);
        free(cc->engine);
        free(cc->model);
        free(cc->model_path);
    }
    free(c->cands);
    for (size_t i = 0; i < c->n_stop; i++)
        free(c->stop[i]);
    free(c->stop);
    free(c->path);
    free(c->dir);
    free(c->text);
    free(c->name);
    free(c->evalset);
    free(c->split);
    free(c->mode);
    free(c->choice_prefix);
    free(c->calib_split);
    for (size_t i = 0; i < c->n_events; i++)
        free(c->events[i]);
    free(c->events);
    free(c);
}
