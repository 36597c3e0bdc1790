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
grep -E '✅ \| router \| latency\\_increase' "$TMP/out" >/dev/null && ok "the latency check passes (within its allowance)" || notok "latency check"
expect_exit 1 "--json on a failing gate" "$SLMBENCH" gate "$TMP/gate.yaml" --run worse --db "$TMP/g.db" --json
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["passed"] is False and any(c["check"]=="accuracy_drop" and not c["passed"] for c in d["checks"])' "$TMP/out" \
        && ok "JSON names the failing check" || notok "JSON"
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
expect_out 'not significant: noise' "it says the drop is noise"
# Invalid comparisons and bad input.
expect_exit 3 "different eval-set data is refused" "$SLMBENCH" gate "$TMP/gate.yaml" --run other-data --db "$TMP/g.db"
expect_err "eval set data" "the refusal names what differs"
expect_exit 1 "--allow-different compares anyway (absolute checks judge)" "$SLMBENCH" gate "$TMP/gate.yaml" --run other-data --db "$TMP/g.db" --allow-different
printf 'absolute: {accuracy_min: 0.5}\nbogus: 1\n' > "$TMP/bad.yaml"
expect_exit 3 "unknown key in the gate file" "$SLMBENCH" gate "$TMP/bad.yaml" --db "$TMP/g.db"
expect_err "bad.yaml:2: unknown key 'bogus'" "names file and line"
expect_exit 3 "unknown baseline" "$SLMBENCH" gate "$TMP/gate.yaml" --baseline nosuchtag --db "$TMP/g.db"
printf 'absolute: {accuracy_min: 0.99}\n' > "$TMP/strict.yaml"
expect_exit 1 "an absolute threshold fails" "$SLMBENCH" gate "$TMP/strict.yaml" --run rerun --db "$TMP/g.db"
expect_exit 2 "tag needs two arguments" "$SLMBENCH" tag base --db "$TMP/g.db"
# A baseline p95 of 0 (or none) gives no ratio: the latency check is "not judged", said so.
cp "$TMP/g.db" "$TMP/z.db"
sql "$TMP/z.db" "update metrics set value = 0 where name = 'e2e_ms_p95' and run_id = (select run_id from tags where name = 'main')"
expect_exit 0 "a zero baseline p95 does not fail the gate" "$SLMBENCH" gate "$TMP/gate.yaml" --run rerun --db "$TMP/z.db"
expect_out 'latency\\_increase \| not judged: .*baseline has no p95 above 0' "the latency check says it was not judged"
