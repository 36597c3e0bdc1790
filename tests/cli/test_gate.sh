# CI gates: an identical rerun passes; a worse model fails on the accuracy check; a small
# drop that is not significant passes; invalid comparisons exit 3; JUnit and JSON outputs.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/good.gguf" --vocab 40 >/dev/null
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/cut.gguf" --vocab 3 --alpha 5 >/dev/null
mk() { # name model [extra]
    printf 'name: %s\nevalset: %s\nthreads: 1\nwarmup: 1\nrepeats: 3\nbootstrap: 100\n%scandidates:\n  - {name: router, model: %s}\n' \
        "$1" "$FX" "${3:-}" "$2" > "$TMP/$1.yaml"
}
mk base good.gguf
mk rerun good.gguf
mk worse cut.gguf
mk other-data good.gguf "split: train
"
cat >"$TMP/gate.yaml" <<'YAML'
absolute:
  accuracy_min: 0.60
  class_recall_min: 0.30
  invalid_rate_max: 0.0
baseline:
  ref: main
  accuracy_drop_max_points: 2.0
  alpha: 0.05
  latency_increase_max_pct: 200
YAML
for r in base rerun worse other-data; do "$SLMBENCH" run "$TMP/$r.yaml" --db "$TMP/g.db" --quiet >/dev/null; done
expect_exit 0 "tag the baseline" "$SLMBENCH" tag base main --db "$TMP/g.db"
expect_exit 0 "identical rerun passes" "$SLMBENCH" gate "$TMP/gate.yaml" --run rerun --db "$TMP/g.db" --junit "$TMP/pass.xml"
expect_out 'gate: passed' "summary says passed"
grep -q '<testcase classname="router" name="accuracy_drop">' "$TMP/pass.xml" && ! grep -q '<failure' "$TMP/pass.xml" \
    && ok "JUnit: one test case per check, none failing" || notok "JUnit of the passing gate"
expect_exit 1 "a cut-vocabulary model fails" "$SLMBENCH" gate "$TMP/gate.yaml" --run worse --db "$TMP/g.db" --junit "$TMP/fail.xml"
grep -E '❌ \| router \| accuracy\\_drop \|.*a real regression' "$TMP/out" >/dev/null && ok "it fails on the accuracy drop, as significant" || notok "accuracy_drop not the failing check"
grep -q '<testcase classname="router" name="accuracy_drop"><failure message=' "$TMP/fail.xml" && ok "JUnit marks the failure" || notok "JUnit failure"
grep -E '➖ \| router \| latency\\_increase \| not judged: .*different jobs' "$TMP/out" >/dev/null \
    && ok "latency across jobs is not judged, and says why" || notok "latency check across jobs"
grep -q '<testcase classname="router" name="latency_increase"><skipped message="not judged' "$TMP/fail.xml" \
    && ok "JUnit: a check not judged is a skipped test case" || notok "JUnit skipped"
expect_exit 1 "--json on a failing gate" "$SLMBENCH" gate "$TMP/gate.yaml" --run worse --db "$TMP/g.db" --json
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["passed"] is False and any(c["check"]=="accuracy_drop" and c["passed"] is False and c["status"]=="failed" for c in d["checks"])' "$TMP/out" \
        && ok "JSON names the failing check" || notok "JSON"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["n_not_judged"] >= 1 and any(c["check"]=="latency_increase" and c["passed"] is None and c["status"]=="not judged" for c in d["checks"])' "$TMP/out" \
        && ok "JSON: a check not judged has passed null and status 'not judged'" || notok "JSON not judged"
