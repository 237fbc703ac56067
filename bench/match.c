/* match.c - bench-match: the matcher in-process on a generated order flow.
 *
 * Flow (seeded): about 55% new limit orders near the touch, 35% cancels (nine
 * in ten of one of the 4096 most recent live orders, one in ten of any live
 * order), 10% marketable IOC orders, over 1 symbol and over 100 symbols,
 * after a book of about a million resting orders has been built. Prints
 * commands/s over the whole run and per-command latency percentiles measured
 * around matcher_apply() with the TSC, then the memory ten million resting
 * orders take.
 *
 * The peer, run on the same flow in the same process: a textbook pointer-
 * based book (peer_book.h) doing only the matching. */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "clock.h"
#include "harness.h"
#include "matcher.h"
#include "flow.h"
#include "peer_book.h"

enum { CHUNK = 1 << 16, EVRING = 4096 };

typedef struct sink {
    mevt_t ring[EVRING];     /* where events go, as the event log would take them */
    uint64_t n;
} sink_t;

static void sink_fn(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    sink_t *s = ctx;
    (void)last;
    uint64_t at = s->n & (EVRING - 1), first = n < EVRING - at ? n : EVRING - at;
    memcpy(&s->ring[at], ev, first * sizeof(*ev));
    if (first < n)
        memcpy(&s->ring[0], ev + first, (n - first) * sizeof(*ev));
    s->n += n;
}

/* What one TSC read costs, in ns. */
static double tsc_read_ns(double ns_per_tick)
{
    enum { READS = 100000 };
    uint64_t sum = 0, a = __rdtsc();
    for (int i = 0; i < READS; i++)
        sum += __rdtsc();
    uint64_t b = __rdtsc();
    __asm__ volatile("" : : "r"(sum));
    return (double)(b - a) * ns_per_tick / READS;
}

static double tsc_ns_per_tick(void)
{
    uint64_t t0 = clock_mono_ns(), c0 = __rdtsc();
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    uint64_t t1 = clock_mono_ns(), c1 = __rdtsc();
    return (double)(t1 - t0) / (double)(c1 - c0);
}

/* The command kinds of the flow, for the per-kind latency means. */
enum { KIND_CANCEL, KIND_REST, KIND_IOC, KINDS };

static int kind_of(const mcmd_t *c)
{
    return c->type == CMD_CANCEL ? KIND_CANCEL : c->u.new_order.tif == TIF_IOC ? KIND_IOC : KIND_REST;
}

typedef struct result {
    double cmds_per_s;
    harness_lat_t lat;
    double kind_ns[KINDS];  /* mean latency of each kind */
    uint64_t trades;
} result_t;

/* What the timed loops of both books gather. Chunks of commands alternate
 * between two ways of running them: a throughput chunk applies its commands
 * back to back, as the engine applies a burst, with the TSC read only at its
 * ends; a latency chunk reads the TSC around every command (a read costs
 * about 12 ns on these guests, which every latency sample includes). */
typedef struct timing {
    uint64_t thr_cmds, thr_ticks;
    uint64_t nsamples;
    uint64_t *samples;
    uint64_t kind_ticks[KINDS], kind_n[KINDS];
} timing_t;

static void timing_result(timing_t *t, double ns_per_tick, result_t *out)
{
    out->cmds_per_s = (double)t->thr_cmds / ((double)t->thr_ticks * ns_per_tick / 1e9);
    for (int k = 0; k < KINDS; k++)
        out->kind_ns[k] = t->kind_n[k] ? (double)t->kind_ticks[k] * ns_per_tick / (double)t->kind_n[k] : 0;
    for (uint64_t i = 0; i < t->nsamples; i++)
        t->samples[i] = (uint64_t)((double)t->samples[i] * ns_per_tick);
    harness_percentiles(t->samples, t->nsamples, &out->lat);
}

