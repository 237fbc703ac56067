/* mainopt.c - see mainopt.h. */
#include "mainopt.h"

#include <getopt.h>
#include <signal.h>

#include "version.h"

/* The signal handler's only way in; nothing else here is global. */
static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store_explicit(&stop_requested, true, memory_order_relaxed);
}

int mainopt_parse(mainopt_t *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"instance", required_argument, NULL, 'i'},
        {"print-config", no_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    o->config_path = o->instance = NULL;
    o->print_config = false;
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, o->operands ? "+:c:i:hV" : ":c:i:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': o->config_path = optarg; break;
        case 'i': o->instance = optarg; break;
        case 'P': o->print_config = true; break;
        case 'h': o->usage(stdout); return 0;
        case 'V': printf("%s %s\n", o->prog, BOURSE_VERSION); return 0;
        case ':':
            fprintf(stderr, "%s: option '%s' needs a value (see --help)\n", o->prog, argv[optind - 1]);
            return 2;
        default:
            if (optopt != 0)
                fprintf(stderr, "%s: unknown option '-%c' (see --help)\n", o->prog, optopt);
            else
                fprintf(stderr, "%s: unknown option '%s' (see --help)\n", o->prog, argv[optind - 1]);
            return 2;
        }
    }
    o->next = optind;
    if (!o->operands && optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", o->prog, argv[optind]);
        return 2;
    }
    return MAINOPT_RUN;
}

int mainopt_config(const mainopt_t *o, void *cfg, err_t *err)
{
    int rc = o->config_path ? inicfg_load(o->ini, cfg, o->config_path, err) : inicfg_env(o->ini, cfg, err);
    if (rc == 0 && o->instance != NULL)
        rc = inicfg_set(o->ini, cfg, o->section, "instance", o->instance, err);
    return rc;
}

const atomic_bool *mainopt_stop_on_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return &stop_requested;
}
