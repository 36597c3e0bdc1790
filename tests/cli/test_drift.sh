# `slmbench drift` on a six-month history made with the replay engine: runs dated
# 2026-06-15 ... 2026-11-15 by rewriting runs.created_at, 240 examples (three labels).
# Three models: alpha is right on 90% of the examples, on 60% in October and back in
# November; beta keeps its accuracy, and its latency (per example, set in the
# predictions table) is 1.25 times that of ref, the latency reference, except in October
# (2 times); in September the whole machine is twice as slow (both beta and ref), which a
# raw p95 change would take for a slowdown. The eval set changes version in September
# (40 shipping examples out, 40 technical in). A superseded earlier run in August and a
# failed run in July must be ignored.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
DB="$TMP/d.db"

# v1: e001..e240, labels billing, shipping, technical in turn; v2: the shipping examples
# among e001..e120 out, f001..f040 (technical) in.
mkdir "$TMP/v1" "$TMP/v2"
for v in v1 v2; do cp "$FX/prompt.txt" "$FX/train.csv" "$FX/calibration.csv" "$TMP/$v/"; done
cp "$FX/evalset.yaml" "$TMP/v1/"
sed 's/^version: 1$/version: 2/' "$FX/evalset.yaml" >"$TMP/v2/evalset.yaml"
awk 'BEGIN { split("billing shipping technical", L, " "); print "id,text,label"
             for (i = 1; i <= 240; i++) printf "e%03d,ticket %d,%s\n", i, i, L[(i - 1) % 3 + 1] }' \
    >"$TMP/v1/test.csv"
{ awk -F, 'NR == 1 || !($3 == "shipping" && substr($1, 2) + 0 <= 120)' "$TMP/v1/test.csv"
  awk 'BEGIN { for (i = 1; i <= 40; i++) printf "f%03d,ticket f%d,technical\n", i, i }'; } \
    >"$TMP/v2/test.csv"

# preds OUT COND: a replay file answering every example of both versions with its gold
# label, except where the awk condition COND on n (the id's number; f-ids count from 241)
# holds (then another label); p = 0.8 for the answer.
preds() {
    cat "$TMP/v1/test.csv" "$TMP/v2/test.csv" | awk -F, '
        BEGIN { print "id,pred,p_billing,p_shipping,p_technical" }
        $1 == "id" || seen[$1]++ { next }
        {
            n = substr($1, 2) + ($1 ~ /^f/ ? 240 : 0)
            gold = $NF; pred = gold
            if ('"$2"')
                pred = gold == "billing" ? "shipping" : gold == "shipping" ? "technical" : "billing"
            printf "%s,%s,%s,%s,%s\n", $1, pred, pred == "billing" ? 0.8 : 0.1,
                   pred == "shipping" ? 0.8 : 0.1, pred == "technical" ? 0.8 : 0.1
        }' >"$1"
}
preds "$TMP/good.csv" 'n % 10 == 0'
preds "$TMP/bad.csv" 'n % 10 < 4'
preds "$TMP/beta.csv" 'n % 10 == 5'
preds "$TMP/ref.csv" 'n % 10 == 7'

