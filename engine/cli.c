/* cli.c - bourse: the operator's command line.
 *   bourse status   segment header, engine, rings with positions, readers and lag
 *   bourse ping     round trips of echo commands through the engine
 *   bourse watch    prints events as JSON lines as they are published
 *   bourse send     one command from key=value words, then its events
 *   bourse snapshot asks the engine for a snapshot now
 *   bourse replay   replays a journal offline (cli_replay.c) */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "clock.h"
#include "idle.h"
#include "proto.h"
#include "prototext.h"
#include "proc.h"
#include "registry.h"
#include "shm.h"
#include "version.h"

static atomic_bool stop_requested; /* for the signal handler of watch */

enum {
    CLI_COUNT_MAX = 100000000,               /* -n bound: ping keeps one sample each */
    PING_TIMEOUT_NS = 2000000000,
    SEND_TIMEOUT_MS = 2000,                  /* send's deadline: answered and durable */
    SEND_TIMEOUT_MS_MAX = 3600000,
    PING_SLEEP_MAX_NS = 100000,
    WATCH_SLEEP_MAX_NS = 10000000,
};

/* Exit statuses (README, "Using it"). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_ERROR = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_REJECTED = 3,     /* send: the answer, durable, is a rejection */
    CLI_EXIT_NOT_DURABLE = 4,  /* send: answered, but not durable by the deadline */
};

static void on_signal(int sig)
{
    (void)sig;
    atomic_store_explicit(&stop_requested, true, memory_order_relaxed);
}

static void usage(FILE *f)
{
    fputs("usage: bourse [-i INSTANCE] COMMAND [ARGS]\n"
          "  status              show the segment, engine, command rings and event-log readers\n"
          "  ping [-n COUNT]     send echo commands and print their round-trip times\n"
          "  watch [-n COUNT] [--raw FILE]  print events as JSON lines, or raw records to FILE\n"
          "  remove              delete a stopped instance's segment files from /dev/shm,\n"
          "                      and those engines killed while starting left\n"
          "  send [-t MS] CMD key=value...  send one command, print its events once it is\n"
          "                      durable (exit 3: rejected; 4: not durable within the\n"
          "                      timeout, 2000 ms unless -t/--timeout says, nothing printed)\n"
          "                      CMD: echo new-order cancel amend mass-cancel add-asset\n"
          "                      add-instrument halt resume add-account set-fee-tier\n"
          "                      define-fee-tier deposit withdraw query-book query-account\n"
          "                      query-order query-refdata query-digest snapshot\n"
          "  snapshot [-t MS]    ask the engine to write a snapshot of its state now\n"
          "  replay DIR [--until SEQ] [--json] [--raw FILE]\n"
          "                      replay an instance's journal offline: digest, counts, events\n"
          "  -i, --instance NAME instance (default: $BOURSE_ENGINE_INSTANCE or 'default')\n"
          "  -h, --help          this text;  -V, --version  the version\n",
          f);
}

static const char *state_name(uint32_t st)
{
    switch (st) {
    case SHM_STATE_INIT: return "starting";
    case SHM_STATE_READY: return "running";
    case SHM_STATE_STOPPED: return "stopped";
    }
    return "unknown";
}

static const char *lease_name(unsigned st)
{
    static const char *const names[] = {"free", "claiming", "active", "closing"};
    return st < 4 ? names[st] : "?";
}

static void fmt_age(char *buf, size_t n, uint64_t now_ns, uint64_t then_ns)
{
    if (then_ns == 0 || then_ns > now_ns) {
        snprintf(buf, n, "-");
        return;
    }
    uint64_t ms = (now_ns - then_ns) / 1000000u;
    if (ms < 10000)
        snprintf(buf, n, "%" PRIu64 " ms", ms);
    else
        snprintf(buf, n, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, ms / 3600000, ms / 60000 % 60, ms / 1000 % 60);
}

