/* matcher_int.h - the matcher's private state, shared by its files:
 * matcher.c (orders and matching), matcher_admin.c (assets, instruments,
 * accounts, funds), book.h (price levels). Not for other modules. */
#ifndef BOURSE_MATCHER_INT_H
#define BOURSE_MATCHER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "matcher.h"

#define NIL UINT32_MAX

/* A resting order: one 64-byte line in a preallocated, line-aligned pool.
 * prev/next link it into its price level's FIFO; aprev/anext into its
 * account's list (mass cancel). What it holds is not stored: it is always what
 * its open quantity needs (order_need()), trimmed after every fill. A GTD
 * order's expiry lives in the side array matcher.expire. */
typedef struct order {
    uint64_t id;
    uint64_t cloid;
    int64_t price;          /* ticks */
    int64_t qty;            /* open lots */
    uint32_t account;
    uint32_t instrument;
    uint32_t prev, next;
    uint32_t aprev, anext;
    uint8_t side, tif, stp, flags;
    uint16_t maker_bps, taker_bps; /* fees fixed at entry: a tier change affects new orders */
} order_t;
_Static_assert(sizeof(order_t) == 64, "an order is one cache line");

/* A price level: FIFO of orders, kept in a per-side vector sorted so that the
 * best price is last (bids ascending, asks descending). The action is at the
 * touch, so inserts and removals there move few entries, and the best price is
 * one load. */
typedef struct level {
    int64_t price;          /* ticks */
    int64_t qty;            /* lots */
    uint32_t head, tail;
    uint32_t count;
    uint32_t pad;
} level_t;

typedef struct book_side {
    level_t *lv;
    uint32_t n;
} book_side_t;

enum inst_status { INST_NONE = 0, INST_OPEN = 1, INST_HALTED = 2 };

/* Exact division by a fixed d > 0 without a divide instruction (Granlund and
 * Montgomery): with d = odd << shift and inv the inverse of odd modulo 2^64,
 * x is a multiple of d exactly when its low shift bits are zero and
 * (x >> shift) * inv (mod 2^64) is at most UINT64_MAX / odd, and that product
 * is then x / d. Prices and quantities off the grid are refused, so the
 * quotient is needed only when the division is exact. */
typedef struct divisor {
    uint64_t inv;
    uint64_t lim;
    uint32_t shift;
} divisor_t;

static inline divisor_t divisor_of(int64_t d)
{
    uint32_t shift = (uint32_t)__builtin_ctzll((uint64_t)d);
    uint64_t odd = (uint64_t)d >> shift, inv = odd; /* right to 3 bits: odd * odd = 1 mod 8 */
    for (int i = 0; i < 5; i++)
        inv *= 2 - odd * inv; /* Newton: each step doubles the bits, 3 -> 96 */
    return (divisor_t){.inv = inv, .lim = UINT64_MAX / odd, .shift = shift};
}

/* x / d when x is a multiple of d (0 included); -1 when it is not, or negative. */
static inline int64_t divisor_exact(const divisor_t *dv, int64_t x)
{
    uint64_t u = (uint64_t)x;
    if (x < 0 || (u & ((UINT64_C(1) << dv->shift) - 1)))
        return -1;
    uint64_t q = (u >> dv->shift) * dv->inv;
    return q <= dv->lim ? (int64_t)q : -1;
}

/* What a command reads first (checks, the book) leads; the name trails. */
typedef struct instrument {
    uint8_t status;
    uint32_t base, quote;
    uint32_t band_bps;
    int64_t tick;           /* price units per tick */
    int64_t lot;            /* base minor units per lot */
    int64_t mult;           /* quote minor units per tick x lot */
    int64_t min_lots, max_lots;
    int64_t level_lots_max; /* INT64_MAX / lot: a level's total beyond it has no base-unit value */
    int64_t ref_ticks;      /* band centre: last trade, or the configured reference */
    book_side_t side[2];
    divisor_t tick_div, lot_div; /* price -> ticks and qty -> lots, exactly (m_inst_derive()) */
    char symbol[16];
} instrument_t;

typedef struct asset {
    uint8_t exists;
    uint8_t decimals;
    char name[16];
    int64_t net_deposits;
} asset_t;

typedef struct account {
    uint8_t exists;
    uint8_t tier;
    uint32_t open_orders;
    uint32_t head, tail;    /* its orders, oldest first */
} account_t;

typedef struct balance {
    int64_t avail;
    int64_t held;
} balance_t;

typedef struct fee_tier {
    int32_t maker_bps, taker_bps;
} fee_tier_t;

typedef struct gtd_entry {
    uint64_t expire_ns;
    uint64_t order_id;
} gtd_entry_t;

/* Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so probe lengths never degrade. A slot holds the order index + 1
 * (0: empty) and the key's 32-bit hash, which gives the home slot without
 * touching the order. */
typedef struct oslot {
    uint32_t idx1;
    uint32_t hash;
} oslot_t;

