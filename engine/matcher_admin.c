/* matcher_admin.c - the matcher's life cycle and its admin commands: assets,
 * instruments (add, halt, resume), accounts, deposits and withdrawals, fee
 * tiers; and the whole-state views (digest, totals). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "matcher_int.h"

void matcher_config_defaults(matcher_config_t *cfg)
{
    *cfg = (matcher_config_t){
        .max_orders = 1u << 20,
        .max_gtd = 1u << 18,
        .max_accounts = 4096,
        .max_assets = 16,
        .max_instruments = 128,
        .max_levels = 4096,
        .max_account_orders = 1u << 20,
    };
}

enum { HUGE_PAGE_BYTES = 2 << 20 };

/* Zeroed, cache-line aligned, and every page touched now: the hot path never
 * takes a page fault on first use of a pool. Pools of 1 MiB and more are
 * rounded up to 2 MiB and ask for transparent huge pages: random probes of the order pool and the id table
 * then miss the TLB far less (a hint; without THP they get small pages). */
static void *alloc(matcher_t *m, size_t n, size_t size)
{
    size_t bytes = (n ? n : 1) * size;
    size_t align = bytes >= HUGE_PAGE_BYTES / 2 ? HUGE_PAGE_BYTES : 64;
    bytes = (bytes + align - 1) & ~(align - 1);
    void *p = aligned_alloc(align, bytes);
    if (p != NULL && align == HUGE_PAGE_BYTES)
        (void)madvise(p, bytes, MADV_HUGEPAGE);
    if (p != NULL)
        memset(p, 0, bytes);
    m->mem_bytes += bytes;
    return p;
}

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

int matcher_create(matcher_t **out, const matcher_config_t *cfg, matcher_sink_fn sink, void *ctx,
                   err_t *err)
{
    if (cfg->max_orders < 1 || cfg->max_orders > (1u << 30))
        return err_set(err, -EINVAL, "max_orders must be 1 to 2^30");
    if (cfg->max_accounts < 1 || cfg->max_assets < 1 || cfg->max_instruments < 1 || cfg->max_levels < 1 ||
        cfg->max_gtd < 1 || cfg->max_account_orders < 1)
        return err_set(err, -EINVAL, "matcher capacities must be at least 1");
    if ((uint64_t)cfg->max_accounts * cfg->max_assets > (1u << 28))
        return err_set(err, -EINVAL, "max_accounts x max_assets must stay under 2^28 balances");
    if ((uint64_t)cfg->max_instruments * cfg->max_levels > (1u << 26))
        return err_set(err, -EINVAL, "max_instruments x max_levels must stay under 2^26 levels per side");
    matcher_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    m->cfg = *cfg;
    m->sink = sink;
    m->sink_ctx = ctx;
    m->mem_bytes = sizeof(*m);
    m->orders = alloc(m, cfg->max_orders, sizeof(order_t));
    m->expire = alloc(m, cfg->max_orders, sizeof(uint64_t));
    uint64_t slots = pow2_at_least((uint64_t)cfg->max_orders * 2);
    m->id_slot = alloc(m, slots, sizeof(uint32_t));
    m->id_mask = slots - 1;
    m->by_id.slots = alloc(m, slots, sizeof(oslot_t));
    m->by_id.mask = slots - 1;
    m->by_cloid.slots = alloc(m, slots, sizeof(oslot_t));
    m->by_cloid.mask = slots - 1;
    m->inst = alloc(m, cfg->max_instruments, sizeof(instrument_t));
    m->assets = alloc(m, cfg->max_assets, sizeof(asset_t));
    m->accounts = alloc(m, cfg->max_accounts, sizeof(account_t));
    m->bal = alloc(m, (size_t)cfg->max_accounts * cfg->max_assets, sizeof(balance_t));
    m->gtd = alloc(m, cfg->max_gtd, sizeof(gtd_entry_t));
    int ok = m->orders && m->expire && m->id_slot && m->by_id.slots && m->by_cloid.slots && m->inst && m->assets &&
             m->accounts && m->bal && m->gtd;
    /* Every book side's level vector in one pool: one huge-page mapping
     * instead of a small allocation per side. */
    ok = ok && (m->levels = alloc(m, (size_t)cfg->max_instruments * 2 * cfg->max_levels, sizeof(level_t))) != NULL;
    for (uint32_t i = 0; ok && i < cfg->max_instruments; i++)
        for (int s = 0; s < 2; s++)
            m->inst[i].side[s].lv = m->levels + ((size_t)i * 2 + (size_t)s) * cfg->max_levels;
    if (!ok) {
        matcher_destroy(m);
        return err_set(err, -ENOMEM, "out of memory for the matcher's pools");
    }
    for (uint32_t i = 0; i < cfg->max_orders; i++)
        m->orders[i].next = i + 1 < cfg->max_orders ? i + 1 : NIL;
    m->free_head = 0;
    for (uint32_t a = 0; a < cfg->max_accounts; a++)
        m->accounts[a].head = m->accounts[a].tail = NIL;
    m->accounts[MATCHER_FEE_ACCOUNT].exists = 1;
    m->next_order_id = 1;
    m->next_trade_id = 1;
    *out = m;
    return 0;
}

