#!/usr/bin/env bash
# test_retention.sh BUILD_DIR - [journal] retain = snapshots against a real
# engine: with 1 MiB files and two snapshots kept, each snapshot deletes
# exactly the journal files whose records all lie at or before the oldest
# snapshot kept (nothing before the first snapshot, nothing a kept snapshot
# still needs, never the last file), one log line and `bourse status` say so,
# a clean restart and a kill -9 restart recover the same state from the
# pruned journal, `bourse replay` from seq 1 refuses the pruned journal and
# replays from a snapshot, and a snapshot ahead of the journal's end is
# recovered with a warning.
set -uo pipefail
BUILD=$1
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
LOADGEN=$BUILD/tests/test-loadgen
INST="tret$$"
TMP=$(mktemp -d)
DATA=$TMP/data
J=$DATA/$INST/journal
S=$DATA/$INST/snapshots
SEED=${BOURSE_SEED:-$(date +%s)}
echo "seed $SEED (set BOURSE_SEED to replay)"
failures=0
engine_pid=
gen_pid=

. "$(dirname "$0")/engine_lib.sh"

# interval_s = 0: snapshots only on request and at shutdown, so the test
# knows every snapshot's seq. fsync = never: the disk is not what is tested.
write_engine_ini <<EOF
[journal]
fsync = never
roll_mb = 1
acks = fast
retain = snapshots
[snapshot]
interval_s = 0
keep = 2
EOF

cleanup() {
    [ -n "$gen_pid" ] && kill -9 "$gen_pid" 2>/dev/null
    [ -n "$engine_pid" ] && kill -9 "$engine_pid" 2>/dev/null
    rm -rf "$TMP" "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock"
}
trap cleanup EXIT

stop_engine() {
    kill -INT "$engine_pid"
    wait "$engine_pid"
    engine_pid=
}


# The first seqs of the journal files, ascending.
jfiles() { ls "$J" | sed -n 's/^journal-0*\([0-9][0-9]*\)\.bj$/\1/p' | sort -n; }

# Applies the retention rule to first seqs on stdin for keep seq $1: a file
# stays when it is the last or the next one starts after $1 + 1.
rule() { awk -v k="$1" '{ f[NR] = $1 } END { for (i = 1; i <= NR; i++) if (i == NR || f[i + 1] - 1 > k) print f[i] }'; }

# Runs the load generator until the journal has at least $1 more files, a
# few thousand commands at a time (a 1 MiB file holds about 7,700), however
# long that takes.
load_once() {
    try=$((try + 1))
    "$LOADGEN" "$INST" "$((SEED + try * 7 + want))" "$TMP/acks" 60 4000 2>>"$TMP/loadgen.err" &
    gen_pid=$!
    wait "$gen_pid"
    gen_pid=
    [ "$(jfiles | wc -l)" -ge "$want" ]
}
load_files() {
    want=$(($(jfiles | wc -l) + $1)) try=0
    wait_until 600 load_once
}

# check_pruned NAME KEEP BEFORE: the files are now exactly the union of
# BEFORE (the listing before the snapshot) and any file created since, less
# those the rule lets go for KEEP. The engine prunes on its one thread right
# after it logs the snapshot written (which snapshot_now waited for): a round
# trip through it (bourse ping) comes back after the pass.
check_pruned() {
    local name=$1 keep=$2 before=$3 now want
    "$CLI" -i "$INST" ping -n 1 >/dev/null || fail "${name}_ping" "no answer"
    now=$(jfiles)
    want=$(printf '%s\n%s\n' "$before" "$now" | sort -nu | rule "$keep")
    if [ "$now" = "$want" ]; then
        ok "$name"
    else
        fail "$name" "keep seq $keep; before: $(echo $before); now: $(echo $now); expected: $(echo $want)"
    fi
}

# --- set up: reference data and funded accounts
start_engine || { echo "FAIL engine_starts: $(cat "$TMP/engine.log")"; exit 1; }
add_reference_data

# --- no snapshot yet: nothing goes, however many files
load_files 3 || fail journal_rolls "only $(jfiles | wc -l) file(s)"
before=$(jfiles)
[ "$(head -1 <<<"$before")" = 1 ] && [ "$(wc -l <<<"$before")" -ge 3 ] \
    && ok "without_a_snapshot_every_file_stays ($(wc -l <<<"$before") files)" \
    || fail without_a_snapshot_every_file_stays "$(echo $before)"

# --- snapshot A: the files wholly at or before A go, the last one stays
A=$(snapshot_now) || { echo "FAIL snapshot_A: $(tail -3 "$TMP/engine.log")"; exit 1; }
check_pruned "snapshot_A_at_${A}_deletes_the_files_wholly_before_it" "$A" "$before"
[ ! -e "$J/journal-00000000000000000001.bj" ] && ok first_file_is_gone || fail first_file_is_gone "$(echo $(jfiles))"
grep -q "journal retention: [0-9]* file(s) deleted, records up to seq [0-9]* (the oldest snapshot kept is at seq $A)" \
    "$TMP/engine.log" && ok pruning_pass_is_logged || fail pruning_pass_is_logged "$(grep retention "$TMP/engine.log")"
"$CLI" -i "$INST" status | grep -q "journal .* file(s) pruned" && ok status_shows_pruned_files \
    || fail status_shows_pruned_files "$("$CLI" -i "$INST" status | head -5)"

