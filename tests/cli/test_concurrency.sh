# Bounded concurrency of `slmbench run` through the openai engine (generate_many over one
# libcurl multi handle) against tests/server/slm_test_server: the same predictions as one
# request at a time, never more requests in flight than asked, faults under load still
# stored on their own example, Ctrl-C and kill -9 losing nothing, the rate limit shared by
# every request of a handle, JSON schemas sent as response_format, and configs that ask
# concurrency of an engine that cannot do it refused.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
. "$(dirname "$0")/openai_lib.sh"

stats() { curl -s "http://127.0.0.1:$PORT/stats"; }
max_in_flight() { stats | sed -n 's/.*"max_in_flight":\([0-9]*\).*/\1/p'; }

"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/a.gguf" --vocab 40 >/dev/null

# ---- the same answers, up to 4 at once ----
start_server --fault delay:200
cfg "$TMP/c1.yaml" 24 "endpoint: completions" "concurrency: 1"
cfg "$TMP/c4.yaml" 24 "endpoint: completions" "concurrency: 4"
expect_exit 0 "run one request at a time" "$SLMBENCH" run "$TMP/c1.yaml" --db "$TMP/c1.db" --quiet
m=$(max_in_flight)
[ "$m" = 1 ] && ok "concurrency 1: the server never saw two requests at once" || notok "max in flight at concurrency 1: $m"
expect_exit 0 "run with concurrency 4" "$SLMBENCH" run "$TMP/c4.yaml" --db "$TMP/c4.db" --quiet
m=$(max_in_flight)
[ "$m" -ge 2 ] && [ "$m" -le 4 ] && ok "concurrency 4: up to 4 requests in flight, never more (saw $m)" || notok "max in flight at concurrency 4: $m"
sql "$TMP/c1.db" "select example_idx, pred, raw_output, round(confidence, 9), error from predictions order by 1" >"$TMP/p1"
sql "$TMP/c4.db" "select example_idx, pred, raw_output, round(confidence, 9), error from predictions order by 1" >"$TMP/p4"
if [ "$(wc -l <"$TMP/p4")" = 24 ] && cmp -s "$TMP/p1" "$TMP/p4"; then
    ok "the same 24 predictions, outputs and confidences as one at a time"
else notok "predictions differ under concurrency"; diff "$TMP/p1" "$TMP/p4" | head -5 | sed 's/^/#   /'; fi
v=$(sql "$TMP/c4.db" "select group_concat(name || '=' || (value > 0), ',') from (select name, value from metrics where name in ('concurrency', 'concurrent_examples_per_s') order by name)")
c=$(sql "$TMP/c4.db" "select value from metrics where name = 'concurrency'")
[ "$v" = "concurrency=1,concurrent_examples_per_s=1" ] && [ "$c" = 4.0 ] && ok "concurrency (4) and examples/s under it stored as metrics" || notok "metrics: $v, concurrency $c"
v=$(sql "$TMP/c4.db" "select count(*) from predictions where e2e_ms >= 200")
[ "$v" = 24 ] && ok "each request's latency counted from its own start (all >= the 200 ms delay)" || notok "rows with e2e >= 200 ms: $v"
c=$(sql "$TMP/c4.db" "select concurrency from candidates")
[ "$c" = 4 ] && ok "the candidate row records concurrency 4" || notok "candidates.concurrency = $c"
expect_exit 0 "report of the concurrent run" "$SLMBENCH" report last --db "$TMP/c4.db"
expect_out "^\| srv \| 4 \| [0-9.]+ \|" "the report's concurrency table shows 4 and its examples/s"
stop_server

