/* wsproto.h - the WebSocket protocol (RFC 6455) without I/O, for bourse-ws:
 * the HTTP upgrade request, the handshake's accept key, client frame headers,
 * server frame headers, unmasking, UTF-8 validation, close codes.
 *
 * Everything here reads bytes from the network, so every length is checked
 * before use and nothing allocates: the fuzz target calls these directly. */
#ifndef BOURSE_WSPROTO_H
#define BOURSE_WSPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"

enum ws_opcode {
    WS_OP_CONT = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xa,
};

/* Close codes: RFC 6455's, then bourse-ws's own (4000-4999 are the
 * application's). A client reads the reason text for details. */
enum ws_close_code {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,     /* the gateway is shutting down */
    WS_CLOSE_PROTOCOL = 1002,       /* a frame broke RFC 6455 (unmasked, reserved bits, bad opcode...) */
    WS_CLOSE_UNSUPPORTED = 1003,    /* a binary message: this protocol is JSON text */
    WS_CLOSE_NO_STATUS = 1005,      /* never sent: a close frame without a code */
    WS_CLOSE_BAD_DATA = 1007,       /* a text message that is not UTF-8 */
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,        /* a message over max_message_bytes */
    WS_CLOSE_INTERNAL = 1011,
    WS_CLOSE_SLOW_CONSUMER = 4001,  /* the client's send queue overflowed: it reads too slowly */
    WS_CLOSE_IDLE = 4002,           /* nothing received for idle_timeout_ms (not even a pong) */
    WS_CLOSE_FLOOD = 4003,          /* messages far beyond the rate limit */
    WS_CLOSE_HANDSHAKE_TIMEOUT = 4004,
};

enum {
    WS_FRAME_HDR_MAX = 14,          /* client frames: 2 + 8 (length) + 4 (mask) */
    WS_SERVER_HDR_MAX = 10,         /* server frames are not masked */
    WS_CONTROL_MAX = 125,           /* control frame payloads */
    WS_ACCEPT_LEN = 28,             /* base64 of a SHA-1 */
    WS_KEY_LEN = 24,                /* base64 of 16 bytes */
};

typedef struct ws_frame {
    bool fin;
    uint8_t opcode;
    bool masked;
    uint8_t mask[4];
    uint64_t len;                   /* payload bytes */
    uint32_t hdr_len;               /* header bytes before the payload */
} ws_frame_t;

/* Decodes a client frame header from the n bytes at buf. Returns the header
 * length (> 0) with *f filled, 0 when more bytes are needed, or -1 with
 * *close_code set: WS_CLOSE_PROTOCOL (reserved bits, unknown opcode, an
 * unmasked frame, a fragmented or oversized control frame, a non-minimal or
 * 64-bit length with the top bit set) or WS_CLOSE_TOO_BIG (len > max_len). */
int ws_frame_decode(const uint8_t *buf, size_t n, uint64_t max_len, ws_frame_t *f, uint16_t *close_code);

/* XORs n bytes at p with the mask, starting at byte `offset` of the payload. */
void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);

/* Writes the header of an unmasked, final server frame of len payload bytes
 * into out. Returns its length: 2, 4 or 10. */
size_t ws_frame_header(uint8_t out[WS_SERVER_HDR_MAX], uint8_t opcode, uint64_t len);

/* Finishes the message in w, a writer with WS_SERVER_HDR_MAX bytes of room
 * (jw_init_room), as one text frame: its header goes in front of the text.
 * Returns the frame's start, *n its length; NULL when the writer failed
 * (out of memory, unbalanced). */
const uint8_t *ws_frame_json(jw_t *w, size_t *n);

/* A close frame's payload: the code (big-endian) and up to 123 bytes of
 * reason. Writes the whole frame (header included) into out; returns its
 * length (at most 2 + 125). */
size_t ws_close_frame(uint8_t out[2 + WS_CONTROL_MAX], uint16_t code, const char *reason);

/* Reads a close frame's payload: 0 bytes gives WS_CLOSE_NO_STATUS; 1 byte,
 * a code that may not be sent, or a reason that is not UTF-8 gives -1. */
int ws_close_parse(const uint8_t *p, size_t n, uint16_t *code);

/* True when the n bytes at s are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool ws_utf8_valid(const uint8_t *s, size_t n);

/* The Sec-WebSocket-Accept value for a Sec-WebSocket-Key: base64(SHA-1(key +
 * the RFC's GUID)), 28 characters and a NUL into out. Returns 0 or -EIO. */
int ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1]);

/* ---------------------------------------------------------------- HTTP */

enum { WS_HTTP_HEADERS_MAX = 32, WS_HTTP_TARGET_MAX = 1024 };

typedef struct ws_http_field {
    const char *p;
    uint32_t len;
} ws_http_field_t;

/* The parts of a request the gateway looks at; fields point into the
 * buffer parsed. */
typedef struct ws_http_req {
    ws_http_field_t method, target;
    uint32_t path_len;              /* target up to '?' */
    bool upgrade_websocket;         /* Upgrade: websocket */
    bool connection_upgrade;        /* Connection: ... upgrade ... */
    bool version_13;                /* Sec-WebSocket-Version: 13 */
    ws_http_field_t key;            /* Sec-WebSocket-Key */
    ws_http_field_t auth_key, auth_ts, auth_sig; /* X-Bourse-Key, -Timestamp, -Signature */
    uint32_t header_bytes;          /* through the blank line */
} ws_http_req_t;

/* Parses an HTTP/1.1 request head from the n bytes at buf (at most limit
 * are looked at). Returns the head's length (> 0), 0 when incomplete, or the
 * negative HTTP status to refuse it with: -400 (malformed), -431 (no end
 * within limit), -505 (not HTTP/1.1). A body is not read (the gateway serves
 * only GET). */
int ws_http_parse(const char *buf, size_t n, size_t limit, ws_http_req_t *req);

#endif
