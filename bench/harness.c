/* harness.c - see harness.h. */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* The one global: a signal handler gets no context argument, and it must find
 * the children to kill and the files to remove. Set once by harness_init(). */
static harness_t *harness_self;

/* Async-signal-safe: kill(), waitpid(), unlink() and _exit() only. The
 * children are reaped here so that none is left behind even as a zombie. */
static void harness_on_signal(int sig)
{
    harness_t *h = harness_self;
    if (h != NULL && !h->is_child) {
        for (unsigned i = 0; i < h->nkids; i++) {
            if (!h->kids[i].reaped && h->kids[i].pid > 0) {
                kill(h->kids[i].pid, SIGKILL);
                waitpid(h->kids[i].pid, NULL, 0);
            }
        }
        for (unsigned i = 0; i < h->nfiles; i++)
            unlink(h->files[i]);
    }
    _exit(128 + sig);
}

static const int harness_signals[] = {SIGINT, SIGTERM, SIGHUP};

void harness_init(harness_t *h, const char *prog, uint64_t stall_ns)
{
    memset(h, 0, sizeof(*h));
    h->prog = prog;
    snprintf(h->role, sizeof(h->role), "main");
    h->parent = getpid();
    h->stall_ns = stall_ns;
    if (sched_getaffinity(0, sizeof(h->cpus_at_start), &h->cpus_at_start) < 0)
        CPU_ZERO(&h->cpus_at_start);
    harness_self = h;
    struct sigaction sa = {.sa_handler = harness_on_signal};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(harness_signals) / sizeof(harness_signals[0]); i++)
        sigaction(harness_signals[i], &sa, NULL);
}

void harness_track_file(harness_t *h, const char *path)
{
    if (h->nfiles == HARNESS_FILES_MAX)
        harness_fail(h, "too many files to clean up (%u)", h->nfiles);
    /* the handler may read the list at any moment: write the entry first, then count it */
    snprintf(h->files[h->nfiles], HARNESS_PATH_MAX, "%s", path);
    h->nfiles++;
}

static void harness_kill_kids(harness_t *h)
{
    for (unsigned i = 0; i < h->nkids; i++) {
        harness_kid_t *k = &h->kids[i];
        if (k->reaped || k->pid <= 0)
            continue;
        kill(k->pid, SIGKILL);
        waitpid(k->pid, &k->status, 0);
        k->reaped = true;
    }
}

void harness_cleanup(harness_t *h)
{
    if (h->is_child)
        return;
    harness_kill_kids(h);
    for (unsigned i = 0; i < h->nfiles; i++)
        unlink(h->files[i]);
    h->nfiles = 0;
}

void harness_fail(harness_t *h, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s: error: %s\n", h->prog, h->role, msg);
    if (h->is_child)
        _exit(1);
    fflush(stdout);
    harness_cleanup(h);
    exit(1);
}

pid_t harness_spawn(harness_t *h, const char *role, void (*fn)(harness_t *h, void *arg), void *arg)
{
    if (h->nkids == HARNESS_KIDS_MAX)
        harness_fail(h, "too many children (%u)", h->nkids);
    /* unflushed stdio buffers would otherwise be written twice */
    fflush(NULL);
    harness_kid_t *k = &h->kids[h->nkids];
    memset(k, 0, sizeof(*k));
    snprintf(k->role, sizeof(k->role), "%s", role);
    pid_t pid = fork();
    if (pid < 0)
        harness_fail(h, "fork: %s", strerror(errno));
    if (pid == 0) {
        h->is_child = true;
        h->nkids = 0;
        h->nfiles = 0;
        snprintf(h->role, sizeof(h->role), "%s", role);
        struct sigaction sa = {.sa_handler = SIG_DFL};
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof(harness_signals) / sizeof(harness_signals[0]); i++)
            sigaction(harness_signals[i], &sa, NULL);
        /* A child spinning on a ring would outlive a crashed parent forever.
         * The getppid() check closes the race where the parent died before prctl(). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != h->parent)
            _exit(1);
        fn(h, arg);
        _exit(0);
    }
    k->pid = pid;
    h->nkids++; /* after pid is set: the signal handler reads the list */
    return pid;
}

