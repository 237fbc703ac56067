/* refmodel.h - a deliberately simple matcher for differential testing.
 *
 * Same rules and the same events as engine/matcher.c, none of its data
 * structures: live orders sit in one unsorted array, a book level is found by
 * scanning it, time priority is an arrival counter, every lookup is a linear
 * search. Slow and obviously right is the point. */
#ifndef BOURSE_REFMODEL_H
#define BOURSE_REFMODEL_H

#include <stdlib.h>
#include <string.h>

#include "matcher.h"

enum { R_MAX_ORDERS = 1 << 16, R_ACCOUNTS = 8, R_ASSETS = 8, R_INSTRUMENTS = 8, R_TOUCH = 64 };

typedef struct rorder {
    uint64_t id, cloid, prio, expire;
    int64_t price, qty, held; /* ticks, lots, minor units */
    uint32_t account, instrument;
    uint8_t side, tif, stp, flags;
    int32_t mbps, tbps;
} rorder_t;

typedef struct rinst {
    int status; /* 0 none, 1 open, 2 halted */
    uint32_t base, quote, band;
    int64_t tick, lot, mult, min_lots, max_lots, ref;
} rinst_t;

typedef struct ref {
    uint32_t max_orders, max_levels, max_gtd, max_account_orders;
    rorder_t o[R_MAX_ORDERS];
    uint32_t n;
    uint64_t prio, next_id, next_trade;
    rinst_t in[R_INSTRUMENTS];
    int asset_exists[R_ASSETS], asset_dec[R_ASSETS];
    int acct_exists[R_ACCOUNTS], acct_tier[R_ACCOUNTS];
    int64_t avail[R_ACCOUNTS][R_ASSETS], held[R_ACCOUNTS][R_ASSETS];
    int32_t tier_m[MATCHER_FEE_TIERS], tier_t[MATCHER_FEE_TIERS];
    uint32_t ta[R_TOUCH], ts[R_TOUCH], nt;
    uint64_t seq, now;
    uint16_t src;
    mevt_t *out;
    uint32_t nout, cap;
} ref_t;

static void r_emit(ref_t *r, uint16_t type, const void *p, uint32_t len)
{
    mevt_t e;
    memset(&e, 0, sizeof(e));
    e.cmd_seq = r->seq;
    e.ts_ns = r->now;
    e.type = type;
    e.src = r->src;
    e.len = len;
    memcpy(e.u.raw, p, len);
    if (r->nout < r->cap)
        r->out[r->nout] = e;
    r->nout++;
}

static void r_flush(ref_t *r)
{
    for (uint32_t i = 0; i < r->nt; i++) {
        evt_balance_t b = {r->avail[r->ta[i]][r->ts[i]], r->held[r->ta[i]][r->ts[i]], r->ta[i], r->ts[i]};
        r_emit(r, EVT_BALANCE, &b, sizeof(b));
    }
    r->nt = 0;
}

static void r_touch(ref_t *r, uint32_t a, uint32_t s)
{
    for (uint32_t i = 0; i < r->nt; i++)
        if (r->ta[i] == a && r->ts[i] == s)
            return;
    if (r->nt == R_TOUCH)
        r_flush(r);
    r->ta[r->nt] = a;
    r->ts[r->nt] = s;
    r->nt++;
}

static void r_reject(ref_t *r, uint16_t type, uint32_t acct, uint64_t cloid, uint64_t oid, uint16_t why)
{
    evt_rejected_t e = {cloid, oid, acct, type, why};
    r_emit(r, EVT_REJECTED, &e, sizeof(e));
}

static int64_t r_fee(int64_t n, int32_t bps)
{
    return (int64_t)((__int128)n * bps / 10000); /* floor for n >= 0, computed another way */
}

static int64_t r_need(const ref_t *r, const rorder_t *o)
{
    const rinst_t *in = &r->in[o->instrument];
    if (o->side == SIDE_SELL)
        return o->qty * in->lot;
    __int128 n = (__int128)o->price * o->qty * in->mult;
    int32_t bps = o->mbps > o->tbps ? o->mbps : o->tbps;
    __int128 total = n + n * bps / 10000;
    return total > INT64_MAX ? -1 : (int64_t)total;
}

