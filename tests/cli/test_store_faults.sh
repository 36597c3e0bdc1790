# Store fault injection, in the spirit of SQLite's own I/O-error tests: a replay run whose
# Nth write (or fsync) on the database, its WAL or its -shm fails, for N over a range
# covering schema creation, the run's start, the first predictions, the middle and the
# end, with EIO and ENOSPC, once (a transient fault) and sticky (a disk that stays full);
# then ENOSPC from a real small tmpfs. After every failure: a clear error and exit 4 (or
# exit 0 when nothing was lost: a failed checkpoint at close leaves the data in the WAL),
# never a signal or a sanitizer report; PRAGMA integrity_check says ok; the run resumes
# (or, when the failure came before the run was recorded, runs again: --resume then says
# there is nothing to resume) and the final state equals an uninterrupted run's:
# predictions, statuses, model facts, counter events, quality metrics, comparisons.
#
# The matrix is printed as "# ..." lines. make check runs a spread (every N up to 20, then
# 20 more across the range; 10 and 10 under AddressSanitizer); FAULTS_FULL=1 runs every N, FAULTS_STEP=K every Kth.
#
# Under AddressSanitizer the shim is preloaded after the ASan runtime (which must come
# first); the chain is then ASan's interceptor -> shim -> libc.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
SHIM="${SLM_TEST_BIN:-$ROOT/build/tests}/libfake_failwrite.so"
[ -f "$SHIM" ] || { notok "the shim $SHIM is not built (make check builds it)"; exit 0; }
PRE="$SHIM"
asan=$(ldd "$SLMBENCH" 2>/dev/null | awk '/libasan/ { print $3; exit }')
[ -n "$asan" ] && PRE="$asan $SHIM"

# A recorded answer for every test and calibration example, one in five wrong, so the
# metrics are not trivial; the replay engine answers from it.
awk -F, 'FNR > 1 {
    n = split("billing shipping technical", L, " ");
    g = 0; for (i = 1; i <= n; i++) if (L[i] == $3) g = i;
    p = (k++ % 5) ? g : g % n + 1;
    printf "%s,%s", $1, L[p];
    for (i = 1; i <= n; i++) printf ",%s", (i == p ? "0.8" : "0.1");
    printf "\n" }
    BEGIN { print "id,pred,p_billing,p_shipping,p_technical" }' \
    "$FX/test.csv" "$FX/calibration.csv" >"$TMP/rec.csv"
cat >"$TMP/run.yaml" <<YAML
name: faults
evalset: $FX
warmup: 0
calibration_split: calibration
candidates:
  - {name: a, engine: replay, model: rec.csv}
  - {name: b, engine: replay, model: rec.csv}
YAML

# What must equal an uninterrupted run: everything but timings, hosts and dates.
STATE="
select 'run', name, status, error, mode, config_sha256 from runs;
select 'cand', name, status, error, engine_version, model_sha256, arch, caps,
       chat_template_used from candidates order by idx;
select 'pred', c.name, p.example_idx, p.example_id, p.gold, p.pred, p.raw_output, p.correct,
       p.valid, p.confidence, p.probs_json, p.probs_mean_json, p.logprobs_json, p.ntok_json,
       p.n_prompt_tokens, p.n_output_tokens, p.error
  from predictions p join candidates c on c.id = p.candidate_id order by c.idx, p.example_idx;
select 'calib', c.name, p.example_idx, p.logprobs_json, p.error
  from calib_predictions p join candidates c on c.id = p.candidate_id order by c.idx, 3;
select 'event', event, source, unit, reason from counter_events order by event;
select 'metric', c.name, m.name, round(m.value, 9), round(m.lo, 9), round(m.hi, 9)
  from metrics m join candidates c on c.id = m.candidate_id
 where m.name in ('accuracy', 'macro_f1', 'micro_f1', 'weighted_f1', 'brier', 'nll', 'ece_15',
                  'aurc', 'n', 'n_correct', 'n_errors', 'invalid_rate')
 order by c.idx, m.name;
select 'rows', (select count(*) from comparisons), (select count(*) from per_class),
       (select count(*) from confusion), (select count(*) from examples);"
state() { sqlite3 -batch -noheader "$1" "$STATE" 2>&1; }

"$SLMBENCH" run "$TMP/run.yaml" --db "$TMP/ref.db" --quiet >/dev/null 2>"$TMP/ref.err" \
    && ok "uninterrupted reference run" || { notok "reference run failed: $(cat "$TMP/ref.err")"; exit 0; }
state "$TMP/ref.db" >"$TMP/ref.state"
grep -q "^run|faults|complete" "$TMP/ref.state" && [ "$(grep -c '^pred' "$TMP/ref.state")" = 48 ] \
    && ok "reference: complete, 48 predictions" || notok "reference state: $(head -n 3 "$TMP/ref.state")"

