/* matcher_snapshot.c - the matcher's whole state as a byte stream, and back.
 *
 * The stream is canonical: it says what the state is, not where it sits in
 * the pools (levels worst to best, each level's orders in time priority), so
 * a loaded matcher has the same digest and gives the same events for the same
 * commands as the one that was saved. Integers are little-endian, fixed width.
 * Loading trusts nothing: every id, count, price and hold is checked, and a
 * stream that does not describe a consistent state is refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "matcher.h"
#include "matcher_int.h"

#define SNAP_MAGIC "BRSMATCH"
enum { SNAP_VERSION = 1, SNAP_END = 0x454e44, SNAP_REASONS = 64 };
_Static_assert((int)REJ_REASON_MAX <= (int)SNAP_REASONS, "reject counters fit the snapshot");

/* ---------------------------------------------------------------- writing */

typedef struct wr {
    matcher_write_fn fn;
    void *ctx;
    int rc;
} wr_t;

static void put(wr_t *w, const void *p, size_t n)
{
    if (w->rc == 0)
        w->rc = w->fn(w->ctx, p, n);
}

#define PUT(w, v)                          \
    do {                                   \
        __typeof__(v) put_v_ = (v);        \
        put((w), &put_v_, sizeof(put_v_)); \
    } while (0)

static void save_level_orders(wr_t *w, const matcher_t *m, const level_t *lv)
{
    for (uint32_t oi = lv->head; oi != NIL; oi = m->orders[oi].next) {
        const order_t *o = &m->orders[oi];
        PUT(w, o->id);
        PUT(w, o->cloid);
        PUT(w, o->qty);
        PUT(w, o->account);
        PUT(w, o->tif);
        PUT(w, o->stp);
        PUT(w, o->flags);
        PUT(w, o->maker_bps);
        PUT(w, o->taker_bps);
        PUT(w, m_expire(m, oi));
    }
}

int matcher_save(const matcher_t *m, matcher_write_fn fn, void *ctx)
{
    wr_t w = {fn, ctx, 0};
    put(&w, SNAP_MAGIC, 8);
    PUT(&w, (uint32_t)SNAP_VERSION);
    put(&w, &m->cfg, sizeof(m->cfg));
    PUT(&w, m->next_order_id);
    PUT(&w, m->next_trade_id);
    for (int t = 0; t < MATCHER_FEE_TIERS; t++) {
        PUT(&w, m->tiers[t].maker_bps);
        PUT(&w, m->tiers[t].taker_bps);
    }
    PUT(&w, m->stats.orders_accepted);
    PUT(&w, m->stats.trades);
    PUT(&w, m->stats.rejects);
    for (int r = 0; r < SNAP_REASONS; r++)
        PUT(&w, r < REJ_REASON_MAX ? m->stats.rejects_by_reason[r] : (uint64_t)0);

    uint32_t n = 0;
    for (uint32_t a = 0; a < m->cfg.max_assets; a++)
        n += m->assets[a].exists;
    PUT(&w, n);
    for (uint32_t a = 0; a < m->cfg.max_assets; a++) {
        const asset_t *as = &m->assets[a];
        if (!as->exists)
            continue;
        PUT(&w, a);
        PUT(&w, as->decimals);
        put(&w, as->name, sizeof(as->name));
        PUT(&w, as->net_deposits);
    }

    n = 0;
    for (uint32_t a = 0; a < m->cfg.max_accounts; a++)
        n += m->accounts[a].exists;
    PUT(&w, n);
    uint64_t nbal = 0;
    for (uint32_t a = 0; a < m->cfg.max_accounts; a++) {
        if (!m->accounts[a].exists)
            continue;
        PUT(&w, a);
        PUT(&w, m->accounts[a].tier);
        for (uint32_t s = 0; s < m->cfg.max_assets; s++) {
            const balance_t *b = m_bal(m, a, s);
            nbal += b->avail != 0 || b->held != 0;
        }
    }
    PUT(&w, nbal);
    for (uint32_t a = 0; a < m->cfg.max_accounts; a++) {
        if (!m->accounts[a].exists)
            continue;
        for (uint32_t s = 0; s < m->cfg.max_assets; s++) {
            const balance_t *b = m_bal(m, a, s);
            if (b->avail == 0 && b->held == 0)
                continue;
            PUT(&w, a);
            PUT(&w, s);
            PUT(&w, b->avail);
            PUT(&w, b->held);
        }
    }

    n = 0;
    for (uint32_t i = 0; i < m->cfg.max_instruments; i++)
        n += m->inst[i].status != INST_NONE;
    PUT(&w, n);
    for (uint32_t i = 0; i < m->cfg.max_instruments; i++) {
        const instrument_t *in = &m->inst[i];
        if (in->status == INST_NONE)
            continue;
        PUT(&w, i);
        PUT(&w, in->status);
        put(&w, in->symbol, sizeof(in->symbol));
        PUT(&w, in->base);
        PUT(&w, in->quote);
        PUT(&w, in->band_bps);
        PUT(&w, in->tick);
        PUT(&w, in->lot);
        PUT(&w, in->min_lots);
        PUT(&w, in->max_lots);
        PUT(&w, in->ref_ticks);
        for (int s = 0; s < 2; s++) {
            const book_side_t *bs = &in->side[s];
            PUT(&w, bs->n);
            for (uint32_t p = 0; p < bs->n; p++) {
                PUT(&w, bs->lv[p].price);
                PUT(&w, bs->lv[p].count);
                save_level_orders(&w, m, &bs->lv[p]);
            }
        }
    }
    PUT(&w, (uint64_t)SNAP_END);
    return w.rc;
}

