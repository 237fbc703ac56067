/* accesslog.h - bourse-rest's access log: one JSON object a line, to stderr
 * or a file, for every answered request: request id, method, path, status,
 * latency, key id (never a secret), account, the engine's cmd_seq and the
 * error code. The gateway's own events go through log.h instead. */
#ifndef BOURSE_ACCESSLOG_H
#define BOURSE_ACCESSLOG_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"

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
    FILE *f;
    int own;                 /* f was opened here */
} alog_t;

/* path "-" is stderr; a file is opened for appending (0640). */
int alog_open(alog_t *a, const char *path, err_t *err);
void alog_close(alog_t *a);
void alog_write(alog_t *a, const alog_entry_t *e);

#endif
