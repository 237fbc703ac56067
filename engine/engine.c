/* engine.c - see engine.h. */
#include "engine.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "metrics.h"
#include "params.h"
#include "snapshot.h"
#include "registry.h"

/* The matcher's sink: each event becomes a record of the event log; the last
 * event of a command carries REC_LAST, which is how a client knows its answer
 * is complete. */
static void engine_on_events(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    engine_t *e = ctx;
    if (e->recovering)
        return; /* replayed commands were answered before the crash */
    rec_t r;
    r.seq = 0;
    r.ref = e->cur_ref;
    for (uint32_t i = 0; i < n; i++) {
        r.ts_ns = ev[i].ts_ns;
        r.cmd_seq = ev[i].cmd_seq;
        r.type = ev[i].type;
        r.src = ev[i].src;
        r.len = (uint16_t)ev[i].len;
        r.flags = last && i + 1 == n ? REC_LAST : 0;
        memcpy(r.payload, ev[i].u.raw, sizeof(r.payload));
        evlog_append(&e->log, &r);
        if (ev[i].type == EVT_REJECTED) {
            e->rejects++;
            metric_add(&e->stats->rejects_by_reason[ev[i].u.rejected.reason % ENGINE_STAT_REASONS], 1);
        } else if (ev[i].type == EVT_TRADE) {
            metric_add(&e->stats->trades, 1);
        }
    }
    e->events += n;
}

/* A cheap clock for the apply-latency histogram: the TSC where there is one
 * (bounds converted to ticks at start), else the monotonic clock. */
static inline uint64_t engine_ticks(void)
{
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return clock_mono_ns();
#endif
}

static void engine_calibrate(engine_t *e)
{
    _Static_assert((int)ENGINE_STAT_REASONS >= (int)REJ_REASON_MAX, "a reject counter per reason");
    static const uint64_t bounds_ns[] = ENGINE_STAT_BOUNDS_NS;
    _Static_assert(sizeof(bounds_ns) / sizeof(bounds_ns[0]) == ENGINE_STAT_BUCKETS - 1, "one bound a bucket");
    double ticks_per_ns = 1.0;
#if defined(__x86_64__)
    uint64_t n0 = clock_mono_ns(), t0 = engine_ticks();
    while (clock_mono_ns() - n0 < 5000000)
        ;
    ticks_per_ns = (double)(engine_ticks() - t0) / (double)(clock_mono_ns() - n0);
#endif
    e->ns_per_tick = 1.0 / ticks_per_ns;
    for (int i = 0; i < ENGINE_STAT_BUCKETS - 1; i++)
        e->bucket_ticks[i] = (uint64_t)((double)bounds_ns[i] * ticks_per_ns);
}

/* Per-command statistics for the exporter: by type, and how long the
 * command took from sequencing to its events published. */
static inline void engine_account(engine_t *e, uint16_t type, uint64_t ticks)
{
    shm_engine_stats_t *st = e->stats;
    metric_add(&st->commands_by_type[type < ENGINE_STAT_TYPES ? type : 0], 1);
    int b = 0;
    while (b < ENGINE_STAT_BUCKETS - 1 && ticks > e->bucket_ticks[b])
        b++;
    metric_add(&st->apply_ns_bucket[b], 1);
    metric_add(&st->apply_ns_sum, (uint64_t)((double)ticks * e->ns_per_tick));
}

static int engine_paths(engine_t *e, err_t *err)
{
    int a = snprintf(e->journal_dir, sizeof(e->journal_dir), "%s/%s/journal", e->cfg.data_dir, e->cfg.instance);
    int b = snprintf(e->snapshot_dir, sizeof(e->snapshot_dir), "%s/%s/snapshots", e->cfg.data_dir,
                     e->cfg.instance);
    if (a < 0 || b < 0 || (size_t)a >= sizeof(e->journal_dir) || (size_t)b >= sizeof(e->snapshot_dir))
        return err_set(err, -ENAMETOOLONG, "data_dir %s: the journal path would pass %d bytes", e->cfg.data_dir,
                       JOURNAL_DIR_MAX - 1);
    return 0;
}

static uint64_t engine_clock(engine_t *e);
static void engine_journal(engine_t *e, const mcmd_t *m);

