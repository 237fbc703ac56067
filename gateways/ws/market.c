/* market.c - a symbol's public state in bourse-ws (the book replica's deltas,
 * the ticker, recent trades, 1 s and 1 min candles) and the messages built
 * from it. Each message is built once into ws->jw and fanned out to the
 * stream's subscribers; a new subscriber gets a snapshot tagged with the
 * stream's current seq, so the next message it sees is seq + 1.
 *
 * Every message: {"type", "channel", "symbol", "seq" (the channel's own, +1 a
 * message), "cmd_seq" (the engine command it reflects), "ts" (engine time of
 * the newest event in it, Unix ns as a string), ...}. Prices and quantities
 * are decimal strings at the instrument's scales. */
#include "ws_int.h"

#include <stdlib.h>
#include <string.h>

#include "prototext.h"

static const uint64_t NS_PER_MS = 1000000;
static const char *const chan_of[CH_PUBLIC_COUNT] = {"book", "ticker", "trades", "candles.1s", "candles.1m"};

const char *ws_reason_name(uint16_t reason)
{
    const char *name = prototext_reason_name(reason); /* the names the CLI and the engine's log use */
    return name != NULL ? name : "unknown";
}

const char *ws_side_name(uint8_t side)
{
    return side == SIDE_BUY ? "buy" : side == SIDE_SELL ? "sell" : "?";
}

/* ---------------------------------------------------------------- state */

int market_sym_init(sym_t *s, const ws_config_t *cfg)
{
    replica_init(&s->book);
    replica_init(&s->next);
    s->trades = calloc(cfg->trades_history, sizeof(*s->trades));
    s->cd[0].c = calloc(cfg->candles_history, sizeof(candle_t));
    s->cd[1].c = calloc(cfg->candles_history, sizeof(candle_t));
    if (s->trades == NULL || s->cd[0].c == NULL || s->cd[1].c == NULL) {
        market_sym_free(s);
        return -1;
    }
    s->cd[0].cap = s->cd[1].cap = cfg->candles_history;
    s->cd[0].interval_ms = 1000;
    s->cd[1].interval_ms = 60000;
    return 0;
}

void market_sym_free(sym_t *s)
{
    replica_free(&s->book);
    replica_free(&s->next);
    free(s->trades);
    free(s->cd[0].c);
    free(s->cd[1].c);
    free(s->chg);
    for (int i = 0; i < CH_PUBLIC_COUNT; i++)
        free(s->st[i].subs);
}

void market_book_event(ws_t *w, sym_t *s, const rec_t *ev, const evt_book_t *b)
{
    (void)w;
    if (replica_set(&s->book, b->side, b->price, b->qty, b->orders) < 0)
        return;
    s->cmd_seq = ev->cmd_seq;
    s->ts_ns = ev->ts_ns;
    if (s->nchg == s->capchg) {
        uint32_t cap = s->capchg ? s->capchg * 2 : 64;
        level_change_t *p = realloc(s->chg, (size_t)cap * sizeof(*p));
        if (p == NULL) {
            /* no room to say what changed: the next snapshot will */
            replica_clear(&s->book);
            return;
        }
        s->chg = p;
        s->capchg = cap;
    }
    s->chg[s->nchg++] = (level_change_t){b->price, b->qty, b->orders, b->side};
}

static candle_t *candle_newest(candles_t *cd)
{
    return cd->n ? &cd->c[(cd->head + cd->n - 1) % cd->cap] : NULL;
}

static void candle_add(candles_t *cd, uint64_t ts_ns, int64_t price, int64_t qty)
{
    uint64_t start = ts_ns / NS_PER_MS / cd->interval_ms * cd->interval_ms;
    candle_t *c = candle_newest(cd);
    if (c == NULL || c->start_ms < start) {
        if (cd->n == cd->cap) {
            cd->head = (cd->head + 1) % cd->cap;
            cd->n--;
        }
        c = &cd->c[(cd->head + cd->n) % cd->cap];
        cd->n++;
        *c = (candle_t){.start_ms = start, .open = price, .high = price, .low = price, .close = price};
    }
    /* an older time than the open candle's (a clock step) counts in it */
    if (price > c->high)
        c->high = price;
    if (price < c->low)
        c->low = price;
    c->close = price;
    c->volume += qty;
    c->trades++;
    cd->changed = true;
}

