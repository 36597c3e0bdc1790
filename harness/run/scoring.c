/* scoring.c — see scoring.h. */
#include "scoring.h"
#include "metrics.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The mean log-probability per token of each label (a count of 0 counts as 1, so an
 * empty continuation keeps its sum). */
static void per_token(const double *logprob, const int32_t *n_tokens, size_t n, double *mean)
{
    for (size_t k = 0; k < n; k++)
        mean[k] = logprob[k] / (n_tokens[k] > 0 ? n_tokens[k] : 1);
}

static size_t argmax(const double *v, size_t n)
{
    size_t best = 0;
    for (size_t k = 1; k < n; k++)
        if (v[k] > v[best])
            best = k;
    return best;
}

void slm_score_labels(const double *logprob, const int32_t *n_tokens, size_t n, int mean,
                      int gold, slm_scored *out)
{
    double *p = slm_xcalloc(n ? n : 1, sizeof *p), *pm = slm_xcalloc(n ? n : 1, sizeof *pm);
    double *m = slm_xcalloc(n ? n : 1, sizeof *m);
    per_token(logprob, n_tokens, n, m);
    slm_softmax(logprob, n, p);
    slm_softmax(m, n, pm);
    free(m);
    out->probs_mean = pm;
    if (mean) {
        /* the rule in use is the mean: probs is a copy so the two free independently */
        for (size_t k = 0; k < n; k++)
            p[k] = pm[k];
    }
    out->probs = p;
    out->best = argmax(p, n);
    out->confidence = n ? p[out->best] : NAN;
    out->correct = gold >= 0 && (size_t)gold == out->best;
}

void slm_scored_free(slm_scored *s)
{
    if (!s)
        return;
    free(s->probs);
    free(s->probs_mean);
    s->probs = s->probs_mean = NULL;
}

size_t slm_score_best(const double *logprob, const int32_t *n_tokens, size_t n, int mean)
{
    double *m = slm_xcalloc(n ? n : 1, sizeof *m), *p = slm_xcalloc(n ? n : 1, sizeof *p);
    per_token(logprob, n_tokens, n, m);
    slm_softmax(mean ? m : logprob, n, p);
    size_t best = argmax(p, n);
    free(m);
    free(p);
    return best;
}

double slm_generated_confidence(const double *token_logprobs, int n_tokens)
{
    if (!token_logprobs || n_tokens <= 0)
        return NAN;
    double lp = 0;
    for (int t = 0; t < n_tokens; t++)
        lp += token_logprobs[t];
    return exp(lp);
}

char *slm_json_doubles(const double *v, size_t n)
{
    slm_buf b = {0};
    slm_buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        char num[40];
        if (isfinite(v[i]))
            slm_fmt_double(num, sizeof num, v[i], 17);
        else
            snprintf(num, sizeof num, "null");
        slm_buf_printf(&b, "%s%s", i ? "," : "", num);
    }
    slm_buf_putc(&b, ']');
    return slm_buf_take(&b);
}

char *slm_json_ints(const int32_t *v, size_t n)
{
    slm_buf b = {0};
    slm_buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++)
        slm_buf_printf(&b, "%s%d", i ? "," : "", v[i]);
    slm_buf_putc(&b, ']');
    return slm_buf_take(&b);
}
