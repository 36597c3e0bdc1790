# slmbench load (issue 18) against tests/server/slm_test_server: the load: section's
# errors with the config's line, synchronous and concurrent levels stored request by
# request with their phases, a server refusing every request (the level all errors, the
# sweep stopped, nothing lost), Ctrl-C and kill -9 in the middle of a level then --resume
# (the level redone from scratch), --json. Counts, phases and ordering are asserted, never
# timings.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
. "$(dirname "$0")/openai_lib.sh"

"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/a.gguf" --vocab 40 >/dev/null

# lcfg FILE OPTIONS LOAD_LINES...: a load test of one openai candidate; each further
# argument is one line of the load: section.
lcfg() {
    f=$1; o=$2; shift 2
    { printf 'name: lt\nevalset: %s\nmode: generate\nmax_tokens: 4\nwarmup: 0\n' "$FX"
      printf 'candidates:\n  - {name: srv, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:%s/v1", endpoint: completions%s}}\n' "${PORT:-1}" "$o"
      printf 'load:\n'
      for l in "$@"; do printf '  %s\n' "$l"; done; } >"$f"
}
reqs() { sql "$1" "select count(*) from load_requests"; }

# ---- the load: section's errors: exit 3, the config's file and line ----
lcfg "$TMP/e1.yaml" "" "profile: constant" "rate: 0" "duration: 2s"
expect_exit 3 "rate 0 refused" "$SLMBENCH" load "$TMP/e1.yaml" --db "$TMP/e.db"
expect_err "e1.yaml:10: key 'rate': a rate must be > 0 requests/s, got 0" "the error names config:line and the rate"
lcfg "$TMP/e2.yaml" "" "profile: poisson" "rate: [2, -1]" "duration: 2s"
expect_exit 3 "a negative rate in a list refused" "$SLMBENCH" load "$TMP/e2.yaml" --db "$TMP/e.db"
expect_err "e2.yaml:10: key 'rate': a rate must be > 0" "names the list's line"
lcfg "$TMP/e3.yaml" "" "profile: synchronous" "duration: 30"
expect_exit 3 "a duration without its unit refused" "$SLMBENCH" load "$TMP/e3.yaml" --db "$TMP/e.db"
expect_err "e3.yaml:10: key 'duration': expected a time with its unit \(e.g. 500ms or 2s\), got '30'" "says the unit is missing, with the line"
lcfg "$TMP/e4.yaml" "" "profile: synchronous" "requests: 5" "slo: {ttft: 500, percentile: 99}"
expect_exit 3 "an SLO limit without its unit refused" "$SLMBENCH" load "$TMP/e4.yaml" --db "$TMP/e.db"
expect_err "e4.yaml:11: key 'ttft': expected a time with its unit" "the SLO's line"
lcfg "$TMP/e5.yaml" "" "profile: sweep" "concurrency: 1" "requests: 5"
expect_exit 3 "a sweep with no room refused" "$SLMBENCH" load "$TMP/e5.yaml" --db "$TMP/e.db"
expect_err "e5.yaml:10: a sweep with concurrency 1 has no room" "no room, at the concurrency's line"
lcfg "$TMP/e6.yaml" "" "profile: synchronous" "duration: 2s" "warmup: 1s" "cooldown: 1s"
expect_exit 3 "warm-up and cool-down filling the level refused" "$SLMBENCH" load "$TMP/e6.yaml" --db "$TMP/e.db"
expect_err "e6.yaml:9: warmup \(1000 ms\) and cooldown \(1000 ms\) leave nothing" "says nothing is left to measure"
lcfg "$TMP/e7.yaml" "" "profile: constant" "duration: 2s"
expect_exit 3 "constant without a rate refused" "$SLMBENCH" load "$TMP/e7.yaml" --db "$TMP/e.db"
expect_err "e7.yaml:9: profile constant needs 'rate'" "names what is missing"
sed '/^load:/,$d' "$TMP/e7.yaml" >"$TMP/e8.yaml"
expect_exit 3 "a config without a load: section refused" "$SLMBENCH" load "$TMP/e8.yaml" --db "$TMP/e.db"
expect_err "no 'load:' section" "says the section is missing"
[ ! -e "$TMP/e.db" ] && ok "bad configs write no database" || notok "a database was written for a bad config"
sed 's/^mode: generate/mode: score/' "$TMP/e7.yaml" | sed 's/^  duration: 2s/  rate: 2/' >"$TMP/e9.yaml"
expect_exit 3 "a load test in score mode refused" "$SLMBENCH" load "$TMP/e9.yaml" --db "$TMP/e.db"
expect_err "e9.yaml:3: a load test needs mode: generate" "names the mode's line"

