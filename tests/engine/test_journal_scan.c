/* test_journal_scan.c - engine/journal.h's reader on real files: the scan of
 * every kind of damage (flipped byte, impossible length, torn tail, zeros,
 * missing file, bad header, seq gap, torn header), cutting a torn tail, a
 * crash and reopen, and the scan's edges. The writer's own tests are in
 * test_journal_write.c. Everything lives in one temp dir under /tmp, removed
 * at the end. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "crc32c.h"
#include "journal_helpers.h"

/* Writes seqs 1..n with the given policy and roll size into a fresh directory
 * for tag, and closes. dir (DIR_BYTES) gets the directory; first (PATH_BYTES),
 * unless NULL, the path of the journal's first file. */
static int write_journal(char *dir, char *first, const char *tag, uint64_t n, journal_fsync_t policy,
                         uint64_t roll_bytes)
{
    tdir(dir, DIR_BYTES, tag);
    if (first != NULL)
        fpath(first, PATH_BYTES, dir, 1);
    return write_seqs(dir, n, policy, roll_bytes);
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

static void test_a_flipped_byte_in_a_middle_record_stops_the_scan_before_it(void)
{
    char dir[DIR_BYTES], p[PATH_BYTES];
    CHECK_EQ(write_journal(dir, p, "flip", 100, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
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
    char dir[DIR_BYTES], p[PATH_BYTES];
    CHECK_EQ(write_journal(dir, p, "length", 10, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
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
    char dir[DIR_BYTES], p[PATH_BYTES];
    CHECK_EQ(write_journal(dir, p, "torn", N, JOURNAL_FSYNC_BATCH, 1 << 20), 0);
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
    char dir[DIR_BYTES], p[PATH_BYTES];
    CHECK_EQ(write_journal(dir, p, "zeros", N, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
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
    char dir[DIR_BYTES], p[PATH_BYTES];
    CHECK_EQ(write_journal(dir, NULL, "missing", 400, JOURNAL_FSYNC_NEVER, 4096), 0);
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
    CHECK_EQ(res.next_seq, firsts[1]); /* where the valid journal would go on */
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
    char dir[DIR_BYTES], p[PATH_BYTES];
    CHECK_EQ(write_journal(dir, p, "header", 50, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
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
    char p7[PATH_BYTES];
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

/* A version-2 header as journal.h documents it; params (bytes 32..95) are
 * the writer's, opaque to the journal: a pattern here. */
static size_t put_header(uint8_t *out, uint64_t first_seq)
{
    memset(out, 0, 128);
    memcpy(out, "BRSJRNL", 8);
    uint32_t v = 2, hs = 128;
    memcpy(out + 8, &v, 4);
    memcpy(out + 12, &hs, 4);
    memcpy(out + 16, &first_seq, 8);
    uint64_t t = 1700000000000000000ull;
    memcpy(out + 24, &t, 8);
    for (int i = 32; i < 96; i++)
        out[i] = (uint8_t)i;
    uint32_t crc = crc32c(0, out, 96);
    memcpy(out + 96, &crc, 4);
    return 128;
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
    char dir[DIR_BYTES], p[PATH_BYTES];
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
    char dir[DIR_BYTES], p[PATH_BYTES];
    CHECK_EQ(write_journal(dir, NULL, "torn-header", 20, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
    fpath(p, sizeof(p), dir, 21);
    uint8_t h[128];
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
    char dir[DIR_BYTES], p[PATH_BYTES];
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
    char dir[DIR_BYTES];
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

static void test_scan_says_where_the_journal_starts_and_goes_on(void)
{
    char dir[DIR_BYTES];
    CHECK_EQ(write_journal(dir, NULL, "ends", 400, JOURNAL_FSYNC_NEVER, 4096), 0);
    journal_scan_t res;
    err_t err = {0};
    CHECK_EQ(journal_scan(dir, 0, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.start_seq, 1);
    CHECK_EQ(res.next_seq, 401);
    /* From a seq in the last file, and past the end: the same answers. */
    CHECK_EQ(journal_scan(dir, 399, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.start_seq, 1);
    CHECK_EQ(res.next_seq, 401);
    CHECK_EQ(journal_scan(dir, 1000, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.next_seq, 401);
    /* An empty last file (opened, closed before any record): the journal
     * goes on at its first seq, though its last record is in the file before. */
    journal_config_t c = cfg_for(dir);
    journal_t *j;
    CHECK_EQ(journal_open(&j, &c, 401, &err), 0);
    CHECK_EQ(journal_close(j), 0);
    CHECK_EQ(journal_scan(dir, 1000, UINT64_MAX, NULL, NULL, &res, &err), 0);
    CHECK_EQ(res.valid, 0);
    CHECK_EQ(res.next_seq, 401);
    rm_rf(dir);
}

static void test_the_callback_can_stop_the_scan(void)
{
    char dir[DIR_BYTES];
    CHECK_EQ(write_journal(dir, NULL, "stop", 100, JOURNAL_FSYNC_NEVER, 1 << 20), 0);
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
    if (make_root("journal-scan") < 0)
        return 1;
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
    RUN(test_scan_says_where_the_journal_starts_and_goes_on);
    RUN(test_the_callback_can_stop_the_scan);
    rm_rf(root);
    CHECK_MAIN_END();
}
