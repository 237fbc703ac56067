/* session.c - bourse-ws's clients: what a connection asked for (its
 * subscriptions, its authenticated key) and the answers to its messages:
 *   {"type":"subscribed"|"unsubscribed", "id", "channel", "symbol"}
 *   {"type":"authenticated", "id", "key", "account", "role"}
 *   {"type":"pong", "id", "ts"}
 *   {"type":"instruments", "id", "instruments":[...]}
 *   {"type":"error", "id", "code", "message"}
 * and the private channels of an authenticated client: its account's order
 * updates, fills and balances, each with the client's own seq per channel. */
#include "ws_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

static const uint64_t NS_PER_MS = 1000000;
enum { FLOOD_REFUSALS_MAX = 100 };                /* refused messages in a row before closing */

static const char *const auth_messages[AUTH_REASON_COUNT] = {
    [AUTH_OK] = "ok",
    [AUTH_MISSING_KEY] = "missing key",
    [AUTH_MISSING_TIMESTAMP] = "missing timestamp",
    [AUTH_MISSING_SIGNATURE] = "missing signature",
    [AUTH_MALFORMED_TIMESTAMP] = "timestamp must be Unix milliseconds",
    [AUTH_MALFORMED_SIGNATURE] = "signature must be 64 hex digits",
    [AUTH_UNKNOWN_KEY] = "unknown API key",
    [AUTH_REVOKED_KEY] = "this API key was revoked",
    [AUTH_BAD_SIGNATURE] = "the signature does not match (HMAC-SHA256 of timestamp + \"GET\" + \"/ws\")",
    [AUTH_STALE] = "the timestamp is older than the receive window",
    [AUTH_FUTURE] = "the timestamp is further ahead than the receive window",
    [AUTH_REPLAY] = "this signature was already used",
    [AUTH_REPLAY_BUSY] = "the replay guard is full: retry shortly",
    [AUTH_FORBIDDEN_ROLE] = "this API key's role may not do this",
    [AUTH_INTERNAL] = "signature check failed",
};

/* The path and method a WebSocket authentication signs, as a REST request
 * would: HMAC-SHA256(secret, timestamp + "GET" + "/ws"). */
static const char AUTH_METHOD[] = "GET";
static const char AUTH_PATH[] = "/ws";

static session_t *sess_of(ws_t *w, wsc_t id)
{
    uint32_t i = WSC_INDEX(id);
    if (i >= w->cfg.max_connections || w->sess[i].id != id)
        return NULL;
    return &w->sess[i];
}

/* Sends what ws->jw holds (a complete object) to one client. */
int session_send_jw(ws_t *w, wsc_t id)
{
    size_t n;
    const uint8_t *f = ws_frame_json(&w->jw, &n);
    return f ? wss_send(w->srv, id, f, n) : -ENOMEM;
}

void session_put_id(jw_t *j, const char *req_id)
{
    if (req_id != NULL && req_id[0] != '\0')
        jw_raw(j, "id", req_id, strlen(req_id));
}

void session_opt_id(jw_t *j, const char *key, uint64_t v)
{
    if (v)
        jw_u64s(j, key, v);
    else
        jw_null(j, key);
}

void session_error(ws_t *w, wsc_t id, const char *req_id, const char *code, const char *message)
{
    jw_t *j = &w->jw;
    jw_reset(j);
    jw_obj(j, NULL);
    jw_str(j, "type", "error");
    session_put_id(j, req_id);
    jw_str(j, "code", code);
    jw_str(j, "message", message);
    jw_obj_end(j);
    w->st.errors_sent++;
    session_send_jw(w, id);
}

/* ---------------------------------------------------------------- authentication */

static void auth_refuse(ws_t *w, wsc_t id, const char *req_id, auth_reason_t why)
{
    if ((unsigned)why >= AUTH_REASON_COUNT)
        why = AUTH_INTERNAL;
    w->st.auth_refused++;
    session_error(w, id, req_id, auth_reason_code(why), auth_messages[why]);
}

