/* test_recover.c - engine/recover.c against a journal whose old files were
 * pruned and against a snapshot ahead of the journal: recovery from any
 * snapshot kept (a damaged newest one falls back) still has its tail, a
 * state the pruned journal cannot roll forward is refused without touching
 * the journal, and a snapshot past the journal's end recovers with a
 * warning. The journals hold echo commands (answered by recover_step, so the
 * sink counts what was replayed). Everything lives in one temp dir under
 * /tmp, removed at the end. */
#include <dirent.h>
#include <fcntl.h>

#include "journal_helpers.h"
#include "matcher_fixture.h"
#include "layout.h"
#include "params.h"
#include "recover.h"
#include "snapshot.h"

typedef struct paths {
    char base[DIR_BYTES], journal[DIR_BYTES + 16], snapshots[DIR_BYTES + 16];
} paths_t;

static paths_t make_paths(const char *tag)
{
    paths_t p;
    tdir(p.base, sizeof(p.base), tag);
    snprintf(p.journal, sizeof(p.journal), "%s/journal", p.base);
    snprintf(p.snapshots, sizeof(p.snapshots), "%s/snapshots", p.base);
    return p;
}

static void count_events(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    (void)ev, (void)last;
    *(uint64_t *)ctx += n;
}

/* Journals echo commands first..last into dir (a new file at first), with
 * files of roll_bytes. Returns 0 or a negative errno. */
static int journal_echoes(const char *dir, uint64_t first, uint64_t last, uint64_t roll_bytes)
{
    journal_config_t c = cfg_for(dir);
    c.fsync = JOURNAL_FSYNC_NEVER;
    c.roll_bytes = roll_bytes;
    matcher_config_t mc = fx_small_config();
    params_t params;
    params_make(&params, &mc); /* the snapshots' capacities: files and snapshots agree */
    memcpy(c.params, &params, sizeof(params));
    journal_t *j;
    err_t err = {0};
    int rc = journal_open(&j, &c, first, &err);
    if (rc < 0) {
        fprintf(stderr, "  journal_open: %s\n", err.msg);
        return rc;
    }
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 50000);
    for (uint64_t s = first; s <= last && rc == 0;) {
        recover_cmd_t r;
        memset(&r, 0, sizeof(r));
        r.ref = s;
        r.cmd.seq = s;
        r.cmd.ts_ns = s * 1000;
        r.cmd.type = CMD_ECHO;
        r.cmd.len = 8;
        memcpy(r.cmd.u.raw, &s, 8);
        rc = journal_append(j, &r, sizeof(r), s);
        if (rc == -EAGAIN) {
            idle_wait(&idle);
            rc = 0;
        } else if (rc == 0) {
            s++;
        }
    }
    int crc = journal_close(j);
    return rc < 0 ? rc : crc;
}

/* A snapshot of the empty state, named for seq: echoes leave the state as it is. */
static int snapshot_at(const char *dir, uint64_t seq)
{
    matcher_config_t cfg = fx_small_config();
    matcher_t *m;
    uint64_t n = 0;
    err_t err = {0};
    int rc = matcher_create(&m, &cfg, count_events, &n, &err);
    if (rc == 0)
        rc = snapshot_write(dir, m, seq, -1, &err);
    if (rc < 0)
        fprintf(stderr, "  snapshot %" PRIu64 ": %s\n", seq, err.msg);
    matcher_destroy(m);
    return rc;
}

static int run_recover(const paths_t *p, int repair, uint64_t *events, recover_result_t *res, err_t *err)
{
    matcher_config_t cfg = fx_small_config();
    recover_opts_t o = {.sink = count_events, .sink_ctx = events, .until_seq = UINT64_MAX, .use_snapshots = 1,
                        .repair = repair};
    matcher_t *m = NULL;
    *events = 0;
    int rc = recover(&m, &cfg, count_events, events, p->snapshots, p->journal, &o, res, err);
    matcher_destroy(m);
    return rc;
}

/* Journal files and other entries (a quarantine directory) in dir. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_a_journal_pruned_to_the_oldest_snapshot_recovers_from_every_snapshot_kept(void)
{
    paths_t p = make_paths("kept");
    CHECK_EQ(journal_echoes(p.journal, 1, 3000, 8192), 0);
    CHECK_EQ(snapshot_at(p.snapshots, 1000), 0);
    CHECK_EQ(snapshot_at(p.snapshots, 2000), 0);
    journal_prune_t pr;
    err_t err = {0};
    CHECK_EQ(journal_prune(p.journal, snapshot_oldest(p.snapshots), &pr, &err), 0);
    CHECK(pr.files > 0);
    recover_result_t res;
    uint64_t events;
    CHECK_EQ(run_recover(&p, 1, &events, &res, &err), 0);
    CHECK_EQ(res.snapshot_seq, 2000);
    CHECK_EQ(res.last_seq, 3000);
    CHECK_EQ(res.replayed, 1000);
    CHECK_EQ(events, 1000);
    CHECK_EQ(res.warning[0], '\0');
    /* The newest snapshot damaged: the older one kept still has its tail. */
    char snap[PATH_BYTES];
    snprintf(snap, sizeof(snap), "%s/snapshot-%020d.bs", p.snapshots, 2000);
    CHECK_EQ(truncate(snap, 100), 0);
    CHECK_EQ(run_recover(&p, 1, &events, &res, &err), 0);
    CHECK_EQ(res.snapshots_skipped, 1);
    CHECK_EQ(res.snapshot_seq, 1000);
    CHECK_EQ(res.last_seq, 3000);
    CHECK_EQ(res.replayed, 2000);
    CHECK_EQ(res.problem, JOURNAL_OK);
    rm_rf(p.base);
}

