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
#include "peer_book.h"

enum { CHUNK = 1 << 16, ACCOUNTS = 1000, SYMBOLS_MAX = 100, EVRING = 4096, RECENT = 4096 };

typedef struct flow {
    uint64_t rng;
    uint32_t symbols;
    uint64_t next_id;        /* the id the matcher will give the next accepted order */
    uint64_t *live;          /* ids of resting orders we placed (some may have traded) */
    uint32_t *live_acct;
    uint64_t nlive, cap;
    int64_t mid[SYMBOLS_MAX];
} flow_t;

typedef struct sink {
    mevt_t ring[EVRING];     /* where events go, as the event log would take them */
    uint64_t n;
    uint64_t trades;
} sink_t;

static void sink_fn(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    sink_t *s = ctx;
    (void)last;
    for (uint32_t i = 0; i < n; i++) {
        s->ring[s->n++ & (EVRING - 1)] = ev[i];
        s->trades += ev[i].type == EVT_TRADE;
    }
}

static uint64_t rnd(flow_t *f)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return f->rng;
}

/* Distance from the touch in ticks: mostly close, sometimes far. */
static int64_t depth(flow_t *f)
{
    uint64_t r = rnd(f);
    return (int64_t)(r % 8) + (r & (1u << 20) ? (int64_t)((r >> 24) % 200) : 0);
}

static void gen_new(flow_t *f, mcmd_t *c, int resting)
{
    uint32_t sym = (uint32_t)(rnd(f) % f->symbols);
    cmd_new_order_t *o = &c->u.new_order;
    memset(o, 0, sizeof(*o));
    c->type = CMD_NEW_ORDER;
    o->instrument = sym;
    o->account = 1 + (uint32_t)(rnd(f) % ACCOUNTS);
    o->side = rnd(f) & 1;
    o->qty = (int64_t)(1 + rnd(f) % 10) * 1000000;
    int64_t mid = f->mid[sym];
    if (resting) {
        int64_t d = 1 + depth(f);
        o->price = (o->side == SIDE_BUY ? mid - d : mid + d) * 100;
        o->tif = TIF_GTC;
        if (f->nlive < f->cap) {
            f->live[f->nlive] = f->next_id;
            f->live_acct[f->nlive++] = o->account;
        }
    } else {
        o->price = (o->side == SIDE_BUY ? mid + 3 : mid - 3) * 100;
        o->tif = TIF_IOC;
    }
    f->next_id++;
}

static void gen(flow_t *f, mcmd_t *c)
{
    uint64_t r = rnd(f) % 100;
    if (r < 35 && f->nlive > 0) {
        /* Most cancels take back a recent quote, as market makers requoting
         * near the touch do; one in ten hits any live order, deep or old. */
        uint64_t recent = f->nlive < RECENT ? f->nlive : RECENT;
        uint64_t k = rnd(f) % 10 ? f->nlive - 1 - rnd(f) % recent : rnd(f) % f->nlive;
        memset(&c->u.cancel, 0, sizeof(c->u.cancel));
        c->type = CMD_CANCEL;
        c->u.cancel.order_id = f->live[k];
        c->u.cancel.account = f->live_acct[k];
        f->live[k] = f->live[--f->nlive];
        f->live_acct[k] = f->live_acct[f->nlive];
    } else {
        gen_new(f, c, r < 90);
    }
}

static void admin(matcher_t *m, uint16_t type, const void *p, size_t len)
{
    mcmd_t c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    memcpy(c.u.raw, p, len);
    matcher_apply(m, &c);
}

static matcher_t *make_matcher(uint32_t symbols, uint32_t max_orders, sink_t *s)
{
    matcher_config_t cfg;
    matcher_config_defaults(&cfg);
    cfg.max_orders = max_orders;
    cfg.max_gtd = 16;
    cfg.max_accounts = ACCOUNTS + 1;
    cfg.max_assets = 2 + SYMBOLS_MAX;
    cfg.max_instruments = SYMBOLS_MAX;
    cfg.max_levels = 512;
    cfg.max_account_orders = max_orders;
    matcher_t *m;
    err_t err;
    if (matcher_create(&m, &cfg, sink_fn, s, &err) < 0) {
        fprintf(stderr, "bench-match: %s\n", err.msg);
        exit(1);
    }
    cmd_add_asset_t usd = {.name = "USD", .asset = 0, .decimals = 2};
    admin(m, CMD_ADD_ASSET, &usd, sizeof(usd));
    cmd_fee_tier_t tier = {.tier = 0, .maker_bps = 10, .taker_bps = 20};
    admin(m, CMD_DEFINE_FEE_TIER, &tier, sizeof(tier));
    for (uint32_t i = 0; i < symbols; i++) {
        cmd_add_asset_t a = {.asset = 1 + i, .decimals = 8};
        snprintf(a.name, sizeof(a.name), "C%u", i);
        admin(m, CMD_ADD_ASSET, &a, sizeof(a));
        cmd_add_instrument_t in = {.instrument = i, .base = 1 + i, .quote = 0, .tick_size = 100,
                                   .lot_size = 1000000, .min_qty = 1000000, .max_qty = 100000000000,
                                   .ref_price = 1000000};
        snprintf(in.symbol, sizeof(in.symbol), "C%u-USD", i);
        admin(m, CMD_ADD_INSTRUMENT, &in, sizeof(in));
    }
    for (uint32_t a = 1; a <= ACCOUNTS; a++) {
        cmd_account_t acc = {.account = a};
        admin(m, CMD_ADD_ACCOUNT, &acc, sizeof(acc));
        cmd_funds_t usd_funds = {.account = a, .asset = 0, .amount = INT64_C(1) << 50};
        admin(m, CMD_DEPOSIT, &usd_funds, sizeof(usd_funds));
        for (uint32_t i = 0; i < symbols; i++) {
            cmd_funds_t f = {.account = a, .asset = 1 + i, .amount = INT64_C(1) << 50};
            admin(m, CMD_DEPOSIT, &f, sizeof(f));
        }
    }
    return m;
}

