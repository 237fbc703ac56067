/* wsmsg.c - see wsmsg.h. jansson parses; every member is then checked here. */
#include "wsmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "proto.h"

static const char *const chan_names[CH_COUNT] = {
    [CH_BOOK] = "book",         [CH_TICKER] = "ticker", [CH_TRADES] = "trades",
    [CH_CANDLES_1S] = "candles.1s", [CH_CANDLES_1M] = "candles.1m", [CH_ORDERS] = "orders",
    [CH_FILLS] = "fills",       [CH_BALANCES] = "balances",
};

static const struct {
    const char *name;
    ws_op_t op;
} ops[] = {
    {"subscribe", WSOP_SUBSCRIBE}, {"unsubscribe", WSOP_UNSUBSCRIBE}, {"auth", WSOP_AUTH},
    {"ping", WSOP_PING},           {"instruments", WSOP_INSTRUMENTS}, {"order", WSOP_ORDER},
    {"cancel", WSOP_CANCEL},
};

const char *wsmsg_channel_name(ws_chan_t c)
{
    return (unsigned)c < CH_COUNT ? chan_names[c] : "?";
}

int wsmsg_channel_parse(const char *s, size_t n)
{
    for (int i = 0; i < CH_COUNT; i++)
        if (strlen(chan_names[i]) == n && memcmp(chan_names[i], s, n) == 0)
            return i;
    return -1;
}

static int fail(ws_msg_err_t *e, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ws_msg_err_t *e, const char *code, const char *fmt, ...)
{
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return -1;
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '-';
}

static int read_id(json_t *v, ws_req_t *out, ws_msg_err_t *e)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > ((json_int_t)1 << 53))
            return fail(e, "bad-request", "id: an integer from 0 to 2^53 or a short string");
        snprintf(out->id, sizeof(out->id), "%lld", (long long)n);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        bool ok = n >= 1 && n <= WSMSG_ID_MAX - 2;
        for (size_t i = 0; ok && i < n; i++)
            ok = id_char(s[i]);
        if (!ok)
            return fail(e, "bad-request", "id: a string of 1 to 64 characters of [A-Za-z0-9._:-]");
        snprintf(out->id, sizeof(out->id), "\"%s\"", s);
        return 0;
    }
    return fail(e, "bad-request", "id: an integer or a string");
}

/* A string member of 1..max printable ASCII characters (no space), copied. */
static int read_str(json_t *obj, const char *key, char *dst, size_t max, bool required, ws_msg_err_t *e)
{
    json_t *v = json_object_get(obj, key);
    dst[0] = '\0';
    if (v == NULL)
        return required ? fail(e, "bad-request", "missing \"%s\"", key) : 0;
    if (!json_is_string(v))
        return fail(e, "bad-request", "\"%s\" must be a string", key);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n > max)
        return fail(e, "bad-request", "\"%s\" must hold 1 to %zu characters", key, max);
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return fail(e, "bad-request", "\"%s\" may hold only printable ASCII without spaces", key);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* Refuses a member outside allowed (NULL-terminated). */
static int only(json_t *obj, const char *const *allowed, const char *op, ws_msg_err_t *e)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k) == 0;
        if (!ok) {
            char shown[40];
            size_t n = strlen(k);
            for (size_t i = 0; i < n && i < sizeof(shown) - 1; i++)
                shown[i] = k[i] > ' ' && k[i] <= '~' && k[i] != '"' && k[i] != '\\' ? k[i] : '?';
            shown[n < sizeof(shown) - 1 ? n : sizeof(shown) - 1] = '\0';
            return fail(e, "bad-request", "unknown member \"%s\" for %s", shown, op);
        }
    }
    return 0;
}

/* One of names (NULL-terminated) as its index into *out; absent: dflt. */
static int read_enum(json_t *obj, const char *key, const char *const *names, uint8_t dflt, bool required,
                     uint8_t *out, ws_msg_err_t *e)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required)
            return fail(e, "bad-request", "missing \"%s\"", key);
        *out = dflt;
        return 0;
    }
    for (uint8_t i = 0; v != NULL && json_is_string(v) && names[i] != NULL; i++) {
        if (strcmp(names[i], json_string_value(v)) == 0 && strlen(names[i]) == json_string_length(v)) {
            *out = i;
            return 0;
        }
    }
    return fail(e, "bad-request", "\"%s\" must be one of %s%s%s%s%s", key, names[0], names[1] ? ", " : "",
                names[1] ? names[1] : "", names[1] && names[2] ? ", " : "", names[1] && names[2] ? names[2] : "");
}

