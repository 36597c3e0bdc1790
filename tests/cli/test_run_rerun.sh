# tests/run.sh reruns a test once when its log shows only LeakSanitizer's own crash (the
# tracer dying with a signal, a known fault of the sanitizer runtime), and never when the
# log has a leak report or any other failure.
. "$(dirname "$0")/lib.sh"

# A fake test that fails the first time with the given line in its output and passes the
# second time (a marker file counts the runs).
fake() { # name line
    cat >"$TMP/$1.sh" <<EOS
if [ -f "$TMP/$1.ran" ]; then echo "ok - second run"; exit 0; fi
: >"$TMP/$1.ran"
echo "$2"
exit 1
EOS
}
run() { # name -> the exit status run.sh recorded
    mkdir -p "$TMP/out"
    sh "$ROOT/tests/run.sh" --one "$TMP/out" "$TMP/$1.sh"
    cut -d' ' -f1 "$TMP/out/$1.sh.res"
}

fake tracer "    #   Tracer caught signal 11: addr=0x2a0 pc=0x7f4915ae80f0 sp=0x7f49054f6d10"
if [ "$(run tracer)" = 0 ] && grep -q "^rerun - .*Tracer caught signal 11" "$TMP/out/tracer.sh.log"; then
    ok "a log with only the tracer's line is rerun, and says so"; else
    notok "tracer line: $(cat "$TMP/out/tracer.sh.res" "$TMP/out/tracer.sh.log")"; fi

fake fatal "==1==LeakSanitizer has encountered a fatal error."
if [ "$(run fatal)" = 0 ]; then ok "LeakSanitizer's fatal error is rerun"; else
    notok "fatal error: $(cat "$TMP/out/fatal.sh.log")"; fi

fake leak "==1==ERROR: LeakSanitizer: detected memory leaks
Tracer caught signal 11"
if [ "$(run leak)" = 1 ]; then ok "a leak report is never rerun"; else
    notok "leak report: $(cat "$TMP/out/leak.sh.res" "$TMP/out/leak.sh.log")"; fi

fake other "not ok - something else"
if [ "$(run other)" = 1 ] && [ -f "$TMP/other.ran" ]; then ok "any other failure is not rerun"; else
    notok "other failure: $(cat "$TMP/out/other.sh.res")"; fi
