#!/bin/sh
# slmbench ingest and deploy: production logs into the store. Every bad-input case of the
# README's "Production logs" (file:line, exit 3, or skipped and counted), idempotence,
# conflicts, --no-text, CSV and JSON lines giving the same rows, deploy's refusals, and
# kill -9 in the middle of an ingest followed by the same command: the same rows as an
# uninterrupted ingest.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
DB="$TMP/p.db"

# ---- an eval run to tie deployments to (replay engine, the tiny set) ----
awk -F, 'NR > 1 { if (!n++) print "id,pred,p_billing,p_shipping,p_technical"
                  printf "%s,%s,0.8,0.1,0.1\n", $1, "billing" }' "$FX/test.csv" >"$TMP/replay.csv"
cat >"$TMP/run.yaml" <<YAML
name: shipped
evalset: $FX
warmup: 0
bootstrap: 50
candidates:
  - {name: router, engine: replay, model: $TMP/replay.csv}
YAML
"$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet >/dev/null 2>"$TMP/run.err" ||
    { notok "the eval run failed"; sed 's/^/#   /' "$TMP/run.err"; }
"$SLMBENCH" run "$TMP/run.yaml" --db "$DB" --quiet >/dev/null 2>&1 || true
sql "$DB" "update runs set status = 'failed' where id = 2"

# ---- deploy ----
D="--db $DB --deployment prod"
expect_exit 3 "deploy: an unknown run is refused" "$SLMBENCH" deploy --run 99 --candidate router $D
expect_exit 3 "deploy: an unknown candidate is refused" "$SLMBENCH" deploy --run 1 --candidate nope $D
expect_err "run 1 has no candidate 'nope'" "deploy names the missing candidate"
expect_exit 3 "deploy: a run that is not complete is refused" "$SLMBENCH" deploy --run 2 --candidate router $D
expect_err "run 2 is failed, not complete" "deploy says why the run cannot be a reference"
expect_exit 2 "deploy without --candidate is a usage error" "$SLMBENCH" deploy --run 1 $D
expect_exit 0 "deploy ties a deployment to a complete run's candidate" "$SLMBENCH" deploy --run 1 --candidate router $D
expect_exit 0 "deploy again to the same run changes nothing" "$SLMBENCH" deploy --run 1 --candidate router $D
expect_err "already tied" "deploy says it was already tied"
sql "$DB" "update runs set status = 'complete' where id = 2"
expect_exit 3 "re-tying to another run is refused without --force" "$SLMBENCH" deploy --run 2 --candidate router $D
expect_err "tied to run 1 candidate 'router'.*--force" "the refusal names the current tie and --force"
expect_exit 0 "deploy --force re-ties" "$SLMBENCH" deploy --run 2 --candidate router --force $D
t=$(sql "$DB" "select group_concat(run_id || ':' || forced, ' ') from deployment_ties")
[ "$t" = "1:0 2:1" ] && ok "every tie is recorded, the forced one marked" || notok "ties: $t"
"$SLMBENCH" deploy --run 1 --candidate router --force $D 2>/dev/null

# ---- a good log ----
cat >"$TMP/good.jsonl" <<'EOF2'
{"id":"t1","ts":"2026-11-03T10:15:00+01:00","pred":"billing","confidence":0.9,"text":"my invoice is wrong","probs":{"billing":0.9,"shipping":0.05,"technical":0.05},"latency_ms":12.5,"escalated":false,"region":"eu"}
{"id":"t2","ts":"2026-11-03T09:00:00Z","pred":"shipping","confidence":0.6,"corrected_label":"billing","model":"router","escalated":1}

