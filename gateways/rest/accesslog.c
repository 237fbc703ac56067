/* accesslog.c - see accesslog.h. A write() carries whole lines only and the
 * file is opened O_APPEND, so concurrent writers to one file do not mix. */
#include "accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int alog_open(alog_t *a, const char *path, err_t *err)
{
    memset(a, 0, sizeof(*a));
    a->fd = -1;
    jw_init(&a->line);
    a->buf = malloc(ALOG_BUF_BYTES);
    if (a->buf == NULL)
        return err_set(err, -ENOMEM, "access log: out of memory");
    if (strcmp(path, "-") == 0) {
        a->fd = STDERR_FILENO;
        return 0;
    }
    a->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (a->fd < 0)
        return err_set(err, -errno, "access log %s: %s", path, strerror(errno));
    a->own = true;
    return 0;
}

/* Writes n bytes of whole lines; on an error they are dropped and counted. */
static void write_all(alog_t *a, const char *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(a->fd, p + off, n - off);
        if (k > 0) {
            off += (size_t)k;
        } else if (k < 0 && errno == EINTR) {
            continue;
        } else {
            a->write_errors++; /* a full disk: the lines are dropped, the gateway goes on */
            break;
        }
    }
}

static void write_out(alog_t *a)
{
    write_all(a, a->buf, a->len);
    a->len = 0;
}

uint64_t alog_due_in(const alog_t *a, uint64_t now_ns)
{
    if (a->len == 0)
        return UINT64_MAX;
    if (now_ns < a->first_ns)
        return ALOG_FLUSH_NS; /* a caller's clock read before the line was added */
    uint64_t age = now_ns - a->first_ns;
    return age >= ALOG_FLUSH_NS ? 0 : ALOG_FLUSH_NS - age;
}

void alog_flush(alog_t *a, uint64_t now_ns, bool force)
{
    if (a->len == 0)
        return;
    if (force || a->len >= ALOG_FLUSH_BYTES || alog_due_in(a, now_ns) == 0)
        write_out(a);
}

void alog_close(alog_t *a)
{
    if (a->fd >= 0 && a->buf != NULL)
        write_out(a);
    if (a->own && a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    free(a->buf);
    a->buf = NULL;
    jw_free(&a->line);
}

void alog_write(alog_t *a, const alog_entry_t *e, uint64_t now_ns)
{
    if (a->fd < 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != a->when_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(a->when, sizeof(a->when), "%Y-%m-%dT%H:%M:%S", &tm);
        a->when_sec = ts.tv_sec;
    }
    char when[64], rid[24];
    snprintf(when, sizeof(when), "%s.%06ldZ", a->when, ts.tv_nsec / 1000);
    snprintf(rid, sizeof(rid), "%016llx", (unsigned long long)e->rid);
    jw_t *w = &a->line;
    jw_reset(w);
    jw_obj(w, NULL);
    jw_str(w, "ts", when);
    jw_str(w, "proc", "rest");
    jw_str(w, "rid", rid);
    jw_str(w, "method", e->method);
    jw_str(w, "path", e->path);
    jw_i64(w, "status", e->status);
    jw_u64(w, "latency_us", e->latency_us);
    if (e->key_id)
        jw_str(w, "key", e->key_id);
    else
        jw_null(w, "key");
    if (e->account >= 0)
        jw_i64(w, "account", e->account);
    else
        jw_null(w, "account");
    jw_u64(w, "cmd_seq", e->cmd_seq);
    jw_str(w, "addr", e->addr);
    if (e->error)
        jw_str(w, "error", e->error);
    else
        jw_null(w, "error");
    jw_u64(w, "bytes_in", e->bytes_in);
    jw_u64(w, "bytes_out", e->bytes_out);
    jw_obj_end(w);
    if (!jw_ok(w))
        return;
    if (a->len + w->len + 1 > ALOG_BUF_BYTES)
        write_out(a);
    if (w->len + 1 > ALOG_BUF_BYTES) { /* a path near the header limit: written alone */
        w->buf[w->len] = '\n';      /* the writer keeps a byte past len */
        write_all(a, w->buf, w->len + 1);
        return;
    }
    if (a->len == 0)
        a->first_ns = now_ns;
    memcpy(a->buf + a->len, w->buf, w->len);
    a->buf[a->len + w->len] = '\n';
    a->len += (uint32_t)w->len + 1;
}
