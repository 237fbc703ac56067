/* cli_replay.c - `bourse replay`: an instance's journal replayed offline into
 * a fresh matcher, through the same step the engine takes (recover_step), so
 * the events it rebuilds are the engine's, byte for byte. Prints the state's
 * digest and counts; optionally the events, as JSON lines or as raw records. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "layout.h"
#include "prototext.h"
#include "recover.h"
#include "snapshot.h"

typedef struct replay_out {
    FILE *raw;                  /* rec_t records as the event log holds them, or NULL */
    int json;
    uint64_t ref;               /* the request id of the command being replayed */
    uint64_t events, pos;
    int write_failed;
} replay_out_t;

static void on_command(void *ctx, const recover_cmd_t *c)
{
    ((replay_out_t *)ctx)->ref = c->ref;
}

/* The event log's view of each event: what engine_on_events() writes, with
 * the record's log position where a reader finds it. */
static void on_events(void *ctx, const mevt_t *ev, uint32_t n, int last)
{
    replay_out_t *o = ctx;
    for (uint32_t i = 0; i < n; i++) {
        rec_t r;
        memset(&r, 0, sizeof(r));
        r.seq = o->pos++;
        r.ts_ns = ev[i].ts_ns;
        r.ref = o->ref;
        r.cmd_seq = ev[i].cmd_seq;
        r.type = ev[i].type;
        r.src = ev[i].src;
        r.len = (uint16_t)ev[i].len;
        r.flags = last && i + 1 == n ? REC_LAST : 0;
        memcpy(r.payload, ev[i].u.raw, sizeof(r.payload));
        if (o->raw != NULL && fwrite(&r, sizeof(r), 1, o->raw) != 1)
            o->write_failed = 1;
        if (o->json) {
            char line[1024];
            prototext_event_json(&r, line, sizeof(line));
            puts(line);
        }
    }
    o->events += n;
}

/* No balance is negative, and per asset the total held and available equals
 * the deposits less the withdrawals (fees only move between accounts). */
static int invariants_hold(const matcher_t *m, const matcher_config_t *cfg, char *why, size_t n)
{
    for (uint32_t a = 0; a < cfg->max_assets; a++) {
        int64_t total, net;
        if (matcher_asset_totals(m, a, &total, &net) < 0)
            continue;
        if (total != net) {
            snprintf(why, n, "asset %u: balances total %" PRId64 ", deposits less withdrawals %" PRId64, a, total,
                     net);
            return 0;
        }
        for (uint32_t acct = 0; acct < cfg->max_accounts; acct++) {
            int64_t avail, held;
            if (matcher_balance(m, acct, a, &avail, &held) == 0 && (avail < 0 || held < 0)) {
                snprintf(why, n, "account %u asset %u: negative balance", acct, a);
                return 0;
            }
        }
    }
    return 1;
}