# calls OP DB: how many counted calls of OP (write, sync) a run on a fresh DB makes.
calls() {
    rm -f "$2" "$2"-wal "$2"-shm
    SLM_FAIL_PATH="$2" SLM_FAIL_OP=$1 SLM_FAIL_COUNT="$TMP/count" LD_PRELOAD="$PRE" \
        "$SLMBENCH" run "$TMP/run.yaml" --db "$2" --quiet >/dev/null 2>&1 || true
    cut -d' ' -f1 "$TMP/count"
}

# spread T: 1..HEAD, then HEAD values up to T; every N with FAULTS_FULL=1, every Kth with
# FAULTS_STEP=K.
spread() {
    if [ "${FAULTS_FULL:-0}" = 1 ]; then seq 1 "$1"; return; fi
    if [ -n "${FAULTS_STEP:-}" ]; then seq 1 "$FAULTS_STEP" "$1"; return; fi
    awk -v t="$1" -v h="$HEAD" 'BEGIN { for (n = 1; n <= h && n <= t; n++) print n;
        if (t > h) for (k = 1; k <= h; k++) { n = h + int((t - h) * k / h + 0.5);
            if (n > h && n != last) print n; last = n } }'
}
# 20 and 20; under a sanitizer (each run several times slower) 10 and 10
HEAD=20
[ -n "$asan" ] && HEAD=10

# recover DB: after a failed run, finish it as a user would: --resume, or where nothing
# was recorded (--resume: "no unfinished run", "no database"), the run again. Prints
# "resumed", "rerun", "none" (the run was complete) or "FAILED rc".
recover() {
    st=$(sqlite3 -batch -noheader "$1" "select status from runs order by id desc limit 1" 2>/dev/null || true)
    [ "$st" = complete ] && { echo none; return; }
    if "$SLMBENCH" run --resume --db "$1" --quiet >/dev/null 2>"$TMP/rec.err"; then
        echo resumed; return; else rc=$?; fi
    if [ "$rc" = 3 ] && grep -Eq "no unfinished run|no database" "$TMP/rec.err"; then
        if "$SLMBENCH" run "$TMP/run.yaml" --db "$1" --quiet >/dev/null 2>"$TMP/rec.err"; then
            echo rerun; return; else rc=$?; fi
    fi
    echo "FAILED $rc"
}

# one OP ERRNO MODE N WANT: a run with the Nth counted call failing, its checks, and one
# matrix line; WANT is the regex its error must match. Returns 1 when inconsistent.
one() {
    db="$TMP/f.db"
    rm -f "$db" "$db"-wal "$db"-shm "$TMP/count"
    if SLM_FAIL_PATH="$db" SLM_FAIL_OP=$1 SLM_FAIL_ERRNO=$2 SLM_FAIL_MODE=$3 SLM_FAIL_AT=$4 \
        SLM_FAIL_COUNT="$TMP/count" LD_PRELOAD="$PRE" \
        "$SLMBENCH" run "$TMP/run.yaml" --db "$db" --quiet >/dev/null 2>"$TMP/f.err"; then
        rc=0; else rc=$?; fi
    failed=$(cut -d' ' -f2 "$TMP/count" 2>/dev/null || echo '?')
    why=""
    case $rc in
    0) ;;
    4) grep -Eq "$5" "$TMP/f.err" || why="error not /$5/: $(tail -n 1 "$TMP/f.err")" ;;
    *) why="exit $rc: $(tail -n 3 "$TMP/f.err" | tr '\n' ' ')" ;;
    esac
    grep -Eq "Sanitizer|runtime error|Segmentation" "$TMP/f.err" && why="$why sanitizer report"
    # the message says what to do: resume a recorded run, else run again
    runs=$(sqlite3 -batch -noheader "$db" "select count(*) from runs" 2>/dev/null || echo 0)
    if [ "$rc" = 4 ] && [ "${runs:-0}" -gt 0 ]; then
        grep -q -- "run --resume --db $db" "$TMP/f.err" || why="$why no resume hint"
    elif [ "$rc" = 4 ]; then
        grep -Eq "run it again|schema|WAL" "$TMP/f.err" || why="$why no hint to run again"
    fi
    ic=ok
    if [ -f "$db" ]; then ic=$(sqlite3 -batch -noheader "$db" "pragma integrity_check" 2>&1 | head -n 1); fi
    [ "$ic" = ok ] || why="$why integrity: $ic"
    res=$(recover "$db")
    case $res in FAILED*) why="$why recovery $res: $(tail -n 1 "$TMP/rec.err")" ;; esac
    if state "$db" | cmp -s - "$TMP/ref.state"; then eq=equal; else
        eq=DIFFERENT; why="$why state differs: $(state "$db" | diff - "$TMP/ref.state" | head -n 3 | tr '\n' ' ')"; fi
    printf '# %-5s %-6s %-6s N=%-4s failed=%-3s exit=%s integrity=%s %s %s\n' \
        "$1" "$2" "$3" "$4" "$failed" "$rc" "$ic" "$res" "$eq"
    [ -z "$why" ] && return 0
    notok "$1 $2 $3 N=$4: $why"
    return 1
}

