/* server.h - the REST gateway's HTTP/1.1 server: one listening socket and
 * keep-alive connections on one epoll loop, no threads.
 *
 * A connection carries one request at a time: a complete request goes to
 * on_request and the connection reads nothing more (pipelined requests wait
 * in its buffer, in order) until the gateway answers with server_respond(),
 * which may be at once or after the engine replied. Slow or oversized input
 * never reaches the gateway: a request not complete within read_timeout_ms is
 * 408, a malformed or oversized one 4xx (on_refused builds the body), and the
 * connection is closed after the answer (lingering, so the client reads it).
 * Idle keep-alive connections close after idle_timeout_ms. */
#ifndef BOURSE_SERVER_H
#define BOURSE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "http.h"

/* A connection handle: (generation << 32) | index. A handle outlives its
 * connection safely: once the connection closes, the handle is stale. */
typedef uint64_t conn_id_t;
#define SERVER_CONN_INDEX(id) ((uint32_t)(id))

typedef struct server_config {
    const char *addr;            /* numeric IPv4 or IPv6 */
    uint16_t port;
    uint32_t max_connections;
    http_limits_t limits;
    uint32_t read_timeout_ms;
    uint32_t idle_timeout_ms;
} server_config_t;

typedef struct server_ops {
    /* A complete request. req points into the connection's buffer and stays
     * valid until server_respond() for it. Exactly one server_respond() must
     * follow, now or later (a closed connection makes it a no-op). */
    void (*on_request)(void *ctx, conn_id_t id, const http_request_t *req,
                       const struct sockaddr_storage *peer);
    /* A request refused by the server itself (status 400, 408, 413, 414, 431,
     * 501, 505 ...; why says what): answer it with server_respond(..., true). */
    void (*on_refused)(void *ctx, conn_id_t id, int status, const char *why,
                       const struct sockaddr_storage *peer);
} server_ops_t;

typedef struct server_stats {
    uint64_t accepted, refused_full, closed, requests, timeouts_read, timeouts_idle;
} server_stats_t;

typedef struct server server_t;

/* Binds and listens. Returns 0 or a negative errno with err naming the address. */
int server_open(server_t **out, const server_config_t *cfg, const server_ops_t *ops, void *ctx, err_t *err);
void server_close(server_t *s);

/* The answer to the request on id: status line, Content-Type JSON,
 * Content-Length, then extra_headers (complete "Name: value\r\n" lines, may be
 * empty), then body. close ends the connection after it. Returns 0, or
 * -ENOENT when the connection is gone (the answer is dropped). */
int server_respond(server_t *s, conn_id_t id, int status, const char *extra_headers, const char *body,
                   size_t body_len, bool close);

/* Waits up to timeout_ns for socket activity (0: only what is ready), then
 * handles it: reads, parses, calls the ops, writes, applies timeouts.
 * Returns how much work it did; 0 after an idle wait. */
int server_poll(server_t *s, uint64_t timeout_ns);

/* Whether id's connection is still open: then the request given to
 * on_request and not yet answered is still valid. */
bool server_conn_open(const server_t *s, conn_id_t id);

/* The bound port (useful with port 0). */
uint16_t server_port(const server_t *s);
uint32_t server_connections(const server_t *s);
void server_get_stats(const server_t *s, server_stats_t *out);

#endif
