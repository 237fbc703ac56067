/* test_matcher_diff.c - the matcher against refmodel.h on a million random
 * commands over three instruments and six accounts (new orders of every type,
 * cancels, amends, mass cancels, funds, halts, timers, and bad input of every
 * kind): the event streams must be identical, and after every command no
 * balance is negative and each asset's total equals its net deposits.
 * BOURSE_SEED replays a run; BOURSE_DIFF_COUNT sets its length. Also: the same
 * command stream applied twice gives byte-identical events (determinism). */
#include "../check.h"
#include "matcher.h"
#include "refmodel.h"

enum { NACCT = 6, NINST = 3, EVCAP = 8192 };

typedef struct capture {
    mevt_t ev[EVCAP];
    uint32_t n;
} capture_t;

static void capture_sink(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    capture_t *c = ctx;
    (void)last;
    for (uint32_t i = 0; i < n; i++) {
        if (c->n < EVCAP)
            c->ev[c->n] = ev[i];
        c->n++;
    }
}

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int64_t pick(int64_t n)
{
    return (int64_t)(rnd() % (uint64_t)n);
}

static int chance(int pct)
{
    return pick(100) < pct;
}

typedef struct market {
    int64_t tick, lot, ref;
} market_t;

static const market_t mk[NINST + 1] = {
    {0, 0, 0},
    {100, 100, 10000},        /* AAA-USD: 1 USD tick, 0.01 AAA lot, band 10% */
    {5, 1, 500},              /* BBB-USD: 5 cent tick, whole-unit lot, no band */
    {1000, 100000, 200000},   /* CCC-USD: 10 USD tick, 0.001 CCC lot, band 5% */
};

typedef struct known {
    uint64_t id;
    uint32_t account;
    uint64_t cloid;
} known_t;

static known_t seen[1024];
static uint32_t nseen;

static void gen(mcmd_t *c, uint64_t seq, uint64_t now)
{
    memset(c, 0, sizeof(*c));
    c->seq = seq;
    c->ts_ns = now;
    c->src = (uint16_t)pick(4);
    int64_t roll = pick(1000);
    uint32_t inst = chance(2) ? (uint32_t)pick(8) : 1 + (uint32_t)pick(NINST);
    const market_t *m = &mk[inst >= 1 && inst <= NINST ? inst : 1];
    uint32_t acct = chance(2) ? (uint32_t)pick(9) : 1 + (uint32_t)pick(NACCT);
    known_t *k = nseen ? &seen[pick(nseen)] : NULL;
    if (roll < 600) {
        cmd_new_order_t *o = &c->u.new_order;
        c->type = CMD_NEW_ORDER;
        o->instrument = inst;
        o->account = acct;
        o->side = (uint8_t)(chance(1) ? 2 : pick(2));
        o->type = chance(8) ? ORD_MARKET : ORD_LIMIT;
        int64_t t = pick(100);
        o->tif = t < 55 ? TIF_GTC : t < 72 ? TIF_IOC : t < 84 ? TIF_FOK : TIF_GTD;
        if (o->type == ORD_MARKET && !chance(3))
            o->tif = chance(70) ? TIF_IOC : TIF_FOK;
        o->stp = (uint8_t)pick(chance(1) ? 6 : 4);
        o->flags = chance(10) ? ORDF_POST_ONLY : chance(1) ? 0x40 : 0;
        /* Mostly passive orders near the touch that build the book, some aggressive. */
        int64_t off = pick(10), dir = o->side == SIDE_BUY ? -1 : 1;
        int64_t ticks = m->ref / m->tick + (chance(70) ? dir * (1 + off) : -dir * (off - 3));
        o->price = ticks * m->tick;
        if (chance(2))
            o->price += 1;              /* off tick */
        if (chance(1))
            o->price = m->ref * 3;      /* out of band */
        if (o->type == ORD_MARKET && chance(10))
            o->price = 0;               /* no protection */
        o->qty = (1 + pick(chance(10) ? 200 : 20)) * m->lot;
        if (chance(1))
            o->qty = chance(50) ? 0 : -m->lot;
        if (chance(1))
            o->qty += 1;                /* off lot */
        o->client_order_id = chance(50) ? (uint64_t)(1 + pick(40)) : 0;
        o->expire_ns = o->tif == TIF_GTD ? now + (uint64_t)pick(50) * 1000000 : 0;
    } else if (roll < 780) {
        cmd_cancel_t *x = &c->u.cancel;
        c->type = CMD_CANCEL;
        x->account = k && chance(95) ? k->account : acct;
        if (k && chance(70))
            x->order_id = chance(98) ? k->id : k->id + 100000;
        else
            x->client_order_id = k && k->cloid ? k->cloid : (uint64_t)(1 + pick(40));
    } else if (roll < 900) {
        cmd_amend_t *a = &c->u.amend;
        c->type = CMD_AMEND;
        a->account = k && chance(95) ? k->account : acct;
        a->order_id = k ? k->id : 1;
        const market_t *am = &mk[1 + pick(NINST)];
        if (chance(50))
            a->new_price = (am->ref / am->tick + pick(17) - 8) * am->tick;
        if (chance(60) || a->new_price == 0)
            a->new_qty = (1 + pick(20)) * am->lot;
    } else if (roll < 903) {
        c->type = CMD_MASS_CANCEL;
        c->u.mass_cancel.account = acct;
        c->u.mass_cancel.instrument = chance(50) ? UINT32_MAX : inst;
    } else if (roll < 950) {
        c->type = chance(50) ? CMD_DEPOSIT : CMD_WITHDRAW;
        c->u.funds.account = acct;
        c->u.funds.asset = (uint32_t)pick(6);
        c->u.funds.amount = chance(2) ? -5 : 1 + pick(5000000);
    } else if (roll < 953) {
        c->type = chance(25) ? CMD_HALT : CMD_RESUME;
        c->u.instrument.instrument = inst;
    } else if (roll < 995) {
        c->type = CMD_TIMER;
    } else {
        c->type = (uint16_t)(100 + pick(50)); /* unknown */
    }
}

