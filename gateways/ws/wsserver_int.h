/* wsserver_int.h - what wsserver.c (connections, send queues, frames,
 * timers, the loop) and wshttp.c (the HTTP front door: the upgrade, the page,
 * /healthz) share inside bourse-ws's server. Not a public header. */
#ifndef BOURSE_WSSERVER_INT_H
#define BOURSE_WSSERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wsserver.h"

enum {
    EVENTS_MAX = 256,
    HTTP_HEAD_MAX = 8192,
    READ_CHUNK = 65536,
    READ_PASS_MAX = 256 * 1024,   /* bytes read from one socket per pass: the others get their turn */
    RING_SLACK = 16,              /* control frames beyond queue_max_messages */
    CLOSE_SLACK = 2 + WS_CONTROL_MAX,
    TICK_MS = 50,
};
static const uint64_t NS_PER_MS = 1000000;

typedef enum conn_state {
    C_FREE = 0,
    C_HTTP,          /* reading the request head */
    C_HTTP_DONE,     /* answer queued; close once written */
    C_OPEN,
    C_CLOSING,       /* our close frame is queued; waiting for it to go and the client's */
} conn_state_t;

typedef struct conn {
    int fd;
    uint32_t gen;
    uint8_t state;
    bool dirty;              /* in the flush list */
    bool again;              /* in the read-again list */
    bool close_rcvd, close_out, wr_shut;
    bool notify;             /* on_close owed (was opened) */
    bool listed;             /* in the closed list: on_close not delivered yet */
    bool broken;             /* a protocol error: input is discarded from here */
    uint16_t close_code;
    char close_why[96];
    /* input */
    uint8_t *in;
    uint32_t in_len, in_cap;
    uint8_t *msg;            /* a fragmented message being reassembled */
    uint32_t msg_len, msg_cap;
    bool in_msg;
    /* output */
    uint8_t *out;
    size_t head, len, cap;
    uint64_t base;           /* absolute position of out[0] */
    uint64_t *ends;          /* ring of frame ends, absolute */
    uint32_t ends_head, ends_n, ends_cap;
    uint64_t done_end;       /* end of the last frame fully sent */
    /* timers */
    uint64_t last_rx_ns, next_ping_ns, deadline_ns;
    struct sockaddr_storage peer;
} conn_t;

struct wss {
    wss_config_t cfg;
    wss_ops_t ops;
    void *ctx;
    int lfd, epfd;
    uint16_t port;
    conn_t *conns;
    uint32_t *free_idx, nfree;
    uint32_t *dirty, ndirty;
    uint32_t *again, nagain;
    uint32_t *closed, nclosed;   /* on_close owed, in order */
    uint32_t nconns;
    uint32_t ring_max;
    uint64_t next_tick_ns;
    wss_stats_t st;
    uint8_t rbuf[READ_CHUNK];
};


static inline wsc_t conn_id(const wss_t *s, const conn_t *c)
{
    return (uint64_t)c->gen << 32 | (uint32_t)(c - s->conns);
}

/* Frees a connection's slot now (no on_close). */
void wss_conn_free(wss_t *s, conn_t *c);
/* Ends a connection now; its on_close, if owed, comes from wss_poll. */
void wss_conn_drop(wss_t *s, conn_t *c, uint16_t code, const char *why);
/* Room for n more bytes in the send buffer, which may grow up to limit. */
bool wss_reserve_out(conn_t *c, size_t n, size_t limit);
/* Lists c for the next flush. */
void wss_mark_dirty(wss_t *s, conn_t *c);
/* Queues a frame; control frames may use the slack past the bounds.
 * Returns 0 or -ENOBUFS. */
int wss_enqueue(wss_t *s, conn_t *c, const uint8_t *p, size_t n, bool control);

/* wshttp.c: handles the request head in c->in, if complete: answers it (the
 * connection then closes) or upgrades the connection (on_open). */
void wss_http_request(wss_t *s, conn_t *c);

#endif
