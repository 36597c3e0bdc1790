# slmbench history: replayed runs whose accuracies are known by construction (19/24,
# 16/24), one of them interrupted, one on other data, one a load test: grouping by data,
# the numbers against `report --json` and the report's Markdown cells, the marks, the
# filters and their errors, JSON and CSV, the trend plots' data, the page in headless
# Chromium.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"

# replay FILE CHANGES...: the gold label of every example except "id=label" in CHANGES.
replay() {
    f=$1; shift
    awk -F, -v ch="$*" '
        BEGIN { n = split(ch, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); c[kv[1]] = kv[2] }
                print "id,pred,p_billing,p_shipping,p_technical" }
        NR > 1 { pr = ($1 in c) ? c[$1] : $NF
                 printf "%s,%s,%s,%s,%s\n", $1, pr, pr == "billing" ? 0.5 : 0.25, pr == "shipping" ? 0.5 : 0.25, pr == "technical" ? 0.5 : 0.25 }' \
        "$FX/test.csv" > "$f"
}
replay "$TMP/a.csv" te01=shipping te02=shipping te03=technical te08=billing te12=technical
replay "$TMP/b.csv" te02=shipping te03=shipping te08=billing te12=technical te10=technical \
    te15=billing te19=billing te22=shipping
mk() { # name evalset candidate=file...
    n=$1 e=$2; shift 2
    printf 'name: %s\nevalset: %s\nwarmup: 0\nbootstrap: 100\nbandwidth: false\ncandidates:\n' "$n" "$e" > "$TMP/$n.yaml"
    for c in "$@"; do printf '  - {name: %s, engine: replay, model: %s}\n' "${c%%=*}" "${c#*=}" >> "$TMP/$n.yaml"; done
    "$SLMBENCH" run "$TMP/$n.yaml" --db "$TMP/h.db" --quiet >/dev/null
}
mk before "$FX" router=a.csv                    # run 1: router 19/24
mk after "$FX" router=b.csv alt=a.csv           # run 2: router 16/24, alt 19/24
mk stopped "$FX" router=a.csv                   # run 3: marked interrupted below
mkdir "$TMP/tiny2"
cp "$FX/evalset.yaml" "$FX/prompt.txt" "$FX/train.csv" "$FX/calibration.csv" "$TMP/tiny2/"
grep -v '^te24,' "$FX/test.csv" > "$TMP/tiny2/test.csv"
mk other-data "$TMP/tiny2" router=a.csv         # run 4: the same eval set name, other data
mk loaded "$FX" router=a.csv                    # run 5: stands for a load test below
# What a Ctrl-C leaves (status interrupted) and what `slmbench load` records (mode load),
# set directly: the history reads only these columns.
sql "$TMP/h.db" "update runs set status = 'interrupted' where id = 3; update runs set mode = 'load' where id = 5"
"$SLMBENCH" tag after main --db "$TMP/h.db" 2>/dev/null

expect_exit 0 "history" "$SLMBENCH" history --db "$TMP/h.db"
cp "$TMP/out" "$TMP/h.md"
[ "$(grep -c '^## Eval set tiny v1, data ' "$TMP/h.md")" = 2 ] && ok "two trends: the same eval set on two data hashes" \
    || notok "grouping by data: $(grep '^## ' "$TMP/h.md" | tr '\n' ' ')"
grep -q '^## Eval set tiny v1, data [0-9a-f]\{12\} (split test, 3 runs)' "$TMP/h.md" && ok "runs 1-3 in one group" || notok "group of runs 1-3"
grep -qE '^\| [0-9-]+ [0-9:]+ \| 1 \| before \| – \| complete \| router \| 79\.2% \[' "$TMP/h.md" && ok "run 1: date, id, name, no tag, status, 19/24" || notok "row of run 1"
grep -qE '^\| [0-9-]+ [0-9:]+ \| 2 \| after \| main \| complete \| router \| 66\.7% \[' "$TMP/h.md" && ok "run 2: its tag, 16/24" || notok "row of run 2"
grep -qE '^\| [0-9-]+ [0-9:]+ \| 2 \| after \| main \| complete \| alt \| 79\.2% \[' "$TMP/h.md" && ok "run 2's second candidate" || notok "row of alt"
grep -qE '^\| [0-9-]+ [0-9:]+ \| 3 \| stopped \| – \| interrupted ⚠ \| router \|' "$TMP/h.md" && ok "the interrupted run is listed and marked" || notok "interrupted run"
sed -n '/^## Load tests/,$p' "$TMP/h.md" | grep -qE '^\| [0-9-]+ [0-9:]+ \| 5 \| loaded \| – \| complete \| load test \| router \|' \
    && ok "the load test is listed apart" || notok "load test section"
