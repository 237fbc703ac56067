/* keystore.c - see keystore.h.
 *
 * Keys live in one array in creation order (the file order), indexed by an
 * open-addressing table of array positions keyed on the id. Each key keeps
 * its sealed form (nonce, ciphertext, tag) next to the plaintext secret, so a
 * save writes unchanged keys as they were read and a nonce is drawn only for
 * a new or changed key. Arrays holding secrets are never realloc()ed: a copy
 * left behind in freed memory would outlive keystore_close's wipe. */
#include "keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define KS_HEADER "bourse-keystore 1"
#define KS_MAGIC "bourse-keystore "
#define MK_HEADER "bourse-master-key 1"
#define MK_MAGIC "bourse-master-key "

enum {
    NONCE_BYTES = 12, /* GCM's native nonce size */
    TAG_BYTES = 16,
    MASTER_BYTES = 32, /* AES-256 */
    FILE_MAX_BYTES = 64 << 20,
    LINE_MAX_BYTES = 320, /* a key line is under 250 bytes */
    FIELDS = 9,
    INDEX_EMPTY = -1,
};

typedef struct ks_slot {
    ks_entry_t e;
    uint8_t nonce[NONCE_BYTES];
    uint8_t ct[KS_SECRET_BYTES];
    uint8_t tag[TAG_BYTES];
    uint32_t line; /* where it was read, for messages; 0 when created here */
} ks_slot_t;

struct keystore {
    char *path;
    char *master_path;
    uint8_t master[MASTER_BYTES];
    ks_slot_t *slots;
    uint32_t count, cap;
    int32_t *index; /* array positions, INDEX_EMPTY; at most half full */
    uint32_t index_mask;
    ks_version_t version; /* of the file read or last saved; zero: none */
};

/* ---- small helpers ------------------------------------------------------ */

static int fill_random(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Exactly 2n lowercase hex digits, as this file writes them. */
static bool hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n)
        return false;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return false;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return true;
}

