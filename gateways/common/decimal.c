/* decimal.c - see decimal.h.
 *
 * The parser validates the whole syntax first, then the precision, then
 * accumulates the magnitude in uint64 with an overflow check at every digit,
 * so the error reported does not depend on where in the string a problem
 * sits. The magnitude limit is INT64_MAX, or INT64_MAX + 1 for a negative. */
#include "decimal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Adds one decimal digit to *mag; false when the result would exceed limit. */
static bool push_digit(uint64_t *mag, unsigned d, uint64_t limit)
{
    if (*mag > (limit - d) / 10)
        return false;
    *mag = *mag * 10 + d;
    return true;
}

static int parse(const char *s, size_t len, unsigned scale, bool allow_sign, int64_t *out)
{
    if (len > DEC_INPUT_MAX)
        return -E2BIG;
    if (scale > DEC_SCALE_MAX || s == NULL)
        return -EINVAL;

    size_t i = 0;
    bool neg = false;
    if (i < len && s[i] == '-') {
        if (!allow_sign)
            return -EINVAL;
        neg = true;
        i++;
    }
    size_t int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    size_t int_len = i - int_start;
    if (int_len == 0 || (int_len > 1 && s[int_start] == '0'))
        return -EINVAL; /* no integer part ("", "-", ".5") or a leading zero */
    size_t frac_start = i, frac_len = 0;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        frac_len = i - frac_start;
        if (frac_len == 0)
            return -EINVAL; /* "1." */
    }
    if (i != len)
        return -EINVAL; /* anything else: spaces, exponent, second dot, ... */

    for (size_t k = scale; k < frac_len; k++)
        if (s[frac_start + k] != '0')
            return -EDOM;

    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t mag = 0;
    for (size_t k = 0; k < int_len; k++)
        if (!push_digit(&mag, (unsigned)(s[int_start + k] - '0'), limit))
            return -ERANGE;
    for (size_t k = 0; k < scale; k++) {
        unsigned d = k < frac_len ? (unsigned)(s[frac_start + k] - '0') : 0;
        if (!push_digit(&mag, d, limit))
            return -ERANGE;
    }
    /* mag <= INT64_MAX + 1 when neg: negate in unsigned, then convert, which
     * is exact because the result is in range. */
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

int dec_parse(const char *s, size_t len, unsigned scale, int64_t *out)
{
    return parse(s, len, scale, false, out);
}

int dec_parse_signed(const char *s, size_t len, unsigned scale, int64_t *out)
{
    return parse(s, len, scale, true, out);
}

int dec_format(int64_t v, unsigned scale, char *buf, size_t cap)
{
    if (scale > DEC_SCALE_MAX)
        return -EINVAL;
    /* Digits are produced backwards from the magnitude, which for INT64_MIN
     * is only representable unsigned. */
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    /* DEC_STR_MAX - 1 characters at most (scale <= 18 and |v| <= 2^63), but
     * the bound is not one a compiler derives: room for any uint64. */
    char tmp[DEC_SCALE_MAX + 1 + 20 + 1];
    size_t n = 0;
    for (unsigned k = 0; k < scale; k++) {
        tmp[n++] = (char)('0' + mag % 10);
        mag /= 10;
    }
    if (scale > 0)
        tmp[n++] = '.';
    do {
        tmp[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag != 0);
    if (v < 0)
        tmp[n++] = '-';
    if (cap < n + 1)
        return -ENOSPC;
    for (size_t k = 0; k < n; k++)
        buf[k] = tmp[n - 1 - k];
    buf[n] = '\0';
    return (int)n;
}
