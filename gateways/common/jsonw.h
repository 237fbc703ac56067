/* jsonw.h - the gateways' JSON writer (bourse-rest's responses and access
 * log, bourse-ws's messages): objects, arrays, escaped strings, integers and
 * fixed-point decimals written straight into a growable buffer, with no
 * floating point and no tree. Commas and nesting are tracked for the caller;
 * a failed allocation is sticky and reported once by jw_ok().
 *
 * A writer may keep room in front of the text (jw_init_room): bourse-ws
 * writes its WebSocket frame header there once the message is complete, so
 * the finished frame goes to every subscriber without another copy of the
 * text. One writer per message being built; not thread-safe. */
#ifndef BOURSE_JSONW_H
#define BOURSE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { JW_DEPTH_MAX = 16 };

typedef struct jw {
    char *buf;                /* the text, NUL-terminated; NULL until the first write */
    size_t len;               /* of the text; buf[len] is the NUL, a byte the caller may overwrite */
    size_t cap;               /* bytes at buf, the NUL's included */
    size_t room;              /* bytes kept free in front of buf */
    bool oom;
    int depth;
    bool first[JW_DEPTH_MAX]; /* nothing written yet at this level */
} jw_t;

/* Starts an empty writer (buf NULL until the first write). */
void jw_init(jw_t *w);
/* The same, keeping room bytes free in front of the text (jw_prepend). */
void jw_init_room(jw_t *w, size_t room);
/* Empties the writer, keeping its buffer. */
void jw_reset(jw_t *w);
/* Frees the buffer; the writer is empty again, its room kept. */
void jw_free(jw_t *w);
/* False after an allocation failure or unbalanced nesting. */
bool jw_ok(const jw_t *w);

/* In every call, key is the member name inside an object and NULL inside an
 * array or at the top level. */
void jw_obj(jw_t *w, const char *key);
void jw_obj_end(jw_t *w);
void jw_arr(jw_t *w, const char *key);
void jw_arr_end(jw_t *w);
void jw_str(jw_t *w, const char *key, const char *s);
void jw_strn(jw_t *w, const char *key, const char *s, size_t n);
void jw_i64(jw_t *w, const char *key, int64_t v);
void jw_u64(jw_t *w, const char *key, uint64_t v);
/* An integer as a JSON string ("1700000000123456789"): ids and nanosecond
 * times, exact in every JSON reader (JavaScript numbers stop at 2^53). */
void jw_u64s(jw_t *w, const char *key, uint64_t v);
/* v / 10^scale as a decimal string ("60000.00"); null when it does not fit. */
void jw_dec(jw_t *w, const char *key, int64_t v, unsigned scale);
void jw_bool(jw_t *w, const char *key, bool v);
void jw_null(jw_t *w, const char *key);
/* Already-encoded JSON as a value (an echoed request id): not checked. */
void jw_raw(jw_t *w, const char *key, const char *json, size_t n);

/* Copies n bytes (a header) into the room just in front of the finished
 * text and returns where they start: the header and the text are then one
 * run of n + len bytes. NULL when the writer failed (jw_ok), wrote nothing,
 * or n is more than its room. */
char *jw_prepend(jw_t *w, const void *p, size_t n);

#endif