typedef struct ohash {
    oslot_t *slots;
    uint64_t mask;
} ohash_t;

enum { TOUCHED_MAX = 64 };

struct matcher {
    matcher_config_t cfg;
    matcher_sink_fn sink;
    void *sink_ctx;

    order_t *orders;
    uint64_t *expire;       /* [order index]: expiry of a resting GTD order; m_expire() for any order */
    uint32_t free_head;     /* free list through order.next */
    uint32_t resting;
    /* Order id -> pool index. Ids are handed out in sequence, so most live
     * orders sit in id_slot at their id's place (id & id_mask): recent orders'
     * entries are neighbours, a few lines and pages (a hashed table scattered
     * them: a TLB and cache miss a lookup). An id whose place a live order of
     * an earlier lap still holds goes to the hashed table by_id instead
     * (id_spilled counts them), so no pattern of survivors makes a lookup
     * walk: the worst case is the hashed table's. */
    uint32_t *id_slot;      /* pool index + 1, or 0 */
    uint64_t id_mask;
    ohash_t by_id;
    uint32_t id_spilled;
    ohash_t by_cloid;

    instrument_t *inst;
    level_t *levels;        /* every side's vector: [instrument * 2 + side][max_levels] */
    asset_t *assets;
    account_t *accounts;
    balance_t *bal;         /* [asset * max_accounts + account]: see m_bal_index() */
    fee_tier_t tiers[MATCHER_FEE_TIERS];

    gtd_entry_t *gtd;       /* min-heap on expire_ns; entries of gone orders are dropped lazily */
    uint32_t ngtd;

    uint64_t next_order_id;
    uint64_t next_trade_id;

    /* The command being applied: its events carry these. */
    uint64_t cur_seq, cur_ts;
    uint16_t cur_src;

    /* Balances changed by the current command: one EVT_BALANCE each at its end. */
    uint64_t touched[TOUCHED_MAX];  /* account << 32 | asset, in the order first touched */
    uint32_t ntouched;

    /* The current command's events not yet handed to the sink. */
    mevt_t evbuf[MATCHER_EVENT_BATCH];
    uint32_t nev;

    matcher_stats_t stats;
    uint64_t mem_bytes;
};

/* A resting order's expiry (ns), 0 for one that is not GTD. Only GTD orders
 * write m->expire: the slot of a recycled pool index is a cold line (its last
 * owner is long gone), and a store miss on every new order held the store
 * queue up. Code that holds an order known to be GTD (found through a GTD
 * heap entry's id) reads the array directly. */
static inline uint64_t m_expire(const matcher_t *m, uint32_t oi)
{
    return m->orders[oi].tif == TIF_GTD ? m->expire[oi] : 0;
}

/* ---- shared helpers (matcher.c) */

/* Hands a full batch to the sink: more events of the command follow. */
void m_spill(matcher_t *m);

/* The current command's next event: header filled and the payload's bytes
 * from len on zeroed (events are compared and journaled whole). The caller
 * writes the first len bytes in place: a whole evt_*_t assigned from a
 * compound literal covers every byte of it, the explicit pad fields included.
 * Inlined with a constant len, the zeroing is a few vector stores. */
static inline mevt_t *m_event(matcher_t *m, uint16_t type, uint32_t len)
{
    if (__builtin_expect(m->nev == MATCHER_EVENT_BATCH, 0))
        m_spill(m);
    mevt_t *ev = &m->evbuf[m->nev++];
    ev->cmd_seq = m->cur_seq;
    ev->ts_ns = m->cur_ts;
    ev->type = type;
    ev->src = m->cur_src;
    ev->len = len;
    memset(ev->u.raw + len, 0, sizeof(ev->u.raw) - len);
    return ev;
}

/* An event whose payload is copied from elsewhere (admin and query answers). */
void m_emit(matcher_t *m, uint16_t type, const void *payload, uint32_t len);
void m_reject(matcher_t *m, uint16_t cmd_type, uint32_t account, uint64_t cloid, uint64_t order_id,
              uint16_t reason);
void m_touch(matcher_t *m, uint32_t account, uint32_t asset);
void m_flush_balances(matcher_t *m);
/* A free pool slot (the caller checked there is one). */
uint32_t m_order_alloc(matcher_t *m);
/* Enters a pool order into the id and client-id hashes, its account's list
 * (at the end) and the GTD heap. */
void m_order_index(matcher_t *m, uint32_t oi);
/* What an order's open quantity holds: quote for a buy (price x qty + fee at
 * max(maker, taker)), base for a sell; -1 on overflow. */
int64_t m_order_need(const instrument_t *in, const order_t *o);

/* What an instrument derives from its tick and lot (both > 0), at its
 * definition and at a snapshot load. */
static inline void m_inst_derive(instrument_t *in)
{
    in->tick_div = divisor_of(in->tick);
    in->lot_div = divisor_of(in->lot);
    in->level_lots_max = INT64_MAX / in->lot;
}

