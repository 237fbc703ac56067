/* test_matcher.c - engine/matcher.c, one test per rule: price-time priority,
 * every order type and flag, STP modes, amends, funds and fees, admin
 * commands, and a reject with its reason (and no state change) for each kind
 * of bad input. */
#include "../check.h"
#include "matcher_fixture.h"
#include "matcher_int.h"

#define F fx_t fx_, *f = &fx_; CHECK_EQ(fx_init(f), 0)
#define DONE matcher_destroy(f->m)

static void test_orders_rest_and_trade_at_the_makers_price(void)
{
    F;
    uint64_t s = SELL(1, USD_(100), BTC_(1));
    CHECK(s != 0);
    CHECK_EQ(fx_level_qty(f, SIDE_SELL, USD_(100)), BTC_(1));
    uint64_t b = BUY(2, USD_(105), BTC_(1));
    CHECK(b != 0);
    const mevt_t *t = fx_find(f, EVT_TRADE, 0);
    CHECK(t != NULL);
    CHECK_EQ(t->u.trade.price, USD_(100));
    CHECK_EQ(t->u.trade.qty, BTC_(1));
    CHECK_EQ(t->u.trade.maker_order_id, s);
    CHECK_EQ(t->u.trade.taker_order_id, b);
    CHECK_EQ(t->u.trade.maker_fee, 10); /* 10 bps of 100 USD, in cents */
    CHECK_EQ(t->u.trade.taker_fee, 20);
    /* Buyer paid 100 USD + 20 cents; the saving from its 105 limit came back. */
    CHECK_EQ(fx_avail(f, 2, USD), USD_(10000) - USD_(100) - 20);
    CHECK_EQ(fx_held(f, 2, USD), 0);
    CHECK_EQ(fx_avail(f, 2, BTC), BTC_(11));
    CHECK_EQ(fx_avail(f, 1, USD), USD_(10000) + USD_(100) - 10);
    CHECK_EQ(fx_avail(f, 1, BTC), BTC_(9));
    CHECK_EQ(fx_avail(f, 0, USD), 30);
    CHECK(fx_invariants_hold(f));
    DONE;
}

static void test_time_priority_within_a_level(void)
{
    F;
    uint64_t first = SELL(1, USD_(100), LOTS(5));
    uint64_t second = SELL(3, USD_(100), LOTS(5));
    BUY(2, USD_(100), LOTS(7));
    CHECK_EQ(fx_count(f, EVT_TRADE), 2);
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.maker_order_id, first);
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.qty, LOTS(5));
    CHECK_EQ(fx_find(f, EVT_TRADE, 1)->u.trade.maker_order_id, second);
    CHECK_EQ(fx_find(f, EVT_TRADE, 1)->u.trade.qty, LOTS(2));
    CHECK_EQ(fx_level_qty(f, SIDE_SELL, USD_(100)), LOTS(3));
    DONE;
}

static void test_better_price_trades_first_across_levels(void)
{
    F;
    SELL(1, USD_(102), LOTS(1));
    uint64_t best = SELL(1, USD_(101), LOTS(1));
    SELL(1, USD_(103), LOTS(1));
    BUY(2, USD_(103), LOTS(2));
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.maker_order_id, best);
    CHECK_EQ(fx_find(f, EVT_TRADE, 1)->u.trade.price, USD_(102));
    matcher_level_t lv[4];
    CHECK_EQ(matcher_depth(f->m, BTCUSD, SIDE_SELL, lv, 4), 1);
    CHECK_EQ(lv[0].price, USD_(103));
    DONE;
}

static void test_fok_that_fills_exactly_executes(void)
{
    F;
    SELL(1, USD_(100), LOTS(3));
    SELL(3, USD_(101), LOTS(2));
    uint64_t id = fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .tif = TIF_FOK,
                                            .price = USD_(101), .qty = LOTS(5)});
    CHECK(id != 0);
    CHECK_EQ(fx_count(f, EVT_TRADE), 2);
    CHECK_EQ(fx_count(f, EVT_CANCELLED), 0);
    DONE;
}

static void test_fok_short_by_one_lot_is_rejected_before_any_fill(void)
{
    F;
    SELL(1, USD_(100), LOTS(3));
    SELL(3, USD_(101), LOTS(2));
    SELL(3, USD_(102), LOTS(9)); /* beyond the limit: does not count */
    uint64_t before = matcher_digest(f->m);
    uint64_t id = fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .tif = TIF_FOK,
                                            .price = USD_(101), .qty = LOTS(6)});
    CHECK_EQ(id, 0);
    CHECK_EQ(fx_last_reject(f), REJ_FOK_NOT_FILLABLE);
    CHECK_EQ(fx_count(f, EVT_TRADE), 0);
    CHECK_EQ(matcher_digest(f->m), before);
    DONE;
}

static void test_partial_ioc_fills_then_cancels_the_rest(void)
{
    F;
    SELL(1, USD_(100), LOTS(2));
    uint64_t id = fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .tif = TIF_IOC,
                                            .price = USD_(100), .qty = LOTS(5)});
    CHECK(id != 0);
    CHECK_EQ(fx_count(f, EVT_TRADE), 1);
    const mevt_t *c = fx_find(f, EVT_CANCELLED, 0);
    CHECK(c != NULL);
    CHECK_EQ(c->u.cancelled.reason, CXL_IOC_REMAINDER);
    CHECK_EQ(c->u.cancelled.qty, LOTS(3));
    CHECK_EQ(fx_held(f, 2, USD), 0);
    CHECK_EQ(fx_level_qty(f, SIDE_BUY, USD_(100)), 0); /* never rests */
    DONE;
}

