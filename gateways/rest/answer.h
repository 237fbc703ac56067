/* answer.h - the REST gateway's output side: the engine's events for one
 * command, collected as they arrive, become the HTTP status and JSON body of
 * the answer; a refusal becomes the stable error body
 *     {"error": {"code": "insufficient-balance", "message": "..."}}
 * Integers leave as decimal strings at the instrument's or asset's scale;
 * ids leave as strings (exact in every JSON reader). No I/O. */
#ifndef BOURSE_ANSWER_H
#define BOURSE_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include "jsonw.h"
#include "layout.h"
#include "refdata.h"
#include "request.h"
#include "tradecache.h"

/* The events of one command, as they arrive. For order commands only the
 * order-shaped events are kept (book and balance updates are not part of
 * the answer), and a running summary survives a truncated list. */
typedef struct collect {
    rec_t *ev;
    uint32_t n, cap;
    uint32_t max;          /* events kept at most; beyond, truncated */
    bool truncated;
    bool orders_only;
    uint64_t order_id;     /* the order the command is about (accepted or replaced) */
    int64_t filled;        /* its quantity traded as taker in this command */
    uint32_t fills;
} collect_t;

void collect_init(collect_t *c);
/* Empties c for a new command (keeping its memory). */
void collect_reset(collect_t *c, uint32_t max, bool orders_only);
void collect_free(collect_t *c);
/* Returns 0 or -ENOMEM (the event is dropped and truncated set). */
int collect_add(collect_t *c, const rec_t *ev);
/* The first event of that type, or NULL. */
const rec_t *collect_find(const collect_t *c, uint16_t type);

/* The prototext name of a reject reason ("price-off-tick"). */
const char *answer_reason_name(uint16_t reason);
/* The HTTP status for a matcher refusal. */
int answer_reject_status(uint16_t reason);

/* Each writes a complete JSON body into w (reset first) and returns the
 * HTTP status. */
int answer_error(jw_t *w, const rest_err_t *e);
/* An EVT_REJECTED in c becomes its error (and status); else 0. */
int answer_rejected(jw_t *w, const collect_t *c);

/* New order, amend, cancel: the order as it stands after the command. */
int answer_order(jw_t *w, const refdata_t *rd, uint16_t cmd_type, const collect_t *c, uint64_t cmd_seq);
int answer_mass_cancel(jw_t *w, const refdata_t *rd, const collect_t *c, uint64_t cmd_seq);
/* CMD_QUERY_ORDER and CMD_QUERY_ACCOUNT answers. */
int answer_open_order(jw_t *w, const refdata_t *rd, const collect_t *c, uint64_t cmd_seq);
int answer_open_orders(jw_t *w, const refdata_t *rd, const collect_t *c, uint32_t instrument, uint64_t cmd_seq);
int answer_balances(jw_t *w, const refdata_t *rd, const collect_t *c, uint64_t cmd_seq);
int answer_book(jw_t *w, const rd_instrument_t *in, const collect_t *c, uint64_t cmd_seq);
/* From the gateway's caches. */
int answer_instruments(jw_t *w, const refdata_t *rd);
int answer_trades(jw_t *w, const rd_instrument_t *in, const tc_trade_t *const *t, uint32_t n);
int answer_fills(jw_t *w, const refdata_t *rd, uint32_t account, const tc_trade_t *const *t, uint32_t n);
/* Admin commands: what took effect, from the command and its events. */
int answer_admin(jw_t *w, const refdata_t *rd, const rec_t *cmd, const collect_t *c, uint64_t cmd_seq);

/* One instrument as an object member (key NULL inside an array). */
void answer_instrument(jw_t *w, const char *key, const rd_instrument_t *in, const refdata_t *rd);

#endif