const matcher_config_t *matcher_config(const matcher_t *m)
{
    return &m->cfg;
}

void matcher_destroy(matcher_t *m)
{
    if (m == NULL)
        return;
    free(m->levels);
    free(m->orders);
    free(m->expire);
    free(m->id_slot);
    free(m->by_id.slots);
    free(m->by_cloid.slots);
    free(m->inst);
    free(m->assets);
    free(m->accounts);
    free(m->bal);
    free(m->gtd);
    free(m);
}

uint64_t matcher_memory_bytes(const matcher_t *m)
{
    return m->mem_bytes;
}

/* A name field from outside: NUL-terminated inside its array, printable, not empty. */
static int name_ok(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    if (len == 0 || len == n)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

static int64_t pow10_i64(unsigned d)
{
    int64_t p = 1;
    while (d-- > 0)
        p *= 10;
    return p;
}

static void ack(matcher_t *m, const mcmd_t *cmd, uint32_t len)
{
    m_emit(m, EVT_ADMIN, cmd->u.raw, len);
}

static uint16_t add_asset(matcher_t *m, const cmd_add_asset_t *c)
{
    if (c->asset >= m->cfg.max_assets)
        return REJ_CAPACITY;
    if (m->assets[c->asset].exists)
        return REJ_EXISTS;
    if (c->decimals > 18 || !name_ok(c->name, sizeof(c->name)))
        return REJ_BAD_ASSET;
    asset_t *a = &m->assets[c->asset];
    a->exists = 1;
    a->decimals = c->decimals;
    memcpy(a->name, c->name, sizeof(a->name));
    return 0;
}

static int asset_ok(const matcher_t *m, uint32_t asset)
{
    return asset < m->cfg.max_assets && m->assets[asset].exists;
}

static uint16_t add_instrument(matcher_t *m, const cmd_add_instrument_t *c)
{
    if (c->instrument >= m->cfg.max_instruments)
        return REJ_CAPACITY;
    if (m->inst[c->instrument].status != INST_NONE)
        return REJ_EXISTS;
    if (!asset_ok(m, c->base) || !asset_ok(m, c->quote))
        return REJ_UNKNOWN_ASSET;
    if (c->base == c->quote || !name_ok(c->symbol, sizeof(c->symbol)) || c->tick_size <= 0 ||
        c->lot_size <= 0 || c->band_bps > 10000)
        return REJ_BAD_INSTRUMENT;
    /* Notional of one tick x one lot must be a whole number of quote minor
     * units: then every trade's notional is exact in integers. */
    int64_t unit = pow10_i64(m->assets[c->base].decimals), tl;
    if (__builtin_mul_overflow(c->tick_size, c->lot_size, &tl) || tl % unit != 0)
        return REJ_BAD_INSTRUMENT;
    if (c->min_qty <= 0 || c->max_qty < c->min_qty || c->min_qty % c->lot_size != 0 ||
        c->max_qty % c->lot_size != 0)
        return REJ_BAD_INSTRUMENT;
    if (c->ref_price <= 0 || c->ref_price % c->tick_size != 0)
        return REJ_BAD_INSTRUMENT;
    instrument_t *in = &m->inst[c->instrument];
    in->status = INST_OPEN;
    memcpy(in->symbol, c->symbol, sizeof(in->symbol));
    in->base = c->base;
    in->quote = c->quote;
    in->band_bps = c->band_bps;
    in->tick = c->tick_size;
    in->lot = c->lot_size;
    in->mult = tl / unit;
    m_inst_derive(in);
    in->min_lots = c->min_qty / c->lot_size;
    in->max_lots = c->max_qty / c->lot_size;
    in->ref_ticks = c->ref_price / c->tick_size;
    in->side[0].n = in->side[1].n = 0;
    return 0;
}

static uint16_t set_status(matcher_t *m, const cmd_instrument_t *c, int halt)
{
    if (c->instrument >= m->cfg.max_instruments || m->inst[c->instrument].status == INST_NONE)
        return REJ_UNKNOWN_INSTRUMENT;
    instrument_t *in = &m->inst[c->instrument];
    if (halt && in->status == INST_HALTED)
        return REJ_ALREADY_HALTED;
    if (!halt && in->status != INST_HALTED)
        return REJ_NOT_HALTED;
    in->status = halt ? INST_HALTED : INST_OPEN;
    return 0;
}

static uint16_t add_account(matcher_t *m, const cmd_account_t *c)
{
    if (c->account >= m->cfg.max_accounts)
        return REJ_CAPACITY;
    if (m->accounts[c->account].exists)
        return REJ_EXISTS;
    if (c->fee_tier >= MATCHER_FEE_TIERS)
        return REJ_BAD_FEE;
    m->accounts[c->account].exists = 1;
    m->accounts[c->account].tier = (uint8_t)c->fee_tier;
    return 0;
}

static uint16_t set_tier(matcher_t *m, const cmd_account_t *c)
{
    if (c->account >= m->cfg.max_accounts || !m->accounts[c->account].exists)
        return REJ_UNKNOWN_ACCOUNT;
    if (c->fee_tier >= MATCHER_FEE_TIERS)
        return REJ_BAD_FEE;
    m->accounts[c->account].tier = (uint8_t)c->fee_tier;
    return 0;
}

static uint16_t define_tier(matcher_t *m, const cmd_fee_tier_t *c)
{
    if (c->tier >= MATCHER_FEE_TIERS || c->maker_bps < 0 || c->maker_bps > 1000 || c->taker_bps < 0 ||
        c->taker_bps > 1000)
        return REJ_BAD_FEE;
    m->tiers[c->tier] = (fee_tier_t){c->maker_bps, c->taker_bps};
    return 0;
}

static uint16_t funds(matcher_t *m, const cmd_funds_t *c, int deposit)
{
    if (c->account >= m->cfg.max_accounts || !m->accounts[c->account].exists)
        return REJ_UNKNOWN_ACCOUNT;
    if (!asset_ok(m, c->asset))
        return REJ_UNKNOWN_ASSET;
    if (c->amount <= 0)
        return REJ_AMOUNT_NOT_POSITIVE;
    balance_t *b = m_bal(m, c->account, c->asset);
    asset_t *a = &m->assets[c->asset];
    int64_t v, net;
    if (deposit) {
        if (__builtin_add_overflow(b->avail, c->amount, &v) || __builtin_add_overflow(b->held, v, &net) ||
            __builtin_add_overflow(a->net_deposits, c->amount, &net))
            return REJ_OVERFLOW;
        b->avail = v;
        a->net_deposits = net;
    } else {
        if (b->avail < c->amount)
            return REJ_INSUFFICIENT_BALANCE; /* held funds are not withdrawable */
        b->avail -= c->amount;
        a->net_deposits -= c->amount;
    }
    m_touch(m, c->account, c->asset);
    return 0;
}

void m_admin(matcher_t *m, const mcmd_t *cmd)
{
    uint16_t r;
    uint32_t len, account = 0;
    switch (cmd->type) {
    case CMD_ADD_ASSET: r = add_asset(m, &cmd->u.add_asset); len = sizeof(cmd_add_asset_t); break;
    case CMD_ADD_INSTRUMENT:
        r = add_instrument(m, &cmd->u.add_instrument);
        len = sizeof(cmd_add_instrument_t);
        break;
    case CMD_HALT: r = set_status(m, &cmd->u.instrument, 1); len = sizeof(cmd_instrument_t); break;
    case CMD_RESUME: r = set_status(m, &cmd->u.instrument, 0); len = sizeof(cmd_instrument_t); break;
    case CMD_ADD_ACCOUNT:
        account = cmd->u.account.account;
        r = add_account(m, &cmd->u.account);
        len = sizeof(cmd_account_t);
        break;
    case CMD_SET_FEE_TIER:
        account = cmd->u.account.account;
        r = set_tier(m, &cmd->u.account);
        len = sizeof(cmd_account_t);
        break;
    case CMD_DEFINE_FEE_TIER: r = define_tier(m, &cmd->u.fee_tier); len = sizeof(cmd_fee_tier_t); break;
    case CMD_DEPOSIT:
    case CMD_WITHDRAW:
        account = cmd->u.funds.account;
        r = funds(m, &cmd->u.funds, cmd->type == CMD_DEPOSIT);
        len = sizeof(cmd_funds_t);
        break;
    default:
        m_reject(m, cmd->type, 0, 0, 0, REJ_UNKNOWN_COMMAND);
        return;
    }
    if (r != 0)
        m_reject(m, cmd->type, account, 0, 0, r);
    else
        ack(m, cmd, len);
}

/* ---------------------------------------------------------------- views */

int matcher_asset_totals(const matcher_t *m, uint32_t asset, int64_t *total, int64_t *net_deposits)
{
    if (!asset_ok(m, asset))
        return -ENOENT;
    int64_t sum = 0;
    for (uint32_t a = 0; a < m->cfg.max_accounts; a++) {
        const balance_t *b = m_bal(m, a, asset);
        sum += b->avail + b->held;
    }
    *total = sum;
    *net_deposits = m->assets[asset].net_deposits;
    return 0;
}

typedef struct fnv {
    uint64_t h;
} fnv_t;

static void fnv(fnv_t *f, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        f->h ^= b[i];
        f->h *= UINT64_C(0x100000001b3);
    }
}

