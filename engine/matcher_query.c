/* matcher_query.c - the read side: the in-process read functions of matcher.h
 * (tests, benchmarks, the engine's status) and the query commands, whose
 * answers go to the event log so that gateway processes read the book, an
 * account and the reference data without touching the matcher's memory. A
 * query changes nothing: its only effect is its events. */
#include "matcher.h"

#include <errno.h>
#include <string.h>

#include "matcher_int.h"


int matcher_depth(const matcher_t *m, uint32_t instrument, int side, matcher_level_t *out, uint32_t n)
{
    if (instrument >= m->cfg.max_instruments || m->inst[instrument].status == INST_NONE ||
        (side != SIDE_BUY && side != SIDE_SELL))
        return -ENOENT;
    const instrument_t *in = &m->inst[instrument];
    const book_side_t *bs = &in->side[side];
    uint32_t k = 0;
    for (uint32_t p = bs->n; p-- > 0 && k < n; k++)
        out[k] = (matcher_level_t){bs->lv[p].price * in->tick, bs->lv[p].qty * in->lot, bs->lv[p].count};
    return (int)k;
}

int matcher_balance(const matcher_t *m, uint32_t account, uint32_t asset, int64_t *available, int64_t *held)
{
    if (account >= m->cfg.max_accounts || !m->accounts[account].exists || asset >= m->cfg.max_assets ||
        !m->assets[asset].exists)
        return -ENOENT;
    const balance_t *b = m_bal(m, account, asset);
    *available = b->avail;
    *held = b->held;
    return 0;
}

static void order_view(const matcher_t *m, const order_t *o, matcher_order_t *out)
{
    const instrument_t *in = &m->inst[o->instrument];
    uint64_t expire_ns = m_expire(m, (uint32_t)(o - m->orders));
    *out = (matcher_order_t){o->id, o->cloid, o->price * in->tick, o->qty * in->lot, expire_ns,
                             o->account, o->instrument, o->side, o->tif};
}

int matcher_order(const matcher_t *m, uint64_t order_id, matcher_order_t *out)
{
    uint32_t oi = find_id(m, order_id);
    if (oi == NIL)
        return -ENOENT;
    order_view(m, &m->orders[oi], out);
    return 0;
}

void matcher_account_orders(const matcher_t *m, uint32_t account,
                            void (*fn)(void *ctx, const matcher_order_t *o), void *ctx)
{
    if (account >= m->cfg.max_accounts)
        return;
    for (uint32_t oi = m->accounts[account].head; oi != NIL; oi = m->orders[oi].anext) {
        matcher_order_t v;
        order_view(m, &m->orders[oi], &v);
        fn(ctx, &v);
    }
}

/* ---------------------------------------------------------------- queries */

static void order_event(const matcher_t *m, const order_t *o, evt_accepted_t *e)
{
    const instrument_t *in = &m->inst[o->instrument];
    *e = (evt_accepted_t){.order_id = o->id, .client_order_id = o->cloid, .price = o->price * in->tick,
                          .qty = o->qty * in->lot, .expire_ns = m_expire(m, (uint32_t)(o - m->orders)),
                          .account = o->account, .instrument = o->instrument, .side = o->side,
                          .type = ORD_LIMIT, .tif = o->tif, .stp = o->stp, .flags = o->flags};
}

static void query_end(matcher_t *m, uint16_t cmd_type, uint32_t count, uint64_t next_after)
{
    evt_query_end_t e = {.next_after = next_after, .count = count, .cmd_type = cmd_type,
                         .more = next_after != 0};
    m_emit(m, EVT_Q_END, &e, sizeof(e));
}

