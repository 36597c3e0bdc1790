# slmbench diff: two replayed runs whose changed examples are known by construction —
# counts, net change against `report --json`, McNemar's p recomputed here, the by-class
# table, the CSV row for row; the same run twice; a missing candidate; runs on different
# eval-set data (ids left out, warned); long and hostile texts cut and escaped; the HTML
# page in headless Chromium.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"

# replay FILE P CHANGES...: a replay file answering the gold label of every example of the
# fixture, except "id=label" in CHANGES; the answer has probability P, the two others
# (1 - P)/2 (P = 0.5 and 0.75 are exact in binary, so are the stored confidences).
replay() {
    f=$1 p=$2; shift 2
    awk -F, -v p="$p" -v ch="$*" '
        BEGIN { n = split(ch, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); c[kv[1]] = kv[2] }
                q = (1 - p) / 2; print "id,pred,p_billing,p_shipping,p_technical" }
        NR > 1 { pr = ($1 in c) ? c[$1] : $NF
                 printf "%s,%s,%s,%s,%s\n", $1, pr, pr == "billing" ? p : q, pr == "shipping" ? p : q, pr == "technical" ? p : q }' \
        "$FX/test.csv" > "$f"
}
# Before: te01 te02 te03 te08 te12 wrong. After: te01 fixed; te02, te08, te12 the same
# wrong answer; te03 another wrong answer; te10, te15, te19, te22 broken.
replay "$TMP/a.csv" 0.5 te01=shipping te02=shipping te03=technical te08=billing te12=technical
replay "$TMP/b.csv" 0.75 te02=shipping te03=shipping te08=billing te12=technical \
    te10=technical te15=billing te19=billing te22=shipping
mk() { # name evalset replay-file
    printf 'name: %s\nevalset: %s\nwarmup: 0\nbootstrap: 100\nbandwidth: false\ncandidates:\n  - {name: router, engine: replay, model: %s}\n' \
        "$1" "$2" "$3" > "$TMP/$1.yaml"
    "$SLMBENCH" run "$TMP/$1.yaml" --db "$TMP/d.db" --quiet >/dev/null
}
mk before "$FX" a.csv
mk after "$FX" b.csv

expect_exit 0 "diff of two runs" "$SLMBENCH" diff before after --db "$TMP/d.db"
cp "$TMP/out" "$TMP/diff.md"
for row in '| fixed (wrong → right) | 1 |' '| broken (right → wrong) | 4 |' \
    '| changed, still wrong | 1 |' '| unchanged | 18 |' '| **net** (fixed − broken) | -3 (-12.5 points of accuracy) |'; do
    grep -qF -- "$row" "$TMP/diff.md" && ok "count row: $row" || notok "count row missing: $row"
done
for row in '| billing | 1 | 0 | 1 | +1 |' '| shipping | 0 | 1 | 0 | -1 |' '| technical | 0 | 3 | 0 | -3 |'; do
    grep -qF -- "$row" "$TMP/diff.md" && ok "by class: $row" || notok "by-class row missing: $row"
done
[ "$(grep -c '^| billing | \|^| shipping | \|^| technical | ' "$TMP/diff.md")" = 3 ] \
    && ok "by class: only the classes with changes" || notok "by-class rows"
# The examples: broken first, then fixed, then changed, each in example order.
got=$(grep -E '^\| (broken|fixed|changed) \|' "$TMP/diff.md" | awk -F' \\| ' '{print $1" "$2}' | tr -d '|' | tr '\n' ' ')
[ "$got" = " broken te10  broken te15  broken te19  broken te22  fixed te01  changed te03 " ] \
    && ok "changed examples listed, broken first" || notok "example order: $got"
grep -qF '| broken | te22 | technical | technical | shipping | 0.500 | 0.750 | the app freezes, then crashes |' "$TMP/diff.md" \
    && ok "an example row: answers, confidences, text" || notok "example row of te22"

# The net change is the accuracy difference `report --json` gives; McNemar's exact p on
# b = 4 broken, c = 1 fixed is 2 (C(5,0) + C(5,1)) / 2^5 = 0.375.
"$SLMBENCH" report before --db "$TMP/d.db" --json > "$TMP/ra.json"
"$SLMBENCH" report after --db "$TMP/d.db" --json > "$TMP/rb.json"
if command -v python3 >/dev/null 2>&1; then
    python3 - "$TMP/ra.json" "$TMP/rb.json" <<'PY' && ok "net change = 24 x (accuracy after - before) from report --json" || notok "net change against report --json"
import json, sys
def acc(p):
    d = json.load(open(p))
    runs = d["runs"] if "runs" in d else [d]
    for r in runs:
        for c in r["candidates"]:
            if c["name"] == "router":
                return c["metrics"]["accuracy"]["value"] if isinstance(c["metrics"]["accuracy"], dict) else c["metrics"]["accuracy"]
    raise SystemExit("no accuracy")
