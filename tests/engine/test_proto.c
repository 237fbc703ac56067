/* test_proto.c - the record protocol's version guards its layouts: a
 * fingerprint of every payload field's offset and size, every command, event
 * and reason number, the journal record and the params, recorded here for
 * each PROTO_VERSION. A layout changed without a new version changes the
 * fingerprint under the old number, and this test fails; likewise the journal
 * and snapshot file headers under their own format versions. With a new
 * version, add its line to the table (the failure prints the value). */
#include "../check.h"
#include "journal.h"
#include "layout.h"
#include "params.h"
#include "proto.h"
#include "recover.h"
#include "snapshot.h"

typedef struct fp {
    uint64_t h;
} fp_t;

static void fp_add(fp_t *f, const char *what, uint64_t a, uint64_t b)
{
    char line[160];
    int n = snprintf(line, sizeof(line), "%s:%" PRIu64 ":%" PRIu64 ";", what, a, b);
    for (int i = 0; i < n; i++) {
        f->h ^= (uint8_t)line[i];
        f->h *= 0x100000001b3ull; /* FNV-1a */
    }
}

#define FIELD(f, t, m) fp_add(f, #t "." #m, offsetof(t, m), sizeof(((t *)0)->m))
#define SIZE(f, t) fp_add(f, #t, sizeof(t), _Alignof(t))
#define NUM(f, c) fp_add(f, #c, (uint64_t)(c), 0)

