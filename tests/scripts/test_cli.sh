#!/usr/bin/env bash
# test_cli.sh - bourse-engine and bourse as an operator runs them: start, ping,
# status, a second engine refused, clean stop, kill -9 and restart, and a
# one-line error with a non-zero exit for each kind of bad input.
# usage: test_cli.sh BUILD_DIR
set -u
BUILD=$1
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
INST="tcli$$"
TMP=$(mktemp -d)
export BOURSE_ENGINE_DATA_DIR="$TMP/data" # journal and snapshots: under the test's own directory
export BOURSE_ENGINE_IDLE=backoff
failures=0
engine_pid=

cleanup() {
    [ -n "$engine_pid" ] && kill -9 "$engine_pid" 2>/dev/null
    rm -rf "$TMP" "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock"
}
trap cleanup EXIT

. "$(dirname "$0")/engine_lib.sh" # ok, fail, wait_until, alive, start_engine

# expect_error NAME EXPECTED_EXIT NEEDLE CMD...: exit code, one line, names the problem.
expect_error() {
    local name=$1 code=$2 needle=$3
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    local lines
    lines=$(wc -l <"$TMP/err")
    if [ "$rc" -ne "$code" ]; then
        fail "$name" "exit $rc, expected $code ($(cat "$TMP/err"))"
    elif [ "$lines" -ne 1 ]; then
        fail "$name" "expected one line of error, got $lines: $(cat "$TMP/err")"
    elif ! grep -qF -- "$needle" "$TMP/err"; then
        fail "$name" "error '$(cat "$TMP/err")' lacks '$needle'"
    else
        ok "$name"
    fi
}

# --- bad input, before any engine runs
expect_error unknown_option_is_refused 2 "unknown option '--frobnicate'" "$ENGINE" --frobnicate
expect_error stray_argument_is_refused 2 "unexpected argument 'extra'" "$ENGINE" extra
expect_error missing_config_file_is_named 1 "config $TMP/none.ini: No such file or directory" \
    "$ENGINE" -c "$TMP/none.ini"
printf '[engine]\nclients = 4\nbogus_key = 1\n' >"$TMP/bad.ini"
expect_error unknown_config_key_names_line 1 "$TMP/bad.ini:3: unknown key 'bogus_key' in [engine]" \
    "$ENGINE" -c "$TMP/bad.ini"
printf '[engine]\nring_capacity = 3000\n' >"$TMP/bad2.ini"
expect_error bad_config_value_is_named 1 "ring_capacity: 3000 is not a power of two" \
    "$ENGINE" -c "$TMP/bad2.ini"
printf '\x00\x01garbage\n[[[\n' >"$TMP/bin.ini"
expect_error binary_config_is_refused 1 "$TMP/bin.ini:" "$ENGINE" -c "$TMP/bin.ini"
expect_error bad_env_override_is_named 1 "environment BOURSE_ENGINE_IDLE: idle: 'warp' is not one of" \
    env BOURSE_ENGINE_IDLE=warp "$ENGINE" -i "$INST"
expect_error status_without_engine_says_so 1 "is bourse-engine running?" "$CLI" -i "$INST" status
expect_error cli_unknown_command 2 "unknown command 'sell'" "$CLI" -i "$INST" sell
expect_error cli_bad_instance_name 2 "may only hold" "$CLI" -i "../x" status
expect_error cli_bad_count 2 "-n needs a count from 1 to" "$CLI" -i "$INST" ping -n zero

# --- a running engine
printf '[engine]\ninstance = %s\nclients = 4\nring_capacity = 256\n' "$INST" >"$TMP/good.ini"
"$ENGINE" -c "$TMP/good.ini" --print-config >"$TMP/printed.ini" && grep -q "clients = 4" "$TMP/printed.ini" \
    && ok print_config_shows_effective_values || fail print_config_shows_effective_values "$(cat "$TMP/printed.ini")"

