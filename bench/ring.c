/* ring.c - bench-ring: how fast 64-byte records cross from one process to
 * others through our SPSC command ring (engine/ring.h) and our event log
 * (engine/evlog.h), each beside libck's ck_ring doing the same job in the same
 * run, with the same record, ring size and process arrangement.
 *
 * Our side goes through a real segment (shm_create() of instance bench-<pid>),
 * attached the way production processes attach: the ring producer with
 * client_attach(CLIENT_SEND), event-log readers with registry_claim_reader().
 * ck_ring lives in a MAP_SHARED anonymous mapping made before fork(); it holds
 * indices only, no pointers, so each process can use it at its own address.
 *
 * This file picks the cases, forks their processes, gathers and prints the
 * figures; the loops each process runs are in xfer.c. Every case forks fresh
 * processes, and any loss, duplicate, reorder or lap fails the run.
 * See bench/README.md for how to read the output. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "registry.h"
#include "shm.h"
#include "xfer.h"

enum {
    /* A measure is split into rounds that alternate ours and ck_ring, so
     * that drift in the machine (this VM's vCPUs move between host cores,
     * which alone moves the latency floor between ~100 and ~400 ns) falls
     * on both alike instead of on whichever ran second. */
    RATE_ROUNDS = 6,
    LAT_ROUNDS = 10,
    COUNT_DEFAULT = 10000000,
    LAT_COUNT_DEFAULT = 200000,
    QUICK_COUNT = 20000,
    QUICK_LAT_COUNT = 2000,
    LAT_COUNT_MAX = 5000000, /* samples are kept: 4 readers x 8 bytes each */
};

static const uint64_t STALL_NS = UINT64_C(20000000000); /* a wait this long without progress is a bug */

typedef struct row {
    const char *name;
    bool ours;
    double rate;         /* msgs/s to each receiver; 0 when not measured */
    harness_lat_t lat;   /* n == 0 when not measured */
    bool yielded;
    int64_t laps;        /* -1: not an event-log case */
    uint64_t rate_msgs;  /* summed over the rounds of a throughput measure */
    uint64_t rate_ns;
    uint64_t *pool;      /* latency samples of every round, while a pair runs */
    size_t pooled;
} row_t;

/* ---------------------------------------------------------------- cases */

/* Spinning only makes sense with a CPU for every busy process; past that, a
 * spinner holds a CPU its peer needs until the scheduler preempts it. */
static idle_kind_t case_idle(const bench_t *b, unsigned receivers)
{
    if (b->o.idle != IDLE_SPIN)
        return b->o.idle;
    bool crowded = 1 + receivers > b->cpus;
    if (b->o.cpu_consumer >= 0 && receivers > 1)
        crowded = true; /* every reader is pinned to the one consumer CPU */
    if (b->o.cpu_consumer >= 0 && b->o.cpu_consumer == b->o.cpu_producer)
        crowded = true;
    return crowded ? IDLE_YIELD : IDLE_SPIN;
}

/* Gives ring 0 back after its producer left, as the engine does. */
static void ring_free_slot(bench_t *b)
{
    shm_client_t *c = shm_client(b->seg, 0);
    /* acquire pairs with the release CAS to CLOSING in registry_close_client() */
    uint64_t lease = atomic_load_explicit(&c->lease, memory_order_acquire);
    if (LEASE_STATE(lease) != LEASE_CLOSING)
        harness_fail(&b->h, "producer left command ring 0 in lease state %u, not CLOSING",
                     LEASE_STATE(lease));
    registry_free_client(b->seg, 0, lease);
}

/* Runs one round of a case: n records (or samples) to each of readers
 * receivers, added to what row has gathered. */
