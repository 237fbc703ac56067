/* ws_int.h - what the parts of bourse-ws share: the engine side (ws.c), the
 * client sessions (session.c) and the per-symbol market state and its
 * messages (market.c). Not a public header. */
#ifndef BOURSE_WS_INT_H
#define BOURSE_WS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "client.h"
#include "jsonw.h"
#include "keystore.h"
#include "keywatch.h"
#include "link.h"
#include "proto.h"
#include "ratelimit.h"
#include "refdata.h"
#include "replica.h"
#include "ws.h"
#include "ws_config.h"
#include "wsmsg.h"
#include "wsserver.h"

enum { WS_NAME_MAX = 16 };

/* One channel of one symbol as every subscriber sees it: one message
 * stream, built once and sent to each. seq is the last message's number. */
typedef struct stream {
    wsc_t *subs;
    uint32_t n, cap;
    uint64_t seq;
} stream_t;

typedef struct trade_rec {
    uint64_t trade_id, ts_ns, cmd_seq;
    int64_t price, qty;
    uint8_t taker_side;
} trade_rec_t;

typedef struct candle {
    uint64_t start_ms;       /* interval start, Unix ms (engine clock) */
    int64_t open, high, low, close, volume;
    uint32_t trades;
} candle_t;

/* Recent candles of one interval, oldest first in a ring; the newest is
 * the one still open. */
typedef struct candles {
    candle_t *c;
    uint32_t head, n, cap;
    uint64_t interval_ms;
    bool changed;            /* by the command being read */
} candles_t;

/* A level changed by the command being read (or, conflated, since the last
 * update was sent). */
typedef struct level_change {
    int64_t price, qty;
    uint32_t orders;
    uint8_t side;
} level_change_t;

typedef struct sym {
    uint32_t id;
    char symbol[WS_NAME_MAX];
    uint32_t base, quote;
    uint8_t price_scale, qty_scale;  /* quote and base decimals */
    int64_t tick, lot;
    bool halted;
    replica_t book;          /* the replica */
    replica_t next;          /* a snapshot being received */
    uint64_t query_tag;      /* its query, 0: none */
    stream_t st[CH_PUBLIC_COUNT];
    level_change_t *chg;     /* book changes not yet sent */
    uint32_t nchg, capchg;
    bool touched;            /* listed in ws->touched */
    bool ticker_dirty;
    /* the ticker: best levels last sent, the last trade */
    int64_t t_bid, t_bid_qty, t_ask, t_ask_qty;
    int64_t last_price, last_qty;
    uint8_t last_side;
    uint64_t last_ts_ns;
    uint64_t ts_ns, cmd_seq; /* of the newest event applied */
    trade_rec_t *trades;     /* ring of recent trades */
    uint32_t thead, tn;
    candles_t cd[2];         /* 1 s, 1 min */
} sym_t;

typedef struct sub {
    uint32_t sym;            /* index in ws->syms; unused for private channels */
    uint8_t chan;            /* ws_chan_t */
} sub_t;

/* An order or cancel a client sent, awaiting the engine's answer (and its
 * durability, as bourse-rest's acks); the link keeps its deadline. */
typedef struct pending {
    uint64_t tag;            /* its link tag; 0: free */
    uint64_t cmd_seq;        /* of the answer, once complete */
    uint16_t type;           /* CMD_NEW_ORDER or CMD_CANCEL */
    bool done;               /* the answer is complete; waiting for durability */
    bool rejected;
    uint16_t reject;
    uint8_t side;
    char id[WSMSG_ID_MAX + 1];
    uint32_t instrument;
    uint64_t order_id, client_order_id;
    int64_t price, qty, filled, cancelled;
    uint32_t fills;
} pending_t;

enum { SESSION_PENDING_MAX = 8 };

/* A WebSocket client, by connection index. */
typedef struct session {
    wsc_t id;                /* 0: no client at this index */
    bool authed;
    uint32_t account;
    auth_role_t role;
    char key_id[KS_KEY_ID_MAX + 1];
    sub_t *subs;
    uint32_t nsubs;
    bool priv[3];            /* orders, fills, balances */
    uint64_t priv_seq[3];
    bool in_priv;            /* listed in ws->priv */
    uint32_t refused;        /* messages refused by the rate limit since the last accepted one */
    pending_t pend[SESSION_PENDING_MAX];
    uint32_t npend;
    char addr[48];
} session_t;

typedef enum query_kind { Q_NONE = 0, Q_REFDATA, Q_BOOK } query_kind_t;

typedef struct ws_stats {
    uint64_t snapshots, updates, trades, msgs_fanned;
    uint64_t subscribes, errors_sent, auth_ok, auth_refused, rate_limited;
} ws_stats_t;