/* ---------------------------------------------------------------- loading */

typedef struct rd {
    matcher_read_fn fn;
    void *ctx;
    int rc;
    err_t *err;
} rd_t;

static int get(rd_t *r, void *p, size_t n)
{
    if (r->rc == 0) {
        r->rc = r->fn(r->ctx, p, n);
        if (r->rc < 0)
            err_set(r->err, r->rc, "snapshot ends early or cannot be read");
    }
    if (r->rc != 0)
        memset(p, 0, n);
    return r->rc;
}

#define GET(r, v) get((r), &(v), sizeof(v))

/* Records the first problem; every later step then does nothing. */
#define BAD(r, ...) ((r)->rc == 0 ? ((r)->rc = err_set((r)->err, -EPROTO, __VA_ARGS__)) : (r)->rc)

static int cfg_fits(const matcher_config_t *have, const matcher_config_t *saved)
{
    return have->max_orders >= saved->max_orders && have->max_gtd >= saved->max_gtd &&
           have->max_accounts >= saved->max_accounts && have->max_assets >= saved->max_assets &&
           have->max_instruments >= saved->max_instruments && have->max_levels >= saved->max_levels &&
           have->max_account_orders >= saved->max_account_orders;
}

static void load_header(rd_t *r, matcher_t *m)
{
    char magic[8];
    uint32_t version = 0;
    get(r, magic, sizeof(magic));
    GET(r, version);
    if (r->rc == 0 && (memcmp(magic, SNAP_MAGIC, 8) != 0 || version != SNAP_VERSION))
        BAD(r, "not a matcher snapshot of version %d", SNAP_VERSION);
    matcher_config_t saved;
    GET(r, saved);
    if (r->rc == 0 && !cfg_fits(&m->cfg, &saved))
        r->rc = err_set(r->err, -ENOSPC,
                        "the snapshot needs larger [matcher] capacities than configured "
                        "(max_orders %u, max_accounts %u, max_assets %u, max_instruments %u, max_levels %u)",
                        saved.max_orders, saved.max_accounts, saved.max_assets, saved.max_instruments,
                        saved.max_levels);
    GET(r, m->next_order_id);
    GET(r, m->next_trade_id);
    for (int t = 0; t < MATCHER_FEE_TIERS; t++) {
        GET(r, m->tiers[t].maker_bps);
        GET(r, m->tiers[t].taker_bps);
        fee_tier_t *ft = &m->tiers[t];
        if (ft->maker_bps < 0 || ft->maker_bps > 1000 || ft->taker_bps < 0 || ft->taker_bps > 1000)
            BAD(r, "fee tier %d out of range", t);
    }
    if (m->next_order_id == 0 || m->next_trade_id == 0)
        BAD(r, "id counters must start at 1");
    GET(r, m->stats.orders_accepted);
    GET(r, m->stats.trades);
    GET(r, m->stats.rejects);
    for (int i = 0; i < SNAP_REASONS; i++) {
        uint64_t v;
        GET(r, v);
        if (i < REJ_REASON_MAX)
            m->stats.rejects_by_reason[i] = v;
    }
}

