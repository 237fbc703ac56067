/* test_rest_request.c - gateways/rest request.c and answer.c: JSON bodies to
 * matcher commands at the instrument's scales (BTC-USD: cents per BTC on a
 * 1 USD tick, satoshi on a 0.01 BTC lot), each refusal with its stable code,
 * query strings, and events back to JSON answers. */
#include "../check.h"
#include "answer.h"
#include "jsonw.h"
#include "proto.h"
#include "refdata.h"
#include "request.h"

static refdata_t rd;

static void setup(void)
{
    refdata_init(&rd);
    cmd_add_asset_t btc = {.name = "BTC", .asset = 1, .decimals = 8};
    cmd_add_asset_t usd = {.name = "USD", .asset = 2, .decimals = 2};
    refdata_add_asset(&rd, &btc);
    refdata_add_asset(&rd, &usd);
    evt_instrument_t in = {.def = {.symbol = "BTC-USD", .instrument = 1, .base = 1, .quote = 2, .band_bps = 1000,
                                   .tick_size = 100, .lot_size = 1000000, .min_qty = 1000000,
                                   .max_qty = 10000000000, .ref_price = 6000000}};
    refdata_add_instrument(&rd, &in);
}

static int order(const char *json, rec_t *out, rest_err_t *e)
{
    return request_new_order(&rd, 7, json, strlen(json), out, e);
}

static void test_limit_order_becomes_integers_at_instrument_scales(void)
{
    rec_t r;
    rest_err_t e;
    CHECK_EQ(order("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"price\":\"60000.00\",\"qty\":\"0.05\","
                   "\"client_order_id\":\"18446744073709551615\",\"post_only\":true,\"stp\":\"decrement\"}",
                   &r, &e),
             0);
    CHECK_EQ(r.type, CMD_NEW_ORDER);
    CHECK_EQ(r.len, sizeof(cmd_new_order_t));
    cmd_new_order_t c;
    memcpy(&c, r.payload, sizeof(c));
    CHECK_EQ(c.account, 7);
    CHECK_EQ(c.instrument, 1);
    CHECK_EQ(c.side, SIDE_BUY);
    CHECK_EQ(c.type, ORD_LIMIT);
    CHECK_EQ(c.tif, TIF_GTC);
    CHECK_EQ(c.stp, STP_DECREMENT);
    CHECK_EQ(c.flags, ORDF_POST_ONLY);
    CHECK_EQ(c.price, 6000000);
    CHECK_EQ(c.qty, 5000000);
    CHECK(c.client_order_id == UINT64_MAX);
}

static void test_market_and_gtd_orders(void)
{
    rec_t r;
    rest_err_t e;
    cmd_new_order_t c;
    CHECK_EQ(order("{\"symbol\":\"BTC-USD\",\"side\":\"sell\",\"type\":\"market\",\"price\":\"59000\",\"qty\":\"1\"}",
                   &r, &e), 0);
    memcpy(&c, r.payload, sizeof(c));
    CHECK_EQ(c.type, ORD_MARKET);
    CHECK_EQ(c.tif, TIF_IOC); /* a market order's default */
    CHECK_EQ(c.price, 5900000);
    CHECK_EQ(order("{\"symbol\":\"BTC-USD\",\"side\":\"sell\",\"type\":\"market\",\"qty\":\"1\"}", &r, &e), -1);
    CHECK(strcmp(e.code, "market-no-protection") == 0);
    CHECK_EQ(order("{\"symbol\":\"BTC-USD\",\"side\":\"sell\",\"tif\":\"gtd\",\"expire_time_ms\":1700000000123,"
                   "\"price\":\"1\",\"qty\":\"1\"}", &r, &e), 0);
    memcpy(&c, r.payload, sizeof(c));
    CHECK_EQ(c.tif, TIF_GTD);
    CHECK(c.expire_ns == 1700000000123000000ull);
    CHECK_EQ(order("{\"symbol\":\"BTC-USD\",\"side\":\"sell\",\"tif\":\"gtd\",\"price\":\"1\",\"qty\":\"1\"}", &r, &e), -1);
    CHECK(strcmp(e.code, "missing-field") == 0);
    CHECK_EQ(order("{\"symbol\":\"BTC-USD\",\"side\":\"sell\",\"expire_time_ms\":5,\"price\":\"1\",\"qty\":\"1\"}", &r, &e), -1);
    CHECK(strcmp(e.code, "bad-field") == 0);
}

