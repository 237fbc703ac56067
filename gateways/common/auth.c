/* auth.c - see auth.h. */
#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* Each reason's name for logs and metrics, and its code for error bodies. */
static const struct {
    const char *name, *code;
} reasons[AUTH_REASON_COUNT] = {
    [AUTH_OK] = {"ok", "ok"},
    [AUTH_MISSING_KEY] = {"missing_key", "missing-key"},
    [AUTH_MISSING_TIMESTAMP] = {"missing_timestamp", "missing-timestamp"},
    [AUTH_MISSING_SIGNATURE] = {"missing_signature", "missing-signature"},
    [AUTH_MALFORMED_TIMESTAMP] = {"malformed_timestamp", "malformed-timestamp"},
    [AUTH_MALFORMED_SIGNATURE] = {"malformed_signature", "malformed-signature"},
    [AUTH_UNKNOWN_KEY] = {"unknown_key", "unknown-key"},
    [AUTH_REVOKED_KEY] = {"revoked_key", "revoked-key"},
    [AUTH_BAD_SIGNATURE] = {"bad_signature", "bad-signature"},
    [AUTH_STALE] = {"stale", "stale"},
    [AUTH_FUTURE] = {"future", "future"},
    [AUTH_REPLAY] = {"replay", "replay"},
    [AUTH_REPLAY_BUSY] = {"replay_busy", "replay-busy"},
    [AUTH_FORBIDDEN_ROLE] = {"forbidden_role", "forbidden-role"},
    [AUTH_INTERNAL] = {"internal", "internal"},
};

const char *auth_reason_str(auth_reason_t r)
{
    if ((unsigned)r >= AUTH_REASON_COUNT || reasons[r].name == NULL)
        return "unknown";
    return reasons[r].name;
}

const char *auth_reason_code(auth_reason_t r)
{
    if ((unsigned)r >= AUTH_REASON_COUNT || reasons[r].code == NULL)
        return "unknown";
    return reasons[r].code;
}

static const char *const role_names[] = {
    [AUTH_ROLE_READ_ONLY] = "read-only",
    [AUTH_ROLE_TRADER] = "trader",
    [AUTH_ROLE_ADMIN] = "admin",
};
enum { ROLE_COUNT = sizeof(role_names) / sizeof(role_names[0]) };

bool auth_role_permits(auth_role_t role, auth_need_t need)
{
    return (unsigned)role < ROLE_COUNT && (unsigned)need < ROLE_COUNT && role >= need;
}

const char *auth_role_name(auth_role_t role)
{
    return (unsigned)role < ROLE_COUNT ? role_names[role] : "unknown";
}