static void run_case(bench_t *b, transport_t t, measure_t m, unsigned readers, uint64_t n, row_t *row)
{
    harness_t *h = &b->h;
    shared_t *sh = b->sh;
    job_t j = {.b = b, .t = t, .m = m, .readers = readers, .idle = case_idle(b, readers), .n = n};
    row->yielded = j.idle != b->o.idle;
    atomic_store_explicit(&sh->ready, 0, memory_order_relaxed);
    atomic_store_explicit(&sh->go, 0, memory_order_relaxed);
    atomic_store_explicit(&sh->start_ns, 0, memory_order_relaxed);
    for (unsigned k = 0; k < READERS_MAX; k++) {
        atomic_store_explicit(&sh->rx[k].end_ns, 0, memory_order_relaxed);
        sh->rx[k].reader_slot = -1;
        ck_ring_init(&sh->ck[k].ring, RING_CAP);
    }

    ring_t r = {0};
    switch (t) {
    case T_RING:
        if (ring_attach_consumer(&r, shm_ring(b->seg, 0), b->seg->geo.ring_capacity, b->seg->geo.rec_size) < 0)
            harness_fail(h, "command ring 0 is corrupt");
        harness_spawn(h, "producer", xfer_ring_send, &j);
        xfer_parent_go(b, &j, 1, b->o.cpu_consumer);
        xfer_ring_receive(b, &j, &r);
        break;
    case T_CK:
        harness_spawn(h, "ck producer", xfer_ck_send, &j);
        xfer_parent_go(b, &j, 1, b->o.cpu_consumer);
        xfer_ck_receive(h, &j, 0, m == M_LATENCY ? b->samples : NULL);
        break;
    case T_EVLOG:
    case T_CKFAN:
        for (unsigned k = 0; k < readers; k++) {
            char role[HARNESS_ROLE_MAX];
            snprintf(role, sizeof(role), "%s %u", t == T_EVLOG ? "reader" : "ck reader", k);
            j.index = k;
            harness_spawn(h, role, t == T_EVLOG ? xfer_evlog_read : xfer_fan_read, &j);
        }
        xfer_parent_go(b, &j, readers, b->o.cpu_producer);
        if (t == T_EVLOG)
            xfer_evlog_write(b, &j);
        else
            xfer_fan_write(b, &j);
        break;
    }
    harness_reap(h);
    b->checked += n * readers;

    /* nothing may be left over: an extra record is a duplicate */
    if (t == T_RING) {
        if (ring_avail(&r) != 0)
            harness_fail(h, "command ring: records left over after %" PRIu64, n);
        ring_free_slot(b);
    }
    for (unsigned k = 0; k < READERS_MAX; k++)
        if (ck_ring_size(&sh->ck[k].ring) != 0)
            harness_fail(h, "ck_ring %u: records left over after %" PRIu64, k, n);

    if (t == T_EVLOG) {
        row->laps = row->laps < 0 ? 0 : row->laps;
        for (unsigned k = 0; k < readers; k++)
            row->laps += (int64_t)atomic_load_explicit(
                &shm_reader(b->seg, (uint32_t)sh->rx[k].reader_slot)->laps, memory_order_relaxed);
    }
    if (m == M_LATENCY) {
        for (unsigned k = 0; k < readers; k++) {
            memcpy(row->pool + row->pooled, b->samples + (uint64_t)k * b->o.lat_count, n * sizeof(uint64_t));
            row->pooled += n;
        }
        return;
    }
    uint64_t start = atomic_load_explicit(&sh->start_ns, memory_order_relaxed), end = 0;
    for (unsigned k = 0; k < readers; k++) {
        uint64_t e = atomic_load_explicit(&sh->rx[k].end_ns, memory_order_acquire);
        end = e > end ? e : end;
    }
    if (end <= start)
        harness_fail(h, "clock went backwards across processes (%" PRIu64 " -> %" PRIu64 ")", start, end);
    row->rate_msgs += n;
    row->rate_ns += end - start;
}

/* Measures ours and its ck_ring peer in alternating rounds (ours first in
 * even rounds, ck first in odd ones) and fills in both rows. */
