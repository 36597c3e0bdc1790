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
echo
echo "demo finished in $(( $(date +%s) - start )) s"
echo "database: $DIR/slmbench.db"
echo "report:   $DIR/report.md"
