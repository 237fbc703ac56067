/* test_matcher_query.c - the read side gateways use: query commands answered
 * on the event log (engine/matcher_query.c). A snapshot from a query plus the
 * book deltas after it must give the book the matcher has. */
#include <string.h>

#include "matcher_fixture.h"

static void query_book(fx_t *f, uint32_t instrument, uint32_t depth)
{
    cmd_query_book_t q = {.instrument = instrument, .depth = depth};
    fx_cmd(f, CMD_QUERY_BOOK, &q, sizeof(q));
}

static void query_account(fx_t *f, uint32_t account, uint32_t limit, uint64_t after, uint8_t what)
{
    cmd_query_account_t q = {.after_order_id = after, .account = account, .limit = limit, .what = what};
    fx_cmd(f, CMD_QUERY_ACCOUNT, &q, sizeof(q));
}

static const evt_query_end_t *query_end(const fx_t *f)
{
    if (f->n == 0 || f->ev[f->n - 1].type != EVT_Q_END)
        return NULL;
    return (const evt_query_end_t *)f->ev[f->n - 1].u.raw;
}

static void test_book_query_gives_best_levels_first_and_changes_nothing(void)
{
    fx_t fx, *f = &fx;
    CHECK(fx_init(f) == 0);
    CHECK(BUY(1, USD_(99), LOTS(2)) != 0);
    CHECK(BUY(2, USD_(99), LOTS(3)) != 0);
    CHECK(BUY(1, USD_(98), LOTS(1)) != 0);
    CHECK(SELL(3, USD_(101), LOTS(4)) != 0);
    CHECK(SELL(3, USD_(102), LOTS(5)) != 0);
    CHECK(SELL(2, USD_(103), LOTS(6)) != 0);
    uint64_t digest = matcher_digest(f->m);

    query_book(f, BTCUSD, 2);
    CHECK_EQ(f->n, 5);
    const evt_book_t *l = &f->ev[0].u.book;
    CHECK_EQ(f->ev[0].type, EVT_Q_LEVEL);
    CHECK_EQ(l->side, SIDE_BUY);
    CHECK_EQ(l->price, USD_(99));
    CHECK_EQ(l->qty, LOTS(5));
    CHECK_EQ(l->orders, 2);
    CHECK_EQ(f->ev[1].u.book.price, USD_(98));
    CHECK_EQ(f->ev[2].u.book.side, SIDE_SELL);
    CHECK_EQ(f->ev[2].u.book.price, USD_(101));
    CHECK_EQ(f->ev[3].u.book.price, USD_(102));
    const evt_query_end_t *end = query_end(f);
    CHECK(end != NULL);
    CHECK_EQ(end->count, 4);
    CHECK_EQ(end->cmd_type, CMD_QUERY_BOOK);
    CHECK_EQ(end->more, 0);
    for (uint32_t i = 0; i < f->n; i++)
        CHECK_EQ(f->ev[i].cmd_seq, f->seq);
    CHECK(matcher_digest(f->m) == digest);
    matcher_destroy(f->m);
}

static void test_account_query_pages_open_orders_oldest_first(void)
{
    fx_t fx, *f = &fx;
    CHECK(fx_init(f) == 0);
    uint64_t ids[7];
    for (int i = 0; i < 7; i++)
        CHECK((ids[i] = BUY(1, USD_(90 + i), LOTS(1))) != 0);
    CHECK(SELL(2, USD_(110), LOTS(1)) != 0); /* another account's order is not listed */
    cmd_cancel_t c = {.order_id = ids[2], .account = 1};
    fx_cmd(f, CMD_CANCEL, &c, sizeof(c));

    /* Balances (BTC and USD: the assets that exist) and the first page of 4. */
    query_account(f, 1, 4, 0, 0);
    CHECK_EQ(fx_count(f, EVT_Q_BALANCE), 2);
    CHECK_EQ(fx_count(f, EVT_Q_ORDER), 4);
    const mevt_t *b = fx_find(f, EVT_Q_BALANCE, 1);
    CHECK_EQ(b->u.balance.asset, USD);
    CHECK_EQ(b->u.balance.available, fx_avail(f, 1, USD));
    CHECK_EQ(b->u.balance.held, fx_held(f, 1, USD));
    uint64_t want[] = {ids[0], ids[1], ids[3], ids[4], ids[5], ids[6]};
    for (uint32_t i = 0; i < 4; i++) {
        const evt_accepted_t *o = &fx_find(f, EVT_Q_ORDER, i)->u.accepted;
        CHECK_EQ(o->order_id, want[i]);
        CHECK_EQ(o->account, 1);
        CHECK_EQ(o->qty, LOTS(1));
    }
    const evt_query_end_t *end = query_end(f);
    CHECK(end != NULL && end->more);
    CHECK_EQ(end->next_after, ids[4]);
    CHECK_EQ(end->count, 6);

    /* The next page, orders only. */
    query_account(f, 1, 4, end->next_after, QUERY_ORDERS);
    CHECK_EQ(fx_count(f, EVT_Q_BALANCE), 0);
    CHECK_EQ(fx_count(f, EVT_Q_ORDER), 2);
    CHECK_EQ(fx_find(f, EVT_Q_ORDER, 0)->u.accepted.order_id, ids[5]);
    CHECK_EQ(fx_find(f, EVT_Q_ORDER, 1)->u.accepted.order_id, ids[6]);
    end = query_end(f);
    CHECK(end != NULL && !end->more);
    CHECK_EQ(end->next_after, 0);

    /* An account with nothing open: balances and an empty page. */
    query_account(f, 3, 10, 0, 0);
    CHECK_EQ(fx_count(f, EVT_Q_ORDER), 0);
    CHECK_EQ(fx_count(f, EVT_Q_BALANCE), 2);
    matcher_destroy(f->m);
}

