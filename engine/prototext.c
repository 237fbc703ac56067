/* prototext.c - see prototext.h. Both directions are driven by one table of
 * fields per command and per event: adding a field is one line. */
#include "prototext.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

typedef enum kind {
    K_U8, K_U16, K_U32, K_I32, K_U64, K_I64, K_STR16, K_SIDE, K_OTYPE, K_TIF, K_STP, K_POST, K_REASON, K_CXL,
    K_BOOL,
} kind_t;

typedef struct field {
    const char *name;
    uint8_t kind;
    uint8_t required;
    uint16_t off;
    const char *alias;       /* an older name the parser still takes, or NULL */
} field_t;

enum { FIELDS_MAX = 12, PROTOTEXT_DEPTH_DEFAULT = 10 };

typedef struct def {
    const char *name;
    uint16_t type;
    uint16_t len;
    field_t f[FIELDS_MAX];
} def_t;

#define F(s, m, k, req) {#m, k, req, offsetof(s, m), NULL}
#define FN(s, name, m, k, req) {name, k, req, offsetof(s, m), NULL}

/* An order's type is "order_type" in text: an event's JSON already has a
 * "type" (the event's), and a second key of that name is lost on most
 * readers. new-order still takes the older type= it had. */
#define F_OTYPE(s) {"order_type", K_OTYPE, 0, offsetof(s, type), "type"}