static void test_market_order_stops_at_its_protection_price(void)
{
    F;
    SELL(1, USD_(100), LOTS(1));
    SELL(1, USD_(110), LOTS(1));
    uint64_t id = fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .type = ORD_MARKET,
                                            .tif = TIF_IOC, .price = USD_(105), .qty = LOTS(2)});
    CHECK(id != 0);
    CHECK_EQ(fx_count(f, EVT_TRADE), 1);
    CHECK_EQ(fx_find(f, EVT_CANCELLED, 0)->u.cancelled.reason, CXL_PROTECTION);
    CHECK_EQ(fx_level_qty(f, SIDE_SELL, USD_(110)), LOTS(1));
    /* Without a protection price a market order is refused. */
    fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .type = ORD_MARKET, .tif = TIF_IOC,
                             .qty = LOTS(1)});
    CHECK_EQ(fx_last_reject(f), REJ_MARKET_NO_PROTECTION);
    /* Nor may it rest. */
    fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .type = ORD_MARKET, .tif = TIF_GTC,
                             .price = USD_(105), .qty = LOTS(1)});
    CHECK_EQ(fx_last_reject(f), REJ_BAD_TIF);
    DONE;
}

static void test_post_only_is_rejected_when_it_would_take(void)
{
    F;
    SELL(1, USD_(100), LOTS(1));
    fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .flags = ORDF_POST_ONLY, .price = USD_(100),
                             .qty = LOTS(1)});
    CHECK_EQ(fx_last_reject(f), REJ_POST_ONLY_WOULD_TAKE);
    uint64_t id = fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .flags = ORDF_POST_ONLY,
                                            .price = USD_(99), .qty = LOTS(1)});
    CHECK(id != 0);
    CHECK_EQ(fx_level_qty(f, SIDE_BUY, USD_(99)), LOTS(1));
    DONE;
}

static void test_gtd_expires_between_two_commands(void)
{
    F;
    uint64_t exp = f->now + 5000;
    uint64_t id = fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .tif = TIF_GTD,
                                            .price = USD_(99), .qty = LOTS(1), .expire_ns = exp});
    CHECK(id != 0);
    CHECK(fx_held(f, 2, USD) > 0);
    f->now = exp - 1;
    SELL(1, USD_(120), LOTS(1)); /* before expiry: still there */
    CHECK_EQ(fx_count(f, EVT_CANCELLED), 0);
    CHECK_EQ(fx_level_qty(f, SIDE_BUY, USD_(99)), LOTS(1));
    f->now = exp;
    SELL(1, USD_(121), LOTS(1)); /* at expiry: gone before this command applies */
    const mevt_t *c = fx_find(f, EVT_CANCELLED, 0);
    CHECK(c != NULL);
    CHECK_EQ(c->u.cancelled.order_id, id);
    CHECK_EQ(c->u.cancelled.reason, CXL_EXPIRED);
    CHECK_EQ(c->cmd_seq, f->seq);
    CHECK_EQ(fx_held(f, 2, USD), 0);
    /* An expiry time not after the command's time is refused. */
    fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .tif = TIF_GTD, .price = USD_(99),
                             .qty = LOTS(1), .expire_ns = f->now});
    CHECK_EQ(fx_last_reject(f), REJ_GTD_EXPIRED);
    DONE;
}

static void test_timer_command_expires_without_other_traffic(void)
{
    F;
    fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .tif = TIF_GTD, .price = USD_(99),
                             .qty = LOTS(1), .expire_ns = f->now + 10});
    f->now += 10;
    fx_cmd(f, CMD_TIMER, "", 0);
    CHECK_EQ(fx_count(f, EVT_CANCELLED), 1);
    DONE;
}

static void test_stp_cancel_newest_on_the_third_level_of_a_sweep(void)
{
    F;
    SELL(1, USD_(100), LOTS(1));
    SELL(3, USD_(101), LOTS(1));
    uint64_t own = SELL(2, USD_(102), LOTS(1));
    SELL(1, USD_(103), LOTS(1));
    uint64_t id = fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .stp = STP_CANCEL_NEWEST,
                                            .price = USD_(103), .qty = LOTS(4)});
    CHECK(id != 0);
    CHECK_EQ(fx_count(f, EVT_TRADE), 2);
    const mevt_t *c = fx_find(f, EVT_CANCELLED, 0);
    CHECK_EQ(c->u.cancelled.order_id, id);
    CHECK_EQ(c->u.cancelled.reason, CXL_STP);
    CHECK_EQ(c->u.cancelled.qty, LOTS(2));
    matcher_order_t o;
    CHECK_EQ(matcher_order(f->m, own, &o), 0); /* the resting own order stays */
    CHECK_EQ(fx_held(f, 2, USD), 0);
    CHECK(fx_invariants_hold(f));
    DONE;
}

static void test_stp_cancel_oldest_removes_resting_and_keeps_matching(void)
{
    F;
    SELL(1, USD_(100), LOTS(1));
    SELL(3, USD_(101), LOTS(1));
    uint64_t own = SELL(2, USD_(102), LOTS(1));
    SELL(1, USD_(103), LOTS(1));
    fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .stp = STP_CANCEL_OLDEST, .price = USD_(103),
                             .qty = LOTS(3)});
    CHECK_EQ(fx_count(f, EVT_TRADE), 3);
    const mevt_t *c = fx_find(f, EVT_CANCELLED, 0);
    CHECK_EQ(c->u.cancelled.order_id, own);
    CHECK_EQ(c->u.cancelled.reason, CXL_STP);
    CHECK_EQ(fx_find(f, EVT_TRADE, 2)->u.trade.price, USD_(103));
    CHECK_EQ(fx_held(f, 2, BTC), 0);
    CHECK(fx_invariants_hold(f));
    DONE;
}