static void flow_init(flow_t *f, uint64_t seed, uint32_t symbols, uint64_t cap)
{
    memset(f, 0, sizeof(*f));
    f->rng = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
    f->symbols = symbols;
    f->next_id = 1;
    f->cap = cap;
    f->live = malloc(cap * sizeof(*f->live));
    f->live_acct = malloc(cap * sizeof(*f->live_acct));
    for (uint32_t i = 0; i < symbols; i++)
        f->mid[i] = 10000; /* ticks: 100.00 USD on a 0.01 tick... in price units x100 */
}

/* Builds the resting book: only passive orders. */
static void populate(matcher_t *m, flow_t *f, uint64_t n)
{
    mcmd_t c;
    memset(&c, 0, sizeof(c));
    for (uint64_t i = 0; i < n; i++) {
        gen_new(f, &c, 1);
        c.seq++;
        matcher_apply(m, &c);
    }
}

static double tsc_ns_per_tick(void)
{
    uint64_t t0 = clock_mono_ns(), c0 = __rdtsc();
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    uint64_t t1 = clock_mono_ns(), c1 = __rdtsc();
    return (double)(t1 - t0) / (double)(c1 - c0);
}

typedef struct result {
    double cmds_per_s;
    harness_lat_t lat;
    uint64_t trades, resting;
} result_t;

/* Runs n commands of the flow; generation is outside the timed part. */
static void run(matcher_t *m, flow_t *f, sink_t *s, uint64_t n, double ns_per_tick, result_t *out,
                uint64_t *samples)
{
    mcmd_t *chunk = malloc(sizeof(mcmd_t) * CHUNK);
    uint64_t done = 0, busy_ticks = 0, seq = 1u << 30;
    uint64_t t_before = s->trades;
    while (done < n) {
        uint64_t k = n - done < CHUNK ? n - done : CHUNK;
        for (uint64_t i = 0; i < k; i++) {
            memset(&chunk[i], 0, offsetof(mcmd_t, u));
            chunk[i].seq = ++seq;
            gen(f, &chunk[i]);
        }
        for (uint64_t i = 0; i < k; i++) {
            uint64_t a = __rdtsc();
            /* As the engine does over a burst: prefetch ahead, then apply. */
            if (i + 2 < k)
                matcher_prefetch(m, chunk[i + 2].type, chunk[i + 2].u.raw, 2);
            if (i + 1 < k)
                matcher_prefetch(m, chunk[i + 1].type, chunk[i + 1].u.raw, 1);
            matcher_apply(m, &chunk[i]);
            uint64_t b = __rdtsc();
            busy_ticks += b - a;
            samples[done + i] = (uint64_t)((double)(b - a) * ns_per_tick);
        }
        done += k;
    }
    free(chunk);
    out->cmds_per_s = (double)n / ((double)busy_ticks * ns_per_tick / 1e9);
    harness_percentiles(samples, n, &out->lat);
    out->trades = s->trades - t_before;
    matcher_stats_t st;
    matcher_get_stats(m, &st);
    out->resting = st.orders_resting;
}

/* The peer on the same commands: new orders (limit rests, IOC does not) and
 * cancels by the same ids, timed the same way. */
static int peer_apply(peer_book_t *pb, const mcmd_t *c, uint64_t *next_id)
{
    if (c->type == CMD_CANCEL)
        return peer_book_cancel(pb, c->u.cancel.order_id);
    const cmd_new_order_t *o = &c->u.new_order;
    return peer_book_new(pb, (*next_id)++, o->instrument, o->side, o->price, o->qty, o->tif == TIF_IOC);
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
        gen_new(&f, &chunk[0], 1);
        peer_apply(pb, &chunk[0], &next_id);
    }
    uint64_t done = 0, busy_ticks = 0, t_before = peer_book_trades(pb);
    while (done < n) {
        uint64_t k = n - done < CHUNK ? n - done : CHUNK;
        for (uint64_t i = 0; i < k; i++)
            gen(&f, &chunk[i]);
        for (uint64_t i = 0; i < k; i++) {
            uint64_t a = __rdtsc();
            peer_apply(pb, &chunk[i], &next_id);
            uint64_t b = __rdtsc();
            busy_ticks += b - a;
            samples[done + i] = (uint64_t)((double)(b - a) * ns_per_tick);
        }
        done += k;
    }
    free(chunk);
    out->cmds_per_s = (double)n / ((double)busy_ticks * ns_per_tick / 1e9);
    harness_percentiles(samples, n, &out->lat);
    out->trades = peer_book_trades(pb) - t_before;
    out->resting = 0;
    free(f.live);
    free(f.live_acct);
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

