# The test server's inference slots (tests/server/slm_test_server --slots N): two requests
# inferring at once and the rest queued first come first served, the bounded queue
# answering 503 with Retry-After, a queued request whose client left never inferred, a unique x-request-id on every answer, each fault landing
# on exactly the requests it asks for with 8 requests in flight, and `slmbench run` with
# concurrency 8 against 2 slots giving the answers of one request at a time. The states are
# waited for (polling GET /slots), never timed; --slot-ms keeps a slot busy long enough
# that requests sent together overlap on any machine.
. "$(dirname "$0")/lib.sh"
FX="$ROOT/tests/fixtures/tiny"
. "$(dirname "$0")/openai_lib.sh"

"$SLMBENCH" models make --train "$FX/train.csv" --evalset "$FX" --out "$TMP/a.gguf" --vocab 40 >/dev/null

slots() { curl -s "http://127.0.0.1:$PORT/slots"; }
field() { slots | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
# wait_slots BUSY QUEUED: waits (at most 30 s) until /slots shows that state; 1 if never.
wait_slots() {
    i=0
    while [ $i -lt 600 ]; do
        s=$(slots)
        case "$s" in *"\"busy\":$1,\"queued\":$2,"*) return 0 ;; esac
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
# req NAME [MAX_S]: one completion request in the background; its status code and time
# in $TMP/NAME.code, curl's exit code in NAME.rc, headers in NAME.hdr, body in NAME.body,
# and a line in NAME.end when it is over. Appends its pid to $PIDS.
PIDS=""
req() {
    (
        rc=0
        curl -s -o "$TMP/$1.body" -D "$TMP/$1.hdr" -w '%{http_code} %{time_total}' \
            --max-time "${2:-20}" "http://127.0.0.1:$PORT/v1/completions" \
            -d '{"prompt": "the card was charged twice", "max_tokens": 4}' >"$TMP/$1.code" || rc=$?
        echo "$rc" >"$TMP/$1.rc"
        date +%s%N >"$TMP/$1.end"
    ) &
    PIDS="$PIDS $!"
}
wait_reqs() {
    for p in $PIDS; do wait "$p" || true; done
    PIDS=""
}
code() { cut -d' ' -f1 "$TMP/$1.code"; }
rid() { sed -n 's/^x-request-id: *\([^[:space:]]*\).*/\1/Ip' "$TMP/$1.hdr" | tr -d '\r'; }

# ---- bad options ----
for bad in "--slots 0" "--slots 65" "--queue -1" "--slot-ms x" "--queue 65"; do
    expect_exit 2 "slm_test_server $bad refused" "$SERVER" --engine "$ENGDIR/llamacpp.so" --model "$TMP/a.gguf" $bad
done
expect_err "--queue '65': out of range \[0, 64\]" "the range of --queue named"

# ---- 2 slots, 4 requests at once: 2 infer, 2 wait ----
start_server --slots 2 --slot-ms 2500
v=$(slots)
case "$v" in '{"slots":2,"busy":0,"queued":0,"max_busy":0,"max_queued":0,"served":0,"rejected":0,'*) ok "GET /slots of an idle server: $v" ;; *) notok "idle /slots: $v" ;; esac
for k in 1 2 3 4; do req "k$k"; done
if wait_slots 2 2; then ok "4 requests at once on 2 slots: /slots shows 2 busy and 2 queued"; else notok "never 2 busy + 2 queued: $(slots)"; fi
wait_reqs
v=$(slots | sed 's/,"queue_max".*//')
[ "$v" = '{"slots":2,"busy":0,"queued":0,"max_busy":2,"max_queued":2,"served":4,"rejected":0,"abandoned":0' ] && ok "after them: never more than 2 busy, 4 served, none refused" || notok "after 4 requests: $v"
n=0
for k in 1 2 3 4; do
    id=$(rid "k$k")
    [ "$(code "k$k")" = 200 ] && grep -q "\"id\":\"$id\"" "$TMP/k$k.body" && n=$((n + 1))
    echo "$id" >>"$TMP/ids"
