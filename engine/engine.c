/* engine.c - see engine.h. */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "registry.h"

/* The matcher's sink: each event becomes a record of the event log; the last
 * event of a command carries REC_LAST, which is how a client knows its answer
 * is complete. */
static void engine_on_events(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    engine_t *e = ctx;
    rec_t r;
    r.seq = 0;
    r.ref = e->cur_ref;
    for (uint32_t i = 0; i < n; i++) {
        r.ts_ns = ev[i].ts_ns;
        r.cmd_seq = ev[i].cmd_seq;
        r.type = ev[i].type;
        r.src = ev[i].src;
        r.len = (uint16_t)ev[i].len;
        r.flags = last && i + 1 == n ? REC_LAST : 0;
        memcpy(r.payload, ev[i].u.raw, sizeof(r.payload));
        evlog_append(&e->log, &r);
        e->rejects += ev[i].type == EVT_REJECTED;
    }
    e->events += n;
}

int engine_open(engine_t **out, const config_t *cfg, err_t *err)
{
    engine_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    e->cfg = *cfg;
    /* The matcher first: its pools are the big allocation, and a config that
     * asks for too much should fail before a segment exists. */
    int rc = matcher_create(&e->m, &cfg->matcher, engine_on_events, e, err);
    if (rc < 0) {
        free(e);
        return rc;
    }
    shm_geometry_t geo = {cfg->clients, cfg->ring_capacity, cfg->readers, cfg->event_log_capacity,
                          sizeof(rec_t)};
    rc = shm_create(&e->shm, cfg->instance, &geo, cfg->shm_mode, err);
    if (rc < 0) {
        matcher_destroy(e->m);
        free(e);
        return rc;
    }
    e->nclients = e->shm->geo.client_max;
    e->stats = shm_engine_stats(e->shm);
    rc = evlog_writer_init(&e->log, shm_evlog(e->shm), e->shm->geo.evlog_capacity, sizeof(rec_t));
    if (rc < 0) {
        engine_close(e);
        return err_set(err, rc, "event log of the new segment is inconsistent");
    }
    idle_init(&e->idle, cfg->idle, (uint64_t)cfg->idle_sleep_max_us * 1000u);
    engine_housekeep(e);
    *out = e;
    return 0;
}

void engine_close(engine_t *e)
{
    if (e == NULL)
        return;
    shm_close(e->shm);
    matcher_destroy(e->m);
    free(e);
}

/* The engine clock: wall time, but never earlier than the last command's, so
 * that command times (which order GTD expiries) never go back. */
static uint64_t engine_clock(engine_t *e)
{
    uint64_t now = clock_realtime_ns();
    if (now < e->last_now)
        now = e->last_now;
    e->last_now = now;
    return now;
}

/* A command the engine refuses before the matcher sees it. */
static void engine_reject(engine_t *e, const rec_t *cmd, uint64_t seq, uint64_t now, uint16_t why)
{
    mevt_t ev = {.cmd_seq = seq, .ts_ns = now, .type = EVT_REJECTED, .src = cmd->src,
                 .len = sizeof(evt_rejected_t)};
    ev.u.rejected = (evt_rejected_t){.cmd_type = cmd->type, .reason = why};
    engine_on_events(e, &ev, 1, 1);
}

/* Sequences and applies one command: stamps it with the sequence number and
 * the engine clock, the only inputs besides the command the matcher sees. */
static void engine_apply(engine_t *e, const rec_t *cmd, uint64_t now)
{
    uint64_t seq = ++e->commands;
    e->cur_ref = cmd->ref;
    if (cmd->len > sizeof(e->cmd.u.raw)) {
        engine_reject(e, cmd, seq, now, REJ_BAD_LENGTH);
    } else if (cmd->type == CMD_ECHO) {
        mevt_t ev = {.cmd_seq = seq, .ts_ns = now, .type = EVT_ECHO, .src = cmd->src, .len = cmd->len};
        memcpy(ev.u.raw, cmd->payload, sizeof(ev.u.raw));
        engine_on_events(e, &ev, 1, 1);
    } else if (cmd->type == CMD_TIMER) {
        engine_reject(e, cmd, seq, now, REJ_UNKNOWN_COMMAND); /* the engine's own, not a client's */
    } else {
        mcmd_t *m = &e->cmd;
        m->seq = seq;
        m->ts_ns = now;
        m->type = cmd->type;
        m->src = cmd->src;
        m->pad = 0;
        /* Bytes past len are zero whatever the client left there: the
         * matcher's input, and so its output, depends on the payload only. */
        memcpy(m->u.raw, cmd->payload, cmd->len);
        memset(m->u.raw + cmd->len, 0, sizeof(m->u.raw) - cmd->len);
        matcher_apply(e->m, m);
    }
}

