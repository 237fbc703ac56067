/* metrics_writer.c - test-metrics-writer: a stand-in gateway for the exporter
 * test. Attaches with a command ring, publishes a counter, a gauge and a
 * histogram on its metrics page, bumps them, then waits to be killed.
 *
 *   test-metrics-writer INSTANCE */
#include <stdio.h>
#include <unistd.h>

#include "client.h"
#include "metrics.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test-metrics-writer INSTANCE\n");
        return 2;
    }
    client_t *c;
    err_t err = {0};
    if (client_attach(&c, argv[1], "test-gateway", CLIENT_SEND, &err) < 0) {
        fprintf(stderr, "test-metrics-writer: %s\n", err.msg);
        return 1;
    }
    metrics_t mt;
    metrics_open(&mt, c->shm, (uint32_t)c->slot, "test-gateway");
    _Atomic uint64_t *ok = metrics_add(&mt, METRIC_COUNTER, "bourse_test_requests_total", "route=\"/v1/x\",status=\"200\"",
                                       "Requests answered, by route and status.");
    _Atomic uint64_t *bad = metrics_add(&mt, METRIC_COUNTER, "bourse_test_requests_total",
                                        "route=\"/v1/x\",status=\"400\"", "Requests answered, by route and status.");
    _Atomic uint64_t *conns = metrics_add(&mt, METRIC_GAUGE, "bourse_test_connections", "", "Open connections.");
    metrics_hist_t h;
    static const uint64_t bounds[] = {100000, 1000000, 10000000};
    if (!ok || !bad || !conns ||
        metrics_histogram(&mt, &h, "bourse_test_request_seconds", "", "Request latency.", bounds, 3, 1000000000) < 0) {
        fprintf(stderr, "test-metrics-writer: metrics page full\n");
        return 1;
    }
    metric_add(ok, 7);
    metric_add(bad, 2);
    metric_set(conns, 3);
    metrics_observe(&h, 50000);     /* 50 us */
    metrics_observe(&h, 500000);    /* 0.5 ms */
    metrics_observe(&h, 500000);
    metrics_observe(&h, 50000000);  /* 50 ms: +Inf */
    printf("ready\n");
    fflush(stdout);
    pause();
    return 0;
}
