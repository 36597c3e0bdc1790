/*
 * engine.h — finds, loads and checks engine plugins (engines/slm_engine.h).
 *
 * A plugin that cannot be used — dlopen fails, no entry symbol, another ABI major, a
 * table too short or missing required slots, or its init() fails — is kept in the list
 * as disabled, with the reason; the other engines are unaffected (like PAPI components).
 */
#ifndef SLM_ENGINE_LOADER_H
#define SLM_ENGINE_LOADER_H

#include "slm_engine.h"
#include <stddef.h>

typedef struct slm_plugin {
    char *name;                   /* from the table, or the file name if unusable */
    char *path;
    void *dl;
    const slm_engine_vtable *vt;  /* NULL when disabled */
    int enabled;
    char reason[512];             /* why it is disabled */
} slm_plugin;

typedef struct slm_plugins {
    slm_plugin *items;
    size_t n;
} slm_plugins;

/* Directories searched, in order: each of $SLM_ENGINE_PATH (colon-separated), then
 * <dir of the executable>/engines, then <dir of the executable>/../lib/slmbench/engines.
 * The first plugin of a name wins. Never fails; an empty list means no plugins found. */
slm_plugins *slm_plugins_load(void);

/* Loads one plugin file (used by tests and by the loader itself). Always returns a
 * plugin record, enabled or disabled with a reason. Caller frees with slm_plugin_unload. */
slm_plugin *slm_plugin_open(const char *path);
void slm_plugin_unload(slm_plugin *p);

/* The plugin named name, or NULL if none was found (disabled ones are returned). */
slm_plugin *slm_plugins_find(slm_plugins *ps, const char *name);

/* Closes every plugin (calling shutdown) and frees the list. NULL-safe. */
void slm_plugins_free(slm_plugins *ps);

/* Formats capability flags as "score,generate,..." into buf. */
void slm_caps_str(uint32_t caps, char *buf, size_t n);

/* The slot of a table if the plugin's struct_size covers it, else NULL. */
#define SLM_SLOT(vt, field)                                                                    \
    (((vt)->struct_size >= offsetof(slm_engine_vtable, field) + sizeof((vt)->field))           \
         ? (vt)->field                                                                         \
         : NULL)

#endif