/* GTD expiry is a command like any other: when an expiry is due and no client
 * command came to carry it, the engine sequences a timer of its own. */
static void engine_timer(engine_t *e)
{
    uint64_t now = engine_clock(e);
    if (matcher_next_expiry(e->m) > now)
        return;
    mcmd_t *m = &e->cmd;
    memset(m, 0, sizeof(*m));
    m->seq = ++e->commands;
    m->ts_ns = now;
    m->type = CMD_TIMER;
    m->src = ENGINE_SRC;
    e->cur_ref = 0;
    matcher_apply(e->m, m);
    evlog_flush(&e->log);
}

/* A client broke its ring's indices: nothing more from it can be trusted. The
 * ring is quarantined, not freed: its owner may still be producing into it, so
 * it is reset and freed only once the owner has closed it or died. */
static void engine_ring_broken(engine_t *e, uint32_t i)
{
    atomic_fetch_add_explicit(&e->stats->rings_corrupt, 1, memory_order_relaxed);
    e->ring_state[i] = RING_BROKEN;
}

static int engine_drain(engine_t *e, uint32_t i, uint64_t now)
{
    ring_t *r = &e->rings[i];
    int64_t n = ring_avail(r);
    if (n <= 0) {
        if (n < 0)
            engine_ring_broken(e, i);
        return 0;
    }
    if (n > ENGINE_BURST)
        n = ENGINE_BURST;
    /* Copy first and hand the slots back at once: a fast producer refills while
     * we apply. The source field is ours to set, not the client's. */
    for (int64_t k = 0; k < n; k++) {
        memcpy(&e->burst[k], ring_slot_r(r, (uint64_t)k), sizeof(rec_t));
        e->burst[k].src = (uint16_t)i;
    }
    ring_consume(r, (uint64_t)n);
    for (int64_t k = 0; k < n; k++) {
        /* Start the cache misses of the next two commands before this one. */
        if (k + 2 < n)
            matcher_prefetch(e->m, e->burst[k + 2].type, e->burst[k + 2].payload, 2);
        if (k + 1 < n)
            matcher_prefetch(e->m, e->burst[k + 1].type, e->burst[k + 1].payload, 1);
        engine_apply(e, &e->burst[k], now);
    }
    return (int)n;
}

/* Frees a slot whose owner is gone, after its last commands were applied. */
static void engine_free_slot(engine_t *e, uint32_t i, uint64_t seen)
{
    e->ring_state[i] = LEASE_FREE;
    registry_free_client(e->shm, i, seen);
}