static void test_stp_cancel_both(void)
{
    F;
    SELL(1, USD_(100), LOTS(1));
    uint64_t own = SELL(2, USD_(101), LOTS(1));
    uint64_t id = fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .stp = STP_CANCEL_BOTH,
                                            .price = USD_(101), .qty = LOTS(3)});
    CHECK_EQ(fx_count(f, EVT_TRADE), 1);
    CHECK_EQ(fx_count(f, EVT_CANCELLED), 2);
    CHECK_EQ(fx_find(f, EVT_CANCELLED, 0)->u.cancelled.order_id, own);
    CHECK_EQ(fx_find(f, EVT_CANCELLED, 1)->u.cancelled.order_id, id);
    CHECK_EQ(fx_level_qty(f, SIDE_BUY, USD_(101)), 0);
    CHECK(fx_invariants_hold(f));
    DONE;
}

static void test_stp_decrement_reduces_both_by_the_smaller(void)
{
    F;
    uint64_t own = SELL(2, USD_(100), LOTS(5));
    SELL(1, USD_(101), LOTS(4));
    uint64_t id = fx_order(f, (fx_order_t){.account = 2, .side = SIDE_BUY, .stp = STP_DECREMENT,
                                            .price = USD_(101), .qty = LOTS(8)});
    CHECK(id != 0);
    /* 5 lots decremented from both: own sell gone, taker 3 left, fills 3 at 101. */
    const mevt_t *c = fx_find(f, EVT_CANCELLED, 0);
    CHECK_EQ(c->u.cancelled.order_id, own);
    CHECK_EQ(c->u.cancelled.reason, CXL_STP);
    CHECK_EQ(fx_count(f, EVT_TRADE), 1);
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.qty, LOTS(3));
    CHECK_EQ(fx_level_qty(f, SIDE_SELL, USD_(101)), LOTS(1));
    CHECK_EQ(fx_held(f, 2, USD), 0);
    CHECK_EQ(fx_held(f, 2, BTC), 0);
    CHECK(fx_invariants_hold(f));
    DONE;
}

static void test_amend_decrease_keeps_time_priority(void)
{
    F;
    uint64_t first = SELL(1, USD_(100), LOTS(5));
    SELL(3, USD_(100), LOTS(5));
    cmd_amend_t a = {.order_id = first, .account = 1, .new_qty = LOTS(2)};
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_find(f, EVT_REPLACED, 0)->u.replaced.kept_priority, 1);
    CHECK_EQ(fx_held(f, 1, BTC), LOTS(2));
    BUY(2, USD_(100), LOTS(1));
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.maker_order_id, first);
    DONE;
}

static void test_amend_increase_loses_time_priority(void)
{
    F;
    uint64_t first = SELL(1, USD_(100), LOTS(5));
    uint64_t second = SELL(3, USD_(100), LOTS(5));
    cmd_amend_t a = {.order_id = first, .account = 1, .new_qty = LOTS(6)};
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_find(f, EVT_REPLACED, 0)->u.replaced.kept_priority, 0);
    BUY(2, USD_(100), LOTS(1));
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.maker_order_id, second);
    DONE;
}

static void test_amend_that_crosses_trades_then_rests(void)
{
    F;
    SELL(1, USD_(101), LOTS(2));
    uint64_t b = BUY(2, USD_(99), LOTS(5));
    cmd_amend_t a = {.order_id = b, .account = 2, .new_price = USD_(101)};
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_count(f, EVT_TRADE), 1);
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.taker_order_id, b);
    CHECK_EQ(fx_level_qty(f, SIDE_BUY, USD_(101)), LOTS(3));
    matcher_order_t o;
    CHECK_EQ(matcher_order(f->m, b, &o), 0);
    CHECK_EQ(o.qty, LOTS(3));
    CHECK(fx_invariants_hold(f));
    DONE;
}

static void test_amend_of_a_filled_order_is_rejected(void)
{
    F;
    uint64_t s = SELL(1, USD_(100), LOTS(1));
    BUY(2, USD_(100), LOTS(1));
    cmd_amend_t a = {.order_id = s, .account = 1, .new_qty = LOTS(2)};
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_ORDER);
    DONE;
}

static void test_client_order_id_is_unique_among_live_orders(void)
{
    F;
    CHECK(fx_order(f, (fx_order_t){.account = 1, .side = SIDE_SELL, .price = USD_(100), .qty = LOTS(1),
                                    .cloid = 77}) != 0);
    CHECK_EQ(fx_order(f, (fx_order_t){.account = 1, .side = SIDE_SELL, .price = USD_(100), .qty = LOTS(1),
                                       .cloid = 77}), 0);
    CHECK_EQ(fx_last_reject(f), REJ_DUPLICATE_CLIENT_ORDER_ID);
    /* Another account may use the same id. */
    CHECK(fx_order(f, (fx_order_t){.account = 3, .side = SIDE_SELL, .price = USD_(100), .qty = LOTS(1),
                                    .cloid = 77}) != 0);
    cmd_cancel_t c = {.client_order_id = 77, .account = 1};
    fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
    CHECK_EQ(fx_find(f, EVT_CANCELLED, 0)->u.cancelled.account, 1);
    /* Once it is gone the id is free again. */
    CHECK(fx_order(f, (fx_order_t){.account = 1, .side = SIDE_SELL, .price = USD_(100), .qty = LOTS(1),
                                    .cloid = 77}) != 0);
    DONE;
}