# ---- faults under load: each stored on its own example ----
# (every 3rd request of the server's count, whichever example it carries: a request may
# draw the fault again on a retry, so it has 10 of them)
start_server --fault 500 --fault-every 3
cfg "$TMP/f.yaml" 12 "endpoint: completions, retries: 10" "concurrency: 4"
expect_exit 0 "every 3rd request answered HTTP 500, concurrency 4" "$SLMBENCH" run "$TMP/f.yaml" --db "$TMP/f.db" --quiet
v=$(sql "$TMP/f.db" "select count(*) || '|' || count(error) from predictions")
[ "$v" = "12|0" ] && ok "retried with backoff beside the others: 12 answers, no error" || notok "rows|errors: $v"
stop_server
start_server --fault 500
cfg "$TMP/fa.yaml" 12 "endpoint: completions, retries: 1" "concurrency: 4"
expect_exit 4 "every request answered HTTP 500, concurrency 4" "$SLMBENCH" run "$TMP/fa.yaml" --db "$TMP/fa.db" --quiet
v=$(sql "$TMP/fa.db" "select count(*) || '|' || count(distinct example_idx) || '|' || sum(correct) from predictions where error = 'openai: server answered HTTP 500, 2 times (retries: 1): injected fault: server error'")
[ "$v" = "12|12|0" ] && ok "12 rows, one per example, each with its error and counted wrong" || notok "rows|examples|correct: $v"
stop_server
start_server
expect_exit 0 "--resume --retry-errors against a healthy server" "$SLMBENCH" run --resume --retry-errors --db "$TMP/fa.db" --quiet
v=$(sql "$TMP/fa.db" "select count(*) || '|' || count(error) from predictions")
[ "$v" = "12|0" ] && ok "only the failed ones redone: 12 rows, no error" || notok "after resume: $v"
stop_server
start_server --fault hang
cfg "$TMP/h.yaml" 8 "endpoint: completions, timeout_ms: 300, retries: 0" "concurrency: 4"
expect_exit 4 "a hanging server, concurrency 4" "$SLMBENCH" run "$TMP/h.yaml" --db "$TMP/h.db" --quiet
v=$(sql "$TMP/h.db" "select count(*) from predictions where error like 'openai: no complete answer within timeout_ms 300, 1 time %' and correct = 0")
[ "$v" = 8 ] && ok "each hung request timed out on its own: 8 rows with the error" || notok "timed-out rows: $v"
stop_server

# ---- Ctrl-C and kill -9 in the middle of a concurrent run ----
# stop_midway SIGNAL DB: starts a run (delay 500 ms, concurrency 4: 3 s in all), sends SIGNAL once
# some predictions are stored, and leaves the run's exit code in $RC.
stop_midway() {
    cfg "$TMP/mid.yaml" 24 "endpoint: completions" "concurrency: 4"
    "$SLMBENCH" run "$TMP/mid.yaml" --db "$2" --quiet >/dev/null 2>&1 &
    pid=$!
    i=0
    while [ $i -lt 200 ]; do
        n=$(sql "$2" "select count(*) from predictions" 2>/dev/null || echo 0)
        [ "${n:-0}" -ge 4 ] && break
        sleep 0.05
        i=$((i + 1))
    done
    kill "-$1" "$pid"
    if wait "$pid" 2>/dev/null; then RC=0; else RC=$?; fi
}
start_server --fault delay:500
stop_midway INT "$TMP/int.db"
[ "$RC" = 130 ] && ok "Ctrl-C during a concurrent run exits 130" || notok "exit after SIGINT: $RC"
v=$(sql "$TMP/int.db" "select (count(*) < 24) || '|' || (count(*) = count(distinct example_idx)) || '|' || count(error) from predictions")
[ "$v" = "1|1|0" ] && ok "stopped early; what was stored is whole, once per example, no error" || notok "after SIGINT (partial|unique|errors): $v"
expect_exit 0 "the interrupted run resumes" "$SLMBENCH" run --resume --db "$TMP/int.db" --quiet
v=$(sql "$TMP/int.db" "select count(*) || '|' || count(distinct example_idx) || '|' || count(error) from predictions")
[ "$v" = "24|24|0" ] && ok "after resume: 24 predictions, one per example" || notok "after resume: $v"
stop_midway KILL "$TMP/kill.db"
[ "$RC" = 137 ] && ok "kill -9 during a concurrent run" || notok "exit after SIGKILL: $RC"
expect_exit 0 "the killed run resumes" "$SLMBENCH" run --resume --db "$TMP/kill.db" --quiet
v=$(sql "$TMP/kill.db" "select count(*) || '|' || count(distinct example_idx) || '|' || count(error) from predictions")
[ "$v" = "24|24|0" ] && ok "nothing lost or doubled by kill -9: 24 predictions" || notok "after kill -9 and resume: $v"
stop_server

# ---- one rate limit over all requests in flight ----
# 8 requests at 10 per second cannot take less than 0.7 s, whatever the concurrency (a
# lower bound: a slow machine only makes it longer).
start_server
cfg "$TMP/rate.yaml" 8 "endpoint: completions, rate: 10" "concurrency: 4"
t0=$(date +%s%N)
expect_exit 0 "rate 10/s with concurrency 4" "$SLMBENCH" run "$TMP/rate.yaml" --db "$TMP/rate.db" --quiet
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -ge 700 ] && ok "8 requests took ${ms} ms >= 700 ms: the limit holds across concurrent requests" || notok "8 requests at 10/s took $ms ms"

