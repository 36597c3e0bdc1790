/*
 * fuzz_config.c — libFuzzer target: a run config (YAML) through the real config loader,
 * slm_run_cfg_parse (libyaml, the YAML tree with its depth and key limits, the key table,
 * every key's type and bounds, candidates and their options).
 *
 * Input: the config's bytes, exactly (no NUL after them: the parser must stay within
 * the length). Checked: 0 or -1 with a message naming the file; a config accepted has a
 * name, a mode of score or generate, a candidate at least, each with a name and engine,
 * numbers within the table's bounds (threads, repeats, bootstrap), coverage targets in
 * (0, 1].
 */
#include "fuzz_target.h"

#include "config.h"
#include "util.h"

static void check_cfg(const slm_run_cfg *c)
{
    FUZZ_CHECK(c && c->name && c->mode, "success without a name or mode");
    FUZZ_CHECK(!strcmp(c->mode, "score") || !strcmp(c->mode, "generate"), "an unknown mode");
    FUZZ_CHECK(c->n_cands >= 1, "success without candidates");
    for (size_t i = 0; i < c->n_cands; i++) {
        FUZZ_CHECK(c->cands[i].name && c->cands[i].engine, "a candidate without name or engine");
        (void)slm_cand_opt(&c->cands[i], "n_ctx");
    }
    FUZZ_CHECK(c->threads >= 1 && c->repeats >= 1 && c->bootstrap >= 0, "a number out of bounds");
    FUZZ_CHECK(c->n_coverage_targets <= 8, "too many coverage targets");
    for (size_t i = 0; i < c->n_coverage_targets; i++)
        FUZZ_CHECK(c->coverage_targets[i] > 0 && c->coverage_targets[i] <= 1,
                   "a coverage target outside (0, 1]");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy: data itself may be followed by anything */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    slm_run_cfg *c = NULL;
    char err[SLM_ERRLEN];
    fuzz_poison(err, sizeof err);
    int rc = slm_run_cfg_parse("run.yaml", "/fuzz", text, size, &c, err, sizeof err);
    fuzz_check_rc(rc, err, sizeof err, "slm_run_cfg_parse");
    if (rc == 0)
        check_cfg(c);
    else
        FUZZ_CHECK(strstr(err, "run.yaml") != NULL, "a message that names no file");
    slm_run_cfg_free(c);
    free(text);
    return 0;
}
