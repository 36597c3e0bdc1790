/*
 * slm_result.h — a helper for engine plugins whose results are plain malloc()ed structs
 * (the struct, and each array in it, allocated separately by the engine). Compiled into
 * the plugin, so the memory is still freed by the side that allocated it (slm_engine.h).
 */
#ifndef SLM_RESULT_H
#define SLM_RESULT_H

#include "slm_engine.h"
#include <stdlib.h>

/* result_free() for such engines; NULL-safe. */
static inline void slm_result_free_plain(void *result)
{
    if (!result)
        return;
    if (*(slm_result_kind *)result == SLM_RESULT_SCORE) {
        slm_score_result *s = result;
        free(s->logprob);
        free(s->n_tokens);
    } else {
        slm_gen_result *g = result;
        free(g->text);
        free(g->token_logprobs);
    }
    free(result);
}

#endif