static uint64_t proto_fingerprint(void)
{
    fp_t f = {0xcbf29ce484222325ull};
    SIZE(&f, cmd_new_order_t);
    FIELD(&f, cmd_new_order_t, client_order_id); FIELD(&f, cmd_new_order_t, price);
    FIELD(&f, cmd_new_order_t, qty); FIELD(&f, cmd_new_order_t, expire_ns);
    FIELD(&f, cmd_new_order_t, account); FIELD(&f, cmd_new_order_t, instrument);
    FIELD(&f, cmd_new_order_t, side); FIELD(&f, cmd_new_order_t, type); FIELD(&f, cmd_new_order_t, tif);
    FIELD(&f, cmd_new_order_t, stp); FIELD(&f, cmd_new_order_t, flags);
    SIZE(&f, cmd_cancel_t);
    FIELD(&f, cmd_cancel_t, order_id); FIELD(&f, cmd_cancel_t, client_order_id); FIELD(&f, cmd_cancel_t, account);
    SIZE(&f, cmd_amend_t);
    FIELD(&f, cmd_amend_t, order_id); FIELD(&f, cmd_amend_t, client_order_id); FIELD(&f, cmd_amend_t, new_price);
    FIELD(&f, cmd_amend_t, new_qty); FIELD(&f, cmd_amend_t, account);
    SIZE(&f, cmd_mass_cancel_t);
    FIELD(&f, cmd_mass_cancel_t, account); FIELD(&f, cmd_mass_cancel_t, instrument);
    SIZE(&f, cmd_add_asset_t);
    FIELD(&f, cmd_add_asset_t, name); FIELD(&f, cmd_add_asset_t, asset); FIELD(&f, cmd_add_asset_t, decimals);
    SIZE(&f, cmd_add_instrument_t);
    FIELD(&f, cmd_add_instrument_t, symbol); FIELD(&f, cmd_add_instrument_t, instrument);
    FIELD(&f, cmd_add_instrument_t, base); FIELD(&f, cmd_add_instrument_t, quote);
    FIELD(&f, cmd_add_instrument_t, band_bps); FIELD(&f, cmd_add_instrument_t, tick_size);
    FIELD(&f, cmd_add_instrument_t, lot_size); FIELD(&f, cmd_add_instrument_t, min_qty);
    FIELD(&f, cmd_add_instrument_t, max_qty); FIELD(&f, cmd_add_instrument_t, ref_price);
    SIZE(&f, cmd_instrument_t);
    FIELD(&f, cmd_instrument_t, instrument);
    SIZE(&f, cmd_account_t);
    FIELD(&f, cmd_account_t, account); FIELD(&f, cmd_account_t, fee_tier);
    SIZE(&f, cmd_funds_t);
    FIELD(&f, cmd_funds_t, account); FIELD(&f, cmd_funds_t, asset); FIELD(&f, cmd_funds_t, amount);
    SIZE(&f, cmd_fee_tier_t);
    FIELD(&f, cmd_fee_tier_t, tier); FIELD(&f, cmd_fee_tier_t, maker_bps); FIELD(&f, cmd_fee_tier_t, taker_bps);
    SIZE(&f, cmd_resize_t);
    FIELD(&f, cmd_resize_t, max_orders); FIELD(&f, cmd_resize_t, max_gtd); FIELD(&f, cmd_resize_t, max_accounts);
    FIELD(&f, cmd_resize_t, max_assets); FIELD(&f, cmd_resize_t, max_instruments);
    FIELD(&f, cmd_resize_t, max_levels); FIELD(&f, cmd_resize_t, max_account_orders);
    SIZE(&f, cmd_query_book_t);
    FIELD(&f, cmd_query_book_t, instrument); FIELD(&f, cmd_query_book_t, depth);
    SIZE(&f, cmd_query_account_t);
    FIELD(&f, cmd_query_account_t, after_order_id); FIELD(&f, cmd_query_account_t, account);
    FIELD(&f, cmd_query_account_t, limit); FIELD(&f, cmd_query_account_t, what);
    SIZE(&f, evt_accepted_t);
    FIELD(&f, evt_accepted_t, order_id); FIELD(&f, evt_accepted_t, client_order_id); FIELD(&f, evt_accepted_t, price);
    FIELD(&f, evt_accepted_t, qty); FIELD(&f, evt_accepted_t, expire_ns); FIELD(&f, evt_accepted_t, account);
    FIELD(&f, evt_accepted_t, instrument); FIELD(&f, evt_accepted_t, side); FIELD(&f, evt_accepted_t, type);
    FIELD(&f, evt_accepted_t, tif); FIELD(&f, evt_accepted_t, stp); FIELD(&f, evt_accepted_t, flags);
    SIZE(&f, evt_rejected_t);
    FIELD(&f, evt_rejected_t, client_order_id); FIELD(&f, evt_rejected_t, order_id);
    FIELD(&f, evt_rejected_t, account); FIELD(&f, evt_rejected_t, cmd_type); FIELD(&f, evt_rejected_t, reason);
    SIZE(&f, evt_trade_t);
    FIELD(&f, evt_trade_t, trade_id); FIELD(&f, evt_trade_t, maker_order_id); FIELD(&f, evt_trade_t, taker_order_id);
    FIELD(&f, evt_trade_t, price); FIELD(&f, evt_trade_t, qty); FIELD(&f, evt_trade_t, maker_fee);
    FIELD(&f, evt_trade_t, taker_fee); FIELD(&f, evt_trade_t, maker_account); FIELD(&f, evt_trade_t, taker_account);
    FIELD(&f, evt_trade_t, instrument); FIELD(&f, evt_trade_t, taker_side); FIELD(&f, evt_trade_t, maker_done);
    SIZE(&f, evt_cancelled_t);
    FIELD(&f, evt_cancelled_t, order_id); FIELD(&f, evt_cancelled_t, client_order_id); FIELD(&f, evt_cancelled_t, qty);
    FIELD(&f, evt_cancelled_t, account); FIELD(&f, evt_cancelled_t, instrument); FIELD(&f, evt_cancelled_t, reason);
    FIELD(&f, evt_cancelled_t, side);
    SIZE(&f, evt_replaced_t);
    FIELD(&f, evt_replaced_t, order_id); FIELD(&f, evt_replaced_t, client_order_id); FIELD(&f, evt_replaced_t, price);
    FIELD(&f, evt_replaced_t, qty); FIELD(&f, evt_replaced_t, account); FIELD(&f, evt_replaced_t, instrument);
    FIELD(&f, evt_replaced_t, kept_priority); FIELD(&f, evt_replaced_t, side);
    SIZE(&f, evt_book_t);
    FIELD(&f, evt_book_t, price); FIELD(&f, evt_book_t, qty); FIELD(&f, evt_book_t, orders);
    FIELD(&f, evt_book_t, instrument); FIELD(&f, evt_book_t, side);
    SIZE(&f, evt_balance_t);
    FIELD(&f, evt_balance_t, available); FIELD(&f, evt_balance_t, held); FIELD(&f, evt_balance_t, account);
    FIELD(&f, evt_balance_t, asset);
    SIZE(&f, evt_instrument_t);
    FIELD(&f, evt_instrument_t, def); FIELD(&f, evt_instrument_t, halted);
    SIZE(&f, evt_query_end_t);
    FIELD(&f, evt_query_end_t, next_after); FIELD(&f, evt_query_end_t, count); FIELD(&f, evt_query_end_t, cmd_type);
    FIELD(&f, evt_query_end_t, more);
    SIZE(&f, evt_digest_t);
    FIELD(&f, evt_digest_t, digest); FIELD(&f, evt_digest_t, resting);
    /* The journal record: the sequenced command as the matcher applies it. */
    SIZE(&f, mcmd_t);
    FIELD(&f, mcmd_t, seq); FIELD(&f, mcmd_t, ts_ns); FIELD(&f, mcmd_t, type); FIELD(&f, mcmd_t, src);
    FIELD(&f, mcmd_t, len); FIELD(&f, mcmd_t, u);
    SIZE(&f, recover_cmd_t);
    FIELD(&f, recover_cmd_t, ref); FIELD(&f, recover_cmd_t, cmd);
    SIZE(&f, params_t);
    FIELD(&f, params_t, proto_version); FIELD(&f, params_t, matcher.max_orders); FIELD(&f, params_t, matcher.max_gtd);
    FIELD(&f, params_t, matcher.max_accounts); FIELD(&f, params_t, matcher.max_assets);
    FIELD(&f, params_t, matcher.max_instruments); FIELD(&f, params_t, matcher.max_levels);
    FIELD(&f, params_t, matcher.max_account_orders);
    /* The numbers a record's type and a refusal's reason are. */
    NUM(&f, CMD_ECHO); NUM(&f, CMD_NEW_ORDER); NUM(&f, CMD_CANCEL); NUM(&f, CMD_AMEND); NUM(&f, CMD_MASS_CANCEL);
    NUM(&f, CMD_TIMER); NUM(&f, CMD_RESIZE); NUM(&f, CMD_QUERY_BOOK); NUM(&f, CMD_QUERY_ACCOUNT);
    NUM(&f, CMD_QUERY_ORDER); NUM(&f, CMD_QUERY_REFDATA); NUM(&f, CMD_SNAPSHOT); NUM(&f, CMD_QUERY_DIGEST);
    NUM(&f, CMD_ADD_ASSET); NUM(&f, CMD_ADD_INSTRUMENT); NUM(&f, CMD_HALT); NUM(&f, CMD_RESUME);
    NUM(&f, CMD_ADD_ACCOUNT); NUM(&f, CMD_DEPOSIT); NUM(&f, CMD_WITHDRAW); NUM(&f, CMD_SET_FEE_TIER);
    NUM(&f, CMD_DEFINE_FEE_TIER);
    NUM(&f, EVT_ECHO); NUM(&f, EVT_ACCEPTED); NUM(&f, EVT_REJECTED); NUM(&f, EVT_TRADE); NUM(&f, EVT_CANCELLED);
    NUM(&f, EVT_REPLACED); NUM(&f, EVT_BOOK); NUM(&f, EVT_BALANCE); NUM(&f, EVT_ADMIN); NUM(&f, EVT_Q_LEVEL);
    NUM(&f, EVT_Q_BALANCE); NUM(&f, EVT_Q_ORDER); NUM(&f, EVT_Q_ASSET); NUM(&f, EVT_Q_INSTRUMENT);
    NUM(&f, EVT_Q_END); NUM(&f, EVT_Q_DIGEST); NUM(&f, SRC_ENGINE); NUM(&f, PROTO_NO_ACCOUNT);
    NUM(&f, REJ_REASON_MAX); NUM(&f, REJ_OVERFLOW); NUM(&f, REJ_BAD_LIMIT); NUM(&f, CXL_PROTECTION);
    NUM(&f, ORD_MARKET); NUM(&f, TIF_GTD); NUM(&f, STP_DECREMENT); NUM(&f, ORDF_POST_ONLY);
    NUM(&f, PROTO_PAYLOAD_MAX);
    return f.h;
}

