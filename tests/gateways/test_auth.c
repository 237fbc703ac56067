/* test_auth.c - gateways/common/auth.c: HMAC-SHA256 against RFC 4231, what the
 * signature covers, verification failures by reason, the receive window, and
 * the replay guard (replays refused while in the window, busy when full). */
#include "../check.h"
#include "auth.h"

static const uint8_t secret[] = "0123456789abcdef0123456789abcdef";
#define SECRET_LEN 32

static void expect_hex(const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "  got  %s\n  want %s\n", got, want);
        check_current_failed = 1;
    }
}

static void test_rfc4231_vectors_through_the_concatenation(void)
{
    char hex[AUTH_SIG_HEX_LEN + 1];
    /* case 2: key "Jefe", data "what do ya want for nothing?" cut in four parts */
    CHECK_EQ(auth_sign((const uint8_t *)"Jefe", 4, "what do ya ", "want ", "for ", "nothing?", 8,
                       hex), 0);
    expect_hex(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* the same data cut elsewhere, with an empty body: parts have no separators */
    CHECK_EQ(auth_sign((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", "", "", NULL, 0,
                       hex), 0);
    expect_hex(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* case 1: key 0x0b x 20, data "Hi There" */
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof(key1));
    CHECK_EQ(auth_sign(key1, sizeof(key1), "Hi", " ", "There", NULL, 0, hex), 0);
    expect_hex(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void test_sign_then_verify_accepts(void)
{
    const char *body = "{\"symbol\":\"BTC-USD\",\"side\":\"buy\",\"qty\":\"0.5\",\"price\":\"30000.00\"}";
    char hex[AUTH_SIG_HEX_LEN + 1];
    CHECK_EQ(auth_sign(secret, SECRET_LEN, "1700000000000", "POST", "/v1/orders", body,
                       strlen(body), hex), 0);
    CHECK_EQ(strlen(hex), AUTH_SIG_HEX_LEN);
    for (const char *p = hex; *p; p++)
        CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1700000000000", "POST", "/v1/orders", body,
                         strlen(body), hex, AUTH_SIG_HEX_LEN), AUTH_OK);
    /* hex is case-insensitive on the way in */
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1700000000000", "POST", "/v1/orders", body,
                         strlen(body), hex, AUTH_SIG_HEX_LEN), AUTH_OK);
}

static void test_every_flipped_signature_bit_fails(void)
{
    char hex[AUTH_SIG_HEX_LEN + 1];
    CHECK_EQ(auth_sign(secret, SECRET_LEN, "1700000000000", "GET", "/v1/orders", NULL, 0, hex), 0);
    uint8_t sig[AUTH_SIG_BYTES];
    CHECK_EQ(auth_sig_decode(hex, AUTH_SIG_HEX_LEN, sig), 0);
    for (int bit = 0; bit < AUTH_SIG_BYTES * 8; bit++) {
        uint8_t bad[AUTH_SIG_BYTES];
        char bad_hex[AUTH_SIG_HEX_LEN + 1];
        memcpy(bad, sig, sizeof(bad));
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        for (int i = 0; i < AUTH_SIG_BYTES; i++)
            snprintf(bad_hex + 2 * i, 3, "%02x", bad[i]);
        CHECK_EQ(auth_verify(secret, SECRET_LEN, "1700000000000", "GET", "/v1/orders", NULL, 0,
                             bad_hex, AUTH_SIG_HEX_LEN), AUTH_BAD_SIGNATURE);
    }
}

