/* test_evlog.c - engine/evlog.h: order, lap detection and resync in one
 * thread; then a writer and three reader threads checking that no reader ever
 * returns a torn or out-of-order record (the TSan build runs this). */
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>

#include "../check.h"
#include "evlog.h"
#include "idle.h"

enum { CAP = 64 };

typedef struct test_log {
    alignas(SHM_PAIR) evlog_shm_t shm;
    rec_t slots[CAP];
} test_log_t;

static test_log_t tl;
static shm_reader_t regs[4];

static rec_t mk(uint64_t v)
{
    rec_t r = {.type = EVT_ECHO, .len = 40};
    /* Every payload word derives from v: a torn copy cannot pass check_rec(). */
    for (int i = 0; i < 5; i++) {
        uint64_t w = v * 0x9e3779b97f4a7c15u + (uint64_t)i;
        memcpy(r.payload + 8 * i, &w, 8);
    }
    r.ts_ns = v;
    return r;
}

static int check_rec(const rec_t *r)
{
    rec_t want = mk(r->ts_ns);
    return memcmp(r->payload, want.payload, sizeof(want.payload)) == 0 && r->type == EVT_ECHO;
}

static void test_reader_sees_events_in_order_with_positions(void)
{
    evlog_writer_t w;
    evlog_reader_t r;
    evlog_format(&tl.shm, CAP, sizeof(rec_t));
    CHECK_EQ(evlog_writer_init(&w, &tl.shm, CAP, sizeof(rec_t)), 0);
    CHECK_EQ(evlog_reader_init(&r, &tl.shm, CAP, sizeof(rec_t), NULL), 0);
    rec_t out;
    CHECK_EQ(evlog_read(&r, &out), 0);
    for (uint64_t i = 0; i < 10; i++) {
        rec_t e = mk(i);
        CHECK_EQ(evlog_append(&w, &e), i);
    }
    evlog_flush(&w);
    CHECK_EQ(evlog_head(&tl.shm), 10);
    for (uint64_t i = 0; i < 10; i++) {
        CHECK_EQ(evlog_read(&r, &out), 1);
        CHECK_EQ(out.seq, i);
        CHECK_EQ(out.ts_ns, i);
        CHECK(check_rec(&out));
    }
    CHECK_EQ(evlog_read(&r, &out), 0);
}

static void test_new_reader_starts_at_the_head(void)
{
    evlog_writer_t w;
    evlog_reader_t r;
    evlog_format(&tl.shm, CAP, sizeof(rec_t));
    evlog_writer_init(&w, &tl.shm, CAP, sizeof(rec_t));
    for (uint64_t i = 0; i < 5; i++) {
        rec_t e = mk(i);
        evlog_append(&w, &e);
    }
    evlog_flush(&w);
    evlog_reader_init(&r, &tl.shm, CAP, sizeof(rec_t), &regs[0]);
    CHECK_EQ(r.pos, 5);
    CHECK_EQ(atomic_load(&regs[0].cursor), 5);
    rec_t out, e = mk(5);
    evlog_append(&w, &e);
    CHECK_EQ(evlog_read(&r, &out), 1);
    CHECK_EQ(out.seq, 5);
}

static void test_lapped_reader_is_detected_and_resyncs(void)
{
    evlog_writer_t w;
    evlog_reader_t r;
    evlog_format(&tl.shm, CAP, sizeof(rec_t));
    evlog_writer_init(&w, &tl.shm, CAP, sizeof(rec_t));
    memset(&regs[1], 0, sizeof(regs[1]));
    evlog_reader_init(&r, &tl.shm, CAP, sizeof(rec_t), &regs[1]);
    /* One more than a lap: position 0's slot now holds position CAP. */
    for (uint64_t i = 0; i <= CAP; i++) {
        rec_t e = mk(i);
        evlog_append(&w, &e);
    }
    evlog_flush(&w);
    rec_t out[8];
    CHECK_EQ(evlog_read(&r, &out[0]), -EOVERFLOW);
    CHECK_EQ(evlog_read_burst(&r, out, 8), -EOVERFLOW);
    CHECK_EQ(r.pos, 0); /* the cursor stays until the caller resyncs */
    CHECK_EQ(evlog_resync(&r), CAP + 1);
    CHECK_EQ(atomic_load(&regs[1].laps), 1);
    CHECK_EQ(evlog_read(&r, &out[0]), 0);
    rec_t e = mk(CAP + 1);
    evlog_append(&w, &e);
    CHECK_EQ(evlog_read(&r, &out[0]), 1);
    CHECK_EQ(out[0].seq, CAP + 1);
}

