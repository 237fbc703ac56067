/* rest.c - see rest.h. The loop, the request pipeline in front of every
 * route (address rate limit, route match, signature, role, replay, key rate
 * limit, readiness), replies with their headers and access-log line, and the
 * engine link's callbacks (answers, caches, reference data, reattach). The
 * endpoints themselves are in routes.c. */
#include "rest_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "log.h"

/* The link tag of the gateway's own reference-data query: never a
 * connection id (connection indexes stay below 2^16). */
static const uint64_t TAG_REFDATA = UINT64_MAX;
static const uint64_t NS_PER_MS = 1000000;
static const uint64_t HOUSEKEEPING_NS = 1000000000;
static const uint64_t INFLIGHT_SLEEP_MAX_NS = 50000;    /* backoff's sleep with answers awaited */

enum {
    SOCKETS_EVERY_PASSES = 16,            /* socket polls while answers are awaited */
    HEADERS_MAX_BYTES = 512,
    AUTH_TS_MAX = 18,
};

/* ---------------------------------------------------------------- replies */

static uint64_t ceil_s(uint64_t ms)
{
    return (ms + 999) / 1000;
}

static void reply_raw(rest_t *r, call_t *c, int status, const char *error_code, bool close_after)
{
    char h[HEADERS_MAX_BYTES];
    int n = snprintf(h, sizeof(h), "X-Request-Id: %016" PRIx64 "\r\n", c->rid);
    if (c->rl_set)
        n += snprintf(h + n, sizeof(h) - (size_t)n,
                      "X-RateLimit-Limit: %" PRIu32 "\r\nX-RateLimit-Remaining: %" PRIu32
                      "\r\nX-RateLimit-Reset: %" PRIu64 "\r\n",
                      c->rl.limit, c->rl.remaining, ceil_s(c->rl.reset_ms));
    if (status == 429)
        n += snprintf(h + n, sizeof(h) - (size_t)n, "Retry-After: %" PRIu64 "\r\n",
                      ceil_s(c->rl.retry_after_ms) ? ceil_s(c->rl.retry_after_ms) : 1);
    else if (status == 503)
        n += snprintf(h + n, sizeof(h) - (size_t)n, "Retry-After: 1\r\n");
    const char *body = jw_ok(&r->jw) ? r->jw.buf : "{}";
    size_t blen = jw_ok(&r->jw) ? r->jw.len : 2;
    int rc = server_respond(r->srv, c->conn, status, h, body, blen, close_after);
    uint64_t now = clock_mono_ns();
    uint64_t lat = (now - c->t0_ns) / 1000;
    if (rc < 0)
        r->metrics.answers_lost++;
    rest_metrics_observe(&r->metrics, (unsigned)c->route_index, status, lat);
    alog_entry_t e = {.rid = c->rid, .method = c->method, .path = c->path, .status = rc < 0 ? 499 : status,
                      .latency_us = lat, .key_id = c->authed ? c->key_id : NULL,
                      .account = c->authed ? (int64_t)c->account : -1, .cmd_seq = c->cmd_seq, .addr = c->addr,
                      .error = error_code, .bytes_in = c->bytes_in, .bytes_out = blen};
    alog_write(&r->alog, &e, now);
    c->waiting = false;
    c->route = NULL;
}

void rest_reply(rest_t *r, call_t *c, int status)
{
    reply_raw(r, c, status, NULL, false);
}

void rest_reply_error(rest_t *r, call_t *c, const rest_err_t *e)
{
    answer_error(&r->jw, e);
    reply_raw(r, c, e->status, e->code, false);
}

void rest_reply_fail(rest_t *r, call_t *c, int status, const char *code, const char *message)
{
    rest_err_t e;
    rest_fail(&e, status, code, "%s", message);
    rest_reply_error(r, c, &e);
}

bool rest_ready(const rest_t *r)
{
    return link_attached(r->link) && r->rd_loaded;
}

static bool is_mutation(uint16_t type)
{
    return !(type == CMD_QUERY_BOOK || type == CMD_QUERY_ACCOUNT || type == CMD_QUERY_ORDER ||
             type == CMD_QUERY_REFDATA);
}

