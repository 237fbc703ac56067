/* ws.c - see ws.h. The loop, the engine side (attach with backoff, the
 * reference-data and book queries, the event log read once and dispatched),
 * and fan-out. Client sessions are in session.c, the market state and its
 * messages in market.c.
 *
 * Query refs are (serial << 16) | target: target 0 is the reference-data
 * query, k > 0 the book query of symbol k - 1; the serial tells a late
 * answer to an abandoned query from the current one. */
#include "ws_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "page.h"

enum {
    REF_TARGET_BITS = 16,
    SYMS_MAX = (1 << REF_TARGET_BITS) - 2,
    POLL_BATCHES = 8,             /* event batches a pass, so sockets get their turn */
    SPIN_PASSES = IDLE_BACKOFF_SPINS,
    YIELD_PASSES = IDLE_BACKOFF_YIELDS,
};
static const uint64_t NS_PER_MS = 1000000;
static const uint64_t ATTACH_BACKOFF_MIN_NS = 50000000;   /* 50 ms */
static const uint64_t ATTACH_BACKOFF_MAX_NS = 1000000000; /* 1 s */
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

const asset_t *ws_asset(const ws_t *w, uint32_t id)
{
    for (uint32_t i = 0; i < w->nassets; i++)
        if (w->assets[i].id == id)
            return &w->assets[i];
    return NULL;
}

