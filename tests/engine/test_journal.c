/* test_journal.c - engine/journal.h on real files: CRC-32C, a million records
 * through each fsync policy and back, rolling, back-pressure, durable_seq, a
 * write error, a crash and reopen, and the scan of every kind of damage
 * (flipped byte, torn tail, zeros, missing file, bad header, seq gap).
 * Everything lives in one temp dir under /tmp, removed at the end. */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../check.h"
#include "crc32c.h"
#include "idle.h"
#include "journal.h"

static char root[64]; /* the temp dir of this run */

/* A fresh directory path for one test (not created: journal_open does it). */
static void tdir(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "%s/%s", root, tag);
}

static void fpath(char *buf, size_t n, const char *dir, uint64_t first_seq)
{
    snprintf(buf, n, "%s/journal-%020" PRIu64 ".bj", dir, first_seq);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static journal_config_t cfg_for(const char *dir)
{
    journal_config_t c;
    journal_config_defaults(&c);
    snprintf(c.dir, sizeof(c.dir), "%s", dir);
    c.idle = IDLE_BACKOFF;
    c.idle_sleep_max_us = 50;
    return c;
}

/* The payload of seq: 8..48 bytes (every padding case), content from seq. */
static uint32_t payload_for(uint64_t seq, uint8_t *out)
{
    uint32_t len = 8 + (uint32_t)(seq * 7 % 41);
    memcpy(out, &seq, 8);
    for (uint32_t i = 8; i < len; i++)
        out[i] = (uint8_t)(seq * 31 + i);
    return len;
}

/* Appends seqs first..last, waiting out back-pressure. Returns the number of
 * -EAGAIN answers, or a negative error. */
static int64_t append_range(journal_t *j, uint64_t first, uint64_t last)
{
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 50000);
    int64_t eagain = 0;
    uint8_t p[64];
    for (uint64_t s = first; s <= last;) {
        uint32_t len = payload_for(s, p);
        int rc = journal_append(j, p, len, s);
        if (rc == 0) {
            s++;
            idle_reset(&idle);
        } else if (rc == -EAGAIN) {
            eagain++;
            idle_wait(&idle);
        } else {
            return rc;
        }
    }
    return eagain;
}

/* Checks each delivered record against payload_for and that seqs run on. */
typedef struct collect {
    uint64_t next;      /* seq expected next; 0: take the first as it comes */
    uint64_t count;
    uint64_t bad;
    uint64_t max_seq;
    uint64_t stop_at;   /* return 7 at this seq (0: never) */
} collect_t;

static int collect_fn(void *ctx, uint64_t seq, const void *payload, uint32_t len)
{
    collect_t *c = ctx;
    uint8_t want[64];
    uint32_t wlen = payload_for(seq, want);
    if ((c->next != 0 && seq != c->next) || len != wlen || memcmp(payload, want, len) != 0)
        c->bad++;
    c->next = seq + 1;
    c->count++;
    if (seq > c->max_seq)
        c->max_seq = seq;
    return c->stop_at != 0 && seq == c->stop_at ? 7 : 0;
}

