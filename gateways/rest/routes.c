/* routes.c - the endpoints of bourse-rest: the route table and, for each
 * route, how a request becomes a command (start) and how the engine's answer
 * becomes the response (finish). Everything in front of a route (signature,
 * role, rate limits, readiness) is done in rest.c before start runs.
 *
 *   GET    /healthz, /readyz                      no key
 *   GET    /v1/instruments                        read-only
 *   GET    /v1/book/{symbol}?depth=N              read-only
 *   GET    /v1/trades/{symbol}?limit=N            read-only
 *   GET    /v1/balances, /v1/fills, /v1/orders    read-only, the key's account
 *   GET    /v1/orders/{id}, /v1/orders/by-client-id/{cid}
 *   POST   /v1/orders                             trader
 *   PATCH  /v1/orders/{id}, .../by-client-id/{cid}  (amend)
 *   DELETE /v1/orders/{id}, .../by-client-id/{cid}  (cancel)
 *   DELETE /v1/orders[?symbol=S]                  (mass cancel)
 *   POST   /v1/admin/assets, instruments, instruments/{symbol}/halt|resume,
 *          accounts, deposits, withdrawals, keys; GET /v1/admin/keys;
 *          DELETE /v1/admin/keys/{key_id}          admin */
#include "rest_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* The query string of a request (after '?'), or an empty one. */
static int query(const http_request_t *req, query_arg_t *args, unsigned n, rest_err_t *e)
{
    if (req->path_len >= req->target_len)
        return 0;
    return request_query(req->target + req->path_len + 1, req->target_len - req->path_len - 1, args, n, e);
}

static bool no_query(rest_t *r, call_t *c, const http_request_t *req)
{
    rest_err_t e;
    if (query(req, NULL, 0, &e) < 0) {
        rest_reply_error(r, c, &e);
        return false;
    }
    return true;
}

static const rd_instrument_t *symbol_or_404(rest_t *r, call_t *c, const char *sym, size_t n)
{
    const rd_instrument_t *in = refdata_instrument_by_symbol(&r->rd, sym, n);
    if (in == NULL)
        rest_reply_fail(r, c, 404, "unknown-instrument", "no such instrument");
    return in;
}

/* ---------------------------------------------------------------- health */

static void healthz(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)req, (void)p, (void)n;
    jw_reset(&r->jw);
    jw_obj(&r->jw, NULL);
    jw_str(&r->jw, "status", "ok");
    jw_obj_end(&r->jw);
    rest_reply(r, c, 200);
}

/* Ready: attached, reference data loaded, and the engine's heartbeat fresh
 * (an engine that is alive but stuck is not ready; requests still go to it
 * and time out with 504). */
static void readyz(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)req, (void)p, (void)n;
    uint64_t beat = link_heartbeat_ns(r->link), now = clock_realtime_ns();
    uint64_t age_ms = beat && now > beat ? (now - beat) / 1000000 : 0;
    bool fresh = beat != 0 && age_ms <= r->cfg.ready_heartbeat_ms;
    bool ready = rest_ready(r) && fresh;
    jw_t *w = &r->jw;
    jw_reset(w);
    jw_obj(w, NULL);
    jw_bool(w, "ready", ready);
    jw_str(w, "instance", r->cfg.instance);
    jw_str(w, "engine", link_attached(r->link) ? "attached" : "detached");
    jw_bool(w, "refdata", r->rd_loaded);
    if (beat != 0)
        jw_u64(w, "heartbeat_age_ms", age_ms);
    if (!link_attached(r->link))
        jw_str(w, "reason", r->detach_why[0] ? r->detach_why : "not attached yet");
    else if (!fresh)
        jw_str(w, "reason", "the engine's heartbeat is stale: stopped or stuck");
    else if (!r->rd_loaded)
        jw_str(w, "reason", "loading reference data");
    jw_u64(w, "inflight", link_inflight(r->link));
    jw_obj_end(w);
    rest_reply(r, c, ready ? 200 : 503);
}

/* ---------------------------------------------------------------- market data */

static void instruments(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    if (!no_query(r, c, req))
        return;
    rest_reply(r, c, answer_instruments(&r->jw, &r->rd));
}

static void book_start(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    query_arg_t a[] = {{.name = "depth"}};
    rest_err_t e;
    uint64_t depth;
    if (query(req, a, 1, &e) < 0 || request_query_uint(&a[0], 1, QUERY_DEPTH_MAX, BOOK_DEPTH_DEFAULT, &depth, &e) < 0) {
        rest_reply_error(r, c, &e);
        return;
    }
    const rd_instrument_t *in = symbol_or_404(r, c, p, n);
    if (in == NULL)
        return;
    c->instrument = in->id;
    request_query_book(in->id, (uint32_t)depth, &c->cmd);
    rest_send(r, c, COLLECT_QUERY_MAX, false);
}