int engine_poll(engine_t *e)
{
    int work = 0;
    uint64_t now = 0;
    for (uint32_t i = 0; i < e->nclients; i++) {
        shm_client_t *c = shm_client(e->shm, i);
        /* acquire pairs with the client's release of ACTIVE/CLOSING: its
         * records published before that are visible to the drain below. */
        uint64_t lease = atomic_load_explicit(&c->lease, memory_order_acquire);
        unsigned st = LEASE_STATE(lease);
        if (st != LEASE_ACTIVE && st != LEASE_CLOSING)
            continue;
        if (e->ring_state[i] == RING_BROKEN) {
            if (st == LEASE_CLOSING)
                engine_free_slot(e, i, lease);
            continue;
        }
        if (e->ring_state[i] == LEASE_FREE) {
            if (ring_attach_consumer(&e->rings[i], shm_ring(e->shm, i), e->shm->geo.ring_capacity,
                                     sizeof(rec_t)) < 0) {
                engine_ring_broken(e, i);
                continue;
            }
            e->ring_state[i] = LEASE_ACTIVE;
        }
        if (now == 0)
            now = engine_clock(e);
        int n = engine_drain(e, i, now);
        work += n;
        if (st == LEASE_CLOSING && n == 0 && e->ring_state[i] == LEASE_ACTIVE)
            engine_free_slot(e, i, lease);
    }
    if (work > 0) {
        evlog_flush(&e->log);
        /* Single writer, relaxed: a reader of the stats page sees each counter
         * as of some recent pass, which is all a counter promises. */
        atomic_store_explicit(&e->stats->commands, e->commands, memory_order_relaxed);
        atomic_store_explicit(&e->stats->events, e->events, memory_order_relaxed);
        atomic_store_explicit(&e->stats->rejects, e->rejects, memory_order_relaxed);
        /* release pairs with client_durable_seq(): the events of every
         * command up to it are in the log before a gateway acts on it. */
        atomic_store_explicit(&e->stats->durable_seq, e->commands, memory_order_release);
    }
    return work;
}

void engine_housekeep(engine_t *e)
{
    shm_t *s = e->shm;
    for (uint32_t i = 0; i < s->geo.client_max; i++) {
        shm_client_t *c = shm_client(s, i);
        uint64_t lease = atomic_load_explicit(&c->lease, memory_order_acquire);
        unsigned st = LEASE_STATE(lease);
        if ((st == LEASE_ACTIVE || st == LEASE_CLAIMING) && registry_owner_dead(lease, atomic_load_explicit(&c->start_time, memory_order_relaxed))) {
            /* Mark it closing: the next poll applies what the dead client had
             * published, then frees the slot. */
            uint64_t closing = LEASE_MAKE(LEASE_PID(lease), LEASE_CLOSING);
            if (atomic_compare_exchange_strong_explicit(&c->lease, &lease, closing,
                                                        memory_order_acq_rel, memory_order_relaxed))
                atomic_fetch_add_explicit(&e->stats->clients_reclaimed, 1, memory_order_relaxed);
        }
    }
    for (uint32_t i = 0; i < s->geo.reader_max; i++) {
        shm_reader_t *r = shm_reader(s, i);
        uint64_t lease = atomic_load_explicit(&r->lease, memory_order_acquire);
        if (registry_owner_dead(lease, atomic_load_explicit(&r->start_time, memory_order_relaxed)) &&
            atomic_compare_exchange_strong_explicit(&r->lease, &lease, LEASE_MAKE(0, LEASE_FREE),
                                                    memory_order_acq_rel, memory_order_relaxed))
            atomic_fetch_add_explicit(&e->stats->readers_reclaimed, 1, memory_order_relaxed);
    }
    shm_engine_stats_t *st = e->stats;
    atomic_store_explicit(&st->busy_passes, e->busy_passes, memory_order_relaxed);
    atomic_store_explicit(&st->idle_passes, e->idle_passes, memory_order_relaxed);
    atomic_store_explicit(&st->heartbeat_ns, clock_realtime_ns(), memory_order_relaxed);
    e->next_housekeeping_ns = clock_mono_ns() + (uint64_t)e->cfg.housekeeping_ms * 1000000u;
}

int engine_run(engine_t *e, const atomic_bool *stop, err_t *err)
{
    int rc = idle_pin_cpu(e->cfg.cpu, err);
    if (rc < 0)
        return rc;
    uint32_t check = 0;
    while (!atomic_load_explicit(stop, memory_order_relaxed)) {
        if (engine_poll(e) > 0) {
            e->busy_passes++;
            idle_reset(&e->idle);
        } else {
            e->idle_passes++;
            /* Idle is when a GTD expiry no command has carried gets a timer. */
            if ((e->idle_passes & 15) == 0 && matcher_next_expiry(e->m) != UINT64_MAX)
                engine_timer(e);
            idle_wait(&e->idle);
        }
        /* The clock is read every 64 passes, not every pass. */
        if ((++check & 63) == 0 && clock_mono_ns() >= e->next_housekeeping_ns)
            engine_housekeep(e);
    }
    engine_housekeep(e);
    return 0;
}
