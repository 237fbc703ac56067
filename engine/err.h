/* err.h - an error code plus a one-line message naming the problem.
 * Functions that can fail at set-up (config, segment, attach) take an err_t *
 * and return a negative errno-style code; main() prints err->msg and exits. */
#ifndef BOURSE_ERR_H
#define BOURSE_ERR_H

#include <stddef.h>

typedef struct err {
    int code;          /* negative errno, 0 when no error was set */
    char msg[256];
} err_t;

/* Records the error in e (which may be NULL) and returns code, so that callers
 * can write `return err_set(err, -EINVAL, "bad %s", x);`. */
int err_set(err_t *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
