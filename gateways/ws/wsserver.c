/* wsserver.c - see wsserver.h.
 *
 * A connection's send queue is one byte buffer [head, len) of complete
 * frames plus a ring of each frame's end, as absolute stream positions (the
 * buffer's start is at `base`), so a partial send() tells how many frames
 * are still pending and which frame is in flight. Sockets are edge-triggered
 * for both directions: no epoll_ctl() per write. */
#include "wsserver_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

static conn_t *conn_of(const wss_t *s, wsc_t id)
{
    uint32_t i = WSC_INDEX(id);
    if (i >= s->cfg.max_connections)
        return NULL;
    conn_t *c = &s->conns[i];
    return c->state != C_FREE && c->gen == (uint32_t)(id >> 32) ? c : NULL;
}

/* ---------------------------------------------------------------- lifecycle */

void wss_conn_free(wss_t *s, conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    free(c->in);
    free(c->msg);
    free(c->out);
    free(c->ends);
    /* list memberships outlive the slot: a stale entry then finds a free or
     * a new connection, which both lists tolerate, and is never doubled */
    uint32_t gen = c->gen;
    bool dirty = c->dirty, again = c->again;
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->gen = gen + 1 ? gen + 1 : 1;
    c->dirty = dirty;
    c->again = again;
    s->free_idx[s->nfree++] = (uint32_t)(c - s->conns);
    s->nconns--;
    s->st.closed++;
}

/* The on_close owed to an opened connection, delivered by wss_poll. Until
 * then the slot is kept, so that the handle the gateway holds stays its. */
static void owe_close(wss_t *s, conn_t *c, uint16_t code, const char *why)
{
    if (c->close_code == 0) {
        c->close_code = code;
        if (why != c->close_why) /* a close already recorded passes its own reason back */
            snprintf(c->close_why, sizeof(c->close_why), "%s", why);
    }
    if (c->notify) {
        c->notify = false;
        c->listed = true;
        s->closed[s->nclosed++] = (uint32_t)(c - s->conns);
    }
}

/* Ends the connection now: the socket closes; the slot goes once its
 * on_close was delivered. */
void wss_conn_drop(wss_t *s, conn_t *c, uint16_t code, const char *why)
{
    owe_close(s, c, code, why);
    if (!c->listed) {
        wss_conn_free(s, c);
        return;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->state = C_CLOSING;
    c->head = c->len = 0;
    c->ends_n = 0;
}

/* ---------------------------------------------------------------- send queue */

static inline uint32_t ring_pending(const conn_t *c)
{
    return c->ends_n;
}

static int ring_push(wss_t *s, conn_t *c, uint64_t end)
{
    if (c->ends_n == c->ends_cap) {
        if (c->ends_cap >= s->ring_max)
            return -ENOBUFS;
        uint32_t cap = c->ends_cap ? c->ends_cap * 2 : 16;
        if (cap > s->ring_max)
            cap = s->ring_max;
        uint64_t *e = malloc((size_t)cap * sizeof(*e));
        if (e == NULL)
            return -ENOMEM;
        for (uint32_t i = 0; i < c->ends_n; i++)
            e[i] = c->ends[(c->ends_head + i) % c->ends_cap];
        free(c->ends);
        c->ends = e;
        c->ends_cap = cap;
        c->ends_head = 0;
    }
    c->ends[(c->ends_head + c->ends_n) % c->ends_cap] = end;
    c->ends_n++;
    return 0;
}

bool wss_reserve_out(conn_t *c, size_t n, size_t limit)
{
    if (c->len + n <= c->cap)
        return true;
    if (c->head > 0) { /* compact: move the pending bytes to the front */
        memmove(c->out, c->out + c->head, c->len - c->head);
        c->base += c->head;
        c->len -= c->head;
        c->head = 0;
        if (c->len + n <= c->cap)
            return true;
    }
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + n)
        cap *= 2;
    if (cap > limit)
        cap = limit;
    if (cap < c->len + n)
        return false;
    uint8_t *p = realloc(c->out, cap);
    if (p == NULL)
        return false;
    c->out = p;
    c->cap = cap;
    return true;
}

