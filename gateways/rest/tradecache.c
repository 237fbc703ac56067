/* tradecache.c - see tradecache.h. A query scans back from the newest trade
 * until it has limit matches or has seen the whole ring: bounded by the
 * capacity, which the config keeps in the tens of thousands. */
#include "tradecache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tradecache_init(tradecache_t *tc, uint32_t capacity)
{
    memset(tc, 0, sizeof(*tc));
    uint32_t cap = 1;
    while (cap < capacity && cap < (1u << 31))
        cap <<= 1;
    tc->ring = calloc(cap, sizeof(*tc->ring));
    if (tc->ring == NULL)
        return -ENOMEM;
    tc->cap = cap;
    return 0;
}

void tradecache_free(tradecache_t *tc)
{
    free(tc->ring);
    memset(tc, 0, sizeof(*tc));
}

void tradecache_add(tradecache_t *tc, const rec_t *ev)
{
    if (ev->type != EVT_TRADE || ev->len < sizeof(evt_trade_t))
        return;
    tc_trade_t *slot = &tc->ring[tc->head & (tc->cap - 1)];
    memcpy(&slot->t, ev->payload, sizeof(slot->t));
    slot->ts_ns = ev->ts_ns;
    slot->cmd_seq = ev->cmd_seq;
    tc->head++;
}

uint32_t tradecache_recent(const tradecache_t *tc, uint32_t instrument, uint32_t account, uint32_t limit,
                           const tc_trade_t **out)
{
    uint64_t have = tc->head < tc->cap ? tc->head : tc->cap;
    uint32_t n = 0;
    for (uint64_t k = 0; k < have && n < limit; k++) {
        const tc_trade_t *t = &tc->ring[(tc->head - 1 - k) & (tc->cap - 1)];
        if (instrument != TC_ANY && t->t.instrument != instrument)
            continue;
        if (account != TC_ANY && t->t.maker_account != account && t->t.taker_account != account)
            continue;
        out[n++] = t;
    }
    return n;
}
