/* matcher.c - orders and matching: new order (every type and flag), cancel,
 * amend, mass cancel, GTD expiry, and the read side. Admin commands are in
 * matcher_admin.c, the prefetch hints in matcher_prefetch.c. See matcher.h
 * for the contract.
 *
 * Funds: a buy holds price x qty plus the fee at max(maker, taker) bps in the
 * quote asset; a sell holds its base quantity. Fees round down, so the fees of
 * partial fills never add up to more than the fee held for the whole. An
 * order's hold is always exactly what its open quantity needs (m_order_need()):
 * a fill moves the need of the filled lots out of held, pays the trade from it
 * and returns the rest (the saving of a fill below the limit) at once. */
#include "matcher.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "matcher_int.h"

/* ---------------------------------------------------------------- events */

void m_spill(matcher_t *m)
{
    m->sink(m->sink_ctx, m->evbuf, m->nev, 0);
    m->nev = 0;
}

void m_emit(matcher_t *m, uint16_t type, const void *payload, uint32_t len)
{
    memcpy(m_event(m, type, len)->u.raw, payload, len);
}

void m_reject(matcher_t *m, uint16_t cmd_type, uint32_t account, uint64_t cloid, uint64_t order_id,
              uint16_t reason)
{
    m_event(m, EVT_REJECTED, sizeof(evt_rejected_t))->u.rejected = (evt_rejected_t){
        .client_order_id = cloid, .order_id = order_id, .account = account, .cmd_type = cmd_type,
        .reason = reason};
    m->stats.rejects++;
    if (reason < REJ_REASON_MAX)
        m->stats.rejects_by_reason[reason]++;
}

void m_touch(matcher_t *m, uint32_t account, uint32_t asset)
{
    uint64_t key = (uint64_t)account << 32 | asset;
    for (uint32_t i = 0; i < m->ntouched; i++)
        if (m->touched[i] == key)
            return;
    if (m->ntouched == TOUCHED_MAX)
        m_flush_balances(m); /* a long sweep: report what we have so far */
    m->touched[m->ntouched++] = key;
}

void m_flush_balances(matcher_t *m)
{
    for (uint32_t i = 0; i < m->ntouched; i++) {
        uint32_t account = (uint32_t)(m->touched[i] >> 32), asset = (uint32_t)m->touched[i];
        const balance_t *b = m_bal(m, account, asset);
        m_event(m, EVT_BALANCE, sizeof(evt_balance_t))->u.balance = (evt_balance_t){
            .available = b->avail, .held = b->held, .account = account, .asset = asset};
    }
    m->ntouched = 0;
}

static void emit_level(matcher_t *m, uint32_t ii, int side, const level_t *lv)
{
    const instrument_t *in = &m->inst[ii];
    m_event(m, EVT_BOOK, sizeof(evt_book_t))->u.book = (evt_book_t){
        .price = lv->price * in->tick, .qty = lv->qty * in->lot, .orders = lv->count, .instrument = ii,
        .side = (uint8_t)side};
}

static void emit_cancelled(matcher_t *m, const order_t *o, int64_t lots, uint8_t reason)
{
    const instrument_t *in = &m->inst[o->instrument];
    m_event(m, EVT_CANCELLED, sizeof(evt_cancelled_t))->u.cancelled = (evt_cancelled_t){
        .order_id = o->id, .client_order_id = o->cloid, .qty = lots * in->lot, .account = o->account,
        .instrument = o->instrument, .reason = reason, .side = o->side};
}

static void emit_replaced(matcher_t *m, const order_t *o, int kept)
{
    const instrument_t *in = &m->inst[o->instrument];
    m_event(m, EVT_REPLACED, sizeof(evt_replaced_t))->u.replaced = (evt_replaced_t){
        .order_id = o->id, .client_order_id = o->cloid, .price = o->price * in->tick, .qty = o->qty * in->lot,
        .account = o->account, .instrument = o->instrument, .kept_priority = (uint8_t)kept, .side = o->side};
}

/* ---------------------------------------------------------------- hashes */

static void ohash_insert(ohash_t *t, uint32_t h, uint32_t oi)
{
    uint64_t i = h & t->mask;
    while (t->slots[i].idx1 != 0)
        i = (i + 1) & t->mask;
    t->slots[i] = (oslot_t){oi + 1, h};
}

/* Backward-shift deletion: later entries of the probe run move up into the
 * hole unless their home slot lies cyclically after it. */
