/* inicfg.h - configuration from INI files, described by a table of keys.
 *
 * Every process of bourse (the engine, the gateways) keeps its settings in a
 * plain struct and describes each key once: section, name, type, offset in
 * the struct, range. This module parses a file or a string into the struct
 * (an unknown section or key, a duplicate key, a malformed line or value is
 * an error naming the origin, the line and the key), applies environment
 * overrides BOURSE_<SECTION>_<KEY>, and writes the effective configuration
 * back in INI form. Not for the hot path: set-up only. */
#ifndef BOURSE_INICFG_H
#define BOURSE_INICFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

typedef enum inicfg_type {
    INICFG_U32,        /* uint32_t in min..max */
    INICFG_U32_POW2,   /* uint32_t in min..max, a power of two */
    INICFG_I32,        /* int32_t in min..max */
    INICFG_BOOL,       /* bool: true/false (also on/off, 1/0) */
    INICFG_MODE,       /* uint32_t file mode, octal, min..max, no execute bits */
    INICFG_STR,        /* char[size]: 1..size-1 bytes */
    INICFG_NAME,       /* char[size]: an instance name (shm_name_check) */
    INICFG_ADDR,       /* char[size]: a numeric IPv4 or IPv6 address */
    INICFG_IDLE,       /* idle_kind_t: spin, yield, backoff */
    INICFG_ENUM,       /* uint32_t: the index of the value in names[] */
} inicfg_type_t;

typedef struct inicfg_key {
    const char *section;
    const char *key;
    inicfg_type_t type;
    size_t off;                  /* of the field in the config struct */
    int64_t min, max;            /* numeric types */
    size_t size;                 /* string types: the field's size */
    const char *const *names;    /* INICFG_ENUM: NULL-terminated */
} inicfg_key_t;

typedef struct inicfg {
    const inicfg_key_t *keys;
    unsigned nkeys;
    const char *sections_hint;   /* said after "unknown section [x]", e.g. "(bourse-rest reads [rest])"; may be NULL */
} inicfg_t;

enum { INICFG_KEYS_MAX = 128 };

/* Sets one key from its text form. Returns 0 or -EINVAL with a message. */
int inicfg_set(const inicfg_t *c, void *obj, const char *section, const char *key, const char *value, err_t *err);

/* Parses INI text; origin names it in messages. No environment overrides. */
int inicfg_parse(const inicfg_t *c, void *obj, const char *text, const char *origin, err_t *err);

/* Parses the file at path, then applies the environment. Returns 0 or a
 * negative errno ("config PATH: ..." or "PATH:LINE: ..."). */
int inicfg_load(const inicfg_t *c, void *obj, const char *path, err_t *err);

/* Applies BOURSE_<SECTION>_<KEY> variables from the environment. */
int inicfg_env(const inicfg_t *c, void *obj, err_t *err);

/* Writes every key, section by section. */
void inicfg_write(const inicfg_t *c, const void *obj, FILE *f);

#endif
