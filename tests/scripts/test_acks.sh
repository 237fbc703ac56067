#!/usr/bin/env bash
# test_acks.sh BUILD_DIR - a command is acknowledged exactly when `bourse send`
# reports it (exit 0, its events printed), and a kill -9 of the engine loses
# none of those: each round runs the load generator and two streams of sends
# (resting orders with client order ids) against an engine with durable acks
# and fsync batch, kills it right after the Nth acknowledged send, restarts
# it and finds every acknowledged order in the recovered state. Then one send
# against a journal that syncs once a minute shows each outcome of the wait:
# past its deadline (exit 4, nothing printed), the engine killed meanwhile
# (exit 1), stopped cleanly meanwhile (acknowledged: the close synced it), and
# acks = fast (no wait).
set -uo pipefail
BUILD=$1
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
LOADGEN=$BUILD/tests/test-loadgen
INST="tack$$"
TMP=$(mktemp -d)
DATA=$TMP/data
ROUNDS=${BOURSE_KILL_ROUNDS:-20}
SEED=${BOURSE_SEED:-$(date +%s)}
echo "seed $SEED (set BOURSE_SEED to replay)"
RANDOM=$((SEED % 32768))
failures=0
engine_pid=
gen=
streamer=
waiter=

. "$(dirname "$0")/engine_lib.sh"

cleanup() {
    for p in $engine_pid $gen $streamer $waiter; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    "$CLI" -i "$INST" remove 2>/dev/null
    rm -rf "$TMP" "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock" /dev/shm/bourse."$INST".new.*
}
trap cleanup EXIT

write_engine_ini <<EOF
[journal]
fsync = batch
acks = durable
[snapshot]
interval_s = 1
keep = 2
EOF

# A send's answer must outlive the load's events while the machine keeps the
# CLI off a core: a larger event log (one that laps it anyway is a send not
# acknowledged, below).
export BOURSE_ENGINE_EVENT_LOG_CAPACITY=1048576
start_engine || { echo "FAIL engine_starts: $(cat "$TMP/engine.log")"; exit 1; }
add_reference_data
# The sends rest on a book of their own (the load trades instrument 1 only):
# an acknowledged order stays open, so the recovered state must list it.
send add-instrument instrument=2 symbol=BTC-USD2 base=1 quote=2 tick_size=100 lot_size=1000000 \
    min_qty=1000000 max_qty=10000000000 ref_price=100000 band_bps=5000
for a in 9 10; do
    send add-account account=$a
    send deposit account=$a asset=2 amount=100000000000
done

# place CID ACCOUNT OUT: one bourse send of a resting buy; its status.
place() {
    "$CLI" -i "$INST" send new-order account="$2" instrument=2 side=buy price=60000 qty=1000000 \
        client_order_id="$1" >"$3" 2>>"$TMP/send.err"
}
# acked CID OUT: the answer printed holds the order's acceptance (builtins
# only: the kill follows without a process start in between).
acked() {
    local line
    while IFS= read -r line; do
        [[ $line == *'"type":"accepted"'*"\"client_order_id\":$1,"* ]] && return 0
    done <"$2"
    return 1
}
# stream ACCOUNT FIRST_CID ACKS: sends until one fails other than by its
# deadline (the engine is gone); each acknowledged CID goes to ACKS.
stream() {
    local cid=$2 rc
    while :; do
        place "$cid" "$1" "$TMP/stream.out"
        rc=$?
        [ "$rc" -eq 0 ] && acked "$cid" "$TMP/stream.out" && echo "$cid" >>"$3"
        [ "$rc" -eq 0 ] || [ "$rc" -eq 4 ] || return 0
        cid=$((cid + 1))
    done
}
# open_cids ACCOUNT: the client order ids of its open orders, page by page.
open_cids() {
    local after=0 out end
    while :; do
        out=$("$CLI" -i "$INST" send -t 10000 query-account account="$1" limit=1000 after_order_id=$after) || return 1
        sed -n 's/.*"type":"order".*"client_order_id":\([0-9]*\),.*/\1/p' <<<"$out"
        end=$(grep '"type":"end"' <<<"$out")
        grep -q '"more":true' <<<"$end" || return 0
        after=$(sed -n 's/.*"next_after":\([0-9]*\).*/\1/p' <<<"$end")
    done
}