static uint32_t r_asset(const ref_t *r, const rorder_t *o)
{
    return o->side == SIDE_BUY ? r->in[o->instrument].quote : r->in[o->instrument].base;
}

static void r_release(ref_t *r, rorder_t *o)
{
    if (o->held == 0)
        return;
    uint32_t s = r_asset(r, o);
    r->held[o->account][s] -= o->held;
    r->avail[o->account][s] += o->held;
    o->held = 0;
    r_touch(r, o->account, s);
}

static void r_level(ref_t *r, uint32_t ii, int side, int64_t price)
{
    int64_t q = 0;
    uint32_t c = 0;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->o[i].instrument == ii && r->o[i].side == side && r->o[i].price == price) {
            q += r->o[i].qty;
            c++;
        }
    evt_book_t e = {price * r->in[ii].tick, q * r->in[ii].lot, c, ii, (uint8_t)side, {0}};
    r_emit(r, EVT_BOOK, &e, sizeof(e));
}

static void r_cancelled(ref_t *r, const rorder_t *o, int64_t lots, uint8_t why)
{
    evt_cancelled_t e = {o->id, o->cloid, lots * r->in[o->instrument].lot, o->account, o->instrument, why,
                         o->side, {0}};
    r_emit(r, EVT_CANCELLED, &e, sizeof(e));
}

static void r_replaced(ref_t *r, const rorder_t *o, int kept)
{
    const rinst_t *in = &r->in[o->instrument];
    evt_replaced_t e = {o->id, o->cloid, o->price * in->tick, o->qty * in->lot, o->account, o->instrument,
                        (uint8_t)kept, o->side, {0}};
    r_emit(r, EVT_REPLACED, &e, sizeof(e));
}

static void r_remove(ref_t *r, uint32_t i)
{
    r->o[i] = r->o[--r->n];
}

static int r_find_id(const ref_t *r, uint64_t id)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->o[i].id == id)
            return (int)i;
    return -1;
}

static int r_find_cloid(const ref_t *r, uint32_t acct, uint64_t cloid)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->o[i].cloid == cloid && r->o[i].account == acct)
            return (int)i;
    return -1;
}

static int r_better(int side, int64_t a, int64_t b)
{
    return side == SIDE_BUY ? a > b : a < b;
}

/* Best price on a side, or 0 when the side is empty. */
static int64_t r_best(const ref_t *r, uint32_t ii, int side)
{
    int64_t best = 0;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->o[i].instrument == ii && r->o[i].side == side && (best == 0 || r_better(side, r->o[i].price, best)))
            best = r->o[i].price;
    return best;
}

static uint32_t r_levels(const ref_t *r, uint32_t ii, int side)
{
    int64_t seen[1024];
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        if (r->o[i].instrument != ii || r->o[i].side != side)
            continue;
        uint32_t k = 0;
        while (k < n && seen[k] != r->o[i].price)
            k++;
        if (k == n && n < 1024)
            seen[n++] = r->o[i].price;
    }
    return n;
}

/* Oldest order at (instrument, side, price) with prio above after, or -1. */
static int r_next_at(const ref_t *r, uint32_t ii, int side, int64_t price, uint64_t after)
{
    int best = -1;
    for (uint32_t i = 0; i < r->n; i++) {
        const rorder_t *o = &r->o[i];
        if (o->instrument == ii && o->side == side && o->price == price && o->prio > after &&
            (best < 0 || o->prio < r->o[best].prio))
            best = (int)i;
    }
    return best;
}

