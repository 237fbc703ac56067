/* export.h - the Prometheus text exposition of an instance: the engine's stats
 * page (commands, rejects, trades, apply latency, durability, rings, readers)
 * and the metrics pages gateways publish (metrics.h). Reads the segment only,
 * through shm_inspect(): it never takes a ring or a reader slot. */
#ifndef BOURSE_EXPORT_H
#define BOURSE_EXPORT_H

#include <stddef.h>

/* A growing text buffer. */
typedef struct out {
    char *buf;
    size_t len, cap;
    int failed;             /* out of memory: the text is incomplete */
} out_t;

void out_printf(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends every metric of instance to o (format 0.0.4). Without a segment,
 * only bourse_exporter_segment_attached 0. */
void export_metrics(out_t *o, const char *instance);

#endif
