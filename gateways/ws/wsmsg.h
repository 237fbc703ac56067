/* wsmsg.h - what a bourse-ws client may say: one JSON object per text
 * message, checked field by field before the gateway acts on it.
 *
 *   {"op":"subscribe",   "channel":"book", "symbol":"BTC-USD", "id":7}
 *   {"op":"unsubscribe", "channel":"book", "symbol":"BTC-USD", "id":8}
 *   {"op":"auth", "key":"...", "timestamp":"1700000000000", "signature":"<64 hex>", "id":1}
 *   {"op":"ping", "id":9}
 *   {"op":"instruments", "id":10}
 *   {"op":"order", "symbol":"BTC-USD", "side":"buy", "price":"60000.00", "qty":"0.01",
 *    "type":"limit"|"market", "tif":"gtc"|"ioc"|"fok", "post_only":false, "client_order_id":"7", "id":11}
 *   {"op":"cancel", "order_id":"42" | "client_order_id":"7", "id":12}
 *
 * "id" (optional: an integer 0..2^53 or a string of up to 64 characters of
 * [A-Za-z0-9._:-]) is echoed in the answer. Channels: book, ticker, trades,
 * candles.1s, candles.1m (public, need "symbol"); orders, fills, balances
 * (private: after auth, the key's account, no symbol). Unknown members,
 * duplicate members and wrong types are refused with a stable error code.
 * No I/O: the fuzz target calls wsmsg_parse() directly. */
#ifndef BOURSE_WSMSG_H
#define BOURSE_WSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ws_op {
    WSOP_SUBSCRIBE,
    WSOP_UNSUBSCRIBE,
    WSOP_AUTH,
    WSOP_PING,
    WSOP_INSTRUMENTS,
    WSOP_ORDER,               /* order entry: an authenticated trader key */
    WSOP_CANCEL,
} ws_op_t;

typedef enum ws_chan {
    CH_BOOK,
    CH_TICKER,
    CH_TRADES,
    CH_CANDLES_1S,
    CH_CANDLES_1M,
    CH_PUBLIC_COUNT,
    CH_ORDERS = CH_PUBLIC_COUNT,
    CH_FILLS,
    CH_BALANCES,
    CH_COUNT,
} ws_chan_t;

enum {
    WSMSG_ID_MAX = 66,        /* an echoed id as JSON: 64 characters and quotes */
    WSMSG_SYMBOL_MAX = 15,    /* as proto.h's symbol[16] */
    WSMSG_KEY_MAX = 32,
    WSMSG_TS_MAX = 18,
    WSMSG_SIG_MAX = 64,
    WSMSG_DEC_MAX = 40,       /* as decimal.h's DEC_INPUT_MAX */
};

typedef struct ws_req {
    ws_op_t op;
    char id[WSMSG_ID_MAX + 1];       /* the id as JSON text, "" when absent */
    ws_chan_t channel;
    char symbol[WSMSG_SYMBOL_MAX + 1];
    char key[WSMSG_KEY_MAX + 1];
    char ts[WSMSG_TS_MAX + 1];
    char sig[WSMSG_SIG_MAX + 1];
    /* order and cancel: decimals stay text until the symbol's scales are known */
    char price[WSMSG_DEC_MAX + 1];   /* "" when absent */
    char qty[WSMSG_DEC_MAX + 1];
    uint8_t side, type, tif;         /* proto.h's enums */
    bool post_only;
    uint64_t order_id, client_order_id;
} ws_req_t;

/* Why a message was refused: a stable code and a sentence. */
typedef struct ws_msg_err {
    const char *code;                /* "bad-json", "bad-request", "unknown-op", "unknown-channel" */
    char message[160];
} ws_msg_err_t;

/* Parses len bytes of text (UTF-8, checked by the caller). Returns 0 with
 * *out filled, or -1 with *e set and out->id holding the id when one could
 * be read (so the error frame can echo it). */
int wsmsg_parse(const char *text, size_t len, ws_req_t *out, ws_msg_err_t *e);

/* "book", "candles.1s", ...; and back (-1 when unknown). */
const char *wsmsg_channel_name(ws_chan_t c);
int wsmsg_channel_parse(const char *s, size_t n);

static inline bool wsmsg_channel_private(ws_chan_t c)
{
    return c >= CH_PUBLIC_COUNT;
}

#endif
