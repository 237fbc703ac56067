/* ring.h - single-producer single-consumer ring of fixed-size records in shared memory.
 *
 * The command rings (one per attached client, client -> engine) are these.
 * Contract:
 *   - exactly one producer and one consumer, in any two threads or processes;
 *   - head (records published) is written only by the producer, tail (records
 *     consumed) only by the consumer; both are free-running 64-bit counts on
 *     their own cache lines (layout.h: ring_shm_t);
 *   - each side keeps a private cached copy of the other side's index and
 *     rereads the shared one only when the ring looks full (producer) or empty
 *     (consumer), so a steady stream costs no cache-line ping-pong per record;
 *   - a side never trusts the other side's index: an index that breaks the
 *     invariant 0 <= head - tail <= capacity is reported as -EPROTO;
 *   - records are esize bytes (64, 128 or 256: the segment says which); the
 *     copying calls move esize bytes from or to the caller's buffer.
 * Nothing here allocates, locks or makes a system call. */
#ifndef BOURSE_RING_H
#define BOURSE_RING_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "layout.h"

/* One side's view of a ring; private to the process that holds it. */
typedef struct ring {
    ring_shm_t *shm;
    uint8_t *slots;
    uint64_t mask;
    uint64_t capacity;
    uint64_t pos;     /* producer: next record to write; consumer: next to read */
    uint64_t limit;   /* producer: cached tail + capacity; consumer: cached head */
    uint32_t esize;   /* bytes a record */
    uint32_t shift;   /* log2(esize) */
} ring_t;

/* Copies one record. The common sizes get constant-size copies the compiler
 * inlines as a few vector moves; the branch always goes the same way. */
static inline void ring_copy(void *dst, const void *src, uint32_t esize)
{
    if (esize == 128)
        memcpy(dst, src, 128);
    else if (esize == 64)
        memcpy(dst, src, 64);
    else
        memcpy(dst, src, esize);
}

/* Bytes a ring of capacity records of esize bytes occupies in the segment. */
static inline uint64_t ring_bytes(uint32_t capacity, uint32_t esize)
{
    return sizeof(ring_shm_t) + (uint64_t)capacity * esize;
}

/* Lays out an empty ring at shm. Creator only, before anyone attaches. */
void ring_format(ring_shm_t *shm, uint32_t capacity, uint32_t esize);

/* Resets indices to empty. Only when neither side is active (the engine does it
 * when it reclaims a slot, after draining). */
void ring_reset(ring_shm_t *shm);

/* Takes the producer or consumer side. capacity and esize are the ones the
 * caller validated from the segment header; a ring whose own descriptor
 * disagrees, or whose indices are broken, gives -EPROTO. */
int ring_attach_producer(ring_t *r, ring_shm_t *shm, uint32_t capacity, uint32_t esize);
int ring_attach_consumer(ring_t *r, ring_shm_t *shm, uint32_t capacity, uint32_t esize);

/* Records waiting in the ring as last seen by anyone (for status displays). */
static inline uint64_t ring_depth(const ring_shm_t *shm)
{
    uint64_t tail = atomic_load_explicit(&shm->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&shm->head, memory_order_relaxed);
    return head - tail;
}

/* ---------------------------------------------------------------- producer */

/* Room for at least n records? Rereads the consumer's tail only when the cache
 * says no. Returns the free count (>= 0) or -EPROTO. */
static inline int64_t ring_free(ring_t *r, uint64_t n)
{
    if (r->limit - r->pos >= n)
        return (int64_t)(r->limit - r->pos);
    /* acquire pairs with the consumer's release store of tail in
     * ring_consume(): slots below tail have been read and may be reused. */
    uint64_t tail = atomic_load_explicit(&r->shm->tail, memory_order_acquire);
    if (tail > r->pos || r->pos - tail > r->capacity)
        return -EPROTO;
    r->limit = tail + r->capacity;
    return (int64_t)(r->limit - r->pos);
}