static void load_assets_accounts(rd_t *r, matcher_t *m)
{
    uint32_t n = 0;
    GET(r, n);
    for (uint32_t k = 0; k < n && r->rc == 0; k++) {
        uint32_t a = 0;
        GET(r, a);
        if (a >= m->cfg.max_assets || m->assets[a].exists) {
            BAD(r, "asset %u: out of range or twice", a);
            break;
        }
        asset_t *as = &m->assets[a];
        GET(r, as->decimals);
        get(r, as->name, sizeof(as->name));
        GET(r, as->net_deposits);
        if (as->decimals > 18 || as->name[sizeof(as->name) - 1] != '\0')
            BAD(r, "asset %u: bad decimals or name", a);
        as->exists = 1;
    }
    GET(r, n);
    for (uint32_t k = 0; k < n && r->rc == 0; k++) {
        uint32_t a = 0;
        GET(r, a);
        if (a >= m->cfg.max_accounts || (a != MATCHER_FEE_ACCOUNT && m->accounts[a].exists)) {
            BAD(r, "account %u: out of range or twice", a);
            break;
        }
        GET(r, m->accounts[a].tier);
        if (m->accounts[a].tier >= MATCHER_FEE_TIERS)
            BAD(r, "account %u: fee tier out of range", a);
        m->accounts[a].exists = 1;
    }
    uint64_t nbal = 0;
    GET(r, nbal);
    for (uint64_t k = 0; k < nbal && r->rc == 0; k++) {
        uint32_t a = 0, s = 0;
        GET(r, a);
        GET(r, s);
        if (a >= m->cfg.max_accounts || !m->accounts[a].exists || s >= m->cfg.max_assets || !m->assets[s].exists) {
            BAD(r, "balance of account %u in asset %u: no such account or asset", a, s);
            break;
        }
        balance_t *b = m_bal(m, a, s);
        GET(r, b->avail);
        GET(r, b->held);
        if (b->avail < 0 || b->held < 0)
            BAD(r, "balance of account %u in asset %u is negative", a, s);
    }
}

static void load_order(rd_t *r, matcher_t *m, uint32_t ii, int side, level_t *lv)
{
    order_t t = {.price = lv->price, .instrument = ii, .side = (uint8_t)side, .prev = NIL, .next = NIL,
                 .aprev = NIL, .anext = NIL};
    uint64_t expire = 0;
    GET(r, t.id);
    GET(r, t.cloid);
    GET(r, t.qty);
    GET(r, t.account);
    GET(r, t.tif);
    GET(r, t.stp);
    GET(r, t.flags);
    GET(r, t.maker_bps);
    GET(r, t.taker_bps);
    GET(r, expire);
    if (r->rc != 0)
        return;
    const instrument_t *in = &m->inst[ii];
    if (t.id == 0 || t.id >= m->next_order_id || find_id(m, t.id) != NIL)
        return (void)BAD(r, "order %lu: id out of range or twice", (unsigned long)t.id);
    if (t.account >= m->cfg.max_accounts || !m->accounts[t.account].exists)
        return (void)BAD(r, "order %lu: no account %u", (unsigned long)t.id, t.account);
    if (t.qty <= 0 || t.qty > in->max_lots || (t.tif != TIF_GTC && t.tif != TIF_GTD) ||
        t.stp > STP_DECREMENT || (t.flags & ~ORDF_POST_ONLY) != 0 || t.maker_bps > 1000 ||
        t.taker_bps > 1000 || (t.tif == TIF_GTD) != (expire != 0))
        return (void)BAD(r, "order %lu: inconsistent fields", (unsigned long)t.id);
    if (t.cloid != 0 && find_cloid(m, t.account, t.cloid) != NIL)
        return (void)BAD(r, "order %lu: client order id %lu twice", (unsigned long)t.id, (unsigned long)t.cloid);
    if (m->free_head == NIL)
        return (void)(r->rc = err_set(r->err, -ENOSPC, "more resting orders than max_orders"));
    if (m->accounts[t.account].open_orders >= m->cfg.max_account_orders)
        return (void)(r->rc = err_set(r->err, -ENOSPC, "account %u has more orders than max_orders_per_account",
                                      t.account));
    if (t.tif == TIF_GTD && m->ngtd >= m->cfg.max_gtd)
        return (void)(r->rc = err_set(r->err, -ENOSPC, "more GTD orders than max_gtd_orders"));
    if (m_order_need(in, &t) < 0)
        return (void)BAD(r, "order %lu: hold overflows", (unsigned long)t.id);
    if (t.qty > in->level_lots_max - lv->qty)
        return (void)BAD(r, "order %lu: its level's quantity overflows", (unsigned long)t.id);
    uint32_t oi = m_order_alloc(m);
    m->orders[oi] = t;
    m->expire[oi] = expire;
    book_push(m->orders, lv, oi);
    /* The id index now, for the duplicate check; the rest in id order later. */
    m_order_index(m, oi);
}

