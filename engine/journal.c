/* journal.c - the journal's writer side: the producer's byte buffer and the
 * writer thread (group commit through io_uring). See journal.h.
 *
 * The buffer is an SPSC ring of bytes. head (bytes published) is written only
 * by the producer, tail (bytes handed to the kernel) only by the writer; both
 * are free-running counts on their own cache-line pairs. Frames are multiples
 * of 8 bytes and the capacity a power of two >= 4096, so every frame starts
 * 8-aligned and its len and crc fields never straddle the wrap point (its seq
 * and payload may). The producer leaves the CRC field 0; the writer fills it
 * in while it walks the batch, which keeps the checksum off the hot path. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>

#include "clock.h"
#include "journal_int.h"
#include "layout.h"

enum {
    URING_ENTRIES = 8,        /* at most a write and its fsync are in flight */
    OP_WRITE = 1,
    OP_FSYNC = 2,
    ZERO_WRITES_MAX = 3,      /* a write that moves nothing this often is an error */
};

struct journal {
    /* Set by journal_open, then only read. */
    uint8_t *buf;
    uint64_t cap;
    uint64_t mask;
    journal_config_t cfg;
    int dirfd;                /* holds the flock that keeps out a second writer */
    pthread_t thread;

    /* Producer: head and its private state. */
    alignas(SHM_PAIR) _Atomic uint64_t head;
    uint64_t p_pos;           /* == head, without the atomic load */
    uint64_t p_limit;         /* cached tail + cap: p_pos may grow up to this */
    uint64_t p_next_seq;
    uint64_t p_open_seq;      /* next_seq at open: no append yet while p_next_seq is this */
    _Atomic uint64_t full;    /* counter: written by the producer only */

    /* Writer: tail. */
    alignas(SHM_PAIR) _Atomic uint64_t tail;

    /* Writer's status, read by anyone; written once a batch. */
    alignas(SHM_PAIR) _Atomic uint64_t written_seq;
    _Atomic uint64_t durable_seq;
    _Atomic uint64_t sync_served;  /* highest journal_sync request fully synced */
    _Atomic int error;             /* 0, or what stopped the writer */
    _Atomic uint64_t n_batches, n_fsyncs, n_bytes, n_files; /* counters: writer only */
    err_t error_msg;               /* written before error is set, then never */

    /* Control, written by journal_sync and journal_close. */
    alignas(SHM_PAIR) _Atomic uint64_t sync_req;
    _Atomic int stop;

    /* Writer thread private. */
    alignas(SHM_PAIR) struct io_uring ring;
    int fd;                   /* current file */
    char file[JOURNAL_NAME_MAX];
    uint64_t file_size;
    uint64_t file_records;
    uint64_t w_tail;          /* == tail */
    uint64_t w_written;       /* last seq written */
    uint64_t w_synced;        /* last seq covered by an fdatasync */
    uint64_t last_sync_ns;    /* monotonic time of the last fdatasync */
};

/* Adds to a counter that only one thread writes: a load and a store, no
 * locked instruction. Relaxed: nothing is published through counters. */
static inline void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* ------------------------------------------------------------------ config */

void journal_config_defaults(journal_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->dir, sizeof(cfg->dir), "journal");
    cfg->buffer_bytes = 8u << 20;
    cfg->roll_bytes = UINT64_C(64) << 20;
    cfg->fsync = JOURNAL_FSYNC_BATCH;
    cfg->fsync_interval_ms = 10;
    cfg->idle = IDLE_BACKOFF;
    cfg->idle_sleep_max_us = 100;
    cfg->cpu = -1;
}