static void test_any_changed_part_fails(void)
{
    char hex[AUTH_SIG_HEX_LEN + 1];
    const char *body = "{\"qty\":\"1\"}";
    size_t bl = strlen(body);
    CHECK_EQ(auth_sign(secret, SECRET_LEN, "1700000000000", "POST", "/v1/orders", body, bl, hex), 0);
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1700000000001", "POST", "/v1/orders", body, bl, hex,
                         64), AUTH_BAD_SIGNATURE);
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1700000000000", "PUT", "/v1/orders", body, bl, hex,
                         64), AUTH_BAD_SIGNATURE);
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1700000000000", "POST", "/v1/order", body, bl, hex,
                         64), AUTH_BAD_SIGNATURE);
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1700000000000", "POST", "/v1/orders",
                         "{\"qty\":\"2\"}", bl, hex, 64), AUTH_BAD_SIGNATURE);
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1700000000000", "POST", "/v1/orders", body, bl - 1,
                         hex, 64), AUTH_BAD_SIGNATURE);
    uint8_t other[SECRET_LEN];
    memcpy(other, secret, SECRET_LEN);
    other[31] ^= 1;
    CHECK_EQ(auth_verify(other, SECRET_LEN, "1700000000000", "POST", "/v1/orders", body, bl, hex,
                         64), AUTH_BAD_SIGNATURE);
    /* moving a byte from one part to the next is the same message: a known
     * property of the scheme. The server takes the timestamp as digits only
     * (auth_parse_ts) and the method as a verb, and a re-split request carries
     * the same signature, which the replay guard refuses. */
    char hex2[AUTH_SIG_HEX_LEN + 1];
    CHECK_EQ(auth_sign(secret, SECRET_LEN, "1700000000000P", "OST", "/v1/orders", body, bl, hex2), 0);
    expect_hex(hex2, hex);
}

static void test_malformed_and_missing_signatures_are_told_apart(void)
{
    char hex[AUTH_SIG_HEX_LEN + 1];
    CHECK_EQ(auth_sign(secret, SECRET_LEN, "1", "GET", "/", NULL, 0, hex), 0);
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1", "GET", "/", NULL, 0, hex, 0),
             AUTH_MISSING_SIGNATURE);
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1", "GET", "/", NULL, 0, hex, 63),
             AUTH_MALFORMED_SIGNATURE);
    char longer[AUTH_SIG_HEX_LEN + 2];
    snprintf(longer, sizeof(longer), "%s0", hex);
    CHECK_EQ(auth_verify(secret, SECRET_LEN, "1", "GET", "/", NULL, 0, longer, 65),
             AUTH_MALFORMED_SIGNATURE);
    const char bad_chars[] = {'g', 'G', 'x', ' ', '\0', '-', ':', '/'};
    for (size_t i = 0; i < sizeof(bad_chars); i++) {
        char bad[AUTH_SIG_HEX_LEN + 1];
        memcpy(bad, hex, sizeof(bad));
        bad[17] = bad_chars[i];
        CHECK_EQ(auth_verify(secret, SECRET_LEN, "1", "GET", "/", NULL, 0, bad, 64),
                 AUTH_MALFORMED_SIGNATURE);
    }
    uint8_t sig[AUTH_SIG_BYTES];
    CHECK_EQ(auth_sig_decode(NULL, 64, sig), -EINVAL);
    CHECK_EQ(auth_sig_decode(hex, 64, sig), 0);
}

static void test_timestamps_parse_as_plain_milliseconds(void)
{
    int64_t ts = -1;
    CHECK_EQ(auth_parse_ts("1700000000000", 13, &ts), AUTH_OK);
    CHECK(ts == 1700000000000LL);
    CHECK_EQ(auth_parse_ts("0", 1, &ts), AUTH_OK);
    CHECK_EQ(ts, 0);
    CHECK_EQ(auth_parse_ts("999999999999999999", 18, &ts), AUTH_OK);
    CHECK_EQ(auth_parse_ts("", 0, &ts), AUTH_MISSING_TIMESTAMP);
    CHECK_EQ(auth_parse_ts("1000000000000000000", 19, &ts), AUTH_MALFORMED_TIMESTAMP);
    CHECK_EQ(auth_parse_ts("01700000000000", 14, &ts), AUTH_MALFORMED_TIMESTAMP);
    CHECK_EQ(auth_parse_ts("-1", 2, &ts), AUTH_MALFORMED_TIMESTAMP);
    CHECK_EQ(auth_parse_ts("1700000000000.0", 15, &ts), AUTH_MALFORMED_TIMESTAMP);
    CHECK_EQ(auth_parse_ts("17e11", 5, &ts), AUTH_MALFORMED_TIMESTAMP);
}