static void load_instruments(rd_t *r, matcher_t *m)
{
    uint32_t n = 0;
    GET(r, n);
    for (uint32_t k = 0; k < n && r->rc == 0; k++) {
        uint32_t ii = 0;
        GET(r, ii);
        if (ii >= m->cfg.max_instruments || m->inst[ii].status != INST_NONE)
            return (void)BAD(r, "instrument %u: out of range or twice", ii);
        instrument_t *in = &m->inst[ii];
        GET(r, in->status);
        get(r, in->symbol, sizeof(in->symbol));
        GET(r, in->base);
        GET(r, in->quote);
        GET(r, in->band_bps);
        GET(r, in->tick);
        GET(r, in->lot);
        GET(r, in->min_lots);
        GET(r, in->max_lots);
        GET(r, in->ref_ticks);
        if (r->rc != 0)
            return;
        if ((in->status != INST_OPEN && in->status != INST_HALTED) || in->symbol[15] != '\0' ||
            in->base >= m->cfg.max_assets || !m->assets[in->base].exists || in->quote >= m->cfg.max_assets ||
            !m->assets[in->quote].exists || in->base == in->quote || in->tick <= 0 || in->lot <= 0 ||
            in->band_bps > 10000 || in->min_lots <= 0 || in->max_lots < in->min_lots || in->ref_ticks <= 0)
            return (void)BAD(r, "instrument %u: inconsistent definition", ii);
        /* What a definition from an admin command always satisfies: its limits
         * and reference price are whole amounts in int64. */
        if (in->max_lots > INT64_MAX / in->lot || in->ref_ticks > INT64_MAX / in->tick)
            return (void)BAD(r, "instrument %u: a limit or the reference price overflows", ii);
        int64_t unit = 1, tl;
        for (unsigned d = 0; d < m->assets[in->base].decimals; d++)
            unit *= 10;
        if (__builtin_mul_overflow(in->tick, in->lot, &tl) || tl % unit != 0)
            return (void)BAD(r, "instrument %u: tick x lot is not whole quote units", ii);
        in->mult = tl / unit;
        m_inst_derive(in);
        for (int s = 0; s < 2 && r->rc == 0; s++) {
            book_side_t *bs = &in->side[s];
            uint32_t nl = 0;
            GET(r, nl);
            if (nl > m->cfg.max_levels)
                return (void)(r->rc = err_set(r->err, -ENOSPC, "instrument %u has more levels than max_levels", ii));
            for (uint32_t p = 0; p < nl && r->rc == 0; p++) {
                int64_t price = 0;
                uint32_t count = 0;
                GET(r, price);
                GET(r, count);
                if (price <= 0 || count == 0 ||
                    (p > 0 && book_key(s, price) <= book_key(s, bs->lv[p - 1].price)))
                    return (void)BAD(r, "instrument %u: levels out of order or empty", ii);
                if (price > INT64_MAX / in->tick)
                    return (void)BAD(r, "instrument %u: a level's price overflows", ii);
                level_t *lv = book_insert(bs, p, price);
                for (uint32_t o = 0; o < count && r->rc == 0; o++)
                    load_order(r, m, ii, s, lv);
            }
        }
    }
}

static int cmp_id(const void *a, const void *b, void *ctx)
{
    const order_t *orders = ctx;
    uint64_t x = orders[*(const uint32_t *)a].id, y = orders[*(const uint32_t *)b].id;
    return x < y ? -1 : x > y;
}

/* Account lists in id order (which is arrival order), as they were. */
static int relink_accounts(matcher_t *m)
{
    uint32_t n = m->resting;
    uint32_t *idx = malloc(((size_t)n + 1) * sizeof(*idx));
    if (idx == NULL)
        return -ENOMEM;
    uint32_t k = 0;
    for (uint32_t a = 0; a < m->cfg.max_accounts; a++) {
        for (uint32_t oi = m->accounts[a].head; oi != NIL; oi = m->orders[oi].anext)
            idx[k++] = oi;
        m->accounts[a].head = m->accounts[a].tail = NIL;
        m->accounts[a].open_orders = 0;
    }
    qsort_r(idx, k, sizeof(*idx), cmp_id, m->orders);
    for (uint32_t i = 0; i < k; i++) {
        order_t *o = &m->orders[idx[i]];
        account_t *a = &m->accounts[o->account];
        o->anext = NIL;
        o->aprev = a->tail;
        if (a->tail != NIL)
            m->orders[a->tail].anext = idx[i];
        else
            a->head = idx[i];
        a->tail = idx[i];
        a->open_orders++;
    }
    free(idx);
    return 0;
}

