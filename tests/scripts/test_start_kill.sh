#!/usr/bin/env bash
# test_start_kill.sh BUILD_DIR - kill -9 of bourse-engine at many moments of
# its start (recovery, the temporary segment just made, allocated, complete
# but not renamed in, the engine up) leaves nothing in /dev/shm once the next
# engine has started (it deletes what the killed ones left, and says so) or
# `bourse remove` has run; a temporary segment whose engine holds the instance
# lock is never deleted.
#
# Kill moments come from events where the test can see them: the engine's
# own temporary segment appearing, or (with strace) the system calls that
# make, allocate and rename it. Random short delays after spawn add spread
# only: every check is on what is left in /dev/shm, never on timing.
set -uo pipefail
BUILD=$1
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
INST="tsk$$"
TMP=$(mktemp -d)
DATA=$TMP/data
ROUNDS=${BOURSE_START_KILL_ROUNDS:-36}
SEED=${BOURSE_SEED:-$(date +%s)}
echo "seed $SEED (set BOURSE_SEED to replay)"
RANDOM=$((SEED % 32768))
failures=0
engine_pid=
SEG=/dev/shm/bourse.$INST

. "$(dirname "$0")/engine_lib.sh"

cleanup() {
    [ -n "$engine_pid" ] && kill -9 "$engine_pid" 2>/dev/null
    wait 2>/dev/null
    "$CLI" -i "$INST" remove 2>/dev/null
    rm -rf "$TMP" "$SEG" "$SEG.lock" "$SEG".new.*
}
trap cleanup EXIT

write_engine_ini <<EOF
[journal]
fsync = batch
EOF

# The temporary segments of this instance there now.
temps() { compgen -G "$SEG.new.*" | wc -l; }
# Every file of this instance there now, for messages.
files() { ls -d "$SEG" "$SEG.lock" "$SEG".new.* 2>/dev/null | tr '\n' ' '; }

# strace, when it may trace here, kills the engine at an exact system call.
use_strace=0
strace -qq -o /dev/null true 2>/dev/null && use_strace=1
[ "$use_strace" -eq 1 ] || echo "     (no usable strace: the system-call kill points are left out)"

# A journal to recover, so that start-up has a recovery to be killed in.
start_engine || { echo "FAIL engine_starts: $(cat "$TMP/engine.log")"; exit 1; }
add_reference_data
kill -INT "$engine_pid"; wait "$engine_pid"; engine_pid=

# kill_during_start MODE: one engine killed with kill -9 while it starts.
kill_during_start() {
    local pid
    case $1 in
    spread) # right after spawn, after a random short delay
        "$ENGINE" -c "$TMP/engine.ini" 2>>"$TMP/engine.log" &
        pid=$!
        sleep "$(printf '0.%03d' $((RANDOM % 60)))"
        kill -9 "$pid" 2>/dev/null
        ;;
    seen) # as soon as its temporary segment is there (or it ended, or 20 s)
        "$ENGINE" -c "$TMP/engine.ini" 2>>"$TMP/engine.log" &
        pid=$!
        local until=$((${EPOCHREALTIME/./} + 20000000))
        while kill -0 "$pid" 2>/dev/null && [ ! -e "$SEG.new.$pid" ] && [ "${EPOCHREALTIME/./}" -lt "$until" ]; do :; done
        kill -9 "$pid" 2>/dev/null && [ -e "$SEG.new.$pid" ] && seen_hits=$((seen_hits + 1))
        ;;
    fchmod | fallocate | rename) # at the system call: made, then allocated, then complete
        { strace -f -qq -o /dev/null -e trace="$1" -e inject="$1":signal=SIGKILL \
            "$ENGINE" -c "$TMP/engine.ini" 2>>"$TMP/engine.log"; } 2>/dev/null &
        pid=$!
        ;;
    esac
    wait "$pid" 2>/dev/null
}