/* Balance rows by asset, then account: every account's row of one asset sit
 * together. Most orders hold or receive the few quote assets, so those rows
 * stay a dense, cached block; by account, each row of them was a line and a
 * page of its own. */
static inline uint64_t m_bal_index(const matcher_t *m, uint32_t account, uint32_t asset)
{
    return (uint64_t)asset * m->cfg.max_accounts + account;
}

static inline balance_t *m_bal(const matcher_t *m, uint32_t account, uint32_t asset)
{
    return &m->bal[m_bal_index(m, account, asset)];
}

/* The asset an order of side holds: quote for a buy, base for a sell. */
static inline uint32_t hold_asset(const instrument_t *in, int side)
{
    return side == SIDE_BUY ? in->quote : in->base;
}

/* An order leaving the book touches its FIFO and account-list neighbours and
 * its balance row: lines that are cold when the order is old. Asking for all
 * of them at once overlaps their misses instead of taking them one by one. */
/* always_inline: a function of prefetches alone is pure to the compiler (a
 * prefetch is no side effect), and a call to it, out of line, is deleted. */
static inline __attribute__((always_inline)) void m_prefetch_neighbours(const matcher_t *m, const order_t *o)
{
    if (o->prev != NIL)
        __builtin_prefetch(&m->orders[o->prev], 1);
    if (o->next != NIL)
        __builtin_prefetch(&m->orders[o->next], 1);
    if (o->aprev != NIL)
        __builtin_prefetch(&m->orders[o->aprev], 1);
    if (o->anext != NIL)
        __builtin_prefetch(&m->orders[o->anext], 1);
    __builtin_prefetch(m_bal(m, o->account, hold_asset(&m->inst[o->instrument], o->side)), 1);
    __builtin_prefetch(&m->accounts[o->account], 1);
}

/* floor(notional * bps / 10000) without overflowing for any int64 notional >= 0. */
static inline int64_t m_fee(int64_t notional, int32_t bps)
{
    return notional / 10000 * bps + notional % 10000 * bps / 10000;
}

/* ---- order lookup */

static inline uint32_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return (uint32_t)x;
}

/* 2^64 / the golden ratio: consecutive multiples of it spread as evenly as
 * any sequence can (Fibonacci hashing). */
#define GOLDEN64 UINT64_C(0x9e3779b97f4a7c15)

/* The hash of the id index's overflow (by_id), for ids whose place in id_slot
 * was taken. Ids are handed out in sequence: eight consecutive ids share a
 * line of the table (the low three bits are kept, the rest is spread), and
 * the matcher picks ids, not clients, so one multiplication spreads the
 * groups. A full mixer placed them at random: groups collided into probe runs
 * across lines. */
static inline uint32_t hash_id(uint64_t id)
{
    return ((uint32_t)(((id >> 3) * GOLDEN64) >> 32) & ~UINT32_C(7)) | (uint32_t)(id & 7);
}

static inline uint32_t hash_cloid(uint32_t account, uint64_t cloid)
{
    return mix64(cloid ^ ((uint64_t)account * GOLDEN64));
}

static inline uint32_t find_id(const matcher_t *m, uint64_t id)
{
    uint32_t v = m->id_slot[id & m->id_mask];
    if (v != 0 && m->orders[v - 1].id == id)
        return v - 1;
    if (m->id_spilled == 0)
        return NIL;
    uint32_t h = hash_id(id);
    for (uint64_t i = h & m->by_id.mask;; i = (i + 1) & m->by_id.mask) {
        oslot_t s = m->by_id.slots[i];
        if (s.idx1 == 0)
            return NIL;
        if (s.hash == h && m->orders[s.idx1 - 1].id == id)
            return s.idx1 - 1;
    }
}

static inline uint32_t find_cloid(const matcher_t *m, uint32_t account, uint64_t cloid)
{
    uint32_t h = hash_cloid(account, cloid);
    for (uint64_t i = h & m->by_cloid.mask;; i = (i + 1) & m->by_cloid.mask) {
        oslot_t s = m->by_cloid.slots[i];
        if (s.idx1 == 0)
            return NIL;
        const order_t *o = &m->orders[s.idx1 - 1];
        if (s.hash == h && o->cloid == cloid && o->account == account)
            return s.idx1 - 1;
    }
}

/* The order a cancel or amend names, owned by account; NIL if none. */
static inline uint32_t m_target(const matcher_t *m, uint32_t account, uint64_t order_id, uint64_t cloid)
{
    uint32_t oi = order_id != 0 ? find_id(m, order_id) : cloid != 0 ? find_cloid(m, account, cloid) : NIL;
    if (oi != NIL && m->orders[oi].account != account)
        return NIL; /* another account's order: as if it did not exist */
    return oi;
}

/* ---- admin commands (matcher_admin.c) */
void m_admin(matcher_t *m, const mcmd_t *cmd);

/* ---- queries (matcher_query.c) */
void m_query(matcher_t *m, const mcmd_t *cmd);

#endif
