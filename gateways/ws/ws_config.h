/* ws_config.h - bourse-ws's configuration: the [ws] section of an INI file
 * plus BOURSE_WS_<KEY> environment overrides, in the style of the engine's
 * and bourse-rest's. Every key has a default, a type and a range; an unknown
 * section or key, a duplicate, a malformed value or a missing file is one
 * line naming the file, the line and the key. */
#ifndef BOURSE_WS_CONFIG_H
#define BOURSE_WS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "idle.h"
#include "inicfg.h"
#include "layout.h"

enum { WS_PATH_MAX = 1024, WS_ADDR_MAX = 64 };

typedef struct ws_config {
    char instance[SHM_NAME_MAX];      /* the engine instance to attach to */
    char listen[WS_ADDR_MAX];         /* numeric IPv4 or IPv6 address */
    uint32_t port;                    /* 0: any free port (logged) */
    char keystore[WS_PATH_MAX];       /* API key store, shared with bourse-rest */
    char master_key[WS_PATH_MAX];
    uint32_t max_connections;
    uint32_t queue_max_messages;      /* per client: more queued is an overflow (close 4001) */
    uint32_t queue_max_bytes;         /* per client, likewise in bytes */
    uint32_t sndbuf_bytes;            /* SO_SNDBUF of client sockets; 0: the kernel's autotuning */
    uint32_t max_message_bytes;       /* largest client message (frame or reassembled); more: close 1009 */
    uint32_t max_subscriptions;       /* per client */
    uint32_t msg_rate_per_s, msg_burst; /* client messages per connection: token bucket */
    uint32_t idle_timeout_ms;         /* nothing received (not even a pong) this long: close 4002 */
    uint32_t ping_interval_ms;        /* the server pings every client this often */
    uint32_t handshake_timeout_ms;    /* the HTTP upgrade must arrive within this */
    uint32_t close_timeout_ms;        /* after a close frame, the socket closes within this */
    bool conflation;                  /* book channel: one update per interval with the latest levels */
    uint32_t conflation_interval_ms;
    uint32_t recv_window_ms;          /* signed timestamps this far from now are accepted */
    uint32_t replay_capacity;         /* signatures the replay guard holds */
    uint32_t trades_history;          /* recent trades per symbol sent on subscribe */
    uint32_t candles_history;         /* recent candles per symbol and interval sent on subscribe */
    uint32_t query_timeout_ms;        /* a snapshot query unanswered this long is sent again */
    idle_kind_t idle;                 /* the loop when there is nothing to do */
    uint32_t idle_sleep_max_us;       /* longest backoff sleep */
} ws_config_t;

/* The [ws] keys (inicfg.h): main() loads, overrides and prints the
 * configuration with them (mainopt.h). */
extern const inicfg_t ws_config_ini;

void ws_config_defaults(ws_config_t *cfg);

/* Cross-key checks (ping before idle timeout). */
int ws_config_check(const ws_config_t *cfg, err_t *err);

#endif