/* Records a child's exit; fails the run when it did not exit 0. */
static void harness_kid_exited(harness_t *h, harness_kid_t *k, int status)
{
    k->reaped = true;
    k->status = status;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (WIFSIGNALED(status))
        harness_fail(h, "%s (pid %d) was killed by signal %d", k->role, (int)k->pid, WTERMSIG(status));
    harness_fail(h, "%s (pid %d) failed with exit status %d", k->role, (int)k->pid,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Polls the children without blocking; fails the run on one that failed. */
static void harness_poll_kids(harness_t *h)
{
    for (unsigned i = 0; i < h->nkids; i++) {
        harness_kid_t *k = &h->kids[i];
        int status;
        if (!k->reaped && waitpid(k->pid, &status, WNOHANG) == k->pid)
            harness_kid_exited(h, k, status);
    }
}

void harness_reap(harness_t *h)
{
    uint64_t start = clock_mono_ns();
    for (;;) {
        harness_poll_kids(h);
        unsigned left = 0;
        for (unsigned i = 0; i < h->nkids; i++)
            left += !h->kids[i].reaped;
        if (left == 0)
            break;
        if (clock_mono_ns() - start > h->stall_ns)
            harness_fail(h, "%u child process(es) did not exit after the case", left);
        struct timespec ts = {.tv_nsec = 100000};
        nanosleep(&ts, NULL);
    }
    h->nkids = 0;
}

void harness_pin(harness_t *h, int cpu)
{
    err_t err;
    if (cpu >= 0) {
        if (idle_pin_cpu(cpu, &err) < 0)
            harness_fail(h, "%s", err.msg);
        return;
    }
    if (CPU_COUNT(&h->cpus_at_start) > 0 &&
        sched_setaffinity(0, sizeof(h->cpus_at_start), &h->cpus_at_start) < 0)
        harness_fail(h, "cannot restore the CPU affinity: %s", strerror(errno));
}

void harness_waiter_init(harness_waiter_t *w, harness_t *h, idle_kind_t kind, const char *what)
{
    memset(w, 0, sizeof(*w));
    w->h = h;
    w->what = what;
    /* backoff sleeps are capped low: the bench wants the wait to end promptly */
    idle_init(&w->idle, kind, 50000);
}

void harness_waiter_check(harness_waiter_t *w)
{
    harness_t *h = w->h;
    if (h->is_child) {
        if (getppid() != h->parent)
            _exit(1); /* PR_SET_PDEATHSIG normally got here first */
    } else {
        harness_poll_kids(h);
    }
    /* The stretch is timed from its first check, not its first poll: taking
     * the clock on every transition to idle would cost the measured loops. */
    uint64_t now = clock_mono_ns();
    if (w->since_ns == 0)
        w->since_ns = now;
    else if (now - w->since_ns > h->stall_ns)
        harness_fail(h, "stalled: waited %.1f s for %s", (double)(now - w->since_ns) / 1e9, w->what);
}

/* ---------------------------------------------------------------- figures */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least num/den of all samples at
 * or below it. Integer arithmetic, so p99.9 of 1000 samples is the 999th. */
static uint64_t rank(const uint64_t *sorted, size_t n, uint64_t num, uint64_t den)
{
    uint64_t r = ((uint64_t)n * num + den - 1) / den;
    return sorted[r == 0 ? 0 : r - 1];
}

void harness_percentiles(uint64_t *samples, size_t n, harness_lat_t *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return;
    qsort(samples, n, sizeof(*samples), cmp_u64);
    out->n = n;
    out->p50_ns = rank(samples, n, 50, 100);
    out->p99_ns = rank(samples, n, 99, 100);
    out->p999_ns = rank(samples, n, 999, 1000);
    out->max_ns = samples[n - 1];
}

uint64_t harness_clock_cost_ns(void)
{
    enum { CALLS = 100000 };
    uint64_t sink = 0;
    uint64_t t0 = clock_mono_ns();
    for (int i = 0; i < CALLS; i++)
        sink += clock_mono_ns();
    uint64_t t1 = clock_mono_ns();
    __asm__ volatile("" : : "r"(sink)); /* keep the calls */
    return (t1 - t0 + CALLS / 2) / CALLS;
}

int harness_cpus_usable(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) < 0)
        return (int)sysconf(_SC_NPROCESSORS_ONLN);
    return CPU_COUNT(&set);
}

/* First line of path that starts with key, value after the ':' (or the whole
 * line when there is no ':'), trimmed. */
static void read_field(const char *path, const char *key, char *out, size_t n)
{
    snprintf(out, n, "unknown");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, strlen(key)) != 0)
            continue;
        char *v = strchr(line, ':');
        v = v != NULL ? v + 1 : line;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t len = strcspn(v, "\n");
        len = len < n ? len : n - 1; /* a long value is cut, not an error */
        memcpy(out, v, len);
        out[len] = '\0';
        break;
    }
    fclose(f);
}

void harness_describe(FILE *out, int argc, char **argv)
{
    char date[64] = "unknown";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) != NULL)
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm);
    char model[128], clocksrc[64];
    read_field("/proc/cpuinfo", "model name", model, sizeof(model));
    read_field("/sys/devices/system/clocksource/clocksource0/current_clocksource", "", clocksrc,
               sizeof(clocksrc));
    struct utsname u;
    if (uname(&u) < 0)
        snprintf(u.release, sizeof(u.release), "unknown");

    fprintf(out, "date      %s\n", date);
    fprintf(out, "machine   %s, nproc %d (%ld online), Linux %s, clocksource %s\n", model,
            harness_cpus_usable(), sysconf(_SC_NPROCESSORS_ONLN), u.release, clocksrc);
    fprintf(out, "command  ");
    for (int i = 0; i < argc; i++)
        fprintf(out, " %s", argv[i]);
    fprintf(out, "\n");
}

void *harness_map_shared(harness_t *h, size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
        harness_fail(h, "mmap of %zu shared bytes: %s", bytes, strerror(errno));
    return p;
}
