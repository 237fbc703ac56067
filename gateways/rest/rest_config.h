/* rest_config.h - bourse-rest's configuration: the [rest] section of an INI
 * file plus BOURSE_REST_<KEY> environment overrides, in the style of the
 * engine's config.h. Every key has a default, a type and a range; an unknown
 * section or key, a duplicate, a malformed value or a missing file is one
 * line naming the file, the line and the key. */
#ifndef BOURSE_REST_CONFIG_H
#define BOURSE_REST_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "idle.h"
#include "layout.h"

enum { REST_PATH_MAX = 1024, REST_ADDR_MAX = 64 };

typedef struct rest_config {
    char instance[SHM_NAME_MAX];     /* the engine instance to attach to */
    char listen[REST_ADDR_MAX];      /* numeric IPv4 or IPv6 address */
    uint32_t port;
    char keystore[REST_PATH_MAX];    /* API key store file (0600) */
    char master_key[REST_PATH_MAX];  /* master key file (0600) */
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

void rest_config_defaults(rest_config_t *cfg);

/* Parses the INI file at path into cfg (defaults or earlier values), then
 * applies environment overrides. Returns 0 or a negative errno with err set. */
int rest_config_load(rest_config_t *cfg, const char *path, err_t *err);

/* Parses INI text; origin names it in messages. No environment overrides. */
int rest_config_parse(rest_config_t *cfg, const char *text, const char *origin, err_t *err);

/* Applies BOURSE_REST_<KEY> variables from the environment. */
int rest_config_env(rest_config_t *cfg, err_t *err);

/* Sets one key from its text form. */
int rest_config_set(rest_config_t *cfg, const char *section, const char *key, const char *value,
                    err_t *err);

/* Writes the configuration in INI form (for --print-config). */
void rest_config_write(const rest_config_t *cfg, FILE *f);

#endif
