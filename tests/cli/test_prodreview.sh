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
[ "$got" = '["labels"]' ] && ok "by the predicted-label signal" || notok "decided by: $got"
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
expect_out "^\| 2026-03 \| 500 \| drifted \| labels \|" "the Markdown verdict table"
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
