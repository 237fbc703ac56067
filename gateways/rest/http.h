/* http.h - the HTTP/1.1 request parser of the REST gateway: bytes in, one
 * request (request line, headers, body) out, or the 4xx/5xx status that
 * refuses it. No I/O and no allocation, so the server loop, the unit tests and
 * the fuzz target drive the same code.
 *
 * Strict where laxness is a smuggling or confusion risk: CRLF line ends only,
 * no obsolete line folding, no control bytes in headers, Content-Length and
 * Transfer-Encoding never together, one Content-Length, only the chunked
 * transfer coding. A request is parsed only once it is complete, so pipelined
 * requests are taken one at a time from the front of the buffer. */
#ifndef BOURSE_HTTP_H
#define BOURSE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    HTTP_HEADERS_MAX = 48,    /* more is 431 */
    HTTP_METHOD_MAX = 7,      /* longest method token (OPTIONS) */
    HTTP_TARGET_MAX = 2048,   /* longer request target is 414 */
    HTTP_CHUNK_LINE_MAX = 64, /* a chunk-size line with its extensions */
};

typedef struct http_limits {
    uint32_t header_bytes;    /* request line + headers + blank line; more is 431 */
    uint32_t body_bytes;      /* decoded body; more is 413 */
} http_limits_t;

typedef struct http_header {
    const char *name, *value; /* into the parsed buffer; value trimmed */
    uint32_t name_len, value_len;
} http_header_t;

typedef struct http_request {
    const char *method;       /* into the buffer, method_len bytes */
    const char *target;       /* path and query exactly as sent */
    const char *body;         /* decoded body (chunked: decoded in place) */
    uint32_t method_len, target_len;
    uint32_t path_len;        /* target[0, path_len) is the path; a '?' and the query follow */
    uint32_t body_len;
    uint32_t header_bytes;    /* set as soon as the header block is complete and valid */
    uint32_t nheaders;
    uint64_t content_length;
    uint8_t version_minor;    /* HTTP/1.0 or HTTP/1.1 */
    bool keep_alive;          /* the connection may carry another request */
    bool expect_continue;     /* "Expect: 100-continue": answer 100 before the body */
    bool chunked;
    const char *error;        /* on refusal: a short reason for the error body */
    http_header_t headers[HTTP_HEADERS_MAX];
} http_request_t;

/* Parses the request at the front of buf (len bytes). Returns:
 *   > 0  the request is complete and used that many bytes of buf (the next
 *        pipelined request starts there); *req describes it. A chunked body
 *        is decoded in place, so buf is modified on this return only.
 *   0    incomplete: call again with more bytes. req->header_bytes is
 *        non-zero once the header block is complete (for 100-continue and an
 *        early 413 on an announced Content-Length, which is already refused).
 *   < 0  minus the HTTP status refusing the request (400, 411, 413, 414, 417,
 *        431, 501, 505), with req->error naming why. The connection cannot
 *        continue: answer, then close.
 * Pure function of its input: any thread. */
int http_parse(char *buf, size_t len, const http_limits_t *lim, http_request_t *req);

/* The first header named name (case-insensitive), its value in *value and
 * *value_len; returns how many headers have that name (0: none). */
unsigned http_header(const http_request_t *req, const char *name, const char **value,
                     uint32_t *value_len);

/* The reason phrase of a status code ("Not Found"); "Unknown" for others. */
const char *http_reason(int status);

#endif
