/* evlog.c - set-up side of evlog.h; the hot path is inline in the header. */
#include "evlog.h"

void evlog_format(evlog_shm_t *shm, uint32_t capacity, uint32_t esize)
{
    memset(shm, 0, sizeof(*shm));
    shm->capacity = capacity;
    shm->rec_size = esize;
    _Atomic uint64_t *words = (_Atomic uint64_t *)(shm + 1);
    for (uint64_t i = 0; i < (uint64_t)capacity * (esize / 8); i++)
        atomic_store_explicit(&words[i], 0, memory_order_relaxed);
    atomic_store_explicit(&shm->head, 0, memory_order_relaxed);
}

static int evlog_check(const evlog_shm_t *shm, uint32_t capacity, uint32_t esize)
{
    if (capacity == 0 || (capacity & (capacity - 1)) != 0 || shm->capacity != capacity ||
        esize < SHM_REC_MIN || esize > SHM_REC_MAX || (esize & (esize - 1)) != 0 || shm->rec_size != esize)
        return -EPROTO;
    return 0;
}

int evlog_writer_init(evlog_writer_t *w, evlog_shm_t *shm, uint32_t capacity, uint32_t esize)
{
    int rc = evlog_check(shm, capacity, esize);
    if (rc < 0)
        return rc;
    w->shm = shm;
    w->slots = (_Atomic uint64_t *)(shm + 1);
    w->mask = capacity - 1;
    w->words = esize / 8;
    w->shift = (uint32_t)__builtin_ctz(esize / 8);
    w->pos = evlog_head(shm);
    return 0;
}

int evlog_reader_init(evlog_reader_t *r, evlog_shm_t *shm, uint32_t capacity, uint32_t esize,
                      shm_reader_t *reg)
{
    int rc = evlog_check(shm, capacity, esize);
    if (rc < 0)
        return rc;
    r->shm = shm;
    r->slots = (const _Atomic uint64_t *)(shm + 1);
    r->mask = capacity - 1;
    r->capacity = capacity;
    r->words = esize / 8;
    r->shift = (uint32_t)__builtin_ctz(esize / 8);
    r->pos = evlog_head(shm);
    r->reg = reg;
    if (reg != NULL)
        atomic_store_explicit(&reg->cursor, r->pos, memory_order_relaxed);
    return 0;
}

uint64_t evlog_resync(evlog_reader_t *r)
{
    uint64_t head = evlog_head(r->shm);
    uint64_t skipped = head > r->pos ? head - r->pos : 0;
    r->pos = head > r->pos ? head : r->pos;
    if (r->reg != NULL) {
        atomic_fetch_add_explicit(&r->reg->laps, 1, memory_order_relaxed);
        atomic_store_explicit(&r->reg->cursor, r->pos, memory_order_relaxed);
    }
    return skipped;
}

uint64_t evlog_min_cursor(const shm_reader_t *readers, uint32_t n, uint64_t none)
{
    uint64_t min = none;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t lease = atomic_load_explicit(&readers[i].lease, memory_order_acquire);
        if (LEASE_STATE(lease) != LEASE_ACTIVE)
            continue;
        uint64_t c = atomic_load_explicit(&readers[i].cursor, memory_order_acquire);
        if (c < min)
            min = c;
    }
    return min;
}
