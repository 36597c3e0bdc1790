#!/bin/sh
# `slmbench ingest` speed and memory: N generated production rows (SLM_BENCH_INGEST_ROWS,
# default 1,000,000) written as JSON lines and as CSV (p_<label> columns), each ingested
# into a fresh database, then the JSON lines once more into the same database (a re-ingest:
# every row already present). Prints rows/s of wall time (goal >= 50,000), rows per CPU
# second of the ingest process (user + system: what a quiet machine would give, as the
# ingest is one thread) and its peak RSS (GNU time's "Maximum resident set size"; goal:
# bounded, independent of N), with the load average beside them.
#   bench/perf/ingest.sh SLMBENCH [DIR]
set -eu
export LC_ALL=C
SLMBENCH=$1
DIR=${2:-build/bench}/ingest
N=${SLM_BENCH_INGEST_ROWS:-1000000}
mkdir -p "$DIR"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "ingest bench: /usr/bin/time (GNU time) is missing"; exit 0; }

# Rows like a support router's log: 8 labels, probabilities over them, a ticket text of
# 8-20 words, latency, escalation, a correction on one row in 20, a region tag.
awk -v n="$N" -v dir="$DIR" 'BEGIN {
    split("billing shipping technical account refunds legal_dispute sales other", L, " ")
    split("my order invoice never arrived please refund the charge twice login broken app crash password reset where is parcel", W, " ")
    j = dir "/log.jsonl"; c = dir "/log.csv"
    printf "id,ts,pred,confidence,text,p_billing,p_shipping,p_technical,p_account,p_refunds,p_legal_dispute,p_sales,p_other,latency_ms,escalated,corrected_label,region\n" > c
    srand(1)
    for (i = 1; i <= n; i++) {
        k = int(rand() * 8) + 1; conf = 0.3 + rand() * 0.65; rest = (1 - conf) / 7
        nw = 8 + int(rand() * 13); t = ""
        for (w = 0; w < nw; w++) t = t (w ? " " : "") W[int(rand() * 20) + 1]
        sec = int(i * 15552000 / n)
        ts = sprintf("2026-%02d-%02dT%02d:%02d:%02dZ", int(sec / 2592000) + 6, int(sec % 2592000 / 86400) + 1,
                     int(sec % 86400 / 3600), int(sec % 3600 / 60), sec % 60)
        probs = ""; pc = ""
        for (q = 1; q <= 8; q++) {
            p = q == k ? conf : rest
            probs = probs sprintf("%s\"%s\":%.6f", q > 1 ? "," : "", L[q], p); pc = pc sprintf(",%.6f", p)
        }
        lat = sprintf("%.2f", 5 + rand() * 40); esc = conf < 0.5 ? "true" : "false"
        corr = i % 20 == 0 ? L[int(rand() * 8) + 1] : ""
        printf "{\"id\":\"t%d\",\"ts\":\"%s\",\"pred\":\"%s\",\"confidence\":%.6f,\"text\":\"%s\",\"probs\":{%s},\"latency_ms\":%s,\"escalated\":%s%s,\"region\":\"eu\"}\n",
            i, ts, L[k], conf, t, probs, lat, esc, corr == "" ? "" : ",\"corrected_label\":\"" corr "\"" > j
        printf "t%d,%s,%s,%.6f,%s%s,%s,%s,%s,eu\n", i, ts, L[k], conf, t, pc, lat, esc, corr > c
    } }'

one() { # WHAT FILE DB
    rm -f "$3" "$3-wal" "$3-shm"
    [ "$4" = again ] && "$SLMBENCH" ingest "$2" --db "$3" --deployment bench --quiet
    start=$(date +%s.%N)
    "$TIME" -v -o "$DIR/time.txt" "$SLMBENCH" ingest "$2" --db "$3" --deployment bench --quiet
    end=$(date +%s.%N)
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/time.txt")
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$DIR/time.txt")
    size=$(wc -c <"$2")
    awk -v w="$1" -v n="$N" -v s="$start" -v e="$end" -v r="$rss" -v b="$size" -v c="$cpu" 'BEGIN {
        printf "  %-26s %8d rows %6.1f MB in %6.2f s = %7.0f rows/s (%7.0f per CPU second), peak RSS %5.1f MB\n",
               w, n, b / 1e6, e - s, n / (e - s), n / c, r / 1024 }'
}
echo "slmbench ingest: $N generated rows, 6 months, 8 labels (goal >= 50,000 rows/s, bounded memory)"
one "JSON lines" "$DIR/log.jsonl" "$DIR/j.db" fresh
one "CSV (p_<label> columns)" "$DIR/log.csv" "$DIR/c.db" fresh
one "JSON lines, re-ingested" "$DIR/log.jsonl" "$DIR/r.db" again
echo "   uptime: $(uptime)"
rm -f "$DIR"/*.db* "$DIR/log.jsonl" "$DIR/log.csv"