static void ohash_erase(ohash_t *t, uint32_t h, uint32_t oi)
{
    uint64_t i = h & t->mask;
    while (t->slots[i].idx1 != oi + 1)
        i = (i + 1) & t->mask;
    for (;;) {
        uint64_t j = i;
        for (;;) {
            j = (j + 1) & t->mask;
            if (t->slots[j].idx1 == 0) {
                t->slots[i].idx1 = 0;
                return;
            }
            uint64_t k = t->slots[j].hash & t->mask;
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}

/* ---------------------------------------------------------------- funds */

static inline int32_t hold_bps(const order_t *o)
{
    return o->maker_bps > o->taker_bps ? o->maker_bps : o->taker_bps;
}

/* What a buy of lots at price ticks must hold; -1 on overflow. */
static int64_t buy_hold(const instrument_t *in, int64_t ticks, int64_t lots, int32_t bps)
{
    int64_t n, total;
    if (__builtin_mul_overflow(ticks, lots, &n) || __builtin_mul_overflow(n, in->mult, &n))
        return -1;
    if (__builtin_add_overflow(n, m_fee(n, bps), &total))
        return -1;
    return total;
}

int64_t m_order_need(const instrument_t *in, const order_t *o)
{
    return o->side == SIDE_BUY ? buy_hold(in, o->price, o->qty, hold_bps(o)) : o->qty * in->lot;
}

/* Moves amount of an order's asset from held back to available. */
static void unhold(matcher_t *m, const order_t *o, int64_t amount)
{
    if (amount == 0)
        return;
    uint32_t asset = hold_asset(&m->inst[o->instrument], o->side);
    balance_t *b = m_bal(m, o->account, asset);
    b->held -= amount;
    b->avail += amount;
    m_touch(m, o->account, asset);
}

/* Returns an order's whole hold to available (it is leaving). */
static void release_all(matcher_t *m, const order_t *o)
{
    unhold(m, o, m_order_need(&m->inst[o->instrument], o));
}

/* ---------------------------------------------------------------- orders */

uint32_t m_order_alloc(matcher_t *m)
{
    uint32_t oi = m->free_head;
    if (oi != NIL)
        m->free_head = m->orders[oi].next;
    return oi;
}

static void gtd_push(matcher_t *m, uint64_t expire_ns, uint64_t id)
{
    uint32_t i = m->ngtd++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (m->gtd[parent].expire_ns < expire_ns ||
            (m->gtd[parent].expire_ns == expire_ns && m->gtd[parent].order_id < id))
            break;
        m->gtd[i] = m->gtd[parent];
        i = parent;
    }
    m->gtd[i] = (gtd_entry_t){expire_ns, id};
}

static int gtd_less(const gtd_entry_t *a, const gtd_entry_t *b)
{
    return a->expire_ns < b->expire_ns || (a->expire_ns == b->expire_ns && a->order_id < b->order_id);
}

static gtd_entry_t gtd_pop(matcher_t *m)
{
    gtd_entry_t top = m->gtd[0], last = m->gtd[--m->ngtd];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= m->ngtd)
            break;
        if (c + 1 < m->ngtd && gtd_less(&m->gtd[c + 1], &m->gtd[c]))
            c++;
        if (!gtd_less(&m->gtd[c], &last))
            break;
        m->gtd[i] = m->gtd[c];
        i = c;
    }
    if (m->ngtd > 0)
        m->gtd[i] = last;
    return top;
}

/* The heap keeps entries of orders that left early; when it fills up, drop
 * those and rebuild. Returns whether there is room now. */
static int gtd_room(matcher_t *m)
{
    if (m->ngtd < m->cfg.max_gtd)
        return 1;
    uint32_t n = m->ngtd;
    m->ngtd = 0;
    for (uint32_t i = 0; i < n; i++) {
        gtd_entry_t e = m->gtd[i];
        uint32_t oi = find_id(m, e.order_id);
        if (oi != NIL && m->expire[oi] == e.expire_ns)
            gtd_push(m, e.expire_ns, e.order_id);
    }
    return m->ngtd < m->cfg.max_gtd;
}

/* Puts a pool order at the back of its price level: at (its level) or pos
 * (where a new one goes), from book_find() on a side that has not changed
 * since. The caller checked level capacity. */
