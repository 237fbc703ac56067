/* ws.c - bench-ws: bourse-ws's fan-out under a steady order flow, beside a
 * peer that shows what the machine's TCP stack and these same clients can
 * take at all.
 *
 * For each client count N: N raw WebSocket connections (a minimal client in
 * this file, one epoll thread) subscribe to one symbol's book; a flow thread
 * sends resting orders and their cancels through a command ring at R = total
 * / N commands a second (each command changes the book: one update message
 * per command per client); the clients count the messages and take the
 * latency from the event's engine time ("ts", CLOCK_REALTIME of the engine)
 * to their own CLOCK_REALTIME at receipt, over `seconds` after a second of
 * warm-up; latencies of a second or more are shown as 1000000.
 *
 * The peer ("raw"): a forked server that accepts the same N clients and, at
 * the same message rate, writes a pre-built frame of the same size with the
 * current time in it to every client, coalescing as the gateway does: no
 * engine, no JSON, no book. gateway/raw is the ratio to the stack's limit.
 *
 *   bench-ws [--clients 1,100,1000] [--total MSGS_PER_S] [--rate-max CMDS_PER_S]
 *            [--seconds S] [--build DIR] [--quick]
 * It starts bourse-engine and bourse-ws from DIR (default: the build
 * directory this program is in) on a fresh instance, with idle = backoff. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "harness.h"
#include "proto.h"

enum {
    CLIENTS_MAX = 4096,
    HIST_US = 1000000,           /* latency histogram: 1 us buckets up to 1 s */
    CONN_BUF = 1 << 18,
    LIVE_ORDERS = 200,           /* each order is cancelled this many commands later */
};

typedef struct bconn {
    int fd;
    uint8_t *buf;
    size_t len;
    bool up, snap, closed;
} bconn_t;

typedef struct run {
    bconn_t *c;
    uint32_t n;
    int ep;
    uint64_t msgs, bytes, closed;
    uint32_t *hist;
    uint64_t over;               /* samples beyond the histogram */
    bool measuring;
} run_t;

static char instance[32];
static pid_t engine_pid, ws_pid;
static char tmpdir[64];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench-ws: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (ws_pid > 0)
        kill(ws_pid, SIGKILL);
    if (engine_pid > 0)
        kill(engine_pid, SIGKILL);
    exit(1);
}

/* ---------------------------------------------------------------- processes */

static pid_t spawn(const char *path, const char *config, const char *log)
{
    pid_t p = fork();
    if (p == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0)
            dup2(fd, 2);
        execl(path, path, "-c", config, (char *)NULL);
        _exit(127);
    }
    return p;
}

static int ws_port_from_log(const char *log)
{
    for (int i = 0; i < 400; i++) {
        FILE *f = fopen(log, "r");
        char line[1024];
        int port = 0;
        while (f && fgets(line, sizeof(line), f)) {
            const char *p = strstr(line, "listening on 127.0.0.1 port ");
            if (p)
                port = atoi(p + strlen("listening on 127.0.0.1 port "));
        }
        if (f)
            fclose(f);
        if (port > 0)
            return port;
        usleep(25000);
    }
    die("bourse-ws did not start (see %s)", log);
}

/* Sends a command and waits for its last event. */
static void admin(client_t *c, uint16_t type, const void *p, uint16_t len)
{
    rec_t r;
    memset(&r, 0, sizeof(r));
    r.type = type;
    r.len = len;
    memcpy(r.payload, p, len);
    static uint64_t ref = 1 << 20;
    r.ref = ++ref;
    while (client_send(c, &r) == -EAGAIN)
        usleep(100);
    rec_t ev[64];
    for (int spins = 0; spins < 200000; spins++) {
        int64_t n = client_poll(c, ev, 64);
        for (int64_t i = 0; i < n; i++)
            if (ev[i].ref == ref && ev[i].src == (uint16_t)c->slot && (ev[i].flags & REC_LAST)) {
                if (ev[i].type == EVT_REJECTED)
                    die("set-up command %u refused", type);
                return;
            }
        if (n <= 0)
            usleep(50);
    }
    die("no answer to set-up command %u", type);
}