static void run_pair(bench_t *b, transport_t ours_t, transport_t ck_t, measure_t m, unsigned readers,
                     row_t *ours, row_t *ck)
{
    bool lat = m == M_LATENCY;
    uint64_t total = lat ? b->o.lat_count : b->o.count;
    uint64_t rounds = lat ? LAT_ROUNDS : RATE_ROUNDS;
    rounds = total < rounds ? total : rounds;
    row_t *rows[2] = {ours, ck};
    for (unsigned k = 0; k < 2; k++) {
        rows[k]->rate_msgs = rows[k]->rate_ns = 0;
        rows[k]->pooled = 0;
        rows[k]->pool = NULL;
        if (lat && (rows[k]->pool = malloc((size_t)(total * readers) * sizeof(uint64_t))) == NULL)
            harness_fail(&b->h, "out of memory for %" PRIu64 " latency samples", total * readers);
    }
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t n = total / rounds + (r < total % rounds);
        unsigned first = r & 1;
        run_case(b, first ? ck_t : ours_t, m, readers, n, rows[first]);
        run_case(b, first ? ours_t : ck_t, m, readers, n, rows[!first]);
    }
    for (unsigned k = 0; k < 2; k++) {
        row_t *row = rows[k];
        if (lat) {
            harness_percentiles(row->pool, row->pooled, &row->lat);
            free(row->pool);
            row->pool = NULL;
        } else {
            row->rate = (double)row->rate_msgs * 1e9 / (double)row->rate_ns;
        }
    }
}

/* ---------------------------------------------------------------- report */

static void print_num(char *out, size_t n, uint64_t v, bool have)
{
    if (have)
        snprintf(out, n, "%" PRIu64, v);
    else
        snprintf(out, n, "-");
}

static void print_table(const row_t *rows, unsigned nrows)
{
    printf("| %-28s | %9s | %7s | %7s | %8s | %8s | %12s | %9s | %4s |\n", "case", "msgs/s", "p50 ns",
           "p99 ns", "p99.9 ns", "max ns", "ratio msgs/s", "ratio p50", "laps");
    printf("|%s|%s:|%s:|%s:|%s:|%s:|%s:|%s:|%s:|\n", "------------------------------", "----------",
           "--------", "--------", "---------", "---------", "-------------", "----------", "-----");
    for (unsigned i = 0; i < nrows; i++) {
        const row_t *r = &rows[i];
        const row_t *peer = r->ours && i + 1 < nrows ? &rows[i + 1] : NULL;
        char name[64], rate[32], p50[24], p99[24], p999[24], max[24], rr[24], rl[24], laps[24];
        bool lat = r->lat.n > 0;
        snprintf(name, sizeof(name), "%s%s", r->name, r->yielded ? " *" : "");
        if (r->rate > 0)
            snprintf(rate, sizeof(rate), "%.2f M", r->rate / 1e6);
        else
            snprintf(rate, sizeof(rate), "-");
        print_num(p50, sizeof(p50), r->lat.p50_ns, lat);
        print_num(p99, sizeof(p99), r->lat.p99_ns, lat);
        print_num(p999, sizeof(p999), r->lat.p999_ns, lat);
        print_num(max, sizeof(max), r->lat.max_ns, lat);
        if (peer != NULL && peer->rate > 0 && r->rate > 0)
            snprintf(rr, sizeof(rr), "%.2fx", r->rate / peer->rate);
        else
            snprintf(rr, sizeof(rr), "-");
        if (peer != NULL && lat && peer->lat.p50_ns > 0)
            snprintf(rl, sizeof(rl), "%.2fx", (double)r->lat.p50_ns / (double)peer->lat.p50_ns);
        else
            snprintf(rl, sizeof(rl), "-");
        print_num(laps, sizeof(laps), (uint64_t)r->laps, r->laps >= 0);
        printf("| %-28s | %9s | %7s | %7s | %8s | %8s | %12s | %9s | %4s |\n", name, rate, p50, p99,
               p999, max, rr, rl, laps);
    }
}

