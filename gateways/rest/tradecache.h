/* tradecache.h - the gateway's memory of recent trades, fed from the event
 * log (every EVT_TRADE, whoever sent the order). One bounded ring serves both
 * GET /v1/trades/{symbol} (filter by instrument) and GET /v1/fills (filter by
 * the maker or taker account): the engine keeps no trade history to query.
 * A lapped reader or an engine restart leaves a gap, counted in gaps. Not
 * thread-safe. */
#ifndef BOURSE_TRADECACHE_H
#define BOURSE_TRADECACHE_H

#include <stdint.h>

#include "layout.h"
#include "proto.h"

typedef struct tc_trade {
    evt_trade_t t;
    uint64_t ts_ns;       /* the engine's time of the trade */
    uint64_t cmd_seq;     /* the command that caused it */
} tc_trade_t;

typedef struct tradecache {
    tc_trade_t *ring;
    uint64_t head;        /* trades added so far */
    uint32_t cap;         /* a power of two */
    uint64_t gaps;        /* times trades may have been missed */
} tradecache_t;

enum { TC_ANY = UINT32_MAX };

/* Capacity is rounded up to a power of two. Returns 0 or -ENOMEM. */
int tradecache_init(tradecache_t *tc, uint32_t capacity);
void tradecache_free(tradecache_t *tc);

/* Adds an EVT_TRADE record; other records are ignored. */
void tradecache_add(tradecache_t *tc, const rec_t *ev);

/* Up to limit trades, newest first, of instrument (TC_ANY: all) in which
 * account (TC_ANY: anyone) was maker or taker. Returns how many pointers were
 * written to out; they stay valid until the next tradecache_add. */
uint32_t tradecache_recent(const tradecache_t *tc, uint32_t instrument, uint32_t account, uint32_t limit,
                           const tc_trade_t **out);

#endif
