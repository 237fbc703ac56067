/* ws.h - bourse-ws, the WebSocket market-data gateway: it reads the engine's
 * event log once, keeps an L2 replica of every symbol's book (a query-book
 * snapshot plus the deltas of later commands), and fans each message out to
 * the subscribers of its channel: books, tickers, trades and candles per
 * symbol, and, after authentication, an account's orders, fills and
 * balances. It also serves the live market page. One thread owns it. */
#ifndef BOURSE_WS_H
#define BOURSE_WS_H

#include <stdatomic.h>

#include "err.h"
#include "ws_config.h"

typedef struct ws ws_t;

/* Opens the key store, binds the listening socket; attaching to the engine
 * happens in ws_run (with backoff, so the gateway may start first).
 * Returns 0 or a negative errno with err set. */
int ws_open(ws_t **out, const ws_config_t *cfg, err_t *err);

/* Runs until *stop is set, then closes every client with 1001. */
int ws_run(ws_t *w, const atomic_bool *stop);

void ws_close(ws_t *w);

#endif
