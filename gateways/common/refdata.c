/* refdata.c - see refdata.h. Tables are small (the engine's max_assets and
 * max_instruments are in the hundreds), so lookups scan; a request does one. */
#include "refdata.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { RD_DECIMALS_MAX = 18, RD_INITIAL = 16 };

void refdata_init(refdata_t *rd)
{
    memset(rd, 0, sizeof(*rd));
}

void refdata_free(refdata_t *rd)
{
    free(rd->assets);
    free(rd->inst);
    refdata_init(rd);
}

void refdata_move(refdata_t *dst, refdata_t *src)
{
    refdata_free(dst);
    *dst = *src;
    refdata_init(src);
}

/* A name from the engine: NUL-terminated in its array, printable, no spaces. */
static bool name_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == 0 || n == cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

static int grow(void **p, uint32_t *cap, uint32_t n, size_t size)
{
    if (n < *cap)
        return 0;
    uint32_t c = *cap ? *cap * 2 : RD_INITIAL;
    void *q = realloc(*p, (size_t)c * size);
    if (q == NULL)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

int refdata_add_asset(refdata_t *rd, const cmd_add_asset_t *a)
{
    if (!name_ok(a->name, sizeof(a->name)) || a->decimals > RD_DECIMALS_MAX)
        return -EINVAL;
    rd_asset_t *slot = (rd_asset_t *)refdata_asset(rd, a->asset);
    if (slot == NULL) {
        if (grow((void **)&rd->assets, &rd->cap_assets, rd->nassets, sizeof(*rd->assets)) < 0)
            return -ENOMEM;
        slot = &rd->assets[rd->nassets++];
    }
    memset(slot, 0, sizeof(*slot));
    slot->id = a->asset;
    slot->decimals = a->decimals;
    memcpy(slot->name, a->name, sizeof(slot->name));
    return 0;
}

int refdata_add_instrument(refdata_t *rd, const evt_instrument_t *e)
{
    const cmd_add_instrument_t *d = &e->def;
    if (!name_ok(d->symbol, sizeof(d->symbol)) || d->tick_size <= 0 || d->lot_size <= 0)
        return -EINVAL;
    const rd_asset_t *base = refdata_asset(rd, d->base), *quote = refdata_asset(rd, d->quote);
    if (base == NULL || quote == NULL)
        return -ENOENT;
    rd_instrument_t *slot = (rd_instrument_t *)refdata_instrument(rd, d->instrument);
    if (slot == NULL) {
        if (grow((void **)&rd->inst, &rd->cap_inst, rd->ninst, sizeof(*rd->inst)) < 0)
            return -ENOMEM;
        slot = &rd->inst[rd->ninst++];
    }
    *slot = (rd_instrument_t){.id = d->instrument, .base = d->base, .quote = d->quote,
                              .band_bps = d->band_bps, .tick = d->tick_size, .lot = d->lot_size,
                              .min_qty = d->min_qty, .max_qty = d->max_qty, .ref_price = d->ref_price,
                              .price_scale = quote->decimals, .qty_scale = base->decimals,
                              .halted = e->halted != 0};
    memcpy(slot->symbol, d->symbol, sizeof(slot->symbol));
    return 0;
}

int refdata_add_event(refdata_t *rd, const rec_t *ev)
{
    if (ev->type == EVT_Q_ASSET) {
        cmd_add_asset_t a;
        if (ev->len < sizeof(a))
            return -EINVAL;
        memcpy(&a, ev->payload, sizeof(a));
        return refdata_add_asset(rd, &a);
    }
    if (ev->type == EVT_Q_INSTRUMENT) {
        evt_instrument_t in;
        if (ev->len < sizeof(in))
            return -EINVAL;
        memcpy(&in, ev->payload, sizeof(in));
        return refdata_add_instrument(rd, &in);
    }
    return -ENOMSG;
}

const rd_asset_t *refdata_asset(const refdata_t *rd, uint32_t id)
{
    for (uint32_t i = 0; i < rd->nassets; i++)
        if (rd->assets[i].id == id)
            return &rd->assets[i];
    return NULL;
}

static bool same(const char *name, const char *s, size_t len)
{
    return len < RD_NAME_MAX && strnlen(name, RD_NAME_MAX) == len && memcmp(name, s, len) == 0;
}

const rd_asset_t *refdata_asset_by_name(const refdata_t *rd, const char *name, size_t len)
{
    for (uint32_t i = 0; i < rd->nassets; i++)
        if (same(rd->assets[i].name, name, len))
            return &rd->assets[i];
    return NULL;
}

const rd_instrument_t *refdata_instrument(const refdata_t *rd, uint32_t id)
{
    for (uint32_t i = 0; i < rd->ninst; i++)
        if (rd->inst[i].id == id)
            return &rd->inst[i];
    return NULL;
}

const rd_instrument_t *refdata_instrument_by_symbol(const refdata_t *rd, const char *sym, size_t len)
{
    for (uint32_t i = 0; i < rd->ninst; i++)
        if (same(rd->inst[i].symbol, sym, len))
            return &rd->inst[i];
    return NULL;
}
