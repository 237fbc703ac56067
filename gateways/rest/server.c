/* server.c - see server.h.
 *
 * Connection states:
 *   READING  reading into the buffer; a complete request moves it to BUSY
 *   BUSY     the gateway holds a request; no reading (pipelined bytes wait)
 *   CLOSING  the last answer is being written; then LINGER
 *   LINGER   write side shut, reading and dropping what the client still
 *            sends, so that closing does not reset the connection before the
 *            client has read the answer (a 413 on a large upload)
 * A connection is registered once, edge-triggered, for input and output, and
 * never modified: an edge sets can_read / can_write, which stay set until a
 * recv or send comes up short (or EAGAIN). A BUSY connection keeps its
 * can_read for after the answer. A read stops at a short read unless the peer
 * has shut its side (EPOLLRDHUP), when it goes on to the end of file. So a
 * request costs one recv and one send, and epoll_ctl is called only on
 * accept. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

enum {
    EVENTS_BATCH = 64,
    IN_INITIAL_BYTES = 4096,
    OUT_INITIAL_BYTES = 4096,
    OUT_HIGH_BYTES = 256 * 1024,     /* stop taking requests while this much is unsent */
    BUF_KEEP_BYTES = 64 * 1024,      /* larger buffers are freed when a connection closes */
    REQUESTS_PER_TURN = 16,          /* pipelined requests taken per connection per pass */
    HEAD_MAX_BYTES = 512,            /* our status line and fixed headers */
    LINGER_MS = 2000,
    LINGER_DRAIN_BYTES = 1 << 20,
    SCAN_INTERVAL_MS = 50,
};
static const uint64_t NS_PER_MS = 1000000;

typedef enum conn_state { C_FREE = 0, C_READING, C_BUSY, C_CLOSING, C_LINGER } conn_state_t;

/* What the connection's deadline is for. */
typedef enum deadline_kind { DL_NONE = 0, DL_IDLE, DL_READ, DL_WRITE, DL_LINGER } deadline_kind_t;

typedef struct conn {
    int fd;
    uint32_t gen;
    uint8_t state;
    uint8_t dl;               /* deadline_kind_t of deadline_ns */
    bool keep_alive;          /* of the request being answered */
    bool http10;
    bool continue_sent;
    bool queued;              /* in the parse queue */
    bool can_read;            /* an input edge not yet read to a short read */
    bool can_write;           /* no send has come up short since the last output edge */
    bool rdhup;               /* the peer shut its side */
    char *in;
    uint32_t in_len, in_cap;
    uint32_t req_bytes;       /* bytes of the request held by the gateway */
    char *out;
    uint32_t out_len, out_off, out_cap;
    uint64_t deadline_ns;
    uint32_t drained;
    struct sockaddr_storage peer;
} conn_t;

struct server {
    int lfd, ep;
    uint16_t port;
    server_config_t cfg;
    server_ops_t ops;
    void *ctx;
    conn_t *conns;
    uint32_t *free_idx, nfree;
    uint32_t *queue, nqueue;  /* connections with buffered input to parse */
    uint32_t in_max;          /* largest input buffer: a header block and a framed body */
    uint32_t nconns;
    uint64_t next_scan_ns;
    bool use_pwait2;
    server_stats_t st;
};

static conn_id_t conn_id(const server_t *s, const conn_t *c)
{
    return ((uint64_t)c->gen << 32) | (uint32_t)(c - s->conns);
}

static conn_t *conn_of(const server_t *s, conn_id_t id)
{
    uint32_t i = SERVER_CONN_INDEX(id);
    if (i >= s->cfg.max_connections)
        return NULL;
    conn_t *c = &s->conns[i];
    return c->state != C_FREE && c->gen == (uint32_t)(id >> 32) ? c : NULL;
}

bool server_conn_open(const server_t *s, conn_id_t id)
{
    return conn_of(s, id) != NULL;
}

