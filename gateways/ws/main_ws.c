/* main_ws.c - bourse-ws: the WebSocket market-data gateway and its live page. */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "version.h"
#include "ws.h"
#include "ws_config.h"

/* The signal handler's only way in. */
static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store_explicit(&stop_requested, true, memory_order_relaxed);
}

static void usage(FILE *f)
{
    fputs("usage: bourse-ws [-c FILE] [-i INSTANCE] [--print-config]\n"
          "  -c, --config FILE     INI configuration, section [ws] (default: built-in defaults)\n"
          "  -i, --instance NAME   engine instance, overrides [ws] instance\n"
          "      --print-config    print the effective configuration and exit\n"
          "  -h, --help            this text;  -V, --version  the version\n"
          "The live page is served at http://LISTEN:PORT/, the WebSocket at ws://LISTEN:PORT/ws.\n"
          "API keys come from bourse-rest's key store (bourse-rest keys create).\n"
          "Environment: BOURSE_WS_<KEY> overrides a key, e.g. BOURSE_WS_PORT=9091\n",
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
        case 'V': printf("bourse-ws %s\n", BOURSE_VERSION); return 0;
        case ':':
            fprintf(stderr, "bourse-ws: option '%s' needs a value (see --help)\n", argv[optind - 1]);
            return 2;
        default:
            if (optopt != 0)
                fprintf(stderr, "bourse-ws: unknown option '-%c' (see --help)\n", optopt);
            else
                fprintf(stderr, "bourse-ws: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bourse-ws: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    ws_config_t cfg;
    err_t err = {0};
    ws_config_defaults(&cfg);
    int rc = config_path ? ws_config_load(&cfg, config_path, &err) : ws_config_env(&cfg, &err);
    if (rc == 0 && instance != NULL)
        rc = ws_config_set(&cfg, "ws", "instance", instance, &err);
    if (rc == 0)
        rc = ws_config_check(&cfg, &err);
    if (rc < 0) {
        fprintf(stderr, "bourse-ws: %s\n", err.msg);
        return 1;
    }
    if (print_config) {
        ws_config_write(&cfg, stdout);
        return 0;
    }

    log_init("ws", LOG_INFO);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* a descriptor a client: the usual soft limit of 1024 would cap max_connections */
    struct rlimit rl;
    rlim_t want = (rlim_t)cfg.max_connections + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
            log_warn("open files limited to %llu: fewer than max_connections = %u clients can connect",
                     (unsigned long long)rl.rlim_cur, cfg.max_connections);
    }

    ws_t *w;
    if (ws_open(&w, &cfg, &err) < 0) {
        fprintf(stderr, "bourse-ws: %s\n", err.msg);
        return 1;
    }
    ws_run(w, &stop_requested);
    ws_close(w);
    return 0;
}