#define FNV(f, v) fnv((f), &(v), sizeof(v))

uint64_t matcher_digest(const matcher_t *m)
{
    fnv_t f = {UINT64_C(0xcbf29ce484222325)};
    FNV(&f, m->next_order_id);
    FNV(&f, m->next_trade_id);
    fnv(&f, m->tiers, sizeof(m->tiers));
    for (uint32_t i = 0; i < m->cfg.max_assets; i++)
        if (m->assets[i].exists) {
            FNV(&f, i);
            fnv(&f, &m->assets[i], sizeof(asset_t));
        }
    for (uint32_t i = 0; i < m->cfg.max_instruments; i++) {
        const instrument_t *in = &m->inst[i];
        if (in->status == INST_NONE)
            continue;
        FNV(&f, i);
        FNV(&f, in->status);
        FNV(&f, in->ref_ticks);
        for (int s = 0; s < 2; s++)
            for (uint32_t p = 0; p < in->side[s].n; p++) {
                const level_t *lv = &in->side[s].lv[p];
                FNV(&f, lv->price);
                FNV(&f, lv->qty);
                FNV(&f, lv->count);
                for (uint32_t oi = lv->head; oi != NIL; oi = m->orders[oi].next) {
                    const order_t *o = &m->orders[oi];
                    FNV(&f, o->id);
                    FNV(&f, o->cloid);
                    FNV(&f, o->qty);
                    uint64_t expire = m_expire(m, oi);
                    FNV(&f, expire);
                    FNV(&f, o->account);
                    FNV(&f, o->tif);
                    FNV(&f, o->stp);
                    FNV(&f, o->flags);
                    FNV(&f, o->maker_bps);
                    FNV(&f, o->taker_bps);
                }
            }
    }
    for (uint32_t a = 0; a < m->cfg.max_accounts; a++) {
        if (!m->accounts[a].exists)
            continue;
        FNV(&f, a);
        FNV(&f, m->accounts[a].tier);
        for (uint32_t s = 0; s < m->cfg.max_assets; s++) {
            const balance_t *b = m_bal(m, a, s);
            if (b->avail != 0 || b->held != 0) {
                FNV(&f, s);
                FNV(&f, b->avail);
                FNV(&f, b->held);
            }
        }
    }
    return f.h;
}