{"id":"t3","ts":"2026-12-01T00:30:00+01:00","pred":"refunds","confidence":1,"text":"  two   words "}
{"id":"t4","ts":"2026-12-02t08:00:00.123456z","pred":"technical","confidence":0.5,"corrected_label":"legal"}
EOF2
expect_exit 0 "a good JSON-lines log is ingested" "$SLMBENCH" ingest "$TMP/good.jsonl" $D --json
q() { sql :memory: "select $1 from (select readfile('$TMP/out') as j)"; }
got=$(q "json_extract(j, '$.rows_read') || ' ' || json_extract(j, '$.added') || ' ' ||
         json_extract(j, '$.out_of_order') || ' ' || json_extract(j, '$.unknown_labels') || ' ' ||
         json_extract(j, '$.months')")
[ "$got" = '4 4 1 2 ["2026-11","2026-12"]' ] &&
    ok "summary: 4 read, 4 added, 1 out of order, 2 outside the label set, two months (UTC)" ||
    notok "summary: $got"
expect_err "4 rows read, 4 added, 0 already present, 0 conflicting, 0 bad, 1 out of order, 2 with a label outside" "the summary on stderr"
got=$(sql "$DB" "select group_concat(log_id || '@' || ts || '@' || month, ' ') from prod_predictions")
[ "$got" = "t1@2026-11-03T09:15:00.000Z@2026-11 t2@2026-11-03T09:00:00.000Z@2026-11 t3@2026-11-30T23:30:00.000Z@2026-11 t4@2026-12-02T08:00:00.123Z@2026-12" ] &&
    ok "ts normalised to UTC with milliseconds, month from the UTC date" || notok "ts: $got"
got=$(sql "$DB" "select text_bytes || ' ' || text_words || ' ' || text_sha256 from prod_predictions where log_id = 't3'")
want="14 2 $(printf '  two   words ' | sha256sum | cut -d' ' -f1)"
[ "$got" = "$want" ] && ok "text length in bytes and words, its SHA-256" || notok "text: $got (want $want)"
got=$(sql "$DB" "select tags_json || ' ' || escalated || ' ' || probs_json from prod_predictions where log_id = 't1'")
case "$got" in '{"region":"eu"} 0 {"billing":0.9'*) ok "extra fields kept as tags, escalated and probs stored" ;;
    *) notok "t1: $got" ;; esac

# ---- idempotence ----
expect_exit 0 "the same log again" "$SLMBENCH" ingest "$TMP/good.jsonl" $D
expect_err "4 rows read, 0 added, 4 already present, 0 conflicting" "re-ingesting adds nothing"
n=$(sql "$DB" "select count(*) from prod_predictions")
[ "$n" = 4 ] && ok "still 4 rows" || notok "rows after re-ingest: $n"

# ---- CSV: the same rows, as p_<label> columns and as probs JSON text ----
cat >"$TMP/same.csv" <<'EOF2'
id,ts,pred,confidence,text,p_billing,p_shipping,p_technical,latency_ms,escalated,region
t1,2026-11-03T09:15:00Z,billing,0.9,my invoice is wrong,0.9,0.05,0.05,12.5,false,eu
EOF2
expect_exit 0 "a CSV log with p_<label> columns" "$SLMBENCH" ingest "$TMP/same.csv" $D
expect_err "1 rows read, 0 added, 1 already present, 0 conflicting" "the same row written as CSV is recognised (same content hash)"
# spaces: an unquoted text keeps its spaces (RFC 4180: part of the field, and of the
# text's hash, as in JSON lines); the other cells are trimmed, the header's names too
printf 'id , ts,pred,confidence ,text\nt3 , 2026-12-01T00:30:00+01:00 ,refunds, 1 ,  two   words \n' >"$TMP/sp.csv"
expect_exit 0 "a CSV log with spaces around its cells" "$SLMBENCH" ingest "$TMP/sp.csv" $D
expect_err "1 rows read, 0 added, 1 already present, 0 conflicting" \
    "the unquoted text '  two   words ' keeps its spaces: the JSON line's row, recognised"
printf 'id,ts,pred,confidence,text\nt3,2026-12-01T00:30:00+01:00,refunds,1,"  two   words "\n' >"$TMP/sq.csv"
expect_exit 0 "the same text quoted" "$SLMBENCH" ingest "$TMP/sq.csv" $D
expect_err "1 rows read, 0 added, 1 already present, 0 conflicting" "quoted, the same row"
printf 'id,ts,pred,confidence,text\nq1,2026-12-01T00:30:00Z,refunds,1, "quoted late"\n' >"$TMP/late.csv"
expect_exit 3 "a space before an opening quote is refused" "$SLMBENCH" ingest "$TMP/late.csv" $D
expect_err "late.csv:2: malformed CSV: .*a space before an opening quote is part of the field" \
    "the refusal names the line and the likely cause"