# ---- synchronous and concurrent against the test server ----
start_server
lcfg "$TMP/s.yaml" "" "profile: synchronous" "requests: 12"
expect_exit 0 "a synchronous level of 12 requests" "$SLMBENCH" load "$TMP/s.yaml" --db "$TMP/s.db" --quiet
expect_out "^\| srv \| 0 \| synchronous \| – \| [0-9.]+ \| " "the table's row: no offered rate in a closed loop, an achieved one"
v=$(sql "$TMP/s.db" "select count(*), count(distinct seq), sum(phase = 'measure'), sum(status = 'ok'), sum(correct is not null), sum(scheduled_ms is null) from load_requests")
[ "$v" = "12|12|12|12|12|12" ] && ok "12 requests stored once each, measured, answered, judged, unscheduled" || notok "synchronous rows: $v"
v=$(sql "$TMP/s.db" "select r.mode || '|' || r.status || '|' || c.status || '|' || l.status || '|' || l.profile || '|' || l.concurrency from runs r join candidates c on c.run_id = r.id join load_levels l on l.run_id = r.id")
[ "$v" = "load|complete|ok|complete|synchronous|1" ] && ok "a run of mode load, its candidate ok, its level complete" || notok "run|cand|level: $v"
# judged as run judges: the same predictions as `run` of the same examples
# (run evaluates every example: its limit draws a stratified sample, not the first 12)
cfg "$TMP/r.yaml" 0 "endpoint: completions"
expect_exit 0 "the same examples through run" "$SLMBENCH" run "$TMP/r.yaml" --db "$TMP/r.db" --quiet
sql "$TMP/r.db" "select e.example_id, p.pred, p.correct, p.valid from predictions p join examples e on e.run_id = p.run_id and e.idx = p.example_idx order by 1" >"$TMP/pr"
sql "$TMP/s.db" "select e.example_id, q.pred, q.correct, q.valid from load_requests q join examples e on e.idx = q.example_idx order by 1" >"$TMP/pl"
[ "$(wc -l <"$TMP/pl")" = 12 ] && [ "$(grep -cFxf "$TMP/pl" "$TMP/pr")" = 12 ] \
    && ok "every answer judged as run judges it (pred, correct, valid)" || notok "load and run judge differently"
sed 's/^limit: 12/limit: 12/' "$TMP/r.yaml" >/dev/null
expect_exit 0 "export table load_requests of the load test" "$SLMBENCH" export table load_requests 1 --candidate srv --db "$TMP/s.db"
[ "$(grep -c ',measure,' "$TMP/out")" = 12 ] && head -1 "$TMP/out" | grep -q '^level_id,run_id,candidate_id,seq,example_idx,phase,' && ok "every request exported with its phase" || notok "export: $(head -2 "$TMP/out")"
expect_exit 3 "run --resume does not take a load test" "$SLMBENCH" run --resume --run 1 --db "$TMP/s.db"
expect_err "run 1 is a load test; resume it with: slmbench load --resume 1" "says how to resume it"
stop_server

