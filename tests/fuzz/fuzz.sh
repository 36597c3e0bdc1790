#!/bin/sh
# Runs the libFuzzer targets one after another (make fuzz; README "Fuzzing"):
#
#   tests/fuzz/fuzz.sh DIR SECONDS TARGET...
#
# DIR (build/fuzz) holds DIR/lib/fuzz_<t> (clang -fsanitize=fuzzer,address,undefined) and
# DIR/cov/fuzz_<t> (the replay driver with source-based coverage). For each target:
#   1. fuzzes for SECONDS from tests/fuzz/corpus/<t>/ and tests/fuzz/crashes/<t>/, new
#      inputs going to DIR/run/<t>/corpus/, a crash to DIR/run/<t>/crash-*;
#   2. merges what the run found into tests/fuzz/corpus/<t>/ (libFuzzer -merge=1: only
#      inputs that add coverage; FUZZ_MERGE=0 skips this), so make check replays it;
#   3. replays the corpus through DIR/cov/fuzz_<t> and measures the line coverage of the
#      parser's source file(s) (llvm-profdata, llvm-cov), and of the functions that parse
#      where the file holds more (openai.c also sends requests; evalset.c also reads
#      evalset.yaml).
# SECONDS 0 skips steps 1 and 2: the coverage of the corpus as it is.
# Prints per target: executions, exec/s, libFuzzer's cov (edges) and ft (features) on
# its final line, the corpus size, the line coverage, crashes; the table is also written
# to DIR/summary.txt. Exits 1 if any target crashed (its reproducer named), 0 otherwise.
set -u
DIR=$1 SECONDS_EACH=$2
shift 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
FUZZ_CC=${FUZZ_CC:-clang}