/* The checks of auth.h in its order. target is what was signed as the path. */
static auth_reason_t authenticate(ws_t *w, session_t *s, const char *key, size_t klen, const char *ts, size_t tlen,
                                  const char *sig, size_t slen, const char *target)
{
    if (klen == 0)
        return AUTH_MISSING_KEY;
    if (slen == 0)
        return AUTH_MISSING_SIGNATURE;
    int64_t ts_ms;
    auth_reason_t why = auth_parse_ts(ts, tlen, &ts_ms);
    if (why != AUTH_OK)
        return why;
    int64_t now_ms = (int64_t)(clock_realtime_ns() / NS_PER_MS);
    if ((why = auth_check_time(now_ms, ts_ms, w->cfg.recv_window_ms)) != AUTH_OK)
        return why;
    ks_entry_t k;
    uint64_t now = clock_mono_ns(), retry_ns;
    /* The message is answered in order with the ones after it, so it cannot
     * wait for a reread the bound holds back (-EAGAIN): that is refused as
     * unknown, and happens only while the file keeps changing. */
    int rc = keywatch_lookup(w->kw, key, klen, now, now, &k, &retry_ns);
    if (rc < 0)
        return rc == -EKEYREVOKED ? AUTH_REVOKED_KEY : AUTH_UNKNOWN_KEY;
    char tsz[WSMSG_TS_MAX + 1];
    snprintf(tsz, sizeof(tsz), "%.*s", (int)tlen, ts);
    why = auth_verify(k.secret, sizeof(k.secret), tsz, AUTH_METHOD, target, "", 0, sig, slen);
    explicit_bzero(k.secret, sizeof(k.secret));
    if (why != AUTH_OK)
        return why;
    if (!auth_role_permits(k.info.role, AUTH_ROLE_READ_ONLY))
        return AUTH_FORBIDDEN_ROLE;
    uint8_t raw[AUTH_SIG_BYTES];
    if (auth_sig_decode(sig, slen, raw) < 0)
        return AUTH_MALFORMED_SIGNATURE;
    if ((why = auth_replay_check(w->replay, raw, ts_ms, now_ms)) != AUTH_OK)
        return why;
    if (s->authed && s->account != k.info.account) {
        /* private subscriptions belong to the account they were made for */
        for (int c = 0; c < 3; c++)
            s->priv[c] = false;
    }
    s->authed = true;
    s->account = k.info.account;
    s->role = k.info.role;
    snprintf(s->key_id, sizeof(s->key_id), "%s", k.info.key_id);
    w->st.auth_ok++;
    return AUTH_OK;
}

static void authenticated(ws_t *w, session_t *s, const char *req_id)
{
    jw_t *j = &w->jw;
    jw_reset(j);
    jw_obj(j, NULL);
    jw_str(j, "type", "authenticated");
    session_put_id(j, req_id);
    jw_str(j, "key", s->key_id);
    jw_u64s(j, "account", s->account);
    jw_str(j, "role", auth_role_name(s->role));
    jw_obj_end(j);
    session_send_jw(w, s->id);
}

/* ---------------------------------------------------------------- subscriptions */

