/* rest_config.h - bourse-rest's configuration: the [rest] section of an INI
 * file plus BOURSE_REST_<KEY> environment overrides, in the style of the
 * engine's config.h. Every key has a default, a type and a range; an unknown
 * section or key, a duplicate, a malformed value or a missing file is one
 * line naming the file, the line and the key. */
#ifndef BOURSE_REST_CONFIG_H
#define BOURSE_REST_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "idle.h"
#include "inicfg.h"
#include "layout.h"

enum { REST_PATH_MAX = 1024, REST_ADDR_MAX = 64 };

typedef struct rest_config {
    char instance[SHM_NAME_MAX];     /* the engine instance to attach to */
    char listen[REST_ADDR_MAX];      /* numeric IPv4 or IPv6 address */
    uint32_t port;
    char keystore[REST_PATH_MAX];    /* API key store file (0600) */
    char master_key[REST_PATH_MAX];  /* master key file (0600) */
    uint32_t keystore_reload_burst;  /* key store rereads at once (keywatch.h's bound) */
    uint32_t keystore_reload_interval_ms; /* then one every this long at most */
    char access_log[REST_PATH_MAX];  /* "-": stderr */
    uint32_t body_limit_bytes;       /* larger bodies: 413 */
    uint32_t header_limit_bytes;     /* larger header blocks: 431 */
    uint32_t max_connections;
    uint32_t request_timeout_ms;     /* engine answer (and durable ack) within this, else 504 */
    uint32_t read_timeout_ms;        /* a started request must arrive within this, else 408 */
    uint32_t idle_timeout_ms;        /* an idle keep-alive connection is closed after this */
    bool durable_acks;               /* answer only once the command is durable */
    uint32_t recv_window_ms;         /* signed timestamps this far from now are accepted */
    uint32_t replay_capacity;        /* signatures the replay guard holds */
    uint32_t key_rate_per_s, key_burst;   /* token bucket per API key */
    uint32_t addr_rate_per_s, addr_burst; /* token bucket per source address */
    uint32_t ratelimit_keys;         /* buckets tracked at once, per table */
    uint32_t trade_cache;            /* recent trades kept for /trades and /fills */
    uint32_t max_inflight;           /* commands awaiting the engine at once */
    uint32_t ready_heartbeat_ms;     /* /readyz fails when the engine's heartbeat is older */
    idle_kind_t idle;                /* the poll loop when there is nothing to do */
    uint32_t idle_sleep_max_us;      /* longest backoff sleep */
} rest_config_t;

/* The [rest] keys (inicfg.h): main() loads, overrides and prints the
 * configuration with them (mainopt.h). */
extern const inicfg_t rest_config_ini;

void rest_config_defaults(rest_config_t *cfg);

#endif
