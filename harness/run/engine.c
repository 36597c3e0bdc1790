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

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The file name of path without its folder and ".so" into stem. */
static void file_stem(const char *path, char *stem, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(stem, n, "%.*s", (int)(strlen(base) - 3), base);
}

/* Whether an earlier folder already gave a file of this stem (the first one wins). */
static int have_stem(const slm_plugins *ps, const char *file)
{
    char a[256], b[256];
    file_stem(file, a, sizeof a);
    for (size_t k = 0; k < ps->n_files; k++) {
        file_stem(ps->files[k], b, sizeof b);
        if (!strcmp(a, b))
            return 1;
    }
    return 0;
}

/* Adds dir's *.so files to the list, in name order (not readdir's, so which of two files
 * with one table name wins does not depend on the disk), skipping stems already listed. */
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
    if (nn > 1)
        qsort(names, nn, sizeof *names, name_cmp);
    for (size_t i = 0; i < nn; i++) {
        if (!have_stem(ps, names[i])) {
            ps->files = slm_xrealloc(ps->files, (ps->n_files + 1) * sizeof *ps->files);
            ps->files[ps->n_files++] = slm_xasprintf("%s/%s", dir, names[i]);
        }
        free(names[i]);
    }
    free(names);
}

/* dlopen()s files[i] once; the plugin joins items unless one of its name is there. */
static void open_file(slm_plugins *ps, size_t i)
{
    if (ps->opened[i])
        return;
    ps->opened[i] = 1;
    slm_plugin *p = slm_plugin_open(ps->files[i]);
    for (size_t k = 0; k < ps->n; k++)
        if (!strcmp(ps->items[k].name, p->name)) {
            slm_plugin_unload(p);
            return;
        }
    ps->items[ps->n++] = *p; /* items has room for every file: it never moves */
    free(p);
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
    ps->items = slm_xcalloc(ps->n_files ? ps->n_files : 1, sizeof *ps->items);
    ps->opened = slm_xcalloc(ps->n_files ? ps->n_files : 1, 1);
    return ps;
}

void slm_plugins_open_all(slm_plugins *ps)
{
    for (size_t i = 0; ps && i < ps->n_files; i++)
        open_file(ps, i);
    if (ps && ps->n > 1)
        qsort(ps->items, ps->n, sizeof *ps->items, plugin_cmp);
}

slm_plugins *slm_plugins_load_all(void)
{
    slm_plugins *ps = slm_plugins_load();
    slm_plugins_open_all(ps);
    return ps;
}

static slm_plugin *find_loaded(slm_plugins *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (!strcmp(ps->items[i].name, name))
            return &ps->items[i];
    return NULL;
}

slm_plugin *slm_plugins_find(slm_plugins *ps, const char *name)
{
    if (!ps)
        return NULL;
    slm_plugin *p = find_loaded(ps, name);
    /* The engine's file is normally <name>.so; a table may name itself otherwise, which
     * only loading every file can tell. */
    for (size_t i = 0; !p && i < ps->n_files; i++) {
        char stem[256];
        file_stem(ps->files[i], stem, sizeof stem);
        if (!strcmp(stem, name)) {
            open_file(ps, i);
            p = find_loaded(ps, name);
        }
    }
    for (size_t i = 0; !p && i < ps->n_files; i++) {
        open_file(ps, i);
        p = find_loaded(ps, name);
    }
    return p;
}

void slm_plugins_names(slm_plugins *ps, slm_buf *out)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n_files; i++)
        open_file(ps, i);
    const char **names = slm_xcalloc(ps->n ? ps->n : 1, sizeof *names);
    for (size_t i = 0; i < ps->n; i++)
        names[i] = ps->items[i].name;
    qsort(names, ps->n, sizeof *names, name_cmp);
    for (size_t i = 0; i < ps->n; i++)
        slm_buf_printf(out, "%s%s", i ? ", " : "", names[i]);
    free(names);
}

void slm_plugins_free(slm_plugins *ps)
{
    if (!ps)
        return;
    for (size_t i = ps->n; i-- > 0;)
        plugin_release(&ps->items[i]);
    for (size_t i = 0; i < ps->n_files; i++)
        free(ps->files[i]);
    free(ps->files);
    free(ps->opened);
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
                 {SLM_CAP_TOKENIZE, "tokenize"},
                 {SLM_CAP_SCHEDULE, "schedule"}};
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