static void test_cancel_releases_the_hold_and_other_accounts_cannot_cancel(void)
{
    F;
    uint64_t b = BUY(2, USD_(100), LOTS(10));
    CHECK_EQ(fx_held(f, 2, USD), 1000 + 2); /* 10 USD notional + 20 bps */
    cmd_cancel_t c = {.order_id = b, .account = 1};
    fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_ORDER);
    c.account = 2;
    fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
    CHECK_EQ(fx_find(f, EVT_CANCELLED, 0)->u.cancelled.reason, CXL_USER);
    CHECK_EQ(fx_held(f, 2, USD), 0);
    CHECK_EQ(fx_avail(f, 2, USD), USD_(10000));
    fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_ORDER);
    DONE;
}

static void test_order_the_balance_cannot_cover_is_rejected(void)
{
    F;
    BUY(2, USD_(100), BTC_(100));
    CHECK_EQ(fx_last_reject(f), REJ_INSUFFICIENT_BALANCE);
    SELL(2, USD_(100), BTC_(11));
    CHECK_EQ(fx_last_reject(f), REJ_INSUFFICIENT_BALANCE);
    DONE;
}

static void test_deposit_then_withdrawal_of_held_funds_is_refused(void)
{
    F;
    fx_deposit(f, 3, USD, USD_(500));
    CHECK_EQ(fx_count(f, EVT_ADMIN), 1);
    CHECK_EQ(fx_count(f, EVT_BALANCE), 1);
    BUY(3, USD_(100), BTC_(100)); /* holds 10,000 + fee of 10,500 */
    CHECK_EQ(fx_held(f, 3, USD), USD_(10000) + 2000);
    cmd_funds_t w = {.account = 3, .asset = USD, .amount = USD_(500)};
    fx_cmd(f, CMD_WITHDRAW, &w, sizeof(w));
    CHECK_EQ(fx_last_reject(f), REJ_INSUFFICIENT_BALANCE);
    w.amount = USD_(500) - 2000;
    fx_cmd(f, CMD_WITHDRAW, &w, sizeof(w));
    CHECK_EQ(fx_count(f, EVT_ADMIN), 1);
    CHECK_EQ(fx_avail(f, 3, USD), 0);
    CHECK(fx_invariants_hold(f));
    DONE;
}

static void test_mass_cancel_by_account_and_by_symbol(void)
{
    F;
    BUY(2, USD_(90), LOTS(1));
    BUY(2, USD_(91), LOTS(1));
    SELL(2, USD_(110), LOTS(1));
    uint64_t other = SELL(1, USD_(111), LOTS(1));
    cmd_mass_cancel_t mc = {.account = 2, .instrument = BTCUSD};
    fx_cmd(f, CMD_MASS_CANCEL, &mc, sizeof(mc));
    CHECK_EQ(fx_count(f, EVT_CANCELLED), 3);
    CHECK_EQ(fx_find(f, EVT_CANCELLED, 0)->u.cancelled.reason, CXL_MASS);
    CHECK_EQ(fx_count(f, EVT_ADMIN), 1);
    matcher_order_t o;
    CHECK_EQ(matcher_order(f->m, other, &o), 0);
    mc.instrument = UINT32_MAX;
    fx_cmd(f, CMD_MASS_CANCEL, &mc, sizeof(mc)); /* nothing left: still acknowledged */
    CHECK_EQ(fx_count(f, EVT_CANCELLED), 0);
    CHECK_EQ(fx_count(f, EVT_ADMIN), 1);
    CHECK_EQ(fx_held(f, 2, USD), 0);
    DONE;
}

static void test_halted_instrument_refuses_orders_but_allows_cancels(void)
{
    F;
    uint64_t b = BUY(2, USD_(100), LOTS(1));
    cmd_instrument_t h = {.instrument = BTCUSD};
    fx_cmd(f, CMD_HALT, &h, sizeof(h));
    CHECK_EQ(fx_count(f, EVT_ADMIN), 1);
    SELL(1, USD_(100), LOTS(1));
    CHECK_EQ(fx_last_reject(f), REJ_INSTRUMENT_HALTED);
    cmd_amend_t a = {.order_id = b, .account = 2, .new_qty = LOTS(2)};
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_last_reject(f), REJ_INSTRUMENT_HALTED);
    cmd_cancel_t c = {.order_id = b, .account = 2};
    fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
    CHECK_EQ(fx_count(f, EVT_CANCELLED), 1);
    fx_cmd(f, CMD_HALT, &h, sizeof(h));
    CHECK_EQ(fx_last_reject(f), REJ_ALREADY_HALTED);
    fx_cmd(f, CMD_RESUME, &h, sizeof(h));
    CHECK(SELL(1, USD_(100), LOTS(1)) != 0);
    DONE;
}

static void test_fee_tier_applies_to_new_orders(void)
{
    F;
    cmd_fee_tier_t t = {.tier = 1, .maker_bps = 0, .taker_bps = 5};
    fx_cmd(f, CMD_DEFINE_FEE_TIER, &t, sizeof(t));
    cmd_account_t a = {.account = 2, .fee_tier = 1};
    fx_cmd(f, CMD_SET_FEE_TIER, &a, sizeof(a));
    SELL(1, USD_(100), BTC_(1));
    BUY(2, USD_(100), BTC_(1));
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.taker_fee, 5);
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.maker_fee, 10);
    t.taker_bps = 5000;
    fx_cmd(f, CMD_DEFINE_FEE_TIER, &t, sizeof(t));
    CHECK_EQ(fx_last_reject(f), REJ_BAD_FEE);
    DONE;
}