/* The config grows the history's capacities: a resize command, the first
 * of the new journal file, so that every replay grows them at this seq too.
 * It is applied before it is journaled: a resize that cannot be done (out
 * of memory) leaves nothing behind, and the engine does not start. */
static int engine_resize(engine_t *e, const char *diff, err_t *err)
{
    params_t p;
    params_make(&p, &e->cfg.matcher);
    int rc = journal_set_params(e->journal, (const uint8_t *)&p);
    if (rc < 0)
        return err_set(err, rc, "journal: the resize must be its first record");
    mcmd_t *m = &e->cmd;
    memset(m, 0, sizeof(*m));
    m->seq = e->commands + 1;
    m->ts_ns = engine_clock(e);
    recover_resize_cmd(m, &e->cfg.matcher);
    e->cur_ref = 0;
    e->recovering = true; /* nobody is attached yet to see its answer */
    rc = recover_step(&e->m, engine_on_events, e, m, err);
    e->recovering = false;
    if (rc < 0)
        return rc;
    e->commands = m->seq;
    engine_journal(e, m);
    log_info("[matcher] %s from seq %" PRIu64 " (a resize command: replay grows it there too)", diff, m->seq);
    return 0;
}

/* The state from the newest snapshot and the journal after it, then a new
 * journal file for what comes next. */
static int engine_recover(engine_t *e, err_t *err)
{
    const config_t *cfg = &e->cfg;
    recover_opts_t opts = {.sink = engine_on_events, .sink_ctx = e, .until_seq = UINT64_MAX,
                           .use_snapshots = 1, .repair = 1};
    int rc = fs_mkdir_p(e->journal_dir);
    if (rc < 0)
        return err_set(err, rc, "journal directory %s: %s", e->journal_dir, strerror(-rc));
    e->recovering = true;
    uint64_t t0 = clock_mono_ns();
    rc = recover(&e->m, &cfg->matcher, engine_on_events, e, e->snapshot_dir, e->journal_dir, &opts,
                     &e->recovered, err);
    e->recovering = false;
    if (rc < 0)
        return rc;
    recover_result_t *r = &e->recovered;
    e->commands = r->last_seq;
    e->last_now = r->last_ts_ns;
    e->last_snapshot_seq = r->snapshot_seq;
    if (r->snapshot_seq > 0 || r->replayed > 0)
        log_info("recovered to seq %" PRIu64 " in %.1f ms: snapshot %" PRIu64 ", %" PRIu64 " journaled commands",
                 r->last_seq, (double)(clock_mono_ns() - t0) / 1e6, r->snapshot_seq, r->replayed);
    if (r->note[0] != '\0')
        log_error("recovery: %s", r->note);
    if (r->warning[0] != '\0')
        log_warn("recovery: %s", r->warning);
    /* The history's capacities stay unless the config grows them; a config
     * that would shrink one is refused, as history made with the larger one
     * could not be replayed under it. */
    char diff[128];
    params_change_t change = params_compare(matcher_config(e->m), &cfg->matcher, diff, sizeof(diff));
    if (change == PARAMS_SHRINK)
        return err_set(err, -EINVAL, "[matcher] %s: the config is smaller than the capacity the history in %s/%s "
                       "runs with; a capacity only grows (set it to at least the history's, or use another "
                       "data_dir)", diff, cfg->data_dir, cfg->instance);
    params_t p;
    params_make(&p, matcher_config(e->m));
    journal_config_t jc;
    journal_config_defaults(&jc);
    memcpy(jc.dir, e->journal_dir, sizeof(jc.dir));
    jc.fsync = (journal_fsync_t)cfg->fsync;
    jc.fsync_interval_ms = cfg->fsync_interval_ms;
    jc.roll_bytes = (uint64_t)cfg->journal_roll_mb << 20;
    jc.buffer_bytes = cfg->journal_buffer_kb << 10;
    jc.idle = cfg->idle == IDLE_SPIN ? IDLE_YIELD : cfg->idle;
    jc.idle_sleep_max_us = cfg->idle_sleep_max_us;
    memcpy(jc.params, &p, sizeof(p));
    rc = journal_open(&e->journal, &jc, e->commands + 1, err);
    if (rc < 0 || change == PARAMS_SAME)
        return rc;
    return engine_resize(e, diff, err);
}

