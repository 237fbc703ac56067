/* journal_scan.c - the journal's reader side: journal_scan and
 * journal_truncate_tail. See journal.h.
 *
 * Every length read from a file is checked against the bytes the file holds
 * before it is used, and every byte goes through the scan buffer, so no input
 * makes the scan read outside what it read from disk.
 *
 * A problem in the last file is a torn tail, not a corruption, when it looks
 * like a write that a crash cut short: the file ends inside a record, or
 * everything from the bad record to the end is zeros (blocks the file system
 * allocated but the data never reached), or the bad record is the last in the
 * file, carries the seq that was due, and only its CRC fails (a frame whose
 * pages were written in part). Those records were never reported durable. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_int.h"

enum { SCAN_BUF_BYTES = 1 << 20 };

_Static_assert((int)SCAN_BUF_BYTES >= (int)JOURNAL_FRAME_MAX && (int)SCAN_BUF_BYTES >= (int)JOURNAL_HEADER_SIZE,
               "a frame fits in the scan buffer");

static const char *const problem_names[] = {
    "ok", "torn tail", "corrupt record", "seq gap", "missing file", "bad header", "other journal format",
};

const char *journal_problem_name(journal_problem_t p)
{
    return (unsigned)p <= JOURNAL_OTHER_VERSION ? problem_names[p] : "?";
}

/* A window onto one file, refilled with pread. */
typedef struct reader {
    int fd;
    uint64_t size;       /* as fstat said when the file was opened */
    uint8_t *buf;
    uint64_t cap;        /* bytes of buf: min(SCAN_BUF_BYTES, the largest file so far) */
    uint64_t base;       /* file offset of buf[0] */
    uint64_t len;        /* bytes valid in buf */
} reader_t;

/* n (<= cap) bytes at off, or NULL when the file does not hold them (callers
 * check off + n <= size first; NULL then means a read error or a file that
 * shrank under us). */
static const uint8_t *rd_get(reader_t *r, uint64_t off, uint64_t n)
{
    if (off >= r->base && off + n <= r->base + r->len)
        return r->buf + (off - r->base);
    if (n > r->cap || off > r->size || n > r->size - off)
        return NULL;
    uint64_t want = r->size - off < r->cap ? r->size - off : r->cap;
    uint64_t got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (uint64_t)k;
    }
    r->base = off;
    r->len = got;
    return got >= n ? r->buf : NULL;
}

/* 1 when every byte from off to the end of the file is zero, 0 when one is
 * not, -EIO when the file cannot be read. */
static int rd_zeros_from(reader_t *r, uint64_t off)
{
    while (off < r->size) {
        uint64_t n = r->size - off < r->cap ? r->size - off : r->cap;
        const uint8_t *p = rd_get(r, off, n);
        if (p == NULL)
            return -EIO;
        for (uint64_t i = 0; i < n; i++)
            if (p[i] != 0)
                return 0;
        off += n;
    }
    return 1;
}

/* The state of one scan. */
typedef struct scan {
    journal_scan_t *res;
    err_t *err;
    reader_t rd;
} scan_t;

__attribute__((format(printf, 4, 5))) static int report(scan_t *s, journal_problem_t p, uint64_t off,
                                                        const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    s->res->problem = p;
    s->res->offset = off;
    return err_set(s->err, -EBADMSG, "journal %s/%s: %s at byte %" PRIu64 ": %s", s->res->dir, s->res->file,
                   journal_problem_name(p), off, what);
}

static int io_error(scan_t *s, uint64_t off)
{
    return err_set(s->err, -EIO, "journal %s/%s: cannot read at byte %" PRIu64 " (the file changed or the disk "
                   "failed)", s->res->dir, s->res->file, off);
}

/* A tear or a corruption at off in the current file? See the top of the
 * file: torn_shape says the record itself looks cut short; zeros to the end
 * of the last file are a tear as well. */
