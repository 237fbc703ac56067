/* matcher_fixture.h - a matcher with a recording sink and short ways to send
 * each command, shared by the matcher tests.
 *
 * Market: BTC (asset 1, 8 decimals) against USD (asset 2, 2 decimals).
 * Instrument 1, BTC-USD: prices in cents per BTC on a 1 USD tick (100),
 * quantities in satoshi on a 0.01 BTC lot (1,000,000). One tick x one lot is
 * one cent. Fee tier 0: maker 10 bps, taker 20 bps. */
#ifndef BOURSE_MATCHER_FIXTURE_H
#define BOURSE_MATCHER_FIXTURE_H

#include "check.h"
#include "matcher.h"

enum { BTC = 1, USD = 2, BTCUSD = 1, MAX_EVENTS = 4096 };
#define USD_(x) ((int64_t)(x) * 100)          /* whole dollars as a price or amount */
#define LOTS(x) ((int64_t)(x) * 1000000)      /* lots of 0.01 BTC */
#define BTC_(x) ((int64_t)(x) * 100000000)

typedef struct fx {
    matcher_t *m;
    mevt_t ev[MAX_EVENTS];
    uint32_t n;
    uint64_t seq, now;
} fx_t;

static void fx_sink(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    fx_t *f = ctx;
    (void)last;
    for (uint32_t i = 0; i < n && f->n < MAX_EVENTS; i++)
        f->ev[f->n++] = ev[i];
}

static inline void fx_cmd(fx_t *f, uint16_t type, const void *payload, size_t len)
{
    mcmd_t c;
    memset(&c, 0, sizeof(c));
    c.seq = ++f->seq;
    c.ts_ns = f->now;
    c.type = type;
    if (len > 0)
        memcpy(c.u.raw, payload, len);
    f->n = 0;
    matcher_apply(f->m, &c);
}

static inline void fx_deposit(fx_t *f, uint32_t account, uint32_t asset, int64_t amount)
{
    cmd_funds_t c = {.account = account, .asset = asset, .amount = amount};
    fx_cmd(f, CMD_DEPOSIT, &c, sizeof(c));
}

static inline int fx_init_cfg(fx_t *f, const matcher_config_t *cfg)
{
    memset(f, 0, sizeof(*f));
    f->now = 1000000000;
    if (matcher_create(&f->m, cfg, fx_sink, f, NULL) < 0)
        return -1;
    cmd_fee_tier_t t = {.tier = 0, .maker_bps = 10, .taker_bps = 20};
    fx_cmd(f, CMD_DEFINE_FEE_TIER, &t, sizeof(t));
    cmd_add_asset_t btc = {.name = "BTC", .asset = BTC, .decimals = 8};
    fx_cmd(f, CMD_ADD_ASSET, &btc, sizeof(btc));
    cmd_add_asset_t usd = {.name = "USD", .asset = USD, .decimals = 2};
    fx_cmd(f, CMD_ADD_ASSET, &usd, sizeof(usd));
    cmd_add_instrument_t in = {.symbol = "BTC-USD", .instrument = BTCUSD, .base = BTC, .quote = USD,
                               .band_bps = 2000, .tick_size = 100, .lot_size = LOTS(1),
                               .min_qty = LOTS(1), .max_qty = BTC_(100), .ref_price = USD_(100)};
    fx_cmd(f, CMD_ADD_INSTRUMENT, &in, sizeof(in));
    for (uint32_t a = 1; a <= 3; a++) {
        cmd_account_t acc = {.account = a};
        fx_cmd(f, CMD_ADD_ACCOUNT, &acc, sizeof(acc));
        fx_deposit(f, a, BTC, BTC_(10));
        fx_deposit(f, a, USD, USD_(10000));
    }
    f->n = 0;
    return 0;
}

/* Room for a thousand orders over four instruments: what the snapshot and
 * recovery tests load and save. */
static inline matcher_config_t fx_small_config(void)
{
    matcher_config_t cfg;
    matcher_config_defaults(&cfg);
    cfg.max_orders = 1024;
    cfg.max_gtd = 256;
    cfg.max_accounts = 8;
    cfg.max_assets = 4;
    cfg.max_instruments = 4;
    cfg.max_levels = 64;
    cfg.max_account_orders = 512;
    return cfg;
}

static inline int fx_init(fx_t *f)
{
    matcher_config_t cfg = fx_small_config();
    cfg.max_gtd = 64;
    cfg.max_account_orders = 256;
    return fx_init_cfg(f, &cfg);
}

typedef struct fx_order {
    uint32_t account;
    int side, type, tif, stp, flags;
    int64_t price, qty;
    uint64_t cloid, expire_ns;
} fx_order_t;

/* Sends a new order; returns its order id, or 0 when it was rejected. */
static inline uint64_t fx_order(fx_t *f, fx_order_t o)
{
    cmd_new_order_t c = {.client_order_id = o.cloid, .price = o.price, .qty = o.qty, .expire_ns = o.expire_ns,
                         .account = o.account, .instrument = BTCUSD, .side = (uint8_t)o.side,
                         .type = (uint8_t)o.type, .tif = (uint8_t)o.tif, .stp = (uint8_t)o.stp,
                         .flags = (uint8_t)o.flags};
    fx_cmd(f, CMD_NEW_ORDER, &c, sizeof(c));
    return f->n > 0 && f->ev[0].type == EVT_ACCEPTED ? f->ev[0].u.accepted.order_id : 0;
}