static int stream_add(stream_t *st, wsc_t id)
{
    if (st->n == st->cap) {
        uint32_t cap = st->cap ? st->cap * 2 : 8;
        wsc_t *p = realloc(st->subs, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        st->subs = p;
        st->cap = cap;
    }
    st->subs[st->n++] = id;
    return 0;
}

static void stream_remove(stream_t *st, wsc_t id)
{
    for (uint32_t i = 0; i < st->n; i++) {
        if (st->subs[i] == id) {
            st->subs[i] = st->subs[--st->n];
            return;
        }
    }
}

static int find_sub(const session_t *s, uint32_t sym, ws_chan_t ch)
{
    for (uint32_t i = 0; i < s->nsubs; i++)
        if (s->subs[i].chan == ch && (wsmsg_channel_private(ch) || s->subs[i].sym == sym))
            return (int)i;
    return -1;
}

static void priv_list(ws_t *w, session_t *s)
{
    bool any = s->priv[0] || s->priv[1] || s->priv[2];
    if (any && !s->in_priv) {
        w->priv[w->npriv++] = WSC_INDEX(s->id);
        s->in_priv = true;
    } else if (!any && s->in_priv) {
        for (uint32_t i = 0; i < w->npriv; i++) {
            if (w->priv[i] == WSC_INDEX(s->id)) {
                w->priv[i] = w->priv[--w->npriv];
                break;
            }
        }
        s->in_priv = false;
    }
}

static void ack(ws_t *w, session_t *s, const ws_req_t *r, const char *type)
{
    jw_t *j = &w->jw;
    jw_reset(j);
    jw_obj(j, NULL);
    jw_str(j, "type", type);
    session_put_id(j, r->id);
    jw_str(j, "channel", wsmsg_channel_name(r->channel));
    if (!wsmsg_channel_private(r->channel))
        jw_str(j, "symbol", r->symbol);
    jw_obj_end(j);
    session_send_jw(w, s->id);
}

static void subscribe(ws_t *w, session_t *s, const ws_req_t *r)
{
    bool priv = wsmsg_channel_private(r->channel);
    sym_t *sym = NULL;
    uint32_t k = 0;
    if (priv) {
        if (!s->authed) {
            session_error(w, s->id, r->id, "auth-required",
                          "private channels need an authenticated connection: send {\"op\":\"auth\",...} first");
            return;
        }
    } else {
        sym = ws_sym_by_name(w, r->symbol);
        if (sym == NULL) {
            session_error(w, s->id, r->id, w->refdata_loaded ? "unknown-symbol" : "not-ready",
                          w->refdata_loaded ? "no instrument has this symbol (op instruments lists them)"
                                            : "the gateway is not attached to the engine yet: retry shortly");
            return;
        }
        while (w->syms[k] != sym)
            k++;
    }
    if (find_sub(s, k, r->channel) >= 0) {
        session_error(w, s->id, r->id, "already-subscribed", "this connection is already subscribed to that");
        return;
    }
    if (s->nsubs >= w->cfg.max_subscriptions) {
        char m[96];
        snprintf(m, sizeof(m), "at most %u subscriptions per connection", w->cfg.max_subscriptions);
        session_error(w, s->id, r->id, "too-many-subscriptions", m);
        return;
    }
    if (s->subs == NULL && (s->subs = calloc(w->cfg.max_subscriptions, sizeof(*s->subs))) == NULL) {
        session_error(w, s->id, r->id, "internal", "out of memory");
        return;
    }
    if (!priv && stream_add(&sym->st[r->channel], s->id) < 0) {
        session_error(w, s->id, r->id, "internal", "out of memory");
        return;
    }
    s->subs[s->nsubs++] = (sub_t){.sym = k, .chan = (uint8_t)r->channel};
    w->st.subscribes++;
    ack(w, s, r, "subscribed");
    if (priv) {
        s->priv[r->channel - CH_ORDERS] = true;
        priv_list(w, s);
    } else {
        market_subscribe_snapshot(w, sym, r->channel, s->id);
    }
}

static void unsub_at(ws_t *w, session_t *s, uint32_t i)
{
    sub_t sub = s->subs[i];
    s->subs[i] = s->subs[--s->nsubs];
    if (wsmsg_channel_private((ws_chan_t)sub.chan)) {
        s->priv[sub.chan - CH_ORDERS] = false;
        priv_list(w, s);
    } else if (sub.sym < w->nsyms) {
        stream_remove(&w->syms[sub.sym]->st[sub.chan], s->id);
    }
}

static void unsubscribe(ws_t *w, session_t *s, const ws_req_t *r)
{
    uint32_t k = 0;
    if (!wsmsg_channel_private(r->channel)) {
        sym_t *sym = ws_sym_by_name(w, r->symbol);
        if (sym == NULL) {
            session_error(w, s->id, r->id, "unknown-symbol", "no instrument has this symbol");
            return;
        }
        while (w->syms[k] != sym)
            k++;
    }
    int i = find_sub(s, k, r->channel);
    if (i < 0) {
        session_error(w, s->id, r->id, "not-subscribed", "this connection is not subscribed to that");
        return;
    }
    unsub_at(w, s, (uint32_t)i);
    ack(w, s, r, "unsubscribed");
}

/* ---------------------------------------------------------------- server callbacks */

void session_on_open(void *ctx, wsc_t id, const ws_http_req_t *req, const struct sockaddr_storage *peer)
{
    ws_t *w = ctx;
    session_t *s = &w->sess[WSC_INDEX(id)];
    sub_t *keep = s->subs;
    memset(s, 0, sizeof(*s));
    s->subs = keep;
    s->id = id;
    if (peer->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, s->addr, sizeof(s->addr));
    else if (peer->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, s->addr, sizeof(s->addr));
    /* authentication in the upgrade request's headers, as bourse-rest reads them */
    if (req->auth_key.len || req->auth_sig.len || req->auth_ts.len) {
        char target[WS_HTTP_TARGET_MAX + 1];
        snprintf(target, sizeof(target), "%.*s", (int)req->target.len, req->target.p);
        auth_reason_t why = authenticate(w, s, req->auth_key.p, req->auth_key.len, req->auth_ts.p, req->auth_ts.len,
                                         req->auth_sig.p, req->auth_sig.len, target);
        if (why == AUTH_OK)
            authenticated(w, s, NULL);
        else
            auth_refuse(w, id, NULL, why);
    }
}

void session_on_close(void *ctx, wsc_t id, uint16_t code, const char *why)
{
    ws_t *w = ctx;
    session_t *s = sess_of(w, id);
    (void)code;
    (void)why;
    if (s == NULL)
        return;
    while (s->nsubs > 0)
        unsub_at(w, s, s->nsubs - 1);
    entry_forget(w, s);
    s->id = 0;
}

void session_on_text(void *ctx, wsc_t id, const char *text, size_t len)
{
    ws_t *w = ctx;
    session_t *s = sess_of(w, id);
    if (s == NULL)
        return;
    rl_info_t info;
    if (ratelimit_take(w->rl, &id, sizeof(id), clock_mono_ns(), &info) == -EAGAIN) {
        w->st.rate_limited++;
        if (++s->refused > FLOOD_REFUSALS_MAX) {
            wss_close_conn(w->srv, id, WS_CLOSE_FLOOD, "message flood: far beyond the rate limit");
            return;
        }
        char m[128];
        snprintf(m, sizeof(m), "over %u messages a second (burst %u): this message was dropped",
                 w->cfg.msg_rate_per_s, w->cfg.msg_burst);
        session_error(w, id, NULL, "rate-limited", m);
        return;
    }
    s->refused = 0;
    ws_req_t r;
    ws_msg_err_t e;
    if (wsmsg_parse(text, len, &r, &e) < 0) {
        session_error(w, id, r.id, e.code, e.message);
        return;
    }
    switch (r.op) {
    case WSOP_SUBSCRIBE:
        subscribe(w, s, &r);
        break;
    case WSOP_UNSUBSCRIBE:
        unsubscribe(w, s, &r);
        break;
    case WSOP_AUTH: {
        auth_reason_t why = authenticate(w, s, r.key, strlen(r.key), r.ts, strlen(r.ts), r.sig, strlen(r.sig),
                                         AUTH_PATH);
        if (why == AUTH_OK)
            authenticated(w, s, r.id);
        else
            auth_refuse(w, id, r.id, why);
        break;
    }
    case WSOP_PING: {
        jw_t *j = &w->jw;
        jw_reset(j);
        jw_obj(j, NULL);
        jw_str(j, "type", "pong");
        session_put_id(j, r.id);
        jw_u64s(j, "ts", clock_realtime_ns());
        jw_obj_end(j);
        session_send_jw(w, id);
        break;
    }
    case WSOP_ORDER:
    case WSOP_CANCEL:
        entry_command(w, s, &r);
        break;
    case WSOP_INSTRUMENTS: {
        jw_t *j = &w->jw;
        jw_reset(j);
        jw_obj(j, NULL);
        jw_str(j, "type", "instruments");
        session_put_id(j, r.id);
        market_instruments(w, r.id);
        jw_obj_end(j);
        session_send_jw(w, id);
        break;
    }
    }
}

/* ---------------------------------------------------------------- private channels */

static void priv_head(jw_t *j, const char *type, ws_chan_t ch, uint64_t seq, const rec_t *ev)
{
    jw_reset(j);
    jw_obj(j, NULL);
    jw_str(j, "type", type);
    jw_str(j, "channel", wsmsg_channel_name(ch));
    jw_u64(j, "seq", seq);
    jw_u64(j, "cmd_seq", ev->cmd_seq);
    jw_u64s(j, "ts", ev->ts_ns);
}

static void sym_fields(ws_t *w, jw_t *j, uint32_t instrument, unsigned *ps, unsigned *qs)
{
    sym_t *sym = ws_sym_by_id(w, instrument);
    if (sym != NULL) {
        jw_str(j, "symbol", sym->symbol);
        *ps = sym->price_scale;
        *qs = sym->qty_scale;
    } else {
        jw_null(j, "symbol");
        *ps = *qs = 0;
    }
}

static const char *const cxl_names[] = {"?", "user", "ioc-remainder", "stp", "expired", "mass", "protection"};

/* Builds the order message of ev for its account into ws->jw (after the
 * head). Returns the account, or -1 when ev is not about one. */
static int64_t order_body(ws_t *w, const rec_t *ev)
{
    jw_t *j = &w->jw;
    unsigned ps, qs;
    switch (ev->type) {
    case EVT_ACCEPTED: {
        evt_accepted_t a;
        memcpy(&a, ev->payload, sizeof(a));
        jw_str(j, "event", "accepted");
        jw_u64s(j, "order_id", a.order_id);
        session_opt_id(j, "client_order_id", a.client_order_id);
        sym_fields(w, j, a.instrument, &ps, &qs);
        jw_str(j, "side", ws_side_name(a.side));
        jw_str(j, "order_type", a.type == ORD_MARKET ? "market" : "limit");
        jw_dec(j, "price", a.price, ps);
        jw_dec(j, "qty", a.qty, qs);
        return a.account;
    }
    case EVT_CANCELLED: {
        evt_cancelled_t c;
        memcpy(&c, ev->payload, sizeof(c));
        jw_str(j, "event", "cancelled");
        jw_u64s(j, "order_id", c.order_id);
        session_opt_id(j, "client_order_id", c.client_order_id);
        sym_fields(w, j, c.instrument, &ps, &qs);
        jw_str(j, "side", ws_side_name(c.side));
        jw_dec(j, "qty", c.qty, qs);
        jw_str(j, "reason", c.reason < sizeof(cxl_names) / sizeof(cxl_names[0]) ? cxl_names[c.reason] : "?");
        return c.account;
    }
    case EVT_REPLACED: {
        evt_replaced_t r;
        memcpy(&r, ev->payload, sizeof(r));
        jw_str(j, "event", "replaced");
        jw_u64s(j, "order_id", r.order_id);
        session_opt_id(j, "client_order_id", r.client_order_id);
        sym_fields(w, j, r.instrument, &ps, &qs);
        jw_str(j, "side", ws_side_name(r.side));
        jw_dec(j, "price", r.price, ps);
        jw_dec(j, "qty", r.qty, qs);
        jw_bool(j, "kept_priority", r.kept_priority != 0);
        return r.account;
    }
    case EVT_REJECTED: {
        evt_rejected_t r;
        memcpy(&r, ev->payload, sizeof(r));
        /* An order command's refusal is its account's, whoever sent it (this
         * gateway, bourse-rest, the CLI), as an exchange's private order
         * stream shows it. Queries and admin commands are refused with the
         * account they name too (query-account, withdraw, ...), but they are
         * not its orders and their sender need not be the account: never
         * shown. (This gateway's own queries never get here: on_event answers
         * them, on_log drops their late refusals.) */
        if (r.cmd_type != CMD_NEW_ORDER && r.cmd_type != CMD_CANCEL && r.cmd_type != CMD_AMEND &&
            r.cmd_type != CMD_MASS_CANCEL)
            return -1;
        jw_str(j, "event", "rejected");
        session_opt_id(j, "order_id", r.order_id);
        session_opt_id(j, "client_order_id", r.client_order_id);
        jw_str(j, "command", r.cmd_type == CMD_NEW_ORDER ? "new-order"
                             : r.cmd_type == CMD_CANCEL  ? "cancel"
                             : r.cmd_type == CMD_AMEND   ? "amend"
                                                         : "mass-cancel");
        jw_str(j, "reason", ws_reason_name(r.reason));
        return r.account;
    }
    default:
        return -1;
    }
}

/* The sessions of account subscribed to channel ch (index into priv). */
static void priv_send(ws_t *w, uint32_t account, ws_chan_t ch, const char *type, const rec_t *ev,
                      void (*body)(ws_t *, const rec_t *, const void *), const void *arg)
{
    for (uint32_t i = 0; i < w->npriv; i++) {
        session_t *s = &w->sess[w->priv[i]];
        if (!s->priv[ch - CH_ORDERS] || s->account != account)
            continue;
        /* per-client seq: the message is built for each (few clients share an account) */
        priv_head(&w->jw, type, ch, ++s->priv_seq[ch - CH_ORDERS], ev);
        jw_u64s(&w->jw, "account", account);
        body(w, ev, arg);
        jw_obj_end(&w->jw);
        session_send_jw(w, s->id);
    }
}

static void order_cb(ws_t *w, const rec_t *ev, const void *arg)
{
    (void)arg;
    order_body(w, ev);
}

typedef struct fill_arg {
    const evt_trade_t *t;
    bool maker;
} fill_arg_t;

static void fill_cb(ws_t *w, const rec_t *ev, const void *arg)
{
    (void)ev;
    const fill_arg_t *f = arg;
    const evt_trade_t *t = f->t;
    jw_t *j = &w->jw;
    unsigned ps, qs;
    jw_u64s(j, "trade_id", t->trade_id);
    jw_u64s(j, "order_id", f->maker ? t->maker_order_id : t->taker_order_id);
    sym_fields(w, j, t->instrument, &ps, &qs);
    uint8_t side = f->maker ? (uint8_t)(t->taker_side ^ 1) : t->taker_side;
    jw_str(j, "side", ws_side_name(side));
    jw_dec(j, "price", t->price, ps);
    jw_dec(j, "qty", t->qty, qs);
    jw_dec(j, "fee", f->maker ? t->maker_fee : t->taker_fee, ps); /* quote minor units */
    jw_str(j, "liquidity", f->maker ? "maker" : "taker");
    if (f->maker)
        jw_bool(j, "order_done", t->maker_done != 0);
}

static void balance_cb(ws_t *w, const rec_t *ev, const void *arg)
{
    (void)ev;
    const evt_balance_t *b = arg;
    jw_t *j = &w->jw;
    const rd_asset_t *a = ws_asset(w, b->asset);
    unsigned scale = a ? a->decimals : 0;
    if (a)
        jw_str(j, "asset", a->name);
    else
        jw_null(j, "asset");
    jw_dec(j, "available", b->available, scale);
    jw_dec(j, "held", b->held, scale);
}

/* The payload an event of type needs to be read; 0 for types no private
 * stream carries. */
static size_t private_payload_len(uint16_t type)
{
    switch (type) {
    case EVT_TRADE: return sizeof(evt_trade_t);
    case EVT_BALANCE: return sizeof(evt_balance_t);
    case EVT_ACCEPTED: return sizeof(evt_accepted_t);
    case EVT_CANCELLED: return sizeof(evt_cancelled_t);
    case EVT_REPLACED: return sizeof(evt_replaced_t);
    case EVT_REJECTED: return sizeof(evt_rejected_t);
    default: return 0;
    }
}

void session_private_event(ws_t *w, const rec_t *ev)
{
    if (w->npriv == 0)
        return;
    /* a record shorter than its type's payload is none of the engine's:
     * nothing in it is read (the bytes past len would be stale) */
    size_t need = private_payload_len(ev->type);
    if (need == 0 || ev->len < need)
        return;
    switch (ev->type) {
    case EVT_TRADE: {
        evt_trade_t t;
        memcpy(&t, ev->payload, sizeof(t));
        fill_arg_t m = {&t, true}, k = {&t, false};
        priv_send(w, t.maker_account, CH_FILLS, "fill", ev, fill_cb, &m);
        priv_send(w, t.taker_account, CH_FILLS, "fill", ev, fill_cb, &k);
        break;
    }
    case EVT_BALANCE: {
        evt_balance_t b;
        memcpy(&b, ev->payload, sizeof(b));
        priv_send(w, b.account, CH_BALANCES, "balance", ev, balance_cb, &b);
        break;
    }
    default: {
        /* the account is in a different place in each payload: build once to find it */
        priv_head(&w->jw, "order", CH_ORDERS, 0, ev);
        int64_t account = order_body(w, ev);
        if (account >= 0)
            priv_send(w, (uint32_t)account, CH_ORDERS, "order", ev, order_cb, NULL);
        break;
    }
    }
}

void session_private_gap(ws_t *w)
{
    for (uint32_t i = 0; i < w->npriv; i++)
        for (int c = 0; c < 3; c++)
            w->sess[w->priv[i]].priv_seq[c]++;
}
