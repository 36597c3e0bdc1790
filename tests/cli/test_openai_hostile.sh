# The openai engine against a hostile or unlucky server (tests/server/slm_test_server's
# faults, issue 16): a stream finished at `data: [DONE]` on a connection left open, answers
# too large for memory, an API key echoed back in an error, and Ctrl-C during a request
# that never ends. Each section failed before its fix.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
. "$(dirname "$0")/openai_lib.sh"

"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/a.gguf" --vocab 40 >/dev/null
N=4

# run_fault NAME FAULT OPTIONS: one run of N examples against a server with FAULT; exit in $rc.
run_fault() {
    start_server --fault "$2"
    cfg "$TMP/$1.yaml" $N "$3"
    if "$SLMBENCH" run "$TMP/$1.yaml" --db "$TMP/$1.db" --quiet >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
    stop_server
}

# ---- `data: [DONE]`, then the connection left open (defect 11) ----
# The answer is complete at [DONE]: the request ends there, well before timeout_ms.
for ep in chat completions; do
    run_fault "done-$ep" done-open "endpoint: $ep, stream: 1, timeout_ms: 3000, retries: 0"
    e=$(sql "$TMP/done-$ep.db" "select count(*) || '|' || count(error) || '|' || sum(raw_output <> '') || '|' || (max(e2e_ms) < 2500) from predictions")
    [ "$rc" = 0 ] && [ "$e" = "$N|0|$N|1" ] && ok "[DONE] on an open connection ($ep): $N answers, each ended at [DONE]" \
        || { notok "[DONE] on an open connection ($ep): exit $rc, rows|errors|answered|fast $e"; sql "$TMP/done-$ep.db" "select error from predictions limit 1" | sed 's/^/#   /'; }
done

# ---- an API key echoed back in the server's error message (defect 6) ----
# The server quotes the Authorization header in its 401; the stored error, stderr and the
# report keep the message but not the key: neither an sk- key nor one of another shape.
for key in sk-test-SECRET-123456 hunter2-SECRET-plain; do
    export SLM_ECHO_KEY="$key"
    run_fault echo-key echo-auth "api_key_env: SLM_ECHO_KEY, retries: 0"
    "$SLMBENCH" report last --db "$TMP/echo-key.db" >"$TMP/echo.md" 2>>"$TMP/err" || true
    e=$(sql "$TMP/echo-key.db" "select count(*) from predictions where error like '%HTTP 401%Incorrect API key provided: [redacted]. Authorization: Bearer [redacted]'")
    leaks=$( (sqlite3 "$TMP/echo-key.db" .dump; cat "$TMP/err" "$TMP/out" "$TMP/echo.md") | grep -c SECRET || true)
    [ "$rc" = 4 ] && [ "$e" = $N ] && [ "$leaks" = 0 ] && ok "a key echoed by the server ($key) is redacted from the stored errors, stderr and the report" \
        || { notok "echoed key $key: exit $rc, $e of $N redacted errors, $leaks lines with the key"; sql "$TMP/echo-key.db" "select error from predictions limit 1" | sed 's/^/#   /'; }
    rm -f "$TMP/echo-key.db"
done
unset SLM_ECHO_KEY
# credentials in base_url are not repeated by the error of a server that cannot be reached
cat >"$TMP/cred.yaml" <<YAML
name: cred
evalset: $FX
mode: generate
limit: 1
candidates:
  - {name: s, engine: openai, model: m, options: {base_url: "http://u:sk-SECRET-abcdefgh@127.0.0.1:1/v1", retries: 0}}
YAML
if "$SLMBENCH" run "$TMP/cred.yaml" --db "$TMP/cred.db" >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
leaks=$(grep -c SECRET "$TMP/err" || true) # (the stored config keeps base_url as written)
[ "$rc" != 0 ] && [ "$leaks" = 0 ] && grep -q "cannot reach the server at 'http://u:\[redacted\]@" "$TMP/err" \
    && ok "an sk- token in base_url is redacted from the error of an unreachable server" \
    || { notok "base_url credentials: exit $rc, $leaks lines with the token"; sed 's/^/#   /' "$TMP/err" | head -n 2; }

