/*
 * bench_ratio — the summary of an interleaved A/B benchmark (bench/perf/overhead.sh):
 * reads the raw samples "round,condition,ms" (a header line first) and, for the rounds
 * that timed both NUM and DEN, prints the median of the per-round ratios NUM/DEN as a
 * difference in percent, its 95% percentile-bootstrap interval (2000 resamples of the
 * rounds, seeded) and the interval's half-width:
 *
 *   bench_ratio SAMPLES.csv NUM DEN SEED
 *   -> "+1.23% [-0.40%, +2.75%] half-width 1.58%, 30 rounds; NUM median 180.2 ms, DEN ..."
 *
 * Exit 0, 2 on usage, 3 on a malformed sample file (naming its line).
 */
#include "ratio_stats.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 10000
#define RESAMPLES 2000

int main(int argc, char **argv)
{
    long seed;
    if (argc != 5 || slm_parse_long(argv[4], &seed)) {
        fprintf(stderr, "usage: bench_ratio SAMPLES.csv NUM DEN SEED\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        fprintf(stderr, "bench_ratio: cannot read '%s'\n", argv[1]);
        return 3;
    }
    static double num[MAX_ROUNDS], den[MAX_ROUNDS];
    for (size_t i = 0; i < MAX_ROUNDS; i++)
        num[i] = den[i] = NAN;
    char line[256], cond[64];
    long lineno = 0, round;
    double ms;
    while (fgets(line, sizeof line, f)) {
        if (++lineno == 1)
            continue;
        if (sscanf(line, "%ld,%63[^,],%lf", &round, cond, &ms) != 3 || round < 0 ||
            round >= MAX_ROUNDS) {
            fprintf(stderr, "bench_ratio: %s:%ld: expected round,condition,ms with a round "
                            "below %d\n", argv[1], lineno, MAX_ROUNDS);
            fclose(f);
            return 3;
        }
        if (!strcmp(cond, argv[2]))
            num[round] = ms;
        if (!strcmp(cond, argv[3]))
            den[round] = ms;
    }
    fclose(f);
    static double ratio[MAX_ROUNDS], a[MAX_ROUNDS], b[MAX_ROUNDS];
    size_t n = 0;
    for (size_t i = 0; i < MAX_ROUNDS; i++)
        if (!isnan(num[i]) && !isnan(den[i]) && den[i] > 0) {
            a[n] = num[i];
            b[n] = den[i];
            ratio[n++] = num[i] / den[i];
        }
    rs_summary s;
    if (rs_bootstrap_median(ratio, n, RESAMPLES, (uint64_t)seed, &s)) {
        fprintf(stderr, "bench_ratio: out of memory\n");
        return 4;
    }
    if (n == 0) {
        printf("– (no round timed both %s and %s)\n", argv[2], argv[3]);
        return 0;
    }
    printf("%+.2f%% [%+.2f%%, %+.2f%%] half-width %.2f%%, %zu rounds; %s median %.1f ms, "
           "%s median %.1f ms\n",
           100 * (s.median - 1), 100 * (s.lo - 1), 100 * (s.hi - 1), 50 * (s.hi - s.lo), n,
           argv[2], rs_median_inplace(a, n), argv[3], rs_median_inplace(b, n));
    return 0;
}
