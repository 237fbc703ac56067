/* layout.h - the binary layout of the shared-memory segment: a file format.
 *
 * Every process that attaches (engine, gateways, feeds, strategies, the CLI)
 * reads these structs. Fixed-width fields, explicit padding, offsets instead of
 * pointers. Any change here bumps SHM_LAYOUT_VERSION; attaching to a segment of
 * another version is refused.
 *
 *   header | client registry | reader registry | command rings | event log | stats
 */
#ifndef BOURSE_LAYOUT_H
#define BOURSE_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_MAGIC UINT64_C(0x4753455352554f42) /* "BOURSESG" read little-endian */
#define SHM_LAYOUT_VERSION 7u
#define SHM_LINE 64u          /* cache line */
#define SHM_PAIR 128u         /* adjacent-line prefetch pair: keep sides apart by this */
#define SHM_PAGE 4096u
#define SHM_METRICS_PAGE 65536u  /* one per command-ring slot: its owner's metrics (metrics.h) */
#define SHM_NAME_MAX 32u      /* instance and client names, NUL included */

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free in shared memory");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free in shared memory");

/* Limits on the geometry a header may declare; validation rejects anything else. */
enum {
    SHM_CLIENTS_MAX = 256,
    SHM_READERS_MAX = 256,
    SHM_RING_CAP_MIN = 64,
    SHM_RING_CAP_MAX = 1u << 24,
    SHM_EVLOG_CAP_MIN = 64,
    SHM_EVLOG_CAP_MAX = 1u << 26,
    SHM_REC_MIN = 64,     /* record sizes a segment may use: 64, 128 or 256 bytes */
    SHM_REC_MAX = 256,
};

/* ---------------------------------------------------------------- records */

/* One message on a command ring or in the event log: 128 bytes, two lines.
 * Rings and the event log move records of the size the segment declares (64,
 * 128 or 256 bytes; the engine's segments use this one); whatever the size,
 * the first word is seq.
 * seq     on a command ring: the producer's own running count (0, 1, 2...);
 *         in the event log: the log position, and (see evlog.h) the slot's
 *         publication stamp while it sits in shared memory.
 * ts_ns   the sender's CLOCK_REALTIME for commands; the engine's clock for events.
 * ref     commands: the client's request id, free for it to choose; events: the
 *         ref of the command that caused them, so a client finds its answers.
 * cmd_seq events: the engine's sequence number of that command (the journal's
 *         and the logs' correlation id); 0 on commands.
 * src     the command ring (client slot) a command came from; events copy it.
 * flags   events: REC_LAST on the last event of a command. */
typedef struct rec {
    uint64_t seq;
    uint64_t ts_ns;
    uint64_t ref;
    uint64_t cmd_seq;
    uint16_t type;
    uint16_t src;
    uint16_t len;      /* payload bytes in use */
    uint16_t flags;
    uint8_t payload[88];
} rec_t;

enum rec_flags { REC_LAST = 1u << 0 };

_Static_assert(sizeof(rec_t) == 2 * SHM_LINE, "a record is two cache lines");
_Static_assert(offsetof(rec_t, seq) == 0, "seq is the first word (evlog stamp)");
_Static_assert(offsetof(rec_t, ts_ns) == 8, "rec layout");
_Static_assert(offsetof(rec_t, ref) == 16, "rec layout");
_Static_assert(offsetof(rec_t, cmd_seq) == 24, "rec layout");
_Static_assert(offsetof(rec_t, type) == 32, "rec layout");
_Static_assert(offsetof(rec_t, flags) == 38, "rec layout");
_Static_assert(offsetof(rec_t, payload) == 40, "rec layout");

#define REC_PAYLOAD_MAX ((uint16_t)sizeof(((rec_t *)0)->payload))

/* Record types of the engine itself. The matcher's commands and events (and
 * EVT_REJECTED, the answer to any refused command) are in proto.h. */
