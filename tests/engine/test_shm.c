/* test_shm.c - engine/shm.c on real /dev/shm segments: create and attach,
 * refusals with their messages (live owner, wrong version, truncation, bad
 * magic, stale owner, stopped engine), replacement of a stale segment, and
 * the temporary segments of engines killed while starting: deleted under the
 * instance lock, never while a live one holds it. */
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "proto.h"
#include "shm.h"

static const shm_geometry_t geo = {.client_max = 4, .ring_capacity = 64, .reader_max = 4,
                                   .evlog_capacity = 256};

static void cleanup(const char *inst)
{
    shm_remove(inst, NULL);
}

/* Pokes bytes into a segment file as a crashed or foreign writer would. */
static void poke(const char *inst, off_t off, const void *bytes, size_t n)
{
    char p[128];
    snprintf(p, sizeof(p), "/dev/shm/bourse.%s", inst);
    int fd = open(p, O_RDWR);
    if (fd >= 0) {
        if (pwrite(fd, bytes, n, off) != (ssize_t)n)
            perror("pwrite");
        close(fd);
    }
}

static void test_create_then_attach_sees_the_same_geometry(void)
{
    char inst[32];
    check_instance(inst, sizeof(inst), "geo");
    shm_t *e, *c;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    CHECK_EQ(e->hdr->generation, 1);
    CHECK_EQ(shm_attach(&c, inst, &err), 0);
    CHECK_EQ(c->geo.client_max, 4);
    CHECK_EQ(c->geo.evlog_capacity, 256);
    CHECK_EQ(c->size, e->size);
    CHECK(shm_engine_alive(c));
    /* Both mappings are the same memory. */
    atomic_store(&shm_ring(e, 2)->head, 7);
    CHECK_EQ(atomic_load(&shm_ring(c, 2)->head), 7);
    shm_close(c);
    shm_close(e);
    cleanup(inst);
}

static void test_segment_is_private_to_its_user_by_default(void)
{
    char inst[32], p[128];
    check_instance(inst, sizeof(inst), "mode");
    shm_t *e;
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, NULL), 0);
    snprintf(p, sizeof(p), "/dev/shm/bourse.%s", inst);
    struct stat st;
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    shm_close(e);
    cleanup(inst);
}

static void test_second_engine_on_a_live_instance_is_refused(void)
{
    char inst[32];
    check_instance(inst, sizeof(inst), "live");
    shm_t *e, *e2;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    CHECK_EQ(shm_create(&e2, inst, &geo, 0600, &err), -EBUSY);
    CHECK_STR_HAS(err.msg, "owned by a live engine");
    shm_close(e);
    cleanup(inst);
}

static void test_attach_without_a_segment_says_so(void)
{
    shm_t *c;
    err_t err = {0};
    CHECK_EQ(shm_attach(&c, "no-such-instance-here", &err), -ENOENT);
    CHECK_STR_HAS(err.msg, "is bourse-engine running?");
}

static void test_another_protocol_version_is_refused_with_a_clear_message(void)
{
    char inst[32];
    check_instance(inst, sizeof(inst), "proto");
    shm_t *e, *c;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    uint32_t v = PROTO_VERSION + 1;
    poke(inst, offsetof(shm_header_t, proto_version), &v, sizeof(v));
    CHECK_EQ(shm_attach(&c, inst, &err), -EPROTO);
    char want[96];
    snprintf(want, sizeof(want), "records of protocol version %u but this build speaks version %u", v, PROTO_VERSION);
    CHECK_STR_HAS(err.msg, want);
    shm_close(e);
    cleanup(inst);
}

static void test_wrong_layout_version_is_refused_with_a_clear_message(void)
{
    char inst[32];
    check_instance(inst, sizeof(inst), "ver");
    shm_t *e, *c;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    uint32_t v = SHM_LAYOUT_VERSION + 1;
    poke(inst, offsetof(shm_header_t, layout_version), &v, sizeof(v));
    CHECK_EQ(shm_attach(&c, inst, &err), -EPROTO);
    char want[96];
    snprintf(want, sizeof(want), "layout version %u but this build reads version %u", v, SHM_LAYOUT_VERSION);
    CHECK_STR_HAS(err.msg, want);
    shm_close(e);
    cleanup(inst);
}