int journal_config_check(const journal_config_t *cfg, err_t *err)
{
    size_t dlen = strnlen(cfg->dir, sizeof(cfg->dir));
    if (dlen == 0 || dlen == sizeof(cfg->dir))
        return err_set(err, -EINVAL, "journal dir is empty or longer than %d bytes", JOURNAL_DIR_MAX - 1);
    uint32_t b = cfg->buffer_bytes;
    if (b < JOURNAL_BUFFER_MIN || b > JOURNAL_BUFFER_MAX || (b & (b - 1)) != 0)
        return err_set(err, -EINVAL, "journal buffer_bytes %" PRIu32 " is not a power of two from %d to %d", b,
                       JOURNAL_BUFFER_MIN, JOURNAL_BUFFER_MAX);
    if (cfg->roll_bytes < JOURNAL_ROLL_MIN)
        return err_set(err, -EINVAL, "journal roll_bytes %" PRIu64 " is below %d", cfg->roll_bytes,
                       JOURNAL_ROLL_MIN);
    if ((unsigned)cfg->fsync > JOURNAL_FSYNC_NEVER)
        return err_set(err, -EINVAL, "journal fsync policy %d is unknown", (int)cfg->fsync);
    if (cfg->fsync_interval_ms < 1 || cfg->fsync_interval_ms > 3600000)
        return err_set(err, -EINVAL, "journal fsync_interval_ms %" PRIu32 " is not in 1..3600000",
                       cfg->fsync_interval_ms);
    if ((unsigned)cfg->idle > IDLE_BACKOFF)
        return err_set(err, -EINVAL, "journal idle kind %d is unknown", (int)cfg->idle);
    if (cfg->idle_sleep_max_us < 1 || cfg->idle_sleep_max_us > 1000000)
        return err_set(err, -EINVAL, "journal idle_sleep_max_us %" PRIu32 " is not in 1..1000000",
                       cfg->idle_sleep_max_us);
    if (cfg->cpu < -1 || cfg->cpu >= CPU_SETSIZE)
        return err_set(err, -EINVAL, "journal cpu %" PRId32 " does not exist", cfg->cpu);
    return 0;
}

static const char *const fsync_names[] = {"batch", "interval", "never"};

