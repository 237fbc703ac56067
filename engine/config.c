/* config.c - see config.h. Keys are a table: adding one is one line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "shm.h"

typedef enum key_type {
    KEY_U32,
    KEY_U32_POW2,
    KEY_I32,
    KEY_NAME,
    KEY_IDLE,
    KEY_MODE,
    KEY_PATH,
    KEY_BOOL,
    KEY_FSYNC,
    KEY_ACKS,
} key_type_t;

typedef struct key_def {
    const char *section;
    const char *key;
    key_type_t type;
    size_t off;
    int64_t min, max;
} key_def_t;

#define CFG(f) offsetof(config_t, f)

static const key_def_t keys[] = {
    {"engine", "instance", KEY_NAME, CFG(instance), 0, 0},
    {"engine", "clients", KEY_U32, CFG(clients), 1, SHM_CLIENTS_MAX},
    {"engine", "ring_capacity", KEY_U32_POW2, CFG(ring_capacity), SHM_RING_CAP_MIN, SHM_RING_CAP_MAX},
    {"engine", "readers", KEY_U32, CFG(readers), 1, SHM_READERS_MAX},
    {"engine", "event_log_capacity", KEY_U32_POW2, CFG(event_log_capacity), SHM_EVLOG_CAP_MIN,
     SHM_EVLOG_CAP_MAX},
    {"engine", "cpu", KEY_I32, CFG(cpu), -1, 1023},
    {"engine", "idle", KEY_IDLE, CFG(idle), 0, 0},
    {"engine", "idle_sleep_max_us", KEY_U32, CFG(idle_sleep_max_us), 1, 1000000},
    {"engine", "housekeeping_ms", KEY_U32, CFG(housekeeping_ms), 1, 60000},
    {"engine", "shm_mode", KEY_MODE, CFG(shm_mode), 0600, 0666},
    {"engine", "data_dir", KEY_PATH, CFG(data_dir), 0, 0},
    {"matcher", "max_orders", KEY_U32, CFG(matcher.max_orders), 1, 1 << 30},
    {"matcher", "max_gtd_orders", KEY_U32, CFG(matcher.max_gtd), 1, 1 << 30},
    {"matcher", "max_accounts", KEY_U32, CFG(matcher.max_accounts), 1, 1 << 24},
    {"matcher", "max_assets", KEY_U32, CFG(matcher.max_assets), 1, 4096},
    {"matcher", "max_instruments", KEY_U32, CFG(matcher.max_instruments), 1, 65536},
    {"matcher", "max_levels", KEY_U32, CFG(matcher.max_levels), 1, 1 << 20},
    {"matcher", "max_orders_per_account", KEY_U32, CFG(matcher.max_account_orders), 1, 1 << 30},
    {"journal", "enabled", KEY_BOOL, CFG(journal), 0, 1},
    {"journal", "fsync", KEY_FSYNC, CFG(fsync), 0, 0},
    {"journal", "fsync_interval_ms", KEY_U32, CFG(fsync_interval_ms), 1, 60000},
    {"journal", "roll_mb", KEY_U32, CFG(journal_roll_mb), 1, 1 << 20},
    {"journal", "buffer_kb", KEY_U32_POW2, CFG(journal_buffer_kb), 4, 1 << 20},
    {"journal", "acks", KEY_ACKS, CFG(durable_acks), 0, 1},
    {"snapshot", "interval_s", KEY_U32, CFG(snapshot_interval_s), 0, 86400 * 7},
    {"snapshot", "keep", KEY_U32, CFG(snapshot_keep), 1, 1000},
    {"snapshot", "max_pause_ms", KEY_U32, CFG(snapshot_max_pause_ms), 1, 60000},
};
enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };

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
    cfg->journal = 1;
    cfg->fsync = JOURNAL_FSYNC_BATCH;
    cfg->fsync_interval_ms = 10;
    cfg->journal_roll_mb = 256;
    cfg->journal_buffer_kb = 8192;
    cfg->durable_acks = 1;
    cfg->snapshot_interval_s = 300;
    cfg->snapshot_keep = 3;
    cfg->snapshot_max_pause_ms = 50;
}

static int parse_int(const char *v, int base, int64_t *out)
{
    char *end;
    errno = 0;
    while (isspace((unsigned char)*v))
        v++;
    if (*v == '\0')
        return -EINVAL;
    long long n = strtoll(v, &end, base);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *out = n;
    return 0;
}

int config_set(config_t *cfg, const char *section, const char *key, const char *value, err_t *err)
{
    const key_def_t *d = NULL;
    bool section_known = false;
    for (unsigned i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].section, section) != 0)
            continue;
        section_known = true;
        if (strcmp(keys[i].key, key) == 0) {
            d = &keys[i];
            break;
        }
    }
    if (!section_known)
        return err_set(err, -EINVAL, "unknown section [%s]", section);
    if (d == NULL)
        return err_set(err, -EINVAL, "unknown key '%s' in [%s]", key, section);

    void *field = (char *)cfg + d->off;
    int64_t n;
    switch (d->type) {
    case KEY_NAME: {
        err_t why;
        if (shm_name_check(value, &why) < 0)
            return err_set(err, -EINVAL, "%s: %s", key, why.msg);
        snprintf((char *)field, SHM_NAME_MAX, "%s", value);
        return 0;
    }
    case KEY_PATH:
        if (value[0] == '\0' || strlen(value) >= CONFIG_PATH_MAX)
            return err_set(err, -EINVAL, "%s: a path of 1 to %d bytes is needed", key, CONFIG_PATH_MAX - 1);
        snprintf((char *)field, CONFIG_PATH_MAX, "%s", value);
        return 0;
    case KEY_BOOL:
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return err_set(err, -EINVAL, "%s: '%s' is not true or false", key, value);
        *(uint32_t *)field = value[0] == 't';
        return 0;
    case KEY_FSYNC:
        if (journal_fsync_parse(value, (journal_fsync_t *)field) < 0)
            return err_set(err, -EINVAL, "%s: '%s' is not one of batch, interval, never", key, value);
        return 0;
    case KEY_ACKS:
        if (strcmp(value, "durable") != 0 && strcmp(value, "fast") != 0)
            return err_set(err, -EINVAL, "%s: '%s' is not durable or fast", key, value);
        *(uint32_t *)field = value[0] == 'd';
        return 0;
    case KEY_IDLE:
        if (idle_parse(value, (idle_kind_t *)field) < 0)
            return err_set(err, -EINVAL, "%s: '%s' is not one of spin, yield, backoff", key, value);
        return 0;
    case KEY_MODE:
        if (parse_int(value, 8, &n) < 0 || n < d->min || n > d->max || (n & 0111) != 0)
            return err_set(err, -EINVAL, "%s: '%s' is not an octal mode from 0600 to 0666", key, value);
        *(uint32_t *)field = (uint32_t)n;
        return 0;
    case KEY_U32:
    case KEY_U32_POW2:
    case KEY_I32:
        if (parse_int(value, 10, &n) < 0)
            return err_set(err, -EINVAL, "%s: '%s' is not an integer", key, value);
        if (n < d->min || n > d->max)
            return err_set(err, -EINVAL, "%s: %" PRId64 " is outside %" PRId64 "..%" PRId64, key, n,
                           d->min, d->max);
        if (d->type == KEY_U32_POW2 && (n & (n - 1)) != 0)
            return err_set(err, -EINVAL, "%s: %" PRId64 " is not a power of two", key, n);
        if (d->type == KEY_I32)
            *(int32_t *)field = (int32_t)n;
        else
            *(uint32_t *)field = (uint32_t)n;
        return 0;
    }
    return err_set(err, -EINVAL, "%s: unhandled type", key);
}

typedef struct parse_ctx {
    config_t *cfg;
    err_t why;
    int failed;
    int line;               /* lines handed to inih so far */
    int fail_line;
    int first_line[NKEYS];  /* where each key was set: a second time is an error */
    FILE *file;             /* the source: a file... */
    const char *text;       /* ...or a string */
} parse_ctx_t;

