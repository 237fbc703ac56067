/* replica.c - see replica.h. */
#include "replica.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { REPLICA_INITIAL = 64 };

void replica_init(replica_t *r)
{
    memset(r, 0, sizeof(*r));
}

void replica_free(replica_t *r)
{
    free(r->side[0].lv);
    free(r->side[1].lv);
    replica_init(r);
}

void replica_clear(replica_t *r)
{
    r->side[0].n = r->side[1].n = 0;
    r->cmd_seq = 0;
    r->ready = false;
}

/* "Better than" for a side: bids higher, asks lower. The array is sorted
 * worst to best, i.e. ascending for bids and descending for asks. */
static inline bool before(unsigned side, int64_t a, int64_t b)
{
    return side == 0 ? a < b : a > b;
}

/* The index of price in s, or where it would go (first entry not before it). */
static uint32_t find(const replica_side_t *s, unsigned side, int64_t price)
{
    uint32_t lo = 0, hi = s->n;
    /* the touch first: most deltas land within a few levels of it */
    if (hi > 0 && before(side, s->lv[hi - 1].price, price))
        return hi; /* a new best */
    lo = hi > 8 ? hi - 8 : 0;
    if (lo > 0 && !before(side, s->lv[lo - 1].price, price))
        lo = 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (before(side, s->lv[mid].price, price))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int replica_set(replica_t *r, unsigned side, int64_t price, int64_t qty, uint32_t orders)
{
    if (side > 1 || qty < 0)
        return -EINVAL;
    replica_side_t *s = &r->side[side];
    uint32_t i = find(s, side, price);
    bool found = i < s->n && s->lv[i].price == price;
    if (qty == 0) {
        if (found) {
            memmove(&s->lv[i], &s->lv[i + 1], (size_t)(s->n - i - 1) * sizeof(*s->lv));
            s->n--;
        }
        return 0;
    }
    if (found) {
        s->lv[i].qty = qty;
        s->lv[i].orders = orders;
        return 0;
    }
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : REPLICA_INITIAL;
        replica_level_t *p = realloc(s->lv, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        s->lv = p;
        s->cap = cap;
    }
    memmove(&s->lv[i + 1], &s->lv[i], (size_t)(s->n - i) * sizeof(*s->lv));
    s->lv[i] = (replica_level_t){price, qty, orders};
    s->n++;
    return 0;
}

const replica_level_t *replica_get(const replica_t *r, unsigned side, int64_t price)
{
    if (side > 1)
        return NULL;
    const replica_side_t *s = &r->side[side];
    uint32_t i = find(s, side, price);
    return i < s->n && s->lv[i].price == price ? &s->lv[i] : NULL;
}
