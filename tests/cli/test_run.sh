# End to end on the tiny eval set with real llama.cpp demo models: run, report, export,
# replay, kill -9 and resume, Ctrl-C and resume, one row per example.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"

"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/a.gguf" --vocab 40 >/dev/null
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/b.gguf" --vocab 8 --alpha 5 >/dev/null
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/c.gguf" --vocab 40 --layers 2 >/dev/null
cat >"$TMP/run.yaml" <<YAML
name: tiny-e2e
evalset: $FX
threads: 1
warmup: 1
candidates:
  - {name: a, model: a.gguf}
  - {name: b, model: b.gguf}
  - {name: c, model: c.gguf}
YAML
expect_exit 0 "run three candidates" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/r.db"
expect_out '^\| a \| llamacpp \| F16' "comparison table printed"
n=$(sql "$TMP/r.db" "select count(*) from predictions")
[ "$n" = 72 ] && ok "one prediction per candidate and example (72)" || notok "expected 72 predictions, got $n"
st=$(sql "$TMP/r.db" "select status from runs")
[ "$st" = complete ] && ok "run marked complete" || notok "run status is $st"
acc_a=$(sql "$TMP/r.db" "select value from metrics m join candidates c on c.id=m.candidate_id where c.name='a' and m.name='accuracy'")
acc_b=$(sql "$TMP/r.db" "select value from metrics m join candidates c on c.id=m.candidate_id where c.name='b' and m.name='accuracy'")
awk -v a="$acc_a" 'BEGIN{exit !(a >= 0.75)}' && ok "candidate a is accurate ($acc_a)" || notok "candidate a accuracy $acc_a"
[ "$acc_a" != "$acc_b" ] && ok "candidates differ ($acc_a vs $acc_b)" || notok "candidates a and b have the same accuracy"
# Accuracy recomputed independently from the stored predictions.
indep=$(sql "$TMP/r.db" "select round(avg(gold = pred), 12) from predictions p join candidates c on c.id=p.candidate_id where c.name='a'")
stored=$(sql "$TMP/r.db" "select round(value, 12) from metrics m join candidates c on c.id=m.candidate_id where c.name='a' and m.name='accuracy'")
[ "$indep" = "$stored" ] && ok "stored accuracy matches the predictions" || notok "accuracy $stored vs recomputed $indep"
same=$(sql "$TMP/r.db" "select count(distinct prompt_sha256) = count(*) from examples")
[ "$same" = 1 ] && ok "one prompt hash per example" || notok "prompt hashes"
facts=$(sql "$TMP/r.db" "select count(*) from candidates where length(model_sha256)=64 and arch='llama' and quant='F16' and n_params > 0 and engine_version like 'llama.cpp%'")
[ "$facts" = 3 ] && ok "model facts recorded" || notok "model facts: $facts of 3"

expect_exit 0 "report markdown" "$SLMBENCH" report last --db "$TMP/r.db"
expect_out '^### Comparison' "report has the comparison"
expect_out '^\| gold \\ predicted' "report has a confusion matrix"
expect_out 'Per-class results' "report has per-class results"
expect_exit 0 "report --json" "$SLMBENCH" report last --db "$TMP/r.db" --json
for k in accuracy macro_f1 micro_f1 weighted_f1 e2e_ms_p50 e2e_ms_p90 e2e_ms_p95 e2e_ms_p99 e2e_ms_mean; do
    grep -q "\"$k\": " "$TMP/out" || { notok "report --json lacks $k"; continue; }
done
ok "report --json has the documented keys"
expect_exit 0 "report to a folder" "$SLMBENCH" report last --db "$TMP/r.db" --out "$TMP/rep"
[ -s "$TMP/rep/report.md" ] && ok "report.md written" || notok "report.md missing"

expect_exit 0 "export predictions" "$SLMBENCH" export predictions last --candidate a --db "$TMP/r.db" --out "$TMP/a.csv"
head -n 1 "$TMP/a.csv" | grep -qx 'id,label,pred,confidence,p_billing,p_shipping,p_technical,latency_ms' \
    && ok "export header" || notok "export header: $(head -n 1 "$TMP/a.csv")"
