/* main_ws.c - bourse-ws: the WebSocket market-data gateway and its live page. */
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>

#include "log.h"
#include "mainopt.h"
#include "ws.h"
#include "ws_config.h"

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
    mainopt_t o = {.prog = "bourse-ws", .usage = usage, .ini = &ws_config_ini, .section = "ws"};
    int rc = mainopt_parse(&o, argc, argv);
    if (rc != MAINOPT_RUN)
        return rc;
    ws_config_t cfg;
    err_t err = {0};
    ws_config_defaults(&cfg);
    rc = mainopt_config(&o, &cfg, &err);
    if (rc == 0)
        rc = ws_config_check(&cfg, &err);
    if (rc < 0) {
        fprintf(stderr, "bourse-ws: %s\n", err.msg);
        return 1;
    }
    if (o.print_config) {
        inicfg_write(&ws_config_ini, &cfg, stdout);
        return 0;
    }

    log_init("ws", LOG_INFO);
    const atomic_bool *stop = mainopt_stop_on_signals();

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
    ws_run(w, stop);
    ws_close(w);
    return 0;
}
