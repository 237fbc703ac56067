/* matcher_prefetch.c - matcher_prefetch(): the hints that start a command's
 * cache misses before it is applied (see matcher.h). They read the matcher's
 * state but never change it, and take any bytes as a command: every field
 * from the payload is checked before it indexes anything. */
#include "matcher.h"

#include <string.h>

#include "book.h"
#include "matcher_int.h"

/* A new order's price in ticks (as applying it computes it); -1 for a price
 * no order can have. */
static inline int64_t hint_ticks(const instrument_t *in, int64_t price)
{
    return price > 0 ? divisor_exact(&in->tick_div, price) : -1;
}

/* The first maker a new order would meet (the head of the other side's touch,
 * when its price crosses it), or NULL. Reads the touch (level vectors near the
 * touch stay in cache). */
static const order_t *first_maker(const matcher_t *m, const instrument_t *in, const cmd_new_order_t *c)
{
    const book_side_t *opp = &in->side[!c->side];
    int64_t ticks = hint_ticks(in, c->price);
    if (opp->n == 0 || ticks < 0)
        return NULL;
    const level_t *best = &opp->lv[opp->n - 1];
    if (best->head >= m->cfg.max_orders ||
        (c->type != ORD_MARKET && book_beyond(c->side, best->price, ticks)))
        return NULL;
    return &m->orders[best->head];
}

/* The level of price ticks on a side, if it is where it usually is: d ticks
 * from the touch, at most d places from the end, exactly there when every
 * tick has a level. Else the nearest candidate line (or NULL: no levels). */
static const level_t *likely_level(const book_side_t *bs, int side, int64_t ticks)
{
    if (bs->n == 0)
        return NULL;
    int64_t d = book_key(side, bs->lv[bs->n - 1].price) - book_key(side, ticks);
    return &bs->lv[d <= 0 ? bs->n - 1 : (uint64_t)d < bs->n ? bs->n - 1 - (uint64_t)d : 0];
}

/* A new order: at distance 2 its balance row and account, the level it may
 * join, the free order line and its id's place, and for an IOC or FOK order
 * the first maker it would meet (the oldest order at the touch: a line nobody
 * touched for long); at 1 what filling and removing that maker touches (for a
 * limit order that crosses, the maker's line only), or else the orders its
 * resting links to (the level's and the account's last). Later makers of a
 * sweep, match() asks for itself. */
static inline __attribute__((always_inline)) void prefetch_new(const matcher_t *m, const cmd_new_order_t *c,
                                                               int distance)
{
    const instrument_t *in = &m->inst[c->instrument];
    const order_t *mk;
    if (distance == 1) {
        /* The command before may take the free list's head: this one would
         * get the next entry. */
        if (m->free_head != NIL && m->orders[m->free_head].next != NIL)
            __builtin_prefetch(&m->orders[m->orders[m->free_head].next], 1);
        if ((mk = first_maker(m, in, c)) != NULL) {
            if (c->tif != TIF_IOC && c->tif != TIF_FOK) {
                __builtin_prefetch(mk, 1); /* not asked for at 2: reading it now would stall */
                return;
            }
            if (mk->account < m->cfg.max_accounts && mk->instrument == c->instrument && mk->side == !c->side) {
                m_prefetch_neighbours(m, mk);
                __builtin_prefetch(m_bal(m, mk->account, hold_asset(in, c->side)), 1);
                __builtin_prefetch(m_bal(m, c->account, hold_asset(in, !c->side)), 1);
                __builtin_prefetch(&m->id_slot[mk->id & m->id_mask], 1);
            }
            return;
        }
        int64_t ticks = hint_ticks(in, c->price);
        const level_t *lv = ticks >= 0 ? likely_level(&in->side[c->side], c->side, ticks) : NULL;
        if (lv != NULL && lv->tail < m->cfg.max_orders)
            __builtin_prefetch(&m->orders[lv->tail], 1);
        if (m->accounts[c->account].tail < m->cfg.max_orders)
            __builtin_prefetch(&m->orders[m->accounts[c->account].tail], 1);
        return;
    }
    __builtin_prefetch(m_bal(m, c->account, hold_asset(in, c->side)), 1);
    const book_side_t *opp = &in->side[!c->side];
    if (c->tif == TIF_IOC || c->tif == TIF_FOK) {
        /* A taker: reading the touch now costs less than meeting its maker cold. */
        if ((mk = first_maker(m, in, c)) != NULL)
            __builtin_prefetch(mk, 1);
    } else if (opp->n > 0) {
        __builtin_prefetch(&opp->lv[opp->n - 1], 1);
    }
    int64_t ticks = hint_ticks(in, c->price);
    const level_t *lv = ticks >= 0 ? likely_level(&in->side[c->side], c->side, ticks) : NULL;
    if (lv != NULL)
        __builtin_prefetch(lv, 1);
    __builtin_prefetch(&m->accounts[c->account], 1);
    if (m->free_head != NIL)
        __builtin_prefetch(&m->orders[m->free_head], 1);
    /* Its id is at most two past the next one, by what the two before take:
     * its place in the id index is on the line of the last ids', or the next. */
    __builtin_prefetch(&m->id_slot[(m->next_order_id + 2) & m->id_mask], 1);
}

/* A cancel or an amend: at distance 2 the id's place in the id index, at 1
 * the order line it names. What taking the order out touches, order_cancel()
 * asks for itself. An id in the hashed overflow gets no hint. */
static inline __attribute__((always_inline)) void prefetch_target(const matcher_t *m, uint64_t id, int distance)
{
    const uint32_t *slot = &m->id_slot[id & m->id_mask];
    if (distance == 2) {
        __builtin_prefetch(slot, 0);
        return;
    }
    /* A place another order holds is harmless: its line comes in. */
    if (*slot != 0 && *slot - 1 < m->cfg.max_orders)
        __builtin_prefetch(&m->orders[*slot - 1], 1);
}

void matcher_prefetch(const matcher_t *m, uint16_t type, const void *payload, int distance)
{
    /* To the compiler a prefetch is no side effect, so a function of nothing
     * else is pure, and a call whose result is unused goes: the two stages
     * above are inlined before it can tell, and this volatile asm keeps link-
     * time optimisation from deleting the calls to this one (it did: the apply
     * loop ran 15-20% slower with no hint left). */
    __asm__ volatile("");
    if (distance != 1 && distance != 2)
        return;
    if (type == CMD_NEW_ORDER) {
        cmd_new_order_t c;
        memcpy(&c, payload, sizeof(c));
        if (c.instrument < m->cfg.max_instruments && c.account < m->cfg.max_accounts && c.side <= SIDE_SELL)
            prefetch_new(m, &c, distance);
    } else if (type == CMD_CANCEL || type == CMD_AMEND) {
        uint64_t id; /* cancel and amend both start with the order id */
        memcpy(&id, payload, sizeof(id));
        if (id != 0)
            prefetch_target(m, id, distance);
    }
}
