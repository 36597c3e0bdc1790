# `slmbench models labels`: how labels tokenize alone and after the prompt, on the own
# SPM demo model (always) and on the real qwen3 / llama3 vocabularies (skipped when make
# did not fetch them): the odd-label fixture, a merging prompt end, bad input.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures"
ODD="$FX/labels/odd.txt"

expect_exit 2 "models labels without a model" "$SLMBENCH" models labels
expect_exit 2 "models labels without labels" "$SLMBENCH" models labels "$TMP/m.gguf"
expect_exit 2 "models labels with both --evalset and --labels" "$SLMBENCH" models labels \
    "$TMP/m.gguf" --evalset "$FX/tiny" --labels "$ODD"
expect_exit 3 "a missing model is bad input" "$SLMBENCH" models labels "$TMP/none.gguf" --labels "$ODD"
expect_exit 3 "a CSV is not a model" "$SLMBENCH" models labels "$FX/tiny_train.csv" --labels "$ODD"
expect_err "not a GGUF file" "says the file is not a GGUF file"

"$SLMBENCH" models make --train "$FX/tiny/train.csv" --evalset "$FX/tiny" --out "$TMP/m.gguf" --vocab 40 >/dev/null
expect_exit 3 "a missing labels file is bad input" "$SLMBENCH" models labels "$TMP/m.gguf" --labels "$TMP/none.txt"
: >"$TMP/empty.txt"
expect_exit 3 "an empty labels file is bad input" "$SLMBENCH" models labels "$TMP/m.gguf" --labels "$TMP/empty.txt"
expect_err "holds no labels" "says the file holds no labels"
expect_exit 3 "an eval set without a label set" "$SLMBENCH" models labels "$TMP/m.gguf" \
    --evalset "$ROOT/evalsets/log-triage"

# The demo model's own SPM vocabulary: every label is one token "▁<label>" after the
# eval set's prompt; alone, llama.cpp's SPM tokenizer puts a space before the text (as
# SentencePiece's add_dummy_prefix), so " billing" alone is "▁" "▁billing".
n=$(awk 'NR > 1' "$FX/tiny/train.csv" | sed 's/.*,//' | tr -d '\r' | sort -u | wc -l | tr -d ' ')
expect_exit 0 "labels of the demo model's eval set" "$SLMBENCH" models labels "$TMP/m.gguf" --evalset "$FX/tiny"
expect_out "^$n of $n labels tokenize differently alone than after the prompt; 0 merge across the boundary; 0 take more than one token$" \
    "the demo model's labels are single tokens after the prompt"
expect_out '^billing	" " " billing"	" billing"	yes	no$' "alone, SPM adds a space"
expect_out "^score mode: $n label tokens in all \\(K·T\\), 0 decoded one label at a time, 0 trie nodes decoded with shared prefixes once \\(engine option score_trie=1\\)$" \
    "one-token labels decode nothing"
expect_exit 0 "labels from a CSV" "$SLMBENCH" models labels "$TMP/m.gguf" --labels "$FX/tiny/train.csv" --json
if [ "$(jq -r '.n_labels' "$TMP/out")" = "$n" ]; then ok "a CSV gives its distinct labels"; else
    notok "a CSV gives its distinct labels: $(jq -c '[.labels[].label]' "$TMP/out")"; fi

TOK="$ROOT/build/third_party/tokenizers"
[ -n "${SLM_TOKENIZERS_DIR:-}" ] && TOK=$SLM_TOKENIZERS_DIR
if [ ! -f "$TOK/qwen3/tokenizer.json" ] || [ ! -f "$TOK/llama3/tokenizer.json" ]; then
    skip "real tokenizers (no $TOK/qwen3, llama3: run make)"
    exit 0
fi
for t in qwen3 llama3; do
    "$SLMBENCH" models make --tokenizer "$t" --vocab-only --out "$TMP/$t.gguf" >/dev/null
    # After "Category:" with the default prefix " ", every odd label keeps the tokens it
    # has alone; most take several.
    expect_exit 0 "$t: odd labels" "$SLMBENCH" models labels "$TMP/$t.gguf" --labels "$ODD" \
        --prompt-end "Category:" --json
    got=$(jq -r '"\(.n_labels) \(.n_differ) \(.n_merge) \(.shared_prefix == .prompt_tokens)"' "$TMP/out")
    if [ "$got" = "16 0 0 true" ]; then ok "$t: odd labels as alone after 'Category:'"; else
        notok "$t: odd labels after 'Category:': $got"; fi
    # The trie count against one worked out here another way: the distinct prefixes of
    # every label's decoded tokens (all but its last), as a set.
    want=$(jq -r '"\([.labels[].n_tokens] | add) \([.labels[].n_tokens - 1 | select(. > 0)] | add)" +
        " \([.labels[].after_prompt.ids | .[:-1] | . as $d | range(1; ($d | length) + 1) | $d[:.]] | unique | length)"' "$TMP/out")
    got=$(jq -r '"\(.label_tokens) \(.decoded_tokens) \(.trie_nodes)"' "$TMP/out")
    if [ "$got" = "$want" ] && [ "${got##* }" -lt "$(echo "$got" | cut -d' ' -f2)" ]; then
        ok "$t: label tokens, decoded tokens, trie nodes $got"; else
        notok "$t: label tokens, decoded tokens, trie nodes: $got, want $want (fewer nodes than decoded)"; fi
    pieces=$(jq -r '.labels[] | select(.label == "(urgent)") | .after_prompt.pieces | join("|")' "$TMP/out")
    if [ "$pieces" = " (|urgent|)" ]; then ok "$t: '(urgent)' is ' (' 'urgent' ')'"; else
        notok "$t: '(urgent)' is '$pieces'"; fi
    # A prompt ending in a space and no prefix: the space merges with every label that
    # starts with a letter, so the prompt is cut back by one token for all of them.
    expect_exit 0 "$t: a prompt ending in a space" "$SLMBENCH" models labels "$TMP/$t.gguf" \
        --evalset "$ROOT/evalsets/support-triage" --prompt-end "Category: " --prefix ""
    expect_out "^the prompt's [0-9]+ tokens are cut back to the first [0-9]+: every label is scored from there$" \
        "$t: says the prompt is cut back"
    expect_out "^8 of 8 labels tokenize differently alone than after the prompt; 8 merge across the boundary; 4 take more than one token$" \
        "$t: counts the merging labels"
    expect_out "^billing	\"billing\"	\" billing\"	yes	yes$" "$t: ' billing' is scored, not 'billing'"
    # The eval set's own prompt: nothing merges.
    expect_exit 0 "$t: support-triage's prompt" "$SLMBENCH" models labels "$TMP/$t.gguf" \
        --evalset "$ROOT/evalsets/support-triage"
    expect_out "^0 of 8 labels tokenize differently alone than after the prompt; 0 merge across the boundary; 4 take more than one token$" \
        "$t: support-triage's labels follow its prompt unchanged"
done
