/* test_keystore.c - gateways/common/keystore.c against real files in a temp
 * directory: create, lookup, revoke, reopen; modes; no secret on disk;
 * tampering, bad versions and malformed lines refused with file:line. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../check.h"
#include "keystore.h"

static char dir[64], store[128], master[128];

static void fresh_dir(void)
{
    if (dir[0] != '\0') {
        unlink(store);
        unlink(master);
        rmdir(dir);
    }
    snprintf(dir, sizeof(dir), "/tmp/bourse-ks-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(store, sizeof(store), "%s/keys", dir);
    snprintf(master, sizeof(master), "%s/master.key", dir);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    static char buf[1 << 16];
    *len = fread(buf, 1, sizeof(buf) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fchmod(fd, mode) < 0)
        abort();
    close(fd);
}

/* Opens a store expected to fail with code and a message containing needle. */
static void expect_open_error(int code, const char *needle)
{
    keystore_t *ks = NULL;
    err_t err = {0};
    int rc = keystore_open(&ks, store, master, &err);
    if (rc != code || strstr(err.msg, needle) == NULL || strchr(err.msg, '\n') != NULL) {
        fprintf(stderr, "  open gave %d '%s', want %d and '%s'\n", rc, err.msg, code, needle);
        check_current_failed = 1;
        keystore_close(ks);
    }
}

/* Creates one trader key for account 7 in a fresh store, then closes it. */
static int make_one(char id[KS_KEY_ID_MAX + 1], uint8_t secret[KS_SECRET_BYTES])
{
    keystore_t *ks = NULL;
    err_t err = {0};
    fresh_dir();
    if (keystore_open(&ks, store, master, &err) != 0 ||
        keystore_create(ks, AUTH_ROLE_TRADER, 7, id, secret, &err) != 0) {
        fprintf(stderr, "  %s\n", err.msg);
        keystore_close(ks);
        return -1;
    }
    keystore_close(ks);
    return 0;
}

/* Replaces the first occurrence of from with to in the store file. */
static int edit_store(const char *from, const char *to)
{
    size_t len;
    char *text = slurp(store, &len);
    char *at = text ? strstr(text, from) : NULL;
    if (at == NULL)
        return -1;
    char out[1 << 16];
    snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    spit(store, out, 0600);
    return 0;
}

static void test_create_then_lookup_gives_role_account_and_secret(void)
{
    keystore_t *ks = NULL;
    err_t err = {0};
    fresh_dir();
    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    char id[KS_KEY_ID_MAX + 1], id2[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES], secret2[KS_SECRET_BYTES];
    CHECK_EQ(keystore_create(ks, AUTH_ROLE_TRADER, 42, id, secret, &err), 0);
    CHECK_EQ(keystore_create(ks, AUTH_ROLE_READ_ONLY, 43, id2, secret2, &err), 0);
    CHECK_EQ(strlen(id), KS_KEY_ID_LEN);
    CHECK(strcmp(id, id2) != 0);
    CHECK(memcmp(secret, secret2, KS_SECRET_BYTES) != 0);
    for (const char *p = id; *p; p++)
        CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    ks_entry_t e;
    CHECK_EQ(keystore_lookup(ks, id, strlen(id), &e), 0);
    CHECK(strcmp(e.info.key_id, id) == 0);
    CHECK_EQ(e.info.role, AUTH_ROLE_TRADER);
    CHECK_EQ(e.info.account, 42);
    CHECK(!e.info.revoked);
    CHECK(e.info.created_ms > 1600000000000LL);
    CHECK(memcmp(e.secret, secret, KS_SECRET_BYTES) == 0);
    CHECK_EQ(keystore_lookup(ks, id2, strlen(id2), &e), 0);
    CHECK_EQ(e.info.role, AUTH_ROLE_READ_ONLY);
    CHECK_EQ(e.info.account, 43);
    /* the id as received: not NUL-terminated, length given */
    char padded[64];
    snprintf(padded, sizeof(padded), "%sXYZ", id);
    CHECK_EQ(keystore_lookup(ks, padded, strlen(id), &e), 0);
    CHECK_EQ(keystore_lookup(ks, padded, strlen(id) + 1, &e), -ENOENT);
    char hex[KS_SECRET_HEX_LEN + 1];
    keystore_secret_hex(secret, hex);
    CHECK_EQ(strlen(hex), KS_SECRET_HEX_LEN);
    keystore_close(ks);
}