int rest_send(rest_t *r, call_t *c, uint32_t collect_max, bool orders_only)
{
    uint64_t now = clock_mono_ns();
    collect_reset(&c->col, collect_max, orders_only);
    int rc = link_send(r->link, &c->cmd, c->conn, now + r->cfg.request_timeout_ms * NS_PER_MS,
                       r->cfg.durable_acks && is_mutation(c->cmd.type));
    if (rc == 0) {
        c->waiting = true;
        return 0;
    }
    if (rc == -EAGAIN || rc == -EBUSY) {
        r->metrics.engine_busy++;
        rest_reply_fail(r, c, 503, "engine-busy",
                        rc == -EAGAIN ? "the engine's command ring is full: retry shortly"
                                      : "too many commands await the engine: retry shortly");
    } else {
        r->metrics.engine_unavailable++;
        rest_reply_fail(r, c, 503, "engine-unavailable", "the gateway is not attached to a running engine");
    }
    return -1;
}

/* ---------------------------------------------------------------- authentication */

static const char *const auth_messages[AUTH_REASON_COUNT] = {
    [AUTH_OK] = "ok",
    [AUTH_MISSING_KEY] = "missing X-Bourse-Key header",
    [AUTH_MISSING_TIMESTAMP] = "missing X-Bourse-Timestamp header",
    [AUTH_MISSING_SIGNATURE] = "missing X-Bourse-Signature header",
    [AUTH_MALFORMED_TIMESTAMP] = "X-Bourse-Timestamp must be Unix milliseconds",
    [AUTH_MALFORMED_SIGNATURE] = "X-Bourse-Signature must be 64 hex digits",
    [AUTH_UNKNOWN_KEY] = "unknown API key",
    [AUTH_REVOKED_KEY] = "this API key was revoked",
    [AUTH_BAD_SIGNATURE] = "the signature does not match the request",
    [AUTH_STALE] = "the timestamp is older than the receive window",
    [AUTH_FUTURE] = "the timestamp is further ahead than the receive window",
    [AUTH_REPLAY] = "this request was already received",
    [AUTH_REPLAY_BUSY] = "the replay guard is full: retry shortly",
    [AUTH_FORBIDDEN_ROLE] = "this API key's role may not call this endpoint",
    [AUTH_INTERNAL] = "signature check failed",
};

static int auth_fail(rest_t *r, auth_reason_t why, rest_err_t *e)
{
    if ((unsigned)why >= AUTH_REASON_COUNT)
        why = AUTH_INTERNAL;
    r->metrics.auth_refused[why]++;
    int status = why == AUTH_FORBIDDEN_ROLE ? 403 : why == AUTH_REPLAY_BUSY ? 503 : why == AUTH_INTERNAL ? 500 : 401;
    return rest_fail(e, status, auth_reason_code(why), "%s", auth_messages[why]);
}

static int header1(const http_request_t *req, const char *name, const char **v, uint32_t *n, rest_err_t *e)
{
    unsigned k = http_header(req, name, v, n);
    if (k > 1)
        return rest_fail(e, 400, "bad-request", "header %s given more than once", name);
    if (k == 0) {
        *v = "";
        *n = 0;
    }
    return 0;
}

/* The checks of auth.h in its order; fills the call's key, account, role.
 * Returns 0, -1 when refused (e says why), or 1 when the key store must be
 * reread first and its bound holds that back until *retry_ns. */