static void test_truncated_segment_is_refused(void)
{
    char inst[32], p[128];
    check_instance(inst, sizeof(inst), "trunc");
    shm_t *e, *c;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    snprintf(p, sizeof(p), "/dev/shm/bourse.%s", inst);
    CHECK_EQ(truncate(p, (off_t)e->size - 4096), 0);
    CHECK_EQ(shm_attach(&c, inst, &err), -EPROTO);
    CHECK_STR_HAS(err.msg, "truncated segment");
    CHECK_EQ(truncate(p, 100), 0);
    CHECK_EQ(shm_attach(&c, inst, &err), -EPROTO);
    CHECK_STR_HAS(err.msg, "header alone needs");
    shm_close(e);
    cleanup(inst);
}

static void test_foreign_file_is_not_taken_for_a_segment(void)
{
    char inst[32];
    check_instance(inst, sizeof(inst), "magic");
    shm_t *e, *c;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    poke(inst, 0, "GARBAGE!", 8);
    CHECK_EQ(shm_attach(&c, inst, &err), -EPROTO);
    CHECK_STR_HAS(err.msg, "not a bourse segment");
    shm_close(e);
    cleanup(inst);
}

static void test_header_with_inconsistent_regions_is_refused(void)
{
    char inst[32];
    check_instance(inst, sizeof(inst), "regions");
    shm_t *e, *c;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    uint64_t bad = 1u << 30;
    poke(inst, offsetof(shm_header_t, evlog_off), &bad, sizeof(bad));
    CHECK_EQ(shm_attach(&c, inst, &err), -EPROTO);
    CHECK_STR_HAS(err.msg, "region offsets do not match");
    uint32_t cap = 100; /* not a power of two */
    poke(inst, offsetof(shm_header_t, ring_capacity), &cap, sizeof(cap));
    CHECK_EQ(shm_attach(&c, inst, &err), -EPROTO);
    CHECK_STR_HAS(err.msg, "corrupt segment header");
    shm_close(e);
    cleanup(inst);
}

static void test_stopped_engine_is_reported_then_replaced_with_next_generation(void)
{
    char inst[32];
    check_instance(inst, sizeof(inst), "stop");
    shm_t *e, *c;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    shm_close(e);
    CHECK_EQ(shm_attach(&c, inst, &err), -ESTALE);
    CHECK_STR_HAS(err.msg, "has stopped");
    CHECK_EQ(shm_inspect(&c, inst, &err), 0); /* the CLI can still look at it */
    CHECK_EQ(atomic_load(&c->hdr->state), SHM_STATE_STOPPED);
    shm_close(c);
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    CHECK_EQ(e->hdr->generation, 2);
    shm_close(e);
    cleanup(inst);
}

static void test_segment_of_a_killed_engine_is_stale_then_replaced(void)
{
    char inst[32];
    check_instance(inst, sizeof(inst), "stale");
    pid_t pid = fork();
    if (pid == 0) {
        shm_t *e;
        if (shm_create(&e, inst, &geo, 0600, NULL) < 0)
            _exit(1);
        pause(); /* killed below, never closes */
        _exit(0);
    }
    shm_t *c = NULL;
    err_t err = {0};
    for (uint64_t dl = check_deadline(); shm_attach(&c, inst, &err) < 0 && check_before(dl);)
        usleep(10000);
    CHECK(c != NULL);
    shm_close(c);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_EQ(shm_attach(&c, inst, &err), -ESTALE);
    CHECK_STR_HAS(err.msg, "stale segment");
    shm_t *e;
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    CHECK_EQ(e->hdr->generation, 2);
    CHECK_EQ(shm_attach(&c, inst, &err), 0);
    shm_close(c);
    shm_close(e);
    cleanup(inst);
}

