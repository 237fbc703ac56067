#!/usr/bin/env bash
# test_durability.sh BUILD_DIR - the journal and recovery against real
# processes: kill -9 of the engine at random moments under load, then restart
# and check that every command whose durable ack was released survived, that
# the recovered state's digest equals an offline replay of the same journal,
# and that the balance invariants hold (rounds that first write a snapshot
# recover from it). Then the timer writes a snapshot by itself, a replay
# reproduces the live event stream byte for byte, and damaged journals and
# snapshots are handled.
set -uo pipefail
BUILD=$1
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
LOADGEN=$BUILD/tests/test-loadgen
INST="tdur$$"
TMP=$(mktemp -d)
DATA=$TMP/data
ROUNDS=${BOURSE_KILL_ROUNDS:-20}
SEED=${BOURSE_SEED:-$(date +%s)}
echo "seed $SEED (set BOURSE_SEED to replay)"
RANDOM=$((SEED % 32768))
failures=0
engine_pid=
gen=
watcher=

. "$(dirname "$0")/engine_lib.sh"

write_engine_ini <<EOF
[journal]
fsync = batch
roll_mb = 1
acks = durable
[snapshot]
interval_s = 1
keep = 2
EOF

cleanup() {
    [ -n "$engine_pid" ] && kill -9 "$engine_pid" 2>/dev/null
    [ -n "$gen" ] && kill -9 "$gen" 2>/dev/null
    [ -n "$watcher" ] && kill -9 "$watcher" 2>/dev/null
    rm -rf "$TMP" "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock"
}
trap cleanup EXIT

# --- set up: reference data and funded accounts
start_engine || { echo "FAIL engine_starts: $(cat "$TMP/engine.log")"; exit 1; }
add_reference_data

# --- kill -9 at random moments under load, ROUNDS times. When each kill
# lands is random (a spread after the load has started); every check holds
# wherever it lands. Every third round first has a snapshot written (bourse
# snapshot, waited for), so that recovery from a snapshot plus the journal
# after it is checked however many timer snapshots the rounds leave.
lost=0
snap_bad=0
for round in $(seq "$ROUNDS"); do
    rm -f "$TMP/acks"
    "$LOADGEN" "$INST" "$((SEED + round))" "$TMP/acks" 60 2>"$TMP/loadgen.err" &
    gen=$!
    wait_until 60 grep -q "attached" "$TMP/loadgen.err" ||
        fail "round_${round}_load_starts" "$(cat "$TMP/loadgen.err")"
    snap=0
    if [ $((round % 3)) -eq 0 ]; then
        snap=$(snapshot_now) || {
            snap_bad=1
            fail "round_${round}_snapshot_is_written" "$(grep -i snapshot "$TMP/engine.log" | tail -3)"
            snap=0
        }
    fi
    sleep "0.$((RANDOM % 7 + 2))$((RANDOM % 10))"
    kill -9 "$engine_pid"
    wait "$engine_pid" 2>/dev/null
    wait "$gen"
    gen=
    # No acks file: the load generator acknowledged nothing.
    acked=0 sent=0 answered=0
    [ -s "$TMP/acks" ] && read -r _ acked _ sent _ answered <"$TMP/acks"
    if ! start_engine; then
        fail "round_${round}_restart" "$(tail -3 "$TMP/engine.log")"
        break
    fi
    read -r qseq digest <<<"$(engine_digest)"
    recovered=$((${qseq:-1} - 1))
    if [ -z "$qseq" ] || [ "$recovered" -lt "$acked" ]; then
        lost=1
        fail "round_${round}_acked_commands_survive" "acked up to $acked, recovered to $recovered"
    fi
    # The newest snapshot that loads is the round's own or a later timer one.
    line=$(grep "recovered to seq" "$TMP/engine.log" | tail -1)
    from_snap=$(sed -n 's/.*: snapshot \([0-9]*\),.*/\1/p' <<<"$line")
    if [ "$snap" -gt 0 ] && [ "${from_snap:-0}" -lt "$snap" ]; then
        snap_bad=1
        fail "round_${round}_recovers_from_its_snapshot" "snapshot at seq $snap written, then: $line"
    fi
    replay=$("$CLI" replay "$DATA/$INST" --until "$qseq" 2>&1)
    if ! grep -q "^digest $digest\$" <<<"$replay"; then
        fail "round_${round}_recovered_digest_equals_replay" "engine $digest at $qseq, replay: $replay"
    fi
    grep -q "^invariants: ok" <<<"$replay" || fail "round_${round}_invariants" "$replay"
    note=
    [ "$snap" -gt 0 ] && note=" (one written at $snap)"
    echo "     round $round: $sent sent, $answered answered, acked to seq $acked, recovered to $recovered" \
        "from snapshot ${from_snap:-0}$note"