# month DATE EVALSET ALPHA_PREDS BETA_MS REF_MS [STATUS]: one run of the three models dated
# DATE; per-example e2e latency BETA_MS (REF_MS; alpha 0.9 REF_MS) times 1 + (a spread of up
# to 12%, a different one for each model).
month() {
    cat >"$TMP/run.yaml" <<YAML
name: monthly
evalset: $2
warmup: 0
bootstrap: 200
candidates:
  - {name: alpha, engine: replay, model: $3}
  - {name: beta, engine: replay, model: $TMP/beta.csv}
  - {name: ref, engine: replay, model: $TMP/ref.csv}
YAML
    "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet >/dev/null 2>"$TMP/run.err" ||
        { notok "run for $1 failed"; sed 's/^/#   /' "$TMP/run.err"; }
    id=$(sql "$DB" "select max(id) from runs")
    # a quiet machine, whatever this one's load is now (a loaded run is tested below)
    sql "$DB" "update runs set created_at = '${1}T12:00:00Z', status = '${6:-complete}' where id = $id;
        update candidates set load1_before = 0.5, load1_after = 0.5, steal_pct = 0 where run_id = $id;
        update predictions set e2e_ms = $4 * (1 + ((example_idx * 7) % 13) / 100.0) where run_id = $id
          and candidate_id = (select id from candidates where run_id = $id and name = 'beta');
        update predictions set e2e_ms = $5 * (1 + ((example_idx * 5) % 11) / 100.0) where run_id = $id
          and candidate_id = (select id from candidates where run_id = $id and name = 'ref');
        update predictions set e2e_ms = $5 * 0.9 * (1 + ((example_idx * 3) % 7) / 100.0) where run_id = $id
          and candidate_id = (select id from candidates where run_id = $id and name = 'alpha');
        update metrics set value = $4 * 1.1 where run_id = $id and name = 'e2e_ms_p95'
          and candidate_id = (select id from candidates where run_id = $id and name = 'beta')"
}
month 2026-06-15 "$TMP/v1" "$TMP/good.csv" 50 40
month 2026-07-15 "$TMP/v1" "$TMP/good.csv" 52 41
month 2026-07-20 "$TMP/v1" "$TMP/bad.csv" 50 40 failed
month 2026-08-02 "$TMP/v1" "$TMP/bad.csv" 50 40
month 2026-08-15 "$TMP/v1" "$TMP/good.csv" 50 40
month 2026-09-15 "$TMP/v2" "$TMP/good.csv" 100 80
month 2026-10-15 "$TMP/v2" "$TMP/bad.csv" 80 40
month 2026-11-15 "$TMP/v2" "$TMP/good.csv" 50 40
n=$(sql "$DB" "select count(*) from runs")
[ "$n" = 8 ] && ok "eight dated runs injected" || notok "runs: $n"