int engine_open(engine_t **out, const config_t *cfg, err_t *err)
{
    engine_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return err_set(err, -ENOMEM, "out of memory");
    e->cfg = *cfg;
    e->snap_pid = -1;
    e->snap_gate = -1;
    e->data_lock = -1;
    int rc = engine_paths(e, err);
    if (rc < 0) {
        free(e);
        return rc;
    }
    /* The state first, the segment after: clients that find the segment
     * find an engine ready to apply their commands. The data lock makes this
     * the only engine recovering and writing this instance's journal. */
    if (cfg->journal) {
        char lock[JOURNAL_DIR_MAX + 16];
        int holder = 0;
        snprintf(lock, sizeof(lock), "%s/%s", cfg->data_dir, cfg->instance);
        rc = fs_mkdir_p(lock);
        if (rc == 0) {
            snprintf(lock, sizeof(lock), "%s/%s/lock", cfg->data_dir, cfg->instance);
            rc = e->data_lock = fs_lock(lock, &holder);
        }
        if (rc == -EBUSY)
            err_set(err, rc, "instance %s (data directory %s/%s) is owned by a live engine (pid %d)",
                    cfg->instance, cfg->data_dir, cfg->instance, holder);
        else if (rc < 0)
            err_set(err, rc, "data directory %s/%s: %s", cfg->data_dir, cfg->instance, strerror(-rc));
        if (rc < 0) {
            engine_close(e);
            return rc;
        }
        rc = engine_recover(e, err);
    } else {
        rc = matcher_create(&e->m, &cfg->matcher, engine_on_events, e, err);
    }
    if (rc < 0) {
        engine_close(e);
        return rc;
    }
    shm_geometry_t geo = {cfg->clients, cfg->ring_capacity, cfg->readers, cfg->event_log_capacity,
                          sizeof(rec_t)};
    rc = shm_create(&e->shm, cfg->instance, &geo, cfg->shm_mode, err);
    if (rc < 0) {
        engine_close(e);
        return rc;
    }
    e->nclients = e->shm->geo.client_max;
    e->stats = shm_engine_stats(e->shm);
    atomic_store_explicit(&e->stats->commands, e->commands, memory_order_relaxed);
    atomic_store_explicit(&e->stats->durable_seq, e->commands, memory_order_release);
    rc = evlog_writer_init(&e->log, shm_evlog(e->shm), e->shm->geo.evlog_capacity, sizeof(rec_t));
    if (rc < 0) {
        engine_close(e);
        return err_set(err, rc, "event log of the new segment is inconsistent");
    }
    idle_init(&e->idle, cfg->idle, (uint64_t)cfg->idle_sleep_max_us * 1000u);
    engine_calibrate(e);
    if (cfg->snapshot_interval_s > 0)
        e->next_snapshot_ns = clock_mono_ns() + (uint64_t)cfg->snapshot_interval_s * 1000000000u;
    engine_housekeep(e);
    *out = e;
    return 0;
}

/* Lets the snapshot child publish once the journal holds its seq; with
 * give_up, closes the gate unsaid when it does not (the file is discarded). */
static void engine_gate_snapshot(engine_t *e, bool give_up)
{
    if (e->snap_gate < 0)
        return;
    if (journal_durable_seq(e->journal) >= e->snap_seq) {
        (void)!send(e->snap_gate, "", 1, MSG_NOSIGNAL); /* a dead child: EPIPE, no signal */
    } else if (!give_up) {
        return;
    }
    close(e->snap_gate);
    e->snap_gate = -1;
}

/* [journal] retain = snapshots: after the snapshots are pruned, the journal
 * files that only the deleted ones needed go too. The oldest snapshot left
 * bounds it, not the newest, so that a recovery falling back from a damaged
 * snapshot to any older one kept still finds its whole journal tail. Runs on
 * the engine thread like snapshot_prune: a few unlinks once a snapshot. */