static void book_finish(rest_t *r, call_t *c)
{
    const rd_instrument_t *in = refdata_instrument(&r->rd, c->instrument);
    if (in == NULL) {
        rest_reply_fail(r, c, 404, "unknown-instrument", "the instrument is gone");
        return;
    }
    rest_reply(r, c, answer_book(&r->jw, in, &c->col, c->cmd_seq));
}

static void trades(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    query_arg_t a[] = {{.name = "limit"}};
    rest_err_t e;
    uint64_t limit;
    if (query(req, a, 1, &e) < 0 || request_query_uint(&a[0], 1, TRADES_LIMIT_MAX, TRADES_LIMIT_DEFAULT, &limit, &e) < 0) {
        rest_reply_error(r, c, &e);
        return;
    }
    const rd_instrument_t *in = symbol_or_404(r, c, p, n);
    if (in == NULL)
        return;
    uint32_t k = tradecache_recent(&r->tc, in->id, TC_ANY, (uint32_t)limit, r->tbuf);
    rest_reply(r, c, answer_trades(&r->jw, in, r->tbuf, k));
}

/* ---------------------------------------------------------------- the key's account */

static void fills(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    query_arg_t a[] = {{.name = "symbol"}, {.name = "limit"}};
    rest_err_t e;
    uint64_t limit;
    if (query(req, a, 2, &e) < 0 || request_query_uint(&a[1], 1, TRADES_LIMIT_MAX, TRADES_LIMIT_DEFAULT, &limit, &e) < 0) {
        rest_reply_error(r, c, &e);
        return;
    }
    uint32_t inst = TC_ANY;
    if (a[0].set) {
        const rd_instrument_t *in = symbol_or_404(r, c, a[0].value, a[0].len);
        if (in == NULL)
            return;
        inst = in->id;
    }
    uint32_t k = tradecache_recent(&r->tc, inst, c->account, (uint32_t)limit, r->tbuf);
    rest_reply(r, c, answer_fills(&r->jw, &r->rd, c->account, r->tbuf, k));
}

static void balances_start(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    if (!no_query(r, c, req))
        return;
    request_query_account(c->account, QUERY_BALANCES, 0, 0, &c->cmd);
    rest_send(r, c, COLLECT_QUERY_MAX, false);
}

static void balances_finish(rest_t *r, call_t *c)
{
    rest_reply(r, c, answer_balances(&r->jw, &r->rd, &c->col, c->cmd_seq));
}

static void open_orders_start(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    query_arg_t a[] = {{.name = "symbol"}, {.name = "limit"}, {.name = "after"}};
    rest_err_t e;
    uint64_t limit, after;
    if (query(req, a, 3, &e) < 0 || request_query_uint(&a[1], 1, QUERY_ORDERS_MAX, QUERY_ORDERS_MAX, &limit, &e) < 0 ||
        request_query_uint(&a[2], 0, UINT64_MAX, 0, &after, &e) < 0) {
        rest_reply_error(r, c, &e);
        return;
    }
    c->instrument = TC_ANY;
    if (a[0].set) {
        const rd_instrument_t *in = symbol_or_404(r, c, a[0].value, a[0].len);
        if (in == NULL)
            return;
        c->instrument = in->id;
    }
    request_query_account(c->account, QUERY_ORDERS, (uint32_t)limit, after, &c->cmd);
    rest_send(r, c, COLLECT_QUERY_MAX, false);
}

static void open_orders_finish(rest_t *r, call_t *c)
{
    rest_reply(r, c, answer_open_orders(&r->jw, &r->rd, &c->col, c->instrument, c->cmd_seq));
}

/* An order named by the path: /v1/orders/{id} or /v1/orders/by-client-id/{cid}. */
static bool order_ref(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    rest_err_t e;
    bool by_client = req->path_len > strlen("/v1/orders/by-client-id/") &&
                     memcmp(req->target, "/v1/orders/by-client-id/", strlen("/v1/orders/by-client-id/")) == 0;
    uint64_t id;
    if (request_id(p, n, by_client ? "client_order_id" : "order_id", &id, &e) < 0) {
        rest_reply_error(r, c, &e);
        return false;
    }
    c->order_id = by_client ? 0 : id;
    c->client_order_id = by_client ? id : 0;
    return true;
}

