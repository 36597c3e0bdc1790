/* merge.c — see merge.h. Attaches each shard database in turn, checks it belongs with the
 * others, copies its rows into the output (store_merge.c, column by column as schema.c
 * declares them), then recomputes every metric over the union. */
#include "store_int.h"
#include "merge.h"
#include "aggregate.h"
#include "analysis.h"
#include "store.h"
#include "store_merge.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* What the shards seen so far agree on. */
typedef struct merge_state {
    slm_store *st;
    int partial;
    const char *first;     /* the first input's path, for messages */
    int n_shards;          /* N of "I/N", -1 before the first shard */
    unsigned char *seen;   /* seen[i]: shard i is in */
    char *cfg_sha, *data_sha;
    int64_t run_id;        /* the merged run, 0 before the first shard */
    slm_buf from;          /* "path (I/N), ..." for runs.merged_from */
} merge_state;

/* Whether the attached shard belongs with the ones before it; fills err when not. */
static int check_shard(merge_state *m, const char *path, const slm_shard_facts *f, int *index,
                       char *err, size_t errlen)
{
    int si = -1, sn = -1;
    if (!f->shard || sscanf(f->shard, "%d/%d", &si, &sn) != 2)
        return slm_err(err, errlen, "%s: its newest run is not a shard (run it with --shard I/N)",
                       path);
    if (m->n_shards >= 0 && sn != m->n_shards)
        return slm_err(err, errlen, "%s: shard %s of %d, the others are of %d", path, f->shard,
                       sn, m->n_shards);
    if (m->cfg_sha && (!f->config_sha256 || strcmp(f->config_sha256, m->cfg_sha) ||
                       !f->data_sha256 || strcmp(f->data_sha256, m->data_sha)))
        return slm_err(err, errlen, "%s: a different config or eval set than %s", path,
                       m->first);
    if (f->status && strcmp(f->status, "complete") && !m->partial)
        return slm_err(err, errlen, "%s: shard %s is %s, not complete (finish it with run "
                       "--resume)", path, f->shard, f->status);
    if (m->n_shards < 0) {
        m->n_shards = sn;
        m->seen = slm_xcalloc((size_t)sn, 1);
        m->cfg_sha = slm_xstrdup(f->config_sha256);
        m->data_sha = slm_xstrdup(f->data_sha256);
    }
    if (m->seen[si]++)
        return slm_err(err, errlen, "%s: shard %s given twice", path, f->shard);
    *index = si;
    return 0;
}

/* Copies the attached shard into the merged run, inside one transaction. */
static int take_shard(merge_state *m, const char *path, char *err, size_t errlen)
{
    slm_store *st = m->st;
    if (slm_store_begin(st, err, errlen))
        return -2; /* not the input's fault */
    slm_shard_facts f = {0};
    slm_store_shard_facts(st, &f);
    int si, bad = check_shard(m, path, &f, &si, err, errlen);
    if (!bad && m->run_id == 0) /* the merged run: the first shard's run and candidates */
        bad = slm_store_merge_run(st, &m->run_id, err, errlen);
    if (!bad)
        bad = slm_store_merge_rows(st, m->run_id, err, errlen);
    if (!bad)
        slm_buf_printf(&m->from, "%s%s (%s)", m->from.len ? ", " : "", path, f.shard);
    slm_shard_facts_free(&f);
    if (bad) {
        slm_store_rollback(st);
        return -1;
    }
    return slm_store_commit(st, err, errlen);
}

/* One input: opened through the store first so its schema is current, then attached
 * (ATTACH and DETACH must happen outside a transaction, so one per shard). */
static int merge_input(merge_state *m, const char *path, int *bad_input, char *err,
                       size_t errlen)
{
    slm_store *in;
    if (slm_store_open(path, 0, &in, err, errlen)) {
        *bad_input = 1;
        return -1;
    }
    slm_store_close(in);
    if (slm_store_attach_shard(m->st, path, err, errlen))
        return -1;
    int bad = take_shard(m, path, err, errlen);
    slm_store_detach_shard(m->st);
    if (bad == -1)
        *bad_input = 1;
    return bad ? -1 : 0;
}

/* The merged run made whole: every shard present (unless partial), sources recorded,
 * every metric recomputed over the union of the shards. */
static int finish(merge_state *m, int *bad_input, char *err, size_t errlen)
{
    for (int i = 0; i < m->n_shards && !m->partial; i++)
        if (!m->seen[i]) {
            *bad_input = 1;
            return slm_err(err, errlen, "shard %d/%d is missing (give every shard, or --partial)",
                           i, m->n_shards);
        }
    if (slm_store_set_merged_from(m->st, m->run_id, m->from.data ? m->from.data : "", err,
                                  errlen))
        return -1;
    if (slm_aggregate_run(m->st, m->run_id, err, errlen) ||
        slm_compare_run(m->st, m->run_id, err, errlen))
        return 1; /* the rows are all in: a failed computation keeps them */
    char serr[SLM_ERRLEN];
    slm_store_set_status(m->st, m->run_id, m->partial ? "failed" : "complete", serr, sizeof serr);
    return 0;
}

int slm_merge(const char *out_path, const char *const *inputs, size_t n_in, int partial,
              int64_t *run_id, int *bad_input, char *err, size_t errlen)
{
    *bad_input = 0;
    merge_state m = {.partial = partial, .first = n_in ? inputs[0] : "", .n_shards = -1};
    if (slm_store_open(out_path, 1, &m.st, err, errlen))
        return -1;
    int rc = 0;
    for (size_t k = 0; k < n_in && rc == 0; k++)
        rc = merge_input(&m, inputs[k], bad_input, err, errlen);
    if (rc == 0)
        rc = finish(&m, bad_input, err, errlen);
    if (rc < 0) {
        slm_store_rollback(m.st);
        if (m.run_id) /* nothing half-merged stays behind */
            slm_store_unmerge(m.st, m.run_id);
    } else if (rc == 0) {
        *run_id = m.run_id;
    }
    slm_buf_free(&m.from);
    free(m.seen);
    free(m.cfg_sha);
    free(m.data_sha);
    slm_store_close(m.st);
    return rc == 0 ? 0 : -1;
}
