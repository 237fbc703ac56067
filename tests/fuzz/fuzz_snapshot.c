/* fuzz_snapshot.c - libFuzzer target for matcher_load(): the bytes of a
 * snapshot file (its checksum passed, or the file was crafted). A load either
 * refuses with a reason or gives a state that works: a few commands are
 * applied to it, and the sanitizers watch the pools. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct in {
    const uint8_t *p;
    size_t n, pos;
} in_t;

static int in_read(void *ctx, void *out, size_t n)
{
    in_t *i = ctx;
    if (i->n - i->pos < n)
        return -61; /* -ENODATA */
    memcpy(out, i->p + i->pos, n);
    i->pos += n;
    return 0;
}

static void sink(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    (void)ctx;
    (void)ev;
    (void)n;
    (void)last;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    matcher_config_t cfg;
    matcher_config_defaults(&cfg);
    cfg.max_orders = 256;
    cfg.max_gtd = 64;
    cfg.max_accounts = 8;
    cfg.max_assets = 4;
    cfg.max_instruments = 4;
    cfg.max_levels = 32;
    cfg.max_account_orders = 128;
    matcher_t *m;
    if (matcher_create(&m, &cfg, sink, NULL, NULL) < 0)
        abort();
    in_t in = {data, size, 0};
    err_t err;
    if (matcher_load(m, in_read, &in, &err) == 0) {
        /* A state that loaded must work: cross the book, cancel, expire. */
        for (uint32_t k = 0; k < 16; k++) {
            mcmd_t c;
            memset(&c, 0, sizeof(c));
            c.seq = k + 1;
            c.ts_ns = (uint64_t)k << 40;
            c.type = k % 4 == 3 ? CMD_MASS_CANCEL : CMD_NEW_ORDER;
            if (c.type == CMD_NEW_ORDER) {
                c.u.new_order = (cmd_new_order_t){.price = (int64_t)(k + 1) * 100, .qty = 1000000,
                                                  .account = k % 8, .instrument = k % 4,
                                                  .side = (uint8_t)(k & 1), .tif = TIF_IOC};
            } else {
                c.u.mass_cancel = (cmd_mass_cancel_t){.account = k % 8, .instrument = UINT32_MAX};
            }
            matcher_apply(m, &c);
        }
        (void)matcher_digest(m);
    }
    matcher_destroy(m);
    return 0;
}
