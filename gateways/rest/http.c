/* http.c - see http.h. One pass over the header block once it is complete
 * (a partial request line is checked early so that garbage is refused at
 * once, not after a timeout), then the body by Content-Length or by chunks. */
#include "http.h"

#include <string.h>
#include <strings.h>

enum {
    LEADING_CRLF_MAX = 4,     /* empty lines tolerated before a request line */
    VERSION_LEN = 8,          /* "HTTP/1.1" */
    CONTENT_LENGTH_DIGITS = 18,
    CHUNK_SIZE_DIGITS = 8,
};

static int refuse(http_request_t *req, int status, const char *why)
{
    req->error = why;
    return -status;
}

/* tchar of RFC 9110: the characters of a token (method, header name). */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool lower_eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* The request line, possibly incomplete. Returns its length including the
 * CRLF, 0 when it is plausible but incomplete, or a refusal. */
static int request_line(const char *b, size_t len, http_request_t *req)
{
    size_t i = 0;
    while (i < len && b[i] >= 'A' && b[i] <= 'Z')
        i++;
    if (i > HTTP_METHOD_MAX || (i < len && (i == 0 || b[i] != ' ')))
        return refuse(req, 400, "malformed request line");
    if (i == len)
        return 0;
    req->method = b;
    req->method_len = (uint32_t)i;
    size_t t = ++i;
    while (i < len && b[i] != ' ') {
        unsigned char c = (unsigned char)b[i];
        if (c <= ' ' || c >= 0x7f || c == '#')
            return refuse(req, 400, "malformed request target");
        if (i - t >= HTTP_TARGET_MAX)
            return refuse(req, 414, "request target too long");
        i++;
    }
    if (i == len)
        return 0;
    if (i == t || b[t] != '/')
        return refuse(req, 400, "request target must be a path starting with /");
    req->target = b + t;
    req->target_len = (uint32_t)(i - t);
    const char *q = memchr(req->target, '?', req->target_len);
    req->path_len = q ? (uint32_t)(q - req->target) : req->target_len;
    size_t v = ++i;
    size_t have = len - v < VERSION_LEN + 2 ? len - v : VERSION_LEN + 2;
    static const char want[] = "HTTP/1.1\r\n";
    for (size_t k = 0; k < have; k++) {
        if (k == 7 && (b[v + k] == '0' || b[v + k] == '1'))
            continue;
        if (b[v + k] != want[k]) {
            if (k >= 5 && k <= 7 && b[v + k] >= '0' && b[v + k] <= '9')
                return refuse(req, 505, "HTTP version not supported");
            return refuse(req, 400, "malformed HTTP version");
        }
    }
    if (have < VERSION_LEN + 2)
        return 0;
    req->version_minor = (uint8_t)(b[v + 7] - '0');
    return (int)(v + VERSION_LEN + 2);
}

/* Comma-separated tokens of a Connection header. */
static void connection_tokens(const char *v, size_t n, http_request_t *req)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (lower_eq(v + s, i - s, "close"))
            req->keep_alive = false;
        else if (lower_eq(v + s, i - s, "keep-alive") && req->version_minor == 0)
            req->keep_alive = true;
    }
}

static int header_semantics(http_request_t *req, const http_header_t *h, bool *have_cl)
{
    if (lower_eq(h->name, h->name_len, "content-length")) {
        if (*have_cl)
            return refuse(req, 400, "more than one Content-Length");
        *have_cl = true;
        if (h->value_len == 0 || h->value_len > CONTENT_LENGTH_DIGITS)
            return refuse(req, h->value_len ? 413 : 400, h->value_len ? "body too large" : "empty Content-Length");
        uint64_t n = 0;
        for (uint32_t k = 0; k < h->value_len; k++) {
            if (h->value[k] < '0' || h->value[k] > '9')
                return refuse(req, 400, "malformed Content-Length");
            n = n * 10 + (uint64_t)(h->value[k] - '0');
        }
        req->content_length = n;
    } else if (lower_eq(h->name, h->name_len, "transfer-encoding")) {
        if (req->chunked || !lower_eq(h->value, h->value_len, "chunked"))
            return refuse(req, 501, "only the chunked transfer coding is supported");
        req->chunked = true;
    } else if (lower_eq(h->name, h->name_len, "connection")) {
        connection_tokens(h->value, h->value_len, req);
    } else if (lower_eq(h->name, h->name_len, "expect")) {
        if (!lower_eq(h->value, h->value_len, "100-continue"))
            return refuse(req, 417, "unsupported expectation");
        req->expect_continue = true;
    }
    return 0;
}

/* The header lines from b (after the request line) up to end, which is just
 * past the blank line: every CR in there is followed by a byte. */