struct ws {
    ws_config_t cfg;
    wss_t *srv;
    /* the engine */
    link_t *link;
    uint64_t query_serial;   /* query tags: serial << 16 | target (ws.c) */
    uint64_t cmd_serial;     /* client commands: tags (1 << 63) | serial << 20 | session index */
    uint32_t npending;       /* client commands awaiting answers, all sessions */
    uint64_t refdata_tag;    /* the refdata query in flight, 0: none */
    bool refdata_dirty;      /* an admin command changed it: query again */
    bool refdata_loaded;
    refdata_t rd, rd_next;   /* assets and instruments; the answer being read */
    /* symbols: never removed, so indexes are stable */
    sym_t **syms;
    uint32_t nsyms, cap_syms;
    uint32_t *touched, ntouched;  /* symbols changed by the command being read */
    uint32_t last_sym;            /* lookup cache */
    uint64_t next_conflate_ns;
    /* clients */
    session_t *sess;              /* by connection index */
    uint32_t *priv, npriv;        /* sessions with a private channel */
    keywatch_t *kw;               /* bourse-rest's key store, as current as its file */
    auth_replay_t *replay;
    ratelimit_t *rl;
    jw_t jw;                      /* the message being built, with room for its frame header */
    ws_stats_t st;
};

/* ---- ws.c */
sym_t *ws_sym_by_id(ws_t *w, uint32_t instrument);
sym_t *ws_sym_by_name(ws_t *w, const char *symbol);
const rd_asset_t *ws_asset(const ws_t *w, uint32_t id);
bool ws_ready(const ws_t *w);
/* Sends a frame to every subscriber of a stream. */
void ws_fanout(ws_t *w, const stream_t *st, const uint8_t *frame, size_t len);

/* Sends a client's command, to be answered (and durable) within
 * query_timeout_ms; its tag, set in *tag, names the session. Returns 0,
 * -EAGAIN (the command ring is full), -ENOTCONN (no engine). */
int ws_submit(ws_t *w, rec_t *cmd, uint32_t session_index, uint64_t *tag);
enum { WS_CMD_TAG_BIT = 63, WS_CMD_INDEX_BITS = 20 };

/* ---- entry.c: order entry */
/* An order or cancel of a session: checked, sent, answered later. */
void entry_command(ws_t *w, session_t *s, const ws_req_t *r);
/* An event of a client's command (tag with WS_CMD_TAG_BIT). */
void entry_event(ws_t *w, uint64_t tag, const rec_t *ev);
/* The link is done with the command tag: answered and durable (status 0),
 * or no answer in time (-ETIMEDOUT); -ESTALE waits for entry_fail. */
void entry_done(ws_t *w, uint64_t tag, int status);
/* The engine went away: every waiting command is answered as unknown. */
void entry_fail(ws_t *w);
/* The session closed: its waiting commands are forgotten. */
void entry_forget(ws_t *w, session_t *s);

/* ---- session.c */
/* Sends what ws->jw holds (a complete object) to one client. */
int session_send_jw(ws_t *w, wsc_t id);
/* "id": the request's id (JSON text) when it had one. */
void session_put_id(jw_t *j, const char *req_id);
/* An id as a string, or null when 0. */
void session_opt_id(jw_t *j, const char *key, uint64_t v);
void session_on_open(void *ctx, wsc_t id, const ws_http_req_t *req, const struct sockaddr_storage *peer);
void session_on_text(void *ctx, wsc_t id, const char *text, size_t len);
void session_on_close(void *ctx, wsc_t id, uint16_t code, const char *why);
/* Private events: order updates, fills, balances of their account. */
void session_private_event(ws_t *w, const rec_t *ev);
/* Sends an error frame. */
void session_error(ws_t *w, wsc_t id, const char *req_id, const char *code, const char *message);
/* Every private stream skips a number: events may have been lost. */
void session_private_gap(ws_t *w);

/* ---- market.c */
int market_sym_init(sym_t *s, const ws_config_t *cfg);
void market_sym_free(sym_t *s);
/* Applies one engine event about s; marks what must be sent. */
void market_book_event(ws_t *w, sym_t *s, const rec_t *ev, const evt_book_t *b);
void market_trade_event(ws_t *w, sym_t *s, const rec_t *ev, const evt_trade_t *t);
/* The command is complete: sends the update, ticker and candles it caused. */
void market_flush(ws_t *w, sym_t *s, bool conflated_tick);
/* The replica was rebuilt: every book subscriber gets it as a snapshot. */
void market_book_reset(ws_t *w, sym_t *s);
/* Public streams lost events (a lap, an engine restart): skip a number. */
void market_gap(ws_t *w, sym_t *s);
/* What a new subscriber of channel ch gets first: the snapshot or current
 * state, tagged with the stream's current seq. Returns the wss_send code. */
int market_subscribe_snapshot(ws_t *w, sym_t *s, ws_chan_t ch, wsc_t id);
/* The instruments list (op instruments). */
void market_instruments(ws_t *w, const char *req_id);

/* The prototext names of proto.h's enums. */
const char *ws_reason_name(uint16_t reason);
const char *ws_side_name(uint8_t side);

#endif
