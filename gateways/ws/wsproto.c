/* wsproto.c - see wsproto.h. */
#include "wsproto.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* ---------------------------------------------------------------- frames */

static bool opcode_known(uint8_t op)
{
    return op == WS_OP_CONT || op == WS_OP_TEXT || op == WS_OP_BINARY || op == WS_OP_CLOSE || op == WS_OP_PING ||
           op == WS_OP_PONG;
}

int ws_frame_decode(const uint8_t *buf, size_t n, uint64_t max_len, ws_frame_t *f, uint16_t *close_code)
{
    if (n < 2)
        return 0;
    uint8_t b0 = buf[0], b1 = buf[1];
    f->fin = (b0 & 0x80) != 0;
    f->opcode = b0 & 0x0f;
    f->masked = (b1 & 0x80) != 0;
    *close_code = WS_CLOSE_PROTOCOL;
    /* no extension is negotiated, so every reserved bit must be 0 */
    if ((b0 & 0x70) != 0 || !opcode_known(f->opcode) || !f->masked)
        return -1;
    bool control = (f->opcode & 0x8) != 0;
    uint64_t len = b1 & 0x7f;
    size_t h = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)buf[2] << 8 | buf[3];
        if (len < 126)
            return -1; /* not the minimal encoding */
        h = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | buf[2 + i];
        if (len >> 63 || len <= 0xffff)
            return -1;
        h = 10;
    }
    if (control && (!f->fin || len > WS_CONTROL_MAX))
        return -1;
    if (len > max_len) {
        *close_code = WS_CLOSE_TOO_BIG;
        return -1;
    }
    if (n < h + 4)
        return 0;
    memcpy(f->mask, buf + h, 4);
    f->len = len;
    f->hdr_len = (uint32_t)(h + 4);
    return (int)f->hdr_len;
}

void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
    size_t i = 0;
    /* a word at a time once aligned to the mask's phase */
    uint8_t m[4];
    for (int k = 0; k < 4; k++)
        m[k] = mask[(offset + (uint64_t)k) & 3];
    uint64_t m8;
    uint8_t mm[8] = {m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]};
    memcpy(&m8, mm, 8);
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w ^= m8;
        memcpy(p + i, &w, 8);
    }
    for (; i < n; i++)
        p[i] ^= m[i & 3];
}

size_t ws_frame_header(uint8_t out[WS_SERVER_HDR_MAX], uint8_t opcode, uint64_t len)
{
    out[0] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

const uint8_t *ws_frame_json(jw_t *w, size_t *n)
{
    uint8_t h[WS_SERVER_HDR_MAX];
    size_t hl = ws_frame_header(h, WS_OP_TEXT, w->len);
    const uint8_t *start = (const uint8_t *)jw_prepend(w, h, hl);
    if (start != NULL)
        *n = hl + w->len;
    return start;
}

size_t ws_close_frame(uint8_t out[2 + WS_CONTROL_MAX], uint16_t code, const char *reason)
{
    size_t rlen = reason ? strlen(reason) : 0;
    if (rlen > WS_CONTROL_MAX - 2)
        rlen = WS_CONTROL_MAX - 2;
    out[0] = 0x80 | WS_OP_CLOSE;
    out[1] = (uint8_t)(2 + rlen);
    out[2] = (uint8_t)(code >> 8);
    out[3] = (uint8_t)code;
    if (rlen)
        memcpy(out + 4, reason, rlen);
    return 4 + rlen;
}

static bool close_code_sendable(uint16_t c)
{
    if (c >= 3000 && c <= 4999)
        return true;
    return c >= 1000 && c <= 1014 && c != 1004 && c != 1005 && c != 1006;
}

int ws_close_parse(const uint8_t *p, size_t n, uint16_t *code)
{
    if (n == 0) {
        *code = WS_CLOSE_NO_STATUS;
        return 0;
    }
    if (n == 1)
        return -1;
    *code = (uint16_t)(p[0] << 8 | p[1]);
    if (!close_code_sendable(*code) || !ws_utf8_valid(p + 2, n - 2))
        return -1;
    return 0;
}

bool ws_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

int ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
    uint8_t buf[64 + sizeof(WS_GUID)];
    if (len > 64)
        return -EINVAL;
    memcpy(buf, key, len);
    memcpy(buf + len, WS_GUID, sizeof(WS_GUID) - 1);
    uint8_t md[SHA_DIGEST_LENGTH];
    if (SHA1(buf, len + sizeof(WS_GUID) - 1, md) == NULL)
        return -EIO;
    if (EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH) != WS_ACCEPT_LEN)
        return -EIO;
    out[WS_ACCEPT_LEN] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- HTTP */

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* True when the comma-separated list v (n bytes) holds token tok, any case. */
static bool has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
            return true;
    }
    return false;
}