static void test_reader_one_lap_minus_one_behind_is_not_lapped(void)
{
    evlog_writer_t w;
    evlog_reader_t r;
    evlog_format(&tl.shm, CAP, sizeof(rec_t));
    evlog_writer_init(&w, &tl.shm, CAP, sizeof(rec_t));
    evlog_reader_init(&r, &tl.shm, CAP, sizeof(rec_t), NULL);
    for (uint64_t i = 0; i < CAP; i++) {
        rec_t e = mk(i);
        evlog_append(&w, &e);
    }
    rec_t out[CAP];
    CHECK_EQ(evlog_read_burst(&r, out, CAP), CAP);
    for (uint64_t i = 0; i < CAP; i++)
        CHECK_EQ(out[i].seq, i);
}

static void test_busy_slot_reads_as_not_yet_written(void)
{
    evlog_writer_t w;
    evlog_reader_t r;
    evlog_format(&tl.shm, CAP, sizeof(rec_t));
    evlog_writer_init(&w, &tl.shm, CAP, sizeof(rec_t));
    evlog_reader_init(&r, &tl.shm, CAP, sizeof(rec_t), NULL);
    /* What a reader sees while the writer is between its busy stamp and its
     * final stamp for the reader's own position. */
    atomic_store((_Atomic uint64_t *)&tl.slots[0], 1 | EVLOG_BUSY);
    rec_t out;
    CHECK_EQ(evlog_read(&r, &out), 0);
    /* ... and for a position a lap ahead of the reader: lapped. */
    atomic_store((_Atomic uint64_t *)&tl.slots[0], (CAP + 1) | EVLOG_BUSY);
    CHECK_EQ(evlog_read(&r, &out), -EOVERFLOW);
}

static void test_min_cursor_ignores_free_slots(void)
{
    shm_reader_t rs[3];
    memset(rs, 0, sizeof(rs));
    CHECK_EQ(evlog_min_cursor(rs, 3, 77), 77);
    atomic_store(&rs[1].lease, LEASE_MAKE(1, LEASE_ACTIVE));
    atomic_store(&rs[1].cursor, 40);
    atomic_store(&rs[2].cursor, 3); /* free: ignored */
    CHECK_EQ(evlog_min_cursor(rs, 3, 77), 40);
}

enum { N_EVENTS = 300000, N_READERS = 3 };

typedef struct reader_result {
    uint64_t read, laps, torn, disorder;
} reader_result_t;

static atomic_bool writer_done;

static void *reader_main(void *arg)
{
    reader_result_t *res = arg;
    evlog_reader_t r;
    evlog_reader_init(&r, &tl.shm, CAP, sizeof(rec_t), NULL);
    r.pos = 0;
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 20000);
    uint64_t last = UINT64_MAX;
    rec_t out[8];
    for (;;) {
        int64_t n = evlog_read_burst(&r, out, 8);
        if (n == -EOVERFLOW) {
            res->laps++;
            evlog_resync(&r);
            continue;
        }
        if (n == 0) {
            if (atomic_load(&writer_done) && r.pos >= evlog_head(&tl.shm))
                break;
            idle_wait(&idle);
            continue;
        }
        idle_reset(&idle);
        for (int64_t i = 0; i < n; i++) {
            if (!check_rec(&out[i]) || out[i].ts_ns != out[i].seq)
                res->torn++;
            if (last != UINT64_MAX && out[i].seq <= last)
                res->disorder++;
            last = out[i].seq;
            res->read++;
        }
    }
    return NULL;
}

