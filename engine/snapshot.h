/* snapshot.h - snapshot files: the matcher's whole state after command seq,
 * in <dir>/snapshot-<seq, 20 digits>.bs.
 *
 * A file is a snapshot_header_t then the matcher_save() stream. It is written
 * under a temporary name, fsynced and renamed in, so a file with the final
 * name is complete unless the disk lies; the header's checksums catch the
 * disk lying. Used by the engine (recovery, periodic and requested snapshots,
 * shutdown) and by `bourse replay`. */
#ifndef BOURSE_SNAPSHOT_H
#define BOURSE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "matcher.h"
#include "params.h"

#define SNAPSHOT_MAGIC "BRSSNAP"  /* 8 bytes with its NUL */

/* Version 1 had a 64-byte header without params: refused. */
enum { SNAPSHOT_VERSION = 2, SNAPSHOT_HEADER_SIZE = 128, SNAPSHOT_LIST_MAX = 1024 };

/* magic and version sit where every version has them, so that a file of
 * another version is told apart from a damaged one. params: the protocol
 * version and the capacities the state was made under (params.h), which the
 * loader builds its matcher from. */
typedef struct snapshot_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint64_t seq;               /* the last command the state includes */
    uint64_t created_unix_ns;
    uint64_t body_bytes;        /* the matcher stream after the header */
    uint64_t digest;            /* matcher_digest() of the state */
    uint32_t body_crc;          /* CRC-32C of the body */
    params_t params;
    uint32_t header_crc;        /* CRC-32C of bytes 0..115 */
    uint8_t pad[8];
} snapshot_header_t;

_Static_assert(sizeof(snapshot_header_t) == SNAPSHOT_HEADER_SIZE, "snapshot header is 128 bytes");
_Static_assert(offsetof(snapshot_header_t, version) == 8, "snapshot header layout");
_Static_assert(offsetof(snapshot_header_t, header_size) == 12, "snapshot header layout");
_Static_assert(offsetof(snapshot_header_t, seq) == 16, "snapshot header layout");
_Static_assert(offsetof(snapshot_header_t, created_unix_ns) == 24, "snapshot header layout");
_Static_assert(offsetof(snapshot_header_t, body_bytes) == 32, "snapshot header layout");
_Static_assert(offsetof(snapshot_header_t, digest) == 40, "snapshot header layout");
_Static_assert(offsetof(snapshot_header_t, body_crc) == 48, "snapshot header layout");
_Static_assert(offsetof(snapshot_header_t, params) == 52, "snapshot header layout");
_Static_assert(offsetof(snapshot_header_t, header_crc) == 116, "snapshot header layout");

/* Writes m as the snapshot of seq into dir (created if missing). Blocking;
 * safe in a forked child (no locks, no allocation besides its own buffer).
 * gate_fd < 0: the file is published (renamed into place) at once. Else it
 * is written and synced under a temporary name, and published only when a
 * byte arrives on gate_fd: the engine sends it once its journal holds every
 * command up to seq, so that no snapshot ever runs ahead of the journal (a
 * crash would otherwise leave a hole in the journal behind it). End of file
 * on gate_fd (the engine died or stopped first) discards it: -ECANCELED.
 * Returns 0 or a negative errno with a message. */
int snapshot_write(const char *dir, const matcher_t *m, uint64_t seq, int gate_fd, err_t *err);

/* The seqs of the snapshot files in dir, newest first; returns the count
 * (0 when dir is missing). */
int snapshot_list(const char *dir, uint64_t *seqs, int max);

/* Loads the snapshot of seq into a new matcher (*out, with sink and ctx)
 * built with the capacities its header records. Checks the header, the
 * body's checksum and the digest: a damaged file is -EBADMSG, one of another
 * snapshot or protocol version -EPROTONOSUPPORT (not damage: never read as
 * this version), each with a message naming it; *out is then NULL. */
int snapshot_load(const char *dir, uint64_t seq, matcher_t **out, matcher_sink_fn sink, void *ctx, err_t *err);

/* The seq of the oldest snapshot file in dir, whether it loads or not; 0
 * when there is none (or dir is missing). */
uint64_t snapshot_oldest(const char *dir);

/* Deletes all but the keep newest snapshots. Returns how many it deleted. */
int snapshot_prune(const char *dir, int keep);

#endif
