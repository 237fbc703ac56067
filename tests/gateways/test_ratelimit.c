/* test_ratelimit.c - gateways/common/ratelimit.c on simulated time: burst then
 * refusal, refill, Retry-After exactness, per-key isolation, eviction when the
 * table is full, address keys. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "../check.h"
#include "ratelimit.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
static const uint64_t t0 = 1000 * SEC; /* any clock: not zero, to see no special case */

static ratelimit_t *make(uint32_t rate, uint32_t burst, uint32_t capacity)
{
    ratelimit_t *rl = NULL;
    rl_config_t cfg = {.rate_per_s = rate, .burst = burst, .capacity = capacity, .seed = 42};
    if (ratelimit_create(&rl, &cfg) != 0)
        abort();
    return rl;
}

static int take(ratelimit_t *rl, const char *key, uint64_t now, rl_info_t *info)
{
    return ratelimit_take(rl, key, strlen(key), now, info);
}

static void test_burst_then_refusal_with_headers(void)
{
    ratelimit_t *rl = make(10, 5, 64);
    rl_info_t info;
    for (uint32_t i = 0; i < 5; i++) {
        CHECK_EQ(take(rl, "k", t0, &info), 0);
        CHECK_EQ(info.limit, 5);
        CHECK_EQ(info.remaining, 4 - i);
        CHECK_EQ(info.retry_after_ms, 0);
        CHECK_EQ(info.reset_ms, 100 * (i + 1)); /* 10/s: 100 ms a token */
    }
    CHECK_EQ(take(rl, "k", t0, &info), -EAGAIN);
    CHECK_EQ(info.remaining, 0);
    CHECK_EQ(info.retry_after_ms, 100);
    CHECK_EQ(info.reset_ms, 500);
    CHECK_EQ(take(rl, "k", t0 + 99 * MS, &info), -EAGAIN); /* refused takes cost nothing */
    CHECK_EQ(info.retry_after_ms, 1);
    ratelimit_destroy(rl);
}

static void test_refill_over_simulated_time(void)
{
    ratelimit_t *rl = make(10, 5, 64);
    rl_info_t info;
    for (int i = 0; i < 5; i++)
        CHECK_EQ(take(rl, "k", t0, &info), 0);
    CHECK_EQ(take(rl, "k", t0 + 100 * MS, &info), 0);
    CHECK_EQ(info.remaining, 0);
    CHECK_EQ(take(rl, "k", t0 + 100 * MS, &info), -EAGAIN);
    /* 250 ms later: 2.5 tokens, so two takes */
    CHECK_EQ(take(rl, "k", t0 + 350 * MS, &info), 0);
    CHECK_EQ(info.remaining, 1);
    CHECK_EQ(take(rl, "k", t0 + 350 * MS, &info), 0);
    CHECK_EQ(take(rl, "k", t0 + 350 * MS, &info), -EAGAIN);
    CHECK_EQ(info.retry_after_ms, 50);
    /* a long idle fills the bucket to the burst, not beyond */
    CHECK_EQ(take(rl, "k", t0 + 3600 * SEC, &info), 0);
    CHECK_EQ(info.remaining, 4);
    /* time going backwards adds nothing */
    CHECK_EQ(take(rl, "k", t0, &info), 0);
    CHECK_EQ(info.remaining, 3);
    ratelimit_destroy(rl);
}

static void test_refill_is_exact_over_many_small_steps(void)
{
    /* 3/s does not divide a second evenly: nano-tokens still lose nothing.
     * Burst 2 so the cap never clips what arrives between two takes. */
    ratelimit_t *rl = make(3, 2, 64);
    rl_info_t info;
    CHECK_EQ(take(rl, "k", t0, &info), 0);
    uint64_t now = t0;
    int allowed = 0;
    for (int i = 0; i < 300000; i++) { /* 300 s in 1 ms steps */
        now += MS;
        allowed += take(rl, "k", now, &info) == 0;
    }
    CHECK_EQ(allowed, 1 + 900); /* the token left at t0, then 3/s for 300 s */
    ratelimit_destroy(rl);
}

