/* ws.c - see ws.h. The loop, the engine side (the engine link's callbacks:
 * the reference-data and book queries, the event log dispatched once), and
 * fan-out. Client sessions are in session.c, order entry in entry.c, the
 * market state and its messages in market.c.
 *
 * Query tags are (serial << 16) | target: target 0 is the reference-data
 * query, k > 0 the book query of symbol k - 1; the serial tells the answer
 * of an abandoned query (a lap forgets them) from the current one. Client
 * commands' tags have WS_CMD_TAG_BIT set (ws_submit). */
#include "ws_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "log.h"
#include "page.h"

enum {
    TAG_TARGET_BITS = 16,
    SYMS_MAX = (1 << TAG_TARGET_BITS) - 2,
};
_Static_assert((int)WS_NAME_MAX == (int)RD_NAME_MAX, "a symbol is copied from the reference data whole");
static const uint64_t NS_PER_MS = 1000000;
static const uint64_t HOUSEKEEPING_NS = 1000000000;

/* ---------------------------------------------------------------- lookups */

sym_t *ws_sym_by_id(ws_t *w, uint32_t instrument)
{
    if (w->last_sym < w->nsyms && w->syms[w->last_sym]->id == instrument)
        return w->syms[w->last_sym];
    for (uint32_t i = 0; i < w->nsyms; i++) {
        if (w->syms[i]->id == instrument) {
            w->last_sym = i;
            return w->syms[i];
        }
    }
    return NULL;
}

sym_t *ws_sym_by_name(ws_t *w, const char *symbol)
{
    for (uint32_t i = 0; i < w->nsyms; i++)
        if (strcmp(w->syms[i]->symbol, symbol) == 0)
            return w->syms[i];
    return NULL;
}

const rd_asset_t *ws_asset(const ws_t *w, uint32_t id)
{
    return refdata_asset(&w->rd, id);
}

bool ws_ready(const ws_t *w)
{
    if (!link_attached(w->link) || !w->refdata_loaded)
        return false;
    for (uint32_t i = 0; i < w->nsyms; i++)
        if (!w->syms[i]->book.ready)
            return false;
    return true;
}

static bool srv_ready(void *ctx)
{
    return ws_ready(ctx);
}

void ws_fanout(ws_t *w, const stream_t *st, const uint8_t *frame, size_t len)
{
    for (uint32_t i = 0; i < st->n; i++)
        wss_send(w->srv, st->subs[i], frame, len); /* an overflow closes that client alone */
    w->st.msgs_fanned += st->n;
}

/* ---------------------------------------------------------------- queries */

static uint64_t next_tag(ws_t *w, uint32_t target)
{
    return ++w->query_serial << TAG_TARGET_BITS | target;
}

static int send_query(ws_t *w, uint16_t type, const void *payload, uint16_t len, uint64_t tag, uint64_t now)
{
    rec_t cmd;
    memset(&cmd, 0, sizeof(cmd));
    cmd.type = type;
    cmd.len = len;
    if (len)
        memcpy(cmd.payload, payload, len);
    return link_send(w->link, &cmd, tag, now + w->cfg.query_timeout_ms * NS_PER_MS, false);
}

static void refdata_query(ws_t *w, uint64_t now)
{
    uint64_t tag = next_tag(w, 0);
    refdata_free(&w->rd_next);
    if (send_query(w, CMD_QUERY_REFDATA, NULL, 0, tag, now) == 0) {
        w->refdata_tag = tag;
        w->refdata_dirty = false;
    }
}

static void book_query(ws_t *w, uint32_t k, uint64_t now)
{
    sym_t *s = w->syms[k];
    cmd_query_book_t q = {.instrument = s->id, .depth = QUERY_DEPTH_MAX};
    uint64_t tag = next_tag(w, k + 1);
    replica_clear(&s->next);
    if (send_query(w, CMD_QUERY_BOOK, &q, sizeof(q), tag, now) == 0)
        s->query_tag = tag;
}

/* Queries that are due: reference data first, then every book not built.
 * One unanswered in query_timeout_ms is given up (on_done) and sent again. */
