/* test_journal_write.c - engine/journal.h's writer on real files: CRC-32C, a
 * million records through each fsync policy and back, rolling, back-pressure,
 * durable_seq, the config and a write error. The scan of damaged journals and
 * crash/reopen are in test_journal_scan.c. Everything lives in one temp dir
 * under /tmp, removed at the end. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "crc32c.h"
#include "journal_helpers.h"

/* ------------------------------------------------------------------ crc32c */

static void test_crc32c_gives_the_standard_check_values(void)
{
    CHECK_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
    CHECK_EQ(crc32c_portable(0, "123456789", 9), 0xE3069283u);
    uint8_t zeros[32] = {0}, ones[32];
    memset(ones, 0xFF, sizeof(ones));
    CHECK_EQ(crc32c(0, zeros, 32), 0x8A9136AAu); /* RFC 3720 B.4 */
    CHECK_EQ(crc32c(0, ones, 32), 0x62A8AB43u);
    CHECK_EQ(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    CHECK_EQ(crc32c(0, "", 0), 0);
    printf("  crc32c uses %s\n", crc32c_hw_available() ? "sse4.2" : "the table");
}

static void test_crc32c_hardware_and_table_agree_at_any_alignment(void)
{
    uint64_t seed = check_seed();
    srand((unsigned)seed);
    uint8_t buf[1024 + 8];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rand();
    for (int t = 0; t < 2000; t++) {
        size_t off = (size_t)rand() % 8, len = (size_t)rand() % 1024;
        uint32_t init = t % 3 == 0 ? 0 : (uint32_t)rand();
        CHECK_EQ(crc32c(init, buf + off, len), crc32c_portable(init, buf + off, len));
    }
}

/* ------------------------------------------------------------------ writer */

static void read_back_a_million(journal_fsync_t policy, const char *tag)
{
    enum { N = 1000000 };
    char dir[DIR_BYTES];
    tdir(dir, sizeof(dir), tag);
    journal_config_t c = cfg_for(dir);
    c.fsync = policy;
    c.fsync_interval_ms = 2;
    c.roll_bytes = 16u << 20;
    journal_t *j;
    err_t err = {0};
    CHECK_EQ(journal_open(&j, &c, 1, &err), 0);
    CHECK_EQ(journal_written_seq(j), 0);
    CHECK_EQ(journal_durable_seq(j), 0);
    CHECK(append_range(j, 1, N) >= 0);
    CHECK_EQ(journal_sync(j), 0);
    CHECK_EQ(journal_written_seq(j), N);
    CHECK_EQ(journal_durable_seq(j), N);
    CHECK_EQ(journal_error(j, NULL), 0);
    journal_stats_t st;
    journal_stats(j, &st);
    CHECK(st.batches > 0 && st.files >= 2);
    CHECK(st.fsyncs >= 1);
    if (policy == JOURNAL_FSYNC_BATCH) {
        /* Group commit: while one batch is synced the next one gathers. */
        CHECK(st.fsyncs >= st.batches);
        CHECK(st.batches < N / 10);
    }
    if (policy == JOURNAL_FSYNC_NEVER)
        CHECK(st.fsyncs <= st.files); /* one a finished file, one for journal_sync */
    CHECK_EQ(journal_close(j), 0);

    collect_t col = {.next = 1};
    journal_scan_t res;
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), 0);
    CHECK_EQ(res.problem, JOURNAL_OK);
    CHECK_EQ(col.count, N);
    CHECK_EQ(col.bad, 0);
    CHECK_EQ(res.delivered, N);
    CHECK_EQ(res.first_seq, 1);
    CHECK_EQ(res.last_seq, N);
    CHECK(res.files >= 2); /* about 36 MB of frames in 16 MiB files */
    CHECK(res.in_last_file);
    rm_rf(dir);
}

static void test_a_million_records_read_back_identical_with_fsync_batch(void)
{
    read_back_a_million(JOURNAL_FSYNC_BATCH, "million-batch");
}

static void test_a_million_records_read_back_identical_with_fsync_interval(void)
{
    read_back_a_million(JOURNAL_FSYNC_INTERVAL, "million-interval");
}

static void test_a_million_records_read_back_identical_with_fsync_never(void)
{
    read_back_a_million(JOURNAL_FSYNC_NEVER, "million-never");
}

