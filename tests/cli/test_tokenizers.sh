#!/bin/sh
# Real tokenizers: `models make --tokenizer ... --vocab-only` and `models tokenize`.
#
# First on the hand-written fixtures of tests/fixtures/hftokenizer (always run), then the
# proof, token for token, against llama.cpp's reference vectors in ../shared/tokenizers
# (skipped when ../shared is absent): the npm tokenizers qwen3 and llama3, converted here,
# must give through llama.cpp exactly the ids Hugging Face's tokenizers gave for every
# test string (ggml-vocab-qwen2 and ggml-vocab-llama-bpe .inp/.out), and so must every
# shared vocabulary-only GGUF that has vectors. Strings are tokenized as llama.cpp's
# test-tokenizer-0 does: without BOS/EOS, special tokens not parsed.
. "$(dirname "$0")/lib.sh"

FX=$ROOT/tests/fixtures/hftokenizer
SH=${SLM_SHARED:-$ROOT/../shared}/tokenizers

# ---- fixtures ----

expect_exit 0 "make --vocab-only from a qwen-like tokenizer.json" \
    "$SLMBENCH" models make --tokenizer "$FX/bpe_qwen/tokenizer.json" --vocab-only \
    --out "$TMP/q.gguf"
expect_out "wrote .*q.gguf: bpe_qwen tokenizer \(gpt2, pre qwen2\), 23 tokens, 9 merges" \
    "make reports the converted vocabulary"
expect_exit 0 "make --vocab-only from a llama-like tokenizer.json" \
    "$SLMBENCH" models make --tokenizer "$FX/bpe_llama/tokenizer.json" --vocab-only \
    --out "$TMP/l.gguf"

expect_exit 0 "tokenize --ids" "$SLMBENCH" models tokenize "$TMP/q.gguf" --ids "hello world"
if [ "$(cat "$TMP/out")" = "11 16" ]; then ok "merges reach whole words: 11 16"; else
    notok "tokenize --ids gave '$(cat "$TMP/out")', expected '11 16'"; fi

expect_exit 0 "tokenize with pieces" "$SLMBENCH" models tokenize "$TMP/q.gguf" "hello
world"
printf '11\thello\n17\t\\n\n5\tw\n13\tor\n2\tl\n7\td\n' > "$TMP/want"
if cmp -s "$TMP/out" "$TMP/want"; then ok "one 'id<TAB>piece' line per token, newline escaped"
else notok "tokenize output differs:"; diff "$TMP/want" "$TMP/out" | sed 's/^/#   /'; fi

expect_exit 0 "a model that adds BOS" "$SLMBENCH" models tokenize "$TMP/l.gguf" --ids "hello"
if [ "$(cat "$TMP/out")" = "18 11" ]; then ok "BOS first where the model adds it"; else
    notok "expected '18 11', got '$(cat "$TMP/out")'"; fi
expect_exit 0 "--no-special" "$SLMBENCH" models tokenize "$TMP/l.gguf" --ids --no-special "hello"
if [ "$(cat "$TMP/out")" = "11" ]; then ok "--no-special leaves BOS out"; else
    notok "expected '11', got '$(cat "$TMP/out")'"; fi

expect_exit 0 "--parse-special" "$SLMBENCH" models tokenize "$TMP/q.gguf" --ids --parse-special \
    "hello<|im_end|>"
if [ "$(cat "$TMP/out")" = "11 20" ]; then ok "--parse-special turns <|im_end|> into its token"
else notok "expected '11 20', got '$(cat "$TMP/out")'"; fi
expect_exit 0 "special text without --parse-special" "$SLMBENCH" models tokenize "$TMP/q.gguf" \
    --ids "hello<|im_end|>"
case " $(cat "$TMP/out") " in *" 20 "*) notok "<|im_end|> parsed without --parse-special" ;;
    *) ok "special text stays text by default" ;; esac

printf 'hello world' > "$TMP/text"
expect_exit 0 "--file" "$SLMBENCH" models tokenize "$TMP/q.gguf" --ids --file "$TMP/text"
if [ "$(cat "$TMP/out")" = "11 16" ]; then ok "--file tokenizes the file's text"; else
    notok "--file gave '$(cat "$TMP/out")'"; fi
printf 'hello\n__ggml_vocab_test__\n\n__ggml_vocab_test__\n world\n__ggml_vocab_test__\n' > "$TMP/batch"
expect_exit 0 "--batch" "$SLMBENCH" models tokenize "$TMP/q.gguf" --no-special --batch "$TMP/batch"
printf '11\n\n16\n' > "$TMP/want"
if cmp -s "$TMP/out" "$TMP/want"; then ok "--batch: one id line per text, the empty one too"
else notok "--batch output differs:"; diff "$TMP/want" "$TMP/out" | sed 's/^/#   /'; fi

