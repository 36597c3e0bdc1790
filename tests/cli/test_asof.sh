# `slmbench run --as-of DATE`: a run dated explicitly, recorded beside its real start
# time, placed by the drift review in the month of its date. Replay runs of the tiny set.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
DB="$TMP/a.db"

# preds OUT K: a replay file answering the tiny test set with its gold label except every
# K-th example (then the next label); p = 0.8 for the answer.
preds() {
    awk -F, -v k="$2" 'BEGIN { print "id,pred,p_billing,p_shipping,p_technical" }
        NR == 1 { next }
        { gold = $NF; pred = gold
          if ((NR - 1) % k == 0)
              pred = gold == "billing" ? "shipping" : gold == "shipping" ? "technical" : "billing"
          printf "%s,%s,%s,%s,%s\n", $1, pred, pred == "billing" ? 0.8 : 0.1,
                 pred == "shipping" ? 0.8 : 0.1, pred == "technical" ? 0.8 : 0.1 }' \
        "$FX/test.csv" >"$1"
}
preds "$TMP/good.csv" 10
preds "$TMP/bad.csv" 2
# cfg MODEL: a run config of one candidate 'alpha' on the tiny set
cfg() {
    cat >"$TMP/run.yaml" <<YAML
name: dated
evalset: $FX
warmup: 0
bootstrap: 200
candidates:
  - {name: alpha, engine: replay, model: $1}
YAML
}
cfg "$TMP/good.csv"
today=$(date -u +%Y-%m-%d)
for d in 2026-07-15 2026-08-01T09:30:00+02:00 2026-09-30; do
    expect_exit 0 "run --as-of $d" "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet --as-of "$d"
done
got=$(sql "$DB" "select group_concat(as_of, ' ') from (select as_of from runs order by id)")
[ "$got" = "2026-07-15T00:00:00Z 2026-08-01T07:30:00Z 2026-09-30T00:00:00Z" ] \
    && ok "as_of stored in UTC ($got)" || notok "as_of: $got"
got=$(sql "$DB" "select count(*) from runs where created_at like '$today%'")
[ "$got" = 3 ] && ok "created_at keeps the real start time (today)" || notok "created_at today: $got"

