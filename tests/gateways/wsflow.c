/* wsflow.c - test-wsflow: a steady order flow through a real engine for
 * bourse-ws's tests. Resting orders and cancels around a price (a few of
 * them crossing, so trades happen), alternating accounts 1 and 2, paced at a
 * rate, with at most a window of commands unanswered.
 *
 *   test-wsflow INSTANCE INSTRUMENT COUNT RATE_PER_S [SEED]
 *
 * Prints "commands N trades T last_cmd_seq S" once every command was
 * answered: T counts the trades of INSTRUMENT on the event log from the first
 * command on, S is the sequence of the last command. The instrument must
 * have tick 100 and lot 1000000 around the price 6000000 (as the tests set
 * it up), and accounts 1 and 2 must be funded. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "clock.h"
#include "proto.h"

enum { WINDOW = 256, LIVE_MAX = 64 };

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: test-wsflow INSTANCE INSTRUMENT COUNT RATE_PER_S [SEED]\n");
        return 2;
    }
    uint32_t instrument = (uint32_t)strtoul(argv[2], NULL, 10);
    uint64_t count = strtoull(argv[3], NULL, 10), rate = strtoull(argv[4], NULL, 10);
    rng = argc > 5 ? strtoull(argv[5], NULL, 10) | 1 : 88172645463325252ull;
    if (rate == 0)
        rate = 1;
    client_t *c;
    err_t err = {0};
    if (client_attach(&c, argv[1], "test-wsflow", CLIENT_SEND | CLIENT_RECV, &err) < 0) {
        fprintf(stderr, "test-wsflow: %s\n", err.msg);
        return 1;
    }
    struct {
        uint64_t id;
        uint32_t account;
    } live[LIVE_MAX];
    uint32_t nlive = 0;
    uint64_t sent = 0, answered = 0, trades = 0, last_seq = 0;
    uint64_t t0 = clock_mono_ns(), step_ns = 1000000000ull / rate;
    rec_t ev[256];
    while (answered < count) {
        uint64_t now = clock_mono_ns();
        if (sent < count && sent - answered < WINDOW && now >= t0 + sent * step_ns) {
            rec_t r;
            memset(&r, 0, sizeof(r));
            r.ref = sent + 1;
            if (nlive > 0 && (nlive >= LIVE_MAX / 2 || rnd() % 3 == 0)) {
                uint32_t k = (uint32_t)(rnd() % nlive);
                cmd_cancel_t x = {.order_id = live[k].id, .account = live[k].account};
                live[k] = live[--nlive];
                r.type = CMD_CANCEL;
                r.len = sizeof(x);
                memcpy(r.payload, &x, sizeof(x));
            } else {
                int side = (int)(rnd() & 1);
                bool cross = rnd() % 8 == 0;
                int64_t off = (int64_t)(rnd() % 20 + 1) * 100;
                int64_t price = 6000000 + (side == SIDE_BUY ? -off : off) + (cross ? (side == SIDE_BUY ? 2500 : -2500) : 0);
                cmd_new_order_t o = {.price = price, .qty = (int64_t)(rnd() % 5 + 1) * 1000000,
                                     .account = (uint32_t)(sent % 2 + 1), .instrument = instrument,
                                     .side = (uint8_t)side, .tif = cross ? TIF_IOC : TIF_GTC};
                r.type = CMD_NEW_ORDER;
                r.len = sizeof(o);
                memcpy(r.payload, &o, sizeof(o));
            }
            int rc = client_send(c, &r);
            if (rc == 0)
                sent++;
            else if (rc != -EAGAIN) {
                fprintf(stderr, "test-wsflow: send: %s\n", strerror(-rc));
                return 1;
            }
            continue;
        }
        int64_t n = client_poll(c, ev, 256);
        if (n < 0) {
            fprintf(stderr, "test-wsflow: poll: %s\n", n == -EOVERFLOW ? "lapped" : strerror((int)-n));
            return 1;
        }
        for (int64_t i = 0; i < n; i++) {
            const rec_t *e = &ev[i];
            if (e->type == EVT_TRADE) {
                evt_trade_t t;
                memcpy(&t, e->payload, sizeof(t));
                trades += t.instrument == instrument && sent > 0;
            }
            if (e->src != (uint16_t)c->slot || e->ref == 0 || e->ref > sent)
                continue;
            if (e->type == EVT_ACCEPTED && nlive < LIVE_MAX) {
                evt_accepted_t a;
                memcpy(&a, e->payload, sizeof(a));
                if (a.tif == TIF_GTC) {
                    live[nlive].id = a.order_id;
                    live[nlive++].account = a.account;
                }
            }
            if (e->flags & REC_LAST) {
                answered++;
                last_seq = e->cmd_seq;
            }
        }
        if (n == 0) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    printf("commands %" PRIu64 " trades %" PRIu64 " last_cmd_seq %" PRIu64 "\n", sent, trades, last_seq);
    client_detach(c);
    return 0;
}
