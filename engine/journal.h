/* journal.h - the command journal: every sequenced command, in order, on disk.
 *
 * Writer: the matcher thread copies each command into an in-memory SPSC byte
 * buffer (journal_append, no syscall); one background thread takes everything
 * that arrived since its last write as one batch (group commit), writes it
 * with io_uring, fdatasyncs it as the policy says, and publishes written_seq
 * and durable_seq. Reader: journal_scan walks the files for recovery and
 * `bourse replay`, checking every byte, and reports the first problem.
 *
 * On disk, a directory of files journal-<first seq, 20 digits>.bj; each is a
 * journal_file_header_t then records, little-endian:
 *
 *   offset  size  field
 *   0       4     len      payload bytes, 0..JOURNAL_PAYLOAD_MAX
 *   4       4     crc      CRC-32C of bytes 0..3 then 8..end of the frame
 *                          (len, seq, payload and padding: every byte but itself)
 *   8       8     seq      command sequence; one more than the record before;
 *                          1 .. UINT64_MAX-1
 *   16      len   payload
 *   16+len  0..7  zeros    pads the frame to a multiple of 8 bytes
 *
 * A file holds the contiguous seqs first_seq, first_seq+1, ...; the next file
 * starts at the seq after the last record of the one before. A batch never
 * spans files and a record is never split. */
#ifndef BOURSE_JOURNAL_H
#define BOURSE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "idle.h"

enum {
    JOURNAL_VERSION = 2,          /* 1: 64-byte headers without params (refused) */
    JOURNAL_HEADER_SIZE = 128,
    JOURNAL_PARAMS_SIZE = 64,
    JOURNAL_REC_HEADER_SIZE = 16,
    JOURNAL_PAYLOAD_MAX = 256,    /* engine commands are 128-byte records */
    JOURNAL_FRAME_MAX = JOURNAL_REC_HEADER_SIZE + JOURNAL_PAYLOAD_MAX,
    JOURNAL_DIR_MAX = 256,        /* bytes of a directory path, with its NUL */
    JOURNAL_NAME_MAX = 32,        /* "journal-" + 20 digits + ".bj" + NUL */
    JOURNAL_BUFFER_MIN = 4096,
    JOURNAL_BUFFER_MAX = 1 << 30,
    JOURNAL_ROLL_MIN = 4096,      /* any record fits in a fresh file */
};

#define JOURNAL_MAGIC "BRSJRNL"   /* 8 bytes with its NUL */

/* The first JOURNAL_HEADER_SIZE bytes of every file. params is the writer's
 * description of its records, opaque to the journal: the engine puts there
 * the protocol version and the settings that decide what a command does
 * (params.h), as they are at the file's first record, so that a reader needs
 * nothing but the directory. magic and version stay where version 1 had them:
 * a file of another version is recognised as such, never as damage. */
typedef struct journal_file_header {
    char magic[8];               /* JOURNAL_MAGIC */
    uint32_t version;            /* JOURNAL_VERSION */
    uint32_t header_size;        /* JOURNAL_HEADER_SIZE */
    uint64_t first_seq;          /* seq of the file's first record; also in its name */
    uint64_t created_unix_ns;
    uint8_t params[JOURNAL_PARAMS_SIZE];
    uint32_t crc;                /* CRC-32C of bytes 0..95 */
    uint8_t pad[28];             /* zeros */
} journal_file_header_t;

_Static_assert(sizeof(journal_file_header_t) == JOURNAL_HEADER_SIZE, "file header is 128 bytes");
_Static_assert(offsetof(journal_file_header_t, version) == 8, "file header layout");
_Static_assert(offsetof(journal_file_header_t, header_size) == 12, "file header layout");
_Static_assert(offsetof(journal_file_header_t, first_seq) == 16, "file header layout");
_Static_assert(offsetof(journal_file_header_t, created_unix_ns) == 24, "file header layout");
_Static_assert(offsetof(journal_file_header_t, params) == 32, "file header layout");
_Static_assert(offsetof(journal_file_header_t, crc) == 96, "file header layout");