static void test_receive_window_edges_stale_and_future(void)
{
    const int64_t now = 1700000000000LL, w = 5000;
    CHECK_EQ(auth_check_time(now, now, w), AUTH_OK);
    CHECK_EQ(auth_check_time(now, now - w, w), AUTH_OK);
    CHECK_EQ(auth_check_time(now, now - w - 1, w), AUTH_STALE);
    CHECK_EQ(auth_check_time(now, now + w, w), AUTH_OK);
    CHECK_EQ(auth_check_time(now, now + w + 1, w), AUTH_FUTURE);
    CHECK_EQ(auth_check_time(now, 0, w), AUTH_STALE);
    CHECK_EQ(auth_check_time(now, INT64_MIN, w), AUTH_STALE);
    CHECK_EQ(auth_check_time(now, INT64_MAX, w), AUTH_FUTURE);
    CHECK_EQ(auth_check_time(INT64_MAX, INT64_MIN, INT64_MAX), AUTH_STALE);
    CHECK_EQ(auth_check_time(INT64_MIN, INT64_MAX, INT64_MAX), AUTH_FUTURE);
    CHECK_EQ(auth_check_time(now, now - 1, 0), AUTH_STALE);
    CHECK_EQ(auth_check_time(now, now - 1, -7), AUTH_STALE); /* a negative window is 0 */
}

static void sig_of(int i, uint8_t out[AUTH_SIG_BYTES])
{
    char hex[AUTH_SIG_HEX_LEN + 1], ts[24];
    snprintf(ts, sizeof(ts), "%d", 1700000000 + i);
    if (auth_sign(secret, SECRET_LEN, ts, "GET", "/v1/orders", NULL, 0, hex) != 0 ||
        auth_sig_decode(hex, AUTH_SIG_HEX_LEN, out) != 0)
        abort();
}

static void test_replay_refused_while_its_timestamp_is_in_the_window(void)
{
    const int64_t w = 5000, ts = 1700000000000LL;
    auth_replay_t *r = NULL;
    CHECK_EQ(auth_replay_create(&r, 1024, w), 0);
    uint8_t sig[AUTH_SIG_BYTES], other[AUTH_SIG_BYTES];
    sig_of(1, sig);
    sig_of(2, other);
    CHECK_EQ(auth_replay_check(r, sig, ts, ts), AUTH_OK);
    CHECK_EQ(auth_replay_check(r, sig, ts, ts + 1), AUTH_REPLAY);
    CHECK_EQ(auth_replay_check(r, other, ts, ts + 1), AUTH_OK);
    /* the last moment the timestamp is accepted: the replay is still refused */
    CHECK_EQ(auth_check_time(ts + w, ts, w), AUTH_OK);
    CHECK_EQ(auth_replay_check(r, sig, ts, ts + w), AUTH_REPLAY);
    /* a moment later the timestamp itself is stale, so the guard may forget */
    CHECK_EQ(auth_check_time(ts + w + 1, ts, w), AUTH_STALE);
    /* a request stamped in the future is remembered until ts + w too */
    int64_t fut = ts + 20000;
    CHECK_EQ(auth_check_time(fut - w, fut, w), AUTH_OK);
    CHECK_EQ(auth_replay_check(r, other, fut, fut - w), AUTH_OK); /* ts differs: new entry */
    CHECK_EQ(auth_replay_check(r, other, fut, fut + w), AUTH_REPLAY);
    auth_replay_destroy(r);
}

static void test_replay_table_full_answers_busy_and_forgets_nothing(void)
{
    const int64_t w = 1000, ts = 1700000000000LL;
    auth_replay_t *r = NULL;
    CHECK_EQ(auth_replay_create(&r, 8, w), 0); /* 8 slots, one probe window */
    uint8_t sig[9][AUTH_SIG_BYTES];
    for (int i = 0; i < 9; i++)
        sig_of(100 + i, sig[i]);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(auth_replay_check(r, sig[i], ts, ts), AUTH_OK);
    CHECK_EQ(auth_replay_check(r, sig[8], ts, ts + 10), AUTH_REPLAY_BUSY);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(auth_replay_check(r, sig[i], ts, ts + 10), AUTH_REPLAY);
    /* once the entries' timestamps leave the window their slots are reused */
    CHECK_EQ(auth_replay_check(r, sig[8], ts + w + 1, ts + w + 1), AUTH_OK);
    CHECK_EQ(auth_replay_check(r, sig[8], ts + w + 1, ts + w + 2), AUTH_REPLAY);
    auth_replay_destroy(r);
}