static void remember(const capture_t *cap)
{
    for (uint32_t i = 0; i < cap->n && i < EVCAP; i++) {
        if (cap->ev[i].type != EVT_ACCEPTED)
            continue;
        const evt_accepted_t *a = &cap->ev[i].u.accepted;
        known_t k = {a->order_id, a->account, a->client_order_id};
        /* The most recent accepted orders: the ones likely still open. */
        if (nseen < 64)
            seen[nseen++] = k;
        else
            seen[pick(64)] = k;
    }
}

static void admin(matcher_t *m, capture_t *cap, uint16_t type, const void *p, size_t len)
{
    mcmd_t c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    memcpy(c.u.raw, p, len);
    cap->n = 0;
    matcher_apply(m, &c);
}

/* Builds the same market in both. */
static int setup(matcher_t *m, ref_t *r, capture_t *cap)
{
    static const struct { uint32_t id; const char *name; uint8_t dec; } assets[] = {
        {1, "USD", 2}, {2, "AAA", 4}, {3, "BBB", 0}, {4, "CCC", 8}};
    for (unsigned i = 0; i < 4; i++) {
        cmd_add_asset_t a = {.asset = assets[i].id, .decimals = assets[i].dec};
        snprintf(a.name, sizeof(a.name), "%s", assets[i].name);
        admin(m, cap, CMD_ADD_ASSET, &a, sizeof(a));
        r->asset_exists[assets[i].id] = 1;
        r->asset_dec[assets[i].id] = assets[i].dec;
    }
    static const uint32_t band[NINST + 1] = {0, 1000, 0, 500};
    static const int64_t mult[NINST + 1] = {0, 1, 5, 1};
    for (uint32_t i = 1; i <= NINST; i++) {
        cmd_add_instrument_t in = {.instrument = i, .base = 1 + i, .quote = 1, .band_bps = band[i],
                                   .tick_size = mk[i].tick, .lot_size = mk[i].lot, .min_qty = mk[i].lot,
                                   .max_qty = 150 * mk[i].lot, .ref_price = mk[i].ref};
        snprintf(in.symbol, sizeof(in.symbol), "SYM%u", i);
        admin(m, cap, CMD_ADD_INSTRUMENT, &in, sizeof(in));
        if (cap->n != 1 || cap->ev[0].type != EVT_ADMIN)
            return -1;
        r->in[i] = (rinst_t){1, 1 + i, 1, band[i], mk[i].tick, mk[i].lot, mult[i], 1, 150,
                             mk[i].ref / mk[i].tick};
    }
    static const int32_t tiers[3][2] = {{10, 20}, {0, 5}, {25, 25}};
    for (uint32_t t = 0; t < 3; t++) {
        cmd_fee_tier_t ft = {.tier = t, .maker_bps = tiers[t][0], .taker_bps = tiers[t][1]};
        admin(m, cap, CMD_DEFINE_FEE_TIER, &ft, sizeof(ft));
        r->tier_m[t] = tiers[t][0];
        r->tier_t[t] = tiers[t][1];
    }
    for (uint32_t a = 1; a <= NACCT; a++) {
        cmd_account_t ac = {.account = a, .fee_tier = a % 3};
        admin(m, cap, CMD_ADD_ACCOUNT, &ac, sizeof(ac));
        r->acct_exists[a] = 1;
        r->acct_tier[a] = (int)(a % 3);
    }
    r->acct_exists[0] = 1;
    return 0;
}