static void engine_retain(engine_t *e)
{
    if (e->cfg.journal_retain != CONFIG_RETAIN_SNAPSHOTS)
        return;
    uint64_t oldest = snapshot_oldest(e->snapshot_dir);
    journal_prune_t pr;
    err_t err = {0};
    int rc = journal_prune(e->journal_dir, oldest, &pr, &err);
    if (rc < 0)
        log_error("journal retention: %s", err.msg);
    if (pr.files == 0)
        return;
    log_info("journal retention: %" PRIu32 " file(s) deleted, records up to seq %" PRIu64 " (the oldest snapshot "
             "kept is at seq %" PRIu64 ")", pr.files, pr.end_seq, oldest);
    if (e->stats != NULL) { /* NULL when engine_open failed before the segment */
        metric_add(&e->stats->journal_files_pruned, pr.files);
        atomic_store_explicit(&e->stats->journal_pruned_seq, pr.end_seq, memory_order_relaxed);
    }
}

/* Collects a snapshot child. Returns 1 when none runs any more. */
static int engine_reap_snapshot(engine_t *e, bool block)
{
    if (e->snap_pid < 0)
        return 1;
    engine_gate_snapshot(e, block);
    int status;
    pid_t p = waitpid(e->snap_pid, &status, block ? 0 : WNOHANG);
    if (p == 0)
        return 0;
    if (p == e->snap_pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        e->last_snapshot_seq = e->snap_seq;
        atomic_store_explicit(&e->stats->snapshot_seq, e->snap_seq, memory_order_relaxed);
        log_info("snapshot at seq %" PRIu64 " written in %.1f ms (matcher paused %.2f ms for the fork)",
                 e->snap_seq, (double)(clock_mono_ns() - e->snap_started_ns) / 1e6,
                 (double)e->snap_pause_ns / 1e6);
        snapshot_prune(e->snapshot_dir, (int)e->cfg.snapshot_keep);
        engine_retain(e);
    } else {
        log_error("snapshot at seq %" PRIu64 " failed", e->snap_seq);
    }
    if (e->snap_gate >= 0) {
        close(e->snap_gate);
        e->snap_gate = -1;
    }
    e->snap_pid = -1;
    return 1;
}

int engine_snapshot(engine_t *e)
{
    if (e->snap_pid >= 0)
        return -EBUSY;
    if (!e->cfg.journal || e->commands == e->last_snapshot_seq)
        return 0; /* nothing to write, or nothing new */
    /* fork() copies the page tables, not the pages: the child writes the
     * state as of now while the matcher goes on. The matcher's pause is the
     * fork itself; huge pages keep it short. */
    /* The child publishes its file when the journal holds e->commands: the
     * gate's write end says so (engine_gate_snapshot), or closes unsaid. */
    int gate[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gate) < 0)
        return -errno;
    uint64_t t0 = clock_mono_ns();
    pid_t pid = fork();
    if (pid < 0) {
        int rc = -errno;
        close(gate[0]);
        close(gate[1]);
        return rc;
    }
    if (pid == 0) {
        /* Drop every inherited descriptor but the gate (the data and segment
         * locks, the journal's ring): if the engine dies, its locks must die
         * with it, not live on in a child that is only writing a file. */
        if (dup2(gate[0], 3) < 0)
            _exit(1);
        close_range(4, ~0u, 0);
        err_t err = {0};
        int rc = snapshot_write(e->snapshot_dir, e->m, e->commands, 3, &err);
        if (rc < 0)
            fprintf(stderr, "bourse-engine: %s\n", err.msg);
        _exit(rc < 0 ? 1 : 0);
    }
    close(gate[0]);
    e->snap_gate = gate[1];
    e->snap_pid = pid;
    e->snap_seq = e->commands;
    e->snap_started_ns = t0;
    e->snap_pause_ns = clock_mono_ns() - t0;
    atomic_store_explicit(&e->stats->snapshot_pause_ns, e->snap_pause_ns, memory_order_relaxed);
    if (e->snap_pause_ns > (uint64_t)e->cfg.snapshot_max_pause_ms * 1000000u)
        log_error("snapshot at seq %" PRIu64 ": the matcher paused %.1f ms for the fork, over max_pause_ms = %u "
                  "(fewer or smaller pools, or transparent huge pages, shorten it)",
                  e->snap_seq, (double)e->snap_pause_ns / 1e6, e->cfg.snapshot_max_pause_ms);
    return 0;
}