printf 'id,ts,pred,confidence,probs\nc1,2026-11-05T00:00:00Z,billing,0.7,"{""billing"":0.7,""shipping"":0.3}"\n' >"$TMP/pj.csv"
expect_exit 0 "a CSV log with probs as JSON text" "$SLMBENCH" ingest "$TMP/pj.csv" $D
got=$(sql "$DB" "select probs_json from prod_predictions where log_id = 'c1'")
case "$got" in '{"billing":0.69'*'"shipping":0.29'*|'{"billing":0.7,"shipping":0.3}') ok "probs JSON text read from CSV" ;;
    *) notok "c1 probs: $got" ;; esac

# a quoted CSV text over two lines is one row, named by the line it starts on
printf 'id,ts,pred,confidence,text\nm1,2026-11-06T00:00:00Z,billing,0.5,"line one\nline ""two"""\nm2,2026-11-06T00:00:01Z,billing,0.5,x\n' >"$TMP/multi.csv"
expect_exit 0 "a CSV text over two lines" "$SLMBENCH" ingest "$TMP/multi.csv" $D
got=$(sql "$DB" "select group_concat(log_id || ':' || source_line || ':' || text_words, ' ') from prod_predictions where log_id like 'm_'")
[ "$got" = "m1:2:4 m2:4:1" ] && ok "a multi-line CSV cell is one row at its first line" || notok "multi-line: $got"
printf 'id,ts,pred,confidence,text\nu1,2026-11-06T00:00:00Z,billing,0.5,"open\n' >"$TMP/open.csv"
expect_exit 3 "a quoted CSV field still open at the end is refused" "$SLMBENCH" ingest "$TMP/open.csv" $D --skip-bad-rows
expect_err "open.csv:2: unterminated quoted field" "the unterminated field names its line"

# probs stored with sorted keys and the shortest decimal that reads back as the same double
# (expected texts from Python: json.dumps(dict(sorted(p.items())), separators=(',', ':')))
cat >"$TMP/probs.jsonl" <<'EOF2'
{"id":"p1","ts":"2026-11-07T00:00:00Z","pred":"a","confidence":0.5,"probs":{"z":0.000001,"a":0.123457,"m":0.876542}}
{"id":"p2","ts":"2026-11-07T00:00:00Z","pred":"a","confidence":0.5,"probs":{"b":0.1,"a":0.9000000000000001}}
{"id":"p3","ts":"2026-11-07T00:00:00Z","pred":"a","confidence":0.5,"probs":{"b":1e-7,"a":0.9999999,"c\"q":0}}
EOF2
expect_exit 0 "probs of every precision" "$SLMBENCH" ingest "$TMP/probs.jsonl" $D
got=$(sql "$DB" "select group_concat(probs_json, ' ') from (select probs_json from prod_predictions where log_id like 'p_' order by log_id)")
[ "$got" = '{"a":0.123457,"m":0.876542,"z":1e-06} {"a":0.9000000000000001,"b":0.1} {"a":0.9999999,"b":1e-07,"c\"q":0}' ] &&
    ok "probs: sorted keys, shortest exact numbers" || notok "probs: $got"

# ---- a conflict: a stored id with other content ----
printf '{"id":"t2","ts":"2026-11-03T09:00:00Z","pred":"technical","confidence":0.6}\n' >"$TMP/conflict.jsonl"
expect_exit 0 "a log repeating an id with other content" "$SLMBENCH" ingest "$TMP/conflict.jsonl" $D --json
expect_err "conflict.jsonl:1: id 't2' was ingested from .*good.jsonl:2 with other content; the first is kept" \
    "the conflict names both file:line"
expect_out '"conflicting": 1' "the conflict is counted"
got=$(sql "$DB" "select pred from prod_predictions where log_id = 't2'")
[ "$got" = shipping ] && ok "the first row is kept" || notok "t2 pred: $got"

