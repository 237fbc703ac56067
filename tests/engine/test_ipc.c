/* test_ipc.c - the rings between real processes through a real segment:
 * ten million records on a command ring, and the whole path client -> engine
 * -> event log -> reader processes, each checked by sequence for loss,
 * duplication and reordering. Waiting sides back off (no spinning). */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "client.h"
#include "engine.h"
#include "idle.h"
#include "registry.h"

static uint64_t count_from_env(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v ? strtoull(v, NULL, 10) : dflt;
}

static void fill(rec_t *r, uint64_t i)
{
    memset(r, 0, sizeof(*r));
    r->type = CMD_ECHO;
    r->len = 16;
    uint64_t inv = ~i;
    memcpy(r->payload, &i, 8);
    memcpy(r->payload + 8, &inv, 8);
}

/* Producer process: pushes n records, mixing single pushes and bursts. */
static void produce(const char *instance, uint64_t n)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    client_t *c;
    err_t err = {0};
    if (client_attach(&c, instance, "producer", CLIENT_SEND, &err) < 0) {
        fprintf(stderr, "producer: %s\n", err.msg);
        _exit(1);
    }
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 100000);
    rec_t burst[16];
    uint64_t i = 0;
    while (i < n) {
        uint64_t want = (i / 1000) % 2 ? 16 : 1; /* alternate runs of singles and bursts */
        if (want > n - i)
            want = n - i;
        for (uint64_t k = 0; k < want; k++) {
            fill(&burst[k], i + k);
            burst[k].seq = i + k;
            burst[k].src = (uint16_t)c->slot;
        }
        int64_t pushed = ring_push_burst(&c->ring, burst, want);
        if (pushed < 0)
            _exit(2);
        if (pushed == 0) {
            idle_wait(&idle);
            continue;
        }
        idle_reset(&idle);
        i += (uint64_t)pushed;
    }
    client_detach(c);
    _exit(0);
}

static void test_two_processes_pass_ten_million_records_without_loss(void)
{
    uint64_t n = count_from_env("BOURSE_IPC_COUNT", 10000000);
    char inst[32];
    check_instance(inst, sizeof(inst), "ipc");
    shm_geometry_t geo = {.client_max = 1, .ring_capacity = 4096, .reader_max = 1,
                          .evlog_capacity = 64};
    shm_t *s;
    err_t err = {0};
    CHECK_EQ(shm_create(&s, inst, &geo, 0600, &err), 0);
    pid_t pid = fork();
    if (pid == 0)
        produce(inst, n);
    /* The consumer side, as the engine holds it. */
    shm_client_t *slot = shm_client(s, 0);
    for (uint64_t dl = check_deadline(); LEASE_STATE(atomic_load(&slot->lease)) != LEASE_ACTIVE && check_before(dl);)
        usleep(100);
    CHECK_EQ(LEASE_STATE(atomic_load(&slot->lease)), LEASE_ACTIVE);
    ring_t r;
    CHECK_EQ(ring_attach_consumer(&r, shm_ring(s, 0), geo.ring_capacity, sizeof(rec_t)), 0);
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 100000);
    uint64_t expect = 0, lost = 0, dup_or_reorder = 0, corrupt = 0;
    rec_t out[32];
    while (expect < n) {
        int64_t got = ring_pop_burst(&r, out, 32);
        CHECK(got >= 0);
        if (got == 0) {
            idle_wait(&idle);
            continue;
        }
        idle_reset(&idle);
        for (int64_t k = 0; k < got; k++) {
            uint64_t v, inv;
            memcpy(&v, out[k].payload, 8);
            memcpy(&inv, out[k].payload + 8, 8);
            if (v != out[k].seq || inv != ~v)
                corrupt++;
            if (out[k].seq > expect)
                lost += out[k].seq - expect;
            else if (out[k].seq < expect)
                dup_or_reorder++;
            expect = out[k].seq + 1;
        }
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(lost, 0);
    CHECK_EQ(dup_or_reorder, 0);
    CHECK_EQ(corrupt, 0);
    CHECK_EQ(expect, n);
    rec_t extra;
    CHECK_EQ(ring_pop(&r, &extra), -EAGAIN);
    printf("  %" PRIu64 " records passed between processes\n", n);
    shm_close(s);
    shm_remove(inst, NULL);
}

/* Reader process: reads n echo events and checks them against the order the
 * producer sent them in. Exit status 0 only when all n arrived intact. */
static void read_events(const char *instance, uint64_t n, int ready_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    client_t *c;
    if (client_attach(&c, instance, "reader", CLIENT_RECV, NULL) < 0)
        _exit(1);
    if (write(ready_fd, "r", 1) != 1)
        _exit(1);
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 100000);
    uint64_t expect = 0;
    rec_t evs[64];
    while (expect < n) {
        int64_t got = client_poll(c, evs, 64);
        if (got < 0)
            _exit(got == -EOVERFLOW ? 3 : 4);
        if (got == 0) {
            idle_wait(&idle);
            continue;
        }
        idle_reset(&idle);
        for (int64_t k = 0; k < got; k++) {
            uint64_t v;
            memcpy(&v, evs[k].payload, 8);
            if (evs[k].type != EVT_ECHO || v != expect || evs[k].seq != expect)
                _exit(5);
            expect++;
        }
    }
    client_detach(c);
    _exit(0);
}

static void test_commands_flow_through_the_engine_to_reader_processes(void)
{
    uint64_t n = count_from_env("BOURSE_IPC_COUNT", 10000000) / 10;
    config_t cfg;
    config_defaults(&cfg);
    check_instance(cfg.instance, sizeof(cfg.instance), "flow");
    cfg.clients = 2;
    cfg.event_log_capacity = 1u << 21; /* more than n: readers cannot be lapped */
    cfg.journal = 0; /* rings and the log under test; durability has its own tests */
    engine_t *e;
    err_t err = {0};
    CHECK_EQ(engine_open(&e, &cfg, &err), 0);
    int ready[2];
    CHECK_EQ(pipe(ready), 0);
    pid_t readers[2];
    for (int i = 0; i < 2; i++) {
        readers[i] = fork();
        if (readers[i] == 0)
            read_events(cfg.instance, n, ready[1]);
    }
    char b;
    for (int i = 0; i < 2; i++)
        CHECK_EQ(read(ready[0], &b, 1), 1);
    pid_t producer = fork();
    if (producer == 0)
        produce(cfg.instance, n);
    idle_t idle;
    idle_init(&idle, IDLE_BACKOFF, 100000);
    while (e->commands < n) {
        if (engine_poll(e) > 0)
            idle_reset(&idle);
        else
            idle_wait(&idle);
    }
    int status, ok = 1;
    waitpid(producer, &status, 0);
    ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    for (int i = 0; i < 2; i++) {
        waitpid(readers[i], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "  reader %d: status %d\n", i, status);
            ok = 0;
        }
    }
    CHECK(ok);
    CHECK_EQ(e->commands, n);
    CHECK_EQ(e->events, n);
    engine_close(e);
    shm_remove(cfg.instance, NULL);
    close(ready[0]);
    close(ready[1]);
}

int main(int argc, char **argv)
{
    CHECK_MAIN_BEGIN(argc, argv);
    RUN(test_two_processes_pass_ten_million_records_without_loss);
    RUN(test_commands_flow_through_the_engine_to_reader_processes);
    CHECK_MAIN_END();
}
