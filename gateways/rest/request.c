/* request.c - see request.h. A body is parsed by jansson, then walked with a
 * table of accepted members: an unknown member, a wrong type or a missing
 * required one is refused by name, so a typo ("quantity") never becomes a
 * default. */
#include "request.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "decimal.h"
#include "proto.h"

enum {
    ID_DIGITS_MAX = 20,
    NS_PER_MS = 1000000,
    FIELDS_MAX = 12,
    ASSET_DECIMALS_MAX = 18,
};

int rest_fail(rest_err_t *e, int status, const char *code, const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---------------------------------------------------------------- body fields */

typedef struct jfield {
    const char *name;
    bool required;
    json_t *v;          /* set when present */
} jfield_t;

/* Parses body as one JSON object and matches its members against f. */
static json_t *body_object(const char *body, size_t len, jfield_t *f, unsigned n, rest_err_t *e)
{
    if (len == 0) {
        rest_fail(e, 400, "bad-json", "the request needs a JSON object body");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        rest_fail(e, 400, "bad-json", "malformed JSON at line %d column %d: %.120s", jerr.line, jerr.column,
                  jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        rest_fail(e, 400, "bad-json", "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        unsigned i = 0;
        while (i < n && strcmp(f[i].name, key) != 0)
            i++;
        if (i == n) {
            rest_fail(e, 400, "unknown-field", "unknown member \"%.40s\"", key);
            json_decref(root);
            return NULL;
        }
        f[i].v = v;
    }
    for (unsigned i = 0; i < n; i++) {
        if (f[i].required && f[i].v == NULL) {
            rest_fail(e, 400, "missing-field", "missing member \"%s\"", f[i].name);
            json_decref(root);
            return NULL;
        }
    }
    return root;
}

static int get_str(const jfield_t *f, const char **s, size_t *len, rest_err_t *e)
{
    *s = "";
    *len = 0; /* defined on every path, for callers and the compiler alike */
    if (!json_is_string(f->v))
        return rest_fail(e, 400, "bad-field", "\"%s\" must be a string", f->name);
    *s = json_string_value(f->v);
    *len = json_string_length(f->v);
    return 0;
}

/* One of names, by exact spelling; code names the matcher reason ("bad-side"). */
static int get_enum(const jfield_t *f, const char *const *names, unsigned n, const char *code, uint8_t *out,
                    rest_err_t *e)
{
    const char *s;
    size_t len;
    if (get_str(f, &s, &len, e) < 0)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            *out = (uint8_t)i;
            return 0;
        }
    }
    return rest_fail(e, 400, code, "\"%s\" must be one of the documented names, not \"%.32s\"", f->name, s);
}

static int get_bool(const jfield_t *f, bool *out, rest_err_t *e)
{
    if (!json_is_boolean(f->v))
        return rest_fail(e, 400, "bad-field", "\"%s\" must be true or false", f->name);
    *out = json_is_true(f->v);
    return 0;
}

static int digits_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > ID_DIGITS_MAX || (n > 1 && s[0] == '0'))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* A whole number in min..max, as a JSON integer or a string of digits (ids
 * above 2^53 lose precision as JSON numbers in many clients). */
static int get_uint(const jfield_t *f, uint64_t min, uint64_t max, uint64_t *out, rest_err_t *e)
{
    *out = 0;
    uint64_t v;
    if (json_is_integer(f->v)) {
        json_int_t i = json_integer_value(f->v);
        if (i < 0)
            return rest_fail(e, 400, "bad-field", "\"%s\" must not be negative", f->name);
        v = (uint64_t)i;
    } else if (json_is_string(f->v)) {
        if (digits_u64(json_string_value(f->v), json_string_length(f->v), &v) < 0)
            return rest_fail(e, 400, "bad-field", "\"%s\" must be a whole number", f->name);
    } else {
        return rest_fail(e, 400, "bad-field", "\"%s\" must be a whole number", f->name);
    }
    if (v < min || v > max)
        return rest_fail(e, 400, "bad-field", "\"%s\" must be from %" PRIu64 " to %" PRIu64, f->name, min, max);
    *out = v;
    return 0;
}

