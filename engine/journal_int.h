/* journal_int.h - what the journal's writer (journal.c) and reader
 * (journal_scan.c) share: file names, the directory listing, file headers and
 * the record CRC. Not for users of the journal. */
#ifndef BOURSE_JOURNAL_INT_H
#define BOURSE_JOURNAL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#include "crc32c.h"
#include "journal.h"

/* Writes "journal-<seq as 20 digits>.bj" into buf (JOURNAL_NAME_MAX bytes). */
void journal_file_name(char buf[JOURNAL_NAME_MAX], uint64_t seq);

/* The first seq a directory entry's name stands for: 0 when it is not
 * exactly a journal file name as journal_file_name writes it. */
uint64_t journal_file_seq(const char *name);

/* The first seqs of the journal files in the directory dirfd, ascending, in
 * a malloc'd array (*seqs is NULL when *n == 0). Returns 0 or -errno. */
int journal_list(int dirfd, uint64_t **seqs, size_t *n);

/* Opens the journal directory (*dirfd, the caller closes it) and lists its
 * files as journal_list does. Returns 0, or a negative errno with err set and
 * nothing left open. */
int journal_open_list(const char *dir, int *dirfd, uint64_t **seqs, size_t *n, err_t *err);

/* Fills a header of this version for a file whose first record is
 * first_seq, carrying params. */
void journal_header_build(journal_file_header_t *h, uint64_t first_seq, uint64_t created_unix_ns,
                          const uint8_t params[JOURNAL_PARAMS_SIZE]);

/* NULL when h is a valid header of this version, else what is wrong with it.
 * *other_version is set when h is a journal header of another version (its
 * magic, then a version other than JOURNAL_VERSION): not damage. */
const char *journal_header_problem(const journal_file_header_t *h, int *other_version);

/* The CRC a record frame of fsz bytes carries: over bytes 0..3 (len) and
 * 8..fsz-1 (seq, payload, padding), i.e. every byte but the CRC field. */
static inline uint32_t journal_frame_crc(const uint8_t *frame, uint32_t fsz)
{
    uint32_t c = crc32c(0, frame, 4);
    return crc32c(c, frame + 8, fsz - 8);
}

#endif