void wss_mark_dirty(wss_t *s, conn_t *c)
{
    if (!c->dirty) {
        c->dirty = true;
        s->dirty[s->ndirty++] = (uint32_t)(c - s->conns);
    }
}

/* Appends a frame. control: a ping, pong or close, allowed past the data
 * bounds (into the slack), so that a full queue can still say goodbye. */
int wss_enqueue(wss_t *s, conn_t *c, const uint8_t *p, size_t n, bool control)
{
    size_t pending = c->len - c->head;
    size_t limit = (size_t)s->cfg.queue_max_bytes + (control ? 4 * CLOSE_SLACK : 0);
    if (!control && (ring_pending(c) >= s->cfg.queue_max_messages || pending + n > s->cfg.queue_max_bytes))
        return -ENOBUFS;
    if (pending + n > limit || !wss_reserve_out(c, n, limit + (size_t)4 * CLOSE_SLACK))
        return -ENOBUFS;
    if (ring_push(s, c, c->base + c->len + n) < 0)
        return -ENOBUFS;
    memcpy(c->out + c->len, p, n);
    c->len += n;
    s->st.frames_out++;
    wss_mark_dirty(s, c);
    return 0;
}

/* Queues our close frame (once) and starts the closing timer. */
static void start_close(wss_t *s, conn_t *c, uint16_t code, const char *reason)
{
    if (c->state != C_OPEN)
        return;
    uint8_t f[2 + WS_CONTROL_MAX];
    size_t n = ws_close_frame(f, code, reason);
    c->state = C_CLOSING;
    c->deadline_ns = clock_mono_ns() + s->cfg.close_timeout_ms * NS_PER_MS;
    if (wss_enqueue(s, c, f, n, true) < 0) {
        wss_conn_drop(s, c, code, reason);
        return;
    }
    c->close_out = true;
    owe_close(s, c, code, reason);
}

/* The queue overflowed: keep the frame in flight (a peer must never see half
 * a frame followed by another), drop the rest, say 4001. */
static void overflow(wss_t *s, conn_t *c)
{
    uint64_t sent = c->base + c->head, keep = sent;
    if (c->ends_n > 0 && sent > c->done_end)
        keep = c->ends[c->ends_head];
    c->len = (size_t)(keep - c->base);
    c->ends_n = c->ends_n > 0 && keep > sent ? 1 : 0;
    s->st.slow_consumers++;
    char peer[64] = "?";
    if (c->peer.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&c->peer)->sin_addr, peer, sizeof(peer));
    else if (c->peer.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&c->peer)->sin6_addr, peer, sizeof(peer));
    log_warn("client %llx (%s): send queue overflow at %u messages, %zu bytes: closing with %d slow-consumer",
             (unsigned long long)conn_id(s, c), peer, s->cfg.queue_max_messages, (size_t)(sent - c->base),
             WS_CLOSE_SLOW_CONSUMER);
    start_close(s, c, WS_CLOSE_SLOW_CONSUMER, "send queue overflow: the client reads too slowly");
}

int wss_send(wss_t *s, wsc_t id, const uint8_t *frame, size_t len)
{
    conn_t *c = conn_of(s, id);
    if (c == NULL || c->state != C_OPEN)
        return -ENOENT;
    if (wss_enqueue(s, c, frame, len, false) == 0)
        return 0;
    overflow(s, c);
    return -ENOBUFS;
}

uint32_t wss_queued(const wss_t *s, wsc_t id)
{
    conn_t *c = conn_of(s, id);
    return c ? ring_pending(c) : 0;
}