typedef enum dec_kind { DK_PRICE, DK_QTY, DK_AMOUNT } dec_kind_t;

/* A decimal string at scale. Extra precision is off the grid of that unit:
 * for a price or a quantity it is the matcher's own reason. */
static int get_dec(const jfield_t *f, unsigned scale, dec_kind_t kind, int64_t *out, rest_err_t *e)
{
    *out = 0;
    if (!json_is_string(f->v))
        return rest_fail(e, 400, "bad-decimal", "\"%s\" must be a decimal string such as \"1.25\"", f->name);
    const char *s = json_string_value(f->v);
    size_t n = json_string_length(f->v);
    switch (dec_parse(s, n, scale, out)) {
    case 0:
        return 0;
    case -E2BIG:
        return rest_fail(e, 400, "bad-decimal", "\"%s\" has too many characters", f->name);
    case -EDOM:
        if (kind == DK_PRICE)
            return rest_fail(e, 400, "price-off-tick", "\"%s\" has more decimals than the quote asset (%u)",
                             f->name, scale);
        if (kind == DK_QTY)
            return rest_fail(e, 400, "qty-off-lot", "\"%s\" has more decimals than the base asset (%u)",
                             f->name, scale);
        return rest_fail(e, 400, "bad-decimal", "\"%s\" has more decimals than the asset (%u)", f->name, scale);
    case -ERANGE:
        return rest_fail(e, 400, "overflow", "\"%s\" is too large", f->name);
    default:
        return rest_fail(e, 400, "bad-decimal", "\"%s\" is not a decimal string (digits, one optional '.')",
                         f->name);
    }
}

static int check_price(const rd_instrument_t *in, const jfield_t *f, int64_t *price, rest_err_t *e)
{
    if (get_dec(f, in->price_scale, DK_PRICE, price, e) < 0)
        return -1;
    if (*price <= 0)
        return rest_fail(e, 400, "price-not-positive", "\"%s\" must be above zero", f->name);
    if (*price % in->tick != 0)
        return rest_fail(e, 400, "price-off-tick", "\"%s\" is not a multiple of the tick size", f->name);
    return 0;
}

static int check_qty(const rd_instrument_t *in, const jfield_t *f, int64_t *qty, rest_err_t *e)
{
    if (get_dec(f, in->qty_scale, DK_QTY, qty, e) < 0)
        return -1;
    if (*qty <= 0)
        return rest_fail(e, 400, "qty-not-positive", "\"%s\" must be above zero", f->name);
    if (*qty % in->lot != 0)
        return rest_fail(e, 400, "qty-off-lot", "\"%s\" is not a multiple of the lot size", f->name);
    return 0;
}

static const rd_instrument_t *get_instrument(const refdata_t *rd, const jfield_t *f, rest_err_t *e)
{
    const char *s;
    size_t n;
    if (get_str(f, &s, &n, e) < 0)
        return NULL;
    const rd_instrument_t *in = refdata_instrument_by_symbol(rd, s, n);
    if (in == NULL)
        rest_fail(e, 400, "unknown-instrument", "no instrument \"%.32s\"", s);
    return in;
}

static const rd_asset_t *get_asset(const refdata_t *rd, const jfield_t *f, rest_err_t *e)
{
    const char *s;
    size_t n;
    if (get_str(f, &s, &n, e) < 0)
        return NULL;
    const rd_asset_t *a = refdata_asset_by_name(rd, s, n);
    if (a == NULL)
        rest_fail(e, 400, "unknown-asset", "no asset \"%.32s\"", s);
    return a;
}

static void put(rec_t *out, uint16_t type, const void *payload, size_t len)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    out->len = (uint16_t)len;
    memcpy(out->payload, payload, len);
}

/* ---------------------------------------------------------------- orders */