/* Each bad input: its reason, and the state digest unchanged. */
static void test_bad_inputs_are_rejected_with_their_reason_and_change_nothing(void)
{
    F;
    SELL(1, USD_(100), LOTS(1));
    struct {
        fx_order_t o;
        uint32_t instrument;
        int reason;
    } cases[] = {
        {{.account = 2, .side = SIDE_BUY, .price = USD_(100), .qty = 0}, BTCUSD, REJ_QTY_NOT_POSITIVE},
        {{.account = 2, .side = SIDE_BUY, .price = USD_(100), .qty = -LOTS(1)}, BTCUSD, REJ_QTY_NOT_POSITIVE},
        {{.account = 2, .side = SIDE_BUY, .price = USD_(100), .qty = LOTS(1) + 1}, BTCUSD, REJ_QTY_OFF_LOT},
        {{.account = 2, .side = SIDE_BUY, .price = USD_(100) + 50, .qty = LOTS(1)}, BTCUSD, REJ_PRICE_OFF_TICK},
        {{.account = 2, .side = SIDE_BUY, .price = 0, .qty = LOTS(1)}, BTCUSD, REJ_PRICE_NOT_POSITIVE},
        {{.account = 2, .side = SIDE_BUY, .price = -USD_(100), .qty = LOTS(1)}, BTCUSD, REJ_PRICE_NOT_POSITIVE},
        {{.account = 2, .side = SIDE_BUY, .price = USD_(130), .qty = LOTS(1)}, BTCUSD, REJ_PRICE_OUT_OF_BAND},
        {{.account = 2, .side = SIDE_BUY, .price = USD_(70), .qty = LOTS(1)}, BTCUSD, REJ_PRICE_OUT_OF_BAND},
        {{.account = 2, .side = SIDE_BUY, .price = USD_(100), .qty = BTC_(101)}, BTCUSD, REJ_QTY_ABOVE_MAX},
        {{.account = 2, .side = SIDE_BUY, .price = USD_(100), .qty = LOTS(1)}, 3, REJ_UNKNOWN_INSTRUMENT},
        {{.account = 2, .side = SIDE_BUY, .price = USD_(100), .qty = LOTS(1)}, 999, REJ_UNKNOWN_INSTRUMENT},
        {{.account = 5, .side = SIDE_BUY, .price = USD_(100), .qty = LOTS(1)}, BTCUSD, REJ_UNKNOWN_ACCOUNT},
        {{.account = 99999, .side = SIDE_BUY, .price = USD_(100), .qty = LOTS(1)}, BTCUSD, REJ_UNKNOWN_ACCOUNT},
        {{.account = 2, .side = 7, .price = USD_(100), .qty = LOTS(1)}, BTCUSD, REJ_BAD_SIDE},
        {{.account = 2, .side = SIDE_BUY, .type = 9, .price = USD_(100), .qty = LOTS(1)}, BTCUSD, REJ_BAD_TYPE},
        {{.account = 2, .side = SIDE_BUY, .tif = 9, .price = USD_(100), .qty = LOTS(1)}, BTCUSD, REJ_BAD_TIF},
        {{.account = 2, .side = SIDE_BUY, .stp = 9, .price = USD_(100), .qty = LOTS(1)}, BTCUSD, REJ_BAD_STP},
        {{.account = 2, .side = SIDE_BUY, .flags = 0x80, .price = USD_(100), .qty = LOTS(1)}, BTCUSD, REJ_BAD_FLAGS},
        {{.account = 2, .side = SIDE_BUY, .flags = ORDF_POST_ONLY, .tif = TIF_IOC, .price = USD_(99),
          .qty = LOTS(1)}, BTCUSD, REJ_BAD_FLAGS},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t before = matcher_digest(f->m);
        cmd_new_order_t c = {.price = cases[i].o.price, .qty = cases[i].o.qty, .account = cases[i].o.account,
                             .instrument = cases[i].instrument, .side = (uint8_t)cases[i].o.side,
                             .type = (uint8_t)cases[i].o.type, .tif = (uint8_t)cases[i].o.tif,
                             .stp = (uint8_t)cases[i].o.stp, .flags = (uint8_t)cases[i].o.flags};
        fx_cmd(f, CMD_NEW_ORDER, &c, sizeof(c));
        if (f->n != 1 || fx_last_reject(f) != cases[i].reason || matcher_digest(f->m) != before) {
            fprintf(stderr, "  case %u: %u events, reason %d, expected %d\n", i, f->n, fx_last_reject(f),
                    cases[i].reason);
            check_current_failed = 1;
        }
    }
    cmd_cancel_t c = {.order_id = 424242, .account = 2};
    fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_ORDER);
    fx_cmd(f, 0x1234, "", 0);
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_COMMAND);
    fx_deposit(f, 2, 3, 100);
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_ASSET);
    fx_deposit(f, 2, USD, -5);
    CHECK_EQ(fx_last_reject(f), REJ_AMOUNT_NOT_POSITIVE);
    DONE;
}