[ "$(wc -l < "$TMP/a.csv")" = 25 ] && ok "export has 24 rows" || notok "export rows"
expect_exit 3 "export of an unknown candidate" "$SLMBENCH" export predictions last --candidate zz --db "$TMP/r.db"
expect_err "no candidate 'zz'" "unknown candidate named"

# Replay the export: the same predictions, so the same accuracy.
cat >"$TMP/replay.yaml" <<YAML
name: replayed
evalset: $FX
warmup: 0
commit_every: 1
candidates:
  - {name: a-replayed, engine: replay, model: a.csv, options: {delay_ms: 40}}
YAML
expect_exit 0 "replay run" "$SLMBENCH" run "$TMP/replay.yaml" --db "$TMP/p.db" --quiet
acc_r=$(sql "$TMP/p.db" "select value from metrics where name='accuracy'")
[ "$acc_r" = "$acc_a" ] && ok "replayed accuracy equals the original ($acc_r)" || notok "replayed $acc_r vs $acc_a"

# kill -9 in the middle, then --resume: exactly one row per example.
rm -f "$TMP/k.db"
"$SLMBENCH" run "$TMP/replay.yaml" --db "$TMP/k.db" --quiet >/dev/null 2>&1 &
pid=$!
wait_rows "$TMP/k.db" 2 || true
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
before=$(sql "$TMP/k.db" "select count(*) from predictions")
st=$(sql "$TMP/k.db" "select status from runs")
[ "$st" = running ] && [ "$before" -lt 24 ] && ok "killed run left $before predictions, status running" \
    || notok "after kill -9: status $st, $before predictions"
expect_exit 0 "resume after kill -9" "$SLMBENCH" run --resume --db "$TMP/k.db" --quiet
n=$(sql "$TMP/k.db" "select count(*), count(distinct example_idx) from predictions")
[ "$n" = "24|24" ] && ok "exactly one row per example after resume" || notok "after resume: $n"
st=$(sql "$TMP/k.db" "select status from runs")
[ "$st" = complete ] && ok "resumed run complete" || notok "resumed run status $st"
acc_k=$(sql "$TMP/k.db" "select value from metrics where name='accuracy'")
[ "$acc_k" = "$acc_a" ] && ok "resumed metrics equal an uninterrupted run" || notok "resumed accuracy $acc_k"

# Ctrl-C: stops cleanly, marks the run interrupted, exit 130; resume finishes it.
rm -f "$TMP/i.db"
"$SLMBENCH" run "$TMP/replay.yaml" --db "$TMP/i.db" --quiet >/dev/null 2>"$TMP/int.err" &
pid=$!
wait_rows "$TMP/i.db" 2 || true
kill -INT $pid
if wait $pid; then rc=0; else rc=$?; fi
[ "$rc" = 130 ] && ok "SIGINT exits 130" || notok "SIGINT exit $rc"
st=$(sql "$TMP/i.db" "select status from runs")
[ "$st" = interrupted ] && ok "run marked interrupted" || notok "after SIGINT: status $st"
grep -q -- '--resume' "$TMP/int.err" && ok "message says how to resume" || notok "no resume hint"
expect_exit 0 "resume after SIGINT" "$SLMBENCH" run --resume --db "$TMP/i.db" --quiet
n=$(sql "$TMP/i.db" "select count(*), count(distinct example_idx) from predictions")
[ "$n" = "24|24" ] && ok "one row per example after SIGINT and resume" || notok "after SIGINT resume: $n"
expect_exit 3 "nothing left to resume" "$SLMBENCH" run --resume --db "$TMP/i.db"

# A failing engine call is recorded, not lost, never correct; --retry-errors redoes it.
cat >"$TMP/fail.yaml" <<YAML
name: faults
evalset: $FX
warmup: 0
candidates:
  - {name: flaky, engine: replay, model: a.csv, options: {fail_ids: "te03,te07"}}
