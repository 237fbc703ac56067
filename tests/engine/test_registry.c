/* test_registry.c - engine/registry.c with the engine loop: slots claimed by
 * real processes, a killed client's ring drained and reclaimed, a dead
 * reader's cursor freed, a reused pid not taken for the owner. */
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "client.h"
#include "engine.h"
#include "proc.h"
#include "proto.h"
#include "registry.h"

static engine_t *start_engine(const char *tag, uint32_t clients)
{
    config_t cfg;
    config_defaults(&cfg);
    check_instance(cfg.instance, sizeof(cfg.instance), tag);
    cfg.clients = clients;
    cfg.readers = 2;
    cfg.ring_capacity = 64;
    cfg.event_log_capacity = 1024;
    cfg.journal = 0;
    engine_t *e = NULL;
    err_t err = {0};
    if (engine_open(&e, &cfg, &err) < 0)
        fprintf(stderr, "  engine_open: %s\n", err.msg);
    return e;
}

static void stop_engine(engine_t *e)
{
    char inst[SHM_NAME_MAX];
    memcpy(inst, e->cfg.instance, sizeof(inst));
    engine_close(e);
    shm_remove(inst, NULL);
}

/* Runs the engine's loop until cond holds (bounded by CHECK_WAIT_S). */
#define POLL_UNTIL(e, cond)                                                                     \
    for (uint64_t dl_ = check_deadline(); !(cond) && check_before(dl_);) {                      \
        engine_poll(e);                                                                         \
        engine_housekeep(e);                                                                    \
        usleep(1000);                                                                           \
    }

/* The state letter of /proc/PID/stat, the thread group leader's ('Z': a
 * zombie), or 0 when it cannot be read. */
static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name in parentheses may hold anything */
    return p != NULL && p[1] == ' ' ? p[2] : 0;
}

static void test_killed_client_ring_is_drained_and_reclaimed(void)
{
    engine_t *e = start_engine("kill", 1);
    CHECK(e != NULL);
    int pipefd[2];
    CHECK_EQ(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        client_t *c;
        if (client_attach(&c, e->cfg.instance, "doomed", CLIENT_SEND, NULL) < 0)
            _exit(1);
        for (int i = 0; i < 3; i++) {
            rec_t cmd = {.type = CMD_ECHO};
            client_send(c, &cmd);
        }
        if (write(pipefd[1], "x", 1) != 1)
            _exit(1);
        pause(); /* dies by SIGKILL holding its ring */
        _exit(0);
    }
    char b;
    CHECK_EQ(read(pipefd[0], &b, 1), 1);
    shm_client_t *slot = shm_client(e->shm, 0);
    CHECK_EQ(LEASE_STATE(atomic_load(&slot->lease)), LEASE_ACTIVE);
    CHECK_EQ(LEASE_PID(atomic_load(&slot->lease)), pid);
    /* With its one ring taken, nobody else can attach to send. */
    client_t *other;
    err_t err = {0};
    CHECK_EQ(client_attach(&other, e->cfg.instance, "late", CLIENT_SEND, &err), -EBUSY);
    CHECK_STR_HAS(err.msg, "command rings are taken");

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    POLL_UNTIL(e, LEASE_STATE(atomic_load(&slot->lease)) == LEASE_FREE);
    CHECK_EQ(LEASE_STATE(atomic_load(&slot->lease)), LEASE_FREE);
    CHECK_EQ(e->commands, 3); /* what it sent before dying was still applied */
    CHECK_EQ(atomic_load(&shm_engine_stats(e->shm)->clients_reclaimed), 1);
    CHECK_EQ(ring_depth(shm_ring(e->shm, 0)), 0);

    /* The reclaimed ring works for the next client. */
    CHECK_EQ(client_attach(&other, e->cfg.instance, "next", CLIENT_SEND | CLIENT_RECV, &err), 0);
    CHECK_EQ(other->slot, 0);
    rec_t cmd = {.type = CMD_ECHO, .len = 1, .payload = {42}};
    CHECK_EQ(client_send(other, &cmd), 0);
    engine_poll(e);
    rec_t ev;
    CHECK_EQ(client_poll(other, &ev, 1), 1);
    CHECK_EQ(ev.type, EVT_ECHO);
    CHECK_EQ(ev.payload[0], 42);
    CHECK_EQ(ev.src, 0);
    client_detach(other);
    close(pipefd[0]);
    close(pipefd[1]);
    stop_engine(e);
}

static void test_detached_client_commands_are_still_applied(void)
{
    engine_t *e = start_engine("detach", 2);
    CHECK(e != NULL);
    client_t *c;
    CHECK_EQ(client_attach(&c, e->cfg.instance, "brief", CLIENT_SEND, NULL), 0);
    for (int i = 0; i < 10; i++) {
        rec_t cmd = {.type = CMD_ECHO};
        CHECK_EQ(client_send(c, &cmd), 0);
    }
    client_detach(c);
    shm_client_t *slot = shm_client(e->shm, 0);
    CHECK_EQ(LEASE_STATE(atomic_load(&slot->lease)), LEASE_CLOSING);
    POLL_UNTIL(e, LEASE_STATE(atomic_load(&slot->lease)) == LEASE_FREE);
    CHECK_EQ(e->commands, 10);
    CHECK_EQ(LEASE_STATE(atomic_load(&slot->lease)), LEASE_FREE);
    stop_engine(e);
}

