/* clock.h - the two clocks of the project, in integer nanoseconds.
 * Realtime stamps records (commands and events); monotonic measures intervals.
 * Both go through the vDSO: no system call on the hot path. */
#ifndef BOURSE_CLOCK_H
#define BOURSE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
