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
expect_exit 2 "--as-of with --resume" "$SLMBENCH" run --resume --db "$DB" --as-of 2026-07-01
expect_err "a resumed run keeps its date" "--resume keeps the run's date"
n1=$(sql "$DB" "select count(*) from runs")
[ "$n0" = "$n1" ] && ok "refused dates store nothing" || notok "runs: $n0 -> $n1"
got=$(sql "$DB" "select count(*) from runs where as_of is null")
expect_exit 0 "an undated run" "$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet
got=$(sql "$DB" "select as_of is null and created_at like '$today%' from runs order by id desc limit 1")
[ "$got" = 1 ] && ok "without --as-of, as_of is NULL (dated by created_at)" || notok "undated: $got"