/* Writes seqs 1..n into dir with the given policy and roll size, and closes. */
static int write_journal(const char *dir, uint64_t n, journal_fsync_t policy, uint64_t roll_bytes)
{
    journal_config_t c = cfg_for(dir);
    c.fsync = policy;
    c.roll_bytes = roll_bytes;
    journal_t *j;
    err_t err = {0};
    int rc = journal_open(&j, &c, 1, &err);
    if (rc < 0) {
        fprintf(stderr, "  journal_open: %s\n", err.msg);
        return rc;
    }
    int64_t a = append_range(j, 1, n);
    rc = journal_close(j);
    return a < 0 ? (int)a : rc;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static int poke(const char *path, off_t off, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t w = pwrite(fd, bytes, n, off);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

static uint8_t peek(const char *path, off_t off)
{
    uint8_t b = 0;
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        if (pread(fd, &b, 1, off) != 1)
            b = 0;
        close(fd);
    }
    return b;
}

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
    char dir[128];
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
    char dir[128];
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
    char dir[128], p[256];
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
    char dir[128];
    tdir(dir, sizeof(dir), "backpressure");
    journal_config_t c = cfg_for(dir);
    c.buffer_bytes = JOURNAL_BUFFER_MIN;
    c.fsync = JOURNAL_FSYNC_BATCH;
    journal_t *j;
    err_t err = {0};
    CHECK_EQ(journal_open(&j, &c, 1, &err), 0);
    /* 200-byte records: 19 fill the buffer, so the producer outruns fdatasync. */
    uint8_t p[200];
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 50000);
    uint64_t eagain = 0;
    for (uint64_t s = 1; s <= N;) {
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
    CHECK_EQ(res.delivered, N);
    CHECK_EQ(res.last_seq, N);
    rm_rf(dir);
}

typedef struct watch {
    journal_t *j;
    atomic_int stop;
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
        sched_yield();
    }
    return NULL;
}

static void durable_follows(journal_fsync_t policy, uint32_t interval_ms, const char *tag)
{
    enum { N = 200000 };
    char dir[128];
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
        for (int i = 0; i < 100000 && journal_written_seq(j) < N; i++)
            idle_wait(&idle);
        CHECK_EQ(journal_written_seq(j), N);
        CHECK_EQ(journal_durable_seq(j), 0);
        CHECK_EQ(journal_sync(j), 0);
    } else {
        /* No sync asked: the writer gets there by itself. */
        for (int i = 0; i < 100000 && journal_durable_seq(j) < N; i++)
            idle_wait(&idle);
    }
    uint64_t d = journal_durable_seq(j);
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
    for (int tries = 0; tries < 1000000 && s < 100000; tries++) {
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
    char dir[128];
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

/* ------------------------------------------------------------------ reader */

static void test_a_flipped_byte_in_a_middle_record_stops_the_scan_before_it(void)
{
    char dir[128], p[256];
    tdir(dir, sizeof(dir), "flip");
    CHECK_EQ(write_journal(dir, 100, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
    fpath(p, sizeof(p), dir, 1);
    /* Find seq 50 by walking frames as the format says. */
    off_t off = JOURNAL_HEADER_SIZE;
    uint8_t pl[64];
    for (uint64_t s = 1; s < 50; s++)
        off += journal_frame_size(payload_for(s, pl));
    uint8_t b = peek(p, off + 20) ^ 0x10;
    CHECK_EQ(poke(p, off + 20, &b, 1), 0);
    off_t size_before = file_size(p);

    journal_scan_t res;
    collect_t col = {.next = 1};
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_CORRUPT_RECORD);
    CHECK_EQ(col.count, 49);
    CHECK_EQ(col.max_seq, 49);
    CHECK_EQ(col.bad, 0);
    CHECK_EQ(res.last_seq, 49);
    CHECK_EQ(res.offset, off);
    CHECK_STR_HAS(res.file, "journal-00000000000000000001.bj");
    CHECK_STR_HAS(err.msg, "journal-00000000000000000001.bj");
    char at[48];
    snprintf(at, sizeof(at), "at byte %lld", (long long)off);
    CHECK_STR_HAS(err.msg, at);
    CHECK_STR_HAS(err.msg, "crc");
    /* Not a tail: records follow it. Cutting is refused and nothing changes. */
    CHECK_EQ(journal_truncate_tail(&res, &err), -EBADMSG);
    CHECK_EQ(file_size(p), size_before);
    rm_rf(dir);
}

static void test_an_impossible_length_is_corruption_not_a_crash(void)
{
    char dir[128], p[256];
    tdir(dir, sizeof(dir), "length");
    CHECK_EQ(write_journal(dir, 10, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
    fpath(p, sizeof(p), dir, 1);
    uint32_t huge = 0x7FFFFFF0u;
    CHECK_EQ(poke(p, JOURNAL_HEADER_SIZE, &huge, 4), 0);
    journal_scan_t res;
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_CORRUPT_RECORD);
    CHECK_EQ(res.delivered, 0);
    CHECK_EQ(res.offset, JOURNAL_HEADER_SIZE);
    CHECK_STR_HAS(err.msg, "impossible length");
    rm_rf(dir);
}

static void test_a_truncated_last_record_is_a_torn_tail_and_is_cut(void)
{
    enum { N = 500 };
    char dir[128], p[256];
    tdir(dir, sizeof(dir), "torn");
    CHECK_EQ(write_journal(dir, N, JOURNAL_FSYNC_BATCH, 1 << 20), 0);
    fpath(p, sizeof(p), dir, 1);
    off_t sz = file_size(p);
    uint8_t pl[64];
    off_t last_off = sz - journal_frame_size(payload_for(N, pl));
    CHECK_EQ(truncate(p, sz - 5), 0);

    journal_scan_t res;
    collect_t col = {.next = 1};
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_TORN_TAIL);
    CHECK_EQ(col.count, N - 1);
    CHECK_EQ(res.last_seq, N - 1);
    CHECK_EQ(res.offset, last_off);
    CHECK(res.in_last_file);
    CHECK_STR_HAS(err.msg, "torn tail");
    /* A writer will not continue a damaged journal. */
    journal_config_t c = cfg_for(dir);
    journal_t *j;
    CHECK_EQ(journal_open(&j, &c, N, &err), -EBADMSG);
    CHECK_STR_HAS(err.msg, "truncate");
    CHECK_EQ(journal_truncate_tail(&res, &err), 0);
    CHECK_EQ(file_size(p), last_off);
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.problem, JOURNAL_OK);
    CHECK_EQ(res.last_seq, N - 1);

    /* The journal goes on from there in a new file. */
    CHECK_EQ(journal_open(&j, &c, N, &err), 0);
    CHECK(append_range(j, N, N + 99) >= 0);
    CHECK_EQ(journal_close(j), 0);
    col = (collect_t){.next = 1};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), 0);
    CHECK_EQ(col.count, N + 99);
    CHECK_EQ(col.bad, 0);
    CHECK_EQ(res.files, 2);
    rm_rf(dir);
}