static void conn_close(server_t *s, conn_t *c)
{
    close(c->fd); /* never duplicated: this also leaves the epoll set */
    c->fd = -1;
    c->state = C_FREE;
    c->gen++;
    if (c->in_cap > BUF_KEEP_BYTES) {
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    if (c->out_cap > BUF_KEEP_BYTES) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    c->in_len = c->out_len = c->out_off = 0;
    s->free_idx[s->nfree++] = (uint32_t)(c - s->conns);
    s->nconns--;
    s->st.closed++;
}

static void enqueue(server_t *s, conn_t *c)
{
    if (!c->queued) {
        c->queued = true;
        s->queue[s->nqueue++] = (uint32_t)(c - s->conns);
    }
}

static void set_deadline(conn_t *c, deadline_kind_t kind, uint64_t at)
{
    c->dl = (uint8_t)kind;
    c->deadline_ns = at;
}

static void start_linger(server_t *s, conn_t *c, uint64_t now)
{
    shutdown(c->fd, SHUT_WR);
    c->state = C_LINGER;
    c->drained = 0;
    c->dl = DL_LINGER;
    c->deadline_ns = now + LINGER_MS * NS_PER_MS;
    if (c->can_read)
        enqueue(s, c); /* drain what came before the edge we already had */
}

/* After an answer is queued or written: what the connection does next. */
static void after_write(server_t *s, conn_t *c, uint64_t now)
{
    bool pending = c->out_off < c->out_len;
    if (c->state == C_CLOSING) {
        if (!pending)
            start_linger(s, c, now);
        return;
    }
    if (c->state != C_READING)
        return;
    if (pending) {
        if (c->dl != DL_WRITE && c->dl != DL_READ)
            set_deadline(c, DL_WRITE, now + s->cfg.read_timeout_ms * NS_PER_MS);
        if (c->out_len - c->out_off < OUT_HIGH_BYTES && (c->in_len > 0 || c->can_read))
            enqueue(s, c);
    } else if (c->in_len == 0 && !c->can_read) {
        set_deadline(c, DL_IDLE, now + s->cfg.idle_timeout_ms * NS_PER_MS);
    } else {
        if (c->dl == DL_WRITE)
            c->dl = DL_NONE; /* parse() starts the read deadline */
        enqueue(s, c); /* requests that waited for the answers to drain */
    }
}

/* Writes what it can. Returns 0, or -1 when the connection was closed. */
static int flush(server_t *s, conn_t *c, uint64_t now)
{
    while (c->can_write && c->out_off < c->out_len) {
        size_t want = c->out_len - c->out_off;
        ssize_t n = send(c->fd, c->out + c->out_off, want, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (uint32_t)n;
            if ((size_t)n < want)
                c->can_write = false; /* the socket buffer is full: wait for the edge */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->can_write = false;
            break;
        }
        conn_close(s, c);
        return -1;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    after_write(s, c, now);
    return 0;
}

static int out_reserve(conn_t *c, size_t n)
{
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n <= c->out_cap)
        return 0;
    if (c->out_len + n > UINT32_MAX / 2)
        return -ENOMEM;
    uint32_t cap = c->out_cap ? c->out_cap : OUT_INITIAL_BYTES;
    while (cap < c->out_len + n)
        cap *= 2;
    char *p = realloc(c->out, cap);
    if (p == NULL)
        return -ENOMEM;
    c->out = p;
    c->out_cap = cap;
    return 0;
}

int server_respond(server_t *s, conn_id_t id, int status, const char *extra_headers, const char *body,
                   size_t body_len, bool close_after)
{
    conn_t *c = conn_of(s, id);
    if (c == NULL || c->state != C_BUSY)
        return -ENOENT;
    bool closing = close_after || !c->keep_alive;
    size_t extra = extra_headers ? strlen(extra_headers) : 0;
    if (out_reserve(c, HEAD_MAX_BYTES + extra + body_len) < 0) {
        conn_close(s, c);
        return -ENOENT;
    }
    int h = snprintf(c->out + c->out_len, HEAD_MAX_BYTES,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s",
                     status, http_reason(status), body_len,
                     closing ? "Connection: close\r\n" : c->http10 ? "Connection: keep-alive\r\n" : "");
    c->out_len += (uint32_t)h;
    memcpy(c->out + c->out_len, extra_headers ? extra_headers : "", extra);
    c->out_len += (uint32_t)extra;
    memcpy(c->out + c->out_len, "\r\n", 2);
    c->out_len += 2;
    if (body_len)
        memcpy(c->out + c->out_len, body, body_len);
    c->out_len += (uint32_t)body_len;
    /* the request leaves the input buffer; what follows is the next one */
    memmove(c->in, c->in + c->req_bytes, c->in_len - c->req_bytes);
    c->in_len -= c->req_bytes;
    c->req_bytes = 0;
    uint64_t now = clock_mono_ns();
    set_deadline(c, DL_NONE, 0);
    if (closing) {
        c->state = C_CLOSING;
    } else {
        c->state = C_READING;
        c->continue_sent = false;
        if (c->in_len > 0 || c->can_read)
            enqueue(s, c);
    }
    flush(s, c, now);
    return 0;
}

/* Hands a refusal to the gateway, which answers and closes. */
static void refuse(server_t *s, conn_t *c, int status, const char *why)
{
    c->state = C_BUSY;
    c->keep_alive = false;
    c->req_bytes = c->in_len;
    conn_id_t id = conn_id(s, c);
    s->ops.on_refused(s->ctx, id, status, why, &c->peer);
    if (conn_of(s, id) == c && c->state == C_BUSY)
        conn_close(s, c); /* the gateway did not answer */
}

/* Parses buffered input: at most one request is taken (the connection is
 * then BUSY until answered). */
static void parse(server_t *s, conn_t *c, uint64_t now)
{
    if (c->state != C_READING || c->in_len == 0)
        return;
    if (c->out_len - c->out_off >= OUT_HIGH_BYTES)
        return; /* the client is not reading its answers: wait for it */
    http_request_t req;
    int n = http_parse(c->in, c->in_len, &s->cfg.limits, &req);
    if (n < 0) {
        refuse(s, c, -n, req.error);
        return;
    }
    if (n == 0) {
        if (c->in_len >= s->in_max) {
            refuse(s, c, 413, "body too large (chunk framing)");
            return;
        }
        if (c->dl != DL_READ)
            set_deadline(c, DL_READ, now + s->cfg.read_timeout_ms * NS_PER_MS);
        if (req.header_bytes && req.expect_continue && !c->continue_sent) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            c->continue_sent = true;
            if (out_reserve(c, sizeof(cont) - 1) == 0) {
                memcpy(c->out + c->out_len, cont, sizeof(cont) - 1);
                c->out_len += sizeof(cont) - 1;
                flush(s, c, now);
            }
        }
        return;
    }
    c->state = C_BUSY;
    c->req_bytes = (uint32_t)n;
    c->keep_alive = req.keep_alive;
    c->http10 = req.version_minor == 0;
    set_deadline(c, DL_NONE, 0);
    s->st.requests++;
    s->ops.on_request(s->ctx, conn_id(s, c), &req, &c->peer);
}