YAML
expect_exit 4 "engine errors fail the run" "$SLMBENCH" run "$TMP/fail.yaml" --db "$TMP/f.db" --quiet
e=$(sql "$TMP/f.db" "select count(*) from predictions where error like 'injected failure%' and correct = 0 and pred is null")
[ "$e" = 2 ] && ok "failed examples stored with their error" || notok "failed examples stored: $e"
n=$(sql "$TMP/f.db" "select count(*) from predictions")
[ "$n" = 24 ] && ok "no prediction lost" || notok "predictions: $n"
expect_err "retry-errors" "the message says how to retry"
sed -i 's/fail_ids: "te03,te07"//' "$TMP/fail.yaml"
sql "$TMP/f.db" "update runs set config_text = replace(config_text, 'fail_ids: \"te03,te07\"', '')"
expect_exit 0 "--retry-errors redoes only the failed examples" "$SLMBENCH" run --resume --retry-errors --db "$TMP/f.db" --quiet
e=$(sql "$TMP/f.db" "select count(*) from predictions where error is not null")
n=$(sql "$TMP/f.db" "select count(*) from predictions")
[ "$e" = 0 ] && [ "$n" = 24 ] && ok "no errors left, still 24 rows" || notok "after retry: $e errors, $n rows"

# Generate mode: greedy answers, parsed against the label set, with TTFT and token counts.
cat >"$TMP/gen.yaml" <<YAML
name: gen
evalset: $FX
mode: generate
max_tokens: 4
threads: 1
warmup: 0
candidates:
  - {name: a, model: a.gguf}
  - {name: a-chat, model: a.gguf, chat_template: true}
YAML
expect_exit 0 "generate-mode run" "$SLMBENCH" run "$TMP/gen.yaml" --db "$TMP/g.db" --quiet
acc_g=$(sql "$TMP/g.db" "select value from metrics m join candidates c on c.id=m.candidate_id where c.name='a' and m.name='accuracy'")
[ "$acc_g" = "$acc_a" ] && ok "greedy generation agrees with score mode ($acc_g)" || notok "generate accuracy $acc_g vs score $acc_a"
v=$(sql "$TMP/g.db" "select count(*) from predictions where valid = 1 and n_output_tokens >= 1 and ttft_ms > 0")
[ "$v" = 48 ] && ok "every generated answer is a label, with tokens and TTFT" || notok "valid generated answers: $v of 48"
ct=$(sql "$TMP/g.db" "select chat_template_used || ':' || coalesce(chat_template, '') from candidates where name = 'a-chat'")
case "$ct" in 1:?*) ok "chat template use recorded ($ct)" ;; *) notok "chat template not recorded: $ct" ;; esac

# An answer outside the label set is wrong, counted invalid, and stored as said.
sed 's/^te05,billing,billing,/te05,billing,banana split,/' "$TMP/a.csv" > "$TMP/inv.csv"
grep -q '^te05,billing,banana split,' "$TMP/inv.csv" || sed -i 's/^te05,\([a-z]*\),[a-z]*,/te05,\1,banana split,/' "$TMP/inv.csv"
cat >"$TMP/inv.yaml" <<YAML
name: invalid
evalset: $FX
mode: generate
warmup: 0
candidates:
  - {name: r, engine: replay, model: inv.csv}
YAML
expect_exit 0 "generate run with an invalid answer" "$SLMBENCH" run "$TMP/inv.yaml" --db "$TMP/inv.db" --quiet
row=$(sql "$TMP/inv.db" "select pred || '|' || valid || '|' || correct from predictions where example_id = 'te05'")
[ "$row" = "banana split|0|0" ] && ok "invalid answer stored, invalid and wrong" || notok "invalid answer row: $row"
ninv=$(sql "$TMP/inv.db" "select value from metrics where name = 'n_invalid'")
[ "$ninv" = 1.0 ] && ok "n_invalid counts it" || notok "n_invalid = $ninv"

# Calibration and comparisons (issue: calibration, selective prediction, honest comparisons).
"$SLMBENCH" report last --db "$TMP/r.db" --json > "$TMP/r.json" 2>/dev/null
for k in ece_15 ece_15_mass mce_15 brier nll aurc coverage_at_0.90 coverage_at_0.95 coverage_at_0.99 coverage_at_0.90_threshold; do
    grep -q "\"$k\": " "$TMP/r.json" || notok "report --json lacks $k"