/* Digits only, no leading zero, at most max. */
static bool parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool key_id_valid(const char *s, size_t len)
{
    if (len < KS_KEY_ID_MIN || len > KS_KEY_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- files -------------------------------------------------------------- */

static void version_of(const struct stat *st, ks_version_t *v)
{
    v->dev = (uint64_t)st->st_dev;
    v->ino = (uint64_t)st->st_ino;
    v->size = (uint64_t)st->st_size;
    v->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    v->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

/* Refuses what is not a regular file or lets group or others in at all:
 * write access would allow substituting keys just as read access leaks them.
 * Sets *size to the file's size and *ver (when not NULL) to its version. */
static int check_private(int fd, const char *path, size_t *size, ks_version_t *ver, err_t *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_set(err, -errno, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(err, -EPERM, "%s: not a regular file", path);
    if (st.st_mode & 077)
        return err_set(err, -EPERM, "%s: mode %04o lets group or others in; chmod 600 it", path,
                       (unsigned)(st.st_mode & 07777));
    if (st.st_size > FILE_MAX_BYTES)
        return err_set(err, -EFBIG, "%s: larger than %d bytes", path, FILE_MAX_BYTES);
    *size = (size_t)st.st_size;
    if (ver != NULL)
        version_of(&st, ver);
    return 0;
}

/* Reads a private file whole, NUL-terminated, and (ver not NULL) the version
 * of what it read: the descriptor's, so a file put in place meanwhile is not
 * taken for the one read. -ENOENT (err set) when missing. */
static int read_private(const char *path, char **out, size_t *out_len, ks_version_t *ver, err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_set(err, -errno, "%s: %s", path, strerror(errno));
    size_t size = 0, len = 0;
    int rc = check_private(fd, path, &size, ver, err);
    char *buf = rc == 0 ? malloc(size + 2) : NULL;
    if (rc == 0 && buf == NULL)
        rc = err_set(err, -ENOMEM, "%s: out of memory", path);
    while (rc == 0) { /* asks for one byte more than fstat saw, to notice a change */
        ssize_t n = read(fd, buf + len, size + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = err_set(err, -errno, "%s: %s", path, strerror(errno));
        else if (n == 0)
            break;
        else if ((len += (size_t)n) > size)
            rc = err_set(err, -EAGAIN, "%s: changed while being read", path);
    }
    close(fd);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static int fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return -ENAMETOOLONG;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* Writes data to a 0600 temp file beside path, syncs it, then puts it in
 * place: rename() to replace, or link() when an existing file must win
 * (-EEXIST). A crash leaves the old file or the new one, never a mix, and a
 * reader sees one or the other whole. *ver (when not NULL) gets the version
 * of the file put in place, taken after the rename, which changes its ctime. */
static int write_private(const char *path, const char *data, size_t len, bool replace,
                         ks_version_t *ver, err_t *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= sizeof(tmp))
        return err_set(err, -ENAMETOOLONG, "%s: path too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC); /* created 0600 */
    if (fd < 0)
        return err_set(err, -errno, "%s: cannot create a temp file: %s", path, strerror(errno));
    int rc = 0;
    if (fchmod(fd, 0600) < 0)
        rc = -errno;
    for (size_t done = 0; rc == 0 && done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno != EINTR)
            rc = -errno;
        else if (n > 0)
            done += (size_t)n;
    }
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (rc == 0) {
        if (replace)
            rc = rename(tmp, path) < 0 ? -errno : 0;
        else
            rc = link(tmp, path) < 0 ? -errno : 0;
    }
    struct stat st;
    if (rc == 0 && ver != NULL) {
        if (fstat(fd, &st) == 0)
            version_of(&st, ver);
        else
            memset(ver, 0, sizeof(*ver)); /* matches no file: one needless reload */
    }
    close(fd); /* after fsync there is nothing left for close to report */
    if (rc < 0 || !replace)
        unlink(tmp);
    if (rc == 0)
        rc = fsync_parent(path);
    if (rc < 0 && rc != -EEXIST)
        return err_set(err, rc, "%s: cannot write: %s", path, strerror(-rc));
    return rc;
}

/* ---- sealing ------------------------------------------------------------ */

/* The associated data: the line's fields before the nonce, as written. */
static int aad_of(const ks_entry_t *e, char *buf, size_t cap)
{
    return snprintf(buf, cap, "key %s %s %" PRIu32 " %" PRId64 " %s", e->info.key_id,
                    auth_role_name(e->info.role), e->info.account, e->info.created_ms,
                    e->info.revoked ? "revoked" : "active");
}

/* GCM over the secret with a fresh nonce. Returns 0 or -EIO. */
static int seal(const keystore_t *ks, ks_slot_t *s)
{
    char aad[LINE_MAX_BYTES];
    int aad_len = aad_of(&s->e, aad, sizeof(aad));
    int rc = fill_random(s->nonce, NONCE_BYTES);
    if (rc < 0)
        return rc;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    rc = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, ks->master, s->nonce) == 1 &&
                 EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad, aad_len) == 1 &&
                 EVP_EncryptUpdate(c, s->ct, &n, s->e.secret, KS_SECRET_BYTES) == 1 &&
                 n == KS_SECRET_BYTES && EVP_EncryptFinal_ex(c, s->ct + n, &n) == 1 &&
                 EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, s->tag) == 1
             ? 0
             : -EIO;
    EVP_CIPHER_CTX_free(c);
    return rc;
}

/* Decrypts and authenticates s->ct into s->e.secret. Returns 0, -EBADMSG
 * when the tag does not match, or -EIO. */
static int unseal(const keystore_t *ks, ks_slot_t *s)
{
    char aad[LINE_MAX_BYTES];
    int aad_len = aad_of(&s->e, aad, sizeof(aad));
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    uint8_t tag[TAG_BYTES];
    memcpy(tag, s->tag, TAG_BYTES);
    int n = 0, rc = -EIO;
    if (c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, ks->master, s->nonce) == 1 &&
        EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)aad, aad_len) == 1 &&
        EVP_DecryptUpdate(c, s->e.secret, &n, s->ct, KS_SECRET_BYTES) == 1 &&
        n == KS_SECRET_BYTES && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1)
        rc = EVP_DecryptFinal_ex(c, s->e.secret + n, &n) == 1 ? 0 : -EBADMSG;
    EVP_CIPHER_CTX_free(c);
    if (rc < 0)
        OPENSSL_cleanse(s->e.secret, KS_SECRET_BYTES);
    return rc;
}

/* ---- the index ---------------------------------------------------------- */

static uint32_t id_hash(const char *s, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a: ids are random, not chosen */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * UINT64_C(0x100000001b3);
    return (uint32_t)(h ^ (h >> 32));
}