static void expect_refused(const char *json, int status, const char *code)
{
    rec_t r;
    rest_err_t e = {0};
    int rc = order(json, &r, &e);
    if (rc != -1 || e.status != status || e.code == NULL || strcmp(e.code, code) != 0) {
        fprintf(stderr, "  %s\n    gave %d %s (%s), want %d %s\n", json, e.status, e.code ? e.code : "-", e.message,
                status, code);
        check_current_failed = 1;
    }
}

static void test_each_bad_order_is_refused_with_a_stable_code(void)
{
    expect_refused("", 400, "bad-json");
    expect_refused("{", 400, "bad-json");
    expect_refused("[1,2]", 400, "bad-json");
    expect_refused("{\"symbol\":\"BTC-USD\",\"symbol\":\"BTC-USD\"}", 400, "bad-json");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"1\",\"quantity\":\"1\"}", 400,
                   "unknown-field");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"price\":\"1\"}", 400, "missing-field");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\"}", 400, "missing-field");
    expect_refused("{\"symbol\":\"ETH-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"1\"}", 400, "unknown-instrument");
    expect_refused("{\"symbol\":7,\"side\":\"buy\",\"qty\":\"1\",\"price\":\"1\"}", 400, "bad-field");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"up\",\"qty\":\"1\",\"price\":\"1\"}", 400, "bad-side");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"type\":\"stop\",\"qty\":\"1\",\"price\":\"1\"}", 400,
                   "bad-type");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"tif\":\"day\",\"qty\":\"1\",\"price\":\"1\"}", 400,
                   "bad-tif");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"stp\":\"none\",\"qty\":\"1\",\"price\":\"1\"}", 400,
                   "bad-stp");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":1,\"price\":\"1\"}", 400, "bad-decimal");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":60000.5}", 400, "bad-decimal");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"1e3\"}", 400, "bad-decimal");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"-1\"}", 400, "bad-decimal");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\" 1\"}", 400, "bad-decimal");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":"
                   "\"1234567890123456789012345678901234567890123\"}", 400, "bad-decimal");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"99999999999999999999\"}", 400,
                   "overflow");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"0\"}", 400, "price-not-positive");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"60000.5\"}", 400,
                   "price-off-tick");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"60000.001\"}", 400,
                   "price-off-tick");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"0.015\",\"price\":\"1\"}", 400, "qty-off-lot");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"0.000000001\",\"price\":\"1\"}", 400,
                   "qty-off-lot");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"0\",\"price\":\"1\"}", 400, "qty-not-positive");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"1\",\"post_only\":1}", 400,
                   "bad-field");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"1\",\"client_order_id\":0}", 400,
                   "bad-field");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"1\",\"client_order_id\":-3}", 400,
                   "bad-field");
    expect_refused("{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"1\","
                   "\"client_order_id\":\"18446744073709551616\"}", 400, "bad-field");
    expect_refused("{\"symbol\":\"BTC\\u0000-USD\",\"side\":\"buy\",\"qty\":\"1\",\"price\":\"1\"}", 400, "bad-json");
}

