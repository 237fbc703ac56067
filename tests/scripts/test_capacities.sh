#!/usr/bin/env bash
# test_capacities.sh BUILD_DIR - what the matcher's capacities did is in the
# data directory: an engine with small [matcher] capacities is filled until
# it refuses orders for them, killed with kill -9, and `bourse replay` with
# no config reproduces the recovered digest (from seq 1 and from a snapshot);
# a config that shrinks a capacity is refused in one line naming the setting
# and both values; one that grows it sequences a resize, after which the
# same holds, and the history before the resize replays as it was.
set -uo pipefail
BUILD=$1
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
LOADGEN=$BUILD/tests/test-loadgen
INST="tcap$$"
TMP=$(mktemp -d)
DATA=$TMP/data
SEED=${BOURSE_SEED:-$(date +%s)}
echo "seed $SEED (set BOURSE_SEED to replay)"
failures=0
engine_pid=
gen_pid=

. "$(dirname "$0")/engine_lib.sh"

cleanup() {
    [ -n "$gen_pid" ] && kill -9 "$gen_pid" 2>/dev/null
    [ -n "$engine_pid" ] && kill -9 "$engine_pid" 2>/dev/null
    rm -rf "$TMP" "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock"
}
trap cleanup EXIT

# ini MAX_ORDERS: small pools the load generator fills (8 accounts trading
# one instrument), snapshots only on request, durable acks.
ini() {
    write_engine_ini "$1" <<EOF
max_gtd_orders = 16
max_levels = 64
max_orders_per_account = 48
[journal]
fsync = batch
roll_mb = 1
[snapshot]
interval_s = 0
EOF
}

durable_seq() { "$CLI" -i "$INST" status 2>/dev/null | sed -n 's/^durable *seq \([0-9]*\).*/\1/p'; }

# Refusals for capacity in the whole history so far, by reason.
capacity_refusals() {
    "$CLI" replay --json "$DATA/$INST" 2>/dev/null | grep -oE '"reason":"(orders-full|account-orders-full|book-full)"' \
        | sort | uniq -c | tr -s ' ' | tr '\n' ';'
}

# kill_under_load SEED: load until the journal is durable past 300 more
# commands, then kill -9 the engine under the load generator.
kill_under_load() {
    local from
    from=$(durable_seq)
    "$LOADGEN" "$INST" "$1" "$TMP/acks" 60 &
    gen_pid=$!
    for _ in $(seq 1200); do
        [ "$(durable_seq)" -gt $((from + 300)) ] 2>/dev/null && break
        sleep 0.05
    done
    kill -9 "$engine_pid"
    wait "$engine_pid" 2>/dev/null
    engine_pid=
    wait "$gen_pid"
    gen_pid=
}

# check_replay NAME: the recovered engine's digest is the replay's, from seq
# 1 and from the newest snapshot, with no config.
check_replay() {
    read -r qseq digest <<<"$(engine_digest)"
    local a b
    a=$("$CLI" replay "$DATA/$INST" --until "$qseq" 2>&1)
    b=$("$CLI" replay --snapshots "$DATA/$INST" --until "$qseq" 2>&1)
    if [ -n "$digest" ] && grep -q "^digest $digest\$" <<<"$a" && grep -q "^digest $digest\$" <<<"$b"; then
        ok "${1}_recovered_digest_equals_replay_without_config"
    else
        fail "${1}_recovered_digest_equals_replay_without_config" "engine $digest at $qseq; replay: $a; from a snapshot: $b"
    fi
}

# --- small capacities, filled
ini 256
start_engine || { echo "FAIL engine_starts: $(cat "$TMP/engine.log")"; exit 1; }
add_reference_data
"$LOADGEN" "$INST" "$SEED" "$TMP/acks" 120 4000 || fail load_runs "$(cat "$TMP/acks")"
send snapshot
refused=$(capacity_refusals)
grep -q "orders-full" <<<"$refused" && ok "small_pools_fill_and_refuse_orders ($refused)" \
    || fail small_pools_fill_and_refuse_orders "no capacity refusal in the history: '$refused'"
kill_under_load $((SEED + 1))
start_engine || fail restart_after_kill "$(tail -3 "$TMP/engine.log")"
check_replay small_capacities

# --- a config that shrinks a capacity: one line, both values, nothing started
kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=
before=$("$CLI" replay "$DATA/$INST" | sed -n 's/^digest //p')
ini 128
out=$("$ENGINE" -c "$TMP/engine.ini" 2>&1 >/dev/null)
rc=$?
err=$(grep -v '"level":"info"' <<<"$out")
if [ $rc -eq 1 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -qF "[matcher] max_orders: 256 -> 128" <<<"$err"; then
    ok shrinking_a_capacity_is_refused_naming_the_setting_and_both_values
else
    fail shrinking_a_capacity_is_refused_naming_the_setting_and_both_values "exit $rc: $out"
fi
[ "$("$CLI" replay "$DATA/$INST" | sed -n 's/^digest //p')" = "$before" ] && ok a_refused_config_changes_no_history \
    || fail a_refused_config_changes_no_history "digest changed"

# --- a config that grows it: a resize at the next seq, replayed there too
ini 1024
start_engine || fail grown_config_starts "$(tail -3 "$TMP/engine.log")"
resize_seq=$(sed -n 's/.*max_orders: 256 -> 1024 from seq \([0-9]*\).*/\1/p' "$TMP/engine.log" | tail -1)
[ -n "$resize_seq" ] && ok "growing_a_capacity_sequences_a_resize (seq $resize_seq)" \
    || fail growing_a_capacity_sequences_a_resize "$(tail -3 "$TMP/engine.log")"
"$LOADGEN" "$INST" $((SEED + 2)) "$TMP/acks" 120 3000 || fail load_after_resize "$(cat "$TMP/acks")"
resting=$("$CLI" -i "$INST" send query-digest | sed -n 's/.*"resting":\([0-9]*\).*/\1/p')
[ "${resting:-0}" -gt 256 ] && ok "the_grown_pool_holds_more_than_the_old_one ($resting resting)" \
    || fail the_grown_pool_holds_more_than_the_old_one "$resting resting"
kill_under_load $((SEED + 3))
start_engine || fail restart_after_resize "$(tail -3 "$TMP/engine.log")"
check_replay grown_capacities
n=$(grep -c "from seq [0-9]* (a resize" "$TMP/engine.log")
[ "$n" -eq 1 ] && ok a_recovered_resize_is_not_sequenced_again || fail a_recovered_resize_is_not_sequenced_again "$n resize lines"
old=$("$CLI" replay "$DATA/$INST" --until $((resize_seq - 1)) | sed -n 's/^digest //p')
[ "$old" = "$before" ] && ok the_history_before_the_resize_replays_as_it_was \
    || fail the_history_before_the_resize_replays_as_it_was "digest at $((resize_seq - 1)): $old, before: $before"

# The old config is now a shrink of the history's capacity.
kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=
ini 256
out=$("$ENGINE" -c "$TMP/engine.ini" 2>&1 >/dev/null)
grep -qF "[matcher] max_orders: 1024 -> 256" <<<"$out" && ok the_old_config_is_refused_after_a_resize \
    || fail the_old_config_is_refused_after_a_resize "$out"

[ $failures -eq 0 ] && echo "all capacity checks passed" || echo "$failures failed"
exit $((failures > 0))
