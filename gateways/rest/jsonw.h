/* jsonw.h - a small JSON writer for the REST gateway's responses: objects,
 * arrays, escaped strings, integers and fixed-point decimals written straight
 * into a growable buffer, with no floating point and no tree. Commas and
 * nesting are tracked for the caller; a failed allocation is sticky and
 * reported once by jw_ok(). One writer per response; not thread-safe. */
#ifndef BOURSE_JSONW_H
#define BOURSE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { JW_DEPTH_MAX = 16 };

typedef struct jw {
    char *buf;
    size_t len, cap;
    bool oom;
    int depth;
    bool first[JW_DEPTH_MAX]; /* nothing written yet at this level */
} jw_t;

/* Starts an empty writer (buf NULL until the first write). */
void jw_init(jw_t *w);
/* Empties the writer, keeping its buffer. */
void jw_reset(jw_t *w);
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
/* An unsigned id as a string ("42"): exact in every JSON reader. */
void jw_id(jw_t *w, const char *key, uint64_t v);
/* v / 10^scale as a decimal string ("60000.00"). */
void jw_dec(jw_t *w, const char *key, int64_t v, unsigned scale);
void jw_bool(jw_t *w, const char *key, bool v);
void jw_null(jw_t *w, const char *key);

#endif