/* An id as a string of 1 to 20 digits (or a JSON integer), 1..UINT64_MAX. */
static int read_u64(json_t *obj, const char *key, uint64_t *out, ws_msg_err_t *e)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (v == NULL)
        return 0;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t n = s ? json_string_length(v) : 0;
    uint64_t x = 0;
    bool ok = n >= 1 && n <= 20 && s[0] != '0';
    for (size_t i = 0; ok && i < n; i++) {
        ok = s[i] >= '0' && s[i] <= '9' && x <= (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    if (!ok)
        return fail(e, "bad-request", "\"%s\" must be an id: a string of digits, 1 to 2^64-1", key);
    *out = x;
    return 0;
}

static int parse_obj(json_t *root, ws_req_t *out, ws_msg_err_t *e)
{
    if (!json_is_object(root))
        return fail(e, "bad-json", "a message is one JSON object");
    json_t *idv = json_object_get(root, "id");
    if (idv != NULL && read_id(idv, out, e) < 0)
        return -1;
    json_t *opv = json_object_get(root, "op");
    if (opv == NULL)
        return fail(e, "bad-request", "missing \"op\" (subscribe, unsubscribe, auth, ping, instruments, order, cancel)");
    if (!json_is_string(opv))
        return fail(e, "bad-request", "\"op\" must be a string");
    const char *op = json_string_value(opv);
    int k = -1;
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strlen(ops[i].name) == json_string_length(opv) && strcmp(ops[i].name, op) == 0)
            k = (int)i;
    if (k < 0)
        return fail(e, "unknown-op", "unknown op (subscribe, unsubscribe, auth, ping, instruments, order, cancel)");
    out->op = ops[k].op;
    switch (out->op) {
    case WSOP_SUBSCRIBE:
    case WSOP_UNSUBSCRIBE: {
        static const char *const allowed[] = {"op", "id", "channel", "symbol", NULL};
        if (only(root, allowed, ops[k].name, e) < 0)
            return -1;
        json_t *cv = json_object_get(root, "channel");
        if (cv == NULL)
            return fail(e, "bad-request", "missing \"channel\"");
        if (!json_is_string(cv))
            return fail(e, "bad-request", "\"channel\" must be a string");
        int c = wsmsg_channel_parse(json_string_value(cv), json_string_length(cv));
        if (c < 0)
            return fail(e, "unknown-channel",
                        "unknown channel (book, ticker, trades, candles.1s, candles.1m, orders, fills, balances)");
        out->channel = (ws_chan_t)c;
        if (wsmsg_channel_private(out->channel)) {
            if (json_object_get(root, "symbol") != NULL)
                return fail(e, "bad-request", "private channels take no \"symbol\": they cover the key's account");
            return 0;
        }
        return read_str(root, "symbol", out->symbol, WSMSG_SYMBOL_MAX, true, e);
    }
    case WSOP_AUTH: {
        static const char *const allowed[] = {"op", "id", "key", "timestamp", "signature", NULL};
        if (only(root, allowed, "auth", e) < 0 || read_str(root, "key", out->key, WSMSG_KEY_MAX, true, e) < 0 ||
            read_str(root, "timestamp", out->ts, WSMSG_TS_MAX, true, e) < 0 ||
            read_str(root, "signature", out->sig, WSMSG_SIG_MAX, true, e) < 0)
            return -1;
        return 0;
    }
    case WSOP_ORDER: {
        static const char *const allowed[] = {"op", "id", "symbol", "side", "type", "price", "qty", "tif",
                                              "post_only", "client_order_id", NULL};
        static const char *const sides[] = {"buy", "sell", NULL}, *const types[] = {"limit", "market", NULL},
                                 *const tifs[] = {"gtc", "ioc", "fok", NULL};
        if (only(root, allowed, "order", e) < 0 || read_str(root, "symbol", out->symbol, WSMSG_SYMBOL_MAX, true, e) < 0 ||
            read_enum(root, "side", sides, 0, true, &out->side, e) < 0 ||
            read_enum(root, "type", types, ORD_LIMIT, false, &out->type, e) < 0 ||
            read_enum(root, "tif", tifs, TIF_GTC, false, &out->tif, e) < 0 ||
            read_str(root, "qty", out->qty, WSMSG_DEC_MAX, true, e) < 0 ||
            read_str(root, "price", out->price, WSMSG_DEC_MAX, true, e) < 0 ||
            read_u64(root, "client_order_id", &out->client_order_id, e) < 0)
            return -1;
        json_t *po = json_object_get(root, "post_only");
        if (po != NULL && !json_is_boolean(po))
            return fail(e, "bad-request", "\"post_only\" must be true or false");
        out->post_only = po != NULL && json_is_true(po);
        return 0;
    }
    case WSOP_CANCEL: {
        static const char *const allowed[] = {"op", "id", "order_id", "client_order_id", NULL};
        if (only(root, allowed, "cancel", e) < 0 || read_u64(root, "order_id", &out->order_id, e) < 0 ||
            read_u64(root, "client_order_id", &out->client_order_id, e) < 0)
            return -1;
        if ((out->order_id == 0) == (out->client_order_id == 0))
            return fail(e, "bad-request", "cancel names one of \"order_id\" or \"client_order_id\"");
        return 0;
    }
    case WSOP_PING:
    case WSOP_INSTRUMENTS: {
        static const char *const allowed[] = {"op", "id", NULL};
        return only(root, allowed, ops[k].name, e);
    }
    }
    return fail(e, "unknown-op", "unknown op");
}

int wsmsg_parse(const char *text, size_t len, ws_req_t *out, ws_msg_err_t *e)
{
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return fail(e, "bad-json", "not JSON: %.100s at byte %d", je.text, je.position);
    int rc = parse_obj(root, out, e);
    json_decref(root);
    return rc;
}
