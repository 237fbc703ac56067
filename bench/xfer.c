/* xfer.c - see xfer.h.
 *
 * The loops here are what the figures measure, so every transport's loop has
 * the same shape as its peer's: the same waiter, the same checks, the clock
 * read at the same point. */
#include "xfer.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "clock.h"
#include "client.h"
#include "registry.h"

CK_RING_PROTOTYPE(rec, bench_rec)

/* ---------------------------------------------------------------- records */

/* Payload carries i and ~i: a torn or stale slot fails the check even when
 * its seq word happens to look right. */
/* A burst's records before rec_fill() numbers them: both transports send the same bytes. */
static void recs_init(bench_rec_t recs[BURST])
{
    memset(recs, 0, sizeof(bench_rec_t) * BURST);
    for (unsigned k = 0; k < BURST; k++) {
        recs[k].type = CMD_ECHO;
        recs[k].len = 16;
    }
}

static inline void rec_fill(bench_rec_t *r, uint64_t i)
{
    uint64_t x = ~i;
    r->seq = i;
    memcpy(r->payload, &i, 8);
    memcpy(r->payload + 8, &x, 8);
}

static inline bool rec_intact(const bench_rec_t *r, uint64_t i)
{
    uint64_t a, x;
    memcpy(&a, r->payload, 8);
    memcpy(&x, r->payload + 8, 8);
    return a == i && x == ~i;
}

static _Noreturn void seq_broken(harness_t *h, const char *what, uint64_t want, const bench_rec_t *got)
{
    uint64_t a;
    memcpy(&a, got->payload, 8);
    harness_fail(h, "%s: record %" PRIu64 " arrived as seq %" PRIu64 " carrying %" PRIu64
                    ": lost, duplicated, reordered or torn",
                 what, want, got->seq, a);
}

/* Busy pause between latency samples; the clock is cheap next to the gap. */
static void lat_gap(void)
{
    uint64_t until = clock_mono_ns() + LAT_GAP_NS;
    while (clock_mono_ns() < until)
        idle_pause();
}

/* ---------------------------------------------------------------- start line */

/* Child: counts itself in, then waits for the parent's go. */
static void child_ready(harness_t *h, const job_t *j)
{
    shared_t *sh = j->b->sh;
    /* release pairs with the acquire load in xfer_parent_go(): our attach and
     * registration are complete before the parent counts us */
    atomic_fetch_add_explicit(&sh->ready, 1, memory_order_release);
    harness_waiter_t w;
    harness_waiter_init(&w, h, j->idle, "the start signal");
    /* acquire pairs with the release store in xfer_parent_go() */
    while (atomic_load_explicit(&sh->go, memory_order_acquire) == 0)
        harness_wait(&w);
}

void xfer_parent_go(bench_t *b, const job_t *j, unsigned kids, int cpu)
{
    harness_pin(&b->h, cpu);
    harness_waiter_t w;
    harness_waiter_init(&w, &b->h, j->idle, "children to attach");
    while (atomic_load_explicit(&b->sh->ready, memory_order_acquire) < kids)
        harness_wait(&w);
    atomic_store_explicit(&b->sh->go, 1, memory_order_release);
}

/* Sender side, just before its first record. Relaxed: every receiver's and
 * the parent's read of it comes after a record or a waitpid() that orders it. */
static void mark_start(const job_t *j)
{
    atomic_store_explicit(&j->b->sh->start_ns, clock_mono_ns(), memory_order_relaxed);
}

static void mark_end(const job_t *j, unsigned receiver)
{
    /* release: the parent reads it after waitpid() or after our cursor moved */
    atomic_store_explicit(&j->b->sh->rx[receiver].end_ns, clock_mono_ns(), memory_order_release);
}

/* ---------------------------------------------------------------- our command ring */