static void test_append_refuses_a_bad_seq_or_length(void)
{
    char dir[DIR_BYTES];
    tdir(dir, sizeof(dir), "refuse");
    journal_config_t c = cfg_for(dir);
    journal_t *j;
    err_t err = {0};
    CHECK_EQ(journal_open(&j, &c, 10, &err), 0);
    uint8_t p[JOURNAL_PAYLOAD_MAX + 1] = {0};
    CHECK_EQ(journal_append(j, p, 8, 9), -EINVAL);   /* before next_seq */
    CHECK_EQ(journal_append(j, p, 8, 11), -EINVAL);  /* a gap */
    CHECK_EQ(journal_append(j, p, JOURNAL_PAYLOAD_MAX + 1, 10), -EINVAL);
    CHECK_EQ(journal_append(j, p, JOURNAL_PAYLOAD_MAX, 10), 0);
    CHECK_EQ(journal_append(j, p, 0, 11), 0);
    CHECK_EQ(journal_append(j, p, 1, 11), -EINVAL);  /* 11 is taken */
    CHECK_EQ(journal_close(j), 0);
    journal_scan_t res;
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.first_seq, 10);
    CHECK_EQ(res.last_seq, 11);

    c.buffer_bytes = 5000;
    CHECK_EQ(journal_open(&j, &c, 12, &err), -EINVAL);
    CHECK_STR_HAS(err.msg, "power of two");
    c.buffer_bytes = 4096;
    c.roll_bytes = 100;
    CHECK_EQ(journal_open(&j, &c, 12, &err), -EINVAL);
    c.roll_bytes = 1 << 20;
    CHECK_EQ(journal_open(&j, &c, 0, &err), -EINVAL);
    rm_rf(dir);
}

static void test_files_roll_at_roll_bytes_and_the_scan_crosses_them(void)
{
    enum { N = 3000, ROLL = 4096 };
    char dir[DIR_BYTES], p[PATH_BYTES];
    tdir(dir, sizeof(dir), "roll");
    journal_config_t c = cfg_for(dir);
    c.buffer_bytes = 16384;
    c.roll_bytes = ROLL;
    journal_t *j;
    err_t err = {0};
    CHECK_EQ(journal_open(&j, &c, 1, &err), 0);
    CHECK(append_range(j, 1, N) >= 0);
    CHECK_EQ(journal_close(j), 0);

    journal_scan_t res;
    collect_t col = {.next = 1};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), 0);
    CHECK_EQ(col.count, N);
    CHECK_EQ(col.bad, 0);
    CHECK(res.files > 20);
    /* Every file is within roll_bytes and starts with its own first seq. */
    uint32_t files = 0;
    for (uint64_t seq = 1; seq <= N; seq++) {
        fpath(p, sizeof(p), dir, seq);
        off_t sz = file_size(p);
        if (sz < 0)
            continue;
        files++;
        CHECK(sz > JOURNAL_HEADER_SIZE && sz <= ROLL);
        uint64_t first = 0;
        int fd = open(p, O_RDONLY);
        CHECK(fd >= 0);
        CHECK_EQ(pread(fd, &first, 8, 16), 8);
        close(fd);
        CHECK_EQ(first, seq);
    }
    CHECK_EQ(files, res.files);

    /* A range from the middle skips whole files and delivers only the range. */
    collect_t mid = {.next = 1234};
    CHECK_EQ(journal_scan(dir, 1234, 2345, collect_fn, &mid, &res, &err), 0);
    CHECK_EQ(mid.count, 2345 - 1234 + 1);
    CHECK_EQ(mid.bad, 0);
    CHECK_EQ(res.last_seq, N);
    CHECK(res.first_seq > 1 && res.first_seq <= 1234);
    rm_rf(dir);
}

