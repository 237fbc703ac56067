/* rest_config.c - see rest_config.h. Keys are a table (inicfg.h): adding one is one line. */
#include "rest_config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "keywatch.h"
#include "ratelimit.h"
#include "shm.h"

#define CFG(f) offsetof(rest_config_t, f)
#define U32(k, f, lo, hi) {"rest", k, INICFG_U32, CFG(f), lo, hi, 0, NULL}
#define STR(k, f, ty, size) {"rest", k, ty, CFG(f), 0, 0, size, NULL}

static const inicfg_key_t keys[] = {
    STR("instance", instance, INICFG_NAME, SHM_NAME_MAX),
    STR("listen", listen, INICFG_ADDR, REST_ADDR_MAX),
    U32("port", port, 0, 65535),
    STR("keystore", keystore, INICFG_STR, REST_PATH_MAX),
    STR("master_key", master_key, INICFG_STR, REST_PATH_MAX),
    U32("keystore_reload_burst", keystore_reload_burst, 1, 1000),
    U32("keystore_reload_interval_ms", keystore_reload_interval_ms, 1, 600000),
    STR("access_log", access_log, INICFG_STR, REST_PATH_MAX),
    U32("body_limit_bytes", body_limit_bytes, 64, 16 << 20),
    U32("header_limit_bytes", header_limit_bytes, 512, 1 << 20),
    U32("max_connections", max_connections, 1, 65536),
    U32("request_timeout_ms", request_timeout_ms, 1, 600000),
    U32("read_timeout_ms", read_timeout_ms, 10, 600000),
    U32("idle_timeout_ms", idle_timeout_ms, 10, 3600000),
    {"rest", "durable_acks", INICFG_BOOL, CFG(durable_acks), 0, 0, 0, NULL},
    U32("recv_window_ms", recv_window_ms, 100, 600000),
    U32("replay_capacity", replay_capacity, 8, 1 << 24),
    U32("key_rate_per_s", key_rate_per_s, 1, RL_RATE_MAX),
    U32("key_burst", key_burst, 1, RL_BURST_MAX),
    U32("addr_rate_per_s", addr_rate_per_s, 1, RL_RATE_MAX),
    U32("addr_burst", addr_burst, 1, RL_BURST_MAX),
    U32("ratelimit_keys", ratelimit_keys, 16, RL_CAPACITY_MAX),
    U32("trade_cache", trade_cache, 16, 1 << 24),
    U32("max_inflight", max_inflight, 1, 65535),
    U32("ready_heartbeat_ms", ready_heartbeat_ms, 100, 600000),
    {"rest", "idle", INICFG_IDLE, CFG(idle), 0, 0, 0, NULL},
    U32("idle_sleep_max_us", idle_sleep_max_us, 1, 1000000),
};

const inicfg_t rest_config_ini = {keys, sizeof(keys) / sizeof(keys[0]), "(bourse-rest reads [rest])"};

void rest_config_defaults(rest_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->instance, sizeof(cfg->instance), "default");
    snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1");
    cfg->port = 8080;
    snprintf(cfg->keystore, sizeof(cfg->keystore), "var/rest.keys");
    snprintf(cfg->master_key, sizeof(cfg->master_key), "var/rest.master");
    cfg->keystore_reload_burst = KEYWATCH_RELOAD_BURST;
    cfg->keystore_reload_interval_ms = KEYWATCH_RELOAD_INTERVAL_MS;
    snprintf(cfg->access_log, sizeof(cfg->access_log), "-");
    cfg->body_limit_bytes = 65536;
    cfg->header_limit_bytes = 8192;
    cfg->max_connections = 1024;
    cfg->request_timeout_ms = 2000;
    cfg->read_timeout_ms = 10000;
    cfg->idle_timeout_ms = 60000;
    cfg->durable_acks = true;
    cfg->recv_window_ms = 5000;
    cfg->replay_capacity = 65536;
    cfg->key_rate_per_s = 50;
    cfg->key_burst = 100;
    cfg->addr_rate_per_s = 200;
    cfg->addr_burst = 400;
    cfg->ratelimit_keys = 4096;
    cfg->trade_cache = 65536;
    cfg->max_inflight = 4096;
    cfg->ready_heartbeat_ms = 2000;
    cfg->idle = IDLE_BACKOFF;
    cfg->idle_sleep_max_us = 1000;
}
