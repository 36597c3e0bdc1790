/* store_refs.c — the runs and tags of a database in words (see store_refs.h). */
#include "store_refs.h"
#include "store_int.h"

static long count_runs(slm_store *st, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT count(*) FROM runs", &s, err, errlen))
        return -1;
    long n = sqlite3_step(s) == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return n;
}

static int describe_tags(slm_store *st, slm_buf *out, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT name, run_id FROM tags ORDER BY name LIMIT 20", &s, err,
                          errlen))
        return -1;
    for (int i = 0; sqlite3_step(s) == SQLITE_ROW; i++)
        slm_buf_printf(out, "%s%s -> %lld", i ? ", " : "; tags: ",
                       (const char *)sqlite3_column_text(s, 0),
                       (long long)sqlite3_column_int64(s, 1));
    sqlite3_finalize(s);
    return 0;
}

long slm_store_describe_runs(slm_store *st, size_t max, slm_buf *out, char *err,
                             size_t errlen)
{
    long n = count_runs(st, err, errlen);
    if (n <= 0)
        return n;
    sqlite3_stmt *s;
    if (slm_store_prepare(st, "SELECT id, name, substr(created_at, 1, 10), status FROM runs "
                          "ORDER BY id DESC LIMIT ?", &s, err, errlen))
        return -1;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
    for (int i = 0; sqlite3_step(s) == SQLITE_ROW; i++)
        slm_buf_printf(out, "%s%lld '%s' (%s, %s)", i ? ", " : "",
                       (long long)sqlite3_column_int64(s, 0),
                       (const char *)sqlite3_column_text(s, 1),
                       (const char *)sqlite3_column_text(s, 2),
                       (const char *)sqlite3_column_text(s, 3));
    sqlite3_finalize(s);
    if ((size_t)n > max)
        slm_buf_printf(out, ", ... (%ld runs)", n);
    if (describe_tags(st, out, err, errlen))
        return -1;
    return n;
}
