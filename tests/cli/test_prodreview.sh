#!/bin/sh
# slmbench drift --deployment (the monthly review of a production log) and slmbench
# sample (the audit sample). The data: tests/cli/prodreview_gen.py, a small eval set, a
# calibrated replay model on it and a 4-month production log drawn like the eval set
# except a planted class-prior shift in 2026-03 (70% billing) and, in a second log, new
# words in 2026-02.
. "$(dirname "$0")/lib.sh"
GEN="$ROOT/tests/cli/prodreview_gen.py"
DB="$TMP/p.db"
/usr/bin/python3 "$GEN" "$TMP" 1 2026-03 >/dev/null
cat >"$TMP/run.yaml" <<YAML
name: shipped
evalset: $TMP/es
warmup: 0
bootstrap: 50
cascade: {threshold: 0.7, slm_cost: 1, escalation_cost: 10, escalation_accuracy: 0.95}
candidates:
  - {name: router, engine: replay, model: $TMP/replay.csv}
YAML
"$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet >/dev/null 2>"$TMP/run.err" ||
    { notok "the eval run failed"; sed 's/^/#   /' "$TMP/run.err"; }
D="--db $DB --deployment prod"
"$SLMBENCH" ingest "$TMP/prod.jsonl" $D --run 1 --candidate router 2>"$TMP/ing.err" ||
    { notok "the ingest failed"; sed 's/^/#   /' "$TMP/ing.err"; }
j() { sql :memory: "select $1 from (select readfile('$TMP/out') as j)"; }

# ---- the review ----
expect_exit 0 "the review of 2026-04 and the months before it" "$SLMBENCH" drift $D --month 2026-04 --json
got=$(j "(select group_concat(json_extract(value, '$.month') || ':' || json_extract(value, '$.verdict'), ' ') from json_each(j, '$.months'))")
[ "$got" = "2026-01:stable 2026-02:stable 2026-03:drifted 2026-04:stable" ] &&
    ok "only the month of the planted prior shift is flagged" || notok "verdicts: $got"
got=$(j "json_extract(j, '$.months[2].decided_by')")
[ "$got" = '["labels","class_share"]' ] && ok "by the predicted-label signals (distribution and one class)" ||
    notok "decided by: $got"
got=$(j "json_extract(j, '$.months[2].vs_reference.labels.class_most_significant.label')")
[ "$got" = billing ] && ok "the most significant class is billing" || notok "class: $got"
got=$(j "json_extract(j, '$.months[2].vs_reference.labels.moved_most[0].label')")
[ "$got" = billing ] && ok "billing moved most" || notok "moved most: $got"
got=$(j "ifnull(json_extract(j, '$.months[0].previous_month'), 'null') || ' ' || json_extract(j, '$.months[3].previous_month')")
[ "$got" = "null 2026-03" ] && ok "the first month has no previous month, the last is compared with 2026-03" ||
    notok "previous months: '$got'"
got=$(j "json_type(j, '$.months[0].vs_previous')")
[ "$got" = null ] && ok "no previous month: null" || notok "vs_previous of the first: $got"
# the estimate's band against the true accuracy of each stable month (truth.txt)
n=0
while read -r m acc; do
    c=$(j "(select json_extract(value, '$.vs_reference.accuracy.estimated.lo') <= $acc and
            $acc <= json_extract(value, '$.vs_reference.accuracy.estimated.hi')
            from json_each(j, '$.months') where json_extract(value, '$.month') = '$m')")
    [ "$c" = 1 ] && n=$((n + 1))
done <"$TMP/truth.txt"
[ "$n" = 4 ] && ok "the label-free estimate's band covers the true accuracy in 4 of 4 months" ||
    notok "the band covers the true accuracy in $n of 4 months"
got=$(j "json_extract(j, '$.months[3].vs_reference.accuracy.observed.value')")
want=$(awk '$1 == "2026-04" { print $2 }' "$TMP/truth.txt")
awk -v a="$got" -v b="$want" 'BEGIN { exit !(a - b < 1e-9 && b - a < 1e-9) }' &&
    ok "observed accuracy on corrected tickets is the true accuracy ($want)" ||
    notok "observed $got, true $want"

expect_exit 1 "--fail-on-drift over a range with the shifted month" "$SLMBENCH" drift $D --from 2026-01 --to 2026-04 --fail-on-drift --json
expect_err "1 deciding month drifted or degraded" "says how many months decided"
expect_exit 0 "--fail-on-drift with --month 2026-04: only that month decides" "$SLMBENCH" drift $D --month 2026-04 --fail-on-drift
expect_exit 1 "--fail-on-drift with --month 2026-03" "$SLMBENCH" drift $D --month 2026-03 --fail-on-drift
expect_exit 0 "without --fail-on-drift a drifted month exits 0" "$SLMBENCH" drift $D --month 2026-03
expect_out "^\| 2026-03 \| 500 \| drifted \| labels, class_share \|" "the Markdown verdict table"
expect_out "calibration measured on the eval run still holds" "the assumptions are printed"

