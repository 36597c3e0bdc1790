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
