/* merge.c — see merge.h. Attaches each shard database and copies its rows into the
 * output, remapping candidate ids by name, then recomputes every metric. */
#include "merge.h"
#include "aggregate.h"
#include "analysis.h"
#include "store.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static int exec(slm_store *st, const char *sql, char *err, size_t errlen)
{
    return slm_store_exec(st, sql, err, errlen);
}

/* One text value of a query on the attached shard, or NULL (caller frees). */
static char *one_text(slm_store *st, const char *sql)
{
    sqlite3_stmt *s;
    char *v = NULL;
    if (slm_store_prepare(st, sql, &s, NULL, 0))
        return NULL;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        v = slm_xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

int slm_merge(const char *out_path, const char *const *inputs, size_t n_in, int partial,
              int64_t *run_id, int *bad_input, char *err, size_t errlen)
{
    *bad_input = 0;
    slm_store *st;
    if (slm_store_open(out_path, 1, &st, err, errlen))
        return -1;
    int rc = -1;
    char *cfg_sha = NULL, *data_sha = NULL;
    int n_shards = -1;
    unsigned char *seen = NULL;
    int64_t new_run = 0;
    slm_buf from = {0};
    for (size_t k = 0; k < n_in; k++) {
        /* inputs are opened through our store first so their schema is current */
        slm_store *in;
        if (slm_store_open(inputs[k], 0, &in, err, errlen)) {
            *bad_input = 1;
            goto rollback;
        }
        slm_store_close(in);
        /* one transaction per shard: ATTACH and DETACH must happen outside one */
        char *q = sqlite3_mprintf("ATTACH DATABASE %Q AS shard", inputs[k]);
        int bad = exec(st, q, err, errlen);
        sqlite3_free(q);
        if (bad)
            goto rollback;
        if (slm_store_begin(st, err, errlen)) {
            char derr[SLM_ERRLEN];
            exec(st, "DETACH DATABASE shard", derr, sizeof derr);
            goto rollback;
        }
        char *shard = one_text(st, "SELECT coalesce(shard, '') FROM shard.runs ORDER BY id DESC LIMIT 1");
        char *csha = one_text(st, "SELECT config_sha256 FROM shard.runs ORDER BY id DESC LIMIT 1");
        char *dsha = one_text(st, "SELECT e.sha256 FROM shard.evalsets e WHERE e.run_id = "
                                  "(SELECT max(id) FROM shard.runs)");
        char *status = one_text(st, "SELECT status FROM shard.runs ORDER BY id DESC LIMIT 1");
        int si = -1, sn = -1;
        if (!shard || sscanf(shard, "%d/%d", &si, &sn) != 2) {
            slm_err(err, errlen, "%s: its newest run is not a shard (run it with --shard I/N)",
                    inputs[k]);
            bad = 1;
        } else if (n_shards >= 0 && sn != n_shards) {
            slm_err(err, errlen, "%s: shard %s of %d, the others are of %d", inputs[k], shard, sn,
                    n_shards);
            bad = 1;
        } else if (cfg_sha && (!csha || strcmp(csha, cfg_sha) || !dsha || strcmp(dsha, data_sha))) {
            slm_err(err, errlen, "%s: a different config or eval set than %s", inputs[k], inputs[0]);
            bad = 1;
        } else if (status && strcmp(status, "complete") && !partial) {
            slm_err(err, errlen, "%s: shard %s is %s, not complete (finish it with run --resume)",
                    inputs[k], shard, status);
            bad = 1;
        }
        if (!bad) {
            if (n_shards < 0) {
                n_shards = sn;
                seen = slm_xcalloc((size_t)sn, 1);
                cfg_sha = slm_xstrdup(csha);
                data_sha = slm_xstrdup(dsha);
            }
            if (seen[si]++) {
                slm_err(err, errlen, "%s: shard %s given twice", inputs[k], shard);
                bad = 1;
            }
        }
        free(csha);
        free(dsha);
        free(status);
        if (!bad && k == 0) {
            /* the merged run: the first shard's run, evalset and candidates */
            bad = exec(st,
                       "INSERT INTO runs (name, tag, status, created_at, finished_at, mode, "
                       "config_path, config_text, config_sha256, harness_version, git_rev, "
                       "host_json, quantization_policy, bandwidth_gbs) SELECT name, NULL, "
                       "'running', created_at, finished_at, mode, config_path, config_text, "
                       "config_sha256, harness_version, git_rev, host_json, quantization_policy, "
                       "bandwidth_gbs FROM shard.runs ORDER BY id DESC LIMIT 1",
                       err, errlen);
            new_run = sqlite3_last_insert_rowid(slm_store_db(st));
            if (!bad) {
                char *sql = sqlite3_mprintf(
                    "INSERT INTO evalsets (run_id, name, version, split, path, sha256, n_rows, "
                    "n_skipped, labels_json, prompt_path, prompt_template, prompt_sha256, "
                    "choice_prefix, calib_split, calib_path, calib_sha256, calib_n_rows, task, "
                    "fields_json, few_shot_ids) SELECT %lld, name, version, split, path, sha256, "
                    "n_rows, n_skipped, labels_json, prompt_path, prompt_template, prompt_sha256, "
                    "choice_prefix, calib_split, calib_path, calib_sha256, calib_n_rows, task, "
                    "fields_json, few_shot_ids FROM shard.evalsets WHERE run_id = "
                    "(SELECT max(id) FROM shard.runs);"
                    "INSERT INTO candidates (run_id, idx, name, engine, engine_version, model_path, "
                    "model_sha256, arch, model_name, n_params, size_bytes, quant, n_ctx, n_ctx_train, "
                    "n_vocab, n_layer, n_embd, n_threads, chat_template, chat_template_used, "
                    "options_json, caps, status, load_ms, constrained, repeats, concurrency, "
                    "chat_template_sha256, chat_probe_sha256, n_ctx_need, kv_bytes, n_gpu_layers, "
                    "device) SELECT %lld, idx, "
                    "name, engine, engine_version, model_path, model_sha256, arch, model_name, "
                    "n_params, size_bytes, quant, n_ctx, n_ctx_train, n_vocab, n_layer, n_embd, "
                    "n_threads, chat_template, chat_template_used, options_json, caps, 'ok', "
                    "load_ms, constrained, repeats, concurrency, chat_template_sha256, "
                    "chat_probe_sha256, n_ctx_need, kv_bytes, n_gpu_layers, device "
                    "FROM shard.candidates WHERE run_id = "
                    "(SELECT max(id) FROM shard.runs);"
                    "INSERT INTO counter_events SELECT %lld, event, source, unit, reason FROM "
                    "shard.counter_events WHERE run_id = (SELECT max(id) FROM shard.runs);",
                    (long long)new_run, (long long)new_run, (long long)new_run);
                bad = exec(st, sql, err, errlen);
                sqlite3_free(sql);
            }
        }
        if (!bad) {
            /* rows of this shard, candidates matched by name */
            char *sql = sqlite3_mprintf(
                "CREATE TEMP TABLE IF NOT EXISTS cmap (old INTEGER PRIMARY KEY, new INTEGER);"
                "DELETE FROM cmap;"
                "INSERT INTO cmap SELECT o.id, n.id FROM shard.candidates o JOIN main.candidates n "
                "ON n.name = o.name AND n.run_id = %lld WHERE o.run_id = (SELECT max(id) FROM shard.runs);"
                "INSERT INTO examples SELECT %lld, idx, example_id, label, line, prompt_sha256 FROM "
                "shard.examples WHERE run_id = (SELECT max(id) FROM shard.runs);"
                "INSERT INTO predictions (run_id, candidate_id, example_idx, example_id, gold, pred, "
                "raw_output, correct, valid, confidence, probs_json, logprobs_json, ntok_json, "
                "n_prompt_tokens, n_output_tokens, e2e_ms, prefill_ms, decode_ms, ttft_ms, tpot_ms, "
                "error, probs_mean_json, fail_kinds, rendered_sha256) SELECT %lld, m.new, "
                "example_idx, example_id, "
                "gold, pred, raw_output, correct, valid, confidence, probs_json, logprobs_json, "
                "ntok_json, n_prompt_tokens, n_output_tokens, e2e_ms, prefill_ms, decode_ms, "
                "ttft_ms, tpot_ms, error, probs_mean_json, fail_kinds, rendered_sha256 "
                "FROM shard.predictions p "
                "JOIN cmap m ON m.old = p.candidate_id;"
                "INSERT INTO samples SELECT %lld, m.new, example_idx, rep, e2e_ms, prefill_ms, "
                "decode_ms, ttft_ms FROM shard.samples s JOIN cmap m ON m.old = s.candidate_id;"
                "INSERT INTO counters SELECT %lld, m.new, example_idx, phase, event, value, scale "
                "FROM shard.counters c JOIN cmap m ON m.old = c.candidate_id;"
                "INSERT INTO calib_predictions SELECT %lld, m.new, example_idx, example_id, gold, "
                "logprobs_json, ntok_json, error FROM shard.calib_predictions c JOIN cmap m ON "
                "m.old = c.candidate_id;"
                "UPDATE main.candidates SET wall_ms = coalesce(wall_ms, 0) + coalesce((SELECT "
                "o.wall_ms FROM shard.candidates o JOIN cmap m ON m.old = o.id WHERE m.new = "
                "main.candidates.id), 0), engine_ms = coalesce(engine_ms, 0) + coalesce((SELECT "
                "o.engine_ms FROM shard.candidates o JOIN cmap m ON m.old = o.id WHERE m.new = "
                "main.candidates.id), 0), concurrent_s = coalesce(concurrent_s, 0) + coalesce((SELECT "
                "o.concurrent_s FROM shard.candidates o JOIN cmap m ON m.old = o.id WHERE m.new = "
                "main.candidates.id), 0), concurrent_n = coalesce(concurrent_n, 0) + coalesce(("
                "SELECT o.concurrent_n FROM shard.candidates o JOIN cmap m ON m.old = o.id WHERE "
                "m.new = main.candidates.id), 0) WHERE run_id = %lld;",
                (long long)new_run, (long long)new_run, (long long)new_run, (long long)new_run,
                (long long)new_run, (long long)new_run, (long long)new_run);
            bad = exec(st, sql, err, errlen);
            sqlite3_free(sql);
            if (!bad)
                slm_buf_printf(&from, "%s%s (%s)", from.len ? ", " : "", inputs[k], shard);
        }
        free(shard);
        char derr[SLM_ERRLEN];
        if (bad)
            slm_store_rollback(st);
        else if (slm_store_commit(st, err, errlen))
            bad = 1;
        exec(st, "DETACH DATABASE shard", derr, sizeof derr);
        if (bad) {
            *bad_input = 1;
            goto rollback;
        }
    }
    for (int i = 0; i < n_shards && !partial; i++)
        if (!seen[i]) {
            slm_err(err, errlen, "shard %d/%d is missing (give every shard, or --partial)", i,
                    n_shards);
            *bad_input = 1;
            goto rollback;
        }
    {
        sqlite3_stmt *s;
        if (slm_store_prepare(st, "UPDATE runs SET merged_from = ?, shard = NULL WHERE id = ?", &s,
                              err, errlen))
            goto rollback;
        sqlite3_bind_text(s, 1, from.data, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, new_run);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    /* every metric recomputed over the union of the shards */
    if (slm_aggregate_run(st, new_run, err, errlen) || slm_compare_run(st, new_run, err, errlen))
        goto out;
    {
        sqlite3_stmt *s;
        if (slm_store_prepare(st, "UPDATE runs SET status = ? WHERE id = ?", &s, err, errlen) == 0) {
            sqlite3_bind_text(s, 1, partial ? "failed" : "complete", -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, new_run);
            sqlite3_step(s);
            sqlite3_finalize(s);
        }
    }
    *run_id = new_run;
    rc = 0;
    goto out;
rollback:
    slm_store_rollback(st);
    if (new_run) {
        /* nothing half-merged stays behind */
        static const char *const tables[] = {"predictions", "samples", "counters",
                                             "calib_predictions", "examples", "counter_events",
                                             "candidates", "evalsets", "runs"};
        char derr[SLM_ERRLEN];
        for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
            char *sql = sqlite3_mprintf("DELETE FROM %s WHERE %s = %lld", tables[t],
                                        t == 8 ? "id" : "run_id", (long long)new_run);
            exec(st, sql, derr, sizeof derr);
            sqlite3_free(sql);
        }
    }
out:
    slm_buf_free(&from);
    free(seen);
    free(cfg_sha);
    free(data_sha);
    slm_store_close(st);
    return rc;
}