static int cmd_status(const char *instance)
{
    shm_t *s;
    err_t err = {0};
    if (shm_inspect(&s, instance, &err) < 0) {
        fprintf(stderr, "bourse status: %s\n", err.msg);
        return 1;
    }
    const shm_header_t *h = s->hdr;
    const shm_engine_stats_t *st = shm_engine_stats(s);
    uint32_t state = atomic_load_explicit(&h->state, memory_order_acquire);
    bool alive = proc_alive(h->owner_pid, h->owner_start_time);
    uint64_t now = clock_realtime_ns();
    char up[32], beat[32];
    fmt_age(up, sizeof(up), now, h->created_ns);
    fmt_age(beat, sizeof(beat), now, atomic_load_explicit(&st->heartbeat_ns, memory_order_relaxed));

    printf("instance   %s  (%s, %.1f MiB, layout v%" PRIu32 ", generation %" PRIu64 ")\n", s->instance,
           s->path, (double)s->size / (1 << 20), h->layout_version, h->generation);
    if (state == SHM_STATE_READY && alive)
        printf("engine     pid %d, running, up %s, heartbeat %s ago\n", (int)h->owner_pid, up, beat);
    else
        printf("engine     pid %d, %s, last heartbeat %s ago\n", (int)h->owner_pid,
               state == SHM_STATE_READY ? "dead: its process is gone (stale segment)" : state_name(state), beat);
    printf("commands   %" PRIu64 " sequenced, %" PRIu64 " events, %" PRIu64 " rejects, "
           "%" PRIu64 " clients and %" PRIu64 " readers reclaimed, %" PRIu64 " broken rings\n",
           atomic_load_explicit(&st->commands, memory_order_relaxed),
           atomic_load_explicit(&st->events, memory_order_relaxed),
           atomic_load_explicit(&st->rejects, memory_order_relaxed),
           atomic_load_explicit(&st->clients_reclaimed, memory_order_relaxed),
           atomic_load_explicit(&st->readers_reclaimed, memory_order_relaxed),
           atomic_load_explicit(&st->rings_corrupt, memory_order_relaxed));
    uint64_t durable = atomic_load_explicit(&st->durable_seq, memory_order_acquire);
    uint64_t commands = atomic_load_explicit(&st->commands, memory_order_relaxed);
    printf("durable    seq %" PRIu64 " (%" PRIu64 " behind); last snapshot at seq %" PRIu64
           ", matcher paused %.2f ms for it\n",
           durable, commands > durable ? commands - durable : 0,
           atomic_load_explicit(&st->snapshot_seq, memory_order_relaxed),
           (double)atomic_load_explicit(&st->snapshot_pause_ns, memory_order_relaxed) / 1e6);
    uint64_t pruned = atomic_load_explicit(&st->journal_files_pruned, memory_order_relaxed);
    if (pruned > 0) /* only with [journal] retain = snapshots */
        printf("journal    %" PRIu64 " file(s) pruned since the engine started; it holds the records after seq %"
               PRIu64 "\n", pruned, atomic_load_explicit(&st->journal_pruned_seq, memory_order_relaxed));

    printf("rings      %u command rings of %u records\n", s->geo.client_max, s->geo.ring_capacity);
    printf("  %-4s  %-8s  %-7s  %-20s  %12s  %12s  %8s\n", "ring", "state", "pid", "client", "head",
           "tail", "depth");
    for (uint32_t i = 0; i < s->geo.client_max; i++) {
        const shm_client_t *c = shm_client(s, i);
        uint64_t lease = atomic_load_explicit(&c->lease, memory_order_acquire);
        if (LEASE_STATE(lease) == LEASE_FREE)
            continue;
        const ring_shm_t *r = shm_ring(s, i);
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        char name[SHM_NAME_MAX];
        snprintf(name, sizeof(name), "%.*s", (int)sizeof(c->name) - 1, c->name);
        printf("  %-4u  %-8s  %-7d  %-20s  %12" PRIu64 "  %12" PRIu64 "  %8" PRIu64 "%s\n", i,
               lease_name(LEASE_STATE(lease)), (int)LEASE_PID(lease), name, head, tail, head - tail,
               registry_owner_dead(lease, atomic_load_explicit(&c->start_time, memory_order_relaxed)) ? "  (dead)" : "");
    }
    uint64_t head = evlog_head(shm_evlog(s));
    printf("event log  %u records, head %" PRIu64 "\n", s->geo.evlog_capacity, head);
    printf("  %-4s  %-8s  %-7s  %-20s  %12s  %12s  %8s\n", "rdr", "state", "pid", "reader", "cursor",
           "lag", "laps");
    for (uint32_t i = 0; i < s->geo.reader_max; i++) {
        const shm_reader_t *r = shm_reader(s, i);
        uint64_t lease = atomic_load_explicit(&r->lease, memory_order_acquire);
        if (LEASE_STATE(lease) == LEASE_FREE)
            continue;
        uint64_t cur = atomic_load_explicit(&r->cursor, memory_order_relaxed);
        char name[SHM_NAME_MAX];
        snprintf(name, sizeof(name), "%.*s", (int)sizeof(r->name) - 1, r->name);
        printf("  %-4u  %-8s  %-7d  %-20s  %12" PRIu64 "  %12" PRIu64 "  %8" PRIu64 "%s\n", i,
               lease_name(LEASE_STATE(lease)), (int)LEASE_PID(lease), name, cur,
               head > cur ? head - cur : 0, atomic_load_explicit(&r->laps, memory_order_relaxed),
               registry_owner_dead(lease, atomic_load_explicit(&r->start_time, memory_order_relaxed)) ? "  (dead)" : "");
    }
    shm_close(s);
    return 0;
}

