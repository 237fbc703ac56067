/* test_keywatch.c - gateways/common/keywatch.c against real files: a key
 * another writer saved is found by the next lookup; unknown keys on an
 * unchanged file stat but never reread; rereads stay within the bound while
 * the file keeps changing, and a lookup held back by it finds its key at the
 * time it is told; revocations arrive at the next poll; a file that fails to
 * load keeps the copy. Times are given, not waited for: no test sleeps. */
#include <fcntl.h>
#include <sys/stat.h>

#include "../check.h"
#include "keywatch.h"

static char dir[64], store[128], master[128];
static const uint64_t T0 = 1000000000000; /* an arbitrary monotonic start, ns */
static const uint64_t MS = 1000000;

static void fresh_dir(void)
{
    if (dir[0] != '\0') {
        unlink(store);
        unlink(master);
        rmdir(dir);
    }
    snprintf(dir, sizeof(dir), "/tmp/bourse-kw-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(store, sizeof(store), "%s/keys", dir);
    snprintf(master, sizeof(master), "%s/master.key", dir);
}

/* Another writer's store (as `bourse-rest keys` is): creates a key, saved. */
static int create_elsewhere(keystore_t *other, char id[KS_KEY_ID_MAX + 1])
{
    uint8_t secret[KS_SECRET_BYTES];
    err_t err = {0};
    return keystore_create(other, AUTH_ROLE_TRADER, 7, id, secret, &err);
}

static keywatch_stats_t stats(const keywatch_t *kw)
{
    keywatch_stats_t st;
    keywatch_get_stats(kw, &st);
    return st;
}

static void test_key_saved_by_another_writer_is_found_by_the_next_lookup(void)
{
    keywatch_t *kw = NULL;
    keystore_t *other = NULL;
    err_t err = {0};
    fresh_dir();
    CHECK_EQ(keywatch_open(&kw, store, master, NULL, T0, &err), 0);
    CHECK_EQ(keystore_open(&other, store, master, &err), 0);
    ks_entry_t e;
    uint64_t retry = 0;
    for (uint64_t i = 1; i <= 3; i++) { /* back to back, likely within one file timestamp tick */
        char id[KS_KEY_ID_MAX + 1];
        CHECK_EQ(create_elsewhere(other, id), 0);
        CHECK_EQ(keywatch_lookup(kw, id, strlen(id), T0 + i, T0 + i, &e, &retry), 0);
        CHECK_EQ(e.info.account, 7);
        CHECK_EQ(stats(kw).reloads, (uint64_t)i);
    }
    keystore_close(other);
    keywatch_close(kw);
}

static void test_unknown_keys_on_an_unchanged_file_cost_a_stat_and_no_reread(void)
{
    keywatch_t *kw = NULL;
    keystore_t *other = NULL;
    err_t err = {0};
    char id[KS_KEY_ID_MAX + 1];
    fresh_dir();
    CHECK_EQ(keystore_open(&other, store, master, &err), 0);
    CHECK_EQ(create_elsewhere(other, id), 0);
    CHECK_EQ(keywatch_open(&kw, store, master, NULL, T0, &err), 0);
    ks_entry_t e;
    uint64_t retry = 0;
    for (uint64_t i = 1; i <= 1000; i++)
        CHECK_EQ(keywatch_lookup(kw, "AAAAAAAAAAAAAAAAAAAAAAAA", 24, T0 + i, T0 + i, &e, &retry), -ENOENT);
    CHECK_EQ(stats(kw).checks, 1000);
    CHECK_EQ(stats(kw).reloads, 0);
    /* a request older than what the copy is known to hold needs no stat;
     * an impossible id none either */
    CHECK_EQ(keywatch_lookup(kw, "BBBBBBBBBBBBBBBBBBBBBBBB", 24, T0 + 500, T0 + 2000, &e, &retry), -ENOENT);
    CHECK_EQ(keywatch_lookup(kw, "short", 5, T0 + 3000, T0 + 3000, &e, &retry), -ENOENT);
    CHECK_EQ(stats(kw).checks, 1000);
    CHECK_EQ(keywatch_lookup(kw, id, strlen(id), T0 + 3000, T0 + 3000, &e, &retry), 0);
    keystore_close(other);
    keywatch_close(kw);
}

/* The file changes before every lookup, every 10 ms for two simulated
 * seconds, and an unknown key comes with each: rereads stay within
 * BURST + RATE x time, and every lookup of the key saved just before it is
 * either found or told a time at which (the loop polls then) it is found. */
static void test_rereads_stay_bounded_while_the_file_keeps_changing_and_no_new_key_is_refused(void)
{
    keywatch_t *kw = NULL;
    keystore_t *other = NULL;
    err_t err = {0};
    fresh_dir();
    CHECK_EQ(keywatch_open(&kw, store, master, NULL, T0, &err), 0);
    CHECK_EQ(keystore_open(&other, store, master, &err), 0);
    const uint64_t span_ms = 2000;
    uint64_t held = 0;
    uint64_t now = T0;
    while (now < T0 + span_ms * MS) {
        now += 10 * MS;
        char id[KS_KEY_ID_MAX + 1];
        CHECK_EQ(create_elsewhere(other, id), 0);
        ks_entry_t e;
        uint64_t retry = 0;
        int rc = keywatch_lookup(kw, "AAAAAAAAAAAAAAAAAAAAAAAA", 24, now, now, &e, &retry);
        CHECK(rc == -ENOENT || (rc == -EAGAIN && retry > now));
        rc = keywatch_lookup(kw, id, strlen(id), now, now, &e, &retry);
        if (rc == -EAGAIN) {
            held++;
            CHECK(retry > now && retry <= now + KEYWATCH_RELOAD_INTERVAL_MS * MS);
            uint64_t asked = now;
            now = retry; /* the loop's time goes on from there */
            keywatch_poll(kw, now);
            CHECK_EQ(keywatch_lookup(kw, id, strlen(id), asked, now, &e, &retry), 0);
        } else {
            CHECK_EQ(rc, 0);
        }
    }
    /* any window of T holds at most BURST + T x RATE reloads; this one ran
     * from T0 to now */
    uint64_t max = KEYWATCH_RELOAD_BURST + (now - T0) / MS / KEYWATCH_RELOAD_INTERVAL_MS;
    CHECK(stats(kw).reloads <= max);
    CHECK(stats(kw).reloads >= max - 1); /* and the bound, not fewer changes, held them back */
    CHECK(held > 0);
    CHECK_EQ(stats(kw).deferred >= held, 1);
    keystore_close(other);
    keywatch_close(kw);
}

static void test_revocation_elsewhere_reaches_the_copy_at_the_next_poll(void)
{
    keywatch_t *kw = NULL;
    keystore_t *other = NULL;
    err_t err = {0};
    char id[KS_KEY_ID_MAX + 1];
    fresh_dir();
    CHECK_EQ(keystore_open(&other, store, master, &err), 0);
    CHECK_EQ(create_elsewhere(other, id), 0);
    CHECK_EQ(keywatch_open(&kw, store, master, NULL, T0, &err), 0);
    ks_entry_t e;
    uint64_t retry = 0;
    CHECK_EQ(keystore_revoke(other, id, &err), 0);
    CHECK_EQ(keywatch_lookup(kw, id, strlen(id), T0 + MS, T0 + MS, &e, &retry), 0); /* a hit: no stat */
    CHECK_EQ(stats(kw).checks, 0);
    CHECK(keywatch_poll(kw, T0 + 2 * MS));
    CHECK_EQ(keywatch_lookup(kw, id, strlen(id), T0 + 3 * MS, T0 + 3 * MS, &e, &retry), -EKEYREVOKED);
    CHECK(!keywatch_poll(kw, T0 + 4 * MS)); /* unchanged: nothing to do */
    keystore_close(other);
    keywatch_close(kw);
}

static void test_a_file_that_fails_to_load_keeps_the_copy_and_is_read_once(void)
{
    keywatch_t *kw = NULL;
    keystore_t *other = NULL;
    err_t err = {0};
    char id[KS_KEY_ID_MAX + 1], id2[KS_KEY_ID_MAX + 1];
    fresh_dir();
    CHECK_EQ(keystore_open(&other, store, master, &err), 0);
    CHECK_EQ(create_elsewhere(other, id), 0);
    CHECK_EQ(keywatch_open(&kw, store, master, NULL, T0, &err), 0);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.new", store);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "not a key store\n", 16), 16);
    close(fd);
    CHECK_EQ(rename(tmp, store), 0);
    ks_entry_t e;
    uint64_t retry = 0;
    CHECK_EQ(keywatch_lookup(kw, "AAAAAAAAAAAAAAAAAAAAAAAA", 24, T0 + MS, T0 + MS, &e, &retry), -ENOENT);
    CHECK_EQ(stats(kw).failures, 1);
    CHECK_EQ(keywatch_lookup(kw, id, strlen(id), T0 + 2 * MS, T0 + 2 * MS, &e, &retry), 0); /* the copy stays */
    CHECK_EQ(keywatch_lookup(kw, "AAAAAAAAAAAAAAAAAAAAAAAA", 24, T0 + 3 * MS, T0 + 3 * MS, &e, &retry), -ENOENT);
    CHECK(!keywatch_poll(kw, T0 + 4 * MS));
    CHECK_EQ(stats(kw).reloads, 1);
    /* a writer must not save over what it cannot read */
    CHECK(keywatch_sync(kw, T0 + 5 * MS, &err) < 0);
    CHECK_STR_HAS(err.msg, "not a key store");
    /* a good file again: read */
    CHECK_EQ(create_elsewhere(other, id2), 0);
    CHECK_EQ(keywatch_lookup(kw, id2, strlen(id2), T0 + 6 * MS, T0 + 6 * MS, &e, &retry), 0);
    CHECK_EQ(keywatch_sync(kw, T0 + 7 * MS, &err), 0);
    keystore_close(other);
    keywatch_close(kw);
}

/* A writer's sync rereads a changed file even with the bound spent, and its
 * own save leaves nothing to reread. */
static void test_sync_rereads_whatever_the_bound_and_own_saves_need_no_reread(void)
{
    keywatch_t *kw = NULL;
    keystore_t *other = NULL;
    err_t err = {0};
    char id[KS_KEY_ID_MAX + 1];
    fresh_dir();
    CHECK_EQ(keywatch_open(&kw, store, master, NULL, T0, &err), 0);
    CHECK_EQ(keystore_open(&other, store, master, &err), 0);
    ks_entry_t e;
    uint64_t retry = 0;
    uint64_t t = T0;
    for (int i = 0; i < KEYWATCH_RELOAD_BURST; i++) { /* the burst, within a microsecond */
        CHECK_EQ(create_elsewhere(other, id), 0);
        t++;
        CHECK_EQ(keywatch_lookup(kw, id, strlen(id), t, t, &e, &retry), 0);
    }
    CHECK_EQ(create_elsewhere(other, id), 0);
    t++;
    CHECK_EQ(keywatch_lookup(kw, id, strlen(id), t, t, &e, &retry), -EAGAIN);
    CHECK_EQ(keywatch_sync(kw, t + 1, &err), 0);
    CHECK_EQ(stats(kw).reloads, KEYWATCH_RELOAD_BURST + 1);
    CHECK_EQ(keywatch_lookup(kw, id, strlen(id), t, t + 1, &e, &retry), 0);
    char mine[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(keystore_create(keywatch_store(kw), AUTH_ROLE_ADMIN, 0, mine, secret, &err), 0);
    CHECK_EQ(keywatch_sync(kw, t + 2, &err), 0);
    CHECK(!keywatch_poll(kw, t + 3));
    CHECK_EQ(stats(kw).reloads, KEYWATCH_RELOAD_BURST + 1);
    keystore_close(other);
    keywatch_close(kw);
}

/* A bound of one reread a second: the second change within the second is
 * held until a second after the first reread, then found. */
static void test_a_bound_of_one_a_second_holds_the_second_change_for_the_rest_of_it(void)
{
    keywatch_t *kw = NULL;
    keystore_t *other = NULL;
    err_t err = {0};
    char id[KS_KEY_ID_MAX + 1];
    keywatch_bound_t b = {.burst = 1, .interval_ms = 1000};
    fresh_dir();
    CHECK_EQ(keywatch_open(&kw, store, master, &b, T0, &err), 0);
    CHECK_EQ(keystore_open(&other, store, master, &err), 0);
    ks_entry_t e;
    uint64_t retry = 0;
    CHECK_EQ(create_elsewhere(other, id), 0);
    CHECK_EQ(keywatch_lookup(kw, id, strlen(id), T0 + MS, T0 + MS, &e, &retry), 0);
    CHECK_EQ(create_elsewhere(other, id), 0);
    CHECK_EQ(keywatch_lookup(kw, id, strlen(id), T0 + 300 * MS, T0 + 300 * MS, &e, &retry), -EAGAIN);
    CHECK_EQ(retry, T0 + 1001 * MS);
    CHECK(!keywatch_poll(kw, T0 + 1000 * MS));
    CHECK(keywatch_poll(kw, retry));
    CHECK_EQ(keywatch_lookup(kw, id, strlen(id), T0 + 300 * MS, retry, &e, &retry), 0);
    keystore_close(other);
    keywatch_close(kw);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_key_saved_by_another_writer_is_found_by_the_next_lookup);
    RUN(test_unknown_keys_on_an_unchanged_file_cost_a_stat_and_no_reread);
    RUN(test_rereads_stay_bounded_while_the_file_keeps_changing_and_no_new_key_is_refused);
    RUN(test_revocation_elsewhere_reaches_the_copy_at_the_next_poll);
    RUN(test_a_file_that_fails_to_load_keeps_the_copy_and_is_read_once);
    RUN(test_sync_rereads_whatever_the_bound_and_own_saves_need_no_reread);
    RUN(test_a_bound_of_one_a_second_holds_the_second_change_for_the_rest_of_it);
    if (dir[0] != '\0') {
        unlink(store);
        unlink(master);
        rmdir(dir);
    }
    CHECK_MAIN_END();
}