a, b = acc(sys.argv[1]), acc(sys.argv[2])
assert round((b - a) * 24) == -3, (a, b)
PY
    python3 -c 'import math; p = min(1, 2 * sum(math.comb(5, k) for k in range(2)) / 2**5); print("p = %.4g" % p)' > "$TMP/p"
    grep -qF "discordant pairs (fixed against broken): $(cat "$TMP/p") (exact binomial)" "$TMP/diff.md" \
        && ok "McNemar's exact p as recomputed ($(cat "$TMP/p"))" || notok "McNemar p: want $(cat "$TMP/p")"
else
    skip "net change and McNemar against an independent computation (no python3)"
fi

# CSV: one row per changed example, in example order, texts whole and quoted. The
# confidences are the stored ones to the last digit (0.75 comes back from the log-probs as
# 0.7499999999999999): compared here to 12 decimals.
round_csv() { awk -F, 'BEGIN { OFS = "," } NR > 1 { $6 = sprintf("%.12f", $6); $7 = sprintf("%.12f", $7) } { print }' "$1"; }
expect_exit 0 "diff --format csv" "$SLMBENCH" diff before after --db "$TMP/d.db" --format csv
round_csv "$TMP/out" > "$TMP/got.csv"
cat > "$TMP/want.csv" <<'CSV'
id,gold,change,before,after,confidence_before,confidence_after,text
te01,billing,fixed,shipping,billing,0.500000000000,0.750000000000,charged twice for one order
te03,billing,changed,technical,shipping,0.500000000000,0.750000000000,the card was charged but payment failed
te10,shipping,broken,shipping,technical,0.500000000000,0.750000000000,courier lost my parcel
te15,technical,broken,technical,billing,0.500000000000,0.750000000000,the app crashes after the update
te19,technical,broken,technical,billing,0.500000000000,0.750000000000,sync is broken again
te22,technical,broken,technical,shipping,0.500000000000,0.750000000000,"the app freezes, then crashes"
CSV
if cmp -s "$TMP/want.csv" "$TMP/got.csv"; then ok "CSV rows exactly as constructed"; else
    notok "CSV differs"; diff "$TMP/want.csv" "$TMP/got.csv" | sed 's/^/#   /' | head -n 20; fi

# --limit: the counts stay, the list is cut and says so.
expect_exit 0 "diff --limit 2" "$SLMBENCH" diff before after --db "$TMP/d.db" --limit 2
[ "$(grep -cE '^\| (broken|fixed|changed) \|' "$TMP/out")" = 2 ] && grep -qF '4 more changed examples not listed' "$TMP/out" \
    && grep -qF '| broken (right → wrong) | 4 |' "$TMP/out" && ok "--limit lists 2 and says 4 more" || notok "--limit"

# RUN:NAME, the same run twice, candidates that do not exist.
expect_exit 0 "the same run twice" "$SLMBENCH" diff after after:router --db "$TMP/d.db"
expect_out '\*\*No changes\*\*: all 24 paired examples have the same prediction' "says no changes"
grep -q '^## Changed examples' "$TMP/out" && notok "no-change output lists examples" || ok "no example list without changes"
expect_exit 0 "the same run twice as CSV" "$SLMBENCH" diff after after --db "$TMP/d.db" --format csv
[ "$(wc -l < "$TMP/out")" = 1 ] && ok "CSV: the header only" || notok "CSV of no changes"
expect_exit 3 "a candidate the run lacks" "$SLMBENCH" diff before:nosuch after --db "$TMP/d.db"
expect_err "run 1 has no candidate 'nosuch' \(it has: router\)" "the error names the candidates there are"
expect_exit 3 "--candidate the runs lack" "$SLMBENCH" diff before after --candidate other --db "$TMP/d.db"
expect_err "it has: router" "names them again"
expect_exit 3 "an unknown run" "$SLMBENCH" diff before nosuchrun --db "$TMP/d.db"
expect_err "no run 'nosuchrun'" "names the run"
expect_exit 2 "one run only" "$SLMBENCH" diff before --db "$TMP/d.db"
expect_exit 2 "an unknown format" "$SLMBENCH" diff before after --format pdf --db "$TMP/d.db"

# Different data: a copy of the eval set without te23 and te24, te01's text long and
# hostile. Compared on the 22 ids both have; 2 left out, warned; the text read from run
# B's file, cut at 160 characters, escaped.
mkdir "$TMP/tiny2"
cp "$FX/evalset.yaml" "$FX/prompt.txt" "$FX/train.csv" "$FX/calibration.csv" "$TMP/tiny2/"
long=$(printf 'x%.0s' $(seq 150))
awk -F, -v long="$long" 'NR == 2 { print "te01,<b>bold</b> a | pipe " long " TAIL,billing"; next }
    $1 != "te23" && $1 != "te24"' "$FX/test.csv" > "$TMP/tiny2/test.csv"
