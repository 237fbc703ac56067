/* publish.c - see publish.h. */
#include "publish.h"

#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "rest.h"
#include "rest_metrics.h"

/* Bucket k of the gateway's histogram counts latencies below 2^k µs; the
 * exported bounds are 2^k µs for these k (in ns, exported in seconds). */
static const unsigned lat_k[PUB_LAT_BOUNDS] = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

void rest_pub_open(rest_pub_t *p, client_t *c)
{
    memset(p, 0, sizeof(*p));
    if (c == NULL || c->slot < 0)
        return;
    metrics_open(&p->mt, c->shm, (uint32_t)c->slot, "bourse-rest");
    static const char *const cls[3] = {"2xx", "4xx", "5xx"};
    for (unsigned i = 0; i < PUB_ROUTES_MAX; i++) {
        const char *route = rest_route_name(i);
        if (route == NULL)
            break;
        for (int k = 0; k < 3; k++) {
            char labels[METRICS_LABELS_MAX];
            snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%s\"", route, cls[k]);
            p->req[i][k] = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_requests_total", labels,
                                       "HTTP requests answered, by route and status class.");
        }
    }
    uint64_t bounds[PUB_LAT_BOUNDS];
    for (int i = 0; i < PUB_LAT_BOUNDS; i++)
        bounds[i] = (UINT64_C(1) << lat_k[i]) * 1000u;
    metrics_histogram(&p->mt, &p->lat, "bourse_rest_request_seconds", "",
                      "Time from a request's last byte to its answer.", bounds, PUB_LAT_BOUNDS, 1000000000);
    p->connections = metrics_add(&p->mt, METRIC_GAUGE, "bourse_rest_connections", "", "Open HTTP connections.");
    for (int r = 1; r < AUTH_REASON_COUNT; r++) {
        char labels[METRICS_LABELS_MAX];
        snprintf(labels, sizeof(labels), "reason=\"%s\"", auth_reason_str((auth_reason_t)r));
        p->auth[r] = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_auth_refused_total", labels,
                                 "Requests refused by authentication, by reason.");
    }
    p->limited_key = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_rate_limited_total", "by=\"key\"",
                                 "Requests answered 429, by the bucket that ran dry.");
    p->limited_addr = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_rate_limited_total", "by=\"address\"",
                                  "Requests answered 429, by the bucket that ran dry.");
    p->timeouts = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_engine_errors_total", "kind=\"timeout\"",
                              "Requests the engine did not answer in time (504), found busy (503) or away (503).");
    p->busy = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_engine_errors_total", "kind=\"busy\"",
                          "Requests the engine did not answer in time (504), found busy (503) or away (503).");
    p->unavailable = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_engine_errors_total", "kind=\"unavailable\"",
                                 "Requests the engine did not answer in time (504), found busy (503) or away (503).");
    p->ks_checks = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_keystore_checks_total", "",
                               "Looks at the key store file (one stat): an unknown key, or the check each second.");
    p->ks_reloads = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_keystore_reloads_total", "",
                                "Rereads of the key store file after it changed (bounded: gateways/common/keywatch.h).");
    p->ks_held = metrics_add(&p->mt, METRIC_COUNTER, "bourse_rest_keystore_held_total", "",
                             "Requests held back by the bound on rereads, answered after the next one.");
    p->open = true;
}

void rest_pub_close(rest_pub_t *p)
{
    p->open = false;
}

void rest_pub_update(rest_pub_t *p, const struct rest_metrics *m, uint32_t connections)
{
    if (!p->open)
        return;
    uint64_t lat[REST_LAT_BUCKETS] = {0}, sum_us = 0;
    for (unsigned i = 0; i < REST_ROUTES_MAX; i++) {
        const route_metrics_t *rm = &m->route[i];
        if (i < PUB_ROUTES_MAX) {
            metric_set(p->req[i][0], rm->status_2xx);
            metric_set(p->req[i][1], rm->status_4xx);
            metric_set(p->req[i][2], rm->status_5xx);
        }
        for (int b = 0; b < REST_LAT_BUCKETS; b++)
            lat[b] += rm->latency[b];
        sum_us += rm->latency_sum_us;
    }
    /* Their bucket b holds [2^(b-1), 2^b) µs; ours i holds up to 2^lat_k[i]. */
    uint64_t total = 0;
    int b = 0;
    for (int i = 0; i <= PUB_LAT_BOUNDS; i++) {
        uint64_t n = 0;
        int upto = i < PUB_LAT_BOUNDS ? (int)lat_k[i] : REST_LAT_BUCKETS - 1;
        for (; b <= upto && b < REST_LAT_BUCKETS; b++)
            n += lat[b];
        metric_set(p->lat.bucket[i], n);
        total += n;
    }
    metric_set(p->lat.sum, sum_us * 1000u);
    metric_set(p->lat.count, total);
    metric_set(p->connections, connections);
    for (int r = 1; r < AUTH_REASON_COUNT; r++)
        metric_set(p->auth[r], m->auth_refused[r]);
    metric_set(p->limited_key, m->rate_limited_key);
    metric_set(p->limited_addr, m->rate_limited_addr);
    metric_set(p->timeouts, m->engine_timeouts);
    metric_set(p->busy, m->engine_busy);
    metric_set(p->unavailable, m->engine_unavailable);
    metric_set(p->ks_checks, m->keystore_checks);
    metric_set(p->ks_reloads, m->keystore_reloads);
    metric_set(p->ks_held, m->keystore_held);
}
