/* answer.c - see answer.h. */
#include "answer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "prototext.h"

enum { NS_PER_MS = 1000000, COLLECT_INITIAL = 16 };

static const char *const side_names[] = {"buy", "sell"};
static const char *const type_names[] = {"limit", "market"};
static const char *const tif_names[] = {"gtc", "ioc", "fok", "gtd"};
static const char *const stp_names[] = {"cancel-newest", "cancel-oldest", "cancel-both", "decrement"};
static const char *const cxl_names[] = {"?", "user", "ioc-remainder", "stp", "expired", "mass", "protection"};

#define NAME(tab, v) ((unsigned)(v) < sizeof(tab) / sizeof((tab)[0]) ? (tab)[v] : "?")

/* ---------------------------------------------------------------- collecting */

void collect_init(collect_t *c)
{
    memset(c, 0, sizeof(*c));
}

void collect_reset(collect_t *c, uint32_t max, bool orders_only)
{
    c->n = 0;
    c->max = max;
    c->truncated = false;
    c->orders_only = orders_only;
    c->order_id = 0;
    c->filled = 0;
    c->fills = 0;
}

void collect_free(collect_t *c)
{
    free(c->ev);
    collect_init(c);
}

int collect_add(collect_t *c, const rec_t *ev)
{
    if (c->orders_only && (ev->type == EVT_BOOK || ev->type == EVT_BALANCE))
        return 0;
    if (ev->type == EVT_ACCEPTED || ev->type == EVT_REPLACED) {
        uint64_t id;
        memcpy(&id, ev->payload, sizeof(id)); /* order_id is the first member of both */
        if (c->order_id == 0)
            c->order_id = id;
    } else if (ev->type == EVT_TRADE) {
        evt_trade_t t;
        memcpy(&t, ev->payload, sizeof(t));
        if (c->order_id != 0 && t.taker_order_id == c->order_id) {
            /* engine numbers, but from shared memory: saturate, never overflow */
            if (__builtin_add_overflow(c->filled, t.qty, &c->filled))
                c->filled = INT64_MAX;
            c->fills++;
        }
    }
    if (c->n == c->max) {
        c->truncated = true;
        return 0;
    }
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : COLLECT_INITIAL;
        if (cap > c->max)
            cap = c->max;
        rec_t *p = realloc(c->ev, (size_t)cap * sizeof(*p));
        if (p == NULL) {
            c->truncated = true;
            return -ENOMEM;
        }
        c->ev = p;
        c->cap = cap;
    }
    c->ev[c->n++] = *ev;
    return 0;
}

const rec_t *collect_find(const collect_t *c, uint16_t type)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (c->ev[i].type == type)
            return &c->ev[i];
    return NULL;
}

/* ---------------------------------------------------------------- errors */

const char *answer_reason_name(uint16_t reason)
{
    const char *name = prototext_reason_name(reason); /* the names the CLI and the engine's log use */
    return name != NULL ? name : "unknown";
}

int answer_reject_status(uint16_t reason)
{
    switch (reason) {
    case REJ_UNKNOWN_ORDER:
    case REJ_UNKNOWN_INSTRUMENT:
    case REJ_UNKNOWN_ACCOUNT:
    case REJ_UNKNOWN_ASSET:
        return 404;
    case REJ_DUPLICATE_CLIENT_ORDER_ID:
    case REJ_EXISTS:
    case REJ_NOT_HALTED:
    case REJ_ALREADY_HALTED:
        return 409;
    case REJ_INSTRUMENT_HALTED:
    case REJ_INSUFFICIENT_BALANCE:
    case REJ_POST_ONLY_WOULD_TAKE:
    case REJ_FOK_NOT_FILLABLE:
    case REJ_PRICE_OUT_OF_BAND:
    case REJ_ACCOUNT_ORDERS_FULL:
        return 422;
    case REJ_ORDERS_FULL:
    case REJ_BOOK_FULL:
    case REJ_CAPACITY:
        return 503;
    default:
        return 400;
    }
}