grep -qE '^\| [^|]+ \| 5 \| loaded \|.*%' "$TMP/h.md" && notok "the load test is in a trend" || ok "the load test is in no trend"
# Newest last within a group.
[ "$(grep -E '^\| [0-9-]+ [0-9:]+ \| [123] \|' "$TMP/h.md" | awk -F' \\| ' '{print $2}' | tr '\n' ' ')" = "1 2 2 3 " ] \
    && ok "oldest first" || notok "order of the rows"

# The cells are the report's: the same accuracy and ECE with intervals, digit for digit.
for run in before after; do
    "$SLMBENCH" report "$run" --db "$TMP/h.db" > "$TMP/rep.md"
    cells=$(grep -E "^\| [^|]+ \| [0-9]+ \| $run \|.* router \|" "$TMP/h.md" | awk -F' \\| ' '{print $7; print $8}')
    miss=0
    while IFS= read -r c; do grep -qF -- "| $c |" "$TMP/rep.md" || { miss=1; echo "# not in the report: $c"; }; done <<EOF
$cells
EOF
    [ $miss = 0 ] && [ -n "$cells" ] && ok "run $run: accuracy and ECE cells as in its report" || notok "run $run: cells differ from the report"
done

# JSON: every value as `report --json` has it (12 significant digits there); the marks.
expect_exit 0 "history --json" "$SLMBENCH" history --db "$TMP/h.db" --json
cp "$TMP/out" "$TMP/h.json"
if command -v python3 >/dev/null 2>&1; then
    for id in 1 2 4; do "$SLMBENCH" report "$id" --db "$TMP/h.db" --json > "$TMP/r$id.json"; done
    python3 - "$TMP/h.json" "$TMP"/r1.json "$TMP"/r2.json "$TMP"/r4.json <<'PY' && ok "JSON values equal report --json's; accuracies 19/24, 16/24" || notok "JSON against report --json"
import json, sys
h = json.load(open(sys.argv[1]))
runs = {r["id"]: r for e in h["evalsets"] for r in e["runs"]}
assert len(h["evalsets"]) == 2 and sorted(runs) == [1, 2, 3, 4], sorted(runs)
for p in sys.argv[2:]:
    rep = json.load(open(p))["runs"][0]
    for c in rep["candidates"]:
        hc = [x for x in runs[rep["run_id"]]["candidates"] if x["name"] == c["name"]][0]
        for m in ("accuracy", "ece_15", "e2e_ms_p95"):
            a, b = hc[m]["value"], c["metrics"].get(m)
            assert (a is None and b is None) or abs(a - b) <= 1e-11 * max(1, abs(b)), (m, a, b)
acc = lambda i, n: [x for x in runs[i]["candidates"] if x["name"] == n][0]["accuracy"]["value"]
assert acc(1, "router") == 19 / 24 and acc(2, "router") == 16 / 24 and acc(2, "alt") == 19 / 24
assert runs[3]["status"] == "interrupted" and not runs[3]["candidates"][0]["plotted"]
assert runs[1]["candidates"][0]["plotted"] and runs[2]["tags"] == "main"
assert [r["id"] for r in h["other_runs"]] == [5] and h["other_runs"][0]["mode"] == "load"
PY
else
    skip "JSON against report --json (no python3)"
fi

# CSV: one row per run and candidate of the trends (runs 1, 2 twice, 3, 4).
expect_exit 0 "history --format csv" "$SLMBENCH" history --db "$TMP/h.db" --format csv
[ "$(wc -l < "$TMP/out")" = 6 ] && ok "CSV: a header and 5 rows" || notok "CSV rows: $(wc -l < "$TMP/out")"
grep -qE '^tiny,1,[0-9a-f]{64},2,after,main,complete,[0-9TZ:-]+,router,ok,0\.6666666666666666[0-9]*,' "$TMP/out" \
    && ok "CSV: run 2's router at 16/24 to the last digit" || notok "CSV row of run 2"