int journal_fsync_parse(const char *s, journal_fsync_t *out)
{
    for (unsigned i = 0; i < sizeof(fsync_names) / sizeof(fsync_names[0]); i++) {
        if (strcmp(s, fsync_names[i]) == 0) {
            *out = (journal_fsync_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *journal_fsync_name(journal_fsync_t f)
{
    return (unsigned)f <= JOURNAL_FSYNC_NEVER ? fsync_names[f] : "?";
}

/* ---------------------------------------------------------------- producer */

int journal_append(journal_t *j, const void *rec, uint32_t len, uint64_t seq)
{
    if (len > JOURNAL_PAYLOAD_MAX || seq != j->p_next_seq || seq == UINT64_MAX)
        return -EINVAL;
    uint32_t fsz = journal_frame_size(len);
    if (j->p_limit - j->p_pos < fsz) {
        int e = atomic_load_explicit(&j->error, memory_order_relaxed);
        if (e != 0)
            return e;
        /* acquire pairs with the writer's release store of tail in
         * write_batch(): the kernel has copied the bytes below tail, so they
         * may be overwritten. */
        j->p_limit = atomic_load_explicit(&j->tail, memory_order_acquire) + j->cap;
        if (j->p_limit - j->p_pos < fsz) {
            count(&j->full, 1);
            return -EAGAIN;
        }
    }
    uint64_t off = j->p_pos & j->mask;
    journal_rec_header_t h = {.len = len, .crc = 0, .seq = seq};
    if (off + fsz <= j->cap) {
        uint8_t *p = j->buf + off;
        if (fsz > JOURNAL_REC_HEADER_SIZE) /* the padding: zeros, then the payload over them */
            memset(p + fsz - 8, 0, 8);
        memcpy(p, &h, sizeof(h));
        memcpy(p + sizeof(h), rec, len);
    } else {
        /* The frame wraps: rare, so build it whole and copy it in two parts. */
        uint8_t frame[JOURNAL_FRAME_MAX];
        memset(frame + fsz - 8, 0, 8);
        memcpy(frame, &h, sizeof(h));
        memcpy(frame + sizeof(h), rec, len);
        uint64_t first = j->cap - off;
        memcpy(j->buf + off, frame, first);
        memcpy(j->buf, frame + first, fsz - first);
    }
    j->p_pos += fsz;
    j->p_next_seq = seq + 1;
    /* release pairs with the writer's acquire load of head in writer_main():
     * the frame's bytes are visible before the count that covers them. */
    atomic_store_explicit(&j->head, j->p_pos, memory_order_release);
    return 0;
}

/* ------------------------------------------------------------ status reads */

int journal_set_params(journal_t *j, const uint8_t params[JOURNAL_PARAMS_SIZE])
{
    /* The writer reads cfg.params only when it rolls to a new file, which
     * takes records appended after this store: their release in
     * journal_append orders it before the writer's acquire of head. */
    if (j->p_next_seq != j->p_open_seq)
        return -EBUSY;
    memcpy(j->cfg.params, params, JOURNAL_PARAMS_SIZE);
    return 0;
}

uint64_t journal_written_seq(const journal_t *j)
{
    /* acquire pairs with the release store in publish(). */
    return atomic_load_explicit(&j->written_seq, memory_order_acquire);
}

uint64_t journal_durable_seq(const journal_t *j)
{
    /* acquire pairs with the release store in publish(). */
    return atomic_load_explicit(&j->durable_seq, memory_order_acquire);
}

int journal_error(const journal_t *j, err_t *err)
{
    /* acquire pairs with the release store in writer_fail(): the message is
     * complete before the code says there is one. */
    int e = atomic_load_explicit(&j->error, memory_order_acquire);
    if (e != 0 && err != NULL)
        *err = j->error_msg;
    return e;
}

void journal_stats(const journal_t *j, journal_stats_t *out)
{
    out->batches = atomic_load_explicit(&j->n_batches, memory_order_relaxed);
    out->fsyncs = atomic_load_explicit(&j->n_fsyncs, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&j->n_bytes, memory_order_relaxed);
    out->files = atomic_load_explicit(&j->n_files, memory_order_relaxed);
    out->full = atomic_load_explicit(&j->full, memory_order_relaxed);
}

/* ------------------------------------------------------------ writer thread */

__attribute__((format(printf, 3, 4))) static int writer_fail(journal_t *j, int code, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    err_set(&j->error_msg, code, "journal %s/%s: %s: %s", j->cfg.dir, j->file, what, strerror(-code));
    /* release pairs with the acquire load in journal_error(). */
    atomic_store_explicit(&j->error, code, memory_order_release);
    return code;
}

/* Makes the writer's progress visible. written is stored first, so a reader
 * that loads durable and then written never sees durable > written. */
static void publish(journal_t *j)
{
    uint64_t durable = j->cfg.fsync == JOURNAL_FSYNC_NEVER ? j->w_written : j->w_synced;
    /* release pairs with the acquire loads in journal_written_seq() and
     * journal_durable_seq(). */
    atomic_store_explicit(&j->written_seq, j->w_written, memory_order_release);
    atomic_store_explicit(&j->durable_seq, durable, memory_order_release);
}

static void buf_copy_out(const journal_t *j, uint64_t pos, void *dst, uint32_t n)
{
    uint64_t off = pos & j->mask;
    uint64_t first = j->cap - off < n ? j->cap - off : n;
    memcpy(dst, j->buf + off, first);
    memcpy((uint8_t *)dst + first, j->buf, n - first);
}

/* The iovecs covering n buffered bytes from pos (two when they wrap). */
static int buf_iov(const journal_t *j, uint64_t pos, uint64_t n, struct iovec iov[2])
{
    uint64_t off = pos & j->mask;
    uint64_t first = j->cap - off < n ? j->cap - off : n;
    iov[0] = (struct iovec){.iov_base = j->buf + off, .iov_len = first};
    if (first == n)
        return 1;
    iov[1] = (struct iovec){.iov_base = j->buf, .iov_len = n - first};
    return 2;
}

static int uring_wait_one(journal_t *j, uint64_t *op, int *res)
{
    struct io_uring_cqe *cqe;
    int rc;
    do
        rc = io_uring_wait_cqe(&j->ring, &cqe);
    while (rc == -EINTR);
    if (rc < 0)
        return rc;
    *op = cqe->user_data;
    *res = cqe->res;
    io_uring_cqe_seen(&j->ring, cqe);
    return 0;
}

/* Writes n buffered bytes from pos at file offset file_off, retrying short
 * writes, then (when sync) fdatasyncs, the fsync linked behind the write so
 * that one submission does both. n == 0 with sync is a plain fdatasync.
 * Returns 0 or the error, recorded with writer_fail. */
static int uring_write(journal_t *j, uint64_t pos, uint64_t n, uint64_t file_off, bool sync)
{
    uint64_t done = 0;
    bool synced = false;
    int zero_writes = 0;
    while (done < n || (sync && !synced)) {
        struct iovec iov[2];
        unsigned nsqe = 0;
        struct io_uring_sqe *sqe;
        if (done < n) {
            int niov = buf_iov(j, pos + done, n - done, iov);
            sqe = io_uring_get_sqe(&j->ring);
            io_uring_prep_writev(sqe, j->fd, iov, (unsigned)niov, file_off + done);
            io_uring_sqe_set_data64(sqe, OP_WRITE);
            if (sync)
                sqe->flags |= IOSQE_IO_LINK; /* the fsync starts once the write is complete */
            nsqe++;
        }
        if (sync) {
            sqe = io_uring_get_sqe(&j->ring);
            io_uring_prep_fsync(sqe, j->fd, IORING_FSYNC_DATASYNC);
            io_uring_sqe_set_data64(sqe, OP_FSYNC);
            nsqe++;
        }
        int rc = io_uring_submit(&j->ring);
        if (rc != (int)nsqe)
            return writer_fail(j, rc < 0 ? rc : -EIO, "io_uring_submit");
        int write_res = 0, fsync_res = 0;
        for (unsigned i = 0; i < nsqe; i++) {
            uint64_t op;
            int res;
            rc = uring_wait_one(j, &op, &res);
            if (rc < 0)
                return writer_fail(j, rc, "io_uring_wait_cqe");
            if (op == OP_WRITE)
                write_res = res;
            else
                fsync_res = res;
        }
        if (nsqe == 2 || !sync) {
            /* A short write breaks the link: the fsync comes back -ECANCELED
             * and both go again for the rest. */
            if (write_res > 0) {
                done += (uint64_t)write_res;
                zero_writes = 0;
            } else if (write_res == 0) {
                if (++zero_writes >= ZERO_WRITES_MAX)
                    return writer_fail(j, -EIO, "write at byte %" PRIu64 " made no progress", file_off + done);
            } else if (write_res != -EINTR && write_res != -EAGAIN) {
                return writer_fail(j, write_res, "write of %" PRIu64 " bytes at byte %" PRIu64, n - done,
                                   file_off + done);
            }
        }
        if (sync) {
            if (fsync_res >= 0 && done == n) {
                synced = true;
                count(&j->n_fsyncs, 1);
            }
            else if (fsync_res < 0 && fsync_res != -ECANCELED && fsync_res != -EINTR)
                return writer_fail(j, fsync_res, "fdatasync");
        }
    }
    return 0;
}

/* fdatasyncs the current file if it holds unsynced records. */
static int sync_file(journal_t *j)
{
    if (j->w_synced == j->w_written)
        return 0;
    int rc = uring_write(j, 0, 0, 0, true);
    if (rc < 0)
        return rc;
    j->w_synced = j->w_written;
    j->last_sync_ns = clock_mono_ns();
    publish(j);
    return 0;
}

static int write_all(int fd, const void *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -EIO;
        p = (const uint8_t *)p + w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Creates the file whose first record will be first_seq, with its header,
 * and makes both the file and its directory entry durable. An existing file
 * of that name is replaced only when it holds no record. */
static int file_create(journal_t *j, uint64_t first_seq, err_t *err)
{
    char name[JOURNAL_NAME_MAX];
    journal_file_name(name, first_seq);
    int fd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        struct stat st;
        if (fstatat(j->dirfd, name, &st, 0) < 0)
            return err_set(err, -errno, "journal %s/%s: %s", j->cfg.dir, name, strerror(errno));
        if (!S_ISREG(st.st_mode) || st.st_size > JOURNAL_HEADER_SIZE)
            return err_set(err, -EEXIST,
                           "journal %s/%s already holds records: scan and truncate the journal, then open it "
                           "at the seq after its last record", j->cfg.dir, name);
        /* Created by a run that crashed before its first record: nothing to keep. */
        if (unlinkat(j->dirfd, name, 0) < 0)
            return err_set(err, -errno, "journal %s/%s: unlink: %s", j->cfg.dir, name, strerror(errno));
        fd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (fd < 0)
        return err_set(err, -errno, "journal %s/%s: create: %s", j->cfg.dir, name, strerror(errno));
    journal_file_header_t h;
    journal_header_build(&h, first_seq, clock_realtime_ns(), j->cfg.params);
    int rc = write_all(fd, &h, sizeof(h), 0);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    /* The directory entry must be durable too, or a crash can lose the file. */
    if (rc == 0 && fsync(j->dirfd) < 0)
        rc = -errno;
    if (rc < 0) {
        close(fd);
        return err_set(err, rc, "journal %s/%s: writing the header: %s", j->cfg.dir, name, strerror(-rc));
    }
    count(&j->n_files, 1);
    j->fd = fd;
    memcpy(j->file, name, sizeof(name));
    j->file_size = JOURNAL_HEADER_SIZE;
    j->file_records = 0;
    return 0;
}

/* Finishes the current file (durable, whatever the policy, so that a closed
 * file never needs another fsync) and starts the next one at first_seq. */
static int file_roll(journal_t *j, uint64_t first_seq)
{
    int rc = sync_file(j);
    if (rc < 0)
        return rc;
    close(j->fd);
    j->fd = -1;
    err_t why;
    rc = file_create(j, first_seq, &why);
    if (rc < 0) {
        j->error_msg = why;
        /* release pairs with the acquire load in journal_error(). */
        atomic_store_explicit(&j->error, rc, memory_order_release);
    }
    return rc;
}

/* Writes one batch: everything published up to head, or, when it would pass
 * roll_bytes, a new file's worth of whole records from it. */
static int write_batch(journal_t *j, uint64_t head)
{
    uint64_t avail = head - j->w_tail;
    if (avail > j->cap || (avail & 7) != 0)
        return writer_fail(j, -EPROTO, "buffer head %" PRIu64 " is inconsistent with tail %" PRIu64, head,
                           j->w_tail);
    if (j->file_records > 0 && j->file_size + avail > j->cfg.roll_bytes) {
        int rc = file_roll(j, j->w_written + 1);
        if (rc < 0)
            return rc;
    }
    /* roll_bytes >= JOURNAL_ROLL_MIN leaves room for a record in a fresh file,
     * and a file that holds one has file_size <= roll_bytes. */
    uint64_t room = j->cfg.roll_bytes - j->file_size;
    uint64_t pos = j->w_tail, n = 0;
    while (pos < head) {
        uint8_t *p = j->buf + (pos & j->mask);
        journal_rec_header_t h;
        memcpy(&h.len, p, 4); /* 8-aligned: len and crc never wrap */
        if (h.len > JOURNAL_PAYLOAD_MAX)
            return writer_fail(j, -EPROTO, "buffered record of length %" PRIu32, h.len);
        uint32_t fsz = journal_frame_size(h.len);
        if (pos - j->w_tail + fsz > room && pos != j->w_tail)
            break;
        uint32_t crc;
        uint64_t off = pos & j->mask;
        if (off + fsz <= j->cap) {
            crc = journal_frame_crc(p, fsz);
        } else {
            uint8_t frame[JOURNAL_FRAME_MAX];
            buf_copy_out(j, pos, frame, fsz);
            crc = journal_frame_crc(frame, fsz);
        }
        memcpy(p + 4, &crc, 4);
        pos += fsz;
        n++;
    }
    uint64_t bytes = pos - j->w_tail;
    uint64_t now = 0;
    bool sync = j->cfg.fsync == JOURNAL_FSYNC_BATCH;
    if (j->cfg.fsync == JOURNAL_FSYNC_INTERVAL) {
        now = clock_mono_ns();
        sync = now - j->last_sync_ns >= (uint64_t)j->cfg.fsync_interval_ms * 1000000u;
    }
    int rc = uring_write(j, j->w_tail, bytes, j->file_size, sync);
    if (rc < 0)
        return rc;
    count(&j->n_batches, 1);
    count(&j->n_bytes, bytes);
    j->file_size += bytes;
    j->file_records += n;
    j->w_written += n;
    j->w_tail = pos;
    /* release pairs with the producer's acquire load of tail in
     * journal_append(): our reads of these bytes (and the kernel's) are done
     * before the producer may reuse them. */
    atomic_store_explicit(&j->tail, pos, memory_order_release);
    if (sync) {
        j->w_synced = j->w_written;
        j->last_sync_ns = now ? now : clock_mono_ns();
    }
    publish(j);
    return 0;
}

static void *writer_main(void *arg)
{
    journal_t *j = arg;
    idle_t idle;
    idle_init(&idle, j->cfg.idle, (uint64_t)j->cfg.idle_sleep_max_us * 1000u);
    const uint64_t interval_ns = (uint64_t)j->cfg.fsync_interval_ms * 1000000u;
    for (;;) {
        /* stop and sync_req are loaded before head: whatever was appended
         * before the request is then below head. acquire pairs with the
         * release in journal_close() / journal_sync(). */
        int stop = atomic_load_explicit(&j->stop, memory_order_acquire);
        uint64_t req = atomic_load_explicit(&j->sync_req, memory_order_acquire);
        /* acquire pairs with the release store in journal_append(). */
        uint64_t head = atomic_load_explicit(&j->head, memory_order_acquire);
        if (head != j->w_tail) {
            if (write_batch(j, head) < 0)
                return NULL;
            idle_reset(&idle);
            continue;
        }
        bool served = req == atomic_load_explicit(&j->sync_served, memory_order_relaxed);
        bool due = j->cfg.fsync == JOURNAL_FSYNC_INTERVAL && j->w_synced != j->w_written &&
                   clock_mono_ns() - j->last_sync_ns >= interval_ns;
        if (stop || !served || due) {
            if (sync_file(j) < 0)
                return NULL;
            if (!served) /* release pairs with the acquire load in journal_sync(). */
                atomic_store_explicit(&j->sync_served, req, memory_order_release);
        }
        if (stop)
            return NULL;
        idle_wait(&idle);
    }
}

/* ------------------------------------------------------------- open, close */

static int mkdir_p(const char *dir, err_t *err)
{
    char path[JOURNAL_DIR_MAX];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return err_set(err, -errno, "journal dir %s: mkdir %s: %s", dir, path, strerror(errno));
        *p = c;
        if (c == '\0')
            return 0;
    }
}

/* The journal already in the directory must end cleanly, and not after
 * next_seq, so that the new file continues it: its last file is scanned. */
static int check_continuation(const journal_config_t *cfg, int dirfd, uint64_t next_seq, err_t *err)
{
    uint64_t *seqs;
    size_t n;
    int rc = journal_list(dirfd, &seqs, &n);
    if (rc < 0)
        return err_set(err, rc, "journal dir %s: listing: %s", cfg->dir, strerror(-rc));
    if (n == 0)
        return 0;
    uint64_t last_first = seqs[n - 1];
    free(seqs);
    journal_scan_t res;
    err_t why = {0};
    rc = journal_scan(cfg->dir, last_first, UINT64_MAX, NULL, NULL, &res, &why);
    if (rc == -EBADMSG)
        return err_set(err, rc, "%s (scan and truncate the journal before opening it)", why.msg);
    if (rc < 0)
        return err_set(err, rc, "%s", why.msg);
    uint64_t due = res.last_seq != 0 ? res.last_seq + 1 : last_first;
    if (next_seq < due)
        return err_set(err, -EEXIST, "the journal in %s already holds records up to seq %" PRIu64
                       ": next_seq %" PRIu64 " is behind it", cfg->dir, due - 1, next_seq);
    /* next_seq > due is allowed: the records between were lost before this
     * open (say a crash took a tail that was never synced, and a snapshot
     * covers them); a scan from before the gap reports it as a missing file. */
    return 0;
}

static void journal_free(journal_t *j)
{
    if (j->fd >= 0)
        close(j->fd);
    if (j->ring.ring_fd >= 0)
        io_uring_queue_exit(&j->ring);
    if (j->dirfd >= 0)
        close(j->dirfd); /* drops the flock */
    free(j->buf);
    free(j);
}

int journal_open(journal_t **out, const journal_config_t *cfg, uint64_t next_seq, err_t *err)
{
    *out = NULL;
    int rc = journal_config_check(cfg, err);
    if (rc < 0)
        return rc;
    if (next_seq == 0 || next_seq == UINT64_MAX)
        return err_set(err, -EINVAL, "journal next_seq %" PRIu64 " is out of range", next_seq);
    rc = mkdir_p(cfg->dir, err);
    if (rc < 0)
        return rc;

    journal_t *j = aligned_alloc(SHM_PAIR, (sizeof(journal_t) + SHM_PAIR - 1) / SHM_PAIR * SHM_PAIR);
    if (j == NULL)
        return err_set(err, -ENOMEM, "journal: out of memory");
    memset(j, 0, sizeof(*j));
    j->fd = -1;
    j->ring.ring_fd = -1;
    j->cfg = *cfg;
    j->cap = cfg->buffer_bytes;
    j->mask = j->cap - 1;
    j->dirfd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (j->dirfd < 0) {
        rc = err_set(err, -errno, "journal dir %s: %s", cfg->dir, strerror(errno));
        goto fail;
    }
    if (flock(j->dirfd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? err_set(err, -EBUSY, "journal dir %s is in use by another writer", cfg->dir)
                                  : err_set(err, -errno, "journal dir %s: flock: %s", cfg->dir, strerror(errno));
        goto fail;
    }
    rc = check_continuation(cfg, j->dirfd, next_seq, err);
    if (rc < 0)
        goto fail;

    /* Touch every page now so that the hot path never faults one in. */
    j->buf = aligned_alloc(4096, j->cap);
    if (j->buf == NULL) {
        rc = err_set(err, -ENOMEM, "journal: cannot allocate a %" PRIu64 "-byte buffer", j->cap);
        goto fail;
    }
    memset(j->buf, 0, j->cap);
    rc = io_uring_queue_init(URING_ENTRIES, &j->ring, 0);
    if (rc < 0) {
        j->ring.ring_fd = -1;
        err_set(err, rc, "journal: io_uring_queue_init: %s", strerror(-rc));
        goto fail;
    }
    rc = file_create(j, next_seq, err);
    if (rc < 0)
        goto fail;

    atomic_init(&j->head, 0);
    atomic_init(&j->tail, 0);
    atomic_init(&j->written_seq, next_seq - 1);
    atomic_init(&j->durable_seq, next_seq - 1);
    atomic_init(&j->sync_served, 0);
    atomic_init(&j->sync_req, 0);
    atomic_init(&j->error, 0);
    atomic_init(&j->stop, 0);
    j->p_pos = 0;
    j->p_limit = j->cap;
    j->p_next_seq = next_seq;
    j->p_open_seq = next_seq;
    j->w_tail = 0;
    j->w_written = next_seq - 1;
    j->w_synced = next_seq - 1;
    j->last_sync_ns = clock_mono_ns();

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (cfg->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cfg->cpu, &set);
        pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
    }
    /* pthread_create publishes everything above to the thread. */
    rc = pthread_create(&j->thread, &attr, writer_main, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        rc = err_set(err, -rc, "journal: cannot start the writer thread%s: %s",
                     cfg->cpu >= 0 ? " on its cpu" : "", strerror(rc));
        goto fail;
    }
    *out = j;
    return 0;
fail:
    journal_free(j);
    return rc;
}

int journal_sync(journal_t *j)
{
    /* release pairs with the writer's acquire load of sync_req: records
     * appended before the request are below the head it loads next. */
    uint64_t req = atomic_fetch_add_explicit(&j->sync_req, 1, memory_order_acq_rel) + 1;
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 1000000);
    /* acquire pairs with the writer's release store of sync_served. */
    while (atomic_load_explicit(&j->sync_served, memory_order_acquire) < req) {
        int e = journal_error(j, NULL);
        if (e != 0)
            return e;
        idle_wait(&idle);
    }
    return journal_error(j, NULL);
}

int journal_close(journal_t *j)
{
    if (j == NULL)
        return 0;
    /* release pairs with the writer's acquire load of stop: it drains
     * everything appended before this. */
    atomic_store_explicit(&j->stop, 1, memory_order_release);
    pthread_join(j->thread, NULL);
    int rc = journal_error(j, NULL);
    journal_free(j);
    return rc;
}