static int parse_count(int argc, char **argv, const char *cmd, long *count)
{
    optind = 1;
    int opt;
    while ((opt = getopt(argc, argv, ":n:")) != -1) {
        char *end;
        switch (opt) {
        case 'n':
            errno = 0;
            *count = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || *count < 1 || *count > CLI_COUNT_MAX) {
                fprintf(stderr, "bourse %s: -n needs a count from 1 to %d, not '%s'\n", cmd, CLI_COUNT_MAX,
                        optarg);
                return -1;
            }
            break;
        case ':':
            fprintf(stderr, "bourse %s: option -%c needs a value\n", cmd, optopt);
            return -1;
        default:
            if (optopt != 0)
                fprintf(stderr, "bourse %s: unknown option '-%c'\n", cmd, optopt);
            else
                fprintf(stderr, "bourse %s: unknown option '%s'\n", cmd, argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bourse %s: unexpected argument '%s'\n", cmd, argv[optind]);
        return -1;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* bourse ping: round trips of echoes through the sequencer. It claims no
 * command done (an echo changes no state), so it measures up to the answer
 * and does not wait for the journal, which would time the disk instead. */
static int cmd_ping(const char *instance, int argc, char **argv)
{
    long count = 5;
    if (parse_count(argc, argv, "ping", &count) < 0)
        return 2;
    client_t *c;
    err_t err = {0};
    if (client_attach(&c, instance, "bourse-ping", CLIENT_SEND | CLIENT_RECV, &err) < 0) {
        fprintf(stderr, "bourse ping: %s\n", err.msg);
        return 1;
    }
    uint64_t *rtt = calloc((size_t)count, sizeof(*rtt));
    if (rtt == NULL) {
        fprintf(stderr, "bourse ping: out of memory for %ld samples\n", count);
        client_detach(c);
        return 1;
    }
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, PING_SLEEP_MAX_NS);
    int rc = 0;
    uint32_t tag = (uint32_t)getpid();
    for (long i = 0; i < count && rc == 0; i++) {
        rec_t cmd = {.type = CMD_ECHO, .len = 12};
        memcpy(cmd.payload, &tag, 4);
        memcpy(cmd.payload + 4, &i, 8);
        uint64_t t0 = clock_mono_ns(), deadline = t0 + PING_TIMEOUT_NS;
        int s;
        while ((s = client_send(c, &cmd)) == -EAGAIN && clock_mono_ns() < deadline)
            idle_wait(&idle);
        if (s < 0) {
            fprintf(stderr, "bourse ping: cannot send: %s\n",
                    s == -EAGAIN ? "command ring full for 2 s (engine busy or stuck)" : strerror(-s));
            rc = 1;
            break;
        }
        for (;;) {
            rec_t ev;
            int64_t n = client_poll(c, &ev, 1);
            if (n == -EOVERFLOW) {
                client_resync(c);
                continue;
            }
            if (n < 0) {
                fprintf(stderr, "bourse ping: engine went away (%s)\n", strerror((int)-n));
                rc = 1;
                break;
            }
            if (n == 1 && ev.type == EVT_ECHO && ev.src == c->slot && memcmp(ev.payload, &tag, 4) == 0 &&
                memcmp(ev.payload + 4, &i, 8) == 0) {
                rtt[i] = clock_mono_ns() - t0;
                idle_reset(&idle);
                break;
            }
            if (n == 0) {
                if (clock_mono_ns() > deadline) {
                    fprintf(stderr, "bourse ping: no answer from the engine within 2 s\n");
                    rc = 1;
                    break;
                }
                idle_wait(&idle);
            }
        }
    }
    if (rc == 0) {
        qsort(rtt, (size_t)count, sizeof(*rtt), cmp_u64);
        printf("ping %s: %ld echoes through ring %d, round trip min %" PRIu64 " ns, median %" PRIu64
               " ns, max %" PRIu64 " ns\n",
               instance, count, c->slot, rtt[0], rtt[count / 2], rtt[count - 1]);
    }
    free(rtt);
    client_detach(c);
    return rc;
}

/* The events of one command, kept until the command is durable. */
typedef struct answer {
    rec_t *ev;
    size_t n, cap;
} answer_t;

static int answer_add(answer_t *a, const rec_t *ev)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        rec_t *p = realloc(a->ev, cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        a->ev = p;
        a->cap = cap;
    }
    a->ev[a->n++] = *ev;
    return 0;
}

/* bourse send: one command, then its events, up to the one marked last, once
 * the engine's durable sequence covers the command. The answer is held back
 * until then: whatever reads stdout must never act on an answer that a crash
 * could still take back ([journal] acks = durable; in fast mode the durable
 * sequence follows sequencing and nothing waits). who names the subcommand in
 * messages; argv[0] is the command's name. */
static int send_command(const char *instance, const char *who, int argc, char **argv, uint64_t timeout_ms)
{
    rec_t cmd;
    err_t err = {0};
    if (prototext_command(argc, argv, &cmd, &err) < 0) {
        fprintf(stderr, "bourse %s: %s\n", who, err.msg);
        return CLI_EXIT_USAGE;
    }
    client_t *c;
    if (client_attach(&c, instance, "bourse-send", CLIENT_SEND | CLIENT_RECV, &err) < 0) {
        fprintf(stderr, "bourse %s: %s\n", who, err.msg);
        return CLI_EXIT_ERROR;
    }
    cmd.ref = ((uint64_t)getpid() << 32) ^ clock_mono_ns();
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, PING_SLEEP_MAX_NS);
    uint64_t deadline = clock_mono_ns() + timeout_ms * 1000000u;
    int rc;
    while ((rc = client_send(c, &cmd)) == -EAGAIN && clock_mono_ns() < deadline)
        idle_wait(&idle);
    if (rc < 0) {
        if (rc == -EAGAIN)
            fprintf(stderr, "bourse %s: command ring full for %" PRIu64 " ms (engine busy)\n", who, timeout_ms);
        else
            fprintf(stderr, "bourse %s: %s\n", who, rc == -ESTALE ? "engine is gone" : strerror(-rc));
        client_detach(c);
        return CLI_EXIT_ERROR;
    }
    answer_t ans = {0};
    int status = CLI_EXIT_OK;
    bool complete = false;
    while (!complete) {
        rec_t ev;
        int64_t n = client_poll(c, &ev, 1);
        if (n == -EOVERFLOW) {
            fprintf(stderr, "bourse %s: lapped by the event log before the answer arrived\n", who);
            status = CLI_EXIT_ERROR;
            break;
        }
        if (n < 0) {
            fprintf(stderr, "bourse %s: engine went away before it answered\n", who);
            status = CLI_EXIT_ERROR;
            break;
        }
        if (n == 0) {
            if (clock_mono_ns() > deadline) {
                fprintf(stderr, "bourse %s: no answer from the engine within %" PRIu64 " ms\n", who, timeout_ms);
                status = CLI_EXIT_ERROR;
                break;
            }
            idle_wait(&idle);
            continue;
        }
        idle_reset(&idle);
        if (ev.ref != cmd.ref || ev.src != c->slot)
            continue;
        if (answer_add(&ans, &ev) < 0) {
            fprintf(stderr, "bourse %s: out of memory for the answer's %zu events\n", who, ans.n);
            status = CLI_EXIT_ERROR;
            break;
        }
        if (ev.type == EVT_REJECTED)
            status = CLI_EXIT_REJECTED;
        complete = (ev.flags & REC_LAST) != 0;
    }
    if (complete) {
        uint64_t seq = ans.ev[ans.n - 1].cmd_seq;
        rc = client_wait_durable(c, seq, deadline, &idle);
        if (rc == 0) {
            for (size_t i = 0; i < ans.n; i++) {
                char line[1024];
                prototext_event_json(&ans.ev[i], line, sizeof(line));
                puts(line);
            }
        } else {
            char why[64];
            if (rc == -ETIMEDOUT)
                snprintf(why, sizeof(why), "not within %" PRIu64 " ms", timeout_ms);
            else
                snprintf(why, sizeof(why), "the engine stopped or died first");
            fprintf(stderr, "bourse %s: cmd_seq %" PRIu64 " was applied but is not durable: %s (durable seq %" PRIu64
                    "); not acknowledged, its answer is withheld\n", who, seq, why, client_durable_seq(c));
            status = rc == -ETIMEDOUT ? CLI_EXIT_NOT_DURABLE : CLI_EXIT_ERROR;
        }
    }
    free(ans.ev);
    client_detach(c);
    return status;
}

