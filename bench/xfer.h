/* xfer.h - bench-ring's transfer loops: what each process of a case runs to
 * move 64-byte records through one transport, and the state they share.
 *
 * Transports: our command ring (engine/ring.h) and our event log
 * (engine/evlog.h) through a real segment, and libck's ck_ring as the peer of
 * each, SPSC and fanned out to one ring per reader. Every receiving loop checks
 * every record and fails the run on a lost, duplicated, reordered or torn one.
 * bench/ring.c decides which cases run, forks the processes and reports. */
#ifndef BOURSE_BENCH_XFER_H
#define BOURSE_BENCH_XFER_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include <ck_ring.h>

#include "harness.h"
#include "idle.h"
#include "layout.h"
#include "ring.h"
#include "shm.h"

/* The record the ring benchmark moves: 64 bytes, one cache line, the first
 * word its sequence (what rings and the event log require of any record). The
 * engine's own records are rec_t (128 bytes); this one matches ck_ring's
 * typical element and the figures kept in bench/README.md. */
typedef struct bench_rec {
    uint64_t seq;
    uint64_t ts_ns;
    uint16_t type;
    uint16_t src;
    uint16_t len;
    uint16_t flags;
    uint8_t payload[40];
} bench_rec_t;
_Static_assert(sizeof(bench_rec_t) == 64, "a bench record is one line");

enum {
    RING_CAP = 4096,     /* records, ours and ck's alike: 256 KiB, inside one core's L2 */
    EVLOG_CAP = 4096,
    READERS_MAX = 4,
    BURST = 32,
    /* The gated writer stays this many records short of a full lap, so it is
     * never writing the lines a reader is about to copy. */
    GATE_SLACK = 64,
    /* Pause between latency samples, after the receiver has taken the last
     * one: the receiver is back in its poll loop and the ring is empty, so a
     * sample is one record's trip and not a queue's. */
    LAT_GAP_NS = 1000,
};

typedef struct opts {
    uint64_t count;      /* records per throughput measure */
    uint64_t lat_count;  /* samples per latency measure (per reader) */
    bool quick;
    idle_kind_t idle;
    int cpu_producer;    /* sending side: ring producer, event-log writer; -1 unpinned */
    int cpu_consumer;    /* receiving side: ring consumer, every event-log reader */
} opts_t;

/* One receiver's report, written by whichever process received. */
typedef struct rx {
    alignas(SHM_PAIR) _Atomic uint64_t end_ns; /* clock at its last record */
    int32_t reader_slot;                       /* registry slot, for the laps counter */
} rx_t;

typedef struct ck_slot {
    alignas(SHM_PAIR) ck_ring_t ring;
} ck_slot_t;

/* What the processes of a case share, besides the segment. Mapped before any
 * fork; the latency samples follow it (READERS_MAX rows of lat_count). */
typedef struct shared {
    alignas(SHM_PAIR) _Atomic uint32_t ready; /* children set up and waiting for go */
    alignas(SHM_PAIR) _Atomic uint32_t go;
    alignas(SHM_PAIR) _Atomic uint64_t start_ns; /* sender's clock before its first record */
    rx_t rx[READERS_MAX];
    ck_slot_t ck[READERS_MAX];
    alignas(SHM_PAGE) bench_rec_t ck_buf[READERS_MAX][RING_CAP];
} shared_t;

typedef struct bench {
    harness_t h;
    opts_t o;
    char instance[SHM_NAME_MAX];
    shm_t *seg;          /* the main process's (owner) mapping */
    shared_t *sh;
    uint64_t *samples;   /* receiver k's samples start at k * o.lat_count */
    uint64_t checked;    /* records whose sequence was verified, all cases */
    unsigned cpus;       /* usable at start, before any pinning */
} bench_t;

typedef enum transport { T_RING, T_CK, T_EVLOG, T_CKFAN } transport_t;
typedef enum measure { M_RATE, M_BURST, M_LATENCY } measure_t;

/* One case as each of its processes sees it (children get a copy by fork). */
typedef struct job {
    bench_t *b;
    transport_t t;
    measure_t m;
    unsigned readers;    /* receiving processes (1 for the SPSC cases) */
    unsigned index;      /* which receiver this child is */
    idle_kind_t idle;
    uint64_t n;          /* records to send, to each receiver */
} job_t;

/* Main process, after forking kids children: pins itself to cpu, waits until
 * every child has attached, then lets them all start at once. */
void xfer_parent_go(bench_t *b, const job_t *j, unsigned kids, int cpu);

/* Our command ring: the producer is a child attached with client_attach();
 * the main process consumes ring 0, as the engine does, through r. */
void xfer_ring_send(harness_t *h, void *job);
void xfer_ring_receive(bench_t *b, const job_t *j, ring_t *r);

/* ck_ring SPSC: the producer is a child; which names the ring (0 for SPSC,
 * the reader's own one when fanned out). lat, when not NULL, takes samples. */
void xfer_ck_send(harness_t *h, void *job);
void xfer_ck_receive(harness_t *h, const job_t *j, unsigned which, uint64_t *lat);

/* Our event log: the main process writes (gated: it never laps a reader),
 * each child is a registered reader. */
void xfer_evlog_write(bench_t *b, const job_t *j);
void xfer_evlog_read(harness_t *h, void *job);

/* ck_ring fan-out, the event log's peer: the main process enqueues every
 * record into each reader's own ring. */
void xfer_fan_write(bench_t *b, const job_t *j);
void xfer_fan_read(harness_t *h, void *job);

#endif