/* The first JOURNAL_REC_HEADER_SIZE bytes of every record (table above). */
typedef struct journal_rec_header {
    uint32_t len;
    uint32_t crc;
    uint64_t seq;
} journal_rec_header_t;

_Static_assert(sizeof(journal_rec_header_t) == JOURNAL_REC_HEADER_SIZE, "record header is 16 bytes");
_Static_assert(offsetof(journal_rec_header_t, crc) == 4, "record header layout");
_Static_assert(offsetof(journal_rec_header_t, seq) == 8, "record header layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the journal is little-endian on disk");

/* Bytes a record of len payload bytes takes in a file (and in the buffer). */
static inline uint32_t journal_frame_size(uint32_t len)
{
    return JOURNAL_REC_HEADER_SIZE + ((len + 7u) & ~7u);
}

/* ------------------------------------------------------------------ writer */

typedef enum journal_fsync {
    JOURNAL_FSYNC_BATCH = 0,     /* fdatasync with every batch: durable_seq == written_seq */
    JOURNAL_FSYNC_INTERVAL = 1,  /* fdatasync at most every fsync_interval_ms */
    JOURNAL_FSYNC_NEVER = 2,     /* only when a file is finished and at close;
                                    durable_seq follows written_seq: "fast" */
} journal_fsync_t;

typedef struct journal_config {
    char dir[JOURNAL_DIR_MAX];   /* created (with parents) if missing */
    uint32_t buffer_bytes;       /* the SPSC buffer; power of two, JOURNAL_BUFFER_MIN..MAX */
    uint64_t roll_bytes;         /* a file is closed before it would pass this size;
                                    >= JOURNAL_ROLL_MIN */
    journal_fsync_t fsync;
    uint32_t fsync_interval_ms;  /* JOURNAL_FSYNC_INTERVAL only */
    idle_kind_t idle;            /* what the writer thread does when it finds no work */
    uint32_t idle_sleep_max_us;  /* its longest backoff sleep */
    int32_t cpu;                 /* core for the writer thread, -1: not pinned */
    uint8_t params[JOURNAL_PARAMS_SIZE]; /* written into each file's header (zeros by default) */
} journal_config_t;

typedef struct journal journal_t;

void journal_config_defaults(journal_config_t *cfg);

/* Checks the ranges journal_open relies on. Returns 0 or -EINVAL with a message. */
int journal_config_check(const journal_config_t *cfg, err_t *err);

/* Parses "batch", "interval" or "never". Returns 0 or -EINVAL. */
int journal_fsync_parse(const char *s, journal_fsync_t *out);
const char *journal_fsync_name(journal_fsync_t f);

/* Creates cfg->dir if needed, locks it against a second writer, starts the
 * file journal-<next_seq>.bj and the writer thread. next_seq (>= 1) is the seq
 * the first journal_append must carry. Never appends to an existing file, and
 * only continues a journal whose last file ends cleanly (it is scanned):
 * after a crash, journal_scan and journal_truncate_tail first, then open at
 * the seq after the last good one. A damaged last file is -EBADMSG, a
 * next_seq at or behind the journal's last record -EEXIST, a directory
 * another writer holds -EBUSY. A next_seq past the end is allowed (a snapshot
 * may cover records a crash lost); scans from before it report the gap as a
 * missing file. A last file that holds no record (a crash right after it was
 * created) is replaced.
 * Returns 0 or a negative errno with a message in err. May block (disk). */
int journal_open(journal_t **out, const journal_config_t *cfg, uint64_t next_seq, err_t *err);