void engine_close(engine_t *e)
{
    if (e == NULL)
        return;
    engine_reap_snapshot(e, true);
    if (e->journal != NULL) {
        int rc = journal_close(e->journal);
        if (rc < 0)
            log_error("journal: closing: %s", strerror(-rc));
        /* The close drained and synced every record: the commands of the
         * last passes are durable, and a client waiting for them (bourse
         * send) must learn so before shm_close() marks the segment stopped.
         * release pairs with client_durable_seq(); the STOPPED store after
         * it is what client_wait_durable() acquires before its last look. */
        if (rc == 0 && e->stats != NULL)
            atomic_store_explicit(&e->stats->durable_seq, e->commands, memory_order_release);
        /* A clean stop leaves a snapshot of the final state: the next start
         * loads it instead of replaying the whole journal. */
        if (rc == 0 && e->m != NULL && e->commands > e->last_snapshot_seq) {
            err_t err = {0};
            if (snapshot_write(e->snapshot_dir, e->m, e->commands, -1, &err) < 0)
                log_error("%s", err.msg);
            else {
                snapshot_prune(e->snapshot_dir, (int)e->cfg.snapshot_keep);
                engine_retain(e);
            }
        }
    }
    shm_close(e->shm);
    matcher_destroy(e->m);
    if (e->data_lock >= 0)
        close(e->data_lock);
    free(e);
}

/* The engine clock: wall time, but never earlier than the last command's, so
 * that command times (which order GTD expiries) never go back. */
static uint64_t engine_clock(engine_t *e)
{
    uint64_t now = clock_realtime_ns();
    if (now < e->last_now)
        now = e->last_now;
    e->last_now = now;
    return now;
}

/* Journals a sequenced command before it is applied. A full buffer waits for
 * the writer (back-pressure: the rings fill and clients hear "busy"); a
 * journal that failed stops the engine, which must not acknowledge what it
 * cannot keep. */
static void engine_journal(engine_t *e, const mcmd_t *m)
{
    if (e->journal == NULL || e->journal_failed)
        return;
    recover_cmd_t rec;
    rec.ref = e->cur_ref;
    rec.cmd = *m;
    int rc;
    while ((rc = journal_append(e->journal, &rec, sizeof(rec), m->seq)) == -EAGAIN)
        idle_pause();
    if (rc < 0)
        e->journal_failed = true;
}

/* Sequences, journals and applies one command: stamps it with the sequence
 * number and the engine clock, the only inputs besides the command that
 * decide its events. */
static void engine_apply(engine_t *e, const rec_t *cmd, uint64_t now)
{
    mcmd_t *m = &e->cmd;
    m->seq = ++e->commands;
    m->ts_ns = now;
    m->type = cmd->type;
    m->src = cmd->src;
    m->len = cmd->len;
    /* Bytes past len are zero whatever the client left there: the
     * command's events depend on its payload only. A payload too long for
     * any command is refused by recover_step() (and not copied). */
    uint32_t n = cmd->len <= sizeof(m->u.raw) ? cmd->len : 0;
    memcpy(m->u.raw, cmd->payload, n);
    memset(m->u.raw + n, 0, sizeof(m->u.raw) - n);
    e->cur_ref = cmd->ref;
    uint64_t t0 = engine_ticks();
    engine_journal(e, m);
    recover_step(&e->m, engine_on_events, e, m, NULL); /* fails only for a resize, which no client makes */
    if (m->type == CMD_SNAPSHOT)
        engine_snapshot(e); /* its state includes this command, which changes nothing */
    engine_account(e, m->type, engine_ticks() - t0);
}

/* GTD expiry is a command like any other: when an expiry is due and no client
 * command came to carry it, the engine sequences a timer of its own. */
static void engine_timer(engine_t *e)
{
    uint64_t now = engine_clock(e);
    if (matcher_next_expiry(e->m) > now)
        return;
    mcmd_t *m = &e->cmd;
    memset(m, 0, sizeof(*m));
    m->seq = ++e->commands;
    m->ts_ns = now;
    m->type = CMD_TIMER;
    m->src = ENGINE_SRC;
    e->cur_ref = 0;
    engine_journal(e, m);
    recover_step(&e->m, engine_on_events, e, m, NULL);
    evlog_flush(&e->log);
}