static bool name_is(const char *p, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

int ws_http_parse(const char *buf, size_t n, size_t limit, ws_http_req_t *req)
{
    memset(req, 0, sizeof(*req));
    size_t look = n < limit ? n : limit, end = 0;
    for (size_t i = 3; i < look; i++) {
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            end = i + 1;
            break;
        }
    }
    if (end == 0)
        return n >= limit ? -431 : 0;
    /* request line: METHOD SP TARGET SP HTTP/1.x CRLF */
    size_t i = 0;
    while (i < end && is_tchar(buf[i]))
        i++;
    if (i == 0 || i >= end || buf[i] != ' ')
        return -400;
    req->method = (ws_http_field_t){buf, (uint32_t)i};
    size_t t = ++i;
    while (i < end && buf[i] > ' ' && buf[i] < 0x7f)
        i++;
    if (i == t || i >= end || buf[i] != ' ' || buf[t] != '/' || i - t > WS_HTTP_TARGET_MAX)
        return -400;
    req->target = (ws_http_field_t){buf + t, (uint32_t)(i - t)};
    const char *q = memchr(buf + t, '?', i - t);
    req->path_len = q ? (uint32_t)(q - (buf + t)) : (uint32_t)(i - t);
    i++;
    if (end - i < 10 || memcmp(buf + i, "HTTP/", 5) != 0)
        return -400;
    if (memcmp(buf + i + 5, "1.", 2) != 0)
        return -505;
    if ((buf[i + 7] != '1' && buf[i + 7] != '0') || buf[i + 8] != '\r' || buf[i + 9] != '\n')
        return -505;
    i += 10;
    unsigned nh = 0;
    while (i < end - 2) {
        size_t ns = i;
        while (i < end && is_tchar(buf[i]))
            i++;
        if (i == ns || i >= end || buf[i] != ':')
            return -400;
        size_t nl = i - ns;
        i++;
        while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        size_t vs = i;
        while (i < end && buf[i] != '\r') {
            unsigned char c = (unsigned char)buf[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return -400;
            i++;
        }
        if (i + 1 >= end || buf[i + 1] != '\n')
            return -400;
        size_t ve = i;
        while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
            ve--;
        i += 2;
        if (++nh > WS_HTTP_HEADERS_MAX)
            return -431;
        const char *name = buf + ns, *v = buf + vs;
        uint32_t vl = (uint32_t)(ve - vs);
        ws_http_field_t fv = {v, vl};
        if (name_is(name, nl, "upgrade"))
            req->upgrade_websocket = has_token(v, vl, "websocket");
        else if (name_is(name, nl, "connection"))
            req->connection_upgrade = has_token(v, vl, "upgrade");
        else if (name_is(name, nl, "sec-websocket-version"))
            req->version_13 = vl == 2 && memcmp(v, "13", 2) == 0;
        else if (name_is(name, nl, "sec-websocket-key"))
            req->key = fv;
        else if (name_is(name, nl, "x-bourse-key"))
            req->auth_key = fv;
        else if (name_is(name, nl, "x-bourse-timestamp"))
            req->auth_ts = fv;
        else if (name_is(name, nl, "x-bourse-signature"))
            req->auth_sig = fv;
    }
    req->header_bytes = (uint32_t)end;
    return (int)end;
}