static void test_order_query_by_id_or_client_id_sees_only_own_orders(void)
{
    fx_t fx, *f = &fx;
    CHECK(fx_init(f) == 0);
    uint64_t id = fx_order(f, (fx_order_t){.account = 1, .side = SIDE_SELL, .price = USD_(105), .qty = LOTS(3),
                                          .cloid = 77, .tif = TIF_GTD, .expire_ns = f->now + 5000000000u});
    CHECK(id != 0);
    CHECK(BUY(2, USD_(105), LOTS(1)) != 0); /* fills 1 of 3 */

    cmd_query_order_t q = {.client_order_id = 77, .account = 1};
    fx_cmd(f, CMD_QUERY_ORDER, &q, sizeof(q));
    CHECK_EQ(f->n, 2);
    const evt_accepted_t *o = &f->ev[0].u.accepted;
    CHECK_EQ(f->ev[0].type, EVT_Q_ORDER);
    CHECK_EQ(o->order_id, id);
    CHECK_EQ(o->qty, LOTS(2));
    CHECK_EQ(o->price, USD_(105));
    CHECK_EQ(o->tif, TIF_GTD);
    CHECK_EQ(o->expire_ns, f->now + 5000000000u);
    CHECK(query_end(f) != NULL);

    q = (cmd_query_order_t){.order_id = id, .account = 1};
    fx_cmd(f, CMD_QUERY_ORDER, &q, sizeof(q));
    CHECK_EQ(f->ev[0].u.accepted.client_order_id, 77);

    q.account = 2; /* not theirs: as if it did not exist */
    fx_cmd(f, CMD_QUERY_ORDER, &q, sizeof(q));
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_ORDER);
    matcher_destroy(f->m);
}

static void test_refdata_query_lists_assets_and_instruments(void)
{
    fx_t fx, *f = &fx;
    CHECK(fx_init(f) == 0);
    cmd_instrument_t h = {.instrument = BTCUSD};
    fx_cmd(f, CMD_HALT, &h, sizeof(h));
    fx_cmd(f, CMD_QUERY_REFDATA, NULL, 0);
    CHECK_EQ(fx_count(f, EVT_Q_ASSET), 2);
    CHECK_EQ(fx_count(f, EVT_Q_INSTRUMENT), 1);
    const cmd_add_asset_t *a = (const cmd_add_asset_t *)fx_find(f, EVT_Q_ASSET, 0)->u.raw;
    CHECK_EQ(a->asset, BTC);
    CHECK_EQ(a->decimals, 8);
    CHECK(strcmp(a->name, "BTC") == 0);
    const evt_instrument_t *in = (const evt_instrument_t *)fx_find(f, EVT_Q_INSTRUMENT, 0)->u.raw;
    CHECK(strcmp(in->def.symbol, "BTC-USD") == 0);
    CHECK_EQ(in->def.tick_size, 100);
    CHECK_EQ(in->def.lot_size, LOTS(1));
    CHECK_EQ(in->def.min_qty, LOTS(1));
    CHECK_EQ(in->def.max_qty, BTC_(100));
    CHECK_EQ(in->def.ref_price, USD_(100));
    CHECK_EQ(in->def.band_bps, 2000);
    CHECK_EQ(in->halted, 1);
    CHECK_EQ(query_end(f)->count, 3);
    matcher_destroy(f->m);
}