/* A client broke its ring's indices: nothing more from it can be trusted. The
 * ring is quarantined, not freed: its owner may still be producing into it, so
 * it is reset and freed only once the owner has closed it or died. */
static void engine_ring_broken(engine_t *e, uint32_t i)
{
    atomic_fetch_add_explicit(&e->stats->rings_corrupt, 1, memory_order_relaxed);
    e->ring_state[i] = RING_BROKEN;
}

static int engine_drain(engine_t *e, uint32_t i, uint64_t now)
{
    ring_t *r = &e->rings[i];
    int64_t n = ring_avail(r);
    if (n <= 0) {
        if (n < 0)
            engine_ring_broken(e, i);
        return 0;
    }
    if (n > ENGINE_BURST)
        n = ENGINE_BURST;
    /* Copy first and hand the slots back at once: a fast producer refills while
     * we apply. The source field is ours to set, not the client's. */
    for (int64_t k = 0; k < n; k++) {
        memcpy(&e->burst[k], ring_slot_r(r, (uint64_t)k), sizeof(rec_t));
        e->burst[k].src = (uint16_t)i;
    }
    ring_consume(r, (uint64_t)n);
    for (int64_t k = 0; k < n; k++) {
        /* Start the cache misses of the next two commands before this one. */
        if (k + 2 < n)
            matcher_prefetch(e->m, e->burst[k + 2].type, e->burst[k + 2].payload, 2);
        if (k + 1 < n)
            matcher_prefetch(e->m, e->burst[k + 1].type, e->burst[k + 1].payload, 1);
        engine_apply(e, &e->burst[k], now);
    }
    return (int)n;
}

/* Frees a slot whose owner is gone, after its last commands were applied. */
static void engine_free_slot(engine_t *e, uint32_t i, uint64_t seen)
{
    e->ring_state[i] = LEASE_FREE;
    registry_free_client(e->shm, i, seen);
}

/* Acks wait for durable_seq. Durable mode: what the journal has on disk;
 * fast mode: what has been sequenced (the events are in the log). */
static void engine_publish_durable(engine_t *e)
{
    uint64_t d = e->journal != NULL && e->cfg.durable_acks ? journal_durable_seq(e->journal) : e->commands;
    if (d != e->published_durable) {
        e->published_durable = d;
        /* release pairs with client_durable_seq(): the events of every
         * command up to d are in the log before a gateway acts on d. */
        atomic_store_explicit(&e->stats->durable_seq, d, memory_order_release);
    }
}

int engine_poll(engine_t *e)
{
    int work = 0;
    uint64_t now = 0;
    for (uint32_t i = 0; i < e->nclients; i++) {
        shm_client_t *c = shm_client(e->shm, i);
        /* acquire pairs with the client's release of ACTIVE/CLOSING: its
         * records published before that are visible to the drain below. */
        uint64_t lease = atomic_load_explicit(&c->lease, memory_order_acquire);
        unsigned st = LEASE_STATE(lease);
        if (st != LEASE_ACTIVE && st != LEASE_CLOSING)
            continue;
        if (e->ring_state[i] == RING_BROKEN) {
            if (st == LEASE_CLOSING)
                engine_free_slot(e, i, lease);
            continue;
        }
        if (e->ring_state[i] == LEASE_FREE) {
            if (ring_attach_consumer(&e->rings[i], shm_ring(e->shm, i), e->shm->geo.ring_capacity,
                                     sizeof(rec_t)) < 0) {
                engine_ring_broken(e, i);
                continue;
            }
            e->ring_state[i] = LEASE_ACTIVE;
        }
        if (now == 0)
            now = engine_clock(e);
        int n = engine_drain(e, i, now);
        work += n;
        if (st == LEASE_CLOSING && n == 0 && e->ring_state[i] == LEASE_ACTIVE)
            engine_free_slot(e, i, lease);
    }
    if (work > 0) {
        evlog_flush(&e->log);
        /* Single writer, relaxed: a reader of the stats page sees each counter
         * as of some recent pass, which is all a counter promises. */
        atomic_store_explicit(&e->stats->commands, e->commands, memory_order_relaxed);
        atomic_store_explicit(&e->stats->events, e->events, memory_order_relaxed);
        atomic_store_explicit(&e->stats->rejects, e->rejects, memory_order_relaxed);
    }
    engine_publish_durable(e);
    return work;
}

