/* matcher.h - the matching engine as a deterministic state machine.
 *
 * matcher_apply() takes one sequenced command and emits its events, in order,
 * through the sink. The same commands always give the same events, byte for
 * byte: the matcher reads time only from the command, iterates nothing in hash
 * order, and allocates nothing after matcher_create() (every pool and table is
 * sized from matcher_config_t; a full one is a clean reject).
 *
 * Used by the engine loop (one thread), by tests and by bench/match, which
 * drive it in-process. Not thread-safe: one thread owns a matcher. */
#ifndef BOURSE_MATCHER_H
#define BOURSE_MATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "proto.h"

typedef struct matcher_config {
    uint32_t max_orders;          /* resting orders, all instruments */
    uint32_t max_gtd;             /* resting GTD orders */
    uint32_t max_accounts;        /* account ids are 0..max_accounts-1; 0 collects fees */
    uint32_t max_assets;          /* asset ids are 0..max_assets-1 */
    uint32_t max_instruments;     /* instrument ids are 0..max_instruments-1 */
    uint32_t max_levels;          /* price levels per side of one book */
    uint32_t max_account_orders;  /* open orders per account (pre-trade risk) */
} matcher_config_t;

enum { MATCHER_FEE_ACCOUNT = 0, MATCHER_FEE_TIERS = 16, MATCHER_EVENT_BATCH = 64 };

/* A command as the matcher sees it: the sequencer's number and clock, then
 * one of the proto.h payloads. */
typedef struct mcmd {
    uint64_t seq;
    uint64_t ts_ns;
    uint16_t type;      /* enum cmd_type_matcher */
    uint16_t src;       /* the command ring it came from; copied to its events */
    uint32_t len;       /* payload bytes the client sent (engine checks; the matcher ignores it) */
    union {
        cmd_new_order_t new_order;
        cmd_cancel_t cancel;
        cmd_amend_t amend;
        cmd_mass_cancel_t mass_cancel;
        cmd_add_asset_t add_asset;
        cmd_add_instrument_t add_instrument;
        cmd_instrument_t instrument;
        cmd_account_t account;
        cmd_funds_t funds;
        cmd_fee_tier_t fee_tier;
        cmd_query_book_t query_book;
        cmd_query_account_t query_account;
        cmd_query_order_t query_order;
        cmd_resize_t resize;
        uint8_t raw[PROTO_PAYLOAD_MAX];
    } u;
} mcmd_t;

typedef struct mevt {
    uint64_t cmd_seq;   /* the command that caused it */
    uint64_t ts_ns;     /* the command's time */
    uint16_t type;      /* enum evt_type_matcher */
    uint16_t src;
    uint32_t len;       /* payload bytes */
    union {
        evt_accepted_t accepted;
        evt_rejected_t rejected;
        evt_trade_t trade;
        evt_cancelled_t cancelled;
        evt_replaced_t replaced;
        evt_book_t book;
        evt_balance_t balance;
        uint8_t raw[PROTO_PAYLOAD_MAX];
    } u;
} mevt_t;

/* Receives a command's events, in order, in batches of up to
 * MATCHER_EVENT_BATCH: last is set on the batch that ends the command (n is 0
 * only when the command made no event, as a timer with nothing due). ev is
 * valid only during the call. Events are built in place in the matcher's
 * batch, so the sink's copy is the only one. */
typedef void (*matcher_sink_fn)(void *ctx, const mevt_t *ev, uint32_t n, int last);

typedef struct matcher matcher_t;

void matcher_config_defaults(matcher_config_t *cfg);

/* Allocates every pool up front. -EINVAL on a bad config, -ENOMEM. */
int matcher_create(matcher_t **out, const matcher_config_t *cfg, matcher_sink_fn sink, void *ctx,
                   err_t *err);
void matcher_destroy(matcher_t *m);

/* The capacities m was created with. */
const matcher_config_t *matcher_config(const matcher_t *m);

/* Applies one command. Before it, GTD orders whose time is at or before
 * cmd->ts_ns expire (their events carry cmd->seq). Never fails: a bad command
 * gives an EVT_REJECTED and changes nothing. */
void matcher_apply(matcher_t *m, const mcmd_t *cmd);