/* Writes what it can. Returns false when the connection was dropped. */
static bool conn_write(wss_t *s, conn_t *c)
{
    while (c->head < c->len && c->fd >= 0) {
        ssize_t n = send(c->fd, c->out + c->head, c->len - c->head, MSG_NOSIGNAL | MSG_DONTWAIT);
        s->st.send_calls++;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            wss_conn_drop(s, c, 1006, "send failed");
            return false;
        }
        c->head += (size_t)n;
        s->st.bytes_out += (uint64_t)n;
    }
    uint64_t sent = c->base + c->head;
    while (c->ends_n > 0 && c->ends[c->ends_head] <= sent) {
        c->done_end = c->ends[c->ends_head];
        c->ends_head = (c->ends_head + 1) % c->ends_cap;
        c->ends_n--;
    }
    if (c->head == c->len) {
        c->base += c->len;
        c->head = c->len = 0;
        if (c->state == C_HTTP_DONE) {
            wss_conn_free(s, c);
            return false;
        }
        if (c->state == C_CLOSING && c->close_out && !c->wr_shut) {
            /* our close frame is out: the client answers and the socket ends */
            c->wr_shut = true;
            if (c->close_rcvd) {
                wss_conn_drop(s, c, c->close_code, c->close_why);
                return false;
            }
            shutdown(c->fd, SHUT_WR);
        }
    }
    return true;
}

void wss_flush(wss_t *s)
{
    for (uint32_t i = 0; i < s->ndirty; i++) {
        conn_t *c = &s->conns[s->dirty[i]];
        c->dirty = false;
        if (c->state != C_FREE && c->fd >= 0)
            conn_write(s, c);
    }
    s->ndirty = 0;
}

void wss_close_conn(wss_t *s, wsc_t id, uint16_t code, const char *reason)
{
    conn_t *c = conn_of(s, id);
    if (c != NULL) {
        if (code == WS_CLOSE_FLOOD)
            s->st.flood_closes++;
        start_close(s, c, code, reason);
    }
}

/* ---------------------------------------------------------------- frames in */

static void protocol_close(wss_t *s, conn_t *c, uint16_t code, const char *why)
{
    s->st.protocol_closes++;
    c->broken = true;
    if (c->state == C_OPEN)
        start_close(s, c, code, why);
    else
        wss_conn_drop(s, c, code, why);
}