# ---- months without traffic ----
expect_exit 0 "a window with a month of no traffic" "$SLMBENCH" drift $D --from 2025-12 --to 2026-02 --json
got=$(j "json_extract(j, '$.months[0].rows') || ' ' || json_type(j, '$.months[0].verdict') || ' ' || json_type(j, '$.months[0].vs_reference')")
[ "$got" = "0 null null" ] && ok "a month of 0 rows: verdict null, no review" || notok "empty month: $got"
expect_err "no traffic in 2025-12" "the note names the month"
"$SLMBENCH" drift $D --from 2025-12 --to 2026-01 >"$TMP/out" 2>/dev/null
expect_out "^\| 2025-12 \| 0 \| no traffic \|" "Markdown says no traffic"
expect_exit 3 "a window without any row" "$SLMBENCH" drift $D --from 2025-01 --to 2025-03
expect_err "no production rows in 2025-01..2025-03" "the message names the window"

# ---- output files ----
expect_exit 0 "--out writes the three files" "$SLMBENCH" drift $D --month 2026-04 --out "$TMP/rep"
for f in drift-prod.md drift-prod.html drift-prod.json plots/prod_months.dat; do
    [ -s "$TMP/rep/$f" ] && ok "wrote $f" || notok "missing $f"
done
if command -v gnuplot >/dev/null 2>&1; then
    c=$(grep -c 'data:image/svg+xml;base64' "$TMP/rep/drift-prod.html" || true)
    [ "$c" = 3 ] && ok "the HTML embeds the three charts" || notok "charts embedded: $c"
else
    skip "charts embedded (no gnuplot)"
fi
grep -q 'http' "$TMP/rep/drift-prod.html" && grep -Eq '(src|href)="https?:' "$TMP/rep/drift-prod.html" &&
    notok "the HTML refers to the network" || ok "the HTML is self-contained"

# ---- bad cases ----
expect_exit 3 "an unknown deployment" "$SLMBENCH" drift --db "$DB" --deployment nope --month 2026-04
expect_err "no deployment 'nope'" "names the deployment"
"$SLMBENCH" ingest "$TMP/prod.jsonl" --db "$DB" --deployment untied 2>/dev/null
expect_exit 3 "an untied deployment" "$SLMBENCH" drift --db "$DB" --deployment untied --month 2026-04
expect_err "not tied to an eval run" "says it is not tied"
expect_exit 2 "a bad format" "$SLMBENCH" drift $D --month 2026-04 --format pdf
expect_exit 3 "a bad month" "$SLMBENCH" drift $D --month 2026-13
expect_exit 2 "--month with --from" "$SLMBENCH" drift $D --month 2026-04 --from 2026-01 --to 2026-02
expect_exit 3 "a missing database" "$SLMBENCH" drift --db "$TMP/none.db" --deployment prod --month 2026-04
expect_exit 2 "--alpha outside (0, 1)" "$SLMBENCH" drift $D --month 2026-04 --alpha 1.5

# ---- --no-text: vocabulary signals not available ----
"$SLMBENCH" ingest "$TMP/prod.jsonl" --db "$DB" --deployment notext --run 1 --candidate router --no-text 2>/dev/null
expect_exit 0 "a log ingested with --no-text" "$SLMBENCH" drift --db "$DB" --deployment notext --month 2026-02 --json
got=$(j "json_extract(j, '$.months[1].vs_reference.input.words_available') || ' ' || json_type(j, '$.months[1].vs_reference.input.unseen_share') || ' ' || json_type(j, '$.months[1].vs_reference.input.length_ks_d')")
[ "$got" = "0 null real" ] && ok "words not available (null), text length still judged" || notok "no-text: $got"

# ---- new words: a second log ----
/usr/bin/python3 "$GEN" "$TMP/nw" 2 none 2026-02 >/dev/null
"$SLMBENCH" ingest "$TMP/nw/prod.jsonl" --db "$DB" --deployment nw --run 1 --candidate router 2>/dev/null
expect_exit 0 "a log with new words in 2026-02" "$SLMBENCH" drift --db "$DB" --deployment nw --from 2026-01 --to 2026-03 --json
got=$(j "(select group_concat(json_extract(value, '$.verdict'), ' ') from json_each(j, '$.months'))")
[ "$got" = "stable drifted stable" ] && ok "only the month with new words is flagged" || notok "verdicts: $got"
got=$(j "json_extract(j, '$.months[1].decided_by')")
case "$got" in *oov*) ok "by the unseen-word share ($got)" ;; *) notok "decided by: $got" ;; esac
got=$(j "(select group_concat(json_extract(value, '$.word'), ' ') from json_each(j, '$.months[1].vs_reference.input.new_words'))")
case "$got" in *crypto*) ok "the new words are listed" ;; *) notok "new words: $got" ;; esac

