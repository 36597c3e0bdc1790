#!/bin/sh
# Bad input, end to end: every bad eval set, config and model file is refused with
# exit 3 (DESIGN §9) and a message naming the file and line (or field) and the reason,
# before any model loads and without a complete run in the database; an unusable
# engine is exit 4; usage mistakes are exit 2. The odd-but-valid data files (BOM,
# CRLF, quoted newlines, JSON lines) are accepted with the right row counts.
. "$(dirname "$0")/lib.sh"

TINY=$ROOT/tests/fixtures/tiny
TEST_BIN=${SLM_TEST_BIN:-$ROOT/build/tests}
HAVE_SQLITE=$(command -v sqlite3 >/dev/null 2>&1 && echo 1 || true)

# no_complete WHAT DB: the database is absent or holds no run marked complete.
no_complete() {
    if [ ! -e "$2" ]; then ok "$1: no database written"; return; fi
    if [ -z "$HAVE_SQLITE" ]; then skip "$1: no complete run (no sqlite3 program)"; return; fi
    n=$(sql "$2" "select count(*) from runs where status='complete'" 2>&1 || true)
    if [ "$n" = 0 ]; then ok "$1: no run marked complete"; else
        notok "$1: expected no complete run, got '$n'"; fi
}

# ---- the bad and odd data files ----
D=$TMP/data
mkdir -p "$D"
H='id,text,label'
printf '%s\na1,hello,billing\na2,"unterminated,billing\na3,foo,billing\n' "$H" >"$D/unterm.csv"
printf '%s\na1,hello,billing\na2,"unterminated,billing\na3,foo,billing\na4,"foo",billing\n' "$H" >"$D/unterm2.csv"
printf 'id,text\na1,hello\n' >"$D/nolabel.csv"
printf '%s\na1,hello,billing\na2,bye,billing,extra\n' "$H" >"$D/extra.csv"
printf '%s\na1,hello,billing\na2,bye\n' "$H" >"$D/few.csv"
printf '%s\na1,hello,billing\na2,bye,\n' "$H" >"$D/emptylabel.csv"
printf '%s\na1,hello,billing\na2,sunny today,weather\n' "$H" >"$D/badlabel.csv"
printf '%s\na1,hello,billing\na2,caf\377 bill,billing\n' "$H" >"$D/utf8.csv"
{ printf '%s\na1,hello,billing\na2,' "$H"; head -c 10485760 /dev/zero | tr '\000' x
  printf ',billing\n'; } >"$D/big.csv"
: >"$D/empty.csv"
printf '%s\n' "$H" >"$D/header.csv"
printf '%s\na1,hello,billing\na2,bye,shipping\na1,again,billing\n' "$H" >"$D/dup.csv"
printf '%s\na1,hello,billing\na2,nul\000inside,shipping\n' "$H" >"$D/nul.csv"

# case NAME LINE REASON: LINE is '-' for a whole-file problem.
CASES="unterm|3|malformed CSV: unterminated quoted field \(the quote opened on this line is still open at the end
unterm2|3|malformed CSV: .* \(in the quoted field that starts on this line; noticed on line 5\)
nolabel|1|header has no 'label' column
extra|3|expected 3 fields as in the header, found 4
few|3|expected 3 fields as in the header, found 2
emptylabel|3|empty label for id 'a2'
badlabel|3|label 'weather' is not in the label set
utf8|3|field 'text' is not valid UTF-8
big|3|field 'text' is 10485760 bytes, more than the limit of 1048576
empty|-|file is empty
header|-|no rows
dup|4|duplicate id 'a1' \(first on line 2\)
nul|3|field 'text' \(column 2\) contains a NUL byte \(byte 4\)"

# ---- slmbench evalsets check ----
echo "$CASES" | while IFS='|' read -r name line why; do
    f=$D/$name.csv
    expect_exit 3 "evalsets check $name.csv" "$SLMBENCH" evalsets check "$f" --labels "$TINY"
    if [ "$line" = - ]; then loc="$f"; else loc="$f:$line"; fi
    expect_err "^slmbench: error: $loc: $why" "evalsets check $name.csv names $loc and the reason"
done