static int header_lines(const char *b, size_t end, http_request_t *req, const http_limits_t *lim)
{
    bool have_cl = false;
    size_t i = 0;
    while (i < end) {
        const char *line = b + i;
        const char *crlf = memchr(line, '\r', end - i);
        if (crlf == NULL || crlf[1] != '\n')
            return refuse(req, 400, "header line not ended by CRLF");
        size_t n = (size_t)(crlf - line);
        if (n == 0)
            break; /* the blank line */
        if (memchr(line, '\n', n) != NULL)
            return refuse(req, 400, "bare LF in the header block");
        if (line[0] == ' ' || line[0] == '\t')
            return refuse(req, 400, "obsolete line folding");
        size_t c = 0;
        while (c < n && is_tchar((unsigned char)line[c]))
            c++;
        if (c == 0 || c == n || line[c] != ':')
            return refuse(req, 400, "malformed header name");
        size_t vs = c + 1, ve = n;
        while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
            vs++;
        while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
            ve--;
        for (size_t k = vs; k < ve; k++) {
            unsigned char ch = (unsigned char)line[k];
            if ((ch < ' ' && ch != '\t') || ch == 0x7f)
                return refuse(req, 400, "control character in a header value");
        }
        if (req->nheaders == HTTP_HEADERS_MAX)
            return refuse(req, 431, "too many header fields");
        http_header_t *h = &req->headers[req->nheaders++];
        *h = (http_header_t){line, line + vs, (uint32_t)c, (uint32_t)(ve - vs)};
        int rc = header_semantics(req, h, &have_cl);
        if (rc < 0)
            return rc;
        i += n + 2;
    }
    if (have_cl && req->chunked)
        return refuse(req, 400, "both Content-Length and Transfer-Encoding");
    if (have_cl && req->content_length > lim->body_bytes)
        return refuse(req, 413, "body too large");
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A chunked body starting at b (len bytes available). With decode false,
 * only checks: returns the raw length when complete, 0 when more is needed,
 * or a refusal. With decode true (called once the body is known complete),
 * moves the chunk data together at b and sets req->body_len. */
static int chunked_body(char *b, size_t len, const http_limits_t *lim, http_request_t *req, bool decode)
{
    size_t i = 0, out = 0;
    for (;;) {
        size_t s = i;
        uint64_t size = 0;
        int digits = 0, d;
        while (i < len && (d = hexval(b[i])) >= 0) {
            if (++digits > CHUNK_SIZE_DIGITS)
                return refuse(req, 413, "body too large");
            size = size * 16 + (uint64_t)d;
            i++;
        }
        if (i == len)
            return 0;
        if (digits == 0)
            return refuse(req, 400, "malformed chunk size");
        /* chunk extensions: skipped, bounded */
        while (i < len && b[i] != '\r') {
            unsigned char c = (unsigned char)b[i];
            if (c < ' ' && c != '\t')
                return refuse(req, 400, "malformed chunk extension");
            if (i - s > HTTP_CHUNK_LINE_MAX)
                return refuse(req, 400, "chunk line too long");
            i++;
        }
        if (i + 1 >= len)
            return 0;
        if (b[i + 1] != '\n')
            return refuse(req, 400, "chunk line not ended by CRLF");
        i += 2;
        if (size == 0)
            break;
        if (out + size > lim->body_bytes)
            return refuse(req, 413, "body too large");
        if (len - i < size + 2)
            return 0;
        if (b[i + size] != '\r' || b[i + size + 1] != '\n')
            return refuse(req, 400, "chunk data not ended by CRLF");
        if (decode)
            memmove(b + out, b + i, size);
        out += size;
        i += size + 2;
    }
    /* trailer fields, ignored, then the blank line */
    for (;;) {
        const char *crlf = i < len ? memchr(b + i, '\r', len - i) : NULL;
        if (crlf == NULL) {
            if (len - i > lim->header_bytes)
                return refuse(req, 431, "trailer too long");
            return 0;
        }
        size_t n = (size_t)(crlf - (b + i));
        if (i + n + 1 >= len)
            return 0;
        if (crlf[1] != '\n' || memchr(b + i, '\n', n) != NULL)
            return refuse(req, 400, "trailer line not ended by CRLF");
        if (n > lim->header_bytes)
            return refuse(req, 431, "trailer too long");
        i += n + 2;
        if (n == 0)
            break;
    }
    if (decode)
        req->body_len = (uint32_t)out;
    return (int)i;
}

int http_parse(char *buf, size_t len, const http_limits_t *lim, http_request_t *req)
{
    memset(req, 0, offsetof(http_request_t, headers));
    size_t skip = 0;
    for (int k = 0; k < LEADING_CRLF_MAX && len - skip >= 2 && buf[skip] == '\r' && buf[skip + 1] == '\n'; k++)
        skip += 2;
    char *b = buf + skip;
    size_t blen = len - skip;
    if (blen == 0 || (blen == 1 && b[0] == '\r'))
        return 0;
    int line = request_line(b, blen, req);
    if (line < 0)
        return line;
    size_t head_max = lim->header_bytes;
    if (line == 0)
        return blen >= head_max ? refuse(req, 431, "header block too long") : 0;
    /* the end of the header block: CRLF CRLF, the first blank line */
    size_t scan = blen < head_max ? blen : head_max;
    size_t end = 0;
    for (size_t i = (size_t)line - 2; i + 3 < scan; i++) {
        if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
            end = i + 4;
            break;
        }
    }
    if (end == 0)
        return blen >= head_max ? refuse(req, 431, "header block too long") : 0;
    req->keep_alive = req->version_minor >= 1;
    int rc = header_lines(b + line, end - (size_t)line, req, lim);
    if (rc < 0)
        return rc;
    req->header_bytes = (uint32_t)(skip + end);
    char *body = b + end;
    size_t avail = blen - end;
    if (req->chunked) {
        rc = chunked_body(body, avail, lim, req, false);
        if (rc <= 0)
            return rc;
        chunked_body(body, avail, lim, req, true);
        req->body = body;
        return (int)(skip + end + (size_t)rc);
    }
    if (avail < req->content_length)
        return 0;
    req->body = body;
    req->body_len = (uint32_t)req->content_length;
    return (int)(skip + end + req->content_length);
}

unsigned http_header(const http_request_t *req, const char *name, const char **value, uint32_t *value_len)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < req->nheaders; i++) {
        const http_header_t *h = &req->headers[i];
        if (!lower_eq(h->name, h->name_len, name))
            continue;
        if (n++ == 0) {
            *value = h->value;
            *value_len = h->value_len;
        }
    }
    return n;
}

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    }
    return "Unknown";
}