/* Handles the frames complete in c->in. Returns false when c was dropped. */
static bool frames_in(wss_t *s, conn_t *c)
{
    uint32_t pos = 0;
    while (!c->broken && (c->state == C_OPEN || (c->state == C_CLOSING && !c->close_rcvd))) {
        ws_frame_t f;
        uint16_t code;
        int h = ws_frame_decode(c->in + pos, c->in_len - pos, s->cfg.max_message_bytes, &f, &code);
        if (h < 0) {
            protocol_close(s, c, code, code == WS_CLOSE_TOO_BIG ? "message too big" : "protocol error");
            break;
        }
        if (h == 0 || c->in_len - pos - (uint32_t)h < f.len)
            break;
        uint8_t *p = c->in + pos + h;
        ws_unmask(p, (size_t)f.len, f.mask, 0);
        pos += (uint32_t)h + (uint32_t)f.len;
        if (c->state == C_CLOSING && f.opcode != WS_OP_CLOSE)
            continue; /* after our close, only the client's close matters */
        switch (f.opcode) {
        case WS_OP_PING: {
            uint8_t pong[2 + WS_CONTROL_MAX];
            size_t hl = ws_frame_header(pong, WS_OP_PONG, f.len);
            memcpy(pong + hl, p, (size_t)f.len);
            if (wss_enqueue(s, c, pong, hl + (size_t)f.len, true) < 0)
                overflow(s, c);
            break;
        }
        case WS_OP_PONG:
            break;
        case WS_OP_CLOSE: {
            uint16_t cc;
            bool ok = ws_close_parse(p, (size_t)f.len, &cc) == 0;
            c->close_rcvd = true;
            if (c->state == C_OPEN) {
                /* echo the code, as the RFC asks */
                start_close(s, c, ok ? (cc == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL : cc) : WS_CLOSE_PROTOCOL,
                            ok ? "" : "bad close frame");
                c->close_rcvd = true;
            } else if (c->wr_shut) {
                wss_conn_drop(s, c, c->close_code, c->close_why);
                return false;
            }
            break;
        }
        case WS_OP_BINARY:
        case WS_OP_TEXT:
        case WS_OP_CONT: {
            if ((f.opcode == WS_OP_CONT) != c->in_msg) {
                protocol_close(s, c, WS_CLOSE_PROTOCOL,
                               c->in_msg ? "a new message inside a fragmented one" : "continuation without a start");
                break;
            }
            if (f.opcode == WS_OP_BINARY) {
                protocol_close(s, c, WS_CLOSE_UNSUPPORTED, "binary messages are not accepted: send JSON text");
                break;
            }
            if (f.fin && !c->in_msg) { /* the common case: one frame, no copy */
                if (!ws_utf8_valid(p, (size_t)f.len)) {
                    protocol_close(s, c, WS_CLOSE_BAD_DATA, "text is not UTF-8");
                    break;
                }
                s->st.messages_in++;
                s->ops.on_text(s->ctx, conn_id(s, c), (const char *)p, (size_t)f.len);
                break;
            }
            if ((uint64_t)c->msg_len + f.len > s->cfg.max_message_bytes) {
                protocol_close(s, c, WS_CLOSE_TOO_BIG, "message too big");
                break;
            }
            if (c->msg_cap < s->cfg.max_message_bytes) {
                uint8_t *m = realloc(c->msg, s->cfg.max_message_bytes);
                if (m == NULL) {
                    protocol_close(s, c, WS_CLOSE_INTERNAL, "out of memory");
                    break;
                }
                c->msg = m;
                c->msg_cap = s->cfg.max_message_bytes;
            }
            memcpy(c->msg + c->msg_len, p, (size_t)f.len);
            c->msg_len += (uint32_t)f.len;
            c->in_msg = !f.fin;
            if (f.fin) {
                uint32_t n = c->msg_len;
                c->msg_len = 0;
                if (!ws_utf8_valid(c->msg, n)) {
                    protocol_close(s, c, WS_CLOSE_BAD_DATA, "text is not UTF-8");
                    break;
                }
                s->st.messages_in++;
                s->ops.on_text(s->ctx, conn_id(s, c), (const char *)c->msg, n);
            }
            break;
        }
        }
        if (c->state == C_FREE || c->fd < 0)
            return false;
    }
    if (c->state == C_FREE || c->fd < 0)
        return false;
    if (c->broken) {
        c->in_len = 0;
        return true;
    }
    if (pos > 0) {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
    }
    return true;
}

/* Reads what the socket has (up to a pass's share). */
static void conn_read(wss_t *s, conn_t *c)
{
    size_t got = 0;
    for (;;) {
        if (c->fd < 0 || c->state == C_FREE)
            return;
        uint32_t want = c->state == C_HTTP ? HTTP_HEAD_MAX : s->cfg.max_message_bytes + WS_FRAME_HDR_MAX;
        if (c->in_cap < want) {
            uint8_t *p = realloc(c->in, want);
            if (p == NULL) {
                wss_conn_drop(s, c, WS_CLOSE_INTERNAL, "out of memory");
                return;
            }
            c->in = p;
            c->in_cap = want;
        }
        if (c->in_len == c->in_cap) {
            /* a full buffer that is not a complete frame cannot be: the
             * frame decoder refuses longer frames before this */
            protocol_close(s, c, WS_CLOSE_PROTOCOL, "input buffer full");
            return;
        }
        if (got >= READ_PASS_MAX) {
            if (!c->again) {
                c->again = true;
                s->again[s->nagain++] = (uint32_t)(c - s->conns);
            }
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                wss_conn_drop(s, c, 1006, "read failed");
            return;
        }
        if (n == 0) {
            if (c->state == C_HTTP || c->state == C_HTTP_DONE)
                wss_conn_free(s, c);
            else
                wss_conn_drop(s, c, 1006, "connection closed");
            return;
        }
        got += (size_t)n;
        c->in_len += (uint32_t)n;
        c->last_rx_ns = clock_mono_ns();
        if (c->state == C_HTTP) {
            wss_http_request(s, c);
            if (c->state == C_HTTP)
                continue;
            if (c->state == C_HTTP_DONE) {
                c->in_len = 0;
                continue; /* drain until the answer is out */
            }
        }
        if (c->state == C_HTTP_DONE) {
            c->in_len = 0;
            continue;
        }
        if (!frames_in(s, c))
            return;
    }
}

