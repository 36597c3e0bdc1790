/*
 * bench_direct — the minimal loop the harness is measured against: the llamacpp engine's
 * score() called directly on the eval set's rendered prompts, with nothing else around it
 * (no SQLite, no metrics, no probe, no counters). Prints the loop's wall time.
 *
 *   bench_direct ENGINE.so MODEL.gguf EVALSET_DIR N_EXAMPLES THREADS WARMUP
 */
#include "engine.h"
#include "evalset.h"
#include "prompt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: bench_direct ENGINE.so MODEL.gguf EVALSET N THREADS WARMUP\n");
        return 2;
    }
    char err[SLM_ERRLEN];
    slm_plugin *p = slm_plugin_open(argv[1]);
    if (!p->enabled) {
        fprintf(stderr, "bench_direct: %s\n", p->reason);
        return 4;
    }
    slm_evalset *es;
    slm_dataset *ds;
    if (slm_evalset_load(argv[3], &es, err, sizeof err) ||
        slm_evalset_load_split(es, "test", 0, &ds, err, sizeof err)) {
        fprintf(stderr, "bench_direct: %s\n", err);
        return 3;
    }
    size_t n = (size_t)atol(argv[4]);
    if (n > ds->n)
        n = ds->n;
    int warm = atoi(argv[6]);
    slm_option o[] = {{"model", argv[2]}, {"threads", argv[5]}};
    slm_options opts = {o, 2};
    slm_engine *e;
    if (p->vt->open(&opts, &e, err, sizeof err)) {
        fprintf(stderr, "bench_direct: %s\n", err);
        return 4;
    }
    char **choices = slm_xcalloc(es->n_labels, sizeof *choices);
    for (size_t k = 0; k < es->n_labels; k++)
        choices[k] = slm_xasprintf(" %s", es->labels[k]);
    char **prompts = slm_xcalloc(n, sizeof *prompts);
    for (size_t i = 0; i < n; i++)
        prompts[i] = slm_prompt_render(es->prompt, ds->rows[i].text, ds->rows[i].id,
                                       (const char *const *)es->labels, es->n_labels);
    double t0 = 0;
    for (size_t i = 0; i < n + (size_t)warm; i++) {
        size_t j = i < (size_t)warm ? i : i - (size_t)warm;
        if (i == (size_t)warm)
            t0 = slm_now_ms();
        slm_request req = {sizeof req, ds->rows[j].id, prompts[j], strlen(prompts[j]), 0, NULL};
        slm_score_result *r = NULL;
        if (p->vt->score(e, &req, (const char *const *)choices, es->n_labels, &r, err, sizeof err)) {
            fprintf(stderr, "bench_direct: %s\n", err);
            return 4;
        }
        p->vt->result_free(r);
    }
    double ms = slm_now_ms() - t0;
    printf("%.3f\n", ms);
    for (size_t i = 0; i < n; i++)
        free(prompts[i]);
    free(prompts);
    for (size_t k = 0; k < es->n_labels; k++)
        free(choices[k]);
    free(choices);
    p->vt->close(e);
    slm_dataset_free(ds);
    slm_evalset_free(es);
    slm_plugin_unload(p);
    return 0;
}
