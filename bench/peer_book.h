/* peer_book.h - bench-match's peer: a conventional pointer-based order book
 * (red-black tree of levels, malloc per order, chained id hash) that matches
 * limit and IOC orders and cancels by id, with no risk, balances, fees or
 * events. It runs the same commands in the same process, so the ratio reads
 * as "our whole matcher against the textbook book doing only the matching". */
#ifndef BOURSE_PEER_BOOK_H
#define BOURSE_PEER_BOOK_H

#include <stdint.h>

typedef struct peer_book peer_book_t;

peer_book_t *peer_book_create(uint32_t symbols, uint64_t expected_orders);
void peer_book_destroy(peer_book_t *b);

/* side 0 buys, 1 sells. Returns 1 if the order rests, 0 if it is done
 * (filled, or an IOC remainder dropped), -1 on a bad argument or no memory. */
int peer_book_new(peer_book_t *b, uint64_t id, uint32_t sym, int side, int64_t price, int64_t qty, int ioc);

/* Returns 0, or -1 if the order is not resting. */
int peer_book_cancel(peer_book_t *b, uint64_t id);

uint64_t peer_book_trades(const peer_book_t *b);

#endif