static void r_fill(ref_t *r, rorder_t *t, rorder_t *mk, int64_t q)
{
    rinst_t *in = &r->in[t->instrument];
    int64_t n = mk->price * q * in->mult, base = q * in->lot;
    int64_t mfee = r_fee(n, mk->mbps), tfee = r_fee(n, t->tbps);
    rorder_t *b = t->side == SIDE_BUY ? t : mk, *s = t->side == SIDE_BUY ? mk : t;
    int64_t bfee = b == t ? tfee : mfee, sfee = s == t ? tfee : mfee;
    t->qty -= q;
    mk->qty -= q;
    r->held[b->account][in->quote] -= n + bfee;
    b->held -= n + bfee;
    r->avail[b->account][in->base] += base;
    int64_t excess = b->held - r_need(r, b);
    if (excess > 0) {
        r->held[b->account][in->quote] -= excess;
        r->avail[b->account][in->quote] += excess;
        b->held -= excess;
    }
    r->held[s->account][in->base] -= base;
    s->held -= base;
    r->avail[s->account][in->quote] += n - sfee;
    r->avail[0][in->quote] += bfee + sfee;
    r_touch(r, b->account, in->quote);
    r_touch(r, b->account, in->base);
    r_touch(r, s->account, in->quote);
    r_touch(r, s->account, in->base);
    r_touch(r, 0, in->quote);
    in->ref = mk->price;
    evt_trade_t e = {r->next_trade++, mk->id, t->id, mk->price * in->tick, base, mfee, tfee, mk->account,
                     t->account, t->instrument, t->side, mk->qty == 0, {0}};
    r_emit(r, EVT_TRADE, &e, sizeof(e));
}

static void r_decrement(ref_t *r, rorder_t *o, int64_t d)
{
    o->qty -= d;
    int64_t excess = o->held - r_need(r, o);
    uint32_t s = r_asset(r, o);
    r->held[o->account][s] -= excess;
    r->avail[o->account][s] += excess;
    o->held -= excess;
    r_touch(r, o->account, s);
}

/* Matches t (a copy outside the array) against the book; see matcher.c match(). */
static uint8_t r_match(ref_t *r, rorder_t *t)
{
    int opp = !t->side;
    uint8_t why = 0;
    while (t->qty > 0 && why == 0) {
        int64_t p = r_best(r, t->instrument, opp);
        if (p == 0)
            break;
        if (r_better(opp, t->price, p) && t->price != p) { /* best is beyond t's limit */
            why = CXL_PROTECTION;
            break;
        }
        int64_t q0 = 0;
        uint32_t c0 = 0;
        for (uint32_t i = 0; i < r->n; i++)
            if (r->o[i].instrument == t->instrument && r->o[i].side == opp && r->o[i].price == p) {
                q0 += r->o[i].qty;
                c0++;
            }
        uint64_t after = 0;
        int k;
        while (t->qty > 0 && (k = r_next_at(r, t->instrument, opp, p, after)) >= 0) {
            rorder_t *mk = &r->o[k];
            after = mk->prio;
            if (mk->account != t->account) {
                r_fill(r, t, mk, t->qty < mk->qty ? t->qty : mk->qty);
                if (mk->qty == 0) {
                    r_release(r, mk);
                    r_remove(r, (uint32_t)k);
                }
            } else if (t->stp == STP_CANCEL_OLDEST) {
                r_cancelled(r, mk, mk->qty, CXL_STP);
                r_release(r, mk);
                r_remove(r, (uint32_t)k);
            } else if (t->stp == STP_DECREMENT) {
                int64_t d = t->qty < mk->qty ? t->qty : mk->qty;
                r_decrement(r, t, d);
                if (mk->qty == d) {
                    r_cancelled(r, mk, d, CXL_STP);
                    r_release(r, mk);
                    r_remove(r, (uint32_t)k);
                } else {
                    r_decrement(r, mk, d);
                    r_replaced(r, mk, 1);
                }
                if (t->qty == 0)
                    r_cancelled(r, t, d, CXL_STP);
                else
                    r_replaced(r, t, 1);
            } else {
                if (t->stp == STP_CANCEL_BOTH) {
                    r_cancelled(r, mk, mk->qty, CXL_STP);
                    r_release(r, mk);
                    r_remove(r, (uint32_t)k);
                }
                why = CXL_STP;
                break;
            }
        }
        int64_t q1 = 0;
        uint32_t c1 = 0;
        for (uint32_t i = 0; i < r->n; i++)
            if (r->o[i].instrument == t->instrument && r->o[i].side == opp && r->o[i].price == p) {
                q1 += r->o[i].qty;
                c1++;
            }
        if (q1 != q0 || c1 != c0)
            r_level(r, t->instrument, opp, p);
    }
    if (why == 0 && t->qty > 0 && r_best(r, t->instrument, opp) == 0)
        why = CXL_IOC_REMAINDER;
    return why;
}