/* Chunks small enough that a short run still has both kinds. */
static uint64_t chunk_size(uint64_t n)
{
    return n < 2 * CHUNK ? (n + 1) / 2 : CHUNK;
}

static inline void timing_sample(timing_t *t, const mcmd_t *c, uint64_t ticks)
{
    t->samples[t->nsamples++] = ticks;
    int k = kind_of(c);
    t->kind_ticks[k] += ticks;
    t->kind_n[k]++;
}

/* One command as the engine applies it inside a burst: the misses of the next
 * two are started first. */
static inline void ours_step(matcher_t *m, const mcmd_t *chunk, uint64_t i, uint64_t k)
{
    if (i + 2 < k)
        matcher_prefetch(m, chunk[i + 2].type, chunk[i + 2].u.raw, 2);
    if (i + 1 < k)
        matcher_prefetch(m, chunk[i + 1].type, chunk[i + 1].u.raw, 1);
    matcher_apply(m, &chunk[i]);
}

/* Runs n commands of the flow; generation is outside the timed part. */
static void run(matcher_t *m, flow_t *f, uint64_t n, double ns_per_tick, result_t *out, uint64_t *samples)
{
    mcmd_t *chunk = malloc(sizeof(mcmd_t) * CHUNK);
    timing_t t = {.samples = samples};
    uint64_t done = 0, seq = 1u << 30;
    matcher_stats_t st;
    matcher_get_stats(m, &st);
    uint64_t trades_before = st.trades;
    for (int latency = 0; done < n; latency = !latency) {
        uint64_t k = n - done < chunk_size(n) ? n - done : chunk_size(n);
        for (uint64_t i = 0; i < k; i++) {
            memset(&chunk[i], 0, offsetof(mcmd_t, u));
            chunk[i].seq = ++seq;
            flow_gen(f, &chunk[i]);
        }
        if (latency) {
            for (uint64_t i = 0; i < k; i++) {
                uint64_t a = __rdtsc();
                ours_step(m, chunk, i, k);
                timing_sample(&t, &chunk[i], __rdtsc() - a);
            }
        } else {
            uint64_t a = __rdtsc();
            for (uint64_t i = 0; i < k; i++)
                ours_step(m, chunk, i, k);
            t.thr_ticks += __rdtsc() - a;
            t.thr_cmds += k;
        }
        done += k;
    }
    free(chunk);
    timing_result(&t, ns_per_tick, out);
    matcher_get_stats(m, &st);
    out->trades = st.trades - trades_before;
}

/* The peer on the same commands: new orders (limit rests, IOC does not) and
 * cancels by the same ids, timed the same way. */
static inline void peer_apply(peer_book_t *pb, const mcmd_t *c, uint64_t *next_id)
{
    if (c->type == CMD_CANCEL) {
        peer_book_cancel(pb, c->u.cancel.order_id);
        return;
    }
    const cmd_new_order_t *o = &c->u.new_order;
    peer_book_new(pb, (*next_id)++, o->instrument, o->side, o->price, o->qty, o->tif == TIF_IOC);
}

