/* flow.c - see flow.h. */
#include "flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rnd(flow_t *f)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return f->rng;
}

/* Distance from the touch in ticks: mostly close, sometimes far. */
static int64_t depth(flow_t *f)
{
    uint64_t r = rnd(f);
    return (int64_t)(r % 8) + (r & (1u << 20) ? (int64_t)((r >> 24) % 200) : 0);
}

void flow_gen_new(flow_t *f, mcmd_t *c, int resting)
{
    uint32_t sym = (uint32_t)(rnd(f) % f->symbols);
    cmd_new_order_t *o = &c->u.new_order;
    memset(o, 0, sizeof(*o));
    c->type = CMD_NEW_ORDER;
    o->instrument = sym;
    o->account = 1 + (uint32_t)(rnd(f) % FLOW_ACCOUNTS);
    o->side = rnd(f) & 1;
    o->qty = (int64_t)(1 + rnd(f) % 10) * 1000000;
    int64_t mid = f->mid[sym];
    if (resting) {
        int64_t d = 1 + depth(f);
        o->price = (o->side == SIDE_BUY ? mid - d : mid + d) * 100;
        o->tif = TIF_GTC;
        if (f->nlive < f->cap) {
            f->live[f->nlive] = f->next_id;
            f->live_acct[f->nlive++] = o->account;
        }
    } else {
        o->price = (o->side == SIDE_BUY ? mid + 3 : mid - 3) * 100;
        o->tif = TIF_IOC;
    }
    f->next_id++;
}

void flow_gen(flow_t *f, mcmd_t *c)
{
    uint64_t r = rnd(f) % 100;
    if (r < 35 && f->nlive > 0) {
        /* Most cancels take back a recent quote, as market makers requoting
         * near the touch do; one in ten hits any live order, deep or old. */
        uint64_t recent = f->nlive < FLOW_RECENT ? f->nlive : FLOW_RECENT;
        uint64_t k = rnd(f) % 10 ? f->nlive - 1 - rnd(f) % recent : rnd(f) % f->nlive;
        memset(&c->u.cancel, 0, sizeof(c->u.cancel));
        c->type = CMD_CANCEL;
        c->u.cancel.order_id = f->live[k];
        c->u.cancel.account = f->live_acct[k];
        f->live[k] = f->live[--f->nlive];
        f->live_acct[k] = f->live_acct[f->nlive];
    } else {
        flow_gen_new(f, c, r < 90);
    }
}

static void admin(matcher_t *m, uint16_t type, const void *p, size_t len)
{
    mcmd_t c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    memcpy(c.u.raw, p, len);
    matcher_apply(m, &c);
}

matcher_t *flow_matcher(uint32_t symbols, uint32_t max_orders, matcher_sink_fn sink, void *ctx)
{
    matcher_config_t cfg;
    matcher_config_defaults(&cfg);
    cfg.max_orders = max_orders;
    cfg.max_gtd = 16;
    cfg.max_accounts = FLOW_ACCOUNTS + 1;
    cfg.max_assets = 2 + FLOW_SYMBOLS_MAX;
    cfg.max_instruments = FLOW_SYMBOLS_MAX;
    cfg.max_levels = 512;
    cfg.max_account_orders = max_orders;
    matcher_t *m;
    err_t err;
    if (matcher_create(&m, &cfg, sink, ctx, &err) < 0) {
        fprintf(stderr, "bench-match: %s\n", err.msg);
        exit(1);
    }
    cmd_add_asset_t usd = {.name = "USD", .asset = 0, .decimals = 2};
    admin(m, CMD_ADD_ASSET, &usd, sizeof(usd));
    cmd_fee_tier_t tier = {.tier = 0, .maker_bps = 10, .taker_bps = 20};
    admin(m, CMD_DEFINE_FEE_TIER, &tier, sizeof(tier));
    for (uint32_t i = 0; i < symbols; i++) {
        cmd_add_asset_t a = {.asset = 1 + i, .decimals = 8};
        snprintf(a.name, sizeof(a.name), "C%u", i);
        admin(m, CMD_ADD_ASSET, &a, sizeof(a));
        cmd_add_instrument_t in = {.instrument = i, .base = 1 + i, .quote = 0, .tick_size = 100,
                                   .lot_size = 1000000, .min_qty = 1000000, .max_qty = 100000000000,
                                   .ref_price = 1000000};
        snprintf(in.symbol, sizeof(in.symbol), "C%u-USD", i);
        admin(m, CMD_ADD_INSTRUMENT, &in, sizeof(in));
    }
    for (uint32_t a = 1; a <= FLOW_ACCOUNTS; a++) {
        cmd_account_t acc = {.account = a};
        admin(m, CMD_ADD_ACCOUNT, &acc, sizeof(acc));
        cmd_funds_t usd_funds = {.account = a, .asset = 0, .amount = INT64_C(1) << 50};
        admin(m, CMD_DEPOSIT, &usd_funds, sizeof(usd_funds));
        for (uint32_t i = 0; i < symbols; i++) {
            cmd_funds_t f = {.account = a, .asset = 1 + i, .amount = INT64_C(1) << 50};
            admin(m, CMD_DEPOSIT, &f, sizeof(f));
        }
    }
    return m;
}

void flow_init(flow_t *f, uint64_t seed, uint32_t symbols, uint64_t cap)
{
    memset(f, 0, sizeof(*f));
    f->rng = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
    f->symbols = symbols;
    f->next_id = 1;
    f->cap = cap;
    f->live = malloc(cap * sizeof(*f->live));
    f->live_acct = malloc(cap * sizeof(*f->live_acct));
    if (f->live == NULL || f->live_acct == NULL) {
        fprintf(stderr, "bench: out of memory for the flow\n");
        exit(1);
    }
    for (uint32_t i = 0; i < symbols; i++)
        f->mid[i] = 10000; /* ticks: 100.00 USD on a 0.01 tick... in price units x100 */
}

/* Builds the resting book: only passive orders. */
void flow_populate(matcher_t *m, flow_t *f, uint64_t n)
{
    mcmd_t c;
    memset(&c, 0, sizeof(c));
    for (uint64_t i = 0; i < n; i++) {
        flow_gen_new(f, &c, 1);
        c.seq++;
        matcher_apply(m, &c);
    }
}


void flow_free(flow_t *f)
{
    free(f->live);
    free(f->live_acct);
    f->live = NULL;
    f->live_acct = NULL;
}
