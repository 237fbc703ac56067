/* test_ws_proto.c - bourse-ws's parts without sockets: RFC 6455 frames and
 * the handshake (gateways/ws/wsproto.c), client messages (wsmsg.c), the
 * JSON frame writer (jbuf.c) and the book replica (replica.c). */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "jsonw.h"
#include "replica.h"
#include "wsmsg.h"
#include "wsproto.h"

static void test_accept_key_is_the_rfc_example(void)
{
    char out[WS_ACCEPT_LEN + 1];
    CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out) == 0);
    CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
}

static void test_frame_decode_reads_masked_frames_and_refuses_bad_ones(void)
{
    ws_frame_t f;
    uint16_t code;
    uint8_t b[32] = {0x81, 0x85, 1, 2, 3, 4, 'h' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1};
    CHECK_EQ(ws_frame_decode(b, 1, 100, &f, &code), 0);      /* incomplete */
    CHECK_EQ(ws_frame_decode(b, 5, 100, &f, &code), 0);      /* mask incomplete */
    CHECK_EQ(ws_frame_decode(b, 11, 100, &f, &code), 6);
    CHECK(f.fin && f.opcode == WS_OP_TEXT && f.len == 5);
    ws_unmask(b + 6, 5, f.mask, 0);
    CHECK(memcmp(b + 6, "hello", 5) == 0);
    uint8_t unmasked[] = {0x81, 0x05, 'h', 'e', 'l', 'l', 'o'};
    CHECK_EQ(ws_frame_decode(unmasked, sizeof(unmasked), 100, &f, &code), -1);
    CHECK_EQ(code, WS_CLOSE_PROTOCOL);
    uint8_t rsv[] = {0xc1, 0x80, 0, 0, 0, 0};
    CHECK_EQ(ws_frame_decode(rsv, sizeof(rsv), 100, &f, &code), -1);
    uint8_t op3[] = {0x83, 0x80, 0, 0, 0, 0};
    CHECK_EQ(ws_frame_decode(op3, sizeof(op3), 100, &f, &code), -1);
    uint8_t frag_ping[] = {0x09, 0x80, 0, 0, 0, 0};
    CHECK_EQ(ws_frame_decode(frag_ping, sizeof(frag_ping), 100, &f, &code), -1);
    uint8_t big_ping[] = {0x89, 0xfe, 0, 200, 0, 0, 0, 0};
    CHECK_EQ(ws_frame_decode(big_ping, sizeof(big_ping), 1000, &f, &code), -1);
    uint8_t too_big[] = {0x81, 0xfe, 0x10, 0x00, 0, 0, 0, 0};
    CHECK_EQ(ws_frame_decode(too_big, sizeof(too_big), 1000, &f, &code), -1);
    CHECK_EQ(code, WS_CLOSE_TOO_BIG);
    uint8_t non_minimal[] = {0x81, 0xfe, 0x00, 0x10, 0, 0, 0, 0};
    CHECK_EQ(ws_frame_decode(non_minimal, sizeof(non_minimal), 1000, &f, &code), -1);
    CHECK_EQ(code, WS_CLOSE_PROTOCOL);
    uint8_t top_bit[] = {0x81, 0xff, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    CHECK_EQ(ws_frame_decode(top_bit, sizeof(top_bit), UINT64_MAX, &f, &code), -1);
}

static void test_frame_header_picks_the_shortest_length(void)
{
    uint8_t h[WS_SERVER_HDR_MAX];
    CHECK_EQ(ws_frame_header(h, WS_OP_TEXT, 125), 2);
    CHECK(h[0] == 0x81 && h[1] == 125);
    CHECK_EQ(ws_frame_header(h, WS_OP_TEXT, 126), 4);
    CHECK(h[1] == 126 && h[2] == 0 && h[3] == 126);
    CHECK_EQ(ws_frame_header(h, WS_OP_TEXT, 70000), 10);
    CHECK(h[1] == 127 && h[7] == 0x01 && h[8] == 0x11 && h[9] == 0x70);
    uint8_t c[2 + WS_CONTROL_MAX];
    size_t n = ws_close_frame(c, 4001, "slow");
    CHECK(n == 8 && c[0] == 0x88 && c[1] == 6 && c[2] == 0x0f && c[3] == 0xa1);
    uint16_t code;
    CHECK(ws_close_parse(c + 2, 6, &code) == 0 && code == 4001);
    CHECK(ws_close_parse(c + 2, 1, &code) < 0);
    uint8_t reserved[] = {0x03, 0xed}; /* 1005 may not be sent */
    CHECK(ws_close_parse(reserved, 2, &code) < 0);
}

static void test_utf8_validation_refuses_overlongs_and_surrogates(void)
{
    CHECK(ws_utf8_valid((const uint8_t *)"plain", 5));
    CHECK(ws_utf8_valid((const uint8_t *)"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    CHECK(!ws_utf8_valid((const uint8_t *)"\xc0\xaf", 2));
    CHECK(!ws_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));
    CHECK(!ws_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
    CHECK(!ws_utf8_valid((const uint8_t *)"\xe2\x82", 2));
    CHECK(!ws_utf8_valid((const uint8_t *)"\xff", 1));
}

static void test_http_parse_finds_the_upgrade(void)
{
    const char *r = "GET /ws?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "X-Bourse-Key: abc\r\n\r\n";
    ws_http_req_t q;
    int n = ws_http_parse(r, strlen(r), 8192, &q);
    CHECK_EQ(n, (int)strlen(r));
    CHECK(q.upgrade_websocket && q.connection_upgrade && q.version_13);
    CHECK(q.key.len == 24 && q.auth_key.len == 3);
    CHECK_EQ(q.path_len, 3);
    CHECK_EQ(ws_http_parse(r, strlen(r) - 2, 8192, &q), 0);
    CHECK_EQ(ws_http_parse("GET / HTTP/2.0\r\n\r\n", 18, 8192, &q), -505);
    CHECK_EQ(ws_http_parse("GET nope HTTP/1.1\r\n\r\n", 21, 8192, &q), -400);
    CHECK_EQ(ws_http_parse("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 30, 8192, &q), -400);
    char big[300];
    memset(big, 'a', sizeof(big));
    CHECK_EQ(ws_http_parse(big, sizeof(big), 256, &q), -431);
}

static void test_messages_parse_and_refuse_with_stable_codes(void)
{
    ws_req_t r;
    ws_msg_err_t e;
#define P(s) wsmsg_parse(s, strlen(s), &r, &e)
    CHECK(P("{\"op\":\"subscribe\",\"channel\":\"book\",\"symbol\":\"BTC-USD\",\"id\":7}") == 0);
    CHECK(r.op == WSOP_SUBSCRIBE && r.channel == CH_BOOK && strcmp(r.symbol, "BTC-USD") == 0 && strcmp(r.id, "7") == 0);
    CHECK(P("{\"op\":\"subscribe\",\"channel\":\"candles.1m\",\"symbol\":\"X\",\"id\":\"a-1\"}") == 0);
    CHECK(r.channel == CH_CANDLES_1M && strcmp(r.id, "\"a-1\"") == 0);
    CHECK(P("{\"op\":\"subscribe\",\"channel\":\"orders\"}") == 0 && r.channel == CH_ORDERS);
    CHECK(P("{\"op\":\"auth\",\"key\":\"k\",\"timestamp\":\"1\",\"signature\":\"ab\"}") == 0 && r.op == WSOP_AUTH);
    CHECK(P("{\"op\":\"ping\"}") == 0 && r.op == WSOP_PING && r.id[0] == '\0');
    CHECK(P("{nope") < 0 && strcmp(e.code, "bad-json") == 0);
    CHECK(P("[]") < 0 && strcmp(e.code, "bad-json") == 0);
    CHECK(P("{\"op\":\"ping\",\"op\":\"ping\"}") < 0 && strcmp(e.code, "bad-json") == 0);
    CHECK(P("{\"op\":\"fly\",\"id\":3}") < 0 && strcmp(e.code, "unknown-op") == 0 && strcmp(r.id, "3") == 0);
    CHECK(P("{\"op\":\"subscribe\",\"channel\":\"x\",\"symbol\":\"B\"}") < 0 && strcmp(e.code, "unknown-channel") == 0);
    CHECK(P("{\"op\":\"subscribe\",\"channel\":\"book\"}") < 0 && strcmp(e.code, "bad-request") == 0);
    CHECK(P("{\"op\":\"subscribe\",\"channel\":\"book\",\"symbol\":\"WAY-TOO-LONG-SYMBOL\"}") < 0);
    CHECK(P("{\"op\":\"subscribe\",\"channel\":\"book\",\"symbol\":\"A B\"}") < 0);
    CHECK(P("{\"op\":\"subscribe\",\"channel\":\"orders\",\"symbol\":\"B\"}") < 0);
    CHECK(P("{\"op\":\"ping\",\"extra\":1}") < 0 && strcmp(e.code, "bad-request") == 0);
    CHECK(P("{\"op\":\"ping\",\"id\":-1}") < 0);
    CHECK(P("{\"op\":\"ping\",\"id\":\"a b\"}") < 0);
    CHECK(P("{\"op\":\"ping\",\"id\":1.5}") < 0);
    CHECK(P("{\"op\":\"order\",\"symbol\":\"BTC-USD\",\"side\":\"sell\",\"price\":\"60000.00\",\"qty\":\"0.5\","
            "\"tif\":\"ioc\",\"client_order_id\":\"18446744073709551615\",\"post_only\":true}") == 0);
    CHECK(r.op == WSOP_ORDER && r.side == 1 /* sell */ && r.tif == 1 /* ioc */ && r.type == 0 && r.post_only);
    CHECK(r.client_order_id == UINT64_MAX && strcmp(r.price, "60000.00") == 0 && strcmp(r.qty, "0.5") == 0);
    CHECK(P("{\"op\":\"order\",\"symbol\":\"X\",\"side\":\"up\",\"price\":\"1\",\"qty\":\"1\"}") < 0);
    CHECK(P("{\"op\":\"order\",\"symbol\":\"X\",\"side\":\"buy\",\"qty\":\"1\"}") < 0); /* price needed */
    CHECK(P("{\"op\":\"order\",\"symbol\":\"X\",\"side\":\"buy\",\"price\":\"1\",\"qty\":\"1\","
            "\"client_order_id\":\"18446744073709551616\"}") < 0);
    CHECK(P("{\"op\":\"cancel\",\"order_id\":\"42\"}") == 0 && r.op == WSOP_CANCEL && r.order_id == 42);
    CHECK(P("{\"op\":\"cancel\",\"order_id\":\"42\",\"client_order_id\":\"7\"}") < 0);
    CHECK(P("{\"op\":\"cancel\"}") < 0);
    CHECK(P("{\"op\":\"cancel\",\"order_id\":\"042\"}") < 0);
#undef P
}

static void test_json_writer_makes_a_frame_with_decimals_as_strings(void)
{
    jw_t j;
    jw_init_room(&j, WS_SERVER_HDR_MAX);
    jw_obj(&j, NULL);
    jw_str(&j, "s", "a\"b");
    jw_dec(&j, "p", 6000000, 2);
    jw_u64s(&j, "ts", 1700000000123456789ull);
    jw_i64(&j, "n", -5);
    jw_arr(&j, "l");
    jw_u64(&j, NULL, 1);
    jw_arr_end(&j);
    jw_obj_end(&j);
    size_t n;
    const uint8_t *f = ws_frame_json(&j, &n);
    const char *want = "{\"s\":\"a\\\"b\",\"p\":\"60000.00\",\"ts\":\"1700000000123456789\",\"n\":-5,\"l\":[1]}";
    CHECK(j.len == strlen(want) && memcmp(j.buf, want, j.len) == 0);
    CHECK(f != NULL && n == j.len + 2 && f[0] == 0x81 && f[1] == j.len && memcmp(f + 2, want, j.len) == 0);
    jw_free(&j);
}

static void test_json_writer_without_room_makes_no_frame(void)
{
    jw_t j;
    jw_init(&j);
    jw_obj(&j, NULL);
    jw_obj_end(&j);
    size_t n;
    CHECK(ws_frame_json(&j, &n) == NULL);
    jw_free(&j);
}

static void test_replica_keeps_levels_sorted_best_first(void)
{
    replica_t r;
    replica_init(&r);
    int64_t bids[] = {100, 105, 98, 103, 101}, asks[] = {110, 107, 120, 108};
    for (int i = 0; i < 5; i++)
        CHECK(replica_set(&r, 0, bids[i], 10 + i, 1) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(replica_set(&r, 1, asks[i], 5, 2) == 0);
    CHECK_EQ(replica_level(&r, 0, 0)->price, 105);
    CHECK_EQ(replica_level(&r, 0, 4)->price, 98);
    CHECK(replica_level(&r, 0, 5) == NULL);
    CHECK_EQ(replica_level(&r, 1, 0)->price, 107);
    CHECK(replica_set(&r, 0, 105, 0, 0) == 0); /* best bid gone */
    CHECK_EQ(replica_level(&r, 0, 0)->price, 103);
    CHECK(replica_set(&r, 0, 101, 77, 3) == 0);
    CHECK_EQ(replica_get(&r, 0, 101)->qty, 77);
    CHECK(replica_get(&r, 0, 102) == NULL);
    CHECK(replica_set(&r, 0, 999, 0, 0) == 0); /* removing an absent level is fine */
    CHECK_EQ(replica_depth(&r, 0), 4);
    /* many levels, random order: stays sorted */
    uint64_t x = check_seed() | 1;
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        CHECK(replica_set(&r, 1, (int64_t)(x % 500) + 200, (int64_t)(x % 3), 1) == 0);
    }
    for (uint32_t i = 1; i < replica_depth(&r, 1); i++)
        CHECK(replica_level(&r, 1, i - 1)->price < replica_level(&r, 1, i)->price);
    replica_free(&r);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_accept_key_is_the_rfc_example);
    RUN(test_frame_decode_reads_masked_frames_and_refuses_bad_ones);
    RUN(test_frame_header_picks_the_shortest_length);
    RUN(test_utf8_validation_refuses_overlongs_and_surrogates);
    RUN(test_http_parse_finds_the_upgrade);
    RUN(test_messages_parse_and_refuse_with_stable_codes);
    RUN(test_json_writer_makes_a_frame_with_decimals_as_strings);
    RUN(test_json_writer_without_room_makes_no_frame);
    RUN(test_replica_keeps_levels_sorted_best_first);
    CHECK_MAIN_END();
}