modes=(spread seen)
[ "$use_strace" -eq 1 ] && modes+=(fchmod fallocate rename)
left_total=0
seen_hits=0
cleaned_by_start=0
cleaned_by_remove=0
round=0
batch=0
while [ "$round" -lt "$ROUNDS" ]; do
    # A batch of one to three killed starts, then one clean-up.
    n=$((RANDOM % 3 + 1))
    for _ in $(seq "$n"); do
        kill_during_start "${modes[$((round % ${#modes[@]}))]}"
        round=$((round + 1))
    done
    batch=$((batch + 1))
    left=$(temps)
    left_total=$((left_total + left))
    if [ $((batch % 2)) -eq 1 ]; then
        : >"$TMP/engine.log"
        if ! start_engine; then
            fail "batch_${batch}_next_start_succeeds" "$(tail -3 "$TMP/engine.log")"
            kill -9 "$engine_pid" 2>/dev/null; wait "$engine_pid" 2>/dev/null; engine_pid=
            continue
        fi
        [ "$(temps)" -eq 0 ] || fail "batch_${batch}_next_start_leaves_no_temporary_segment" "$(files)"
        if [ "$left" -gt 0 ]; then
            grep -q "deleted $left temporary segment(s)" "$TMP/engine.log" \
                || fail "batch_${batch}_next_start_says_what_it_deleted" "$left left: $(grep -i temporary "$TMP/engine.log")"
            cleaned_by_start=$((cleaned_by_start + left))
        fi
        # Stopped cleanly or killed: either leaves a segment the next start replaces.
        if [ $((batch % 4)) -eq 1 ]; then kill -INT "$engine_pid"; else kill -9 "$engine_pid"; fi
        wait "$engine_pid" 2>/dev/null
        engine_pid=
    else
        if ! out=$("$CLI" -i "$INST" remove 2>&1); then
            fail "batch_${batch}_remove_succeeds" "$out"
        fi
        [ -z "$(files)" ] || fail "batch_${batch}_remove_leaves_nothing_in_dev_shm" "$(files)"
        cleaned_by_remove=$((cleaned_by_remove + left))
    fi
done
# The last batch's clean-up was a start: remove what it left.
"$CLI" -i "$INST" remove && [ -z "$(files)" ] || fail final_remove_leaves_nothing "$(files)"
echo "     $round killed starts in $batch batches left $left_total temporary segment(s):" \
    "$cleaned_by_start deleted by the next start, $cleaned_by_remove by bourse remove" \
    "($seen_hits kills caught an engine's own temporary segment)"
if [ "$use_strace" -eq 1 ] && [ "$left_total" -eq 0 ]; then
    fail killed_starts_left_temporary_segments "the system-call kills must leave one each"
fi
[ "$failures" -eq 0 ] && ok "kill_9_during_${round}_starts_leaves_nothing_after_the_next_start_or_remove"

# --- a temporary segment whose creator holds the instance lock (a live engine
# starting) is not touched, by remove or by another engine.
# This shell takes the lock on its own open file (fd 9), as a starting
# engine holds it; the processes below open the file anew, so theirs conflict.
touch "$SEG.new.1"
exec 9>"$SEG.lock"
flock -x -n 9 || fail lock_taken "flock"
out=$("$CLI" -i "$INST" remove 2>&1 9>&-)
rc=$?
[ "$rc" -eq 1 ] && grep -q "held by a live engine" <<<"$out" && [ -e "$SEG.new.1" ] \
    && ok remove_keeps_the_temporary_segment_of_a_starting_engine \
    || fail remove_keeps_the_temporary_segment_of_a_starting_engine "exit $rc: $out; $(files)"
"$ENGINE" -c "$TMP/engine.ini" 2>"$TMP/second.log" 9>&-
rc=$?
[ "$rc" -ne 0 ] && grep -q "owned by a live engine" "$TMP/second.log" && [ -e "$SEG.new.1" ] \
    && ok second_engine_keeps_the_temporary_segment_of_a_starting_one \
    || fail second_engine_keeps_the_temporary_segment_of_a_starting_one "exit $rc: $(cat "$TMP/second.log"); $(files)"
exec 9>&-
"$CLI" -i "$INST" remove && [ -z "$(files)" ] && ok remove_after_the_lock_is_released_clears_it \
    || fail remove_after_the_lock_is_released_clears_it "$(files)"

echo "$failures failed"
[ "$failures" -eq 0 ]
