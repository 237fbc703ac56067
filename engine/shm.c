/* shm.c - see shm.h.
 *
 * A new segment is built under a temporary name and renamed over the old one
 * only when it is READY, so an attaching process sees either the old segment
 * (stale or stopped: refused) or the complete new one, never a half-made one.
 * The instance lock is a separate file because the segment's inode changes on
 * every engine start, while the lock must not. An engine builds its temporary
 * segment (bourse.<instance>.new.<pid>) only while it holds that lock, and
 * renames or deletes it before letting the lock go: so whoever holds the lock
 * knows that every temporary segment there belongs to an engine killed while
 * starting, whatever process now has the pid in its name. */
#include "shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "proc.h"
#include "proto.h"

#define SHM_DIR "/dev/shm"
#define SHM_SIZE_MAX (UINT64_C(1) << 36) /* 64 GiB: far above any sane configuration */

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static int is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

int shm_name_check(const char *name, err_t *err)
{
    size_t n = strlen(name);
    if (n == 0 || n >= SHM_NAME_MAX)
        return err_set(err, -EINVAL, "instance name must be 1 to %u characters", SHM_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return err_set(err, -EINVAL, "instance name '%s' may only hold letters, digits, '-' and '_'",
                           name);
    }
    return 0;
}

int shm_layout(const shm_geometry_t *g, shm_header_t *h, err_t *err)
{
    if (g->client_max < 1 || g->client_max > SHM_CLIENTS_MAX)
        return err_set(err, -EINVAL, "clients must be 1 to %d, not %" PRIu32, SHM_CLIENTS_MAX,
                       g->client_max);
    if (g->reader_max < 1 || g->reader_max > SHM_READERS_MAX)
        return err_set(err, -EINVAL, "readers must be 1 to %d, not %" PRIu32, SHM_READERS_MAX,
                       g->reader_max);
    if (!is_pow2(g->ring_capacity) || g->ring_capacity < SHM_RING_CAP_MIN ||
        g->ring_capacity > SHM_RING_CAP_MAX)
        return err_set(err, -EINVAL, "ring_capacity must be a power of two from %d to %u, not %" PRIu32,
                       SHM_RING_CAP_MIN, SHM_RING_CAP_MAX, g->ring_capacity);
    if (!is_pow2(g->evlog_capacity) || g->evlog_capacity < SHM_EVLOG_CAP_MIN ||
        g->evlog_capacity > SHM_EVLOG_CAP_MAX)
        return err_set(err, -EINVAL,
                       "event_log_capacity must be a power of two from %d to %u, not %" PRIu32,
                       SHM_EVLOG_CAP_MIN, SHM_EVLOG_CAP_MAX, g->evlog_capacity);

    uint32_t rec = g->rec_size ? g->rec_size : (uint32_t)sizeof(rec_t);
    if (!is_pow2(rec) || rec < SHM_REC_MIN || rec > SHM_REC_MAX)
        return err_set(err, -EINVAL, "record size must be 64, 128 or 256 bytes, not %" PRIu32, rec);
    uint64_t off = sizeof(shm_header_t);
    h->client_max = g->client_max;
    h->ring_capacity = g->ring_capacity;
    h->reader_max = g->reader_max;
    h->evlog_capacity = g->evlog_capacity;
    h->rec_size = rec;
    h->clients_off = off;
    off = align_up(off + (uint64_t)g->client_max * sizeof(shm_client_t), SHM_PAGE);
    h->readers_off = off;
    off = align_up(off + (uint64_t)g->reader_max * sizeof(shm_reader_t), SHM_PAGE);
    h->ring_stride = align_up(ring_bytes(g->ring_capacity, rec), SHM_PAGE);
    h->rings_off = off;
    off += (uint64_t)g->client_max * h->ring_stride;
    h->evlog_off = off;
    off = align_up(off + evlog_bytes(g->evlog_capacity, rec), SHM_PAGE);
    h->stats_off = off;
    /* The engine's page, then one metrics page per command-ring slot. */
    h->stats_size = SHM_PAGE + (uint64_t)g->client_max * SHM_METRICS_PAGE;
    off += h->stats_size;
    if (off > SHM_SIZE_MAX)
        return err_set(err, -EINVAL, "segment would be %" PRIu64 " MiB, over the %" PRIu64 " MiB limit",
                       off >> 20, SHM_SIZE_MAX >> 20);
    h->segment_size = off;
    return 0;
}

