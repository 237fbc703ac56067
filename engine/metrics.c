/* metrics.c - see metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "registry.h"

void metrics_open(metrics_t *mt, shm_t *shm, uint32_t slot, const char *process)
{
    shm_metrics_page_t *p = shm_metrics_page(shm, slot);
    /* relaxed: the exporter trusts only count, published with release below. */
    atomic_store_explicit(&p->count, 0, memory_order_release);
    memset(p->m, 0, sizeof(p->m));
    snprintf(p->process, sizeof(p->process), "%s", process);
    atomic_store_explicit(&p->owner,
                          atomic_load_explicit(&shm_client(shm, slot)->lease, memory_order_acquire),
                          memory_order_relaxed);
    mt->page = p;
}

_Atomic uint64_t *metrics_add(metrics_t *mt, enum metric_kind kind, const char *name, const char *labels,
                              const char *help)
{
    shm_metrics_page_t *p = mt->page;
    uint32_t n = atomic_load_explicit(&p->count, memory_order_relaxed);
    if (p == NULL || n >= METRICS_PER_PAGE || strlen(name) >= METRICS_NAME_MAX ||
        strlen(labels) >= METRICS_LABELS_MAX)
        return NULL;
    shm_metric_t *e = &p->m[n];
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->labels, sizeof(e->labels), "%s", labels);
    snprintf(e->help, sizeof(e->help), "%s", help);
    e->kind = (uint32_t)kind;
    e->scale = 1;
    atomic_store_explicit(&e->value, 0, memory_order_relaxed);
    /* release pairs with the exporter's acquire load of count: the entry's
     * name, labels and help are complete before it is counted. */
    atomic_store_explicit(&p->count, n + 1, memory_order_release);
    return &e->value;
}

int metrics_histogram(metrics_t *mt, metrics_hist_t *h, const char *name, const char *labels, const char *help,
                      const uint64_t *bounds, uint32_t nbounds, uint32_t scale)
{
    if (nbounds > METRICS_BUCKETS_MAX)
        return -EINVAL;
    memset(h, 0, sizeof(*h));
    h->n = nbounds;
    char full[METRICS_NAME_MAX + 16], lab[METRICS_LABELS_MAX + 32];
    for (uint32_t i = 0; i <= nbounds; i++) {
        char le[32];
        if (i < nbounds) {
            h->bound[i] = bounds[i];
            snprintf(le, sizeof(le), "%" PRIu64, bounds[i]);
        } else {
            snprintf(le, sizeof(le), "+Inf");
        }
        snprintf(lab, sizeof(lab), "%s%sle=\"%s\"", labels, labels[0] ? "," : "", le);
        snprintf(full, sizeof(full), "%s_bucket", name);
        if ((h->bucket[i] = metrics_add(mt, METRIC_BUCKET, full, lab, help)) == NULL)
            return -ENOSPC;
        /* The bound is in the recorded unit; the exporter divides by scale. */
        ((shm_metric_t *)((char *)h->bucket[i] - offsetof(shm_metric_t, value)))->scale = scale;
    }
    snprintf(full, sizeof(full), "%s_sum", name);
    if ((h->sum = metrics_add(mt, METRIC_SUM, full, labels, help)) == NULL)
        return -ENOSPC;
    ((shm_metric_t *)((char *)h->sum - offsetof(shm_metric_t, value)))->scale = scale;
    snprintf(full, sizeof(full), "%s_count", name);
    if ((h->count = metrics_add(mt, METRIC_COUNT, full, labels, help)) == NULL)
        return -ENOSPC;
    return 0;
}