static void test_a_zero_filled_tail_is_torn(void)
{
    enum { N = 300 };
    char dir[128], p[256];
    tdir(dir, sizeof(dir), "zeros");
    CHECK_EQ(write_journal(dir, N, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
    fpath(p, sizeof(p), dir, 1);
    off_t sz = file_size(p);
    CHECK_EQ(truncate(p, sz + 8192), 0); /* what a crash can leave: allocated, never written */
    journal_scan_t res;
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_TORN_TAIL);
    CHECK_EQ(res.last_seq, N);
    CHECK_EQ(res.offset, sz);
    CHECK_EQ(journal_truncate_tail(&res, &err), 0);
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(file_size(p), sz);

    /* The same zeros in a file that is not the last are corruption. */
    journal_config_t c = cfg_for(dir);
    journal_t *j;
    CHECK_EQ(journal_open(&j, &c, N + 1, &err), 0);
    CHECK(append_range(j, N + 1, N + 10) >= 0);
    CHECK_EQ(journal_close(j), 0);
    CHECK_EQ(truncate(p, sz + 64), 0);
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_CORRUPT_RECORD);
    CHECK(!res.in_last_file);
    CHECK_EQ(journal_truncate_tail(&res, &err), -EBADMSG);
    rm_rf(dir);
}

