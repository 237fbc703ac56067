/* shm.h - the shared-memory segment of one engine instance: create, attach, validate.
 *
 * The engine creates /dev/shm/bourse.<instance> (and holds an exclusive lock on
 * /dev/shm/bourse.<instance>.lock while it lives); every other process attaches
 * by instance name, read-write, after the header has been validated. See
 * layout.h for the format. Set-up code only: nothing here is on a hot path. */
#ifndef BOURSE_SHM_H
#define BOURSE_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "evlog.h"
#include "layout.h"
#include "ring.h"

typedef struct shm_geometry {
    uint32_t client_max;     /* command rings, one per client */
    uint32_t ring_capacity;  /* records per command ring, power of two */
    uint32_t reader_max;     /* event-log readers that can register */
    uint32_t evlog_capacity; /* records in the event log, power of two */
    uint32_t rec_size;       /* bytes a record on rings and in the log: 64, 128 or 256;
                                0 means sizeof(rec_t), which the engine and clients use */
} shm_geometry_t;

typedef struct shm {
    uint8_t *base;
    size_t size;
    shm_header_t *hdr;
    shm_geometry_t geo;      /* validated copy: never reread from the segment */
    shm_header_t layout;     /* validated copy of the header's offsets */
    int lock_fd;             /* engine only: holds the instance lock */
    uint32_t temps_removed;  /* engine only: temporary segments of engines killed while
                                starting that shm_create() deleted */
    bool owner;
    char instance[SHM_NAME_MAX];
    char path[64];
} shm_t;

/* Checks that name is a valid instance name ([A-Za-z0-9_-], 1 to 31 bytes). */
int shm_name_check(const char *name, err_t *err);

/* Computes the region offsets and total size for a geometry into hdr (geometry
 * and offset fields only). Returns 0 or -EINVAL naming the bad value. */
int shm_layout(const shm_geometry_t *geo, shm_header_t *hdr, err_t *err);

/* Validates a segment image of size bytes: magic, layout version, geometry
 * limits, that every region lies where shm_layout() puts it and inside the
 * image. Reads only; never trusts a field before checking it. */
int shm_validate(const void *base, size_t size, err_t *err);

/* Engine side: takes the instance lock (-EBUSY if another live engine has it),
 * deletes the temporary segments of engines killed while starting, replaces a
 * stale or corrupt segment (its generation + 1), creates a new one with
 * permissions mode and marks it READY. */
int shm_create(shm_t **out, const char *instance, const shm_geometry_t *geo, unsigned mode,
               err_t *err);

/* Client side: opens, validates, and checks that the owning engine is alive
 * and READY. Errors: -ENOENT no segment, -EPROTO corrupt or other version,
 * -ESTALE owner gone or stopped, -EAGAIN engine still starting. */
int shm_attach(shm_t **out, const char *instance, err_t *err);

/* Read-only inspection for the CLI: like shm_attach but accepts a segment
 * whose engine has stopped or died (state is then reported, not refused). */
int shm_inspect(shm_t **out, const char *instance, err_t *err);

/* Unmaps. The owner marks the segment STOPPED first (clients then reattach)
 * and releases the lock; the segment file stays for inspection. */
void shm_close(shm_t *s);

/* Removes an instance's segment and lock files and the temporary segments of
 * engines killed while starting (operator clean-up, tests, benchmarks).
 * Refuses with -EBUSY while a live engine holds the instance or starts on it. */
int shm_remove(const char *instance, err_t *err);

/* True while the engine that owns the segment is alive and has it READY. */
bool shm_engine_alive(const shm_t *s);

/* Region accessors; indexes are checked by the caller against s->geo. */
static inline shm_client_t *shm_client(const shm_t *s, uint32_t i)
{
    return (shm_client_t *)(s->base + s->layout.clients_off) + i;
}

static inline shm_reader_t *shm_reader(const shm_t *s, uint32_t i)
{
    return (shm_reader_t *)(s->base + s->layout.readers_off) + i;
}

static inline ring_shm_t *shm_ring(const shm_t *s, uint32_t i)
{
    return (ring_shm_t *)(s->base + s->layout.rings_off + (uint64_t)i * s->layout.ring_stride);
}

static inline evlog_shm_t *shm_evlog(const shm_t *s)
{
    return (evlog_shm_t *)(s->base + s->layout.evlog_off);
}

static inline shm_engine_stats_t *shm_engine_stats(const shm_t *s)
{
    return (shm_engine_stats_t *)(s->base + s->layout.stats_off);
}

#endif
