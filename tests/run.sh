#!/bin/sh
# Runs every test: the cmocka unit tests ($OUT/tests/test_*) and the CLI tests
# (tests/cli/*.sh, which print TAP-style "ok - ..." / "not ok - ..." lines).
# Ends with the line "N passed, N failed" (", N skipped" when some were skipped) and
# exits non-zero if anything failed.
set -u
OUT=${OUT:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTABS=$(cd "$ROOT/$OUT" && pwd)
export LC_ALL=C
export SLMBENCH="$OUTABS/slmbench"
export SLM_ENGINE_DIR="$OUTABS/engines"
export SLM_TEST_BIN="$OUTABS/tests"
export SLM_ROOT="$ROOT"
export SLM_SHARED="$ROOT/../shared"
# llama.cpp keeps a few process-lifetime allocations; our own code must leak nothing.
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

# TESTS="test_store test_report*" runs only the tests whose names match one of the words.
TESTS=${TESTS:-}
wanted() {
    [ -z "$TESTS" ] && return 0
    set -f
    for w in $TESTS; do
        case "$1" in $w) set +f; return 0 ;; esac
    done
    set +f
    return 1
}

passed=0 failed=0 skipped=0
failures=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$OUTABS"/tests/test_*; do
    case "$t" in *.d) continue ;; esac
    [ -x "$t" ] || continue
    name=$(basename "$t")
    wanted "$name" || continue
    if "$t" >"$log" 2>&1; then rc=0; else rc=$?; fi
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    s=$(grep -c '^\[  SKIPPED \]' "$log" || true)
    p=${p:-0} f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    if [ "$f" -ne 0 ]; then
        failures="$failures $name"
        echo "FAIL $name"; sed 's/^/    /' "$log" | tail -n 40
    else
        if [ "$s" -gt 0 ]; then echo "PASS $name ($p tests, $s skipped)"; else echo "PASS $name ($p tests)"; fi
    fi
done

for t in "$ROOT"/tests/cli/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    wanted "$name" || continue
    if sh "$t" >"$log" 2>&1; then rc=0; else rc=$?; fi
    p=$(grep -c '^ok ' "$log" || true)
    f=$(grep -c '^not ok ' "$log" || true)
    s=$(grep -c '^skip ' "$log" || true)
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$log"; fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    if [ "$f" -ne 0 ]; then
        failures="$failures $name"
        echo "FAIL $name"; grep -v '^ok ' "$log" | sed 's/^/    /' | tail -n 60
    else
        if [ "$s" -gt 0 ]; then echo "PASS $name ($p checks, $s skipped)"; else echo "PASS $name ($p checks)"; fi
        grep '^skip ' "$log" | sed 's/^/    /'
    fi
done

[ -n "$failures" ] && echo "failed:$failures"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