/* Reads what the socket holds (while can_read), then parses. */
static void on_readable(server_t *s, conn_t *c, uint64_t now)
{
    if (c->state == C_LINGER) {
        char sink[4096];
        for (;;) {
            ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
            if (n > 0) {
                c->drained += (uint32_t)n;
                if (c->drained <= LINGER_DRAIN_BYTES)
                    continue;
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                c->can_read = false;
                return;
            }
            conn_close(s, c); /* end of file, an error, or too much */
            return;
        }
    }
    if (c->state != C_READING)
        return;
    while (c->can_read && c->out_len - c->out_off < OUT_HIGH_BYTES) {
        if (c->in_len == c->in_cap) {
            if (c->in_cap >= s->in_max)
                break; /* parse() refuses what cannot fit */
            uint32_t cap = c->in_cap ? c->in_cap * 2 : IN_INITIAL_BYTES;
            if (cap > s->in_max)
                cap = s->in_max;
            char *p = realloc(c->in, cap);
            if (p == NULL) {
                conn_close(s, c);
                return;
            }
            c->in = p;
            c->in_cap = cap;
        }
        size_t room = c->in_cap - c->in_len;
        ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
        if (n > 0) {
            c->in_len += (uint32_t)n;
            if ((size_t)n < room && !c->rdhup)
                c->can_read = false; /* drained: the next arrival is a new edge */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->can_read = false;
            break;
        }
        conn_close(s, c); /* EOF or error: a half-sent request is dropped */
        return;
    }
    parse(s, c, now);
}

