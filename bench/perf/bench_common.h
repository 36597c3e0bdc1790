/*
 * bench_common.h — shared by the C benchmarks in bench/perf: their BENCH_* settings and
 * loading the engine plugin they measure.
 */
#ifndef SLM_BENCH_COMMON_H
#define SLM_BENCH_COMMON_H

#include "slm_engine.h"
#include "util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/* The positive integer in the environment variable name (below 1,000,000), else def. */
static inline int bench_env_int(const char *name, int def)
{
    long v;
    const char *s = getenv(name);
    return s && *s && slm_parse_long(s, &v) == 0 && v > 0 && v < 1000000 ? (int)v : def;
}

/* Loads the engine plugin at path and runs its init(): its table, or NULL with the reason
 * on stderr after "who: ". *so gets the handle for dlclose() (NULL if dlopen() failed);
 * the caller calls shutdown() only when a table came back. */
static inline const slm_engine_vtable *bench_load_engine(const char *who, const char *path,
                                                         void **so)
{
    char err[SLM_ERRLEN] = "";
    *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    slm_engine_entry_fn entry = *so ? (slm_engine_entry_fn)dlsym(*so, SLM_ENGINE_ENTRY) : NULL;
    const slm_engine_vtable *vt = entry ? entry() : NULL;
    if (!vt) {
        fprintf(stderr, "%s: cannot load engine '%s': %s\n", who, path,
                *so ? "no entry point" : dlerror());
        return NULL;
    }
    if (vt->init && vt->init(err, sizeof err)) {
        fprintf(stderr, "%s: engine '%s' disabled: %s\n", who, path, err);
        return NULL;
    }
    return vt;
}
#endif