printf '\357\273\277%s\na1,hello,billing\na2,bye,shipping\n' "$H" >"$D/bom.csv"
printf '%s\r\na1,hello,billing\r\na2,bye,shipping\r\n' "$H" >"$D/crlf.csv"
printf '%s\na1,"hello\nworld, again",billing\na2,bye,shipping\n' "$H" >"$D/quoted.csv"
printf '{"id":"a1","text":"hello","label":"billing"}\n{"id":"a2","text":"bye","label":"shipping"}\n{"id":"a3","text":"crash","label":"technical"}\n' >"$D/ok.jsonl"
for name in bom.csv crlf.csv quoted.csv ok.jsonl; do
    expect_exit 0 "evalsets check accepts $name" "$SLMBENCH" evalsets check "$D/$name" --labels "$TINY"
done
expect_exit 0 "BOM: header recognised" "$SLMBENCH" evalsets check "$D/bom.csv" --labels "$TINY"
expect_out '^  rows +2$' "BOM: 2 rows"
expect_exit 0 "CRLF: accepted" "$SLMBENCH" evalsets check "$D/crlf.csv" --labels "$TINY"
expect_out '^  rows +2$' "CRLF: 2 rows"
if grep -q "$(printf '\r')" "$TMP/out"; then notok "CRLF: a carriage return leaked into the fields"; else
    ok "CRLF: no carriage return in the fields"; fi
expect_exit 0 "quoted newline and comma: accepted" "$SLMBENCH" evalsets check "$D/quoted.csv" --labels "$TINY"
expect_out '^  rows +2$' "quoted newline and comma: 2 rows"
expect_out 'max 18$' "quoted newline and comma: kept inside the 18-byte text"
expect_exit 0 "JSON lines: accepted" "$SLMBENCH" evalsets check "$D/ok.jsonl" --labels "$TINY"
expect_out '^  rows +3$' "JSON lines: 3 rows"
printf '{"id":"a1","text":"hello","label":"billing"}\n{"id":"a2","text":"bye"\n' >"$D/bad.jsonl"
expect_exit 3 "evalsets check bad.jsonl" "$SLMBENCH" evalsets check "$D/bad.jsonl" --labels "$TINY"
expect_err "$D/bad.jsonl:2: not a JSON object" "bad.jsonl names line 2"
printf '{"id":"a1","text":"hello","label":"billing"}\n{"id":"a2","text":"bye","label":"billing","label":"shipping"}\n' >"$D/dupkey.jsonl"
expect_exit 3 "evalsets check dupkey.jsonl" "$SLMBENCH" evalsets check "$D/dupkey.jsonl" --labels "$TINY"
expect_err "$D/dupkey.jsonl:2: duplicate key \"label\" \(column 43\)" "dupkey.jsonl names line 2 and the key"

# ---- the same bad data through slmbench run ----
M=$TMP/m.gguf
expect_exit 0 "models make: a tiny demo model" "$SLMBENCH" models make --train "$TINY/train.csv" \
    --evalset "$TINY" --out "$M" --vocab 30
ES=$TMP/es
cp -r "$TINY" "$ES"
cfg() { # cfg FILE MODEL...: a config with one candidate per model (named c1, c2, ...)
    out=$1; shift
    { echo "evalset: $ES"; echo "warmup: 0"; echo "candidates:"
      i=0; for m in "$@"; do i=$((i + 1)); printf '  - name: c%s\n    engine: llamacpp\n    model: %s\n' "$i" "$m"; done
    } >"$out"
}
C=$TMP/run.yaml
cfg "$C" "$M"
# The control: this config and model are good.
expect_exit 0 "run: the good config completes" "$SLMBENCH" run "$C" --db "$TMP/good.db" --quiet
if [ -n "$HAVE_SQLITE" ]; then
    n=$(sql "$TMP/good.db" "select count(*) from runs where status='complete'")
    if [ "$n" = 1 ]; then ok "run: the good run is marked complete"; else notok "run: good run: $n complete"; fi
fi

echo "$CASES" | while IFS='|' read -r name line why; do
    cp "$D/$name.csv" "$ES/test.csv"
    rm -f "$TMP/x.db"*
    expect_exit 3 "run with $name test.csv" "$SLMBENCH" run "$C" --db "$TMP/x.db"
    if [ "$line" = - ]; then loc="$ES/test.csv"; else loc="$ES/test.csv:$line"; fi
    expect_err "^slmbench: error: $loc: $why" "run with $name test.csv names $loc and the reason"
    no_complete "run with $name test.csv" "$TMP/x.db"
done
cp "$TINY/test.csv" "$ES/test.csv"