static void queries(ws_t *w, uint64_t now)
{
    if (!link_attached(w->link))
        return;
    if (w->refdata_tag == 0 && (w->refdata_dirty || !w->refdata_loaded))
        refdata_query(w, now);
    if (!w->refdata_loaded)
        return;
    for (uint32_t k = 0; k < w->nsyms; k++) {
        sym_t *s = w->syms[k];
        if (!s->book.ready && s->query_tag == 0)
            book_query(w, k, now);
    }
}

static int grow(void **p, uint32_t *cap, uint32_t n, size_t size)
{
    if (n < *cap)
        return 0;
    uint32_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, (size_t)c * size);
    if (q == NULL)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* The reference data answer is complete (refdata.c checked each asset and
 * instrument): it replaces the old one, and its instruments update their
 * symbol or become new symbols. */
static void refdata_done(ws_t *w)
{
    refdata_move(&w->rd, &w->rd_next);
    uint32_t added = 0;
    for (uint32_t i = 0; i < w->rd.ninst; i++) {
        const rd_instrument_t *in = &w->rd.inst[i];
        sym_t *s = ws_sym_by_id(w, in->id);
        if (s == NULL) {
            if (w->nsyms >= SYMS_MAX || grow((void **)&w->syms, &w->cap_syms, w->nsyms, sizeof(*w->syms)) < 0)
                continue;
            s = calloc(1, sizeof(*s));
            if (s == NULL || market_sym_init(s, &w->cfg) < 0) {
                free(s);
                continue;
            }
            s->id = in->id;
            w->syms[w->nsyms++] = s;
            added++;
        }
        memcpy(s->symbol, in->symbol, sizeof(s->symbol));
        s->base = in->base;
        s->quote = in->quote;
        s->price_scale = in->price_scale;
        s->qty_scale = in->qty_scale;
        s->tick = in->tick;
        s->lot = in->lot;
        s->halted = in->halted;
    }
    if (!w->refdata_loaded || added)
        log_info("reference data: %u assets, %u instruments (%u new)", w->rd.nassets, w->nsyms, added);
    w->refdata_loaded = true;
}

/* An event of one of our queries. */
static void query_event(ws_t *w, uint64_t tag, const rec_t *ev)
{
    uint32_t target = (uint32_t)(tag & ((1u << TAG_TARGET_BITS) - 1));
    if (target == 0) {
        if (tag != w->refdata_tag)
            return;
        refdata_add_event(&w->rd_next, ev);
        if (ev->flags & REC_LAST) {
            w->refdata_tag = 0;
            if (ev->type == EVT_Q_END)
                refdata_done(w);
            else
                w->refdata_dirty = true;
        }
        return;
    }
    if (target - 1 >= w->nsyms)
        return;
    sym_t *s = w->syms[target - 1];
    if (tag != s->query_tag)
        return;
    if (ev->type == EVT_Q_LEVEL && ev->len >= sizeof(evt_book_t)) {
        evt_book_t b;
        memcpy(&b, ev->payload, sizeof(b));
        replica_set(&s->next, b.side, b.price, b.qty, b.orders);
    }
    if (!(ev->flags & REC_LAST))
        return;
    s->query_tag = 0;
    if (ev->type != EVT_Q_END) {
        log_warn("book query of %s refused; retrying", s->symbol);
        return;
    }
    /* the answer is the book at its cmd_seq: deltas of later commands go on top */
    replica_t old = s->book;
    s->book = s->next;
    s->next = old;
    s->book.cmd_seq = ev->cmd_seq;
    s->book.ready = true;
    s->ts_ns = ev->ts_ns;
    s->cmd_seq = ev->cmd_seq;
    s->nchg = 0;
    w->st.snapshots++;
    market_book_reset(w, s);
}