# --- snapshot B: A is still kept, so everything after A stays (pruning to
# the newest snapshot would take the files between A and B)
load_files 2 || fail journal_rolls_again "only $(jfiles | wc -l) file(s)"
before=$(jfiles)
B=$(snapshot_now) || { echo "FAIL snapshot_B: $(tail -3 "$TMP/engine.log")"; exit 1; }
check_pruned "snapshot_B_at_${B}_keeps_what_the_older_snapshot_A_needs" "$A" "$before"
between=$(awk -v a="$A" -v b="$B" '$1 > a + 1 && $1 <= b' <<<"$(jfiles)" | wc -l)
[ "$between" -ge 1 ] && ok "files_between_A_and_B_stay ($between)" \
    || fail files_between_A_and_B_stay "$(echo $(jfiles)), A $A, B $B"

# --- snapshot C: A is dropped, so the files wholly before B go
load_files 2 || fail journal_rolls_a_third_time "only $(jfiles | wc -l) file(s)"
before=$(jfiles)
C=$(snapshot_now) || { echo "FAIL snapshot_C: $(tail -3 "$TMP/engine.log")"; exit 1; }
check_pruned "snapshot_C_at_${C}_deletes_what_only_A_needed" "$B" "$before"
[ "$(ls "$S"/snapshot-*.bs | wc -l)" -eq 2 ] && ok two_snapshots_kept || fail two_snapshots_kept "$(ls "$S")"

# --- a clean restart (its shutdown snapshot prunes once more) reaches the same state
read -r q1 d1 <<<"$(engine_digest)"
stop_engine
start_engine || fail restart_after_pruning "$(tail -3 "$TMP/engine.log")"
read -r q2 d2 <<<"$(engine_digest)"
[ -n "$d1" ] && [ "$d1" = "$d2" ] && ok "clean_restart_recovers_the_same_digest ($d1)" \
    || fail clean_restart_recovers_the_same_digest "before $d1 at $q1, after $d2 at $q2"

# --- kill -9 after more load: recovery from the newest snapshot and the
# pruned journal's tail reaches the state the engine had
load_files 2 || fail journal_rolls_after_restart "only $(jfiles | wc -l) file(s)"
read -r q1 d1 <<<"$(engine_digest)"
# the writer has handed everything up to q1 to the kernel
durable_now() { "$CLI" -i "$INST" status | grep -q "durable    seq [0-9]* (0 behind)"; }
wait_until 60 durable_now || fail journal_catches_up_before_the_kill "$("$CLI" -i "$INST" status | grep durable)"
kill -9 "$engine_pid"
wait "$engine_pid" 2>/dev/null
engine_pid=
start_engine || fail restart_after_kill "$(tail -3 "$TMP/engine.log")"
read -r q2 d2 <<<"$(engine_digest)"
[ -n "$d1" ] && [ "$d1" = "$d2" ] && ok "kill_9_restart_recovers_the_same_digest ($d1)" \
    || fail kill_9_restart_recovers_the_same_digest \
        "before $d1 at $q1, after $d2 at $q2: $(grep recover "$TMP/engine.log" | tail -2)"
kill_seq=$q1 kill_digest=$d1 final=$d2
stop_engine

# --- replay: from seq 1 it refuses the pruned journal; from a snapshot it works
out=$("$CLI" replay "$DATA/$INST" 2>&1); rc=$?
first=$(jfiles | head -1)
if [ "$rc" -eq 1 ] && grep -q "starts at seq $first" <<<"$out" && grep -q "pruned" <<<"$out" \
    && grep -q -- "--snapshots" <<<"$out" && ! grep -q "^digest" <<<"$out"; then
    ok replay_from_seq_1_refuses_a_pruned_journal_and_says_why
else
    fail replay_from_seq_1_refuses_a_pruned_journal_and_says_why "rc $rc: $out"
fi
out=$("$CLI" replay "$DATA/$INST" --snapshots 2>&1); rc=$?
[ "$rc" -eq 0 ] && grep -q "^digest $final\$" <<<"$out" && ok replay_from_a_snapshot_gives_the_engine_digest \
    || fail replay_from_a_snapshot_gives_the_engine_digest "rc $rc, engine $final: $out"
# The older snapshot kept (the first restart's) and the pruned journal's tail
# after it rebuild the state the engine had before the kill.
out=$("$CLI" replay "$DATA/$INST" --snapshots --until "$kill_seq" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && grep -q "^digest $kill_digest\$" <<<"$out" \
    && grep -q "^replayed to seq $kill_seq: [1-9][0-9]* commands from the journal after snapshot" <<<"$out"; then
    ok replay_from_the_older_snapshot_kept_rebuilds_the_state_before_the_kill
else
    fail replay_from_the_older_snapshot_kept_rebuilds_the_state_before_the_kill "rc $rc, engine $kill_digest: $out"
fi

# --- a snapshot ahead of the journal's end (as a build from before snapshots
# waited for the journal could leave): recovered, with a warning
last=$(ls "$J"/journal-*.bj | tail -1)
newest=$(ls "$S"/snapshot-*.bs | tail -1 | sed 's/.*snapshot-0*\([0-9][0-9]*\)\.bs$/\1/')
[ "$(jfiles | wc -l)" -ge 2 ] || fail ahead_setup "only $(jfiles | wc -l) file(s)"
rm -f "$last"
if start_engine; then
    grep -q "\"level\":\"warn\".*recovery: snapshot $newest is ahead of the journal" "$TMP/engine.log" \
        && ok snapshot_ahead_of_the_journal_is_warned_about \
        || fail snapshot_ahead_of_the_journal_is_warned_about "$(grep recover "$TMP/engine.log" | tail -3)"
    read -r _ d <<<"$(engine_digest)"
    [ "$d" = "$final" ] && ok snapshot_ahead_still_recovers_its_state \
        || fail snapshot_ahead_still_recovers_its_state "engine $d, expected $final"
    stop_engine
else
    fail snapshot_ahead_still_recovers "$(tail -3 "$TMP/engine.log")"
fi

echo "$failures failed"
[ "$failures" -eq 0 ]
