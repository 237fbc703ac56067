/* journal_file.c - see journal_int.h: names, listing and headers of journal
 * files, shared by the writer and the reader. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_int.h"

enum { NAME_DIGITS = 20 };

static const char name_prefix[] = "journal-";
static const char name_suffix[] = ".bj";

void journal_file_name(char buf[JOURNAL_NAME_MAX], uint64_t seq)
{
    snprintf(buf, JOURNAL_NAME_MAX, "%s%020" PRIu64 "%s", name_prefix, seq, name_suffix);
}

uint64_t journal_file_seq(const char *name)
{
    const size_t pre = sizeof(name_prefix) - 1, suf = sizeof(name_suffix) - 1;
    if (strlen(name) != pre + NAME_DIGITS + suf || memcmp(name, name_prefix, pre) != 0 ||
        memcmp(name + pre + NAME_DIGITS, name_suffix, suf) != 0)
        return 0;
    uint64_t seq = 0;
    for (size_t i = pre; i < pre + NAME_DIGITS; i++) {
        unsigned d = (unsigned)(name[i] - '0');
        if (d > 9 || seq > (UINT64_MAX - d) / 10)
            return 0; /* not a digit, or more than 64 bits: not one of ours */
        seq = seq * 10 + d;
    }
    return seq;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int journal_list(int dirfd, uint64_t **seqs, size_t *n)
{
    *seqs = NULL;
    *n = 0;
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = -errno;
        close(fd);
        return e;
    }
    uint64_t *v = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        uint64_t seq = journal_file_seq(de->d_name);
        if (seq == 0)
            continue;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(v, ncap * sizeof(*v));
            if (nv == NULL) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        v[len++] = seq;
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = -errno;
    closedir(d);
    if (rc < 0) {
        free(v);
        return rc;
    }
    if (len > 0)
        qsort(v, len, sizeof(*v), cmp_u64);
    *seqs = v;
    *n = len;
    return 0;
}

int journal_open_list(const char *dir, int *dirfd, uint64_t **seqs, size_t *n, err_t *err)
{
    *dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0)
        return err_set(err, -errno, "journal dir %s: %s", dir, strerror(errno));
    int rc = journal_list(*dirfd, seqs, n);
    if (rc < 0) {
        close(*dirfd);
        *dirfd = -1;
        return err_set(err, rc, "journal dir %s: listing: %s", dir, strerror(-rc));
    }
    return 0;
}

enum { HEADER_CRC_BYTES = offsetof(journal_file_header_t, crc) };

void journal_header_build(journal_file_header_t *h, uint64_t first_seq, uint64_t created_unix_ns,
                          const uint8_t params[JOURNAL_PARAMS_SIZE])
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, JOURNAL_MAGIC, sizeof(h->magic));
    h->version = JOURNAL_VERSION;
    h->header_size = JOURNAL_HEADER_SIZE;
    h->first_seq = first_seq;
    h->created_unix_ns = created_unix_ns;
    memcpy(h->params, params, JOURNAL_PARAMS_SIZE);
    h->crc = crc32c(0, h, HEADER_CRC_BYTES);
}

const char *journal_header_problem(const journal_file_header_t *h, int *other_version)
{
    *other_version = 0;
    if (memcmp(h->magic, JOURNAL_MAGIC, sizeof(h->magic)) != 0)
        return "bad magic";
    if (h->version != JOURNAL_VERSION) {
        *other_version = 1;
        return "another journal format";
    }
    if (h->crc != crc32c(0, h, HEADER_CRC_BYTES))
        return "header crc mismatch";
    if (h->header_size != JOURNAL_HEADER_SIZE)
        return "unexpected header size";
    if (h->first_seq == 0 || h->first_seq == UINT64_MAX)
        return "first seq out of range";
    for (size_t i = 0; i < sizeof(h->pad); i++)
        if (h->pad[i] != 0)
            return "non-zero padding";
    return NULL;
}