static uint64_t rng_state;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void test_retry_after_is_the_earliest_whole_ms_that_succeeds(void)
{
    rng_state = check_seed();
    for (int round = 0; round < 2000; round++) {
        uint32_t rate = 1 + (uint32_t)(rng() % 2000), burst = 1 + (uint32_t)(rng() % 20);
        ratelimit_t *rl = make(rate, burst, 16);
        rl_info_t info;
        uint64_t now = t0 + rng() % SEC;
        while (take(rl, "k", now, &info) == 0)
            now += rng() % (2 * SEC / rate + 1) / 4;
        uint64_t wait = info.retry_after_ms;
        CHECK(wait >= 1);
        CHECK_EQ(take(rl, "k", now + (wait - 1) * MS, &info), -EAGAIN);
        CHECK_EQ(take(rl, "k", now + wait * MS, &info), 0);
        ratelimit_destroy(rl);
    }
}

static void test_keys_are_isolated(void)
{
    ratelimit_t *rl = make(1, 2, 64);
    rl_info_t info;
    CHECK_EQ(take(rl, "alice", t0, &info), 0);
    CHECK_EQ(take(rl, "alice", t0, &info), 0);
    CHECK_EQ(take(rl, "alice", t0, &info), -EAGAIN);
    CHECK_EQ(take(rl, "bob", t0, &info), 0);
    CHECK_EQ(info.remaining, 1);
    /* a prefix, or the same bytes with another length, is another key */
    CHECK_EQ(ratelimit_take(rl, "alice", 4, t0, &info), 0);
    CHECK_EQ(ratelimit_take(rl, "alice\0", 6, t0, &info), 0);
    CHECK_EQ(take(rl, "alice", t0, &info), -EAGAIN);
    ratelimit_destroy(rl);
}

static void test_full_table_evicts_a_refilled_bucket_before_a_busy_one(void)
{
    ratelimit_t *rl = make(1, 5, 16); /* 16 slots: one probe window */
    rl_info_t info;
    rl_stats_t st;
    char key[16];
    for (int i = 0; i < 5; i++)
        CHECK_EQ(take(rl, "k0", t0, &info), 0); /* k0 drained, the oldest */
    for (int i = 1; i < 16; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        CHECK_EQ(take(rl, key, t0 + (uint64_t)i * MS, &info), 0);
    }
    /* 1.5 s on, k1..k15 are full again, k0 holds 1.5 of 5 */
    uint64_t now = t0 + 1500 * MS;
    CHECK_EQ(take(rl, "new", now, &info), 0);
    CHECK_EQ(info.remaining, 4);
    ratelimit_stats(rl, &st);
    CHECK_EQ(st.evicted_idle, 1);
    CHECK_EQ(st.evicted_active, 0);
    CHECK_EQ(take(rl, "k0", now, &info), 0); /* k0 kept its state */
    CHECK_EQ(info.remaining, 0);
    CHECK_EQ(take(rl, "k0", now, &info), -EAGAIN);
    ratelimit_destroy(rl);
}

static void test_full_table_of_busy_buckets_evicts_the_least_recently_used(void)
{
    ratelimit_t *rl = make(1, 5, 16);
    rl_info_t info;
    rl_stats_t st;
    char key[16];
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        CHECK_EQ(take(rl, key, t0 + (uint64_t)i * MS, &info), 0);
        CHECK_EQ(take(rl, key, t0 + (uint64_t)i * MS, &info), 0);
    }
    uint64_t now = t0 + 100 * MS; /* nobody has refilled */
    CHECK_EQ(take(rl, "new", now, &info), 0);
    ratelimit_stats(rl, &st);
    CHECK_EQ(st.evicted_idle, 0);
    CHECK_EQ(st.evicted_active, 1);
    /* k0 was the oldest: it was forgotten and starts afresh... */
    CHECK_EQ(take(rl, "k0", now, &info), 0);
    CHECK_EQ(info.remaining, 4);
    /* ...which evicted the next oldest, k1; k15 (most recent) kept its state */
    CHECK_EQ(take(rl, "k15", now, &info), 0);
    CHECK_EQ(info.remaining, 2);
    ratelimit_stats(rl, &st);
    CHECK_EQ(st.evicted_active, 2);
    ratelimit_destroy(rl);
}