start_server --fault delay:100
lcfg "$TMP/c.yaml" "" "profile: concurrent" "concurrency: 4" "requests: 24" "warmup: 150ms" "order: shuffled" "seed: 3"
expect_exit 0 "a concurrent level: 4 in flight, 24 requests, 150 ms warm-up" "$SLMBENCH" load "$TMP/c.yaml" --db "$TMP/c.db" --quiet --json
m=$(curl -s "http://127.0.0.1:$PORT/stats" | sed -n 's/.*"max_in_flight":\([0-9]*\).*/\1/p')
[ "$m" -ge 2 ] && [ "$m" -le 4 ] && ok "the server saw 2 to 4 requests at once, never more (saw $m)" || notok "max in flight: $m"
v=$(sql "$TMP/c.db" "select count(*), sum(phase = 'warmup') >= 4, sum(phase = 'measure') >= 1, sum(phase = 'warmup' and sent_ms >= 150), sum(phase = 'measure' and sent_ms < 150), sum(phase = 'cooldown') from load_requests")
[ "$v" = "24|1|1|0|0|0" ] && ok "24 rows; sent in the first 150 ms: warm-up, after: measured; no cool-down" || notok "phases: $v"
v=$(sql "$TMP/c.db" "select group_concat(example_idx, ',') from (select example_idx from load_requests order by seq)")
[ "$v" != "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23" ] && [ "$(sql "$TMP/c.db" "select count(distinct example_idx) from load_requests")" = 24 ] && ok "shuffled: 24 distinct examples, not in order" || notok "order: $v"
v=$(sql "$TMP/c.db" "select count(*) from load_requests where e2e_ms >= 100 and status = 'ok'")
[ "$v" = 24 ] && ok "each request's latency from its own sending (all >= the server's 100 ms delay)" || notok "e2e >= 100: $v"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
lv = d["candidates"][0]["levels"]
assert d["profile"] == "concurrent" and len(lv) == 1, d
l = lv[0]
assert l["profile"] == "concurrent" and l["concurrency"] == 4 and l["offered_rps"] is None
assert l["n_measured"] + 0 >= 1 and l["status"] == "complete"
assert l["e2e_ms"]["p50"]["value"] >= 100
' "$TMP/out" && ok "--json: the level with its numbers, null where undefined" || notok "--json: $(head -c 300 "$TMP/out")"
stop_server

# ---- what an engine cannot do ----
{ sed '/^candidates:/,$d' "$TMP/e7.yaml"
  printf 'candidates:\n  - {name: rp, engine: replay, model: %s}\nload:\n  profile: constant\n  rate: 5\n  requests: 5\n' "$TMP/none.csv"; } >"$TMP/rp.yaml"
printf 'id,label,pred,confidence\n' >"$TMP/none.csv"
expect_exit 3 "an open-loop profile with an engine that has no generate_many" "$SLMBENCH" load "$TMP/rp.yaml" --db "$TMP/rp.db"
expect_err "rp.yaml:9: candidate 'rp': engine 'replay' cannot keep requests in flight at once \(no generate_many\): profile constant needs it; only synchronous works" "says what the engine lacks and what works"

