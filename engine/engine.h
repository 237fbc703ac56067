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

#include "config.h"
#include "err.h"
#include "evlog.h"
#include "idle.h"
#include "matcher.h"
#include "ring.h"
#include "shm.h"

enum {
    ENGINE_BURST = 64,   /* commands taken from one ring per pass */
    RING_BROKEN = 0xff,  /* ring_state of a quarantined ring (beside enum lease_state) */
    ENGINE_SRC = 0xffff, /* src of the commands the engine makes itself (timers) */
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
} engine_t;

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