mk other-data "$TMP/tiny2" b.csv
expect_exit 0 "diff across different data" "$SLMBENCH" diff before other-data --db "$TMP/d.db"
expect_err "warning: runs 1 and 3 were made on different eval-set data .*compared on the 22 example ids both have" "warns that the data differ"
expect_err "warning: 2 examples left out: 2 only in run 1, 0 only in run 3" "says how many were left out"
expect_out "⚠ 2 examples left out" "the page says it too"
expect_out '^\| unchanged \| 16 \|' "counts over the 22 pairs (te23, te24 unchanged before)"
line=$(grep '| fixed | te01 |' "$TMP/out" || true)
case "$line" in
    *'&lt;b&gt;bold&lt;/b&gt; a \| pipe xxx'*'xxx… |') ok "long text cut with …, markup and pipe escaped" ;;
    *) notok "te01's text: $line" ;;
esac
case "$line" in *TAIL*) notok "the text is not cut" ;; *) ok "the end of a long text is left out" ;; esac
expect_exit 0 "CSV across different data" "$SLMBENCH" diff before other-data --db "$TMP/d.db" --format csv
grep -q 'xxx TAIL$' "$TMP/out" && ok "the CSV has the whole text" || notok "CSV text cut"

# A failed engine call counts as a wrong answer (as in the accuracy): te05 is missing
# from the replay file, so its call fails (the run exits 4) and te05 is broken.
grep -v '^te05,' "$TMP/a.csv" > "$TMP/e.csv"
printf 'name: errs\nevalset: %s\nwarmup: 0\nbootstrap: 100\nbandwidth: false\ncandidates:\n  - {name: router, engine: replay, model: e.csv}\n' \
    "$FX" > "$TMP/errs.yaml"
expect_exit 4 "a run with a failed engine call" "$SLMBENCH" run "$TMP/errs.yaml" --db "$TMP/d.db" --quiet
expect_exit 0 "diff against it" "$SLMBENCH" diff before errs --db "$TMP/d.db"
grep -qF '| broken | te05 | billing | billing | (engine error) | 0.500 | – | subscription fee is wrong on the statement |' "$TMP/out" \
    && grep -qF '| broken (right → wrong) | 1 |' "$TMP/out" && grep -qF '| unchanged | 23 |' "$TMP/out" \
    && ok "the failed call is a broken example, shown as (engine error)" || notok "engine error in the diff"
expect_exit 0 "its CSV" "$SLMBENCH" diff before errs --db "$TMP/d.db" --format csv
[ "$(sed -n 2p "$TMP/out")" = "te05,billing,broken,billing,,0.5,,subscription fee is wrong on the statement" ] \
    && [ "$(wc -l < "$TMP/out")" = 2 ] && ok "CSV: the failed answer and its confidence are empty cells" || notok "CSV of the engine error: $(sed -n 2p "$TMP/out")"

# --out: the three files; the HTML in headless Chromium.
expect_exit 0 "diff --out" "$SLMBENCH" diff before after --db "$TMP/d.db" --out "$TMP/dd"
for f in diff.md diff.html diff.csv; do [ -s "$TMP/dd/$f" ] && ok "$f written" || notok "$f missing"; done
round_csv "$TMP/dd/diff.csv" | cmp -s - "$TMP/want.csv" && ok "--out's CSV is the same" || notok "--out's CSV differs"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then skip "browser check (chromium not installed)"; exit 0; fi
"$SLMBENCH" diff before other-data --db "$TMP/d.db" --format html > "$TMP/dd/hostile.html" 2>/dev/null
for page in diff hostile; do
    timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$TMP/chrome-$page" --enable-logging=stderr --v=0 --window-size=1280,1600 \
        --virtual-time-budget=3000 --screenshot="$TMP/$page.png" "file://$TMP/dd/$page.html" \
        >"$TMP/chrome.out" 2>"$TMP/chrome.err" || true
    [ -s "$TMP/$page.png" ] && ok "$page.html: screenshot taken" || notok "$page.html: no screenshot"
    if grep -E 'CONSOLE|Uncaught|Refused to' "$TMP/chrome.err" | grep -v 'DevTools' >"$TMP/console"; then
        notok "$page.html: console errors: $(head -c 300 "$TMP/console")"
    else
        ok "$page.html: no console errors"
    fi
done
grep -q '<b>bold' "$TMP/dd/hostile.html" && notok "markup in a text gets through" || ok "HTML escapes the texts"