# ---- open loops (the openai engine's ABI 1.6 schedule): counts, phases, ordering ----
start_server
lcfg "$TMP/k.yaml" ", stream: 1" "profile: constant" "rate: 20" "requests: 20" "warmup: 200ms" "cooldown: 200ms" "concurrency: 8"
expect_exit 0 "a constant-rate level: 20 requests at 20/s" "$SLMBENCH" load "$TMP/k.yaml" --db "$TMP/k.db" --quiet
v=$(sql "$TMP/k.db" "select count(*), sum(phase = 'warmup'), sum(phase = 'measure'), sum(phase = 'cooldown'), sum(abs(scheduled_ms - seq * 50) < 1e-6), sum(sent_ms >= scheduled_ms - 1e-6), sum(http_status = 200), sum(attempts = 1), sum(server_id is not null) from load_requests")
[ "$v" = "20|4|12|4|20|20|20|20|20" ] && ok "due at seq x 50 ms; 4 warm-up (due < 200 ms), 12 measured, 4 cool-down (due >= 800 ms); none sent early; status, attempts, server id traced" || notok "constant rows: $v"
v=$(sql "$TMP/k.db" "select profile, offered_rps, concurrency, n_requests, window_ms, status from load_levels")
v2=$(sql "$TMP/k.db" "select count(ttft_ms), sum(ttft_ms <= e2e_ms) from load_requests")
[ "$v2" = "20|20" ] && ok "streamed: every request's time to first token, never after its end" || notok "ttft: $v2"
[ "$v" = "constant|20.0|8|20|600.0|complete" ] && ok "the level: offered 20/s, cap 8, 20 requests, a 600 ms window (1000 - 200 - 200)" || notok "level: $v"
lcfg "$TMP/p.yaml" "" "profile: poisson" "rate: [40, 80]" "requests: 16" "seed: 5"
expect_exit 0 "two Poisson levels" "$SLMBENCH" load "$TMP/p.yaml" --db "$TMP/p.db" --quiet
v=$(sql "$TMP/p.db" "select count(*), sum(a.scheduled_ms > b.scheduled_ms), sum(a.phase = 'measure') from load_requests a join load_requests b on b.level_id = a.level_id and b.seq = a.seq - 1")
w=$(sql "$TMP/p.db" "select group_concat(offered_rps || ':' || n_requests || ':' || status, ' ') from load_levels")
[ "$v" = "30|30|30" ] && [ "$w" = "40.0:16:complete 80.0:16:complete" ] && ok "Poisson: due times increasing with seq at both levels, all measured" || notok "poisson: $v / $w"
stop_server
start_server --fault delay:50
lcfg "$TMP/w.yaml" "" "profile: sweep" "concurrency: 4" "rates: 2" "requests: 16"
expect_exit 0 "a sweep: synchronous, concurrent, 2 constant rates" "$SLMBENCH" load "$TMP/w.yaml" --db "$TMP/w.db" --quiet
v=$(sql "$TMP/w.db" "select group_concat(profile, ',') from (select profile from load_levels order by idx)")
case "$v" in synchronous,concurrent,constant,constant|synchronous,concurrent,constant) ok "the sweep's levels in order: $v" ;; *) notok "sweep levels: $v" ;; esac
# the last rate is rmax, the concurrent level's throughput (measured answers / window)
v=$(sql "$TMP/w.db" "select abs((select offered_rps from load_levels where idx = 3) - (select count(*) * 1000.0 / l.window_ms from load_requests r join load_levels l on l.id = r.level_id where l.idx = 1 and r.phase = 'measure' and r.status = 'ok')) < 1e-6 * (select offered_rps from load_levels where idx = 3)")
w=$(sql "$TMP/w.db" "select (select offered_rps from load_levels where idx = 2) < (select offered_rps from load_levels where idx = 3)")
if [ "$(sql "$TMP/w.db" "select count(*) from load_levels")" = 3 ]; then
    [ "$(sql "$TMP/w.db" "select status from load_levels where idx = 2")" = saturated ] && ok "the sweep stopped at its first saturated level" || notok "3 levels but level 2 not saturated"
else [ "$v|$w" = "1|1" ] && ok "the constant rates rise to rmax, the concurrent level's throughput" || notok "sweep rates: $v|$w"; fi
expect_out "highest offered rate meeting the SLO" "the best rate's line"
stop_server
# a list of rates stops at its first saturated level: one slot of 50 ms serves at most
# 20/s, so 200/s (4 in flight at most) leaves at a fraction of its rate; 400/s is not run
start_server --slots 1 --slot-ms 50
lcfg "$TMP/sl.yaml" "" "profile: constant" "rate: [5, 200, 400]" "duration: 2s" "concurrency: 4"
expect_exit 0 "constant rates 5, 200, 400 against one 50 ms slot" "$SLMBENCH" load "$TMP/sl.yaml" --db "$TMP/sl.db" --quiet --json
v=$(sql "$TMP/sl.db" "select group_concat(offered_rps || ':' || status, ' ') from (select * from load_levels order by idx)")
[ "$v" = "5.0:complete 200.0:saturated" ] && ok "the list stopped at its first saturated level (200/s); 400/s not run" || notok "levels: $v"
v=$(sql :memory: "select json_extract(j, '$.candidates[0].levels[1].achieved_rps') < 0.5 * 200 from (select readfile('$TMP/out') as j)")
[ "$v" = 1 ] && ok "its achieved rate is the rate its requests left at, far below the offered 200/s" || notok "achieved: $(head -c 300 "$TMP/out")"
stop_server

# ---- an engine in process, one request at a time ----
{ sed '/^candidates:/,$d' "$TMP/e7.yaml"
  printf 'threads: 1\ncandidates:\n  - {name: local, model: %s}\nload:\n  profile: synchronous\n  requests: 6\n' "$TMP/a.gguf"; } >"$TMP/ll.yaml"
expect_exit 0 "a synchronous level of the in-process llamacpp engine" "$SLMBENCH" load "$TMP/ll.yaml" --db "$TMP/ll.db" --quiet
v=$(sql "$TMP/ll.db" "select count(*), sum(status = 'ok'), sum(e2e_ms > 0), sum(pred is not null), max(seq) from load_requests")
[ "$v" = "6|6|6|6|5" ] && ok "6 requests answered, timed and judged in process" || notok "llamacpp rows: $v"

