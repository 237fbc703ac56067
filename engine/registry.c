/* registry.c - see registry.h. */
#include "registry.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

static uint64_t self_start_time(void)
{
    uint64_t st = 0;
    (void)proc_start_time(getpid(), &st); /* 0 (unknown) still identifies by pid */
    return st;
}

/* CAS FREE -> CLAIMING with our pid. acq_rel: acquire pairs with the engine's
 * release of FREE (the ring reset is visible), release orders nothing yet. */
static bool lease_take(_Atomic uint64_t *lease)
{
    uint64_t l = atomic_load_explicit(lease, memory_order_relaxed);
    if (LEASE_STATE(l) != LEASE_FREE)
        return false;
    return atomic_compare_exchange_strong_explicit(lease, &l, LEASE_MAKE(getpid(), LEASE_CLAIMING),
                                                   memory_order_acq_rel, memory_order_relaxed);
}

int registry_claim_client(shm_t *s, const char *name)
{
    for (uint32_t i = 0; i < s->geo.client_max; i++) {
        shm_client_t *c = shm_client(s, i);
        if (!lease_take(&c->lease))
            continue;
        atomic_store_explicit(&c->start_time, self_start_time(), memory_order_relaxed);
        memset(c->name, 0, sizeof(c->name));
        snprintf(c->name, sizeof(c->name), "%s", name);
        atomic_fetch_add_explicit(&c->claims, 1, memory_order_relaxed);
        /* release pairs with the engine's acquire load of the lease: it sees
         * start_time and name once it sees ACTIVE. */
        atomic_store_explicit(&c->lease, LEASE_MAKE(getpid(), LEASE_ACTIVE), memory_order_release);
        return (int)i;
    }
    return -EBUSY;
}

void registry_close_client(shm_t *s, uint32_t slot)
{
    shm_client_t *c = shm_client(s, slot);
    uint64_t l = atomic_load_explicit(&c->lease, memory_order_relaxed);
    /* release: every record we published is ordered before CLOSING, so the
     * engine's drain after it sees CLOSING misses none (pairs with its acquire). */
    if (LEASE_PID(l) == (int32_t)getpid() && LEASE_STATE(l) == LEASE_ACTIVE)
        atomic_compare_exchange_strong_explicit(&c->lease, &l, LEASE_MAKE(getpid(), LEASE_CLOSING),
                                                memory_order_release, memory_order_relaxed);
}

void registry_free_client(shm_t *s, uint32_t slot, uint64_t seen)
{
    ring_reset(shm_ring(s, slot));
    /* release pairs with the acquire CAS in registry_claim_client(): the next
     * owner sees the reset ring. */
    atomic_compare_exchange_strong_explicit(&shm_client(s, slot)->lease, &seen, LEASE_MAKE(0, LEASE_FREE),
                                            memory_order_release, memory_order_relaxed);
}

int registry_claim_reader(shm_t *s, const char *name)
{
    for (uint32_t i = 0; i < s->geo.reader_max; i++) {
        shm_reader_t *r = shm_reader(s, i);
        if (!lease_take(&r->lease))
            continue;
        atomic_store_explicit(&r->start_time, self_start_time(), memory_order_relaxed);
        memset(r->name, 0, sizeof(r->name));
        snprintf(r->name, sizeof(r->name), "%s", name);
        atomic_store_explicit(&r->laps, 0, memory_order_relaxed);
        atomic_store_explicit(&r->cursor, evlog_head(shm_evlog(s)), memory_order_relaxed);
        /* release pairs with status and gating acquire loads of the lease. */
        atomic_store_explicit(&r->lease, LEASE_MAKE(getpid(), LEASE_ACTIVE), memory_order_release);
        return (int)i;
    }
    return -EBUSY;
}

void registry_release_reader(shm_t *s, uint32_t slot)
{
    shm_reader_t *r = shm_reader(s, slot);
    uint64_t l = atomic_load_explicit(&r->lease, memory_order_relaxed);
    if (LEASE_PID(l) == (int32_t)getpid())
        atomic_compare_exchange_strong_explicit(&r->lease, &l, LEASE_MAKE(0, LEASE_FREE),
                                                memory_order_release, memory_order_relaxed);
}

bool registry_owner_dead(uint64_t lease, uint64_t start_time)
{
    if (LEASE_STATE(lease) == LEASE_FREE)
        return false;
    /* A CLAIMING lease has no start time yet: judge by pid alone. */
    return !proc_alive(LEASE_PID(lease), LEASE_STATE(lease) == LEASE_CLAIMING ? 0 : start_time);
}