enum rec_type {
    REC_NONE = 0,
    CMD_ECHO = 1,        /* payload comes back unchanged in an EVT_ECHO */
    EVT_BASE = 0x8000,
    EVT_ECHO = 0x8001,
};

/* ---------------------------------------------------------------- header */

enum shm_state {
    SHM_STATE_INIT = 0,     /* engine is laying the segment out */
    SHM_STATE_READY = 1,    /* engine running; clients may attach */
    SHM_STATE_STOPPED = 2,  /* engine exited cleanly; clients must reattach */
};

/* Counters the engine publishes; one writer (the engine loop), relaxed stores.
 * Readers (CLI, exporter) load relaxed: each counter is only ever a snapshot. */
enum { ENGINE_STAT_TYPES = 32, ENGINE_STAT_REASONS = 64, ENGINE_STAT_BUCKETS = 12 };

/* Upper bounds of the apply-latency buckets, ns (the last bucket is +Inf). */
#define ENGINE_STAT_BOUNDS_NS {250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 1000000, 10000000}

typedef struct shm_engine_stats {
    _Atomic uint64_t heartbeat_ns;     /* CLOCK_REALTIME of the last housekeeping pass */
    _Atomic uint64_t commands;         /* commands sequenced */
    _Atomic uint64_t events;           /* events published */
    _Atomic uint64_t rejects;
    _Atomic uint64_t busy_passes;      /* loop passes that found work */
    _Atomic uint64_t idle_passes;
    _Atomic uint64_t clients_reclaimed;
    _Atomic uint64_t readers_reclaimed;
    _Atomic uint64_t rings_corrupt;    /* rings whose indices a client broke */
    /* Commands up to this seq are on stable storage (durable mode) or were
     * sequenced (fast mode): a gateway releases the ack of command seq S to
     * its client once durable_seq >= S. release store by the engine's
     * journal path, acquire load in client_durable_seq(). */
    _Atomic uint64_t durable_seq;
    _Atomic uint64_t snapshot_seq;      /* the last snapshot written */
    _Atomic uint64_t snapshot_pause_ns; /* the matcher's pause for the last one (the fork) */
    _Atomic uint64_t trades;
    _Atomic uint64_t commands_by_type[ENGINE_STAT_TYPES];   /* by command type; [0]: other types */
    _Atomic uint64_t rejects_by_reason[ENGINE_STAT_REASONS];
    /* Time from a command's sequencing to its last event published, ns:
     * counts per bucket (not cumulative), the last bucket is +Inf. */
    _Atomic uint64_t apply_ns_bucket[ENGINE_STAT_BUCKETS];
    _Atomic uint64_t apply_ns_sum;
    _Atomic uint64_t journal_files_pruned; /* deleted by [journal] retain = snapshots */
    _Atomic uint64_t journal_pruned_seq;   /* the last seq they held: the journal starts after it */
    uint8_t pad[SHM_PAGE - (16 + ENGINE_STAT_TYPES + ENGINE_STAT_REASONS + ENGINE_STAT_BUCKETS) * 8];
} shm_engine_stats_t;
_Static_assert(sizeof(shm_engine_stats_t) == SHM_PAGE, "engine stats take one page");

typedef struct shm_header {
    /* identity: checked first, never moves between layout versions */
    uint64_t magic;
    uint32_t layout_version;
    uint32_t header_size;
    uint64_t segment_size;
    uint64_t generation;            /* +1 each time an engine re-creates the instance */
    /* ownership */
    _Atomic uint32_t state;         /* enum shm_state; release store by the engine */
    int32_t owner_pid;
    uint64_t owner_start_time;      /* /proc/<pid>/stat starttime: tells a reused pid apart */
    uint64_t created_ns;            /* CLOCK_REALTIME */
    char instance[SHM_NAME_MAX];
    /* geometry, as configured */
    uint32_t client_max;
    uint32_t ring_capacity;         /* records per command ring, power of two */
    uint32_t reader_max;
    uint32_t evlog_capacity;        /* records in the event log, power of two */
    uint32_t rec_size;              /* sizeof(rec_t) of the writer */
    uint32_t proto_version;         /* PROTO_VERSION (proto.h) of the records on the rings and the log */
    /* regions: byte offsets from the segment start */
    uint64_t clients_off;
    uint64_t readers_off;
    uint64_t rings_off;
    uint64_t ring_stride;           /* bytes from one ring to the next */
    uint64_t evlog_off;
    uint64_t stats_off;
    uint64_t stats_size;
    uint8_t pad1[SHM_PAGE - 168];
} shm_header_t;

