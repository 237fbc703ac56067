/* ring.c - set-up side of ring.h; the hot path is inline in the header. */
#include "ring.h"

void ring_format(ring_shm_t *shm, uint32_t capacity)
{
    memset(shm, 0, sizeof(*shm));
    shm->capacity = capacity;
    shm->rec_size = sizeof(rec_t);
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

static int ring_attach(ring_t *r, ring_shm_t *shm, uint32_t capacity)
{
    if (capacity == 0 || (capacity & (capacity - 1)) != 0 || shm->capacity != capacity ||
        shm->rec_size != sizeof(rec_t))
        return -EPROTO;
    r->shm = shm;
    r->slots = (rec_t *)(shm + 1);
    r->capacity = capacity;
    r->mask = capacity - 1;
    /* acquire pairs with the other side's release stores: we start from the
     * positions it has published. */
    uint64_t head = atomic_load_explicit(&shm->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&shm->tail, memory_order_acquire);
    if (head < tail || head - tail > capacity)
        return -EPROTO;
    return 0;
}

int ring_attach_producer(ring_t *r, ring_shm_t *shm, uint32_t capacity)
{
    int rc = ring_attach(r, shm, capacity);
    if (rc < 0)
        return rc;
    r->pos = atomic_load_explicit(&shm->head, memory_order_relaxed);
    r->limit = atomic_load_explicit(&shm->tail, memory_order_acquire) + capacity;
    return 0;
}

int ring_attach_consumer(ring_t *r, ring_shm_t *shm, uint32_t capacity)
{
    int rc = ring_attach(r, shm, capacity);
    if (rc < 0)
        return rc;
    r->pos = atomic_load_explicit(&shm->tail, memory_order_relaxed);
    r->limit = r->pos;
    return 0;
}
