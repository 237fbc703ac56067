/* client.c - see client.h. */
#include "client.h"

#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "registry.h"

int client_attach(client_t **out, const char *instance, const char *name, unsigned flags,
                  err_t *err)
{
    client_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    c->slot = -1;
    c->reader = -1;
    int rc = shm_attach(&c->shm, instance, err);
    if (rc < 0) {
        free(c);
        return rc;
    }
    if (flags & CLIENT_SEND) {
        c->slot = registry_claim_client(c->shm, name);
        if (c->slot < 0) {
            rc = err_set(err, -EBUSY, "instance '%s': all %u command rings are taken", instance,
                         c->shm->geo.client_max);
            goto fail;
        }
        rc = ring_attach_producer(&c->ring, shm_ring(c->shm, (uint32_t)c->slot),
                                  c->shm->geo.ring_capacity, c->shm->geo.rec_size);
        if (rc < 0) {
            err_set(err, rc, "instance '%s': command ring %d is corrupt", instance, c->slot);
            goto fail;
        }
        c->sent = c->ring.pos;
    }
    if (flags & CLIENT_RECV) {
        c->reader = registry_claim_reader(c->shm, name);
        if (c->reader < 0) {
            rc = err_set(err, -EBUSY, "instance '%s': all %u event-log readers are taken", instance,
                         c->shm->geo.reader_max);
            goto fail;
        }
        rc = evlog_reader_init(&c->log, shm_evlog(c->shm), c->shm->geo.evlog_capacity,
                               c->shm->geo.rec_size, shm_reader(c->shm, (uint32_t)c->reader));
        if (rc < 0) {
            err_set(err, rc, "instance '%s': event log is corrupt", instance);
            goto fail;
        }
    }
    *out = c;
    return 0;
fail:
    client_detach(c);
    return rc;
}

void client_detach(client_t *c)
{
    if (c == NULL)
        return;
    if (c->slot >= 0)
        registry_close_client(c->shm, (uint32_t)c->slot);
    if (c->reader >= 0)
        registry_release_reader(c->shm, (uint32_t)c->reader);
    shm_close(c->shm);
    free(c);
}

/* True when the engine is gone. The liveness check reads /proc, so it runs at
 * most every CLIENT_CHECK_NS, and only on paths that found nothing to do. */
static bool client_engine_gone(client_t *c)
{
    if (atomic_load_explicit(&c->shm->hdr->state, memory_order_acquire) != SHM_STATE_READY)
        return true;
    uint64_t now = clock_mono_ns();
    if (now - c->checked_ns < CLIENT_CHECK_NS)
        return false;
    c->checked_ns = now;
    return !shm_engine_alive(c->shm);
}

int client_send(client_t *c, rec_t *cmd)
{
    if (c->slot < 0)
        return -EBADF;
    if (c->ring.esize != sizeof(rec_t))
        return -EPROTO; /* a segment of other-sized records: raw ring access only */
    cmd->seq = c->sent;
    cmd->src = (uint16_t)c->slot;
    if (cmd->ts_ns == 0)
        cmd->ts_ns = clock_realtime_ns();
    int rc = ring_push(&c->ring, cmd);
    if (rc == 0)
        c->sent++;
    else if (rc == -EAGAIN && client_engine_gone(c))
        rc = -ESTALE;
    return rc;
}

bool client_engine_alive(const client_t *c)
{
    return shm_engine_alive(c->shm);
}

uint64_t client_durable_seq(const client_t *c)
{
    /* acquire pairs with the engine's release store of durable_seq. */
    return atomic_load_explicit(&shm_engine_stats(c->shm)->durable_seq, memory_order_acquire);
}

int client_wait_durable(client_t *c, uint64_t seq, uint64_t deadline_ns, idle_t *idle)
{
    for (;;) {
        if (client_durable_seq(c) >= seq)
            return 0;
        /* A clean stop publishes what its last group commit made durable
         * before it marks the segment stopped: look once more after that. */
        if (client_engine_gone(c))
            return client_durable_seq(c) >= seq ? 0 : -ESTALE;
        if (clock_mono_ns() >= deadline_ns)
            return -ETIMEDOUT;
        idle_wait(idle);
    }
}

int64_t client_poll(client_t *c, rec_t *out, uint64_t max)
{
    if (c->reader < 0)
        return -EBADF;
    if (c->log.words * 8 != sizeof(rec_t))
        return -EPROTO;
    int64_t n = evlog_read_burst(&c->log, out, max);
    if (n == 0 && client_engine_gone(c))
        return -ESTALE;
    return n;
}

uint64_t client_resync(client_t *c)
{
    return evlog_resync(&c->log);
}