static void test_a_full_buffer_gives_eagain_and_then_progress(void)
{
    enum { N = 20000 };
    char dir[DIR_BYTES];
    tdir(dir, sizeof(dir), "backpressure");
    journal_config_t c = cfg_for(dir);
    c.buffer_bytes = JOURNAL_BUFFER_MIN;
    c.fsync = JOURNAL_FSYNC_BATCH;
    journal_t *j;
    err_t err = {0};
    CHECK_EQ(journal_open(&j, &c, 1, &err), 0);
    /* 200-byte records: 19 fill the buffer, so the producer outruns fdatasync.
     * However fast the writer, the producer goes on past N until it has been
     * told to wait at least once. */
    uint8_t p[200];
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 50000);
    uint64_t eagain = 0, s = 1;
    for (uint64_t dl = check_deadline(); s <= N || (eagain == 0 && check_before(dl));) {
        memcpy(p, &s, 8);
        int rc = journal_append(j, p, sizeof(p), s);
        if (rc == -EAGAIN) {
            eagain++;
            idle_wait(&idle);
            continue;
        }
        CHECK_EQ(rc, 0);
        idle_reset(&idle);
        s++;
    }
    CHECK(eagain > 0);
    journal_stats_t st;
    journal_stats(j, &st);
    CHECK_EQ(st.full, eagain);
    CHECK_EQ(journal_close(j), 0);
    journal_scan_t res;
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.delivered, s - 1);
    CHECK_EQ(res.last_seq, s - 1);
    rm_rf(dir);
}

typedef struct watch {
    journal_t *j;
    atomic_int stop;
    atomic_int sampled; /* set after the first sample */
    uint64_t samples, bad;
} watch_t;

static void *watch_main(void *arg)
{
    watch_t *w = arg;
    uint64_t last_d = 0, last_w = 0;
    while (!atomic_load(&w->stop)) {
        uint64_t d = journal_durable_seq(w->j);
        uint64_t wr = journal_written_seq(w->j);
        if (d < last_d || wr < last_w || d > wr)
            w->bad++;
        last_d = d;
        last_w = wr;
        w->samples++;
        atomic_store(&w->sampled, 1);
        sched_yield();
    }
    return NULL;
}

static void durable_follows(journal_fsync_t policy, uint32_t interval_ms, const char *tag)
{
    enum { N = 200000 };
    char dir[DIR_BYTES];
    tdir(dir, sizeof(dir), tag);
    journal_config_t c = cfg_for(dir);
    c.fsync = policy;
    c.fsync_interval_ms = interval_ms;
    c.buffer_bytes = 1 << 16;
    journal_t *j;
    err_t err = {0};
    CHECK_EQ(journal_open(&j, &c, 1, &err), 0);
    watch_t w = {.j = j};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, watch_main, &w), 0);
    int64_t a = append_range(j, 1, N);
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 100000);
    if (interval_ms >= 3600000) {
        /* An hour-long interval: all is written, nothing durable until
         * journal_sync asks. */
        for (uint64_t dl = check_deadline(); journal_written_seq(j) < N && check_before(dl);)
            idle_wait(&idle);
        CHECK_EQ(journal_written_seq(j), N);
        CHECK_EQ(journal_durable_seq(j), 0);
        CHECK_EQ(journal_sync(j), 0);
    } else {
        /* No sync asked: the writer gets there by itself. */
        for (uint64_t dl = check_deadline(); journal_durable_seq(j) < N && check_before(dl);)
            idle_wait(&idle);
    }
    uint64_t d = journal_durable_seq(j);
    /* The watcher looks at least once, however it was scheduled. */
    for (uint64_t dl = check_deadline(); !atomic_load(&w.sampled) && check_before(dl);)
        idle_wait(&idle);
    atomic_store(&w.stop, 1);
    pthread_join(t, NULL);
    CHECK(a >= 0);
    CHECK_EQ(d, N);
    CHECK_EQ(w.bad, 0);
    CHECK(w.samples > 0);
    CHECK_EQ(journal_close(j), 0);
    journal_scan_t res;
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.last_seq, N);
    rm_rf(dir);
}

static void test_durable_seq_is_monotonic_and_reaches_the_last_seq(void)
{
    durable_follows(JOURNAL_FSYNC_BATCH, 10, "durable-batch");
}

static void test_interval_policy_syncs_by_itself_once_the_interval_passes(void)
{
    durable_follows(JOURNAL_FSYNC_INTERVAL, 5, "durable-interval");
}

static void test_journal_sync_makes_everything_durable_under_a_long_interval(void)
{
    durable_follows(JOURNAL_FSYNC_INTERVAL, 3600000, "durable-sync");
}