static void setup_market(client_t *c)
{
    cmd_add_asset_t btc = {.name = "BTC", .asset = 1, .decimals = 8}, usd = {.name = "USD", .asset = 2, .decimals = 2};
    admin(c, CMD_ADD_ASSET, &btc, sizeof(btc));
    admin(c, CMD_ADD_ASSET, &usd, sizeof(usd));
    cmd_add_instrument_t in = {.symbol = "BTC-USD", .instrument = 1, .base = 1, .quote = 2, .band_bps = 5000,
                               .tick_size = 100, .lot_size = 1000000, .min_qty = 1000000, .max_qty = 10000000000,
                               .ref_price = 6000000};
    admin(c, CMD_ADD_INSTRUMENT, &in, sizeof(in));
    for (uint32_t a = 1; a <= 2; a++) {
        cmd_account_t acc = {.account = a};
        admin(c, CMD_ADD_ACCOUNT, &acc, sizeof(acc));
        cmd_funds_t d1 = {.account = a, .asset = 1, .amount = INT64_C(1) << 52};
        cmd_funds_t d2 = {.account = a, .asset = 2, .amount = INT64_C(1) << 52};
        admin(c, CMD_DEPOSIT, &d1, sizeof(d1));
        admin(c, CMD_DEPOSIT, &d2, sizeof(d2));
    }
}

/* ---------------------------------------------------------------- flow */

typedef struct flow {
    client_t *c;
    uint64_t rate;               /* commands a second */
    atomic_bool stop;
    atomic_uint_fast64_t sent;
    uint64_t k;                  /* commands so far, over all runs */
} flow_t;

/* Resting orders away from the touch (buys below, sells above: no trades),
 * each cancelled LIVE_ORDERS commands later by its client order id: every
 * command changes one level of the book. */
static void make_cmd(uint64_t k, rec_t *r)
{
    memset(r, 0, sizeof(*r));
    uint64_t j = k / 2;
    if (k % 2 == 1 && j >= LIVE_ORDERS) {
        uint64_t old = j - LIVE_ORDERS;
        cmd_cancel_t x = {.client_order_id = old + 1, .account = (uint32_t)(old % 2 + 1)};
        r->type = CMD_CANCEL;
        r->len = sizeof(x);
        memcpy(r->payload, &x, sizeof(x));
        return;
    }
    /* even commands carry client order ids 1, 2, ...; the odd ones of the
     * first LIVE_ORDERS pairs rest for good, without one */
    int side = (int)(j % 2);
    int64_t off = (int64_t)(1 + (k * 7919) % 50) * 100;
    cmd_new_order_t o = {.client_order_id = k % 2 ? 0 : j + 1, .price = 6000000 + (side ? off : -off),
                         .qty = 1000000, .account = (uint32_t)(j % 2 + 1), .instrument = 1, .side = (uint8_t)side};
    r->type = CMD_NEW_ORDER;
    r->len = sizeof(o);
    memcpy(r->payload, &o, sizeof(o));
}

static void *flow_main(void *arg)
{
    flow_t *f = arg;
    uint64_t t0 = clock_mono_ns(), n = 0;
    while (!atomic_load_explicit(&f->stop, memory_order_relaxed)) {
        uint64_t due = (clock_mono_ns() - t0) * f->rate / 1000000000u;
        if (n >= due) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
            continue;
        }
        rec_t r;
        make_cmd(f->k, &r);
        int rc = client_send(f->c, &r);
        if (rc == -EAGAIN)
            continue;
        if (rc < 0)
            die("flow: send: %s", strerror(-rc));
        f->k++;
        n++;
        atomic_store_explicit(&f->sent, n, memory_order_relaxed);
    }
    return NULL;
}

/* ---------------------------------------------------------------- clients */

static const char HANDSHAKE[] = "GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

static void send_masked(int fd, const char *text)
{
    uint8_t f[256];
    size_t n = strlen(text);
    f[0] = 0x81;
    f[1] = (uint8_t)(0x80 | n);
    memset(f + 2, 0, 4); /* a zero mask: the bytes go as they are */
    memcpy(f + 6, text, n);
    if (write(fd, f, n + 6) != (ssize_t)(n + 6))
        die("subscribe write: %s", strerror(errno));
}