bool ws_ready(const ws_t *w)
{
    if (w->cl == NULL || !w->refdata_loaded)
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

static uint64_t next_ref(ws_t *w, uint32_t target)
{
    return ++w->ref_serial << REF_TARGET_BITS | target;
}

static int send_cmd(ws_t *w, uint16_t type, const void *payload, uint16_t len, uint64_t ref)
{
    rec_t cmd;
    memset(&cmd, 0, sizeof(cmd));
    cmd.type = type;
    cmd.len = len;
    cmd.ref = ref;
    if (len)
        memcpy(cmd.payload, payload, len);
    return client_send(w->cl, &cmd);
}

static void refdata_query(ws_t *w, uint64_t now)
{
    uint64_t ref = next_ref(w, 0);
    w->nassets_next = 0;
    w->ninst_next = 0;
    if (send_cmd(w, CMD_QUERY_REFDATA, NULL, 0, ref) == 0) {
        w->refdata_ref = ref;
        w->refdata_sent_ns = now;
        w->refdata_dirty = false;
    }
}

static void book_query(ws_t *w, uint32_t k, uint64_t now)
{
    sym_t *s = w->syms[k];
    cmd_query_book_t q = {.instrument = s->id, .depth = QUERY_DEPTH_MAX};
    uint64_t ref = next_ref(w, k + 1);
    replica_clear(&s->next);
    if (send_cmd(w, CMD_QUERY_BOOK, &q, sizeof(q), ref) == 0) {
        s->query_ref = ref;
        s->query_sent_ns = now;
    }
}

/* Queries that are due: reference data first, then every book not built. */
static void queries(ws_t *w, uint64_t now)
{
    if (w->cl == NULL)
        return;
    uint64_t tmo = w->cfg.query_timeout_ms * NS_PER_MS;
    if (w->refdata_ref != 0 && now - w->refdata_sent_ns > tmo) {
        log_warn("reference data query unanswered in %u ms: sending it again", w->cfg.query_timeout_ms);
        w->refdata_ref = 0;
    }
    if (w->refdata_ref == 0 && (w->refdata_dirty || !w->refdata_loaded))
        refdata_query(w, now);
    if (!w->refdata_loaded)
        return;
    for (uint32_t k = 0; k < w->nsyms; k++) {
        sym_t *s = w->syms[k];
        if (s->book.ready)
            continue;
        if (s->query_ref != 0 && now - s->query_sent_ns > tmo)
            s->query_ref = 0;
        if (s->query_ref == 0)
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

static bool name_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == 0 || n == cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

/* The reference data answer is complete: assets replace the old ones,
 * instruments update their symbol or become new symbols. */
static void refdata_done(ws_t *w)
{
    asset_t *a = w->assets;
    uint32_t ca = w->cap_assets;
    w->assets = w->assets_next;
    w->nassets = w->nassets_next;
    w->cap_assets = w->cap_assets_next;
    w->assets_next = a;
    w->cap_assets_next = ca;
    w->nassets_next = 0;
    uint32_t added = 0;
    for (uint32_t i = 0; i < w->ninst_next; i++) {
        const cmd_add_instrument_t *d = &w->inst_next[i].def;
        const asset_t *base = ws_asset(w, d->base), *quote = ws_asset(w, d->quote);
        if (base == NULL || quote == NULL || !name_ok(d->symbol, sizeof(d->symbol)) || d->tick_size <= 0 ||
            d->lot_size <= 0)
            continue;
        sym_t *s = ws_sym_by_id(w, d->instrument);
        if (s == NULL) {
            if (w->nsyms >= SYMS_MAX || grow((void **)&w->syms, &w->cap_syms, w->nsyms, sizeof(*w->syms)) < 0)
                continue;
            s = calloc(1, sizeof(*s));
            if (s == NULL || market_sym_init(s, &w->cfg) < 0) {
                free(s);
                continue;
            }
            s->id = d->instrument;
            w->syms[w->nsyms++] = s;
            added++;
        }
        memcpy(s->symbol, d->symbol, sizeof(s->symbol));
        s->symbol[WS_NAME_MAX - 1] = '\0';
        s->base = d->base;
        s->quote = d->quote;
        s->price_scale = quote->decimals;
        s->qty_scale = base->decimals;
        s->tick = d->tick_size;
        s->lot = d->lot_size;
        s->halted = w->inst_next[i].halted != 0;
    }
    if (!w->refdata_loaded || added)
        log_info("reference data: %u assets, %u instruments (%u new)", w->nassets, w->nsyms, added);
    w->refdata_loaded = true;
}

/* An event of one of our queries. */
static void own_event(ws_t *w, const rec_t *ev)
{
    uint32_t target = (uint32_t)(ev->ref & ((1u << REF_TARGET_BITS) - 1));
    if (target == 0) {
        if (ev->ref != w->refdata_ref)
            return;
        if (ev->type == EVT_Q_ASSET && ev->len >= sizeof(cmd_add_asset_t)) {
            cmd_add_asset_t a;
            memcpy(&a, ev->payload, sizeof(a));
            if (name_ok(a.name, sizeof(a.name)) && a.decimals <= 18 &&
                grow((void **)&w->assets_next, &w->cap_assets_next, w->nassets_next, sizeof(asset_t)) == 0) {
                asset_t *x = &w->assets_next[w->nassets_next++];
                x->id = a.asset;
                x->decimals = a.decimals;
                memcpy(x->name, a.name, sizeof(x->name));
                x->name[WS_NAME_MAX - 1] = '\0';
            }
        } else if (ev->type == EVT_Q_INSTRUMENT && ev->len >= sizeof(evt_instrument_t)) {
            if (grow((void **)&w->inst_next, &w->cap_inst_next, w->ninst_next, sizeof(evt_instrument_t)) == 0)
                memcpy(&w->inst_next[w->ninst_next++], ev->payload, sizeof(evt_instrument_t));
        }
        if (ev->flags & REC_LAST) {
            w->refdata_ref = 0;
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
    if (ev->ref != s->query_ref)
        return;
    if (ev->type == EVT_Q_LEVEL && ev->len >= sizeof(evt_book_t)) {
        evt_book_t b;
        memcpy(&b, ev->payload, sizeof(b));
        replica_set(&s->next, b.side, b.price, b.qty, b.orders);
    }
    if (!(ev->flags & REC_LAST))
        return;
    s->query_ref = 0;
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

/* ---------------------------------------------------------------- events */

static void touch(ws_t *w, sym_t *s)
{
    if (!s->touched) {
        s->touched = true;
        w->touched[w->ntouched++] = (uint32_t)(s->id); /* resolved again at flush */
    }
}

int ws_submit(ws_t *w, rec_t *cmd, uint32_t session_index)
{
    if (w->cl == NULL)
        return -ENOTCONN;
    cmd->ref = UINT64_C(1) << WS_CMD_REF_BIT | (++w->cmd_serial & ((UINT64_C(1) << 43) - 1)) << WS_CMD_INDEX_BITS |
               session_index;
    cmd->ts_ns = 0;
    int rc = client_send(w->cl, cmd);
    return rc == -EAGAIN ? -EAGAIN : rc < 0 ? -ENOTCONN : 0;
}

static void dispatch(ws_t *w, const rec_t *ev)
{
    bool own = w->cl != NULL && ev->src == (uint16_t)w->cl->slot;
    if (own && !(ev->ref >> WS_CMD_REF_BIT)) {
        own_event(w, ev); /* a query: it changes nothing */
    } else {
        if (own)
            entry_event(w, ev); /* a client's order: answered, and public like any other */
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

/* Events were lost (lapped, or the engine went away): every replica is
 * rebuilt from a new snapshot; the other streams skip a number. */
static void lost_events(ws_t *w)
{
    for (uint32_t i = 0; i < w->nsyms; i++) {
        sym_t *s = w->syms[i];
        replica_clear(&s->book);
        s->query_ref = 0;
        s->nchg = 0;
        s->touched = false;
        market_gap(w, s);
    }
    w->ntouched = 0;
    w->refdata_ref = 0;
    w->refdata_dirty = true;
    session_private_gap(w);
}

static void detach(ws_t *w, uint64_t now, const char *why)
{
    client_detach(w->cl);
    w->cl = NULL;
    w->st.detaches++;
    w->refdata_loaded = false;
    lost_events(w);
    entry_fail(w);
    w->backoff_ns = ATTACH_BACKOFF_MIN_NS;
    w->next_attach_ns = now + w->backoff_ns;
    log_warn("engine %s: %s; detached, attaching again", w->cfg.instance, why);
}

static void try_attach(ws_t *w, uint64_t now)
{
    err_t err = {0};
    if (client_attach(&w->cl, w->cfg.instance, "bourse-ws", CLIENT_SEND | CLIENT_RECV, &err) < 0) {
        w->cl = NULL;
        if (!w->attach_logged)
            log_warn("cannot attach to engine %s (%s); retrying", w->cfg.instance, err.msg);
        w->attach_logged = true;
        w->next_attach_ns = now + w->backoff_ns;
        w->backoff_ns = w->backoff_ns * 2 > ATTACH_BACKOFF_MAX_NS ? ATTACH_BACKOFF_MAX_NS : w->backoff_ns * 2;
        return;
    }
    w->attach_logged = false;
    w->st.attaches++;
    log_info("attached to engine %s: command ring %d, reader %d", w->cfg.instance, w->cl->slot, w->cl->reader);
    w->refdata_loaded = false;
    w->refdata_ref = 0;
    queries(w, now);
}

static int engine_poll(ws_t *w, uint64_t now)
{
    if (w->cl == NULL) {
        if (now >= w->next_attach_ns)
            try_attach(w, now);
        return 0;
    }
    int work = 0;
    for (int b = 0; b < POLL_BATCHES && w->cl != NULL; b++) {
        int64_t n = client_poll(w->cl, w->batch, sizeof(w->batch) / sizeof(w->batch[0]));
        if (n == -EOVERFLOW) {
            uint64_t skipped = client_resync(w->cl);
            w->st.laps++;
            log_warn("event log lapped this gateway: %llu events skipped; books rebuild from snapshots",
                     (unsigned long long)skipped);
            lost_events(w);
            work++;
            continue;
        }
        if (n < 0) {
            detach(w, now, n == -ESTALE ? "engine stopped or died" : "event log unreadable");
            return work + 1;
        }
        for (int64_t i = 0; i < n; i++)
            dispatch(w, &w->batch[i]);
        w->st.events += (uint64_t)n;
        work += (int)n;
        if ((size_t)n < sizeof(w->batch) / sizeof(w->batch[0]))
            break;
    }
    return work;
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

/* ---------------------------------------------------------------- key store */

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* bourse-rest's lock on its store ("<keystore>.lock"), so that a key being
 * created is never read half-written. */
static int keystore_lock(const char *path, err_t *err)
{
    char lp[WS_PATH_MAX + 8];
    snprintf(lp, sizeof(lp), "%s.lock", path);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, -errno, "key store lock %s: %s", lp, strerror(errno));
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return err_set(err, -e, "key store lock %s: %s", lp, strerror(e));
        }
    }
    return fd;
}

static int keystore_load(ws_t *w, keystore_t **ks, struct stat *st, err_t *err)
{
    int lock = keystore_lock(w->cfg.keystore, err);
    if (lock < 0)
        return lock;
    if (stat(w->cfg.keystore, st) < 0)
        memset(st, 0, sizeof(*st));
    int rc = keystore_open(ks, w->cfg.keystore, w->cfg.master_key, err);
    close(lock);
    return rc;
}

bool ws_keystore_refresh(ws_t *w, uint64_t now_ns, uint64_t min_interval_ns)
{
    if (now_ns - w->ks_checked_ns < min_interval_ns)
        return false;
    w->ks_checked_ns = now_ns;
    struct stat st;
    if (stat(w->cfg.keystore, &st) < 0)
        memset(&st, 0, sizeof(st));
    if (same_file(&st, &w->ks_stat))
        return false;
    keystore_t *ks;
    err_t err = {0};
    if (keystore_load(w, &ks, &st, &err) < 0) {
        log_warn("key store changed but cannot be read, keeping the loaded keys: %s", err.msg);
        w->ks_stat = st;
        return false;
    }
    keystore_close(w->ks);
    w->ks = ks;
    w->ks_stat = st;
    log_info("key store reloaded: %zu keys", keystore_list(ks, NULL, 0));
    return true;
}

/* ---------------------------------------------------------------- open, run, close */

int ws_open(ws_t **out, const ws_config_t *cfg, err_t *err)
{
    ws_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    w->cfg = *cfg;
    w->backoff_ns = ATTACH_BACKOFF_MIN_NS;
    jw_init_room(&w->jw, WS_SERVER_HDR_MAX);
    int rc;
    if ((rc = ws_config_check(cfg, err)) < 0)
        goto fail;
    if ((rc = keystore_load(w, &w->ks, &w->ks_stat, err)) < 0)
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

/* How long the loop may wait after `idle` passes without work. */
static uint64_t idle_wait_ns(const ws_t *w, uint32_t idle)
{
    switch (w->cfg.idle) {
    case IDLE_SPIN:
        return 0;
    case IDLE_YIELD:
        if (idle > 0)
            sched_yield();
        return 0;
    case IDLE_BACKOFF:
        break;
    }
    if (idle < SPIN_PASSES)
        return 0;
    if (idle < SPIN_PASSES + YIELD_PASSES) {
        sched_yield();
        return 0;
    }
    uint32_t k = idle - SPIN_PASSES - YIELD_PASSES;
    uint64_t ns = k >= 30 ? UINT64_MAX : (uint64_t)IDLE_SLEEP_MIN_NS << k;
    uint64_t max = (uint64_t)w->cfg.idle_sleep_max_us * 1000;
    return ns < max ? ns : max;
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
        int work = engine_poll(w, now);
        conflate_tick(w, now);
        wss_flush(w->srv);
        uint64_t wait = work > 0 ? 0 : idle_wait_ns(w, idle);
        if (w->cl == NULL) {
            uint64_t until = w->next_attach_ns > now ? w->next_attach_ns - now : 0;
            wait = until < 50 * NS_PER_MS ? until : 50 * NS_PER_MS;
        }
        work += wss_poll(w->srv, wait);
        now = clock_mono_ns();
        if (w->npending > 0)
            entry_tick(w, now);
        if (now >= next_house) {
            next_house = now + HOUSEKEEPING_NS;
            ws_keystore_refresh(w, now, 0);
            queries(w, now);
        } else if (w->refdata_dirty || (w->cl != NULL && !ws_ready(w))) {
            queries(w, now);
        }
        idle = work > 0 ? 0 : idle + (idle < UINT32_MAX);
    }
    wss_stats_t ss;
    wss_get_stats(w->srv, &ss);
    log_info("stopping: %u connections open; %llu events read, %llu messages fanned out, %llu slow consumers "
             "closed",
             wss_connections(w->srv), (unsigned long long)w->st.events, (unsigned long long)w->st.msgs_fanned,
             (unsigned long long)ss.slow_consumers);
    wss_shutdown(w->srv, 500);
    return 0;
}

void ws_close(ws_t *w)
{
    if (w == NULL)
        return;
    wss_destroy(w->srv);
    if (w->cl != NULL)
        client_detach(w->cl);
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
    free(w->assets);
    free(w->assets_next);
    free(w->inst_next);
    auth_replay_destroy(w->replay);
    ratelimit_destroy(w->rl);
    keystore_close(w->ks);
    jw_free(&w->jw);
    free(w);
}