# ---- a server that refuses every request ----
start_server --fault 500
lcfg "$TMP/f.yaml" ", retries: 0" "profile: sweep" "concurrency: 4" "requests: 10" "rates: 3"
expect_exit 4 "a sweep against a server answering HTTP 500 to all" "$SLMBENCH" load "$TMP/f.yaml" --db "$TMP/f.db" --quiet
expect_err "level 0 \(synchronous\): every request failed \(10 of 10; the first: openai: server answered HTTP 500" "says every request failed, with the first error"
expect_err "finish it with: slmbench load --resume 1" "says how to go on"
v=$(sql "$TMP/f.db" "select count(*), sum(status = 'error'), sum(error like '%HTTP 500%'), sum(correct is null) from load_requests")
[ "$v" = "10|10|10|10" ] && ok "nothing lost: 10 rows, each an error with its message, none judged" || notok "rows: $v"
v=$(sql "$TMP/f.db" "select count(*) || '|' || group_concat(status) || '|' || (select status from runs) || '|' || (select status from candidates) from load_levels")
[ "$v" = "1|incomplete|failed|failed" ] && ok "the sweep stopped at level 0, incomplete; the run and candidate failed" || notok "levels|statuses: $v"
stop_server
start_server --fault delay:50 # 4 in flight answer faster than 1: the sweep has room
expect_exit 0 "--resume once the server answers" "$SLMBENCH" load --resume 1 --db "$TMP/f.db" --quiet
v=$(sql "$TMP/f.db" "select count(*), sum(r.status = 'ok') from load_requests r join load_levels l on l.id = r.level_id where l.idx = 0")
w=$(sql "$TMP/f.db" "select count(*) >= 3, sum(status in ('complete', 'saturated')) = count(*), (select status from runs) from load_levels")
[ "$v|$w" = "10|10|1|1|complete" ] && ok "level 0 redone from scratch (10 answers, the errors gone), the sweep finished" || notok "after resume: $v|$w"
stop_server

# ---- a failed write in the middle of a level (tests/helpers/fake_failwrite.c) ----
PRE="$BIN/libfake_failwrite.so"
# under a sanitizer build the ASan runtime must come first in the preload list (as
# test_store_faults.sh does)
asan=$(ldd "$SLMBENCH" 2>/dev/null | awk '/libasan/ { print $3; exit }')
[ -z "$asan" ] || PRE="$asan $PRE"
lcfg "$TMP/sf.yaml" "" "profile: concurrent" "concurrency: 2" "requests: 20"
start_server
if ! SLM_FAIL_PATH="$TMP/sf0.db" SLM_FAIL_COUNT="$TMP/count" LD_PRELOAD="$PRE" \
    "$SLMBENCH" load "$TMP/sf.yaml" --db "$TMP/sf0.db" --quiet >/dev/null 2>"$TMP/err"; then
    notok "the run counting the writes failed"; sed 's/^/#   /' "$TMP/err" | head -n 5
fi
n=$(cut -d' ' -f1 "$TMP/count")
SLM_FAIL_PATH="$TMP/sf.db" SLM_FAIL_AT=$((n * 3 / 4)) SLM_FAIL_ERRNO=ENOSPC LD_PRELOAD="$PRE" \
    expect_exit 4 "every write from the 3/4 point on fails (ENOSPC)" "$SLMBENCH" load "$TMP/sf.yaml" --db "$TMP/sf.db" --quiet
expect_err "level 0 \(concurrent\): .*database or disk is full" "says which level and why"
v=$(sql "$TMP/sf.db" "pragma integrity_check")
[ "$v" = ok ] && ok "the database stays consistent" || notok "integrity: $v"
expect_exit 0 "--resume once the disk has room" "$SLMBENCH" load --resume 1 --db "$TMP/sf.db" --quiet
v=$(sql "$TMP/sf.db" "select count(*), count(distinct seq), (select group_concat(status) from load_levels), (select status from runs) from load_requests")
[ "$v" = "20|20|complete|complete" ] && ok "the level redone whole: 20 requests once each" || notok "after the failed write and resume: $v"
stop_server