done
[ "$n" = 4 ] && ok "each answer 200, its x-request-id header its JSON id" || notok "answers with matching ids: $n of 4"
[ "$(sort -u "$TMP/ids" | grep -c '^cmpl-[0-9a-f]*-[1-4]$')" = 4 ] && ok "4 distinct request ids cmpl-TAG-1..4" || notok "ids: $(tr '\n' ' ' <"$TMP/ids")"
h=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/v1/models" | sed -n 's/^x-request-id: *//Ip' | tr -d '\r')
case "$h" in srv-*) ok "GET /v1/models carries an x-request-id too ($h)" ;; *) notok "models x-request-id: '$h'" ;; esac
curl -s -N -D "$TMP/st.hdr" -o "$TMP/st.body" "http://127.0.0.1:$PORT/v1/chat/completions" \
    -d '{"messages": [{"role": "user", "content": "the card was charged twice"}], "max_tokens": 4, "stream": true}'
h=$(rid st)
n=$(grep -c '^data: {' "$TMP/st.body" || true)
case "$h" in chatcmpl-*-5) ;; *) h="bad:$h" ;; esac
[ "$n" -ge 2 ] && [ "$(grep '^data: {' "$TMP/st.body" | grep -c "\"id\":\"$h\"")" = "$n" ] && ok "a streamed chat answer: x-request-id $h, the id of each of its $n chunks" || notok "stream: header '$h', $n chunks: $(head -c 300 "$TMP/st.body")"
stop_server

# ---- 1 slot, queue of 2: first come first served, the 4th refused ----
start_server --slots 1 --queue 2 --slot-ms 1500
req q1
wait_slots 1 0 || notok "first request never took the slot"
req q2
wait_slots 1 1 || notok "second request never queued"
req q3
wait_slots 1 2 || notok "third request never queued"
req q4
wait_reqs
[ "$(code q4)" = 503 ] && grep -qi '^retry-after: 1' "$TMP/q4.hdr" && ok "a 4th request with the queue of 2 full: 503 with Retry-After: 1" || notok "4th request: $(cat "$TMP/q4.code"), $(head -c 200 "$TMP/q4.body")"
grep -q '"all 1 slots busy and the queue of 2 full"' "$TMP/q4.body" && ok "its error says why" || notok "503 body: $(head -c 200 "$TMP/q4.body")"
[ "$(code q1)$(code q2)$(code q3)" = 200200200 ] && ok "the 3 others answered 200" || notok "codes: $(code q1) $(code q2) $(code q3)"
[ "$(cat "$TMP/q1.end")" -lt "$(cat "$TMP/q2.end")" ] && [ "$(cat "$TMP/q2.end")" -lt "$(cat "$TMP/q3.end")" ] && ok "served in the order they came (each held the slot 1.5 s)" || notok "end order q1 q2 q3: $(cat "$TMP/q1.end" "$TMP/q2.end" "$TMP/q3.end" | tr '\n' ' ')"
v=$(field rejected)/$(field served)/$(field max_queued)
[ "$v" = 1/3/2 ] && ok "/slots: 1 rejected, 3 served, at most 2 queued" || notok "rejected/served/max_queued: $v"
stop_server

# ---- a queued request whose client gives up costs no inference ----
start_server --slots 1 --slot-ms 2000
req a1
wait_slots 1 0 || notok "first request never took the slot"
req a2 1
wait_slots 1 1 || notok "second request never queued"
req a3
wait_slots 1 2 || notok "third request never queued"
wait_reqs
[ "$(cat "$TMP/a2.rc")" = 28 ] && [ "$(code a1)$(code a3)" = 200200 ] && ok "the 2nd request's client left after 1 s; the 1st and 3rd answered 200" || notok "a1 a2 a3: $(code a1) rc $(cat "$TMP/a2.rc") $(code a3)"
v=$(field served)/$(field abandoned)
[ "$v" = 2/1 ] && ok "/slots: 2 served, 1 abandoned (its turn passed to the 3rd, never inferred)" || notok "served/abandoned: $v"
stop_server