/* A query given up: unanswered in time (-ETIMEDOUT) or the engine gone. */
static void query_failed(ws_t *w, uint64_t tag, int status)
{
    uint32_t target = (uint32_t)(tag & ((1u << TAG_TARGET_BITS) - 1));
    if (target == 0) {
        if (tag != w->refdata_tag)
            return;
        if (status == -ETIMEDOUT)
            log_warn("reference data query unanswered in %u ms: sending it again", w->cfg.query_timeout_ms);
        w->refdata_tag = 0;
    } else if (target - 1 < w->nsyms && w->syms[target - 1]->query_tag == tag) {
        w->syms[target - 1]->query_tag = 0;
    }
}

/* ---------------------------------------------------------------- events */

static void touch(ws_t *w, sym_t *s)
{
    if (!s->touched) {
        s->touched = true;
        w->touched[w->ntouched++] = (uint32_t)(s->id); /* resolved again at flush */
    }
}

int ws_submit(ws_t *w, rec_t *cmd, uint32_t session_index, uint64_t *tag)
{
    *tag = UINT64_C(1) << WS_CMD_TAG_BIT | (++w->cmd_serial & ((UINT64_C(1) << 43) - 1)) << WS_CMD_INDEX_BITS |
           session_index;
    int rc = link_send(w->link, cmd, *tag, clock_mono_ns() + w->cfg.query_timeout_ms * NS_PER_MS, true);
    return rc == -EAGAIN || rc == -EBUSY ? -EAGAIN : rc < 0 ? -ENOTCONN : 0;
}

/* An event as the streams see it, whoever caused it: books, trades, private
 * updates; the command's last event sends what it changed. */
static void public_event(ws_t *w, const rec_t *ev)
{
    switch (ev->type) {
    case EVT_BOOK: {
        if (ev->len < sizeof(evt_book_t))
            break;
        evt_book_t b;
        memcpy(&b, ev->payload, sizeof(b));
        sym_t *s = ws_sym_by_id(w, b.instrument);
        if (s != NULL && s->book.ready && ev->cmd_seq > s->book.cmd_seq) { /* after its snapshot */
            market_book_event(w, s, ev, &b);
            touch(w, s);
        }
        break;
    }
    case EVT_TRADE: {
        if (ev->len < sizeof(evt_trade_t))
            break;
        evt_trade_t t;
        memcpy(&t, ev->payload, sizeof(t));
        sym_t *s = ws_sym_by_id(w, t.instrument);
        if (s != NULL) {
            market_trade_event(w, s, ev, &t);
            touch(w, s);
        }
        session_private_event(w, ev);
        break;
    }
    case EVT_ACCEPTED:
    case EVT_CANCELLED:
    case EVT_REPLACED:
    case EVT_REJECTED:
    case EVT_BALANCE:
        session_private_event(w, ev);
        break;
    case EVT_ADMIN:
        /* assets, instruments and halts may have changed: the echo does not say which */
        w->refdata_dirty = true;
        break;
    default:
        break;
    }
    if (ev->flags & REC_LAST) {
        for (uint32_t i = 0; i < w->ntouched; i++) {
            sym_t *s = ws_sym_by_id(w, w->touched[i]);
            if (s != NULL) {
                s->touched = false;
                market_flush(w, s, false);
            }
        }
        w->ntouched = 0;
    }
}

/* The refusal of a query of ours that came after we gave the query up: no
 * client's business. (Its other answers, EVT_Q_*, no stream reads.) */
static bool late_query_refusal(const ws_t *w, const rec_t *ev)
{
    if (ev->type != EVT_REJECTED || ev->len < sizeof(evt_rejected_t) ||
        ev->src != (uint16_t)link_client(w->link)->slot)
        return false;
    evt_rejected_t r;
    memcpy(&r, ev->payload, sizeof(r));
    return r.cmd_type == CMD_QUERY_BOOK || r.cmd_type == CMD_QUERY_REFDATA;
}

/* Every event of the log; those of our own commands come to on_event. */
static void on_log(void *ctx, const rec_t *ev, bool own)
{
    ws_t *w = ctx;
    if (!own && !late_query_refusal(w, ev))
        public_event(w, ev);
}

static void on_event(void *ctx, uint64_t tag, const rec_t *ev)
{
    ws_t *w = ctx;
    if (!(tag >> WS_CMD_TAG_BIT)) {
        query_event(w, tag, ev); /* a query: it changes nothing */
        return;
    }
    entry_event(w, tag, ev); /* a client's order: answered first, and public like any other */
    public_event(w, ev);
}