# q SQL: a query on the JSON review in $TMP/out (sqlite's JSON functions).
q() { sql :memory: "$(printf "%s" "$1" | sed "s#@J#readfile('$TMP/out')#g")"; }
R="--latency-reference ref"

expect_exit 0 "drift --format json" "$SLMBENCH" drift --month 2026-11 --db "$DB" --format json $R
first=$(q "select json_extract(@J, '\$.from') || ' ' || json_extract(@J, '\$.to')")
[ "$first" = "2026-06 2026-11" ] && ok "--month gives the six months ending there" || notok "window $first"
got=$(q "select json_extract(@J, '\$.rule.multiplicity') || ' ' || json_extract(@J, '\$.rule.alpha') || ' ' ||
         json_extract(@J, '\$.rule.latency_reference')")
[ "$got" = "benjamini-hochberg 0.05 ref" ] && ok "the rule is stated: $got" || notok "rule: $got"
got=$(q "select group_concat(k, ' ') from (select distinct json_extract(value, '\$.model') || ':' ||
         json_extract(value, '\$.month') as k from json_each(@J, '\$.flags') where k is not null order by k)")
want="alpha:2026-10 alpha:2026-11 beta:2026-10 beta:2026-11"
[ "$got" = "$want" ] && ok "exactly the expected months are flagged ($got)" || notok "flagged: '$got', want '$want'"
got=$(q "select group_concat(json_extract(value, '\$.month') || ':' || json_extract(value, '\$.direction') || ':' ||
         json_extract(value, '\$.method'), ' ') from json_each(@J, '\$.flags')
         where json_extract(value, '\$.model') = 'alpha' and json_extract(value, '\$.metric') = 'accuracy'")
[ "$got" = "2026-10:worse:mcnemar-chi2-cc 2026-11:better:mcnemar-chi2-cc" ] \
    && ok "alpha's accuracy: drop in October, recovery in November, paired McNemar" || notok "alpha accuracy flags: $got"
got=$(q "select round(json_extract(value, '\$.difference'), 4) || ' ' || (json_extract(value, '\$.difference_lo') <
         json_extract(value, '\$.difference')) || (json_extract(value, '\$.difference_hi') < 0) || ' ' ||
         (json_extract(value, '\$.p_adjusted') >= json_extract(value, '\$.p_value'))
         from json_each(@J, '\$.flags') where json_extract(value, '\$.model') = 'alpha'
         and json_extract(value, '\$.metric') = 'accuracy' and json_extract(value, '\$.month') = '2026-10'")
[ "$got" = "-0.3 11 1" ] && ok "the flag shows the difference (-30 points) with its interval and adjusted p" \
    || notok "alpha October: $got"
got=$(q "select group_concat(distinct json_extract(value, '\$.metric')) from json_each(@J, '\$.flags')
         where json_extract(value, '\$.model') = 'beta'")
[ "$got" = "e2e_ms_p95" ] && ok "beta flagged for latency only (+60% against the reference, then back)" \
    || notok "beta flags: $got"
# September: the raw p95 doubled, the ratio to the reference did not move
got=$(q "select json_extract(m.value, '\$.metrics.e2e_ms_p95.test.judged') || ' ' ||
         json_extract(m.value, '\$.metrics.e2e_ms_p95.flagged') || ' ' ||
         (abs(json_extract(m.value, '\$.metrics.e2e_ms_p95.test.difference')) < 0.05)
         from json_each(@J, '\$.series') s, json_each(json_extract(s.value, '\$.months')) m
         where json_extract(s.value, '\$.model') = 'beta' and json_extract(m.value, '\$.month') = '2026-09'")
[ "$got" = "1 0 1" ] && ok "a machine twice as slow is no drift: September judged, not flagged" \
    || notok "beta September: $got"
got=$(q "select json_extract(m.value, '\$.metrics.e2e_ms_p95.test.reason')
         from json_each(@J, '\$.series') s, json_each(json_extract(s.value, '\$.months')) m
         where json_extract(s.value, '\$.model') = 'ref' and json_extract(m.value, '\$.month') = '2026-09'")
[ "$got" = "the latency reference itself" ] && ok "the reference's own latency is not judged" || notok "ref: $got"
# the month's value is the latest complete run: August's early bad run and July's failed one are ignored
got=$(q "select group_concat(round(json_extract(value, '\$.metrics.accuracy.value'), 4), ' ') from json_each(
         json_extract(@J, '\$.series[0].months'))")
[ "$got" = "0.9 0.9 0.9 0.9 0.6 0.9" ] && ok "alpha's monthly accuracy uses the latest complete run" \
    || notok "alpha accuracy by month: $got"
# v1 -> v2 is not the same data: independent samples, Yates' test, no flag for 90% -> 90%
got=$(q "select json_extract(value, '\$.metrics.accuracy.test.method') || ' ' ||
         json_extract(value, '\$.metrics.accuracy.test.paired') || ' ' || json_extract(value, '\$.metrics.accuracy.flagged')
         from json_each(json_extract(@J, '\$.series[0].months')) where json_extract(value, '\$.month') = '2026-09'")
[ "$got" = "chi2-yates 0 0" ] && ok "a new eval-set version is compared as an independent sample" \
    || notok "alpha September: $got"
got=$(q "select json_extract(value, '\$.metrics.macro_f1.test.method') || ' ' ||
         json_extract(value, '\$.metrics.macro_f1.test.replicates') || ' ' ||
         (json_extract(value, '\$.metrics.macro_f1.test.seed') > 0)
         from json_each(json_extract(@J, '\$.series[0].months')) where json_extract(value, '\$.month') = '2026-07'")
[ "$got" = "bootstrap-paired 1000 1" ] && ok "macro-F1 by a paired bootstrap, replicates and seed recorded" \
    || notok "alpha July macro-F1: $got"
# label-distribution drift: 80/80/80 -> 80/40/120 of 240; TVD 1/6; Pearson chi-square on 2 df
got=$(q "select count(*) || ' ' || json_extract(value, '\$.from') || ' ' || json_extract(value, '\$.to') || ' ' ||
         round(json_extract(value, '\$.tvd'), 4) || ' ' || json_extract(value, '\$.df') || ' ' ||
         round(json_extract(value, '\$.chi2'), 4) || ' ' || json_extract(value, '\$.method') || ' ' ||
         json_extract(value, '\$.flagged') || ' ' || (json_extract(value, '\$.tvd_no_drift_mean') between 0.02 and 0.08)
         from json_each(@J, '\$.label_drift')")
[ "$got" = "1 2026-08 2026-09 0.1667 2 21.3333 chi2 1 1" ] \
    && ok "TVD beside its value with no drift, chi-square, flagged ($got)" || notok "label drift: $got"
got=$(q "select count(*) from json_each(@J, '\$.per_class') where json_extract(value, '\$.model') = 'alpha'
         and json_extract(value, '\$.to') = '2026-10' and json_extract(value, '\$.recall.flagged')")
[ "$got" -gt 0 ] && ok "per-class recall flagged for the bad month ($got)" || notok "no per-class flag in October"

expect_exit 0 "drift markdown to stdout" "$SLMBENCH" drift --month 2026-11 --db "$DB" $R
expect_out '^# Drift review 2026-06 to 2026-11' "markdown title"
expect_out 'Benjamini–Hochberg' "markdown states the multiplicity rule"
expect_out '^\| 2026-10 \| [0-9]+ \| \*\*60%\*\* .*FLAGGED \(worse\)' "markdown marks October as flagged"
if grep -E '^\| 2026-0[6-9] \|' "$TMP/out" | grep -q 'FLAGGED'; then notok "a stable month is flagged"; else
    ok "the stable months are not flagged"; fi
expect_out '^\| alpha \| tiny \| accuracy \| 2026-09 → 2026-10 \| 90% → 60% \| -30\.0 pts \[' "flagged row with its difference"
expect_out '^\| tiny \| 2026-08 \(run [0-9]+\) \| 2026-09 \(run [0-9]+\) \| 1 → 2 \|.* \| 0\.1667 \| 0\.0[0-9]* \(0\.[0-9]*\) \| 21\.33 \| 2 \| chi2 \|' \
    "markdown reports TVD, its value with no drift and the test"
expect_out 'model file changed' "model sha change annotated"

expect_exit 0 "without a latency reference" "$SLMBENCH" drift --month 2026-11 --db "$DB" --format json
got=$(q "select group_concat(distinct json_extract(value, '\$.model')) from json_each(@J, '\$.flags')")
[ "$got" = alpha ] && ok "without a reference latency is never flagged" || notok "flags without reference: $got"
got=$(q "select json_extract(value, '\$.metrics.e2e_ms_p95.test.reason') from json_each(json_extract(@J,
         '\$.series[1].months')) where json_extract(value, '\$.month') = '2026-10'")
case "$got" in "measured in different jobs without a common reference"*) ok "latency not judged, said why" ;;
    *) notok "reason: $got" ;; esac
expect_exit 0 "a reference that is not there" "$SLMBENCH" drift --month 2026-11 --db "$DB" --format json \
    --latency-reference nosuch
got=$(q "select json_extract(value, '\$.metrics.e2e_ms_p95.test.reason') from json_each(json_extract(@J,
         '\$.series[1].months')) where json_extract(value, '\$.month') = '2026-10'")
case "$got" in "run "*" has no ok candidate 'nosuch' (the latency reference)") ok "a missing reference is said" ;;
    *) notok "reason: $got" ;; esac
# a loaded machine: the reference's load average in November above the CPUs
cp "$DB" "$TMP/loaded.db"
sql "$TMP/loaded.db" "update candidates set load1_before = 99 where name = 'ref'
    and run_id = (select id from runs where created_at like '2026-11%')"
expect_exit 0 "a loaded run" "$SLMBENCH" drift --month 2026-11 --db "$TMP/loaded.db" --format json $R
got=$(q "select json_extract(value, '\$.metrics.e2e_ms_p95.test.reason') from json_each(json_extract(@J,
         '\$.series[1].months')) where json_extract(value, '\$.month') = '2026-11'")
case "$got" in "run "*": the reference ran at load average 99.00, above the "*" CPUs") ok "latency on a loaded machine not judged: $got" ;;
    *) notok "loaded reason: $got" ;; esac
