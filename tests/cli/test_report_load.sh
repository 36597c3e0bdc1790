# The load test in `report` and `gate` (issue 18): a sweep against the multi-slot test
# server reported in Markdown, JSON and HTML from the same numbers as `load --json`
# (charts drawn where gnuplot is installed); the gate's max_rate_at_slo passing and
# failing against baselines of fixed rates on a fast and a slow server; a gate of a run
# that is not a load test refused. Counts, equality and ordering asserted, never timings.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
. "$(dirname "$0")/openai_lib.sh"

"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/a.gguf" --vocab 40 >/dev/null

# lcfg FILE NAME LOAD_LINES...: a load test of one openai candidate on $PORT.
lcfg() {
    f=$1; n=$2; shift 2
    { printf 'name: %s\nevalset: %s\nmode: generate\nmax_tokens: 4\nwarmup: 0\nbootstrap: 200\n' "$n" "$FX"
      printf 'candidates:\n  - {name: srv, engine: openai, model: demo-nb, options: {base_url: "http://127.0.0.1:%s/v1", endpoint: completions, stream: 1}}\n' "$PORT"
      printf 'load:\n'
      for l in "$@"; do printf '  %s\n' "$l"; done; } >"$f"
}

# ---- a sweep of 2 rates, 2 s levels: load --json, then report md / json / html ----
# (--slot-ms 20: 4 slots serve 4 times the single stream, so the sweep has room however
# busy the machine is)
start_server --slots 4 --slot-ms 20
lcfg "$TMP/w.yaml" sweep "profile: sweep" "concurrency: 4" "rates: 2" "duration: 2s" "slo: {e2e: 500ms, percentile: 90}"
expect_exit 0 "a sweep of 2 rates against a server of 4 slots" "$SLMBENCH" load "$TMP/w.yaml" --db "$TMP/l.db" --quiet --json
cp "$TMP/out" "$TMP/load.json"
stop_server
expect_exit 0 "report of the load test as JSON" "$SLMBENCH" report 1 --db "$TMP/l.db" --format json
cp "$TMP/out" "$TMP/report.json"
expect_exit 0 "report of the load test as Markdown" "$SLMBENCH" report 1 --db "$TMP/l.db"
cp "$TMP/out" "$TMP/report.md"
expect_out "^## Load test" "the Markdown report is the load section"
# every level's row in the Markdown shows the numbers of load --json (%.4g, as written);
# report --json's load object is load --json's document
python3 - "$TMP/load.json" "$TMP/report.json" "$TMP/report.md" <<'PY' && ok "report md and json rows equal load --json's numbers (every level, the best rate)" || notok "report and load --json differ"
import json, sys
L = json.load(open(sys.argv[1]))
R = json.load(open(sys.argv[2]))
assert R["runs"][0]["mode"] == "load" and R["runs"][0]["load"] == L, "json differs"
lv = L["candidates"][0]["levels"]
# the sweep: synchronous, concurrent, then its 2 constant rates (1 where the first saturated)
pro = [l["profile"] for l in lv]
assert pro in (["synchronous", "concurrent", "constant", "constant"], ["synchronous", "concurrent", "constant"]), pro
def f(v):
    return "–" if v is None else "%.4g" % v
rows = [r for r in open(sys.argv[3], encoding="utf-8") if r.startswith("| ") and r[2].isdigit()]
assert len(rows) == len(lv), rows
for r, l in zip(rows, lv):
    c = [x.strip() for x in r.strip().strip("|").split("|")]
    assert c[0] == str(l["level"]), (c, l)
    assert c[2:5] == [f(l["offered_rps"]), f(l["achieved_rps"]), f(l["goodput_rps"])], (c, l)
    for k, (m, p) in enumerate([("ttft_ms", "p50"), ("ttft_ms", "p_slo"), ("e2e_ms", "p50"), ("e2e_ms", "p_slo")]):
        x = l[m][p]
        want = f(x["value"]) + ("" if x["value"] is None else " [%s, %s]" % (f(x["lo"]), f(x["hi"])))
        assert c[6 + k] == want, (k, c, want)
    assert c[14] == str(l["n_measured"]), (c, l)
b = L["candidates"][0]["best_rate"]
md = open(sys.argv[3], encoding="utf-8").read()
assert ("**%s/s** (level %d)" % (f(b["rate"]), b["level"])) in md if b["rate"] is not None else "**none**" in md
PY
# the same numbers computed apart, from the stored rows (sqlite3, numpy's percentiles):
# per level the measured count, achieved rate (over the stored window in a closed loop, the
# send span in an open one), goodput under the
# e2e limit, accuracy, E2E p50 and p90; the best rate = the highest offered rate of an
# ended, unsaturated level whose p90 meets the 500 ms limit
sqlite3 -batch -noheader -separator ' ' "$TMP/l.db" "select l.idx, coalesce(l.offered_rps, 'nan'), l.window_ms, l.status, r.status, r.phase, coalesce(r.e2e_ms, 'nan'), coalesce(r.correct, -1), coalesce(r.scheduled_ms, 'nan'), coalesce(r.sent_ms, 'nan') from load_levels l join load_requests r on r.level_id = l.id order by l.idx, r.seq" >"$TMP/rows.txt"
/usr/bin/python3 - "$TMP/rows.txt" "$TMP/report.json" <<'PY' && ok "the report's numbers agree with an independent computation from the stored rows" || notok "report vs stored rows"
import json, sys
import numpy as np
lv = {}
for line in open(sys.argv[1]):
    idx, off, win, lst, st, ph, e2e, cor, sch, sent = line.split()
    d = lv.setdefault(int(idx), dict(off=float(off), win=float(win), st=lst, m=0, good=0, e2e=[], cor=[], sent=[], open=False))
    if ph != "measure":
        continue
    d["m"] += 1
    d["sent"].append(float(sent)); d["open"] |= sch != "nan"
    if st == "ok":
        d["e2e"].append(float(e2e)); d["cor"].append(int(cor))
        d["good"] += float(e2e) <= 500
