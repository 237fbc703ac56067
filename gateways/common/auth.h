/* auth.h - request authentication for the REST gateway: HMAC-SHA256 request
 * signatures, the receive window, the replay guard and the roles.
 *
 * A client signs HMAC-SHA256(secret, timestamp + method + path + body), the
 * four strings concatenated with no separators, timestamp in decimal
 * milliseconds since the Unix epoch exactly as sent, and sends the key id, the
 * timestamp and the lowercase hex signature. The server, per request:
 *     auth_parse_ts -> auth_check_time -> keystore lookup -> auth_verify
 *     -> auth_role_permits -> auth_replay_check
 * The replay check comes last so that only genuine signatures take a slot.
 * Every check returns an auth_reason_t; AUTH_OK is 0. */
#ifndef BOURSE_AUTH_H
#define BOURSE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    AUTH_SIG_BYTES = 32,   /* SHA-256 output */
    AUTH_SIG_HEX_LEN = 64, /* its hex form, without the NUL */
};

typedef enum auth_reason {
    AUTH_OK = 0,
    AUTH_MISSING_KEY,          /* no key id in the request */
    AUTH_MISSING_TIMESTAMP,
    AUTH_MISSING_SIGNATURE,
    AUTH_MALFORMED_TIMESTAMP,  /* not decimal milliseconds */
    AUTH_MALFORMED_SIGNATURE,  /* not 64 hex digits */
    AUTH_UNKNOWN_KEY,
    AUTH_REVOKED_KEY,
    AUTH_BAD_SIGNATURE,        /* well-formed, but not the right one */
    AUTH_STALE,                /* timestamp older than the receive window */
    AUTH_FUTURE,               /* timestamp further ahead than the receive window */
    AUTH_REPLAY,               /* this signature was already accepted */
    AUTH_REPLAY_BUSY,          /* the replay guard has no room: refused, not forgotten */
    AUTH_FORBIDDEN_ROLE,       /* the key's role may not do this */
    AUTH_INTERNAL,             /* libcrypto failed */
    AUTH_REASON_COUNT
} auth_reason_t;

/* A short fixed name for logs, metrics and error bodies ("bad_signature").
 * Never NULL; out-of-range values give "unknown". */
const char *auth_reason_str(auth_reason_t r);
/* The same with hyphens ("bad-signature"): the error code both gateways
 * send, in the style of every other code. Out of range: "unknown". */
const char *auth_reason_code(auth_reason_t r);

/* Roles, in increasing power: each role may do what the ones before it may. */
typedef enum auth_role {
    AUTH_ROLE_READ_ONLY = 0, /* market data, own orders and balances */
    AUTH_ROLE_TRADER,        /* + place, amend, cancel own orders */
    AUTH_ROLE_ADMIN,         /* + operator endpoints */
} auth_role_t;

/* What an endpoint needs: the weakest role allowed to call it. */
typedef auth_role_t auth_need_t;

/* True when `role` may call an endpoint that needs `need`. */
bool auth_role_permits(auth_role_t role, auth_need_t need);

/* "read-only", "trader", "admin"; "unknown" for other values. */
const char *auth_role_name(auth_role_t role);

/* Parses a role name as auth_role_name writes it. Returns 0 or -EINVAL. */
int auth_role_parse(const char *s, size_t len, auth_role_t *out);

/* Computes the lowercase hex HMAC-SHA256 of ts + method + path + body under
 * secret into out_hex (64 digits and a NUL). ts, method and path are
 * NUL-terminated; body is body_len bytes (NULL allowed when body_len is 0).
 * Returns 0, or -EIO if libcrypto fails. Any thread. */
int auth_sign(const uint8_t *secret, size_t secret_len, const char *ts, const char *method,
              const char *path, const char *body, size_t body_len,
              char out_hex[AUTH_SIG_HEX_LEN + 1]);

/* Decodes a signature of exactly 64 hex digits (either case) into 32 bytes.
 * Returns 0 or -EINVAL; out is unspecified on error. */
int auth_sig_decode(const char *hex, size_t len, uint8_t out[AUTH_SIG_BYTES]);

/* Checks sig_hex (sig_len bytes, as received) against the signature of the
 * request. The comparison of the decoded bytes is constant-time, so response
 * timing says nothing about how much of a forged signature was right.
 * Returns AUTH_OK, AUTH_MISSING_SIGNATURE (sig_len 0), AUTH_MALFORMED_SIGNATURE,
 * AUTH_BAD_SIGNATURE or AUTH_INTERNAL. Any thread. */
auth_reason_t auth_verify(const uint8_t *secret, size_t secret_len, const char *ts,
                          const char *method, const char *path, const char *body,
                          size_t body_len, const char *sig_hex, size_t sig_len);

/* Parses the timestamp header: decimal milliseconds, digits only, no leading
 * zero, at most 18 digits. Returns AUTH_OK, AUTH_MISSING_TIMESTAMP (len 0) or
 * AUTH_MALFORMED_TIMESTAMP. */
auth_reason_t auth_parse_ts(const char *s, size_t len, int64_t *out_ms);

/* The receive window: AUTH_OK when now_ms - window_ms <= ts_ms <= now_ms +
 * window_ms, AUTH_STALE when older, AUTH_FUTURE when newer. The tolerance
 * ahead equals the one behind so that a client whose clock runs a little fast
 * is not refused; the replay guard remembers a signature until its timestamp
 * leaves the window, whichever side it came from. Never overflows. */
auth_reason_t auth_check_time(int64_t now_ms, int64_t ts_ms, int64_t window_ms);

/* The replay guard: remembers every accepted signature until its timestamp
 * is stale, so a captured request cannot be sent twice. Fixed memory taken at
 * creation, nothing allocated per request; not thread-safe (one per gateway
 * thread, or a lock around it). */
typedef struct auth_replay auth_replay_t;

/* Creates a guard holding up to `capacity` signatures (rounded up to a power
 * of two, at least 8; at most 2^24) for a receive window of window_ms. A
 * signature lives in a probe window of a few slots, so the guard may answer
 * busy a little before it holds `capacity`: size it at twice the requests
 * accepted in one receive window (2 * window) for room to spare. The hash is
 * keyed from getrandom(), so clients cannot aim signatures at one slot.
 * Returns 0, -EINVAL or -ENOMEM. */
int auth_replay_create(auth_replay_t **out, uint32_t capacity, int64_t window_ms);

void auth_replay_destroy(auth_replay_t *r);

/* Records the verified signature sig (decoded) of a request stamped ts_ms,
 * which auth_check_time accepted at now_ms. Returns AUTH_OK (recorded),
 * AUTH_REPLAY (seen before and still in the window) or AUTH_REPLAY_BUSY (no
 * free slot: the request is refused rather than an unexpired signature
 * forgotten). Entries whose timestamp has left the window are reused. */
auth_reason_t auth_replay_check(auth_replay_t *r, const uint8_t sig[AUTH_SIG_BYTES],
                                int64_t ts_ms, int64_t now_ms);

#endif