/* ---------------------------------------------------------------- options */

static _Noreturn void usage_error(const char *prog, const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    exit(2);
}

static uint64_t parse_uint(const char *prog, const char *opt, const char *v, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < min || n > max) {
        fprintf(stderr, "%s: %s wants an integer from %" PRIu64 " to %" PRIu64 ", not '%s'\n", prog,
                opt, min, max, v);
        exit(2);
    }
    return (uint64_t)n;
}

static void usage(const char *prog)
{
    printf("usage: %s [--count N] [--lat-count N] [--quick] [--idle spin|yield|backoff]\n"
           "          [--cpu-producer CPU] [--cpu-consumer CPU]\n"
           "  --count N         records per throughput case (default %d)\n"
           "  --lat-count N     latency samples per case and reader (default %d)\n"
           "  --quick           %d and %d: a smoke run of about a second\n"
           "  --idle KIND       what waiting loops do (default spin; cases with more busy\n"
           "                    processes than CPUs use yield and are marked *)\n"
           "  --cpu-producer    pin the sending side (ring producer, event-log writer)\n"
           "  --cpu-consumer    pin the receiving side (ring consumer, every reader)\n",
           prog, COUNT_DEFAULT, LAT_COUNT_DEFAULT, QUICK_COUNT, QUICK_LAT_COUNT);
}

static void parse_opts(const char *prog, int argc, char **argv, opts_t *o)
{
    bool count_set = false, lat_set = false;
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    *o = (opts_t){.count = COUNT_DEFAULT, .lat_count = LAT_COUNT_DEFAULT, .idle = IDLE_SPIN,
                  .cpu_producer = -1, .cpu_consumer = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(prog);
            exit(0);
        }
        if (strcmp(a, "--quick") == 0) {
            o->quick = true;
            continue;
        }
        bool known = strcmp(a, "--count") == 0 || strcmp(a, "--lat-count") == 0 ||
                     strcmp(a, "--idle") == 0 || strcmp(a, "--cpu-producer") == 0 ||
                     strcmp(a, "--cpu-consumer") == 0;
        if (!known)
            usage_error(prog, "unknown option '%s'", a);
        if (i + 1 == argc)
            usage_error(prog, "%s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--count") == 0) {
            o->count = parse_uint(prog, a, v, 1, UINT64_C(1) << 40);
            count_set = true;
        } else if (strcmp(a, "--lat-count") == 0) {
            o->lat_count = parse_uint(prog, a, v, 1, LAT_COUNT_MAX);
            lat_set = true;
        } else if (strcmp(a, "--idle") == 0) {
            if (idle_parse(v, &o->idle) < 0)
                usage_error(prog, "--idle wants spin, yield or backoff, not '%s'", v);
        } else {
            int cpu = (int)parse_uint(prog, a, v, 0, ncpu > 0 ? (uint64_t)ncpu - 1 : 0);
            if (strcmp(a, "--cpu-producer") == 0)
                o->cpu_producer = cpu;
            else
                o->cpu_consumer = cpu;
        }
    }
    if (o->quick) {
        o->count = count_set ? o->count : QUICK_COUNT;
        o->lat_count = lat_set ? o->lat_count : QUICK_LAT_COUNT;
    }
}

/* ---------------------------------------------------------------- main */

