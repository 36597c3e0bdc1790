/*
 * llamacpp_plugin.h — shared by the unit tests that drive the llamacpp engine plugin:
 * loads build/engines/llamacpp.so ($SLM_ENGINE_DIR, else next to the test binary's
 * folder) and returns its table, or NULL with the reason on stderr. *so gets the handle
 * (dlclose it when done). The table's init() is not called: some tests check refusals
 * before it.
 */
#ifndef SLM_TEST_LLAMACPP_PLUGIN_H
#define SLM_TEST_LLAMACPP_PLUGIN_H

#include "slm_engine.h"
#include "util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static inline const slm_engine_vtable *test_load_llamacpp(void **so)
{
    char path[512];
    const char *dir = getenv("SLM_ENGINE_DIR");
    if (dir && *dir)
        snprintf(path, sizeof path, "%s/llamacpp.so", dir);
    else
        snprintf(path, sizeof path, "%s/../engines/llamacpp.so", slm_exe_dir());
    *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!*so) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        return NULL;
    }
    slm_engine_entry_fn entry = (slm_engine_entry_fn)dlsym(*so, SLM_ENGINE_ENTRY);
    const slm_engine_vtable *vt = entry ? entry() : NULL;
    if (!vt)
        fprintf(stderr, "%s: no engine entry point\n", path);
    return vt;
}

/* The project's root (SLM_ROOT, set by tests/run.sh; "." otherwise). */
static inline const char *test_root(void)
{
    const char *r = getenv("SLM_ROOT");
    return r && *r ? r : ".";
}

/* 1 when p is a folder. */
static inline int test_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}
#endif