q() { sql :memory: "$(printf "%s" "$1" | sed "s#@J#readfile('$TMP/out')#g")"; }
expect_exit 0 "drift over the dated months" "$SLMBENCH" drift --from 2026-07 --to 2026-09 --db "$DB" \
    --format json
got=$(q "select group_concat(json_extract(value, '\$.month') || '=' || json_extract(value, '\$.run_id') || '@' ||
         substr(json_extract(value, '\$.as_of'), 1, 10), ' ') from json_each(json_extract(@J, '\$.series[0].months'))
         where json_extract(value, '\$.run_id') is not null")
[ "$got" = "2026-07=1@2026-07-15 2026-08=2@2026-08-01 2026-09=3@2026-09-30" ] \
    && ok "three runs made today are three months of the review ($got)" || notok "months: $got"
expect_exit 0 "drift --month of today" "$SLMBENCH" drift --month "${today%-*}" --db "$DB" --format json
got=$(q "select count(*) from json_each(json_extract(@J, '\$.series[0].months'))
         where json_extract(value, '\$.month') = '${today%-*}' and json_extract(value, '\$.run_id') is not null")
[ "$got" = 0 ] && ok "no dated run counts in the month it was made" || notok "runs in today's month: $got"

# a run made later but dated earlier in a month does not replace the month's latest run
cfg "$TMP/bad.csv"
expect_exit 0 "a bad run dated 2026-08-01 (before the August run's 07:30 UTC)" \
    "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet --as-of 2026-08-01T07:00:00Z
expect_exit 0 "a bad run dated 2026-09-30T12:00:00Z" \
    "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet --as-of 2026-09-30T12:00:00Z
expect_exit 0 "drift" "$SLMBENCH" drift --from 2026-07 --to 2026-09 --db "$DB" --format json
got=$(q "select group_concat(json_extract(value, '\$.run_id'), ' ') from json_each(json_extract(@J,
         '\$.series[0].months')) where json_extract(value, '\$.run_id') is not null")
[ "$got" = "1 2 5" ] && ok "a month's run is the latest by its date, not by when it was made ($got)" \
    || notok "runs chosen: $got"
# the latest month of the database is that of the latest date, so --month defaults there
expect_exit 0 "drift without --month" "$SLMBENCH" drift --db "$DB" --format json
got=$(q "select json_extract(@J, '\$.to')")
[ "$got" = 2026-09 ] && ok "the newest month is that of the newest date ($got)" || notok "to: $got"

# refused: nothing is run or stored
n0=$(sql "$DB" "select count(*) from runs")
tomorrow=$(date -u -d tomorrow +%Y-%m-%d)
expect_exit 2 "a date in the future" "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --as-of "$tomorrow"
expect_err "option '--as-of' got '$tomorrow', a moment in the future" "the future is refused, said why"
soon=$(date -u -d '+2 minutes' +%Y-%m-%dT%H:%M:%SZ)
expect_exit 2 "a moment later today" "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --as-of "$soon"
for bad in 2026-02-30 2026-13-01 2026-7-15 2026-07-15T24:00:00Z 2026-07-15T10:00:00 \
    2026-07-15T10:00:00+24:00 "2026-07-15 junk" yesterday ""; do
    expect_exit 2 "--as-of '$bad'" "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --as-of "$bad"
done
expect_err "needs YYYY-MM-DD or an RFC 3339 date-time, got ''" "an empty date is named"
# the zone is applied before the month is taken: 23:30 at -02:00 on 30 June is July in UTC
expect_exit 0 "a date-time with a negative offset" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/z.db" --quiet \
    --as-of 2026-06-30T23:30:00.25-02:00
expect_exit 0 "a leap day" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/z.db" --quiet --as-of 2024-02-29
got=$(sql "$TMP/z.db" "select group_concat(as_of, ' ') from (select as_of from runs order by id)")
[ "$got" = "2026-07-01T01:30:00Z 2024-02-29T00:00:00Z" ] && ok "stored in UTC, fraction dropped ($got)" || notok "as_of: $got"
expect_exit 2 "29 February of a common year" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/z.db" --as-of 2026-02-29
expect_exit 2 "--as-of with --resume" "$SLMBENCH" run --resume --db "$DB" --as-of 2026-07-01
expect_err "a resumed run keeps its date" "--resume keeps the run's date"
n1=$(sql "$DB" "select count(*) from runs")
[ "$n0" = "$n1" ] && ok "refused dates store nothing" || notok "runs: $n0 -> $n1"
got=$(sql "$DB" "select count(*) from runs where as_of is null")
expect_exit 0 "an undated run" "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet
got=$(sql "$DB" "select as_of is null and created_at like '$today%' from runs order by id desc limit 1")
[ "$got" = 1 ] && ok "without --as-of, as_of is NULL (dated by created_at)" || notok "undated: $got"

# ---- a month in which both the model and the eval set changed ----
# v1: the tiny test split; v2: v1 and 12 new tickets. Model A (a replay file) is wrong on
# every 4th v1 ticket and on the even new ones; model B on every 6th ticket of both.
V2="$TMP/v2"
mkdir "$V2" && cp "$FX"/* "$V2/"
sed -i 's/^version: 1$/version: 2/' "$V2/evalset.yaml"
awk 'BEGIN { split("billing shipping technical", L, " ")
             for (i = 1; i <= 12; i++) printf "tf%02d,new kind of ticket %d,%s\n", i, i, L[(i - 1) % 3 + 1] }' \
    >>"$V2/test.csv"
# answers OUT AWK-COND: every ticket of v2 (a superset of v1) answered with its label, or
# the next label where COND holds (n: the row number, new: 1 for the new tickets)
answers() {
    awk -F, -v cond="$2" 'BEGIN { print "id,pred,p_billing,p_shipping,p_technical" }
        NR == 1 { next }
        { gold = $NF; n = NR - 1; new = ($1 ~ /^tf/); pred = gold
          wrong = cond == "A" ? (new ? n % 2 == 0 : n % 4 == 0) : n % 6 == 0
          if (wrong) pred = gold == "billing" ? "shipping" : gold == "shipping" ? "technical" : "billing"
          printf "%s,%s,%s,%s,%s\n", $1, pred, pred == "billing" ? 0.8 : 0.1,
                 pred == "shipping" ? 0.8 : 0.1, pred == "technical" ? 0.8 : 0.1 }' "$V2/test.csv" >"$1"
}
answers "$TMP/A.csv" A
answers "$TMP/B.csv" B
# the expected accuracies, counted here from the files
acc() { # REPLAY EVALSET-CSV
    awk -F, 'NR == FNR { if (FNR > 1) p[$1] = $2; next } FNR > 1 { n++; r += (p[$1] == $NF) }
             END { printf "%.15f\n", r / n }' "$1" "$2"; }
a1=$(acc "$TMP/A.csv" "$FX/test.csv"); a2=$(acc "$TMP/A.csv" "$V2/test.csv")
b1=$(acc "$TMP/B.csv" "$FX/test.csv"); b2=$(acc "$TMP/B.csv" "$V2/test.csv")
DB2="$TMP/both.db"
# dated NAME MODEL EVALSET DATE: a run of one candidate
dated() {
    cat >"$TMP/r.yaml" <<YAML
name: both
evalset: $3
warmup: 0
bootstrap: 200
candidates:
  - {name: $1, engine: replay, model: $2}
YAML
    "$SLMBENCH" run "$TMP/r.yaml" --db "$DB2" --quiet --as-of "$4" >/dev/null 2>"$TMP/r.err" ||
        { notok "run $1 $4"; sed 's/^/#   /' "$TMP/r.err"; }
}
dated alpha "$TMP/A.csv" "$FX" 2026-07-15
dated alpha "$TMP/B.csv" "$V2" 2026-08-15
expect_exit 0 "drift: model and eval set changed, no re-score" "$SLMBENCH" drift --from 2026-07 --to 2026-08 \
    --db "$DB2" --format json
got=$(q "select json_extract(value, '\$.attribution.model_changed') || json_extract(value, '\$.attribution.evalset_changed') ||
         json_extract(value, '\$.attribution.separated') || ' ' || json_extract(value, '\$.attribution.note')
         from json_each(json_extract(@J, '\$.series[0].months')) where json_extract(value, '\$.month') = '2026-08'")
case "$got" in "110 cannot separate: no run of alpha's 2026-07 model (sha256 "*") on the 2026-08 eval set tiny (sha256 "*"run it with \`slmbench run CONFIG --as-of 2026-08-15\`"*)
    ok "both changed, cannot separate: says which run would" ;; *) notok "attribution: $got" ;; esac
got=$(q "select json_type(value, '\$.attribution') from json_each(json_extract(@J, '\$.series[0].months'))
         where json_extract(value, '\$.month') = '2026-07'")
[ "$got" = null ] && ok "no attribution where nothing changed" || notok "July attribution: $got"
expect_exit 0 "drift markdown" "$SLMBENCH" drift --from 2026-07 --to 2026-08 --db "$DB2"
expect_out '^## Model and eval set changed together' "markdown has the section"
expect_out '^\| alpha \| tiny \| 2026-07 → 2026-08 \| – \| – \| – \| – \| – \| cannot separate: no run of alpha' \
    "markdown says it cannot separate"

# the old model re-scored on the new eval set (another candidate name, dated in August)
cp "$DB2" "$TMP/both-new-model.db"
dated alpha-old "$TMP/A.csv" "$V2" 2026-08-10
expect_exit 0 "drift with the old model on the new set" "$SLMBENCH" drift --from 2026-07 --to 2026-08 \
    --db "$DB2" --format json
got=$(q "select json_extract(m.value, '\$.attribution.method') || ' ' || json_extract(m.value, '\$.attribution.rescore_candidate') || ' ' ||
         printf('%.12f %.12f %.12f', json_extract(m.value, '\$.attribution.metrics.accuracy.change'),
                json_extract(m.value, '\$.attribution.metrics.accuracy.model_effect'),
                json_extract(m.value, '\$.attribution.metrics.accuracy.data_effect'))
         from json_each(json_extract(@J, '\$.series')) s, json_each(json_extract(s.value, '\$.months')) m
         where json_extract(s.value, '\$.model') = 'alpha' and json_extract(m.value, '\$.month') = '2026-08'")
# close WANT...: the three numbers of $got within 1e-8 of the expected ones
close() { echo "$got" | awk -v x="$1" -v y="$2" -v z="${3:-}" '{ d = 0; n = split(x " " y " " z, w, " ")
    for (i = 1; i <= n; i++) { e = $(NF - n + i) - w[i]; d += e < 0 ? -e : e }; exit !(d < 1e-8) }'; }
want=$(awk -v a1="$a1" -v a2="$a2" -v b2="$b2" 'BEGIN { printf "%.12f %.12f %.12f", b2 - a1, b2 - a2, a2 - a1 }')
case "$got" in "old_model_on_new_evalset alpha-old "*) close $want && ok "model effect B-A on v2, data effect v2-v1 for A ($got)" \
    || notok "split: '$got', want '$want'" ;; *) notok "split: '$got'" ;; esac
expect_exit 0 "drift markdown with the re-score" "$SLMBENCH" drift --from 2026-07 --to 2026-08 --db "$DB2"
expect_out '^\| alpha \| tiny \| 2026-07 → 2026-08 \| accuracy \| [-+][0-9.]+ pts \| [-+][0-9.]+ pts \| [-+][0-9.]+ pts \| [0-9.]+% \| old model re-scored on the new eval set: run 3, candidate alpha-old \|' \
    "markdown splits the accuracy change"

# or the new model re-scored on the old set
DB2="$TMP/both-new-model.db"
dated beta-new "$TMP/B.csv" "$FX" 2026-07-20
expect_exit 0 "drift with the new model on the old set" "$SLMBENCH" drift --from 2026-07 --to 2026-08 \
    --db "$DB2" --format json
got=$(q "select json_extract(m.value, '\$.attribution.method') || ' ' ||
         printf('%.12f %.12f', json_extract(m.value, '\$.attribution.metrics.accuracy.model_effect'),
                json_extract(m.value, '\$.attribution.metrics.accuracy.data_effect'))
         from json_each(json_extract(@J, '\$.series')) s, json_each(json_extract(s.value, '\$.months')) m
         where json_extract(s.value, '\$.model') = 'alpha' and json_extract(m.value, '\$.month') = '2026-08'")
want=$(awk -v a1="$a1" -v b1="$b1" -v b2="$b2" 'BEGIN { printf "%.12f %.12f", b1 - a1, b2 - b1 }')
case "$got" in "new_model_on_old_evalset "*) close $want && ok "model effect B-A on v1, data effect v2-v1 for B ($got)" \
    || notok "split: '$got', want '$want'" ;; *) notok "split: '$got'" ;; esac
