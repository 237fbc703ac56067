/* snapshot.c - see snapshot.h. */
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "crc32c.h"
#include "fsutil.h"

enum { SNAP_BUF = 1 << 16 };

static void snap_path(char *out, size_t n, const char *dir, uint64_t seq, const char *suffix)
{
    snprintf(out, n, "%s/snapshot-%020" PRIu64 ".bs%s", dir, seq, suffix);
}

/* ---------------------------------------------------------------- writing */

typedef struct out {
    int fd;
    uint8_t buf[SNAP_BUF];
    size_t n;
    uint64_t bytes;
    uint32_t crc;
} out_t;

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int out_flush(out_t *o)
{
    int rc = write_all(o->fd, o->buf, o->n);
    o->n = 0;
    return rc;
}

static int out_write(void *ctx, const void *p, size_t n)
{
    out_t *o = ctx;
    o->crc = crc32c(o->crc, p, n);
    o->bytes += n;
    const uint8_t *b = p;
    while (n > 0) {
        size_t k = SNAP_BUF - o->n < n ? SNAP_BUF - o->n : n;
        memcpy(o->buf + o->n, b, k);
        o->n += k;
        b += k;
        n -= k;
        if (o->n == SNAP_BUF) {
            int rc = out_flush(o);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int snapshot_write(const char *dir, const matcher_t *m, uint64_t seq, int gate_fd, err_t *err)
{
    int rc = fs_mkdir_p(dir);
    if (rc < 0)
        return err_set(err, rc, "snapshot directory %s: %s", dir, strerror(-rc));
    char tmp[600], final[600];
    snap_path(tmp, sizeof(tmp), dir, seq, ".tmp");
    snap_path(final, sizeof(final), dir, seq, "");
    out_t *o = malloc(sizeof(*o));
    if (o == NULL)
        return err_set(err, -ENOMEM, "out of memory for the snapshot buffer");
    o->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (o->fd < 0) {
        rc = -errno;
        free(o);
        return err_set(err, rc, "snapshot %s: %s", tmp, strerror(-rc));
    }
    o->n = 0;
    o->bytes = 0;
    o->crc = 0;
    snapshot_header_t h = {0};
    rc = write_all(o->fd, &h, sizeof(h)); /* the real one goes in last */
    if (rc == 0)
        rc = matcher_save(m, out_write, o);
    if (rc == 0)
        rc = out_flush(o);
    if (rc == 0) {
        memcpy(h.magic, SNAPSHOT_MAGIC, sizeof(h.magic));
        h.version = SNAPSHOT_VERSION;
        h.header_size = SNAPSHOT_HEADER_SIZE;
        h.seq = seq;
        h.created_unix_ns = clock_realtime_ns();
        h.body_bytes = o->bytes;
        h.digest = matcher_digest(m);
        h.body_crc = o->crc;
        params_make(&h.params, matcher_config(m));
        h.header_crc = crc32c(0, &h, offsetof(snapshot_header_t, header_crc));
        if (pwrite(o->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
            rc = errno ? -errno : -EIO;
    }
    if (rc == 0 && fsync(o->fd) < 0)
        rc = -errno;
    if (close(o->fd) < 0 && rc == 0)
        rc = -errno;
    free(o);
    if (rc == 0 && gate_fd >= 0) {
        char go;
        ssize_t n;
        while ((n = read(gate_fd, &go, 1)) < 0 && errno == EINTR)
            ;
        if (n != 1) {
            unlink(tmp);
            return err_set(err, -ECANCELED, "snapshot %s: discarded, the journal did not reach seq %" PRIu64
                           " before the engine stopped", final, seq);
        }
    }
    if (rc == 0 && rename(tmp, final) < 0)
        rc = -errno;
    if (rc == 0)
        rc = fs_fsync_dir(dir);
    if (rc < 0) {
        unlink(tmp);
        return err_set(err, rc, "snapshot %s: %s", final, strerror(-rc));
    }
    return 0;
}

/* ---------------------------------------------------------------- listing */

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The seq a directory entry's name stands for: 1 and *seq set when it is a
 * snapshot's final name (not a temporary one), else 0. */
static int snap_name_seq(const char *s, uint64_t *seq)
{
    if (strncmp(s, "snapshot-", 9) != 0 || strlen(s) != 9 + 20 + 3 || strcmp(s + 29, ".bs") != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 9; i < 29; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *seq = v;
    return 1;
}

int snapshot_list(const char *dir, uint64_t *seqs, int max)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max)
        n += snap_name_seq(e->d_name, &seqs[n]);
    closedir(d);
    qsort(seqs, (size_t)n, sizeof(*seqs), cmp_desc);
    return n;
}

uint64_t snapshot_oldest(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    uint64_t oldest = 0, v;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (snap_name_seq(e->d_name, &v) && v > 0 && (oldest == 0 || v < oldest))
            oldest = v;
    closedir(d);
    return oldest;
}

int snapshot_prune(const char *dir, int keep)
{
    static uint64_t seqs[SNAPSHOT_LIST_MAX];
    int n = snapshot_list(dir, seqs, SNAPSHOT_LIST_MAX), gone = 0;
    for (int i = keep; i < n; i++) {
        char p[600];
        snap_path(p, sizeof(p), dir, seqs[i], "");
        gone += unlink(p) == 0;
    }
    return gone;
}

/* ---------------------------------------------------------------- loading */

typedef struct in {
    int fd;
    uint8_t buf[SNAP_BUF];
    size_t pos, len;
    uint64_t left;          /* body bytes not yet handed out */
    uint32_t crc;
} in_t;

static int in_read(void *ctx, void *p, size_t n)
{
    in_t *i = ctx;
    if (n > i->left)
        return -ENODATA;
    uint8_t *b = p;
    size_t want = n;
    while (n > 0) {
        if (i->pos == i->len) {
            ssize_t r = read(i->fd, i->buf, SNAP_BUF);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return r < 0 ? -errno : -ENODATA;
            i->pos = 0;
            i->len = (size_t)r;
        }
        size_t k = i->len - i->pos < n ? i->len - i->pos : n;
        memcpy(b, i->buf + i->pos, k);
        i->pos += k;
        b += k;
        n -= k;
    }
    i->left -= want;
    i->crc = crc32c(i->crc, p, want);
    return 0;
}

/* Checks the header of the snapshot of seq at path (st_size bytes long). */
static int header_check(const snapshot_header_t *h, const char *path, uint64_t seq, uint64_t size, err_t *err)
{
    if (memcmp(h->magic, SNAPSHOT_MAGIC, sizeof(h->magic)) != 0)
        return err_set(err, -EBADMSG, "snapshot %s: bad magic", path);
    if (h->version != SNAPSHOT_VERSION)
        return err_set(err, -EPROTONOSUPPORT, "snapshot %s is of snapshot format %" PRIu32 "; this build reads "
                       "format %d only: load it with the bourse that wrote it", path, h->version, SNAPSHOT_VERSION);
    if (h->header_size != SNAPSHOT_HEADER_SIZE ||
        h->header_crc != crc32c(0, h, offsetof(snapshot_header_t, header_crc)))
        return err_set(err, -EBADMSG, "snapshot %s: bad header (size or checksum)", path);
    if (h->seq != seq)
        return err_set(err, -EBADMSG, "snapshot %s: header says seq %" PRIu64, path, h->seq);
    if (size != SNAPSHOT_HEADER_SIZE + h->body_bytes)
        return err_set(err, -EBADMSG, "snapshot %s: %" PRIu64 " bytes, its header says %" PRIu64, path, size,
                       SNAPSHOT_HEADER_SIZE + h->body_bytes);
    char what[640];
    snprintf(what, sizeof(what), "snapshot %s", path);
    return params_check(&h->params, what, err);
}

int snapshot_load(const char *dir, uint64_t seq, matcher_t **out, matcher_sink_fn sink, void *ctx, err_t *err)
{
    *out = NULL;
    char path[600];
    snap_path(path, sizeof(path), dir, seq, "");
    in_t *in = malloc(sizeof(*in));
    if (in == NULL)
        return err_set(err, -ENOMEM, "out of memory for the snapshot buffer");
    int rc = 0;
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) {
        rc = err_set(err, -errno, "snapshot %s: %s", path, strerror(errno));
        free(in);
        return rc;
    }
    snapshot_header_t h;
    struct stat st;
    matcher_t *m = NULL;
    if (fstat(in->fd, &st) < 0 || pread(in->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
        /* Only its first words may be there: a file of another version can
         * be shorter than this header. */
        ssize_t got = pread(in->fd, &h, sizeof(h), 0);
        if (got >= (ssize_t)offsetof(snapshot_header_t, header_size) &&
            memcmp(h.magic, SNAPSHOT_MAGIC, sizeof(h.magic)) == 0 && h.version != SNAPSHOT_VERSION)
            rc = header_check(&h, path, seq, 0, err);
        else
            rc = err_set(err, -EBADMSG, "snapshot %s: shorter than its header", path);
    } else {
        rc = header_check(&h, path, seq, (uint64_t)st.st_size, err);
    }
    if (rc == 0 && lseek(in->fd, SNAPSHOT_HEADER_SIZE, SEEK_SET) < 0)
        rc = err_set(err, -errno, "snapshot %s: %s", path, strerror(errno));
    if (rc == 0) {
        err_t why = {0};
        rc = matcher_create(&m, &h.params.matcher, sink, ctx, &why);
        if (rc < 0)
            rc = err_set(err, rc, "snapshot %s: %s", path, why.msg);
    }
    if (rc == 0) {
        in->pos = in->len = 0;
        in->left = h.body_bytes;
        in->crc = 0;
        err_t why = {0};
        rc = matcher_load(m, in_read, in, &why);
        if (rc == 0 && (in->left != 0 || in->crc != h.body_crc))
            rc = err_set(err, -EBADMSG, "snapshot %s: body checksum mismatch", path);
        else if (rc == 0 && matcher_digest(m) != h.digest)
            rc = err_set(err, -EBADMSG, "snapshot %s: the loaded state's digest differs from the saved one", path);
        else if (rc < 0)
            rc = err_set(err, -EBADMSG, "snapshot %s: %s", path, why.msg);
    }
    close(in->fd);
    free(in);
    if (rc < 0) {
        matcher_destroy(m);
        return rc;
    }
    *out = m;
    return 0;
}