static void accept_all(server_t *s, uint64_t now)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = accept4(s->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of descriptors: the backlog waits */
        }
        if (s->nfree == 0) {
            static const char body[] =
                "{\"error\":{\"code\":\"too-many-connections\",\"message\":\"the gateway is at its connection limit\"}}";
            char busy[256];
            int len = snprintf(busy, sizeof(busy),
                               "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                               "Content-Length: %zu\r\nConnection: close\r\nRetry-After: 1\r\n\r\n%s",
                               sizeof(body) - 1, body);
            (void)!send(fd, busy, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            s->st.refused_full++;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        uint32_t i = s->free_idx[--s->nfree];
        conn_t *c = &s->conns[i];
        uint32_t gen = c->gen;
        char *in = c->in, *out = c->out;
        uint32_t in_cap = c->in_cap, out_cap = c->out_cap;
        *c = (conn_t){.fd = fd, .gen = gen ? gen : 1, .state = C_READING, .in = in, .in_cap = in_cap,
                      .out = out, .out_cap = out_cap, .can_write = true, .peer = peer, .dl = DL_IDLE,
                      .deadline_ns = now + s->cfg.idle_timeout_ms * NS_PER_MS};
        struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = (uint64_t)i + 1};
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
            close(fd);
            c->state = C_FREE;
            s->free_idx[s->nfree++] = i;
            continue;
        }
        s->nconns++;
        s->st.accepted++;
    }
}

static void scan_deadlines(server_t *s, uint64_t now)
{
    for (uint32_t i = 0; i < s->cfg.max_connections; i++) {
        conn_t *c = &s->conns[i];
        if (c->state == C_FREE || c->state == C_BUSY || c->dl == DL_NONE || now < c->deadline_ns)
            continue;
        if (c->state == C_READING && c->dl == DL_READ && c->out_off == c->out_len) {
            s->st.timeouts_read++;
            refuse(s, c, 408, "the request did not arrive in time");
        } else {
            if (c->dl == DL_IDLE)
                s->st.timeouts_idle++;
            conn_close(s, c); /* idle keep-alive, stalled reader of answers, lingering */
        }
    }
}

int server_poll(server_t *s, uint64_t timeout_ns)
{
    struct epoll_event evs[EVENTS_BATCH];
    int n;
    if (s->nqueue > 0)
        timeout_ns = 0; /* input already buffered waits to be parsed */
    if (s->use_pwait2) {
        struct timespec ts = {(time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u)};
        n = epoll_pwait2(s->ep, evs, EVENTS_BATCH, &ts, NULL);
        if (n < 0 && errno == ENOSYS) {
            s->use_pwait2 = false;
            n = 0;
        }
    } else {
        n = epoll_wait(s->ep, evs, EVENTS_BATCH, (int)((timeout_ns + NS_PER_MS - 1) / NS_PER_MS));
    }
    if (n < 0)
        n = 0; /* EINTR: a signal; the caller checks its stop flag */
    uint64_t now = clock_mono_ns();
    int work = n;
    for (int k = 0; k < n; k++) {
        if (evs[k].data.u64 == 0) {
            accept_all(s, now);
            continue;
        }
        conn_t *c = &s->conns[evs[k].data.u64 - 1];
        if (c->state == C_FREE)
            continue;
        uint32_t e = evs[k].events;
        if ((e & (EPOLLERR | EPOLLHUP)) && c->state != C_READING && c->state != C_LINGER) {
            conn_close(s, c); /* reset while busy or closing: its answer is dropped */
            continue;
        }
        if (e & EPOLLRDHUP)
            c->rdhup = true;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
            c->can_read = true;
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            c->can_write = true;
            if (c->out_off < c->out_len && flush(s, c, now) < 0)
                continue;
        }
        if (c->can_read && (c->state == C_READING || c->state == C_LINGER))
            on_readable(s, c, now);
    }
    /* pipelined requests and input that arrived while busy */
    for (uint32_t turn = 0; turn < REQUESTS_PER_TURN && s->nqueue > 0; turn++) {
        uint32_t nq = s->nqueue;
        s->nqueue = 0;
        for (uint32_t k = 0; k < nq; k++) {
            conn_t *c = &s->conns[s->queue[k]];
            c->queued = false;
            if (c->state == C_READING || c->state == C_LINGER) {
                if (c->can_read)
                    on_readable(s, c, now);
                else
                    parse(s, c, now);
                work++;
            }
        }
    }
    if (now >= s->next_scan_ns) {
        s->next_scan_ns = now + SCAN_INTERVAL_MS * NS_PER_MS;
        scan_deadlines(s, now);
    }
    return work;
}