static void test_replay_guard_holds_many_at_half_load(void)
{
    const int64_t w = 60000, ts = 1700000000000LL;
    auth_replay_t *r = NULL;
    CHECK_EQ(auth_replay_create(&r, 4096, w), 0);
    uint8_t sig[AUTH_SIG_BYTES];
    for (int i = 0; i < 2048; i++) {
        sig_of(i, sig);
        CHECK_EQ(auth_replay_check(r, sig, ts, ts + i), AUTH_OK);
    }
    for (int i = 0; i < 2048; i++) {
        sig_of(i, sig);
        CHECK_EQ(auth_replay_check(r, sig, ts, ts + 3000), AUTH_REPLAY);
    }
    auth_replay_destroy(r);
}

static void test_replay_create_refuses_bad_sizes(void)
{
    auth_replay_t *r = NULL;
    CHECK_EQ(auth_replay_create(&r, 0, 1000), -EINVAL);
    CHECK_EQ(auth_replay_create(&r, (1u << 24) + 1, 1000), -EINVAL);
    CHECK_EQ(auth_replay_create(&r, 16, -1), -EINVAL);
    CHECK(r == NULL);
}

static void test_reasons_have_distinct_names(void)
{
    for (int i = 0; i < AUTH_REASON_COUNT; i++) {
        const char *s = auth_reason_str((auth_reason_t)i);
        CHECK(s != NULL && strcmp(s, "unknown") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(s, auth_reason_str((auth_reason_t)j)) != 0);
    }
    CHECK(strcmp(auth_reason_str(AUTH_REPLAY), "replay") == 0);
    CHECK(strcmp(auth_reason_str((auth_reason_t)999), "unknown") == 0);
}

static void test_reason_codes_are_the_names_with_hyphens(void)
{
    for (int i = 0; i < AUTH_REASON_COUNT; i++) {
        char want[64];
        snprintf(want, sizeof(want), "%s", auth_reason_str((auth_reason_t)i));
        for (char *p = want; *p; p++)
            if (*p == '_')
                *p = '-';
        CHECK(strcmp(auth_reason_code((auth_reason_t)i), want) == 0);
    }
    CHECK(strcmp(auth_reason_code(AUTH_BAD_SIGNATURE), "bad-signature") == 0);
    CHECK(strcmp(auth_reason_code((auth_reason_t)999), "unknown") == 0);
}

static void test_roles_permit_what_lower_roles_may_and_parse_by_name(void)
{
    CHECK(auth_role_permits(AUTH_ROLE_ADMIN, AUTH_ROLE_TRADER));
    CHECK(auth_role_permits(AUTH_ROLE_TRADER, AUTH_ROLE_TRADER));
    CHECK(auth_role_permits(AUTH_ROLE_TRADER, AUTH_ROLE_READ_ONLY));
    CHECK(!auth_role_permits(AUTH_ROLE_READ_ONLY, AUTH_ROLE_TRADER));
    CHECK(!auth_role_permits(AUTH_ROLE_TRADER, AUTH_ROLE_ADMIN));
    CHECK(!auth_role_permits((auth_role_t)7, AUTH_ROLE_READ_ONLY));
    auth_role_t role;
    for (int i = AUTH_ROLE_READ_ONLY; i <= AUTH_ROLE_ADMIN; i++) {
        const char *n = auth_role_name((auth_role_t)i);
        CHECK_EQ(auth_role_parse(n, strlen(n), &role), 0);
        CHECK_EQ(role, i);
    }
    CHECK_EQ(auth_role_parse("root", 4, &role), -EINVAL);
    CHECK_EQ(auth_role_parse("trade", 5, &role), -EINVAL);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_rfc4231_vectors_through_the_concatenation);
    RUN(test_sign_then_verify_accepts);
    RUN(test_every_flipped_signature_bit_fails);
    RUN(test_any_changed_part_fails);
    RUN(test_malformed_and_missing_signatures_are_told_apart);
    RUN(test_timestamps_parse_as_plain_milliseconds);
    RUN(test_receive_window_edges_stale_and_future);
    RUN(test_replay_refused_while_its_timestamp_is_in_the_window);
    RUN(test_replay_table_full_answers_busy_and_forgets_nothing);
    RUN(test_replay_guard_holds_many_at_half_load);
    RUN(test_replay_create_refuses_bad_sizes);
    RUN(test_reasons_have_distinct_names);
    RUN(test_reason_codes_are_the_names_with_hyphens);
    RUN(test_roles_permit_what_lower_roles_may_and_parse_by_name);
    CHECK_MAIN_END();
}
