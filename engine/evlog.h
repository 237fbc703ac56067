/* evlog.h - the event log: one writer (the engine), any number of readers.
 *
 * A ring of fixed-size slots (the segment's record size: 64, 128 or 256 bytes) that the writer fills in order and never waits on:
 * readers keep their own cursors and a reader that falls a whole lap behind
 * finds out (-EOVERFLOW) instead of reading a newer record as an older one.
 *
 * Each slot's first word is its stamp, a small seqlock:
 *   pos + 1                 the slot holds the record at log position pos;
 *   (pos + 1) | EVLOG_BUSY  the writer is overwriting it with position pos;
 *   0                       never written.
 * The writer marks the slot busy, writes the body, then stores the final stamp
 * with release. A reader loads the stamp with acquire, copies the body, and
 * checks the stamp again: a changed stamp means the writer lapped it mid-copy.
 * Bodies are moved with atomic word accesses so that a racing copy is defined
 * behaviour (and clean under TSan).
 *
 * Writer side: engine thread only. Reader side: one evlog_reader_t per thread.
 * Nothing here allocates, locks or makes a system call. */
#ifndef BOURSE_EVLOG_H
#define BOURSE_EVLOG_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "layout.h"

#define EVLOG_BUSY (UINT64_C(1) << 63)
#define EVLOG_WORDS_MAX (SHM_REC_MAX / 8)

typedef struct evlog_writer {
    evlog_shm_t *shm;
    _Atomic uint64_t *slots;
    uint64_t mask;
    uint64_t pos;       /* next position to write */
    uint32_t words;     /* 8-byte words a record */
    uint32_t shift;     /* log2(words) */
} evlog_writer_t;

typedef struct evlog_reader {
    evlog_shm_t *shm;
    const _Atomic uint64_t *slots;
    uint64_t mask;
    uint64_t capacity;
    uint64_t pos;       /* next position to read */
    shm_reader_t *reg;  /* where the cursor is published, or NULL */
    uint32_t words;
    uint32_t shift;
} evlog_reader_t;

/* Bytes a log of capacity records of esize bytes occupies in the segment. */
static inline uint64_t evlog_bytes(uint32_t capacity, uint32_t esize)
{
    return sizeof(evlog_shm_t) + (uint64_t)capacity * esize;
}

/* Lays out an empty log. Creator only, before anyone attaches. */
void evlog_format(evlog_shm_t *shm, uint32_t capacity, uint32_t esize);

/* Writer side, starting at the log's published head. -EPROTO on a capacity or
 * record size that disagrees with the validated header. */
int evlog_writer_init(evlog_writer_t *w, evlog_shm_t *shm, uint32_t capacity, uint32_t esize);

/* Reader side, starting at the writer's current head (new events only).
 * reg, if not NULL, is the registry slot where the cursor is published (by
 * evlog_read_burst() and evlog_resync(); evlog_read() alone does not). */
int evlog_reader_init(evlog_reader_t *r, evlog_shm_t *shm, uint32_t capacity, uint32_t esize,
                      shm_reader_t *reg);

/* The writer's published head (advanced by evlog_flush()): positions below it
 * have been written. */
static inline uint64_t evlog_head(const evlog_shm_t *shm)
{
    /* acquire pairs with the release store in evlog_flush(). */
    return atomic_load_explicit(&shm->head, memory_order_acquire);
}

/* ---------------------------------------------------------------- writer */

/* Writes rec at the next position (rec->seq is replaced by that position) and
 * returns the position. Readers may see it at once; evlog_flush() advances the
 * published head, which only status displays and resyncing readers use. */
static inline uint64_t evlog_append(evlog_writer_t *w, const void *rec)
{
    uint64_t pos = w->pos++;
    _Atomic uint64_t *s = w->slots + ((pos & w->mask) << w->shift);
    const uint8_t *src = rec;
    atomic_store_explicit(&s[0], (pos + 1) | EVLOG_BUSY, memory_order_relaxed);
    /* Body stores are release: each one orders the busy stamp before it, so a
     * reader whose acquire load of any body word sees new data also sees the
     * stamp change when it rereads it. (Per-word release/acquire instead of
     * fences: the same plain moves on x86, and visible to ThreadSanitizer.) */
    for (unsigned i = 1; i < w->words; i++) {
        uint64_t v;
        memcpy(&v, src + 8 * i, 8);
        atomic_store_explicit(&s[i], v, memory_order_release);
    }
    /* release pairs with the reader's acquire load of the stamp: the body is
     * visible before the stamp that declares it. */
    atomic_store_explicit(&s[0], pos + 1, memory_order_release);
    return pos;
}

/* Publishes the writer's position as the head. */
static inline void evlog_flush(evlog_writer_t *w)
{
    /* release pairs with the acquire load in evlog_head(). */
    atomic_store_explicit(&w->shm->head, w->pos, memory_order_release);
}

/* ---------------------------------------------------------------- reader */

/* Reads the record at the cursor into out (out->seq = its position) and moves
 * the cursor on. Returns 1 when a record was read, 0 when the writer has not
 * reached the cursor yet, -EOVERFLOW when the cursor has been lapped (the
 * record is gone; the cursor stays put until evlog_resync()). */
static inline int evlog_read(evlog_reader_t *r, void *out)
{
    const _Atomic uint64_t *s = r->slots + ((r->pos & r->mask) << r->shift);
    uint64_t want = r->pos + 1;
    /* acquire pairs with the writer's release store of the final stamp. */
    uint64_t stamp = atomic_load_explicit(&s[0], memory_order_acquire);
    if (stamp != want) {
        uint64_t at = stamp & ~EVLOG_BUSY;
        return at > want ? -EOVERFLOW : 0; /* newer lap, or not written yet */
    }
    uint64_t words[EVLOG_WORDS_MAX];
    /* acquire on each body word pairs with the writer's release body stores:
     * if any word came from an overwrite, the stamp reload below (which cannot
     * move above these loads) sees its busy stamp. */
    for (unsigned i = 1; i < r->words; i++)
        words[i] = atomic_load_explicit(&s[i], memory_order_acquire);
    if (atomic_load_explicit(&s[0], memory_order_relaxed) != want)
        return -EOVERFLOW;
    words[0] = r->pos;
    memcpy(out, words, (size_t)r->words * 8);
    r->pos++;
    return 1;
}

/* Reads up to max records. Returns the count (>= 0), or -EOVERFLOW when the
 * cursor was lapped before anything could be read. Publishes the cursor. */
static inline int64_t evlog_read_burst(evlog_reader_t *r, void *out, uint64_t max)
{
    uint64_t n = 0;
    int rc = 0;
    while (n < max && (rc = evlog_read(r, (uint8_t *)out + (n << (r->shift + 3)))) == 1)
        n++;
    /* release pairs with the acquire load in evlog_min_cursor(): a gating
     * writer overwrites these slots only after our copies of them are done. */
    if (n > 0 && r->reg != NULL)
        atomic_store_explicit(&r->reg->cursor, r->pos, memory_order_release);
    if (n == 0 && rc < 0)
        return rc;
    return (int64_t)n;
}

/* After -EOVERFLOW: counts the lap and moves the cursor to the writer's head,
 * skipping what was lost (the caller resynchronises its state from a snapshot).
 * Returns the number of positions skipped. */
uint64_t evlog_resync(evlog_reader_t *r);

/* Smallest cursor among active registered readers, or the writer's position
 * when there are none. For writers that must not lap anyone (gating). */
uint64_t evlog_min_cursor(const shm_reader_t *readers, uint32_t n, uint64_t none);

#endif
