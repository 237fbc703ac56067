/* idle.h - what a polling thread does when a pass over its inputs found no work,
 * and where it runs.
 *
 * Every spinning loop in bourse (engine, gateways, feeds, strategies) owns an
 * idle_t. spin burns its core for the lowest latency; yield gives the core away
 * each time; backoff spins a little, then yields, then sleeps with doubling
 * sleeps up to a bound. On a shared 2-core machine, tests use backoff. */
#ifndef BOURSE_IDLE_H
#define BOURSE_IDLE_H

#include <stdint.h>

#include "err.h"

typedef enum idle_kind {
    IDLE_SPIN = 0,
    IDLE_YIELD = 1,
    IDLE_BACKOFF = 2,
} idle_kind_t;

typedef struct idle {
    idle_kind_t kind;
    uint32_t count;          /* consecutive idle passes */
    uint64_t sleep_ns;       /* current backoff sleep */
    uint64_t sleep_max_ns;
} idle_t;

enum {
    IDLE_BACKOFF_SPINS = 128,   /* passes spent spinning before yielding */
    IDLE_BACKOFF_YIELDS = 64,   /* then passes spent yielding before sleeping */
    IDLE_SLEEP_MIN_NS = 1000,
};

void idle_init(idle_t *idle, idle_kind_t kind, uint64_t sleep_max_ns);

/* Parses "spin", "yield" or "backoff". Returns 0 or -EINVAL. */
int idle_parse(const char *s, idle_kind_t *kind);
const char *idle_name(idle_kind_t kind);

/* Called after a pass that did no work; may block for up to sleep_max_ns. */
void idle_wait(idle_t *idle);

/* For loops that sleep in a poll call (epoll, io_uring) instead of idle_wait():
 * how long the next poll may block after `passes` passes without work. 0 while
 * spinning or yielding (a yield is done here), then doubling sleeps from
 * IDLE_SLEEP_MIN_NS up to max_ns under backoff. */
uint64_t idle_poll_ns(idle_kind_t kind, uint32_t passes, uint64_t max_ns);

/* Called after a pass that did work: the next idle period starts from a spin. */
static inline void idle_reset(idle_t *idle)
{
    idle->count = 0;
    idle->sleep_ns = IDLE_SLEEP_MIN_NS;
}

/* The CPU-relax hint for spin loops. */
static inline void idle_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield" ::: "memory");
#endif
}

/* Pins the calling thread to one CPU; cpu < 0 leaves it where it is.
 * Returns 0 or a negative errno with a message in err. */
int idle_pin_cpu(int cpu, err_t *err);

#endif