int answer_error(jw_t *w, const rest_err_t *e)
{
    jw_reset(w);
    jw_obj(w, NULL);
    jw_obj(w, "error");
    jw_str(w, "code", e->code);
    jw_str(w, "message", e->message);
    jw_obj_end(w);
    jw_obj_end(w);
    return e->status;
}

int answer_rejected(jw_t *w, const collect_t *c)
{
    const rec_t *r = collect_find(c, EVT_REJECTED);
    if (r == NULL)
        return 0;
    evt_rejected_t j;
    memcpy(&j, r->payload, sizeof(j));
    rest_err_t e;
    rest_fail(&e, answer_reject_status(j.reason), answer_reason_name(j.reason), "the engine refused the command: %s",
              answer_reason_name(j.reason));
    return answer_error(w, &e);
}

/* ---------------------------------------------------------------- orders */

typedef struct scales {
    const char *symbol;
    unsigned price, qty;
} scales_t;

/* An instrument the refdata may not know yet (added a moment ago): integers
 * are then written at scale 0 and the symbol is null. */
static scales_t scales_of(const refdata_t *rd, uint32_t instrument)
{
    const rd_instrument_t *in = refdata_instrument(rd, instrument);
    return in ? (scales_t){in->symbol, in->price_scale, in->qty_scale} : (scales_t){NULL, 0, 0};
}

static void symbol(jw_t *w, const scales_t *s)
{
    if (s->symbol)
        jw_str(w, "symbol", s->symbol);
    else
        jw_null(w, "symbol");
}

static void cloid(jw_t *w, uint64_t v)
{
    if (v)
        jw_u64s(w, "client_order_id", v);
    else
        jw_null(w, "client_order_id");
}

/* The fills of order_id in this command, newest last. */
static void fills_of(jw_t *w, const collect_t *c, uint64_t order_id, const scales_t *s)
{
    jw_arr(w, "fills");
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->ev[i].type != EVT_TRADE)
            continue;
        evt_trade_t t;
        memcpy(&t, c->ev[i].payload, sizeof(t));
        if (t.taker_order_id != order_id)
            continue;
        jw_obj(w, NULL);
        jw_u64s(w, "trade_id", t.trade_id);
        jw_u64s(w, "maker_order_id", t.maker_order_id);
        jw_dec(w, "price", t.price, s->price);
        jw_dec(w, "qty", t.qty, s->qty);
        jw_dec(w, "fee", t.taker_fee, s->price);
        jw_str(w, "liquidity", "taker");
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_bool(w, "fills_truncated", c->truncated);
}

/* A cancellation of order_id in this command (IOC remainder, STP), or NULL. */
static const evt_cancelled_t *cancel_of(const collect_t *c, uint64_t order_id, evt_cancelled_t *buf)
{
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->ev[i].type != EVT_CANCELLED)
            continue;
        memcpy(buf, c->ev[i].payload, sizeof(*buf));
        if (buf->order_id == order_id)
            return buf;
    }
    return NULL;
}

/* What is left of qty after filled, never below zero nor overflowing. */
static int64_t open_qty(int64_t qty, int64_t filled)
{
    int64_t open;
    if (__builtin_sub_overflow(qty, filled, &open) || open < 0)
        return 0;
    return open;
}

static const char *status_of(int64_t qty_total, int64_t filled, bool cancelled)
{
    if (filled >= qty_total && qty_total > 0)
        return "filled";
    if (cancelled)
        return "cancelled";
    return filled > 0 ? "partially_filled" : "new";
}

static void order_fields(jw_t *w, const evt_accepted_t *a, const scales_t *s)
{
    jw_u64s(w, "order_id", a->order_id);
    cloid(w, a->client_order_id);
    symbol(w, s);
    jw_str(w, "side", NAME(side_names, a->side));
    jw_str(w, "type", NAME(type_names, a->type));
    jw_str(w, "tif", NAME(tif_names, a->tif));
    jw_dec(w, "price", a->price, s->price);
    jw_bool(w, "post_only", (a->flags & ORDF_POST_ONLY) != 0);
    jw_str(w, "stp", NAME(stp_names, a->stp));
    if (a->tif == TIF_GTD)
        jw_u64(w, "expire_time_ms", a->expire_ns / NS_PER_MS);
    else
        jw_null(w, "expire_time_ms");
}

