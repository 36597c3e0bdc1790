# Shared by the CLI tests: sourced, never run. TAP-style output: "ok - what" /
# "not ok - what" / "skip - what (why)"; tests/run.sh counts them.
set -eu
export LC_ALL=C
SLMBENCH=${SLMBENCH:-build/slmbench}
ROOT=${SLM_ROOT:-$(pwd)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
skip() { echo "skip - $*"; }

# expect_exit CODE WHAT CMD...: runs CMD, output in $TMP/out and $TMP/err.
expect_exit() {
    want=$1; what=$2; shift 2
    if "$@" >"$TMP/out" 2>"$TMP/err"; then got=0; else got=$?; fi
    if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else
        notok "$what: expected exit $want, got $got"; sed 's/^/#   /' "$TMP/err" | head -n 10; fi
}

# expect_err PATTERN WHAT: the last command's stderr matches the extended regex.
expect_err() {
    if grep -Eq -- "$1" "$TMP/err"; then ok "$2"; else
        notok "$2: stderr does not match /$1/"; sed 's/^/#   /' "$TMP/err" | head -n 10; fi
}

expect_out() {
    if grep -Eq -- "$1" "$TMP/out"; then ok "$2"; else
        notok "$2: stdout does not match /$1/"; sed 's/^/#   /' "$TMP/out" | head -n 20; fi
}

# check WHAT CMD...: ok if CMD succeeds.
check() {
    what=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$what"; else notok "$what"; fi
}

sql() { sqlite3 -batch -noheader "$@"; }

# wait_rows DB N: waits (at most 60 s) until DB holds N predictions or more; returns 1 if
# it never does. Tests wait for a state, never for a time: on a loaded machine (or with
# other tests running beside this one) a run may take seconds to write its first row.
wait_rows() {
    i=0
    while [ $i -lt 1200 ]; do
        if [ -s "$1" ]; then
            n=$(sqlite3 -batch -noheader -readonly "$1" "select count(*) from predictions" \
                2>/dev/null || true)
            [ "${n:-0}" -ge "$2" ] 2>/dev/null && return 0
        fi
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
