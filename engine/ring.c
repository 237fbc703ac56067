/* ring.c - set-up side of ring.h; the hot path is inline in the header. */
#include "ring.h"

void ring_format(ring_shm_t *shm, uint32_t capacity, uint32_t esize)
{
    memset(shm, 0, sizeof(*shm));
    shm->capacity = capacity;
    shm->rec_size = esize;
    atomic_store_explicit(&shm->head, 0, memory_order_relaxed);
    atomic_store_explicit(&shm->tail, 0, memory_order_relaxed);
}

void ring_reset(ring_shm_t *shm)
{
    /* Nobody produces or consumes now; the lease release that makes the slot
     * claimable again publishes these stores. */
    atomic_store_explicit(&shm->head, 0, memory_order_relaxed);
    atomic_store_explicit(&shm->tail, 0, memory_order_relaxed);
}

static int ring_attach(ring_t *r, ring_shm_t *shm, uint32_t capacity, uint32_t esize)
{
    if (capacity == 0 || (capacity & (capacity - 1)) != 0 || shm->capacity != capacity ||
        esize < SHM_REC_MIN || esize > SHM_REC_MAX || (esize & (esize - 1)) != 0 || shm->rec_size != esize)
        return -EPROTO;
    r->shm = shm;
    r->slots = (uint8_t *)(shm + 1);
    r->capacity = capacity;
    r->mask = capacity - 1;
    r->esize = esize;
    r->shift = (uint32_t)__builtin_ctz(esize);
    /* acquire pairs with the other side's release stores: we start from the
     * positions it has published. */
    uint64_t head = atomic_load_explicit(&shm->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&shm->tail, memory_order_acquire);
    if (head < tail || head - tail > capacity)
        return -EPROTO;
    return 0;
}

int ring_attach_producer(ring_t *r, ring_shm_t *shm, uint32_t capacity, uint32_t esize)
{
    int rc = ring_attach(r, shm, capacity, esize);
    if (rc < 0)
        return rc;
    r->pos = atomic_load_explicit(&shm->head, memory_order_relaxed);
    r->limit = atomic_load_explicit(&shm->tail, memory_order_acquire) + capacity;
    return 0;
}

int ring_attach_consumer(ring_t *r, ring_shm_t *shm, uint32_t capacity, uint32_t esize)
{
    int rc = ring_attach(r, shm, capacity, esize);
    if (rc < 0)
        return rc;
    r->pos = atomic_load_explicit(&shm->tail, memory_order_relaxed);
    r->limit = r->pos;
    return 0;
}
