/* journal.c - bench-journal: the matcher with its journal, on bench-match's
 * flow, in the engine's durability modes. For each mode: commands/s and the
 * latency of the acknowledgement a gateway would release (from the command
 * entering the matcher thread to durable_seq reaching it).
 *
 *   none      the matcher alone: the peer of the others (no journal at all)
 *   fast      journaled (fsync never); acks released once applied
 *   group     journaled, fdatasync by the writer thread for whatever arrived
 *             since its last write (group commit); acks once durable
 *   per-batch journaled, and the matcher waits for each batch of 64 commands
 *             to be fdatasynced before it takes the next (no group commit
 *             across batches: what a synchronous engine does)
 *
 * The journal goes to --dir (default ./var/bench-journal, on the disk the
 * repository lives on), emptied before each mode and removed at the end. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "flow.h"
#include "fsutil.h"
#include "harness.h"
#include "journal.h"
#include "matcher.h"
#include "recover.h"
#include "snapshot.h"

enum { BATCH = 64, LAT_RING = 1 << 20 };

typedef enum mode { MODE_NONE, MODE_FAST, MODE_GROUP, MODE_PER_BATCH, MODE_COUNT } mode_t_;

static const char *const mode_names[] = {"none (matcher only)", "fast", "group commit", "fsync per batch"};

static void null_sink(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    (void)ev;
    (void)last;
    *(uint64_t *)ctx += n;
}

typedef struct result {
    double cmds_per_s;
    harness_lat_t lat;
    uint64_t fsyncs, batches;
} result_t;

static void rm_journal(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench-journal: could not empty %s\n", dir);
}

static int run(mode_t_ mode, const char *dir, uint64_t resting, uint64_t n, uint64_t seed, uint64_t *samples,
               result_t *out)
{
    uint64_t events = 0;
    matcher_t *m = flow_matcher(1, (uint32_t)(resting * 2 + 1024), null_sink, &events);
    flow_t f;
    flow_init(&f, seed, 1, resting + n);
    flow_populate(m, &f, resting);
    journal_t *j = NULL;
    if (mode != MODE_NONE) {
        rm_journal(dir);
        journal_config_t jc;
        journal_config_defaults(&jc);
        snprintf(jc.dir, sizeof(jc.dir), "%s", dir);
        jc.fsync = mode == MODE_FAST ? JOURNAL_FSYNC_NEVER : JOURNAL_FSYNC_BATCH;
        jc.idle = IDLE_YIELD;
        err_t err = {0};
        int rc = fs_mkdir_p(dir);
        if (rc == 0)
            rc = journal_open(&j, &jc, 1, &err);
        if (rc < 0) {
            fprintf(stderr, "bench-journal: %s\n", rc == -EEXIST || err.msg[0] ? err.msg : strerror(-rc));
            return rc;
        }
    }
    mcmd_t *cmds = malloc(sizeof(mcmd_t) * n);
    uint64_t *t_in = malloc(sizeof(uint64_t) * n);
    if (cmds == NULL || t_in == NULL) {
        fprintf(stderr, "bench-journal: out of memory\n");
        exit(1);
    }
    for (uint64_t i = 0; i < n; i++) {
        memset(&cmds[i], 0, offsetof(mcmd_t, u));
        flow_gen(&f, &cmds[i]);
        cmds[i].seq = i + 1;
    }
    uint64_t acked = 0, t0 = clock_mono_ns();
    recover_cmd_t rec = {0};
    for (uint64_t i = 0; i < n; i++) {
        uint64_t now = clock_mono_ns();
        t_in[i] = now;
        cmds[i].ts_ns = now;
        if (j != NULL) {
            rec.cmd = cmds[i];
            while (journal_append(j, &rec, sizeof(rec), cmds[i].seq) == -EAGAIN)
                ;
        }
        matcher_apply(m, &cmds[i]);
        uint64_t durable = i + 1;
        if (mode == MODE_PER_BATCH && ((i + 1) % BATCH == 0 || i + 1 == n))
            journal_sync(j);
        if (mode == MODE_GROUP || mode == MODE_PER_BATCH)
            durable = journal_durable_seq(j);
        if (durable > acked) {
            uint64_t t = clock_mono_ns();
            for (; acked < durable; acked++)
                samples[acked] = t - t_in[acked];
        }
    }
    while (acked < n) { /* the last group */
        uint64_t durable = journal_durable_seq(j);
        uint64_t t = clock_mono_ns();
        for (; acked < durable; acked++)
            samples[acked] = t - t_in[acked];
    }
    uint64_t t1 = clock_mono_ns();
    out->cmds_per_s = (double)n / ((double)(t1 - t0) / 1e9);
    harness_percentiles(samples, n, &out->lat);
    out->fsyncs = out->batches = 0;
    if (j != NULL) {
        journal_stats_t st;
        journal_stats(j, &st);
        out->fsyncs = st.fsyncs;
        out->batches = st.batches;
        journal_close(j);
        rm_journal(dir);
    }
    free(cmds);
    free(t_in);
    flow_free(&f);
    matcher_destroy(m);
    return 0;
}