static void test_a_missing_middle_file_is_reported(void)
{
    char dir[128], p[256];
    tdir(dir, sizeof(dir), "missing");
    CHECK_EQ(write_journal(dir, 400, JOURNAL_FSYNC_NEVER, 4096), 0);
    journal_scan_t res;
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK(res.files >= 3);
    /* Find the first three files. */
    uint64_t firsts[3], k = 0;
    for (uint64_t s = 1; s <= 400 && k < 3; s++) {
        fpath(p, sizeof(p), dir, s);
        if (file_size(p) >= 0)
            firsts[k++] = s;
    }
    CHECK_EQ(k, 3);
    fpath(p, sizeof(p), dir, firsts[1]);
    CHECK_EQ(unlink(p), 0);
    collect_t col = {.next = 1};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_MISSING_FILE);
    CHECK_EQ(col.count, firsts[1] - 1);
    CHECK_EQ(res.last_seq, firsts[1] - 1);
    char name[64];
    snprintf(name, sizeof(name), "journal-%020" PRIu64 ".bj", firsts[2]);
    CHECK_STR_HAS(res.file, name);
    CHECK_STR_HAS(err.msg, name);
    CHECK_STR_HAS(err.msg, "missing");
    CHECK_EQ(res.offset, 0);
    CHECK_EQ(journal_truncate_tail(&res, &err), -EBADMSG);

    /* A journal that starts after the requested seq misses files too. */
    fpath(p, sizeof(p), dir, firsts[0]);
    CHECK_EQ(unlink(p), 0);
    CHECK_EQ(journal_scan(dir, 1, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_MISSING_FILE);
    CHECK_EQ(res.delivered, 0);
    /* From the first seq there is, it is clean. */
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.first_seq, firsts[2]);
    CHECK_EQ(res.last_seq, 400);
    rm_rf(dir);
}

static void test_a_bad_file_header_is_reported(void)
{
    char dir[128], p[256];
    tdir(dir, sizeof(dir), "header");
    CHECK_EQ(write_journal(dir, 50, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
    fpath(p, sizeof(p), dir, 1);
    uint8_t b = peek(p, 2) ^ 0xFF;
    CHECK_EQ(poke(p, 2, &b, 1), 0);
    journal_scan_t res;
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_BAD_HEADER);
    CHECK_EQ(res.delivered, 0);
    CHECK_EQ(res.offset, 0);
    CHECK_STR_HAS(err.msg, "journal-00000000000000000001.bj");
    CHECK_STR_HAS(err.msg, "magic");
    CHECK_EQ(journal_truncate_tail(&res, &err), -EBADMSG);
    CHECK_EQ(file_size(p) > 0, 1);

    /* A valid header under the wrong name is bad too. */
    b ^= 0xFF;
    CHECK_EQ(poke(p, 2, &b, 1), 0);
    char p7[256];
    fpath(p7, sizeof(p7), dir, 7);
    CHECK_EQ(rename(p, p7), 0);
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_BAD_HEADER);
    CHECK_STR_HAS(err.msg, "first seq 1");
    rm_rf(dir);
}

/* Builds one frame as journal.h documents it, independently of journal.c. */
static size_t put_frame(uint8_t *out, uint64_t seq, const void *payload, uint32_t len)
{
    size_t fsz = 16 + ((len + 7u) & ~7u);
    memset(out, 0, fsz);
    memcpy(out, &len, 4);
    memcpy(out + 8, &seq, 8);
    memcpy(out + 16, payload, len);
    uint32_t crc = crc32c(crc32c(0, out, 4), out + 8, fsz - 8);
    memcpy(out + 4, &crc, 4);
    return fsz;
}

static size_t put_header(uint8_t *out, uint64_t first_seq)
{
    memset(out, 0, 64);
    memcpy(out, "BRSJRNL", 8);
    uint32_t v = 1, hs = 64;
    memcpy(out + 8, &v, 4);
    memcpy(out + 12, &hs, 4);
    memcpy(out + 16, &first_seq, 8);
    uint64_t t = 1700000000000000000ull;
    memcpy(out + 24, &t, 8);
    uint32_t crc = crc32c(0, out, 32);
    memcpy(out + 32, &crc, 4);
    return 64;
}

