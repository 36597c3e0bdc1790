#!/bin/sh
# `make demo`: build the demo models, run the demo comparison, write the report.
#   bench/demo.sh SLMBENCH DEMO_DIR
set -eu
SLMBENCH=$1
DIR=$2
mkdir -p "$DIR"
start=$(date +%s)
sh bench/models/demo-models.sh "$SLMBENCH" "$DIR/models"
rm -f "$DIR/slmbench.db" "$DIR/slmbench.db-wal" "$DIR/slmbench.db-shm"
"$SLMBENCH" run bench/demo.yaml --db "$DIR/slmbench.db" > "$DIR/comparison.md"
"$SLMBENCH" report last --db "$DIR/slmbench.db" --out "$DIR" 2>/dev/null
"$SLMBENCH" report last --db "$DIR/slmbench.db" --json > "$DIR/report.json"
cat "$DIR/comparison.md"

# The monthly review of production traffic: six months of a generated production log of
# the most accurate candidate (its real predictions on resampled tickets; month 4 a
# class-prior shift, month 5 new words, month 6 a concept shift: bench/prodlog/), tied to
# this run as its reference, ingested and reviewed.
best=$(sqlite3 -batch -noheader "$DIR/slmbench.db" \
    "select candidate from v_summary where run_id = (select max(id) from runs) and status = 'ok'
     order by accuracy desc, candidate limit 1")
rm -rf "$DIR/prodlog"
sh bench/prodlog/make_prodlog.sh --out "$DIR/prodlog" --evalset evalsets/support-triage \
    --model "$DIR/models/$best.gguf" --rows "${DEMO_PROD_ROWS:-1000}" --seed 1 --pool test.csv \
    --slmbench "$SLMBENCH" >/dev/null
"$SLMBENCH" deploy --run last --candidate "$best" --deployment demo-triage --db "$DIR/slmbench.db"
"$SLMBENCH" ingest "$DIR/prodlog/prodlog.jsonl" --deployment demo-triage --db "$DIR/slmbench.db"
last_month=$(sed -n 's/.*"ts": *"\([0-9]*-[0-9]*\).*/\1/p' "$DIR/prodlog/prodlog.jsonl" | sort | tail -n 1)
"$SLMBENCH" drift --deployment demo-triage --month "$last_month" --db "$DIR/slmbench.db" \
    --out "$DIR/drift" >/dev/null
echo
echo "production review of '$best' (6 generated months, planted changes in months 4-6):"
sed -n '/^| month/,/^$/p' "$DIR/drift/"*.md | head -n 9
echo
echo "demo finished in $(( $(date +%s) - start )) s"
echo "database: $DIR/slmbench.db"
echo "report:   $DIR/report.md"
echo "drift:    $(ls "$DIR/drift/"*.md)"
