/* test_config.c - engine/config.c: defaults, every key type, and a one-line
 * error naming the file, line and key for each kind of bad input. */
#include <unistd.h>

#include "../check.h"
#include "config.h"
#include "idle.h"

static void test_defaults_are_valid_and_non_spinning(void)
{
    config_t c;
    config_defaults(&c);
    CHECK(strcmp(c.instance, "default") == 0);
    CHECK_EQ(c.idle, IDLE_BACKOFF);
    CHECK_EQ(c.cpu, -1);
    CHECK_EQ(c.shm_mode, 0600);
}

static void test_file_sets_every_key_type(void)
{
    config_t c;
    config_defaults(&c);
    err_t err = {0};
    const char *ini = "; comment\n[engine]\ninstance = prod-1\nclients = 8\nring_capacity = 1024\n"
                      "event_log_capacity = 4096\ncpu = 1\nidle = spin\nshm_mode = 0660\n";
    CHECK_EQ(config_parse(&c, ini, "t.ini", &err), 0);
    CHECK(strcmp(c.instance, "prod-1") == 0);
    CHECK_EQ(c.clients, 8);
    CHECK_EQ(c.ring_capacity, 1024);
    CHECK_EQ(c.event_log_capacity, 4096);
    CHECK_EQ(c.cpu, 1);
    CHECK_EQ(c.idle, IDLE_SPIN);
    CHECK_EQ(c.shm_mode, 0660);
}

static void test_journal_retain_defaults_to_all_and_takes_snapshots(void)
{
    config_t c;
    config_defaults(&c);
    CHECK_EQ(c.journal_retain, CONFIG_RETAIN_ALL); /* the journal is the audit trail */
    err_t err = {0};
    CHECK_EQ(config_parse(&c, "[journal]\nretain = snapshots\n", "t.ini", &err), 0);
    CHECK_EQ(c.journal_retain, CONFIG_RETAIN_SNAPSHOTS);
    CHECK_EQ(config_parse(&c, "[journal]\nretain = all\n", "t.ini", &err), 0);
    CHECK_EQ(c.journal_retain, CONFIG_RETAIN_ALL);
}

static void expect_error(const char *ini, const char *needle)
{
    config_t c;
    config_defaults(&c);
    err_t err = {0};
    if (config_parse(&c, ini, "bad.ini", &err) != -EINVAL) {
        fprintf(stderr, "  accepted: %s\n", ini);
        check_current_failed = 1;
        return;
    }
    if (strstr(err.msg, needle) == NULL || strchr(err.msg, '\n') != NULL) {
        fprintf(stderr, "  message '%s' lacks '%s'\n", err.msg, needle);
        check_current_failed = 1;
    }
}

static void test_unknown_key_names_file_line_and_key(void)
{
    expect_error("[engine]\nclients = 4\nfrobnicate = 1\n", "bad.ini:3: unknown key 'frobnicate' in [engine]");
}

static void test_unknown_section_is_an_error(void)
{
    expect_error("[engin]\nclients = 4\n", "bad.ini:2: unknown section [engin]");
    expect_error("clients = 4\n", "unknown section []");
}

static void test_malformed_line_is_an_error(void)
{
    expect_error("[engine]\nthis line has no equals sign\n", "bad.ini:2: malformed line");
    expect_error("[engine\n", "bad.ini:1: malformed line");
}

static void test_first_error_is_the_one_reported(void)
{
    expect_error("[engine]\nfoo bar\nclients = 0\n", "bad.ini:2: malformed line");
    expect_error("[engine]\nclients = 0\nfoo bar\n", "bad.ini:2: clients: 0 is outside");
}

static void test_duplicate_key_is_an_error(void)
{
    expect_error("[engine]\nclients = 4\n\nclients = 8\n", "bad.ini:4: duplicate key 'clients' in [engine] (first set on line 2)");
}

static void test_bad_values_are_errors(void)
{
    expect_error("[engine]\nclients = many\n", "clients: 'many' is not an integer");
    expect_error("[engine]\nclients = 4x\n", "is not an integer");
    expect_error("[engine]\nclients = 0\n", "clients: 0 is outside 1..256");
    expect_error("[engine]\nclients = 99999999999999999999\n", "is not an integer");
    expect_error("[engine]\nring_capacity = 1000\n", "ring_capacity: 1000 is not a power of two");
    expect_error("[engine]\nidle = fast\n", "idle: 'fast' is not one of spin, yield, backoff");
    expect_error("[engine]\ninstance = a/b\n", "instance: instance name 'a/b' may only hold");
    expect_error("[engine]\nshm_mode = 0777\n", "not an octal mode");
    expect_error("[engine]\ncpu = -2\n", "cpu: -2 is outside -1..1023");
    expect_error("[engine]\nclients =\n", "clients: '' is not an integer");
    expect_error("[journal]\nretain = 7d\n", "retain: '7d' is not one of all, snapshots");
}

