/* jsonw.c - see jsonw.h. The allocation starts room bytes before buf. */
#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"

enum { JW_INITIAL_BYTES = 1024 };

void jw_init_room(jw_t *w, size_t room)
{
    memset(w, 0, sizeof(*w));
    w->room = room;
    w->first[0] = true;
}

void jw_init(jw_t *w)
{
    jw_init_room(w, 0);
}

void jw_reset(jw_t *w)
{
    w->len = 0;
    w->oom = false;
    w->depth = 0;
    w->first[0] = true;
    if (w->buf != NULL)
        w->buf[0] = '\0';
}

void jw_free(jw_t *w)
{
    size_t room = w->room;
    if (w->buf != NULL)
        free(w->buf - room);
    jw_init_room(w, room);
}

bool jw_ok(const jw_t *w)
{
    return !w->oom && w->depth == 0;
}

/* Room for n more bytes and the NUL after them. */
static bool reserve(jw_t *w, size_t n)
{
    if (w->oom)
        return false;
    if (w->len + n + 1 <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : JW_INITIAL_BYTES;
    while (cap < w->len + n + 1)
        cap *= 2;
    char *base = realloc(w->buf != NULL ? w->buf - w->room : NULL, w->room + cap);
    if (base == NULL) {
        w->oom = true;
        return false;
    }
    w->buf = base + w->room;
    w->cap = cap;
    return true;
}

static void put(jw_t *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void put_escaped(jw_t *w, const char *s, size_t n)
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
            /* controls, DEL and bytes >= 0x80 (we never emit raw non-ASCII) */
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(w, esc, 6);
        }
    }
    put(w, s + run, n - run);
    put(w, "\"", 1);
}

/* The comma before a value and its key. */
static void member(jw_t *w, const char *key)
{
    if (!w->first[w->depth])
        put(w, ",", 1);
    w->first[w->depth] = false;
    if (key != NULL) {
        put_escaped(w, key, strlen(key));
        put(w, ":", 1);
    }
}

static void open_level(jw_t *w, const char *key, const char *c)
{
    member(w, key);
    put(w, c, 1);
    if (w->depth + 1 >= JW_DEPTH_MAX) {
        w->oom = true;
        return;
    }
    w->first[++w->depth] = true;
}

static void close_level(jw_t *w, const char *c)
{
    if (w->depth == 0) {
        w->oom = true;
        return;
    }
    w->depth--;
    put(w, c, 1);
}

void jw_obj(jw_t *w, const char *key) { open_level(w, key, "{"); }
void jw_obj_end(jw_t *w) { close_level(w, "}"); }
void jw_arr(jw_t *w, const char *key) { open_level(w, key, "["); }
void jw_arr_end(jw_t *w) { close_level(w, "]"); }

void jw_strn(jw_t *w, const char *key, const char *s, size_t n)
{
    member(w, key);
    put_escaped(w, s, n);
}

void jw_str(jw_t *w, const char *key, const char *s)
{
    jw_strn(w, key, s, strlen(s));
}

/* Digits of v, right-aligned in b[0..24); returns the first one. Cheaper
 * than snprintf on the market-data path, where every message has several. */
static char *u64_digits(uint64_t v, char b[24])
{
    char *p = b + 24;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void jw_u64(jw_t *w, const char *key, uint64_t v)
{
    char b[24];
    char *p = u64_digits(v, b);
    member(w, key);
    put(w, p, (size_t)(b + 24 - p));
}

void jw_i64(jw_t *w, const char *key, int64_t v)
{
    char b[24];
    char *p = u64_digits(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, b);
    if (v < 0)
        *--p = '-';
    member(w, key);
    put(w, p, (size_t)(b + 24 - p));
}

void jw_u64s(jw_t *w, const char *key, uint64_t v)
{
    char b[26];
    char *p = u64_digits(v, b);
    b[24] = '"';
    *--p = '"';
    member(w, key);
    put(w, p, (size_t)(b + 25 - p));
}

void jw_dec(jw_t *w, const char *key, int64_t v, unsigned scale)
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

void jw_bool(jw_t *w, const char *key, bool v)
{
    member(w, key);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(jw_t *w, const char *key)
{
    member(w, key);
    put(w, "null", 4);
}

void jw_raw(jw_t *w, const char *key, const char *json, size_t n)
{
    member(w, key);
    put(w, json, n);
}

char *jw_prepend(jw_t *w, const void *p, size_t n)
{
    if (!jw_ok(w) || w->buf == NULL || n > w->room)
        return NULL;
    char *start = w->buf - n;
    memcpy(start, p, n);
    return start;
}
