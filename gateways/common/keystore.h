/* keystore.h - the gateways' API keys: key id, secret, role, account.
 *
 * The store is a text file the gateway owns (mode 0600, rewritten atomically:
 * temp file, fsync, rename, fsync of the directory). Each secret is encrypted
 * with AES-256-GCM under a master key kept in a second 0600 file, with a fresh
 * random nonce per encryption; the rest of the line is the cipher's associated
 * data, so editing a key's role, account or revoked flag in the file makes it
 * fail to load. At open every secret is decrypted into memory, so a lookup
 * per request is a hash probe and a copy. Secrets are never logged and never
 * appear in error messages. Not thread-safe: one owner, or a lock around it.
 *
 * Store file, line-based:
 *     bourse-keystore 1
 *     # comment lines and empty lines are ignored
 *     key <key_id> <role> <account> <created_ms> <active|revoked> <nonce> <ciphertext> <tag>
 * fields separated by one space; role is read-only, trader or admin; nonce
 * (12 bytes), ciphertext (32) and tag (16) in lowercase hex.
 * Master key file: "bourse-master-key 1\n" then 64 hex digits and "\n".
 *
 * The secret handed to a client is KS_SECRET_BYTES random bytes, shown once as
 * 64 hex digits; the client decodes them and uses the 32 bytes as its HMAC key. */
#ifndef BOURSE_KEYSTORE_H
#define BOURSE_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "err.h"

enum {
    KS_KEY_ID_LEN = 24,   /* generated: base64url of 18 random bytes, not starting with - or _ */
    KS_KEY_ID_MIN = 16,   /* accepted from the file: 16..32 of [A-Za-z0-9_-] */
    KS_KEY_ID_MAX = 32,
    KS_SECRET_BYTES = 32,
    KS_SECRET_HEX_LEN = 64,
};

/* What may be shown about a key: everything but the secret. */
typedef struct ks_info {
    char key_id[KS_KEY_ID_MAX + 1];
    auth_role_t role;
    uint32_t account;    /* the only account this key sees and touches */
    int64_t created_ms;  /* Unix epoch, milliseconds */
    bool revoked;
} ks_info_t;

typedef struct ks_entry {
    ks_info_t info;
    uint8_t secret[KS_SECRET_BYTES]; /* decrypted; wipe copies when done */
} ks_entry_t;

typedef struct keystore keystore_t;

/* One version of the store file, to tell whether the file changed since it
 * was read. A save puts a new file in place by rename (a new inode and
 * ctime) and only adds a key or revokes one (a larger file), so two versions
 * this code wrote never compare equal; a file replaced by other means shows
 * its new times. All zero: no file. */
typedef struct ks_version {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
} ks_version_t;

/* Opens the store at path (a missing file is an empty store, written at the
 * first create) with the master key at master_key_path. A missing master key
 * is generated from getrandom() and written 0600 only when the store holds no
 * key; otherwise it is an error, since the secrets could not be decrypted.
 * Refused, with a one-line message naming the file (and line) in err:
 *   -EPERM    either file grants any permission to group or others, or is not
 *             a regular file
 *   -EPROTO   missing or unsupported version header
 *   -EINVAL   a malformed line ("keys:7: bad role 'root'"), a duplicate key id
 *   -EBADMSG  a secret that fails authentication (tampered line or wrong master key)
 *   -ENOENT   master key missing while the store has keys
 *   -EFBIG    a file over 64 MiB; other negative errnos from the system calls.
 * Set-up code: may block on disk. */
int keystore_open(keystore_t **out, const char *path, const char *master_key_path, err_t *err);

/* Creates a key with a fresh id and secret for (role, account) and saves the
 * store before returning. out_key_id gets the id (NUL-terminated), out_secret
 * the secret: the only time it leaves the store, for the operator to hand on.
 * Returns 0 or a negative errno (with err set); on error nothing changed. */
int keystore_create(keystore_t *ks, auth_role_t role, uint32_t account,
                    char out_key_id[KS_KEY_ID_MAX + 1], uint8_t out_secret[KS_SECRET_BYTES],
                    err_t *err);

/* Marks a key revoked and saves the store; the key stays listed, and lookups
 * answer -EKEYREVOKED. Revoking a revoked key is a no-op returning 0.
 * Returns 0, -ENOENT for an unknown id, or a save error (nothing changed). */
int keystore_revoke(keystore_t *ks, const char *key_id, err_t *err);

/* Finds the key whose id is the len bytes at key_id (as received, no NUL
 * needed) and copies it, secret included, into *out. Returns 0, -ENOENT
 * (unknown, or not a possible id), or -EKEYREVOKED (out is not written).
 * Per request: no allocation, no system call. */
int keystore_lookup(const keystore_t *ks, const char *key_id, size_t len, ks_entry_t *out);

/* Copies up to cap keys' public information, in creation order, into out
 * (NULL when cap is 0). Returns the number of keys in the store. */
size_t keystore_list(const keystore_t *ks, ks_info_t *out, size_t cap);

/* Writes the 64 lowercase hex digits of a secret and a NUL: the form shown
 * to the operator once. */
void keystore_secret_hex(const uint8_t secret[KS_SECRET_BYTES], char out[KS_SECRET_HEX_LEN + 1]);

/* The version of the file this store was read from or last saved (all zero
 * when there was none yet). */
void keystore_version(const keystore_t *ks, ks_version_t *out);

/* The version of the file at path now: one stat(), no lock, any thread.
 * Returns 0 (a missing file is all zero) or a negative errno. A save in
 * progress elsewhere is not seen until its rename: until then this is the
 * old file, after it the new one, whole. */
int keystore_file_version(const char *path, ks_version_t *out);

bool keystore_version_same(const ks_version_t *a, const ks_version_t *b);

/* Wipes the secrets and the master key from memory and frees the store. */
void keystore_close(keystore_t *ks);

/* Takes the store's lock file (<path>.lock, created 0600), held by whoever
 * changes the store (bourse-rest, `bourse-rest keys`) from before it reads
 * the store until its save, so that two writers never lose each other's keys.
 * A reader needs no lock: a save replaces the file by rename, so it reads the
 * old file or the new one, whole. Blocks while another process holds it; the
 * same process must not take it twice. Returns the lock's descriptor
 * (release with keystore_unlock) or a negative errno with err set. */
int keystore_lock(const char *path, err_t *err);
/* Releases a lock keystore_lock took; a negative fd is ignored. */
void keystore_unlock(int fd);

#endif
