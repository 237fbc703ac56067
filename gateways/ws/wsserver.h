/* wsserver.h - bourse-ws's network side: one listening socket, HTTP/1.1
 * requests (the upgrade to WebSocket, the live page, /healthz) and RFC 6455
 * connections, all on one epoll loop, no threads.
 *
 * Every connection has a bounded send queue (queue_max_messages frames and
 * queue_max_bytes bytes). The gateway queues complete frames with wss_send();
 * nothing blocks: a frame that does not fit overflows the queue, and the
 * connection is closed with 4001 (WS_CLOSE_SLOW_CONSUMER): what it had not
 * started to receive is dropped, the close frame is queued, and the socket
 * closes once the frame is out or close_timeout_ms pass. So a client that
 * stops reading costs its own queue and nothing else: not another client's
 * latency, not the engine's. Queued frames go out at wss_flush() (one send()
 * per connection for everything queued since the last), and as sockets
 * drain.
 *
 * The server pings every connection every ping_interval_ms and closes one
 * that sent nothing (not even a pong) for idle_timeout_ms (4002). Frames that
 * break the protocol close with 1002, binary messages with 1003, text that
 * is not UTF-8 with 1007, messages over max_message_bytes with 1009.
 *
 * Callbacks are never made from inside wss_send(), wss_flush() or
 * wss_close_conn(), so the gateway may call those while walking its own
 * lists; on_close comes later, from wss_poll(). */
#ifndef BOURSE_WSSERVER_H
#define BOURSE_WSSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "wsproto.h"

/* A connection handle: (generation << 32) | index, never 0. A handle
 * outlives its connection safely: once closed, it is stale (-ENOENT). */
typedef uint64_t wsc_t;
#define WSC_INDEX(id) ((uint32_t)(id))

typedef struct wss_config {
    const char *addr;                /* numeric IPv4 or IPv6 */
    uint16_t port;                   /* 0: any free port */
    uint32_t max_connections;
    uint32_t queue_max_messages, queue_max_bytes;
    uint32_t max_message_bytes;
    uint32_t sndbuf_bytes;           /* 0: the kernel's default */
    uint32_t idle_timeout_ms, ping_interval_ms, handshake_timeout_ms, close_timeout_ms;
    const uint8_t *page;             /* served at GET / (text/html) */
    size_t page_len;
} wss_config_t;

typedef struct wss_ops {
    /* A WebSocket connection is open. req (its upgrade request) and peer
     * are valid during the call only. */
    void (*on_open)(void *ctx, wsc_t id, const ws_http_req_t *req, const struct sockaddr_storage *peer);
    /* A complete text message (UTF-8 checked), valid during the call. */
    void (*on_text)(void *ctx, wsc_t id, const char *text, size_t len);
    /* The connection is over (once per on_open): code is what was sent or
     * received in the close frame, 1006 when the socket just went away. */
    void (*on_close)(void *ctx, wsc_t id, uint16_t code, const char *why);
    /* GET /healthz: true when the gateway is ready (attached, books built). */
    bool (*ready)(void *ctx);
} wss_ops_t;

typedef struct wss_stats {
    uint64_t accepted, refused_full, http_requests, upgrades, closed;
    uint64_t frames_out, bytes_out, messages_in, send_calls;
    uint64_t slow_consumers, idle_closes, protocol_closes, flood_closes;
} wss_stats_t;

typedef struct wss wss_t;

/* Binds and listens. Returns 0 or a negative errno with err naming the address. */
int wss_open(wss_t **out, const wss_config_t *cfg, const wss_ops_t *ops, void *ctx, err_t *err);

/* Closes every connection at once (no on_close) and frees the server. */
void wss_destroy(wss_t *s);

/* Waits up to timeout_ns for socket activity (0: only what is ready),
 * handles it, runs the timers, flushes. Returns how much work it did. */
int wss_poll(wss_t *s, uint64_t timeout_ns);

/* Queues one complete frame (header included) on id. Returns 0; -ENOENT
 * when the connection is gone or closing; -ENOBUFS when it did not fit: the
 * queue overflowed and the connection is now closing with 4001. */
int wss_send(wss_t *s, wsc_t id, const uint8_t *frame, size_t len);

/* Writes what was queued since the last flush, one send() a connection. */
void wss_flush(wss_t *s);

/* Starts the closing handshake with code and reason (up to 123 bytes),
 * after what is queued. No-op on a connection already closing or gone. */
void wss_close_conn(wss_t *s, wsc_t id, uint16_t code, const char *reason);

/* Sends 1001 to every open connection and gives them up to wait_ms to go. */
void wss_shutdown(wss_t *s, uint32_t wait_ms);

/* Messages queued on id and not yet fully sent (0 when gone). */
uint32_t wss_queued(const wss_t *s, wsc_t id);

uint16_t wss_port(const wss_t *s);
uint32_t wss_connections(const wss_t *s);
void wss_get_stats(const wss_t *s, wss_stats_t *out);

#endif