# llvm tools of the same release as the compiler (clang knows where its own are)
tool() {
    p=$($FUZZ_CC -print-prog-name="$1" 2>/dev/null)
    case "$p" in /*) [ -x "$p" ] && { echo "$p"; return; } ;; esac
    command -v "$1" 2>/dev/null || echo ""
}
PROFDATA=$(tool llvm-profdata)
LLVMCOV=$(tool llvm-cov)

# the largest input (bytes) and the source files whose coverage is reported, per target
max_len() {
    case "$1" in gguf) echo 16384 ;; *) echo 4096 ;; esac
}
sources() {
    case "$1" in
    evalset) echo harness/input/evalset.c ;;
    config) echo harness/input/config.c harness/input/yamltree.c ;;
    gguf) echo harness/models/gguf.c ;;
    http) echo engines/openai/openai.c ;;
    *) echo "" ;;
    esac
}
# the functions of the source that the target is about, where the file holds more
parsers() {
    case "$1" in
    evalset) echo hash_str ht_grow ht_insert sink_row csv_field clear_fields nul_reason \
        csv_record note_open_quote quote_start load_csv json_field duplicate_key_reason \
        load_jsonl has_suffix slm_dataset_parse slm_dataset_free slm_label_index \
        slm_check_object_label ;;
    http) echo absorb sse_lines on_body on_header server_message attempt_finish push_lp \
        too_large attempt_reset ;;
    gguf) echo rd_fail_eof rd_bytes rd_skip rd_u32 rd_u64 rd_strlen rd_str kv_scalar_size \
        rd_int_value is_int_type copy_trunc rd_kv find_int arch_int guess_quant inspect_header \
        inspect_metadata inspect_tensor inspect_tensors slm_gguf_inspect walk_kvs copy_kv \
        slm_gguf_copy_keys read_strings_kv slm_gguf_read_strings ;;
    *) echo "" ;;
    esac
}

# line coverage of target $1's sources, replaying tests/fuzz/corpus/$1: "NN.N% (a/b lines)"
coverage() {
    t=$1 run=$DIR/run/$1
    [ -n "$PROFDATA" ] && [ -n "$LLVMCOV" ] || { echo "n/a (no llvm-profdata/llvm-cov)"; return; }
    rm -f "$run"/cov-*.profraw
    LLVM_PROFILE_FILE="$run/cov-%p.profraw" SLM_ROOT="$ROOT" "$DIR/cov/fuzz_$t" \
        "tests/fuzz/corpus/$t" "tests/fuzz/crashes/$t" >"$run/cov.log" 2>&1 ||
        { echo "n/a (the replay failed: $run/cov.log)"; return; }
    "$PROFDATA" merge -sparse "$run"/cov-*.profraw -o "$run/cov.profdata" || { echo "n/a"; return; }
    # shellcheck disable=SC2046 # one argument per source file
    "$LLVMCOV" report "$DIR/cov/fuzz_$t" -instr-profile="$run/cov.profdata" $(sources "$t") \
        >"$run/cov.txt" 2>&1
    # TOTAL line: regions, missed, cover, functions, missed, executed, lines, missed, cover
    line=$(awk '$1 == "TOTAL" { printf "%s (%d/%d lines)", $10, $8 - $9, $8 }' "$run/cov.txt")
    line="${line:-n/a} of $(sources "$t")"
    if [ -n "$(parsers "$t")" ]; then
        # shellcheck disable=SC2046 # one argument per source file
        "$LLVMCOV" report "$DIR/cov/fuzz_$t" -instr-profile="$run/cov.profdata" \
            -show-functions $(sources "$t") >"$run/cov-functions.txt" 2>&1
        # Name Regions Miss Cover Lines Miss Cover ...; a static function is "file.c:name"
        p=$(awk -v want=" $(parsers "$t") " '{ f = $1; sub(/^.*:/, "", f) }
            index(want, " " f " ") { n += $5; m += $6 }
            END { if (n) printf "; its parsing functions %.1f%% (%d/%d lines)", 100 * (n - m) / n, n - m, n }' \
            "$run/cov-functions.txt")
        line="$line$p"
    fi
    echo "$line"
}

summary=$DIR/summary.txt
{
    echo "fuzzing $SECONDS_EACH s per target, $(date -u '+%Y-%m-%d %H:%M UTC'), $($FUZZ_CC --version | head -n 1)"
    echo "uptime before:$(uptime)"
} >"$summary"
failed=
# fuzz_one T: fuzzes T for SECONDS_EACH, then merges what it found into the corpus; sets
# execs, rate, cov, ft, crash (the reproducer, "" if none) and added (inputs merged)
fuzz_one() {
    t=$1 run=$DIR/run/$1
    echo "fuzz: $t for $SECONDS_EACH s (log: $run/fuzz.log)"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "$DIR/lib/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$run/" \
        "$run/corpus" "tests/fuzz/corpus/$t" "tests/fuzz/crashes/$t" >"$run/fuzz.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/fuzz.log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/fuzz.log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$run/fuzz.log" | tail -n 1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    crash=$(ls "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-* 2>/dev/null | head -n 1)
    if [ "$rc" -ne 0 ] || [ -n "$crash" ]; then
        failed="$failed $t"
        echo "fuzz: $t FAILED (exit $rc): reproducer ${crash:-none}; see $run/fuzz.log"
        grep -E 'ERROR|SUMMARY|broken promise' "$run/fuzz.log" | head -n 5
        return
    fi
    [ "${FUZZ_MERGE:-1}" != 0 ] || return
    before=$(ls "tests/fuzz/corpus/$t" | wc -l)
    "$DIR/lib/fuzz_$t" -merge=1 -max_len="$(max_len "$t")" "tests/fuzz/corpus/$t" \
        "$run/corpus" >"$run/merge.log" 2>&1 || echo "fuzz: $t: the merge failed ($run/merge.log)"
    added=$(($(ls "tests/fuzz/corpus/$t" | wc -l) - before))
}

for t in "$@"; do
    run=$DIR/run/$t
    mkdir -p "$run/corpus"
    rm -f "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-*
    execs= rate= cov= ft= crash= added=0
    [ "$SECONDS_EACH" -gt 0 ] && fuzz_one "$t"
    files=$(ls "tests/fuzz/corpus/$t" | wc -l)
    kb=$(($(cat "tests/fuzz/corpus/$t"/* | wc -c) / 1024))
    lines=$(coverage "$t")
    if [ "$SECONDS_EACH" -gt 0 ]; then
        printf '%-8s %s s, %s executions, %s exec/s, cov %s, ft %s, corpus %s files (%s KB, +%s), lines %s, %s\n' \
            "$t" "$SECONDS_EACH" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$files" "$kb" \
            "$added" "$lines" "$([ -n "$crash" ] && echo "CRASH $crash" || echo "no crash")"
    else
        printf '%-8s corpus %s files (%s KB), lines %s\n' "$t" "$files" "$kb" "$lines"
    fi | tee -a "$summary"
done
echo "uptime after:$(uptime)" >>"$summary"
echo "fuzz: summary in $summary"
[ -z "$failed" ] || { echo "fuzz: crashed:$failed"; exit 1; }