static void test_amend_needs_a_change_and_checks_the_grid(void)
{
    const rd_instrument_t *in = refdata_instrument_by_symbol(&rd, "BTC-USD", 7);
    CHECK(in != NULL);
    rec_t r;
    rest_err_t e;
    const char *ok = "{\"qty\":\"0.02\"}";
    CHECK_EQ(request_amend(in, 3, 9, 0, ok, strlen(ok), &r, &e), 0);
    cmd_amend_t a;
    memcpy(&a, r.payload, sizeof(a));
    CHECK_EQ(r.type, CMD_AMEND);
    CHECK_EQ(a.order_id, 9);
    CHECK_EQ(a.account, 3);
    CHECK_EQ(a.new_qty, 2000000);
    CHECK_EQ(a.new_price, 0); /* unchanged */
    CHECK_EQ(request_amend(in, 3, 9, 0, "{}", 2, &r, &e), -1);
    CHECK(strcmp(e.code, "missing-field") == 0);
    CHECK_EQ(request_amend(in, 3, 9, 0, "{\"price\":\"1.5\"}", 15, &r, &e), -1);
    CHECK(strcmp(e.code, "price-off-tick") == 0);
}

static void test_admin_bodies(void)
{
    rec_t r;
    rest_err_t e;
    const char *asset = "{\"name\":\"ETH\",\"decimals\":18}";
    CHECK_EQ(request_add_asset(&rd, asset, strlen(asset), &r, &e), 0);
    cmd_add_asset_t a;
    memcpy(&a, r.payload, sizeof(a));
    CHECK_EQ(a.asset, 3); /* the next free id */
    CHECK_EQ(a.decimals, 18);
    CHECK(strcmp(a.name, "ETH") == 0);
    const char *dup = "{\"name\":\"BTC\",\"decimals\":8}";
    CHECK_EQ(request_add_asset(&rd, dup, strlen(dup), &r, &e), -1);
    CHECK_EQ(e.status, 409);
    const char *inst = "{\"symbol\":\"BTC-EUR\",\"base\":\"BTC\",\"quote\":\"USD\",\"tick_size\":\"0.50\","
                       "\"lot_size\":\"0.001\",\"min_qty\":\"0.001\",\"max_qty\":\"10\",\"ref_price\":\"50000\"}";
    CHECK_EQ(request_add_instrument(&rd, inst, strlen(inst), &r, &e), 0);
    cmd_add_instrument_t d;
    memcpy(&d, r.payload, sizeof(d));
    CHECK_EQ(d.instrument, 2);
    CHECK_EQ(d.tick_size, 50);
    CHECK_EQ(d.lot_size, 100000);
    CHECK_EQ(d.max_qty, 1000000000);
    CHECK_EQ(d.ref_price, 5000000);
    const char *dep = "{\"account\":4,\"asset\":\"USD\",\"amount\":\"12.34\"}";
    CHECK_EQ(request_funds(&rd, CMD_DEPOSIT, dep, strlen(dep), &r, &e), 0);
    cmd_funds_t f;
    memcpy(&f, r.payload, sizeof(f));
    CHECK_EQ(f.account, 4);
    CHECK_EQ(f.asset, 2);
    CHECK_EQ(f.amount, 1234);
    const char *fine = "{\"account\":4,\"asset\":\"USD\",\"amount\":\"12.345\"}";
    CHECK_EQ(request_funds(&rd, CMD_DEPOSIT, fine, strlen(fine), &r, &e), -1);
    CHECK(strcmp(e.code, "bad-decimal") == 0);
    const char *key = "{\"role\":\"read-only\",\"account\":4}";
    auth_role_t role;
    uint32_t account;
    CHECK_EQ(request_key(key, strlen(key), &role, &account, &e), 0);
    CHECK_EQ(role, AUTH_ROLE_READ_ONLY);
    CHECK_EQ(account, 4);
}

