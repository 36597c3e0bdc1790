/*
 * roofline.h — what the hardware could do, to judge what a model achieves: memory
 * bandwidth from a STREAM-style triad, and the process's peak resident memory.
 */
#ifndef SLM_ROOFLINE_H
#define SLM_ROOFLINE_H

#include <stddef.h>

/* Sustained memory bandwidth in GB/s (1e9 bytes/s) from the triad a[i] = b[i] + s*c[i]
 * over three arrays of n_doubles each (far larger than the caches), run by `threads`
 * threads, best of `reps` passes; bytes counted as STREAM does (3 arrays × 8 bytes per
 * element per pass). Returns NaN if memory cannot be had. */
double slm_stream_triad_gbs(size_t n_doubles, int threads, int reps);

/* Resets the process's peak resident set (Linux /proc/self/clear_refs "5"); 0 on
 * success, -1 if the kernel does not support it. */
int slm_peak_rss_reset(void);

/* Peak resident set size of the process in KiB (VmHWM), or -1 if unknown. */
long slm_peak_rss_kb(void);

#endif