# ---- bad input: each refused with file:line and exit 3, nothing of the row stored ----
# bad NAME PATTERN LINE...: a log holding one good row then LINE; expects exit 3 and the
# message file:2: PATTERN.
bad() {
    name=$1 pat=$2; shift 2
    { printf '{"id":"ok-%s","ts":"2026-11-01T00:00:00Z","pred":"billing","confidence":0.5}\n' "$name"
      printf '%s\n' "$@"; } >"$TMP/$name.jsonl"
    expect_exit 3 "bad input: $name" "$SLMBENCH" ingest "$TMP/$name.jsonl" --db "$TMP/bad.db" --deployment b
    expect_err "$name.jsonl:2: $pat" "bad input: $name says file:line and why"
}
R='"id":"x","pred":"billing"'
bad ts-garbage "ts 'yesterday': not an RFC 3339" "{$R,\"ts\":\"yesterday\",\"confidence\":0.5}"
bad ts-no-zone "ts .*: no valid time zone" "{$R,\"ts\":\"2026-11-01T00:00:00+0100\",\"confidence\":0.5}"
bad ts-feb30 "ts '2026-02-30T00:00:00Z': date or time out of range" "{$R,\"ts\":\"2026-02-30T00:00:00Z\",\"confidence\":0.5}"
bad conf-high "confidence is not a number in \[0, 1\]" "{$R,\"ts\":\"2026-11-01T00:00:00Z\",\"confidence\":1.5}"
bad conf-text "confidence is not a number in \[0, 1\]" "{$R,\"ts\":\"2026-11-01T00:00:00Z\",\"confidence\":\"high\"}"
bad conf-missing "missing required field 'confidence'" "{$R,\"ts\":\"2026-11-01T00:00:00Z\"}"
bad id-missing "missing required field 'id'" '{"pred":"billing","ts":"2026-11-01T00:00:00Z","confidence":0.5}'
bad probs-sum "probs sum to 0.9, not 1 within 0.001" "{$R,\"ts\":\"2026-11-01T00:00:00Z\",\"confidence\":0.5,\"probs\":{\"billing\":0.5,\"shipping\":0.4}}"
bad probs-neg "probs of 'billing' is not a number in \[0, 1\]" "{$R,\"ts\":\"2026-11-01T00:00:00Z\",\"confidence\":0.5,\"probs\":{\"billing\":1.5,\"shipping\":-0.5}}"
bad dup-key "duplicate object key" "{$R,\"ts\":\"2026-11-01T00:00:00Z\",\"confidence\":0.5,\"confidence\":0.6}"
bad not-json "not valid JSON" "{$R,"
bad escalated "escalated is not true, false, 0 or 1" "{$R,\"ts\":\"2026-11-01T00:00:00Z\",\"confidence\":0.5,\"escalated\":\"maybe\"}"
bad utf8 "invalid UTF-8 at column 8" "$(printf '{"id":"\377"}')"
bad crlf "CRLF line end" "$(printf '{%s,"ts":"2026-11-01T00:00:00Z","confidence":0.5}\r' "$R")"
bad long-id "field 'id' is 300 bytes, more than the limit of 256" "{\"id\":\"$(head -c 300 /dev/zero | tr '\0' a)\",\"pred\":\"b\",\"ts\":\"2026-11-01T00:00:00Z\",\"confidence\":0.5}"
bad long-text "field 'text' is 1048577 bytes, more than the limit of 1048576" "{$R,\"ts\":\"2026-11-01T00:00:00Z\",\"confidence\":0.5,\"text\":\"$(head -c 1048577 /dev/zero | tr '\0' a)\"}"
bad long-line "line longer than 4194304 bytes" "{$R,\"ts\":\"2026-11-01T00:00:00Z\",\"confidence\":0.5,\"text\":\"$(head -c 4194400 /dev/zero | tr '\0' a)\"}"
n=$(sql "$TMP/bad.db" "select count(*) from prod_predictions where log_id = 'x'")
[ "$n" = 0 ] && ok "no bad row was stored" || notok "bad rows stored: $n"
n=$(sql "$TMP/bad.db" "select count(*) from prod_predictions where log_id like 'ok-%'")
[ "$n" = 17 ] && ok "the good row before each bad one was kept (17 files)" || notok "good rows kept: $n"
n=$(sql "$TMP/bad.db" "select count(*) from ingests where status = 'failed' and error like '%:2: %'")
[ "$n" = 17 ] && ok "each stopped ingest is recorded as failed with its error" || notok "failed ingests: $n"