/* The array position of key id (len bytes), or INDEX_EMPTY. */
static int32_t index_find(const keystore_t *ks, const char *id, size_t len)
{
    if (ks->index == NULL)
        return INDEX_EMPTY;
    for (uint32_t i = id_hash(id, len) & ks->index_mask;; i = (i + 1) & ks->index_mask) {
        int32_t p = ks->index[i];
        if (p == INDEX_EMPTY)
            return INDEX_EMPTY;
        const char *k = ks->slots[p].e.info.key_id;
        if (strlen(k) == len && memcmp(k, id, len) == 0)
            return p;
    }
}

/* Adds position p; the table has room (index_reserve). Returns the position
 * already holding the same id, or INDEX_EMPTY when added. */
static int32_t index_add(keystore_t *ks, int32_t p)
{
    const char *id = ks->slots[p].e.info.key_id;
    size_t len = strlen(id);
    uint32_t i = id_hash(id, len) & ks->index_mask;
    for (; ks->index[i] != INDEX_EMPTY; i = (i + 1) & ks->index_mask)
        if (strcmp(ks->slots[ks->index[i]].e.info.key_id, id) == 0)
            return ks->index[i];
    ks->index[i] = p;
    return INDEX_EMPTY;
}

/* Makes room for n keys at most half the table, re-adding the first `have`. */
static int index_reserve(keystore_t *ks, uint32_t n, uint32_t have)
{
    uint32_t size = 16;
    while (size < 2 * n)
        size <<= 1;
    if (ks->index != NULL && size <= ks->index_mask + 1)
        return 0;
    int32_t *idx = malloc(size * sizeof(*idx));
    if (idx == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < size; i++)
        idx[i] = INDEX_EMPTY;
    free(ks->index);
    ks->index = idx;
    ks->index_mask = size - 1;
    for (uint32_t p = 0; p < have; p++)
        (void)index_add(ks, (int32_t)p);
    return 0;
}

/* Room for one more key in the array, copying and wiping rather than realloc. */
static int slots_reserve(keystore_t *ks, uint32_t n)
{
    if (n <= ks->cap)
        return 0;
    uint32_t cap = ks->cap ? ks->cap * 2 : 16;
    while (cap < n)
        cap *= 2;
    ks_slot_t *s = calloc(cap, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    if (ks->slots != NULL) {
        memcpy(s, ks->slots, ks->count * sizeof(*s));
        OPENSSL_cleanse(ks->slots, ks->cap * sizeof(*s));
        free(ks->slots);
    }
    ks->slots = s;
    ks->cap = cap;
    return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static int parse_key_line(keystore_t *ks, const char *line, size_t len, uint32_t lineno,
                          err_t *err)
{
    const char *f[FIELDS];
    size_t fl[FIELDS];
    size_t nf = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ' ')
            continue;
        if (nf == FIELDS || i == start)
            return err_set(err, -EINVAL, "%s:%" PRIu32 ": malformed line: want %d fields "
                           "separated by single spaces", ks->path, lineno, FIELDS);
        f[nf] = line + start;
        fl[nf++] = i - start;
        start = i + 1;
    }
    if (nf != FIELDS)
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": malformed line: %zu fields, want %d",
                       ks->path, lineno, nf, FIELDS);
    if (fl[0] != 3 || memcmp(f[0], "key", 3) != 0)
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": unknown record '%.*s'", ks->path, lineno,
                       (int)(fl[0] < 16 ? fl[0] : 16), f[0]);
    int rc = slots_reserve(ks, ks->count + 1);
    if (rc < 0)
        return err_set(err, rc, "%s: out of memory", ks->path);
    ks_slot_t *s = &ks->slots[ks->count];
    memset(s, 0, sizeof(*s));
    ks_info_t *in = &s->e.info;
    uint64_t v;
    if (!key_id_valid(f[1], fl[1]))
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": bad key id (16 to 32 of A-Z a-z 0-9 - _)",
                       ks->path, lineno);
    memcpy(in->key_id, f[1], fl[1]);
    if (auth_role_parse(f[2], fl[2], &in->role) < 0)
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": bad role '%.*s'", ks->path, lineno,
                       (int)(fl[2] < 16 ? fl[2] : 16), f[2]);
    if (!parse_uint(f[3], fl[3], UINT32_MAX, &v))
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": bad account", ks->path, lineno);
    in->account = (uint32_t)v;
    if (!parse_uint(f[4], fl[4], INT64_MAX, &v))
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": bad created time", ks->path, lineno);
    in->created_ms = (int64_t)v;
    if (fl[5] == 6 && memcmp(f[5], "active", 6) == 0)
        in->revoked = false;
    else if (fl[5] == 7 && memcmp(f[5], "revoked", 7) == 0)
        in->revoked = true;
    else
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": bad status (active or revoked)", ks->path,
                       lineno);
    if (!hex_decode(f[6], fl[6], s->nonce, NONCE_BYTES))
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": bad nonce", ks->path, lineno);
    if (!hex_decode(f[7], fl[7], s->ct, KS_SECRET_BYTES))
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": bad ciphertext", ks->path, lineno);
    if (!hex_decode(f[8], fl[8], s->tag, TAG_BYTES))
        return err_set(err, -EINVAL, "%s:%" PRIu32 ": bad tag", ks->path, lineno);
    s->line = lineno;
    ks->count++;
    return 0;
}