/* The options of send and snapshot: -t, --timeout MS. Returns the index of
 * the first word after them, or -1 (a message was printed). */
static int send_options(int argc, char **argv, const char *who, uint64_t *timeout_ms)
{
    static const struct option opts[] = {{"timeout", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
    *timeout_ms = SEND_TIMEOUT_MS;
    optind = 0; /* GNU getopt: a full reset after main()'s own parse */
    opterr = 0;
    int opt;
    /* '+': the command's key=value words follow the options. */
    while ((opt = getopt_long(argc, argv, "+:t:", opts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 't':
            errno = 0;
            *timeout_ms = strtoull(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || optarg[0] == '-' || *timeout_ms < 1 ||
                *timeout_ms > SEND_TIMEOUT_MS_MAX) {
                fprintf(stderr, "bourse %s: --timeout takes milliseconds from 1 to %d, not '%s'\n", who,
                        SEND_TIMEOUT_MS_MAX, optarg);
                return -1;
            }
            break;
        case ':': fprintf(stderr, "bourse %s: option '%s' needs a value\n", who, argv[optind - 1]); return -1;
        default: fprintf(stderr, "bourse %s: unknown option '%s' (see --help)\n", who, argv[optind - 1]); return -1;
        }
    }
    return optind;
}

static int cmd_send(const char *instance, int argc, char **argv)
{
    uint64_t timeout_ms;
    int first = send_options(argc, argv, "send", &timeout_ms);
    if (first < 0)
        return CLI_EXIT_USAGE;
    return send_command(instance, "send", argc - first, argv + first, timeout_ms);
}

/* A command like any other: sequenced, journaled, answered once durable. */
static int cmd_snapshot(const char *instance, int argc, char **argv)
{
    uint64_t timeout_ms;
    int first = send_options(argc, argv, "snapshot", &timeout_ms);
    if (first < 0)
        return CLI_EXIT_USAGE;
    if (first < argc) {
        fprintf(stderr, "bourse snapshot: unexpected argument '%s'\n", argv[first]);
        return CLI_EXIT_USAGE;
    }
    char *words[] = {"snapshot", NULL};
    return send_command(instance, "snapshot", 1, words, timeout_ms);
}

static int cmd_watch(const char *instance, int argc, char **argv)
{
    long count = -1;
    /* --raw FILE: records as the log holds them, for byte comparisons. */
    FILE *raw = NULL;
    char *rest[8];
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--raw") == 0 && i + 1 < argc && raw == NULL) {
            if ((raw = fopen(argv[++i], "wb")) == NULL) {
                fprintf(stderr, "bourse watch: %s: %s\n", argv[i], strerror(errno));
                return 1;
            }
        } else if (nrest < 8) {
            rest[nrest++] = argv[i];
        } else {
            fprintf(stderr, "bourse watch: too many arguments\n");
            return 2;
        }
    }
    if (parse_count(nrest, rest, "watch", &count) < 0) {
        if (raw != NULL)
            fclose(raw);
        return 2;
    }
    client_t *c;
    err_t err = {0};
    if (client_attach(&c, instance, "bourse-watch", CLIENT_RECV, &err) < 0) {
        fprintf(stderr, "bourse watch: %s\n", err.msg);
        if (raw != NULL)
            fclose(raw);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* scripts wait for this line: every event after it is seen */
    fprintf(stderr, "bourse watch: attached to %s\n", instance);
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, WATCH_SLEEP_MAX_NS);
    int rc = 0;
    long seen = 0;
    rec_t evs[64];
    while (!atomic_load_explicit(&stop_requested, memory_order_relaxed) && (count < 0 || seen < count)) {
        int64_t n = client_poll(c, evs, count < 0 || count - seen > 64 ? 64 : (uint64_t)(count - seen));
        if (n == -EOVERFLOW) {
            uint64_t lost = client_resync(c);
            fprintf(stderr, "bourse watch: lapped by the writer, %" PRIu64 " events skipped\n", lost);
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "bourse watch: engine stopped\n");
            rc = 1;
            break;
        }
        if (n == 0) {
            idle_wait(&idle);
            continue;
        }
        idle_reset(&idle);
        if (raw != NULL && fwrite(evs, sizeof(rec_t), (size_t)n, raw) != (size_t)n) {
            fprintf(stderr, "bourse watch: write failed\n");
            rc = 1;
            break;
        }
        for (int64_t i = 0; raw == NULL && i < n; i++) {
            const rec_t *e = &evs[i];
            char line[1024];
            prototext_event_json(e, line, sizeof(line));
            puts(line);
        }
        seen += n;
    }
    client_detach(c);
    if (raw != NULL && fclose(raw) != 0)
        rc = 1;
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"instance", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *instance = getenv("BOURSE_ENGINE_INSTANCE");
    if (instance == NULL)
        instance = "default";
    opterr = 0;
    int opt;
    /* '+': stop at the command; its own options follow it. */
    while ((opt = getopt_long(argc, argv, "+:i:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'i': instance = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("bourse %s\n", BOURSE_VERSION); return 0;
        case ':':
            fprintf(stderr, "bourse: option '%s' needs a value (see --help)\n", argv[optind - 1]);
            return 2;
        default:
            if (optopt != 0)
                fprintf(stderr, "bourse: unknown option '-%c' (see --help)\n", optopt);
            else
                fprintf(stderr, "bourse: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    err_t err;
    if (shm_name_check(instance, &err) < 0) {
        fprintf(stderr, "bourse: %s\n", err.msg);
        return 2;
    }
    const char *cmd = argv[optind];
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    if (strcmp(cmd, "status") == 0) {
        if (sub_argc > 1) {
            fprintf(stderr, "bourse status: unexpected argument '%s'\n", sub_argv[1]);
            return 2;
        }
        return cmd_status(instance);
    }
    if (strcmp(cmd, "ping") == 0)
        return cmd_ping(instance, sub_argc, sub_argv);
    if (strcmp(cmd, "watch") == 0)
        return cmd_watch(instance, sub_argc, sub_argv);
    if (strcmp(cmd, "send") == 0)
        return cmd_send(instance, sub_argc, sub_argv);
    if (strcmp(cmd, "replay") == 0)
        return cli_replay(sub_argc, sub_argv);
    if (strcmp(cmd, "snapshot") == 0)
        return cmd_snapshot(instance, sub_argc, sub_argv);
    if (strcmp(cmd, "remove") == 0) {
        if (sub_argc > 1) {
            fprintf(stderr, "bourse remove: unexpected argument '%s'\n", sub_argv[1]);
            return 2;
        }
        if (shm_remove(instance, &err) < 0) {
            fprintf(stderr, "bourse remove: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "bourse: unknown command '%s' (see --help)\n", cmd);
    return 2;
}