sql "$TMP/loaded.db" "update candidates set load1_before = 0.5, steal_pct = 12 where name = 'ref'
    and run_id = (select id from runs where created_at like '2026-11%')"
expect_exit 0 "steal" "$SLMBENCH" drift --month 2026-11 --db "$TMP/loaded.db" --format json $R
got=$(q "select json_extract(value, '\$.metrics.e2e_ms_p95.test.reason') from json_each(json_extract(@J,
         '\$.series[1].months')) where json_extract(value, '\$.month') = '2026-11'")
case "$got" in *"12.0% CPU steal, above 5%") ok "steal above 5%: not judged" ;; *) notok "steal reason: $got" ;; esac

expect_exit 0 "stable window" "$SLMBENCH" drift --from 2026-06 --to 2026-08 --db "$DB" --fail-on-drift $R
expect_out 'No change flagged' "no change flagged in the stable months"
expect_exit 1 "--fail-on-drift fails on a flagged change" "$SLMBENCH" drift --month 2026-11 --db "$DB" --fail-on-drift
expect_exit 0 "--metrics accuracy" "$SLMBENCH" drift --month 2026-11 --db "$DB" --metrics accuracy --format json $R
got=$(q "select group_concat(distinct json_extract(value, '\$.model')) from json_each(@J, '\$.flags')")
[ "$got" = alpha ] && ok "--metrics limits the review" || notok "--metrics accuracy flags: $got"
expect_exit 0 "--metrics brier" "$SLMBENCH" drift --month 2026-11 --db "$DB" --metrics brier --format json
got=$(q "select json_extract(@J, '\$.series[0].months[1].metrics.brier.test.reason')")
[ "$got" = "no two-sample test for this metric in the drift review" ] && ok "a metric without a test is shown, not judged" \
    || notok "brier: $got"