static const def_t commands[] = {
    {"echo", CMD_ECHO, 8, {{"value", K_U64, 0, 0, NULL}}},
    {"new-order", CMD_NEW_ORDER, sizeof(cmd_new_order_t),
     {F(cmd_new_order_t, account, K_U32, 1), F(cmd_new_order_t, instrument, K_U32, 1),
      F(cmd_new_order_t, side, K_SIDE, 1), F_OTYPE(cmd_new_order_t),
      F(cmd_new_order_t, tif, K_TIF, 0), F(cmd_new_order_t, stp, K_STP, 0),
      FN(cmd_new_order_t, "post_only", flags, K_POST, 0), F(cmd_new_order_t, price, K_I64, 0),
      F(cmd_new_order_t, qty, K_I64, 1), F(cmd_new_order_t, client_order_id, K_U64, 0),
      F(cmd_new_order_t, expire_ns, K_U64, 0)}},
    {"cancel", CMD_CANCEL, sizeof(cmd_cancel_t),
     {F(cmd_cancel_t, account, K_U32, 1), F(cmd_cancel_t, order_id, K_U64, 0),
      F(cmd_cancel_t, client_order_id, K_U64, 0)}},
    {"amend", CMD_AMEND, sizeof(cmd_amend_t),
     {F(cmd_amend_t, account, K_U32, 1), F(cmd_amend_t, order_id, K_U64, 0),
      F(cmd_amend_t, client_order_id, K_U64, 0), F(cmd_amend_t, new_price, K_I64, 0),
      F(cmd_amend_t, new_qty, K_I64, 0)}},
    {"mass-cancel", CMD_MASS_CANCEL, sizeof(cmd_mass_cancel_t),
     {F(cmd_mass_cancel_t, account, K_U32, 1), F(cmd_mass_cancel_t, instrument, K_U32, 0)}},
    {"add-asset", CMD_ADD_ASSET, sizeof(cmd_add_asset_t),
     {F(cmd_add_asset_t, asset, K_U32, 1), F(cmd_add_asset_t, name, K_STR16, 1),
      F(cmd_add_asset_t, decimals, K_U8, 1)}},
    {"add-instrument", CMD_ADD_INSTRUMENT, sizeof(cmd_add_instrument_t),
     {F(cmd_add_instrument_t, instrument, K_U32, 1), F(cmd_add_instrument_t, symbol, K_STR16, 1),
      F(cmd_add_instrument_t, base, K_U32, 1), F(cmd_add_instrument_t, quote, K_U32, 1),
      F(cmd_add_instrument_t, tick_size, K_I64, 1), F(cmd_add_instrument_t, lot_size, K_I64, 1),
      F(cmd_add_instrument_t, min_qty, K_I64, 1), F(cmd_add_instrument_t, max_qty, K_I64, 1),
      F(cmd_add_instrument_t, ref_price, K_I64, 1), F(cmd_add_instrument_t, band_bps, K_U32, 0)}},
    {"halt", CMD_HALT, sizeof(cmd_instrument_t), {F(cmd_instrument_t, instrument, K_U32, 1)}},
    {"resume", CMD_RESUME, sizeof(cmd_instrument_t), {F(cmd_instrument_t, instrument, K_U32, 1)}},
    {"add-account", CMD_ADD_ACCOUNT, sizeof(cmd_account_t),
     {F(cmd_account_t, account, K_U32, 1), F(cmd_account_t, fee_tier, K_U32, 0)}},
    {"set-fee-tier", CMD_SET_FEE_TIER, sizeof(cmd_account_t),
     {F(cmd_account_t, account, K_U32, 1), F(cmd_account_t, fee_tier, K_U32, 1)}},
    {"define-fee-tier", CMD_DEFINE_FEE_TIER, sizeof(cmd_fee_tier_t),
     {F(cmd_fee_tier_t, tier, K_U32, 1), F(cmd_fee_tier_t, maker_bps, K_I32, 1),
      F(cmd_fee_tier_t, taker_bps, K_I32, 1)}},
    {"deposit", CMD_DEPOSIT, sizeof(cmd_funds_t),
     {F(cmd_funds_t, account, K_U32, 1), F(cmd_funds_t, asset, K_U32, 1), F(cmd_funds_t, amount, K_I64, 1)}},
    {"withdraw", CMD_WITHDRAW, sizeof(cmd_funds_t),
     {F(cmd_funds_t, account, K_U32, 1), F(cmd_funds_t, asset, K_U32, 1), F(cmd_funds_t, amount, K_I64, 1)}},
    {"query-book", CMD_QUERY_BOOK, sizeof(cmd_query_book_t),
     {F(cmd_query_book_t, instrument, K_U32, 1), F(cmd_query_book_t, depth, K_U32, 0)}},
    {"query-account", CMD_QUERY_ACCOUNT, sizeof(cmd_query_account_t),
     {F(cmd_query_account_t, account, K_U32, 1), F(cmd_query_account_t, limit, K_U32, 0),
      F(cmd_query_account_t, after_order_id, K_U64, 0)}},
    {"query-order", CMD_QUERY_ORDER, sizeof(cmd_query_order_t),
     {F(cmd_query_order_t, account, K_U32, 1), F(cmd_query_order_t, order_id, K_U64, 0),
      F(cmd_query_order_t, client_order_id, K_U64, 0)}},
    {"query-refdata", CMD_QUERY_REFDATA, 0, {{NULL, 0, 0, 0, NULL}}},
    {"query-digest", CMD_QUERY_DIGEST, 0, {{NULL, 0, 0, 0, NULL}}},
    {"snapshot", CMD_SNAPSHOT, 0, {{NULL, 0, 0, 0, NULL}}},
};

