#!/bin/sh
# Output that cannot be written is a failure, never a silent exit 0 (issue 16, defect 1):
# every command that writes its data to stdout, sent to /dev/full (every write fails with
# ENOSPC), exits 4 with "cannot write the output"; a --out file that cannot be written
# fails too. The same commands to a file exit 0, so the failure is the output's.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
if [ ! -w /dev/full ]; then
    skip "output errors (no writable /dev/full here)"
    exit 0
fi
awk -F, 'NR==1{print "id,label,pred,confidence,latency_ms"; next} {print $1","$NF","$NF",0.9,1"}' \
    "$FX/test.csv" > "$TMP/r.csv"
printf 'name: r\nevalset: %s\nwarmup: 0\nbootstrap: 50\ncandidates:\n  - {name: m, engine: replay, model: r.csv}\n' \
    "$FX" > "$TMP/r.yaml"
for i in 1 2; do "$SLMBENCH" run "$TMP/r.yaml" --db "$TMP/o.db" --quiet >/dev/null; done
DB="--db $TMP/o.db"

# full WHAT ARGS...: ARGS to a file exits 0 and writes something; to /dev/full exits 4
# with the message.
full() {
    what=$1; shift
    if ! "$SLMBENCH" "$@" >"$TMP/good" 2>"$TMP/err" || [ ! -s "$TMP/good" ]; then
        notok "$what to a file: $(head -n 3 "$TMP/err")"
        return
    fi
    if "$SLMBENCH" "$@" >/dev/full 2>"$TMP/err"; then got=0; else got=$?; fi
    if [ "$got" = 4 ] && grep -q '^slmbench: error: cannot write the output: ' "$TMP/err"; then
        ok "$what > /dev/full exits 4 and says so"
    else
        notok "$what > /dev/full: exit $got, stderr: $(head -n 3 "$TMP/err")"
    fi
}
# shellcheck disable=SC2086
{
full "export predictions" export predictions last --candidate m $DB
full "export table" export table predictions last $DB
full "report" report last $DB
full "report --json" report last --json $DB
full "report --format html" report last --format html $DB
full "evalsets check" evalsets check "$FX"
full "compare" compare 1 2 $DB
full "engines" engines
full "--help of a command" export --help
full "--version" --version
}

# A command that failed keeps its own exit code (3: no such run), not 4.
# shellcheck disable=SC2086
if "$SLMBENCH" report 99 $DB >/dev/full 2>"$TMP/err"; then got=0; else got=$?; fi
[ "$got" = 3 ] && ok "a command that fails keeps its exit code under /dev/full" ||
    notok "report of no run > /dev/full: exit $got"

# --out: a file whose write fails exits 4, names the file and leaves nothing behind; the
# same command without the fault writes it. The fault: a file-size limit of 64 KiB
# (`ulimit -f 128`, 512-byte blocks; 128 KiB where the shell counts in KiB) with SIGXFSZ
# ignored, so write() returns EFBIG. The database (opened, read, never grown) is not
# touched by it; the outputs are made large by answers of 40,000 characters (generate
# mode), so the export (~1 MB) and report.html pass the limit (report.md is cut at 65,536
# characters to fit a pull-request comment).
/usr/bin/python3 -c 'import csv,sys
rows=list(csv.reader(open(sys.argv[1], newline="")))[1:]
w=csv.writer(open(sys.argv[2], "w", newline=""))
w.writerow(["id","label","pred","confidence","latency_ms"])
for r in rows: w.writerow([r[0], r[-1], r[-1] + " " + "x" * 40000, 0.9, 1])' "$FX/test.csv" "$TMP/big.csv"
printf 'name: big\nevalset: %s\nmode: generate\nwarmup: 0\nbandwidth: false\ncandidates:\n  - {name: m, engine: replay, model: big.csv}\n' \
    "$FX" > "$TMP/big.yaml"
"$SLMBENCH" run "$TMP/big.yaml" --db "$TMP/big.db" --quiet >/dev/null
BIG="--db $TMP/big.db"
# limited ARGS...: runs ARGS under the limit; prints stderr, then "rc=N".
limited() {
    (
        trap '' XFSZ
        ulimit -f 128
        if "$SLMBENCH" "$@" 2>&1 >/dev/null; then echo "rc=0"; else echo "rc=$?"; fi
    )
}
# shellcheck disable=SC2086
got=$(limited export predictions last --candidate m $BIG --out "$TMP/p.csv")
case "$got" in
*"cannot write '$TMP/p.csv."*rc=4) ok "export --out with a failing write exits 4 and names the file" ;;
*) notok "export --out with a failing write: $got" ;;
esac
ls "$TMP"/p.csv* >/dev/null 2>&1 && notok "a failed export left a file" || ok "a failed export leaves no file"
# shellcheck disable=SC2086
got=$(limited report last $BIG --out "$TMP/rep" --no-plots)
case "$got" in
# report.md is cut to fit a pull-request comment (65,536 characters), so the first file
# over the limit may be report.html
*"cannot write '$TMP/rep/report."*rc=4) ok "report --out with a failing write exits 4 and names the file" ;;
*) notok "report --out with a failing write: $got" ;;
esac
# shellcheck disable=SC2086
expect_exit 0 "the same export without the limit" \
    "$SLMBENCH" export predictions last --candidate m $BIG --out "$TMP/p.csv"
