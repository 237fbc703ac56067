/* keywatch.c - see keywatch.h.
 *
 * The invariant every answer rests on: the copy holds the file as it was at
 * verified_ns or later (set before each read, and before each stat that
 * found the file unchanged). A key saved before a request arrived at
 * asked_ns <= verified_ns is therefore in the copy, so a miss then is an
 * unknown key without looking again; otherwise the file is looked at now. */
#include "keywatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const uint64_t NS_PER_MS = 1000000;

struct keywatch {
    char *path, *master_path;
    uint64_t interval_ns, slack_ns; /* the bound: slack = (burst - 1) intervals */
    keystore_t *ks;
    uint64_t verified_ns;
    ks_version_t failed;  /* a version that did not load: not read again */
    bool has_failed;
    uint64_t tat_ns;      /* the reload bound: GCRA's theoretical arrival time */
    keywatch_stats_t st;
};

/* ---- the reload bound (GCRA) --------------------------------------------- */

/* The earliest time a bounded reload may run: at most burst in a row, then
 * one an interval, so any window of T ns holds at most burst + T / interval. */
static uint64_t reload_allowed_at(const keywatch_t *kw)
{
    return kw->tat_ns > kw->slack_ns ? kw->tat_ns - kw->slack_ns : 0;
}

static void reload_take(keywatch_t *kw, uint64_t now_ns)
{
    kw->tat_ns = (kw->tat_ns > now_ns ? kw->tat_ns : now_ns) + kw->interval_ns;
}

/* ---- the file ------------------------------------------------------------ */

/* 1 when the file is neither the copy's nor one that failed to load, 0 when
 * it is, or a negative errno when it cannot be stat'ed. */
static int file_changed(keywatch_t *kw, ks_version_t *now_v)
{
    kw->st.checks++;
    int rc = keystore_file_version(kw->path, now_v);
    if (rc < 0)
        return rc;
    ks_version_t have;
    keystore_version(kw->ks, &have);
    if (keystore_version_same(now_v, &have) || (kw->has_failed && keystore_version_same(now_v, &kw->failed)))
        return 0;
    return 1;
}

/* Rereads the file seen as version v at now_ns. On failure the copy stays
 * and v is not read again until the file changes. */
static int reload(keywatch_t *kw, const ks_version_t *v, uint64_t now_ns, err_t *err)
{
    kw->st.reloads++;
    keystore_t *ks;
    int rc = keystore_open(&ks, kw->path, kw->master_path, err);
    kw->verified_ns = now_ns; /* loaded or not, the copy is what this file allows */
    if (rc < 0) {
        kw->st.failures++;
        kw->failed = *v;
        kw->has_failed = true;
        log_warn("key store changed but cannot be read, keeping the %zu loaded keys: %s",
                 keystore_list(kw->ks, NULL, 0), err->msg);
        return rc;
    }
    keystore_close(kw->ks);
    kw->ks = ks;
    kw->has_failed = false;
    log_info("key store reloaded: %zu keys (reload %llu; %llu checks, %llu lookups held back so far)",
             keystore_list(ks, NULL, 0), (unsigned long long)kw->st.reloads,
             (unsigned long long)kw->st.checks, (unsigned long long)kw->st.deferred);
    return 0;
}

/* ---- the API ------------------------------------------------------------- */

int keywatch_open(keywatch_t **out, const char *path, const char *master_key_path,
                  const keywatch_bound_t *bound, uint64_t now_ns, err_t *err)
{
    keywatch_t *kw = calloc(1, sizeof(*kw));
    if (kw == NULL || (kw->path = strdup(path)) == NULL || (kw->master_path = strdup(master_key_path)) == NULL) {
        keywatch_close(kw);
        return err_set(err, -ENOMEM, "%s: out of memory", path);
    }
    uint32_t burst = bound != NULL ? bound->burst : KEYWATCH_RELOAD_BURST;
    uint32_t interval_ms = bound != NULL ? bound->interval_ms : KEYWATCH_RELOAD_INTERVAL_MS;
    kw->interval_ns = (uint64_t)(interval_ms > 0 ? interval_ms : 1) * NS_PER_MS;
    kw->slack_ns = (uint64_t)(burst > 0 ? burst - 1 : 0) * kw->interval_ns;
    int rc = keystore_open(&kw->ks, path, master_key_path, err);
    if (rc < 0) {
        keywatch_close(kw);
        return rc;
    }
    kw->verified_ns = now_ns;
    *out = kw;
    return 0;
}

void keywatch_close(keywatch_t *kw)
{
    if (kw == NULL)
        return;
    keystore_close(kw->ks);
    free(kw->path);
    free(kw->master_path);
    free(kw);
}

int keywatch_lookup(keywatch_t *kw, const char *key_id, size_t len, uint64_t asked_ns, uint64_t now_ns,
                    ks_entry_t *out, uint64_t *retry_ns)
{
    int rc = keystore_lookup(kw->ks, key_id, len, out);
    if (rc != -ENOENT || len < KS_KEY_ID_MIN || len > KS_KEY_ID_MAX || kw->verified_ns >= asked_ns)
        return rc; /* found, revoked, not a possible id, or the copy is newer than the request */
    ks_version_t v;
    int changed = file_changed(kw, &v);
    if (changed <= 0) {
        if (changed == 0)
            kw->verified_ns = now_ns;
        return -ENOENT; /* a file that cannot be stat'ed cannot vouch for the key either */
    }
    uint64_t at = reload_allowed_at(kw);
    if (now_ns < at) {
        kw->st.deferred++;
        *retry_ns = at;
        return -EAGAIN;
    }
    reload_take(kw, now_ns);
    err_t err = {0};
    if (reload(kw, &v, now_ns, &err) < 0)
        return -ENOENT;
    return keystore_lookup(kw->ks, key_id, len, out);
}

bool keywatch_poll(keywatch_t *kw, uint64_t now_ns)
{
    ks_version_t v;
    int changed = file_changed(kw, &v);
    if (changed == 0)
        kw->verified_ns = now_ns;
    if (changed <= 0 || now_ns < reload_allowed_at(kw))
        return false;
    reload_take(kw, now_ns);
    err_t err = {0};
    return reload(kw, &v, now_ns, &err) == 0;
}

int keywatch_sync(keywatch_t *kw, uint64_t now_ns, err_t *err)
{
    ks_version_t v, have;
    kw->st.checks++;
    int rc = keystore_file_version(kw->path, &v);
    if (rc < 0)
        return err_set(err, rc, "%s: %s", kw->path, strerror(-rc));
    keystore_version(kw->ks, &have);
    if (keystore_version_same(&v, &have)) {
        kw->verified_ns = now_ns;
        return 0;
    }
    /* changed, or a version that did not load: read it (again, for its error) */
    return reload(kw, &v, now_ns, err);
}

keystore_t *keywatch_store(keywatch_t *kw)
{
    return kw->ks;
}

void keywatch_get_stats(const keywatch_t *kw, keywatch_stats_t *out)
{
    *out = kw->st;
}