static void test_writer_and_three_readers_never_see_torn_records(void)
{
    evlog_writer_t w;
    evlog_format(&tl.shm, CAP, sizeof(rec_t));
    evlog_writer_init(&w, &tl.shm, CAP, sizeof(rec_t));
    atomic_store(&writer_done, false);
    pthread_t t[N_READERS];
    reader_result_t res[N_READERS];
    memset(res, 0, sizeof(res));
    for (int i = 0; i < N_READERS; i++)
        pthread_create(&t[i], NULL, reader_main, &res[i]);
    for (uint64_t i = 0; i < N_EVENTS; i++) {
        rec_t e = mk(i);
        evlog_append(&w, &e);
        if ((i & 15) == 0)
            evlog_flush(&w);
    }
    evlog_flush(&w);
    atomic_store(&writer_done, true);
    uint64_t total = 0;
    for (int i = 0; i < N_READERS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(res[i].torn, 0);
        CHECK_EQ(res[i].disorder, 0);
        total += res[i].read;
    }
    CHECK(total > 0);
    printf("  readers read %" PRIu64 " records, lapped %" PRIu64 "/%" PRIu64 "/%" PRIu64 " times\n",
           total, res[0].laps, res[1].laps, res[2].laps);
}

typedef struct gated_arg {
    shm_reader_t *reg;
    uint64_t read, bad;
} gated_arg_t;

static void *gated_reader_main(void *arg)
{
    gated_arg_t *g = arg;
    evlog_reader_t r;
    evlog_reader_init(&r, &tl.shm, CAP, sizeof(rec_t), g->reg);
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 20000);
    rec_t out[8];
    while (g->read < N_EVENTS) {
        int64_t n = evlog_read_burst(&r, out, 8);
        if (n < 0) {
            g->bad++; /* a gated writer must never lap us */
            evlog_resync(&r);
            continue;
        }
        if (n == 0) {
            idle_wait(&idle);
            continue;
        }
        idle_reset(&idle);
        for (int64_t i = 0; i < n; i++, g->read++)
            if (out[i].seq != g->read || out[i].ts_ns != g->read || !check_rec(&out[i]))
                g->bad++;
    }
    return NULL;
}

/* A writer that waits for the slowest registered reader (evlog_min_cursor)
 * delivers every record to every reader: complete, in order, intact. */
static void test_gated_writer_delivers_every_record_to_every_reader(void)
{
    evlog_writer_t w;
    evlog_format(&tl.shm, CAP, sizeof(rec_t));
    evlog_writer_init(&w, &tl.shm, CAP, sizeof(rec_t));
    static shm_reader_t gregs[N_READERS];
    memset(gregs, 0, sizeof(gregs));
    gated_arg_t args[N_READERS];
    pthread_t t[N_READERS];
    for (int i = 0; i < N_READERS; i++) {
        atomic_store(&gregs[i].lease, LEASE_MAKE(1, LEASE_ACTIVE));
        args[i] = (gated_arg_t){.reg = &gregs[i]};
    }
    for (int i = 0; i < N_READERS; i++)
        pthread_create(&t[i], NULL, gated_reader_main, &args[i]);
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 20000);
    for (uint64_t i = 0; i < N_EVENTS;) {
        if (i - evlog_min_cursor(gregs, N_READERS, i) >= CAP) {
            idle_wait(&idle);
            continue;
        }
        idle_reset(&idle);
        rec_t e = mk(i);
        evlog_append(&w, &e);
        i++;
    }
    evlog_flush(&w);
    for (int i = 0; i < N_READERS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(args[i].bad, 0);
        CHECK_EQ(args[i].read, N_EVENTS);
    }
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_reader_sees_events_in_order_with_positions);
    RUN(test_new_reader_starts_at_the_head);
    RUN(test_lapped_reader_is_detected_and_resyncs);
    RUN(test_reader_one_lap_minus_one_behind_is_not_lapped);
    RUN(test_busy_slot_reads_as_not_yet_written);
    RUN(test_min_cursor_ignores_free_slots);
    RUN(test_writer_and_three_readers_never_see_torn_records);
    RUN(test_gated_writer_delivers_every_record_to_every_reader);
    CHECK_MAIN_END();
}
