/* client.h - how a process outside the engine talks to it: attach to an
 * instance's segment, send commands on its own ring, read the event log.
 *
 * Gateways, feeds, strategies, the CLI and the benchmarks use this. A client_t
 * belongs to one thread. The engine may restart under a client: sends and
 * polls then return -ESTALE, and the client detaches and attaches again (the
 * new segment has generation + 1). */
#ifndef BOURSE_CLIENT_H
#define BOURSE_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "evlog.h"
#include "idle.h"
#include "layout.h"
#include "ring.h"
#include "shm.h"

enum client_flags {
    CLIENT_SEND = 1u << 0,   /* claim a command ring */
    CLIENT_RECV = 1u << 1,   /* register an event-log cursor */
};

typedef struct client {
    shm_t *shm;
    int slot;                /* command ring, -1 without CLIENT_SEND */
    int reader;              /* reader slot, -1 without CLIENT_RECV */
    ring_t ring;
    evlog_reader_t log;
    uint64_t sent;           /* commands pushed: the next command's seq */
    uint64_t checked_ns;     /* last engine liveness check (a /proc read) */
} client_t;

enum { CLIENT_CHECK_NS = 50000000 }; /* liveness checked at most this often, on idle paths */

/* Attaches to instance as name (shown by `bourse status`). Errors are those of
 * shm_attach(), plus -EBUSY when no ring or reader slot is free. A segment
 * whose records are not rec_t-sized (benchmarks make such) attaches, but only
 * its raw ring and log are usable: client_send() and client_poll() give -EPROTO. */
int client_attach(client_t **out, const char *instance, const char *name, unsigned flags,
                  err_t *err);

/* Detaches; commands already sent are still executed by the engine. */
void client_detach(client_t *c);

/* Sends one command. cmd->seq and cmd->src are filled in; cmd->ts_ns is filled
 * in when 0. Returns 0, -EAGAIN when the ring is full (answer "busy"), -ESTALE
 * when it is full because the engine is gone, -EPROTO when the ring is broken.
 * Producer side: the attaching thread only. */
int client_send(client_t *c, rec_t *cmd);

/* Reads up to max events. Returns the count (0: nothing new), -EOVERFLOW when
 * this reader was lapped (call client_resync() and rebuild state from a
 * snapshot), -ESTALE when the engine stopped or died (noticed within
 * CLIENT_CHECK_NS of polling nothing). */
int64_t client_poll(client_t *c, rec_t *out, uint64_t max);

/* After -EOVERFLOW: jumps to the newest event; returns how many were skipped. */
uint64_t client_resync(client_t *c);

/* True while the engine this client attached to is running. */
bool client_engine_alive(const client_t *c);

/* The engine's durable sequence: a command whose events carry cmd_seq <= it
 * is on stable storage (or, in fast mode, sequenced). A gateway releases a
 * command's acknowledgement to its client only once this reaches its cmd_seq.
 * Any thread. */
uint64_t client_durable_seq(const client_t *c);

/* Waits, idling with idle between looks, until client_durable_seq() reaches
 * seq or clock_mono_ns() passes deadline_ns. Returns 0 (durable), -ETIMEDOUT,
 * or -ESTALE when the engine stopped or died first without covering seq
 * (noticed within CLIENT_CHECK_NS): the command is then not acknowledged, and
 * whether it survived is for the next engine's recovery to tell. Blocks; for
 * a caller with one command to acknowledge (the CLI), not for a gateway's
 * loop, which checks client_durable_seq() between other work. */
int client_wait_durable(client_t *c, uint64_t seq, uint64_t deadline_ns, idle_t *idle);

#endif