/* The snapshot's cost to the matcher: the fork that gives the child its
 * copy-on-write view (what the engine does), with n orders resting. */
static void snapshot_pause(const char *dir, uint64_t resting)
{
    uint64_t events = 0;
    matcher_t *m = flow_matcher(100, (uint32_t)(resting + 1024), null_sink, &events);
    flow_t f;
    flow_init(&f, 7, 100, resting);
    flow_populate(m, &f, resting);
    char sdir[600];
    snprintf(sdir, sizeof(sdir), "%s/snapshots", dir);
    uint64_t t0 = clock_mono_ns();
    pid_t pid = fork();
    if (pid == 0) {
        err_t err;
        _exit(snapshot_write(sdir, m, 1, -1, &err) < 0 ? 1 : 0);
    }
    uint64_t pause = clock_mono_ns() - t0;
    int status = 1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    uint64_t total = clock_mono_ns() - t0;
    struct stat st;
    char path[700];
    snprintf(path, sizeof(path), "%s/snapshot-%020d.bs", sdir, 1);
    uint64_t bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    printf("snapshot of %" PRIu64 " resting orders (%.2f GiB of pools): matcher paused %.2f ms (the fork); the child "
           "wrote %.1f MiB in %.0f ms%s\n",
           resting, (double)matcher_memory_bytes(m) / (1u << 30), (double)pause / 1e6, (double)bytes / (1 << 20),
           (double)total / 1e6, WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "" : " (FAILED)");
    rm_journal(dir);
    flow_free(&f);
    matcher_destroy(m);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"commands", required_argument, NULL, 'n'}, {"resting", required_argument, NULL, 'r'},
        {"dir", required_argument, NULL, 'd'},      {"quick", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    uint64_t commands = 2000000, resting = 1000000;
    const char *dir = "var/bench-journal";
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        uint64_t v = optarg ? strtoull(optarg, &end, 10) : 0;
        if (optarg && opt != 'd' && (*end != '\0' || end == optarg || v == 0)) {
            fprintf(stderr, "bench-journal: '%s' is not a count\n", optarg);
            return 2;
        }
        switch (opt) {
        case 'n': commands = v; break;
        case 'r': resting = v; break;
        case 'd': dir = optarg; break;
        case 'q': commands = 100000; resting = 20000; break;
        case 'h':
            puts("usage: bench-journal [--commands N] [--resting N] [--dir DIR] [--quick]");
            return 0;
        default: fprintf(stderr, "bench-journal: unknown option '%s'\n", argv[optind - 1]); return 2;
        }
    }
    harness_describe(stdout, argc, argv);
    printf("flow: bench-match's mix on 1 symbol, %" PRIu64 " resting; journal in %s; ack latency = command in "
           "to durable_seq reaching it\n\n",
           resting, dir);
    printf("%-22s %12s %9s %9s %9s %9s %9s %9s %8s\n", "mode", "cmds/s", "p50 ns", "p99 ns", "p99.9 ns", "max ns",
           "fsyncs", "batches", "vs fast");
    uint64_t *samples = malloc(sizeof(uint64_t) * commands);
    result_t r[MODE_COUNT];
    for (int mo = 0; mo < MODE_COUNT; mo++) {
        if (run((mode_t_)mo, dir, resting, commands, 42, samples, &r[mo]) < 0)
            return 1;
        char ratio[16] = "-";
        if (mo >= MODE_FAST)
            snprintf(ratio, sizeof(ratio), "%.2fx", r[mo].cmds_per_s / r[MODE_FAST].cmds_per_s);
        printf("%-22s %12.0f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8s\n",
               mode_names[mo], r[mo].cmds_per_s, r[mo].lat.p50_ns, r[mo].lat.p99_ns, r[mo].lat.p999_ns,
               r[mo].lat.max_ns, r[mo].fsyncs, r[mo].batches, ratio);
        fflush(stdout);
    }
    printf("\nvs fast: commands/s over the fast mode's. The matcher-only row is the peer: what journaling costs.\n\n");
    snapshot_pause(dir, resting);
    free(samples);
    return 0;
}