static int answer_new(jw_t *w, const refdata_t *rd, const collect_t *c, uint64_t cmd_seq)
{
    const rec_t *r = collect_find(c, EVT_ACCEPTED);
    if (r == NULL) {
        rest_err_t e;
        rest_fail(&e, 502, "bad-answer", "the engine's answer has no acceptance");
        return answer_error(w, &e);
    }
    evt_accepted_t a;
    memcpy(&a, r->payload, sizeof(a));
    scales_t s = scales_of(rd, a.instrument);
    evt_cancelled_t cb;
    const evt_cancelled_t *cx = cancel_of(c, a.order_id, &cb);
    int64_t open = cx ? 0 : open_qty(a.qty, c->filled);
    jw_obj(w, "order");
    order_fields(w, &a, &s);
    jw_dec(w, "qty", a.qty, s.qty);
    jw_dec(w, "filled_qty", c->filled, s.qty);
    jw_dec(w, "open_qty", open > 0 ? open : 0, s.qty);
    jw_str(w, "status", status_of(a.qty, c->filled, cx != NULL));
    if (cx)
        jw_str(w, "cancel_reason", NAME(cxl_names, cx->reason));
    jw_obj_end(w);
    fills_of(w, c, a.order_id, &s);
    jw_u64(w, "cmd_seq", cmd_seq);
    return 201;
}

static int answer_amend(jw_t *w, const refdata_t *rd, const collect_t *c, uint64_t cmd_seq)
{
    const rec_t *r = collect_find(c, EVT_REPLACED);
    if (r == NULL) {
        rest_err_t e;
        rest_fail(&e, 502, "bad-answer", "the engine's answer has no replacement");
        return answer_error(w, &e);
    }
    evt_replaced_t p;
    memcpy(&p, r->payload, sizeof(p));
    scales_t s = scales_of(rd, p.instrument);
    evt_cancelled_t cb;
    const evt_cancelled_t *cx = cancel_of(c, p.order_id, &cb);
    int64_t open = cx ? 0 : open_qty(p.qty, c->filled);
    jw_obj(w, "order");
    jw_u64s(w, "order_id", p.order_id);
    cloid(w, p.client_order_id);
    symbol(w, &s);
    jw_str(w, "side", NAME(side_names, p.side));
    jw_dec(w, "price", p.price, s.price);
    jw_dec(w, "filled_qty", c->filled, s.qty);
    jw_dec(w, "open_qty", open > 0 ? open : 0, s.qty);
    jw_bool(w, "kept_priority", p.kept_priority != 0);
    jw_str(w, "status", cx ? "cancelled" : open > 0 ? "open" : "filled");
    jw_obj_end(w);
    fills_of(w, c, p.order_id, &s);
    jw_u64(w, "cmd_seq", cmd_seq);
    return 200;
}

static void cancelled_fields(jw_t *w, const refdata_t *rd, const evt_cancelled_t *x)
{
    scales_t s = scales_of(rd, x->instrument);
    jw_u64s(w, "order_id", x->order_id);
    cloid(w, x->client_order_id);
    symbol(w, &s);
    jw_str(w, "side", NAME(side_names, x->side));
    jw_dec(w, "cancelled_qty", x->qty, s.qty);
    jw_str(w, "status", "cancelled");
}

int answer_order(jw_t *w, const refdata_t *rd, uint16_t cmd_type, const collect_t *c, uint64_t cmd_seq)
{
    int st = answer_rejected(w, c);
    if (st != 0)
        return st;
    jw_reset(w);
    jw_obj(w, NULL);
    if (cmd_type == CMD_NEW_ORDER)
        st = answer_new(w, rd, c, cmd_seq);
    else if (cmd_type == CMD_AMEND)
        st = answer_amend(w, rd, c, cmd_seq);
    else {
        const rec_t *r = collect_find(c, EVT_CANCELLED);
        if (r == NULL) {
            rest_err_t e;
            rest_fail(&e, 502, "bad-answer", "the engine's answer has no cancellation");
            return answer_error(w, &e);
        }
        evt_cancelled_t x;
        memcpy(&x, r->payload, sizeof(x));
        jw_obj(w, "order");
        cancelled_fields(w, rd, &x);
        jw_obj_end(w);
        jw_u64(w, "cmd_seq", cmd_seq);
        st = 200;
    }
    if (st >= 400)
        return st;
    jw_obj_end(w);
    return st;
}