# matrix OP ERRNO MODE WANT Ns...: runs one() for each N; one ok line when all are consistent.
matrix() {
    op=$1 en=$2 mode=$3 want=$4
    shift 4
    bad=0 n_tried=0
    for n in "$@"; do
        n_tried=$((n_tried + 1))
        one "$op" "$en" "$mode" "$n" "$want" || bad=$((bad + 1))
    done
    if [ "$bad" = 0 ]; then
        ok "$op $en $mode: $n_tried N tried ($1..$(echo "$@" | awk '{ print $NF }')), all consistent"
    fi
}

T=$(calls write "$TMP/count.db")
S=$(calls sync "$TMP/count.db")
echo "# a run makes $T writes and $S syncs on its database files"
[ "${T:-0}" -gt 100 ] && ok "the shim counts the run's writes ($T)" || notok "the shim counted ${T:-no} writes"
echo "# op    errno  mode   N      failed exit integrity recovery state"
matrix write EIO sticky 'disk I/O error' $(spread "$T")
# a transient fault: the odd N up to HEAD and the whole spread beyond; a full disk: every
# fourth N of the spread (all with FAULTS_FULL=1)
every() { if [ "${FAULTS_FULL:-0}${FAULTS_STEP:-}" != 0 ]; then cat; else awk -v k="$1" 'NR % k == 0'; fi; }
odd() { if [ "${FAULTS_FULL:-0}${FAULTS_STEP:-}" != 0 ]; then cat; else awk -v h="$HEAD" '$1 > h || $1 % 2'; fi; }
matrix write EIO once 'disk I/O error' $(spread "$T" | odd)
matrix write ENOSPC sticky 'disk is full|No space left on device' $(spread "$T" | every 4)
matrix sync EIO sticky 'disk I/O error' $(seq 1 "${S:-1}")

# ENOSPC from a real small tmpfs: a filler leaves FREE KiB, the run stops on a full disk,
# integrity holds, and after the filler is removed the run resumes to the same state.
# 768 KiB runs out after the run has started (the WAL grows by every commit), 256 KiB
# while the run is recorded.
MNT="$TMP/mnt"
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=2m tmpfs "$MNT" 2>/dev/null; then
    skip "ENOSPC from a small tmpfs (mount -t tmpfs is not permitted here)"
    exit 0
fi
trap 'umount "$MNT" 2>/dev/null; rm -rf "$TMP"' EXIT
for free in 768 256; do
    rm -f "$MNT"/*
    avail=$(df -k --output=avail "$MNT" | tail -n 1)
    dd if=/dev/zero of="$MNT/filler" bs=1k count=$((avail - free)) 2>/dev/null || true
    if "$SLMBENCH" run "$TMP/run.yaml" --db "$MNT/t.db" --quiet >/dev/null 2>"$TMP/t.err"; then
        rc=0; else rc=$?; fi
    n=$(sql "$MNT/t.db" "select count(*) from predictions" 2>/dev/null || echo -)
    ic=$(sql "$MNT/t.db" "pragma integrity_check" 2>&1 | head -n 1)
    rm -f "$MNT/filler"
    res=$(recover "$MNT/t.db")
    if state "$MNT/t.db" | cmp -s - "$TMP/ref.state"; then eq=equal; else eq=DIFFERENT; fi
    echo "# tmpfs free=${free}K exit=$rc predictions=$n integrity=$ic $res $eq"
    [ "$rc" = 4 ] && grep -Eq 'disk is full|No space left on device' "$TMP/t.err" \
        && ok "tmpfs with ${free} KiB free: exit 4, the error names the full disk" \
        || notok "tmpfs with ${free} KiB free: exit $rc, $(tail -n 1 "$TMP/t.err")"
    [ "$ic" = ok ] && ok "tmpfs ${free} KiB: integrity_check ok after the full disk" \
        || notok "tmpfs ${free} KiB: integrity_check: $ic"
    case "$free:$n" in
    768:[1-9]*) case $n in 48) notok "tmpfs 768 KiB: the run never ran out of space" ;;
                *) ok "tmpfs 768 KiB: ran out mid-run ($n of 48 predictions kept)" ;; esac ;;
    768:*) notok "tmpfs 768 KiB: ran out before the first prediction ($n)" ;;
    esac
    [ "$eq" = equal ] && ok "tmpfs ${free} KiB: $res after freeing space, equal to an uninterrupted run" \
        || notok "tmpfs ${free} KiB: $res, state differs: $(state "$MNT/t.db" | diff - "$TMP/ref.state" | head -n 3 | tr '\n' ' ')"
done