# ---- bad configs and model files ----
runbad() { # runbad CODE WHAT CONFIG REGEX
    rm -f "$TMP/x.db"*
    expect_exit "$1" "run: $2" "$SLMBENCH" run "$3" --db "$TMP/x.db"
    expect_err "$4" "run: $2: message"
    no_complete "run: $2" "$TMP/x.db"
}
printf 'evalset: %s\ncandidates:\n  - name: c1\n    model: [%s\n' "$ES" "$M" >"$TMP/syntax.yaml"
runbad 3 "YAML syntax error" "$TMP/syntax.yaml" \
    "$TMP/syntax.yaml:[0-9]+: invalid YAML: .*started on line 4"
# 50,000 nested brackets: a clear error at the nesting limit, not a stack overflow
{ printf 'evalset: %s\ncandidates: ' "$ES"; head -c 50000 /dev/zero | tr '\000' '['; echo; } >"$TMP/deep.yaml"
runbad 3 "50,000 nested brackets" "$TMP/deep.yaml" "$TMP/deep.yaml:2: nested deeper than 64 levels"
printf 'evalset: %s\nwarmup: 0\nbogus: 1\ncandidates:\n  - name: c1\n    model: %s\n' "$ES" "$M" >"$TMP/unknown.yaml"
runbad 3 "unknown top-level key" "$TMP/unknown.yaml" "$TMP/unknown.yaml:3: unknown key 'bogus'"
printf 'evalset: %s\ncandidates:\n  - name: c1\n    engine: nope\n    model: %s\n' "$ES" "$M" >"$TMP/engine.yaml"
runbad 3 "unknown engine" "$TMP/engine.yaml" \
    "$TMP/engine.yaml:3: candidate 'c1': unknown engine 'nope' \(available: .*llamacpp"
cfg "$TMP/missing.yaml" "$TMP/missing.gguf"
runbad 3 "missing model file" "$TMP/missing.yaml" "$TMP/missing.gguf: cannot open: No such file"
head -c 1000 "$M" >"$TMP/trunc.gguf"
cfg "$TMP/trunc.yaml" "$TMP/trunc.gguf"
runbad 3 "truncated GGUF" "$TMP/trunc.yaml" "$TMP/trunc.gguf: truncated"
echo "id,text,label this is not a model" >"$TMP/notgguf.gguf"
cfg "$TMP/notgguf.yaml" "$TMP/notgguf.gguf"
runbad 3 "non-GGUF model file" "$TMP/notgguf.yaml" "$TMP/notgguf.gguf: not a GGUF file \(bad magic\)"

if "$SLMBENCH" models quantize "$M" "$TMP/q8.gguf" Q8_0 >/dev/null 2>"$TMP/qerr"; then
    cfg "$TMP/mixed.yaml" "$M" "$TMP/q8.gguf"
    runbad 3 "mixed quantization without 'quantization: mixed'" "$TMP/mixed.yaml" \
        "quantization differs between candidates \('c1' is F16, 'c2' is Q8_0\).*quantization: mixed"
    { echo "quantization: mixed"; cat "$TMP/mixed.yaml"; } >"$TMP/mixed-ok.yaml"
    expect_exit 0 "run: mixed quantization with 'quantization: mixed'" \
        "$SLMBENCH" run "$TMP/mixed-ok.yaml" --db "$TMP/mixed.db" --quiet
else
    skip "mixed quantization (models quantize failed: $(head -n 1 "$TMP/qerr"))"
fi

FAKE=$TEST_BIN/libfake_llama.so
if [ -f "$FAKE" ]; then
    expect_exit 0 "engines with a mismatching llama.cpp library" \
        env SLM_LLAMA_LIB="$FAKE" "$SLMBENCH" engines
    expect_out '^llamacpp +disabled .*does not match the ABI' "engines: llamacpp disabled with the ABI reason"
    rm -f "$TMP/x.db"*
    expect_exit 4 "run with a mismatching llama.cpp library" \
        env SLM_LLAMA_LIB="$FAKE" "$SLMBENCH" run "$C" --db "$TMP/x.db"
    expect_err "engine 'llamacpp' is disabled: .*does not match the ABI" "run: says the library's ABI does not match"
    no_complete "run with a mismatching llama.cpp library" "$TMP/x.db"
else
    skip "mismatching llama.cpp library ($FAKE not built)"
fi