static void order_rest_at(matcher_t *m, uint32_t oi, int64_t at, uint32_t pos)
{
    order_t *o = &m->orders[oi];
    book_side_t *bs = &m->inst[o->instrument].side[o->side];
    level_t *lv = at >= 0 ? &bs->lv[at] : book_insert(bs, pos, o->price);
    book_push(m->orders, lv, oi);
    emit_level(m, o->instrument, o->side, lv);
}

static void order_rest(matcher_t *m, uint32_t oi)
{
    const order_t *o = &m->orders[oi];
    uint32_t pos;
    int64_t at = book_find(&m->inst[o->instrument].side[o->side], o->side, o->price, &pos);
    order_rest_at(m, oi, at, pos);
}

void m_order_index(matcher_t *m, uint32_t oi)
{
    order_t *o = &m->orders[oi];
    uint32_t *slot = &m->id_slot[o->id & m->id_mask];
    if (*slot == 0) {
        *slot = oi + 1;
    } else {
        ohash_insert(&m->by_id, hash_id(o->id), oi);
        m->id_spilled++;
    }
    if (o->cloid != 0)
        ohash_insert(&m->by_cloid, hash_cloid(o->account, o->cloid), oi);
    account_t *a = &m->accounts[o->account];
    o->anext = NIL;
    o->aprev = a->tail;
    if (a->tail != NIL)
        m->orders[a->tail].anext = oi;
    else
        a->head = oi;
    a->tail = oi;
    a->open_orders++;
    m->resting++;
    if (o->tif == TIF_GTD)
        gtd_push(m, m->expire[oi], o->id);
}

/* Takes a pool order out of the indexes and frees it (it is already out of
 * its level). */
static void order_free(matcher_t *m, uint32_t oi)
{
    order_t *o = &m->orders[oi];
    uint32_t *slot = &m->id_slot[o->id & m->id_mask];
    if (*slot == oi + 1) {
        *slot = 0;
    } else {
        ohash_erase(&m->by_id, hash_id(o->id), oi);
        m->id_spilled--;
    }
    if (o->cloid != 0)
        ohash_erase(&m->by_cloid, hash_cloid(o->account, o->cloid), oi);
    account_t *a = &m->accounts[o->account];
    if (o->aprev != NIL)
        m->orders[o->aprev].anext = o->anext;
    else
        a->head = o->anext;
    if (o->anext != NIL)
        m->orders[o->anext].aprev = o->aprev;
    else
        a->tail = o->aprev;
    a->open_orders--;
    m->resting--;
    o->next = m->free_head;
    m->free_head = oi;
}

/* Cancels a resting order outside a sweep: out of its level (book event),
 * funds released, freed. */
static void order_cancel(matcher_t *m, uint32_t oi, uint8_t reason)
{
    order_t *o = &m->orders[oi];
    m_prefetch_neighbours(m, o);
    book_side_t *bs = &m->inst[o->instrument].side[o->side];
    uint32_t pos;
    int64_t at = book_find(bs, o->side, o->price, &pos);
    level_t *lv = &bs->lv[at];
    book_unlink(m->orders, lv, oi);
    emit_cancelled(m, o, o->qty, reason);
    emit_level(m, o->instrument, o->side, lv);
    if (lv->count == 0)
        book_remove(bs, (uint32_t)at);
    release_all(m, o);
    order_free(m, oi);
}

/* ---------------------------------------------------------------- matching */