int answer_mass_cancel(jw_t *w, const refdata_t *rd, const collect_t *c, uint64_t cmd_seq)
{
    int st = answer_rejected(w, c);
    if (st != 0)
        return st;
    jw_reset(w);
    jw_obj(w, NULL);
    jw_arr(w, "cancelled");
    uint32_t count = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->ev[i].type != EVT_CANCELLED)
            continue;
        evt_cancelled_t x;
        memcpy(&x, c->ev[i].payload, sizeof(x));
        jw_obj(w, NULL);
        cancelled_fields(w, rd, &x);
        jw_obj_end(w);
        count++;
    }
    jw_arr_end(w);
    jw_u64(w, "count", count);
    jw_bool(w, "truncated", c->truncated);
    jw_u64(w, "cmd_seq", cmd_seq);
    jw_obj_end(w);
    return 200;
}

static void open_order(jw_t *w, const refdata_t *rd, const evt_accepted_t *a)
{
    scales_t s = scales_of(rd, a->instrument);
    jw_obj(w, NULL);
    order_fields(w, a, &s);
    jw_dec(w, "open_qty", a->qty, s.qty);
    jw_str(w, "status", "open");
    jw_obj_end(w);
}

int answer_open_order(jw_t *w, const refdata_t *rd, const collect_t *c, uint64_t cmd_seq)
{
    int st = answer_rejected(w, c);
    if (st != 0)
        return st;
    const rec_t *r = collect_find(c, EVT_Q_ORDER);
    jw_reset(w);
    jw_obj(w, NULL);
    if (r != NULL) {
        evt_accepted_t a;
        memcpy(&a, r->payload, sizeof(a));
        scales_t s = scales_of(rd, a.instrument);
        jw_obj(w, "order");
        order_fields(w, &a, &s);
        jw_dec(w, "open_qty", a.qty, s.qty);
        jw_str(w, "status", "open");
        jw_obj_end(w);
    } else {
        jw_null(w, "order");
    }
    jw_u64(w, "cmd_seq", cmd_seq);
    jw_obj_end(w);
    return 200;
}

int answer_open_orders(jw_t *w, const refdata_t *rd, const collect_t *c, uint32_t instrument, uint64_t cmd_seq)
{
    int st = answer_rejected(w, c);
    if (st != 0)
        return st;
    jw_reset(w);
    jw_obj(w, NULL);
    jw_arr(w, "orders");
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->ev[i].type != EVT_Q_ORDER)
            continue;
        evt_accepted_t a;
        memcpy(&a, c->ev[i].payload, sizeof(a));
        if (instrument == TC_ANY || a.instrument == instrument)
            open_order(w, rd, &a);
    }
    jw_arr_end(w);
    const rec_t *end = collect_find(c, EVT_Q_END);
    evt_query_end_t q = {0};
    if (end != NULL)
        memcpy(&q, end->payload, sizeof(q));
    if (q.more)
        jw_u64s(w, "next_after", q.next_after);
    else
        jw_null(w, "next_after");
    jw_u64(w, "cmd_seq", cmd_seq);
    jw_obj_end(w);
    return 200;
}

int answer_balances(jw_t *w, const refdata_t *rd, const collect_t *c, uint64_t cmd_seq)
{
    int st = answer_rejected(w, c);
    if (st != 0)
        return st;
    jw_reset(w);
    jw_obj(w, NULL);
    jw_arr(w, "balances");
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->ev[i].type != EVT_Q_BALANCE)
            continue;
        evt_balance_t b;
        memcpy(&b, c->ev[i].payload, sizeof(b));
        const rd_asset_t *a = refdata_asset(rd, b.asset);
        jw_obj(w, NULL);
        if (a)
            jw_str(w, "asset", a->name);
        else
            jw_u64(w, "asset", b.asset);
        jw_dec(w, "available", b.available, a ? a->decimals : 0);
        jw_dec(w, "held", b.held, a ? a->decimals : 0);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_u64(w, "cmd_seq", cmd_seq);
    jw_obj_end(w);
    return 200;
}

