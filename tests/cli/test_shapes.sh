#!/bin/sh
# Demo models over real vocabularies and in the shapes of published models (modelshape.h).
#
# A classifier learnt over Qwen3's tokenizer must answer through llama.cpp with whole
# labels, multi-token ones included, and stop; score and generate must agree. Each
# published shape must load in llama.cpp with a parameter count within 1% of the
# published one, and answer exactly as the small model with the same classifier does
# (its other weights are pseudo-random and must not disturb the answers). Bad input: an
# unknown shape, a shape that would not fit the disk (a 4 MiB tmpfs, where mounting one
# is allowed). Skipped where the real tokenizers are not installed.
. "$(dirname "$0")/lib.sh"

ES=$ROOT/evalsets/support-triage
make_args() { echo --train "$ES/train.csv" --evalset "$ES"; }

expect_exit 3 "an unknown shape" "$SLMBENCH" models make $(make_args) --shape tiny-9b \
    --out "$TMP/x.gguf"
expect_err "unknown shape 'tiny-9b' \(known: qwen2.5-0.5b, qwen3-0.6b, llama-3.2-1b\)" \
    "the error names the known shapes"
check "nothing written for an unknown shape" test ! -e "$TMP/x.gguf"

if ! "$SLMBENCH" models make --tokenizer qwen3 --vocab-only --out "$TMP/v.gguf" >/dev/null 2>&1
then
    skip "real-vocabulary models (the tokenizers are not installed: run make)"
    exit 0
fi

# A small eval set: 24 test tickets, legal_dispute (three tokens with Qwen3's BPE) among them.
mkdir -p "$TMP/es"
cp "$ES/evalset.yaml" "$ES/prompt.txt" "$TMP/es/"
sed -i '/^  train:/d; /^  calibration:/d' "$TMP/es/evalset.yaml"
{ head -n 1 "$ES/test.csv"; grep ',legal_dispute$' "$ES/test.csv" | head -n 6
  sed 1d "$ES/test.csv" | grep -v ',legal_dispute$' | head -n 18; } > "$TMP/es/test.csv"
run_cfg() { # name mode model [n]
    printf 'name: %s\nevalset: es\nsplit: test\nmode: %s\nmax_tokens: 8\nthreads: 2\nbootstrap: 0\nquantization: mixed\ncandidates:\n  - {name: m, model: %s}\n' \
        "$1" "$2" "$3" > "$TMP/$1.yaml"
}

expect_exit 0 "a classifier over Qwen3's vocabulary" "$SLMBENCH" models make $(make_args) \
    --tokenizer qwen3 --out "$TMP/q.gguf"
expect_out "vocabulary qwen3, architecture llama, 4 of 8 labels take several tokens" \
    "it reports the labels that take several tokens"
expect_exit 0 "legal_dispute is three tokens" "$SLMBENCH" models tokenize "$TMP/q.gguf" \
    --no-special " legal_dispute"
if [ "$(wc -l < "$TMP/out")" -eq 3 ]; then ok "' legal_dispute' takes 3 tokens"; else
    notok "' legal_dispute' takes $(wc -l < "$TMP/out") tokens"; fi