static void replay_usage(FILE *f)
{
    fputs("usage: bourse replay DIR [--until SEQ] [--snapshots] [--json] [--raw FILE]\n"
          "  DIR               an instance's data directory (<data_dir>/<instance>, holding journal/\n"
          "                    and snapshots/) or a journal directory\n"
          "  --until SEQ       stop after command SEQ (default: the end of the journal)\n"
          "  --snapshots       start from the newest snapshot at or before SEQ instead of command 1\n"
          "  --json            print the rebuilt events as JSON lines\n"
          "  --raw FILE        write them as raw event-log records (compare with `bourse watch --raw`)\n"
          "The settings that decide what a command does (the protocol version, the [matcher]\n"
          "capacities and every resize) come from the journal's and the snapshots' headers:\n"
          "no config file is read.\n",
          f);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* What to do when the journal's first files were pruned: only a snapshot
 * from the journal's start on can be rolled forward. */
static void pruned_hint(const char *sdir, int snapshots)
{
    uint64_t oldest = snapshot_oldest(sdir);
    if (oldest == 0)
        fprintf(stderr, "bourse replay: and %s holds no snapshot: no state can be rebuilt from this journal\n",
                sdir);
    else if (!snapshots)
        fprintf(stderr, "bourse replay: replay from a snapshot instead: --snapshots (the oldest is at seq %" PRIu64
                "; --until, if given, at or after it)\n", oldest);
    else
        fprintf(stderr, "bourse replay: --snapshots starts from the newest snapshot that loads at or before "
                "--until; the oldest is at seq %" PRIu64 "\n", oldest);
}

int cli_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"until", required_argument, NULL, 'u'}, {"snapshots", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},        {"raw", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t until = UINT64_MAX;
    int snapshots = 0;
    const char *raw = NULL;
    replay_out_t out = {0};
    optind = 0; /* GNU getopt: a full reset after main()'s own parse */
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'u':
            errno = 0;
            until = strtoull(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || until == 0 || optarg[0] == '-') {
                fprintf(stderr, "bourse replay: --until takes a sequence number from 1\n");
                return 2;
            }
            break;
        case 's': snapshots = 1; break;
        case 'j': out.json = 1; break;
        case 'r': raw = optarg; break;
        case 'h': replay_usage(stdout); return 0;
        case ':': fprintf(stderr, "bourse replay: option '%s' needs a value\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "bourse replay: unknown option '%s' (see --help)\n", argv[optind - 1]); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "bourse replay: one directory expected (see --help)\n");
        return 2;
    }
    const char *dir = argv[optind];
    char jdir[JOURNAL_DIR_MAX], sdir[JOURNAL_DIR_MAX];
    if (snprintf(jdir, sizeof(jdir), "%s/journal", dir) >= (int)sizeof(jdir) ||
        snprintf(sdir, sizeof(sdir), "%s/snapshots", dir) >= (int)sizeof(sdir)) {
        fprintf(stderr, "bourse replay: %s: path too long\n", dir);
        return 2;
    }
    if (!is_dir(jdir)) {
        if (!is_dir(dir)) {
            fprintf(stderr, "bourse replay: %s: no such directory\n", dir);
            return 1;
        }
        snprintf(jdir, sizeof(jdir), "%s", dir); /* a journal directory itself */
        snprintf(sdir, sizeof(sdir), "%s/../snapshots", dir);
    }
    /* Only an empty history uses these: everything else says its own. */
    matcher_config_t fresh;
    matcher_config_defaults(&fresh);
    err_t err = {0};
    if (raw != NULL && (out.raw = fopen(raw, "wb")) == NULL) {
        fprintf(stderr, "bourse replay: %s: %s\n", raw, strerror(errno));
        return 1;
    }
    recover_opts_t ro = {.sink = on_events, .sink_ctx = &out, .until_seq = until, .use_snapshots = snapshots,
                         .repair = 0, .on_command = on_command, .ctx = &out};
    recover_result_t res;
    matcher_t *m = NULL;
    int rc = recover(&m, &fresh, on_events, &out, sdir, jdir, &ro, &res, &err);
    if (out.raw != NULL && fclose(out.raw) != 0)
        out.write_failed = 1;
    if (rc < 0) {
        fprintf(stderr, "bourse replay: %s\n", err.msg);
        if (rc == -ENODATA)
            pruned_hint(sdir, snapshots);
        return 1;
    }
    if (res.warning[0] != '\0')
        fprintf(stderr, "bourse replay: warning: %s\n", res.warning);
    if (out.write_failed) {
        fprintf(stderr, "bourse replay: %s: write failed\n", raw);
        matcher_destroy(m);
        return 1;
    }
    matcher_stats_t st;
    matcher_get_stats(m, &st);
    FILE *f = out.json ? stderr : stdout;
    fprintf(f, "replayed to seq %" PRIu64 ": %" PRIu64 " commands from the journal", res.last_seq, res.replayed);
    if (res.snapshot_seq > 0)
        fprintf(f, " after snapshot %" PRIu64, res.snapshot_seq);
    fprintf(f, ", %" PRIu64 " events\n", out.events);
    fprintf(f, "state: %" PRIu64 " orders resting, %" PRIu64 " accepted, %" PRIu64 " trades, %" PRIu64 " rejects\n",
            st.orders_resting, st.orders_accepted, st.trades, st.rejects);
    fprintf(f, "digest %" PRIu64 "\n", matcher_digest(m));
    char why[160];
    int inv = invariants_hold(m, matcher_config(m), why, sizeof(why));
    fprintf(f, "invariants: %s\n", inv ? "ok" : why);
    fprintf(f, "journal: %s%s%s\n", journal_problem_name(res.problem), res.note[0] ? ": " : "", res.note);
    matcher_destroy(m);
    return !inv ? 5 : res.problem == JOURNAL_OK ? 0 : 4;
}