/* {"type", "channel", "symbol", "seq", "cmd_seq", "ts", then the caller's members */
static void head(jw_t *j, const char *type, const sym_t *s, ws_chan_t ch, uint64_t seq, uint64_t cmd_seq,
                 uint64_t ts_ns)
{
    jw_reset(j);
    jw_obj(j, NULL);
    jw_str(j, "type", type);
    jw_str(j, "channel", chan_of[ch]);
    jw_str(j, "symbol", s->symbol);
    jw_u64(j, "seq", seq);
    jw_u64(j, "cmd_seq", cmd_seq);
    jw_u64s(j, "ts", ts_ns);
}

static void send_all(ws_t *w, stream_t *st)
{
    jw_obj_end(&w->jw);
    size_t n;
    const uint8_t *f = ws_frame_json(&w->jw, &n);
    if (f != NULL)
        ws_fanout(w, st, f, n);
}

static void trade_json(jw_t *j, const sym_t *s, const trade_rec_t *t, bool inner)
{
    jw_u64s(j, "trade_id", t->trade_id);
    jw_dec(j, "price", t->price, s->price_scale);
    jw_dec(j, "qty", t->qty, s->qty_scale);
    jw_str(j, "side", ws_side_name(t->taker_side));
    if (inner) {
        jw_u64s(j, "ts", t->ts_ns);
        jw_u64(j, "cmd_seq", t->cmd_seq);
    }
}

void market_trade_event(ws_t *w, sym_t *s, const rec_t *ev, const evt_trade_t *t)
{
    uint32_t cap = w->cfg.trades_history;
    trade_rec_t *r;
    if (s->tn == cap) {
        r = &s->trades[s->thead];
        s->thead = (s->thead + 1) % cap;
    } else {
        r = &s->trades[(s->thead + s->tn++) % cap];
    }
    *r = (trade_rec_t){.trade_id = t->trade_id, .ts_ns = ev->ts_ns, .cmd_seq = ev->cmd_seq, .price = t->price,
                       .qty = t->qty, .taker_side = t->taker_side};
    s->last_price = t->price;
    s->last_qty = t->qty;
    s->last_side = t->taker_side;
    s->last_ts_ns = ev->ts_ns;
    s->ts_ns = ev->ts_ns;
    if (ev->cmd_seq > s->cmd_seq)
        s->cmd_seq = ev->cmd_seq;
    s->ticker_dirty = true;
    candle_add(&s->cd[0], ev->ts_ns, t->price, t->qty);
    candle_add(&s->cd[1], ev->ts_ns, t->price, t->qty);
    w->st.trades++;
    stream_t *st = &s->st[CH_TRADES];
    if (st->n == 0)
        return;
    head(&w->jw, "trade", s, CH_TRADES, ++st->seq, ev->cmd_seq, ev->ts_ns);
    trade_json(&w->jw, s, r, false);
    send_all(w, st);
}

/* ---------------------------------------------------------------- messages */

static void levels(jw_t *j, const char *key, const sym_t *s, unsigned side)
{
    jw_arr(j, key);
    uint32_t n = replica_depth(&s->book, side);
    for (uint32_t i = 0; i < n; i++) {
        const replica_level_t *l = replica_level(&s->book, side, i);
        jw_arr(j, NULL);
        jw_dec(j, NULL, l->price, s->price_scale);
        jw_dec(j, NULL, l->qty, s->qty_scale);
        jw_u64(j, NULL, l->orders);
        jw_arr_end(j);
    }
    jw_arr_end(j);
}

static void book_snapshot(ws_t *w, const sym_t *s, uint64_t seq)
{
    head(&w->jw, "snapshot", s, CH_BOOK, seq, s->cmd_seq, s->ts_ns);
    levels(&w->jw, "bids", s, SIDE_BUY);
    levels(&w->jw, "asks", s, SIDE_SELL);
    jw_obj_end(&w->jw);
}

static int chg_cmp(const void *a, const void *b)
{
    const level_change_t *x = a, *y = b;
    if (x->side != y->side)
        return x->side < y->side ? -1 : 1;
    return x->price < y->price ? -1 : x->price > y->price;
}

/* The changes in s->chg as an update; conflated: one entry a level, with its
 * state now. */