static void test_full_ring_answers_busy_and_loses_nothing(void)
{
    engine_t *e = start_engine("busy", 1);
    CHECK(e != NULL);
    client_t *c;
    CHECK_EQ(client_attach(&c, e->cfg.instance, "eager", CLIENT_SEND | CLIENT_RECV, NULL), 0);
    int sent = 0;
    rec_t cmd = {.type = CMD_ECHO};
    while (client_send(c, &cmd) == 0)
        sent++;
    CHECK_EQ(sent, 64);
    CHECK_EQ(client_send(c, &cmd), -EAGAIN);
    engine_poll(e);
    CHECK_EQ(client_send(c, &cmd), 0);
    engine_poll(e);
    rec_t evs[128];
    CHECK_EQ(client_poll(c, evs, 128), 65);
    for (int i = 0; i < 65; i++)
        CHECK_EQ(evs[i].seq, (uint64_t)i);
    client_detach(c);
    stop_engine(e);
}

static void test_unknown_command_is_rejected_with_a_reason(void)
{
    engine_t *e = start_engine("reject", 1);
    CHECK(e != NULL);
    client_t *c;
    CHECK_EQ(client_attach(&c, e->cfg.instance, "fuzzy", CLIENT_SEND | CLIENT_RECV, NULL), 0);
    rec_t cmd = {.type = 0x7777, .ref = 41};
    CHECK_EQ(client_send(c, &cmd), 0);
    rec_t bad_len = {.type = CMD_ECHO, .len = 200, .ref = 42};
    CHECK_EQ(client_send(c, &bad_len), 0);
    engine_poll(e);
    rec_t evs[2];
    CHECK_EQ(client_poll(c, evs, 2), 2);
    evt_rejected_t rej;
    CHECK_EQ(evs[0].type, EVT_REJECTED);
    memcpy(&rej, evs[0].payload, sizeof(rej));
    CHECK_EQ(rej.reason, REJ_UNKNOWN_COMMAND);
    CHECK_EQ(rej.cmd_type, 0x7777);
    /* Each answer names its command: the client's ref, the engine's sequence,
     * and marks itself the last event of that command. */
    CHECK_EQ(evs[0].ref, 41);
    CHECK_EQ(evs[0].cmd_seq, 1);
    CHECK(evs[0].flags & REC_LAST);
    memcpy(&rej, evs[1].payload, sizeof(rej));
    CHECK_EQ(rej.reason, REJ_BAD_LENGTH);
    CHECK_EQ(rej.account, PROTO_NO_ACCOUNT); /* not account 0's: the command could not be read */
    CHECK_EQ(evs[1].ref, 42);
    CHECK_EQ(evs[1].cmd_seq, 2);
    client_detach(c);
    stop_engine(e);
}

static void test_broken_ring_indices_are_contained(void)
{
    engine_t *e = start_engine("broken", 1);
    CHECK(e != NULL);
    client_t *c;
    CHECK_EQ(client_attach(&c, e->cfg.instance, "vandal", CLIENT_SEND, NULL), 0);
    rec_t cmd = {.type = CMD_ECHO};
    CHECK_EQ(client_send(c, &cmd), 0);
    engine_poll(e);
    atomic_store(&shm_ring(e->shm, 0)->head, UINT64_C(1) << 50);
    engine_poll(e); /* must not read past the ring */
    CHECK_EQ(atomic_load(&shm_engine_stats(e->shm)->rings_corrupt), 1);
    CHECK_EQ(e->commands, 1);
    /* Quarantined while its owner lives: nobody else gets the slot, nothing
     * more from it is applied. */
    shm_client_t *slot = shm_client(e->shm, 0);
    CHECK_EQ(LEASE_STATE(atomic_load(&slot->lease)), LEASE_ACTIVE);
    client_t *other;
    CHECK_EQ(client_attach(&other, e->cfg.instance, "other", CLIENT_SEND, NULL), -EBUSY);
    engine_poll(e);
    CHECK_EQ(e->commands, 1);
    client_detach(c);
    engine_poll(e);
    CHECK_EQ(LEASE_STATE(atomic_load(&slot->lease)), LEASE_FREE);
    CHECK_EQ(client_attach(&other, e->cfg.instance, "other", CLIENT_SEND, NULL), 0);
    CHECK_EQ(client_send(other, &cmd), 0);
    engine_poll(e);
    CHECK_EQ(e->commands, 2);
    client_detach(other);
    stop_engine(e);
}

