/* recover.c - see recover.h. */
#include "recover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "journal_int.h"
#include "layout.h"
#include "params.h"
#include "snapshot.h"

static void engine_answer(matcher_sink_fn sink, void *ctx, const mcmd_t *cmd, uint16_t type, const void *p,
                          uint32_t len)
{
    mevt_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.cmd_seq = cmd->seq;
    ev.ts_ns = cmd->ts_ns;
    ev.type = type;
    ev.src = cmd->src;
    ev.len = len;
    memcpy(ev.u.raw, p, len);
    sink(ctx, &ev, 1, 1);
}

int recover_step(matcher_t **m, matcher_sink_fn sink, void *sink_ctx, const mcmd_t *cmd, err_t *err)
{
    int engine_only = cmd->type == CMD_TIMER || cmd->type == CMD_RESIZE;
    if (cmd->len > PROTO_PAYLOAD_MAX || (engine_only && cmd->src != SRC_ENGINE)) {
        evt_rejected_t r = {.account = PROTO_NO_ACCOUNT, .cmd_type = cmd->type,
                            .reason = cmd->len > PROTO_PAYLOAD_MAX ? REJ_BAD_LENGTH : REJ_UNKNOWN_COMMAND};
        engine_answer(sink, sink_ctx, cmd, EVT_REJECTED, &r, sizeof(r));
    } else if (cmd->type == CMD_ECHO) {
        engine_answer(sink, sink_ctx, cmd, EVT_ECHO, cmd->u.raw, cmd->len);
    } else if (cmd->type == CMD_RESIZE) {
        const cmd_resize_t *z = &cmd->u.resize;
        matcher_config_t c = {z->max_orders, z->max_gtd, z->max_accounts, z->max_assets, z->max_instruments,
                              z->max_levels, z->max_account_orders};
        err_t why = {0};
        int rc = matcher_resize(m, &c, &why);
        if (rc < 0)
            return err_set(err, rc, "seq %" PRIu64 ": resizing the matcher: %s", cmd->seq, why.msg);
        engine_answer(sink, sink_ctx, cmd, EVT_ADMIN, z, sizeof(*z));
    } else {
        matcher_apply(*m, cmd);
    }
    return 0;
}

void recover_resize_cmd(mcmd_t *cmd, const matcher_config_t *cfg)
{
    cmd->type = CMD_RESIZE;
    cmd->src = SRC_ENGINE;
    cmd->len = sizeof(cmd_resize_t);
    memset(cmd->u.raw, 0, sizeof(cmd->u.raw));
    cmd->u.resize = (cmd_resize_t){cfg->max_orders, cfg->max_gtd, cfg->max_accounts, cfg->max_assets,
                                   cfg->max_instruments, cfg->max_levels, cfg->max_account_orders, 0};
}

typedef struct replay {
    matcher_t *m;               /* NULL until a snapshot or the first journal file sets it up */
    const recover_opts_t *opts;
    recover_result_t *res;
    uint64_t expect;            /* the next seq */
    int failed;                 /* why holds the error that stopped the scan */
    err_t why;
} replay_t;

static int apply_record(void *ctx, uint64_t seq, const void *payload, uint32_t len)
{
    replay_t *r = ctx;
    recover_cmd_t c;
    if (len != sizeof(c))
        return -EBADMSG;
    memcpy(&c, payload, sizeof(c));
    if (c.cmd.seq != seq || seq != r->expect)
        return -EBADMSG;
    if (r->opts->on_command != NULL)
        r->opts->on_command(r->opts->ctx, &c);
    int rc = recover_step(&r->m, r->opts->sink, r->opts->sink_ctx, &c.cmd, &r->why);
    if (rc < 0) {
        r->failed = 1;
        return rc;
    }
    r->expect = seq + 1;
    r->res->last_seq = seq;
    r->res->last_ts_ns = c.cmd.ts_ns;
    r->res->replayed++;
    return 0;
}

/* Each journal file's header says what the history ran with at its first
 * seq: with no snapshot, the first one builds the matcher; after that, a file
 * that starts where the state is must agree with it (a resize is a command,
 * so the capacities change only through the records). */
static int check_file(void *ctx, uint64_t first_seq, const uint8_t raw[JOURNAL_PARAMS_SIZE])
{
    replay_t *r = ctx;
    params_t p;
    memcpy(&p, raw, sizeof(p));
    char what[JOURNAL_NAME_MAX + 16];
    char name[JOURNAL_NAME_MAX];
    journal_file_name(name, first_seq);
    snprintf(what, sizeof(what), "journal file %s", name);
    int rc = params_check(&p, what, &r->why);
    if (rc == 0 && r->m == NULL) {
        if (first_seq != 1) /* the scan reports a journal that starts late before opening it */
            rc = err_set(&r->why, -EPROTO, "%s: no state to continue from seq %" PRIu64, what, first_seq);
        err_t why = {0};
        if (rc == 0)
            rc = matcher_create(&r->m, &p.matcher, r->opts->sink, r->opts->sink_ctx, &why);
        if (rc < 0)
            err_set(&r->why, rc, "%s: %s", what, why.msg);
    } else if (rc == 0 && first_seq == r->expect) {
        char diff[128];
        if (params_compare(matcher_config(r->m), &p.matcher, diff, sizeof(diff)) != PARAMS_SAME)
            rc = err_set(&r->why, -EPROTO, "%s says [matcher] %s from the state at seq %" PRIu64
                         ", which no command changed: not the history it continues", what, diff, first_seq - 1);
    }
    if (rc < 0)
        r->failed = 1;
    return rc;
}