static void usage(FILE *out)
{
    fputs("usage: bench-match [--commands N] [--resting N] [--memory-orders N] [--seed S] [--quick]\n"
          "  --commands N       commands timed per case (default 5,000,000)\n"
          "  --resting N        orders resting before the timed run (default 1,000,000)\n"
          "  --memory-orders N  resting orders for the memory figure (default 10,000,000; 0 skips)\n"
          "  --symbols 1|100    run only that case\n",
          out);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"commands", required_argument, NULL, 'n'}, {"resting", required_argument, NULL, 'r'},
        {"memory-orders", required_argument, NULL, 'M'}, {"seed", required_argument, NULL, 's'},
        {"quick", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},
        {"symbols", required_argument, NULL, 'S'}, {NULL, 0, NULL, 0},
    };
    uint64_t commands = 5000000, resting = 1000000, mem_orders = 10000000, seed = 42, only = 0;
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
           "; %" PRIu64 " resting before the run; latency is per matcher_apply(), TSC-timed\n\n",
           seed, resting);
    printf("%-22s %12s %9s %9s %9s %9s %10s %7s %7s\n", "case", "cmds/s", "p50 ns", "p99 ns", "p99.9 ns",
           "max ns", "trades", "ev/cmd", "ratio");
    uint64_t *samples = malloc(commands * sizeof(*samples));
    static const uint32_t cases[] = {1, 100};
    for (unsigned ci = 0; ci < 2; ci++) {
        uint32_t symbols = cases[ci];
        if (only != 0 && only != symbols)
            continue;
        sink_t *s = calloc(1, sizeof(*s));
        uint64_t cap = resting + commands;
        matcher_t *m = make_matcher(symbols, (uint32_t)(resting * 2 + 1024), s);
        flow_t f;
        flow_init(&f, seed, symbols, cap);
        populate(m, &f, resting);
        s->n = 0;
        result_t r, p;
        run(m, &f, s, commands, ns_per_tick, &r, samples);
        double evs_per_cmd = (double)s->n / (double)commands;
        free(f.live);
        free(f.live_acct);
        matcher_destroy(m);
        free(s);
        run_peer(symbols, seed, resting, commands, ns_per_tick, &p, samples);
        char name[48];
        snprintf(name, sizeof(name), "%u symbol%s (ours)", symbols, symbols > 1 ? "s" : "");
        printf("%-22s %12.0f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %10" PRIu64 " %7.2f %6.2fx\n",
               name, r.cmds_per_s, r.lat.p50_ns, r.lat.p99_ns, r.lat.p999_ns, r.lat.max_ns, r.trades, evs_per_cmd,
               r.cmds_per_s / p.cmds_per_s);
        snprintf(name, sizeof(name), "%u symbol%s (rb-tree)", symbols, symbols > 1 ? "s" : "");
        printf("%-22s %12.0f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %10" PRIu64 " %7s %7s\n",
               name, p.cmds_per_s, p.lat.p50_ns, p.lat.p99_ns, p.lat.p999_ns, p.lat.max_ns, p.trades, "-", "-");
    }
    free(samples);
    printf("\nratio: our commands/s over the peer's. Peer: a textbook pointer-based book (red-black tree of "
           "levels from libbsd's sys/tree.h, malloc per order, chained id hash) on the same commands, matching "
           "only: no balances, holds, fees, STP or events. Above 1 means ours is faster while doing more.\n");

    if (mem_orders > 0) {
        uint64_t before = rss_kib();
        sink_t *s = calloc(1, sizeof(*s));
        matcher_t *m = make_matcher(100, (uint32_t)mem_orders, s);
        flow_t f;
        flow_init(&f, seed, 100, mem_orders);
        populate(m, &f, mem_orders);
        matcher_stats_t st;
        matcher_get_stats(m, &st);
        uint64_t after = rss_kib();
        printf("\nmemory: %" PRIu64 " resting orders over 100 symbols: matcher allocated %.2f GiB, process RSS grew "
               "%.2f GiB (%.0f bytes per order)\n",
               st.orders_resting, (double)matcher_memory_bytes(m) / (1u << 30),
               (double)(after - before) / (1u << 20), (double)(after - before) * 1024 / (double)st.orders_resting);
        matcher_destroy(m);
        free(s);
        free(f.live);
        free(f.live_acct);
    }
    return 0;
}