done
ok "report --json has the calibration keys"
nb=$(sql "$TMP/r.db" "select count(*) from reliability where scheme = 'width'")
[ "$nb" = 45 ] && ok "15 reliability bins per candidate" || notok "reliability rows: $nb"
nc=$(sql "$TMP/r.db" "select count(*) from comparisons")
[ "$nc" = 2 ] && ok "two candidates paired with the best" || notok "comparisons: $nc"
ci=$(sql "$TMP/r.db" "select count(*) from metrics where name in ('accuracy','macro_f1','ece_15') and lo <= value and value <= hi")
[ "$ci" = 9 ] && ok "bootstrap intervals around accuracy, macro-F1 and ECE" || notok "intervals: $ci of 9"
expect_exit 0 "compare two candidates" "$SLMBENCH" compare last:a last:b --db "$TMP/r.db"
expect_out '^\| [0-9]+:a \| [0-9]+:b \| 24 \|' "compare prints the paired row"
expect_exit 0 "compare --json" "$SLMBENCH" compare last:a last:b --db "$TMP/r.db" --json
b1=$(sql "$TMP/r.db" "select sum(pa.correct and not pb.correct) || '|' || sum(pb.correct and not pa.correct) from predictions pa join predictions pb on pa.example_id = pb.example_id join candidates ca on ca.id = pa.candidate_id join candidates cb on cb.id = pb.candidate_id where ca.name = 'a' and cb.name = 'b' and pa.run_id = pb.run_id and pa.run_id = (select max(id) from runs)")
grep -q "\"only_a_right\": ${b1%|*}," "$TMP/out" && grep -q "\"only_b_right\": ${b1#*|}," "$TMP/out" \
    && ok "McNemar's b and c match the stored predictions ($b1)" || notok "b|c expected $b1"
sed 's/^name: tiny-e2e/name: tiny-train\nsplit: train/' "$TMP/run.yaml" > "$TMP/train.yaml"
"$SLMBENCH" run "$TMP/train.yaml" --db "$TMP/r.db" --quiet >/dev/null
expect_exit 3 "compare across different data is refused" "$SLMBENCH" compare tiny-train:a tiny-e2e:a --db "$TMP/r.db"
expect_err "different data" "the refusal says why"
expect_exit 3 "--allow-different pairs by id; none shared here" "$SLMBENCH" compare tiny-train:a tiny-e2e:a --db "$TMP/r.db" --allow-different
expect_err "share no example ids" "no shared example ids is said plainly"

# Temperature scaling: fitted on the calibration split, never on the test split.
sed 's/^name: tiny-e2e/name: tiny-ts\ncalibration_split: calibration/' "$TMP/run.yaml" > "$TMP/ts.yaml"
expect_exit 0 "run with a calibration split" "$SLMBENCH" run "$TMP/ts.yaml" --db "$TMP/ts.db" --quiet
nt=$(sql "$TMP/ts.db" "select count(*) from metrics where name = 'temperature' and value > 0")
[ "$nt" = 3 ] && ok "a temperature per candidate" || notok "temperatures: $nt"
nc=$(sql "$TMP/ts.db" "select count(*) from calib_predictions where error is null")
[ "$nc" = 36 ] && ok "calibration split scored by every candidate (36)" || notok "calibration rows: $nc"
ne=$(sql "$TMP/ts.db" "select count(*) from metrics where name in ('ece_15_ts','nll_ts','brier_ts') and value >= 0")
[ "$ne" = 9 ] && ok "calibration after temperature scaling stored" || notok "after-scaling metrics: $ne"
acc_ts=$(sql "$TMP/ts.db" "select value from metrics m join candidates c on c.id=m.candidate_id where c.name='a' and m.name='accuracy'")
[ "$acc_ts" = "$acc_a" ] && ok "the calibration pass leaves test predictions unchanged" || notok "accuracy $acc_ts vs $acc_a"
"$SLMBENCH" report last --db "$TMP/ts.db" > "$TMP/ts.md"
grep -q '^Temperature scaling' "$TMP/ts.md" && ok "report shows temperature scaling" || notok "no temperature table"
sed 's/^name: tiny-e2e/name: bad-ts\ncalibration_split: test/' "$TMP/run.yaml" > "$TMP/bad-ts.yaml"
expect_exit 3 "fitting on the test split is refused" "$SLMBENCH" run "$TMP/bad-ts.yaml" --db "$TMP/bts.db"
expect_err "never fitted on the test split" "the refusal says why"