static void book_update(ws_t *w, sym_t *s, bool conflated)
{
    stream_t *st = &s->st[CH_BOOK];
    if (conflated) {
        qsort(s->chg, s->nchg, sizeof(*s->chg), chg_cmp);
        uint32_t k = 0;
        for (uint32_t i = 0; i < s->nchg; i++) {
            if (k > 0 && s->chg[k - 1].side == s->chg[i].side && s->chg[k - 1].price == s->chg[i].price)
                continue;
            level_change_t c = s->chg[i];
            const replica_level_t *l = replica_get(&s->book, c.side, c.price);
            c.qty = l ? l->qty : 0;
            c.orders = l ? l->orders : 0;
            s->chg[k++] = c;
        }
        s->nchg = k;
    }
    jw_t *j = &w->jw;
    head(j, "update", s, CH_BOOK, ++st->seq, s->cmd_seq, s->ts_ns);
    for (unsigned side = 0; side < 2; side++) {
        jw_arr(j, side == SIDE_BUY ? "bids" : "asks");
        for (uint32_t i = 0; i < s->nchg; i++) {
            const level_change_t *c = &s->chg[i];
            if (c->side != side)
                continue;
            jw_arr(j, NULL);
            jw_dec(j, NULL, c->price, s->price_scale);
            jw_dec(j, NULL, c->qty, s->qty_scale);
            jw_u64(j, NULL, c->orders);
            jw_arr_end(j);
        }
        jw_arr_end(j);
    }
    w->st.updates++;
    send_all(w, st);
}

static void opt_dec(jw_t *j, const char *key, bool has, int64_t v, unsigned scale)
{
    if (has)
        jw_dec(j, key, v, scale);
    else
        jw_null(j, key);
}

static void ticker_body(jw_t *j, const sym_t *s)
{
    opt_dec(j, "bid", s->t_bid_qty > 0, s->t_bid, s->price_scale);
    opt_dec(j, "bid_qty", s->t_bid_qty > 0, s->t_bid_qty, s->qty_scale);
    opt_dec(j, "ask", s->t_ask_qty > 0, s->t_ask, s->price_scale);
    opt_dec(j, "ask_qty", s->t_ask_qty > 0, s->t_ask_qty, s->qty_scale);
    opt_dec(j, "last", s->last_qty > 0, s->last_price, s->price_scale);
    opt_dec(j, "last_qty", s->last_qty > 0, s->last_qty, s->qty_scale);
    if (s->last_qty > 0)
        jw_str(j, "last_side", ws_side_name(s->last_side));
    else
        jw_null(j, "last_side");
}

/* Top of book from the replica; true when it differs from what was sent. */
static bool top_changed(sym_t *s)
{
    const replica_level_t *b = replica_level(&s->book, SIDE_BUY, 0), *a = replica_level(&s->book, SIDE_SELL, 0);
    int64_t bp = b ? b->price : 0, bq = b ? b->qty : 0, ap = a ? a->price : 0, aq = a ? a->qty : 0;
    bool changed = bp != s->t_bid || bq != s->t_bid_qty || ap != s->t_ask || aq != s->t_ask_qty;
    s->t_bid = bp;
    s->t_bid_qty = bq;
    s->t_ask = ap;
    s->t_ask_qty = aq;
    return changed;
}

static void candle_json(jw_t *j, const sym_t *s, const candle_t *c)
{
    jw_u64(j, "start", c->start_ms);
    jw_dec(j, "open", c->open, s->price_scale);
    jw_dec(j, "high", c->high, s->price_scale);
    jw_dec(j, "low", c->low, s->price_scale);
    jw_dec(j, "close", c->close, s->price_scale);
    jw_dec(j, "volume", c->volume, s->qty_scale);
    jw_u64(j, "trades", c->trades);
}

