/*
 * test_engine_loader.c — the plugin loader (harness/run/engine.c): plugins are listed
 * without being loaded, slm_plugins_find() loads only the one it names, a table that names
 * itself unlike its file is still found, a file that is no plugin is listed disabled with
 * its reason, and pointers from find() stay valid while more plugins load.
 *
 * Environment: SLM_ENGINE_DIR (default: ../engines next to this binary) holds replay.so,
 * copied into a temporary folder that SLM_ENGINE_PATH then names.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"
#include "util.h"

static char g_dir[64];

static void copy_file(const char *from, const char *to)
{
    char *data = NULL, err[SLM_ERRLEN];
    size_t len = 0;
    if (slm_read_file(from, &data, &len, err, sizeof err))
        fail_msg("%s", err);
    if (slm_write_file_atomic(to, data, len, err, sizeof err))
        fail_msg("%s", err);
    free(data);
}

/* The folder: replay.so, the same plugin again as zz_alias.so (its table says "replay")
 * and broken.so (not a shared object); its subfolder alias/ holds only zz_alias.so. */
static int group_setup(void **state)
{
    char src[512];
    const char *dir = getenv("SLM_ENGINE_DIR");
    if (dir && *dir)
        snprintf(src, sizeof src, "%s/replay.so", dir);
    else
        snprintf(src, sizeof src, "%s/../engines/replay.so", slm_exe_dir());
    snprintf(g_dir, sizeof g_dir, "/tmp/slm_loader_XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    char to[600];
    snprintf(to, sizeof to, "%s/replay.so", g_dir);
    copy_file(src, to);
    snprintf(to, sizeof to, "%s/zz_alias.so", g_dir);
    copy_file(src, to);
    snprintf(to, sizeof to, "%s/alias", g_dir);
    mkdir(to, 0700);
    snprintf(to, sizeof to, "%s/alias/zz_alias.so", g_dir);
    copy_file(src, to);
    snprintf(to, sizeof to, "%s/broken.so", g_dir);
    char err[SLM_ERRLEN];
    if (slm_write_file_atomic(to, "not an ELF file\n", 16, err, sizeof err))
        return -1;
    setenv("SLM_ENGINE_PATH", g_dir, 1);
    return 0;
}

static int group_teardown(void **state)
{
    const char *names[] = {"replay.so", "zz_alias.so", "broken.so", "alias/zz_alias.so",
                           "alias"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        remove(p);
    }
    rmdir(g_dir);
    return 0;
}

static void load_lists_without_loading(void **state)
{
    slm_plugins *ps = slm_plugins_load();
    assert_int_equal(ps->n_files, 3);
    assert_int_equal(ps->n, 0);
    slm_plugins_free(ps);
}

static void find_loads_only_the_named_plugin(void **state)
{
    slm_plugins *ps = slm_plugins_load();
    slm_plugin *p = slm_plugins_find(ps, "replay");
    assert_non_null(p);
    assert_true(p->enabled);
    assert_string_equal(p->name, "replay");
    assert_non_null(strstr(p->path, "/replay.so"));
    assert_int_equal(ps->n, 1);
    /* a second find is the same record, nothing more loaded */
    assert_ptr_equal(slm_plugins_find(ps, "replay"), p);
    assert_int_equal(ps->n, 1);
    slm_plugins_free(ps);
}

static void unknown_name_loads_all_and_lists_them(void **state)
{
    slm_plugins *ps = slm_plugins_load();
    slm_plugin *p = slm_plugins_find(ps, "replay");
    assert_null(slm_plugins_find(ps, "nope"));
    /* broken is listed (disabled); zz_alias was dropped: its table is named replay too */
    assert_int_equal(ps->n, 2);
    assert_ptr_equal(slm_plugins_find(ps, "replay"), p); /* did not move */
    assert_string_equal(p->name, "replay");
    slm_buf names = {0};
    slm_plugins_names(ps, &names);
    assert_string_equal(names.data, "broken, replay");
    slm_buf_free(&names);
    slm_plugin *b = slm_plugins_find(ps, "broken");
    assert_non_null(b);
    assert_false(b->enabled);
    assert_non_null(strstr(b->reason, "cannot load plugin"));
    slm_plugins_free(ps);
}

static void load_all_sorts_by_name(void **state)
{
    slm_plugins *ps = slm_plugins_load_all();
    assert_int_equal(ps->n, 2);
    assert_string_equal(ps->items[0].name, "broken");
    assert_string_equal(ps->items[1].name, "replay");
    assert_true(ps->items[1].enabled);
    slm_plugins_free(ps);
    slm_plugins_free(NULL);
}

/* Only zz_alias.so: no file is named replay.so, so find() loads every file to see. */
static void table_named_unlike_its_file_is_found(void **state)
{
    char alias[600];
    snprintf(alias, sizeof alias, "%s/alias", g_dir);
    setenv("SLM_ENGINE_PATH", alias, 1);
    slm_plugins *ps = slm_plugins_load();
    slm_plugin *p = slm_plugins_find(ps, "replay");
    assert_non_null(p);
    assert_true(p->enabled);
    assert_non_null(strstr(p->path, "zz_alias.so"));
    slm_plugins_free(ps);
    setenv("SLM_ENGINE_PATH", g_dir, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_lists_without_loading),
        cmocka_unit_test(find_loads_only_the_named_plugin),
        cmocka_unit_test(unknown_name_loads_all_and_lists_them),
        cmocka_unit_test(load_all_sorts_by_name),
        cmocka_unit_test(table_named_unlike_its_file_is_found),
    };
    return cmocka_run_group_tests_name("engine_loader", tests, group_setup, group_teardown);
}