int answer_book(jw_t *w, const rd_instrument_t *in, const collect_t *c, uint64_t cmd_seq)
{
    int st = answer_rejected(w, c);
    if (st != 0)
        return st;
    jw_reset(w);
    jw_obj(w, NULL);
    jw_str(w, "symbol", in->symbol);
    for (int side = SIDE_BUY; side <= SIDE_SELL; side++) {
        jw_arr(w, side == SIDE_BUY ? "bids" : "asks");
        for (uint32_t i = 0; i < c->n; i++) {
            if (c->ev[i].type != EVT_Q_LEVEL)
                continue;
            evt_book_t b;
            memcpy(&b, c->ev[i].payload, sizeof(b));
            if (b.side != side)
                continue;
            jw_obj(w, NULL);
            jw_dec(w, "price", b.price, in->price_scale);
            jw_dec(w, "qty", b.qty, in->qty_scale);
            jw_u64(w, "orders", b.orders);
            jw_obj_end(w);
        }
        jw_arr_end(w);
    }
    jw_u64(w, "cmd_seq", cmd_seq);
    jw_obj_end(w);
    return 200;
}

/* ---------------------------------------------------------------- caches */

void answer_instrument(jw_t *w, const char *key, const rd_instrument_t *in, const refdata_t *rd)
{
    const rd_asset_t *b = refdata_asset(rd, in->base), *q = refdata_asset(rd, in->quote);
    jw_obj(w, key);
    jw_str(w, "symbol", in->symbol);
    jw_u64(w, "instrument", in->id);
    jw_str(w, "base", b ? b->name : "?");
    jw_str(w, "quote", q ? q->name : "?");
    jw_dec(w, "tick_size", in->tick, in->price_scale);
    jw_dec(w, "lot_size", in->lot, in->qty_scale);
    jw_dec(w, "min_qty", in->min_qty, in->qty_scale);
    jw_dec(w, "max_qty", in->max_qty, in->qty_scale);
    jw_dec(w, "ref_price", in->ref_price, in->price_scale);
    jw_u64(w, "band_bps", in->band_bps);
    jw_u64(w, "price_decimals", in->price_scale);
    jw_u64(w, "qty_decimals", in->qty_scale);
    jw_bool(w, "halted", in->halted);
    jw_obj_end(w);
}