int server_open(server_t **out, const server_config_t *cfg, const server_ops_t *ops, void *ctx, err_t *err)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t slen;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, cfg->addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(cfg->port);
        slen = sizeof(*v4);
    } else if (inet_pton(AF_INET6, cfg->addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(cfg->port);
        slen = sizeof(*v6);
    } else {
        return err_set(err, -EINVAL, "listen address '%s' is not a numeric IPv4 or IPv6 address", cfg->addr);
    }
    server_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    s->lfd = s->ep = -1;
    s->cfg = *cfg;
    s->ops = *ops;
    s->ctx = ctx;
    s->use_pwait2 = true;
    s->in_max = cfg->limits.header_bytes + 2 * cfg->limits.body_bytes + 1024;
    s->conns = calloc(cfg->max_connections, sizeof(*s->conns));
    s->free_idx = calloc(cfg->max_connections, sizeof(*s->free_idx));
    s->queue = calloc(cfg->max_connections, sizeof(*s->queue));
    int rc;
    if (s->conns == NULL || s->free_idx == NULL || s->queue == NULL) {
        rc = err_set(err, -ENOMEM, "out of memory for %u connections", cfg->max_connections);
        goto fail;
    }
    for (uint32_t i = 0; i < cfg->max_connections; i++) {
        s->conns[i].fd = -1;
        s->free_idx[i] = cfg->max_connections - 1 - i;
    }
    s->nfree = cfg->max_connections;
    s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(s->lfd, (struct sockaddr *)&ss, slen) < 0 || listen(s->lfd, SOMAXCONN) < 0) {
        rc = err_set(err, -errno, "cannot listen on %s port %u: %s", cfg->addr, cfg->port, strerror(errno));
        goto fail;
    }
    socklen_t blen = sizeof(ss);
    getsockname(s->lfd, (struct sockaddr *)&ss, &blen);
    s->port = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = 0};
    if (s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &e) < 0) {
        rc = err_set(err, -errno, "epoll: %s", strerror(errno));
        goto fail;
    }
    *out = s;
    return 0;
fail:
    server_close(s);
    return rc;
}

void server_close(server_t *s)
{
    if (s == NULL)
        return;
    for (uint32_t i = 0; s->conns != NULL && i < s->cfg.max_connections; i++) {
        if (s->conns[i].fd >= 0)
            close(s->conns[i].fd);
        free(s->conns[i].in);
        free(s->conns[i].out);
    }
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->ep >= 0)
        close(s->ep);
    free(s->conns);
    free(s->free_idx);
    free(s->queue);
    free(s);
}

uint16_t server_port(const server_t *s)
{
    return s->port;
}

uint32_t server_connections(const server_t *s)
{
    return s->nconns;
}

void server_get_stats(const server_t *s, server_stats_t *out)
{
    *out = s->st;
}