static void test_remove_refuses_a_live_instance_and_clears_a_stopped_one(void)
{
    char inst[32], p[128];
    check_instance(inst, sizeof(inst), "remove");
    shm_t *e;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    CHECK_EQ(shm_remove(inst, &err), -EBUSY);
    CHECK_STR_HAS(err.msg, "held by a live engine");
    shm_close(e);
    CHECK_EQ(shm_remove(inst, &err), 0);
    snprintf(p, sizeof(p), "/dev/shm/bourse.%s", inst);
    CHECK(access(p, F_OK) != 0);
    CHECK_EQ(shm_remove(inst, &err), 0); /* nothing there: fine */
}

/* Makes /dev/shm/bourse.<inst><suffix>, an empty file, as a killed engine (or
 * anyone) would leave it. */
static void touch(const char *inst, const char *suffix)
{
    char p[128];
    snprintf(p, sizeof(p), "/dev/shm/bourse.%s%s", inst, suffix);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0)
        close(fd);
}

static int exists(const char *inst, const char *suffix)
{
    char p[128];
    snprintf(p, sizeof(p), "/dev/shm/bourse.%s%s", inst, suffix);
    return access(p, F_OK) == 0;
}

static void test_create_deletes_temp_segments_of_engines_killed_while_starting(void)
{
    char inst[32], live_pid[32], other[40];
    check_instance(inst, sizeof(inst), "tmp");
    /* One named after a live process (this one): a reused pid proves
     * nothing, the instance lock does. */
    snprintf(live_pid, sizeof(live_pid), ".new.%d", (int)getpid());
    touch(inst, live_pid);
    touch(inst, ".new.1");
    touch(inst, ".new.4194303");
    /* Not temporary segments of this instance: kept. */
    touch(inst, ".new.12x");
    touch(inst, ".new.");
    snprintf(other, sizeof(other), "%s-b", inst);
    touch(other, ".new.77");
    shm_t *e;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    CHECK_EQ(e->temps_removed, 3);
    CHECK(!exists(inst, live_pid));
    CHECK(!exists(inst, ".new.1"));
    CHECK(!exists(inst, ".new.4194303"));
    CHECK(exists(inst, ".new.12x"));
    CHECK(exists(inst, ".new."));
    CHECK(exists(other, ".new.77"));
    shm_close(e);
    cleanup(inst);
    cleanup(other);
    CHECK(exists(inst, ".new.12x")); /* remove, too, takes only <digits> */
    char p[128];
    snprintf(p, sizeof(p), "/dev/shm/bourse.%s.new.12x", inst);
    unlink(p);
    snprintf(p, sizeof(p), "/dev/shm/bourse.%s.new.", inst);
    unlink(p);
    CHECK(!exists(other, ".new.77"));
}

/* A starting engine holds the instance lock while its temporary segment
 * exists: neither remove nor another engine may touch the file then. */
static void test_temp_segment_is_kept_while_its_engine_holds_the_lock(void)
{
    char inst[32], lock[128];
    check_instance(inst, sizeof(inst), "hold");
    snprintf(lock, sizeof(lock), "/dev/shm/bourse.%s.lock", inst);
    touch(inst, ".new.1");
    int fd = open(lock, O_RDWR | O_CREAT, 0600); /* its own open file: flock conflicts */
    CHECK(fd >= 0);
    CHECK_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
    err_t err = {0};
    CHECK_EQ(shm_remove(inst, &err), -EBUSY);
    CHECK(exists(inst, ".new.1"));
    shm_t *e;
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), -EBUSY);
    CHECK(exists(inst, ".new.1"));
    close(fd);
    CHECK_EQ(shm_remove(inst, &err), 0);
    CHECK(!exists(inst, ".new.1"));
    CHECK(!exists(inst, ".lock"));
    CHECK(!exists(inst, ""));
}

/* The lock file deleted under a running engine (an operator's rm): remove
 * still refuses, from the segment's live owner, and the next engine locks a
 * new file at the path, the one a remove or a third engine would open. */