# Latency rigour: repeats (all samples kept, median stored), interleaved candidates, host load.
sed 's/^name: tiny-e2e/name: rig\nrepeats: 3\ninterleave: true\ncommit_every: 5/' "$TMP/run.yaml" > "$TMP/rig.yaml"
expect_exit 0 "repeats and interleaving" "$SLMBENCH" run "$TMP/rig.yaml" --db "$TMP/rig.db" --quiet
ns=$(sql "$TMP/rig.db" "select count(*) from samples")
[ "$ns" = 216 ] && ok "3 samples per example and candidate kept (216)" || notok "samples: $ns"
med=$(sql "$TMP/rig.db" "select count(*) from predictions p where e2e_ms = (select e2e_ms from samples s where s.candidate_id = p.candidate_id and s.example_idx = p.example_idx order by e2e_ms limit 1 offset 1)")
[ "$med" = 72 ] && ok "stored latency is the median of the repeats" || notok "median rows: $med of 72"
acc_rig=$(sql "$TMP/rig.db" "select value from metrics m join candidates c on c.id=m.candidate_id where c.name='a' and m.name='accuracy'")
[ "$acc_rig" = "$acc_a" ] && ok "interleaved run gives the same predictions" || notok "interleaved accuracy $acc_rig"
cv=$(sql "$TMP/rig.db" "select count(*) from metrics where name = 'repeat_cv' and value >= 0")
[ "$cv" = 3 ] && ok "repeat spread measured per candidate" || notok "repeat_cv rows: $cv"
ld=$(sql "$TMP/rig.db" "select count(*) from candidates where load1_before >= 0 and load1_after >= 0 and steal_pct >= 0")
[ "$ld" = 3 ] && ok "load average and steal time recorded" || notok "load/steal rows: $ld"
bw=$(sql "$TMP/rig.db" "select bandwidth_gbs > 0.1 from runs")
[ "$bw" = 1 ] && ok "memory bandwidth measured for the roofline" || notok "bandwidth: $bw"
gf=$(sql "$TMP/rig.db" "select count(*) from metrics where name = 'prefill_gflops' and value > 0")
[ "$gf" = 3 ] && ok "prefill GFLOP/s per candidate" || notok "prefill_gflops rows: $gf"
sd=$(sql "$TMP/rig.db" "select count(*) from metrics where name = 'decode_tokens_per_s' and value is not null")
[ "$sd" = 0 ] && ok "no decode rate in score mode" || notok "decode rate in score mode: $sd"
rm=$(sql "$TMP/rig.db" "select count(*) from metrics where name = 'peak_rss_mb' and value > 1")
[ "$rm" = 3 ] && ok "peak resident memory recorded" || notok "peak_rss rows: $rm"

# Counters: whole process, at the phase boundaries; unavailable events are NULL with a reason.
ev=$(sql "$TMP/r.db" "select count(*) from counter_events where source = 'unavailable' and length(reason) > 10")
av=$(sql "$TMP/r.db" "select count(*) from counter_events where source <> 'unavailable'")
[ "$av" -ge 1 ] && ok "$av counter events available, $ev unavailable with a reason" || notok "no counter available"
z=$(sql "$TMP/r.db" "select count(*) from counters c join counter_events e on e.run_id = c.run_id and e.event = c.event where e.source = 'unavailable' and c.value = 0")
[ "$z" = 0 ] && ok "no unavailable event stored as 0" || notok "unavailable stored as 0: $z"
tc=$(sql "$TMP/r.db" "select value from metrics m join candidates c on c.id = m.candidate_id where c.name = 'a' and c.run_id = 1 and m.name = 'task_clock_vs_cpu_time'")
if [ -n "$tc" ]; then
    # the process CPU time (getrusage) and task-clock account the same work by different
    # clocks; under a load of 5+ on 2 cores they were seen 8% apart on this short run, so
    # the check is for gross errors (one thread of two counted: 0.5 or 2)
    awk -v t="$tc" 'BEGIN{exit !(t > 0.85 && t < 1.15)}' && ok "task-clock agrees with process CPU time within 15% ($tc)" || notok "task-clock / CPU time = $tc"