void engine_housekeep(engine_t *e)
{
    shm_t *s = e->shm;
    for (uint32_t i = 0; i < s->geo.client_max; i++) {
        shm_client_t *c = shm_client(s, i);
        uint64_t lease = atomic_load_explicit(&c->lease, memory_order_acquire);
        unsigned st = LEASE_STATE(lease);
        if ((st == LEASE_ACTIVE || st == LEASE_CLAIMING) && registry_owner_dead(lease, atomic_load_explicit(&c->start_time, memory_order_relaxed))) {
            /* Mark it closing: the next poll applies what the dead client had
             * published, then frees the slot. */
            uint64_t closing = LEASE_MAKE(LEASE_PID(lease), LEASE_CLOSING);
            if (atomic_compare_exchange_strong_explicit(&c->lease, &lease, closing,
                                                        memory_order_acq_rel, memory_order_relaxed))
                atomic_fetch_add_explicit(&e->stats->clients_reclaimed, 1, memory_order_relaxed);
        }
    }
    for (uint32_t i = 0; i < s->geo.reader_max; i++) {
        shm_reader_t *r = shm_reader(s, i);
        uint64_t lease = atomic_load_explicit(&r->lease, memory_order_acquire);
        if (registry_owner_dead(lease, atomic_load_explicit(&r->start_time, memory_order_relaxed)) &&
            atomic_compare_exchange_strong_explicit(&r->lease, &lease, LEASE_MAKE(0, LEASE_FREE),
                                                    memory_order_acq_rel, memory_order_relaxed))
            atomic_fetch_add_explicit(&e->stats->readers_reclaimed, 1, memory_order_relaxed);
    }
    shm_engine_stats_t *st = e->stats;
    atomic_store_explicit(&st->busy_passes, e->busy_passes, memory_order_relaxed);
    atomic_store_explicit(&st->idle_passes, e->idle_passes, memory_order_relaxed);
    atomic_store_explicit(&st->heartbeat_ns, clock_realtime_ns(), memory_order_relaxed);
    e->next_housekeeping_ns = clock_mono_ns() + (uint64_t)e->cfg.housekeeping_ms * 1000000u;
}

int engine_run(engine_t *e, const atomic_bool *stop, err_t *err)
{
    int rc = idle_pin_cpu(e->cfg.cpu, err);
    if (rc < 0)
        return rc;
    uint32_t check = 0;
    while (!atomic_load_explicit(stop, memory_order_relaxed)) {
        if (engine_poll(e) > 0) {
            e->busy_passes++;
            idle_reset(&e->idle);
        } else {
            e->idle_passes++;
            /* Idle is when a GTD expiry no command has carried gets a timer. */
            if ((e->idle_passes & 15) == 0 && matcher_next_expiry(e->m) != UINT64_MAX)
                engine_timer(e);
            /* Acks wait on the disk: stay close while the journal catches up. */
            if (e->published_durable < e->commands && !e->journal_failed)
                sched_yield();
            else
                idle_wait(&e->idle);
        }
        if (e->journal_failed) {
            err_t why = {0};
            journal_error(e->journal, &why);
            engine_housekeep(e);
            return err_set(err, -EIO, "journal failed, stopping (commands after seq %" PRIu64
                           " are not durable): %s", journal_durable_seq(e->journal), why.msg);
        }
        /* The clock is read every 64 passes, not every pass. */
        if ((++check & 63) == 0 && clock_mono_ns() >= e->next_housekeeping_ns) {
            engine_housekeep(e);
            engine_reap_snapshot(e, false);
            if (e->next_snapshot_ns != 0 && clock_mono_ns() >= e->next_snapshot_ns) {
                engine_snapshot(e);
                e->next_snapshot_ns = clock_mono_ns() + (uint64_t)e->cfg.snapshot_interval_s * 1000000000u;
            }
        }
    }
    engine_housekeep(e);
    return 0;
}