int shm_validate(const void *base, size_t size, err_t *err)
{
    const shm_header_t *h = base;
    if (size < sizeof(shm_header_t))
        return err_set(err, -EPROTO, "truncated segment: %zu bytes, the header alone needs %zu", size,
                       sizeof(shm_header_t));
    if (h->magic != SHM_MAGIC)
        return err_set(err, -EPROTO, "not a bourse segment (magic %016" PRIx64 ")", h->magic);
    if (h->layout_version != SHM_LAYOUT_VERSION)
        return err_set(err, -EPROTO,
                       "segment has layout version %" PRIu32 " but this build reads version %u: "
                       "run the engine and its clients from the same build",
                       h->layout_version, SHM_LAYOUT_VERSION);
    if (h->header_size != sizeof(shm_header_t))
        return err_set(err, -EPROTO, "corrupt segment header: header size %" PRIu32, h->header_size);
    if (h->proto_version != PROTO_VERSION)
        return err_set(err, -EPROTO,
                       "segment carries records of protocol version %" PRIu32 " but this build speaks version %u: "
                       "run the engine and its clients from the same build", h->proto_version, PROTO_VERSION);
    if (memchr(h->instance, '\0', sizeof(h->instance)) == NULL)
        return err_set(err, -EPROTO, "corrupt segment header: instance name not terminated");

    shm_geometry_t g = {h->client_max, h->ring_capacity, h->reader_max, h->evlog_capacity, h->rec_size};
    shm_header_t want = {0};
    err_t why;
    if (shm_layout(&g, &want, &why) < 0)
        return err_set(err, -EPROTO, "corrupt segment header: %s", why.msg);
    if (want.clients_off != h->clients_off || want.readers_off != h->readers_off ||
        want.rings_off != h->rings_off || want.ring_stride != h->ring_stride ||
        want.evlog_off != h->evlog_off || want.stats_off != h->stats_off ||
        want.stats_size != h->stats_size || want.segment_size != h->segment_size)
        return err_set(err, -EPROTO, "corrupt segment header: region offsets do not match its geometry");
    if (h->segment_size != size)
        return err_set(err, -EPROTO, "truncated segment: header says %" PRIu64 " bytes, file has %zu",
                       h->segment_size, size);

    const uint8_t *b = base;
    for (uint32_t i = 0; i < g.client_max; i++) {
        const ring_shm_t *r = (const ring_shm_t *)(b + h->rings_off + (uint64_t)i * h->ring_stride);
        if (r->capacity != g.ring_capacity || r->rec_size != g.rec_size)
            return err_set(err, -EPROTO, "corrupt segment: command ring %" PRIu32 " descriptor", i);
    }
    const evlog_shm_t *ev = (const evlog_shm_t *)(b + h->evlog_off);
    if (ev->capacity != g.evlog_capacity || ev->rec_size != g.rec_size)
        return err_set(err, -EPROTO, "corrupt segment: event log descriptor");
    return 0;
}

static void shm_paths(const char *instance, char *seg, size_t n)
{
    snprintf(seg, n, SHM_DIR "/bourse.%s", instance);
}

/* Maps a whole segment file and validates it. */
static int shm_map(shm_t *s, int fd, int prot, err_t *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_set(err, -errno, "%s: %s", s->path, strerror(errno));
    if ((uint64_t)st.st_size < sizeof(shm_header_t))
        return err_set(err, -EPROTO, "%s: truncated segment: %lld bytes, the header alone needs %zu",
                       s->path, (long long)st.st_size, sizeof(shm_header_t));
    void *p = mmap(NULL, (size_t)st.st_size, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return err_set(err, -errno, "%s: mmap: %s", s->path, strerror(errno));
    s->base = p;
    s->size = (size_t)st.st_size;
    s->hdr = p;
    /* acquire pairs with the engine's release store of READY in shm_create():
     * everything the engine wrote before it is visible to the checks below. */
    (void)atomic_load_explicit(&s->hdr->state, memory_order_acquire);
    int rc = shm_validate(p, s->size, err);
    if (rc < 0) {
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err ? err->msg : "");
        err_set(err, rc, "%s: %s", s->path, why);
        return rc;
    }
    memcpy(&s->layout, s->hdr, sizeof(s->layout));
    s->geo = (shm_geometry_t){s->layout.client_max, s->layout.ring_capacity, s->layout.reader_max,
                              s->layout.evlog_capacity, s->layout.rec_size};
    memcpy(s->instance, s->layout.instance, sizeof(s->instance));
    return 0;
}

