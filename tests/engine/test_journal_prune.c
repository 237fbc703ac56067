/* test_journal_prune.c - engine/journal_prune.c: which files retention may
 * delete (journal_prunable, on seqs alone) and journal_prune on real files:
 * what stays scans clean from the seq it keeps the journal for, nothing that
 * holds a later record goes, the file being written never goes, and nothing
 * goes without a seq to keep. Everything lives in one temp dir under /tmp,
 * removed at the end. */
#include <dirent.h>

#include "journal_helpers.h"

enum { FIRSTS_MAX = 4096 };

/* The first seqs of dir's journal files, ascending (names sort by seq). */
static size_t list_firsts(const char *dir, uint64_t *out)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        unsigned long long seq;
        char tail[8];
        if (k < FIRSTS_MAX && sscanf(names[i]->d_name, "journal-%20llu.%7s", &seq, tail) == 2 &&
            strcmp(tail, "bj") == 0)
            out[k++] = seq;
        free(names[i]);
    }
    if (n >= 0)
        free(names);
    return k;
}

/* Writes seqs 1..n with roll_bytes into a fresh directory for tag, and closes. */
static int write_journal(char *dir, const char *tag, uint64_t n, uint64_t roll_bytes)
{
    tdir(dir, DIR_BYTES, tag);
    return write_seqs(dir, n, JOURNAL_FSYNC_NEVER, roll_bytes);
}

static void test_prunable_counts_the_files_wholly_at_or_before_keep_seq(void)
{
    /* Files of seqs 1..100, 101..200, 201..300, 301.. */
    const uint64_t f[] = {1, 101, 201, 301};
    CHECK_EQ(journal_prunable(f, 4, 99), 0);  /* seq 100 is still needed */
    CHECK_EQ(journal_prunable(f, 4, 100), 1); /* the first file ends at 100 */
    CHECK_EQ(journal_prunable(f, 4, 101), 1); /* 101 is in the second: it stays */
    CHECK_EQ(journal_prunable(f, 4, 199), 1);
    CHECK_EQ(journal_prunable(f, 4, 200), 2);
    CHECK_EQ(journal_prunable(f, 4, 300), 3);
}

static void test_prunable_never_counts_the_last_file_nor_anything_without_a_seq_to_keep(void)
{
    const uint64_t f[] = {1, 101, 201, 301};
    CHECK_EQ(journal_prunable(f, 4, 1000000), 3); /* past the end: the last file stays */
    CHECK_EQ(journal_prunable(f, 4, UINT64_MAX), 3);
    CHECK_EQ(journal_prunable(f, 4, 0), 0);       /* no snapshot: everything stays */
    CHECK_EQ(journal_prunable(f, 1, 1000000), 0);
    CHECK_EQ(journal_prunable(f, 0, 1000000), 0);
    const uint64_t late[] = {5001, 5101};         /* a journal that already starts late */
    CHECK_EQ(journal_prunable(late, 2, 5099), 0);
    CHECK_EQ(journal_prunable(late, 2, 5100), 1);
}

static void test_prunable_bounds_a_file_before_a_hole_by_its_successor(void)
{
    /* 101.. ended at 150 (a crash lost the rest) and the journal went on at
     * 301 after a snapshot of 300: the names alone say 101's file may hold
     * up to 300, so it goes only once 300 is covered. */
    const uint64_t f[] = {1, 101, 301};
    CHECK_EQ(journal_prunable(f, 3, 200), 1);
    CHECK_EQ(journal_prunable(f, 3, 300), 2);
}

static void test_prune_deletes_the_old_files_and_what_stays_scans_from_keep_seq(void)
{
    char dir[DIR_BYTES];
    CHECK_EQ(write_journal(dir, "old", 3000, 4096), 0);
    static uint64_t before[FIRSTS_MAX], after[FIRSTS_MAX];
    size_t nb = list_firsts(dir, before);
    CHECK(nb >= 10);
    const uint64_t keep = 1500;
    journal_prune_t pr;
    err_t err = {0};
    CHECK_EQ(journal_prune(dir, keep, &pr, &err), 0);
    size_t na = list_firsts(dir, after);
    CHECK_EQ(pr.files, nb - na);
    CHECK(pr.files > 0);
    /* Not too much: the first file left holds keep + 1. Not too little: the
     * one after it starts past keep + 1, so the file before held nothing
     * after keep. */
    CHECK(after[0] <= keep + 1);
    CHECK(na >= 2 && after[1] > keep + 1);
    CHECK_EQ(pr.end_seq, after[0] - 1);
    CHECK_EQ(after[na - 1], before[nb - 1]);
    /* Every record after keep is still there, in order. */
    journal_scan_t res;
    collect_t col = {.next = keep + 1};
    CHECK_EQ(journal_scan(dir, keep + 1, UINT64_MAX, collect_fn, &col, &res, &err), 0);
    CHECK_EQ(col.bad, 0);
    CHECK_EQ(col.count, 3000 - keep);
    CHECK_EQ(res.start_seq, after[0]);
    /* A second pass finds nothing more to delete. */
    CHECK_EQ(journal_prune(dir, keep, &pr, &err), 0);
    CHECK_EQ(pr.files, 0);
    CHECK_EQ(pr.end_seq, 0);
    rm_rf(dir);
}