static int r_price_bad(const rinst_t *in, int64_t price)
{
    if (price <= 0)
        return REJ_PRICE_NOT_POSITIVE;
    if (price % in->tick)
        return REJ_PRICE_OFF_TICK;
    if (in->band) {
        int64_t t = price / in->tick, w = (int64_t)((__int128)in->ref * in->band / 10000);
        if (t < in->ref - w || t > in->ref + w)
            return REJ_PRICE_OUT_OF_BAND;
    }
    return 0;
}

static int r_qty_bad(const rinst_t *in, int64_t q, int min)
{
    if (q <= 0)
        return REJ_QTY_NOT_POSITIVE;
    if (q % in->lot)
        return REJ_QTY_OFF_LOT;
    if (min && q / in->lot < in->min_lots)
        return REJ_QTY_BELOW_MIN;
    if (q / in->lot > in->max_lots)
        return REJ_QTY_ABOVE_MAX;
    return 0;
}

static uint32_t r_gtd_live(const ref_t *r)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->n; i++)
        k += r->o[i].tif == TIF_GTD;
    return k;
}

static uint32_t r_acct_orders(const ref_t *r, uint32_t a)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->n; i++)
        k += r->o[i].account == a;
    return k;
}

static int r_crosses(const ref_t *r, uint32_t ii, int side, int64_t price)
{
    int64_t b = r_best(r, ii, !side);
    return b != 0 && (side == SIDE_BUY ? b <= price : b >= price);
}

static int r_fok(const ref_t *r, const rorder_t *t)
{
    /* Walk the opposite side best first, each level oldest first. */
    int opp = !t->side;
    int64_t need = t->qty, last = 0;
    for (;;) {
        int64_t p = 0;
        for (uint32_t i = 0; i < r->n; i++) {
            const rorder_t *o = &r->o[i];
            if (o->instrument == t->instrument && o->side == opp && (last == 0 || r_better(opp, last, o->price)) &&
                (p == 0 || r_better(opp, o->price, p)))
                p = o->price;
        }
        if (p == 0 || (r_better(opp, t->price, p) && t->price != p))
            return 0;
        uint64_t after = 0;
        int k;
        while ((k = r_next_at(r, t->instrument, opp, p, after)) >= 0) {
            after = r->o[k].prio;
            if (r->o[k].account == t->account) {
                if (t->stp != STP_CANCEL_OLDEST)
                    return 0;
                continue;
            }
            need -= r->o[k].qty;
            if (need <= 0)
                return 1;
        }
        last = p;
    }
}


