/* jbuf.c - see jbuf.h. (The writer is bourse-rest's jsonw.c, with the frame
 * header room in front.) */
#include "jbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"

enum { JB_INITIAL_BYTES = 1024 };

void jb_init(jb_t *w)
{
    memset(w, 0, sizeof(*w));
    w->len = WS_SERVER_HDR_MAX;
    w->first[0] = true;
}

void jb_free(jb_t *w)
{
    free(w->buf);
    jb_init(w);
}

void jb_reset(jb_t *w)
{
    w->len = WS_SERVER_HDR_MAX;
    w->oom = false;
    w->depth = 0;
    w->first[0] = true;
}

bool jb_ok(const jb_t *w)
{
    return !w->oom && w->depth == 0;
}

static bool reserve(jb_t *w, size_t n)
{
    if (w->oom)
        return false;
    if (w->len + n <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : JB_INITIAL_BYTES;
    while (cap < w->len + n)
        cap *= 2;
    uint8_t *b = realloc(w->buf, cap);
    if (b == NULL) {
        w->oom = true;
        return false;
    }
    w->buf = b;
    w->cap = cap;
    return true;
}

static inline void put(jb_t *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_escaped(jb_t *w, const char *s, size_t n)
{
    put(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f)
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(w, esc, 2);
        } else {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(w, esc, 6);
        }
    }
    put(w, s + run, n - run);
    put(w, "\"", 1);
}

static void member(jb_t *w, const char *key)
{
    if (!w->first[w->depth])
        put(w, ",", 1);
    w->first[w->depth] = false;
    if (key != NULL) {
        /* keys are the gateway's own constants: nothing to escape */
        put(w, "\"", 1);
        put(w, key, strlen(key));
        put(w, "\":", 2);
    }
}

static void open_level(jb_t *w, const char *key, const char *c)
{
    member(w, key);
    put(w, c, 1);
    if (w->depth + 1 >= JB_DEPTH_MAX) {
        w->oom = true;
        return;
    }
    w->first[++w->depth] = true;
}

static void close_level(jb_t *w, const char *c)
{
    if (w->depth == 0) {
        w->oom = true;
        return;
    }
    w->depth--;
    put(w, c, 1);
}

void jb_obj(jb_t *w, const char *key) { open_level(w, key, "{"); }
void jb_obj_end(jb_t *w) { close_level(w, "}"); }
void jb_arr(jb_t *w, const char *key) { open_level(w, key, "["); }
void jb_arr_end(jb_t *w) { close_level(w, "]"); }

void jb_strn(jb_t *w, const char *key, const char *s, size_t n)
{
    member(w, key);
    put_escaped(w, s, n);
}

void jb_str(jb_t *w, const char *key, const char *s)
{
    jb_strn(w, key, s, strlen(s));
}

/* Digits of v, right-aligned in b[0..24); returns the first one. */
static char *u64_digits(uint64_t v, char b[24])
{
    char *p = b + 24;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void jb_u64(jb_t *w, const char *key, uint64_t v)
{
    char b[24];
    char *p = u64_digits(v, b);
    member(w, key);
    put(w, p, (size_t)(b + 24 - p));
}

void jb_i64(jb_t *w, const char *key, int64_t v)
{
    char b[24];
    char *p = u64_digits(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, b);
    if (v < 0)
        *--p = '-';
    member(w, key);
    put(w, p, (size_t)(b + 24 - p));
}

void jb_u64s(jb_t *w, const char *key, uint64_t v)
{
    char b[26];
    char *p = u64_digits(v, b);
    b[24] = '"';
    *--p = '"';
    member(w, key);
    put(w, p, (size_t)(b + 25 - p));
}

void jb_dec(jb_t *w, const char *key, int64_t v, unsigned scale)
{
    char b[DEC_STR_MAX + 2];
    int n = dec_format(v, scale, b + 1, DEC_STR_MAX);
    member(w, key);
    if (n < 0) {
        put(w, "null", 4);
        return;
    }
    b[0] = '"';
    b[n + 1] = '"';
    put(w, b, (size_t)n + 2);
}

void jb_bool(jb_t *w, const char *key, bool v)
{
    member(w, key);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jb_null(jb_t *w, const char *key)
{
    member(w, key);
    put(w, "null", 4);
}

void jb_rawv(jb_t *w, const char *key, const char *json, size_t n)
{
    member(w, key);
    put(w, json, n);
}

const uint8_t *jb_frame(jb_t *w, size_t *n)
{
    if (!jb_ok(w) || w->buf == NULL)
        return NULL;
    uint8_t h[WS_SERVER_HDR_MAX];
    size_t plen = w->len - WS_SERVER_HDR_MAX;
    size_t hl = ws_frame_header(h, WS_OP_TEXT, plen);
    uint8_t *start = w->buf + WS_SERVER_HDR_MAX - hl;
    memcpy(start, h, hl);
    *n = hl + plen;
    return start;
}