[ "$(wc -c < "$TMP/p.csv")" -gt 131072 ] && ok "it writes the file, larger than the limit" ||
    notok "the export is not larger than the limit: $(wc -c < "$TMP/p.csv") bytes"

# Control characters from the data never reach a report or the terminal (issue 16, defect
# 9): a replayed model whose answers carry ESC sequences (a colour, a title change, a
# screen clear), BEL, backspace, DEL and C1 controls in UTF-8 (U+009B, the one-byte CSI),
# under a run and candidate name with ESC too. report (md on stdout, --format html),
# report --out's report.md and report.html, and run's summary on stdout hold no byte
# 0x00-0x08, 0x0b-0x1f or 0x7f, and no UTF-8 C1 (C2 80-C2 9F); the ESC is shown as \x1b.
# report --json holds no C0 byte (JSON escapes them as \u001b; DEL and C1 stay the
# characters they are, as JSON allows).
/usr/bin/python3 -c 'import csv,sys
rows=list(csv.reader(open(sys.argv[1], newline="")))[1:]
w=csv.writer(open(sys.argv[2], "w", newline=""))
w.writerow(["id","label","pred","confidence","latency_ms"])
bad=["\x1b[31mred\x1b[0m", "\x1b]0;owned\x07", "\x1b[2J\x1b[H", "a\x08b\x7fc", "\u009b31m"]
for k,r in enumerate(rows): w.writerow([r[0], r[-1], bad[k % len(bad)] + r[-1] if k < 10 else r[-1], 0.9, 1])' \
    "$FX/test.csv" "$TMP/ctl.csv"
printf 'name: "ctl \\e[31mrun"\nevalset: %s\nmode: generate\nwarmup: 0\nbandwidth: false\ncandidates:\n  - {name: "m\\e[1mx", engine: replay, model: ctl.csv}\n' \
    "$FX" > "$TMP/ctl.yaml"
# controls FILE [c0]: the number of control bytes (as above; with c0, C0 only) in FILE
controls() {
    /usr/bin/python3 -c 'import re,sys
d=open(sys.argv[1], "rb").read()
c0=rb"[\x00-\x08\x0b-\x1f]"
print(len(re.findall(c0 if sys.argv[2:] else c0 + rb"|\x7f|\xc2[\x80-\x9f]", d)))' "$@"
}
if "$SLMBENCH" run "$TMP/ctl.yaml" --db "$TMP/ctl.db" >"$TMP/ctl_run.txt" 2>"$TMP/err"; then
    ok "a run whose answers hold control characters"
else
    notok "run with control characters: $(tail -n 3 "$TMP/err")"
fi
[ "$(controls "$TMP/ctl_run.txt")" = 0 ] && ok "run's summary holds no control character" ||
    notok "run's summary holds $(controls "$TMP/ctl_run.txt") control characters"
for f in md html json; do
    "$SLMBENCH" report last --format $f --db "$TMP/ctl.db" >"$TMP/ctl.$f" 2>&1 || true
    # shellcheck disable=SC2046
    n=$(controls "$TMP/ctl.$f" $([ $f = json ] && echo c0))
    [ -s "$TMP/ctl.$f" ] && [ "$n" = 0 ] && ok "report --format $f on stdout holds no control character" ||
        notok "report --format $f on stdout holds $n control characters"
done
"$SLMBENCH" report last --db "$TMP/ctl.db" --out "$TMP/ctlrep" --no-plots >/dev/null 2>&1 || true
for f in report.md report.html; do
    n=$(controls "$TMP/ctlrep/$f")
    [ -s "$TMP/ctlrep/$f" ] && [ "$n" = 0 ] && ok "$f holds no control character" ||
        notok "$f holds $n control characters"
done
grep -qF 'ctl \x1b\[31mrun' "$TMP/ctl.md" && grep -qF '(invalid) \x1b]0;owned\x07billing' "$TMP/ctl.html" &&
    grep -qF "run 1 'ctl \\x1b[31mrun'" "$TMP/ctl_run.txt" && grep -qF '\u009b31m' "$TMP/ctl.md" &&
    ok "the controls are shown as \\x1b, \\x07, \\u009b" || notok "no visible \\x1b in the reports"
