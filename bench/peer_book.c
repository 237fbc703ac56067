/* peer_book.c - see peer_book.h. The textbook way: a red-black tree of price
 * levels per side (libbsd's sys/tree.h, the BSD kernel's macros), a doubly
 * linked FIFO per level (sys/queue.h TAILQ), one malloc per order and per
 * level, a chained hash from order id to order. No accounts, balances, fees
 * or events: it does less than the matcher. */
#include "peer_book.h"

#ifndef __unused
#define __unused __attribute__((unused)) /* tree.h's generated functions expect it */
#endif
#include <bsd/sys/tree.h>
#include <stdlib.h>
#include <sys/queue.h>

typedef struct pb_order {
    uint64_t id;
    int64_t price, qty;
    uint32_t sym;
    int side;
    struct pb_level *level;
    TAILQ_ENTRY(pb_order) fifo;
    struct pb_order *hnext;
} pb_order_t;

typedef struct pb_level {
    int64_t price, qty;
    TAILQ_HEAD(, pb_order) orders;
    RB_ENTRY(pb_level) node;
} pb_level_t;

static int level_cmp(const pb_level_t *a, const pb_level_t *b)
{
    return a->price < b->price ? -1 : a->price > b->price;
}

RB_HEAD(level_tree, pb_level);
RB_GENERATE_STATIC(level_tree, pb_level, node, level_cmp)

typedef struct pb_side {
    struct level_tree tree;
} pb_side_t;

struct peer_book {
    pb_side_t (*side)[2];       /* [symbol][side] */
    uint32_t symbols;
    pb_order_t **bucket;
    uint64_t mask;
    uint64_t trades;
};

peer_book_t *peer_book_create(uint32_t symbols, uint64_t expected_orders)
{
    peer_book_t *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    uint64_t n = 1;
    while (n < expected_orders)
        n <<= 1;
    b->side = calloc(symbols, sizeof(*b->side));
    b->bucket = calloc(n, sizeof(*b->bucket));
    b->mask = n - 1;
    b->symbols = symbols;
    if (b->side == NULL || b->bucket == NULL) {
        peer_book_destroy(b);
        return NULL;
    }
    for (uint32_t s = 0; s < symbols; s++)
        for (int i = 0; i < 2; i++)
            RB_INIT(&b->side[s][i].tree);
    return b;
}

static pb_order_t **slot(peer_book_t *b, uint64_t id)
{
    return &b->bucket[(id * UINT64_C(0x9e3779b97f4a7c15)) >> 20 & b->mask];
}

static void level_drop(pb_side_t *s, pb_level_t *lv)
{
    level_tree_RB_REMOVE(&s->tree, lv);
    free(lv);
}

static void unhash(peer_book_t *b, pb_order_t *o)
{
    pb_order_t **p = slot(b, o->id);
    while (*p != o)
        p = &(*p)->hnext;
    *p = o->hnext;
}

/* Best opposite level for a taker: lowest ask, highest bid. */
static pb_level_t *best(pb_side_t *s, int side)
{
    return side == 0 ? RB_MAX(level_tree, &s->tree) : RB_MIN(level_tree, &s->tree);
}

int peer_book_new(peer_book_t *b, uint64_t id, uint32_t sym, int side, int64_t price, int64_t qty, int ioc)
{
    if (sym >= b->symbols || qty <= 0)
        return -1;
    pb_side_t *opp = &b->side[sym][!side];
    pb_level_t *lv;
    while (qty > 0 && (lv = best(opp, !side)) != NULL &&
           (side == 0 ? lv->price <= price : lv->price >= price)) {
        pb_order_t *mk;
        while (qty > 0 && (mk = TAILQ_FIRST(&lv->orders)) != NULL) {
            int64_t q = mk->qty < qty ? mk->qty : qty;
            mk->qty -= q;
            lv->qty -= q;
            qty -= q;
            b->trades++;
            if (mk->qty == 0) {
                TAILQ_REMOVE(&lv->orders, mk, fifo);
                unhash(b, mk);
                free(mk);
            }
        }
        if (TAILQ_EMPTY(&lv->orders))
            level_drop(opp, lv);
    }
    if (qty == 0 || ioc)
        return 0;
    pb_side_t *own = &b->side[sym][side];
    pb_level_t key = {.price = price};
    lv = level_tree_RB_FIND(&own->tree, &key);
    if (lv == NULL) {
        lv = malloc(sizeof(*lv));
        if (lv == NULL)
            return -1;
        lv->price = price;
        lv->qty = 0;
        TAILQ_INIT(&lv->orders);
        level_tree_RB_INSERT(&own->tree, lv);
    }
    pb_order_t *o = malloc(sizeof(*o));
    if (o == NULL)
        return -1;
    *o = (pb_order_t){.id = id, .price = price, .qty = qty, .sym = sym, .side = side, .level = lv};
    TAILQ_INSERT_TAIL(&lv->orders, o, fifo);
    lv->qty += qty;
    pb_order_t **p = slot(b, id);
    o->hnext = *p;
    *p = o;
    return 1;
}

int peer_book_cancel(peer_book_t *b, uint64_t id)
{
    pb_order_t *o = *slot(b, id);
    while (o != NULL && o->id != id)
        o = o->hnext;
    if (o == NULL)
        return -1;
    pb_level_t *lv = o->level;
    TAILQ_REMOVE(&lv->orders, o, fifo);
    lv->qty -= o->qty;
    if (TAILQ_EMPTY(&lv->orders))
        level_drop(&b->side[o->sym][o->side], lv);
    unhash(b, o);
    free(o);
    return 0;
}

uint64_t peer_book_trades(const peer_book_t *b)
{
    return b->trades;
}

void peer_book_destroy(peer_book_t *b)
{
    if (b == NULL)
        return;
    for (uint64_t i = 0; b->bucket != NULL && i <= b->mask; i++)
        for (pb_order_t *o = b->bucket[i], *n; o != NULL; o = n) {
            n = o->hnext;
            free(o);
        }
    for (uint32_t s = 0; b->side != NULL && s < b->symbols; s++)
        for (int i = 0; i < 2; i++) {
            pb_level_t *lv, *n;
            for (lv = RB_MIN(level_tree, &b->side[s][i].tree); lv != NULL; lv = n) {
                n = RB_NEXT(level_tree, &b->side[s][i].tree, lv);
                level_drop(&b->side[s][i], lv);
            }
        }
    free(b->bucket);
    free(b->side);
    free(b);
}
