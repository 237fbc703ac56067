/* config.h - the engine's configuration: one INI file plus environment overrides.
 *
 * Every key has a default, a type and a range; an unknown section or key, a
 * malformed value or a missing file is an error that names the file, the line
 * and the key. BOURSE_<SECTION>_<KEY> in the environment overrides the file
 * (BOURSE_ENGINE_IDLE=yield). Used by bourse-engine, the CLI and the tests. */
#ifndef BOURSE_CONFIG_H
#define BOURSE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "idle.h"
#include "inicfg.h"
#include "journal.h"
#include "layout.h"
#include "matcher.h"

enum { CONFIG_PATH_MAX = 200 };

/* [journal] retain: which journal files the engine keeps. */
typedef enum config_retain {
    CONFIG_RETAIN_ALL = 0,        /* every file: the journal is the audit trail */
    CONFIG_RETAIN_SNAPSHOTS = 1,  /* what a recovery from any snapshot kept needs: files whose
                                     records all lie at or before the oldest one go */
} config_retain_t;

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
    char data_dir[CONFIG_PATH_MAX]; /* journal and snapshots go under <data_dir>/<instance>/ */
    matcher_config_t matcher;     /* [matcher]: capacities, all allocated at start */
    /* [journal] */
    bool journal;                 /* every command is journaled and recovered at start */
    uint32_t fsync;               /* journal_fsync_t */
    uint32_t fsync_interval_ms;
    uint32_t journal_roll_mb;     /* a file rolls before it passes this size */
    uint32_t journal_buffer_kb;   /* the matcher-to-writer buffer, a power of two */
    uint32_t durable_acks;        /* 1: durable_seq follows the disk; 0: fast, it follows sequencing */
    uint32_t journal_retain;      /* config_retain_t */
    /* [snapshot] */
    uint32_t snapshot_interval_s; /* 0: only on request and at shutdown */
    uint32_t snapshot_keep;       /* snapshots kept; older ones are deleted */
    uint32_t snapshot_max_pause_ms; /* a longer matcher pause for a snapshot is reported as an error */
} config_t;

/* The keys (inicfg.h): what main() loads through mainopt.h. */
extern const inicfg_t config_ini;

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
