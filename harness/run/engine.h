/*
 * engine.h — finds, loads and checks engine plugins (engines/slm_engine.h).
 *
 * Plugins are loaded lazily: slm_plugins_load() only lists the plugin files, and
 * slm_plugins_find() dlopen()s the one a name asks for on first use, so a run loads the
 * engines its candidates name and no others (loading llamacpp pulls in libllama and its
 * CPU back ends, openai libcurl). slm_plugins_load_all() loads every file, for listings.
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

struct slm_buf;

typedef struct slm_plugins {
    slm_plugin *items;            /* the plugins loaded so far (all, after load_all) */
    size_t n;
    /* private: the plugin files found, loaded or not; items never outgrows them, so a
     * pointer into items stays valid while more plugins load */
    char **files;
    size_t n_files;
    unsigned char *opened;        /* [n_files] 1 once files[i] was dlopen()ed */
} slm_plugins;

/* Lists the plugin files without loading any. Directories searched, in order: each of
 * $SLM_ENGINE_PATH (colon-separated), then <dir of the executable>/engines, then
 * <dir of the executable>/../lib/slmbench/engines. The first plugin of a name wins.
 * Never fails; a list without files means no plugins found. */
slm_plugins *slm_plugins_load(void);

/* slm_plugins_load() and then every plugin loaded, sorted by name: what `slmbench
 * engines` lists, those that fail to load included (disabled, with the reason). */
slm_plugins *slm_plugins_load_all(void);

/* Loads every plugin file of ps not loaded yet, then sorts ps->items by name. Sorting
 * moves items: call it before keeping pointers from slm_plugins_find(). */
void slm_plugins_open_all(slm_plugins *ps);

/* Appends the names of all plugins, sorted, separated by ", " (loads them all; pointers
 * from slm_plugins_find() stay valid). For "unknown engine" messages. */
void slm_plugins_names(slm_plugins *ps, struct slm_buf *out);

/* Loads one plugin file (used by tests and by the loader itself). Always returns a
 * plugin record, enabled or disabled with a reason. Caller frees with slm_plugin_unload. */
slm_plugin *slm_plugin_open(const char *path);
void slm_plugin_unload(slm_plugin *p);

/* The plugin named name, or NULL if none was found (disabled ones are returned). Loads
 * it on first use: the file named <name>.so first, and only when that does not hold the
 * engine (its table names another), every file. The pointer stays valid until
 * slm_plugins_free() (or slm_plugins_open_all()). */
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