static void test_unknown_and_impossible_ids_are_enoent(void)
{
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(make_one(id, secret), 0);
    keystore_t *ks = NULL;
    err_t err = {0};
    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    ks_entry_t e;
    CHECK_EQ(keystore_lookup(ks, "", 0, &e), -ENOENT);
    CHECK_EQ(keystore_lookup(ks, "AAAAAAAAAAAAAAAAAAAAAAAA", 24, &e), -ENOENT);
    char longer[200];
    memset(longer, 'A', sizeof(longer));
    CHECK_EQ(keystore_lookup(ks, longer, sizeof(longer), &e), -ENOENT);
    keystore_close(ks);
}

static void test_keys_survive_reopen_in_creation_order(void)
{
    keystore_t *ks = NULL;
    err_t err = {0};
    fresh_dir();
    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    char id[3][KS_KEY_ID_MAX + 1];
    uint8_t secret[3][KS_SECRET_BYTES];
    CHECK_EQ(keystore_create(ks, AUTH_ROLE_TRADER, 1, id[0], secret[0], &err), 0);
    CHECK_EQ(keystore_create(ks, AUTH_ROLE_ADMIN, 2, id[1], secret[1], &err), 0);
    CHECK_EQ(keystore_create(ks, AUTH_ROLE_READ_ONLY, UINT32_MAX, id[2], secret[2], &err), 0);
    CHECK_EQ(keystore_revoke(ks, id[1], &err), 0);
    keystore_close(ks);

    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    ks_info_t info[4];
    CHECK_EQ(keystore_list(ks, info, 4), 3);
    CHECK_EQ(keystore_list(ks, NULL, 0), 3);
    for (int i = 0; i < 3; i++)
        CHECK(strcmp(info[i].key_id, id[i]) == 0);
    CHECK(info[1].revoked && !info[0].revoked && !info[2].revoked);
    CHECK_EQ(info[1].role, AUTH_ROLE_ADMIN);
    ks_entry_t e;
    CHECK_EQ(keystore_lookup(ks, id[0], strlen(id[0]), &e), 0);
    CHECK(memcmp(e.secret, secret[0], KS_SECRET_BYTES) == 0);
    CHECK_EQ(keystore_lookup(ks, id[1], strlen(id[1]), &e), -EKEYREVOKED);
    CHECK_EQ(keystore_lookup(ks, id[2], strlen(id[2]), &e), 0);
    CHECK(e.info.account == UINT32_MAX);
    CHECK_EQ(e.info.role, AUTH_ROLE_READ_ONLY);
    CHECK(memcmp(e.secret, secret[2], KS_SECRET_BYTES) == 0);
    keystore_close(ks);
}

static void test_revoke_is_idempotent_and_unknown_is_enoent(void)
{
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(make_one(id, secret), 0);
    keystore_t *ks = NULL;
    err_t err = {0};
    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    ks_entry_t e;
    CHECK_EQ(keystore_revoke(ks, id, &err), 0);
    CHECK_EQ(keystore_lookup(ks, id, strlen(id), &e), -EKEYREVOKED);
    CHECK_EQ(keystore_revoke(ks, id, &err), 0);
    CHECK_EQ(keystore_revoke(ks, "nosuchkeynosuchkey", &err), -ENOENT);
    CHECK_STR_HAS(err.msg, "no key nosuchkeynosuchkey");
    keystore_close(ks);
}