static void order_get_start(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    if (!no_query(r, c, req) || !order_ref(r, c, req, p, n))
        return;
    request_cancel(CMD_QUERY_ORDER, c->account, c->order_id, c->client_order_id, &c->cmd);
    rest_send(r, c, COLLECT_QUERY_MAX, false);
}

static void order_get_finish(rest_t *r, call_t *c)
{
    rest_reply(r, c, answer_open_order(&r->jw, &r->rd, &c->col, c->cmd_seq));
}

/* ---------------------------------------------------------------- trading */

static void place_start(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    rest_err_t e;
    if (!no_query(r, c, req))
        return;
    if (request_new_order(&r->rd, c->account, c->body, c->body_len, &c->cmd, &e) < 0) {
        rest_reply_error(r, c, &e);
        return;
    }
    rest_send(r, c, COLLECT_ORDER_MAX, true);
}

static void order_finish(rest_t *r, call_t *c)
{
    rest_reply(r, c, answer_order(&r->jw, &r->rd, c->cmd.type, &c->col, c->cmd_seq));
}

static void cancel_start(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    if (!no_query(r, c, req) || !order_ref(r, c, req, p, n))
        return;
    request_cancel(CMD_CANCEL, c->account, c->order_id, c->client_order_id, &c->cmd);
    rest_send(r, c, COLLECT_ORDER_MAX, true);
}

/* An amend's decimals need the order's instrument, which only the engine
 * knows: look the order up first (an order never changes instrument), then
 * amend it. The lookup and the amend are two commands; an order filled in
 * between is refused as unknown by the amend, which is the truth. */
static void amend_start(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    if (!no_query(r, c, req) || !order_ref(r, c, req, p, n))
        return;
    c->phase = 0;
    request_cancel(CMD_QUERY_ORDER, c->account, c->order_id, c->client_order_id, &c->cmd);
    rest_send(r, c, COLLECT_QUERY_MAX, false);
}

static void amend_finish(rest_t *r, call_t *c)
{
    if (c->phase == 1) {
        order_finish(r, c);
        return;
    }
    int st = answer_rejected(&r->jw, &c->col);
    if (st != 0) {
        rest_reply(r, c, st);
        return;
    }
    const rec_t *q = collect_find(&c->col, EVT_Q_ORDER);
    evt_accepted_t a;
    const rd_instrument_t *in = NULL;
    if (q != NULL) {
        memcpy(&a, q->payload, sizeof(a));
        in = refdata_instrument(&r->rd, a.instrument);
    }
    if (in == NULL) {
        rest_reply_fail(r, c, 404, "unknown-order", "no such open order");
        return;
    }
    rest_err_t e;
    if (request_amend(in, c->account, a.order_id, 0, c->body, c->body_len, &c->cmd, &e) < 0) {
        rest_reply_error(r, c, &e);
        return;
    }
    c->phase = 1;
    rest_send(r, c, COLLECT_ORDER_MAX, true);
}

static void mass_cancel_start(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    query_arg_t a[] = {{.name = "symbol"}};
    rest_err_t e;
    if (query(req, a, 1, &e) < 0) {
        rest_reply_error(r, c, &e);
        return;
    }
    uint32_t inst = UINT32_MAX;
    if (a[0].set) {
        const rd_instrument_t *in = symbol_or_404(r, c, a[0].value, a[0].len);
        if (in == NULL)
            return;
        inst = in->id;
    }
    request_mass_cancel(c->account, inst, &c->cmd);
    rest_send(r, c, COLLECT_ORDER_MAX, true);
}

static void mass_cancel_finish(rest_t *r, call_t *c)
{
    rest_reply(r, c, answer_mass_cancel(&r->jw, &r->rd, &c->col, c->cmd_seq));
}

/* ---------------------------------------------------------------- admin */

static void admin_send(rest_t *r, call_t *c, int rc, const rest_err_t *e)
{
    if (rc < 0)
        rest_reply_error(r, c, e);
    else
        rest_send(r, c, COLLECT_QUERY_MAX, false);
}

static void admin_finish(rest_t *r, call_t *c)
{
    if (collect_find(&c->col, EVT_REJECTED) == NULL)
        rest_refdata_apply(r, &c->cmd);
    rest_reply(r, c, answer_admin(&r->jw, &r->rd, &c->cmd, &c->col, c->cmd_seq));
}

static void add_asset(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    rest_err_t e;
    if (no_query(r, c, req))
        admin_send(r, c, request_add_asset(&r->rd, c->body, c->body_len, &c->cmd, &e), &e);
}

