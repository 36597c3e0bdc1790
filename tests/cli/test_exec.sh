# The exec engine: a local program spoken to in JSON lines (engines/exec/PROTOCOL.md),
# driven by tests/helpers/exec_model with its fault flags: crashes are restarted, hangs
# time out, garbage is an error for that example alone, and no process is left behind.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
BIN=${SLM_TEST_BIN:-$ROOT/build/tests}
if [ ! -x "$BIN/exec_model" ]; then
    skip "exec engine ($BIN/exec_model not built)"
    exit 0
fi
# A private copy, so leftover processes of this test can be told from anyone else's.
cp "$BIN/exec_model" "$TMP/exec_model"
M="$TMP/exec_model"
leftovers() { ps -eo pid=,stat=,args= | grep -F "$TMP/exec_model" | grep -v grep || true; }

expect_exit 0 "slmbench engines" "$SLMBENCH" engines
expect_out '^exec +enabled ' "exec engine listed as enabled"

# config NAME MODE CANDIDATE-LINES...: a run config on the tiny eval set.
config() {
    name=$1 mode=$2; shift 2
    {
        printf 'name: %s\nevalset: %s\nmode: %s\nwarmup: 0\ncandidates:\n' "$name" "$FX" "$mode"
        for c in "$@"; do printf '  - %s\n' "$c"; done
    } >"$TMP/$name.yaml"
}
# errors DB CANDIDATE: "example_id|error" of the failed rows, one per line.
errors() { sql "$1" "select p.example_id || '|' || p.error from predictions p join candidates c on c.id = p.candidate_id where c.name = '$2' and p.error is not null order by p.example_idx"; }
count() { sql "$1" "select count(*) from predictions p join candidates c on c.id = p.candidate_id where c.name = '$2' $3"; }

# A well-behaved program, generate and score mode, argv as a JSON array and as a string.
config gen generate \
    "{name: arr, engine: exec, options: {command: '[\"$M\"]'}}" \
    "{name: str, engine: exec, options: {command: '$M --slow 1', env: 'A=1;B=2', cwd: '$TMP'}}"
expect_exit 0 "generate-mode run" "$SLMBENCH" run "$TMP/gen.yaml" --db "$TMP/gen.db" --quiet
n=$(sql "$TMP/gen.db" "select count(*), count(distinct candidate_id || ':' || example_idx), sum(error is null), sum(valid) from predictions")
[ "$n" = "48|48|48|48" ] && ok "one valid answer per example and candidate" || notok "generate rows: $n"
acc_g=$(sql "$TMP/gen.db" "select value from metrics m join candidates c on c.id = m.candidate_id where c.name = 'arr' and m.name = 'accuracy'")
awk -v a="$acc_g" 'BEGIN{exit !(a > 0.8)}' && ok "the program's answers are used (accuracy $acc_g)" || notok "accuracy $acc_g"
f=$(sql "$TMP/gen.db" "select model_name || '|' || engine_version || '|' || arch from candidates where name = 'arr'")
[ "$f" = "exec_model|exec 0.1.0 (1.0)|exec" ] && ok "name and version from the hello line" || notok "model facts: $f"
t=$(sql "$TMP/gen.db" "select count(*) from predictions where n_output_tokens = 1 and confidence > 0.9")
[ "$t" = 48 ] && ok "tokens and log-probabilities of the answer stored" || notok "tokens/confidence rows: $t"

config score score "{name: s, engine: exec, options: {command: '$M'}}"
expect_exit 0 "score-mode run (caps include score)" "$SLMBENCH" run "$TMP/score.yaml" --db "$TMP/score.db" --quiet
n=$(sql "$TMP/score.db" "select count(*) || '|' || sum(error is null) from predictions")
[ "$n" = "24|24" ] && ok "one scored row per example" || notok "score rows: $n"
acc_s=$(sql "$TMP/score.db" "select value from metrics where name = 'accuracy'")
[ "$acc_s" = "$acc_g" ] && ok "score mode agrees with generate mode ($acc_s)" || notok "score $acc_s vs generate $acc_g"
p=$(sql "$TMP/score.db" "select logprobs_json from predictions where example_id = 'te01'")
echo "$p" | grep -Eq '^\[-0\.10*1?,-3(\.0*)?,-3(\.0*)?\]$' && ok "log-probabilities stored as sent ($p)" \
    || notok "log-probabilities stored: $p"