run_cfg gen generate "$TMP/q.gguf"
expect_exit 0 "generate with it" "$SLMBENCH" run "$TMP/gen.yaml" --db "$TMP/gen.db" --quiet
bad=$(sql "$TMP/gen.db" "select count(*) from predictions where raw_output not in
    (' billing',' shipping',' account_access',' technical',' legal_dispute',' refund_return',
     ' product_question',' feedback')")
if [ "$bad" = 0 ]; then ok "every answer is one whole label, then end of sequence"; else
    notok "$bad answers are not exactly one label:"
    sql "$TMP/gen.db" "select quote(raw_output) from predictions" | head -n 5 | sed 's/^/#   /'; fi
n3=$(sql "$TMP/gen.db" "select count(*) from predictions where raw_output = ' legal_dispute'")
if [ "$n3" -ge 3 ]; then ok "the three-token label is generated whole ($n3 times)"; else
    notok "' legal_dispute' generated $n3 times"; fi

run_cfg score score "$TMP/q.gguf"
expect_exit 0 "score with it" "$SLMBENCH" run "$TMP/score.yaml" --db "$TMP/score.db" --quiet
sql "$TMP/gen.db" "select example_idx, pred from predictions order by 1" > "$TMP/g.txt"
sql "$TMP/score.db" "select example_idx, pred from predictions order by 1" > "$TMP/s.txt"
if cmp -s "$TMP/g.txt" "$TMP/s.txt"; then ok "greedy generation answers the label scoring ranks first"
else notok "generate and score disagree:"; diff "$TMP/g.txt" "$TMP/s.txt" | head | sed 's/^/#   /'; fi

# Each published shape: llama.cpp's parameter count, and the same answers as the small model.
# (The files are 1 to 2.4 GB: each is removed once checked.)
# (llama-3.2-1b takes seconds per example in F16 on 2 cores: 3 examples there.)
for spec in "qwen2.5-0.5b 494032768 8" "qwen3-0.6b 600000000 8" "llama-3.2-1b 1235814400 3"; do
    set -- $spec
    shape=$1 published=$2 limit=$3
    tok=qwen3
    [ "$shape" = llama-3.2-1b ] && tok=llama3
    if [ "$tok" = llama3 ] && [ ! -s "$TMP/l.gguf" ]; then
        "$SLMBENCH" models make $(make_args) --tokenizer llama3 --out "$TMP/l.gguf" >/dev/null
    fi
    small=$TMP/q.gguf
    [ "$tok" = llama3 ] && small=$TMP/l.gguf
    expect_exit 0 "shape $shape" "$SLMBENCH" models make $(make_args) --shape "$shape" \
        --out "$TMP/shape.gguf"
    expect_exit 0 "llama.cpp loads $shape" "$SLMBENCH" models inspect "$TMP/shape.gguf"
    n=$(sed -n 's/^parameters *\([0-9]*\) .*/\1/p' "$TMP/out")
    if [ -n "$n" ] && awk -v n="$n" -v p="$published" 'BEGIN { d = (n - p) / p; exit !(d < 0.01 && d > -0.01) }'
    then ok "$shape: $n parameters, within 1% of the published $published"
    else notok "$shape: $n parameters against the published $published"; fi
    grep -q "loads it" "$TMP/out" && ok "$shape: llama.cpp builds its graph" || notok "$shape: not loaded"
    printf 'name: shape\nevalset: es\nsplit: test\nmode: score\nthreads: 2\nbootstrap: 0\nlimit: %s\nquantization: mixed\ncandidates:\n  - {name: small, model: %s}\n  - {name: shaped, model: %s}\n' \
        "$limit" "$small" "$TMP/shape.gguf" > "$TMP/shape.yaml"
    rm -f "$TMP/shape.db"
    expect_exit 0 "score with $shape" "$SLMBENCH" run "$TMP/shape.yaml" --db "$TMP/shape.db" --quiet
    diff=$(sql "$TMP/shape.db" "select count(*) from v_predictions a join v_predictions b
        using (example_idx) where a.candidate = 'small' and b.candidate = 'shaped'
        and (a.pred <> b.pred or abs(a.confidence - b.confidence) > 0.01)")
    rows=$(sql "$TMP/shape.db" "select count(*) from v_predictions where candidate = 'shaped'")
    if [ "$diff" = 0 ] && [ "$rows" = "$limit" ]; then
        ok "$shape answers as the small model with the same classifier ($limit of $limit, confidence within 0.01)"
    else notok "$shape: $diff of $rows answers differ from the small model's"; fi
    rm -f "$TMP/shape.gguf"
done

# A shape that would not fit: a 4 MiB tmpfs (root only; skipped elsewhere).
mkdir -p "$TMP/small"
if mount -t tmpfs -o size=4m tmpfs "$TMP/small" 2>/dev/null; then
    expect_exit 3 "a shape that does not fit the disk" "$SLMBENCH" models make $(make_args) \
        --shape qwen2.5-0.5b --out "$TMP/small/m.gguf"
    expect_err "'.*/small/m.gguf' would take 0.9[0-9] GiB, but '.*/small' has only 0.00 GiB free" \
        "the error says how much it needs and how much is free"
    if [ -z "$(ls -A "$TMP/small")" ]; then ok "nothing half-written"; else
        notok "left behind: $(ls -A "$TMP/small")"; fi
    umount "$TMP/small"
else
    skip "a shape that does not fit the disk (cannot mount a small tmpfs here)"
fi
