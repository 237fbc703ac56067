/* rest.h - bourse-rest, the REST order-entry gateway: HTTP/1.1 + JSON in
 * front of the engine. One thread runs one loop over the HTTP server
 * (server.h) and the engine link (link.h); requests are authenticated
 * (auth.h, keystore.h), rate limited (ratelimit.h), turned into commands
 * (request.h), and answered from the engine's events (answer.h). */
#ifndef BOURSE_REST_H
#define BOURSE_REST_H

#include <stdatomic.h>
#include <stdbool.h>

#include "err.h"
#include "rest_config.h"

typedef struct rest rest_t;

/* Opens the key store, the access log and the listening socket; the engine
 * is attached by the loop (and re-attached after it restarts). Returns 0 or a
 * negative errno with a one-line message in err. */
int rest_open(rest_t **out, const rest_config_t *cfg, err_t *err);

/* Runs the loop until *stop becomes true. Returns 0. */
int rest_run(rest_t *r, const atomic_bool *stop);

void rest_close(rest_t *r);

/* The gateway's counters (rest_metrics.h: per-route requests and latency
 * histograms, refusals by reason) for an exporter; the loop's thread updates
 * them, so read them from that thread or accept torn snapshots. */
const struct rest_metrics *rest_get_metrics(const rest_t *r);

/* The name of route i ("orders.place"), the index of rest_metrics.route[];
 * NULL past the last route. */
const char *rest_route_name(unsigned i);

#endif