# Without a hello line the program can only generate.
config nocaps score "{name: nc, engine: exec, options: {command: '$M --no-caps', hello_ms: '100'}}"
expect_exit 3 "score mode without declared caps is refused before any example" "$SLMBENCH" run "$TMP/nocaps.yaml" --db "$TMP/nc.db" --quiet
expect_err "candidate 'nc': engine 'exec' cannot score choices with these options .*; use mode: generate" "the refusal names the candidate and says to generate"
e=$(sql "$TMP/nc.db" "select count(*) from predictions")
[ "$e" = 0 ] && ok "no example was sent" || notok "predictions stored: $e"
sed -i 's/^mode: score/mode: generate/' "$TMP/nocaps.yaml"
expect_exit 0 "generate mode without a hello line" "$SLMBENCH" run "$TMP/nocaps.yaml" --db "$TMP/nc2.db" --quiet

# A crash: that request fails with the exit status and stderr, the program is restarted.
config crash generate "{name: c, engine: exec, options: {command: '[\"$M\", \"--crash-after\", \"5\"]'}}"
expect_exit 4 "a crashing program fails only the requests that hit the crash" "$SLMBENCH" run "$TMP/crash.yaml" --db "$TMP/c.db" --quiet
e=$(errors "$TMP/c.db" c | cut -d'|' -f1 | tr '\n' ' ')
[ "$e" = "te06 te12 te18 te24 " ] && ok "each crash costs one request; restarted after each ($e)" || notok "crash errors: $e"
e=$(count "$TMP/c.db" c "and p.error like 'program ''exec_model'' exited with status 3; stderr: exec_model: crashing on request 6%'")
[ "$e" = 4 ] && ok "error names the program, its exit status and its stderr" || { notok "crash message"; errors "$TMP/c.db" c | head -n 2 | sed 's/^/#   /'; }
n=$(count "$TMP/c.db" c "and p.error is null and p.valid = 1")
[ "$n" = 20 ] && ok "the other 20 examples answered" || notok "answered: $n"

# Restarts used up: every later request fails with "keeps dying".
config dying generate "{name: d, engine: exec, options: {command: '$M --crash-after 2', restarts: '1'}}"
expect_exit 4 "a program that keeps dying" "$SLMBENCH" run "$TMP/dying.yaml" --db "$TMP/d.db" --quiet
e=$(count "$TMP/d.db" d "and p.error like 'program ''exec_model'' keeps dying: restarted 1 times; last: program ''exec_model'' exited with status 3%'")
x=$(count "$TMP/d.db" d "and p.error like '%exited with status 3%' and p.error not like '%keeps dying%'")
[ "$e" = 18 ] && [ "$x" = 2 ] && ok "two crashes, then 18 requests refused with 'keeps dying'" || notok "keeps dying: $e, crashes: $x"

# A hang: that request times out, the rest are answered.
config hang generate "{name: h, engine: exec, options: {command: '$M --hang-on te03', timeout_ms: '500'}}"
expect_exit 4 "a hanging request times out" "$SLMBENCH" run "$TMP/hang.yaml" --db "$TMP/h.db" --quiet
e=$(errors "$TMP/h.db" h)
case "$e" in "te03|program 'exec_model' timed out after 500 ms; stderr: exec_model: hanging on 'te03'") ok "te03 stored with a timeout error" ;;
    *) notok "hang errors: $e" ;; esac
n=$(count "$TMP/h.db" h "and p.error is null")
[ "$n" = 23 ] && ok "the other 23 answered" || notok "answered after the hang: $n"

# Ctrl-C while a request hangs (timeout_ms 30 s, 3 restarts): the run ends at once, not
# after the timeouts; the abandoned request is not stored; the program is gone.
config hangint generate "{name: h, engine: exec, options: {command: '$M --hang-on te03', timeout_ms: '30000', restarts: '3'}}"
"$SLMBENCH" run "$TMP/hangint.yaml" --db "$TMP/hi.db" --quiet >/dev/null 2>"$TMP/hi.err" &
pid=$!
wait_rows "$TMP/hi.db" 2 || notok "the run never stored two rows"
kill -INT $pid
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
    notok "SIGINT during a hung exec request: still running 10 s later"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
else
    rc=0
    wait $pid || rc=$?
    [ "$rc" = 130 ] && ok "SIGINT during a hung exec request exits 130 within 10 s" || notok "exit after SIGINT: $rc"