static uint64_t journal_fingerprint(void)
{
    fp_t f = {0xcbf29ce484222325ull};
    SIZE(&f, journal_file_header_t);
    FIELD(&f, journal_file_header_t, magic); FIELD(&f, journal_file_header_t, version);
    FIELD(&f, journal_file_header_t, header_size); FIELD(&f, journal_file_header_t, first_seq);
    FIELD(&f, journal_file_header_t, created_unix_ns); FIELD(&f, journal_file_header_t, params);
    FIELD(&f, journal_file_header_t, crc);
    SIZE(&f, journal_rec_header_t);
    FIELD(&f, journal_rec_header_t, len); FIELD(&f, journal_rec_header_t, crc); FIELD(&f, journal_rec_header_t, seq);
    NUM(&f, JOURNAL_PAYLOAD_MAX);
    return f.h;
}

static uint64_t snapshot_fingerprint(void)
{
    fp_t f = {0xcbf29ce484222325ull};
    SIZE(&f, snapshot_header_t);
    FIELD(&f, snapshot_header_t, magic); FIELD(&f, snapshot_header_t, version);
    FIELD(&f, snapshot_header_t, header_size); FIELD(&f, snapshot_header_t, seq);
    FIELD(&f, snapshot_header_t, created_unix_ns); FIELD(&f, snapshot_header_t, body_bytes);
    FIELD(&f, snapshot_header_t, digest); FIELD(&f, snapshot_header_t, body_crc);
    FIELD(&f, snapshot_header_t, params); FIELD(&f, snapshot_header_t, header_crc);
    return f.h;
}

