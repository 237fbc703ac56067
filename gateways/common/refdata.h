/* refdata.h - the gateway's copy of the engine's reference data: assets with
 * their decimals, instruments with tick, lot, limits and halt state. Built
 * from a CMD_QUERY_REFDATA answer (assets come before instruments) and
 * rebuilt when an admin event says it changed. It turns symbols and asset
 * names into ids and gives each instrument its decimal scales: prices are
 * quote minor units per whole base unit (scale = quote decimals), quantities
 * base minor units (scale = base decimals). Not thread-safe. */
#ifndef BOURSE_REFDATA_H
#define BOURSE_REFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "proto.h"

enum { RD_NAME_MAX = 16 }; /* with the NUL, as in proto.h */

typedef struct rd_asset {
    uint32_t id;
    uint8_t decimals;
    char name[RD_NAME_MAX];
} rd_asset_t;

typedef struct rd_instrument {
    uint32_t id, base, quote, band_bps;
    char symbol[RD_NAME_MAX];
    int64_t tick, lot, min_qty, max_qty, ref_price;
    uint8_t price_scale;  /* decimals of the quote asset */
    uint8_t qty_scale;    /* decimals of the base asset */
    bool halted;
} rd_instrument_t;

typedef struct refdata {
    rd_asset_t *assets;
    rd_instrument_t *inst;
    uint32_t nassets, ninst, cap_assets, cap_inst;
} refdata_t;

void refdata_init(refdata_t *rd);
void refdata_free(refdata_t *rd);
/* Moves src into dst (freeing what dst held); src is left empty. */
void refdata_move(refdata_t *dst, refdata_t *src);

/* Adds or replaces an asset from an EVT_Q_ASSET payload. Returns 0, -EINVAL
 * (an unprintable or unterminated name, decimals > 18) or -ENOMEM. */
int refdata_add_asset(refdata_t *rd, const cmd_add_asset_t *a);

/* Adds or replaces an instrument from an EVT_Q_INSTRUMENT payload. Returns 0,
 * -ENOENT (its base or quote asset is unknown), -EINVAL or -ENOMEM. */
int refdata_add_instrument(refdata_t *rd, const evt_instrument_t *e);

/* Adds what an event of a CMD_QUERY_REFDATA answer carries: the asset of an
 * EVT_Q_ASSET, the instrument of an EVT_Q_INSTRUMENT. Returns 0, -ENOMSG (an
 * event of another type: nothing to add), -EINVAL (a payload too short or
 * invalid), -ENOENT or -ENOMEM. */
int refdata_add_event(refdata_t *rd, const rec_t *ev);

const rd_asset_t *refdata_asset(const refdata_t *rd, uint32_t id);
const rd_asset_t *refdata_asset_by_name(const refdata_t *rd, const char *name, size_t len);
const rd_instrument_t *refdata_instrument(const refdata_t *rd, uint32_t id);
const rd_instrument_t *refdata_instrument_by_symbol(const refdata_t *rd, const char *sym, size_t len);

#endif