fi
# A drop larger than allowed but not significant: two answers changed.
"$SLMBENCH" export predictions base --candidate router --db "$TMP/g.db" > "$TMP/base.csv"
awk 'BEGIN{FS=OFS=","} NR==1{print $1,$2,$3,$4;next} NR==2||NR==3{ $3=($2=="billing")?"shipping":"billing" } {print $1,$2,$3,$4}' "$TMP/base.csv" > "$TMP/slight.csv"
printf 'name: slight\nevalset: %s\nwarmup: 0\nbootstrap: 100\ncandidates:\n  - {name: router, engine: replay, model: slight.csv}\n' "$FX" > "$TMP/slight.yaml"
"$SLMBENCH" run "$TMP/slight.yaml" --db "$TMP/g.db" --quiet >/dev/null
cat >"$TMP/gate-rel.yaml" <<'YAML'
baseline: {ref: main, accuracy_drop_max_points: 2.0, alpha: 0.05}
YAML
expect_exit 0 "a drop within noise passes" "$SLMBENCH" gate "$TMP/gate-rel.yaml" --run slight --db "$TMP/g.db"
expect_out "not significant at n = 24 \(a drop of [0-9.]+ points would be needed\)|with b \+ c = [0-9]+ no drop could be" "it says the drop is not significant at this n, and what would have been"
# Invalid comparisons and bad input.
expect_exit 3 "different eval-set data is refused" "$SLMBENCH" gate "$TMP/gate.yaml" --run other-data --db "$TMP/g.db"
expect_err "eval set data" "the refusal names what differs"
expect_exit 1 "--allow-different compares anyway (absolute checks judge)" "$SLMBENCH" gate "$TMP/gate.yaml" --run other-data --db "$TMP/g.db" --allow-different
printf 'absolute: {accuracy_min: 0.5}\nbogus: 1\n' > "$TMP/bad.yaml"
expect_exit 3 "unknown key in the gate file" "$SLMBENCH" gate "$TMP/bad.yaml" --db "$TMP/g.db"
expect_err "bad.yaml:2: unknown key 'bogus'" "names file and line"
expect_exit 0 "a baseline tag naming no run yet: the absolute checks decide" "$SLMBENCH" gate "$TMP/gate.yaml" --run rerun --baseline nosuchtag --db "$TMP/g.db"
expect_out 'accuracy\\_drop \| not judged: no run tagged .nosuchtag. yet' "the baseline checks are not judged, and say why"
expect_exit 3 "unknown baseline with --require-baseline" "$SLMBENCH" gate "$TMP/gate.yaml" --baseline nosuchtag --require-baseline --db "$TMP/g.db"
expect_exit 3 "a baseline run id that does not exist" "$SLMBENCH" gate "$TMP/gate.yaml" --baseline 999 --db "$TMP/g.db"
printf 'absolute: {accuracy_min: 0.99}\n' > "$TMP/strict.yaml"
expect_exit 1 "an absolute threshold fails" "$SLMBENCH" gate "$TMP/strict.yaml" --run rerun --db "$TMP/g.db"
expect_exit 2 "tag needs two arguments" "$SLMBENCH" tag base --db "$TMP/g.db"
# A baseline p95 of 0 (or none) gives no ratio: the latency check is "not judged", said so.
cp "$TMP/g.db" "$TMP/z.db"
sql "$TMP/z.db" "update metrics set value = 0 where name = 'e2e_ms_p95' and run_id = (select run_id from tags where name = 'main')"
expect_exit 0 "a zero baseline p95 does not fail the gate" "$SLMBENCH" gate "$TMP/gate.yaml" --run rerun --db "$TMP/z.db"
expect_out 'latency\\_increase \| not judged: .*baseline has no p95 above 0' "the latency check says it was not judged"
# latency_across_jobs: the old p95 rule, judged only where neither run was loaded.
sed 's/latency_increase_max_pct: 200/latency_increase_max_pct: 200\n  latency_across_jobs: true/' "$TMP/gate.yaml" > "$TMP/across.yaml"
expect_exit 0 "latency_across_jobs on an identical rerun" "$SLMBENCH" gate "$TMP/across.yaml" --run rerun --db "$TMP/g.db"
grep -E '(✅ \| router \| latency\\_increase \| p95 .*measured in different jobs)|(➖ \| router \| latency\\_increase \| not judged: .*(load average|steal|noisy))' "$TMP/out" >/dev/null \
    && ok "across jobs: judged on the p95, or not judged naming the load" || notok "latency_across_jobs"

