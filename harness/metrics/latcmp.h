/*
 * latcmp.h — comparing the latency of two candidates so that the machine's load does not
 * decide. A latency comparison means something only between measurements taken at the
 * same time: two candidates interleaved in one run (they take turns on the same few
 * examples), or two runs normalised by a reference candidate measured in both.
 *
 * The statistic. The examples are cut into blocks of `block` consecutive example indices
 * (in an interleaved run, one block = one turn: both candidates ran those examples back to
 * back). Each block gives one log-ratio r_b = ln(Σ a / Σ b) over the examples of the block
 * that both candidates answered with a latency. The estimate is exp(median r_b); its
 * interval is the distribution-free interval of the median of the sign test: with nb
 * blocks sorted, [r_(k), r_(nb−k+1)] where k is the largest integer such that
 * P(Bin(nb, ½) ≤ k − 1) ≤ (1 − level)/2. It assumes only that the blocks are independent
 * and that, when nothing differs, a block is as likely to be faster as slower — what
 * interleaving buys: a burst of load hits one turn of both candidates, not one candidate.
 * Fewer than 6 blocks give no interval at 95% (NaN).
 */
#ifndef SLM_LATCMP_H
#define SLM_LATCMP_H

#include <stddef.h>

typedef struct slm_lat_ratio {
    size_t n_pairs;   /* examples both candidates answered with a latency */
    size_t n_blocks;  /* blocks with at least one such example */
    double ratio;     /* exp(median block log-ratio): a / b; NaN when no block */
    double lo, hi;    /* the interval at `level`; NaN when too few blocks */
    double level;
} slm_lat_ratio;

/* a[i], b[i]: the latencies of example i (index order) of the two candidates; NaN or ≤ 0
 * where a candidate has none. block ≥ 1. level in (0, 1), e.g. 0.95, or 0.90 for a
 * one-sided test at 0.05. */
void slm_lat_ratio_paired(const double *a, const double *b, size_t n, size_t block,
                          double level, slm_lat_ratio *out);

/* The same statistic over differences of log-ratios between two runs: block b of the
 * first run gives ln(Σ a1 / Σ r1), of the second ln(Σ a2 / Σ r2), and the block statistic
 * is their difference (a: the candidate, r: the reference candidate of each run; the runs
 * are on the same examples, so blocks pair by index). The estimate is how much slower the
 * candidate became relative to the reference: exp(median difference). */
void slm_lat_ratio_normalised(const double *a1, const double *r1, const double *a2,
                              const double *r2, size_t n, size_t block, double level,
                              slm_lat_ratio *out);

/* The sign-test order statistic k (1-based) for nb sorted values at `level`: the largest
 * k with P(Bin(nb, ½) ≤ k − 1) ≤ (1 − level)/2; 0 when none (nb too small). */
size_t slm_sign_ci_rank(size_t nb, double level);

#endif