static void test_both_files_are_mode_0600(void)
{
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    mode_t old = umask(0); /* the files must not depend on the caller's umask */
    int rc = make_one(id, secret);
    umask(old);
    CHECK_EQ(rc, 0);
    struct stat st;
    CHECK_EQ(stat(store, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0600);
    CHECK_EQ(stat(master, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0600);
    size_t len;
    const char *m = slurp(master, &len);
    CHECK(m != NULL && strncmp(m, "bourse-master-key 1\n", 20) == 0);
    CHECK_EQ(len, 20 + 64 + 1);
    /* no temp file left behind: ".", "..", keys, master.key */
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int entries = 0;
    while (readdir(d) != NULL)
        entries++;
    closedir(d);
    CHECK_EQ(entries, 4);
}

static void test_group_or_other_access_is_refused(void)
{
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(make_one(id, secret), 0);
    CHECK_EQ(chmod(store, 0640), 0);
    expect_open_error(-EPERM, "mode 0640 lets group or others in; chmod 600 it");
    CHECK_EQ(chmod(store, 0602), 0);
    expect_open_error(-EPERM, store);
    CHECK_EQ(chmod(store, 0600), 0);
    CHECK_EQ(chmod(master, 0644), 0);
    expect_open_error(-EPERM, master);
    CHECK_EQ(chmod(master, 0400), 0); /* read-only for the owner is fine */
    keystore_t *ks = NULL;
    err_t err = {0};
    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    keystore_close(ks);
}

static bool contains(const char *hay, size_t len, const void *needle, size_t nlen)
{
    return memmem(hay, len, needle, nlen) != NULL;
}

static void test_secret_never_appears_in_the_file(void)
{
    keystore_t *ks = NULL;
    err_t err = {0};
    fresh_dir();
    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    uint8_t secrets[20][KS_SECRET_BYTES];
    char id[KS_KEY_ID_MAX + 1];
    for (int i = 0; i < 20; i++)
        CHECK_EQ(keystore_create(ks, AUTH_ROLE_TRADER, (uint32_t)i, id, secrets[i], &err), 0);
    CHECK_EQ(keystore_revoke(ks, id, &err), 0);
    keystore_close(ks);
    size_t len;
    const char *text = slurp(store, &len);
    CHECK(text != NULL && len > 0);
    for (int i = 0; i < 20; i++) {
        char hex[KS_SECRET_HEX_LEN + 1];
        keystore_secret_hex(secrets[i], hex);
        CHECK(!contains(text, len, secrets[i], KS_SECRET_BYTES));
        CHECK(!contains(text, len, hex, KS_SECRET_HEX_LEN));
        CHECK(!contains(text, len, hex, 16)); /* not even a part of it */
    }
}

static void test_tampered_ciphertext_role_or_status_is_detected(void)
{
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(make_one(id, secret), 0);
    size_t len;
    char *text = slurp(store, &len);
    /* the ciphertext is the 8th field of line 3 */
    char *line = strstr(text, "\nkey ");
    CHECK(line != NULL);
    char *f = line + 1;
    for (int i = 0; i < 7; i++)
        f = strchr(f, ' ') + 1;
    f[5] = f[5] == '0' ? '1' : '0';
    spit(store, text, 0600);
    expect_open_error(-EBADMSG, ":3: key ");
    expect_open_error(-EBADMSG, "secret fails authentication");

    /* the role, account and status are associated data: editing them is caught */
    static const char *const edits[][2] = {
        {" trader 7 ", " admin 7 "},
        {" trader 7 ", " trader 8 "},
        {" active ", " revoked "},
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        CHECK_EQ(make_one(id, secret), 0);
        CHECK_EQ(edit_store(edits[i][0], edits[i][1]), 0);
        expect_open_error(-EBADMSG, ":3: key ");
    }
    /* and un-revoking a key by hand too */
    keystore_t *ks = NULL;
    err_t err = {0};
    CHECK_EQ(make_one(id, secret), 0);
    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    CHECK_EQ(keystore_revoke(ks, id, &err), 0);
    keystore_close(ks);
    CHECK_EQ(edit_store(" revoked ", " active "), 0);
    expect_open_error(-EBADMSG, "secret fails authentication");
}

static void test_another_master_key_cannot_open_the_store(void)
{
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(make_one(id, secret), 0);
    spit(master, "bourse-master-key 1\n"
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0600);
    expect_open_error(-EBADMSG, "another store's master key");
}

static void test_missing_master_key_is_an_error_when_keys_exist(void)
{
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(make_one(id, secret), 0);
    CHECK_EQ(unlink(master), 0);
    expect_open_error(-ENOENT, "master key missing");
    CHECK(access(master, F_OK) != 0); /* and no new one was made */
}

static void test_bad_versions_are_refused(void)
{
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(make_one(id, secret), 0);
    CHECK_EQ(edit_store("bourse-keystore 1", "bourse-keystore 2"), 0);
    expect_open_error(-EPROTO, ":1: unsupported version 'bourse-keystore 2'");
    spit(store, "something else\n", 0600);
    expect_open_error(-EPROTO, ":1: not a key store");
    spit(store, "", 0600);
    expect_open_error(-EPROTO, "empty file");
    CHECK_EQ(make_one(id, secret), 0);
    spit(master, "bourse-master-key 2\n"
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0600);
    expect_open_error(-EPROTO, "unsupported version");
    spit(master, "bourse-master-key 1\n00112233\n", 0600);
    expect_open_error(-EINVAL, "master.key:2: want 64 lowercase hex digits");
}

static void test_malformed_lines_are_reported_with_file_and_line(void)
{
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(make_one(id, secret), 0);
    size_t len;
    char good[1024];
    const char *stored = slurp(store, &len);
    CHECK(stored != NULL && len < sizeof(good));
    if (stored == NULL || len >= sizeof(good))
        return;
    memcpy(good, stored, len + 1);
    static const struct {
        const char *line;
        const char *msg;
    } cases[] = {
        {"garbage", ":4: malformed line"},
        {"key a b", ":4: malformed line: 3 fields"},
        {"kez 0123456789abcdefghij trader 1 1 active 00 00 00", ":4: unknown record 'kez'"},
        {"key short trader 1 1 active 00 00 00", ":4: bad key id"},
        {"key 0123456789abcdef!hij trader 1 1 active 00 00 00", ":4: bad key id"},
        {"key 0123456789abcdefghij root 1 1 active 00 00 00", ":4: bad role 'root'"},
        {"key 0123456789abcdefghij trader 4294967296 1 active 00 00 00", ":4: bad account"},
        {"key 0123456789abcdefghij trader 01 1 active 00 00 00", ":4: bad account"},
        {"key 0123456789abcdefghij trader 1 -1 active 00 00 00", ":4: bad created time"},
        {"key 0123456789abcdefghij trader 1 1 dormant 00 00 00", ":4: bad status"},
        {"key 0123456789abcdefghij trader 1 1 active 00 00 00", ":4: bad nonce"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[2048];
        snprintf(text, sizeof(text), "%s%s\n", good, cases[i].line);
        spit(store, text, 0600);
        char want[256];
        snprintf(want, sizeof(want), "%s%s", store, cases[i].msg);
        expect_open_error(-EINVAL, want);
    }
    /* a duplicated line names both places */
    const char *key_line = strstr(good, "\nkey ") + 1;
    char text[2048];
    snprintf(text, sizeof(text), "%s\n# a comment\n%s", good, key_line);
    spit(store, text, 0600);
    expect_open_error(-EINVAL, ":6: duplicate key id");
    expect_open_error(-EINVAL, "(first on line 3)");
}

static void test_many_keys_are_all_found(void)
{
    keystore_t *ks = NULL;
    err_t err = {0};
    fresh_dir();
    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    enum { N = 150 };
    static char ids[N][KS_KEY_ID_MAX + 1];
    static uint8_t secrets[N][KS_SECRET_BYTES];
    for (int i = 0; i < N; i++) {
        CHECK_EQ(keystore_create(ks, AUTH_ROLE_TRADER, (uint32_t)i, ids[i], secrets[i], &err), 0);
        CHECK(ids[i][0] != '-' && ids[i][0] != '_'); /* never mistaken for a CLI option */
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < N; i++) {
            ks_entry_t e;
            CHECK_EQ(keystore_lookup(ks, ids[i], strlen(ids[i]), &e), 0);
            CHECK_EQ(e.info.account, i);
            CHECK(memcmp(e.secret, secrets[i], KS_SECRET_BYTES) == 0);
        }
        keystore_close(ks);
        ks = NULL;
        if (pass == 0)
            CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    }
}

static void test_create_refuses_a_bad_role(void)
{
    keystore_t *ks = NULL;
    err_t err = {0};
    fresh_dir();
    CHECK_EQ(keystore_open(&ks, store, master, &err), 0);
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    CHECK_EQ(keystore_create(ks, (auth_role_t)9, 1, id, secret, &err), -EINVAL);
    CHECK_EQ(keystore_list(ks, NULL, 0), 0);
    keystore_close(ks);
}

/* What a gateway's reload decision rests on: the version a store remembers
 * is the file's after each of its saves, and any other writer's save (a key
 * created or revoked) gives the file a version that differs from it. */
static void test_version_follows_every_save_and_differs_after_another_writers(void)
{
    keystore_t *a = NULL, *b = NULL;
    err_t err = {0};
    ks_version_t va, vb, vf, zero = {0};
    char id[KS_KEY_ID_MAX + 1];
    uint8_t secret[KS_SECRET_BYTES];
    fresh_dir();
    CHECK_EQ(keystore_open(&a, store, master, &err), 0);
    keystore_version(a, &va);
    CHECK_EQ(keystore_file_version(store, &vf), 0);
    CHECK(keystore_version_same(&va, &zero) && keystore_version_same(&vf, &zero)); /* no file yet */
    CHECK_EQ(keystore_create(a, AUTH_ROLE_TRADER, 1, id, secret, &err), 0);
    keystore_version(a, &va);
    CHECK_EQ(keystore_file_version(store, &vf), 0);
    CHECK(!keystore_version_same(&va, &zero));
    CHECK(keystore_version_same(&va, &vf));
    CHECK_EQ(keystore_open(&b, store, master, &err), 0);
    keystore_version(b, &vb);
    CHECK(keystore_version_same(&vb, &vf));
    for (int i = 0; i < 20; i++) { /* back to back, well within one timestamp tick */
        CHECK_EQ(keystore_create(b, AUTH_ROLE_READ_ONLY, 2, id, secret, &err), 0);
        CHECK_EQ(keystore_file_version(store, &vf), 0);
        CHECK(!keystore_version_same(&va, &vf));
        keystore_version(b, &vb);
        CHECK(keystore_version_same(&vb, &vf));
        keystore_close(a);
        CHECK_EQ(keystore_open(&a, store, master, &err), 0);
        keystore_version(a, &va);
        CHECK(keystore_version_same(&va, &vf));
    }
    CHECK_EQ(keystore_revoke(b, id, &err), 0);
    CHECK_EQ(keystore_file_version(store, &vf), 0);
    CHECK(!keystore_version_same(&va, &vf));
    keystore_close(a);
    keystore_close(b);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_create_then_lookup_gives_role_account_and_secret);
    RUN(test_unknown_and_impossible_ids_are_enoent);
    RUN(test_keys_survive_reopen_in_creation_order);
    RUN(test_revoke_is_idempotent_and_unknown_is_enoent);
    RUN(test_both_files_are_mode_0600);
    RUN(test_group_or_other_access_is_refused);
    RUN(test_secret_never_appears_in_the_file);
    RUN(test_tampered_ciphertext_role_or_status_is_detected);
    RUN(test_another_master_key_cannot_open_the_store);
    RUN(test_missing_master_key_is_an_error_when_keys_exist);
    RUN(test_bad_versions_are_refused);
    RUN(test_malformed_lines_are_reported_with_file_and_line);
    RUN(test_many_keys_are_all_found);
    RUN(test_create_refuses_a_bad_role);
    RUN(test_version_follows_every_save_and_differs_after_another_writers);
    if (dir[0] != '\0') {
        unlink(store);
        unlink(master);
        rmdir(dir);
    }
    CHECK_MAIN_END();
}
