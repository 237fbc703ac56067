#!/usr/bin/env bash
# test_fixture.sh BUILD_DIR SOURCE_DIR - the data directory is a file format:
# a journal and snapshots written by this version (tests/fixtures, made by
# make_journal_fixture.sh) replay to the digest, counts and event records
# recorded beside them, with no config; files of another journal, snapshot
# or protocol version are refused by name, by `bourse replay` and by the
# engine, and nothing is moved or changed.
set -uo pipefail
BUILD=$1
SRC=$2
ENGINE=$BUILD/engine/bourse-engine
CLI=$BUILD/engine/bourse
FIX=$SRC/tests/fixtures/journal-p1-j2-s2
INST="tfxt$$"
TMP=$(mktemp -d)
DATA=$TMP/data
failures=0
engine_pid=

. "$(dirname "$0")/engine_lib.sh"

cleanup() {
    [ -n "$engine_pid" ] && kill -9 "$engine_pid" 2>/dev/null
    rm -rf "$TMP" "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock"
}
trap cleanup EXIT

expect() { sed -n "s/^$1 //p" "$FIX/expected"; }

# --- the fixture replays as recorded, from the files alone
out=$("$CLI" replay "$FIX" 2>&1)
rc=$?
want=$(grep -E '^(replayed|state|digest)' "$FIX/expected")
got=$(grep -E '^(replayed|state|digest)' <<<"$out")
[ $rc -eq 0 ] && [ "$got" = "$want" ] && ok "fixture_replays_to_the_recorded_digest_and_counts" \
    || fail fixture_replays_to_the_recorded_digest_and_counts "exit $rc; got: $got; want: $want"
grep -q '^journal: ok' <<<"$out" && ok fixture_journal_scans_clean || fail fixture_journal_scans_clean "$out"

"$CLI" replay "$FIX" --raw "$TMP/raw.bin" >/dev/null 2>&1
sha=$(sha256sum <"$TMP/raw.bin" | cut -d' ' -f1)
[ "$sha" = "$(expect raw-sha256)" ] && ok fixture_events_are_the_recorded_records_byte_for_byte \
    || fail fixture_events_are_the_recorded_records_byte_for_byte "sha256 $sha, recorded $(expect raw-sha256)"

out=$("$CLI" replay --snapshots "$FIX" --until 1000000 2>&1)
[ "$(sed -n 's/^digest //p' <<<"$out")" = "$(expect snapshot-digest)" ] && ok fixture_snapshot_loads_to_the_recorded_digest \
    || fail fixture_snapshot_loads_to_the_recorded_digest "$out"

# The history holds a resize (the fixture's second run grew max_orders): it
# is an engine-made command, and the replay applies it at its seq.
"$CLI" replay --json "$FIX" 2>/dev/null | grep '"type":"admin"' | grep -q '"src":65535' \
    && ok fixture_holds_an_engine_made_resize || fail fixture_holds_an_engine_made_resize "no admin event from src 65535"

# --- files of another version: refused by name, never misread or repaired
# rewrite FILE OFFSET HEX...: patches bytes, then the header CRC again.
crc_fix() {
    python3 - "$@" <<'PY'
import struct, sys
path, kind = sys.argv[1], sys.argv[2]
patches = [(int(o), bytes.fromhex(h)) for o, h in (a.split(':') for a in sys.argv[3:])]
def crc32c(data, crc=0):
    crc ^= 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
b = bytearray(open(path, 'rb').read())
for off, data in patches:
    b[off:off + len(data)] = data
if kind == 'journal':   # CRC of bytes 0..95 at 96
    struct.pack_into('<I', b, 96, crc32c(bytes(b[:96])))
elif kind == 'snapshot':  # CRC of bytes 0..115 at 116
    struct.pack_into('<I', b, 116, crc32c(bytes(b[:116])))
elif kind == 'v1-journal':  # the 64-byte header of format 1: CRC of 0..31 at 32, then the records
    h = bytearray(b[:64]); h[8:16] = struct.pack('<II', 1, 64); h[32:64] = bytes(32)
    struct.pack_into('<I', h, 32, crc32c(bytes(h[:32])))
    b = h + b[128:]
open(path, 'wb').write(b)
PY
}