# ---- models inspect ----
expect_exit 3 "models inspect truncated GGUF" "$SLMBENCH" models inspect "$TMP/trunc.gguf"
expect_err "$TMP/trunc.gguf: truncated" "models inspect: says truncated"
expect_exit 3 "models inspect non-GGUF file" "$SLMBENCH" models inspect "$TMP/notgguf.gguf"
expect_err "$TMP/notgguf.gguf: not a GGUF file \(bad magic\)" "models inspect: says bad magic"
expect_exit 3 "models inspect missing file" "$SLMBENCH" models inspect "$TMP/missing.gguf"
expect_err "$TMP/missing.gguf: cannot open: No such file" "models inspect: names the missing file"
expect_exit 2 "models: unknown subcommand" "$SLMBENCH" models frobnicate
expect_err "unknown models subcommand 'frobnicate'" "models: names the unknown subcommand"
expect_exit 2 "models inspect: unknown option" "$SLMBENCH" models inspect --frobnicate "$M"
expect_err "unknown option '--frobnicate'" "models inspect: names the unknown option"

# ---- usage and missing database ----
expect_exit 2 "run with no arguments" "$SLMBENCH" run
expect_err "missing CONFIG" "run with no arguments: says what is missing"
expect_exit 3 "report on a missing database" "$SLMBENCH" report --db "$TMP/nope.db"
expect_err "$TMP/nope.db.*No such file" "report: names the missing database"
if [ -e "$TMP/nope.db" ]; then notok "report created the missing database"; else
    ok "report does not create the missing database"; fi

# ---- engine options, checked before any model loads (issue 16, defect 10) ----
# no_predictions WHAT DB: nothing ran: the database is absent or holds no prediction.
no_predictions() {
    if [ ! -e "$2" ] || [ -z "$HAVE_SQLITE" ]; then ok "$1: no predictions (no database)"; return; fi
    n=$(sql "$2" "select count(*) from predictions" 2>&1 || true)
    if [ "$n" = 0 ]; then ok "$1: no predictions"; else notok "$1: expected no predictions, got '$n'"; fi
}
optbad() { # optbad WHAT ENGINE-AND-OPTIONS REGEX: a second candidate c2 with these options
    f=$TMP/opt.yaml
    { echo "evalset: $ES"; echo "warmup: 0"; echo "candidates:"
      printf '  - name: c1\n    engine: llamacpp\n    model: %s\n' "$M"
      printf '  - name: c2\n'; printf '%b\n' "$1"; } >"$f"
    runbad 3 "$2" "$f" "^slmbench: error: $f:7: candidate 'c2': $3"
    no_predictions "run: $2" "$TMP/x.db"
}
optbad "    engine: llamacpp\n    model: $M\n    options: {n_ctxx: 512}" "llamacpp: unknown option n_ctxx" \
    "llamacpp: unknown option 'n_ctxx' \(did you mean 'n_ctx'\?\)"
optbad "    engine: llamacpp\n    model: $M\n    options: {n_ctx: -1}" "llamacpp: n_ctx: -1" \
    "option 'n_ctx': expected a positive integer, got '-1'"
optbad "    engine: llamacpp\n    model: $M\n    options: {flash_attn: maybe}" "llamacpp: flash_attn: maybe" \
    "option 'flash_attn': expected 0, 1 or auto, got 'maybe'"
optbad "    engine: openai\n    model: demo\n    options: {base_url: \"http://127.0.0.1:9/v1\", retires: 2}" \
    "openai: unknown option retires" "openai: unknown option 'retires' \(did you mean 'retries'\?\)"
optbad "    engine: openai\n    model: demo\n    options: {base_url: \"http://127.0.0.1:9/v1\", zzz: 1}" \
    "openai: unknown option with nothing near" "openai: unknown option 'zzz'$"
optbad "    engine: openai\n    model: demo\n    options: {base_url: \"http://127.0.0.1:9/v1\", retries: -1}" \
    "openai: retries: -1" "openai: option 'retries' must be an integer in \[0, [0-9]+\], not '-1'"
optbad "    engine: exec\n    options: {command: '[\"true\"]', hello_ms: x}" "exec: hello_ms: x" \
    "exec: option 'hello_ms' must be an integer >= 0, not 'x'"
optbad "    engine: replay\n    options: {file: /nonexistent, delay: 5}" "replay: unknown option delay" \
    "replay: unknown option 'delay' \(did you mean 'delay_ms'\?\)"