if start_engine -i "$INST" -c "$TMP/good.ini"; then ok engine_starts_and_reports_running; else fail engine_starts_and_reports_running "$(cat "$TMP/engine.log")"; fi
# The segment is ready a moment before the engine logs that it runs: wait for the line.
wait_until 60 grep -q '"level":"info","proc":"engine"' "$TMP/engine.log" && ok engine_logs_json_lines || fail engine_logs_json_lines "$(cat "$TMP/engine.log")"

if "$CLI" -i "$INST" ping -n 200 >"$TMP/ping" 2>&1 && grep -q "200 echoes" "$TMP/ping"; then
    ok ping_round_trips_through_engine
else
    fail ping_round_trips_through_engine "$(cat "$TMP/ping")"
fi

# --- orders through the running engine with bourse send
send() { "$CLI" -i "$INST" send "$@"; }
{
    send define-fee-tier tier=0 maker_bps=10 taker_bps=20 &&
    send add-asset asset=1 name=BTC decimals=8 && send add-asset asset=2 name=USD decimals=2 &&
    send add-instrument instrument=1 symbol=BTC-USD base=1 quote=2 tick_size=100 lot_size=1000000 \
        min_qty=1000000 max_qty=10000000000 ref_price=6000000 band_bps=1000 &&
    for a in 1 2; do
        send add-account account=$a && send deposit account=$a asset=1 amount=1000000000 &&
        send deposit account=$a asset=2 amount=100000000 || exit 1
    done
} >"$TMP/setup.out" 2>&1 && ok admin_commands_set_up_a_market || fail admin_commands_set_up_a_market "$(tail -3 "$TMP/setup.out")"
send new-order account=1 instrument=1 side=sell price=6000000 qty=5000000 client_order_id=7 >"$TMP/o1" 2>&1
send new-order account=2 instrument=1 side=buy price=6010000 qty=2000000 tif=ioc >"$TMP/o2" 2>&1
if grep -q '"type":"accepted"' "$TMP/o1" && grep -q '"type":"trade".*"price":6000000,"qty":2000000' "$TMP/o2" &&
    grep -q '"type":"book".*"qty":3000000' "$TMP/o2" && tail -1 "$TMP/o2" | grep -q '"last":true'; then
    ok orders_trade_through_the_engine
else
    fail orders_trade_through_the_engine "$(cat "$TMP/o1" "$TMP/o2")"
fi
send new-order account=2 instrument=1 side=buy price=6000000 qty=1 >"$TMP/o3" 2>&1
rc=$?
[ "$rc" -eq 3 ] && grep -q '"reason":"qty-off-lot"' "$TMP/o3" && ok rejected_order_exits_3_with_reason \
    || fail rejected_order_exits_3_with_reason "exit $rc: $(cat "$TMP/o3")"
send cancel account=1 client_order_id=7 >"$TMP/o4" 2>&1 && grep -q '"type":"cancelled".*"reason":"user"' "$TMP/o4" \
    && ok cancel_by_client_order_id || fail cancel_by_client_order_id "$(cat "$TMP/o4")"
expect_error send_unknown_key_is_named 2 "new-order: unknown key 'colour'" "$CLI" -i "$INST" send new-order colour=red
expect_error send_missing_key_is_named 2 "new-order: missing account=" "$CLI" -i "$INST" send new-order side=buy qty=1
expect_error send_bad_value_is_named 2 "side: 'up' is not one of" "$CLI" -i "$INST" send new-order account=1 instrument=1 side=up qty=1

"$CLI" -i "$INST" watch -n 3 >"$TMP/watch" 2>&1 &
watch_pid=$!
wait_until 60 grep -q "attached" "$TMP/watch"
"$CLI" -i "$INST" ping -n 3 >/dev/null 2>&1
wait_until 60 gone "$watch_pid" || kill "$watch_pid"
wait "$watch_pid"
if [ "$(grep -c '"type":"echo"' "$TMP/watch")" -eq 3 ]; then ok watch_prints_events_as_json; else fail watch_prints_events_as_json "$(cat "$TMP/watch")"; fi

