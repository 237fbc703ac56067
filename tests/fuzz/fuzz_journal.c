/* fuzz_journal.c - libFuzzer target for journal_scan() and
 * journal_truncate_tail(): any bytes on disk as journal files.
 *
 * Input: a little-endian uint16 split point k, then the bytes. k == 0 (or
 * past the end) makes one file of all the bytes; otherwise the first k bytes
 * are one file and the rest a second. Each file is named for the first_seq
 * its header claims (seq 1 when it has none). The scan must answer without
 * crashing or reading outside what it read, deliver only consecutive seqs of
 * valid length, and agree with itself: a clean scan returns 0, a problem
 * -EBADMSG with a message; a torn tail, once cut, scans clean with the same
 * last seq. Files go to a temp dir (tmpfs if possible) removed at exit. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void empty_dir(void)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[128];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
}

static void remove_dir(void)
{
    empty_dir();
    rmdir(dir);
}

static uint64_t claimed_seq(const uint8_t *b, size_t n)
{
    uint64_t seq = 0;
    if (n >= 24)
        memcpy(&seq, b + 16, 8);
    return seq != 0 ? seq : 1;
}

static uint64_t put_file(const uint8_t *b, size_t n, uint64_t avoid)
{
    uint64_t seq = claimed_seq(b, n);
    if (seq == avoid)
        seq = avoid == UINT64_MAX ? avoid - 1 : avoid + 1;
    char p[128];
    snprintf(p, sizeof(p), "%s/journal-%020llu.bj", dir, (unsigned long long)seq);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        abort();
    if (n > 0 && write(fd, b, n) != (ssize_t)n)
        abort();
    close(fd);
    return seq;
}

typedef struct seen {
    uint64_t next;
    uint64_t count;
} seen_t;

static int on_record(void *ctx, uint64_t seq, const void *payload, uint32_t len)
{
    seen_t *s = ctx;
    if (len > JOURNAL_PAYLOAD_MAX || (s->count > 0 && seq != s->next))
        abort();
    if (len > 0) {
        /* Touch every byte: ASan flags a payload pointer outside the read. */
        volatile uint8_t sink = 0;
        for (uint32_t i = 0; i < len; i++)
            sink ^= ((const uint8_t *)payload)[i];
        (void)sink;
    }
    s->next = seq + 1;
    s->count++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        /* tmpfs when there is one: the cut of a torn tail fsyncs. */
        snprintf(dir, sizeof(dir), "%s/fuzz-journal-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (mkdtemp(dir) == NULL)
            abort();
        atexit(remove_dir);
    }
    empty_dir();
    if (size < 2)
        return 0;
    size_t k = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    if (k == 0 || k >= size) {
        put_file(data, size, 0);
    } else {
        uint64_t a = put_file(data, k, 0);
        put_file(data + k, size - k, a);
    }

    journal_scan_t res;
    err_t err = {0};
    seen_t seen = {0};
    int rc = journal_scan(dir, 0, UINT64_MAX, on_record, &seen, &res, &err);
    if (rc == 0 && res.problem != JOURNAL_OK)
        abort();
    if (rc == -EBADMSG && (res.problem == JOURNAL_OK || err.msg[0] == '\0'))
        abort();
    if (rc != 0 && rc != -EBADMSG)
        abort(); /* no I/O errors on a temp dir: anything else is a bug */
    if (seen.count != res.delivered || res.delivered != res.valid)
        abort();
    if (res.valid > 0 && res.last_seq - res.first_seq + 1 != res.valid)
        abort();

    if (res.problem == JOURNAL_TORN_TAIL) {
        uint64_t last = res.last_seq;
        if (journal_truncate_tail(&res, &err) != 0)
            abort();
        seen = (seen_t){0};
        rc = journal_scan(dir, 0, UINT64_MAX, on_record, &seen, &res, &err);
        if (rc != 0 || res.last_seq != last)
            abort(); /* a cut tail leaves a clean journal that ends where the valid part did */
    } else if (res.problem != JOURNAL_OK) {
        if (journal_truncate_tail(&res, &err) != -EBADMSG)
            abort(); /* anything but a torn tail is never cut */
    }
    return 0;
}
