/* accesslog.c - see accesslog.h. Lines are written whole with one fwrite on
 * a line-buffered stream, so concurrent writers to one file do not mix. */
#include "accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonw.h"

int alog_open(alog_t *a, const char *path, err_t *err)
{
    a->own = 0;
    if (strcmp(path, "-") == 0) {
        a->f = stderr;
        return 0;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return err_set(err, -errno, "access log %s: %s", path, strerror(errno));
    a->f = fdopen(fd, "a");
    if (a->f == NULL) {
        close(fd);
        return err_set(err, -ENOMEM, "access log %s: out of memory", path);
    }
    setvbuf(a->f, NULL, _IOLBF, 0);
    a->own = 1;
    return 0;
}

void alog_close(alog_t *a)
{
    if (a->own && a->f != NULL)
        fclose(a->f);
    a->f = NULL;
}

void alog_write(alog_t *a, const alog_entry_t *e)
{
    if (a->f == NULL)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[48], rid[24];
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%06ldZ", ts.tv_nsec / 1000);
    snprintf(rid, sizeof(rid), "%016llx", (unsigned long long)e->rid);
    jw_t w;
    jw_init(&w);
    jw_obj(&w, NULL);
    jw_str(&w, "ts", when);
    jw_str(&w, "proc", "rest");
    jw_str(&w, "rid", rid);
    jw_str(&w, "method", e->method);
    jw_str(&w, "path", e->path);
    jw_i64(&w, "status", e->status);
    jw_u64(&w, "latency_us", e->latency_us);
    if (e->key_id)
        jw_str(&w, "key", e->key_id);
    else
        jw_null(&w, "key");
    if (e->account >= 0)
        jw_i64(&w, "account", e->account);
    else
        jw_null(&w, "account");
    jw_u64(&w, "cmd_seq", e->cmd_seq);
    jw_str(&w, "addr", e->addr);
    if (e->error)
        jw_str(&w, "error", e->error);
    else
        jw_null(&w, "error");
    jw_u64(&w, "bytes_in", e->bytes_in);
    jw_u64(&w, "bytes_out", e->bytes_out);
    jw_obj_end(&w);
    if (jw_ok(&w)) {
        w.buf[w.len] = '\n';
        fwrite(w.buf, 1, w.len + 1, a->f);
    }
    jw_free(&w);
}