static void test_remove_refuses_a_live_engine_whose_lock_file_was_deleted(void)
{
    char inst[32], lock[128];
    check_instance(inst, sizeof(inst), "relock");
    snprintf(lock, sizeof(lock), "/dev/shm/bourse.%s.lock", inst);
    shm_t *e, *e2;
    err_t err = {0};
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, &err), 0);
    unlink(lock);
    CHECK_EQ(shm_remove(inst, &err), -EBUSY);
    CHECK_STR_HAS(err.msg, "held by a live engine");
    CHECK(exists(inst, ""));
    shm_close(e);
    CHECK_EQ(shm_create(&e2, inst, &geo, 0600, &err), 0);
    struct stat held, there;
    CHECK_EQ(fstat(e2->lock_fd, &held), 0);
    CHECK_EQ(stat(lock, &there), 0);
    CHECK_EQ(held.st_ino, there.st_ino);
    shm_close(e2);
    cleanup(inst);
}

static void test_bad_geometry_and_names_are_refused(void)
{
    err_t err = {0};
    shm_t *e;
    shm_geometry_t g = geo;
    g.ring_capacity = 1000;
    CHECK_EQ(shm_create(&e, "t-geo", &g, 0600, &err), -EINVAL);
    CHECK_STR_HAS(err.msg, "ring_capacity must be a power of two");
    g = geo;
    g.client_max = 0;
    CHECK_EQ(shm_create(&e, "t-geo", &g, 0600, &err), -EINVAL);
    CHECK_EQ(shm_create(&e, "../etc", &geo, 0600, &err), -EINVAL);
    CHECK_STR_HAS(err.msg, "may only hold");
    CHECK_EQ(shm_create(&e, "", &geo, 0600, &err), -EINVAL);
}

static void test_validate_survives_random_corruption(void)
{
    /* Any bytes at all: validation answers, never crashes (the fuzzer goes
     * further; this keeps a quick version in every build). */
    char inst[32];
    check_instance(inst, sizeof(inst), "flip");
    shm_t *e;
    CHECK_EQ(shm_create(&e, inst, &geo, 0600, NULL), 0);
    uint8_t *copy = malloc(e->size);
    uint64_t seed = check_seed();
    int accepted = 0;
    for (int round = 0; round < 2000; round++) {
        memcpy(copy, e->base, e->size);
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t at = (size_t)(seed >> 33) % 200; /* the header's meaningful bytes */
        copy[at] ^= (uint8_t)(1u << ((seed >> 20) & 7));
        err_t err;
        if (shm_validate(copy, e->size, &err) == 0)
            accepted++;
    }
    free(copy);
    printf("  %d of 2000 one-bit flips in the header still validate (unchecked fields)\n", accepted);
    shm_close(e);
    cleanup(inst);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_create_then_attach_sees_the_same_geometry);
    RUN(test_segment_is_private_to_its_user_by_default);
    RUN(test_second_engine_on_a_live_instance_is_refused);
    RUN(test_attach_without_a_segment_says_so);
    RUN(test_wrong_layout_version_is_refused_with_a_clear_message);
    RUN(test_another_protocol_version_is_refused_with_a_clear_message);
    RUN(test_truncated_segment_is_refused);
    RUN(test_foreign_file_is_not_taken_for_a_segment);
    RUN(test_header_with_inconsistent_regions_is_refused);
    RUN(test_stopped_engine_is_reported_then_replaced_with_next_generation);
    RUN(test_segment_of_a_killed_engine_is_stale_then_replaced);
    RUN(test_remove_refuses_a_live_instance_and_clears_a_stopped_one);
    RUN(test_create_deletes_temp_segments_of_engines_killed_while_starting);
    RUN(test_temp_segment_is_kept_while_its_engine_holds_the_lock);
    RUN(test_remove_refuses_a_live_engine_whose_lock_file_was_deleted);
    RUN(test_bad_geometry_and_names_are_refused);
    RUN(test_validate_survives_random_corruption);
    CHECK_MAIN_END();
}