/* Child: the producer, attached as a client would be. */
void xfer_ring_send(harness_t *h, void *job)
{
    const job_t *j = job;
    bench_t *b = j->b;
    harness_pin(h, b->o.cpu_producer);
    client_t *c;
    err_t err;
    if (client_attach(&c, b->instance, "bench-producer", CLIENT_SEND, &err) < 0)
        harness_fail(h, "%s", err.msg);
    if (c->slot != 0)
        harness_fail(h, "got command ring %d, but the consumer reads ring 0", c->slot);
    ring_t *r = &c->ring;
    child_ready(h, j);

    harness_waiter_t w;
    harness_waiter_init(&w, h, j->idle, "room in the command ring");
    bench_rec_t recs[BURST];
    recs_init(recs);
    mark_start(j);
    for (uint64_t i = 0; i < j->n;) {
        if (j->m == M_BURST) {
            uint64_t k = j->n - i < BURST ? j->n - i : BURST;
            for (uint64_t m = 0; m < k; m++)
                rec_fill(&recs[m], i + m);
            for (uint64_t done = 0; done < k;) {
                int64_t got = ring_push_burst(r, recs + done, k - done);
                if (got < 0)
                    harness_fail(h, "command ring broken (%" PRId64 ")", got);
                if (got == 0) {
                    harness_wait(&w);
                    continue;
                }
                harness_worked(&w);
                done += (uint64_t)got;
            }
            i += k;
            continue;
        }
        rec_fill(&recs[0], i);
        if (j->m == M_LATENCY)
            recs[0].ts_ns = clock_mono_ns(); /* monotonic, not the realtime of production commands */
        int rc;
        while ((rc = ring_push(r, &recs[0])) == -EAGAIN)
            harness_wait(&w);
        if (rc < 0)
            harness_fail(h, "command ring broken (%d)", rc);
        harness_worked(&w);
        i++;
        if (j->m == M_LATENCY) {
            /* relaxed: pacing only, no slot is reused on the strength of it */
            while (atomic_load_explicit(&r->shm->tail, memory_order_relaxed) != r->pos)
                harness_wait(&w);
            harness_worked(&w);
            lat_gap();
        }
    }
    client_detach(c);
}

/* Parent: the consumer of ring 0, as the engine is. */
void xfer_ring_receive(bench_t *b, const job_t *j, ring_t *r)
{
    harness_t *h = &b->h;
    harness_waiter_t w;
    harness_waiter_init(&w, h, j->idle, "records on the command ring");
    bench_rec_t buf[BURST];
    uint64_t i = 0;
    if (j->m == M_LATENCY) {
        /* The paced loops of all transports share this shape, with the
         * clock read as soon as the record is ours: differences of a few tens
         * of ns are what the latency columns compare. */
        for (; i < j->n; i++) {
            int rc;
            while ((rc = ring_pop(r, &buf[0])) == -EAGAIN)
                harness_wait(&w);
            uint64_t now = clock_mono_ns();
            harness_worked(&w);
            if (rc < 0)
                harness_fail(h, "command ring broken (%d)", rc);
            if (buf[0].seq != i || !rec_intact(&buf[0], i))
                seq_broken(h, "command ring", i, &buf[0]);
            b->samples[i] = now - buf[0].ts_ns;
        }
    }
    while (i < j->n) {
        int64_t k;
        if (j->m == M_BURST) {
            k = ring_pop_burst(r, buf, j->n - i < BURST ? j->n - i : BURST);
        } else {
            int rc = ring_pop(r, &buf[0]);
            k = rc == 0 ? 1 : rc == -EAGAIN ? 0 : rc;
        }
        if (k == 0) {
            harness_wait(&w);
            continue;
        }
        if (k < 0)
            harness_fail(h, "command ring broken (%" PRId64 ")", k);
        harness_worked(&w);
        for (int64_t m = 0; m < k; m++, i++)
            if (buf[m].seq != i || !rec_intact(&buf[m], i))
                seq_broken(h, "command ring", i, &buf[m]);
    }
    mark_end(j, 0);
}

/* ---------------------------------------------------------------- ck_ring, SPSC */

void xfer_ck_send(harness_t *h, void *job)
{
    const job_t *j = job;
    bench_t *b = j->b;
    harness_pin(h, b->o.cpu_producer);
    ck_ring_t *ring = &b->sh->ck[0].ring;
    bench_rec_t *slots = b->sh->ck_buf[0];
    child_ready(h, j);

    harness_waiter_t w;
    harness_waiter_init(&w, h, j->idle, "room in the ck_ring");
    bench_rec_t recs[BURST];
    recs_init(recs);
    mark_start(j);
    /* ck_ring has no SPSC burst call: a burst is filled, then enqueued one by one */
    uint64_t step = j->m == M_BURST ? BURST : 1;
    for (uint64_t i = 0; i < j->n;) {
        uint64_t k = j->n - i < step ? j->n - i : step;
        for (uint64_t m = 0; m < k; m++) {
            rec_fill(&recs[m], i + m);
            if (j->m == M_LATENCY)
                recs[m].ts_ns = clock_mono_ns();
            while (!ck_ring_enqueue_spsc_rec(ring, slots, &recs[m]))
                harness_wait(&w);
            harness_worked(&w);
        }
        i += k;
        if (j->m == M_LATENCY) {
            /* plain load: pacing only, no slot is reused on the strength of it */
            while (ck_pr_load_uint(&ring->c_head) != ring->p_tail)
                harness_wait(&w);
            harness_worked(&w);
            lat_gap();
        }
    }
}