# ==== slmbench sample ====
S="--db $DB --deployment prod --month 2026-04"
LBL="/usr/bin/python3 $ROOT/tests/cli/prodreview_label.py $TMP/prod.jsonl"
expect_exit 0 "a stratified sample of 60" "$SLMBENCH" sample $S --n 60 --strategy stratified --seed 5 --out "$TMP/st.csv"
id=$(sql "$DB" "select max(id) from audit_samples")
head -n 1 "$TMP/st.csv" | grep -qx 'id,text,label,pred,confidence,weight,stratum' &&
    ok "the CSV header" || notok "header: $(head -n 1 "$TMP/st.csv")"
n=$(($(wc -l <"$TMP/st.csv") - 1))
[ "$n" = 60 ] && ok "60 rows written" || notok "rows written: $n"
# proportional allocation and weight N_h/n_h, against the month's own counts
got=$(sql "$DB" "select group_concat(ok, '') from (select s.stratum, count(*) = round(60.0 *
        (select count(*) from prod_predictions p where p.month = '2026-04' and p.pred = s.stratum
         and p.deployment_id = 1) / 500 + 0.5 - 0.5, 0) or abs(count(*) - 60.0 *
        max(s.stratum_size) / 500) < 1 as ok, max(s.stratum_size) as nh
        from audit_sample_rows s where s.sample_id = $id group by s.stratum)")
[ "$got" = 111 ] && ok "n_h within 1 of 60 N_h/N in each of the 3 strata" || notok "allocation: $got"
bad=$(awk -F, 'NR > 1 { w[$7] = $6; n[$7]++ } END { for (h in n) print h, n[h], w[h] }' "$TMP/st.csv" |
      while read -r h c w; do
          nh=$(sql "$DB" "select count(*) from prod_predictions where deployment_id = 1 and month = '2026-04' and pred = '$h'")
          awk -v nh="$nh" -v c="$c" -v w="$w" 'BEGIN { if ((nh / c - w) ^ 2 > 1e-12) print "bad" }'
      done)
[ -z "$bad" ] && ok "weight = N_h/n_h in each stratum" || notok "weights"
expect_exit 0 "the same seed again" "$SLMBENCH" sample $S --n 60 --strategy stratified --seed 5 --out "$TMP/st2.csv"
cmp -s "$TMP/st.csv" "$TMP/st2.csv" && ok "the same seed gives the same sample" || notok "not deterministic"
"$SLMBENCH" sample $S --n 60 --strategy stratified --seed 6 --out "$TMP/st3.csv" 2>/dev/null
cmp -s "$TMP/st.csv" "$TMP/st3.csv" && notok "another seed gives the same sample" || ok "another seed, another sample"
expect_exit 0 "a random sample" "$SLMBENCH" sample $S --n 50 --strategy random --seed 1 --out "$TMP/r.csv"
got=$(awk -F, 'NR > 1 { n++; if ($6 != 10) bad++ } END { print n, bad + 0 }' "$TMP/r.csv")
[ "$got" = "50 0" ] && ok "random: 50 rows, weight N/n = 10" || notok "random: $got"
expect_exit 0 "a low-confidence sample" "$SLMBENCH" sample $S --n 50 --strategy low-confidence --seed 1 --out "$TMP/lc.csv"
# Poisson design: weight (1/pi) times the size measure 1 - confidence + 0.05 is the same
# constant for every row drawn with pi < 1
got=$(awk -F, 'NR > 1 && $6 > 1 { k = $6 * (1 - $5 + 0.05); if (!m) m = k; d = (k - m) / m; if (d * d > 1e-10) bad++ } END { print bad + 0 }' "$TMP/lc.csv")
[ "$got" = 0 ] && ok "low-confidence: inclusion probability proportional to 1 - confidence + 0.05" || notok "$got rows off"
mc=$(sql "$DB" "select avg(confidence) from prod_predictions where deployment_id = 1 and month = '2026-04'")
got=$(awk -F, -v mc="$mc" 'NR > 1 { s += $5; n++ } END { printf "%d", (s / n < mc - 0.03) }' "$TMP/lc.csv")
[ "$got" = 1 ] && ok "low-confidence rows have a mean confidence below the month's" || notok "mean confidence"
expect_exit 0 "a disagreement sample" "$SLMBENCH" sample $S --n 50 --strategy disagreement --seed 1 --out "$TMP/dg.csv"
sizes=$(for s in 1 2 3 4 5 6 7 8 9 10; do "$SLMBENCH" sample $S --n 50 --strategy low-confidence --seed $s --out /dev/null 2>&1 | sed -n 's/.*: \([0-9]*\) of 500 rows.*/\1/p'; done | awk '{ s += $1 } END { print s / NR }')
awk -v m="$sizes" 'BEGIN { exit !(m > 43 && m < 57) }' && ok "Poisson sizes average $sizes over 10 seeds (expected 50)" || notok "mean Poisson size $sizes"