static int invariants(const matcher_t *m, uint64_t i)
{
    for (uint32_t s = 1; s <= 4; s++) {
        int64_t total, net;
        matcher_asset_totals(m, s, &total, &net);
        if (total != net) {
            fprintf(stderr, "  command %" PRIu64 ": asset %u totals %" PRId64 " but net deposits %" PRId64 "\n",
                    i, s, total, net);
            return 0;
        }
        for (uint32_t a = 0; a <= NACCT; a++) {
            int64_t av, h;
            matcher_balance(m, a, s, &av, &h);
            if (av < 0 || h < 0) {
                fprintf(stderr, "  command %" PRIu64 ": account %u asset %u negative (%" PRId64 ", %" PRId64 ")\n",
                        i, a, s, av, h);
                return 0;
            }
        }
    }
    return 1;
}

static void dump(const char *who, const mevt_t *e)
{
    fprintf(stderr, "    %s: type %#x len %u:", who, e->type, e->len);
    for (uint32_t k = 0; k < e->len; k += 8) {
        int64_t w;
        memcpy(&w, e->u.raw + k, 8);
        fprintf(stderr, " %" PRId64, w);
    }
    fprintf(stderr, "\n");
}

static matcher_config_t diff_config(void)
{
    matcher_config_t cfg;
    matcher_config_defaults(&cfg);
    cfg.max_orders = 400;
    cfg.max_gtd = 60;
    cfg.max_accounts = R_ACCOUNTS;
    cfg.max_assets = R_ASSETS;
    cfg.max_instruments = R_INSTRUMENTS;
    cfg.max_levels = 14;
    cfg.max_account_orders = 120;
    return cfg;
}

static capture_t cap_real;
static ref_t ref;

static void test_matcher_and_reference_model_agree_on_random_commands(void)
{
    const char *env = getenv("BOURSE_DIFF_COUNT");
    uint64_t count = env ? strtoull(env, NULL, 10) : 1000000;
    uint64_t seed = check_seed();
    rng = seed * 0x9e3779b97f4a7c15u + 1;
    nseen = 0;
    matcher_config_t cfg = diff_config();
    matcher_t *m;
    CHECK_EQ(matcher_create(&m, &cfg, capture_sink, &cap_real, NULL), 0);
    memset(&ref, 0, sizeof(ref));
    ref.max_orders = cfg.max_orders;
    ref.max_levels = cfg.max_levels;
    ref.max_gtd = cfg.max_gtd;
    ref.max_account_orders = cfg.max_account_orders;
    ref.next_id = 1;
    ref.next_trade = 1;
    mevt_t *ref_ev = malloc(sizeof(mevt_t) * EVCAP);
    ref.out = ref_ev;
    ref.cap = EVCAP;
    CHECK_EQ(setup(m, &ref, &cap_real), 0);
    /* Fund everyone the same way in both, through commands. */
    uint64_t now = 1700000000000000000u, seq = 0;
    mcmd_t c;
    for (uint32_t a = 1; a <= NACCT; a++)
        for (uint32_t s = 1; s <= 4; s++) {
            memset(&c, 0, sizeof(c));
            c.seq = ++seq;
            c.ts_ns = now;
            c.type = CMD_DEPOSIT;
            c.u.funds = (cmd_funds_t){.account = a, .asset = s, .amount = 2000000000};
            cap_real.n = 0;
            matcher_apply(m, &c);
            ref.nout = 0;
            r_apply(&ref, &c);
        }
    uint64_t events = 0, trades = 0, rejects = 0;
    for (uint64_t i = 0; i < count; i++) {
        now += (uint64_t)pick(2000000);
        gen(&c, ++seq, now);
        /* Prefetch hints change nothing, whatever bytes they are given. */
        uint8_t junk[PROTO_PAYLOAD_MAX];
        for (size_t j = 0; j < sizeof(junk); j++)
            junk[j] = (uint8_t)rnd();
        matcher_prefetch(m, (uint16_t)(CMD_NEW_ORDER + rnd() % 3), junk, 1 + (int)(rnd() & 1));
        matcher_prefetch(m, c.type, c.u.raw, 2);
        matcher_prefetch(m, c.type, c.u.raw, 1);
        matcher_prefetch(m, (uint16_t)(CMD_NEW_ORDER + rnd() % 3), junk, (int)(rnd() % 5) - 1);
        cap_real.n = 0;
        matcher_apply(m, &c);
        ref.nout = 0;
        r_apply(&ref, &c);
        int same = cap_real.n == ref.nout && cap_real.n <= EVCAP;
        for (uint32_t k = 0; same && k < cap_real.n; k++)
            same = memcmp(&cap_real.ev[k], &ref_ev[k], sizeof(mevt_t)) == 0;
        if (!same) {
            fprintf(stderr, "  seed %" PRIu64 ", command %" PRIu64 " (type %u): %u events vs reference %u\n", seed,
                    i, c.type, cap_real.n, ref.nout);
            uint32_t n = cap_real.n > ref.nout ? cap_real.n : ref.nout;
            for (uint32_t k = 0; k < n && k < 40; k++) {
                if (k < cap_real.n && k < ref.nout && memcmp(&cap_real.ev[k], &ref_ev[k], sizeof(mevt_t)) == 0)
                    continue;
                fprintf(stderr, "   event %u\n", k);
                if (k < cap_real.n)
                    dump("matcher  ", &cap_real.ev[k]);
                if (k < ref.nout)
                    dump("reference", &ref_ev[k]);
            }
            check_current_failed = 1;
            break;
        }
        if (!invariants(m, i)) {
            fprintf(stderr, "  seed %" PRIu64 "\n", seed);
            check_current_failed = 1;
            break;
        }
        remember(&cap_real);
        events += cap_real.n;
        for (uint32_t k = 0; k < cap_real.n; k++) {
            trades += cap_real.ev[k].type == EVT_TRADE;
            rejects += cap_real.ev[k].type == EVT_REJECTED;
        }
    }
    matcher_stats_t st;
    matcher_get_stats(m, &st);
    printf("  %" PRIu64 " commands, %" PRIu64 " events, %" PRIu64 " trades, %" PRIu64 " rejects, %" PRIu64
           " resting at the end\n",
           count, events, trades, rejects, st.orders_resting);
    printf("  rejects by reason:");
    for (int r = 1; r < REJ_REASON_MAX; r++)
        if (st.rejects_by_reason[r])
            printf(" %d:%" PRIu64, r, st.rejects_by_reason[r]);
    printf("\n");
    free(ref_ev);
    matcher_destroy(m);
}