# ---- answers too large (defect 5) ----
# A 60 MiB answer to max_tokens 4 and a 100 MiB stream each fail their request with
# "response too large" at max_response_bytes (default 8 MiB), not retried, nothing of them
# stored, and the process stays small (peak resident memory from /usr/bin/time).
# big_case NAME FAULT OPTIONS: the run under /usr/bin/time; $rss is its peak RSS in KiB.
big_case() {
    start_server --fault "$2"
    cfg "$TMP/$1.yaml" 2 "$3"
    if /usr/bin/time -f %M -o "$TMP/rss" "$SLMBENCH" run "$TMP/$1.yaml" --db "$TMP/$1.db" --quiet >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
    stop_server
    rss=$(tail -n 1 "$TMP/rss")
    e=$(sql "$TMP/$1.db" "select count(*) from predictions where raw_output is null and error like 'openai: response too large: more than $4 bytes (max_response_bytes $4)'")
    echo "# $1: peak RSS $rss KiB"
    # a sanitizer build's shadow memory and quarantine make RSS no measure of the engine's
    case "$SLMBENCH" in */sanitize/*) rss=0 ;; esac
    [ "$rc" = 4 ] && [ "$e" = 2 ] && [ "$rss" -lt 65536 ] && ok "$1: each request fails 'response too large' at $4 bytes, peak RSS $rss KiB < 64 MiB" \
        || { notok "$1: exit $rc, $e of 2 'response too large', peak RSS $rss KiB"; sql "$TMP/$1.db" "select substr(error, 1, 200) from predictions limit 1" | sed 's/^/#   /'; }
}
if [ -x /usr/bin/time ]; then
    big_case big-body huge:60 "endpoint: completions, retries: 2" 8388608
    big_case big-chat huge:60 "retries: 2" 8388608
    big_case big-stream huge:100 "stream: 1, retries: 2" 8388608
    big_case small-cap huge:1 "stream: 1, max_response_bytes: 65536" 65536
    # HOSTILE_ENDLESS=0 leaves the endless stream out: against a build without the cap
    # (to see this section fail) it would grow without bound until timeout_ms.
    [ "${HOSTILE_ENDLESS:-1}" = 0 ] || big_case endless-stream huge:0 "stream: 1, timeout_ms: 60000" 8388608
else
    skip "answers too large: no /usr/bin/time to measure peak memory"
fi

# ---- peak memory against a hostile server (issue 16, limits; README "Limits") ----
# The bound: peak RSS <= baseline + concurrency x (4 x max_response_bytes + 64 MiB) - per
# request in flight its body (at most max_response_bytes), jansson's copy and lexer buffer
# of it, and at most SLM_PLUGIN_JSON_MAX_VALUES parsed values (~60 MB). The baseline is a
# healthy run's peak. Every case fails its requests with the error of its limit (exit 4),
# except a body of tiny arrays just under the values limit, which is answered.
# mem_case NAME FAULT N OPTIONS RUN_KEYS CONCURRENCY WANT_EXIT ERROR_LIKE: $rss in KiB.
mem_case() {
    start_server --fault "$2"
    cfg "$TMP/$1.yaml" "$3" "$4" "$5"
    if /usr/bin/time -f %M -o "$TMP/rss" "$SLMBENCH" run "$TMP/$1.yaml" --db "$TMP/$1.db" --quiet >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
    stop_server
    rss=$(tail -n 1 "$TMP/rss")
    e=$(sql "$TMP/$1.db" "select count(*) from predictions where coalesce(error, 'answer ' || raw_output) like '$8'")
    bound=$((base + $6 * (4 * 8192 + 65536)))
    echo "# $1: peak RSS $rss KiB (bound $bound KiB)"
    case "$SLMBENCH" in */sanitize/*) rss=0 ;; esac
    [ "$rc" = "$7" ] && [ "$e" = "$3" ] && [ "$rss" -le "$bound" ] \
        && ok "$1: $3 requests end as '$8', peak RSS $rss KiB <= baseline + $6 x (4 x 8 MiB + 64 MiB) = $bound KiB" \
        || { notok "$1: exit $rc (want $7), $e of $3 like '$8', peak RSS $rss KiB (bound $bound)"; sql "$TMP/$1.db" "select substr(coalesce(error, raw_output), 1, 200) from predictions limit 1" | sed 's/^/#   /'; }
}
if [ -x /usr/bin/time ]; then
    start_server --fault delay:0
    cfg "$TMP/base.yaml" 2 "retries: 0"
    /usr/bin/time -f %M -o "$TMP/rss" "$SLMBENCH" run "$TMP/base.yaml" --db "$TMP/base.db" --quiet >/dev/null 2>&1 || true
    stop_server
    base=$(tail -n 1 "$TMP/rss")
    echo "# baseline (a healthy run): peak RSS $base KiB"
    T="retries: 0, timeout_ms: 60000"
    mem_case endless-header huge-header:0 2 "$T" "" 1 4 'openai: %'
    mem_case endless-chunked huge-chunked:0 2 "$T" "" 1 4 'openai: response too large: %'
    mem_case million-arrays arrays:3000 2 "$T" "" 1 4 'openai: malformed json from the server at byte % more than 500000 JSON values (the limit)'
    mem_case arrays-under arrays:700 2 "$T" "" 1 0 'answer ok'
    mem_case nested-7mib nested:7 2 "$T" "" 1 4 'openai: malformed json from the server%'
    mem_case endless-stream-x16 huge:0 16 "stream: 1, $T" "concurrency: 16" 16 4 'openai: response too large: %'
    mem_case huge-body-x16 huge:60 16 "$T" "concurrency: 16" 16 4 'openai: response too large: %'
    mem_case million-arrays-x16 arrays:3000 16 "$T" "concurrency: 16" 16 4 'openai: malformed json % more than 500000 JSON values (the limit)'
fi

# ---- Ctrl-C during a request that never ends (defect 4) ----
# timeout_ms 30000 and retries 3 would hold a run for two minutes: SIGINT once the server
# has the request (its /stats say so) ends the run within seconds (polled, at most 10 s),
# marked interrupted with exit 130, the interrupted request not stored (no retry, no error
# row), and resume against a healthy server completes it.
for mode in "" "stream: 1, " "endpoint: completions, score: echo, "; do
    start_server --fault hang
    what=${mode:-"plain, "}
    cfg "$TMP/int.yaml" $N "${mode}timeout_ms: 30000, retries: 3"
    case "$mode" in *score*) sed -i 's/^mode: generate/mode: score/' "$TMP/int.yaml" ;; esac
    rm -f "$TMP/int.db"
    "$SLMBENCH" run "$TMP/int.yaml" --db "$TMP/int.db" --quiet >"$TMP/out" 2>"$TMP/err" &
    pid=$!
    i=0
    while [ $i -lt 600 ]; do
        r=$(curl -s "http://127.0.0.1:$PORT/stats" | sed -n 's/.*"requests": *\([0-9]*\).*/\1/p')
        [ "${r:-0}" -ge 1 ] && break
        sleep 0.05
        i=$((i + 1))
    done
    kill -INT $pid
    i=0
    while [ $i -lt 100 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    if kill -0 $pid 2>/dev/null; then
        notok "${what}SIGINT during a hung request: still running 10 s later"
        kill -KILL $pid 2>/dev/null || true
        wait $pid 2>/dev/null || true
    else
        if wait $pid; then rc=0; else rc=$?; fi
        e=$(sql "$TMP/int.db" "select r.status || '|' || (select count(*) from predictions) from runs r")
        [ "$rc" = 130 ] && [ "$e" = "interrupted|0" ] && ok "${what}SIGINT during a hung request: exit 130 after $i x 0.1 s, run interrupted, nothing stored" \
            || { notok "${what}SIGINT during a hung request: exit $rc, status|rows $e"; sed 's/^/#   /' "$TMP/err" | head -n 3; }
    fi
    stop_server
    start_server --echo
    if "$SLMBENCH" run --resume --db "$TMP/int.db" --quiet >"$TMP/out" 2>"$TMP/err"; then rc=0; else rc=$?; fi
    e=$(sql "$TMP/int.db" "select count(*) || '|' || count(error) from predictions")
    [ "$rc" = 0 ] && [ "$e" = "$N|0" ] && ok "${what}resume after the SIGINT completes the run" \
        || { notok "${what}resume after the SIGINT: exit $rc, rows|errors $e"; sed 's/^/#   /' "$TMP/err" | head -n 3; }
    stop_server
done

# ---- under valgrind: no leak, no memory error on these paths ----
if command -v valgrind >/dev/null 2>&1 && case "$SLMBENCH" in */sanitize/*) false ;; *) true ;; esac; then
    VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --suppressions=$ROOT/tests/valgrind.supp"
    export SLM_ECHO_KEY=sk-test-SECRET-valgrind
    for c in "done-open|stream: 1, retries: 0|0" "huge:20|stream: 1, retries: 1|4" "huge:20|retries: 1|4" \
             "echo-auth|api_key_env: SLM_ECHO_KEY, retries: 0|4"; do
        f=${c%%|*} rest=${c#*|} o=${rest%|*} want=${c##*|}
        start_server --fault "$f"
        cfg "$TMP/vg.yaml" 2 "$o"
        rm -f "$TMP/vg.db"
        expect_exit "$want" "under valgrind: $f ($o)" $VG "$SLMBENCH" run "$TMP/vg.yaml" --db "$TMP/vg.db" --quiet
        stop_server
    done
    unset SLM_ECHO_KEY
else
    skip "valgrind checks (valgrind not installed or a sanitizer build)"
fi