static int parse_store(keystore_t *ks, const char *text, size_t len, err_t *err)
{
    uint32_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        const char *line = text + pos;
        size_t n = end - pos;
        pos = end + 1;
        lineno++;
        if (n > LINE_MAX_BYTES)
            return err_set(err, -EINVAL, "%s:%" PRIu32 ": line too long", ks->path, lineno);
        if (lineno == 1) {
            if (n == strlen(KS_HEADER) && memcmp(line, KS_HEADER, n) == 0)
                continue;
            if (n >= strlen(KS_MAGIC) && memcmp(line, KS_MAGIC, strlen(KS_MAGIC)) == 0)
                return err_set(err, -EPROTO, "%s:1: unsupported version '%.*s' (want '%s')",
                               ks->path, (int)(n < 40 ? n : 40), line, KS_HEADER);
            return err_set(err, -EPROTO, "%s:1: not a key store (want '%s')", ks->path,
                           KS_HEADER);
        }
        if (n == 0 || line[0] == '#')
            continue;
        int rc = parse_key_line(ks, line, n, lineno, err);
        if (rc < 0)
            return rc;
    }
    if (lineno == 0)
        return err_set(err, -EPROTO, "%s: empty file (want '%s' on line 1)", ks->path, KS_HEADER);
    return 0;
}

/* ---- master key --------------------------------------------------------- */

static int load_master(keystore_t *ks, err_t *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_private(ks->master_path, &text, &len, NULL, err);
    if (rc < 0)
        return rc;
    size_t hl = strlen(MK_HEADER);
    if (len < hl + 1 || memcmp(text, MK_HEADER, hl) != 0 || text[hl] != '\n') {
        bool other = len >= strlen(MK_MAGIC) && memcmp(text, MK_MAGIC, strlen(MK_MAGIC)) == 0;
        rc = err_set(err, -EPROTO, "%s:1: %s (want '%s')", ks->master_path,
                     other ? "unsupported version" : "not a master key file", MK_HEADER);
    } else if (len != hl + 1 + 2 * MASTER_BYTES + 1 || text[len - 1] != '\n' ||
               !hex_decode(text + hl + 1, 2 * MASTER_BYTES, ks->master, MASTER_BYTES)) {
        rc = err_set(err, -EINVAL, "%s:2: want %d lowercase hex digits", ks->master_path,
                     2 * MASTER_BYTES);
    }
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}

static int make_master(keystore_t *ks, err_t *err)
{
    char text[sizeof(MK_HEADER) + 2 * MASTER_BYTES + 2];
    int rc = fill_random(ks->master, MASTER_BYTES);
    if (rc < 0)
        return err_set(err, rc, "getrandom: %s", strerror(-rc));
    size_t hl = strlen(MK_HEADER);
    memcpy(text, MK_HEADER "\n", hl + 1);
    hex_encode(ks->master, MASTER_BYTES, text + hl + 1);
    text[hl + 1 + 2 * MASTER_BYTES] = '\n';
    rc = write_private(ks->master_path, text, hl + 2 + 2 * MASTER_BYTES, false, NULL, err);
    OPENSSL_cleanse(text, sizeof(text));
    if (rc == -EEXIST) /* another process made one first: use it */
        return load_master(ks, err);
    return rc;
}

/* ---- saving ------------------------------------------------------------- */