static int write_file(const char *path, const uint8_t *b, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, b, n);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

static void test_a_hand_made_journal_scans_and_a_seq_gap_is_reported(void)
{
    char dir[128], p[256];
    tdir(dir, sizeof(dir), "gap");
    CHECK_EQ(mkdir(root, 0755) == 0 || errno == EEXIST, 1);
    CHECK_EQ(mkdir(dir, 0755), 0);
    uint8_t file[1024];
    uint8_t pl[64];
    size_t n = put_header(file, 1);
    for (uint64_t s = 1; s <= 3; s++)
        n += put_frame(file + n, s, pl, payload_for(s, pl));
    size_t gap_off = n;
    n += put_frame(file + n, 5, pl, payload_for(5, pl));
    n += put_frame(file + n, 6, pl, payload_for(6, pl));
    fpath(p, sizeof(p), dir, 1);
    /* First only the good part: the documented format is what the reader reads. */
    CHECK_EQ(write_file(p, file, gap_off), 0);
    journal_scan_t res;
    collect_t col = {.next = 1};
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), 0);
    CHECK_EQ(col.count, 3);
    CHECK_EQ(col.bad, 0);
    CHECK_EQ(write_file(p, file, n), 0);
    col = (collect_t){.next = 1};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_SEQ_GAP);
    CHECK_EQ(col.count, 3);
    CHECK_EQ(res.last_seq, 3);
    CHECK_EQ(res.offset, gap_off);
    CHECK_STR_HAS(err.msg, "seq 5 where 4 was due");
    /* Even at the very end, a gap is not a tail to cut. */
    CHECK_EQ(write_file(p, file, gap_off + journal_frame_size(payload_for(5, pl))), 0);
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_SEQ_GAP);
    CHECK_EQ(journal_truncate_tail(&res, &err), -EBADMSG);
    rm_rf(dir);
}

static void test_a_torn_header_of_a_new_last_file_is_cut(void)
{
    char dir[128], p[256];
    tdir(dir, sizeof(dir), "torn-header");
    CHECK_EQ(write_journal(dir, 20, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
    fpath(p, sizeof(p), dir, 21);
    uint8_t h[64];
    put_header(h, 21);
    CHECK_EQ(write_file(p, h, 10), 0); /* the crash hit while the header was written */
    journal_scan_t res;
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_TORN_TAIL);
    CHECK_EQ(res.last_seq, 20);
    CHECK_EQ(res.offset, 0);
    CHECK_EQ(journal_truncate_tail(&res, &err), 0);
    CHECK_EQ(file_size(p), -1);
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.files, 1);
    rm_rf(dir);
}

