/* inicfg.c - see inicfg.h. inih reads the lines; we count them, so that an
 * error names the line its key came from. */
#include "inicfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

#include "idle.h"
#include "shm.h"

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

static int set_string(char *field, const inicfg_key_t *d, const char *value, err_t *err)
{
    size_t n = strlen(value);
    if (n == 0 || n >= d->size)
        return err_set(err, -EINVAL, "%s: a value of 1 to %zu bytes is needed", d->key, d->size - 1);
    memcpy(field, value, n + 1);
    return 0;
}

static int set_enum(uint32_t *field, const inicfg_key_t *d, const char *value, err_t *err)
{
    char list[256] = "";
    size_t used = 0;
    for (uint32_t i = 0; d->names[i] != NULL; i++) {
        if (strcmp(value, d->names[i]) == 0) {
            *field = i;
            return 0;
        }
        used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s",
                                 i ? ", " : "", d->names[i]);
        if (used >= sizeof(list))
            used = sizeof(list) - 1;
    }
    return err_set(err, -EINVAL, "%s: '%s' is not one of %s", d->key, value, list);
}

static int set_number(void *field, const inicfg_key_t *d, const char *value, err_t *err)
{
    int64_t n;
    if (d->type == INICFG_MODE) {
        if (parse_int(value, 8, &n) < 0 || n < d->min || n > d->max || (n & 0111) != 0)
            return err_set(err, -EINVAL, "%s: '%s' is not an octal mode from 0%" PRIo64 " to 0%" PRIo64, d->key,
                           value, (uint64_t)d->min, (uint64_t)d->max);
        *(uint32_t *)field = (uint32_t)n;
        return 0;
    }
    if (parse_int(value, 10, &n) < 0)
        return err_set(err, -EINVAL, "%s: '%s' is not an integer", d->key, value);
    if (n < d->min || n > d->max)
        return err_set(err, -EINVAL, "%s: %" PRId64 " is outside %" PRId64 "..%" PRId64, d->key, n, d->min, d->max);
    if (d->type == INICFG_U32_POW2 && (n & (n - 1)) != 0)
        return err_set(err, -EINVAL, "%s: %" PRId64 " is not a power of two", d->key, n);
    if (d->type == INICFG_I32)
        *(int32_t *)field = (int32_t)n;
    else
        *(uint32_t *)field = (uint32_t)n;
    return 0;
}

int inicfg_set(const inicfg_t *c, void *obj, const char *section, const char *key, const char *value, err_t *err)
{
    const inicfg_key_t *d = NULL;
    bool section_known = false;
    for (unsigned i = 0; i < c->nkeys && d == NULL; i++) {
        if (strcmp(c->keys[i].section, section) != 0)
            continue;
        section_known = true;
        if (strcmp(c->keys[i].key, key) == 0)
            d = &c->keys[i];
    }
    if (!section_known)
        return err_set(err, -EINVAL, "unknown section [%s]%s%s", section, c->sections_hint ? " " : "",
                       c->sections_hint ? c->sections_hint : "");
    if (d == NULL)
        return err_set(err, -EINVAL, "unknown key '%s' in [%s]", key, section);
    void *field = (char *)obj + d->off;
    switch (d->type) {
    case INICFG_STR:
        return set_string(field, d, value, err);
    case INICFG_NAME: {
        err_t why;
        if (shm_name_check(value, &why) < 0)
            return err_set(err, -EINVAL, "%s: %s", key, why.msg);
        return set_string(field, d, value, err);
    }
    case INICFG_ADDR: {
        unsigned char tmp[16];
        if (strlen(value) >= d->size ||
            (inet_pton(AF_INET, value, tmp) != 1 && inet_pton(AF_INET6, value, tmp) != 1))
            return err_set(err, -EINVAL, "%s: '%s' is not a numeric IPv4 or IPv6 address", key, value);
        return set_string(field, d, value, err);
    }
    case INICFG_IDLE:
        if (idle_parse(value, (idle_kind_t *)field) < 0)
            return err_set(err, -EINVAL, "%s: '%s' is not one of spin, yield, backoff", key, value);
        return 0;
    case INICFG_BOOL:
        if (strcasecmp(value, "true") == 0 || strcasecmp(value, "on") == 0 || strcmp(value, "1") == 0)
            *(bool *)field = true;
        else if (strcasecmp(value, "false") == 0 || strcasecmp(value, "off") == 0 || strcmp(value, "0") == 0)
            *(bool *)field = false;
        else
            return err_set(err, -EINVAL, "%s: '%s' is not one of true, false, on, off", key, value);
        return 0;
    case INICFG_ENUM:
        return set_enum(field, d, value, err);
    case INICFG_U32:
    case INICFG_U32_POW2:
    case INICFG_I32:
    case INICFG_MODE:
        return set_number(field, d, value, err);
    }
    return err_set(err, -EINVAL, "%s: unhandled type", key);
}