/* ---------------------------------------------------------------- timers */

static void timers(wss_t *s, uint64_t now)
{
    uint8_t ping[2] = {0x80 | WS_OP_PING, 0};
    for (uint32_t i = 0; i < s->cfg.max_connections; i++) {
        conn_t *c = &s->conns[i];
        switch (c->state) {
        case C_HTTP:
        case C_HTTP_DONE:
            if (now >= c->deadline_ns)
                wss_conn_free(s, c);
            break;
        case C_OPEN:
            if (now - c->last_rx_ns >= s->cfg.idle_timeout_ms * NS_PER_MS) {
                s->st.idle_closes++;
                start_close(s, c, WS_CLOSE_IDLE, "idle timeout: nothing received");
            } else if (now >= c->next_ping_ns) {
                c->next_ping_ns = now + s->cfg.ping_interval_ms * NS_PER_MS;
                if (wss_enqueue(s, c, ping, sizeof(ping), true) < 0)
                    overflow(s, c);
            }
            break;
        case C_CLOSING:
            if (c->fd >= 0 && c->deadline_ns != 0 && now >= c->deadline_ns)
                wss_conn_drop(s, c, c->close_code, c->close_why);
            break;
        default:
            break;
        }
    }
}

/* ---------------------------------------------------------------- loop */

static void accept_all(wss_t *s)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = accept4(s->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of descriptors: the next pass retries */
        }
        if (s->nfree == 0) {
            s->st.refused_full++;
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (s->cfg.sndbuf_bytes > 0) {
            int sb = (int)s->cfg.sndbuf_bytes;
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
        }
        uint32_t idx = s->free_idx[--s->nfree];
        conn_t *c = &s->conns[idx];
        c->fd = fd;
        c->state = C_HTTP;
        c->peer = peer;
        c->deadline_ns = clock_mono_ns() + s->cfg.handshake_timeout_ms * NS_PER_MS;
        s->nconns++;
        s->st.accepted++;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u32 = idx};
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            wss_conn_free(s, c);
            continue;
        }
    }
}

static void deliver_closes(wss_t *s)
{
    /* on_close may close other connections: the count is read each time */
    for (uint32_t i = 0; i < s->nclosed; i++) {
        conn_t *c = &s->conns[s->closed[i]];
        c->listed = false;
        s->ops.on_close(s->ctx, conn_id(s, c), c->close_code, c->close_why);
        if (c->fd < 0)
            wss_conn_free(s, c);
    }
    s->nclosed = 0;
}

int wss_poll(wss_t *s, uint64_t timeout_ns)
{
    struct epoll_event ev[EVENTS_MAX];
    if (s->nagain > 0 || s->nclosed > 0 || s->ndirty > 0)
        timeout_ns = 0;
    struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u), .tv_nsec = (long)(timeout_ns % 1000000000u)};
    int n = epoll_pwait2(s->epfd, ev, EVENTS_MAX, &ts, NULL);
    int work = n > 0 ? n : 0;
    /* sockets that had more to read than a pass's share; reading may list
     * them again, after the ones taken here */
    uint32_t n0 = s->nagain;
    for (uint32_t i = 0; i < n0; i++) {
        conn_t *c = &s->conns[s->again[i]];
        c->again = false;
        if (c->state != C_FREE && c->fd >= 0)
            conn_read(s, c);
    }
    memmove(s->again, s->again + n0, (s->nagain - n0) * sizeof(uint32_t));
    s->nagain -= n0;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u32 == UINT32_MAX) {
            accept_all(s);
            continue;
        }
        conn_t *c = &s->conns[ev[i].data.u32];
        if (c->state == C_FREE || c->fd < 0)
            continue;
        if (ev[i].events & EPOLLOUT) {
            if (!conn_write(s, c))
                continue;
        }
        if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            conn_read(s, c);
    }
    uint64_t now = clock_mono_ns();
    if (now >= s->next_tick_ns) {
        s->next_tick_ns = now + TICK_MS * NS_PER_MS;
        timers(s, now);
    }
    wss_flush(s);
    if (s->nclosed > 0) {
        work++;
        deliver_closes(s);
    }
    return work;
}

