/* book.h - one side of an order book: price levels in a vector sorted so that
 * the best price is last, each level a FIFO of orders in the matcher's pool.
 * Private to the matcher (matcher.c, matcher_admin.c); hot path, all inline. */
#ifndef BOURSE_BOOK_H
#define BOURSE_BOOK_H

#include <string.h>

#include "matcher_int.h"

/* Bids ascend and asks descend in the vector: ordering by this key makes both
 * ascend, best last. Sides come in at random, so the side is a mask, not a
 * branch the predictor would miss half the time. */
static inline int64_t book_key(int side, int64_t price)
{
    int64_t neg = -(int64_t)(side & 1); /* 0 for a buy, all ones for a sell */
    return (price ^ neg) - neg;
}

/* Whether a level at price lies beyond the limit of an order on side: worse
 * for it than its limit (higher for a buy, lower for a sell). */
static inline int book_beyond(int side, int64_t price, int64_t limit)
{
    return book_key(side, price) > book_key(side, limit);
}

static inline level_t *book_best(book_side_t *bs)
{
    return bs->n ? &bs->lv[bs->n - 1] : NULL;
}

/* Index of the level at price, or -1; *pos gets where it would be inserted.
 * Most lookups are at or near the touch: look there before searching. */
static inline int64_t book_find(const book_side_t *bs, int side, int64_t price, uint32_t *pos)
{
    int64_t k = book_key(side, price);
    uint32_t lo = 0, hi = bs->n;
    if (hi > 0) {
        int64_t top = book_key(side, bs->lv[hi - 1].price);
        if (k > top) {
            *pos = hi;
            return -1;
        }
        if (k == top) {
            *pos = hi - 1;
            return hi - 1;
        }
        hi--;
        /* Levels sit on distinct ticks, so the one d ticks from the touch is
         * at most d places from the end, and every level below that place is
         * further than d. Near the touch every tick usually has a level:
         * then it is exactly there, and one probe finds it. */
        uint64_t d = (uint64_t)(top - k);
        if (d < hi)
            lo = hi - (uint32_t)d;
        /* Else a few ticks are empty (far from the touch, where orders are
         * few): it is a few places up, in the lines next to this one. */
        for (uint32_t end = lo + 8 < hi ? lo + 8 : hi; lo < end; lo++) {
            int64_t key = book_key(side, bs->lv[lo].price);
            if (key >= k) {
                *pos = lo;
                return key == k ? (int64_t)lo : -1;
            }
        }
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (book_key(side, bs->lv[mid].price) < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    if (lo < bs->n && bs->lv[lo].price == price)
        return lo;
    return -1;
}

/* Opens an empty level at pos (from book_find). The caller checked capacity. */
static inline level_t *book_insert(book_side_t *bs, uint32_t pos, int64_t price)
{
    memmove(&bs->lv[pos + 1], &bs->lv[pos], (size_t)(bs->n - pos) * sizeof(level_t));
    bs->n++;
    level_t *lv = &bs->lv[pos];
    lv->price = price;
    lv->qty = 0;
    lv->head = lv->tail = NIL;
    lv->count = 0;
    lv->pad = 0;
    return lv;
}

static inline void book_remove(book_side_t *bs, uint32_t pos)
{
    memmove(&bs->lv[pos], &bs->lv[pos + 1], (size_t)(bs->n - pos - 1) * sizeof(level_t));
    bs->n--;
}

/* Appends order oi (already holding its qty) to the level's FIFO. */
static inline void book_push(order_t *orders, level_t *lv, uint32_t oi)
{
    order_t *o = &orders[oi];
    o->prev = lv->tail;
    o->next = NIL;
    if (lv->tail != NIL)
        orders[lv->tail].next = oi;
    else
        lv->head = oi;
    lv->tail = oi;
    lv->qty += o->qty;
    lv->count++;
}

/* Unlinks order oi from the level's FIFO and takes its qty off the level. */
static inline void book_unlink(order_t *orders, level_t *lv, uint32_t oi)
{
    order_t *o = &orders[oi];
    if (o->prev != NIL)
        orders[o->prev].next = o->next;
    else
        lv->head = o->next;
    if (o->next != NIL)
        orders[o->next].prev = o->prev;
    else
        lv->tail = o->prev;
    lv->qty -= o->qty;
    lv->count--;
}

#endif
