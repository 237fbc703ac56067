/* flow.h - the order flow bench-match and bench-journal replay, and the
 * matcher they replay it into.
 *
 * Seeded: about 55% new limit orders near the touch, 35% cancels (nine in
 * ten of one of the 4096 most recent live orders, one in ten of any live
 * order), 10% marketable IOC orders, over 1 to 100 symbols. 1000 accounts,
 * each funded in every asset; fee tier 0 is maker 10 bps, taker 20 bps. */
#ifndef BOURSE_BENCH_FLOW_H
#define BOURSE_BENCH_FLOW_H

#include <stdint.h>

#include "matcher.h"

enum { FLOW_ACCOUNTS = 1000, FLOW_SYMBOLS_MAX = 100, FLOW_RECENT = 4096 };

typedef struct flow {
    uint64_t rng;
    uint32_t symbols;
    uint64_t next_id;        /* the id the matcher will give the next accepted order */
    uint64_t *live;          /* ids of resting orders we placed (some may have traded) */
    uint32_t *live_acct;
    uint64_t nlive, cap;
    int64_t mid[FLOW_SYMBOLS_MAX];
} flow_t;

/* cap: live orders tracked (resting + commands is enough). Exits on no memory. */
void flow_init(flow_t *f, uint64_t seed, uint32_t symbols, uint64_t cap);
void flow_free(flow_t *f);

/* The next command of the mix into c (type and payload; seq and time are the caller's). */
void flow_gen(flow_t *f, mcmd_t *c);

/* A new order: resting (GTC, away from the touch) or marketable (IOC). */
void flow_gen_new(flow_t *f, mcmd_t *c, int resting);

/* A matcher with the flow's assets, instruments, accounts and funds. Exits on error. */
matcher_t *flow_matcher(uint32_t symbols, uint32_t max_orders, matcher_sink_fn sink, void *ctx);

/* Applies n resting orders: the book the timed run starts from. */
void flow_populate(matcher_t *m, flow_t *f, uint64_t n);

#endif