# ---- refusals ----

expect_exit 3 "a WordPiece tokenizer is refused" "$SLMBENCH" models make \
    --tokenizer "$FX/bad/wordpiece.json" --vocab-only --out "$TMP/x.gguf"
expect_err "wordpiece.json: WordPiece tokenizers are not converted yet" "and says so"
expect_exit 3 "an unknown pre-tokenizer regex is refused" "$SLMBENCH" models make \
    --tokenizer "$FX/bad/unknown_regex.json" --vocab-only --out "$TMP/x.gguf"
expect_err "unknown_regex.json: pre-tokenizer regex not known to llama.cpp" "and names the file"
if [ -e "$TMP/x.gguf" ]; then notok "a refused tokenizer left a file"; else
    ok "a refused tokenizer writes nothing"; fi
expect_exit 3 "an unknown tokenizer name" "$SLMBENCH" models make --tokenizer nosuch \
    --vocab-only --out "$TMP/x.gguf"
expect_err "unknown tokenizer 'nosuch'" "names it"
expect_exit 2 "--tokenizer without --vocab-only builds a model: it needs a train split" \
    "$SLMBENCH" models make --tokenizer "$FX/bpe_qwen/tokenizer.json" --out "$TMP/x.gguf"
expect_err "models make needs --train and --out" "says what is missing"
expect_exit 2 "--vocab-only needs --tokenizer" "$SLMBENCH" models make --vocab-only \
    --out "$TMP/x.gguf"
expect_exit 2 "tokenize needs a text" "$SLMBENCH" models tokenize "$TMP/q.gguf"
expect_exit 3 "tokenize a file that is not GGUF" "$SLMBENCH" models tokenize \
    "$FX/bpe_qwen/tokenizer.json" hello
expect_exit 3 "tokenize a missing model" "$SLMBENCH" models tokenize "$TMP/none.gguf" hello

# ---- the proof against llama.cpp's reference vectors ----

if [ ! -d "$SH" ]; then
    skip "tokenizer reference vectors (no ../shared/tokenizers)"
    exit 0
fi

# Mismatches known and explained: "name count reason", one a line. None today.
EXPECTED_MISMATCHES=""

# vectors NAME GGUF VECTORS: tokenizes every string of VECTORS.inp with GGUF and compares
# the ids with VECTORS.out, line by line.
vectors() {
    name=$1 gguf=$2 vec=$3
    if ! "$SLMBENCH" models tokenize "$gguf" --no-special --batch "$vec.inp" >"$TMP/got" \
        2>"$TMP/err"; then
        skip "$name: llama.cpp does not tokenize with it ($(head -n 1 "$TMP/err"))"
        return 0
    fi
    sed 's/^ *//; s/ *$//' "$vec.out" > "$TMP/want"
    total=$(wc -l < "$TMP/want")
    got_n=$(wc -l < "$TMP/got")
    equal=$(paste -d '\n' "$TMP/got" "$TMP/want" |
        awk 'NR % 2 == 1 { a = $0; next } a == $0 { e++ } END { print e + 0 }')
    [ "$got_n" -eq "$total" ] || equal=$((equal < total ? equal : total - 1))
    expected=$(printf '%s\n' "$EXPECTED_MISMATCHES" | awk -v n="$name" '$1 == n { print $2 }')
    summary="$name: $equal/$total strings equal ($(basename "$vec"))"
    if [ "$equal" -eq "$total" ]; then ok "$summary"
    elif [ -n "$expected" ] && [ $((total - equal)) -eq "$expected" ]; then
        ok "$summary, $expected mismatches expected: $(printf '%s\n' "$EXPECTED_MISMATCHES" |
            awk -v n="$name" '$1 == n { $1 = $2 = ""; print }')"
    else
        notok "$summary"
        paste -d '\n' "$TMP/got" "$TMP/want" | awk 'NR % 2 == 1 { a = $0; next }
            a != $0 { printf "#   string %d: got \"%s\", expected \"%s\"\n", NR / 2, a, $0 }' |
            head -n 10
    fi
}

for fam in qwen3:qwen2 llama3:llama-bpe; do
    name=${fam%%:*} ref=${fam#*:}
    if "$SLMBENCH" models make --tokenizer "$name" --vocab-only --out "$TMP/$name.gguf" \
        >/dev/null 2>"$TMP/err"; then
        vectors "$name" "$TMP/$name.gguf" "$SH/ggml-vocab-$ref.gguf"
    else
        notok "$name: cannot convert the npm tokenizer: $(cat "$TMP/err")"
    fi
done

for g in "$SH"/ggml-vocab-*.gguf; do
    [ -f "$g.inp" ] && [ -f "$g.out" ] || continue
    name=$(basename "$g" .gguf)
    vectors "${name#ggml-vocab-}" "$g" "$g"
done