/* Receives j->n records from one ck_ring: the SPSC consumer (parent) and each
 * fan-out reader (child) alike. lat, when not NULL, takes the samples. */
void xfer_ck_receive(harness_t *h, const job_t *j, unsigned which, uint64_t *lat)
{
    ck_ring_t *ring = &j->b->sh->ck[which].ring;
    bench_rec_t *slots = j->b->sh->ck_buf[which];
    harness_waiter_t w;
    harness_waiter_init(&w, h, j->idle, "records on the ck_ring");
    bench_rec_t buf[BURST];
    uint64_t max = j->m == M_BURST ? BURST : 1;
    uint64_t i = 0;
    if (lat != NULL) {
        for (; i < j->n; i++) {
            while (!ck_ring_dequeue_spsc_rec(ring, slots, &buf[0]))
                harness_wait(&w);
            uint64_t now = clock_mono_ns();
            harness_worked(&w);
            if (buf[0].seq != i || !rec_intact(&buf[0], i))
                seq_broken(h, "ck_ring", i, &buf[0]);
            lat[i] = now - buf[0].ts_ns;
        }
    }
    while (i < j->n) {
        uint64_t want = j->n - i < max ? j->n - i : max;
        uint64_t k = 0;
        while (k < want && ck_ring_dequeue_spsc_rec(ring, slots, &buf[k]))
            k++;
        if (k == 0) {
            harness_wait(&w);
            continue;
        }
        harness_worked(&w);
        for (uint64_t m = 0; m < k; m++, i++)
            if (buf[m].seq != i || !rec_intact(&buf[m], i))
                seq_broken(h, "ck_ring", i, &buf[m]);
    }
    mark_end(j, which);
}

/* ---------------------------------------------------------------- event log */

/* Records the lap in the registry (evlog_resync() counts it) and fails: the
 * gated writer must never lap anyone, and lost events break the sequence. */
static _Noreturn void reader_lapped(harness_t *h, evlog_reader_t *r)
{
    uint64_t at = r->pos, lost = evlog_resync(r);
    harness_fail(h, "lapped at log position %" PRIu64 ", %" PRIu64 " events lost: writer gating failed",
                 at, lost);
}

/* Child: one registered reader of the segment's event log. */
void xfer_evlog_read(harness_t *h, void *job)
{
    const job_t *j = job;
    bench_t *b = j->b;
    harness_pin(h, b->o.cpu_consumer);
    shm_t *s;
    err_t err;
    if (shm_attach(&s, b->instance, &err) < 0)
        harness_fail(h, "%s", err.msg);
    int slot = registry_claim_reader(s, h->role);
    if (slot < 0)
        harness_fail(h, "no free event-log reader slot");
    evlog_reader_t r;
    if (evlog_reader_init(&r, shm_evlog(s), s->geo.evlog_capacity, s->geo.rec_size, shm_reader(s, (uint32_t)slot)) < 0)
        harness_fail(h, "event log is corrupt");
    b->sh->rx[j->index].reader_slot = slot;
    uint64_t base = r.pos; /* the writer starts at the same published head */
    uint64_t *lat = j->m == M_LATENCY ? b->samples + (uint64_t)j->index * b->o.lat_count : NULL;
    child_ready(h, j);

    harness_waiter_t w;
    harness_waiter_init(&w, h, j->idle, "events in the log");
    bench_rec_t buf[BURST];
    uint64_t i = 0;
    if (lat != NULL) {
        /* one at a time, so the cursor the writer waits on moves at once */
        for (; i < j->n; i++) {
            int64_t k;
            while ((k = evlog_read_burst(&r, &buf[0], 1)) == 0)
                harness_wait(&w);
            uint64_t now = clock_mono_ns();
            harness_worked(&w);
            if (k < 0)
                reader_lapped(h, &r);
            if (buf[0].seq != base + i || !rec_intact(&buf[0], i))
                seq_broken(h, "event log", i, &buf[0]);
            lat[i] = now - buf[0].ts_ns;
        }
    }
    while (i < j->n) {
        int64_t k = evlog_read_burst(&r, buf, j->n - i < BURST ? j->n - i : BURST);
        if (k == 0) {
            harness_wait(&w);
            continue;
        }
        if (k < 0)
            reader_lapped(h, &r);
        harness_worked(&w);
        for (int64_t m = 0; m < k; m++, i++)
            if (buf[m].seq != base + i || !rec_intact(&buf[m], i))
                seq_broken(h, "event log", i, &buf[m]);
    }
    mark_end(j, j->index);
    registry_release_reader(s, (uint32_t)slot);
    shm_close(s);
}

