/* fuzz_ws.c - libFuzzer target for bourse-ws's parsers of client input
 * (gateways/ws/wsmsg.c, wsproto.c). The first byte picks the parser:
 *   0: a client message (JSON) - parses or refuses with a stable code, and
 *      whatever parses names a known op and channel, with bounded strings
 *      (orders: a known side, type and tif; cancels: exactly one id);
 *   1: a frame stream - headers decoded one after the other as the server
 *      does, each length within its bound, unmasking in place;
 *   2: an HTTP upgrade request head;
 *   3: a close frame payload and UTF-8 validation.
 * Nothing may crash, read out of bounds or leak (ASan, UBSan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "wsmsg.h"
#include "wsproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_MESSAGE_BYTES = 4096 };

static void message(const uint8_t *p, size_t n)
{
    ws_req_t r;
    ws_msg_err_t e;
    if (wsmsg_parse((const char *)p, n, &r, &e) < 0) {
        if (e.code == NULL || strlen(e.message) >= sizeof(e.message))
            abort();
        return;
    }
    if ((unsigned)r.op > WSOP_CANCEL || (unsigned)r.channel >= CH_COUNT)
        abort();
    if (strlen(r.symbol) > WSMSG_SYMBOL_MAX || strlen(r.id) > WSMSG_ID_MAX || strlen(r.key) > WSMSG_KEY_MAX ||
        strlen(r.sig) > WSMSG_SIG_MAX || strlen(r.price) > WSMSG_DEC_MAX || strlen(r.qty) > WSMSG_DEC_MAX)
        abort();
    if ((r.op == WSOP_SUBSCRIBE || r.op == WSOP_UNSUBSCRIBE) && !wsmsg_channel_private(r.channel) && r.symbol[0] == 0)
        abort();
    if (r.op == WSOP_ORDER && (r.side > SIDE_SELL || r.type > ORD_MARKET || r.tif > TIF_FOK || r.qty[0] == 0))
        abort();
    if (r.op == WSOP_CANCEL && (r.order_id == 0) == (r.client_order_id == 0))
        abort();
}

static void frames(const uint8_t *data, size_t n)
{
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return;
    memcpy(buf, data, n);
    size_t pos = 0;
    while (pos < n) {
        ws_frame_t f;
        uint16_t code;
        int h = ws_frame_decode(buf + pos, n - pos, MAX_MESSAGE_BYTES, &f, &code);
        if (h < 0) {
            if (code != WS_CLOSE_PROTOCOL && code != WS_CLOSE_TOO_BIG)
                abort();
            break;
        }
        if (h == 0 || n - pos - (size_t)h < f.len)
            break;
        if (f.len > MAX_MESSAGE_BYTES || ((f.opcode & 8) && f.len > WS_CONTROL_MAX))
            abort();
        ws_unmask(buf + pos + h, (size_t)f.len, f.mask, 0);
        if (f.opcode == WS_OP_TEXT)
            ws_utf8_valid(buf + pos + h, (size_t)f.len);
        pos += (size_t)h + (size_t)f.len;
    }
    free(buf);
}

static void http(const uint8_t *p, size_t n)
{
    ws_http_req_t q;
    int rc = ws_http_parse((const char *)p, n, 8192, &q);
    if (rc > 0) {
        if ((size_t)rc > n || q.path_len > q.target.len || q.target.len == 0 || q.target.p[0] != '/')
            abort();
        char accept[WS_ACCEPT_LEN + 1];
        if (q.key.len > 0)
            ws_accept_key(q.key.p, q.key.len, accept);
    } else if (rc < 0 && rc != -400 && rc != -431 && rc != -505) {
        abort();
    }
}

static void close_payload(const uint8_t *p, size_t n)
{
    uint16_t code;
    if (ws_close_parse(p, n, &code) == 0 && n >= 2 && code < 1000)
        abort();
    uint8_t out[2 + WS_CONTROL_MAX];
    char reason[200];
    size_t k = n < sizeof(reason) - 1 ? n : sizeof(reason) - 1;
    memcpy(reason, p, k);
    reason[k] = '\0';
    if (ws_close_frame(out, 4001, reason) > sizeof(out))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: message(p, n); break;
    case 1: frames(p, n); break;
    case 2: http(p, n); break;
    case 3: close_payload(p, n); break;
    }
    return 0;
}