static void r_new(ref_t *r, const cmd_new_order_t *c)
{
#define REJ(w) do { r_reject(r, CMD_NEW_ORDER, c->account, c->client_order_id, 0, (w)); return; } while (0)
    if (c->instrument >= R_INSTRUMENTS || !r->in[c->instrument].status)
        REJ(REJ_UNKNOWN_INSTRUMENT);
    if (c->account >= R_ACCOUNTS || !r->acct_exists[c->account])
        REJ(REJ_UNKNOWN_ACCOUNT);
    rinst_t *in = &r->in[c->instrument];
    if (in->status == 2)
        REJ(REJ_INSTRUMENT_HALTED);
    if (c->side > 1)
        REJ(REJ_BAD_SIDE);
    if (c->type > 1)
        REJ(REJ_BAD_TYPE);
    if (c->tif > 3 || (c->type == ORD_MARKET && c->tif != TIF_IOC && c->tif != TIF_FOK))
        REJ(REJ_BAD_TIF);
    if (c->stp > 3)
        REJ(REJ_BAD_STP);
    if ((c->flags & ~1) || ((c->flags & 1) && (c->type == ORD_MARKET || c->tif == TIF_IOC || c->tif == TIF_FOK)))
        REJ(REJ_BAD_FLAGS);
    int w;
    if ((w = r_qty_bad(in, c->qty, 1)))
        REJ(w);
    if (c->type == ORD_MARKET && c->price == 0)
        REJ(REJ_MARKET_NO_PROTECTION);
    if ((w = r_price_bad(in, c->price)))
        REJ(w);
    if (c->tif == TIF_GTD && c->expire_ns <= r->now)
        REJ(REJ_GTD_EXPIRED);
    if (c->client_order_id && r_find_cloid(r, c->account, c->client_order_id) >= 0)
        REJ(REJ_DUPLICATE_CLIENT_ORDER_ID);
    int tier = r->acct_tier[c->account];
    rorder_t t = {0, c->client_order_id, 0, c->tif == TIF_GTD ? c->expire_ns : 0, c->price / in->tick,
                  c->qty / in->lot, 0, c->account, c->instrument, c->side, c->tif, c->stp, c->flags,
                  r->tier_m[tier], r->tier_t[tier]};
    int64_t need = r_need(r, &t);
    if (need < 0)
        REJ(REJ_OVERFLOW);
    uint32_t asset = r_asset(r, &t);
    if (r->avail[c->account][asset] < need)
        REJ(REJ_INSUFFICIENT_BALANCE);
    int rests = c->type == ORD_LIMIT && (c->tif == TIF_GTC || c->tif == TIF_GTD);
    if (rests) {
        if (r->n >= r->max_orders)
            REJ(REJ_ORDERS_FULL);
        if (r_next_at(r, c->instrument, c->side, t.price, 0) < 0 && r_levels(r, c->instrument, c->side) >= r->max_levels)
            REJ(REJ_BOOK_FULL);
        if (r_acct_orders(r, c->account) >= r->max_account_orders)
            REJ(REJ_ACCOUNT_ORDERS_FULL);
        if (c->tif == TIF_GTD && r_gtd_live(r) >= r->max_gtd)
            REJ(REJ_ORDERS_FULL);
    }
    if ((c->flags & 1) && r_crosses(r, c->instrument, c->side, t.price))
        REJ(REJ_POST_ONLY_WOULD_TAKE);
    if (c->tif == TIF_FOK && !r_fok(r, &t))
        REJ(REJ_FOK_NOT_FILLABLE);
#undef REJ
    t.id = r->next_id++;
    evt_accepted_t a = {t.id, t.cloid, c->price, c->qty, t.expire, c->account, c->instrument, c->side, c->type,
                        c->tif, c->stp, c->flags, {0}};
    r_emit(r, EVT_ACCEPTED, &a, sizeof(a));
    r->avail[c->account][asset] -= need;
    r->held[c->account][asset] += need;
    t.held = need;
    r_touch(r, c->account, asset);
    uint8_t why = r_match(r, &t);
    if (t.qty > 0 && rests && why != CXL_STP) {
        t.prio = ++r->prio;
        r->o[r->n++] = t;
        r_level(r, t.instrument, t.side, t.price);
    } else {
        if (t.qty > 0)
            r_cancelled(r, &t, t.qty, why == CXL_STP ? CXL_STP
                                      : c->type == ORD_MARKET && why == CXL_PROTECTION ? CXL_PROTECTION
                                                                                      : CXL_IOC_REMAINDER);
        r_release(r, &t);
    }
}

static int r_target(const ref_t *r, uint32_t acct, uint64_t id, uint64_t cloid)
{
    int k = id ? r_find_id(r, id) : cloid ? r_find_cloid(r, acct, cloid) : -1;
    return k >= 0 && r->o[k].account != acct ? -1 : k;
}

static void r_cancel_at(ref_t *r, int k, uint8_t why)
{
    rorder_t o = r->o[k];
    r_remove(r, (uint32_t)k);
    r_cancelled(r, &o, o.qty, why);
    r_level(r, o.instrument, o.side, o.price);
    r_release(r, &o);
}