# Like with like: the baseline model in the same job, interleaved turn by turn (replayed
# answers with a real sleep per request). Identical delays pass; a doubled delay fails.
lat_run() { # name prod_delay new_delay
    printf 'name: %s\nevalset: %s\nwarmup: 1\nbootstrap: 0\ninterleave: true\ninterleave_turn: 2\ncounters: false\nbandwidth: false\ncandidates:\n  - {name: prod, engine: replay, model: base.csv, options: {delay_ms: %s}}\n  - {name: new, engine: replay, model: base.csv, options: {delay_ms: %s}}\n' \
        "$1" "$FX" "$2" "$3" > "$TMP/$1.yaml"
    "$SLMBENCH" run "$TMP/$1.yaml" --db "$TMP/lat.db" --quiet >/dev/null
}
lat_run same 20 20
lat_run slow 20 40
sql "$TMP/lat.db" "select interleave_turn from runs where name = 'same'" | grep -qx 2 \
    && ok "the run records its interleaving turn" || notok "interleave_turn not recorded"
printf 'baseline: {candidate: prod, latency_increase_max_pct: 10, accuracy_drop_max_points: 1}\n' > "$TMP/same.yaml"
expect_exit 0 "same job, same speed: passes" "$SLMBENCH" gate "$TMP/same.yaml" --run same --db "$TMP/lat.db"
grep -E '(✅|➖) \| new \| latency\\_increase \|.*against .prod. in the same job, interleaved: latency ratio' "$TMP/out" >/dev/null \
    && ok "the latency check pairs turns in the same job" || notok "same-job latency check"
grep -q '| prod | latency' "$TMP/out" && notok "the baseline was gated against itself" || ok "the baseline candidate is not gated against itself"
expect_exit 1 "same job, twice the delay: fails" "$SLMBENCH" gate "$TMP/same.yaml" --run slow --db "$TMP/lat.db"
expect_out '❌ \| new \| latency\\_increase \|.*a real slowdown' "and says it is a real slowdown"
# Across jobs, normalised by a reference candidate run in both.
printf 'baseline: {ref: same, latency_reference: prod, latency_increase_max_pct: 10}\n' > "$TMP/norm.yaml"
expect_exit 1 "normalised by a reference in both jobs: the slowdown fails" "$SLMBENCH" gate "$TMP/norm.yaml" --run slow --db "$TMP/lat.db"
expect_out '❌ \| new \| latency\\_increase \|.*relative to .prod. measured alongside in both jobs' "the detail names the reference"
lat_run again 20 20
expect_exit 0 "normalised: an identical rerun passes" "$SLMBENCH" gate "$TMP/norm.yaml" --run again --db "$TMP/lat.db"
# One after another (not interleaved) on a loaded machine: not judged, with the reason.
sed 's/^interleave: true/interleave: false/; s/^name: slow/name: seq/' "$TMP/slow.yaml" > "$TMP/seq.yaml"
"$SLMBENCH" run "$TMP/seq.yaml" --db "$TMP/lat.db" --quiet >/dev/null
sql "$TMP/lat.db" "update candidates set load1_before = 99 where run_id = (select id from runs where name = 'seq')"
expect_exit 0 "a sequential run under load does not fail on latency" "$SLMBENCH" gate "$TMP/same.yaml" --run seq --db "$TMP/lat.db"
expect_out '➖ \| new \| latency\\_increase \| not judged: .new. and .prod. ran one after another \(not interleaved\) and the run ran at load average 99.00, above the [0-9]+ CPUs' "it is not judged and names the load"
printf 'baseline: {ref: same, latency_reference: nosuch, latency_increase_max_pct: 10}\n' > "$TMP/noref.yaml"
expect_exit 0 "a reference missing from a run is not judged" "$SLMBENCH" gate "$TMP/noref.yaml" --run again --db "$TMP/lat.db"
expect_out "not judged: the latency reference 'nosuch' did not run in both" "and says so"
