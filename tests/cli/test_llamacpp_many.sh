# `slmbench run` with concurrency in process: the llamacpp engine's generate_many decodes
# up to N sequences together in one context. Its predictions must be those of one request
# at a time (greedy), on a demo model whose answers run to max_tokens (--no-stop: every
# request decodes, so the sequences share steps) and on one that stops after its label;
# with repeats too (every pass through generate_many).
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"

"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/ns.gguf" --vocab 40 --no-stop >/dev/null
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/st.gguf" --vocab 40 >/dev/null

# run_conc MODEL CONC DB [EXTRA]: generate mode on the tiny eval set's 24 test examples
run_conc() {
    printf 'name: many\nevalset: %s\nmode: generate\nmax_tokens: 6\nthreads: 1\nwarmup: 1\nbandwidth: false\nbootstrap: 0\nconcurrency: %s\n%scandidates:\n  - {name: local, model: %s}\n' \
        "$FX" "$2" "${4:-}" "$1" >"$TMP/c.yaml"
    expect_exit 0 "run $(basename "$1") with concurrency $2${4:+ ($(echo "$4" | tr -d '\n'))}" \
        "$SLMBENCH" run "$TMP/c.yaml" --db "$3" --quiet
}
preds() { sql "$1" "select example_idx, pred, raw_output, round(confidence, 6), valid, error from predictions order by 1"; }

for m in ns st; do
    run_conc "$TMP/$m.gguf" 1 "$TMP/$m-1.db"
    run_conc "$TMP/$m.gguf" 4 "$TMP/$m-4.db"
    preds "$TMP/$m-1.db" >"$TMP/p1"
    preds "$TMP/$m-4.db" >"$TMP/p4"
    if [ "$(wc -l <"$TMP/p4")" = 24 ] && cmp -s "$TMP/p1" "$TMP/p4"; then
        ok "$m: the same 24 predictions and outputs at concurrency 4 as at 1"
    else notok "$m: predictions differ under concurrency"; diff "$TMP/p1" "$TMP/p4" | head -5 | sed 's/^/#   /'; fi
done
v=$(sql "$TMP/ns-4.db" "select count(*) from predictions where raw_output like '% % % % % %'")
[ "$v" = 24 ] && ok "no-stop model: every answer has 6 tokens (the sequences decoded side by side)" || notok "answers of 6 words: $v"
c=$(sql "$TMP/ns-4.db" "select concurrency from candidates")
[ "$c" = 4 ] && ok "the candidate row records concurrency 4" || notok "candidates.concurrency = $c"
v=$(sql "$TMP/ns-4.db" "select count(*) from predictions where e2e_ms > 0 and prefill_ms > 0 and decode_ms > 0 and prefill_ms + decode_ms <= e2e_ms + 0.01")
[ "$v" = 24 ] && ok "each request's own prefill and decode clock times, within its end-to-end time" || notok "rows with per-request times: $v"

run_conc "$TMP/ns.gguf" 3 "$TMP/r3.db" "repeats: 2
"
preds "$TMP/r3.db" >"$TMP/pr"
preds "$TMP/ns-1.db" >"$TMP/p1"
cmp -s "$TMP/p1" "$TMP/pr" && ok "repeats 2 at concurrency 3: the same predictions" || notok "repeats under concurrency differ"
v=$(sql "$TMP/r3.db" "select count(*) from samples")
[ "$v" = 48 ] && ok "both passes' samples kept (48)" || notok "samples: $v"
