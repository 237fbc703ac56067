/* config.h - the engine's configuration: one INI file plus environment overrides.
 *
 * Every key has a default, a type and a range; an unknown section or key, a
 * malformed value or a missing file is an error that names the file, the line
 * and the key. BOURSE_<SECTION>_<KEY> in the environment overrides the file
 * (BOURSE_ENGINE_IDLE=yield). Used by bourse-engine, the CLI and the tests. */
#ifndef BOURSE_CONFIG_H
#define BOURSE_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "idle.h"
#include "layout.h"
#include "matcher.h"

typedef struct config {
    char instance[SHM_NAME_MAX];
    uint32_t clients;             /* command rings */
    uint32_t ring_capacity;       /* records per command ring */
    uint32_t readers;             /* event-log reader slots */
    uint32_t event_log_capacity;  /* records in the event log */
    int32_t cpu;                  /* core for the engine loop, -1: not pinned */
    idle_kind_t idle;
    uint32_t idle_sleep_max_us;   /* longest backoff sleep */
    uint32_t housekeeping_ms;     /* heartbeat and dead-client reclaim period */
    uint32_t shm_mode;            /* permissions of the segment */
    matcher_config_t matcher;     /* [matcher]: capacities, all allocated at start */
} config_t;

void config_defaults(config_t *cfg);

/* Parses the INI file at path into cfg (which holds defaults or earlier
 * values), then applies environment overrides. Returns 0 or a negative errno. */
int config_load(config_t *cfg, const char *path, err_t *err);

/* Parses INI text; origin names it in messages. No environment overrides. */
int config_parse(config_t *cfg, const char *text, const char *origin, err_t *err);

/* Applies BOURSE_<SECTION>_<KEY> variables from the process environment. */
int config_env(config_t *cfg, err_t *err);

/* Sets one key from its text form, as the file or the environment would. */
int config_set(config_t *cfg, const char *section, const char *key, const char *value, err_t *err);

/* Writes the configuration in INI form (for `bourse-engine --print-config`). */
void config_write(const config_t *cfg, FILE *f);

#endif
