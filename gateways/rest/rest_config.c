/* rest_config.c - see rest_config.h. Keys are a table: adding one is one line. */
#include "rest_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

#include "ratelimit.h"
#include "shm.h"

typedef enum key_type { KEY_U32, KEY_BOOL, KEY_PATH, KEY_ADDR, KEY_NAME, KEY_IDLE } key_type_t;

typedef struct key_def {
    const char *key;
    key_type_t type;
    size_t off;
    int64_t min, max;
} key_def_t;

#define CFG(f) offsetof(rest_config_t, f)

static const char SECTION[] = "rest";

static const key_def_t keys[] = {
    {"instance", KEY_NAME, CFG(instance), 0, 0},
    {"listen", KEY_ADDR, CFG(listen), 0, 0},
    {"port", KEY_U32, CFG(port), 0, 65535},
    {"keystore", KEY_PATH, CFG(keystore), 0, 0},
    {"master_key", KEY_PATH, CFG(master_key), 0, 0},
    {"access_log", KEY_PATH, CFG(access_log), 0, 0},
    {"body_limit_bytes", KEY_U32, CFG(body_limit_bytes), 64, 16 << 20},
    {"header_limit_bytes", KEY_U32, CFG(header_limit_bytes), 512, 1 << 20},
    {"max_connections", KEY_U32, CFG(max_connections), 1, 65536},
    {"request_timeout_ms", KEY_U32, CFG(request_timeout_ms), 1, 600000},
    {"read_timeout_ms", KEY_U32, CFG(read_timeout_ms), 10, 600000},
    {"idle_timeout_ms", KEY_U32, CFG(idle_timeout_ms), 10, 3600000},
    {"durable_acks", KEY_BOOL, CFG(durable_acks), 0, 0},
    {"recv_window_ms", KEY_U32, CFG(recv_window_ms), 100, 600000},
    {"replay_capacity", KEY_U32, CFG(replay_capacity), 8, 1 << 24},
    {"key_rate_per_s", KEY_U32, CFG(key_rate_per_s), 1, RL_RATE_MAX},
    {"key_burst", KEY_U32, CFG(key_burst), 1, RL_BURST_MAX},
    {"addr_rate_per_s", KEY_U32, CFG(addr_rate_per_s), 1, RL_RATE_MAX},
    {"addr_burst", KEY_U32, CFG(addr_burst), 1, RL_BURST_MAX},
    {"ratelimit_keys", KEY_U32, CFG(ratelimit_keys), 16, RL_CAPACITY_MAX},
    {"trade_cache", KEY_U32, CFG(trade_cache), 16, 1 << 24},
    {"max_inflight", KEY_U32, CFG(max_inflight), 1, 65535},
    {"ready_heartbeat_ms", KEY_U32, CFG(ready_heartbeat_ms), 100, 600000},
    {"idle", KEY_IDLE, CFG(idle), 0, 0},
    {"idle_sleep_max_us", KEY_U32, CFG(idle_sleep_max_us), 1, 1000000},
};
enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };

void rest_config_defaults(rest_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->instance, sizeof(cfg->instance), "default");
    snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1");
    cfg->port = 8080;
    snprintf(cfg->keystore, sizeof(cfg->keystore), "var/rest.keys");
    snprintf(cfg->master_key, sizeof(cfg->master_key), "var/rest.master");
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

static int parse_int(const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    while (isspace((unsigned char)*v))
        v++;
    if (*v == '\0')
        return -EINVAL;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *out = n;
    return 0;
}

