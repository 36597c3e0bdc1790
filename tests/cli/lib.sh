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
