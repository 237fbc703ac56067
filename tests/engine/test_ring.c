/* test_ring.c - engine/ring.h: SPSC semantics in one thread, then a producer
 * and a consumer thread passing a million records (the TSan build runs this). */
#include <pthread.h>
#include <stdalign.h>

#include "../check.h"
#include "idle.h"
#include "ring.h"

enum { CAP = 64 };

typedef struct test_ring {
    alignas(SHM_PAIR) ring_shm_t shm;
    rec_t slots[CAP];
} test_ring_t;

static test_ring_t tr;

static void fresh(ring_t *p, ring_t *c)
{
    ring_format(&tr.shm, CAP, sizeof(rec_t));
    if (p)
        ring_attach_producer(p, &tr.shm, CAP, sizeof(rec_t));
    if (c)
        ring_attach_consumer(c, &tr.shm, CAP, sizeof(rec_t));
}

static rec_t mk(uint64_t seq)
{
    rec_t r = {.seq = seq, .type = CMD_ECHO, .len = 8};
    memcpy(r.payload, &seq, 8);
    return r;
}

static void test_empty_ring_pops_nothing(void)
{
    ring_t p, c;
    fresh(&p, &c);
    rec_t out;
    CHECK_EQ(ring_pop(&c, &out), -EAGAIN);
    CHECK_EQ(ring_pop_burst(&c, &out, 1), 0);
}

static void test_records_come_out_in_order_and_intact(void)
{
    ring_t p, c;
    fresh(&p, &c);
    for (uint64_t i = 0; i < 10; i++) {
        rec_t r = mk(i);
        CHECK_EQ(ring_push(&p, &r), 0);
    }
    CHECK_EQ(ring_depth(&tr.shm), 10);
    for (uint64_t i = 0; i < 10; i++) {
        rec_t out;
        CHECK_EQ(ring_pop(&c, &out), 0);
        CHECK_EQ(out.seq, i);
        uint64_t v;
        memcpy(&v, out.payload, 8);
        CHECK_EQ(v, i);
    }
    CHECK_EQ(ring_depth(&tr.shm), 0);
}

static void test_full_ring_refuses_push_until_one_is_consumed(void)
{
    ring_t p, c;
    fresh(&p, &c);
    for (uint64_t i = 0; i < CAP; i++) {
        rec_t r = mk(i);
        CHECK_EQ(ring_push(&p, &r), 0);
    }
    rec_t r = mk(CAP);
    CHECK_EQ(ring_push(&p, &r), -EAGAIN);
    rec_t out;
    CHECK_EQ(ring_pop(&c, &out), 0);
    CHECK_EQ(ring_push(&p, &r), 0);
    CHECK_EQ(ring_push(&p, &r), -EAGAIN);
}

static void test_bursts_wrap_around_the_capacity(void)
{
    ring_t p, c;
    fresh(&p, &c);
    rec_t in[40], out[40];
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 40; i++)
            in[i] = mk(next_in + (uint64_t)i);
        int64_t n = ring_push_burst(&p, in, 40);
        CHECK(n > 0);
        next_in += (uint64_t)n;
        int64_t m = ring_pop_burst(&c, out, 40);
        CHECK_EQ(m, n);
        for (int64_t i = 0; i < m; i++)
            CHECK_EQ(out[i].seq, next_out + (uint64_t)i);
        next_out += (uint64_t)m;
    }
    CHECK_EQ(next_in, 800);
}

static void test_push_burst_stops_at_free_space(void)
{
    ring_t p, c;
    fresh(&p, &c);
    rec_t in[CAP + 10];
    for (int i = 0; i < CAP + 10; i++)
        in[i] = mk((uint64_t)i);
    CHECK_EQ(ring_push_burst(&p, in, CAP + 10), CAP);
    CHECK_EQ(ring_push_burst(&p, in, 1), 0);
}

static void test_corrupt_producer_index_is_reported_not_trusted(void)
{
    ring_t p, c;
    fresh(&p, &c);
    atomic_store(&tr.shm.head, UINT64_C(1) << 40); /* far beyond capacity */
    rec_t out;
    CHECK_EQ(ring_pop(&c, &out), -EPROTO);
    ring_format(&tr.shm, CAP, sizeof(rec_t));
    ring_attach_producer(&p, &tr.shm, CAP, sizeof(rec_t));
    ring_attach_consumer(&c, &tr.shm, CAP, sizeof(rec_t));
    rec_t r = mk(0);
    for (int i = 0; i < CAP; i++)
        CHECK_EQ(ring_push(&p, &r), 0);
    atomic_store(&tr.shm.tail, UINT64_C(999)); /* consumer claims to have read unwritten records */
    CHECK_EQ(ring_push(&p, &r), -EPROTO);
}

static void test_attach_refuses_a_mismatched_descriptor(void)
{
    ring_t p;
    ring_format(&tr.shm, CAP, sizeof(rec_t));
    CHECK_EQ(ring_attach_producer(&p, &tr.shm, CAP * 2, sizeof(rec_t)), -EPROTO);
    tr.shm.rec_size = 64;
    CHECK_EQ(ring_attach_producer(&p, &tr.shm, CAP, sizeof(rec_t)), -EPROTO);
}

enum { THREAD_COUNT = 1000000 };

static void *producer_main(void *arg)
{
    ring_t *p = arg;
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 50000);
    for (uint64_t i = 0; i < THREAD_COUNT;) {
        rec_t r = mk(i);
        if (ring_push(p, &r) == 0) {
            i++;
            idle_reset(&idle);
        } else {
            idle_wait(&idle);
        }
    }
    return NULL;
}

static void test_two_threads_pass_a_million_records_in_order(void)
{
    ring_t p, c;
    fresh(&p, &c);
    pthread_t t;
    pthread_create(&t, NULL, producer_main, &p);
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 50000);
    uint64_t expect = 0;
    int bad = 0;
    rec_t out[16];
    while (expect < THREAD_COUNT) {
        int64_t n = ring_pop_burst(&c, out, 16);
        if (n <= 0) {
            if (n < 0)
                bad++;
            idle_wait(&idle);
            continue;
        }
        idle_reset(&idle);
        for (int64_t i = 0; i < n; i++) {
            uint64_t v;
            memcpy(&v, out[i].payload, 8);
            if (out[i].seq != expect || v != expect)
                bad++;
            expect++;
        }
    }
    pthread_join(t, NULL);
    CHECK_EQ(bad, 0);
    CHECK_EQ(expect, THREAD_COUNT);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_empty_ring_pops_nothing);
    RUN(test_records_come_out_in_order_and_intact);
    RUN(test_full_ring_refuses_push_until_one_is_consumed);
    RUN(test_bursts_wrap_around_the_capacity);
    RUN(test_push_burst_stops_at_free_space);
    RUN(test_corrupt_producer_index_is_reported_not_trusted);
    RUN(test_attach_refuses_a_mismatched_descriptor);
    RUN(test_two_threads_pass_a_million_records_in_order);
    CHECK_MAIN_END();
}
