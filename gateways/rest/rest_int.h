/* rest_int.h - what rest.c (the loop, auth, replies) and routes.c (the
 * endpoints) share inside bourse-rest. Not a public header. */
#ifndef BOURSE_REST_INT_H
#define BOURSE_REST_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "accesslog.h"
#include "answer.h"
#include "auth.h"
#include "http.h"
#include "jsonw.h"
#include "keystore.h"
#include "keywatch.h"
#include "link.h"
#include "publish.h"
#include "rest_metrics.h"
#include "ratelimit.h"
#include "refdata.h"
#include "request.h"
#include "rest.h"
#include "server.h"
#include "tradecache.h"

enum {
    CALL_PATH_MAX = 160,          /* path kept for the access log (truncated) */
    TRADES_LIMIT_MAX = 1000,
    TRADES_LIMIT_DEFAULT = 100,
    BOOK_DEPTH_DEFAULT = 20,
};

/* Collect caps per kind of answer: a book has 2 x depth levels, a page of
 * orders QUERY_ORDERS_MAX, the reference data every asset and instrument. */
enum {
    COLLECT_ORDER_MAX = 4096,
    COLLECT_QUERY_MAX = 2 * QUERY_DEPTH_MAX + 8,
    COLLECT_REFDATA_MAX = 1 << 17,
};

typedef struct rest rest_t;
typedef struct call call_t;

typedef struct route {
    const char *method;
    const char *pattern;       /* "/v1/orders/{}": {} matches one path segment */
    const char *name;          /* for metrics and logs */
    auth_need_t need;
    bool public_;              /* no authentication (health) */
    bool engine;               /* needs a ready engine link (else 503) */
    /* Starts the request; answers it now or sends a command. */
    void (*start)(rest_t *r, call_t *c, const http_request_t *req, const char *param, size_t param_len);
    /* The engine's answer to the command it sent is complete. */
    void (*finish)(rest_t *r, call_t *c);
} route_t;

/* The request a connection is serving (one at a time per connection). */
struct call {
    conn_id_t conn;
    uint64_t rid;
    uint64_t t0_ns;
    const route_t *route;
    int route_index;
    char method[HTTP_METHOD_MAX + 1];
    char path[CALL_PATH_MAX];
    char addr[48];
    char key_id[KS_KEY_ID_MAX + 1];
    bool authed;
    uint32_t account;
    auth_role_t role;
    rl_info_t rl;
    bool rl_set;
    bool waiting;              /* a command is at the engine */
    uint64_t cmd_seq;
    uint64_t bytes_in;
    rec_t cmd;                 /* the command sent */
    int phase;                 /* multi-step routes (amend: look up, then amend) */
    uint32_t instrument;       /* route state */
    uint64_t order_id, client_order_id;
    const char *body;          /* the request body, valid while the call lasts */
    uint32_t body_len;
    collect_t col;
    /* Held back by the key store's reload bound: the request (its bytes stay
     * in the connection's buffer until answered) and its route's parameter,
     * taken up again once the store is reread. held_req is allocated at the
     * first hold and kept, like col. */
    bool held;
    http_request_t *held_req;
    const char *param;
    size_t param_len;
};

struct rest {
    rest_config_t cfg;
    server_t *srv;
    link_t *link;
    keywatch_t *kw;            /* the key store, as current as its file */
    uint32_t ks_held;          /* calls held back until the store is reread */
    uint64_t ks_retry_ns;      /* when the first of them may ask again */
    ratelimit_t *rl_key, *rl_addr;
    auth_replay_t *replay;
    refdata_t rd, rd_next;
    bool rd_loaded;            /* rd reflects the attached engine */
    bool rd_querying, rd_dirty;
    tradecache_t tc;
    call_t *calls;             /* by connection index */
    jw_t jw;
    alog_t alog;
    rest_metrics_t metrics;
    rest_pub_t pub;            /* the same, on our metrics page in the segment */
    uint64_t rid_base, rid_next;
    const tc_trade_t **tbuf;
    char detach_why[128];
};

extern const route_t rest_routes[];
extern const unsigned rest_nroutes;

/* Replies with the body in r->jw and ends the call. */
void rest_reply(rest_t *r, call_t *c, int status);
/* Replies with an error body. */
void rest_reply_error(rest_t *r, call_t *c, const rest_err_t *e);
void rest_reply_fail(rest_t *r, call_t *c, int status, const char *code, const char *message);
/* Sends c->cmd to the engine; its events are collected (up to collect_max;
 * orders_only drops book and balance updates) and the route's finish runs
 * when complete. On failure the call is answered (503) and -1 returned. */
int rest_send(rest_t *r, call_t *c, uint32_t collect_max, bool orders_only);
/* True when the engine is attached and the reference data loaded. */
bool rest_ready(const rest_t *r);
/* An admin request reread the key store (keywatch_sync): the requests held
 * until a reread are taken up on the loop's next pass. */
void rest_keystore_synced(rest_t *r);
/* Applies an admin command that took effect to the reference data. */
void rest_refdata_apply(rest_t *r, const rec_t *cmd);

#endif