/* ---------------------------------------------------------------- open, close */

int wss_open(wss_t **out, const wss_config_t *cfg, const wss_ops_t *ops, void *ctx, err_t *err)
{
    wss_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->ops = *ops;
    s->ctx = ctx;
    s->lfd = s->epfd = -1;
    s->ring_max = cfg->queue_max_messages + RING_SLACK;
    uint32_t m = cfg->max_connections;
    s->conns = calloc(m, sizeof(*s->conns));
    s->free_idx = calloc(m, sizeof(uint32_t));
    s->dirty = calloc(m, sizeof(uint32_t));
    s->again = calloc(m, sizeof(uint32_t));
    s->closed = calloc(m, sizeof(uint32_t));
    if (s->conns == NULL || s->free_idx == NULL || s->dirty == NULL || s->again == NULL || s->closed == NULL) {
        wss_destroy(s);
        return err_set(err, -ENOMEM, "out of memory for %u connections", m);
    }
    for (uint32_t i = 0; i < m; i++) {
        s->conns[i].fd = -1;
        s->conns[i].gen = 1;
        s->free_idx[i] = m - 1 - i;
    }
    s->nfree = m;
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, cfg->addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(cfg->port);
        sl = sizeof(*a4);
    } else if (inet_pton(AF_INET6, cfg->addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(cfg->port);
        sl = sizeof(*a6);
    } else {
        wss_destroy(s);
        return err_set(err, -EINVAL, "listen: '%s' is not a numeric address", cfg->addr);
    }
    s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(s->lfd, (struct sockaddr *)&ss, sl) < 0 || listen(s->lfd, 1024) < 0) {
        int e = errno;
        wss_destroy(s);
        return err_set(err, -e, "listen on %s port %u: %s", cfg->addr, cfg->port, strerror(e));
    }
    if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) == 0)
        s->port = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) < 0) {
        int e = errno;
        wss_destroy(s);
        return err_set(err, -e, "epoll: %s", strerror(e));
    }
    *out = s;
    return 0;
}

void wss_shutdown(wss_t *s, uint32_t wait_ms)
{
    for (uint32_t i = 0; i < s->cfg.max_connections; i++) {
        conn_t *c = &s->conns[i];
        if (c->state == C_OPEN)
            start_close(s, c, WS_CLOSE_GOING_AWAY, "the gateway is shutting down");
    }
    uint64_t end = clock_mono_ns() + wait_ms * NS_PER_MS;
    while (clock_mono_ns() < end) {
        bool open = false;
        for (uint32_t i = 0; i < s->cfg.max_connections && !open; i++)
            open = s->conns[i].state == C_CLOSING && s->conns[i].fd >= 0;
        if (!open)
            break;
        wss_poll(s, 10 * NS_PER_MS);
    }
}

void wss_destroy(wss_t *s)
{
    if (s == NULL)
        return;
    for (uint32_t i = 0; s->conns != NULL && i < s->cfg.max_connections; i++) {
        conn_t *c = &s->conns[i];
        if (c->state != C_FREE) {
            if (c->fd >= 0)
                close(c->fd);
            free(c->in);
            free(c->msg);
            free(c->out);
            free(c->ends);
        }
    }
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->epfd >= 0)
        close(s->epfd);
    free(s->conns);
    free(s->free_idx);
    free(s->dirty);
    free(s->again);
    free(s->closed);
    free(s);
}

uint16_t wss_port(const wss_t *s)
{
    return s->port;
}

uint32_t wss_connections(const wss_t *s)
{
    return s->nconns;
}

void wss_get_stats(const wss_t *s, wss_stats_t *out)
{
    *out = s->st;
}
