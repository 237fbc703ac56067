/* decimal.h - fixed-point decimals at the edges: prices and quantities arrive
 * and leave as decimal strings and live inside as int64 counts of 10^-scale.
 * No floating point anywhere. Used by the REST and WebSocket gateways.
 *
 * Grammar (the whole input, nothing before or after):
 *     number   = [ "-" ] integer [ "." fraction ]     ("-" only in dec_parse_signed)
 *     integer  = "0" | nonzero-digit *digit
 *     fraction = 1*digit
 * So "0", "12", "0.5", "12.50" and "-3.25" are numbers; "", " 1", "1 ", "+1",
 * "1.", ".5", "01", "00.5", "1e3", "0x10", "1.2.3", "1,5", "--1" are not.
 * Leading zeros are refused because a client that sends "007" has a padding or
 * octal bug that is better reported than guessed at. "-0" is accepted (it is 0).
 *
 * Precision: more fractional digits than scale are accepted only when the
 * extra ones are zeros ("1.2300" at scale 2 is exactly 1.23): the check is on
 * the value, not the spelling, so a client that prints every amount with 8
 * decimals keeps working, while "1.234" at scale 2 is refused with -EDOM
 * ("too much precision"), never rounded.
 *
 * Errors, checked in this order:
 *     -E2BIG   longer than DEC_INPUT_MAX bytes (checked before reading them)
 *     -EINVAL  not a number by the grammar above, or scale > DEC_SCALE_MAX
 *     -EDOM    a non-zero digit beyond the scale
 *     -ERANGE  the scaled value does not fit in int64
 */
#ifndef BOURSE_DECIMAL_H
#define BOURSE_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

enum {
    DEC_SCALE_MAX = 18, /* 10^18 < INT64_MAX < 10^19 */
    DEC_INPUT_MAX = 40, /* bytes; a longer field is refused unread */
    DEC_STR_MAX = 22,   /* buffer for dec_format: "-9.223372036854775808" and NUL */
};

/* Parses a non-negative decimal of len bytes at s (no NUL needed; a NUL byte
 * inside is a syntax error) into *out = value * 10^scale. A "-" sign is a
 * syntax error (-EINVAL). Returns 0 or a negative errno as listed above;
 * *out is written only on success. Pure function: any thread. */
int dec_parse(const char *s, size_t len, unsigned scale, int64_t *out);

/* As dec_parse, but a leading "-" is allowed; INT64_MIN is reachable
 * ("-9223372036854775808" at scale 0). */
int dec_parse_signed(const char *s, size_t len, unsigned scale, int64_t *out);

/* Writes v / 10^scale in canonical form into buf (cap bytes, NUL-terminated):
 * "-" for negatives, no leading zeros, exactly `scale` fractional digits
 * (trailing zeros kept, so one scale gives one spelling per value and columns
 * line up), no "." at scale 0, never "-0". Every output parses back to v with
 * dec_parse_signed at the same scale. Returns the length written (without the
 * NUL), -ENOSPC when cap is too small (DEC_STR_MAX always suffices), or -EINVAL
 * when scale > DEC_SCALE_MAX. */
int dec_format(int64_t v, unsigned scale, char *buf, size_t cap);

#endif