static void fill(matcher_t *m, uint32_t ii, order_t *t, order_t *mk, level_t *lv, int64_t q)
{
    instrument_t *in = &m->inst[ii];
    int64_t notional = lv->price * q * in->mult; /* bounded by a hold checked at entry */
    int64_t base_amt = q * in->lot;
    int64_t mfee = m_fee(notional, mk->maker_bps), tfee = m_fee(notional, t->taker_bps);
    order_t *buyer = t->side == SIDE_BUY ? t : mk, *seller = t->side == SIDE_BUY ? mk : t;
    int64_t bfee = buyer == t ? tfee : mfee, sfee = seller == t ? tfee : mfee;

    t->qty -= q;
    mk->qty -= q;
    lv->qty -= q;

    /* The buyer's hold for q lots leaves held; the trade and its fee are paid
     * from it and the rest goes back to available. */
    int64_t bps = hold_bps(buyer);
    int64_t freed = buy_hold(in, buyer->price, buyer->qty + q, bps) - buy_hold(in, buyer->price, buyer->qty, bps);
    balance_t *bq = m_bal(m, buyer->account, in->quote), *bb = m_bal(m, buyer->account, in->base);
    bq->held -= freed;
    bq->avail += freed - notional - bfee;
    bb->avail += base_amt;

    balance_t *sb = m_bal(m, seller->account, in->base), *sq = m_bal(m, seller->account, in->quote);
    sb->held -= base_amt;
    sq->avail += notional - sfee;

    m_bal(m, MATCHER_FEE_ACCOUNT, in->quote)->avail += bfee + sfee;
    m_touch(m, buyer->account, in->quote);
    m_touch(m, buyer->account, in->base);
    m_touch(m, seller->account, in->quote);
    m_touch(m, seller->account, in->base);
    m_touch(m, MATCHER_FEE_ACCOUNT, in->quote);

    in->ref_ticks = lv->price;
    m_event(m, EVT_TRADE, sizeof(evt_trade_t))->u.trade = (evt_trade_t){
        .trade_id = m->next_trade_id++, .maker_order_id = mk->id, .taker_order_id = t->id,
        .price = lv->price * in->tick, .qty = base_amt, .maker_fee = mfee, .taker_fee = tfee,
        .maker_account = mk->account, .taker_account = t->account, .instrument = ii, .taker_side = t->side,
        .maker_done = mk->qty == 0};
    m->stats.trades++;
}

/* Reduces an order by lots without a trade (STP decrement); returns funds. */
static void decrement(matcher_t *m, order_t *o, level_t *lv, int64_t lots)
{
    const instrument_t *in = &m->inst[o->instrument];
    int64_t before = m_order_need(in, o);
    o->qty -= lots;
    if (lv != NULL)
        lv->qty -= lots;
    int64_t freed = before - m_order_need(in, o);
    uint32_t asset = hold_asset(in, o->side);
    balance_t *b = m_bal(m, o->account, asset);
    b->held -= freed;
    b->avail += freed;
    m_touch(m, o->account, asset);
}

/* A maker leaves its level inside a sweep: the caller emits the level event. */
static void maker_out(matcher_t *m, uint32_t oi, level_t *lv, int64_t cancel_lots, uint8_t reason)
{
    order_t *o = &m->orders[oi];
    book_unlink(m->orders, lv, oi);
    if (cancel_lots > 0 || reason != 0)
        emit_cancelled(m, o, cancel_lots, reason);
    release_all(m, o);
    order_free(m, oi);
}

/* Matches taker t against the opposite side up to its price. Returns the
 * reason its remainder must be cancelled (0: it may rest, or nothing is left). */
static uint8_t match(matcher_t *m, uint32_t ii, order_t *t)
{
    book_side_t *bs = &m->inst[ii].side[!t->side];
    uint8_t why = 0;
    /* It will trade: the row it receives into is cold (its makers' lines
     * come in maker by maker below). */
    if (bs->n > 0 && !book_beyond(t->side, bs->lv[bs->n - 1].price, t->price))
        __builtin_prefetch(m_bal(m, t->account, hold_asset(&m->inst[ii], !t->side)), 1);
    while (t->qty > 0 && bs->n > 0 && why == 0) {
        uint32_t pos = bs->n - 1;
        level_t *lv = &bs->lv[pos];
        if (book_beyond(t->side, lv->price, t->price)) {
            why = CXL_PROTECTION; /* for a market order; limit orders just stop here */
            break;
        }
        int64_t qty0 = lv->qty;
        uint32_t count0 = lv->count;
        uint32_t oi = lv->head;
        while (oi != NIL && t->qty > 0) {
            order_t *mk = &m->orders[oi];
            uint32_t next = mk->next;
            /* A maker met in a sweep is the oldest at its level, so cold:
             * start every miss its fill and removal take at once. */
            m_prefetch_neighbours(m, mk);
            __builtin_prefetch(&m->id_slot[mk->id & m->id_mask], 1);
            __builtin_prefetch(m_bal(m, mk->account, hold_asset(&m->inst[ii], t->side)), 1);
            if (mk->account != t->account) {
                int64_t q = t->qty < mk->qty ? t->qty : mk->qty;
                fill(m, ii, t, mk, lv, q);
                if (mk->qty == 0)
                    maker_out(m, oi, lv, 0, 0);
            } else if (t->stp == STP_CANCEL_OLDEST) {
                maker_out(m, oi, lv, mk->qty, CXL_STP);
            } else if (t->stp == STP_DECREMENT) {
                int64_t d = t->qty < mk->qty ? t->qty : mk->qty;
                decrement(m, t, NULL, d);
                if (mk->qty == d) {
                    maker_out(m, oi, lv, d, CXL_STP);
                } else {
                    decrement(m, mk, lv, d);
                    emit_replaced(m, mk, 1);
                }
                if (t->qty == 0) {
                    emit_cancelled(m, t, d, CXL_STP);
                } else {
                    emit_replaced(m, t, 1);
                }
            } else { /* cancel newest, or both */
                if (t->stp == STP_CANCEL_BOTH)
                    maker_out(m, oi, lv, mk->qty, CXL_STP);
                why = CXL_STP;
                break;
            }
            oi = next;
        }
        if (lv->qty != qty0 || lv->count != count0)
            emit_level(m, ii, !t->side, lv);
        if (lv->count == 0)
            book_remove(bs, pos);
    }
    if (why == 0 && t->qty > 0 && bs->n == 0)
        why = CXL_IOC_REMAINDER;
    return why;
}