/* Appends one record: len (<= JOURNAL_PAYLOAD_MAX) payload bytes carrying seq,
 * which must be exactly one more than the previous record's (next_seq for the
 * first). Producer side only: one thread, the matcher. Never blocks, allocates
 * or makes a system call; the writer computes the CRC.
 * Returns 0; -EAGAIN when the buffer has no room (back-pressure: nothing was
 * taken, retry once the writer has caught up); -EINVAL for a bad seq or len;
 * instead of -EAGAIN, the writer's error (journal_error) once it has stopped. */
int journal_append(journal_t *j, const void *rec, uint32_t len, uint64_t seq);

/* The params the header of every file after the first carries: for a
 * writer whose first record changes them (the engine's resize command, which
 * it sequences right after opening). Producer side, before the first
 * journal_append only: -EBUSY after it. Returns 0. */
int journal_set_params(journal_t *j, const uint8_t params[JOURNAL_PARAMS_SIZE]);

/* The seq of the last record handed to the kernel / known to be on stable
 * storage (next_seq - 1 before any). Any thread; never decrease. */
uint64_t journal_written_seq(const journal_t *j);
uint64_t journal_durable_seq(const journal_t *j);

/* 0 while the journal works; after a failed write or fsync, the negative
 * errno that stopped it for good (err, if given, gets its message). Data up to
 * journal_durable_seq() is safe; nothing after it is claimed. Any thread. */
int journal_error(const journal_t *j, err_t *err);

/* Counters for status displays and benchmarks. Any thread; each counter is
 * exact, the set is not one snapshot. */
typedef struct journal_stats {
    uint64_t batches;            /* group commits: writes of everything that had arrived */
    uint64_t fsyncs;             /* fdatasyncs of records */
    uint64_t bytes;              /* record bytes written */
    uint64_t files;              /* files started */
    uint64_t full;               /* appends refused with -EAGAIN */
} journal_stats_t;

void journal_stats(const journal_t *j, journal_stats_t *out);

/* Waits until every record appended before the call is written and
 * fdatasynced, whatever the policy. Producer or control thread; blocks.
 * Returns 0 or the writer's error. */
int journal_sync(journal_t *j);

/* Drains the buffer, fdatasyncs (whatever the policy), stops the writer thread
 * and frees j. The producer must not append concurrently. Returns 0, or the
 * writer's error when some records could not be made durable. */
int journal_close(journal_t *j);

/* ------------------------------------------------------------------ reader */

typedef enum journal_problem {
    JOURNAL_OK = 0,
    JOURNAL_TORN_TAIL,       /* the last file ends inside a record (or in zeros): a crash
                                mid-write; journal_truncate_tail may cut it */
    JOURNAL_CORRUPT_RECORD,  /* bad CRC or impossible length before the end */
    JOURNAL_SEQ_GAP,         /* a valid record whose seq is not the one after the last */
    JOURNAL_MISSING_FILE,    /* a file starts after the seq that should come next, or the
                                journal starts after from_seq */
    JOURNAL_BAD_HEADER,      /* a file header is not a valid header for its name */
    JOURNAL_OTHER_VERSION,   /* a file of another journal format: not damage, and not this
                                build's to read or repair */
} journal_problem_t;

const char *journal_problem_name(journal_problem_t p);

/* What journal_scan found. Valid data is everything before (file, offset) in
 * journal order: after a clean scan, the end of the last file; otherwise the
 * place of the problem. */
typedef struct journal_scan {
    journal_problem_t problem;
    uint64_t delivered;          /* records passed to fn */
    uint64_t valid;              /* valid records seen, in range or not */
    uint64_t first_seq;          /* first valid record seen (0: none) */
    uint64_t last_seq;           /* last valid record (0: none) */
    uint64_t next_seq;           /* the seq due after the valid data: last_seq + 1, or the
                                    first seq of an empty file read last (0: no file header
                                    was read) */
    uint64_t start_seq;          /* the seq the directory's first file is named for: where
                                    the journal starts (0: no file) */
    uint32_t files;              /* journal files in the directory */
    char dir[JOURNAL_DIR_MAX];
    char file[JOURNAL_NAME_MAX]; /* "" when the directory has no journal file */
    uint64_t offset;             /* byte offset in file where valid data ends */
    int in_last_file;            /* file is the last journal file */
} journal_scan_t;