static void query_book(matcher_t *m, const cmd_query_book_t *c)
{
    if (c->instrument >= m->cfg.max_instruments || m->inst[c->instrument].status == INST_NONE) {
        m_reject(m, CMD_QUERY_BOOK, 0, 0, 0, REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    if (c->depth == 0 || c->depth > QUERY_DEPTH_MAX) {
        m_reject(m, CMD_QUERY_BOOK, 0, 0, 0, REJ_BAD_LIMIT);
        return;
    }
    const instrument_t *in = &m->inst[c->instrument];
    uint32_t count = 0;
    for (int side = SIDE_BUY; side <= SIDE_SELL; side++) {
        const book_side_t *bs = &in->side[side];
        for (uint32_t p = bs->n, k = 0; p-- > 0 && k < c->depth; k++, count++) {
            const level_t *lv = &bs->lv[p];
            evt_book_t e = {.price = lv->price * in->tick, .qty = lv->qty * in->lot, .orders = lv->count,
                            .instrument = c->instrument, .side = (uint8_t)side};
            m_emit(m, EVT_Q_LEVEL, &e, sizeof(e));
        }
    }
    query_end(m, CMD_QUERY_BOOK, count, 0);
}

static void query_account(matcher_t *m, const cmd_query_account_t *c)
{
    if (c->account >= m->cfg.max_accounts || !m->accounts[c->account].exists) {
        m_reject(m, CMD_QUERY_ACCOUNT, c->account, 0, 0, REJ_UNKNOWN_ACCOUNT);
        return;
    }
    unsigned what = c->what != 0 ? c->what : QUERY_BALANCES | QUERY_ORDERS;
    if ((what & ~(unsigned)(QUERY_BALANCES | QUERY_ORDERS)) != 0) {
        m_reject(m, CMD_QUERY_ACCOUNT, c->account, 0, 0, REJ_BAD_FLAGS);
        return;
    }
    if ((what & QUERY_ORDERS) && (c->limit == 0 || c->limit > QUERY_ORDERS_MAX)) {
        m_reject(m, CMD_QUERY_ACCOUNT, c->account, 0, 0, REJ_BAD_LIMIT);
        return;
    }
    uint32_t count = 0;
    uint64_t next_after = 0;
    if (what & QUERY_BALANCES) {
        for (uint32_t a = 0; a < m->cfg.max_assets; a++) {
            if (!m->assets[a].exists)
                continue;
            const balance_t *b = m_bal(m, c->account, a);
            evt_balance_t e = {.available = b->avail, .held = b->held, .account = c->account, .asset = a};
            m_emit(m, EVT_Q_BALANCE, &e, sizeof(e));
            count++;
        }
    }
    if (what & QUERY_ORDERS) {
        /* The account's list is in arrival order, and ids rise with arrival:
         * a page starts after the last id of the one before. */
        uint32_t oi = m->accounts[c->account].head;
        while (oi != NIL && m->orders[oi].id <= c->after_order_id)
            oi = m->orders[oi].anext;
        for (uint32_t k = 0; oi != NIL; oi = m->orders[oi].anext, k++) {
            if (k == c->limit) {
                next_after = m->orders[m->orders[oi].aprev].id;
                break;
            }
            evt_accepted_t e;
            order_event(m, &m->orders[oi], &e);
            m_emit(m, EVT_Q_ORDER, &e, sizeof(e));
            count++;
        }
    }
    query_end(m, CMD_QUERY_ACCOUNT, count, next_after);
}

static void query_order(matcher_t *m, const cmd_query_order_t *c)
{
    if (c->account >= m->cfg.max_accounts || !m->accounts[c->account].exists) {
        m_reject(m, CMD_QUERY_ORDER, c->account, c->client_order_id, c->order_id, REJ_UNKNOWN_ACCOUNT);
        return;
    }
    uint32_t oi = m_target(m, c->account, c->order_id, c->client_order_id);
    if (oi == NIL) {
        m_reject(m, CMD_QUERY_ORDER, c->account, c->client_order_id, c->order_id, REJ_UNKNOWN_ORDER);
        return;
    }
    evt_accepted_t e;
    order_event(m, &m->orders[oi], &e);
    m_emit(m, EVT_Q_ORDER, &e, sizeof(e));
    query_end(m, CMD_QUERY_ORDER, 1, 0);
}

static void query_refdata(matcher_t *m)
{
    uint32_t count = 0;
    for (uint32_t a = 0; a < m->cfg.max_assets; a++) {
        const asset_t *as = &m->assets[a];
        if (!as->exists)
            continue;
        cmd_add_asset_t e = {.asset = a, .decimals = as->decimals};
        memcpy(e.name, as->name, sizeof(e.name));
        m_emit(m, EVT_Q_ASSET, &e, sizeof(e));
        count++;
    }
    for (uint32_t i = 0; i < m->cfg.max_instruments; i++) {
        const instrument_t *in = &m->inst[i];
        if (in->status == INST_NONE)
            continue;
        evt_instrument_t e = {.halted = in->status == INST_HALTED};
        cmd_add_instrument_t *d = &e.def;
        memcpy(d->symbol, in->symbol, sizeof(d->symbol));
        d->instrument = i;
        d->base = in->base;
        d->quote = in->quote;
        d->band_bps = in->band_bps;
        d->tick_size = in->tick;
        d->lot_size = in->lot;
        d->min_qty = in->min_lots * in->lot;
        d->max_qty = in->max_lots * in->lot;
        d->ref_price = in->ref_ticks * in->tick;
        m_emit(m, EVT_Q_INSTRUMENT, &e, sizeof(e));
        count++;
    }
    query_end(m, CMD_QUERY_REFDATA, count, 0);
}

void m_query(matcher_t *m, const mcmd_t *cmd)
{
    switch (cmd->type) {
    case CMD_QUERY_BOOK: query_book(m, &cmd->u.query_book); break;
    case CMD_QUERY_ACCOUNT: query_account(m, &cmd->u.query_account); break;
    case CMD_QUERY_ORDER: query_order(m, &cmd->u.query_order); break;
    case CMD_QUERY_DIGEST: {
        evt_digest_t d = {.digest = matcher_digest(m), .resting = m->resting};
        m_emit(m, EVT_Q_DIGEST, &d, sizeof(d));
        break;
    }
    default: query_refdata(m); break;
    }
}