static void test_price_times_quantity_overflow_is_rejected(void)
{
    fx_t fx_, *f = &fx_;
    CHECK_EQ(fx_init(f), 0);
    /* One tick x one lot is 10^10 cents: 1000 ticks x 10^6 lots overflows int64. */
    cmd_add_instrument_t in = {.symbol = "BIG", .instrument = 2, .base = BTC, .quote = USD,
                               .tick_size = 10000000000, .lot_size = 100000000,
                               .min_qty = 100000000, .max_qty = INT64_MAX / 100000000 * 100000000,
                               .ref_price = 10000000000000};
    fx_cmd(f, CMD_ADD_INSTRUMENT, &in, sizeof(in));
    CHECK_EQ(fx_count(f, EVT_ADMIN), 1);
    cmd_new_order_t c = {.price = 10000000000000, .qty = 100000000LL * 1000000, .account = 2,
                         .instrument = 2, .side = SIDE_BUY};
    fx_cmd(f, CMD_NEW_ORDER, &c, sizeof(c));
    CHECK_EQ(fx_last_reject(f), REJ_OVERFLOW);
    DONE;
}

/* Every order fits in int64 base units, but a level's total need not: an
 * 18-decimal asset traded in whole units (a lot of 10^18) fits nine units.
 * An order or amend that would take a level past that is refused. */
static void test_a_level_total_that_would_overflow_is_rejected(void)
{
    F;
    cmd_add_asset_t eth = {.name = "ETH", .asset = 3, .decimals = 18};
    fx_cmd(f, CMD_ADD_ASSET, &eth, sizeof(eth));
    const int64_t unit = INT64_C(1000000000000000000);
    cmd_add_instrument_t in = {.symbol = "ETH-USD", .instrument = 2, .base = 3, .quote = USD,
                               .tick_size = 1, .lot_size = unit, .min_qty = unit, .max_qty = 9 * unit,
                               .ref_price = 100};
    fx_cmd(f, CMD_ADD_INSTRUMENT, &in, sizeof(in));
    CHECK_EQ(fx_count(f, EVT_ADMIN), 1);
    cmd_new_order_t c = {.price = 100, .qty = 5 * unit, .account = 1, .instrument = 2, .side = SIDE_BUY};
    fx_cmd(f, CMD_NEW_ORDER, &c, sizeof(c));
    CHECK_EQ(fx_count(f, EVT_ACCEPTED), 1);
    uint64_t first = fx_find(f, EVT_ACCEPTED, 0)->u.accepted.order_id;
    c.account = 2;
    fx_cmd(f, CMD_NEW_ORDER, &c, sizeof(c)); /* 10 units at 100: past int64 */
    CHECK_EQ(fx_last_reject(f), REJ_OVERFLOW);
    c.qty = 4 * unit;
    fx_cmd(f, CMD_NEW_ORDER, &c, sizeof(c)); /* exactly 9 */
    CHECK_EQ(fx_count(f, EVT_ACCEPTED), 1);
    CHECK_EQ(fx_find(f, EVT_BOOK, 0)->u.book.qty, 9 * unit);
    c.price = 99;
    c.qty = 5 * unit;
    fx_cmd(f, CMD_NEW_ORDER, &c, sizeof(c));
    uint64_t other = fx_find(f, EVT_ACCEPTED, 0)->u.accepted.order_id;
    /* Moving 5 units onto the level of 9, or growing the first order there. */
    cmd_amend_t a = {.order_id = other, .account = 2, .new_price = 100};
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_last_reject(f), REJ_OVERFLOW);
    a = (cmd_amend_t){.order_id = first, .account = 1, .new_qty = 6 * unit};
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_last_reject(f), REJ_OVERFLOW);
    a.new_qty = 4 * unit; /* a decrease always fits */
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_count(f, EVT_REPLACED), 1);
    a = (cmd_amend_t){.order_id = other, .account = 2, .new_price = 100};
    fx_cmd(f, CMD_AMEND, &a, sizeof(a)); /* 8 + 5: still past */
    CHECK_EQ(fx_last_reject(f), REJ_OVERFLOW);
    a.new_qty = unit; /* 8 + 1 fits */
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_count(f, EVT_REPLACED), 1);
    CHECK(fx_invariants_hold(f));
    DONE;
}

static void test_inconsistent_instrument_definitions_are_rejected(void)
{
    F;
    cmd_add_instrument_t in = {.symbol = "X", .instrument = 2, .base = BTC, .quote = USD, .tick_size = 1,
                               .lot_size = 1, .min_qty = 1, .max_qty = 10, .ref_price = 100};
    fx_cmd(f, CMD_ADD_INSTRUMENT, &in, sizeof(in)); /* 1 tick x 1 lot is a fraction of a cent */
    CHECK_EQ(fx_last_reject(f), REJ_BAD_INSTRUMENT);
    in = (cmd_add_instrument_t){.symbol = "Y", .instrument = 2, .base = BTC, .quote = BTC, .tick_size = 100,
                                .lot_size = LOTS(1), .min_qty = LOTS(1), .max_qty = LOTS(1), .ref_price = 100};
    fx_cmd(f, CMD_ADD_INSTRUMENT, &in, sizeof(in));
    CHECK_EQ(fx_last_reject(f), REJ_BAD_INSTRUMENT);
    in.quote = USD;
    in.instrument = BTCUSD;
    fx_cmd(f, CMD_ADD_INSTRUMENT, &in, sizeof(in));
    CHECK_EQ(fx_last_reject(f), REJ_EXISTS);
    memset(in.symbol, 'A', sizeof(in.symbol)); /* not terminated */
    in.instrument = 2;
    fx_cmd(f, CMD_ADD_INSTRUMENT, &in, sizeof(in));
    CHECK_EQ(fx_last_reject(f), REJ_BAD_INSTRUMENT);
    DONE;
}

