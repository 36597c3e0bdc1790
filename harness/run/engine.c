/* engine.c — see engine.h. */
#include "engine.h"
#include "util.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Smallest table a 1.x plugin may have: up to and including close. */
#define V1_MIN_SIZE (offsetof(slm_engine_vtable, close) + sizeof(((slm_engine_vtable *)0)->close))

static void disable(slm_plugin *p, const char *fmt, const char *a, const char *b)
{
    p->enabled = 0;
    snprintf(p->reason, sizeof p->reason, fmt, a ? a : "", b ? b : "");
}

slm_plugin *slm_plugin_open(const char *path)
{
    slm_plugin *p = slm_xcalloc(1, sizeof *p);
    p->path = slm_xstrdup(path);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t bl = strlen(base);
    p->name = slm_xstrndup(base, bl > 3 && !strcmp(base + bl - 3, ".so") ? bl - 3 : bl);

    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl) {
        disable(p, "cannot load plugin: %s%s", dlerror(), NULL);
        return p;
    }
    slm_engine_entry_fn entry;
    *(void **)&entry = dlsym(p->dl, SLM_ENGINE_ENTRY);
    if (!entry) {
        disable(p, "not an slmbench engine: no symbol '%s'%s", SLM_ENGINE_ENTRY, NULL);
        return p;
    }
    const slm_engine_vtable *vt = entry();
    if (!vt) {
        disable(p, "the engine's entry returned no table%s%s", NULL, NULL);
        return p;
    }
    if ((vt->abi_version >> 16) != SLM_ENGINE_ABI_MAJOR) {
        char a[64], b[64];
        snprintf(a, sizeof a, "%u.%u", vt->abi_version >> 16, vt->abi_version & 0xffff);
        snprintf(b, sizeof b, "%u.x", SLM_ENGINE_ABI_MAJOR);
        disable(p, "engine ABI %s is not supported (this slmbench speaks %s)", a, b);
        return p;
    }
    if (vt->struct_size < V1_MIN_SIZE) {
        disable(p, "engine table too small for ABI 1.0%s%s", NULL, NULL);
        return p;
    }
    if (!vt->name || !vt->version || !vt->open || !vt->info || !vt->close) {
        disable(p, "engine table lacks a required slot (name, version, open, info, close)%s%s",
                NULL, NULL);
        return p;
    }
    free(p->name);
    p->name = slm_xstrdup(vt->name);
    if (vt->init) {
        char err[SLM_ERRLEN] = "";
        if (vt->init(err, sizeof err) != 0) {
            disable(p, "%s%s", err[0] ? err : "init failed", NULL);
            /* init failed: shutdown is not called, the table is not used */
            return p;
        }
    }
    p->vt = vt;
    p->enabled = 1;
    return p;
}

static void plugin_release(slm_plugin *p)
{
    if (p->vt) {
        void (*shutdown)(void) = SLM_SLOT(p->vt, shutdown);
        if (shutdown)
            shutdown();
    }
    /* Plugins are not dlclose()d: libraries they pulled in (llama.cpp, its threads and
     * atexit handlers) do not always survive being unloaded. The process is ending anyway. */
    free(p->name);
    free(p->path);
}

void slm_plugin_unload(slm_plugin *p)
{
    if (!p)
        return;
    plugin_release(p);
    free(p);
}

static int plugin_cmp(const void *a, const void *b)
{
    return strcmp(((const slm_plugin *)a)->name, ((const slm_plugin *)b)->name);
}

static void scan_dir(slm_plugins *ps, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char **names = NULL;
    size_t nn = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 3 && !strcmp(de->d_name + l - 3, ".so")) {
            names = slm_xrealloc(names, (nn + 1) * sizeof *names);
            names[nn++] = slm_xstrdup(de->d_name);
        }
    }
    closedir(d);
    for (size_t i = 0; i < nn; i++) {
        char *path = slm_xasprintf("%s/%s", dir, names[i]);
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)(strlen(names[i]) - 3), names[i]);
        int dup = 0;
        for (size_t k = 0; k < ps->n; k++)
            if (!strcmp(ps->items[k].name, stem))
                dup = 1;
        if (!dup) {
            slm_plugin *p = slm_plugin_open(path);
            int dup2 = 0;
            for (size_t k = 0; k < ps->n; k++)
                if (!strcmp(ps->items[k].name, p->name))
                    dup2 = 1;
            if (dup2) {
                slm_plugin_unload(p);
            } else {
                ps->items = slm_xrealloc(ps->items, (ps->n + 1) * sizeof *ps->items);
                ps->items[ps->n++] = *p;
                free(p);
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
}

slm_plugins *slm_plugins_load(void)
{
    slm_plugins *ps = slm_xcalloc(1, sizeof *ps);
    const char *env = getenv("SLM_ENGINE_PATH");
    if (env && *env) {
        char *copy = slm_xstrdup(env), *save = NULL;
        for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
            scan_dir(ps, t);
        free(copy);
    }
    const char *exe = slm_exe_dir();
    if (exe[0]) {
        char *a = slm_xasprintf("%s/engines", exe);
        char *b = slm_xasprintf("%s/../lib/slmbench/engines", exe);
        scan_dir(ps, a);
        scan_dir(ps, b);
        free(a);
        free(b);
    }
    if (ps->n > 1)
        qsort(ps->items, ps->n, sizeof *ps->items, plugin_cmp);
    return ps;
}

slm_plugin *slm_plugins_find(slm_plugins *ps, const char *name)
{
    for (size_t i = 0; ps && i < ps->n; i++)
        if (!strcmp(ps->items[i].name, name))
            return &ps->items[i];
    return NULL;
}

void slm_plugins_free(slm_plugins *ps)
{
    if (!ps)
        return;
    for (size_t i = ps->n; i-- > 0;)
        plugin_release(&ps->items[i]);
    free(ps->items);
    free(ps);
}

void slm_caps_str(uint32_t caps, char *buf, size_t n)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{SLM_CAP_SCORE, "score"},
                 {SLM_CAP_GENERATE, "generate"},
                 {SLM_CAP_CONSTRAIN, "constrain"},
                 {SLM_CAP_SERVER_TIMINGS, "server-timings"},
                 {SLM_CAP_CHAT_TEMPLATE, "chat-template"},
                 {SLM_CAP_QUANTIZE, "quantize"},
                 {SLM_CAP_TOKEN_LOGPROBS, "token-logprobs"},
                 {SLM_CAP_BATCH, "batch"},
                 {SLM_CAP_CONCURRENT, "concurrent"},
                 {SLM_CAP_MODEL_FILE, "model-file"},
                 {SLM_CAP_GGUF, "gguf"},
                 {SLM_CAP_TOKENIZE, "tokenize"}};
    slm_buf b = {0};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & names[i].bit) {
            if (b.len)
                slm_buf_putc(&b, ',');
            slm_buf_puts(&b, names[i].name);
        }
    snprintf(buf, n, "%s", b.len ? b.data : "-");
    slm_buf_free(&b);
}