/* inih reads through these, so that we know the line a key came from. */
static char *read_file_line(char *buf, int n, void *stream)
{
    parse_ctx_t *p = stream;
    char *r = fgets(buf, n, p->file);
    if (r != NULL)
        p->line++;
    return r;
}

static char *read_text_line(char *buf, int n, void *stream)
{
    parse_ctx_t *p = stream;
    if (*p->text == '\0' || n < 2)
        return NULL;
    int i = 0;
    while (i < n - 1 && p->text[i] != '\0') {
        buf[i] = p->text[i];
        if (p->text[i++] == '\n')
            break;
    }
    buf[i] = '\0';
    p->text += i;
    p->line++;
    return buf;
}

static int key_index(const char *section, const char *key)
{
    for (unsigned i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
            return (int)i;
    return -1;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx_t *p = user;
    if (p->failed)
        return 0;
    int k = key_index(section, key);
    if (k >= 0 && p->first_line[k] != 0) {
        err_set(&p->why, -EINVAL, "duplicate key '%s' in [%s] (first set on line %d)", key, section,
                p->first_line[k]);
    } else if (config_set(p->cfg, section, key, value, &p->why) == 0) {
        if (k >= 0)
            p->first_line[k] = p->line;
        return 1;
    }
    p->failed = 1;
    p->fail_line = p->line;
    return 0;
}

static int parse_result(int rc, parse_ctx_t *p, const char *origin, err_t *err)
{
    if (rc == 0)
        return 0;
    if (rc == -2)
        return err_set(err, -ENOMEM, "%s: out of memory", origin);
    if (p->failed && p->fail_line == rc)
        return err_set(err, -EINVAL, "%s:%d: %s", origin, rc, p->why.msg);
    return err_set(err, -EINVAL, "%s:%d: malformed line (expected [section] or key = value)", origin,
                   rc);
}

int config_parse(config_t *cfg, const char *text, const char *origin, err_t *err)
{
    parse_ctx_t p = {.cfg = cfg, .text = text};
    return parse_result(ini_parse_stream(read_text_line, &p, on_key, &p), &p, origin, err);
}

int config_load(config_t *cfg, const char *path, err_t *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_set(err, -errno, "config %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return err_set(err, -EINVAL, "config %s: not a regular file", path);
    }
    parse_ctx_t p = {.cfg = cfg, .file = f};
    int rc = ini_parse_stream(read_file_line, &p, on_key, &p);
    int read_failed = ferror(f);
    fclose(f);
    if (read_failed)
        return err_set(err, -EIO, "config %s: read error", path);
    rc = parse_result(rc, &p, path, err);
    if (rc < 0)
        return rc;
    return config_env(cfg, err);
}

int config_env(config_t *cfg, err_t *err)
{
    for (unsigned i = 0; i < NKEYS; i++) {
        char name[96];
        int n = snprintf(name, sizeof(name), "BOURSE_%s_%s", keys[i].section, keys[i].key);
        for (int j = 0; j < n; j++)
            name[j] = (char)toupper((unsigned char)name[j]);
        const char *v = getenv(name);
        if (v == NULL)
            continue;
        err_t why;
        if (config_set(cfg, keys[i].section, keys[i].key, v, &why) < 0)
            return err_set(err, -EINVAL, "environment %s: %s", name, why.msg);
    }
    return 0;
}

void config_write(const config_t *cfg, FILE *f)
{
    const char *section = "";
    for (unsigned i = 0; i < NKEYS; i++) {
        const key_def_t *d = &keys[i];
        const void *field = (const char *)cfg + d->off;
        if (strcmp(section, d->section) != 0) {
            fprintf(f, "%s[%s]\n", i ? "\n" : "", d->section);
            section = d->section;
        }
        switch (d->type) {
        case KEY_NAME:
        case KEY_PATH:
            fprintf(f, "%s = %s\n", d->key, (const char *)field);
            break;
        case KEY_BOOL:
            fprintf(f, "%s = %s\n", d->key, *(const uint32_t *)field ? "true" : "false");
            break;
        case KEY_FSYNC:
            fprintf(f, "%s = %s\n", d->key, journal_fsync_name(*(const journal_fsync_t *)field));
            break;
        case KEY_ACKS:
            fprintf(f, "%s = %s\n", d->key, *(const uint32_t *)field ? "durable" : "fast");
            break;
        case KEY_IDLE:
            fprintf(f, "%s = %s\n", d->key, idle_name(*(const idle_kind_t *)field));
            break;
        case KEY_MODE:
            fprintf(f, "%s = 0%o\n", d->key, *(const uint32_t *)field);
            break;
        case KEY_I32:
            fprintf(f, "%s = %" PRId32 "\n", d->key, *(const int32_t *)field);
            break;
        case KEY_U32:
        case KEY_U32_POW2:
            fprintf(f, "%s = %" PRIu32 "\n", d->key, *(const uint32_t *)field);
            break;
        }
    }
}