static const def_t events[] = {
    {"echo", EVT_ECHO, 8, {{"value", K_U64, 0, 0, NULL}}},
    {"accepted", EVT_ACCEPTED, 0,
     {F(evt_accepted_t, order_id, K_U64, 0), F(evt_accepted_t, client_order_id, K_U64, 0),
      F(evt_accepted_t, account, K_U32, 0), F(evt_accepted_t, instrument, K_U32, 0),
      F(evt_accepted_t, side, K_SIDE, 0), F_OTYPE(evt_accepted_t), F(evt_accepted_t, tif, K_TIF, 0),
      F(evt_accepted_t, price, K_I64, 0), F(evt_accepted_t, qty, K_I64, 0),
      F(evt_accepted_t, expire_ns, K_U64, 0)}},
    {"rejected", EVT_REJECTED, 0,
     {F(evt_rejected_t, reason, K_REASON, 0), F(evt_rejected_t, cmd_type, K_U16, 0),
      F(evt_rejected_t, account, K_U32, 0), F(evt_rejected_t, client_order_id, K_U64, 0),
      F(evt_rejected_t, order_id, K_U64, 0)}},
    {"trade", EVT_TRADE, 0,
     {F(evt_trade_t, trade_id, K_U64, 0), F(evt_trade_t, instrument, K_U32, 0), F(evt_trade_t, price, K_I64, 0),
      F(evt_trade_t, qty, K_I64, 0), F(evt_trade_t, taker_side, K_SIDE, 0),
      F(evt_trade_t, maker_order_id, K_U64, 0), F(evt_trade_t, taker_order_id, K_U64, 0),
      F(evt_trade_t, maker_account, K_U32, 0), F(evt_trade_t, taker_account, K_U32, 0),
      F(evt_trade_t, maker_fee, K_I64, 0), F(evt_trade_t, taker_fee, K_I64, 0),
      F(evt_trade_t, maker_done, K_BOOL, 0)}},
    {"cancelled", EVT_CANCELLED, 0,
     {F(evt_cancelled_t, order_id, K_U64, 0), F(evt_cancelled_t, client_order_id, K_U64, 0),
      F(evt_cancelled_t, account, K_U32, 0), F(evt_cancelled_t, instrument, K_U32, 0),
      F(evt_cancelled_t, side, K_SIDE, 0), F(evt_cancelled_t, qty, K_I64, 0),
      F(evt_cancelled_t, reason, K_CXL, 0)}},
    {"replaced", EVT_REPLACED, 0,
     {F(evt_replaced_t, order_id, K_U64, 0), F(evt_replaced_t, client_order_id, K_U64, 0),
      F(evt_replaced_t, account, K_U32, 0), F(evt_replaced_t, instrument, K_U32, 0),
      F(evt_replaced_t, side, K_SIDE, 0), F(evt_replaced_t, price, K_I64, 0), F(evt_replaced_t, qty, K_I64, 0),
      F(evt_replaced_t, kept_priority, K_BOOL, 0)}},
    {"book", EVT_BOOK, 0,
     {F(evt_book_t, instrument, K_U32, 0), F(evt_book_t, side, K_SIDE, 0), F(evt_book_t, price, K_I64, 0),
      F(evt_book_t, qty, K_I64, 0), F(evt_book_t, orders, K_U32, 0)}},
    {"balance", EVT_BALANCE, 0,
     {F(evt_balance_t, account, K_U32, 0), F(evt_balance_t, asset, K_U32, 0),
      F(evt_balance_t, available, K_I64, 0), F(evt_balance_t, held, K_I64, 0)}},
    {"admin", EVT_ADMIN, 0, {{NULL, 0, 0, 0, NULL}}},
    {"level", EVT_Q_LEVEL, 0,
     {F(evt_book_t, instrument, K_U32, 0), F(evt_book_t, side, K_SIDE, 0), F(evt_book_t, price, K_I64, 0),
      F(evt_book_t, qty, K_I64, 0), F(evt_book_t, orders, K_U32, 0)}},
    {"account-balance", EVT_Q_BALANCE, 0,
     {F(evt_balance_t, account, K_U32, 0), F(evt_balance_t, asset, K_U32, 0),
      F(evt_balance_t, available, K_I64, 0), F(evt_balance_t, held, K_I64, 0)}},
    {"order", EVT_Q_ORDER, 0,
     {F(evt_accepted_t, order_id, K_U64, 0), F(evt_accepted_t, client_order_id, K_U64, 0),
      F(evt_accepted_t, account, K_U32, 0), F(evt_accepted_t, instrument, K_U32, 0),
      F(evt_accepted_t, side, K_SIDE, 0), F(evt_accepted_t, tif, K_TIF, 0), F(evt_accepted_t, price, K_I64, 0),
      F(evt_accepted_t, qty, K_I64, 0), F(evt_accepted_t, expire_ns, K_U64, 0)}},
    {"asset", EVT_Q_ASSET, 0,
     {F(cmd_add_asset_t, asset, K_U32, 0), F(cmd_add_asset_t, name, K_STR16, 0),
      F(cmd_add_asset_t, decimals, K_U8, 0)}},
    {"instrument", EVT_Q_INSTRUMENT, 0,
     {FN(evt_instrument_t, "instrument", def.instrument, K_U32, 0), FN(evt_instrument_t, "symbol", def.symbol, K_STR16, 0),
      FN(evt_instrument_t, "base", def.base, K_U32, 0), FN(evt_instrument_t, "quote", def.quote, K_U32, 0),
      FN(evt_instrument_t, "tick_size", def.tick_size, K_I64, 0), FN(evt_instrument_t, "lot_size", def.lot_size, K_I64, 0),
      FN(evt_instrument_t, "min_qty", def.min_qty, K_I64, 0), FN(evt_instrument_t, "max_qty", def.max_qty, K_I64, 0),
      FN(evt_instrument_t, "ref_price", def.ref_price, K_I64, 0), FN(evt_instrument_t, "band_bps", def.band_bps, K_U32, 0),
      F(evt_instrument_t, halted, K_BOOL, 0)}},
    {"digest", EVT_Q_DIGEST, 0, {F(evt_digest_t, digest, K_U64, 0), F(evt_digest_t, resting, K_U64, 0)}},
    {"end", EVT_Q_END, 0,
     {F(evt_query_end_t, cmd_type, K_U16, 0), F(evt_query_end_t, count, K_U32, 0),
      F(evt_query_end_t, more, K_BOOL, 0), F(evt_query_end_t, next_after, K_U64, 0)}},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const side_names[] = {"buy", "sell"};
static const char *const otype_names[] = {"limit", "market"};
static const char *const tif_names[] = {"gtc", "ioc", "fok", "gtd"};
static const char *const stp_names[] = {"cancel-newest", "cancel-oldest", "cancel-both", "decrement"};
static const char *const bool_names[] = {"false", "true"};
static const char *const cxl_names[] = {"?", "user", "ioc-remainder", "stp", "expired", "mass", "protection"};
static const char *const reason_names[REJ_REASON_MAX] = {
    "none", "unknown-command", "bad-length", "unknown-instrument", "unknown-account", "unknown-asset",
    "unknown-order", "instrument-halted", "bad-side", "bad-type", "bad-tif", "bad-stp", "bad-flags",
    "qty-not-positive", "qty-off-lot", "qty-below-min", "qty-above-max", "price-not-positive",
    "price-off-tick", "price-out-of-band", "overflow", "insufficient-balance", "duplicate-client-order-id",
    "post-only-would-take", "fok-not-fillable", "gtd-expired", "market-no-protection", "orders-full",
    "book-full", "account-orders-full", "exists", "bad-instrument", "capacity", "amount-not-positive",
    "bad-fee", "not-halted", "already-halted", "amend-no-change", "bad-asset", "bad-limit",
};

const char *prototext_command_name(uint16_t type)
{
    for (unsigned i = 0; i < N(commands); i++)
        if (commands[i].type == type)
            return commands[i].name;
    return type == CMD_TIMER ? "timer" : type == CMD_RESIZE ? "resize" : NULL;
}

const char *prototext_reason_name(uint16_t reason)
{
    return reason < REJ_REASON_MAX ? reason_names[reason] : NULL;
}

const char *prototext_command_names(void)
{
    return "echo new-order cancel amend mass-cancel add-asset add-instrument halt resume add-account "
           "set-fee-tier define-fee-tier deposit withdraw query-book query-account query-order query-refdata query-digest snapshot";
}

static int name_index(const char *v, const char *const *names, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return (int)i;
    return -1;
}

static int parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int set_field(uint8_t *p, const field_t *f, const char *v, err_t *err)
{
    int64_t x = 0;
    int k = -1;
    switch (f->kind) {
    case K_STR16:
        if (strlen(v) == 0 || strlen(v) >= 16)
            return err_set(err, -EINVAL, "%s: '%s' must be 1 to 15 characters", f->name, v);
        memset(p + f->off, 0, 16);
        memcpy(p + f->off, v, strlen(v));
        return 0;
    case K_SIDE: k = name_index(v, side_names, N(side_names)); break;
    case K_OTYPE: k = name_index(v, otype_names, N(otype_names)); break;
    case K_TIF: k = name_index(v, tif_names, N(tif_names)); break;
    case K_STP: k = name_index(v, stp_names, N(stp_names)); break;
    case K_POST:
        k = name_index(v, bool_names, N(bool_names));
        if (k > 0)
            k = ORDF_POST_ONLY;
        break;
    default: break;
    }
    if (f->kind == K_SIDE || f->kind == K_OTYPE || f->kind == K_TIF || f->kind == K_STP || f->kind == K_POST) {
        if (k < 0)
            return err_set(err, -EINVAL, "%s: '%s' is not one of the allowed names", f->name, v);
        p[f->off] = (uint8_t)k;
        return 0;
    }
    int bad;
    switch (f->kind) {
    case K_U8: bad = parse_int(v, 0, UINT8_MAX, &x); if (!bad) p[f->off] = (uint8_t)x; break;
    case K_U32:
    case K_I32: {
        bad = f->kind == K_U32 ? parse_int(v, 0, UINT32_MAX, &x) : parse_int(v, INT32_MIN, INT32_MAX, &x);
        uint32_t u = (uint32_t)x;
        if (!bad)
            memcpy(p + f->off, &u, 4);
        break;
    }
    case K_U64:
    case K_I64:
        bad = parse_int(v, f->kind == K_U64 ? 0 : INT64_MIN, INT64_MAX, &x);
        if (!bad)
            memcpy(p + f->off, &x, 8);
        break;
    default: bad = 1; break;
    }
    if (bad)
        return err_set(err, -EINVAL, "%s: '%s' is not a valid integer for it", f->name, v);
    return 0;
}

static bool key_is(const char *word, size_t klen, const char *name)
{
    return strlen(name) == klen && strncmp(word, name, klen) == 0;
}

int prototext_command(int argc, char **argv, rec_t *out, err_t *err)
{
    if (argc < 1)
        return err_set(err, -EINVAL, "no command (one of: %s)", prototext_command_names());
    const def_t *d = NULL;
    for (unsigned i = 0; i < N(commands); i++)
        if (strcmp(argv[0], commands[i].name) == 0)
            d = &commands[i];
    if (d == NULL)
        return err_set(err, -EINVAL, "unknown command '%s' (one of: %s)", argv[0], prototext_command_names());
    memset(out, 0, sizeof(*out));
    out->type = d->type;
    out->len = d->len;
    uint32_t dflt;
    if (d->type == CMD_MASS_CANCEL) {
        dflt = UINT32_MAX; /* every instrument unless one is named */
        memcpy(out->payload + offsetof(cmd_mass_cancel_t, instrument), &dflt, 4);
    } else if (d->type == CMD_QUERY_BOOK) {
        dflt = PROTOTEXT_DEPTH_DEFAULT;
        memcpy(out->payload + offsetof(cmd_query_book_t, depth), &dflt, 4);
    } else if (d->type == CMD_QUERY_ACCOUNT) {
        dflt = QUERY_ORDERS_MAX;
        memcpy(out->payload + offsetof(cmd_query_account_t, limit), &dflt, 4);
    }
    unsigned seen = 0;
    for (int a = 1; a < argc; a++) {
        const char *eq = strchr(argv[a], '=');
        if (eq == NULL || eq == argv[a])
            return err_set(err, -EINVAL, "'%s' is not key=value", argv[a]);
        size_t klen = (size_t)(eq - argv[a]);
        int fi = -1;
        for (int i = 0; i < FIELDS_MAX && d->f[i].name != NULL; i++)
            if (key_is(argv[a], klen, d->f[i].name) || (d->f[i].alias != NULL && key_is(argv[a], klen, d->f[i].alias)))
                fi = i;
        if (fi < 0)
            return err_set(err, -EINVAL, "%s: unknown key '%.*s'", d->name, (int)klen, argv[a]);
        if (seen & (1u << fi))
            return err_set(err, -EINVAL, "%s: key '%s' given twice", d->name, d->f[fi].name);
        seen |= 1u << fi;
        int rc = set_field(out->payload, &d->f[fi], eq + 1, err);
        if (rc < 0)
            return rc;
    }
    for (int i = 0; i < FIELDS_MAX && d->f[i].name != NULL; i++)
        if (d->f[i].required && !(seen & (1u << i)))
            return err_set(err, -EINVAL, "%s: missing %s=", d->name, d->f[i].name);
    return 0;
}

static const char *name_of(const char *const *names, unsigned n, unsigned v)
{
    return v < n && names[v] != NULL ? names[v] : "?";
}

int prototext_event_json(const rec_t *ev, char *buf, size_t n)
{
    const def_t *d = NULL;
    for (unsigned i = 0; i < N(events); i++)
        if (events[i].type == ev->type)
            d = &events[i];
    size_t used = 0;
#define PUT(...)                                                                             \
    do {                                                                                     \
        int w_ = snprintf(buf + (used < n ? used : n), used < n ? n - used : 0, __VA_ARGS__); \
        used += w_ > 0 ? (size_t)w_ : 0;                                                     \
    } while (0)
    PUT("{\"seq\":%" PRIu64 ",\"cmd_seq\":%" PRIu64 ",\"ref\":%" PRIu64 ",\"ts_ns\":%" PRIu64
        ",\"type\":\"%s\",\"src\":%u,\"last\":%s",
        ev->seq, ev->cmd_seq, ev->ref, ev->ts_ns, d ? d->name : "unknown", ev->src,
        ev->flags & REC_LAST ? "true" : "false");
    for (int i = 0; d != NULL && i < FIELDS_MAX && d->f[i].name != NULL; i++) {
        const field_t *f = &d->f[i];
        const uint8_t *p = ev->payload + f->off;
        uint16_t u16;
        uint32_t u32;
        int32_t i32;
        uint64_t u64;
        int64_t i64;
        switch (f->kind) {
        case K_U8: PUT(",\"%s\":%u", f->name, *p); break;
        case K_U16: memcpy(&u16, p, 2); PUT(",\"%s\":%u", f->name, u16); break;
        case K_U32: memcpy(&u32, p, 4); PUT(",\"%s\":%" PRIu32, f->name, u32); break;
        case K_I32: memcpy(&i32, p, 4); PUT(",\"%s\":%" PRId32, f->name, i32); break;
        case K_U64: memcpy(&u64, p, 8); PUT(",\"%s\":%" PRIu64, f->name, u64); break;
        case K_I64: memcpy(&i64, p, 8); PUT(",\"%s\":%" PRId64, f->name, i64); break;
        case K_SIDE: PUT(",\"%s\":\"%s\"", f->name, name_of(side_names, N(side_names), *p)); break;
        case K_OTYPE: PUT(",\"%s\":\"%s\"", f->name, name_of(otype_names, N(otype_names), *p)); break;
        case K_TIF: PUT(",\"%s\":\"%s\"", f->name, name_of(tif_names, N(tif_names), *p)); break;
        case K_BOOL: PUT(",\"%s\":%s", f->name, *p ? "true" : "false"); break;
        case K_STR16:
            PUT(",\"%s\":\"", f->name);
            for (unsigned k = 0; k < 16 && p[k] != 0; k++) {
                if (p[k] == '"' || p[k] == '\\')
                    PUT("\\%c", p[k]);
                else if (p[k] >= ' ' && p[k] <= '~')
                    PUT("%c", p[k]);
                else
                    PUT("\\u%04x", p[k]);
            }
            PUT("\"");
            break;
        case K_CXL: PUT(",\"%s\":\"%s\"", f->name, name_of(cxl_names, N(cxl_names), *p)); break;
        case K_REASON:
            memcpy(&u16, p, 2);
            PUT(",\"%s\":\"%s\"", f->name, name_of(reason_names, REJ_REASON_MAX, u16));
            break;
        default: break;
        }
    }
    if (d == NULL || d->type == EVT_ADMIN) {
        PUT(",\"payload\":\"");
        for (unsigned k = 0; k < ev->len && k < sizeof(ev->payload); k++)
            PUT("%02x", ev->payload[k]);
        PUT("\"");
    }
    PUT("}");
#undef PUT
    return (int)used;
}