static void add_instrument(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    rest_err_t e;
    if (no_query(r, c, req))
        admin_send(r, c, request_add_instrument(&r->rd, c->body, c->body_len, &c->cmd, &e), &e);
}

static void halt_resume(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    if (!no_query(r, c, req))
        return;
    const rd_instrument_t *in = symbol_or_404(r, c, p, n);
    if (in == NULL)
        return;
    bool halt = req->path_len >= 5 && memcmp(req->target + req->path_len - 5, "/halt", 5) == 0;
    request_simple(halt ? CMD_HALT : CMD_RESUME, in->id, &c->cmd);
    rest_send(r, c, COLLECT_QUERY_MAX, false);
}

static void add_account(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    rest_err_t e;
    if (no_query(r, c, req))
        admin_send(r, c, request_add_account(c->body, c->body_len, &c->cmd, &e), &e);
}

static void funds(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    rest_err_t e;
    bool deposit = req->path_len == strlen("/v1/admin/deposits");
    if (no_query(r, c, req))
        admin_send(r, c, request_funds(&r->rd, deposit ? CMD_DEPOSIT : CMD_WITHDRAW, c->body, c->body_len, &c->cmd, &e), &e);
}

static void key_json(jw_t *w, const ks_info_t *k)
{
    jw_str(w, "key_id", k->key_id);
    jw_str(w, "role", auth_role_name(k->role));
    jw_u64(w, "account", k->account);
    jw_i64(w, "created_ms", k->created_ms);
    jw_bool(w, "revoked", k->revoked);
}

