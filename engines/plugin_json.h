/*
 * plugin_json.h — for the in-tree plugins that speak JSON through jansson (exec, openai):
 * tells "out of memory" from bad input. Not part of the plugin API (slm_engine.h +
 * slm_plugin.h); a third-party engine needs none of it.
 *
 * Why: jansson gives no cause with a failure. json_string() returns NULL for invalid
 * UTF-8 and for exhaustion alike, and a json_loads() whose allocation failed reports a
 * syntax error ("invalid token near ..."). So the plugin routes jansson's allocations
 * through a wrapper that notes, per thread, that one failed: clear the note with
 * plugin_json_clear() before a step, and after a failure plugin_json_oom() says whether
 * memory ran out. The wrapper calls the allocator that was set before it (malloc, or
 * another plugin's wrapper, which notes the failure for its own plugin too), so two
 * plugins in one process both see every failure.
 *
 * jansson is shared by the whole process: the plugin pins itself in memory
 * (RTLD_NODELETE) before installing the wrapper, so a dlclose() cannot leave jansson
 * calling unmapped code. With -DSLM_PLUGIN_FAULTS, jansson's allocations count towards
 * SLM_PLUGIN_FAIL_ALLOC like the plugin's own, except inside plugin_json_load(): jansson
 * 2.14's parser itself crashes when some of its allocations fail (a failed grow of its
 * token buffer, e.g. while reading {"token_logprobs":1}), which no plugin can prevent.
 * Parse through plugin_json_load(), never json_loads(): a parse can also lose a byte and
 * succeed when memory runs out, so it checks plugin_json_oom() after every parse.
 */
#ifndef SLM_PLUGIN_JSON_H
#define SLM_PLUGIN_JSON_H

#include "slm_plugin.h"
#include "../harness/common/slm_limits.h" /* SLM_PLUGIN_JSON_MAX_VALUES */

#include <dlfcn.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static _Thread_local int plugin_json_failed_, plugin_json_parsing_;
static json_malloc_t plugin_json_prev_malloc_;
static json_free_t plugin_json_prev_free_;
static pthread_once_t plugin_json_once_ = PTHREAD_ONCE_INIT;

static void *plugin_json_malloc_(size_t n)
{
    void *p = !plugin_json_parsing_ && slm_plugin_fault_() ? NULL : plugin_json_prev_malloc_(n);
    if (!p)
        plugin_json_failed_ = 1;
    return p;
}

static void plugin_json_install_(void)
{
    Dl_info self;
    if (!dladdr((void *)plugin_json_malloc_, &self) || !self.dli_fname ||
        !dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
        return; /* cannot pin ourselves: leave jansson alone (failures then read as input) */
    json_get_alloc_funcs(&plugin_json_prev_malloc_, &plugin_json_prev_free_);
    if (!plugin_json_prev_malloc_ || !plugin_json_prev_free_) {
        plugin_json_prev_malloc_ = malloc;
        plugin_json_prev_free_ = free;
    }
    json_set_alloc_funcs(plugin_json_malloc_, plugin_json_prev_free_);
}

/* Installs the wrapper, once per plugin; call before the plugin's first jansson call. */
static inline void plugin_json_init(void)
{
    pthread_once(&plugin_json_once_, plugin_json_install_);
}

/* Forgets earlier failures of this thread. */
static inline void plugin_json_clear(void)
{
    plugin_json_failed_ = 0;
}

/* Nonzero when a jansson allocation failed in this thread since plugin_json_clear(). */
static inline int plugin_json_oom(void)
{
    return plugin_json_failed_;
}

/* The offset where s[0..n) holds more than max JSON values, or -1. Counts an upper bound
 * without parsing: one value, plus one for each '[', '{', ',' and ':' outside strings
 * (every value but a container's first follows a comma; a ':' counts an object's key, which
 * costs a parser as much as a value). */
static inline long plugin_json_values_over_(const char *s, size_t n, long max)
{
    long count = 1;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if ((ch == '[' || ch == '{' || ch == ',' || ch == ':') && ++count > max) {
            return (long)i;
        }
    }
    return -1;
}

/* Parses s[0..n) (flags 0); NULL when it is not JSON (je says why) or memory ran out
 * (plugin_json_oom() then says so). Clears the note first. A text of more than
 * SLM_PLUGIN_JSON_MAX_VALUES values is refused before parsing (jansson spends up to 120
 * bytes per value so counted, so three bytes "[]," of input would cost 45 times their size):
 * NULL, je->text "more than N JSON values (the limit)", je->position where it was crossed. */
static inline json_t *plugin_json_load(const char *s, size_t n, json_error_t *je)
{
    long over = plugin_json_values_over_(s, n, SLM_PLUGIN_JSON_MAX_VALUES);
    if (over >= 0) {
        if (je) {
            memset(je, 0, sizeof *je);
            je->position = (int)over;
            je->line = -1;
            je->column = -1;
            snprintf(je->text, sizeof je->text, "more than %ld JSON values (the limit)",
                     (long)SLM_PLUGIN_JSON_MAX_VALUES);
        }
        plugin_json_clear();
        return NULL;
    }
    plugin_json_clear();
    plugin_json_parsing_ = 1;
    json_t *o = json_loadb(s, n, 0, je);
    plugin_json_parsing_ = 0;
    if (o && plugin_json_failed_) { /* a byte may be missing */
        json_decref(o);
        o = NULL;
    }
    return o;
}

#endif /* SLM_PLUGIN_JSON_H */