static int authenticate(rest_t *r, call_t *c, const http_request_t *req, uint64_t now_ns, uint64_t *retry_ns,
                        rest_err_t *e)
{
    const char *key, *ts, *sig;
    uint32_t klen, tlen, slen;
    if (header1(req, "x-bourse-key", &key, &klen, e) < 0 || header1(req, "x-bourse-timestamp", &ts, &tlen, e) < 0 ||
        header1(req, "x-bourse-signature", &sig, &slen, e) < 0)
        return -1;
    if (klen == 0)
        return auth_fail(r, AUTH_MISSING_KEY, e);
    if (slen == 0)
        return auth_fail(r, AUTH_MISSING_SIGNATURE, e);
    int64_t ts_ms;
    auth_reason_t why = auth_parse_ts(ts, tlen, &ts_ms);
    if (why != AUTH_OK)
        return auth_fail(r, why, e);
    int64_t now_ms = (int64_t)(clock_realtime_ns() / NS_PER_MS);
    if ((why = auth_check_time(now_ms, ts_ms, r->cfg.recv_window_ms)) != AUTH_OK)
        return auth_fail(r, why, e);
    ks_entry_t k;
    int rc = keywatch_lookup(r->kw, key, klen, c->t0_ns, now_ns, &k, retry_ns);
    if (rc == -EAGAIN)
        return 1;
    if (rc < 0)
        return auth_fail(r, rc == -EKEYREVOKED ? AUTH_REVOKED_KEY : AUTH_UNKNOWN_KEY, e);
    char tsz[AUTH_TS_MAX + 1], method[HTTP_METHOD_MAX + 1], target[HTTP_TARGET_MAX + 1];
    snprintf(tsz, sizeof(tsz), "%.*s", (int)tlen, ts);
    snprintf(method, sizeof(method), "%.*s", (int)req->method_len, req->method);
    snprintf(target, sizeof(target), "%.*s", (int)req->target_len, req->target);
    why = auth_verify(k.secret, sizeof(k.secret), tsz, method, target, req->body, req->body_len, sig, slen);
    explicit_bzero(k.secret, sizeof(k.secret));
    if (why != AUTH_OK)
        return auth_fail(r, why, e);
    /* from here the caller is who the key says: the log may name it */
    snprintf(c->key_id, sizeof(c->key_id), "%s", k.info.key_id);
    c->account = k.info.account;
    c->role = k.info.role;
    c->authed = true;
    if (!auth_role_permits(k.info.role, c->route->need))
        return auth_fail(r, AUTH_FORBIDDEN_ROLE, e);
    uint8_t raw[AUTH_SIG_BYTES];
    if (auth_sig_decode(sig, slen, raw) < 0)
        return auth_fail(r, AUTH_MALFORMED_SIGNATURE, e);
    if ((why = auth_replay_check(r->replay, raw, ts_ms, now_ms)) != AUTH_OK)
        return auth_fail(r, why, e);
    return 0;
}

/* ---------------------------------------------------------------- routing */

/* Matches path against a pattern; {} captures one non-empty segment. */
static bool route_match(const char *pattern, const char *path, size_t len, const char **param, size_t *plen)
{
    size_t i = 0;
    for (const char *p = pattern; *p; p++) {
        if (p[0] == '{' && p[1] == '}') {
            size_t s = i;
            while (i < len && path[i] != '/')
                i++;
            if (i == s)
                return false;
            *param = path + s;
            *plen = i - s;
            p++;
            continue;
        }
        if (i == len || path[i] != *p)
            return false;
        i++;
    }
    return i == len;
}

static void call_begin(rest_t *r, call_t *c, conn_id_t id, const struct sockaddr_storage *peer)
{
    if (c->held) { /* a new connection in its place: the held one closed */
        r->ks_held--;
        r->metrics.answers_lost++;
    }
    collect_t col = c->col; /* keep its memory */
    http_request_t *held_req = c->held_req;
    memset(c, 0, sizeof(*c));
    c->col = col;
    c->held_req = held_req;
    c->conn = id;
    c->rid = r->rid_base + ++r->rid_next;
    c->t0_ns = clock_mono_ns();
    c->route_index = REST_ROUTES_MAX - 1;
    snprintf(c->method, sizeof(c->method), "-");
    snprintf(c->path, sizeof(c->path), "-");
    if (peer->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, c->addr, sizeof(c->addr));
    else if (peer->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, c->addr, sizeof(c->addr));
    else
        snprintf(c->addr, sizeof(c->addr), "-");
}

/* Holds a call back until the key store may be reread (at retry_ns): its
 * request stays in the connection's buffer, and the connection reads nothing
 * more, until it is answered. */
static void call_hold(rest_t *r, call_t *c, const http_request_t *req, uint64_t retry_ns)
{
    if (c->held_req == NULL && (c->held_req = malloc(sizeof(*c->held_req))) == NULL) {
        rest_reply_fail(r, c, 500, "internal", "out of memory");
        return;
    }
    if (req != c->held_req)
        *c->held_req = *req;
    c->held = true;
    if (r->ks_held++ == 0) { /* once a reread period at most: the bound's */
        uint64_t now = clock_mono_ns();
        log_info("key store changes faster than its reread bound: holding requests with unknown keys "
                 "for %llu ms at most", (unsigned long long)(retry_ns > now ? (retry_ns - now) / NS_PER_MS + 1 : 0));
        r->ks_retry_ns = retry_ns;
    } else if (retry_ns < r->ks_retry_ns) {
        r->ks_retry_ns = retry_ns;
    }
}