# ---- faults with 8 requests in flight on 2 slots: each on every 3rd request ----
# Requests are numbered as they arrive (the N of cmpl-TAG-N); the fault falls on N = 3, 6.
# fault_case FAULT EXPECT WHAT: EXPECT is a shell test on $c (status), $r (curl's exit
# code), $t (seconds) and $b (body) that each faulted request must pass; every other one
# must be a good answer: 200, JSON, its id the header's.
fault_case() {
    start_server --slots 2 --fault "$1" --fault-every 3
    for k in 1 2 3 4 5 6 7 8; do req "f$k" 3; done
    wait_reqs
    bad="" hit=""
    for k in 1 2 3 4 5 6 7 8; do
        c=$(code "f$k") t=$(cut -d' ' -f2 "$TMP/f$k.code") r=$(cat "$TMP/f$k.rc")
        b=$(cat "$TMP/f$k.body" 2>/dev/null || true)
        id=$(rid "f$k")
        n=${id##*-}
        if [ -z "$id" ] || [ $((n % 3)) = 0 ]; then # a hung request has no answer, no id
            hit="$hit ${n:-?}"
            eval "$2" || bad="$bad $k($c,$r)"
        elif ! { [ "$c" = 200 ] && [ "$r" = 0 ] && printf '%s' "$b" | /usr/bin/python3 -c \
            'import json,sys; assert json.load(sys.stdin)["id"] == sys.argv[1]' "$id" 2>/dev/null; }; then
            bad="$bad $k($c,$r)"
        fi
    done
    hit=$(echo $hit | tr ' ' '\n' | sort | tr '\n' ' ')
    want="3 6 "
    [ "$1" = hang ] && want="? ? "
    [ -z "$bad" ] && [ "$hit" = "$want" ] && ok "$3: requests $hit as the fault asks, the others answered well" || notok "$3: faulted '$hit' (want '$want'), wrong:$bad"
    stop_server
}
fault_case 500 '[ "$c" = 500 ] && case "$b" in *"injected fault: server error"*) true ;; *) false ;; esac' "500"
fault_case 429:2 '[ "$c" = 429 ] && grep -qi "^retry-after: 2" "$TMP/f$k.hdr"' "429 with Retry-After: 2"
fault_case drop '[ "$c" = 200 ] && [ "$r" = 18 ]' "drop (curl: partial body, exit 18)"
fault_case malformed '[ "$c" = 200 ] && ! printf "%s" "$b" | /usr/bin/python3 -c "import json,sys; json.load(sys.stdin)" 2>/dev/null' "malformed JSON"
fault_case delay:400 '[ "$c" = 200 ] && awk -v t="$t" "BEGIN { exit !(t >= 0.4) }"' "delay 400 ms (those >= 0.4 s)"
fault_case hang '[ "$r" = 28 ]' "hang (curl's 3 s timeout)"

# ---- slmbench run, concurrency 8 against 2 slots, every 3rd request HTTP 500 ----
start_server --slots 1
cfg "$TMP/one.yaml" 24 "endpoint: completions" "concurrency: 1"
expect_exit 0 "one request at a time against 1 slot" "$SLMBENCH" run "$TMP/one.yaml" --db "$TMP/one.db" --quiet
stop_server
start_server --slots 2 --fault 500 --fault-every 3
cfg "$TMP/c8.yaml" 24 "endpoint: completions, retries: 10" "concurrency: 8"
expect_exit 0 "concurrency 8 against 2 slots, every 3rd request HTTP 500" "$SLMBENCH" run "$TMP/c8.yaml" --db "$TMP/c8.db" --quiet
q="select example_idx, pred, raw_output, round(confidence, 9), error from predictions order by 1"
if [ "$(sql "$TMP/c8.db" "$q" | wc -l)" = 24 ] && [ "$(sql "$TMP/c8.db" "$q")" = "$(sql "$TMP/one.db" "$q")" ]; then
    ok "the same 24 predictions, outputs and confidences as one request on one slot"
else notok "predictions differ"; fi
req=$(curl -s "http://127.0.0.1:$PORT/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
v=$(field served)/$(field rejected)
[ "$v" = "$((req - req / 3))/0" ] && ok "/slots: of $req requests all but the $((req / 3)) faulted inferred, none refused" || notok "requests $req, served/rejected $v"
m=$(field max_busy)
[ "$m" -ge 1 ] && [ "$m" -le 2 ] && ok "never more than the 2 slots busy (most at once: $m)" || notok "max_busy $m"
stop_server
