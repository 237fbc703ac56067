/* main_exporter.c - bourse-exporter: serves an instance's metrics at
 * /metrics in the Prometheus text format.
 *
 * A small HTTP/1.1 server on poll(): each connection sends one request and
 * gets one answer (then the connection closes); a request line or headers
 * past REQ_MAX bytes is 431, a client slower than REQ_TIMEOUT_MS is dropped,
 * anything but GET of /metrics, /healthz or / is 404 or 405. Each scrape
 * reads the segment afresh, so an engine restart needs nothing from here. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "export.h"
#include "log.h"
#include "shm.h"
#include "version.h"

enum { CONN_MAX = 64, REQ_MAX = 8192, REQ_TIMEOUT_MS = 5000 };

typedef struct conn {
    int fd;
    size_t len;
    uint64_t deadline_ns;
    char req[REQ_MAX];
} conn_t;

static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store_explicit(&stop_requested, true, memory_order_relaxed);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the client went away: nothing to do */
        p += w;
        n -= (size_t)w;
    }
}

static void reply(int fd, int status, const char *reason, const char *type, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
                     reason, type, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static void answer(conn_t *c, const char *instance)
{
    char method[16], path[256];
    if (sscanf(c->req, "%15s %255s HTTP/1.", method, path) != 2) {
        reply(c->fd, 400, "Bad Request", "text/plain", "malformed request line\n", 23);
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        reply(c->fd, 405, "Method Not Allowed", "text/plain", "only GET\n", 9);
        return;
    }
    char *q = strchr(path, '?');
    if (q != NULL)
        *q = '\0';
    if (strcmp(path, "/metrics") == 0) {
        out_t o = {0};
        export_metrics(&o, instance);
        if (o.failed)
            reply(c->fd, 500, "Internal Server Error", "text/plain", "out of memory\n", 14);
        else
            reply(c->fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", o.buf, o.len);
        free(o.buf);
    } else if (strcmp(path, "/healthz") == 0) {
        reply(c->fd, 200, "OK", "text/plain", "ok\n", 3);
    } else if (strcmp(path, "/") == 0) {
        static const char page[] = "<html><body><h1>bourse-exporter</h1><a href=\"/metrics\">/metrics</a></body></html>\n";
        reply(c->fd, 200, "OK", "text/html", page, sizeof(page) - 1);
    } else {
        reply(c->fd, 404, "Not Found", "text/plain", "not found\n", 10);
    }
}

static int listen_on(const char *addr, err_t *err)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (colon == NULL || colon == addr || (size_t)(colon - addr) >= sizeof(host) || *end != '\0' || port < 1 ||
        port > 65535)
        return err_set(err, -EINVAL, "--listen '%s' is not HOST:PORT (e.g. 127.0.0.1:9464)", addr);
    snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return err_set(err, -EINVAL, "--listen: '%s' is not an IPv4 address", host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
        int rc = -errno;
        if (fd >= 0)
            close(fd);
        return err_set(err, rc, "cannot listen on %s: %s", addr, strerror(-rc));
    }
    return fd;
}

static void usage(FILE *f)
{
    fputs("usage: bourse-exporter [-i INSTANCE] [--listen HOST:PORT]\n"
          "  -i, --instance NAME   instance (default: $BOURSE_ENGINE_INSTANCE or 'default')\n"
          "  -l, --listen ADDR     where to serve /metrics (default 127.0.0.1:9464)\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"instance", required_argument, NULL, 'i'}, {"listen", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *instance = getenv("BOURSE_ENGINE_INSTANCE"), *listen_addr = "127.0.0.1:9464";
    if (instance == NULL)
        instance = "default";
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":i:l:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'i': instance = optarg; break;
        case 'l': listen_addr = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("bourse-exporter %s\n", BOURSE_VERSION); return 0;
        case ':': fprintf(stderr, "bourse-exporter: option '%s' needs a value\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "bourse-exporter: unknown option '%s' (see --help)\n", argv[optind - 1]); return 2;
        }
    }
    err_t err = {0};
    if (optind < argc) {
        fprintf(stderr, "bourse-exporter: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (shm_name_check(instance, &err) < 0) {
        fprintf(stderr, "bourse-exporter: %s\n", err.msg);
        return 2;
    }
    int lfd = listen_on(listen_addr, &err);
    if (lfd < 0) {
        fprintf(stderr, "bourse-exporter: %s\n", err.msg);
        return 1;
    }
    log_init("exporter", LOG_INFO);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    log_info("serving instance %s at http://%s/metrics", instance, listen_addr);

    static conn_t conns[CONN_MAX];
    for (int i = 0; i < CONN_MAX; i++)
        conns[i].fd = -1;
    while (!atomic_load_explicit(&stop_requested, memory_order_relaxed)) {
        struct pollfd pf[CONN_MAX + 1];
        int map[CONN_MAX + 1], n = 0;
        pf[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
        map[n++] = -1;
        for (int i = 0; i < CONN_MAX; i++)
            if (conns[i].fd >= 0) {
                pf[n] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
                map[n++] = i;
            }
        if (poll(pf, (nfds_t)n, 500) < 0 && errno != EINTR)
            break;
        uint64_t now = clock_mono_ns();
        if (pf[0].revents & POLLIN) {
            int fd;
            while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                int slot = -1;
                for (int i = 0; i < CONN_MAX && slot < 0; i++)
                    if (conns[i].fd < 0)
                        slot = i;
                if (slot < 0) {
                    reply(fd, 503, "Service Unavailable", "text/plain", "busy\n", 5);
                    close(fd);
                    continue;
                }
                conns[slot].fd = fd;
                conns[slot].len = 0;
                conns[slot].deadline_ns = now + (uint64_t)REQ_TIMEOUT_MS * 1000000u;
            }
        }
        for (int k = 1; k < n; k++) {
            conn_t *c = &conns[map[k]];
            int done = 0;
            if (pf[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t r = recv(c->fd, c->req + c->len, REQ_MAX - 1 - c->len, 0);
                if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR))) {
                    done = 1;
                } else if (r > 0) {
                    c->len += (size_t)r;
                    c->req[c->len] = '\0';
                    if (strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL) {
                        answer(c, instance);
                        done = 1;
                    } else if (c->len >= REQ_MAX - 1) {
                        reply(c->fd, 431, "Request Header Fields Too Large", "text/plain", "request too large\n", 18);
                        done = 1;
                    }
                }
            }
            if (!done && now > c->deadline_ns) {
                reply(c->fd, 408, "Request Timeout", "text/plain", "request timeout\n", 16);
                done = 1;
            }
            if (done) {
                close(c->fd);
                c->fd = -1;
            }
        }
    }
    for (int i = 0; i < CONN_MAX; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    close(lfd);
    log_info("stopped");
    return 0;
}