/* Copies the first n bytes of src to dst (a new file), fsynced. */
static int copy_prefix(const char *src, const char *dst, uint64_t n)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
    if (in < 0)
        return -errno;
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        rc = -errno;
        close(in);
        return rc;
    }
    char buf[1 << 16];
    while (n > 0 && rc == 0) {
        ssize_t k = read(in, buf, n < sizeof(buf) ? n : sizeof(buf));
        if (k <= 0) {
            rc = k < 0 ? -errno : -EIO;
            break;
        }
        if (write(out, buf, (size_t)k) != k)
            rc = -EIO;
        n -= (uint64_t)k;
    }
    if (rc == 0 && fsync(out) < 0)
        rc = -errno;
    close(in);
    close(out);
    return rc;
}

/* A problem in the middle of the journal: the damaged file and every later
 * one move to a quarantine directory (kept for the operator), and the valid
 * prefix of the damaged file is copied back, so the journal ends cleanly at
 * the last good record. */
static int quarantine(const journal_scan_t *s, char *where, size_t n, uint32_t *moved, err_t *err)
{
    snprintf(where, n, "%s/quarantine-%" PRIu64, s->dir, clock_realtime_ns() / 1000000000u);
    if (mkdir(where, 0700) < 0 && errno != EEXIST)
        return err_set(err, -errno, "journal: cannot create %s: %s", where, strerror(errno));
    DIR *d = opendir(s->dir);
    if (d == NULL)
        return err_set(err, -errno, "journal %s: %s", s->dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    *moved = 0;
    while ((e = readdir(d)) != NULL && rc == 0) {
        /* Names sort in seq order: the damaged file and those after it. */
        if (strncmp(e->d_name, "journal-", 8) != 0 || strcmp(e->d_name, s->file) < 0)
            continue;
        char from[1024], to[1024];
        snprintf(from, sizeof(from), "%s/%s", s->dir, e->d_name);
        snprintf(to, sizeof(to), "%s/%s", where, e->d_name);
        if (rename(from, to) < 0)
            rc = err_set(err, -errno, "journal: cannot move %s aside: %s", from, strerror(errno));
        else
            (*moved)++;
    }
    closedir(d);
    if (rc == 0 && s->offset > JOURNAL_HEADER_SIZE && s->problem != JOURNAL_MISSING_FILE &&
        s->problem != JOURNAL_BAD_HEADER) {
        char from[1024], to[1024];
        snprintf(from, sizeof(from), "%s/%s", where, s->file);
        snprintf(to, sizeof(to), "%s/%s", s->dir, s->file);
        rc = copy_prefix(from, to, s->offset);
        if (rc < 0)
            rc = err_set(err, rc, "journal: cannot restore the good part of %s: %s", s->file, strerror(-rc));
    }
    return rc;
}

/* The newest snapshot that loads; falls back one at a time. A snapshot of
 * another version is not damage: recovery stops there. */
static int load_snapshot(matcher_t **m, matcher_sink_fn sink, void *sink_ctx, const char *dir, uint64_t until,
                         recover_result_t *res, err_t *err)
{
    static uint64_t seqs[SNAPSHOT_LIST_MAX];
    int n = snapshot_list(dir, seqs, SNAPSHOT_LIST_MAX);
    size_t used = strlen(res->note);
    for (int i = 0; i < n; i++) {
        if (seqs[i] > until)
            continue;
        err_t why = {0};
        int rc = snapshot_load(dir, seqs[i], m, sink, sink_ctx, &why);
        if (rc == 0) {
            res->snapshot_seq = seqs[i];
            res->last_seq = seqs[i];
            return 0;
        }
        if (rc == -EPROTONOSUPPORT || rc == -ENOMEM)
            return err_set(err, rc, "%s", why.msg);
        res->snapshots_skipped++;
        used += (size_t)snprintf(res->note + used, used < sizeof(res->note) ? sizeof(res->note) - used : 0,
                                 "%s; ", why.msg);
        if (used >= sizeof(res->note))
            used = sizeof(res->note) - 1;
    }
    return 0;
}

/* The journal holds nothing before start_seq: with [journal] retain =
 * snapshots the files before the oldest snapshot kept are deleted. A state
 * that needs an earlier seq next cannot be rolled forward, and moving the
 * whole journal aside (as for damage) would start an empty book: refuse. */
static int journal_starts_late(const journal_scan_t *s, const recover_result_t *res, err_t *err)
{
    char from[64];
    if (res->snapshot_seq > 0)
        snprintf(from, sizeof(from), "snapshot %" PRIu64, res->snapshot_seq);
    else
        snprintf(from, sizeof(from), "the empty state (no snapshot)");
    return err_set(err, -ENODATA, "journal %s starts at seq %" PRIu64 ", but %s needs seq %" PRIu64 " next: the "
                   "files before it were pruned ([journal] retain = snapshots) or removed%s%s", s->dir,
                   s->start_seq, from, res->last_seq + 1, res->note[0] ? "; " : "", res->note);
}

/* A snapshot past the journal's last record. On a clean journal it was
 * written before the journal held its commands (by a build from before
 * snapshots waited for the journal); else the damage in res->note cut the
 * journal short. The state is good; the journal goes on after it, leaving a
 * hole that a replay from seq 1 stops at. */
static void warn_snapshot_ahead(const journal_scan_t *s, recover_result_t *res)
{
    uint64_t end = s->next_seq - 1;
    snprintf(res->warning, sizeof(res->warning),
             "snapshot %" PRIu64 " is ahead of the journal, which ends at seq %" PRIu64 ": commands %" PRIu64
             "..%" PRIu64 " are only in the snapshot%s; the state is the snapshot's, the journal goes on at seq %"
             PRIu64 " and a replay from seq 1 stops at the gap", res->snapshot_seq, end, end + 1,
             res->snapshot_seq, s->problem == JOURNAL_OK ? " (it was written before the journal held them)" : "",
             res->snapshot_seq + 1);
}

int recover(matcher_t **out, const matcher_config_t *cfg, matcher_sink_fn sink, void *sink_ctx,
            const char *snapshot_dir, const char *journal_dir, const recover_opts_t *opts,
            recover_result_t *res, err_t *err)
{
    memset(res, 0, sizeof(*res));
    matcher_t *m = NULL;
    int rc;
    if (opts->use_snapshots && snapshot_dir != NULL) {
        rc = load_snapshot(&m, sink, sink_ctx, snapshot_dir, opts->until_seq, res, err);
        if (rc < 0)
            return rc;
    }
    replay_t r = {.m = m, .opts = opts, .res = res, .expect = res->last_seq + 1};
    journal_scan_t s;
    err_t why = {0};
    rc = journal_scan_files(journal_dir, res->last_seq + 1, opts->until_seq, apply_record, check_file, &r, &s,
                            &why);
    m = r.m;
    res->problem = s.problem;
    if (r.failed) {
        matcher_destroy(m);
        return err_set(err, rc, "journal %s: %s", journal_dir, r.why.msg);
    }
    if (s.problem == JOURNAL_OTHER_VERSION) {
        /* Not damage, and not this build's to repair: nothing moves. */
        matcher_destroy(m);
        return err_set(err, -EPROTONOSUPPORT, "%s", why.msg);
    }
    if (m == NULL) {
        /* Neither a snapshot nor a journal file from seq 1: an empty history
         * (or one whose beginning is gone, refused below) starts from cfg. */
        int crc = matcher_create(&m, cfg, sink, sink_ctx, err);
        if (crc < 0)
            return crc;
    }
    if (s.files > 0 && s.start_seq > res->last_seq + 1) {
        matcher_destroy(m);
        return journal_starts_late(&s, res, err);
    }
    if (res->snapshot_seq > 0 && s.next_seq != 0 && s.next_seq - 1 < res->snapshot_seq)
        warn_snapshot_ahead(&s, res);
    size_t used = strlen(res->note);
    char *note = res->note + used;
    size_t room = sizeof(res->note) - used;
    if (rc == -EBADMSG && s.problem == JOURNAL_MISSING_FILE && s.valid == 0 && s.files == 0 && res->last_seq > 0) {
        /* Snapshot only, no journal after it: nothing to replay. */
        rc = 0;
        res->problem = JOURNAL_OK;
    }
    if (rc == -EBADMSG) {
        if (!opts->repair) {
            snprintf(note, room, "%s; replay stopped at seq %" PRIu64, why.msg, res->last_seq);
            rc = 0;
        } else if (s.problem == JOURNAL_TORN_TAIL && s.in_last_file) {
            err_t terr = {0};
            rc = journal_truncate_tail(&s, &terr);
            if (rc < 0)
                rc = err_set(err, rc, "%s", terr.msg);
            else
                snprintf(note, room, "%s; torn tail cut at offset %" PRIu64, why.msg, s.offset);
        } else {
            char where[600];
            uint32_t moved = 0;
            rc = quarantine(&s, where, sizeof(where), &moved, err);
            if (rc == 0)
                snprintf(note, room, "%s; records after it not applied: %u file(s) moved to %s", why.msg, moved,
                         where);
        }
    } else if (rc > 0 || (rc < 0 && rc != -EBADMSG)) {
        if (rc > 0)
            rc = -EBADMSG; /* a record whose contents disagree with its frame */
        rc = err_set(err, rc, "journal %s: %s", journal_dir, why.msg[0] ? why.msg : "a record is not a command");
    }
    if (rc < 0) {
        matcher_destroy(m);
        return rc;
    }
    *out = m;
    return 0;
}
