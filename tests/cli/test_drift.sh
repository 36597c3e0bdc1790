# `slmbench drift` on a six-month history made with the replay engine: runs dated
# 2026-06-15 ... 2026-11-15 by rewriting runs.created_at. Two models: alpha is stable for
# four months, clearly worse in October and back in November; beta keeps its accuracy but
# its p95 latency (set in the metrics table) jumps by 60% in October and comes back in
# November. The eval set changes version in September (fewer shipping, more technical
# examples). A superseded earlier run in August and a failed run in July must be ignored.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
DB="$TMP/d.db"

# v2 of the eval set: te09, te11-te14 (shipping) out, five technical examples in.
mkdir "$TMP/v2"
cp "$FX/prompt.txt" "$FX/train.csv" "$FX/calibration.csv" "$TMP/v2/"
sed 's/^version: 1$/version: 2/' "$FX/evalset.yaml" >"$TMP/v2/evalset.yaml"
grep -v -E '^te(09|11|12|13|14),' "$FX/test.csv" >"$TMP/v2/test.csv"
cat >>"$TMP/v2/test.csv" <<'CSV'
te25,the login page shows an error,technical
te26,the app will not open,technical
te27,upload fails with a timeout,technical
te28,the screen flickers after the update,technical
te29,password reset link is broken,technical
CSV

# preds OUT IDS...: replay file answering every example of both versions with its gold
# label, except the listed ids (answered with another label); p = 0.8 for the answer.
preds() {
    out=$1; shift
    cat "$FX/test.csv" "$TMP/v2/test.csv" | awk -F, -v wrong=" $* " '
        BEGIN { print "id,pred,p_billing,p_shipping,p_technical" }
        $1 == "id" || seen[$1]++ { next }
        {
            gold = $NF; pred = gold
            if (index(wrong, " " $1 " "))
                pred = gold == "billing" ? "shipping" : gold == "shipping" ? "technical" : "billing"
            printf "%s,%s,%s,%s,%s\n", $1, pred, pred == "billing" ? 0.8 : 0.1,
                   pred == "shipping" ? 0.8 : 0.1, pred == "technical" ? 0.8 : 0.1
        }' >"$out"
}
preds "$TMP/good.csv" te01 te10 te20
preds "$TMP/bad.csv" te01 te02 te03 te04 te05 te06 te07 te08 te10 te15 te16 te17
preds "$TMP/beta.csv" te02 te16

# month DATE EVALSET ALPHA_PREDS BETA_P95 [STATUS]: one run of both models dated DATE.
month() {
    cat >"$TMP/run.yaml" <<YAML
name: monthly
evalset: $2
warmup: 0
bootstrap: 500
candidates:
  - {name: alpha, engine: replay, model: $3}
  - {name: beta, engine: replay, model: $TMP/beta.csv}
YAML
    "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet >/dev/null 2>"$TMP/run.err" ||
        { notok "run for $1 failed"; sed 's/^/#   /' "$TMP/run.err"; }
    id=$(sql "$DB" "select max(id) from runs")
    sql "$DB" "update runs set created_at = '${1}T12:00:00Z', status = '${5:-complete}' where id = $id;
        update metrics set value = 20 where run_id = $id and name = 'e2e_ms_p50';
        update metrics set value = 50 where run_id = $id and name = 'e2e_ms_p95';
        update metrics set value = $4 where run_id = $id and name = 'e2e_ms_p95'
          and candidate_id = (select id from candidates where run_id = $id and name = 'beta')"
}
month 2026-06-15 "$FX" "$TMP/good.csv" 50
month 2026-07-15 "$FX" "$TMP/good.csv" 52
month 2026-07-20 "$FX" "$TMP/bad.csv" 50 failed
month 2026-08-02 "$FX" "$TMP/bad.csv" 50
month 2026-08-15 "$FX" "$TMP/good.csv" 55
month 2026-09-15 "$TMP/v2" "$TMP/good.csv" 50
month 2026-10-15 "$TMP/v2" "$TMP/bad.csv" 80
month 2026-11-15 "$TMP/v2" "$TMP/good.csv" 50
n=$(sql "$DB" "select count(*) from runs")
[ "$n" = 8 ] && ok "eight dated runs injected" || notok "runs: $n"