static void on_done(void *ctx, uint64_t tag, int status, uint64_t cmd_seq)
{
    ws_t *w = ctx;
    (void)cmd_seq;
    if (tag >> WS_CMD_TAG_BIT)
        entry_done(w, tag, status);
    else if (status != 0)
        query_failed(w, tag, status); /* an answered query's last event did the rest */
}

/* Events were lost (lapped, or the engine went away): every replica is
 * rebuilt from a new snapshot; the other streams skip a number. */
static void lost_events(ws_t *w)
{
    for (uint32_t i = 0; i < w->nsyms; i++) {
        sym_t *s = w->syms[i];
        replica_clear(&s->book);
        s->query_tag = 0;
        s->nchg = 0;
        s->touched = false;
        market_gap(w, s);
    }
    w->ntouched = 0;
    w->refdata_tag = 0;
    w->refdata_dirty = true;
    session_private_gap(w);
}

static void on_attach(void *ctx)
{
    ws_t *w = ctx;
    w->refdata_loaded = false;
    w->refdata_tag = 0;
    queries(w, clock_mono_ns());
}

static void on_detach(void *ctx, const char *why)
{
    ws_t *w = ctx;
    (void)why; /* the link logged it */
    w->refdata_loaded = false;
    lost_events(w);
    entry_fail(w);
}

static void on_lapped(void *ctx, uint64_t skipped)
{
    ws_t *w = ctx;
    log_warn("event log lapped this gateway: %llu events skipped; books rebuild from snapshots",
             (unsigned long long)skipped);
    lost_events(w);
}

/* Conflated book updates go out on a timer. */
static void conflate_tick(ws_t *w, uint64_t now)
{
    if (!w->cfg.conflation || now < w->next_conflate_ns)
        return;
    w->next_conflate_ns = now + w->cfg.conflation_interval_ms * NS_PER_MS;
    for (uint32_t i = 0; i < w->nsyms; i++)
        if (w->syms[i]->nchg > 0)
            market_flush(w, w->syms[i], true);
}

/* ---------------------------------------------------------------- open, run, close */

int ws_open(ws_t **out, const ws_config_t *cfg, err_t *err)
{
    ws_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    w->cfg = *cfg;
    refdata_init(&w->rd);
    refdata_init(&w->rd_next);
    jw_init_room(&w->jw, WS_SERVER_HDR_MAX);
    int rc;
    if ((rc = ws_config_check(cfg, err)) < 0)
        goto fail;
    if ((rc = keywatch_open(&w->kw, w->cfg.keystore, w->cfg.master_key, NULL, clock_mono_ns(), err)) < 0)
        goto fail;
    uint64_t seed;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
        rc = err_set(err, -EIO, "getrandom: %s", strerror(errno));
        goto fail;
    }
    rl_config_t rc_cfg = {.rate_per_s = cfg->msg_rate_per_s, .burst = cfg->msg_burst,
                          .capacity = cfg->max_connections < 16 ? 16 : cfg->max_connections, .seed = seed};
    if (ratelimit_create(&w->rl, &rc_cfg) < 0) {
        rc = err_set(err, -EINVAL, "message rate limit: msg_rate_per_s or msg_burst out of range");
        goto fail;
    }
    if (auth_replay_create(&w->replay, cfg->replay_capacity, cfg->recv_window_ms) < 0) {
        rc = err_set(err, -ENOMEM, "replay guard of %u signatures: out of memory", cfg->replay_capacity);
        goto fail;
    }
    w->sess = calloc(cfg->max_connections, sizeof(*w->sess));
    w->priv = calloc(cfg->max_connections, sizeof(*w->priv));
    w->touched = calloc(SYMS_MAX + 1, sizeof(*w->touched));
    if (w->sess == NULL || w->priv == NULL || w->touched == NULL) {
        rc = err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    /* room for every symbol's book query and every session's commands at once */
    static const link_ops_t lops = {on_event, on_done, on_log, on_attach, on_detach, on_lapped};
    if ((rc = link_create(&w->link, cfg->instance, "bourse-ws", LINK_INFLIGHT_MAX, &lops, w)) < 0) {
        err_set(err, rc, "engine link: %s", strerror(-rc));
        goto fail;
    }
    wss_config_t sc = {.addr = cfg->listen, .port = (uint16_t)cfg->port, .max_connections = cfg->max_connections,
                       .queue_max_messages = cfg->queue_max_messages, .queue_max_bytes = cfg->queue_max_bytes,
                       .max_message_bytes = cfg->max_message_bytes, .sndbuf_bytes = cfg->sndbuf_bytes,
                       .idle_timeout_ms = cfg->idle_timeout_ms, .ping_interval_ms = cfg->ping_interval_ms,
                       .handshake_timeout_ms = cfg->handshake_timeout_ms, .close_timeout_ms = cfg->close_timeout_ms,
                       .page = ws_page, .page_len = ws_page_len};
    static const wss_ops_t ops = {session_on_open, session_on_text, session_on_close, srv_ready};
    if ((rc = wss_open(&w->srv, &sc, &ops, w, err)) < 0)
        goto fail;
    *out = w;
    return 0;
fail:
    ws_close(w);
    return rc;
}

