/* metrics.h - counters, gauges and histograms a process publishes in the
 * segment for the Prometheus exporter.
 *
 * Every process with a command ring owns the metrics page of its ring slot
 * (the engine has its own fixed stats page, layout.h). A page is a small
 * self-describing table: each entry names a metric, its labels and help, and
 * holds one 64-bit value. The owner registers entries at start-up (not on the
 * hot path) and then only bumps its own values: relaxed single-writer stores,
 * no locks, no syscalls. The exporter reads the pages of live slots. */
#ifndef BOURSE_METRICS_H
#define BOURSE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "shm.h"

enum metric_kind {
    METRIC_COUNTER = 1,
    METRIC_GAUGE = 2,
    METRIC_BUCKET = 3,      /* one histogram bucket: labels end with le="<bound>"; the count in it alone */
    METRIC_SUM = 4,         /* a histogram's _sum (value in its unit, see metrics_histogram) */
    METRIC_COUNT = 5,       /* a histogram's _count */
};

enum { METRICS_NAME_MAX = 48, METRICS_LABELS_MAX = 80, METRICS_HELP_MAX = 112, METRICS_BUCKETS_MAX = 16 };

typedef struct shm_metric {
    char name[METRICS_NAME_MAX];     /* bourse_<process>_<what>[_total|_seconds...] */
    char labels[METRICS_LABELS_MAX]; /* k="v",k="v" or "" */
    char help[METRICS_HELP_MAX];
    uint32_t kind;                   /* enum metric_kind */
    uint32_t scale;                  /* METRIC_SUM and METRIC_BUCKET: the value's units per 1 (1e9: ns) */
    _Atomic uint64_t value;
} shm_metric_t;

_Static_assert(sizeof(shm_metric_t) == 256, "a metric entry is 256 bytes");

typedef struct shm_metrics_page {
    _Atomic uint64_t owner;          /* the slot's lease word when the page was claimed */
    _Atomic uint32_t count;          /* entries published; release after an entry is written */
    uint32_t pad0;
    char process[32];                /* "bourse-rest" */
    uint8_t pad1[256 - 48];
    shm_metric_t m[(SHM_METRICS_PAGE - 256) / sizeof(shm_metric_t)];
} shm_metrics_page_t;

_Static_assert(sizeof(shm_metrics_page_t) == SHM_METRICS_PAGE, "a metrics page");
_Static_assert(offsetof(shm_metrics_page_t, m) == 256, "metrics page layout");

enum { METRICS_PER_PAGE = (SHM_METRICS_PAGE - 256) / sizeof(shm_metric_t) };

static inline shm_metrics_page_t *shm_metrics_page(const shm_t *s, uint32_t slot)
{
    return (shm_metrics_page_t *)(s->base + s->layout.stats_off + SHM_PAGE + (uint64_t)slot * SHM_METRICS_PAGE);
}

/* The writer's handle on its page. */
typedef struct metrics {
    shm_metrics_page_t *page;
} metrics_t;

/* Claims the page of ring slot `slot` (the caller owns the slot) for process
 * and clears it. */
void metrics_open(metrics_t *mt, shm_t *shm, uint32_t slot, const char *process);

/* Registers one entry; returns its value to bump, or NULL when the page is full
 * or a string is too long (the caller may go on without that metric). */
_Atomic uint64_t *metrics_add(metrics_t *mt, enum metric_kind kind, const char *name, const char *labels,
                              const char *help);

static inline void metric_add(_Atomic uint64_t *v, uint64_t n)
{
    /* Single writer: a relaxed load and store, no lock prefix. */
    if (v != NULL)
        atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n, memory_order_relaxed);
}

static inline void metric_set(_Atomic uint64_t *v, uint64_t x)
{
    if (v != NULL)
        atomic_store_explicit(v, x, memory_order_relaxed);
}

/* A histogram of values in some unit (ns for latencies): buckets with upper
 * bounds (in that unit, ascending; +Inf is added), a sum and a count. */
typedef struct metrics_hist {
    uint32_t n;
    uint64_t bound[METRICS_BUCKETS_MAX];
    _Atomic uint64_t *bucket[METRICS_BUCKETS_MAX + 1];
    _Atomic uint64_t *sum, *count;
} metrics_hist_t;

/* Registers name_bucket/_sum/_count; scale converts the unit to the exported
 * one (1e9: ns recorded, seconds exported). Returns 0 or -ENOSPC. */
int metrics_histogram(metrics_t *mt, metrics_hist_t *h, const char *name, const char *labels, const char *help,
                      const uint64_t *bounds, uint32_t nbounds, uint32_t scale);

static inline void metrics_observe(metrics_hist_t *h, uint64_t v)
{
    uint32_t i = 0;
    while (i < h->n && v > h->bound[i])
        i++;
    metric_add(h->bucket[i], 1);
    metric_add(h->sum, v);
    metric_add(h->count, 1);
}

#endif