static int save(keystore_t *ks, err_t *err)
{
    size_t cap = 256 + (size_t)ks->count * LINE_MAX_BYTES;
    char *buf = malloc(cap);
    if (buf == NULL)
        return err_set(err, -ENOMEM, "%s: out of memory", ks->path);
    size_t n = (size_t)snprintf(buf, cap, "%s\n# key <id> <role> <account> <created_ms> "
                                "<status> <nonce> <aes-256-gcm secret> <tag>\n", KS_HEADER);
    for (uint32_t i = 0; i < ks->count; i++) {
        const ks_slot_t *s = &ks->slots[i];
        char nonce[2 * NONCE_BYTES + 1], ct[2 * KS_SECRET_BYTES + 1], tag[2 * TAG_BYTES + 1];
        hex_encode(s->nonce, NONCE_BYTES, nonce);
        hex_encode(s->ct, KS_SECRET_BYTES, ct);
        hex_encode(s->tag, TAG_BYTES, tag);
        n += (size_t)aad_of(&s->e, buf + n, cap - n);
        n += (size_t)snprintf(buf + n, cap - n, " %s %s %s\n", nonce, ct, tag);
    }
    ks_version_t ver;
    int rc = write_private(ks->path, buf, n, true, &ver, err);
    free(buf);
    if (rc == 0)
        ks->version = ver;
    return rc;
}

/* ---- the API ------------------------------------------------------------ */

int keystore_open(keystore_t **out, const char *path, const char *master_key_path, err_t *err)
{
    keystore_t *ks = calloc(1, sizeof(*ks));
    if (ks == NULL || (ks->path = strdup(path)) == NULL ||
        (ks->master_path = strdup(master_key_path)) == NULL) {
        keystore_close(ks);
        return err_set(err, -ENOMEM, "%s: out of memory", path);
    }
    char *text = NULL;
    size_t len = 0;
    int rc = read_private(path, &text, &len, &ks->version, err);
    if (rc == 0) {
        rc = parse_store(ks, text, len, err);
        free(text);
    } else if (rc == -ENOENT) {
        rc = 0; /* no store yet: empty, written at the first create */
    }
    if (rc == 0) {
        rc = load_master(ks, err);
        if (rc == -ENOENT && ks->count == 0)
            rc = make_master(ks, err);
        else if (rc == -ENOENT)
            rc = err_set(err, -ENOENT, "%s: master key missing, and %s holds %" PRIu32 " keys",
                         master_key_path, path, ks->count);
    }
    for (uint32_t i = 0; rc == 0 && i < ks->count; i++) {
        ks_slot_t *s = &ks->slots[i];
        rc = unseal(ks, s);
        if (rc == -EBADMSG)
            rc = err_set(err, rc, "%s:%" PRIu32 ": key %s: secret fails authentication (line "
                         "edited, or another store's master key)", path, s->line,
                         s->e.info.key_id);
        else if (rc < 0)
            rc = err_set(err, rc, "%s: libcrypto failed", path);
    }
    if (rc == 0 && (rc = index_reserve(ks, ks->count, 0)) < 0)
        err_set(err, rc, "%s: out of memory", path);
    for (uint32_t i = 0; rc == 0 && i < ks->count; i++) {
        int32_t first = index_add(ks, (int32_t)i);
        if (first != INDEX_EMPTY)
            rc = err_set(err, -EINVAL, "%s:%" PRIu32 ": duplicate key id %s (first on line %"
                         PRIu32 ")", path, ks->slots[i].line, ks->slots[i].e.info.key_id,
                         ks->slots[first].line);
    }
    if (rc < 0) {
        keystore_close(ks);
        return rc;
    }
    *out = ks;
    return 0;
}