/* A hint, no effect on state or events: starts loading the memory a command
 * will touch, so that its cache misses overlap the work before it. Callers
 * holding a batch of commands call it, before applying each one, with
 * distance 2 for the command two ahead (the order id's place in the id index,
 * balance rows, the level, an IOC's first maker) and 1 for the next one (the
 * order line found through the id index; what filling the first maker
 * touches). Other distances do nothing: what the command about to be applied
 * touches next, matcher_apply() asks for itself as soon as it knows (a third
 * call here cost more than it saved). Safe on any bytes. */
void matcher_prefetch(const matcher_t *m, uint16_t type, const void *payload, int distance);

/* The earliest GTD expiry among resting orders (ns), or UINT64_MAX: a command
 * (a CMD_TIMER if nothing else) with a later time must be applied to expire it. */
uint64_t matcher_next_expiry(const matcher_t *m);

/* ---------------------------------------------------------------- read side */

typedef struct matcher_level {
    int64_t price;
    int64_t qty;
    uint32_t orders;
} matcher_level_t;

/* Copies up to n best levels of one side. Returns the count, -ENOENT when the
 * instrument does not exist. */
int matcher_depth(const matcher_t *m, uint32_t instrument, int side, matcher_level_t *out, uint32_t n);

/* Balance of one account in one asset. -ENOENT when either does not exist. */
int matcher_balance(const matcher_t *m, uint32_t account, uint32_t asset, int64_t *available,
                    int64_t *held);

typedef struct matcher_order {
    uint64_t order_id;
    uint64_t client_order_id;
    int64_t price;
    int64_t qty;        /* open quantity */
    uint64_t expire_ns;
    uint32_t account;
    uint32_t instrument;
    uint8_t side, tif;
} matcher_order_t;

/* Finds a resting order by id. -ENOENT when it is not resting. */
int matcher_order(const matcher_t *m, uint64_t order_id, matcher_order_t *out);

/* Calls fn for each open order of an account, oldest first. */
void matcher_account_orders(const matcher_t *m, uint32_t account,
                            void (*fn)(void *ctx, const matcher_order_t *o), void *ctx);

/* Counts for status and the invariants tests check. */
typedef struct matcher_stats {
    uint64_t orders_resting;
    uint64_t orders_accepted;
    uint64_t trades;
    uint64_t rejects;
    uint64_t rejects_by_reason[REJ_REASON_MAX];
} matcher_stats_t;

void matcher_get_stats(const matcher_t *m, matcher_stats_t *out);

/* Sum of available + held over all accounts for one asset, and the net of
 * deposits minus withdrawals: equal at every step (fees move to account 0). */
int matcher_asset_totals(const matcher_t *m, uint32_t asset, int64_t *total, int64_t *net_deposits);

/* A digest of the whole state (FNV-1a over a canonical walk), for replay checks. */
uint64_t matcher_digest(const matcher_t *m);

/* ---------------------------------------------------------------- snapshots */

/* Write fn: takes n bytes, returns 0 or a negative errno that stops the save.
 * Read fn: fills exactly n bytes, returns 0, or a negative errno (-ENODATA at
 * the end of the input). */
typedef int (*matcher_write_fn)(void *ctx, const void *p, size_t n);
typedef int (*matcher_read_fn)(void *ctx, void *p, size_t n);

/* Writes the whole state (reference data, accounts, balances, books with time
 * priority, id counters, counters) as a canonical byte stream: where things
 * sit in the pools is not in it. Reads m only. Returns 0 or fn's error. */
int matcher_save(const matcher_t *m, matcher_write_fn fn, void *ctx);

/* Loads a stream from matcher_save() into a fresh matcher (created, nothing
 * applied). The result has the same digest, and gives the same events for the
 * same commands, as the matcher that was saved. Every field is checked: a
 * stream that does not describe a consistent state is -EPROTO, one that needs
 * larger capacities than m's config -ENOSPC, each with a message. After an
 * error m is in no useful state: destroy it. */
int matcher_load(matcher_t *m, matcher_read_fn fn, void *ctx, err_t *err);

/* Moves the state of *m into a new matcher with capacities cfg (each at
 * least *m's: a state always fits) and the same sink, and destroys the old
 * one: the result has the same digest and gives the same events as a load
 * of *m's snapshot would. Needs both matchers' memory for a moment. Returns
 * 0, or a negative errno with a message and *m untouched. Not for the hot
 * path: it allocates. */
int matcher_resize(matcher_t **m, const matcher_config_t *cfg, err_t *err);

/* Bytes the matcher allocated at create. */
uint64_t matcher_memory_bytes(const matcher_t *m);

#endif