typedef struct parse_ctx {
    const inicfg_t *c;
    void *obj;
    err_t why;
    int failed;
    int line;                             /* lines handed to inih so far */
    int fail_line;
    int first_line[INICFG_KEYS_MAX];      /* where each key was set: a second time is an error */
    FILE *file;                           /* the source: a file... */
    const char *text;                     /* ...or a string */
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
    for (unsigned i = 0; i < p->c->nkeys && i < INICFG_KEYS_MAX; i++)
        if (strcmp(p->c->keys[i].section, section) == 0 && strcmp(p->c->keys[i].key, key) == 0)
            k = (int)i;
    if (k >= 0 && p->first_line[k] != 0) {
        err_set(&p->why, -EINVAL, "duplicate key '%s' in [%s] (first set on line %d)", key, section,
                p->first_line[k]);
    } else if (inicfg_set(p->c, p->obj, section, key, value, &p->why) == 0) {
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

int inicfg_parse(const inicfg_t *c, void *obj, const char *text, const char *origin, err_t *err)
{
    parse_ctx_t p = {.c = c, .obj = obj, .text = text};
    return parse_result(ini_parse_stream(read_text_line, &p, on_key, &p), &p, origin, err);
}

int inicfg_load(const inicfg_t *c, void *obj, const char *path, err_t *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_set(err, -errno, "config %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return err_set(err, -EINVAL, "config %s: not a regular file", path);
    }
    parse_ctx_t p = {.c = c, .obj = obj, .file = f};
    int rc = ini_parse_stream(read_file_line, &p, on_key, &p);
    int read_failed = ferror(f);
    fclose(f);
    if (read_failed)
        return err_set(err, -EIO, "config %s: read error", path);
    rc = parse_result(rc, &p, path, err);
    if (rc < 0)
        return rc;
    return inicfg_env(c, obj, err);
}

int inicfg_env(const inicfg_t *c, void *obj, err_t *err)
{
    for (unsigned i = 0; i < c->nkeys; i++) {
        char name[96];
        int n = snprintf(name, sizeof(name), "BOURSE_%s_%s", c->keys[i].section, c->keys[i].key);
        for (int j = 0; j < n && j < (int)sizeof(name); j++)
            name[j] = (char)toupper((unsigned char)name[j]);
        const char *v = getenv(name);
        if (v == NULL)
            continue;
        err_t why;
        if (inicfg_set(c, obj, c->keys[i].section, c->keys[i].key, v, &why) < 0)
            return err_set(err, -EINVAL, "environment %s: %s", name, why.msg);
    }
    return 0;
}

void inicfg_write(const inicfg_t *c, const void *obj, FILE *f)
{
    const char *section = "";
    for (unsigned i = 0; i < c->nkeys; i++) {
        const inicfg_key_t *d = &c->keys[i];
        const void *field = (const char *)obj + d->off;
        if (strcmp(section, d->section) != 0) {
            fprintf(f, "%s[%s]\n", i ? "\n" : "", d->section);
            section = d->section;
        }
        switch (d->type) {
        case INICFG_STR:
        case INICFG_NAME:
        case INICFG_ADDR: fprintf(f, "%s = %s\n", d->key, (const char *)field); break;
        case INICFG_IDLE: fprintf(f, "%s = %s\n", d->key, idle_name(*(const idle_kind_t *)field)); break;
        case INICFG_BOOL: fprintf(f, "%s = %s\n", d->key, *(const bool *)field ? "true" : "false"); break;
        case INICFG_MODE: fprintf(f, "%s = 0%o\n", d->key, *(const uint32_t *)field); break;
        case INICFG_I32: fprintf(f, "%s = %" PRId32 "\n", d->key, *(const int32_t *)field); break;
        case INICFG_ENUM: fprintf(f, "%s = %s\n", d->key, d->names[*(const uint32_t *)field]); break;
        case INICFG_U32:
        case INICFG_U32_POW2: fprintf(f, "%s = %" PRIu32 "\n", d->key, *(const uint32_t *)field); break;
        }
    }
}