_Static_assert(sizeof(shm_header_t) == SHM_PAGE, "header takes one page");
_Static_assert(_Alignof(shm_header_t) == 8, "header alignment");
_Static_assert(offsetof(shm_header_t, magic) == 0, "magic first");
_Static_assert(offsetof(shm_header_t, layout_version) == 8, "version at 8 in every layout");
_Static_assert(offsetof(shm_header_t, header_size) == 12, "header layout");
_Static_assert(offsetof(shm_header_t, segment_size) == 16, "header layout");
_Static_assert(offsetof(shm_header_t, generation) == 24, "header layout");
_Static_assert(offsetof(shm_header_t, state) == 32, "header layout");
_Static_assert(offsetof(shm_header_t, owner_pid) == 36, "header layout");
_Static_assert(offsetof(shm_header_t, owner_start_time) == 40, "header layout");
_Static_assert(offsetof(shm_header_t, created_ns) == 48, "header layout");
_Static_assert(offsetof(shm_header_t, instance) == 56, "header layout");
_Static_assert(offsetof(shm_header_t, client_max) == 88, "header layout");
_Static_assert(offsetof(shm_header_t, ring_capacity) == 92, "header layout");
_Static_assert(offsetof(shm_header_t, reader_max) == 96, "header layout");
_Static_assert(offsetof(shm_header_t, evlog_capacity) == 100, "header layout");
_Static_assert(offsetof(shm_header_t, rec_size) == 104, "header layout");
_Static_assert(offsetof(shm_header_t, proto_version) == 108, "header layout");
_Static_assert(offsetof(shm_header_t, clients_off) == 112, "header layout");
_Static_assert(offsetof(shm_header_t, readers_off) == 120, "header layout");
_Static_assert(offsetof(shm_header_t, rings_off) == 128, "header layout");
_Static_assert(offsetof(shm_header_t, ring_stride) == 136, "header layout");
_Static_assert(offsetof(shm_header_t, evlog_off) == 144, "header layout");
_Static_assert(offsetof(shm_header_t, stats_off) == 152, "header layout");
_Static_assert(offsetof(shm_header_t, stats_size) == 160, "header layout");
_Static_assert(offsetof(shm_engine_stats_t, heartbeat_ns) == 0, "stats layout");
_Static_assert(offsetof(shm_engine_stats_t, commands) == 8, "stats layout");
_Static_assert(offsetof(shm_engine_stats_t, rings_corrupt) == 64, "stats layout");
_Static_assert(offsetof(shm_engine_stats_t, durable_seq) == 72, "stats layout");

/* ---------------------------------------------------------------- registries */

/* A registry lease word: (pid << 8) | state. One CAS claims a slot with the
 * claimant's pid already in it, so a claimant that dies half-way is still
 * identifiable. */
enum lease_state {
    LEASE_FREE = 0,
    LEASE_CLAIMING = 1,  /* claimed, start time and name not yet written */
    LEASE_ACTIVE = 2,
    LEASE_CLOSING = 3,   /* owner left or died: the engine drains, then frees */
};
#define LEASE_MAKE(pid, st) (((uint64_t)(uint32_t)(pid) << 8) | (uint64_t)(st))
#define LEASE_PID(l) ((int32_t)((l) >> 8))
#define LEASE_STATE(l) ((unsigned)((l) & 0xff))