static void test_dead_reader_slot_is_freed(void)
{
    engine_t *e = start_engine("reader", 1);
    CHECK(e != NULL);
    int pipefd[2];
    CHECK_EQ(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        client_t *c;
        if (client_attach(&c, e->cfg.instance, "watcher", CLIENT_RECV, NULL) < 0)
            _exit(1);
        if (write(pipefd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char b;
    CHECK_EQ(read(pipefd[0], &b, 1), 1);
    shm_reader_t *r = shm_reader(e->shm, 0);
    CHECK_EQ(LEASE_STATE(atomic_load(&r->lease)), LEASE_ACTIVE);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    engine_housekeep(e);
    CHECK_EQ(LEASE_STATE(atomic_load(&r->lease)), LEASE_FREE);
    CHECK_EQ(atomic_load(&shm_engine_stats(e->shm)->readers_reclaimed), 1);
    close(pipefd[0]);
    close(pipefd[1]);
    stop_engine(e);
}

static void test_reused_pid_is_not_taken_for_the_owner(void)
{
    uint64_t st;
    CHECK_EQ(proc_start_time(getpid(), &st), 0);
    uint64_t lease = LEASE_MAKE(getpid(), LEASE_ACTIVE);
    CHECK(!registry_owner_dead(lease, st));
    /* Same pid, other start time: a new process that got the dead one's pid. */
    CHECK(registry_owner_dead(lease, st + 1));
    CHECK(!registry_owner_dead(LEASE_MAKE(getpid(), LEASE_CLAIMING), 0));
    CHECK(!registry_owner_dead(LEASE_MAKE(0, LEASE_FREE), 0));
}

static void *linger(void *arg)
{
    int fd = *(int *)arg;
    char b;
    if (read(fd, &b, 1) < 0) /* until the parent closes the pipe or kills us */
        perror("read");
    return NULL;
}

static void test_client_whose_main_thread_exited_keeps_its_ring(void)
{
    engine_t *e = start_engine("zombie", 1);
    CHECK(e != NULL);
    int ready[2], hold[2];
    CHECK_EQ(pipe(ready), 0);
    CHECK_EQ(pipe(hold), 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        client_t *c;
        if (client_attach(&c, e->cfg.instance, "threaded", CLIENT_SEND, NULL) < 0)
            _exit(1);
        pthread_t t;
        pthread_create(&t, NULL, linger, &hold[0]);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        pthread_exit(NULL); /* the leader becomes a zombie; the process lives on */
    }
    char b;
    CHECK_EQ(read(ready[0], &b, 1), 1);
    /* The case under test starts once the leader has exited. */
    for (uint64_t dl = check_deadline(); proc_state(pid) != 'Z' && check_before(dl);)
        usleep(1000);
    CHECK_EQ(proc_state(pid), 'Z');
    engine_housekeep(e);
    shm_client_t *slot = shm_client(e->shm, 0);
    unsigned state = LEASE_STATE(atomic_load(&slot->lease));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_EQ(state, LEASE_ACTIVE);
    POLL_UNTIL(e, LEASE_STATE(atomic_load(&slot->lease)) == LEASE_FREE);
    CHECK_EQ(LEASE_STATE(atomic_load(&slot->lease)), LEASE_FREE);
    close(ready[0]);
    close(ready[1]);
    close(hold[0]);
    close(hold[1]);
    stop_engine(e);
}

static void test_client_learns_that_the_engine_died(void)
{
    char inst[32];
    check_instance(inst, sizeof(inst), "died");
    int ready[2];
    CHECK_EQ(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        config_t cfg;
        config_defaults(&cfg);
        snprintf(cfg.instance, sizeof(cfg.instance), "%s", inst);
        cfg.ring_capacity = 64;
        engine_t *e;
        if (engine_open(&e, &cfg, NULL) < 0 || write(ready[1], "x", 1) != 1)
            _exit(1);
        for (;;) {
            engine_poll(e);
            usleep(100);
        }
    }
    char b;
    CHECK_EQ(read(ready[0], &b, 1), 1);
    client_t *c;
    err_t err = {0};
    CHECK_EQ(client_attach(&c, inst, "orphan", CLIENT_SEND | CLIENT_RECV, &err), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    rec_t cmd = {.type = CMD_ECHO}, ev;
    int rc = 0;
    for (uint64_t dl = check_deadline(); rc != -ESTALE && check_before(dl);) {
        rc = client_send(c, &cmd);
        if (rc == -EAGAIN)
            usleep(100);
    }
    CHECK_EQ(rc, -ESTALE);
    for (uint64_t dl = check_deadline(); (rc = (int)client_poll(c, &ev, 1)) == 0 && check_before(dl);)
        usleep(1000);
    CHECK_EQ(rc, -ESTALE);
    client_detach(c);
    shm_remove(inst, NULL);
    close(ready[0]);
    close(ready[1]);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    RUN(test_killed_client_ring_is_drained_and_reclaimed);
    RUN(test_detached_client_commands_are_still_applied);
    RUN(test_full_ring_answers_busy_and_loses_nothing);
    RUN(test_unknown_command_is_rejected_with_a_reason);
    RUN(test_broken_ring_indices_are_contained);
    RUN(test_dead_reader_slot_is_freed);
    RUN(test_reused_pid_is_not_taken_for_the_owner);
    RUN(test_client_whose_main_thread_exited_keeps_its_ring);
    RUN(test_client_learns_that_the_engine_died);
    CHECK_MAIN_END();
}