static void test_same_calls_give_same_answers(void)
{
    ratelimit_t *a = make(7, 3, 16), *b = make(7, 3, 16);
    rng_state = 12345;
    for (int i = 0; i < 20000; i++) {
        char key[8];
        snprintf(key, sizeof(key), "%d", (int)(rng() % 40));
        uint64_t now = t0 + (uint64_t)i * 10 * MS;
        rl_info_t ia, ib;
        CHECK_EQ(take(a, key, now, &ia), take(b, key, now, &ib));
        CHECK(memcmp(&ia, &ib, sizeof(ia)) == 0);
    }
    ratelimit_destroy(a);
    ratelimit_destroy(b);
}

static void test_bad_config_and_keys_are_einval(void)
{
    ratelimit_t *rl = NULL;
    rl_config_t ok = {.rate_per_s = 1, .burst = 1, .capacity = 1};
    rl_config_t c = ok;
    c.rate_per_s = 0;
    CHECK_EQ(ratelimit_create(&rl, &c), -EINVAL);
    c = ok;
    c.burst = RL_BURST_MAX + 1;
    CHECK_EQ(ratelimit_create(&rl, &c), -EINVAL);
    c = ok;
    c.capacity = 0;
    CHECK_EQ(ratelimit_create(&rl, &c), -EINVAL);
    CHECK(rl == NULL);
    c = ok;
    c.rate_per_s = RL_RATE_MAX;
    c.burst = RL_BURST_MAX;
    CHECK_EQ(ratelimit_create(&rl, &c), 0);
    rl_info_t info = {.limit = 77};
    char big[RL_KEY_MAX + 1];
    memset(big, 'x', sizeof(big));
    CHECK_EQ(ratelimit_take(rl, big, 0, t0, &info), -EINVAL);
    CHECK_EQ(ratelimit_take(rl, big, sizeof(big), t0, &info), -EINVAL);
    CHECK_EQ(info.limit, 77);
    CHECK_EQ(ratelimit_take(rl, big, RL_KEY_MAX, t0, &info), 0);
    CHECK_EQ(info.remaining, RL_BURST_MAX - 1);
    /* the extremes do not overflow: a year idle, then the full burst */
    CHECK_EQ(ratelimit_take(rl, big, RL_KEY_MAX, t0 + 365ULL * 86400 * SEC, &info), 0);
    CHECK_EQ(info.remaining, RL_BURST_MAX - 1);
    ratelimit_destroy(rl);
}

static void test_address_keys(void)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 mapped = {.sin6_family = AF_INET6}, a6 = {.sin6_family = AF_INET6},
                        b6 = {.sin6_family = AF_INET6}, c6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &mapped.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:2::1", &a6.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &b6.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:3::1", &c6.sin6_addr);
    uint8_t k1[RL_ADDR_KEY_MAX], k2[RL_ADDR_KEY_MAX];
    CHECK_EQ(ratelimit_addr_key((struct sockaddr *)&v4, k1), 4);
    CHECK_EQ(ratelimit_addr_key((struct sockaddr *)&mapped, k2), 4);
    CHECK(memcmp(k1, k2, 4) == 0);
    CHECK(memcmp(k1, "\xc0\x00\x02\x07", 4) == 0);
    CHECK_EQ(ratelimit_addr_key((struct sockaddr *)&a6, k1), 8);
    CHECK_EQ(ratelimit_addr_key((struct sockaddr *)&b6, k2), 8);
    CHECK(memcmp(k1, k2, 8) == 0); /* same /64 */
    CHECK_EQ(ratelimit_addr_key((struct sockaddr *)&c6, k2), 8);
    CHECK(memcmp(k1, k2, 8) != 0);
    struct sockaddr other = {.sa_family = AF_UNIX};
    CHECK_EQ(ratelimit_addr_key(&other, k1), 0);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_burst_then_refusal_with_headers);
    RUN(test_refill_over_simulated_time);
    RUN(test_refill_is_exact_over_many_small_steps);
    RUN(test_retry_after_is_the_earliest_whole_ms_that_succeeds);
    RUN(test_keys_are_isolated);
    RUN(test_full_table_evicts_a_refilled_bucket_before_a_busy_one);
    RUN(test_full_table_of_busy_buckets_evicts_the_least_recently_used);
    RUN(test_same_calls_give_same_answers);
    RUN(test_bad_config_and_keys_are_einval);
    RUN(test_address_keys);
    CHECK_MAIN_END();
}