static void open_clients(run_t *r, uint32_t n, int port)
{
    r->c = calloc(n, sizeof(*r->c));
    r->n = n;
    r->ep = epoll_create1(0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    for (uint32_t i = 0; i < n; i++) {
        bconn_t *c = &r->c[i];
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
            die("connect %u: %s", i, strerror(errno));
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (write(c->fd, HANDSHAKE, sizeof(HANDSHAKE) - 1) < 0)
            die("handshake: %s", strerror(errno));
        c->buf = malloc(CONN_BUF);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
}

static void close_clients(run_t *r)
{
    for (uint32_t i = 0; i < r->n; i++) {
        close(r->c[i].fd);
        free(r->c[i].buf);
    }
    close(r->ep);
    free(r->c);
    r->c = NULL;
}

static void on_frame(run_t *r, bconn_t *c, const uint8_t *p, size_t n, uint64_t now_rt)
{
    if (!c->snap) {
        if (memmem(p, n, "\"snapshot\"", 10) != NULL)
            c->snap = true;
        return;
    }
    const uint8_t *t = memmem(p, n, "\"ts\":\"", 6);
    if (t == NULL)
        return;
    uint64_t ts = 0;
    for (t += 6; t < p + n && *t >= '0' && *t <= '9'; t++)
        ts = ts * 10 + (uint64_t)(*t - '0');
    if (!r->measuring)
        return;
    r->msgs++;
    r->bytes += n;
    uint64_t us = now_rt > ts ? (now_rt - ts) / 1000 : 0;
    if (us < HIST_US)
        r->hist[us]++;
    else
        r->over++;
}

/* Reads what arrived; returns the events handled. */
static int pump(run_t *r, int timeout_ms)
{
    struct epoll_event ev[256];
    int k = epoll_wait(r->ep, ev, 256, timeout_ms);
    for (int e = 0; e < k; e++) {
        bconn_t *c = &r->c[ev[e].data.u32];
        ssize_t got = read(c->fd, c->buf + c->len, CONN_BUF - c->len);
        if (got <= 0) {
            if (!c->closed) {
                c->closed = true;
                r->closed++;
                epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
            }
            continue;
        }
        c->len += (size_t)got;
        uint64_t now_rt = clock_realtime_ns();
        size_t pos = 0;
        if (!c->up) {
            uint8_t *e2 = memmem(c->buf, c->len, "\r\n\r\n", 4);
            if (e2 == NULL)
                continue;
            c->up = true;
            pos = (size_t)(e2 + 4 - c->buf);
            send_masked(c->fd, "{\"op\":\"subscribe\",\"channel\":\"book\",\"symbol\":\"BTC-USD\"}");
        }
        while (c->len - pos >= 2) {
            const uint8_t *h = c->buf + pos;
            uint64_t len = h[1] & 0x7f;
            size_t hl = 2;
            if (len == 126) {
                if (c->len - pos < 4)
                    break;
                len = (uint64_t)h[2] << 8 | h[3];
                hl = 4;
            } else if (len == 127) {
                if (c->len - pos < 10)
                    break;
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = len << 8 | h[2 + i];
                hl = 10;
            }
            if (hl + len > CONN_BUF)
                die("a frame of %" PRIu64 " bytes", len);
            if (c->len - pos < hl + len)
                break;
            if ((h[0] & 0x0f) == 0x1)
                on_frame(r, c, h + hl, (size_t)len, now_rt);
            pos += hl + (size_t)len;
        }
        memmove(c->buf, c->buf + pos, c->len - pos);
        c->len -= pos;
    }
    return k;
}

/* ---------------------------------------------------------------- the peer */

/* A forked server: N clients, then `rate` pre-built frames a second to each
 * until every client has gone. */
static void peer_main(int lfd, uint32_t n, uint64_t rate, size_t msg_bytes)
{
    int *fds = calloc(n, sizeof(int));
    uint8_t **q = calloc(n, sizeof(uint8_t *));
    size_t *ql = calloc(n, sizeof(size_t)), qcap = 1 << 24;
    char req[4096];
    for (uint32_t i = 0; i < n; i++) {
        fds[i] = accept(lfd, NULL, NULL);
        if (fds[i] < 0)
            _exit(1);
        ssize_t got = 0, k;
        while ((k = read(fds[i], req + got, sizeof(req) - 1 - (size_t)got)) > 0) {
            got += k;
            req[got] = 0;
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        if (write(fds[i], ok, strlen(ok)) < 0)
            _exit(1);
        const char *snap = "\x81\x16{\"type\":\"snapshot\"}   ";
        if (write(fds[i], snap, 24) < 0)
            _exit(1);
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
        int one = 1;
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        q[i] = malloc(qcap);
    }
    /* the gateway's update message, same length, with the time in it */
    char payload[512];
    size_t plen = msg_bytes < sizeof(payload) - 64 ? msg_bytes : sizeof(payload) - 64;
    uint64_t t0 = clock_mono_ns(), sent = 0;
    uint32_t alive = n;
    while (alive > 0) {
        uint64_t due = (clock_mono_ns() - t0) * rate / 1000000000u;
        bool any = false;
        while (sent < due) {
            int h = snprintf(payload, sizeof(payload), "{\"type\":\"update\",\"ts\":\"%" PRIu64 "\",\"pad\":\"",
                             clock_realtime_ns());
            memset(payload + h, 'x', plen > (size_t)h + 2 ? plen - (size_t)h - 2 : 0);
            size_t len = plen > (size_t)h + 2 ? plen : (size_t)h + 2;
            payload[len - 2] = '"';
            payload[len - 1] = '}';
            uint8_t fh[4] = {0x81, 126, (uint8_t)(len >> 8), (uint8_t)len};
            size_t fl = len < 126 ? 2 : 4;
            if (len < 126)
                fh[1] = (uint8_t)len;
            for (uint32_t i = 0; i < n; i++) {
                if (fds[i] < 0 || ql[i] + fl + len > qcap)
                    continue;
                memcpy(q[i] + ql[i], fh, fl);
                memcpy(q[i] + ql[i] + fl, payload, len);
                ql[i] += fl + len;
            }
            sent++;
            any = true;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (fds[i] < 0)
                continue;
            char tmp[256];
            ssize_t rd = recv(fds[i], tmp, sizeof(tmp), MSG_DONTWAIT);
            if (rd == 0 || (rd < 0 && errno != EAGAIN)) {
                close(fds[i]);
                fds[i] = -1;
                alive--;
                continue;
            }
            if (ql[i] == 0)
                continue;
            ssize_t w = send(fds[i], q[i], ql[i], MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                memmove(q[i], q[i] + w, ql[i] - (size_t)w);
                ql[i] -= (size_t)w;
                any = true;
            }
        }
        if (!any) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    _exit(0);
}

/* ---------------------------------------------------------------- runs */

typedef struct result {
    double cmds_s, msgs_s, mb_s;
    uint64_t p50, p99, p999, closed;
} result_t;

static uint64_t pct(const run_t *r, uint64_t total, double q)
{
    uint64_t want = (uint64_t)(q * (double)total), acc = 0;
    for (uint32_t i = 0; i < HIST_US; i++) {
        acc += r->hist[i];
        if (acc > want)
            return i;
    }
    return HIST_US;
}

static result_t measure(run_t *r, double seconds, flow_t *f, uint64_t peer_rate)
{
    /* everyone subscribed and had the snapshot */
    uint64_t t_end = clock_mono_ns() + 20000000000ull;
    for (;;) {
        uint32_t ready = 0;
        for (uint32_t i = 0; i < r->n; i++)
            ready += r->c[i].snap;
        if (ready == r->n)
            break;
        if (clock_mono_ns() > t_end)
            die("only %u of %u clients got their snapshot", ready, r->n);
        pump(r, 10);
    }
    pthread_t th;
    if (f != NULL) {
        atomic_store(&f->stop, false);
        atomic_store(&f->sent, 0);
        pthread_create(&th, NULL, flow_main, f);
    }
    /* warm up for a second (connections settle, queues reach their steady state), then measure */
    uint64_t t0 = clock_mono_ns();
    while (clock_mono_ns() - t0 < 1000000000ull)
        pump(r, 1);
    memset(r->hist, 0, HIST_US * sizeof(uint32_t));
    r->msgs = r->bytes = r->over = 0;
    r->measuring = true;
    uint64_t sent0 = f ? atomic_load(&f->sent) : 0;
    uint64_t m0 = clock_mono_ns();
    while (clock_mono_ns() - m0 < (uint64_t)(seconds * 1e9))
        pump(r, 1);
    uint64_t m1 = clock_mono_ns();
    r->measuring = false;
    uint64_t sent1 = f ? atomic_load(&f->sent) : 0;
    if (f != NULL) {
        atomic_store(&f->stop, true);
        pthread_join(th, NULL);
    }
    double el = (double)(m1 - m0) / 1e9;
    result_t res = {.cmds_s = f ? (double)(sent1 - sent0) / el : (double)peer_rate, .msgs_s = (double)r->msgs / el,
                    .mb_s = (double)r->bytes / el / 1e6, .closed = r->closed};
    uint64_t total = r->msgs;
    res.p50 = pct(r, total + r->over, 0.50);
    res.p99 = pct(r, total + r->over, 0.99);
    res.p999 = pct(r, total + r->over, 0.999);
    /* drain what is still in flight before the next run */
    uint64_t d = clock_mono_ns();
    while (clock_mono_ns() - d < 300000000ull)
        pump(r, 5);
    return res;
}

static void print_row(const char *who, uint32_t n, const result_t *x)
{
    printf("%-8s %6u %10.0f %12.0f %8.1f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %7" PRIu64 "\n", who, n, x->cmds_s,
           x->msgs_s, x->mb_s, x->p50, x->p99, x->p999, x->closed);
    fflush(stdout);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        die("%s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"clients", required_argument, NULL, 'c'}, {"total", required_argument, NULL, 't'},
        {"rate-max", required_argument, NULL, 'r'}, {"seconds", required_argument, NULL, 's'},
        {"build", required_argument, NULL, 'b'},    {"quick", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0}};
    char clients_s[256] = "1,100,1000", build[512] = "";
    uint64_t total = 1000000, rate_max = 100000;
    double seconds = 3;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': snprintf(clients_s, sizeof(clients_s), "%s", optarg); break;
        case 't': total = strtoull(optarg, NULL, 10); break;
        case 'r': rate_max = strtoull(optarg, NULL, 10); break;
        case 's': seconds = atof(optarg); break;
        case 'b': snprintf(build, sizeof(build), "%s", optarg); break;
        case 'q': snprintf(clients_s, sizeof(clients_s), "1,20"); total = 20000; seconds = 1; break;
        default: fprintf(stderr, "usage: bench-ws [--clients 1,100,1000] [--total N] [--rate-max N] [--seconds S] "
                                 "[--build DIR] [--quick]\n"); return 2;
        }
    }
    if (build[0] == '\0') {
        char exe[512];
        ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (k <= 0)
            die("cannot find my build directory: use --build");
        exe[k] = '\0';
        *strrchr(exe, '/') = '\0'; /* .../bench */
        *strrchr(exe, '/') = '\0'; /* the build directory */
        snprintf(build, sizeof(build), "%s", exe);
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    signal(SIGPIPE, SIG_IGN);

    snprintf(instance, sizeof(instance), "bws%d", (int)getpid());
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bench-ws-%d", (int)getpid());
    mkdir(tmpdir, 0700);
    char path[768], text[2048], eng_ini[128], ws_ini[128], eng_log[128], ws_log[128];
    snprintf(eng_ini, sizeof(eng_ini), "%s/engine.ini", tmpdir);
    snprintf(ws_ini, sizeof(ws_ini), "%s/ws.ini", tmpdir);
    snprintf(eng_log, sizeof(eng_log), "%s/engine.log", tmpdir);
    snprintf(ws_log, sizeof(ws_log), "%s/ws.log", tmpdir);
    snprintf(text, sizeof(text),
             "[engine]\ninstance = %s\ndata_dir = %s/data\nidle = backoff\nidle_sleep_max_us = 50\n"
             "event_log_capacity = 1048576\nring_capacity = 65536\n[matcher]\nmax_orders = 65536\nmax_accounts = 8\n"
             "max_assets = 4\nmax_instruments = 4\n[journal]\nenabled = false\n",
             instance, tmpdir);
    write_file(eng_ini, text);
    snprintf(text, sizeof(text),
             "[ws]\ninstance = %s\nport = 0\nkeystore = %s/keys\nmaster_key = %s/master\nidle = backoff\n"
             "idle_sleep_max_us = 50\nmax_connections = %d\nqueue_max_messages = 1048576\n"
             "queue_max_bytes = 268435456\n",
             instance, tmpdir, tmpdir, CLIENTS_MAX + 16);
    write_file(ws_ini, text);
    snprintf(path, sizeof(path), "%s/engine/bourse-engine", build);
    engine_pid = spawn(path, eng_ini, eng_log);
    client_t *c = NULL;
    err_t err;
    for (int i = 0; i < 200 && client_attach(&c, instance, "bench-ws", CLIENT_SEND | CLIENT_RECV, &err) < 0; i++)
        usleep(25000);
    if (c == NULL)
        die("engine did not start: %s (see %s)", err.msg, eng_log);
    setup_market(c);
    client_detach(c);
    /* the flow's client only sends: its events would only cost it reading */
    if (client_attach(&c, instance, "bench-ws-flow", CLIENT_SEND, &err) < 0)
        die("attach: %s", err.msg);
    snprintf(path, sizeof(path), "%s/gateways/ws/bourse-ws", build);
    ws_pid = spawn(path, ws_ini, ws_log);
    int port = ws_port_from_log(ws_log);

    harness_describe(stdout, argc, argv);
    printf("bourse-ws fed by bourse-engine (idle backoff, journal off) vs raw: a forked server writing pre-built\n"
           "frames of the same size at the same rate; clients subscribe to BTC-USD's book, one update per command.\n"
           "latency: engine event time (ts) to client receipt, CLOCK_REALTIME, microseconds\n\n");
    printf("%-8s %6s %10s %12s %8s %9s %9s %9s %7s\n", "server", "conns", "cmds/s", "msgs/s", "MB/s", "p50_us",
           "p99_us", "p99.9_us", "closed");
    run_t r = {.hist = calloc(HIST_US, sizeof(uint32_t))};
    flow_t f = {.c = c};
    char *save, *tok = strtok_r(clients_s, ",", &save);
    for (; tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        uint32_t n = (uint32_t)atoi(tok);
        if (n == 0 || n > CLIENTS_MAX)
            die("client counts are 1..%d", CLIENTS_MAX);
        uint64_t rate = total / n;
        if (rate > rate_max)
            rate = rate_max;
        if (rate == 0)
            rate = 1;
        f.rate = rate;
        open_clients(&r, n, port);
        result_t g = measure(&r, seconds, &f, rate);
        close_clients(&r);
        print_row("gateway", n, &g);
        /* the peer at the same message rate, with the gateway's message size */
        size_t msg_bytes = g.msgs_s > 0 ? (size_t)(g.mb_s * 1e6 / g.msgs_s) : 200;
        int lfd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        socklen_t al = sizeof(a);
        if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0 ||
            getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
            die("peer listen: %s", strerror(errno));
        pid_t pp = fork();
        if (pp == 0)
            peer_main(lfd, n, rate, msg_bytes);
        close(lfd);
        open_clients(&r, n, ntohs(a.sin_port));
        result_t p = measure(&r, seconds, NULL, rate);
        close_clients(&r);
        waitpid(pp, NULL, 0);
        print_row("raw", n, &p);
        printf("%-8s %6u gateway/raw messages %.2f\n", "ratio", n, p.msgs_s > 0 ? g.msgs_s / p.msgs_s : 0);
    }
    free(r.hist);
    client_detach(c);
    kill(ws_pid, SIGINT);
    waitpid(ws_pid, NULL, 0);
    kill(engine_pid, SIGINT);
    waitpid(engine_pid, NULL, 0);
    snprintf(path, sizeof(path), "rm -rf %s /dev/shm/bourse.%s /dev/shm/bourse.%s.lock", tmpdir, instance, instance);
    if (system(path) != 0)
        fprintf(stderr, "bench-ws: could not remove %s\n", tmpdir);
    return 0;
}
