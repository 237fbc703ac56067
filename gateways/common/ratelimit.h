/* ratelimit.h - token buckets for the gateways: one table per kind of key
 * (one keyed by API key id, another by source address), each with its rate
 * and burst from the gateway's config. A refused request is answered 429 with
 * Retry-After; every response carries the X-RateLimit-* headers from rl_info_t.
 *
 * Integer arithmetic only: a bucket holds nano-tokens (10^-9 token), so the
 * refill over elapsed_ns nanoseconds is exactly elapsed_ns * rate_per_s, with
 * no division and no drift. Given the same calls with the same now_ns, the
 * answers are the same. The table is allocated at creation and never grows;
 * no call allocates, locks or makes a system call. Not thread-safe. */
#ifndef BOURSE_RATELIMIT_H
#define BOURSE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
    RL_KEY_MAX = 32,        /* bytes; an API key id or an address key */
    RL_ADDR_KEY_MAX = 8,    /* what ratelimit_addr_key writes at most */
    RL_RATE_MAX = 1000000,  /* tokens per second */
    RL_BURST_MAX = 1000000, /* tokens */
    RL_CAPACITY_MAX = 1 << 24,
};

typedef struct rl_config {
    uint32_t rate_per_s; /* tokens added per second, 1..RL_RATE_MAX */
    uint32_t burst;      /* bucket size: requests allowed back to back, 1..RL_BURST_MAX */
    uint32_t capacity;   /* keys tracked at once, rounded up to a power of two (>= 16) */
    uint64_t seed;       /* hash seed: random in production, so that clients cannot
                            aim keys at one probe window; fixed in tests */
} rl_config_t;

/* What a response tells the client. Headers want whole seconds: round the
 * millisecond fields up ((ms + 999) / 1000), never down, or a client that
 * obeys Retry-After exactly comes back too early. */
typedef struct rl_info {
    uint32_t limit;          /* X-RateLimit-Limit: the burst */
    uint32_t remaining;      /* X-RateLimit-Remaining: whole tokens left after this request */
    uint64_t reset_ms;       /* X-RateLimit-Reset: until the bucket is full again */
    uint64_t retry_after_ms; /* Retry-After when refused: until one token is back; 0 if allowed */
} rl_info_t;

typedef struct rl_stats {
    uint64_t evicted_idle;   /* a full bucket made room: nothing forgotten */
    uint64_t evicted_active; /* a partly drained bucket made room: that key starts afresh */
} rl_stats_t;

typedef struct ratelimit ratelimit_t;

/* Creates a table for cfg. Returns 0, -EINVAL (a field out of range) or -ENOMEM. */
int ratelimit_create(ratelimit_t **out, const rl_config_t *cfg);

void ratelimit_destroy(ratelimit_t *rl);

/* Takes one token from key's bucket (keylen bytes, 1..RL_KEY_MAX; a new key
 * starts with a full bucket) at time now_ns (any monotonic clock; a time
 * earlier than the bucket's last one counts as no time passed). Fills *info.
 * Returns 0 when allowed, -EAGAIN when refused (rate limited), -EINVAL for a
 * bad keylen (info untouched).
 * When the table is full, a new key takes the slot of a bucket that is full
 * again (which forgets nothing), else of the least recently used bucket near
 * its hash slot; see rl_stats_t. Size the table for the keys active at once. */
int ratelimit_take(ratelimit_t *rl, const void *key, size_t keylen, uint64_t now_ns,
                   rl_info_t *info);

/* The key for a source address: an IPv4 address (also when IPv4-mapped in
 * IPv6) as its 4 bytes; an IPv6 address as its /64 prefix (8 bytes), since
 * one host commonly owns a whole /64. Returns the key length, or 0 for
 * another address family. */
size_t ratelimit_addr_key(const struct sockaddr *sa, uint8_t out[RL_ADDR_KEY_MAX]);

void ratelimit_stats(const ratelimit_t *rl, rl_stats_t *out);

#endif
