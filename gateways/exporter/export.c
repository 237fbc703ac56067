/* export.c - see export.h. */
#include "export.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "metrics.h"
#include "proc.h"
#include "prototext.h"
#include "registry.h"

/* ---------------------------------------------------------------- output */

void out_printf(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->cap > o->len ? o->cap - o->len : 0;
    int n = vsnprintf(o->buf + o->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= room) {
        size_t cap = o->cap ? o->cap : 65536;
        while (cap <= o->len + (size_t)n)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (b == NULL) {
            o->failed = 1;
            return;
        }
        o->buf = b;
        o->cap = cap;
        va_start(ap, fmt);
        vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
    }
    o->len += (size_t)n;
}

static void family(out_t *o, const char *name, const char *type, const char *help)
{
    out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values: names we print are [a-z0-9-] already, and the client names
 * come from the segment: anything else is dropped. */
static void label_value(char *out, size_t n, const char *in, size_t in_max)
{
    size_t k = 0;
    for (size_t i = 0; i < in_max && in[i] != '\0' && k + 1 < n; i++) {
        char c = in[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == ':' || c == '/')
            out[k++] = c;
    }
    out[k] = '\0';
}

static uint64_t rd(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* ---------------------------------------------------------------- engine */

static void engine_metrics(out_t *o, const shm_t *s, uint64_t now_ns)
{
    const shm_header_t *h = s->hdr;
    const shm_engine_stats_t *st = shm_engine_stats(s);
    int up = atomic_load_explicit(&h->state, memory_order_acquire) == SHM_STATE_READY &&
             proc_alive(h->owner_pid, h->owner_start_time);
    family(o, "bourse_engine_up", "gauge", "1 while the engine owning the segment runs.");
    out_printf(o, "bourse_engine_up %d\n", up);
    family(o, "bourse_engine_generation", "gauge", "Segment generation: +1 at each engine start.");
    out_printf(o, "bourse_engine_generation %" PRIu64 "\n", h->generation);
    uint64_t beat = rd(&st->heartbeat_ns);
    family(o, "bourse_engine_heartbeat_age_seconds", "gauge", "Time since the engine's last housekeeping pass.");
    out_printf(o, "bourse_engine_heartbeat_age_seconds %.3f\n", beat && now_ns > beat ? (double)(now_ns - beat) / 1e9 : 0.0);

    family(o, "bourse_engine_commands_total", "counter", "Commands sequenced, by type.");
    for (uint16_t t = 0; t < ENGINE_STAT_TYPES; t++) {
        uint64_t v = rd(&st->commands_by_type[t]);
        const char *name = t == 0 ? "other" : prototext_command_name(t);
        if (v == 0 && (name == NULL || t == 0))
            continue;
        out_printf(o, "bourse_engine_commands_total{type=\"%s\"} %" PRIu64 "\n", name ? name : "other", v);
    }
    family(o, "bourse_engine_events_total", "counter", "Events published to the event log.");
    out_printf(o, "bourse_engine_events_total %" PRIu64 "\n", rd(&st->events));
    family(o, "bourse_engine_trades_total", "counter", "Trades.");
    out_printf(o, "bourse_engine_trades_total %" PRIu64 "\n", rd(&st->trades));
    family(o, "bourse_engine_rejects_total", "counter", "Rejected commands, by reason.");
    for (uint16_t r = 1; r < ENGINE_STAT_REASONS; r++) {
        const char *name = prototext_reason_name(r);
        if (name != NULL)
            out_printf(o, "bourse_engine_rejects_total{reason=\"%s\"} %" PRIu64 "\n", name, rd(&st->rejects_by_reason[r]));
    }

    static const uint64_t bounds[] = ENGINE_STAT_BOUNDS_NS;
    family(o, "bourse_engine_apply_seconds", "histogram",
           "Time from a command's sequencing to its last event published (journal append and matching).");
    uint64_t cum = 0;
    for (int b = 0; b < ENGINE_STAT_BUCKETS; b++) {
        cum += rd(&st->apply_ns_bucket[b]);
        if (b < ENGINE_STAT_BUCKETS - 1)
            out_printf(o, "bourse_engine_apply_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", (double)bounds[b] / 1e9, cum);
        else
            out_printf(o, "bourse_engine_apply_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
    }
    out_printf(o, "bourse_engine_apply_seconds_sum %.9f\n", (double)rd(&st->apply_ns_sum) / 1e9);
    out_printf(o, "bourse_engine_apply_seconds_count %" PRIu64 "\n", cum);

    uint64_t commands = rd(&st->commands), durable = atomic_load_explicit(&st->durable_seq, memory_order_acquire);
    family(o, "bourse_engine_sequence", "gauge", "Sequence number of the last command.");
    out_printf(o, "bourse_engine_sequence %" PRIu64 "\n", commands);
    family(o, "bourse_journal_durable_sequence", "gauge", "Commands up to this sequence are durable (acks released).");
    out_printf(o, "bourse_journal_durable_sequence %" PRIu64 "\n", durable);
    family(o, "bourse_journal_durable_lag_commands", "gauge", "Commands sequenced but not yet durable.");
    out_printf(o, "bourse_journal_durable_lag_commands %" PRIu64 "\n", commands > durable ? commands - durable : 0);
    family(o, "bourse_snapshot_sequence", "gauge", "Sequence the last snapshot covers.");
    out_printf(o, "bourse_snapshot_sequence %" PRIu64 "\n", rd(&st->snapshot_seq));
    family(o, "bourse_snapshot_pause_seconds", "gauge", "The matcher's pause for the last snapshot (the fork).");
    out_printf(o, "bourse_snapshot_pause_seconds %.6f\n", (double)rd(&st->snapshot_pause_ns) / 1e9);
    family(o, "bourse_journal_files_pruned_total", "counter",
           "Journal files deleted by [journal] retain = snapshots since the engine started.");
    out_printf(o, "bourse_journal_files_pruned_total %" PRIu64 "\n", rd(&st->journal_files_pruned));
    family(o, "bourse_engine_clients_reclaimed_total", "counter", "Command rings of dead clients reclaimed.");
    out_printf(o, "bourse_engine_clients_reclaimed_total %" PRIu64 "\n", rd(&st->clients_reclaimed));
    family(o, "bourse_engine_rings_corrupt_total", "counter", "Command rings quarantined for broken indices.");
    out_printf(o, "bourse_engine_rings_corrupt_total %" PRIu64 "\n", rd(&st->rings_corrupt));

    family(o, "bourse_ring_depth_commands", "gauge", "Commands waiting in each attached client's ring.");
    for (uint32_t i = 0; i < s->geo.client_max; i++) {
        const shm_client_t *c = shm_client(s, i);
        uint64_t lease = atomic_load_explicit(&c->lease, memory_order_acquire);
        if (LEASE_STATE(lease) != LEASE_ACTIVE)
            continue;
        const ring_shm_t *r = shm_ring(s, i);
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        char name[SHM_NAME_MAX];
        label_value(name, sizeof(name), c->name, sizeof(c->name));
        out_printf(o, "bourse_ring_depth_commands{slot=\"%u\",client=\"%s\"} %" PRIu64 "\n", i, name,
                   head >= tail ? head - tail : 0);
    }
    uint64_t head = evlog_head(shm_evlog(s));
    family(o, "bourse_event_log_head", "gauge", "Events written to the event log.");
    out_printf(o, "bourse_event_log_head %" PRIu64 "\n", head);
    family(o, "bourse_reader_lag_events", "gauge", "Events each attached event-log reader is behind.");
    for (uint32_t i = 0; i < s->geo.reader_max; i++) {
        const shm_reader_t *r = shm_reader(s, i);
        uint64_t lease = atomic_load_explicit(&r->lease, memory_order_acquire);
        if (LEASE_STATE(lease) != LEASE_ACTIVE)
            continue;
        uint64_t cur = atomic_load_explicit(&r->cursor, memory_order_relaxed);
        char name[SHM_NAME_MAX];
        label_value(name, sizeof(name), r->name, sizeof(r->name));
        out_printf(o, "bourse_reader_lag_events{slot=\"%u\",reader=\"%s\"} %" PRIu64 "\n", i, name,
                   head > cur ? head - cur : 0);
    }
}

/* ---------------------------------------------------------------- gateways */

typedef struct series {
    const shm_metric_t *m;
    char family[METRICS_NAME_MAX];
    char process[32];
    uint32_t slot;
    uint64_t value;
    uint32_t order;          /* registration order within its page */
} series_t;

static int series_cmp(const void *a, const void *b)
{
    const series_t *x = a, *y = b;
    int c = strcmp(x->family, y->family);
    if (c != 0)
        return c;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Copies the printable part of a string that another process wrote. */
static void text(char *out, size_t n, const char *in, size_t in_max, int allow_quotes)
{
    size_t k = 0;
    for (size_t i = 0; i < in_max && in[i] != '\0' && k + 1 < n; i++)
        if (in[i] >= ' ' && in[i] <= '~' && in[i] != '\\' && (allow_quotes || in[i] != '"'))
            out[k++] = in[i];
    out[k] = '\0';
}

static void gateway_metrics(out_t *o, const shm_t *s)
{
    uint32_t cap = s->geo.client_max * METRICS_PER_PAGE;
    series_t *v = calloc(cap ? cap : 1, sizeof(*v));
    if (v == NULL) {
        o->failed = 1;
        return;
    }
    uint32_t n = 0;
    for (uint32_t slot = 0; slot < s->geo.client_max; slot++) {
        const shm_client_t *c = shm_client(s, slot);
        uint64_t lease = atomic_load_explicit(&c->lease, memory_order_acquire);
        const shm_metrics_page_t *p = shm_metrics_page(s, slot);
        if (LEASE_STATE(lease) != LEASE_ACTIVE || atomic_load_explicit(&p->owner, memory_order_relaxed) != lease)
            continue;
        /* acquire pairs with metrics_add(): entries below count are complete. */
        uint32_t cnt = atomic_load_explicit(&p->count, memory_order_acquire);
        if (cnt > METRICS_PER_PAGE)
            continue;
        for (uint32_t i = 0; i < cnt; i++) {
            const shm_metric_t *m = &p->m[i];
            series_t *e = &v[n];
            char name[METRICS_NAME_MAX];
            text(name, sizeof(name), m->name, sizeof(m->name), 0);
            if (name[0] == '\0' || m->kind < METRIC_COUNTER || m->kind > METRIC_COUNT)
                continue;
            snprintf(e->family, sizeof(e->family), "%s", name);
            if (m->kind == METRIC_BUCKET || m->kind == METRIC_SUM || m->kind == METRIC_COUNT) {
                size_t cut = ends_with(name, "_bucket") ? 7 : ends_with(name, "_count") ? 6 : ends_with(name, "_sum") ? 4 : 0;
                e->family[strlen(name) - cut] = '\0';
            }
            e->m = m;
            text(e->process, sizeof(e->process), p->process, sizeof(p->process), 0);
            e->slot = slot;
            e->value = rd(&m->value);
            e->order = i;
            n++;
        }
    }
    qsort(v, n, sizeof(*v), series_cmp);
    const char *last = "";
    uint64_t cum = 0;
    for (uint32_t i = 0; i < n; i++) {
        const shm_metric_t *m = v[i].m;
        if (strcmp(v[i].family, last) != 0) {
            char help[METRICS_HELP_MAX];
            text(help, sizeof(help), m->help, sizeof(m->help), 1);
            family(o, v[i].family,
                   m->kind == METRIC_COUNTER ? "counter" : m->kind == METRIC_GAUGE ? "gauge" : "histogram",
                   help[0] ? help : "(no help)");
            last = v[i].family;
        }
        char name[METRICS_NAME_MAX], labels[METRICS_LABELS_MAX];
        text(name, sizeof(name), m->name, sizeof(m->name), 0);
        text(labels, sizeof(labels), m->labels, sizeof(m->labels), 1);
        char all[METRICS_LABELS_MAX + 64];
        double scale = m->scale > 1 ? (double)m->scale : 1.0;
        if (m->kind == METRIC_BUCKET) {
            /* Buckets are stored one by one, in order; Prometheus wants them
             * cumulative, with le in the exported unit. */
            if (i == 0 || v[i - 1].m->kind != METRIC_BUCKET || strcmp(v[i - 1].family, v[i].family) != 0 ||
                v[i - 1].slot != v[i].slot)
                cum = 0;
            cum += v[i].value;
            char *le = strstr(labels, "le=\"");
            char head[METRICS_LABELS_MAX] = "";
            double bound = 0;
            int inf = le == NULL || strstr(le, "+Inf") != NULL;
            if (le != NULL) {
                snprintf(head, sizeof(head), "%.*s", (int)(le - labels), labels);
                bound = strtod(le + 4, NULL) / scale;
            }
            if (inf)
                snprintf(all, sizeof(all), "process=\"%s\",slot=\"%u\",%sle=\"+Inf\"", v[i].process, v[i].slot, head);
            else
                snprintf(all, sizeof(all), "process=\"%s\",slot=\"%u\",%sle=\"%g\"", v[i].process, v[i].slot, head, bound);
            out_printf(o, "%s{%s} %" PRIu64 "\n", name, all, cum);
            if (inf)
                cum = 0;
            continue;
        }
        snprintf(all, sizeof(all), "process=\"%s\",slot=\"%u\"%s%s", v[i].process, v[i].slot, labels[0] ? "," : "",
                 labels);
        if (m->kind == METRIC_SUM)
            out_printf(o, "%s{%s} %.9g\n", name, all, (double)v[i].value / scale);
        else
            out_printf(o, "%s{%s} %" PRIu64 "\n", name, all, v[i].value);
    }
    free(v);
}

void export_metrics(out_t *o, const char *instance)
{
    family(o, "bourse_exporter_segment_attached", "gauge", "1 when the exporter found the instance's segment.");
    shm_t *s = NULL;
    err_t err = {0};
    if (shm_inspect(&s, instance, &err) < 0) {
        out_printf(o, "bourse_exporter_segment_attached 0\n");
        return;
    }
    out_printf(o, "bourse_exporter_segment_attached 1\n");
    engine_metrics(o, s, clock_realtime_ns());
    gateway_metrics(o, s);
    shm_close(s);
}
