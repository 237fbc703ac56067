/* config.c - see config.h. Keys are a table (inicfg.h): adding one is one line. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "inicfg.h"
#include "shm.h"

#define CFG(f) offsetof(config_t, f)
#define U32(sec, k, f, lo, hi) {sec, k, INICFG_U32, CFG(f), lo, hi, 0, NULL}

static const char *const fsync_names[] = {"batch", "interval", "never", NULL};
static const char *const acks_names[] = {"fast", "durable", NULL};
static const char *const retain_names[] = {"all", "snapshots", NULL};

static const inicfg_key_t keys[] = {
    {"engine", "instance", INICFG_NAME, CFG(instance), 0, 0, SHM_NAME_MAX, NULL},
    U32("engine", "clients", clients, 1, SHM_CLIENTS_MAX),
    {"engine", "ring_capacity", INICFG_U32_POW2, CFG(ring_capacity), SHM_RING_CAP_MIN, SHM_RING_CAP_MAX, 0, NULL},
    U32("engine", "readers", readers, 1, SHM_READERS_MAX),
    {"engine", "event_log_capacity", INICFG_U32_POW2, CFG(event_log_capacity), SHM_EVLOG_CAP_MIN, SHM_EVLOG_CAP_MAX,
     0, NULL},
    {"engine", "cpu", INICFG_I32, CFG(cpu), -1, 1023, 0, NULL},
    {"engine", "idle", INICFG_IDLE, CFG(idle), 0, 0, 0, NULL},
    U32("engine", "idle_sleep_max_us", idle_sleep_max_us, 1, 1000000),
    U32("engine", "housekeeping_ms", housekeeping_ms, 1, 60000),
    {"engine", "shm_mode", INICFG_MODE, CFG(shm_mode), 0600, 0666, 0, NULL},
    {"engine", "data_dir", INICFG_STR, CFG(data_dir), 0, 0, CONFIG_PATH_MAX, NULL},
    U32("matcher", "max_orders", matcher.max_orders, 1, 1 << 30),
    U32("matcher", "max_gtd_orders", matcher.max_gtd, 1, 1 << 30),
    U32("matcher", "max_accounts", matcher.max_accounts, 1, 1 << 24),
    U32("matcher", "max_assets", matcher.max_assets, 1, 4096),
    U32("matcher", "max_instruments", matcher.max_instruments, 1, 65536),
    U32("matcher", "max_levels", matcher.max_levels, 1, 1 << 20),
    U32("matcher", "max_orders_per_account", matcher.max_account_orders, 1, 1 << 30),
    {"journal", "enabled", INICFG_BOOL, CFG(journal), 0, 0, 0, NULL},
    {"journal", "fsync", INICFG_ENUM, CFG(fsync), 0, 0, 0, fsync_names},
    U32("journal", "fsync_interval_ms", fsync_interval_ms, 1, 60000),
    U32("journal", "roll_mb", journal_roll_mb, 1, 1 << 20),
    {"journal", "buffer_kb", INICFG_U32_POW2, CFG(journal_buffer_kb), 4, 1 << 20, 0, NULL},
    {"journal", "acks", INICFG_ENUM, CFG(durable_acks), 0, 0, 0, acks_names},
    {"journal", "retain", INICFG_ENUM, CFG(journal_retain), 0, 0, 0, retain_names},
    U32("snapshot", "interval_s", snapshot_interval_s, 0, 86400 * 7),
    U32("snapshot", "keep", snapshot_keep, 1, 1000),
    U32("snapshot", "max_pause_ms", snapshot_max_pause_ms, 1, 60000),
};

const inicfg_t config_ini = {keys, sizeof(keys) / sizeof(keys[0]), NULL};

void config_defaults(config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->instance, sizeof(cfg->instance), "default");
    cfg->clients = 16;
    cfg->ring_capacity = 4096;
    cfg->readers = 16;
    cfg->event_log_capacity = 1u << 16;
    cfg->cpu = -1;
    cfg->idle = IDLE_BACKOFF;
    cfg->idle_sleep_max_us = 1000;
    cfg->housekeeping_ms = 100;
    cfg->shm_mode = 0600;
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "var/data");
    matcher_config_defaults(&cfg->matcher);
    cfg->journal = true;
    cfg->fsync = JOURNAL_FSYNC_BATCH;
    cfg->fsync_interval_ms = 10;
    cfg->journal_roll_mb = 256;
    cfg->journal_buffer_kb = 8192;
    cfg->durable_acks = 1;
    cfg->journal_retain = CONFIG_RETAIN_ALL;
    cfg->snapshot_interval_s = 300;
    cfg->snapshot_keep = 3;
    cfg->snapshot_max_pause_ms = 50;
}

int config_set(config_t *cfg, const char *section, const char *key, const char *value, err_t *err)
{
    return inicfg_set(&config_ini, cfg, section, key, value, err);
}

int config_parse(config_t *cfg, const char *text, const char *origin, err_t *err)
{
    return inicfg_parse(&config_ini, cfg, text, origin, err);
}

int config_load(config_t *cfg, const char *path, err_t *err)
{
    return inicfg_load(&config_ini, cfg, path, err);
}

int config_env(config_t *cfg, err_t *err)
{
    return inicfg_env(&config_ini, cfg, err);
}

void config_write(const config_t *cfg, FILE *f)
{
    inicfg_write(&config_ini, cfg, f);
}