expect_exit 0 "--seed --reps --alpha" "$SLMBENCH" drift --month 2026-11 --db "$DB" --format json --seed 7 --reps 200 --alpha 0.01
got=$(q "select json_extract(@J, '\$.rule.seed') || ' ' || json_extract(@J, '\$.rule.bootstrap_replicates') || ' ' ||
         json_extract(@J, '\$.rule.alpha') || ' ' || json_extract(@J, '\$.series[0].months[1].metrics.macro_f1.test.replicates')")
[ "$got" = "7 200 0.01 200" ] && ok "seed, replicates and alpha recorded" || notok "settings: $got"

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
expect_exit 2 "--alpha 0" "$SLMBENCH" drift --alpha 0 --db "$DB"
expect_err "--alpha must lie between 0 and 1" "says what --alpha takes"
expect_exit 2 "--alpha 1.5" "$SLMBENCH" drift --alpha 1.5 --db "$DB"
expect_exit 2 "--reps 10" "$SLMBENCH" drift --reps 10 --db "$DB"
expect_err "option '--reps' needs an integer of at least 100" "says what --reps takes"
expect_exit 2 "--latency-reference ''" "$SLMBENCH" drift --latency-reference '' --db "$DB"
cp "$DB" "$TMP/gold.db"
sql "$TMP/gold.db" "update predictions set gold = 'nope' where example_idx = 3
    and run_id = (select id from runs where created_at like '2026-11%')"
expect_exit 3 "a gold label outside the label set" "$SLMBENCH" drift --month 2026-11 --db "$TMP/gold.db"
expect_err "run [0-9]+: gold label 'nope' is not in the run's label set" "the bad gold label is named"
expect_exit 0 "empty window" "$SLMBENCH" drift --month 2020-01 --db "$DB"
expect_out 'No complete run in the window' "empty window said"

# files, charts and the HTML page
expect_exit 0 "drift --out" "$SLMBENCH" drift --month 2026-11 --db "$DB" --out "$TMP/rep" $R
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