static void keys_list(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    if (!no_query(r, c, req))
        return;
    err_t err = {0};
    if (keywatch_sync(r->kw, clock_mono_ns(), &err) < 0) /* what the file holds now; else the copy */
        log_warn("list keys: %s", err.msg);
    else
        rest_keystore_synced(r);
    keystore_t *ks = keywatch_store(r->kw);
    size_t total = keystore_list(ks, NULL, 0);
    ks_info_t *all = calloc(total ? total : 1, sizeof(*all));
    if (all == NULL) {
        rest_reply_fail(r, c, 500, "internal", "out of memory");
        return;
    }
    keystore_list(ks, all, total);
    jw_t *w = &r->jw;
    jw_reset(w);
    jw_obj(w, NULL);
    jw_arr(w, "keys");
    for (size_t i = 0; i < total; i++) {
        jw_obj(w, NULL);
        key_json(w, &all[i]);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    free(all);
    rest_reply(r, c, 200);
}

static void key_create(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    (void)p, (void)n;
    rest_err_t e;
    auth_role_t role;
    uint32_t account;
    if (!no_query(r, c, req))
        return;
    if (request_key(c->body, c->body_len, &role, &account, &e) < 0) {
        rest_reply_error(r, c, &e);
        return;
    }
    err_t err = {0};
    int lock = keystore_lock(r->cfg.keystore, &err);
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    int rc = lock;
    if (lock >= 0) {
        rc = keywatch_sync(r->kw, clock_mono_ns(), &err); /* keys another process added are kept */
        if (rc == 0) {
            rest_keystore_synced(r);
            rc = keystore_create(keywatch_store(r->kw), role, account, id, secret, &err);
        }
        keystore_unlock(lock);
    }
    if (rc < 0) {
        log_error("create key: %s", err.msg);
        rest_reply_fail(r, c, 500, "keystore", "the key store could not be written");
        return;
    }
    char hex[KS_SECRET_HEX_LEN + 1];
    keystore_secret_hex(secret, hex);
    explicit_bzero(secret, sizeof(secret));
    log_info("created %s key %s for account %u", auth_role_name(role), id, account);
    jw_t *w = &r->jw;
    jw_reset(w);
    jw_obj(w, NULL);
    jw_str(w, "key_id", id);
    jw_str(w, "secret", hex);
    jw_str(w, "role", auth_role_name(role));
    jw_u64(w, "account", account);
    jw_obj_end(w);
    explicit_bzero(hex, sizeof(hex));
    rest_reply(r, c, 201);
    explicit_bzero(w->buf, w->len); /* the secret leaves once */
}

static void key_revoke(rest_t *r, call_t *c, const http_request_t *req, const char *p, size_t n)
{
    if (!no_query(r, c, req))
        return;
    char id[KS_KEY_ID_MAX + 1];
    if (n > KS_KEY_ID_MAX) {
        rest_reply_fail(r, c, 404, "unknown-key", "no such key");
        return;
    }
    memcpy(id, p, n);
    id[n] = '\0';
    err_t err = {0};
    int lock = keystore_lock(r->cfg.keystore, &err);
    int rc = lock;
    bool synced = false;
    if (lock >= 0) {
        synced = (rc = keywatch_sync(r->kw, clock_mono_ns(), &err)) == 0;
        if (synced) {
            rest_keystore_synced(r);
            rc = keystore_revoke(keywatch_store(r->kw), id, &err);
        }
        keystore_unlock(lock);
    }
    if (synced && rc == -ENOENT) {
        rest_reply_fail(r, c, 404, "unknown-key", "no such key");
        return;
    }
    if (rc < 0) {
        log_error("revoke key: %s", err.msg);
        rest_reply_fail(r, c, 500, "keystore", "the key store could not be written");
        return;
    }
    log_info("revoked key %s", id);
    jw_t *w = &r->jw;
    jw_reset(w);
    jw_obj(w, NULL);
    jw_str(w, "key_id", id);
    jw_bool(w, "revoked", true);
    jw_obj_end(w);
    rest_reply(r, c, 200);
}

/* ---------------------------------------------------------------- the table */

#define RO AUTH_ROLE_READ_ONLY
#define TR AUTH_ROLE_TRADER
#define AD AUTH_ROLE_ADMIN

/* Order matters only for metrics (the index is the route's slot). */
const route_t rest_routes[] = {
    {"GET", "/healthz", "healthz", RO, true, false, healthz, NULL},
    {"GET", "/readyz", "readyz", RO, true, false, readyz, NULL},
    {"GET", "/v1/instruments", "instruments", RO, false, true, instruments, NULL},
    {"GET", "/v1/book/{}", "book", RO, false, true, book_start, book_finish},
    {"GET", "/v1/trades/{}", "trades", RO, false, true, trades, NULL},
    {"GET", "/v1/fills", "fills", RO, false, true, fills, NULL},
    {"GET", "/v1/balances", "balances", RO, false, true, balances_start, balances_finish},
    {"GET", "/v1/orders", "orders.list", RO, false, true, open_orders_start, open_orders_finish},
    {"POST", "/v1/orders", "orders.place", TR, false, true, place_start, order_finish},
    {"DELETE", "/v1/orders", "orders.mass_cancel", TR, false, true, mass_cancel_start, mass_cancel_finish},
    {"GET", "/v1/orders/{}", "orders.get", RO, false, true, order_get_start, order_get_finish},
    {"DELETE", "/v1/orders/{}", "orders.cancel", TR, false, true, cancel_start, order_finish},
    {"PATCH", "/v1/orders/{}", "orders.amend", TR, false, true, amend_start, amend_finish},
    {"GET", "/v1/orders/by-client-id/{}", "orders.get", RO, false, true, order_get_start, order_get_finish},
    {"DELETE", "/v1/orders/by-client-id/{}", "orders.cancel", TR, false, true, cancel_start, order_finish},
    {"PATCH", "/v1/orders/by-client-id/{}", "orders.amend", TR, false, true, amend_start, amend_finish},
    {"POST", "/v1/admin/assets", "admin.assets", AD, false, true, add_asset, admin_finish},
    {"POST", "/v1/admin/instruments", "admin.instruments", AD, false, true, add_instrument, admin_finish},
    {"POST", "/v1/admin/instruments/{}/halt", "admin.halt", AD, false, true, halt_resume, admin_finish},
    {"POST", "/v1/admin/instruments/{}/resume", "admin.resume", AD, false, true, halt_resume, admin_finish},
    {"POST", "/v1/admin/accounts", "admin.accounts", AD, false, true, add_account, admin_finish},
    {"POST", "/v1/admin/deposits", "admin.deposits", AD, false, true, funds, admin_finish},
    {"POST", "/v1/admin/withdrawals", "admin.withdrawals", AD, false, true, funds, admin_finish},
    {"GET", "/v1/admin/keys", "admin.keys.list", AD, false, false, keys_list, NULL},
    {"POST", "/v1/admin/keys", "admin.keys.create", AD, false, false, key_create, NULL},
    {"DELETE", "/v1/admin/keys/{}", "admin.keys.revoke", AD, false, false, key_revoke, NULL},
};
const unsigned rest_nroutes = sizeof(rest_routes) / sizeof(rest_routes[0]);
_Static_assert(sizeof(rest_routes) / sizeof(rest_routes[0]) < REST_ROUTES_MAX, "a metrics slot per route");
