/* mainopt.h - how every long-running bourse process starts (bourse-engine,
 * bourse-rest, bourse-ws): the options they share (-c FILE, -i INSTANCE,
 * --print-config, -h, -V), the configuration from the file or else the
 * environment with -i on top, and SIGINT/SIGTERM as a stop flag. Messages
 * go to stderr after the program's name; main() decides how to exit. Set-up
 * only, from main()'s thread. */
#ifndef BOURSE_MAINOPT_H
#define BOURSE_MAINOPT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "inicfg.h"

typedef struct mainopt {
    /* the caller's */
    const char *prog;             /* "bourse-ws": in -V and every message */
    void (*usage)(FILE *f);       /* -h writes it to stdout */
    const inicfg_t *ini;          /* the process's configuration keys */
    const char *section;          /* -i sets the key instance of this section */
    bool operands;                /* options stop at the first operand, which main() reads (bourse-rest keys);
                                     else an operand is a usage error */
    /* mainopt_parse's */
    const char *config_path;      /* -c; NULL: the built-in defaults and the environment */
    const char *instance;         /* -i; NULL: the configuration's */
    bool print_config;
    int next;                     /* argv index of the first operand; argc when there is none */
} mainopt_t;

enum { MAINOPT_RUN = -1 };

/* Reads the options in argv. Returns MAINOPT_RUN when main() goes on, else
 * the status main() returns at once: 0 after -h or -V, 2 after a usage error
 * (said on stderr). */
int mainopt_parse(mainopt_t *o, int argc, char **argv);

/* Loads cfg, which holds its defaults, from the -c file (environment
 * overrides included), else from the environment alone, then sets the -i
 * instance. Returns 0 or a negative errno with err set. */
int mainopt_config(const mainopt_t *o, void *cfg, err_t *err);

/* Installs the handlers: SIGINT and SIGTERM set the flag returned (the
 * process's loop stops when it sees it); SIGPIPE is ignored, so a peer gone
 * mid-write is an error return, not the process's end. */
const atomic_bool *mainopt_stop_on_signals(void);

#endif
