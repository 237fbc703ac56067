/* wshttp.c - bourse-ws's HTTP front door (see wsserver.h): a request head
 * becomes the WebSocket upgrade (101 and on_open), the page (GET /), /healthz,
 * or an error answer after which the connection closes. */
#include "wsserver_int.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"

/* ---------------------------------------------------------------- HTTP */

static void http_answer(wss_t *s, conn_t *c, int status, const char *ctype, const void *body, size_t blen,
                        const char *extra)
{
    const char *text = status == 200   ? "OK"
                       : status == 400 ? "Bad Request"
                       : status == 404 ? "Not Found"
                       : status == 405 ? "Method Not Allowed"
                       : status == 426 ? "Upgrade Required"
                       : status == 431 ? "Request Header Fields Too Large"
                       : status == 503 ? "Service Unavailable"
                       : status == 505 ? "HTTP Version Not Supported"
                                       : "Error";
    char h[512];
    int n = snprintf(h, sizeof(h),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-cache\r\n"
                     "Connection: close\r\n%s\r\n",
                     status, text, ctype, blen, extra ? extra : "");
    c->state = C_HTTP_DONE;
    c->deadline_ns = clock_mono_ns() + s->cfg.close_timeout_ms * NS_PER_MS;
    size_t limit = (size_t)n + blen + 64;
    if (!wss_reserve_out(c, (size_t)n + blen, limit)) {
        wss_conn_free(s, c);
        return;
    }
    memcpy(c->out + c->len, h, (size_t)n);
    c->len += (size_t)n;
    if (blen)
        memcpy(c->out + c->len, body, blen);
    c->len += blen;
    wss_mark_dirty(s, c);
}

static void http_error(wss_t *s, conn_t *c, int status, const char *code, const char *message, const char *extra)
{
    char b[256];
    int n = snprintf(b, sizeof(b), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, message);
    http_answer(s, c, status, "application/json", b, (size_t)n, extra);
}

static bool path_is(const ws_http_req_t *r, const char *p)
{
    return r->path_len == strlen(p) && memcmp(r->target.p, p, r->path_len) == 0;
}

static void upgrade(wss_t *s, conn_t *c, const ws_http_req_t *req)
{
    if (!req->version_13) {
        http_error(s, c, 426, "bad-version", "Sec-WebSocket-Version must be 13", "Sec-WebSocket-Version: 13\r\n");
        return;
    }
    char accept[WS_ACCEPT_LEN + 1];
    if (!req->connection_upgrade || req->key.len != WS_KEY_LEN ||
        ws_accept_key(req->key.p, req->key.len, accept) < 0) {
        http_error(s, c, 400, "bad-upgrade", "a WebSocket upgrade needs Connection: Upgrade and a Sec-WebSocket-Key",
                   NULL);
        return;
    }
    char h[256];
    int n = snprintf(h, sizeof(h),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    c->state = C_OPEN;
    c->notify = true;
    uint64_t now = clock_mono_ns();
    c->last_rx_ns = now;
    c->next_ping_ns = now + s->cfg.ping_interval_ms * NS_PER_MS;
    c->deadline_ns = 0;
    if (wss_enqueue(s, c, (const uint8_t *)h, (size_t)n, true) < 0) {
        wss_conn_drop(s, c, WS_CLOSE_INTERNAL, "out of memory");
        return;
    }
    s->st.upgrades++;
    s->ops.on_open(s->ctx, conn_id(s, c), req, &c->peer);
}

void wss_http_request(wss_t *s, conn_t *c)
{
    ws_http_req_t req;
    int n = ws_http_parse((const char *)c->in, c->in_len, HTTP_HEAD_MAX, &req);
    if (n == 0)
        return;
    s->st.http_requests++;
    if (n < 0) {
        http_error(s, c, -n, n == -431 ? "headers-too-large" : n == -505 ? "http-version" : "bad-request",
                   "malformed HTTP request", NULL);
        return;
    }
    /* anything after the head belongs to the WebSocket stream */
    memmove(c->in, c->in + n, c->in_len - (uint32_t)n);
    c->in_len -= (uint32_t)n;
    bool get = req.method.len == 3 && memcmp(req.method.p, "GET", 3) == 0;
    if (!get) {
        http_error(s, c, 405, "method-not-allowed", "only GET is served here", "Allow: GET\r\n");
    } else if (req.upgrade_websocket) {
        if (path_is(&req, "/ws") || path_is(&req, "/"))
            upgrade(s, c, &req);
        else
            http_error(s, c, 404, "not-found", "WebSocket connections go to /ws", NULL);
    } else if (path_is(&req, "/") || path_is(&req, "/index.html")) {
        http_answer(s, c, 200, "text/html; charset=utf-8", s->cfg.page, s->cfg.page_len, NULL);
    } else if (path_is(&req, "/healthz")) {
        bool ready = s->ops.ready(s->ctx);
        char b[128];
        int bn = snprintf(b, sizeof(b), "{\"ok\":true,\"ready\":%s,\"connections\":%u}", ready ? "true" : "false",
                          s->nconns);
        http_answer(s, c, ready ? 200 : 503, "application/json", b, (size_t)bn, NULL);
    } else {
        http_error(s, c, 404, "not-found", "no such path: the page is /, the WebSocket /ws", NULL);
    }
}