void rest_keystore_synced(rest_t *r)
{
    if (r->ks_held > 0)
        r->ks_retry_ns = 0; /* the copy is newer than every held request: settle them now */
}

/* The pipeline from authentication on: signature, role, replay, key rate
 * limit, readiness, then the route. */
static void call_authorized(rest_t *r, call_t *c, const http_request_t *req, uint64_t now)
{
    rest_err_t e;
    uint64_t retry_ns = 0;
    int rc = authenticate(r, c, req, now, &retry_ns, &e);
    if (rc > 0) {
        call_hold(r, c, req, retry_ns);
        return;
    }
    if (rc < 0) {
        rest_reply_error(r, c, &e);
        return;
    }
    if (ratelimit_take(r->rl_key, c->key_id, strlen(c->key_id), now, &c->rl) == -EAGAIN) {
        r->metrics.rate_limited_key++;
        rest_reply_fail(r, c, 429, "rate-limited", "too many requests with this API key: see Retry-After");
        return;
    }
    if (c->route->engine && !rest_ready(r)) {
        r->metrics.engine_unavailable++;
        rest_reply_fail(r, c, 503, "engine-unavailable", "the gateway is not attached to a running engine");
        return;
    }
    c->route->start(r, c, req, c->param, c->param_len);
}

/* Takes the held calls up again once the bound allows a reread: the poll
 * rereads the file (it changed, or they would not be held), after which
 * every held request's lookup is settled by a copy newer than the request. */
static void resume_held(rest_t *r, uint64_t now)
{
    keywatch_poll(r->kw, now);
    uint32_t n = r->ks_held;
    r->ks_held = 0;
    r->ks_retry_ns = UINT64_MAX;
    for (uint32_t i = 0; i < r->cfg.max_connections && n > 0; i++) {
        call_t *c = &r->calls[i];
        if (!c->held)
            continue;
        n--;
        c->held = false;
        if (!server_conn_open(r->srv, c->conn)) { /* the client left; its request's bytes with it */
            r->metrics.answers_lost++;
            continue;
        }
        call_authorized(r, c, c->held_req, now); /* may hold it again, if the file changed again */
    }
}

static void on_request(void *ctx, conn_id_t id, const http_request_t *req, const struct sockaddr_storage *peer)
{
    rest_t *r = ctx;
    call_t *c = &r->calls[SERVER_CONN_INDEX(id)];
    call_begin(r, c, id, peer);
    snprintf(c->method, sizeof(c->method), "%.*s", (int)req->method_len, req->method);
    snprintf(c->path, sizeof(c->path), "%.*s", (int)req->target_len, req->target);
    c->bytes_in = req->header_bytes + req->body_len;
    c->body = req->body;
    c->body_len = req->body_len;
    const char *param = NULL;
    size_t plen = 0;
    const route_t *rt = NULL;
    bool path_known = false;
    for (unsigned i = 0; i < rest_nroutes && rt == NULL; i++) {
        if (!route_match(rest_routes[i].pattern, req->target, req->path_len, &param, &plen))
            continue;
        path_known = true;
        if (strlen(rest_routes[i].method) == req->method_len &&
            memcmp(rest_routes[i].method, req->method, req->method_len) == 0) {
            rt = &rest_routes[i];
            c->route_index = (int)i;
        }
    }
    if (rt != NULL && rt->public_) {
        c->route = rt;
        rt->start(r, c, req, param, plen);
        return;
    }
    uint64_t now = clock_mono_ns();
    uint8_t akey[RL_ADDR_KEY_MAX];
    size_t alen = ratelimit_addr_key((const struct sockaddr *)peer, akey);
    if (alen > 0) {
        c->rl_set = true;
        if (ratelimit_take(r->rl_addr, akey, alen, now, &c->rl) == -EAGAIN) {
            r->metrics.rate_limited_addr++;
            rest_reply_fail(r, c, 429, "rate-limited", "too many requests from this address: see Retry-After");
            return;
        }
    }
    if (rt == NULL) {
        if (path_known)
            rest_reply_fail(r, c, 405, "method-not-allowed", "this path does not take that method");
        else
            rest_reply_fail(r, c, 404, "not-found", "no such endpoint (see README: /v1/...)");
        return;
    }
    c->route = rt;
    c->param = param;
    c->param_len = plen;
    call_authorized(r, c, req, now);
}