int answer_instruments(jw_t *w, const refdata_t *rd)
{
    jw_reset(w);
    jw_obj(w, NULL);
    jw_arr(w, "instruments");
    for (uint32_t i = 0; i < rd->ninst; i++)
        answer_instrument(w, NULL, &rd->inst[i], rd);
    jw_arr_end(w);
    jw_arr(w, "assets");
    for (uint32_t i = 0; i < rd->nassets; i++) {
        jw_obj(w, NULL);
        jw_str(w, "name", rd->assets[i].name);
        jw_u64(w, "asset", rd->assets[i].id);
        jw_u64(w, "decimals", rd->assets[i].decimals);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return 200;
}

int answer_trades(jw_t *w, const rd_instrument_t *in, const tc_trade_t *const *t, uint32_t n)
{
    jw_reset(w);
    jw_obj(w, NULL);
    jw_str(w, "symbol", in->symbol);
    jw_arr(w, "trades");
    for (uint32_t i = 0; i < n; i++) {
        jw_obj(w, NULL);
        jw_u64s(w, "trade_id", t[i]->t.trade_id);
        jw_dec(w, "price", t[i]->t.price, in->price_scale);
        jw_dec(w, "qty", t[i]->t.qty, in->qty_scale);
        jw_str(w, "taker_side", NAME(side_names, t[i]->t.taker_side));
        jw_u64(w, "time_ms", t[i]->ts_ns / NS_PER_MS);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return 200;
}

static void fill(jw_t *w, const refdata_t *rd, const tc_trade_t *t, bool maker)
{
    scales_t s = scales_of(rd, t->t.instrument);
    unsigned side = maker ? (unsigned)!t->t.taker_side : t->t.taker_side;
    jw_obj(w, NULL);
    jw_u64s(w, "trade_id", t->t.trade_id);
    jw_u64s(w, "order_id", maker ? t->t.maker_order_id : t->t.taker_order_id);
    symbol(w, &s);
    jw_str(w, "side", NAME(side_names, side));
    jw_dec(w, "price", t->t.price, s.price);
    jw_dec(w, "qty", t->t.qty, s.qty);
    jw_dec(w, "fee", maker ? t->t.maker_fee : t->t.taker_fee, s.price);
    jw_str(w, "liquidity", maker ? "maker" : "taker");
    jw_u64(w, "time_ms", t->ts_ns / NS_PER_MS);
    jw_u64(w, "cmd_seq", t->cmd_seq);
    jw_obj_end(w);
}

int answer_fills(jw_t *w, const refdata_t *rd, uint32_t account, const tc_trade_t *const *t, uint32_t n)
{
    jw_reset(w);
    jw_obj(w, NULL);
    jw_arr(w, "fills");
    for (uint32_t i = 0; i < n; i++) {
        if (t[i]->t.taker_account == account)
            fill(w, rd, t[i], false);
        if (t[i]->t.maker_account == account)
            fill(w, rd, t[i], true);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return 200;
}

/* ---------------------------------------------------------------- admin */

int answer_admin(jw_t *w, const refdata_t *rd, const rec_t *cmd, const collect_t *c, uint64_t cmd_seq)
{
    int st = answer_rejected(w, c);
    if (st != 0)
        return st;
    jw_reset(w);
    jw_obj(w, NULL);
    switch (cmd->type) {
    case CMD_ADD_ASSET: {
        cmd_add_asset_t a;
        memcpy(&a, cmd->payload, sizeof(a));
        jw_obj(w, "asset");
        jw_strn(w, "name", a.name, strnlen(a.name, sizeof(a.name)));
        jw_u64(w, "asset", a.asset);
        jw_u64(w, "decimals", a.decimals);
        jw_obj_end(w);
        break;
    }
    case CMD_ADD_INSTRUMENT:
    case CMD_HALT:
    case CMD_RESUME: {
        uint32_t id;
        memcpy(&id, cmd->payload + (cmd->type == CMD_ADD_INSTRUMENT ? offsetof(cmd_add_instrument_t, instrument) : 0),
               sizeof(id));
        const rd_instrument_t *in = refdata_instrument(rd, id);
        if (in != NULL) {
            rd_instrument_t now = *in;
            if (cmd->type != CMD_ADD_INSTRUMENT)
                now.halted = cmd->type == CMD_HALT;
            answer_instrument(w, "instrument", &now, rd);
        } else {
            jw_u64(w, "instrument", id);
        }
        break;
    }
    case CMD_ADD_ACCOUNT: {
        cmd_account_t a;
        memcpy(&a, cmd->payload, sizeof(a));
        jw_u64(w, "account", a.account);
        jw_u64(w, "fee_tier", a.fee_tier);
        break;
    }
    case CMD_DEPOSIT:
    case CMD_WITHDRAW: {
        cmd_funds_t f;
        memcpy(&f, cmd->payload, sizeof(f));
        const rd_asset_t *a = refdata_asset(rd, f.asset);
        unsigned sc = a ? a->decimals : 0;
        jw_u64(w, "account", f.account);
        jw_str(w, "asset", a ? a->name : "?");
        jw_dec(w, "amount", f.amount, sc);
        for (uint32_t i = 0; i < c->n; i++) {
            evt_balance_t b;
            memcpy(&b, c->ev[i].payload, sizeof(b));
            if (c->ev[i].type != EVT_BALANCE || b.account != f.account || b.asset != f.asset)
                continue;
            jw_obj(w, "balance");
            jw_dec(w, "available", b.available, sc);
            jw_dec(w, "held", b.held, sc);
            jw_obj_end(w);
            break;
        }
        break;
    }
    default:
        break;
    }
    jw_u64(w, "cmd_seq", cmd_seq);
    jw_obj_end(w);
    return cmd->type == CMD_HALT || cmd->type == CMD_RESUME ? 200 : 201;
}