static void test_ids_and_query_strings(void)
{
    uint64_t id;
    rest_err_t e;
    CHECK_EQ(request_id("42", 2, "order_id", &id, &e), 0);
    CHECK_EQ(id, 42);
    CHECK_EQ(request_id("0", 1, "order_id", &id, &e), -1);
    CHECK_EQ(request_id("042", 3, "order_id", &id, &e), -1);
    CHECK_EQ(request_id("18446744073709551616", 20, "order_id", &id, &e), -1);
    CHECK_EQ(request_id("abc", 3, "order_id", &id, &e), -1);
    query_arg_t a[] = {{.name = "depth"}, {.name = "symbol"}};
    const char *q = "depth=5&symbol=BTC-USD";
    CHECK_EQ(request_query(q, strlen(q), a, 2, &e), 0);
    CHECK(a[0].set && a[1].set);
    CHECK_EQ(a[1].len, 7);
    uint64_t depth;
    CHECK_EQ(request_query_uint(&a[0], 1, 1000, 20, &depth, &e), 0);
    CHECK_EQ(depth, 5);
    query_arg_t b[] = {{.name = "depth"}};
    CHECK_EQ(request_query("colour=red", 10, b, 1, &e), -1);
    CHECK(strcmp(e.code, "bad-query") == 0);
    query_arg_t c[] = {{.name = "depth"}};
    CHECK_EQ(request_query("depth=1&depth=2", 15, c, 1, &e), -1);
    query_arg_t d[] = {{.name = "symbol"}};
    CHECK_EQ(request_query("symbol=%41", 10, d, 1, &e), -1);
    query_arg_t f[] = {{.name = "depth"}};
    CHECK_EQ(request_query("depth=0", 7, f, 1, &e), 0);
    CHECK_EQ(request_query_uint(&f[0], 1, 1000, 20, &depth, &e), -1);
}

static rec_t event(uint16_t type, const void *payload, size_t len, uint16_t flags)
{
    rec_t r = {.type = type, .len = (uint16_t)len, .flags = flags, .cmd_seq = 55};
    memcpy(r.payload, payload, len);
    return r;
}

static void test_accepted_and_filled_order_answer(void)
{
    collect_t c;
    collect_init(&c);
    collect_reset(&c, 16, true);
    evt_accepted_t a = {.order_id = 12, .client_order_id = 3, .price = 6000000, .qty = 5000000, .account = 7,
                        .instrument = 1, .side = SIDE_BUY};
    evt_trade_t t = {.trade_id = 1, .maker_order_id = 4, .taker_order_id = 12, .price = 5990000, .qty = 2000000,
                     .taker_fee = 24, .instrument = 1};
    evt_book_t b = {.price = 5990000};
    rec_t e1 = event(EVT_ACCEPTED, &a, sizeof(a), 0), e2 = event(EVT_TRADE, &t, sizeof(t), 0),
          e3 = event(EVT_BOOK, &b, sizeof(b), REC_LAST);
    collect_add(&c, &e1);
    collect_add(&c, &e2);
    collect_add(&c, &e3);
    CHECK_EQ(c.n, 2); /* the book update is not part of the answer */
    CHECK_EQ(c.filled, 2000000);
    jw_t w;
    jw_init(&w);
    CHECK_EQ(answer_order(&w, &rd, CMD_NEW_ORDER, &c, 55), 201);
    CHECK(jw_ok(&w));
    CHECK_STR_HAS(w.buf, "\"order_id\":\"12\"");
    CHECK_STR_HAS(w.buf, "\"client_order_id\":\"3\"");
    CHECK_STR_HAS(w.buf, "\"price\":\"60000.00\"");
    CHECK_STR_HAS(w.buf, "\"filled_qty\":\"0.02000000\"");
    CHECK_STR_HAS(w.buf, "\"open_qty\":\"0.03000000\"");
    CHECK_STR_HAS(w.buf, "\"status\":\"partially_filled\"");
    CHECK_STR_HAS(w.buf, "\"fee\":\"0.24\"");
    CHECK_STR_HAS(w.buf, "\"cmd_seq\":55");
    jw_free(&w);
    collect_free(&c);
}

