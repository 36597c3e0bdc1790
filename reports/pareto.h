/*
 * pareto.h — the one accuracy–latency Pareto front of the reports (the recommendation of
 * recommend.c, with accuracy ties counted as equal accuracy, and the frontier line of
 * plots.c).
 *
 * Tie rule: a point is on the front unless another point is at least as accurate AND at
 * least as fast, and strictly better in one of the two. Two points with the same accuracy
 * and the same latency are therefore both on the front (neither dominates the other).
 * Points with a NaN coordinate are never on the front and dominate nothing.
 *
 * "Faster" is either the plain comparison of the latencies, or — where a `faster` matrix is
 * given (latpairs.h: measurably faster, paired turn by turn) — that relation: a latency
 * difference within the measured noise is then a tie, and a point is "as fast" as another
 * unless the other is measurably faster.
 */
#ifndef SLM_PARETO_H
#define SLM_PARETO_H

#include <stddef.h>

/* front[i] = 1 when point i (acc[i] higher better, lat[i] lower better) is on the front,
 * else 0. faster: NULL (compare lat), or n * n with faster[j * n + i] = 1 when j is
 * measurably faster than i. */
void slm_pareto_front(const double *acc, const double *lat, const unsigned char *faster,
                      size_t n, int *front);

/* 1 when point j dominates point i by the rule above. */
int slm_pareto_dominates(const double *acc, const double *lat, const unsigned char *faster,
                         size_t n, size_t j, size_t i);

#endif