/* A matcher with room for four resting orders (and an id index of eight
 * places). */
static int init_tiny(fx_t *f, uint32_t max_levels, uint32_t max_account_orders)
{
    matcher_config_t cfg;
    matcher_config_defaults(&cfg);
    cfg.max_orders = 4;
    cfg.max_gtd = 4;
    cfg.max_accounts = 8;
    cfg.max_assets = 4;
    cfg.max_instruments = 4;
    cfg.max_levels = max_levels;
    cfg.max_account_orders = max_account_orders;
    return fx_init_cfg(f, &cfg);
}

static void test_full_order_pool_is_a_clean_reject(void)
{
    fx_t fx_, *f = &fx_;
    CHECK_EQ(init_tiny(f, 3, 100), 0);
    CHECK(BUY(2, USD_(90), LOTS(1)) != 0);
    CHECK(BUY(2, USD_(91), LOTS(1)) != 0);
    CHECK(BUY(2, USD_(92), LOTS(1)) != 0);
    BUY(2, USD_(93), LOTS(1));
    CHECK_EQ(fx_last_reject(f), REJ_BOOK_FULL);
    CHECK(BUY(2, USD_(92), LOTS(1)) != 0); /* an existing level still takes orders */
    SELL(1, USD_(110), LOTS(1));
    CHECK_EQ(fx_last_reject(f), REJ_ORDERS_FULL);
    /* An IOC needs no pool slot. */
    CHECK(fx_order(f, (fx_order_t){.account = 1, .side = SIDE_SELL, .tif = TIF_IOC, .price = USD_(92),
                                    .qty = LOTS(1)}) != 0);
    CHECK_EQ(fx_count(f, EVT_TRADE), 1);
    CHECK(SELL(1, USD_(110), LOTS(1)) != 0); /* the fill freed a slot */
    DONE;
}

static uint64_t matcher_stats_resting(fx_t *f)
{
    matcher_stats_t st;
    matcher_get_stats(f->m, &st);
    return st.orders_resting;
}

static int cancel_by_id(fx_t *f, uint32_t account, uint64_t id)
{
    cmd_cancel_t c = {.order_id = id, .account = account};
    fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
    const mevt_t *e = fx_find(f, EVT_CANCELLED, 0);
    return e != NULL && e->u.cancelled.order_id == id;
}

/* The id index keeps an order at its id's place (id mod its size) unless a
 * live order of an earlier lap holds that place: then it goes to the hashed
 * overflow. Orders there must be found, cancelled, amended, filled and freed
 * like the rest, and a place serves again once it is free. */
static void test_orders_whose_id_place_is_taken_are_found_through_the_overflow(void)
{
    fx_t fx_, *f = &fx_;
    CHECK_EQ(init_tiny(f, 16, 4), 0); /* an index of 8 places: id 9 falls on id 1's */
    const matcher_t *m = f->m;
    CHECK_EQ(m->id_mask, 7);
    CHECK_EQ(SELL(1, USD_(110), LOTS(1)), 1);
    uint64_t id = 0;
    while ((id = BUY(2, USD_(90), LOTS(1))) != 0 && id < 9)
        CHECK(cancel_by_id(f, 2, id));
    CHECK_EQ(id, 9); /* resting, in the overflow: id 1 holds its place */
    CHECK_EQ(m->id_spilled, 1);
    CHECK_EQ(SELL(3, USD_(111), LOTS(1)), 10); /* at its own place (2) */
    CHECK_EQ(m->id_spilled, 1);
    matcher_order_t o;
    CHECK_EQ(matcher_order(f->m, 1, &o), 0);
    CHECK_EQ(o.price, USD_(110));
    CHECK_EQ(matcher_order(f->m, 9, &o), 0);
    CHECK_EQ(o.price, USD_(90));
    CHECK_EQ(o.account, 2);
    /* Another lap: 17 falls on 1's place too, and on 9's line of the overflow. */
    for (id = 11; id < 17; id++) {
        CHECK_EQ(BUY(3, USD_(80), LOTS(1)), id);
        CHECK(cancel_by_id(f, 3, id));
    }
    CHECK_EQ(BUY(3, USD_(85), LOTS(3)), 17);
    CHECK_EQ(m->id_spilled, 2);
    CHECK_EQ(matcher_order(f->m, 17, &o), 0);
    CHECK_EQ(o.price, USD_(85));
    CHECK_EQ(matcher_order(f->m, 25, &o), -ENOENT); /* same place, never placed */
    cmd_cancel_t c = {.order_id = 25, .account = 3};
    fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
    CHECK_EQ(fx_last_reject(f), REJ_UNKNOWN_ORDER);
    /* 9 leaves the overflow by a cancel; 17, behind it there, is still found. */
    CHECK(cancel_by_id(f, 2, 9));
    CHECK_EQ(m->id_spilled, 1);
    CHECK_EQ(matcher_order(f->m, 9, &o), -ENOENT);
    CHECK_EQ(matcher_order(f->m, 17, &o), 0);
    cmd_amend_t a = {.order_id = 17, .account = 3, .new_qty = LOTS(2)};
    fx_cmd(f, CMD_AMEND, &a, sizeof(a));
    CHECK_EQ(fx_count(f, EVT_REPLACED), 1);
    CHECK_EQ(fx_find(f, EVT_REPLACED, 0)->u.replaced.order_id, 17);
    /* A fill takes the overflowed maker 17 out. */
    CHECK(fx_order(f, (fx_order_t){.account = 1, .side = SIDE_SELL, .price = USD_(85), .qty = LOTS(2),
                                    .tif = TIF_IOC}) != 0);
    CHECK_EQ(fx_count(f, EVT_TRADE), 1);
    CHECK_EQ(fx_find(f, EVT_TRADE, 0)->u.trade.maker_order_id, 17);
    CHECK_EQ(m->id_spilled, 0);
    CHECK_EQ(matcher_order(f->m, 17, &o), -ENOENT);
    /* Cancelling the old order frees its place: id 25 takes it. The trade
     * moved the band's centre to 85, so the prices here stay near it. */
    CHECK(cancel_by_id(f, 1, 1));
    CHECK_EQ(matcher_order(f->m, 1, &o), -ENOENT);
    for (id = 19; id < 25; id++) {
        CHECK_EQ(BUY(2, USD_(80), LOTS(1)), id);
        CHECK(cancel_by_id(f, 2, id));
    }
    CHECK_EQ(SELL(1, USD_(100), LOTS(1)), 25);
    CHECK_EQ(m->id_spilled, 0);
    CHECK(m->id_slot[25 & m->id_mask] != 0);
    CHECK_EQ(matcher_order(f->m, 25, &o), 0);
    CHECK(!cancel_by_id(f, 3, 25)); /* account 3 does not own it */
    CHECK(cancel_by_id(f, 1, 25));
    CHECK(m->id_slot[25 & m->id_mask] == 0);
    CHECK(cancel_by_id(f, 3, 10));
    CHECK_EQ(matcher_stats_resting(f), 0);
    CHECK(fx_invariants_hold(f));
    DONE;
}