/* Client slot i owns command ring i. */
typedef struct shm_client {
    _Atomic uint64_t lease;         /* CAS by clients to claim; the engine frees */
    _Atomic uint64_t start_time;    /* of the owner pid, stored before ACTIVE (relaxed) */
    char name[SHM_NAME_MAX];
    _Atomic uint64_t claims;        /* times this slot was claimed */
    uint8_t pad[SHM_PAIR - 56];
} shm_client_t;
_Static_assert(sizeof(shm_client_t) == SHM_PAIR, "client slot is a line pair");
_Static_assert(offsetof(shm_client_t, lease) == 0, "client slot layout");
_Static_assert(offsetof(shm_client_t, start_time) == 8, "client slot layout");
_Static_assert(offsetof(shm_client_t, name) == 16, "client slot layout");
_Static_assert(offsetof(shm_client_t, claims) == 48, "client slot layout");

/* An event-log reader: the lease line, then the cursor line it keeps moving. */
typedef struct shm_reader {
    _Atomic uint64_t lease;         /* CAS by readers to claim and to free; the engine reclaims the dead */
    _Atomic uint64_t start_time;
    char name[SHM_NAME_MAX];
    uint8_t pad0[SHM_PAIR - 48];
    _Atomic uint64_t cursor;        /* next position this reader will read; relaxed, for status and gating */
    _Atomic uint64_t laps;          /* times it found itself lapped */
    uint8_t pad1[SHM_PAIR - 16];
} shm_reader_t;
_Static_assert(sizeof(shm_reader_t) == 2 * SHM_PAIR, "reader slot is two line pairs");
_Static_assert(offsetof(shm_reader_t, lease) == 0, "reader slot layout");
_Static_assert(offsetof(shm_reader_t, start_time) == 8, "reader slot layout");
_Static_assert(offsetof(shm_reader_t, name) == 16, "reader slot layout");
_Static_assert(offsetof(shm_reader_t, cursor) == SHM_PAIR, "cursor on its own lines");
_Static_assert(offsetof(shm_reader_t, laps) == SHM_PAIR + 8, "reader slot layout");

/* ---------------------------------------------------------------- rings */

/* SPSC command ring: descriptor line, producer line, consumer line, slots.
 * Producer and consumer indices are free-running 64-bit counts. */
typedef struct ring_shm {
    uint32_t capacity;              /* written once by the creator */
    uint32_t rec_size;
    uint8_t pad0[SHM_PAIR - 8];
    _Atomic uint64_t head;          /* producer: records published (release) */
    uint8_t pad1[SHM_PAIR - 8];
    _Atomic uint64_t tail;          /* consumer: records consumed (release) */
    uint8_t pad2[SHM_PAIR - 8];
} ring_shm_t;
_Static_assert(sizeof(ring_shm_t) == 3 * SHM_PAIR, "ring descriptor layout");
_Static_assert(offsetof(ring_shm_t, head) == SHM_PAIR, "producer index on its own lines");
_Static_assert(offsetof(ring_shm_t, tail) == 2 * SHM_PAIR, "consumer index on its own lines");

/* Event log: one writer, many readers. A slot is a record whose first word is
 * its stamp (evlog.h); the slot array (rec_size bytes a slot) follows the
 * descriptor. */
typedef struct evlog_shm {
    uint32_t capacity;
    uint32_t rec_size;
    uint8_t pad0[SHM_PAIR - 8];
    _Atomic uint64_t head;          /* writer: positions published, updated per batch (release) */
    uint8_t pad1[SHM_PAIR - 8];
} evlog_shm_t;
_Static_assert(sizeof(evlog_shm_t) == 2 * SHM_PAIR, "event log descriptor layout");
_Static_assert(offsetof(evlog_shm_t, head) == SHM_PAIR, "writer head on its own lines");


#endif