static void run_peer(uint32_t symbols, uint64_t seed, uint64_t resting, uint64_t n, double ns_per_tick,
                     result_t *out, uint64_t *samples)
{
    peer_book_t *pb = peer_book_create(symbols, resting * 2);
    if (pb == NULL) {
        fprintf(stderr, "bench-match: out of memory for the peer\n");
        exit(1);
    }
    flow_t f;
    flow_init(&f, seed, symbols, resting + n);
    mcmd_t *chunk = malloc(sizeof(mcmd_t) * CHUNK);
    uint64_t next_id = 1;
    for (uint64_t i = 0; i < resting; i++) {
        flow_gen_new(&f, &chunk[0], 1);
        peer_apply(pb, &chunk[0], &next_id);
    }
    timing_t t = {.samples = samples};
    uint64_t done = 0, trades_before = peer_book_trades(pb);
    for (int latency = 0; done < n; latency = !latency) {
        uint64_t k = n - done < chunk_size(n) ? n - done : chunk_size(n);
        for (uint64_t i = 0; i < k; i++)
            flow_gen(&f, &chunk[i]);
        if (latency) {
            for (uint64_t i = 0; i < k; i++) {
                uint64_t a = __rdtsc();
                peer_apply(pb, &chunk[i], &next_id);
                timing_sample(&t, &chunk[i], __rdtsc() - a);
            }
        } else {
            uint64_t a = __rdtsc();
            for (uint64_t i = 0; i < k; i++)
                peer_apply(pb, &chunk[i], &next_id);
            t.thr_ticks += __rdtsc() - a;
            t.thr_cmds += k;
        }
        done += k;
    }
    free(chunk);
    timing_result(&t, ns_per_tick, out);
    out->trades = peer_book_trades(pb) - trades_before;
    flow_free(&f);
    peer_book_destroy(pb);
}

static uint64_t rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kib = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %" SCNu64, &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void print_row(const char *name, const result_t *r, const char *evs, const char *ratio)
{
    printf("%-22s %12.0f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %10" PRIu64 " %7s %7s\n", name,
           r->cmds_per_s, r->lat.p50_ns, r->lat.p99_ns, r->lat.p999_ns, r->lat.max_ns, r->trades, evs, ratio);
}