static void test_rejection_answer_has_the_matcher_reason_and_status(void)
{
    collect_t c;
    collect_init(&c);
    collect_reset(&c, 16, true);
    evt_rejected_t j = {.reason = REJ_INSUFFICIENT_BALANCE, .cmd_type = CMD_NEW_ORDER};
    rec_t e = event(EVT_REJECTED, &j, sizeof(j), REC_LAST);
    collect_add(&c, &e);
    jw_t w;
    jw_init(&w);
    CHECK_EQ(answer_order(&w, &rd, CMD_NEW_ORDER, &c, 55), 422);
    CHECK_STR_HAS(w.buf, "{\"error\":{\"code\":\"insufficient-balance\"");
    CHECK_EQ(answer_reject_status(REJ_UNKNOWN_ORDER), 404);
    CHECK_EQ(answer_reject_status(REJ_DUPLICATE_CLIENT_ORDER_ID), 409);
    CHECK_EQ(answer_reject_status(REJ_PRICE_OFF_TICK), 400);
    CHECK_EQ(answer_reject_status(REJ_ORDERS_FULL), 503);
    CHECK(strcmp(answer_reason_name(REJ_PRICE_OFF_TICK), "price-off-tick") == 0);
    CHECK(strcmp(answer_reason_name(9999), "unknown") == 0);
    jw_free(&w);
    collect_free(&c);
}

static void test_collect_truncates_but_keeps_the_sum(void)
{
    collect_t c;
    collect_init(&c);
    collect_reset(&c, 3, true);
    evt_accepted_t a = {.order_id = 1, .qty = 100, .instrument = 1};
    rec_t e = event(EVT_ACCEPTED, &a, sizeof(a), 0);
    collect_add(&c, &e);
    for (int i = 0; i < 10; i++) {
        evt_trade_t t = {.trade_id = (uint64_t)i + 1, .taker_order_id = 1, .qty = 10, .instrument = 1};
        rec_t x = event(EVT_TRADE, &t, sizeof(t), 0);
        collect_add(&c, &x);
    }
    CHECK_EQ(c.n, 3);
    CHECK(c.truncated);
    CHECK_EQ(c.filled, 100);
    CHECK_EQ(c.fills, 10);
    collect_free(&c);
}

static void test_json_writer_escapes_and_balances(void)
{
    jw_t w;
    jw_init(&w);
    jw_obj(&w, NULL);
    jw_str(&w, "s", "a\"b\\c\n\x01\xc3\xa9");
    jw_dec(&w, "d", -1234, 2);
    jw_u64s(&w, "id", UINT64_MAX);
    jw_arr(&w, "a");
    jw_i64(&w, NULL, -1);
    jw_null(&w, NULL);
    jw_arr_end(&w);
    jw_obj_end(&w);
    CHECK(jw_ok(&w));
    CHECK(strcmp(w.buf, "{\"s\":\"a\\\"b\\\\c\\u000a\\u0001\\u00c3\\u00a9\",\"d\":\"-12.34\","
                        "\"id\":\"18446744073709551615\",\"a\":[-1,null]}") == 0);
    jw_reset(&w);
    jw_obj_end(&w);
    CHECK(!jw_ok(&w));
    jw_free(&w);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    setup();
    RUN(test_limit_order_becomes_integers_at_instrument_scales);
    RUN(test_market_and_gtd_orders);
    RUN(test_each_bad_order_is_refused_with_a_stable_code);
    RUN(test_amend_needs_a_change_and_checks_the_grid);
    RUN(test_admin_bodies);
    RUN(test_ids_and_query_strings);
    RUN(test_accepted_and_filled_order_answer);
    RUN(test_rejection_answer_has_the_matcher_reason_and_status);
    RUN(test_collect_truncates_but_keeps_the_sum);
    RUN(test_json_writer_escapes_and_balances);
    refdata_free(&rd);
    CHECK_MAIN_END();
}
