/* request.h - the REST gateway's input side: a JSON body, a path segment or a
 * query string becomes a matcher command, checked against the reference data
 * before it goes near the engine. Decimal strings become integers at the
 * instrument's scales (no floating point anywhere), prices and quantities off
 * the tick or lot grid are refused with the matcher's own reason names, and
 * anything malformed is a 4xx with a stable code. No I/O, no engine: the unit
 * tests and the fuzz target call these directly. */
#ifndef BOURSE_REQUEST_H
#define BOURSE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "layout.h"
#include "refdata.h"

/* Why a request is refused: the HTTP status and the {"error": {"code",
 * "message"}} body. Codes are stable: the matcher's reason names
 * ("price-off-tick") where one fits, else the gateway's own ("bad-json"). */
typedef struct rest_err {
    int status;
    const char *code;
    char message[200];
} rest_err_t;

/* Fills e and returns -1, for `return rest_fail(e, 400, "bad-json", ...)`. */
int rest_fail(rest_err_t *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* POST /v1/orders: {"symbol", "side", "qty", "type", "price", "tif",
 * "post_only", "stp", "client_order_id", "expire_time_ms"} for account.
 * Fills *out (a CMD_NEW_ORDER record, ref and seq left 0). Returns 0 or -1. */
int request_new_order(const refdata_t *rd, uint32_t account, const char *body, size_t len, rec_t *out,
                      rest_err_t *e);

/* PATCH /v1/orders/{id}: {"price", "qty"} (at least one) for an order of
 * instrument in, named by order_id or (order_id 0) client_order_id. */
int request_amend(const rd_instrument_t *in, uint32_t account, uint64_t order_id, uint64_t client_order_id,
                  const char *body, size_t len, rec_t *out, rest_err_t *e);

/* Records without a body: cancel, mass cancel (instrument UINT32_MAX: all),
 * the queries, halt and resume. */
void request_cancel(uint16_t type, uint32_t account, uint64_t order_id, uint64_t client_order_id, rec_t *out);
void request_mass_cancel(uint32_t account, uint32_t instrument, rec_t *out);
void request_query_book(uint32_t instrument, uint32_t depth, rec_t *out);
void request_query_account(uint32_t account, uint8_t what, uint32_t limit, uint64_t after, rec_t *out);
void request_simple(uint16_t type, uint32_t id, rec_t *out);

/* Admin bodies.
 *   assets:      {"name", "decimals", "asset"?}            (asset id: next free)
 *   instruments: {"symbol", "base", "quote", "tick_size", "lot_size", "min_qty",
 *                 "max_qty", "ref_price", "band_bps"?, "instrument"?}
 *   accounts:    {"account", "fee_tier"?}
 *   deposits and withdrawals: {"account", "asset", "amount"}
 *   keys:        {"role", "account"} */
int request_add_asset(const refdata_t *rd, const char *body, size_t len, rec_t *out, rest_err_t *e);
int request_add_instrument(const refdata_t *rd, const char *body, size_t len, rec_t *out, rest_err_t *e);
int request_add_account(const char *body, size_t len, rec_t *out, rest_err_t *e);
int request_funds(const refdata_t *rd, uint16_t type, const char *body, size_t len, rec_t *out, rest_err_t *e);
int request_key(const char *body, size_t len, auth_role_t *role, uint32_t *account, rest_err_t *e);

/* An id from a path segment: 1 to 20 digits, no leading zero, 1..UINT64_MAX.
 * Returns 0 or -1 (e: 400 bad-id). */
int request_id(const char *s, size_t n, const char *what, uint64_t *out, rest_err_t *e);

/* Query strings: name=value pairs joined by '&'. Values may hold only
 * [A-Za-z0-9._-] (nothing here needs escaping, so nothing is unescaped). */
enum { QUERY_ARGS_MAX = 8 };
typedef struct query_arg {
    const char *name;    /* set by the caller: the accepted names */
    const char *value;   /* set by request_query when given */
    uint32_t len;
    bool set;
} query_arg_t;

/* Parses q (n bytes, without the '?') into args (nargs accepted names).
 * An unknown name, a repeated one or a bad value is 400 bad-query. */
int request_query(const char *q, size_t n, query_arg_t *args, unsigned nargs, rest_err_t *e);

/* An argument as an integer in min..max, dflt when absent. */
int request_query_uint(const query_arg_t *a, uint64_t min, uint64_t max, uint64_t dflt, uint64_t *out,
                       rest_err_t *e);

#endif