# Filters, and what they say when they name nothing.
expect_exit 0 "--candidate alt" "$SLMBENCH" history --db "$TMP/h.db" --candidate alt --format csv
[ "$(wc -l < "$TMP/out")" = 2 ] && grep -q ',alt,ok,' "$TMP/out" && ok "only alt's row" || notok "--candidate alt"
expect_exit 3 "--candidate nobody has" "$SLMBENCH" history --db "$TMP/h.db" --candidate nosuch
expect_err "no run has a candidate 'nosuch' \(candidates: router, alt\)" "names the candidates there are"
expect_exit 3 "--evalset nobody has" "$SLMBENCH" history --db "$TMP/h.db" --evalset nosuch
expect_err "no run of eval set 'nosuch' in the database \(eval sets: tiny\)" "names the eval sets there are"
expect_exit 2 "an unknown format" "$SLMBENCH" history --db "$TMP/h.db" --format pdf
expect_exit 3 "a database that is not there" "$SLMBENCH" history --db "$TMP/none.db"

# --out: the four files and the trend plots; the plotted points are the complete runs'.
expect_exit 0 "history --out" "$SLMBENCH" history --db "$TMP/h.db" --out "$TMP/ho"
for f in history.md history.html history.json history.csv; do [ -s "$TMP/ho/$f" ] && ok "$f written" || notok "$f missing"; done
dat="$TMP/ho/plots/history_1_accuracy.dat"
if [ -s "$dat" ]; then
    grep -v '^#' "$dat" | awk 'NF' | awk '{print $1, $2, $5, $6}' > "$TMP/points"
    printf '0 79.16666667 1 "router"\n1 66.66666667 2 "router"\n1 79.16666667 2 "alt"\n' > "$TMP/want"
    cmp -s "$TMP/points" "$TMP/want" && ok "trend data: the complete runs' accuracies, run 3 left out" \
        || { notok "trend data"; sed 's/^/#   /' "$TMP/points"; }
else
    notok "no trend data file"
fi
if command -v gnuplot >/dev/null 2>&1; then
    n=$(ls "$TMP/ho/plots/"history_*.svg 2>/dev/null | wc -l)
    [ "$n" = 6 ] && ok "6 trend plots (2 data sets x 3 metrics)" || notok "$n trend plots"
    grep -q '!\[Accuracy of each candidate .*\](plots/history_1_accuracy.svg)' "$TMP/ho/history.md" && ok "the Markdown links the plots" || notok "no plot link in the Markdown"
    nimg=$(grep -o '<img[^>]*src="data:image/svg+xml;base64,' "$TMP/ho/history.html" | wc -l)
    [ "$nimg" = 6 ] && ok "the HTML embeds the 6 plots" || notok "$nimg plots embedded"
else
    grep -q 'not drawn' "$TMP/ho/history.html" && ok "without gnuplot the page says why" || notok "no note without gnuplot"
fi
expect_exit 0 "history --format html to stdout" "$SLMBENCH" history --db "$TMP/h.db" --format html
cmp -s "$TMP/out" "$TMP/ho/history.html" && ok "the same page with the plots drawn in a temporary folder" || notok "stdout page differs from --out's"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then skip "browser check (chromium not installed)"; exit 0; fi
timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$TMP/chrome" --enable-logging=stderr --v=0 --window-size=1280,2400 \
    --virtual-time-budget=3000 --screenshot="$TMP/shot.png" "file://$TMP/ho/history.html" \
    >"$TMP/chrome.out" 2>"$TMP/chrome.err" || true
[ -s "$TMP/shot.png" ] && ok "screenshot taken" || notok "no screenshot"
if grep -E 'CONSOLE|Uncaught|Refused to' "$TMP/chrome.err" | grep -v 'DevTools' >"$TMP/console"; then
    notok "console errors: $(head -c 300 "$TMP/console")"
else
    ok "no console errors"
fi
[ -n "${SLM_KEEP_SCREENSHOT:-}" ] && cp "$TMP/shot.png" "$SLM_KEEP_SCREENSHOT"
true
