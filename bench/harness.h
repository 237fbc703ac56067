/* harness.h - what a bench/ program needs to time work between processes:
 * children that die with their parent, a wait loop that notices a dead peer or
 * a stall instead of spinning forever, files removed on every exit path,
 * latency percentiles, and a description of the machine for the report.
 *
 * Used by bench/ring.c and bench/xfer.c. Set-up code, except harness_wait() and
 * harness_worked(), which sit in the measured loops and are kept to a counter
 * and a branch until a loop has been idle for a while. */
#ifndef BOURSE_BENCH_HARNESS_H
#define BOURSE_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <stdio.h>
#include <sys/types.h>

#include "idle.h"

enum {
    HARNESS_KIDS_MAX = 8,
    HARNESS_FILES_MAX = 4,
    HARNESS_PATH_MAX = 128,
    HARNESS_ROLE_MAX = 32,
    /* idle polls between liveness and stall checks: with spin that is a few
     * hundred microseconds, so a dead peer is noticed at once, while the
     * waitpid() it costs is invisible beside the idle time itself */
    HARNESS_CHECK_EVERY = 4096,
};

typedef struct harness_kid {
    pid_t pid;
    bool reaped;
    int status;                  /* waitpid() status once reaped */
    char role[HARNESS_ROLE_MAX];
} harness_kid_t;

/* One per process; a forked child gets its own copy, marked is_child. */
typedef struct harness {
    const char *prog;            /* for messages */
    char role[HARNESS_ROLE_MAX]; /* "main", "producer", "reader 2" */
    pid_t parent;                /* the process that runs the cases */
    bool is_child;
    harness_kid_t kids[HARNESS_KIDS_MAX];
    unsigned nkids;
    char files[HARNESS_FILES_MAX][HARNESS_PATH_MAX]; /* unlinked on every exit path */
    unsigned nfiles;
    uint64_t stall_ns;           /* a wait with no progress for this long is a failure */
    cpu_set_t cpus_at_start;     /* restored by harness_pin(h, -1) */
} harness_t;

/* Installs SIGINT/SIGTERM/SIGHUP handlers that kill the children and remove
 * the tracked files. One harness a process (the handler needs to find it). */
void harness_init(harness_t *h, const char *prog, uint64_t stall_ns);

/* Removes path on every exit path of the main process, including signals. */
void harness_track_file(harness_t *h, const char *path);

/* Forks a child that runs fn(h, arg) and exits 0; fn exits non-zero through
 * harness_fail(). The child is killed when the parent dies. Returns its pid;
 * fails the run when fork() does. */
pid_t harness_spawn(harness_t *h, const char *role, void (*fn)(harness_t *h, void *arg), void *arg);

/* Waits until every child has exited; fails the run when one did not exit 0
 * or takes longer than stall_ns. Forgets them afterwards. */
void harness_reap(harness_t *h);

/* Child: reports on stderr and exits 1. Main process: reports, kills the
 * children, removes the tracked files and exits 1. */
_Noreturn void harness_fail(harness_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Kills what is still running and removes the tracked files (normal exit). */
void harness_cleanup(harness_t *h);

/* Pins the calling process to cpu, or gives it back the CPUs it started with
 * when cpu < 0 (so a process that changes role between cases does not keep
 * the previous role's pinning). */
void harness_pin(harness_t *h, int cpu);

/* ---------------------------------------------------------------- waiting */

/* A wait loop's state: the idle policy, plus a count of idle polls that
 * triggers the occasional liveness and stall check. */
typedef struct harness_waiter {
    harness_t *h;
    idle_t idle;
    uint32_t polls;              /* idle polls since the last progress */
    uint64_t since_ns;           /* when the first check of this idle stretch ran */
    const char *what;            /* what we wait for, for the stall message */
} harness_waiter_t;

void harness_waiter_init(harness_waiter_t *w, harness_t *h, idle_kind_t kind, const char *what);

/* Cold path of harness_wait(): peers alive? waiting too long? */
void harness_waiter_check(harness_waiter_t *w);

/* A pass found nothing to do. */
static inline void harness_wait(harness_waiter_t *w)
{
    idle_wait(&w->idle);
    if ((++w->polls & (HARNESS_CHECK_EVERY - 1)) == 0)
        harness_waiter_check(w);
}

/* A pass made progress. The branch keeps a steady stream from writing the
 * waiter at all. */
static inline void harness_worked(harness_waiter_t *w)
{
    if (w->polls != 0) {
        w->polls = 0;
        w->since_ns = 0;
        idle_reset(&w->idle);
    }
}

/* ---------------------------------------------------------------- figures */

typedef struct harness_lat {
    uint64_t n;
    uint64_t p50_ns, p99_ns, p999_ns, max_ns;
} harness_lat_t;

/* Sorts samples in place and takes nearest-rank percentiles. */
void harness_percentiles(uint64_t *samples, size_t n, harness_lat_t *out);

/* What one clock_mono_ns() call costs here, in ns (every latency sample pays it once). */
uint64_t harness_clock_cost_ns(void);

/* CPUs this process may run on (what `nproc` prints). */
int harness_cpus_usable(void);

/* Writes the report's preamble: date (UTC), machine, clock source, command line. */
void harness_describe(FILE *out, int argc, char **argv);

/* A zeroed MAP_SHARED anonymous mapping, made before fork() so that children
 * share it; fails the run when mmap() does. */
void *harness_map_shared(harness_t *h, size_t bytes);

#endif