static void on_refused(void *ctx, conn_id_t id, int status, const char *why, const struct sockaddr_storage *peer)
{
    rest_t *r = ctx;
    call_t *c = &r->calls[SERVER_CONN_INDEX(id)];
    call_begin(r, c, id, peer);
    const char *code = status == 408   ? "request-timeout"
                       : status == 413 ? "body-too-large"
                       : status == 414 ? "uri-too-long"
                       : status == 431 ? "headers-too-large"
                       : status == 417 ? "expectation-failed"
                       : status == 501 ? "not-implemented"
                       : status == 505 ? "http-version"
                                       : "bad-request";
    rest_err_t e;
    rest_fail(&e, status, code, "%s", why ? why : "malformed request");
    answer_error(&r->jw, &e);
    reply_raw(r, c, status, code, true);
}

/* ---------------------------------------------------------------- engine link */

static void refdata_query(rest_t *r)
{
    if (!link_attached(r->link) || r->rd_querying)
        return;
    rec_t cmd;
    request_simple(CMD_QUERY_REFDATA, 0, &cmd);
    refdata_free(&r->rd_next);
    if (link_send(r->link, &cmd, TAG_REFDATA, clock_mono_ns() + r->cfg.request_timeout_ms * NS_PER_MS, false) == 0) {
        r->rd_querying = true;
        r->rd_dirty = false;
    }
}

void rest_refdata_apply(rest_t *r, const rec_t *cmd)
{
    if (cmd->type == CMD_ADD_ASSET) {
        cmd_add_asset_t a;
        memcpy(&a, cmd->payload, sizeof(a));
        refdata_add_asset(&r->rd, &a);
    } else if (cmd->type == CMD_ADD_INSTRUMENT) {
        evt_instrument_t e = {.halted = 0};
        memcpy(&e.def, cmd->payload, sizeof(e.def));
        refdata_add_instrument(&r->rd, &e);
    } else if (cmd->type == CMD_HALT || cmd->type == CMD_RESUME) {
        cmd_instrument_t h;
        memcpy(&h, cmd->payload, sizeof(h));
        rd_instrument_t *in = (rd_instrument_t *)refdata_instrument(&r->rd, h.instrument);
        if (in != NULL)
            in->halted = cmd->type == CMD_HALT;
    }
}

static call_t *call_of(rest_t *r, uint64_t tag)
{
    uint32_t i = SERVER_CONN_INDEX(tag);
    if (i >= r->cfg.max_connections)
        return NULL;
    call_t *c = &r->calls[i];
    return c->conn == tag && c->waiting ? c : NULL;
}

static void on_event(void *ctx, uint64_t tag, const rec_t *ev)
{
    rest_t *r = ctx;
    if (tag == TAG_REFDATA) {
        refdata_add_event(&r->rd_next, ev);
        return;
    }
    call_t *c = call_of(r, tag);
    if (c != NULL)
        collect_add(&c->col, ev);
}

static void on_done(void *ctx, uint64_t tag, int status, uint64_t cmd_seq)
{
    rest_t *r = ctx;
    if (tag == TAG_REFDATA) {
        r->rd_querying = false;
        if (status == 0) {
            refdata_move(&r->rd, &r->rd_next);
            if (!r->rd_loaded)
                log_info("reference data loaded: %u assets, %u instruments; ready", r->rd.nassets, r->rd.ninst);
            r->rd_loaded = true;
            r->metrics.refdata_loads++;
        } else {
            r->rd_dirty = true;
        }
        return;
    }
    call_t *c = call_of(r, tag);
    if (c == NULL) {
        r->metrics.answers_lost++;
        log_msg(LOG_INFO, cmd_seq, "engine answer for a client that left (status %d)", status);
        return;
    }
    c->waiting = false;
    c->cmd_seq = cmd_seq;
    if (status == -ETIMEDOUT) {
        r->metrics.engine_timeouts++;
        rest_reply_fail(r, c, 504, "engine-timeout",
                        "no answer from the engine in time; the command may still take effect: query it");
    } else if (status != 0) {
        r->metrics.engine_unavailable++;
        rest_reply_fail(r, c, 503, "engine-unavailable", "the engine went away before answering");
    } else {
        c->route->finish(r, c);
    }
}

