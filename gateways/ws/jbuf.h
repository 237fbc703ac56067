/* jbuf.h - bourse-ws's JSON writer: a message is written once, straight into
 * a buffer that keeps room for its WebSocket frame header in front, so the
 * finished frame is fanned out to every subscriber without another copy of
 * the text. Objects, arrays, escaped strings, integers, and fixed-point
 * decimals as strings (no floating point anywhere). Commas and nesting are
 * tracked; a failed allocation is sticky and reported by jb_ok(). Not
 * thread-safe: one writer per thread. */
#ifndef BOURSE_JBUF_H
#define BOURSE_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wsproto.h"

enum { JB_DEPTH_MAX = 16 };

typedef struct jb {
    uint8_t *buf;              /* WS_SERVER_HDR_MAX bytes of room, then the text */
    size_t len, cap;           /* len counts the room too */
    bool oom;
    int depth;
    bool first[JB_DEPTH_MAX];
} jb_t;

void jb_init(jb_t *w);
void jb_free(jb_t *w);
/* Starts a new message, keeping the buffer. */
void jb_reset(jb_t *w);
bool jb_ok(const jb_t *w);

/* key is the member name inside an object, NULL inside an array. */
void jb_obj(jb_t *w, const char *key);
void jb_obj_end(jb_t *w);
void jb_arr(jb_t *w, const char *key);
void jb_arr_end(jb_t *w);
void jb_str(jb_t *w, const char *key, const char *s);
void jb_strn(jb_t *w, const char *key, const char *s, size_t n);
void jb_u64(jb_t *w, const char *key, uint64_t v);
void jb_i64(jb_t *w, const char *key, int64_t v);
/* An integer as a JSON string ("1700000000123456789"): ids and nanosecond
 * times, exact in every JSON reader (JavaScript numbers stop at 2^53). */
void jb_u64s(jb_t *w, const char *key, uint64_t v);
/* v / 10^scale as a decimal string ("60000.00"). */
void jb_dec(jb_t *w, const char *key, int64_t v, unsigned scale);
void jb_bool(jb_t *w, const char *key, bool v);
void jb_null(jb_t *w, const char *key);
/* Already-encoded JSON as a value (an echoed request id). */
void jb_rawv(jb_t *w, const char *key, const char *json, size_t n);

/* The text written so far (no NUL). */
static inline const char *jb_text(const jb_t *w, size_t *n)
{
    *n = w->len - WS_SERVER_HDR_MAX;
    return (const char *)w->buf + WS_SERVER_HDR_MAX;
}

/* Finishes the message as one text frame: writes the header in front of the
 * text and returns the frame's start; *n gets its length. NULL when the
 * writer failed (out of memory, unbalanced). */
const uint8_t *jb_frame(jb_t *w, size_t *n);

#endif
