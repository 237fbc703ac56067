/* publish.h - bourse-rest's counters (rest_metrics.h) published on
 * the metrics page of its command-ring slot (engine/metrics.h), where
 * bourse-exporter serves them: requests by route and status class, the
 * request latency histogram, open connections, auth refusals by reason, rate
 * limiting, engine trouble and the key store's checks and rereads. The loop copies its plain counters there about
 * once a second; nothing on the request path changes. */
#ifndef BOURSE_REST_PUBLISH_H
#define BOURSE_REST_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "client.h"
#include "metrics.h"

enum { PUB_ROUTES_MAX = 40, PUB_LAT_BOUNDS = 16 };

struct rest_metrics;

typedef struct rest_pub {
    bool open;
    metrics_t mt;
    _Atomic uint64_t *req[PUB_ROUTES_MAX][3];   /* 2xx, 4xx, 5xx */
    metrics_hist_t lat;
    _Atomic uint64_t *connections;
    _Atomic uint64_t *auth[AUTH_REASON_COUNT];
    _Atomic uint64_t *limited_key, *limited_addr;
    _Atomic uint64_t *timeouts, *busy, *unavailable;
    _Atomic uint64_t *ks_checks, *ks_reloads, *ks_held;
} rest_pub_t;

/* Registers the metrics on the page of c's ring slot (after an attach). */
void rest_pub_open(rest_pub_t *p, client_t *c);

/* The segment is going away (detach): nothing may be written any more. */
void rest_pub_close(rest_pub_t *p);

/* Copies the counters onto the page. */
void rest_pub_update(rest_pub_t *p, const struct rest_metrics *m, uint32_t connections);

#endif