static void usage(FILE *out)
{
    fputs("usage: bench-match [--commands N] [--resting N] [--memory-orders N] [--seed S] [--symbols 1|100]\n"
          "                   [--ours-only] [--quick]\n"
          "  --commands N       commands timed per case (default 5,000,000: half for throughput, half for latency)\n"
          "  --resting N        orders resting before the timed run (default 1,000,000)\n"
          "  --memory-orders N  resting orders for the memory figure (default 10,000,000; 0 skips)\n"
          "  --symbols 1|100    run only that case\n"
          "  --ours-only        skip the peer (quicker A/B runs of the matcher; reported figures include it)\n",
          out);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"commands", required_argument, NULL, 'n'}, {"resting", required_argument, NULL, 'r'},
        {"memory-orders", required_argument, NULL, 'M'}, {"seed", required_argument, NULL, 's'},
        {"quick", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},
        {"symbols", required_argument, NULL, 'S'}, {"ours-only", no_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    uint64_t commands = 5000000, resting = 1000000, mem_orders = 10000000, seed = 42, only = 0;
    bool peer = true;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        uint64_t v = optarg ? strtoull(optarg, &end, 10) : 0;
        if (optarg && (*end != '\0' || end == optarg)) {
            fprintf(stderr, "bench-match: '%s' is not a count\n", optarg);
            return 2;
        }
        switch (opt) {
        case 'n': commands = v; break;
        case 'r': resting = v; break;
        case 'M': mem_orders = v; break;
        case 's': seed = v; break;
        case 'S':
            if (v != 1 && v != 100) {
                fprintf(stderr, "bench-match: --symbols takes 1 or 100\n");
                return 2;
            }
            only = v;
            break;
        case 'o': peer = false; break;
        case 'q': commands = 200000; resting = 20000; mem_orders = 100000; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "bench-match: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (commands == 0) {
        fprintf(stderr, "bench-match: --commands must be at least 1\n");
        return 2;
    }
    harness_describe(stdout, argc, argv);
    double ns_per_tick = tsc_ns_per_tick();
    printf("flow: 55%% new limit near the touch, 35%% cancels (90%% of recent orders), 10%% marketable IOC; seed %" PRIu64
           "; %" PRIu64 " resting before the run\n"
           "timing: chunks of %u commands alternate; cmds/s from the throughput chunks (applied back to back, "
           "TSC read at the chunk's ends), latency per command from the others (TSC read around each, about %.0f "
           "ns a read included)\n\n",
           seed, resting, CHUNK, tsc_read_ns(ns_per_tick));
    printf("%-22s %12s %9s %9s %9s %9s %10s %7s %7s\n", "case", "cmds/s", "p50 ns", "p99 ns", "p99.9 ns",
           "max ns", "trades", "ev/cmd", "ratio");
    uint64_t *samples = malloc(commands * sizeof(*samples));
    struct {
        char name[32];
        result_t r;
    } rows[4]; /* what the table printed, for the per-kind means below it */
    unsigned nrows = 0;
    static const uint32_t cases[] = {1, 100};
    for (unsigned ci = 0; ci < 2; ci++) {
        uint32_t symbols = cases[ci];
        if (only != 0 && only != symbols)
            continue;
        sink_t *s = calloc(1, sizeof(*s));
        uint64_t cap = resting + commands;
        matcher_t *m = flow_matcher(symbols, (uint32_t)(resting * 2 + 1024), sink_fn, s);
        flow_t f;
        flow_init(&f, seed, symbols, cap);
        flow_populate(m, &f, resting);
        s->n = 0;
        result_t r, p;
        run(m, &f, commands, ns_per_tick, &r, samples);
        double evs_per_cmd = (double)s->n / (double)commands;
        flow_free(&f);
        matcher_destroy(m);
        free(s);
        char ratio[16] = "-";
        if (peer) {
            run_peer(symbols, seed, resting, commands, ns_per_tick, &p, samples);
            snprintf(ratio, sizeof(ratio), "%.2fx", r.cmds_per_s / p.cmds_per_s);
        }
        snprintf(rows[nrows].name, sizeof(rows[nrows].name), "%u symbol%s (ours)", symbols, symbols > 1 ? "s" : "");
        rows[nrows].r = r;
        char evs[16];
        snprintf(evs, sizeof(evs), "%.2f", evs_per_cmd);
        print_row(rows[nrows++].name, &r, evs, ratio);
        if (peer) {
            snprintf(rows[nrows].name, sizeof(rows[nrows].name), "%u symbol%s (rb-tree)", symbols,
                     symbols > 1 ? "s" : "");
            rows[nrows].r = p;
            print_row(rows[nrows++].name, &p, "-", "-");
        }
    }
    free(samples);
    printf("\nmean latency by kind, ns:  %-16s %-16s %-16s\n", "cancel", "new limit", "IOC");
    for (unsigned i = 0; i < nrows; i++)
        printf("%-26s %-16.0f %-16.0f %-16.0f\n", rows[i].name, rows[i].r.kind_ns[KIND_CANCEL],
               rows[i].r.kind_ns[KIND_REST], rows[i].r.kind_ns[KIND_IOC]);
    if (peer)
        printf("\nratio: our commands/s over the peer's. Peer: a textbook pointer-based book (red-black tree of "
               "levels from libbsd's sys/tree.h, malloc per order, chained id hash) on the same commands, matching "
               "only: no balances, holds, fees, STP or events. Above 1 means ours is faster while doing more.\n");

    if (mem_orders > 0) {
        uint64_t before = rss_kib();
        sink_t *s = calloc(1, sizeof(*s));
        matcher_t *m = flow_matcher(100, (uint32_t)mem_orders, sink_fn, s);
        flow_t f;
        flow_init(&f, seed, 100, mem_orders);
        flow_populate(m, &f, mem_orders);
        matcher_stats_t st;
        matcher_get_stats(m, &st);
        uint64_t after = rss_kib();
        printf("\nmemory: %" PRIu64 " resting orders over 100 symbols: matcher allocated %.2f GiB, process RSS grew "
               "%.2f GiB (%.0f bytes per order)\n",
               st.orders_resting, (double)matcher_memory_bytes(m) / (1u << 30),
               (double)(after - before) / (1u << 20), (double)(after - before) * 1024 / (double)st.orders_resting);
        matcher_destroy(m);
        free(s);
        flow_free(&f);
    }
    return 0;
}