#define BUY(acct, px, q) fx_order(f, (fx_order_t){.account = (acct), .side = SIDE_BUY, .price = (px), .qty = (q)})
#define SELL(acct, px, q) fx_order(f, (fx_order_t){.account = (acct), .side = SIDE_SELL, .price = (px), .qty = (q)})

static inline uint32_t fx_count(const fx_t *f, uint16_t type)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < f->n; i++)
        k += f->ev[i].type == type;
    return k;
}

/* The i-th event of a type in the last command's events, or NULL. */
static inline const mevt_t *fx_find(const fx_t *f, uint16_t type, uint32_t i)
{
    for (uint32_t k = 0; k < f->n; k++)
        if (f->ev[k].type == type && i-- == 0)
            return &f->ev[k];
    return NULL;
}

static inline int fx_last_reject(const fx_t *f)
{
    const mevt_t *e = fx_find(f, EVT_REJECTED, 0);
    return e ? e->u.rejected.reason : 0;
}

static inline int64_t fx_avail(fx_t *f, uint32_t account, uint32_t asset)
{
    int64_t a = -1, h = -1;
    matcher_balance(f->m, account, asset, &a, &h);
    return a;
}

static inline int64_t fx_held(fx_t *f, uint32_t account, uint32_t asset)
{
    int64_t a = -1, h = -1;
    matcher_balance(f->m, account, asset, &a, &h);
    return h;
}

/* Total quantity open at the best n levels of a side, as matcher_depth sees it. */
static inline int64_t fx_level_qty(fx_t *f, int side, int64_t price)
{
    matcher_level_t lv[64];
    int n = matcher_depth(f->m, BTCUSD, side, lv, 64);
    for (int i = 0; i < n; i++)
        if (lv[i].price == price)
            return lv[i].qty;
    return 0;
}

/* No negative balance anywhere, and every asset's total equals its deposits. */
static inline int fx_invariants_hold(fx_t *f)
{
    for (uint32_t asset = BTC; asset <= USD; asset++) {
        int64_t total, net;
        if (matcher_asset_totals(f->m, asset, &total, &net) < 0 || total != net)
            return 0;
        for (uint32_t a = 0; a <= 3; a++)
            if (fx_avail(f, a, asset) < 0 || fx_held(f, a, asset) < 0)
                return 0;
    }
    return 1;
}

/* ---- random traffic on BTC-USD: limit orders (some GTD, some with client
 * order ids, mixed STP), cancels and amends of live ones, mass cancels and
 * account queries. At most one command a call (none when the order it picked
 * is gone): f->ev then holds that command's events, or the previous ones. */

static uint64_t fx_rng = 1;

static inline uint64_t fx_rnd(void)
{
    fx_rng ^= fx_rng << 13;
    fx_rng ^= fx_rng >> 7;
    fx_rng ^= fx_rng << 17;
    return fx_rng;
}

enum { FX_IDS = 512 };

static inline void fx_random_command(fx_t *f, uint64_t *ids, uint32_t *nids)
{
    uint64_t r = fx_rnd() % 10;
    f->now += fx_rnd() % 1000000;
    if (fx_rnd() % 64 == 0) {
        /* A mass cancel or an account query: both walk the account's list.
         * One command a call: callers look at the last command's events. */
        uint32_t account = 1 + (uint32_t)(fx_rnd() % 3);
        if (fx_rnd() & 1) {
            cmd_mass_cancel_t c = {.account = account, .instrument = UINT32_MAX};
            fx_cmd(f, CMD_MASS_CANCEL, &c, sizeof(c));
        } else {
            cmd_query_account_t q = {.account = account, .limit = QUERY_ORDERS_MAX};
            fx_cmd(f, CMD_QUERY_ACCOUNT, &q, sizeof(q));
        }
        return;
    }
    if (r < 6 || *nids == 0) {
        int side = (int)(fx_rnd() & 1);
        int64_t px = USD_(side == SIDE_BUY ? 90 + (int64_t)(fx_rnd() % 12) : 99 + (int64_t)(fx_rnd() % 12));
        int gtd = fx_rnd() % 8 == 0;
        uint64_t id = fx_order(f, (fx_order_t){.account = 1 + (uint32_t)(fx_rnd() % 3), .side = side, .price = px,
                                              .qty = LOTS(1 + (int64_t)(fx_rnd() % 4)),
                                              .stp = (int)(fx_rnd() % 4), .cloid = fx_rnd() % 4 ? 0 : fx_rnd() % 50,
                                              .tif = gtd ? TIF_GTD : TIF_GTC,
                                              .expire_ns = gtd ? f->now + fx_rnd() % 20000000 : 0});
        if (id != 0 && *nids < FX_IDS)
            ids[(*nids)++] = id;
        return;
    }
    uint32_t k = (uint32_t)(fx_rnd() % *nids);
    matcher_order_t o;
    if (matcher_order(f->m, ids[k], &o) != 0) {
        ids[k] = ids[--*nids];
        return;
    }
    if (r < 9) {
        cmd_cancel_t c = {.order_id = ids[k], .account = o.account};
        fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
        ids[k] = ids[--*nids];
    } else {
        cmd_amend_t c = {.order_id = ids[k], .account = o.account, .new_qty = LOTS(1 + (int64_t)(fx_rnd() % 5)),
                         .new_price = fx_rnd() & 1 ? o.price + USD_(1) : 0};
        fx_cmd(f, CMD_AMEND, &c, sizeof(c));
    }
}

#endif