void market_flush(ws_t *w, sym_t *s, bool conflated_tick)
{
    if (s->nchg > 0 && (!w->cfg.conflation || conflated_tick)) {
        if (s->st[CH_BOOK].n > 0 && s->book.ready)
            book_update(w, s, conflated_tick);
        s->nchg = 0;
    }
    if (conflated_tick)
        return;
    bool top = s->book.ready && top_changed(s);
    if ((top || s->ticker_dirty) && s->st[CH_TICKER].n > 0 && s->book.ready) {
        stream_t *st = &s->st[CH_TICKER];
        head(&w->jw, "ticker", s, CH_TICKER, ++st->seq, s->cmd_seq, s->ts_ns);
        ticker_body(&w->jw, s);
        send_all(w, st);
    }
    s->ticker_dirty = false;
    for (int k = 0; k < 2; k++) {
        candles_t *cd = &s->cd[k];
        if (!cd->changed)
            continue;
        cd->changed = false;
        stream_t *st = &s->st[CH_CANDLES_1S + k];
        if (st->n == 0)
            continue;
        head(&w->jw, "candle", s, (ws_chan_t)(CH_CANDLES_1S + k), ++st->seq, s->cmd_seq, s->last_ts_ns);
        candle_json(&w->jw, s, candle_newest(cd));
        send_all(w, st);
    }
}

void market_book_reset(ws_t *w, sym_t *s)
{
    stream_t *st = &s->st[CH_BOOK];
    if (st->n > 0) {
        book_snapshot(w, s, ++st->seq);
        size_t n;
        const uint8_t *f = ws_frame_json(&w->jw, &n);
        if (f != NULL)
            ws_fanout(w, st, f, n);
    }
    s->ticker_dirty = true;
    market_flush(w, s, false);
}

void market_gap(ws_t *w, sym_t *s)
{
    (void)w;
    /* the book is rebuilt and sent whole; the others cannot be: a gap says so */
    for (int c = CH_TICKER; c < CH_PUBLIC_COUNT; c++)
        s->st[c].seq++;
}

int market_subscribe_snapshot(ws_t *w, sym_t *s, ws_chan_t ch, wsc_t id)
{
    jw_t *j = &w->jw;
    stream_t *st = &s->st[ch];
    switch (ch) {
    case CH_BOOK:
        if (!s->book.ready)
            return 0; /* it comes with the stream's next seq once built */
        book_snapshot(w, s, st->seq);
        break;
    case CH_TICKER:
        if (!s->book.ready)
            return 0;
        top_changed(s);
        head(j, "ticker", s, ch, st->seq, s->cmd_seq, s->ts_ns);
        ticker_body(j, s);
        jw_obj_end(j);
        break;
    case CH_TRADES:
        head(j, "snapshot", s, ch, st->seq, s->cmd_seq, s->ts_ns);
        jw_arr(j, "trades");
        for (uint32_t i = 0; i < s->tn; i++) {
            jw_obj(j, NULL);
            trade_json(j, s, &s->trades[(s->thead + i) % w->cfg.trades_history], true);
            jw_obj_end(j);
        }
        jw_arr_end(j);
        jw_obj_end(j);
        break;
    case CH_CANDLES_1S:
    case CH_CANDLES_1M: {
        const candles_t *cd = &s->cd[ch - CH_CANDLES_1S];
        head(j, "snapshot", s, ch, st->seq, s->cmd_seq, s->ts_ns);
        jw_arr(j, "candles");
        for (uint32_t i = 0; i < cd->n; i++) {
            jw_obj(j, NULL);
            candle_json(j, s, &cd->c[(cd->head + i) % cd->cap]);
            jw_obj_end(j);
        }
        jw_arr_end(j);
        jw_obj_end(j);
        break;
    }
    default:
        return 0;
    }
    size_t n;
    const uint8_t *f = ws_frame_json(j, &n);
    return f ? wss_send(w->srv, id, f, n) : -ENOMEM;
}

void market_instruments(ws_t *w, const char *req_id)
{
    (void)req_id;
    jw_t *j = &w->jw;
    jw_arr(j, "instruments");
    for (uint32_t i = 0; i < w->nsyms; i++) {
        const sym_t *s = w->syms[i];
        const rd_asset_t *b = ws_asset(w, s->base), *q = ws_asset(w, s->quote);
        jw_obj(j, NULL);
        jw_str(j, "symbol", s->symbol);
        jw_str(j, "base", b ? b->name : "?");
        jw_str(j, "quote", q ? q->name : "?");
        jw_u64(j, "price_decimals", s->price_scale);
        jw_u64(j, "qty_decimals", s->qty_scale);
        jw_dec(j, "tick_size", s->tick, s->price_scale);
        jw_dec(j, "lot_size", s->lot, s->qty_scale);
        jw_bool(j, "halted", s->halted);
        jw_bool(j, "ready", s->book.ready);
        jw_obj_end(j);
    }
    jw_arr_end(j);
}
