/* rest_metrics.h - bourse-rest's counters: requests and a latency histogram per
 * route, refusals by reason. A plain struct the gateway loop updates (one
 * thread, no atomics needed); the Prometheus exporter will publish it. */
#ifndef BOURSE_REST_REST_METRICS_H
#define BOURSE_REST_REST_METRICS_H

#include <stdint.h>

#include "auth.h"

enum {
    REST_ROUTES_MAX = 40,
    /* bucket k counts latencies below 2^k microseconds (the last: all the rest) */
    REST_LAT_BUCKETS = 26,
};

typedef struct route_metrics {
    uint64_t requests;
    uint64_t status_2xx, status_4xx, status_5xx;
    uint64_t latency_sum_us;
    uint64_t latency[REST_LAT_BUCKETS];
} route_metrics_t;

typedef struct rest_metrics {
    route_metrics_t route[REST_ROUTES_MAX]; /* by route index; the last: unmatched */
    uint64_t auth_refused[AUTH_REASON_COUNT];
    uint64_t rate_limited_key, rate_limited_addr;
    uint64_t engine_timeouts, engine_busy, engine_unavailable;
    uint64_t answers_lost;     /* the client left before its engine answer */
    uint64_t refdata_loads;
    uint64_t keystore_checks, keystore_reloads, keystore_held; /* keywatch's, copied each second */
} rest_metrics_t;

static inline void rest_metrics_observe(rest_metrics_t *m, unsigned route, int status, uint64_t latency_us)
{
    if (route >= REST_ROUTES_MAX)
        route = REST_ROUTES_MAX - 1;
    route_metrics_t *r = &m->route[route];
    r->requests++;
    if (status < 300)
        r->status_2xx++;
    else if (status < 500)
        r->status_4xx++;
    else
        r->status_5xx++;
    r->latency_sum_us += latency_us;
    unsigned b = 0;
    while (b < REST_LAT_BUCKETS - 1 && latency_us >= (UINT64_C(1) << b))
        b++;
    r->latency[b]++;
}

#endif