static void test_a_pruned_journal_no_snapshot_can_roll_forward_is_refused_and_left_alone(void)
{
    paths_t p = make_paths("refused");
    CHECK_EQ(journal_echoes(p.journal, 1, 3000, 8192), 0);
    CHECK_EQ(snapshot_at(p.snapshots, 2000), 0);
    journal_prune_t pr;
    err_t err = {0};
    CHECK_EQ(journal_prune(p.journal, 2000, &pr, &err), 0);
    CHECK(pr.files > 0);
    int files = entries(p.journal);
    char snap[PATH_BYTES];
    snprintf(snap, sizeof(snap), "%s/snapshot-%020d.bs", p.snapshots, 2000);
    CHECK_EQ(truncate(snap, 100), 0);
    recover_result_t res;
    uint64_t events;
    /* Repair mode, as the engine runs it: damage would be moved aside; a
     * pruned start is not damage, and an empty book is not the state. */
    CHECK_EQ(run_recover(&p, 1, &events, &res, &err), -ENODATA);
    CHECK_STR_HAS(err.msg, "pruned");
    char at[64];
    snprintf(at, sizeof(at), "starts at seq %" PRIu64, pr.end_seq + 1);
    CHECK_STR_HAS(err.msg, at);
    CHECK_EQ(entries(p.journal), files); /* no file moved, no quarantine directory */
    CHECK_EQ(events, 0);
    /* Read only, as `bourse replay` runs it: the same refusal. */
    CHECK_EQ(run_recover(&p, 0, &events, &res, &err), -ENODATA);
    /* With no snapshot at all, too. */
    CHECK_EQ(unlink(snap), 0);
    CHECK_EQ(run_recover(&p, 1, &events, &res, &err), -ENODATA);
    CHECK_STR_HAS(err.msg, "no snapshot");
    CHECK_EQ(entries(p.journal), files);
    rm_rf(p.base);
}

static void test_a_snapshot_ahead_of_the_journal_recovers_with_a_warning(void)
{
    paths_t p = make_paths("ahead");
    CHECK_EQ(journal_echoes(p.journal, 1, 500, 8192), 0);
    CHECK_EQ(snapshot_at(p.snapshots, 800), 0);
    recover_result_t res;
    uint64_t events;
    err_t err = {0};
    CHECK_EQ(run_recover(&p, 1, &events, &res, &err), 0);
    CHECK_EQ(res.snapshot_seq, 800);
    CHECK_EQ(res.last_seq, 800);
    CHECK_EQ(res.replayed, 0);
    CHECK_STR_HAS(res.warning, "snapshot 800 is ahead of the journal, which ends at seq 500");
    CHECK_STR_HAS(res.warning, "501..800");
    /* A new journal file after the snapshot (the engine opens one at 801)
     * and an empty one before it: the newest record decides, no warning. */
    CHECK_EQ(journal_echoes(p.journal, 801, 900, 8192), 0);
    CHECK_EQ(run_recover(&p, 1, &events, &res, &err), 0);
    CHECK_EQ(res.last_seq, 900);
    CHECK_EQ(res.warning[0], '\0');
    rm_rf(p.base);
}

static void test_an_empty_last_file_does_not_hide_a_snapshot_ahead(void)
{
    paths_t p = make_paths("empty");
    CHECK_EQ(journal_echoes(p.journal, 1, 500, 8192), 0);
    CHECK_EQ(journal_echoes(p.journal, 501, 500, 8192), 0); /* a file with a header only */
    CHECK_EQ(snapshot_at(p.snapshots, 800), 0);
    recover_result_t res;
    uint64_t events;
    err_t err = {0};
    CHECK_EQ(run_recover(&p, 1, &events, &res, &err), 0);
    CHECK_EQ(res.last_seq, 800);
    CHECK_STR_HAS(res.warning, "which ends at seq 500");
    rm_rf(p.base);
}

static void test_a_snapshot_within_the_journal_gives_no_warning(void)
{
    paths_t p = make_paths("within");
    CHECK_EQ(journal_echoes(p.journal, 1, 500, 8192), 0);
    CHECK_EQ(snapshot_at(p.snapshots, 500), 0);
    recover_result_t res;
    uint64_t events;
    err_t err = {0};
    CHECK_EQ(run_recover(&p, 1, &events, &res, &err), 0);
    CHECK_EQ(res.last_seq, 500);
    CHECK_EQ(res.replayed, 0);
    CHECK_EQ(res.warning[0], '\0');
    rm_rf(p.base);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    if (make_root("recover") < 0)
        return 1;
    RUN(test_a_journal_pruned_to_the_oldest_snapshot_recovers_from_every_snapshot_kept);
    RUN(test_a_pruned_journal_no_snapshot_can_roll_forward_is_refused_and_left_alone);
    RUN(test_a_snapshot_ahead_of_the_journal_recovers_with_a_warning);
    RUN(test_an_empty_last_file_does_not_hide_a_snapshot_ahead);
    RUN(test_a_snapshot_within_the_journal_gives_no_warning);
    rm_rf(root);
    CHECK_MAIN_END();
}
