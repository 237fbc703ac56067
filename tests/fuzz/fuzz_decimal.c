/* fuzz_decimal.c - libFuzzer target for gateways/common/decimal.c. The first
 * byte picks the scale (mod 19) and the variant (signed or not); the rest is
 * the text. Any input gives 0 or a documented error; a value that parses
 * formats within DEC_STR_MAX and parses back to itself, and its formatted
 * text is a fixed point of parse-then-format. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned scale = data[0] % (DEC_SCALE_MAX + 1);
    int is_signed = (data[0] / (DEC_SCALE_MAX + 1)) & 1;
    const char *s = (const char *)data + 1;
    size_t len = size - 1;

    int64_t v = 0;
    int rc = is_signed ? dec_parse_signed(s, len, scale, &v) : dec_parse(s, len, scale, &v);
    if (rc != 0 && rc != -EINVAL && rc != -ERANGE && rc != -EDOM && rc != -E2BIG)
        abort();
    if ((rc == -E2BIG) != (len > DEC_INPUT_MAX))
        abort();
    if (rc != 0)
        return 0;
    if (!is_signed && v < 0)
        abort();
    /* the unsigned grammar is a subset of the signed one */
    int64_t w = 0;
    if (!is_signed && (dec_parse_signed(s, len, scale, &w) != 0 || w != v))
        abort();

    char buf[DEC_STR_MAX], again[DEC_STR_MAX];
    int n = dec_format(v, scale, buf, sizeof(buf));
    if (n <= 0 || n >= DEC_STR_MAX || (size_t)n != strlen(buf))
        abort();
    int64_t back = 0;
    if (dec_parse_signed(buf, (size_t)n, scale, &back) != 0 || back != v)
        abort();
    if (dec_format(back, scale, again, sizeof(again)) != n || memcmp(buf, again, (size_t)n) != 0)
        abort();
    return 0;
}