static void test_prune_keeps_everything_without_a_seq_to_keep(void)
{
    char dir[DIR_BYTES];
    CHECK_EQ(write_journal(dir, "none", 500, 4096), 0);
    static uint64_t before[FIRSTS_MAX];
    size_t nb = list_firsts(dir, before);
    journal_prune_t pr;
    err_t err = {0};
    CHECK_EQ(journal_prune(dir, 0, &pr, &err), 0);
    CHECK_EQ(pr.files, 0);
    CHECK_EQ(list_firsts(dir, before), nb);
    rm_rf(dir);
}

static void test_prune_past_the_end_leaves_only_the_last_file(void)
{
    char dir[DIR_BYTES];
    CHECK_EQ(write_journal(dir, "end", 500, 4096), 0);
    static uint64_t before[FIRSTS_MAX], after[FIRSTS_MAX];
    size_t nb = list_firsts(dir, before);
    journal_prune_t pr;
    err_t err = {0};
    CHECK_EQ(journal_prune(dir, 500, &pr, &err), 0);
    CHECK_EQ(pr.files, nb - 1);
    CHECK_EQ(list_firsts(dir, after), 1);
    CHECK_EQ(after[0], before[nb - 1]);
    /* The next writer still checks its start against the last file. */
    journal_config_t c = cfg_for(dir);
    journal_t *j;
    CHECK_EQ(journal_open(&j, &c, 400, &err), -EEXIST);
    CHECK_EQ(journal_open(&j, &c, 501, &err), 0);
    CHECK_EQ(journal_close(j), 0);
    rm_rf(dir);
}

static void test_prune_beside_a_live_writer_keeps_the_file_being_written(void)
{
    char dir[DIR_BYTES];
    tdir(dir, sizeof(dir), "live");
    journal_config_t c = cfg_for(dir);
    c.fsync = JOURNAL_FSYNC_NEVER;
    c.roll_bytes = 4096;
    journal_t *j;
    err_t err = {0};
    CHECK_EQ(journal_open(&j, &c, 1, &err), 0);
    CHECK(append_range(j, 1, 1000) >= 0);
    CHECK_EQ(journal_sync(j), 0);
    journal_prune_t pr;
    CHECK_EQ(journal_prune(dir, 1000, &pr, &err), 0);
    CHECK(pr.files > 0);
    /* The writer goes on into its file, and rolls after it. */
    CHECK(append_range(j, 1001, 2000) >= 0);
    CHECK_EQ(journal_close(j), 0);
    journal_scan_t res;
    collect_t col = {.next = 1001};
    CHECK_EQ(journal_scan(dir, 1001, UINT64_MAX, collect_fn, &col, &res, &err), 0);
    CHECK_EQ(col.bad, 0);
    CHECK_EQ(col.count, 1000);
    CHECK(res.start_seq <= 1001);
    rm_rf(dir);
}

static void test_a_pruned_journal_scanned_from_seq_1_says_where_it_starts(void)
{
    char dir[DIR_BYTES];
    CHECK_EQ(write_journal(dir, "start", 1000, 4096), 0);
    journal_prune_t pr;
    err_t err = {0};
    CHECK_EQ(journal_prune(dir, 600, &pr, &err), 0);
    CHECK(pr.files > 0);
    journal_scan_t res;
    CHECK_EQ(journal_scan(dir, 1, UINT64_MAX, NULL, NULL, &res, &err), -EBADMSG);
    CHECK_EQ(res.problem, JOURNAL_MISSING_FILE);
    CHECK_EQ(res.start_seq, pr.end_seq + 1);
    CHECK_EQ(res.delivered, 0);
    rm_rf(dir);
}

static void test_prune_of_a_missing_directory_names_it(void)
{
    char dir[DIR_BYTES];
    tdir(dir, sizeof(dir), "absent");
    journal_prune_t pr;
    err_t err = {0};
    CHECK_EQ(journal_prune(dir, 10, &pr, &err), -ENOENT);
    CHECK_STR_HAS(err.msg, dir);
    CHECK_EQ(pr.files, 0);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    if (make_root("journal-prune") < 0)
        return 1;
    RUN(test_prunable_counts_the_files_wholly_at_or_before_keep_seq);
    RUN(test_prunable_never_counts_the_last_file_nor_anything_without_a_seq_to_keep);
    RUN(test_prunable_bounds_a_file_before_a_hole_by_its_successor);
    RUN(test_prune_deletes_the_old_files_and_what_stays_scans_from_keep_seq);
    RUN(test_prune_keeps_everything_without_a_seq_to_keep);
    RUN(test_prune_past_the_end_leaves_only_the_last_file);
    RUN(test_prune_beside_a_live_writer_keeps_the_file_being_written);
    RUN(test_a_pruned_journal_scanned_from_seq_1_says_where_it_starts);
    RUN(test_prune_of_a_missing_directory_names_it);
    rm_rf(root);
    CHECK_MAIN_END();
}
