/* link.c - see link.h.
 *
 * A ref is (serial << 16) | slot: the slot finds the pending command in one
 * step, the serial (bumped at every use of any slot) tells a late event of a
 * timed-out command from the slot's next command. Pending slots in use are
 * also listed densely in `active`, so a pass scans only those for deadlines
 * and durable acks. */
#include "link.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "shm.h"

enum {
    LINK_POLL_BATCH = 256,
    LINK_BATCHES_PER_PASS = 8,            /* bound a pass, so the sockets get their turn */
    SLOT_BITS = 16,
};
_Static_assert(LINK_INFLIGHT_MAX < 1 << SLOT_BITS, "a slot index fits in a ref's low bits");
static const uint64_t ATTACH_BACKOFF_MIN_NS = 50000000;   /* 50 ms */
static const uint64_t ATTACH_BACKOFF_MAX_NS = 1000000000; /* 1 s */

typedef enum pend_state { P_FREE = 0, P_EVENTS, P_DURABLE } pend_state_t;

typedef struct pend {
    uint64_t ref;
    uint64_t tag;
    uint64_t deadline_ns;
    uint64_t cmd_seq;
    uint32_t active_pos;     /* index in active[] while in use */
    uint8_t state;
    bool durable;            /* complete only once durable */
} pend_t;

struct link {
    client_t *c;
    char instance[SHM_NAME_MAX];
    char name[SHM_NAME_MAX];
    link_ops_t ops;
    void *ctx;
    uint32_t max;
    pend_t *pend;
    uint32_t *free_slots, nfree;
    uint32_t *active, nactive;
    uint64_t serial;
    uint64_t next_attach_ns, backoff_ns;
    bool attach_failed_logged;
    link_stats_t st;
    rec_t batch[LINK_POLL_BATCH];
};

int link_create(link_t **out, const char *instance, const char *client_name, uint32_t max_inflight,
                const link_ops_t *ops, void *ctx)
{
    if (max_inflight == 0 || max_inflight > LINK_INFLIGHT_MAX)
        return -EINVAL;
    link_t *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    l->pend = calloc(max_inflight, sizeof(*l->pend));
    l->free_slots = calloc(max_inflight, sizeof(*l->free_slots));
    l->active = calloc(max_inflight, sizeof(*l->active));
    if (l->pend == NULL || l->free_slots == NULL || l->active == NULL) {
        link_destroy(l);
        return -ENOMEM;
    }
    snprintf(l->instance, sizeof(l->instance), "%s", instance);
    snprintf(l->name, sizeof(l->name), "%s", client_name);
    l->ops = *ops;
    l->ctx = ctx;
    l->max = max_inflight;
    for (uint32_t i = 0; i < max_inflight; i++)
        l->free_slots[i] = max_inflight - 1 - i;
    l->nfree = max_inflight;
    l->backoff_ns = ATTACH_BACKOFF_MIN_NS;
    *out = l;
    return 0;
}

static void release(link_t *l, uint32_t slot)
{
    pend_t *p = &l->pend[slot];
    uint32_t pos = p->active_pos, last = l->active[--l->nactive];
    l->active[pos] = last;
    l->pend[last].active_pos = pos;
    p->state = P_FREE;
    p->ref = 0;
    l->free_slots[l->nfree++] = slot;
}

static void finish(link_t *l, uint32_t slot, int status)
{
    pend_t *p = &l->pend[slot];
    uint64_t tag = p->tag, seq = p->cmd_seq;
    release(l, slot);
    if (status == 0)
        l->st.completed++;
    else if (status == -ETIMEDOUT)
        l->st.timeouts++;
    l->ops.on_done(l->ctx, tag, status, seq);
}

static void detach(link_t *l, uint64_t now_ns, const char *why)
{
    client_t *c = l->c;
    if (c == NULL)
        return;
    l->c = NULL; /* first: an on_done below cannot send on the dying link */
    while (l->nactive > 0)
        finish(l, l->active[l->nactive - 1], -ESTALE);
    client_detach(c);
    l->st.detaches++;
    l->backoff_ns = ATTACH_BACKOFF_MIN_NS;
    l->next_attach_ns = now_ns + l->backoff_ns;
    log_warn("engine %s: %s; detached, attaching again", l->instance, why);
    l->ops.on_detach(l->ctx, why);
}

void link_destroy(link_t *l)
{
    if (l == NULL)
        return;
    if (l->c != NULL)
        client_detach(l->c);
    free(l->pend);
    free(l->free_slots);
    free(l->active);
    free(l);
}

