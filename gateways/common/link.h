/* link.h - a gateway's attachment to the engine: one command ring, one
 * event-log cursor, and the table of commands awaiting their answers.
 *
 * A command goes out with a ref naming its table slot; its events come back
 * carrying that ref (and the engine's cmd_seq), the last one flagged
 * REC_LAST. A command sent with wait_durable completes only once the
 * engine's durable sequence reaches its cmd_seq. Every event of the log, whoever
 * caused it, also goes to on_log, for the gateway's caches.
 *
 * The link survives the engine: a lapped cursor (-EOVERFLOW) resyncs and says
 * so (on_lapped: the gateway logs what it rebuilds); a stopped or dead engine
 * (-ESTALE) fails what is pending, detaches, and attaches again with backoff,
 * logging both. Used by bourse-rest and bourse-ws. Single-threaded: the
 * gateway's loop owns it. */
#ifndef BOURSE_LINK_H
#define BOURSE_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

typedef struct link_ops {
    /* An event of the pending command tag, in order, before on_done. */
    void (*on_event)(void *ctx, uint64_t tag, const rec_t *ev);
    /* The command tag is over: status 0 (answered, and durable if asked),
     * -ETIMEDOUT (no complete answer by its deadline: it may still take
     * effect) or -ESTALE (the engine went away). */
    void (*on_done)(void *ctx, uint64_t tag, int status, uint64_t cmd_seq);
    /* Every event read from the log, in log order, before its on_event. */
    void (*on_log)(void *ctx, const rec_t *ev, bool own);
    void (*on_attach)(void *ctx);
    void (*on_detach)(void *ctx, const char *why);
    /* The cursor was lapped: skipped events are lost; caches must rebuild. */
    void (*on_lapped)(void *ctx, uint64_t skipped);
} link_ops_t;

typedef struct link_stats {
    uint64_t sent, events, completed, timeouts, busy, laps, attaches, detaches;
} link_stats_t;

typedef struct link link_t;

enum { LINK_INFLIGHT_MAX = 65535 }; /* a ref's slot is 16 bits */

/* Creates a detached link to instance; link_poll attaches. max_inflight is
 * 1..LINK_INFLIGHT_MAX commands. Returns 0, -EINVAL or -ENOMEM. */
int link_create(link_t **out, const char *instance, const char *client_name, uint32_t max_inflight,
                const link_ops_t *ops, void *ctx);
void link_destroy(link_t *l);

/* Sends cmd (its ref is set here) for tag, to be answered by deadline_ns
 * (CLOCK_MONOTONIC), and made durable too when wait_durable. Returns 0; -EAGAIN when the command ring is full (the
 * engine is behind: answer 503); -EBUSY when max_inflight commands wait;
 * -ENOTCONN when detached; -ESTALE when the engine just went away (the link
 * detaches). On error nothing was sent and on_done will not be called. */
int link_send(link_t *l, rec_t *cmd, uint64_t tag, uint64_t deadline_ns, bool wait_durable);

/* One pass: attaches when due, reads events, completes and times out
 * commands. Returns how much work it did (0: idle). */
int link_poll(link_t *l, uint64_t now_ns);

bool link_attached(const link_t *l);

/* The attached client (its segment and ring slot), NULL while detached. */
struct client *link_client(const link_t *l);
/* Commands awaiting their answer. */
uint32_t link_inflight(const link_t *l);
/* The engine's last heartbeat (CLOCK_REALTIME ns, from its stats page), 0
 * when detached. An engine that is alive but stuck (SIGSTOP, a long stall)
 * keeps its process but stops beating. */
uint64_t link_heartbeat_ns(const link_t *l);
/* Nanoseconds until the next attach attempt when detached (0 when attached). */
uint64_t link_attach_wait_ns(const link_t *l, uint64_t now_ns);
void link_get_stats(const link_t *l, link_stats_t *out);

#endif