static void r_amend(ref_t *r, const cmd_amend_t *c)
{
#define REJ(w) do { r_reject(r, CMD_AMEND, c->account, c->client_order_id, c->order_id, (w)); return; } while (0)
    if (c->account >= R_ACCOUNTS || !r->acct_exists[c->account])
        REJ(REJ_UNKNOWN_ACCOUNT);
    int k = r_target(r, c->account, c->order_id, c->client_order_id);
    if (k < 0)
        REJ(REJ_UNKNOWN_ORDER);
    rorder_t *o = &r->o[k];
    rinst_t *in = &r->in[o->instrument];
    if (in->status == 2)
        REJ(REJ_INSTRUMENT_HALTED);
    int64_t price = c->new_price ? c->new_price : o->price * in->tick;
    int64_t qty = c->new_qty ? c->new_qty : o->qty * in->lot;
    int w;
    if ((w = r_price_bad(in, price)) || (w = r_qty_bad(in, qty, 0)))
        REJ(w);
    int64_t ticks = price / in->tick, lots = qty / in->lot;
    if (ticks == o->price && lots == o->qty)
        REJ(REJ_AMEND_NO_CHANGE);
    rorder_t want = *o;
    want.price = ticks;
    want.qty = lots;
    int64_t need = r_need(r, &want);
    if (need < 0)
        REJ(REJ_OVERFLOW);
    uint32_t asset = r_asset(r, o);
    if (need - o->held > r->avail[o->account][asset])
        REJ(REJ_INSUFFICIENT_BALANCE);
    int moves = ticks != o->price;
    uint32_t at_old = 0;
    for (uint32_t i = 0; i < r->n; i++)
        at_old += r->o[i].instrument == o->instrument && r->o[i].side == o->side && r->o[i].price == o->price;
    if (moves && r_next_at(r, o->instrument, o->side, ticks, 0) < 0 &&
        r_levels(r, o->instrument, o->side) >= r->max_levels && at_old > 1)
        REJ(REJ_BOOK_FULL);
    if (moves && (o->flags & 1) && r_crosses(r, o->instrument, o->side, ticks))
        REJ(REJ_POST_ONLY_WOULD_TAKE);
#undef REJ
    r->avail[o->account][asset] -= need - o->held;
    r->held[o->account][asset] += need - o->held;
    o->held = need;
    r_touch(r, o->account, asset);
    if (!moves && lots < o->qty) {
        o->qty = lots;
        r_replaced(r, o, 1);
        r_level(r, o->instrument, o->side, o->price);
        return;
    }
    rorder_t t = *o;
    r_remove(r, (uint32_t)k);
    r_level(r, t.instrument, t.side, t.price);
    t.price = ticks;
    t.qty = lots;
    r_replaced(r, &t, 0);
    uint8_t why = r_match(r, &t);
    if (t.qty > 0 && why != CXL_STP) {
        t.prio = ++r->prio;
        r->o[r->n++] = t;
        r_level(r, t.instrument, t.side, t.price);
        return;
    }
    if (t.qty > 0)
        r_cancelled(r, &t, t.qty, CXL_STP);
    r_release(r, &t);
}

static void r_expire(ref_t *r)
{
    for (;;) {
        int k = -1;
        for (uint32_t i = 0; i < r->n; i++) {
            const rorder_t *o = &r->o[i];
            if (o->tif == TIF_GTD && o->expire <= r->now &&
                (k < 0 || o->expire < r->o[k].expire || (o->expire == r->o[k].expire && o->id < r->o[k].id)))
                k = (int)i;
        }
        if (k < 0)
            return;
        r_cancel_at(r, k, CXL_EXPIRED);
    }
}

