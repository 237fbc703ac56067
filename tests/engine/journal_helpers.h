/* journal_helpers.h - what test_journal_write.c and test_journal_scan.c share:
 * one temp dir a run (every test works in its own directory under it), the
 * payload each seq carries, appending a range of seqs through back-pressure,
 * and a scan callback that checks every record that comes back. */
#ifndef BOURSE_JOURNAL_HELPERS_H
#define BOURSE_JOURNAL_HELPERS_H

#include <ftw.h>
#include <sys/stat.h>

#include "../check.h"
#include "idle.h"
#include "journal.h"

enum {
    DIR_BYTES = 128,  /* a test's directory path, with its NUL */
    PATH_BYTES = 256, /* a journal file's path */
};

static char root[64]; /* the temp dir of this run */

/* Creates root, /tmp/bourse-test-<name>-XXXXXX. Returns 0, or -1 after perror. */
static inline int make_root(const char *name)
{
    snprintf(root, sizeof(root), "/tmp/bourse-test-%s-XXXXXX", name);
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

/* A fresh directory path for one test (not created: journal_open does it). */
static inline void tdir(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "%s/%s", root, tag);
}

static inline void fpath(char *buf, size_t n, const char *dir, uint64_t first_seq)
{
    snprintf(buf, n, "%s/journal-%020" PRIu64 ".bj", dir, first_seq);
}

static inline int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static inline void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static inline journal_config_t cfg_for(const char *dir)
{
    journal_config_t c;
    journal_config_defaults(&c);
    snprintf(c.dir, sizeof(c.dir), "%s", dir);
    c.idle = IDLE_BACKOFF;
    c.idle_sleep_max_us = 50;
    return c;
}

/* The payload of seq: 8..48 bytes (every padding case), content from seq. */
static inline uint32_t payload_for(uint64_t seq, uint8_t *out)
{
    uint32_t len = 8 + (uint32_t)(seq * 7 % 41);
    memcpy(out, &seq, 8);
    for (uint32_t i = 8; i < len; i++)
        out[i] = (uint8_t)(seq * 31 + i);
    return len;
}

/* Appends seqs first..last, waiting out back-pressure. Returns the number of
 * -EAGAIN answers, or a negative error. */
static inline int64_t append_range(journal_t *j, uint64_t first, uint64_t last)
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

/* Writes seqs 1..n (payload_for's records) into dir with the given policy and
 * roll size, and closes. Returns 0 or a negative errno. */
static inline int write_seqs(const char *dir, uint64_t n, journal_fsync_t policy, uint64_t roll_bytes)
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

/* Checks each delivered record against payload_for and that seqs run on. */
typedef struct collect {
    uint64_t next;      /* seq expected next; 0: take the first as it comes */
    uint64_t count;
    uint64_t bad;
    uint64_t max_seq;
    uint64_t stop_at;   /* return 7 at this seq (0: never) */
} collect_t;

static inline int collect_fn(void *ctx, uint64_t seq, const void *payload, uint32_t len)
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

#endif