static int shm_open_existing(shm_t **out, const char *instance, int prot, err_t *err)
{
    int rc = shm_name_check(instance, err);
    if (rc < 0)
        return rc;
    shm_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    s->lock_fd = -1;
    shm_paths(instance, s->path, sizeof(s->path));
    int fd = open(s->path, (prot & PROT_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            err_set(err, rc, "no segment for instance '%s' (%s): is bourse-engine running?", instance,
                    s->path);
        else
            err_set(err, rc, "%s: %s", s->path, strerror(-rc));
        free(s);
        return rc;
    }
    rc = shm_map(s, fd, prot, err);
    close(fd);
    if (rc < 0) {
        if (s->base != NULL)
            munmap(s->base, s->size);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

bool shm_engine_alive(const shm_t *s)
{
    return atomic_load_explicit(&s->hdr->state, memory_order_acquire) == SHM_STATE_READY &&
           proc_alive(s->hdr->owner_pid, s->hdr->owner_start_time);
}

int shm_attach(shm_t **out, const char *instance, err_t *err)
{
    shm_t *s;
    int rc = shm_open_existing(&s, instance, PROT_READ | PROT_WRITE, err);
    if (rc < 0)
        return rc;
    uint32_t state = atomic_load_explicit(&s->hdr->state, memory_order_acquire);
    if (state == SHM_STATE_STOPPED)
        rc = err_set(err, -ESTALE, "engine for instance '%s' has stopped (pid %d)", instance,
                     (int)s->hdr->owner_pid);
    else if (state != SHM_STATE_READY)
        rc = err_set(err, -EAGAIN, "engine for instance '%s' is still starting", instance);
    else if (!proc_alive(s->hdr->owner_pid, s->hdr->owner_start_time))
        rc = err_set(err, -ESTALE, "stale segment for instance '%s': engine pid %d is gone", instance,
                     (int)s->hdr->owner_pid);
    if (rc < 0) {
        shm_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int shm_inspect(shm_t **out, const char *instance, err_t *err)
{
    return shm_open_existing(out, instance, PROT_READ, err);
}

/* Reads the generation and owner of whatever segment is there now, if valid. */
static void shm_previous(const char *path, uint64_t *generation, int *pid, bool *live)
{
    *generation = 0;
    *pid = 0;
    *live = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    shm_t tmp = {.lock_fd = -1};
    snprintf(tmp.path, sizeof(tmp.path), "%s", path);
    if (shm_map(&tmp, fd, PROT_READ, NULL) == 0) {
        *generation = tmp.hdr->generation;
        *pid = tmp.hdr->owner_pid;
        *live = shm_engine_alive(&tmp);
    }
    if (tmp.base != NULL)
        munmap(tmp.base, tmp.size);
    close(fd);
}

enum { SHM_LOCK_TRIES = 8 };

/* Opens (creating it with mode) and locks the instance lock file into *fd.
 * A `bourse remove` may unlink the file between our open and our flock: a
 * lock on a file no longer at lock_path excludes no one who opens it now, so
 * we try again on the one there. Returns 0, -EBUSY when a live process holds
 * the lock, or another negative errno. */
static int shm_lock_instance(const char *lock_path, unsigned mode, int *fd)
{
    for (int i = 0; i < SHM_LOCK_TRIES; i++) {
        *fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode & 0666);
        if (*fd < 0)
            return -errno;
        if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
            int rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
            close(*fd);
            *fd = -1;
            return rc;
        }
        struct stat held, there;
        if (fstat(*fd, &held) == 0 && lstat(lock_path, &there) == 0 && held.st_dev == there.st_dev &&
            held.st_ino == there.st_ino)
            return 0;
        close(*fd);
        *fd = -1;
    }
    return -EAGAIN;
}

/* Deletes the temporary segments of instance that engines killed while
 * starting left behind. The caller holds the instance lock (see the top of
 * this file), so none of them is a live engine's. Returns how many went, or
 * the first error other than ENOENT (after trying every one). */
static int shm_sweep_temps(const char *instance, err_t *err)
{
    char prefix[SHM_NAME_MAX + 16];
    int plen = snprintf(prefix, sizeof(prefix), "bourse.%s.new.", instance);
    DIR *d = opendir(SHM_DIR);
    if (d == NULL)
        return err_set(err, -errno, SHM_DIR ": %s", strerror(errno));
    int removed = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *pid = e->d_name + plen;
        if (strncmp(e->d_name, prefix, (size_t)plen) != 0 || *pid == '\0' ||
            strspn(pid, "0123456789") != strlen(pid))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            removed++;
        else if (errno != ENOENT && rc == 0)
            rc = err_set(err, -errno, SHM_DIR "/%s: %s", e->d_name, strerror(errno));
    }
    closedir(d);
    return rc < 0 ? rc : removed;
}

static int shm_format(shm_t *s, const char *instance, uint64_t generation, err_t *err)
{
    shm_header_t *h = s->hdr;
    int rc = shm_layout(&s->geo, &s->layout, err);
    if (rc < 0)
        return rc;
    memcpy(h, &s->layout, sizeof(*h)); /* geometry and offsets; identity follows */
    atomic_store_explicit(&h->state, SHM_STATE_INIT, memory_order_relaxed);
    h->magic = SHM_MAGIC;
    h->layout_version = SHM_LAYOUT_VERSION;
    h->header_size = sizeof(shm_header_t);
    h->proto_version = PROTO_VERSION;
    h->generation = generation;
    h->created_ns = clock_realtime_ns();
    memset(h->instance, 0, sizeof(h->instance));
    snprintf(h->instance, sizeof(h->instance), "%s", instance);
    h->owner_pid = (int32_t)getpid();
    uint64_t st = 0;
    rc = proc_start_time(getpid(), &st);
    if (rc < 0)
        return err_set(err, rc, "cannot read own start time from /proc: %s", strerror(-rc));
    h->owner_start_time = st;
    memcpy(&s->layout, h, sizeof(s->layout));

    s->geo.rec_size = h->rec_size;
    for (uint32_t i = 0; i < s->geo.client_max; i++)
        ring_format(shm_ring(s, i), s->geo.ring_capacity, s->geo.rec_size);
    evlog_format(shm_evlog(s), s->geo.evlog_capacity, s->geo.rec_size);
    return 0;
}

int shm_create(shm_t **out, const char *instance, const shm_geometry_t *geo, unsigned mode,
               err_t *err)
{
    int rc = shm_name_check(instance, err);
    if (rc < 0)
        return rc;
    shm_header_t probe = {0};
    rc = shm_layout(geo, &probe, err);
    if (rc < 0)
        return rc;

    shm_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    s->owner = true;
    s->geo = *geo;
    snprintf(s->instance, sizeof(s->instance), "%s", instance);
    shm_paths(instance, s->path, sizeof(s->path));

    char lock_path[96], tmp_path[96];
    snprintf(lock_path, sizeof(lock_path), "%s.lock", s->path);
    snprintf(tmp_path, sizeof(tmp_path), "%s.new.%d", s->path, (int)getpid());
    int fd = -1;

    uint64_t gen;
    int old_pid;
    bool live;
    shm_previous(s->path, &gen, &old_pid, &live);
    rc = shm_lock_instance(lock_path, mode, &s->lock_fd);
    if (rc < 0) {
        if (rc == -EBUSY)
            err_set(err, rc, "instance '%s' is owned by a live engine (pid %d)", instance, old_pid);
        else
            err_set(err, rc, "%s: %s", lock_path, strerror(-rc));
        goto fail;
    }
    if (live) {
        rc = err_set(err, -EBUSY, "instance '%s' is owned by a live engine (pid %d)", instance, old_pid);
        goto fail;
    }
    /* Before ours: a dead engine's may even carry our pid, reused. A file
     * that cannot go costs memory, not correctness: the start goes on. */
    int swept = shm_sweep_temps(instance, NULL);
    s->temps_removed = swept > 0 ? (uint32_t)swept : 0;

    fd = open(tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 0666);
    if (fd < 0) {
        rc = err_set(err, -errno, "%s: %s", tmp_path, strerror(errno));
        goto fail;
    }
    /* Allocate every page now: on a full tmpfs a page that ftruncate only
     * promised would fault with SIGBUS on first write instead of an error. */
    int frc = fchmod(fd, mode & 0666) < 0 ? errno : posix_fallocate(fd, 0, (off_t)probe.segment_size);
    if (frc != 0) {
        rc = err_set(err, -frc, "%s: cannot allocate a %" PRIu64 " MiB segment: %s%s", tmp_path,
                     probe.segment_size >> 20, strerror(frc),
                     frc == ENOSPC ? " (is /dev/shm large enough? lower the capacities in the config)" : "");
        goto fail;
    }
    void *p = mmap(NULL, probe.segment_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) {
        rc = err_set(err, -errno, "%s: mmap: %s", tmp_path, strerror(errno));
        goto fail;
    }
    s->base = p;
    s->size = probe.segment_size;
    s->hdr = p;
    rc = shm_format(s, instance, gen + 1, err);
    if (rc < 0)
        goto fail;
    /* release pairs with the acquire load of state in shm_map(): a client that
     * sees READY sees the whole layout. */
    atomic_store_explicit(&s->hdr->state, SHM_STATE_READY, memory_order_release);
    if (rename(tmp_path, s->path) < 0) {
        rc = err_set(err, -errno, "rename %s -> %s: %s", tmp_path, s->path, strerror(errno));
        goto fail;
    }
    close(fd);
    *out = s;
    return 0;

fail:
    if (fd >= 0) {
        unlink(tmp_path);
        close(fd);
    }
    if (s->base != NULL)
        munmap(s->base, s->size);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
    return rc;
}

int shm_remove(const char *instance, err_t *err)
{
    int rc = shm_name_check(instance, err);
    if (rc < 0)
        return rc;
    char path[64], lock_path[96];
    shm_paths(instance, path, sizeof(path));
    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    /* Taking the lock (creating its file if need be) proves no engine holds
     * the instance or is starting on it; the files go while we hold it, so a
     * starting engine cannot be caught half-way. */
    int fd;
    rc = shm_lock_instance(lock_path, 0600, &fd);
    if (rc == -EBUSY)
        return err_set(err, rc, "instance '%s' is held by a live engine", instance);
    if (rc < 0)
        return err_set(err, rc, "%s: %s", lock_path, strerror(-rc));
    /* Unless someone deleted the lock file under a running engine: its
     * segment still names it, alive (pid and start time). */
    uint64_t gen;
    int pid;
    bool live;
    shm_previous(path, &gen, &pid, &live);
    if (live) {
        close(fd);
        return err_set(err, -EBUSY, "instance '%s' is held by a live engine (pid %d; its lock file %s was "
                       "deleted)", instance, pid, lock_path);
    }
    int swept = shm_sweep_temps(instance, err);
    if (swept >= 0 && unlink(path) < 0 && errno != ENOENT)
        swept = err_set(err, -errno, "%s: %s", path, strerror(errno));
    unlink(lock_path);
    close(fd);
    return swept < 0 ? swept : 0;
}

void shm_close(shm_t *s)
{
    if (s == NULL)
        return;
    if (s->owner && s->hdr != NULL)
        /* release pairs with clients' acquire loads of state: they stop
         * trusting the segment and reattach by name. */
        atomic_store_explicit(&s->hdr->state, SHM_STATE_STOPPED, memory_order_release);
    if (s->base != NULL)
        munmap(s->base, s->size);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
}