/* FOK is decided before any fill: enough quantity at acceptable prices from
 * other accounts, and no own order in the way that STP would stop at. */
static int fok_fillable(matcher_t *m, uint32_t ii, const order_t *t)
{
    const book_side_t *bs = &m->inst[ii].side[!t->side];
    int64_t need = t->qty;
    for (uint32_t p = bs->n; p-- > 0;) {
        const level_t *lv = &bs->lv[p];
        if (book_beyond(t->side, lv->price, t->price))
            return 0;
        for (uint32_t oi = lv->head; oi != NIL; oi = m->orders[oi].next) {
            const order_t *mk = &m->orders[oi];
            if (mk->account == t->account) {
                if (t->stp != STP_CANCEL_OLDEST)
                    return 0;
                continue;
            }
            need -= mk->qty;
            if (need <= 0)
                return 1;
        }
    }
    return 0;
}

static int crosses(matcher_t *m, uint32_t ii, int side, int64_t ticks)
{
    const level_t *best = book_best(&m->inst[ii].side[!side]);
    return best != NULL && !book_beyond(side, best->price, ticks);
}

/* Price checks shared by new orders and amends; 0 or a reject reason. The
 * price in ticks goes to *ticks. */
static uint16_t check_price(const instrument_t *in, int64_t price, int64_t *ticks_out)
{
    if (price <= 0)
        return REJ_PRICE_NOT_POSITIVE;
    int64_t ticks = divisor_exact(&in->tick_div, price);
    if (ticks < 0)
        return REJ_PRICE_OFF_TICK;
    *ticks_out = ticks;
    if (in->band_bps != 0) {
        int64_t width = in->ref_ticks / 10000 * in->band_bps + in->ref_ticks % 10000 * in->band_bps / 10000;
        if (ticks < in->ref_ticks - width || ticks > in->ref_ticks + width)
            return REJ_PRICE_OUT_OF_BAND;
    }
    return 0;
}

/* Quantity checks; the quantity in lots goes to *lots. */
static uint16_t check_qty(const instrument_t *in, int64_t qty, int check_min, int64_t *lots_out)
{
    if (qty <= 0)
        return REJ_QTY_NOT_POSITIVE;
    int64_t lots = divisor_exact(&in->lot_div, qty);
    if (lots < 0)
        return REJ_QTY_OFF_LOT;
    if (check_min && lots < in->min_lots)
        return REJ_QTY_BELOW_MIN;
    if (lots > in->max_lots)
        return REJ_QTY_ABOVE_MAX;
    *lots_out = lots;
    return 0;
}

/* 0 or the reason to refuse; the price in ticks and the quantity in lots go
 * to *ticks and *lots. */