static void on_log(void *ctx, const rec_t *ev, bool own)
{
    rest_t *r = ctx;
    if (ev->type == EVT_TRADE) {
        tradecache_add(&r->tc, ev);
    } else if (ev->type == EVT_ADMIN && !own &&
               (ev->len == sizeof(cmd_add_asset_t) || ev->len == sizeof(cmd_add_instrument_t) ||
                ev->len == sizeof(cmd_instrument_t))) {
        /* another client's admin command: assets, instruments and halts may
         * have changed (the echo does not say which command it was) */
        r->rd_dirty = true;
    }
}

static void on_attach(void *ctx)
{
    rest_t *r = ctx;
    r->rd_loaded = false;
    r->rd_dirty = true;
    refdata_query(r);
    rest_pub_open(&r->pub, link_client(r->link));
}

static void on_detach(void *ctx, const char *why)
{
    rest_t *r = ctx;
    r->rd_loaded = false;
    r->rd_querying = false;
    r->tc.gaps++;
    rest_pub_close(&r->pub); /* the segment goes with the detach */
    snprintf(r->detach_why, sizeof(r->detach_why), "%s", why);
}

static void on_lapped(void *ctx, uint64_t skipped)
{
    rest_t *r = ctx;
    log_warn("event log lapped this gateway: %llu events skipped; caches rebuild", (unsigned long long)skipped);
    r->tc.gaps++;
    r->rd_dirty = true;
}

/* ---------------------------------------------------------------- open, run, close */

int rest_open(rest_t **out, const rest_config_t *cfg, err_t *err)
{
    rest_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    r->cfg = *cfg;
    refdata_init(&r->rd);
    refdata_init(&r->rd_next);
    jw_init(&r->jw);
    int rc;
    uint64_t seed[2] = {0, 0};
    if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
        rc = err_set(err, -EIO, "getrandom: %s", strerror(errno));
        goto fail;
    }
    r->rid_base = seed[0] & ~UINT64_C(0xffffffff);
    if ((rc = alog_open(&r->alog, cfg->access_log, err)) < 0)
        goto fail;
    r->ks_retry_ns = UINT64_MAX;
    keywatch_bound_t kb = {.burst = cfg->keystore_reload_burst, .interval_ms = cfg->keystore_reload_interval_ms};
    if ((rc = keywatch_open(&r->kw, cfg->keystore, cfg->master_key, &kb, clock_mono_ns(), err)) < 0)
        goto fail;
    rl_config_t kc = {.rate_per_s = cfg->key_rate_per_s, .burst = cfg->key_burst,
                      .capacity = cfg->ratelimit_keys, .seed = seed[1]};
    rl_config_t ac = {.rate_per_s = cfg->addr_rate_per_s, .burst = cfg->addr_burst,
                      .capacity = cfg->ratelimit_keys, .seed = seed[1] ^ 0x9e3779b97f4a7c15u};
    if (ratelimit_create(&r->rl_key, &kc) < 0 || ratelimit_create(&r->rl_addr, &ac) < 0) {
        rc = err_set(err, -EINVAL, "rate limits: rate, burst or ratelimit_keys out of range");
        goto fail;
    }
    if (auth_replay_create(&r->replay, cfg->replay_capacity, cfg->recv_window_ms) < 0) {
        rc = err_set(err, -ENOMEM, "replay guard of %u signatures: out of memory", cfg->replay_capacity);
        goto fail;
    }
    r->calls = calloc(cfg->max_connections, sizeof(*r->calls));
    r->tbuf = calloc(TRADES_LIMIT_MAX, sizeof(*r->tbuf));
    if (r->calls == NULL || r->tbuf == NULL || tradecache_init(&r->tc, cfg->trade_cache) < 0) {
        rc = err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    static const link_ops_t ops = {on_event, on_done, on_log, on_attach, on_detach, on_lapped};
    if ((rc = link_create(&r->link, cfg->instance, "bourse-rest", cfg->max_inflight, &ops, r)) < 0) {
        err_set(err, rc, "engine link: %s", strerror(-rc));
        goto fail;
    }
    server_config_t sc = {.addr = cfg->listen, .port = (uint16_t)cfg->port, .max_connections = cfg->max_connections,
                          .limits = {cfg->header_limit_bytes, cfg->body_limit_bytes},
                          .read_timeout_ms = cfg->read_timeout_ms, .idle_timeout_ms = cfg->idle_timeout_ms};
    static const server_ops_t sops = {on_request, on_refused};
    if ((rc = server_open(&r->srv, &sc, &sops, r, err)) < 0)
        goto fail;
    *out = r;
    return 0;
fail:
    rest_close(r);
    return rc;
}