/* Each asset's balances add up to its net deposits, as they do after every
 * command (fees only move between accounts). This also bounds every balance,
 * so no later credit can overflow one. */
static int totals_match(const matcher_t *m, err_t *err)
{
    for (uint32_t s = 0; s < m->cfg.max_assets; s++) {
        if (!m->assets[s].exists)
            continue;
        int64_t sum = 0;
        for (uint32_t a = 0; a < m->cfg.max_accounts; a++) {
            const balance_t *b = m_bal(m, a, s);
            if (__builtin_add_overflow(sum, b->avail, &sum) || __builtin_add_overflow(sum, b->held, &sum))
                return err_set(err, -EPROTO, "balances of asset %u overflow", s);
        }
        if (sum != m->assets[s].net_deposits)
            return err_set(err, -EPROTO, "balances of asset %u add up to %ld, its net deposits are %ld", s,
                           (long)sum, (long)m->assets[s].net_deposits);
    }
    return 0;
}

/* Every held balance is exactly what its orders need. */
static int holds_match(matcher_t *m, err_t *err)
{
    size_t nbal = (size_t)m->cfg.max_accounts * m->cfg.max_assets;
    int64_t *need = calloc(nbal, sizeof(*need));
    if (need == NULL)
        return err_set(err, -ENOMEM, "out of memory checking holds");
    int rc = 0;
    for (uint32_t a = 0; a < m->cfg.max_accounts && rc == 0; a++)
        for (uint32_t oi = m->accounts[a].head; oi != NIL; oi = m->orders[oi].anext) {
            const order_t *o = &m->orders[oi];
            const instrument_t *in = &m->inst[o->instrument];
            uint32_t asset = o->side == SIDE_BUY ? in->quote : in->base;
            int64_t *slot = &need[m_bal_index(m, a, asset)];
            if (__builtin_add_overflow(*slot, m_order_need(in, o), slot)) {
                rc = err_set(err, -EPROTO, "holds of account %u overflow", a);
                break;
            }
        }
    for (size_t i = 0; i < nbal && rc == 0; i++)
        if (need[i] != m->bal[i].held)
            rc = err_set(err, -EPROTO, "account %zu holds %ld of asset %zu but its orders need %ld",
                         i % m->cfg.max_accounts, (long)m->bal[i].held, i / m->cfg.max_accounts, (long)need[i]);
    free(need);
    return rc;
}

int matcher_load(matcher_t *m, matcher_read_fn fn, void *ctx, err_t *err)
{
    if (m->resting != 0 || m->next_order_id != 1)
        return err_set(err, -EBUSY, "a snapshot loads into a fresh matcher only");
    rd_t r = {fn, ctx, 0, err};
    load_header(&r, m);
    load_assets_accounts(&r, m);
    load_instruments(&r, m);
    uint64_t end = 0;
    GET(&r, end);
    if (r.rc == 0 && end != SNAP_END)
        BAD(&r, "snapshot does not end where its contents say");
    if (r.rc == 0)
        r.rc = relink_accounts(m);
    if (r.rc == 0)
        r.rc = holds_match(m, err);
    if (r.rc == 0)
        r.rc = totals_match(m, err);
    return r.rc;
}

/* ---------------------------------------------------------------- resize */

/* The state in memory between the save and the load of a resize. */
typedef struct membuf {
    uint8_t *p;
    size_t len, cap, pos;
} membuf_t;

static int mem_write(void *ctx, const void *p, size_t n)
{
    membuf_t *b = ctx;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (q == NULL)
            return -ENOMEM;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static int mem_read(void *ctx, void *p, size_t n)
{
    membuf_t *b = ctx;
    if (n > b->len - b->pos)
        return -ENODATA;
    memcpy(p, b->p + b->pos, n);
    b->pos += n;
    return 0;
}

int matcher_resize(matcher_t **m, const matcher_config_t *cfg, err_t *err)
{
    matcher_t *old = *m, *n = NULL;
    if (!cfg_fits(cfg, &old->cfg))
        return err_set(err, -EINVAL, "a resize only grows capacities");
    int rc = matcher_create(&n, cfg, old->sink, old->sink_ctx, err);
    if (rc < 0)
        return rc;
    membuf_t b = {0};
    rc = matcher_save(old, mem_write, &b);
    if (rc < 0)
        err_set(err, rc, "resize: saving the state: %s", strerror(-rc));
    else
        rc = matcher_load(n, mem_read, &b, err);
    free(b.p);
    if (rc < 0) {
        matcher_destroy(n);
        return rc;
    }
    matcher_destroy(old);
    *m = n;
    return 0;
}
