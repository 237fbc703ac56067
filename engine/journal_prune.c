/* journal_prune.c - the journal's retention: which old files no recovery can
 * need any more, and deleting them. See journal.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_int.h"

size_t journal_prunable(const uint64_t *first, size_t n, uint64_t keep_seq)
{
    if (keep_seq == 0)
        return 0; /* no snapshot: the journal is the only copy of everything */
    size_t k = 0;
    /* first[] ascends, so the files that may go are a prefix. first[i] >= 1:
     * no journal file is named for seq 0. */
    while (k + 1 < n && first[k + 1] - 1 <= keep_seq)
        k++;
    return k;
}

int journal_prune(const char *dir, uint64_t keep_seq, journal_prune_t *res, err_t *err)
{
    memset(res, 0, sizeof(*res));
    int dirfd;
    uint64_t *seqs;
    size_t n;
    int rc = journal_open_list(dir, &dirfd, &seqs, &n, err);
    if (rc < 0)
        return rc;
    size_t k = journal_prunable(seqs, n, keep_seq);
    for (size_t i = 0; i < k; i++) {
        char name[JOURNAL_NAME_MAX];
        journal_file_name(name, seqs[i]);
        if (unlinkat(dirfd, name, 0) < 0) {
            rc = err_set(err, -errno, "journal %s/%s: unlink: %s", dir, name, strerror(errno));
            break;
        }
        res->files++;
        res->end_seq = seqs[i + 1] - 1;
    }
    free(seqs);
    close(dirfd);
    return rc;
}