# ---- constrained decoding over HTTP: a JSON schema as response_format ----
LT="$ROOT/evalsets/log-triage"
mkdir -p "$TMP/lt"
cp "$LT/evalset.yaml" "$LT/prompt.txt" "$LT/train.csv" "$LT/calibration.csv" "$LT/test.csv" "$TMP/lt/"
cat >"$TMP/schema.yaml" <<YAML
name: schema
evalset: lt
mode: generate
max_tokens: 120
threads: 1
warmup: 0
bandwidth: false
limit: 6
concurrency: 3
candidates:
  - {name: local, model: a.gguf, constrained: true, concurrency: 1}
  - {name: free, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:$PORT/v1", endpoint: completions}}
  - {name: schema, engine: openai, model: demo-nb, constrained: true, options: {base_url: "http://127.0.0.1:$PORT/v1", endpoint: completions}}
  - {name: grammar, engine: openai, model: demo-nb, constrained: true, options: {base_url: "http://127.0.0.1:$PORT/v1", endpoint: completions, constrain: grammar}}
YAML
expect_exit 0 "structured run: in process, and over HTTP free, with a schema, with a grammar" "$SLMBENCH" run "$TMP/schema.yaml" --db "$TMP/sch.db" --quiet
per() { sql "$TMP/sch.db" "select count(*) from predictions p join candidates c on c.id = p.candidate_id where c.name = '$1' and $2"; }
[ "$(per free 'p.valid = 0')" = 6 ] && ok "unconstrained over HTTP: 6 of 6 answers fail" || notok "free invalid: $(per free 'p.valid = 0')"
[ "$(per schema 'p.error is null and p.fail_kinds is null')" = 6 ] && ok "response_format json_schema: 6 of 6 valid objects of the schema" || notok "schema valid: $(per schema 'p.error is null and p.fail_kinds is null'); $(sql "$TMP/sch.db" "select error from predictions where error is not null limit 1")"
[ "$(per grammar 'p.error is null and p.fail_kinds is null')" = 6 ] && ok "constrain: grammar sends the GBNF grammar instead: 6 of 6 valid" || notok "grammar valid: $(per grammar 'p.error is null and p.fail_kinds is null')"
same=$(sql "$TMP/sch.db" "select count(*) from predictions a join candidates ca on ca.id = a.candidate_id join predictions b on b.example_idx = a.example_idx join candidates cb on cb.id = b.candidate_id where ca.name = 'local' and cb.name = 'schema' and a.pred = b.pred")
[ "$same" = 6 ] && ok "the schema over HTTP gives the in-process grammar's 6 answers" || notok "schema vs local alike: $same"
caps=$("$SLMBENCH" engines 2>&1 | grep '^openai' || true)
case "$caps" in *constrain*concurrent*) ok "openai declares constrain and concurrent" ;; *) notok "openai capabilities: $caps" ;; esac
stop_server

# ---- concurrency where it cannot be had ----
# (the in-process llamacpp engine can since issue 18: tests/cli/test_llamacpp_many.sh)
printf 'name: x\nevalset: %s\nmode: generate\nconcurrency: 2\ncandidates:\n  - {name: local, engine: replay, model: %s}\n' "$FX" "$ROOT/tests/fixtures/replay/preds.csv" >"$TMP/bad1.yaml"
expect_exit 3 "concurrency 2 with the replay engine" "$SLMBENCH" run "$TMP/bad1.yaml" --db "$TMP/b1.db"
expect_err "bad1.yaml:6: candidate 'local': engine 'replay' cannot keep requests in flight at once \(concurrency 2\)" "refused with the file, line and why"
printf 'name: x\nevalset: %s\nmode: score\ncandidates:\n  - {name: local, model: %s, concurrency: 4}\n' "$FX" "$TMP/a.gguf" >"$TMP/bad2.yaml"
expect_exit 3 "concurrency in score mode" "$SLMBENCH" run "$TMP/bad2.yaml" --db "$TMP/b2.db"
expect_err "concurrency 4 needs mode: generate" "score mode points at throughput mode instead"
printf 'name: x\nevalset: %s\nmode: generate\nconcurrency: 0\ncandidates:\n  - {name: local, model: %s}\n' "$FX" "$TMP/a.gguf" >"$TMP/bad3.yaml"
expect_exit 3 "concurrency 0" "$SLMBENCH" run "$TMP/bad3.yaml" --db "$TMP/b3.db"
expect_err "bad3.yaml:4: key 'concurrency': 0 is out of range \[1, 1024\]" "out of range, with file and line"