/* The grid checks divide by multiplication (divisor_exact()): it must agree
 * with the divide instruction on every tick and lot shape (odd, even, powers
 * of two, 1, large) and on multiples, near misses and huge values. */
static void test_exact_division_agrees_with_the_divide_instruction(void)
{
    static const int64_t ds[] = {1, 2, 3, 5, 7, 10, 12, 25, 64, 100, 1000, 4096, 999983, 1000000,
                                 100000000, INT64_C(1) << 40, (INT64_C(1) << 40) * 3, INT64_MAX / 7, INT64_MAX};
    uint64_t rng = check_seed() | 1;
    for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
        int64_t d = ds[i];
        divisor_t dv = divisor_of(d);
        for (int k = 0; k < 30000; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            int64_t q = (int64_t)(rng >> (1 + rng % 63)), x;
            if (__builtin_mul_overflow(q, d, &x))
                x = d; /* a multiple of d either way */
            switch (k % 6) {
            case 0: x = (int64_t)(rng >> 1); break; /* anything */
            case 1: break;                          /* a multiple */
            case 2: x = x == INT64_MAX ? 1 : x + 1; break; /* just past one */
            case 3: x = x - 1; break;               /* just short of one */
            case 4: x = -x; break;                  /* negative: refused */
            default: x = k / 6; break;              /* small */
            }
            int64_t want = x < 0 ? -1 : x % d == 0 ? x / d : -1;
            if (divisor_exact(&dv, x) != want) {
                fprintf(stderr, "divisor_exact(%lld / %lld) = %lld, want %lld\n", (long long)x, (long long)d,
                        (long long)divisor_exact(&dv, x), (long long)want);
                CHECK(0);
                return;
            }
        }
    }
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_orders_rest_and_trade_at_the_makers_price);
    RUN(test_time_priority_within_a_level);
    RUN(test_better_price_trades_first_across_levels);
    RUN(test_fok_that_fills_exactly_executes);
    RUN(test_fok_short_by_one_lot_is_rejected_before_any_fill);
    RUN(test_partial_ioc_fills_then_cancels_the_rest);
    RUN(test_market_order_stops_at_its_protection_price);
    RUN(test_post_only_is_rejected_when_it_would_take);
    RUN(test_gtd_expires_between_two_commands);
    RUN(test_timer_command_expires_without_other_traffic);
    RUN(test_stp_cancel_newest_on_the_third_level_of_a_sweep);
    RUN(test_stp_cancel_oldest_removes_resting_and_keeps_matching);
    RUN(test_stp_cancel_both);
    RUN(test_stp_decrement_reduces_both_by_the_smaller);
    RUN(test_amend_decrease_keeps_time_priority);
    RUN(test_amend_increase_loses_time_priority);
    RUN(test_amend_that_crosses_trades_then_rests);
    RUN(test_amend_of_a_filled_order_is_rejected);
    RUN(test_client_order_id_is_unique_among_live_orders);
    RUN(test_cancel_releases_the_hold_and_other_accounts_cannot_cancel);
    RUN(test_order_the_balance_cannot_cover_is_rejected);
    RUN(test_deposit_then_withdrawal_of_held_funds_is_refused);
    RUN(test_mass_cancel_by_account_and_by_symbol);
    RUN(test_halted_instrument_refuses_orders_but_allows_cancels);
    RUN(test_fee_tier_applies_to_new_orders);
    RUN(test_bad_inputs_are_rejected_with_their_reason_and_change_nothing);
    RUN(test_price_times_quantity_overflow_is_rejected);
    RUN(test_a_level_total_that_would_overflow_is_rejected);
    RUN(test_inconsistent_instrument_definitions_are_rejected);
    RUN(test_full_order_pool_is_a_clean_reject);
    RUN(test_exact_division_agrees_with_the_divide_instruction);
    RUN(test_orders_whose_id_place_is_taken_are_found_through_the_overflow);
    CHECK_MAIN_END();
}