"$CLI" -i "$INST" status >"$TMP/status" 2>&1
if grep -q "generation 1" "$TMP/status" && grep -q "running" "$TMP/status" && grep -q "sequenced" "$TMP/status"; then
    ok status_shows_engine_and_counts
else
    fail status_shows_engine_and_counts "$(cat "$TMP/status")"
fi

expect_error second_engine_is_refused 1 "is owned by a live engine (pid $engine_pid)" "$ENGINE" -i "$INST"

kill -INT "$engine_pid"
wait "$engine_pid"
rc=$?
engine_pid=
[ "$rc" -eq 0 ] && ok sigint_stops_engine_cleanly || fail sigint_stops_engine_cleanly "exit $rc"
"$CLI" -i "$INST" status 2>&1 | grep -q "stopped" && ok status_reports_stopped_engine || fail status_reports_stopped_engine "not stopped"
expect_error ping_after_stop_is_refused 1 "has stopped" "$CLI" -i "$INST" ping

# --- crash and restart
start_engine -i "$INST" -c "$TMP/good.ini"
kill -9 "$engine_pid"
wait "$engine_pid" 2>/dev/null
engine_pid=
"$CLI" -i "$INST" status 2>&1 | grep -q "stale" && ok status_reports_stale_segment || fail status_reports_stale_segment "$("$CLI" -i "$INST" status 2>&1)"
expect_error ping_to_stale_segment_is_refused 1 "stale segment" "$CLI" -i "$INST" ping
if start_engine -i "$INST" -c "$TMP/good.ini" && "$CLI" -i "$INST" status | grep -q "generation 3"; then
    ok restart_after_crash_bumps_generation
else
    fail restart_after_crash_bumps_generation "$("$CLI" -i "$INST" status 2>&1)"
fi
kill -TERM "$engine_pid"; wait "$engine_pid"; engine_pid=

# --- corrupt segments: one line, non-zero exit, no crash
SEG=/dev/shm/bourse.$INST
cp "$SEG" "$TMP/seg"
truncate -s 100 "$SEG"
expect_error truncated_segment_is_refused 1 "truncated segment" "$CLI" -i "$INST" status
cp "$TMP/seg" "$SEG"; printf 'XXXXXXXX' | dd of="$SEG" conv=notrunc status=none
expect_error foreign_segment_is_refused 1 "not a bourse segment" "$CLI" -i "$INST" status
cp "$TMP/seg" "$SEG"; printf '\x09' | dd of="$SEG" bs=1 seek=8 conv=notrunc status=none
expect_error other_layout_version_is_refused 1 "layout version 9 but this build reads version " "$CLI" -i "$INST" status
head -c 4096 /dev/urandom >"$SEG"
expect_error random_segment_is_refused 1 "/dev/shm/bourse.$INST" "$CLI" -i "$INST" status
# An engine starts over a corrupt leftover segment: it is replaced, not trusted.
if start_engine -i "$INST" -c "$TMP/good.ini" && "$CLI" -i "$INST" ping -n 5 >/dev/null; then
    ok engine_replaces_corrupt_leftover
else
    fail engine_replaces_corrupt_leftover "$(tail -2 "$TMP/engine.log")"
fi
kill -TERM "$engine_pid"; wait "$engine_pid"; engine_pid=

# --- clean-up of an instance
start_engine -i "$INST" -c "$TMP/good.ini"
expect_error remove_refuses_a_live_instance 1 "held by a live engine" "$CLI" -i "$INST" remove
kill -TERM "$engine_pid"; wait "$engine_pid"; engine_pid=
if "$CLI" -i "$INST" remove && [ ! -e "/dev/shm/bourse.$INST" ]; then
    ok remove_clears_a_stopped_instance
else
    fail remove_clears_a_stopped_instance "segment still there"
fi

[ "$failures" -eq 0 ]
