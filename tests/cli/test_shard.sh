# Across machines: three shards of a run, merged, give the metrics of the unsharded run.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/a.gguf" --vocab 40 >/dev/null
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/b.gguf" --vocab 8 --alpha 5 >/dev/null
cat >"$TMP/run.yaml" <<YAML
name: sharded
evalset: $FX
threads: 1
warmup: 1
bootstrap: 200
calibration_split: calibration
candidates:
  - {name: a, model: a.gguf}
  - {name: b, model: b.gguf}
YAML
expect_exit 0 "unsharded run" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/full.db" --quiet
for i in 0 1 2; do
    expect_exit 0 "shard $i/3" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/s$i.db" --quiet --shard $i/3
done
n1=$(sql "$TMP/s1.db" "select count(*) from predictions")
[ "$n1" = 16 ] && ok "shard 1/3 holds its 8 examples × 2 candidates" || notok "shard 1/3 predictions: $n1"
expect_exit 0 "merge" "$SLMBENCH" merge "$TMP/m.db" "$TMP/s2.db" "$TMP/s0.db" "$TMP/s1.db"
n=$(sql "$TMP/m.db" "select count(*), count(distinct candidate_id || ':' || example_idx) from predictions")
[ "$n" = "48|48" ] && ok "merged run: one row per example and candidate" || notok "merged rows: $n"
q="select c.name || ' ' || m.name || ' ' || printf('%.12f', m.value) || ' ' || printf('%.12f', coalesce(m.lo, -1)) || ' ' || printf('%.12f', coalesce(m.hi, -1)) from metrics m join candidates c on c.id = m.candidate_id where m.name in ('accuracy','macro_f1','micro_f1','weighted_f1','ece_15','ece_15_mass','mce_15','brier','nll','aurc','coverage_at_0.90','temperature','ece_15_ts','n','n_correct') order by 1"
sql "$TMP/full.db" "$q" > "$TMP/full.txt"
sql "$TMP/m.db" "$q" > "$TMP/merged.txt"
if cmp -s "$TMP/full.txt" "$TMP/merged.txt" && [ -s "$TMP/full.txt" ]; then
    ok "merged metrics (incl. bootstrap intervals and temperature) equal the unsharded run's ($(wc -l < "$TMP/full.txt") values)"
else
    notok "merged metrics differ"; diff "$TMP/full.txt" "$TMP/merged.txt" | head -10 | sed 's/^/#   /'
fi
pc=$(sql "$TMP/m.db" "select group_concat(b || '/' || c) from comparisons")
pf=$(sql "$TMP/full.db" "select group_concat(b || '/' || c) from comparisons")
[ "$pc" = "$pf" ] && ok "paired comparison equal ($pc)" || notok "comparisons $pc vs $pf"
expect_exit 0 "report of the merged run" "$SLMBENCH" report last --db "$TMP/m.db"
expect_exit 3 "a missing shard is refused" "$SLMBENCH" merge "$TMP/m2.db" "$TMP/s0.db" "$TMP/s1.db"
expect_err "shard 2/3 is missing" "the refusal names the shard"
expect_exit 3 "a shard given twice is refused" "$SLMBENCH" merge "$TMP/m3.db" "$TMP/s0.db" "$TMP/s0.db" "$TMP/s1.db" "$TMP/s2.db"
expect_exit 3 "an unsharded run is refused" "$SLMBENCH" merge "$TMP/m4.db" "$TMP/full.db"
expect_exit 2 "--shard 3/3 is a usage error" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/x.db" --shard 3/3