static void try_attach(link_t *l, uint64_t now_ns)
{
    err_t err = {0};
    int rc = client_attach(&l->c, l->instance, l->name, CLIENT_SEND | CLIENT_RECV, &err);
    if (rc < 0) {
        l->c = NULL;
        if (!l->attach_failed_logged)
            log_warn("cannot attach to engine %s (%s); retrying", l->instance, err.msg);
        l->attach_failed_logged = true;
        l->next_attach_ns = now_ns + l->backoff_ns;
        l->backoff_ns = l->backoff_ns * 2 > ATTACH_BACKOFF_MAX_NS ? ATTACH_BACKOFF_MAX_NS : l->backoff_ns * 2;
        return;
    }
    l->attach_failed_logged = false;
    l->st.attaches++;
    log_info("attached to engine %s: command ring %d, reader %d", l->instance, l->c->slot, l->c->reader);
    l->ops.on_attach(l->ctx);
}

int link_send(link_t *l, rec_t *cmd, uint64_t tag, uint64_t deadline_ns, bool wait_durable)
{
    if (l->c == NULL)
        return -ENOTCONN;
    if (l->nfree == 0) {
        l->st.busy++;
        return -EBUSY;
    }
    uint32_t slot = l->free_slots[l->nfree - 1];
    uint64_t ref = (++l->serial << SLOT_BITS) | slot;
    cmd->ref = ref;
    cmd->ts_ns = 0;
    int rc = client_send(l->c, cmd);
    if (rc == -EAGAIN) {
        l->st.busy++;
        return -EAGAIN;
    }
    if (rc == -ESTALE) {
        detach(l, clock_mono_ns(), "engine gone (command ring stalled)");
        return -ESTALE;
    }
    if (rc < 0)
        return rc;
    l->nfree--;
    pend_t *p = &l->pend[slot];
    *p = (pend_t){.ref = ref, .tag = tag, .deadline_ns = deadline_ns, .state = P_EVENTS,
                  .active_pos = l->nactive, .durable = wait_durable};
    l->active[l->nactive++] = slot;
    l->st.sent++;
    return 0;
}

static void dispatch(link_t *l, const rec_t *ev)
{
    uint32_t slot = (uint32_t)(ev->ref & ((1u << SLOT_BITS) - 1));
    bool own = ev->src == (uint16_t)l->c->slot && slot < l->max && l->pend[slot].state == P_EVENTS &&
               l->pend[slot].ref == ev->ref;
    l->ops.on_log(l->ctx, ev, own);
    if (!own)
        return;
    pend_t *p = &l->pend[slot];
    l->ops.on_event(l->ctx, p->tag, ev);
    if (!(ev->flags & REC_LAST))
        return;
    p->cmd_seq = ev->cmd_seq;
    if (p->durable && client_durable_seq(l->c) < ev->cmd_seq)
        p->state = P_DURABLE;
    else
        finish(l, slot, 0);
}

int link_poll(link_t *l, uint64_t now_ns)
{
    if (l->c == NULL) {
        if (now_ns >= l->next_attach_ns)
            try_attach(l, now_ns);
        return 0;
    }
    int work = 0;
    for (int b = 0; b < LINK_BATCHES_PER_PASS && l->c != NULL; b++) {
        int64_t n = client_poll(l->c, l->batch, LINK_POLL_BATCH);
        if (n == -EOVERFLOW) {
            uint64_t skipped = client_resync(l->c);
            l->st.laps++;
            l->ops.on_lapped(l->ctx, skipped);
            work++;
            continue;
        }
        if (n < 0) {
            detach(l, now_ns, n == -ESTALE ? "engine stopped or died" : "event log unreadable");
            return work + 1;
        }
        for (int64_t i = 0; i < n && l->c != NULL; i++)
            dispatch(l, &l->batch[i]);
        l->st.events += (uint64_t)n;
        work += (int)n;
        if (n < LINK_POLL_BATCH)
            break;
    }
    if (l->c == NULL)
        return work;
    /* deadlines and durable acks; finish() swaps the last active entry into i */
    uint64_t durable = l->nactive ? client_durable_seq(l->c) : 0;
    for (uint32_t i = 0; i < l->nactive;) {
        uint32_t slot = l->active[i];
        pend_t *p = &l->pend[slot];
        if (p->state == P_DURABLE && durable >= p->cmd_seq) {
            finish(l, slot, 0);
            work++;
        } else if (now_ns >= p->deadline_ns) {
            finish(l, slot, -ETIMEDOUT);
            work++;
        } else {
            i++;
        }
    }
    return work;
}

struct client *link_client(const link_t *l)
{
    return l->c;
}

bool link_attached(const link_t *l)
{
    return l->c != NULL;
}

uint32_t link_inflight(const link_t *l)
{
    return l->nactive;
}

uint64_t link_heartbeat_ns(const link_t *l)
{
    if (l->c == NULL)
        return 0;
    return atomic_load_explicit(&shm_engine_stats(l->c->shm)->heartbeat_ns, memory_order_relaxed);
}

uint64_t link_attach_wait_ns(const link_t *l, uint64_t now_ns)
{
    if (l->c != NULL || now_ns >= l->next_attach_ns)
        return 0;
    return l->next_attach_ns - now_ns;
}

void link_get_stats(const link_t *l, link_stats_t *out)
{
    *out = l->st;
}