int auth_role_parse(const char *s, size_t len, auth_role_t *out)
{
    for (unsigned i = 0; i < ROLE_COUNT; i++) {
        if (strlen(role_names[i]) == len && memcmp(role_names[i], s, len) == 0) {
            *out = (auth_role_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* HMAC-SHA256 over the four parts, fed one after the other so the request is
 * never copied into one buffer. */
static int hmac(const uint8_t *secret, size_t secret_len, const char *ts, const char *method,
                const char *path, const char *body, size_t body_len, uint8_t out[AUTH_SIG_BYTES])
{
    int rc = -EIO;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    size_t n = 0;
    /* A zero-length key is legal HMAC, but EVP_MAC_init reads NULL as "keep
     * the previous key"; pass a valid pointer either way. */
    static const uint8_t no_key[1];
    if (ctx != NULL && EVP_MAC_init(ctx, secret_len ? secret : no_key, secret_len, params) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)method, strlen(method)) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)path, strlen(path)) == 1 &&
        (body_len == 0 || EVP_MAC_update(ctx, (const unsigned char *)body, body_len) == 1) &&
        EVP_MAC_final(ctx, out, &n, AUTH_SIG_BYTES) == 1 && n == AUTH_SIG_BYTES)
        rc = 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

int auth_sign(const uint8_t *secret, size_t secret_len, const char *ts, const char *method,
              const char *path, const char *body, size_t body_len,
              char out_hex[AUTH_SIG_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t sig[AUTH_SIG_BYTES];
    int rc = hmac(secret, secret_len, ts, method, path, body, body_len, sig);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < AUTH_SIG_BYTES; i++) {
        out_hex[2 * i] = hex[sig[i] >> 4];
        out_hex[2 * i + 1] = hex[sig[i] & 15];
    }
    out_hex[AUTH_SIG_HEX_LEN] = '\0';
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int auth_sig_decode(const char *hex, size_t len, uint8_t out[AUTH_SIG_BYTES])
{
    if (hex == NULL || len != AUTH_SIG_HEX_LEN)
        return -EINVAL;
    /* Not constant-time, and need not be: the input is what the client sent,
     * not the secret signature it is compared with. */
    for (size_t i = 0; i < AUTH_SIG_BYTES; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

auth_reason_t auth_verify(const uint8_t *secret, size_t secret_len, const char *ts,
                          const char *method, const char *path, const char *body,
                          size_t body_len, const char *sig_hex, size_t sig_len)
{
    uint8_t got[AUTH_SIG_BYTES], want[AUTH_SIG_BYTES];
    if (sig_len == 0)
        return AUTH_MISSING_SIGNATURE;
    if (auth_sig_decode(sig_hex, sig_len, got) < 0)
        return AUTH_MALFORMED_SIGNATURE;
    if (hmac(secret, secret_len, ts, method, path, body, body_len, want) < 0)
        return AUTH_INTERNAL;
    auth_reason_t r = CRYPTO_memcmp(got, want, AUTH_SIG_BYTES) == 0 ? AUTH_OK : AUTH_BAD_SIGNATURE;
    OPENSSL_cleanse(want, sizeof(want));
    return r;
}

enum { TS_DIGITS_MAX = 18 }; /* 10^18 ms is 31 million years: no overflow to check */

auth_reason_t auth_parse_ts(const char *s, size_t len, int64_t *out_ms)
{
    if (len == 0)
        return AUTH_MISSING_TIMESTAMP;
    if (len > TS_DIGITS_MAX || (len > 1 && s[0] == '0'))
        return AUTH_MALFORMED_TIMESTAMP;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return AUTH_MALFORMED_TIMESTAMP;
        v = v * 10 + (s[i] - '0');
    }
    *out_ms = v;
    return AUTH_OK;
}

auth_reason_t auth_check_time(int64_t now_ms, int64_t ts_ms, int64_t window_ms)
{
    int64_t d;
    if (window_ms < 0)
        window_ms = 0;
    if (ts_ms <= now_ms) /* an overflowing difference is beyond any window */
        return __builtin_sub_overflow(now_ms, ts_ms, &d) || d > window_ms ? AUTH_STALE : AUTH_OK;
    return __builtin_sub_overflow(ts_ms, now_ms, &d) || d > window_ms ? AUTH_FUTURE : AUTH_OK;
}

/* ---- replay guard ------------------------------------------------------- */

enum {
    REPLAY_PREFIX_BYTES = 16, /* 2^-128 chance that two signatures collide */
    /* Slots searched from a signature's home slot. With linear probing a
     * table half full still has runs longer than 32 now and then (0.8% of
     * 4096-slot tables filled to 2048 by random homes, in a simulation: a
     * fresh signature answered busy at half load); none at 48 in 20,000. */
    REPLAY_PROBE = 64,
    REPLAY_CAPACITY_MIN = 8,
    REPLAY_CAPACITY_MAX = 1 << 24,
};

typedef struct replay_slot {
    uint8_t prefix[REPLAY_PREFIX_BYTES];
    int64_t expires_ms; /* ts + window: live while now <= expires; INT64_MIN when empty */
} replay_slot_t;

struct auth_replay {
    uint32_t mask;   /* slots - 1 */
    uint32_t probe;  /* min(REPLAY_PROBE, slots) */
    int64_t window_ms;
    uint64_t seed;
    replay_slot_t *slots;
};

int auth_replay_create(auth_replay_t **out, uint32_t capacity, int64_t window_ms)
{
    if (capacity == 0 || capacity > REPLAY_CAPACITY_MAX || window_ms < 0)
        return -EINVAL;
    uint32_t n = REPLAY_CAPACITY_MIN;
    while (n < capacity)
        n <<= 1;
    auth_replay_t *r = calloc(1, sizeof(*r));
    replay_slot_t *slots = calloc(n, sizeof(*slots));
    if (r == NULL || slots == NULL || getrandom(&r->seed, sizeof(r->seed), 0) != sizeof(r->seed)) {
        int rc = (r == NULL || slots == NULL) ? -ENOMEM : -errno;
        free(slots);
        free(r);
        return rc;
    }
    for (uint32_t i = 0; i < n; i++)
        slots[i].expires_ms = INT64_MIN;
    r->mask = n - 1;
    r->probe = n < REPLAY_PROBE ? n : REPLAY_PROBE;
    r->window_ms = window_ms;
    r->slots = slots;
    *out = r;
    return 0;
}

void auth_replay_destroy(auth_replay_t *r)
{
    if (r == NULL)
        return;
    free(r->slots);
    free(r);
}

/* splitmix64's finaliser over the signature's first 8 bytes, keyed: the bytes
 * are already uniform to everyone but the key's owner, and the seed keeps the
 * owner, who could grind signatures, from aiming them at one probe window. */
static uint32_t replay_home(const auth_replay_t *r, const uint8_t *sig)
{
    uint64_t x;
    memcpy(&x, sig, sizeof(x));
    x ^= r->seed;
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return (uint32_t)x & r->mask;
}

auth_reason_t auth_replay_check(auth_replay_t *r, const uint8_t sig[AUTH_SIG_BYTES],
                                int64_t ts_ms, int64_t now_ms)
{
    int64_t expires;
    if (__builtin_add_overflow(ts_ms, r->window_ms, &expires))
        expires = INT64_MAX;
    /* Every entry sits within `probe` slots of its home, and slots are reused
     * in place, never emptied: a duplicate was put in the first slot that was
     * free then, so the search ends at the end of the probe window or at a
     * slot never used, whichever comes first. */
    uint32_t home = replay_home(r, sig);
    replay_slot_t *free_slot = NULL;
    for (uint32_t k = 0; k < r->probe; k++) {
        replay_slot_t *s = &r->slots[(home + k) & r->mask];
        if (s->expires_ms == INT64_MIN) {
            if (free_slot == NULL)
                free_slot = s;
            break;
        }
        bool live = now_ms <= s->expires_ms;
        if (!live) {
            if (free_slot == NULL)
                free_slot = s;
            continue;
        }
        if (memcmp(s->prefix, sig, REPLAY_PREFIX_BYTES) == 0)
            return AUTH_REPLAY;
    }
    if (free_slot == NULL)
        return AUTH_REPLAY_BUSY;
    memcpy(free_slot->prefix, sig, REPLAY_PREFIX_BYTES);
    free_slot->expires_ms = expires;
    return AUTH_OK;
}
