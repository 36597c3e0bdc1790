#!/bin/sh
# Runs every test: the cmocka unit tests ($OUT/tests/test_*) and the CLI tests
# (tests/cli/*.sh, which print TAP-style "ok - ..." / "not ok - ..." lines).
#
#   JOBS=N          test programs run N at a time (default: the online CPUs)
#   TESTS="a b*"    only the tests whose names match one of the words (globs allowed)
#
# Each test's PASS/FAIL line comes in a fixed order (unit tests, then CLI tests, each
# sorted by name) whatever order they finish in; longer tests are started first (by the
# times of the last run, kept in $OUT/tests/.durations) so a parallel run ends sooner.
# Ends with "slowest: ..." (the five longest) and the line "N passed, N failed" (", N
# skipped" when some were skipped); exits non-zero if anything failed.
#
# Internal: "run.sh --one DIR PATH" runs one test into DIR/KEY.log and DIR/KEY.res ("exit
# status, milliseconds"), KEY being the file's name: a unit test and a CLI test may share
# a name (test_drift, test_drift.sh), never a file name.
set -u
export LC_ALL=C

# ms since the epoch (GNU date; whole seconds elsewhere).
now_ms() {
    t=$(date +%s%N 2>/dev/null)
    case "$t" in *N|'') echo $(($(date +%s) * 1000)) ;; *) echo $((t / 1000000)) ;; esac
}

if [ "${1:-}" = "--one" ]; then
    dir=$2 path=$3
    name=$(basename "$path")
    start=$(now_ms)
    run_one() {
        case "$path" in
        *.sh) if sh "$path" >"$dir/$name.log" 2>&1; then rc=0; else rc=$?; fi ;;
        *) if "$path" >"$dir/$name.log" 2>&1; then rc=0; else rc=$?; fi ;;
        esac
    }
    run_one
    # LeakSanitizer's own crash (its thread-stopping tracer dying with SIGSEGV, seen on
    # this 2-core VM under load in processes that reported nothing) is not a finding
    # about the code: the test runs once more, and says so in its log. A leak report or
    # any other failure is never rerun. A shell test may show only the tracer's line of a
    # child's stderr (test_openai_hostile's SIGINT check did), so that line counts too.
    if [ "$rc" != 0 ] &&
        grep -qE "LeakSanitizer has encountered a fatal error|Tracer caught signal [0-9]+" \
            "$dir/$name.log" &&
        ! grep -q "ERROR: LeakSanitizer: detected memory leaks" "$dir/$name.log"; then
        mv "$dir/$name.log" "$dir/$name.log.1"
        run_one
        echo "rerun - the first run hit LeakSanitizer's own fatal error: $(grep -m 1 -o \
            'Tracer caught signal.*' "$dir/$name.log.1")" >>"$dir/$name.log"
    fi
    echo "$rc $(($(now_ms) - start))" >"$dir/$name.res.tmp"
    mv "$dir/$name.res.tmp" "$dir/$name.res" # the parent reads only complete results
    exit 0
fi

OUT=${OUT:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTABS=$(cd "$ROOT/$OUT" && pwd)
export SLMBENCH="$OUTABS/slmbench"
export SLM_ENGINE_DIR="$OUTABS/engines"
export SLM_TEST_BIN="$OUTABS/tests"
export SLM_ROOT="$ROOT"
export SLM_SHARED="$ROOT/../shared"
# llama.cpp keeps a few process-lifetime allocations; our own code must leak nothing.
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

JOBS=${JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 1)}
case "$JOBS" in '' | *[!0-9]* | 0) JOBS=1 ;; esac

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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# The plan: "KEY NAME PATH" lines in the order results are printed.
: >"$work/plan"
for t in "$OUTABS"/tests/test_*; do
    case "$t" in *.d) continue ;; esac
    [ -x "$t" ] || continue
    name=$(basename "$t")
    wanted "$name" && echo "$name $name $t" >>"$work/plan"
done
for t in "$ROOT"/tests/cli/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    wanted "$name" && echo "$name.sh $name $t" >>"$work/plan"
done

# Start order: longest first by the last run's times; tests never timed first of all.
durations="$OUTABS/tests/.durations"
[ -f "$durations" ] || : >"$durations" 2>/dev/null
while read -r key name path; do
    d=$(awk -v k="$key" '$1 == k { d = $2 } END { print d == "" ? 999999999 : d }' \
        "$durations" 2>/dev/null)
    echo "${d:-999999999} $key $path"
done <"$work/plan" | sort -k1,1nr -k2,2 | cut -d' ' -f3 >"$work/start"

xargs -P "$JOBS" -L 1 sh "$ROOT/tests/run.sh" --one "$work" <"$work/start" 2>"$work/xargs.err" &
xpid=$!

passed=0 failed=0 skipped=0
failures=""
# Prints one test's block once its result exists, in plan order.
while read -r key name path; do
    while [ ! -f "$work/$key.res" ]; do
        if ! kill -0 "$xpid" 2>/dev/null && [ ! -f "$work/$key.res" ]; then
            echo "255 0" >"$work/$key.res"
            echo "not ok - $name did not run: $(head -c 300 "$work/xargs.err")" >"$work/$key.log"
            break
        fi
        sleep 0.1
    done
    read -r rc ms <"$work/$key.res"
    log="$work/$key.log"
    echo "$key $ms" >>"$work/times"
    case "$path" in
    *.sh)
        p=$(grep -c '^ok ' "$log" || true)
        f=$(grep -c '^not ok ' "$log" || true)
        s=$(grep -c '^skip ' "$log" || true)
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$log"; fi
        unit="checks" ;;
    *)
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
        s=$(grep -c '^\[  SKIPPED \]' "$log" || true)
        p=${p:-0} f=${f:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        unit="tests" ;;
    esac
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    if [ "$f" -ne 0 ]; then
        failures="$failures $name"
        echo "FAIL $name"
        case "$path" in
        *.sh) grep -v '^ok ' "$log" | sed 's/^/    /' | tail -n 60 ;;
        *) sed 's/^/    /' "$log" | tail -n 40 ;;
        esac
    else
        if [ "$s" -gt 0 ]; then echo "PASS $name ($p $unit, $s skipped)"; else echo "PASS $name ($p $unit)"; fi
        [ "$unit" = checks ] && grep '^skip ' "$log" | sed 's/^/    /'
        grep '^rerun ' "$log" | sed 's/^/    /'
    fi
done <"$work/plan"
wait "$xpid" 2>/dev/null

if [ -s "$work/times" ]; then
    # keep the times of tests not run this time, replace those that were
    awk 'NR == FNR { run[$1] = 1; print; next } !($1 in run)' "$work/times" "$durations" \
        >"$work/durations" 2>/dev/null && cp "$work/durations" "$durations" 2>/dev/null
    sort -k2,2nr "$work/times" | head -n 5 |
        awk '{ sub(/\.sh$/, "", $1); printf "%s%s %.1f s", (NR > 1 ? ", " : "slowest: "), $1, $2 / 1000 } END { print "" }'
fi
[ -n "$failures" ] && echo "failed:$failures"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
