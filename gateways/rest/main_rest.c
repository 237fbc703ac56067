/* main_rest.c - bourse-rest: the REST order-entry gateway, and `bourse-rest
 * keys` to create, revoke and list API keys in its key store. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "log.h"
#include "mainopt.h"
#include "rest.h"
#include "rest_config.h"

static void usage(FILE *f)
{
    fputs("usage: bourse-rest [-c FILE] [-i INSTANCE] [--print-config]\n"
          "       bourse-rest [-c FILE] keys create --role ROLE --account N\n"
          "       bourse-rest [-c FILE] keys revoke KEY_ID\n"
          "       bourse-rest [-c FILE] keys list\n"
          "  -c, --config FILE     INI configuration, section [rest] (default: built-in defaults)\n"
          "  -i, --instance NAME   engine instance, overrides [rest] instance\n"
          "      --print-config    print the effective configuration and exit\n"
          "  keys create           prints BOURSE_KEY=... and BOURSE_SECRET=... (shown once);\n"
          "                        ROLE is read-only, trader or admin\n"
          "  -h, --help            this text;  -V, --version  the version\n"
          "Environment: BOURSE_REST_<KEY> overrides a key, e.g. BOURSE_REST_PORT=9090\n",
          f);
}

static int keys_open(const rest_config_t *cfg, keystore_t **ks, int *lock)
{
    err_t err = {0};
    *lock = keystore_lock(cfg->keystore, &err);
    if (*lock < 0 || keystore_open(ks, cfg->keystore, cfg->master_key, &err) < 0) {
        fprintf(stderr, "bourse-rest keys: %s\n", err.msg);
        keystore_unlock(*lock);
        return -1;
    }
    return 0;
}

static int keys_create(const rest_config_t *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'}, {"account", required_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    const char *role_s = NULL, *account_s = NULL;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (opt) {
        case 'r': role_s = optarg; break;
        case 'a': account_s = optarg; break;
        case ':':
            fprintf(stderr, "bourse-rest keys create: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "bourse-rest keys create: unknown option '%s'\n", argv[optind - 1]);
            return 2;
        }
    }
    auth_role_t role;
    if (optind < argc) {
        fprintf(stderr, "bourse-rest keys create: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (role_s == NULL || auth_role_parse(role_s, strlen(role_s), &role) < 0) {
        fprintf(stderr, "bourse-rest keys create: --role must be read-only, trader or admin\n");
        return 2;
    }
    char *end;
    errno = 0;
    unsigned long long account = account_s ? strtoull(account_s, &end, 10) : 0;
    if (account_s == NULL || *account_s == '\0' || *account_s == '-' || *end != '\0' || errno != 0 ||
        account > UINT32_MAX) {
        fprintf(stderr, "bourse-rest keys create: --account needs an account number from 0 to %u\n", UINT32_MAX);
        return 2;
    }
    keystore_t *ks;
    int lock;
    if (keys_open(cfg, &ks, &lock) < 0)
        return 1;
    char id[KS_KEY_ID_MAX + 1], hex[KS_SECRET_HEX_LEN + 1];
    uint8_t secret[KS_SECRET_BYTES];
    err_t err = {0};
    int rc = keystore_create(ks, role, (uint32_t)account, id, secret, &err);
    keystore_close(ks);
    keystore_unlock(lock);
    if (rc < 0) {
        fprintf(stderr, "bourse-rest keys create: %s\n", err.msg);
        return 1;
    }
    keystore_secret_hex(secret, hex);
    printf("BOURSE_KEY=%s\nBOURSE_SECRET=%s\n", id, hex);
    fprintf(stderr, "created key %s (role %s, account %llu); its secret is shown this once\n", id,
            auth_role_name(role), account);
    explicit_bzero(secret, sizeof(secret));
    explicit_bzero(hex, sizeof(hex));
    return 0;
}

static int keys_cmd(const rest_config_t *cfg, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "bourse-rest keys: create, revoke or list (see --help)\n");
        return 2;
    }
    if (strcmp(argv[1], "create") == 0)
        return keys_create(cfg, argc - 1, argv + 1);
    if (strcmp(argv[1], "revoke") == 0 || strcmp(argv[1], "list") == 0) {
        bool revoke = argv[1][0] == 'r';
        if (argc != (revoke ? 3 : 2)) {
            fprintf(stderr, "bourse-rest keys %s: %s\n", argv[1], revoke ? "needs one KEY_ID" : "takes no argument");
            return 2;
        }
        keystore_t *ks;
        int lock;
        if (keys_open(cfg, &ks, &lock) < 0)
            return 1;
        int rc = 0;
        err_t err = {0};
        if (revoke) {
            rc = keystore_revoke(ks, argv[2], &err);
            if (rc < 0)
                fprintf(stderr, "bourse-rest keys revoke: %s\n",
                        rc == -ENOENT ? "no such key" : err.msg);
        } else {
            size_t n = keystore_list(ks, NULL, 0);
            ks_info_t *all = calloc(n ? n : 1, sizeof(*all));
            if (all != NULL) {
                keystore_list(ks, all, n);
                for (size_t i = 0; i < n; i++)
                    printf("%-32s %-9s account %-10" PRIu32 " %s\n", all[i].key_id, auth_role_name(all[i].role),
                           all[i].account, all[i].revoked ? "revoked" : "active");
                free(all);
            }
        }
        keystore_close(ks);
        keystore_unlock(lock);
        return rc < 0 ? 1 : 0;
    }
    fprintf(stderr, "bourse-rest keys: unknown command '%s' (create, revoke, list)\n", argv[1]);
    return 2;
}

int main(int argc, char **argv)
{
    mainopt_t o = {.prog = "bourse-rest", .usage = usage, .ini = &rest_config_ini, .section = "rest",
                   .operands = true};
    int rc = mainopt_parse(&o, argc, argv);
    if (rc != MAINOPT_RUN)
        return rc;
    rest_config_t cfg;
    err_t err = {0};
    rest_config_defaults(&cfg);
    if (mainopt_config(&o, &cfg, &err) < 0) {
        fprintf(stderr, "bourse-rest: %s\n", err.msg);
        return 1;
    }
    if (o.next < argc) {
        if (strcmp(argv[o.next], "keys") == 0)
            return keys_cmd(&cfg, argc - o.next, argv + o.next);
        fprintf(stderr, "bourse-rest: unexpected argument '%s' (see --help)\n", argv[o.next]);
        return 2;
    }
    if (o.print_config) {
        inicfg_write(&rest_config_ini, &cfg, stdout);
        return 0;
    }

    log_init("rest", LOG_INFO);
    const atomic_bool *stop = mainopt_stop_on_signals();

    rest_t *r;
    if (rest_open(&r, &cfg, &err) < 0) {
        fprintf(stderr, "bourse-rest: %s\n", err.msg);
        return 1;
    }
    rest_run(r, stop);
    rest_close(r);
    return 0;
}
