/* params.h - what decides what a command does besides the commands: the
 * record protocol's version and the matcher's capacities (a full pool refuses
 * an order that a larger one would take). Every journal file header and every
 * snapshot header carries them, so that recovery and `bourse replay` rebuild
 * the same history from the data directory alone, and an engine whose config
 * disagrees with its data says so instead of making another history.
 *
 * Used by the engine (what it writes, what it recovers), the snapshot files
 * and `bourse replay`. On disk, little-endian, PARAMS_SIZE bytes. */
#ifndef BOURSE_PARAMS_H
#define BOURSE_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "matcher.h"

enum { PARAMS_SIZE = 64 };

typedef struct params {
    uint32_t proto_version;      /* PROTO_VERSION of the records and what they mean */
    matcher_config_t matcher;    /* the capacities in force */
    uint8_t pad[32];             /* zeros */
} params_t;

_Static_assert(sizeof(matcher_config_t) == 28, "seven capacities: a new one is a new params layout");
_Static_assert(sizeof(params_t) == PARAMS_SIZE, "params layout");
_Static_assert(offsetof(params_t, matcher) == 4, "params layout");
_Static_assert(offsetof(params_t, matcher.max_orders) == 4, "params layout");
_Static_assert(offsetof(params_t, matcher.max_gtd) == 8, "params layout");
_Static_assert(offsetof(params_t, matcher.max_accounts) == 12, "params layout");
_Static_assert(offsetof(params_t, matcher.max_assets) == 16, "params layout");
_Static_assert(offsetof(params_t, matcher.max_instruments) == 20, "params layout");
_Static_assert(offsetof(params_t, matcher.max_levels) == 24, "params layout");
_Static_assert(offsetof(params_t, matcher.max_account_orders) == 28, "params layout");
_Static_assert(offsetof(params_t, pad) == 32, "params layout");

/* The params of this build's protocol with the capacities of m. */
void params_make(params_t *p, const matcher_config_t *m);

/* Checks params read from a file that what names ("journal file X"):
 * -EPROTONOSUPPORT when its records are of another protocol version (never
 * misread: the message names both versions), -EBADMSG for non-zero padding
 * or capacities no matcher accepts. Returns 0 or the error with a message. */
int params_check(const params_t *p, const char *what, err_t *err);

typedef enum params_change {
    PARAMS_SAME = 0,
    PARAMS_GROW = 1,             /* no capacity smaller, at least one larger */
    PARAMS_SHRINK = 2,           /* at least one capacity smaller */
} params_change_t;

/* How the capacities want differ from have; why (may be NULL) gets the first
 * setting that differs (a shrink first), by its [matcher] config name:
 * "max_orders: 65536 -> 1048576". */
params_change_t params_compare(const matcher_config_t *have, const matcher_config_t *want, char *why, size_t n);

#endif
