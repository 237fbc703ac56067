/* ratelimit.c - see ratelimit.h.
 *
 * The table is open addressing with linear probing inside a window of
 * PROBE slots from a key's home. Slots are filled, then reused in place, but
 * never emptied; so a key is in its window, before the first empty slot, if
 * it is anywhere. A bucket is one cache line. */
#include "ratelimit.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { PROBE = 16, CAPACITY_MIN = 16 };

#define NANO_PER_TOKEN UINT64_C(1000000000)
#define NS_PER_MS UINT64_C(1000000)

typedef struct rl_bucket {
    uint8_t key[RL_KEY_MAX];
    uint8_t keylen;      /* 0: never used */
    uint8_t pad[7];
    uint64_t tokens;     /* nano-tokens, <= burst * NANO_PER_TOKEN */
    uint64_t last_ns;    /* time of the last refill, which every take does */
    uint64_t pad2;
} rl_bucket_t;
_Static_assert(sizeof(rl_bucket_t) == 64, "a bucket is one cache line");

struct ratelimit {
    rl_bucket_t *slots;
    uint32_t mask;
    uint32_t probe;
    uint64_t rate;       /* nano-tokens per nanosecond = tokens per second */
    uint64_t cap;        /* burst in nano-tokens */
    uint64_t fill_ns;    /* an empty bucket is full after this long */
    uint32_t burst;
    uint64_t seed;
    rl_stats_t stats;
};

int ratelimit_create(ratelimit_t **out, const rl_config_t *cfg)
{
    if (cfg->rate_per_s == 0 || cfg->rate_per_s > RL_RATE_MAX || cfg->burst == 0 ||
        cfg->burst > RL_BURST_MAX || cfg->capacity == 0 || cfg->capacity > RL_CAPACITY_MAX)
        return -EINVAL;
    uint32_t n = CAPACITY_MIN;
    while (n < cfg->capacity)
        n <<= 1;
    ratelimit_t *rl = calloc(1, sizeof(*rl));
    rl_bucket_t *slots = aligned_alloc(64, (size_t)n * sizeof(rl_bucket_t));
    if (rl == NULL || slots == NULL) {
        free(rl);
        free(slots);
        return -ENOMEM;
    }
    memset(slots, 0, (size_t)n * sizeof(rl_bucket_t));
    rl->slots = slots;
    rl->mask = n - 1;
    rl->probe = n < PROBE ? n : PROBE;
    rl->rate = cfg->rate_per_s;
    rl->burst = cfg->burst;
    rl->cap = (uint64_t)cfg->burst * NANO_PER_TOKEN;
    rl->fill_ns = (rl->cap + rl->rate - 1) / rl->rate;
    rl->seed = cfg->seed;
    *out = rl;
    return 0;
}

void ratelimit_destroy(ratelimit_t *rl)
{
    if (rl == NULL)
        return;
    free(rl->slots);
    free(rl);
}

/* FNV-1a from a seeded basis, then a finaliser so the low bits (the slot)
 * depend on every byte. */
static uint32_t home_of(const ratelimit_t *rl, const uint8_t *key, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325) ^ rl->seed;
    for (size_t i = 0; i < len; i++)
        h = (h ^ key[i]) * UINT64_C(0x100000001b3);
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return (uint32_t)h & rl->mask;
}

/* Tokens in b at now_ns, without changing b. */
static uint64_t tokens_at(const ratelimit_t *rl, const rl_bucket_t *b, uint64_t now_ns)
{
    if (now_ns <= b->last_ns)
        return b->tokens;
    uint64_t elapsed = now_ns - b->last_ns;
    if (elapsed >= rl->fill_ns)
        return rl->cap;
    /* elapsed < fill_ns, so the product stays below cap + rate: no overflow */
    uint64_t t = b->tokens + elapsed * rl->rate;
    return t < rl->cap ? t : rl->cap;
}

static rl_bucket_t *find_or_claim(ratelimit_t *rl, const uint8_t *key, size_t len,
                                  uint64_t now_ns)
{
    uint32_t home = home_of(rl, key, len);
    rl_bucket_t *idle = NULL, *oldest = NULL;
    for (uint32_t k = 0; k < rl->probe; k++) {
        rl_bucket_t *b = &rl->slots[(home + k) & rl->mask];
        if (b->keylen == 0) {
            memcpy(b->key, key, len);
            b->keylen = (uint8_t)len;
            b->tokens = rl->cap;
            b->last_ns = now_ns;
            return b;
        }
        if (b->keylen == len && memcmp(b->key, key, len) == 0)
            return b;
        if (idle == NULL && tokens_at(rl, b, now_ns) == rl->cap)
            idle = b;
        if (oldest == NULL || b->last_ns < oldest->last_ns)
            oldest = b;
    }
    rl_bucket_t *b = idle;
    if (b != NULL) {
        rl->stats.evicted_idle++;
    } else {
        b = oldest;
        rl->stats.evicted_active++;
    }
    memcpy(b->key, key, len);
    b->keylen = (uint8_t)len;
    b->tokens = rl->cap;
    b->last_ns = now_ns;
    return b;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

int ratelimit_take(ratelimit_t *rl, const void *key, size_t keylen, uint64_t now_ns,
                   rl_info_t *info)
{
    if (keylen == 0 || keylen > RL_KEY_MAX)
        return -EINVAL;
    rl_bucket_t *b = find_or_claim(rl, key, keylen, now_ns);
    b->tokens = tokens_at(rl, b, now_ns);
    if (now_ns > b->last_ns)
        b->last_ns = now_ns;
    int rc = 0;
    info->retry_after_ms = 0;
    if (b->tokens >= NANO_PER_TOKEN) {
        b->tokens -= NANO_PER_TOKEN;
    } else {
        rc = -EAGAIN;
        /* rate nano-tokens arrive per nanosecond */
        info->retry_after_ms = ceil_div(ceil_div(NANO_PER_TOKEN - b->tokens, rl->rate), NS_PER_MS);
    }
    info->limit = rl->burst;
    info->remaining = (uint32_t)(b->tokens / NANO_PER_TOKEN);
    info->reset_ms = ceil_div(ceil_div(rl->cap - b->tokens, rl->rate), NS_PER_MS);
    return rc;
}

size_t ratelimit_addr_key(const struct sockaddr *sa, uint8_t out[RL_ADDR_KEY_MAX])
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(out, &in->sin_addr.s_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *a = in6->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            memcpy(out, a + 12, 4);
            return 4;
        }
        memcpy(out, a, 8);
        return 8;
    }
    return 0;
}

void ratelimit_stats(const ratelimit_t *rl, rl_stats_t *out)
{
    *out = rl->stats;
}
