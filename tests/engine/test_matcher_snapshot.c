/* test_matcher_snapshot.c - matcher_save / matcher_load: a loaded matcher is
 * the same state (digest) and behaves the same (byte-identical events on the
 * same commands); a damaged stream is refused, never crashes. */
#include <string.h>

#include "matcher_fixture.h"

typedef struct buf {
    uint8_t *p;
    size_t len, cap, pos;
} buf_t;

static int buf_write(void *ctx, const void *p, size_t n)
{
    buf_t *b = ctx;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (q == NULL)
            return -ENOMEM;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static int buf_read(void *ctx, void *p, size_t n)
{
    buf_t *b = ctx;
    if (b->len - b->pos < n)
        return -ENODATA;
    memcpy(p, b->p + b->pos, n);
    b->pos += n;
    return 0;
}

/* A second fixture whose matcher is loaded from b. */
static int load_into(fx_t *g, buf_t *b, const matcher_config_t *cfg, err_t *err)
{
    memset(g, 0, sizeof(*g));
    if (matcher_create(&g->m, cfg, fx_sink, g, err) < 0)
        return -1;
    b->pos = 0;
    return matcher_load(g->m, buf_read, b, err);
}

static void test_loaded_matcher_has_the_same_state_and_the_same_future(void)
{
    fx_rng = check_seed() | 1;
    fx_t fx, *f = &fx, gx, *g = &gx;
    matcher_config_t cfg = fx_small_config();
    CHECK(fx_init_cfg(f, &cfg) == 0);
    uint64_t ids[FX_IDS], gids[FX_IDS];
    uint32_t nids = 0;
    for (int i = 0; i < 3000; i++)
        fx_random_command(f, ids, &nids);
    cmd_instrument_t h = {.instrument = BTCUSD};
    matcher_stats_t before;
    matcher_get_stats(f->m, &before);
    CHECK(before.orders_resting > 20);

    buf_t b = {0};
    CHECK_EQ(matcher_save(f->m, buf_write, &b), 0);
    err_t err = {0};
    CHECK_EQ(load_into(g, &b, &cfg, &err), 0);
    CHECK(matcher_digest(g->m) == matcher_digest(f->m));
    matcher_stats_t after;
    matcher_get_stats(g->m, &after);
    CHECK(memcmp(&before, &after, sizeof(before)) == 0);

    /* The same commands from here give the same bytes, GTD expiries included. */
    g->seq = f->seq;
    g->now = f->now;
    memcpy(gids, ids, sizeof(ids));
    uint32_t gn = nids;
    for (int i = 0; i < 3000; i++) {
        uint64_t r = fx_rng;
        f->n = g->n = 0; /* a step may send no command */
        fx_random_command(f, ids, &nids);
        fx_rng = r;
        fx_random_command(g, gids, &gn);
        CHECK_EQ(f->n, g->n);
        CHECK(memcmp(f->ev, g->ev, sizeof(mevt_t) * f->n) == 0);
    }
    fx_cmd(f, CMD_HALT, &h, sizeof(h));
    fx_cmd(g, CMD_HALT, &h, sizeof(h));
    CHECK(matcher_digest(g->m) == matcher_digest(f->m));

    /* A saved loaded matcher saves the same bytes. */
    buf_t b1 = {0}, b2 = {0};
    CHECK_EQ(matcher_save(f->m, buf_write, &b1), 0);
    CHECK_EQ(matcher_save(g->m, buf_write, &b2), 0);
    CHECK_EQ(b1.len, b2.len);
    CHECK(memcmp(b1.p, b2.p, b1.len) == 0);
    free(b.p);
    free(b1.p);
    free(b2.p);
    matcher_destroy(f->m);
    matcher_destroy(g->m);
}

static void test_damaged_snapshots_are_refused_with_a_reason(void)
{
    fx_rng = check_seed() | 1;
    fx_t fx, *f = &fx, gx, *g = &gx;
    matcher_config_t cfg = fx_small_config();
    CHECK(fx_init_cfg(f, &cfg) == 0);
    uint64_t ids[FX_IDS];
    uint32_t nids = 0;
    for (int i = 0; i < 500; i++)
        fx_random_command(f, ids, &nids);
    buf_t b = {0};
    CHECK_EQ(matcher_save(f->m, buf_write, &b), 0);
    err_t err = {0};

    /* Cut anywhere: refused. */
    size_t full = b.len;
    for (size_t cut = 0; cut < full; cut += 1 + full / 97) {
        b.len = cut;
        CHECK(load_into(g, &b, &cfg, &err) < 0);
        matcher_destroy(g->m);
    }
    b.len = full;

    /* Too small a config: -ENOSPC, saying so. */
    matcher_config_t tiny = cfg;
    tiny.max_orders = 4;
    CHECK_EQ(load_into(g, &b, &tiny, &err), -ENOSPC);
    CHECK_STR_HAS(err.msg, "capacities");
    matcher_destroy(g->m);

    /* Bytes flipped at random: refused or, when the flip lands on a value
     * that is still consistent, loaded; never a crash or a broken invariant. */
    int refused = 0;
    for (int k = 0; k < 300; k++) {
        size_t at = (size_t)(fx_rnd() % full);
        uint8_t old = b.p[at];
        b.p[at] ^= (uint8_t)(1u << (fx_rnd() % 8));
        int rc = load_into(g, &b, &cfg, &err);
        if (rc < 0) {
            refused++;
        } else {
            /* A consistent state: it must work (ASan watches the pools). */
            uint64_t gids[FX_IDS];
            uint32_t gn = 0;
            g->now = f->now;
            for (int i = 0; i < 50; i++)
                fx_random_command(g, gids, &gn);
        }
        matcher_destroy(g->m);
        b.p[at] = old;
    }
    CHECK(refused > 0);
    free(b.p);
    matcher_destroy(f->m);
}

/* Orders in the id index's overflow (their id's place held by an order of an
 * earlier lap) survive a save and load: found by id, same digest. */
static void test_orders_in_the_id_overflow_survive_a_load(void)
{
    fx_t fx, *f = &fx, gx, *g = &gx;
    matcher_config_t cfg = fx_small_config();
    cfg.max_orders = 4; /* an id index of 8 places: 9 falls on 1's */
    CHECK(fx_init_cfg(f, &cfg) == 0);
    CHECK_EQ(SELL(1, USD_(110), LOTS(1)), 1);
    for (uint64_t id = 2; id < 9; id++) {
        CHECK_EQ(BUY(2, USD_(90), LOTS(1)), id);
        cmd_cancel_t c = {.order_id = id, .account = 2};
        fx_cmd(f, CMD_CANCEL, &c, sizeof(c));
    }
    CHECK_EQ(BUY(2, USD_(91), LOTS(1)), 9);
    buf_t b = {0};
    CHECK_EQ(matcher_save(f->m, buf_write, &b), 0);
    err_t err = {0};
    CHECK_EQ(load_into(g, &b, &cfg, &err), 0);
    CHECK(matcher_digest(g->m) == matcher_digest(f->m));
    matcher_order_t o;
    CHECK_EQ(matcher_order(g->m, 1, &o), 0);
    CHECK_EQ(o.price, USD_(110));
    CHECK_EQ(matcher_order(g->m, 9, &o), 0);
    CHECK_EQ(o.price, USD_(91));
    cmd_cancel_t c = {.order_id = 9, .account = 2};
    fx_cmd(g, CMD_CANCEL, &c, sizeof(c));
    CHECK(fx_find(g, EVT_CANCELLED, 0) != NULL);
    CHECK_EQ(matcher_order(g->m, 9, &o), -ENOENT);
    CHECK_EQ(matcher_order(g->m, 1, &o), 0);
    free(b.p);
    matcher_destroy(f->m);
    matcher_destroy(g->m);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_loaded_matcher_has_the_same_state_and_the_same_future);
    RUN(test_damaged_snapshots_are_refused_with_a_reason);
    RUN(test_orders_in_the_id_overflow_survive_a_load);
    CHECK_MAIN_END();
}