R = json.load(open(sys.argv[2]))["runs"][0]["load"]["candidates"][0]
close = lambda a, b: abs(a - b) <= 1e-9 * max(1.0, abs(b))
best = None
for (i, d), l in zip(sorted(lv.items()), R["levels"]):
    # a closed loop: per the window; an open loop: per the send span x k/(k - 1)
    k = len(d["sent"])
    secs = (max(d["sent"]) - min(d["sent"])) / 1000 * k / (k - 1) if d["open"] else d["win"] / 1000
    p50, p90 = np.percentile(d["e2e"], [50, 90])
    assert l["n_measured"] == d["m"] and close(l["achieved_rps"], d["m"] / secs), (i, l["achieved_rps"])
    assert close(l["goodput_rps"], d["good"] / secs) and close(l["accuracy"], sum(c == 1 for c in d["cor"]) / len(d["cor"])), i
    assert close(l["e2e_ms"]["p50"]["value"], p50) and close(l["e2e_ms"]["p_slo"]["value"], p90), (i, p50, p90)
    if d["off"] == d["off"] and d["st"] == "complete" and p90 <= 500 and len(d["e2e"]) == d["m"]:
        best = d["off"] if best is None else max(best, d["off"])
assert len(lv) == len(R["levels"])
assert (best is None and R["best_rate"]["rate"] is None) or close(R["best_rate"]["rate"], best), (best, R["best_rate"])
PY
expect_exit 0 "report of the load test as HTML to stdout" "$SLMBENCH" report 1 --db "$TMP/l.db" --format html
grep -q '<h2[^>]*>Load test</h2>' "$TMP/out" && grep -q 'Charts are written with --out DIR' "$TMP/out" && ok "HTML: the load section, charts with --out" || notok "html: $(head -c 300 "$TMP/out")"
expect_exit 0 "report --out DIR of the load test" "$SLMBENCH" report 1 --db "$TMP/l.db" --out "$TMP/rep"
[ -s "$TMP/rep/report.md" ] && [ -s "$TMP/rep/report.html" ] && cmp -s "$TMP/rep/report.json" "$TMP/report.json" && ok "report.md, report.html and report.json (the same JSON) written" || notok "--out files: $(ls "$TMP/rep")"
if command -v gnuplot >/dev/null 2>&1; then
    n=0
    for p in load_latency load_goodput load_achieved load_cdf_1; do
        [ -s "$TMP/rep/plots/$p.svg" ] && [ -s "$TMP/rep/plots/$p.dat" ] && grep -q "id=\"fig-$p\"" "$TMP/rep/report.html" && n=$((n + 1))
    done
    [ "$n" = 4 ] && ok "the 4 charts drawn (latency, goodput, achieved vs offered, CDFs) and embedded in the HTML" || notok "charts: $n of 4; $(ls "$TMP/rep/plots")"
    # the latency chart's data: one row per open-loop level, the offered rates of load --json
    v=$(grep -v '^#' "$TMP/rep/plots/load_latency.dat" | awk 'NF { print $1 }' | tr '\n' ' ')
    w=$(python3 -c 'import json,sys; print(" ".join("%.17g" % l["offered_rps"] for l in json.load(open(sys.argv[1]))["candidates"][0]["levels"] if l["offered_rps"] is not None))' "$TMP/load.json")
    python3 -c 'import sys; a=[float(x) for x in sys.argv[1].split()]; b=[float(x) for x in sys.argv[2].split()]; assert len(a)==len(b)>=1 and all(abs(x-y)<=1e-9*y for x,y in zip(a,b)), (a,b)' "$v" "$w" && ok "the latency chart's rows are the open-loop levels' offered rates" || notok "chart rows: $v vs $w"
else
    skip "charts (gnuplot not installed)"
fi
expect_exit 0 "report --out without gnuplot" env SLM_GNUPLOT="$TMP/no-gnuplot" "$SLMBENCH" report 1 --db "$TMP/l.db" --out "$TMP/rep2"
grep -q 'Not drawn: load\\_latency, load\\_goodput, load\\_achieved, load\\_cdf\\_1: gnuplot not found' "$TMP/rep2/report.md" && cmp -s "$TMP/rep2/report.json" "$TMP/report.json" && [ ! -e "$TMP/rep2/plots/load_latency.svg" ] && ok "without gnuplot: the report written, the charts listed once with the reason" || notok "no gnuplot: $(tail -3 "$TMP/rep2/report.md")"