printf '\357\273\277{"id":"a","ts":"2026-11-01T00:00:00Z","pred":"b","confidence":0.5}\n' >"$TMP/bom.jsonl"
expect_exit 3 "a BOM is refused" "$SLMBENCH" ingest "$TMP/bom.jsonl" --db "$TMP/bad.db" --deployment b
expect_err "bom.jsonl:1: starts with a UTF-8 byte-order mark" "the BOM refusal says file:1"
printf 'id,ts,pred\n' >"$TMP/nocol.csv"
expect_exit 3 "a CSV without a required column is refused" "$SLMBENCH" ingest "$TMP/nocol.csv" --db "$TMP/bad.db" --deployment b
expect_err "nocol.csv:1: the header has no column 'confidence'" "the header refusal names the column"
printf 'id,ts,pred,confidence,id\n' >"$TMP/dupcol.csv"
expect_exit 3 "a CSV naming a column twice is refused" "$SLMBENCH" ingest "$TMP/dupcol.csv" --db "$TMP/bad.db" --deployment b
expect_err "dupcol.csv:1: column 'id' given twice" "the duplicate column is named"
printf 'id,ts,pred,confidence\na,2026-11-01T00:00:00Z,b\n' >"$TMP/short.csv"
expect_exit 3 "a CSV row with too few cells is refused" "$SLMBENCH" ingest "$TMP/short.csv" --db "$TMP/bad.db" --deployment b
expect_err "short.csv:2: 3 cells where the header has 4" "the short row is named"
expect_exit 3 "a missing file is bad input" "$SLMBENCH" ingest "$TMP/nope.jsonl" --db "$TMP/bad.db" --deployment b
expect_exit 2 "ingest without --deployment is a usage error" "$SLMBENCH" ingest "$TMP/good.jsonl" --db "$TMP/bad.db"

: >"$TMP/empty.jsonl"
expect_exit 0 "an empty log is fine" "$SLMBENCH" ingest "$TMP/empty.jsonl" --db "$TMP/bad.db" --deployment b
expect_err "0 rows read.*no rows \(an empty log\)" "an empty log says so"

# ---- --skip-bad-rows: skipped, counted, the good rows stored ----
for f in ts-garbage conf-high probs-sum dup-key utf8 crlf; do cat "$TMP/$f.jsonl"; done >"$TMP/mixed.jsonl"
expect_exit 0 "--skip-bad-rows reads through bad rows" "$SLMBENCH" ingest "$TMP/mixed.jsonl" --db "$TMP/skip.db" --deployment s --skip-bad-rows --json
expect_out '"bad_rows": 6' "six bad rows counted"
expect_out '"added": 6' "the six good rows added"
expect_err "mixed.jsonl:6: probs sum to 0.9" "each skipped row is named with its line"

# ---- --no-text ----
expect_exit 0 "--no-text" "$SLMBENCH" ingest "$TMP/good.jsonl" --db "$TMP/nt.db" --deployment n --no-text
got=$(sql "$TMP/nt.db" "select count(*) from prod_predictions where text is not null")
got2=$(sql "$TMP/nt.db" "select text_bytes || ' ' || text_words from prod_predictions where log_id = 't3'")
[ "$got $got2" = "0 14 2" ] && ok "--no-text stores no text, its length and words stay" || notok "--no-text: $got $got2"
h1=$(sql "$TMP/nt.db" "select group_concat(content_sha256) from prod_predictions order by log_id")
h2=$(sql "$DB" "select group_concat(content_sha256) from (select * from prod_predictions where log_id like 't%' order by log_id)")
[ "$h1" = "$h2" ] && ok "--no-text rows have the same content hashes" || notok "content hashes differ"

# ---- ingest --run/--candidate ties the deployment like deploy ----
expect_exit 0 "ingest --run --candidate ties a new deployment" "$SLMBENCH" ingest "$TMP/good.jsonl" --db "$DB" --deployment other --run 1 --candidate router
got=$(sql "$DB" "select run_id from deployments where name = 'other'")
[ "$got" = 1 ] && ok "the deployment is tied to run 1" || notok "tie: $got"
expect_exit 3 "ingest --run with an unknown candidate is refused" "$SLMBENCH" ingest "$TMP/good.jsonl" --db "$DB" --deployment third --run 1 --candidate nope