/* How long the next socket poll may wait, after `idle` passes without work.
 * With commands in flight the answers come through shared memory, which wakes
 * no file descriptor: backoff spins, yields, then sleeps in epoll (a socket
 * still wakes it) no longer than INFLIGHT_SLEEP_MAX_NS. With nothing in flight
 * backoff waits in epoll at once, idle_sleep_max_us at most: a request wakes
 * it, and the event log (trades for the cache) is read that often. */
static uint64_t idle_wait_ns(const rest_t *r, uint32_t idle, bool inflight, uint64_t now)
{
    uint64_t max = (uint64_t)r->cfg.idle_sleep_max_us * 1000;
    uint64_t ns;
    if (inflight)
        ns = idle_poll_ns(r->cfg.idle, idle, max < INFLIGHT_SLEEP_MAX_NS ? max : INFLIGHT_SLEEP_MAX_NS);
    else if (r->cfg.idle == IDLE_BACKOFF)
        ns = max;
    else
        ns = idle_poll_ns(r->cfg.idle, idle, max);
    uint64_t due = alog_due_in(&r->alog, now);
    if (r->ks_held > 0) {
        uint64_t resume = r->ks_retry_ns > now ? r->ks_retry_ns - now : 0;
        due = resume < due ? resume : due;
    }
    return due < ns ? due : ns;
}

static void keystore_metrics(rest_t *r)
{
    keywatch_stats_t st;
    keywatch_get_stats(r->kw, &st);
    r->metrics.keystore_checks = st.checks;
    r->metrics.keystore_reloads = st.reloads;
    r->metrics.keystore_held = st.deferred;
}

int rest_run(rest_t *r, const atomic_bool *stop)
{
    log_info("listening on %s port %u, engine instance %s, durable acks %s, idle %s", r->cfg.listen,
             server_port(r->srv), r->cfg.instance, r->cfg.durable_acks ? "on" : "off", idle_name(r->cfg.idle));
    uint32_t idle = 0, pass = 0;
    uint64_t next_house = 0;
    while (!atomic_load_explicit(stop, memory_order_relaxed)) {
        uint64_t now = clock_mono_ns();
        bool inflight = link_inflight(r->link) > 0;
        uint64_t wait = idle_wait_ns(r, idle, inflight, now);
        int work = 0;
        /* while answers are awaited, the sockets every few passes only */
        if (!inflight || wait > 0 || ++pass % SOCKETS_EVERY_PASSES == 0)
            work += server_poll(r->srv, wait);
        now = clock_mono_ns();
        work += link_poll(r->link, now);
        if (r->rd_dirty && !r->rd_querying)
            refdata_query(r);
        if (r->ks_held > 0 && now >= r->ks_retry_ns)
            resume_held(r, now);
        if (now >= next_house) {
            next_house = now + HOUSEKEEPING_NS;
            keywatch_poll(r->kw, now); /* revocations elsewhere: a key the copy has is not looked for */
            keystore_metrics(r);
            rest_pub_update(&r->pub, &r->metrics, server_connections(r->srv));
        }
        alog_flush(&r->alog, now, false);
        idle = work > 0 ? 0 : idle + (idle < UINT32_MAX);
    }
    alog_flush(&r->alog, clock_mono_ns(), true);
    log_info("stopping: %u connections open, %u commands in flight", server_connections(r->srv),
             link_inflight(r->link));
    return 0;
}

const struct rest_metrics *rest_get_metrics(const rest_t *r)
{
    return &r->metrics;
}

const char *rest_route_name(unsigned i)
{
    return i < rest_nroutes ? rest_routes[i].name : NULL;
}

void rest_close(rest_t *r)
{
    if (r == NULL)
        return;
    server_close(r->srv);
    link_destroy(r->link);
    for (uint32_t i = 0; r->calls != NULL && i < r->cfg.max_connections; i++) {
        collect_free(&r->calls[i].col);
        free(r->calls[i].held_req);
    }
    free(r->calls);
    free(r->tbuf);
    tradecache_free(&r->tc);
    auth_replay_destroy(r->replay);
    ratelimit_destroy(r->rl_key);
    ratelimit_destroy(r->rl_addr);
    keywatch_close(r->kw);
    refdata_free(&r->rd);
    refdata_free(&r->rd_next);
    jw_free(&r->jw);
    alog_close(&r->alog);
    free(r);
}