else
    skip "task-clock check (no task-clock source on this machine)"
fi
expect_exit 0 "--events picks the counters" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/ev.db" --quiet --events task-clock
ne=$(sql "$TMP/ev.db" "select group_concat(event) from counter_events where event <> 'energy'")
[ "$ne" = task-clock ] && ok "only the asked event counted" || notok "events: $ne"
expect_exit 3 "an unknown event is refused" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/ev2.db" --events bogus-event

# Throughput mode: the same predictions as single-stream, with examples/s beside.
sed 's/^name: tiny-e2e/name: tput\nthroughput: true/' "$TMP/run.yaml" > "$TMP/tput.yaml"
expect_exit 0 "throughput mode" "$SLMBENCH" run "$TMP/tput.yaml" --db "$TMP/tp.db" --quiet
mm=$(sql "$TMP/tp.db" "select group_concat(value) from metrics where name = 'throughput_mismatches'")
[ "$mm" = "0.0,0.0,0.0" ] && ok "batched predictions identical to single-stream" || notok "mismatches: $mm"
tp=$(sql "$TMP/tp.db" "select count(*) from metrics where name = 'throughput_examples_per_s' and value > 0")
[ "$tp" = 3 ] && ok "examples/s in throughput mode" || notok "throughput rows: $tp"

# Decode roofline: a model that keeps generating exercises the decode phase.
"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/ns.gguf" --vocab 40 --no-stop >/dev/null
cat >"$TMP/dec.yaml" <<YAML
name: decode
evalset: $FX
mode: generate
max_tokens: 6
threads: 1
warmup: 1
limit: 8
candidates: [{name: ns, model: ns.gguf}]
YAML
expect_exit 0 "generate six tokens per example" "$SLMBENCH" run "$TMP/dec.yaml" --db "$TMP/dec.db" --quiet
nt=$(sql "$TMP/dec.db" "select min(n_output_tokens) from predictions")
[ "$nt" = 6 ] && ok "max_tokens reached" || notok "output tokens: $nt"
rl=$(sql "$TMP/dec.db" "select count(*) from metrics where name in ('decode_tokens_per_s','decode_bound_tokens_per_s','roofline_decode_pct','tpot_ms_p50') and value > 0")
[ "$rl" = 4 ] && ok "decode rate, bandwidth bound, roofline % and TPOT measured" || notok "decode metrics: $rl of 4"

# Flakiness: a deterministic engine flips nothing on re-run.
expect_exit 0 "--repeat-check" "$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/fl.db" --quiet --repeat-check 10
fr=$(sql "$TMP/fl.db" "select group_concat(value) from metrics where name = 'flip_rate'")
[ "$fr" = "0.0,0.0,0.0" ] && ok "flip rate 0 for llama.cpp greedy scoring" || notok "flip rates: $fr"
nn=$(sql "$TMP/fl.db" "select group_concat(repeat_check_n) from candidates")
[ "$nn" = "10,10,10" ] && ok "10 examples re-run per candidate" || notok "re-run counts: $nn"
cat >"$TMP/flaky.yaml" <<YAML
name: flaky
evalset: $FX
warmup: 0
bandwidth: false
candidates:
  - {name: flaky, engine: replay, model: a.csv, options: {fail_every: "5"}}
YAML
"$SLMBENCH" run "$TMP/flaky.yaml" --db "$TMP/fk.db" --quiet --repeat-check 20 >/dev/null 2>&1 || true
fk=$(sql "$TMP/fk.db" "select value > 0 from metrics where name = 'flip_rate'")
[ "$fk" = 1 ] && ok "a flaky engine shows flips ($(sql "$TMP/fk.db" "select value from metrics where name = 'flip_rate'"))" || notok "flaky engine flip rate: $fk"

