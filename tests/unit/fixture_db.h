/*
 * fixture_db.h — for unit tests: a temporary database loaded from an SQL fixture
 * (tests/fixtures/<rel>, found through SLM_ROOT as tests/run.sh sets it) and opened as a
 * store, so readers and reports can be tested on a known run.
 */
#ifndef SLM_TEST_FIXTURE_DB_H
#define SLM_TEST_FIXTURE_DB_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store_int.h"
#include "store.h"
#include "util.h"

/* The text of tests/fixtures/<rel> (caller frees), NULL when unreadable. */
static char *fixture_text(const char *rel)
{
    const char *root = getenv("SLM_ROOT");
    char *path = slm_xasprintf("%s/tests/fixtures/%s", root ? root : ".", rel);
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return NULL;
    slm_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        slm_buf_append(&b, chunk, n);
    fclose(f);
    slm_buf_putc(&b, '\0');
    return slm_buf_take(&b);
}

/* Loads the SQL fixture rel into a new database at path (removed first) and opens it as a
 * store; NULL on failure. */
static slm_store *fixture_db(const char *rel, const char *path)
{
    char *sql = fixture_text(rel);
    if (!sql)
        return NULL;
    unlink(path);
    sqlite3 *db;
    int ok = sqlite3_open(path, &db) == SQLITE_OK &&
             sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    free(sql);
    slm_store *st = NULL;
    char err[256];
    if (!ok || slm_store_open(path, 0, &st, err, sizeof err))
        return NULL;
    return st;
}

#endif