static void test_reopen_after_a_crash_starts_a_new_file(void)
{
    enum { N = 1000 };
    char dir[128], p[256];
    tdir(dir, sizeof(dir), "crash");
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* Writes, waits for durability, and dies without journal_close. */
        journal_config_t c = cfg_for(dir);
        journal_t *j;
        if (journal_open(&j, &c, 1, NULL) < 0 || append_range(j, 1, N) < 0 || journal_sync(j) < 0)
            _exit(1);
        _exit(0);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    journal_scan_t res;
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.last_seq, N);
    CHECK_EQ(res.files, 1);
    fpath(p, sizeof(p), dir, 1);
    off_t old_size = file_size(p);

    journal_config_t c = cfg_for(dir);
    journal_t *j, *j2;
    CHECK_EQ(journal_open(&j, &c, N / 2, &err), -EEXIST); /* behind the journal */
    CHECK_EQ(journal_open(&j, &c, N + 1, &err), 0);
    CHECK_EQ(journal_open(&j2, &c, N + 1, &err), -EBUSY); /* one writer a directory */
    journal_scan_t live = res;
    live.problem = JOURNAL_TORN_TAIL; /* even if a scan said so, a live journal is not cut */
    CHECK_EQ(journal_truncate_tail(&live, &err), -EBUSY);
    CHECK(append_range(j, N + 1, 2 * N) >= 0);
    CHECK_EQ(journal_close(j), 0);
    CHECK_EQ(file_size(p), old_size); /* the old file was not touched */
    fpath(p, sizeof(p), dir, N + 1);
    CHECK(file_size(p) > JOURNAL_HEADER_SIZE);
    collect_t col = {.next = 1};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), 0);
    CHECK_EQ(col.count, 2 * N);
    CHECK_EQ(col.bad, 0);
    CHECK_EQ(res.files, 2);

    /* Its records are never overwritten by a second open at the same seq... */
    CHECK_EQ(journal_open(&j, &c, N + 1, &err), -EEXIST);
    CHECK_STR_HAS(err.msg, "already holds records");

    /* ...but a file that died before its first record is replaced. */
    CHECK_EQ(journal_open(&j, &c, 2 * N + 1, &err), 0);
    CHECK_EQ(journal_close(j), 0);
    CHECK_EQ(journal_open(&j, &c, 2 * N + 1, &err), 0);
    CHECK(append_range(j, 2 * N + 1, 2 * N + 5) >= 0);
    CHECK_EQ(journal_close(j), 0);
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.last_seq, 2 * N + 5);
    CHECK_EQ(res.files, 3);

    /* Opening past the end (a snapshot covers what a crash lost) is allowed;
     * the gap shows in a scan from before it, not in one from after it. */
    CHECK_EQ(journal_open(&j, &c, 3 * N, &err), 0);
    CHECK(append_range(j, 3 * N, 3 * N + 5) >= 0);
    CHECK_EQ(journal_close(j), 0);
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_MISSING_FILE);
    CHECK_EQ(res.last_seq, 2 * N + 5);
    CHECK_EQ(journal_scan(dir, 3 * N, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.delivered, 6);
    rm_rf(dir);
}

static void test_scan_of_an_empty_or_absent_directory(void)
{
    char dir[128];
    tdir(dir, sizeof(dir), "empty");
    journal_scan_t res;
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), -ENOENT);
    CHECK_EQ(mkdir(dir, 0755), 0);
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.files, 0);
    CHECK_EQ(res.last_seq, 0);
    CHECK_EQ(journal_truncate_tail(&res, &err), 0);
    rm_rf(dir);
}

static void test_the_callback_can_stop_the_scan(void)
{
    char dir[128];
    tdir(dir, sizeof(dir), "stop");
    CHECK_EQ(write_journal(dir, 100, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
    journal_scan_t res;
    err_t err = {0};
    collect_t col = {.next = 1, .stop_at = 10};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, collect_fn, &col, &res, &err), 7);
    CHECK_EQ(col.count, 10);
    CHECK_EQ(res.last_seq, 10);
    rm_rf(dir);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    snprintf(root, sizeof(root), "/tmp/bourse-test-journal-XXXXXX");
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
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
    RUN(test_a_flipped_byte_in_a_middle_record_stops_the_scan_before_it);
    RUN(test_an_impossible_length_is_corruption_not_a_crash);
    RUN(test_a_truncated_last_record_is_a_torn_tail_and_is_cut);
    RUN(test_a_zero_filled_tail_is_torn);
    RUN(test_a_missing_middle_file_is_reported);
    RUN(test_a_bad_file_header_is_reported);
    RUN(test_a_hand_made_journal_scans_and_a_seq_gap_is_reported);
    RUN(test_a_torn_header_of_a_new_last_file_is_cut);
    RUN(test_reopen_after_a_crash_starts_a_new_file);
    RUN(test_scan_of_an_empty_or_absent_directory);
    RUN(test_the_callback_can_stop_the_scan);
    rm_rf(root);
    CHECK_MAIN_END();
}
