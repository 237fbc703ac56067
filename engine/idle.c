/* idle.c - see idle.h. */
#include "idle.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void idle_init(idle_t *idle, idle_kind_t kind, uint64_t sleep_max_ns)
{
    idle->kind = kind;
    idle->sleep_max_ns = sleep_max_ns < IDLE_SLEEP_MIN_NS ? IDLE_SLEEP_MIN_NS : sleep_max_ns;
    idle_reset(idle);
}

static const char *const idle_names[] = {"spin", "yield", "backoff"};

int idle_parse(const char *s, idle_kind_t *kind)
{
    for (unsigned i = 0; i < sizeof(idle_names) / sizeof(idle_names[0]); i++) {
        if (strcmp(s, idle_names[i]) == 0) {
            *kind = (idle_kind_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *idle_name(idle_kind_t kind)
{
    return (unsigned)kind < 3 ? idle_names[kind] : "?";
}

void idle_wait(idle_t *idle)
{
    switch (idle->kind) {
    case IDLE_SPIN:
        idle_pause();
        return;
    case IDLE_YIELD:
        sched_yield();
        return;
    case IDLE_BACKOFF:
        break;
    }
    uint32_t n = idle->count++;
    if (n < IDLE_BACKOFF_SPINS) {
        idle_pause();
    } else if (n < IDLE_BACKOFF_SPINS + IDLE_BACKOFF_YIELDS) {
        sched_yield();
    } else {
        struct timespec ts = {
            .tv_sec = (time_t)(idle->sleep_ns / 1000000000u),
            .tv_nsec = (long)(idle->sleep_ns % 1000000000u),
        };
        nanosleep(&ts, NULL);
        idle->sleep_ns *= 2;
        if (idle->sleep_ns > idle->sleep_max_ns)
            idle->sleep_ns = idle->sleep_max_ns;
        idle->count = IDLE_BACKOFF_SPINS + IDLE_BACKOFF_YIELDS; /* stay in the sleep phase */
    }
}

int idle_pin_cpu(int cpu, err_t *err)
{
    if (cpu < 0)
        return 0;
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    if (cpu >= CPU_SETSIZE || (ncpu > 0 && cpu >= ncpu))
        return err_set(err, -EINVAL, "cpu %d does not exist (this machine has %ld)", cpu, ncpu);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (rc != 0)
        return err_set(err, -rc, "cannot pin to cpu %d: %s", cpu, strerror(rc));
    return 0;
}

uint64_t idle_poll_ns(idle_kind_t kind, uint32_t passes, uint64_t max_ns)
{
    switch (kind) {
    case IDLE_SPIN:
        return 0;
    case IDLE_YIELD:
        if (passes > 0)
            sched_yield();
        return 0;
    case IDLE_BACKOFF:
        break;
    }
    if (passes < IDLE_BACKOFF_SPINS)
        return 0;
    if (passes < IDLE_BACKOFF_SPINS + IDLE_BACKOFF_YIELDS) {
        sched_yield();
        return 0;
    }
    uint32_t k = passes - IDLE_BACKOFF_SPINS - IDLE_BACKOFF_YIELDS;
    uint64_t ns = k >= 30 ? UINT64_MAX : (uint64_t)IDLE_SLEEP_MIN_NS << k;
    return ns < max_ns ? ns : max_ns;
}