done
[ "$lost" -eq 0 ] && ok "kill_9_${ROUNDS}_times_loses_no_acked_command_and_recovers_the_replayed_state"
[ "$snap_bad" -eq 0 ] && [ "$ROUNDS" -ge 3 ] && ok rounds_with_a_snapshot_recover_from_it
grep -q "recovered to seq" "$TMP/engine.log" && ok recovery_is_logged || fail recovery_is_logged "$(tail -3 "$TMP/engine.log")"

# --- timer snapshots: with interval_s = 1 the engine writes one by itself
# within a second of a new command (the query below is one). Waited for here,
# where no kill discards it: between kills a slow snapshot never completes.
from=$(wc -l <"$TMP/engine.log")
read -r qseq _ <<<"$(engine_digest)"
if [ -n "$qseq" ] && wait_until 60 snapshot_since "$from" "$qseq" >/dev/null; then
    ok "timer_snapshots_are_published (at seq $(snapshot_since "$from" "$qseq"))"
else
    fail timer_snapshots_are_published "none at seq $qseq or later: $(grep -i snapshot "$TMP/engine.log" | tail -3)"
fi

# --- a replay reproduces the live event stream byte for byte
J=$DATA/$INST/journal
S=$DATA/$INST/snapshots
kill -INT "$engine_pid"; wait "$engine_pid"
rm -rf "$DATA/$INST"
# An event log that holds every event of this phase (some 100,000): the
# watcher below cannot be lapped, however seldom it is scheduled.
export BOURSE_ENGINE_EVENT_LOG_CAPACITY=$((1 << 20))
start_engine || fail second_life_starts "$(tail -3 "$TMP/engine.log")"
unset BOURSE_ENGINE_EVENT_LOG_CAPACITY
"$CLI" -i "$INST" watch --raw "$TMP/live.bin" 2>"$TMP/watch.err" &
watcher=$!
wait_until 60 grep -q "attached" "$TMP/watch.err" || fail watcher_attaches "$(cat "$TMP/watch.err")"
send add-asset asset=1 name=BTC decimals=8
send add-asset asset=2 name=USD decimals=2
send add-instrument instrument=1 symbol=BTC-USD base=1 quote=2 tick_size=100 lot_size=1000000 \
    min_qty=1000000 max_qty=10000000000 ref_price=100000 band_bps=5000
for a in 1 2 3 4 5 6 7 8; do
    send add-account account=$a
    send deposit account=$a asset=1 amount=100000000000
    send deposit account=$a asset=2 amount=100000000000
done
# Load until the journal has three files (the damage cases below need a
# middle one), a few thousand commands at a time, however slow the machine.
three_files() { [ "$(ls "$J"/journal-*.bj 2>/dev/null | wc -l)" -ge 3 ]; }
load_once() {
    try=$((try + 1))
    "$LOADGEN" "$INST" "$((SEED + try))" "$TMP/acks" 60 4000 2>>"$TMP/loadgen.err" &
    gen=$!
    wait "$gen"
    gen=
    three_files
}
try=0
wait_until 600 load_once || fail journal_rolls_into_three_files "$(ls "$J")"
# A clean stop; the watcher reads the log to its end, then sees the engine
# stopped and exits: its file then holds every event.
kill -INT "$engine_pid"; wait "$engine_pid"
engine_pid=
if ! wait_until 120 gone "$watcher"; then
    fail watcher_reads_to_the_end "$(cat "$TMP/watch.err")"
    kill -INT "$watcher"
fi
wait "$watcher" 2>/dev/null
watcher=
grep -q "lapped" "$TMP/watch.err" && fail watcher_is_not_lapped "$(cat "$TMP/watch.err")"
"$CLI" replay "$DATA/$INST" --raw "$TMP/replay.bin" >"$TMP/replay.out" 2>&1
if [ -s "$TMP/live.bin" ] && cmp -s "$TMP/live.bin" "$TMP/replay.bin"; then
    ok "replay_reproduces_the_live_event_stream_byte_for_byte ($(($(stat -c %s "$TMP/live.bin") / 128)) events)"
else
    fail replay_reproduces_the_live_event_stream_byte_for_byte \
        "live $(stat -c %s "$TMP/live.bin") bytes, replay $(stat -c %s "$TMP/replay.bin") bytes; $(cmp "$TMP/live.bin" "$TMP/replay.bin" 2>&1 | head -1)"
fi
"$CLI" replay "$DATA/$INST" --raw "$TMP/replay2.bin" >/dev/null 2>&1
cmp -s "$TMP/replay.bin" "$TMP/replay2.bin" && ok same_journal_replayed_twice_gives_identical_events \
    || fail same_journal_replayed_twice_gives_identical_events "differ"

# --- damage, each on a copy of the journal: detected, reported, handled
good_digest=$("$CLI" replay "$DATA/$INST" | sed -n 's/^digest //p')
files=$(ls "$J"/journal-*.bj | wc -l)
[ "$files" -ge 3 ] && ok "journal_rolled_into_${files}_files" || fail journal_rolled "only $files file(s)"

