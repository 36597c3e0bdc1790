# Reports people look at: escaping of hostile model output, the folder written by --out,
# plots (or the note without gnuplot), and the page in headless Chromium.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"

# A replayed model that answers with markup.
awk -F, 'NR==1{print "id,label,pred,confidence,latency_ms"; next}
         {p=$NF; if (NR==3) p="\"<script>alert(1)</script>\""; if (NR==4) p="\"\"\"><img src=x onerror=alert(2)>\""; print $1","$NF","p",0.9,1"}' \
    "$FX/test.csv" > "$TMP/evil.csv"
cat >"$TMP/evil.yaml" <<YAML
name: evil <b>run</b>
evalset: $FX
mode: generate
warmup: 0
bandwidth: false
candidates:
  - {name: "m<i>x", engine: replay, model: evil.csv}
YAML
expect_exit 0 "run with hostile outputs" "$SLMBENCH" run "$TMP/evil.yaml" --db "$TMP/e.db" --quiet
expect_exit 0 "report --out" "$SLMBENCH" report last --db "$TMP/e.db" --out "$TMP/rep"
for f in report.md report.html report.json; do
    [ -s "$TMP/rep/$f" ] && ok "$f written" || notok "$f missing"
done
for f in report.md report.html; do
    if [ ! -s "$TMP/rep/$f" ] || grep -q '<script>alert' "$TMP/rep/$f" || grep -q '<img src=x' "$TMP/rep/$f" || grep -q '<b>run' "$TMP/rep/$f" || grep -q '<i>x' "$TMP/rep/$f"; then
        notok "$f lets markup through"
    else
        ok "$f escapes model output and names"
    fi
done
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$TMP/rep/report.html" && ok "the hostile answer is shown as text" || notok "hostile answer not shown"
n_script=$(grep -o '<script' "$TMP/rep/report.html" | wc -l)
[ "$n_script" = 1 ] && ok "only the page's own script" || notok "$n_script script tags"
grep -q 'Content-Security-Policy' "$TMP/rep/report.html" && ok "page forbids network access (CSP)" || notok "no CSP"
grep -Eq '(src|href)="https?:' "$TMP/rep/report.html" && notok "page loads something from the network" || ok "nothing loaded from the network"
# the files report.html links to are the ones written beside it
links=$(grep -o '<p class="files">.*</p>' "$TMP/rep/report.html" | grep -o 'href="[^"]*"' | sed 's/href="//; s/"$//')
missing=
for l in $links; do [ -s "$TMP/rep/$l" ] || missing="$missing $l"; done
[ -n "$links" ] && [ -z "$missing" ] && ok "report.html links the files beside it: $(echo $links)" \
    || notok "report.html's links: '$links', missing:$missing"

# Plots: each as SVG and PNG with its data file, or a clear note without gnuplot.
if command -v gnuplot >/dev/null 2>&1; then
    for p in accuracy_latency reliability latency_cdf per_class_f1 risk_coverage; do
        [ -s "$TMP/rep/plots/$p.svg" ] && [ -s "$TMP/rep/plots/$p.png" ] && [ -s "$TMP/rep/plots/$p.dat" ] \
            && ok "plot $p: svg, png and data" || notok "plot $p missing"
    done
    head -c 8 "$TMP/rep/plots/accuracy_latency.png" | od -An -c | grep -q 'P   N   G' && ok "PNG signature" || notok "not a PNG"
    grep -Eq 'data:image/(svg\+xml|png);base64,' "$TMP/rep/report.html" && ok "plots embedded in the page" || notok "plots not embedded"
else
    skip "plots (gnuplot not installed)"
fi
SLM_GNUPLOT=/nonexistent/gnuplot expect_exit 0 "report without gnuplot" "$SLMBENCH" report last --db "$TMP/e.db" --out "$TMP/rep2"
[ -s "$TMP/rep2/report.html" ] && [ -s "$TMP/rep2/report.md" ] && ok "report still written without gnuplot" || notok "no report without gnuplot"
grep -q 'gnuplot-nox' "$TMP/rep2/report.md" && ok "the report says how to get plots" || notok "no note about gnuplot"
ls "$TMP/rep2/plots/"*.svg >/dev/null 2>&1 && notok "half-written plots left" || ok "no half-written plots left"

# Golden Markdown: a report of a fixed database, compared byte for byte.
sqlite3 "$TMP/g.db" < "$ROOT/tests/fixtures/report/golden.sql"
LC_NUMERIC=de_DE.UTF-8 "$SLMBENCH" report 1 --db "$TMP/g.db" > "$TMP/golden.md" 2>"$TMP/err"
if cmp -s "$TMP/golden.md" "$ROOT/tests/fixtures/report/golden.md"; then ok "Markdown report matches the golden file"
else notok "Markdown report differs from tests/fixtures/report/golden.md"; diff "$TMP/golden.md" "$ROOT/tests/fixtures/report/golden.md" | head -20 | sed 's/^/#   /'; fi

# The page as a person sees it: headless Chromium, a screenshot, no console errors, images.
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then skip "browser check (chromium not installed; .ci/run installs it)"; exit 0; fi
"$SLMBENCH" report last --db "$TMP/e.db" --out "$TMP/rep" 2>/dev/null
timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$TMP/chrome" --enable-logging=stderr --v=0 --window-size=1280,2400 \
    --virtual-time-budget=3000 --screenshot="$TMP/shot.png" "file://$TMP/rep/report.html" \
    >"$TMP/chrome.out" 2>"$TMP/chrome.err" || true
[ -s "$TMP/shot.png" ] && ok "screenshot taken" || notok "no screenshot"
if grep -E 'CONSOLE|Uncaught|Refused to' "$TMP/chrome.err" | grep -v 'DevTools' >"$TMP/console"; then
    notok "console errors: $(head -c 300 "$TMP/console")"
else
    ok "no console errors"
fi
timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$TMP/chrome2" --virtual-time-budget=3000 --dump-dom "file://$TMP/rep/report.html" \
    >"$TMP/dom.html" 2>/dev/null || true
nimg=$(grep -Eo '<img[^>]*src="data:image/(svg\+xml|png);base64,[A-Za-z0-9+/=]{200,}"' "$TMP/dom.html" | wc -l)
nall=$(grep -o '<img' "$TMP/dom.html" | wc -l)
[ "$nimg" -ge 5 ] && [ "$nimg" = "$nall" ] && ok "$nimg images, none missing or empty" || notok "images: $nimg with data of $nall"
grep -q 'sorted-' "$ROOT/reports/report_html.c" && grep -q '<table class="sortable"' "$TMP/dom.html" && ok "tables are sortable" || notok "no sortable tables"
[ -n "${SLM_KEEP_SCREENSHOT:-}" ] && cp "$TMP/shot.png" "$SLM_KEEP_SCREENSHOT"
exit 0