# SIGHUP (a closed terminal) and SIGTERM stop a run like Ctrl-C: marked interrupted, exit
# 130, resumable (issue 16, defect 14a). A SIGHUP ignored by whoever started the tests
# (nohup) is inherited and stays ignored by design, so that case cannot be tested here.
hup_ignored=$(awk '/^SigIgn:/ { print (substr($2, length($2)) ~ /[13579bdf]/) }' /proc/$$/status)
for sig in HUP TERM; do
    if [ "$sig" = HUP ] && [ "$hup_ignored" = 1 ]; then
        skip "SIGHUP stops a run (SIGHUP is ignored by the test's parent)"
        continue
    fi
    rm -f "$TMP/s.db"
    "$SLMBENCH" run "$TMP/replay.yaml" --db "$TMP/s.db" --quiet >/dev/null 2>"$TMP/sig.err" &
    pid=$!
    wait_rows "$TMP/s.db" 2 || true
    kill -$sig $pid
    if wait $pid; then rc=0; else rc=$?; fi
    st=$(sql "$TMP/s.db" "select status from runs")
    [ "$rc" = 130 ] && [ "$st" = interrupted ] && ok "SIG$sig: exit 130, run marked interrupted" \
        || notok "after SIG$sig: exit $rc, status $st"
    expect_exit 0 "resume after SIG$sig" "$SLMBENCH" run --resume --db "$TMP/s.db" --quiet
    n=$(sql "$TMP/s.db" "select count(*), count(distinct example_idx) from predictions")
    [ "$n" = "24|24" ] && ok "one row per example after SIG$sig and resume" \
        || notok "after SIG$sig resume: $n"
done

# kill -9 with the default commit_every loses no finished prediction (issue 16, defect 13):
# every row visible before the kill keeps its rowid and latency through the resume, so none
# was computed again.
grep -v '^commit_every:' "$TMP/replay.yaml" > "$TMP/dflt.yaml"
rm -f "$TMP/d9.db"
"$SLMBENCH" run "$TMP/dflt.yaml" --db "$TMP/d9.db" --quiet >/dev/null 2>&1 &
pid=$!
wait_rows "$TMP/d9.db" 5 || true
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
keep="select example_idx, rowid, e2e_ms from predictions order by example_idx"
sql "$TMP/d9.db" "$keep" > "$TMP/d9.before"
nb=$(wc -l < "$TMP/d9.before")
st=$(sql "$TMP/d9.db" "select status from runs")
[ "$st" = running ] && [ "$nb" -ge 5 ] && [ "$nb" -lt 24 ] \
    && ok "default commit_every: $nb predictions visible when killed" \
    || notok "default commit_every, after kill -9: status $st, $nb predictions"
expect_exit 0 "resume after kill -9 (default commit_every)" \
    "$SLMBENCH" run --resume --db "$TMP/d9.db" --quiet
sql "$TMP/d9.db" "$keep" > "$TMP/d9.after"
lost=$(grep -Fxv -f "$TMP/d9.after" "$TMP/d9.before" | head -n 3)
[ -z "$lost" ] && [ "$(wc -l < "$TMP/d9.after")" = 24 ] \
    && ok "none of the $nb stored predictions recomputed on resume" \
    || notok "stored predictions changed on resume: $lost"

# Four runs creating the same new database at once all succeed (issue 16, defect 2: the
# migration read user_version before taking the write lock).
rm -f "$TMP/race.db"
for i in 1 2 3 4; do
    "$SLMBENCH" run "$TMP/replay.yaml" --db "$TMP/race.db" --quiet >/dev/null 2>"$TMP/race$i.err" &
    eval "race$i=\$!"
done
bad=0
for i in 1 2 3 4; do
    eval "p=\$race$i"
    wait "$p" || bad=$((bad + 1))
done
nr=$(sql "$TMP/race.db" "select count(*) from runs where status = 'complete'")
[ "$bad" = 0 ] && [ "$nr" = 4 ] && ok "four runs creating one database at once all complete" \
    || notok "concurrent creation: $bad failed, $nr complete: $(cat "$TMP"/race?.err | head -n 2)"