/* What each released version's layouts are. Never edit a line: a changed
 * layout is a new version and a new line. */
static const struct known {
    const char *format;
    unsigned version;
    uint64_t fingerprint;
} known[] = {
    {"protocol", 1, 0x3e880a91dd8590f2ull},
    {"journal", 2, 0x05b92fea0476229full},
    {"snapshot", 2, 0x2a0b58b1579158a9ull},
};

static int check_version(const char *format, unsigned version, uint64_t now)
{
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(known[i].format, format) != 0 || known[i].version != version)
            continue;
        if (known[i].fingerprint == now)
            return 1;
        fprintf(stderr, "  the %s layouts changed under version %u (fingerprint 0x%016" PRIx64 ", recorded 0x%016"
                PRIx64 "): bump the version and add {\"%s\", %u + 1, ...} to known[]\n", format, version, now,
                known[i].fingerprint, format, version);
        return 0;
    }
    fprintf(stderr, "  %s version %u has no recorded fingerprint: add {\"%s\", %u, 0x%016" PRIx64 "} to known[]\n",
            format, version, format, version, now);
    return 0;
}

static void test_the_protocol_layouts_are_those_of_their_version(void)
{
    CHECK(check_version("protocol", PROTO_VERSION, proto_fingerprint()));
}

static void test_the_journal_file_layout_is_that_of_its_version(void)
{
    CHECK(check_version("journal", JOURNAL_VERSION, journal_fingerprint()));
}

static void test_the_snapshot_header_layout_is_that_of_its_version(void)
{
    CHECK(check_version("snapshot", SNAPSHOT_VERSION, snapshot_fingerprint()));
}

static void test_params_name_the_setting_that_differs(void)
{
    matcher_config_t a, b;
    matcher_config_defaults(&a);
    b = a;
    char why[128];
    CHECK_EQ(params_compare(&a, &b, why, sizeof(why)), PARAMS_SAME);
    CHECK(why[0] == '\0');
    b.max_levels = a.max_levels * 2;
    CHECK_EQ(params_compare(&a, &b, why, sizeof(why)), PARAMS_GROW);
    CHECK_STR_HAS(why, "max_levels");
    b.max_orders = a.max_orders / 2; /* a shrink is named before any growth */
    CHECK_EQ(params_compare(&a, &b, why, sizeof(why)), PARAMS_SHRINK);
    CHECK(strcmp(why, "max_orders: 1048576 -> 524288") == 0);
}

static void test_params_of_another_protocol_are_refused_by_name(void)
{
    matcher_config_t c;
    matcher_config_defaults(&c);
    params_t p;
    params_make(&p, &c);
    err_t err = {0};
    CHECK_EQ(params_check(&p, "journal file x", &err), 0);
    p.proto_version = PROTO_VERSION + 1;
    CHECK_EQ(params_check(&p, "journal file x", &err), -EPROTONOSUPPORT);
    CHECK_STR_HAS(err.msg, "journal file x holds records of protocol version 2");
    params_make(&p, &c);
    p.pad[3] = 1;
    CHECK_EQ(params_check(&p, "journal file x", &err), -EBADMSG);
    params_make(&p, &c);
    p.matcher.max_levels = 0;
    CHECK_EQ(params_check(&p, "journal file x", &err), -EBADMSG);
    CHECK_STR_HAS(err.msg, "max_levels is 0");
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_the_protocol_layouts_are_those_of_their_version);
    RUN(test_the_journal_file_layout_is_that_of_its_version);
    RUN(test_the_snapshot_header_layout_is_that_of_its_version);
    RUN(test_params_name_the_setting_that_differs);
    RUN(test_params_of_another_protocol_are_refused_by_name);
    CHECK_MAIN_END();
}