/* Called once for each valid record in range. A non-zero return stops the
 * scan, and journal_scan returns that value. */
typedef int (*journal_record_fn)(void *ctx, uint64_t seq, const void *payload, uint32_t len);

/* Walks the files of dir in seq order, checking headers, lengths, CRCs and
 * seq continuity within and between files, and calls fn (may be NULL) for
 * each valid record with from_seq <= seq <= until_seq (from_seq 0: from the
 * first record there is). Files wholly before from_seq (the next file starts
 * at or before it) are skipped unread. Stops at the first problem: nothing
 * after it is ever delivered. Reads any bytes safely.
 * Returns 0 when the journal is clean, -EBADMSG when res->problem is set (err
 * names the file, the byte offset and what is wrong), another negative errno
 * for a directory or I/O error, or fn's non-zero return. res is always filled.
 * Safe against a live writer, which it may see as a torn tail. */
int journal_scan(const char *dir, uint64_t from_seq, uint64_t until_seq, journal_record_fn fn, void *ctx,
                 journal_scan_t *res, err_t *err);

/* Called with each file's first seq and header params once its header has
 * checked out, before any of its records reach fn (even for a file whose
 * first records lie before from_seq). A non-zero return stops the scan, and
 * journal_scan_files returns that value. */
typedef int (*journal_file_fn)(void *ctx, uint64_t first_seq, const uint8_t params[JOURNAL_PARAMS_SIZE]);

/* journal_scan, with file_fn (may be NULL) told of each file it opens. */
int journal_scan_files(const char *dir, uint64_t from_seq, uint64_t until_seq, journal_record_fn fn,
                       journal_file_fn file_fn, void *ctx, journal_scan_t *res, err_t *err);

/* Cuts a torn tail that journal_scan reported: truncates res->file to
 * res->offset (deletes it when the tear is in its header) and fsyncs. Only
 * for JOURNAL_TORN_TAIL in the last file, with no writer holding the
 * directory; a clean scan is a no-op. Any other problem is -EBADMSG and cuts
 * nothing: data after a mid-journal corruption is the operator's decision.
 * Returns 0 or a negative errno with a message. */
int journal_truncate_tail(const journal_scan_t *res, err_t *err);

/* --------------------------------------------------------------- retention */

/* How many of the journal's oldest files hold no record after keep_seq, from
 * the first seqs of its n files in ascending order (their names): a file's
 * records end before the next file's first seq, so file i may go when
 * first[i + 1] - 1 <= keep_seq. The last file never counts: it is the one
 * being written, or the one a new writer checks its start against. keep_seq
 * 0 (nothing to keep the journal for) gives 0. */
size_t journal_prunable(const uint64_t *first, size_t n, uint64_t keep_seq);

typedef struct journal_prune {
    uint32_t files;              /* files deleted */
    uint64_t end_seq;            /* the last seq they could hold: the journal now starts at
                                    end_seq + 1 (0: nothing deleted) */
} journal_prune_t;

/* Deletes the files of dir that journal_prunable allows, oldest first, so
 * that a pass cut short (a crash, an error) still leaves one contiguous
 * journal. Safe beside a live writer of dir: it never touches the newest
 * file, and the writer only ever creates files after it. The deletions are
 * not fsynced: one that a crash undoes leaves an old file behind, which
 * every scan from a snapshot skips unread.
 * Returns 0 or a negative errno with a message; res says what was deleted
 * either way. May block (disk). */
int journal_prune(const char *dir, uint64_t keep_seq, journal_prune_t *res, err_t *err);

#endif