# the labelled sample back: coverage of the true accuracy over seeds (2026-04 is fully
# labelled by construction: truth.txt has its accuracy)
truth=$(awk '$1 == "2026-04" { print $2 }' "$TMP/truth.txt")
for strat in stratified random low-confidence disagreement; do
    cov=0
    for seed in $(seq 1 40); do
        "$SLMBENCH" sample $S --n 100 --strategy $strat --seed $seed --out "$TMP/c.csv" 2>/dev/null
        $LBL "$TMP/c.csv" "$TMP/cl.csv"
        sid=$(sql "$DB" "select max(id) from audit_samples")
        "$SLMBENCH" sample --db "$DB" --score "$TMP/cl.csv" --sample "$sid" --json >"$TMP/out" 2>/dev/null
        c=$(j "json_extract(j, '$.lo') <= $truth and $truth <= json_extract(j, '$.hi')")
        [ "$c" = 1 ] && cov=$((cov + 1))
    done
    [ "$cov" -ge 34 ] && ok "$strat: the 95% interval covers the true accuracy $truth in $cov of 40 seeds" ||
        notok "$strat: coverage $cov of 40"
done

expect_exit 0 "--score prints the estimate" "$SLMBENCH" sample --db "$DB" --score "$TMP/cl.csv" --sample "$sid"
expect_out "weighted accuracy 0\.[0-9]+ \[0\.[0-9]+, (1|0\.[0-9]+)\]" "estimate and interval"

# ---- bad cases ----
expect_exit 3 "sample: an unknown deployment" "$SLMBENCH" sample --db "$DB" --deployment nope --month 2026-04
expect_err "no deployment 'nope'" "names it"
expect_exit 3 "sample: a month without rows" "$SLMBENCH" sample --db "$DB" --deployment prod --month 2025-01
expect_err "no production rows in 2025-01" "names the month"
expect_exit 2 "sample: an unknown strategy" "$SLMBENCH" sample $S --strategy best
expect_exit 2 "--score without --sample" "$SLMBENCH" sample --db "$DB" --score "$TMP/cl.csv"
expect_exit 3 "sample: a bad month" "$SLMBENCH" sample --db "$DB" --deployment prod --month 2026-4
awk -F, 'NR == 3 { $3 = "" } 1' OFS=, "$TMP/cl.csv" >"$TMP/unl.csv"
expect_exit 3 "--score: a row left unlabelled" "$SLMBENCH" sample --db "$DB" --score "$TMP/unl.csv" --sample "$sid"
expect_err "unl.csv:3: " "names file and line"
sed '$d' "$TMP/cl.csv" >"$TMP/short.csv"
expect_exit 3 "--score: a row of the sample missing" "$SLMBENCH" sample --db "$DB" --score "$TMP/short.csv" --sample "$sid"
expect_err "is missing: every row of the sample must be labelled" "says a row is missing"
expect_exit 3 "--score: rows of another sample" "$SLMBENCH" sample --db "$DB" --score "$TMP/cl.csv" --sample 1
expect_err "cl.csv:[0-9]+: id '.*' is not in sample 1" "names the id not in the sample"
expect_exit 3 "--score: an unknown sample" "$SLMBENCH" sample --db "$DB" --score "$TMP/cl.csv" --sample 999
printf 'id,text,label,pred,confidence,weight\nx,=HYPERLINK("http://e"),,billing,0.5,1\n' >"$TMP/f.csv"
sql "$DB" "insert into prod_predictions (deployment_id, log_id, ts, month, pred, confidence, text, content_sha256, source_file, source_line) values (1, 'evil', '2027-01-01T00:00:00.000Z', '2027-01', '-cmd', 0.5, '=HYPERLINK(\"http://e\")', 'x', 'x', 1)"
"$SLMBENCH" sample --db "$DB" --deployment prod --month 2027-01 --out "$TMP/evil.csv" 2>/dev/null
grep -q "^evil,\"'=HYPERLINK" "$TMP/evil.csv" && grep -q ",'-cmd," "$TMP/evil.csv" &&
    ok "text and pred cells are guarded against spreadsheet formulas" || notok "formula guard: $(tail -n 1 "$TMP/evil.csv")"
