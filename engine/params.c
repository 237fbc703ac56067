/* params.c - see params.h. */
#include "params.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The [matcher] config names (config.c) of the capacities, in struct order. */
static const struct {
    const char *name;
    size_t off;
} capacities[] = {
    {"max_orders", offsetof(matcher_config_t, max_orders)},
    {"max_gtd_orders", offsetof(matcher_config_t, max_gtd)},
    {"max_accounts", offsetof(matcher_config_t, max_accounts)},
    {"max_assets", offsetof(matcher_config_t, max_assets)},
    {"max_instruments", offsetof(matcher_config_t, max_instruments)},
    {"max_levels", offsetof(matcher_config_t, max_levels)},
    {"max_orders_per_account", offsetof(matcher_config_t, max_account_orders)},
};

_Static_assert(sizeof(capacities) / sizeof(capacities[0]) * sizeof(uint32_t) == sizeof(matcher_config_t),
               "every capacity has its name");

static uint32_t capacity(const matcher_config_t *c, size_t i)
{
    uint32_t v;
    memcpy(&v, (const char *)c + capacities[i].off, sizeof(v));
    return v;
}

void params_make(params_t *p, const matcher_config_t *m)
{
    memset(p, 0, sizeof(*p));
    p->proto_version = PROTO_VERSION;
    p->matcher = *m;
}

int params_check(const params_t *p, const char *what, err_t *err)
{
    if (p->proto_version != PROTO_VERSION)
        return err_set(err, -EPROTONOSUPPORT, "%s holds records of protocol version %u; this build reads version %u "
                       "only: replay it with the bourse that wrote it", what, p->proto_version, PROTO_VERSION);
    for (size_t i = 0; i < sizeof(p->pad); i++)
        if (p->pad[i] != 0)
            return err_set(err, -EBADMSG, "%s: non-zero padding in its settings", what);
    for (size_t i = 0; i < sizeof(capacities) / sizeof(capacities[0]); i++)
        if (capacity(&p->matcher, i) == 0)
            return err_set(err, -EBADMSG, "%s: [matcher] %s is 0", what, capacities[i].name);
    return 0;
}

params_change_t params_compare(const matcher_config_t *have, const matcher_config_t *want, char *why, size_t n)
{
    params_change_t change = PARAMS_SAME;
    size_t first = 0;
    for (size_t i = 0; i < sizeof(capacities) / sizeof(capacities[0]); i++) {
        uint32_t a = capacity(have, i), b = capacity(want, i);
        if (a > b && change != PARAMS_SHRINK) {
            change = PARAMS_SHRINK;
            first = i;
        } else if (a < b && change == PARAMS_SAME) {
            change = PARAMS_GROW;
            first = i;
        }
    }
    if (why != NULL && n > 0) {
        if (change == PARAMS_SAME)
            why[0] = '\0';
        else
            snprintf(why, n, "%s: %u -> %u", capacities[first].name, capacity(have, first), capacity(want, first));
    }
    return change;
}