static void test_config_defaults_pass_their_own_check_and_names_parse(void)
{
    journal_config_t c;
    journal_config_defaults(&c);
    err_t err = {0};
    CHECK_EQ(journal_config_check(&c, &err), 0);
    CHECK_EQ(c.buffer_bytes, 8u << 20);
    CHECK_EQ(c.fsync, JOURNAL_FSYNC_BATCH);
    journal_fsync_t f;
    for (int i = JOURNAL_FSYNC_BATCH; i <= JOURNAL_FSYNC_NEVER; i++) {
        CHECK_EQ(journal_fsync_parse(journal_fsync_name((journal_fsync_t)i), &f), 0);
        CHECK_EQ(f, i);
    }
    CHECK_EQ(journal_fsync_parse("sometimes", &f), -EINVAL);
    c.dir[0] = '\0';
    CHECK_EQ(journal_config_check(&c, &err), -EINVAL);
    CHECK_STR_HAS(journal_problem_name(JOURNAL_TORN_TAIL), "torn");
}

/* In a child: a 64 KiB file-size limit makes a write fail (short, then
 * EFBIG). The journal must stop, report it, and claim nothing unwritten. */
static int write_error_child(const char *dir)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 65536, .rlim_max = 65536};
    if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
        return 10;
    journal_config_t c = cfg_for(dir);
    c.fsync = JOURNAL_FSYNC_BATCH;
    c.buffer_bytes = 1 << 14; /* the first batches fit under the limit */
    journal_t *j;
    err_t err = {0};
    if (journal_open(&j, &c, 1, &err) < 0)
        return 11;
    uint8_t p[64];
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 50000);
    uint64_t s = 1;
    int rc = 0;
    for (uint64_t dl = check_deadline(); s < 100000 && check_before(dl);) {
        uint32_t len = payload_for(s, p);
        rc = journal_append(j, p, len, s);
        if (rc == 0) {
            s++;
        } else if (rc == -EAGAIN) {
            idle_wait(&idle);
        } else {
            break;
        }
    }
    if (rc != -EFBIG)
        return 12;
    err_t why = {0};
    if (journal_error(j, &why) != -EFBIG || strstr(why.msg, "journal-") == NULL)
        return 13;
    uint64_t durable = journal_durable_seq(j);
    if (durable >= s - 1 || durable == 0 || journal_written_seq(j) < durable)
        return 14;
    if (journal_sync(j) != -EFBIG || journal_close(j) != -EFBIG)
        return 15;
    /* What is on disk: at least everything durable, then at most a torn tail. */
    journal_scan_t res;
    collect_t col = {.next = 1};
    journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err);
    if (col.bad != 0 || res.last_seq < durable || res.last_seq >= s)
        return 16;
    if (res.problem != JOURNAL_OK && res.problem != JOURNAL_TORN_TAIL)
        return 17;
    return 0;
}

static void test_a_failed_write_stops_the_journal_and_durable_seq(void)
{
    char dir[DIR_BYTES];
    tdir(dir, sizeof(dir), "write-error");
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(write_error_child(dir));
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    rm_rf(dir);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    if (make_root("journal-write") < 0)
        return 1;
    RUN(test_crc32c_gives_the_standard_check_values);
    RUN(test_crc32c_hardware_and_table_agree_at_any_alignment);
    RUN(test_a_million_records_read_back_identical_with_fsync_batch);
    RUN(test_a_million_records_read_back_identical_with_fsync_interval);
    RUN(test_a_million_records_read_back_identical_with_fsync_never);
    RUN(test_append_refuses_a_bad_seq_or_length);
    RUN(test_files_roll_at_roll_bytes_and_the_scan_crosses_them);
    RUN(test_a_full_buffer_gives_eagain_and_then_progress);
    RUN(test_durable_seq_is_monotonic_and_reaches_the_last_seq);
    RUN(test_interval_policy_syncs_by_itself_once_the_interval_passes);
    RUN(test_journal_sync_makes_everything_durable_under_a_long_interval);
    RUN(test_config_defaults_pass_their_own_check_and_names_parse);
    RUN(test_a_failed_write_stops_the_journal_and_durable_seq);
    rm_rf(root);
    CHECK_MAIN_END();
}