static void r_apply(ref_t *r, const mcmd_t *cmd)
{
    r->seq = cmd->seq;
    r->now = cmd->ts_ns;
    r->src = cmd->src;
    r_expire(r);
    switch (cmd->type) {
    case CMD_NEW_ORDER: r_new(r, &cmd->u.new_order); break;
    case CMD_AMEND: r_amend(r, &cmd->u.amend); break;
    case CMD_CANCEL: {
        const cmd_cancel_t *c = &cmd->u.cancel;
        if (c->account >= R_ACCOUNTS || !r->acct_exists[c->account]) {
            r_reject(r, CMD_CANCEL, c->account, c->client_order_id, c->order_id, REJ_UNKNOWN_ACCOUNT);
            break;
        }
        int k = r_target(r, c->account, c->order_id, c->client_order_id);
        if (k < 0)
            r_reject(r, CMD_CANCEL, c->account, c->client_order_id, c->order_id, REJ_UNKNOWN_ORDER);
        else
            r_cancel_at(r, k, CXL_USER);
        break;
    }
    case CMD_MASS_CANCEL: {
        const cmd_mass_cancel_t *c = &cmd->u.mass_cancel;
        if (c->account >= R_ACCOUNTS || !r->acct_exists[c->account]) {
            r_reject(r, CMD_MASS_CANCEL, c->account, 0, 0, REJ_UNKNOWN_ACCOUNT);
            break;
        }
        if (c->instrument != UINT32_MAX && (c->instrument >= R_INSTRUMENTS || !r->in[c->instrument].status)) {
            r_reject(r, CMD_MASS_CANCEL, c->account, 0, 0, REJ_UNKNOWN_INSTRUMENT);
            break;
        }
        /* The account's orders oldest first by acceptance: ids grow with acceptance. */
        for (;;) {
            int k = -1;
            for (uint32_t i = 0; i < r->n; i++)
                if (r->o[i].account == c->account &&
                    (c->instrument == UINT32_MAX || r->o[i].instrument == c->instrument) &&
                    (k < 0 || r->o[i].id < r->o[k].id))
                    k = (int)i;
            if (k < 0)
                break;
            r_cancel_at(r, k, CXL_MASS);
        }
        r_emit(r, EVT_ADMIN, c, sizeof(*c));
        break;
    }
    case CMD_TIMER: break;
    case CMD_DEPOSIT:
    case CMD_WITHDRAW: {
        const cmd_funds_t *c = &cmd->u.funds;
        uint16_t w = 0;
        if (c->account >= R_ACCOUNTS || !r->acct_exists[c->account])
            w = REJ_UNKNOWN_ACCOUNT;
        else if (c->asset >= R_ASSETS || !r->asset_exists[c->asset])
            w = REJ_UNKNOWN_ASSET;
        else if (c->amount <= 0)
            w = REJ_AMOUNT_NOT_POSITIVE;
        else if (cmd->type == CMD_WITHDRAW && r->avail[c->account][c->asset] < c->amount)
            w = REJ_INSUFFICIENT_BALANCE;
        if (w) {
            r_reject(r, cmd->type, c->account, 0, 0, w);
            break;
        }
        r->avail[c->account][c->asset] += cmd->type == CMD_DEPOSIT ? c->amount : -c->amount;
        r_touch(r, c->account, c->asset);
        r_emit(r, EVT_ADMIN, c, sizeof(*c));
        break;
    }
    case CMD_HALT:
    case CMD_RESUME: {
        uint32_t ii = cmd->u.instrument.instrument;
        uint16_t w = 0;
        if (ii >= R_INSTRUMENTS || !r->in[ii].status)
            w = REJ_UNKNOWN_INSTRUMENT;
        else if (cmd->type == CMD_HALT && r->in[ii].status == 2)
            w = REJ_ALREADY_HALTED;
        else if (cmd->type == CMD_RESUME && r->in[ii].status != 2)
            w = REJ_NOT_HALTED;
        if (w) {
            r_reject(r, cmd->type, 0, 0, 0, w);
            break;
        }
        r->in[ii].status = cmd->type == CMD_HALT ? 2 : 1;
        r_emit(r, EVT_ADMIN, &cmd->u.instrument, sizeof(cmd_instrument_t));
        break;
    }
    default:
        r_reject(r, cmd->type, 0, 0, 0, REJ_UNKNOWN_COMMAND);
    }
    r_flush(r);
}

#endif
