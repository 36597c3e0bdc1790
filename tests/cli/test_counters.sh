# `slmbench counters`: every event is listed with its source or the reason it cannot be
# counted here; --json parses; an unknown event is a usage error.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "counters lists the default events" "$SLMBENCH" counters
expect_out '^task-clock +(papi|perf_event|getrusage) +ns ' "task-clock is counted, with its source"
expect_out '^instructions +(papi|perf_event|unavailable) ' "instructions is listed"
expect_out '^PAPI [0-9.]+: inheritance ' "PAPI version and inheritance are reported"
expect_out '^energy: (available|unavailable): ' "energy availability is reported"

expect_exit 0 "counters --json" "$SLMBENCH" counters --json
if python3 -c 'import json,sys; d=json.load(sys.stdin); ev={e["name"]: e for e in d["events"]}
assert ev["task-clock"]["available"] and ev["task-clock"]["source"] != "unavailable"
assert all(e["available"] == (e["reason"] is None) for e in d["events"])
assert "components" in d["papi"] and "available" in d["energy"]' <"$TMP/out"; then
    ok "--json parses and has events, papi and energy"
else notok "--json parses and has events, papi and energy"; fi

expect_exit 0 "--events picks events" "$SLMBENCH" counters --events task-clock,page-faults
expect_out '^page-faults ' "--events lists page-faults"
if grep -q '^instructions' "$TMP/out"; then notok "--events lists only what was asked"; else
    ok "--events lists only what was asked"; fi

expect_exit 0 "forced getrusage" env SLM_COUNTERS_FORCE=getrusage "$SLMBENCH" counters --events task-clock
expect_out '^task-clock +getrusage ' "SLM_COUNTERS_FORCE=getrusage uses getrusage"

expect_exit 2 "an unknown event is a usage error" "$SLMBENCH" counters --events task-clock,bogus-event
expect_err "unknown event 'bogus-event'" "the message names the unknown event"
expect_exit 2 "an empty event name is a usage error" "$SLMBENCH" counters --events task-clock,
expect_exit 2 "an unknown option is a usage error" "$SLMBENCH" counters --bogus
