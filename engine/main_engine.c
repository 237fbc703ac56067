/* main_engine.c - bourse-engine: creates the instance's segment and runs the
 * engine loop until SIGINT or SIGTERM, then marks the segment stopped. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "version.h"

/* The signal handler's only way in; nothing else is global. */
static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store_explicit(&stop_requested, true, memory_order_relaxed);
}

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
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"instance", required_argument, NULL, 'i'},
        {"print-config", no_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *instance = NULL;
    bool print_config = false;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":c:i:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'i': instance = optarg; break;
        case 'P': print_config = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("bourse-engine %s\n", BOURSE_VERSION); return 0;
        case ':':
            fprintf(stderr, "bourse-engine: option '%s' needs a value (see --help)\n", argv[optind - 1]);
            return 2;
        default:
            if (optopt != 0)
                fprintf(stderr, "bourse-engine: unknown option '-%c' (see --help)\n", optopt);
            else
                fprintf(stderr, "bourse-engine: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bourse-engine: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }

    config_t cfg;
    err_t err = {0};
    config_defaults(&cfg);
    int rc = config_path ? config_load(&cfg, config_path, &err) : config_env(&cfg, &err);
    if (rc == 0 && instance != NULL)
        rc = config_set(&cfg, "engine", "instance", instance, &err);
    if (rc < 0) {
        fprintf(stderr, "bourse-engine: %s\n", err.msg);
        return 1;
    }
    if (print_config) {
        config_write(&cfg, stdout);
        return 0;
    }

    log_init("engine", LOG_INFO);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    engine_t *e;
    rc = engine_open(&e, &cfg, &err);
    if (rc < 0) {
        fprintf(stderr, "bourse-engine: %s\n", err.msg);
        return 1;
    }
    const shm_header_t *h = e->shm->hdr;
    char cpu[16] = "unpinned";
    if (cfg.cpu >= 0)
        snprintf(cpu, sizeof(cpu), "%d", cfg.cpu);
    log_info("engine running: instance %s, segment %s (%.1f MiB, generation %" PRIu64
             "), %u command rings of %u, event log of %u, %u readers, idle %s, cpu %s",
             cfg.instance, e->shm->path, (double)h->segment_size / (1 << 20), h->generation,
             cfg.clients, cfg.ring_capacity, cfg.event_log_capacity, cfg.readers, idle_name(cfg.idle),
             cpu);
    rc = engine_run(e, &stop_requested, &err);
    if (rc < 0)
        log_error("%s", err.msg);
    log_info("engine stopped after %" PRIu64 " commands, %" PRIu64 " events", e->commands, e->events);
    engine_close(e);
    return rc < 0 ? 1 : 0;
}
