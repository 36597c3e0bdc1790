/* roofline.c — see roofline.h. */
#include "roofline.h"
#include "util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct triad_part {
    double *a, *b, *c;
    size_t from, to;
    double s;
} triad_part;

static void *triad(void *arg)
{
    triad_part *p = arg;
    for (size_t i = p->from; i < p->to; i++)
        p->a[i] = p->b[i] + p->s * p->c[i];
    return NULL;
}

static void *init_part(void *arg)
{
    triad_part *p = arg; /* first touch by the thread that will use the pages */
    for (size_t i = p->from; i < p->to; i++) {
        p->a[i] = 0.0;
        p->b[i] = 1.0;
        p->c[i] = 2.0;
    }
    return NULL;
}

static void run_parts(void *(*fn)(void *), triad_part *parts, int threads)
{
    pthread_t *t = slm_xcalloc((size_t)threads, sizeof *t);
    for (int i = 1; i < threads; i++)
        if (pthread_create(&t[i], NULL, fn, &parts[i]) != 0)
            fn(&parts[i]), t[i] = 0;
    fn(&parts[0]);
    for (int i = 1; i < threads; i++)
        if (t[i])
            pthread_join(t[i], NULL);
    free(t);
}

double slm_stream_triad_gbs(size_t n, int threads, int reps)
{
    if (threads < 1)
        threads = 1;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return NAN;
    }
    triad_part *parts = slm_xcalloc((size_t)threads, sizeof *parts);
    for (int i = 0; i < threads; i++) {
        parts[i] = (triad_part){a, b, c, n * (size_t)i / (size_t)threads,
                                n * (size_t)(i + 1) / (size_t)threads, 3.0};
    }
    run_parts(init_part, parts, threads);
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        uint64_t t0 = slm_now_ns();
        run_parts(triad, parts, threads);
        double s = (double)(slm_now_ns() - t0) / 1e9;
        if (s < best)
            best = s;
    }
    /* keep the compiler from dropping the work */
    volatile double sink = a[n / 2];
    (void)sink;
    free(parts);
    free(a), free(b), free(c);
    return best > 0 && isfinite(best) ? 3.0 * 8.0 * (double)n / best / 1e9 : NAN;
}

int slm_peak_rss_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

long slm_peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}