static uint16_t check_new(matcher_t *m, const cmd_new_order_t *c, uint64_t now, int64_t *ticks, int64_t *lots)
{
    if (c->instrument >= m->cfg.max_instruments || m->inst[c->instrument].status == INST_NONE)
        return REJ_UNKNOWN_INSTRUMENT;
    if (c->account >= m->cfg.max_accounts || !m->accounts[c->account].exists)
        return REJ_UNKNOWN_ACCOUNT;
    const instrument_t *in = &m->inst[c->instrument];
    if (in->status == INST_HALTED)
        return REJ_INSTRUMENT_HALTED;
    if (c->side > SIDE_SELL)
        return REJ_BAD_SIDE;
    if (c->type > ORD_MARKET)
        return REJ_BAD_TYPE;
    if (c->tif > TIF_GTD || (c->type == ORD_MARKET && c->tif != TIF_IOC && c->tif != TIF_FOK))
        return REJ_BAD_TIF;
    if (c->stp > STP_DECREMENT)
        return REJ_BAD_STP;
    if ((c->flags & ~ORDF_POST_ONLY) != 0 ||
        ((c->flags & ORDF_POST_ONLY) && (c->type == ORD_MARKET || c->tif == TIF_IOC || c->tif == TIF_FOK)))
        return REJ_BAD_FLAGS;
    uint16_t r = check_qty(in, c->qty, 1, lots);
    if (r != 0)
        return r;
    if (c->type == ORD_MARKET && c->price == 0)
        return REJ_MARKET_NO_PROTECTION;
    if ((r = check_price(in, c->price, ticks)) != 0)
        return r;
    if (c->tif == TIF_GTD && c->expire_ns <= now)
        return REJ_GTD_EXPIRED;
    if (c->client_order_id != 0 && find_cloid(m, c->account, c->client_order_id) != NIL)
        return REJ_DUPLICATE_CLIENT_ORDER_ID;
    return 0;
}

static void new_order(matcher_t *m, const mcmd_t *cmd)
{
    const cmd_new_order_t *c = &cmd->u.new_order;
    int64_t ticks = 0, lots = 0;
    uint16_t r = check_new(m, c, cmd->ts_ns, &ticks, &lots);
#define REJECT(reason) do { m_reject(m, CMD_NEW_ORDER, c->account, c->client_order_id, 0, (reason)); return; } while (0)
    if (r != 0)
        REJECT(r);
    instrument_t *in = &m->inst[c->instrument];
    const account_t *a = &m->accounts[c->account];
    const fee_tier_t *tier = &m->tiers[a->tier];
    uint64_t expire_ns = c->tif == TIF_GTD ? c->expire_ns : 0;
    order_t t = {
        .cloid = c->client_order_id, .price = ticks, .qty = lots,
        .account = c->account,
        .instrument = c->instrument, .prev = NIL, .next = NIL, .aprev = NIL, .anext = NIL,
        .side = c->side, .tif = c->tif, .stp = c->stp, .flags = c->flags,
        .maker_bps = (uint16_t)tier->maker_bps, .taker_bps = (uint16_t)tier->taker_bps,
    };
    int may_rest = c->type == ORD_LIMIT && (c->tif == TIF_GTC || c->tif == TIF_GTD);
    /* Where it would rest. Matching changes only the other side (STP cancels
     * makers there), so this holds until it rests. Found before the balance
     * row is read (the refusals keep their order): the row's line, asked for
     * two commands ahead, gets the lookup's time to arrive. */
    int64_t at = -1;
    uint32_t pos = 0;
    const book_side_t *own = &in->side[c->side];
    if (may_rest)
        at = book_find(own, c->side, t.price, &pos);
    int64_t need = m_order_need(in, &t);
    if (need < 0)
        REJECT(REJ_OVERFLOW);
    balance_t *b = m_bal(m, c->account, hold_asset(in, c->side));
    if (b->avail < need)
        REJECT(REJ_INSUFFICIENT_BALANCE);
    if (may_rest) {
        /* Room is checked before any fill: a command either happens whole or not at all. */
        if (m->free_head == NIL)
            REJECT(REJ_ORDERS_FULL);
        if (at < 0 && own->n >= m->cfg.max_levels)
            REJECT(REJ_BOOK_FULL);
        /* Each order fits in base units, but a level's total need not: with an
         * 18-decimal asset, two orders of 5 whole units overflow int64. */
        if (at >= 0 && t.qty > in->level_lots_max - own->lv[at].qty)
            REJECT(REJ_OVERFLOW);
        if (a->open_orders >= m->cfg.max_account_orders)
            REJECT(REJ_ACCOUNT_ORDERS_FULL);
        if (c->tif == TIF_GTD && !gtd_room(m))
            REJECT(REJ_ORDERS_FULL);
    }
    if ((c->flags & ORDF_POST_ONLY) && crosses(m, c->instrument, c->side, t.price))
        REJECT(REJ_POST_ONLY_WOULD_TAKE);
    if (c->tif == TIF_FOK && !fok_fillable(m, c->instrument, &t))
        REJECT(REJ_FOK_NOT_FILLABLE);
#undef REJECT

    t.id = m->next_order_id++;
    m->stats.orders_accepted++;
    m_event(m, EVT_ACCEPTED, sizeof(evt_accepted_t))->u.accepted = (evt_accepted_t){
        .order_id = t.id, .client_order_id = t.cloid, .price = c->price, .qty = c->qty, .expire_ns = expire_ns,
        .account = c->account, .instrument = c->instrument, .side = c->side, .type = c->type, .tif = c->tif,
        .stp = c->stp, .flags = c->flags};
    b->avail -= need;
    b->held += need;
    m_touch(m, c->account, hold_asset(in, c->side));

    uint8_t why = match(m, c->instrument, &t);
    if (t.qty > 0 && may_rest && why != CXL_STP) {
        uint32_t oi = m_order_alloc(m);
        m->orders[oi] = t;
        if (t.tif == TIF_GTD)
            m->expire[oi] = expire_ns;
        order_rest_at(m, oi, at, pos);
        m_order_index(m, oi);
    } else {
        if (t.qty > 0)
            emit_cancelled(m, &t, t.qty, why == CXL_STP ? CXL_STP
                                         : c->type == ORD_MARKET && why == CXL_PROTECTION ? CXL_PROTECTION
                                                                                         : CXL_IOC_REMAINDER);
        release_all(m, &t);
    }
}