/* Runs a seeded stream through a fresh matcher; returns an FNV hash of every
 * event byte and the final digest. */
static uint64_t run_stream(uint64_t seed, uint64_t count, uint64_t *digest)
{
    matcher_config_t cfg = diff_config();
    matcher_t *m;
    if (matcher_create(&m, &cfg, capture_sink, &cap_real, NULL) < 0)
        return 0;
    static ref_t scratch;
    memset(&scratch, 0, sizeof(scratch));
    setup(m, &scratch, &cap_real);
    rng = seed * 0x9e3779b97f4a7c15u + 1;
    nseen = 0;
    uint64_t h = 0xcbf29ce484222325u, now = 1, seq = 0;
    mcmd_t c;
    for (uint32_t a = 1; a <= NACCT; a++)
        for (uint32_t s = 1; s <= 4; s++) {
            memset(&c, 0, sizeof(c));
            c.seq = ++seq;
            c.type = CMD_DEPOSIT;
            c.u.funds = (cmd_funds_t){.account = a, .asset = s, .amount = 2000000000};
            matcher_apply(m, &c);
        }
    for (uint64_t i = 0; i < count; i++) {
        now += (uint64_t)pick(2000000);
        gen(&c, ++seq, now);
        cap_real.n = 0;
        matcher_apply(m, &c);
        remember(&cap_real);
        for (uint32_t k = 0; k < cap_real.n && k < EVCAP; k++) {
            const uint8_t *b = (const uint8_t *)&cap_real.ev[k];
            for (size_t j = 0; j < sizeof(mevt_t); j++)
                h = (h ^ b[j]) * 0x100000001b3u;
        }
    }
    *digest = matcher_digest(m);
    matcher_destroy(m);
    return h;
}

static void test_same_commands_give_byte_identical_events(void)
{
    uint64_t seed = check_seed(), d1, d2;
    uint64_t h1 = run_stream(seed, 100000, &d1);
    uint64_t h2 = run_stream(seed, 100000, &d2);
    CHECK(h1 != 0);
    CHECK_EQ(h1, h2);
    CHECK_EQ(d1, d2);
    uint64_t d3;
    CHECK(run_stream(seed + 1, 100000, &d3) != h1); /* and the check can tell streams apart */
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_matcher_and_reference_model_agree_on_random_commands);
    RUN(test_same_commands_give_byte_identical_events);
    CHECK_MAIN_END();
}
