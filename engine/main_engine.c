/* main_engine.c - bourse-engine: creates the instance's segment and runs the
 * engine loop until SIGINT or SIGTERM, then marks the segment stopped. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "mainopt.h"

static void usage(FILE *f)
{
    fputs("usage: bourse-engine [-c FILE] [-i INSTANCE] [--print-config]\n"
          "  -c, --config FILE     INI configuration (default: built-in defaults)\n"
          "  -i, --instance NAME   instance name, overrides [engine] instance\n"
          "      --print-config    print the effective configuration and exit\n"
          "  -h, --help            this text\n"
          "  -V, --version         print the version\n"
          "Environment: BOURSE_<SECTION>_<KEY> overrides a key, e.g. BOURSE_ENGINE_IDLE=yield\n",
          f);
}

int main(int argc, char **argv)
{
    mainopt_t o = {.prog = "bourse-engine", .usage = usage, .ini = &config_ini, .section = "engine"};
    int rc = mainopt_parse(&o, argc, argv);
    if (rc != MAINOPT_RUN)
        return rc;
    config_t cfg;
    err_t err = {0};
    config_defaults(&cfg);
    if (mainopt_config(&o, &cfg, &err) < 0) {
        fprintf(stderr, "bourse-engine: %s\n", err.msg);
        return 1;
    }
    if (o.print_config) {
        config_write(&cfg, stdout);
        return 0;
    }

    log_init("engine", LOG_INFO);
    const atomic_bool *stop = mainopt_stop_on_signals();

    engine_t *e;
    rc = engine_open(&e, &cfg, &err);
    if (rc < 0) {
        fprintf(stderr, "bourse-engine: %s\n", err.msg);
        return 1;
    }
    if (e->shm->temps_removed > 0)
        log_warn("deleted %" PRIu32 " temporary segment(s) of %s.new.<pid>: engines killed while starting left them",
                 e->shm->temps_removed, e->shm->path);
    const shm_header_t *h = e->shm->hdr;
    char cpu[16] = "unpinned";
    if (cfg.cpu >= 0)
        snprintf(cpu, sizeof(cpu), "%d", cfg.cpu);
    log_info("engine running: instance %s, segment %s (%.1f MiB, generation %" PRIu64
             "), %u command rings of %u, event log of %u, %u readers, idle %s, cpu %s",
             cfg.instance, e->shm->path, (double)h->segment_size / (1 << 20), h->generation,
             cfg.clients, cfg.ring_capacity, cfg.event_log_capacity, cfg.readers, idle_name(cfg.idle),
             cpu);
    rc = engine_run(e, stop, &err);
    if (rc < 0)
        log_error("%s", err.msg);
    log_info("engine stopped after %" PRIu64 " commands, %" PRIu64 " events", e->commands, e->events);
    engine_close(e);
    return rc < 0 ? 1 : 0;
}
