#!/usr/bin/env bash
# test_event_json.sh BUILD_DIR SOURCE_DIR - every JSON line that `bourse send`,
# `bourse watch` and `bourse replay --json` print is an object whose keys each
# appear once (an order's type is "order_type" beside the event's "type"), over
# every event type engine/prototext.c names; new-order takes order_type= and
# the older type=.
set -uo pipefail
BUILD=$1
SRC=$2
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
INST="tjson$$"
TMP=$(mktemp -d)
DATA=$TMP/data
CHECK="python3 $SRC/tests/scripts/json_keys_once.py"
failures=0
engine_pid=
watcher=

. "$(dirname "$0")/engine_lib.sh"

cleanup() {
    [ -n "$watcher" ] && kill "$watcher" 2>/dev/null
    [ -n "$engine_pid" ] && kill -9 "$engine_pid" 2>/dev/null
    wait 2>/dev/null
    "$CLI" -i "$INST" remove 2>/dev/null
    rm -rf "$TMP" /dev/shm/bourse."$INST" /dev/shm/bourse."$INST".lock /dev/shm/bourse."$INST".new.*
}
trap cleanup EXIT

write_engine_ini <<EOF
[journal]
fsync = batch
acks = durable
EOF

# The event names of prototext.c's events[] table: what "every type" means.
want=$(sed -n '/^static const def_t events\[\] = {/,/^};/p' "$SRC/engine/prototext.c" |
    sed -n 's/^ *{"\([a-z-]*\)", EVT_.*/\1/p' | sort)
[ "$(wc -l <<<"$want")" -ge 16 ] || { echo "FAIL event_table_found: '$want'"; exit 1; }

start_engine || { echo "FAIL engine_starts: $(cat "$TMP/engine.log")"; exit 1; }
"$CLI" -i "$INST" watch >"$TMP/watch.json" 2>"$TMP/watch.err" &
watcher=$!
for _ in $(seq 400); do grep -q "attached" "$TMP/watch.err" && break; sleep 0.05; done

# s CMD...: one send whose answer goes to send.json; a failure is reported.
s() {
    "$CLI" -i "$INST" send "$@" >>"$TMP/send.json" 2>>"$TMP/send.err"
    local rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "send_$1" "exit $rc: $(tail -1 "$TMP/send.err")"
}
s echo value=1
s define-fee-tier tier=0 maker_bps=10 taker_bps=20
s add-asset asset=1 name=BTC decimals=8
s add-asset asset=2 name=USD decimals=2
s add-instrument instrument=1 symbol=BTC-USD base=1 quote=2 tick_size=100 lot_size=1000000 \
    min_qty=1000000 max_qty=10000000000 ref_price=6000000 band_bps=1000
for a in 1 2; do
    s add-account account=$a
    s deposit account=$a asset=1 amount=1000000000
    s deposit account=$a asset=2 amount=100000000
done
s new-order account=1 instrument=1 side=sell price=6000000 qty=5000000 client_order_id=7
s new-order account=1 instrument=1 side=sell price=6010000 qty=1000000 order_type=limit client_order_id=8
s new-order account=2 instrument=1 side=buy price=6010000 qty=2000000 tif=ioc type=limit
s new-order account=2 instrument=1 side=buy order_type=market price=6050000 qty=1000000 tif=ioc
s amend account=1 client_order_id=7 new_qty=1000000
s new-order account=2 instrument=1 side=buy price=6000000 qty=1 # rejected: qty-off-lot
s query-book instrument=1
s query-account account=1
s query-order account=1 client_order_id=8
s query-refdata
s query-digest
s cancel account=1 client_order_id=8
s withdraw account=2 asset=2 amount=100
s halt instrument=1
s resume instrument=1
"$CLI" -i "$INST" snapshot >>"$TMP/send.json" 2>>"$TMP/send.err" || fail snapshot_is_answered "$(tail -1 "$TMP/send.err")"
s echo value=424242

# The watcher has everything once it has printed the last echo.
for _ in $(seq 400); do grep -q '"value":424242' "$TMP/watch.json" && break; sleep 0.05; done
kill -INT "$watcher"; wait "$watcher" 2>/dev/null; watcher=
kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=
"$CLI" replay "$DATA/$INST" --json >"$TMP/replay.json" 2>"$TMP/replay.err" \
    || fail replay_json_runs "$(tail -2 "$TMP/replay.err")"

for what in send watch replay; do
    if got=$($CHECK "$TMP/$what.json" 2>"$TMP/check.err"); then
        ok "${what}_json_lines_have_each_key_once ($(wc -l <"$TMP/$what.json") lines)"
    else
        fail "${what}_json_lines_have_each_key_once" "$(head -3 "$TMP/check.err")"
    fi
    missing=$(comm -23 <(echo "$want") <(echo "$got") | tr '\n' ' ')
    [ -z "$missing" ] && ok "${what}_json_covers_every_event_type" \
        || fail "${what}_json_covers_every_event_type" "no $missing"
done

# The order's type under its own name, in the answer and in the stream.
for what in send watch replay; do
    grep '"type":"accepted"' "$TMP/$what.json" | grep -q '"order_type":"market"' &&
        grep '"type":"accepted"' "$TMP/$what.json" | grep -q '"order_type":"limit"' &&
        ok "${what}_accepted_events_name_the_order_type_order_type" ||
        fail "${what}_accepted_events_name_the_order_type_order_type" "$(grep accepted "$TMP/$what.json" | head -2)"
done
if "$CLI" -i "$INST" send new-order account=1 instrument=1 side=buy qty=1 type=limit order_type=market \
    >"$TMP/out" 2>"$TMP/err"; then
    fail type_and_order_type_together_are_refused "accepted"
else
    [ $? -eq 2 ] && grep -q "key 'order_type' given twice" "$TMP/err" && ok type_and_order_type_together_are_refused \
        || fail type_and_order_type_together_are_refused "$(cat "$TMP/err")"
fi

echo "$failures failed"
[ "$failures" -eq 0 ]