# ---- the gate: max_rate_at_slo against a baseline load test ----
# Fixed rates 4, 40 and 60/s against a fast server (4 slots of 20 ms: 200/s) and a slow
# one (1 slot of 50 ms: 20/s, so 40/s piles up a queue: saturated, or its p90 beyond the
# limit); the same SLO, eval set and prompt in all.
RATES="rate: [4, 40, 60]"
SLO="slo: {e2e: 500ms, percentile: 90}"
start_server --slots 4 --slot-ms 20
lcfg "$TMP/fast.yaml" fast "profile: constant" "$RATES" "duration: 2s" "$SLO"
expect_exit 0 "fixed rates on the fast server (run 1)" "$SLMBENCH" load "$TMP/fast.yaml" --db "$TMP/g.db" --quiet
expect_exit 0 "the same again (run 2)" "$SLMBENCH" load "$TMP/fast.yaml" --db "$TMP/g.db" --quiet
cfg "$TMP/r.yaml" 6 "endpoint: completions"
expect_exit 0 "a run that is not a load test (run 3)" "$SLMBENCH" run "$TMP/r.yaml" --db "$TMP/g.db" --quiet
stop_server
start_server --slots 1 --slot-ms 50
lcfg "$TMP/slow.yaml" slow "profile: constant" "$RATES" "duration: 2s" "$SLO"
expect_exit 0 "fixed rates on the slow server (run 4)" "$SLMBENCH" load "$TMP/slow.yaml" --db "$TMP/g.db" --quiet
stop_server
printf 'baseline:\n  max_rate_at_slo: {min_ratio: 0.9}\n' >"$TMP/gate.yaml"
G() { "$SLMBENCH" gate "$TMP/gate.yaml" --db "$TMP/g.db" "$@"; }
expect_exit 0 "the fast server's rerun against the first: passes" G --run 2 --baseline 1
expect_out '^\| ✅ \| srv \| max\\_rate\\_at\\_slo \| candidate 60/s .*passes' "reported like the other checks: passed at 60/s"
expect_exit 1 "the slow server against the fast one: fails" G --run 4 --baseline 1 --json
cp "$TMP/out" "$TMP/fail.json"
# the rates in the verdict are those of the reports of both load tests
for r in 1 4; do "$SLMBENCH" report "$r" --db "$TMP/g.db" --json >"$TMP/r$r.json"; done
python3 - "$TMP/fail.json" "$TMP/r4.json" "$TMP/r1.json" <<'PY' && ok "the failed check's rates and intervals are the reports' best rates (slow: surely fails at 40/s, fast: surely meets 60/s)" || notok "gate json: $(head -c 600 "$TMP/fail.json")"
import json, sys
g = json.load(open(sys.argv[1]))
def best(p):
    b = json.load(open(p))["runs"][0]["load"]["candidates"][0]["best_rate"]
    f = lambda v: "–" if v is None else "%.4g" % v
    return "%s/s [%s, %s]" % (f(b["rate"]), f(b["lo"]), f(b["hi"])), b
c, cb = best(sys.argv[2]); b, bb = best(sys.argv[3])
assert cb["hi"] == 40 and bb["lo"] == 60, (cb, bb)
chk = [k for k in g["checks"] if k["check"] == "max_rate_at_slo"]
assert g["passed"] is False and len(chk) == 1 and chk[0]["status"] == "failed", g
assert chk[0]["detail"].startswith("candidate %s, baseline %s, min_ratio 0.9: fails" % (c, b)), chk[0]["detail"]
PY
expect_exit 0 "the fast server against the slow one as baseline: passes" G --run 1 --baseline 4
expect_exit 3 "a gate of a run that is not a load test refused" G --run 3 --baseline 1
expect_err "max_rate_at_slo judges load tests: run 3 is not a load test \(mode generate\)" "says which run and its mode"
expect_exit 3 "a baseline that is not a load test refused" G --run 1 --baseline 3
expect_err "run 3 is not a load test \(mode generate\) \(the baseline\)" "says it is the baseline"
expect_exit 3 "max_rate_at_slo without a baseline refused" G --run 1
expect_err "max_rate_at_slo compares with a baseline load test" "says a baseline is needed"
printf 'baseline:\n  ref: 1\n  max_rate_at_slo: {min_ratio: 0}\n' >"$TMP/bad.yaml"
expect_exit 3 "min_ratio 0 refused" "$SLMBENCH" gate "$TMP/bad.yaml" --run 2 --db "$TMP/g.db"
expect_err "bad.yaml:3: max_rate_at_slo: min_ratio must be a number in \(0, 10\]" "names the file and line"
expect_exit 2 "a load test reported beside another run refused" "$SLMBENCH" report 1 3 --db "$TMP/g.db"
expect_err "run 1 is a load test: report it alone" "says to report it alone"