/* Slot i (0-based) past the next unpublished one; valid after ring_free(r, i + 1) >= i + 1. */
static inline void *ring_slot_w(ring_t *r, uint64_t i)
{
    return r->slots + (((r->pos + i) & r->mask) << r->shift);
}

/* Makes n written slots visible to the consumer. */
static inline void ring_publish(ring_t *r, uint64_t n)
{
    r->pos += n;
    /* release pairs with the consumer's acquire load of head in ring_avail():
     * the record bytes are visible before the index that covers them. */
    atomic_store_explicit(&r->shm->head, r->pos, memory_order_release);
}

/* Copies one record in. Returns 0, -EAGAIN when full, -EPROTO when broken. */
static inline int ring_push(ring_t *r, const void *rec)
{
    int64_t room = ring_free(r, 1);
    if (room <= 0)
        return room == 0 ? -EAGAIN : (int)room;
    ring_copy(ring_slot_w(r, 0), rec, r->esize);
    ring_publish(r, 1);
    return 0;
}

/* Copies up to n records in, publishing them together. Returns the count
 * pushed (0 when full) or -EPROTO. */
static inline int64_t ring_push_burst(ring_t *r, const void *recs, uint64_t n)
{
    int64_t room = ring_free(r, n);
    if (room < 0)
        return room;
    if ((uint64_t)room < n)
        n = (uint64_t)room;
    for (uint64_t i = 0; i < n; i++)
        ring_copy(ring_slot_w(r, i), (const uint8_t *)recs + (i << r->shift), r->esize);
    if (n > 0)
        ring_publish(r, n);
    return (int64_t)n;
}

/* ---------------------------------------------------------------- consumer */

/* Records ready to read; rereads the producer's head only when the cache says
 * none are. Returns the count (>= 0) or -EPROTO. */
static inline int64_t ring_avail(ring_t *r)
{
    if (r->limit != r->pos)
        return (int64_t)(r->limit - r->pos);
    /* acquire pairs with the producer's release store in ring_publish(). */
    uint64_t head = atomic_load_explicit(&r->shm->head, memory_order_acquire);
    if (head < r->pos || head - r->pos > r->capacity)
        return -EPROTO;
    r->limit = head;
    return (int64_t)(head - r->pos);
}

/* Slot i past the next unread one; valid after ring_avail(r) > i. */
static inline const void *ring_slot_r(const ring_t *r, uint64_t i)
{
    return r->slots + (((r->pos + i) & r->mask) << r->shift);
}

/* Hands n read slots back to the producer. */
static inline void ring_consume(ring_t *r, uint64_t n)
{
    r->pos += n;
    /* release pairs with the producer's acquire load of tail in ring_free():
     * our reads of these slots complete before the producer may overwrite them. */
    atomic_store_explicit(&r->shm->tail, r->pos, memory_order_release);
}

/* Copies one record out. Returns 0, -EAGAIN when empty, -EPROTO when broken. */
static inline int ring_pop(ring_t *r, void *out)
{
    int64_t n = ring_avail(r);
    if (n <= 0)
        return n == 0 ? -EAGAIN : (int)n;
    ring_copy(out, ring_slot_r(r, 0), r->esize);
    ring_consume(r, 1);
    return 0;
}

/* Copies up to max records out, releasing them together. Returns the count
 * (0 when empty) or -EPROTO. */
static inline int64_t ring_pop_burst(ring_t *r, void *out, uint64_t max)
{
    int64_t n = ring_avail(r);
    if (n <= 0)
        return n;
    if ((uint64_t)n > max)
        n = (int64_t)max;
    for (int64_t i = 0; i < n; i++)
        ring_copy((uint8_t *)out + ((uint64_t)i << r->shift), ring_slot_r(r, (uint64_t)i), r->esize);
    ring_consume(r, (uint64_t)n);
    return n;
}

#endif