fi
st=$(sql "$TMP/hi.db" "select status from runs")
[ "$st" = interrupted ] && ok "the run is interrupted, resumable" || notok "run status after SIGINT: $st"
e=$(count "$TMP/hi.db" h "and p.example_id = 'te03'")
[ "$e" = 0 ] && ok "the abandoned request is not stored" || notok "te03 rows after SIGINT: $e"
[ -z "$(leftovers)" ] && ok "no program left after Ctrl-C" || notok "left behind: $(leftovers)"

# Garbage, an answer for another id, and an error reply: each fails its example alone.
config bad generate \
    "{name: g, engine: exec, options: {command: '$M --garbage-on te05'}}" \
    "{name: w, engine: exec, options: {command: '$M --wrong-id-on te07'}}" \
    "{name: r, engine: exec, options: {command: '$M --error-on te09'}}"
expect_exit 4 "malformed answers" "$SLMBENCH" run "$TMP/bad.yaml" --db "$TMP/b.db" --quiet
e=$(errors "$TMP/b.db" g)
[ "$e" = "te05|program 'exec_model' answered 'te05' with malformed json - '[' or '{' expected near 'this': 'this is not json {'" ] \
    && ok "non-JSON answer stored as an error" || notok "garbage: $e"
e=$(errors "$TMP/b.db" w)
[ "$e" = "te07|program 'exec_model' answered request 'te07' with id \"not-it\"" ] \
    && ok "answer for another id stored as an error" || notok "wrong id: $e"
e=$(errors "$TMP/b.db" r)
[ "$e" = "te09|program 'exec_model': injected failure" ] && ok "the program's own error stored" || notok "error reply: $e"
n=$(sql "$TMP/b.db" "select count(*) from predictions where error is null")
[ "$n" = 69 ] && ok "every other example answered (69)" || notok "answered: $n"

# A program that cannot start, or dies at once, fails the candidate with the reason.
config nostart generate "{name: x, engine: exec, options: {command: '$TMP/no-such-program'}}"
expect_exit 4 "a missing program" "$SLMBENCH" run "$TMP/nostart.yaml" --db "$TMP/x.db" --quiet
expect_err "cannot start program '$TMP/no-such-program': No such file" "the reason is given"
config badarg generate "{name: y, engine: exec, options: {command: '$M --bogus'}}"
expect_exit 4 "a program that exits at start" "$SLMBENCH" run "$TMP/badarg.yaml" --db "$TMP/y.db" --quiet
expect_err "exited with status 2 on start; stderr: exec_model: unknown argument '--bogus'" "its status and stderr are given"
config nocmd generate "{name: z, engine: exec}"
expect_exit 4 "no command" "$SLMBENCH" run "$TMP/nocmd.yaml" --db "$TMP/z.db" --quiet
expect_err "missing option 'command'" "a missing command is named"

# No zombies while running: one child at a time, and a dead one is reaped at once (a
# zombie may be caught in the instant before it is reaped, never twice in a row).
config live generate "{name: l, engine: exec, options: {command: '$M --slow 40 --crash-after 3'}}"
"$SLMBENCH" run "$TMP/live.yaml" --db "$TMP/l.db" --quiet >/dev/null 2>&1 &
pid=$!
bad=0 seen=0 prevz=""
for i in 1 2 3 4 5 6 7 8 9 10; do
    sleep 0.1
    k=$(ps --ppid "$pid" -o pid=,stat= 2>/dev/null || true)
    [ -n "$k" ] && seen=$((seen + 1))
    z=$(printf '%s\n' "$k" | awk '$2 ~ /Z/ {print $1}')
    for p in $z; do case " $prevz " in *" $p "*) bad=1 ;; esac; done
    prevz=$(echo $z)
    [ "$(printf '%s\n' "$k" | grep -c .)" -le 1 ] || bad=1
done
wait $pid || true
[ "$bad" = 0 ] && [ "$seen" -ge 2 ] && ok "the program is a direct child, one at a time, never a zombie ($seen samples)" \
    || notok "children during the run: bad=$bad seen=$seen"
n=$(sql "$TMP/l.db" "select count(*) from predictions")
[ "$n" = 24 ] && ok "24 rows after restarts" || notok "rows: $n"

# close(): a program that ignores SIGTERM is SIGKILLed after 1 s.
config term generate "{name: t, engine: exec, options: {command: '$M --ignore-term'}}"
expect_exit 0 "a program that ignores SIGTERM" "$SLMBENCH" run "$TMP/term.yaml" --db "$TMP/t.db" --quiet

sleep 0.2
l=$(leftovers)
[ -z "$l" ] && ok "no exec_model process left behind" || { notok "leftover processes"; printf '%s\n' "$l" | sed 's/^/#   /'; }