static void test_bad_queries_are_rejected_with_their_reason(void)
{
    fx_t fx, *f = &fx;
    CHECK(fx_init(f) == 0);
    uint64_t digest = matcher_digest(f->m);
    query_book(f, 3, 10); /* in range, never added */
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_INSTRUMENT);
    query_book(f, 1000, 10);
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_INSTRUMENT);
    query_book(f, BTCUSD, 0);
    CHECK_EQ(fx_last_reject(f), REJ_BAD_LIMIT);
    query_book(f, BTCUSD, QUERY_DEPTH_MAX + 1);
    CHECK_EQ(fx_last_reject(f), REJ_BAD_LIMIT);
    query_account(f, 9, 10, 0, 0);
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_ACCOUNT);
    query_account(f, 1, 0, 0, QUERY_ORDERS);
    CHECK_EQ(fx_last_reject(f), REJ_BAD_LIMIT);
    query_account(f, 1, QUERY_ORDERS_MAX + 1, 0, 0);
    CHECK_EQ(fx_last_reject(f), REJ_BAD_LIMIT);
    query_account(f, 1, 10, 0, 0x80);
    CHECK_EQ(fx_last_reject(f), REJ_BAD_FLAGS);
    query_account(f, 1, 0, 0, QUERY_BALANCES); /* no orders asked: no limit needed */
    CHECK_EQ(fx_count(f, EVT_Q_BALANCE), 2);
    cmd_query_order_t q = {.order_id = 12345, .account = 1};
    fx_cmd(f, CMD_QUERY_ORDER, &q, sizeof(q));
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_ORDER);
    CHECK(matcher_digest(f->m) == digest);
    matcher_destroy(f->m);
}

/* ---- a gateway's view: snapshot, then deltas */

enum { VIEW_LEVELS = 256 };

typedef struct view {
    matcher_level_t lv[2][VIEW_LEVELS];
    uint32_t n[2];
} view_t;

static void view_set(view_t *v, int side, int64_t price, int64_t qty, uint32_t orders)
{
    uint32_t i = 0;
    while (i < v->n[side] && v->lv[side][i].price != price)
        i++;
    if (qty == 0) {
        if (i < v->n[side])
            v->lv[side][i] = v->lv[side][--v->n[side]];
        return;
    }
    if (i == v->n[side] && v->n[side] < VIEW_LEVELS)
        v->n[side]++;
    v->lv[side][i] = (matcher_level_t){price, qty, orders};
}

static int level_cmp_desc(const void *a, const void *b)
{
    const matcher_level_t *x = a, *y = b;
    return x->price < y->price ? 1 : x->price > y->price ? -1 : 0;
}

static int level_cmp_asc(const void *a, const void *b)
{
    return level_cmp_desc(b, a);
}

/* The view equals the matcher's book, level for level. */
static int view_matches(view_t *v, fx_t *f)
{
    matcher_level_t want[VIEW_LEVELS];
    for (int side = 0; side < 2; side++) {
        int n = matcher_depth(f->m, BTCUSD, side, want, VIEW_LEVELS);
        if (n != (int)v->n[side])
            return 0;
        qsort(v->lv[side], v->n[side], sizeof(matcher_level_t), side == SIDE_BUY ? level_cmp_desc : level_cmp_asc);
        for (int i = 0; i < n; i++)
            if (want[i].price != v->lv[side][i].price || want[i].qty != v->lv[side][i].qty ||
                want[i].orders != v->lv[side][i].orders)
                return 0;
    }
    return 1;
}

static void apply_deltas(view_t *v, const fx_t *f)
{
    for (uint32_t i = 0; i < f->n; i++)
        if (f->ev[i].type == EVT_BOOK && f->ev[i].u.book.instrument == BTCUSD)
            view_set(v, f->ev[i].u.book.side, f->ev[i].u.book.price, f->ev[i].u.book.qty,
                     f->ev[i].u.book.orders);
}

static void test_snapshot_then_deltas_rebuild_the_book(void)
{
    fx_rng = check_seed() | 1;
    fx_t fx, *f = &fx;
    CHECK(fx_init(f) == 0);
    uint64_t ids[512];
    uint32_t nids = 0;
    for (int i = 0; i < 2000; i++)
        fx_random_command(f, ids, &nids);

    for (int round = 0; round < 20; round++) {
        view_t v = {0};
        query_book(f, BTCUSD, QUERY_DEPTH_MAX);
        for (uint32_t i = 0; i < f->n; i++)
            if (f->ev[i].type == EVT_Q_LEVEL)
                view_set(&v, f->ev[i].u.book.side, f->ev[i].u.book.price, f->ev[i].u.book.qty,
                         f->ev[i].u.book.orders);
        CHECK(view_matches(&v, f));
        for (int i = 0; i < 500; i++) {
            fx_random_command(f, ids, &nids);
            apply_deltas(&v, f);
        }
        CHECK(view_matches(&v, f));
        CHECK(fx_invariants_hold(f));
    }
    matcher_destroy(f->m);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_book_query_gives_best_levels_first_and_changes_nothing);
    RUN(test_account_query_pages_open_orders_oldest_first);
    RUN(test_order_query_by_id_or_client_id_sees_only_own_orders);
    RUN(test_refdata_query_lists_assets_and_instruments);
    RUN(test_bad_queries_are_rejected_with_their_reason);
    RUN(test_snapshot_then_deltas_rebuild_the_book);
    CHECK_MAIN_END();
}