/* Parent: the writer, as the engine is; never laps a registered reader. */
void xfer_evlog_write(bench_t *b, const job_t *j)
{
    harness_t *h = &b->h;
    evlog_writer_t w;
    if (evlog_writer_init(&w, shm_evlog(b->seg), b->seg->geo.evlog_capacity, b->seg->geo.rec_size) < 0)
        harness_fail(h, "event log is corrupt");
    const shm_reader_t *readers = shm_reader(b->seg, 0);
    uint32_t nreaders = b->seg->geo.reader_max;
    uint64_t room = b->seg->geo.evlog_capacity - GATE_SLACK;
    harness_waiter_t wt;
    harness_waiter_init(&wt, h, j->idle, "event-log readers");
    bench_rec_t rec = {.type = EVT_ECHO, .len = 16};
    /* the slowest cursor, as last read: reread only when it seems to block us,
     * the same cached-index economy as the command ring */
    uint64_t floor = evlog_min_cursor(readers, nreaders, w.pos);
    mark_start(j);
    for (uint64_t i = 0; i < j->n; i++) {
        if (w.pos - floor >= room) {
            for (;;) {
                floor = evlog_min_cursor(readers, nreaders, w.pos);
                if (w.pos - floor < room)
                    break;
                harness_wait(&wt);
            }
            harness_worked(&wt);
        }
        rec_fill(&rec, i);
        if (j->m == M_LATENCY) {
            rec.ts_ns = clock_mono_ns();
            uint64_t pos = evlog_append(&w, &rec);
            evlog_flush(&w);
            while (evlog_min_cursor(readers, nreaders, w.pos) <= pos)
                harness_wait(&wt);
            harness_worked(&wt);
            lat_gap();
            continue;
        }
        evlog_append(&w, &rec);
        /* the engine publishes head once per batch; do the same */
        if ((i & (BURST - 1)) == BURST - 1)
            evlog_flush(&w);
    }
    /* the next case's readers start at this head */
    evlog_flush(&w);
}

/* Parent: the ck_ring peer of the event log, one SPSC ring per reader. */
void xfer_fan_write(bench_t *b, const job_t *j)
{
    harness_waiter_t w;
    harness_waiter_init(&w, &b->h, j->idle, "room in a ck_ring");
    bench_rec_t rec = {.type = EVT_ECHO, .len = 16};
    mark_start(j);
    for (uint64_t i = 0; i < j->n; i++) {
        rec_fill(&rec, i);
        if (j->m == M_LATENCY)
            rec.ts_ns = clock_mono_ns();
        for (unsigned k = 0; k < j->readers; k++) {
            while (!ck_ring_enqueue_spsc_rec(&b->sh->ck[k].ring, b->sh->ck_buf[k], &rec))
                harness_wait(&w);
            harness_worked(&w);
        }
        if (j->m != M_LATENCY)
            continue;
        for (unsigned k = 0; k < j->readers; k++) {
            ck_ring_t *ring = &b->sh->ck[k].ring;
            while (ck_pr_load_uint(&ring->c_head) != ring->p_tail)
                harness_wait(&w);
            harness_worked(&w);
        }
        lat_gap();
    }
}

void xfer_fan_read(harness_t *h, void *job)
{
    const job_t *j = job;
    harness_pin(h, j->b->o.cpu_consumer);
    child_ready(h, j);
    uint64_t *lat =
        j->m == M_LATENCY ? j->b->samples + (uint64_t)j->index * j->b->o.lat_count : NULL;
    xfer_ck_receive(h, j, j->index, lat);
}