# ---- Ctrl-C and kill -9 in the middle of a level, then --resume ----
# stop_midway SIGNAL DB: a concurrent level of 40 requests (delay 200 ms, 2 in flight:
# 4 s), SIGNAL once 4 requests are stored; the exit code in $RC.
stop_midway() {
    [ -s "$TMP/mid.yaml" ] || lcfg "$TMP/mid.yaml" "" "profile: concurrent" "concurrency: 2" "requests: 40"
    "$SLMBENCH" load "$TMP/mid.yaml" --db "$2" --quiet >/dev/null 2>&1 &
    pid=$!
    i=0
    while [ $i -lt 1200 ]; do
        n=$(sqlite3 -batch -noheader -readonly "$2" "select count(*) from load_requests" 2>/dev/null || true)
        [ "${n:-0}" -ge 4 ] 2>/dev/null && break
        sleep 0.05
        i=$((i + 1))
    done
    kill "-$1" "$pid"
    if wait "$pid" 2>/dev/null; then RC=0; else RC=$?; fi
}
start_server --fault delay:200
stop_midway INT "$TMP/int.db"
[ "$RC" = 130 ] && ok "Ctrl-C in the middle of a level exits 130" || notok "exit after SIGINT: $RC"
v=$(sql "$TMP/int.db" "select (select count(*) from load_requests) between 4 and 39, (select count(*) from load_requests where status != 'ok'), (select status || '|' || reason from load_levels), (select status from runs)")
[ "$v" = "1|0|incomplete|interrupted by a signal|interrupted" ] && ok "what was measured stays (no request cut short stored), the level incomplete, the run interrupted" || notok "after SIGINT: $v"
stop_midway KILL "$TMP/kill.db"
[ "$RC" = 137 ] && ok "kill -9 in the middle of a level" || notok "exit after SIGKILL: $RC"
v=$(sql "$TMP/kill.db" "select (select count(*) from load_requests) >= 4, (select status from load_levels)")
[ "$v" = "1|running" ] && ok "the killed level's requests stay, the level left running" || notok "after kill -9: $v"
stop_server
start_server
for db in int kill; do
    expect_exit 0 "--resume of the $db level" "$SLMBENCH" load --resume 1 --db "$TMP/$db.db" --quiet
    v=$(sql "$TMP/$db.db" "select count(*), count(distinct seq), min(seq), max(seq), sum(status = 'ok') from load_requests")
    w=$(sql "$TMP/$db.db" "select count(*) || '|' || status || '|' || (select status from runs) from load_levels")
    [ "$v" = "40|40|0|39|40" ] && [ "$w" = "1|complete|complete" ] && ok "the $db level redone from scratch: 40 requests once each, one level, complete" || notok "after resume ($db): $v / $w"
done
expect_out "^\| srv \| 0 \| concurrent \| – \| " "the resumed load test prints its table"
# an open loop stopped the same way: what was sent and answered stays, in due order
lcfg "$TMP/mid.yaml" "" "profile: constant" "rate: 20" "requests: 40"
stop_midway INT "$TMP/oint.db"
v=$(sql "$TMP/oint.db" "select $RC, (select count(*) from load_requests) between 4 and 39, (select status from load_levels)")
[ "$v" = "130|1|incomplete" ] && ok "Ctrl-C in an open-loop level: 130, the requests answered kept, the level incomplete" || notok "open loop after SIGINT: $v"
expect_exit 0 "--resume of the open-loop level" "$SLMBENCH" load --resume 1 --db "$TMP/oint.db" --quiet
v=$(sql "$TMP/oint.db" "select count(*), count(distinct seq), sum(abs(scheduled_ms - seq * 50) < 1e-6), (select status from load_levels) from load_requests")
[ "$v" = "40|40|40|complete" ] && ok "redone from scratch on its schedule: 40 requests due at seq x 50 ms" || notok "open loop after resume: $v"
expect_exit 3 "--resume of a complete load test" "$SLMBENCH" load --resume 1 --db "$TMP/int.db"
expect_err "load test 1 is already complete" "says it is complete"
expect_exit 3 "--resume of a run that is not a load test" "$SLMBENCH" load --resume 1 --db "$TMP/r.db"
expect_err "run 1 is not a load test \(mode generate\)" "says so"
stop_server