static void cancel(matcher_t *m, const mcmd_t *cmd)
{
    const cmd_cancel_t *c = &cmd->u.cancel;
    if (c->account >= m->cfg.max_accounts || !m->accounts[c->account].exists) {
        m_reject(m, CMD_CANCEL, c->account, c->client_order_id, c->order_id, REJ_UNKNOWN_ACCOUNT);
        return;
    }
    uint32_t oi = m_target(m, c->account, c->order_id, c->client_order_id);
    if (oi == NIL) {
        m_reject(m, CMD_CANCEL, c->account, c->client_order_id, c->order_id, REJ_UNKNOWN_ORDER);
        return;
    }
    order_cancel(m, oi, CXL_USER);
}

static void amend(matcher_t *m, const mcmd_t *cmd)
{
    const cmd_amend_t *c = &cmd->u.amend;
#define REJECT(reason) do { m_reject(m, CMD_AMEND, c->account, c->client_order_id, c->order_id, (reason)); return; } while (0)
    if (c->account >= m->cfg.max_accounts || !m->accounts[c->account].exists)
        REJECT(REJ_UNKNOWN_ACCOUNT);
    uint32_t oi = m_target(m, c->account, c->order_id, c->client_order_id);
    if (oi == NIL)
        REJECT(REJ_UNKNOWN_ORDER);
    order_t *o = &m->orders[oi];
    instrument_t *in = &m->inst[o->instrument];
    if (in->status == INST_HALTED)
        REJECT(REJ_INSTRUMENT_HALTED);
    int64_t price = c->new_price != 0 ? c->new_price : o->price * in->tick;
    int64_t qty = c->new_qty != 0 ? c->new_qty : o->qty * in->lot;
    int64_t ticks = 0, lots = 0;
    uint16_t r;
    if ((r = check_price(in, price, &ticks)) != 0 || (r = check_qty(in, qty, 0, &lots)) != 0)
        REJECT(r);
    if (ticks == o->price && lots == o->qty)
        REJECT(REJ_AMEND_NO_CHANGE);
    order_t want = *o;
    want.price = ticks;
    want.qty = lots;
    int64_t need = m_order_need(in, &want);
    if (need < 0)
        REJECT(REJ_OVERFLOW);
    balance_t *b = m_bal(m, o->account, hold_asset(in, o->side));
    int64_t more = need - m_order_need(in, o);
    if (more > b->avail)
        REJECT(REJ_INSUFFICIENT_BALANCE);
    book_side_t *own = &in->side[o->side];
    uint32_t pos;
    int64_t at = book_find(own, o->side, o->price, &pos);
    level_t *lv = &own->lv[at];
    int moves = ticks != o->price;
    int64_t to = moves ? book_find(own, o->side, ticks, &pos) : at;
    if (moves && to < 0 && own->n >= m->cfg.max_levels && lv->count > 1)
        REJECT(REJ_BOOK_FULL);
    int64_t beside = to < 0 ? 0 : to == at ? lv->qty - o->qty : own->lv[to].qty;
    if (lots > in->level_lots_max - beside)
        REJECT(REJ_OVERFLOW); /* the level it would rest at could not total it */
    if (moves && (o->flags & ORDF_POST_ONLY) && crosses(m, o->instrument, o->side, ticks))
        REJECT(REJ_POST_ONLY_WOULD_TAKE);
#undef REJECT

    b->avail -= more;
    b->held += more;
    m_touch(m, o->account, hold_asset(in, o->side));
    if (!moves && lots < o->qty) {
        /* A decrease at the same price keeps its place in the queue. */
        lv->qty -= o->qty - lots;
        o->qty = lots;
        emit_replaced(m, o, 1);
        emit_level(m, o->instrument, o->side, lv);
        return;
    }
    /* Otherwise it leaves its level and comes back as new: it may trade. */
    book_unlink(m->orders, lv, oi);
    emit_level(m, o->instrument, o->side, lv);
    if (lv->count == 0)
        book_remove(own, (uint32_t)at);
    o->price = ticks;
    o->qty = lots;
    emit_replaced(m, o, 0);
    uint8_t why = match(m, o->instrument, o);
    if (o->qty > 0 && why != CXL_STP) {
        order_rest(m, oi);
        return;
    }
    if (o->qty > 0)
        emit_cancelled(m, o, o->qty, CXL_STP);
    release_all(m, o);
    order_free(m, oi);
}