# q SQL: a query on the JSON review in $TMP/out (sqlite's JSON functions).
q() { sql :memory: "$(printf "%s" "$1" | sed "s#@J#readfile('$TMP/out')#g")"; }

expect_exit 0 "drift --format json" "$SLMBENCH" drift --month 2026-11 --db "$DB" --format json
first=$(q "select json_extract(@J, '\$.from') || ' ' || json_extract(@J, '\$.to')")
[ "$first" = "2026-06 2026-11" ] && ok "--month gives the six months ending there" || notok "window $first"
got=$(q "select group_concat(k, ' ') from (select distinct json_extract(value, '\$.model') || ':' ||
         json_extract(value, '\$.month') as k from json_each(@J, '\$.flags') order by k)")
want="alpha:2026-10 alpha:2026-11 beta:2026-10 beta:2026-11"
[ "$got" = "$want" ] && ok "exactly the expected months are flagged ($got)" || notok "flagged: '$got', want '$want'"
got=$(q "select group_concat(json_extract(value, '\$.month') || ':' || json_extract(value, '\$.direction'), ' ')
         from json_each(@J, '\$.flags') where json_extract(value, '\$.model') = 'alpha'
         and json_extract(value, '\$.metric') = 'accuracy'")
[ "$got" = "2026-10:worse 2026-11:better" ] && ok "alpha's accuracy: drop in October, recovery in November" \
    || notok "alpha accuracy flags: $got"
got=$(q "select group_concat(distinct json_extract(value, '\$.metric')) from json_each(@J, '\$.flags')
         where json_extract(value, '\$.model') = 'beta'")
[ "$got" = "e2e_ms_p95" ] && ok "beta flagged for latency only (+60%, then back)" || notok "beta flags: $got"
# the month's value is the latest complete run: August's early bad run and July's failed one are ignored
got=$(q "select group_concat(json_extract(value, '\$.metrics.accuracy.value'), ' ') from json_each(
         json_extract(@J, '\$.series[0].months'))")
[ "$got" = "0.875 0.875 0.875 0.875 0.5 0.875" ] && ok "alpha's monthly accuracy uses the latest complete run" \
    || notok "alpha accuracy by month: $got"
got=$(q "select json_extract(@J, '\$.series[0].months[0].metrics.accuracy.lo') < 0.875 and
                json_extract(@J, '\$.series[0].months[0].metrics.accuracy.hi') >= 0.875")
[ "$got" = 1 ] && ok "confidence band reported" || notok "accuracy band: $got"
# label-distribution drift: 8/7/9 -> 8/2/14 of 24; TVD = 5/24; chi-square 3.8647 on 2 df, p = exp(-x/2)
got=$(q "select count(*) || ' ' || json_extract(value, '\$.from') || ' ' || json_extract(value, '\$.to') || ' ' ||
         round(json_extract(value, '\$.tvd'), 4) || ' ' || json_extract(value, '\$.df') || ' ' ||
         round(json_extract(value, '\$.chi2'), 4) || ' ' || round(json_extract(value, '\$.p_value'), 4)
         from json_each(@J, '\$.label_drift')")
[ "$got" = "1 2026-08 2026-09 0.2083 2 3.8647 0.1448" ] && ok "TVD and chi-square p-value of the version change ($got)" \
    || notok "label drift: $got"
got=$(q "select count(*) from json_each(@J, '\$.per_class_shifts') where json_extract(value, '\$.model') = 'alpha'
         and json_extract(value, '\$.to') = '2026-10'")
[ "$got" -gt 0 ] && ok "per-class shifts listed for the bad month ($got)" || notok "no per-class shifts in October"

expect_exit 0 "drift markdown to stdout" "$SLMBENCH" drift --month 2026-11 --db "$DB"
expect_out '^# Drift review 2026-06 to 2026-11' "markdown title"
expect_out '^\| 2026-10 \| [0-9]+ \| \*\*50%\*\* .*FLAGGED \(worse\)' "markdown marks October as flagged"
if grep -E '^\| 2026-0[6-9] \|' "$TMP/out" | grep -q FLAGGED; then notok "a stable month is flagged"; else
    ok "the stable months are not flagged"; fi
expect_out 'TVD' "markdown has the label-drift table"
expect_out '^\| tiny \| 2026-08 \(run [0-9]+\) \| 2026-09 \(run [0-9]+\) \| 1 → 2 \|.* \| 0\.2083 \| 3\.865 \| 2 \| 0\.1448' \
    "markdown reports TVD and p-value"
expect_out 'model file changed' "model sha change annotated"

expect_exit 0 "stable window" "$SLMBENCH" drift --from 2026-06 --to 2026-09 --db "$DB" --fail-on-drift
expect_out 'No change flagged' "no change flagged in the stable months"
expect_exit 1 "--fail-on-drift fails on a flagged change" "$SLMBENCH" drift --month 2026-11 --db "$DB" --fail-on-drift
expect_exit 0 "--metrics accuracy" "$SLMBENCH" drift --month 2026-11 --db "$DB" --metrics accuracy --format json
got=$(q "select group_concat(distinct json_extract(value, '\$.model')) from json_each(@J, '\$.flags')")
[ "$got" = alpha ] && ok "--metrics limits the review" || notok "--metrics accuracy flags: $got"

# bad input and usage
expect_exit 3 "bad month" "$SLMBENCH" drift --month 2026-13 --db "$DB"
expect_err "bad month '2026-13'" "bad month named"
expect_exit 3 "bad month format" "$SLMBENCH" drift --month 26-11 --db "$DB"
expect_exit 3 "reversed window" "$SLMBENCH" drift --from 2026-11 --to 2026-06 --db "$DB"
expect_exit 3 "missing database" "$SLMBENCH" drift --month 2026-11 --db "$TMP/none.db"
expect_exit 2 "--month with --from" "$SLMBENCH" drift --month 2026-11 --from 2026-01 --to 2026-02 --db "$DB"
expect_exit 2 "--from without --to" "$SLMBENCH" drift --from 2026-01 --db "$DB"
expect_exit 2 "unknown metric" "$SLMBENCH" drift --metrics accuracy,nope --db "$DB"
expect_exit 2 "unknown option" "$SLMBENCH" drift --bogus --db "$DB"
expect_exit 0 "empty window" "$SLMBENCH" drift --month 2020-01 --db "$DB"
expect_out 'No complete run in the window' "empty window said"

# files, charts and the HTML page
expect_exit 0 "drift --out" "$SLMBENCH" drift --month 2026-11 --db "$DB" --out "$TMP/rep"
for f in drift.md drift.html drift.json plots/drift_accuracy.dat plots/drift_e2e_ms_p95.gp; do
    [ -s "$TMP/rep/$f" ] && ok "$f written" || notok "$f missing"
done
grep -q '<table' "$TMP/rep/drift.html" && ! grep -q 'src="http' "$TMP/rep/drift.html" \
    && ok "drift.html is a self-contained page" || notok "drift.html"
if command -v gnuplot >/dev/null 2>&1; then
    for m in accuracy macro_f1 ece_15 e2e_ms_p95; do
        [ -s "$TMP/rep/plots/drift_$m.svg" ] && [ -s "$TMP/rep/plots/drift_$m.png" ] \
            && ok "chart of $m drawn" || notok "chart of $m missing"
    done
    n=$(grep -o 'data:image/svg+xml;base64' "$TMP/rep/drift.html" | wc -l)
    [ "$n" = 4 ] && ok "charts embedded in the HTML" || notok "embedded charts: $n"
    grep -q '](plots/drift_accuracy.png)' "$TMP/rep/drift.md" && ok "charts linked from the Markdown" \
        || notok "markdown chart links"
else
    skip "charts (gnuplot not installed)"
fi
export SLM_GNUPLOT="$TMP/no-gnuplot"
expect_exit 0 "without gnuplot" "$SLMBENCH" drift --month 2026-11 --db "$DB" --out "$TMP/rep2"
unset SLM_GNUPLOT
[ -s "$TMP/rep2/drift.html" ] && [ ! -e "$TMP/rep2/plots/drift_accuracy.svg" ] && ok "report written without charts" \
    || notok "without gnuplot"
grep -q 'Charts not drawn: gnuplot not found' "$TMP/rep2/drift.md" && ok "a note says why" || notok "no note"
