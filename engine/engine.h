/* engine.h - the engine: owns the segment, sequences the commands of every
 * client ring and publishes the resulting events to the event log.
 *
 * One thread runs engine_run() (or calls engine_poll() itself, as tests do).
 * Each command gets the next sequence number and the engine clock, then goes
 * to the matcher (CMD_ECHO is answered by the engine itself); its events go to
 * the event log, the last one of each command marked REC_LAST. */
#ifndef BOURSE_ENGINE_H
#define BOURSE_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "evlog.h"
#include "idle.h"
#include "journal.h"
#include "matcher.h"
#include "recover.h"
#include "ring.h"
#include "shm.h"

enum {
    ENGINE_BURST = 64,   /* commands taken from one ring per pass */
    RING_BROKEN = 0xff,  /* ring_state of a quarantined ring (beside enum lease_state) */
    ENGINE_SRC = SRC_ENGINE,
};

typedef struct engine {
    config_t cfg;
    matcher_t *m;
    shm_t *shm;
    shm_engine_stats_t *stats;
    evlog_writer_t log;
    idle_t idle;
    uint64_t commands;        /* sequenced so far; the next command's number is this + 1 */
    uint64_t events;
    uint64_t rejects;         /* EVT_REJECTED published, the engine's and the matcher's */
    uint64_t busy_passes, idle_passes;
    uint64_t next_housekeeping_ns;
    uint32_t nclients;
    ring_t rings[SHM_CLIENTS_MAX];     /* consumer side of each client ring */
    uint8_t ring_state[SHM_CLIENTS_MAX]; /* enum lease_state as last acted on */
    rec_t burst[ENGINE_BURST];
    mcmd_t cmd;                       /* the command being applied */
    uint64_t cur_ref;                 /* its client's request id, copied to its events */
    uint64_t last_now;                /* engine clock: the time of the last command */
    /* durability */
    journal_t *journal;               /* NULL with [journal] enabled = false */
    int data_lock;                    /* flock on <data_dir>/<instance>/lock, -1: none */
    bool journal_failed;              /* a write failed: the engine stops */
    bool recovering;                  /* replaying at start: events are not published */
    uint64_t published_durable;       /* durable_seq as last published */
    recover_result_t recovered;
    char journal_dir[JOURNAL_DIR_MAX];
    char snapshot_dir[JOURNAL_DIR_MAX];
    pid_t snap_pid;                   /* the child writing a snapshot, -1: none */
    int snap_gate;                    /* its publish gate (write end), -1: none */
    uint64_t snap_seq, snap_started_ns, snap_pause_ns;
    uint64_t last_snapshot_seq;
    uint64_t next_snapshot_ns;        /* CLOCK_MONOTONIC; 0: no periodic snapshots */
    /* statistics */
    double ns_per_tick;
    uint64_t bucket_ticks[ENGINE_STAT_BUCKETS - 1];
} engine_t;

/* Starts a snapshot of the state as of now (fork: the child writes it while
 * the matcher goes on). 0 when started or when nothing changed since the
 * last one, -EBUSY while one is being written, a negative errno from fork. */
int engine_snapshot(engine_t *e);

/* Creates the instance's segment from cfg (see shm_create() for errors). */
int engine_open(engine_t **out, const config_t *cfg, err_t *err);

/* One pass over every client ring: sequences and applies what is there.
 * Returns the number of commands applied. Engine thread only. */
int engine_poll(engine_t *e);

/* Heartbeat, stats, and reclaiming the slots of clients and readers whose
 * process has died. engine_run() calls it every housekeeping_ms. */
void engine_housekeep(engine_t *e);

/* Polls until *stop becomes true, idling per the config. Pins the calling
 * thread when cfg.cpu >= 0. Returns 0 or a negative errno. */
int engine_run(engine_t *e, const atomic_bool *stop, err_t *err);

/* Marks the segment stopped and releases it. */
void engine_close(engine_t *e);

#endif