__attribute__((format(printf, 5, 6))) static int tail_or_corrupt(scan_t *s, bool last, uint64_t off,
                                                                 bool torn_shape, const char *fmt, ...)
{
    if (last && !torn_shape) {
        int z = rd_zeros_from(&s->rd, off);
        if (z < 0)
            return io_error(s, off);
        torn_shape = z == 1;
    }
    char what[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return report(s, last && torn_shape ? JOURNAL_TORN_TAIL : JOURNAL_CORRUPT_RECORD, off, "%s", what);
}

/* Checks the records of the current file from after its header, delivering
 * those in range. *expected is the seq due next; on return, the one after the
 * last valid record. Returns 0 at a clean end of file, -EBADMSG after a
 * report, or fn's non-zero return. */
static int scan_records(scan_t *s, bool last, uint64_t *expected, uint64_t from, uint64_t until,
                        journal_record_fn fn, void *ctx)
{
    journal_scan_t *res = s->res;
    reader_t *rd = &s->rd;
    uint64_t off = JOURNAL_HEADER_SIZE;
    while (off < rd->size) {
        uint64_t left = rd->size - off;
        if (left < JOURNAL_REC_HEADER_SIZE)
            return tail_or_corrupt(s, last, off, true, "%" PRIu64 " bytes left: less than a record header", left);
        const uint8_t *p = rd_get(rd, off, JOURNAL_REC_HEADER_SIZE);
        if (p == NULL)
            return io_error(s, off);
        journal_rec_header_t h;
        memcpy(&h, p, sizeof(h));
        if (h.len > JOURNAL_PAYLOAD_MAX)
            return tail_or_corrupt(s, last, off, false, "impossible length %" PRIu32 " (at most %d)", h.len,
                                   JOURNAL_PAYLOAD_MAX);
        uint32_t fsz = journal_frame_size(h.len);
        if (fsz > left)
            return tail_or_corrupt(s, last, off, true,
                                   "a %" PRIu32 "-byte record with only %" PRIu64 " bytes left in the file", fsz,
                                   left);
        p = rd_get(rd, off, fsz);
        if (p == NULL)
            return io_error(s, off);
        uint32_t crc = journal_frame_crc(p, fsz);
        if (crc != h.crc)
            return tail_or_corrupt(s, last, off, off + fsz == rd->size && h.seq == *expected,
                                   "crc mismatch (seq %" PRIu64 ", length %" PRIu32 ")", h.seq, h.len);
        if (h.seq != *expected)
            return report(s, JOURNAL_SEQ_GAP, off, "seq %" PRIu64 " where %" PRIu64 " was due", h.seq, *expected);
        if (h.seq == UINT64_MAX) /* the seq after it would wrap to 0 */
            return report(s, JOURNAL_SEQ_GAP, off, "seq %" PRIu64 " is out of range", h.seq);
        res->valid++;
        if (res->first_seq == 0)
            res->first_seq = h.seq;
        res->last_seq = h.seq;
        *expected = h.seq + 1;
        off += fsz;
        res->offset = off;
        if (h.seq >= from && h.seq <= until) {
            res->delivered++;
            if (fn != NULL) {
                int rc = fn(ctx, h.seq, p + JOURNAL_REC_HEADER_SIZE, h.len);
                if (rc != 0)
                    return rc;
            }
        }
    }
    return 0;
}

/* Opens the file named for name_seq and checks its header. On success rd is
 * open on it, *first is its first seq and params its header's params. */
static int scan_open_file(scan_t *s, int dirfd, uint64_t name_seq, bool last, uint64_t *first,
                          uint8_t params[JOURNAL_PARAMS_SIZE])
{
    journal_scan_t *res = s->res;
    reader_t *rd = &s->rd;
    journal_file_name(res->file, name_seq);
    res->offset = 0;
    res->in_last_file = last;
    /* O_NONBLOCK: a FIFO under a journal name must not hang the scan. */
    rd->fd = openat(dirfd, res->file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (rd->fd < 0)
        return err_set(s->err, -errno, "journal %s/%s: %s", res->dir, res->file, strerror(errno));
    struct stat st;
    if (fstat(rd->fd, &st) < 0)
        return err_set(s->err, -errno, "journal %s/%s: %s", res->dir, res->file, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return report(s, JOURNAL_BAD_HEADER, 0, "not a regular file");
    rd->size = (uint64_t)st.st_size;
    rd->base = 0;
    rd->len = 0;
    /* A buffer no bigger than the file: most are small (fresh files, tests, fuzzing). */
    uint64_t want = rd->size < SCAN_BUF_BYTES ? rd->size : SCAN_BUF_BYTES;
    if (want < JOURNAL_FRAME_MAX)
        want = JOURNAL_FRAME_MAX;
    if (want > rd->cap) {
        free(rd->buf);
        rd->cap = 0;
        rd->buf = malloc(want);
        if (rd->buf == NULL)
            return err_set(s->err, -ENOMEM, "journal scan: out of memory");
        rd->cap = want;
    }
    /* magic and version first, where every version has them: a file of
     * another format is that, whatever its length. */
    enum { VERSION_END = offsetof(journal_file_header_t, version) + sizeof(uint32_t) };
    journal_file_header_t h;
    memset(&h, 0, sizeof(h));
    uint64_t have = rd->size < JOURNAL_HEADER_SIZE ? rd->size : JOURNAL_HEADER_SIZE;
    if (have >= VERSION_END) {
        const uint8_t *p = rd_get(rd, 0, have);
        if (p == NULL)
            return io_error(s, 0);
        memcpy(&h, p, have);
        if (memcmp(h.magic, JOURNAL_MAGIC, sizeof(h.magic)) == 0 && h.version != JOURNAL_VERSION)
            return report(s, JOURNAL_OTHER_VERSION, 0, "written in journal format %" PRIu32 "; this build reads "
                          "format %d only: replay it with the bourse that wrote it", h.version, JOURNAL_VERSION);
    }
    if (rd->size < JOURNAL_HEADER_SIZE) {
        if (last)
            return report(s, JOURNAL_TORN_TAIL, 0, "%" PRIu64 " bytes: shorter than a file header", rd->size);
        return report(s, JOURNAL_BAD_HEADER, 0, "%" PRIu64 " bytes: shorter than a file header", rd->size);
    }
    int other_version;
    const char *why = journal_header_problem(&h, &other_version);
    if (why != NULL) {
        if (last) {
            int z = rd_zeros_from(rd, 0);
            if (z < 0)
                return io_error(s, 0);
            if (z == 1)
                return report(s, JOURNAL_TORN_TAIL, 0, "the file is all zeros");
        }
        return report(s, JOURNAL_BAD_HEADER, 0, "%s", why);
    }
    if (h.first_seq != name_seq)
        return report(s, JOURNAL_BAD_HEADER, 0, "the header says first seq %" PRIu64 ", the name another",
                      h.first_seq);
    *first = h.first_seq;
    memcpy(params, h.params, JOURNAL_PARAMS_SIZE);
    res->offset = JOURNAL_HEADER_SIZE;
    return 0;
}

int journal_scan(const char *dir, uint64_t from_seq, uint64_t until_seq, journal_record_fn fn, void *ctx,
                 journal_scan_t *res, err_t *err)
{
    return journal_scan_files(dir, from_seq, until_seq, fn, NULL, ctx, res, err);
}

int journal_scan_files(const char *dir, uint64_t from_seq, uint64_t until_seq, journal_record_fn fn,
                       journal_file_fn file_fn, void *ctx, journal_scan_t *res, err_t *err)
{
    memset(res, 0, sizeof(*res));
    res->problem = JOURNAL_OK;
    size_t dlen = strlen(dir);
    if (dlen >= sizeof(res->dir))
        return err_set(err, -ENAMETOOLONG, "journal dir %.64s... is too long", dir);
    memcpy(res->dir, dir, dlen + 1);
    int dirfd;
    uint64_t *seqs;
    size_t n;
    int rc = journal_open_list(dir, &dirfd, &seqs, &n, err);
    if (rc < 0)
        return rc;
    res->files = (uint32_t)n;
    res->start_seq = n > 0 ? seqs[0] : 0;
    scan_t s = {.res = res, .err = err, .rd = {.fd = -1}};
    uint64_t expected = 0; /* the seq due next; 0 until the first file sets it */
    if (n == 0)
        goto out;
    /* Files whose successor starts at or before from_seq hold nothing in range. */
    size_t start = 0;
    if (from_seq > 0)
        while (start + 1 < n && seqs[start + 1] <= from_seq)
            start++;
    if (from_seq > 0 && seqs[start] > from_seq) {
        journal_file_name(res->file, seqs[start]);
        res->in_last_file = start == n - 1;
        rc = report(&s, JOURNAL_MISSING_FILE, 0, "the journal starts at seq %" PRIu64 ", after from_seq %" PRIu64,
                    seqs[start], from_seq);
        goto out;
    }
    for (size_t i = start; i < n; i++) {
        bool last = i == n - 1;
        uint64_t first = 0;
        uint8_t params[JOURNAL_PARAMS_SIZE];
        rc = scan_open_file(&s, dirfd, seqs[i], last, &first, params);
        if (rc == 0 && expected != 0 && first != expected) {
            rc = report(&s, first > expected ? JOURNAL_MISSING_FILE : JOURNAL_SEQ_GAP, 0,
                        "the file starts at seq %" PRIu64 " where %" PRIu64 " was due%s", first, expected,
                        first > expected ? ": a file is missing" : ": it overlaps the file before");
        }
        if (rc == 0 && file_fn != NULL)
            rc = file_fn(ctx, first, params);
        if (rc == 0) {
            expected = first;
            rc = scan_records(&s, last, &expected, from_seq, until_seq, fn, ctx);
        }
        if (s.rd.fd >= 0)
            close(s.rd.fd);
        s.rd.fd = -1;
        if (rc != 0)
            break;
    }
out:
    res->next_seq = expected;
    free(s.rd.buf);
    free(seqs);
    close(dirfd);
    return rc;
}

int journal_truncate_tail(const journal_scan_t *res, err_t *err)
{
    if (res->problem == JOURNAL_OK)
        return 0;
    if (res->problem != JOURNAL_TORN_TAIL || !res->in_last_file)
        return err_set(err, -EBADMSG, "journal %s/%s: %s at byte %" PRIu64 " is not a torn tail: not cutting",
                       res->dir, res->file, journal_problem_name(res->problem), res->offset);
    int dirfd = open(res->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return err_set(err, -errno, "journal dir %s: %s", res->dir, strerror(errno));
    int rc = 0;
    /* The writer's lock: never cut a journal someone is appending to. */
    if (flock(dirfd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? err_set(err, -EBUSY, "journal dir %s is in use by a writer", res->dir)
                                  : err_set(err, -errno, "journal dir %s: flock: %s", res->dir, strerror(errno));
        goto out;
    }
    /* The scan may be stale: the file must still be the last, and still
     * hold at least the valid part. */
    uint64_t *seqs;
    size_t n;
    rc = journal_list(dirfd, &seqs, &n);
    if (rc < 0) {
        err_set(err, rc, "journal dir %s: listing: %s", res->dir, strerror(-rc));
        goto out;
    }
    uint64_t last = n ? seqs[n - 1] : 0;
    free(seqs);
    if (last == 0 || last != journal_file_seq(res->file)) {
        rc = err_set(err, -ESTALE, "journal %s/%s is no longer the last file: scan again", res->dir, res->file);
        goto out;
    }
    int fd = openat(dirfd, res->file, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = err_set(err, -errno, "journal %s/%s: %s", res->dir, res->file, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    if ((uint64_t)st.st_size < res->offset) {
        close(fd);
        rc = err_set(err, -ESTALE, "journal %s/%s is shorter than the scan saw: scan again", res->dir, res->file);
        goto out;
    }
    if (res->offset < JOURNAL_HEADER_SIZE) {
        /* Torn inside its header: the file never held a record. */
        close(fd);
        if (unlinkat(dirfd, res->file, 0) < 0) {
            rc = err_set(err, -errno, "journal %s/%s: unlink: %s", res->dir, res->file, strerror(errno));
            goto out;
        }
    } else {
        if (ftruncate(fd, (off_t)res->offset) < 0 || fsync(fd) < 0) {
            rc = err_set(err, -errno, "journal %s/%s: truncate to %" PRIu64 ": %s", res->dir, res->file,
                         res->offset, strerror(errno));
            close(fd);
            goto out;
        }
        close(fd);
    }
    if (fsync(dirfd) < 0)
        rc = err_set(err, -errno, "journal dir %s: fsync: %s", res->dir, strerror(errno));
out:
    close(dirfd);
    return rc;
}
