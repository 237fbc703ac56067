/* replica.h - bourse-ws's copy of one instrument's L2 book: price levels
 * (total quantity and order count) per side, built from a CMD_QUERY_BOOK
 * answer and kept current with the EVT_BOOK deltas of later commands, as
 * tests/engine/test_matcher_query.c does. A level with quantity 0 is gone.
 *
 * Each side is an array sorted so that the best price is last: most changes
 * happen near the touch, so an insert or delete moves few entries. The
 * array grows as needed (a replica is not on the engine's hot path, and the
 * matcher's own max_levels bounds it). Not thread-safe. */
#ifndef BOURSE_REPLICA_H
#define BOURSE_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

typedef struct replica_level {
    int64_t price;
    int64_t qty;
    uint32_t orders;
} replica_level_t;

typedef struct replica_side {
    replica_level_t *lv;     /* worst first, best last */
    uint32_t n, cap;
} replica_side_t;

typedef struct replica {
    replica_side_t side[2];  /* SIDE_BUY, SIDE_SELL */
    uint64_t cmd_seq;        /* the snapshot's command: deltas of later ones apply */
    bool ready;              /* built from a snapshot and current */
} replica_t;

void replica_init(replica_t *r);
void replica_free(replica_t *r);
/* Empties both sides and marks it not ready (keeps the memory). */
void replica_clear(replica_t *r);

/* Sets a level (qty 0 removes it). side is 0 (buy) or 1 (sell); others are
 * ignored. Returns 0, -EINVAL or -ENOMEM. */
int replica_set(replica_t *r, unsigned side, int64_t price, int64_t qty, uint32_t orders);

/* The level at price on a side; NULL when there is none. */
const replica_level_t *replica_get(const replica_t *r, unsigned side, int64_t price);

/* The i-th best level of a side (0: best), or NULL past the end. */
static inline const replica_level_t *replica_level(const replica_t *r, unsigned side, uint32_t i)
{
    const replica_side_t *s = &r->side[side];
    return i < s->n ? &s->lv[s->n - 1 - i] : (const replica_level_t *)0;
}

static inline uint32_t replica_depth(const replica_t *r, unsigned side)
{
    return r->side[side].n;
}

#endif
