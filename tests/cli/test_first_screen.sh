# The first screen (README "Reports and plots"): `run`'s summary and report.md open with
# the recommendation in one sentence, then any measurement warning, then the table —
# for a demo-like run (an accuracy difference that is not significant is a tie), a run
# where no candidate meets the requirements (the closest named, with its shortfall), and a
# stored run whose load average was above its CPUs (the warning at the top).
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"

# Replayed answers over the 24 test rows: a right on all, c wrong on the first only
# (McNemar against a: b+c = 1, p = 1: a tie), b wrong on the first 12 (p < 0.002 after
# Holm: significantly less accurate).
mk() { # mk FILE WRONG: the first WRONG rows answered with another label
    awk -F, -v w="$2" 'NR==1{print "id,label,pred,confidence,latency_ms"; next}
        {p=$NF; if (NR-1 <= w) p=(p=="billing" ? "shipping" : "billing"); print $1","$NF","p",0.9,1"}' \
        "$FX/test.csv" > "$1"
}
mk "$TMP/a.csv" 0; mk "$TMP/b.csv" 12; mk "$TMP/c.csv" 1
cat >"$TMP/demo.yaml" <<YAML
name: first-screen
evalset: $FX
mode: generate
warmup: 0
bandwidth: false
candidates:
  - {name: a, engine: replay, model: a.csv}
  - {name: b, engine: replay, model: b.csv}
  - {name: c, engine: replay, model: c.csv}
YAML
expect_exit 0 "demo-like run" "$SLMBENCH" run "$TMP/demo.yaml" --db "$TMP/d.db" --quiet
sed -n 2p "$TMP/out" | grep -Eq "^run 1 'first-screen': complete" && ok "summary: the run first" || notok "summary line 2: $(sed -n 2p "$TMP/out")"
l3=$(sed -n 3p "$TMP/out")
# a and c tie on accuracy; which one is picked depends on whether c is measurably faster,
# and the sentence says which rule decided
case "$l3" in
"Pick a: the most accurate (100.0%; c's 95.8% is not significantly lower, McNemar Holm p 1"*) ok "summary leads with the pick (a; c ties)" ;;
"Pick c: as accurate as the best (95.8% vs 100.0%, difference not significant, McNemar Holm p 1) and "*"× faster at p95"*) ok "summary leads with the pick (c, as accurate and faster)" ;;
*) notok "summary line 3 is not the recommendation: $l3" ;;
esac
# then the warnings this machine's load called for (if any), then the table
nw=$(sed -n '4,$p' "$TMP/out" | awk '/^warning: /{n++; next} {exit} END{print n+0}')
sed -n "$((4 + nw))p" "$TMP/out" | grep -q '^$' && sed -n "$((5 + nw))p" "$TMP/out" | grep -q '^| candidate | engine |' \
    && ok "then $nw warning(s), then the table" || notok "no table after the sentence: $(sed -n 4,6p "$TMP/out")"
# the report of it as measured on a quiet machine (the conditions stored as such)
sql "$TMP/d.db" "update candidates set load1_before = 0.5, load1_after = 0.5, steal_pct = 0"
expect_exit 0 "report --out" "$SLMBENCH" report last --db "$TMP/d.db" --out "$TMP/rep"
sed -n 3p "$TMP/rep/report.md" | grep -q '^## Run 1: first-screen' && ok "report.md: the run heading" || notok "report.md line 3: $(sed -n 3p "$TMP/rep/report.md")"
sed -n 5p "$TMP/rep/report.md" | grep -Eq '^\*\*Pick (a|c)\*\*: ' && ok "report.md: the sentence under it" || notok "report.md line 5: $(sed -n 5p "$TMP/rep/report.md")"
sed -n 7p "$TMP/rep/report.md" | grep -q '^### Comparison' && ok "report.md: then the comparison" || notok "report.md line 7: $(sed -n 7p "$TMP/rep/report.md")"
grep -q '| host | .*CPU' "$TMP/rep/report.md" && ! grep -q '| host | {' "$TMP/rep/report.md" && ok "host as facts, not JSON" || notok "host: $(grep '| host |' "$TMP/rep/report.md")"
grep -q '<p><strong>Pick' "$TMP/rep/report.html" && ok "report.html opens with the sentence" || notok "no sentence in report.html"
python3 - "$TMP/rep/report.json" <<'PY' && ok "report.json: recommendation with ties (c, not b)" || notok "report.json recommendation"
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]["recommendation"]
assert r["pick"] in ("a", "c") and r["best"] == "a", r
assert [t["candidate"] for t in r["ties"]] == ["c"], r["ties"]
assert r["closest"] is None and r["warnings"] == [] and r["reason"].startswith("Pick "), r
PY

# No candidate meets min_accuracy 0.99: the closest is c (23/24), short by 99 - 95.83.
cat >"$TMP/none.yaml" <<YAML
name: none-qualifies
evalset: $FX
mode: generate
warmup: 0
bandwidth: false
requirements: {min_accuracy: 0.99}
candidates:
  - {name: b, engine: replay, model: b.csv}
  - {name: c, engine: replay, model: c.csv}
YAML
expect_exit 0 "run where none qualifies" "$SLMBENCH" run "$TMP/none.yaml" --db "$TMP/n.db" --quiet
short=$(awk 'BEGIN{printf "%.1f", 99 - 23 / 24 * 100}')
sed -n 3p "$TMP/out" | grep -Eq "^No candidate qualifies: none of the 2 meets the requirements \(accuracy ≥ 99\.0%\); closest: c, accuracy 95\.8% \[[0-9.]+%, [0-9.]+%\], $short points short of 99\.0%\.$" \
    && ok "summary names the closest and its shortfall ($short points)" || notok "summary line 3: $(sed -n 3p "$TMP/out")"
expect_exit 0 "report of it" "$SLMBENCH" report last --db "$TMP/n.db"
sed -n 5p "$TMP/out" | grep -q "^\*\*No candidate qualifies\*\*: .*closest: c, accuracy 95.8%" && ok "report.md: the closest at the top" || notok "report line 5: $(sed -n 5p "$TMP/out")"
expect_exit 0 "report --json" "$SLMBENCH" report last --db "$TMP/n.db" --json
python3 - "$TMP/out" "$short" <<'PY' && ok "report.json: closest with its miss" || notok "report.json closest"
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]["recommendation"]
c = r["closest"]
assert r["pick"] is None and c["candidate"] == "c", r
m = c["misses"][0]
assert m["requirement"] == "min_accuracy" and abs(m["short_by"] * 100 - float(sys.argv[2])) < 0.05, m
PY

# The demo-like run as if measured with the load average above the machine's CPUs.
cpus=$(sql "$TMP/d.db" "select json_extract(host_json, '$.cpus_online') from runs where id = 1")
sql "$TMP/d.db" "update candidates set load1_before = $cpus + 1.5 where name = 'b'"
expect_exit 0 "report of a loaded run" "$SLMBENCH" report 1 --db "$TMP/d.db"
want=$(awk -v c="$cpus" 'BEGIN{printf "load average up to %.2f on %d CPUs while b ran", c + 1.5, c}')
sed -n 7p "$TMP/out" | grep -q "^\*\*Warning (load)\*\*: $want: .* Rerun on an idle machine" \
    && ok "report.md: the load warning above the table" || notok "report line 7: $(sed -n 7p "$TMP/out")"
sed -n 9p "$TMP/out" | grep -q '^### Comparison' && ok "then the comparison" || notok "report line 9: $(sed -n 9p "$TMP/out")"
exit 0
