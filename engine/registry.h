/* registry.h - who holds which command ring and event-log cursor.
 *
 * Slots live in the segment's client and reader registries (layout.h). A
 * process claims one with a CAS on its lease word, which carries its pid; its
 * start time follows before the lease turns ACTIVE. Only the engine frees a
 * client slot (after draining its ring), so the ring is never reset under a
 * producer; a reader frees its own slot, and the engine frees those of dead
 * readers. Set-up and housekeeping code: not on the hot path. */
#ifndef BOURSE_REGISTRY_H
#define BOURSE_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "shm.h"

/* Claims a free client slot (and so its command ring) for the calling process.
 * Returns the slot index, or -EBUSY when every slot is taken. */
int registry_claim_client(shm_t *s, const char *name);

/* The owner is done with its ring: the engine drains what is left, then frees it. */
void registry_close_client(shm_t *s, uint32_t slot);

/* Gives a client slot back: resets its ring and frees the lease, if the lease
 * still reads `seen` (a CAS: a lease that changed meanwhile is left alone).
 * Only the ring's consumer may call it, once the producer has closed (CLOSING)
 * or died and everything it published has been consumed or discarded. */
void registry_free_client(shm_t *s, uint32_t slot, uint64_t seen);

/* Claims a free event-log reader slot. Returns its index or -EBUSY. */
int registry_claim_reader(shm_t *s, const char *name);

/* Frees a reader slot held by the calling process. */
void registry_release_reader(shm_t *s, uint32_t slot);

/* True when the lease names a process that no longer exists (dead, or its pid
 * reused by another process). start_time is the slot's recorded start time. */
bool registry_owner_dead(uint64_t lease, uint64_t start_time);

#endif
