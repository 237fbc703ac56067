/* loadgen.c - test-loadgen: a client that keeps an engine busy with random
 * orders and cancels on one instrument and records which commands had their
 * acknowledgement released: answered (REC_LAST seen) and durable
 * (client_durable_seq() >= the command's seq), as a gateway would release it.
 *
 *   test-loadgen INSTANCE SEED OUT_FILE [SECONDS [COMMANDS]]
 *
 * Says "attached" on stderr once it is attached; runs until the engine goes
 * away (or SECONDS pass, or COMMANDS were sent and acknowledged), then writes
 * "acked <highest acked cmd_seq> sent <commands sent> answered <n>" to OUT_FILE.
 * The durability test kills the engine under it and checks that every acked
 * command survived. Accounts 1..8 and instrument 1 (tick 100, lot 1000000)
 * must exist and be funded. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "clock.h"
#include "idle.h"
#include "proto.h"

enum { INFLIGHT = 64, LIVE_MAX = 4096, ACCOUNTS = 8 };

typedef struct pending {
    uint64_t ref;
    uint64_t cmd_seq;       /* 0 until its first event */
    int answered;
} pending_t;

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t live[LIVE_MAX];
static uint32_t live_acct[LIVE_MAX];
static uint32_t nlive;

static void make_command(rec_t *r)
{
    memset(r, 0, sizeof(*r));
    if (nlive > 0 && rnd() % 3 == 0) {
        uint32_t k = (uint32_t)(rnd() % nlive);
        cmd_cancel_t c = {.order_id = live[k], .account = live_acct[k]};
        live[k] = live[--nlive];
        live_acct[k] = live_acct[nlive];
        r->type = CMD_CANCEL;
        r->len = sizeof(c);
        memcpy(r->payload, &c, sizeof(c));
        return;
    }
    int side = (int)(rnd() & 1);
    int64_t ticks = 1000 + (side == SIDE_BUY ? -(int64_t)(rnd() % 10) : (int64_t)(rnd() % 10)) + (rnd() % 8 == 0 ? (side == SIDE_BUY ? 5 : -5) : 0);
    cmd_new_order_t o = {.price = ticks * 100, .qty = (int64_t)(1 + rnd() % 5) * 1000000,
                         .account = 1 + (uint32_t)(rnd() % ACCOUNTS), .instrument = 1, .side = (uint8_t)side,
                         .tif = rnd() % 6 == 0 ? TIF_IOC : TIF_GTC, .stp = (uint8_t)(rnd() % 4),
                         .client_order_id = rnd() % 4 == 0 ? rnd() % 1000 + 1 : 0};
    r->type = CMD_NEW_ORDER;
    r->len = sizeof(o);
    memcpy(r->payload, &o, sizeof(o));
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test-loadgen INSTANCE SEED OUT_FILE [SECONDS [COMMANDS]]\n");
        return 2;
    }
    rng = strtoull(argv[2], NULL, 10) * 0x9e3779b97f4a7c15u | 1;
    uint64_t until = argc > 4 ? clock_mono_ns() + strtoull(argv[4], NULL, 10) * 1000000000u : UINT64_MAX;
    uint64_t max_sent = argc > 5 ? strtoull(argv[5], NULL, 10) : UINT64_MAX;
    client_t *c;
    err_t err = {0};
    if (client_attach(&c, argv[1], "test-loadgen", CLIENT_SEND | CLIENT_RECV, &err) < 0) {
        fprintf(stderr, "test-loadgen: %s\n", err.msg);
        return 1;
    }
    /* scripts wait for this line: the load has started */
    fprintf(stderr, "test-loadgen: attached to %s\n", argv[1]);
    pending_t p[INFLIGHT];
    uint32_t head = 0, tail = 0; /* p[tail..head) in flight, in send order */
    uint64_t next_ref = 1, sent = 0, answered = 0, acked = 0;
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 200000);
    int gone = 0;
    while (!gone && clock_mono_ns() < until && !(sent >= max_sent && tail == head)) {
        int work = 0;
        while (head - tail < INFLIGHT && sent < max_sent) {
            rec_t r;
            make_command(&r);
            r.ref = next_ref;
            int rc = client_send(c, &r);
            if (rc == -EAGAIN)
                break;
            if (rc < 0) {
                gone = 1;
                break;
            }
            p[head++ % INFLIGHT] = (pending_t){.ref = next_ref++};
            sent++;
            work = 1;
        }
        rec_t ev[64];
        int64_t n = client_poll(c, ev, 64);
        if (n == -EOVERFLOW) {
            client_resync(c); /* answers were lost: those commands stay unacked */
            tail = head;
            continue;
        }
        if (n < 0) {
            gone = 1;
            break;
        }
        for (int64_t i = 0; i < n; i++) {
            if (ev[i].src != c->slot || ev[i].ref == 0)
                continue;
            for (uint32_t k = tail; k != head; k++) {
                pending_t *q = &p[k % INFLIGHT];
                if (q->ref != ev[i].ref)
                    continue;
                q->cmd_seq = ev[i].cmd_seq;
                if (ev[i].type == EVT_ACCEPTED && nlive < LIVE_MAX) {
                    const evt_accepted_t *a = (const evt_accepted_t *)ev[i].payload;
                    if (a->tif == TIF_GTC) {
                        live[nlive] = a->order_id;
                        live_acct[nlive++] = a->account;
                    }
                }
                if (ev[i].flags & REC_LAST) {
                    q->answered = 1;
                    answered++;
                }
                break;
            }
        }
        /* Acks are released in order, once durable. */
        uint64_t durable = client_durable_seq(c);
        while (tail != head && p[tail % INFLIGHT].answered && p[tail % INFLIGHT].cmd_seq <= durable) {
            if (p[tail % INFLIGHT].cmd_seq > acked)
                acked = p[tail % INFLIGHT].cmd_seq;
            tail++;
            work = 1;
        }
        if (n > 0 || work)
            idle_reset(&idle);
        else
            idle_wait(&idle);
    }
    FILE *f = fopen(argv[3], "w");
    if (f == NULL || fprintf(f, "acked %" PRIu64 " sent %" PRIu64 " answered %" PRIu64 "\n", acked, sent, answered) < 0 ||
        fclose(f) != 0) {
        fprintf(stderr, "test-loadgen: cannot write %s\n", argv[3]);
        return 1;
    }
    client_detach(c);
    return 0;
}