int keystore_create(keystore_t *ks, auth_role_t role, uint32_t account,
                    char out_key_id[KS_KEY_ID_MAX + 1], uint8_t out_secret[KS_SECRET_BYTES],
                    err_t *err)
{
    static const char b64url[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if ((unsigned)role > AUTH_ROLE_ADMIN)
        return err_set(err, -EINVAL, "bad role %d", (int)role);
    if (ks->count >= INT32_MAX / 4)
        return err_set(err, -ENOSPC, "%s: too many keys", ks->path);
    int rc = slots_reserve(ks, ks->count + 1);
    if (rc == 0)
        rc = index_reserve(ks, ks->count + 1, ks->count);
    if (rc < 0)
        return err_set(err, rc, "%s: out of memory", ks->path);
    ks_slot_t *s = &ks->slots[ks->count];
    memset(s, 0, sizeof(*s));
    do { /* 144 random bits; a collision is only a formality to handle */
        uint8_t raw[KS_KEY_ID_LEN * 3 / 4];
        if ((rc = fill_random(raw, sizeof(raw))) < 0)
            return err_set(err, rc, "getrandom: %s", strerror(-rc));
        for (size_t i = 0; i < sizeof(raw); i += 3) {
            uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
            for (size_t k = 0; k < 4; k++)
                s->e.info.key_id[i / 3 * 4 + k] = b64url[(v >> (18 - 6 * k)) & 63];
        }
    } while (s->e.info.key_id[0] == '-' || s->e.info.key_id[0] == '_' || /* not an option */
             index_find(ks, s->e.info.key_id, KS_KEY_ID_LEN) != INDEX_EMPTY);
    s->e.info.role = role;
    s->e.info.account = account;
    s->e.info.created_ms = now_ms();
    if ((rc = fill_random(s->e.secret, KS_SECRET_BYTES)) < 0 || (rc = seal(ks, s)) < 0) {
        OPENSSL_cleanse(s, sizeof(*s));
        return err_set(err, rc, "%s: cannot make a secret: %s", ks->path, strerror(-rc));
    }
    ks->count++;
    if ((rc = save(ks, err)) < 0) {
        ks->count--;
        OPENSSL_cleanse(s, sizeof(*s));
        return rc;
    }
    (void)index_add(ks, (int32_t)(ks->count - 1));
    memcpy(out_key_id, s->e.info.key_id, KS_KEY_ID_MAX + 1);
    memcpy(out_secret, s->e.secret, KS_SECRET_BYTES);
    return 0;
}

int keystore_revoke(keystore_t *ks, const char *key_id, err_t *err)
{
    int32_t p = index_find(ks, key_id, strlen(key_id));
    if (p == INDEX_EMPTY)
        return err_set(err, -ENOENT, "%s: no key %.*s", ks->path, KS_KEY_ID_MAX, key_id);
    ks_slot_t *s = &ks->slots[p];
    if (s->e.info.revoked)
        return 0;
    ks_slot_t old = *s;
    s->e.info.revoked = true;
    int rc = seal(ks, s); /* the status is associated data: seal again */
    if (rc < 0)
        err_set(err, rc, "%s: cannot seal: %s", ks->path, strerror(-rc));
    else
        rc = save(ks, err);
    if (rc < 0)
        *s = old;
    OPENSSL_cleanse(&old, sizeof(old));
    return rc;
}

int keystore_lookup(const keystore_t *ks, const char *key_id, size_t len, ks_entry_t *out)
{
    if (len < KS_KEY_ID_MIN || len > KS_KEY_ID_MAX)
        return -ENOENT;
    int32_t p = index_find(ks, key_id, len);
    if (p == INDEX_EMPTY)
        return -ENOENT;
    const ks_entry_t *e = &ks->slots[p].e;
    if (e->info.revoked)
        return -EKEYREVOKED;
    *out = *e;
    return 0;
}

size_t keystore_list(const keystore_t *ks, ks_info_t *out, size_t cap)
{
    for (size_t i = 0; i < cap && i < ks->count; i++)
        out[i] = ks->slots[i].e.info;
    return ks->count;
}

void keystore_secret_hex(const uint8_t secret[KS_SECRET_BYTES], char out[KS_SECRET_HEX_LEN + 1])
{
    hex_encode(secret, KS_SECRET_BYTES, out);
}

void keystore_version(const keystore_t *ks, ks_version_t *out)
{
    *out = ks->version;
}

int keystore_file_version(const char *path, ks_version_t *out)
{
    struct stat st;
    memset(out, 0, sizeof(*out));
    if (stat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    version_of(&st, out);
    return 0;
}

bool keystore_version_same(const ks_version_t *a, const ks_version_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}

void keystore_close(keystore_t *ks)
{
    if (ks == NULL)
        return;
    if (ks->slots != NULL)
        OPENSSL_cleanse(ks->slots, ks->cap * sizeof(*ks->slots));
    OPENSSL_cleanse(ks->master, sizeof(ks->master));
    free(ks->slots);
    free(ks->index);
    free(ks->path);
    free(ks->master_path);
    free(ks);
}

int keystore_lock(const char *path, err_t *err)
{
    char lp[PATH_MAX];
    if ((size_t)snprintf(lp, sizeof(lp), "%s.lock", path) >= sizeof(lp))
        return err_set(err, -ENAMETOOLONG, "key store lock %s.lock: path too long", path);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, -errno, "key store lock %s: %s", lp, strerror(errno));
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return err_set(err, -e, "key store lock %s: %s", lp, strerror(e));
        }
    }
    return fd;
}

void keystore_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}
