/* ws_config.c - see ws_config.h. Keys are a table (inicfg.h): adding one is one line. */
#include "ws_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"
#include "shm.h"

#define CFG(f) offsetof(ws_config_t, f)
#define U32(k, f, lo, hi) {"ws", k, INICFG_U32, CFG(f), lo, hi, 0, NULL}
#define STR(k, f, ty, size) {"ws", k, ty, CFG(f), 0, 0, size, NULL}

static const inicfg_key_t keys[] = {
    STR("instance", instance, INICFG_NAME, SHM_NAME_MAX),
    STR("listen", listen, INICFG_ADDR, WS_ADDR_MAX),
    U32("port", port, 0, 65535),
    STR("keystore", keystore, INICFG_STR, WS_PATH_MAX),
    STR("master_key", master_key, INICFG_STR, WS_PATH_MAX),
    U32("max_connections", max_connections, 1, 65536),
    U32("queue_max_messages", queue_max_messages, 16, 1 << 20),
    U32("queue_max_bytes", queue_max_bytes, 65536, 1 << 30),
    U32("sndbuf_bytes", sndbuf_bytes, 0, 1 << 30),
    U32("max_message_bytes", max_message_bytes, 256, 1 << 20),
    U32("max_subscriptions", max_subscriptions, 1, 4096),
    U32("msg_rate_per_s", msg_rate_per_s, 1, RL_RATE_MAX),
    U32("msg_burst", msg_burst, 1, RL_BURST_MAX),
    U32("idle_timeout_ms", idle_timeout_ms, 100, 3600000),
    U32("ping_interval_ms", ping_interval_ms, 50, 3600000),
    U32("handshake_timeout_ms", handshake_timeout_ms, 10, 600000),
    U32("close_timeout_ms", close_timeout_ms, 10, 600000),
    {"ws", "conflation", INICFG_BOOL, CFG(conflation), 0, 0, 0, NULL},
    U32("conflation_interval_ms", conflation_interval_ms, 1, 60000),
    U32("recv_window_ms", recv_window_ms, 100, 600000),
    U32("replay_capacity", replay_capacity, 8, 1 << 24),
    U32("trades_history", trades_history, 1, 10000),
    U32("candles_history", candles_history, 1, 10000),
    U32("query_timeout_ms", query_timeout_ms, 10, 600000),
    {"ws", "idle", INICFG_IDLE, CFG(idle), 0, 0, 0, NULL},
    U32("idle_sleep_max_us", idle_sleep_max_us, 1, 1000000),
};

const inicfg_t ws_config_ini = {keys, sizeof(keys) / sizeof(keys[0]), "(bourse-ws reads [ws])"};

void ws_config_defaults(ws_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->instance, sizeof(cfg->instance), "default");
    snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1");
    cfg->port = 8081;
    /* bourse-rest's store: one API key serves both gateways */
    snprintf(cfg->keystore, sizeof(cfg->keystore), "var/rest.keys");
    snprintf(cfg->master_key, sizeof(cfg->master_key), "var/rest.master");
    cfg->max_connections = 4096;
    cfg->queue_max_messages = 8192;
    cfg->queue_max_bytes = 4 << 20;
    cfg->max_message_bytes = 4096;
    cfg->max_subscriptions = 64;
    cfg->msg_rate_per_s = 20;
    cfg->msg_burst = 100;
    cfg->idle_timeout_ms = 60000;
    cfg->ping_interval_ms = 20000;
    cfg->handshake_timeout_ms = 5000;
    cfg->close_timeout_ms = 2000;
    cfg->conflation = false;
    cfg->conflation_interval_ms = 100;
    cfg->recv_window_ms = 5000;
    cfg->replay_capacity = 65536;
    cfg->trades_history = 100;
    cfg->candles_history = 300;
    cfg->query_timeout_ms = 2000;
    cfg->idle = IDLE_BACKOFF;
    cfg->idle_sleep_max_us = 1000;
}

int ws_config_check(const ws_config_t *cfg, err_t *err)
{
    if (cfg->ping_interval_ms >= cfg->idle_timeout_ms)
        return err_set(err, -EINVAL, "ping_interval_ms (%u) must be below idle_timeout_ms (%u), or live clients "
                       "would be closed as idle", cfg->ping_interval_ms, cfg->idle_timeout_ms);
    return 0;
}