static void mass_cancel(matcher_t *m, const mcmd_t *cmd)
{
    const cmd_mass_cancel_t *c = &cmd->u.mass_cancel;
    if (c->account >= m->cfg.max_accounts || !m->accounts[c->account].exists) {
        m_reject(m, CMD_MASS_CANCEL, c->account, 0, 0, REJ_UNKNOWN_ACCOUNT);
        return;
    }
    if (c->instrument != UINT32_MAX &&
        (c->instrument >= m->cfg.max_instruments || m->inst[c->instrument].status == INST_NONE)) {
        m_reject(m, CMD_MASS_CANCEL, c->account, 0, 0, REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    for (uint32_t oi = m->accounts[c->account].head; oi != NIL;) {
        uint32_t next = m->orders[oi].anext;
        if (c->instrument == UINT32_MAX || m->orders[oi].instrument == c->instrument)
            order_cancel(m, oi, CXL_MASS);
        oi = next;
    }
    m_emit(m, EVT_ADMIN, c, sizeof(*c)); /* the acknowledgement, even when nothing was open */
}

static void expire(matcher_t *m, uint64_t now)
{
    while (m->ngtd > 0 && m->gtd[0].expire_ns <= now) {
        gtd_entry_t e = gtd_pop(m);
        uint32_t oi = find_id(m, e.order_id);
        if (oi != NIL && m->expire[oi] == e.expire_ns)
            order_cancel(m, oi, CXL_EXPIRED);
    }
}

void matcher_apply(matcher_t *m, const mcmd_t *cmd)
{
    m->cur_seq = cmd->seq;
    m->cur_ts = cmd->ts_ns;
    m->cur_src = cmd->src;
    expire(m, cmd->ts_ns);
    switch (cmd->type) {
    case CMD_NEW_ORDER: new_order(m, cmd); break;
    case CMD_CANCEL: cancel(m, cmd); break;
    case CMD_AMEND: amend(m, cmd); break;
    case CMD_MASS_CANCEL: mass_cancel(m, cmd); break;
    case CMD_TIMER: break;
    case CMD_QUERY_BOOK:
    case CMD_QUERY_ACCOUNT:
    case CMD_QUERY_ORDER:
    case CMD_QUERY_REFDATA:
    case CMD_QUERY_DIGEST: m_query(m, cmd); break;
    case CMD_SNAPSHOT: m_emit(m, EVT_ADMIN, cmd->u.raw, 0); break; /* the engine acts on it */
    default: m_admin(m, cmd); break;
    }
    m_flush_balances(m);
    m->sink(m->sink_ctx, m->evbuf, m->nev, 1);
    m->nev = 0;
}

uint64_t matcher_next_expiry(const matcher_t *m)
{
    return m->ngtd > 0 ? m->gtd[0].expire_ns : UINT64_MAX;
}

void matcher_get_stats(const matcher_t *m, matcher_stats_t *out)
{
    *out = m->stats;
    out->orders_resting = m->resting;
}