/* Creates the segment the cases run through; its files go on every exit path. */
static void segment_create(bench_t *b)
{
    snprintf(b->instance, sizeof(b->instance), "bench-%d", (int)getpid());
    shm_geometry_t geo = {.client_max = 1, .ring_capacity = RING_CAP, .reader_max = READERS_MAX,
                          .evlog_capacity = EVLOG_CAP, .rec_size = sizeof(bench_rec_t)};
    /* a signal between creating the files and tracking them would leak them */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    err_t err;
    if (shm_create(&b->seg, b->instance, &geo, 0600, &err) < 0)
        harness_fail(&b->h, "%s", err.msg);
    char lock[HARNESS_PATH_MAX];
    /* Tracked as paths, not removed with shm_remove(): the signal handler may
     * only unlink. The lock file name is shm.c's: <segment>.lock. */
    snprintf(lock, sizeof(lock), "%s.lock", b->seg->path);
    harness_track_file(&b->h, b->seg->path);
    harness_track_file(&b->h, lock);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(int argc, char **argv)
{
    static bench_t bench; /* big and zeroed; main's, passed down explicitly */
    bench_t *b = &bench;
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    parse_opts(prog, argc, argv, &b->o);
    harness_init(&b->h, prog, STALL_NS);
    b->cpus = (unsigned)harness_cpus_usable();
    size_t sample_bytes = (size_t)READERS_MAX * b->o.lat_count * sizeof(uint64_t);
    b->sh = harness_map_shared(&b->h, sizeof(shared_t) + sample_bytes);
    b->samples = (uint64_t *)(b->sh + 1);
    segment_create(b);

    printf("bench-ring: 64-byte records between processes, ours beside libck ck_ring\n");
    harness_describe(stdout, argc, argv);
    printf("counts    %" PRIu64 " records per throughput case, %" PRIu64
           " latency samples per case and reader\n",
           b->o.count, b->o.lat_count);
    printf("setup     rings of %d records, event log of %d, idle %s, clock_mono_ns() costs %" PRIu64
           " ns, pinning producer %d consumer %d (-1 = none)\n\n",
           RING_CAP, EVLOG_CAP, idle_name(b->o.idle), harness_clock_cost_ns(), b->o.cpu_producer,
           b->o.cpu_consumer);
    fflush(stdout);

    enum { NROWS = 10 };
    row_t rows[NROWS] = {
        {"ring push/pop (ours)", true},
        {"ck_ring enqueue/dequeue", false},
        {"ring burst 32 (ours)", true},
        {"ck_ring 32 one by one", false},
        {"evlog 1 reader (ours)", true},
        {"ck_ring fan-out x1", false},
        {"evlog 2 readers (ours)", true},
        {"ck_ring fan-out x2", false},
        {"evlog 4 readers (ours)", true},
        {"ck_ring fan-out x4", false},
    };
    for (unsigned i = 0; i < NROWS; i++)
        rows[i].laps = -1;

    run_pair(b, T_RING, T_CK, M_RATE, 1, &rows[0], &rows[1]);
    run_pair(b, T_RING, T_CK, M_LATENCY, 1, &rows[0], &rows[1]);
    run_pair(b, T_RING, T_CK, M_BURST, 1, &rows[2], &rows[3]);
    static const unsigned fan[] = {1, 2, 4};
    for (unsigned f = 0; f < 3; f++) {
        row_t *ours = &rows[4 + 2 * f], *ck = &rows[5 + 2 * f];
        run_pair(b, T_EVLOG, T_CKFAN, M_RATE, fan[f], ours, ck);
        run_pair(b, T_EVLOG, T_CKFAN, M_LATENCY, fan[f], ours, ck);
    }

    print_table(rows, NROWS);
    printf("\nmsgs/s      records per second delivered to each receiver: sender's first send to the\n"
           "            last receiver's last record, CLOCK_MONOTONIC across processes\n"
           "latency     one record in flight, sender's clock to receiver's clock, %d ns pause\n"
           "            between samples; event-log rows pool the samples of all readers\n"
           "ratio       ours / ck_ring on the row below: msgs/s above 1 = ours faster,\n"
           "            p50 below 1 = ours faster\n"
           "laps        reader laps counted in the registry (0 expected: the writer is gated)\n"
           "*           waited with sched_yield: more busy processes than CPUs to spin on\n"
           "sequences   %" PRIu64 " records checked at receivers: no loss, duplicate, reorder or tear\n",
           LAT_GAP_NS, b->checked);

    shm_close(b->seg);
    harness_cleanup(&b->h);
    return 0;
}
