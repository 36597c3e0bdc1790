/*
 * plugin_must.h — for the in-tree plugins whose allocation sites are not yet turned into
 * "out of memory" errors (exec, openai, llamacpp): wrappers over slm_plugin.h that abort
 * on exhaustion, as the core's slm_xmalloc did when these plugins linked it. Not part of
 * the plugin API (slm_engine.h + slm_plugin.h); to retire: check each allocation and
 * return slm_plugin_oom(), as engines/replay does.
 */
#ifndef SLM_PLUGIN_MUST_H
#define SLM_PLUGIN_MUST_H

#include "slm_plugin.h"

static inline void *must_(void *p)
{
    if (!p) {
        fputs("slmbench engine: out of memory\n", stderr);
        abort();
    }
    return p;
}

#define must_malloc(n) must_(slm_plugin_malloc(n))
#define must_calloc(n, s) must_(slm_plugin_calloc((n), (s)))
#define must_realloc(p, n) must_(slm_plugin_realloc((p), (n)))
#define must_strdup(s) ((char *)must_(slm_plugin_strdup(s)))
#define must_strndup(s, n) ((char *)must_(slm_plugin_strndup((s), (n))))
#define must_asprintf(...) ((char *)must_(slm_plugin_asprintf(__VA_ARGS__)))
#define must_buf_append(b, d, n) ((void)must_(slm_plugin_buf_append((b), (d), (n)) ? NULL : (b)))
#define must_buf_printf(b, ...) ((void)must_(slm_plugin_buf_printf((b), __VA_ARGS__) ? NULL : (b)))
#define must_buf_take(b) ((char *)must_(slm_plugin_buf_take(b)))

#endif