# ---- kill -9 in the middle, then the same command: the rows of an uninterrupted ingest ----
N=${SLM_INGEST_KILL_ROWS:-200000}
awk -v n="$N" 'BEGIN { split("billing shipping technical", L, " ")
    for (i = 1; i <= n; i++) {
        p = L[i % 3 + 1]
        printf "{\"id\":\"r%d\",\"ts\":\"2026-%02d-%02dT%02d:%02d:%02dZ\",\"pred\":\"%s\",\"confidence\":%.3f,\"text\":\"ticket %d about %s\",\"latency_ms\":%d}\n",
            i, i % 12 + 1, i % 28 + 1, i % 24, i % 60, i % 60, p, 0.5 + (i % 500) / 1000, i, p, i % 97
    } }' >"$TMP/big.jsonl"
"$SLMBENCH" ingest "$TMP/big.jsonl" --db "$TMP/whole.db" --deployment k --quiet
"$SLMBENCH" ingest "$TMP/big.jsonl" --db "$TMP/killed.db" --deployment k --quiet &
pid=$!
i=0
while [ $i -lt 1200 ]; do
    n=$(sql "$TMP/killed.db" "select coalesce(max(rows_read), 0) from ingests" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 10000 ] && break
    sleep 0.05
    i=$((i + 1))
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
before=$(sql "$TMP/killed.db" "select count(*) from prod_predictions")
if [ "$before" -gt 0 ] && [ "$before" -lt "$N" ]; then ok "killed with $before of $N rows committed"; else
    skip "kill -9 came too late or too early ($before of $N rows committed)"; fi
expect_exit 0 "the same command after kill -9" "$SLMBENCH" ingest "$TMP/big.jsonl" --db "$TMP/killed.db" --deployment k --json
expect_out "\"added\": $((N - before))," "it adds exactly the rows missing"
Q="select log_id, ts, month, pred, confidence, latency_ms, text, text_sha256, text_bytes, text_words, content_sha256, source_line from prod_predictions order by log_id"
a=$(sql "$TMP/whole.db" "$Q" | sha256sum)
b=$(sql "$TMP/killed.db" "$Q" | sha256sum)
[ "$a" = "$b" ] && ok "killed and resumed holds the very rows of an uninterrupted ingest" ||
    notok "the resumed database differs from the uninterrupted one"

# ---- Ctrl-C (SIGINT) in the middle: the rows read are committed, the ingests row says it
# was interrupted (not left 'running'), exit 130; the same command adds the rest ----
rm -f "$TMP/int.db"*
"$SLMBENCH" ingest "$TMP/big.jsonl" --db "$TMP/int.db" --deployment k --quiet 2>"$TMP/int.err" &
pid=$!
i=0
while [ $i -lt 1200 ]; do
    n=$(sql "$TMP/int.db" "select coalesce(max(rows_read), 0) from ingests" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 10000 ] && break
    sleep 0.05
    i=$((i + 1))
done
kill -INT $pid 2>/dev/null || true
if wait $pid; then got=0; else got=$?; fi
before=$(sql "$TMP/int.db" "select count(*) from prod_predictions")
if [ "${n:-0}" -lt 10000 ] || [ "${n:-0}" -ge "$N" ]; then
    skip "SIGINT came too early or after the end ($n of $N rows read)"
else
    [ "$got" = 130 ] && ok "SIGINT: exit 130" || notok "SIGINT: exit $got, want 130"
    row=$(sql "$TMP/int.db" "select status, rows_read, added, last_line, error like '%interrupted by a signal after line ' || last_line from ingests")
    [ "$row" = "interrupted|$before|$before|$before|1" ] &&
        ok "SIGINT: the $before rows read are committed, the ingest is marked interrupted" ||
        notok "SIGINT: ingests row '$row' with $before rows stored"
    grep -q "interrupted by a signal after line $before; rows up to line $before are stored" "$TMP/int.err" &&
        ok "SIGINT: stderr says up to which line the rows are stored" ||
        { notok "SIGINT: stderr"; sed 's/^/#   /' "$TMP/int.err"; }
    expect_exit 0 "the same command after SIGINT" "$SLMBENCH" ingest "$TMP/big.jsonl" --db "$TMP/int.db" --deployment k --json
    expect_out "\"added\": $((N - before)),"  "after SIGINT it adds exactly the rows missing"
    b=$(sql "$TMP/int.db" "$Q" | sha256sum)
    [ "$a" = "$b" ] && ok "interrupted and resumed holds the very rows of an uninterrupted ingest" ||
        notok "the database after SIGINT and a rerun differs from the uninterrupted one"
fi