# copy_fixture NAME: a data directory <TMP>/NAME/<instance> holding the fixture.
copy_fixture() {
    mkdir -p "$TMP/$1/$INST"
    cp -r "$FIX/journal" "$FIX/snapshots" "$TMP/$1/$INST/"
    D=$TMP/$1/$INST
}
tree_sum() { (cd "$1" && find . -type f ! -name lock -print0 | sort -z | xargs -0 sha256sum); }

# check_refused NAME NEEDLE [replay args...]: replay exits 1 naming it; the
# engine on the same directory refuses to start with the same reason in one
# line, and the directory is as it was (nothing quarantined or cut).
check_refused() {
    local name=$1 needle=$2
    shift 2
    local before after out rc
    before=$(tree_sum "$D")
    out=$("$CLI" replay "$@" "$D" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$needle" <<<"$out"; then ok "${name}_is_refused_by_replay"
    else fail "${name}_is_refused_by_replay" "exit $rc: $out"; fi
    cat >"$TMP/engine.ini" <<EOF
[engine]
instance = $INST
data_dir = $(dirname "$D")
idle = backoff
EOF
    out=$("$ENGINE" -c "$TMP/engine.ini" 2>&1 >/dev/null)
    rc=$?
    local last
    last=$(grep -v '"level":"info"' <<<"$out")
    if [ $rc -ne 0 ] && [ "$(wc -l <<<"$last")" -eq 1 ] && grep -qF -- "$needle" <<<"$last"; then
        ok "${name}_stops_the_engine_with_one_line"
    else
        fail "${name}_stops_the_engine_with_one_line" "exit $rc: $out"
    fi
    after=$(tree_sum "$D")
    [ "$before" = "$after" ] && [ -z "$(find "$D" -name 'quarantine-*')" ] && ok "${name}_is_left_as_it_was" \
        || fail "${name}_is_left_as_it_was" "$(diff <(echo "$before") <(echo "$after") | head -5)"
    rm -f "/dev/shm/bourse.$INST" "/dev/shm/bourse.$INST.lock"
}

copy_fixture v1
crc_fix "$D/journal/journal-00000000000000000001.bj" v1-journal
rm -f "$D"/snapshots/*
check_refused journal_format_1 "written in journal format 1; this build reads format 2"

copy_fixture j3
crc_fix "$D/journal/journal-00000000000000000064.bj" journal 8:03000000
rm -f "$D"/snapshots/*
check_refused journal_format_3_in_a_later_file "journal-00000000000000000064.bj: other journal format at byte 0: written in journal format 3"

copy_fixture p2
crc_fix "$D/journal/journal-00000000000000000001.bj" journal 32:02000000
rm -f "$D"/snapshots/*
check_refused protocol_version_2_records "holds records of protocol version 2; this build reads version 1"

copy_fixture s1
for f in "$D"/snapshots/*; do crc_fix "$f" snapshot 8:01000000; done
check_refused snapshot_format_1 "is of snapshot format 1; this build reads format 2" --snapshots

copy_fixture sp2
for f in "$D"/snapshots/*; do crc_fix "$f" snapshot 52:02000000; done
check_refused snapshot_of_protocol_2 "holds records of protocol version 2" --snapshots

# A journal file whose capacities disagree with the state it continues (a
# second file claiming another max_orders than the resize left) is not the
# same history: refused, not replayed under a guess.
copy_fixture mix
crc_fix "$D/journal/journal-00000000000000000064.bj" journal 36:00010000
rm -f "$D"/snapshots/*
check_refused capacities_that_no_command_changed "says [matcher] max_orders: 8 -> 256"

[ $failures -eq 0 ] && echo "all fixture checks passed" || echo "$failures failed"
exit $((failures > 0))