static void test_missing_file_names_the_path(void)
{
    config_t c;
    config_defaults(&c);
    err_t err = {0};
    CHECK_EQ(config_load(&c, "/nonexistent/bourse.ini", &err), -ENOENT);
    CHECK_STR_HAS(err.msg, "config /nonexistent/bourse.ini: No such file or directory");
}

static void test_directory_is_not_a_config_file(void)
{
    config_t c;
    config_defaults(&c);
    err_t err = {0};
    CHECK_EQ(config_load(&c, "/tmp", &err), -EINVAL);
    CHECK_STR_HAS(err.msg, "config /tmp: not a regular file");
}

static void test_environment_overrides_the_file(void)
{
    char path[] = "/tmp/bourse-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *ini = "[engine]\nidle = spin\nclients = 8\n";
    CHECK_EQ(write(fd, ini, strlen(ini)), (ssize_t)strlen(ini));
    close(fd);
    setenv("BOURSE_ENGINE_IDLE", "yield", 1);
    config_t c;
    config_defaults(&c);
    err_t err = {0};
    int rc = config_load(&c, path, &err);
    unsetenv("BOURSE_ENGINE_IDLE");
    CHECK_EQ(rc, 0);
    CHECK_EQ(c.idle, IDLE_YIELD);
    CHECK_EQ(c.clients, 8);
    setenv("BOURSE_ENGINE_CLIENTS", "lots", 1);
    rc = config_load(&c, path, &err);
    unsetenv("BOURSE_ENGINE_CLIENTS");
    unlink(path);
    CHECK_EQ(rc, -EINVAL);
    CHECK_STR_HAS(err.msg, "environment BOURSE_ENGINE_CLIENTS: clients: 'lots' is not an integer");
}

static void test_written_config_parses_back_to_the_same_values(void)
{
    config_t a, b;
    config_defaults(&a);
    a.clients = 3;
    a.idle = IDLE_YIELD;
    a.cpu = 1;
    a.journal_retain = CONFIG_RETAIN_SNAPSHOTS;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_write(&a, f);
    fclose(f);
    config_defaults(&b);
    err_t err = {0};
    int rc = config_parse(&b, text, "written", &err);
    free(text);
    CHECK_EQ(rc, 0);
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

/* The wait of a loop that sleeps in its poll call: spin and yield never
 * sleep; backoff spins, yields, then doubles from the minimum up to its cap. */
static void test_idle_poll_waits_follow_the_strategy(void)
{
    const uint64_t max = 50000;
    for (uint32_t p = 0; p < 1000; p += 7) {
        CHECK_EQ(idle_poll_ns(IDLE_SPIN, p, max), 0);
        CHECK_EQ(idle_poll_ns(IDLE_YIELD, p, max), 0);
    }
    CHECK_EQ(idle_poll_ns(IDLE_BACKOFF, 0, max), 0);
    CHECK_EQ(idle_poll_ns(IDLE_BACKOFF, IDLE_BACKOFF_SPINS + IDLE_BACKOFF_YIELDS - 1, max), 0);
    uint32_t first = IDLE_BACKOFF_SPINS + IDLE_BACKOFF_YIELDS;
    CHECK_EQ(idle_poll_ns(IDLE_BACKOFF, first, max), IDLE_SLEEP_MIN_NS);
    CHECK_EQ(idle_poll_ns(IDLE_BACKOFF, first + 3, max), 8 * IDLE_SLEEP_MIN_NS);
    CHECK_EQ(idle_poll_ns(IDLE_BACKOFF, first + 10, max), max);
    CHECK_EQ(idle_poll_ns(IDLE_BACKOFF, UINT32_MAX, max), max);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_defaults_are_valid_and_non_spinning);
    RUN(test_file_sets_every_key_type);
    RUN(test_journal_retain_defaults_to_all_and_takes_snapshots);
    RUN(test_unknown_key_names_file_line_and_key);
    RUN(test_unknown_section_is_an_error);
    RUN(test_malformed_line_is_an_error);
    RUN(test_bad_values_are_errors);
    RUN(test_first_error_is_the_one_reported);
    RUN(test_duplicate_key_is_an_error);
    RUN(test_missing_file_names_the_path);
    RUN(test_directory_is_not_a_config_file);
    RUN(test_environment_overrides_the_file);
    RUN(test_written_config_parses_back_to_the_same_values);
    RUN(test_idle_poll_waits_follow_the_strategy);
    CHECK_MAIN_END();
}
