# The core leaks nothing and makes no memory errors under valgrind (replay engine, so the
# run is the harness's own code; llama.cpp's loader is loaded too, for `engines`).
. "$(dirname "$0")/lib.sh"
if ! command -v valgrind >/dev/null 2>&1; then skip "valgrind checks (valgrind not installed)"; exit 0; fi
case "$SLMBENCH" in */sanitize/*) skip "valgrind checks (sanitizer build)"; exit 0 ;; esac
FX="$ROOT/tests/fixtures/tiny"
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --suppressions=$ROOT/tests/valgrind.supp"
awk -F, 'NR==1{print "id,label,pred,confidence,p_billing,p_shipping,p_technical,latency_ms"; next}
         {print $1","$NF","$NF",0.9,0.9,0.05,0.05,1"}' "$FX/test.csv" > "$TMP/preds.csv"
cat >"$TMP/vg.yaml" <<YAML
name: vg
evalset: $FX
warmup: 1
candidates:
  - {name: r, engine: replay, model: preds.csv}
YAML
expect_exit 0 "run under valgrind" $VG "$SLMBENCH" run "$TMP/vg.yaml" --db "$TMP/vg.db" --quiet
expect_exit 0 "report under valgrind" $VG "$SLMBENCH" report last --db "$TMP/vg.db"
expect_exit 0 "report --json under valgrind" $VG "$SLMBENCH" report last --db "$TMP/vg.db" --json
expect_exit 0 "export under valgrind" $VG "$SLMBENCH" export predictions last --candidate r --db "$TMP/vg.db"
expect_exit 0 "evalsets check under valgrind" $VG "$SLMBENCH" evalsets check "$ROOT/evalsets/support-triage"
expect_exit 3 "a bad row under valgrind" $VG "$SLMBENCH" evalsets check "$ROOT/evalsets/support-triage/train.csv" --labels "$FX"
expect_exit 0 "engines under valgrind" $VG "$SLMBENCH" engines
# The model factory over a real vocabulary: tokenizer.json converted, opened through the
# llamacpp engine (vocab only), the classifier built (skipped without the tokenizers).
if "$SLMBENCH" models make --tokenizer qwen3 --vocab-only --out "$TMP/v.gguf" >/dev/null 2>&1; then
    expect_exit 0 "models make --tokenizer under valgrind" $VG "$SLMBENCH" models make \
        --train "$FX/train.csv" --tokenizer qwen3 --vocab 50 --out "$TMP/q.gguf"
else
    skip "models make --tokenizer under valgrind (the tokenizers are not installed)"
fi
