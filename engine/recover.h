/* recover.h - a matcher's state from disk: the newest snapshot that loads,
 * then the journal's commands after it. The engine recovers this way at start
 * (and repairs a damaged journal tail first); `bourse replay` uses the same
 * path read-only, up to any sequence, to print digests and events.
 *
 * A journal record is a recover_cmd_t: the sequenced command as the matcher
 * applied it (seq, engine time, type, source ring, payload) plus the client's
 * request id, so that a replay rebuilds the event records byte for byte. */
#ifndef BOURSE_RECOVER_H
#define BOURSE_RECOVER_H

#include <stdint.h>

#include "err.h"
#include "journal.h"
#include "matcher.h"

typedef struct recover_cmd {
    uint64_t ref;               /* the client's request id, echoed on the events */
    mcmd_t cmd;
} recover_cmd_t;

_Static_assert(sizeof(mcmd_t) == 112, "journaled command layout");
_Static_assert(sizeof(recover_cmd_t) == 120, "journal record layout");
_Static_assert(sizeof(recover_cmd_t) <= JOURNAL_PAYLOAD_MAX, "a command fits a journal record");

typedef struct recover_opts {
    matcher_sink_fn sink;       /* what recover_step answers echoes and refusals with */
    void *sink_ctx;
    uint64_t until_seq;         /* apply commands up to this one; UINT64_MAX: all */
    int use_snapshots;          /* 0: from the journal's first command only */
    int repair;                 /* cut a torn tail; move files after a mid-journal problem
                                   to <journal>/quarantine-<time>/ (the engine, with no
                                   writer on the directory); 0: read only */
    /* Called before each journaled command is applied (replay sets the
     * request id its event records carry); may be NULL. */
    void (*on_command)(void *ctx, const recover_cmd_t *c);
    void *ctx;
} recover_opts_t;

typedef struct recover_result {
    uint64_t snapshot_seq;      /* the snapshot loaded; 0: none */
    uint64_t last_seq;          /* the last command in the state */
    uint64_t last_ts_ns;        /* its engine time (0 if unknown: snapshot only) */
    uint64_t replayed;          /* journal commands applied */
    int snapshots_skipped;      /* newer snapshots that failed to load */
    journal_problem_t problem;  /* what the journal scan found */
    char note[512];             /* what was found and done, for the log */
    char warning[512];          /* a state that loads but deserves a look (a snapshot ahead
                                   of the journal's end), for the log; "" when none */
} recover_result_t;

/* Applies one sequenced command the way the engine does: an echo, a resize
 * or a command the engine refuses (a payload longer than any command, a
 * timer or resize that did not come from the engine) is answered here, the
 * rest by the matcher. The live engine and every replay go through it, so a
 * replay gives the same events. A resize replaces *m. Returns 0, or (a
 * resize that cannot be done: out of memory, a shrink) a negative errno with
 * a message, the state unchanged and no event. */
int recover_step(matcher_t **m, matcher_sink_fn sink, void *sink_ctx, const mcmd_t *cmd, err_t *err);

/* Fills cmd's type, src, len and payload as the engine's resize to cfg. */
void recover_resize_cmd(mcmd_t *cmd, const matcher_config_t *cfg);

/* Creates *m with sink (the sink sees the replayed commands' events) and
 * brings it to the newest state that snapshot_dir and journal_dir hold. The
 * capacities are the history's: a snapshot's header, or the first journal
 * file's, then every resize command; cfg only for a directory with neither
 * (an empty history). Every journal file's header must agree with the state
 * it continues, and files or snapshots of another version are refused
 * (-EPROTONOSUPPORT), never repaired.
 * A snapshot that fails to load falls back to the one before; a problem in
 * the journal stops the replay there (nothing after it is applied) and is
 * reported in res->note. Returns 0 (res filled, possibly with a problem
 * handled), or a negative errno with a message when no state can be trusted
 * (an I/O error, a resize that failed, a file whose params disagree); -ENODATA when the
 * journal starts after the seq the state needs next (its older files were
 * pruned or removed, and no snapshot from there on loads): nothing is
 * repaired then, the journal is not damaged. */
int recover(matcher_t **m, const matcher_config_t *cfg, matcher_sink_fn sink, void *sink_ctx,
            const char *snapshot_dir, const char *journal_dir, const recover_opts_t *opts,
            recover_result_t *res, err_t *err);

#endif
