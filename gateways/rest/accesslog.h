/* accesslog.h - bourse-rest's access log: one JSON object a line, to stderr
 * or a file, for every answered request: request id, method, path, status,
 * latency, key id (never a secret), account, the engine's cmd_seq and the
 * error code. The gateway's own events go through log.h instead.
 *
 * Lines are buffered in memory and written whole, many to a write(), when
 * alog_flush() finds them due: the gateway's loop calls it every pass, so a
 * line reaches the file within ALOG_FLUSH_NS of its request, and a request
 * costs no syscall of its own. */
#ifndef BOURSE_ACCESSLOG_H
#define BOURSE_ACCESSLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "jsonw.h"

enum { ALOG_BUF_BYTES = 64 * 1024, ALOG_FLUSH_BYTES = 48 * 1024 };
#define ALOG_FLUSH_NS 10000000ull /* 10 ms */

typedef struct alog_entry {
    uint64_t rid;
    const char *method;
    const char *path;        /* as sent, query included */
    int status;
    uint64_t latency_us;
    const char *key_id;      /* NULL: not authenticated */
    int64_t account;         /* -1: none */
    uint64_t cmd_seq;        /* 0: no engine command */
    const char *addr;
    const char *error;       /* error code, NULL on success */
    uint64_t bytes_in, bytes_out;
} alog_entry_t;

typedef struct alog {
    int fd;                  /* -1: no log */
    bool own;                /* fd was opened here */
    char *buf;               /* ALOG_BUF_BYTES of whole lines */
    uint32_t len;
    uint64_t first_ns;       /* when the oldest buffered line was added */
    jw_t line;               /* the line being built, reused */
    time_t when_sec;         /* the second "when" holds */
    char when[24];           /* "2026-11-23T14:20:59" */
    uint64_t write_errors;
} alog_t;

/* path "-" is stderr; a file is opened for appending (0640). */
int alog_open(alog_t *a, const char *path, err_t *err);
/* Flushes what is buffered and closes. */
void alog_close(alog_t *a);
/* Adds e's line to the buffer (writing the buffer first if it is full). */
void alog_write(alog_t *a, const alog_entry_t *e, uint64_t now_ns);
/* Writes the buffer when it is due: force, ALOG_FLUSH_BYTES buffered, or its
 * oldest line ALOG_FLUSH_NS old. */
void alog_flush(alog_t *a, uint64_t now_ns, bool force);
/* Nanoseconds until the buffer is due (UINT64_MAX: nothing buffered). */
uint64_t alog_due_in(const alog_t *a, uint64_t now_ns);

#endif