int rest_config_set(rest_config_t *cfg, const char *section, const char *key, const char *value, err_t *err)
{
    if (strcmp(section, SECTION) != 0)
        return err_set(err, -EINVAL, "unknown section [%s] (bourse-rest reads [rest])", section);
    const key_def_t *d = NULL;
    for (unsigned i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].key, key) == 0)
            d = &keys[i];
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
        if (value[0] == '\0' || strlen(value) >= REST_PATH_MAX)
            return err_set(err, -EINVAL, "%s: a path of 1 to %d bytes is needed", key, REST_PATH_MAX - 1);
        snprintf((char *)field, REST_PATH_MAX, "%s", value);
        return 0;
    case KEY_ADDR: {
        unsigned char tmp[16];
        if (strlen(value) >= REST_ADDR_MAX ||
            (inet_pton(AF_INET, value, tmp) != 1 && inet_pton(AF_INET6, value, tmp) != 1))
            return err_set(err, -EINVAL, "%s: '%s' is not a numeric IPv4 or IPv6 address", key, value);
        snprintf((char *)field, REST_ADDR_MAX, "%s", value);
        return 0;
    }
    case KEY_IDLE:
        if (idle_parse(value, (idle_kind_t *)field) < 0)
            return err_set(err, -EINVAL, "%s: '%s' is not one of spin, yield, backoff", key, value);
        return 0;
    case KEY_BOOL:
        if (strcasecmp(value, "true") == 0 || strcasecmp(value, "on") == 0 || strcmp(value, "1") == 0)
            *(bool *)field = true;
        else if (strcasecmp(value, "false") == 0 || strcasecmp(value, "off") == 0 || strcmp(value, "0") == 0)
            *(bool *)field = false;
        else
            return err_set(err, -EINVAL, "%s: '%s' is not one of true, false, on, off", key, value);
        return 0;
    case KEY_U32:
        if (parse_int(value, &n) < 0)
            return err_set(err, -EINVAL, "%s: '%s' is not an integer", key, value);
        if (n < d->min || n > d->max)
            return err_set(err, -EINVAL, "%s: %" PRId64 " is outside %" PRId64 "..%" PRId64, key, n, d->min,
                           d->max);
        *(uint32_t *)field = (uint32_t)n;
        return 0;
    }
    return err_set(err, -EINVAL, "%s: unhandled type", key);
}

typedef struct parse_ctx {
    rest_config_t *cfg;
    err_t why;
    int failed;
    int line;
    int fail_line;
    int first_line[NKEYS];
    FILE *file;
    const char *text;
} parse_ctx_t;

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

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx_t *p = user;
    if (p->failed)
        return 0;
    int k = -1;
    for (unsigned i = 0; i < NKEYS && strcmp(section, SECTION) == 0; i++)
        if (strcmp(keys[i].key, key) == 0)
            k = (int)i;
    if (k >= 0 && p->first_line[k] != 0) {
        err_set(&p->why, -EINVAL, "duplicate key '%s' in [%s] (first set on line %d)", key, section,
                p->first_line[k]);
    } else if (rest_config_set(p->cfg, section, key, value, &p->why) == 0) {
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
    return err_set(err, -EINVAL, "%s:%d: malformed line (expected [section] or key = value)", origin, rc);
}

int rest_config_parse(rest_config_t *cfg, const char *text, const char *origin, err_t *err)
{
    parse_ctx_t p = {.cfg = cfg, .text = text};
    return parse_result(ini_parse_stream(read_text_line, &p, on_key, &p), &p, origin, err);
}

int rest_config_load(rest_config_t *cfg, const char *path, err_t *err)
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
    return rest_config_env(cfg, err);
}

int rest_config_env(rest_config_t *cfg, err_t *err)
{
    for (unsigned i = 0; i < NKEYS; i++) {
        char name[96];
        int n = snprintf(name, sizeof(name), "BOURSE_REST_%s", keys[i].key);
        for (int j = 0; j < n; j++)
            name[j] = (char)toupper((unsigned char)name[j]);
        const char *v = getenv(name);
        if (v == NULL)
            continue;
        err_t why;
        if (rest_config_set(cfg, SECTION, keys[i].key, v, &why) < 0)
            return err_set(err, -EINVAL, "environment %s: %s", name, why.msg);
    }
    return 0;
}

void rest_config_write(const rest_config_t *cfg, FILE *f)
{
    fprintf(f, "[%s]\n", SECTION);
    for (unsigned i = 0; i < NKEYS; i++) {
        const key_def_t *d = &keys[i];
        const void *field = (const char *)cfg + d->off;
        switch (d->type) {
        case KEY_NAME:
        case KEY_PATH:
        case KEY_ADDR: fprintf(f, "%s = %s\n", d->key, (const char *)field); break;
        case KEY_IDLE: fprintf(f, "%s = %s\n", d->key, idle_name(*(const idle_kind_t *)field)); break;
        case KEY_BOOL: fprintf(f, "%s = %s\n", d->key, *(const bool *)field ? "true" : "false"); break;
        case KEY_U32: fprintf(f, "%s = %" PRIu32 "\n", d->key, *(const uint32_t *)field); break;
        }
    }
}