int ws_run(ws_t *w, const atomic_bool *stop)
{
    log_info("listening on %s port %u (page http://%s:%u/, WebSocket /ws), engine instance %s, conflation %s, "
             "idle %s",
             w->cfg.listen, wss_port(w->srv), w->cfg.listen, wss_port(w->srv), w->cfg.instance,
             w->cfg.conflation ? "on" : "off", idle_name(w->cfg.idle));
    uint32_t idle = 0;
    uint64_t next_house = 0;
    while (!atomic_load_explicit(stop, memory_order_relaxed)) {
        uint64_t now = clock_mono_ns();
        int work = link_poll(w->link, now);
        conflate_tick(w, now);
        wss_flush(w->srv);
        uint64_t wait = work > 0 ? 0 : idle_poll_ns(w->cfg.idle, idle, (uint64_t)w->cfg.idle_sleep_max_us * 1000);
        if (!link_attached(w->link)) {
            uint64_t until = link_attach_wait_ns(w->link, now);
            wait = until < 50 * NS_PER_MS ? until : 50 * NS_PER_MS;
        }
        work += wss_poll(w->srv, wait);
        now = clock_mono_ns();
        if (now >= next_house) {
            next_house = now + HOUSEKEEPING_NS;
            keywatch_poll(w->kw, now); /* revocations: a key the copy has is not looked for */
            queries(w, now);
        } else if (w->refdata_dirty || (link_attached(w->link) && !ws_ready(w))) {
            queries(w, now);
        }
        idle = work > 0 ? 0 : idle + (idle < UINT32_MAX);
    }
    wss_stats_t ss;
    wss_get_stats(w->srv, &ss);
    link_stats_t ls;
    link_get_stats(w->link, &ls);
    log_info("stopping: %u connections open; %llu events read, %llu messages fanned out, %llu slow consumers "
             "closed",
             wss_connections(w->srv), (unsigned long long)ls.events, (unsigned long long)w->st.msgs_fanned,
             (unsigned long long)ss.slow_consumers);
    wss_shutdown(w->srv, 500);
    return 0;
}

void ws_close(ws_t *w)
{
    if (w == NULL)
        return;
    wss_destroy(w->srv);
    link_destroy(w->link);
    for (uint32_t i = 0; i < w->nsyms; i++) {
        market_sym_free(w->syms[i]);
        free(w->syms[i]);
    }
    for (uint32_t i = 0; w->sess != NULL && i < w->cfg.max_connections; i++)
        free(w->sess[i].subs);
    free(w->syms);
    free(w->sess);
    free(w->priv);
    free(w->touched);
    refdata_free(&w->rd);
    refdata_free(&w->rd_next);
    auth_replay_destroy(w->replay);
    ratelimit_destroy(w->rl);
    keywatch_close(w->kw);
    jw_free(&w->jw);
    free(w);
}