static const char *const side_names[] = {"buy", "sell"};
static const char *const type_names[] = {"limit", "market"};
static const char *const tif_names[] = {"gtc", "ioc", "fok", "gtd"};
static const char *const stp_names[] = {"cancel-newest", "cancel-oldest", "cancel-both", "decrement"};

enum { O_SYMBOL, O_SIDE, O_QTY, O_TYPE, O_PRICE, O_TIF, O_POST, O_STP, O_CLOID, O_EXPIRE, O_COUNT };

int request_new_order(const refdata_t *rd, uint32_t account, const char *body, size_t len, rec_t *out,
                      rest_err_t *e)
{
    jfield_t f[O_COUNT] = {
        [O_SYMBOL] = {"symbol", true, NULL},    [O_SIDE] = {"side", true, NULL},
        [O_QTY] = {"qty", true, NULL},          [O_TYPE] = {"type", false, NULL},
        [O_PRICE] = {"price", false, NULL},     [O_TIF] = {"tif", false, NULL},
        [O_POST] = {"post_only", false, NULL},  [O_STP] = {"stp", false, NULL},
        [O_CLOID] = {"client_order_id", false, NULL}, [O_EXPIRE] = {"expire_time_ms", false, NULL},
    };
    json_t *root = body_object(body, len, f, O_COUNT, e);
    if (root == NULL)
        return -1;
    int rc = -1;
    cmd_new_order_t c = {.account = account};
    const rd_instrument_t *in = get_instrument(rd, &f[O_SYMBOL], e);
    if (in == NULL || get_enum(&f[O_SIDE], side_names, 2, "bad-side", &c.side, e) < 0)
        goto out;
    c.instrument = in->id;
    if (f[O_TYPE].v && get_enum(&f[O_TYPE], type_names, 2, "bad-type", &c.type, e) < 0)
        goto out;
    c.tif = c.type == ORD_MARKET ? TIF_IOC : TIF_GTC;
    if (f[O_TIF].v && get_enum(&f[O_TIF], tif_names, 4, "bad-tif", &c.tif, e) < 0)
        goto out;
    if (f[O_STP].v && get_enum(&f[O_STP], stp_names, 4, "bad-stp", &c.stp, e) < 0)
        goto out;
    if (check_qty(in, &f[O_QTY], &c.qty, e) < 0)
        goto out;
    if (f[O_PRICE].v == NULL) {
        rest_fail(e, 400, c.type == ORD_MARKET ? "market-no-protection" : "missing-field",
                  c.type == ORD_MARKET ? "a market order needs \"price\": its protection price"
                                       : "missing member \"price\"");
        goto out;
    }
    if (check_price(in, &f[O_PRICE], &c.price, e) < 0)
        goto out;
    bool post = false;
    if (f[O_POST].v && get_bool(&f[O_POST], &post, e) < 0)
        goto out;
    c.flags = post ? ORDF_POST_ONLY : 0;
    if (f[O_CLOID].v && get_uint(&f[O_CLOID], 1, UINT64_MAX, &c.client_order_id, e) < 0)
        goto out;
    if (c.tif == TIF_GTD) {
        uint64_t ms;
        if (f[O_EXPIRE].v == NULL) {
            rest_fail(e, 400, "missing-field", "a gtd order needs \"expire_time_ms\"");
            goto out;
        }
        if (get_uint(&f[O_EXPIRE], 1, UINT64_MAX / NS_PER_MS, &ms, e) < 0)
            goto out;
        c.expire_ns = ms * NS_PER_MS;
    } else if (f[O_EXPIRE].v != NULL) {
        rest_fail(e, 400, "bad-field", "\"expire_time_ms\" is for tif \"gtd\" only");
        goto out;
    }
    put(out, CMD_NEW_ORDER, &c, sizeof(c));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int request_amend(const rd_instrument_t *in, uint32_t account, uint64_t order_id, uint64_t client_order_id,
                  const char *body, size_t len, rec_t *out, rest_err_t *e)
{
    jfield_t f[] = {{"price", false, NULL}, {"qty", false, NULL}};
    json_t *root = body_object(body, len, f, 2, e);
    if (root == NULL)
        return -1;
    int rc = -1;
    cmd_amend_t c = {.order_id = order_id, .client_order_id = client_order_id, .account = account};
    if (f[0].v == NULL && f[1].v == NULL) {
        rest_fail(e, 400, "missing-field", "an amend needs \"price\", \"qty\" or both");
        goto out;
    }
    if ((f[0].v && check_price(in, &f[0], &c.new_price, e) < 0) || (f[1].v && check_qty(in, &f[1], &c.new_qty, e) < 0))
        goto out;
    put(out, CMD_AMEND, &c, sizeof(c));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

void request_cancel(uint16_t type, uint32_t account, uint64_t order_id, uint64_t client_order_id, rec_t *out)
{
    cmd_cancel_t c = {.order_id = order_id, .client_order_id = client_order_id, .account = account};
    put(out, type, &c, sizeof(c));
}

void request_mass_cancel(uint32_t account, uint32_t instrument, rec_t *out)
{
    cmd_mass_cancel_t c = {.account = account, .instrument = instrument};
    put(out, CMD_MASS_CANCEL, &c, sizeof(c));
}

void request_query_book(uint32_t instrument, uint32_t depth, rec_t *out)
{
    cmd_query_book_t c = {.instrument = instrument, .depth = depth};
    put(out, CMD_QUERY_BOOK, &c, sizeof(c));
}

void request_query_account(uint32_t account, uint8_t what, uint32_t limit, uint64_t after, rec_t *out)
{
    cmd_query_account_t c = {.after_order_id = after, .account = account, .limit = limit, .what = what};
    put(out, CMD_QUERY_ACCOUNT, &c, sizeof(c));
}

void request_simple(uint16_t type, uint32_t id, rec_t *out)
{
    cmd_instrument_t c = {.instrument = id};
    put(out, type, &c, type == CMD_QUERY_REFDATA ? 0 : sizeof(c));
}

/* ---------------------------------------------------------------- admin */

/* A name for an asset or a symbol: 1..15 printable characters, no spaces. */
static int get_name(const jfield_t *f, char out[RD_NAME_MAX], rest_err_t *e)
{
    const char *s;
    size_t n;
    if (get_str(f, &s, &n, e) < 0)
        return -1;
    if (n == 0 || n >= RD_NAME_MAX)
        return rest_fail(e, 400, "bad-field", "\"%s\" must be 1 to %d characters", f->name, RD_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return rest_fail(e, 400, "bad-field", "\"%s\" may hold printable characters only, no spaces", f->name);
    memset(out, 0, RD_NAME_MAX);
    memcpy(out, s, n);
    return 0;
}

/* The smallest id from 1 not taken by has(). */
static uint32_t next_free(const refdata_t *rd, bool asset)
{
    for (uint32_t id = 1;; id++)
        if (asset ? refdata_asset(rd, id) == NULL : refdata_instrument(rd, id) == NULL)
            return id;
}

int request_add_asset(const refdata_t *rd, const char *body, size_t len, rec_t *out, rest_err_t *e)
{
    jfield_t f[] = {{"name", true, NULL}, {"decimals", true, NULL}, {"asset", false, NULL}};
    json_t *root = body_object(body, len, f, 3, e);
    if (root == NULL)
        return -1;
    int rc = -1;
    cmd_add_asset_t c = {.asset = next_free(rd, true)};
    uint64_t v;
    if (get_name(&f[0], c.name, e) < 0 || get_uint(&f[1], 0, ASSET_DECIMALS_MAX, &v, e) < 0)
        goto out;
    c.decimals = (uint8_t)v;
    if (refdata_asset_by_name(rd, c.name, strlen(c.name)) != NULL) {
        rest_fail(e, 409, "exists", "an asset named \"%s\" exists", c.name);
        goto out;
    }
    if (f[2].v) {
        if (get_uint(&f[2], 0, UINT32_MAX, &v, e) < 0)
            goto out;
        c.asset = (uint32_t)v;
    }
    put(out, CMD_ADD_ASSET, &c, sizeof(c));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

enum { I_SYMBOL, I_BASE, I_QUOTE, I_TICK, I_LOT, I_MIN, I_MAX, I_REF, I_BAND, I_ID, I_COUNT };

int request_add_instrument(const refdata_t *rd, const char *body, size_t len, rec_t *out, rest_err_t *e)
{
    jfield_t f[I_COUNT] = {
        [I_SYMBOL] = {"symbol", true, NULL},  [I_BASE] = {"base", true, NULL},
        [I_QUOTE] = {"quote", true, NULL},    [I_TICK] = {"tick_size", true, NULL},
        [I_LOT] = {"lot_size", true, NULL},   [I_MIN] = {"min_qty", true, NULL},
        [I_MAX] = {"max_qty", true, NULL},    [I_REF] = {"ref_price", true, NULL},
        [I_BAND] = {"band_bps", false, NULL}, [I_ID] = {"instrument", false, NULL},
    };
    json_t *root = body_object(body, len, f, I_COUNT, e);
    if (root == NULL)
        return -1;
    int rc = -1;
    cmd_add_instrument_t c = {.instrument = next_free(rd, false)};
    const rd_asset_t *base, *quote;
    uint64_t v;
    if (get_name(&f[I_SYMBOL], c.symbol, e) < 0 || (base = get_asset(rd, &f[I_BASE], e)) == NULL ||
        (quote = get_asset(rd, &f[I_QUOTE], e)) == NULL)
        goto out;
    if (refdata_instrument_by_symbol(rd, c.symbol, strlen(c.symbol)) != NULL) {
        rest_fail(e, 409, "exists", "an instrument \"%s\" exists", c.symbol);
        goto out;
    }
    c.base = base->id;
    c.quote = quote->id;
    if (get_dec(&f[I_TICK], quote->decimals, DK_AMOUNT, &c.tick_size, e) < 0 ||
        get_dec(&f[I_REF], quote->decimals, DK_AMOUNT, &c.ref_price, e) < 0 ||
        get_dec(&f[I_LOT], base->decimals, DK_AMOUNT, &c.lot_size, e) < 0 ||
        get_dec(&f[I_MIN], base->decimals, DK_AMOUNT, &c.min_qty, e) < 0 ||
        get_dec(&f[I_MAX], base->decimals, DK_AMOUNT, &c.max_qty, e) < 0)
        goto out;
    if (f[I_BAND].v) {
        if (get_uint(&f[I_BAND], 0, 10000, &v, e) < 0)
            goto out;
        c.band_bps = (uint32_t)v;
    }
    if (f[I_ID].v) {
        if (get_uint(&f[I_ID], 0, UINT32_MAX - 1, &v, e) < 0)
            goto out;
        c.instrument = (uint32_t)v;
    }
    put(out, CMD_ADD_INSTRUMENT, &c, sizeof(c));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int request_add_account(const char *body, size_t len, rec_t *out, rest_err_t *e)
{
    jfield_t f[] = {{"account", true, NULL}, {"fee_tier", false, NULL}};
    json_t *root = body_object(body, len, f, 2, e);
    if (root == NULL)
        return -1;
    int rc = -1;
    cmd_account_t c = {0};
    uint64_t v;
    if (get_uint(&f[0], 0, UINT32_MAX, &v, e) < 0)
        goto out;
    c.account = (uint32_t)v;
    if (f[1].v) {
        if (get_uint(&f[1], 0, UINT32_MAX, &v, e) < 0)
            goto out;
        c.fee_tier = (uint32_t)v;
    }
    put(out, CMD_ADD_ACCOUNT, &c, sizeof(c));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int request_funds(const refdata_t *rd, uint16_t type, const char *body, size_t len, rec_t *out, rest_err_t *e)
{
    jfield_t f[] = {{"account", true, NULL}, {"asset", true, NULL}, {"amount", true, NULL}};
    json_t *root = body_object(body, len, f, 3, e);
    if (root == NULL)
        return -1;
    int rc = -1;
    cmd_funds_t c = {0};
    uint64_t v;
    const rd_asset_t *a;
    if (get_uint(&f[0], 0, UINT32_MAX, &v, e) < 0 || (a = get_asset(rd, &f[1], e)) == NULL ||
        get_dec(&f[2], a->decimals, DK_AMOUNT, &c.amount, e) < 0)
        goto out;
    if (c.amount <= 0) {
        rest_fail(e, 400, "amount-not-positive", "\"amount\" must be above zero");
        goto out;
    }
    c.account = (uint32_t)v;
    c.asset = a->id;
    put(out, type, &c, sizeof(c));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int request_key(const char *body, size_t len, auth_role_t *role, uint32_t *account, rest_err_t *e)
{
    jfield_t f[] = {{"role", true, NULL}, {"account", true, NULL}};
    json_t *root = body_object(body, len, f, 2, e);
    if (root == NULL)
        return -1;
    int rc = -1;
    const char *s;
    size_t n;
    uint64_t v;
    if (get_str(&f[0], &s, &n, e) < 0)
        goto out;
    if (auth_role_parse(s, n, role) < 0) {
        rest_fail(e, 400, "bad-field", "\"role\" must be read-only, trader or admin");
        goto out;
    }
    if (get_uint(&f[1], 0, UINT32_MAX, &v, e) < 0)
        goto out;
    *account = (uint32_t)v;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------- paths and queries */

int request_id(const char *s, size_t n, const char *what, uint64_t *out, rest_err_t *e)
{
    if (digits_u64(s, n, out) < 0 || *out == 0)
        return rest_fail(e, 400, "bad-id", "%s must be a whole number from 1 to %" PRIu64, what, UINT64_MAX);
    return 0;
}

static bool value_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
           c == '-';
}

int request_query(const char *q, size_t n, query_arg_t *args, unsigned nargs, rest_err_t *e)
{
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && q[i] != '&')
            i++;
        const char *kv = q + s, *eq = memchr(kv, '=', i - s);
        size_t klen = eq ? (size_t)(eq - kv) : i - s;
        unsigned a = 0;
        while (a < nargs && !(strlen(args[a].name) == klen && memcmp(args[a].name, kv, klen) == 0))
            a++;
        if (a == nargs)
            return rest_fail(e, 400, "bad-query", "unknown query parameter \"%.*s\"", (int)(klen > 32 ? 32 : klen), kv);
        if (args[a].set)
            return rest_fail(e, 400, "bad-query", "query parameter \"%s\" given twice", args[a].name);
        if (eq == NULL || eq + 1 == q + i)
            return rest_fail(e, 400, "bad-query", "query parameter \"%s\" needs a value", args[a].name);
        for (const char *c = eq + 1; c < q + i; c++)
            if (!value_char(*c))
                return rest_fail(e, 400, "bad-query", "query parameter \"%s\" has a character outside [A-Za-z0-9._-]",
                                 args[a].name);
        args[a].set = true;
        args[a].value = eq + 1;
        args[a].len = (uint32_t)(q + i - (eq + 1));
        if (i < n)
            i++; /* the '&' */
    }
    return 0;
}

int request_query_uint(const query_arg_t *a, uint64_t min, uint64_t max, uint64_t dflt, uint64_t *out,
                       rest_err_t *e)
{
    if (!a->set) {
        *out = dflt;
        return 0;
    }
    if (digits_u64(a->value, a->len, out) < 0 || *out < min || *out > max)
        return rest_fail(e, 400, "bad-query", "query parameter \"%s\" must be from %" PRIu64 " to %" PRIu64,
                         a->name, min, max);
    return 0;
}