# --- kill -9 right after the Nth acknowledged send, ROUNDS times
total=0
lost=0
for round in $(seq "$ROUNDS"); do
    : >"$TMP/fg.acks"
    : >"$TMP/bg.acks"
    "$LOADGEN" "$INST" "$((SEED + round))" "$TMP/load" 60 &
    gen=$!
    stream 10 $((round * 100000 + 50000)) "$TMP/bg.acks" &
    streamer=$!
    want=$((RANDOM % 8 + 1))
    n=0
    late=0
    cid=$((round * 100000))
    # Bounded by sends, not time: a send that misses its deadline is not
    # acknowledged (exit 4) and the round goes on.
    for _ in $(seq 200); do
        cid=$((cid + 1))
        place "$cid" 9 "$TMP/fg.out"
        rc=$?
        if [ "$rc" -eq 0 ] && acked "$cid" "$TMP/fg.out"; then
            echo "$cid" >>"$TMP/fg.acks"
            n=$((n + 1))
            [ "$n" -ge "$want" ] && break
        elif [ "$rc" -eq 4 ] || { [ "$rc" -eq 1 ] && tail -1 "$TMP/send.err" | grep -q "lapped by the event log"; }; then
            late=$((late + 1)) # not acknowledged: nothing is claimed for it
        else
            fail "round_${round}_send_${cid}" "exit $rc: $(tail -1 "$TMP/send.err")"
            break
        fi
    done
    kill -9 "$engine_pid"
    wait "$engine_pid" 2>/dev/null
    wait "$streamer"
    wait "$gen"
    streamer=
    gen=
    if ! start_engine; then
        fail "round_${round}_restart" "$(tail -3 "$TMP/engine.log")"
        break
    fi
    { open_cids 9 && open_cids 10; } | sort -u >"$TMP/open" || fail "round_${round}_query" "no answer"
    sort -u "$TMP/fg.acks" "$TMP/bg.acks" >"$TMP/acks"
    missing=$(comm -23 "$TMP/acks" "$TMP/open" | tr '\n' ' ')
    acks=$(wc -l <"$TMP/acks")
    total=$((total + acks))
    if [ -n "$missing" ]; then
        lost=$((lost + $(wc -w <<<"$missing")))
        fail "round_${round}_acknowledged_orders_survive" "acknowledged but not recovered: $missing"
    fi
    echo "     round $round: killed after acknowledged send $n of the first stream;" \
        "$acks acknowledged in both, $late past their deadline or lapped, $(wc -l <"$TMP/open") open orders recovered"
done
[ "$lost" -eq 0 ] && [ "$total" -gt 0 ] &&
    ok "kill_9_${ROUNDS}_times_loses_none_of_${total}_commands_bourse_send_acknowledged"

# --- one send against a journal that syncs once a minute: the wait's outcomes
kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=
DATA=$TMP/data2
write_engine_ini <<EOF
[journal]
fsync = interval
fsync_interval_ms = 60000
acks = durable
EOF
# sequenced N: bounded wait until the engine has sequenced N commands.
has_sequenced() { "$CLI" -i "$INST" status 2>/dev/null | grep -q "^commands   $1 sequenced"; }
sequenced() { wait_until 60 has_sequenced "$1"; }

t0=$SECONDS
start_engine || fail interval_engine_starts "$(tail -3 "$TMP/engine.log")"
"$CLI" -i "$INST" send echo value=1 >"$TMP/b.out" 2>"$TMP/b.err"
rc=$?
if [ "$rc" -eq 4 ] && [ ! -s "$TMP/b.out" ] && [ "$(wc -l <"$TMP/b.err")" -eq 1 ] &&
    grep -q "cmd_seq 1 was applied but is not durable: not within 2000 ms (durable seq 0)" "$TMP/b.err"; then
    ok send_past_its_deadline_exits_4_naming_cmd_seq_and_durable_seq_and_prints_nothing
elif [ "$rc" -eq 0 ] && [ $((SECONDS - t0)) -ge 55 ]; then
    echo "     (send_past_its_deadline not checked: the first fsync, a minute after the start, came first)"
else
    fail send_past_its_deadline_exits_4_naming_cmd_seq_and_durable_seq_and_prints_nothing \
        "exit $rc: $(cat "$TMP/b.out" "$TMP/b.err")"
fi

"$CLI" -i "$INST" send -t 60000 echo value=2 >"$TMP/k.out" 2>"$TMP/k.err" &
waiter=$!
if sequenced 2; then
    kill -9 "$engine_pid"; wait "$engine_pid" 2>/dev/null; engine_pid=
    wait "$waiter"; rc=$?; waiter=
    [ "$rc" -eq 1 ] && [ ! -s "$TMP/k.out" ] &&
        grep -q "cmd_seq 2 was applied but is not durable: the engine stopped or died first" "$TMP/k.err" &&
        ok engine_killed_while_send_waits_is_reported_and_not_acknowledged ||
        fail engine_killed_while_send_waits_is_reported_and_not_acknowledged "exit $rc: $(cat "$TMP/k.out" "$TMP/k.err")"
else
    fail engine_killed_while_send_waits "the engine never sequenced the send"
fi

start_engine || fail interval_engine_restarts "$(tail -3 "$TMP/engine.log")"
"$CLI" -i "$INST" send -t 60000 echo value=3 >"$TMP/c.out" 2>"$TMP/c.err" &
waiter=$!
if sequenced 3; then
    kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=
    wait "$waiter"; rc=$?; waiter=
    [ "$rc" -eq 0 ] && grep -q '"cmd_seq":3,.*"value":3' "$TMP/c.out" &&
        ok engine_stopped_cleanly_while_send_waits_acknowledges_what_its_close_synced ||
        fail engine_stopped_cleanly_while_send_waits_acknowledges_what_its_close_synced \
            "exit $rc: $(cat "$TMP/c.out" "$TMP/c.err")"
else
    fail engine_stopped_cleanly_while_send_waits "the engine never sequenced the send"
fi

BOURSE_JOURNAL_ACKS=fast start_engine || fail fast_engine_starts "$(tail -3 "$TMP/engine.log")"
"$CLI" -i "$INST" send echo value=4 >"$TMP/f.out" 2>"$TMP/f.err"
rc=$?
[ "$rc" -eq 0 ] && grep -q '"value":4' "$TMP/f.out" && ok fast_acks_send_does_not_wait_for_the_disk \
    || fail fast_acks_send_does_not_wait_for_the_disk "exit $rc: $(cat "$TMP/f.out" "$TMP/f.err")"
kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=

echo "$failures failed"
[ "$failures" -eq 0 ]