save() { rm -rf "$TMP/saved"; cp -a "$DATA/$INST" "$TMP/saved"; }
restore() { rm -rf "$DATA/$INST"; cp -a "$TMP/saved" "$DATA/$INST"; }
save

# A flipped byte in the middle of the journal: replay stops before it.
mid=$(ls "$J"/journal-*.bj | head -1)
printf '\xff' | dd of="$mid" bs=1 seek=5000 conv=notrunc status=none
out=$("$CLI" replay "$DATA/$INST" 2>&1); rc=$?
if [ "$rc" -eq 4 ] && grep -q "corrupt" <<<"$out" && grep -q "$(basename "$mid")" <<<"$out"; then
    ok flipped_byte_is_detected_with_file_and_offset
else
    fail flipped_byte_is_detected_with_file_and_offset "rc $rc: $out"
fi
rm -f "$S"/*.bs # no snapshot to jump over the damage
if start_engine; then
    grep -q "records after it not applied" "$TMP/engine.log" && ok engine_starts_after_a_corrupt_record_and_quarantines_the_rest \
        || fail engine_starts_after_a_corrupt_record_and_quarantines_the_rest "$(tail -2 "$TMP/engine.log")"
    ls -d "$J"/quarantine-* >/dev/null 2>&1 && ok corrupt_files_are_kept_aside || fail corrupt_files_are_kept_aside "no quarantine dir"
    read -r qseq _ <<<"$(engine_digest)"
    [ -n "$qseq" ] && ok engine_with_a_cut_journal_takes_commands || fail engine_with_a_cut_journal_takes_commands "no answer"
    kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=
else
    fail engine_starts_after_a_corrupt_record "$(tail -2 "$TMP/engine.log")"
fi
restore

# A truncated last record: a torn tail, cut at start; nothing before it lost.
last=$(ls "$J"/journal-*.bj | tail -1)
truncate -s -7 "$last"
out=$("$CLI" replay "$DATA/$INST" 2>&1)
grep -q "torn" <<<"$out" && ok truncated_last_record_is_a_torn_tail || fail truncated_last_record_is_a_torn_tail "$out"
rm -f "$S"/*.bs
if start_engine; then
    grep -q "torn tail cut" "$TMP/engine.log" && ok torn_tail_is_cut_at_start || fail torn_tail_is_cut_at_start "$(tail -2 "$TMP/engine.log")"
    kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=
    "$CLI" replay "$DATA/$INST" | grep -q "^journal: ok" && ok journal_is_clean_after_the_cut || fail journal_is_clean_after_the_cut "not clean"
else
    fail torn_tail_is_cut_at_start "$(tail -2 "$TMP/engine.log")"
fi
restore

# A missing file in the middle.
second=$(ls "$J"/journal-*.bj | sed -n 2p)
rm -f "$second"
out=$("$CLI" replay "$DATA/$INST" 2>&1); rc=$?
[ "$rc" -eq 4 ] && grep -q "missing" <<<"$out" && ok missing_middle_file_is_detected || fail missing_middle_file_is_detected "rc $rc: $out"
restore

# A snapshot with a bad checksum: the engine falls back to the one before (or
# to the journal) and reaches the same state.
newest=$(ls "$S"/snapshot-*.bs | tail -1)
size=$(stat -c %s "$newest")
# Every bit of the byte flips: writing a fixed value left it intact when it
# was that value already.
byte=$(od -An -tu1 -j $((size / 2)) -N1 "$newest" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 0xff)))" | dd of="$newest" bs=1 seek=$((size / 2)) conv=notrunc status=none
if start_engine; then
    grep -q "recovery: snapshot .*snapshot-" "$TMP/engine.log" && ok bad_snapshot_is_reported \
        || fail bad_snapshot_is_reported "$(tail -3 "$TMP/engine.log")"
    read -r qseq digest <<<"$(engine_digest)"
    [ "$digest" = "$good_digest" ] && ok bad_snapshot_falls_back_to_the_same_state \
        || fail bad_snapshot_falls_back_to_the_same_state "engine $digest, journal $good_digest"
    kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=
else
    fail bad_snapshot_falls_back "$(tail -3 "$TMP/engine.log")"
fi

# --- replay's own bad input
"$CLI" replay "$TMP/nowhere" >/dev/null 2>&1; [ $? -eq 1 ] && ok replay_of_a_missing_dir_fails || fail replay_of_a_missing_dir_fails "rc"
"$CLI" replay "$DATA/$INST" --until x >/dev/null 2>&1; [ $? -eq 2 ] && ok replay_bad_until_is_usage || fail replay_bad_until_is_usage "rc"

echo "$failures failed"
[ "$failures" -eq 0 ]
