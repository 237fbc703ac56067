/* keywatch.h - a gateway's copy of the API key store (keystore.h), kept as
 * current as its file; bourse-rest and bourse-ws look keys up here.
 *
 * A key created anywhere (`bourse-rest keys create`, a gateway's admin
 * endpoint) is usable as soon as its save returned: a lookup that misses
 * looks at the file at once (one stat) and reloads it when it changed, so a
 * key written before the request arrived is found. A flood of unknown keys
 * while the file stays the same costs one stat a request and no reread.
 * Rereads are bounded for when the file keeps changing too: a burst at
 * once, then one an interval (keywatch_bound_t); a lookup the bound holds
 * back is told when to ask again (-EAGAIN), never that its key is unknown,
 * and a reload done after its request arrived settles it.
 *
 * A key found in the copy costs no system call, so a revocation by another
 * process reaches the copy at the next reload: keywatch_poll(), which the
 * gateway calls about once a second, or one a miss causes.
 * One thread (the gateway's loop); may block on disk while reloading. */
#ifndef BOURSE_KEYWATCH_H
#define BOURSE_KEYWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keystore.h"

/* The bound on rereads: any window of T ms holds at most
 * burst + T / interval_ms of them; a held-back lookup waits interval_ms at
 * most. Rereads the loop's poll does count too; keywatch_sync's do not. */
typedef struct keywatch_bound {
    uint32_t burst;       /* at once, >= 1 */
    uint32_t interval_ms; /* then one every this long, >= 1 */
} keywatch_bound_t;

enum {
    /* A reload reads the file and decrypts every secret: 2.2 ms a
     * thousand keys (measured, debugoptimized build). Four at once cover a
     * script that creates keys and uses each at once; four a second after
     * that keep a flood while the file keeps changing under 1% of a core a
     * thousand keys, and a held-back lookup waits 250 ms at most. */
    KEYWATCH_RELOAD_BURST = 4,
    KEYWATCH_RELOAD_INTERVAL_MS = 250,
};

typedef struct keywatch_stats {
    uint64_t checks;   /* stat()s of the file */
    uint64_t reloads;  /* rereads, the failed ones included */
    uint64_t failures; /* rereads that did not load (the copy was kept) */
    uint64_t deferred; /* lookups the bound held back (-EAGAIN) */
} keywatch_stats_t;

typedef struct keywatch keywatch_t;

/* Opens the store (keystore_open(), its errors) and remembers the paths;
 * bound NULL: KEYWATCH_RELOAD_BURST and KEYWATCH_RELOAD_INTERVAL_MS.
 * now_ns: clock_mono_ns() taken before the call, as for every now_ns here
 * (the copy is then known to be current as of that time). */
int keywatch_open(keywatch_t **out, const char *path, const char *master_key_path,
                  const keywatch_bound_t *bound, uint64_t now_ns, err_t *err);

void keywatch_close(keywatch_t *kw);

/* Looks key_id (len bytes, as received) up for a request that arrived at
 * asked_ns (clock_mono_ns()). Returns, as keystore_lookup():
 *   0             found, copied into *out
 *   -EKEYREVOKED  revoked
 *   -ENOENT       not in the file as it was at asked_ns or later
 *   -EAGAIN       the file changed since the copy was read but the reload
 *                 bound holds the reread back: ask again at *retry_ns or
 *                 after, once keywatch_poll() ran then (its reload settles
 *                 it); a caller that cannot wait answers unknown.
 * A miss stats the file unless the copy is already newer than the request. */
int keywatch_lookup(keywatch_t *kw, const char *key_id, size_t len, uint64_t asked_ns, uint64_t now_ns,
                    ks_entry_t *out, uint64_t *retry_ns);

/* The loop's look at the file, about once a second and when a held-back
 * lookup is due: reloads when the file changed and the bound allows. Returns
 * true when the copy was replaced. A file that fails to load is logged once
 * and not read again until it changes; the copy stays. */
bool keywatch_poll(keywatch_t *kw, uint64_t now_ns);

/* For an admin's request that needs the file as it is now: a listing, or a
 * writer holding the store's lock (keystore_lock) before it changes the
 * store, so that its save keeps every key another process added. Rereads if
 * the file changed, whatever the bound (an admin's requests, not a flood).
 * Returns 0, or a negative errno with err set when the file cannot be
 * loaded: then nothing must be written, or those keys would be lost. */
int keywatch_sync(keywatch_t *kw, uint64_t now_ns, err_t *err);

/* The copy, to list keys or (after keywatch_sync, under the lock) create or
 * revoke one; its own saves keep it current. Valid until the next keywatch
 * call, which may replace it. */
keystore_t *keywatch_store(keywatch_t *kw);

void keywatch_get_stats(const keywatch_t *kw, keywatch_stats_t *out);

#endif
